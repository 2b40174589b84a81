# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The functional probe of `pod_autoscaling`: KEDA and the HorizontalPodAutoscaler scale a Deployment up and down
on an external metric that KEDA's metrics server reads from Prometheus.

The probe makes, in a fresh namespace, a Deployment of one pause pod (a tiny cpu request, no GPU), with
`probes.keda_identity_id` a TriggerAuthentication (Azure workload identity, as the ai_scheduling role makes it), and a
ScaledObject on the Deployment (1 to 2 replicas, no stabilization) whose one prometheus trigger queries
`probes.keda_prometheus_server` for the constant QUERY_UP with threshold THRESHOLD, so the HPA wants 2 replicas. It
waits for the ScaledObject to be Ready, for KEDA's HPA to be able to scale and active on the external metric, and for
2 replicas; then it changes the query to QUERY_DOWN and waits for 1 replica. Deleting the ScaledObject (cleanup)
deletes KEDA's HPA too (its owner reference).
"""

from __future__ import annotations

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.functional import (
    read_object, waited, evidence, labels, metadata, probe, unique)
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError, k8s_call, served
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import condition_met

REQUIREMENT = 'pod_autoscaling'
KEDA = 'keda.sh/v1alpha1'
PAUSE = 'registry.k8s.io/pause:3.10'
POD_CPU = '10m'
HPA_VERSIONS = ('autoscaling/v2', 'autoscaling/v2beta2')
QUERY_UP, QUERY_DOWN = 'vector(2)', 'vector(0)'
THRESHOLD = '1'  # a value of 2 over an average target of 1 per pod: 2 replicas
MIN_REPLICAS, MAX_REPLICAS = 1, 2
POLLING_SECONDS = 5
SERVER_SETTING = 'probes.keda_prometheus_server'
KEDA_INSTALL = 'ai_scheduling_keda_install'


def scaled_deployment(namespace, name):
    selector = {'app.kubernetes.io/name': name}
    return {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': metadata(REQUIREMENT, name, namespace), 'spec': {
        'replicas': MIN_REPLICAS, 'selector': {'matchLabels': selector},
        'template': {'metadata': {'labels': labels(REQUIREMENT, **selector)}, 'spec': {
            'terminationGracePeriodSeconds': 0,
            'containers': [{'name': 'pause', 'image': PAUSE,
                            'resources': {'requests': {'cpu': POD_CPU}, 'limits': {'cpu': POD_CPU}}}]}}}}


def trigger_authentication(namespace, name, identity_id):
    """Azure workload identity, the shape the ai_scheduling role gives KEDA's TriggerAuthentication."""
    return {'apiVersion': KEDA, 'kind': 'TriggerAuthentication', 'metadata': metadata(REQUIREMENT, name, namespace),
            'spec': {'podIdentity': {'provider': 'azure-workload', 'identityId': identity_id}}}


def prometheus_trigger(server, query, auth_name=None):
    trigger = {'type': 'prometheus', 'metadata': {'serverAddress': server, 'query': query, 'threshold': THRESHOLD}}
    if auth_name:
        trigger['authenticationRef'] = {'name': auth_name}
    return trigger


def scaled_object(namespace, name, target, server, auth_name=None):
    """The ai_scheduling role's ScaledObject shape, with no stabilization so the probe sees both scalings quickly."""
    no_window = {'stabilizationWindowSeconds': 0}
    return {'apiVersion': KEDA, 'kind': 'ScaledObject', 'metadata': metadata(REQUIREMENT, name, namespace), 'spec': {
        'scaleTargetRef': {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'name': target},
        'minReplicaCount': MIN_REPLICAS, 'maxReplicaCount': MAX_REPLICAS, 'pollingInterval': POLLING_SECONDS,
        'advanced': {'horizontalPodAutoscalerConfig': {'behavior': {'scaleUp': dict(no_window), 'scaleDown': dict(no_window)}}},
        'triggers': [prometheus_trigger(server, QUERY_UP, auth_name)]}}


def hpa_name(scaled):
    """KEDA's HPA of a ScaledObject: the name in its status, else KEDA's default."""
    return ((scaled or {}).get('status') or {}).get('hpaName') or 'keda-hpa-%s' % scaled['metadata']['name']


