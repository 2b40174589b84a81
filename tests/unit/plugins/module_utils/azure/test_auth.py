"""Credential and cloud resolution order."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.azure import auth
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.auth import AzureAuthError, resolve_credential

EMULATOR = {'AZURE_ARM_ENDPOINT': 'https://127.0.0.1:8443/', 'AZURE_AUTHORITY_HOST': 'https://127.0.0.1:8443'}


class Recorder:
    """Stands in for an azure-identity credential class and records how it was built."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args, **kwargs):
        return (self.name, args, kwargs)


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch):
    for name in ('ClientSecretCredential', 'EnvironmentCredential', 'DefaultAzureCredential'):
        monkeypatch.setattr(auth, name, Recorder(name))


def params(**kwargs):
    base = dict((k, None) for k in auth.AZURE_AUTH_ARG_SPEC)
    base.update(kwargs)
    return base


def test_module_parameters_win_over_every_variable():
    env = dict(EMULATOR, AZURE_SUBSCRIPTION_ID='env-sub', AZURE_CLIENT_ID='awx', AZURE_SECRET='awx-s', AZURE_TENANT='awx-t')
    result = resolve_credential(params(client_id='p', client_secret='s', tenant_id='t', subscription_id='sub'), env)
    assert result.credential[0] == 'ClientSecretCredential' and result.credential[1] == ('t', 'p', 's')
    assert result.subscription_id == 'sub' and result.source == 'module parameters'


def test_awx_variables_come_before_azure_identity_variables():
    env = dict(EMULATOR, AZURE_SUBSCRIPTION_ID='s', AZURE_CLIENT_ID='c', AZURE_SECRET='awx-s', AZURE_TENANT='awx-t',
               AZURE_CLIENT_SECRET='id-s', AZURE_TENANT_ID='id-t')
    result = resolve_credential(params(), env)
    assert result.credential[1] == ('awx-t', 'c', 'awx-s') and result.source == 'AWX credential variables'


def test_azure_identity_variables_then_default_chain():
    env = dict(EMULATOR, AZURE_SUBSCRIPTION_ID='s', AZURE_CLIENT_ID='c', AZURE_CLIENT_SECRET='x', AZURE_TENANT_ID='t')
    assert resolve_credential(params(), env).credential[0] == 'EnvironmentCredential'
    assert resolve_credential(params(), dict(EMULATOR, AZURE_SUBSCRIPTION_ID='s')).credential[0] == 'DefaultAzureCredential'


def test_partial_module_credentials_are_refused():
    with pytest.raises(AzureAuthError, match='must be given together'):
        resolve_credential(params(client_id='c', subscription_id='s'), EMULATOR)


def test_subscription_is_required():
    with pytest.raises(AzureAuthError, match='subscription_id is required'):
        resolve_credential(params(), EMULATOR)


def test_custom_cloud_endpoint_and_scope_and_no_instance_discovery():
    result = resolve_credential(params(subscription_id='s', client_id='c', client_secret='x', tenant_id='t'), EMULATOR)
    assert result.arm_endpoint == 'https://127.0.0.1:8443'
    assert result.credential_scopes == ['https://127.0.0.1:8443/.default']
    assert result.credential[2] == {'authority': 'https://127.0.0.1:8443', 'disable_instance_discovery': True}


@pytest.mark.parametrize('cloud, endpoint, authority', [
    ('AzureCloud', 'https://management.azure.com', 'login.microsoftonline.com'),
    ('AzureUSGovernment', 'https://management.usgovcloudapi.net', 'login.microsoftonline.us'),
    ('AzureChinaCloud', 'https://management.chinacloudapi.cn', 'login.chinacloudapi.cn'),
])
def test_named_clouds(cloud, endpoint, authority):
    result = resolve_credential(params(subscription_id='s', cloud_environment=cloud), {})
    assert result.arm_endpoint == endpoint
    assert result.credential[2] == {'authority': authority, 'exclude_interactive_browser_credential': True}


def test_awx_cloud_environment_variable_is_read():
    result = resolve_credential(params(subscription_id='s'), {'AZURE_CLOUD_ENVIRONMENT': 'AzureChinaCloud'})
    assert result.arm_endpoint == 'https://management.chinacloudapi.cn'


@pytest.mark.parametrize('env, message', [
    ({'AZURE_ARM_ENDPOINT': 'http://127.0.0.1:1'}, 'must be an https'),
    ({'AZURE_ARM_ENDPOINT': 'https://127.0.0.1:1'}, 'needs authority_host'),
    ({'AZURE_CLOUD_ENVIRONMENT': 'Mars'}, 'unknown cloud_environment'),
])
def test_bad_cloud_settings(env, message):
    with pytest.raises(AzureAuthError, match=message):
        resolve_credential(params(subscription_id='s'), env)
