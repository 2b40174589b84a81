"""The functional probe of `pod_autoscaling` on the test apiserver (Kubernetes 1.20, autoscaling/v2beta2) with the KEDA
v2.20.2 CRDs, beside the KEDA and HPA controller stand-in (keda_standin.py) and the Prometheus stand-in: it passes when
they scale, fails naming what did not happen when they misbehave or are absent, refuses before making anything without
its settings or KEDA, and in every case leaves nothing behind once the context is cleaned up."""

import re
import time
import uuid
from pathlib import Path

import pytest
import yaml

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import autoscaling_probe
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.context import ProbeContext
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.probes import PROBES
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import dynamic_client
from tests.integration import kaito_standin
from tests.integration.keda_standin import HPA_API, KEDA, KedaStandIn
from tests.integration.module_call import call_module
from tests.integration.probe_leftovers import checks
from tests.integration.probe_leftovers import cleaned as cleaned_of
from tests.integration.prometheus_standin import PrometheusStandIn

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / 'tests' / 'crds'
CHECKLIST = yaml.safe_load((ROOT / 'roles' / 'ai_conformance' / 'files' / 'checklists' / 'AIConformance-1.34.yaml').read_text())
KEDA_CRDS = [CRDS / 'keda' / 'v2.20.2' / ('keda.sh_%s.yaml' % name) for name in ('scaledobjects', 'triggerauthentications')]
KEDA_CRD_NAMES = ['scaledobjects.keda.sh', 'triggerauthentications.keda.sh']
TIMEOUT = 6
PROBED_KINDS = [('apps/v1', 'Deployment'), (HPA_API, 'HorizontalPodAutoscaler'), (KEDA, 'ScaledObject'), (KEDA, 'TriggerAuthentication')]
ALL_STEPS = {'objects': True, 'ScaledObject Ready': True, 'HPA active on the external metric': True, 'scaled up': True, 'scaled down': True}
EXTERNAL_METRICS = 'v1beta1.external.metrics.k8s.io'


def cleaned(k8s_client, ctx):
    return cleaned_of(k8s_client, ctx, PROBED_KINDS)


@pytest.fixture(scope='module')
def crds(k8s_client):
    return kaito_standin.install_crds(k8s_client, KEDA_CRDS)


@pytest.fixture(scope='module')
def prometheus():
    with PrometheusStandIn() as server:
        yield server


def context(k8s_client, **settings):
    return ProbeContext(k8s_client, dict({'namespace_prefix': 'aic-' + uuid.uuid4().hex[:6], 'timeout': TIMEOUT}, **settings), sleep=0.2)


def strip_finalizers(k8s_client, ctx):
    """A test that failed before its cleanup left ScaledObjects whose finalizer only the stopped stand-in removes."""
    resource = k8s_client.resources.get(api_version=KEDA, kind='ScaledObject')
    for record in ctx.objects:
        if record['kind'] == 'ScaledObject':
            found = resource.get(namespace=record['namespace'], field_selector='metadata.name=' + record['name']).to_dict()['items']
            if found and found[0]['metadata'].get('finalizers'):
                resource.patch(name=record['name'], namespace=record['namespace'], content_type=kaito_standin.MERGE,
                               body={'metadata': {'finalizers': None}})


@pytest.fixture
def ctx(k8s_client, crds, prometheus):
    """A probe context with short waits, in namespaces of a prefix of its own (the stand-in acts there only), aimed at
    the Prometheus stand-in; cleaned at the end if the test did not clean it."""
    prometheus.clear()
    prometheus.bearer_token = None
    context_ = context(k8s_client, keda_prometheus_server=prometheus.url)
    yield context_
    strip_finalizers(k8s_client, context_)
    context_.cleanup()


def test_passes_when_keda_and_the_hpa_scale_up_and_down(k8s_client, ctx, prometheus):
    started = time.monotonic()
    with KedaStandIn(k8s_client, ctx.settings['namespace_prefix']).running() as keda:
        result = PROBES['pod_autoscaling'](ctx)
        assert result['ok'], result
        assert checks(result) == ALL_STEPS
        observed = dict((e['check'], e['observed']) for e in result['evidence'])
        assert 'condition Ready is True' in observed['ScaledObject Ready']
        assert re.search(r'AbleToScale and ScalingActive, the HPA saw s0-prometheus at [12] per pod$', observed['HPA active on the external metric'])
        assert observed['scaled up'].startswith('spec.replicas 2; the HPA saw s0-prometheus at ')
        assert observed['scaled down'].startswith('spec.replicas 1; the HPA saw s0-prometheus at ')
        assert 'vector(2)' in prometheus.queries and 'vector(0)' in prometheus.queries
        assert all(auth is None for url, auth in keda.queries)
        notes = result['notes']
        assert 'from 1 to 2 replicas and back to 1 on the external metric s0-prometheus' in notes
        assert 'Prometheus at %s queried without authentication' % prometheus.url in notes
        assert 'autoscaling/v2beta2' in notes and 'not scaling on a model\'s own metric' in notes
        assert 'the scaled pods requested no GPU' in notes
        assert cleaned(k8s_client, ctx) == ([], [])
    assert sorted(set(r['kind'] for r in ctx.objects)) == ['Deployment', 'Namespace', 'ScaledObject']
    assert time.monotonic() - started < 4 * TIMEOUT


