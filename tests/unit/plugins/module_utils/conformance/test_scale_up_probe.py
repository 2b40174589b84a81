"""The pure parts of the cluster_autoscaling probe: GPU capacity and free GPUs, tolerations and affinity of the probe
pods, its Job, what it reads from pods and events, its progress and verdict, and the opt-in."""

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import scale_up_probe as probe
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.context import ProbeContext
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.functional import PROBE_LABEL
from ansible_collections.aiplatform.aks.plugins.module_utils.gpu.info import allocatable_of

GPU = 'nvidia.com/gpu'
READY = [{'type': 'Ready', 'status': 'True'}]


def node(name, gpus=1, ready=True, taints=None, labels=None, uid=None, unschedulable=False):
    return {'metadata': {'name': name, 'uid': uid or 'uid-' + name, 'labels': labels or {}},
            'spec': dict({'taints': taints or []}, **({'unschedulable': True} if unschedulable else {})),
            'status': {'allocatable': {GPU: str(gpus)} if gpus is not None else {}, 'conditions': READY if ready else []}}


def pod(name, node_name=None, gpus=1, phase='Pending', conditions=None, uid=None):
    return {'metadata': {'name': name, 'uid': uid or 'uid-' + name},
            'spec': dict({'containers': [{'name': 'c', 'resources': {'limits': {GPU: str(gpus)}}}]}, **({'nodeName': node_name} if node_name else {})),
            'status': {'phase': phase, 'conditions': conditions or []}}


def event(pod_name, reason, message, uid=None, when='2026-01-01T00:00:00Z'):
    return {'reason': reason, 'message': message, 'lastTimestamp': when, 'source': {'component': 'cluster-autoscaler'},
            'involvedObject': {'kind': 'Pod', 'name': pod_name, 'uid': uid or 'uid-' + pod_name}}


UNSCHEDULABLE = [{'type': 'PodScheduled', 'status': 'False', 'reason': 'Unschedulable', 'message': '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.'}]


def test_gpus_usable_and_free():
    assert allocatable_of(node('a', 4), GPU) == 4 and allocatable_of(node('b', None), GPU) == 0
    assert probe.usable(node('a')) and not probe.usable(node('a', ready=False)) and not probe.usable(node('a', unschedulable=True))
    pods = [pod('p1', 'a'), pod('p2', 'a', gpus=2), pod('done', 'a', phase='Succeeded'), pod('elsewhere', 'b'), pod('pending')]
    assert probe.free_gpus(node('a', 4), pods, GPU) == 1
    assert probe.free_gpus(node('a', 1), pods, GPU) == 0  # never below zero


def test_tolerations_of_the_gpu_nodes_taints_and_always_the_aks_gpu_taints():
    assert probe.tolerations([]) == [dict(t) for t in probe.GPU_TAINTS]
    nodes = [node('a', taints=[{'key': 'sku', 'value': 'gpu', 'effect': 'NoSchedule'},  # tolerated already
                               {'key': 'dedicated', 'value': 'ml', 'effect': 'NoExecute'},
                               {'key': 'node.kubernetes.io/not-ready', 'effect': 'NoSchedule'},  # the node is unfit: never
                               {'key': 'ToBeDeletedByClusterAutoscaler', 'value': '1', 'effect': 'NoSchedule'},
                               {'key': 'soft', 'effect': 'PreferNoSchedule'}]),
             node('b', taints=[{'key': 'dedicated', 'value': 'other', 'effect': 'NoExecute'}, {'key': 'sku', 'value': 'a100', 'effect': 'NoSchedule'}])]
    assert probe.tolerations(nodes) == [dict(t) for t in probe.GPU_TAINTS] + [
        {'key': 'dedicated', 'operator': 'Exists', 'effect': 'NoExecute'}, {'key': 'sku', 'operator': 'Exists', 'effect': 'NoSchedule'}]


