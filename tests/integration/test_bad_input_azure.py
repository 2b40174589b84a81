"""Bad input to the Azure modules (azure_resource_group, azure_managed_identity, azure_federated_credential,
azure_role_assignment, aks_cluster, aks_nodepool, aks_credentials, aks_cluster_info and the Managed Prometheus modules):
each is refused with a message naming the option, without a traceback, before anything is written to ARM (the
emulator's request log) or to Kubernetes (the apiserver's audit log). Module calls in process; almost every check here
runs before the module reads anything, so no cluster is needed (a region is judged after reading the resource
provider's list, and an association after reading it finds no cluster). One real playbook run for the aks_cluster
role's unquoted-version check."""

import uuid

import pytest

from tests.bed.arm_emulator import DEFAULT_SUBSCRIPTION_ID
from tests.integration.refusals import BadInput, cases, refused_before_writing, role_refused_before_writing

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6]
RG = 'rg-bad-input-' + RUN
GUID = '6f1c2a2e-9d7b-4b8e-a7a4-0c1d2e3f4a5b'
SYSTEM = {'vm_size': 'Standard_D4s_v5', 'count': 1}
TOO_MANY_TAGS = dict(('t%d' % i, 'x') for i in range(51))
MONITOR_RG_ID = '/subscriptions/%s/resourceGroups/%s' % (DEFAULT_SUBSCRIPTION_ID, RG)
AMW_ID = MONITOR_RG_ID + '/providers/Microsoft.Monitor/accounts/amw-' + RUN
MISSING_CLUSTER_ID = MONITOR_RG_ID + '/providers/Microsoft.ContainerService/managedClusters/aks-missing-' + RUN
DCR_ID = MONITOR_RG_ID + '/providers/Microsoft.Insights/dataCollectionRules/dcr-' + RUN
DCE_ID = MONITOR_RG_ID + '/providers/Microsoft.Insights/dataCollectionEndpoints/dce-' + RUN
RECORD = {'record': 'instance:node_num_cpu:sum', 'expression': 'count without (cpu, mode) (node_cpu_seconds_total{mode="idle"})'}


def group(case_id, names, **args):
    return BadInput(case_id, 'azure_resource_group', dict({'name': RG, 'location': 'westeurope'}, **args), names)


def identity(case_id, names, **args):
    return BadInput(case_id, 'azure_managed_identity', dict({'name': 'id-' + RUN, 'resource_group': RG, 'location': 'westeurope'}, **args),
                    names)


def federated(case_id, names, **args):
    return BadInput(case_id, 'azure_federated_credential', dict({
        'name': 'fc-' + RUN, 'identity': 'id-' + RUN, 'resource_group': RG, 'issuer': 'https://127.0.0.1/issuer',
        'subject': 'system:serviceaccount:ns:sa'}, **args), names)


def assignment(case_id, names, **args):
    return BadInput(case_id, 'azure_role_assignment', dict({
        'scope': '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/' + RG, 'role': 'Reader',
        'principal_id': GUID}, **args), names)


def cluster(case_id, names, **args):
    base = {'name': 'aks-' + RUN, 'resource_group': RG, 'location': 'westeurope', 'system_pool': SYSTEM}
    return BadInput(case_id, 'aks_cluster', dict(base, **args), names)


def pool(case_id, names, **args):
    base = {'name': 'np' + RUN[:4], 'cluster': 'aks-' + RUN, 'resource_group': RG, 'vm_size': 'Standard_D4s_v5', 'count': 1}
    return BadInput(case_id, 'aks_nodepool', dict(base, **args), names)


def credentials(case_id, names, **args):
    return BadInput(case_id, 'aks_credentials', dict({'name': 'aks-' + RUN, 'resource_group': RG, 'path': '/tmp/kubeconfig-' + RUN},
                                                     **args), names)


def monitor_workspace(case_id, names, **args):
    return BadInput(case_id, 'azure_monitor_workspace', dict({'name': 'amw-' + RUN, 'resource_group': RG, 'location': 'westeurope'}, **args),
                    names)


def endpoint(case_id, names, **args):
    return BadInput(case_id, 'azure_data_collection_endpoint', dict({'name': 'dce-' + RUN, 'resource_group': RG, 'location': 'westeurope',
                                                                     'kind': 'Linux'}, **args), names)


