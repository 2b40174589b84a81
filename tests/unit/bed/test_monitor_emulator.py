"""Azure Monitor workspaces, data collection endpoints/rules/associations and Prometheus rule groups in the ARM
emulator (tests/bed/arm_emulator/monitor.py), driven by azure-mgmt-monitor 7.0.0 and azure-mgmt-prometheusrulegroups
1.0.0; and ARM's provider read (engine.py)."""

from __future__ import annotations

import re
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.prometheusrulegroups import PrometheusRuleGroupsMgmtClient
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.bed.arm_emulator import ArmEmulator, register_aks, register_monitor
from ansible_collections.aiplatform.aks.plugins.module_utils.azure import monitor as module_monitor
from ansible_collections.aiplatform.aks.plugins.module_utils.azure import prometheus_rule_group as module_rule_group
from tests.bed.arm_emulator.monitor import (
    ALERT_ONLY,
    DATA_COLLECTION_API_VERSION,
    ENDPOINT_ASSOCIATION_NAME,
    INTERVAL_SECONDS,
    MAX_RULES_PER_GROUP,
    MONITOR_ACCOUNT_API_VERSION,
    PROMETHEUS_RULE_GROUP_API_VERSION,
    iso_duration_seconds,
)
from tests.bed.arm_emulator.rules import AZURE_LOCATION_NAMES

POLL = {"polling_interval": 0.02}
CLUSTER = {"location": "westeurope", "properties": {
    "dnsPrefix": "aks1", "kubernetesVersion": "1.34",
    "agentPoolProfiles": [{"name": "system", "mode": "System", "count": 1, "vmSize": "Standard_D4ds_v5"}]}}


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with ArmEmulator(tmp_path_factory.mktemp("arm-monitor"), operation_seconds=0.05, retry_after=0.02) as emu:
        register_aks(emu, cluster_operation_seconds=0.05, pool_operation_seconds=0.05)
        register_monitor(emu)  # idempotent (register_aks did it)
        yield emu


@pytest.fixture(scope="module")
def clients(emu):
    cred = ClientSecretCredential(emu.tenant_id, emu.client_id, emu.client_secret, authority=emu.url,
                                  disable_instance_discovery=True, connection_verify=emu.ca_path)
    kwargs = {"base_url": emu.url, "credential_scopes": [emu.url + "/.default"], "connection_verify": emu.ca_path}
    return {
        "rm": ResourceManagementClient(cred, emu.subscription_id, **kwargs),
        "mon": MonitorManagementClient(cred, emu.subscription_id, **kwargs),
        "prg": PrometheusRuleGroupsMgmtClient(cred, emu.subscription_id, **kwargs),
        "aks": ContainerServiceClient(cred, emu.subscription_id, **kwargs),
    }


@pytest.fixture(autouse=True)
def _clean(emu, clients):
    emu.reset()
    clients["rm"].resource_groups.create_or_update("rg", {"location": "westeurope"})
    yield


@pytest.fixture()
def mon(clients):
    return clients["mon"]


@pytest.fixture()
def workspace(mon):
    return mon.azure_monitor_workspaces.create("rg", "amw1", {"location": "westeurope"})


@pytest.fixture()
def cluster(clients):
    return clients["aks"].managed_clusters.begin_create_or_update("rg", "aks1", CLUSTER, **POLL).result()


def prometheus_rule(workspace, endpoint_id=None, **props):
    """The data collection rule managed Prometheus uses: forward Prometheus metrics to the workspace."""
    body = {
        "location": "westeurope", "kind": "Linux",
        "data_sources": {"prometheus_forwarder": [{"name": "PrometheusDataSource",
                                                   "streams": ["Microsoft-PrometheusMetrics"],
                                                   "label_include_filter": {}}]},
        "destinations": {"monitoring_accounts": [{"account_resource_id": workspace.id, "name": "MonitoringAccount1"}]},
        "data_flows": [{"streams": ["Microsoft-PrometheusMetrics"], "destinations": ["MonitoringAccount1"]}],
    }
    if endpoint_id:
        body["data_collection_endpoint_id"] = endpoint_id
    body.update(props)
    return body


