"""gpu_info against the real test apiserver (Kubernetes 1.20): GPU nodes, pods that hold GPUs, the GPU Operator's
ClusterPolicy (upstream CRD v26.7.0), DCGM exporter Services, and DRA on a server that does not serve it.

The bed has no kubelet, no device plugin and no GPU Operator. The test plays them, as stand-ins, and says where:
it writes each Node's GPU capacity through the status subresource (what the device plugin makes the kubelet
report), sets the GFD and MIG labels (what GPU feature discovery and the MIG manager set), sets pod phases (what the
kubelet reports), and sets the ClusterPolicy status (what the operator reports). Pods bound to a Node
(spec.nodeName) stay Pending without a kubelet, and hold their requests as the scheduler counts them.
"""

import time
import uuid
from pathlib import Path

import pytest

from tests.integration import kaito_standin
from tests.integration.gpu_standin import RUN_LABEL, api, pool_labels
from tests.integration.kaito_standin import MERGE
from tests.integration.module_call import call_module
from tests.integration.refusals import BadInput, WriteWatch, cases, refused_before_reading

pytestmark = pytest.mark.integration

# gzip-compressed: the upstream descriptions hold Unicode quotes that ansible-test's no-smart-quotes refuses
CRD = Path(__file__).parent.parent / 'crds' / 'gpu-operator' / 'v26.7.0' / 'nvidia.com_clusterpolicies.yaml.gz'
CRD_NAME = 'clusterpolicies.nvidia.com'
GPU, SHARED, MIG = 'nvidia.com/gpu', 'nvidia.com/gpu.shared', 'nvidia.com/mig-1g.10gb'
A100 = 'Standard_NC24ads_A100_v4'
GFD_A100 = {'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-A100-80GB-PCIe', 'nvidia.com/gpu.count': '1',
            'nvidia.com/gpu.memory': '81920'}
DRA_NOT_SERVED = {'served': False, 'api_version': None, 'device_classes': [], 'resource_slices': [],
                  'reason': 'resource.k8s.io is not served by this apiserver (Kubernetes 1.20): DRA needs '
                            'resource.k8s.io/v1, resource.k8s.io/v1beta2, resource.k8s.io/v1beta1'}
# the operator's spec fields the v26.7.0 CRD requires
POLICY_SPEC = dict((field, {}) for field in ('daemonsets', 'dcgm', 'dcgmExporter', 'devicePlugin', 'driver', 'gfd',
                                             'nodeStatusExporter', 'operator', 'toolkit'))


def gpu_info(env, check=False, **args):
    result = call_module('gpu_info', args, env=env, check=check)
    assert not result.get('failed'), result.get('msg')
    return result


def crd_absent(client, timeout=30):
    """Delete the ClusterPolicy CRD if installed, and wait until the server no longer serves nvidia.com/v1."""
    crds = api(client, 'CustomResourceDefinition', 'apiextensions.k8s.io/v1')
    names = [c['metadata']['name'] for c in crds.get().to_dict()['items']]
    if CRD_NAME in names:
        crds.delete(name=CRD_NAME)
    deadline = time.monotonic() + timeout
    while CRD_NAME in [c['metadata']['name'] for c in crds.get().to_dict()['items']] or served_group(client, 'nvidia.com/v1'):
        assert time.monotonic() < deadline, 'CRD %s still there after %ss' % (CRD_NAME, timeout)
        time.sleep(0.2)


def served_group(client, group_version):
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        client.request('get', '/apis/' + group_version)
    except NotFoundError:
        return False
    return True


@pytest.fixture
def cluster_policy_crd(k8s_client):
    """The GPU Operator's ClusterPolicy CRD as released (v26.7.0), installed for one test and removed after it."""
    kaito_standin.install_crds(k8s_client, [CRD])
    yield api(k8s_client, 'ClusterPolicy', 'nvidia.com/v1')
    crd_absent(k8s_client)


