#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: azure_data_collection_rule_association
short_description: Associate a data collection rule or endpoint with a resource such as an AKS cluster
version_added: 0.1.0
description:
  - Manages a C(Microsoft.Insights/dataCollectionRuleAssociations) extension resource on O(resource_id). Reads it,
    compares only the options you set, and writes once when something differs.
  - For Managed Prometheus an AKS cluster needs two - one with the data collection rule, and one named
    C(configurationAccessEndpoint) with the data collection endpoint.
  - A O(resource_id) that does not exist is refused by name before any write (in check mode it is not an error, since
    an earlier task may be the one that creates it).
options:
  resource_id:
    description: Id of the resource the association belongs to, for example the id of an AKS cluster.
    type: str
    required: true
  name:
    description:
      - Name of the association. Must be C(configurationAccessEndpoint) with O(data_collection_endpoint_id), and
        something else with O(data_collection_rule_id).
    type: str
    required: true
  data_collection_rule_id:
    description: Id of the data collection rule to associate. With O(state=present), give this or O(data_collection_endpoint_id).
    type: str
  data_collection_endpoint_id:
    description: Id of the data collection endpoint to associate. With O(state=present), give this or O(data_collection_rule_id).
    type: str
  description:
    description: Description of the association.
    type: str
  state:
    description: Whether the association should exist. Deleting it leaves the rule, the endpoint and the resource.
extends_documentation_fragment:
  - aiplatform.aks.state
  - aiplatform.aks.azure_auth
  - aiplatform.aks.attributes
requirements:
  - azure-mgmt-monitor
'''

EXAMPLES = r'''
- name: Collect the cluster's Prometheus metrics with the rule
  aiplatform.aks.azure_data_collection_rule_association:
    resource_id: "{{ cluster.id }}"
    name: MSProm-westeurope-aks-ai-platform
    data_collection_rule_id: "{{ rule.id }}"
    description: Association of data collection rule. Deleting this association will break the data collection for this AKS Cluster.

- name: Let the cluster's metrics agent read its configuration from the endpoint
  aiplatform.aks.azure_data_collection_rule_association:
    resource_id: "{{ cluster.id }}"
    name: configurationAccessEndpoint
    data_collection_endpoint_id: "{{ endpoint.id }}"
'''

RETURN = r'''
association:
  description: The association (SDK attribute names, properties flattened), or null when absent.
  returned: always
  type: dict
  sample:
    id: /subscriptions/0/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/aks/providers/Microsoft.Insights/dataCollectionRuleAssociations/x
    name: x
    data_collection_rule_id: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/MSProm-westeurope-aks
    description: Association of data collection rule.
id:
  description: Resource id of the association; null when absent or not created yet (check mode).
  returned: always
  type: str
differences:
  description: Dotted paths of the options that differed from the current association.
  returned: always
  type: list
  elements: str
  sample: [data_collection_rule_id]
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.monitor import MONITOR_SDK, DataCollectionRuleAssociation
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def main():
    spec = merge_specs(
        STATE_ARG_SPEC,
        resource_id=dict(type='str', required=True),
        name=dict(type='str', required=True),
        data_collection_rule_id=dict(type='str'),
        data_collection_endpoint_id=dict(type='str'),
        description=dict(type='str'),
    )
    targets = ['data_collection_rule_id', 'data_collection_endpoint_id']
    AzureModule(argument_spec=spec, required_libs=[MONITOR_SDK.requirement], mutually_exclusive=[targets],
                required_if=[('state', 'present', targets, True)]).run(DataCollectionRuleAssociation)


if __name__ == '__main__':
    main()
