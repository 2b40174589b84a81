# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The functional probe of `cluster_autoscaling`: the cluster autoscaler adds a GPU node for pending pods that ask
for GPUs. Opt-in and costly: it runs only with `probes.gpu_scale_up: true`, since it brings a GPU node up, billed
until the autoscaler removes it again.

Without that setting `cluster_autoscaling(ctx)` returns None and makes nothing: the static finding decides. With it,
the probe counts the Ready GPU nodes (allocatable `probes.gpu_resource` > 0, not cordoned) and the GPUs free on them
(allocatable minus what the unfinished pods bound there request). In a fresh namespace it makes a Job of `free + 1`
pause pods (at most MAX_PODS), each requesting and limiting 1 GPU, so that one pod at least cannot fit. The pods
tolerate the NoSchedule/NoExecute taints the GPU nodes carry (node condition and autoscaler taints excepted) and
always GPU_TAINTS, the taints AKS GPU pools are given (`nvidia.com/gpu` and `sku=gpu`, NoSchedule), for a pool that
has no node yet (min 0). When every GPU node carries ACCELERATOR_LABEL (AKS: kubernetes.azure.com/accelerator), the
pods require it (node affinity); otherwise their GPU request alone keeps them off other nodes. A Job rather than a
Deployment: its activeDeadlineSeconds ends the pods even if the cleanup never ran.

It then waits up to `probes.scale_up_timeout` for: a probe pod Unschedulable (PodScheduled False, reason
Unschedulable); the cluster autoscaler's TriggeredScaleUp event on a probe pod (its message names the node group and
its sizes); a new GPU node (not there before the probe) Ready; every probe pod bound, one at least on a new node. A
NotTriggerScaleUp event before any scale-up ends the wait at once: the autoscaler said it will not add a node. A new
node that takes the pods without a TriggeredScaleUp event (a node auto-provisioner such as Karpenter reports its own
events) is only Partially Implemented: the scale-up cannot be attributed to the cluster autoscaler. The scale-down is
left to the autoscaler's own delays and not waited for. Deleting the Job (cleanup) deletes its pods (the garbage
collector).
"""

from __future__ import annotations

import time

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.accelerator_probe import NODE_CONDITION_TAINTS
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.functional import (
    list_objects, evidence, labels, metadata, probe, unique)
from ansible_collections.aiplatform.aks.plugins.module_utils.gpu.info import allocatable_of, free_by_node
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError, list_items
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.drain import node_ready

REQUIREMENT = 'cluster_autoscaling'
PAUSE = 'registry.k8s.io/pause:3.10'
MAX_PODS = 16  # GPUs are costly: never more pending GPU pods than this
ACCELERATOR_LABEL = 'kubernetes.azure.com/accelerator'
GPU_TAINTS = ({'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'},
              {'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'})
# taints that say a node is not fit for pods (conditions, cordons, the autoscaler's own): never tolerated
UNFIT_TAINTS = NODE_CONDITION_TAINTS + ('ToBeDeletedByClusterAutoscaler', 'DeletionCandidateOfClusterAutoscaler')
SCALED_UP, NOT_SCALED_UP = 'TriggeredScaleUp', 'NotTriggerScaleUp'
DEADLINE_MARGIN = 300  # the Job's activeDeadlineSeconds beyond the wait: its pods end even without a cleanup
SETTING = 'probes.gpu_scale_up'
SCALE_DOWN = ('the scale-down is left to the autoscaler (after its scale-down-unneeded-time, 10 minutes by default) and was not '
              'waited for: the added node is billed until it removes it')


def pods_of(count):
    return '%d pod%s' % (count, '' if count == 1 else 's')


def usable(node):
    """Ready and not cordoned: the scheduler may place pods there."""
    return node_ready(node) and not (node.get('spec') or {}).get('unschedulable')


def free_gpus(node, pods, resource):
    """Allocatable `resource` minus what the unfinished pods bound to the node request, never below zero."""
    return max(0, free_by_node([node], pods, resource).get(node['metadata']['name'], (0, 0))[1])


def tolerations(gpu_nodes):
    """Tolerations (key, operator Exists, effect) of the NoSchedule/NoExecute taints of `gpu_nodes`, but those that mark
    a node unfit, and always GPU_TAINTS."""
    found = [dict(t) for t in GPU_TAINTS]
    for node in gpu_nodes:
        for taint in (node.get('spec') or {}).get('taints') or []:
            key, effect = taint.get('key') or '', taint.get('effect')
            if effect not in ('NoSchedule', 'NoExecute') or key.startswith(UNFIT_TAINTS):
                continue
            if not any(tolerates(t, taint) for t in found):
                found.append({'key': key, 'operator': 'Exists', 'effect': effect})
    return found


def tolerates(toleration, taint):
    """Whether the toleration matches the taint (an empty key or effect matches all; Equal compares values)."""
    if toleration.get('effect') and toleration['effect'] != taint.get('effect'):
        return False
    if toleration.get('key') and toleration['key'] != taint.get('key'):
        return False
    if (toleration.get('operator') or 'Equal') == 'Exists':
        return True
    return (toleration.get('value') or '') == (taint.get('value') or '')


def affinity(gpu_nodes):
    """Required node affinity to ACCELERATOR_LABEL when every GPU node carries it, else None (no GPU node yet, or one
    without it)."""
    if not gpu_nodes or not all(ACCELERATOR_LABEL in (n['metadata'].get('labels') or {}) for n in gpu_nodes):
        return None
    return {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': [
        {'matchExpressions': [{'key': ACCELERATOR_LABEL, 'operator': 'Exists'}]}]}}}


def gpu_job(namespace, name, count, resource, pod_tolerations, pod_affinity, deadline):
    """A Job of `count` pause pods running at once, each requesting and limiting 1 `resource`."""
    spec = {'restartPolicy': 'Never', 'terminationGracePeriodSeconds': 0, 'tolerations': pod_tolerations,
            'containers': [{'name': 'pause', 'image': PAUSE, 'resources': {'requests': {resource: '1'}, 'limits': {resource: '1'}}}]}
    if pod_affinity:
        spec['affinity'] = pod_affinity
    return {'apiVersion': 'batch/v1', 'kind': 'Job', 'metadata': metadata(REQUIREMENT, name, namespace), 'spec': {
        'parallelism': count, 'completions': count, 'backoffLimit': 0, 'activeDeadlineSeconds': deadline,
        'template': {'metadata': {'labels': labels(REQUIREMENT)}, 'spec': spec}}}


def unschedulable(pod):
    """The scheduler's message when it found no node for the pod (PodScheduled False, reason Unschedulable), else None."""
    for cond in (pod.get('status') or {}).get('conditions') or []:
        if cond.get('type') == 'PodScheduled' and cond.get('status') == 'False' and cond.get('reason') == 'Unschedulable':
            return cond.get('message') or ''
    return None


