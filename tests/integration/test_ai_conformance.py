"""ai_conformance against the real test apiserver (Kubernetes 1.20) with the 1.34 checklist: for each requirement a
cluster that passes and one that fails, and the verdict of each.

The bed runs no controllers, no kubelet and no Prometheus. The tests play them, as stand-ins, and say where:
Deployments are marked rolled out (`kaito_standin.mark_deployment_ready`, what the Deployment controller reports),
GPU nodes report their GPUs (`gpu_standin`, what the kubelet and device plugin report), the GatewayClass is marked
Accepted (what Istio reports), the external metrics APIService is registered without a backend (the aggregator then
reports it Available, as it does for KEDA's metrics server), and Prometheus's query API is
`prometheus_standin.PrometheusStandIn`, loaded with the series a scrape would have found.

CRDs are cluster-wide and shared with the other test files: the first test removes the ones it needs absent (and the
controllers other files left in namespaces the bed never deletes), the later tests install them through the
module-scoped `installed` fixture. Objects of each test live in namespaces of their own.
"""

import base64
import gzip
import uuid
from pathlib import Path

import pytest
import yaml

from tests.integration import kaito_standin
from tests.integration.gpu_standin import api
from tests.integration.kaito_standin import MERGE
from tests.integration.module_call import call_module
from tests.integration.prometheus_standin import PrometheusStandIn
from tests.integration.refusals import BadInput, WriteWatch, refused_before_reading

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
CHECKLIST = yaml.safe_load((ROOT / 'roles' / 'ai_conformance' / 'files' / 'checklists' / 'AIConformance-1.34.yaml').read_text())
CRDS = ROOT / 'tests' / 'crds'
GATEWAY_API = [CRDS / 'gateway-api' / 'v1.2.1' / name for name in (
    'gateway.networking.k8s.io_gatewayclasses.yaml', 'gateway.networking.k8s.io_gateways.yaml', 'gateway.networking.k8s.io_httproutes.yaml.gz')]
KUEUE = [CRDS / 'kueue' / name for name in ('kueue.x-k8s.io_resourceflavors.yaml', 'kueue.x-k8s.io_clusterqueues.yaml',
                                            'kueue.x-k8s.io_localqueues.yaml')]
KEDA = [CRDS / 'keda' / 'v2.20.2' / 'keda.sh_scaledobjects.yaml']
KAITO = [CRDS / 'kaito' / 'kaito.sh_workspaces.yaml']
AZURE_MONITOR = [CRDS / 'azure-monitor' / name for name in ('ama-metrics-servicemonitor-crd.yaml', 'ama-metrics-podmonitor-crd.yaml')]
ALL_CRDS = GATEWAY_API + KUEUE + KEDA + KAITO + AZURE_MONITOR
# controllers the probes look for by name in every namespace
CONTROLLERS = ('kueue-controller-manager', 'kaito-workspace', 'keda-operator', 'ama-metrics', 'cluster-autoscaler')
METRICS_APISERVICES = ('v1beta1.external.metrics.k8s.io', 'v1beta1.custom.metrics.k8s.io')
CA = base64.b64encode(b'-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n').decode()
GPU_POOL = {'name': 'gpu', 'vmSize': 'Standard_NC24ads_A100_v4', 'enableAutoScaling': True, 'minCount': 1, 'maxCount': 3}


def conformance(env, check=False, **args):
    result = call_module('ai_conformance', dict({'checklist': CHECKLIST}, **args), env=env, check=check)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    return result


def verdicts(result):
    return dict((r['id'], r) for r in result['requirements'])


def run_id():
    return uuid.uuid4().hex[:8]


def namespace(client, prefix):
    name = 'aic-%s-%s' % (prefix, run_id())
    api(client, 'Namespace').create(body={'metadata': {'name': name}})
    return name


