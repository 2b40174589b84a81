"""gpu_operator_plan and gpu_operator_values: the mode per pool set, driver ownership, MIG, DRA and time-slicing rules,
and the chart values of every mode checked key by key against the GPU Operator chart's own values (v26.7.0); then the
readiness of the GPUs, the validation Jobs and their verdict."""

from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.filter.gpu_operator import gpu_operator_plan as plan
from ansible_collections.aiplatform.aks.plugins.filter.gpu_operator import gpu_operator_readiness as readiness
from ansible_collections.aiplatform.aks.plugins.filter.gpu_operator import gpu_operator_values as values
from ansible_collections.aiplatform.aks.plugins.filter.gpu_operator import gpu_validation_jobs as jobs
from ansible_collections.aiplatform.aks.plugins.filter.gpu_operator import gpu_validation_verdict as verdict_of

from tests.unit.chart_values import unknown_keys

ROOT = Path(__file__).resolve().parents[4]
CHART_VALUES = yaml.safe_load((ROOT / 'tests' / 'charts' / 'gpu-operator' / 'values-v26.7.0.yaml').read_text())
ROLE_VALUES = yaml.safe_load((ROOT / 'roles' / 'gpu_operator' / 'files' / 'gpu-operator-values.yml').read_text())
# maps whose keys are the user's (labels, ConfigMap data), so the chart's defaults cannot list them
FREE_FORM = {('devicePlugin', 'config', 'data'), ('daemonsets', 'labels'), ('daemonsets', 'annotations'),
             ('dcgmExporter', 'serviceMonitor', 'additionalLabels')}

SYSTEM = {'name': 'system', 'vmSize': 'Standard_D4ds_v5', 'mode': 'System'}


def gpu(name='gpunp', driver=None, managed=False, mig=None, size='Standard_NC24ads_A100_v4'):
    pool = {'name': name, 'vmSize': size, 'mode': 'User'}
    if driver or managed:
        pool['gpuProfile'] = dict({'driver': driver} if driver else {}, **({'nvidia': {'managementMode': 'Managed'}} if managed else {}))
    if mig:
        pool['gpuInstanceProfile'] = mig
    return pool


@pytest.mark.parametrize('pools, mode, why', [
    (None, 'gpu_operator', 'no AKS node pools'),
    ([SYSTEM], 'none', 'no node pool has a GPU VM size'),
    ([SYSTEM, gpu(managed=True)], 'aks_managed', 'every GPU pool (gpunp) has the AKS managed GPU experience'),
    ([SYSTEM, gpu()], 'gpu_operator', 'GPU pools gpunp do not have the AKS managed GPU experience'),
    ([SYSTEM, gpu(driver='None')], 'gpu_operator', 'GPU pools gpunp'),
])
def test_auto_picks_the_mode_from_the_pools_and_says_why(pools, mode, why):
    chosen = plan(pools)
    assert chosen['mode'] == mode and why in chosen['why'] and chosen['problems'] == []


def test_without_aks_pools_the_gpu_nodes_decide():
    assert plan(None, gpu_nodes=2)['mode'] == 'gpu_operator'
    cpu_only = plan(None, gpu_nodes=0)
    assert cpu_only['mode'] == 'none' and 'no node looks like a GPU node' in cpu_only['why'] and cpu_only['install'] is False


def test_exactly_one_owner_of_the_driver_per_pool():
    assert plan([SYSTEM, gpu()])['operator_driver'] is False, 'AKS installs the driver (gpuProfile.driver Install, the default)'
    assert plan([SYSTEM, gpu(driver='None')])['operator_driver'] is True
    assert plan(None)['operator_driver'] is True, 'bring-your-own nodes: the operator installs it'
    two = plan([SYSTEM, gpu()], operator_driver=True)['problems']
    assert two == ['the operator would install a second GPU driver on pools gpunp, where AKS installs it (gpuProfile.driver Install); '
                   'set gpu_operator_driver: false, or create those pools with gpu_driver: None']
    none = plan([SYSTEM, gpu(driver='None')], operator_driver=False)['problems']
    assert len(none) == 1 and none[0].startswith('pools gpunp have no GPU driver (gpuProfile.driver None) and gpu_operator_driver is false')
    mixed = plan([gpu('a100', driver='None'), gpu('t4', size='Standard_NC4as_T4_v3')])['problems']
    assert len(mixed) == 1 and 'second GPU driver on pools t4' in mixed[0]


