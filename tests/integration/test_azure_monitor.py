"""The Managed Prometheus modules (azure_monitor_workspace, azure_data_collection_endpoint, azure_data_collection_rule,
azure_data_collection_rule_association, azure_prometheus_rule_group) as module calls in process, against the ARM
emulator: each is created as Azure's own Managed Prometheus template creates it, re-run without a write, changed with
exactly one write, planned in check mode with a diff and no write, and deleted twice (the second time changed=false).
Their bad input is in test_bad_input_azure.py."""

import pytest

from tests.integration.conftest import arm_writes
from tests.integration.module_call import call_module

pytestmark = pytest.mark.integration

RG, CLUSTER, LOCATION = 'rg-monitor-itest', 'aks-monitor', 'westeurope'
WORKSPACE, ENDPOINT = 'amw-ai-platform', 'MSProm-westeurope-aks-monitor'
RULE, ASSOCIATION = 'MSProm-westeurope-aks-monitor', 'MSProm-westeurope-aks-monitor'
STREAM = 'Microsoft-PrometheusMetrics'
# three of the node recording rules of Azure's template (expressions as it writes them)
NODE_RULES = [
    {'record': 'instance:node_num_cpu:sum', 'expression': 'count without (cpu, mode) (  node_cpu_seconds_total{job="node",mode="idle"})'},
    {'record': 'instance:node_load1_per_cpu:ratio', 'expression': '(  node_load1{job="node"}/  instance:node_num_cpu:sum{job="node"})'},
    {'record': 'instance:node_vmstat_pgmajfault:rate5m', 'expression': 'rate(node_vmstat_pgmajfault{job="node"}[5m])'},
]


def rg_id(arm):
    return '/subscriptions/%s/resourceGroups/%s' % (arm.subscription_id, RG)


def ids(arm):
    base = rg_id(arm) + '/providers/'
    return {'workspace': base + 'Microsoft.Monitor/accounts/' + WORKSPACE,
            'endpoint': base + 'Microsoft.Insights/dataCollectionEndpoints/' + ENDPOINT,
            'rule': base + 'Microsoft.Insights/dataCollectionRules/' + RULE,
            'cluster': base + 'Microsoft.ContainerService/managedClusters/' + CLUSTER,
            'rule_group': base + 'Microsoft.AlertsManagement/prometheusRuleGroups/NodeRecordingRulesRuleGroup-' + CLUSTER}


def ok(result):
    assert not result.get('failed'), result.get('msg')
    return result


def lifecycle(arm, env, module, args, change, check_differences):
    """Re-run `args` (no write), plan `change` in check mode with a diff (no write), apply it (one write); return the
    plan and the applied result."""
    arm.clear_requests()
    again = ok(call_module(module, args, env=env))
    assert again['changed'] is False and arm_writes(arm) == [], 'a re-run writes nothing'
    plan = ok(call_module(module, dict(args, **change), env=env, check=True, diff=True))
    assert plan['changed'] is True and plan['differences'] == check_differences
    assert arm_writes(arm) == [], 'check mode writes nothing'
    applied = ok(call_module(module, dict(args, **change), env=env))
    assert applied['changed'] is True and len(arm_writes(arm)) == 1, arm_writes(arm)
    arm.clear_requests()
    assert ok(call_module(module, dict(args, **change), env=env))['changed'] is False and arm_writes(arm) == []
    return plan, applied


def delete_twice(arm, env, module, args, resource_id):
    gone = ok(call_module(module, dict(args, state='absent'), env=env))
    assert gone['changed'] is True and arm.engine.get_resource(resource_id) is None
    arm.clear_requests()
    again = ok(call_module(module, dict(args, state='absent'), env=env))
    assert again['changed'] is False and arm_writes(arm) == []


@pytest.fixture
def group(arm, azure_env):
    ok(call_module('azure_resource_group', {'name': RG, 'location': LOCATION}, env=azure_env))
    arm.clear_requests()
    return RG


@pytest.fixture
def workspace(arm, azure_env, group):
    return ok(call_module('azure_monitor_workspace', {'name': WORKSPACE, 'resource_group': group, 'location': LOCATION}, env=azure_env))


