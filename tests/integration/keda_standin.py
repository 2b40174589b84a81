"""A stand-in for KEDA v2.20 and for Kubernetes' HorizontalPodAutoscaler controller on the test apiserver (1.20, which
runs no controllers), for the functional probe of `pod_autoscaling` (plugins/module_utils/conformance/autoscaling_probe.py).
It acts only in namespaces whose name starts with `namespace_prefix`, so other tests on the shared bed are left alone,
and it is as strict as the real things where the probe could tell the difference. It plays:

- KEDA's operator for ScaledObjects (keda.sh/v1alpha1): the finalizer ``finalizer.keda.sh`` and the label
  ``scaledobject.keda.sh/name``; status conditions initialised as KEDA does (Ready, Active, Fallback Unknown, Paused
  False; KEDA's conditions carry no observedGeneration); then its checks in KEDA's order, each failure written as
  Ready False, reason ``ScaledObjectCheckFailed``, message ``<KEDA's message>: <error>`` (Active Unknown
  ``UnknownState``): the scale target's name, the target's existence (``ScaledObject doesn't have correct
  scaleTargetRef specification: deployments.apps "<name>" not found``), the replica bounds (``ScaledObject doesn't
  have correct Idle/Min/Max Replica Counts specification: MinReplicaCount=3 must be less than MaxReplicaCount=2``),
  the triggers (none, or a trigger name twice), the prometheus scaler's metadata (``failed to ensure HPA is correctly
  created for ScaledObject: error parsing prometheus metadata: error parsing prometheus metadata: missing required
  parameter "query" in [triggerMetadata]``; a blank value counts as missing; several problems joined with a newline
  as Go's errors.Join does). These texts are KEDA v2.20.2's (controllers/keda/scaledobject_controller.go, hpa.go,
  apis/keda/v1alpha1, pkg/scalers/prometheus_scaler.go, pkg/scalers/scalersconfig/typed_config.go); the text after
  "unable to unmarshal to field type float64: " for a threshold that is not a number is ours (Go's JSON decoder
  words it differently case by case), and so is the refusal of any trigger type but ``prometheus`` (not played).
  An ``authenticationRef`` to a TriggerAuthentication that does not exist is, as in KEDA, no error: KEDA logs it and
  queries without an identity. A valid ScaledObject gets Fallback False ``NoFallbackFound`` and status ``hpaName``,
  ``externalMetricNames`` (``s0-prometheus``), ``scaleTargetKind``, ``scaleTargetGVKR``, ``originalReplicaCount``;
  then KEDA's scale loop (pkg/scaling/executor/scale_scaledobjects.go; here every step, not every pollingInterval)
  queries each trigger: Active True ``ScalerActive`` (a value above ``activationThreshold``) or False
  ``ScalerNotActive``; Ready True ``ScaledObjectReady`` "ScaledObject is defined correctly and is ready for scaling",
  or, when a query failed, False ``TriggerError`` "Triggers defined in ScaledObject are not working correctly" (none
  active; no fallback is played) or Unknown ``PartialTriggerError`` (another trigger active).
- KEDA's HPA: ``keda-hpa-<name>`` (or ``advanced.horizontalPodAutoscalerConfig.name``), autoscaling/v2beta2 on this
  bed (KEDA v2.20 writes autoscaling/v2, which Kubernetes 1.20 does not serve), KEDA's labels, the ScaledObject as
  its controller owner, scaleTargetRef, min (``minReplicaCount``, at least 1) and max (default 100), the behavior,
  one External metric per trigger ``s<index>-prometheus`` with selector ``scaledobject.keda.sh/name: <name>`` and
  target AverageValue = threshold; it is kept in step with the ScaledObject. The garbage collector: KEDA's HPA goes
  when its ScaledObject does (owner reference), and the finalizer is dropped when a ScaledObject is deleted.
- KEDA's metrics server: each value is a real HTTP GET ``<serverAddress>/api/v1/query?query=...&time=<RFC 3339>``, as
  KEDA's prometheus scaler sends it; with a TriggerAuthentication of provider ``azure-workload`` the request carries
  ``Authorization: Bearer <identity_tokens[identityId]>`` (playing the Entra token KEDA gets for that identity; the
  Prometheus stand-in's ``bearer_token`` plays the workspace that accepts only it). KEDA's rules for the answer:
  a status outside 2xx is ``prometheus query api returned error. status: <code>``; more than one element is
  ``prometheus query <query> returned multiple elements``; an empty result or NaN/Inf is 0 with ``ignoreNullValues``
  (KEDA's default, true), else KEDA's error.
- Kubernetes' HPA controller for KEDA's HPAs (pkg/controller/podautoscaler/horizontal.go and replica_calculator.go):
  the current count is the target's ``spec.replicas`` (its scale), the per-pod ratio uses ``status.replicas`` (this
  bed has no Deployment controller, so the stand-in writes a Deployment's ``status.replicas`` = ``spec.replicas`` for
  the Deployments its HPAs target); a target at 0 replicas is ``ScalingDisabled``, one outside [min, max] is brought
  inside without metrics; otherwise desired = ceil(value / averageValue) outside the 10 % tolerance, then the
  behavior's stabilization windows (scale-down 300 s when unset) and scaling policies (rates, selectPolicy), or
  without a behavior the 300 s scale-down window and the scale-up limit max(2 x current, 4), and [min, max]; applied
  by patching ``spec.replicas`` (in place of the scale subresource). Status ``currentReplicas``, ``desiredReplicas``,
  ``currentMetrics`` (External, ``current.averageValue`` = value / ``status.replicas``), ``lastScaleTime``, and the
  conditions with the controller's reasons and messages, each kept in place with its lastTransitionTime until its
  status changes: AbleToScale (``SucceededGetScale``, ``FailedGetScale``, ``ReadyForNewScale``,
  ``ScaleUpStabilized``, ``ScaleDownStabilized``, ``SucceededRescale``), ScalingActive (``ValidMetricFound``,
  ``FailedGetExternalMetric``, ``ScalingDisabled``), ScalingLimited (``DesiredWithinRange``, ``TooFewReplicas``,
  ``TooManyReplicas``, ``ScaleUpLimit``, ``ScaleDownLimit``).

Not played: other scalers, ScaledJobs, ClusterTriggerAuthentications, pausing, fallback, scaling modifiers, scale to
zero, pods (no pod is made: a Deployment's replicas are a number here), the polling interval (every step queries).

Faulty modes for tests: ``metrics_reachable=False`` (KEDA cannot reach Prometheus: each query fails as Go's HTTP
client fails on a refused connection, so the scale loop makes Ready False ``TriggerError`` and the HPA is
ScalingActive False ``FailedGetExternalMetric``), ``metrics_api=False`` (KEDA reaches Prometheus but its metrics
apiserver does not answer the HPA: ScalingActive False ``FailedGetExternalMetric``, "the server is currently unable
to handle the request (get s0-prometheus.external.metrics.k8s.io)", client-go's wording of an unavailable aggregated
API as we know it, while the ScaledObject stays Ready) and ``scale=False`` (an HPA controller that computes and
reports but never changes the target's replicas).

    with KedaStandIn(k8s_client, 'aic-1234').running():
        ...
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request

from kubernetes.client.exceptions import ApiException
from kubernetes.utils.quantity import parse_quantity

from tests.integration import background
from tests.integration.kaito_standin import MERGE, now

KEDA = 'keda.sh/v1alpha1'
HPA_API = 'autoscaling/v2beta2'
FINALIZER = 'finalizer.keda.sh'
NAME_LABEL = 'scaledobject.keda.sh/name'
KEDA_VERSION = '2.20.2'
TOLERANCE = 0.1
DEFAULT_MAX = 100
DEFAULT_SCALE_DOWN_WINDOW = 300
READY_MESSAGE = 'ScaledObject is defined correctly and is ready for scaling'
SCALE_TARGET_ERR = "ScaledObject doesn't have correct scaleTargetRef specification"
BOUNDS_ERR = "ScaledObject doesn't have correct Idle/Min/Max Replica Counts specification"
TRIGGERS_ERR = "ScaledObject doesn't have correct triggers specification"
HPA_ERR = 'failed to ensure HPA is correctly created for ScaledObject'
REQUIRED = ('serverAddress', 'query', 'threshold')


class CheckFailed(Exception):
    """A check of KEDA's reconciler failed: (KEDA's message, the error)."""

    def __init__(self, message, error):
        super().__init__('%s: %s' % (message, error))


class QueryError(Exception):
    pass


def api(client, kind, api_version='v1'):
    return client.resources.get(api_version=api_version, kind=kind)


def keda_condition(ctype, status, reason='', message=''):
    """KEDA's condition: no lastTransitionTime, no observedGeneration."""
    cond = {'type': ctype, 'status': status}
    if reason:
        cond['reason'] = reason
    if message:
        cond['message'] = message
    return cond


