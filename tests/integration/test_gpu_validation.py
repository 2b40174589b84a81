"""The gpu_operator role's validation (gpu_operator_validate) on the test apiserver, which runs no pods: a stand-in
(tests/integration/gpu_validation_standin.py) plays the Job controller, scheduler, kubelet and garbage collector for the
validation Jobs, and completes or fails their checks as a test tells it. The role's Jobs are accepted by the real
apiserver, scheduled by their node selector, tolerations and GPU request, and always deleted with their pods."""

import threading
import time
import uuid

import pytest

from tests.integration.gpu_standin import RUN_LABEL, api, pool_labels
from tests.integration.gpu_validation_standin import JobStandIn
from tests.integration.playbook import run_playbook
from tests.integration.refusals import role_refused_before_writing

pytestmark = pytest.mark.integration

A100 = 'Standard_NC24ads_A100_v4'
TAINT = {'key': 'sku', 'value': 'gpu', 'effect': 'NoSchedule'}
JOB_LABEL = 'app.kubernetes.io/name=gpu-validation'


def gpu_node(nodes, suffix, taint=True, gpus='1'):
    """A node of the AKS pool gpunp with its GPUs advertised and, as AKS GPU pools often are, tainted sku=gpu."""
    name = nodes.add(suffix, pool_labels('gpunp', A100, **{'kubernetes.azure.com/accelerator': 'nvidia',
                                                           'nvidia.com/gpu.product': 'NVIDIA-A100-80GB-PCIe'}),
                     gpus={'nvidia.com/gpu': gpus})
    if taint:
        api(nodes.client, 'Node').patch(name=name, body={'spec': {'taints': [TAINT]}}, content_type='application/merge-patch+json')
    return name


def validate(k8s_env, nodes, **variables):
    """The role in mode none (the GPUs are already advertised) with validation on, checking only this test's nodes."""
    variables = dict({'gpu_operator_node_selector': '%s=%s' % (RUN_LABEL, nodes.run), 'gpu_operator_namespace': 'gpu-' + nodes.run,
                      'gpu_operator_mode': 'none', 'gpu_operator_validate': True, 'gpu_operator_validate_timeout': 30,
                      'gpu_operator_tolerations': [dict(TAINT, operator='Equal')]}, **variables)
    return run_playbook('gpu_operator_role.yml', variables, env=k8s_env)


class JobsSeen:
    """Every validation Job of a namespace, as the apiserver stored it, recorded while a run lasts (the role deletes them)."""

    def __init__(self, client, namespace):
        self.jobs = api(client, 'Job', 'batch/v1')
        self.namespace = namespace
        self.seen = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self):
        while not self.stop.wait(0.1):
            try:
                for job in self.jobs.get(namespace=self.namespace, label_selector=JOB_LABEL).to_dict()['items']:
                    self.seen.setdefault(job['metadata']['name'], job)
            except Exception:  # pylint: disable=broad-except
                continue  # the namespace does not exist yet

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def left_behind(client, namespace, wait=10.0):
    """The validation Jobs and pods still in `namespace` once the garbage collector (the stand-in, which must still
    run) had `wait` seconds to delete the pods of deleted Jobs, as it does in the background."""
    deadline = time.monotonic() + wait
    while True:
        found = [(kind, o['metadata']['name']) for kind, api_version in (('Job', 'batch/v1'), ('Pod', 'v1'))
                 for o in api(client, kind, api_version).get(namespace=namespace, label_selector=JOB_LABEL).to_dict()['items']]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_every_gpu_node_passes_each_is_reported_the_jobs_are_deleted_and_a_second_run_changes_nothing(k8s_env, k8s_client, nodes):
    first_node, second_node = gpu_node(nodes, 'a'), gpu_node(nodes, 'b', gpus='2')
    namespace = 'gpu-' + nodes.run
    with JobStandIn(k8s_client, namespace).running() as stand_in, JobsSeen(k8s_client, namespace) as seen:
        first = validate(k8s_env, nodes)
        assert first.rc == 0, first.failures
        second = validate(k8s_env, nodes)
        assert left_behind(k8s_client, namespace) == []
    assert second.rc == 0 and second.changed == 0, second.failures
    report = first.result('Report the validation of each GPU node')['msg']
    assert report == ['%s: passed (nvidia-smi passed: 0, NVIDIA A100 80GB PCIe, 570.172.08, 81920 MiB, cuda-vectoradd passed: '
                      '[Vector addition of 50000 elements])' % name for name in sorted([first_node, second_node])]
    # mode none runs no DCGM: two checks, each asking for one GPU of its node, with the pool's selector and taint tolerated
    assert len(seen.seen) == 4, sorted(seen.seen)
    for job in seen.seen.values():
        pod = job['spec']['template']['spec']
        node = job['metadata']['annotations']['gpu-validation.aiplatform.aks/node']
        assert node in (first_node, second_node)
        assert pod['nodeSelector'] == {'kubernetes.azure.com/agentpool': 'gpunp'}
        assert {'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'} in pod['tolerations']
        assert [c['resources']['limits']['nvidia.com/gpu'] for c in pod['initContainers'] + pod['containers']] == ['1', '1']
        assert pod['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']['nodeSelectorTerms'][0]['matchFields'][0][
            'values'] == [node]
    assert stand_in.unplayed == {}, 'the stand-in met objects it could not play'