def pod_events(events, pods, reason):
    """(pod name, message, reporting component) of the `reason` events about `pods`, oldest first."""
    uids = dict((p['metadata']['name'], p['metadata'].get('uid')) for p in pods)
    found = []
    for event in sorted(events, key=lambda e: str(e.get('last_timestamp') or e.get('lastTimestamp') or '')):
        involved = event.get('involved_object') or event.get('involvedObject') or {}
        name = involved.get('name')
        if event.get('reason') != reason or involved.get('kind') != 'Pod' or name not in uids:
            continue
        if involved.get('uid') and uids[name] and involved['uid'] != uids[name]:
            continue
        source = (event.get('source') or {}).get('component') or event.get('reporting_component') or event.get('reportingComponent') or ''
        found.append((name, event.get('message') or '', source))
    return found


class Progress:
    """What the probe has seen so far, from successive looks at its pods, their events and the nodes."""

    def __init__(self, initial_uids, resource, count):
        self.initial_uids = set(initial_uids)
        self.resource = resource
        self.count = count
        self.pods = []
        self.unschedulable = None  # (pod, the scheduler's message)
        self.triggered = None  # (pod, message, component) of the first TriggeredScaleUp
        self.refused = None  # (pod, message, component) of the latest NotTriggerScaleUp
        self.new_nodes = {}  # name: seconds after the pods were asked for when first seen Ready with GPUs

    def placed(self):
        return dict((p['metadata']['name'], p['spec'].get('nodeName')) for p in self.pods if p['spec'].get('nodeName'))

    def on_new_nodes(self):
        return sorted(pod for pod, node in self.placed().items() if node in self.new_nodes)

    def observe(self, pods, events, nodes, elapsed):
        """(done, why): done when every pod is placed, or the autoscaler refused before any scale-up."""
        self.pods = pods
        for pod in pods:
            message = unschedulable(pod)
            if self.unschedulable is None and message is not None:
                self.unschedulable = (pod['metadata']['name'], message)
        triggered = pod_events(events, pods, SCALED_UP)
        if self.triggered is None and triggered:
            self.triggered = triggered[0]
        refused = pod_events(events, pods, NOT_SCALED_UP)
        if refused:
            self.refused = refused[-1]
        for node in nodes:
            name = node['metadata']['name']
            if node['metadata'].get('uid') not in self.initial_uids and usable(node) and allocatable_of(node, self.resource) > 0:
                self.new_nodes.setdefault(name, elapsed)
        if self.refused and not self.triggered and not self.new_nodes:
            return True, 'the autoscaler did not scale up: %s on pod %s: %s' % (NOT_SCALED_UP, self.refused[0], self.refused[1])
        placed = self.placed()
        if len(pods) == self.count and len(placed) == self.count:
            return True, 'all %d pods placed' % self.count
        if len(pods) < self.count:
            return False, 'the Job has made %d of its %d pods' % (len(pods), self.count)
        if self.unschedulable is None:
            return False, 'no probe pod reported Unschedulable yet'
        if self.triggered is None and not self.new_nodes:
            return False, 'no %s event on a probe pod and no new GPU node yet' % SCALED_UP
        if not self.new_nodes:
            return False, 'no new GPU node Ready yet (%s: %s)' % (SCALED_UP, self.triggered[1])
        return False, '%d of %d pods placed' % (len(placed), self.count)

    def findings(self):
        """Evidence items (check, observed, ok) of the four stages, as far as they were seen."""
        placed, on_new = self.placed(), self.on_new_nodes()
        items = []
        if self.unschedulable:
            items.append(('pod Unschedulable', 'pod %s: %s' % self.unschedulable, True))
        else:
            items.append(('pod Unschedulable', 'no probe pod reported Unschedulable (%d of %d pods made)' % (len(self.pods), self.count), False))
        if self.triggered:
            items.append((SCALED_UP + ' event', 'on pod %s from %s: %s' % (self.triggered[0], self.triggered[2] or 'an unnamed component',
                                                                           self.triggered[1]), True))
        elif self.refused:
            items.append((SCALED_UP + ' event', 'none; %s on pod %s from %s: %s' % (
                NOT_SCALED_UP, self.refused[0], self.refused[2] or 'an unnamed component', self.refused[1]), False))
        elif self.new_nodes:
            items.append((SCALED_UP + ' event', 'none on any probe pod, yet GPU node %s arrived: not attributed to the cluster autoscaler'
                          % ', '.join(sorted(self.new_nodes)), False))
        else:
            items.append((SCALED_UP + ' event', 'none on any probe pod', False))
        if self.new_nodes:
            arrived = sorted(self.new_nodes.items(), key=lambda item: item[1])
            items.append(('new GPU node Ready', ', '.join('%s Ready with %s after %.0f s' % (name, self.resource, seconds)
                                                          for name, seconds in arrived), True))
        else:
            items.append(('new GPU node Ready', 'no GPU node Ready that was not there before', False))
        where = ', '.join('%s on %s%s' % (pod, node, ' (new)' if node in self.new_nodes else '') for pod, node in sorted(placed.items()))
        all_placed = len(self.pods) == self.count and len(placed) == self.count
        if all_placed and not on_new:
            observed = 'all %d pods placed, none on a new node: %s' % (self.count, where)
        else:
            observed = '%d of %d pods placed%s' % (len(placed), self.count, ': ' + where if where else '')
        items.append(('probe pods scheduled', observed, all_placed and bool(on_new)))
        return items


