"""Two runs that change different fields of the same AKS cluster or node pool at the same time, against the ARM
emulator: whichever write lands second is refused (409 while the first one's operation runs, 412 once its entity tag
is stale) and planned again from a new read, so no change is ever lost. The modules run as separate processes, as
two ansible-playbook runs would start them."""

import json
import os
import subprocess
import sys

import pytest

from tests.integration.module_call import call_module
from tests.integration.playbook import REPO_ROOT

pytestmark = pytest.mark.integration

RG, CLUSTER = 'rg-concurrent', 'aks-concurrent'
ROUNDS = 4
SYSTEM_POOL = {'vm_size': 'Standard_D2s_v3', 'count': 1}


def start_module(name, args, env, tmp_path, tag):
    path = tmp_path / ('%s-%s.json' % (name, tag))
    path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    environ = dict(os.environ, PYTHONPATH=str(REPO_ROOT / '.collections'), **env)
    return subprocess.Popen([sys.executable, '-m', 'ansible_collections.aiplatform.aks.plugins.modules.' + name, str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ, text=True)


def result_of(process):
    out, err = process.communicate(timeout=300)
    result = json.loads(out[out.index('{'):])
    assert not result.get('failed'), (result.get('msg'), err[-2000:])
    return result


def at_once(*calls):
    """Start every (name, args, env, tmp_path, tag) module process, then wait for all of them."""
    return [result_of(p) for p in [start_module(*call) for call in calls]]


@pytest.fixture
def cluster(arm, azure_env, bed):
    assert not call_module('azure_resource_group', {'name': RG, 'location': 'westeurope'}, env=azure_env).get('failed')
    made = call_module('aks_cluster', {'name': CLUSTER, 'resource_group': RG, 'location': 'westeurope',
                                       'system_pool': SYSTEM_POOL, 'timeout': 120}, env=bed.env())
    assert not made.get('failed'), made.get('msg')
    return arm


def test_two_runs_changing_one_cluster_at_once_keep_both_changes(cluster, bed, tmp_path):
    base = {'name': CLUSTER, 'resource_group': RG, 'system_pool': SYSTEM_POOL, 'timeout': 120}
    for round_ in range(ROUNDS):
        tier = 'Standard' if round_ % 2 == 0 else 'Free'
        tagged, tiered = at_once(('aks_cluster', dict(base, tags={'round': str(round_)}), bed.env(), tmp_path, 'tags%d' % round_),
                                 ('aks_cluster', dict(base, sku_tier=tier), bed.env(), tmp_path, 'tier%d' % round_))
        assert tagged['changed'] and tiered['changed']
        stored = cluster.engine.get_resource(
            '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s'
            % (cluster.subscription_id, RG, CLUSTER))
        assert (stored['tags'].get('round'), stored['sku']['tier']) == (str(round_), tier), 'round %d lost a change' % round_


def test_two_runs_changing_one_pool_at_once_keep_both_changes(cluster, bed, tmp_path):
    base = {'name': 'gpunp', 'cluster': CLUSTER, 'resource_group': RG, 'timeout': 120}
    made = call_module('aks_nodepool', dict(base, vm_size='Standard_D4s_v5', enable_auto_scaling=True, min_count=0, max_count=3),
                       env=bed.env())
    assert not made.get('failed'), made.get('msg')
    for round_ in range(ROUNDS):
        scaling = dict(base, enable_auto_scaling=True, min_count=0, max_count=4 + round_)
        labelled, scaled = at_once(('aks_nodepool', dict(base, labels={'round': str(round_)}), bed.env(), tmp_path, 'labels%d' % round_),
                                   ('aks_nodepool', scaling, bed.env(), tmp_path, 'max%d' % round_))
        assert labelled['changed'] and scaled['changed']
        props = cluster.engine.get_resource(
            '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s/agentPools/gpunp'
            % (cluster.subscription_id, RG, CLUSTER))['properties']
        assert (props['nodeLabels'].get('round'), props['maxCount']) == (str(round_), 4 + round_), 'round %d lost a change' % round_