def refused(call, *args, **kwargs) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as err:
        call(*args, **kwargs)
    return err.value


def puts(emu):
    return [r["status"] for r in emu.requests if r["method"] == "PUT"]


# --------------------------------------------------------------------------------------------------------------
# Azure Monitor workspaces


def test_workspace_lifecycle_and_the_fields_the_service_adds(emu, mon):
    ws = mon.azure_monitor_workspaces.create("rg", "amw1", {"location": "West Europe", "tags": {"a": "b"}})
    assert (ws.location, ws.tags, ws.provisioning_state, ws.public_network_access) == \
        ("westeurope", {"a": "b"}, "Succeeded", "Enabled")
    uuid.UUID(ws.account_id)
    assert re.fullmatch(r"https://amw1-[0-9a-f]{16}\.westeurope\.prometheus\.monitor\.azure\.com",
                        ws.metrics.prometheus_query_endpoint)
    assert ws.metrics.internal_id == f"mac_{ws.account_id}"
    managed = f"/subscriptions/{emu.subscription_id}/resourceGroups/MA_amw1_westeurope_managed/providers/Microsoft.Insights"
    assert ws.default_ingestion_settings.data_collection_rule_resource_id == f"{managed}/dataCollectionRules/amw1"
    assert ws.default_ingestion_settings.data_collection_endpoint_resource_id == f"{managed}/dataCollectionEndpoints/amw1"
    assert ws.private_endpoint_connections == [] and ws.etag and ws.system_data.created_by == emu.client_id

    again = mon.azure_monitor_workspaces.create("rg", "amw1", {"location": "westeurope",
                                                               "public_network_access": "Disabled"})
    assert (again.account_id, again.metrics.prometheus_query_endpoint) == \
        (ws.account_id, ws.metrics.prometheus_query_endpoint)
    assert again.public_network_access == "Disabled" and again.etag != ws.etag
    assert puts(emu)[-2:] == [201, 200]
    patched = mon.azure_monitor_workspaces.update("rg", "amw1", {"tags": {"env": "test"}})
    assert patched.tags == {"env": "test"} and patched.etag != again.etag
    assert patched.public_network_access == "Disabled"
    assert mon.azure_monitor_workspaces.get("rg", "amw1").account_id == ws.account_id
    assert [w.name for w in mon.azure_monitor_workspaces.list_by_resource_group("rg")] == ["amw1"]
    assert [w.name for w in mon.azure_monitor_workspaces.list_by_subscription()] == ["amw1"]

    err = refused(mon.azure_monitor_workspaces.create, "rg", "amw1", {"location": "eastus"})
    assert (err.status_code, err.error.code) == (400, "PropertyChangeNotAllowed")
    err = refused(mon.azure_monitor_workspaces.create, "rg", "amw-", {"location": "westeurope"})
    assert (err.status_code, err.error.code) == (400, "InvalidResourceName")
    err = refused(mon.azure_monitor_workspaces.create, "rg", "amw2", {"tags": {"a": "b"}})
    assert (err.status_code, err.error.code) == (400, "InvalidRequestContent") and "location" in err.message

    poller = mon.azure_monitor_workspaces.begin_delete("rg", "amw1", **POLL)
    assert [r["status"] for r in emu.requests if r["method"] == "DELETE"] == [202]
    poller.result()
    with pytest.raises(ResourceNotFoundError):
        mon.azure_monitor_workspaces.get("rg", "amw1")


# --------------------------------------------------------------------------------------------------------------
# data collection endpoints and rules


