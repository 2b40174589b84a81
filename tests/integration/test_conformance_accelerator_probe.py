"""The functional probe of `secure_accelerator_access` on the test apiserver, beside the accelerator access stand-in
(a scheduler, kubelet and NVIDIA container runtime with real device allocation): it passes on a secure runtime, fails
naming the case on a runtime that honours NVIDIA_VISIBLE_DEVICES or leaks every device, is partial when no GPU is
free for its positive control, fails by timeout without a kubelet or with a clear sentence without a GPU node, and in
every case leaves nothing behind once the context is cleaned up."""

import time
import uuid
from pathlib import Path

import pytest
import yaml

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import accelerator_probe as probe
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.context import ProbeContext
from tests.integration.accelerator_access_standin import AcceleratorAccessStandIn
from tests.integration.gpu_standin import Nodes, api
from tests.integration.module_call import call_module
from tests.integration.probe_leftovers import checks
from tests.integration.probe_leftovers import cleaned as cleaned_of

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = yaml.safe_load((ROOT / 'roles' / 'ai_conformance' / 'files' / 'checklists' / 'AIConformance-1.34.yaml').read_text())
TIMEOUT = 4
PROBED_KINDS = [('v1', 'Pod')]
ALL_CHECKS = [probe.CHECK_NODE, probe.CHECK_POSITIVE, probe.CHECK_NEGATIVE, probe.CHECK_HARDENING]
GPU_TAINT = {'key': 'sku', 'value': 'gpu', 'effect': 'NoSchedule'}


def cleaned(k8s_client, ctx):
    return cleaned_of(k8s_client, ctx, PROBED_KINDS)


@pytest.fixture
def ctx(k8s_client):
    """A probe context with short waits, in namespaces of a prefix of its own (the stand-in acts there only)."""
    context = ProbeContext(k8s_client, {'namespace_prefix': 'aic-' + uuid.uuid4().hex[:6], 'timeout': TIMEOUT}, sleep=0.2)
    yield context
    context.cleanup()


@pytest.fixture
def gpu_node(k8s_client):
    """One ready GPU node with 2 GPUs, its hostname label (as a kubelet sets it) and AKS's GPU pool taint."""
    nodes = Nodes(k8s_client)
    name = nodes.add('acc', {'kubernetes.azure.com/accelerator': 'nvidia'}, gpus={'nvidia.com/gpu': '2'})
    api(k8s_client, 'Node').patch(name=name, content_type='application/merge-patch+json', body={
        'metadata': {'labels': {probe.HOSTNAME_LABEL: name}}, 'spec': {'taints': [GPU_TAINT]}})
    yield name
    nodes.delete()


def names_of(ctx):
    return [r['name'] for r in ctx.objects if r['kind'] == 'Pod']


def test_a_secure_runtime_passes(k8s_client, ctx, gpu_node):
    with AcceleratorAccessStandIn(k8s_client, ctx.settings['namespace_prefix']).running():
        result = probe.secure_accelerator_access(ctx)
        problems, left = cleaned(k8s_client, ctx)
    assert result['ok'] and not result.get('partial'), result
    assert checks(result) == dict.fromkeys(ALL_CHECKS, True)
    observed = dict((e['check'], e['observed']) for e in result['evidence'])
    assert observed[probe.CHECK_NODE] == 'node %s: 2 nvidia.com/gpu allocatable, 2 free; tolerated taints: sku=gpu:NoSchedule' % gpu_node
    assert observed == dict(observed, **{probe.CHECK_POSITIVE: 'saw /dev/nvidia0', probe.CHECK_NEGATIVE: 'saw no GPU device',
                                         probe.CHECK_HARDENING: 'saw no GPU device'})
    positive, negative, hardening = names_of(ctx)
    assert result['notes'] == ('pod %s got exactly the 1 nvidia.com/gpu it asked for (/dev/nvidia0); pods without a request saw no GPU '
                               'device, NVIDIA_VISIBLE_DEVICES=all included' % positive)
    calls = [e['call'] for e in result['evidence'][1:]]
    assert calls[0].endswith('/%s on node %s, limits nvidia.com/gpu: 1' % (positive, gpu_node))
    assert calls[2].endswith('/%s on node %s, no GPU request, env NVIDIA_VISIBLE_DEVICES=all' % (hardening, gpu_node))
    assert (problems, left) == ([], [])


