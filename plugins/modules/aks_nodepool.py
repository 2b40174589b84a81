#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: aks_nodepool
short_description: Create, update, replace or delete an AKS node pool (GPU, MIG and spot included)
version_added: 0.1.0
description:
  - Manages one node pool of an AKS cluster through the agentPools API. Reads the pool, compares only the options
    you set, and sends one PUT of the current pool with your changes merged in when something differs.
  - Changes AKS cannot make in place (VM size, zones, OS SKU, max pods, OS disk, spot settings, GPU driver, MIG
    profile, artifact streaming ...) fail before anything is written, naming each field, unless O(replace=blue_green).
  - With O(replace=blue_green) a new pool with the new settings is created, its nodes are waited for until Ready,
    the old pool's nodes are cordoned and drained through the Eviction API (PodDisruptionBudgets respected, bounded by
    O(drain.timeout)), and the old pool is deleted. The new pool is tagged C(aiplatform.aks.pool=<name>) so later runs
    keep managing it under O(name); an interrupted replacement resumes where it stopped.
options:
  name:
    description: Pool name (1-12 lowercase letters and digits, starting with a letter).
    type: str
    required: true
  cluster:
    description: Name of the AKS cluster.
    type: str
    required: true
  state:
    description: Whether the pool should exist.
  mode:
    description: C(System) pools run system add-ons; C(User) pools run workloads.
    type: str
    choices: [System, User]
  tags:
    description: Tags of the pool's virtual machine scale set, for example C(EnableManagedGPUExperience=true).
    type: dict
  gpu_driver:
    description: C(Install) lets AKS install the NVIDIA driver; C(None) leaves it to the GPU Operator. GPU sizes only. Cannot change in place.
    type: str
    choices: [Install, None]
  mig_profile:
    description: Multi-instance GPU partitioning of each GPU (sizes with A100, H100, H200, B200 or GB200 GPUs). Cannot change in place.
    type: str
    choices: [MIG1g, MIG2g, MIG3g, MIG4g, MIG7g]
  spot:
    description: Use spot VMs (AKS adds the C(kubernetes.azure.com/scalesetpriority=spot:NoSchedule) taint). User pools only. Cannot change in place.
    type: bool
  spot_eviction_policy:
    description: What happens to evicted spot VMs. Cannot change in place.
    type: str
    choices: [Delete, Deallocate]
  spot_max_price:
    description: Highest price per hour in US dollars, or C(-1) for up to the on-demand price. Cannot change in place.
    type: float
  artifact_streaming:
    description: Stream container images instead of pulling them whole (images must be enabled in ACR). Cannot change in place.
    type: bool
  upgrade_settings:
    description: How node upgrades proceed.
    type: dict
    suboptions:
      max_surge:
        description: Extra nodes during upgrades, a count or a percentage (C(1), C(33%)). Not for spot pools.
        type: str
      max_unavailable:
        description: Nodes that may be unavailable during upgrades.
        type: str
      drain_timeout_minutes:
        description: Minutes to wait for a node to drain (1-1440).
        type: int
      node_soak_minutes:
        description: Minutes to wait after each upgraded node (0-30).
        type: int
  replace:
    description: What to do when a requested change cannot be made in place.
    type: str
    choices: [fail, blue_green]
    default: fail
  wait:
    description:
      - Wait for the pool's operation to end. With C(false) the write or delete is started and the module returns at
        once, with the pool as AKS first answered (its provisioning state still C(Creating), C(Updating) or C(Deleting)),
        so that several pools can change at the same time; run the module again with the same options to wait for it.
      - With O(replace=blue_green) and C(false), only the new pool's creation is started; the run that waits finishes the
        replacement (waits for the new nodes, drains and deletes the old pool).
    type: bool
    default: true
  repair:
    description:
      - What to do with a pool whose last operation failed (provisioning state C(Failed)). C(true) sends the pool again,
        which is how AKS retries it. C(false) fails the task with the error AKS recorded, which is what a run that waits
        for an operation started with O(wait=false) wants to report.
    type: bool
    default: true
  drain:
    description: Kubernetes access and limits for the blue/green drain.
    type: dict
    suboptions:
      kubeconfig:
        description: Kubeconfig of the cluster. Without it the cluster's user credentials are fetched from AKS and kept in memory.
        type: path
      timeout:
        description: Seconds to wait for the new nodes and for the old nodes to drain.
        type: int
        default: 1800