def test_modes_that_leave_pools_without_what_they_need_are_refused_naming_the_pools():
    assert 'leaves pools gpunp without a device plugin' in plan([gpu()], mode='aks_managed')['problems'][0]
    assert 'second device plugin and DCGM exporter on pools with the AKS managed GPU experience (gpunp)' in \
        plan([gpu(managed=True)], mode='gpu_operator')['problems'][0]
    assert 'device_plugin installs no driver, and pools gpunp have none' in plan([gpu(driver='None')], mode='device_plugin')['problems'][0]
    assert plan([gpu()], mode='device_plugin')['problems'] == []


@pytest.mark.parametrize('kwargs, message', [
    ({'mode': 'operator'}, "gpu_operator_mode must be one of auto, aks_managed, gpu_operator, device_plugin, none, got 'operator'"),
    ({'mig_strategy': 'multi'}, "gpu_operator_mig_strategy must be one of auto, none, single, mixed, got 'multi'"),
    ({'operator_driver': 'yes please'}, "gpu_operator_driver must be auto, true or false, got 'yes please'"),
    ({'time_slicing': {'replicas': 0}}, 'gpu_operator_time_slicing.replicas must be a whole number of 1 or more, got 0'),
    ({'time_slicing': {'replicas': 'four'}}, "gpu_operator_time_slicing.replicas must be a whole number of 1 or more, got 'four'"),
    ({'time_slicing': {'replicas': 4, 'rename': True}}, 'gpu_operator_time_slicing has unknown keys rename'),
    ({'mig_strategy': 'mixed'}, 'gpu_operator_mig_strategy mixed needs a GPU pool with a MIG profile (gpuInstanceProfile); none of gpunp'),
    ({'dra': True, 'dra_served': False}, 'gpu_operator_dra needs the resource.k8s.io API'),
    ({'dra': True}, 'gpu_operator_dra needs pools whose driver the operator installs (gpuProfile.driver None); gpunp have the AKS driver'),
    ({'dra': True, 'mode': 'device_plugin'}, 'gpu_operator_dra needs gpu_operator_mode gpu_operator'),
    ({'time_slicing': {'replicas': 2}, 'mode': 'aks_managed'}, 'gpu_operator_time_slicing needs a device plugin the role installs'),
])
def test_bad_input_is_a_problem_naming_the_variable(kwargs, message):
    problems = plan([SYSTEM, gpu()], **kwargs)['problems']
    assert any(message in p for p in problems), problems


def test_mig_strategy_follows_the_pools_mig_profile():
    assert plan([gpu(mig='MIG1g')])['mig_strategy'] == 'single'
    assert plan([gpu()])['mig_strategy'] == 'none'
    assert plan([gpu(mig='MIG3g')], mig_strategy='mixed')['problems'] == []
    assert plan(None, mig_strategy='mixed')['problems'] == [], 'on kind the role cannot see MIG profiles'


def test_dra_with_the_operators_driver_turns_the_device_plugin_off():
    dra = plan([gpu(driver='None')], dra=True)
    assert dra['problems'] == []
    assert values(dra, ROLE_VALUES)['devicePlugin']['enabled'] is False


