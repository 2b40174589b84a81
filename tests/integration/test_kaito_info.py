"""kaito_info against the real test apiserver: CRDs, the controller Deployment's rollout, the GPU Operator."""

import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.integration import kaito_standin as kaito
from tests.integration.module_call import run_task
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
TASK = 'Check KAITO'
IMAGE = 'mcr.microsoft.com/aks/kaito/workspace:0.12.0'
CLUSTER_POLICY_CRD = {
    'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition', 'metadata': {'name': 'clusterpolicies.nvidia.com'},
    'spec': {'group': 'nvidia.com', 'scope': 'Cluster', 'names': {'plural': 'clusterpolicies', 'singular': 'clusterpolicy', 'kind': 'ClusterPolicy'},
             'versions': [{'name': 'v1', 'served': True, 'storage': True, 'subresources': {'status': {}},
                           'schema': {'openAPIV3Schema': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}}}]}}


@pytest.fixture
def controller_ns(k8s_client):
    name = 'ki-' + uuid.uuid4().hex[:8]
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': name}})
    return name


def deployment(k8s_client, ns, args):
    return k8s_client.resources.get(api_version='apps/v1', kind='Deployment').create(namespace=ns, body={
        'metadata': {'name': 'kaito-workspace'},
        'spec': {'replicas': 1, 'selector': {'matchLabels': {'app': 'kaito'}}, 'template': {
            'metadata': {'labels': {'app': 'kaito'}},
            'spec': {'containers': [{'name': 'kaito-workspace', 'image': IMAGE, 'args': args}]}}}})


def check(k8s_env, playbook=False, **kaito_options):
    """kaito_info with `kaito_options`: in process, or through tests/integration/playbooks/kaito_info.yml."""
    if playbook:
        return run_playbook('kaito_info.yml', {'kaito': kaito_options}, env=k8s_env)
    return run_task('kaito_info', 'Check KAITO', dict({'wait_sleep': 0.3}, **kaito_options), env=k8s_env)


def test_missing_kaito_is_reported_and_required_readiness_fails(k8s_env, k8s_client, controller_ns):
    kaito.install_crds(k8s_client, [CRDS / 'kaito' / 'kaito.sh_workspaces.yaml'])
    info = check(k8s_env, namespace=controller_ns)
    assert info.rc == 0, info.failures
    result = info.result(TASK)
    assert result['installed'] is False and result['ready'] is False and result['changed'] is False
    assert result['problems'] == ['KAITO controller Deployment %s/kaito-workspace does not exist' % controller_ns]
    crd = result['crds'][0]
    assert crd['name'] == 'workspaces.kaito.sh' and crd['established'] is True
    assert crd['served_versions'] == ['v1alpha1', 'v1beta1'] and crd['storage_version'] == 'v1beta1'

    required = check(k8s_env, namespace=controller_ns, require_ready=True)
    assert required.rc != 0 and 'KAITO is not ready: KAITO controller Deployment' in required.result(TASK)['msg']


def test_waits_for_the_controller_rollout_and_reads_its_configuration(k8s_env, k8s_client, controller_ns):
    kaito.install_crds(k8s_client, [CRDS / 'kaito' / 'kaito.sh_workspaces.yaml'])
    deployment(k8s_client, controller_ns, ['--feature-gates=vLLM=true,disableNodeAutoProvisioning=true,enableInferenceSetController=false',
                                           '--node-provisioner=byo', '--webhook-port=9443'])
    not_ready = check(k8s_env, namespace=controller_ns, require_ready=True)
    assert not_ready.rc != 0 and 'controller has not observed generation 1' in not_ready.result(TASK)['msg']

    def rollout():
        time.sleep(2)
        kaito.mark_deployment_ready(k8s_client, controller_ns, 'kaito-workspace')
    thread = threading.Thread(target=rollout, daemon=True)
    thread.start()
    waited = check(k8s_env, playbook=True, namespace=controller_ns, wait=True, wait_timeout=30, require_ready=True)
    thread.join()
    assert waited.rc == 0, waited.failures
    result = waited.result(TASK)
    assert result['ready'] is True and result['installed'] is True and result['problems'] == []
    controller = result['controller']
    assert controller['version'] == '0.12.0' and controller['image'] == IMAGE
    assert controller['node_provisioner'] == 'byo'
    assert controller['feature_gates'] == {'vLLM': True, 'disableNodeAutoProvisioning': True, 'enableInferenceSetController': False}


def test_a_missing_crd_times_out_with_the_reason(k8s_env, k8s_client, controller_ns):
    deployment(k8s_client, controller_ns, [])
    kaito.mark_deployment_ready(k8s_client, controller_ns, 'kaito-workspace')
    # the bed never has ragengines.kaito.sh
    missing = check(k8s_env, namespace=controller_ns, crds=['ragengines.kaito.sh'], wait=True, wait_timeout=1, require_ready=True)
    assert missing.rc != 0
    assert missing.result(TASK)['msg'] == 'KAITO is not ready after waiting 1s: CRD ragengines.kaito.sh is not installed'
    assert missing.result(TASK)['controller']['ready'] is True


def test_gpu_operator_is_detected_by_its_cluster_policy(k8s_env, k8s_client, controller_ns):
    kaito.install_crds(k8s_client, [CRDS / 'kaito' / 'kaito.sh_workspaces.yaml'])
    crds = k8s_client.resources.get(api_version='apiextensions.k8s.io/v1', kind='CustomResourceDefinition')
    crds.server_side_apply(body=CLUSTER_POLICY_CRD, name='clusterpolicies.nvidia.com', field_manager='itest')
    time.sleep(1)
    policies = k8s_client.resources.get(api_version='nvidia.com/v1', kind='ClusterPolicy')
    policies.create(body={'apiVersion': 'nvidia.com/v1', 'kind': 'ClusterPolicy', 'metadata': {'name': 'cluster-policy'}})
    try:
        policies.status.patch(name='cluster-policy', content_type='application/merge-patch+json', body={'status': {'state': 'ready'}})
        info = check(k8s_env, namespace=controller_ns)
        assert info.rc == 0
        assert info.result(TASK)['gpu_operator'] == {'present': True, 'cluster_policies': [{'name': 'cluster-policy', 'state': 'ready'}]}
    finally:
        policies.delete(name='cluster-policy')
    info = check(k8s_env, namespace=controller_ns)
    assert info.result(TASK)['gpu_operator'] == {'present': False, 'cluster_policies': []}
