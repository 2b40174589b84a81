# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AzureModule: our Azure options, credential resolution, SDK client factory, and the runner of resource modules."""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.auth import (
    AZURE_AUTH_ARG_SPEC, AZURE_IDENTITY_IMPORT_ERROR, HAS_AZURE_IDENTITY, AzureAuthError, resolve_credential)
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.checks import common_problems
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from ansible_collections.aiplatform.aks.plugins.module_utils.module import PlatformModule
from ansible_collections.aiplatform.aks.plugins.module_utils.version import USER_AGENT

AZURE_COMMON_ARG_SPEC = dict(AZURE_AUTH_ARG_SPEC, timeout=dict(type='int', default=1800))

# Bounded retries of throttling (429), 5xx and dropped connections; azure-core honours Retry-After.
RETRY_SETTINGS = dict(retry_total=6, retry_connect=3, retry_read=3, retry_status=5, retry_backoff_factor=0.8, retry_backoff_max=60)


class AzureModule(PlatformModule):
    """An AnsibleModule that resolves Azure credentials once and builds typed SDK clients."""

    def __init__(self, argument_spec, required_libs=(), **kwargs):
        spec = dict(AZURE_COMMON_ARG_SPEC)
        spec.update(argument_spec)
        kwargs.setdefault('supports_check_mode', True)
        super(AzureModule, self).__init__(argument_spec=spec, **kwargs)
        if not HAS_AZURE_IDENTITY:
            self.fail_json(msg=missing_required_lib('azure-identity'), exception=AZURE_IDENTITY_IMPORT_ERROR)
        for name, present, error in required_libs:
            if not present:
                self.fail_json(msg=missing_required_lib(name), exception=error)
        self._auth = None
        # what ARM refuses whatever the resource (negative timeout, resource group names, tags), before any request
        self.fail_on_input(common_problems(self.params))

    @property
    def auth(self):
        if self._auth is None:
            try:
                self._auth = resolve_credential(self.params)
            except AzureAuthError as exc:
                self.fail_json(msg='Azure authentication: %s' % exc)
        return self._auth

    def client(self, client_class, **kwargs):
        """A typed management client for the resolved subscription, cloud and credential."""
        auth = self.auth
        options = dict(RETRY_SETTINGS, base_url=auth.arm_endpoint, credential_scopes=auth.credential_scopes, user_agent=USER_AGENT)
        options.update(kwargs)
        return client_class(auth.credential, auth.subscription_id, **options)

    def fail_azure(self, exc, **result):
        """Fail with an AzureOperationError's message and ARM error fields."""
        self.fail_json(msg=str(exc), error=getattr(exc, 'error', None), **result)

    def run(self, resource_class):
        """The whole of a resource module: check the options, bring the resource to `state`, exit with it.

        `resource_class` is an ArmResource subclass; the result carries the resource under its `result_key`.
        """
        self.fail_on_input(resource_class.check_input(self.params))
        try:
            resource = resource_class.from_module(self)
            result = resource.ensure(self.params)
        except AzureOperationError as exc:
            self.fail_azure(exc)
        found = result.pop('resource')
        if not self._diff:
            result.pop('diff', None)  # the resource twice over: only for --diff
        result[resource_class.result_key] = found
        result.update(resource.outputs(found))
        self.exit_json(**result)
