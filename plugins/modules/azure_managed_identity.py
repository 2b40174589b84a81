#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: azure_managed_identity
short_description: Create, update or delete a user-assigned managed identity
version_added: 0.1.0
description:
  - Reads the identity, compares only the options you set, and writes once when something differs.
  - Returns the identity's principal id (for role assignments) and client id (for workload identity).
  - The location of an existing identity cannot change; asking for another one fails before any write.
options:
  name:
    description: Name of the identity.
    type: str
    required: true
  resource_group:
    description: Resource group of the identity.
    type: str
    required: true
  state:
    description: Whether the identity should exist. Deleting it also deletes its federated credentials.
    type: str
    choices: [present, absent]
    default: present
  location:
    description:
      - Azure region, for example C(westeurope). Required to create the identity.
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
  - azure-mgmt-msi
'''

EXAMPLES = r'''
- name: Identity of the KAITO gpu-provisioner
  aiplatform.aks.azure_managed_identity:
    name: kaitoprovisioner
    resource_group: rg-ai-platform
    location: westeurope
  register: identity

- name: Delete it again
  aiplatform.aks.azure_managed_identity:
    name: kaitoprovisioner
    resource_group: rg-ai-platform
    state: absent
'''

RETURN = r'''
identity:
  description: The identity (SDK attribute names), or null when absent.
  returned: always
  type: dict
  sample:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kaitoprovisioner
    name: kaitoprovisioner
    location: westeurope
    principal_id: 2f1c6a0e-0000-0000-0000-000000000000
    client_id: 7d3b9a1c-0000-0000-0000-000000000000
    tenant_id: 11111111-0000-0000-0000-000000000000
    tags: {}
id:
  description: Resource id of the identity; null when absent or not created yet (check mode).
  returned: always
  type: str
principal_id:
  description: Object id of the identity's service principal (for role assignments); null when unknown.
  returned: always
  type: str
client_id:
  description: Client (application) id of the identity (for workload identity); null when unknown.
  returned: always
  type: str
differences:
  description: Dotted paths of the options that differed from the current identity.
  returned: always
  type: list
  elements: str
  sample: [tags.owner]
'''

import copy

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.client import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import TAGS_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.identity import (
    HAS_MSI_SDK, MSI_SDK_IMPORT_ERROR, ManagedIdentity)


def main():
    spec = copy.deepcopy(TAGS_ARG_SPEC)
    spec.update(
        name=dict(type='str', required=True),
        resource_group=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        location=dict(type='str'),
    )
    module = AzureModule(
        argument_spec=spec,
        required_libs=[('azure-mgmt-msi', HAS_MSI_SDK, MSI_SDK_IMPORT_ERROR)],
    )
    params = module.params
    identity = ManagedIdentity.from_module(module)
    try:
        if params['state'] == 'absent':
            result = identity.absent()
        else:
            result = identity.present({'location': params['location'], 'tags': params['tags']})
    except AzureOperationError as exc:
        module.fail_azure(exc)
    resource = result.pop('resource')
    result['identity'] = resource
    for key in ('id', 'principal_id', 'client_id'):
        result[key] = (resource or {}).get(key)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