def collection_rule(case_id, names, **args):
    return BadInput(case_id, 'azure_data_collection_rule', dict({
        'name': 'dcr-' + RUN, 'resource_group': RG, 'location': 'westeurope', 'kind': 'Linux', 'data_collection_endpoint_id': DCE_ID,
        'prometheus_forwarder': [{'name': 'PrometheusDataSource'}],
        'monitoring_accounts': [{'name': 'MonitoringAccount1', 'account_resource_id': AMW_ID}],
        'data_flows': [{'streams': ['Microsoft-PrometheusMetrics'], 'destinations': ['MonitoringAccount1']}]}, **args), names)


def rule_association(case_id, names, **args):
    return BadInput(case_id, 'azure_data_collection_rule_association', dict({
        'resource_id': MISSING_CLUSTER_ID, 'name': 'MSProm-westeurope-aks', 'data_collection_rule_id': DCR_ID}, **args), names)


def rule_group(case_id, names, **args):
    return BadInput(case_id, 'azure_prometheus_rule_group', dict({
        'name': 'rules-' + RUN, 'resource_group': RG, 'location': 'westeurope', 'scopes': [AMW_ID], 'interval': 'PT1M',
        'rules': [RECORD]}, **args), names)


def info(case_id, names, **args):
    return BadInput(case_id, 'aks_cluster_info', dict({'resource_group': RG}, **args), names)


