"""The GPU validation stand-in (tests/integration/gpu_validation_standin.py) on the test apiserver: it must be as strict
as the Job controller, scheduler, kubelet and garbage collector it plays, or the tests that use it would pass code that a
real cluster fails. Each test has its namespace (the bed never finishes deleting one, so they stay) and its Nodes.

Nodes made here are tainted node.kubernetes.io/not-ready by the apiserver's TaintNodesByCondition admission; `gpu_node`
removes the taint as the node lifecycle controller would once the kubelet reports Ready."""

import re
import time
import uuid

import pytest

from tests.integration.gpu_standin import NOT_READY_TAINT, api, pool_labels
from tests.integration.gpu_validation_standin import JobStandIn
from tests.integration.kaito_standin import MERGE

pytestmark = pytest.mark.integration

A100 = 'Standard_NC24ads_A100_v4'
SAMPLE = 'nvcr.io/nvidia/k8s/cuda-sample:vectoradd-cuda12.5.0-ubuntu22.04'
DCGM = 'nvcr.io/nvidia/cloud-native/dcgm:4.6.0-1-ubuntu24.04'
GPU = {'limits': {'nvidia.com/gpu': '1', 'memory': '512Mi'}, 'requests': {'cpu': '100m', 'memory': '256Mi', 'nvidia.com/gpu': '1'}}
NO_GPU = {'limits': {'memory': '512Mi'}, 'requests': {'cpu': '100m', 'memory': '256Mi'}}
# each script keeps its exit code and leaves its output where the kubelet reads the termination message
REPORTED = '%s > /tmp/out 2>&1; rc=$?; tail -c 4096 /tmp/out > /dev/termination-log; cat /tmp/out; exit $rc'
SCRIPTS = {'nvidia-smi': 'nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader',
           'cuda-vectoradd': '/cuda-samples/vectorAdd', 'dcgm-diag': 'dcgmi diag -r 1'}
AFFINITY = "node(s) didn't match Pod's node affinity/selector"


def container(name, image):
    return {'name': name, 'image': image, 'command': ['sh', '-c', REPORTED % SCRIPTS[name]], 'resources': GPU,
            'terminationMessagePolicy': 'FallbackToLogsOnError'}


def validation_job(name, node, pool, **spec):
    """A Job as the product renders it for `node` of `pool`."""
    labels = {'app.kubernetes.io/name': 'gpu-validation', 'gpu-validation.aiplatform.aks/run': 'abc12'}
    return {'apiVersion': 'batch/v1', 'kind': 'Job', 'metadata': {
        'name': name, 'annotations': {'gpu-validation.aiplatform.aks/node': node},
        'labels': dict(labels, **{'app.kubernetes.io/managed-by': 'aiplatform.aks', 'gpu-validation.aiplatform.aks/pool': pool})},
        'spec': dict({'backoffLimit': 0, 'activeDeadlineSeconds': 600, 'ttlSecondsAfterFinished': 3600, 'template': {
            'metadata': {'labels': labels},
            'spec': {'restartPolicy': 'Never', 'automountServiceAccountToken': False,
                     'nodeSelector': {'kubernetes.azure.com/agentpool': pool},
                     'affinity': {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': [
                         {'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': [node]}]}]}}},
                     'tolerations': [{'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}],
                     'initContainers': [container('nvidia-smi', SAMPLE), container('cuda-vectoradd', SAMPLE)],
                     'containers': [container('dcgm-diag', DCGM)]}}}, **spec)}


@pytest.fixture
def namespace(k8s_client):
    name = 'gv-' + uuid.uuid4().hex[:8]
    api(k8s_client, 'Namespace').create(body={'metadata': {'name': name}})
    return name


@pytest.fixture
def standin(k8s_client, namespace):
    standin = JobStandIn(k8s_client, namespace)
    with standin.running(interval=0.05):
        yield standin


