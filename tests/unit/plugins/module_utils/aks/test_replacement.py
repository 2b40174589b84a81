"""aks/replacement.py: blue/green replacement of a node pool, and its resumption after an interrupted run.

An in-memory AKS (pools, whose nodes appear in an in-memory Kubernetes API when a pool is created and go when it is
deleted) stands in for the service; the drain's pause between passes is recorded instead of slept.
"""

import itertools

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from ansible_collections.aiplatform.aks.plugins.module_utils.aks import replacement
from ansible_collections.aiplatform.aks.plugins.module_utils.aks.nodepool import POOL_FAMILY_TAG, AgentPool
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s import drain

from ..azure.fakes import Doc, FakePoller
from ..k8s.fakes import FakeCluster

A100 = 'Standard_NC24ads_A100_v4'
H100 = 'Standard_NC40ads_H100_v5'


class FakeAgentPools:
    """AKS's agent_pools operations; every operation finishes at once and keeps the pools' nodes in `kube`.
    Writes honour entity tags as AKS does (If-Match / If-None-Match: *)."""

    def __init__(self, kube, *pools):
        self.kube = kube
        self.pools = {}
        self.calls = []
        self.etags = itertools.count(1)
        for name, props in pools:
            self._store(name, props)

    def _store(self, name, props):
        pool = {'name': name, 'properties': dict({'provisioningState': 'Succeeded'}, **props)}
        pool['properties'].update(eTag=str(next(self.etags)))
        self.pools[name] = pool
        for i in range(props.get('count') or 0):
            self.kube.add({'apiVersion': 'v1', 'kind': 'Node',
                           'metadata': {'name': '%s-%d' % (name, i), 'labels': {'kubernetes.azure.com/agentpool': name}},
                           'status': {'conditions': [{'type': 'Ready', 'status': 'True'}]}})
        return pool

    def get(self, resource_group, cluster, name):
        if name not in self.pools:
            raise ResourceNotFoundError('agent pool %s not found' % name)
        return Doc(self.pools[name])

    def list(self, resource_group, cluster):
        return [Doc(p) for p in self.pools.values()]

    def begin_create_or_update(self, resource_group, cluster, name, model, etag=None, match_condition=None):
        self.calls.append(('put', name))
        existing = self.pools.get(name)
        if (match_condition == MatchConditions.IfMissing and existing or
                match_condition == MatchConditions.IfNotModified and (existing or {}).get('properties', {}).get('eTag') != etag):
            raise HttpResponseError(message='PreconditionFailed')
        return FakePoller(Doc(self._store(name, dict(model.as_dict()['properties'], provisioningState='Succeeded'))))

    def begin_delete(self, resource_group, cluster, name):
        self.calls.append(('delete', name))
        del self.pools[name]
        for key in [k for k, o in self.kube.objects.items()
                    if k[1] == 'Node' and o['metadata']['labels']['kubernetes.azure.com/agentpool'] == name]:
            del self.kube.objects[key]
        return FakePoller()


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, check_mode=False, drain_timeout=60):
        self.params = {'name': 'gpunp', 'resource_group': 'rg', 'cluster': 'aks', 'drain': {'timeout': drain_timeout}}
        self.check_mode = check_mode

    def fail_json(self, msg, **kwargs):
        raise Failed(msg)


@pytest.fixture
def kube(monkeypatch):
    cluster = FakeCluster()
    monkeypatch.setattr(replacement, 'kubernetes_client', lambda module: cluster)
    pauses = []
    monkeypatch.setattr(drain.time, 'sleep', pauses.append)
    return cluster


def aks(kube, *pools):
    client = type('FakeContainerService', (), {})()
    client.agent_pools = FakeAgentPools(kube, *pools)
    return client


def model_pod(name, node):
    return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': name, 'namespace': 'ai'}, 'spec': {'nodeName': node},
            'status': {'phase': 'Running'}}


def gpu_pool(vm_size, count=1, **props):
    return dict({'vmSize': vm_size, 'count': count, 'mode': 'User', 'osType': 'Linux'}, **props)


