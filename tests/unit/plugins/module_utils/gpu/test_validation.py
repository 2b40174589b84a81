"""GPU validation Jobs: what each node's Job asks for and runs, and how a Job and its pod become a node's result."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.gpu import info, validation

IMAGES = {'cuda': 'example.invalid/cuda-sample:vectoradd', 'dcgm': 'example.invalid/dcgm:4'}
A100 = 'Standard_NC24ads_A100_v4'


def node(name='aks-gpunp-0', pool='gpunp', allocatable=None, labels=None, unschedulable=False, dra_devices=0):
    """A gpu_info node from a Node object."""
    node_labels = dict({'kubernetes.azure.com/agentpool': pool, 'node.kubernetes.io/instance-type': A100} if pool else
                       {'node.kubernetes.io/instance-type': A100}, **(labels or {}))
    allocatable = {'nvidia.com/gpu': '1'} if allocatable is None else allocatable
    obj = {'metadata': {'name': name, 'labels': node_labels}, 'spec': {'unschedulable': unschedulable},
           'status': {'capacity': dict(allocatable), 'allocatable': dict(allocatable)}}
    return info.node_info(obj, dra_gpu_devices=dra_devices)


def render(n, level='quick', dcgm=True, run='x7k2p'):
    return validation.render_job(n, run, 'gpu-operator', level, IMAGES, dcgm, [validation.GPU_TOLERATION], 600, 3600)


@pytest.mark.parametrize('allocatable, labels, level, asked', [
    ({'nvidia.com/gpu': '2'}, {}, 'quick', ('nvidia.com/gpu', 1)),
    ({'nvidia.com/gpu': '2'}, {'nvidia.com/gpu.count': '2'}, 'burn_in', ('nvidia.com/gpu', 2)),
    # time-slicing without renaming: 8 replicas of 2 GPUs; burn-in takes the 2 GPUs, not 8 replicas
    ({'nvidia.com/gpu': '8'}, {'nvidia.com/gpu.replicas': '4'}, 'burn_in', ('nvidia.com/gpu', 2)),
    ({'nvidia.com/gpu.shared': '4'}, {}, 'burn_in', ('nvidia.com/gpu.shared', 1)),
    ({'nvidia.com/mig-3g.40gb': '1', 'nvidia.com/mig-1g.10gb': '3'}, {}, 'quick', ('nvidia.com/mig-1g.10gb', 1)),
    ({}, {}, 'quick', (None, 0)),
])
def test_each_node_asks_for_the_gpu_resource_it_advertises(allocatable, labels, level, asked):
    assert validation.gpu_request(node(allocatable=allocatable, labels=labels), level) == asked


def test_a_job_carries_the_pools_selector_the_tolerations_a_gpu_request_and_is_pinned_to_its_node():
    job = render(node())
    assert job['metadata']['labels'] == {'app.kubernetes.io/name': 'gpu-validation', 'app.kubernetes.io/managed-by': 'aiplatform.aks',
                                         'gpu-validation.aiplatform.aks/run': 'x7k2p', 'gpu-validation.aiplatform.aks/pool': 'gpunp'}
    assert job['metadata']['annotations'] == {'gpu-validation.aiplatform.aks/node': 'aks-gpunp-0'}
    assert job['spec']['backoffLimit'] == 0 and job['spec']['activeDeadlineSeconds'] == 1500 and job['spec']['ttlSecondsAfterFinished'] == 3600
    pod = job['spec']['template']['spec']
    assert pod['nodeSelector'] == {'kubernetes.azure.com/agentpool': 'gpunp'}
    assert pod['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']['nodeSelectorTerms'] == [
        {'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': ['aks-gpunp-0']}]}]
    assert pod['tolerations'] == [{'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}]
    assert pod['restartPolicy'] == 'Never' and pod['automountServiceAccountToken'] is False
    assert [c['name'] for c in pod['initContainers']] == ['nvidia-smi', 'cuda-vectoradd']
    assert [c['name'] for c in pod['containers']] == ['dcgm-diag']
    for container in pod['initContainers'] + pod['containers']:
        # an extended resource must be requested as much as it is limited
        assert container['resources']['limits']['nvidia.com/gpu'] == container['resources']['requests']['nvidia.com/gpu'] == '1'
        assert container['terminationMessagePolicy'] == 'FallbackToLogsOnError'
        assert 'exit $status' in container['command'][2] and '/dev/termination-log' in container['command'][2]
    assert 'dcgmi diag -r 1' in pod['containers'][0]['command'][2] and pod['containers'][0]['image'] == IMAGES['dcgm']


def test_burn_in_runs_the_long_diagnostic_and_without_dcgm_the_cuda_sample_is_the_last_check():
    assert 'dcgmi diag -r 3' in render(node(), level='burn_in')['spec']['template']['spec']['containers'][0]['command'][2]
    pod = render(node(), dcgm=False)['spec']['template']['spec']
    assert [c['name'] for c in pod['initContainers']] == ['nvidia-smi'] and [c['name'] for c in pod['containers']] == ['cuda-vectoradd']


def test_a_node_without_a_pool_label_is_selected_by_its_name_alone():
    job = render(node(name='kind-worker', pool=None))
    assert 'nodeSelector' not in job['spec']['template']['spec']
    assert 'gpu-validation.aiplatform.aks/pool' not in job['metadata']['labels']


@pytest.mark.parametrize('name', ['aks-gpunp-12345678-vmss000000', 'A' * 253, 'node.with.dots_and_UPPER', 'x'])
def test_job_names_are_dns_labels_unique_per_node_and_run(name):
    job = validation.job_name(name, 'x7k2p')
    assert len(job) <= 63 and validation.DNS_LABEL.match(job)
    assert job != validation.job_name(name + 'b', 'x7k2p') and job != validation.job_name(name, 'other')


def test_only_gpu_nodes_a_pod_can_ask_a_gpu_of_are_validated_and_the_others_say_why():
    nodes = [node('gpu-a'), node('cpu', pool='system', allocatable={}, labels={'node.kubernetes.io/instance-type': 'Standard_D4s_v5'}),
             node('cordoned', unschedulable=True), node('dra', allocatable={}, dra_devices=2)]
    chosen, skipped = validation.nodes_to_validate(nodes)
    assert [n['name'] for n in chosen] == ['gpu-a']
    assert skipped == {'cordoned': 'cordoned (spec.unschedulable): no pod can start there',
                       'dra': 'advertises no GPU resource a pod can request (its GPUs are DRA devices)'}


@pytest.mark.parametrize('args, message', [
    (('X!', 'quick', 600, 3600, IMAGES), 'the validation run id must be 1 to 8 lowercase letters or digits'),
    (('ab1', 'thorough', 600, 3600, IMAGES), 'gpu_operator_validate_level must be one of quick, burn_in'),
    (('ab1', 'quick', 0, 3600, IMAGES), 'gpu_operator_validate_timeout must be a whole number of seconds of 1 or more'),
    (('ab1', 'quick', True, 3600, IMAGES), 'gpu_operator_validate_timeout must be a whole number'),
    (('ab1', 'quick', 600, 3600, {'cuda': 'x'}), 'gpu_operator_validate_images.dcgm must name an image'),
    (('ab1', 'quick', 600, 3600, {'cuda': ' ', 'dcgm': 'x'}), 'gpu_operator_validate_images.cuda must name an image'),
])
def test_bad_validation_input_names_the_variable(args, message):
    assert any(p.startswith(message) for p in validation.validation_problems(*args))


def test_good_validation_input_has_no_problem():
    assert validation.validation_problems('ab1', 'burn_in', 3600, 60, IMAGES) == []


@pytest.mark.parametrize('options, message', [
    ({'namespace': 'Bad_NS'}, "validation.namespace 'Bad_NS' is not a namespace name"),
    ({'namespace': 'ok', 'run': 'TOO-LONG-RUN'}, "validation.run 'TOO-LONG-RUN' is not a run id"),
])
def test_gpu_info_refuses_a_bad_validation_option(options, message):
    assert [p for p in validation.read_problems(options) if p.startswith(message)]
    assert validation.read_problems(None) == [] and validation.read_problems({'namespace': 'gpu-operator', 'run': 'x7k2p'}) == []


# --- results ----------------------------------------------------------------------------------------------------

def job(uid='j1', node_name='aks-gpunp-0', conditions=(), created='2026-12-04T08:00:00Z', deadline=600):
    return {'metadata': {'name': 'gpu-validate-' + uid, 'uid': uid, 'creationTimestamp': created,
                         'labels': {validation.POOL_LABEL: 'gpunp'}, 'annotations': {validation.NODE_ANNOTATION: node_name}},
            'spec': {'activeDeadlineSeconds': deadline}, 'status': {'conditions': list(conditions)}}


def terminated(name, code, message=''):
    return {'name': name, 'state': {'terminated': {'exitCode': code, 'message': message}}}


def pod(owner='j1', node_name='aks-gpunp-0', phase='Pending', statuses=(), init_statuses=(), conditions=(), name='p1', created='2026-12-04T08:00:01Z'):
    spec = {'initContainers': [{'name': 'nvidia-smi'}, {'name': 'cuda-vectoradd'}], 'containers': [{'name': 'dcgm-diag'}]}
    if node_name:
        spec['nodeName'] = node_name
    return {'metadata': {'name': name, 'creationTimestamp': created, 'ownerReferences': [{'kind': 'Job', 'uid': owner, 'controller': True}]},
            'spec': spec, 'status': {'phase': phase, 'conditions': list(conditions), 'initContainerStatuses': list(init_statuses),
                                     'containerStatuses': list(statuses)}}


COMPLETE = {'type': 'Complete', 'status': 'True'}
BACKOFF = {'type': 'Failed', 'status': 'True', 'reason': 'BackoffLimitExceeded', 'message': 'Job has reached the specified backoff limit'}
DEADLINE = {'type': 'Failed', 'status': 'True', 'reason': 'DeadlineExceeded', 'message': 'Job was active longer than specified deadline'}


def test_a_complete_job_passes_with_each_checks_output():
    found = validation.results([job(conditions=[COMPLETE])], [pod(phase='Succeeded', init_statuses=[
        terminated('nvidia-smi', 0, '0, NVIDIA A100 80GB PCIe, 570.172.08, 81920 MiB\n'), terminated('cuda-vectoradd', 0, 'Test PASSED\nDone')],
        statuses=[terminated('dcgm-diag', 0, 'Deployment Pass')])])
    result = found['aks-gpunp-0']
    assert result['state'] == 'passed' and result['reason'] is None and result['pool'] == 'gpunp' and result['pod'] == 'p1'
    assert [(c['name'], c['state'], c['exit_code']) for c in result['checks']] == [
        ('nvidia-smi', 'passed', 0), ('cuda-vectoradd', 'passed', 0), ('dcgm-diag', 'passed', 0)]
    assert result['checks'][0]['message'] == '0, NVIDIA A100 80GB PCIe, 570.172.08, 81920 MiB'


def test_a_failed_check_fails_the_node_naming_the_check_its_exit_code_and_last_line():
    found = validation.results([job(conditions=[BACKOFF])], [pod(phase='Failed', init_statuses=[
        terminated('nvidia-smi', 0, 'ok'), terminated('cuda-vectoradd', 1, '[Vector addition of 50000 elements]\nFailed to allocate device vector A\n')],
        statuses=[{'name': 'dcgm-diag', 'state': {'waiting': {'reason': 'PodInitializing'}}}])])
    result = found['aks-gpunp-0']
    assert result['state'] == 'failed'
    assert result['reason'] == 'cuda-vectoradd exited 1: Failed to allocate device vector A'
    assert result['checks'][2] == {'name': 'dcgm-diag', 'state': 'waiting', 'exit_code': None, 'message': 'PodInitializing'}


def test_an_unscheduled_pod_is_pending_with_the_schedulers_message():
    message = '0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn\'t match Pod\'s node affinity/selector.'
    found = validation.results([job()], [pod(node_name=None, conditions=[
        {'type': 'PodScheduled', 'status': 'False', 'reason': 'Unschedulable', 'message': message}])])
    assert found['aks-gpunp-0']['state'] == 'pending' and found['aks-gpunp-0']['reason'] == 'not scheduled: ' + message


@pytest.mark.parametrize('pods, state, reason', [
    ([], 'pending', 'no pod yet'),
    ([pod(init_statuses=[{'name': 'nvidia-smi', 'state': {'waiting': {'reason': 'ImagePullBackOff', 'message': 'Back-off pulling image'}}}])],
     'pending', 'nvidia-smi is waiting: ImagePullBackOff: Back-off pulling image'),
    ([pod(phase='Running', init_statuses=[terminated('nvidia-smi', 0), {'name': 'cuda-vectoradd', 'state': {'running': {}}}])],
     'running', 'cuda-vectoradd is running'),
])
def test_unfinished_jobs_say_why(pods, state, reason):
    result = validation.results([job()], pods)['aks-gpunp-0']
    assert result['state'] == state and result['reason'].startswith(reason)


def test_a_job_past_its_deadline_fails_saying_what_it_was_doing():
    result = validation.results([job(conditions=[DEADLINE], deadline=30)], [pod(
        phase='Running', init_statuses=[terminated('nvidia-smi', 0), {'name': 'cuda-vectoradd', 'state': {'running': {}}}])])['aks-gpunp-0']
    assert result['state'] == 'failed'
    assert result['reason'] == 'did not finish within 30 s (activeDeadlineSeconds); cuda-vectoradd is running'


def test_a_job_past_its_deadline_without_its_pod_says_only_that():
    result = validation.results([job(conditions=[DEADLINE], deadline=30)], [])['aks-gpunp-0']
    assert result['state'] == 'failed' and result['reason'] == 'did not finish within 30 s (activeDeadlineSeconds)'


def test_the_newest_job_of_a_node_and_the_newest_pod_of_a_job_win_and_foreign_pods_are_ignored():
    old = job(uid='old', conditions=[BACKOFF], created='2026-12-04T07:00:00Z')
    new = job(uid='new', conditions=[COMPLETE], created='2026-12-04T08:00:00Z')
    pods = [pod(owner='new', phase='Failed', name='first', created='2026-12-04T08:00:01Z'),
            pod(owner='new', phase='Succeeded', name='second', created='2026-12-04T08:00:05Z'),
            dict(pod(owner='new', name='orphan'), metadata={'name': 'orphan', 'ownerReferences': []})]
    result = validation.results([new, old], pods)['aks-gpunp-0']
    assert result['job'] == 'gpu-validate-new' and result['pod'] == 'second' and result['state'] == 'passed'


def test_the_summary_sorts_nodes_by_outcome():
    found = validation.results([job('a', 'n-a', [COMPLETE]), job('b', 'n-b', [BACKOFF]), job('c', 'n-c')],
                               [pod('b', 'n-b', 'Failed', init_statuses=[terminated('nvidia-smi', 9, "NVIDIA-SMI has failed")])])
    assert validation.summary(found) == {'validation_passed': ['n-a'], 'validation_failed': {'n-b': 'nvidia-smi exited 9: NVIDIA-SMI has failed'},
                                         'validation_unfinished': {'n-c': found['n-c']['reason']}}
    assert validation.summary({}) == {'validation_passed': [], 'validation_failed': {}, 'validation_unfinished': {}}


def test_attach_puts_each_nodes_result_on_it_and_none_where_no_job_validated_it():
    gathered = {'nodes': [{'name': 'n-a'}, {'name': 'n-x'}], 'summary': {'nodes': 2}}
    found = validation.results([job('a', 'n-a', [COMPLETE])], [])
    validation.attach(gathered, found)
    assert gathered['nodes'][0]['validation']['state'] == 'passed' and gathered['nodes'][1]['validation'] is None
    assert gathered['summary']['validation_passed'] == ['n-a'] and gathered['summary']['nodes'] == 2
