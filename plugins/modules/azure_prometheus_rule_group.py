#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: azure_prometheus_rule_group
short_description: Create, update or delete a Prometheus rule group of Azure Monitor (recording and alert rules)
version_added: 0.1.0
description:
  - Manages a C(Microsoft.AlertsManagement/prometheusRuleGroups) resource. Reads it, compares only the options you set,
    and writes once when something differs. O(rules) are compared as one list, in order, as the service keeps them;
    durations compare by length (C(PT60S) is C(PT1M)).
  - "Before anything is read, each problem is refused naming its field (for example C(rules[3].expression)): an
    O(interval) that is not an ISO 8601 duration from C(PT1M) to C(PT15M), a rule without exactly one of
    O(rules[].record) and O(rules[].alert), alert-only options on a recording rule, a record name that is not a
    Prometheus metric name, a C(for) or C(time_to_resolve) that is not an ISO 8601 duration, a severity outside 0-4, an
    expression that does not parse as PromQL (C(promql-parser)), and more than 20 rules (Azure Monitor's limit per group)."
  - Before a rule group is created, the regions the resource provider offers it in are read once; another O(location) is
    refused, listing some valid regions, before any write. The location of an existing group cannot change.
options:
  name:
    description: Name of the rule group.
    type: str
    required: true
  description:
    description: Description of the rule group.
    type: str
  scopes:
    description:
      - Resource ids the rules apply to - the Azure Monitor workspace, and optionally the AKS cluster. Required to create
        the group.
    type: list
    elements: str
  cluster_name:
    description: Apply the rules only to the data of this cluster.
    type: str
  interval:
    description: How often the rules are evaluated, an ISO 8601 duration from C(PT1M) to C(PT15M).
    type: str
  enabled:
    description: Whether the rule group is evaluated.
    type: bool
  rules:
    description: The rules, in evaluation order; at least one and at most 20. Required to create the group.
    type: list
    elements: dict
    suboptions:
      record:
        description: Name of the series a recording rule writes (a Prometheus metric name). Give this or O(rules[].alert).
        type: str
      alert:
        description: Name of an alert rule. Give this or O(rules[].record).
        type: str
      expression:
        description: PromQL expression of the rule.
        type: str
        required: true
      labels:
        description: Labels added to the recorded series or to the alert.
        type: dict
      annotations:
        description: Annotations of the alert.
        type: dict
      for:
        description: How long the alert condition must hold before the alert fires, an ISO 8601 duration. Alerts only.
        type: str
      severity:
        description: Severity of the alert, 0 (critical) to 4 (verbose). Alerts only.
        type: int
      enabled:
        description: Whether the rule is evaluated.
        type: bool
      resolve_configuration:
        description: How a fired alert is resolved. Alerts only.
        type: dict
        suboptions:
          auto_resolved:
            description: Resolve the alert when its condition no longer holds.
            type: bool
          time_to_resolve:
            description: How long the condition must be gone before the alert resolves, an ISO 8601 duration.
            type: str
      actions:
        description: Action groups the alert notifies. Alerts only.
        type: list
        elements: dict
        suboptions:
          action_group_id:
            description: Id of the action group.
            type: str
          action_properties:
            description: Properties passed to the action group.
            type: dict
extends_documentation_fragment:
  - aiplatform.aks.state
  - aiplatform.aks.azure_auth
  - aiplatform.aks.resource_group.monitor
  - aiplatform.aks.azure_location
  - aiplatform.aks.attributes
  - aiplatform.aks.azure_tags
requirements:
  - azure-mgmt-prometheusrulegroups
  - azure-mgmt-resource
  - promql-parser
'''

EXAMPLES = r'''
- name: Node recording rules of the cluster (two of Azure's own)
  aiplatform.aks.azure_prometheus_rule_group:
    name: NodeRecordingRulesRuleGroup-aks-ai-platform
    resource_group: rg-ai-platform
    location: westeurope
    description: Node Recording Rules RuleGroup
    scopes:
      - "{{ workspace.id }}"
      - "{{ cluster.id }}"
    cluster_name: aks-ai-platform
    interval: PT1M
    rules:
      - record: instance:node_num_cpu:sum
        expression: count without (cpu, mode) (node_cpu_seconds_total{job="node",mode="idle"})
      - record: instance:node_vmstat_pgmajfault:rate5m
        expression: rate(node_vmstat_pgmajfault{job="node"}[5m])

- name: An alert on GPU nodes that stopped reporting
  aiplatform.aks.azure_prometheus_rule_group:
    name: gpu-alerts-aks-ai-platform
    resource_group: rg-ai-platform
    location: westeurope
    scopes: ["{{ workspace.id }}"]
    rules:
      - alert: DcgmExporterDown
        expression: absent(up{job="dcgm-exporter"})
        for: PT5M
        severity: 2
        resolve_configuration:
          auto_resolved: true
          time_to_resolve: PT10M
'''

RETURN = r'''
rule_group:
  description: The rule group in ARM's form (C(properties) nested, camel case), or null when absent.
  returned: always
  type: dict
  sample:
    id: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.AlertsManagement/prometheusRuleGroups/NodeRecordingRulesRuleGroup-aks
    name: NodeRecordingRulesRuleGroup-aks
    location: westeurope
    properties:
      scopes: [/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Monitor/accounts/amw]
      clusterName: aks
      interval: PT1M
      rules:
        - record: instance:node_num_cpu:sum
          expression: count without (cpu, mode) (node_cpu_seconds_total{job="node",mode="idle"})
id:
  description: Resource id of the rule group; null when absent or not created yet (check mode).
  returned: always
  type: str
differences:
  description: Dotted paths of the options that differed from the current rule group.
  returned: always
  type: list
  elements: str
  sample: [properties.rules]
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.prometheus_rule_group import (
    ISODATE, PROMQL, RULE_GROUPS_SDK, PrometheusRuleGroup)
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import LOCATION_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, TAGS_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.resource_group import RESOURCE_SDK
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def main():
    # `for` is a Python keyword, so the rule options are a dict literal
    rule = {
        'record': dict(type='str'),
        'alert': dict(type='str'),
        'expression': dict(type='str', required=True),
        'labels': dict(type='dict'),
        'annotations': dict(type='dict'),
        'for': dict(type='str'),
        'severity': dict(type='int'),
        'enabled': dict(type='bool'),
        'resolve_configuration': dict(type='dict', options=dict(auto_resolved=dict(type='bool'), time_to_resolve=dict(type='str'))),
        'actions': dict(type='list', elements='dict', options=dict(action_group_id=dict(type='str'), action_properties=dict(type='dict'))),
    }
    spec = merge_specs(
        STATE_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, LOCATION_ARG_SPEC, TAGS_ARG_SPEC,
        name=dict(type='str', required=True),
        description=dict(type='str'),
        scopes=dict(type='list', elements='str'),
        cluster_name=dict(type='str'),
        interval=dict(type='str'),
        enabled=dict(type='bool'),
        rules=dict(type='list', elements='dict', options=rule),
    )
    libs = [RULE_GROUPS_SDK.requirement, RESOURCE_SDK.requirement, PROMQL.requirement, ISODATE.requirement]
    AzureModule(argument_spec=spec, required_libs=libs).run(PrometheusRuleGroup)


if __name__ == '__main__':
    main()