RENDERED = {
    'aks-driver': values(plan([SYSTEM, dict(gpu(), nodeTaints=['sku=gpu:NoSchedule', 'nvidia.com/gpu=true:NoSchedule'])]), ROLE_VALUES,
                         tolerations=[{'key': 'dedicated', 'operator': 'Exists', 'effect': 'NoExecute'}]),
    'operator-driver': values(plan([SYSTEM, gpu(driver='None')]), ROLE_VALUES),
    'kind': values(plan(None), ROLE_VALUES, service_monitor=True),
    'mig-mixed': values(plan([gpu(mig='MIG2g')], mig_strategy='mixed'), ROLE_VALUES),
    'time-slicing': values(plan([gpu()], time_slicing={'replicas': 4, 'rename_by_default': True}), ROLE_VALUES),
    'dra': values(plan([gpu(driver='None')], dra=True), ROLE_VALUES),
    'device-plugin': values(plan([gpu()], mode='device_plugin'), ROLE_VALUES),
}


@pytest.mark.parametrize('case', sorted(RENDERED))
def test_every_key_of_every_modes_values_is_a_key_of_the_chart(case):
    assert unknown_keys(RENDERED[case], CHART_VALUES, FREE_FORM) == []


def test_a_typo_is_caught_by_the_key_check():
    assert unknown_keys({'devicePlugin': {'enable': False}, 'dcgmExporter': {'serviceMonitor': {'enabeld': True}}}, CHART_VALUES, FREE_FORM) == [
        'devicePlugin.enable', 'dcgmExporter.serviceMonitor.enabeld']


def test_values_fit_aks_where_aks_owns_the_driver():
    aks = RENDERED['aks-driver']
    assert aks['driver']['enabled'] is False and aks['toolkit']['enabled'] is False
    assert aks['operator']['runtimeClass'] == 'nvidia-container-runtime'
    assert aks['daemonsets']['tolerations'] == [{'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'},
                                                {'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'},
                                                {'key': 'nvidia.com/gpu', 'operator': 'Equal', 'value': 'true', 'effect': 'NoSchedule'},
                                                {'key': 'dedicated', 'operator': 'Exists', 'effect': 'NoExecute'}]
    assert aks['dcgmExporter'] == dict(aks['dcgmExporter'], enabled=True) and aks['dcgmExporter']['serviceMonitor']['enabled'] is False
    own = RENDERED['operator-driver']
    assert own['driver']['enabled'] is True and own['toolkit']['enabled'] is True and 'runtimeClass' not in own.get('operator', {})
    # the operator's toolkit refuses NVIDIA_VISIBLE_DEVICES from a container without a GPU request (secure_accelerator_access)
    assert own['toolkit']['env'] == [{'name': 'ACCEPT_NVIDIA_VISIBLE_DEVICES_ENVVAR_WHEN_UNPRIVILEGED', 'value': 'false'}]
    assert RENDERED['kind']['dcgmExporter']['serviceMonitor']['enabled'] is True


def test_time_slicing_builds_the_device_plugin_config():
    config = RENDERED['time-slicing']['devicePlugin']['config']
    assert (config['create'], config['name'], config['default']) == (True, 'time-slicing-config', 'any')
    assert yaml.safe_load(config['data']['any']) == {
        'version': 'v1', 'flags': {'migStrategy': 'none'},
        'sharing': {'timeSlicing': {'resources': [{'name': 'nvidia.com/gpu', 'replicas': 4}], 'renameByDefault': True}}}
    assert RENDERED['mig-mixed']['mig']['strategy'] == 'mixed'


def test_overrides_win_and_inputs_are_not_changed():
    chosen = plan([gpu()])
    base = {'driver': {'enabled': True}}
    rendered = values(chosen, base, overrides={'driver': {'version': '595.91.07'}, 'devicePlugin': {'enabled': False}})
    assert rendered['driver'] == {'enabled': False, 'version': '595.91.07'} and rendered['devicePlugin']['enabled'] is False
    assert base == {'driver': {'enabled': True}}


def test_replicas_given_as_text_are_read_as_a_number_without_changing_the_input():
    given = {'replicas': '3'}
    assert plan([gpu()], time_slicing=given)['time_slicing'] == {'replicas': 3} and given == {'replicas': '3'}


