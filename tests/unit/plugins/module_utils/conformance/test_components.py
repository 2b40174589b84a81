"""Installed versions read from chart labels, version labels, image tags and CRD bundle annotations, and drift."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import components

from tests.unit.plugins.module_utils.conformance.test_static import Fake, crd, deployment


@pytest.mark.parametrize('installed, target, same', [
    ('v0.19.2', '0.19.2', True), ('0.19.2', 'v0.19.2', True), ('1.28.10-distroless', '1.28.10', True), ('v26.7.0', 'v26.7.0', True),
    ('0.19.1', '0.19.2', False), ('1.28.100', '1.28.10', False),
])
def test_same_version(installed, target, same):
    assert components.same_version(installed, target) is same


def test_versions_and_drift():
    gateway = crd('gateways.gateway.networking.k8s.io')
    gateway['metadata']['annotations'] = {'gateway.networking.k8s.io/bundle-version': 'v1.4.1'}
    cluster = Fake(
        deployment('kueue-controller-manager', 'kueue-system', labels={'helm.sh/chart': 'kueue-0.19.2'}),
        deployment('keda-operator', 'keda', labels={'app.kubernetes.io/version': '2.20.1'}),
        deployment('gpu-operator', 'gpu-operator', image='nvcr.io/nvidia/gpu-operator:v26.7.0'),
        deployment('istiod-asm-1-28', 'aks-istio-system', image='mcr.microsoft.com/oss/istio/pilot:1.28.1-distroless'),
        gateway)
    wanted = [{'name': 'kueue', 'target': '0.19.2'}, {'name': 'keda', 'target': '2.20.2'}, {'name': 'gpu_operator', 'target': 'v26.7.0'},
              {'name': 'istio', 'target': '1.28.1'}, {'name': 'gateway_api', 'target': 'v1.4.1'}, {'name': 'kaito', 'target': '0.12.0'},
              {'name': 'something', 'target': '1'}]
    assert components.components(cluster, wanted) == [
        {'name': 'kueue', 'target': '0.19.2', 'installed': '0.19.2', 'drift': False},
        {'name': 'keda', 'target': '2.20.2', 'installed': '2.20.1', 'drift': True},
        {'name': 'gpu_operator', 'target': 'v26.7.0', 'installed': 'v26.7.0', 'drift': False},
        {'name': 'istio', 'target': '1.28.1', 'installed': '1.28.1-distroless', 'drift': False},
        {'name': 'gateway_api', 'target': 'v1.4.1', 'installed': 'v1.4.1', 'drift': False},
        {'name': 'kaito', 'target': '0.12.0', 'installed': None, 'drift': True},
        {'name': 'something', 'target': '1', 'installed': None, 'drift': True}]
