"""The emulated AKS resource provider, driven by the real azure-mgmt-containerservice SDK, with Nodes and Entra tokens
checked on a real kube-apiserver (tests/bed/arm_emulator/aks.py, tests/bed/kube_nodes.py)."""

from __future__ import annotations

import base64
import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import kubernetes
import pytest
import requests
import yaml
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.bed.arm_emulator import AKS_API_VERSION, AKS_SERVER_SCOPE, aks_bed_session
from tests.bed.kube_nodes import instance_suffix, parse_taint

REPO = Path(__file__).resolve().parents[3]
OP_SECONDS = 0.3
POLL = {"polling_interval": 0.05}

# What azure-mgmt-containerservice 41.8.0 serialises for a typical cluster and GPU pool (recorded from the SDK's
# serializer; the same file feeds test_arm_emulator.py's schema check).
SDK_BODIES = json.loads((Path(__file__).parent / "sdk_serialized_bodies.json").read_text())
MANAGED_CLUSTER_BODY = SDK_BODIES["managedCluster_PUT_body"]
GPU_POOL_BODY = SDK_BODIES["agentPool_PUT_body"]


def small_cluster(**props):
    """A minimal cluster body: one System pool of one node."""
    body = {"location": "eastus2", "properties": {
        "dnsPrefix": "small", "kubernetesVersion": "1.34",
        "agentPoolProfiles": [{"name": "system", "mode": "System", "count": 1, "vmSize": "Standard_D4ds_v5"}]}}
    body["properties"].update(props)
    return body


# --------------------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    yield from aks_bed_session(tmp_path_factory, operation_seconds=OP_SECONDS, retry_after=0.05)


@pytest.fixture(autouse=True)
def _clean(bed):
    bed.emulator.reset()  # also deletes the Nodes of the previous test's clusters
    bed.emulator.settings(operation_seconds=OP_SECONDS, retry_after=0.05)
    yield
    assert bed.nodes.errors == []


@pytest.fixture(scope="module")
def cred(bed):
    emu = bed.emulator
    return ClientSecretCredential(emu.tenant_id, emu.client_id, emu.client_secret, authority=emu.url,
                                  disable_instance_discovery=True, connection_verify=emu.ca_path)


def _kwargs(emu):
    return {"base_url": emu.url, "credential_scopes": [emu.url + "/.default"], "connection_verify": emu.ca_path}


@pytest.fixture(scope="module")
def aks(bed, cred):
    return ContainerServiceClient(cred, bed.emulator.subscription_id, **_kwargs(bed.emulator))


@pytest.fixture
def rg(bed, cred):
    rm = ResourceManagementClient(cred, bed.emulator.subscription_id, **_kwargs(bed.emulator))
    rm.resource_groups.create_or_update("rg1", {"location": "eastus2"})
    return "rg1"


@pytest.fixture(scope="module")
def core(bed):
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(
        config_file=str(bed.apiserver.kubeconfig)))


@pytest.fixture(scope="module")
def raw(bed, cred):
    s = requests.Session()
    s.trust_env = False
    s.verify = bed.emulator.ca_path
    s.headers["Authorization"] = "Bearer " + cred.get_token(bed.emulator.url + "/.default").token
    return s


def arm_url(bed, path):
    return f"{bed.emulator.url}/subscriptions/{bed.emulator.subscription_id}{path}"


def mc_path(name, group="rg1"):
    return f"/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name}"


def put(raw, bed, path, body):
    return raw.put(arm_url(bed, path), params={"api-version": AKS_API_VERSION}, json=body, timeout=10)


def wait_idle(bed, timeout=10.0):
    deadline = time.monotonic() + timeout
    while any(op["status"] == "InProgress" for op in bed.emulator.resources()["operations"]):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def error_of(exc_info):
    err = exc_info.value.error
    return exc_info.value.status_code, err.code, err.message


def _without(doc, *keys):
    return {k: v for k, v in doc.items() if k not in keys}


def node_names(core, cluster=None):
    sel = "kubernetes.azure.com/cluster" + (f"={cluster}" if cluster else "")
    return sorted(n.metadata.name for n in core.list_node(label_selector=sel).items)


# --------------------------------------------------------------------------------------------------------------
# clusters


def test_create_get_server_fields_and_round_trip(bed, aks, rg):
    bed.emulator.clear_requests()
    mc = aks.managed_clusters.begin_create_or_update(rg, "ai1", MANAGED_CLUSTER_BODY, **POLL).result()
    assert bed.env()["AZURE_ARM_ENDPOINT"] == bed.emulator.url
    first = [r for r in bed.emulator.requests if r["kind"] == "arm"][0]
    assert (first["method"], first["status"]) == ("PUT", 201)

    assert mc.provisioning_state == "Succeeded" and mc.power_state.code == "Running"
    assert mc.kubernetes_version == "1.34" and mc.current_kubernetes_version == "1.34.2"
    assert mc.fqdn.startswith("aks-ai1-") and mc.fqdn.endswith(".hcp.eastus2.azmk8s.io")
    assert mc.azure_portal_fqdn.endswith(".portal.hcp.eastus2.azmk8s.io")
    assert mc.node_resource_group == "MC_rg1_ai1_eastus2" and mc.max_agent_pools == 100 and mc.e_tag
    issuer = mc.oidc_issuer_profile.issuer_url
    assert issuer.startswith(f"https://eastus2.oic.prod-aks.azure.com/{bed.emulator.tenant_id}/") and issuer[-1] == "/"
    kubelet = mc.identity_profile["kubeletidentity"]
    assert kubelet.resource_id.endswith("/resourcegroups/MC_rg1_ai1_eastus2/providers/Microsoft.ManagedIdentity/"
                                        "userAssignedIdentities/ai1-agentpool") and kubelet.client_id
    uai = next(iter(mc.identity.user_assigned_identities.values()))
    assert uai.principal_id and uai.client_id
    (pool,) = mc.agent_pool_profiles
    assert (pool.name, pool.count, pool.os_sku, pool.type) == ("system", 3, "AzureLinux", "VirtualMachineScaleSets")
    assert (pool.os_disk_size_gb, pool.max_pods, pool.enable_fips) == (128, 250, False)
    assert pool.orchestrator_version == "1.34"
    assert pool.current_orchestrator_version == "1.34.2" and pool.provisioning_state == "Succeeded"
    assert pool.node_image_version.startswith("AKSAzureLinux-") and pool.e_tag

    # the agentPools view of the same pool
    same = aks.agent_pools.get(rg, "ai1", "system")
    assert same.vm_size == "Standard_D4ds_v5" and same.count == 3 and same.mode == "System"

    # GET body sent back (the SDK drops read-only fields): 200, nothing changes
    before = aks.managed_clusters.get(rg, "ai1").as_dict()
    bed.emulator.clear_requests()
    again = aks.managed_clusters.begin_create_or_update(rg, "ai1", aks.managed_clusters.get(rg, "ai1"), **POLL).result()
    puts = [r for r in bed.emulator.requests if r["method"] == "PUT"]
    assert [r["status"] for r in puts] == [200]
    after = again.as_dict()
    for doc in (before, after):
        doc["properties"]["agentPoolProfiles"] = [{k: v for k, v in p.items() if k != "eTag"}
                                                  for p in doc["properties"]["agentPoolProfiles"]]
    assert _without(after, "eTag", "systemData") == _without(before, "eTag", "systemData")
    assert after["eTag"] != before["eTag"]

    # a partial update keeps everything it does not name
    updated = aks.managed_clusters.begin_create_or_update(
        rg, "ai1", {"location": "eastus2", "tags": {"env": "prod"}, "properties": {"disableLocalAccounts": True}},
        **POLL).result()
    assert updated.tags == {"env": "prod"} and updated.disable_local_accounts is True
    assert updated.oidc_issuer_profile.issuer_url == issuer and updated.agent_pool_profiles[0].count == 3


