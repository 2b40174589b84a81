"""ai_scheduling_plan: where Kueue and KEDA come from and why, the flavors, ClusterQueue and LocalQueues it plans, the
ScaledObjects and their authentication, and bad input refused naming the variable."""

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.filter.ai_scheduling import ai_scheduling_plan as plan

DEFAULTS = yaml.safe_load((Path(__file__).resolve().parents[4] / 'roles' / 'ai_scheduling' / 'defaults' / 'main.yml').read_text())
AMW = 'https://amw-ai.westeurope.prometheus.monitor.azure.com'
AMW_ID = '/subscriptions/0000/resourceGroups/rg-ai/providers/Microsoft.Monitor/accounts/amw-ai'
MODEL = {'name': 'phi-4-mini', 'namespace': 'ai-serving', 'max_replicas': 3, 'threshold': 5,
         'query': 'sum(vllm:num_requests_waiting{namespace="ai-serving",workspace="phi-4-mini"})'}


def settings(**changes):
    """The role's defaults (those that are not templates), with team namespaces and a Prometheus of the test."""
    found = dict((k, v) for k, v in DEFAULTS.items() if '{{' not in str(v))
    found.update(ai_scheduling_team_namespaces=['ai-serving'], ai_scheduling_prometheus_server='http://prometheus.monitoring.svc:9090',
                 ai_scheduling_prometheus_workload_identity=False)
    found.update(changes)
    return found


def served(kueue=True, keda=True):
    return [{'item': {'api_version': 'kueue.x-k8s.io/v1beta2', 'kind': 'ClusterQueue'}, 'api_found': kueue},
            {'item': {'api_version': 'keda.sh/v1alpha1', 'kind': 'ScaledObject'}, 'api_found': keda}]


def test_the_defaults_plan_the_ai_pool_s_flavor_a_cpu_flavor_first_and_a_local_queue():
    chosen = plan(served(), settings())
    assert chosen['problems'] == []
    cpu, gpu = chosen['flavors']
    assert cpu == {'name': 'default-cpu', 'node_labels': {}, 'node_taints': [], 'tolerations': []}
    assert gpu['node_labels'] == {'node-type': 'ai', 'accelerator': 'nvidia-gpu', 'workload-type': 'ai-ml'}
    assert gpu['node_taints'] == [{'key': 'nvidia.com/gpu', 'value': 'true', 'effect': 'NoSchedule'}]
    assert gpu['tolerations'] == [{'key': 'nvidia.com/gpu', 'value': 'true', 'effect': 'NoSchedule', 'operator': 'Equal'}]
    queue = chosen['cluster_queue']
    assert queue['covered_resources'] == ['cpu', 'memory', 'nvidia.com/gpu']
    assert queue['flavors'] == [
        {'name': 'default-cpu', 'resources': [{'name': 'cpu', 'nominalQuota': '32'}, {'name': 'memory', 'nominalQuota': '128Gi'},
                                              {'name': 'nvidia.com/gpu', 'nominalQuota': '0'}]},
        {'name': 'ai-gpu', 'resources': [{'name': 'cpu', 'nominalQuota': '96'}, {'name': 'memory', 'nominalQuota': '440Gi'},
                                         {'name': 'nvidia.com/gpu', 'nominalQuota': '4'}]}]
    assert chosen['team_namespaces'] == ['ai-serving']
    assert chosen['scaled_objects'] == [] and chosen['trigger_authentication_namespaces'] == []


def test_a_taint_without_a_value_is_tolerated_with_exists():
    chosen = plan(served(), settings(ai_scheduling_gpu_flavor={'name': 'ai', 'node_taints': ['sku=gpu:NoExecute', 'dedicated:NoSchedule']}))
    assert chosen['flavors'][1]['tolerations'] == [{'key': 'sku', 'value': 'gpu', 'effect': 'NoExecute', 'operator': 'Equal'},
                                                   {'key': 'dedicated', 'effect': 'NoSchedule', 'operator': 'Exists'}]


@pytest.mark.parametrize('kueue, keda, aks, expected', [
    pytest.param(True, True, None, ('none', 'none'), id='both-there'),
    pytest.param(False, False, None, ('helm', 'helm'), id='neither-there'),
    pytest.param(True, True, {'keda': True}, ('none', 'addon'), id='aks-add-on'),
])
def test_auto_chooses_by_what_is_served_and_the_aks_add_on(kueue, keda, aks, expected):
    chosen = plan(served(kueue, keda), settings(), aks)
    assert chosen['problems'] == []
    assert (chosen['kueue_install'], chosen['keda_install']) == expected
    assert chosen['kueue_why'] == ('Kueue is there (kueue.x-k8s.io/v1beta2 is served)' if kueue else
                                   'kueue.x-k8s.io/v1beta2 is not served: the role installs Kueue with helm')


