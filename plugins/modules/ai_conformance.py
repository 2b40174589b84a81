#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: ai_conformance
short_description: Check each requirement of a CNCF Kubernetes AI Conformance checklist on a live cluster
version_added: 0.3.0
description:
  - Runs one static probe per requirement of the checklist (ids of the checklists 1.33 to 1.37) and, with
    O(functional), the functional probe of the requirement, and returns each requirement with its status, the
    evidence (each check, the API call made, what was observed) and the role variable that fixes a failure.
  - Static probes only read. They read discovery, CRDs (Established, serving the version used), controllers'
    Deployments (rolled out), admission webhooks (a caBundle, their Service present), APIServices (Available),
    DRA DeviceClasses and ResourceSlices, GPU nodes, and the AKS pools of O(node_pools). For C(accelerator_metrics)
    and C(ai_service_metrics) they query Prometheus at O(prometheus_url) (C(GET /api/v1/query)), for C(DCGM_FI_DEV_GPU_UTIL)
    and C(DCGM_FI_DEV_FB_USED) for every GPU node (by the C(Hostname), C(node), C(kubernetes_node) or C(instance)
    label), and a vLLM series (C(vllm:num_requests_running)). C(DCGM_FI_DEV_FB_FREE), C(DCGM_FI_DEV_GPU_TEMP) and
    C(DCGM_FI_DEV_POWER_USAGE), which the requirement asks for when available, are queried too; one missing is reported
    in the evidence and notes and does not fail the requirement.
  - "The status rule: C(Implemented) from a static probe only where the checklist asks for presence (C(dra_support):
    the C(resource.k8s.io) API served with its four resources) or where the probe measured the behaviour (a Prometheus
    query that found the series). For every other requirement a static pass gives at most C(Partially Implemented)
    until its functional probe passed; RV(requirements[].notes) says which kind of evidence decided. A static failure
    is C(Not Implemented); an API the server does not serve is C(Not Implemented) with the evidence C(not served)."
  - "A requirement the module has no probe for (an id of a later checklist) is C(Not Implemented) when it is a MUST and
    C(N/A) when it is a SHOULD, with the note C(no probe: check by hand). C(N/A) always comes with notes. A requirement
    the platform cannot have (no cluster autoscaler at all for C(cluster_autoscaling), no GPU sharing configured for
    C(gpu_sharing)) is C(N/A) with the reason."
  - C(cluster_autoscaling) reads O(node_pools) on AKS (a GPU pool with C(enableAutoScaling) and C(minCount) below
    C(maxCount) passes; a pool pinned at C(minCount) = C(maxCount) cannot prove autoscaling, and the notes say so);
    off AKS, a C(cluster-autoscaler) Deployment, the C(kube-system/cluster-autoscaler-status) ConfigMap, or a Karpenter
    NodePool that admits GPU nodes.
  - Functional probes create objects in fresh namespaces (C(<namespace_prefix>-<random>)) and always delete them,
    after a failure or a timeout too; RV(probe_objects) lists them. A functional probe runs only where the static
    probe passed. In check mode only the static probes run.
  - "The functional probes: C(gang_scheduling) (Kueue admits a Job's pods all at once within a quota and holds back one
    above it), C(ai_inference) (a Gateway is Programmed and an HTTPRoute with a header rule and 80/20 weights is
    Accepted; the split is measured where backend pods run), C(robust_controller) (KAITO's webhook denies an invalid
    Workspace on a dry run and a valid one becomes InferenceReady) and C(pod_autoscaling) (a KEDA ScaledObject with a
    prometheus trigger at O(probes.keda_prometheus_server) makes the HPA scale a Deployment from 1 to 2 replicas and
    back, driven by a constant query; without that setting the probe refuses and the requirement is C(Not Implemented))
    and C(secure_accelerator_access) (on the GPU node with the most free GPUs, three busybox pods list
    C(/dev/nvidia[0-9]*) - one with one GPU must see exactly one device, one without a request and one without a request
    but with C(NVIDIA_VISIBLE_DEVICES=all) must see none; the last fails wherever the NVIDIA container toolkit keeps its
    default C(accept-nvidia-visible-devices-envvar-when-unprivileged=true); when no GPU is free for the first pod the
    result is C(Partially Implemented); GPUs offered only through DRA are not covered)."
  - "Costly and opt-in (O(probes.gpu_scale_up)): C(cluster_autoscaling) asks for one GPU more than the GPU nodes have
    free (pause pods of one GPU each, at most 16) and waits up to O(probes.scale_up_timeout) for the cluster autoscaler's
    C(TriggeredScaleUp), a new Ready GPU node and the pods placed on it; a C(NotTriggerScaleUp) fails it at once, and a
    node that comes without the autoscaler's event gives C(Partially Implemented). The node is billed until the
    autoscaler removes it after its scale-down delay, which the probe does not wait for. Without the setting the
    requirement rests on static evidence and its notes say how to run the probe."
