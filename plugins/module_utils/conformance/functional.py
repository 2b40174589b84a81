# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Functional conformance probes: objects made in throwaway namespaces, watched, and always removed.

PROBES maps a requirement id to a function of a ProbeContext (context.py) that returns
{'ok': bool, 'evidence': [{check, call, observed, ok}], 'notes': str} and, when it could not measure everything,
'partial': True. The ai_conformance module runs them with `functional: true` and calls the context's cleanup().

Every object a probe makes goes through the context (so cleanup() finds it), has a unique name and carries the label
PROBE_LABEL=<requirement id>. A wait that times out or a refused call ends the probe as failed, with the evidence
gathered so far.

The probes of `secure_accelerator_access` and `pod_autoscaling` live in modules of their own; probes.py gathers all.
"""

from __future__ import annotations

import functools
import time
import uuid

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError, api_error_message, k8s_call, list_items, served
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import condition_met

try:
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException
except ImportError:  # the module reports the missing library before any probe runs
    ApiException = K8sError

PROBE_LABEL = 'conformance.aiplatform.aks/probe'
MANAGED_BY = ('app.kubernetes.io/managed-by', 'aiplatform.aks')
BUSYBOX = 'registry.k8s.io/e2e-test-images/busybox:1.36.1-1'
AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53'

KUEUE = 'kueue.x-k8s.io/v1beta2'
QUEUE_LABEL = 'kueue.x-k8s.io/queue-name'
GANG_SIZE = 3
GANG_POD_CPU = '100m'
GANG_QUOTA_CPU = '300m'  # exactly GANG_SIZE pods; the over-quota Job asks for one pod more

GATEWAY_API = 'gateway.networking.k8s.io/v1'
HEADER = 'X-Model-Version'
WEIGHTS = (80, 20)
SPLIT_TOLERANCE = 10  # percentage points around 80
SPLIT_REQUESTS = 100
HEADER_REQUESTS = 20

KAITO = 'kaito.sh/v1beta1'
WEBHOOK_DENIAL = 'denied the request'


def evidence(check, call, observed, ok):
    return {'check': check, 'call': call, 'observed': observed, 'ok': bool(ok)}


def unique(stem):
    return '%s-%s' % (stem, uuid.uuid4().hex[:6])


def labels(requirement, **extra):
    return dict({PROBE_LABEL: requirement, MANAGED_BY[0]: MANAGED_BY[1]}, **extra)


def metadata(requirement, name, namespace=None, **extra_labels):
    meta = {'name': name, 'labels': labels(requirement, **extra_labels)}
    if namespace:
        meta['namespace'] = namespace
    return meta


def owned_by(obj, uid):
    return any(ref.get('uid') == uid for ref in (obj.get('metadata') or {}).get('ownerReferences') or [])


def is_true(obj, ctype):
    """The condition holds for the object's current generation."""
    return condition_met(obj or {}, ctype)[0]


def probe(requirement):
    """Run `function(ctx, found)` with a fresh evidence list; a K8sError (a refused call, a wait that timed out) ends
    it as failed with what was found so far."""
    def decorate(function):
        @functools.wraps(function)
        def run(ctx):
            found = []
            try:
                result = function(ctx, found)
            except K8sError as exc:
                return {'ok': False, 'evidence': found, 'notes': '%s probe failed: %s' % (requirement, exc)}
            return dict(result, evidence=found)
        return run
    return decorate


def read_object(ctx, api_version, kind, name, namespace=None):
    """An object the probe made, as a dict; gone (deleted by someone else) is a K8sError."""
    resource = served(ctx.client, api_version, kind)
    if resource is None:
        raise K8sError('the server does not serve %s %s' % (api_version, kind))
    return k8s_call('read %s %s' % (kind, name), lambda: ctx.client.get(resource, name=name, namespace=namespace).to_dict())


def list_objects(ctx, api_version, kind, namespace):
    items = list_items(ctx.client, api_version, kind, 'list %s in %s' % (kind, namespace), namespace=namespace)
    if items is None:
        raise K8sError('the server does not serve %s %s' % (api_version, kind))
    return items


def waited(ctx, look, timeout, what, found, check):
    """ctx.wait, with a timeout written down as failed evidence of `check` before it ends the probe."""
    try:
        return ctx.wait(look, timeout, what)
    except K8sError as exc:
        found.append(evidence(check, 'wait up to %ss for %s' % (timeout, what), str(exc), False))
        raise