def test_a_runtime_that_honours_nvidia_visible_devices_fails_the_hardening_case(k8s_client, ctx, gpu_node):
    with AcceleratorAccessStandIn(k8s_client, ctx.settings['namespace_prefix'], honour_visible_devices_env=True).running():
        result = probe.secure_accelerator_access(ctx)
        problems, left = cleaned(k8s_client, ctx)
    assert not result['ok']
    assert checks(result) == dict(dict.fromkeys(ALL_CHECKS, True), **{probe.CHECK_HARDENING: False})
    hardening = names_of(ctx)[2]
    assert result['notes'] == ('GPU access is not isolated: pod %s (no GPU request, NVIDIA_VISIBLE_DEVICES=all) saw /dev/nvidia0, '
                               '/dev/nvidia1; the container runtime honours NVIDIA_VISIBLE_DEVICES from unprivileged containers (set '
                               'accept-nvidia-visible-devices-envvar-when-unprivileged = false in the NVIDIA container toolkit)' % hardening)
    assert (problems, left) == ([], [])


def test_a_runtime_that_leaks_every_device_fails_the_negative_case(k8s_client, ctx, gpu_node):
    with AcceleratorAccessStandIn(k8s_client, ctx.settings['namespace_prefix'], leak_all=True).running():
        result = probe.secure_accelerator_access(ctx)
        problems, left = cleaned(k8s_client, ctx)
    assert not result['ok']
    assert checks(result) == {probe.CHECK_NODE: True, probe.CHECK_POSITIVE: False, probe.CHECK_NEGATIVE: False, probe.CHECK_HARDENING: False}
    positive, negative, hardening = names_of(ctx)
    assert result['notes'].startswith('GPU access is not isolated: pod %s (no GPU request) saw /dev/nvidia0, /dev/nvidia1; '
                                      'pod %s (no GPU request, NVIDIA_VISIBLE_DEVICES=all) saw /dev/nvidia0, /dev/nvidia1; ' % (negative, hardening))
    assert result['notes'].endswith('; pod %s asked for 1 nvidia.com/gpu and saw 2 devices (/dev/nvidia0, /dev/nvidia1)' % positive)
    assert (problems, left) == ([], [])


def test_all_gpus_held_by_another_pod_is_partial_with_the_negatives_measured(k8s_client, ctx, gpu_node):
    holder_ns = 'aic-hold-' + uuid.uuid4().hex[:6]
    api(k8s_client, 'Namespace').create(body={'metadata': {'name': holder_ns}})
    api(k8s_client, 'Pod').create(namespace=holder_ns, body={'metadata': {'name': 'model'}, 'spec': {
        'nodeName': gpu_node, 'tolerations': [dict(GPU_TAINT, operator='Equal')],
        'containers': [{'name': 'vllm', 'image': 'example.test/vllm:1', 'resources': {'limits': {'nvidia.com/gpu': '2'}}}]}})
    try:
        with AcceleratorAccessStandIn(k8s_client, ctx.settings['namespace_prefix']).running():
            result = probe.secure_accelerator_access(ctx)
            problems, left = cleaned(k8s_client, ctx)
    finally:
        api(k8s_client, 'Pod').delete(name='model', namespace=holder_ns, grace_period_seconds=0)
        api(k8s_client, 'Namespace').delete(name=holder_ns)
    assert result['ok'] and result['partial'], result
    assert checks(result) == dict(dict.fromkeys(ALL_CHECKS, True), **{probe.CHECK_POSITIVE: False})
    positive = names_of(ctx)[0]
    observed = dict((e['check'], e['observed']) for e in result['evidence'])
    assert observed[probe.CHECK_NODE].endswith('2 nvidia.com/gpu allocatable, 0 free; tolerated taints: sku=gpu:NoSchedule')
    assert observed[probe.CHECK_POSITIVE].startswith('not measured: no GPU within 2 s of a 4 s timeout: not scheduled: 0/')
    assert '1 Insufficient nvidia.com/gpu' in observed[probe.CHECK_POSITIVE]
    assert result['notes'].startswith('pods without a GPU request saw no GPU device, NVIDIA_VISIBLE_DEVICES=all included; the positive '
                                      'control was not measured (pod %s, 1 nvidia.com/gpu: no GPU within 2 s' % positive)
    assert result['notes'].endswith('and seeing no device without a pod that does see its GPU proves little')
    assert (problems, left) == ([], [])


def test_without_a_kubelet_the_probe_fails_by_timeout_and_leaves_nothing(k8s_client, ctx, gpu_node):
    started = time.monotonic()
    result = probe.secure_accelerator_access(ctx)
    took = time.monotonic() - started
    assert not result['ok'] and took >= TIMEOUT and took < TIMEOUT + 3
    assert checks(result) == {probe.CHECK_NODE: True, probe.CHECK_NEGATIVE: False}
    negative, hardening = names_of(ctx)[1:]
    wait = 'pods %s and %s (no GPU request) to finish on node %s' % (negative, hardening, gpu_node)
    assert result['notes'].startswith('secure_accelerator_access probe failed: Timed out after %ss waiting for %s: pod %s not scheduled'
                                      % (TIMEOUT, wait, negative))
    assert result['evidence'][-1]['call'] == 'wait up to %ss for %s' % (TIMEOUT, wait)
    assert cleaned(k8s_client, ctx) == ([], [])


