"""The main job, playbooks/site.yml, end to end on the test bed with the testbed inventory.

AKS comes from the ARM emulator; the Kubernetes layer runs with the kubeconfig the aks_cluster role wrote
(an Entra token, as with local accounts off). The test plays what the bed lacks: the KAITO add-on's
controller (a Deployment reported rolled out, and a stand-in that marks workspaces ready) and the
model server (a local stub that answers the five prompts).
"""

from pathlib import Path

import pytest

from tests.integration import kaito_standin as kaito
from tests.integration.inference_stub import InferenceStub
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
ADDON_CONTROLLER = {
    'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'kaito-workspace', 'namespace': 'kube-system'},
    'spec': {'replicas': 1, 'selector': {'matchLabels': {'app': 'kaito-workspace'}},
             'template': {'metadata': {'labels': {'app': 'kaito-workspace'}},
                          'spec': {'containers': [{'name': 'kaito', 'image': 'mcr.microsoft.com/aks/kaito/workspace:0.12.0'}]}}},
}


@pytest.fixture
def kaito_addon(k8s_client):
    """What the KAITO add-on puts on an AKS cluster, played on the bed."""
    kaito.install_crds(k8s_client, [CRDS / 'kaito' / 'kaito.sh_workspaces.yaml'])
    deployments = k8s_client.resources.get(api_version='apps/v1', kind='Deployment')
    deployments.server_side_apply(body=ADDON_CONTROLLER, namespace='kube-system', field_manager='itest', force_conflicts=True)
    kaito.mark_deployment_ready(k8s_client, 'kube-system', 'kaito-workspace')
    with kaito.StandIn(k8s_client, ready_after=0.5).running() as controller:
        yield controller


def test_site_converges_serves_the_cpu_example_and_tears_down(bed, k8s_client, kaito_addon, tmp_path):
    bed.emulator.engine.reset()
    with InferenceStub() as stub:
        variables = {'aks_cluster_kubeconfig': str(tmp_path / 'kubeconfig'), 'model_workspace_probe_url': stub.url,
                     'model_workspace_wait_sleep': 0.3, 'model_workspace_wait_timeout': 60, 'kaito_wait_timeout': 30}
        first = run_playbook('playbooks/site.yml', variables, env=bed.env(), inventory='inventories/testbed')
        assert first.rc == 0, first.failures
        # the testbed inventory's AI pool is a CPU size (Standard_D16s_v5), as in the Terraform environment
        assert first.result('Say which mode and why')['msg'].startswith('GPUs: none (no node pool has a GPU VM size')
        assert first.result('Report the GPUs')['msg'] == 'No GPU nodes: nothing to advertise (a CPU-only cluster)'
        probes = first.result('Send each model its test prompts')['results'][0]
        assert len(probes['results']) == 5 and all(r['answer'] for r in probes['results'])

        workspaces = k8s_client.resources.get(api_version='kaito.sh/v1beta1', kind='Workspace')
        ws = workspaces.get(name='bloomz-workspace', namespace='bloomz').to_dict()
        assert ws['resource']['instanceType'] == 'Standard_D4ds_v6'
        assert ws['resource']['labelSelector'] == {'matchLabels': {'apps': 'bloomz-560m'}}
        emu = bed.emulator
        cluster = '/subscriptions/%s/resourceGroups/rg-ai-platform-testbed/providers/Microsoft.ContainerService/managedClusters/aks-ai-platform'
        assert emu.get_resource(cluster % emu.subscription_id + '/agentPools/gpunp')['properties']['nodeLabels']['node-type'] == 'ai'

        emu.clear_requests()
        second = run_playbook('playbooks/site.yml', variables, env=bed.env(), inventory='inventories/testbed')
        assert second.rc == 0, second.failures
        changed = [name for name, r in second.tasks.items() if r.get('changed')]
        assert changed == [], changed
        assert [r for r in emu.requests if r['method'] == 'PUT'] == []

    gone = run_playbook('playbooks/teardown.yml', {'aks_cluster_delete_resource_group': True}, env=bed.env(), inventory='inventories/testbed')
    assert gone.rc == 0, gone.failures
    assert bed.emulator.get_resource(cluster % bed.emulator.subscription_id) is None