def clear(client):
    """No CRD, controller, webhook, metrics APIService or DCGM exporter of what the probes look for: what other test
    files installed, or left in namespaces the bed never deletes, is removed."""
    crds = api(client, 'CustomResourceDefinition', 'apiextensions.k8s.io/v1')
    names = set()
    for path in ALL_CRDS:
        text = gzip.decompress(path.read_bytes()).decode() if path.suffix == '.gz' else path.read_text()
        names.update(doc['metadata']['name'] for doc in yaml.safe_load_all(text) if doc)
    names.update(c['metadata']['name'] for c in crds.get().to_dict()['items'] if c['spec']['group'] in ('monitoring.coreos.com', 'karpenter.sh'))
    kaito_standin.remove_crds(client, sorted(names))
    deployments = api(client, 'Deployment', 'apps/v1')
    for item in deployments.get().to_dict()['items']:
        if item['metadata']['name'] in CONTROLLERS or item['metadata']['name'].startswith('istiod'):
            kaito_standin.delete_and_wait(deployments, item['metadata']['name'], item['metadata']['namespace'])
    services = api(client, 'Service')
    for item in services.get(field_selector='metadata.name=nvidia-dcgm-exporter').to_dict()['items']:
        kaito_standin.delete_and_wait(services, item['metadata']['name'], item['metadata']['namespace'])
    for name in METRICS_APISERVICES:
        kaito_standin.delete_and_wait(api(client, 'APIService', 'apiregistration.k8s.io/v1'), name)
    for kind in ('ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'):
        hooks = api(client, kind, 'admissionregistration.k8s.io/v1')
        for config in hooks.get().to_dict()['items']:
            groups = set(g for h in config.get('webhooks') or [] for r in h.get('rules') or [] for g in r.get('apiGroups') or [])
            if groups & {'kueue.x-k8s.io', 'kaito.sh'}:
                kaito_standin.delete_and_wait(hooks, config['metadata']['name'])


def controller(client, name, ns, ready=True, labels=None):
    """A controller's Deployment; `ready`: the test, as the Deployment controller (a stand-in), reports it rolled out."""
    labels = dict({'app': name}, **(labels or {}))
    api(client, 'Deployment', 'apps/v1').create(namespace=ns, body={'metadata': {'name': name, 'labels': labels}, 'spec': {
        'selector': {'matchLabels': {'app': name}}, 'template': {'metadata': {'labels': {'app': name}}, 'spec': {
            'containers': [{'name': 'manager', 'image': 'example.test/%s:v1.0.0' % name}]}}}})
    if ready:
        kaito_standin.mark_deployment_ready(client, ns, name)


def service(client, name, ns, port=443):
    api(client, 'Service').create(namespace=ns, body={'metadata': {'name': name}, 'spec': {
        'selector': {'app': name}, 'ports': [{'name': 'https', 'port': port, 'targetPort': port}]}})


def webhook_configuration(client, name, group, ns, service_name):
    """A ValidatingWebhookConfiguration for `group` that calls `service_name` in `ns`; its object selector matches no
    object, so the apiserver never calls the absent backend."""
    body = {'metadata': {'name': name}, 'webhooks': [{
        'name': 'validate.%s' % group, 'admissionReviewVersions': ['v1'], 'sideEffects': 'None', 'failurePolicy': 'Ignore',
        'objectSelector': {'matchLabels': {'aic-test': 'never'}},
        'clientConfig': {'service': {'namespace': ns, 'name': service_name, 'path': '/validate', 'port': 443}, 'caBundle': CA},
        'rules': [{'apiGroups': [group], 'apiVersions': ['*'], 'resources': ['*'], 'operations': ['CREATE', 'UPDATE']}]}]}
    api(client, 'ValidatingWebhookConfiguration', 'admissionregistration.k8s.io/v1').create(body=body)


@pytest.fixture(scope='module')
def prometheus():
    with PrometheusStandIn() as standin:
        yield standin


@pytest.fixture
def series(prometheus):
    """The stand-in's series for one test."""
    prometheus.clear()
    yield prometheus
    prometheus.clear()


