# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AKS node pools: options -> wire properties, input checks, reconcile steps, and the choice to replace a pool blue/green
(the replacement itself is in aks/replacement.py)."""

from __future__ import annotations

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import (
    AKS_SDK, MIG_GPUS, POOL_NAME, SURGE, AksResource, check_kubernetes_version, check_labels, check_taints,
    check_vm_size, is_gpu_size, supports_mig)
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.checks import check_timeout
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError, arm_call, wire
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import prune_none

OS_SKUS = ['Ubuntu', 'Ubuntu2204', 'Ubuntu2404', 'AzureLinux', 'AzureLinux3']
# The options of a node pool, typed once for aks_nodepool and aks_cluster's system_pool; documented by the
# aiplatform.aks.aks_pool fragment.
POOL_ARG_SPEC = dict(
    vm_size=dict(type='str'), count=dict(type='int'), enable_auto_scaling=dict(type='bool'),
    min_count=dict(type='int'), max_count=dict(type='int'), zones=dict(type='list', elements='str'),
    os_sku=dict(type='str', choices=OS_SKUS), os_disk_size_gb=dict(type='int'), max_pods=dict(type='int'),
    labels=dict(type='dict'), taints=dict(type='list', elements='str'), kubernetes_version=dict(type='str'),
)
# Pool properties AKS fixes at creation: changing one means a new pool (replace=blue_green). AKS itself migrates
# osSKU between its Linux images in place; the module still treats it as fixed (os_sku is documented so).
# tests/unit/bed/test_aks_emulator.py holds the emulator's list to this one.
IMMUTABLE_POOL_FIELDS = (
    'type', 'osType', 'osSKU', 'osDiskType', 'osDiskSizeGB', 'vmSize', 'availabilityZones', 'maxPods', 'vnetSubnetID',
    'podSubnetID', 'hostGroupID', 'capacityReservationGroupID', 'proximityPlacementGroupID', 'nodePublicIPPrefixID',
    'scaleSetPriority', 'scaleSetEvictionPolicy', 'spotMaxPrice', 'gpuInstanceProfile', 'gpuProfile.driver',
    'gpuProfile.nvidia.managementMode', 'windowsProfile', 'kubeletDiskType', 'kubeletConfig', 'linuxOSConfig', 'enableFIPS',
    'enableEncryptionAtHost', 'enableUltraSSD', 'enableNodePublicIP', 'creationData', 'artifactStreamingProfile',
)
# Tag that ties a blue/green replacement pool to the name the user manages.
POOL_FAMILY_TAG = 'aiplatform.aks.pool'


def _maybe(value, build):
    return None if value is None else build(value)


def pool_properties(p):
    """Wire properties of a pool from its options (None = leave alone)."""
    upgrade = p.get('upgrade_settings') or {}
    return {
        'mode': p.get('mode'),
        'vmSize': p.get('vm_size'),
        'count': p.get('count'),
        'enableAutoScaling': p.get('enable_auto_scaling'),
        'minCount': p.get('min_count'),
        'maxCount': p.get('max_count'),
        'availabilityZones': _maybe(p.get('zones'), lambda z: [str(i) for i in z]),
        'osSKU': p.get('os_sku'),
        'osDiskSizeGB': p.get('os_disk_size_gb'),
        'maxPods': p.get('max_pods'),
        'orchestratorVersion': p.get('kubernetes_version'),
        'nodeLabels': p.get('labels'),
        'nodeTaints': p.get('taints'),
        'tags': p.get('tags'),
        'gpuProfile': _maybe(p.get('gpu_driver'), lambda d: {'driver': d}),
        'gpuInstanceProfile': p.get('mig_profile'),
        'scaleSetPriority': _maybe(p.get('spot'), lambda s: 'Spot' if s else 'Regular'),
        'scaleSetEvictionPolicy': p.get('spot_eviction_policy'),
        'spotMaxPrice': p.get('spot_max_price'),
        'artifactStreamingProfile': _maybe(p.get('artifact_streaming'), lambda a: {'enabled': a}),
        'upgradeSettings': {'maxSurge': upgrade.get('max_surge'), 'maxUnavailable': upgrade.get('max_unavailable'),
                            'drainTimeoutInMinutes': upgrade.get('drain_timeout_minutes'),
                            'nodeSoakDurationInMinutes': upgrade.get('node_soak_minutes')} if upgrade else None,
    }


def check_pool(p, prefix=''):
    """Every input problem of a pool's options; `prefix` names the option path (for example system_pool.)."""
    problems = []
    name, mode = p.get('name'), p.get('mode') or 'User'
    if name is not None and not POOL_NAME.match(name):
        problems.append('%sname %r must be 1-12 lowercase letters and digits, starting with a letter' % (prefix, name))
    problems.extend(check_vm_size(p.get('vm_size'), prefix + 'vm_size'))
    problems.extend(check_kubernetes_version(p.get('kubernetes_version'), prefix + 'kubernetes_version'))
    lo, hi, count = p.get('min_count'), p.get('max_count'), p.get('count')
    if p.get('enable_auto_scaling'):
        if lo is None or hi is None:
            problems.append('%senable_auto_scaling needs %smin_count and %smax_count' % (prefix, prefix, prefix))
        elif lo > hi:
            problems.append('%smin_count (%s) must not exceed %smax_count (%s)' % (prefix, lo, prefix, hi))
        elif count is not None and not lo <= count <= hi:
            problems.append('%scount %s must lie between min_count %s and max_count %s' % (prefix, count, lo, hi))
    elif lo is not None or hi is not None:
        problems.append('%smin_count and max_count need %senable_auto_scaling: true' % (prefix, prefix))
    floor = 1 if mode == 'System' else 0
    for field, value in (('count', count), ('min_count', lo), ('max_count', hi)):
        if value is not None and not floor <= value <= 1000:
            problems.append('%s%s %s is outside %d-1000 for a %s pool' % (prefix, field, value, floor, mode))
    gpu = is_gpu_size(p.get('vm_size'))
    if p.get('mig_profile') and p.get('vm_size') and not supports_mig(p['vm_size']):
        problems.append('%smig_profile %s needs a MIG-capable GPU size (with one of: %s); %s is not one'
                        % (prefix, p['mig_profile'], ', '.join(MIG_GPUS), p['vm_size']))
    if p.get('gpu_driver') and p.get('vm_size') and not gpu:
        problems.append('%sgpu_driver only applies to GPU VM sizes (N-series); %s has no GPU' % (prefix, p['vm_size']))
    if not p.get('spot'):
        for field in ('spot_max_price', 'spot_eviction_policy'):
            if p.get(field) is not None:
                problems.append('%s%s only applies with %sspot: true' % (prefix, field, prefix))
    else:
        if mode == 'System':
            problems.append('%sspot: true is not allowed for a System pool' % prefix)
        if (p.get('upgrade_settings') or {}).get('max_surge') is not None:
            problems.append('%supgrade_settings.max_surge does not apply to spot pools' % prefix)
        price = p.get('spot_max_price')
        if price is not None and price != -1 and price <= 0:
            problems.append('%sspot_max_price must be -1 (pay up to the on-demand price) or a positive price' % prefix)
    zones = p.get('zones') or []
    if any(str(z) not in ('1', '2', '3') for z in zones):
        problems.append('%szones %s must be a subset of 1, 2, 3' % (prefix, zones))
    if p.get('max_pods') is not None and not 10 <= p['max_pods'] <= 250:
        problems.append('%smax_pods %s must be between 10 and 250' % (prefix, p['max_pods']))
    if p.get('os_disk_size_gb') is not None and not 30 <= p['os_disk_size_gb'] <= 2048:
        problems.append('%sos_disk_size_gb %s must be between 30 and 2048' % (prefix, p['os_disk_size_gb']))
    surge = (p.get('upgrade_settings') or {}).get('max_surge')
    if surge is not None and not SURGE.match(str(surge)):
        problems.append('%supgrade_settings.max_surge %r must be a node count such as 1 or a percentage such as 33%%' % (prefix, surge))
    problems.extend(check_taints(p.get('taints'), prefix + 'taints'))
    problems.extend(check_labels(p.get('labels'), prefix + 'labels'))
    return problems


