"""The main job, playbooks/site.yml, end to end on the test bed with the testbed inventory.

AKS comes from the ARM emulator; the Kubernetes layer runs with the kubeconfig the aks_cluster role wrote
(an Entra token, as with local accounts off). The test plays what the bed lacks: the KAITO add-on's
controller (a Deployment reported rolled out, and a stand-in that marks workspaces ready), the Istio add-on
(its CRDs, istiod of revision asm-1-28 reported ready, the external ingress gateway Service with a load balancer
address, Managed Gateway API's CRDs), the metrics add-on's azmonitoring.coreos.com CRDs, and the model server (a local
stub that answers the five prompts).
"""

from pathlib import Path

import pytest
import yaml

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


ISTIOD = {
    'apiVersion': 'apps/v1', 'kind': 'Deployment',
    'metadata': {'name': 'istiod-asm-1-28', 'namespace': 'aks-istio-system', 'labels': {'app': 'istiod', 'istio.io/rev': 'asm-1-28'}},
    'spec': {'replicas': 1, 'selector': {'matchLabels': {'app': 'istiod', 'istio.io/rev': 'asm-1-28'}},
             'template': {'metadata': {'labels': {'app': 'istiod', 'istio.io/rev': 'asm-1-28'}},
                          'spec': {'containers': [{'name': 'discovery', 'image': 'mcr.microsoft.com/oss/istio/pilot:1.28.10'}]}}},
}
INGRESS = {
    'apiVersion': 'v1', 'kind': 'Service',
    'metadata': {'name': 'aks-istio-ingressgateway-external', 'namespace': 'aks-istio-ingress'},
    'spec': {'type': 'LoadBalancer', 'selector': {'app': 'aks-istio-ingressgateway-external'},
             'ports': [{'name': 'http2', 'port': 80, 'targetPort': 8080, 'protocol': 'TCP'},
                       {'name': 'https', 'port': 443, 'targetPort': 8443, 'protocol': 'TCP'}]},
}


@pytest.fixture
def istio_addon(k8s_client):
    """What the Istio add-on and Managed Gateway API put on an AKS cluster, played on the bed."""
    kaito.install_crds(k8s_client, [CRDS / 'istio' / '1.28.10' / 'crd-all.gen.yaml.gz'] + [
        CRDS / 'gateway-api' / 'v1.2.1' / name for name in ('gateway.networking.k8s.io_gatewayclasses.yaml',
                                                            'gateway.networking.k8s.io_gateways.yaml')])
    for namespace in ('aks-istio-system', 'aks-istio-ingress'):
        k8s_client.resources.get(api_version='v1', kind='Namespace').server_side_apply(
            body={'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': namespace}}, field_manager='itest', force_conflicts=True)
    deployments = k8s_client.resources.get(api_version='apps/v1', kind='Deployment')
    deployments.server_side_apply(body=ISTIOD, namespace='aks-istio-system', field_manager='itest', force_conflicts=True)
    kaito.mark_deployment_ready(k8s_client, 'aks-istio-system', 'istiod-asm-1-28')
    services = k8s_client.resources.get(api_version='v1', kind='Service')
    services.server_side_apply(body=INGRESS, namespace='aks-istio-ingress', field_manager='itest', force_conflicts=True)
    services.status.patch(name='aks-istio-ingressgateway-external', namespace='aks-istio-ingress', content_type=kaito.MERGE,
                          body={'status': {'loadBalancer': {'ingress': [{'ip': '20.61.12.34'}]}}})


@pytest.fixture
def kueue_installed(k8s_client):
    """Kueue's CRDs, as an earlier install would leave them (the bed has no helm): the ai_scheduling role then uses it."""
    kaito.install_crds(k8s_client, [CRDS / 'kueue' / name for name in (
        'kueue.x-k8s.io_resourceflavors.yaml', 'kueue.x-k8s.io_clusterqueues.yaml', 'kueue.x-k8s.io_localqueues.yaml')])


@pytest.fixture
def metrics_addon(k8s_client):
    """The CRDs the AKS metrics add-on installs for its collector's scrape objects, played on the bed."""
    names = ('ama-metrics-servicemonitor-crd.yaml', 'ama-metrics-podmonitor-crd.yaml')
    kaito.install_crds(k8s_client, [CRDS / 'azure-monitor' / name for name in names])


