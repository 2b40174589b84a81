"""The AKS roles and modules against the ARM emulator and the real apiserver: the roles through real ansible-playbook
runs, bad module input as module calls in process. Blue/green replacement and teardown are in test_nodepools_role_blue_green.py."""

import json
import os
import signal
import stat
import subprocess
import time

import kubernetes
import pytest
import yaml
from kubernetes.dynamic import DynamicClient

from tests.integration.aks import AI_POOL, CLUSTER, CPU_POOL, POOL_READ_ONLY, RG, cluster_id, create_platform, nodes, pool_doc, writes
from tests.integration.conftest import OPERATION_SECONDS
from tests.integration.module_call import call_module
from tests.integration.playbook import ANSIBLE_PLAYBOOK, PLAYBOOKS, REPO_ROOT, run_playbook

pytestmark = pytest.mark.integration


@pytest.fixture(scope='module')
def platform(bed, tmp_path_factory):
    return create_platform(bed, tmp_path_factory)


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
    started = run.result('Start the node pool operations')['results'][0]
    assert started['changed'] is True and started['differences'] == ['properties.maxCount']
    assert started['diff']['before']['properties']['maxCount'] == 3 and started['diff']['after']['properties']['maxCount'] == 5
    assert run.result('Wait for the node pools')['results'][0]['skipped'] is True, 'check mode starts nothing, so waits for nothing'
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


def test_raising_min_count_above_the_count_is_one_write_that_succeeds(bed, platform):
    base = {'name': 'scalenp', 'cluster': CLUSTER, 'resource_group': RG, 'vm_size': 'Standard_D4s_v5', 'enable_auto_scaling': True,
            'max_count': 3, 'timeout': 120}
    made = call_module('aks_nodepool', dict(base, min_count=0), env=bed.env())
    assert not made.get('failed') and made['pool']['properties']['count'] == 0, made.get('msg')
    bed.emulator.clear_requests()
    raised = call_module('aks_nodepool', dict(base, min_count=2), env=bed.env())
    assert not raised.get('failed'), raised.get('msg')
    (put,) = writes(bed.emulator)
    assert (put['body']['properties']['minCount'], put['body']['properties']['count']) == (2, 2), 'a count AKS accepts'
    assert raised['pool']['properties']['count'] == 2
    assert not call_module('aks_nodepool', dict(base, state='absent'), env=bed.env()).get('failed')


def test_a_tag_only_change_is_one_patch(bed, platform):
    bed.emulator.clear_requests()
    tagged = call_module('aks_cluster', {'name': CLUSTER, 'resource_group': RG, 'tags': {'cost-center': 'ai'}, 'timeout': 120},
                         env=bed.env())
    assert not tagged.get('failed') and tagged['changed'] is True and tagged['differences'] == ['tags.cost-center'], tagged.get('msg')
    sent = [(r['method'], r['path'].split('?')[0].rsplit('/', 1)[-1]) for r in bed.emulator.requests
            if r['method'] in ('PUT', 'PATCH', 'DELETE')]
    assert sent == [('PATCH', CLUSTER)], 'no full-body PUT (which would start an update of the cluster)'
    assert bed.emulator.get_resource(cluster_id(bed.emulator.subscription_id))['tags']['cost-center'] == 'ai'
    assert tagged['cluster']['tags']['cost-center'] == 'ai'


def test_a_current_kubeconfig_that_others_can_read_gets_mode_0600(bed, platform, tmp_path):
    args = {'name': CLUSTER, 'resource_group': RG, 'path': str(tmp_path / 'kubeconfig')}
    assert call_module('aks_credentials', args, env=bed.env())['changed'] is True
    os.chmod(args['path'], 0o644)
    planned = call_module('aks_credentials', args, env=bed.env(), check=True)
    assert planned['changed'] is True and stat.S_IMODE(os.stat(args['path']).st_mode) == 0o644, 'check mode changes nothing'
    fixed = call_module('aks_credentials', args, env=bed.env())
    assert fixed['changed'] is True and stat.S_IMODE(os.stat(args['path']).st_mode) == 0o600
    assert call_module('aks_credentials', args, env=bed.env())['changed'] is False


