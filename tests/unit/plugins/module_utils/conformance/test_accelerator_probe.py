"""The pure parts of the secure_accelerator_access probe: the pods it makes (valid for Kubernetes 1.34, pinned to one
node, tolerating exactly its taints), how it reads a listing, which node it picks, and its verdict."""

import subprocess

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import accelerator_probe as a
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.probes import PROBES
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.validate import Validator

NAMES = ('aic-gpu-1', 'aic-nogpu-2', 'aic-envgpu-3')


def node(name, gpus='2', taints=None, hostname=True, unschedulable=False):
    labels = {a.HOSTNAME_LABEL: name} if hostname else {}
    return {'metadata': {'name': name, 'labels': labels}, 'spec': {'taints': taints or [], 'unschedulable': unschedulable},
            'status': {'allocatable': {'cpu': '4', 'nvidia.com/gpu': gpus}}}


def pod(node_name, gpus, phase='Running'):
    return {'metadata': {'name': 'model'}, 'spec': {'nodeName': node_name, 'containers': [
        {'name': 'c', 'resources': {'limits': {'nvidia.com/gpu': str(gpus)}}}]}, 'status': {'phase': phase}}


def found(devices=(), measured=True, ran=True, why=''):
    return {'measured': measured, 'ran': ran, 'devices': list(devices), 'why': why}


def test_the_probe_is_registered():
    assert PROBES['secure_accelerator_access'] is a.secure_accelerator_access


def test_the_pods_are_valid_pinned_and_tolerate_exactly_the_nodes_taints():
    taints = [{'key': 'sku', 'value': 'gpu', 'effect': 'NoSchedule'}, {'key': 'nvidia.com/gpu', 'effect': 'NoExecute'},
              {'key': 'soft', 'value': 'x', 'effect': 'PreferNoSchedule'}]
    gpu_node = node('n1', taints=taints)
    pods = [a.listing_pod('ns', NAMES[0], gpu_node, 'nvidia.com/gpu'), a.listing_pod('ns', NAMES[1], gpu_node),
            a.listing_pod('ns', NAMES[2], node('n2', hostname=False), env={a.VISIBLE_DEVICES: 'all'})]
    assert Validator(version='1.34', strict=True, fail_on_error=False).validate(pods) == []
    assert pods[0]['spec']['tolerations'] == [{'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'},
                                              {'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoExecute'}]
    assert pods[0]['spec']['nodeSelector'] == {a.HOSTNAME_LABEL: 'n1'}
    assert pods[2]['spec']['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution'] == {
        'nodeSelectorTerms': [{'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': ['n2']}]}]}
    containers = [p['spec']['containers'][0] for p in pods]
    assert [c.get('resources') for c in containers] == [{'limits': {'nvidia.com/gpu': '1'}}, None, None]
    assert [c.get('env') for c in containers] == [None, None, [{'name': 'NVIDIA_VISIBLE_DEVICES', 'value': 'all'}]]
    assert all(c['command'] == a.COMMAND and c['terminationMessagePolicy'] == 'FallbackToLogsOnError' for c in containers)
    assert all(p['spec']['restartPolicy'] == 'Never' and p['spec']['terminationGracePeriodSeconds'] == 0 for p in pods)


@pytest.mark.parametrize('text, devices, complete', [
    ('device /dev/nvidia0\nlisted\n', ['/dev/nvidia0'], True),
    ('listed', [], True),
    ('device /dev/nvidia0\ndevice /dev/nvidia1\n', ['/dev/nvidia0', '/dev/nvidia1'], False),
    ('', [], False),
    ('listed\ndevice /dev/nvidia3\n', ['/dev/nvidia3'], False),
])
def test_a_listing_counts_only_when_it_ran_to_its_end(text, devices, complete):
    assert a.parse_listing(text) == (devices, complete)


