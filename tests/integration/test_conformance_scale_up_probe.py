"""The opt-in functional probe of `cluster_autoscaling` on the test apiserver, beside the cluster autoscaler stand-in
(cluster_autoscaler_standin.py: the Job controller, kube-scheduler, the cluster autoscaler with AKS GPU node groups,
the new nodes' kubelet): it passes when a GPU node is added for the pending GPU pods, fails naming NotTriggerScaleUp
when the autoscaler will not scale up, fails by timeout when nobody answers, runs nothing unless opted in, and in every
case leaves nothing behind once the context is cleaned up."""

import re
import time
import uuid
from pathlib import Path

import pytest
import yaml

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import scale_up_probe
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.context import ProbeContext
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.probes import PROBES
from tests.integration.cluster_autoscaler_standin import RUN_LABEL, ClusterAutoscalerStandIn, NodeGroup
from tests.integration.module_call import call_module
from tests.integration.probe_leftovers import checks
from tests.integration.probe_leftovers import cleaned as cleaned_of

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = yaml.safe_load((ROOT / 'roles' / 'ai_conformance' / 'files' / 'checklists' / 'AIConformance-1.34.yaml').read_text())
GPU_POOL = {'name': 'gpunp', 'vmSize': 'Standard_NC24ads_A100_v4', 'enableAutoScaling': True, 'minCount': 0, 'maxCount': 3}
SCALE_UP_TIMEOUT = 8
PROBED_KINDS = [('v1', 'Pod'), ('batch/v1', 'Job')]
ALL_STEPS = {'GPU nodes before': True, 'probe pods': True, 'pod Unschedulable': True, 'TriggeredScaleUp event': True,
             'new GPU node Ready': True, 'probe pods scheduled': True}
OPT_IN_NOTE = 'run the functional probe (functional: true with probes.gpu_scale_up: true; costly: a GPU node is added)'


def cleaned(k8s_client, ctx):
    return cleaned_of(k8s_client, ctx, PROBED_KINDS)


def context(k8s_client, **settings):
    return ProbeContext(k8s_client, dict({'namespace_prefix': 'aic-' + uuid.uuid4().hex[:6], 'timeout': 4, 'gpu_scale_up': True,
                                          'scale_up_timeout': SCALE_UP_TIMEOUT}, **settings), sleep=0.2)


@pytest.fixture
def ctx(k8s_client):
    """A probe context opted in, with short waits, in namespaces of a prefix of its own (the stand-in acts there
    only); cleaned at the end if the test did not clean it."""
    made = context(k8s_client)
    yield made
    made.cleanup()


def observed(result):
    return dict((e['check'], e['observed']) for e in result['evidence'])


def probe_job(k8s_client, ctx):
    record = next(r for r in ctx.objects if r['kind'] == 'Job')
    return k8s_client.resources.get(api_version='batch/v1', kind='Job').get(name=record['name'], namespace=record['namespace']).to_dict()


