#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: gpu_info
short_description: Report the NVIDIA GPUs a cluster advertises and uses, the GPU Operator's state, DCGM exporters and DRA
version_added: 0.2.0
description:
  - Per node, the GPU resources it advertises and what pods hold of them, for whole GPUs (C(nvidia.com/gpu)),
    time-sliced GPUs (C(nvidia.com/gpu.shared)) and MIG instances (every C(nvidia.com/mig-*) resource).
    Allocated is the sum of the requests of the pods bound to the node that have not finished (phase neither
    Succeeded nor Failed; Pending pods count), as the scheduler counts them.
  - Per node, the labels of GPU feature discovery (C(nvidia.com/gpu.present), C(.product), C(.count), C(.memory),
    C(nvidia.com/gpu.replicas)) and of the MIG manager (C(nvidia.com/mig.config), C(nvidia.com/mig.config.state),
    C(nvidia.com/mig.strategy)), and the AKS pool (label C(kubernetes.azure.com/agentpool), or C(agentpool)).
  - Whether each node looks like a GPU node, and whether it advertises GPUs. A node looks like a GPU node when it has
    GPU capacity, GPU feature discovery labels it C(nvidia.com/gpu.present=true), AKS labels it
    C(kubernetes.azure.com/accelerator=nvidia), its size (C(node.kubernetes.io/instance-type)) is an Azure N-series
    GPU size (C(Standard_N*); C(Standard_NP*) is the FPGA family and does not count), or DRA publishes GPU devices
    for it. It advertises GPUs when one of the GPU resources is allocatable or a ResourceSlice of the C(gpu.nvidia.com)
    driver publishes devices for it (the device plugin is off on DRA nodes).
  - Cluster-wide, the GPU Operator's ClusterPolicies (C(nvidia.com/v1), cluster-scoped) and their C(status.state)
    (C(ignored), C(ready) or C(notReady)), or that the API is not served when the CRD is not installed; the DCGM
    exporter Services (named C(nvidia-dcgm-exporter), in any namespace) with their metrics port (C(gpu-metrics)
    9400 for the operator's exporter, 19400 for the host exporter of AKS managed GPUs); and DRA, the DeviceClasses
    and ResourceSlices of C(resource.k8s.io) (C(v1), else C(v1beta2), else C(v1beta1)), or why it is not served.
  - Reads only; never changes anything.
options:
  node_selector:
    description:
      - Label selector of the nodes to report (for example C(kubernetes.azure.com/mode=user)).
      - A selector the API server would refuse is refused before anything is read, naming this option.
    type: str
  pools:
    description:
      - Report only the nodes of these AKS pools (by the C(kubernetes.azure.com/agentpool) label, or C(agentpool)).
      - Combined with O(node_selector), a node must match both. The summary counts the reported nodes only.
    type: list
    elements: str
    default: []
  validation:
    description:
      - Also read the GPU validation Jobs (label C(app.kubernetes.io/name=gpu-validation), one per node, as the
        P(aiplatform.aks.gpu_validation_jobs#filter) filter renders them) and report each node's result in
        RV(nodes[].validation) and the summary.
    type: dict
    suboptions:
      namespace:
        description: Namespace of the Jobs.
        type: str
        required: true
      run:
        description: Only the Jobs of this run (label C(gpu-validation.aiplatform.aks/run)).
        type: str
extends_documentation_fragment:
  - aiplatform.aks.k8s_auth
  - aiplatform.aks.attributes.info_module
requirements:
  - kubernetes >= 37
'''

EXAMPLES = r'''
- name: Read the GPUs of the AI pools
  aiplatform.aks.gpu_info:
    pools: [gpunp, mignp]
  register: gpus

- name: Every GPU node advertises its GPUs
  ansible.builtin.assert:
    that: gpus.summary.gpu_nodes_without_gpus == []
    fail_msg: "GPU nodes that advertise no GPU: {{ gpus.summary.gpu_nodes_without_gpus | join(', ') }}"

- name: Free whole GPUs
  ansible.builtin.debug:
    msg: "{{ gpus.summary.allocatable['nvidia.com/gpu'] - gpus.summary.allocated['nvidia.com/gpu'] }} of
      {{ gpus.summary.allocatable['nvidia.com/gpu'] }} GPUs are free; GPU Operator: {{ gpus.cluster_policy.state }}"

- name: Only the user-mode nodes
  aiplatform.aks.gpu_info:
    node_selector: kubernetes.azure.com/mode=user
'''

RETURN = r'''
nodes:
  description: The reported nodes, by name.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Node name., type: str, returned: always}
    pool: {description: 'AKS pool; null off AKS.', type: str, returned: always, sample: gpunp}
    instance_type: {description: VM size (C(node.kubernetes.io/instance-type))., type: str, returned: always, sample: Standard_NC24ads_A100_v4}
    gpu_node:
      description: The node looks like a GPU node (see RV(nodes[].gpu_node_reasons)).
      type: bool
      returned: always
    gpu_node_reasons:
      description: >-
        Why it looks like a GPU node: C(gpu_capacity), C(gfd_present_label), C(accelerator_label), C(gpu_instance_type),
        C(dra_devices).
      type: list
      elements: str
      returned: always
    advertises_gpus:
      description: A GPU resource is allocatable on the node, or DRA publishes GPU devices for it.
      type: bool
      returned: always
    resources:
      description: >-
        Per GPU resource (always C(nvidia.com/gpu), and C(nvidia.com/gpu.shared) and each C(nvidia.com/mig-*) the node
        has or its pods request), its capacity, allocatable and allocated amounts.
      type: dict
      returned: always
      sample: {nvidia.com/gpu: {capacity: 1, allocatable: 1, allocated: 1}}
    dra_gpu_devices: {description: Devices that ResourceSlices of the C(gpu.nvidia.com) driver publish for the node., type: int, returned: always}
    gfd:
      description: >-
        GPU feature discovery's labels: C(present) (bool), C(product), C(count), C(memory) (MiB) and C(replicas)
        (time-slicing replicas per GPU); null where the label is absent.
      type: dict
      returned: always
      sample: {present: true, product: NVIDIA-A100-80GB-PCIe, count: 1, memory: 81920, replicas: null}
    mig:
      description: The MIG labels C(config), C(config_state) and C(strategy); null where absent.
      type: dict
      returned: always
      sample: {config: all-1g.10gb, config_state: success, strategy: mixed}
    unschedulable: {description: The node is cordoned., type: bool, returned: always}
    validation:
      description: >-
        The node's GPU validation (with O(validation); null where no Job validated it): C(state) C(passed),
        C(failed), C(running) or C(pending); C(reason) (why it failed or has not finished: the failing check with
        its exit code and last line, the scheduler's message, a waiting image pull); the C(job) and C(pod); and
        C(checks), each with C(name) (C(nvidia-smi), C(cuda-vectoradd), C(dcgm-diag)), C(state), C(exit_code) and
        C(message) (the check's output, its last 4000 bytes).
      type: dict
      returned: always
      sample: {state: failed, reason: "cuda-vectoradd exited 1: Failed to allocate device vector A", job: gpu-validate-aks-gpunp-0-1a2b3c-x7k2p,
               checks: [{name: nvidia-smi, state: passed, exit_code: 0, message: "0, NVIDIA A100 80GB PCIe, 570.172.08, 81920 MiB"}]}
    driver_upgrade_state:
      description: >-
        Where the GPU Operator's driver upgrade has the node (label C(nvidia.com/gpu-driver-upgrade-state)), for example
        C(upgrade-required), C(drain-required), C(validation-required), C(upgrade-done) or C(upgrade-failed); null without it.
      type: str
      returned: always
summary:
  description: Counts over the reported nodes.
  returned: always
  type: dict
  contains:
    nodes: {description: Reported nodes., type: int, returned: always}
    gpu_nodes: {description: Nodes that look like GPU nodes., type: int, returned: always}
    nodes_advertising_gpus: {description: Nodes that advertise GPUs., type: int, returned: always}
    gpu_nodes_without_gpus: {description: Names of the GPU nodes that advertise no GPU., type: list, elements: str, returned: always}
    validation_passed:
      description: Nodes whose GPU validation passed (with O(validation)).
      type: list
      elements: str
      returned: always
    validation_failed:
      description: Nodes whose GPU validation failed, with why (with O(validation)).
      type: dict
      returned: always
      sample: {aks-gpunp-12345678-vmss000001: "nvidia-smi exited 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."}
    validation_unfinished:
      description: Nodes whose GPU validation is pending or running, with why (with O(validation)).
      type: dict
      returned: always
      sample: {aks-gpunp-12345678-vmss000002: "not scheduled: 0/3 nodes are available: 1 Insufficient nvidia.com/gpu, ..."}
    driver_upgrades_in_progress:
      description: Nodes the GPU Operator is upgrading the driver of, by name, with their upgrade state.
      type: dict
      returned: always
      sample: {aks-gpunp-12345678-vmss000000: drain-required}
    driver_upgrades_failed: {description: Nodes whose driver upgrade failed (C(upgrade-failed))., type: list, elements: str, returned: always}
    capacity: {description: 'Total capacity per GPU resource; C(nvidia.com/gpu) is always there, 0 without nodes.', type: dict, returned: always}
    allocatable: {description: Total allocatable per GPU resource., type: dict, returned: always, sample: {nvidia.com/gpu: 4}}
    allocated: {description: Total allocated per GPU resource., type: dict, returned: always, sample: {nvidia.com/gpu: 3}}
cluster_policy:
  description: The GPU Operator's ClusterPolicies.
  returned: always
  type: dict
  contains:
    served: {description: The server serves C(nvidia.com/v1) ClusterPolicy (the CRD is installed)., type: bool, returned: always}
    reason: {description: Why it is not served; null when it is., type: str, returned: always}
    present: {description: At least one ClusterPolicy exists., type: bool, returned: always}
    ready: {description: A ClusterPolicy is in state C(ready)., type: bool, returned: always}
    state:
      description: >-
        State of the ClusterPolicy the operator reconciles (it marks every other one C(ignored)): C(ready) or
        C(notReady); C(ignored) when all are; null without a ClusterPolicy or before the operator sets a state.
      type: str
      returned: always
    policies:
      description: Each ClusterPolicy with its C(name), C(state), operator C(namespace) and C(conditions).
      type: list
      elements: dict
      returned: always
dcgm_exporters:
  description: >-
    The DCGM exporter Services, each with C(namespace), C(name), C(cluster_ip), the metrics C(port) and C(port_name),
    all C(ports), the C(prometheus.io/scrape) annotation (C(scrape_annotation)) and the in-cluster C(url) of the metrics.
  returned: always
  type: list
  elements: dict
  sample: [{namespace: gpu-operator, name: nvidia-dcgm-exporter, port: 9400, port_name: gpu-metrics,
            url: "http://nvidia-dcgm-exporter.gpu-operator.svc:9400/metrics"}]
dra:
  description: Dynamic resource allocation.
  returned: always
  type: dict
  contains:
    served: {description: 'The server serves C(resource.k8s.io) in C(v1), C(v1beta2) or C(v1beta1).', type: bool, returned: always}
    reason:
      description: Why it is not served; null when it is.
      type: str
      returned: always
      sample: "resource.k8s.io is not served by this apiserver (Kubernetes 1.20): DRA needs resource.k8s.io/v1, ..."
    api_version: {description: The version read., type: str, returned: always, sample: resource.k8s.io/v1}
    device_classes:
      description: Each DeviceClass with its C(name), CEL C(selectors) and C(extended_resource_name).
      type: list
      elements: dict
      returned: always
    resource_slices:
      description:
        - Each ResourceSlice with its C(name), C(driver), C(node), C(all_nodes), C(pool), the pool's C(generation) and
          C(slice_count) (its C(resourceSliceCount)) and number of C(devices).
      type: list
      elements: dict
      returned: always
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.gpu import validation
from ansible_collections.aiplatform.aks.plugins.module_utils.gpu.info import gather, input_problems
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.module import K8sModule


def main():
    module = K8sModule(argument_spec=dict(
        node_selector=dict(type='str'),
        pools=dict(type='list', elements='str', default=[]),
        validation=dict(type='dict', options=dict(namespace=dict(type='str', required=True), run=dict(type='str'))),
    ))
    p = module.params
    module.fail_on_input(input_problems(p) + validation.read_problems(p['validation']))
    try:
        found = gather(module.client, p['node_selector'], p['pools'])
        validation.attach(found, validation.read(module.client, p['validation']['namespace'], p['validation']['run']) if p['validation'] else {})
    except K8sError as exc:
        where = ' (with node_selector %s)' % p['node_selector'] if p['node_selector'] else ''
        module.fail_json(msg='%s%s' % (exc, where))
    module.exit_json(changed=False, **found)


if __name__ == '__main__':
    main()