extends_documentation_fragment:
  - aiplatform.aks.resource_group
  - aiplatform.aks.state
  - aiplatform.aks.azure_auth
  - aiplatform.aks.aks_pool
  - aiplatform.aks.attributes
attributes:
  check_mode:
    description: Reads and compares, writes nothing, and returns the body that would be sent or the replacement plan.
    support: full
requirements:
  - azure-mgmt-containerservice >= 41
  - kubernetes (for O(replace=blue_green))
'''

EXAMPLES = r'''
- name: GPU pool from the platform guide, scaled to zero when idle
  aiplatform.aks.aks_nodepool:
    name: gpunp
    cluster: aks-ai-platform
    resource_group: rg-ai-platform
    vm_size: Standard_NC24ads_A100_v4
    enable_auto_scaling: true
    min_count: 0
    max_count: 3
    labels: {node-type: ai, accelerator: nvidia-gpu, workload-type: ai-ml}
    taints: ["nvidia.com/gpu=true:NoSchedule"]
    tags: {EnableManagedGPUExperience: "true"}
    gpu_driver: None

- name: Start raising the ceiling of two pools at the same time
  aiplatform.aks.aks_nodepool:
    name: "{{ item }}"
    cluster: aks-ai-platform
    resource_group: rg-ai-platform
    max_count: 5
    wait: false
  loop: [gpunp, cpunp]

- name: Wait for both; an operation that failed is reported with the service's error, not sent again
  aiplatform.aks.aks_nodepool:
    name: "{{ item }}"
    cluster: aks-ai-platform
    resource_group: rg-ai-platform
    max_count: 5
    repair: false
  loop: [gpunp, cpunp]

- name: Move the pool to another VM size without downtime
  aiplatform.aks.aks_nodepool:
    name: gpunp
    cluster: aks-ai-platform
    resource_group: rg-ai-platform
    vm_size: Standard_NC48ads_A100_v4
    replace: blue_green
'''

RETURN = r'''
pool:
  description: The pool as AKS returns it (wire format), or null when absent. With O(wait=false), AKS's first answer.
  returned: always
  type: dict
differences:
  description: Dotted wire paths that differed from the pool.
  returned: always
  type: list
  elements: str
  sample: [properties.maxCount, properties.nodeLabels.team]
replaced:
  description: The blue/green replacement, when one happened or was planned.
  returned: when a replacement happened or, in check mode, would happen
  type: dict
  contains:
    old: {description: Name of the replaced pool., type: str, returned: always}
    new: {description: Name of the new pool., type: str, returned: always}
    drained: {description: Nodes cordoned and pods evicted., type: dict, returned: once the old pool is drained}
    resumed: {description: True when this run finished a replacement an earlier run started., type: bool, returned: when true}
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import AKS_SDK
from ansible_collections.aiplatform.aks.plugins.module_utils.aks.nodepool import POOL_ARG_SPEC, AgentPool
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import RESOURCE_GROUP_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def main():
    spec = merge_specs(
        RESOURCE_GROUP_ARG_SPEC, STATE_ARG_SPEC, POOL_ARG_SPEC,
        name=dict(type='str', required=True),
        cluster=dict(type='str', required=True),
        mode=dict(type='str', choices=['System', 'User']),
        tags=dict(type='dict'),
        gpu_driver=dict(type='str', choices=['Install', 'None']),
        mig_profile=dict(type='str', choices=['MIG1g', 'MIG2g', 'MIG3g', 'MIG4g', 'MIG7g']),
        spot=dict(type='bool'),
        spot_eviction_policy=dict(type='str', choices=['Delete', 'Deallocate']),
        spot_max_price=dict(type='float'),
        artifact_streaming=dict(type='bool'),
        upgrade_settings=dict(type='dict', options=dict(
            max_surge=dict(type='str'), max_unavailable=dict(type='str'),
            drain_timeout_minutes=dict(type='int'), node_soak_minutes=dict(type='int'))),
        replace=dict(type='str', default='fail', choices=['fail', 'blue_green']),
        drain=dict(type='dict', options=dict(kubeconfig=dict(type='path'), timeout=dict(type='int', default=1800))),
        wait=dict(type='bool', default=True),
        repair=dict(type='bool', default=True),
    )
    AzureModule(argument_spec=spec, required_libs=[AKS_SDK.requirement]).run(AgentPool)


if __name__ == '__main__':
    main()