def _gpu_capacity(ctx, resource):
    """(every node, the usable GPU nodes, {name: free GPUs})."""
    nodes = list_items(ctx.client, 'v1', 'Node', 'list Nodes') or []
    gpu_nodes = [n for n in nodes if allocatable_of(n, resource) > 0 and usable(n)]
    free = {}
    for node in gpu_nodes:
        name = node['metadata']['name']
        pods = list_items(ctx.client, 'v1', 'Pod', 'list the pods on node %s' % name, field_selector='spec.nodeName=%s' % name) or []
        free[name] = free_gpus(node, pods, resource)
    return nodes, gpu_nodes, free


def _summary(gpu_nodes, free, resource):
    if not gpu_nodes:
        return 'no Ready GPU node (allocatable %s): a pool at min 0, or none' % resource
    return '%d Ready GPU nodes: %s' % (len(gpu_nodes), ', '.join('%s (%d of %d %s free)' % (
        n['metadata']['name'], free[n['metadata']['name']], allocatable_of(n, resource), resource) for n in gpu_nodes))


@probe(REQUIREMENT)
def _run(ctx, found):
    resource, timeout = ctx.settings['gpu_resource'], ctx.settings['scale_up_timeout']
    nodes, gpu_nodes, free = _gpu_capacity(ctx, resource)
    count = sum(free.values()) + 1
    before = _summary(gpu_nodes, free, resource)
    found.append(evidence('GPU nodes before', 'LIST v1 Node, v1 Pod per GPU node', before, True))
    if count > MAX_PODS:
        found.append(evidence('probe pods', 'none made', '%d GPUs are free: %d pods of 1 GPU would be needed to leave one pending, more '
                              'than the probe makes (%d)' % (count - 1, count, MAX_PODS), False))
        return {'ok': False, 'notes': 'cluster_autoscaling probe not run: %d GPUs are free, so %d pending GPU pods would be needed to '
                                      'ask for a new node (at most %d are made); run it when fewer GPUs are free' % (count - 1, count, MAX_PODS)}
    pod_tolerations, pod_affinity = tolerations(gpu_nodes), affinity(gpu_nodes)
    namespace = ctx.namespace()
    name = unique('aic-gpu-scale-up')
    ctx.create(gpu_job(namespace, name, count, resource, pod_tolerations, pod_affinity, int(timeout) + DEADLINE_MARGIN))
    started = time.monotonic()
    found.append(evidence('probe pods', 'create Job %s/%s: %s of %s, 1 %s each, tolerating %s%s' % (
        namespace, name, pods_of(count), PAUSE, resource, ', '.join('%s:%s' % (t['key'], t['effect']) for t in pod_tolerations),
        ', requiring node label %s' % ACCELERATOR_LABEL if pod_affinity else ''), 'created', True))
    progress = Progress([n['metadata'].get('uid') for n in nodes], resource, count)

    def look():
        pods = list_objects(ctx, 'v1', 'Pod', namespace)
        events = list_objects(ctx, 'v1', 'Event', namespace)
        every_node = list_items(ctx.client, 'v1', 'Node', 'list Nodes') or []
        return progress.observe(pods, events, every_node, time.monotonic() - started)

    stopped = None
    try:
        ctx.wait(look, timeout, 'the cluster autoscaler to add a GPU node for Job %s/%s' % (namespace, name))
    except K8sError as exc:
        stopped = str(exc)
    items = progress.findings()
    for check, observed, ok in items:
        found.append(evidence(check, 'watch the pods of Job %s/%s, their events and the Nodes' % (namespace, name), observed, ok))
    return _verdict(progress, items, count, resource, stopped)