def test_pools_stay_consistent_both_ways(bed, aks, rg, core):
    aks.managed_clusters.begin_create_or_update(rg, "c1", small_cluster(), **POLL).result()
    # agentPools API -> cluster view
    aks.agent_pools.begin_create_or_update(rg, "c1", "user1", {"properties": {"count": 2, "vmSize": "Standard_D2s_v5"}},
                                           **POLL).result()
    mc = aks.managed_clusters.get(rg, "c1")
    assert [(p.name, p.mode, p.count) for p in mc.agent_pool_profiles] == [("system", "System", 1),
                                                                           ("user1", "User", 2)]
    # cluster PUT -> pools: change one, add one; a pool it does not list is kept
    body = small_cluster()
    body["properties"]["agentPoolProfiles"] = [
        {"name": "system", "mode": "System", "count": 2, "vmSize": "Standard_D4ds_v5"},
        {"name": "user2", "mode": "User", "count": 1, "vmSize": "Standard_D2s_v5", "nodeLabels": {"a": "b"}}]
    mc = aks.managed_clusters.begin_create_or_update(rg, "c1", body, **POLL).result()
    assert [(p.name, p.count) for p in mc.agent_pool_profiles] == [("system", 2), ("user1", 2), ("user2", 1)]
    assert aks.agent_pools.get(rg, "c1", "system").count == 2
    user2 = aks.agent_pools.get(rg, "c1", "user2")
    assert user2.node_labels == {"a": "b"} and user2.provisioning_state == "Succeeded"
    assert sorted(p.name for p in aks.agent_pools.list(rg, "c1")) == ["system", "user1", "user2"]
    assert len(node_names(core, "MC_rg1_c1_eastus2")) == 2 + 2 + 1  # inline changes reach the Nodes too
    # delete through the agentPools API -> gone from the cluster view
    aks.agent_pools.begin_delete(rg, "c1", "user1", **POLL).result()
    assert [p.name for p in aks.managed_clusters.get(rg, "c1").agent_pool_profiles] == ["system", "user2"]

    # the last System pool can neither be deleted nor turned into a User pool
    with pytest.raises(HttpResponseError) as exc:
        aks.agent_pools.begin_delete(rg, "c1", "system")
    assert error_of(exc)[:2] == (400, "MustDefineAtLeastOneSystemPool")
    with pytest.raises(HttpResponseError) as exc:
        aks.agent_pools.begin_create_or_update(rg, "c1", "system", {"properties": {"mode": "User"}})
    assert error_of(exc)[:2] == (400, "MustDefineAtLeastOneSystemPool")
    body["properties"]["agentPoolProfiles"][0]["mode"] = "User"
    with pytest.raises(HttpResponseError) as exc:
        aks.managed_clusters.begin_create_or_update(rg, "c1", body)
    assert error_of(exc)[:2] == (400, "MustDefineAtLeastOneSystemPool")
    # ... but once another System pool exists, it can
    aks.agent_pools.begin_create_or_update(rg, "c1", "sys2", {"properties": {"mode": "System", "count": 1,
                                                                             "vmSize": "Standard_D4s_v5"}},
                                           **POLL).result()
    aks.agent_pools.begin_delete(rg, "c1", "system", **POLL).result()
    assert [p.name for p in aks.managed_clusters.get(rg, "c1").agent_pool_profiles] == ["user2", "sys2"]


def test_versions_upgrades_and_version_errors(bed, aks, rg):
    mc = aks.managed_clusters.begin_create_or_update(rg, "v1", small_cluster(kubernetesVersion="1.33.3"),
                                                     **POLL).result()
    assert mc.current_kubernetes_version == "1.33.3"
    aks.agent_pools.begin_create_or_update(rg, "v1", "pinned", {"properties": {
        "count": 1, "vmSize": "Standard_D2s_v5", "orchestratorVersion": "1.33.3"}}, **POLL).result()
    # pool newer than the control plane
    with pytest.raises(HttpResponseError) as exc:
        aks.agent_pools.begin_create_or_update(rg, "v1", "newer", {"properties": {"orchestratorVersion": "1.34"}})
    assert error_of(exc)[:2] == (400, "NodePoolMcVersionIncompatible")
    # unknown versions
    for version in ("1.31", "1.34.9", "latest"):
        with pytest.raises(HttpResponseError) as exc:
            aks.managed_clusters.begin_create_or_update(rg, "v2", small_cluster(kubernetesVersion=version))
        status, code, message = error_of(exc)
        assert (status, code) == (400, "AgentPoolK8sVersionNotSupported") and f"Version {version} is not" in message
    # skipping a minor
    with pytest.raises(HttpResponseError) as exc:
        aks.managed_clusters.begin_create_or_update(rg, "v1", small_cluster(kubernetesVersion="1.35"))
    status, code, message = error_of(exc)
    assert (status, code) == (400, "OperationNotAllowed") and "1.33.3 to 1.35.1 is not allowed" in message
    # one minor up: the control plane and the listed pools that follow it are upgraded, an unlisted pool is not
    bed.emulator.clear_requests()
    mc = aks.managed_clusters.begin_create_or_update(rg, "v1", {"location": "eastus2", "properties": {
        "kubernetesVersion": "1.34", "agentPoolProfiles": [{"name": "system"}]}}, **POLL).result()
    assert [r["status"] for r in bed.emulator.requests if r["method"] == "PUT"] == [200]
    assert mc.current_kubernetes_version == "1.34.2"
    versions = {p.name: (p.orchestrator_version, p.current_orchestrator_version) for p in mc.agent_pool_profiles}
    assert versions == {"system": ("1.34", "1.34.2"), "pinned": ("1.33.3", "1.33.3")}
    # a pool can't downgrade; it can follow one minor up
    with pytest.raises(HttpResponseError) as exc:
        aks.agent_pools.begin_create_or_update(rg, "v1", "system", {"properties": {"orchestratorVersion": "1.33.5"}})
    assert error_of(exc)[0] == 400 and "you can only upgrade one minor version at a time" in error_of(exc)[2]
    pinned = aks.agent_pools.begin_create_or_update(rg, "v1", "pinned", {"properties": {"orchestratorVersion": "1.34.1"}},
                                                    **POLL).result()
    assert pinned.current_orchestrator_version == "1.34.1"


