"""Blue/green replacement of a node pool through the roles and the module, on a platform of its own, then teardown.

Split from test_aks_cluster_and_nodepools_roles.py so that the two chains of tests, each on its own platform, run on different workers.
"""

import threading

import kubernetes
import pytest
from kubernetes.dynamic import DynamicClient

from tests.integration.aks import CLUSTER, CPU_POOL, RG, cluster_id, create_platform, nodes, play_kubelet, pool_doc, writes
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration


@pytest.fixture(scope='module')
def platform(bed, tmp_path_factory):
    return create_platform(bed, tmp_path_factory)


def test_blue_green_replaces_the_pool_and_drains_its_nodes(bed, platform):
    client = DynamicClient(kubernetes.config.new_client_from_config(config_file=str(bed.apiserver.kubeconfig)))
    old_node = nodes(bed, 'kubernetes.azure.com/agentpool=cpunp')[0]['metadata']['name']
    pods = client.resources.get(api_version='v1', kind='Pod')
    pods.create(namespace='default', body={'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'web-1'},
                                           'spec': {'nodeName': old_node, 'containers': [{'name': 'web', 'image': 'nginx'}]}})
    pools = [platform['vars']['nodepools_list'][0], dict(CPU_POOL, vm_size='Standard_D8s_v5', replace='blue_green')]
    stop = threading.Event()
    kubelet = threading.Thread(target=play_kubelet, args=(bed, stop), daemon=True)
    kubelet.start()
    try:
        run = run_playbook('aks_platform.yml', dict(platform['vars'], nodepools_list=pools), env=bed.env())
    finally:
        stop.set()
        kubelet.join()
    assert run.rc == 0, run.failures
    # the role writes only the pools its check found changed: here cpunp alone
    (started,) = run.result('Start the node pool operations')['results']
    assert started['item']['name'] == 'cpunp' and started['replaced'] == {'old': 'cpunp', 'new': 'cpunpb1'}
    assert started['pool']['properties']['provisioningState'] == 'Creating', 'the new pool is started, not waited for'
    (waited,) = run.result('Wait for the node pools')['results']
    replaced = waited['replaced']
    assert replaced['old'] == 'cpunp' and replaced['new'] == 'cpunpb1' and replaced['resumed'] is True
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
    kubelet = threading.Thread(target=play_kubelet, args=(bed, stop), daemon=True)
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
    run = run_playbook('aks_teardown.yml', {'nodepools_list': platform['vars']['nodepools_list'], 'aks_cluster_timeout': 300,
                                            'nodepools_timeout': 300}, env=bed.env())
    assert run.rc == 0, run.failures
    emu = bed.emulator
    assert emu.get_resource(cluster_id(emu.subscription_id)) is None
    assert emu.get_resource('/subscriptions/%s/resourceGroups/%s' % (emu.subscription_id, RG)) is None
    assert nodes(bed, 'kubernetes.azure.com/cluster') == [] or all(
        'aks-ai-platform' not in n['metadata']['labels'].get('kubernetes.azure.com/cluster', '') for n in nodes(bed, 'kubernetes.azure.com/cluster'))
    again = run_playbook('aks_teardown.yml', {'nodepools_list': platform['vars']['nodepools_list']}, env=bed.env())
    assert again.rc == 0 and again.changed == 0, again.failures
