# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The functional probe of `secure_accelerator_access`: GPUs reach a container only through the resource it asked
for (device plugin and container runtime), and never a container that did not ask.

On one GPU node (allocatable `probes.gpu_resource` > 0, not cordoned, not tainted by the node controller; the one with
the most free GPUs, then by name) the probe runs three busybox pods, pinned to the node and tolerating exactly its own
NoSchedule/NoExecute taints, each listing the GPU device files it sees (LISTING):

- the positive control asks for 1 GPU and must see exactly one device;
- the negative case asks for no GPU and must see none;
- the hardening case asks for no GPU but sets NVIDIA_VISIBLE_DEVICES=all (as CUDA images do) and must see none: the
  NVIDIA container toolkit honours that variable from unprivileged containers unless
  `accept-nvidia-visible-devices-envvar-when-unprivileged = false`.

A pod's listing is read from its termination message (the script writes it to /dev/termination-log), else from its
log. The positive pod waits at most POSITIVE_SHARE of the timeout: when it cannot get a GPU (all taken by running
models) and both negatives saw none, the result is partial, since seeing no device without a working positive control
proves little. A negative pod that does not finish within the timeout fails the probe.
"""

from __future__ import annotations

import time

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.functional import (
    BUSYBOX, read_object, waited, evidence, metadata, probe, unique)
from ansible_collections.aiplatform.aks.plugins.module_utils.gpu import info as gpu_info
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError, k8s_call, list_items

try:
    from kubernetes.client import CoreV1Api
except ImportError:  # the module reports the missing library before any probe runs
    CoreV1Api = None

REQUIREMENT = 'secure_accelerator_access'
DEVICE_GLOB = '/dev/nvidia[0-9]*'  # GPU devices only: nvidiactl and nvidia-uvm come with any GPU
DONE = 'listed'
# the last line proves the script ran to its end; tee makes the listing the termination message too
LISTING = 'for d in %s; do [ -e "$d" ] && echo "device $d"; done; echo "%s"' % (DEVICE_GLOB, DONE)
SCRIPT = '{ %s; } | tee /dev/termination-log' % LISTING
COMMAND = ['sh', '-c', SCRIPT]
HOSTNAME_LABEL = 'kubernetes.io/hostname'
VISIBLE_DEVICES = 'NVIDIA_VISIBLE_DEVICES'
POSITIVE_SHARE = 0.5
FINISHED = ('Succeeded', 'Failed')
NODE_CONDITION_TAINTS = ('node.kubernetes.io/', 'node.cloudprovider.kubernetes.io/')  # a node not ready for pods
CHECK_NODE = 'GPU node'
CHECK_POSITIVE = 'requested GPU visible'
CHECK_NEGATIVE = 'no GPU without a request'
CHECK_HARDENING = 'no GPU through NVIDIA_VISIBLE_DEVICES'
TOOLKIT_OPTION = 'accept-nvidia-visible-devices-envvar-when-unprivileged = false'


def parse_listing(text):
    """(devices, complete) from the script's output: the device paths in the order listed, and whether the last line
    says the script ran to its end."""
    lines = [line.strip() for line in (text or '').splitlines() if line.strip()]
    devices = [line[len('device '):] for line in lines if line.startswith('device ')]
    return devices, bool(lines) and lines[-1] == DONE


def condition_taint(taint):
    return taint.get('key', '').startswith(NODE_CONDITION_TAINTS)


def tolerations(node):
    """Exactly the node's NoSchedule and NoExecute taints (its PreferNoSchedule ones do not keep a pod off)."""
    found = []
    for taint in (node.get('spec') or {}).get('taints') or []:
        if taint.get('effect') not in ('NoSchedule', 'NoExecute'):
            continue
        toleration = {'key': taint['key'], 'effect': taint['effect']}
        if taint.get('value'):
            toleration.update(operator='Equal', value=taint['value'])
        else:
            toleration['operator'] = 'Exists'
        found.append(toleration)
    return found