# ---------------------------------------------------------------------------------------------- gang_scheduling

def resource_flavor(name):
    return {'apiVersion': KUEUE, 'kind': 'ResourceFlavor', 'metadata': metadata('gang_scheduling', name)}


def cluster_queue(name, flavor):
    return {'apiVersion': KUEUE, 'kind': 'ClusterQueue', 'metadata': metadata('gang_scheduling', name), 'spec': {
        'namespaceSelector': {},
        'queueingStrategy': 'BestEffortFIFO',  # the over-quota Job must not hold up the one that fits
        'resourceGroups': [{'coveredResources': ['cpu'], 'flavors': [
            {'name': flavor, 'resources': [{'name': 'cpu', 'nominalQuota': GANG_QUOTA_CPU}]}]}]}}


def local_queue(namespace, name, cluster_queue_name):
    return {'apiVersion': KUEUE, 'kind': 'LocalQueue', 'metadata': metadata('gang_scheduling', name, namespace),
            'spec': {'clusterQueue': cluster_queue_name}}


def gang_job(namespace, name, queue, size):
    """A suspended Job of `size` pods that all run at once (parallelism = completions), each asking for GANG_POD_CPU."""
    return {'apiVersion': 'batch/v1', 'kind': 'Job', 'metadata': metadata('gang_scheduling', name, namespace, **{QUEUE_LABEL: queue}),
            'spec': {'suspend': True, 'parallelism': size, 'completions': size, 'backoffLimit': 0, 'activeDeadlineSeconds': 600,
                     'template': {'metadata': {'labels': labels('gang_scheduling')}, 'spec': {
                         'restartPolicy': 'Never', 'terminationGracePeriodSeconds': 0,
                         'containers': [{'name': 'member', 'image': BUSYBOX, 'command': ['sleep', '5'],
                                         'resources': {'requests': {'cpu': GANG_POD_CPU}, 'limits': {'cpu': GANG_POD_CPU}}}]}}}}


def gang_state(job, pods, workloads):
    """What Kueue and the Job controller did with one Job: {name, suspended, pods, workload, admitted, quota_reserved,
    assigned} (assigned: the pods the admission counted; suspended: None when the server does not keep spec.suspend,
    as before Kubernetes 1.21)."""
    uid = job['metadata']['uid']
    workload = next((w for w in workloads if owned_by(w, uid)), None)
    admission = ((workload or {}).get('status') or {}).get('admission') or {}
    return {'name': job['metadata']['name'], 'suspended': job['spec'].get('suspend'),
            'pods': sum(1 for pod in pods if owned_by(pod, uid)),
            'workload': workload['metadata']['name'] if workload else None,
            'admitted': is_true(workload, 'Admitted'), 'quota_reserved': is_true(workload, 'QuotaReserved'),
            'assigned': sum(a.get('count') or 0 for a in admission.get('podSetAssignments') or [])}


def gang_started(state, size):
    """(ok, why): the Job's Workload admitted for all `size` pods, the Job unsuspended, its `size` pods made."""
    if not state['workload']:
        return False, 'no Workload for Job %s yet' % state['name']
    if not state['admitted']:
        return False, 'Workload %s not admitted' % state['workload']
    if state['assigned'] != size:
        return False, 'Workload %s admitted for %d pods, not %d' % (state['workload'], state['assigned'], size)
    if state['suspended'] is True:
        return False, 'Job %s still suspended' % state['name']
    if state['pods'] != size:
        return False, 'Job %s has %d pods, not %d' % (state['name'], state['pods'], size)
    return True, 'Workload %s admitted for %d pods; Job %s unsuspended with %d pods' % (state['workload'], size, state['name'], size)


def gang_started_partly(state):
    """Why a Job that does not fit the quota has started in part or in whole, or None while it is held back."""
    started = []
    if state['admitted'] or state['quota_reserved']:
        started.append('Workload %s admitted (%d pods assigned)' % (state['workload'], state['assigned']))
    if state['suspended'] is False:
        started.append('Job %s unsuspended' % state['name'])
    if state['pods']:
        started.append('%d pods created' % state['pods'])
    return '; '.join(started) or None


def gang_hold(timeout):
    """How long the over-quota Job must stay held back: a quarter of the timeout, at most 30 s (upstream: 30-60 s)."""
    return min(30.0, timeout / 4.0)


