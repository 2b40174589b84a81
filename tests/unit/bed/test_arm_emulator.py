"""The ARM emulator, driven by the real azure-identity / azure-mgmt SDKs (and raw HTTP where the SDK can't go)."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.bed.arm_emulator import (
    AKS_API_VERSION,
    AKS_SPEC,
    RESOURCE_GROUP_DEFAULT_API_VERSION,
    ArmEmulator,
    ArmError,
    PutContext,
    ResourceType,
    SchemaValidator,
)

REPO = Path(__file__).resolve().parents[3]
# What azure-mgmt-containerservice 41.8.0 serialises for a typical cluster and GPU pool (see test_aks_emulator.py)
SDK_BODIES = Path(__file__).parent / "sdk_serialized_bodies.json"
RG_API = RESOURCE_GROUP_DEFAULT_API_VERSION
OP_SECONDS = 0.25


# --------------------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with ArmEmulator(tmp_path_factory.mktemp("arm"), operation_seconds=OP_SECONDS, retry_after=0.05) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.reset()
    emu.settings(operation_seconds=OP_SECONDS, retry_after=0.05)
    yield


@pytest.fixture(scope="module")
def cred(emu):
    return ClientSecretCredential(emu.tenant_id, emu.client_id, emu.client_secret, authority=emu.url,
                                  disable_instance_discovery=True, connection_verify=emu.ca_path)


def _client_kwargs(emu):
    return {"base_url": emu.url, "credential_scopes": [emu.url + "/.default"], "connection_verify": emu.ca_path}


@pytest.fixture(scope="module")
def rm(emu, cred):
    return ResourceManagementClient(cred, emu.subscription_id, **_client_kwargs(emu))


@pytest.fixture(scope="module")
def token(emu, cred):
    return cred.get_token(emu.url + "/.default").token


class Raw:
    """requests against the emulator with a valid token."""

    def __init__(self, emu, token):
        self.emu, self.token = emu, token
        self.s = requests.Session()
        self.s.trust_env = False  # else REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE from the environment beat session.verify
        self.s.verify = emu.ca_path

    def __call__(self, method, path, *, api=RG_API, body=None, auth=True, raw=None, params=None):
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        q = {} if api is None else {"api-version": api}
        q.update(params or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        return self.s.request(method, self.emu.url + path, params=q, data=data, headers=headers, timeout=10)

    def rg(self, name):
        return f"/subscriptions/{self.emu.subscription_id}/resourcegroups/{name}"


@pytest.fixture
def raw(emu, token):
    return Raw(emu, token)


def ensure_registered(emu, rtype):
    if not any(t.type_name == rtype.type_name for t in emu.engine.types):
        emu.register(rtype)


def arm_log(emu):
    return [r for r in emu.requests if r["kind"] == "arm"]


# --------------------------------------------------------------------------------------------------------------
# Entra token endpoint


def test_token_flow_with_real_credential(emu, cred):
    emu.clear_requests()
    fresh = ClientSecretCredential(emu.tenant_id, emu.client_id, emu.client_secret, authority=emu.url,
                                   disable_instance_discovery=True, connection_verify=emu.ca_path)
    tok = fresh.get_token(emu.url + "/.default")
    assert tok.token.startswith("emu.") and tok.expires_on > time.time() + 3000
    paths = [(r["method"], r["path"], r["status"]) for r in emu.requests]
    assert paths == [
        ("GET", f"/{emu.tenant_id}/v2.0/.well-known/openid-configuration", 200),
        ("POST", f"/{emu.tenant_id}/oauth2/v2.0/token", 200),
    ]
    dumped = json.dumps(emu.requests)
    assert emu.client_secret not in dumped and tok.token not in dumped


def test_wrong_secret_and_unknown_client_fail_auth(emu, raw):
    bad = ClientSecretCredential(emu.tenant_id, emu.client_id, "not-the-secret", authority=emu.url,
                                 disable_instance_discovery=True, connection_verify=emu.ca_path)
    rm_bad = ResourceManagementClient(bad, emu.subscription_id, **_client_kwargs(emu))
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        rm_bad.resource_groups.create_or_update("rg-x", {"location": "eastus"})
    token_calls = [r for r in emu.requests if r["path"].endswith("/oauth2/v2.0/token")]
    assert token_calls and token_calls[-1]["status"] == 401 and token_calls[-1]["body"] is None
    assert arm_log(emu) == []  # no ARM request went out without a token

    r = raw.s.post(f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/token",
                   data={"grant_type": "client_credentials", "client_id": "someone-else", "client_secret": "x",
                         "scope": emu.url + "/.default"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert r.json()["error_codes"] == [700016]


def test_arm_requires_token_api_version_and_subscription(emu, raw):
    r = raw("GET", raw.rg("x"), auth=False)
    assert r.status_code == 401 and r.json()["error"]["code"] == "AuthenticationFailed"
    assert "WWW-Authenticate" in r.headers
    r = raw.s.get(emu.url + raw.rg("x"), params={"api-version": RG_API}, headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "AuthenticationFailed"
    r = raw("GET", raw.rg("x"), api=None)
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"
    r = raw("GET", raw.rg("x"), api="2000-01-01")
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidApiVersionParameter"
    assert RG_API in r.json()["error"]["message"]
    r = raw("GET", "/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups/x")
    assert r.status_code == 404 and r.json()["error"]["code"] == "SubscriptionNotFound"
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["x-ms-request-id"] and r.headers["x-ms-correlation-request-id"]


# --------------------------------------------------------------------------------------------------------------
# resource groups through the SDK


def test_resource_group_lifecycle(emu, rm):
    created = rm.resource_groups.create_or_update("MyRG", {"location": "West Europe", "tags": {"env": "test"}})
    assert created.id == f"/subscriptions/{emu.subscription_id}/resourceGroups/MyRG"
    assert (created.name, created.type, created.location) == ("MyRG", "Microsoft.Resources/resourceGroups",
                                                              "westeurope")
    assert created.properties.provisioning_state == "Succeeded"
    updated = rm.resource_groups.create_or_update("myrg", {"location": "westeurope", "tags": {"env": "prod"},
                                                           "managedBy": "/subscriptions/x/y"})
    assert updated.name == "MyRG" and updated.tags == {"env": "prod"} and updated.managed_by == "/subscriptions/x/y"
    assert [(r["method"], r["status"]) for r in arm_log(emu)] == [("PUT", 201), ("PUT", 200)]

    assert rm.resource_groups.get("MYRG").tags == {"env": "prod"}
    assert rm.resource_groups.check_existence("myRg") is True
    rm.resource_groups.create_or_update("other", {"location": "eastus"})
    assert sorted(g.name for g in rm.resource_groups.list()) == ["MyRG", "other"]
    patched = rm.resource_groups.update("MyRG", {"tags": {"a": "1"}})
    assert patched.tags == {"a": "1"} and patched.location == "westeurope"

    rm.resource_groups.begin_delete("MyRG").result()
    assert rm.resource_groups.check_existence("MyRG") is False
    with pytest.raises(ResourceNotFoundError) as exc:
        rm.resource_groups.get("MyRG")
    assert exc.value.error.code == "ResourceGroupNotFound"
    delete = [r for r in arm_log(emu) if r["method"] == "DELETE"]
    polls = [r for r in arm_log(emu) if "/operationresults/" in r["path"]]
    assert delete[0]["status"] == 202 and polls[-1]["status"] == 200 and polls[0]["status"] == 202
    assert [g.name for g in rm.resource_groups.list()] == ["other"]


def test_resource_group_location_cannot_change(rm):
    rm.resource_groups.create_or_update("rg1", {"location": "eastus"})
    with pytest.raises(HttpResponseError) as exc:
        rm.resource_groups.create_or_update("rg1", {"location": "westus"})
    assert exc.value.status_code == 409 and exc.value.error.code == "InvalidResourceGroupLocation"
    assert "'westus'" in exc.value.error.message and "'eastus'" in exc.value.error.message


def test_resource_group_delete_window_and_cascade(emu, raw):
    emu.settings(operation_seconds=0.6)
    assert raw("PUT", raw.rg("Grp"), body={"location": "eastus"}).status_code == 201
    # a child resource in the store (a registered dummy type) disappears with the group
    things = "/subscriptions/{s}/resourceGroups/{rg}/providers/Test.Cascade/things/{name}"
    ensure_registered(emu, ResourceType(path=things, api_versions=("2024-01-01",)))
    thing = raw.rg("grp") + "/providers/Test.Cascade/things/t1"
    r = raw("PUT", thing, api="2024-01-01", body={"location": "eastus", "properties": {"a": 1}})
    assert r.status_code == 201 and r.json()["id"].endswith("/resourceGroups/grp/providers/Test.Cascade/things/t1")
    r = raw("DELETE", raw.rg("grp"))
    assert r.status_code == 202 and r.headers["retry-after-ms"] == "50"
    assert "/operationresults/" in r.headers["Location"] and "Azure-AsyncOperation" not in r.headers
    assert raw("GET", raw.rg("grp")).json()["properties"]["provisioningState"] == "Deleting"
    r = raw("PUT", raw.rg("grp"), body={"location": "eastus"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "ResourceGroupBeingDeleted"
    assert raw("GET", thing, api="2024-01-01").status_code == 200  # children stay visible until the end
    location = raw("DELETE", raw.rg("grp")).headers["Location"]  # deleting again: same operation
    assert location.startswith(emu.url)
    deadline = time.monotonic() + 5
    while raw.s.get(location, headers={"Authorization": f"Bearer {raw.token}"}).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert raw("GET", raw.rg("grp")).json()["error"]["code"] == "ResourceGroupNotFound"
    assert raw("GET", thing, api="2024-01-01").json()["error"]["code"] == "ResourceGroupNotFound"
    assert emu.resources()["resources"] == []
    r = raw("DELETE", raw.rg("grp"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceGroupNotFound"


# --------------------------------------------------------------------------------------------------------------
# faults survived by the SDK's retry policy


def test_throttling_and_unavailable_are_retried(emu, rm):
    rm.resource_groups.create_or_update("rg1", {"location": "eastus"})
    emu.clear_requests()
    emu.add_fault({"method": "GET", "path": r"/resourcegroups/rg1$", "action": "status", "status": 503})
    emu.add_fault(method="GET", path=r"/resourcegroups/rg1$", action="status", status=429, retry_after=1)
    t0 = time.monotonic()
    assert rm.resource_groups.get("rg1").name == "rg1"
    log = arm_log(emu)
    assert [(r["method"], r["status"], r.get("fault")) for r in log] == [
        ("GET", 503, "status"), ("GET", 429, "status"), ("GET", 200, None)]
    assert log[2]["time"] - log[1]["time"] >= 0.9  # Retry-After: 1 was honoured
    assert time.monotonic() - t0 < 5
    assert emu.engine.faults == []  # both faults used up


def test_dropped_connection_is_retried(emu, rm):
    rm.resource_groups.create_or_update("rg1", {"location": "eastus"})
    emu.clear_requests()
    emu.add_fault(method="GET", path="rg1", action="drop")
    assert rm.resource_groups.get("rg1").location == "eastus"
    assert [(r["status"], r.get("fault")) for r in arm_log(emu)] == [(None, "drop"), (200, None)]


# --------------------------------------------------------------------------------------------------------------
# body validation


def test_validation_errors_name_every_path(raw):
    r = raw("PUT", raw.rg("bad"), body={"location": 3, "tags": {"a": 1, "b": "ok"}, "id": "/x",
                                        "properties": {"provisioningState": "Succeeded"}, "colour": "red"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "InvalidRequestContent"
    targets = {d["target"]: d["code"] for d in err["details"]}
    assert targets == {"location": "InvalidType", "tags.a": "InvalidType", "id": "ReadOnlyProperty",
                       "properties.provisioningState": "ReadOnlyProperty", "colour": "UnknownProperty"}
    for path in targets:
        assert f"'{path}'" in err["message"]
    assert err["target"] in targets
    assert raw("GET", raw.rg("bad")).status_code == 404  # nothing was stored

    r = raw("PUT", raw.rg("bad"), body={"tags": {}})
    assert r.status_code == 400 and r.json()["error"]["details"][0] == {
        "code": "MissingRequiredProperty", "message": "The required property 'location' is missing.",
        "target": "location"}
    r = raw("PUT", raw.rg("bad"), raw="{not json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequestContent"
    r = raw("PUT", raw.rg("bad%21name"), body={"location": "eastus"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidResourceName"
    assert raw("PUT", raw.rg("good"), body={"location": "eastus"}).status_code == 201
    r = raw("PATCH", raw.rg("good"), body={"tags": {"n": 1}})
    assert r.status_code == 400 and r.json()["error"]["target"] == "tags.n"


@pytest.mark.parametrize("name, body, code, needle", [
    ("rg1", {"location": "westeurop"}, "LocationNotAvailableForResourceGroup",
     "The provided location 'westeurop' is not available for resource group. List of available regions is '"),
    ("rg-ends-with-dot.", {"location": "eastus"}, "InvalidResourceGroup", "cannot end with a period"),
    ("a" * 91, {"location": "eastus"}, "InvalidResourceName", "path parameter 'resourceGroupName'"),
    ("rg1", {"location": "eastus", "tags": {"a/b": "x"}}, "InvalidTagNameCharacters",
     "The tag names 'a/b' have reserved characters"),
    ("rg1", {"location": "eastus", "tags": {"a" * 513: "x"}}, "InvalidTagNameLength", "512"),
    ("rg1", {"location": "eastus", "tags": {"a": "x" * 257}}, "InvalidTagValueLength", "256"),
    ("rg1", {"location": "eastus", "tags": {f"t{i}": "x" for i in range(51)}}, "InvalidTagCount", "50"),
])
def test_arm_refuses_locations_tags_and_group_names(raw, name, body, code, needle):
    r = raw("PUT", raw.rg(name), body=body)
    assert r.status_code == 400 and r.json()["error"]["code"] == code and needle in r.json()["error"]["message"]
    assert raw("GET", raw.rg("rg1")).status_code == 404  # nothing was stored


def test_tags_patch_and_other_resources_follow_the_same_rules(emu, raw):
    from tests.bed.arm_emulator.identity import MSI_API_VERSION, USER_ASSIGNED_IDENTITIES
    ensure_registered(emu, USER_ASSIGNED_IDENTITIES)
    assert raw("PUT", raw.rg("rg1"), body={"location": "West Europe", "tags": {"a" * 512: "v" * 256}}).status_code == 201
    r = raw("PATCH", raw.rg("rg1"), body={"tags": {"a?b": "x"}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidTagNameCharacters"
    uai = raw.rg("rg1") + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
    r = raw("PUT", uai, body={"location": "mars"}, api=MSI_API_VERSION)
    assert r.status_code == 400 and r.json()["error"]["code"] == "LocationNotAvailableForResourceType"
    assert "'Microsoft.ManagedIdentity/userAssignedIdentities'" in r.json()["error"]["message"]


def test_validator_on_project_aks_spec():
    assert AKS_SPEC.is_file() and REPO in AKS_SPEC.parents
    v = SchemaValidator(AKS_SPEC)
    good = {
        "location": "eastus2",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {"/subscriptions/s/rg/id1": {}}},
        "sku": {"name": "Base", "tier": "Standard"},
        "properties": {
            "dnsPrefix": "ai1",
            "agentPoolProfiles": [{"name": "system", "mode": "System", "count": 3, "vmSize": "Standard_D4s_v5"}],
            "networkProfile": {"networkPlugin": "azure", "podCidr": "10.244.0.0/16", "dnsServiceIP": "10.0.0.10"},
            "oidcIssuerProfile": {"enabled": True},
            "autoScalerProfile": {"balance-similar-node-groups": "true"},
        },
    }
    assert v.validate("ManagedCluster", good) == []
    bad = copy.deepcopy(good)
    bad["properties"]["agentPoolProfiles"][0]["count"] = "3"            # wrong type
    bad["properties"]["agentPoolProfiles"][0]["name"] = "System_Pool"   # pattern ^[a-z][a-z0-9]{0,11}$
    bad["properties"]["fqdn"] = "x.example"                             # readOnly
    bad["properties"]["networkProfile"]["dnsServiceIP"] = "10.0.0.300"  # pattern
    bad["properties"]["enableRbac"] = True                              # unknown (it is enableRBAC)
    bad["identity"]["userAssignedIdentities"]["/subscriptions/s/rg/id1"] = {"clientId": "c"}  # readOnly in a map
    bad["sku"]["tier"] = 7
    del bad["location"]
    got = {(p.path, p.code) for p in v.validate("ManagedCluster", bad)}
    assert got == {
        ("location", "MissingRequiredProperty"),
        ("properties.agentPoolProfiles[0].count", "InvalidType"),
        ("properties.agentPoolProfiles[0].name", "InvalidPattern"),
        ("properties.fqdn", "ReadOnlyProperty"),
        ("properties.networkProfile.dnsServiceIP", "InvalidPattern"),
        ("properties.enableRbac", "UnknownProperty"),
        ("identity.userAssignedIdentities['/subscriptions/s/rg/id1'].clientId", "ReadOnlyProperty"),
        ("sku.tier", "InvalidType"),
    }
    pool = {"properties": {"count": 2, "osDiskSizeGB": 4096, "enableAutoScaling": "yes", "mode": "user"}}
    got = {(p.path, p.code) for p in v.validate("AgentPool", pool)}
    assert got == {("properties.osDiskSizeGB", "InvalidValue"), ("properties.enableAutoScaling", "InvalidType")}


def test_validator_on_sdk_bodies():
    bodies = json.loads(SDK_BODIES.read_text())
    v = SchemaValidator(AKS_SPEC)
    assert v.validate("ManagedCluster", bodies["managedCluster_PUT_body"]) == []
    assert v.validate("AgentPool", bodies["agentPool_PUT_body"]) == []
    broken = copy.deepcopy(bodies["managedCluster_PUT_body"])
    broken["properties"]["agentPoolProfiles"][0]["count"] = 2.5
    broken["properties"]["serviceMeshProfile"]["istio"]["revisions"] = ["asm-1-28", "asm-1-28"]
    broken["properties"]["aiToolchainOperatorProfile"]["enabled"] = "true"
    got = {(p.path, p.code) for p in v.validate("ManagedCluster", broken)}
    assert got == {
        ("properties.agentPoolProfiles[0].count", "InvalidType"),
        ("properties.serviceMeshProfile.istio.revisions", "DuplicateItems"),
        ("properties.aiToolchainOperatorProfile.enabled", "InvalidType"),
    }
    pool = copy.deepcopy(bodies["agentPool_PUT_body"])
    pool["properties"]["nodeTaints"] = "sku=gpu:NoSchedule"
    pool["properties"]["provisioningState"] = "Succeeded"
    got = {(p.path, p.code) for p in v.validate("AgentPool", pool)}
    assert got == {("properties.nodeTaints", "InvalidType"), ("properties.provisioningState", "ReadOnlyProperty")}


# --------------------------------------------------------------------------------------------------------------
# async resource types (AKS managedClusters registered only inside this test)


def _aks_types():
    def compute(ctx: PutContext) -> None:
        props = ctx.doc["properties"]
        if props.get("dnsPrefix") == "forbidden":
            raise ArmError(400, "InvalidDNSPrefix", "dnsPrefix 'forbidden' is not allowed.", target="dnsPrefix")
        props["fqdn"] = f"{props.get('dnsPrefix', ctx.name)}.hcp.{ctx.doc['location']}.azmk8s.io"
        props.setdefault("kubernetesVersion", "1.33.2")

    base = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers"
    clusters = ResourceType(path=base + "/Microsoft.ContainerService/managedClusters/{resourceName}",
                            api_versions=(AKS_API_VERSION,), spec=AKS_SPEC, definition="ManagedCluster",
                            patch_definition="TagsObject", async_put=True, async_delete=True, compute=compute)
    pools = ResourceType(path=base + "/Microsoft.ContainerService/managedClusters/{resourceName}"
                                     "/agentPools/{agentPoolName}",
                         api_versions=(AKS_API_VERSION,), spec=AKS_SPEC, definition="AgentPool",
                         async_put=True, async_delete=True, system_data=False)
    return clusters, pools


def test_async_put_delete_with_real_aks_sdk(emu, cred, rm, raw):
    for rtype in _aks_types():
        ensure_registered(emu, rtype)
    aks = ContainerServiceClient(cred, emu.subscription_id, **_client_kwargs(emu))
    body = {"location": "eastus2", "tags": {"env": "test"}, "identity": {"type": "SystemAssigned"},
            "properties": {"dnsPrefix": "ai1", "agentPoolProfiles": [
                {"name": "system", "mode": "System", "count": 1, "vmSize": "Standard_D4s_v5"}]}}
    with pytest.raises(ResourceNotFoundError) as exc:
        aks.managed_clusters.begin_create_or_update("rg1", "ai1", body).result()
    assert exc.value.error.code == "ResourceGroupNotFound"

    rm.resource_groups.create_or_update("rg1", {"location": "eastus2"})
    emu.clear_requests()
    mc = aks.managed_clusters.begin_create_or_update("rg1", "ai1", body, polling_interval=0.05).result()
    assert mc.provisioning_state == "Succeeded" and mc.fqdn == "ai1.hcp.eastus2.azmk8s.io"
    log = arm_log(emu)
    assert (log[0]["method"], log[0]["status"]) == ("PUT", 201)
    statuses = [r for r in log if "/operations/" in r["path"]]
    assert statuses and statuses[0]["path"].startswith(
        f"/subscriptions/{emu.subscription_id}/providers/Microsoft.ContainerService/locations/eastus2/operations/")

    mc_path = raw.rg("rg1") + "/providers/Microsoft.ContainerService/managedClusters/ai1"
    r = raw("PUT", mc_path, api=AKS_API_VERSION, body=body)  # update: 200 + Updating + Azure-AsyncOperation
    assert r.status_code == 200 and r.json()["properties"]["provisioningState"] == "Updating"
    op_url = r.headers["Azure-AsyncOperation"]
    assert op_url.startswith(emu.url) and r.headers["retry-after-ms"] == "50"
    status = raw.s.get(op_url, headers={"Authorization": f"Bearer {raw.token}"}).json()
    assert status["status"] == "InProgress" and status["name"] in op_url and "startTime" in status
    r2 = raw("PUT", mc_path, api=AKS_API_VERSION, body=body)
    assert r2.status_code == 409 and r2.json()["error"]["code"] == "OperationNotAllowed"
    assert "in progress" in r2.json()["error"]["message"]
    r3 = raw("DELETE", mc_path, api=AKS_API_VERSION)
    assert r3.status_code == 409 and r3.json()["error"]["code"] == "OperationNotAllowed"
    time.sleep(OP_SECONDS + 0.05)
    status = raw.s.get(op_url, headers={"Authorization": f"Bearer {raw.token}"}).json()
    assert status["status"] == "Succeeded" and status["percentComplete"] == 100 and "endTime" in status

    # hook errors and spec validation go through the SDK as HttpResponseError
    with pytest.raises(HttpResponseError) as exc:
        aks.managed_clusters.begin_create_or_update("rg1", "ai2", dict(body, properties=dict(
            body["properties"], dnsPrefix="forbidden")))
    assert exc.value.status_code == 400 and exc.value.error.code == "InvalidDNSPrefix"
    r = raw("PUT", mc_path, api=AKS_API_VERSION,
            body=dict(body, properties=dict(body["properties"], agentPoolProfiles=[{"name": "x", "count": "1"}])))
    assert r.status_code == 400 and r.json()["error"]["target"] == "properties.agentPoolProfiles[0].count"

    # child type: agent pool under the cluster
    pool = aks.agent_pools.begin_create_or_update("rg1", "ai1", "gpu", {"properties": {"count": 0, "mode": "User"}},
                                                  polling_interval=0.05).result()
    assert pool.provisioning_state == "Succeeded" and pool.id.endswith("/managedClusters/ai1/agentPools/gpu")
    with pytest.raises(ResourceNotFoundError) as exc:
        aks.agent_pools.get("rg1", "nope", "gpu")
    assert exc.value.error.code == "ResourceNotFound" and "managedClusters/nope" in exc.value.error.message
    assert [c.name for c in aks.managed_clusters.list()] == ["ai1"]
    assert [p.name for p in aks.agent_pools.list("rg1", "ai1")] == ["gpu"]

    # fail_operation: the next matching async operation fails
    emu.add_fault(method="PUT", path="managedClusters/ai1$", action="fail_operation",
                  error={"code": "QuotaExceeded", "message": "Not enough cores."})
    with pytest.raises(HttpResponseError) as exc:
        aks.managed_clusters.begin_create_or_update("rg1", "ai1", body, polling_interval=0.05).result()
    assert "QuotaExceeded" in str(exc.value)
    assert aks.managed_clusters.get("rg1", "ai1").provisioning_state == "Failed"

    # delete: 202 with both polling headers, the cluster and its pools disappear; deleting again is 204
    emu.clear_requests()
    aks.managed_clusters.begin_delete("rg1", "ai1", polling_interval=0.05).result()
    first = arm_log(emu)[0]
    assert (first["method"], first["status"]) == ("DELETE", 202)
    with pytest.raises(ResourceNotFoundError):
        aks.managed_clusters.get("rg1", "ai1")
    assert emu.get_resource(mc_path + "/agentPools/gpu") is None
    assert raw("DELETE", mc_path, api=AKS_API_VERSION).status_code == 204
    r = raw("DELETE", mc_path, api=AKS_API_VERSION)
    assert "Azure-AsyncOperation" not in r.headers and r.content == b""


# --------------------------------------------------------------------------------------------------------------
# control API and CLI


def test_control_api_over_http(emu, raw):
    ctl = emu.url + "/_emulator"
    r = raw.s.post(ctl + "/faults", json={"method": "PUT", "path": "resourcegroups/flaky", "action": "status",
                                          "status": 500, "times": 2, "error": {"code": "Boom", "message": "b"}})
    assert r.status_code == 201 and r.json()["times"] == 2
    assert raw("PUT", raw.rg("flaky"), body={"location": "eastus"}).json()["error"]["code"] == "Boom"
    assert raw("PUT", raw.rg("flaky"), body={"location": "eastus"}).status_code == 500
    assert raw("PUT", raw.rg("flaky"), body={"location": "eastus"}).status_code == 201
    assert raw.s.get(ctl + "/faults").json() == []
    assert raw.s.post(ctl + "/faults", json={"action": "explode"}).status_code == 400

    r = raw.s.post(ctl + "/settings", json={"operation_seconds": 0.1, "retry_after": 2})
    assert r.json() == {"operation_seconds": 0.1, "retry_after": 2.0}
    r = raw("DELETE", raw.rg("flaky"))
    assert r.headers["Retry-After"] == "2"

    log = raw.s.get(ctl + "/requests").json()
    assert [(e["method"], e["status"]) for e in log] == [("PUT", 500), ("PUT", 500), ("PUT", 201), ("DELETE", 202)]
    assert log[2]["body"] == {"location": "eastus"} and log[2]["query"] == {"api-version": RG_API}
    assert not any("_emulator" in e["path"] for e in log)
    dump = raw.s.get(ctl + "/resources").json()
    assert dump["resources"][0]["name"] == "flaky" and dump["operations"][0]["kind"] == "delete"
    assert raw.s.delete(ctl + "/requests").json() == {"cleared": 4}
    assert emu.requests == []
    raw.s.post(ctl + "/faults", json={"action": "drop"})
    assert raw.s.delete(ctl + "/faults").json() == {"cleared": 1}


def test_cli_serve_writes_state_and_stops_on_sigterm(tmp_path):
    state = tmp_path / "arm.json"
    proc = subprocess.Popen([sys.executable, "-m", "tests.bed.arm_emulator", "serve", "--state-dir", str(tmp_path)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 20
        while not state.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        info = json.loads(state.read_text())
        assert set(info) == {"url", "ca_path", "tenant_id", "client_id", "client_secret", "subscription_id", "pid"}
        assert info["pid"] == proc.pid and info["url"].startswith("https://127.0.0.1:")
        r = requests.get(info["url"] + "/_emulator/health", verify=info["ca_path"], timeout=5)
        assert r.json() == {"status": "ok"}
        r = requests.post(f"{info['url']}/{info['tenant_id']}/oauth2/v2.0/token", verify=info["ca_path"], timeout=5,
                          data={"grant_type": "client_credentials", "client_id": info["client_id"],
                                "client_secret": info["client_secret"], "scope": info["url"] + "/.default"})
        assert r.status_code == 200 and r.json()["token_type"] == "Bearer"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert not state.exists()
