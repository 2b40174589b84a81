"""Node pool options: bad input refused with a message naming the option; wire bodies, new and replacement."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.nodepool import (
    AgentPool, autoscaled_count, check_pool, pool_properties, replacement_body)
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import prune_none

GPU_POOL = {'name': 'gpunp', 'vm_size': 'Standard_NC24ads_A100_v4', 'enable_auto_scaling': True, 'min_count': 0, 'max_count': 3}


@pytest.mark.parametrize('changes, message', [
    ({'name': 'GPU'}, 'name'),
    ({'name': 'averyveryverylongname'}, 'name'),
    ({'vm_size': 'D2s_v3'}, 'is not an Azure VM size'),
    ({'vm_size': 'Standard_'}, 'is not an Azure VM size'),
    ({'min_count': 4, 'max_count': 3}, 'min_count (4) must not exceed max_count (3)'),
    ({'enable_auto_scaling': False}, 'need enable_auto_scaling: true'),
    ({'min_count': None}, 'enable_auto_scaling needs min_count and max_count'),
    ({'count': 7}, 'count 7 must lie between'),
    ({'max_count': 1001}, 'outside 0-1000'),
    ({'mig_profile': 'MIG1g', 'vm_size': 'Standard_D16s_v5'}, 'needs a MIG-capable GPU size'),
    ({'mig_profile': 'MIG1g', 'vm_size': 'Standard_NC6s_v3'}, 'needs a MIG-capable GPU size'),
    ({'gpu_driver': 'None', 'vm_size': 'Standard_D16s_v5'}, 'gpu_driver only applies to GPU VM sizes'),
    ({'spot_max_price': 0.5}, 'spot_max_price only applies with spot: true'),
    ({'spot_eviction_policy': 'Delete'}, 'spot_eviction_policy only applies with spot: true'),
    ({'spot': True, 'upgrade_settings': {'max_surge': '1'}}, 'max_surge does not apply to spot pools'),
    ({'spot': True, 'spot_max_price': -2.0}, 'spot_max_price must be -1'),
    ({'taints': ['nvidia.com/gpu']}, 'must look like key=value:NoSchedule'),
    ({'taints': ['a=b:Sometimes']}, 'must look like key=value:NoSchedule'),
    ({'labels': {'bad key!': 'x'}}, 'is not a valid Kubernetes label name'),
    ({'labels': {'team': 'has space'}}, 'is not a valid Kubernetes label value'),
    ({'zones': ['4']}, 'must be a subset of 1, 2, 3'),
    ({'max_pods': 5}, 'max_pods 5 must be between 10 and 250'),
    ({'os_disk_size_gb': 4096}, 'os_disk_size_gb 4096 must be between 30 and 2048'),
    ({'upgrade_settings': {'max_surge': 'lots'}}, 'max_surge'),
    ({'kubernetes_version': '1.33'}, 'is too old'),
    ({'labels': {'kubernetes.azure.com/mode': 'user'}}, "labels key 'kubernetes.azure.com/mode' uses a prefix reserved by AKS"),
    ({'labels': {'kubernetes.io/role': 'gpu'}}, "labels key 'kubernetes.io/role' uses a prefix reserved"),
    ({'labels': {'topology.kubernetes.io/zone': 'x'}}, 'uses a prefix reserved'),
    ({'labels': {'node-restriction.kubernetes.io/gpu': 'x'}}, 'uses a prefix reserved'),
    ({'labels': {'foo.k8s.io/x': 'y'}}, 'uses a prefix reserved'),
    ({'taints': ['gpu=a:NoSchedule', 'gpu=b:NoSchedule']}, "taints entries 'gpu=a:NoSchedule' and 'gpu=b:NoSchedule' have the same key and effect"),
])
def test_bad_pool_options(changes, message):
    problems = check_pool(dict(GPU_POOL, **changes))
    assert problems and any(message in p for p in problems), problems


def test_system_pool_rules():
    assert any('outside 1-1000 for a System pool' in p for p in check_pool(dict(GPU_POOL, mode='System')))
    assert any('not allowed for a System pool' in p for p in check_pool(dict(GPU_POOL, mode='System', min_count=1, spot=True)))


def test_good_pools_pass():
    assert check_pool(GPU_POOL) == []
    assert check_pool(dict(GPU_POOL, mig_profile='MIG1g', gpu_driver='None', spot=True, spot_max_price=-1.0,
                           spot_eviction_policy='Delete', taints=['nvidia.com/gpu=true:NoSchedule'],
                           labels={'node-type': 'ai', 'accelerator': 'nvidia-gpu'})) == []
    # the same key with another effect is a different taint; kubelet's own label domains are not reserved
    assert check_pool(dict(GPU_POOL, taints=['gpu=a:NoSchedule', 'gpu=a:NoExecute'],
                           labels={'node.kubernetes.io/exclude-from-external-load-balancers': 'true', 'example.com/kubernetes.io': 'x',
                                   'node-role.kubernetes.io/gpu': '', 'kubernetes.io/os': 'linux'})) == []


@pytest.mark.parametrize('params, message', [
    ({'timeout': 0, 'wait': True}, 'timeout must be a positive number of seconds, got 0'),
    ({'timeout': -1, 'wait': False}, 'timeout must be zero or more seconds, got -1'),
    ({'timeout': 60, 'drain': {'timeout': -5}}, 'drain.timeout must be zero or more seconds, got -5'),
])
def test_pool_timeouts(params, message):
    assert message in AgentPool.check_input(dict(params, state='absent'))


def test_timeout_zero_without_waiting_is_fine():
    assert AgentPool.check_input({'timeout': 0, 'wait': False, 'state': 'absent'}) == []


def test_pool_properties_and_replacement_body():
    props = pool_properties(dict(GPU_POOL, spot=True, gpu_driver='None', mig_profile='MIG2g', labels={'a': 'b'}))
    assert props['scaleSetPriority'] == 'Spot' and props['gpuProfile'] == {'driver': 'None'} and props['gpuInstanceProfile'] == 'MIG2g'
    current = {'name': 'gpunp', 'properties': {'vmSize': 'Standard_D16s_v5', 'count': 2, 'enableAutoScaling': True, 'minCount': 0,
                                               'maxCount': 3, 'provisioningState': 'Succeeded', 'nodeImageVersion': 'x', 'tags': {'t': '1'}}}
    body = replacement_body(current, {'properties': {'vmSize': 'Standard_NC24ads_A100_v4'}}, 'gpunp')
    assert body['properties']['vmSize'] == 'Standard_NC24ads_A100_v4' and body['properties']['count'] == 2
    assert body['properties']['tags'] == {'t': '1', 'aiplatform.aks.pool': 'gpunp'}
    assert 'provisioningState' not in body['properties'] and 'nodeImageVersion' not in body['properties']


SPOT_TAINT = 'kubernetes.azure.com/scalesetpriority=spot:NoSchedule'


def test_the_label_and_taint_aks_adds_to_spot_pools_are_not_drift():
    pool = AgentPool(None, 'rg', 'aks', 'gpunp', 60)
    options = dict(GPU_POOL, spot=True, taints=['nvidia.com/gpu=true:NoSchedule'], labels={'team': 'ml'})
    desired = prune_none({'properties': pool_properties(options)})
    current = {'properties': dict(desired['properties'], provisioningState='Succeeded', spotMaxPrice=-1,
                                  nodeTaints=['nvidia.com/gpu=true:NoSchedule', SPOT_TAINT],
                                  nodeLabels={'team': 'ml', 'kubernetes.azure.com/scalesetpriority': 'spot'})}
    result, after = pool.plan(desired, current)
    assert result['changed'] is False, result['differences']
    changed, after = pool.plan({'properties': dict(desired['properties'], nodeTaints=['other=x:NoSchedule'])}, current)
    assert changed['differences'] == ['properties.nodeTaints']
    assert after['properties']['nodeTaints'] == ['other=x:NoSchedule', SPOT_TAINT], 'what AKS added is written back'
    bare = {'properties': dict(current['properties'], nodeTaints=['nvidia.com/gpu=true:NoSchedule'], nodeLabels={'team': 'ml'})}
    unchanged, after = pool.plan(desired, bare)
    assert unchanged['changed'] is False and after['properties']['nodeTaints'] == ['nvidia.com/gpu=true:NoSchedule'], \
        'only what the service did add is kept'


@pytest.mark.parametrize('want, have, count', [
    ({'minCount': 2}, {'enableAutoScaling': True, 'minCount': 0, 'maxCount': 3, 'count': 0}, 2),
    ({'maxCount': 1}, {'enableAutoScaling': True, 'minCount': 0, 'maxCount': 3, 'count': 3}, 1),
    ({'minCount': 1, 'maxCount': 5}, {'enableAutoScaling': True, 'minCount': 0, 'maxCount': 3, 'count': 2}, None),
    ({'minCount': 2, 'count': 3}, {'enableAutoScaling': True, 'minCount': 0, 'maxCount': 3, 'count': 0}, 3),
    ({'enableAutoScaling': True, 'minCount': 2, 'maxCount': 4}, {'enableAutoScaling': False, 'count': 1}, 2),
    ({'minCount': 2}, {'enableAutoScaling': False, 'count': 0}, None),
])
def test_a_changed_autoscaling_range_sends_a_count_inside_it(want, have, count):
    assert autoscaled_count(want, have).get('count') == count
