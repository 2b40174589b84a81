"""KAITO Workspace logic: rendering, fields KAITO cannot change, readiness, events."""

import copy

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.kaito.workspace import (
    immutable_changes, readiness, recent_events, render_inference_config, render_pdb, render_workspace, validate_params)

GPU = {'label_selector': {'matchLabels': {'apps': 'llm-gpu'}}}


def params(**extra):
    p = {'name': 'phi', 'namespace': 'ai', 'state': 'present', 'resource': GPU, 'preset': {'name': 'phi-4-mini-instruct'}}
    p.update(extra)
    return p


def test_v1beta1_has_top_level_resource_and_inference_and_only_what_was_asked():
    ws = render_workspace(params())
    assert ws == {'apiVersion': 'kaito.sh/v1beta1', 'kind': 'Workspace',
                  'metadata': {'name': 'phi', 'namespace': 'ai', 'labels': {'app.kubernetes.io/managed-by': 'aiplatform.aks'}},
                  'resource': {'labelSelector': {'matchLabels': {'apps': 'llm-gpu'}}},
                  'inference': {'preset': {'name': 'phi-4-mini-instruct'}}}
    assert 'spec' not in ws


def test_preset_options_annotations_adapters_and_resource_fields():
    ws = render_workspace(params(
        runtime='transformers', disable_benchmark=True, annotations={'kaito.sh/enablelb': 'True'}, labels={'team': 'ml'},
        resource={'instance_type': 'Standard_NC24ads_A100_v4', 'count': 2, 'label_selector': GPU['label_selector'],
                  'preferred_nodes': ['n1'], 'partition': {'mode': 'mig', 'profile': '1g.10gb', 'count': None}},
        preset={'name': 'meta-llama/Llama-3.1-8B-Instruct', 'access_mode': 'private', 'model_access_secret': 'hf-token',
                'image': 'registry.example/llama:1', 'image_pull_secrets': ['pull'], },
        adapters=[{'name': 'a1', 'image': 'registry.example/a1:1', 'strength': 0.5, 'image_pull_secrets': None, 'urls': None, 'volume_source': None}]))
    assert ws['metadata']['annotations'] == {'kaito.sh/enablelb': 'True', 'kaito.sh/runtime': 'transformers', 'kaito.sh/disable-benchmark': 'true'}
    assert ws['metadata']['labels'] == {'team': 'ml', 'app.kubernetes.io/managed-by': 'aiplatform.aks'}
    assert ws['resource'] == {'labelSelector': GPU['label_selector'], 'instanceType': 'Standard_NC24ads_A100_v4', 'count': 2,
                              'preferredNodes': ['n1'], 'partition': {'mode': 'mig', 'profile': '1g.10gb'}}
    assert ws['inference']['preset'] == {'name': 'meta-llama/Llama-3.1-8B-Instruct', 'accessMode': 'private', 'presetOptions': {
        'modelAccessSecret': 'hf-token', 'image': 'registry.example/llama:1', 'imagePullSecrets': ['pull']}}
    assert ws['inference']['adapters'] == [{'source': {'name': 'a1', 'image': 'registry.example/a1:1'}, 'strength': '0.5'}]


def test_empty_instance_type_means_bring_your_own_nodes():
    assert 'instanceType' not in render_workspace(params(resource=dict(GPU, instance_type='')))['resource']


def test_template_and_inference_config_and_tuning():
    template = {'spec': {'containers': [{'name': 'c', 'image': 'i'}]}}
    ws = render_workspace(params(preset=None, template=template, inference_config={'vllm': {'max-model-len': 4096}}))
    assert ws['inference'] == {'template': template, 'config': 'phi-inference-config'}
    cm = render_inference_config(params(inference_config={'vllm': {'max-model-len': 4096}}))
    assert cm['metadata'] == {'name': 'phi-inference-config', 'namespace': 'ai',
                              'labels': {'app.kubernetes.io/managed-by': 'aiplatform.aks', 'aiplatform.aks/workspace': 'phi'}}
    assert cm['data'] == {'inference_config.yaml': 'vllm:\n  max-model-len: 4096\n'}
    assert render_inference_config(params(config='mine', inference_config='a: 1\n'))['metadata']['name'] == 'mine'
    assert render_workspace(params(config='shared'))['inference']['config'] == 'shared'
    assert render_inference_config(params()) is None
    tuning = {'preset': {'name': 'phi-3'}, 'method': 'qlora', 'input': {'urls': ['u']}, 'output': {'image': 'o'}}
    ws = render_workspace(params(preset=None, tuning=tuning))
    assert ws['tuning'] == tuning and 'inference' not in ws


@pytest.mark.parametrize('budget, spec', [
    ({}, {'maxUnavailable': 1}),
    ({'max_unavailable': '2'}, {'maxUnavailable': 2}),
    ({'min_available': '50%'}, {'minAvailable': '50%'}),
])
def test_pdb_selects_the_workspace_pods(budget, spec):
    pdb = render_pdb(params(pod_disruption_budget=budget), 'policy/v1')
    assert pdb['apiVersion'] == 'policy/v1' and pdb['metadata']['name'] == 'phi'
    assert pdb['spec'] == dict(spec, selector={'matchLabels': {'kaito.sh/workspace': 'phi'}})
    assert render_pdb(params(), 'policy/v1') is None