def test_on_aks_without_the_keda_add_on_the_plan_names_aks_cluster_keda():
    chosen = plan(served(), settings(), {'keda': False})
    assert chosen['problems'] == ['the AKS cluster has no KEDA add-on: set aks_cluster_keda: true and run the aks_cluster role, or '
                                  'choose ai_scheduling_keda_install helm or none']
    assert plan(served(), settings(ai_scheduling_keda_install='none'), {'keda': False})['problems'] == []


def test_addon_off_aks_and_none_without_the_api_are_refused():
    assert plan(served(), settings(ai_scheduling_keda_install='addon'))['problems'] == [
        'ai_scheduling_keda_install addon needs an AKS cluster (the host is not in the aks group, or ai_scheduling_aks is false)']
    refused = plan(served(kueue=False, keda=False),
                   settings(ai_scheduling_kueue_install='none', ai_scheduling_keda_install='none', ai_scheduling_autoscaled_models=[MODEL]))
    assert [p.split(' but ')[0] for p in refused['problems']] == ['ai_scheduling_kueue_install is none', 'ai_scheduling_keda_install is none']
    # without autoscaled models KEDA is not needed
    assert plan(served(keda=False), settings(ai_scheduling_keda_install='none'))['problems'] == []


def test_an_autoscaled_model_on_aks_queries_the_workspace_as_keda_s_workload_identity():
    chosen = plan(served(), settings(ai_scheduling_autoscaled_models=[dict(MODEL, activation_threshold='0.5', min_replicas=0)],
                                     ai_scheduling_prometheus_server=AMW, ai_scheduling_prometheus_workload_identity=True,
                                     ai_scheduling_prometheus_workspace_id=AMW_ID), {'keda': True})
    assert chosen['problems'] == []
    assert chosen['keda_identity'] == {'subject': 'system:serviceaccount:kube-system:keda-operator', 'workspace_id': AMW_ID}
    assert chosen['scaled_objects'] == [{'name': 'phi-4-mini', 'namespace': 'ai-serving',
                                         'target': {'api_version': 'apps/v1', 'kind': 'Deployment', 'name': 'phi-4-mini'},
                                         'min_replicas': 0, 'max_replicas': 3, 'query': MODEL['query'], 'threshold': '5',
                                         'activation_threshold': '0.5'}]
    assert chosen['trigger_authentication_namespaces'] == ['ai-serving']


@pytest.mark.parametrize('changes, aks, expected', [
    pytest.param({'ai_scheduling_keda_install': 'helm'}, {'keda': False},
                 {'subject': 'system:serviceaccount:keda:keda-operator', 'workspace_id': AMW_ID}, id='helm-on-aks'),
    pytest.param({'ai_scheduling_keda_identity_id': '11111111-2222-3333-4444-555555555555'}, {'keda': True}, None, id='identity-named'),
    pytest.param({'ai_scheduling_prometheus_workload_identity': False, 'ai_scheduling_prometheus_server': 'http://prometheus:9090'},
                 {'keda': True}, None, id='no-workload-identity'),
    pytest.param({'ai_scheduling_keda_install': 'none'}, {'keda': True}, None, id='keda-of-the-user'),
])
def test_the_role_makes_keda_s_identity_only_for_the_keda_it_runs_and_no_named_identity(changes, aks, expected):
    chosen = plan(served(), settings(**dict({'ai_scheduling_autoscaled_models': [MODEL], 'ai_scheduling_prometheus_server': AMW,
                                             'ai_scheduling_prometheus_workload_identity': True,
                                             'ai_scheduling_prometheus_workspace_id': AMW_ID}, **changes)), aks)
    assert chosen['problems'] == [] and chosen['keda_identity'] == expected


def test_keda_s_identity_is_made_without_autoscaled_models_where_the_workspace_is_known():
    # the pod_autoscaling conformance probe authenticates with it
    known = plan(served(), settings(ai_scheduling_prometheus_server=AMW, ai_scheduling_prometheus_workload_identity=True,
                                    ai_scheduling_prometheus_workspace_id=AMW_ID), {'keda': True})
    assert known['problems'] == [] and known['keda_identity']['workspace_id'] == AMW_ID
    unknown = plan(served(), settings(ai_scheduling_prometheus_server=AMW, ai_scheduling_prometheus_workload_identity=True,
                                      ai_scheduling_prometheus_workspace_id=''), {'keda': True})
    assert unknown['problems'] == [] and unknown['keda_identity'] is None


