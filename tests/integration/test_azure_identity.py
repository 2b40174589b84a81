"""azure_managed_identity, azure_federated_credential and azure_role_assignment as module calls in process, against the
ARM emulator. The kaito role, which uses all three for the gpu-provisioner's identity, is tested in test_kaito_role.py."""

import uuid

import pytest
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.role_assignment import role_assignment_name
from tests.integration.conftest import arm_writes
from tests.integration.module_call import call_module

pytestmark = pytest.mark.integration

RG = 'rg-identity-itest'
IDENTITY = 'kaitoprovisioner'
CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c'
READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
SUBJECT = 'system:serviceaccount:gpu-provisioner:gpu-provisioner'


def rg_id(arm, rg=RG):
    return '/subscriptions/%s/resourceGroups/%s' % (arm.subscription_id, rg)


def identity_id(arm, name=IDENTITY):
    return rg_id(arm) + '/providers/Microsoft.ManagedIdentity/userAssignedIdentities/' + name


def role_id(arm, guid):
    return '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (arm.subscription_id, guid)


def assignments(arm):
    return [r for r in arm.engine.dump()['resources'] if r['type'] == 'Microsoft.Authorization/roleAssignments']


@pytest.fixture
def group(arm, azure_env):
    created = call_module('azure_resource_group', {'name': RG, 'location': 'westeurope'}, env=azure_env)
    assert not created.get('failed'), created.get('msg')
    arm.clear_requests()
    return RG


@pytest.fixture
def identity(arm, azure_env, group):
    result = call_module('azure_managed_identity', {'name': IDENTITY, 'resource_group': group, 'location': 'westeurope'}, env=azure_env)
    assert not result.get('failed'), result.get('msg')
    arm.clear_requests()
    return result


@pytest.fixture
def authorization(arm):
    cred = ClientSecretCredential(arm.tenant_id, arm.client_id, arm.client_secret, authority=arm.url,
                                  disable_instance_discovery=True, connection_verify=arm.ca_path)
    return AuthorizationManagementClient(cred, arm.subscription_id, base_url=arm.url, credential_scopes=[arm.url + '/.default'],
                                         connection_verify=arm.ca_path)


def test_managed_identity_create_rerun_update_check_and_delete(arm, azure_env, group):
    args = {'name': IDENTITY, 'resource_group': group, 'location': 'westeurope', 'tags': {'env': 'test', 'owner': 'platform'}}
    result = call_module('azure_managed_identity', args, env=azure_env)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True
    uuid.UUID(result['principal_id'])
    uuid.UUID(result['client_id'])
    assert result['id'] == identity_id(arm)
    doc = arm.engine.get_resource(identity_id(arm))
    assert doc['properties']['clientId'] == result['client_id'] and doc['tags'] == args['tags']
    assert [r['method'] for r in arm_writes(arm)] == ['PUT']

    arm.clear_requests()
    again = call_module('azure_managed_identity', dict(args, location='West Europe'), env=azure_env)
    assert not again.get('failed') and again['changed'] is False and again['client_id'] == result['client_id']
    assert arm_writes(arm) == [], 'an unchanged identity gets no write'

    plan = call_module('azure_managed_identity', dict(args, tags={'owner': 'ml-team'}), env=azure_env, check=True, diff=True)
    assert not plan.get('failed') and plan['changed'] is True and plan['differences'] == ['tags.owner']
    assert plan['diff']['before']['tags']['owner'] == 'platform' and plan['diff']['after']['tags']['owner'] == 'ml-team'
    assert arm_writes(arm) == [], 'check mode writes nothing'

    update = call_module('azure_managed_identity', dict(args, tags={'owner': 'ml-team'}), env=azure_env)
    assert not update.get('failed') and update['changed'] is True
    puts = arm_writes(arm)
    assert len(puts) == 1 and puts[0]['body']['tags'] == {'env': 'test', 'owner': 'ml-team'}, 'unmentioned tags are kept'
    assert puts[0]['method'] == 'PATCH', 'a change of tags alone is the tags-only PATCH'
    assert update['principal_id'] == result['principal_id'], 'an update keeps the identity'

    arm.clear_requests()
    failure = call_module('azure_managed_identity', dict(args, location='eastus'), env=azure_env)
    assert failure.get('failed') and 'Cannot change location of managed identity' in failure['msg']
    assert arm_writes(arm) == []

    _plan = call_module('azure_managed_identity', {'name': IDENTITY, 'resource_group': group, 'state': 'absent'}, env=azure_env, check=True)
    assert not _plan.get('failed') and _plan['changed'] is True and arm_writes(arm) == []
    gone = call_module('azure_managed_identity', {'name': IDENTITY, 'resource_group': group, 'state': 'absent'}, env=azure_env)
    assert not gone.get('failed') and gone['changed'] is True and gone['identity'] is None
    assert arm.engine.get_resource(identity_id(arm)) is None
    nothing = call_module('azure_managed_identity', {'name': IDENTITY, 'resource_group': group, 'state': 'absent'}, env=azure_env)
    assert not nothing.get('failed') and nothing['changed'] is False


