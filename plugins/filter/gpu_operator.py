# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the gpu_operator role advertises GPUs: the mode, who owns each pool's driver, the MIG strategy and what cannot
work together (gpu_operator_plan), the NVIDIA GPU Operator chart's values for that plan (gpu_operator_values), the device
plugin's time-slicing configuration (gpu_time_slicing_config); then whether the GPUs are there (gpu_operator_readiness),
and the validation Jobs and their verdict (gpu_validation_jobs, gpu_validation_verdict). Documented in the .yml file of each."""

from __future__ import annotations

import copy

import yaml
from ansible.errors import AnsibleFilterError
from ansible.utils.vars import merge_hash

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import is_gpu_size
from ansible_collections.aiplatform.aks.plugins.module_utils.gpu import validation

MODES = ('auto', 'aks_managed', 'gpu_operator', 'device_plugin', 'none')
MIG_STRATEGIES = ('auto', 'none', 'single', 'mixed')
# The runtime class NVIDIA documents for AKS nodes whose driver and container toolkit AKS installed.
AKS_RUNTIME_CLASS = 'nvidia-container-runtime'
TIME_SLICING_CONFIG = 'time-slicing-config'
TIME_SLICING_KEY = 'any'
# The DeviceClass the NVIDIA DRA driver for GPUs makes; pods' ResourceClaims name it.
DRA_DEVICE_CLASS = 'gpu.nvidia.com'


def _driver(pool):
    return ((pool.get('gpuProfile') or {}).get('driver')) or 'Install'


def _managed(pool):
    return (((pool.get('gpuProfile') or {}).get('nvidia') or {}).get('managementMode')) == 'Managed'


def _names(pools):
    return ', '.join(p['name'] for p in pools)


def _toleration(taint):
    """The toleration of an AKS taint string, key=value:Effect or key:Effect."""
    key_value, _sep, effect = taint.rpartition(':')
    key, sep, value = key_value.partition('=')
    if sep:
        return {'key': key, 'operator': 'Equal', 'value': value, 'effect': effect}
    return {'key': key, 'operator': 'Exists', 'effect': effect}


def _tolerations(pools):
    found = []
    for pool in pools:
        for toleration in (_toleration(t) for t in pool.get('nodeTaints') or []):
            if toleration not in found:
                found.append(toleration)
    return found


def _input_problems(mode, mig_strategy, operator_driver, time_slicing):
    problems = []
    if mode not in MODES:
        problems.append('gpu_operator_mode must be one of %s, got %r' % (', '.join(MODES), mode))
    if mig_strategy not in MIG_STRATEGIES:
        problems.append('gpu_operator_mig_strategy must be one of %s, got %r' % (', '.join(MIG_STRATEGIES), mig_strategy))
    if operator_driver not in ('auto', True, False):
        problems.append('gpu_operator_driver must be auto, true or false, got %r' % (operator_driver,))
    if time_slicing:
        replicas = time_slicing.get('replicas')
        if isinstance(replicas, str) and replicas.isdigit():
            replicas = time_slicing['replicas'] = int(replicas)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
            problems.append('gpu_operator_time_slicing.replicas must be a whole number of 1 or more, got %r' % (replicas,))
        unknown = sorted(set(time_slicing) - {'replicas', 'rename_by_default'})
        if unknown:
            problems.append('gpu_operator_time_slicing has unknown keys %s (known: replicas, rename_by_default)' % ', '.join(unknown))
    return problems


def _choose(mode, pools, gpu, managed, gpu_nodes):
    """(mode, why) for `auto`; the chosen mode with the reason otherwise."""
    if mode != 'auto':
        return mode, 'gpu_operator_mode is %s' % mode
    if pools is None and gpu_nodes == 0:
        return 'none', 'no AKS node pools were given and no node looks like a GPU node: nothing to advertise, the role only reports'
    if pools is None:
        return 'gpu_operator', 'no AKS node pools were given (kind or bring-your-own nodes): the GPU Operator advertises the GPUs'
    if not gpu:
        return 'none', 'no node pool has a GPU VM size: nothing to advertise, the role only reports'
    if len(managed) == len(gpu):
        return 'aks_managed', ('every GPU pool (%s) has the AKS managed GPU experience (gpuProfile.nvidia.managementMode Managed): '
                               'AKS runs the driver, device plugin and DCGM exporter' % _names(gpu))
    return 'gpu_operator', 'GPU pools %s do not have the AKS managed GPU experience: the GPU Operator advertises their GPUs' % _names(gpu)


def gpu_operator_plan(pools, mode='auto', mig_strategy='auto', operator_driver='auto', time_slicing=None, dra=False, dra_served=True,
                      gpu_nodes=None):
    """The plan for `pools` (AKS agent pools as aks_cluster_info returns them; None where there are none, as on kind; then
    `gpu_nodes`, the number of nodes that look like GPU nodes, decides between the operator and nothing):
    mode, why, whether the operator installs the driver, the MIG strategy, the GPU pools, and problems (sentences naming
    the variable or pool; empty when the plan can be carried out)."""
    time_slicing = dict(time_slicing or {})  # a copy: replicas given as text is read as a number
    problems = _input_problems(mode, mig_strategy, operator_driver, time_slicing)
    if problems:
        return {'mode': mode, 'why': '', 'problems': problems, 'install': False, 'operator_driver': False,
                'mig_strategy': 'none', 'gpu_pools': [], 'dra': bool(dra), 'time_slicing': time_slicing or {}, 'tolerations': []}
    gpu = [p for p in pools or [] if is_gpu_size(p.get('vmSize'))]
    managed = [p for p in gpu if _managed(p)]
    unmanaged = [p for p in gpu if not _managed(p)]
    no_driver = [p for p in unmanaged if _driver(p) == 'None']
    aks_driver = [p for p in unmanaged if _driver(p) != 'None']
    chosen, why = _choose(mode, pools, gpu, managed, gpu_nodes)

    driver = False
    if chosen == 'gpu_operator':
        driver = (pools is None or bool(no_driver)) if operator_driver == 'auto' else operator_driver
        if managed:
            problems.append('gpu_operator_mode gpu_operator would run a second device plugin and DCGM exporter on pools with the AKS '
                            'managed GPU experience (%s); use aks_managed, or pools without it' % _names(managed))
        if driver and aks_driver:
            problems.append('the operator would install a second GPU driver on pools %s, where AKS installs it (gpuProfile.driver '
                            'Install); set gpu_operator_driver: false, or create those pools with gpu_driver: None' % _names(aks_driver))
        if not driver and no_driver:
            problems.append('pools %s have no GPU driver (gpuProfile.driver None) and gpu_operator_driver is false: nothing would '
                            'install one; set gpu_operator_driver: true (or auto)' % _names(no_driver))
    elif chosen == 'aks_managed' and unmanaged:
        problems.append('gpu_operator_mode aks_managed leaves pools %s without a device plugin: they do not have the AKS managed GPU '
                        'experience (gpuProfile.nvidia.managementMode Managed)' % _names(unmanaged))
    elif chosen == 'device_plugin' and no_driver:
        problems.append('gpu_operator_mode device_plugin installs no driver, and pools %s have none (gpuProfile.driver None); use '
                        'gpu_operator' % _names(no_driver))

    mig_pools = [p for p in gpu if p.get('gpuInstanceProfile')]
    strategy = mig_strategy
    if strategy == 'auto':
        strategy = 'single' if mig_pools else 'none'
    elif strategy == 'mixed' and pools is not None and not mig_pools:
        problems.append('gpu_operator_mig_strategy mixed needs a GPU pool with a MIG profile (gpuInstanceProfile); none of %s has one'
                        % (_names(gpu) or 'the pools'))

    if dra:
        if not dra_served:
            problems.append('gpu_operator_dra needs the resource.k8s.io API (Kubernetes 1.34 serves resource.k8s.io/v1), which this '
                            'apiserver does not serve')
        if chosen != 'gpu_operator':
            problems.append('gpu_operator_dra needs gpu_operator_mode gpu_operator (the device plugin must be off on DRA nodes), '
                            'not %s' % chosen)
        elif aks_driver:
            problems.append('gpu_operator_dra needs pools whose driver the operator installs (gpuProfile.driver None); %s have the '
                            'AKS driver' % _names(aks_driver))
        if time_slicing:
            problems.append('gpu_operator_time_slicing configures the device plugin, which does not run on DRA nodes '
                            '(gpu_operator_dra); share GPUs through the DRA driver instead')
    if time_slicing and chosen in ('aks_managed', 'none'):
        problems.append('gpu_operator_time_slicing needs a device plugin the role installs; with gpu_operator_mode %s it installs none'
                        % chosen)
    return {'mode': chosen, 'why': why, 'problems': problems, 'install': chosen in ('gpu_operator', 'device_plugin'),
            'operator_driver': bool(driver), 'mig_strategy': strategy, 'gpu_pools': [p['name'] for p in gpu], 'dra': bool(dra),
            'time_slicing': time_slicing or {}, 'tolerations': _tolerations(gpu)}


def time_slicing_config(time_slicing, mig_strategy='none'):
    """The device plugin's configuration text for time-slicing: each GPU advertised `replicas` times."""
    # plain types: YAML cannot represent the tagged values Ansible hands to filters
    sharing = {'resources': [{'name': 'nvidia.com/gpu', 'replicas': int(time_slicing['replicas'])}]}
    if time_slicing.get('rename_by_default'):
        sharing['renameByDefault'] = True
    config = {'version': 'v1', 'flags': {'migStrategy': str(mig_strategy)}, 'sharing': {'timeSlicing': sharing}}
    return yaml.safe_dump(config, default_flow_style=False, sort_keys=False)


