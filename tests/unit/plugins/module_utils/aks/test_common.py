"""VM size families: which sizes are GPUs and which can be partitioned with MIG."""

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import is_gpu_size, supports_mig, vm_family


def test_vm_size_families():
    assert vm_family('Standard_NC24ads_A100_v4') == ('NC', 24, 'ads', ['A100', 'v4'])
    assert is_gpu_size('Standard_ND96isr_H100_v5') and not is_gpu_size('Standard_D16s_v5')
    assert supports_mig('Standard_NC24ads_A100_v4') and not supports_mig('Standard_NV36ads_A10_v5')
