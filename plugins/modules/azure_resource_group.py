#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
    type: str
    choices: [present, absent]
    default: present
  location:
    description:
      - Azure region, for example C(westeurope). Required to create the group.
      - C(West Europe) and C(westeurope) are treated as the same region.
    type: str
extends_documentation_fragment:
  - aiplatform.aks.azure_auth
  - aiplatform.aks.attributes
  - aiplatform.aks.azure_tags
author:
  - aiplatform.aks maintainers (@aiplatform-aks)
requirements:
  - azure-identity
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

import copy

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.client import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import TAGS_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.resource_group import (
    HAS_RESOURCE_SDK, RESOURCE_SDK_IMPORT_ERROR, ResourceGroup)


def main():
    spec = copy.deepcopy(TAGS_ARG_SPEC)
    spec.update(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        location=dict(type='str'),
    )
    module = AzureModule(
        argument_spec=spec,
        required_libs=[('azure-mgmt-resource', HAS_RESOURCE_SDK, RESOURCE_SDK_IMPORT_ERROR)],
    )
    params = module.params
    group = ResourceGroup.from_module(module)
    try:
        if params['state'] == 'absent':
            result = group.absent()
        else:
            result = group.present({'location': params['location'], 'tags': params['tags']})
    except AzureOperationError as exc:
        module.fail_azure(exc)
    result['resource_group'] = result.pop('resource')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
