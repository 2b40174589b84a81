"""The KAITO admission stand-in's rules (tests/integration/kaito_admission.py), without a server."""

import pytest

from tests.integration import kaito_admission as ka


def ws(name='phi-4-mini', resource=None, inference=None, annotations=None, **extra):
    obj = {'apiVersion': 'kaito.sh/v1beta1', 'kind': 'Workspace',
           'metadata': {'name': name, 'namespace': 'ai-serving', 'annotations': annotations or {}},
           'resource': resource if resource is not None else {'instanceType': 'Standard_NC24ads_A100_v4'},
           'inference': inference if inference is not None else {'preset': {'name': 'phi-4-mini-instruct'}}}
    obj.update(extra)
    return obj


GPU_LABELS = {'apps': 'llm-gpu', 'nvidia.com/gpu.product': 'NVIDIA-A100', 'nvidia.com/gpu.count': '1', 'nvidia.com/gpu.memory': '81920'}
GPU_NODE = {'metadata': {'name': 'gpu-0', 'labels': GPU_LABELS}}
KIND_NODE = {'metadata': {'name': 'kind-control-plane', 'labels': {'kubernetes.io/os': 'linux'}}}


def test_gpu_example_admitted_with_auto_provisioning_and_a_fitting_sku():
    assert ka.review(ws()) is None


def test_gpu_example_without_instance_type_refused_with_auto_provisioning():
    text = ka.review(ws(resource={'labelSelector': {'matchLabels': {'apps': 'llm-gpu'}}}))
    # KAITO reports both: the missing field, and the empty name as an unsupported instance type.
    assert text.split('\n')[1] == ('missing field(s): spec.instanceType is required when node auto-provisioning is enabled, '
                                   'spec.resource.instanceType')
    assert text.startswith('invalid value: Unsupported instance type . Supported SKUs: [')


def test_gpu_example_on_kind_refused_when_no_node_matches():
    byo = ws(resource={'labelSelector': {'matchLabels': {'apps': 'llm-gpu'}}})
    assert ka.review(byo, node_auto_provisioning=False, nodes=[KIND_NODE]) == ka.NO_NODES + ': '
    assert ka.review(byo, node_auto_provisioning=False, nodes=[GPU_NODE]) is None


def test_byo_node_without_gpu_labels_refused():
    byo = ws(resource={'labelSelector': {'matchLabels': {'kubernetes.io/os': 'linux'}}})
    assert 'missing required nvidia.com labels on node kind-control-plane' in ka.review(byo, node_auto_provisioning=False, nodes=[KIND_NODE])


def test_instance_type_refused_in_byo_mode():
    text = ka.review(ws(resource={'instanceType': 'Standard_NC24ads_A100_v4', 'labelSelector': {'matchLabels': {'apps': 'llm-gpu'}}}),
                     node_auto_provisioning=False, nodes=[GPU_NODE])
    assert text == ('invalid value: instanceType must be empty when node auto-provisioning is disabled (BYO scenario): '
                    'spec.resource.instanceType')


def test_unknown_sku_refused_with_supported_list():
    text = ka.review(ws(resource={'instanceType': 'Standard_F4s_v2'}))
    assert text.startswith('invalid value: Unsupported instance type Standard_F4s_v2. Supported SKUs: [Standard_NC24ads_A100_v4 ')
    assert text.endswith(': resource.instanceType')
    # KAITO on Azure lets other N- and D-series names through (it cannot know every size).
    assert ka.review(ws(resource={'instanceType': 'Standard_NC6s_v3'})) is None


def test_gpu_memory_checked_for_transformers_runtime():
    big = ws(resource={'instanceType': 'Standard_NV36ads_A10_v5'}, inference={'preset': {'name': 'phi-4'}},
             annotations={'kaito.sh/runtime': 'transformers'})
    assert ka.review(big) == ('invalid value: Insufficient total GPU memory: Instance type Standard_NV36ads_A10_v5 has a '
                              'total of 24Gi, but preset phi-4 requires at least 27.31Gi: resource.instanceType')
    big['metadata']['annotations']['kaito.sh/bypass-resource-checks'] = 'true'
    assert ka.review(big) is None


@pytest.mark.parametrize('mutate, expected', [
    (lambda w: w['metadata'].update(name='Phi_4'), 'a lowercase RFC 1123 label must consist of'),
    (lambda w: w.pop('inference'), 'Either Inference or Tuning must be specified, not neither: spec'),
    (lambda w: w.update(tuning={'preset': {'name': 'phi-4'}}), 'Either Inference or Tuning must be specified, but not both: spec'),
    (lambda w: w['inference'].update(preset={'name': 'phi-5'}), 'invalid value: Unsupported inference preset name phi-5: inference.presetName'),
    (lambda w: w['inference'].update(template={'spec': {'containers': []}}), 'Preset and Template cannot be set at the same time: '),
    (lambda w: w.update(inference={}), 'missing field(s): inference.Preset or Template must be specified'),
    (lambda w: w['inference'].update(adapters=[{'source': {'name': 'a%d' % i}} for i in range(11)]),
     'Number of Adapters exceeds the maximum limit, maximum of 10 allowed'),
    (lambda w: w['inference'].update(adapters=[{'source': {'name': 'a'}}, {'source': {'name': 'a'}}]), 'Duplicate adapter source name found: a'),
    (lambda w: w['inference'].update(preset={'name': 'phi-2'}), 'Model phi-2 is deprecated and no longer supported: resource.presetName'),
    (lambda w: w['resource'].update(labelSelector={'matchExpressions': [{'key': 'a', 'operator': 'Exists'}]}),
     'invalid value: "Exists" is not a valid label selector operator: resource.labelSelector'),
    (lambda w: w['resource'].update(labelSelector={'matchLabels': {'kaito.sh/workspace': 'x'}}),
     'invalid value: matchLabels must contain at least one non-reserved label: resource.labelSelector.matchLabels'),
])
def test_create_refusals(mutate, expected):
    obj = ws()
    mutate(obj)
    text = ka.review(obj)
    assert text is not None and expected in text


@pytest.mark.parametrize('mutate, expected', [
    (lambda w: w['resource'].update(count=2), 'field is immutable: resource.count'),
    (lambda w: w['resource'].update(instanceType='Standard_NC48ads_A100_v4'),
     'instanceType cannot be changed once set when node auto-provisioning is enabled: resource.instanceType'),
    (lambda w: w['resource'].update(labelSelector={'matchLabels': {'apps': 'other'}}), 'field is immutable: resource.labelSelector'),
    (lambda w: w['inference'].update(preset={'name': 'phi-4'}), 'field is immutable: inference.preset'),
    (lambda w: w.pop('inference') and w.update(tuning={'preset': {'name': 'phi-4'}}), 'Inference field cannot be toggled once set: spec.inference'),
])
def test_update_refusals(mutate, expected):
    old = ws(resource={'instanceType': 'Standard_NC24ads_A100_v4', 'count': 1, 'labelSelector': {'matchLabels': {'apps': 'llm-gpu'}}})
    new = ws(resource=dict(old['resource']), inference=dict(old['inference']))
    mutate(new)
    assert expected in ka.review(new, old=old)
    assert ka.review(old, old=old) is None


def test_errors_merged_and_sorted_like_knative():
    text = ka.review(ws(name='Bad', resource={}, inference={'preset': {'name': 'nope'}}))
    lines = text.split('\n')
    assert lines == sorted(lines)
    assert len(lines) == 3