def test_immutable_change_fails_before_any_write(bed, platform):
    bed.emulator.clear_requests()
    pools = [dict(AI_POOL, vm_size='Standard_NC24ads_A100_v4'), CPU_POOL]
    run = run_playbook('aks_platform.yml', dict(platform['vars'], nodepools_list=pools), env=bed.env())
    assert run.rc != 0
    message = run.result('Check every node pool before writing any')['results'][0]['msg']
    assert "properties.vmSize is 'Standard_D16s_v5', requested 'Standard_NC24ads_A100_v4'" in message
    assert writes(bed.emulator) == []


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
    proc = subprocess.Popen([str(ANSIBLE_PLAYBOOK), str(PLAYBOOKS / 'aks_platform.yml'), '-e', json.dumps(variables)],
                            cwd=REPO_ROOT, env=dict(os.environ, **bed.env()), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        # a change of tags alone is the tags-only PATCH (its operation runs as long as a PUT's)
        while not any(r['path'].endswith('/managedClusters/' + CLUSTER) for r in writes(bed.emulator, 'PATCH')):
            assert time.monotonic() < deadline and proc.poll() is None, 'the cluster write never came'
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
    assert pools == ['cpunp', 'gpunp', 'system']
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
    assert sorted(p['name'] for p in info['pools']) == ['cpunp', 'gpunp', 'system']


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


def files_holding(secret, *directories):
    """Files under `directories` whose content holds `secret`."""
    found = []
    for directory in directories:
        for root, _dirs, names in os.walk(directory):
            for name in names:
                try:
                    with open(os.path.join(root, name), 'rb') as handle:
                        if secret.encode() in handle.read():
                            found.append(os.path.join(root, name))
                except OSError:
                    pass  # removed while we looked
    return found


def test_no_file_holds_a_secret_given_as_module_option_while_the_pools_change(bed, platform, tmp_path):
    """Ansible writes the arguments of an async task into a file for as long as the job runs: the role must not."""
    emu = bed.emulator
    temp = dict((name, tmp_path / name) for name in ('local', 'remote', 'async'))
    env = dict(os.environ, **bed.env())
    for name in ('AZURE_CLIENT_ID', 'AZURE_SECRET', 'AZURE_TENANT'):
        env.pop(name)  # the module options are the only credential
    env.update(ITEST_CLIENT_ID=emu.client_id, ITEST_CLIENT_SECRET=emu.client_secret, ITEST_TENANT_ID=emu.tenant_id,
               ANSIBLE_LOCAL_TEMP=str(temp['local']), ANSIBLE_REMOTE_TMP=str(temp['remote']), ANSIBLE_ASYNC_DIR=str(temp['async']))
    pools = [dict(AI_POOL, max_count=4), dict(CPU_POOL, count=3)]
    emu.engine.settings(operation_seconds=3)
    proc = subprocess.Popen([str(ANSIBLE_PLAYBOOK), str(PLAYBOOKS / 'nodepools_with_credential_options.yml'),
                             '-e', json.dumps({'nodepools_list': pools, 'nodepools_timeout': 300})],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    leaks, looks_while_busy = [], 0
    try:
        while proc.poll() is None:
            busy = [name for name in ('gpunp', 'cpunp') if pool_doc(emu, name)['properties']['provisioningState'] == 'Updating']
            leaks.extend(files_holding(emu.client_secret, *temp.values()))
            looks_while_busy += bool(busy)
            time.sleep(0.1)
        output = proc.stdout.read()
    finally:
        emu.engine.settings(operation_seconds=OPERATION_SECONDS)
    assert proc.returncode == 0, output[-3000:]
    assert looks_while_busy >= 5, 'the files were looked at while the pool operations ran'
    assert leaks == []
    assert files_holding(emu.client_secret, *temp.values()) == [] and not any(temp['async'].glob('*')), 'no job file is left'
    assert pool_doc(emu, 'gpunp')['properties']['maxCount'] == 4 and pool_doc(emu, 'cpunp')['properties']['count'] == 3
