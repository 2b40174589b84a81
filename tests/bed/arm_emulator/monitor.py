"""Azure Monitor managed Prometheus for the ARM emulator: Azure Monitor workspaces, data collection endpoints, rules
and rule associations, and Prometheus rule groups, as azure-mgmt-monitor 7.0.0 and azure-mgmt-prometheusrulegroups
1.0.0 call them. Bodies are validated against the upstream Swagger of each api-version (``specs/README.md``).

* ``Microsoft.Monitor/accounts`` (2023-04-03): synchronous PUT (201/200), PATCH (tags), DELETE long-running (202 +
  ``Location``). The server sets ``accountId``, ``metrics.prometheusQueryEndpoint`` / ``internalId``,
  ``defaultIngestionSettings`` (ids of the rule and endpoint the service keeps in ``MA_<name>_<location>_managed``),
  ``publicNetworkAccess`` (default ``Enabled``), ``privateEndpointConnections`` and ``etag``.
* ``Microsoft.Insights/dataCollectionEndpoints`` (2023-03-11): synchronous; the server sets ``immutableId``
  (``dce-<32 hex>``), the configuration access, logs and metrics ingestion endpoints,
  ``networkAcls.publicNetworkAccess`` (default ``Enabled``) and ``etag``.
* ``Microsoft.Insights/dataCollectionRules`` (2023-03-11): synchronous; the server sets ``immutableId``
  (``dcr-<32 hex>``), ``endpoints``, ``destinations.monitoringAccounts[].accountId`` and ``etag``.
* ``Microsoft.Insights/dataCollectionRuleAssociations`` (2023-03-11): an extension resource on a managed cluster;
  the server sets ``etag`` and ``systemData``. On a cluster that does not exist: 404 ``ParentResourceNotFound``
  (the engine answers it for every scope that is another provider's resource).
* ``Microsoft.AlertsManagement/prometheusRuleGroups`` (2023-03-01): synchronous; PATCH sets tags and
  ``properties.enabled``; every rule expression must parse as PromQL.

What the services refuse (HTTP 400 unless said otherwise):

=====================================================  ================================  =========================
condition                                              code                              source
=====================================================  ================================  =========================
data flow sends to a destination the rule does not     InvalidPayload, one detail per    code real; detail codes
define; data flow stream no data source produces and  problem (InvalidDataFlow...)     and wording ours
no stream declaration declares; dataCollectionEndpoint
Id or monitoringAccounts[].accountResourceId that does
not exist; two destinations of one name; a declared
stream not named Custom-...
association with both a rule and an endpoint           InvalidPayload                    real wording, code
                                                                                         unconfirmed
association with neither                               InvalidPayload                    ours
endpoint association not named                         InvalidEndpointAssociationName    real (code and wording)
configurationAccessEndpoint
association naming a rule or endpoint that does not    InvalidPayload                    ours
exist
rule group: interval outside PT1M..PT15M, no rules or  BadRequest, target the field      unconfirmed (not found);
more than 20 (a documented limit), a rule without or                                     the limits are real
with both record/alert, severity outside 0-4 or an
alert-only field on a recording rule, a bad metric or
label name, ``for`` not an ISO 8601 duration, scopes
not 1-2 existing ids (one workspace, optionally the
cluster), clusterName missing or not the cluster's, an
expression that is not PromQL (``rules[i].expression``)
=====================================================  ================================  =========================

    register_monitor(emu)     # done by register_aks too
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import TYPE_CHECKING, Any, Optional

import promql_parser

from .engine import new_etag
from .resource_types import ArmError, PutContext, ResourceType
from .schema import join_path

if TYPE_CHECKING:  # pragma: no cover
    from .engine import ArmEngine
    from .server import ArmEmulator

__all__ = [
    "ACCOUNTS_SPEC",
    "ALERT_ONLY",
    "ASSOCIATIONS_SPEC",
    "ASSOCIATION_SCOPES",
    "DATA_COLLECTION_API_VERSION",
    "DATA_COLLECTION_ENDPOINTS",
    "DATA_COLLECTION_RULES",
    "ENDPOINTS_SPEC",
    "ENDPOINT_ASSOCIATION_NAME",
    "INTERVAL_SECONDS",
    "MAX_RULES_PER_GROUP",
    "MONITOR_ACCOUNTS",
    "MONITOR_ACCOUNT_API_VERSION",
    "PROMETHEUS_RULE_GROUPS",
    "PROMETHEUS_RULE_GROUPS_SPEC",
    "PROMETHEUS_RULE_GROUP_API_VERSION",
    "RULES_SPEC",
    "association_type",
    "iso_duration_seconds",
    "register_monitor",
]

MONITOR_ACCOUNT_API_VERSION = "2023-04-03"  # azure-mgmt-monitor 7.0.0
DATA_COLLECTION_API_VERSION = "2023-03-11"  # azure-mgmt-monitor 7.0.0
PROMETHEUS_RULE_GROUP_API_VERSION = "2023-03-01"  # azure-mgmt-prometheusrulegroups 1.0.0
ENDPOINT_ASSOCIATION_NAME = "configurationAccessEndpoint"

_MONITOR_SPECS = "specification/monitor/resource-manager"
ACCOUNTS_SPEC = f"{_MONITOR_SPECS}/Microsoft.Monitor/Accounts/stable/2023-04-03/monitoringAccounts_API.json"
_INSIGHTS_SPECS = f"{_MONITOR_SPECS}/Microsoft.Insights/stable/2023-03-11"
ENDPOINTS_SPEC = f"{_INSIGHTS_SPECS}/dataCollectionEndpoints_API.json"
RULES_SPEC = f"{_INSIGHTS_SPECS}/dataCollectionRules_API.json"
ASSOCIATIONS_SPEC = f"{_INSIGHTS_SPECS}/dataCollectionRuleAssociations_API.json"
PROMETHEUS_RULE_GROUPS_SPEC = ("specification/alertsmanagement/resource-manager/Microsoft.AlertsManagement/stable/"
                               "2023-03-01/PrometheusRuleGroups.json")

_RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
_CLUSTER = _RG + "/providers/Microsoft.ContainerService/managedClusters/{resourceName}"
ACCOUNT_TYPE = "Microsoft.Monitor/accounts"
ENDPOINT_TYPE = "Microsoft.Insights/dataCollectionEndpoints"
RULE_TYPE = "Microsoft.Insights/dataCollectionRules"
CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters"


def _suffix(resource_id: str, length: int) -> str:
    """A stable lowercase tag for host names the service derives from a resource (same id, same host)."""
    return hashlib.sha256(resource_id.lower().encode()).hexdigest()[:length]


def _stored(engine: "ArmEngine", resource_id: Any, type_name: str) -> Optional[dict[str, Any]]:
    """The stored document of ``resource_id`` if it is a resource of ``type_name``."""
    if not isinstance(resource_id, str):
        return None
    rec = engine.store.get(resource_id.rstrip("/").lower())
    if rec is None or (rec.rtype.type_name or "").lower() != type_name.lower():
        return None
    return rec.doc


def _previous_properties(ctx: PutContext) -> dict[str, Any]:
    return (ctx.previous or {}).get("properties") or {}


# ---------------------------------------------------------------------------------------------------------------
# Azure Monitor workspaces


def _account_compute(ctx: PutContext) -> None:
    props, old = ctx.doc["properties"], _previous_properties(ctx)
    name, location = ctx.name, ctx.doc["location"]
    account_id = old.get("accountId") or str(uuid.uuid4())
    props["accountId"] = account_id
    props["metrics"] = {
        "prometheusQueryEndpoint": f"https://{name.lower()}-{_suffix(ctx.resource_id, 16)}.{location}"
                                   ".prometheus.monitor.azure.com",
        "internalId": f"mac_{account_id}",
    }
    managed = f"/subscriptions/{ctx.engine.subscription_id}/resourceGroups/MA_{name}_{location}_managed/providers"
    props["defaultIngestionSettings"] = {
        "dataCollectionRuleResourceId": f"{managed}/Microsoft.Insights/dataCollectionRules/{name}",
        "dataCollectionEndpointResourceId": f"{managed}/Microsoft.Insights/dataCollectionEndpoints/{name}",
    }
    props.setdefault("publicNetworkAccess", "Enabled")
    props["privateEndpointConnections"] = []
    ctx.doc["etag"] = new_etag()


# ---------------------------------------------------------------------------------------------------------------
# data collection endpoints and rules


def _endpoint_compute(ctx: PutContext) -> None:
    props, old = ctx.doc["properties"], _previous_properties(ctx)
    host = f"{ctx.name.lower()}-{_suffix(ctx.resource_id, 4)}.{ctx.doc['location']}-1"
    props["immutableId"] = old.get("immutableId") or f"dce-{uuid.uuid4().hex}"
    props["configurationAccess"] = {"endpoint": f"https://{host}.handler.control.monitor.azure.com"}
    props["logsIngestion"] = {"endpoint": f"https://{host}.ingest.monitor.azure.com"}
    props["metricsIngestion"] = {"endpoint": f"https://{host}.metrics.ingest.monitor.azure.com"}
    acls = props.get("networkAcls") or {}
    acls.setdefault("publicNetworkAccess", "Enabled")
    props["networkAcls"] = acls
    ctx.doc["etag"] = new_etag()


def _produced_streams(props: dict[str, Any]) -> set[str]:
    """Streams a rule's data sources produce or its stream declarations declare."""
    streams = set(props.get("streamDeclarations") or {})
    for kind, sources in (props.get("dataSources") or {}).items():
        if kind == "dataImports":
            hub = (sources or {}).get("eventHub") or {}
            streams.update([hub["stream"]] if hub.get("stream") else [])
            continue
        for source in sources or []:
            streams.update(source.get("streams") or [])
    return streams


