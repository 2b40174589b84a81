#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: aks_cluster_info
short_description: Facts about one AKS cluster or all clusters of a resource group
version_added: 0.1.0
description:
  - Returns a summary of each cluster (versions, API server FQDN, OIDC issuer URL, node resource group,
    identities including add-on identities such as KAITO's, node pools and add-on states) and the full
    wire-format resource. Never returns credentials.
options:
  name:
    description: Cluster name; without it every cluster of O(resource_group) is returned.
    type: str
  resource_group:
    description: Resource group of the clusters.
    type: str
    required: true
extends_documentation_fragment:
  - aiplatform.aks.azure_auth
  - aiplatform.aks.attributes.info_module
requirements:
  - azure-mgmt-containerservice >= 41
'''

EXAMPLES = r'''
- name: Look up the cluster
  aiplatform.aks.aks_cluster_info:
    name: aks-ai-platform
    resource_group: rg-ai-platform
  register: aks

- name: Use the OIDC issuer for a federated credential
  ansible.builtin.debug:
    msg: "{{ aks.clusters[0].oidc_issuer_url }}"
'''

RETURN = r'''
clusters:
  description: One entry per cluster found (empty when the named cluster does not exist).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Cluster name.
      type: str
      returned: always
    id:
      description: Resource id.
      type: str
      returned: always
    location:
      description: Region.
      type: str
      returned: always
    kubernetes_version:
      description: Requested Kubernetes version.
      type: str
      returned: always
    current_kubernetes_version:
      description: Kubernetes version running now.
      type: str
      returned: always
    fqdn:
      description: API server FQDN.
      type: str
      returned: always
    oidc_issuer_url:
      description: OIDC issuer URL; empty when the issuer is off.
      type: str
      returned: always
    node_resource_group:
      description: Resource group of the nodes.
      type: str
      returned: always
    provisioning_state:
      description: State of the last operation.
      type: str
      returned: always
    identity:
      description: Control plane identity.
      type: dict
      returned: always
    kubelet_identity:
      description: Kubelet identity with clientId, objectId and resourceId.
      type: dict
      returned: always
    addon_identities:
      description: Identities of add-ons by add-on name; includes the KAITO identity when the API reports it.
      type: dict
      returned: always
    addons:
      description: On or off state of the AI platform add-ons.
      type: dict
      returned: always
    pools:
      description:
        - Node pools with name, mode, vmSize, count, autoscaling bounds, version, state, labels, taints, GPU profile
          (C(gpuProfile) driver and NVIDIA management mode) and MIG profile (C(gpuInstanceProfile)).
      type: list
      returned: always
      elements: dict
    resource:
      description: The cluster in wire format.
      type: dict
      returned: always
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.cluster import find_clusters, summarize
from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import AKS_SDK
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule


def main():
    module = AzureModule(argument_spec=dict(name=dict(type='str'), resource_group=dict(type='str', required=True)),
                         required_libs=[AKS_SDK.requirement])
    try:
        found = find_clusters(module.client(AKS_SDK.ContainerServiceClient), module.params['resource_group'], module.params['name'])
    except AzureOperationError as exc:
        module.fail_azure(exc)
    module.exit_json(changed=False, clusters=[summarize(c) for c in found])


if __name__ == '__main__':
    main()
