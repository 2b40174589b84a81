"""The ai_scheduling role on the test apiserver (Kubernetes 1.20) with the upstream Kueue v0.19.2 and KEDA v2.20.2 CRDs.

No Kueue or KEDA controller runs on the bed, and none is played: the tests check that the objects the role writes are
what it rendered and that the API server accepts them, that a second run changes nothing, that check mode writes
nothing, and that bad input is refused before any write. On an AKS cluster of the ARM emulator the KEDA add-on is
read from the cluster."""

import uuid
from pathlib import Path

import pytest

from tests.integration import kaito_standin
from tests.integration.gpu_standin import api
from tests.integration.module_call import call_module
from tests.integration.playbook import run_playbook
from tests.integration.refusals import WriteWatch, role_refused_before_writing

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
KUEUE = [CRDS / 'kueue' / ('kueue.x-k8s.io_%s.yaml' % name) for name in ('resourceflavors', 'clusterqueues', 'localqueues')]
KEDA = [CRDS / 'keda' / 'v2.20.2' / ('keda.sh_%s.yaml' % name) for name in ('scaledobjects', 'triggerauthentications')]
KUEUE_API, KEDA_API = 'kueue.x-k8s.io/v1beta2', 'keda.sh/v1alpha1'
PLAN = 'AI scheduling | Say where Kueue and KEDA come from'
QUEUES = 'AI scheduling | Team namespaces, Kueue\'s ResourceFlavors, ClusterQueue and LocalQueues'
AMW = 'https://amw-ai-scheduling.westeurope.prometheus.monitor.azure.com'


@pytest.fixture(scope='module')
def crds(k8s_client):
    kaito_standin.install_crds(k8s_client, [str(p) for p in KUEUE + KEDA])


@pytest.fixture
def names(k8s_client, crds):
    """Names of this test's cluster-wide objects and namespaces: a model namespace that exists, a team one that does not."""
    run = uuid.uuid4().hex[:8]
    found = {'queue': 'ai-' + run, 'gpu': 'gpu-' + run, 'cpu': 'cpu-' + run, 'model': 'models-' + run, 'team': 'team-' + run}
    api(k8s_client, 'Namespace').create(body={'metadata': {'name': found['model']}})
    return found


def model(names, **changes):
    return dict({'name': 'phi-4-mini', 'namespace': names['model'], 'min_replicas': 1, 'max_replicas': 3, 'threshold': 5,
                 'query': 'sum(vllm:num_requests_waiting{namespace="%s",workspace="phi-4-mini"})' % names['model']}, **changes)


def variables(names, **changes):
    return dict({'ai_scheduling_cluster_queue_name': names['queue'], 'ai_scheduling_team_namespaces': [names['model'], names['team']],
                 'ai_scheduling_gpu_flavor': {'name': names['gpu'], 'node_labels': {'node-type': 'ai', 'accelerator': 'nvidia-gpu'},
                                              'node_taints': ['nvidia.com/gpu=true:NoSchedule']},
                 'ai_scheduling_cpu_flavor': {'name': names['cpu']},
                 'ai_scheduling_quotas': {'ai': {'gpu': 2, 'cpu': '48', 'memory': '220Gi'}, 'cpu': {'cpu': '8', 'memory': '32Gi'}},
                 'ai_scheduling_autoscaled_models': [model(names)],
                 'ai_scheduling_prometheus_server': 'http://kube-prometheus-stack-prometheus.monitoring.svc:9090',
                 'ai_scheduling_prometheus_workload_identity': False}, **changes)