def gpu_node(client, nodes, suffix, pool, gpus='1', ready=True, taints=(), unschedulable=False, **labels):
    """A node of `pool` with `gpus` GPUs, ready (Nodes.add lifts the not-ready taint) unless told, with `taints` or cordoned."""
    name = nodes.add(suffix, pool_labels(pool, A100, **labels), gpus={'nvidia.com/gpu': gpus} if gpus else None)
    kept = ([] if ready else [{'key': NOT_READY_TAINT, 'effect': 'NoSchedule'}]) + list(taints)
    api(client, 'Node').patch(name=name, content_type=MERGE, body={'spec': {'taints': kept or None, 'unschedulable': unschedulable or None}})
    return name


def until(what, awaited, timeout=10.0):
    """Poll until `what()` is truthy and return it; fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('not within %ss: %s' % (timeout, awaited))
        time.sleep(0.05)


def create(client, namespace, job):
    return api(client, 'Job', 'batch/v1').create(body=job, namespace=namespace).to_dict()


def job_of(client, namespace, name):
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        return api(client, 'Job', 'batch/v1').get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return None


def pods_of(client, namespace):
    return api(client, 'Pod').get(namespace=namespace).to_dict()['items']


def finished(client, namespace, name):
    """The Job once it has a Complete or Failed condition."""
    job = job_of(client, namespace, name) or {}
    return job if any(c['status'] == 'True' for c in (job.get('status') or {}).get('conditions') or []) else None


def states(statuses):
    """{container: (state, exit code, reason, message)} of a pod's container statuses."""
    out = {}
    for status in statuses or []:
        kind, state = next(iter(status['state'].items()))
        out[status['name']] = (kind, state.get('exitCode'), state.get('reason'), state.get('message'))
    return out


def conditions(obj):
    return dict((c['type'], c) for c in (obj.get('status') or {}).get('conditions') or [])


def unschedulable(client, namespace, job_name):
    """The message of the Job's pending pod once the scheduler has given up on it."""
    for pod in pods_of(client, namespace):
        scheduled = conditions(pod).get('PodScheduled') or {}
        if pod['metadata']['labels'].get('job-name') == job_name and scheduled.get('reason') == 'Unschedulable':
            return scheduled['message']
    return None


def assert_reasons(client, message, expected):
    """kube-scheduler's message over every Node of the bed: `expected` reasons for this test's nodes, each of the
    others (if other tests left any) counted under one reason more; sorted, counted, one reason per node here."""
    match = re.fullmatch(r'0/(\d+) nodes are available: (.+)\.', message)
    assert match, message
    parts = match.group(2).split(', ')
    assert parts == sorted(parts), message
    counts = dict((part.split(' ', 1)[1], int(part.split(' ', 1)[0])) for part in parts)
    total = len(api(client, 'Node').get().to_dict()['items'])
    foreign = total - sum(expected.values())
    assert int(match.group(1)) == total and sum(counts.values()) == total, message
    assert all(0 <= counts.get(reason, 0) - n <= foreign for reason, n in expected.items()), message
    if not foreign:
        assert counts == expected, message


