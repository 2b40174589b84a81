# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AKS managed clusters: options -> wire body, input checks, and the reconcile steps."""

from __future__ import annotations

import difflib
import ipaddress
import re

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import (
    AKS_SDK, AksResource, check_cidrs, check_kubernetes_version, parse_version)
from ansible_collections.aiplatform.aks.plugins.module_utils.aks.nodepool import IMMUTABLE_POOL_FIELDS, autoscaled_count, check_pool, pool_properties
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.checks import check_guids, check_timeout
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError, arm_call, wire

DNS_PREFIX = re.compile(r'^[a-zA-Z0-9]$|^[a-zA-Z0-9][-a-zA-Z0-9]{0,52}[a-zA-Z0-9]$')
ISTIO_REVISION = re.compile(r'^asm-[0-9]+-[0-9]+$')
CRITICAL_ADDONS_TAINT = 'CriticalAddonsOnly=true:NoSchedule'

# Secure defaults, used only when the cluster is created (never to reset an existing cluster).
CREATE_DEFAULTS = {
    'identity': {'type': 'SystemAssigned'},
    'sku': {'name': 'Base', 'tier': 'Free'},
    'properties': {
        'kubernetesVersion': '1.34',
        'enableRBAC': True,
        'oidcIssuerProfile': {'enabled': True},
        'securityProfile': {'workloadIdentity': {'enabled': True}},
        'aadProfile': {'managed': True, 'enableAzureRBAC': True},
        'disableLocalAccounts': True,
    },
}

IMMUTABLE_CLUSTER_FIELDS = (
    'location', 'properties.dnsPrefix', 'properties.fqdnSubdomain', 'properties.nodeResourceGroup',
    'properties.networkProfile.networkPlugin', 'properties.networkProfile.networkPluginMode',
    'properties.networkProfile.podCidr', 'properties.networkProfile.serviceCidr', 'properties.networkProfile.dnsServiceIP',
    'properties.networkProfile.outboundType',
) + tuple('properties.agentPoolProfiles.*.' + f for f in IMMUTABLE_POOL_FIELDS)

# The cluster autoscaler profile (ManagedClusterPropertiesAutoScalerProfile): the kind of value each key takes. The API
# carries them all as strings; AKS refuses one that does not parse as its kind. Durations are a whole number with a unit
# (10m, 30s, 1h); "minutes" keys take whole minutes only (AKS refused 0s and 30s for scale-down-delay-after-add and
# -failure, MicrosoftDocs/azure-docs#123289; the API describes the other scale-down times and max-node-provision-time alike).
AUTOSCALER_KINDS = {
    'balance-similar-node-groups': 'bool', 'daemonset-eviction-for-empty-nodes': 'bool',
    'daemonset-eviction-for-occupied-nodes': 'bool', 'ignore-daemonsets-utilization': 'bool',
    'expander': ('least-waste', 'most-pods', 'priority', 'random'),
    'max-empty-bulk-delete': 'int', 'max-graceful-termination-sec': 'int', 'max-node-provision-time': 'minutes',
    'max-total-unready-percentage': 'percent', 'new-pod-scale-up-delay': 'duration', 'ok-total-unready-count': 'int',
    'scan-interval': 'duration', 'scale-down-delay-after-add': 'minutes', 'scale-down-delay-after-delete': 'duration',
    'scale-down-delay-after-failure': 'minutes', 'scale-down-unneeded-time': 'minutes', 'scale-down-unready-time': 'minutes',
    'scale-down-utilization-threshold': 'fraction', 'skip-nodes-with-local-storage': 'bool', 'skip-nodes-with-system-pods': 'bool',
}
DURATION = re.compile(r'^[0-9]+(s|m|h)$')
AUTOSCALER_EXAMPLES = {'bool': 'true or false', 'int': 'a whole number such as 10', 'duration': 'a duration such as 10m or 30s',
                       'minutes': 'whole minutes such as 10m',
                       'percent': 'a whole number from 0 to 100', 'fraction': 'a number from 0 to 1 such as 0.5'}


def autoscaler_value_ok(kind, value):
    """True when `value` (the wire string) is a value of `kind` (see AUTOSCALER_KINDS)."""
    if isinstance(kind, tuple):
        return value in kind
    if kind == 'bool':
        return value in ('true', 'false', True, False)
    if kind in ('duration', 'minutes'):
        return bool(DURATION.match(value)) and (kind == 'duration' or value.endswith('m'))
    if kind in ('int', 'percent'):
        return value.isdigit() and (kind == 'int' or int(value) <= 100)
    try:
        return 0 <= float(value) <= 1
    except ValueError:
        return False


