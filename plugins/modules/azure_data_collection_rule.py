#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: azure_data_collection_rule
short_description: Create, update or delete an Azure Monitor data collection rule for Prometheus metrics
version_added: 0.1.0
description:
  - Manages a C(Microsoft.Insights/dataCollectionRules) resource that forwards a cluster's Prometheus metrics to Azure
    Monitor workspaces. Reads it, compares only the options you set, and writes once when something differs.
  - O(prometheus_forwarder), O(monitoring_accounts) and O(data_flows) are each compared as a whole list, in order; data
    sources and destinations of other kinds the rule may have are kept.
  - Before anything is read, the lists are checked against each other, each problem naming the item (for example
    C(data_flows[0].destinations)) - every stream of a data flow must be produced by a O(prometheus_forwarder) item,
    every destination must be a O(monitoring_accounts) name, and names must be unique. Data flows given without the
    lists they refer to are checked against the rule's current ones after the read, still before any write.
  - Before a rule is created, the regions the resource provider offers it in are read once; another O(location) is
    refused, listing some valid regions, before any write. The location and O(kind) of an existing rule cannot change.
options:
  name:
    description: Name of the rule.
    type: str
    required: true
  kind:
    description: Kind of the rule, C(Linux) for Managed Prometheus. Cannot change once the rule exists.
    type: str
  description:
    description: Description of the rule.
    type: str
  data_collection_endpoint_id:
    description: Id of the data collection endpoint (M(aiplatform.aks.azure_data_collection_endpoint)) metrics are sent to.
    type: str
  prometheus_forwarder:
    description: Prometheus data sources of the rule.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the data source, unique in the rule.
        type: str
        required: true
      streams:
        description: Streams the data source produces.
        type: list
        elements: str
        default: [Microsoft-PrometheusMetrics]
      label_include_filter:
        description: Only metrics with these label values are forwarded; none means all.
        type: dict
  monitoring_accounts:
    description: Azure Monitor workspaces the rule sends metrics to.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the destination, unique in the rule; data flows refer to it.
        type: str
        required: true
      account_resource_id:
        description: Id of the Azure Monitor workspace (M(aiplatform.aks.azure_monitor_workspace)).
        type: str
        required: true
  data_flows:
    description: Which streams go to which destinations.
    type: list
    elements: dict
    suboptions:
      streams:
        description: Streams of the flow, each produced by a O(prometheus_forwarder) item.
        type: list
        elements: str
        required: true
      destinations:
        description: Destinations of the flow, each a O(monitoring_accounts) name.
        type: list
        elements: str
        required: true
extends_documentation_fragment:
  - aiplatform.aks.state
  - aiplatform.aks.azure_auth
  - aiplatform.aks.resource_group.monitor
  - aiplatform.aks.azure_location
  - aiplatform.aks.attributes
  - aiplatform.aks.azure_tags
requirements:
  - azure-mgmt-monitor
  - azure-mgmt-resource
'''

EXAMPLES = r'''
- name: Send the cluster's Prometheus metrics to the workspace, as Azure's own template does
  aiplatform.aks.azure_data_collection_rule:
    name: MSProm-westeurope-aks-ai-platform
    resource_group: rg-ai-platform
    location: westeurope
    kind: Linux
    description: DCR for Azure Monitor Metrics Profile (Managed Prometheus)
    data_collection_endpoint_id: "{{ endpoint.id }}"
    prometheus_forwarder:
      - name: PrometheusDataSource
    monitoring_accounts:
      - name: MonitoringAccount1
        account_resource_id: "{{ workspace.id }}"
    data_flows:
      - streams: [Microsoft-PrometheusMetrics]
        destinations: [MonitoringAccount1]
  register: rule
'''

RETURN = r'''
data_collection_rule:
  description: The rule (SDK attribute names, properties flattened), or null when absent.
  returned: always
  type: dict
  sample:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/MSProm-westeurope-aks
    name: MSProm-westeurope-aks
    location: westeurope
    kind: Linux
    immutable_id: dcr-0123456789abcdef0123456789abcdef
    data_collection_endpoint_id: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionEndpoints/MSProm-westeurope-aks
    data_sources:
      prometheus_forwarder:
        - name: PrometheusDataSource
          streams: [Microsoft-PrometheusMetrics]
    destinations:
      monitoring_accounts:
        - name: MonitoringAccount1
          account_resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Monitor/accounts/amw
    data_flows:
      - streams: [Microsoft-PrometheusMetrics]
        destinations: [MonitoringAccount1]
id:
  description: Resource id of the rule; null when absent or not created yet (check mode).
  returned: always
  type: str
immutable_id:
  description: The rule's immutable id (C(dcr-...)), which ingestion requests name; null when unknown.
  returned: always
  type: str
differences:
  description: Dotted paths of the options that differed from the current rule.
  returned: always
  type: list
  elements: str
  sample: [data_flows]
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.monitor import MONITOR_SDK, PROMETHEUS_STREAM, DataCollectionRule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import LOCATION_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, TAGS_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.resource_group import RESOURCE_SDK
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def main():
    spec = merge_specs(
        STATE_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, LOCATION_ARG_SPEC, TAGS_ARG_SPEC,
        name=dict(type='str', required=True),
        kind=dict(type='str'),
        description=dict(type='str'),
        data_collection_endpoint_id=dict(type='str'),
        prometheus_forwarder=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            streams=dict(type='list', elements='str', default=[PROMETHEUS_STREAM]),
            label_include_filter=dict(type='dict'))),
        monitoring_accounts=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            account_resource_id=dict(type='str', required=True))),
        data_flows=dict(type='list', elements='dict', options=dict(
            streams=dict(type='list', elements='str', required=True),
            destinations=dict(type='list', elements='str', required=True))),
    )
    AzureModule(argument_spec=spec, required_libs=[MONITOR_SDK.requirement, RESOURCE_SDK.requirement]).run(DataCollectionRule)


if __name__ == '__main__':
    main()
