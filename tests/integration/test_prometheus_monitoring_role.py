"""The prometheus_monitoring role on the test bed: with the Prometheus operator's CRDs (v0.93.0) on the real apiserver
(operator), and on an AKS cluster of the ARM emulator with Managed Prometheus (managed: the Azure resources in the
emulator, the metrics add-on's azmonitoring.coreos.com CRDs on the apiserver, played as the add-on would install them).
No Prometheus runs: the tests check what is written, and that the API server and the emulator accept it."""

import uuid
from pathlib import Path

import pytest

from tests.integration import kaito_standin
from tests.integration.conftest import arm_writes
from tests.integration.gpu_standin import api
from tests.integration.module_call import call_module
from tests.integration.playbook import run_playbook
from tests.integration.refusals import role_refused_before_writing

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
OPERATOR_CRDS = [CRDS / 'prometheus-operator' / 'v0.93.0' / ('monitoring.coreos.com_%s.yaml' % kind)
                 for kind in ('prometheusrules', 'servicemonitors', 'podmonitors')]
ADDON_CRDS = [CRDS / 'azure-monitor' / name for name in ('ama-metrics-servicemonitor-crd.yaml', 'ama-metrics-podmonitor-crd.yaml')]
RG, CLUSTER = 'rg-prometheus-role', 'aks-prometheus-role'
PLAN = 'Prometheus monitoring | Say where the metrics go'
# the platform's groups (files/rules/platform) and Azure's standard ones (files/rules/standard), one ARM rule group each
PLATFORM_GROUPS = ['GpuRecordingRulesRuleGroup', 'GpuAlertsRuleGroup', 'InferenceRecordingRulesRuleGroup', 'InferenceAlertsRuleGroup']
STANDARD_GROUPS = ['NodeRecordingRulesRuleGroup', 'KubernetesRecordingRulesRuleGroup']


@pytest.fixture
def run_names():
    run = uuid.uuid4().hex[:8]
    return {'namespace': 'monitoring-' + run, 'models': ['ai-%s-a' % run, 'ai-%s-b' % run]}


def converge(env, names, check=False, **variables):
    variables = dict({'prometheus_monitoring_namespace': names['namespace'], 'prometheus_monitoring_model_namespaces': names['models']},
                     **variables)
    return run_playbook('prometheus_monitoring_role.yml', variables, env=env, check=check)


def objects(client, api_version, kind, namespace=None):
    return [o for o in api(client, kind, api_version).get(namespace=namespace).to_dict()['items']
            if (o['metadata'].get('labels') or {}).get('app.kubernetes.io/managed-by') == 'aiplatform.aks']


@pytest.fixture(scope='module')
def operator_crds(k8s_client):
    kaito_standin.install_crds(k8s_client, OPERATOR_CRDS)


def test_with_the_prometheus_operator_the_rules_monitors_and_dashboard_are_applied_and_a_second_run_changes_nothing(
        bed, k8s_env, k8s_client, operator_crds, run_names):
    first = converge(k8s_env, run_names)
    assert first.rc == 0, first.failures
    assert first.result(PLAN)['msg'] == (
        'Prometheus monitoring: operator (the Prometheus operator is there (monitoring.coreos.com/v1 is served))')
    rules = objects(k8s_client, 'monitoring.coreos.com/v1', 'PrometheusRule', run_names['namespace'])
    groups = [g['name'] for r in rules for g in r['spec']['groups']]
    # kube-prometheus-stack has its own node and Kubernetes recording rules: only the platform's groups
    assert sorted(groups) == sorted(PLATFORM_GROUPS), groups
    monitors = objects(k8s_client, 'monitoring.coreos.com/v1', 'ServiceMonitor') + objects(k8s_client, 'monitoring.coreos.com/v1', 'PodMonitor')
    assert monitors, 'no ServiceMonitor or PodMonitor was applied'
    dashboards = [c for c in api(k8s_client, 'ConfigMap').get(namespace=run_names['namespace']).to_dict()['items']
                  if any(name.endswith('.json') for name in (c.get('data') or {}))]
    assert len(dashboards) == 1, dashboards

    second = converge(k8s_env, run_names)
    assert second.rc == 0, second.failures
    assert [name for name, r in second.tasks.items() if r.get('changed')] == []

    removed = converge(k8s_env, run_names, prometheus_monitoring_state='absent')
    assert removed.rc == 0, removed.failures
    assert objects(k8s_client, 'monitoring.coreos.com/v1', 'PrometheusRule', run_names['namespace']) == []
    assert objects(k8s_client, 'monitoring.coreos.com/v1', 'PodMonitor', run_names['namespace']) == []