@pytest.fixture
def endpoint(arm, azure_env, group):
    return ok(call_module('azure_data_collection_endpoint', {'name': ENDPOINT, 'resource_group': group, 'location': LOCATION,
                                                             'kind': 'Linux'}, env=azure_env))


@pytest.fixture
def cluster(arm, azure_env, group):
    return ok(call_module('aks_cluster', {'name': CLUSTER, 'resource_group': group, 'location': LOCATION, 'timeout': 120,
                                          'system_pool': {'vm_size': 'Standard_D2s_v3', 'count': 1}}, env=azure_env))


def rule_args(workspace, endpoint):
    return {'name': RULE, 'resource_group': RG, 'location': LOCATION, 'kind': 'Linux',
            'description': 'DCR for Azure Monitor Metrics Profile (Managed Prometheus)', 'data_collection_endpoint_id': endpoint['id'],
            'prometheus_forwarder': [{'name': 'PrometheusDataSource', 'label_include_filter': {}}],
            'monitoring_accounts': [{'name': 'MonitoringAccount1', 'account_resource_id': workspace['id']}],
            'data_flows': [{'streams': [STREAM], 'destinations': ['MonitoringAccount1']}]}


def test_monitor_workspace(arm, azure_env, group):
    args = {'name': WORKSPACE, 'resource_group': group, 'location': LOCATION, 'tags': {'env': 'test'}}
    created = ok(call_module('azure_monitor_workspace', args, env=azure_env))
    assert created['changed'] is True and created['id'] == ids(arm)['workspace']
    assert created['query_endpoint'].startswith('https://') and created['workspace']['metrics']['prometheus_query_endpoint'] == created['query_endpoint']
    assert '/dataCollectionRules/' in created['default_data_collection_rule_id']
    assert '/dataCollectionEndpoints/' in created['default_data_collection_endpoint_id']
    assert [r['method'] for r in arm_writes(arm)] == ['PUT']
    assert arm.engine.get_resource(created['id'])['properties']['publicNetworkAccess'] == 'Enabled'

    plan, applied = lifecycle(arm, azure_env, 'azure_monitor_workspace', dict(args, location='West Europe'),
                              {'public_network_access': 'Disabled'}, ['public_network_access'])
    assert plan['diff']['before']['public_network_access'] == 'Enabled' and plan['diff']['after']['public_network_access'] == 'Disabled'
    doc = arm.engine.get_resource(created['id'])
    assert doc['properties']['publicNetworkAccess'] == 'Disabled' and doc['tags'] == {'env': 'test'}, 'unmentioned tags are kept'
    assert applied['query_endpoint'] == created['query_endpoint']

    delete_twice(arm, azure_env, 'azure_monitor_workspace', {'name': WORKSPACE, 'resource_group': group}, created['id'])


def test_data_collection_endpoint(arm, azure_env, group):
    args = {'name': ENDPOINT, 'resource_group': group, 'location': LOCATION, 'kind': 'Linux'}
    created = ok(call_module('azure_data_collection_endpoint', args, env=azure_env))
    assert created['changed'] is True and created['id'] == ids(arm)['endpoint']
    assert created['metrics_ingestion_endpoint'].startswith('https://')
    (put,) = arm_writes(arm)
    assert put['body'] == {'location': LOCATION, 'kind': 'Linux'}, 'the body of Azure\'s template (its empty properties left out)'

    plan, _applied = lifecycle(arm, azure_env, 'azure_data_collection_endpoint', args,
                               {'description': 'Managed Prometheus', 'public_network_access': 'Disabled'},
                               ['description', 'network_acls.public_network_access'])
    assert plan['diff']['after']['network_acls']['public_network_access'] == 'Disabled'
    doc = arm.engine.get_resource(created['id'])['properties']
    assert doc['description'] == 'Managed Prometheus' and doc['networkAcls']['publicNetworkAccess'] == 'Disabled'

    delete_twice(arm, azure_env, 'azure_data_collection_endpoint', {'name': ENDPOINT, 'resource_group': group}, created['id'])


