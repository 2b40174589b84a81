"""A stand-in for the cluster autoscaler of an AKS cluster and for the parts of Kubernetes a GPU scale-up goes through,
which the test bed (etcd and an apiserver: no controller-manager, scheduler or kubelet) lacks. It acts only on pods
and Jobs in namespaces whose name starts with `namespace_prefix` (other tests share the bed), and on the Nodes it
makes itself, and plays, as strictly as the real components:

- the Job controller (batch/v1): ``min(parallelism, completions)`` pods at once (``generateName: <job>-``, the
  template's labels plus ``controller-uid`` and ``job-name``, a controller ownerReference); the pods never finish
  (pause containers), so no Job completes; ``activeDeadlineSeconds`` is not played;
- the garbage collector: a pod whose owner Job is gone is deleted (the probe deletes with propagationPolicy
  Background; the ``orphan`` and ``foregroundDeletion`` finalizers are not played and said once on stderr), and the
  kubelet's part of a deletion: a terminating pod is removed at once (grace 0), as once its containers stopped;
- kube-scheduler, through gpu_validation_standin's filters (NodeUnschedulable, TaintToleration, NodeAffinity,
  NodeResourcesFit, in that order, over every Node): the first fitting Node by name is bound (pods/binding), else the
  pod gets ``PodScheduled`` False ``Unschedulable`` with kube-scheduler's message (``0/2 nodes are available: 1
  Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.``);
- the cluster autoscaler (v1.3x ScaleUpOrchestrator and EventingScaleUpStatusProcessor) with node groups
  (``NodeGroup``: an AKS pool's VMSS ``aks-<pool>-<8 digits>-vmss`` with a max size and the template of its nodes:
  labels, taints, allocatable GPUs). Each round it takes the pods the scheduler just found Unschedulable, leaves out
  those that fit a node it already asked for (upcoming), skips the groups at max size (``max node group size
  reached``), checks the pod against each other group's template with the same filters (a refusal is that filter's
  reason: ``Insufficient nvidia.com/gpu`` for a template without GPUs), bin-packs the pods that fit the first such group
  onto new template nodes, capped at the max size, and emits on each of those pods a v1 Event ``TriggeredScaleUp``
  ``pod triggered scale-up: [{aks-gpunp-12345678-vmss 1->2 (max: 3)}]`` (the message of a real AKS scale-up), then
  adds the Nodes. When nothing scaled up it emits on each pod left unschedulable ``NotTriggerScaleUp`` ``pod didn't
  trigger scale-up: 1 max node group size reached`` (reasons counted over the groups; the real one lists them in Go
  map order, here sorted). An event is emitted once per pod and message (the real one repeats it each loop);
- the VM, its kubelet and the node lifecycle controller for the Nodes it adds: a Node registers at once with the
  template's labels and taints (the apiserver adds the ``node.kubernetes.io/not-ready`` taint) and becomes Ready
  ``ready_after`` seconds later (capacity and allocatable GPUs reported, condition Ready True, the not-ready taint
  removed). Containers are not run: bound pods stay Pending, as before their images are pulled.

Faulty set-ups for tests: a group at its max size (``NodeGroup(size=1, max_size=1)``), a group whose template has no
GPUs (``NodeGroup(gpus=0)``), and ``report=False``: a node provisioner that adds the nodes but emits no event (as
Karpenter, which reports its own events, not the cluster autoscaler's).

Not played: scale-down (the real autoscaler removes an unneeded node after scale-down-unneeded-time; here the Nodes
stay until the stand-in stops, when it deletes them and, as the pod garbage collector, the pods bound to them),
backoff after a failed scale-up, resource limits, balancing similar groups, the scan interval (a round every
``interval`` seconds instead of 10 s). A Node group's ``size`` nodes are made Ready when the stand-in starts.

    with ClusterAutoscalerStandIn(client, prefix, [NodeGroup('gpunp', size=1, max_size=3)]).running() as standin:
        ...
"""

from __future__ import annotations

import contextlib
import random
import sys
import time
import uuid

from tests.integration import background
from tests.integration.gpu_standin import NOT_READY_TAINT, api
from tests.integration.gpu_validation_standin import add_use, filter_node, schedule_pod
from tests.integration.kaito_standin import MERGE, now