def test_without_a_gpu_node_the_probe_says_so(k8s_client, ctx):
    # a GPU resource no node of the shared bed advertises (other tests' nodes advertise nvidia.com/gpu)
    ctx.settings['gpu_resource'] = 'example.com/gpu-nobody-has'
    result = probe.secure_accelerator_access(ctx)
    assert not result['ok'] and ctx.objects == []
    assert result['notes'] == ('secure_accelerator_access probe failed: no schedulable node has allocatable example.com/gpu-nobody-has: no GPU '
                               'to isolate, or GPUs only through DRA, which this probe does not cover')
    assert checks(result) == {probe.CHECK_NODE: False}


def test_through_the_module_secure_accelerator_access_is_implemented_by_the_functional_probe(k8s_client, k8s_env, gpu_node):
    """ai_conformance with functional: true on a bed with a GPU node the device plugin advertises (the static probe
    passes) and the secure stand-in running."""
    prefix = 'aic-' + uuid.uuid4().hex[:6]
    with AcceleratorAccessStandIn(k8s_client, prefix).running():
        result = call_module('ai_conformance', {'checklist': CHECKLIST, 'functional': True, 'probes': {
            'namespace_prefix': prefix, 'timeout': 20}}, env=k8s_env)
    assert not result.get('failed'), result.get('msg')
    found = dict((r['id'], r) for r in result['requirements'])['secure_accelerator_access']
    assert (found['status'], found['probe']) == ('Implemented', 'functional'), found
    assert found['notes'].startswith('Functional probe: pod aic-gpu-')
    mine = [o for o in result['probe_objects'] if (o['namespace'] or o['name']).startswith(prefix)]
    assert sorted(o['kind'] for o in mine) == ['Namespace', 'Pod', 'Pod', 'Pod'] and all(o['deleted'] for o in mine)


def test_the_standin_plays_only_the_probes_listing_and_allocates_real_devices(k8s_client, gpu_node, capfd):
    """Another command exits 127 with one `unplayed` line on stderr; a pod asking for more GPUs than the node has free
    is never bound; two pods asking for one GPU each get different devices."""
    prefix = 'aic-' + uuid.uuid4().hex[:6]
    ns = prefix + '-x'
    api(k8s_client, 'Namespace').create(body={'metadata': {'name': ns}})
    node = api(k8s_client, 'Node').get(name=gpu_node).to_dict()
    pods = api(k8s_client, 'Pod')
    made = [probe.listing_pod(ns, 'one', node, 'nvidia.com/gpu'), probe.listing_pod(ns, 'two', node, 'nvidia.com/gpu'),
            probe.listing_pod(ns, 'other', node)]
    made[2]['spec']['containers'][0]['command'] = ['nvidia-smi', '-L']
    too_many = probe.listing_pod(ns, 'three', node, 'nvidia.com/gpu')
    too_many['spec']['containers'][0]['resources']['limits']['nvidia.com/gpu'] = '3'
    try:
        with AcceleratorAccessStandIn(k8s_client, prefix).running():
            for body in made + [too_many]:
                pods.create(namespace=ns, body=body)
            deadline = time.monotonic() + 10
            while any(pods.get(name=n, namespace=ns).to_dict()['status'].get('phase') not in ('Succeeded', 'Failed')
                      for n in ('one', 'two', 'other')):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            time.sleep(0.5)
            state = dict((n, pods.get(name=n, namespace=ns).to_dict()) for n in ('one', 'two', 'other', 'three'))
    finally:
        for name in ('one', 'two', 'other', 'three'):
            pods.delete(name=name, namespace=ns, grace_period_seconds=0)
        api(k8s_client, 'Namespace').delete(name=ns)
    listed = [probe.terminated(state[n])['message'] for n in ('one', 'two')]
    assert sorted(listed) == ['device /dev/nvidia0\nlisted\n', 'device /dev/nvidia1\nlisted\n']
    other = probe.terminated(state['other'])
    assert state['other']['status']['phase'] == 'Failed' and other['exitCode'] == 127
    assert not state['three']['spec'].get('nodeName')
    assert 'Insufficient nvidia.com/gpu' in probe.pod_state(state['three'])
    err = capfd.readouterr().err
    assert err.count('accelerator access stand-in: unplayed: pod %s/other container list runs' % ns) == 1