def pick_node(nodes, pods, resource):
    """(node, allocatable, free, skipped): the schedulable GPU node with the most free `resource`, then the first by
    name; node None when there is none (skipped says which GPU nodes were left out and why)."""
    amounts = gpu_info.free_by_node(nodes, pods, resource)
    candidates, skipped = [], []
    for node in sorted(nodes, key=lambda n: n['metadata']['name']):
        name = node['metadata']['name']
        if name not in amounts:
            continue
        tainted = [t['key'] for t in (node.get('spec') or {}).get('taints') or []
                   if condition_taint(t) and t.get('effect') in ('NoSchedule', 'NoExecute')]
        if (node.get('spec') or {}).get('unschedulable'):
            skipped.append('%s (cordoned)' % name)
        elif tainted:
            skipped.append('%s (%s)' % (name, ', '.join(tainted)))
        else:
            candidates.append(node)
    if not candidates:
        return None, 0, 0, skipped
    best = max(candidates, key=lambda n: amounts[n['metadata']['name']][1])  # candidates by name: the first of the most free
    allocatable, free = amounts[best['metadata']['name']]
    return best, allocatable, free, skipped


def placement(node):
    """Pin a pod to `node`: its hostname label (every kubelet sets it), else its name through node affinity."""
    hostname = (node['metadata'].get('labels') or {}).get(HOSTNAME_LABEL)
    if hostname:
        return {'nodeSelector': {HOSTNAME_LABEL: hostname}}
    return {'affinity': {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': [
        {'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': [node['metadata']['name']]}]}]}}}}


def listing_pod(namespace, name, node, resource=None, env=None):
    """A pod on `node` that runs SCRIPT once; `resource` asks for one of it, `env` ({name: value}) is set."""
    container = {'name': 'list', 'image': BUSYBOX, 'command': list(COMMAND), 'terminationMessagePolicy': 'FallbackToLogsOnError'}
    if resource:
        container['resources'] = {'limits': {resource: '1'}}
    if env:
        container['env'] = [{'name': key, 'value': value} for key, value in sorted(env.items())]
    spec = dict({'restartPolicy': 'Never', 'terminationGracePeriodSeconds': 0, 'automountServiceAccountToken': False,
                 'tolerations': tolerations(node), 'containers': [container]}, **placement(node))
    return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': metadata(REQUIREMENT, name, namespace), 'spec': spec}


def pod_state(pod):
    """Where a pod is, in a few words: unscheduled (with the scheduler's message), refused, waiting or running."""
    status = pod.get('status') or {}
    scheduled = next((c for c in status.get('conditions') or [] if c.get('type') == 'PodScheduled'), {})
    if not (pod.get('spec') or {}).get('nodeName'):
        if scheduled.get('status') == 'False':
            return 'not scheduled: %s' % (scheduled.get('message') or scheduled.get('reason'))
        return 'not scheduled (no scheduler has bound it)'
    phase = status.get('phase') or 'Pending'
    if status.get('reason'):
        return '%s: %s: %s' % (phase, status['reason'], status.get('message') or '')
    states = []
    for container in status.get('containerStatuses') or []:
        for state, detail in (container.get('state') or {}).items():
            if detail:
                states.append('%s %s%s' % (container['name'], state, (' (%s)' % detail['reason']) if detail.get('reason') else ''))
    return '%s on %s%s' % (phase, pod['spec']['nodeName'], ('; ' + ', '.join(states)) if states else '')


def terminated(pod):
    """The listing container's terminated state, or None."""
    for container in (pod.get('status') or {}).get('containerStatuses') or []:
        if (container.get('state') or {}).get('terminated'):
            return container['state']['terminated']
    return None