@pytest.fixture
def namespace(k8s_client):
    name = 'gi-' + uuid.uuid4().hex[:8]
    api(k8s_client, 'Namespace').create(body={'metadata': {'name': name}})
    yield name
    pods = api(k8s_client, 'Pod')
    for item in pods.get(namespace=name).to_dict()['items']:
        # no kubelet ends a graceful deletion on the bed: delete at once
        pods.delete(name=item['metadata']['name'], namespace=name, body={'gracePeriodSeconds': 0})
    api(k8s_client, 'Namespace').delete(name=name)


def bind_pod(client, namespace, name, node, containers, phase=None):
    """A pod bound to `node` asking for `containers` (each a {resource: amount}); the test (a stand-in for the kubelet)
    sets its phase when `phase` is given."""
    pods = api(client, 'Pod')
    spec = {'containers': [{'name': 'c%d' % i, 'image': 'busybox', 'resources': {'limits': limits}}
                           for i, limits in enumerate(containers)]}
    if node:
        spec['nodeName'] = node
    pods.create(namespace=namespace, body={'metadata': {'name': name}, 'spec': spec})
    if phase:
        pods.status.patch(name=name, namespace=namespace, content_type=MERGE, body={'status': {'phase': phase}})
    assert pods.get(name=name, namespace=namespace).to_dict()['status']['phase'] == (phase or 'Pending')


def test_no_dra_and_no_cluster_policy_crd_are_reported_as_not_served(k8s_env, k8s_client):
    crd_absent(k8s_client)
    result = gpu_info(k8s_env, node_selector='%s=nothing-%s' % (RUN_LABEL, uuid.uuid4().hex[:6]))
    assert result['changed'] is False
    assert result['dra'] == DRA_NOT_SERVED
    assert result['cluster_policy'] == {
        'served': False, 'present': False, 'ready': False, 'state': None, 'policies': [],
        'reason': 'nvidia.com/v1 ClusterPolicy is not served: the GPU Operator CRD clusterpolicies.nvidia.com is not installed'}
    assert result['nodes'] == []
    assert result['summary'] == {'nodes': 0, 'gpu_nodes': 0, 'nodes_advertising_gpus': 0, 'gpu_nodes_without_gpus': [],
                                 'driver_upgrades_in_progress': {}, 'driver_upgrades_failed': [],
                                 'capacity': {GPU: 0}, 'allocatable': {GPU: 0}, 'allocated': {GPU: 0},
                                 'validation_passed': [], 'validation_failed': {}, 'validation_unfinished': {}}