def test_a_bare_cluster_fails_each_must_and_does_not_crash_on_what_1_20_does_not_serve(bed, k8s_env, k8s_client):
    clear(k8s_client)
    watch = WriteWatch(bed)
    result = conformance(k8s_env)
    assert watch.writes()['kubernetes'] == []  # static probes only read
    assert result['kubernetes_version'].startswith('v1.20.')
    assert result['checklist_version'] == '1.34'
    assert [(r['id'], r['category'], r['level']) for r in result['requirements']] == [
        ('dra_support', 'accelerators', 'MUST'), ('ai_inference', 'networking', 'MUST'), ('gang_scheduling', 'schedulingOrchestration', 'MUST'),
        ('cluster_autoscaling', 'schedulingOrchestration', 'MUST'), ('pod_autoscaling', 'schedulingOrchestration', 'MUST'),
        ('accelerator_metrics', 'observability', 'MUST'), ('ai_service_metrics', 'observability', 'MUST'),
        ('secure_accelerator_access', 'security', 'MUST'), ('robust_controller', 'operator', 'MUST')]
    for row, item in zip(result['requirements'], [i for items in CHECKLIST['spec'].values() for i in items]):
        assert row['description'] == item['description']
    found = verdicts(result)
    dra = found['dra_support']
    assert dra['status'] == 'Not Implemented' and dra['remediation'] == 'gpu_operator_dra'
    assert dra['evidence'] == [{'check': 'the DRA API resource.k8s.io served', 'call': 'GET /apis/resource.k8s.io/v1', 'observed': 'not served',
                                'ok': False}]
    assert 'resource.k8s.io is not served by this apiserver (Kubernetes 1.20)' in dra['notes']
    remediations = {'ai_inference': 'istio_install', 'gang_scheduling': 'ai_scheduling_kueue_install', 'pod_autoscaling': 'ai_scheduling_keda_install',
                    'ai_service_metrics': 'prometheus_monitoring_install', 'robust_controller': 'kaito_install'}
    for requirement, variable in remediations.items():
        assert (found[requirement]['status'], found[requirement]['remediation']) == ('Not Implemented', variable), found[requirement]
    assert found['gang_scheduling']['evidence'][0] == {
        'check': 'CRD resourceflavors.kueue.x-k8s.io Established and serving v1beta2',
        'call': 'GET apiextensions.k8s.io/v1 CustomResourceDefinition resourceflavors.kueue.x-k8s.io',
        'observed': 'CRD resourceflavors.kueue.x-k8s.io is not installed', 'ok': False}
    assert found['cluster_autoscaling']['status'] == 'N/A' and 'no cluster autoscaler' in found['cluster_autoscaling']['notes']
    assert found['pod_autoscaling']['evidence'][0]['observed'] == 'served in autoscaling/v2beta2'  # 1.20 has no autoscaling/v2
    assert found['robust_controller']['evidence'][-1]['observed'] == 'no webhook for API group kaito.sh'
    assert result['summary'] == {'must': 9, 'must_implemented': 0, 'should': 0, 'should_implemented': 0, 'passed': False,
                                 'failed_musts': [r['id'] for r in result['requirements'] if r['id'] != 'cluster_autoscaling'
                                                  and r['status'] != 'N/A']}
    assert result['probe_objects'] == [] and result['components'] == []
    # check mode: the same static verdicts
    assert conformance(k8s_env, check=True)['requirements'] == result['requirements']


@pytest.fixture(scope='module')
def installed(k8s_client):
    names = kaito_standin.install_crds(k8s_client, ALL_CRDS)
    assert len(names) == 3 + 3 + 1 + 1 + 2
    return names