def test_the_script_lists_device_files_and_ends_with_its_last_line(tmp_path):
    """The listing part of the script, run by a real shell on a directory standing in for /dev."""
    for name in ('nvidia0', 'nvidia1', 'nvidiactl', 'nvidia-uvm'):
        (tmp_path / name).write_text('')
    script = a.LISTING.replace('/dev/', '%s/' % tmp_path)
    out = subprocess.run(['sh', '-c', script], check=True, capture_output=True, text=True).stdout
    assert a.parse_listing(out) == (['%s/nvidia0' % tmp_path, '%s/nvidia1' % tmp_path], True)
    empty = tmp_path / 'empty'
    empty.mkdir()
    out = subprocess.run(['sh', '-c', a.LISTING.replace('/dev/', '%s/' % empty)], check=True, capture_output=True, text=True).stdout
    assert a.parse_listing(out) == ([], True)


def test_the_node_with_the_most_free_gpus_is_picked_cordoned_and_not_ready_ones_left_out():
    nodes = [node('a', '2'), node('b', '4'), node('c', '8', unschedulable=True),
             node('d', '8', taints=[{'key': 'node.kubernetes.io/not-ready', 'effect': 'NoSchedule'}]), node('e', '0')]
    picked, allocatable, free, skipped = a.pick_node(nodes, [pod('b', 3), pod('a', 2, 'Succeeded')], 'nvidia.com/gpu')
    assert (picked['metadata']['name'], allocatable, free) == ('a', 2, 2)
    assert skipped == ['c (cordoned)', 'd (node.kubernetes.io/not-ready)']
    assert a.pick_node([node('b'), node('a')], [pod('a', 2), pod('b', 2)], 'nvidia.com/gpu')[0]['metadata']['name'] == 'a'
    assert a.pick_node([node('e', '0')], [], 'nvidia.com/gpu') == (None, 0, 0, [])


def test_secure_access_passes():
    result = a.verdict(found(['/dev/nvidia0']), found(), found(), NAMES, 'nvidia.com/gpu')
    assert result == {'ok': True, 'notes': 'pod aic-gpu-1 got exactly the 1 nvidia.com/gpu it asked for (/dev/nvidia0); pods without a '
                                           'request saw no GPU device, NVIDIA_VISIBLE_DEVICES=all included'}


def test_a_device_seen_without_a_request_fails_naming_the_pod():
    result = a.verdict(found(['/dev/nvidia0']), found(['/dev/nvidia1']), found(), NAMES, 'nvidia.com/gpu')
    assert result == {'ok': False, 'notes': 'GPU access is not isolated: pod aic-nogpu-2 (no GPU request) saw /dev/nvidia1'}
    result = a.verdict(found(['/dev/nvidia0']), found(), found(['/dev/nvidia0']), NAMES, 'nvidia.com/gpu')
    assert not result['ok'] and 'accept-nvidia-visible-devices-envvar-when-unprivileged = false' in result['notes']


def test_a_positive_control_that_sees_none_or_too_many_fails():
    assert a.verdict(found([]), found(), found(), NAMES, 'nvidia.com/gpu')['notes'] == (
        'GPU isolation not shown: pod aic-gpu-1 asked for 1 nvidia.com/gpu and saw 0 devices')
    broken = a.verdict(found(measured=False, why='the listing exited 127'), found(), found(), NAMES, 'nvidia.com/gpu')
    assert broken == {'ok': False, 'notes': 'GPU isolation not shown: pod aic-gpu-1 (1 nvidia.com/gpu): the listing exited 127'}


def test_a_positive_control_that_got_no_gpu_is_partial_and_says_it_proves_little():
    result = a.verdict(found(measured=False, ran=False, why='no GPU'), found(), found(), NAMES, 'nvidia.com/gpu')
    assert result['ok'] and result['partial']
    assert 'the positive control was not measured (pod aic-gpu-1, 1 nvidia.com/gpu: no GPU)' in result['notes']
    assert result['notes'].endswith('proves little')
    # a negative case that was not measured is no partial pass
    result = a.verdict(found(measured=False, ran=False, why='no GPU'), found(), found(measured=False, ran=False, why='never ran'),
                       NAMES, 'nvidia.com/gpu')
    assert result == {'ok': False, 'notes': 'GPU isolation not shown: pod aic-envgpu-3 (no GPU request, NVIDIA_VISIBLE_DEVICES=all) '
                                            'was not measured: never ran'}
