#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: azure_federated_credential
short_description: Create, update or delete a federated credential of a user-assigned managed identity
version_added: 0.1.0
description:
  - Lets tokens of an external issuer (for example a Kubernetes service account of an AKS cluster with the OIDC issuer)
    act as the managed identity (workload identity).
  - Reads the credential, compares issuer, subject and audiences, and writes once when something differs; all three
    can change in place.
options:
  name:
    description: Name of the credential (3 to 120 letters, digits, C(-) or C(_), starting with a letter or digit).
    type: str
    required: true
  identity:
    description: Name of the user-assigned identity the credential belongs to.
    type: str
    required: true
  state:
    description: Whether the credential should exist.
  issuer:
    description:
      - URL of the token issuer, for example the OIDC issuer URL of an AKS cluster. Required to create the credential.
    type: str
  subject:
    description:
      - Subject of the trusted tokens, for example C(system:serviceaccount:gpu-provisioner:gpu-provisioner).
      - Required to create the credential.
    type: str
  audiences:
    description: Audiences of the trusted tokens.
    type: list
    elements: str
    default: ['api://AzureADTokenExchange']
extends_documentation_fragment:
  - aiplatform.aks.state
  - aiplatform.aks.azure_auth
  - aiplatform.aks.resource_group.identity
  - aiplatform.aks.attributes
requirements:
  - azure-mgmt-msi
'''

EXAMPLES = r'''
- name: Trust the gpu-provisioner service account of the cluster
  aiplatform.aks.azure_federated_credential:
    name: kaito-federatedcredential
    identity: kaitoprovisioner
    resource_group: rg-ai-platform
    issuer: "{{ aks_cluster_oidc_issuer_url }}"
    subject: system:serviceaccount:gpu-provisioner:gpu-provisioner
'''

RETURN = r'''
federated_credential:
  description: The credential (SDK attribute names), or null when absent.
  returned: always
  type: dict
  sample:
    name: kaito-federatedcredential
    issuer: https://westeurope.oic.prod-aks.azure.com/tenant/cluster/
    subject: system:serviceaccount:gpu-provisioner:gpu-provisioner
    audiences: [api://AzureADTokenExchange]
differences:
  description: Dotted paths of the options that differed from the current credential.
  returned: always
  type: list
  elements: str
  sample: [subject]
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.identity import DEFAULT_AUDIENCES, MSI_SDK, FederatedCredential
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import RESOURCE_GROUP_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def main():
    spec = merge_specs(
        STATE_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC,
        name=dict(type='str', required=True),
        identity=dict(type='str', required=True),
        issuer=dict(type='str'),
        subject=dict(type='str'),
        audiences=dict(type='list', elements='str', default=list(DEFAULT_AUDIENCES)),
    )
    AzureModule(argument_spec=spec, required_libs=[MSI_SDK.requirement]).run(FederatedCredential)


if __name__ == '__main__':
    main()