def test_managed_identity_needs_a_location_to_be_created(arm, azure_env, group):
    result = call_module('azure_managed_identity', {'name': IDENTITY, 'resource_group': group}, env=azure_env)
    assert result.get('failed') and 'location is required to create managed identity kaitoprovisioner' in result['msg']
    assert arm_writes(arm) == []


def test_federated_credential_create_rerun_update_check_and_delete(arm, azure_env, identity):
    args = {'name': 'kaito-federatedcredential', 'identity': IDENTITY, 'resource_group': RG,
            'issuer': 'https://oidc.example/tenant/cluster/', 'subject': SUBJECT}
    fic_id = identity_id(arm) + '/federatedIdentityCredentials/kaito-federatedcredential'
    result = call_module('azure_federated_credential', args, env=azure_env)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True and result['federated_credential']['audiences'] == ['api://AzureADTokenExchange']
    assert arm.engine.get_resource(fic_id)['properties']['subject'] == SUBJECT

    arm.clear_requests()
    again = call_module('azure_federated_credential', args, env=azure_env)
    assert not again.get('failed') and again['changed'] is False and arm_writes(arm) == []

    other = 'system:serviceaccount:gpu-provisioner:other'
    plan = call_module('azure_federated_credential', dict(args, subject=other), env=azure_env, check=True, diff=True)
    assert not plan.get('failed') and plan['changed'] is True and plan['differences'] == ['subject']
    assert plan['diff']['before']['subject'] == SUBJECT and plan['diff']['after']['subject'] == other
    assert arm_writes(arm) == []

    update = call_module('azure_federated_credential', dict(args, subject=other, audiences=['api://a', 'api://b']), env=azure_env)
    assert not update.get('failed') and update['changed'] is True
    assert sorted(update['differences']) == ['audiences', 'subject']
    puts = arm_writes(arm)
    assert len(puts) == 1 and puts[0]['body']['properties'] == {
        'issuer': args['issuer'], 'subject': other, 'audiences': ['api://a', 'api://b']}

    arm.clear_requests()
    failure = call_module('azure_federated_credential', dict(args, name='x'), env=azure_env)
    assert failure.get('failed') and 'not a valid federated credential name' in failure['msg']
    failure = call_module('azure_federated_credential', dict(args, name='new-credential', subject=None), env=azure_env)
    assert failure.get('failed') and 'subject is required to create federated credential new-credential' in failure['msg']
    assert arm_writes(arm) == []

    gone = call_module('azure_federated_credential', dict(args, state='absent'), env=azure_env)
    assert not gone.get('failed') and gone['changed'] is True and arm.engine.get_resource(fic_id) is None
    nothing = call_module('azure_federated_credential', dict(args, state='absent'), env=azure_env)
    assert not nothing.get('failed') and nothing['changed'] is False