def test_gpu_nodes_their_labels_and_the_gpus_pods_hold(bed, k8s_env, k8s_client, nodes, namespace):
    run = nodes.run
    whole = nodes.add('whole', pool_labels('wh' + run, A100, **dict(GFD_A100, **{'kubernetes.azure.com/accelerator': 'nvidia'})),
                      {GPU: '2'})
    mig = nodes.add('mig', pool_labels('mg' + run, A100, **dict(GFD_A100, **{
        'nvidia.com/mig.config': 'all-1g.10gb', 'nvidia.com/mig.config.state': 'success', 'nvidia.com/mig.strategy': 'mixed'})),
        {MIG: '7', GPU: '0'})
    shared = nodes.add('ts', pool_labels('ts' + run, 'Standard_NC8as_T4_v3', **{
        'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'Tesla-T4', 'nvidia.com/gpu.count': '1',
        'nvidia.com/gpu.memory': '15360', 'nvidia.com/gpu.replicas': '4'}), {SHARED: '4'})
    # an N-series node whose GPUs nothing advertises (no device plugin yet)
    bare = nodes.add('nodrv', pool_labels('nd' + run, A100, **{'kubernetes.azure.com/accelerator': 'nvidia'}))
    # a CPU node known by the older agentpool label only
    cpu = nodes.add('cpu', {'agentpool': 'cp' + run, 'node.kubernetes.io/instance-type': 'Standard_D16s_v5'})
    # one GPU node advertises a GPU it cannot allocate
    nodes.add('held', pool_labels('hd' + run, A100), {GPU: '1'}, allocatable={GPU: '0'})

    bind_pod(k8s_client, namespace, 'pending', whole, [{GPU: '1'}])
    bind_pod(k8s_client, namespace, 'running', whole, [{GPU: '1'}], phase='Running')
    bind_pod(k8s_client, namespace, 'done', whole, [{GPU: '1'}], phase='Succeeded')
    bind_pod(k8s_client, namespace, 'failed', whole, [{GPU: '2'}], phase='Failed')
    bind_pod(k8s_client, namespace, 'unbound', None, [{GPU: '1'}])
    bind_pod(k8s_client, namespace, 'mig', mig, [{MIG: '1', 'cpu': '1'}, {MIG: '2'}], phase='Running')
    bind_pod(k8s_client, namespace, 'ts-a', shared, [{SHARED: '1'}], phase='Running')
    bind_pod(k8s_client, namespace, 'ts-b', shared, [{SHARED: '1'}])
    bind_pod(k8s_client, namespace, 'cpu', cpu, [{'cpu': '1'}], phase='Running')

    watch = WriteWatch(bed)
    result = gpu_info(k8s_env, node_selector='%s=%s' % (RUN_LABEL, run))
    checked = gpu_info(k8s_env, check=True, node_selector='%s=%s' % (RUN_LABEL, run))
    assert watch.writes()['kubernetes'] == []  # reads only
    assert result['changed'] is False and checked['changed'] is False
    assert checked['nodes'] == result['nodes'] and checked['summary'] == result['summary']

    by_name = dict((n['name'], n) for n in result['nodes'])
    assert sorted(by_name) == sorted(nodes.names)
    zero = {'capacity': 0, 'allocatable': 0, 'allocated': 0}
    assert by_name[whole] == {
        'name': whole, 'pool': 'wh' + run, 'instance_type': A100, 'gpu_node': True,
        'gpu_node_reasons': ['gpu_capacity', 'gfd_present_label', 'accelerator_label', 'gpu_instance_type'],
        'advertises_gpus': True, 'resources': {GPU: {'capacity': 2, 'allocatable': 2, 'allocated': 2}}, 'dra_gpu_devices': 0,
        'gfd': {'present': True, 'product': 'NVIDIA-A100-80GB-PCIe', 'count': 1, 'memory': 81920, 'replicas': None},
        'mig': {'config': None, 'config_state': None, 'strategy': None}, 'unschedulable': False, 'driver_upgrade_state': None,
        'validation': None}
    assert by_name[mig]['resources'] == {GPU: zero, MIG: {'capacity': 7, 'allocatable': 7, 'allocated': 3}}
    assert by_name[mig]['mig'] == {'config': 'all-1g.10gb', 'config_state': 'success', 'strategy': 'mixed'}
    assert by_name[mig]['gpu_node_reasons'] == ['gpu_capacity', 'gfd_present_label', 'gpu_instance_type']
    assert by_name[shared]['resources'] == {GPU: zero, SHARED: {'capacity': 4, 'allocatable': 4, 'allocated': 2}}
    assert by_name[shared]['gfd'] == {'present': True, 'product': 'Tesla-T4', 'count': 1, 'memory': 15360, 'replicas': 4}
    assert by_name[bare]['gpu_node'] is True and by_name[bare]['advertises_gpus'] is False
    assert by_name[bare]['gpu_node_reasons'] == ['accelerator_label', 'gpu_instance_type']
    assert by_name[bare]['resources'] == {GPU: zero}
    assert by_name[cpu]['gpu_node'] is False and by_name[cpu]['gpu_node_reasons'] == [] and by_name[cpu]['pool'] == 'cp' + run
    assert by_name[cpu]['instance_type'] == 'Standard_D16s_v5' and by_name[cpu]['resources'] == {GPU: zero}
    held = by_name[nodes.names[-1]]
    assert held['advertises_gpus'] is False and held['resources'] == {GPU: {'capacity': 1, 'allocatable': 0, 'allocated': 0}}
    assert result['summary'] == {
        'nodes': 6, 'gpu_nodes': 5, 'nodes_advertising_gpus': 3, 'gpu_nodes_without_gpus': sorted([bare, nodes.names[-1]]),
        'driver_upgrades_in_progress': {}, 'driver_upgrades_failed': [],
        'capacity': {GPU: 3, SHARED: 4, MIG: 7}, 'allocatable': {GPU: 2, SHARED: 4, MIG: 7}, 'allocated': {GPU: 2, SHARED: 2, MIG: 3},
        'validation_passed': [], 'validation_failed': {}, 'validation_unfinished': {}}
    assert result['dra'] == DRA_NOT_SERVED

    # pools: only the nodes of the named AKS pools (either label), and the summary over them
    pooled = gpu_info(k8s_env, node_selector='%s=%s' % (RUN_LABEL, run), pools=['mg' + run, 'cp' + run])
    assert [n['name'] for n in pooled['nodes']] == sorted([mig, cpu])
    assert pooled['summary']['gpu_nodes'] == 1 and pooled['summary']['allocated'] == {GPU: 0, MIG: 3}

    # a pod that finishes gives its GPUs back; a node cordoned shows it
    api(k8s_client, 'Pod').status.patch(name='running', namespace=namespace, content_type=MERGE, body={'status': {'phase': 'Succeeded'}})
    api(k8s_client, 'Node').patch(name=whole, content_type=MERGE, body={'spec': {'unschedulable': True}})
    again = gpu_info(k8s_env, node_selector='%s=%s' % (RUN_LABEL, run), pools=['wh' + run])
    assert again['nodes'][0]['resources'] == {GPU: {'capacity': 2, 'allocatable': 2, 'allocated': 1}}
    assert again['nodes'][0]['unschedulable'] is True