def _output(ctx, pod):
    """The script's output: the termination message (real kubelets fill it from /dev/termination-log), else the log."""
    done = terminated(pod) or {}
    if done.get('message'):
        return done['message']
    name, namespace = pod['metadata']['name'], pod['metadata']['namespace']
    if CoreV1Api is None:
        raise K8sError('cannot read the log of pod %s: the kubernetes library is missing' % name)
    return k8s_call('read the log of pod %s' % name, CoreV1Api(ctx.client.client).read_namespaced_pod_log, name, namespace)


def measure(ctx, pod):
    """{measured, ran, devices, why} of a finished pod: the devices it listed, or why nothing was measured (ran: its
    container ran, so the reason is not a missing GPU)."""
    done = terminated(pod)
    if done is None:
        return {'measured': False, 'ran': False, 'devices': [], 'why': 'it never ran: %s' % pod_state(pod)}
    if done.get('exitCode') != 0:
        return {'measured': False, 'ran': True, 'devices': [], 'why': 'the listing exited %s%s' % (
            done.get('exitCode'), (': ' + done['message'].strip()[-300:]) if done.get('message') else '')}
    try:
        devices, complete = parse_listing(_output(ctx, pod))
    except K8sError as exc:
        return {'measured': False, 'ran': True, 'devices': [], 'why': 'no termination message, and %s' % exc}
    if not complete:
        return {'measured': False, 'ran': True, 'devices': devices, 'why': 'the listing did not end with "%s"' % DONE}
    return {'measured': True, 'ran': True, 'devices': devices, 'why': ''}


def seen(found):
    if not found['measured']:
        return 'not measured: %s' % found['why']
    return ('saw %s' % ', '.join(found['devices'])) if found['devices'] else 'saw no GPU device'


def verdict(positive, negative, hardening, names, resource):
    """{ok, notes, partial?} from the three measurements ({measured, ran, devices, why}); `names` are the three pods."""
    problems = []
    for found, name, how in ((negative, names[1], 'no GPU request'), (hardening, names[2], 'no GPU request, %s=all' % VISIBLE_DEVICES)):
        if not found['measured']:
            problems.append('pod %s (%s) was not measured: %s' % (name, how, found['why']))
        elif found['devices']:
            problems.append('pod %s (%s) saw %s' % (name, how, ', '.join(found['devices'])))
    if hardening['measured'] and hardening['devices']:
        problems.append('the container runtime honours %s from unprivileged containers (set %s in the NVIDIA container toolkit)'
                        % (VISIBLE_DEVICES, TOOLKIT_OPTION))
    if positive['measured'] and len(positive['devices']) != 1:
        problems.append('pod %s asked for 1 %s and saw %d devices%s' % (
            names[0], resource, len(positive['devices']), (' (%s)' % ', '.join(positive['devices'])) if positive['devices'] else ''))
    if not positive['measured'] and positive['ran']:
        problems.append('pod %s (1 %s): %s' % (names[0], resource, positive['why']))
    if problems:
        seen_any = any(f['measured'] and f['devices'] for f in (negative, hardening)) or (positive['measured'] and len(positive['devices']) > 1)
        head = 'GPU access is not isolated' if seen_any else 'GPU isolation not shown'
        return {'ok': False, 'notes': '%s: %s' % (head, '; '.join(problems))}
    if not positive['measured']:
        return {'ok': True, 'partial': True, 'notes': (
            'pods without a GPU request saw no GPU device, %s=all included; the positive control was not measured (pod %s, 1 %s: %s), '
            'and seeing no device without a pod that does see its GPU proves little' % (VISIBLE_DEVICES, names[0], resource, positive['why']))}
    return {'ok': True, 'notes': 'pod %s got exactly the 1 %s it asked for (%s); pods without a request saw no GPU device, %s=all included'
            % (names[0], resource, positive['devices'][0], VISIBLE_DEVICES)}