def test_data_collection_rule_to_the_workspace_through_the_endpoint(arm, azure_env, workspace, endpoint):
    arm.clear_requests()
    args = rule_args(workspace, endpoint)
    created = ok(call_module('azure_data_collection_rule', args, env=azure_env))
    assert created['changed'] is True and created['id'] == ids(arm)['rule'] and created['immutable_id'].startswith('dcr-')
    (put,) = arm_writes(arm)
    assert put['body'] == {'location': LOCATION, 'kind': 'Linux', 'properties': {
        'description': 'DCR for Azure Monitor Metrics Profile (Managed Prometheus)', 'dataCollectionEndpointId': endpoint['id'],
        'dataSources': {'prometheusForwarder': [{'name': 'PrometheusDataSource', 'streams': [STREAM], 'labelIncludeFilter': {}}]},
        'destinations': {'monitoringAccounts': [{'name': 'MonitoringAccount1', 'accountResourceId': workspace['id']}]},
        'dataFlows': [{'streams': [STREAM], 'destinations': ['MonitoringAccount1']}]}}, 'the body of Azure\'s template'

    relabelled = [{'name': 'PrometheusDataSource', 'label_include_filter': {'microsoft_metrics_include_label': 'cluster'}}]
    plan, _applied = lifecycle(arm, azure_env, 'azure_data_collection_rule', args,
                               {'prometheus_forwarder': relabelled}, ['data_sources.prometheus_forwarder'])
    assert plan['diff']['after']['data_sources']['prometheus_forwarder'][0]['label_include_filter'] == {
        'microsoft_metrics_include_label': 'cluster'}
    doc = arm.engine.get_resource(created['id'])['properties']
    assert doc['dataSources']['prometheusForwarder'][0]['labelIncludeFilter'] == {'microsoft_metrics_include_label': 'cluster'}
    assert doc['dataCollectionEndpointId'] == endpoint['id'], 'what was not changed is sent back'

    refused = call_module('azure_data_collection_rule', dict(args, kind='Windows'), env=azure_env)
    assert refused.get('failed') and 'Cannot change kind of data collection rule' in refused['msg']
    delete_twice(arm, azure_env, 'azure_data_collection_rule', {'name': RULE, 'resource_group': RG}, created['id'])


def test_rule_and_endpoint_associations_on_a_cluster(arm, azure_env, workspace, endpoint, cluster):
    rule = ok(call_module('azure_data_collection_rule', rule_args(workspace, endpoint), env=azure_env))
    cluster_id = ids(arm)['cluster']
    arm.clear_requests()
    args = {'resource_id': cluster_id, 'name': ASSOCIATION, 'data_collection_rule_id': rule['id'],
            'description': 'Association of data collection rule. Deleting this association will break the data collection for this AKS Cluster.'}
    created = ok(call_module('azure_data_collection_rule_association', args, env=azure_env))
    association_id = cluster_id + '/providers/Microsoft.Insights/dataCollectionRuleAssociations/' + ASSOCIATION
    assert created['changed'] is True and created['id'].lower() == association_id.lower()
    assert created['association']['data_collection_rule_id'] == rule['id']
    (put,) = arm_writes(arm)
    assert put['body'] == {'properties': {'description': args['description'], 'dataCollectionRuleId': rule['id']}}

    endpoint_args = {'resource_id': cluster_id, 'name': 'configurationAccessEndpoint', 'data_collection_endpoint_id': endpoint['id']}
    arm.clear_requests()
    linked = ok(call_module('azure_data_collection_rule_association', endpoint_args, env=azure_env))
    assert linked['changed'] is True and linked['association']['data_collection_endpoint_id'] == endpoint['id']
    assert len(arm_writes(arm)) == 1

    plan, _applied = lifecycle(arm, azure_env, 'azure_data_collection_rule_association', dict(args, resource_id=cluster_id.lower()),
                               {'description': 'Managed Prometheus'}, ['description'])
    assert plan['diff']['before']['description'] == args['description'] and plan['diff']['after']['description'] == 'Managed Prometheus'
    arm.clear_requests()
    assert ok(call_module('azure_data_collection_rule_association', endpoint_args, env=azure_env))['changed'] is False
    assert arm_writes(arm) == []

    delete_twice(arm, azure_env, 'azure_data_collection_rule_association', args, association_id)
    delete_twice(arm, azure_env, 'azure_data_collection_rule_association', endpoint_args,
                 cluster_id + '/providers/Microsoft.Insights/dataCollectionRuleAssociations/configurationAccessEndpoint')


