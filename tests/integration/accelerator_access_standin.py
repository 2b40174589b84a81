"""A stand-in for kube-scheduler, the kubelet and the NVIDIA container runtime on the test bed (an apiserver without
scheduler or kubelet), for the functional probe of secure_accelerator_access (accelerator_probe.py). It acts only on
pods in namespaces whose name starts with `prefix` (other tests share the bed) and plays:

- kube-scheduler: the filters of gpu_validation_standin (NodeUnschedulable, TaintToleration, NodeAffinity,
  NodeResourcesFit) over every Node, counting every namespace's bound, unfinished pods; the first fitting Node by name
  is bound (pods/binding), else ``PodScheduled`` False ``Unschedulable`` with kube-scheduler's message;
- the kubelet: admission as gpu_validation_standin plays it, then the device manager: each GPU node has the devices
  ``/dev/nvidia0`` .. ``/dev/nvidia<N-1>`` (N = its allocatable nvidia.com/gpu); a container whose limits ask for k
  GPUs gets the k lowest devices no other unfinished pod on the node holds (pods of other namespaces hold the lowest
  free ones, in creation order), else the pod fails with the device manager's ``UnexpectedAdmissionError``. A pod goes
  Pending -> Running (devices held) -> Succeeded on the next round; a terminating pod is deleted (grace 0);
- the NVIDIA container runtime: a container sees the devices it was given and nothing else, unless the stand-in is an
  insecure runtime: ``honour_visible_devices_env=True`` (the toolkit's default
  ``accept-nvidia-visible-devices-envvar-when-unprivileged = true``: ``NVIDIA_VISIBLE_DEVICES`` ``all`` or a list of
  indices adds those devices) or ``leak_all=True`` (every device in every container, as with a privileged or hostPath
  setup).

The only command played is the probe's listing (accelerator_probe.COMMAND): its output, written to the termination
message as the script tees it there. Any other command, restartPolicy or NVIDIA_VISIBLE_DEVICES value is not played:
the container exits 127 and one line ``accelerator access stand-in: unplayed: ...`` goes to stderr, never a guess.
"""

from __future__ import annotations

import contextlib
import sys
import uuid

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.accelerator_probe import COMMAND, VISIBLE_DEVICES
from tests.integration import background
from tests.integration.gpu_standin import api
from tests.integration.gpu_validation_standin import (
    FINISHED, add_use, admission_refusal, container_condition, quantity, schedule_pod, termination_message)
from tests.integration.kaito_standin import MERGE, now

GPU = 'nvidia.com/gpu'
NAME = 'accelerator access stand-in'
UNPLAYED_EXIT = 127


def gpu_limit(container):
    return int(quantity(((container.get('resources') or {}).get('limits') or {}).get(GPU, 0)))


def pod_gpus(pod):
    return sum(gpu_limit(c) for c in pod['spec'].get('containers') or [])


def device_count(node):
    return int(quantity(((node.get('status') or {}).get('allocatable') or {}).get(GPU, 0)))


def listing(indices):
    """What the probe's script prints for these device indices: the shell's glob order, then its last line."""
    return ''.join('device %s\n' % path for path in sorted('/dev/nvidia%d' % i for i in indices)) + 'listed\n'


