"""Pure logic of the identity modules: role resolution, deterministic names, matching, and the reconcile of
identities, federated credentials and role assignments against fake SDK clients."""

import uuid
from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from ansible_collections.aiplatform.aks.plugins.module_utils.azure import identity as mod
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError

SUB = '00000000-0000-0000-0000-000000000001'
CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c'
CONTRIBUTOR_ID = '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (SUB, CONTRIBUTOR)
SCOPE = '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks' % SUB
PRINCIPAL = '11111111-2222-3333-4444-555555555555'


class Doc(dict):
    def as_dict(self):
        return dict(self)


def http_error(status, code):
    response = SimpleNamespace(status_code=status, reason='x', headers={}, json=lambda: {'error': {'code': code, 'message': code}},
                               text=lambda: '', request=None)
    exc = HttpResponseError(message=code, response=response)
    exc.status_code = status
    return exc


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


def test_federated_credential_name_pattern():
    assert mod.FEDERATED_CREDENTIAL_NAME.match('kaito-federatedcredential')
    assert mod.FEDERATED_CREDENTIAL_NAME.match('a_b')
    for bad in ('ab', '-abc', 'a' * 121, 'a.b.c'):
        assert not mod.FEDERATED_CREDENTIAL_NAME.match(bad)


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


class FakeIdentities:
    def __init__(self, current=None):
        self.current = Doc(current) if current else None
        self.writes = []
        self.deleted = 0

    def get(self, rg, name):
        if self.current is None:
            raise ResourceNotFoundError('missing')
        return self.current

    def create_or_update(self, rg, name, model):
        self.writes.append(model)
        self.current = Doc(location=model.location, tags=model.tags or {}, principal_id='p', client_id='c', name=name)
        return self.current

    def delete(self, rg, name):
        self.deleted += 1


def test_managed_identity_reconcile():
    client = FakeIdentities()
    ident = mod.ManagedIdentity(SimpleNamespace(user_assigned_identities=client), 'rg', 'kaitoprovisioner')
    with pytest.raises(AzureOperationError):
        ident.present({'location': None, 'tags': None})
    created = ident.present({'location': 'West Europe', 'tags': {'a': 'b'}})
    assert created['changed'] is True and created['resource']['client_id'] == 'c'
    assert ident.present({'location': 'westeurope', 'tags': None})['changed'] is False
    with pytest.raises(AzureOperationError) as err:
        ident.present({'location': 'eastus'})
    assert err.value.error['code'] == 'ImmutableField'
    changed = ident.present({'tags': {'c': 'd'}})
    assert changed['differences'] == ['tags.c'] and client.writes[-1].tags == {'a': 'b', 'c': 'd'}
    assert ident.absent()['changed'] is True and client.deleted == 1


class FakeCredentials:
    def __init__(self):
        self.current = None
        self.writes = []

    def get(self, rg, identity, name):
        if self.current is None:
            raise ResourceNotFoundError('missing')
        return self.current

    def create_or_update(self, rg, identity, name, model):
        self.writes.append(model)
        self.current = Doc(name=name, issuer=model.issuer, subject=model.subject, audiences=model.audiences)
        return self.current


def test_federated_credential_reconcile():
    client = FakeCredentials()
    fic = mod.FederatedCredential(SimpleNamespace(federated_identity_credentials=client), 'rg', 'id', 'fic')
    body = {'issuer': 'https://issuer/', 'subject': 'system:serviceaccount:a:b', 'audiences': mod.DEFAULT_AUDIENCES}
    with pytest.raises(AzureOperationError):
        fic.present(dict(body, issuer=None))
    assert fic.present(body)['changed'] is True
    assert fic.present(body)['changed'] is False and len(client.writes) == 1
    changed = fic.present(dict(body, subject='system:serviceaccount:a:c'))
    assert changed['differences'] == ['subject'] and client.writes[-1].issuer == 'https://issuer/'
