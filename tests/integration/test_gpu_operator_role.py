"""The gpu_operator role on the test apiserver (Kubernetes 1.20, no kubelet): the device plugin mode, the wait for the
GPU nodes and its messages, a cluster without GPU nodes, and input refused before anything is written.

The bed runs no pods: the test plays the device plugin (a stand-in) by writing a GPU node's nvidia.com/gpu capacity
through the status subresource once the DaemonSet exists, as the kubelet reports what the plugin registers."""

import threading
import uuid

import pytest

from tests.integration.gpu_standin import RUN_LABEL, api, pool_labels, report_gpus
from tests.integration.module_call import call_module
from tests.integration.playbook import run_playbook
from tests.integration.refusals import WriteWatch, role_refused_before_writing

pytestmark = pytest.mark.integration

A100 = 'Standard_NC24ads_A100_v4'


def converge(k8s_env, nodes, check=False, **variables):
    variables = dict({'gpu_operator_node_selector': '%s=%s' % (RUN_LABEL, nodes.run),
                      'gpu_operator_namespace': 'gpu-' + nodes.run}, **variables)
    return run_playbook('gpu_operator_role.yml', variables, env=k8s_env, check=check)


def device_plugin_stand_in(client, namespace, node, stop):
    """Once the role's DaemonSet exists, report one GPU on `node` (what the plugin makes the kubelet report)."""
    daemonsets = api(client, 'DaemonSet', 'apps/v1')
    while not stop.wait(0.2):
        if any(d['metadata']['name'] == 'nvidia-device-plugin' for d in daemonsets.get(namespace=namespace).to_dict()['items']):
            report_gpus(client, node, {'nvidia.com/gpu': 1})
            return


def test_device_plugin_mode_installs_the_daemonset_waits_for_the_gpus_and_a_second_run_changes_nothing(k8s_env, k8s_client, nodes):
    node = nodes.add('gpu', pool_labels('gpunp', A100, **{'kubernetes.azure.com/accelerator': 'nvidia'}))
    stop = threading.Event()
    stand_in = threading.Thread(target=device_plugin_stand_in, args=(k8s_client, 'gpu-' + nodes.run, node, stop), daemon=True)
    stand_in.start()
    try:
        first = converge(k8s_env, nodes, gpu_operator_mode='device_plugin', gpu_operator_time_slicing={'replicas': 4},
                         gpu_operator_tolerations=[{'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'}])
    finally:
        stop.set()
        stand_in.join()
    assert first.rc == 0, first.failures
    assert first.result('Say which mode and why')['msg'] == 'GPUs: device_plugin (gpu_operator_mode is device_plugin)'
    assert first.result('Report the GPUs')['msg'] == '1 GPU node(s) advertise {"nvidia.com/gpu": 1}'
    ns = api(k8s_client, 'Namespace').get(name='gpu-' + nodes.run).to_dict()['metadata']['labels']
    assert ns['pod-security.kubernetes.io/enforce'] == 'privileged' and ns['istio-injection'] == 'disabled'
    ds = api(k8s_client, 'DaemonSet', 'apps/v1').get(name='nvidia-device-plugin', namespace='gpu-' + nodes.run).to_dict()['spec']['template']['spec']
    assert ds['tolerations'] == [{'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'},
                                 {'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'}]
    assert ds['containers'][0]['args'] == ['--config-file=/etc/nvidia-device-plugin/config.yaml']
    config = api(k8s_client, 'ConfigMap').get(name='nvidia-device-plugin-config', namespace='gpu-' + nodes.run).data['config.yaml']
    assert 'replicas: 4' in config and 'name: nvidia.com/gpu' in config
    second = converge(k8s_env, nodes, gpu_operator_mode='device_plugin', gpu_operator_time_slicing={'replicas': 4},
                      gpu_operator_tolerations=[{'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'}])
    assert second.rc == 0 and second.changed == 0, second.failures