@pytest.mark.parametrize('install, served_jobset, expected', [
    pytest.param('none', False, ('none', 'ai_scheduling_jobset_install is none'), id='none-by-default'),
    pytest.param('auto', False, ('helm', 'jobset.x-k8s.io/v1alpha2 is not served: the role installs JobSet with helm'), id='auto-not-served'),
    pytest.param('auto', True, ('none', 'JobSet is there (jobset.x-k8s.io/v1alpha2 is served)'), id='auto-served'),
    pytest.param('helm', True, ('helm', 'ai_scheduling_jobset_install is helm'), id='helm'),
])
def test_jobset_is_optional_and_auto_installs_it_where_it_is_not_served(install, served_jobset, expected):
    apis = served() + [{'item': {'api_version': 'jobset.x-k8s.io/v1alpha2', 'kind': 'JobSet'}, 'api_found': served_jobset}]
    chosen = plan(apis, settings(ai_scheduling_jobset_install=install))
    assert chosen['problems'] == [] and (chosen['jobset_install'], chosen['jobset_why']) == expected
    assert plan(apis, settings(ai_scheduling_jobset_install='yes'))['problems'] == [
        "ai_scheduling_jobset_install must be one of auto, helm, none, got 'yes'"]


def test_keda_s_identity_needs_the_workspace_id():
    chosen = plan(served(), settings(ai_scheduling_autoscaled_models=[MODEL], ai_scheduling_prometheus_server=AMW,
                                     ai_scheduling_prometheus_workload_identity=True,
                                     ai_scheduling_prometheus_workspace_id=AMW_ID.replace('Microsoft.Monitor', 'Microsoft.Insights')), {'keda': True})
    assert chosen['problems'] == ["ai_scheduling_prometheus_workspace_id '%s' is not the ARM id of an Azure Monitor workspace: KEDA's identity "
                                  "gets Monitoring Data Reader on it (run prometheus_monitoring first, set it, or set "
                                  "ai_scheduling_keda_identity_id to an identity you manage)" % AMW_ID.replace('Microsoft.Monitor', 'Microsoft.Insights')]


def test_without_workload_identity_no_trigger_authentication_is_planned():
    chosen = plan(served(), settings(ai_scheduling_autoscaled_models=[dict(MODEL, target={'kind': 'StatefulSet', 'name': 'phi-ss'})]))
    assert chosen['problems'] == [] and chosen['trigger_authentication_namespaces'] == []
    assert chosen['scaled_objects'][0]['target'] == {'api_version': 'apps/v1', 'kind': 'StatefulSet', 'name': 'phi-ss'}


@pytest.mark.parametrize('changes, expected', [
    pytest.param({'ai_scheduling_quotas': {'ai': {'gpu': 'four', 'cpu': '96', 'memory': '440Gi'}, 'cpu': {'cpu': '32', 'memory': '128Gi'}}},
                 ["ai_scheduling_quotas.ai.gpu 'four' is not a Kubernetes quantity (for example 4, 500m, 64Gi)"], id='quota-not-a-quantity'),
    pytest.param({'ai_scheduling_quotas': {'ai': {'gpu': -1, 'cpu': '96', 'memory': '440Gi'}, 'cpu': {'cpu': '32', 'memory': '128GB'}}},
                 ["ai_scheduling_quotas.cpu.memory '128GB' is not a Kubernetes quantity (for example 4, 500m, 64Gi)",
                  "ai_scheduling_quotas.ai.gpu -1 is negative: a quota is 0 or more"], id='negative-and-unit'),
    pytest.param({'ai_scheduling_quotas': {'ai': {'gpu': '4', 'cpu': '96', 'memory': '1Gi', 'gpus': 2}, 'cpu': {'cpu': '1', 'memory': '1Gi'}}},
                 ['ai_scheduling_quotas.ai has unknown keys gpus (known: cpu, memory, gpu)'], id='unknown-quota'),
    pytest.param({'ai_scheduling_team_namespaces': ['ai-serving', 'Team_A']},
                 ["ai_scheduling_team_namespaces[1] 'Team_A' is not a namespace name (lower case letters, digits and -, at most 63)"],
                 id='namespace-not-a-name'),
    pytest.param({'ai_scheduling_cluster_queue_name': 'AI', 'ai_scheduling_local_queue_name': ''},
                 ["ai_scheduling_cluster_queue_name 'AI' is not a name (lower case letters, digits and -, at most 63)",
                  "ai_scheduling_local_queue_name '' is not a name (lower case letters, digits and -, at most 63)"], id='queue-names'),
    pytest.param({'ai_scheduling_gpu_flavor': {'name': 'ai-gpu', 'node_taints': ['nvidia.com/gpu=true:NoAdmit']}},
                 ["ai_scheduling_gpu_flavor.node_taints[0] 'nvidia.com/gpu=true:NoAdmit' is not a taint key=value:Effect "
                  "(effects: NoSchedule, PreferNoSchedule, NoExecute)"], id='taint-effect'),
    pytest.param({'ai_scheduling_cpu_flavor': {'name': 'ai-gpu'}},
                 ['ai_scheduling_cpu_flavor.name and ai_scheduling_gpu_flavor.name are both ai-gpu: the flavors need two names'], id='same-flavor'),
    pytest.param({'ai_scheduling_kueue_install': 'operator'},
                 ["ai_scheduling_kueue_install must be one of auto, helm, none, got 'operator'"], id='kueue-install'),
])
def test_bad_input_is_refused_naming_the_variable(changes, expected):
    assert plan(served(), settings(**changes))['problems'] == expected


