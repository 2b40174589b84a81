# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure credential and cloud resolution shared by every Azure module."""

from __future__ import annotations

import os
import traceback

try:
    from azure.core import AzureClouds
    from azure.identity import AzureAuthorityHosts, ClientSecretCredential, DefaultAzureCredential, EnvironmentCredential
    from azure.mgmt.core.tools import get_arm_endpoints
    HAS_AZURE_IDENTITY = True
    AZURE_IDENTITY_IMPORT_ERROR = None
except ImportError:
    HAS_AZURE_IDENTITY = False
    AZURE_IDENTITY_IMPORT_ERROR = traceback.format_exc()

AZURE_AUTH_ARG_SPEC = dict(
    subscription_id=dict(type='str'),
    client_id=dict(type='str'),
    client_secret=dict(type='str', no_log=True),
    tenant_id=dict(type='str'),
    cloud_environment=dict(type='str', choices=['AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud']),
    arm_endpoint=dict(type='str'),
    authority_host=dict(type='str'),
)

# cloud name -> (azure-core cloud setting name, authority host attribute)
_CLOUDS = {
    'AzureCloud': ('AZURE_PUBLIC_CLOUD', 'AZURE_PUBLIC_CLOUD'),
    'AzureUSGovernment': ('AZURE_US_GOVERNMENT', 'AZURE_GOVERNMENT'),
    'AzureChinaCloud': ('AZURE_CHINA_CLOUD', 'AZURE_CHINA'),
}


class AzureAuthError(Exception):
    """Raised when the given credentials or cloud settings cannot be used."""


class AzureAuth:
    """The resolved credential, subscription and endpoints for one module run."""

    def __init__(self, credential, subscription_id, arm_endpoint, credential_scopes, source):
        self.credential = credential
        self.subscription_id = subscription_id
        self.arm_endpoint = arm_endpoint
        self.credential_scopes = credential_scopes
        self.source = source


def resolve_cloud(params, env):
    """Return (arm_endpoint, credential_scopes, authority_host) for the requested cloud."""
    arm_endpoint = params.get('arm_endpoint') or env.get('AZURE_ARM_ENDPOINT')
    authority_host = params.get('authority_host') or env.get('AZURE_AUTHORITY_HOST')
    cloud = params.get('cloud_environment') or env.get('AZURE_CLOUD_ENVIRONMENT') or 'AzureCloud'
    if arm_endpoint:
        if not arm_endpoint.startswith('https://'):
            raise AzureAuthError('arm_endpoint must be an https:// URL, got %r' % arm_endpoint)
        if not authority_host:
            raise AzureAuthError('arm_endpoint needs authority_host too (the Entra ID endpoint of that cloud)')
        arm_endpoint = arm_endpoint.rstrip('/')
        return arm_endpoint, [arm_endpoint + '/.default'], authority_host
    if cloud not in _CLOUDS:
        raise AzureAuthError('unknown cloud_environment %r; use one of %s, or arm_endpoint with authority_host'
                             % (cloud, ', '.join(sorted(_CLOUDS))))
    core_name, authority_attr = _CLOUDS[cloud]
    endpoints = get_arm_endpoints(getattr(AzureClouds, core_name))
    return (endpoints['resource_manager'].rstrip('/'), endpoints['credential_scopes'],
            authority_host or getattr(AzureAuthorityHosts, authority_attr))


def _credential_kwargs(authority_host):
    kwargs = {'authority': authority_host}
    known = set(getattr(AzureAuthorityHosts, attr) for _core, attr in _CLOUDS.values())
    if authority_host.replace('https://', '').rstrip('/') not in known:
        # a private authority (emulator, Azure Stack) is not in Microsoft's instance discovery list
        kwargs['disable_instance_discovery'] = True
    return kwargs


def resolve_credential(params, env=None):
    """Pick the credential: module parameters, then AWX's variables, then azure-identity's, then the default chain."""
    env = os.environ if env is None else env
    arm_endpoint, scopes, authority_host = resolve_cloud(params, env)
    kwargs = _credential_kwargs(authority_host)
    subscription_id = params.get('subscription_id') or env.get('AZURE_SUBSCRIPTION_ID')
    if not subscription_id:
        raise AzureAuthError('subscription_id is required (module option or AZURE_SUBSCRIPTION_ID)')

    explicit = [params.get(k) for k in ('client_id', 'client_secret', 'tenant_id')]
    if any(explicit):
        if not all(explicit):
            raise AzureAuthError('client_id, client_secret and tenant_id must be given together')
        client_id, secret, tenant = explicit
        credential = ClientSecretCredential(tenant, client_id, secret, **kwargs)
        source = 'module parameters'
    elif env.get('AZURE_CLIENT_ID') and env.get('AZURE_SECRET') and env.get('AZURE_TENANT'):
        credential = ClientSecretCredential(env['AZURE_TENANT'], env['AZURE_CLIENT_ID'], env['AZURE_SECRET'], **kwargs)
        source = 'AWX credential variables'
    elif env.get('AZURE_TENANT_ID') and env.get('AZURE_CLIENT_ID') and (
            env.get('AZURE_CLIENT_SECRET') or env.get('AZURE_CLIENT_CERTIFICATE_PATH') or env.get('AZURE_USERNAME')):
        credential = EnvironmentCredential(**kwargs)
        source = 'azure-identity environment variables'
    else:
        credential = DefaultAzureCredential(exclude_interactive_browser_credential=True, **kwargs)
        source = 'DefaultAzureCredential'
    return AzureAuth(credential, subscription_id, arm_endpoint, scopes, source)