def test_data_collection_endpoint_lifecycle(emu, mon):
    dce = mon.data_collection_endpoints.create("rg", "MSProm-westeurope-aks1",
                                               {"location": "westeurope", "kind": "Linux"})
    assert re.fullmatch(r"dce-[0-9a-f]{32}", dce.immutable_id)
    host = re.fullmatch(r"https://(msprom-westeurope-aks1-[0-9a-f]{4}\.westeurope-1)\.handler\.control\.monitor\.azure\.com",
                        dce.configuration_access.endpoint).group(1)
    assert dce.logs_ingestion.endpoint == f"https://{host}.ingest.monitor.azure.com"
    assert dce.metrics_ingestion.endpoint == f"https://{host}.metrics.ingest.monitor.azure.com"
    assert (dce.network_acls.public_network_access, dce.provisioning_state, dce.kind) == ("Enabled", "Succeeded", "Linux")
    assert dce.etag
    again = mon.data_collection_endpoints.create("rg", "MSProm-westeurope-aks1", {
        "location": "westeurope", "kind": "Linux", "network_acls": {"public_network_access": "Disabled"}})
    assert again.immutable_id == dce.immutable_id and again.network_acls.public_network_access == "Disabled"
    assert puts(emu)[-2:] == [201, 200]
    assert mon.data_collection_endpoints.update("rg", "MSProm-westeurope-aks1", {"tags": {"a": "b"}}).tags == {"a": "b"}
    assert [d.name for d in mon.data_collection_endpoints.list_by_subscription()] == ["MSProm-westeurope-aks1"]
    mon.data_collection_endpoints.delete("rg", "MSProm-westeurope-aks1")
    with pytest.raises(ResourceNotFoundError):
        mon.data_collection_endpoints.get("rg", "MSProm-westeurope-aks1")
    err = refused(mon.data_collection_endpoints.create, "rg", "dce2", {"kind": "Linux"})
    assert (err.status_code, err.error.code) == (400, "InvalidRequestContent") and "location" in err.message


def test_data_collection_rule_lifecycle(emu, mon, workspace):
    dce = mon.data_collection_endpoints.create("rg", "dce1", {"location": "westeurope"})
    dcr = mon.data_collection_rules.create("rg", "MSProm-westeurope-aks1", prometheus_rule(workspace, dce.id))
    assert re.fullmatch(r"dcr-[0-9a-f]{32}", dcr.immutable_id)
    assert dcr.destinations.monitoring_accounts[0].account_id == workspace.account_id
    assert re.fullmatch(r"https://msprom-westeurope-aks1-[0-9a-f]{4}\.westeurope-1\.ingest\.monitor\.azure\.com",
                        dcr.endpoints.logs_ingestion)
    assert dcr.endpoints.metrics_ingestion.endswith(".metrics.ingest.monitor.azure.com")
    assert (dcr.data_collection_endpoint_id, dcr.provisioning_state) == (dce.id, "Succeeded") and dcr.etag
    again = mon.data_collection_rules.create("rg", "MSProm-westeurope-aks1",
                                             prometheus_rule(workspace, description="Prometheus"))
    assert again.immutable_id == dcr.immutable_id and again.description == "Prometheus"
    assert again.data_collection_endpoint_id is None  # a PUT replaces the rule
    assert puts(emu)[-2:] == [201, 200]
    assert [r.name for r in mon.data_collection_rules.list_by_resource_group("rg")] == ["MSProm-westeurope-aks1"]
    mon.data_collection_rules.delete("rg", "MSProm-westeurope-aks1")
    with pytest.raises(ResourceNotFoundError):
        mon.data_collection_rules.get("rg", "MSProm-westeurope-aks1")