@pytest.mark.parametrize('size, pods', [(0, 1), (1, 2)], ids=['pool at zero', 'pool with one free GPU'])
def test_passes_when_the_autoscaler_adds_a_gpu_node_for_the_pending_pods(k8s_client, ctx, size, pods):
    group = NodeGroup(size=size, max_size=3)
    started = time.monotonic()
    with ClusterAutoscalerStandIn(k8s_client, ctx.settings['namespace_prefix'], [group]).running() as standin:
        result = PROBES['cluster_autoscaling'](ctx)
        assert result['ok'] and not result.get('partial'), result
        assert checks(result) == ALL_STEPS
        seen = observed(result)
        added = '%s%06d' % (group.id, size)
        assert ('pod triggered scale-up: [{%s %d->%d (max: 3)}]' % (group.id, size, size + 1)) in seen['TriggeredScaleUp event']
        assert seen['TriggeredScaleUp event'].startswith('on pod aic-gpu-scale-up-') and 'from cluster-autoscaler: ' in seen['TriggeredScaleUp event']
        assert re.match(r'pod aic-gpu-scale-up-\w+-\w+: 0/\d+ nodes are available: .*Insufficient nvidia.com/gpu', seen['pod Unschedulable']) or \
            (size == 0 and seen['pod Unschedulable'].endswith(': no nodes available to schedule pods')), seen['pod Unschedulable']
        assert re.match(r'%s Ready with nvidia.com/gpu after \d+ s$' % added, seen['new GPU node Ready'])
        assert seen['probe pods scheduled'].startswith('%d of %d pods placed: ' % (pods, pods)) and '%s (new)' % added in seen['probe pods scheduled']
        if size:
            assert seen['GPU nodes before'] == '1 Ready GPU nodes: %s000000 (1 of 1 nvidia.com/gpu free)' % group.id
        else:
            assert seen['GPU nodes before'].startswith('no Ready GPU node')
        job = probe_job(k8s_client, ctx)
        spec = job['spec']['template']['spec']
        assert (job['spec']['parallelism'], job['spec']['completions']) == (pods, pods)
        assert job['spec']['activeDeadlineSeconds'] == SCALE_UP_TIMEOUT + scale_up_probe.DEADLINE_MARGIN
        assert spec['containers'][0]['resources'] == {'requests': {'nvidia.com/gpu': '1'}, 'limits': {'nvidia.com/gpu': '1'}}
        assert spec['containers'][0]['image'] == 'registry.k8s.io/pause:3.10'
        assert {'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'} in spec['tolerations']
        assert {'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'} in spec['tolerations']
        assert ('affinity' in spec) == bool(size)  # a label identifies the GPU nodes only when there is one
        notes = result['notes']
        plural = '%d pod%s' % (pods, 's' if pods > 1 else '')
        assert notes.startswith('%s pending, 1 nvidia.com/gpu each: the cluster autoscaler scaled up (pod triggered scale-up: ' % plural)
        assert 'GPU node %s was Ready' % added in notes and '; %s placed, 1 on the new node; ' % plural in notes
        assert len(spec['tolerations']) == 2  # the node's sku=gpu taint is tolerated already
        assert 'scale-down is left to the autoscaler' in notes and 'billed until it removes it' in notes
        assert [reason for pod, reason, message in standin.events] == ['TriggeredScaleUp']
        assert cleaned(k8s_client, ctx) == ([], [])
    assert sorted(set(r['kind'] for r in ctx.objects)) == ['Job', 'Namespace']
    assert time.monotonic() - started < SCALE_UP_TIMEOUT + 10
    nodes = k8s_client.resources.get(api_version='v1', kind='Node')
    assert nodes.get(label_selector='%s=%s' % (RUN_LABEL, standin.run)).to_dict()['items'] == []  # the stand-in removed its nodes


@pytest.mark.parametrize('group, message', [
    (dict(size=1, max_size=1), "pod didn't trigger scale-up: 1 max node group size reached"),
    (dict(gpus=0), "pod didn't trigger scale-up: 1 Insufficient nvidia.com/gpu"),
], ids=['group at max size', 'template without GPUs'])
def test_fails_naming_not_trigger_scale_up_when_the_autoscaler_will_not_scale(k8s_client, ctx, group, message):
    started = time.monotonic()
    with ClusterAutoscalerStandIn(k8s_client, ctx.settings['namespace_prefix'], [NodeGroup(**group)]).running():
        result = PROBES['cluster_autoscaling'](ctx)
        assert not result['ok'], result
        assert checks(result) == dict(ALL_STEPS, **{'TriggeredScaleUp event': False, 'new GPU node Ready': False, 'probe pods scheduled': False})
        seen = observed(result)
        assert re.match(r"none; NotTriggerScaleUp on pod aic-gpu-scale-up-\w+-\w+ from cluster-autoscaler: %s$" % re.escape(message),
                        seen['TriggeredScaleUp event'])
        assert seen['new GPU node Ready'] == 'no GPU node Ready that was not there before'
        assert result['notes'].startswith('cluster_autoscaling probe failed: TriggeredScaleUp event: none; NotTriggerScaleUp on pod ')
        assert message in result['notes'] and 'Timed out' not in result['notes']
        assert time.monotonic() - started < SCALE_UP_TIMEOUT  # the refusal ends the wait
        assert cleaned(k8s_client, ctx) == ([], [])


def test_is_partial_when_a_node_arrives_without_a_triggered_scale_up_event(k8s_client, ctx):
    group = NodeGroup(size=0, max_size=2)
    with ClusterAutoscalerStandIn(k8s_client, ctx.settings['namespace_prefix'], [group], report=False).running():
        result = PROBES['cluster_autoscaling'](ctx)
        assert result['ok'] and result['partial'], result
        assert checks(result) == dict(ALL_STEPS, **{'TriggeredScaleUp event': False})
        assert observed(result)['TriggeredScaleUp event'] == ('none on any probe pod, yet GPU node %s000000 arrived: not attributed to the '
                                                              'cluster autoscaler' % group.id)
        assert 'no TriggeredScaleUp event named a probe pod, so the scale-up is not attributed to the cluster autoscaler' in result['notes']
        assert cleaned(k8s_client, ctx) == ([], [])


