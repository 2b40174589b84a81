#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: kaito_workspace
short_description: Serve a model with a KAITO Workspace and wait until it really serves
version_added: 0.1.0
description:
  - Creates, updates or deletes a KAITO C(kaito.sh/v1beta1) Workspace. In this API version the workspace has no
    C(spec); C(resource), C(inference) and C(tuning) are top-level fields, and the module renders them from its options.
  - Serves a preset model (O(preset)), a custom pod template (O(template)) or runs a fine-tuning job (O(tuning)).
    O(inference_config) manages the ConfigMap with the vLLM or transformers parameters; O(pod_disruption_budget)
    adds the PodDisruptionBudget that KAITO does not create (C(policy/v1), or C(policy/v1beta1) where the server
    serves only that).
  - Changes go through server-side apply under the field manager C(aiplatform.aks); a second run with the same
    options writes nothing and reports C(changed=false).
  - KAITO refuses some changes on a live workspace (the preset, C(resource.labelSelector), C(resource.count),
    C(resource.partition), C(resource.instanceType) once set, adding or removing the pod template, switching between
    inference and tuning). The module fails on such a change before writing anything and names the fields, unless
    O(recreate=true), which deletes the workspace, waits until KAITO's C(workspace.finalizer.kaito.sh) finalizer
    has let go, and creates it again.
  - With O(wait=true) the module waits until every condition in O(wait_for) is C(True) for the workspace's current
    generation (C(observedGeneration)), so a C(True) left from an older generation does not end the wait. When KAITO
    reports a failure (for example C(InferenceReady=False) with reason C(ImagePullError)) or the wait times out, the
    module fails with the condition's reason and message and the recent events of the workspace's pods.
    Loading a large model can take long; KAITO's own readiness timeout for presets is 30 minutes.