def _destination_names(destinations: dict[str, Any]) -> list[str]:
    names = []
    for entries in destinations.values():
        for entry in entries if isinstance(entries, list) else [entries or {}]:
            if entry.get("name"):
                names.append(entry["name"])
    return names


def _rule_problems(engine: "ArmEngine", props: dict[str, Any]) -> list[dict[str, str]]:
    problems = []

    def problem(code: str, target: str, message: str) -> None:
        problems.append({"code": code, "message": message, "target": f"properties.{target}"})

    destinations = props.get("destinations") or {}
    defined, produced = _destination_names(destinations), _produced_streams(props)
    for name in sorted({n for n in defined if defined.count(n) > 1}):
        problem("InvalidDestination", "destinations", f"Destination name '{name}' is used more than once; destination "
                                                      "names are unique across all destinations of a rule.")
    for name in props.get("streamDeclarations") or {}:
        if not name.startswith("Custom-"):
            problem("InvalidStreamDeclaration", join_path("streamDeclarations", name),
                    f"Declared stream '{name}' must be named 'Custom-<name>'.")
    for i, flow in enumerate(props.get("dataFlows") or []):
        for j, stream in enumerate(flow.get("streams") or []):
            if stream not in produced:
                problem("InvalidDataFlowStream", f"dataFlows[{i}].streams[{j}]",
                        f"Stream '{stream}' is neither produced by a data source nor declared in streamDeclarations.")
        for j, name in enumerate(flow.get("destinations") or []):
            if name not in defined:
                problem("InvalidDataFlowDestination", f"dataFlows[{i}].destinations[{j}]",
                        f"Destination '{name}' is not defined in destinations.")
    for i, account in enumerate(destinations.get("monitoringAccounts") or []):
        if _stored(engine, account.get("accountResourceId"), ACCOUNT_TYPE) is None:
            problem("InvalidDestination", f"destinations.monitoringAccounts[{i}].accountResourceId",
                    f"Azure Monitor workspace '{account.get('accountResourceId')}' does not exist.")
    endpoint = props.get("dataCollectionEndpointId")
    if endpoint and _stored(engine, endpoint, ENDPOINT_TYPE) is None:
        problem("InvalidDataCollectionEndpoint", "dataCollectionEndpointId",
                f"Data collection endpoint '{endpoint}' does not exist.")
    return problems