RESOURCE_GROUP = cases(
    group('name-ends-with-period', ('name', 'must not end with a period'), name='rg-ml.'),
    group('name-with-space', ('name', 'may only hold'), name='rg ml'),
    group('name-with-slash', ('name', 'may only hold'), name='rg/ml'),
    group('name-91-characters', ('name', 'at most 90'), name='r' * 91),
    group('tag-name-with-less-than', ('tags', 'a<b'), tags={'a<b': 'x'}),
    group('tag-name-with-percent', ('tags', '%'), tags={'cost%': 'x'}),
    group('tag-name-with-question-mark', ('tags', '?'), tags={'why?': 'x'}),
    group('tag-name-with-backslash', ('tags', '\\'), tags={'a\\b': 'x'}),
    group('tag-name-513-characters', ('tags', 'at most 512'), tags={'n' * 513: 'x'}),
    group('tag-value-257-characters', ('tags', 'value of owner', 'at most 256'), tags={'owner': 'v' * 257}),
    group('tag-value-number', ('tags', 'value of cost', 'quote it'), tags={'cost': 42}),
    group('tag-value-boolean', ('tags', 'value of prod', 'got bool'), tags={'prod': True}),
    group('51-tags', ('tags', 'at most 50'), tags=TOO_MANY_TAGS),
    group('tags-a-list', 'tags', tags=['env', 'test']),
    group('negative-timeout', ('timeout', 'zero or more'), timeout=-1),
    group('state-unknown', 'state', state='gone'),
    group('partial-credentials', ('client_id', 'client_secret', 'tenant_id'), client_id=GUID),
)
MANAGED_IDENTITY = cases(
    identity('resource-group-ends-with-period', ('resource_group', 'must not end with a period'), resource_group='rg.'),
    identity('resource-group-91-characters', ('resource_group', 'at most 90'), resource_group='r' * 91),
    identity('resource-group-with-star', ('resource_group', 'may only hold'), resource_group='rg*'),
    identity('tag-name-with-ampersand', ('tags', '&'), tags={'a&b': 'x'}),
    identity('tag-value-list', ('tags', 'value of owners'), tags={'owners': ['a', 'b']}),
    identity('51-tags', ('tags', 'at most 50'), tags=TOO_MANY_TAGS),
    identity('negative-timeout', 'timeout', timeout=-30),
    identity('timeout-not-a-number', 'timeout', timeout='soon'),
    identity('name-missing', 'name', name=None),
    identity('name-with-space', ('name', 'not a valid managed identity name'), name='my identity'),
    identity('name-starts-with-hyphen', ('name', 'starting with a letter or digit'), name='-id'),
    identity('name-two-characters', ('name', '3 to 128'), name='id'),
    identity('name-129-characters', ('name', '3 to 128'), name='i' * 129),
    identity('name-with-dot', ('name', 'not a valid managed identity name'), name='id.one'),
)
FEDERATED_CREDENTIAL = cases(
    federated('name-too-short', ('name', 'not a valid federated credential name'), name='ab'),
    federated('name-with-dot', ('name', 'not a valid federated credential name'), name='fc.one'),
    federated('identity-with-slash', ('identity', 'not a valid managed identity name'), identity='id/other'),
    federated('audiences-empty', 'audiences must not be empty', audiences=[]),
    federated('resource-group-ends-with-period', ('resource_group', 'period'), resource_group='rg-x.'),
    federated('negative-timeout', 'timeout', timeout=-1),
    federated('identity-missing', 'identity', identity=None),
)
ROLE_ASSIGNMENT = cases(
    assignment('principal-not-a-guid', ('principal_id', 'is not a GUID'), principal_id='gpu-provisioner'),
    assignment('principal-empty', 'principal_id', principal_id=''),
    assignment('scope-not-a-resource-id', ('scope', 'must be a resource id'), scope='rg-ml'),
    assignment('role-unknown', ('role', 'Unknown role'), role='Superuser'),
    assignment('principal-type-unknown', 'principal_type', principal_type='Robot'),
    assignment('negative-timeout', 'timeout', timeout=-5),
)
CLUSTER = cases(
    cluster('version-unquoted-float', ('kubernetes_version', 'is too old'), kubernetes_version='1.4'),
    cluster('version-word', ('kubernetes_version', 'must look like 1.34'), kubernetes_version='latest'),
    cluster('version-too-old', ('kubernetes_version', 'is too old'), kubernetes_version='1.33'),
    cluster('timeout-zero', ('timeout', 'positive number of seconds, got 0'), timeout=0),
    cluster('timeout-zero-on-delete', ('timeout', 'got 0'), timeout=0, state='absent'),
    cluster('negative-timeout', ('timeout', 'got -1'), timeout=-1),
    cluster('dns-prefix', 'dns_prefix', dns_prefix='bad_prefix!'),
    cluster('workload-identity-without-oidc', 'workload_identity needs oidc_issuer', oidc_issuer=False, workload_identity=True),
    cluster('kaito-without-oidc', 'kaito needs oidc_issuer', oidc_issuer=False, kaito=True),
    cluster('istio-revision-format', ('istio.revisions', 'asm-1-28'), istio={'enabled': True, 'revisions': ['1.28']}),
    cluster('istio-three-revisions', 'istio.revisions', istio={'enabled': True, 'revisions': ['asm-1-26', 'asm-1-27', 'asm-1-28']}),
    cluster('istio-without-revision', 'istio.enabled needs istio.revisions', istio={'enabled': True}),
    cluster('authorized-range', 'api_server_authorized_ip_ranges', api_server_authorized_ip_ranges=['300.1.1.1/32']),
    cluster('user-assigned-without-id', 'identity.user_assigned_identity', identity={'type': 'UserAssigned'}),
    cluster('sku-tier-unknown', 'sku_tier', sku_tier='Gold'),
    cluster('dns-ip-outside-service-cidr', ('network_profile.dns_service_ip', 'outside', 'network_profile.service_cidr'),
            network_profile={'service_cidr': '10.0.0.0/16', 'dns_service_ip': '10.1.0.10'}),
    cluster('dns-ip-network-address', ('network_profile.dns_service_ip', 'network address'),
            network_profile={'service_cidr': '10.0.0.0/16', 'dns_service_ip': '10.0.0.0'}),
    cluster('dns-ip-not-an-address', 'network_profile.dns_service_ip', network_profile={'dns_service_ip': '10.0.0.256'}),
    cluster('service-cidr-not-a-range', 'network_profile.service_cidr', network_profile={'service_cidr': '10.0.0.0/40'}),
    cluster('pod-cidr-overlaps-service-cidr', ('network_profile.pod_cidr', 'overlaps'),
            network_profile={'service_cidr': '10.0.0.0/16', 'pod_cidr': '10.0.0.0/8'}),
    cluster('network-plugin-unknown', 'network_plugin', network_profile={'network_plugin': 'flannel'}),
    cluster('autoscaler-duration', ('autoscaler_profile', 'scan-interval', 'duration'), autoscaler_profile={'scan_interval': 'often'}),
    cluster('autoscaler-minutes-only', ('autoscaler_profile', 'scale-down-delay-after-add', 'whole minutes'),
            autoscaler_profile={'scale_down_delay_after_add': '30s'}),
    cluster('autoscaler-number', ('autoscaler_profile', 'max-empty-bulk-delete'), autoscaler_profile={'max_empty_bulk_delete': 'ten'}),
    cluster('autoscaler-percentage', ('autoscaler_profile', '0 to 100'), autoscaler_profile={'max_total_unready_percentage': 150}),
    cluster('autoscaler-threshold', ('autoscaler_profile', '0 to 1'), autoscaler_profile={'scale_down_utilization_threshold': '1.5'}),
    cluster('autoscaler-expander', ('autoscaler_profile', 'least-waste'), autoscaler_profile={'expander': 'cheapest'}),
    cluster('autoscaler-boolean', ('autoscaler_profile', 'true or false'), autoscaler_profile={'skip_nodes_with_system_pods': 'no'}),
    cluster('autoscaler-unknown-key', ('autoscaler_profile', 'scan-intervall', "did you mean 'scan-interval'"),
            autoscaler_profile={'scan_intervall': '10s'}),
    cluster('entra-group-not-a-guid', ('entra.admin_group_object_ids', 'is not a GUID'),
            entra={'admin_group_object_ids': ['platform-admins']}),
    cluster('entra-tenant-not-a-guid', ('entra.tenant_id', 'is not a GUID'), entra={'tenant_id': 'contoso.onmicrosoft.com'}),
    cluster('system-pool-reserved-label', ('system_pool.labels', 'kubernetes.azure.com/mode', 'reserved'),
            system_pool=dict(SYSTEM, labels={'kubernetes.azure.com/mode': 'system'})),
    cluster('system-pool-duplicate-taint', ('system_pool.taints', 'same key and effect'),
            system_pool=dict(SYSTEM, taints=['a=1:NoSchedule', 'a=2:NoSchedule'])),
    cluster('system-pool-zero-nodes', ('system_pool.min_count', 'outside 1-1000'),
            system_pool={'vm_size': 'Standard_D4s_v5', 'enable_auto_scaling': True, 'min_count': 0, 'max_count': 3}),
    cluster('system-pool-spot', 'system_pool.spot', system_pool=dict(SYSTEM, spot=True)),
    cluster('system-pool-vm-size', 'system_pool.vm_size', system_pool={'vm_size': 'D4s v5', 'count': 1}),
    cluster('system-pool-autoscaled-with-nap', 'node_provisioning.mode Auto', node_provisioning={'mode': 'Auto'},
            system_pool={'vm_size': 'Standard_D4s_v5', 'enable_auto_scaling': True, 'min_count': 1, 'max_count': 3}),
    cluster('resource-group-ends-with-period', ('resource_group', 'period'), resource_group='rg-aks.'),
    cluster('tag-name-with-slash', ('tags', '/'), tags={'team/owner': 'ml'}),
    cluster('tag-value-number', ('tags', 'value of cost'), tags={'cost': 100}),
)
NODEPOOL = cases(
    pool('name-uppercase', ('name', 'lowercase letters'), name='GPU'),
    pool('name-too-long', ('name', 'lowercase letters'), name='averyverylongpool'),
    pool('vm-size', ('vm_size', 'is not an Azure VM size'), vm_size='D2s_v3'),
    pool('min-above-max', 'must not exceed max_count', enable_auto_scaling=True, min_count=3, max_count=1, count=None),
    pool('autoscaling-without-range', 'enable_auto_scaling needs min_count and max_count', enable_auto_scaling=True, count=None),
    pool('range-without-autoscaling', 'need enable_auto_scaling: true', min_count=1, max_count=2),
    pool('count-outside-range', 'count 7 must lie between', enable_auto_scaling=True, min_count=1, max_count=3, count=7),
    pool('count-2000', ('count', 'outside 0-1000'), count=2000),
    pool('system-pool-of-zero', ('count', 'outside 1-1000 for a System pool'), mode='System', count=0),
    pool('mig-on-cpu', ('mig_profile', 'MIG-capable'), vm_size='Standard_D16s_v5', mig_profile='MIG1g'),
    pool('mig-on-t4', ('mig_profile', 'MIG-capable'), vm_size='Standard_NC4as_T4_v3', mig_profile='MIG1g'),
    pool('mig-profile-unknown', 'mig_profile', vm_size='Standard_NC24ads_A100_v4', mig_profile='MIG9g'),
    pool('gpu-driver-on-cpu', 'gpu_driver only applies to GPU VM sizes', vm_size='Standard_D16s_v5', gpu_driver='None'),
    pool('spot-price-without-spot', 'spot_max_price only applies with spot: true', spot_max_price=0.2),
    pool('spot-eviction-without-spot', 'spot_eviction_policy only applies with spot: true', spot_eviction_policy='Delete'),
    pool('spot-system', 'not allowed for a System pool', mode='System', spot=True),
    pool('spot-with-surge', 'max_surge does not apply to spot pools', spot=True, upgrade_settings={'max_surge': '1'}),
    pool('spot-price-zero', 'spot_max_price must be -1', spot=True, spot_max_price=0.0),
    pool('taint-format', ('taints', 'must look like key=value:NoSchedule'), taints=['gpu']),
    pool('taint-effect', ('taints', 'must look like'), taints=['gpu=true:Sometimes']),
    pool('taint-duplicate', ('taints', 'same key and effect'), taints=['gpu=a:NoSchedule', 'gpu=b:NoSchedule']),
    pool('label-name', ('labels', 'is not a valid Kubernetes label name'), labels={'bad key': 'v'}),
    pool('label-value', ('labels', 'is not a valid Kubernetes label value'), labels={'team': 'has space'}),
    pool('label-kubernetes-azure-com', ('labels', 'kubernetes.azure.com/accelerator', 'reserved'),
         labels={'kubernetes.azure.com/accelerator': 'nvidia'}),
    pool('label-kubernetes-io', ('labels', 'kubernetes.io/role', 'reserved'), labels={'kubernetes.io/role': 'gpu'}),
    pool('label-k8s-io', ('labels', 'example.k8s.io/x', 'reserved'), labels={'example.k8s.io/x': 'y'}),
    pool('label-node-restriction', ('labels', 'node-restriction.kubernetes.io'), labels={'node-restriction.kubernetes.io/gpu': 'y'}),
    pool('zones', ('zones', 'subset of 1, 2, 3'), zones=['4']),
    pool('max-pods', ('max_pods', 'between 10 and 250'), max_pods=500),
    pool('os-disk', ('os_disk_size_gb', 'between 30 and 2048'), os_disk_size_gb=10),
    pool('os-sku', 'os_sku', os_sku='Windows2022'),
    pool('kubernetes-version', ('kubernetes_version', 'is too old'), kubernetes_version='1.30'),
    pool('max-surge', ('upgrade_settings.max_surge', 'node count'), upgrade_settings={'max_surge': 'many'}),
    pool('timeout-zero-while-waiting', ('timeout', 'got 0'), timeout=0),
    pool('negative-timeout', ('timeout', 'got -2'), timeout=-2, wait=False),
    pool('negative-drain-timeout', ('drain.timeout', 'got -1'), drain={'timeout': -1}),
    pool('replace-unknown', 'replace', replace='recreate'),
    pool('tag-name-with-question-mark', ('tags', '?'), tags={'why?': 'x'}),
    pool('resource-group-91-characters', ('resource_group', 'at most 90'), resource_group='r' * 91),
)
CREDENTIALS = cases(
    credentials('path-a-directory', ('path', 'is a directory'), path='/tmp'),
    credentials('path-missing', 'path', path=None),
    credentials('resource-group-ends-with-period', ('resource_group', 'period'), resource_group='rg.'),
    credentials('negative-timeout', 'timeout', timeout=-1),
    credentials('admin-not-a-boolean', 'admin', admin='maybe'),
)
CLUSTER_INFO = cases(
    info('resource-group-ends-with-period', ('resource_group', 'period'), resource_group='rg-x.'),
    info('resource-group-with-hash', ('resource_group', 'may only hold'), resource_group='rg#1'),
    info('negative-timeout', 'timeout', timeout=-1),
    info('resource-group-missing', 'resource_group', resource_group=None),
)

