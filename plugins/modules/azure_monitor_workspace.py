#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: azure_monitor_workspace
short_description: Create, update or delete an Azure Monitor workspace (the store of Managed Prometheus metrics)
version_added: 0.1.0
description:
  - Manages a C(Microsoft.Monitor/accounts) resource. Reads it, compares only the options you set, and writes once when
    something differs.
  - Returns the PromQL query endpoint and the ids of the data collection rule and endpoint Azure creates with the
    workspace.
  - Before a workspace is created, the regions the resource provider offers it in are read once; another O(location) is
    refused, listing some valid regions, before any write. The location of an existing workspace cannot change.
options:
  name:
    description: Name of the workspace.
    type: str
    required: true
  public_network_access:
    description: Whether the workspace's endpoints can be reached from public networks.
    type: str
    choices: [Enabled, Disabled]
  state:
    description:
      - Whether the workspace should exist. Deleting it waits up to O(timeout) seconds, and deletes the data collection
        rule and endpoint Azure created with it.
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
- name: Workspace that stores the cluster's Prometheus metrics
  aiplatform.aks.azure_monitor_workspace:
    name: amw-ai-platform
    resource_group: rg-ai-platform
    location: westeurope
  register: workspace

- name: Delete it again
  aiplatform.aks.azure_monitor_workspace:
    name: amw-ai-platform
    resource_group: rg-ai-platform
    state: absent
'''

RETURN = r'''
workspace:
  description: The workspace (SDK attribute names, properties flattened), or null when absent.
  returned: always
  type: dict
  sample:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Monitor/accounts/amw-ai-platform
    name: amw-ai-platform
    location: westeurope
    account_id: 2f1c6a0e-0000-0000-0000-000000000000
    metrics:
      prometheus_query_endpoint: https://amw-ai-platform-abcd.westeurope.prometheus.monitor.azure.com
    public_network_access: Enabled
    provisioning_state: Succeeded
    tags: {}
id:
  description: Resource id of the workspace; null when absent or not created yet (check mode).
  returned: always
  type: str
query_endpoint:
  description: PromQL query endpoint of the workspace (C(properties.metrics.prometheusQueryEndpoint)); null when unknown.
  returned: always
  type: str
default_data_collection_rule_id:
  description: Id of the data collection rule Azure created with the workspace; null when unknown.
  returned: always
  type: str
default_data_collection_endpoint_id:
  description: Id of the data collection endpoint Azure created with the workspace; null when unknown.
  returned: always
  type: str
differences:
  description: Dotted paths of the options that differed from the current workspace.
  returned: always
  type: list
  elements: str
  sample: [public_network_access]
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.monitor import MONITOR_SDK, MonitorWorkspace
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import LOCATION_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, TAGS_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.resource_group import RESOURCE_SDK
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def main():
    spec = merge_specs(STATE_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, LOCATION_ARG_SPEC, TAGS_ARG_SPEC,
                       name=dict(type='str', required=True),
                       public_network_access=dict(type='str', choices=['Enabled', 'Disabled']))
    AzureModule(argument_spec=spec, required_libs=[MONITOR_SDK.requirement, RESOURCE_SDK.requirement]).run(MonitorWorkspace)


if __name__ == '__main__':
    main()