def initial_conditions():
    return [keda_condition('Ready', 'Unknown'), keda_condition('Active', 'Unknown'), keda_condition('Fallback', 'Unknown'),
            keda_condition('Paused', 'False')]


def set_condition(conditions, cond):
    return [cond if c['type'] == cond['type'] else c for c in conditions] + ([] if any(c['type'] == cond['type'] for c in conditions) else [cond])


def go_json_float_error(text):
    """Our wording of the error Go's JSON decoder gives for a float that does not parse (see the module docstring)."""
    return 'invalid character %r looking for beginning of value' % text[:1]


def parse_float(text):
    """A number as KEDA's typed config reads it (JSON): a plain decimal, no NaN or Inf."""
    def go_refuses(constant):  # Go's JSON has no NaN or Infinity
        raise ValueError(constant)
    try:
        value = json.loads(text, parse_constant=go_refuses)
    except ValueError:
        raise ValueError(go_json_float_error(text))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError('json: cannot unmarshal %s into Go value of type float64' % type(value).__name__)
    return float(value)


def prometheus_metadata(trigger):
    """KEDA's prometheus metadata from a trigger, or ValueError with KEDA's joined errors."""
    meta = dict((k, str(v).strip()) for k, v in (trigger.get('metadata') or {}).items())
    problems, parsed = [], {}
    for name in REQUIRED:
        if not meta.get(name):
            problems.append('missing required parameter "%s" in [triggerMetadata]' % name)
    for name, default in (('threshold', None), ('activationThreshold', 0.0)):
        if meta.get(name):
            try:
                parsed[name] = parse_float(meta[name])
            except ValueError as exc:
                problems.append('unable to set param "%s" value "%s": unable to unmarshal to field type float64: %s' % (name, meta[name], exc))
        else:
            parsed[name] = default
    ignore = meta.get('ignoreNullValues') or 'true'
    if ignore.lower() not in ('1', 't', 'true', '0', 'f', 'false'):
        problems.append('unable to set param "ignoreNullValues" value "%s": unable to parse boolean value "%s": strconv.ParseBool: parsing "%s": '
                        'invalid syntax' % (ignore, ignore, ignore))
    if problems:
        raise ValueError('error parsing prometheus metadata: error parsing prometheus metadata: %s' % '\n'.join(problems))
    return dict(parsed, serverAddress=meta['serverAddress'], query=meta['query'], ignoreNullValues=ignore.lower() in ('1', 't', 'true'))


