# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KAITO Workspace: rendering from module options, fields KAITO cannot change, readiness, and diagnosis.

A ``kaito.sh/v1beta1`` Workspace has no ``spec``: ``resource``, ``inference`` and ``tuning`` are top-level fields.
KAITO's admission webhook refuses changes to the preset, the label selector, the node count, the partition and an
instance type that is already set, and refuses adding or removing a pod template; those changes need the object
to be deleted (KAITO's finalizer runs first) and created again.
"""

from __future__ import annotations

import copy
import json
import re

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.apply import Applier
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import (
    CONNECTION_ERRORS, ApiException, K8sError, ResourceNotFoundError, api_error_message, connection_error_message, k8s_call, read_object,
    served)
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import DNS_LABEL, describe
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import condition_met, generation_observed, poll
from ansible_collections.aiplatform.aks.plugins.module_utils.version import COLLECTION_NAME

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

WORKSPACE_API_VERSION = 'kaito.sh/v1beta1'
FINALIZER = 'workspace.finalizer.kaito.sh'
# KAITO labels the pods of a workspace with this label, and its Service selects on it.
POD_LABEL = 'kaito.sh/workspace'
# Our label on the objects that belong to a workspace (inference ConfigMap, PodDisruptionBudget).
COMPANION_LABEL = 'aiplatform.aks/workspace'
MANAGED_BY = ('app.kubernetes.io/managed-by', COLLECTION_NAME)
INFERENCE_CONFIG_KEY = 'inference_config.yaml'
SERVICE_PORT = 80
# Reasons KAITO reports while a workspace is still starting; any other reason on a False condition is a failure.
PENDING_REASONS = ('WorkspaceInferenceStatusPending', 'workspacePending')
SELECTOR_KEYS = ('matchLabels', 'matchExpressions')
# Where check mode dry-runs a workspace whose namespace does not exist yet; KAITO's rules do not look at the namespace.
ADMISSION_CHECK_NAMESPACE = 'default'


class WorkspaceError(K8sError):
    """A workspace that cannot be reconciled or that failed, with what is known about why."""

    def __init__(self, msg, **details):
        super(WorkspaceError, self).__init__(msg)
        self.details = details


# --- rendering -----------------------------------------------------------------------------------

def validate_params(p):
    """Problems with the module options that the argument spec cannot express."""
    problems = []
    name = p.get('name') or ''
    if not DNS_LABEL.match(name):
        problems.append('name %r must be a DNS-1123 label (lower case letters, digits and -, at most 63 characters)' % name)
    if p.get('state', 'present') != 'present':
        return problems
    if not (p.get('preset') or p.get('template') or p.get('tuning')):
        problems.append('one of preset, template or tuning is required')
    selector = (p.get('resource') or {}).get('label_selector')
    if not selector:
        problems.append('resource.label_selector is required: KAITO picks (or provisions) nodes by it')
    elif not isinstance(selector, dict) or set(selector) - set(SELECTOR_KEYS):
        problems.append('resource.label_selector must be a label selector with matchLabels and/or matchExpressions, '
                        'for example {matchLabels: {apps: gpu}}; got keys %s' % ', '.join(sorted(selector)))
    if p.get('adapters') and not p.get('preset'):
        problems.append('adapters need a preset model')
    config = p.get('inference_config')
    if isinstance(config, str) and HAS_YAML:
        try:
            parsed = yaml.safe_load(config)
        except yaml.YAMLError as exc:
            problems.append('inference_config is not valid YAML: %s' % str(exc).replace('\n', ' '))
        else:
            if parsed is not None and not isinstance(parsed, dict):
                problems.append('inference_config must be a YAML mapping (for example vllm: {...}), got %s' % type(parsed).__name__)
    elif config is not None and not isinstance(config, (str, dict)):
        problems.append('inference_config must be a mapping or a YAML string, got %s' % type(config).__name__)
    budget = p.get('pod_disruption_budget') or {}
    if budget.get('max_unavailable') is not None and budget.get('min_available') is not None:
        problems.append('pod_disruption_budget: set max_unavailable or min_available, not both')
    return problems


def config_name(p):
    """Name of the inference ConfigMap the workspace uses (None: KAITO's default)."""
    if p.get('config'):
        return p['config']
    if p.get('inference_config') is not None:
        return '%s-inference-config' % p['name']
    return None


def _labels(p, extra=None):
    labels = dict(p.get('labels') or {})
    labels.setdefault(*MANAGED_BY)
    labels.update(extra or {})
    return labels


def _compact(mapping):
    return dict((k, v) for k, v in mapping.items() if v not in (None, '', [], {}))


def render_resource(r):
    out = {'labelSelector': r['label_selector']}
    if r.get('instance_type'):  # empty: bring-your-own nodes (KAITO requires it empty then)
        out['instanceType'] = r['instance_type']
    if r.get('count') is not None:
        out['count'] = r['count']
    if r.get('preferred_nodes'):
        out['preferredNodes'] = list(r['preferred_nodes'])
    if r.get('partition'):
        out['partition'] = _compact({'mode': r['partition'].get('mode'), 'profile': r['partition'].get('profile'),
                                     'count': r['partition'].get('count')})
    return out


def render_preset(preset):
    out = {'name': preset['name']}
    if preset.get('access_mode'):
        out['accessMode'] = preset['access_mode']
    options = _compact({'modelAccessSecret': preset.get('model_access_secret'), 'image': preset.get('image'),
                        'imagePullSecrets': list(preset.get('image_pull_secrets') or [])})
    if options:
        out['presetOptions'] = options
    return out


def render_adapter(adapter):
    source = _compact({'name': adapter['name'], 'image': adapter.get('image'),
                       'imagePullSecrets': list(adapter.get('image_pull_secrets') or []),
                       'urls': list(adapter.get('urls') or []), 'volumeSource': adapter.get('volume_source')})
    out = {'source': source}
    if adapter.get('strength') is not None:
        out['strength'] = str(adapter['strength'])
    return out


def render_workspace(p):
    """The Workspace object for the module options (only what the user set, so server defaults stay server's)."""
    annotations = dict(p.get('annotations') or {})
    if p.get('runtime'):
        annotations['kaito.sh/runtime'] = p['runtime']
    if p.get('disable_benchmark') is not None:
        annotations['kaito.sh/disable-benchmark'] = 'true' if p['disable_benchmark'] else 'false'
    meta = {'name': p['name'], 'namespace': p['namespace'], 'labels': _labels(p)}
    if annotations:
        meta['annotations'] = annotations
    ws = {'apiVersion': WORKSPACE_API_VERSION, 'kind': 'Workspace', 'metadata': meta,
          'resource': render_resource(p['resource'])}
    if p.get('tuning'):
        ws['tuning'] = p['tuning']
        return ws
    inference = {}
    if p.get('preset'):
        inference['preset'] = render_preset(p['preset'])
    if p.get('template'):
        inference['template'] = p['template']
    if config_name(p):
        inference['config'] = config_name(p)
    if p.get('adapters'):
        inference['adapters'] = [render_adapter(a) for a in p['adapters']]
    ws['inference'] = inference
    return ws


def render_inference_config(p):
    """The ConfigMap with inference_config.yaml (vLLM or transformers parameters), when the module manages it."""
    value = p.get('inference_config')
    if value is None:
        return None
    if not isinstance(value, str):
        if not HAS_YAML:
            raise K8sError('inference_config as a mapping needs PyYAML; pass it as a YAML string instead')
        value = yaml.safe_dump(value, default_flow_style=False, sort_keys=False)
    return {'apiVersion': 'v1', 'kind': 'ConfigMap',
            'metadata': {'name': config_name(p), 'namespace': p['namespace'], 'labels': _labels(p, {COMPANION_LABEL: p['name']})},
            'data': {INFERENCE_CONFIG_KEY: value}}


def _int_or_string(value):
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def render_pdb(p, api_version):
    """PodDisruptionBudget over the workspace's pods (KAITO creates none)."""
    budget = p.get('pod_disruption_budget')
    if budget is None:
        return None
    spec = {'selector': {'matchLabels': {POD_LABEL: p['name']}}}
    if budget.get('min_available') is not None:
        spec['minAvailable'] = _int_or_string(budget['min_available'])
    else:
        spec['maxUnavailable'] = _int_or_string(budget['max_unavailable'] if budget.get('max_unavailable') is not None else 1)
    return {'apiVersion': api_version, 'kind': 'PodDisruptionBudget',
            'metadata': {'name': p['name'], 'namespace': p['namespace'], 'labels': _labels(p, {COMPANION_LABEL: p['name']})},
            'spec': spec}


def served_version(client, kind, versions):
    """The first of `versions` that the server serves for `kind` (None if none is)."""
    return next((version for version in versions if served(client, version, kind) is not None), None)


def pdb_api_version(client):
    version = served_version(client, 'PodDisruptionBudget', ('policy/v1', 'policy/v1beta1'))
    if version is None:
        raise K8sError('the server serves no PodDisruptionBudget API (policy/v1 or policy/v1beta1)')
    return version


# --- fields KAITO does not let change ---------------------------------------------------------------

def _preset_key(preset):
    if not preset:
        return None
    options = _compact(dict(preset.get('presetOptions') or {}))
    return {'name': preset.get('name'), 'accessMode': preset.get('accessMode') or 'public', 'presetOptions': options}


def _selector_key(selector):
    selector = selector or {}
    expressions = [{'key': e.get('key'), 'operator': e.get('operator'), 'values': list(e.get('values') or [])}
                   for e in selector.get('matchExpressions') or []]
    return {'matchLabels': dict(selector.get('matchLabels') or {}), 'matchExpressions': expressions}


def immutable_changes(live, desired):
    """Changes from `live` to `desired` that KAITO refuses on update: a list of {field, before, after}.

    Omitted fields are compared with what the server would store (count defaults to 1, accessMode to public),
    because server-side apply removes a field this field manager set before and no longer sends.
    """
    changes = []

    def differ(field, before, after, shown=None):
        """Record a change when the normalized values differ; `shown` are the values as the user would write them."""
        if before != after:
            before, after = shown if shown else (before, after)
            changes.append({'field': field, 'before': before, 'after': after})

    lres, dres = live.get('resource') or {}, desired.get('resource') or {}
    differ('resource.count', lres.get('count', 1), dres.get('count', 1))
    if lres.get('instanceType'):
        differ('resource.instanceType', lres['instanceType'], dres.get('instanceType', ''))
    differ('resource.labelSelector', _selector_key(lres.get('labelSelector')), _selector_key(dres.get('labelSelector')),
           (lres.get('labelSelector'), dres.get('labelSelector')))
    differ('resource.partition', _compact(lres.get('partition') or {}) or None, _compact(dres.get('partition') or {}) or None)
    live_mode = 'tuning' if live.get('tuning') else 'inference'
    desired_mode = 'tuning' if desired.get('tuning') else 'inference'
    if live_mode != desired_mode:
        differ('inference/tuning', live_mode, desired_mode)
        return changes
    if desired_mode == 'tuning':
        before, after = (live.get('tuning') or {}).get('preset'), (desired.get('tuning') or {}).get('preset')
        differ('tuning.preset', _preset_key(before), _preset_key(after), (before, after))
        return changes
    linf, dinf = live.get('inference') or {}, desired.get('inference') or {}
    differ('inference.preset', _preset_key(linf.get('preset')), _preset_key(dinf.get('preset')), (linf.get('preset'), dinf.get('preset')))
    if bool(linf.get('template')) != bool(dinf.get('template')):
        differ('inference.template', 'set' if linf.get('template') else 'not set', 'set' if dinf.get('template') else 'not set')
    return changes


def _show(value):
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else repr(value) if value is not None else 'not set'


def describe_changes(changes):
    return '; '.join('%s: %s -> %s' % (c['field'], _show(c['before']), _show(c['after'])) for c in changes)


# --- readiness -------------------------------------------------------------------------------------

def conditions(obj):
    return list((obj.get('status') or {}).get('conditions') or [])


def readiness(obj, wait_for, fail_fast=True, pending_reasons=PENDING_REASONS):
    """('ready' | 'failed' | 'pending', message, failing condition or None) for the object's current generation.

    Ready when every condition type in `wait_for` is True and reported for the current generation, so a Ready
    left from an older generation does not count. Failed when one of them is False for the current generation
    with a reason KAITO does not use for "still starting" (for example ImagePullError or ContainerCrashLoopBackOff).
    """
    by_type = dict((c.get('type'), c) for c in conditions(obj))
    waiting = []
    for ctype in wait_for:
        ok, why = condition_met(obj, ctype)
        if ok:
            continue
        cond = by_type.get(ctype)
        if (fail_fast and cond is not None and str(cond.get('status')) == 'False' and generation_observed(obj, cond)
                and cond.get('reason') and cond.get('reason') not in pending_reasons):
            return 'failed', '%s is False (%s): %s' % (ctype, cond.get('reason'), cond.get('message')), cond
        waiting.append(why)
    if waiting:
        state = (obj.get('status') or {}).get('state')
        return 'pending', '; '.join(waiting) + ('; state %s' % state if state else ''), None
    return 'ready', '%s True for generation %s' % (', '.join(wait_for), obj.get('metadata', {}).get('generation')), None


# --- diagnosis -------------------------------------------------------------------------------------

def _event_time(event):
    return (event.get('lastTimestamp') or event.get('eventTime') or (event.get('series') or {}).get('lastObservedTime')
            or event.get('metadata', {}).get('creationTimestamp') or '')


def recent_events(client, namespace, name, limit=10):
    """The latest events of the workspace, its workload and its pods, oldest first (empty if they cannot be read)."""
    if not limit:
        return []
    try:
        pods = client.resources.get(api_version='v1', kind='Pod')
        pod_names = set(p['metadata']['name'] for p in
                        pods.get(namespace=namespace, label_selector='%s=%s' % (POD_LABEL, name)).to_dict().get('items') or [])
        events = client.resources.get(api_version='v1', kind='Event').get(namespace=namespace).to_dict().get('items') or []
    except (ApiException, ResourceNotFoundError):
        return []
    ordinal_pod = re.compile(r'^%s-[0-9]+$' % re.escape(name))
    picked = []
    for event in events:
        involved = event.get('involvedObject') or {}
        kind, obj_name = involved.get('kind'), involved.get('name') or ''
        if ((kind == 'Pod' and (obj_name in pod_names or ordinal_pod.match(obj_name)))
                or (kind in ('Workspace', 'StatefulSet', 'Deployment') and obj_name == name)):
            picked.append(event)
    picked.sort(key=_event_time)
    return [{'time': _event_time(e), 'type': e.get('type'), 'reason': e.get('reason'), 'message': e.get('message'),
             'object': '%s/%s' % ((e.get('involvedObject') or {}).get('kind'), (e.get('involvedObject') or {}).get('name')),
             'count': e.get('count')} for e in picked[-limit:]]


def format_events(events):
    return ' | '.join('%s %s %s: %s' % (e['object'], e['type'], e['reason'], e['message']) for e in events)


# --- reconcile -------------------------------------------------------------------------------------

class WorkspaceReconciler:
    """Applies a workspace with its inference ConfigMap and PodDisruptionBudget, or deletes them."""

    def __init__(self, client, params, check_mode=False):
        self.client = client
        self.p = params
        self.check_mode = check_mode
        self.applier = Applier(client, check_mode=check_mode, namespace=params['namespace'],
                               force_conflicts=params.get('force_conflicts') or False)
        self.timeout = params.get('wait_timeout', 1800)
        self.sleep = params.get('wait_sleep', 5.0)
        self.warnings = []

    def _resource(self, obj):
        try:
            return self.applier.resource(obj)
        except K8sError as exc:
            if obj['kind'] == 'Workspace':
                raise K8sError('%s Is KAITO installed? (aiplatform.aks.kaito role)' % exc)
            raise

    def _wait_gone(self, resource, obj):
        meta = obj['metadata']
        poll(lambda: self.applier.read(resource, meta['name'], meta['namespace']),
             lambda o: (o is None, 'still being deleted (finalizers: %s)' % ', '.join((o or {}).get('metadata', {}).get('finalizers') or ['none'])),
             self.timeout, 'deletion of %s' % describe(obj), self.sleep)

    def present(self):
        p = self.p
        workspace = render_workspace(p)
        config = render_inference_config(p)
        resource = self._resource(workspace)
        live = self.applier.read(resource, p['name'], p['namespace'])
        if live is not None and live.get('metadata', {}).get('deletionTimestamp'):
            if self.check_mode:
                live = None
            else:
                self._wait_gone(resource, workspace)  # a deletion in progress finishes before we create it again
                live = None
        if live is None and self.check_mode and self._namespace_missing():
            records = self._plan_in_new_namespace(workspace, config)
            return records, next(r for r in records if r['object'] is workspace), []
        changes = immutable_changes(live, workspace) if live is not None else []
        if changes and not p.get('recreate'):
            raise WorkspaceError('%s: KAITO cannot change %s in place (%s). Nothing was changed; set recreate: true to delete '
                                 'the workspace (its model stops serving) and create it again.'
                                 % (describe(workspace), ', '.join(c['field'] for c in changes), describe_changes(changes)),
                                 immutable_changes=changes)
        records = []
        if config is not None:
            if not self.check_mode and not changes:
                self._admitted(workspace)
            records.append(self.applier.apply_one(config))
        if changes:
            record = self._recreate(workspace, live)
        else:
            record = self.applier.apply_one(workspace)
        records.append(record)
        pdb = render_pdb(p, pdb_api_version(self.client)) if p.get('pod_disruption_budget') is not None else None
        if pdb is not None:
            records.append(self.applier.apply_one(pdb))
        current = record['object']
        if p.get('wait', True) and not self.check_mode:
            current = self.wait(resource, workspace)
            record['object'] = current
        return records, record, changes

    def _admitted(self, workspace):
        """Server dry-run of the workspace, so that one KAITO's admission refuses leaves no inference ConfigMap behind."""
        Applier(self.client, check_mode=True, namespace=self.p['namespace'],
                force_conflicts=self.p.get('force_conflicts') or False).apply_one(workspace)

    def _namespace_missing(self):
        return read_object(self.client, served(self.client, 'v1', 'Namespace'), self.p['namespace']) is None

    def _plan_in_new_namespace(self, workspace, config):
        """Check mode for a namespace a run would create first: the server cannot dry-run objects in it, so the workspace is
        dry-run as a create in the namespace `default`, which KAITO's admission judges the same. Returns the records."""
        trial = copy.deepcopy(workspace)
        trial['metadata']['namespace'] = ADMISSION_CHECK_NAMESPACE
        resource = self._resource(trial)
        try:
            self.client.create(resource, body=trial, namespace=ADMISSION_CHECK_NAMESPACE, dry_run='All')
        except ApiException as exc:
            if exc.status not in (403, 404, 409):  # forbidden there, no such namespace, or a namesake: no verdict
                raise WorkspaceError('%s would be refused: %s' % (describe(workspace), api_error_message(exc)))
            self.warnings.append('%s: namespace %s does not exist yet and the admission of the workspace could not be tried in '
                                 'namespace %s (%s); it is checked when the namespace exists'
                                 % (describe(workspace), self.p['namespace'], ADMISSION_CHECK_NAMESPACE, api_error_message(exc)))
        except CONNECTION_ERRORS as exc:
            raise K8sError('cannot dry-run %s: %s' % (describe(workspace), connection_error_message(exc)))
        pdb = render_pdb(self.p, pdb_api_version(self.client)) if self.p.get('pod_disruption_budget') is not None else None
        return [Applier.record(obj, 'created', None, obj) for obj in (config, workspace, pdb) if obj is not None]

    def _recreate(self, workspace, live):
        if self.check_mode:
            return Applier.record(workspace, 'recreated', live, workspace)
        self.applier.delete_one(workspace, self.timeout, self.sleep)  # waits while KAITO's finalizer cleans up
        record = self.applier.apply_one(workspace)
        record.update(action='recreated', before=live)
        return record

    def wait_for(self):
        if self.p.get('wait_for'):
            return list(self.p['wait_for'])
        return ['WorkspaceSucceeded'] if self.p.get('tuning') else ['InferenceReady']

    def wait(self, resource, workspace):
        meta = workspace['metadata']
        wait_for = self.wait_for()
        pending = tuple(self.p.get('pending_reasons') or PENDING_REASONS)
        last = {}

        def fetch():
            current = self.applier.read(resource, meta['name'], meta['namespace'])
            if current is None:
                raise K8sError('%s disappeared while waiting for it' % describe(workspace))
            last['object'] = current
            return current

        def check(obj):
            state, why, cond = readiness(obj, wait_for, self.p.get('fail_fast', True), pending)
            if state == 'failed':
                raise WorkspaceError('%s failed: %s' % (describe(workspace), why), condition=cond)
            return state == 'ready', why

        try:
            return poll(fetch, check, self.timeout, describe(workspace), self.sleep)
        except K8sError as exc:
            details = dict(getattr(exc, 'details', {}))
            events = recent_events(self.client, meta['namespace'], meta['name'], self.p.get('events_limit', 10))
            msg = str(exc)
            if events:
                msg += '. Recent events: ' + format_events(events)
            details.update(events=events, workspace=last.get('object'), conditions=conditions(last.get('object') or {}))
            raise WorkspaceError(msg, **details)

    def absent(self):
        p = self.p
        workspace = {'apiVersion': WORKSPACE_API_VERSION, 'kind': 'Workspace', 'metadata': {'name': p['name'], 'namespace': p['namespace']}}
        records = [self.applier.delete_one(workspace, self.timeout, self.sleep)]
        selector = '%s=%s' % (COMPANION_LABEL, p['name'])
        pdb_version = served_version(self.client, 'PodDisruptionBudget', ('policy/v1', 'policy/v1beta1'))
        for api_version, kind in (('v1', 'ConfigMap'), (pdb_version, 'PodDisruptionBudget')):
            if api_version is None:
                continue
            items = k8s_call('list the %ss of workspace %s' % (kind, p['name']), lambda: self.client.resources.get(
                api_version=api_version, kind=kind).get(namespace=p['namespace'], label_selector=selector).to_dict().get('items') or [])
            for item in items:
                item.update(apiVersion=api_version, kind=kind)
                records.append(self.applier.delete_one(item, self.timeout, self.sleep))
        return records, records[0]