def check_autoscaler_profile(profile, field='autoscaler_profile'):
    problems = []
    for key, value in (autoscaler_keys(profile) or {}).items():
        kind = AUTOSCALER_KINDS.get(key)
        if kind is None:
            near = difflib.get_close_matches(key, list(AUTOSCALER_KINDS), n=1)
            problems.append('%s key %r is not a cluster autoscaler setting%s' % (field, key, ' (did you mean %r?)' % near[0] if near else ''))
        elif not autoscaler_value_ok(kind, value):
            expected = 'one of %s' % ', '.join(kind) if isinstance(kind, tuple) else AUTOSCALER_EXAMPLES[kind]
            problems.append('%s %s is %r; AKS expects %s' % (field, key, value, expected))
    return problems


def check_network(network, field='network_profile'):
    network = network or {}
    problems = []
    ranges = {}
    for key in ('pod_cidr', 'service_cidr'):
        if network.get(key) is not None:
            try:
                ranges[key] = ipaddress.ip_network(network[key], strict=False)
            except ValueError:
                problems.append('%s.%s %r is not a CIDR range such as 10.0.0.0/16' % (field, key, network[key]))
    dns = network.get('dns_service_ip')
    if dns is not None:
        try:
            address = ipaddress.ip_address(dns)
        except ValueError:
            problems.append('%s.dns_service_ip %r is not an IPv4 address' % (field, dns))
        else:
            service = ranges.get('service_cidr')
            if service is not None and address not in service:
                problems.append('%s.dns_service_ip %s is outside %s.service_cidr %s' % (field, dns, field, network['service_cidr']))
            elif service is not None and address == service.network_address:
                problems.append('%s.dns_service_ip %s is the network address of %s.service_cidr' % (field, dns, field))
    if 'pod_cidr' in ranges and 'service_cidr' in ranges and ranges['pod_cidr'].overlaps(ranges['service_cidr']):
        problems.append('%s.pod_cidr %s overlaps %s.service_cidr %s' % (field, network['pod_cidr'], field, network['service_cidr']))
    return problems


NETWORK_KEYS = {'network_plugin': 'networkPlugin', 'network_plugin_mode': 'networkPluginMode', 'network_dataplane': 'networkDataplane',
                'network_policy': 'networkPolicy', 'outbound_type': 'outboundType', 'pod_cidr': 'podCidr',
                'service_cidr': 'serviceCidr', 'dns_service_ip': 'dnsServiceIP', 'load_balancer_sku': 'loadBalancerSku'}


def _flag(value, build):
    return None if value is None else build(value)


def _istio(istio):
    if not istio:
        return None
    if istio.get('enabled') is False:
        return {'mode': 'Disabled'}
    components = None
    if istio.get('ingress_gateways') is not None:
        components = {'ingressGateways': [{'mode': g['mode'], 'enabled': g['enabled']} for g in istio['ingress_gateways']]}
    return {'mode': 'Istio', 'istio': {'revisions': istio.get('revisions'), 'components': components}}


def _monitoring(monitoring):
    if not monitoring:
        return None
    ksm = {'metricLabelsAllowlist': monitoring.get('metric_labels_allowlist'),
           'metricAnnotationsAllowList': monitoring.get('metric_annotations_allowlist')}
    return {'metrics': {'enabled': monitoring.get('enabled'), 'kubeStateMetrics': ksm}}


def _entra(entra):
    if not entra:
        return None
    return {'managed': True, 'enableAzureRBAC': entra.get('azure_rbac'), 'adminGroupObjectIDs': entra.get('admin_group_object_ids'),
            'tenantID': entra.get('tenant_id')}


def _identity(identity):
    if not identity:
        return None
    if identity.get('type') == 'UserAssigned':
        return {'type': 'UserAssigned', 'userAssignedIdentities': {identity['user_assigned_identity']: {}}}
    return {'type': identity['type']}


def system_pool_profile(pool):
    if not pool:
        return None
    props = pool_properties(dict(pool, mode='System'))
    if pool.get('only_critical_addons'):
        props['nodeTaints'] = sorted(set((props.get('nodeTaints') or []) + [CRITICAL_ADDONS_TAINT]))
    props['name'] = pool['name']
    return props


