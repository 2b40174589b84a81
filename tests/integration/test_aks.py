"""The AKS roles and modules through real ansible-playbook runs against the ARM emulator and the real apiserver."""

import os
import signal
import stat
import subprocess
import threading
import time

import kubernetes
import pytest
import yaml
from kubernetes.dynamic import DynamicClient

from tests.integration.conftest import OPERATION_SECONDS
from tests.integration.module_call import call_module
from tests.integration.playbook import ANSIBLE_PLAYBOOK, PLAYBOOKS, REPO_ROOT, run_playbook

pytestmark = pytest.mark.integration

RG, CLUSTER = 'rg-aks-itest', 'aks-ai-platform'
AI_POOL = {'name': 'gpunp', 'vm_size': 'Standard_D16s_v5', 'enable_auto_scaling': True, 'min_count': 0, 'max_count': 3,
           'labels': {'node-type': 'ai', 'accelerator': 'nvidia-gpu', 'workload-type': 'ai-ml'},
           'taints': ['nvidia.com/gpu=true:NoSchedule'], 'tags': {'EnableManagedGPUExperience': 'true'}}
CPU_POOL = {'name': 'cpunp', 'vm_size': 'Standard_D4s_v5', 'count': 2, 'labels': {'workload-type': 'web'}}
POOL_READ_ONLY = {'provisioningState', 'currentOrchestratorVersion', 'eTag', 'nodeImageVersion', 'powerState', 'orchestratorVersion'}


def cluster_id(sub):
    return '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s' % (sub, RG, CLUSTER)


def pool_doc(emulator, name):
    return emulator.get_resource(cluster_id(emulator.subscription_id) + '/agentPools/' + name)


def writes(emulator, method='PUT'):
    return [r for r in emulator.requests if r['method'] == method and '/providers/' in r['path']]


@pytest.fixture(scope='module')
def platform(bed, tmp_path_factory):
    """Variables of the platform run, and its first (creating) run."""
    bed.emulator.engine.reset()
    kubeconfig = str(tmp_path_factory.mktemp('kube') / 'aks-ai-platform')
    variables = {'aks_cluster_kubeconfig': kubeconfig, 'nodepools_list': [AI_POOL, CPU_POOL], 'aks_cluster_timeout': 300, 'nodepools_poll_interval': 0.5,
                 'nodepools_timeout': 300}
    first = run_playbook('aks_platform.yml', variables, env=bed.env())
    return {'vars': variables, 'first': first, 'kubeconfig': kubeconfig}


def nodes(bed, selector):
    client = DynamicClient(kubernetes.config.new_client_from_config(config_file=str(bed.apiserver.kubeconfig)))
    return client.resources.get(api_version='v1', kind='Node').get(label_selector=selector).to_dict()['items']


def test_default_cluster_and_two_pools_are_created(bed, platform):
    run = platform['first']
    assert run.rc == 0, run.failures
    emu = bed.emulator
    cluster = emu.get_resource(cluster_id(emu.subscription_id))
    props = cluster['properties']
    assert props['kubernetesVersion'].startswith('1.34')
    assert props['oidcIssuerProfile']['enabled'] and props['securityProfile']['workloadIdentity']['enabled']
    assert props['serviceMeshProfile']['istio']['revisions'] == ['asm-1-28']
    assert props['serviceMeshProfile']['istio']['components']['ingressGateways'] == [{'mode': 'External', 'enabled': True}]
    assert props['ingressProfile']['gatewayAPI']['installation'] == 'Standard'
    assert props['aiToolchainOperatorProfile']['enabled'] and props['azureMonitorProfile']['metrics']['enabled']
    assert props['disableLocalAccounts'] is True and props['aadProfile']['enableAzureRBAC'] is True
    system = pool_doc(emu, 'system')['properties']
    assert (system['vmSize'], system['minCount'], system['maxCount'], system['availabilityZones']) == ('Standard_D2s_v3', 2, 5, ['1', '2', '3'])
    assert system['nodeTaints'] == ['CriticalAddonsOnly=true:NoSchedule'] and system['mode'] == 'System'
    gpu = pool_doc(emu, 'gpunp')['properties']
    assert gpu['nodeLabels'] == AI_POOL['labels'] and gpu['nodeTaints'] == AI_POOL['taints']
    assert gpu['tags'] == {'EnableManagedGPUExperience': 'true'} and (gpu['minCount'], gpu['maxCount']) == (0, 3)

    # the pools' nodes show up on the Kubernetes side with AKS's labels and the pools' own labels and taints
    cpu_nodes = nodes(bed, 'kubernetes.azure.com/agentpool=cpunp')
    assert len(cpu_nodes) == 2 and all(n['metadata']['labels']['workload-type'] == 'web' for n in cpu_nodes)
    system_nodes = nodes(bed, 'kubernetes.azure.com/agentpool=system')
    assert len(system_nodes) == 2
    assert all({'key': 'CriticalAddonsOnly', 'value': 'true', 'effect': 'NoSchedule'} in n['spec']['taints'] for n in system_nodes)

    # local accounts are off, so the kubeconfig carries an Entra token instead of kubelogin, and it works
    path = platform['kubeconfig']
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        config = yaml.safe_load(handle)
    assert 'exec' not in config['users'][0]['user'] and config['users'][0]['user']['token']
    client = DynamicClient(kubernetes.config.new_client_from_config(config_file=path))
    assert client.resources.get(api_version='v1', kind='Namespace').get().to_dict()['items']