def test_the_gpu_pools_taints_become_tolerations_once_each():
    pools = [dict(gpu('a'), nodeTaints=['sku=gpu:NoSchedule', 'dedicated:NoExecute']), dict(gpu('b'), nodeTaints=['sku=gpu:NoSchedule']),
             dict(SYSTEM, nodeTaints=['CriticalAddonsOnly=true:NoSchedule'])]
    assert plan(pools)['tolerations'] == [{'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'},
                                          {'key': 'dedicated', 'operator': 'Exists', 'effect': 'NoExecute'}]


# --- readiness, validation Jobs and their verdict ------------------------------------------------------------------

def gpu_info(nodes=(), without=(), upgrading=None, failed=(), device_classes=None, dcgm=(), policy=None, **summary):
    dra = {'served': device_classes is not None, 'device_classes': [{'name': n} for n in device_classes or []]}
    return {'nodes': list(nodes), 'dcgm_exporters': list(dcgm), 'cluster_policy': {'state': policy}, 'dra': dra,
            'summary': dict({'gpu_nodes_without_gpus': list(without), 'driver_upgrades_in_progress': upgrading or {},
                             'driver_upgrades_failed': list(failed), 'validation_passed': [], 'validation_failed': {},
                             'validation_unfinished': {}}, **summary)}


def test_ready_gpus_settle_the_wait_without_problems():
    assert readiness(gpu_info(), plan(None, 'device_plugin'), 900) == {'settled': True, 'problems': []}


def test_gpu_nodes_without_gpus_and_running_upgrades_keep_the_wait_going_and_are_named():
    verdict = readiness(gpu_info(without=['n1'], upgrading={'n2': 'drain-required'}, policy='notReady'), plan(None, 'gpu_operator'), 60)
    assert verdict['settled'] is False
    assert verdict['problems'] == ['GPU driver upgrades still under way after 60 s (gpu_operator_wait_timeout): n2 in drain-required',
                                   'GPU nodes advertise no GPU after 60 s (gpu_operator_wait_timeout): n1; mode gpu_operator, '
                                   'GPU Operator state notReady']


def test_a_failed_driver_upgrade_ends_the_wait_at_once():
    verdict = readiness(gpu_info(failed=['n3'], without=['n1']), plan(None, 'gpu_operator'), 60)
    assert verdict['settled'] is True and verdict['problems'][0].startswith('The GPU driver upgrade failed on n3')


def test_with_dra_the_wait_needs_the_drivers_device_class():
    chosen = dict(plan(None, 'gpu_operator'), dra=True)
    missing = readiness(gpu_info(device_classes=['compute-domain-default-channel.nvidia.com']), chosen, 900)
    assert missing['settled'] is False
    assert missing['problems'] == ['the NVIDIA DRA driver has not made the DeviceClass gpu.nvidia.com after 900 s (gpu_operator_wait_timeout), '
                                   'so no pod can ask for a GPU through DRA; DeviceClasses: compute-domain-default-channel.nvidia.com']
    assert readiness(gpu_info(device_classes=['gpu.nvidia.com']), chosen, 900) == {'settled': True, 'problems': []}


@pytest.mark.parametrize('given', [None, {'summary': {}}, 'text'])
def test_readiness_and_verdict_refuse_what_is_not_gpu_info(given):
    with pytest.raises(AnsibleFilterError, match='must be what gpu_info returns'):
        readiness(given, plan(None), 1)
    with pytest.raises(AnsibleFilterError, match='must be what gpu_info returns'):
        verdict_of(given, 1)


A100_NODE = {'name': 'aks-gpunp-0', 'pool': 'gpunp', 'gpu_node': True, 'unschedulable': False, 'dra_gpu_devices': 0,
             'gfd': {'count': 1, 'replicas': None}, 'resources': {'nvidia.com/gpu': {'capacity': 1, 'allocatable': 1, 'allocated': 0}}}
