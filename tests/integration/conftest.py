"""The test bed for integration tests: one real apiserver and one ARM emulator per session."""

import pytest

from tests.bed.kube_apiserver import kube_apiserver_session


@pytest.fixture(scope='session')
def kube_apiserver(tmp_path_factory):
    yield from kube_apiserver_session(tmp_path_factory)


@pytest.fixture(scope='session')
def k8s_env(kube_apiserver):
    """Environment that points our Kubernetes modules at the test apiserver."""
    return {'K8S_AUTH_KUBECONFIG': str(kube_apiserver.kubeconfig)}


@pytest.fixture(scope='session')
def k8s_client(kube_apiserver):
    import kubernetes
    from kubernetes.dynamic import DynamicClient
    return DynamicClient(kubernetes.config.new_client_from_config(config_file=str(kube_apiserver.kubeconfig)))