def test_second_run_changes_nothing_and_writes_nothing(bed, platform):
    bed.emulator.clear_requests()
    run = run_playbook('aks_platform.yml', platform['vars'], env=bed.env())
    assert run.rc == 0, run.failures
    assert run.changed == 0, [name for name, r in run.tasks.items() if r.get('changed')]
    assert writes(bed.emulator) == [] and writes(bed.emulator, 'DELETE') == []


def test_check_mode_with_diff_writes_nothing(bed, platform):
    bed.emulator.clear_requests()
    pools = [dict(AI_POOL, max_count=5), CPU_POOL]
    run = run_playbook('aks_platform.yml', dict(platform['vars'], nodepools_list=pools), env=bed.env(), check=True, diff=True)
    assert run.rc == 0, run.failures
    waited = run.result('Wait for the node pools')['results'][0]
    assert waited['changed'] is True and waited['differences'] == ['properties.maxCount']
    assert waited['diff']['before']['properties']['maxCount'] == 3 and waited['diff']['after']['properties']['maxCount'] == 5
    assert writes(bed.emulator) == []
    assert pool_doc(bed.emulator, 'gpunp')['properties']['maxCount'] == 3


def test_mutable_change_is_one_put_that_keeps_every_other_field(bed, platform):
    before = pool_doc(bed.emulator, 'gpunp')['properties']
    bed.emulator.clear_requests()
    pools = [dict(AI_POOL, max_count=4, labels=dict(AI_POOL['labels'], team='ml'), tags={'cost-center': 'ai'}), CPU_POOL]
    run = run_playbook('aks_platform.yml', dict(platform['vars'], nodepools_list=pools), env=bed.env())
    assert run.rc == 0, run.failures
    puts = writes(bed.emulator)
    assert [r['path'].rsplit('/', 1)[-1] for r in puts] == ['gpunp'], 'exactly one PUT, to the changed pool'
    sent = puts[0]['body']['properties']
    assert sent['maxCount'] == 4 and sent['nodeLabels']['team'] == 'ml'
    assert sent['tags'] == {'EnableManagedGPUExperience': 'true', 'cost-center': 'ai'}, 'tags not mentioned are kept'
    for key, value in before.items():
        if key in POOL_READ_ONLY or key in ('maxCount', 'nodeLabels', 'tags'):
            continue
        assert sent.get(key) == value, 'field %s was not sent back unchanged' % key
    platform['vars']['nodepools_list'] = pools


def test_immutable_change_fails_before_any_write(bed, platform):
    bed.emulator.clear_requests()
    pools = [dict(AI_POOL, vm_size='Standard_NC24ads_A100_v4'), CPU_POOL]
    run = run_playbook('aks_platform.yml', dict(platform['vars'], nodepools_list=pools), env=bed.env())
    assert run.rc != 0
    message = run.result('Check every node pool before writing any')['results'][0]['msg']
    assert "properties.vmSize is 'Standard_D16s_v5', requested 'Standard_NC24ads_A100_v4'" in message
    assert writes(bed.emulator) == []