def test_with_an_identity_the_trigger_queries_through_a_trigger_authentication(k8s_client, ctx, prometheus):
    identity = '00000000-1111-2222-3333-' + uuid.uuid4().hex[:12]
    ctx.settings['keda_identity_id'] = identity
    prometheus.bearer_token = 'token-of-' + identity  # the workspace answers KEDA's identity only
    with KedaStandIn(k8s_client, ctx.settings['namespace_prefix'], identity_tokens={identity: prometheus.bearer_token}).running():
        result = PROBES['pod_autoscaling'](ctx)
        assert result['ok'], result
        assert checks(result) == ALL_STEPS
        auth = next(r['name'] for r in ctx.objects if r['kind'] == 'TriggerAuthentication')
        namespace = next(r['name'] for r in ctx.objects if r['kind'] == 'Namespace')
        made = k8s_client.resources.get(api_version=KEDA, kind='TriggerAuthentication').get(name=auth, namespace=namespace).to_dict()
        assert made['spec']['podIdentity'] == {'provider': 'azure-workload', 'identityId': identity}
        scaled = next(r['name'] for r in ctx.objects if r['kind'] == 'ScaledObject')
        trigger = k8s_client.resources.get(api_version=KEDA, kind='ScaledObject').get(name=scaled, namespace=namespace).to_dict()['spec']['triggers'][0]
        assert trigger['authenticationRef'] == {'name': auth}
        assert set(prometheus.authorizations) == {'Bearer ' + prometheus.bearer_token}
        assert 'TriggerAuthentication %s (azure-workload, identityId %s)' % (auth, identity) in result['evidence'][0]['call']
        assert 'queried as workload identity %s (TriggerAuthentication %s)' % (identity, auth) in result['notes']
        assert cleaned(k8s_client, ctx) == ([], [])
    assert sorted(set(r['kind'] for r in ctx.objects)) == ['Deployment', 'Namespace', 'ScaledObject', 'TriggerAuthentication']


def test_fails_naming_trigger_error_when_keda_cannot_reach_prometheus(k8s_client, ctx):
    with KedaStandIn(k8s_client, ctx.settings['namespace_prefix'], metrics_reachable=False).running():
        result = PROBES['pod_autoscaling'](ctx)
        assert not result['ok']
        assert checks(result) == {'objects': True, 'ScaledObject Ready': False}
        assert ('condition Ready is False (TriggerError: Triggers defined in ScaledObject are not working correctly)'
                in result['evidence'][-1]['observed'])
        assert 'Timed out after' in result['notes'] and 'TriggerError' in result['notes']
        assert cleaned(k8s_client, ctx) == ([], [])


def test_fails_naming_scaling_active_when_the_hpa_gets_no_external_metric(k8s_client, ctx):
    with KedaStandIn(k8s_client, ctx.settings['namespace_prefix'], metrics_api=False).running():
        result = PROBES['pod_autoscaling'](ctx)
        assert not result['ok']
        assert checks(result) == {'objects': True, 'ScaledObject Ready': True, 'HPA active on the external metric': False}
        failed = result['evidence'][-1]
        assert 'condition ScalingActive is False (FailedGetExternalMetric: the HPA was unable to compute the replica count' in failed['observed']
        assert 'unable to fetch metrics from external metrics API: the server is currently unable to handle the request' in failed['observed']
        assert 'Timed out after' in result['notes'] and 'ScalingActive' in result['notes']
        assert cleaned(k8s_client, ctx) == ([], [])


def test_fails_by_timeout_naming_the_wait_when_the_hpa_never_scales(k8s_client, ctx):
    with KedaStandIn(k8s_client, ctx.settings['namespace_prefix'], scale=False).running():
        result = PROBES['pod_autoscaling'](ctx)
        assert not result['ok']
        assert checks(result) == {'objects': True, 'ScaledObject Ready': True, 'HPA active on the external metric': True, 'scaled up': False}
        assert 'to be scaled to 2 replicas' in result['notes'] and 'has spec.replicas 1, want 2' in result['notes']
        assert cleaned(k8s_client, ctx) == ([], [])