class AcceleratorAccessStandIn:
    """See the module's docstring. One instance steps at a time."""

    def __init__(self, client, prefix, honour_visible_devices_env=False, leak_all=False):
        self.client = client
        self.prefix = prefix
        self.honour_visible_devices_env = honour_visible_devices_env
        self.leak_all = leak_all
        self.pods, self.nodes = api(client, 'Pod'), api(client, 'Node')
        self.held = {}  # pod uid -> (node, [device indices]) of our running pods
        self.said = set()

    def unplayed(self, what):
        if what not in self.said:
            self.said.add(what)
            print('%s: unplayed: %s' % (NAME, what), file=sys.stderr, flush=True)

    def ours(self, pod):
        return pod['metadata']['namespace'].startswith(self.prefix)

    def step(self):
        pods = self.pods.get().to_dict()['items']
        nodes = sorted(self.nodes.get().to_dict()['items'], key=lambda n: n['metadata']['name'])
        live = set(p['metadata']['uid'] for p in pods if p['status'].get('phase') not in FINISHED)
        self.held = dict((uid, held) for uid, held in self.held.items() if uid in live)
        bound = [p for p in pods if p['spec'].get('nodeName') and p['status'].get('phase') not in FINISHED]
        used = {}
        for pod in bound:
            add_use(used, pod['spec']['nodeName'], pod['spec'])
        for pod in sorted((p for p in pods if self.ours(p) and not p['spec'].get('nodeName') and not p['metadata'].get('deletionTimestamp')),
                          key=lambda p: (p['metadata']['creationTimestamp'], p['metadata']['name'])):
            self.each(self.schedule, pod, nodes, used)
        by_name = dict((n['metadata']['name'], n) for n in nodes)
        admitted = {}
        for pod in bound:
            if pod['status'].get('startTime'):
                add_use(admitted, pod['spec']['nodeName'], pod['spec'])
        for pod in sorted((p for p in pods if self.ours(p) and p['spec'].get('nodeName') in by_name),
                          key=lambda p: (p['metadata']['creationTimestamp'], p['metadata']['name'])):
            self.each(self.kubelet, pod, by_name[pod['spec']['nodeName']], admitted, bound)

    @staticmethod
    def each(reconcile, pod, *args):
        from kubernetes.client.exceptions import ApiException
        try:
            reconcile(pod, *args)
        except ApiException:
            pass  # a conflict with a test's write: the next round tries again

    # ------------------------------------------------------------------------------------------ scheduler

    def schedule(self, pod, nodes, used):
        meta = pod['metadata']
        if pod['spec'].get('schedulerName', 'default-scheduler') != 'default-scheduler':
            self.unplayed('pod %s/%s asks for scheduler %s' % (meta['namespace'], meta['name'], pod['spec']['schedulerName']))
            return
        schedule_pod(self.client, self.pods, pod, nodes, used)

    # ------------------------------------------------------------------------------------------ kubelet

    def held_on(self, node_name, bound, pod_uid):
        """Device indices other unfinished pods hold on the node: ours as given, the others' lowest free ones."""
        taken = set()
        for uid, (node, indices) in self.held.items():
            if node == node_name and uid != pod_uid:
                taken.update(indices)
        for pod in sorted(bound, key=lambda p: (p['metadata']['creationTimestamp'], p['metadata']['name'])):
            if pod['spec'].get('nodeName') != node_name or pod['metadata']['uid'] in self.held or pod['metadata']['uid'] == pod_uid:
                continue
            if self.ours(pod):
                continue  # ours hold devices only once started (self.held)
            count = pod_gpus(pod)
            index = 0
            while count:
                if index not in taken:
                    taken.add(index)
                    count -= 1
                index += 1
        return taken

    def kubelet(self, pod, node, admitted, bound):
        meta, spec, status = pod['metadata'], pod['spec'], pod['status']
        where = dict(name=meta['name'], namespace=meta['namespace'])
        if meta.get('deletionTimestamp'):
            self.held.pop(meta['uid'], None)
            self.pods.delete(body={'apiVersion': 'v1', 'kind': 'DeleteOptions', 'gracePeriodSeconds': 0}, **where)
            return
        if status.get('phase') in FINISHED:
            return
        if spec.get('restartPolicy') != 'Never':
            self.unplayed('pod %s/%s has restartPolicy %s (only Never is played)' % (meta['namespace'], meta['name'], spec.get('restartPolicy')))
            return
        if not status.get('startTime'):
            self.start(pod, node, admitted, bound)
            return
        self.finish(pod, node)

    def start(self, pod, node, admitted, bound):
        meta, spec = pod['metadata'], pod['spec']
        where = dict(name=meta['name'], namespace=meta['namespace'])
        refusal = admission_refusal(spec, node, admitted.get(spec['nodeName'], {}))
        wanted = pod_gpus(pod)
        free = [i for i in range(device_count(node)) if i not in self.held_on(node['metadata']['name'], bound, meta['uid'])]
        if not refusal and wanted > len(free):
            refusal = ('UnexpectedAdmissionError', 'Allocate failed due to requested number of devices unavailable for %s. '
                       'Requested: %d, Available: %d, which is unexpected' % (GPU, wanted, len(free)))
        if refusal:
            self.pods.status.patch(content_type=MERGE, body={'status': {
                'phase': 'Failed', 'reason': refusal[0], 'message': refusal[1], 'startTime': now()}}, **where)
            return
        add_use(admitted, pod['spec']['nodeName'], pod['spec'])
        self.held[meta['uid']] = (node['metadata']['name'], free[:wanted])
        statuses = [{'name': c['name'], 'image': c.get('image', ''), 'imageID': '', 'restartCount': 0, 'ready': True, 'started': True,
                     'containerID': 'containerd://' + uuid.uuid4().hex * 2, 'state': {'running': {'startedAt': now()}}}
                    for c in spec['containers']]
        self.write(pod, 'Running', statuses)

    def visible(self, container, node, given):
        """The devices the runtime puts in the container, or None when what it would do is not played."""
        devices = set(given)
        every = range(device_count(node))
        if self.leak_all:
            devices.update(every)
        env = dict((e['name'], e.get('value')) for e in container.get('env') or [] if 'valueFrom' not in e)
        if self.honour_visible_devices_env and VISIBLE_DEVICES in env:
            value = (env[VISIBLE_DEVICES] or '').strip()
            if value == 'all':
                devices.update(every)
            elif value and value not in ('none', 'void'):
                parts = value.split(',')
                if not all(p.strip().isdigit() and int(p) in every for p in parts):
                    return None
                devices.update(int(p) for p in parts)
        return devices

    def finish(self, pod, node):
        meta, spec = pod['metadata'], pod['spec']
        given = self.held.get(meta['uid'], (None, []))[1]
        statuses, failed = [], False
        previous = dict((s['name'], s) for s in pod['status'].get('containerStatuses') or [])
        for container in spec['containers']:
            devices = self.visible(container, node, given) if container.get('command') == COMMAND and not container.get('args') else None
            if devices is None:
                self.unplayed('pod %s/%s container %s runs %r with env %r: only the probe\'s listing is played' % (
                    meta['namespace'], meta['name'], container['name'], (container.get('command') or []) + (container.get('args') or []),
                    container.get('env') or []))
                code, output = UNPLAYED_EXIT, '%s: unplayed command' % NAME
            else:
                code, output = 0, listing(devices)
            failed = failed or code != 0
            old = previous.get(container['name']) or {}
            terminated = {'exitCode': code, 'reason': 'Completed' if code == 0 else 'Error', 'finishedAt': now(),
                          'startedAt': ((old.get('state') or {}).get('running') or {}).get('startedAt') or now(),
                          'containerID': old.get('containerID') or 'containerd://' + uuid.uuid4().hex * 2}
            message = termination_message(container, code, output)
            if message:
                terminated['message'] = message
            statuses.append({'name': container['name'], 'image': container.get('image', ''), 'imageID': '', 'restartCount': 0,
                             'ready': False, 'started': False, 'containerID': terminated['containerID'], 'state': {'terminated': terminated}})
        self.held.pop(meta['uid'], None)
        self.write(pod, 'Failed' if failed else 'Succeeded', statuses)

    def write(self, pod, phase, statuses):
        old = dict((c['type'], c) for c in pod['status'].get('conditions') or [])
        unready = [s['name'] for s in statuses if not s['ready']]
        conditions = [container_condition('Initialized', [], 'ContainersNotInitialized', 'incomplete', phase, old),
                      container_condition('Ready', unready, 'ContainersNotReady', 'unready', phase, old),
                      container_condition('ContainersReady', unready, 'ContainersNotReady', 'unready', phase, old),
                      {'type': 'PodScheduled', 'status': 'True', 'lastProbeTime': None,
                       'lastTransitionTime': (old.get('PodScheduled') or {}).get('lastTransitionTime') or now()}]
        self.pods.status.patch(name=pod['metadata']['name'], namespace=pod['metadata']['namespace'], content_type=MERGE, body={'status': {
            'phase': phase, 'conditions': conditions, 'containerStatuses': statuses, 'startTime': pod['status'].get('startTime') or now()}})

    @contextlib.contextmanager
    def running(self, interval=0.2):
        """Step in a thread for the length of the block; a round that fails is reported and tried again."""
        with background.stepping(self.step, interval, lambda exc: print('%s: round failed: %r' % (NAME, exc), file=sys.stderr, flush=True)):
            yield self