def milli_quantity(value):
    """A value as KEDA writes a metric (milli units): 2 -> "2", 1.5 -> "1500m"."""
    milli = int(round(value * 1000))
    return str(milli // 1000) if milli % 1000 == 0 else '%dm' % milli


def selector_text(selector):
    """The HPA controller's rendering of a LabelSelector in its messages (Go's %v of the struct)."""
    labels = ','.join('%s: %s' % (k, v) for k, v in sorted(((selector or {}).get('matchLabels') or {}).items()))
    return '&LabelSelector{MatchLabels:map[string]string{%s,},MatchExpressions:[]LabelSelectorRequirement{},}' % labels


def derivative(want, have):
    """KEDA's test whether its HPA needs an update (Kubernetes' Semantic.DeepDerivative): what `want` leaves unset may
    differ (the apiserver's defaults)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(derivative(v, have.get(k)) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(derivative(w, h) for w, h in zip(want, have))
    return want == have


def desired_replicas(value, average, current):
    """The HPA's replica count for an external AverageValue metric: unchanged within the tolerance, else ceil(value / target)."""
    if current and abs(value / (average * current) - 1.0) <= TOLERANCE:
        return current
    return int(math.ceil(value / average))


def set_hpa_condition(conditions, ctype, status, reason, message):
    """The controller's setConditionInList: the condition replaced in place (added at the end when new); its
    lastTransitionTime changes only when its status does."""
    found = next((c for c in conditions if c['type'] == ctype), None)
    cond = {'type': ctype, 'status': status, 'reason': reason, 'message': message,
            'lastTransitionTime': found['lastTransitionTime'] if found and found.get('status') == status and found.get('lastTransitionTime') else now()}
    return [cond if c['type'] == ctype else c for c in conditions] + ([] if found else [cond])


def bounded(desired, low, high, up_limit):
    """convertDesiredReplicasWithRules (an HPA without behavior): (desired, reason, message)."""
    if high > up_limit:
        top, reason, message = up_limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate'
    else:
        top, reason, message = high, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'
    if desired < low:
        return low, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'
    if desired > top:
        return top, reason, message
    return desired, 'DesiredWithinRange', 'the desired count is within the acceptable range'


def _changed(events, period, moment, upward):
    return sum(abs(change) for t, change in events if moment - t < period and (change > 0) == upward)


def rate_limited(current, desired, low, high, up_rules, down_rules, events, moment):
    """convertDesiredReplicasWithBehaviorRate: the scaling policies' rates and the bounds; (desired, reason, message).
    `events` are (time, change) of this HPA's rescales."""
    if desired > current:
        limits = []
        for policy in up_rules.get('policies') or []:
            start = current - _changed(events, policy['periodSeconds'], moment, True) + _changed(events, policy['periodSeconds'], moment, False)
            limits.append(start + policy['value'] if policy['type'] == 'Pods' else int(math.ceil(start * (1 + policy['value'] / 100.0))))
        select = up_rules.get('selectPolicy', 'Max')
        limit = current if select == 'Disabled' or not limits else (min(limits) if select == 'Min' else max(limits))
        limit = max(limit, current)
        if high > limit:
            top, reason, message = limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate'
        else:
            top, reason, message = high, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'
        if desired > top:
            return top, reason, message
    elif desired < current:
        limits = []
        for policy in down_rules.get('policies') or []:
            start = current - _changed(events, policy['periodSeconds'], moment, True) + _changed(events, policy['periodSeconds'], moment, False)
            limits.append(start - policy['value'] if policy['type'] == 'Pods' else int(start * (1 - policy['value'] / 100.0)))
        select = down_rules.get('selectPolicy', 'Max')
        limit = current if select == 'Disabled' or not limits else (max(limits) if select == 'Min' else min(limits))
        limit = min(limit, current)
        if low < limit:
            bottom, reason, message = limit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate'
        else:
            bottom, reason, message = low, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'
        if desired < bottom:
            return bottom, reason, message
    return desired, 'DesiredWithinRange', 'the desired count is within the acceptable range'


class KedaStandIn:
    """KEDA and the HPA controller for the probes' namespaces (a stand-in): see the module's docstring."""

    def __init__(self, client, namespace_prefix, metrics_reachable=True, metrics_api=True, scale=True, identity_tokens=None):
        self.client = client
        self.prefix = namespace_prefix
        self.metrics_reachable = metrics_reachable
        self.metrics_api = metrics_api
        self.scale = scale
        self.identity_tokens = dict(identity_tokens or {})
        self.scaled_objects = api(client, 'ScaledObject', KEDA)
        self.auths = api(client, 'TriggerAuthentication', KEDA)
        self.hpas = api(client, 'HorizontalPodAutoscaler', HPA_API)
        self.deployments = api(client, 'Deployment', 'apps/v1')
        self.recommendations = {}  # HPA uid -> [(time, proposal)], for the stabilization windows
        self.events = {}  # HPA uid -> [(time, replica change)], for the scaling policies' rates
        self.queries = []  # (url, authorization) of every query the metrics server sent

    def ours(self, items):
        return [item for item in items if item['metadata'].get('namespace', '').startswith(self.prefix)]

    def step(self):
        live = {}
        for scaled in self.ours(self.scaled_objects.get().to_dict()['items']):
            if scaled['metadata'].get('deletionTimestamp'):
                self.finalize(scaled)
                continue
            live[scaled['metadata']['uid']] = scaled
            with contextlib.suppress(ApiException):
                live[scaled['metadata']['uid']] = self.reconcile(scaled)
        hpas = self.ours(self.hpas.get().to_dict()['items'])
        for hpa in hpas:
            owner = next((r for r in hpa['metadata'].get('ownerReferences') or [] if r.get('kind') == 'ScaledObject' and r.get('controller')), None)
            if owner is None:
                continue
            if owner['uid'] not in live:
                with contextlib.suppress(ApiException):
                    self.hpas.delete(name=hpa['metadata']['name'], namespace=hpa['metadata']['namespace'])
                continue
            with contextlib.suppress(ApiException):
                self.autoscale(hpa, live[owner['uid']])

    # ------------------------------------------------------------------------------------------------- the operator

    def finalize(self, scaled):
        meta = scaled['metadata']
        if FINALIZER in (meta.get('finalizers') or []):
            kept = [f for f in meta['finalizers'] if f != FINALIZER]
            with contextlib.suppress(ApiException):
                self.scaled_objects.patch(name=meta['name'], namespace=meta['namespace'], content_type=MERGE,
                                          body={'metadata': {'finalizers': kept or None, 'resourceVersion': meta['resourceVersion']}})

    def reconcile(self, scaled):
        meta = scaled['metadata']
        if FINALIZER not in (meta.get('finalizers') or []) or (meta.get('labels') or {}).get(NAME_LABEL) != meta['name']:
            scaled = self.scaled_objects.patch(name=meta['name'], namespace=meta['namespace'], content_type=MERGE, body={'metadata': {
                'finalizers': (meta.get('finalizers') or []) + ([] if FINALIZER in (meta.get('finalizers') or []) else [FINALIZER]),
                'labels': {NAME_LABEL: meta['name']}, 'resourceVersion': meta['resourceVersion']}}).to_dict()
        status = dict(scaled.get('status') or {})
        conditions = status.get('conditions') or []
        if not all(any(c['type'] == t for c in conditions) for t in ('Ready', 'Active', 'Fallback', 'Paused')):
            conditions = initial_conditions()
        try:
            target, hpa_name, metric_names = self.check(scaled)
        except CheckFailed as exc:
            conditions = set_condition(conditions, keda_condition('Ready', 'False', 'ScaledObjectCheckFailed', str(exc)))
            conditions = set_condition(conditions, keda_condition('Active', 'Unknown', 'UnknownState', 'ScaledObject check failed'))
        else:
            conditions = self.scale_loop(scaled, conditions)
            status.update(hpaName=hpa_name, externalMetricNames=metric_names, scaleTargetKind='apps/v1.Deployment',
                          scaleTargetGVKR={'group': 'apps', 'version': 'v1', 'kind': 'Deployment', 'resource': 'deployments'})
            if status.get('originalReplicaCount') is None:
                status['originalReplicaCount'] = target['spec'].get('replicas', 1)
        conditions = set_condition(conditions, keda_condition('Fallback', 'False', 'NoFallbackFound', 'No fallbacks are active on this scaled object'))
        status['conditions'] = conditions
        if status != (scaled.get('status') or {}):
            scaled = self.scaled_objects.status.patch(name=meta['name'], namespace=meta['namespace'], content_type=MERGE,
                                                      body={'status': status}).to_dict()
        return scaled

    def check(self, scaled):
        """KEDA's checks in its order; (target Deployment, HPA name, external metric names) or CheckFailed."""
        meta, spec = scaled['metadata'], scaled['spec']
        ref = spec.get('scaleTargetRef') or {}
        if not ref.get('name'):
            raise CheckFailed(SCALE_TARGET_ERR, 'ScaledObject.spec.scaleTargetRef.name is missing')
        if (ref.get('apiVersion') or 'apps/v1') != 'apps/v1' or (ref.get('kind') or 'Deployment') != 'Deployment':
            raise CheckFailed(SCALE_TARGET_ERR, 'the KEDA stand-in scales apps/v1 Deployments only, not %s %s' % (ref.get('apiVersion'), ref.get('kind')))
        try:
            target = self.deployments.get(name=ref['name'], namespace=meta['namespace']).to_dict()
        except ApiException as exc:
            if exc.status == 404:
                raise CheckFailed(SCALE_TARGET_ERR, 'deployments.apps "%s" not found' % ref['name'])
            raise
        low = spec.get('minReplicaCount', 0)
        high = spec.get('maxReplicaCount', DEFAULT_MAX)
        if low > high:
            raise CheckFailed(BOUNDS_ERR, 'MinReplicaCount=%d must be less than MaxReplicaCount=%d' % (low, high))
        idle = spec.get('idleReplicaCount')
        if idle is not None and idle >= low:
            raise CheckFailed(BOUNDS_ERR, 'IdleReplicaCount=%d must be less than MinReplicaCount=%d' % (idle, low))
        triggers = spec.get('triggers') or []
        if not triggers:
            raise CheckFailed(TRIGGERS_ERR, 'no triggers defined in the ScaledObject/ScaledJob')
        names = [t['name'] for t in triggers if t.get('name')]
        twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
        if twice:
            raise CheckFailed(TRIGGERS_ERR, 'triggerName "%s" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique' % twice)
        metrics = []
        for index, trigger in enumerate(triggers):
            if trigger.get('type') != 'prometheus':
                raise CheckFailed(HPA_ERR, 'the KEDA stand-in plays only the prometheus scaler, not %r' % trigger.get('type'))
            try:
                parsed = prometheus_metadata(trigger)
            except ValueError as exc:
                raise CheckFailed(HPA_ERR, str(exc))
            metrics.append({'type': 'External', 'external': {
                'metric': {'name': 's%d-prometheus' % index, 'selector': {'matchLabels': {NAME_LABEL: meta['name']}}},
                'target': {'type': 'AverageValue', 'averageValue': milli_quantity(parsed['threshold'])}}})
        hpa_name = self.ensure_hpa(scaled, target, metrics)
        return target, hpa_name, [m['external']['metric']['name'] for m in metrics]

    def ensure_hpa(self, scaled, target, metrics):
        meta, spec = scaled['metadata'], scaled['spec']
        config = (spec.get('advanced') or {}).get('horizontalPodAutoscalerConfig') or {}
        name = config.get('name') or 'keda-hpa-%s' % meta['name']
        labels = dict({'app.kubernetes.io/name': name[:63], 'app.kubernetes.io/version': KEDA_VERSION, 'app.kubernetes.io/part-of': meta['name'],
                       'app.kubernetes.io/managed-by': 'keda-operator'}, **(meta.get('labels') or {}))
        want = {'scaleTargetRef': {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'name': target['metadata']['name']},
                'minReplicas': max(1, spec.get('minReplicaCount') or 1), 'maxReplicas': spec.get('maxReplicaCount', DEFAULT_MAX), 'metrics': metrics}
        if config.get('behavior'):
            want['behavior'] = config['behavior']
        owner = {'apiVersion': KEDA, 'kind': 'ScaledObject', 'name': meta['name'], 'uid': meta['uid'], 'controller': True, 'blockOwnerDeletion': True}
        try:
            found = self.hpas.get(name=name, namespace=meta['namespace']).to_dict()
        except ApiException as exc:
            if exc.status != 404:
                raise
            self.hpas.create(namespace=meta['namespace'], body={'apiVersion': HPA_API, 'kind': 'HorizontalPodAutoscaler', 'spec': want, 'metadata': {
                'name': name, 'namespace': meta['namespace'], 'labels': labels, 'ownerReferences': [owner]}})
            return name
        if not all(derivative(v, found['spec'].get(k)) for k, v in want.items()) or ('behavior' not in want and found['spec'].get('behavior')):
            found['spec'] = want
            self.hpas.replace(namespace=meta['namespace'], body=found)
        return name

    # ------------------------------------------------------------------------------------------------- the metrics server

    def identity(self, namespace, trigger):
        """The identityId of the trigger's TriggerAuthentication (azure-workload), or None (no ref, or, as KEDA logs and
        goes on, a ref to a TriggerAuthentication that does not exist)."""
        ref = trigger.get('authenticationRef') or {}
        if not ref.get('name'):
            return None
        try:
            auth = self.auths.get(name=ref['name'], namespace=namespace).to_dict()
        except ApiException:
            return None
        pod_identity = auth['spec'].get('podIdentity') or {}
        return pod_identity.get('identityId') if pod_identity.get('provider') == 'azure-workload' else None

    def scale_loop(self, scaled, conditions):
        """KEDA's scale loop (every step here, not every pollingInterval): each trigger queried; Active from the values,
        Ready True, or False (TriggerError) when a trigger failed and none is active (no fallback is played), or
        Unknown (PartialTriggerError) when one failed and another is active."""
        active = error = False
        threshold_of = [prometheus_metadata(t)['activationThreshold'] for t in scaled['spec']['triggers']]
        for trigger, threshold in zip(scaled['spec']['triggers'], threshold_of):
            try:
                active = self.query(scaled['metadata']['namespace'], trigger) > threshold or active
            except QueryError:
                error = True
        if active:
            conditions = set_condition(conditions, keda_condition('Active', 'True', 'ScalerActive', 'Scaling is performed because triggers are active'))
        else:
            conditions = set_condition(conditions, keda_condition('Active', 'False', 'ScalerNotActive',
                                                                  'Scaling is not performed because triggers are not active'))
        if error and active:
            ready = keda_condition('Ready', 'Unknown', 'PartialTriggerError', 'Some triggers defined in ScaledObject are not working correctly')
        elif error:
            ready = keda_condition('Ready', 'False', 'TriggerError', 'Triggers defined in ScaledObject are not working correctly')
        else:
            ready = keda_condition('Ready', 'True', 'ScaledObjectReady', READY_MESSAGE)
        return set_condition(conditions, ready)

    def metric_value(self, scaled, metric_name):
        """KEDA's metrics server answering the HPA: the value of `s<index>-prometheus`, or QueryError."""
        if not self.metrics_api:
            raise QueryError('the server is currently unable to handle the request (get %s.external.metrics.k8s.io)' % metric_name)
        index = int(metric_name.split('-', 1)[0][1:])
        return self.query(scaled['metadata']['namespace'], scaled['spec']['triggers'][index])

    def query(self, namespace, trigger):
        """KEDA's prometheus scaler: one query to Prometheus, the value by KEDA's rules, or QueryError."""
        parsed = prometheus_metadata(trigger)
        at = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        url = '%s/api/v1/query?query=%s&time=%s' % (parsed['serverAddress'], urllib.parse.quote_plus(parsed['query']), at)
        identity = self.identity(namespace, trigger)
        headers = {'Authorization': 'Bearer %s' % self.identity_tokens.get(identity, 'no-token-for-' + identity)} if identity else {}
        self.queries.append((url, headers.get('Authorization')))
        if not self.metrics_reachable:
            host = urllib.parse.urlsplit(parsed['serverAddress']).netloc
            raise QueryError('Get "%s": dial tcp %s: connect: connection refused' % (url, host))
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=3) as answer:
                body = answer.read()
        except urllib.error.HTTPError as exc:
            raise QueryError('prometheus query api returned error. status: %d' % exc.code)
        except (urllib.error.URLError, OSError) as exc:
            raise QueryError('Get "%s": %s' % (url, getattr(exc, 'reason', exc)))
        try:
            result = (json.loads(body).get('data') or {}).get('result') or []
        except (ValueError, AttributeError) as exc:
            raise QueryError('the answer is not a Prometheus query result: %s' % exc)
        if not result:
            if parsed['ignoreNullValues']:
                return 0.0
            raise QueryError("prometheus metrics 'prometheus' target may be lost, the result is empty")
        if len(result) > 1:
            raise QueryError('prometheus query %s returned multiple elements' % parsed['query'])
        value = float(result[0]['value'][1])
        if math.isinf(value) or math.isnan(value):
            if parsed['ignoreNullValues']:
                return 0.0
            raise QueryError('prometheus query returns %f' % value)
        return value

    # ------------------------------------------------------------------------------------------------- the HPA controller

    def autoscale(self, hpa, scaled):
        """One round of the HPA controller (pkg/controller/podautoscaler/horizontal.go, reconcileAutoscaler) for an HPA of
        External AverageValue metrics."""
        meta, spec = hpa['metadata'], hpa['spec']
        namespace, key = meta['namespace'], meta['uid']
        old = hpa.get('status') or {}
        conditions = [dict(c) for c in old.get('conditions') or []]
        try:
            target = self.deployments.get(name=spec['scaleTargetRef']['name'], namespace=namespace).to_dict()
        except ApiException as exc:
            if exc.status != 404:
                raise
            conditions = set_hpa_condition(conditions, 'AbleToScale', 'False', 'FailedGetScale', 'the HPA controller was unable to get the '
                                           'target\'s current scale: deployments.apps "%s" not found' % spec['scaleTargetRef']['name'])
            return self.write_status(hpa, dict(old, conditions=conditions))
        conditions = set_hpa_condition(conditions, 'AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale')
        current = target['spec'].get('replicas', 1)
        status_replicas = self.deployment_status(target)
        low, high = spec.get('minReplicas', 1), spec['maxReplicas']
        statuses, rescale, desired = [], True, 0
        if current == 0 and low != 0:
            rescale = False
            conditions = set_hpa_condition(conditions, 'ScalingActive', 'False', 'ScalingDisabled',
                                           'scaling is disabled since the replica count of the target is zero')
        elif current > high:
            desired = high
        elif current < low:
            desired = low
        else:
            proposals = []
            for metric in spec.get('metrics') or []:
                external = metric['external']
                name, selector = external['metric']['name'], external['metric'].get('selector')
                try:
                    value = self.metric_value(scaled, name)
                except (QueryError, ValueError, IndexError) as exc:
                    conditions = set_hpa_condition(conditions, 'ScalingActive', 'False', 'FailedGetExternalMetric', 'the HPA was unable to compute the '
                                                   'replica count: unable to get external metric %s/%s/%s: unable to fetch metrics from external metrics '
                                                   'API: %s' % (namespace, name, selector_text(selector), exc))
                    continue
                average = float(parse_quantity(external['target']['averageValue']))
                proposals.append((desired_replicas(value, average, status_replicas), 'external metric %s(%s)' % (name, selector_text(selector))))
                statuses.append({'type': 'External', 'external': {'metric': external['metric'], 'current': {
                    'averageValue': milli_quantity(math.ceil(value * 1000 / status_replicas) / 1000.0 if status_replicas else value)}}})
            if not proposals:  # every metric failed: the status keeps the old desired count
                status = dict(old, currentReplicas=current, desiredReplicas=old.get('desiredReplicas', 0), conditions=conditions)
                status['currentMetrics'] = statuses or None
                return self.write_status(hpa, status)
            proposal, metric_name = max(proposals)
            conditions = set_hpa_condition(conditions, 'ScalingActive', 'True', 'ValidMetricFound',
                                           'the HPA was able to successfully calculate a replica count from %s' % metric_name)
            desired, conditions = self.normalize(hpa, key, current, proposal, low, high, conditions)
            rescale = desired != current
        status = {'currentReplicas': current, 'desiredReplicas': desired, 'currentMetrics': statuses or None, 'conditions': conditions}
        if old.get('lastScaleTime'):
            status['lastScaleTime'] = old['lastScaleTime']
        if rescale and self.scale:
            self.deployments.patch(name=target['metadata']['name'], namespace=namespace, content_type=MERGE, body={'spec': {'replicas': desired}})
            status['conditions'] = set_hpa_condition(conditions, 'AbleToScale', 'True', 'SucceededRescale',
                                                     'the HPA controller was able to update the target scale to %d' % desired)
            status['lastScaleTime'] = now()
            self.events.setdefault(key, []).append((time.monotonic(), desired - current))
        elif not rescale:
            status['desiredReplicas'] = current
        return self.write_status(hpa, status)

    def normalize(self, hpa, key, current, proposal, low, high, conditions):
        """The controller's normalization: stabilization, then the scaling rules (rates and bounds); (desired, conditions)."""
        history = self.recommendations.setdefault(key, [])
        moment = time.monotonic()
        behavior = hpa['spec'].get('behavior')
        if behavior is None:
            window = [p for t, p in history if moment - t <= DEFAULT_SCALE_DOWN_WINDOW]
            stabilized = max([proposal] + window)
            history.append((moment, proposal))
            if stabilized != proposal:
                conditions = set_hpa_condition(conditions, 'AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than '
                                               'current one, applying the highest recent recommendation')
            else:
                conditions = set_hpa_condition(conditions, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size')
            desired, reason, message = bounded(stabilized, low, high, max(2 * current, 4))
            return desired, set_hpa_condition(conditions, 'ScalingLimited', 'False' if desired == stabilized else 'True', reason, message)
        up_rules, down_rules = behavior.get('scaleUp') or {}, behavior.get('scaleDown') or {}
        up_window = up_rules.get('stabilizationWindowSeconds', 0)
        down_window = down_rules.get('stabilizationWindowSeconds', DEFAULT_SCALE_DOWN_WINDOW)
        up = min([proposal] + [p for t, p in history if moment - t < up_window])
        down = max([proposal] + [p for t, p in history if moment - t < down_window])
        history.append((moment, proposal))
        stabilized = min(max(current, up), down)
        if stabilized != proposal:
            conditions = set_hpa_condition(conditions, 'AbleToScale', 'True', *(
                ('ScaleUpStabilized', 'recent recommendations were lower than current one, applying the lowest recent recommendation')
                if proposal >= current else
                ('ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation')))
        else:
            conditions = set_hpa_condition(conditions, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size')
        desired, reason, message = rate_limited(current, stabilized, low, high, up_rules, down_rules, self.events.get(key, []), moment)
        return desired, set_hpa_condition(conditions, 'ScalingLimited', 'False' if desired == stabilized else 'True', reason, message)

    def deployment_status(self, target):
        """The Deployment controller's part this bed lacks: status.replicas follows spec.replicas (no pods are made)."""
        want = target['spec'].get('replicas', 1)
        have = target.get('status') or {}
        if have.get('replicas') != want or have.get('observedGeneration') != target['metadata'].get('generation'):
            self.deployments.status.patch(name=target['metadata']['name'], namespace=target['metadata']['namespace'], content_type=MERGE,
                                          body={'status': {'replicas': want, 'observedGeneration': target['metadata'].get('generation')}})
        return want

    def write_status(self, hpa, status):
        """The controller writes the status only when it changed."""
        status = dict((k, v) for k, v in status.items() if v is not None)
        if status != (hpa.get('status') or {}):
            self.hpas.status.replace(name=hpa['metadata']['name'], namespace=hpa['metadata']['namespace'], body=dict(hpa, status=status))

    @contextlib.contextmanager
    def running(self, interval=0.2):
        with background.stepping(self.step, interval):
            yield self