def external_value(hpa):
    """(metric name, value as the HPA saw it) of the first external metric in status.currentMetrics, or None."""
    for metric in ((hpa or {}).get('status') or {}).get('currentMetrics') or []:
        external = metric.get('external') or {}
        current = external.get('current') or {}
        value = current.get('averageValue', current.get('value'))
        if metric.get('type') == 'External' and value is not None:
            return (external.get('metric') or {}).get('name'), str(value)
    return None


def hpa_active(hpa, target=None):
    """(ok, why): the HPA scales Deployment `target` (when given), AbleToScale and ScalingActive True and an external
    metric value in status.currentMetrics."""
    name = hpa['metadata']['name']
    ref = (hpa.get('spec') or {}).get('scaleTargetRef') or {}
    if target and (ref.get('kind'), ref.get('name')) != ('Deployment', target):
        return False, 'HPA %s scales %s %s, not Deployment %s' % (name, ref.get('kind'), ref.get('name'), target)
    for ctype in ('AbleToScale', 'ScalingActive'):
        ok, why = condition_met(hpa, ctype)
        if not ok:
            return False, 'HPA %s: %s' % (name, why)
    seen = external_value(hpa)
    if seen is None:
        return False, 'HPA %s: no external metric value in status.currentMetrics' % name
    return True, 'HPA %s AbleToScale and ScalingActive, %s' % (name, _seen(seen))


def replicas_reached(deployment, want):
    """(ok, why): the Deployment's spec.replicas (what the HPA set through its scale) is `want`."""
    have = (deployment.get('spec') or {}).get('replicas')
    return have == want, 'Deployment %s has spec.replicas %s, want %d' % (deployment['metadata']['name'], have, want)


def _hpa_version(ctx):
    return next((v for v in HPA_VERSIONS if served(ctx.client, v, 'HorizontalPodAutoscaler')), HPA_VERSIONS[-1])


def _read_hpa(ctx, version, name, namespace):
    """KEDA's HPA, or None while KEDA has not made it."""
    resource = served(ctx.client, version, 'HorizontalPodAutoscaler')
    found = k8s_call('read HorizontalPodAutoscaler %s' % name, lambda: ctx.client.get(resource, name=name, namespace=namespace), not_found=None)
    return found.to_dict() if found is not None else None


def _seen(value):
    """The metric value the HPA reports (an AverageValue target: the value per current replica)."""
    return 'the HPA saw %s at %s per pod' % value if value else 'no external metric value in the HPA status'


def refused(check, call, observed, notes):
    return {'ok': False, 'evidence': [evidence(check, call, observed, False)], 'notes': notes}