def test_the_queues_and_the_scaled_object_are_accepted_and_a_second_run_changes_nothing(bed, k8s_env, k8s_client, names):
    first = run_playbook('ai_scheduling_role.yml', variables(names), env=k8s_env)
    assert first.rc == 0, first.failures
    assert first.result(PLAN)['msg'] == (
        'Kueue: none (ai_scheduling_kueue_install is none); KEDA: none (ai_scheduling_keda_install is none); '
        'JobSet: none (ai_scheduling_jobset_install is none); ClusterQueue %s, '
        'LocalQueue ai-queue in %s, %s; 1 autoscaled models' % (names['queue'], names['model'], names['team']))
    gpu = api(k8s_client, 'ResourceFlavor', KUEUE_API).get(name=names['gpu']).to_dict()['spec']
    assert gpu == {'nodeLabels': {'node-type': 'ai', 'accelerator': 'nvidia-gpu'},
                   'nodeTaints': [{'key': 'nvidia.com/gpu', 'value': 'true', 'effect': 'NoSchedule'}],
                   'tolerations': [{'key': 'nvidia.com/gpu', 'value': 'true', 'effect': 'NoSchedule', 'operator': 'Equal'}]}
    queue = api(k8s_client, 'ClusterQueue', KUEUE_API).get(name=names['queue']).to_dict()['spec']
    assert queue['resourceGroups'] == [{'coveredResources': ['cpu', 'memory', 'nvidia.com/gpu'], 'flavors': [
        {'name': names['cpu'], 'resources': [{'name': 'cpu', 'nominalQuota': '8'}, {'name': 'memory', 'nominalQuota': '32Gi'},
                                             {'name': 'nvidia.com/gpu', 'nominalQuota': '0'}]},
        {'name': names['gpu'], 'resources': [{'name': 'cpu', 'nominalQuota': '48'}, {'name': 'memory', 'nominalQuota': '220Gi'},
                                             {'name': 'nvidia.com/gpu', 'nominalQuota': '2'}]}]}]
    for namespace in (names['model'], names['team']):
        local = api(k8s_client, 'LocalQueue', KUEUE_API).get(name='ai-queue', namespace=namespace).to_dict()
        assert local['spec']['clusterQueue'] == names['queue']
    labels = api(k8s_client, 'Namespace').get(name=names['team']).to_dict()['metadata']['labels']
    assert labels['pod-security.kubernetes.io/enforce'] == 'baseline', 'the team namespace was created with Pod Security labels'
    scaled = api(k8s_client, 'ScaledObject', KEDA_API).get(name='phi-4-mini', namespace=names['model']).to_dict()['spec']
    assert scaled == {'scaleTargetRef': {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'name': 'phi-4-mini'}, 'minReplicaCount': 1,
                      'maxReplicaCount': 3, 'triggers': [{'type': 'prometheus', 'metadata': {
                          'serverAddress': 'http://kube-prometheus-stack-prometheus.monitoring.svc:9090', 'query': model(names)['query'],
                          'threshold': '5'}}]}
    watch = WriteWatch(bed)
    second = run_playbook('ai_scheduling_role.yml', variables(names), env=k8s_env)
    assert second.rc == 0 and second.changed == 0, second.failures
    assert watch.writes()['kubernetes'] == []
    # removal (playbooks/teardown.yml off AKS): the ScaledObject and the queues go, the namespaces stay; again: nothing
    gone = run_playbook('ai_scheduling_role.yml', variables(names, ai_scheduling_state='absent'), env=k8s_env)
    assert gone.rc == 0, gone.failures
    assert api(k8s_client, 'ScaledObject', KEDA_API).get(namespace=names['model']).to_dict()['items'] == []
    for namespace in (names['model'], names['team']):
        assert api(k8s_client, 'LocalQueue', KUEUE_API).get(namespace=namespace).to_dict()['items'] == []
        assert api(k8s_client, 'Namespace').get(name=namespace)
    left = [o['metadata']['name'] for kind in ('ClusterQueue', 'ResourceFlavor') for o in api(k8s_client, kind, KUEUE_API).get().to_dict()['items']]
    assert not set(left) & {names['queue'], names['gpu'], names['cpu']}, left
    again = run_playbook('ai_scheduling_role.yml', variables(names, ai_scheduling_state='absent'), env=k8s_env)
    assert again.rc == 0 and again.changed == 0, again.failures


def test_check_mode_reports_the_changes_and_writes_nothing(bed, k8s_env, names):
    watch = WriteWatch(bed)
    run = run_playbook('ai_scheduling_role.yml', variables(names), env=k8s_env, check=True)
    assert run.rc == 0, run.failures
    assert run.result(QUEUES)['changed'] is True
    assert watch.writes() == {'arm': [], 'kubernetes': []}


