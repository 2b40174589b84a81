"""azure_resource_group through real ansible-playbook runs against the ARM emulator."""

import pytest

from tests.integration.conftest import arm_writes
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

TASK = 'Reconcile the resource group'
GROUP = {'group_name': 'rg-itest', 'group_location': 'westeurope', 'group_tags': {'env': 'test', 'owner': 'platform'}}


def group_in(arm, name='rg-itest'):
    return arm.engine.get_resource('/subscriptions/%s/resourceGroups/%s' % (arm.subscription_id, name))


def test_create_rerun_change_check_and_delete(arm, azure_env):
    created = run_playbook('resource_group.yml', GROUP, env=azure_env)
    assert created.rc == 0, created.failures
    assert created.result(TASK)['changed'] is True
    assert group_in(arm)['tags'] == {'env': 'test', 'owner': 'platform'}
    assert [r['method'] for r in arm_writes(arm)] == ['PUT']

    arm.clear_requests()
    rerun = run_playbook('resource_group.yml', dict(GROUP, group_location='West Europe'), env=azure_env)
    assert rerun.rc == 0 and rerun.result(TASK)['changed'] is False
    assert arm_writes(arm) == [], 'an unchanged group gets no write'

    arm.clear_requests()
    checked = run_playbook('resource_group.yml', dict(GROUP, group_tags={'owner': 'ml-team'}), env=azure_env, check=True, diff=True)
    result = checked.result(TASK)
    assert checked.rc == 0 and result['changed'] is True and result['differences'] == ['tags.owner']
    assert result['diff']['before']['tags']['owner'] == 'platform' and result['diff']['after']['tags']['owner'] == 'ml-team'
    assert arm_writes(arm) == [], 'check mode writes nothing'

    arm.clear_requests()
    changed = run_playbook('resource_group.yml', dict(GROUP, group_tags={'owner': 'ml-team'}), env=azure_env)
    assert changed.rc == 0 and changed.result(TASK)['changed'] is True
    puts = arm_writes(arm)
    assert len(puts) == 1 and puts[0]['body']['tags'] == {'env': 'test', 'owner': 'ml-team'}, 'unmentioned tags are kept'

    purged = run_playbook('resource_group.yml', dict(GROUP, group_tags={'owner': 'ml-team'}, group_purge_tags=True), env=azure_env)
    assert purged.rc == 0 and group_in(arm)['tags'] == {'owner': 'ml-team'}

    deleted = run_playbook('resource_group.yml', {'group_name': 'rg-itest', 'group_state': 'absent'}, env=azure_env)
    assert deleted.rc == 0 and deleted.result(TASK)['changed'] is True
    assert group_in(arm) is None
    again = run_playbook('resource_group.yml', {'group_name': 'rg-itest', 'group_state': 'absent'}, env=azure_env)
    assert again.rc == 0 and again.result(TASK)['changed'] is False


def test_check_mode_create_and_delete_write_nothing(arm, azure_env):
    planned = run_playbook('resource_group.yml', GROUP, env=azure_env, check=True)
    assert planned.rc == 0 and planned.result(TASK)['changed'] is True
    assert group_in(arm) is None
    assert run_playbook('resource_group.yml', GROUP, env=azure_env).rc == 0
    arm.clear_requests()
    removal = run_playbook('resource_group.yml', {'group_name': 'rg-itest', 'group_state': 'absent'}, env=azure_env, check=True)
    assert removal.rc == 0 and removal.result(TASK)['changed'] is True
    assert group_in(arm) is not None and arm_writes(arm) == []


@pytest.mark.parametrize('variables, message', [
    ({'group_name': 'rg-new'}, 'location is required to create resource group rg-new'),
    ({'group_name': 'rg-itest', 'group_location': 'eastus'},
     "Cannot change location of resource group rg-itest in place: location is 'westeurope', requested 'eastus'"),
    ({'group_name': 'rg-itest', 'group_tags': 'not-a-dict'}, "tags"),
    ({'group_name': 'rg-itest', 'group_state': 'gone'}, 'value of state must be one of: present, absent'),
])
def test_bad_input_fails_clearly_without_writing(arm, azure_env, variables, message):
    assert run_playbook('resource_group.yml', GROUP, env=azure_env).rc == 0
    arm.clear_requests()
    run = run_playbook('resource_group.yml', variables, env=azure_env)
    assert run.rc != 0
    assert message in run.result(TASK)['msg']
    assert arm_writes(arm) == []