IMAGES = {'cuda': 'example.invalid/cuda:1', 'dcgm': 'example.invalid/dcgm:1'}


def test_validation_jobs_tolerate_the_gpu_taint_the_pools_taints_and_the_users_once_each():
    pools = [dict(gpu(), nodeTaints=['sku=gpu:NoSchedule'])]
    mine = [{'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'}, {'key': 'team', 'operator': 'Exists', 'effect': 'NoSchedule'}]
    rendered = jobs(gpu_info([A100_NODE]), plan(pools), 'gpu-operator', 'ab12', images=IMAGES, tolerations=mine)
    assert rendered['problems'] == [] and rendered['skipped'] == {} and len(rendered['jobs']) == 1
    assert rendered['jobs'][0]['spec']['template']['spec']['tolerations'] == [
        {'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'},
        {'key': 'sku', 'operator': 'Equal', 'value': 'gpu', 'effect': 'NoSchedule'}, {'key': 'team', 'operator': 'Exists', 'effect': 'NoSchedule'}]


@pytest.mark.parametrize('mode, dcgm, checks', [
    ('device_plugin', [], ['nvidia-smi', 'cuda-vectoradd']),
    # an exporter somewhere in the cluster says nothing about the node
    ('device_plugin', [{'name': 'nvidia-dcgm-exporter'}], ['nvidia-smi', 'cuda-vectoradd']),
    ('gpu_operator', [], ['nvidia-smi', 'cuda-vectoradd', 'dcgm-diag']),
    ('aks_managed', [], ['nvidia-smi', 'cuda-vectoradd', 'dcgm-diag']),
])
def test_dcgm_diag_runs_where_dcgm_runs(mode, dcgm, checks):
    pod = jobs(gpu_info([A100_NODE], dcgm=dcgm), plan(None, mode), 'ns', 'ab12', images=IMAGES)['jobs'][0]['spec']['template']['spec']
    assert [c['name'] for c in pod['initContainers'] + pod['containers']] == checks


def test_bad_validation_input_renders_no_job_and_names_the_variable():
    rendered = jobs(gpu_info([A100_NODE]), plan(None), 'ns', 'ab12', level='forever', images=IMAGES)
    assert rendered['jobs'] == [] and rendered['problems'] == ['gpu_operator_validate_level must be one of quick, burn_in, got \'forever\'']


def test_the_verdict_names_failed_and_unfinished_nodes_and_reports_each_check():
    passed = dict(A100_NODE, validation={'state': 'passed', 'checks': [
        {'name': 'nvidia-smi', 'state': 'passed', 'message': '0, NVIDIA A100 80GB PCIe, 570.172.08, 81920 MiB\n'},
        {'name': 'cuda-vectoradd', 'state': 'passed', 'message': None}]})
    failed = dict(A100_NODE, name='aks-gpunp-1', validation={'state': 'failed', 'checks': [{'name': 'nvidia-smi', 'state': 'failed', 'message': 'x'}]})
    info = gpu_info([passed, failed, dict(A100_NODE, name='cpu', validation=None)],
                    validation_failed={'aks-gpunp-1': 'nvidia-smi exited 9: no driver'}, validation_unfinished={'aks-gpunp-2': 'not scheduled yet'})
    verdict = verdict_of(info, 600)
    assert verdict['settled'] is False
    assert verdict['problems'] == ['GPU validation failed on aks-gpunp-1 (nvidia-smi exited 9: no driver)',
                                   'GPU validation did not finish within 600 s (gpu_operator_validate_timeout) on aks-gpunp-2 (not scheduled yet)']
    assert verdict['report'] == ['aks-gpunp-0: passed (nvidia-smi passed: 0, NVIDIA A100 80GB PCIe, 570.172.08, 81920 MiB, cuda-vectoradd passed)',
                                 'aks-gpunp-1: failed (nvidia-smi failed)']