@probe('gang_scheduling')
def gang_scheduling(ctx, found):
    timeout = ctx.settings['timeout']
    namespace = ctx.namespace()
    flavor = ctx.create(resource_flavor(unique('aic-flavor')))['metadata']['name']
    queue_name = ctx.create(cluster_queue(unique('aic-cq'), flavor))['metadata']['name']
    local = ctx.create(local_queue(namespace, unique('aic-lq'), queue_name))['metadata']['name']
    found.append(evidence('queues', 'create ResourceFlavor %s, ClusterQueue %s (cpu nominalQuota %s), LocalQueue %s/%s'
                          % (flavor, queue_name, GANG_QUOTA_CPU, namespace, local), 'created', True))
    over_job = ctx.create(gang_job(namespace, unique('aic-gang-over'), local, GANG_SIZE + 1))
    over = over_job['metadata']['name']
    if 'suspend' not in over_job['spec']:
        found.append(evidence('Job suspension', 'create Job %s/%s with spec.suspend' % (namespace, over),
                              'the server dropped spec.suspend (Kubernetes before 1.21): judged by Workload admission and pods only', True))

    def taken_up():
        state = gang_state(read_object(ctx, 'batch/v1', 'Job', over, namespace), list_objects(ctx, 'v1', 'Pod', namespace),
                           list_objects(ctx, KUEUE, 'Workload', namespace))
        return bool(state['workload']), 'no Workload for Job %s yet' % over
    # the Job that fits comes once Kueue has queued the other one: the whole quota is free when it is held back
    waited(ctx, taken_up, timeout, 'Kueue to make a Workload for Job %s/%s' % (namespace, over), found, 'gang admission')
    held_since = time.monotonic()
    fits = ctx.create(gang_job(namespace, unique('aic-gang-fit'), local, GANG_SIZE))['metadata']['name']
    hold = gang_hold(timeout)

    def look():
        workloads, pods = list_objects(ctx, KUEUE, 'Workload', namespace), list_objects(ctx, 'v1', 'Pod', namespace)
        states = [gang_state(read_object(ctx, 'batch/v1', 'Job', name, namespace), pods, workloads) for name in (fits, over)]
        if gang_started_partly(states[1]):
            return True, states
        started, why = gang_started(states[0], GANG_SIZE)
        if not started:
            return False, why
        if time.monotonic() - held_since < hold:
            return False, 'Job %s held back for %.0f of %.0f s' % (over, time.monotonic() - held_since, hold)
        return True, states

    fit_state, over_state = waited(ctx, look, timeout + hold, 'Kueue to admit Job %s/%s and hold back Job %s' % (namespace, fits, over),
                                   found, 'gang admission')
    started, why = gang_started(fit_state, GANG_SIZE)
    found.append(evidence('all pods admitted together', 'create Job %s/%s (suspend, parallelism = completions = %d, %s each, queue %s)'
                          % (namespace, fits, GANG_SIZE, GANG_POD_CPU, local), why, started))
    partly = gang_started_partly(over_state)
    if partly:
        held = 'started although above the quota: %s' % partly
    elif not over_state['workload']:
        held = 'no Workload was made for it: Kueue did not take up the Job, so holding it back shows nothing'
    else:
        held = 'Workload %s not admitted, Job %s, no pods, for %.0f s' % (
            over_state['workload'], 'suspended' if over_state['suspended'] else 'not started', hold)
    held_ok = not partly and bool(over_state['workload'])
    found.append(evidence('none admitted above the quota', 'create Job %s/%s (parallelism = completions = %d, above the quota)'
                          % (namespace, over, GANG_SIZE + 1), held, held_ok))
    ok = started and held_ok
    notes = ('all-or-nothing admission shown: %d pods admitted and created together within the quota, %d above it held back'
             % (GANG_SIZE, GANG_SIZE + 1)) if ok else '; '.join(e['observed'] for e in found if not e['ok'])
    return {'ok': ok, 'notes': notes}


# ---------------------------------------------------------------------------------------------- ai_inference

def backend(namespace, name):
    """A Deployment of agnhost netexec (answers /hostname with its pod's name) and its Service on port 8080."""
    selector = {'app.kubernetes.io/name': name}
    deployment = {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': metadata('ai_inference', name, namespace), 'spec': {
        'replicas': 1, 'selector': {'matchLabels': selector},
        'template': {'metadata': {'labels': labels('ai_inference', **selector)}, 'spec': {
            'terminationGracePeriodSeconds': 0,
            'containers': [{'name': 'netexec', 'image': AGNHOST, 'args': ['netexec', '--http-port=8080'],
                            'ports': [{'name': 'http', 'containerPort': 8080}],
                            'readinessProbe': {'httpGet': {'path': '/healthz', 'port': 8080}, 'periodSeconds': 2}}]}}}}
    service = {'apiVersion': 'v1', 'kind': 'Service', 'metadata': metadata('ai_inference', name, namespace), 'spec': {
        'selector': selector, 'ports': [{'name': 'http', 'port': 8080, 'targetPort': 8080}]}}
    return deployment, service