def test_a_failing_check_fails_the_role_naming_the_node_the_check_and_its_output_and_the_jobs_still_go(k8s_env, k8s_client, nodes):
    good, bad = gpu_node(nodes, 'good'), gpu_node(nodes, 'bad')
    namespace = 'gpu-' + nodes.run
    outcomes = {bad: {'cuda-vectoradd': (1, '[Vector addition of 50000 elements]\n'
                                            'Failed to allocate device vector A (error code no CUDA-capable device is detected)!')}}
    with JobStandIn(k8s_client, namespace, outcomes).running():
        # AKS managed GPUs run DCGM on every GPU node: dcgmi diag is the third check
        run = validate(k8s_env, nodes, gpu_operator_mode='aks_managed')
        assert left_behind(k8s_client, namespace) == []
    assert run.rc != 0
    message = run.result('Every GPU node passed its validation')['msg']
    assert message == ('GPU validation failed on %s (cuda-vectoradd exited 1: Failed to allocate device vector A (error code no '
                       'CUDA-capable device is detected)!)' % bad)
    assert good not in message
    report = run.result('Report the validation of each GPU node')['msg']
    assert sorted(line.split(' (')[0] for line in report) == sorted([bad + ': failed', good + ': passed'])
    assert '%s: failed (nvidia-smi passed: 0, NVIDIA A100 80GB PCIe, 570.172.08, 81920 MiB, cuda-vectoradd failed, dcgm-diag waiting)' % bad in report
    assert [line for line in report if line.startswith(good)][0].endswith('dcgm-diag passed: Successfully ran diagnostic for group.)')


def test_a_node_whose_gpu_is_taken_is_named_with_the_schedulers_message_when_the_wait_ends(k8s_env, k8s_client, nodes):
    busy = gpu_node(nodes, 'busy', taint=False)
    namespace = 'gpu-' + nodes.run
    api(k8s_client, 'Namespace').create(body={'metadata': {'name': namespace}})
    # a workload already holds the node's only GPU (bound to it, not finished)
    api(k8s_client, 'Pod').create(namespace=namespace, body={
        'metadata': {'name': 'training'},
        'spec': {'nodeName': busy, 'containers': [{'name': 'train', 'image': 'example.invalid/train:1',
                                                  'resources': {'limits': {'nvidia.com/gpu': '1'}}}]}})
    with JobStandIn(k8s_client, namespace).running():
        run = validate(k8s_env, nodes, gpu_operator_validate_timeout=4, gpu_operator_progress_interval=1)
        assert left_behind(k8s_client, namespace) == []
    assert run.rc != 0
    message = run.result('Every GPU node passed its validation')['msg']
    assert message.startswith('GPU validation did not finish within 4 s (gpu_operator_validate_timeout) on %s (not scheduled: 0/' % busy)
    assert 'Insufficient nvidia.com/gpu' in message
    assert run.result('Wait for the validation Jobs')['attempts'] == 4, 'one look per second for 4 seconds'


def test_a_cordoned_node_is_not_validated_and_the_role_says_why(k8s_env, k8s_client, nodes):
    cordoned = gpu_node(nodes, 'cordoned')
    api(k8s_client, 'Node').patch(name=cordoned, body={'spec': {'unschedulable': True}}, content_type='application/merge-patch+json')
    run = validate(k8s_env, nodes)
    assert run.rc == 0, run.failures
    assert run.result('Say which GPU nodes are not validated')['msg'] == (
        'Not validated: %s: cordoned (spec.unschedulable): no pod can start there' % cordoned)


@pytest.mark.parametrize('variables, names', [
    pytest.param({'gpu_operator_validate_level': 'thorough'}, ('gpu_operator_validate_level', 'thorough', 'burn_in'), id='unknown-level'),
    pytest.param({'gpu_operator_validate_timeout': 0}, ('gpu_operator_validate_timeout must be a whole number of seconds of 1 or more',),
                 id='timeout-0'),
    pytest.param({'gpu_operator_validate_images': {'cuda': 'example.invalid/cuda:1'}}, ('gpu_operator_validate_images', 'dcgm'),
                 id='no-dcgm-image'),
])
def test_bad_validation_input_is_refused_before_the_device_plugin_is_written(bed, variables, names):
    run = uuid.uuid4().hex[:8]
    role_refused_before_writing(bed, 'gpu_operator_role.yml', dict({
        'gpu_operator_node_selector': '%s=%s' % (RUN_LABEL, run), 'gpu_operator_namespace': 'gpu-' + run,
        'gpu_operator_mode': 'device_plugin', 'gpu_operator_validate': True}, **variables), names)
