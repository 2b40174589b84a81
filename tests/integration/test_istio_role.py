"""The istio role on the test apiserver (Kubernetes 1.20) with the upstream Istio 1.28.10 and Gateway API v1.2.1 CRDs.

The bed runs no Istio. The test plays its control plane as a stand-in: it creates the istiod Deployments of one or two
revisions and reports them ready through the status subresource (what the Deployment controller would), and for the
AKS add-on it makes the ingress gateway Service and writes its load balancer address (what the cloud controller would).
"""

import uuid
from pathlib import Path

import pytest

from tests.integration import kaito_standin
from tests.integration.gpu_standin import api
from tests.integration.kaito_standin import MERGE
from tests.integration.module_call import call_module
from tests.integration.playbook import run_playbook
from tests.integration.refusals import WriteWatch, role_refused_before_writing

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
GATEWAY_API = [CRDS / 'gateway-api' / 'v1.2.1' / name for name in (
    'gateway.networking.k8s.io_gatewayclasses.yaml', 'gateway.networking.k8s.io_gateways.yaml',
    'gateway.networking.k8s.io_httproutes.yaml.gz')]
ISTIO = CRDS / 'istio' / '1.28.10' / 'crd-all.gen.yaml.gz'
INFERENCE_POOL = CRDS / 'gateway-api-inference-extension' / 'v1.6.0' / 'inference.networking.k8s.io_inferencepools.yaml'
GATEWAY_CRDS = ('gatewayclasses.gateway.networking.k8s.io', 'gateways.gateway.networking.k8s.io', 'httproutes.gateway.networking.k8s.io')


@pytest.fixture(scope='module')
def crds(k8s_client):
    kaito_standin.install_crds(k8s_client, [str(p) for p in GATEWAY_API + [ISTIO, INFERENCE_POOL]])


@pytest.fixture
def mesh(k8s_client, crds):
    """A control plane namespace and two model namespaces of this test, the first labelled istio-injection=enabled."""
    run = uuid.uuid4().hex[:8]
    names = {'control': 'istio-' + run, 'models': ['ai-%s-a' % run, 'ai-%s-b' % run], 'gateway': 'gw-' + run}
    namespaces = api(k8s_client, 'Namespace')
    namespaces.create(body={'metadata': {'name': names['control']}})
    namespaces.create(body={'metadata': {'name': names['models'][0], 'labels': {'istio-injection': 'enabled', 'team': 'a'}}})
    return names


def istiod(client, namespace, revision, ready=True):
    """An istiod Deployment of `revision` (the test as its controller, a stand-in, reports it ready)."""
    name = 'istiod' if revision == 'default' else 'istiod-' + revision
    labels = {'app': 'istiod'} if revision == 'default' else {'app': 'istiod', 'istio.io/rev': revision}
    deployments = api(client, 'Deployment', 'apps/v1')
    deployments.create(namespace=namespace, body={
        'metadata': {'name': name, 'labels': labels},
        'spec': {'replicas': 1, 'selector': {'matchLabels': labels}, 'template': {'metadata': {'labels': labels}, 'spec': {
            'containers': [{'name': 'discovery', 'image': 'example.invalid/pilot:1.28.10'}]}}}})
    if ready:
        generation = deployments.get(name=name, namespace=namespace).metadata.generation
        deployments.status.patch(name=name, namespace=namespace, content_type=MERGE, body={'status': {
            'observedGeneration': generation, 'replicas': 1, 'readyReplicas': 1, 'availableReplicas': 1, 'updatedReplicas': 1}})


def converge(k8s_env, mesh, check=False, **variables):
    variables = dict({'istio_control_plane_namespaces': [mesh['control']], 'istio_namespaces': mesh['models'],
                      'istio_gateway_namespace': mesh['gateway']}, **variables)
    return run_playbook('istio_role.yml', variables, env=k8s_env, check=check)


