"""azure/lro.py: one wait per long-running operation, bounded by the task's timeout or a shared deadline."""

import time

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.lro import wait_for

from .fakes import Doc, FakePoller, http_error


FINISHED = Doc(name='pool', properties={'provisioningState': 'Succeeded'})


def test_the_result_of_a_finished_operation_is_returned_after_one_wait():
    poller = FakePoller(FINISHED)
    assert wait_for(poller, 600, 'create node pool gpunp') == {'name': 'pool', 'properties': {'provisioningState': 'Succeeded'}}
    assert poller.waited == [600]


def test_a_shared_deadline_bounds_the_wait():
    poller = FakePoller(FINISHED)
    wait_for(poller, 600, 'create node pool gpunp', deadline=time.monotonic() + 30)
    assert 29 <= poller.waited[0] <= 30
    spent = FakePoller(FINISHED)
    wait_for(spent, 600, 'create node pool gpunp', deadline=time.monotonic() - 5)
    assert spent.waited == [0], 'a spent budget waits no more'


def test_an_operation_still_running_at_the_timeout_says_how_to_resume():
    with pytest.raises(AzureOperationError) as caught:
        wait_for(FakePoller(FINISHED, finishes_after=1000), 600, 'create node pool gpunp')
    assert str(caught.value) == ('Timed out after 600s waiting to create node pool gpunp. The operation goes on in Azure; '
                                 'run the task again to resume, or raise timeout.')
    assert caught.value.error['code'] == 'Timeout'


def test_a_failed_operation_carries_arms_error():
    with pytest.raises(AzureOperationError) as caught:
        wait_for(FakePoller(FINISHED, error=http_error(400, 'InvalidParameter')), 600, 'create node pool gpunp')
    assert str(caught.value) == 'Failed to create node pool gpunp: InvalidParameter: InvalidParameter'
    assert caught.value.error['code'] == 'InvalidParameter' and caught.value.status == 400
