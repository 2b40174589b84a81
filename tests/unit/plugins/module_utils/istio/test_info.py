"""istio_info logic on a fake API: istiod revisions, the ingress gateway Service, the Gateway API CRDs and who owns
them, the APIs served, and the options refused before any read."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.istio import info
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError

from tests.unit.plugins.module_utils.k8s.fakes import FakeCluster, api_error

INGRESS = {'namespace': 'aks-istio-ingress', 'service': 'aks-istio-ingressgateway-external'}
AKS_IMAGE = 'mcr.microsoft.com/oss/istio/pilot:1.28.1-distroless'


class Cluster(FakeCluster):
    """The fake API with Deployments and Services, and the kinds of `served` (apiVersion, kind) as installed CRDs."""

    def __init__(self, *objects, served=()):
        super(Cluster, self).__init__()
        self.kinds[('apps/v1', 'Deployment')] = ('deployments', True)
        self.kinds[('v1', 'Service')] = ('services', True)
        for api_version, kind in served:
            self.kinds[(api_version, kind)] = (kind.lower() + 's', True)
        for obj in objects:
            self.add(obj)


def istiod(name, namespace='aks-istio-system', revision=None, image=AKS_IMAGE, replicas=None, ready=None, generation=1,
           observed=1, containers=None):
    """An istiod Deployment; `ready` is status.readyReplicas (what the controller reports), None for no status."""
    spec = {'selector': {'matchLabels': {'app': 'istiod'}},
            'template': {'spec': {'containers': containers or [{'name': 'discovery', 'image': image}]}}}
    if replicas is not None:
        spec['replicas'] = replicas
    obj = {'apiVersion': 'apps/v1', 'kind': 'Deployment',
           'metadata': {'name': name, 'namespace': namespace, 'generation': generation, 'labels': {'app': 'istiod'}}, 'spec': spec}
    if revision:
        obj['metadata']['labels']['istio.io/rev'] = revision
    if ready is not None:
        obj['status'] = {'observedGeneration': observed, 'replicas': ready, 'readyReplicas': ready}
    return obj


def test_revisions_labelled_unlabelled_and_two_at_once():
    cluster = Cluster(
        istiod('istiod-asm-1-28', revision='asm-1-28', replicas=2, ready=2),
        istiod('istiod-asm-1-27', revision='asm-1-27', image='mcr.microsoft.com/oss/istio/pilot:1.27.3-distroless', replicas=2, ready=1),
        istiod('istiod', 'istio-system', image='docker.io/istio/pilot:1.28.0', ready=1),
        istiod('istio-ingressgateway', 'istio-system', ready=1),  # not istiod
        istiod('istiodx', 'istio-system', ready=1),  # not istiod either
        istiod('istiod-other', 'elsewhere', revision='other', ready=1))  # a namespace not asked for
    found = info.gather(cluster, ['aks-istio-system', 'istio-system'])
    assert found['revisions'] == [
        {'revision': 'asm-1-27', 'namespace': 'aks-istio-system', 'deployment': 'istiod-asm-1-27', 'ready': False, 'replicas': 2,
         'ready_replicas': 1, 'version': '1.27.3-distroless'},
        {'revision': 'asm-1-28', 'namespace': 'aks-istio-system', 'deployment': 'istiod-asm-1-28', 'ready': True, 'replicas': 2,
         'ready_replicas': 2, 'version': '1.28.1-distroless'},
        {'revision': 'default', 'namespace': 'istio-system', 'deployment': 'istiod', 'ready': True, 'replicas': 1,
         'ready_replicas': 1, 'version': '1.28.0'}]
    assert found['revision_names'] == ['asm-1-27', 'asm-1-28', 'default']
    assert found['ingress'] is None


def test_one_revision_in_two_namespaces_sorts_by_namespace():
    cluster = Cluster(istiod('istiod-r1', 'zz-system', revision='r1', ready=1), istiod('istiod-r1', 'aa-system', revision='r1', ready=1))
    found = info.gather(cluster, ['zz-system', 'aa-system', 'zz-system'])
    assert [(r['revision'], r['namespace']) for r in found['revisions']] == [('r1', 'aa-system'), ('r1', 'zz-system')]
    assert found['revision_names'] == ['r1']


@pytest.mark.parametrize('kwargs, ready', [
    ({'ready': 1}, True),
    ({'replicas': 3, 'ready': 3}, True),
    ({'replicas': 3, 'ready': 2}, False),
    ({}, False),  # no status yet: the controller has not seen it
    ({'ready': 1, 'generation': 2, 'observed': 1}, False),  # a status from before the last spec change
    ({'ready': 1, 'generation': 2, 'observed': 2}, True),
    ({'replicas': 0, 'ready': 0}, False),  # scaled to zero serves nothing
])
def test_istiod_ready(kwargs, ready):
    found = info.revision_info(istiod('istiod', **kwargs))
    assert found['ready'] is ready
    assert found['replicas'] == kwargs.get('replicas', 1) and found['ready_replicas'] == kwargs.get('ready', 0)


@pytest.mark.parametrize('image, tag', [
    ('mcr.microsoft.com/oss/istio/pilot:1.28.1-distroless', '1.28.1-distroless'),
    ('docker.io/istio/pilot:1.28.0@sha256:' + 'a' * 64, '1.28.0'),
    ('localhost:5000/istio/pilot', None),
    ('pilot', None),
    ('localhost:5000/pilot:1.28.0', '1.28.0'),
    (None, None),
])
def test_image_tag(image, tag):
    assert info.image_tag(image) == tag


def test_version_from_the_discovery_container_else_the_first():
    sidecar_first = [{'name': 'helper', 'image': 'helper:9'}, {'name': 'discovery', 'image': 'pilot:1.28.2'}]
    assert info.revision_info(istiod('istiod', containers=sidecar_first))['version'] == '1.28.2'
    renamed = [{'name': 'pilot', 'image': 'pilot:1.28.3'}, {'name': 'helper', 'image': 'helper:9'}]
    assert info.revision_info(istiod('istiod', containers=renamed))['version'] == '1.28.3'


def service(kind='LoadBalancer', ingress=None, name=INGRESS['service'], namespace=INGRESS['namespace']):
    obj = {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': name, 'namespace': namespace},
           'spec': {'type': kind, 'ports': [{'name': 'status-port', 'port': 15021}, {'name': 'http2', 'port': 80},
                                            {'name': 'https', 'port': 443}]}}
    if ingress is not None:
        obj['status'] = {'loadBalancer': {'ingress': ingress}}
    return obj


PORTS = [{'name': 'status-port', 'port': 15021}, {'name': 'http2', 'port': 80}, {'name': 'https', 'port': 443}]


def test_ingress_load_balancer_with_an_ip():
    found = info.gather(Cluster(service(ingress=[{'ip': '20.61.12.34'}])), ['aks-istio-system'], INGRESS)['ingress']
    assert found == {'namespace': 'aks-istio-ingress', 'service': 'aks-istio-ingressgateway-external', 'found': True,
                     'type': 'LoadBalancer', 'addresses': ['20.61.12.34'], 'ports': PORTS, 'ready': True, 'reason': None}


def test_ingress_load_balancer_with_a_host_name():
    found = info.ingress_info(Cluster(service(ingress=[{'hostname': 'gw.example.test'}, {'ip': '10.1.2.3'}])), INGRESS['namespace'],
                              INGRESS['service'])
    assert found['addresses'] == ['gw.example.test', '10.1.2.3'] and found['ready'] is True and found['reason'] is None


@pytest.mark.parametrize('status', [None, [], [{}]])
def test_ingress_load_balancer_without_an_address(status):
    found = info.ingress_info(Cluster(service(ingress=status)), INGRESS['namespace'], INGRESS['service'])
    assert found['found'] is True and found['addresses'] == [] and found['ready'] is False
    assert found['reason'] == ('Service aks-istio-ingress/aks-istio-ingressgateway-external has no external address yet '
                               '(status.loadBalancer.ingress is empty)')


def test_ingress_service_missing():
    found = info.ingress_info(Cluster(service(namespace='other')), INGRESS['namespace'], INGRESS['service'])
    assert found == {'namespace': 'aks-istio-ingress', 'service': 'aks-istio-ingressgateway-external', 'found': False, 'type': None,
                     'addresses': [], 'ports': [], 'ready': False,
                     'reason': 'Service aks-istio-ingress/aks-istio-ingressgateway-external does not exist'}


def test_ingress_cluster_ip_needs_no_address():
    found = info.ingress_info(Cluster(service('ClusterIP', name='internal')), INGRESS['namespace'], 'internal')
    assert found['type'] == 'ClusterIP' and found['addresses'] == [] and found['ready'] is True and found['reason'] is None


def crd(plural, group='gateway.networking.k8s.io', bundle='v1.4.1', labels=None, annotations=None, versions=('v1', 'v1beta1')):
    notes = dict({'gateway.networking.k8s.io/bundle-version': bundle, 'gateway.networking.k8s.io/channel': 'standard'} if bundle else {},
                 **(annotations or {}))
    return {'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition',
            'metadata': {'name': '%s.%s' % (plural, group), 'labels': labels or {}, 'annotations': notes},
            'spec': {'group': group, 'versions': [{'name': v, 'served': v != 'v1alpha2', 'storage': v == 'v1'} for v in versions]}}


def test_gateway_api_crds_owned_by_aks_by_label_or_annotation():
    cluster = Cluster(crd('gateways', labels={'app.kubernetes.io/managed-by': 'aks'}),
                      crd('httproutes', annotations={'app.kubernetes.io/managed-by': 'aks'}),
                      crd('gatewayclasses', labels={'app.kubernetes.io/managed-by': 'Helm'}),
                      crd('grpcroutes', versions=('v1', 'v1alpha2')),
                      crd('destinationrules', group='networking.istio.io', bundle=None, labels={'app.kubernetes.io/managed-by': 'aks'}))
    found = info.gateway_api_info(cluster)
    assert found == {'installed': True, 'managed_by_aks': True, 'bundle_version': 'v1.4.1', 'crds': [
        {'name': 'gatewayclasses.gateway.networking.k8s.io', 'bundle_version': 'v1.4.1', 'channel': 'standard',
         'served_versions': ['v1', 'v1beta1'], 'managed_by': 'Helm', 'managed_by_aks': False},
        {'name': 'gateways.gateway.networking.k8s.io', 'bundle_version': 'v1.4.1', 'channel': 'standard',
         'served_versions': ['v1', 'v1beta1'], 'managed_by': 'aks', 'managed_by_aks': True},
        {'name': 'grpcroutes.gateway.networking.k8s.io', 'bundle_version': 'v1.4.1', 'channel': 'standard',
         'served_versions': ['v1'], 'managed_by': None, 'managed_by_aks': False},
        {'name': 'httproutes.gateway.networking.k8s.io', 'bundle_version': 'v1.4.1', 'channel': 'standard',
         'served_versions': ['v1', 'v1beta1'], 'managed_by': 'aks', 'managed_by_aks': True}]}


def test_gateway_api_crds_of_our_own_install():
    found = info.gateway_api_info(Cluster(crd('gateways', bundle='v1.2.1')))
    assert found['managed_by_aks'] is False and found['installed'] is True and found['bundle_version'] == 'v1.2.1'


def test_the_bundle_version_is_the_lowest_compared_as_numbers():
    cluster = Cluster(crd('gateways', bundle='v1.10.0'), crd('httproutes', bundle='v1.9.2'), crd('grpcroutes', bundle='v1.10.0-rc.1'),
                      crd('referencegrants', bundle=None), crd('tlsroutes', bundle='main'))
    assert info.gateway_api_info(cluster)['bundle_version'] == 'v1.9.2'
    assert info.gateway_api_info(Cluster(crd('gateways', bundle='v1.10.0'), crd('grpcroutes', bundle='v1.10.0-rc.1')))[
        'bundle_version'] == 'v1.10.0-rc.1'
    assert info.gateway_api_info(Cluster(crd('gateways', bundle=None)))['bundle_version'] is None


def test_no_gateway_api_installed():
    found = info.gateway_api_info(Cluster(crd('workspaces', group='kaito.sh', bundle=None)))
    assert found == {'crds': [], 'installed': False, 'managed_by_aks': False, 'bundle_version': None}


def test_apis_served():
    assert info.apis_served(Cluster()) == {'security.istio.io/v1': False, 'networking.istio.io/v1': False,
                                           'gateway.networking.k8s.io/v1': False, 'inference.networking.k8s.io/v1': False}
    cluster = Cluster(served=[('security.istio.io/v1', 'PeerAuthentication'), ('gateway.networking.k8s.io/v1', 'Gateway'),
                              ('networking.istio.io/v1beta1', 'DestinationRule')])  # an older Istio: v1beta1 only
    assert info.gather(cluster, ['aks-istio-system'])['apis'] == {
        'security.istio.io/v1': True, 'networking.istio.io/v1': False, 'gateway.networking.k8s.io/v1': True,
        'inference.networking.k8s.io/v1': False}


def test_a_refused_read_names_what_was_read():
    class Forbidden(Cluster):
        def get(self, resource, **kwargs):
            if resource.kind == 'Deployment':
                raise api_error(403, 'Forbidden', 'deployments.apps is forbidden: User "dev" cannot list resource "deployments"')
            return super(Forbidden, self).get(resource, **kwargs)
    with pytest.raises(K8sError, match=r'^cannot list the Deployments of namespace aks-istio-system: deployments.apps is forbidden: .*'
                                       r'\(HTTP 403 Forbidden\)$'):
        info.gather(Forbidden(), ['aks-istio-system'])


@pytest.mark.parametrize('params, problems', [
    ({'control_plane_namespaces': ['aks-istio-system', 'istio-system'], 'ingress': None}, []),
    ({'control_plane_namespaces': ['aks-istio-system'], 'ingress': dict(INGRESS)}, []),
    ({'control_plane_namespaces': [], 'ingress': None}, ['control_plane_namespaces is empty']),
    ({'control_plane_namespaces': ['ok', 'Istio System', ''], 'ingress': None},
     ["control_plane_namespaces item 2 'Istio System' is not a namespace name", "control_plane_namespaces item 3 '' is not a namespace name"]),
    ({'control_plane_namespaces': ['ok'], 'ingress': {'namespace': 'aks_istio_ingress', 'service': 'gw'}},
     ["ingress.namespace 'aks_istio_ingress' is not a namespace name"]),
    ({'control_plane_namespaces': ['ok'], 'ingress': {'namespace': 'ok', 'service': '-gw-'}}, ["ingress.service '-gw-' is not a service name"]),
    ({'control_plane_namespaces': ['ok'], 'ingress': {'namespace': 'a' * 64, 'service': 'gw'}}, ["ingress.namespace 'aaaa"]),
])
def test_input_problems_name_the_option(params, problems):
    found = info.input_problems(params)
    assert len(found) == len(problems), found
    for sentence, start in zip(found, problems):
        assert sentence.startswith(start), sentence