def test_check_mode_on_a_new_namespace_writes_nothing(bed, k8s_env, k8s_client, operator_crds, run_names):
    mark = bed.apiserver.audit_mark()
    planned = converge(k8s_env, run_names, check=True)
    assert planned.rc == 0, planned.failures
    assert planned.result('Prometheus monitoring | Scrape objects, rules and dashboard')['changed'] is True
    assert [w for w in bed.apiserver.writes(mark) if w['user'] != 'system:apiserver'] == []


@pytest.fixture(scope='module')
def managed_cluster(bed, k8s_client, azure_env):
    """An AKS cluster with the metrics add-on in the ARM emulator, and the add-on's CRDs on the apiserver (a stand-in
    for what the add-on installs)."""
    kaito_standin.install_crds(k8s_client, ADDON_CRDS)
    assert not call_module('azure_resource_group', {'name': RG, 'location': 'westeurope'}, env=azure_env).get('failed')
    made = call_module('aks_cluster', {'name': CLUSTER, 'resource_group': RG, 'location': 'westeurope', 'timeout': 120,
                                       'monitoring': {'enabled': True}, 'system_pool': {'vm_size': 'Standard_D2s_v3', 'count': 1}},
                       env=bed.env())
    assert not made.get('failed'), made.get('msg')
    return {'prometheus_monitoring_aks': True, 'prometheus_monitoring_cluster': CLUSTER, 'prometheus_monitoring_resource_group': RG}


