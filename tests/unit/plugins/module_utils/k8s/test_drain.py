"""k8s/drain.py against an in-memory API: node readiness, cordon, eviction rules and the messages of a stuck drain."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.drain import cordon_and_drain, node_ready, wait_nodes_ready

from .fakes import FakeCluster

POOL = 'kubernetes.azure.com/agentpool=gpunp'


def node(name, ready=True, pool='gpunp'):
    return {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': name, 'labels': {'kubernetes.azure.com/agentpool': pool}},
            'status': {'conditions': [{'type': 'Ready', 'status': 'True' if ready else 'False'}]}}


def pod(name, node_name, namespace='ai', phase='Running', owner=None, annotations=None):
    meta = {'name': name, 'namespace': namespace}
    if owner:
        meta['ownerReferences'] = [{'kind': owner, 'name': 'x'}]
    if annotations:
        meta['annotations'] = annotations
    return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': meta, 'spec': {'nodeName': node_name}, 'status': {'phase': phase}}


def test_node_ready_reads_the_ready_condition():
    assert node_ready(node('a'))
    assert not node_ready(node('a', ready=False))
    assert not node_ready({'metadata': {'name': 'new'}}), 'a node without status is not ready'


def test_wait_nodes_ready_returns_the_pools_nodes_once_enough_are_ready():
    cluster = FakeCluster(node('a'), node('b'), node('other', pool='system'))
    assert [n['metadata']['name'] for n in wait_nodes_ready(cluster, POOL, 2, timeout=0, sleep=0)] == ['a', 'b']


@pytest.mark.parametrize('nodes, message', [
    ([node('a')], r'waiting for 2 Ready nodes with kubernetes.azure.com/agentpool=gpunp \(1 found, 1 Ready\)'),
    ([node('a'), node('b', ready=False)], r'waiting for 2 Ready nodes with kubernetes.azure.com/agentpool=gpunp \(2 found, 1 Ready\)'),
])
def test_wait_nodes_ready_times_out_with_what_it_saw(nodes, message):
    with pytest.raises(K8sError, match='Timed out after 0s ' + message):
        wait_nodes_ready(FakeCluster(*nodes), POOL, 2, timeout=0, sleep=0)


def test_drain_cordons_the_pools_nodes_and_evicts_only_what_a_drain_moves():
    # the second pass finds the pods gone and returns: no sleep in between (sleep=0)
    cluster = FakeCluster(
        node('a'), node('b'), node('keep', pool='system'),
        pod('model-0', 'a'), pod('model-1', 'b'), pod('elsewhere', 'keep'),
        pod('agent', 'a', namespace='kube-system', owner='DaemonSet'),
        pod('static', 'a', namespace='kube-system', annotations={'kubernetes.io/config.mirror': 'x'}),
        pod('done', 'b', phase='Succeeded'))
    result = cordon_and_drain(cluster, POOL, timeout=60, sleep=0)
    assert result == {'nodes': ['a', 'b'], 'evicted': ['ai/model-0', 'ai/model-1']}
    assert sorted(name for _kind, name, _body in cluster.patches) == ['a', 'b']
    assert all(body == {'spec': {'unschedulable': True}} for _kind, _name, body in cluster.patches)
    assert cluster.live('Pod', 'elsewhere', 'ai') and cluster.live('Pod', 'agent', 'kube-system')
    assert cluster.live('Pod', 'static', 'kube-system') and cluster.live('Pod', 'done', 'ai')


def test_eviction_falls_back_to_policy_v1beta1_on_servers_without_policy_v1():
    cluster = FakeCluster(node('a'), pod('model-0', 'a'))
    cluster.refused_eviction_versions.add('policy/v1')
    cordon_and_drain(cluster, POOL, timeout=60, sleep=0)
    assert cluster.evictions == [('ai/model-0', 'policy/v1beta1')]


def test_a_pod_a_disruption_budget_protects_stops_the_drain_with_its_name():
    cluster = FakeCluster(node('a'), pod('model-0', 'a'), pod('model-1', 'a'))
    cluster.pdb_blocked.add('ai/model-1')
    with pytest.raises(K8sError, match='Timed out after 0s draining nodes a: PodDisruptionBudgets still block ai/model-1$'):
        cordon_and_drain(cluster, POOL, timeout=0, sleep=0)
    assert cluster.evictions == [('ai/model-0', 'policy/v1')]


def test_pods_still_terminating_are_named_when_the_drain_times_out():
    leaving = pod('model-0', 'a')
    leaving['metadata']['deletionTimestamp'] = '2026-01-01T00:00:00Z'
    cluster = FakeCluster(node('a'), leaving)
    with pytest.raises(K8sError, match='pods still terminating: ai/model-0$'):
        cordon_and_drain(cluster, POOL, timeout=0, sleep=0)
    assert cluster.evictions == [], 'a pod already being deleted is not evicted again'


def test_an_eviction_the_server_refuses_fails_with_its_message():
    cluster = FakeCluster(node('a'), pod('model-0', 'a'))
    cluster.refused_eviction_versions.update(['policy/v1', 'policy/v1beta1'])
    with pytest.raises(K8sError, match='cannot evict pod ai/model-0: no kind "Eviction" is registered for version "policy/v1beta1"'):
        cordon_and_drain(cluster, POOL, timeout=0, sleep=0)


def test_a_dropped_connection_or_a_refused_cordon_is_a_failure_naming_the_step(monkeypatch):
    import urllib3

    from .fakes import FakeResource, api_error

    cluster = FakeCluster(node('n1'), pod('p1', 'n1', owner='ReplicaSet'))

    def dropped(*args, **kwargs):
        raise urllib3.exceptions.ProtocolError('Connection aborted.')
    cluster.request = dropped
    with pytest.raises(K8sError, match='cannot evict pod ai/p1: the connection to the Kubernetes API server failed'):
        cordon_and_drain(cluster, POOL, timeout=1, sleep=0.01)

    def forbidden(*args, **kwargs):
        raise api_error(403, 'Forbidden', 'nodes "n1" is forbidden: cannot patch')
    monkeypatch.setattr(FakeResource, 'patch', forbidden)
    with pytest.raises(K8sError, match='cannot cordon node n1: nodes "n1" is forbidden'):
        cordon_and_drain(cluster, POOL, timeout=1, sleep=0.01)