def test_blue_green_creates_the_new_pool_drains_the_old_one_and_deletes_it(kube):
    client = aks(kube, ('gpunp', gpu_pool(A100)))
    kube.add(model_pod('phi-0', 'gpunp-0'))
    module = FakeModule()
    pool = AgentPool(client, 'rg', 'aks', 'gpunp', 600)
    current = pool.read()
    result = replacement.blue_green(module, pool, current, {'properties': {'vmSize': H100}})

    assert client.agent_pools.calls == [('put', 'gpunpb1'), ('delete', 'gpunp')]
    new = client.agent_pools.pools['gpunpb1']['properties']
    assert new['vmSize'] == H100 and new['tags'] == {POOL_FAMILY_TAG: 'gpunp'}
    assert result['changed'] and result['replaced'] == {
        'old': 'gpunp', 'new': 'gpunpb1', 'drained': {'nodes': ['gpunp-0'], 'evicted': ['ai/phi-0']}}
    assert result['resource']['properties']['vmSize'] == H100
    assert kube.patches == [('Node', 'gpunp-0', {'spec': {'unschedulable': True}})], 'the old node is cordoned before eviction'


def test_blue_green_in_check_mode_plans_the_replacement_and_writes_nothing(kube):
    client = aks(kube, ('gpunp', gpu_pool(A100)))
    pool = AgentPool(client, 'rg', 'aks', 'gpunp', 600, check_mode=True)
    result = replacement.blue_green(FakeModule(check_mode=True), pool, pool.read(), {'properties': {'vmSize': H100}})
    assert result['changed'] and result['replaced'] == {'old': 'gpunp', 'new': 'gpunpb1'}
    assert result['resource']['properties']['vmSize'] == H100
    assert 'provisioningState' not in result['resource']['properties'], 'read-only fields are not sent'
    assert client.agent_pools.calls == [] and kube.patches == []


def test_a_replacement_of_a_replacement_takes_back_the_familys_name(kube):
    client = aks(kube, ('gpunpb1', gpu_pool(H100, tags={POOL_FAMILY_TAG: 'gpunp'})))
    pool = AgentPool(client, 'rg', 'aks', 'gpunpb1', 600)
    result = replacement.blue_green(FakeModule(), pool, pool.read(), {'properties': {'vmSize': A100}})
    assert result['replaced']['new'] == 'gpunp' and client.agent_pools.calls == [('put', 'gpunp'), ('delete', 'gpunpb1')]


def test_an_interrupted_replacement_is_finished_keeping_the_pool_that_fits(kube):
    # the earlier run created gpunpb1 and stopped before draining gpunp
    client = aks(kube, ('gpunp', gpu_pool(A100)), ('gpunpb1', gpu_pool(H100, tags={POOL_FAMILY_TAG: 'gpunp'})))
    pool = AgentPool(client, 'rg', 'aks', 'gpunp', 600)
    kept, current, plan = replacement.finish_replacement(FakeModule(), pool, pool.read(), {'properties': {'vmSize': H100}})
    assert kept.name == 'gpunpb1' and current['properties']['vmSize'] == H100
    assert plan == {'old': 'gpunp', 'new': 'gpunpb1', 'resumed': True, 'drained': {'nodes': ['gpunp-0'], 'evicted': []}}
    assert client.agent_pools.calls == [('delete', 'gpunp')]


def test_an_interrupted_replacement_whose_options_were_reverted_keeps_the_old_pool(kube):
    client = aks(kube, ('gpunp', gpu_pool(A100)), ('gpunpb1', gpu_pool(H100, tags={POOL_FAMILY_TAG: 'gpunp'})))
    pool = AgentPool(client, 'rg', 'aks', 'gpunp', 600)
    kept, _current, plan = replacement.finish_replacement(FakeModule(), pool, pool.read(), {'properties': {'vmSize': A100}})
    assert kept.name == 'gpunp' and plan['old'] == 'gpunpb1'
    assert client.agent_pools.calls == [('delete', 'gpunpb1')]


