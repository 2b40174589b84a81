"""A fabricated aiplatform.aks.ai_conformance result for the report tests: an AKS 1.34 cluster after site.yml, probed
statically with a Prometheus URL, where KEDA's metrics API is down and no DRA driver runs. Its shape is the module's
RETURN; the words are what the module's probes say."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[4]
CHECKLISTS = ROOT / 'roles' / 'ai_conformance' / 'files' / 'checklists'


def checklist(version='1.34'):
    return yaml.safe_load((CHECKLISTS / ('AIConformance-%s.yaml' % version)).read_text())


def ev(check, call, observed, ok=True):
    return {'check': check, 'call': call, 'observed': observed, 'ok': ok}


FOUND = {
    'dra_support': ('Implemented', 'static', 'Static evidence (the checklist asks for presence): resource.k8s.io/v1 served with its four '
                    'resources; no DeviceClass gpu.nvidia.com (no DRA driver)', [
                        ev('resource.k8s.io/v1 deviceclasses served with create, list, update, patch, delete', 'GET /apis/resource.k8s.io/v1', 'served'),
                        ev('DeviceClass gpu.nvidia.com', 'LIST resource.k8s.io/v1 DeviceClass', 'none', False)], ''),
    'ai_inference': ('Implemented', 'functional', 'Functional probe: Gateway Programmed, header route and 80/20 split Accepted with resolved refs', [
        ev('GatewayClass istio Accepted', 'GET gateway.networking.k8s.io/v1 GatewayClass istio', 'Accepted=True'),
        ev('istiod ready', 'LIST apps/v1 Deployment (aks-istio-system, istio-system)', 'istiod-asm-1-28 ready'),
        ev('Gateway Programmed', 'CREATE gateway.networking.k8s.io/v1 Gateway aic-probe-3f9a1c2d/probe', 'Programmed=True, 10.224.0.31')], ''),
    'gang_scheduling': ('Implemented', 'functional', 'Functional probe: the Job of 2 pods was admitted whole; the Job over quota stayed suspended', [
        ev('CRD clusterqueues.kueue.x-k8s.io Established and serving v1beta2',
           'GET apiextensions.k8s.io/v1 CustomResourceDefinition clusterqueues.kueue.x-k8s.io', 'Established, serves v1beta1, v1beta2'),
        ev('controller Deployment kueue-controller-manager Available', 'LIST apps/v1 Deployment', 'kueue-system/kueue-controller-manager 1/1'),
        ev('Workload admitted all or nothing', 'LIST kueue.x-k8s.io/v1beta2 Workload', 'Admitted=True for 2 of 2 pods')], ''),
    'cluster_autoscaling': ('Partially Implemented', 'static', 'Static evidence only: the cluster autoscaler scales GPU pool gpu between 1 and 3 nodes; '
                            'run the functional probe (functional: true with probes.gpu_scale_up: true; costly: a GPU node is added) '
                            'to show the behaviour itself', [
                                ev('an AKS GPU pool with the cluster autoscaler', 'GET Microsoft.ContainerService managedClusters/agentPools',
                                   'gpu: Standard_NC24ads_A100_v4, autoscaling 1-3')], ''),
    'pod_autoscaling': ('Not Implemented', 'static', 'Static evidence: the HPA cannot scale on AI metrics: APIService v1beta1.external.metrics.k8s.io '
                        'Available: False (FailedDiscoveryCheck)', [
                            ev('HorizontalPodAutoscaler with custom and external metrics', 'GET /apis/autoscaling/v2', 'served'),
                            ev('APIService v1beta1.external.metrics.k8s.io Available',
                               'GET apiregistration.k8s.io/v1 APIService v1beta1.external.metrics.k8s.io', 'False (FailedDiscoveryCheck)', False)],
                        'ai_scheduling_keda_install'),
    'accelerator_metrics': ('Implemented', 'static', 'Measured: Prometheus has DCGM_FI_DEV_GPU_UTIL and DCGM_FI_DEV_FB_USED for every GPU node '
                            '(aks-gpu-12345678-vmss000000)', [
                                ev('DCGM_FI_DEV_GPU_UTIL for every GPU node', 'QUERY DCGM_FI_DEV_GPU_UTIL', '1 series: aks-gpu-12345678-vmss000000'),
                                ev('DCGM_FI_DEV_FB_USED for every GPU node', 'QUERY DCGM_FI_DEV_FB_USED', '1 series: aks-gpu-12345678-vmss000000')], ''),
    'ai_service_metrics': ('Implemented', 'static', 'Measured: ama-metrics collects vLLM metrics (vllm:num_requests_running from ai-serving/phi-4-mini)', [
        ev('a vLLM series', 'QUERY vllm:num_requests_running', '1 series: ai-serving/phi-4-mini')], ''),
    'secure_accelerator_access': ('Partially Implemented', 'static', 'Static evidence only: GPUs are advertised through the device plugin or DRA on '
                                  'aks-gpu-12345678-vmss000000 and no workload mounts GPU devices; run the functional probe '
                                  '(functional: true) to show the behaviour itself', [
                                      ev('GPUs advertised by a device plugin or DRA', 'LIST v1 Node', 'aks-gpu-12345678-vmss000000: nvidia.com/gpu=1'),
                                      ev('no workload mounts /dev/nvidia* from the host', 'LIST v1 Pod', 'none')], ''),
    'robust_controller': ('Implemented', 'functional', 'Functional probe: the KAITO webhook refused an invalid Workspace; a CPU template Workspace '
                          'became InferenceReady', [
                              ev('admission webhook refuses an invalid Workspace', 'CREATE kaito.sh/v1beta1 Workspace aic-probe-9b1e7f00/invalid (dryRun=All)',
                                 'denied: <instanceType> must be empty when preferredNodes are set & "quoted"')], ''),
}


def result(version='1.34'):
    """What the module returns for the checklist of `version` on the fabricated cluster."""
    rows = []
    for category, items in checklist(version)['spec'].items():
        for item in items:
            status, probe, notes, evidence, remediation = FOUND.get(item['id'], (
                'N/A', 'static', 'Static evidence: no node advertises a virtual GPU (vGPU) product', [
                    ev('a virtual GPU product', 'LIST v1 Node', 'none', False)], ''))
            rows.append({'id': item['id'], 'category': category, 'level': item['level'], 'description': item['description'], 'status': status,
                         'notes': notes, 'probe': probe, 'evidence': evidence, 'remediation': remediation})
    musts = [r for r in rows if r['level'] == 'MUST']
    failed = [r['id'] for r in musts if r['status'] not in ('Implemented', 'N/A')]
    return {
        'changed': False,
        'kubernetes_version': 'v1.34.2',
        'checklist_version': version,
        'requirements': rows,
        'components': [
            {'name': 'gpu_operator', 'target': 'v26.7.0', 'installed': 'v26.7.0', 'drift': False},
            {'name': 'kaito', 'target': '0.12.0', 'installed': '0.11.1', 'drift': True},
            {'name': 'istio', 'target': '1.28.10', 'installed': '1.28.10-distroless', 'drift': False},
            {'name': 'kueue', 'target': '0.19.2', 'installed': 'v0.19.2', 'drift': False},
            {'name': 'keda', 'target': '2.20.2', 'installed': None, 'drift': True},
        ],
        'summary': {'must': len(musts), 'must_implemented': sum(1 for r in musts if r['status'] == 'Implemented'),
                    'should': len(rows) - len(musts), 'should_implemented': sum(1 for r in rows if r['level'] == 'SHOULD' and r['status'] == 'Implemented'),
                    'failed_musts': failed, 'passed': not failed},
        'probe_objects': [{'kind': 'Namespace', 'namespace': None, 'name': 'aic-probe-3f9a1c2d', 'created': True, 'deleted': True}],
    }


METADATA = {
    'platformName': 'AI Platform on AKS <aiplatform.aks>',
    'platformVersion': '0.3.0',
    'vendorName': 'Contoso & Co',
    'websiteUrl': 'https://contoso.example/ai-platform',
    'repoUrl': 'https://github.com/contoso/ai-platform',
    'documentationUrl': 'https://contoso.example/ai-platform/docs',
    'productLogoUrl': 'https://contoso.example/ai-platform/logo.svg',
    'description': 'An AKS cluster with GPUs, KAITO, Istio, Kueue and KEDA, set up by one Ansible playbook.',
    'contactEmailAddress': 'ai-platform@contoso.example',
    'k8sConformanceUrl': '',
}
