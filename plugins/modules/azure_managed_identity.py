#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

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
  state:
    description: Whether the identity should exist. Deleting it also deletes its federated credentials.
extends_documentation_fragment:
  - aiplatform.aks.state
  - aiplatform.aks.azure_auth
  - aiplatform.aks.resource_group.identity
  - aiplatform.aks.azure_location
  - aiplatform.aks.attributes
  - aiplatform.aks.azure_tags
requirements:
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

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.identity import MSI_SDK, ManagedIdentity
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import LOCATION_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, TAGS_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def main():
    spec = merge_specs(STATE_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, LOCATION_ARG_SPEC, TAGS_ARG_SPEC, name=dict(type='str', required=True))
    AzureModule(argument_spec=spec, required_libs=[MSI_SDK.requirement]).run(ManagedIdentity)


if __name__ == '__main__':
    main()