def test_data_collection_rules_the_service_refuses(emu, mon, workspace):
    sub = f"/subscriptions/{emu.subscription_id}/resourceGroups/rg/providers"
    cases = {
        "undefined destination": (
            {"data_flows": [{"streams": ["Microsoft-PrometheusMetrics"], "destinations": ["Elsewhere"]}]},
            "properties.dataFlows[0].destinations[0]"),
        "stream nothing produces": (
            {"data_flows": [{"streams": ["Microsoft-PrometheusMetrics", "Custom-Mine"],
                             "destinations": ["MonitoringAccount1"]}]},
            "properties.dataFlows[0].streams[1]"),
        "missing endpoint": (
            {"data_collection_endpoint_id": f"{sub}/Microsoft.Insights/dataCollectionEndpoints/nope"},
            "properties.dataCollectionEndpointId"),
        "missing workspace": (
            {"destinations": {"monitoring_accounts": [{"account_resource_id": f"{sub}/Microsoft.Monitor/accounts/nope",
                                                       "name": "MonitoringAccount1"}]}},
            "properties.destinations.monitoringAccounts[0].accountResourceId"),
        "two destinations of one name": (
            {"destinations": {"monitoring_accounts": [{"account_resource_id": workspace.id, "name": "MonitoringAccount1"}],
                              "azure_monitor_metrics": {"name": "MonitoringAccount1"}}},
            "properties.destinations"),
        "declared stream not Custom-": (
            {"stream_declarations": {"Mine": {"columns": [{"name": "x", "type": "string"}]}}},
            "properties.streamDeclarations.Mine"),
    }
    for what, (change, target) in cases.items():
        err = refused(mon.data_collection_rules.create, "rg", "dcr1", prometheus_rule(workspace, **change))
        assert (err.status_code, err.error.code, err.error.target) == (400, "InvalidPayload", target), what
        assert [d.target for d in err.error.details] == [target], what
    declared = prometheus_rule(workspace, stream_declarations={"Custom-Mine": {"columns": [{"name": "x", "type": "string"}]}},
                               data_flows=[{"streams": ["Custom-Mine"], "destinations": ["MonitoringAccount1"]}])
    assert mon.data_collection_rules.create("rg", "dcr1", declared).data_flows[0].streams == ["Custom-Mine"]
    with pytest.raises(ResourceNotFoundError):
        mon.data_collection_rules.get("rg", "dcr2")


# --------------------------------------------------------------------------------------------------------------
# data collection rule associations on a managed cluster


def test_associations_on_a_cluster(emu, mon, workspace, cluster):
    dce = mon.data_collection_endpoints.create("rg", "dce1", {"location": "westeurope"})
    dcr = mon.data_collection_rules.create("rg", "dcr1", prometheus_rule(workspace, dce.id))
    rule = mon.data_collection_rule_associations.create(cluster.id, "ContainerInsightsMetricsExtension",
                                                        {"data_collection_rule_id": dcr.id})
    assert rule.id == f"{cluster.id}/providers/Microsoft.Insights/dataCollectionRuleAssociations/" \
                      "ContainerInsightsMetricsExtension"
    assert (rule.type, rule.provisioning_state, rule.data_collection_rule_id) == \
        ("Microsoft.Insights/dataCollectionRuleAssociations", "Succeeded", dcr.id)
    assert rule.etag and rule.system_data.created_by == emu.client_id
    endpoint = mon.data_collection_rule_associations.create(cluster.id, "configurationAccessEndpoint",
                                                            {"data_collection_endpoint_id": dce.id})
    assert endpoint.data_collection_endpoint_id == dce.id and endpoint.data_collection_rule_id is None
    assert sorted(a.name for a in mon.data_collection_rule_associations.list_by_resource(cluster.id)) == \
        ["ContainerInsightsMetricsExtension", "configurationAccessEndpoint"]
    again = mon.data_collection_rule_associations.create(cluster.id, "ContainerInsightsMetricsExtension",
                                                         {"data_collection_rule_id": dcr.id, "description": "x"})
    assert again.description == "x" and again.etag != rule.etag and puts(emu)[-1] == 200
    mon.data_collection_rule_associations.delete(cluster.id, "ContainerInsightsMetricsExtension")
    with pytest.raises(ResourceNotFoundError):
        mon.data_collection_rule_associations.get(cluster.id, "ContainerInsightsMetricsExtension")

    bad = {
        "both": ("dcra2", {"data_collection_rule_id": dcr.id, "data_collection_endpoint_id": dce.id},
                 "InvalidPayload"),
        "neither": ("dcra2", {"description": "nothing"}, "InvalidPayload"),
        "endpoint under another name": ("dcra2", {"data_collection_endpoint_id": dce.id},
                                        "InvalidEndpointAssociationName"),
        "missing rule": ("dcra2", {"data_collection_rule_id": dcr.id.replace("dcr1", "nope")}, "InvalidPayload"),
        "missing endpoint": ("configurationAccessEndpoint",
                             {"data_collection_endpoint_id": dce.id.replace("dce1", "nope")}, "InvalidPayload"),
    }
    for what, (name, body, code) in bad.items():
        err = refused(mon.data_collection_rule_associations.create, cluster.id, name, body)
        assert (err.status_code, err.error.code) == (400, code), what
    assert "must be named 'configurationAccessEndpoint'" in \
        refused(mon.data_collection_rule_associations.create, cluster.id, "dcra2",
                {"data_collection_endpoint_id": dce.id}).message