def test_gang_scheduling_with_kueue_running_or_not(k8s_env, k8s_client, installed):
    ns = namespace(k8s_client, 'kueue')
    controller(k8s_client, 'kueue-controller-manager', ns, ready=False, labels={'helm.sh/chart': 'kueue-0.19.2'})
    service(k8s_client, 'kueue-webhook-service', ns)
    hook = 'aic-kueue-%s' % run_id()
    webhook_configuration(k8s_client, hook, 'kueue.x-k8s.io', ns, 'kueue-webhook-service')
    try:
        waiting = verdicts(conformance(k8s_env))['gang_scheduling']
        assert waiting['status'] == 'Not Implemented' and waiting['remediation'] == 'ai_scheduling_kueue_install'
        assert 'kueue-controller-manager' in waiting['notes'] and 'controller has not observed generation' in waiting['notes']

        kaito_standin.mark_deployment_ready(k8s_client, ns, 'kueue-controller-manager')
        result = conformance(k8s_env, components=[{'name': 'kueue', 'target': '0.19.2'}, {'name': 'keda', 'target': '2.20.2'}])
        running = verdicts(result)['gang_scheduling']
        assert running['status'] == 'Partially Implemented' and running['probe'] == 'static' and running['remediation'] == ''
        assert running['notes'].startswith('Static evidence only: Kueue runs (%s/kueue-controller-manager Available' % ns)
        assert 'LIST kueue.x-k8s.io/v1beta2 ClusterQueue' in [e['call'] for e in running['evidence']]
        assert all(e['ok'] for e in running['evidence'])
        kueue, keda = result['components']
        assert kueue == {'name': 'kueue', 'target': '0.19.2', 'installed': '0.19.2', 'drift': False}
        assert keda == {'name': 'keda', 'target': '2.20.2', 'installed': None, 'drift': True}
    finally:
        kaito_standin.delete_and_wait(api(k8s_client, 'ValidatingWebhookConfiguration', 'admissionregistration.k8s.io/v1'), hook)
    # the webhook's backend must exist
    api(k8s_client, 'Service').delete(name='kueue-webhook-service', namespace=ns)
    webhook_configuration(k8s_client, hook, 'kueue.x-k8s.io', ns, 'kueue-webhook-service')
    try:
        missing = verdicts(conformance(k8s_env))['gang_scheduling']
        assert missing['status'] == 'Not Implemented' and 'Service %s/kueue-webhook-service does not exist' % ns in missing['notes']
    finally:
        kaito_standin.delete_and_wait(api(k8s_client, 'ValidatingWebhookConfiguration', 'admissionregistration.k8s.io/v1'), hook)
    api(k8s_client, 'Deployment', 'apps/v1').delete(name='kueue-controller-manager', namespace=ns)


def test_ai_inference_with_an_accepted_gateway_class(k8s_env, k8s_client, installed):
    classes = api(k8s_client, 'GatewayClass', 'gateway.networking.k8s.io/v1')
    with pytest.raises(Exception):
        classes.get(name='istio')
    if not api(k8s_client, 'Namespace').get(field_selector='metadata.name=istio-system').to_dict()['items']:
        api(k8s_client, 'Namespace').create(body={'metadata': {'name': 'istio-system'}})
    revision = 'aic-%s' % run_id()
    controller(k8s_client, 'istiod-' + revision, 'istio-system', labels={'istio.io/rev': revision})
    classes.create(body={'apiVersion': 'gateway.networking.k8s.io/v1', 'kind': 'GatewayClass', 'metadata': {'name': 'istio'},
                         'spec': {'controllerName': 'istio.io/gateway-controller'}})
    try:
        pending = verdicts(conformance(k8s_env))['ai_inference']
        assert pending['status'] == 'Not Implemented' and pending['remediation'] == 'istio_install'
        assert 'condition Accepted is Unknown (Pending: Waiting for controller)' in pending['notes']  # the CRD's default status
        # the test as Istio (a stand-in) accepts the class
        generation = classes.get(name='istio').to_dict()['metadata']['generation']
        classes.status.patch(name='istio', content_type=MERGE, body={'status': {'conditions': [{
            'type': 'Accepted', 'status': 'True', 'reason': 'Accepted', 'message': 'Handled by Istio (stand-in)', 'observedGeneration': generation,
            'lastTransitionTime': kaito_standin.now()}]}})
        accepted = verdicts(conformance(k8s_env))['ai_inference']
        assert accepted['status'] == 'Partially Implemented' and accepted['remediation'] == ''
        assert 'GatewayClass istio accepted, istiod %s ready' % revision in accepted['notes']
        assert [e['ok'] for e in accepted['evidence']] == [True] * 5
    finally:
        kaito_standin.delete_and_wait(classes, 'istio')
        api(k8s_client, 'Deployment', 'apps/v1').delete(name='istiod-' + revision, namespace='istio-system')


