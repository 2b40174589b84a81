"""The test bed for integration tests: one real apiserver and one ARM emulator per session."""

import pytest

from tests.bed.arm_emulator.aks import aks_bed_session

# Emulated Azure operations last this long unless a test measures waiting and sets its own duration:
# long enough that every module really polls, short enough that tests do not sit idle.
OPERATION_SECONDS = 0.3
RETRY_AFTER = 0.1

# The files that take longest (a minute and a half or more of a worker's time; see the slowest tests `make test` prints),
# longest first. pytest-xdist hands the files out in collection order (with --no-loadscope-reorder), so starting these
# first lets the three workers finish together instead of one running a long file at the end.
LONGEST_FIRST = ('test_aks_cluster_and_nodepools_roles.py', 'test_shipped_inventories.py', 'test_prometheus_monitoring_role.py',
                 'test_site.py', 'test_ai_scheduling_role.py', 'test_istio_role.py', 'test_model_workspace_role.py',
                 'test_gpu_operator_role.py', 'test_gpu_validation.py')


def pytest_collection_modifyitems(items):
    rank = dict((name, index) for index, name in enumerate(LONGEST_FIRST))
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))  # stable: each file keeps its order


@pytest.fixture(scope='session')
def bed(tmp_path_factory):
    """ARM emulator with AKS, and a real apiserver that accepts its Entra tokens and shows its pools' Nodes."""
    yield from aks_bed_session(tmp_path_factory, operation_seconds=OPERATION_SECONDS, retry_after=RETRY_AFTER)


@pytest.fixture(scope='session')
def kube_apiserver(bed):
    return bed.apiserver


@pytest.fixture(scope='session')
def k8s_env(kube_apiserver):
    """Environment that points our Kubernetes modules at the test apiserver."""
    return {'K8S_AUTH_KUBECONFIG': str(kube_apiserver.kubeconfig)}


@pytest.fixture(scope='session')
def k8s_client(kube_apiserver):
    import kubernetes
    from kubernetes.dynamic import DynamicClient
    return DynamicClient(kubernetes.config.new_client_from_config(config_file=str(kube_apiserver.kubeconfig)))


@pytest.fixture(scope='session')
def arm_emulator(bed):
    return bed.emulator


@pytest.fixture
def arm(arm_emulator):
    """The emulator with no resources, faults or logged requests left from earlier tests."""
    arm_emulator.engine.reset()
    return arm_emulator


@pytest.fixture(scope='session')
def azure_env(arm_emulator):
    """Environment of an AWX Azure credential pointing our Azure modules at the emulator."""
    return {
        'AZURE_CLIENT_ID': arm_emulator.client_id,
        'AZURE_SECRET': arm_emulator.client_secret,
        'AZURE_TENANT': arm_emulator.tenant_id,
        'AZURE_SUBSCRIPTION_ID': arm_emulator.subscription_id,
        'AZURE_ARM_ENDPOINT': arm_emulator.url,
        'AZURE_AUTHORITY_HOST': arm_emulator.url,
        'REQUESTS_CA_BUNDLE': arm_emulator.ca_path,
    }


def arm_writes(emulator):
    """Logged ARM requests that change something (token requests excluded)."""
    return [r for r in emulator.requests if r['method'] in ('PUT', 'PATCH', 'DELETE', 'POST') and '/oauth2/' not in r['path']]


@pytest.fixture(scope='session')
def kaito_admission_standin(k8s_client, tmp_path_factory):
    """KAITO's Workspace admission webhook (a strict stand-in, tests/integration/kaito_standin.py), serving; the
    ``kaito_admission`` fixture registers it with the apiserver for one test."""
    from tests.integration.kaito_standin import AdmissionStandIn
    standin = AdmissionStandIn(k8s_client, tmp_path_factory.mktemp('kaito-admission')).start()
    yield standin
    standin.stop()


@pytest.fixture
def kaito_admission(kaito_admission_standin):
    """The admission stand-in registered with the apiserver for this test, in AKS mode (node auto-provisioning on;
    ``with kaito_admission.mode(False):`` plays kind's bring-your-own nodes), its log of reviews emptied."""
    kaito_admission_standin.node_auto_provisioning = True
    kaito_admission_standin.reviews.clear()
    kaito_admission_standin.register()
    yield kaito_admission_standin
    kaito_admission_standin.unregister()


@pytest.fixture
def nodes(k8s_client):
    """Nodes one test makes (tests/integration/gpu_standin.py, a stand-in for their kubelet), removed after it."""
    from tests.integration.gpu_standin import Nodes
    made = Nodes(k8s_client)
    yield made
    made.delete()
