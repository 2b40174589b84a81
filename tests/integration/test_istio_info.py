"""istio_info against the real test apiserver (Kubernetes 1.20) with the upstream Istio 1.28.10 CRDs, the Gateway API
v1.2.1 (and v1.4.1 GatewayClass) CRDs and the Inference Extension v1.6.0 InferencePool CRD.

The bed runs no Istio, no Deployment controller and no cloud controller. The test plays them, as stand-ins, and says
where: it creates the istiod Deployments and writes their status through the status subresource (what the Deployment
controller reports), and writes the ingress gateway Service's load balancer address through its status subresource
(what the cloud controller reports). Every test uses namespaces of its own (a deleted namespace never finishes on the
bed), passed to the module in control_plane_namespaces. CRDs are cluster-scoped and shared with the other test files:
what a test changes on them it puts back.
"""

import uuid
from pathlib import Path

import pytest

from tests.integration import kaito_standin
from tests.integration.gpu_standin import api
from tests.integration.kaito_standin import MERGE
from tests.integration.module_call import call_module
from tests.integration.refusals import BadInput, WriteWatch, cases, refused_before_reading

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
GATEWAY_API = [CRDS / 'gateway-api' / 'v1.2.1' / 'gateway.networking.k8s.io_gatewayclasses.yaml',
               CRDS / 'gateway-api' / 'v1.2.1' / 'gateway.networking.k8s.io_gateways.yaml']
GATEWAY_CLASSES_1_4_1 = CRDS / 'gateway-api' / 'v1.4.1' / 'gateway.networking.k8s.io_gatewayclasses.yaml'
ISTIO = CRDS / 'istio' / '1.28.10' / 'crd-all.gen.yaml.gz'  # one file, 14 CRDs
INFERENCE_POOL = CRDS / 'gateway-api-inference-extension' / 'v1.6.0' / 'inference.networking.k8s.io_inferencepools.yaml'
GATEWAY_CLASSES, GATEWAYS = 'gatewayclasses.gateway.networking.k8s.io', 'gateways.gateway.networking.k8s.io'
MANAGED_BY = 'app.kubernetes.io/managed-by'
ALL_SERVED = {'security.istio.io/v1': True, 'networking.istio.io/v1': True, 'gateway.networking.k8s.io/v1': True,
              'inference.networking.k8s.io/v1': True}
PORTS = [{'name': 'status-port', 'port': 15021}, {'name': 'http2', 'port': 80}, {'name': 'https', 'port': 443}]


def istio_info(env, check=False, **args):
    result = call_module('istio_info', args, env=env, check=check)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    return result


@pytest.fixture(scope='module')
def crds(k8s_client):
    names = kaito_standin.install_crds(k8s_client, GATEWAY_API + [ISTIO, INFERENCE_POOL])
    assert len(names) == 2 + 14 + 1
    assert {'peerauthentications.security.istio.io', 'destinationrules.networking.istio.io'} <= set(names)
    return names


@pytest.fixture
def namespaces(k8s_client):
    """new(prefix): a namespace of this test, with a unique name."""
    run = uuid.uuid4().hex[:8]

    def new(prefix):
        name = 'ii-%s-%s' % (prefix, run)
        api(k8s_client, 'Namespace').create(body={'metadata': {'name': name}})
        return name
    return new


def istiod(client, namespace, name, revision=None, image='mcr.microsoft.com/oss/istio/pilot:1.28.1-distroless', replicas=None):
    """An istiod Deployment as the add-on or upstream's chart names and labels it."""
    labels = dict({'app': 'istiod'}, **({'istio.io/rev': revision} if revision else {}))
    spec = {'selector': {'matchLabels': labels}, 'template': {'metadata': {'labels': labels}, 'spec': {
        'containers': [{'name': 'discovery', 'image': image}]}}}
    if replicas is not None:
        spec['replicas'] = replicas
    api(client, 'Deployment', 'apps/v1').create(namespace=namespace, body={'metadata': {'name': name, 'labels': labels}, 'spec': spec})


def report(client, namespace, name, ready):
    """The test as the Deployment controller (a stand-in): it has seen the current generation, `ready` replicas are ready."""
    deployments = api(client, 'Deployment', 'apps/v1')
    generation = deployments.get(name=name, namespace=namespace).to_dict()['metadata']['generation']
    deployments.status.patch(name=name, namespace=namespace, content_type=MERGE, body={'status': {
        'observedGeneration': generation, 'replicas': ready, 'readyReplicas': ready, 'availableReplicas': ready, 'updatedReplicas': ready}})