def test_pod_autoscaling_needs_an_available_metrics_api(k8s_env, k8s_client, installed):
    ns = namespace(k8s_client, 'keda')
    apiservices = api(k8s_client, 'APIService', 'apiregistration.k8s.io/v1')
    name = METRICS_APISERVICES[0]
    controller(k8s_client, 'keda-operator', ns)
    # registered with a Service that has no endpoints: the aggregator reports it unavailable
    kaito_standin.external_metrics_apiservice(apiservices, name, {'namespace': ns, 'name': 'keda-operator-metrics-apiserver', 'port': 443})
    try:
        down = verdicts(conformance(k8s_env))['pod_autoscaling']
        assert down['status'] == 'Not Implemented' and down['remediation'] == 'ai_scheduling_keda_install'
        assert 'APIService v1beta1.external.metrics.k8s.io Available: condition Available is False' in down['notes']
    finally:
        kaito_standin.delete_and_wait(apiservices, name)
    # registered without a backend ("local"): the aggregator reports it Available (the stand-in for KEDA's metrics server)
    kaito_standin.external_metrics_apiservice(apiservices, name)
    try:
        up = verdicts(conformance(k8s_env))['pod_autoscaling']
        assert up['status'] == 'Partially Implemented', up
        assert up['notes'].startswith('Static evidence only: the HPA API (autoscaling/v2beta2) and a custom or external metrics API are Available, '
                                      'KEDA runs')
    finally:
        kaito_standin.delete_and_wait(apiservices, name)
        api(k8s_client, 'Deployment', 'apps/v1').delete(name='keda-operator', namespace=ns)


def load_node_series(prometheus, client, skip=()):
    """DCGM utilisation and framebuffer series for every node of the bed but `skip`, as the exporter labels them."""
    for item in api(client, 'Node').get().to_dict()['items']:
        if item['metadata']['name'] not in skip:
            for metric, value in (('DCGM_FI_DEV_GPU_UTIL', 37), ('DCGM_FI_DEV_FB_USED', 20480)):
                prometheus.load({'__name__': metric, 'Hostname': item['metadata']['name'], 'gpu': '0', 'UUID': 'GPU-' + run_id()}, value)


def test_accelerator_metrics_for_every_gpu_node(k8s_env, k8s_client, installed, nodes, series):
    gpu = [nodes.add(str(i), {'kubernetes.azure.com/accelerator': 'nvidia'}, gpus={'nvidia.com/gpu': '1'}) for i in range(2)]
    ns = namespace(k8s_client, 'dcgm')
    no_exporter = verdicts(conformance(k8s_env, prometheus_url=series.url))['accelerator_metrics']
    assert no_exporter['status'] == 'Not Implemented' and no_exporter['notes'] == 'Static evidence: no DCGM exporter serves GPU metrics'
    service(k8s_client, 'nvidia-dcgm-exporter', ns, port=9400)

    load_node_series(series, k8s_client, skip=gpu[1:])
    lacking = verdicts(conformance(k8s_env, prometheus_url=series.url))['accelerator_metrics']
    assert lacking['status'] == 'Not Implemented' and lacking['remediation'] == 'prometheus_monitoring_install'
    assert 'DCGM_FI_DEV_GPU_UTIL on %s' % gpu[1] in lacking['notes'] and 'DCGM_FI_DEV_FB_USED on %s' % gpu[1] in lacking['notes']

    load_node_series(series, k8s_client, skip=[n for n in [i['metadata']['name'] for i in api(k8s_client, 'Node').get().to_dict()['items']]
                                               if n != gpu[1]])
    result = conformance(k8s_env, prometheus_url=series.url)
    measured = verdicts(result)['accelerator_metrics']
    assert measured['status'] == 'Implemented' and measured['notes'].startswith('Measured: Prometheus has DCGM_FI_DEV_GPU_UTIL and DCGM_FI_DEV_FB_USED')
    assert [e['call'] for e in measured['evidence'][-3:-1]] == ['QUERY DCGM_FI_DEV_GPU_UTIL', 'QUERY DCGM_FI_DEV_FB_USED']
    assert {'DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_FB_USED', 'DCGM_FI_DEV_GPU_TEMP'} <= set(series.queries)
    # the bed's exporter series have no temperature, power or free memory: reported, the requirement still met
    assert 'asked for when available, not seen: DCGM_FI_DEV_FB_FREE on' in measured['notes'] and not measured['evidence'][-1]['ok']
    # GPUs the device plugin advertises, nothing mounts them from the host: access is mediated (statically)
    secure = verdicts(result)['secure_accelerator_access']
    assert secure['status'] == 'Partially Implemented' and all(gpu_name in secure['notes'] for gpu_name in gpu)

    static_only = verdicts(conformance(k8s_env))['accelerator_metrics']
    assert static_only['status'] == 'Partially Implemented' and 'no prometheus_url' in static_only['notes']
    api(k8s_client, 'Service').delete(name='nvidia-dcgm-exporter', namespace=ns)


