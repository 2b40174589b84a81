"""gpu_info logic: quantities, what pods hold, GPU-node detection, labels, and the cluster-wide reads on a fake API."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.gpu import info
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.validate import Validator

from tests.unit.plugins.module_utils.k8s.fakes import FakeCluster, Result


@pytest.mark.parametrize('value, number', [
    ('2', 2), (8, 8), ('0', 0), ('500m', 0.5), ('1000m', 1), ('1k', 1000), ('1Ki', 1024), ('2Mi', 2 * 2 ** 20),
    ('1e3', 1000), ('1.5', 1.5), ('+3', 3), ('.5', 0.5), ('1G', 10 ** 9), ('1E', 10 ** 18), (2.0, 2),
])
def test_quantities(value, number):
    assert info.parse_quantity(value) == number
    assert type(info.parse_quantity(value)) is type(number)


@pytest.mark.parametrize('value', ['', 'two', '1 Gi', '1KB', '1e', 'Ki', True, None])
def test_not_quantities(value):
    with pytest.raises(ValueError, match='is not a quantity'):
        info.parse_quantity(value)


@pytest.mark.parametrize('name, gpu', [
    ('nvidia.com/gpu', True), ('nvidia.com/gpu.shared', True), ('nvidia.com/mig-1g.10gb', True), ('nvidia.com/mig-3g.40gb', True),
    ('cpu', False), ('amd.com/gpu', False), ('nvidia.com/gpu.present', False), ('nvidia.com/migx', False),
])
def test_gpu_resources(name, gpu):
    assert info.is_gpu_resource(name) is gpu


def container(requests=None, limits=None, **extra):
    return dict({'name': 'c', 'resources': {k: v for k, v in (('requests', requests), ('limits', limits)) if v is not None}}, **extra)


def pod(node='n1', phase='Pending', containers=(), init=(), overhead=None):
    spec = {'nodeName': node, 'containers': list(containers)}
    if init:
        spec['initContainers'] = list(init)
    if overhead:
        spec['overhead'] = overhead
    return {'metadata': {'name': 'p', 'namespace': 'ns'}, 'spec': spec, 'status': {'phase': phase}}


def test_a_limit_alone_is_the_request_of_an_extended_resource():
    assert info.container_request(container(limits={'nvidia.com/gpu': '2'}), 'nvidia.com/gpu') == 2
    assert info.container_request(container(requests={'nvidia.com/gpu': '1'}, limits={'nvidia.com/gpu': '1'}), 'nvidia.com/gpu') == 1
    assert info.container_request(container(requests={'cpu': '1'}), 'nvidia.com/gpu') == 0
    assert info.container_request({'name': 'bare'}, 'nvidia.com/gpu') == 0


def test_a_pod_holds_its_containers_sum_or_its_largest_init_container():
    gpu = 'nvidia.com/gpu'
    two_apps = pod(containers=[container(limits={gpu: '1'}), container(limits={gpu: '2'})])
    assert info.pod_request(two_apps, gpu) == 3
    big_init = pod(containers=[container(limits={gpu: '1'})], init=[container(limits={gpu: '4'}), container(limits={gpu: '2'})])
    assert info.pod_request(big_init, gpu) == 4
    # a sidecar (restartPolicy Always) runs beside the later init containers and the app containers
    sidecar = pod(containers=[container(limits={gpu: '1'})],
                  init=[container(limits={gpu: '1'}, restartPolicy='Always'), container(limits={gpu: '2'})])
    assert info.pod_request(sidecar, gpu) == 3  # sidecar 1 + init 2 (app phase: 1 + 1)
    assert info.pod_request(pod(containers=[container(limits={gpu: '1'})], overhead={gpu: '1'}), gpu) == 2
    assert info.pod_gpu_requests(sidecar) == {gpu: 3}
    mixed = pod(containers=[container(requests={'cpu': '1', 'nvidia.com/mig-1g.10gb': '2'}, limits={'nvidia.com/mig-1g.10gb': '2'}),
                            container(limits={'nvidia.com/gpu.shared': '1'})])
    assert info.pod_gpu_requests(mixed) == {'nvidia.com/gpu.shared': 1, 'nvidia.com/mig-1g.10gb': 2}


@pytest.mark.parametrize('phase, node, holds', [
    ('Pending', 'n1', True), ('Running', 'n1', True), ('Unknown', 'n1', True), (None, 'n1', True),
    ('Succeeded', 'n1', False), ('Failed', 'n1', False), ('Pending', None, False), ('Pending', '', False),
])
def test_bound_unfinished_pods_hold_resources(phase, node, holds):
    obj = pod(node=node, phase=phase)
    if phase is None:
        del obj['status']
    assert info.holds_resources(obj) is holds


def test_allocation_sums_over_the_pods_that_hold_resources_per_node():
    gpu = 'nvidia.com/gpu'
    pods = [pod('n1', 'Running', [container(limits={gpu: '1'})]),
            pod('n1', 'Pending', [container(limits={gpu: '2'})]),
            pod('n1', 'Succeeded', [container(limits={gpu: '4'})]),
            pod('n1', 'Failed', [container(limits={gpu: '8'})]),
            pod('n2', 'Running', [container(limits={'nvidia.com/mig-1g.10gb': '3'})]),
            pod('n2', 'Running', [container(requests={'cpu': '1'})]),
            pod('n3', 'Running', [container(limits={gpu: '1'})]),
            pod(None, 'Pending', [container(limits={gpu: '16'})])]
    assert info.allocated_by_node(pods) == {'n1': {gpu: 3}, 'n2': {'nvidia.com/mig-1g.10gb': 3}, 'n3': {gpu: 1}}
    assert info.allocated_by_node(pods, {'n1', 'n2'}) == {'n1': {gpu: 3}, 'n2': {'nvidia.com/mig-1g.10gb': 3}}


GFD = {'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-A100-80GB-PCIe', 'nvidia.com/gpu.count': '2',
       'nvidia.com/gpu.memory': '81920', 'nvidia.com/gpu.replicas': '4'}


def test_labels_of_gpu_feature_discovery_mig_and_the_pool():
    assert info.gfd_labels(GFD) == {'present': True, 'product': 'NVIDIA-A100-80GB-PCIe', 'count': 2, 'memory': 81920, 'replicas': 4}
    assert info.gfd_labels({}) == {'present': None, 'product': None, 'count': None, 'memory': None, 'replicas': None}
    assert info.gfd_labels({'nvidia.com/gpu.present': 'false', 'nvidia.com/gpu.count': 'x'})['present'] is False
    assert info.gfd_labels({'nvidia.com/gpu.count': 'x'})['count'] is None
    assert info.mig_labels({'nvidia.com/mig.config': 'all-1g.10gb', 'nvidia.com/mig.config.state': 'success',
                            'nvidia.com/mig.strategy': 'mixed'}) == {'config': 'all-1g.10gb', 'config_state': 'success', 'strategy': 'mixed'}
    assert info.mig_labels({}) == {'config': None, 'config_state': None, 'strategy': None}
    assert info.pool_of({'kubernetes.azure.com/agentpool': 'gpunp', 'agentpool': 'old'}) == 'gpunp'
    assert info.pool_of({'agentpool': 'gpunp'}) == 'gpunp'
    assert info.pool_of({'kubernetes.io/hostname': 'kind'}) is None


@pytest.mark.parametrize('size, gpu', [
    ('Standard_NC24ads_A100_v4', True), ('Standard_ND96asr_v4', True), ('standard_nv36ads_a10_v5', True),
    ('Standard_NP10s', False), ('Standard_D16s_v5', False), ('', False), (None, False),
])
def test_gpu_vm_sizes(size, gpu):
    assert info.is_gpu_size(size) is gpu


def node(name, labels=None, capacity=None, allocatable=None, unschedulable=False):
    obj = {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': name, 'labels': dict(labels or {})},
           'status': {'capacity': dict({'cpu': '8', 'memory': '32Gi'}, **(capacity or {})),
                      'allocatable': dict({'cpu': '7800m', 'memory': '30Gi'}, **(allocatable if allocatable is not None else capacity or {}))}}
    if unschedulable:
        obj['spec'] = {'unschedulable': True}
    return obj


@pytest.mark.parametrize('labels, capacity, reasons', [
    ({}, {'nvidia.com/gpu': '1'}, ['gpu_capacity']),
    ({}, {'nvidia.com/mig-1g.10gb': '7'}, ['gpu_capacity']),
    ({}, {'nvidia.com/gpu': '0'}, []),
    ({'nvidia.com/gpu.present': 'true'}, {}, ['gfd_present_label']),
    ({'nvidia.com/gpu.present': 'false'}, {}, []),
    ({'kubernetes.azure.com/accelerator': 'nvidia'}, {}, ['accelerator_label']),
    ({'node.kubernetes.io/instance-type': 'Standard_NC24ads_A100_v4'}, {}, ['gpu_instance_type']),
    ({'beta.kubernetes.io/instance-type': 'Standard_NC6s_v3'}, {}, ['gpu_instance_type']),
    ({'node.kubernetes.io/instance-type': 'Standard_D16s_v5'}, {}, []),
    (dict(GFD, **{'node.kubernetes.io/instance-type': 'Standard_NC24ads_A100_v4'}), {'nvidia.com/gpu': '1'},
     ['gpu_capacity', 'gfd_present_label', 'gpu_instance_type']),
])
def test_what_makes_a_gpu_node(labels, capacity, reasons):
    found = info.node_info(node('n', labels, capacity))
    assert found['gpu_node_reasons'] == reasons
    assert found['gpu_node'] is bool(reasons)


def test_node_info_reports_every_gpu_resource_with_what_is_allocated():
    labels = dict(GFD, **{'kubernetes.azure.com/agentpool': 'mig', 'node.kubernetes.io/instance-type': 'Standard_NC24ads_A100_v4',
                          'nvidia.com/mig.config': 'all-1g.10gb', 'nvidia.com/mig.config.state': 'success'})
    found = info.node_info(node('n1', labels, {'nvidia.com/mig-1g.10gb': '7', 'nvidia.com/gpu': '0'}, {'nvidia.com/mig-1g.10gb': '6'},
                                unschedulable=True),
                           allocated={'nvidia.com/mig-1g.10gb': 2, 'nvidia.com/gpu.shared': 1})
    assert found['resources'] == {'nvidia.com/gpu': {'capacity': 0, 'allocatable': 0, 'allocated': 0},
                                  'nvidia.com/gpu.shared': {'capacity': 0, 'allocatable': 0, 'allocated': 1},
                                  'nvidia.com/mig-1g.10gb': {'capacity': 7, 'allocatable': 6, 'allocated': 2}}
    assert found['pool'] == 'mig' and found['instance_type'] == 'Standard_NC24ads_A100_v4' and found['unschedulable'] is True
    assert found['advertises_gpus'] is True and found['dra_gpu_devices'] == 0
    assert found['mig'] == {'config': 'all-1g.10gb', 'config_state': 'success', 'strategy': None}
    cpu = info.node_info(node('c1'))
    assert cpu['resources'] == {'nvidia.com/gpu': {'capacity': 0, 'allocatable': 0, 'allocated': 0}}
    assert cpu['gpu_node'] is False and cpu['advertises_gpus'] is False and cpu['pool'] is None


def test_a_gpu_node_whose_gpus_are_not_allocatable_does_not_advertise_them():
    found = info.node_info(node('n1', {'kubernetes.azure.com/accelerator': 'nvidia'}, {'nvidia.com/gpu': '1'}, {'nvidia.com/gpu': '0'}))
    assert found['gpu_node'] is True and found['advertises_gpus'] is False


def test_dra_devices_make_a_gpu_node_that_advertises_gpus():
    found = info.node_info(node('n1'), dra_gpu_devices=2)
    assert found['gpu_node_reasons'] == ['dra_devices'] and found['advertises_gpus'] is True and found['dra_gpu_devices'] == 2


def test_a_node_quantity_that_is_not_one_is_named():
    with pytest.raises(K8sError, match="node n1 has a capacity of nvidia.com/gpu that is not a quantity: 'lots'"):
        info.node_info(node('n1', capacity={'nvidia.com/gpu': 'lots'}))


def test_summary_counts_and_names_the_gpu_nodes_without_gpus():
    nodes = [info.node_info(node('a', capacity={'nvidia.com/gpu': '2'}), {'nvidia.com/gpu': 1}),
             info.node_info(node('b', {'kubernetes.azure.com/accelerator': 'nvidia'})),
             info.node_info(node('c', {'nvidia.com/gpu.present': 'true'}, {'nvidia.com/gpu.shared': '4'}), {'nvidia.com/gpu.shared': 3}),
             info.node_info(node('d'))]
    assert info.summarize(nodes) == {
        'nodes': 4, 'gpu_nodes': 3, 'nodes_advertising_gpus': 2, 'gpu_nodes_without_gpus': ['b'],
        'driver_upgrades_in_progress': {}, 'driver_upgrades_failed': [],
        'capacity': {'nvidia.com/gpu': 2, 'nvidia.com/gpu.shared': 4},
        'allocatable': {'nvidia.com/gpu': 2, 'nvidia.com/gpu.shared': 4},
        'allocated': {'nvidia.com/gpu': 1, 'nvidia.com/gpu.shared': 3}}
    assert info.summarize([]) == {'nodes': 0, 'gpu_nodes': 0, 'nodes_advertising_gpus': 0, 'gpu_nodes_without_gpus': [],
                                  'driver_upgrades_in_progress': {}, 'driver_upgrades_failed': [],
                                  'capacity': {info.GPU_RESOURCE: 0}, 'allocatable': {info.GPU_RESOURCE: 0}, 'allocated': {info.GPU_RESOURCE: 0}}


@pytest.mark.parametrize('params, problems', [
    ({'node_selector': 'kubernetes.azure.com/agentpool=gpunp,nvidia.com/gpu.present in (true)', 'pools': ['gpunp']}, []),
    ({'node_selector': None, 'pools': []}, []),
    ({'node_selector': ' ', 'pools': []}, ['node_selector is empty: leave it out to read every node']),
    ({'node_selector': 'a b=c', 'pools': []}, ["node_selector 'a b=c': 'a b=c' is not a requirement"]),
    ({'node_selector': 'pool=-bad', 'pools': []}, ["node_selector 'pool=-bad': '-bad' is not a label value"]),
    ({'node_selector': None, 'pools': ['gpunp', 'GPU pool', '']},
     ["pools item 2 'GPU pool' is not a pool name", "pools item 3 '' is not a pool name"]),
])
def test_input_problems_name_the_option(params, problems):
    found = info.input_problems(params)
    assert len(found) == len(problems)
    for sentence, start in zip(found, problems):
        assert sentence.startswith(start), sentence


class Cluster(FakeCluster):
    """The fake API, with the != field selectors the pod list uses (the plain fake matches = only), a server version,
    and the kinds a GPU cluster serves."""

    def __init__(self, *objects, dra_versions=(), cluster_policy=True, minor='34'):
        super(Cluster, self).__init__()
        if minor:
            # the dynamic client's server version (the plain fake counts resourceVersions in it; no test here applies)
            self.version = {'kubernetes': {'major': '1', 'minor': minor}}
        self.kinds[('v1', 'Service')] = ('services', True)
        if cluster_policy:
            self.kinds[('nvidia.com/v1', 'ClusterPolicy')] = ('clusterpolicies', False)
        for version in dra_versions:
            self.kinds[('resource.k8s.io/' + version, 'DeviceClass')] = ('deviceclasses', False)
            self.kinds[('resource.k8s.io/' + version, 'ResourceSlice')] = ('resourceslices', False)
        self.field_selectors = []
        for obj in objects:
            self.add(obj)

    def get(self, resource, name=None, namespace=None, label_selector=None, field_selector=None):
        if field_selector and '!=' in field_selector:
            self.field_selectors.append(field_selector)
            items = super(Cluster, self).get(resource, namespace=namespace, label_selector=label_selector)['items']
            for term in field_selector.split(','):
                path, _sep, value = term.partition('!=')
                items = [i for i in items if _dig(i, path) != value and not (value == '' and _dig(i, path) is None)]
            return Result(items=items)
        return super(Cluster, self).get(resource, name=name, namespace=namespace, label_selector=label_selector, field_selector=field_selector)


def _dig(obj, path):
    for part in path.split('.'):
        obj = (obj or {}).get(part)
    return obj


def full_pod(name, node_name, phase, gpus):
    return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': name, 'namespace': 'ml'},
            'spec': {'nodeName': node_name, 'containers': [container(limits={'nvidia.com/gpu': gpus})]}, 'status': {'phase': phase}}


def policy(name, state=None):
    obj = {'apiVersion': 'nvidia.com/v1', 'kind': 'ClusterPolicy', 'metadata': {'name': name}}
    if state:
        obj['status'] = {'state': state, 'namespace': 'gpu-operator'}
    return obj


def test_gather_on_a_1_20_server_without_dra_or_the_gpu_operator():
    cluster = Cluster(node('g1', {'kubernetes.azure.com/agentpool': 'gpunp'}, {'nvidia.com/gpu': '1'}),
                      full_pod('run', 'g1', 'Running', '1'), full_pod('done', 'g1', 'Succeeded', '1'),
                      cluster_policy=False, minor='20')
    found = info.gather(cluster)
    assert found['dra'] == {'served': False, 'api_version': None, 'device_classes': [], 'resource_slices': [],
                            'reason': 'resource.k8s.io is not served by this apiserver (Kubernetes 1.20): DRA needs '
                                      'resource.k8s.io/v1, resource.k8s.io/v1beta2, resource.k8s.io/v1beta1'}
    assert found['cluster_policy'] == {
        'served': False, 'present': False, 'ready': False, 'state': None, 'policies': [],
        'reason': 'nvidia.com/v1 ClusterPolicy is not served: the GPU Operator CRD clusterpolicies.nvidia.com is not installed'}
    assert found['nodes'][0]['resources'] == {'nvidia.com/gpu': {'capacity': 1, 'allocatable': 1, 'allocated': 1}}
    assert cluster.field_selectors == [info.POD_FIELD_SELECTOR]
    assert found['dcgm_exporters'] == []


# DRA objects as a Kubernetes 1.34 server serves them (checked against its schemas below): v1beta1 as a 1.32 server
# would, and v1
V1BETA1_SLICES = [
    {'apiVersion': 'resource.k8s.io/v1beta1', 'kind': 'ResourceSlice', 'metadata': {'name': 'g2-gpu'},
     'spec': {'driver': 'gpu.nvidia.com', 'nodeName': 'g2', 'pool': {'name': 'g2', 'generation': 1, 'resourceSliceCount': 1},
              'devices': [{'name': 'gpu-0', 'basic': {}}, {'name': 'gpu-1', 'basic': {}}]}},
    {'apiVersion': 'resource.k8s.io/v1beta1', 'kind': 'ResourceSlice', 'metadata': {'name': 'g2-cd'},
     'spec': {'driver': 'compute-domain.nvidia.com', 'nodeName': 'g2', 'pool': {'name': 'g2', 'generation': 1, 'resourceSliceCount': 1},
              'devices': [{'name': 'ch-0'}]}}]
V1BETA1_CLASS = {'apiVersion': 'resource.k8s.io/v1beta1', 'kind': 'DeviceClass', 'metadata': {'name': 'gpu.nvidia.com'},
                 'spec': {'selectors': [{'cel': {'expression': "device.driver == 'gpu.nvidia.com'"}}]}}
V1_CLASS = {'apiVersion': 'resource.k8s.io/v1', 'kind': 'DeviceClass', 'metadata': {'name': 'gpu.nvidia.com'},
            'spec': {'selectors': [{'cel': {'expression': "device.driver == 'gpu.nvidia.com'"}}], 'extendedResourceName': 'nvidia.com/gpu'}}
V1_SHARED_SLICE = {'apiVersion': 'resource.k8s.io/v1', 'kind': 'ResourceSlice', 'metadata': {'name': 'net'},
                   'spec': {'driver': 'gpu.nvidia.com', 'allNodes': True, 'pool': {'name': 'fabric', 'generation': 1, 'resourceSliceCount': 1},
                            'devices': [{'name': 'd0'}]}}


def test_the_dra_objects_of_these_tests_are_valid_at_kubernetes_1_34():
    checker = Validator(version='1.34', crds=[], strict=True, fail_on_error=False)
    assert checker.validate(V1BETA1_SLICES + [V1BETA1_CLASS, V1_CLASS, V1_SHARED_SLICE]) == []


def test_gather_filters_by_pool_and_reads_dra_in_the_newest_served_version():
    cluster = Cluster(
        node('g1', {'kubernetes.azure.com/agentpool': 'gpunp'}, {'nvidia.com/gpu': '1'}),
        node('g2', {'kubernetes.azure.com/agentpool': 'dranp', 'kubernetes.azure.com/accelerator': 'nvidia'}),
        node('s1', {'kubernetes.azure.com/agentpool': 'system'}),
        V1BETA1_CLASS, *V1BETA1_SLICES, dra_versions=('v1beta1',))
    found = info.gather(cluster, pools=['gpunp', 'dranp'])
    assert [n['name'] for n in found['nodes']] == ['g1', 'g2']
    assert found['nodes'][1]['dra_gpu_devices'] == 2 and found['nodes'][1]['advertises_gpus'] is True
    assert found['summary']['gpu_nodes_without_gpus'] == [] and found['summary']['gpu_nodes'] == 2
    assert found['dra'] == {
        'served': True, 'reason': None, 'api_version': 'resource.k8s.io/v1beta1',
        'device_classes': [{'name': 'gpu.nvidia.com', 'selectors': ["device.driver == 'gpu.nvidia.com'"], 'extended_resource_name': None}],
        'resource_slices': [{'name': 'g2-cd', 'driver': 'compute-domain.nvidia.com', 'node': 'g2', 'all_nodes': False, 'pool': 'g2',
                             'generation': 1, 'slice_count': 1, 'devices': 1},
                            {'name': 'g2-gpu', 'driver': 'gpu.nvidia.com', 'node': 'g2', 'all_nodes': False, 'pool': 'g2',
                             'generation': 1, 'slice_count': 1, 'devices': 2}]}


def test_dra_is_read_in_the_newest_version_the_server_serves():
    found = info.dra_info(Cluster(V1_CLASS, V1_SHARED_SLICE, dra_versions=('v1beta1', 'v1beta2', 'v1')))
    assert found['api_version'] == 'resource.k8s.io/v1'
    assert found['device_classes'] == [{'name': 'gpu.nvidia.com', 'selectors': ["device.driver == 'gpu.nvidia.com'"],
                                        'extended_resource_name': 'nvidia.com/gpu'}]
    assert found['resource_slices'] == [{'name': 'net', 'driver': 'gpu.nvidia.com', 'node': None, 'all_nodes': True, 'pool': 'fabric',
                                         'generation': 1, 'slice_count': 1, 'devices': 1}]
    # a slice for all nodes is no node's own GPU
    assert info.dra_gpu_devices_by_node(found) == {}


def dra_slice(name, pool, generation, count, devices=1, node='g1'):
    return {'name': name, 'driver': 'gpu.nvidia.com', 'node': node, 'all_nodes': False, 'pool': pool, 'generation': generation,
            'slice_count': count, 'devices': devices}


def test_a_pool_is_complete_when_every_slice_of_its_newest_generation_is_there():
    slices = [dra_slice('a-old', 'a', 1, 1, devices=2), dra_slice('a-0', 'a', 2, 2, devices=1), dra_slice('a-1', 'a', 2, 2, devices=1),
              dra_slice('b-0', 'b', 5, 2, devices=4, node='g2')]
    pools = info.resource_pools(slices)
    assert [(p['pool'], p['generation'], p['slices'], p['slice_count'], p['complete']) for p in pools] == [('a', 2, 2, 2, True), ('b', 5, 1, 2, False)]
    assert [i['name'] for i in pools[0]['current']] == ['a-0', 'a-1']
    # the older generation being replaced is not counted beside the new one
    assert info.dra_gpu_devices_by_node({'resource_slices': slices}) == {'g1': 2, 'g2': 4}


def test_no_node_no_pod_list():
    cluster = Cluster(full_pod('run', 'g1', 'Running', '1'))
    found = info.gather(cluster, pools=['nothing'])
    assert found['nodes'] == [] and cluster.field_selectors == []


@pytest.mark.parametrize('states, state, ready', [
    ([], None, False),
    (['ready'], 'ready', True),
    (['notReady'], 'notReady', False),
    (['ignored'], 'ignored', False),
    ([None], None, False),
    (['ready', 'ignored'], 'ready', True),
    (['ignored', 'notReady'], 'notReady', False),
])
def test_cluster_policy_state(states, state, ready):
    cluster = Cluster(*[policy('p%d' % i, s) for i, s in enumerate(states)])
    found = info.cluster_policy_info(cluster)
    assert found['served'] is True and found['reason'] is None
    assert [p['state'] for p in found['policies']] == states
    assert found['state'] == state and found['ready'] is ready and found['present'] is bool(states)


def service(namespace, ports, name='nvidia-dcgm-exporter', annotations=None):
    return {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': name, 'namespace': namespace, 'annotations': annotations or {}},
            'spec': {'clusterIP': '10.0.0.9', 'ports': ports}}


def test_dcgm_exporters_and_their_metrics_port():
    cluster = Cluster(service('gpu-operator', [{'name': 'other', 'port': 8080}, {'name': 'gpu-metrics', 'port': 9400}],
                              annotations={'prometheus.io/scrape': 'true'}),
                      service('kube-system', [{'name': 'metrics', 'port': 19400}]),
                      service('bare', []),
                      service('gpu-operator', [{'name': 'http', 'port': 80}], name='something-else'))
    found = info.dcgm_exporters(cluster)
    assert [(e['namespace'], e['port'], e['port_name'], e['url']) for e in found] == [
        ('bare', None, None, None),
        ('gpu-operator', 9400, 'gpu-metrics', 'http://nvidia-dcgm-exporter.gpu-operator.svc:9400/metrics'),
        ('kube-system', 19400, 'metrics', 'http://nvidia-dcgm-exporter.kube-system.svc:19400/metrics')]
    assert found[1]['scrape_annotation'] == 'true' and found[1]['cluster_ip'] == '10.0.0.9'
    assert found[1]['ports'] == [{'name': 'other', 'port': 8080}, {'name': 'gpu-metrics', 'port': 9400}]


def test_server_version_words():
    assert info.server_version(Cluster(minor='29+')) == 'Kubernetes 1.29'
    assert info.server_version(Cluster(minor=None)) == 'Kubernetes of unknown version'


def test_driver_upgrades_in_progress_and_failed_are_named_with_their_state():
    def upgrading(name, state):
        return info.node_info(node(name, {'nvidia.com/gpu-driver-upgrade-state': state}, {'nvidia.com/gpu': '1'}))
    nodes = [upgrading('a', 'drain-required'), upgrading('b', 'upgrade-done'), upgrading('c', 'upgrade-failed'),
             upgrading('d', 'validation-required'), info.node_info(node('e'))]
    assert [n['driver_upgrade_state'] for n in nodes] == ['drain-required', 'upgrade-done', 'upgrade-failed', 'validation-required', None]
    summary = info.summarize(nodes)
    assert summary['driver_upgrades_in_progress'] == {'a': 'drain-required', 'd': 'validation-required'}
    assert summary['driver_upgrades_failed'] == ['c']