def test_istiod_revisions_and_the_ingress_gateway(bed, k8s_env, k8s_client, crds, namespaces):
    addon, upstream, ingress = namespaces('aks'), namespaces('up'), namespaces('in')
    # the add-on during an upgrade: two revisions, the new one still starting
    istiod(k8s_client, addon, 'istiod-asm-1-27', 'asm-1-27', 'mcr.microsoft.com/oss/istio/pilot:1.27.3-distroless', replicas=2)
    istiod(k8s_client, addon, 'istiod-asm-1-28', 'asm-1-28', replicas=2)
    istiod(k8s_client, upstream, 'istiod', image='docker.io/istio/pilot:1.28.10')
    istiod(k8s_client, upstream, 'istio-ingressgateway', image='docker.io/istio/proxyv2:1.28.10')  # not istiod
    report(k8s_client, addon, 'istiod-asm-1-27', 2)
    report(k8s_client, addon, 'istiod-asm-1-28', 1)
    report(k8s_client, upstream, 'istiod', 1)
    services = api(k8s_client, 'Service')
    services.create(namespace=ingress, body={'metadata': {'name': 'aks-istio-ingressgateway-external'}, 'spec': {
        'type': 'LoadBalancer', 'selector': {'istio': 'aks-istio-ingressgateway-external'},
        'ports': [{'name': 'status-port', 'port': 15021, 'targetPort': 15021}, {'name': 'http2', 'port': 80, 'targetPort': 80},
                  {'name': 'https', 'port': 443, 'targetPort': 443}]}})
    args = {'control_plane_namespaces': [addon, upstream], 'ingress': {'namespace': ingress}}

    watch = WriteWatch(bed)
    result = istio_info(k8s_env, **args)
    again = istio_info(k8s_env, check=True, **args)
    assert watch.writes()['kubernetes'] == []  # reads only
    assert again == result
    assert result['revisions'] == [
        {'revision': 'asm-1-27', 'namespace': addon, 'deployment': 'istiod-asm-1-27', 'ready': True, 'replicas': 2,
         'ready_replicas': 2, 'version': '1.27.3-distroless'},
        {'revision': 'asm-1-28', 'namespace': addon, 'deployment': 'istiod-asm-1-28', 'ready': False, 'replicas': 2,
         'ready_replicas': 1, 'version': '1.28.1-distroless'},
        {'revision': 'default', 'namespace': upstream, 'deployment': 'istiod', 'ready': True, 'replicas': 1,
         'ready_replicas': 1, 'version': '1.28.10'}]
    assert result['revision_names'] == ['asm-1-27', 'asm-1-28', 'default']
    waiting = {'namespace': ingress, 'service': 'aks-istio-ingressgateway-external', 'found': True, 'type': 'LoadBalancer',
               'addresses': [], 'ports': PORTS, 'ready': False,
               'reason': 'Service %s/aks-istio-ingressgateway-external has no external address yet '
                         '(status.loadBalancer.ingress is empty)' % ingress}
    assert result['ingress'] == waiting
    assert result['apis'] == ALL_SERVED
    assert result['gateway_api']['installed'] is True

    # the new revision comes up, and the cloud controller (the test, a stand-in) gives the gateway its address
    report(k8s_client, addon, 'istiod-asm-1-28', 2)
    services.status.patch(name='aks-istio-ingressgateway-external', namespace=ingress, content_type=MERGE,
                          body={'status': {'loadBalancer': {'ingress': [{'ip': '20.61.12.34'}]}}})
    # a spec change the controller has not seen yet: the status it wrote is about the previous spec
    api(k8s_client, 'Deployment', 'apps/v1').patch(name='istiod', namespace=upstream, content_type=MERGE, body={'spec': {'template': {
        'spec': {'containers': [{'name': 'discovery', 'image': 'docker.io/istio/pilot:1.28.11'}]}}}})
    found = istio_info(k8s_env, **args)
    assert [(r['deployment'], r['ready'], r['version']) for r in found['revisions']] == [
        ('istiod-asm-1-27', True, '1.27.3-distroless'), ('istiod-asm-1-28', True, '1.28.1-distroless'), ('istiod', False, '1.28.11')]
    assert found['ingress'] == dict(waiting, addresses=['20.61.12.34'], ready=True, reason=None)
    report(k8s_client, upstream, 'istiod', 1)
    assert all(r['ready'] for r in istio_info(k8s_env, **args)['revisions'])

    # a cloud that names its load balancers (a host name); a Service that does not exist; no ingress option
    services.status.patch(name='aks-istio-ingressgateway-external', namespace=ingress, content_type=MERGE,
                          body={'status': {'loadBalancer': {'ingress': [{'hostname': 'gw.example.test'}]}}})
    assert istio_info(k8s_env, **args)['ingress']['addresses'] == ['gw.example.test']
    missing = istio_info(k8s_env, control_plane_namespaces=[addon], ingress={'namespace': ingress, 'service': 'internal'})
    assert missing['ingress'] == {'namespace': ingress, 'service': 'internal', 'found': False, 'type': None, 'addresses': [],
                                  'ports': [], 'ready': False, 'reason': 'Service %s/internal does not exist' % ingress}
    assert istio_info(k8s_env, control_plane_namespaces=[ingress])['ingress'] is None