def test_without_a_leftover_pool_there_is_nothing_to_finish(kube):
    client = aks(kube, ('gpunp', gpu_pool(A100)), ('system', gpu_pool('Standard_D4s_v5')))
    pool = AgentPool(client, 'rg', 'aks', 'gpunp', 600)
    current = pool.read()
    assert replacement.finish_replacement(FakeModule(), pool, current, {'properties': {'vmSize': H100}}) == (pool, current, None)
    assert client.agent_pools.calls == []


def test_new_nodes_that_never_get_ready_fail_the_module_naming_the_pool_and_keep_the_old_one(kube):
    client = aks(kube, ('gpunp', gpu_pool(A100)))
    client.agent_pools.kube = FakeCluster()  # the new pool's nodes never register with this cluster
    pool = AgentPool(client, 'rg', 'aks', 'gpunp', 600)
    with pytest.raises(Failed, match=r'^Blue/green replacement of node pool gpunp: Timed out after 0s waiting for 1 Ready nodes'):
        replacement.blue_green(FakeModule(drain_timeout=0), pool, pool.read(), {'properties': {'vmSize': H100}})
    assert client.agent_pools.calls == [('put', 'gpunpb1')], 'the old pool stays until its replacement is ready'
    assert kube.patches == []


def test_without_wait_only_the_new_pools_creation_is_started(kube):
    client = aks(kube, ('gpunp', gpu_pool(A100)))
    pool = AgentPool(client, 'rg', 'aks', 'gpunp', 600, wait=False)
    result = replacement.blue_green(FakeModule(), pool, pool.read(), {'properties': {'vmSize': H100}})
    assert result['replaced'] == {'old': 'gpunp', 'new': 'gpunpb1'}
    assert client.agent_pools.calls == [('put', 'gpunpb1')] and kube.patches == [], 'the old pool waits for a run that waits'


def test_a_started_replacement_is_finished_once_the_new_nodes_are_ready(kube):
    client = aks(kube, ('gpunp', gpu_pool(A100)), ('gpunpb1', gpu_pool(H100, tags={POOL_FAMILY_TAG: 'gpunp'})))
    kube.live('Node', 'gpunpb1-0')['status']['conditions'][0]['status'] = 'False'
    pool = AgentPool(client, 'rg', 'aks', 'gpunp', 600)
    with pytest.raises(Failed, match='Timed out after 0s waiting for 1 Ready nodes'):
        replacement.finish_replacement(FakeModule(drain_timeout=0), pool, pool.read(), {'properties': {'vmSize': H100}})
    assert client.agent_pools.calls == [] and kube.patches == [], 'the old pool is not touched before the new nodes are Ready'


def failed_creation(vm_size):
    return gpu_pool(vm_size, tags={POOL_FAMILY_TAG: 'gpunp'}, provisioningState='Failed',
                    status={'provisioningError': {'code': 'AllocationFailed', 'message': 'No capacity.'}})


def test_a_replacement_whose_creation_failed_is_reported_without_repair_and_keeps_the_old_pool(kube):
    client = aks(kube, ('gpunp', gpu_pool(A100)), ('gpunpb1', failed_creation(H100)))
    pool = AgentPool(client, 'rg', 'aks', 'gpunp', 600, repair=False)
    with pytest.raises(AzureOperationError, match='node pool gpunpb1 of aks failed: AllocationFailed: No capacity'):
        replacement.finish_replacement(FakeModule(), pool, pool.read(), {'properties': {'vmSize': H100}})
    assert client.agent_pools.calls == [] and 'gpunp' in client.agent_pools.pools


def test_a_replacement_whose_creation_failed_is_sent_again_before_the_old_pool_goes(kube):
    client = aks(kube, ('gpunp', gpu_pool(A100)), ('gpunpb1', failed_creation(H100)))
    pool = AgentPool(client, 'rg', 'aks', 'gpunp', 600)
    kept, current, plan = replacement.finish_replacement(FakeModule(), pool, pool.read(), {'properties': {'vmSize': H100}})
    assert kept.name == 'gpunpb1' and current['properties']['provisioningState'] == 'Succeeded'
    assert client.agent_pools.calls == [('put', 'gpunpb1'), ('delete', 'gpunp')] and plan['old'] == 'gpunp'