def test_cluster_policy_in_each_state(k8s_env, k8s_client, cluster_policy_crd):
    """The operator is played by the test (a stand-in) setting the ClusterPolicy's status."""
    policies = cluster_policy_crd
    first, second = 'cluster-policy', 'extra-' + uuid.uuid4().hex[:6]

    def state(name, value, conditions=()):
        policies.status.patch(name=name, content_type=MERGE, body={'status': {'state': value, 'namespace': 'gpu-operator',
                                                                              'conditions': list(conditions)}})

    def read():
        found = gpu_info(k8s_env, node_selector='%s=none' % RUN_LABEL)['cluster_policy']
        assert found['served'] is True and found['reason'] is None
        return found

    assert read() == {'served': True, 'reason': None, 'present': False, 'ready': False, 'state': None, 'policies': []}
    policies.create(body={'apiVersion': 'nvidia.com/v1', 'kind': 'ClusterPolicy', 'metadata': {'name': first}, 'spec': POLICY_SPEC})
    assert read()['policies'] == [{'name': first, 'state': None, 'namespace': None, 'conditions': []}]

    not_ready = {'type': 'Ready', 'status': 'False', 'reason': 'OperandNotReady', 'message': 'ClusterPolicy is not ready, states not ready: '
                 '[state-driver] (set by the test, a stand-in for the operator)', 'lastTransitionTime': '2026-12-04T06:00:00Z'}
    state(first, 'notReady', [not_ready])
    found = read()
    assert found['state'] == 'notReady' and found['ready'] is False and found['present'] is True
    assert found['policies'] == [{'name': first, 'state': 'notReady', 'namespace': 'gpu-operator', 'conditions': [
        {'type': 'Ready', 'status': 'False', 'reason': 'OperandNotReady', 'message': not_ready['message']}]}]

    state(first, 'ready', [dict(not_ready, status='True', reason='Reconciled',
                                message='ClusterPolicy is ready as all resources have been successfully reconciled')])
    found = read()
    assert found['state'] == 'ready' and found['ready'] is True
    assert found['policies'][0]['conditions'][0]['reason'] == 'Reconciled'

    # a second ClusterPolicy: the operator reconciles only one and marks the other ignored
    policies.create(body={'apiVersion': 'nvidia.com/v1', 'kind': 'ClusterPolicy', 'metadata': {'name': second}, 'spec': POLICY_SPEC})
    state(second, 'ignored')
    found = read()
    assert [(p['name'], p['state']) for p in found['policies']] == [(first, 'ready'), (second, 'ignored')]
    assert found['state'] == 'ready' and found['ready'] is True

    state(first, 'notReady', [not_ready])
    assert read()['state'] == 'notReady'

    policies.delete(name=first)
    found = read()
    assert [(p['name'], p['state']) for p in found['policies']] == [(second, 'ignored')]
    assert found['state'] == 'ignored' and found['ready'] is False and found['present'] is True

    # the server refuses a state the CRD does not list, so gpu_info never meets one
    from kubernetes.dynamic.exceptions import DynamicApiError
    with pytest.raises(DynamicApiError) as refused:
        state(second, 'Ready')
    assert refused.value.status == 422 and 'status.state' in str(refused.value.body)
    policies.delete(name=second)


