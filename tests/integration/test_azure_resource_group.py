"""azure_resource_group against the ARM emulator: module calls in process, and real ansible-playbook runs where only
a run proves it (the first create, and what -vvv prints)."""

import pytest

from tests.integration.conftest import OPERATION_SECONDS, arm_writes
from tests.integration.module_call import call_module
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

TASK = 'Reconcile the resource group'
GROUP = {'group_name': 'rg-itest', 'group_location': 'westeurope', 'group_tags': {'env': 'test', 'owner': 'platform'}}
OPTIONS = {'group_name': 'name', 'group_location': 'location', 'group_tags': 'tags', 'group_purge_tags': 'purge_tags',
           'group_timeout': 'timeout', 'group_state': 'state', 'group_client_id': 'client_id',
           'group_client_secret': 'client_secret', 'group_tenant_id': 'tenant_id'}


def reconcile(variables, env, check=False, diff=False):
    """The module's result for the variables of playbooks/resource_group.yml, run in process."""
    return call_module('azure_resource_group', dict((OPTIONS[k], v) for k, v in variables.items()), env=env, check=check, diff=diff)


def group_in(arm, name='rg-itest'):
    return arm.engine.get_resource('/subscriptions/%s/resourceGroups/%s' % (arm.subscription_id, name))


def test_create_rerun_change_check_and_delete(arm, azure_env):
    created = run_playbook('resource_group.yml', GROUP, env=azure_env)
    assert created.rc == 0, created.failures
    assert created.result(TASK)['changed'] is True
    assert group_in(arm)['tags'] == {'env': 'test', 'owner': 'platform'}
    assert [r['method'] for r in arm_writes(arm)] == ['PUT']

    arm.clear_requests()
    rerun = reconcile(dict(GROUP, group_location='West Europe'), azure_env)
    assert not rerun.get('failed') and rerun['changed'] is False
    assert 'diff' not in rerun, 'the before/after copies are returned only for --diff'
    assert arm_writes(arm) == [], 'an unchanged group gets no write'

    arm.clear_requests()
    result = reconcile(dict(GROUP, group_tags={'owner': 'ml-team'}), azure_env, check=True, diff=True)
    assert not result.get('failed') and result['changed'] is True and result['differences'] == ['tags.owner']
    assert result['diff']['before']['tags']['owner'] == 'platform' and result['diff']['after']['tags']['owner'] == 'ml-team'
    assert arm_writes(arm) == [], 'check mode writes nothing'

    arm.clear_requests()
    changed = reconcile(dict(GROUP, group_tags={'owner': 'ml-team'}), azure_env)
    assert not changed.get('failed') and changed['changed'] is True
    puts = arm_writes(arm)
    assert len(puts) == 1 and puts[0]['body']['tags'] == {'env': 'test', 'owner': 'ml-team'}, 'unmentioned tags are kept'
    assert puts[0]['method'] == 'PATCH', 'a change of tags alone is the tags-only PATCH'

    purged = reconcile(dict(GROUP, group_tags={'owner': 'ml-team'}, group_purge_tags=True), azure_env)
    assert not purged.get('failed') and group_in(arm)['tags'] == {'owner': 'ml-team'}

    deleted = reconcile({'group_name': 'rg-itest', 'group_state': 'absent'}, azure_env)
    assert not deleted.get('failed') and deleted['changed'] is True
    assert group_in(arm) is None
    again = reconcile({'group_name': 'rg-itest', 'group_state': 'absent'}, azure_env)
    assert not again.get('failed') and again['changed'] is False


def test_check_mode_create_and_delete_write_nothing(arm, azure_env):
    planned = reconcile(GROUP, azure_env, check=True)
    assert not planned.get('failed') and planned['changed'] is True
    assert group_in(arm) is None
    assert not reconcile(GROUP, azure_env).get('failed')
    arm.clear_requests()
    removal = reconcile({'group_name': 'rg-itest', 'group_state': 'absent'}, azure_env, check=True)
    assert not removal.get('failed') and removal['changed'] is True
    assert group_in(arm) is not None and arm_writes(arm) == []


@pytest.mark.parametrize('variables, message', [
    ({'group_name': 'rg-new'}, 'location is required to create resource group rg-new'),
    ({'group_name': 'rg-itest', 'group_location': 'eastus'},
     "Cannot change location of resource group rg-itest in place: location is 'westeurope', requested 'eastus'"),
    ({'group_name': 'rg-itest', 'group_tags': 'not-a-dict'}, "tags"),
    ({'group_name': 'rg-itest', 'group_state': 'gone'}, 'value of state must be one of: present, absent'),
])
def test_bad_input_fails_clearly_without_writing(arm, azure_env, variables, message):
    assert not reconcile(GROUP, azure_env).get('failed')
    arm.clear_requests()
    result = reconcile(variables, azure_env)
    assert result.get('failed')
    assert message in result['msg']
    assert arm_writes(arm) == []


def test_partial_credentials_are_refused_before_any_request(arm, azure_env):
    result = reconcile(dict(GROUP, group_client_id='only-the-id'), azure_env)
    assert result.get('failed')
    assert 'client_id, client_secret and tenant_id must be given together' in result['msg']
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
    result = reconcile(GROUP, dict(azure_env, AZURE_SECRET='wrong'))
    assert result.get('failed')
    msg = result['msg']
    assert 'invalid_client' in msg or 'AADSTS7000215' in msg
    assert group_in(arm) is None


@pytest.mark.parametrize('status', [429, 503])
def test_throttling_and_unavailability_are_retried(arm, azure_env, status):
    arm.add_fault(action='status', method='PUT', path='/resourcegroups/rg-itest', status=status, retry_after=1, times=2)
    result = reconcile(GROUP, azure_env)
    assert not result.get('failed'), result.get('msg')
    puts = [r for r in arm.requests if r['method'] == 'PUT']
    assert [r['status'] for r in puts] == [status, status, 201]
    assert group_in(arm)['tags']['owner'] == 'platform'


def test_dropped_connection_is_retried(arm, azure_env):
    arm.add_fault(action='drop', method='GET', path='/resourcegroups/rg-itest', times=1)
    result = reconcile(GROUP, azure_env)
    assert not result.get('failed'), result.get('msg')
    assert group_in(arm) is not None


def test_failed_operation_reports_the_arm_error(arm, azure_env):
    assert not reconcile(GROUP, azure_env).get('failed')
    arm.add_fault(action='fail_operation', path='/resourcegroups/rg-itest',
                  error={'code': 'ResourceGroupDeletionBlocked', 'message': 'A lock prevents deletion.'})
    result = reconcile({'group_name': 'rg-itest', 'group_state': 'absent'}, azure_env)
    assert result.get('failed')
    assert result['error']['code'] == 'ResourceGroupDeletionBlocked'
    assert 'Failed to delete resource group rg-itest: ResourceGroupDeletionBlocked: A lock prevents deletion.' in result['msg']


def test_timeout_on_a_long_operation_says_what_to_do(arm, azure_env):
    assert not reconcile(GROUP, azure_env).get('failed')
    arm.engine.settings(operation_seconds=30)
    try:
        result = reconcile({'group_name': 'rg-itest', 'group_state': 'absent', 'group_timeout': 2}, azure_env)
    finally:
        arm.engine.settings(operation_seconds=OPERATION_SECONDS)
    assert result.get('failed')
    assert 'Timed out after 2s waiting to delete resource group rg-itest' in result['msg']
