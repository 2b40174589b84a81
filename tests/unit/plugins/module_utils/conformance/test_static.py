"""Each static probe's decision on a fake API: discovery (kinds served, their verbs), CRDs, Deployments, webhooks,
APIServices, DRA objects, GPU nodes, AKS pools, and Prometheus answers."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import static
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.context import DEFAULT_SETTINGS

from tests.unit.plugins.module_utils.gpu.test_info import Cluster as GpuCluster, node

VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']


class Resources:
    def __init__(self, cluster):
        self.cluster = cluster

    def get(self, api_version, kind):
        resource = self.cluster.plain_resources.get(api_version, kind)
        resource.verbs = self.cluster.verbs.get(kind, VERBS)
        return resource


class Fake(GpuCluster):
    """The GPU fake with every kind of the objects given served, `serve` kinds served though empty, and verbs."""

    def __init__(self, *objects, serve=(), verbs=None, dra_versions=()):
        super(Fake, self).__init__(dra_versions=dra_versions, cluster_policy=False)
        self.plain_resources, self.resources = self.resources, Resources(self)
        self.verbs = verbs or {}
        for api_version, kind, namespaced in serve:
            self.kinds[(api_version, kind)] = (kind.lower() + 's', namespaced)
        for obj in objects:
            self.kinds.setdefault((obj['apiVersion'], obj['kind']), (obj['kind'].lower() + 's', 'namespace' in obj['metadata']))
            self.add(obj)


def probe(requirement, *objects, pools=None, url='', query=None, **kwargs):
    cluster = static.Cluster(Fake(*objects, **kwargs), dict(DEFAULT_SETTINGS), pools, url, query)
    return static.PROBES[requirement](cluster)


def crd(name, versions=('v1',), established=True):
    group = name.split('.', 1)[1]
    return {'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition', 'metadata': {'name': name, 'generation': 1},
            'spec': {'group': group, 'versions': [{'name': v, 'served': True, 'storage': v == versions[-1]} for v in versions]},
            'status': {'conditions': [{'type': 'Established', 'status': 'True' if established else 'False'}]}}


def deployment(name, namespace, ready=True, labels=None, image='example.test/controller:v1.0.0'):
    status = {'observedGeneration': 1, 'replicas': 1, 'updatedReplicas': 1, 'readyReplicas': 1, 'availableReplicas': 1} if ready else {}
    return {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': name, 'namespace': namespace, 'generation': 1, 'labels': labels or {}},
            'spec': {'replicas': 1, 'template': {'spec': {'containers': [{'name': 'manager', 'image': image}]}}}, 'status': status}


def webhook(name, group, namespace='kueue-system', service='webhook', ca='Q0E='):
    client_config = {'service': {'namespace': namespace, 'name': service}}
    if ca:
        client_config['caBundle'] = ca
    return {'apiVersion': 'admissionregistration.k8s.io/v1', 'kind': 'ValidatingWebhookConfiguration', 'metadata': {'name': name},
            'webhooks': [{'name': 'v.' + group, 'clientConfig': client_config, 'rules': [{'apiGroups': [group], 'resources': ['*']}]}]}


def service(name, namespace):
    return {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': name, 'namespace': namespace}, 'spec': {'ports': [{'port': 443}]}}


def gpu_node(name='gpu-0', **labels):
    return dict(node(name, dict({'kubernetes.azure.com/accelerator': 'nvidia'}, **labels), capacity={'nvidia.com/gpu': '1'},
                     allocatable={'nvidia.com/gpu': '1'}), apiVersion='v1', kind='Node')


DRA = [('resource.k8s.io/v1', kind, False) for kind in ('DeviceClass', 'ResourceClaim', 'ResourceClaimTemplate', 'ResourceSlice')]


def test_dra_served_is_a_pass_and_missing_driver_is_noted():
    found = probe('dra_support', serve=DRA, dra_versions=['v1'])
    assert found['outcome'] == 'pass' and 'no GPU driver publishes devices yet' in found['notes']
    assert [e['call'] for e in found['evidence'][:4]] == ['GET /apis/resource.k8s.io/v1'] * 4


def dra_slice(name, generation, count, node='gpu-0'):
    return {'apiVersion': 'resource.k8s.io/v1', 'kind': 'ResourceSlice', 'metadata': {'name': name},
            'spec': {'driver': 'gpu.nvidia.com', 'nodeName': node, 'pool': {'name': node, 'generation': generation, 'resourceSliceCount': count},
                     'devices': [{'name': 'gpu-0'}]}}


def test_dra_pools_are_complete_or_named():
    gpu_class = {'apiVersion': 'resource.k8s.io/v1', 'kind': 'DeviceClass', 'metadata': {'name': 'gpu.nvidia.com'}, 'spec': {}}
    complete = probe('dra_support', gpu_class, dra_slice('gpu-0-a', 1, 1), serve=DRA, dra_versions=['v1'])
    assert complete['outcome'] == 'pass' and complete['notes'] == 'the DRA API resource.k8s.io/v1 is served'
    assert complete['evidence'][-1] == {'check': 'ResourceSlice pools of driver gpu.nvidia.com complete (every slice of the newest generation)',
                                        'call': 'LIST resource.k8s.io/v1 ResourceSlice', 'observed': 'pool gpu-0: 1 of 1 slices at generation 1',
                                        'ok': True}
    # the driver is replacing its pool: generation 2 wants two slices and one is there
    replacing = probe('dra_support', gpu_class, dra_slice('gpu-0-a', 1, 1), dra_slice('gpu-0-b', 2, 2), serve=DRA, dra_versions=['v1'])
    assert replacing['outcome'] == 'pass' and not replacing['evidence'][-1]['ok']
    assert replacing['notes'].endswith('incomplete pools (the driver has not published every slice of the newest generation): gpu-0 (1 of 2 slices)')


def test_dra_not_served_is_a_failure_not_a_crash():
    found = probe('dra_support')
    assert found['outcome'] == 'fail' and found['remediation'] == 'gpu_operator_dra'
    assert found['evidence'] == [{'check': 'the DRA API resource.k8s.io served', 'call': 'GET /apis/resource.k8s.io/v1', 'observed': 'not served',
                                  'ok': False}]


def test_dra_without_write_verbs_fails():
    found = probe('dra_support', serve=DRA, verbs={'ResourceClaim': ['get', 'list']}, dra_versions=['v1'])
    assert found['outcome'] == 'fail' and 'missing verbs: create, update, patch, delete' in [e['observed'] for e in found['evidence']]


KUEUE = [crd(n, ('v1beta1', 'v1beta2')) for n in static.KUEUE_CRDS]


def test_gang_scheduling_needs_crds_controller_and_webhooks():
    queues = [('kueue.x-k8s.io/v1beta2', 'ClusterQueue', False)]
    running = deployment('kueue-controller-manager', 'kueue-system')
    hook = webhook('kueue-vwc', 'kueue.x-k8s.io', service='kueue-webhook-service')
    backend = service('kueue-webhook-service', 'kueue-system')
    assert probe('gang_scheduling', *KUEUE, running, hook, backend, serve=queues)['outcome'] == 'pass'
    starting = deployment('kueue-controller-manager', 'kueue-system', ready=False)
    found = probe('gang_scheduling', *KUEUE, starting, hook, backend, serve=queues)
    assert found['outcome'] == 'fail' and found['remediation'] == 'ai_scheduling_kueue_install'
    no_ca = webhook('kueue-vwc', 'kueue.x-k8s.io', service='kueue-webhook-service', ca=None)
    found = probe('gang_scheduling', *KUEUE, running, no_ca, backend, serve=queues)
    assert found['outcome'] == 'fail' and 'no caBundle' in found['notes']
    assert 'Service kueue-system/kueue-webhook-service does not exist' in probe('gang_scheduling', *KUEUE, running, hook)['notes']
    assert probe('gang_scheduling')['notes'].startswith('no gang scheduler runs: CRD resourceflavors.kueue.x-k8s.io is not installed')
    assert probe('gang_scheduling', crd('podgroups.scheduling.volcano.sh', ('v1beta1',)))['notes'] == 'Volcano is installed (its PodGroup CRD)'


@pytest.mark.parametrize('pools, outcome, words', [
    ([{'name': 'gpu', 'vmSize': 'Standard_NC24ads_A100_v4', 'enableAutoScaling': True, 'minCount': 1, 'maxCount': 3}], 'pass', 'between 1 and 3'),
    ([{'name': 'gpu', 'vmSize': 'Standard_NC24ads_A100_v4', 'enableAutoScaling': True, 'minCount': 2, 'maxCount': 2}], 'pass',
     'cannot prove autoscaling'),
    ([{'name': 'gpu', 'vmSize': 'Standard_NC24ads_A100_v4', 'enableAutoScaling': False, 'count': 2}], 'fail', 'no GPU pool has the cluster autoscaler'),
    ([{'name': 'sys', 'vmSize': 'Standard_D4s_v5', 'enableAutoScaling': True, 'minCount': 1, 'maxCount': 3}], 'fail', 'no GPU pool'),
])
def test_cluster_autoscaling_from_aks_pools(pools, outcome, words):
    found = probe('cluster_autoscaling', pools=pools)
    assert found['outcome'] == outcome and words in found['notes']


def test_cluster_autoscaling_off_aks():
    assert probe('cluster_autoscaling')['outcome'] == 'absent'
    assert probe('cluster_autoscaling', deployment('cluster-autoscaler', 'kube-system'))['outcome'] == 'pass'
    gpu_pool = {'apiVersion': 'karpenter.sh/v1', 'kind': 'NodePool', 'metadata': {'name': 'gpu'}, 'spec': {'template': {'spec': {
        'requirements': [{'key': 'karpenter.azure.com/sku-gpu-manufacturer', 'operator': 'In', 'values': ['nvidia']}]}}}}
    found = probe('cluster_autoscaling', crd('nodepools.karpenter.sh'), gpu_pool)
    assert found['outcome'] == 'pass' and 'NodePool gpu' in found['notes']


def apiservice(name, available):
    return {'apiVersion': 'apiregistration.k8s.io/v1', 'kind': 'APIService', 'metadata': {'name': name, 'generation': 1},
            'status': {'conditions': [{'type': 'Available', 'status': 'True' if available else 'False', 'reason': 'Why', 'message': 'm'}]}}


def test_pod_autoscaling_needs_an_available_metrics_api():
    hpa = [('autoscaling/v2', 'HorizontalPodAutoscaler', True)]
    assert probe('pod_autoscaling', apiservice('v1beta1.external.metrics.k8s.io', True), serve=hpa)['outcome'] == 'pass'
    found = probe('pod_autoscaling', apiservice('v1beta1.external.metrics.k8s.io', False), serve=hpa)
    assert found['outcome'] == 'fail' and found['remediation'] == 'ai_scheduling_keda_install'
    assert 'condition Available is False (Why: m)' in found['notes']
    assert probe('pod_autoscaling', apiservice('v1beta1.custom.metrics.k8s.io', True))['outcome'] == 'fail'  # no HPA API


def series(name, node_name, **labels):
    return {'metric': dict({'__name__': name, 'Hostname': node_name}, **labels), 'value': [0, '1']}


def test_accelerator_metrics_for_every_gpu_node():
    exporter = service('nvidia-dcgm-exporter', 'gpu-operator')
    nodes = [gpu_node('gpu-0'), gpu_node('gpu-1')]

    def both(url, q):
        return [series(q, 'gpu-0'), series(q, 'gpu-1')]

    def one(url, q):
        return [series(q, 'gpu-0')]

    found = probe('accelerator_metrics', exporter, *nodes, url='http://prometheus.test', query=both)
    assert found['outcome'] == 'pass' and found['measured'] is True
    assert [e['call'] for e in found['evidence'][2:]] == ['QUERY DCGM_FI_DEV_GPU_UTIL', 'QUERY DCGM_FI_DEV_FB_USED',
                                                          'QUERY DCGM_FI_DEV_FB_FREE, DCGM_FI_DEV_GPU_TEMP, DCGM_FI_DEV_POWER_USAGE']
    assert found['evidence'][-1]['observed'] == 'all present' and found['evidence'][-1]['ok']

    def core_only(url, q):
        return both(url, q) if q in ('DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_FB_USED') else [series(q, 'gpu-0')] if q == 'DCGM_FI_DEV_GPU_TEMP' else []
    # temperature, power and free memory are asked for when available: their absence is reported, not failed
    found = probe('accelerator_metrics', exporter, *nodes, url='http://prometheus.test', query=core_only)
    assert found['outcome'] == 'pass' and found['measured'] is True and not found['evidence'][-1]['ok']
    assert found['notes'].endswith('; asked for when available, not seen: DCGM_FI_DEV_FB_FREE on gpu-0, DCGM_FI_DEV_FB_FREE on gpu-1, '
                                   'DCGM_FI_DEV_GPU_TEMP on gpu-1, DCGM_FI_DEV_POWER_USAGE on gpu-0, DCGM_FI_DEV_POWER_USAGE on gpu-1')
    found = probe('accelerator_metrics', exporter, *nodes, url='http://prometheus.test', query=one)
    assert found['outcome'] == 'fail' and 'DCGM_FI_DEV_GPU_UTIL on gpu-1' in found['notes']
    static_only = probe('accelerator_metrics', exporter, *nodes)
    assert static_only['outcome'] == 'pass' and not static_only['measured'] and 'no prometheus_url' in static_only['notes']
    assert probe('accelerator_metrics', *nodes)['notes'] == 'no DCGM exporter serves GPU metrics'
    assert probe('accelerator_metrics', exporter)['notes'] == 'no GPU node: no accelerator metrics to expose'

    def refused(url, q):
        raise static.QueryError('Prometheus refused the query (bad_data): parse error')
    found = probe('accelerator_metrics', exporter, *nodes, url='http://prometheus.test', query=refused)
    assert found['outcome'] == 'fail' and 'parse error' in found['notes']


def test_ai_service_metrics():
    stack = [crd('servicemonitors.monitoring.coreos.com'), crd('podmonitors.monitoring.coreos.com'), crd('prometheuses.monitoring.coreos.com'),
             {'apiVersion': 'monitoring.coreos.com/v1', 'kind': 'Prometheus', 'metadata': {'name': 'kps', 'namespace': 'monitoring'}}]

    def vllm(url, q):
        return [{'metric': {'__name__': q, 'namespace': 'models', 'pod': 'phi-0'}, 'value': [0, '0']}]

    found = probe('ai_service_metrics', *stack, url='http://p.test', query=vllm)
    assert found['outcome'] == 'pass' and found['measured'] and 'models/phi-0' in found['notes']
    found = probe('ai_service_metrics', *stack, url='http://p.test', query=lambda url, q: [])
    assert found['outcome'] == 'fail' and found['remediation'] == 'prometheus_monitoring_install'
    assert probe('ai_service_metrics', *stack)['outcome'] == 'pass'
    assert probe('ai_service_metrics', *stack[:3])['outcome'] == 'fail'  # CRDs but no Prometheus
    ama = [crd('servicemonitors.azmonitoring.coreos.com'), crd('podmonitors.azmonitoring.coreos.com'), deployment('ama-metrics', 'kube-system')]
    assert 'Azure Monitor managed Prometheus' in probe('ai_service_metrics', *ama)['notes']


def test_ai_inference():
    gateway = [crd(n, ('v1', 'v1beta1')) for n in static.GATEWAY_CRDS]
    accepted = {'apiVersion': 'gateway.networking.k8s.io/v1', 'kind': 'GatewayClass', 'metadata': {'name': 'istio', 'generation': 1},
                'status': {'conditions': [{'type': 'Accepted', 'status': 'True', 'observedGeneration': 1}]}}
    istiod = deployment('istiod-asm-1-28', 'aks-istio-system', labels={'istio.io/rev': 'asm-1-28'})
    assert probe('ai_inference', *gateway, accepted, istiod)['outcome'] == 'pass'
    found = probe('ai_inference', *gateway, istiod, serve=[('gateway.networking.k8s.io/v1', 'GatewayClass', False)])
    assert found['outcome'] == 'fail' and 'not found' in found['notes'] and found['remediation'] == 'istio_install'


def test_secure_accelerator_access():
    assert probe('secure_accelerator_access', gpu_node())['outcome'] == 'pass'
    raw = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'p', 'namespace': 'team'},
           'spec': {'volumes': [{'name': 'd', 'hostPath': {'path': '/dev/nvidia0'}}], 'containers': []}}
    found = probe('secure_accelerator_access', gpu_node(), raw)
    assert found['outcome'] == 'fail' and 'team/p' in found['notes']
    assert probe('secure_accelerator_access')['outcome'] == 'fail'


def test_robust_controller():
    kaito = [crd('workspaces.kaito.sh', ('v1alpha1', 'v1beta1')), deployment('kaito-workspace', 'kube-system'),
             webhook('kaito-vwc', 'kaito.sh', namespace='kube-system', service='kaito-webhook'), service('kaito-webhook', 'kube-system')]
    assert probe('robust_controller', *kaito)['outcome'] == 'pass'
    found = probe('robust_controller', *kaito[:3])
    assert found['outcome'] == 'fail' and found['remediation'] == 'kaito_install'


def test_the_should_probes():
    assert probe('gpu_sharing', gpu_node())['outcome'] == 'absent'
    shared = gpu_node(**{'nvidia.com/gpu.replicas': '4'})
    assert probe('gpu_sharing', shared)['outcome'] == 'pass'
    assert probe('virtualized_accelerator', gpu_node())['outcome'] == 'absent'
    assert probe('virtualized_accelerator', gpu_node(**{'nvidia.com/gpu.product': 'NVIDIA-A10-4Q-vGPU'}))['outcome'] == 'pass'
    assert probe('driver_runtime_management')['outcome'] == 'absent'
    assert probe('driver_runtime_management', gpu_node())['outcome'] == 'fail'
    assert probe('driver_runtime_management', gpu_node(**{'kubernetes.azure.com/dcgm-exporter': 'enabled'}))['outcome'] == 'pass'
    assert probe('advanced_inference_ingress', crd('inferencepools.inference.networking.k8s.io'))['outcome'] == 'pass'
    assert probe('advanced_inference_ingress')['outcome'] == 'fail'
    assert probe('disaggregated_inference', crd('dynamographdeployments.nvidia.com', ('v1alpha1',)))['outcome'] == 'pass'
    rdma = dict(node('ib-0', allocatable={'rdma/ib': '1'}), apiVersion='v1', kind='Node')
    assert probe('high_performance_networking', rdma)['outcome'] == 'pass'
    assert probe('high_performance_networking')['outcome'] == 'fail'
    kata = {'apiVersion': 'node.k8s.io/v1', 'kind': 'RuntimeClass', 'metadata': {'name': 'kata-vm-isolation'}, 'handler': 'kata'}
    assert probe('workload_sandboxing', kata)['outcome'] == 'pass'
    assert probe('workload_sandboxing')['outcome'] == 'fail'