RUN_LABEL = 'cluster-autoscaler-standin.aiplatform.aks/run'
ACCELERATOR_LABEL = 'kubernetes.azure.com/accelerator'
GPU_VM = 'Standard_NC24ads_A100_v4'
SKU_GPU_TAINT = {'key': 'sku', 'value': 'gpu', 'effect': 'NoSchedule'}
FINISHED = ('Succeeded', 'Failed')
BACKGROUND = {'apiVersion': 'v1', 'kind': 'DeleteOptions', 'propagationPolicy': 'Background'}
FORCE = {'apiVersion': 'v1', 'kind': 'DeleteOptions', 'gracePeriodSeconds': 0}
COMPONENT = 'cluster-autoscaler'


class NodeGroup:
    """An AKS pool as the autoscaler sees it: VMSS `id`, its `size` (target), `max_size`, and the node template."""

    def __init__(self, pool='gpunp', size=0, max_size=2, gpus=1, resource='nvidia.com/gpu', taints=(SKU_GPU_TAINT,), vm_size=GPU_VM):
        self.pool = pool
        self.id = 'aks-%s-%08d-vmss' % (pool, random.randrange(10 ** 8))
        self.initial = size
        self.max_size = max_size
        self.taints = [dict(t) for t in taints]
        self.labels = {'agentpool': pool, 'kubernetes.azure.com/agentpool': pool, 'node.kubernetes.io/instance-type': vm_size,
                       'kubernetes.io/os': 'linux'}
        if gpus:
            self.labels[ACCELERATOR_LABEL] = 'nvidia'  # AKS labels its GPU nodes so
        self.capacity = dict({'cpu': '24', 'memory': '220Gi', 'pods': '110'}, **({resource: str(gpus)} if gpus else {}))

    def template(self):
        """The node the autoscaler simulates a scale-up with."""
        return {'metadata': {'name': self.id + '-template', 'labels': dict(self.labels)}, 'spec': {'taints': [dict(t) for t in self.taints]},
                'status': {'allocatable': dict(self.capacity)}}


