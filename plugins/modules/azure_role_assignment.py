#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: azure_role_assignment
short_description: Grant or revoke an Azure role for a principal at a scope
version_added: 0.1.0
description:
  - Lists the principal's role assignments at the scope and creates one only when none grants the role there, whatever
    its name.
  - A new assignment is named by a UUID derived from scope, role and principal, so a retried or interrupted run never
    creates a second assignment.
options:
  scope:
    description:
      - ARM id the role applies to, for example a managed cluster, a resource group or a subscription.
    type: str
    required: true
  role:
    description:
      - A built-in role name (C(Contributor), C(Reader), C(Owner), C(Azure Kubernetes Service RBAC Cluster Admin),
        C(Azure Kubernetes Service Cluster User Role), C(Managed Identity Operator), C(Monitoring Data Reader)), a role GUID, or a full role
        definition id.
    type: str
    required: true
  principal_id:
    description: Object id of the user, group or service principal (for a managed identity, its principal id).
    type: str
    required: true
  principal_type:
    description:
      - Type of the principal; used when creating. Setting it lets Azure accept a principal that was created moments
        ago and has not replicated yet.
    type: str
    choices: [ServicePrincipal, User, Group, ForeignGroup, Device]
    default: ServicePrincipal
  state:
    description: Whether the principal should have the role at the scope. V(absent) removes the assignment that grants it.
extends_documentation_fragment:
  - aiplatform.aks.state
  - aiplatform.aks.azure_auth
  - aiplatform.aks.attributes
requirements:
  - azure-mgmt-authorization
'''

EXAMPLES = r'''
- name: Contributor on the cluster for the gpu-provisioner identity
  aiplatform.aks.azure_role_assignment:
    scope: "{{ cluster.id }}"
    role: Contributor
    principal_id: "{{ identity.principal_id }}"
'''

RETURN = r'''
role_assignment:
  description: The assignment (SDK attribute names), or null when absent; in check mode the one that would be created.
  returned: always
  type: dict
  sample:
    id: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/5e1c...
    name: 5e1c6c1e-0000-5000-8000-000000000000
    scope: /subscriptions/0000/resourceGroups/rg
    role_definition_id: /subscriptions/0000/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c
    principal_id: 2f1c6a0e-0000-0000-0000-000000000000
    principal_type: ServicePrincipal
role_definition_id:
  description: The role definition id the role resolved to.
  returned: always
  type: str
name:
  description: Name of the existing assignment, or the name a new one gets.
  returned: always
  type: str
differences:
  description: C([role_definition_id, principal_id]) when the assignment is missing, else empty.
  returned: always
  type: list
  elements: str
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.role_assignment import AUTHORIZATION_SDK, RoleAssignment
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def main():
    spec = merge_specs(
        STATE_ARG_SPEC,
        scope=dict(type='str', required=True),
        role=dict(type='str', required=True),
        principal_id=dict(type='str', required=True),
        principal_type=dict(type='str', default='ServicePrincipal', choices=['ServicePrincipal', 'User', 'Group', 'ForeignGroup', 'Device']),
    )
    AzureModule(argument_spec=spec, required_libs=[AUTHORIZATION_SDK.requirement]).run(RoleAssignment)


if __name__ == '__main__':
    main()
