# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""K8sModule: AnsibleModule with our Kubernetes connection options and a lazily built dynamic client."""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import (
    HAS_KUBERNETES, K8S_AUTH_ARG_SPEC, KUBERNETES_IMPORT_ERROR, K8sError, build_configuration, dynamic_client)
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import wait_problems
from ansible_collections.aiplatform.aks.plugins.module_utils.module import PlatformModule


class K8sModule(PlatformModule):

    def __init__(self, argument_spec, **kwargs):
        spec = dict(K8S_AUTH_ARG_SPEC)
        spec.update(argument_spec)
        kwargs.setdefault('supports_check_mode', True)
        super(K8sModule, self).__init__(argument_spec=spec, **kwargs)
        if not HAS_KUBERNETES:
            self.fail_json(msg=missing_required_lib('kubernetes'), exception=KUBERNETES_IMPORT_ERROR)
        self.fail_on_input(wait_problems(self.params))
        self._client = None

    @property
    def client(self):
        if self._client is None:
            try:
                configuration = build_configuration(self.params)
            except K8sError as exc:
                self.fail_json(msg=str(exc))
            try:
                self._client = dynamic_client(self.params, configuration)
            except K8sError as exc:
                self.fail_json(msg=str(exc))
            except Exception as exc:  # pylint: disable=broad-except
                # discovery happens at construction: an unreachable server surfaces here
                self.fail_json(msg='cannot reach the Kubernetes API server %s (host, or the server of the kubeconfig): %s'
                               % (configuration.host, exc))
        return self._client
