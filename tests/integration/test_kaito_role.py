"""The kaito role's Azure side through real ansible-playbook runs against the ARM emulator: the identity of KAITO's
open-source gpu-provisioner (a managed identity, its role on the cluster and a federated credential trusting the
cluster's OIDC issuer), and how long the role waits for KAITO on the test apiserver: at once when nothing of KAITO
exists, with a retry line per look while it rolls out. Installing and verifying KAITO is covered by molecule/kaito and
test_site.py."""

import time
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import arm_writes
from tests.integration.module_call import call_module
from tests.integration.kaito_standin import install_crds
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c'  # built-in role definition id
SUBJECT = 'system:serviceaccount:gpu-provisioner:gpu-provisioner'


def test_gpu_provisioner_identity_is_created_once_and_then_left_alone(bed, arm, azure_env):
    rg, cluster = 'rg-kaito-identity', 'aks-gpu-provisioner'
    assert not call_module('azure_resource_group', {'name': rg, 'location': 'westeurope'}, env=azure_env).get('failed')
    args = {'name': cluster, 'resource_group': rg, 'location': 'westeurope', 'oidc_issuer': True, 'workload_identity': True,
            'system_pool': {'vm_size': 'Standard_D2s_v3', 'count': 1}, 'timeout': 120}
    made = call_module('aks_cluster', args, env=bed.env())
    assert not made.get('failed'), made.get('msg')
    rg_id = '/subscriptions/%s/resourceGroups/%s' % (arm.subscription_id, rg)
    cluster_id = rg_id + '/providers/Microsoft.ContainerService/managedClusters/' + cluster
    issuer = arm.engine.get_resource(cluster_id)['properties']['oidcIssuerProfile']['issuerURL']
    assert issuer.startswith('https://')

    variables = {'cluster_name': cluster, 'cluster_rg': rg}
    planned = run_playbook('kaito_gpu_provisioner_identity.yml', variables, env=azure_env, check=True)
    assert planned.rc == 0, planned.failures
    assert not [r for r in arm_writes(arm) if '/userAssignedIdentities/' in r['path'] or '/roleAssignments/' in r['path']]

    first = run_playbook('kaito_gpu_provisioner_identity.yml', variables, env=azure_env)
    assert first.rc == 0, first.failures
    facts = first.result('Report the facts for the chart values')['msg']
    ident = arm.engine.get_resource(rg_id + '/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kaitoprovisioner')
    assert ident['location'] == 'westeurope'
    assert facts['client_id'] == ident['properties']['clientId'] and facts['tenant_id'] == arm.tenant_id
    assert facts['principal_id'] == ident['properties']['principalId'] and facts['identity_id'] == ident['id']
    (grant,) = [r for r in arm.engine.dump()['resources'] if r['type'] == 'Microsoft.Authorization/roleAssignments']
    assert grant['properties']['scope'] == cluster_id
    contributor = '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (arm.subscription_id, CONTRIBUTOR)
    assert grant['properties']['roleDefinitionId'] == contributor
    assert grant['properties']['principalId'] == ident['properties']['principalId']
    fic = arm.engine.get_resource(ident['id'] + '/federatedIdentityCredentials/kaito-federatedcredential')
    assert fic['properties'] == {'issuer': issuer, 'subject': SUBJECT, 'audiences': ['api://AzureADTokenExchange']}

    arm.clear_requests()
    second = run_playbook('kaito_gpu_provisioner_identity.yml', variables, env=azure_env)
    assert second.rc == 0, second.failures
    assert second.changed == 0 and arm_writes(arm) == [], 'a second run changes nothing'


def wait_for_kaito(k8s_env, **variables):
    started = time.monotonic()
    variables = dict({'kaito_controller_deployment': 'no-controller-' + uuid.uuid4().hex[:6], 'kaito_progress_interval': 1}, **variables)
    run = run_playbook('kaito_role.yml', variables, env=k8s_env)
    return run, time.monotonic() - started, run.result("Wait until KAITO's CRDs serve kaito.sh/v1beta1 and its controller is rolled out")


@pytest.mark.parametrize('install, absent_timeout, looks', [('none', None, 1), ('addon', 3, 3)])
def test_with_nothing_of_kaito_installed_the_role_stops_early_and_names_the_variable(k8s_env, install, absent_timeout, looks):
    """None of the CRDs and no controller: nothing is on its way, so the role does not wait its kaito_wait_timeout (600 s):
    with kaito_install none it fails after one look; with the add-on after kaito_absent_timeout."""
    variables = {'kaito_install': install, 'kaito_crds': ['workspaces.nothing.example.com']}
    if absent_timeout is not None:
        variables['kaito_absent_timeout'] = absent_timeout
    run, seconds, wait = wait_for_kaito(k8s_env, **variables)
    assert run.rc != 0
    assert wait['attempts'] == looks and seconds < 60
    message = run.result('KAITO is ready')['msg']
    assert message.startswith('Nothing of KAITO is installed: CRD workspaces.nothing.example.com is not installed')
    assert 'kaito_install: %s' % install in message and 'kaito_install: helm' in message and 'aks_cluster_kaito: true' in message


def test_while_kaito_rolls_out_the_role_looks_again_until_its_timeout(k8s_env, k8s_client):
    """The CRD is there, the controller is not: KAITO is on its way, so the role keeps looking (one retry line per
    kaito_progress_interval) until kaito_wait_timeout, then names what is missing and the variable."""
    install_crds(k8s_client, [Path(__file__).parent.parent / 'crds' / 'kaito' / 'kaito.sh_workspaces.yaml'])
    run, seconds, wait = wait_for_kaito(k8s_env, kaito_install='none', kaito_wait_timeout=3)
    assert run.rc != 0
    assert wait['attempts'] == 3 and 3 <= seconds < 60
    message = run.result('KAITO is ready')['msg']
    assert message.startswith('KAITO is not ready after 3 s (kaito_wait_timeout): KAITO controller Deployment kaito-workspace/no-controller-')
    assert 'does not exist' in message