def test_one_revision_labels_the_namespaces_applies_mtls_and_the_gateway_and_a_second_run_changes_nothing(bed, k8s_env, k8s_client, mesh):
    istiod(k8s_client, mesh['control'], 'default')
    extra = {'istio_destination_rules': [{'name': 'epp', 'namespace': mesh['models'][1], 'host': 'epp.%s.svc.cluster.local' % mesh['models'][1]}],
             'istio_inference_pools': [{'name': 'phi-4-mini', 'namespace': mesh['models'][0], 'match_labels': {'kaito.sh/workspace': 'phi-4-mini'},
                                        'endpoint_picker': {'name': 'phi-4-mini-epp'}}]}
    first = converge(k8s_env, mesh, **extra)
    assert first.rc == 0, first.failures
    assert first.result('Say where Istio comes from and which revision the namespaces get')['msg'] == (
        'Istio: none (istiod already runs (revisions default): the role uses it and installs nothing); revision default')
    assert first.result('Say which namespaces lost istio-injection')['msg'].startswith(
        'Removed the istio-injection label from %s: the namespaces use istio.io/rev=default' % mesh['models'][0])
    for namespace in mesh['models']:
        labels = api(k8s_client, 'Namespace').get(name=namespace).to_dict()['metadata']['labels']
        assert labels['istio.io/rev'] == 'default' and labels['aiplatform.aks/inference-gateway'] == 'inference'
        assert 'istio-injection' not in labels
        policy = api(k8s_client, 'PeerAuthentication', 'security.istio.io/v1').get(name='default', namespace=namespace).to_dict()
        assert policy['spec'] == {'mtls': {'mode': 'STRICT'}}
    assert api(k8s_client, 'Namespace').get(name=mesh['models'][0]).to_dict()['metadata']['labels']['team'] == 'a', 'others\' labels stay'
    gateway = api(k8s_client, 'Gateway', 'gateway.networking.k8s.io/v1').get(name='inference', namespace=mesh['gateway']).to_dict()
    assert gateway['spec']['gatewayClassName'] == 'istio' and gateway['metadata']['labels']['istio.io/rev'] == 'default'
    assert gateway['spec']['listeners'][0]['allowedRoutes'] == {
        'namespaces': {'from': 'Selector', 'selector': {'matchLabels': {'aiplatform.aks/inference-gateway': 'inference'}}}}
    rule = api(k8s_client, 'DestinationRule', 'networking.istio.io/v1').get(name='epp', namespace=mesh['models'][1]).to_dict()
    assert rule['spec'] == {'host': 'epp.%s.svc.cluster.local' % mesh['models'][1], 'trafficPolicy': {'tls': {'mode': 'DISABLE'}}}
    pool = api(k8s_client, 'InferencePool', 'inference.networking.k8s.io/v1').get(name='phi-4-mini', namespace=mesh['models'][0]).to_dict()
    picker_ref = pool['spec'].pop('endpointPickerRef')
    assert pool['spec'] == {'selector': {'matchLabels': {'kaito.sh/workspace': 'phi-4-mini'}}, 'targetPorts': [{'number': 5000}],
                            'appProtocol': 'http'}, 'the CRD defaults appProtocol'
    assert dict((k, picker_ref[k]) for k in ('name', 'port', 'failureMode')) == {'name': 'phi-4-mini-epp', 'port': {'number': 9002}, 'failureMode': 'FailClose'}
    picker = api(k8s_client, 'DestinationRule', 'networking.istio.io/v1').get(name='phi-4-mini-epp', namespace=mesh['models'][0]).to_dict()
    assert picker['spec']['trafficPolicy'] == {'tls': {'mode': 'DISABLE'}}, 'the picker speaks plaintext gRPC'
    watch = WriteWatch(bed)
    second = converge(k8s_env, mesh, **extra)
    assert second.rc == 0 and second.changed == 0, second.failures
    assert watch.writes()['kubernetes'] == []