def test_fails_by_timeout_without_an_autoscaler(k8s_client, ctx):
    started = time.monotonic()
    result = PROBES['cluster_autoscaling'](ctx)
    assert not result['ok']
    assert checks(result) == dict(ALL_STEPS, **{'pod Unschedulable': False, 'TriggeredScaleUp event': False, 'new GPU node Ready': False,
                                                'probe pods scheduled': False})
    assert observed(result)['pod Unschedulable'] == 'no probe pod reported Unschedulable (0 of 1 pods made)'
    assert result['notes'].startswith('cluster_autoscaling probe failed: Timed out after %ss waiting for the cluster autoscaler to add a GPU '
                                      'node for Job ' % SCALE_UP_TIMEOUT)
    assert 'the Job has made 0 of its 1 pods' in result['notes']
    took = time.monotonic() - started
    assert took >= SCALE_UP_TIMEOUT and took < SCALE_UP_TIMEOUT + 5
    assert cleaned(k8s_client, ctx) == ([], [])


def test_refuses_before_making_anything_when_too_many_gpus_are_free(k8s_client, ctx):
    group = NodeGroup(size=1, max_size=2, gpus=scale_up_probe.MAX_PODS)
    with ClusterAutoscalerStandIn(k8s_client, ctx.settings['namespace_prefix'], [group]).running():
        result = PROBES['cluster_autoscaling'](ctx)
    assert not result['ok'] and ctx.objects == []
    assert checks(result) == {'GPU nodes before': True, 'probe pods': False}
    assert observed(result)['probe pods'] == '16 GPUs are free: 17 pods of 1 GPU would be needed to leave one pending, more than the probe makes (16)'
    assert 'run it when fewer GPUs are free' in result['notes']


def test_runs_nothing_unless_opted_in(k8s_client):
    ctx = context(k8s_client, gpu_scale_up=False)
    assert PROBES['cluster_autoscaling'](ctx) is None and ctx.objects == []
    assert PROBES['cluster_autoscaling'](context(k8s_client, gpu_scale_up=None)) is None  # unset: the default, off


def test_through_the_module_the_probe_runs_only_when_opted_in(k8s_client, k8s_env):
    """ai_conformance with functional: true and the AKS pools (a GPU pool with the autoscaler on, so the static probe
    passes): without probes.gpu_scale_up the static finding stands and its notes say how to run the probe; with it the
    stand-in scales up and cluster_autoscaling is Implemented by the functional probe."""
    prefix = 'aic-' + uuid.uuid4().hex[:6]
    args = {'checklist': CHECKLIST, 'functional': True, 'node_pools': [GPU_POOL],
            'probes': {'namespace_prefix': prefix, 'timeout': 10, 'scale_up_timeout': 20}}
    with ClusterAutoscalerStandIn(k8s_client, prefix, [NodeGroup(GPU_POOL['name'], size=0, max_size=3)]).running() as standin:
        static = call_module('ai_conformance', args, env=k8s_env)
        assert not static.get('failed'), static.get('msg')
        found = dict((r['id'], r) for r in static['requirements'])['cluster_autoscaling']
        assert (found['status'], found['probe']) == ('Partially Implemented', 'static'), found
        assert found['notes'] == ('Static evidence only: the cluster autoscaler scales GPU pool gpunp between 0 and 3 nodes; %s to show the '
                                  'behaviour itself' % OPT_IN_NOTE)
        assert not [o for o in static['probe_objects'] if o['kind'] == 'Job'] and standin.events == []

        args['probes']['gpu_scale_up'] = True
        probed = call_module('ai_conformance', args, env=k8s_env)
        assert not probed.get('failed'), probed.get('msg')
    found = dict((r['id'], r) for r in probed['requirements'])['cluster_autoscaling']
    assert (found['status'], found['probe']) == ('Implemented', 'functional'), found
    assert found['notes'].startswith('Functional probe: 1 pod pending, 1 nvidia.com/gpu each: the cluster autoscaler scaled up')
    assert [e['check'] for e in found['evidence']] == ['an AKS GPU pool with the cluster autoscaler'] + list(ALL_STEPS)
    # this probe's objects: its Job and the namespace it is in (other requirements' probes run in the same call)
    job = next(o for o in probed['probe_objects'] if o['kind'] == 'Job')
    mine = [o for o in probed['probe_objects'] if job['namespace'] in (o['namespace'], o['name'])]
    assert sorted(o['kind'] for o in mine) == ['Job', 'Namespace'] and all(o['deleted'] for o in probed['probe_objects'])
    assert [reason for pod, reason, message in standin.events] == ['TriggeredScaleUp']
