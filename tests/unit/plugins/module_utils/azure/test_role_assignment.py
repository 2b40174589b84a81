"""Role assignments: role resolution, deterministic names, matching, and the reconcile against a fake SDK client."""

import uuid
from types import SimpleNamespace

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.azure import role_assignment as mod
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from tests.unit.plugins.module_utils.azure.fakes import Doc, http_error

SUB = '00000000-0000-0000-0000-000000000001'
CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c'
CONTRIBUTOR_ID = '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (SUB, CONTRIBUTOR)
SCOPE = '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks' % SUB
PRINCIPAL = '11111111-2222-3333-4444-555555555555'


@pytest.mark.parametrize('role, expected', [
    ('Contributor', CONTRIBUTOR_ID),
    ('contributor', CONTRIBUTOR_ID),
    (' Reader ', '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7' % SUB),
    ('Azure Kubernetes Service RBAC Cluster Admin',
     '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b' % SUB),
    (CONTRIBUTOR.upper(), CONTRIBUTOR_ID),
    (CONTRIBUTOR_ID, CONTRIBUTOR_ID),
    ('/providers/Microsoft.Authorization/roleDefinitions/' + CONTRIBUTOR, '/providers/Microsoft.Authorization/roleDefinitions/' + CONTRIBUTOR),
])
def test_resolve_role(role, expected):
    assert mod.resolve_role(role, SUB) == expected


@pytest.mark.parametrize('role', ['', 'Chief Wizard', '/providers/Microsoft.Authorization/roleDefinitions/not-a-guid',
                                  '/subscriptions/x/providers/Other/roleDefinitions/' + CONTRIBUTOR])
def test_resolve_role_refuses_unknown_roles(role):
    with pytest.raises(AzureOperationError) as err:
        mod.resolve_role(role, SUB)
    assert err.value.error['code'] == 'InvalidRole'


def test_assignment_name_is_a_stable_uuid_of_scope_role_and_principal():
    name = mod.role_assignment_name(SCOPE, CONTRIBUTOR_ID, PRINCIPAL)
    assert uuid.UUID(name).version == 5
    assert mod.role_assignment_name(SCOPE.upper() + '/', CONTRIBUTOR.upper(), ' ' + PRINCIPAL.upper()) == name
    assert mod.role_assignment_name(SCOPE + '/x', CONTRIBUTOR_ID, PRINCIPAL) != name
    assert mod.role_assignment_name(SCOPE, 'acdd72a7-3385-48ef-bd42-f606fba81ae7', PRINCIPAL) != name
    assert mod.role_assignment_name(SCOPE, CONTRIBUTOR_ID, str(uuid.uuid4())) != name


def test_normalize_scope_and_role_guid():
    assert mod.normalize_scope('subscriptions/x/') == '/subscriptions/x'
    assert mod.normalize_scope(' /subscriptions/x ') == '/subscriptions/x'
    assert mod.role_guid(CONTRIBUTOR_ID.upper()) == CONTRIBUTOR


def test_matching_assignment_needs_the_exact_scope_role_and_principal():
    mine = {'scope': SCOPE.lower(), 'role_definition_id': CONTRIBUTOR_ID.upper(), 'principal_id': PRINCIPAL.upper(), 'name': 'a'}
    below = dict(mine, scope=SCOPE + '/agentPools/x', name='b')
    above = dict(mine, scope='/subscriptions/' + SUB, name='c')
    reader = dict(mine, role_definition_id='/providers/x/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7', name='d')
    assert mod.matching_assignment([below, above, reader, mine], SCOPE, CONTRIBUTOR_ID, PRINCIPAL)['name'] == 'a'
    assert mod.matching_assignment([below, above, reader], SCOPE, CONTRIBUTOR_ID, PRINCIPAL) is None
    assert mod.matching_assignment([mine], SCOPE, CONTRIBUTOR_ID, str(uuid.uuid4())) is None


# ---------------------------------------------------------------------------------------------------------------
# reconcile against fake clients


class FakeRoleAssignments:
    def __init__(self, existing=(), create_error=None):
        self.items = [Doc(i) for i in existing]
        self.created = []
        self.deleted = []
        self.create_error = create_error
        self.filters = []

    def list_for_scope(self, scope, filter=None):  # pylint: disable=redefined-builtin
        self.filters.append((scope, filter))
        return list(self.items)

    def create(self, scope, name, params):
        self.created.append((scope, name, params))
        if self.create_error is not None:
            error, self.create_error = self.create_error, None
            raise error
        doc = Doc(name=name, scope=scope, role_definition_id=params.role_definition_id, principal_id=params.principal_id,
                  principal_type=params.principal_type)
        self.items.append(doc)
        return doc

    def delete(self, scope, name):
        self.deleted.append((scope, name))


def assignment(client, check_mode=False):
    return mod.RoleAssignment(SimpleNamespace(role_assignments=client), SCOPE, CONTRIBUTOR_ID, PRINCIPAL, check_mode=check_mode)


def test_role_assignment_created_once_under_the_deterministic_name():
    client = FakeRoleAssignments()
    ra = assignment(client)
    result = ra.present(ra.desired())
    assert result['changed'] is True
    ((scope, name, params),) = client.created
    assert scope == SCOPE and name == mod.role_assignment_name(SCOPE, CONTRIBUTOR_ID, PRINCIPAL)
    assert params.principal_type == 'ServicePrincipal'
    assert client.filters[0] == (SCOPE, "principalId eq '%s'" % PRINCIPAL)
    again = assignment(client).present(ra.desired())
    assert again['changed'] is False and len(client.created) == 1


def test_role_assignment_existing_under_any_name_is_kept():
    client = FakeRoleAssignments([{'name': 'portal-made', 'scope': SCOPE, 'role_definition_id': CONTRIBUTOR_ID.lower(),
                                   'principal_id': PRINCIPAL}])
    ra = assignment(client)
    result = ra.present(ra.desired())
    assert result['changed'] is False and result['resource']['name'] == 'portal-made' and client.created == []
    gone = assignment(client).absent()
    assert gone['changed'] is True and client.deleted == [(SCOPE, 'portal-made')]


def test_role_assignment_check_mode_writes_nothing():
    client = FakeRoleAssignments()
    ra = assignment(client, check_mode=True)
    result = ra.present(ra.desired())
    assert result['changed'] is True and client.created == []
    assert result['resource']['principal_type'] == 'ServicePrincipal'


def test_role_assignment_created_meanwhile_is_taken_not_duplicated():
    client = FakeRoleAssignments()
    error = http_error(409, 'RoleAssignmentExists')
    original = client.create

    def create_racing(scope, name, params):
        client.create = original
        original(scope, str(uuid.uuid4()), params)  # someone else's create wins the race
        raise error

    client.create = create_racing
    ra = assignment(client)
    result = ra.present(ra.desired())
    assert result['changed'] is True and len(client.items) == 1
    assert result['resource']['scope'] == SCOPE


def test_role_assignment_errors_are_described():
    client = FakeRoleAssignments(create_error=http_error(400, 'PrincipalNotFound'))
    ra = assignment(client)
    with pytest.raises(AzureOperationError) as err:
        ra.present(ra.desired())
    assert 'Failed to create role assignment' in str(err.value) and err.value.error['code'] == 'PrincipalNotFound'