def test_dcgm_exporter_services_in_any_namespace(k8s_env, k8s_client, namespace):
    services = api(k8s_client, 'Service')
    managed = 'gi-m-' + uuid.uuid4().hex[:6]
    api(k8s_client, 'Namespace').create(body={'metadata': {'name': managed}})
    try:
        services.create(namespace=namespace, body={
            'metadata': {'name': 'nvidia-dcgm-exporter', 'annotations': {'prometheus.io/scrape': 'true'}},
            'spec': {'selector': {'app': 'nvidia-dcgm-exporter'}, 'ports': [{'name': 'gpu-metrics', 'port': 9400, 'targetPort': 9400}]}})
        services.create(namespace=managed, body={'metadata': {'name': 'nvidia-dcgm-exporter'}, 'spec': {
            'selector': {'app': 'dcgm'}, 'ports': [{'name': 'http', 'port': 8080}, {'name': 'metrics', 'port': 19400}]}})
        services.create(namespace=namespace, body={'metadata': {'name': 'not-dcgm'}, 'spec': {
            'selector': {'app': 'x'}, 'ports': [{'name': 'gpu-metrics', 'port': 9400}]}})
        result = gpu_info(k8s_env, node_selector='%s=none' % RUN_LABEL)
        mine = [e for e in result['dcgm_exporters'] if e['namespace'] in (namespace, managed)]
        ip = dict((ns, services.get(name='nvidia-dcgm-exporter', namespace=ns).to_dict()['spec']['clusterIP']) for ns in (namespace, managed))
        expected = [
            {'namespace': namespace, 'name': 'nvidia-dcgm-exporter', 'cluster_ip': ip[namespace], 'port': 9400, 'port_name': 'gpu-metrics',
             'ports': [{'name': 'gpu-metrics', 'port': 9400}], 'scrape_annotation': 'true',
             'url': 'http://nvidia-dcgm-exporter.%s.svc:9400/metrics' % namespace},
            {'namespace': managed, 'name': 'nvidia-dcgm-exporter', 'cluster_ip': ip[managed], 'port': 19400, 'port_name': 'metrics',
             'ports': [{'name': 'http', 'port': 8080}, {'name': 'metrics', 'port': 19400}], 'scrape_annotation': None,
             'url': 'http://nvidia-dcgm-exporter.%s.svc:19400/metrics' % managed}]
        assert sorted(mine, key=lambda e: e['namespace']) == sorted(expected, key=lambda e: e['namespace'])
        assert all(e['name'] == 'nvidia-dcgm-exporter' for e in result['dcgm_exporters'])
    finally:
        api(k8s_client, 'Namespace').delete(name=managed)


BAD_INPUT = [
    BadInput('selector-syntax', 'gpu_info', {'node_selector': 'kubernetes.azure.com/agentpool in (gpunp'}, ('node_selector',)),
    BadInput('selector-value', 'gpu_info', {'node_selector': 'nvidia.com/gpu.present=-yes'}, ('node_selector', "'-yes' is not a label value")),
    BadInput('selector-empty', 'gpu_info', {'node_selector': ' '}, ('node_selector is empty',)),
    BadInput('pool-name', 'gpu_info', {'pools': ['gpunp', 'GPU pool']}, ('pools item 2', "'GPU pool'", 'is not a pool name')),
]


@pytest.mark.parametrize('case', cases(*BAD_INPUT))
def test_bad_input_is_refused_naming_the_option_before_any_read(bed, case):
    refused_before_reading(bed, case)