def test_partial_credentials_are_refused_before_any_request(arm, azure_env):
    run = run_playbook('resource_group.yml', dict(GROUP, group_client_id='only-the-id'), env=azure_env)
    assert run.rc != 0
    assert 'client_id, client_secret and tenant_id must be given together' in run.result(TASK)['msg']
    assert arm.requests == []


def test_explicit_secret_never_reaches_verbose_output(arm, azure_env):
    env = dict((k, v) for k, v in azure_env.items() if k not in ('AZURE_CLIENT_ID', 'AZURE_SECRET', 'AZURE_TENANT'))
    variables = dict(GROUP, group_client_id=arm.client_id, group_client_secret=arm.client_secret, group_tenant_id=arm.tenant_id)
    run = run_playbook('resource_group.yml', variables, env=env, verbosity=3, json_output=False)
    assert run.rc == 0, run.stdout[-2000:]
    assert 'changed: [localhost]' in run.stdout
    assert arm.client_secret not in run.stdout + run.stderr
    assert group_in(arm) is not None


def test_wrong_secret_is_an_authentication_failure(arm, azure_env):
    run = run_playbook('resource_group.yml', GROUP, env=dict(azure_env, AZURE_SECRET='wrong'))
    assert run.rc != 0
    msg = run.result(TASK)['msg']
    assert 'invalid_client' in msg or 'AADSTS7000215' in msg
    assert group_in(arm) is None


@pytest.mark.parametrize('status', [429, 503])
def test_throttling_and_unavailability_are_retried(arm, azure_env, status):
    arm.add_fault(action='status', method='PUT', path='/resourcegroups/rg-itest', status=status, retry_after=1, times=2)
    run = run_playbook('resource_group.yml', GROUP, env=azure_env)
    assert run.rc == 0, run.failures
    puts = [r for r in arm.requests if r['method'] == 'PUT']
    assert [r['status'] for r in puts] == [status, status, 201]
    assert group_in(arm)['tags']['owner'] == 'platform'


def test_dropped_connection_is_retried(arm, azure_env):
    arm.add_fault(action='drop', method='GET', path='/resourcegroups/rg-itest', times=1)
    run = run_playbook('resource_group.yml', GROUP, env=azure_env)
    assert run.rc == 0, run.failures
    assert group_in(arm) is not None


def test_failed_operation_reports_the_arm_error(arm, azure_env):
    assert run_playbook('resource_group.yml', GROUP, env=azure_env).rc == 0
    arm.add_fault(action='fail_operation', path='/resourcegroups/rg-itest',
                  error={'code': 'ResourceGroupDeletionBlocked', 'message': 'A lock prevents deletion.'})
    run = run_playbook('resource_group.yml', {'group_name': 'rg-itest', 'group_state': 'absent'}, env=azure_env)
    assert run.rc != 0
    result = run.result(TASK)
    assert result['error']['code'] == 'ResourceGroupDeletionBlocked'
    assert 'Failed to delete resource group rg-itest: ResourceGroupDeletionBlocked: A lock prevents deletion.' in result['msg']


def test_timeout_on_a_long_operation_says_what_to_do(arm, azure_env):
    assert run_playbook('resource_group.yml', GROUP, env=azure_env).rc == 0
    arm.engine.settings(operation_seconds=30)
    try:
        run = run_playbook('resource_group.yml', {'group_name': 'rg-itest', 'group_state': 'absent', 'group_timeout': 2}, env=azure_env)
    finally:
        arm.engine.settings(operation_seconds=1.0)
    assert run.rc != 0
    assert 'Timed out after 2s waiting to delete resource group rg-itest' in run.result(TASK)['msg']