def test_tolerates():
    taint = {'key': 'sku', 'value': 'gpu', 'effect': 'NoSchedule'}
    assert probe.tolerates({'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'}, taint)
    assert probe.tolerates({'key': 'sku', 'operator': 'Exists'}, taint) and probe.tolerates({'operator': 'Exists'}, taint)
    assert not probe.tolerates({'key': 'sku', 'value': 'cpu', 'effect': 'NoSchedule'}, taint)
    assert not probe.tolerates({'key': 'sku', 'operator': 'Exists', 'effect': 'NoExecute'}, taint)


def test_affinity_only_when_every_gpu_node_carries_the_accelerator_label():
    labelled = {probe.ACCELERATOR_LABEL: 'nvidia'}
    assert probe.affinity([]) is None
    assert probe.affinity([node('a', labels=labelled), node('b')]) is None
    terms = probe.affinity([node('a', labels=labelled)])['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']['nodeSelectorTerms']
    assert terms == [{'matchExpressions': [{'key': probe.ACCELERATOR_LABEL, 'operator': 'Exists'}]}]


def test_the_job_runs_all_its_pause_pods_at_once_each_with_one_gpu():
    job = probe.gpu_job('ns', 'j', 3, GPU, [{'key': 'sku', 'operator': 'Exists'}], None, 1500)
    assert job['metadata']['labels'][PROBE_LABEL] == 'cluster_autoscaling'
    spec = job['spec']
    assert (spec['parallelism'], spec['completions'], spec['backoffLimit'], spec['activeDeadlineSeconds']) == (3, 3, 0, 1500)
    pod_spec = spec['template']['spec']
    assert pod_spec['containers'] == [{'name': 'pause', 'image': 'registry.k8s.io/pause:3.10',
                                       'resources': {'requests': {GPU: '1'}, 'limits': {GPU: '1'}}}]
    assert pod_spec['restartPolicy'] == 'Never' and 'affinity' not in pod_spec
    assert probe.gpu_job('ns', 'j', 1, GPU, [], {'nodeAffinity': {}}, 10)['spec']['template']['spec']['affinity'] == {'nodeAffinity': {}}


def test_unschedulable_and_pod_events():
    assert probe.unschedulable(pod('p', conditions=UNSCHEDULABLE)) == '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.'
    assert probe.unschedulable(pod('p')) is None
    assert probe.unschedulable(pod('p', conditions=[{'type': 'PodScheduled', 'status': 'False', 'reason': 'SchedulingGated'}])) is None
    pods = [pod('p1'), pod('p2')]
    events = [event('p2', 'TriggeredScaleUp', 'second', when='2026-01-01T00:00:02Z'), event('p1', 'TriggeredScaleUp', 'first'),
              event('p1', 'TriggeredScaleUp', 'an older pod of that name', uid='other'), event('other', 'TriggeredScaleUp', 'not ours'),
              event('p1', 'FailedScheduling', 'no')]
    assert probe.pod_events(events, pods, 'TriggeredScaleUp') == [('p1', 'first', 'cluster-autoscaler'), ('p2', 'second', 'cluster-autoscaler')]


def test_progress_to_a_pass():
    progress = probe.Progress(['uid-old'], GPU, 2)
    assert progress.observe([], [], [node('old')], 0.1) == (False, 'the Job has made 0 of its 2 pods')
    pods = [pod('p1', 'old'), pod('p2', conditions=UNSCHEDULABLE)]
    assert progress.observe(pods, [], [node('old')], 1) == (False, 'no TriggeredScaleUp event on a probe pod and no new GPU node yet')
    events = [event('p2', 'TriggeredScaleUp', 'pod triggered scale-up: [{g 1->2 (max: 3)}]')]
    assert progress.observe(pods, events, [node('old'), node('new', ready=False)], 2)[1].startswith('no new GPU node Ready yet')
    assert progress.observe(pods, events, [node('old'), node('new')], 30) == (False, '1 of 2 pods placed')
    pods[1]['spec']['nodeName'] = 'new'
    assert progress.observe(pods, events, [node('old'), node('new')], 31) == (True, 'all 2 pods placed')
    items = progress.findings()
    assert [(check, ok) for check, observed, ok in items] == [
        ('pod Unschedulable', True), ('TriggeredScaleUp event', True), ('new GPU node Ready', True), ('probe pods scheduled', True)]
    assert items[2][1] == 'new Ready with nvidia.com/gpu after 30 s'
    assert items[3][1] == '2 of 2 pods placed: p1 on old, p2 on new (new)'
    result = probe._verdict(progress, items, 2, GPU, None)
    assert result['ok'] and not result.get('partial')
    assert result['notes'].startswith('2 pods pending, 1 nvidia.com/gpu each: the cluster autoscaler scaled up (pod triggered scale-up: '
                                      '[{g 1->2 (max: 3)}]) and GPU node new was Ready 30 s after the pods were made; 2 pods placed, 1 on the '
                                      'new node; the scale-down is left to the autoscaler')