@pytest.mark.parametrize('model, expected', [
    pytest.param(dict((k, v) for k, v in MODEL.items() if k != 'query'),
                 'ai_scheduling_autoscaled_models[0] (phi-4-mini).query is missing: the PromQL query of the queue length', id='no-query'),
    pytest.param(dict(MODEL, min_replicas=4), 'ai_scheduling_autoscaled_models[0] (phi-4-mini).max_replicas (3) must be at least 1 and at '
                 'least min_replicas (4)', id='min-above-max'),
    pytest.param(dict(MODEL, threshold='high'), "ai_scheduling_autoscaled_models[0] (phi-4-mini).threshold must be a number of 0 or more, "
                 "got 'high'", id='threshold'),
    pytest.param(dict(MODEL, activation_threshold='inf'), "ai_scheduling_autoscaled_models[0] (phi-4-mini).activation_threshold must be a "
                 "number of 0 or more, got 'inf'", id='infinite-activation'),
    pytest.param(dict(MODEL, target={'kind': 'Workspace'}), 'ai_scheduling_autoscaled_models[0] (phi-4-mini).target.kind must be one of '
                 'Deployment, InferenceSet, StatefulSet', id='target-kind'),
    pytest.param(dict(MODEL, namespace='AI'), "ai_scheduling_autoscaled_models[0] (phi-4-mini).namespace 'AI' is not a name", id='namespace'),
    pytest.param(dict(MODEL, replicas=2), 'ai_scheduling_autoscaled_models[0] (phi-4-mini) has unknown keys replicas', id='unknown-key'),
])
def test_a_bad_autoscaled_model_is_refused_naming_it(model, expected):
    problems = plan(served(), settings(ai_scheduling_autoscaled_models=[model]))['problems']
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_autoscaling_needs_a_prometheus_url_and_workload_identity_an_https_one():
    assert plan(served(), settings(ai_scheduling_autoscaled_models=[MODEL], ai_scheduling_prometheus_server=''))['problems'] == [
        "ai_scheduling_prometheus_server '' is not a URL: on AKS it is the Azure Monitor workspace's query endpoint (run prometheus_monitoring "
        "first, or set it), elsewhere the Prometheus Service's URL"]
    assert plan(served(), settings(ai_scheduling_autoscaled_models=[MODEL], ai_scheduling_prometheus_workload_identity=True))['problems'] == [
        "ai_scheduling_prometheus_server http://prometheus.monitoring.svc:9090: with ai_scheduling_prometheus_workload_identity the query "
        "endpoint is https (the Azure Monitor workspace's)"]
    assert plan(served(), settings(ai_scheduling_autoscaled_models=[MODEL, MODEL]))['problems'] == [
        'ai_scheduling_autoscaled_models names ai-serving/phi-4-mini twice']


def test_apis_not_read_count_as_not_served_and_bad_input_to_the_filter_is_an_error():
    skipped = [{'item': {'api_version': 'kueue.x-k8s.io/v1beta2'}, 'skipped': True}]
    assert plan(skipped, settings())['kueue_install'] == 'helm'
    with pytest.raises(AnsibleFilterError, match='settings must be'):
        plan(served(), None)
    with pytest.raises(AnsibleFilterError, match='results of a k8s_info loop'):
        plan({}, settings())