def autoscaler_keys(profile):
    """The autoscaler profile with its kebab-case wire keys (snake_case accepted); values as strings except booleans."""
    if not profile:
        return None
    wire = {}
    for key, value in profile.items():
        key = key.replace('_', '-')
        wire[key] = value if isinstance(value, bool) and key.startswith(('daemonset-eviction', 'ignore-daemonsets')) else \
            (str(value).lower() if isinstance(value, bool) else str(value))
    return wire


def cluster_body(p):
    """Wire-format body holding only what the options set (None = leave alone)."""
    props = {
        'kubernetesVersion': p.get('kubernetes_version'),
        'dnsPrefix': p.get('dns_prefix'),
        'oidcIssuerProfile': _flag(p.get('oidc_issuer'), lambda v: {'enabled': v}),
        'securityProfile': _flag(p.get('workload_identity'), lambda v: {'workloadIdentity': {'enabled': v}}),
        'aiToolchainOperatorProfile': _flag(p.get('kaito'), lambda v: {'enabled': v}),
        'ingressProfile': _flag(p.get('gateway_api'), lambda v: {'gatewayAPI': {'installation': 'Standard' if v else 'Disabled'}}),
        'serviceMeshProfile': _istio(p.get('istio')),
        'azureMonitorProfile': _monitoring(p.get('monitoring')),
        'workloadAutoScalerProfile': _flag(p.get('keda'), lambda v: {'keda': {'enabled': v}}),
        'nodeProvisioningProfile': _flag(p.get('node_provisioning'), lambda v: {'mode': v.get('mode'), 'defaultNodePools': v.get('default_node_pools')}),
        'autoScalerProfile': autoscaler_keys(p.get('autoscaler_profile')),
        'networkProfile': _flag(p.get('network_profile'), lambda v: dict((NETWORK_KEYS[k], val) for k, val in v.items() if k in NETWORK_KEYS)),
        'aadProfile': _entra(p.get('entra')),
        'disableLocalAccounts': _flag(p.get('local_accounts'), lambda v: not v),
        'apiServerAccessProfile': _flag(p.get('api_server_authorized_ip_ranges'), lambda v: {'authorizedIPRanges': v}),
        'agentPoolProfiles': _flag(p.get('system_pool'), lambda v: [system_pool_profile(v)]),
    }
    return {
        'location': p.get('location'),
        'tags': p.get('tags'),
        'sku': _flag(p.get('sku_tier'), lambda v: {'name': 'Base', 'tier': v}),
        'identity': _identity(p.get('identity')),
        'properties': props,
    }


def check_cluster(p):
    """Every input problem of the cluster options, as messages naming the option."""
    problems = check_kubernetes_version(p.get('kubernetes_version'))
    if p.get('dns_prefix') is not None and not DNS_PREFIX.match(p['dns_prefix']):
        problems.append('dns_prefix %r must be 1-54 letters, digits or hyphens, starting and ending with a letter or digit' % p['dns_prefix'])
    if p.get('workload_identity') and p.get('oidc_issuer') is False:
        problems.append('workload_identity needs oidc_issuer: workload identity federates through the OIDC issuer')
    if p.get('kaito') and p.get('oidc_issuer') is False:
        problems.append('kaito needs oidc_issuer: the KAITO add-on authenticates with workload identity')
    istio = p.get('istio') or {}
    revisions = istio.get('revisions') or []
    if len(revisions) > 2 or len(set(revisions)) != len(revisions):
        problems.append('istio.revisions takes one revision, or two distinct ones during a canary upgrade; got %s' % revisions)
    problems.extend('istio.revisions entry %r must look like asm-1-28' % r for r in revisions if not ISTIO_REVISION.match(r))
    if istio.get('enabled') and not revisions:
        problems.append('istio.enabled needs istio.revisions, for example [asm-1-28]')
    modes = [g['mode'] for g in istio.get('ingress_gateways') or []]
    if len(modes) != len(set(modes)):
        problems.append('istio.ingress_gateways allows at most one External and one Internal gateway')
    problems.extend(check_cidrs(p.get('api_server_authorized_ip_ranges'), 'api_server_authorized_ip_ranges'))
    problems.extend(check_autoscaler_profile(p.get('autoscaler_profile')))
    problems.extend(check_network(p.get('network_profile')))
    entra = p.get('entra') or {}
    problems.extend(check_guids(entra.get('admin_group_object_ids'), 'entra.admin_group_object_ids'))
    if entra.get('tenant_id') is not None:
        problems.extend(check_guids([entra['tenant_id']], 'entra.tenant_id'))
    identity = p.get('identity') or {}
    if identity.get('type') == 'UserAssigned' and not identity.get('user_assigned_identity'):
        problems.append('identity.type UserAssigned needs identity.user_assigned_identity (the identity resource id)')
    if identity.get('user_assigned_identity') and identity.get('type') != 'UserAssigned':
        problems.append('identity.user_assigned_identity is only used with identity.type UserAssigned')
    pool = p.get('system_pool')
    if pool:
        problems.extend(check_pool(dict(pool, mode='System'), 'system_pool.'))
        if (p.get('node_provisioning') or {}).get('mode') == 'Auto' and pool.get('enable_auto_scaling'):
            problems.append('node_provisioning.mode Auto (node auto provisioning) does not allow an autoscaled system_pool; '
                            'give it a fixed count')
    return problems