@probe(REQUIREMENT)
def _run(ctx, found):
    timeout = ctx.settings['timeout']
    server, identity = ctx.settings['keda_prometheus_server'], ctx.settings['keda_identity_id']
    namespace = ctx.namespace()
    target, name = unique('aic-scaled'), unique('aic-scaler')
    ctx.create(scaled_deployment(namespace, target))
    auth_name = None
    if identity:
        auth_name = ctx.create(trigger_authentication(namespace, unique('aic-keda-auth'), identity))['metadata']['name']
    ctx.create(scaled_object(namespace, name, target, server, auth_name))
    found.append(evidence('objects', 'create Deployment %s/%s (1 replica, %s, cpu %s, no GPU)%s and ScaledObject %s (%d-%d replicas, '
                          'prometheus trigger %s at %s, threshold %s%s)' % (
                              namespace, target, PAUSE, POD_CPU, ', TriggerAuthentication %s (azure-workload, identityId %s)' % (auth_name, identity)
                              if auth_name else '', name, MIN_REPLICAS, MAX_REPLICAS, QUERY_UP, server, THRESHOLD,
                              ', authenticationRef %s' % auth_name if auth_name else ''), 'created', True))
    why = waited(ctx, lambda: condition_met(read_object(ctx, KEDA, 'ScaledObject', name, namespace), 'Ready'), timeout,
                 'ScaledObject %s/%s to be Ready' % (namespace, name), found, 'ScaledObject Ready')
    found.append(evidence('ScaledObject Ready', 'read ScaledObject %s/%s' % (namespace, name), why, True))

    version = _hpa_version(ctx)
    hpa = hpa_name(read_object(ctx, KEDA, 'ScaledObject', name, namespace))

    def active():
        obj = _read_hpa(ctx, version, hpa, namespace)
        return (False, 'HPA %s not made yet' % hpa) if obj is None else hpa_active(obj, target)
    why = waited(ctx, active, timeout, '%s HorizontalPodAutoscaler %s/%s to be AbleToScale and ScalingActive on an external metric'
                 % (version, namespace, hpa), found, 'HPA active on the external metric')
    found.append(evidence('HPA active on the external metric', 'read %s HorizontalPodAutoscaler %s/%s' % (version, namespace, hpa), why, True))

    def scaled_to(want):
        def look():
            return replicas_reached(read_object(ctx, 'apps/v1', 'Deployment', target, namespace), want)
        return look
    waited(ctx, scaled_to(MAX_REPLICAS), timeout, 'Deployment %s/%s to be scaled to %d replicas' % (namespace, target, MAX_REPLICAS),
           found, 'scaled up')
    up_value = external_value(_read_hpa(ctx, version, hpa, namespace))
    found.append(evidence('scaled up', 'query %s, threshold %s: wait for Deployment %s/%s spec.replicas %d' % (
        QUERY_UP, THRESHOLD, namespace, target, MAX_REPLICAS), 'spec.replicas %d; %s' % (MAX_REPLICAS, _seen(up_value)), True))

    resource = served(ctx.client, KEDA, 'ScaledObject')
    patch = {'spec': {'triggers': [prometheus_trigger(server, QUERY_DOWN, auth_name)]}}
    k8s_call('patch ScaledObject %s/%s' % (namespace, name), lambda: ctx.client.patch(
        resource, body=patch, name=name, namespace=namespace, content_type='application/merge-patch+json'))
    waited(ctx, scaled_to(MIN_REPLICAS), timeout, 'Deployment %s/%s to be scaled back to %d replica' % (namespace, target, MIN_REPLICAS),
           found, 'scaled down')
    down_value = external_value(_read_hpa(ctx, version, hpa, namespace))
    found.append(evidence('scaled down', 'patch ScaledObject %s/%s query %s: wait for Deployment %s/%s spec.replicas %d' % (
        namespace, name, QUERY_DOWN, namespace, target, MIN_REPLICAS), 'spec.replicas %d; %s' % (MIN_REPLICAS, _seen(down_value)), True))
    auth = 'as workload identity %s (TriggerAuthentication %s)' % (identity, auth_name) if auth_name else 'without authentication'
    notes = ('the HPA (%s %s) scaled Deployment %s/%s from %d to %d replicas and back to %d on the external metric %s, served by KEDA from '
             'Prometheus at %s queried %s; the metric came from a constant query (%s, then %s), so this shows the HPA -> external metrics '
             'API -> KEDA -> Prometheus chain and its authentication, not scaling on a model\'s own metric; the scaled pods requested no '
             'GPU (a GPU scale-up was not tried)' % (
                 version, hpa, namespace, target, MIN_REPLICAS, MAX_REPLICAS, MIN_REPLICAS, (up_value or ('an external metric',))[0], server,
                 auth, QUERY_UP, QUERY_DOWN))
    return {'ok': all(e['ok'] for e in found), 'notes': notes}


def pod_autoscaling(ctx):
    """Refuse before making anything without a Prometheus server for KEDA, or without KEDA; else run the probe."""
    if not ctx.settings.get('keda_prometheus_server'):
        return refused('KEDA prometheus server', SERVER_SETTING, 'empty', 'pod_autoscaling probe not run: set %s, the Prometheus URL KEDA '
                       'in the cluster queries (on AKS the Azure Monitor workspace query endpoint)' % SERVER_SETTING)
    try:
        keda = served(ctx.client, KEDA, 'ScaledObject')
    except K8sError as exc:
        return refused('KEDA installed', 'GET /apis/%s' % KEDA, str(exc), 'pod_autoscaling probe failed: %s' % exc)
    if keda is None:
        return refused('KEDA installed', 'GET /apis/%s' % KEDA, 'ScaledObject not served',
                       'pod_autoscaling probe not run: KEDA is not installed: set %s (%s ScaledObject is not served)' % (KEDA_INSTALL, KEDA))
    return _run(ctx)


PROBES = {'pod_autoscaling': pod_autoscaling}