class ClusterAutoscalerStandIn:
    def __init__(self, client, namespace_prefix, groups=None, ready_after=1.0, report=True):
        self.client = client
        self.report = report
        self.prefix = namespace_prefix
        self.groups = list(groups) if groups is not None else [NodeGroup()]
        self.ready_after = ready_after
        self.run = uuid.uuid4().hex[:8]
        self.made = {}  # node name: {'group', 'index', 'since', 'ready'}
        self.emitted = set()  # (pod uid, reason, message)
        self.events = []  # (pod name, reason, message), for the tests
        self.unplayed_said = set()
        self.nodes, self.pods, self.jobs = api(client, 'Node'), api(client, 'Pod'), api(client, 'Job', 'batch/v1')
        self.event_api = api(client, 'Event')

    def mine(self, obj):
        return obj['metadata'].get('namespace', '').startswith(self.prefix)

    def unplayed(self, what):
        if what not in self.unplayed_said:
            self.unplayed_said.add(what)
            print('cluster autoscaler stand-in: not played: %s' % what, file=sys.stderr, flush=True)

    def size(self, group):
        return sum(1 for made in self.made.values() if made['group'] is group)

    # ------------------------------------------------------------------------------------------ nodes

    def add_node(self, group, ready):
        index = max([m['index'] for m in self.made.values() if m['group'] is group] or [-1]) + 1
        name = '%s%06d' % (group.id, index)
        self.nodes.create(body={'metadata': {'name': name, 'labels': dict(group.labels, **{RUN_LABEL: self.run, 'kubernetes.io/hostname': name})},
                                'spec': {'taints': [dict(t) for t in group.taints],
                                         'providerID': 'azure:///subscriptions/0/resourceGroups/mc/providers/Microsoft.Compute/'
                                                       'virtualMachineScaleSets/%s/virtualMachines/%d' % (group.id, index)}})
        self.made[name] = {'group': group, 'index': index, 'since': time.monotonic(), 'ready': False}
        if ready:
            self.make_ready(name)
        return name

    def make_ready(self, name):
        """The kubelet reports the node Ready with its GPUs; the node lifecycle controller lifts the not-ready taint."""
        group = self.made[name]['group']
        self.nodes.status.patch(name=name, content_type=MERGE, body={'status': {
            'capacity': dict(group.capacity), 'allocatable': dict(group.capacity),
            'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'KubeletReady', 'message': 'kubelet is posting ready status',
                            'lastHeartbeatTime': now(), 'lastTransitionTime': now()}]}})
        taints = [t for t in self.nodes.get(name=name).to_dict()['spec'].get('taints') or [] if t['key'] != NOT_READY_TAINT]
        self.nodes.patch(name=name, content_type=MERGE, body={'spec': {'taints': taints or None}})
        self.made[name]['ready'] = True

    def start(self):
        for group in self.groups:
            for index in range(group.initial):
                self.add_node(group, ready=True)
        return self

    def stop(self):
        """Delete the Nodes it made and, as the pod garbage collector, the pods bound to them."""
        from kubernetes.dynamic.exceptions import NotFoundError
        for pod in self.pods.get().to_dict()['items']:
            if pod['spec'].get('nodeName') in self.made:
                try:
                    self.pods.delete(name=pod['metadata']['name'], namespace=pod['metadata']['namespace'], body=FORCE)
                except NotFoundError:
                    pass
        for name in list(self.made):
            try:
                self.nodes.delete(name=name)
            except NotFoundError:
                pass
            del self.made[name]

    # ------------------------------------------------------------------------------------------ one round

    def step(self):
        for name, made in self.made.items():
            if not made['ready'] and time.monotonic() - made['since'] >= self.ready_after:
                self.make_ready(name)
        jobs = [j for j in self.jobs.get().to_dict()['items'] if self.mine(j)]
        pods = self.pods.get().to_dict()['items']
        self.job_controller(jobs, [p for p in pods if self.mine(p)])
        pods = self.pods.get().to_dict()['items']
        nodes = sorted(self.nodes.get().to_dict()['items'], key=lambda n: n['metadata']['name'])
        unfit = self.schedule([p for p in pods if self.mine(p)], nodes, pods)
        if unfit:
            self.autoscale(unfit)

    def job_controller(self, jobs, pods):
        live = set(j['metadata']['uid'] for j in jobs)
        for pod in pods:
            meta = pod['metadata']
            owners = [r for r in meta.get('ownerReferences') or [] if r.get('kind') == 'Job']
            if meta.get('deletionTimestamp'):
                if pod['spec'].get('nodeName'):  # the kubelet's part: containers stopped
                    self.pods.delete(name=meta['name'], namespace=meta['namespace'], body=FORCE)
            elif owners and not any(r['uid'] in live for r in owners):  # the garbage collector
                self.pods.delete(name=meta['name'], namespace=meta['namespace'], body=BACKGROUND)
        for job in jobs:
            meta, spec = job['metadata'], job['spec']
            if meta.get('deletionTimestamp'):
                if set(meta.get('finalizers') or []) & {'orphan', 'foregroundDeletion'}:
                    self.unplayed('Job deletion with the orphan or foregroundDeletion finalizer (%s/%s)' % (meta['namespace'], meta['name']))
                continue
            owned = [p for p in pods if any(r['uid'] == meta['uid'] for r in p['metadata'].get('ownerReferences') or [])
                     and not p['metadata'].get('deletionTimestamp')]
            parallelism = spec.get('parallelism', 1)
            want = min(parallelism, spec['completions']) if spec.get('completions') is not None else parallelism
            for index in range(max(0, want - len(owned))):
                self.create_pod(job)

    def create_pod(self, job):
        meta, template = job['metadata'], job['spec']['template']
        labels = dict(template['metadata'].get('labels') or {}, **{'controller-uid': meta['uid'], 'job-name': meta['name']})
        self.pods.create(namespace=meta['namespace'], body={'apiVersion': 'v1', 'kind': 'Pod', 'spec': template['spec'], 'metadata': {
            'generateName': meta['name'] + '-', 'namespace': meta['namespace'], 'labels': labels,
            'ownerReferences': [{'apiVersion': 'batch/v1', 'kind': 'Job', 'name': meta['name'], 'uid': meta['uid'],
                                 'controller': True, 'blockOwnerDeletion': True}]}})

    # ------------------------------------------------------------------------------------------ scheduler

    def schedule(self, mine, nodes, every_pod):
        """Bind what fits, oldest first; returns the pods that fit nowhere (now marked Unschedulable)."""
        used = {}
        for pod in every_pod:
            if pod['spec'].get('nodeName') and pod['status'].get('phase') not in FINISHED:
                add_use(used, pod['spec']['nodeName'], pod['spec'])
        unfit = []
        pending = [p for p in mine if not p['spec'].get('nodeName') and not p['metadata'].get('deletionTimestamp')
                   and p['spec'].get('schedulerName', 'default-scheduler') == 'default-scheduler']
        for pod in sorted(pending, key=lambda p: (p['metadata']['creationTimestamp'], p['metadata']['name'])):
            if schedule_pod(self.client, self.pods, pod, nodes, used) is None:
                unfit.append(pod)
        return unfit

    # ------------------------------------------------------------------------------------------ cluster autoscaler

    @staticmethod
    def pack(pods, template, bins, grow):
        """First-fit of `pods` onto template nodes (`bins`: the usage of each; with `grow` new ones are opened as needed);
        returns the pods placed on none."""
        left = []
        for pod in pods:
            spot = next((used for used in bins if not filter_node(pod['spec'], template, used)), None)
            if spot is None and grow and not filter_node(pod['spec'], template, {}):
                spot = {}
                bins.append(spot)
            if spot is None:
                left.append(pod)
                continue
            add_use({'bin': spot}, 'bin', pod['spec'])
        return left

    def autoscale(self, unfit):
        # the pods the nodes already asked for will take are left alone (the real one simulates the upcoming nodes)
        for group in self.groups:
            upcoming = [{} for made in self.made.values() if made['group'] is group and not made['ready']]
            unfit = self.pack(unfit, group.template(), upcoming, grow=False)
        if not unfit:
            return
        skipped, rejected, chosen = {}, {}, None
        for group in self.groups:
            if self.size(group) >= group.max_size:
                skipped[group.id] = 'max node group size reached'
                continue
            template = group.template()
            fitting = [p for p in unfit if not filter_node(p['spec'], template, {})]
            for pod in unfit:
                refused = filter_node(pod['spec'], template, {})
                if refused:
                    rejected.setdefault(pod['metadata']['uid'], {})[group.id] = refused
            if fitting and chosen is None:
                chosen = (group, fitting)
        if chosen:
            group, fitting = chosen
            bins = []
            self.pack(fitting, group.template(), bins, grow=True)
            current = self.size(group)
            new = min(current + len(bins), group.max_size)
            message = 'pod triggered scale-up: [{%s %d->%d (max: %d)}]' % (group.id, current, new, group.max_size)
            for pod in fitting if self.report else []:
                self.emit(pod, 'TriggeredScaleUp', message)
            for index in range(new - current):
                self.add_node(group, ready=False)
            return
        for pod in unfit:
            counts = {}
            for reasons in list(rejected.get(pod['metadata']['uid'], {}).values()) + [[r] for r in skipped.values()]:
                for reason in reasons:
                    counts[reason] = counts.get(reason, 0) + 1
            self.emit(pod, 'NotTriggerScaleUp', "pod didn't trigger scale-up: %s" % ', '.join(
                '%d %s' % (n, reason) for reason, n in sorted(counts.items())))

    def emit(self, pod, reason, message):
        meta = pod['metadata']
        key = (meta['uid'], reason, message)
        if key in self.emitted:
            return
        self.emitted.add(key)
        self.events.append((meta['name'], reason, message))
        self.event_api.create(namespace=meta['namespace'], body={
            'apiVersion': 'v1', 'kind': 'Event', 'metadata': {'name': '%s.%x' % (meta['name'], time.time_ns()), 'namespace': meta['namespace']},
            'involvedObject': {'apiVersion': 'v1', 'kind': 'Pod', 'name': meta['name'], 'namespace': meta['namespace'], 'uid': meta['uid'],
                               'resourceVersion': meta['resourceVersion']},
            'reason': reason, 'message': message, 'type': 'Normal', 'source': {'component': COMPONENT},
            'firstTimestamp': now(), 'lastTimestamp': now(), 'count': 1, 'reportingComponent': COMPONENT, 'reportingInstance': ''})

    @contextlib.contextmanager
    def running(self, interval=0.2):
        """Make the groups' first nodes, step in a thread for the length of the block, then delete the Nodes it made."""
        try:
            self.start()  # inside: nodes made before a failure are deleted too
            with background.stepping(self.step, interval, lambda exc: print('cluster autoscaler stand-in: round failed: %r' % exc,
                                                                            file=sys.stderr, flush=True)):
                yield self
        finally:
            self.stop()
