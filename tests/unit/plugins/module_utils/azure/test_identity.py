"""Managed identities and federated credentials: the name rule and the reconcile against fake SDK clients."""

from types import SimpleNamespace

import pytest
from azure.core.exceptions import ResourceNotFoundError

from ansible_collections.aiplatform.aks.plugins.module_utils.azure import identity as mod
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from tests.unit.plugins.module_utils.azure.fakes import Doc


def test_federated_credential_name_pattern():
    assert mod.FEDERATED_CREDENTIAL_NAME.match('kaito-federatedcredential')
    assert mod.FEDERATED_CREDENTIAL_NAME.match('a_b')
    for bad in ('ab', '-abc', 'a' * 121, 'a.b.c'):
        assert not mod.FEDERATED_CREDENTIAL_NAME.match(bad)


def test_managed_identity_names_follow_arms_rule_and_are_named_by_option():
    for good in ('kaito-gpu-provisioner', 'id_1', 'a1b', 'A' * 128):
        assert mod.identity_name_problems(good, 'name') == []
        assert mod.ManagedIdentity.check_input({'name': good}) == []
    for bad in ('id', '-id', '_id', 'a' * 129, 'my identity', 'id.one', 'id/x', ''):
        assert mod.ManagedIdentity.check_input({'name': bad}) == [
            "name %r is not a valid managed identity name: 3 to 128 letters, digits, - or _, starting with a letter or digit" % bad]
    problems = mod.FederatedCredential.check_input({'identity': 'id x', 'name': 'fc-1', 'state': 'present', 'audiences': ['a']})
    assert problems and problems[0].startswith("identity 'id x' is not a valid managed identity name")


# ---------------------------------------------------------------------------------------------------------------
# reconcile against fake clients


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

    def update(self, rg, name, model):  # the tags-only PATCH
        self.writes.append(model)
        self.current = Doc(self.current, tags=model.tags)
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
