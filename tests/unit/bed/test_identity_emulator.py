"""Managed identities, federated credentials and role assignments in the ARM emulator, with the real SDKs."""

from __future__ import annotations

import uuid

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.models import FederatedIdentityCredential, Identity
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.models import ResourceGroup

from tests.bed.arm_emulator import ArmEmulator, register_identity
from tests.bed.arm_emulator.identity import MAX_FEDERATED_CREDENTIALS, parse_filter

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with ArmEmulator(tmp_path_factory.mktemp("arm-identity"), operation_seconds=0.1, retry_after=0.05) as emu:
        register_identity(emu)
        register_identity(emu)  # idempotent
        yield emu


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.reset()
    yield


@pytest.fixture(scope="module")
def clients(emu):
    cred = ClientSecretCredential(emu.tenant_id, emu.client_id, emu.client_secret, authority=emu.url,
                                  disable_instance_discovery=True, connection_verify=emu.ca_path)
    kwargs = {"base_url": emu.url, "credential_scopes": [emu.url + "/.default"], "connection_verify": emu.ca_path}
    return (ResourceManagementClient(cred, emu.subscription_id, **kwargs),
            ManagedServiceIdentityClient(cred, emu.subscription_id, **kwargs),
            AuthorizationManagementClient(cred, emu.subscription_id, **kwargs))


def _role(emu, guid):
    return f"/subscriptions/{emu.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _assign(auth, emu, scope, guid, principal, name=None):
    return auth.role_assignments.create(scope, name or str(uuid.uuid4()), RoleAssignmentCreateParameters(
        role_definition_id=_role(emu, guid), principal_id=principal, principal_type="ServicePrincipal"))


def test_identity_lifecycle(emu, clients):
    rm, msi, _auth = clients
    rm.resource_groups.create_or_update("rg1", ResourceGroup(location="westeurope"))
    ident = msi.user_assigned_identities.create_or_update("rg1", "kaitoprovisioner", Identity(location="West Europe"))
    assert ident.location == "westeurope"
    assert ident.tenant_id == emu.tenant_id
    uuid.UUID(ident.principal_id)
    uuid.UUID(ident.client_id)
    again = msi.user_assigned_identities.create_or_update("rg1", "kaitoprovisioner",
                                                          Identity(location="westeurope", tags={"a": "b"}))
    assert (again.principal_id, again.client_id, again.tags) == (ident.principal_id, ident.client_id, {"a": "b"})
    statuses = [r["status"] for r in emu.requests if r["method"] == "PUT"]
    assert statuses[-2:] == [201, 200]
    got = msi.user_assigned_identities.get("rg1", "kaitoprovisioner")
    assert got.client_id == ident.client_id
    assert [i.name for i in msi.user_assigned_identities.list_by_resource_group("rg1")] == ["kaitoprovisioner"]
    with pytest.raises(HttpResponseError) as err:
        msi.user_assigned_identities.create_or_update("rg1", "kaitoprovisioner", Identity(location="eastus"))
    assert err.value.error.code == "PropertyChangeNotAllowed"
    with pytest.raises(HttpResponseError) as err:
        msi.user_assigned_identities.create_or_update("rg1", "-bad", Identity(location="eastus"))
    assert err.value.status_code == 400
    with pytest.raises(ResourceNotFoundError):
        msi.user_assigned_identities.create_or_update("nope", "x123", Identity(location="eastus"))
    msi.user_assigned_identities.delete("rg1", "kaitoprovisioner")
    with pytest.raises(ResourceNotFoundError):
        msi.user_assigned_identities.get("rg1", "kaitoprovisioner")
    msi.user_assigned_identities.delete("rg1", "kaitoprovisioner")  # 204


def test_federated_credentials(emu, clients):
    rm, msi, _auth = clients
    rm.resource_groups.create_or_update("rg1", ResourceGroup(location="westeurope"))
    msi.user_assigned_identities.create_or_update("rg1", "id1", Identity(location="westeurope"))
    fic = msi.federated_identity_credentials.create_or_update("rg1", "id1", "kaito-federatedcredential",
                                                              FederatedIdentityCredential(
                                                                  issuer="https://oidc.example/abc/",
                                                                  subject="system:serviceaccount:ns:sa",
                                                                  audiences=["api://AzureADTokenExchange"]))
    assert fic.issuer == "https://oidc.example/abc/"
    assert fic.type == "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
    fic = msi.federated_identity_credentials.create_or_update("rg1", "id1", "kaito-federatedcredential",
                                                              FederatedIdentityCredential(
                                                                  issuer="https://oidc.example/abc/",
                                                                  subject="system:serviceaccount:ns:other",
                                                                  audiences=["api://AzureADTokenExchange"]))
    assert fic.subject == "system:serviceaccount:ns:other"
    for bad in (FederatedIdentityCredential(issuer="https://x/", subject="s"),
                FederatedIdentityCredential(subject="s", audiences=["a"]),
                FederatedIdentityCredential(issuer="http://x/", subject="s", audiences=["a"])):
        with pytest.raises(HttpResponseError) as err:
            msi.federated_identity_credentials.create_or_update("rg1", "id1", "fic2", bad)
        assert err.value.status_code == 400
    with pytest.raises(HttpResponseError) as err:
        msi.federated_identity_credentials.create_or_update(
            "rg1", "id1", "-x", FederatedIdentityCredential(issuer="https://x/", subject="s", audiences=["a"]))
    assert err.value.status_code == 400
    with pytest.raises(ResourceNotFoundError):
        msi.federated_identity_credentials.create_or_update(
            "rg1", "missing", "fic", FederatedIdentityCredential(issuer="https://x/", subject="s", audiences=["a"]))
    for n in range(1, MAX_FEDERATED_CREDENTIALS):
        body = FederatedIdentityCredential(issuer="https://x/", subject=f"s{n}", audiences=["a"])
        msi.federated_identity_credentials.create_or_update("rg1", "id1", f"fic{n:02d}", body)
    with pytest.raises(HttpResponseError) as err:
        body = FederatedIdentityCredential(issuer="https://x/", subject="s99", audiences=["a"])
        msi.federated_identity_credentials.create_or_update("rg1", "id1", "one-too-many", body)
    assert err.value.status_code == 400 and "maximum is 20" in err.value.message
    assert len(list(msi.federated_identity_credentials.list("rg1", "id1"))) == MAX_FEDERATED_CREDENTIALS
    msi.federated_identity_credentials.delete("rg1", "id1", "fic01")
    with pytest.raises(ResourceNotFoundError):
        msi.federated_identity_credentials.get("rg1", "id1", "fic01")
    msi.user_assigned_identities.delete("rg1", "id1")
    with pytest.raises(ResourceNotFoundError):
        msi.federated_identity_credentials.get("rg1", "id1", "kaito-federatedcredential")