options:
  checklist:
    description:
      - The parsed checklist (the content of C(AIConformance-1.NN.yaml); the C(ai_conformance) role loads it from its
        C(files/checklists)). Requirement ids, descriptions and levels are returned as the checklist has them.
      - A checklist without C(metadata.kubernetesVersion) or with requirements lacking an id, a description or a level
        C(MUST) or C(SHOULD) is refused before anything is read.
    type: dict
    required: true
  functional:
    description: Also run the functional probes, which create objects and always delete them. Ignored in check mode.
    type: bool
    default: false
  probes:
    description: Settings of the probes.
    type: dict
    default: {}
    suboptions:
      namespace_prefix:
        description: Start of the names of the namespaces the functional probes create (a random suffix is added).
        type: str
        default: aic-probe
      timeout:
        description: Seconds a functional probe waits for each thing it waits for, and for each deletion.
        type: int
        default: 120
      gpu_resource:
        description: The extended resource of a whole GPU.
        type: str
        default: nvidia.com/gpu
      device_class:
        description: The DRA DeviceClass of a GPU, and the driver name of its ResourceSlices.
        type: str
        default: gpu.nvidia.com
      gateway_class:
        description: The GatewayClass that must be accepted for C(ai_inference).
        type: str
        default: istio
      kaito_preset:
        description: The KAITO preset model a functional probe of C(robust_controller) uses.
        type: str
        default: phi-4-mini-instruct
      kaito_instance_type:
        description: The VM size the functional probe's KAITO Workspace asks for; unset, it selects existing nodes by O(probes.kaito_label_selector).
        type: str
      kaito_label_selector:
        description: Labels of the nodes the functional probe's KAITO Workspace runs on (the probe's default when unset).
        type: dict
      keda_prometheus_server:
        description:
          - The Prometheus URL KEDA queries in the functional probe of C(pod_autoscaling), as KEDA (in the cluster) reaches
            it; on AKS the Azure Monitor workspace's query endpoint. The C(ai_conformance) role passes
            C(ai_scheduling_prometheus_server).
        type: str
        default: ''
      keda_identity_id:
        description:
          - The client id of the managed identity KEDA reads the Azure Monitor workspace with (a C(TriggerAuthentication)
            of provider C(azure-workload) in the probe's namespace); empty for a Prometheus that needs no authentication.
        type: str
        default: ''
      gpu_scale_up:
        description:
          - Also run the costly functional probe of C(cluster_autoscaling), which asks for one GPU more than the GPU nodes
            have free, so that the cluster autoscaler adds a GPU node (billed while it runs; the autoscaler removes it
            after its scale-down delay). Off, C(cluster_autoscaling) rests on static evidence.
        type: bool
        default: false
      scale_up_timeout:
        description: Seconds the C(cluster_autoscaling) probe waits for a new GPU node and its pods' placement.
        type: int
        default: 1200
  prometheus_url:
    description:
      - Base URL of a Prometheus HTTP API (the module sends C(GET <url>/api/v1/query)); empty to query nothing, in which
        case the two metrics requirements rest on static evidence only.
    type: str
    default: ''
  node_pools:
    description:
      - The cluster's AKS pools as P(aiplatform.aks.aks_cluster_info#module) returns them in C(clusters[0].pools)
        (C(name), C(vmSize), C(enableAutoScaling), C(minCount), C(maxCount)); empty off AKS.
    type: list
    elements: dict
    default: []
  components:
    description:
      - Components and the versions the role variables target, reported in RV(components) beside the installed version.
      - Known names are C(gpu_operator), C(nvidia_dra_driver), C(kaito), C(istio), C(gateway_api), C(kueue), C(keda),
        C(kube_prometheus_stack) and C(dcgm_exporter); another name is reported as not installed.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The component.
        type: str
        required: true
      target:
        description: The version the role installs.
        type: str
extends_documentation_fragment:
  - aiplatform.aks.k8s_auth
author:
  - aiplatform.aks maintainers (@aiplatform-aks)
attributes:
  check_mode:
    description: Runs the static probes only, which read.
    support: full
  diff_mode:
    description: Nothing is left changed, so there is no diff.
    support: none
requirements:
  - kubernetes >= 37
'''

EXAMPLES = r'''
- name: Read the checklist
  ansible.builtin.set_fact:
    checklist: "{{ lookup('ansible.builtin.file', 'AIConformance-1.34.yaml') | from_yaml }}"

- name: Static probes only
  aiplatform.aks.ai_conformance:
    checklist: "{{ checklist }}"
    prometheus_url: http://kube-prometheus-stack-prometheus.monitoring.svc:9090
  register: conformance

- name: Every MUST is Implemented
  ansible.builtin.assert:
    that: conformance.summary.passed
    fail_msg: "Not Implemented: {{ conformance.summary.failed_musts | join(', ') }}"

- name: With the functional probes and the AKS pools
  aiplatform.aks.ai_conformance:
    checklist: "{{ checklist }}"
    functional: true
    probes:
      timeout: 300
    node_pools: "{{ cluster_info.clusters[0].pools }}"
    components:
      - {name: kueue, target: 0.19.2}
      - {name: gpu_operator, target: v26.7.0}
'''

RETURN = r'''
kubernetes_version:
  description: The server's version.
  returned: always
  type: str
  sample: v1.34.2
checklist_version:
  description: The checklist's Kubernetes minor version (from C(metadata.kubernetesVersion)).
  returned: always
  type: str
  sample: '1.34'
requirements:
  description: Each requirement of the checklist, in its order.
  returned: always
  type: list
  elements: dict
  contains:
    id: {description: The requirement id as in the checklist., type: str, returned: always, sample: gang_scheduling}
    category: {description: The checklist's category of the requirement., type: str, returned: always, sample: schedulingOrchestration}
    level: {description: C(MUST) or C(SHOULD) as in the checklist., type: str, returned: always, sample: MUST}
    description: {description: The requirement's text verbatim from the checklist., type: str, returned: always}
    status:
      description: C(Implemented), C(Not Implemented), C(Partially Implemented) or C(N/A) (always with notes).
      type: str
      returned: always
      sample: Partially Implemented
    notes:
      description: What decided the status, starting with the kind of evidence (static, measured, functional).
      type: str
      returned: always
    probe: {description: C(functional) when the functional probe ran and decided; else C(static)., type: str, returned: always}
    evidence:
      description: Each check with the API call made (C(call)), what was observed and whether it is as required.
      type: list
      elements: dict
      returned: always
      sample: [{check: CRD clusterqueues.kueue.x-k8s.io Established and serving v1beta2,
                call: GET apiextensions.k8s.io/v1 CustomResourceDefinition clusterqueues.kueue.x-k8s.io,
                observed: 'Established, serves v1beta1, v1beta2', ok: true}]
    remediation:
      description: The role variable that fixes a failure (C(ai_scheduling_kueue_install), C(gpu_operator_dra)...); empty when none.
      type: str
      returned: always
components:
  description: Each of O(components) with the installed version (null when not found) and whether it drifts from the target.
  returned: always
  type: list
  elements: dict
  sample: [{name: kueue, target: 0.19.2, installed: v0.19.2, drift: false}]
summary:
  description: >-
    Counts of MUSTs and SHOULDs and of those Implemented, the MUSTs that are neither Implemented nor N/A
    (C(failed_musts)), and C(passed) when there are none.
  returned: always
  type: dict
  sample: {must: 9, must_implemented: 9, should: 0, should_implemented: 0, failed_musts: [], passed: true}
probe_objects:
  description: >-
    The objects the functional probes created, newest last, each with whether it was created and deleted (for a
    namespace, whether its deletion was accepted: the module does not wait for namespaces to go). An object that could
    not be removed keeps C(deleted) false and is named in its requirement's notes.
  returned: always
  type: list
  elements: dict
  sample: [{kind: Namespace, namespace: null, name: aic-probe-1a2b3c4d, created: true, deleted: true}]
changed:
  description: Always false; the functional probes remove what they create.
  returned: always
  type: bool
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.assess import assess, input_problems
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.context import DEFAULT_SETTINGS
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.module import K8sModule


def main():
    kinds = {bool: 'bool', int: 'int', str: 'str'}
    probes = dict((key, dict(type=kinds[type(value)], default=value)) for key, value in DEFAULT_SETTINGS.items())
    probes.update(kaito_instance_type=dict(type='str'), kaito_label_selector=dict(type='dict'))
    module = K8sModule(argument_spec=dict(
        checklist=dict(type='dict', required=True),
        functional=dict(type='bool', default=False),
        probes=dict(type='dict', default={}, options=probes),
        prometheus_url=dict(type='str', default=''),
        node_pools=dict(type='list', elements='dict', default=[]),
        components=dict(type='list', elements='dict', default=[], options=dict(name=dict(type='str', required=True), target=dict(type='str'))),
    ))
    module.fail_on_input(input_problems(module.params))
    try:
        result = assess(module.client, module.params, module.params['functional'] and not module.check_mode)
    except K8sError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