def test_role_assignment_is_idempotent_and_never_duplicated(arm, azure_env, identity, authorization):
    principal = identity['principal_id']
    scope = rg_id(arm)
    args = {'scope': scope, 'role': 'Contributor', 'principal_id': principal}
    plan = call_module('azure_role_assignment', args, env=azure_env, check=True, diff=True)
    assert not plan.get('failed') and plan['changed'] is True and arm_writes(arm) == [] and assignments(arm) == []

    result = call_module('azure_role_assignment', args, env=azure_env)
    assert not result.get('failed'), result.get('msg')
    name = role_assignment_name(scope, role_id(arm, CONTRIBUTOR), principal)
    assert result['changed'] is True and result['name'] == name
    assert result['role_assignment']['id'] == scope + '/providers/Microsoft.Authorization/roleAssignments/' + name
    assert result['role_definition_id'] == role_id(arm, CONTRIBUTOR)
    (doc,) = assignments(arm)
    assert doc['properties']['principalType'] == 'ServicePrincipal' and doc['properties']['roleDefinitionId'] == role_id(arm, CONTRIBUTOR)

    arm.clear_requests()
    again = call_module('azure_role_assignment', dict(args, role='contributor', scope=scope + '/'), env=azure_env)
    assert not again.get('failed') and again['changed'] is False and arm_writes(arm) == []
    same = call_module('azure_role_assignment', dict(args, role=role_id(arm, CONTRIBUTOR)), env=azure_env)
    assert not same.get('failed') and same['changed'] is False and arm_writes(arm) == []

    # another role at the same scope is another assignment
    added = call_module('azure_role_assignment', dict(args, role='Reader'), env=azure_env)
    assert not added.get('failed') and added['changed'] is True and len(assignments(arm)) == 2

    # the same grant under a name someone else chose is found, not duplicated
    other_scope = identity_id(arm)
    authorization.role_assignments.create(other_scope, str(uuid.uuid4()), RoleAssignmentCreateParameters(
        role_definition_id=role_id(arm, READER), principal_id=principal, principal_type='ServicePrincipal'))
    arm.clear_requests()
    existing = call_module('azure_role_assignment', dict(args, scope=other_scope, role='Reader'), env=azure_env)
    assert not existing.get('failed') and existing['changed'] is False and arm_writes(arm) == []

    # deleting removes that assignment, whatever its name
    removed = call_module('azure_role_assignment', dict(args, scope=other_scope, role='Reader', state='absent'), env=azure_env)
    assert not removed.get('failed') and removed['changed'] is True and len(assignments(arm)) == 2
    nothing = call_module('azure_role_assignment', dict(args, scope=other_scope, role='Reader', state='absent'), env=azure_env)
    assert not nothing.get('failed') and nothing['changed'] is False


def test_interrupted_or_retried_role_assignment_create_makes_one_assignment(arm, azure_env, identity, authorization):
    principal = identity['principal_id']
    scope = rg_id(arm)
    args = {'scope': scope, 'role': 'Contributor', 'principal_id': principal}
    # a run whose PUT reached ARM but whose answer was lost: the assignment exists under the deterministic name
    name = role_assignment_name(scope, role_id(arm, CONTRIBUTOR), principal)
    authorization.role_assignments.create(scope, name, RoleAssignmentCreateParameters(
        role_definition_id=role_id(arm, CONTRIBUTOR), principal_id=principal, principal_type='ServicePrincipal'))
    arm.clear_requests()
    result = call_module('azure_role_assignment', args, env=azure_env)
    assert not result.get('failed') and result['changed'] is False and result['name'] == name and arm_writes(arm) == []
    assert len(assignments(arm)) == 1

    # throttled or failing PUTs are retried under the same name: still one assignment
    call_module('azure_role_assignment', dict(args, state='absent'), env=azure_env)
    assert assignments(arm) == []
    arm.clear_requests()
    arm.add_fault(action='status', method='PUT', path='/roleAssignments/', status=503, retry_after=0, times=2)
    created = call_module('azure_role_assignment', args, env=azure_env)
    assert not created.get('failed') and created['changed'] is True, created.get('msg')
    puts = [r for r in arm.requests if r['method'] == 'PUT']
    assert [r['status'] for r in puts] == [503, 503, 201]
    assert len({r['path'] for r in puts}) == 1, 'every attempt uses the same name'
    assert [a['name'] for a in assignments(arm)] == [name]


@pytest.mark.parametrize('args, message', [
    ({'role': 'Chief Wizard'}, "Unknown role 'Chief Wizard'"),
    ({'principal_type': 'Robot'}, 'value of principal_type must be one of'),
])
def test_bad_role_assignment_input_fails_clearly_without_writing(arm, azure_env, group, args, message):
    base = {'scope': rg_id(arm), 'role': 'Reader', 'principal_id': str(uuid.uuid4())}
    result = call_module('azure_role_assignment', dict(base, **args), env=azure_env)
    assert result.get('failed') and message in result['msg']
    assert arm_writes(arm) == []