def gateway(namespace, name, gateway_class):
    return {'apiVersion': GATEWAY_API, 'kind': 'Gateway', 'metadata': metadata('ai_inference', name, namespace), 'spec': {
        'gatewayClassName': gateway_class,
        'listeners': [{'name': 'http', 'port': 80, 'protocol': 'HTTP', 'allowedRoutes': {'namespaces': {'from': 'Same'}}}]}}


def http_route(namespace, name, gateway_name, stable, canary):
    """A header rule (HEADER: v2 -> canary) and a weighted rule (WEIGHTS to stable and canary)."""
    return {'apiVersion': GATEWAY_API, 'kind': 'HTTPRoute', 'metadata': metadata('ai_inference', name, namespace), 'spec': {
        'parentRefs': [{'name': gateway_name}],
        'rules': [
            {'matches': [{'headers': [{'name': HEADER, 'value': 'v2'}]}], 'backendRefs': [{'name': canary, 'port': 8080}]},
            {'backendRefs': [{'name': stable, 'port': 8080, 'weight': WEIGHTS[0]}, {'name': canary, 'port': 8080, 'weight': WEIGHTS[1]}]}]}}


def gateway_programmed(gw):
    """(ok, why): Accepted and Programmed for the current generation, with an address."""
    for ctype in ('Accepted', 'Programmed'):
        ok, why = condition_met(gw, ctype)
        if not ok:
            return False, 'Gateway %s: %s' % (gw['metadata']['name'], why)
    addresses = [a.get('value') for a in (gw.get('status') or {}).get('addresses') or [] if a.get('value')]
    if not addresses:
        return False, 'Gateway %s: Programmed but no status.addresses' % gw['metadata']['name']
    return True, 'Gateway %s Accepted and Programmed at %s' % (gw['metadata']['name'], ', '.join(addresses))


def route_accepted(route, gateway_name):
    """(ok, why): the route's status for its Gateway says Accepted and ResolvedRefs True (current generation)."""
    parents = [p for p in (route.get('status') or {}).get('parents') or [] if (p.get('parentRef') or {}).get('name') == gateway_name]
    if not parents:
        return False, 'HTTPRoute %s: no status from the controller of Gateway %s' % (route['metadata']['name'], gateway_name)
    generation = route['metadata'].get('generation')
    for ctype in ('Accepted', 'ResolvedRefs'):
        cond = next((c for c in parents[0].get('conditions') or [] if c.get('type') == ctype), None)
        if cond is None:
            return False, 'HTTPRoute %s: condition %s not reported' % (route['metadata']['name'], ctype)
        if cond.get('observedGeneration') is not None and generation is not None and cond['observedGeneration'] < generation:
            return False, 'HTTPRoute %s: condition %s is for an older generation' % (route['metadata']['name'], ctype)
        if cond.get('status') != 'True':
            return False, 'HTTPRoute %s: %s is %s (%s: %s)' % (
                route['metadata']['name'], ctype, cond.get('status'), cond.get('reason'), cond.get('message'))
    return True, 'HTTPRoute %s Accepted with its references resolved by %s' % (route['metadata']['name'], parents[0].get('controllerName'))


def available(deployment):
    return ((deployment or {}).get('status') or {}).get('availableReplicas', 0) >= 1


def client_job(namespace, name, address):
    """A Job that asks the Gateway SPLIT_REQUESTS times without the header and HEADER_REQUESTS times with it; its log
    has one line `<split|header> <pod name that answered>` per request."""
    url = 'http://%s/hostname' % address
    script = ('for i in $(seq %d); do echo "split $(wget -qO- -T 5 %s)"; done; '
              'for i in $(seq %d); do echo "header $(wget -qO- -T 5 --header \'%s: v2\' %s)"; done'
              % (SPLIT_REQUESTS, url, HEADER_REQUESTS, HEADER, url))
    return {'apiVersion': 'batch/v1', 'kind': 'Job', 'metadata': metadata('ai_inference', name, namespace), 'spec': {
        'backoffLimit': 0, 'activeDeadlineSeconds': 600, 'template': {'metadata': {'labels': labels('ai_inference')}, 'spec': {
            'restartPolicy': 'Never', 'containers': [{'name': 'client', 'image': BUSYBOX, 'command': ['sh', '-c', script]}]}}}}