def test_a_workload_that_mounts_gpu_devices_fails_secure_access(k8s_env, k8s_client, nodes):
    nodes.add('0', {'kubernetes.azure.com/accelerator': 'nvidia'}, gpus={'nvidia.com/gpu': '1'})
    ns = namespace(k8s_client, 'raw')
    api(k8s_client, 'Pod').create(namespace=ns, body={'metadata': {'name': 'raw-gpu'}, 'spec': {
        'containers': [{'name': 'c', 'image': 'example.test/cuda:1'}],
        'volumes': [{'name': 'dev', 'hostPath': {'path': '/dev/nvidia0'}}]}})
    try:
        secure = verdicts(conformance(k8s_env))['secure_accelerator_access']
        assert secure['status'] == 'Not Implemented' and secure['remediation'] == 'gpu_operator_mode'
        assert '%s/raw-gpu' % ns in secure['notes']
    finally:
        api(k8s_client, 'Pod').delete(name='raw-gpu', namespace=ns, grace_period_seconds=0)


def test_ai_service_metrics_with_managed_prometheus_and_a_vllm_series(k8s_env, k8s_client, installed, series):
    ns = namespace(k8s_client, 'ama')
    controller(k8s_client, 'ama-metrics', ns)
    try:
        series.load({'__name__': 'vllm:num_requests_waiting', 'namespace': 'models', 'pod': 'phi-0'}, 0)
        none = verdicts(conformance(k8s_env, prometheus_url=series.url))['ai_service_metrics']
        assert none['status'] == 'Not Implemented' and 'no vllm:num_requests_running series' in none['notes']
        series.load({'__name__': 'vllm:num_requests_running', 'namespace': 'models', 'pod': 'phi-0', 'model_name': 'phi-4'}, 2)
        found = verdicts(conformance(k8s_env, prometheus_url=series.url))['ai_service_metrics']
        assert found['status'] == 'Implemented' and 'models/phi-0' in found['notes']
        assert found['evidence'][-1] == {'check': 'a vLLM series', 'call': 'QUERY vllm:num_requests_running', 'observed': '1 series: models/phi-0',
                                         'ok': True}
        unreachable = verdicts(conformance(k8s_env, prometheus_url='http://127.0.0.1:1'))['ai_service_metrics']
        assert unreachable['status'] == 'Not Implemented' and 'cannot query Prometheus at http://127.0.0.1:1' in unreachable['notes']
    finally:
        api(k8s_client, 'Deployment', 'apps/v1').delete(name='ama-metrics', namespace=ns)
    gone = verdicts(conformance(k8s_env, prometheus_url=series.url))['ai_service_metrics']
    assert gone['status'] == 'Not Implemented' and 'no monitoring system' in gone['notes']


def test_robust_controller_with_kaito_and_its_webhook(k8s_env, k8s_client, installed, kaito_admission):
    ns = namespace(k8s_client, 'kaito')
    controller(k8s_client, 'kaito-workspace', ns, ready=False)
    try:
        starting = verdicts(conformance(k8s_env))['robust_controller']
        assert starting['status'] == 'Not Implemented' and starting['remediation'] == 'kaito_install'
        kaito_standin.mark_deployment_ready(k8s_client, ns, 'kaito-workspace')
        running = verdicts(conformance(k8s_env))['robust_controller']
        assert running['status'] == 'Partially Implemented', running
        webhook = running['evidence'][-1]
        assert webhook['ok'] and webhook['observed'] == 'caBundle set, calls %s' % kaito_admission.url
    finally:
        api(k8s_client, 'Deployment', 'apps/v1').delete(name='kaito-workspace', namespace=ns)


@pytest.mark.parametrize('pools, status, words', [
    ([GPU_POOL], 'Partially Implemented', 'scales GPU pool gpu between 1 and 3 nodes'),
    ([dict(GPU_POOL, minCount=2, maxCount=2)], 'Partially Implemented', 'pinned at min = max = 2: it cannot prove autoscaling'),
    ([dict(GPU_POOL, enableAutoScaling=False)], 'Not Implemented', 'no GPU pool has the cluster autoscaler on'),
])
def test_cluster_autoscaling_from_the_aks_pools(k8s_env, pools, status, words):
    found = verdicts(conformance(k8s_env, node_pools=pools))['cluster_autoscaling']
    assert found['status'] == status and words in found['notes']


