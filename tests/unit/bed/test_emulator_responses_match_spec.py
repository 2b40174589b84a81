"""Every value the ARM emulator returns is one the API description allows: each response of a resource, as the
emulator returns it after creation (and after the operation finished), is walked against the description's
definition of that resource.

What the walk holds the emulator to (stricter than request validation, which follows ARM's leniency):

* types as declared (``integer``, ``boolean``, ``string`` ...), and no member the description does not declare;
* enum values spelled exactly as the description spells them, ``x-ms-enum.modelAsString`` or not: a client that
  compares with the SDK's enum constants (``NodeIPConfiguration``) must find them;
* ``x-ms-secret`` properties are never returned (ARM leaves secrets out of responses);
* a ``readOnly`` property is never one the request set: what the request carries the description lets clients write.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from azure.identity import ClientSecretCredential

from tests.bed.arm_emulator import (
    AKS_API_VERSION,
    AKS_SPEC,
    RESOURCE_GROUP_DEFAULT_API_VERSION,
    SPECS_DIR,
    ArmEmulator,
    SchemaValidator,
    register_aks,
)
from tests.bed.arm_emulator.identity import MSI_API_VERSION, ROLE_ASSIGNMENT_API_VERSION
from tests.bed.arm_emulator.monitor import (
    ACCOUNTS_SPEC,
    ASSOCIATIONS_SPEC,
    DATA_COLLECTION_API_VERSION,
    ENDPOINTS_SPEC,
    MONITOR_ACCOUNT_API_VERSION,
    PROMETHEUS_RULE_GROUP_API_VERSION,
    PROMETHEUS_RULE_GROUPS_SPEC,
    RULES_SPEC,
)
from tests.bed.arm_emulator.schema import _type_ok, join_path

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
PRINCIPAL = "6f1c2a2e-9d7b-4b8e-a7a4-0c1d2e3f4a5b"


class ResponseWalker:
    """Walks a response against a definition; `problems` lists what the description does not allow."""

    def __init__(self, spec):
        self.v = SchemaValidator(spec)

    def walk(self, definition, value):
        self.problems, self.read_only = [], set()
        self._walk({"$ref": f"#/definitions/{definition}"}, self.v.spec_file, value, "")
        return self.problems

    def _walk(self, schema, file, value, path, read_only=False):
        schema, file = self.v._deref(schema, file)
        read_only = read_only or bool(schema.get("readOnly"))
        if read_only:
            self.read_only.add(path)
        if value is None:
            return
        shape = self.v._shape(schema, file)
        types = shape.types or ({"object"} if shape.has_object_keywords else set())
        if types and not any(_type_ok(t, value) for t in types):
            self.problems.append(f"{path}: {json.dumps(value)} is not of type {'/'.join(sorted(types))}")
            return
        enum = schema.get("enum")
        if enum and value not in enum:
            self.problems.append(f"{path}: {json.dumps(value)} is not spelled as one of the description's values "
                                 f"{enum}")
        if isinstance(value, list):
            items = schema.get("items")
            for i, item in enumerate(value):
                if items is not None:
                    self._walk(items, file, item, join_path(path, i), read_only)
        elif isinstance(value, dict):
            for key, member in value.items():
                where = join_path(path, key)
                if key in shape.properties:
                    prop, prop_file = shape.properties[key]
                    resolved = self.v._deref(prop, prop_file)[0]
                    if resolved.get("x-ms-secret") or prop.get("x-ms-secret"):
                        self.problems.append(f"{where}: x-ms-secret property returned")
                    self._walk(prop, prop_file, member, where, read_only)
                elif isinstance(shape.additional, tuple):
                    self._walk(shape.additional[0], shape.additional[1], member, where, read_only)
                elif shape.additional is not True and (shape.properties or shape.additional is not None):
                    # (an object schema that declares no member at all is free-form, as AutoRest reads it)
                    self.problems.append(f"{where}: not a member of {shape.name or 'the object'}")


def _paths(value, path=""):
    """Every member path of a JSON value (list items and map values included)."""
    out = {path}
    if isinstance(value, dict):
        for key, member in value.items():
            out |= _paths(member, join_path(path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out |= _paths(item, join_path(path, i))
    return out


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with ArmEmulator(tmp_path_factory.mktemp("arm-walk"), operation_seconds=0.05, retry_after=0.02) as emu:
        register_aks(emu)
        yield emu


@pytest.fixture(scope="module")
def arm(emu):
    cred = ClientSecretCredential(emu.tenant_id, emu.client_id, emu.client_secret, authority=emu.url,
                                  disable_instance_discovery=True, connection_verify=emu.ca_path)
    s = requests.Session()
    s.trust_env = False
    s.verify = emu.ca_path
    s.headers["Authorization"] = "Bearer " + cred.get_token(emu.url + "/.default").token
    sub = f"{emu.url}/subscriptions/{emu.subscription_id}"

    def call(method, path, api, body=None):
        r = s.request(method, sub + path, params={"api-version": api}, json=body, timeout=10)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def settle(path, api, done=("Succeeded",)):
        for dummy in range(200):
            doc = call("GET", path, api)
            if (doc.get("properties") or {}).get("provisioningState", "Succeeded") in done:
                return doc
            time.sleep(0.02)  # the emulator finishes an operation on the first request after its duration
        raise AssertionError(f"{path} never settled")

    call.settle = settle
    return call


RG = "/resourceGroups/walk"
MC = RG + "/providers/Microsoft.ContainerService/managedClusters/walk"
UAI = RG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/walk-id"
AMW = RG + "/providers/Microsoft.Monitor/accounts/walk-amw"
DCE = RG + "/providers/Microsoft.Insights/dataCollectionEndpoints/walk-dce"
DCR = RG + "/providers/Microsoft.Insights/dataCollectionRules/walk-dcr"
CLUSTER_BODY = {
    "location": "eastus2", "identity": {"type": "SystemAssigned"},
    "properties": {
        "dnsPrefix": "walk", "kubernetesVersion": "1.34", "oidcIssuerProfile": {"enabled": True},
        "securityProfile": {"workloadIdentity": {"enabled": True}},
        "aadProfile": {"managed": True, "enableAzureRBAC": True}, "disableLocalAccounts": True,
        "agentPoolProfiles": [{"name": "system", "mode": "System", "count": 1, "vmSize": "Standard_D4ds_v5"}],
    },
}
POOL_BODY = {"properties": {"mode": "User", "vmSize": "Standard_NC24ads_A100_v4", "enableAutoScaling": True,
                            "minCount": 0, "maxCount": 2, "count": 0, "nodeTaints": ["sku=gpu:NoSchedule"],
                            "nodeLabels": {"accelerator": "nvidia"}}}


@pytest.fixture(scope="module")
def responses(emu, arm):
    """(spec, definition, request body, response) of every resource type, as returned after creation."""
    out = {}
    out["resource group"] = ("resourcegroups.json", "ResourceGroup", {"location": "eastus2"},
                             arm("PUT", RG, RESOURCE_GROUP_DEFAULT_API_VERSION, {"location": "eastus2"}))
    arm("PUT", MC, AKS_API_VERSION, CLUSTER_BODY)
    out["managed cluster"] = (AKS_SPEC, "ManagedCluster", CLUSTER_BODY, arm.settle(MC, AKS_API_VERSION))
    arm("PUT", MC + "/agentPools/gpunp", AKS_API_VERSION, POOL_BODY)
    out["agent pool"] = (AKS_SPEC, "AgentPool", POOL_BODY, arm.settle(MC + "/agentPools/gpunp", AKS_API_VERSION))
    spot = {"properties": {"mode": "User", "vmSize": "Standard_D4s_v5", "count": 1, "scaleSetPriority": "Spot"}}
    arm("PUT", MC + "/agentPools/spot", AKS_API_VERSION, spot)
    out["spot pool"] = (AKS_SPEC, "AgentPool", spot, arm.settle(MC + "/agentPools/spot", AKS_API_VERSION))
    out["managed cluster with its pools"] = (AKS_SPEC, "ManagedCluster", CLUSTER_BODY, arm("GET", MC, AKS_API_VERSION))
    node_rg = out["managed cluster"][3]["properties"]["nodeResourceGroup"]
    out["node resource group"] = ("resourcegroups.json", "ResourceGroup", {},
                                  arm("GET", f"/resourceGroups/{node_rg}", RESOURCE_GROUP_DEFAULT_API_VERSION))
    uai_body = {"location": "eastus2", "tags": {"app": "walk"}}
    out["user-assigned identity"] = ("managedidentity.json", "Identity", uai_body, arm("PUT", UAI, MSI_API_VERSION,
                                                                                       uai_body))
    fic_body = {"properties": {"issuer": out["managed cluster"][3]["properties"]["oidcIssuerProfile"]["issuerURL"],
                               "subject": "system:serviceaccount:ai:model", "audiences": ["api://AzureADTokenExchange"]}}
    out["federated credential"] = ("managedidentity.json", "FederatedIdentityCredential", fic_body,
                                   arm("PUT", UAI + "/federatedIdentityCredentials/walk", MSI_API_VERSION, fic_body))
    ra_body = {"properties": {"roleDefinitionId": f"/subscriptions/{emu.subscription_id}/providers/"
                                                  f"Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}",
                              "principalId": PRINCIPAL, "principalType": "ServicePrincipal"}}
    out["role assignment"] = ("authorization.json", "RoleAssignment", ra_body,
                              arm("PUT", RG + "/providers/Microsoft.Authorization/roleAssignments/"
                                  "0b2a5e34-7c61-4f0e-9e39-3c1f0a6b2d11", ROLE_ASSIGNMENT_API_VERSION, ra_body))
    sub = f"/subscriptions/{emu.subscription_id}"
    amw_body = {"location": "eastus2", "tags": {"app": "walk"}}
    out["azure monitor workspace"] = (ACCOUNTS_SPEC, "AzureMonitorWorkspaceResource", amw_body,
                                      arm("PUT", AMW, MONITOR_ACCOUNT_API_VERSION, amw_body))
    dce_body = {"location": "eastus2", "kind": "Linux", "properties": {"description": "walk"}}
    out["data collection endpoint"] = (ENDPOINTS_SPEC, "DataCollectionEndpointResource", dce_body,
                                       arm("PUT", DCE, DATA_COLLECTION_API_VERSION, dce_body))
    # a stream the description's DataFlow enum spells (it lacks Microsoft-PrometheusMetrics, see specs/README.md)
    dcr_body = {"location": "eastus2", "properties": {
        "dataCollectionEndpointId": sub + DCE,
        "dataSources": {"performanceCounters": [{"name": "perf", "streams": ["Microsoft-InsightsMetrics"],
                                                 "samplingFrequencyInSeconds": 60, "counterSpecifiers": ["\\Memory"]}]},
        "destinations": {"monitoringAccounts": [{"name": "amw", "accountResourceId": sub + AMW}]},
        "dataFlows": [{"streams": ["Microsoft-InsightsMetrics"], "destinations": ["amw"]}]}}
    out["data collection rule"] = (RULES_SPEC, "DataCollectionRuleResource", dcr_body,
                                   arm("PUT", DCR, DATA_COLLECTION_API_VERSION, dcr_body))
    dcra_body = {"properties": {"dataCollectionRuleId": sub + DCR, "description": "walk"}}
    out["data collection rule association"] = (
        ASSOCIATIONS_SPEC, "DataCollectionRuleAssociationProxyOnlyResource", dcra_body,
        arm("PUT", MC + "/providers/Microsoft.Insights/dataCollectionRuleAssociations/walk", DATA_COLLECTION_API_VERSION,
            dcra_body))
    prg_body = {"location": "eastus2", "properties": {
        "scopes": [sub + AMW, sub + MC], "clusterName": "walk", "interval": "PT1M", "enabled": True,
        "rules": [{"record": "walk:up", "expression": "sum(up)"},
                  {"alert": "Down", "expression": "up == 0", "severity": 3, "for": "PT5M",
                   "resolveConfiguration": {"autoResolved": True, "timeToResolve": "PT10M"}}]}}
    out["prometheus rule group"] = (PROMETHEUS_RULE_GROUPS_SPEC, "PrometheusRuleGroupResource", prg_body,
                                    arm("PUT", RG + "/providers/Microsoft.AlertsManagement/prometheusRuleGroups/walk",
                                        PROMETHEUS_RULE_GROUP_API_VERSION, prg_body))
    return out


KINDS = ["resource group", "managed cluster", "agent pool", "spot pool", "managed cluster with its pools", "node resource group",
         "user-assigned identity", "federated credential", "role assignment", "azure monitor workspace",
         "data collection endpoint", "data collection rule", "data collection rule association", "prometheus rule group"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_response_value_is_one_the_description_allows(responses, kind):
    spec, definition, _request, response = responses[kind]
    walker = ResponseWalker(spec if str(spec).startswith("/") else SPECS_DIR / spec)
    assert walker.walk(definition, response) == []


@pytest.mark.parametrize("kind", KINDS)
def test_what_the_request_set_is_not_read_only(responses, kind):
    spec, definition, request, response = responses[kind]
    walker = ResponseWalker(spec if str(spec).startswith("/") else SPECS_DIR / spec)
    walker.walk(definition, response)
    sent = {p for p in _paths(request) if p}
    assert sent & walker.read_only == set()
    assert walker.read_only & _paths(response), "the walk saw no read-only member: the description was not applied"


def test_the_walk_catches_what_it_is_for():
    walker = ResponseWalker(AKS_SPEC)
    bad = {"properties": {"networkProfile": {"loadBalancerProfile": {"backendPoolType": "nodeIPConfiguration"}},
                          "maxAgentPools": "100", "colour": "red",
                          "aadProfile": {"serverAppSecret": "s3cret"}}}
    problems = walker.walk("ManagedCluster", bad)
    assert any("backendPoolType" in p and "spelled" in p for p in problems)
    assert any("maxAgentPools" in p and "type" in p for p in problems)
    assert any("colour" in p and "not a member" in p for p in problems)
    assert any("serverAppSecret" in p and "x-ms-secret" in p for p in problems)