def test_association_on_a_cluster_that_does_not_exist(emu, mon, workspace):
    dcr = mon.data_collection_rules.create("rg", "dcr1", prometheus_rule(workspace))
    missing = f"/subscriptions/{emu.subscription_id}/resourceGroups/rg/providers/Microsoft.ContainerService/" \
              "managedClusters/nope"
    for call, args in ((mon.data_collection_rule_associations.get, (missing, "dcra1")),
                       (mon.data_collection_rule_associations.create, (missing, "dcra1",
                                                                       {"data_collection_rule_id": dcr.id}))):
        err = refused(call, *args)
        assert (err.status_code, err.error.code) == (404, "ParentResourceNotFound")
        assert f"parent resource '{missing}' could not be found" in err.message
    assert "'write'" in refused(mon.data_collection_rule_associations.create, missing, "dcra1",
                                {"data_collection_rule_id": dcr.id}).message
    with pytest.raises(HttpResponseError) as err:
        list(mon.data_collection_rule_associations.list_by_resource(missing))
    assert err.value.error.code == "ParentResourceNotFound"


# --------------------------------------------------------------------------------------------------------------
# Prometheus rule groups


def rule_group(workspace, cluster=None, **props):
    body = {"scopes": [workspace.id] + ([cluster.id] if cluster else []), "interval": "PT1M",
            "rules": [{"record": "node:cpu:rate5m", "expression": "sum by (node) (rate(node_cpu_seconds_total[5m]))"},
                      {"alert": "NodeDown", "expression": "up{job=\"node\"} == 0", "severity": 2, "for": "PT5M",
                       "annotations": {"summary": "node down"}}]}
    if cluster:
        body["clusterName"] = cluster.name
    body.update(props)
    return {"location": "westeurope", "properties": body}