def test_no_istiod_in_namespaces_without_one(k8s_env, crds, namespaces):
    empty = namespaces('none')
    result = istio_info(k8s_env, control_plane_namespaces=[empty, 'ii-absent-' + uuid.uuid4().hex[:8]])
    assert result['revisions'] == [] and result['revision_names'] == []


def crd_entry(name, bundle, managed_by=None):
    return {'name': name, 'bundle_version': bundle, 'channel': 'standard', 'served_versions': ['v1', 'v1beta1'],
            'managed_by': managed_by, 'managed_by_aks': managed_by == 'aks'}


def test_gateway_api_crds_their_bundle_and_who_owns_them(bed, k8s_env, k8s_client, crds, namespaces):
    control = namespaces('cp')
    definitions = api(k8s_client, 'CustomResourceDefinition', 'apiextensions.k8s.io/v1')

    def read():
        found = istio_info(k8s_env, control_plane_namespaces=[control])['gateway_api']
        # other test files may install more of the group (HTTPRoute): these two are this file's
        return found, dict((c['name'], c) for c in found['crds'] if c['name'] in (GATEWAY_CLASSES, GATEWAYS))

    watch = WriteWatch(bed)
    found, mine = read()
    assert watch.writes()['kubernetes'] == []
    assert mine == {GATEWAY_CLASSES: crd_entry(GATEWAY_CLASSES, 'v1.2.1'), GATEWAYS: crd_entry(GATEWAYS, 'v1.2.1')}
    assert found['installed'] is True and found['managed_by_aks'] is False and found['bundle_version'] == 'v1.2.1'

    # AKS's mark as a label on one CRD and as an annotation on the other: both count
    try:
        definitions.patch(name=GATEWAYS, content_type=MERGE, body={'metadata': {'labels': {MANAGED_BY: 'aks'}}})
        definitions.patch(name=GATEWAY_CLASSES, content_type=MERGE, body={'metadata': {'annotations': {MANAGED_BY: 'aks'}}})
        found, mine = read()
        assert mine == {GATEWAY_CLASSES: crd_entry(GATEWAY_CLASSES, 'v1.2.1', 'aks'), GATEWAYS: crd_entry(GATEWAYS, 'v1.2.1', 'aks')}
        assert found['managed_by_aks'] is True
        definitions.patch(name=GATEWAYS, content_type=MERGE, body={'metadata': {'labels': {MANAGED_BY: 'Helm'}}})
        found, mine = read()
        assert mine[GATEWAYS]['managed_by'] == 'Helm' and mine[GATEWAYS]['managed_by_aks'] is False and found['managed_by_aks'] is True
    finally:
        definitions.patch(name=GATEWAYS, content_type=MERGE, body={'metadata': {'labels': {MANAGED_BY: None}}})
        definitions.patch(name=GATEWAY_CLASSES, content_type=MERGE, body={'metadata': {'annotations': {MANAGED_BY: None}}})
    assert read()[0]['managed_by_aks'] is False

    # CRDs of two bundles: the lowest is the group's
    try:
        kaito_standin.install_crds(k8s_client, [GATEWAY_CLASSES_1_4_1])
        found, mine = read()
        assert mine == {GATEWAY_CLASSES: crd_entry(GATEWAY_CLASSES, 'v1.4.1'), GATEWAYS: crd_entry(GATEWAYS, 'v1.2.1')}
        assert found['bundle_version'] == 'v1.2.1'
    finally:
        kaito_standin.install_crds(k8s_client, GATEWAY_API[:1])
    assert read()[1][GATEWAY_CLASSES]['bundle_version'] == 'v1.2.1'


BAD_INPUT = [
    BadInput('namespace-name', 'istio_info', {'control_plane_namespaces': ['aks-istio-system', 'Istio_System']},
             ('control_plane_namespaces item 2', "'Istio_System'", 'is not a namespace name')),
    BadInput('no-namespace', 'istio_info', {'control_plane_namespaces': []}, ('control_plane_namespaces is empty',)),
    BadInput('ingress-namespace', 'istio_info', {'ingress': {'namespace': 'aks.istio.ingress'}}, ("ingress.namespace 'aks.istio.ingress'",)),
    BadInput('ingress-service', 'istio_info', {'ingress': {'service': 'Gateway'}}, ("ingress.service 'Gateway' is not a service name",)),
]


@pytest.mark.parametrize('case', cases(*BAD_INPUT))
def test_bad_input_is_refused_naming_the_option_before_any_read(bed, case):
    refused_before_reading(bed, case)