def _play_kubelet(bed, stop):
    """No kubelet on the bed: finish the graceful deletion of evicted pods as a kubelet would."""
    client = DynamicClient(kubernetes.config.new_client_from_config(config_file=str(bed.apiserver.kubeconfig)))
    pods = client.resources.get(api_version='v1', kind='Pod')
    while not stop.is_set():
        for pod in pods.get().to_dict()['items']:
            meta = pod['metadata']
            if meta.get('deletionTimestamp'):
                pods.delete(name=meta['name'], namespace=meta['namespace'], body={'gracePeriodSeconds': 0})
        time.sleep(0.3)


def test_blue_green_replaces_the_pool_and_drains_its_nodes(bed, platform):
    client = DynamicClient(kubernetes.config.new_client_from_config(config_file=str(bed.apiserver.kubeconfig)))
    old_node = nodes(bed, 'kubernetes.azure.com/agentpool=cpunp')[0]['metadata']['name']
    pods = client.resources.get(api_version='v1', kind='Pod')
    pods.create(namespace='default', body={'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'web-1'},
                                           'spec': {'nodeName': old_node, 'containers': [{'name': 'web', 'image': 'nginx'}]}})
    pools = [platform['vars']['nodepools_list'][0], dict(CPU_POOL, vm_size='Standard_D8s_v5', replace='blue_green')]
    stop = threading.Event()
    kubelet = threading.Thread(target=_play_kubelet, args=(bed, stop), daemon=True)
    kubelet.start()
    try:
        run = run_playbook('aks_platform.yml', dict(platform['vars'], nodepools_list=pools), env=bed.env())
    finally:
        stop.set()
        kubelet.join()
    assert run.rc == 0, run.failures
    replaced = run.result('Wait for the node pools')['results'][1]['replaced']
    assert replaced['old'] == 'cpunp' and replaced['new'] == 'cpunpb1'
    assert 'default/web-1' in replaced['drained']['evicted'] and old_node in replaced['drained']['nodes']
    assert pool_doc(bed.emulator, 'cpunp') is None
    new = pool_doc(bed.emulator, 'cpunpb1')['properties']
    assert new['vmSize'] == 'Standard_D8s_v5' and new['tags']['aiplatform.aks.pool'] == 'cpunp' and new['nodeLabels'] == {'workload-type': 'web'}
    assert nodes(bed, 'kubernetes.azure.com/agentpool=cpunp') == []
    assert len(nodes(bed, 'kubernetes.azure.com/agentpool=cpunpb1')) == 2
    assert pods.get(namespace='default', field_selector='metadata.name=web-1').to_dict()['items'] == []

    bed.emulator.clear_requests()
    again = run_playbook('aks_platform.yml', dict(platform['vars'], nodepools_list=pools), env=bed.env())
    assert again.rc == 0 and again.changed == 0, 'the replacement is managed under its family name'
    assert writes(bed.emulator) == []
    platform['vars']['nodepools_list'] = pools


@pytest.mark.parametrize('status', [429, 503])
def test_throttling_and_server_errors_are_survived(bed, platform, status):
    bed.emulator.clear_requests()
    bed.emulator.add_fault(action='status', method='PUT', path='/agentPools/gpunp$', status=status, retry_after=1, times=2)
    pools = [dict(platform['vars']['nodepools_list'][0], max_count=3 if status == 429 else 4)] + platform['vars']['nodepools_list'][1:]
    run = run_playbook('aks_platform.yml', dict(platform['vars'], nodepools_list=pools), env=bed.env())
    assert run.rc == 0, run.failures
    assert [r['status'] for r in writes(bed.emulator)] == [status, status, 200]
    assert pool_doc(bed.emulator, 'gpunp')['properties']['maxCount'] == pools[0]['max_count']