def test_role_assignments(emu, clients):
    rm, msi, auth = clients
    rm.resource_groups.create_or_update("rg1", ResourceGroup(location="westeurope"))
    principal = msi.user_assigned_identities.create_or_update("rg1", "id1", Identity(location="westeurope")).principal_id
    other = str(uuid.uuid4())
    sub = f"/subscriptions/{emu.subscription_id}"
    rg = f"{sub}/resourceGroups/rg1"
    ident = f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
    name = str(uuid.uuid4())
    ra = _assign(auth, emu, rg, CONTRIBUTOR, principal, name)
    assert ra.scope == rg and ra.name == name and ra.principal_type == "ServicePrincipal"
    assert ra.id == f"{rg}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert auth.role_assignments.get(rg, name).role_definition_id == _role(emu, CONTRIBUTOR)
    # same content under the same name is fine; another name is 409 RoleAssignmentExists
    _assign(auth, emu, rg, CONTRIBUTOR, principal, name)
    with pytest.raises(ResourceExistsError) as err:
        _assign(auth, emu, rg, CONTRIBUTOR, principal)
    assert err.value.error.code == "RoleAssignmentExists"
    with pytest.raises(HttpResponseError) as err:
        _assign(auth, emu, rg, READER, principal, name)
    assert err.value.error.code == "RoleAssignmentUpdateNotPermitted"
    with pytest.raises(HttpResponseError) as err:
        _assign(auth, emu, rg, "00000000-0000-0000-0000-000000000001", principal)
    assert err.value.error.code == "RoleDefinitionDoesNotExist"
    with pytest.raises(HttpResponseError) as err:
        _assign(auth, emu, rg, READER, principal, "not-a-guid")
    assert err.value.error.code == "InvalidRoleAssignmentId"
    _assign(auth, emu, rg, READER, principal)
    _assign(auth, emu, sub, READER, other)
    _assign(auth, emu, ident, READER, principal)

    def names(scope, flt=None):
        return sorted((a.scope, a.role_definition_id.rsplit("/", 1)[-1], a.principal_id)
                      for a in auth.role_assignments.list_for_scope(scope, filter=flt))

    assert names(rg, f"principalId eq '{principal}'") == sorted([
        (rg, CONTRIBUTOR, principal), (rg, READER, principal), (ident, READER, principal)])
    assert names(rg, f"atScope() and principalId eq '{principal}'") == sorted([
        (rg, CONTRIBUTOR, principal), (rg, READER, principal)])
    assert names(rg, "atScope()") == sorted([
        (rg, CONTRIBUTOR, principal), (rg, READER, principal), (sub, READER, other)])
    assert len(names(sub)) == 4
    assert names(ident, f"assignedTo('{other}')") == [(sub, READER, other)]
    with pytest.raises(HttpResponseError) as err:
        names(rg, "roleDefinitionId eq 'x'")
    assert err.value.error.code == "InvalidFilterParameter"
    auth.role_assignments.delete(rg, name)
    with pytest.raises(ResourceNotFoundError):
        auth.role_assignments.get(rg, name)
    assert auth.role_assignments.delete(rg, name) is None  # 204
    with pytest.raises(ResourceNotFoundError):
        _assign(auth, emu, f"{sub}/resourceGroups/missing", READER, principal)


def test_role_assignment_on_cluster_scope_route(emu):
    """The managed-cluster scope is registered (AKS registers identity types itself; here only the route)."""
    paths = [t.path for t in emu.engine.types]
    assert any(p.endswith("managedClusters/{resourceName}/providers/Microsoft.Authorization/roleAssignments/"
                          "{roleAssignmentName}") for p in paths)
    r = requests.get(f"{emu.url}/subscriptions/{emu.subscription_id}/providers/Microsoft.Authorization/roleAssignments",
                     params={"api-version": "2022-04-01"}, verify=emu.ca_path, timeout=10)
    assert r.status_code == 401


def test_parse_filter():
    assert parse_filter(None) == (False, None)
    assert parse_filter("atScope()") == (True, None)
    assert parse_filter("principalId eq 'ABC'") == (False, "abc")
    assert parse_filter("atScope() and assignedTo('x')") == (True, "x")


def test_register_aks_registers_the_identity_types_too():
    from tests.bed.arm_emulator import ArmEngine, register_aks

    engine = ArmEngine(tenant_id="t", client_id="c", client_secret="s", subscription_id="sub")
    register_aks(engine)
    types = {t.type_name for t in engine.types}
    assert {"Microsoft.ManagedIdentity/userAssignedIdentities",
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
            "Microsoft.Authorization/roleAssignments"} <= types