def test_a_job_passes_on_the_gpu_node_it_names(k8s_client, nodes, namespace, standin):
    pool = 'gv' + nodes.run
    gpu_node(k8s_client, nodes, 'a-other', pool)  # first by name and fits everything but the Job's node affinity
    target = gpu_node(k8s_client, nodes, 'b-target', pool, gpus='2', **{'nvidia.com/gpu.product': 'NVIDIA-A100-80GB-PCIe'})
    job = create(k8s_client, namespace, validation_job('gpu-validate-target-1', target, pool))
    done = until(lambda: finished(k8s_client, namespace, 'gpu-validate-target-1'), 'the Job finished')
    assert conditions(done)['Complete']['status'] == 'True' and 'Failed' not in conditions(done)
    assert done['status']['succeeded'] == 1 and not done['status'].get('active') and not done['status'].get('failed')
    assert done['status']['startTime'].endswith('Z') and done['status']['completionTime'].endswith('Z')

    [pod] = pods_of(k8s_client, namespace)
    meta = pod['metadata']
    assert meta['generateName'] == 'gpu-validate-target-1-' and meta['name'].startswith('gpu-validate-target-1-')
    assert meta['labels'] == {'app.kubernetes.io/name': 'gpu-validation', 'gpu-validation.aiplatform.aks/run': 'abc12',
                              'controller-uid': job['metadata']['uid'], 'job-name': 'gpu-validate-target-1'}
    assert meta['ownerReferences'] == [{'apiVersion': 'batch/v1', 'kind': 'Job', 'name': 'gpu-validate-target-1',
                                        'uid': job['metadata']['uid'], 'controller': True, 'blockOwnerDeletion': True}]
    assert pod['spec']['nodeName'] == target
    assert pod['status']['phase'] == 'Succeeded'
    assert dict((t, (c['status'], c.get('reason'))) for t, c in conditions(pod).items()) == {
        'Initialized': ('True', 'PodCompleted'), 'Ready': ('False', 'PodCompleted'),
        'ContainersReady': ('False', 'PodCompleted'), 'PodScheduled': ('True', None)}
    init = states(pod['status']['initContainerStatuses'])
    assert init['nvidia-smi'] == ('terminated', 0, 'Completed', '0, NVIDIA A100 80GB PCIe, 570.172.08, 81920 MiB'), 'one GPU: its limit'
    assert init['cuda-vectoradd'][:3] == ('terminated', 0, 'Completed') and 'Test PASSED\nDone' in init['cuda-vectoradd'][3]
    main = states(pod['status']['containerStatuses'])
    assert main['dcgm-diag'][:3] == ('terminated', 0, 'Completed') and '| software                  | Pass' in main['dcgm-diag'][3]
    for status in pod['status']['initContainerStatuses'] + pod['status']['containerStatuses']:
        assert (status['imageID'], status['ready'], status['restartCount']) == ('', False, 0)
        assert status['state']['terminated']['startedAt'].endswith('Z') and status['state']['terminated']['finishedAt'].endswith('Z')


@pytest.mark.parametrize('backoff_limit', [0, 1])
def test_a_failing_container_fails_the_job_after_its_backoff_limit_and_later_containers_do_not_run(
        k8s_client, nodes, namespace, standin, backoff_limit):
    pool = 'gv' + nodes.run
    node = gpu_node(k8s_client, nodes, 'gpu', pool)
    standin.outcomes = {node: {'cuda-vectoradd': (1, 'CUDA error: unspecified launch failure')}}
    create(k8s_client, namespace, validation_job('gpu-validate-bad', node, pool, backoffLimit=backoff_limit))
    done = until(lambda: finished(k8s_client, namespace, 'gpu-validate-bad'), 'the Job finished')
    failed = conditions(done)['Failed']
    assert (failed['status'], failed['reason'], failed['message']) == (
        'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')
    assert 'Complete' not in conditions(done) and 'completionTime' not in done['status']
    assert done['status']['failed'] == backoff_limit + 1 and not done['status'].get('active')
    time.sleep(0.3)
    pods = pods_of(k8s_client, namespace)
    assert len(pods) == backoff_limit + 1, 'one pod per try, none after the Job failed'
    for pod in pods:
        assert pod['status']['phase'] == 'Failed'
        assert states(pod['status']['initContainerStatuses']) == {
            'nvidia-smi': ('terminated', 0, 'Completed', '0, NVIDIA A100 80GB PCIe, 570.172.08, 81920 MiB'),
            'cuda-vectoradd': ('terminated', 1, 'Error', 'CUDA error: unspecified launch failure'),
        }
        assert states(pod['status']['containerStatuses']) == {'dcgm-diag': ('waiting', None, 'PodInitializing', None)}
        initialized = conditions(pod)['Initialized']
        assert (initialized['status'], initialized['reason'], initialized['message']) == (
            'False', 'ContainersNotInitialized', 'containers with incomplete status: [cuda-vectoradd]')


