"""The kaito role's Azure side through real ansible-playbook runs against the ARM emulator: the identity of KAITO's
open-source gpu-provisioner (a managed identity, its role on the cluster and a federated credential trusting the
cluster's OIDC issuer). Installing and verifying KAITO on Kubernetes is covered by molecule/kaito and test_site.py."""

import pytest

from tests.integration.conftest import arm_writes
from tests.integration.module_call import call_module
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