def test_fails_by_timeout_without_keda(k8s_client, ctx):
    started = time.monotonic()
    result = PROBES['pod_autoscaling'](ctx)
    assert not result['ok']
    assert checks(result) == {'objects': True, 'ScaledObject Ready': False}
    assert 'Timed out after' in result['notes'] and 'to be Ready: condition Ready not reported yet' in result['notes']
    assert time.monotonic() - started < TIMEOUT + 5
    assert cleaned(k8s_client, ctx) == ([], [])


def test_refuses_without_a_prometheus_server_before_making_anything(k8s_client, crds):
    ctx = context(k8s_client)
    result = PROBES['pod_autoscaling'](ctx)
    assert not result['ok'] and ctx.objects == []
    assert 'set probes.keda_prometheus_server' in result['notes']
    assert checks(result) == {'KEDA prometheus server': False}


def test_through_the_module_pod_autoscaling_is_implemented_by_the_functional_probe(k8s_client, k8s_env, crds, prometheus):
    """ai_conformance with functional: true, where the static probe passes (autoscaling/v2beta2 served, the external
    metrics APIService registered without a backend, so Available) and the stand-ins run."""
    prefix = 'aic-' + uuid.uuid4().hex[:6]
    apiservices = k8s_client.resources.get(api_version='apiregistration.k8s.io/v1', kind='APIService')
    made = not apiservices.get(field_selector='metadata.name=' + EXTERNAL_METRICS).to_dict()['items']
    if made:
        kaito_standin.external_metrics_apiservice(apiservices, EXTERNAL_METRICS)
    try:
        prometheus.bearer_token = None
        with KedaStandIn(k8s_client, prefix).running():
            result = call_module('ai_conformance', {'checklist': CHECKLIST, 'functional': True, 'probes': {
                'namespace_prefix': prefix, 'timeout': 20, 'keda_prometheus_server': prometheus.url}}, env=k8s_env)
            # KEDA's HPA goes with its ScaledObject (the stand-in's garbage collector, as the real one)
            hpas = k8s_client.resources.get(api_version=HPA_API, kind='HorizontalPodAutoscaler')
            namespaces = [o['name'] for o in result.get('probe_objects') or [] if o['kind'] == 'Namespace']
            deadline = time.monotonic() + 5
            while any(hpas.get(namespace=n).to_dict()['items'] for n in namespaces) and time.monotonic() < deadline:
                time.sleep(0.2)
            left = [h['metadata']['name'] for n in namespaces for h in hpas.get(namespace=n).to_dict()['items']]
    finally:
        if made:
            kaito_standin.delete_and_wait(apiservices, EXTERNAL_METRICS)
    assert not result.get('failed'), result.get('msg')
    found = dict((r['id'], r) for r in result['requirements'])['pod_autoscaling']
    assert (found['status'], found['probe']) == ('Implemented', 'functional'), found
    assert 'the scaled pods requested no GPU' in found['notes']
    assert sorted(set(o['kind'] for o in result['probe_objects'])) == ['Deployment', 'Namespace', 'ScaledObject']
    assert all(o['deleted'] for o in result['probe_objects']) and namespaces and left == []