def test_unschedulable_pods_say_why_per_node_and_are_scheduled_once_a_node_fits(k8s_client, nodes, namespace, standin):
    pool = 'gv' + nodes.run
    tainted = gpu_node(k8s_client, nodes, 'tainted', pool, taints=[{'key': 'sku', 'value': 'gpu', 'effect': 'NoSchedule'}])
    gpu_node(k8s_client, nodes, 'notready', pool, ready=False)
    gpu_node(k8s_client, nodes, 'cordoned', pool, unschedulable=True)
    other_pool = gpu_node(k8s_client, nodes, 'otherpool', 'other' + nodes.run)
    cpu = gpu_node(k8s_client, nodes, 'cpu', pool, gpus=None)
    every = {'node(s) had untolerated taint {sku: gpu}': 1, 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }': 1,
             'node(s) were unschedulable': 1}
    for name, node, expected in [('on-tainted', tainted, {AFFINITY: 2}), ('on-other-pool', other_pool, {AFFINITY: 2}),
                                 ('on-cpu', cpu, {AFFINITY: 1, 'Insufficient nvidia.com/gpu': 1})]:
        create(k8s_client, namespace, validation_job(name, node, pool))
        message = until(lambda: unschedulable(k8s_client, namespace, name), 'the pod of %s unschedulable' % name)
        assert_reasons(k8s_client, message, dict(every, **expected))
    assert not any(pod['spec'].get('nodeName') for pod in pods_of(k8s_client, namespace))

    # tolerations may be added to a pending pod: the scheduler looks again and binds it to the tainted node
    [pod] = [p for p in pods_of(k8s_client, namespace) if p['metadata']['labels']['job-name'] == 'on-tainted']
    tolerations = pod['spec']['tolerations'] + [{'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'}]
    api(k8s_client, 'Pod').patch(name=pod['metadata']['name'], namespace=namespace, content_type=MERGE, body={'spec': {'tolerations': tolerations}})
    done = until(lambda: finished(k8s_client, namespace, 'on-tainted'), 'the tolerating Job finished')
    assert 'Complete' in conditions(done)
    assert api(k8s_client, 'Pod').get(name=pod['metadata']['name'], namespace=namespace).spec.nodeName == tainted


def test_a_second_pod_waits_for_the_only_gpu(k8s_client, nodes, namespace, standin):
    pool = 'gv' + nodes.run
    node = gpu_node(k8s_client, nodes, 'single', pool)
    standin.outcomes = {node: 'running'}
    create(k8s_client, namespace, validation_job('first', node, pool))
    until(lambda: any(p['status'].get('startTime') for p in pods_of(k8s_client, namespace)), 'the first pod started')
    create(k8s_client, namespace, validation_job('second', node, pool))
    message = until(lambda: unschedulable(k8s_client, namespace, 'second'), 'the second pod unschedulable')
    assert_reasons(k8s_client, message, {'Insufficient nvidia.com/gpu': 1})

    standin.outcomes = {}
    api(k8s_client, 'Job', 'batch/v1').delete(name='first', namespace=namespace, body={'propagationPolicy': 'Background'})
    done = until(lambda: finished(k8s_client, namespace, 'second'), 'the second Job finished once the GPU was free')
    assert 'Complete' in conditions(done)
    [pod] = pods_of(k8s_client, namespace)
    assert pod['metadata']['labels']['job-name'] == 'second' and pod['spec']['nodeName'] == node


@pytest.mark.parametrize('where, reason, message', [
    ('cpu', 'OutOfnvidia.com/gpu', "Pod Node didn't have enough resource: nvidia.com/gpu, requested: 1, used: 0, capacity: 0"),
    ('otherpool', 'NodeAffinity', 'Pod Predicate NodeAffinity failed'),
])
def test_the_kubelet_refuses_a_pod_bound_by_name_to_a_node_that_cannot_take_it(k8s_client, nodes, namespace, standin, where, reason, message):
    """spec.nodeName skips the scheduler, not the kubelet's admission."""
    pool = 'gv' + nodes.run
    node = gpu_node(k8s_client, nodes, where, pool if where == 'cpu' else 'other' + nodes.run, gpus=None if where == 'cpu' else '1')
    job = validation_job('gpu-validate-named', node, pool)
    job['spec']['template']['spec']['nodeName'] = node
    create(k8s_client, namespace, job)
    done = until(lambda: finished(k8s_client, namespace, 'gpu-validate-named'), 'the Job finished')
    assert conditions(done)['Failed']['reason'] == 'BackoffLimitExceeded'
    [pod] = pods_of(k8s_client, namespace)
    assert (pod['status']['phase'], pod['status']['reason'], pod['status']['message']) == ('Failed', reason, message)
    assert 'containerStatuses' not in pod['status'], 'nothing ran'