MANAGED_PROMETHEUS = cases(
    monitor_workspace('unknown-region', ('location', 'marsnorth', 'is offered in'), location='marsnorth'),
    monitor_workspace('misspelt-region', ('location', 'westeurpe', 'is offered in westeurope'), location='westeurpe'),
    monitor_workspace('public-network-access-unknown', 'public_network_access', public_network_access='Open'),
    endpoint('unknown-region', ('location', 'atlantis'), location='atlantis'),
    endpoint('kind-unknown', 'kind', kind='Solaris'),
    collection_rule('unknown-region', ('location', 'moonbase'), location='moonbase'),
    collection_rule('flow-to-undefined-destination', ('data_flows[0].destinations', "'Nowhere'", 'not a defined destination'),
                    data_flows=[{'streams': ['Microsoft-PrometheusMetrics'], 'destinations': ['Nowhere']}]),
    collection_rule('flow-of-unproduced-stream', ('data_flows[0].streams', "'Microsoft-Syslog'", 'no data source produces'),
                    data_flows=[{'streams': ['Microsoft-Syslog'], 'destinations': ['MonitoringAccount1']}]),
    collection_rule('destination-names-repeat', ('monitoring_accounts[1].name', 'more than once'),
                    monitoring_accounts=[{'name': 'MonitoringAccount1', 'account_resource_id': AMW_ID}] * 2),
    collection_rule('forwarder-without-name', ('name', 'prometheus_forwarder'), prometheus_forwarder=[{'streams': ['Microsoft-PrometheusMetrics']}]),
    rule_association('cluster-does-not-exist', ('resource_id', MISSING_CLUSTER_ID, 'does not exist')),
    rule_association('rule-and-endpoint', ('data_collection_rule_id', 'data_collection_endpoint_id', 'mutually exclusive'),
                     data_collection_endpoint_id=DCE_ID),
    rule_association('neither-rule-nor-endpoint', ('data_collection_rule_id', 'data_collection_endpoint_id'), data_collection_rule_id=None),
    rule_association('endpoint-association-name', ('name must be configurationAccessEndpoint', 'data_collection_endpoint_id'),
                     data_collection_rule_id=None, data_collection_endpoint_id=DCE_ID),
    rule_association('resource-id-a-name', ('resource_id', 'must be a resource id'), resource_id='aks-ai-platform'),
    rule_group('unknown-region', ('location', 'narnia'), location='narnia'),
    rule_group('interval-not-iso-8601', ('interval', "'5m'", 'ISO 8601'), interval='5m'),
    rule_group('interval-too-long', ('interval', 'between PT1M and PT15M'), interval='PT1H'),
    rule_group('expression-does-not-parse', ('rules[0].expression', 'does not parse as PromQL'),
               rules=[{'record': 'job:up:sum', 'expression': 'sum(up) by (job'}, RECORD]),
    rule_group('record-and-alert', ('rules[0]', 'exactly one of record', 'alert'),
               rules=[dict(RECORD, alert='NodeCpuHigh')]),
    rule_group('severity-on-recording-rule', ('rules[1].severity', 'only applies to alert rules'), rules=[RECORD, dict(RECORD, severity=2)]),
    rule_group('record-not-a-metric-name', ('rules[0].record', 'not a valid Prometheus metric name'),
               rules=[dict(RECORD, record='node-cpu')]),
    rule_group('alert-for-not-iso-8601', ('rules[0].for', 'ISO 8601'), rules=[{'alert': 'A', 'expression': 'up == 0', 'for': '5m'}]),
    rule_group('severity-out-of-range', ('rules[0].severity', '0 to 4'), rules=[{'alert': 'A', 'expression': 'up == 0', 'severity': 9}]),
    rule_group('21-rules', ('rules', 'at most 20'), rules=[dict(RECORD, record='r%d' % i) for i in range(21)]),
    rule_group('scope-not-a-resource-id', ('scopes', 'must be a resource id'), scopes=['amw']),
)


