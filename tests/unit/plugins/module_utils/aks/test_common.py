"""aks/common.py: VM size families, and how an AKS resource starts, waits for and reports its operations."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.aks import common
from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import AksResource, is_gpu_size, supports_mig, vm_family
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError

from ..azure.fakes import FakePoller


def test_vm_size_families():
    assert vm_family('Standard_NC24ads_A100_v4') == ('NC', 24, 'ads', ['A100', 'v4'])
    assert is_gpu_size('Standard_ND96isr_H100_v5') and not is_gpu_size('Standard_D16s_v5')
    assert supports_mig('Standard_NC24ads_A100_v4') and not supports_mig('Standard_NV36ads_A10_v5')


class Pool(AksResource):
    kind = 'node pool'

    def __init__(self, reads, **options):
        super(Pool, self).__init__(None, 'gpunp', 60, **options)
        self.reads = list(reads)

    def read(self):
        return self.reads.pop(0)


def state(name, **props):
    return {'properties': dict(props, provisioningState=name)}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(common.time, 'sleep', lambda seconds: None)


def test_without_wait_the_operation_is_started_and_the_first_answer_returned():
    operation = FakePoller('finished', first_answer=state('Updating'))
    assert Pool([], wait=False).run('write node pool gpunp', lambda: operation) == state('Updating')
    assert not operation.waited
    waited = FakePoller('finished', first_answer=state('Updating'))
    assert Pool([]).run('write node pool gpunp', lambda: waited) == 'finished' and waited.waited


def test_a_running_operation_is_waited_out_and_a_failed_one_is_repaired_by_default():
    failed = state('Failed', status={'provisioningError': {'code': 'VMExtensionProvisioningError', 'message': 'The extension failed.'}})
    pool = Pool([state('Updating'), failed])
    assert pool.settle(state('Updating')) == failed and pool.needs_repair(failed)


def test_without_repair_a_failed_operation_is_reported_with_the_services_error():
    failed = state('Failed', status={'provisioningError': {'code': 'VMExtensionProvisioningError', 'message': 'The extension failed.'}})
    pool = Pool([state('Updating'), failed], repair=False)
    with pytest.raises(AzureOperationError) as raised:
        pool.settle(state('Creating'))
    assert raised.value.error == {'code': 'VMExtensionProvisioningError', 'message': 'The extension failed.'}
    assert str(raised.value) == ('The last operation on node pool gpunp failed: VMExtensionProvisioningError: The extension failed. '
                                 'Run again to retry it.')
    with pytest.raises(AzureOperationError, match='failed: Failed: AKS gave no details'):
        Pool([], repair=False).settle(state('Failed'))
    assert Pool([], repair=False).settle(state('Succeeded')) == state('Succeeded')