def test_a_running_container_finishes_once_its_outcome_is_given(k8s_client, nodes, namespace, standin):
    pool = 'gv' + nodes.run
    node = gpu_node(k8s_client, nodes, 'gpu', pool)
    standin.outcomes = {node: 'running'}
    create(k8s_client, namespace, validation_job('gpu-validate-slow', node, pool))
    [pod] = until(lambda: [p for p in pods_of(k8s_client, namespace) if p['status'].get('startTime')], 'the pod started')
    assert (pod['status']['phase'], conditions(pod)['Initialized']['reason']) == ('Pending', 'ContainersNotInitialized')
    assert states(pod['status']['initContainerStatuses'])['cuda-vectoradd'] == ('waiting', None, 'PodInitializing', None)
    started = pod['status']['initContainerStatuses'][0]['state']['running']['startedAt']
    time.sleep(0.2)
    assert job_of(k8s_client, namespace, 'gpu-validate-slow')['status']['active'] == 1 and not finished(k8s_client, namespace, 'gpu-validate-slow')
    standin.outcomes = {}
    assert 'Complete' in conditions(until(lambda: finished(k8s_client, namespace, 'gpu-validate-slow'), 'the Job finished'))
    [pod] = pods_of(k8s_client, namespace)
    assert pod['status']['initContainerStatuses'][0]['state']['terminated']['startedAt'] == started


@pytest.mark.parametrize('name, change, expected', [
    pytest.param('nvidia-smi', {'resources': NO_GPU}, (127, 'sh: 1: nvidia-smi: not found'), id='nvidia-smi-without-gpu'),
    pytest.param('cuda-vectoradd', {'resources': NO_GPU}, (1, '[Vector addition of 50000 elements]\nFailed to allocate device vector A '
                                                           '(error code no CUDA-capable device is detected)!'), id='vectoradd-without-gpu'),
    pytest.param('dcgm-diag', {'resources': NO_GPU}, (1, 'Error: Unable to complete diagnostic for group 2147483647: '
                                                      'no GPU was found on this system.'), id='dcgm-without-gpu'),
    pytest.param('dcgm-diag', {'name': 'gpu-burn'}, (2, 'gpu validation stand-in: no behaviour for a container named gpu-burn'),
                 id='unknown-container'),
    pytest.param('dcgm-diag', {'command': None}, (2, 'gpu validation stand-in: container dcgm-diag has no command: a bug in the '
                                                  'renderer (what would run is unknown)'), id='no-command'),
])
def test_a_container_fails_as_on_a_real_node_without_a_gpu_limit_and_the_stand_in_runs_nothing_it_does_not_know(
        k8s_client, nodes, namespace, standin, name, change, expected):
    pool = 'gv' + nodes.run
    node = gpu_node(k8s_client, nodes, 'gpu', pool)
    job = validation_job('gpu-validate-x', node, pool)
    spec = job['spec']['template']['spec']
    [target] = [c for c in spec['initContainers'] + spec['containers'] if c['name'] == name]
    target.update(change)
    create(k8s_client, namespace, job)
    done = until(lambda: finished(k8s_client, namespace, 'gpu-validate-x'), 'the Job finished')
    assert conditions(done)['Failed']['reason'] == 'BackoffLimitExceeded'
    [pod] = pods_of(k8s_client, namespace)
    ran = states(pod['status']['initContainerStatuses'] + pod['status']['containerStatuses'])
    assert ran[target['name']] == ('terminated', expected[0], 'Error', expected[1])
    if name == 'nvidia-smi':
        assert ran['cuda-vectoradd'] == ran['dcgm-diag'] == ('waiting', None, 'PodInitializing', None)