def test_two_revisions_need_istio_revision_which_then_labels_the_namespaces(bed, k8s_env, k8s_client, mesh):
    istiod(k8s_client, mesh['control'], 'asm-1-27')
    istiod(k8s_client, mesh['control'], 'asm-1-28')
    role_refused_before_writing(bed, 'istio_role.yml', {
        'istio_control_plane_namespaces': [mesh['control']], 'istio_namespaces': mesh['models'], 'istio_gateway_namespace': mesh['gateway']},
        ('two Istio revisions are installed (asm-1-27, asm-1-28)', 'istio_revision'))
    run = converge(k8s_env, mesh, istio_revision='asm-1-28')
    assert run.rc == 0, run.failures
    assert all(api(k8s_client, 'Namespace').get(name=n).to_dict()['metadata']['labels']['istio.io/rev'] == 'asm-1-28' for n in mesh['models'])


def test_an_istiod_that_is_not_ready_fails_the_wait_naming_it(k8s_env, k8s_client, mesh):
    istiod(k8s_client, mesh['control'], 'asm-1-28', ready=False)
    run = converge(k8s_env, mesh, istio_wait_timeout=2)
    assert run.rc != 0
    assert run.result('The revision\'s istiod is ready')['msg'].startswith(
        'istiod of revision asm-1-28 is not ready after 2 s (istio_wait_timeout); found: istiod-asm-1-28 ready=False in ' + mesh['control'])


def test_check_mode_reports_the_changes_and_writes_nothing(bed, k8s_env, k8s_client, mesh):
    istiod(k8s_client, mesh['control'], 'default')
    watch = WriteWatch(bed)
    run = converge(k8s_env, mesh, check=True)
    assert run.rc == 0, run.failures
    assert run.result('Label the mesh namespaces with the revision, and apply mTLS, the inference Gateway and the DestinationRules')['changed'] is True
    assert watch.writes() == {'arm': [], 'kubernetes': []}


@pytest.fixture
def aks_owned_gateway_api(k8s_client, crds):
    """The Gateway API CRDs marked as AKS's (Managed Gateway API), the mark taken off again after the test."""
    crd_api = api(k8s_client, 'CustomResourceDefinition', 'apiextensions.k8s.io/v1')
    for name in GATEWAY_CRDS:
        crd_api.patch(name=name, content_type=MERGE, body={'metadata': {'labels': {'app.kubernetes.io/managed-by': 'aks'}}})
    yield
    for name in GATEWAY_CRDS:
        crd_api.patch(name=name, content_type=MERGE, body={'metadata': {'labels': {'app.kubernetes.io/managed-by': None}}})


def test_gateway_api_crds_owned_by_aks_are_never_written(bed, k8s_env, k8s_client, mesh, aks_owned_gateway_api):
    istiod(k8s_client, mesh['control'], 'default')
    watch = WriteWatch(bed)
    run = converge(k8s_env, mesh)
    assert run.rc == 0, run.failures
    assert run.result('Plan the mesh')['ansible_facts']['istio_plan_effective']['gateway_api_owned_by_aks'] is True
    assert [w for w in watch.writes()['kubernetes'] if 'customresourcedefinitions' in w['uri']] == []


@pytest.mark.parametrize('variables, names', [
    pytest.param({'istio_install': 'operator'}, ('istio_install', 'operator', 'addon'), id='unknown-install'),
    pytest.param({'istio_mtls': 'strict'}, ('istio_mtls', 'STRICT'), id='mtls-lower-case'),
    pytest.param({'istio_namespaces': ['gpu-operator']}, ('istio_namespaces must not hold gpu-operator',), id='webhook-namespace'),
    pytest.param({'istio_revision': 'asm-1-30'}, ('istio_revision asm-1-30 is not installed; installed: default',), id='unknown-revision'),
    pytest.param({'istio_destination_rules': [{'name': 'epp', 'namespace': 'ai', 'host': 'epp', 'tls_mode': 'OFF'}]},
                 ('istio_destination_rules', 'tls_mode', 'OFF'), id='tls-mode'),
    pytest.param({'istio_install': 'addon'}, ('istio_install addon needs an AKS cluster',), id='addon-off-aks'),
])
def test_bad_input_is_refused_before_writing(bed, k8s_client, mesh, variables, names):
    istiod(k8s_client, mesh['control'], 'default')
    role_refused_before_writing(bed, 'istio_role.yml', dict({
        'istio_control_plane_namespaces': [mesh['control']], 'istio_namespaces': mesh['models'], 'istio_gateway_namespace': mesh['gateway']},
        **variables), names)