def test_failed_operation_reports_the_service_error_and_the_next_run_repairs(bed, platform):
    bed.emulator.add_fault(action='fail_operation', path='/agentPools/gpunp$',
                           error={'code': 'VMExtensionProvisioningError', 'message': 'The extension failed on 1 node.'})
    pools = [dict(platform['vars']['nodepools_list'][0], max_count=3)] + platform['vars']['nodepools_list'][1:]
    run = run_playbook('aks_platform.yml', dict(platform['vars'], nodepools_list=pools), env=bed.env())
    assert run.rc != 0
    failed = run.result('Wait for the node pools')['results'][0]
    assert failed['error']['code'] == 'VMExtensionProvisioningError'
    assert 'The extension failed on 1 node.' in failed['msg']
    repaired = run_playbook('aks_platform.yml', dict(platform['vars'], nodepools_list=pools), env=bed.env())
    assert repaired.rc == 0, repaired.failures
    assert pool_doc(bed.emulator, 'gpunp')['properties']['provisioningState'] == 'Succeeded'


def test_interrupted_run_converges_without_duplicates(bed, platform):
    bed.emulator.clear_requests()
    bed.emulator.engine.settings(operation_seconds=6)
    variables = dict(platform['vars'], aks_cluster_tags={'environment': 'itest', 'run': 'interrupted'})
    import json
    proc = subprocess.Popen([str(ANSIBLE_PLAYBOOK), str(PLAYBOOKS / 'aks_platform.yml'), '-e', json.dumps(variables)],
                            cwd=REPO_ROOT, env=dict(os.environ, **bed.env()), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not any(r['path'].endswith('/managedClusters/' + CLUSTER) for r in writes(bed.emulator)):
            assert time.monotonic() < deadline and proc.poll() is None, 'the cluster PUT never came'
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # killed while the long-running operation is under way
        proc.wait()
    finally:
        bed.emulator.engine.settings(operation_seconds=OPERATION_SECONDS)
    run = run_playbook('aks_platform.yml', variables, env=bed.env())
    assert run.rc == 0, run.failures
    emu = bed.emulator
    assert emu.get_resource(cluster_id(emu.subscription_id))['tags']['run'] == 'interrupted'
    clusters = [r for r in emu.resources()['resources'] if r.get('type', '').endswith('managedClusters')]
    assert len(clusters) == 1
    pools = sorted(r['name'] for r in emu.resources()['resources'] if r.get('type', '').endswith('agentPools'))
    assert pools == ['cpunpb1', 'gpunp', 'system']
    platform['vars'] = variables


BAD_POOLS = [
    ({'vm_size': 'D2s_v3'}, 'is not an Azure VM size'),
    ({'vm_size': 'Standard_D4s_v5', 'enable_auto_scaling': True, 'min_count': 3, 'max_count': 1}, 'must not exceed max_count'),
    ({'vm_size': 'Standard_D16s_v5', 'mig_profile': 'MIG1g'}, 'needs a MIG-capable GPU size'),
    ({'vm_size': 'Standard_D16s_v5', 'gpu_driver': 'None'}, 'gpu_driver only applies to GPU VM sizes'),
    ({'vm_size': 'Standard_D4s_v5', 'spot_max_price': 0.2}, 'spot_max_price only applies with spot: true'),
    ({'vm_size': 'Standard_D4s_v5', 'mode': 'System', 'spot': True, 'count': 1}, 'not allowed for a System pool'),
    ({'vm_size': 'Standard_D4s_v5', 'taints': ['gpu']}, 'must look like key=value:NoSchedule'),
    ({'vm_size': 'Standard_D4s_v5', 'labels': {'bad key': 'v'}}, 'is not a valid Kubernetes label name'),
    ({'vm_size': 'Standard_D4s_v5', 'zones': ['5']}, 'must be a subset of 1, 2, 3'),
    ({'vm_size': 'Standard_D4s_v5', 'max_pods': 500}, 'must be between 10 and 250'),
    ({'vm_size': 'Standard_D4s_v5', 'count': 2000}, 'outside 0-1000'),
    ({'vm_size': 'Standard_D4s_v5', 'min_count': 1, 'max_count': 2}, 'need enable_auto_scaling: true'),
    ({'vm_size': 'Standard_D4s_v5', 'kubernetes_version': '1.30'}, 'is too old'),
    ({'vm_size': 'Standard_D4s_v5', 'upgrade_settings': {'max_surge': 'many'}}, 'max_surge'),
    ({'name': 'Bad_Name', 'vm_size': 'Standard_D4s_v5'}, 'must be 1-12 lowercase letters'),
    ({'vm_size': 'Standard_D4s_v5', 'os_sku': 'Windows2022'}, 'value of os_sku must be one of'),
]
BAD_CLUSTERS = [
    ({'kubernetes_version': '1.33'}, 'is too old'),
    ({'kubernetes_version': 'latest'}, 'must look like 1.34'),
    ({'dns_prefix': 'bad_prefix!'}, 'dns_prefix'),
    ({'oidc_issuer': False, 'workload_identity': True}, 'workload_identity needs oidc_issuer'),
    ({'istio': {'enabled': True, 'revisions': ['1.28']}}, 'must look like asm-1-28'),
    ({'api_server_authorized_ip_ranges': ['300.1.1.1/32']}, 'is not an IP address or CIDR range'),
    ({'identity': {'type': 'UserAssigned'}}, 'needs identity.user_assigned_identity'),
    ({'system_pool': {'vm_size': 'Standard_D2s_v3', 'enable_auto_scaling': True, 'min_count': 0, 'max_count': 3}}, 'outside 1-1000'),
    ({'sku_tier': 'Gold'}, 'value of sku_tier must be one of'),
]


@pytest.mark.parametrize('args, message', BAD_POOLS)
def test_bad_pool_input_fails_clearly_without_writing(bed, platform, args, message):
    bed.emulator.clear_requests()
    args = dict({'name': 'newpool', 'cluster': CLUSTER, 'resource_group': RG}, **args)
    result = call_module('aks_nodepool', args, env=bed.env())
    assert result.get('failed') and message in result['msg']
    assert writes(bed.emulator) == [] and writes(bed.emulator, 'DELETE') == []


@pytest.mark.parametrize('args, message', BAD_CLUSTERS)
def test_bad_cluster_input_fails_clearly_without_writing(bed, platform, args, message):
    bed.emulator.clear_requests()
    args = dict({'name': 'other', 'resource_group': RG, 'location': 'westeurope',
                 'system_pool': {'vm_size': 'Standard_D2s_v3', 'count': 1}}, **args)
    result = call_module('aks_cluster', args, env=bed.env())
    assert result.get('failed') and message in result['msg']
    assert writes(bed.emulator) == []


def test_cluster_info_reports_what_later_roles_need(bed, platform):
    run = run_playbook('aks_module.yml', {'aks_module': 'aks_cluster_info', 'aks_args': {'name': CLUSTER, 'resource_group': RG}}, env=bed.env())
    assert run.rc == 0, run.failures
    info = run.result('Cluster info module')['clusters'][0]
    assert info['oidc_issuer_url'].startswith('https://') and info['addons']['kaito'] and info['addons']['istio_revisions'] == ['asm-1-28']
    assert info['addons']['local_accounts'] is False and info['node_resource_group']
    assert sorted(p['name'] for p in info['pools']) == ['cpunpb1', 'gpunp', 'system']


def test_no_secret_or_kubeconfig_content_in_verbose_output(bed, platform, tmp_path):
    path = str(tmp_path / 'kubeconfig')
    run = run_playbook('aks_module.yml', {'aks_module': 'aks_credentials', 'aks_args': {'name': CLUSTER, 'resource_group': RG, 'path': path}},
                       env=bed.env(), verbosity=3, json_output=False)
    assert run.rc == 0, run.stdout[-3000:]
    with open(path) as handle:
        config = yaml.safe_load(handle)
    token = config['users'][0]['user']['token']
    ca_data = config['clusters'][0]['cluster']['certificate-authority-data']
    output = run.stdout + run.stderr
    for secret in (token, ca_data, bed.emulator.client_secret):
        assert secret not in output
    again = run_playbook('aks_module.yml', {'aks_module': 'aks_credentials', 'aks_args': {'name': CLUSTER, 'resource_group': RG, 'path': path}},
                         env=bed.env())
    assert again.rc == 0 and again.result('Credentials module')['changed'] is False


def test_blue_green_drain_respects_a_pod_disruption_budget_and_resumes(bed, platform):
    """A budget that allows no disruption stops the drain (the old pool stays); once it is gone a re-run finishes."""
    client = DynamicClient(kubernetes.config.new_client_from_config(config_file=str(bed.apiserver.kubeconfig)))
    old_node = nodes(bed, 'kubernetes.azure.com/agentpool=cpunpb1')[0]['metadata']['name']
    pods = client.resources.get(api_version='v1', kind='Pod')
    pods.create(namespace='default', body={'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'db-1', 'labels': {'app': 'db'}},
                                           'spec': {'nodeName': old_node, 'containers': [{'name': 'db', 'image': 'postgres'}]}})
    # as its kubelet would report it: a Pending pod may be evicted regardless of budgets
    pods.status.patch(name='db-1', namespace='default', content_type='application/merge-patch+json',
                      body={'status': {'phase': 'Running', 'conditions': [{'type': 'Ready', 'status': 'True'}]}})
    budgets = client.resources.get(api_version='policy/v1beta1', kind='PodDisruptionBudget')
    budgets.create(namespace='default', body={'apiVersion': 'policy/v1beta1', 'kind': 'PodDisruptionBudget', 'metadata': {'name': 'db'},
                                              'spec': {'minAvailable': 1, 'selector': {'matchLabels': {'app': 'db'}}}})
    args = {'name': 'cpunp', 'cluster': CLUSTER, 'resource_group': RG, 'vm_size': 'Standard_D16s_v5', 'replace': 'blue_green',
            'drain': {'timeout': 5, 'kubeconfig': str(bed.apiserver.kubeconfig)}}
    stop = threading.Event()
    kubelet = threading.Thread(target=_play_kubelet, args=(bed, stop), daemon=True)
    kubelet.start()
    try:
        blocked = run_playbook('aks_module.yml', {'aks_module': 'aks_nodepool', 'aks_args': args}, env=bed.env())
        assert blocked.rc != 0
        assert 'PodDisruptionBudgets still block default/db-1' in blocked.result('Node pool module')['msg']
        assert pool_doc(bed.emulator, 'cpunpb1') is not None, 'the old pool stays while its pods cannot move'
        assert pods.get(namespace='default', field_selector='metadata.name=db-1').to_dict()['items']

        budgets.delete(name='db', namespace='default')
        resumed = run_playbook('aks_module.yml', {'aks_module': 'aks_nodepool', 'aks_args': dict(args, drain={'timeout': 60})}, env=bed.env())
    finally:
        stop.set()
        kubelet.join()
    assert resumed.rc == 0, resumed.failures
    result = resumed.result('Node pool module')
    assert result['replaced']['old'] == 'cpunpb1' and 'default/db-1' in result['replaced']['drained']['evicted']
    assert pool_doc(bed.emulator, 'cpunpb1') is None
    pools = sorted(r['name'] for r in bed.emulator.resources()['resources'] if r.get('type', '').endswith('agentPools'))
    assert pools == ['cpunp', 'gpunp', 'system'], 'the replacement from the blocked run was reused, not duplicated'
    assert pool_doc(bed.emulator, 'cpunp')['properties']['vmSize'] == 'Standard_D16s_v5'
    platform['vars']['nodepools_list'] = [platform['vars']['nodepools_list'][0], dict(CPU_POOL, vm_size='Standard_D16s_v5')]


def test_teardown_removes_everything_and_is_idempotent(bed, platform):
    run = run_playbook('aks_teardown.yml', {'nodepools_list': platform['vars']['nodepools_list'], 'aks_cluster_timeout': 300, 'nodepools_poll_interval': 0.5,
                                            'nodepools_timeout': 300}, env=bed.env())
    assert run.rc == 0, run.failures
    emu = bed.emulator
    assert emu.get_resource(cluster_id(emu.subscription_id)) is None
    assert emu.get_resource('/subscriptions/%s/resourceGroups/%s' % (emu.subscription_id, RG)) is None
    assert nodes(bed, 'kubernetes.azure.com/cluster') == [] or all(
        'aks-ai-platform' not in n['metadata']['labels'].get('kubernetes.azure.com/cluster', '') for n in nodes(bed, 'kubernetes.azure.com/cluster'))
    again = run_playbook('aks_teardown.yml', {'nodepools_list': platform['vars']['nodepools_list']}, env=bed.env())
    assert again.rc == 0 and again.changed == 0, again.failures
