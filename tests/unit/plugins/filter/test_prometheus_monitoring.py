"""prometheus_monitoring_plan: where the metrics go, the add-on's Azure names, and what stops the role."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.filter.prometheus_monitoring import prometheus_monitoring_plan as plan

SUB = '00000000-0000-0000-0000-000000000001'
# the wire form, as aks_cluster (aks_cluster_result.cluster) and aks_cluster_info (clusters[].resource) return it
CLUSTER = {'name': 'aks-ai-platform', 'location': 'westeurope', 'properties': {'azureMonitorProfile': {'metrics': {'enabled': True}}},
           'id': '/subscriptions/%s/resourceGroups/rg-ai/providers/Microsoft.ContainerService/managedClusters/aks-ai-platform' % SUB}
RULES = ['gpu', 'inference']
GROUP = '/subscriptions/%s/resourceGroups/rg-monitor/providers/' % SUB
OPERATOR = [{'item': 'monitoring.coreos.com/v1', 'api_found': True}, {'item': 'azmonitoring.coreos.com/v1', 'api_found': False}]


def managed(**overrides):
    args = dict(install='auto', aks=True, cluster=CLUSTER, cluster_name='aks-ai-platform', workspace_location='West Europe',
                rules=RULES, available=RULES, workspace_resource_group='rg-monitor', workspace_name='amw-ai')
    args.update(overrides)
    return plan([], **args)


@pytest.mark.parametrize('served, aks, install, why', [
    ([], True, 'managed', 'an AKS cluster'),
    (OPERATOR, True, 'managed', 'an AKS cluster'),
    (OPERATOR, False, 'operator', 'monitoring.coreos.com/v1 is served'),
    ([{'item': 'monitoring.coreos.com/v1', 'api_found': False}], False, 'helm', 'not served'),
    ([{'item': 'monitoring.coreos.com/v1', 'skipped': True}], False, 'helm', 'not served'),
])
def test_auto_chooses_managed_on_aks_then_an_operator_that_is_there_then_helm(served, aks, install, why):
    chosen = plan(served, 'auto', aks, CLUSTER if aks else None, 'c', 'westeurope', RULES, RULES)
    assert chosen['install'] == install and why in chosen['why'] and chosen['problems'] == []
    assert chosen['monitor_api'] == ('azmonitoring.coreos.com/v1' if install == 'managed' else 'monitoring.coreos.com/v1')
    assert chosen['standard_rules'] is (install == 'managed') and chosen['dashboard_configmap'] is (install != 'managed')


def test_managed_names_are_the_add_on_templates_names():
    names = managed()['names']
    assert names == {'data_collection_endpoint': 'MSProm-westeurope-aks-ai-platform', 'data_collection_rule': 'MSProm-westeurope-aks-ai-platform',
                     'association': 'MSProm-westeurope-aks-ai-platform', 'endpoint_association': 'configurationAccessEndpoint',
                     'workspace_id': GROUP + 'Microsoft.Monitor/accounts/amw-ai',
                     'data_collection_endpoint_id': GROUP + 'Microsoft.Insights/dataCollectionEndpoints/MSProm-westeurope-aks-ai-platform',
                     'data_collection_rule_id': GROUP + 'Microsoft.Insights/dataCollectionRules/MSProm-westeurope-aks-ai-platform'}


def test_long_names_are_cut_as_the_template_cuts_them():
    long_name = 'a' * 60
    names = managed(cluster_name=long_name, cluster=dict(CLUSTER, location='eastus2'))['names']
    assert names['data_collection_endpoint'] == ('MSProm-westeurope-' + long_name)[:44] and len(names['data_collection_endpoint']) == 44
    assert names['data_collection_rule'] == ('MSProm-westeurope-' + long_name)[:64]
    assert names['association'] == 'MSProm-eastus2-' + long_name


def test_off_the_managed_path_there_are_no_azure_names():
    assert plan(OPERATOR, 'auto', False)['names'] == {}


@pytest.mark.parametrize('overrides, words', [
    ({'aks': False, 'install': 'managed', 'cluster': None}, ['prometheus_monitoring_install is managed', 'needs an AKS cluster']),
    ({'cluster': None}, ['prometheus_monitoring_cluster does not exist', 'aks_cluster role']),
    ({'cluster': dict(CLUSTER, properties={})}, ['metrics add-on of AKS cluster aks-ai-platform is off', 'aks_cluster_managed_prometheus: true']),
    ({'rules': ['gpu', 'gpus']}, ["prometheus_monitoring_rules names 'gpus'", 'it has: gpu, inference']),
])
def test_what_cannot_work_is_a_problem_naming_the_variable(overrides, words):
    problems = managed(**overrides)['problems']
    assert len(problems) == 1 and all(w in problems[0] for w in words), problems


def test_operator_chosen_without_an_operator_and_a_bad_namespace_are_problems():
    problems = plan([], 'operator', False, namespace='Monitoring')['problems']
    assert any('prometheus_monitoring_namespace' in p for p in problems)
    assert any('no Prometheus operator is there' in p and 'prometheus_monitoring_install: helm' in p for p in problems)


def test_none_writes_nothing_and_has_no_problems():
    chosen = plan([], 'none', True, None)
    assert chosen['install'] == 'none' and chosen['problems'] == [] and chosen['names'] == {}


def test_an_unknown_install_is_refused_naming_the_variable():
    with pytest.raises(AnsibleFilterError, match='prometheus_monitoring_install must be one of auto, managed, helm, operator, none'):
        plan([], 'azure')


def test_in_check_mode_a_cluster_that_is_only_planned_is_no_problem_and_nothing_on_azure_is_checked():
    planned = managed(cluster={'name': 'aks-ai-platform', 'properties': {}}, check_mode=True)
    assert planned['install'] == 'managed' and planned['problems'] == [] and planned['azure'] is False
    assert managed()['azure'] is True and managed()['cluster_id'] == CLUSTER['id']
    assert managed(cluster=None)['problems'] and managed(cluster=None, check_mode=True)['problems'] == []


def test_a_removal_needs_neither_the_cluster_nor_its_add_on_and_keeps_the_names():
    gone = managed(cluster=None, state='absent')
    assert gone['problems'] == [] and gone['azure'] is True and gone['cluster_id'] is None
    assert gone['names']['data_collection_rule'] == 'MSProm-westeurope-aks-ai-platform'
    assert managed(cluster=dict(CLUSTER, properties={}), state='absent')['problems'] == []
    with pytest.raises(AnsibleFilterError, match='prometheus_monitoring_state must be one of present, absent'):
        managed(state='gone')