def autoscaled_count(want, have):
    """Pool properties `want` with a count AKS accepts once the autoscaling range changes: the current count moved
    into the new range, as the autoscaler would move it. AKS refuses a count outside minCount..maxCount, and a PUT
    of the current pool would carry the old one. A count the user set is left alone."""
    if want.get('count') is not None or (want.get('minCount') is None and want.get('maxCount') is None):
        return want
    auto = want.get('enableAutoScaling', have.get('enableAutoScaling'))
    low, high, count = want.get('minCount', have.get('minCount')), want.get('maxCount', have.get('maxCount')), have.get('count')
    if not auto or None in (low, high, count) or low <= count <= high:
        return want
    return dict(want, count=min(max(count, low), high))


def replacement():
    """The blue/green workflow, imported only when a pool may be replaced (it loads the kubernetes package)."""
    from ansible_collections.aiplatform.aks.plugins.module_utils.aks import replacement as workflow
    return workflow


class AgentPool(AksResource):
    kind = 'node pool'
    result_key = 'pool'
    immutable = tuple('properties.' + f for f in IMMUTABLE_POOL_FIELDS)
    create_requires = ('properties.vmSize',)
    etag_path = 'properties.eTag'
    # AKS labels and taints every spot pool itself (and refuses the kubernetes.azure.com/ prefix from users)
    service_added = {
        'properties.nodeLabels': {'kubernetes.azure.com/scalesetpriority': 'spot'},
        'properties.nodeTaints': ('kubernetes.azure.com/scalesetpriority=spot:NoSchedule',),
    }

    def __init__(self, client, resource_group, cluster, name, timeout, check_mode=False, wait=True, repair=True):
        super(AgentPool, self).__init__(client, name, timeout, check_mode, wait=wait, repair=repair)
        self.resource_group = resource_group
        self.cluster = cluster
        self.module = None

    @classmethod
    def from_module(cls, module, name=None):
        p = module.params
        pool = cls(module.client(AKS_SDK.ContainerServiceClient), p['resource_group'], p['cluster'], name or p['name'], p['timeout'],
                   check_mode=module.check_mode, wait=p['wait'], repair=p['repair'])
        pool.module = module  # a blue/green replacement drains nodes with the module's Kubernetes access
        return pool

    @staticmethod
    def check_input(params):
        # with wait on, timeout 0 would start the write and report a timeout at once
        problems = check_timeout(params.get('timeout'), zero_ok=not params.get('wait', True))
        problems.extend(check_timeout((params.get('drain') or {}).get('timeout'), 'drain.timeout'))
        return problems + (check_pool(params) if params['state'] == 'present' else [])

    def desired(self, params):
        return prune_none({'properties': pool_properties(params)})

    def ensure(self, params):
        """The pool the user calls `name` (or its blue/green replacement) as the options ask; with replace=blue_green,
        a change AKS cannot make in place, or a replacement an earlier run left half done, is carried through."""
        pool, current = find_managed(self)
        if params['state'] == 'absent':
            return pool.absent(current)
        desired, resumed = self.desired(params), None
        if params['replace'] == 'blue_green' and current is not None:
            pool, current, resumed = replacement().finish_replacement(self.module, pool, current, desired)
        try:
            result = pool.present(desired, current)
        except AzureOperationError as exc:
            if exc.error.get('code') != 'ImmutableField' or params['replace'] != 'blue_green':
                raise
            result = replacement().blue_green(self.module, pool, current, desired)
        if resumed:
            result.update(changed=True, replaced=resumed)
        return result

    def align(self, desired, current):
        return dict(desired, properties=autoscaled_count(desired.get('properties') or {}, current.get('properties') or {}))

    def named(self, name):
        """The same cluster's pool called `name` (used for blue/green replacements)."""
        other = AgentPool(self.client, self.resource_group, self.cluster, name, self.timeout, self.check_mode, self.wait, self.repair)
        other.deadline = self.deadline
        return other

    def prepare_create(self, body):
        props = body['properties']
        props.setdefault('mode', 'User')
        props.setdefault('osType', 'Linux')
        if props.get('enableAutoScaling') and props.get('count') is None:
            props['count'] = props.get('minCount')
        return body

    @property
    def label(self):
        return 'node pool %s of %s' % (self.name, self.cluster)

    def read(self):
        return wire(arm_call('read ' + self.label, self.client.agent_pools.get, self.resource_group, self.cluster, self.name,
                             not_found=None))

    def list(self):
        # no cluster (or resource group) means no pools
        return arm_call('list node pools of %s' % self.cluster, lambda: [
            pool.as_dict() for pool in self.client.agent_pools.list(self.resource_group, self.cluster)], not_found=[])

    def write(self, body, current):
        return wire(self.run('write ' + self.label, lambda: self.client.agent_pools.begin_create_or_update(
            self.resource_group, self.cluster, self.name, AKS_SDK.AgentPool(body), **self.precondition(current))))

    def remove(self):
        self.run('delete ' + self.label, lambda: self.client.agent_pools.begin_delete(self.resource_group, self.cluster, self.name),
                 gone_ok=True, resend_when_busy=True)


