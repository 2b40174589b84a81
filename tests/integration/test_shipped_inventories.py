"""playbooks/aks.yml with each shipped AKS inventory, against the ARM emulator: a second run changes nothing, sends
no write and reads each resource once. (inventories/testbed is run whole by test_site.py.)"""

import collections

import pytest

from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration


@pytest.mark.parametrize('inventory', ['inventories/aks', 'inventories/aks-gpu'])
def test_a_second_run_of_aks_yml_writes_nothing_and_reads_each_resource_once(bed, tmp_path, inventory):
    bed.emulator.engine.reset()
    variables = {'aks_cluster_kubeconfig': str(tmp_path / 'kubeconfig')}
    first = run_playbook('playbooks/aks.yml', variables, env=bed.env(), inventory=inventory)
    assert first.rc == 0, first.failures
    bed.emulator.clear_requests()
    second = run_playbook('playbooks/aks.yml', variables, env=bed.env(), inventory=inventory)
    assert second.rc == 0, second.failures
    assert [name for name, r in second.tasks.items() if r.get('changed')] == []
    written = [(r['method'], r['path']) for r in bed.emulator.requests if r['method'] in ('PUT', 'PATCH', 'DELETE')]
    assert written == [], written
    reads = collections.Counter(r['path'].split('?')[0] for r in bed.emulator.requests
                                if r['method'] == 'GET' and r['path'].startswith('/subscriptions/'))
    assert reads and max(reads.values()) == 1, reads


@pytest.mark.parametrize('inventory', ['inventories/aks', 'inventories/aks-gpu'])
def test_check_mode_runs_through_an_empty_environment_and_writes_nothing(bed, tmp_path, inventory):
    bed.emulator.engine.reset()
    kubeconfig = tmp_path / 'kubeconfig'
    planned = run_playbook('playbooks/aks.yml', {'aks_cluster_kubeconfig': str(kubeconfig)},
                           env=bed.env(), inventory=inventory, check=True)
    assert planned.rc == 0, planned.failures
    assert planned.result('Kubeconfig for the roles that follow')['changed'] is True
    assert [r for r in bed.emulator.requests if r['method'] in ('PUT', 'PATCH', 'DELETE')] == []
    assert not kubeconfig.exists()