def split_verdict(log, stable, canary):
    """(ok, observed) from the client's log: every header request answered by the canary, and the stable share of
    the others within SPLIT_TOLERANCE points of WEIGHTS[0]."""
    counts = {'split': {}, 'header': {}}
    for line in log.splitlines():
        kind, _sep, answer = line.partition(' ')
        if kind in counts:
            who = 'stable' if answer.startswith(stable + '-') else 'canary' if answer.startswith(canary + '-') else 'error'
            counts[kind][who] = counts[kind].get(who, 0) + 1
    split, header = counts['split'], counts['header']
    total = sum(split.values())
    share = 100.0 * split.get('stable', 0) / total if total else 0.0
    header_ok = header.get('canary', 0) == HEADER_REQUESTS
    split_ok = total == SPLIT_REQUESTS and not split.get('error') and abs(share - WEIGHTS[0]) <= SPLIT_TOLERANCE
    observed = ('without the header: %d stable, %d canary, %d failed (%.0f %% stable, want %d +- %d); with %s: v2: %d canary of %d'
                % (split.get('stable', 0), split.get('canary', 0), split.get('error', 0), share, WEIGHTS[0], SPLIT_TOLERANCE, HEADER,
                   header.get('canary', 0), HEADER_REQUESTS))
    return header_ok and split_ok, observed


def job_pod_log(ctx, namespace, job_name):
    pods = [p for p in list_objects(ctx, 'v1', 'Pod', namespace) if (p['metadata'].get('labels') or {}).get('job-name') == job_name]
    if not pods:
        raise K8sError('no pod of Job %s' % job_name)
    core = CoreV1Api(ctx.client.client)
    return k8s_call('read the log of pod %s' % pods[0]['metadata']['name'],
                    core.read_namespaced_pod_log, pods[0]['metadata']['name'], namespace)


def _measure_split(ctx, namespace, address, stable, canary, found):
    job = ctx.create(client_job(namespace, unique('aic-client'), address))['metadata']['name']

    def finished():
        status = read_object(ctx, 'batch/v1', 'Job', job, namespace).get('status') or {}
        return bool(status.get('succeeded') or status.get('failed')), 'client Job %s still running' % job
    waited(ctx, finished, ctx.settings['timeout'], 'the client Job %s/%s' % (namespace, job), found, 'traffic split')
    ok, observed = split_verdict(job_pod_log(ctx, namespace, job), stable, canary)
    found.append(evidence('traffic split and header routing', 'Job %s/%s: %d requests to http://%s/hostname, %d with %s: v2'
                          % (namespace, job, SPLIT_REQUESTS, address, HEADER_REQUESTS, HEADER), observed, ok))
    return ok


@probe('ai_inference')
def ai_inference(ctx, found):
    timeout = ctx.settings['timeout']
    namespace = ctx.namespace()
    stable, canary = unique('aic-v1'), unique('aic-v2')
    for name in (stable, canary):
        for body in backend(namespace, name):
            ctx.create(body)
    found.append(evidence('backends', 'create Deployments and Services %s, %s in %s (agnhost netexec)' % (stable, canary, namespace),
                          'created', True))
    gw_name, route_name = unique('aic-gw'), unique('aic-route')
    ctx.create(gateway(namespace, gw_name, ctx.settings['gateway_class']))
    why = waited(ctx, lambda: gateway_programmed(read_object(ctx, GATEWAY_API, 'Gateway', gw_name, namespace)), timeout,
                 'Gateway %s/%s (class %s) to be Programmed' % (namespace, gw_name, ctx.settings['gateway_class']), found, 'gateway')
    found.append(evidence('gateway', 'create Gateway %s/%s, class %s, HTTP listener on port 80' % (namespace, gw_name, ctx.settings['gateway_class']),
                          why, True))
    ctx.create(http_route(namespace, route_name, gw_name, stable, canary))
    why = waited(ctx, lambda: route_accepted(read_object(ctx, GATEWAY_API, 'HTTPRoute', route_name, namespace), gw_name), timeout,
                 'HTTPRoute %s/%s to be Accepted' % (namespace, route_name), found, 'route')
    found.append(evidence('route', 'create HTTPRoute %s/%s: %s: v2 -> %s; weights %d/%d -> %s/%s'
                          % (namespace, route_name, HEADER, canary, WEIGHTS[0], WEIGHTS[1], stable, canary), why, True))
    try:
        ctx.wait(lambda: (all(available(read_object(ctx, 'apps/v1', 'Deployment', n, namespace)) for n in (stable, canary)),
                          'backend pods not available'), timeout / 2.0, 'the backend pods')
    except K8sError as exc:
        found.append(evidence('traffic split', 'wait up to %ss for Deployments %s, %s' % (timeout / 2.0, stable, canary),
                              'not measured: no backend pod became available (%s)' % exc, False))
        return {'ok': True, 'partial': True,
                'notes': 'Gateway Programmed and HTTPRoute (header and 80/20 weighted rules) Accepted with resolved references; '
                         'the traffic split itself was not measured: no backend pod became available to answer'}
    address = (read_object(ctx, GATEWAY_API, 'Gateway', gw_name, namespace).get('status') or {}).get('addresses')[0]['value']
    ok = _measure_split(ctx, namespace, address, stable, canary, found)
    return {'ok': ok, 'notes': ('Gateway Programmed, HTTPRoute Accepted, traffic split and header routing measured' if ok
                                else 'the Gateway did not route as the HTTPRoute says: ' + found[-1]['observed'])}