def test_functional_probes_always_clean_up(k8s_env, k8s_client, installed, monkeypatch):
    """A functional probe that makes a namespace and a ConfigMap and then times out: Not Implemented, and both are
    removed (the namespace's deletion asked for, not waited for) and listed."""
    from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import assess
    made = {}

    def probe(ctx):
        made['namespace'] = ctx.namespace()
        ctx.create({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'probe', 'namespace': made['namespace']}, 'data': {'a': 'b'}})
        ctx.wait(lambda: (False, 'never'), timeout=0.5, what='something that never happens')
        raise AssertionError('wait returned')
    monkeypatch.setattr(assess, 'PROBES', {'robust_controller': probe, 'cluster_autoscaling': probe})
    result = conformance(k8s_env, functional=True, probes={'namespace_prefix': 'aic-fn', 'timeout': 10})
    found = verdicts(result)['cluster_autoscaling']  # its static probe found no autoscaler: the functional one does not run
    assert found['probe'] == 'static' and found['status'] == 'N/A'
    assert result['probe_objects'] == [] and made == {}  # robust_controller's static probe failed (no KAITO): not run either

    ns = namespace(k8s_client, 'kaito')
    controller(k8s_client, 'kaito-workspace', ns)
    webhook_configuration(k8s_client, 'aic-kaito-%s' % ns, 'kaito.sh', ns, 'kaito-webhook')
    service(k8s_client, 'kaito-webhook', ns)
    try:
        result = conformance(k8s_env, functional=True, probes={'namespace_prefix': 'aic-fn', 'timeout': 10})
        found = verdicts(result)['robust_controller']
        assert (found['status'], found['probe']) == ('Not Implemented', 'functional')
        assert made['namespace'].startswith('aic-fn-')
        assert found['notes'] == 'Functional probe: the probe stopped: Timed out after 0.5s waiting for something that never happens: never'
        assert result['probe_objects'] == [
            {'kind': 'Namespace', 'namespace': None, 'name': made['namespace'], 'created': True, 'deleted': True},
            {'kind': 'ConfigMap', 'namespace': made['namespace'], 'name': 'probe', 'created': True, 'deleted': True}]
        with pytest.raises(Exception):
            api(k8s_client, 'ConfigMap').get(name='probe', namespace=made['namespace'])
        assert api(k8s_client, 'Namespace').get(name=made['namespace']).to_dict()['status']['phase'] == 'Terminating'
        # check mode: static probes only
        checked = conformance(k8s_env, check=True, functional=True)
        assert checked['probe_objects'] == [] and verdicts(checked)['robust_controller']['probe'] == 'static'
    finally:
        kaito_standin.delete_and_wait(api(k8s_client, 'ValidatingWebhookConfiguration', 'admissionregistration.k8s.io/v1'), 'aic-kaito-%s' % ns)
        api(k8s_client, 'Deployment', 'apps/v1').delete(name='kaito-workspace', namespace=ns)


def test_bad_input_is_refused_before_reading(bed):
    refused_before_reading(bed, BadInput('checklist', 'ai_conformance', {'checklist': {'metadata': {'kubernetesVersion': 'v1.34'}}},
                                         ('checklist.spec',)))
    refused_before_reading(bed, BadInput('url', 'ai_conformance', {'checklist': CHECKLIST, 'prometheus_url': 'prometheus:9090'},
                                         ('prometheus_url',)))
    refused_before_reading(bed, BadInput('prefix', 'ai_conformance', {'checklist': CHECKLIST, 'probes': {'namespace_prefix': 'Bad_Prefix'}},
                                         ('probes.namespace_prefix',)))