def test_site_converges_serves_the_cpu_example_and_tears_down(bed, k8s_client, kaito_addon, istio_addon, metrics_addon, kueue_installed,
                                                              tmp_path):
    bed.emulator.engine.reset()
    with InferenceStub() as stub:
        variables = {'aks_cluster_kubeconfig': str(tmp_path / 'kubeconfig'), 'model_workspace_probe_url': stub.url,
                     'ai_conformance_output_dir': str(tmp_path / 'ai-conformance'),
                     'model_workspace_wait_sleep': 0.3, 'model_workspace_wait_timeout': 60, 'kaito_wait_timeout': 30}
        first = run_playbook('playbooks/site.yml', variables, env=bed.env(), inventory='inventories/testbed')
        assert first.rc == 0, first.failures
        # the testbed inventory's AI pool is a CPU size (Standard_D16s_v5), as in the Terraform environment
        assert first.result('Say which mode and why')['msg'].startswith('GPUs: none (no node pool has a GPU VM size')
        assert first.result('Report the GPUs')['msg'] == 'No GPU nodes: nothing to advertise (a CPU-only cluster)'
        assert first.result('Say where Istio comes from and which revision the namespaces get')['msg'] == (
            'Istio: addon (the AKS cluster has the Istio add-on (serviceMeshProfile.mode Istio)); revision asm-1-28')
        assert first.result("Report the ingress gateway's address")['msg'] == (
            'Ingress gateway aks-istio-ingress/aks-istio-ingressgateway-external: 20.61.12.34 (ports 80, 443)')
        namespace = k8s_client.resources.get(api_version='v1', kind='Namespace').get(name='bloomz').to_dict()['metadata']['labels']
        assert namespace['istio.io/rev'] == 'asm-1-28' and namespace['aiplatform.aks/inference-gateway'] == 'inference'
        probes = first.result('Send each model its test prompts')['results'][0]
        assert len(probes['results']) == 5 and all(r['answer'] for r in probes['results'])

        workspaces = k8s_client.resources.get(api_version='kaito.sh/v1beta1', kind='Workspace')
        ws = workspaces.get(name='bloomz-workspace', namespace='bloomz').to_dict()
        assert ws['resource']['instanceType'] == 'Standard_D4ds_v6'
        assert ws['resource']['labelSelector'] == {'matchLabels': {'apps': 'bloomz-560m'}}
        emu = bed.emulator
        cluster = '/subscriptions/%s/resourceGroups/rg-ai-platform-testbed/providers/Microsoft.ContainerService/managedClusters/aks-ai-platform'
        assert emu.get_resource(cluster % emu.subscription_id + '/agentPools/gpunp')['properties']['nodeLabels']['node-type'] == 'ai'
        # the model namespace's Kueue queue, on the KEDA add-on the cluster has by default
        queue = k8s_client.resources.get(api_version='kueue.x-k8s.io/v1beta2', kind='LocalQueue').get(name='ai-queue', namespace='bloomz')
        assert queue.to_dict()['spec']['clusterQueue'] == 'ai-platform'
        # the last stage: the conformance report of the 1.34 checklist, written though MUSTs are not met on the bed
        product = yaml.safe_load((tmp_path / 'ai-conformance' / 'PRODUCT.yaml').read_text())
        assert product['metadata']['kubernetesVersion'] == 'v1.34'
        assert (tmp_path / 'ai-conformance' / 'index.html').is_file() and (tmp_path / 'ai-conformance' / 'junit.xml').is_file()
        # Managed Prometheus, made while the pools were created: the workspace's rule groups and the cluster's association
        assert first.result('Prometheus monitoring | Say where the metrics go')['msg'] == (
            'Prometheus monitoring: managed (an AKS cluster: Azure Managed Prometheus)')
        group = '/subscriptions/%s/resourceGroups/rg-ai-platform-testbed/providers/' % emu.subscription_id
        assert emu.get_resource(group + 'Microsoft.AlertsManagement/prometheusRuleGroups/GpuAlertsRuleGroup-aks-ai-platform') is not None
        assert emu.get_resource(cluster % emu.subscription_id + '/providers/Microsoft.Insights/dataCollectionRuleAssociations/'
                                'MSProm-westeurope-aks-ai-platform') is not None
        # KEDA's workload identity (ai_scheduling), federated with the add-on's operator
        assert emu.get_resource(group + 'Microsoft.ManagedIdentity/userAssignedIdentities/aks-ai-platform-keda/federatedIdentityCredentials/'
                                'keda-operator')['properties']['subject'] == 'system:serviceaccount:kube-system:keda-operator'

        emu.clear_requests()
        second = run_playbook('playbooks/site.yml', variables, env=bed.env(), inventory='inventories/testbed')
        assert second.rc == 0, second.failures
        changed = [name for name, r in second.tasks.items() if r.get('changed')]
        assert changed == [], changed
        assert [r for r in emu.requests if r['method'] == 'PUT'] == []

    gone = run_playbook('playbooks/teardown.yml', {'aks_cluster_delete_resource_group': True}, env=bed.env(), inventory='inventories/testbed')
    assert gone.rc == 0, gone.failures
    assert bed.emulator.get_resource(cluster % bed.emulator.subscription_id) is None
    assert [t for t in gone.tasks if t.endswith('Prometheus monitoring | Remove the Azure Monitor workspace')]
    assert bed.emulator.get_resource('/subscriptions/%s/resourceGroups/rg-ai-platform-testbed/providers/Microsoft.Monitor/accounts/'
                                     'amw-aks-ai-platform' % bed.emulator.subscription_id) is None
    removed = [r for t, r in gone.tasks.items() if t.endswith("AI scheduling | Remove KEDA's identity and its federated credential, aks-ai-platform-keda")]
    assert [r['changed'] for r in removed] == [True], removed
    assert bed.emulator.get_resource('/subscriptions/%s/resourceGroups/rg-ai-platform-testbed/providers/Microsoft.ManagedIdentity/'
                                     'userAssignedIdentities/aks-ai-platform-keda' % bed.emulator.subscription_id) is None