READ_ONLY_POOL_FIELDS = ('provisioningState', 'currentOrchestratorVersion', 'nodeImageVersion', 'eTag', 'powerState')


def family_of(pool):
    return ((pool.get('properties') or {}).get('tags') or {}).get(POOL_FAMILY_TAG)


def find_managed(pool):
    """The pool the user calls `pool.name`: that name, or the blue/green replacement tagged with it."""
    current = pool.settle(pool.read())
    if current is not None:
        return pool, current
    for other in pool.list():
        if family_of(other) == pool.name:
            twin = pool.named(other['name'])
            return twin, twin.settle(other)
    return pool, None


def unfinished_replacement(pool, current):
    """The other pool of this pool's family, left behind by an interrupted blue/green replacement."""
    family = family_of(current) or pool.name
    for other in pool.list():
        if other['name'] != pool.name and (family_of(other) == family or other['name'] == family):
            return other
    return None


def replacement_name(pool, taken):
    """The family's name if free, else <name>b1, <name>b2 ... (12 characters at most)."""
    family = family_of(pool.read() or {}) or pool.name
    for candidate in [family] + ['%sb%d' % (family[:10], i) for i in range(1, 10)]:
        if candidate not in taken:
            return candidate
    raise ValueError('no free name for a replacement of node pool %s' % family)


def replacement_body(current, desired, family):
    """The new pool: the current pool's settings with the requested ones laid over, tagged with its family."""
    props = dict((k, v) for k, v in (current.get('properties') or {}).items() if k not in READ_ONLY_POOL_FIELDS)
    props.update(desired.get('properties') or {})
    props['tags'] = dict(props.get('tags') or {}, **{POOL_FAMILY_TAG: family})
    if props.get('enableAutoScaling'):
        props['count'] = max(props.get('minCount') or 0, min(props.get('count') or 0, props.get('maxCount') or 0))
    return {'properties': props}