@pytest.mark.parametrize('p, problem', [
    (params(name='Phi'), 'DNS-1123'),
    (params(name='x' * 64), 'DNS-1123'),
    (params(preset=None), 'one of preset, template or tuning'),
    (params(resource={'label_selector': None}), 'label_selector is required'),
    (params(resource={'label_selector': {'apps': 'x'}}), 'matchLabels and/or matchExpressions'),
    (params(preset=None, template={'spec': {}}, adapters=[{'name': 'a'}]), 'adapters need a preset'),
    (params(pod_disruption_budget={'max_unavailable': 1, 'min_available': 1}), 'not both'),
])
def test_validation(p, problem):
    assert any(problem in msg for msg in validate_params(p))


def test_absent_needs_no_model():
    assert validate_params({'name': 'phi', 'namespace': 'ai', 'state': 'absent'}) == []


LIVE = {'resource': {'count': 1, 'instanceType': 'Standard_NC24ads_A100_v4', 'labelSelector': {'matchLabels': {'apps': 'gpu'}}},
        'inference': {'preset': {'name': 'phi-4-mini-instruct', 'accessMode': 'public'}, 'config': 'x'}}


def desired(**changes):
    d = copy.deepcopy(LIVE)
    d['resource'].pop('count')
    d['inference']['preset'].pop('accessMode')
    for path, value in changes.items():
        section, _sep, key = path.partition('__')
        if value is None:
            d[section].pop(key, None)
        else:
            d[section][key] = value
    return d


def fields(changes):
    return [c['field'] for c in changes]


def test_server_defaults_and_mutable_fields_are_not_immutable_changes():
    assert immutable_changes(LIVE, desired()) == []
    assert immutable_changes(LIVE, desired(inference__config='other')) == []
    assert immutable_changes(LIVE, desired(resource__preferredNodes=['n1'])) == []
    explicit = desired(resource__count=1)
    explicit['inference']['preset']['accessMode'] = 'public'
    assert immutable_changes(LIVE, explicit) == []


@pytest.mark.parametrize('change, field', [
    ({'resource__count': 2}, 'resource.count'),
    ({'resource__instanceType': 'Standard_NC48ads_A100_v4'}, 'resource.instanceType'),
    ({'resource__instanceType': None}, 'resource.instanceType'),  # server-side apply would remove it
    ({'resource__labelSelector': {'matchLabels': {'apps': 'other'}}}, 'resource.labelSelector'),
    ({'resource__partition': {'mode': 'mig', 'profile': '1g.10gb'}}, 'resource.partition'),
    ({'inference__preset': {'name': 'phi-4'}}, 'inference.preset'),
    ({'inference__preset': {'name': 'phi-4-mini-instruct', 'presetOptions': {'modelAccessSecret': 's'}}}, 'inference.preset'),
    ({'inference__template': {'spec': {}}}, 'inference.template'),
])
def test_each_immutable_field(change, field):
    assert fields(immutable_changes(LIVE, desired(**change))) == [field]


def test_instance_type_may_be_set_once_and_template_may_change():
    live = copy.deepcopy(LIVE)
    del live['resource']['instanceType']
    assert immutable_changes(live, desired()) == []
    live = {'resource': {'labelSelector': {'matchLabels': {'a': 'b'}}}, 'inference': {'template': {'spec': {'containers': [{'name': 'a'}]}}}}
    changed = copy.deepcopy(live)
    changed['inference']['template']['spec']['containers'][0]['image'] = 'new'
    assert immutable_changes(live, changed) == []
    assert fields(immutable_changes(live, {'resource': live['resource'], 'inference': {'preset': {'name': 'p'}}})) == [
        'inference.preset', 'inference.template']


def test_inference_and_tuning_do_not_switch():
    tuning = {'resource': LIVE['resource'], 'tuning': {'preset': {'name': 'phi-3'}, 'method': 'lora'}}
    assert fields(immutable_changes(LIVE, tuning)) == ['inference/tuning']
    assert fields(immutable_changes(tuning, dict(tuning, tuning={'preset': {'name': 'phi-4'}, 'method': 'lora'}))) == ['tuning.preset']


def test_changes_show_the_values_as_written():
    change = immutable_changes(LIVE, desired(resource__labelSelector={'matchLabels': {'apps': 'other'}}))[0]
    assert change == {'field': 'resource.labelSelector', 'before': {'matchLabels': {'apps': 'gpu'}}, 'after': {'matchLabels': {'apps': 'other'}}}


def ws_status(generation, *conditions, **status):
    return {'kind': 'Workspace', 'metadata': {'name': 'phi', 'generation': generation}, 'status': dict(status, conditions=list(conditions))}


def cond(ctype, status='True', reason='Ok', generation=2, message='m'):
    return {'type': ctype, 'status': status, 'reason': reason, 'message': message, 'observedGeneration': generation}


