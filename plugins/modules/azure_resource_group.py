#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: azure_resource_group
short_description: Create, update or delete an Azure resource group
version_added: 0.1.0
description:
  - Reads the resource group, compares only the options you set, and writes once when something differs.
  - Tags you do not mention are kept unless O(purge_tags=true).
  - The location of an existing group cannot change; asking for another one fails before any write.
options:
  name:
    description: Name of the resource group.
    type: str
    required: true
  state:
    description: Whether the group should exist. Deleting a group deletes everything in it.
extends_documentation_fragment:
  - aiplatform.aks.state
  - aiplatform.aks.azure_auth
  - aiplatform.aks.azure_location
  - aiplatform.aks.attributes
  - aiplatform.aks.azure_tags
requirements:
  - azure-mgmt-resource
'''

EXAMPLES = r'''
- name: Resource group for the AI platform
  aiplatform.aks.azure_resource_group:
    name: rg-ai-platform
    location: westeurope
    tags:
      environment: poc
      owner: platform-team

- name: Delete it again
  aiplatform.aks.azure_resource_group:
    name: rg-ai-platform
    state: absent
'''

RETURN = r'''
resource_group:
  description: The resource group as Azure returns it (wire format), or null when absent.
  returned: always
  type: dict
  sample:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ai-platform
    name: rg-ai-platform
    location: westeurope
    tags: {environment: poc}
    properties: {provisioningState: Succeeded}
differences:
  description: Dotted paths of the options that differed from the current group.
  returned: always
  type: list
  elements: str
  sample: [tags.owner]
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.resource_group import RESOURCE_SDK, ResourceGroup
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import LOCATION_ARG_SPEC, TAGS_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def main():
    spec = merge_specs(STATE_ARG_SPEC, LOCATION_ARG_SPEC, TAGS_ARG_SPEC, name=dict(type='str', required=True))
    AzureModule(argument_spec=spec, required_libs=[RESOURCE_SDK.requirement]).run(ResourceGroup)


if __name__ == '__main__':
    main()