def test_rule_group_lifecycle(emu, clients, workspace, cluster):
    groups = clients["prg"].prometheus_rule_groups
    created = groups.create_or_update("rg", "NodeRecordingRulesRuleGroup-aks1", rule_group(workspace, cluster))
    assert created.properties.scopes == [workspace.id, cluster.id] and created.properties.cluster_name == "aks1"
    assert created.type == "Microsoft.AlertsManagement/prometheusRuleGroups" and created.system_data.created_by
    assert created.properties.rules[1].severity == 2 and created.properties.interval.total_seconds() == 60
    assert puts(emu)[-1] == 201
    updated = groups.create_or_update("rg", "NodeRecordingRulesRuleGroup-aks1", rule_group(workspace))
    assert updated.properties.scopes == [workspace.id] and puts(emu)[-1] == 200
    patched = groups.update("rg", "NodeRecordingRulesRuleGroup-aks1",
                            {"tags": {"a": "b"}, "properties": {"enabled": False}})
    assert (patched.tags, patched.properties.enabled) == ({"a": "b"}, False)
    assert len(patched.properties.rules) == 2
    assert [g.name for g in groups.list_by_resource_group("rg")] == ["NodeRecordingRulesRuleGroup-aks1"]
    assert [g.name for g in groups.list_by_subscription()] == ["NodeRecordingRulesRuleGroup-aks1"]
    groups.delete("rg", "NodeRecordingRulesRuleGroup-aks1")
    with pytest.raises(ResourceNotFoundError):
        groups.get("rg", "NodeRecordingRulesRuleGroup-aks1")
    err = refused(groups.create_or_update, "rg", "bad:name", rule_group(workspace))
    assert (err.status_code, err.error.code) == (400, "InvalidResourceName")


def test_rule_groups_the_service_refuses(emu, clients, workspace, cluster):
    groups = clients["prg"].prometheus_rule_groups
    other_ws = clients["mon"].azure_monitor_workspaces.create("rg", "amw2", {"location": "westeurope"})
    record = {"record": "a:b", "expression": "sum(up)"}
    cases = {
        "interval too short": ({"interval": "PT30S"}, "properties.interval"),
        "interval too long": ({"interval": "PT20M"}, "properties.interval"),
        "interval not ISO 8601": ({"interval": "5m"}, "properties.interval"),
        "no rules": ({"rules": []}, "properties.rules"),
        "record and alert": ({"rules": [dict(record, alert="A")]}, "properties.rules[0]"),
        "neither record nor alert": ({"rules": [{"expression": "up"}]}, "properties.rules[0]"),
        "severity above 4": ({"rules": [{"alert": "A", "expression": "up == 0", "severity": 5}]},
                             "properties.rules[0].severity"),
        "severity on a recording rule": ({"rules": [dict(record, severity=1)]}, "properties.rules[0].severity"),
        "for not ISO 8601": ({"rules": [{"alert": "A", "expression": "up == 0", "for": "5m"}]},
                             "properties.rules[0].for"),
        "bad metric name": ({"rules": [{"record": "a-b", "expression": "up"}]}, "properties.rules[0].record"),
        "bad label name": ({"rules": [dict(record, labels={"0team": "x"})]}, "properties.rules[0].labels"),
        "annotations on a recording rule": ({"rules": [dict(record, annotations={"a": "b"})]},
                                            "properties.rules[0].annotations"),
        "21 rules": ({"rules": [dict(record, record=f"a:b{i}") for i in range(MAX_RULES_PER_GROUP + 1)]},
                     "properties.rules"),
        "three scopes": ({"scopes": [workspace.id, cluster.id, other_ws.id], "clusterName": "aks1"},
                         "properties.scopes"),
        "no scope": ({"scopes": []}, "properties.scopes"),
        "scope that does not exist": ({"scopes": [workspace.id.replace("amw1", "nope")]}, "properties.scopes[0]"),
        "two workspaces": ({"scopes": [workspace.id, other_ws.id]}, "properties.scopes[1]"),
        "cluster without workspace": ({"scopes": [cluster.id], "clusterName": "aks1"}, "properties.scopes"),
        "cluster scope without clusterName": ({"scopes": [workspace.id, cluster.id]}, "properties.clusterName"),
        "clusterName of another cluster": ({"scopes": [workspace.id, cluster.id], "clusterName": "aks2"},
                                           "properties.clusterName"),
    }
    for what, (change, target) in cases.items():
        err = refused(groups.create_or_update, "rg", "g1", rule_group(workspace, **change))
        assert (err.status_code, err.error.code, err.error.target) == (400, "BadRequest", target), what
    assert emu.engine.get_resource(f"/subscriptions/{emu.subscription_id}/resourceGroups/rg/providers/"
                                   "Microsoft.AlertsManagement/prometheusRuleGroups/g1") is None
    twenty = [dict(record, record=f"a:b{i}") for i in range(MAX_RULES_PER_GROUP)]
    assert len(groups.create_or_update("rg", "g1", rule_group(workspace, rules=twenty, interval="PT15M"))
               .properties.rules) == MAX_RULES_PER_GROUP