def test_ready_only_for_the_current_generation():
    assert readiness(ws_status(2, cond('InferenceReady')), ['InferenceReady'])[0] == 'ready'
    state, why, _cond = readiness(ws_status(3, cond('InferenceReady')), ['InferenceReady'])
    assert state == 'pending' and 'older generation' in why
    state, why, _cond = readiness(ws_status(2, cond('ResourceReady')), ['InferenceReady'])
    assert state == 'pending' and 'InferenceReady not reported yet' in why


def test_every_wanted_condition_must_be_true():
    status = ws_status(2, cond('InferenceReady'), cond('WorkspaceSucceeded', 'False', 'workspacePending'))
    assert readiness(status, ['InferenceReady'])[0] == 'ready'
    assert readiness(status, ['InferenceReady', 'WorkspaceSucceeded'])[0] == 'pending'


def test_a_classified_failure_fails_and_the_pending_reason_waits():
    failed = ws_status(2, cond('InferenceReady', 'False', 'ContainerCrashLoopBackOff', message='back-off restarting'), state='NotReady')
    state, why, condition = readiness(failed, ['InferenceReady'])
    assert state == 'failed' and why == 'InferenceReady is False (ContainerCrashLoopBackOff): back-off restarting'
    assert condition['reason'] == 'ContainerCrashLoopBackOff'
    assert readiness(failed, ['InferenceReady'], fail_fast=False)[0] == 'pending'
    pending = ws_status(2, cond('InferenceReady', 'False', 'WorkspaceInferenceStatusPending'), state='Pending')
    state, why, _cond = readiness(pending, ['InferenceReady'])
    assert state == 'pending' and why.endswith('state Pending')
    stale_failure = ws_status(3, cond('InferenceReady', 'False', 'ImagePullError', generation=2))
    assert readiness(stale_failure, ['InferenceReady'])[0] == 'pending', 'a failure of an older generation is history'


class FakeList:
    def __init__(self, items):
        self.items = items

    def to_dict(self):
        return {'items': self.items}


class FakeResources:
    def __init__(self, pods, events):
        self.data = {'Pod': pods, 'Event': events}
        self.calls = []

    def get(self, api_version, kind):
        outer = self

        class Api:
            def get(self, namespace=None, label_selector=None):
                outer.calls.append((kind, namespace, label_selector))
                return FakeList(outer.data[kind])
        return Api()


class FakeClient:
    def __init__(self, pods, events):
        self.resources = FakeResources(pods, events)


def event(kind, name, reason, time):
    return {'involvedObject': {'kind': kind, 'name': name}, 'reason': reason, 'message': reason.lower(), 'type': 'Warning',
            'lastTimestamp': time, 'count': 1, 'metadata': {'name': '%s.%s' % (name, reason)}}


def test_recent_events_of_the_workspace_and_its_pods_oldest_first():
    pods = [{'metadata': {'name': 'phi-abc'}}]
    events = [event('Pod', 'phi-abc', 'BackOff', '2026-01-01T00:00:03Z'), event('Pod', 'other-0', 'Pulled', '2026-01-01T00:00:01Z'),
              event('Pod', 'phi-0', 'Failed', '2026-01-01T00:00:02Z'), event('Workspace', 'phi', 'Created', '2026-01-01T00:00:00Z'),
              event('Pod', 'phi-extra-0', 'Other', '2026-01-01T00:00:04Z')]
    client = FakeClient(pods, events)
    found = recent_events(client, 'ai', 'phi', limit=10)
    assert [e['reason'] for e in found] == ['Created', 'Failed', 'BackOff']
    assert found[-1] == {'time': '2026-01-01T00:00:03Z', 'type': 'Warning', 'reason': 'BackOff', 'message': 'backoff',
                         'object': 'Pod/phi-abc', 'count': 1}
    assert ('Pod', 'ai', 'kaito.sh/workspace=phi') in client.resources.calls
    assert [e['reason'] for e in recent_events(client, 'ai', 'phi', limit=2)] == ['Failed', 'BackOff']
    assert recent_events(client, 'ai', 'phi', limit=0) == []


@pytest.mark.parametrize('config, words', [
    ('vllm: {max-model-len: 4096', ['inference_config is not valid YAML', 'flow mapping']),
    ('- just\n- a list\n', ['inference_config must be a YAML mapping', 'list']),
    (42, ['inference_config must be a mapping or a YAML string', 'int']),
])
def test_an_inference_config_that_does_not_parse_is_refused_naming_the_option(config, words):
    p = {'name': 'phi', 'namespace': 'ai', 'preset': {'name': 'phi-4-mini-instruct'},
         'resource': {'label_selector': {'matchLabels': {'apps': 'gpu'}}}, 'inference_config': config}
    text = ' '.join(validate_params(p))
    assert all(word in text for word in words), text


def test_a_parsing_inference_config_passes():
    p = {'name': 'phi', 'namespace': 'ai', 'preset': {'name': 'phi-4-mini-instruct'},
         'resource': {'label_selector': {'matchLabels': {'apps': 'gpu'}}}, 'inference_config': 'vllm:\n  max-model-len: 4096\n'}
    assert validate_params(p) == []