def test_a_succeeding_container_has_a_message_only_if_it_writes_one(k8s_client, nodes, namespace, standin):
    """The kubelet reads the termination message file; FallbackToLogsOnError reads the log only when a container fails."""
    pool = 'gv' + nodes.run
    node = gpu_node(k8s_client, nodes, 'gpu', pool)
    job = validation_job('gpu-validate-quiet', node, pool)
    job['spec']['template']['spec']['initContainers'][0]['command'] = ['sh', '-c', SCRIPTS['nvidia-smi']]
    create(k8s_client, namespace, job)
    until(lambda: finished(k8s_client, namespace, 'gpu-validate-quiet'), 'the Job finished')
    [pod] = pods_of(k8s_client, namespace)
    assert states(pod['status']['initContainerStatuses'])['nvidia-smi'] == ('terminated', 0, 'Completed', None)


@pytest.mark.parametrize('policy', ['Background', 'Foreground', None])
def test_deleting_a_job_deletes_its_pods_unless_it_orphans_them_as_batch_v1_does_by_default(k8s_client, nodes, namespace, standin, policy):
    pool = 'gv' + nodes.run
    node = gpu_node(k8s_client, nodes, 'gpu', pool)
    standin.outcomes = {node: 'running'}
    create(k8s_client, namespace, validation_job('gpu-validate-del', node, pool))
    [pod] = until(lambda: [p for p in pods_of(k8s_client, namespace) if p['status'].get('startTime')], 'the pod started')
    assert pod['status']['phase'] == 'Pending' and 'running' in pod['status']['initContainerStatuses'][0]['state'], 'nvidia-smi runs'
    api(k8s_client, 'Job', 'batch/v1').delete(name='gpu-validate-del', namespace=namespace,
                                              body={'propagationPolicy': policy} if policy else None)
    if policy == 'Foreground':
        assert 'foregroundDeletion' in job_of(k8s_client, namespace, 'gpu-validate-del')['metadata']['finalizers']
    until(lambda: job_of(k8s_client, namespace, 'gpu-validate-del') is None, 'the Job gone')
    if policy:
        until(lambda: not pods_of(k8s_client, namespace), 'its pod gone')
        return
    time.sleep(0.3)
    [left] = pods_of(k8s_client, namespace)
    assert left['metadata']['name'] == pod['metadata']['name'] and not left['metadata'].get('ownerReferences')
    assert not left['metadata'].get('deletionTimestamp') and left['status']['phase'] == 'Pending', 'orphaned, still running'


def test_active_deadline_fails_a_stuck_job_and_deletes_its_pod(k8s_client, nodes, namespace, standin):
    pool = 'gv' + nodes.run
    node = gpu_node(k8s_client, nodes, 'gpu', pool)
    standin.outcomes = {node: 'running'}
    create(k8s_client, namespace, validation_job('gpu-validate-stuck', node, pool, activeDeadlineSeconds=2))
    until(lambda: (job_of(k8s_client, namespace, 'gpu-validate-stuck').get('status') or {}).get('active') == 1, 'the Job active')
    done = until(lambda: finished(k8s_client, namespace, 'gpu-validate-stuck'), 'the Job finished', timeout=6)
    failed = conditions(done)['Failed']
    assert (failed['reason'], failed['message']) == ('DeadlineExceeded', 'Job was active longer than specified deadline')
    assert done['status']['failed'] == 1 and not done['status'].get('active')
    until(lambda: not pods_of(k8s_client, namespace), 'its pod deleted')


def test_a_finished_job_is_deleted_after_its_ttl_with_its_pod(k8s_client, nodes, namespace):
    node = gpu_node(k8s_client, nodes, 'gpu', 'gvttl')
    job = create(k8s_client, namespace, validation_job('gpu-validate-ttl', node, 'gvttl', ttlSecondsAfterFinished=1))
    assert job['spec']['ttlSecondsAfterFinished'] == 1, 'the bed serves the TTLAfterFinished feature (alpha in 1.20)'
    with JobStandIn(k8s_client, namespace).running(interval=0.05):
        done = until(lambda: finished(k8s_client, namespace, 'gpu-validate-ttl'), 'the Job finished')
        assert 'Complete' in conditions(done)
        until(lambda: job_of(k8s_client, namespace, 'gpu-validate-ttl') is None, 'the Job deleted')
        until(lambda: not pods_of(k8s_client, namespace), 'its pod deleted')