def test_the_keda_standin_checks_scaled_objects_as_keda_does(k8s_client, crds, prometheus):
    """KEDA's Ready False reasons and messages for a missing scale target, inverted replica bounds and a prometheus
    trigger without its query; a valid one gets KEDA's HPA, owned by it, and loses it with the ScaledObject."""
    prefix = 'aic-' + uuid.uuid4().hex[:6]
    namespace = prefix + '-keda'
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': namespace}})
    scaled_objects = k8s_client.resources.get(api_version=KEDA, kind='ScaledObject')
    hpas = k8s_client.resources.get(api_version=HPA_API, kind='HorizontalPodAutoscaler')
    keda = KedaStandIn(k8s_client, prefix, metrics_api=False)
    deployment = autoscaling_probe.scaled_deployment(namespace, 'target')
    cases = {
        'no-target': (dict(autoscaling_probe.scaled_object(namespace, 'no-target', 'missing', 'http://127.0.0.1:9')),
                      'ScaledObject doesn\'t have correct scaleTargetRef specification: deployments.apps "missing" not found'),
        'bounds': (autoscaling_probe.scaled_object(namespace, 'bounds', 'target', 'http://127.0.0.1:9'),
                   'ScaledObject doesn\'t have correct Idle/Min/Max Replica Counts specification: MinReplicaCount=3 must be less than MaxReplicaCount=2'),
        'no-query': (autoscaling_probe.scaled_object(namespace, 'no-query', 'target', 'http://127.0.0.1:9'),
                     'failed to ensure HPA is correctly created for ScaledObject: error parsing prometheus metadata: error parsing prometheus metadata: '
                     'missing required parameter "query" in [triggerMetadata]\nunable to set param "threshold" value "many": unable to unmarshal '
                     'to field type float64: invalid character \'m\' looking for beginning of value'),
    }
    cases['bounds'][0]['spec']['minReplicaCount'] = 3
    cases['no-query'][0]['spec']['triggers'][0]['metadata'].update(query=' ', threshold='many')
    try:
        k8s_client.resources.get(api_version='apps/v1', kind='Deployment').create(body=deployment, namespace=namespace)
        valid = autoscaling_probe.scaled_object(namespace, 'valid', 'target', prometheus.url)
        for body in [case[0] for case in cases.values()] + [valid]:
            scaled_objects.create(body=body, namespace=namespace)
        keda.step()
        for name, (body, message) in cases.items():
            found = scaled_objects.get(name=name, namespace=namespace).to_dict()
            ready = next(c for c in found['status']['conditions'] if c['type'] == 'Ready')
            assert (ready['status'], ready['reason'], ready['message']) == ('False', 'ScaledObjectCheckFailed', message), name
            assert found['metadata']['finalizers'] == ['finalizer.keda.sh'] and found['metadata']['labels']['scaledobject.keda.sh/name'] == name
        status = scaled_objects.get(name='valid', namespace=namespace).to_dict()['status']
        assert [c for c in status['conditions'] if c['type'] in ('Ready', 'Active')] == [
            {'type': 'Ready', 'status': 'True', 'reason': 'ScaledObjectReady', 'message': 'ScaledObject is defined correctly and is ready for scaling'},
            {'type': 'Active', 'status': 'True', 'reason': 'ScalerActive', 'message': 'Scaling is performed because triggers are active'}]
        assert (status['hpaName'], status['externalMetricNames'], status['originalReplicaCount']) == ('keda-hpa-valid', ['s0-prometheus'], 1)
        hpa = hpas.get(name='keda-hpa-valid', namespace=namespace).to_dict()
        assert [(r['kind'], r['name'], r['controller']) for r in hpa['metadata']['ownerReferences']] == [('ScaledObject', 'valid', True)]
        assert hpa['spec']['metrics'][0]['external'] == {
            'metric': {'name': 's0-prometheus', 'selector': {'matchLabels': {'scaledobject.keda.sh/name': 'valid'}}},
            'target': {'type': 'AverageValue', 'averageValue': '1'}}
        assert [h['metadata']['name'] for h in hpas.get(namespace=namespace).to_dict()['items']] == ['keda-hpa-valid']
        keda.step()  # the HPA controller: KEDA's metrics apiserver does not answer
        active = next(c for c in hpas.get(name='keda-hpa-valid', namespace=namespace).to_dict()['status']['conditions'] if c['type'] == 'ScalingActive')
        assert (active['status'], active['reason']) == ('False', 'FailedGetExternalMetric')
        assert active['message'] == (
            'the HPA was unable to compute the replica count: unable to get external metric %s/s0-prometheus/&LabelSelector{MatchLabels:'
            'map[string]string{scaledobject.keda.sh/name: valid,},MatchExpressions:[]LabelSelectorRequirement{},}: unable to fetch metrics from '
            'external metrics API: the server is currently unable to handle the request (get s0-prometheus.external.metrics.k8s.io)' % namespace)
        scaled_objects.delete(name='valid', namespace=namespace)
        keda.step()
        assert hpas.get(namespace=namespace).to_dict()['items'] == []
    finally:
        for item in scaled_objects.get(namespace=namespace).to_dict()['items']:
            scaled_objects.patch(name=item['metadata']['name'], namespace=namespace, content_type=kaito_standin.MERGE, body={'metadata': {'finalizers': None}})
            scaled_objects.delete(name=item['metadata']['name'], namespace=namespace)
        for hpa in hpas.get(namespace=namespace).to_dict()['items']:
            hpas.delete(name=hpa['metadata']['name'], namespace=namespace)
        k8s_client.resources.get(api_version='v1', kind='Namespace').delete(name=namespace)


def test_refuses_when_keda_is_not_installed(k8s_client, kube_apiserver, crds):
    """Last in the file: it removes the KEDA CRDs (a kind not served) and installs them again."""
    kaito_standin.remove_crds(k8s_client, KEDA_CRD_NAMES)
    try:
        # a client with fresh discovery, as the module makes one per run
        ctx = context(dynamic_client({'kubeconfig': str(kube_apiserver.kubeconfig)}), keda_prometheus_server='http://127.0.0.1:9')
        result = PROBES['pod_autoscaling'](ctx)
    finally:
        kaito_standin.install_crds(k8s_client, KEDA_CRDS)
    assert not result['ok'] and ctx.objects == []
    assert 'KEDA is not installed: set ai_scheduling_keda_install' in result['notes']
    assert checks(result) == {'KEDA installed': False}
    assert autoscaling_probe.KEDA_INSTALL == 'ai_scheduling_keda_install'