def _verdict(progress, items, count, resource, stopped):
    ok = dict((check, good) for check, _observed, good in items)
    added = sorted(progress.new_nodes, key=lambda n: progress.new_nodes[n])
    shown = ok['pod Unschedulable'] and ok['new GPU node Ready'] and ok['probe pods scheduled']
    if shown and ok[SCALED_UP + ' event']:
        return {'ok': True, 'notes': '%s pending, 1 %s each: the cluster autoscaler scaled up (%s) and GPU node %s was Ready %.0f s '
                                     'after the pods were made; %s placed, %d on the new node; %s' % (
                                         pods_of(count), resource, progress.triggered[1], added[0], progress.new_nodes[added[0]],
                                         pods_of(count), len(progress.on_new_nodes()), SCALE_DOWN)}
    if shown:
        return {'ok': True, 'partial': True, 'notes': '%s pending, 1 %s each: GPU node %s was Ready %.0f s after the pods were made '
                                                      'and took them, but no %s event named a probe pod, so the scale-up is not attributed '
                                                      'to the cluster autoscaler (a node auto-provisioner reports other events); %s' % (
                                                          pods_of(count), resource, added[0], progress.new_nodes[added[0]], SCALED_UP, SCALE_DOWN)}
    failed = '; '.join('%s: %s' % (check, observed) for check, observed, good in items if not good)
    notes = 'cluster_autoscaling probe failed: %s%s' % (stopped + '; ' if stopped else '', failed)
    if added:
        notes += '; GPU node %s was added: %s' % (', '.join(added), SCALE_DOWN)
    return {'ok': False, 'notes': notes}


def cluster_autoscaling(ctx):
    """None, making nothing, unless probes.gpu_scale_up is true (the probe adds a GPU node: it costs money); else the
    probe's result."""
    if not ctx.settings.get('gpu_scale_up'):
        return None
    return _run(ctx)


PROBES = {'cluster_autoscaling': cluster_autoscaling}