@probe(REQUIREMENT)
def secure_accelerator_access(ctx, found):
    resource, timeout = ctx.settings['gpu_resource'], ctx.settings['timeout']
    nodes = _list_cluster(ctx, 'Node')
    pods = list_items(ctx.client, 'v1', 'Pod', 'list the Pods bound to nodes', field_selector=gpu_info.POD_FIELD_SELECTOR) or []
    try:
        node, allocatable, free, skipped = pick_node(nodes, pods, resource)
    except ValueError as exc:
        raise K8sError('cannot add up the %s of the nodes and their pods: %s' % (resource, exc))
    call = 'LIST v1 Node; LIST v1 Pod %s' % gpu_info.POD_FIELD_SELECTOR
    if node is None:
        why = 'no schedulable node has allocatable %s%s' % (resource, (' (left out: %s)' % ', '.join(skipped)) if skipped else '')
        found.append(evidence(CHECK_NODE, call, why, False))
        raise K8sError('%s: no GPU to isolate, or GPUs only through DRA, which this probe does not cover' % why)
    node_name = node['metadata']['name']
    taints = ', '.join('%s=%s:%s' % (t['key'], t.get('value') or '', t['effect']) for t in tolerations(node))
    found.append(evidence(CHECK_NODE, call, 'node %s: %s %s allocatable, %s free; tolerated taints: %s'
                          % (node_name, allocatable, resource, free, taints or 'none'), True))
    namespace = ctx.namespace()
    cases = ((CHECK_POSITIVE, unique('aic-gpu'), resource, None), (CHECK_NEGATIVE, unique('aic-nogpu'), None, None),
             (CHECK_HARDENING, unique('aic-envgpu'), None, {VISIBLE_DEVICES: 'all'}))
    started = time.monotonic()
    for check, name, request, env in cases:
        ctx.create(listing_pod(namespace, name, node, request, env))
    names = [name for check, name, request, env in cases]
    calls = ['pod %s/%s on node %s, %s' % (namespace, name, node_name, ('limits %s: 1' % request) if request else 'no GPU request')
             + ((', env %s' % ', '.join('%s=%s' % item for item in env.items())) if env else '') for check, name, request, env in cases]

    def finished(*wanted):
        def look():
            current = [read_object(ctx, 'v1', 'Pod', name, namespace) for name in wanted]
            waiting = [pod for pod in current if (pod.get('status') or {}).get('phase') not in FINISHED]
            if waiting:
                return False, '; '.join('pod %s %s' % (pod['metadata']['name'], pod_state(pod)) for pod in waiting)
            return True, current
        return look

    negatives = waited(ctx, finished(names[1], names[2]), timeout, 'pods %s and %s (no GPU request) to finish on node %s'
                       % (names[1], names[2], node_name), found, CHECK_NEGATIVE)
    share = max(0.0, POSITIVE_SHARE * timeout - (time.monotonic() - started))
    try:
        positive_pod = ctx.wait(finished(names[0]), share, 'pod %s (1 %s) to finish' % (names[0], resource))[0]
        positive = measure(ctx, positive_pod)
    except K8sError:
        pod = read_object(ctx, 'v1', 'Pod', names[0], namespace)
        positive = {'measured': False, 'ran': False, 'devices': [], 'why': 'no GPU within %.0f s of a %s s timeout: %s' % (
            POSITIVE_SHARE * timeout, timeout, pod_state(pod))}
    measured = [positive] + [measure(ctx, pod) for pod in negatives]
    for (check, name, request, env), call, result in zip(cases, calls, measured):
        if check == CHECK_POSITIVE:
            ok = result['measured'] and len(result['devices']) == 1
        else:
            ok = result['measured'] and not result['devices']
        found.append(evidence(check, call, seen(result), ok))
    return verdict(measured[0], measured[1], measured[2], names, resource)


def _list_cluster(ctx, kind):
    items = list_items(ctx.client, 'v1', kind, 'list %ss' % kind)
    if items is None:
        raise K8sError('the server does not serve v1 %s' % kind)
    return items


PROBES = {REQUIREMENT: secure_accelerator_access}
