"""A stand-in for the parts of Kubernetes that run a GPU validation Job, which the test bed (etcd and an apiserver: no
controller-manager, scheduler or kubelet) lacks. It acts only on the Jobs labelled app.kubernetes.io/name=gpu-validation
in one namespace and on their pods, and plays, as strictly as the real components:

- the Job controller (1.20): one pod per missing active pod (``generateName: <job>-``, the template's labels and spec,
  a controller ownerReference), ``startTime``/``active``/``succeeded``/``failed``; ``Complete``, or ``Failed`` with
  ``BackoffLimitExceeded`` once more pods failed than ``backoffLimit`` (retry pods come at once: the 10 s, 20 s, ...
  back-off is not played) or ``DeadlineExceeded`` after ``activeDeadlineSeconds`` (its active pods deleted);
- the TTL-after-finished controller: a finished Job is deleted (propagationPolicy Background) ``ttlSecondsAfterFinished``
  after its Complete/Failed condition. A 1.20 apiserver drops that field unless started with
  ``--feature-gates=TTLAfterFinished=true`` (alpha in 1.20, on since 1.21), so on the shared bed no Job has one;
- kube-scheduler, for pods of the default scheduler: the NodeUnschedulable, TaintToleration, NodeAffinity (nodeSelector
  and required node affinity) and NodeResourcesFit filters, in that order, over every Node; the first fitting Node by
  name is bound (pods/binding), else the pod gets ``PodScheduled`` False ``Unschedulable`` with kube-scheduler's
  message, ``0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) didn't match Pod's node
  affinity/selector, 1 node(s) had untolerated taint {sku: gpu}.`` (reasons of current kube-scheduler, without its
  ``preemption:`` part; ``no nodes available to schedule pods`` without Nodes), checked again each round;
- the kubelet with the NVIDIA container runtime: admission first (a pod bound to a node without room for it or whose
  affinity it does not match, as with a spec.nodeName that skips the scheduler, is Failed with reason
  ``OutOfnvidia.com/gpu`` and ``Pod Node didn't have enough resource: nvidia.com/gpu, requested: 1, used: 0, capacity: 0``,
  or ``NodeAffinity`` ``Pod Predicate NodeAffinity failed``); then init containers one by one, then the containers
  (together, as a kubelet starts them), results from ``outcomes`` or from the container's name (``nvidia-smi``,
  ``cuda-vectoradd``, ``dcgm-diag``); a container whose limits hold no NVIDIA resource sees no GPU.
  ``state.terminated.message`` is what a kubelet would report: the output if the command writes its
  terminationMessagePath, else with FallbackToLogsOnError the output of a container that failed, else nothing.
  Terminating pods are deleted (grace 0);
- the garbage collector: the ``orphan`` finalizer (batch/v1 Job's default on delete) removes the Job's ownerReference
  from its pods, ``foregroundDeletion`` deletes them first, and a pod whose Job is gone is deleted.

Nodes are taken as they are: one that still has the ``node.kubernetes.io/not-ready`` taint the apiserver puts on a new
Node (tests/integration/gpu_standin.py's do) is refused as kube-scheduler refuses it, until someone plays the node
lifecycle controller and removes it.

Not played: node pressure and pod eviction, the pod garbage collector (pods of deleted Nodes stay), host ports, volumes,
restartPolicy OnFailure, and the back-off delay between retries. What the stand-in does not play is left alone and
said once on stderr (``unplayed``), never guessed.

    python -m tests.integration.gpu_validation_standin start --state DIR/gpu-validation.json --kubeconfig K --namespace NS [--watch PATH] [--outcomes JSON]
    python -m tests.integration.gpu_validation_standin stop --state DIR/gpu-validation.json

``--outcomes`` (and ``JobStandIn(outcomes=...)``): ``{node: {container: [exit_code, output]}}`` or ``{node: "running"}``;
``"running"`` (a whole node or one container) keeps that container running until the outcome changes.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import signal
import sys
import uuid
from pathlib import Path

from tests.integration import background
from tests.integration.gpu_standin import api
from tests.integration.kaito_standin import MERGE, client_for, now, reconcile_until_told

NAME_LABEL, NAME = 'app.kubernetes.io/name', 'gpu-validation'
SELECTOR = '%s=%s' % (NAME_LABEL, NAME)
RUNNING = 'running'
UNSCHEDULABLE_TAINT = {'key': 'node.kubernetes.io/unschedulable', 'effect': 'NoSchedule'}
AFFINITY_MISMATCH = "node(s) didn't match Pod's node affinity/selector"
FINISHED = ('Succeeded', 'Failed')
BACKGROUND = {'apiVersion': 'v1', 'kind': 'DeleteOptions', 'propagationPolicy': 'Background'}
VECTORADD_PASSED = '\n'.join([
    '[Vector addition of 50000 elements]', 'Copy input data from the host memory to the CUDA device',
    'CUDA kernel launch with 196 blocks of 256 threads', 'Copy output data from the CUDA device to the host memory',
    'Test PASSED', 'Done'])
DCGM_PASSED = '\n'.join([
    'Successfully ran diagnostic for group.',
    '+---------------------------+------------------------------------------------+',
    '| Diagnostic                | Result                                         |',
    '+===========================+================================================+',
    '|-----  Deployment  --------+------------------------------------------------|',
    '| software                  | Pass                                           |',
    '+---------------------------+------------------------------------------------+'])


def age(timestamp):
    stamp = datetime.datetime.strptime(timestamp, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
    return (datetime.datetime.now(datetime.timezone.utc) - stamp).total_seconds()


def quantity(value):
    from kubernetes.utils.quantity import parse_quantity
    return parse_quantity(value)


# ------------------------------------------------------------------------------------------------------ scheduler

def tolerates(toleration, taint):
    """v1.Toleration.ToleratesTaint: an empty effect or key matches all, operator Equal (the default) compares values."""
    if toleration.get('effect') and toleration['effect'] != taint.get('effect'):
        return False
    if toleration.get('key') and toleration['key'] != taint.get('key'):
        return False
    operator = toleration.get('operator') or 'Equal'
    return operator == 'Exists' or (operator == 'Equal' and (toleration.get('value') or '') == (taint.get('value') or ''))


def expression_matches(expression, present, value):
    operator, values = expression['operator'], expression.get('values') or []
    if operator == 'In':
        return present and value in values
    if operator == 'NotIn':
        return not present or value not in values
    if operator == 'Exists':
        return present
    if operator == 'DoesNotExist':
        return not present
    if operator in ('Gt', 'Lt') and present and len(values) == 1:
        try:
            have, bound = int(value), int(values[0])
        except ValueError:
            return False
        return have > bound if operator == 'Gt' else have < bound
    return False


def term_matches(term, node):
    """A nodeSelectorTerm: its matchExpressions (labels) and matchFields (metadata.name) ANDed; an empty term selects
    no node."""
    expressions, fields = term.get('matchExpressions') or [], term.get('matchFields') or []
    labels, name = node['metadata'].get('labels') or {}, node['metadata']['name']
    return bool(expressions or fields) and \
        all(expression_matches(e, e['key'] in labels, labels.get(e['key'])) for e in expressions) and \
        all(expression_matches(f, f['key'] == 'metadata.name', name) for f in fields)


def affinity_matches(spec, node):
    labels = node['metadata'].get('labels') or {}
    if any(labels.get(key) != value for key, value in (spec.get('nodeSelector') or {}).items()):
        return False
    required = ((spec.get('affinity') or {}).get('nodeAffinity') or {}).get('requiredDuringSchedulingIgnoredDuringExecution')
    return required is None or any(term_matches(term, node) for term in required.get('nodeSelectorTerms') or [])


def container_requests(container):
    """Requests, defaulting to limits (the apiserver's defaulting, here too for templates written before it)."""
    resources = container.get('resources') or {}
    merged = dict(resources.get('limits') or {}, **(resources.get('requests') or {}))
    return dict((name, quantity(amount)) for name, amount in merged.items())


def pod_requests(spec):
    """The pod's effective request: max(sum over containers, max over init containers) per resource, plus overhead."""
    total = {}
    for container in spec.get('containers') or []:
        for name, amount in container_requests(container).items():
            total[name] = total.get(name, 0) + amount
    for container in spec.get('initContainers') or []:
        for name, amount in container_requests(container).items():
            total[name] = max(total.get(name, 0), amount)
    for name, amount in (spec.get('overhead') or {}).items():
        total[name] = total.get(name, 0) + quantity(amount)
    return total


def untolerated_taint(spec, node, effects):
    tolerations = spec.get('tolerations') or []
    return next((taint for taint in node['spec'].get('taints') or []
                 if taint.get('effect') in effects and not any(tolerates(t, taint) for t in tolerations)), None)


def shortfalls(spec, node, used):
    """NodeResourcesFit: (resource, requested, used, capacity) of what the node cannot give, the pod count first, then
    cpu, memory, ephemeral-storage and the others. `used` is what the node's non-finished pods request (count: 'pods')."""
    allocatable = (node.get('status') or {}).get('allocatable') or {}
    short = []
    if used.get('pods', 0) + 1 > quantity(allocatable.get('pods', 0)):
        short.append(('pods', 1, used.get('pods', 0), quantity(allocatable.get('pods', 0))))
    order = {'cpu': 0, 'memory': 1, 'ephemeral-storage': 2}
    for name, amount in sorted(pod_requests(spec).items(), key=lambda item: (order.get(item[0], 3), item[0])):
        if amount > 0 and amount > quantity(allocatable.get(name, 0)) - used.get(name, 0):
            short.append((name, amount, used.get(name, 0), quantity(allocatable.get(name, 0))))
    return short


def filter_node(spec, node, used):
    """kube-scheduler's reasons why `node` cannot take a pod with `spec` ([] if it fits), from the first filter that
    refuses it."""
    if node['spec'].get('unschedulable') and not any(tolerates(t, UNSCHEDULABLE_TAINT) for t in spec.get('tolerations') or []):
        return ['node(s) were unschedulable']
    taint = untolerated_taint(spec, node, ('NoSchedule', 'NoExecute'))
    if taint:
        return ['node(s) had untolerated taint {%s: %s}' % (taint['key'], taint.get('value') or '')]
    if not affinity_matches(spec, node):
        return [AFFINITY_MISMATCH]
    return ['Too many pods' if name == 'pods' else 'Insufficient %s' % name for name, *amounts in shortfalls(spec, node, used)]


def admission_refusal(spec, node, used):
    """The kubelet's admission of a pod bound to its node (by the scheduler or by a spec.nodeName): (reason, message)
    of the first of its GeneralPredicates (resources, node affinity) and NoExecute taints that fails, else None."""
    short = shortfalls(spec, node, used)
    if short:
        name, requested, in_use, capacity = short[0]
        scale = 1000 if name == 'cpu' else 1  # cpu in millicores
        return 'OutOf%s' % name, "Pod Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d" % (
            name, requested * scale, in_use * scale, capacity * scale)
    if not affinity_matches(spec, node):
        return 'NodeAffinity', 'Pod Predicate NodeAffinity failed'
    if untolerated_taint(spec, node, ('NoExecute',)):
        return 'TaintToleration', 'Pod Predicate TaintToleration failed'
    return None


def unschedulable_message(node_count, reasons):
    """kube-scheduler's FitError: each reason counted over the nodes, sorted."""
    if not node_count:
        return 'no nodes available to schedule pods'
    counts = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return '0/%d nodes are available: %s.' % (node_count, ', '.join(sorted('%d %s' % (n, r) for r, n in counts.items())))


# ------------------------------------------------------------------------------------------------------ kubelet

def gpu_count(container):
    """GPUs the device plugins give the container: its nvidia.com/gpu limit, one for a shared GPU or a MIG slice."""
    limits = (container.get('resources') or {}).get('limits') or {}
    if 'nvidia.com/gpu' in limits:
        return int(quantity(limits['nvidia.com/gpu']))
    return int(any(name == 'nvidia.com/gpu.shared' or name.startswith('nvidia.com/mig-') for name in limits))


def nvidia_smi(node, gpus):
    if not gpus:
        return 127, 'sh: 1: nvidia-smi: not found'
    labels = node['metadata'].get('labels') or {}
    product = labels.get('nvidia.com/gpu.product', 'NVIDIA-A100-80GB-PCIe').replace('-', ' ')
    driver = labels.get('nvidia.com/cuda.driver-version.full', '570.172.08')
    memory = labels.get('nvidia.com/gpu.memory', '81920')
    return 0, '\n'.join('%d, %s, %s, %s MiB' % (index, product, driver, memory) for index in range(gpus))


def cuda_vectoradd(node, gpus):
    if not gpus:
        return 1, '[Vector addition of 50000 elements]\nFailed to allocate device vector A (error code no CUDA-capable device is detected)!'
    return 0, VECTORADD_PASSED


def dcgm_diag(node, gpus):
    if not gpus:
        return 1, 'Error: Unable to complete diagnostic for group 2147483647: no GPU was found on this system.'
    return 0, DCGM_PASSED


BEHAVIOURS = {'nvidia-smi': nvidia_smi, 'cuda-vectoradd': cuda_vectoradd, 'dcgm-diag': dcgm_diag}


def behaviour(container, node):
    """(exit code, output) of a container with no outcome given: by its name, GPUs as the runtime gives them."""
    name = container['name']
    missing = [field for field in ('image', 'command') if not container.get(field)]
    if missing:
        return 2, 'gpu validation stand-in: container %s has no %s: a bug in the renderer (what would run is unknown)' % (
            name, ' or '.join(missing))
    if name not in BEHAVIOURS:
        return 2, 'gpu validation stand-in: no behaviour for a container named %s' % name
    return BEHAVIOURS[name](node, gpu_count(container))


def termination_message(container, code, output):
    """The kubelet reads terminationMessagePath (taken as written when the command names it), and with
    FallbackToLogsOnError the log's tail (2048 bytes) of a container that failed."""
    path = container.get('terminationMessagePath') or '/dev/termination-log'
    if path in ' '.join((container.get('command') or []) + (container.get('args') or [])):
        return output[-4096:]
    if container.get('terminationMessagePolicy') == 'FallbackToLogsOnError' and code != 0:
        return output[-2048:]
    return ''


def checked_outcomes(outcomes):
    """{node: "running" | {container: (exit_code, output) | "running"}}; anything else is refused."""
    checked = {}
    for node, planned in (outcomes or {}).items():
        if planned == RUNNING:
            checked[node] = RUNNING
            continue
        if not isinstance(planned, dict):
            raise ValueError('outcome of node %s: "running" or {container: [exit_code, output]}, got %r' % (node, planned))
        checked[node] = {}
        for container, result in planned.items():
            if result != RUNNING and not (isinstance(result, (list, tuple)) and len(result) == 2 and isinstance(result[0], int)
                                          and isinstance(result[1], str)):
                raise ValueError('outcome of %s on %s: "running" or [exit_code, output], got %r' % (container, node, result))
            checked[node][container] = RUNNING if result == RUNNING else (result[0], result[1])
    return checked


def waiting_status(container):
    return {'name': container['name'], 'image': container.get('image', ''), 'imageID': '', 'ready': False, 'restartCount': 0,
            'started': False, 'state': {'waiting': {'reason': 'PodInitializing'}}}


def container_condition(ctype, not_done, reason_not_done, what, phase, previous):
    """The kubelet's Initialized/Ready/ContainersReady condition; lastTransitionTime kept while the status stays."""
    if phase == 'Succeeded':
        cond = {'type': ctype, 'status': 'True' if ctype == 'Initialized' else 'False', 'reason': 'PodCompleted'}
    elif not_done:
        cond = {'type': ctype, 'status': 'False', 'reason': reason_not_done,
                'message': 'containers with %s status: [%s]' % (what, ' '.join(not_done))}
    else:
        cond = {'type': ctype, 'status': 'True'}
    old = previous.get(ctype) or {}
    cond.update(lastProbeTime=None, lastTransitionTime=old.get('lastTransitionTime') if old.get('status') == cond['status'] else now())
    return cond


# ------------------------------------------------------------------------------------------------------ the stand-in

def controller_uid(obj):
    return next((ref['uid'] for ref in obj['metadata'].get('ownerReferences') or []
                 if ref.get('controller') and ref.get('kind') == 'Job'), None)


def finished_condition(job):
    return next((c for c in (job.get('status') or {}).get('conditions') or []
                 if c['type'] in ('Complete', 'Failed') and c['status'] == 'True'), None)


def add_use(used, node, spec):
    """Count one pod of `spec` on `node` in `used` ({node: {'pods': count, resource: amount}}), as the scheduler and the
    kubelet's admission count what a node holds."""
    held = used.setdefault(node, {})
    held['pods'] = held.get('pods', 0) + 1
    for name, amount in pod_requests(spec).items():
        held[name] = held.get(name, 0) + amount


def mark_unschedulable(pods, pod, message):
    """kube-scheduler's PodScheduled False Unschedulable with `message`, its transition time kept while it stays False."""
    old = next((c for c in pod['status'].get('conditions') or [] if c['type'] == 'PodScheduled'), {})
    if (old.get('status'), old.get('reason'), old.get('message')) == ('False', 'Unschedulable', message):
        return
    condition = {'type': 'PodScheduled', 'status': 'False', 'reason': 'Unschedulable', 'message': message, 'lastProbeTime': None,
                 'lastTransitionTime': old.get('lastTransitionTime') if old.get('status') == 'False' else now()}
    others = [c for c in pod['status'].get('conditions') or [] if c['type'] != 'PodScheduled']
    pods.status.patch(name=pod['metadata']['name'], namespace=pod['metadata']['namespace'], content_type=MERGE,
                      body={'status': {'conditions': others + [condition]}})


def schedule_pod(client, pods, pod, nodes, used):
    """kube-scheduler for one pod: bound (pods/binding) to the first of `nodes` whose filters pass, counted in `used` at
    once for the pods after it; else marked Unschedulable with kube-scheduler's message. Returns the node's name or None."""
    meta = pod['metadata']
    reasons = []
    for node in nodes:
        refused = filter_node(pod['spec'], node, used.get(node['metadata']['name'], {}))
        if not refused:
            name = node['metadata']['name']
            client.request('post', '/api/v1/namespaces/%s/pods/%s/binding' % (meta['namespace'], meta['name']), body={
                'apiVersion': 'v1', 'kind': 'Binding', 'metadata': {'name': meta['name'], 'namespace': meta['namespace']},
                'target': {'apiVersion': 'v1', 'kind': 'Node', 'name': name}})
            add_use(used, name, pod['spec'])
            return name
        reasons += refused
    mark_unschedulable(pods, pod, unschedulable_message(len(nodes), reasons))
    return None


class JobStandIn:
    """The Job controller, TTL controller, scheduler, kubelet and garbage collector for the GPU validation Jobs of
    `namespace` (see the module's docstring). One instance steps at a time. `outcomes` may be replaced between rounds
    (a container left running then finishes with what it now says); checked_outcomes shows its form."""

    def __init__(self, client, namespace, outcomes=None):
        self.client = client
        self.namespace = namespace
        self.outcomes = checked_outcomes(outcomes)
        self.jobs, self.pods, self.nodes = api(client, 'Job', 'batch/v1'), api(client, 'Pod'), api(client, 'Node')
        self.job_uids = set()  # every Job of ours seen: their pods stay ours once the Job is gone
        self.unplayed = {}  # (kind, name) -> why the stand-in leaves it alone

    def step(self):
        """One round: garbage collector, Job and TTL controllers, scheduler, kubelet, each over fresh lists. Like a
        controller's per-object reconcile, one object that fails (a conflict with a test's write) does not hold up
        the others."""
        jobs = self.jobs.get(namespace=self.namespace, label_selector=SELECTOR).to_dict()['items']
        self.job_uids.update(job['metadata']['uid'] for job in jobs)
        self.each(jobs, self.sync_job, self.our_pods())
        live = set(job['metadata']['uid'] for job in jobs if not job['metadata'].get('deletionTimestamp'))
        self.each(self.our_pods(), self.collect_pod, live)
        nodes = sorted(self.nodes.get().to_dict()['items'], key=lambda node: node['metadata']['name'])
        self.schedule([pod for pod in self.our_pods() if not pod['spec'].get('nodeName')], nodes)
        by_name = dict((node['metadata']['name'], node) for node in nodes)
        admitted = {}
        for pod in self.bound_pods():
            if pod['status'].get('startTime'):
                add_use(admitted, pod['spec']['nodeName'], pod['spec'])
        mine = [pod for pod in self.our_pods() if pod['spec'].get('nodeName') in by_name]
        self.each(sorted(mine, key=lambda p: (p['metadata']['creationTimestamp'], p['metadata']['name'])), self.kubelet, by_name, admitted)

    def each(self, objects, reconcile, *args):
        from kubernetes.client.exceptions import ApiException
        for obj in objects:
            try:
                reconcile(obj, *args)
            except ApiException:
                continue

    def our_pods(self):
        return [pod for pod in self.pods.get(namespace=self.namespace).to_dict()['items']
                if (pod['metadata'].get('labels') or {}).get(NAME_LABEL) == NAME
                or (pod['metadata'].get('labels') or {}).get('controller-uid') in self.job_uids]

    def bound_pods(self):
        """Every namespace's non-finished pods on a node: what the nodes' resources already carry."""
        return [pod for pod in self.pods.get(field_selector='status.phase!=Succeeded,status.phase!=Failed').to_dict()['items']
                if pod['spec'].get('nodeName')]

    def refuse(self, kind, name, why):
        if (kind, name) not in self.unplayed:
            self.unplayed[(kind, name)] = why
            print('gpu validation stand-in: leaves %s %s/%s alone: %s' % (kind, self.namespace, name, why), file=sys.stderr, flush=True)

    # ------------------------------------------------------------------------------------------ Job and TTL controllers

    def sync_job(self, job, pods):
        meta, spec = job['metadata'], job['spec']
        if meta.get('deletionTimestamp'):
            self.collect_job(job, pods)
            return
        if spec['template']['spec'].get('restartPolicy') != 'Never':
            self.refuse('Job', meta['name'], 'restartPolicy %s is not played (only Never)' % spec['template']['spec'].get('restartPolicy'))
            return
        done = finished_condition(job)
        if done:
            ttl = spec.get('ttlSecondsAfterFinished')
            if ttl is not None and age(done['lastTransitionTime']) >= ttl:
                self.jobs.delete(name=meta['name'], namespace=self.namespace, body=BACKGROUND)
            return
        mine = [pod for pod in pods if controller_uid(pod) == meta['uid']]
        active = [pod for pod in mine if pod['status'].get('phase') not in FINISHED and not pod['metadata'].get('deletionTimestamp')]
        succeeded = sum(1 for pod in mine if pod['status'].get('phase') == 'Succeeded')
        failed = sum(1 for pod in mine if pod['status'].get('phase') == 'Failed')
        status = dict(job.get('status') or {})
        status.setdefault('startTime', now())
        conditions = list(status.get('conditions') or [])
        deadline = spec.get('activeDeadlineSeconds')
        failure = None
        if failed > spec.get('backoffLimit', 6):
            failure = ('BackoffLimitExceeded', 'Job has reached the specified backoff limit')
        elif deadline is not None and age(status['startTime']) >= deadline:
            failure = ('DeadlineExceeded', 'Job was active longer than specified deadline')
        if failure:
            for pod in active:
                self.pods.delete(name=pod['metadata']['name'], namespace=self.namespace)
            failed, active = failed + len(active), []
            conditions.append({'type': 'Failed', 'status': 'True', 'reason': failure[0], 'message': failure[1],
                               'lastProbeTime': now(), 'lastTransitionTime': now()})
        else:
            active = self.manage(job, active, succeeded)
            completions = spec.get('completions')
            if (succeeded > 0 and not active) if completions is None else succeeded >= completions:
                conditions.append({'type': 'Complete', 'status': 'True', 'lastProbeTime': now(), 'lastTransitionTime': now()})
                status['completionTime'] = now()
        status.update(active=len(active), succeeded=succeeded, failed=failed, conditions=conditions or None)
        written = dict((k, v) for k, v in status.items() if v)  # the apiserver omits zero counts
        if written != dict((k, v) for k, v in (job.get('status') or {}).items() if v):
            self.jobs.status.patch(name=meta['name'], namespace=self.namespace, content_type=MERGE,
                                   body={'status': status})

    def manage(self, job, active, succeeded):
        """The 1.20 job controller's manageJob: as many active pods as parallelism allows and completions still need."""
        spec = job['spec']
        parallelism, completions = spec.get('parallelism', 1), spec.get('completions')
        if len(active) > parallelism:
            extra = sorted(active, key=lambda pod: (bool(pod['spec'].get('nodeName')), pod['metadata']['creationTimestamp']))
            for pod in extra[:len(active) - parallelism]:
                self.pods.delete(name=pod['metadata']['name'], namespace=self.namespace)
            return extra[len(active) - parallelism:]
        if completions is None:
            want = len(active) if succeeded else parallelism
        else:
            want = min(completions - succeeded, parallelism)
        return active + [self.create_pod(job) for index in range(max(0, want - len(active)))]

    def create_pod(self, job):
        meta, template = job['metadata'], job['spec']['template']
        labels = dict(template['metadata'].get('labels') or {}, **{'controller-uid': meta['uid'], 'job-name': meta['name']})
        body = {'apiVersion': 'v1', 'kind': 'Pod', 'spec': template['spec'], 'metadata': {
            'generateName': meta['name'] + '-', 'namespace': self.namespace, 'labels': labels,
            'annotations': template['metadata'].get('annotations') or {},
            'ownerReferences': [{'apiVersion': 'batch/v1', 'kind': 'Job', 'name': meta['name'], 'uid': meta['uid'],
                                 'controller': True, 'blockOwnerDeletion': True}]}}
        return self.pods.create(body=body, namespace=self.namespace).to_dict()

    # ------------------------------------------------------------------------------------------ garbage collector

    def collect_job(self, job, pods):
        """A Job being deleted: orphan its pods or delete them first, as its finalizer says, then drop the finalizer."""
        meta = job['metadata']
        finalizers = meta.get('finalizers') or []
        owned = [pod for pod in pods if any(ref['uid'] == meta['uid'] for ref in pod['metadata'].get('ownerReferences') or [])]
        if 'orphan' in finalizers:
            for pod in owned:
                refs = [ref for ref in pod['metadata']['ownerReferences'] if ref['uid'] != meta['uid']]
                self.pods.patch(name=pod['metadata']['name'], namespace=self.namespace, content_type=MERGE, body={'metadata': {
                    'ownerReferences': refs or None, 'resourceVersion': pod['metadata']['resourceVersion']}})
            self.drop_finalizer(meta, 'orphan')
        elif 'foregroundDeletion' in finalizers:
            for pod in owned:
                if not pod['metadata'].get('deletionTimestamp'):
                    self.pods.delete(name=pod['metadata']['name'], namespace=self.namespace, body=BACKGROUND)
            if not owned:
                self.drop_finalizer(meta, 'foregroundDeletion')

    def drop_finalizer(self, meta, finalizer):
        self.jobs.patch(name=meta['name'], namespace=self.namespace, content_type=MERGE, body={'metadata': {
            'finalizers': [f for f in meta['finalizers'] if f != finalizer] or None, 'resourceVersion': meta['resourceVersion']}})

    def collect_pod(self, pod, live):
        """A pod whose owner Job is gone (looked up by name, compared by uid, as the garbage collector does)."""
        from kubernetes.dynamic.exceptions import NotFoundError
        for ref in pod['metadata'].get('ownerReferences') or []:
            if ref.get('kind') != 'Job' or ref['uid'] in live or pod['metadata'].get('deletionTimestamp'):
                continue
            try:
                gone = self.jobs.get(name=ref['name'], namespace=self.namespace).to_dict()['metadata']['uid'] != ref['uid']
            except NotFoundError:
                gone = True
            if gone:
                self.pods.delete(name=pod['metadata']['name'], namespace=self.namespace, body=BACKGROUND)
                return

    # ------------------------------------------------------------------------------------------ scheduler

    def schedule(self, pending, nodes):
        """Oldest pod first; each binding counts at once for the pods after it."""
        if not pending:
            return
        used = {}
        for pod in self.bound_pods():
            add_use(used, pod['spec']['nodeName'], pod['spec'])
        for pod in sorted(pending, key=lambda p: (p['metadata']['creationTimestamp'], p['metadata']['name'])):
            if pod['spec'].get('schedulerName', 'default-scheduler') == 'default-scheduler' and not pod['metadata'].get('deletionTimestamp'):
                self.each([pod], functools.partial(schedule_pod, self.client, self.pods), nodes, used)

    # ------------------------------------------------------------------------------------------ kubelet

    def result(self, container, node):
        planned = self.outcomes.get(node['metadata']['name'])
        if planned == RUNNING:
            return RUNNING
        if planned and container['name'] in planned:
            return planned[container['name']]
        return behaviour(container, node)

    def kubelet(self, pod, nodes, admitted):
        """Admit the pod (or fail it as the kubelet rejects one), run its containers (each once: restartPolicy Never)
        and report them through pods/status; a terminating pod is deleted at once, as the kubelet does once its
        containers stopped. `admitted`: what the pods the kubelets admitted request, by node."""
        meta, spec, status = pod['metadata'], pod['spec'], pod['status']
        if meta.get('deletionTimestamp'):
            self.pods.delete(name=meta['name'], namespace=self.namespace, body={'apiVersion': 'v1', 'kind': 'DeleteOptions', 'gracePeriodSeconds': 0})
            return
        if status.get('phase') in FINISHED:
            return
        if spec.get('restartPolicy') != 'Never':
            self.refuse('Pod', meta['name'], 'restartPolicy %s is not played (only Never)' % spec.get('restartPolicy'))
            return
        node = nodes[spec['nodeName']]
        if not status.get('startTime'):
            refusal = admission_refusal(spec, node, admitted.get(spec['nodeName'], {}))
            if refusal:
                self.pods.status.patch(name=meta['name'], namespace=self.namespace, content_type=MERGE, body={'status': {
                    'phase': 'Failed', 'reason': refusal[0], 'message': refusal[1], 'startTime': now()}})
                return
            add_use(admitted, pod['spec']['nodeName'], pod['spec'])
        previous = dict((s['name'], s) for s in (status.get('initContainerStatuses') or []) + (status.get('containerStatuses') or []))
        init_statuses, blocked = [], None
        for container in spec.get('initContainers') or []:
            if blocked:
                init_statuses.append(waiting_status(container))
                continue
            init_statuses.append(self.run(container, node, previous.get(container['name']), init=True))
            state = init_statuses[-1]['state']
            blocked = 'running' if 'running' in state else 'failed' if state['terminated']['exitCode'] else None
        if blocked:
            statuses = [waiting_status(container) for container in spec['containers']]
            phase = 'Failed' if blocked == 'failed' else 'Pending'
        else:
            statuses = [self.run(container, node, previous.get(container['name']), init=False) for container in spec['containers']]
            states = [s['state'] for s in statuses]
            phase = 'Running' if any('running' in state for state in states) else \
                'Succeeded' if all(state['terminated']['exitCode'] == 0 for state in states) else 'Failed'
        old_conditions = dict((c['type'], c) for c in status.get('conditions') or [])
        uninitialized = [s['name'] for s in init_statuses if (s['state'].get('terminated') or {}).get('exitCode', 1) != 0]
        unready = [s['name'] for s in statuses if not s['ready']]
        conditions = [container_condition('Initialized', uninitialized, 'ContainersNotInitialized', 'incomplete', phase, old_conditions),
                      container_condition('Ready', unready, 'ContainersNotReady', 'unready', phase, old_conditions),
                      container_condition('ContainersReady', unready, 'ContainersNotReady', 'unready', phase, old_conditions)]
        conditions += [old_conditions['PodScheduled']] if 'PodScheduled' in old_conditions else []
        new = {'phase': phase, 'conditions': conditions, 'containerStatuses': statuses, 'startTime': status.get('startTime') or now()}
        if init_statuses:
            new['initContainerStatuses'] = init_statuses
        if any(status.get(key) != value for key, value in new.items()):
            self.pods.status.patch(name=meta['name'], namespace=self.namespace, content_type=MERGE, body={'status': new})

    def run(self, container, node, previous, init):
        """The container's status: kept once terminated, else from its outcome (running, or terminated now)."""
        if previous and 'terminated' in previous['state']:
            return previous
        result = self.result(container, node)
        started = (previous or {}).get('state', {}).get('running', {}).get('startedAt') or now()
        status = {'name': container['name'], 'image': container.get('image', ''), 'imageID': '', 'restartCount': 0,
                  'containerID': (previous or {}).get('containerID') or 'containerd://' + uuid.uuid4().hex * 2}
        if result == RUNNING:
            if previous and 'running' in previous['state']:
                return previous
            ready = not init and not container.get('readinessProbe')
            return dict(status, ready=ready, started=True, state={'running': {'startedAt': started}})
        code, output = result
        terminated = {'exitCode': code, 'reason': 'Completed' if code == 0 else 'Error', 'startedAt': started, 'finishedAt': now(),
                      'containerID': status['containerID']}
        message = termination_message(container, code, output)
        if message:
            terminated['message'] = message
        return dict(status, ready=False, started=False, state={'terminated': terminated})

    @contextlib.contextmanager
    def running(self, interval=0.2):
        """Step in a thread for the length of the block (tests that play the cluster beside the code under test); a
        round that fails is reported and tried again the next round."""
        with background.stepping(self.step, interval, lambda exc: print('gpu validation stand-in: round failed: %r' % exc,
                                                                        file=sys.stderr, flush=True)):
            yield self


def serve(args):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    standin = JobStandIn(client_for(args.kubeconfig), args.namespace, json.loads(args.outcomes) if args.outcomes else None)
    background.write_ready(Path(args.state), {'kubeconfig': str(args.kubeconfig), 'namespace': args.namespace,
                                              'outcomes': args.outcomes})
    return reconcile_until_told(standin, args)


def main(argv=None):
    def arguments(p):
        p.add_argument('--kubeconfig', required=True)
        p.add_argument('--namespace', required=True)
        p.add_argument('--outcomes', help='JSON: {node: {container: [exit_code, output]}} or {node: "running"}')
        p.add_argument('--interval', type=float, default=0.2)
    parser = background.helper_parser('tests.integration.gpu_validation_standin', __doc__, arguments)[0]
    args = parser.parse_args(argv)
    if getattr(args, 'outcomes', None):
        try:
            checked_outcomes(json.loads(args.outcomes))  # refused here rather than in the detached process
        except ValueError as exc:
            parser.error('--outcomes: %s' % exc)
    if background.start_or_stop(args, 'gpu-validation-standin', 'tests.integration.gpu_validation_standin',
                                ['kubeconfig', 'namespace', 'interval', 'outcomes']):
        return 0
    return serve(args)


if __name__ == '__main__':
    sys.exit(main())