def test_check_mode_reports_the_device_plugin_and_writes_nothing(bed, k8s_env, nodes):
    nodes.add('gpu', pool_labels('gpunp', A100, **{'kubernetes.azure.com/accelerator': 'nvidia'}))
    watch = WriteWatch(bed)
    run = converge(k8s_env, nodes, check=True, gpu_operator_mode='device_plugin')
    assert run.rc == 0, run.failures
    assert run.result('The NVIDIA device plugin DaemonSet on the GPU nodes (no DCGM metrics in this mode)')['changed'] is True
    assert watch.writes() == {'arm': [], 'kubernetes': []}


def test_a_gpu_node_that_advertises_no_gpu_fails_naming_the_node(k8s_env, nodes):
    node = nodes.add('silent', pool_labels('gpunp', A100))
    run = converge(k8s_env, nodes, gpu_operator_mode='none', gpu_operator_wait_timeout=2)
    assert run.rc != 0
    assert run.result("Look at the GPUs of the GPU nodes")['attempts'] == 2, 'one look per gpu_operator_progress_interval'
    message = run.result('The GPUs are ready')['msg']
    assert message.startswith('GPU nodes advertise no GPU after 2 s (gpu_operator_wait_timeout): %s; mode none' % node)


def test_a_cluster_without_gpu_nodes_passes_and_says_so(k8s_env, nodes):
    nodes.add('cpu', pool_labels('system', 'Standard_D4ds_v5'))
    run = converge(k8s_env, nodes)
    assert run.rc == 0, run.failures
    assert run.result('Say which mode and why')['msg'].startswith('GPUs: none (no AKS node pools were given and no node looks like a GPU node')
    assert run.result('Report the GPUs')['msg'] == 'No GPU nodes: nothing to advertise (a CPU-only cluster)'


@pytest.mark.parametrize('variables, names', [
    pytest.param({'gpu_operator_mode': 'operator'}, ('gpu_operator_mode', 'operator', 'aks_managed'), id='unknown-mode'),
    pytest.param({'gpu_operator_mode': 'device_plugin', 'gpu_operator_time_slicing': {'replicas': 0}},
                 ('gpu_operator_time_slicing.replicas must be a whole number of 1 or more, got 0',), id='time-slicing-replicas-0'),
    pytest.param({'gpu_operator_dra': True}, ('gpu_operator_dra needs the resource.k8s.io API',), id='dra-not-served'),
    pytest.param({'gpu_operator_mode': 'aks_managed', 'gpu_operator_time_slicing': {'replicas': 2}},
                 ('gpu_operator_time_slicing needs a device plugin the role installs',), id='time-slicing-without-plugin'),
])
def test_input_that_cannot_work_is_refused_before_writing(bed, variables, names):
    run = uuid.uuid4().hex[:8]
    role_refused_before_writing(bed, 'gpu_operator_role.yml', dict({'gpu_operator_node_selector': '%s=%s' % (RUN_LABEL, run),
                                                                    'gpu_operator_namespace': 'gpu-' + run}, **variables), names)


@pytest.mark.parametrize('variables, names', [
    pytest.param({'gpu_operator_driver': False},
                 ('pools gpunone have no GPU driver (gpuProfile.driver None) and gpu_operator_driver is false',), id='no-driver-owner'),
    pytest.param({'gpu_operator_mode': 'aks_managed'},
                 ('gpu_operator_mode aks_managed leaves pools gpunone without a device plugin',), id='managed-mode-on-unmanaged-pool'),
    pytest.param({'gpu_operator_mode': 'gpu_operator', 'gpu_operator_mig_strategy': 'mixed'},
                 ('gpu_operator_mig_strategy mixed needs a GPU pool with a MIG profile (gpuInstanceProfile); none of gpunone has one',),
                 id='mixed-without-mig-pool'),
])
def test_a_plan_the_aks_pools_cannot_carry_is_refused_naming_the_pool(bed, arm, azure_env, variables, names):
    """The pools are read from the ARM emulator: a GPU pool created with gpu_driver None (autoscaled from 0, so it has no
    Nodes that other tests of this bed would see)."""
    rg, cluster = 'rg-gpu-plan', 'aks-gpu-plan'
    assert not call_module('azure_resource_group', {'name': rg, 'location': 'westeurope'}, env=azure_env).get('failed')
    made = call_module('aks_cluster', {'name': cluster, 'resource_group': rg, 'location': 'westeurope', 'timeout': 120,
                                       'system_pool': {'vm_size': 'Standard_D2s_v3', 'count': 1}}, env=bed.env())
    assert not made.get('failed'), made.get('msg')
    pool = call_module('aks_nodepool', {'name': 'gpunone', 'cluster': cluster, 'resource_group': rg, 'vm_size': A100, 'gpu_driver': 'None',
                                        'enable_auto_scaling': True, 'min_count': 0, 'max_count': 1, 'timeout': 120}, env=bed.env())
    assert not pool.get('failed'), pool.get('msg')
    run = uuid.uuid4().hex[:8]
    role_refused_before_writing(bed, 'gpu_operator_role.yml', dict({
        'gpu_operator_aks': True, 'gpu_operator_cluster': cluster, 'gpu_operator_resource_group': rg,
        'gpu_operator_node_selector': '%s=%s' % (RUN_LABEL, run), 'gpu_operator_namespace': 'gpu-' + run}, **variables), names)