def _rule_compute(ctx: PutContext) -> None:
    props, old = ctx.doc["properties"], _previous_properties(ctx)
    problems = _rule_problems(ctx.engine, props)
    if problems:
        raise ArmError(400, "InvalidPayload", "Data collection rule is invalid: "
                       + "; ".join(f"{p['target']}: {p['message']}" for p in problems),
                       target=problems[0]["target"], details=problems)
    for account in (props.get("destinations") or {}).get("monitoringAccounts") or []:
        account["accountId"] = _stored(ctx.engine, account["accountResourceId"], ACCOUNT_TYPE)["properties"]["accountId"]
    props["immutableId"] = old.get("immutableId") or f"dcr-{uuid.uuid4().hex}"
    host = f"{ctx.name.lower()}-{_suffix(ctx.resource_id, 4)}.{ctx.doc['location']}-1"
    props["endpoints"] = {"logsIngestion": f"https://{host}.ingest.monitor.azure.com",
                          "metricsIngestion": f"https://{host}.metrics.ingest.monitor.azure.com"}
    ctx.doc["etag"] = new_etag()


def _association_compute(ctx: PutContext) -> None:
    props = ctx.doc["properties"]
    rule, endpoint = props.get("dataCollectionRuleId"), props.get("dataCollectionEndpointId")
    if rule and endpoint:
        raise ArmError(400, "InvalidPayload", "An association of data collection endpoint cannot include data "
                                              "collection rule.", target="properties.dataCollectionRuleId")
    if not rule and not endpoint:
        raise ArmError(400, "InvalidPayload", "An association needs a dataCollectionRuleId or a "
                                              "dataCollectionEndpointId.", target="properties")
    if endpoint and ctx.name.lower() != ENDPOINT_ASSOCIATION_NAME.lower():
        raise ArmError(400, "InvalidEndpointAssociationName",
                       f"An association of data collection endpoint must be named '{ENDPOINT_ASSOCIATION_NAME}'.",
                       target="associationName")
    field, wanted, type_name = (("dataCollectionRuleId", rule, RULE_TYPE) if rule else
                                ("dataCollectionEndpointId", endpoint, ENDPOINT_TYPE))
    if _stored(ctx.engine, wanted, type_name) is None:
        raise ArmError(400, "InvalidPayload", f"The resource '{wanted}' named by {field} does not exist.",
                       target=f"properties.{field}")
    ctx.doc["etag"] = new_etag()