def test_the_query_client_and_the_prometheus_standin_speak_prometheus_s_api(prometheus):
    """What the module sends and reads (static.prometheus_query) against the stand-in, which answers as Prometheus's
    HTTP API does: GET and POST forms, `query` required, parse errors in Prometheus's error shape."""
    import json
    import urllib.error
    import urllib.request
    from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.static import QueryError, prometheus_query
    prometheus.clear()
    prometheus.load({'__name__': 'DCGM_FI_DEV_GPU_UTIL', 'Hostname': 'gpu-0', 'gpu': '0'}, 12.5)
    prometheus.load({'__name__': 'DCGM_FI_DEV_GPU_UTIL', 'Hostname': 'gpu-1', 'gpu': '0'}, 0)
    assert [s['metric']['Hostname'] for s in prometheus_query(prometheus.url, 'DCGM_FI_DEV_GPU_UTIL{Hostname=~"gpu-.*"}')] == ['gpu-0', 'gpu-1']
    assert prometheus_query(prometheus.url + '/', 'DCGM_FI_DEV_GPU_UTIL{Hostname!="gpu-1"}')[0]['value'][1] == '12.5'
    assert prometheus_query(prometheus.url, 'DCGM_FI_DEV_FB_USED') == []
    with pytest.raises(QueryError, match=r'Prometheus refused the query \(bad_data\): invalid parameter "query": .*unclosed left parenthesis'):
        prometheus_query(prometheus.url, 'sum(DCGM_FI_DEV_GPU_UTIL')
    with pytest.raises(QueryError, match=r'\(execution\): the Prometheus stand-in evaluates only plain vector selectors'):
        prometheus_query(prometheus.url, 'sum(DCGM_FI_DEV_GPU_UTIL)')
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(prometheus.url + '/api/v1/query')
    assert missing.value.code == 400
    assert json.loads(missing.value.read()) == {'status': 'error', 'errorType': 'bad_data',
                                                'error': 'invalid parameter "query": no expression found in input'}
    posted = urllib.request.urlopen(urllib.request.Request(prometheus.url + '/api/v1/query', data=b'query=DCGM_FI_DEV_GPU_UTIL&time=1700000000'))
    body = json.loads(posted.read())
    assert body['status'] == 'success' and body['data']['resultType'] == 'vector'
    assert [s['value'] for s in body['data']['result']] == [[1700000000.0, '12.5'], [1700000000.0, '0']]
    for path, code in (('/api/v1/query_range?query=up', 404), ('/metrics', 404)):
        with pytest.raises(urllib.error.HTTPError) as other:
            urllib.request.urlopen(prometheus.url + path)
        assert other.value.code == code
    with pytest.raises(urllib.error.HTTPError) as put:
        urllib.request.urlopen(urllib.request.Request(prometheus.url + '/api/v1/query?query=up', method='PUT'))
    assert put.value.code == 405
    prometheus.clear()


@pytest.mark.parametrize('version', ['1.33', '1.35', '1.36', '1.37'])
def test_every_checklist_runs_in_order_with_valid_statuses(k8s_env, version):
    checklist = yaml.safe_load((ROOT / 'roles' / 'ai_conformance' / 'files' / 'checklists' / ('AIConformance-%s.yaml' % version)).read_text())
    result = conformance(k8s_env, checklist=checklist)
    assert result['checklist_version'] == version
    items = [i for category in checklist['spec'].values() for i in category]
    assert [(r['id'], r['level'], r['description']) for r in result['requirements']] == [(i['id'], i['level'], i['description']) for i in items]
    for row in result['requirements']:
        assert row['status'] in ('Implemented', 'Not Implemented', 'Partially Implemented', 'N/A')
        assert row['notes'] and row['evidence'] and 'no probe' not in row['notes']
    found = verdicts(result)
    if 'dra_support' in found:
        assert found['dra_support']['evidence'][-1]['observed'] == 'not served'
        assert found['dra_support']['status'] == 'Not Implemented'
    assert result['summary']['should'] == sum(1 for i in items if i['level'] == 'SHOULD')


def test_a_requirement_without_a_probe_is_checked_by_hand(k8s_env):
    checklist = {'metadata': {'kubernetesVersion': 'v1.38'}, 'spec': {'future': [
        {'id': 'teleportation', 'description': 'Must teleport.', 'level': 'MUST'},
        {'id': 'levitation', 'description': 'Should levitate.', 'level': 'SHOULD'}]}}
    result = conformance(k8s_env, checklist=checklist)
    assert [(r['id'], r['status'], r['notes'], r['evidence']) for r in result['requirements']] == [
        ('teleportation', 'Not Implemented', 'no probe: check by hand', []), ('levitation', 'N/A', 'no probe: check by hand', [])]
    assert result['summary']['failed_musts'] == ['teleportation']