# ---------------------------------------------------------------------------------------------- robust_controller

def workspace(namespace, name, settings, valid=True):
    """A CPU `template` Workspace (agnhost netexec on KAITO's port 5000); KAITO refuses one with neither inference
    nor tuning. The node label selector and, with node auto-provisioning, the instance type come from the settings."""
    body = {'apiVersion': KAITO, 'kind': 'Workspace', 'metadata': metadata('robust_controller', name, namespace),
            'resource': {'labelSelector': {'matchLabels': dict(settings.get('kaito_label_selector') or {'kubernetes.io/os': 'linux'})}}}
    if settings.get('kaito_instance_type'):
        body['resource']['instanceType'] = settings['kaito_instance_type']
    if valid:
        body['inference'] = {'template': {'spec': {'containers': [{
            'name': 'netexec', 'image': AGNHOST, 'args': ['netexec', '--http-port=5000'], 'ports': [{'containerPort': 5000}],
            'resources': {'requests': {'cpu': '100m', 'memory': '64Mi'}},
            'readinessProbe': {'httpGet': {'path': '/healthz', 'port': 5000}, 'periodSeconds': 5}}]}}}
    return body


def dry_run_refusal(exc):
    """(ok, observed) of a refused server dry-run create: ok when an admission webhook denied it."""
    message = api_error_message(exc)
    return 'admission webhook' in message and WEBHOOK_DENIAL in message, message


@probe('robust_controller')
def robust_controller(ctx, found):
    namespace = ctx.namespace()
    resource = served(ctx.client, KAITO, 'Workspace')
    if resource is None:
        raise K8sError('the server does not serve %s Workspace (KAITO is not installed)' % KAITO)
    invalid = workspace(namespace, unique('aic-invalid'), ctx.settings, valid=False)
    call = 'create Workspace %s/%s with neither inference nor tuning, dryRun=All' % (namespace, invalid['metadata']['name'])
    try:
        ctx.client.create(resource, body=invalid, namespace=namespace, dry_run='All')
    except ApiException as exc:
        refused, observed = dry_run_refusal(exc)
    else:
        refused, observed = False, 'accepted: no admission webhook refused an invalid Workspace'
    found.append(evidence('webhook refuses an invalid Workspace', call, observed, refused))
    name = unique('aic-ws')
    ctx.create(workspace(namespace, name, ctx.settings))
    why = waited(ctx, lambda: condition_met(read_object(ctx, KAITO, 'Workspace', name, namespace), 'InferenceReady'), ctx.settings['timeout'],
                 'Workspace %s/%s to be InferenceReady' % (namespace, name), found, 'Workspace reconciled')
    found.append(evidence('Workspace reconciled', 'create Workspace %s/%s (CPU template, agnhost)' % (namespace, name), why, True))
    ok = refused
    return {'ok': ok, 'notes': 'KAITO: webhook refused an invalid Workspace, a valid one became InferenceReady' if ok
            else 'KAITO reconciled a valid Workspace, but its webhook did not refuse an invalid one: ' + observed}


PROBES = {
    'gang_scheduling': gang_scheduling,
    'ai_inference': ai_inference,
    'robust_controller': robust_controller,
}
