"""What the AKS integration tests share: the platform they build (cluster and two pools) and how they look at it."""

import time

import kubernetes
from kubernetes.dynamic import DynamicClient

from tests.integration.playbook import run_playbook

RG, CLUSTER = 'rg-aks-itest', 'aks-ai-platform'
AI_POOL = {'name': 'gpunp', 'vm_size': 'Standard_D16s_v5', 'enable_auto_scaling': True, 'min_count': 0, 'max_count': 3,
           'labels': {'node-type': 'ai', 'accelerator': 'nvidia-gpu', 'workload-type': 'ai-ml'},
           'taints': ['nvidia.com/gpu=true:NoSchedule'], 'tags': {'EnableManagedGPUExperience': 'true'}}
CPU_POOL = {'name': 'cpunp', 'vm_size': 'Standard_D4s_v5', 'count': 2, 'labels': {'workload-type': 'web'}}
POOL_READ_ONLY = {'provisioningState', 'currentOrchestratorVersion', 'eTag', 'nodeImageVersion', 'powerState', 'orchestratorVersion'}


def cluster_id(sub):
    return '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s' % (sub, RG, CLUSTER)


def pool_doc(emulator, name):
    return emulator.get_resource(cluster_id(emulator.subscription_id) + '/agentPools/' + name)


def writes(emulator, method='PUT'):
    return [r for r in emulator.requests if r['method'] == method and '/providers/' in r['path']]


def nodes(bed, selector):
    client = DynamicClient(kubernetes.config.new_client_from_config(config_file=str(bed.apiserver.kubeconfig)))
    return client.resources.get(api_version='v1', kind='Node').get(label_selector=selector).to_dict()['items']


def create_platform(bed, tmp_path_factory):
    """Variables of the platform run, and its first (creating) run, on an emulator with nothing in it."""
    bed.emulator.engine.reset()
    kubeconfig = str(tmp_path_factory.mktemp('kube') / 'aks-ai-platform')
    variables = {'aks_cluster_kubeconfig': kubeconfig, 'nodepools_list': [AI_POOL, CPU_POOL], 'aks_cluster_timeout': 300,
                 'nodepools_timeout': 300}
    first = run_playbook('aks_platform.yml', variables, env=bed.env())
    return {'vars': variables, 'first': first, 'kubeconfig': kubeconfig}


def play_kubelet(bed, stop):
    """No kubelet on the bed: finish the graceful deletion of evicted pods as a kubelet would."""
    client = DynamicClient(kubernetes.config.new_client_from_config(config_file=str(bed.apiserver.kubeconfig)))
    pods = client.resources.get(api_version='v1', kind='Pod')
    while not stop.is_set():
        for pod in pods.get().to_dict()['items']:
            meta = pod['metadata']
            if meta.get('deletionTimestamp'):
                pods.delete(name=meta['name'], namespace=meta['namespace'], body={'gracePeriodSeconds': 0})
        time.sleep(0.3)