def test_kubernetes_versions_list(bed, aks, raw):
    result = aks.managed_clusters.list_kubernetes_versions("eastus2")
    minors = [v.version for v in result.values_property]
    assert minors == ["1.32", "1.33", "1.34", "1.35"]
    by = {v.version: v for v in result.values_property}
    assert by["1.34"].is_default is True and not by["1.33"].is_default
    assert sorted(by["1.34"].patch_versions) == ["1.34.1", "1.34.2"]
    assert by["1.34"].patch_versions["1.34.1"].upgrades == ["1.34.2", "1.35.0", "1.35.1"]
    assert by["1.34"].capabilities.support_plan == ["KubernetesOfficial"]
    assert "AKSLongTermSupport" in by["1.33"].capabilities.support_plan
    url = arm_url(bed, "/providers/Microsoft.ContainerService/locations/eastus2/kubernetesVersions")
    r = raw.get(url, params={"api-version": "2020-01-01"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidApiVersionParameter"


POOL_IMMUTABLE_CASES = [
    ({"vmSize": "Standard_D8ds_v5"}, "properties.vmSize"),
    ({"osDiskSizeGB": 256}, "properties.osDiskSizeGB"),
    ({"maxPods": 60}, "properties.maxPods"),
    ({"scaleSetPriority": "Regular"}, "properties.scaleSetPriority"),
    ({"gpuInstanceProfile": "MIG2g"}, "properties.gpuInstanceProfile"),
    ({"availabilityZones": ["1", "2"]}, "properties.availabilityZones"),
    ({"gpuProfile": {"driver": "None"}}, "properties.gpuProfile.driver"),
    ({"osSKU": "Windows2022"}, "properties.osSKU"),
    ({"enableFIPS": True}, "properties.enableFIPS"),
]


def test_pool_immutable_fields(bed, aks, rg):
    aks.managed_clusters.begin_create_or_update(rg, "im", small_cluster(), **POLL).result()
    aks.agent_pools.begin_create_or_update(rg, "im", "gpu", GPU_POOL_BODY, **POLL).result()
    for change, field in POOL_IMMUTABLE_CASES:
        body = copy.deepcopy(GPU_POOL_BODY)
        body["properties"].update(change)
        with pytest.raises(HttpResponseError) as exc:
            aks.agent_pools.begin_create_or_update(rg, "im", "gpu", body)
        assert error_of(exc) == (400, "PropertyChangeNotAllowed", f"Changing property '{field}' is not allowed.")
    # mutable fields go through: count, autoscaler range, labels, taints, an allowed OS SKU migration
    ok = copy.deepcopy(GPU_POOL_BODY)
    ok["properties"].update({"maxCount": 6, "count": 1, "nodeLabels": {"accelerator": "a100"}, "osSKU": "AzureLinux"})
    pool = aks.agent_pools.begin_create_or_update(rg, "im", "gpu", ok, **POLL).result()
    assert (pool.max_count, pool.count, pool.os_sku) == (6, 1, "AzureLinux")
    # the service-added spot label stays next to the user's labels
    assert pool.node_labels == {"accelerator": "a100", "kubernetes.azure.com/scalesetpriority": "spot"}


def test_a_count_outside_a_changed_autoscaling_range_is_refused(bed, aks, rg):
    aks.managed_clusters.begin_create_or_update(rg, "ranged", small_cluster(), **POLL).result()
    auto = {"vmSize": "Standard_D2s_v5", "enableAutoScaling": True, "minCount": 0, "maxCount": 3}
    assert aks.agent_pools.begin_create_or_update(rg, "ranged", "p1", {"properties": auto}, **POLL).result().count == 0
    with pytest.raises(HttpResponseError) as exc:
        aks.agent_pools.begin_create_or_update(rg, "ranged", "p1", {"properties": dict(auto, minCount=2, count=0)})
    assert error_of(exc)[:2] == (400, "InvalidParameter") and "count (0) must be between minCount (2)" in error_of(exc)[2]
    raised = aks.agent_pools.begin_create_or_update(rg, "ranged", "p1", {"properties": dict(auto, minCount=2, count=2)}, **POLL).result()
    assert (raised.min_count, raised.count) == (2, 2)


def test_cluster_immutable_and_one_way_fields(bed, aks, rg):
    aks.managed_clusters.begin_create_or_update(rg, "ci", small_cluster(oidcIssuerProfile={"enabled": True}),
                                                **POLL).result()
    cases = [
        (small_cluster(dnsPrefix="other"), (400, "PropertyChangeNotAllowed"), "properties.dnsPrefix"),
        (small_cluster(nodeResourceGroup="MC_mine"), (400, "PropertyChangeNotAllowed"),
         "properties.nodeResourceGroup"),
        (small_cluster(oidcIssuerProfile={"enabled": False}), (400, "BadRequest"), "oidcIssuerProfile"),
        (dict(small_cluster(), location="westeurope"), (400, "PropertyChangeNotAllowed"), "location"),
    ]
    inline = small_cluster()
    inline["properties"]["agentPoolProfiles"][0]["vmSize"] = "Standard_D8ds_v5"
    cases.append((inline, (400, "PropertyChangeNotAllowed"), "properties.agentPoolProfiles[0].vmSize"))
    for body, expected, named in cases:
        with pytest.raises(HttpResponseError) as exc:
            aks.managed_clusters.begin_create_or_update(rg, "ci", body)
        status, code, message = error_of(exc)
        assert (status, code) == expected and named in message, (named, message)
    assert aks.managed_clusters.get(rg, "ci").dns_prefix == "small"


@pytest.mark.parametrize("what, pool, cluster_props, code, needle", [
    ("workload identity without OIDC", None, {"securityProfile": {"workloadIdentity": {"enabled": True}}},
     "BadRequest", "OIDC"),
    ("KAITO without OIDC", None, {"aiToolchainOperatorProfile": {"enabled": True}}, "BadRequest", "OIDC"),
    ("spot System pool", {"mode": "System", "scaleSetPriority": "Spot"}, {}, "InvalidParameter", "Spot"),
    ("min > max", {"enableAutoScaling": True, "minCount": 3, "maxCount": 2}, {}, "InvalidParameter", "minCount"),
    ("count outside min..max", {"enableAutoScaling": True, "minCount": 1, "maxCount": 2, "count": 5}, {},
     "InvalidParameter", "between"),
    ("autoscaling without range", {"enableAutoScaling": True}, {}, "InvalidParameter", "maxCount"),
    ("autoscaling with NAP", {"enableAutoScaling": True, "minCount": 1, "maxCount": 2},
     {"nodeProvisioningProfile": {"mode": "Auto"}}, "BadRequest", "auto-provisioning"),
    ("MIG on a CPU size", {"mode": "User", "gpuInstanceProfile": "MIG1g"}, {}, "InvalidParameter",
     "has no GPU"),
    ("MIG on a T4", {"mode": "User", "vmSize": "Standard_NC4as_T4_v3", "gpuInstanceProfile": "MIG1g"}, {},
     "InvalidParameter", "MIG"),
    ("unknown VM size", {"vmSize": "Standard_Bogus_v9"}, {}, "InvalidParameter",
     "The VM size of Standard_Bogus_v9 is not supported"),
    ("System pool of 0 nodes", {"count": 0}, {}, "InvalidParameter", "count (0)"),
    ("System pool on a 1-core size", {"vmSize": "Standard_DS1_v2"}, {}, "InvalidParameter", "System node pool"),
    ("bad taint", {"nodeTaints": ["sku=gpu:Sometimes"]}, {}, "InvalidParameter", "taint"),
    ("duplicate pool", "dup", {}, "InvalidParameter", "more than once"),
    ("kubernetes.azure.com label", {"nodeLabels": {"kubernetes.azure.com/mode": "user"}}, {}, "BadRequest",
     "The 'kubernetes.azure.com' prefix is preserved by aks system labels"),
    ("kubernetes.io label", {"nodeLabels": {"kubernetes.io/role": "gpu"}}, {}, "BadRequest",
     "must begin with an allowed prefix (kubelet.kubernetes.io, node.kubernetes.io)"),
    ("k8s.io label", {"nodeLabels": {"x.k8s.io/y": "z"}}, {}, "BadRequest", "'k8s.io' namespace"),
    ("duplicate taint", {"nodeTaints": ["gpu=a:NoSchedule", "gpu=b:NoSchedule"]}, {}, "InvalidParameter",
     "unique by key and effect"),
    ("DNS IP outside the service range", None, {"networkProfile": {"serviceCidr": "10.0.0.0/16",
                                                                   "dnsServiceIP": "10.1.0.10"}},
     "InvalidParameter", "networkProfile.dnsServiceIP is invalid: 10.1.0.10 must be an address inside"),
    ("DNS IP outside the default service range", None, {"networkProfile": {"dnsServiceIP": "172.16.0.10"}},
     "InvalidParameter", "10.0.0.0/16"),
    ("autoscaler duration", None, {"autoScalerProfile": {"scan-interval": "often"}}, "InvalidParameter",
     "Invalid value specified for the cluster-autoscaler parameter 'scan-interval'"),
    ("autoscaler minutes", None, {"autoScalerProfile": {"scale-down-delay-after-add": "30s"}}, "InvalidParameter",
     "'scale-down-delay-after-add'"),
    ("autoscaler fraction", None, {"autoScalerProfile": {"scale-down-utilization-threshold": "2"}},
     "InvalidParameter", "scale-down-utilization-threshold"),
    ("Entra group id", None, {"aadProfile": {"managed": True, "adminGroupObjectIDs": ["admins"]}}, "InvalidParameter",
     "aadProfile.adminGroupObjectIDs is invalid"),
    ("Istio revision", None, {"serviceMeshProfile": {"mode": "Istio", "istio": {"revisions": ["asm-1-20"]}}},
     "BadRequest", "Reason: Revision asm-1-20 is not supported by the service mesh add-on"),
])
def test_service_validation_errors(bed, aks, rg, what, pool, cluster_props, code, needle):
    body = small_cluster(**cluster_props)
    profiles = body["properties"]["agentPoolProfiles"]
    if pool == "dup":
        profiles.append(dict(profiles[0]))
    elif pool:
        profiles[0].update(pool)
        if profiles[0].get("mode") == "User":
            profiles.append({"name": "sys", "mode": "System", "count": 1, "vmSize": "Standard_D4s_v5"})
    with pytest.raises(HttpResponseError) as exc:
        aks.managed_clusters.begin_create_or_update(rg, "bad", body)
    status, got, message = error_of(exc)
    assert (status, got) == (400, code) and needle in message, what
    assert not any(r["name"] == "bad" for r in bed.emulator.resources()["resources"])


def test_schema_and_name_validation(bed, aks, rg, raw):
    aks.managed_clusters.begin_create_or_update(rg, "sv", small_cluster(), **POLL).result()
    r = put(raw, bed, mc_path("sv") + "/agentPools/Bad_Name", {"properties": {"count": 1}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidResourceName"
    r = put(raw, bed, mc_path("sv") + "/agentPools/p2", {"properties": {"count": "1", "colour": "red"}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequestContent"
    assert {d["target"] for d in r.json()["error"]["details"]} == {"properties.count", "properties.colour"}
    body = small_cluster()
    body["properties"]["agentPoolProfiles"][0]["name"] = "toolongpoolname"
    r = put(raw, bed, mc_path("sv"), body)
    assert r.status_code == 400 and r.json()["error"]["target"] == "properties.agentPoolProfiles[0].name"


def test_409_while_cluster_or_pool_busy(bed, aks, rg, raw):
    aks.managed_clusters.begin_create_or_update(rg, "busy", small_cluster(), **POLL).result()
    bed.emulator.settings(operation_seconds=1)
    # a pool operation blocks the cluster (PUT, PATCH, DELETE) and is blocked by nothing else
    r = put(raw, bed, mc_path("busy") + "/agentPools/p1", {"properties": {"count": 1, "vmSize": "Standard_D2s_v5"}})
    assert r.status_code == 201 and r.json()["properties"]["provisioningState"] == "Creating"
    profiles = aks.managed_clusters.get(rg, "busy").agent_pool_profiles
    assert {p.name: p.provisioning_state for p in profiles} == {"system": "Succeeded", "p1": "Creating"}
    with pytest.raises(ResourceExistsError) as exc:
        aks.managed_clusters.begin_create_or_update(rg, "busy", small_cluster())
    assert error_of(exc)[:2] == (409, "OperationNotAllowed") and "in progress" in error_of(exc)[2]
    with pytest.raises(ResourceExistsError):
        aks.managed_clusters.begin_update_tags(rg, "busy", {"tags": {"a": "b"}})
    with pytest.raises(ResourceExistsError):
        aks.managed_clusters.begin_delete(rg, "busy")
    with pytest.raises(ResourceExistsError):
        aks.agent_pools.begin_create_or_update(rg, "busy", "p1", {"properties": {"count": 2}})
    wait_idle(bed)
    # a cluster operation blocks its pools
    r = put(raw, bed, mc_path("busy"), small_cluster())
    assert r.status_code == 200 and r.json()["properties"]["provisioningState"] == "Updating"
    with pytest.raises(ResourceExistsError) as exc:
        aks.agent_pools.begin_create_or_update(rg, "busy", "p1", {"properties": {"count": 2}})
    assert error_of(exc)[:2] == (409, "OperationNotAllowed")
    with pytest.raises(ResourceExistsError):
        aks.agent_pools.begin_delete(rg, "busy", "p1")
    wait_idle(bed)
    assert aks.agent_pools.get(rg, "busy", "p1").provisioning_state == "Succeeded"


def test_entity_tags_refuse_writes_based_on_an_old_read(bed, aks, rg, raw):
    ifmatch = {"match_condition": MatchConditions.IfNotModified}
    first = aks.managed_clusters.begin_create_or_update(rg, "tagged", small_cluster(), **POLL).result()
    pool = aks.agent_pools.get(rg, "tagged", "system")
    assert first.e_tag and pool.e_tag
    # a write based on the current tag passes and issues a new one; the tags-only PATCH issues one too
    second = aks.managed_clusters.begin_create_or_update(rg, "tagged", small_cluster(), etag=first.e_tag, **ifmatch, **POLL).result()
    assert second.e_tag != first.e_tag
    patched = aks.managed_clusters.begin_update_tags(rg, "tagged", {"tags": {"a": "b"}}, etag=second.e_tag, **ifmatch, **POLL).result()
    assert patched.tags == {"a": "b"} and patched.e_tag != second.e_tag
    # a write based on an older read is refused, whatever the method
    for call in (lambda: aks.managed_clusters.begin_create_or_update(rg, "tagged", small_cluster(), etag=first.e_tag, **ifmatch),
                 lambda: aks.managed_clusters.begin_update_tags(rg, "tagged", {"tags": {}}, etag=second.e_tag, **ifmatch),
                 lambda: aks.managed_clusters.begin_delete(rg, "tagged", etag=first.e_tag, **ifmatch),
                 lambda: aks.agent_pools.begin_create_or_update(
                     rg, "tagged", "system", {"properties": {"count": 2}}, etag="stale", **ifmatch)):
        with pytest.raises(HttpResponseError) as exc:
            call()
        assert error_of(exc)[:2] == (412, "PreconditionFailed") and "does not match" in error_of(exc)[2]
    # If-None-Match: * creates only what does not exist yet
    with pytest.raises(HttpResponseError) as exc:
        aks.managed_clusters.begin_create_or_update(rg, "tagged", small_cluster(), match_condition=MatchConditions.IfMissing)
    assert error_of(exc)[:2] == (412, "PreconditionFailed") and "already exists" in error_of(exc)[2]
    made = aks.agent_pools.begin_create_or_update(rg, "tagged", "p2", {"properties": {"count": 1, "vmSize": "Standard_D2s_v5"}},
                                                  match_condition=MatchConditions.IfMissing, **POLL).result()
    assert made.e_tag
    # If-Match on a resource that does not exist is refused too
    with pytest.raises(HttpResponseError) as exc:
        aks.agent_pools.begin_create_or_update(rg, "tagged", "p3", {"properties": {"count": 1, "vmSize": "Standard_D2s_v5"}},
                                               match_condition=MatchConditions.IfPresent)
    assert error_of(exc)[:2] == (412, "PreconditionFailed")
    assert aks.agent_pools.get(rg, "tagged", "system").e_tag == pool.e_tag, "the refused pool write changed nothing"


def test_failed_operation_marks_cluster_and_pools(bed, aks, rg):
    bed.emulator.add_fault(method="PUT", path="managedClusters/ff$", action="fail_operation",
                           error={"code": "QuotaExceeded", "message": "Not enough cores."})
    with pytest.raises(HttpResponseError, match="QuotaExceeded"):
        aks.managed_clusters.begin_create_or_update(rg, "ff", small_cluster(), **POLL).result()
    mc = aks.managed_clusters.get(rg, "ff")
    assert mc.provisioning_state == "Failed" and mc.status.provisioning_error.code == "QuotaExceeded"
    assert aks.agent_pools.get(rg, "ff", "system").provisioning_state == "Failed"
    mc = aks.managed_clusters.begin_create_or_update(rg, "ff", small_cluster(), **POLL).result()  # reconcile
    assert mc.provisioning_state == "Succeeded" and mc.agent_pool_profiles[0].provisioning_state == "Succeeded"


# --------------------------------------------------------------------------------------------------------------
# credentials and Entra tokens on the apiserver


def _kubeconfig(result):
    (entry,) = result.kubeconfigs
    value = entry.value if isinstance(entry.value, bytes) else base64.b64decode(entry.value)
    return entry.name, yaml.safe_load(value)


def test_credentials_with_and_without_local_accounts(bed, aks, rg, tmp_path):
    aks.managed_clusters.begin_create_or_update(rg, "cr", small_cluster(), **POLL).result()
    name, cfg = _kubeconfig(aks.managed_clusters.list_cluster_admin_credentials(rg, "cr"))
    assert name == "clusterAdmin" and cfg["current-context"] == "cr-admin"
    assert cfg["clusters"][0]["cluster"]["server"] == bed.apiserver.url
    assert cfg["users"][0]["name"] == "clusterAdmin_rg1_cr" and cfg["users"][0]["user"]["token"]
    path = tmp_path / "admin.kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(path)))
    assert "kube-system" in [ns.metadata.name for ns in api.list_namespace().items]
    name, user_cfg = _kubeconfig(aks.managed_clusters.list_cluster_user_credentials(rg, "cr"))
    assert name == "clusterUser" and user_cfg["users"][0]["user"] == cfg["users"][0]["user"]

    aks.managed_clusters.begin_create_or_update(rg, "cr", small_cluster(disableLocalAccounts=True), **POLL).result()
    with pytest.raises(HttpResponseError) as exc:
        aks.managed_clusters.list_cluster_admin_credentials(rg, "cr")
    assert error_of(exc) == (400, "BadRequest", "Getting static credential is not allowed because this cluster is "
                                                "set to disable local accounts.")
    name, cfg = _kubeconfig(aks.managed_clusters.list_cluster_user_credentials(rg, "cr", format="exec"))
    exec_ = cfg["users"][0]["user"]["exec"]
    assert exec_["command"] == "kubelogin" and exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    args = exec_["args"]
    assert args[args.index("--server-id") + 1] == "6dae42f8-4368-4678-94ff-3960e28e3630"
    assert args[args.index("--tenant-id") + 1] == bed.emulator.tenant_id
    assert cfg["clusters"][0]["cluster"]["server"] == bed.apiserver.url


def _api_with_token(bed, token):
    conf = kubernetes.client.Configuration()
    conf.host = bed.apiserver.url
    conf.ssl_ca_cert = str(bed.apiserver.ca_path)
    conf.api_key = {"authorization": f"Bearer {token}"}
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(conf))


def test_entra_token_for_aks_scope_works_on_the_apiserver(bed, cred, raw):
    reviews = len(bed.aks.token_reviews)
    token = cred.get_token(AKS_SERVER_SCOPE).token
    names = [ns.metadata.name for ns in _api_with_token(bed, token).list_namespace().items]
    assert "default" in names
    assert bed.aks.token_reviews[reviews:] == [
        {"time": bed.aks.token_reviews[reviews]["time"], "authenticated": True, "user": bed.emulator.client_id}]
    for bad in ("garbage", cred.get_token(bed.emulator.url + "/.default").token):  # unknown; ARM audience
        with pytest.raises(kubernetes.client.ApiException) as exc:
            _api_with_token(bed, bad).list_namespace()
        assert exc.value.status == 401
    # ARM refuses the AKS-audience token
    r = requests.get(arm_url(bed, "/resourcegroups"), params={"api-version": "2025-04-01"}, timeout=10,
                     verify=bed.emulator.ca_path, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    # the webhook also speaks authentication.k8s.io/v1
    r = raw.post(bed.emulator.url + "/_emulator/tokenreview", timeout=10, json={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
        "spec": {"token": token, "audiences": ["https://kubernetes.default.svc.cluster.local"]}})
    assert r.json() == {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": {
        "authenticated": True, "audiences": ["https://kubernetes.default.svc.cluster.local"],
        "user": {"username": bed.emulator.client_id, "uid": bed.emulator.client_id, "groups": ["system:masters"]}}}


# --------------------------------------------------------------------------------------------------------------
# Nodes on the apiserver


def _nodes(core, pool):
    return sorted(core.list_node(label_selector=f"kubernetes.azure.com/agentpool={pool}").items,
                  key=lambda n: n.metadata.name)


def test_nodes_follow_pools(bed, aks, rg, core):
    body = small_cluster()
    body["properties"]["agentPoolProfiles"][0].update({"count": 3, "availabilityZones": ["1", "2"],
                                                       "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"]})
    aks.managed_clusters.begin_create_or_update(rg, "nd", body, **POLL).result()
    system = _nodes(core, "system")
    assert len(system) == 3
    prefix = system[0].metadata.name[:-6]
    assert [n.metadata.name for n in system] == [prefix + instance_suffix(i) for i in range(3)]
    assert prefix.startswith("aks-system-") and prefix.endswith("-vmss") and len(prefix.split("-")[2]) == 8
    labels = system[0].metadata.labels
    assert {k: labels[k] for k in ("agentpool", "kubernetes.azure.com/agentpool", "kubernetes.azure.com/mode",
                                   "node.kubernetes.io/instance-type", "topology.kubernetes.io/region",
                                   "kubernetes.io/os", "kubernetes.azure.com/cluster")} == {
        "agentpool": "system", "kubernetes.azure.com/agentpool": "system", "kubernetes.azure.com/mode": "system",
        "node.kubernetes.io/instance-type": "Standard_D4ds_v5", "topology.kubernetes.io/region": "eastus2",
        "kubernetes.io/os": "linux", "kubernetes.azure.com/cluster": "MC_rg1_nd_eastus2"}
    assert [n.metadata.labels["topology.kubernetes.io/zone"] for n in system] == ["eastus2-1", "eastus2-2",
                                                                                  "eastus2-1"]
    node = system[0]
    assert [(t.key, t.value, t.effect) for t in node.spec.taints] == [("CriticalAddonsOnly", "true", "NoSchedule")]
    assert [(c.type, c.status) for c in node.status.conditions if c.type == "Ready"] == [("Ready", "True")]
    assert node.status.allocatable["cpu"] == "3860m" and node.status.capacity["memory"] == "16Gi"
    assert node.status.node_info.kubelet_version == "v1.34.2" and not node.metadata.finalizers

    # a spot GPU pool: spot label + taint, nodeLabels/nodeTaints, nvidia.com/gpu (MIG1g on one A100 = 7)
    gpu = copy.deepcopy(GPU_POOL_BODY)
    gpu["properties"].update({"count": 2, "minCount": 1})
    aks.agent_pools.begin_create_or_update(rg, "nd", "gpu", gpu, **POLL).result()
    nodes = _nodes(core, "gpu")
    assert len(nodes) == 2
    labels = nodes[0].metadata.labels
    assert labels["kubernetes.azure.com/scalesetpriority"] == "spot" and labels["accelerator"] == "nvidia"
    assert labels["kubernetes.azure.com/accelerator"] == "nvidia"
    assert sorted((t.key, t.effect) for t in nodes[0].spec.taints) == [
        ("kubernetes.azure.com/scalesetpriority", "NoSchedule"), ("sku", "NoSchedule")]
    assert nodes[0].status.allocatable["nvidia.com/gpu"] == "7"

    # someone labels/taints a node and a pod runs on the last one; scale 2 -> 3 -> 1
    first = nodes[0].metadata.name
    core.patch_node(first, {"metadata": {"labels": {"team": "x"}}, "spec": {"unschedulable": True}})
    gpu["properties"]["count"] = 3
    aks.agent_pools.begin_create_or_update(rg, "nd", "gpu", gpu, **POLL).result()
    names = [n.metadata.name for n in _nodes(core, "gpu")]
    assert names == [nodes[0].metadata.name, nodes[1].metadata.name, nodes[0].metadata.name[:-6] + "000002"]
    core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod",
                                           "metadata": {"name": "on-last", "finalizers": ["test/keep"]},
                                           "spec": {"nodeName": names[2],
                                                    "containers": [{"name": "c", "image": "busybox"}]}})
    core.patch_node(names[2], {"metadata": {"finalizers": ["test/keep"]}})
    gpu["properties"]["count"] = 1
    gpu["properties"]["nodeLabels"] = {"tier": "gold"}
    gpu["properties"]["nodeTaints"] = []
    aks.agent_pools.begin_create_or_update(rg, "nd", "gpu", gpu, **POLL).result()
    (only,) = _nodes(core, "gpu")
    assert only.metadata.name == first  # scale-in removes the highest instance ids
    assert only.metadata.labels["tier"] == "gold" and "accelerator" not in only.metadata.labels
    assert only.metadata.labels["team"] == "x" and only.spec.unschedulable is True  # not the pool's: kept
    assert [(t.key, t.effect) for t in only.spec.taints] == [("kubernetes.azure.com/scalesetpriority", "NoSchedule")]
    assert core.list_namespaced_pod("default", field_selector="metadata.name=on-last").items == []

    # autoscaled with min 0 and count 0 -> no nodes; pool delete; cluster delete
    auto = {"properties": {"count": 0, "enableAutoScaling": True, "minCount": 0, "maxCount": 3,
                           "vmSize": "Standard_D2s_v5"}}
    aks.agent_pools.begin_create_or_update(rg, "nd", "auto", auto, **POLL).result()
    assert _nodes(core, "auto") == []
    aks.agent_pools.begin_delete(rg, "nd", "gpu", **POLL).result()
    assert _nodes(core, "gpu") == [] and len(_nodes(core, "system")) == 3
    node_rg = bed.emulator.get_resource(f"/subscriptions/{bed.emulator.subscription_id}/resourceGroups/"
                                        "MC_rg1_nd_eastus2")
    assert node_rg["managedBy"].endswith("/managedClusters/nd") and node_rg["location"] == "eastus2"
    aks.managed_clusters.begin_delete(rg, "nd", **POLL).result()
    assert node_names(core, "MC_rg1_nd_eastus2") == []
    assert bed.emulator.get_resource(node_rg["id"]) is None  # the node resource group goes with the cluster


def test_resource_group_delete_and_reset_remove_nodes(bed, aks, rg, cred, core):
    aks.managed_clusters.begin_create_or_update(rg, "g1", small_cluster(), **POLL).result()
    aks.managed_clusters.begin_create_or_update(rg, "g2", small_cluster(), **POLL).result()
    assert len(node_names(core)) == 2
    rm = ResourceManagementClient(cred, bed.emulator.subscription_id, **_kwargs(bed.emulator))
    rm.resource_groups.create_or_update("rg2", {"location": "westeurope"})
    aks.managed_clusters.begin_create_or_update("rg2", "g3", dict(small_cluster(), location="westeurope"),
                                                **POLL).result()
    assert node_names(core, "MC_rg2_g3_westeurope")
    rm.resource_groups.begin_delete("rg1", polling_interval=0.05).result()
    assert node_names(core) == node_names(core, "MC_rg2_g3_westeurope")
    bed.emulator.reset()
    assert node_names(core) == []


# --------------------------------------------------------------------------------------------------------------
# CLIs


def _wait_file(path, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return json.loads(path.read_text())


def test_cli_serve_with_kubeconfig(bed, tmp_path, core):
    proc = subprocess.Popen([sys.executable, "-m", "tests.bed.arm_emulator", "serve", "--state-dir", str(tmp_path),
                             "--kubeconfig", str(bed.apiserver.kubeconfig), "--operation-seconds", "0.2",
                             "--retry-after", "0.05"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        info = _wait_file(tmp_path / "arm.json", proc)
        s = requests.Session()
        s.trust_env = False
        s.verify = info["ca_path"]
        status = s.get(info["url"] + "/_emulator/aks", timeout=5).json()
        assert status["kubeconfig"] == str(bed.apiserver.kubeconfig)
        tok = s.post(f"{info['url']}/{info['tenant_id']}/oauth2/v2.0/token", timeout=5, data={
            "grant_type": "client_credentials", "client_id": info["client_id"],
            "client_secret": info["client_secret"], "scope": info["url"] + "/.default"}).json()["access_token"]
        s.headers["Authorization"] = f"Bearer {tok}"
        base = f"{info['url']}/subscriptions/{info['subscription_id']}"
        q = {"api-version": AKS_API_VERSION}
        assert s.put(f"{base}/resourcegroups/clirg", params={"api-version": "2025-04-01"}, timeout=5,
                     json={"location": "eastus2"}).status_code == 201
        r = s.put(f"{base}{mc_path('clic', 'clirg')}", params=q, json=small_cluster(), timeout=5)
        assert r.status_code == 201
        deadline = time.monotonic() + 10
        while s.get(f"{base}{mc_path('clic', 'clirg')}", params=q, timeout=5).json()["properties"][
                "provisioningState"] != "Succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert len(node_names(core, "MC_clirg_clic_eastus2")) == 1
        assert s.delete(f"{base}/resourcegroups/clirg", params={"api-version": "2025-04-01"},
                        timeout=5).status_code == 202
        deadline = time.monotonic() + 10
        while node_names(core, "MC_clirg_clic_eastus2"):  # the RG delete completes on the next request
            s.get(f"{base}/resourcegroups", params={"api-version": "2025-04-01"}, timeout=5)
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_bed_cli_starts_emulator_before_apiserver(tmp_path):
    bed_dir = tmp_path / "bed"
    out = subprocess.run([sys.executable, "-m", "tests.bed", "start", "--dir", str(bed_dir)], cwd=REPO,
                         capture_output=True, text=True, timeout=180, check=False)
    assert out.returncode == 0, out.stderr
    try:
        info = json.loads((bed_dir / "bed.json").read_text())
        arm, kube = info["arm"], info["kube"]
        assert kube["token_webhook"] == {"url": arm["url"] + "/_emulator/tokenreview", "ca_path": arm["ca_path"]}
        env_sh = (bed_dir / "env.sh").read_text()
        assert f"export AZURE_ARM_ENDPOINT={arm['url']}" in env_sh and "KUBECONFIG" in env_sh
        cred = ClientSecretCredential(arm["tenant_id"], arm["client_id"], arm["client_secret"], authority=arm["url"],
                                      disable_instance_discovery=True, connection_verify=arm["ca_path"])
        conf = kubernetes.client.Configuration()
        conf.host = kube["url"]
        conf.ssl_ca_cert = kube["ca_path"]
        conf.api_key = {"authorization": "Bearer " + cred.get_token(AKS_SERVER_SCOPE).token}
        api = kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(conf))
        assert "kube-system" in [ns.metadata.name for ns in api.list_namespace().items]
        status = requests.get(arm["url"] + "/_emulator/aks", verify=arm["ca_path"], timeout=5).json()
        assert status["kubeconfig"] == kube["kubeconfig"] and status["token_reviews"] >= 1
    finally:
        stop = subprocess.run([sys.executable, "-m", "tests.bed", "stop", "--dir", str(bed_dir)], cwd=REPO,
                              capture_output=True, text=True, timeout=60, check=False)
        assert stop.returncode == 0, stop.stderr


def test_parse_taint_and_instance_suffix():
    assert parse_taint("sku=gpu:NoSchedule") == {"key": "sku", "value": "gpu", "effect": "NoSchedule"}
    assert parse_taint("dedicated:NoExecute") == {"key": "dedicated", "effect": "NoExecute"}
    with pytest.raises(ValueError):
        parse_taint("novalue")
    assert [instance_suffix(i) for i in (0, 9, 10, 35, 36)] == ["000000", "000009", "00000a", "00000z", "000010"]


def test_emulator_and_module_agree_on_immutable_pool_fields():
    """The module refuses (or replaces blue/green) what the emulated AKS refuses to change on a pool. The one intended
    difference: AKS migrates osSKU between its Linux images in place, the module treats it as fixed."""
    from ansible_collections.aiplatform.aks.plugins.module_utils.aks.nodepool import IMMUTABLE_POOL_FIELDS
    from tests.bed.arm_emulator.aks import POOL_IMMUTABLE, POOL_IMMUTABLE_NESTED

    emulator = set(POOL_IMMUTABLE) | {".".join(path) for path in POOL_IMMUTABLE_NESTED}
    assert len(IMMUTABLE_POOL_FIELDS) == len(set(IMMUTABLE_POOL_FIELDS))
    assert set(IMMUTABLE_POOL_FIELDS) - {"osSKU"} == emulator


def test_allowed_labels_the_spot_label_and_good_settings_pass(bed, aks, rg):
    body = small_cluster(networkProfile={"serviceCidr": "10.2.0.0/16", "dnsServiceIP": "10.2.0.10"},
                         autoScalerProfile={"scan-interval": "20s", "expander": "least-waste",
                                            "scale-down-utilization-threshold": "0.5", "max-empty-bulk-delete": "10",
                                            "daemonset-eviction-for-empty-nodes": True},
                         aadProfile={"managed": True, "adminGroupObjectIDs": ["6f1c2a2e-9d7b-4b8e-a7a4-0c1d2e3f4a5b"]},
                         serviceMeshProfile={"mode": "Istio", "istio": {"revisions": ["asm-1-28"]}})
    body["properties"]["agentPoolProfiles"][0]["nodeLabels"] = {"node.kubernetes.io/pool": "sys", "kubernetes.io/os": "linux",
                                                                "node-role.kubernetes.io/system": ""}
    body["properties"]["agentPoolProfiles"][0]["nodeTaints"] = ["a=1:NoSchedule", "a=1:NoExecute"]
    cluster = aks.managed_clusters.begin_create_or_update(rg, "ok", body, **POLL).result()
    # the label AKS puts on spot pools comes back in nodeLabels; sending it back is accepted
    spot = {"mode": "User", "count": 1, "vmSize": "Standard_D4s_v5", "scaleSetPriority": "Spot"}
    pool = aks.agent_pools.begin_create_or_update(rg, "ok", "spot", {"properties": spot}, **POLL).result()
    assert pool.node_labels == {"kubernetes.azure.com/scalesetpriority": "spot"}
    again = aks.agent_pools.begin_create_or_update(rg, "ok", "spot", {"properties": dict(spot, nodeLabels=pool.node_labels)},
                                                   **POLL).result()
    assert again.node_labels == pool.node_labels and cluster.network_profile.dns_service_ip == "10.2.0.10"


def test_emulator_and_module_agree_on_autoscaler_settings():
    from ansible_collections.aiplatform.aks.plugins.module_utils.aks import cluster
    from tests.bed.arm_emulator import aks

    assert cluster.AUTOSCALER_KINDS == aks.AUTOSCALER_KINDS
    for kind in set(v for v in aks.AUTOSCALER_KINDS.values() if isinstance(v, str)):
        for value in ("10", "10m", "30s", "0.5", "true", "often", "101", "1.5"):
            assert cluster.autoscaler_value_ok(kind, value) == aks._autoscaler_value_ok(kind, value), (kind, value)
