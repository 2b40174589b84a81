#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: azure_data_collection_endpoint
short_description: Create, update or delete an Azure Monitor data collection endpoint
version_added: 0.1.0
description:
  - Manages a C(Microsoft.Insights/dataCollectionEndpoints) resource, the endpoint a cluster's metrics agent sends
    Prometheus metrics to and reads its configuration from. Reads it, compares only the options you set, and writes once
    when something differs.
  - For Managed Prometheus, create it in the region of the Azure Monitor workspace (M(aiplatform.aks.azure_monitor_workspace)).
  - Before an endpoint is created, the regions the resource provider offers it in are read once; another O(location) is
    refused, listing some valid regions, before any write. The location of an existing endpoint cannot change.
options:
  name:
    description: Name of the endpoint.
    type: str
    required: true
  kind:
    description: Operating system of the machines that use the endpoint.
    type: str
    choices: [Linux, Windows]
  description:
    description: Description of the endpoint.
    type: str
  public_network_access:
    description: Whether the endpoint can be reached from public networks (C(properties.networkAcls.publicNetworkAccess)).
    type: str
    choices: [Enabled, Disabled, SecuredByPerimeter]
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
- name: Endpoint of the cluster's Prometheus metrics, as Azure's own template names it
  aiplatform.aks.azure_data_collection_endpoint:
    name: MSProm-westeurope-aks-ai-platform
    resource_group: rg-ai-platform
    location: westeurope
    kind: Linux
  register: endpoint
'''

RETURN = r'''
data_collection_endpoint:
  description: The endpoint (SDK attribute names, properties flattened), or null when absent.
  returned: always
  type: dict
  sample:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionEndpoints/MSProm-westeurope-aks
    name: MSProm-westeurope-aks
    location: westeurope
    kind: Linux
    immutable_id: dce-0123456789abcdef0123456789abcdef
    metrics_ingestion:
      endpoint: https://msprom-westeurope-aks-abcd.westeurope-1.metrics.ingest.monitor.azure.com
    network_acls:
      public_network_access: Enabled
    provisioning_state: Succeeded
id:
  description: Resource id of the endpoint; null when absent or not created yet (check mode).
  returned: always
  type: str
metrics_ingestion_endpoint:
  description: URL metrics are sent to (C(properties.metricsIngestion.endpoint)); null when unknown.
  returned: always
  type: str
differences:
  description: Dotted paths of the options that differed from the current endpoint.
  returned: always
  type: list
  elements: str
  sample: [network_acls.public_network_access]
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.monitor import MONITOR_SDK, DataCollectionEndpoint
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import LOCATION_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, TAGS_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.resource_group import RESOURCE_SDK
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def main():
    spec = merge_specs(STATE_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, LOCATION_ARG_SPEC, TAGS_ARG_SPEC,
                       name=dict(type='str', required=True),
                       kind=dict(type='str', choices=['Linux', 'Windows']),
                       description=dict(type='str'),
                       public_network_access=dict(type='str', choices=['Enabled', 'Disabled', 'SecuredByPerimeter']))
    AzureModule(argument_spec=spec, required_libs=[MONITOR_SDK.requirement, RESOURCE_SDK.requirement]).run(DataCollectionEndpoint)


if __name__ == '__main__':
    main()