def gpu_operator_values(plan, base=None, tolerations=None, service_monitor=False, overrides=None):
    """The GPU Operator chart's values for `plan`: `base` (the role's values file), then what the plan decides (the GPU
    pools' taints tolerated, and `tolerations` besides), then `overrides` merged in last, key by key."""
    if not isinstance(plan, dict) or 'operator_driver' not in plan:
        raise AnsibleFilterError('gpu_operator_values: the input must be a plan from gpu_operator_plan, got %r' % (plan,))
    driver = plan['operator_driver']
    values = copy.deepcopy(base or {})
    computed = {
        'driver': {'enabled': driver},
        'toolkit': {'enabled': driver},
        'devicePlugin': {'enabled': not plan['dra']},
        'mig': {'strategy': plan['mig_strategy'] if plan['mig_strategy'] != 'none' else 'single'},
        'dcgmExporter': {'enabled': True, 'serviceMonitor': {'enabled': bool(service_monitor)}},
    }
    if not driver:
        computed['operator'] = {'runtimeClass': AKS_RUNTIME_CLASS}
    extra = list(plan.get('tolerations') or []) + list(tolerations or [])
    if extra:
        # the chart's own toleration of nvidia.com/gpu stays; the pools' taints are added to it
        merged = list((values.get('daemonsets') or {}).get('tolerations') or [{'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}])
        for toleration in extra:
            if toleration not in merged:
                merged.append(toleration)
        computed['daemonsets'] = {'tolerations': merged}
    if plan['time_slicing']:
        computed['devicePlugin']['config'] = {
            'create': True, 'name': TIME_SLICING_CONFIG, 'default': TIME_SLICING_KEY,
            'data': {TIME_SLICING_KEY: time_slicing_config(plan['time_slicing'], plan['mig_strategy'])}}
    values = merge_hash(values, computed)
    return merge_hash(values, copy.deepcopy(overrides or {}))


def _gpu_info(info, name):
    if not isinstance(info, dict) or 'summary' not in info or 'nodes' not in info:
        raise AnsibleFilterError('%s: the input must be what gpu_info returns, got %r' % (name, info))
    return info


def gpu_operator_readiness(info, plan, timeout):
    """Whether the wait for the GPUs is over (`settled`: every GPU node advertises GPUs, no driver upgrade runs and,
    with DRA, the DeviceClass gpu.nvidia.com exists; or a driver upgrade failed, which no wait mends) and what is
    still wrong (`problems`, sentences naming the nodes), from one gpu_info look."""
    summary = _gpu_info(info, 'gpu_operator_readiness')['summary']
    problems = []
    failed = summary['driver_upgrades_failed']
    if failed:
        problems.append('The GPU driver upgrade failed on %s (label nvidia.com/gpu-driver-upgrade-state: upgrade-failed); the operator '
                        'leaves these nodes for you to look at' % ', '.join(failed))
    upgrading = summary['driver_upgrades_in_progress']
    if upgrading:
        problems.append('GPU driver upgrades still under way after %s s (gpu_operator_wait_timeout): %s' % (
            timeout, ', '.join('%s in %s' % item for item in sorted(upgrading.items()))))
    without = summary['gpu_nodes_without_gpus']
    if without:
        problems.append('GPU nodes advertise no GPU after %s s (gpu_operator_wait_timeout): %s; mode %s, GPU Operator state %s' % (
            timeout, ', '.join(without), plan['mode'], (info.get('cluster_policy') or {}).get('state') or 'none'))
    dra = info.get('dra') or {}
    if plan.get('dra') and dra.get('served'):
        classes = [c['name'] for c in dra.get('device_classes') or []]
        if DRA_DEVICE_CLASS not in classes:
            problems.append('the NVIDIA DRA driver has not made the DeviceClass %s after %s s (gpu_operator_wait_timeout), so no pod can '
                            'ask for a GPU through DRA; DeviceClasses: %s' % (DRA_DEVICE_CLASS, timeout, ', '.join(classes) or 'none'))
    return {'settled': bool(failed) or not problems, 'problems': problems}


def gpu_validation_jobs(info, plan, namespace, run, level='quick', images=None, tolerations=None, timeout=600, ttl=3600):
    """The validation Jobs for the GPU nodes of `info` (gpu_info's output): one per node, with the pool's node selector,
    the GPU taints tolerated (nvidia.com/gpu, the GPU pools' taints from `plan`, and `tolerations`) and a GPU request;
    `dcgmi diag` too where DCGM runs (the GPU Operator, AKS managed GPUs). Returns jobs,
    skipped ({node: why it is not validated}) and problems (sentences naming the variable)."""
    _gpu_info(info, 'gpu_validation_jobs')
    problems = validation.validation_problems(run, level, timeout, ttl, images)
    if problems:
        return {'jobs': [], 'skipped': {}, 'problems': problems}
    # plain types: the objects go to the API, which cannot read Ansible's tagged values
    merged = [validation.GPU_TOLERATION]
    for toleration in list(plan.get('tolerations') or []) + list(tolerations or []):
        toleration = dict((str(k), str(v)) for k, v in toleration.items())
        if toleration not in merged:
            merged.append(toleration)
    # the modes that run DCGM on every GPU node; a DCGM exporter found elsewhere says nothing about a given node
    dcgm = plan['mode'] in ('gpu_operator', 'aks_managed')
    chosen, skipped = validation.nodes_to_validate(info['nodes'])
    jobs = [validation.render_job(node, str(run), str(namespace), str(level), dict((str(k), str(v)) for k, v in images.items()), dcgm,
                                  merged, int(timeout), int(ttl)) for node in chosen]
    return {'jobs': jobs, 'skipped': skipped, 'problems': []}


def _check_line(check):
    first = next((line.strip() for line in (check['message'] or '').splitlines() if line.strip()), '')
    return '%s %s%s' % (check['name'], check['state'], (': ' + first) if check['state'] == 'passed' and first else '')


def gpu_validation_verdict(info, timeout):
    """From one gpu_info look with its validation option: whether every validation Job has finished (`settled`), the
    nodes that did not pass (`problems`, one sentence naming them and why), and a `report` line per validated node."""
    summary = _gpu_info(info, 'gpu_validation_verdict')['summary']
    problems = []
    if summary['validation_failed']:
        problems.append('GPU validation failed on %s' % '; '.join('%s (%s)' % item for item in summary['validation_failed'].items()))
    if summary['validation_unfinished']:
        problems.append('GPU validation did not finish within %s s (gpu_operator_validate_timeout) on %s' % (
            timeout, '; '.join('%s (%s)' % item for item in summary['validation_unfinished'].items())))
    report = ['%s: %s%s' % (node['name'], node['validation']['state'],
                            (' (%s)' % ', '.join(_check_line(c) for c in node['validation']['checks'])) if node['validation']['checks'] else '')
              for node in info['nodes'] if node.get('validation')]
    return {'settled': not summary['validation_unfinished'], 'problems': problems, 'report': report}


class FilterModule(object):

    def filters(self):
        return {'gpu_operator_plan': gpu_operator_plan, 'gpu_operator_values': gpu_operator_values,
                'gpu_time_slicing_config': time_slicing_config, 'gpu_operator_readiness': gpu_operator_readiness,
                'gpu_validation_jobs': gpu_validation_jobs, 'gpu_validation_verdict': gpu_validation_verdict}
