# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Node pool options shared by aks_nodepool and the system_pool of aks_cluster.
    DOCUMENTATION = r'''
options:
  vm_size:
    description: VM size of the nodes, for example C(Standard_D4s_v5) or C(Standard_NC24ads_A100_v4). Cannot change in place.
    type: str
  count:
    description: Number of nodes. With autoscaling, only used when the pool is created (defaults to O(min_count)).
    type: int
  enable_auto_scaling:
    description: Let the cluster autoscaler size the pool between O(min_count) and O(max_count).
    type: bool
  min_count:
    description: Fewest nodes when autoscaling (0 allowed for user pools).
    type: int
  max_count:
    description: Most nodes when autoscaling.
    type: int
  zones:
    description: Availability zones, a subset of C(1), C(2), C(3). Cannot change in place.
    type: list
    elements: str
  os_sku:
    description: Node operating system. Cannot change in place.
    type: str
    choices: [Ubuntu, Ubuntu2204, Ubuntu2404, AzureLinux, AzureLinux3]
  os_disk_size_gb:
    description: OS disk size in GB (30-2048). Cannot change in place.
    type: int
  max_pods:
    description: Most pods per node (10-250). Cannot change in place.
    type: int
  labels:
    description: Kubernetes labels AKS puts on the pool's nodes.
    type: dict
  taints:
    description: Taints AKS puts on the pool's nodes, as C(key=value:Effect).
    type: list
    elements: str
  kubernetes_version:
    description: Kubernetes version of the pool's nodes (C(1.34) or C(1.34.2)).
    type: str
'''