def test_the_modules_check_what_the_emulator_refuses():
    """The modules refuse bad input before writing; their limits are the ones the emulator answers for."""
    assert module_monitor.ENDPOINT_ASSOCIATION == ENDPOINT_ASSOCIATION_NAME
    assert module_rule_group.MAX_RULES == MAX_RULES_PER_GROUP
    assert tuple(module_rule_group.INTERVAL_SECONDS) == INTERVAL_SECONDS
    wire = {"resolve_configuration": "resolveConfiguration"}
    assert sorted(wire.get(k, k) for k in module_rule_group.ALERT_ONLY) == sorted(ALERT_ONLY)


def test_rule_group_with_an_expression_that_is_not_promql(clients, workspace):
    groups = clients["prg"].prometheus_rule_groups
    body = rule_group(workspace, rules=[{"record": "a:b", "expression": "sum(up)"},
                                        {"alert": "A", "expression": "sum(rate(up[5m]) by (job)"}])
    err = refused(groups.create_or_update, "rg", "g1", body)
    assert (err.status_code, err.error.code, err.error.target) == (400, "BadRequest", "properties.rules[1].expression")
    assert "rules[1]" in err.message and "not valid PromQL" in err.message
    with pytest.raises(ResourceNotFoundError):
        groups.get("rg", "g1")


@pytest.mark.parametrize("value,seconds", [("PT1M", 60), ("PT15M", 900), ("PT1H30M", 5400), ("P1DT1S", 86401),
                                           ("PT0.5S", 0.5), ("P", None), ("PT", None), ("1m", None), (5, None)])
def test_iso_duration_seconds(value, seconds):
    assert iso_duration_seconds(value) == seconds


# --------------------------------------------------------------------------------------------------------------
# ARM's provider read


def test_provider_read_lists_the_registered_types_with_display_locations(clients):
    rm = clients["rm"]
    regions = list(AZURE_LOCATION_NAMES.values())
    monitor = rm.providers.get("Microsoft.Monitor")
    assert monitor.namespace == "Microsoft.Monitor" and monitor.registration_state == "Registered"
    assert [(t.resource_type, t.api_versions) for t in monitor.resource_types] == \
        [("accounts", [MONITOR_ACCOUNT_API_VERSION])]
    assert monitor.resource_types[0].locations == regions and "West Europe" in regions and "westeurope" not in regions
    insights = {t.resource_type: t.api_versions for t in rm.providers.get("microsoft.insights").resource_types}
    assert insights == {kind: [DATA_COLLECTION_API_VERSION] for kind in
                        ("dataCollectionEndpoints", "dataCollectionRules", "dataCollectionRuleAssociations")}
    alerts = rm.providers.get("Microsoft.AlertsManagement").resource_types
    assert [(t.resource_type, t.api_versions) for t in alerts] == [("prometheusRuleGroups",
                                                                   [PROMETHEUS_RULE_GROUP_API_VERSION])]
    aks = {t.resource_type for t in rm.providers.get("Microsoft.ContainerService").resource_types}
    assert aks == {"managedClusters", "managedClusters/agentPools"}
    authorization = rm.providers.get("Microsoft.Authorization").resource_types
    assert [t.resource_type for t in authorization] == ["roleAssignments"]  # one entry for its four scopes
    err = refused(rm.providers.get, "Microsoft.Nothing")
    assert (err.status_code, err.error.code) == (404, "InvalidResourceNamespace")