options:
  name:
    description: Workspace name, a DNS-1123 label. KAITO names the inference Service after it.
    type: str
    required: true
  namespace:
    description: Namespace of the workspace.
    type: str
    required: true
  state:
    description:
      - C(present) creates or updates the workspace; C(absent) deletes it (waiting for KAITO's finalizer) together with
        the ConfigMap and PodDisruptionBudget this module created for it.
  labels:
    description: Labels of the workspace (and of the ConfigMap and PodDisruptionBudget made for it).
    type: dict
  annotations:
    description: Annotations of the workspace, for example C(kaito.sh/enablelb).
    type: dict
  runtime:
    description: Inference runtime, set as the C(kaito.sh/runtime) annotation. KAITO's default is C(vllm).
    type: str
    choices: [vllm, transformers]
  disable_benchmark:
    description:
      - Sets the C(kaito.sh/disable-benchmark) annotation. vLLM presets otherwise run a benchmark before
        C(WorkspaceSucceeded) turns C(True) (C(InferenceReady) does not wait for it).
    type: bool
  resource:
    description: Nodes for the workload (C(resource) of the workspace). Required with O(state=present).
    type: dict
    suboptions:
      instance_type:
        description:
          - Azure VM size KAITO provisions nodes of (AKS add-on, node auto-provisioning). Leave empty for
            bring-your-own nodes, where KAITO requires it empty. Cannot change once set.
        type: str
      count:
        description: Number of nodes (server default 1). Cannot change.
        type: int
      label_selector:
        description:
          - Label selector of the nodes, as C(matchLabels) and/or C(matchExpressions). Required. Cannot change.
        type: dict
      preferred_nodes:
        description: Existing nodes to prefer.
        type: list
        elements: str
      partition:
        description: GPU partition (KAITO 0.12+, bring-your-own nodes with the C(enableMIG)/C(enableAccelerator) feature gates). Cannot change.
        type: dict
        suboptions:
          mode:
            description: Partitioning mode.
            type: str
            choices: [mig, accelerator]
            required: true
          profile:
            description: MIG profile, for example C(1g.10gb).
            type: str
          count:
            description: Number of partitions (mode C(accelerator)).
            type: int
  preset:
    description: Preset model (C(inference.preset)). Mutually exclusive with O(template) and O(tuning). Cannot change.
    type: dict
    suboptions:
      name:
        description:
          - Preset name (for example C(phi-4-mini-instruct)), a model catalog name, or a Hugging Face repository id
            (C(org/model), KAITO 0.9+).
        type: str
        required: true
      access_mode:
        description: Whether the preset image is public or in a private registry (server default C(public)).
        type: str
        choices: [public, private]
      model_access_secret:
        description: Secret in the namespace with key C(HF_TOKEN), for gated models (KAITO rejects it for other models).
        type: str
      image:
        description: Model image, for O(preset.access_mode=private).
        type: str
      image_pull_secrets:
        description: Pull secrets for O(preset.image).
        type: list
        elements: str
  template:
    description:
      - Pod template (C(inference.template), a PodTemplateSpec with C(spec.containers)) for a model no preset covers.
        KAITO runs it as is, without GPU checks, so it also serves CPU models. It may change, but not be added to or
        removed from an existing workspace.
    type: dict
  config:
    description:
      - Name of the ConfigMap (key C(inference_config.yaml)) with the runtime parameters. Defaults to
        C(<name>-inference-config) when O(inference_config) is set, else KAITO's own default.
    type: str
  inference_config:
    description:
      - Content of C(inference_config.yaml) (a mapping or a YAML string), for example a C(vllm) mapping of vLLM options.
        The module creates or updates the ConfigMap named by O(config) before the workspace, which needs it to exist.
    type: raw
  adapters:
    description: LoRA adapters merged into a preset model (at most 10).
    type: list
    elements: dict
    suboptions:
      name:
        description: Adapter name (also the container name).
        type: str
        required: true
      image:
        description: Image with the adapter in its C(data) directory.
        type: str
      image_pull_secrets:
        description: Pull secrets for O(adapters[].image).
        type: list
        elements: str
      urls:
        description: URLs to download the adapter from.
        type: list
        elements: str
      volume_source:
        description: Kubernetes volume source with the adapter.
        type: dict
      strength:
        description: Weight of the adapter, for example C("1.0").
        type: str
  tuning:
    description:
      - Fine-tuning job (C(tuning), in KAITO's API form with C(preset), C(method), C(config), C(input), C(output)).
        Mutually exclusive with O(preset) and O(template); a workspace cannot switch between tuning and inference.
    type: dict
  pod_disruption_budget:
    description:
      - Creates a PodDisruptionBudget named like the workspace over its pods (label C(kaito.sh/workspace)). KAITO makes
        none. C(max_unavailable=1) (the default) keeps node drains and cluster upgrades possible for one replica.
    type: dict
    suboptions:
      max_unavailable:
        description: Pods that may be unavailable (number or percentage). Default 1.
        type: raw
      min_available:
        description: Pods that must stay available (number or percentage), instead of O(pod_disruption_budget.max_unavailable).
        type: raw
  recreate:
    description:
      - Allow changes KAITO cannot make in place by deleting the workspace, waiting for its finalizer, and creating it
        again. The model stops serving in between.
    type: bool
    default: false
  wait:
    default: true
  wait_for:
    description:
      - Condition types that must be C(True). Default C(InferenceReady) (the rule KAITO's own CI uses), or
        C(WorkspaceSucceeded) for O(tuning).
    type: list
    elements: str
  wait_timeout:
    default: 1800
  wait_sleep:
    default: 5.0
  fail_fast:
    description:
      - Stop waiting as soon as a condition of O(wait_for) is C(False) for the current generation with a reason that is
        not in O(pending_reasons), and fail with it.
    type: bool
    default: true
  pending_reasons:
    description: Reasons of a C(False) condition that mean "still starting" rather than failure.
    type: list
    elements: str
    default: [WorkspaceInferenceStatusPending, workspacePending]
  events_limit:
    description: How many recent events of the workspace and its pods to return when it fails or times out.
    type: int
    default: 10
  force_conflicts:
    description: Take over fields that another field manager owns instead of failing with the conflict.
    type: bool
    default: false
extends_documentation_fragment:
  - aiplatform.aks.state
  - aiplatform.aks.k8s_auth
  - aiplatform.aks.k8s_wait
  - aiplatform.aks.attributes
attributes:
  check_mode:
    description:
      - Server-side dry run; nothing is written and nothing is waited for. A recreate is reported, not done.
      - When O(namespace) does not exist yet (a run would create it first), the workspace is dry-run as a create in the
        namespace C(default), because KAITO's admission rules do not depend on the namespace; where that cannot be tried
        (no right to create there, no such namespace, a workspace of the same name there) the module warns.
        Its ConfigMap and PodDisruptionBudget are reported as created.
    support: full
  diff_mode:
    description: Returns the before and after state of the workspace and its ConfigMap and PodDisruptionBudget.
    support: full
notes:
  - Create routes to the model only after this module returns. KAITO's Service publishes pods that are not ready
    yet (C(publishNotReadyAddresses)), so traffic sent earlier can fail while the model loads.
seealso:
  - module: aiplatform.aks.inference_probe
  - module: aiplatform.aks.kaito_info
requirements:
  - kubernetes >= 37
  - PyYAML
'''

EXAMPLES = r'''
- name: Serve Phi-4 mini on bring-your-own GPU nodes with vLLM parameters and a disruption budget
  aiplatform.aks.kaito_workspace:
    name: phi-4-mini
    namespace: ai-serving
    disable_benchmark: true
    resource:
      label_selector:
        matchLabels: {apps: llm-gpu}
    preset:
      name: phi-4-mini-instruct
    inference_config:
      vllm:
        max-model-len: 4096
        gpu-memory-utilization: 0.9
    pod_disruption_budget:
      max_unavailable: 1

- name: A gated model on a node KAITO provisions (AKS add-on)
  aiplatform.aks.kaito_workspace:
    name: llama-3-1-8b
    namespace: ai-serving
    resource:
      instance_type: Standard_NC24ads_A100_v4
      label_selector:
        matchLabels: {apps: llama-3-1-8b}
    preset:
      name: meta-llama/Llama-3.1-8B-Instruct
      model_access_secret: hf-token

- name: Change the preset, which KAITO only allows by deleting and creating the workspace
  aiplatform.aks.kaito_workspace:
    name: phi-4-mini
    namespace: ai-serving
    resource:
      label_selector:
        matchLabels: {apps: llm-gpu}
    preset:
      name: phi-4
    recreate: true

- name: Remove the workspace, its ConfigMap and its disruption budget
  aiplatform.aks.kaito_workspace:
    name: phi-4-mini
    namespace: ai-serving
    state: absent
'''

RETURN = r'''
workspace_action:
  description: What happened to the workspace.
  returned: always
  type: str
  choices: [created, updated, unchanged, recreated, deleted, absent]
  sample: unchanged
workspace:
  description: The workspace as the server returns it after the change and the wait (the planned object in check mode).
  returned: always
  type: dict
ready:
  description: Whether every condition in O(wait_for) is C(True) for the workspace's current generation.
  returned: always
  type: bool
conditions:
  description: Status conditions of the workspace.
  returned: always
  type: list
  elements: dict
service:
  description: Where KAITO serves the model (its Service, port 80), for M(aiplatform.aks.inference_probe) and routes.
  returned: when O(state=present)
  type: dict
  contains:
    name: {description: Service name (the workspace name)., type: str, returned: always}
    namespace: {description: Namespace., type: str, returned: always}
    port: {description: Service port., type: int, returned: always, sample: 80}
immutable_changes:
  description: Changes KAITO cannot make in place, with O(recreate=true) the reason for the recreate.
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{field: inference.preset, before: {name: phi-4-mini-instruct}, after: {name: phi-4}}]
objects:
  description: Every object handled (ConfigMap, Workspace, PodDisruptionBudget) with the action taken.
  returned: always
  type: list
  elements: dict
events:
  description: Recent events of the workspace and its pods, oldest first.
  returned: on failure of the wait
  type: list
  elements: dict
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.apply import report
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import wait_spec
from ansible_collections.aiplatform.aks.plugins.module_utils.kaito.workspace import (
    PENDING_REASONS, SERVICE_PORT, WorkspaceError, WorkspaceReconciler, conditions, readiness, validate_params)
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def argument_spec():
    return merge_specs(
        STATE_ARG_SPEC, wait_spec(wait=True, timeout=1800, sleep=5.0),
        name=dict(type='str', required=True),
        namespace=dict(type='str', required=True),
        labels=dict(type='dict'),
        annotations=dict(type='dict'),
        runtime=dict(type='str', choices=['vllm', 'transformers']),
        disable_benchmark=dict(type='bool'),
        resource=dict(type='dict', options=dict(
            instance_type=dict(type='str'),
            count=dict(type='int'),
            label_selector=dict(type='dict'),
            preferred_nodes=dict(type='list', elements='str'),
            partition=dict(type='dict', options=dict(
                mode=dict(type='str', choices=['mig', 'accelerator'], required=True),
                profile=dict(type='str'),
                count=dict(type='int'),
            )),
        )),
        preset=dict(type='dict', options=dict(
            name=dict(type='str', required=True),
            access_mode=dict(type='str', choices=['public', 'private']),
            model_access_secret=dict(type='str', no_log=False),
            image=dict(type='str'),
            image_pull_secrets=dict(type='list', elements='str', no_log=False),
        )),
        template=dict(type='dict'),
        config=dict(type='str'),
        inference_config=dict(type='raw'),
        adapters=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            image=dict(type='str'),
            image_pull_secrets=dict(type='list', elements='str', no_log=False),
            urls=dict(type='list', elements='str'),
            volume_source=dict(type='dict'),
            strength=dict(type='str'),
        )),
        tuning=dict(type='dict'),
        pod_disruption_budget=dict(type='dict', options=dict(
            max_unavailable=dict(type='raw'),
            min_available=dict(type='raw'),
        )),
        recreate=dict(type='bool', default=False),
        wait_for=dict(type='list', elements='str'),
        fail_fast=dict(type='bool', default=True),
        pending_reasons=dict(type='list', elements='str', default=list(PENDING_REASONS)),
        events_limit=dict(type='int', default=10),
        force_conflicts=dict(type='bool', default=False),
    )


def main():
    module = K8sModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('preset', 'template', 'tuning')],
        required_if=[('state', 'present', ('resource',))],
    )
    params = module.params
    module.fail_on_input(validate_params(params))

    reconciler = WorkspaceReconciler(module.client, params, check_mode=module.check_mode)
    try:
        if params['state'] == 'absent':
            records, record = reconciler.absent()
            changes = None
        else:
            records, record, changes = reconciler.present()
    except WorkspaceError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    except K8sError as exc:
        module.fail_json(msg=str(exc))

    for warning in reconciler.warnings:
        module.warn(warning)
    changed, objects, diffs = report(records, module._diff)
    workspace = record['object'] or {}
    result = dict(changed=changed, workspace_action=record['action'], workspace=workspace, objects=objects,
                  conditions=conditions(workspace), ready=False)
    if diffs is not None:
        result['diff'] = diffs
    if params['state'] == 'present':
        result['ready'] = readiness(workspace, reconciler.wait_for())[0] == 'ready'
        result['service'] = dict(name=params['name'], namespace=params['namespace'], port=SERVICE_PORT)
        result['immutable_changes'] = changes
    module.exit_json(**result)


if __name__ == '__main__':
    main()