class ManagedCluster(AksResource):
    kind = 'AKS cluster'
    result_key = 'cluster'
    sdk_client = AKS_SDK.ContainerServiceClient
    module_params = ('resource_group', 'name', 'timeout')
    immutable = IMMUTABLE_CLUSTER_FIELDS
    keyed = {'properties.agentPoolProfiles': 'name'}
    create_requires = ('location', 'properties.agentPoolProfiles')
    create_defaults = CREATE_DEFAULTS

    def __init__(self, client, resource_group, name, timeout, check_mode=False, purge_tags=False):
        super(ManagedCluster, self).__init__(client, name, timeout, check_mode, purge_tags)
        self.resource_group = resource_group

    @staticmethod
    def check_input(params):
        # timeout 0 would start the write and report a timeout at once: refused, whatever the state
        problems = check_timeout(params.get('timeout'), zero_ok=False)
        return problems + (check_cluster(params) if params['state'] == 'present' else [])

    def desired(self, params):
        return cluster_body(params)

    def align(self, desired, current):
        want = (desired.get('properties') or {}).get('kubernetesVersion')
        have = (current.get('properties') or {}).get('kubernetesVersion') or ''
        if want and have.startswith(want + '.'):
            desired = dict(desired, properties=dict(desired['properties'], kubernetesVersion=have))
        pools = (desired.get('properties') or {}).get('agentPoolProfiles')
        if pools:
            running = dict((p.get('name'), p) for p in (current.get('properties') or {}).get('agentPoolProfiles') or [])
            pools = [autoscaled_count(pool, running.get(pool.get('name')) or {}) for pool in pools]
            desired = dict(desired, properties=dict(desired['properties'], agentPoolProfiles=pools))
        return desired

    def refuse(self, desired, current):
        props, have = desired.get('properties') or {}, current.get('properties') or {}
        if (props.get('oidcIssuerProfile') or {}).get('enabled') is False and (have.get('oidcIssuerProfile') or {}).get('enabled'):
            raise AzureOperationError('The OIDC issuer of an AKS cluster cannot be disabled once enabled (oidc_issuer: false)',
                                      error={'code': 'ImmutableField', 'message': 'one-way setting', 'target': 'oidc_issuer'})
        want, now = parse_version(props.get('kubernetesVersion')), parse_version(have.get('kubernetesVersion'))
        if want and now and want[:2] < now[:2]:
            raise AzureOperationError('Kubernetes cannot be downgraded (cluster runs %s, requested %s)'
                                      % (have['kubernetesVersion'], props['kubernetesVersion']),
                                      error={'code': 'InvalidVersion', 'message': 'downgrade', 'target': 'kubernetes_version'})
        if want and now and (want[1] - now[1] > 1 and want[0] == now[0]):
            raise AzureOperationError('AKS upgrades one minor version at a time: %s -> %s skips a minor version'
                                      % (have['kubernetesVersion'], props['kubernetesVersion']),
                                      error={'code': 'InvalidVersion', 'message': 'minor skipped', 'target': 'kubernetes_version'})

    def prepare_create(self, body):
        props = body['properties']
        props.setdefault('dnsPrefix', self.name[:54])
        for pool in props.get('agentPoolProfiles') or []:
            if pool.get('enableAutoScaling') and pool.get('count') is None:
                pool['count'] = pool.get('minCount')
        return body

    def read(self):
        return wire(arm_call('read ' + self.label, self.client.managed_clusters.get, self.resource_group, self.name, not_found=None))

    def write(self, body, current):
        return wire(self.run('write ' + self.label, lambda: self.client.managed_clusters.begin_create_or_update(
            self.resource_group, self.name, AKS_SDK.ManagedCluster(body), **self.precondition(current))))

    def write_tags(self, tags, current):
        # ManagedClusters_UpdateTags: a full PUT would start an update of the whole cluster
        return wire(self.run('update the tags of ' + self.label, lambda: self.client.managed_clusters.begin_update_tags(
            self.resource_group, self.name, AKS_SDK.TagsObject(tags=tags), **self.precondition(current))))

    def remove(self):
        self.run('delete ' + self.label, lambda: self.client.managed_clusters.begin_delete(self.resource_group, self.name),
                 gone_ok=True, resend_when_busy=True)