@pytest.mark.parametrize('changes, expected', [
    pytest.param({'ai_scheduling_quotas': {'ai': {'gpu': 'two', 'cpu': '48', 'memory': '220Gi'}, 'cpu': {'cpu': '8', 'memory': '32Gi'}}},
                 ("ai_scheduling_quotas.ai.gpu 'two' is not a Kubernetes quantity",), id='quota-not-a-quantity'),
    pytest.param({'ai_scheduling_team_namespaces': ['Team A']},
                 ("ai_scheduling_team_namespaces[0] 'Team A' is not a namespace name",), id='local-queue-namespace'),
    pytest.param({'ai_scheduling_autoscaled_models': [{'name': 'phi-4-mini', 'namespace': 'ai-serving', 'max_replicas': 3, 'threshold': 5}]},
                 ('missing required arguments: query', 'ai_scheduling_autoscaled_models'), id='model-without-query'),
    pytest.param({'ai_scheduling_autoscaled_models': [{'name': 'phi-4-mini', 'namespace': 'ai-serving', 'max_replicas': 3, 'threshold': 5,
                                                       'query': ' '}]},
                 ('ai_scheduling_autoscaled_models[0] (phi-4-mini).query is missing',), id='model-with-an-empty-query'),
])
def test_bad_input_is_refused_before_writing(bed, names, changes, expected):
    role_refused_before_writing(bed, 'ai_scheduling_role.yml', variables(names, **changes), expected)


def test_none_where_kueue_is_not_served_is_refused_naming_the_variable(bed, names):
    # a Kueue older than v0.15 serves v1beta1 only; the bed's CRDs serve v1beta2, so a version nobody serves stands for it
    role_refused_before_writing(bed, 'ai_scheduling_role.yml', dict(variables(names), ai_scheduling_apis=[
        {'api_version': 'kueue.x-k8s.io/v1alpha9', 'kind': 'ClusterQueue'}, {'api_version': KEDA_API, 'kind': 'ScaledObject'}]),
        ('ai_scheduling_kueue_install is none but kueue.x-k8s.io/v1beta2 is not served',))


@pytest.fixture(scope='module')
def keda_clusters(bed, arm_emulator, azure_env):
    """Two AKS clusters in the ARM emulator, with and without the KEDA add-on."""
    rg = 'rg-ai-scheduling-role'
    assert not call_module('azure_resource_group', {'name': rg, 'location': 'westeurope'}, env=azure_env).get('failed')
    for name, keda in (('aks-keda-on', True), ('aks-keda-off', False)):
        made = call_module('aks_cluster', {'name': name, 'resource_group': rg, 'location': 'westeurope', 'timeout': 120, 'keda': keda,
                                           'oidc_issuer': True, 'system_pool': {'vm_size': 'Standard_D2s_v3', 'count': 1}}, env=bed.env())
        assert not made.get('failed'), made.get('msg')
    workspace = call_module('azure_monitor_workspace', {'name': 'amw-ai-scheduling', 'resource_group': rg, 'location': 'westeurope'},
                            env=azure_env)
    assert not workspace.get('failed'), workspace.get('msg')
    return {'ai_scheduling_aks': True, 'ai_scheduling_resource_group': rg, 'ai_scheduling_keda_install': 'auto',
            'ai_scheduling_prometheus_workspace_id': workspace['id']}