def test_the_operators_driver_on_a_pool_where_aks_installs_one_is_refused_naming_the_pool(bed, arm, azure_env):
    """A GPU pool with the AKS driver (gpuProfile.driver Install, the default) from the ARM emulator, and
    gpu_operator_driver true: two drivers on one node, refused before anything is written."""
    rg, cluster = 'rg-gpu-two-drivers', 'aks-gpu-two-drivers'
    assert not call_module('azure_resource_group', {'name': rg, 'location': 'westeurope'}, env=azure_env).get('failed')
    made = call_module('aks_cluster', {'name': cluster, 'resource_group': rg, 'location': 'westeurope', 'timeout': 120,
                                       'system_pool': {'vm_size': 'Standard_D2s_v3', 'count': 1}}, env=bed.env())
    assert not made.get('failed'), made.get('msg')
    pool = call_module('aks_nodepool', {'name': 'gpuaks', 'cluster': cluster, 'resource_group': rg, 'vm_size': A100,
                                        'enable_auto_scaling': True, 'min_count': 0, 'max_count': 1, 'timeout': 120}, env=bed.env())
    assert not pool.get('failed'), pool.get('msg')
    run = uuid.uuid4().hex[:8]
    role_refused_before_writing(bed, 'gpu_operator_role.yml', {
        'gpu_operator_aks': True, 'gpu_operator_cluster': cluster, 'gpu_operator_resource_group': rg, 'gpu_operator_driver': True,
        'gpu_operator_mode': 'gpu_operator', 'gpu_operator_node_selector': '%s=%s' % (RUN_LABEL, run), 'gpu_operator_namespace': 'gpu-' + run},
        ('the operator would install a second GPU driver on pools gpuaks, where AKS installs it', 'gpu_operator_driver'))


@pytest.mark.parametrize('state, looks, message', [
    ('drain-required', 2, 'GPU driver upgrades still under way after 2 s (gpu_operator_wait_timeout): {node} in drain-required'),
    ('upgrade-failed', 1, 'The GPU driver upgrade failed on {node} (label nvidia.com/gpu-driver-upgrade-state: upgrade-failed)'),
])
def test_driver_upgrades_are_waited_for_and_a_failed_one_is_named(k8s_env, nodes, state, looks, message):
    """The GPU Operator's upgrade controller is played by the test (a stand-in): it labels the node with an upgrade state."""
    node = nodes.add('upgrading', pool_labels('gpunp', A100, **{'nvidia.com/gpu-driver-upgrade-state': state}), gpus={'nvidia.com/gpu': '1'})
    run = converge(k8s_env, nodes, gpu_operator_mode='none', gpu_operator_wait_timeout=2)
    assert run.rc != 0
    assert run.result('Look at the GPUs of the GPU nodes')['attempts'] == looks, 'a failed upgrade ends the wait at once'
    assert run.result('The GPUs are ready')['msg'].startswith(message.format(node=node))