def find_clusters(client, resource_group, name=None):
    """The clusters of a resource group in wire form, or just the one called `name` ([] when it does not exist)."""
    action = 'read AKS clusters in %s' % resource_group
    if name:
        found = arm_call(action, client.managed_clusters.get, resource_group, name, not_found=None)
        return [found.as_dict()] if found is not None else []
    return arm_call(action, lambda: [c.as_dict() for c in client.managed_clusters.list_by_resource_group(resource_group)])


def summarize(cluster):
    """The facts a playbook needs from a cluster's wire form (never credentials)."""
    props = cluster.get('properties') or {}
    mesh = props.get('serviceMeshProfile') or {}
    addon_identities = dict((name, (addon.get('identity') or {})) for name, addon in (props.get('addonProfiles') or {}).items()
                            if addon.get('identity'))
    for profile in ('aiToolchainOperatorProfile',):
        identity = (props.get(profile) or {}).get('identity')
        if identity:
            addon_identities[profile] = identity
    return {
        'name': cluster.get('name'),
        'id': cluster.get('id'),
        'location': cluster.get('location'),
        'kubernetes_version': props.get('kubernetesVersion'),
        'current_kubernetes_version': props.get('currentKubernetesVersion'),
        'fqdn': props.get('fqdn') or props.get('privateFQDN'),
        'oidc_issuer_url': (props.get('oidcIssuerProfile') or {}).get('issuerURL'),
        'node_resource_group': props.get('nodeResourceGroup'),
        'provisioning_state': props.get('provisioningState'),
        'identity': cluster.get('identity'),
        'kubelet_identity': (props.get('identityProfile') or {}).get('kubeletidentity'),
        'addon_identities': addon_identities,
        'addons': {
            'oidc_issuer': bool((props.get('oidcIssuerProfile') or {}).get('enabled')),
            'workload_identity': bool(((props.get('securityProfile') or {}).get('workloadIdentity') or {}).get('enabled')),
            'kaito': bool((props.get('aiToolchainOperatorProfile') or {}).get('enabled')),
            'istio': mesh.get('mode') == 'Istio',
            'istio_revisions': (mesh.get('istio') or {}).get('revisions') or [],
            'gateway_api': ((props.get('ingressProfile') or {}).get('gatewayAPI') or {}).get('installation') == 'Standard',
            'managed_prometheus': bool(((props.get('azureMonitorProfile') or {}).get('metrics') or {}).get('enabled')),
            'keda': bool(((props.get('workloadAutoScalerProfile') or {}).get('keda') or {}).get('enabled')),
            'node_auto_provisioning': (props.get('nodeProvisioningProfile') or {}).get('mode') == 'Auto',
            'local_accounts': not props.get('disableLocalAccounts', False),
            'azure_rbac': bool((props.get('aadProfile') or {}).get('enableAzureRBAC')),
        },
        'pools': [dict((k, p.get(k)) for k in ('name', 'mode', 'vmSize', 'count', 'enableAutoScaling', 'minCount', 'maxCount',
                                               'orchestratorVersion', 'provisioningState', 'nodeLabels', 'nodeTaints',
                                               'gpuProfile', 'gpuInstanceProfile'))
                  for p in props.get('agentPoolProfiles') or []],
        'resource': cluster,
    }
