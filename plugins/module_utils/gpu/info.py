# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the cluster knows about its NVIDIA GPUs, read only.

Per node: the GPU resources it advertises (whole GPUs, time-sliced replicas, MIG instances), what the pods bound to it
request of them (the scheduler's view: every pod with a node that has not finished), the labels GPU feature discovery
and the MIG manager set, and its AKS pool. Cluster-wide: the GPU Operator's ClusterPolicy, the DCGM exporter Services
and, where the server serves resource.k8s.io, the DRA DeviceClasses and ResourceSlices.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import is_gpu_size
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError, list_items
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import label_selector_problems

GPU_RESOURCE = 'nvidia.com/gpu'
SHARED_RESOURCE = 'nvidia.com/gpu.shared'  # time-slicing with renameByDefault
MIG_RESOURCE_PREFIX = 'nvidia.com/mig-'  # MIG strategy mixed: nvidia.com/mig-1g.10gb and so on

POOL_LABELS = ('kubernetes.azure.com/agentpool', 'agentpool')
INSTANCE_TYPE_LABELS = ('node.kubernetes.io/instance-type', 'beta.kubernetes.io/instance-type')
ACCELERATOR_LABEL = 'kubernetes.azure.com/accelerator'  # AKS sets it to nvidia on GPU pools
# GPU feature discovery; memory is in MiB
GFD_LABELS = (('present', 'nvidia.com/gpu.present'), ('product', 'nvidia.com/gpu.product'), ('count', 'nvidia.com/gpu.count'),
              ('memory', 'nvidia.com/gpu.memory'), ('replicas', 'nvidia.com/gpu.replicas'))
GFD_NUMBERS = ('count', 'memory', 'replicas')
# The GPU Operator's driver upgrade controller moves each node through these states (node label); upgrade-done is the
# steady state, upgrade-failed parks the node until someone acts.
DRIVER_UPGRADE_LABEL = 'nvidia.com/gpu-driver-upgrade-state'
DRIVER_UPGRADE_DONE = 'upgrade-done'
DRIVER_UPGRADE_FAILED = 'upgrade-failed'
MIG_LABELS = (('config', 'nvidia.com/mig.config'), ('config_state', 'nvidia.com/mig.config.state'), ('strategy', 'nvidia.com/mig.strategy'))

CLUSTER_POLICY_API = ('nvidia.com/v1', 'ClusterPolicy')
CLUSTER_POLICY_STATES = ('ignored', 'ready', 'notReady')
DCGM_SERVICE = 'nvidia-dcgm-exporter'
DCGM_PORT_NAME = 'gpu-metrics'
DCGM_PORTS = (9400, 19400)  # the operator's exporter, AKS managed GPU's host exporter
DRA_GROUP = 'resource.k8s.io'
DRA_VERSIONS = ('v1', 'v1beta2', 'v1beta1')  # newest first
DRA_GPU_DRIVERS = ('gpu.nvidia.com',)  # drivers whose devices are GPUs (not compute domains)

# What Kubernetes counts as a pod holding its resources on a node: bound, and not finished.
FINISHED_PHASES = ('Succeeded', 'Failed')
POD_FIELD_SELECTOR = 'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed'

_QUANTITY = re.compile(r'^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(?P<exponent>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$')
_SUFFIXES = {'n': Decimal('1e-9'), 'u': Decimal('1e-6'), 'm': Decimal('1e-3'), 'k': Decimal(10) ** 3, 'M': Decimal(10) ** 6,
             'G': Decimal(10) ** 9, 'T': Decimal(10) ** 12, 'P': Decimal(10) ** 15, 'E': Decimal(10) ** 18,
             'Ki': Decimal(2) ** 10, 'Mi': Decimal(2) ** 20, 'Gi': Decimal(2) ** 30, 'Ti': Decimal(2) ** 40, 'Pi': Decimal(2) ** 50,
             'Ei': Decimal(2) ** 60}
_LABEL_VALUE = re.compile(r'^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')


def parse_quantity(value):
    """A Kubernetes quantity ('2', '500m', '1Ki', '1e3', or a number) as an int when it is whole, else a float.

    Raises ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError('%r is not a quantity' % value)
    if isinstance(value, (int, float)):
        number = Decimal(str(value))
    else:
        match = _QUANTITY.match(str(value).strip())
        if not match:
            raise ValueError('%r is not a quantity' % value)
        try:
            number = Decimal(match.group('number'))
            if match.group('exponent'):
                number = number.scaleb(int(match.group('exponent')[1:]))
            elif match.group('suffix'):
                number *= _SUFFIXES[match.group('suffix')]
        except InvalidOperation:
            raise ValueError('%r is not a quantity' % value)
    return int(number) if number == number.to_integral_value() else float(number)


def is_gpu_resource(name):
    """Whether a resource name is one this module reports: whole GPUs, time-sliced GPUs, MIG instances."""
    return name in (GPU_RESOURCE, SHARED_RESOURCE) or name.startswith(MIG_RESOURCE_PREFIX)


def container_request(container, resource):
    """What a container requests of `resource`; for an extended resource a limit alone is the request."""
    resources = container.get('resources') or {}
    value = (resources.get('requests') or {}).get(resource)
    if value is None:
        value = (resources.get('limits') or {}).get(resource)
    return 0 if value is None else parse_quantity(value)


def pod_request(pod, resource):
    """What a pod holds of `resource` on its node, as the scheduler counts it.

    The app containers and the sidecars (init containers with restartPolicy Always) run together; each ordinary
    init container runs alone beside the sidecars started before it. The pod holds the larger of the two peaks, plus
    its overhead."""
    spec = pod.get('spec') or {}
    sidecars = 0
    init_peak = 0
    for container in spec.get('initContainers') or []:
        amount = container_request(container, resource)
        if container.get('restartPolicy') == 'Always':
            sidecars += amount
            init_peak = max(init_peak, sidecars)
        else:
            init_peak = max(init_peak, sidecars + amount)
    running = sum(container_request(c, resource) for c in spec.get('containers') or []) + sidecars
    overhead = (spec.get('overhead') or {}).get(resource)
    return max(running, init_peak) + (parse_quantity(overhead) if overhead is not None else 0)


def holds_resources(pod):
    """A pod bound to a node that has not finished holds what it requests there (Pending included)."""
    return bool((pod.get('spec') or {}).get('nodeName')) and (pod.get('status') or {}).get('phase') not in FINISHED_PHASES


def allocatable_of(node, resource):
    """The node's allocatable `resource` (0 when it has none)."""
    value = ((node.get('status') or {}).get('allocatable') or {}).get(resource)
    return 0 if value is None else parse_quantity(value)


def free_by_node(nodes, pods, resource):
    """{node name: (allocatable, free)} of `resource` for the `nodes` that have some allocatable; free is what the pods
    holding resources there (holds_resources, counted as pod_request does) leave, below zero on an overcommitted node."""
    held = {}
    for pod in pods:
        if holds_resources(pod):
            held[pod['spec']['nodeName']] = held.get(pod['spec']['nodeName'], 0) + pod_request(pod, resource)
    amounts = {}
    for node in nodes:
        allocatable = allocatable_of(node, resource)
        if allocatable > 0:
            amounts[node['metadata']['name']] = (allocatable, allocatable - held.get(node['metadata']['name'], 0))
    return amounts


def pod_gpu_requests(pod):
    """The GPU resources a pod requests anywhere in its spec, by name, with the amount it holds of each."""
    spec = pod.get('spec') or {}
    names = set()
    for container in (spec.get('containers') or []) + (spec.get('initContainers') or []):
        resources = container.get('resources') or {}
        names.update(n for part in ('requests', 'limits') for n in (resources.get(part) or {}) if is_gpu_resource(n))
    names.update(n for n in spec.get('overhead') or {} if is_gpu_resource(n))
    return dict((name, pod_request(pod, name)) for name in sorted(names))


def allocated_by_node(pods, node_names=None):
    """{node: {resource: amount}} summed over the pods that hold resources, for the nodes in `node_names` (all if None)."""
    allocated = {}
    for pod in pods:
        node = pod['spec']['nodeName'] if holds_resources(pod) else None
        if node is None or (node_names is not None and node not in node_names):
            continue
        for name, amount in pod_gpu_requests(pod).items():
            if amount:
                totals = allocated.setdefault(node, {})
                totals[name] = totals.get(name, 0) + amount
    return allocated


def _number(text):
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def gfd_labels(labels):
    """GPU feature discovery's labels: present (bool), product, count, memory (MiB) and replicas (int); None where absent
    (or, for the numbers, not a whole number)."""
    found = {}
    for key, label in GFD_LABELS:
        value = labels.get(label)
        if value is None:
            found[key] = None
        elif key == 'present':
            found[key] = str(value).strip().lower() == 'true'
        elif key in GFD_NUMBERS:
            found[key] = _number(value)
        else:
            found[key] = value
    return found


def mig_labels(labels):
    """The MIG manager's and GFD's MIG labels: config (the MIG config set asked for), config_state, strategy."""
    return dict((key, labels.get(label)) for key, label in MIG_LABELS)


def pool_of(labels):
    """The AKS pool a node belongs to, or None off AKS."""
    return next((labels[label] for label in POOL_LABELS if labels.get(label)), None)


def instance_type(labels):
    return next((labels[label] for label in INSTANCE_TYPE_LABELS if labels.get(label)), None)


def _quantities(values, what, node):
    found = {}
    for name, value in (values or {}).items():
        if is_gpu_resource(name):
            try:
                found[name] = parse_quantity(value)
            except ValueError:
                raise K8sError('node %s has a %s of %s that is not a quantity: %r' % (node, what, name, value))
    return found


def gpu_node_reasons(labels, capacity):
    """Why a node looks like a GPU node: GPU capacity, GFD's present label, AKS's accelerator label, an N-series size."""
    reasons = []
    if any(amount > 0 for amount in capacity.values()):
        reasons.append('gpu_capacity')
    if gfd_labels(labels)['present']:
        reasons.append('gfd_present_label')
    if (labels.get(ACCELERATOR_LABEL) or '').lower() == 'nvidia':
        reasons.append('accelerator_label')
    if is_gpu_size(instance_type(labels)):
        reasons.append('gpu_instance_type')
    return reasons


def node_info(node, allocated=None, dra_gpu_devices=0):
    """One node's GPU facts. `allocated` is {resource: amount} from the pods on it, `dra_gpu_devices` the number of GPU
    devices DRA ResourceSlices publish for it."""
    meta = node.get('metadata') or {}
    name = meta.get('name')
    labels = meta.get('labels') or {}
    status = node.get('status') or {}
    capacity = _quantities(status.get('capacity'), 'capacity', name)
    allocatable = _quantities(status.get('allocatable'), 'allocatable', name)
    allocated = allocated or {}
    resources = {}
    for resource in sorted(set(capacity) | set(allocatable) | set(allocated) | {GPU_RESOURCE}):
        resources[resource] = {'capacity': capacity.get(resource, 0), 'allocatable': allocatable.get(resource, 0),
                               'allocated': allocated.get(resource, 0)}
    reasons = gpu_node_reasons(labels, capacity)
    if dra_gpu_devices:
        reasons.append('dra_devices')
    return {
        'name': name,
        'pool': pool_of(labels),
        'instance_type': instance_type(labels),
        'gpu_node': bool(reasons),
        'gpu_node_reasons': reasons,
        'advertises_gpus': any(r['allocatable'] > 0 for r in resources.values()) or dra_gpu_devices > 0,
        'resources': resources,
        'dra_gpu_devices': dra_gpu_devices,
        'gfd': gfd_labels(labels),
        'mig': mig_labels(labels),
        'unschedulable': bool((node.get('spec') or {}).get('unschedulable')),
        'driver_upgrade_state': labels.get(DRIVER_UPGRADE_LABEL) or None,
    }


def summarize(nodes):
    """Counts over the reported nodes, and the GPU nodes that advertise no GPU (by name)."""
    # whole GPUs always, so that a role can read summary.allocatable['nvidia.com/gpu'] even without nodes
    totals = dict((field, {GPU_RESOURCE: 0}) for field in ('capacity', 'allocatable', 'allocated'))
    for node in nodes:
        for resource, amounts in node['resources'].items():
            for field, total in totals.items():
                total[resource] = total.get(resource, 0) + amounts[field]
    return {
        'nodes': len(nodes),
        'gpu_nodes': sum(1 for n in nodes if n['gpu_node']),
        'nodes_advertising_gpus': sum(1 for n in nodes if n['advertises_gpus']),
        'gpu_nodes_without_gpus': [n['name'] for n in nodes if n['gpu_node'] and not n['advertises_gpus']],
        'driver_upgrades_in_progress': dict((n['name'], n['driver_upgrade_state']) for n in nodes if n['driver_upgrade_state']
                                            not in (None, DRIVER_UPGRADE_DONE, DRIVER_UPGRADE_FAILED)),
        'driver_upgrades_failed': [n['name'] for n in nodes if n['driver_upgrade_state'] == DRIVER_UPGRADE_FAILED],
        'capacity': totals['capacity'],
        'allocatable': totals['allocatable'],
        'allocated': totals['allocated'],
    }


def input_problems(params):
    """Sentences about the options no read could use."""
    problems = []
    selector = params.get('node_selector')
    if selector is not None:
        if not selector.strip():
            problems.append('node_selector is empty: leave it out to read every node')
        else:
            problems.extend(label_selector_problems(selector, 'node_selector'))
    for index, pool in enumerate(params.get('pools') or []):
        if not isinstance(pool, str) or not _LABEL_VALUE.match(pool):
            problems.append('pools item %d %r is not a pool name (the value of the %s label: up to 63 letters, digits, '
                            "'-', '_' or '.', starting and ending with a letter or digit)" % (index + 1, pool, POOL_LABELS[0]))
    return problems


def server_version(client):
    """'Kubernetes 1.20' from the server's version, or 'Kubernetes of unknown version'."""
    try:
        version = client.version['kubernetes']
        minor = ''.join(ch for ch in str(version['minor']) if ch.isdigit())
        return 'Kubernetes %s.%s' % (int(version['major']), int(minor))
    except (AttributeError, KeyError, TypeError, ValueError):
        return 'Kubernetes of unknown version'


def cluster_policy_info(client):
    """The GPU Operator's ClusterPolicies (cluster-scoped) with their state; served false when its CRD is absent."""
    api_version, kind = CLUSTER_POLICY_API
    items = list_items(client, api_version, kind, 'list ClusterPolicies')
    if items is None:
        return {'served': False, 'reason': '%s %s is not served: the GPU Operator CRD clusterpolicies.nvidia.com is not installed'
                % (api_version, kind), 'present': False, 'ready': False, 'state': None, 'policies': []}
    policies = []
    for item in sorted(items, key=lambda i: i['metadata']['name']):
        status = item.get('status') or {}
        policies.append({'name': item['metadata']['name'], 'state': status.get('state'), 'namespace': status.get('namespace'),
                         'conditions': [dict((k, c.get(k)) for k in ('type', 'status', 'reason', 'message'))
                                        for c in status.get('conditions') or []]})
    return {'served': True, 'reason': None, 'present': bool(policies), 'ready': any(p['state'] == 'ready' for p in policies),
            'state': overall_state(policies), 'policies': policies}


def overall_state(policies):
    """The state of the ClusterPolicy the operator reconciles: it takes one and marks every other one ignored.
    None when there is none, or none has a state yet."""
    states = [p['state'] for p in policies]
    active = [s for s in states if s != 'ignored']
    if not active:
        return 'ignored' if states else None
    return next((s for s in ('ready', 'notReady') if s in active), None)


def _metrics_port(ports):
    """The port named gpu-metrics, else 9400 or 19400, else the only or first one (None without ports)."""
    by_name = [p for p in ports if p.get('name') == DCGM_PORT_NAME]
    by_number = [p for p in ports if p.get('port') in DCGM_PORTS]
    return (by_name or by_number or ports or [None])[0]


def dcgm_exporters(client):
    """The DCGM exporter Services (named nvidia-dcgm-exporter, in any namespace) and the port that serves the metrics."""
    items = list_items(client, 'v1', 'Service', 'list Services named %s' % DCGM_SERVICE, field_selector='metadata.name=%s' % DCGM_SERVICE)
    exporters = []
    for item in sorted(items or [], key=lambda i: (i['metadata'].get('namespace'), i['metadata']['name'])):
        meta = item['metadata']
        spec = item.get('spec') or {}
        ports = spec.get('ports') or []
        port = _metrics_port(ports)
        annotations = meta.get('annotations') or {}
        exporters.append({
            'namespace': meta.get('namespace'), 'name': meta['name'], 'cluster_ip': spec.get('clusterIP'),
            'port': port.get('port') if port else None, 'port_name': port.get('name') if port else None,
            'ports': [{'name': p.get('name'), 'port': p.get('port')} for p in ports],
            'scrape_annotation': annotations.get('prometheus.io/scrape'),
            'url': 'http://%s.%s.svc:%s/metrics' % (meta['name'], meta.get('namespace'), port.get('port')) if port else None,
        })
    return exporters


def _device_class(item):
    spec = item.get('spec') or {}
    return {'name': item['metadata']['name'],
            'selectors': [(s.get('cel') or {}).get('expression') for s in spec.get('selectors') or [] if s.get('cel')],
            'extended_resource_name': spec.get('extendedResourceName')}


def _resource_slice(item):
    spec = item.get('spec') or {}
    pool = spec.get('pool') or {}
    return {'name': item['metadata']['name'], 'driver': spec.get('driver'), 'node': spec.get('nodeName'),
            'all_nodes': bool(spec.get('allNodes')), 'pool': pool.get('name'), 'generation': pool.get('generation') or 0,
            'slice_count': pool.get('resourceSliceCount') or 0, 'devices': len(spec.get('devices') or [])}


def resource_pools(slices):
    """Each (driver, pool) of `slices` (as dra_info lists them): {driver, pool, generation, slices, slice_count, complete,
    current}. A driver replaces a pool by publishing a higher generation; until every slice of that generation is there
    (as many as its resourceSliceCount) the scheduler treats the pool as incomplete. `current`
    are the slices of the highest generation."""
    pools = {}
    for item in slices:
        pools.setdefault((item['driver'], item['pool']), []).append(item)
    found = []
    for (driver, pool), items in sorted(pools.items(), key=lambda entry: (str(entry[0][0]), str(entry[0][1]))):
        generation = max(i['generation'] for i in items)
        current = [i for i in items if i['generation'] == generation]
        wanted = max(i['slice_count'] for i in current)
        found.append({'driver': driver, 'pool': pool, 'generation': generation, 'slices': len(current), 'slice_count': wanted,
                      'complete': len(current) == wanted, 'current': current})
    return found


def dra_info(client):
    """DRA's DeviceClasses and ResourceSlices in the newest served version of resource.k8s.io, or why there are none."""
    for version in DRA_VERSIONS:
        api_version = '%s/%s' % (DRA_GROUP, version)
        classes = list_items(client, api_version, 'DeviceClass', 'list DeviceClasses')
        if classes is None:
            continue
        slices = list_items(client, api_version, 'ResourceSlice', 'list ResourceSlices') or []
        return {'served': True, 'reason': None, 'api_version': api_version,
                'device_classes': [_device_class(i) for i in sorted(classes, key=lambda i: i['metadata']['name'])],
                'resource_slices': [_resource_slice(i) for i in sorted(slices, key=lambda i: i['metadata']['name'])]}
    return {'served': False, 'api_version': None, 'device_classes': [], 'resource_slices': [],
            'reason': '%s is not served by this apiserver (%s): DRA needs %s' % (
                DRA_GROUP, server_version(client), ', '.join('%s/%s' % (DRA_GROUP, v) for v in DRA_VERSIONS))}


def dra_gpu_devices_by_node(dra):
    """{node: number of GPU devices that DRA ResourceSlices of a GPU driver publish for that node}."""
    counts = {}
    for pool in resource_pools(dra['resource_slices']):
        for item in pool['current']:  # an older generation's slices are being replaced: not counted twice
            if item['node'] and item['driver'] in DRA_GPU_DRIVERS:
                counts[item['node']] = counts.get(item['node'], 0) + item['devices']
    return counts


def in_pools(node, pools):
    return not pools or pool_of((node.get('metadata') or {}).get('labels') or {}) in pools


def gather(client, node_selector=None, pools=None):
    """Everything gpu_info returns: nodes (selected by `node_selector` and AKS `pools`), summary, cluster_policy,
    dcgm_exporters and dra."""
    listed = list_items(client, 'v1', 'Node', 'list Nodes', label_selector=node_selector or None) or []
    listed = sorted((n for n in listed if in_pools(n, pools)), key=lambda n: n['metadata']['name'])
    names = set(n['metadata']['name'] for n in listed)
    pods = []
    if names:
        pods = list_items(client, 'v1', 'Pod', 'list the Pods bound to nodes', field_selector=POD_FIELD_SELECTOR) or []
    dra = dra_info(client)
    try:
        allocated = allocated_by_node(pods, names)
    except ValueError as exc:
        raise K8sError('cannot add up the GPU requests of the pods: %s' % exc)
    devices = dra_gpu_devices_by_node(dra)
    nodes = [node_info(n, allocated.get(n['metadata']['name']), devices.get(n['metadata']['name'], 0)) for n in listed]
    return {'nodes': nodes, 'summary': summarize(nodes), 'cluster_policy': cluster_policy_info(client),
            'dcgm_exporters': dcgm_exporters(client), 'dra': dra}