def test_prometheus_rule_group_for_the_cluster(arm, azure_env, workspace, cluster):
    found = ids(arm)
    args = {'name': 'NodeRecordingRulesRuleGroup-' + CLUSTER, 'resource_group': RG, 'location': LOCATION,
            'description': 'Node Recording Rules RuleGroup', 'scopes': [workspace['id'], found['cluster']], 'cluster_name': CLUSTER,
            'interval': 'PT1M', 'rules': NODE_RULES}
    arm.clear_requests()
    created = ok(call_module('azure_prometheus_rule_group', args, env=azure_env))
    assert created['changed'] is True and created['id'] == found['rule_group']
    (put,) = arm_writes(arm)
    assert put['body'] == {'location': LOCATION, 'properties': {
        'description': 'Node Recording Rules RuleGroup', 'scopes': [workspace['id'], found['cluster']], 'clusterName': CLUSTER,
        'interval': 'PT1M', 'rules': NODE_RULES}}, 'the body of Azure\'s template'

    alert = {'alert': 'NodeDown', 'expression': 'up{job="node"} == 0', 'for': 'PT5M', 'severity': 1,
             'resolve_configuration': {'auto_resolved': True, 'time_to_resolve': 'PT10M'}}
    plan, _applied = lifecycle(arm, azure_env, 'azure_prometheus_rule_group', dict(args, interval='PT60S'),
                               {'rules': NODE_RULES + [alert], 'interval': 'PT5M'}, ['properties.interval', 'properties.rules'])
    assert len(plan['diff']['after']['properties']['rules']) == 4 and plan['diff']['before']['properties']['interval'] == 'PT1M'
    doc = arm.engine.get_resource(created['id'])['properties']
    assert doc['interval'] == 'PT5M' and doc['rules'][3]['alert'] == 'NodeDown' and doc['rules'][3]['for'] == 'PT5M'

    # the service keeps the rules in order: the same rules in another order are a change
    arm.clear_requests()
    swapped = ok(call_module('azure_prometheus_rule_group', dict(args, rules=[alert] + NODE_RULES, interval='PT5M'), env=azure_env,
                             check=True))
    assert swapped['changed'] is True and swapped['differences'] == ['properties.rules'] and arm_writes(arm) == []

    delete_twice(arm, azure_env, 'azure_prometheus_rule_group', {'name': args['name'], 'resource_group': RG}, created['id'])


def test_an_association_with_a_cluster_that_does_not_exist(arm, azure_env, workspace, endpoint):
    """The association read answers 404 for the missing cluster (ParentResourceNotFound), not for the association:
    refused naming resource_id without a write; in check mode a plan (an earlier task may create the cluster)."""
    rule = ok(call_module('azure_data_collection_rule', rule_args(workspace, endpoint), env=azure_env))
    args = {'resource_id': ids(arm)['cluster'], 'name': ASSOCIATION, 'data_collection_rule_id': rule['id']}
    arm.clear_requests()
    refused = call_module('azure_data_collection_rule_association', args, env=azure_env)
    assert refused.get('failed') and refused['msg'].startswith('resource_id %s does not exist' % ids(arm)['cluster'])
    assert refused['error']['target'] == 'resource_id'
    reads = [r for r in arm.requests if '/dataCollectionRuleAssociations/' in r['path']]
    assert [(r['method'], r['status']) for r in reads] == [('GET', 404)]
    assert arm_writes(arm) == []
    plan = ok(call_module('azure_data_collection_rule_association', args, env=azure_env, check=True))
    assert plan['changed'] is True and arm_writes(arm) == []
    gone = ok(call_module('azure_data_collection_rule_association', dict(args, state='absent'), env=azure_env))
    assert gone['changed'] is False and arm_writes(arm) == []