def ingress_service(client, namespace, address=None):
    """The add-on's external ingress gateway Service; with `address`, the load balancer's (the cloud controller, a stand-in)."""
    services = api(client, 'Service')
    services.create(namespace=namespace, body={'metadata': {'name': 'aks-istio-ingressgateway-external'}, 'spec': {
        'type': 'LoadBalancer', 'selector': {'app': 'aks-istio-ingressgateway-external'},
        'ports': [{'name': 'http2', 'port': 80, 'targetPort': 8080}, {'name': 'https', 'port': 443, 'targetPort': 8443}]}})
    if address:
        services.status.patch(name='aks-istio-ingressgateway-external', namespace=namespace, content_type=MERGE,
                              body={'status': {'loadBalancer': {'ingress': [{'ip': address}]}}})


@pytest.fixture(scope='module')
def istio_cluster(bed, arm_emulator, azure_env):
    """An AKS cluster with the Istio add-on (asm-1-28), external ingress and Managed Gateway API, in the ARM emulator."""
    rg, cluster = 'rg-istio-role', 'aks-istio-role'
    assert not call_module('azure_resource_group', {'name': rg, 'location': 'westeurope'}, env=azure_env).get('failed')
    made = call_module('aks_cluster', {'name': cluster, 'resource_group': rg, 'location': 'westeurope', 'timeout': 120,
                                       'istio': {'enabled': True, 'revisions': ['asm-1-28'], 'ingress_gateways': [{'mode': 'External'}]},
                                       'gateway_api': True, 'system_pool': {'vm_size': 'Standard_D2s_v3', 'count': 1}}, env=bed.env())
    assert not made.get('failed'), made.get('msg')
    return {'istio_aks': True, 'istio_cluster': cluster, 'istio_resource_group': rg}


@pytest.mark.parametrize('address', ['20.61.12.34', None], ids=['with-address', 'without-address'])
def test_the_add_on_revision_comes_from_the_cluster_and_the_ingress_address_is_checked(bed, k8s_client, mesh, istio_cluster, address):
    run_id = mesh['control'].split('-', 1)[1]
    ingress = 'ingress-' + run_id
    api(k8s_client, 'Namespace').create(body={'metadata': {'name': ingress}})
    ingress_service(k8s_client, ingress, address)
    istiod(k8s_client, mesh['control'], 'asm-1-28')
    run = run_playbook('istio_role.yml', dict(istio_cluster, istio_control_plane_namespaces=[mesh['control']], istio_namespaces=mesh['models'],
                                              istio_gateway_namespace=mesh['gateway'], istio_wait_timeout=2,
                                              istio_ingress={'namespace': ingress, 'service': 'aks-istio-ingressgateway-external'}),
                       env=bed.env())
    assert run.result('Say where Istio comes from and which revision the namespaces get')['msg'] == (
        'Istio: addon (the AKS cluster has the Istio add-on (serviceMeshProfile.mode Istio)); revision asm-1-28')
    if address:
        assert run.rc == 0, run.failures
        assert run.result('Report the ingress gateway\'s address')['msg'] == (
            'Ingress gateway %s/aks-istio-ingressgateway-external: 20.61.12.34 (ports 80, 443)' % ingress)
    else:
        assert run.rc != 0
        assert run.result('The ingress gateway has an address')['msg'] == (
            'Service %s/aks-istio-ingressgateway-external has no external address yet (status.loadBalancer.ingress is empty) '
            'after 2 s (istio_wait_timeout)' % ingress)