@pytest.mark.parametrize('case', RESOURCE_GROUP + MANAGED_IDENTITY + FEDERATED_CREDENTIAL + ROLE_ASSIGNMENT + CLUSTER + NODEPOOL +
                         CREDENTIALS + CLUSTER_INFO + MANAGED_PROMETHEUS)
def test_refused_before_writing(bed, case):
    case.args = {k: v for k, v in case.args.items() if v is not None}
    refused_before_writing(bed, case)


def test_unquoted_kubernetes_version_is_caught_by_the_role(bed):
    """YAML reads an unquoted 1.40 as the number 1.4; the role says to quote it before any task writes."""
    role_refused_before_writing(bed, 'aks_platform.yml', {'aks_cluster_kubernetes_version': 1.40, 'aks_cluster_resource_group': RG},
                                ('aks_cluster_kubernetes_version', 'Quote it'))


@pytest.mark.parametrize('pools, names', [
    pytest.param([{'name': 'gpunp', 'vm_size': 'Standard_D4s_v5', 'max_cout': 3}],
                 ("nodepools_list[0] (gpunp): unknown key 'max_cout'", "did you mean 'max_count'?"), id='typo-key'),
    pytest.param([{'vm_size': 'Standard_D4s_v5', 'count': 1}], ('nodepools_list[0]: name is required',), id='no-name'),
])
def test_nodepools_items_are_checked_by_the_role(bed, pools, names):
    """A misspelt key was dropped silently, a pool without a name failed in templating: both refused, nothing written."""
    role_refused_before_writing(bed, 'nodepools_with_credential_options.yml', {'nodepools_list': pools, 'nodepools_cluster': 'aks-' + RUN},
                                names)