def test_on_aks_the_add_on_is_required_and_the_triggers_query_the_workspace_as_keda_s_workload_identity(bed, k8s_client, names, keda_clusters):
    on_aks = dict(variables(names), ai_scheduling_prometheus_server=AMW, ai_scheduling_prometheus_workload_identity=True, **keda_clusters)
    role_refused_before_writing(bed, 'ai_scheduling_role.yml', dict(on_aks, ai_scheduling_cluster='aks-keda-off'),
                                ('the AKS cluster has no KEDA add-on: set aks_cluster_keda: true',))
    role_refused_before_writing(bed, 'ai_scheduling_role.yml', dict(on_aks, ai_scheduling_cluster='aks-keda-on', ai_scheduling_prometheus_workspace_id=''),
                                ("ai_scheduling_prometheus_workspace_id '' is not the ARM id of an Azure Monitor workspace",))
    identity = 'keda-' + names['queue']
    on_aks.update(ai_scheduling_cluster='aks-keda-on', ai_scheduling_keda_identity_name=identity)
    run = run_playbook('ai_scheduling_role.yml', on_aks, env=bed.env())
    assert run.rc == 0, run.failures
    assert 'KEDA: addon (an AKS cluster: the KEDA add-on)' in run.result(PLAN)['msg']
    # KEDA's identity: federated with the add-on's operator service account, reading the workspace
    made = call_module('azure_managed_identity', {'name': identity, 'resource_group': on_aks['ai_scheduling_resource_group'],
                                                  'location': 'westeurope'}, env=bed.env(), check=True)
    assert not made['changed'] and made['client_id']
    credential = call_module('azure_federated_credential', {
        'name': 'keda-operator', 'identity': identity, 'resource_group': on_aks['ai_scheduling_resource_group'],
        'issuer': 'https://westeurope.oic.prod-aks.azure.com/0000/1111/', 'subject': 'system:serviceaccount:kube-system:keda-operator',
        'audiences': ['api://AzureADTokenExchange']}, env=bed.env(), check=True)
    assert credential['federated_credential']['subject'] == 'system:serviceaccount:kube-system:keda-operator'
    reader = call_module('azure_role_assignment', {'scope': on_aks['ai_scheduling_prometheus_workspace_id'], 'role': 'Monitoring Data Reader',
                                                   'principal_id': made['principal_id']}, env=bed.env(), check=True)
    assert not reader['changed'], reader
    auth = api(k8s_client, 'TriggerAuthentication', KEDA_API).get(name='azure-monitor-prometheus', namespace=names['model']).to_dict()
    assert auth['spec'] == {'podIdentity': {'provider': 'azure-workload', 'identityId': made['client_id']}}
    trigger = api(k8s_client, 'ScaledObject', KEDA_API).get(name='phi-4-mini', namespace=names['model']).to_dict()['spec']['triggers'][0]
    assert trigger['metadata']['serverAddress'] == AMW and trigger['authenticationRef'] == {'name': 'azure-monitor-prometheus'}
    again = run_playbook('ai_scheduling_role.yml', on_aks, env=bed.env())
    assert again.rc == 0 and again.changed == 0, again.failures
    # removal: the ScaledObject, TriggerAuthentication and queues, KEDA's role on the workspace and its identity; again: nothing
    gone = run_playbook('ai_scheduling_role.yml', dict(on_aks, ai_scheduling_state='absent'), env=bed.env())
    assert gone.rc == 0, gone.failures
    for kind, api_version in (('ScaledObject', KEDA_API), ('TriggerAuthentication', KEDA_API), ('LocalQueue', KUEUE_API)):
        assert api(k8s_client, kind, api_version).get(namespace=names['model']).to_dict()['items'] == [], kind
    assert [q['metadata']['name'] for q in api(k8s_client, 'ClusterQueue', KUEUE_API).get().to_dict()['items']].count(names['queue']) == 0
    assert call_module('azure_managed_identity', {'name': identity, 'resource_group': on_aks['ai_scheduling_resource_group'],
                                                  'location': 'westeurope'}, env=bed.env(), check=True)['changed']
    assert call_module('azure_role_assignment', {'scope': on_aks['ai_scheduling_prometheus_workspace_id'], 'role': 'Monitoring Data Reader',
                                                 'principal_id': made['principal_id']}, env=bed.env(), check=True)['changed']
    assert api(k8s_client, 'Namespace').get(name=names['model'])  # the team namespaces stay
    gone_again = run_playbook('ai_scheduling_role.yml', dict(on_aks, ai_scheduling_state='absent'), env=bed.env())
    assert gone_again.rc == 0 and gone_again.changed == 0, gone_again.failures