def test_progress_stops_at_not_trigger_scale_up_before_any_scale_up():
    progress = probe.Progress([], GPU, 1)
    pods = [pod('p1', conditions=UNSCHEDULABLE)]
    done, why = progress.observe(pods, [event('p1', 'NotTriggerScaleUp', "pod didn't trigger scale-up: 1 max node group size reached")], [], 1)
    assert done and why == "the autoscaler did not scale up: NotTriggerScaleUp on pod p1: pod didn't trigger scale-up: 1 max node group size reached"
    items = progress.findings()
    assert items[1] == ('TriggeredScaleUp event', "none; NotTriggerScaleUp on pod p1 from cluster-autoscaler: pod didn't trigger scale-up: 1 max "
                        'node group size reached', False)
    result = probe._verdict(progress, items, 1, GPU, None)
    assert not result['ok'] and result['notes'].startswith('cluster_autoscaling probe failed: TriggeredScaleUp event: none; NotTriggerScaleUp')


def test_pods_placed_on_old_nodes_only_end_the_wait_as_a_failure():
    progress = probe.Progress(['uid-old'], GPU, 1)
    assert progress.observe([pod('p1', 'old')], [], [node('old')], 1) == (True, 'all 1 pods placed')
    items = progress.findings()
    assert items[3] == ('probe pods scheduled', 'all 1 pods placed, none on a new node: p1 on old', False)
    assert not probe._verdict(progress, items, 1, GPU, None)['ok']


def test_a_new_node_without_the_event_is_partial_and_a_timeout_names_the_node_left_billed():
    progress = probe.Progress([], GPU, 1)
    progress.observe([pod('p1', 'new', conditions=UNSCHEDULABLE)], [], [node('new')], 5)
    items = progress.findings()
    result = probe._verdict(progress, items, 1, GPU, None)
    assert result['ok'] and result['partial'] and 'not attributed to the cluster autoscaler' in result['notes']

    waiting = probe.Progress([], GPU, 2)
    waiting.observe([pod('p1', 'new', conditions=UNSCHEDULABLE), pod('p2', conditions=UNSCHEDULABLE)],
                    [event('p1', 'TriggeredScaleUp', 'up')], [node('new')], 5)
    result = probe._verdict(waiting, waiting.findings(), 2, GPU, 'Timed out after 9s waiting for x: 1 of 2 pods placed')
    assert not result['ok']
    assert result['notes'].startswith('cluster_autoscaling probe failed: Timed out after 9s waiting for x: 1 of 2 pods placed; probe pods '
                                      'scheduled: 1 of 2 pods placed: p1 on new (new)')
    assert result['notes'].endswith('GPU node new was added: ' + probe.SCALE_DOWN)


def test_not_opted_in_runs_nothing():
    class Refusing:
        def __getattr__(self, name):
            raise AssertionError('the probe used the client: %s' % name)
    ctx = ProbeContext(Refusing(), {})
    assert ctx.settings['gpu_scale_up'] is False
    assert probe.cluster_autoscaling(ctx) is None and ctx.objects == []
    assert probe.PROBES == {'cluster_autoscaling': probe.cluster_autoscaling}