# ---------------------------------------------------------------------------------------------------------------
# Prometheus rule groups

_DURATION = re.compile(r"^P(?!$)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: Azure Monitor's service limit: 20 rules per rule group (documented, cannot be raised).
MAX_RULES_PER_GROUP = 20
#: The interval "should be between 1 and 15 minutes" (PrometheusRuleGroupProperties.interval).
INTERVAL_SECONDS = (60, 900)
#: Rule fields only an alert rule may carry (wire names).
ALERT_ONLY = ("severity", "for", "annotations", "actions", "resolveConfiguration")


def iso_duration_seconds(value: Any) -> Optional[float]:
    """Seconds of an ISO 8601 duration such as ``PT5M`` or ``P1DT2H`` (None if it is not one)."""
    m = _DURATION.match(value) if isinstance(value, str) else None
    if m is None:
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _bad_rule_group(target: str, message: str) -> ArmError:
    return ArmError(400, "BadRequest", message, target=f"properties.{target}")


def _check_scopes(engine: "ArmEngine", props: dict[str, Any]) -> None:
    scopes = props.get("scopes") or []
    if not 1 <= len(scopes) <= 2:
        raise _bad_rule_group("scopes", f"A rule group needs one or two scopes (an Azure Monitor workspace, optionally "
                                        f"the cluster), not {len(scopes)}.")
    kinds: dict[str, dict[str, Any]] = {}
    for i, scope in enumerate(scopes):
        doc = next((d for t in (ACCOUNT_TYPE, CLUSTER_TYPE) for d in [_stored(engine, scope, t)] if d), None)
        if doc is None:
            raise _bad_rule_group(f"scopes[{i}]", f"Scope '{scope}' is not an existing Azure Monitor workspace or "
                                                  "managed cluster.")
        if doc["type"] in kinds:
            raise _bad_rule_group(f"scopes[{i}]", f"Only one scope of type {doc['type']} is allowed.")
        kinds[doc["type"]] = doc
    if ACCOUNT_TYPE not in kinds:
        raise _bad_rule_group("scopes", "The scopes must include an Azure Monitor workspace.")
    cluster = kinds.get(CLUSTER_TYPE)
    if cluster is not None and (props.get("clusterName") or "").lower() != cluster["name"].lower():
        raise _bad_rule_group("clusterName", f"clusterName must be '{cluster['name']}', the cluster in the scopes "
                                             f"(got '{props.get('clusterName')}').")


def _check_rule(i: int, rule: dict[str, Any]) -> None:
    where = f"rules[{i}]"
    if bool(rule.get("record")) == bool(rule.get("alert")):
        raise _bad_rule_group(where, f"{where} must have exactly one of 'record' and 'alert'.")
    if rule.get("record"):
        if not _METRIC_NAME.match(rule["record"]):
            raise _bad_rule_group(f"{where}.record", f"'{rule['record']}' is not a valid metric name.")
        for key in ALERT_ONLY:
            if rule.get(key) is not None:
                raise _bad_rule_group(f"{where}.{key}", f"'{key}' is only allowed in alert rules ({where} records "
                                                        f"'{rule['record']}').")
    severity = rule.get("severity")
    if severity is not None and not 0 <= severity <= 4:
        raise _bad_rule_group(f"{where}.severity", f"Severity {severity} is not between 0 and 4.")
    if rule.get("for") is not None and iso_duration_seconds(rule["for"]) is None:
        raise _bad_rule_group(f"{where}.for", f"'{rule['for']}' is not an ISO 8601 duration.")
    for label in rule.get("labels") or {}:
        if not _LABEL_NAME.match(label):
            raise _bad_rule_group(f"{where}.labels", f"'{label}' is not a valid label name.")
    try:
        promql_parser.parse(rule.get("expression") or "")
    except ValueError as exc:
        raise _bad_rule_group(f"{where}.expression", f"The expression of {where} is not valid PromQL: {exc}.") from None


def _rule_group_compute(ctx: PutContext) -> None:
    props = ctx.doc["properties"]
    props.pop("provisioningState", None)  # rule groups carry none
    interval = props.get("interval")
    if interval is not None:
        seconds = iso_duration_seconds(interval)
        if seconds is None or not INTERVAL_SECONDS[0] <= seconds <= INTERVAL_SECONDS[1]:
            raise _bad_rule_group("interval", f"Interval '{interval}' must be an ISO 8601 duration between PT1M and "
                                              "PT15M.")
    rules = props.get("rules") or []
    if not 1 <= len(rules) <= MAX_RULES_PER_GROUP:
        raise _bad_rule_group("rules", f"A rule group needs 1 to {MAX_RULES_PER_GROUP} rules, not {len(rules)}.")
    for i, rule in enumerate(rules):
        _check_rule(i, rule)
    _check_scopes(ctx.engine, props)


def _rule_group_patch(ctx: PutContext) -> None:
    body = ctx.request_body
    if "tags" in body:
        ctx.doc["tags"] = body["tags"] or {}
    enabled = (body.get("properties") or {}).get("enabled")
    if enabled is not None:
        ctx.doc["properties"]["enabled"] = enabled


# ---------------------------------------------------------------------------------------------------------------
# types

MONITOR_ACCOUNTS = ResourceType(
    path=_RG + "/providers/Microsoft.Monitor/accounts/{azureMonitorWorkspaceName}",
    api_versions=(MONITOR_ACCOUNT_API_VERSION,),
    spec=ACCOUNTS_SPEC,
    definition="AzureMonitorWorkspaceResource",
    patch_definition="AzureMonitorWorkspaceResourceForUpdate",
    async_delete=True,
    delete_polling=("location",),
    compute=_account_compute,
    etag_path=("etag",),
)

DATA_COLLECTION_ENDPOINTS = ResourceType(
    path=_RG + "/providers/Microsoft.Insights/dataCollectionEndpoints/{dataCollectionEndpointName}",
    api_versions=(DATA_COLLECTION_API_VERSION,),
    spec=ENDPOINTS_SPEC,
    definition="DataCollectionEndpointResource",
    patch_definition="ResourceForUpdate",
    compute=_endpoint_compute,
    etag_path=("etag",),
)

DATA_COLLECTION_RULES = ResourceType(
    path=_RG + "/providers/Microsoft.Insights/dataCollectionRules/{dataCollectionRuleName}",
    api_versions=(DATA_COLLECTION_API_VERSION,),
    spec=RULES_SPEC,
    definition="DataCollectionRuleResource",
    patch_definition="ResourceForUpdate",
    compute=_rule_compute,
    etag_path=("etag",),
)

#: Scopes the associations are served at (the collection associates managed clusters).
ASSOCIATION_SCOPES = (_CLUSTER,)


def association_type(scope_template: str) -> ResourceType:
    """The dataCollectionRuleAssociations type at one scope template."""
    return ResourceType(
        path=scope_template + "/providers/Microsoft.Insights/dataCollectionRuleAssociations/{associationName}",
        api_versions=(DATA_COLLECTION_API_VERSION,),
        spec=ASSOCIATIONS_SPEC,
        definition="DataCollectionRuleAssociationProxyOnlyResource",
        compute=_association_compute,
        etag_path=("etag",),
    )


PROMETHEUS_RULE_GROUPS = ResourceType(
    path=_RG + "/providers/Microsoft.AlertsManagement/prometheusRuleGroups/{ruleGroupName}",
    api_versions=(PROMETHEUS_RULE_GROUP_API_VERSION,),
    spec=PROMETHEUS_RULE_GROUPS_SPEC,
    definition="PrometheusRuleGroupResource",
    patch_definition="PrometheusRuleGroupResourcePatchParameters",
    compute=_rule_group_compute,
    patch=_rule_group_patch,
)


def register_monitor(emulator: "ArmEmulator | ArmEngine") -> None:
    """Register the Azure Monitor workspace, data collection and Prometheus rule group types (idempotent)."""
    engine: "ArmEngine" = getattr(emulator, "engine", emulator)
    with engine.lock:
        if any(t is MONITOR_ACCOUNTS for t in engine.types):
            return
        for rtype in (MONITOR_ACCOUNTS, DATA_COLLECTION_ENDPOINTS, DATA_COLLECTION_RULES, PROMETHEUS_RULE_GROUPS):
            engine.register(rtype)
        for scope in ASSOCIATION_SCOPES:
            engine.register(association_type(scope))