def test_on_aks_the_add_on_templates_resources_and_rule_groups_are_made_once(bed, k8s_client, managed_cluster, run_names):
    emu = bed.emulator
    first = converge(bed.env(), run_names, **managed_cluster)
    assert first.rc == 0, first.failures
    assert first.result(PLAN)['msg'] == 'Prometheus monitoring: managed (an AKS cluster: Azure Managed Prometheus)'
    group = '/subscriptions/%s/resourceGroups/%s/providers/' % (emu.subscription_id, RG)
    cluster = group + 'Microsoft.ContainerService/managedClusters/' + CLUSTER
    assert emu.get_resource(group + 'Microsoft.Monitor/accounts/amw-' + CLUSTER) is not None
    endpoint = emu.get_resource(group + 'Microsoft.Insights/dataCollectionEndpoints/MSProm-westeurope-' + CLUSTER)
    rule = emu.get_resource(group + 'Microsoft.Insights/dataCollectionRules/MSProm-westeurope-' + CLUSTER)
    assert rule['kind'] == 'Linux' and rule['properties']['dataCollectionEndpointId'].lower() == endpoint['id'].lower()
    assert rule['properties']['dataFlows'] == [{'streams': ['Microsoft-PrometheusMetrics'], 'destinations': ['MonitoringAccount1']}]
    association = emu.get_resource(cluster + '/providers/Microsoft.Insights/dataCollectionRuleAssociations/MSProm-westeurope-' + CLUSTER)
    assert association['properties']['dataCollectionRuleId'].lower() == rule['id'].lower()
    endpoint_association = emu.get_resource(cluster + '/providers/Microsoft.Insights/dataCollectionRuleAssociations/configurationAccessEndpoint')
    assert endpoint_association['properties']['dataCollectionEndpointId'].lower() == endpoint['id'].lower()
    for name in STANDARD_GROUPS + PLATFORM_GROUPS:
        made = emu.get_resource(group + 'Microsoft.AlertsManagement/prometheusRuleGroups/%s-%s' % (name, CLUSTER))
        assert made is not None, name
        assert made['properties']['clusterName'] == CLUSTER and made['properties']['interval'] == 'PT1M'
        assert [s.lower() for s in made['properties']['scopes']] == [(group + 'Microsoft.Monitor/accounts/amw-' + CLUSTER).lower(), cluster.lower()]
    monitors = objects(k8s_client, 'azmonitoring.coreos.com/v1', 'ServiceMonitor') + objects(k8s_client, 'azmonitoring.coreos.com/v1', 'PodMonitor')
    assert monitors, 'no azmonitoring.coreos.com monitor was applied'
    assert 'PromQL queries at https://' in first.result('Prometheus monitoring | Report the workspace')['msg']

    emu.clear_requests()
    second = converge(bed.env(), run_names, **managed_cluster)
    assert second.rc == 0, second.failures
    assert [name for name, r in second.tasks.items() if r.get('changed')] == []
    assert arm_writes(emu) == []

    # the removal (playbooks/teardown.yml): everything the role made on Azure, the associations first; again: nothing
    removed = converge(bed.env(), run_names, prometheus_monitoring_state='absent', **managed_cluster)
    assert removed.rc == 0, removed.failures
    deleted = [r['path'].split('?')[0] for r in emu.requests if r['method'] == 'DELETE']
    assert deleted[0].endswith('/dataCollectionRuleAssociations/MSProm-westeurope-' + CLUSTER), deleted
    assert len(deleted) == 2 + len(STANDARD_GROUPS + PLATFORM_GROUPS) + 3, deleted
    assert all(emu.get_resource(path) is None for path in deleted)
    emu.clear_requests()
    again = converge(bed.env(), run_names, prometheus_monitoring_state='absent', **managed_cluster)
    assert again.rc == 0, again.failures
    assert arm_writes(emu) == []


@pytest.mark.parametrize('variables, names', [
    ({'prometheus_monitoring_location': 'middleearth'}, ['location', 'middleearth']),
    ({'prometheus_monitoring_rules': ['gpu', 'gpus']}, ['prometheus_monitoring_rules', "'gpus'"]),
    ({'prometheus_monitoring_rule_interval': 'every minute'}, ['interval', 'every minute']),
], ids=['unknown-region', 'unknown-rule-file', 'interval-not-iso-8601'])
def test_bad_input_on_aks_is_refused_before_anything_is_written(bed, managed_cluster, run_names, variables, names):
    role_refused_before_writing(bed, 'prometheus_monitoring_role.yml', dict(
        managed_cluster, prometheus_monitoring_workspace_name='amw-refused-' + run_names['namespace'][-8:],
        prometheus_monitoring_namespace=run_names['namespace'], prometheus_monitoring_model_namespaces=run_names['models'], **variables), names)


def test_a_cluster_without_the_metrics_add_on_is_refused_naming_the_variable(bed, azure_env, run_names):
    rg, cluster = 'rg-prometheus-off', 'aks-prometheus-off'
    assert not call_module('azure_resource_group', {'name': rg, 'location': 'westeurope'}, env=azure_env).get('failed')
    made = call_module('aks_cluster', {'name': cluster, 'resource_group': rg, 'location': 'westeurope', 'timeout': 120,
                                       'monitoring': {'enabled': False}, 'system_pool': {'vm_size': 'Standard_D2s_v3', 'count': 1}},
                       env=bed.env())
    assert not made.get('failed'), made.get('msg')
    role_refused_before_writing(bed, 'prometheus_monitoring_role.yml', {
        'prometheus_monitoring_aks': True, 'prometheus_monitoring_cluster': cluster, 'prometheus_monitoring_resource_group': rg,
        'prometheus_monitoring_namespace': run_names['namespace']}, ['aks_cluster_managed_prometheus', 'metrics add-on'])
