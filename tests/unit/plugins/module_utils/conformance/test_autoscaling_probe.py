"""The pure parts of the `pod_autoscaling` functional probe (autoscaling_probe.py) and its refusals on a fake API: the
objects it makes, how it reads KEDA's HPA, and that without its setting or without KEDA it makes nothing; and the pure
rules of its KEDA and HPA controller stand-in (tests/integration/keda_standin.py)."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import autoscaling_probe as probe
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.context import ProbeContext
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.functional import PROBE_LABEL
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.probes import PROBES

from tests.integration import keda_standin as standin
from tests.unit.plugins.module_utils.k8s.fakes import FakeCluster

SERVER = 'https://amw.westeurope.prometheus.monitor.azure.com'


def hpa(conditions, metrics=None, name='keda-hpa-s'):
    return {'metadata': {'name': name}, 'status': {'conditions': conditions, 'currentMetrics': metrics or []}}


def cond(ctype, status='True', reason='R', message='m'):
    return {'type': ctype, 'status': status, 'reason': reason, 'message': message}


EXTERNAL = [{'type': 'External', 'external': {'metric': {'name': 's0-prometheus'}, 'current': {'averageValue': '2'}}}]


def test_registered_by_requirement():
    assert PROBES['pod_autoscaling'] is probe.pod_autoscaling
    assert probe.PROBES == {'pod_autoscaling': probe.pod_autoscaling}


def test_the_deployment_asks_for_no_gpu():
    body = probe.scaled_deployment('ns', 'aic-scaled-1')
    assert body['spec']['replicas'] == 1 and body['metadata']['labels'][PROBE_LABEL] == 'pod_autoscaling'
    container = body['spec']['template']['spec']['containers'][0]
    assert container['image'] == 'registry.k8s.io/pause:3.10'
    assert container['resources'] == {'requests': {'cpu': '10m'}, 'limits': {'cpu': '10m'}}
    assert body['spec']['selector']['matchLabels'].items() <= body['spec']['template']['metadata']['labels'].items()


def test_the_scaled_object_has_the_roles_shape_and_no_stabilization():
    body = probe.scaled_object('ns', 'aic-scaler-1', 'aic-scaled-1', SERVER)
    spec = body['spec']
    assert spec['scaleTargetRef'] == {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'name': 'aic-scaled-1'}
    assert (spec['minReplicaCount'], spec['maxReplicaCount'], spec['pollingInterval']) == (1, 2, 5)
    assert spec['advanced']['horizontalPodAutoscalerConfig']['behavior'] == {
        'scaleUp': {'stabilizationWindowSeconds': 0}, 'scaleDown': {'stabilizationWindowSeconds': 0}}
    assert spec['triggers'] == [{'type': 'prometheus', 'metadata': {'serverAddress': SERVER, 'query': 'vector(2)', 'threshold': '1'}}]
    with_auth = probe.scaled_object('ns', 'aic-scaler-1', 'aic-scaled-1', SERVER, 'aic-keda-auth-1')
    assert with_auth['spec']['triggers'][0]['authenticationRef'] == {'name': 'aic-keda-auth-1'}


def test_the_trigger_authentication_is_azure_workload_identity():
    body = probe.trigger_authentication('ns', 'auth', 'client-id')
    assert body['spec'] == {'podIdentity': {'provider': 'azure-workload', 'identityId': 'client-id'}}
    assert body['metadata']['namespace'] == 'ns'


def test_hpa_name_from_status_or_keda_default():
    assert probe.hpa_name({'metadata': {'name': 's'}, 'status': {'hpaName': 'custom'}}) == 'custom'
    assert probe.hpa_name({'metadata': {'name': 's'}}) == 'keda-hpa-s'


def test_external_value():
    assert probe.external_value(hpa([], EXTERNAL)) == ('s0-prometheus', '2')
    value_only = [{'type': 'External', 'external': {'metric': {'name': 's0-prometheus'}, 'current': {'value': '3'}}}]
    assert probe.external_value(hpa([], value_only)) == ('s0-prometheus', '3')
    assert probe.external_value(hpa([], [{'type': 'Resource', 'resource': {'name': 'cpu', 'current': {'averageValue': '1'}}}])) is None
    assert probe.external_value(None) is None


def test_hpa_active_needs_both_conditions_and_a_metric_value():
    ok, why = probe.hpa_active(hpa([cond('AbleToScale'), cond('ScalingActive')], EXTERNAL))
    assert ok and why == 'HPA keda-hpa-s AbleToScale and ScalingActive, the HPA saw s0-prometheus at 2 per pod'
    ok, why = probe.hpa_active(hpa([cond('AbleToScale'), cond('ScalingActive', 'False', 'FailedGetExternalMetric', 'unable')], EXTERNAL))
    assert not ok and why == 'HPA keda-hpa-s: condition ScalingActive is False (FailedGetExternalMetric: unable)'
    ok, why = probe.hpa_active(hpa([cond('ScalingActive')], EXTERNAL))
    assert not ok and 'AbleToScale not reported yet' in why
    ok, why = probe.hpa_active(hpa([cond('AbleToScale'), cond('ScalingActive')]))
    assert not ok and why == 'HPA keda-hpa-s: no external metric value in status.currentMetrics'
    other = dict(hpa([cond('AbleToScale'), cond('ScalingActive')], EXTERNAL), spec={'scaleTargetRef': {'kind': 'Deployment', 'name': 'other'}})
    assert probe.hpa_active(other, 'mine') == (False, 'HPA keda-hpa-s scales Deployment other, not Deployment mine')
    assert probe.hpa_active(other, 'other')[0]


def test_replicas_reached():
    deployment = {'metadata': {'name': 'd'}, 'spec': {'replicas': 1}}
    assert probe.replicas_reached(deployment, 1) == (True, 'Deployment d has spec.replicas 1, want 1')
    assert probe.replicas_reached(deployment, 2) == (False, 'Deployment d has spec.replicas 1, want 2')


def test_refuses_without_a_prometheus_server_before_anything():
    client = FakeCluster()
    ctx = ProbeContext(client, {'timeout': 1}, sleep=0.01)
    result = probe.pod_autoscaling(ctx)
    assert result['ok'] is False and ctx.objects == [] and client.objects == {}
    assert result['notes'].startswith('pod_autoscaling probe not run: set probes.keda_prometheus_server')
    assert result['evidence'] == [{'check': 'KEDA prometheus server', 'call': 'probes.keda_prometheus_server', 'observed': 'empty', 'ok': False}]


def test_refuses_without_keda_before_anything():
    client = FakeCluster()
    ctx = ProbeContext(client, {'timeout': 1, 'keda_prometheus_server': SERVER}, sleep=0.01)
    result = probe.pod_autoscaling(ctx)
    assert result['ok'] is False and ctx.objects == [] and client.objects == {}
    assert 'KEDA is not installed: set ai_scheduling_keda_install (keda.sh/v1alpha1 ScaledObject is not served)' in result['notes']
    assert [e['check'] for e in result['evidence']] == ['KEDA installed']


# ------------------------------------------------------------------------------------- the KEDA stand-in's pure rules

def test_standin_prometheus_metadata_as_keda_reads_it():
    parsed = standin.prometheus_metadata({'metadata': {'serverAddress': SERVER, 'query': 'vector(2)', 'threshold': '1.5'}})
    assert (parsed['threshold'], parsed['activationThreshold'], parsed['ignoreNullValues']) == (1.5, 0.0, True)
    with pytest.raises(ValueError) as caught:
        standin.prometheus_metadata({'metadata': {'serverAddress': ' ', 'query': 'up', 'threshold': 'NaN'}})
    assert str(caught.value) == (
        'error parsing prometheus metadata: error parsing prometheus metadata: missing required parameter "serverAddress" in [triggerMetadata]\n'
        'unable to set param "threshold" value "NaN": unable to unmarshal to field type float64: invalid character \'N\' looking for beginning of value')


def test_standin_hpa_arithmetic():
    assert standin.desired_replicas(2.0, 1.0, 1) == 2
    assert standin.desired_replicas(2.0, 1.0, 2) == 2  # ratio 1: within the tolerance
    assert standin.desired_replicas(2.1, 1.0, 2) == 2  # 5 % off: within the 10 % tolerance
    assert standin.desired_replicas(0.0, 1.0, 2) == 0
    assert standin.desired_replicas(5.0, 2.0, 0) == 3
    assert standin.milli_quantity(2) == '2' and standin.milli_quantity(1.5) == '1500m' and standin.milli_quantity(0) == '0'
    assert standin.selector_text({'matchLabels': {'scaledobject.keda.sh/name': 's'}}) == (
        '&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: s,},MatchExpressions:[]LabelSelectorRequirement{},}')


def test_standin_scaling_rules():
    up = {'selectPolicy': 'Max', 'policies': [{'type': 'Pods', 'value': 4, 'periodSeconds': 15}, {'type': 'Percent', 'value': 100, 'periodSeconds': 15}]}
    down = {'selectPolicy': 'Max', 'policies': [{'type': 'Percent', 'value': 100, 'periodSeconds': 15}]}
    assert standin.rate_limited(1, 2, 1, 2, up, down, [], 100.0) == (2, 'DesiredWithinRange', 'the desired count is within the acceptable range')
    assert standin.rate_limited(1, 9, 1, 20, up, down, [], 100.0)[:2] == (5, 'ScaleUpLimit')
    assert standin.rate_limited(2, 9, 1, 3, up, down, [], 100.0)[:2] == (3, 'TooManyReplicas')
    assert standin.rate_limited(2, 0, 1, 3, up, down, [], 100.0)[:2] == (1, 'TooFewReplicas')
    assert standin.rate_limited(5, 1, 1, 9, up, {'policies': [{'type': 'Pods', 'value': 1, 'periodSeconds': 60}]}, [], 100.0)[:2] == (4, 'ScaleDownLimit')
    assert standin.rate_limited(2, 9, 1, 9, dict(up, selectPolicy='Disabled'), down, [], 100.0)[:2] == (2, 'ScaleUpLimit')
    assert standin.bounded(9, 1, 20, 4)[:2] == (4, 'ScaleUpLimit') and standin.bounded(0, 1, 20, 4)[:2] == (1, 'TooFewReplicas')
