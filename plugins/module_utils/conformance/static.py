# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static conformance probes: one per requirement id of the checklists 1.33-1.37, reads only.

Each probe reads discovery and objects (CRDs Established and serving a version, controllers' Deployments rolled out,
webhooks with a caBundle and their Service, APIServices Available, DRA DeviceClasses and ResourceSlices, GPU nodes,
AKS pools) and, for the two metrics requirements, asks Prometheus's HTTP API. It returns a finding
{outcome: pass|fail|absent, evidence: [{check, call, observed, ok}], notes, remediation, measured}; verdict.decide
turns it into a status. `remediation` names the role variable that installs what is missing.
"""

from __future__ import annotations

import json

from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import is_gpu_size
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.verdict import ABSENT, FAIL, PASS
from ansible_collections.aiplatform.aks.plugins.module_utils.gpu import info as gpu_info
from ansible_collections.aiplatform.aks.plugins.module_utils.istio.info import revisions as istiod_revisions
from ansible_collections.aiplatform.aks.plugins.module_utils.kaito.controller import crd_info
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import list_items, read_object, served
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import condition_met, is_ready

DRA_KINDS = ('DeviceClass', 'ResourceClaim', 'ResourceClaimTemplate', 'ResourceSlice')
DRA_VERBS = ('create', 'list', 'update', 'patch', 'delete')
GATEWAY_CRDS = ('gatewayclasses.gateway.networking.k8s.io', 'gateways.gateway.networking.k8s.io', 'httproutes.gateway.networking.k8s.io')
INFERENCE_POOL_CRD = 'inferencepools.inference.networking.k8s.io'
# the queue CRDs users write (Kueue's chart installs its Workload CRD with them)
KUEUE_CRDS = ('resourceflavors.kueue.x-k8s.io', 'clusterqueues.kueue.x-k8s.io', 'localqueues.kueue.x-k8s.io')
KUEUE_API = 'kueue.x-k8s.io/v1beta2'
KUEUE_CONTROLLER = 'kueue-controller-manager'
# all-or-nothing schedulers other than Kueue: their PodGroup CRDs
OTHER_GANG_CRDS = (('podgroups.scheduling.volcano.sh', 'Volcano'), ('podgroups.scheduling.run.ai', 'KAI Scheduler'))
KEDA_CRD = 'scaledobjects.keda.sh'
KEDA_OPERATOR = 'keda-operator'
METRICS_APISERVICES = ('v1beta1.external.metrics.k8s.io', 'v1beta1.custom.metrics.k8s.io')
HPA_VERSIONS = ('autoscaling/v2', 'autoscaling/v2beta2')  # both scale on custom and external metrics
KAITO_CRD, KAITO_API, KAITO_CONTROLLER, KAITO_GROUP = 'workspaces.kaito.sh', 'kaito.sh/v1beta1', 'kaito-workspace', 'kaito.sh'
DCGM_DAEMONSET = 'nvidia-dcgm-exporter'
AKS_DCGM_LABEL = 'kubernetes.azure.com/dcgm-exporter'  # AKS managed GPU nodes' host exporter (port 19400)
DCGM_CORE = ('DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_FB_USED')
# what the requirement asks for "when available": reported, never failing it (DCGM's default counters hold all three)
DCGM_WHEN_AVAILABLE = ('DCGM_FI_DEV_FB_FREE', 'DCGM_FI_DEV_GPU_TEMP', 'DCGM_FI_DEV_POWER_USAGE')
DCGM_NODE_LABELS = ('Hostname', 'node', 'kubernetes_node', 'instance')  # where a DCGM series names its node
VLLM_SERIES = 'vllm:num_requests_running'
MONITORING_CRDS = (('servicemonitors.monitoring.coreos.com', 'podmonitors.monitoring.coreos.com'),  # Prometheus Operator
                   ('servicemonitors.azmonitoring.coreos.com', 'podmonitors.azmonitoring.coreos.com'))  # AKS Managed Prometheus
PROMETHEUS_CRD = 'prometheuses.monitoring.coreos.com'
AMA_METRICS = 'ama-metrics'
CLUSTER_AUTOSCALER = 'cluster-autoscaler'
KARPENTER_CRD, KARPENTER_API = 'nodepools.karpenter.sh', 'karpenter.sh/v1'
SANDBOX_HANDLERS = ('kata', 'gvisor', 'runsc')  # AKS Pod Sandboxing: kata-vm-isolation
DYNAMO_CRD = 'dynamographdeployments.nvidia.com'
RDMA_RESOURCE_MARKS = ('rdma', 'infiniband', 'sriov')
VGPU_MARKS = ('vgpu', 'grid')
SYSTEM_NAMESPACES = ('kube-system', 'gpu-operator', 'nvidia-dra-driver-gpu')


def evidence(check, call, observed, ok):
    return {'check': check, 'call': call, 'observed': observed, 'ok': bool(ok)}


def finding(outcome, notes, items, remediation='', measured=False):
    return {'outcome': outcome, 'notes': notes, 'evidence': items, 'remediation': remediation, 'measured': measured}


class QueryError(Exception):
    """Prometheus answered with an error, or could not be reached."""


def prometheus_query(url, promql, timeout=30):
    """The instant-vector result of `promql` from Prometheus's HTTP API at `url` (GET /api/v1/query)."""
    try:
        response = open_url('%s/api/v1/query?%s' % (url.rstrip('/'), urlencode({'query': promql})), method='GET', timeout=timeout)
        body = json.loads(response.read())
    except ValueError as exc:
        raise QueryError('Prometheus at %s answered with something that is not JSON: %s' % (url, exc))
    except Exception as exc:  # pylint: disable=broad-except
        # an HTTPError carries Prometheus's own {status: error, errorType, error}
        detail = None
        if hasattr(exc, 'read'):
            try:
                detail = json.loads(exc.read())
            except Exception:  # pylint: disable=broad-except
                detail = None
        if isinstance(detail, dict) and detail.get('error'):
            raise QueryError('Prometheus refused the query (%s): %s' % (detail.get('errorType'), detail['error']))
        raise QueryError('cannot query Prometheus at %s: %s' % (url, exc))
    if body.get('status') != 'success':
        raise QueryError('Prometheus refused the query (%s): %s' % (body.get('errorType'), body.get('error')))
    data = body.get('data') or {}
    if data.get('resultType') != 'vector':
        raise QueryError('Prometheus returned a %s, not an instant vector' % data.get('resultType'))
    return data.get('result') or []


class Cluster:
    """The reads the static probes share, each made once per run, and the module's inputs they need."""

    def __init__(self, client, settings, node_pools=None, prometheus_url='', query=prometheus_query):
        self.client = client
        self.settings = settings
        self.node_pools = node_pools or []
        self.prometheus_url = prometheus_url or ''
        self.query = query
        self._cache = {}

    def _once(self, key, read):
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def gpu(self):
        return self._once('gpu', lambda: gpu_info.gather(self.client))

    def gpu_nodes(self):
        return [n for n in self.gpu()['nodes'] if n['gpu_node']]

    def crds(self):
        return self._once('crds', lambda: dict((c['metadata']['name'], c) for c in list_items(
            self.client, 'apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'list CustomResourceDefinitions') or []))

    def deployments(self, name):
        return self._once(('deployments', name), lambda: list_items(
            self.client, 'apps/v1', 'Deployment', 'list the Deployments named %s' % name, field_selector='metadata.name=%s' % name) or [])

    def nodes(self):
        return self._once('nodes', lambda: list_items(self.client, 'v1', 'Node', 'list Nodes') or [])

    def labelled_nodes(self, label, value):
        return set(n['metadata']['name'] for n in self.nodes() if ((n['metadata'].get('labels') or {}).get(label)) == value)

    def webhooks(self):
        def read():
            found = []
            for kind in ('ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'):
                for config in list_items(self.client, 'admissionregistration.k8s.io/v1', kind, 'list %ss' % kind) or []:
                    found.extend((kind, config['metadata']['name'], hook) for hook in config.get('webhooks') or [])
            return found
        return self._once('webhooks', read)

    def read(self, api_version, kind, name, namespace=None):
        resource = served(self.client, api_version, kind)
        return None if resource is None else read_object(self.client, resource, name, namespace)


# --- shared checks: each returns (ok, evidence items)

def crds_check(cluster, names, api_version):
    items = []
    for name in names:
        info, problem = crd_info(cluster.client, name, api_version)
        observed = problem or 'Established, serves %s' % ', '.join(info['served_versions'])
        items.append(evidence('CRD %s Established and serving %s' % (name, api_version.split('/')[-1]),
                              'GET apiextensions.k8s.io/v1 CustomResourceDefinition %s' % name, observed, problem is None))
    return all(i['ok'] for i in items), items


def deployment_check(cluster, name):
    """A Deployment `name` in any namespace rolled out; (ok, namespace of a ready one, evidence)."""
    found = cluster.deployments(name)
    states = [(d['metadata']['namespace'], is_ready(d)) for d in found]
    ready = [namespace for namespace, (ok, _why) in states if ok]
    observed = '; '.join('%s/%s: %s' % (namespace, name, why) for namespace, (_ok, why) in states) or 'no Deployment %s' % name
    return bool(ready), (ready or [None])[0], [evidence('controller Deployment %s Available' % name,
                                                        'LIST apps/v1 Deployment metadata.name=%s' % name, observed, ready)]


def webhooks_check(cluster, group):
    """The admission webhooks of `group`'s resources: each has a caBundle (or an https URL without one means the
    system roots) and, when it calls a Service, that Service exists."""
    items = []
    for kind, config, hook in cluster.webhooks():
        if not any(group in (rule.get('apiGroups') or []) for rule in hook.get('rules') or []):
            continue
        client_config = hook.get('clientConfig') or {}
        service = client_config.get('service')
        problems = [] if client_config.get('caBundle') else ['no caBundle']
        if service:
            target = 'Service %s/%s' % (service.get('namespace'), service.get('name'))
            if cluster.read('v1', 'Service', service.get('name'), service.get('namespace')) is None:
                problems.append('%s does not exist' % target)
        else:
            target = client_config.get('url')
        items.append(evidence('webhook %s (%s %s) has a caBundle and a backend' % (hook.get('name'), kind, config),
                              'LIST admissionregistration.k8s.io/v1 %s' % kind,
                              '; '.join(problems) or 'caBundle set, calls %s' % target, not problems))
    if not items:
        items.append(evidence('admission webhooks for %s' % group, 'LIST admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration',
                              'no webhook for API group %s' % group, False))
    return all(i['ok'] for i in items), items


def apiservice_check(cluster, name):
    service = cluster.read('apiregistration.k8s.io/v1', 'APIService', name)
    if service is None:
        ok, observed = False, 'not registered'
    else:
        ok, observed = condition_met(service, 'Available')
    return ok, evidence('APIService %s Available' % name, 'GET apiregistration.k8s.io/v1 APIService %s' % name, observed, ok)


def gpu_nodes_check(cluster):
    nodes = cluster.gpu_nodes()
    observed = ', '.join('%s (%s)' % (n['name'], ', '.join(n['gpu_node_reasons'])) for n in nodes) or 'no GPU node'
    return nodes, evidence('GPU nodes', 'LIST v1 Node', observed, nodes)


# --- one probe per requirement id

def dra_support(cluster):
    items = []
    served_version = None
    for version in gpu_info.DRA_VERSIONS:
        api_version = '%s/%s' % (gpu_info.DRA_GROUP, version)
        resources = dict((kind, served(cluster.client, api_version, kind)) for kind in DRA_KINDS)
        if all(resources.values()):
            served_version = api_version
            for kind, resource in resources.items():
                missing = [verb for verb in DRA_VERBS if verb not in (resource.verbs or [])]
                items.append(evidence('%s %s served with %s' % (api_version, resource.name, ', '.join(DRA_VERBS)), 'GET /apis/%s' % api_version,
                                      'missing verbs: %s' % ', '.join(missing) if missing else 'served', not missing))
            break
    if served_version is None:
        items.append(evidence('the DRA API %s served' % gpu_info.DRA_GROUP, 'GET /apis/%s/v1' % gpu_info.DRA_GROUP, 'not served', False))
        return finding(FAIL, '%s is not served by this apiserver (%s)' % (gpu_info.DRA_GROUP, gpu_info.server_version(cluster.client)),
                       items, 'gpu_operator_dra')
    if not all(i['ok'] for i in items):
        return finding(FAIL, 'the DRA resources of %s lack verbs' % served_version, items, 'gpu_operator_dra')
    dra = cluster.gpu()['dra']
    device_class = cluster.settings['device_class']
    has_class = any(c['name'] == device_class for c in dra['device_classes'])
    slices = [s for s in dra['resource_slices'] if s['driver'] == device_class]
    items.append(evidence('DeviceClass %s' % device_class, 'LIST %s DeviceClass' % dra['api_version'],
                          'present' if has_class else 'absent', has_class))
    items.append(evidence('ResourceSlices of driver %s' % device_class, 'LIST %s ResourceSlice' % dra['api_version'],
                          ', '.join('%s (node %s, %d devices)' % (s['name'], s['node'], s['devices']) for s in slices) or 'none', slices))
    pools = gpu_info.resource_pools(slices)
    incomplete = [p for p in pools if not p['complete']]
    if pools:
        items.append(evidence('ResourceSlice pools of driver %s complete (every slice of the newest generation)' % device_class,
                              'LIST %s ResourceSlice' % dra['api_version'],
                              '; '.join('pool %s: %d of %d slices at generation %d' % (p['pool'], p['slices'], p['slice_count'], p['generation'])
                                        for p in pools), not incomplete))
    notes = 'the DRA API %s is served' % served_version
    if not has_class or not slices:
        notes += '; no GPU driver publishes devices yet (DeviceClass %s, ResourceSlices): gpu_operator_dra installs the NVIDIA DRA driver' % device_class
    elif incomplete:
        notes += '; incomplete pools (the driver has not published every slice of the newest generation): %s' % ', '.join(
            '%s (%d of %d slices)' % (p['pool'], p['slices'], p['slice_count']) for p in incomplete)
    return finding(PASS, notes, items)


def driver_runtime_management(cluster):
    nodes, gpu_item = gpu_nodes_check(cluster)
    if not nodes:
        return finding(ABSENT, 'no GPU node: there is no accelerator driver to manage', [gpu_item])
    policy = cluster.gpu()['cluster_policy']
    items = [gpu_item, evidence('GPU Operator ClusterPolicy state ready', 'LIST nvidia.com/v1 ClusterPolicy',
                                policy['reason'] or 'state %s' % policy['state'], policy['ready'])]
    managed = [n['name'] for n in nodes if n['name'] in cluster.labelled_nodes(AKS_DCGM_LABEL, 'enabled')]
    items.append(evidence('AKS managed GPU nodes (label %s=enabled)' % AKS_DCGM_LABEL, 'LIST v1 Node', ', '.join(managed) or 'none', managed))
    if policy['ready']:
        return finding(PASS, 'the GPU Operator manages the driver and the container toolkit (ClusterPolicy ready)', items)
    if managed:
        return finding(PASS, 'AKS manages the GPU driver and runtime on %s' % ', '.join(managed), items)
    return finding(FAIL, 'nothing manages the GPU driver and runtime (no ready ClusterPolicy)', items, 'gpu_operator_mode')


def gpu_sharing(cluster):
    nodes, gpu_item = gpu_nodes_check(cluster)
    shared = []
    for node in nodes:
        names = [r for r, amounts in node['resources'].items() if amounts['allocatable'] and
                 (r.startswith(gpu_info.MIG_RESOURCE_PREFIX) or r == gpu_info.SHARED_RESOURCE)]
        if (node['gfd']['replicas'] or 0) > 1:
            names.append('%s=%s' % (dict(gpu_info.GFD_LABELS)['replicas'], node['gfd']['replicas']))
        if names:
            shared.append('%s: %s' % (node['name'], ', '.join(names)))
    items = [gpu_item, evidence('MIG or time-sliced GPU resources', 'LIST v1 Node', '; '.join(shared) or 'none', shared)]
    if not shared:
        return finding(ABSENT, 'no GPU sharing strategy is configured (no MIG or time-sliced resources on any node)', items,
                       'gpu_operator_time_slicing')
    return finding(PASS, 'GPUs are shared: %s' % '; '.join(shared), items)


def virtualized_accelerator(cluster):
    nodes, gpu_item = gpu_nodes_check(cluster)
    virtual = [n['name'] for n in nodes if any(mark in (n['gfd']['product'] or '').lower() for mark in VGPU_MARKS)]
    items = [gpu_item, evidence('a virtual GPU product (GPU feature discovery label %s)' % dict(gpu_info.GFD_LABELS)['product'], 'LIST v1 Node',
                                ', '.join(virtual) or 'none', virtual)]
    if not virtual:
        return finding(ABSENT, 'no node advertises a virtual GPU (vGPU) product', items)
    return finding(PASS, 'virtual GPUs on %s' % ', '.join(virtual), items)


def ai_inference(cluster):
    ok, items = crds_check(cluster, GATEWAY_CRDS, 'gateway.networking.k8s.io/v1')
    name = cluster.settings['gateway_class']
    gateway_class = cluster.read('gateway.networking.k8s.io/v1', 'GatewayClass', name) if ok else None
    accepted, why = condition_met(gateway_class, 'Accepted') if gateway_class else (False, 'not found')
    items.append(evidence('GatewayClass %s Accepted' % name, 'GET gateway.networking.k8s.io/v1 GatewayClass %s' % name, why, accepted))
    found = istiod_revisions(cluster.client, ('aks-istio-system', 'istio-system'))
    ready = [r for r in found if r['ready']]
    items.append(evidence('istiod ready', 'LIST apps/v1 Deployment (aks-istio-system, istio-system)',
                          ', '.join('%s/%s ready %s' % (r['namespace'], r['deployment'], r['ready']) for r in found) or 'no istiod', ready))
    if not (ok and accepted and ready):
        return finding(FAIL, 'no accepted Gateway API implementation: %s' % '; '.join(i['observed'] for i in items if not i['ok']), items,
                       'istio_install')
    return finding(PASS, 'Gateway API v1 with GatewayClass %s accepted, istiod %s ready' % (name, ready[0]['revision']), items)


def advanced_inference_ingress(cluster):
    ok, items = crds_check(cluster, (INFERENCE_POOL_CRD,), 'inference.networking.k8s.io/v1')
    if not ok:
        return finding(FAIL, 'the Gateway API Inference Extension is not installed (%s)' % items[0]['observed'], items, 'istio_inference_pools')
    return finding(PASS, 'InferencePool v1 is served', items)


def high_performance_networking(cluster):
    found = ['%s: %s' % (n['metadata']['name'], r) for n in cluster.nodes() for r in (n.get('status') or {}).get('allocatable') or {}
             if any(mark in r.lower() for mark in RDMA_RESOURCE_MARKS)]
    items = [evidence('RDMA or secondary network device resources on nodes', 'LIST v1 Node', '; '.join(found) or 'none', found)]
    if not found:
        return finding(FAIL, 'no node advertises RDMA or secondary network devices', items)
    return finding(PASS, 'high-performance network devices: %s' % '; '.join(found), items)


def disaggregated_inference(cluster):
    present = DYNAMO_CRD in cluster.crds()
    items = [evidence('NVIDIA Dynamo CRD %s' % DYNAMO_CRD, 'GET apiextensions.k8s.io/v1 CustomResourceDefinition %s' % DYNAMO_CRD,
                      'installed' if present else 'not installed', present)]
    if not present:
        return finding(FAIL, 'no disaggregated serving framework found (NVIDIA Dynamo)', items)
    return finding(PASS, 'NVIDIA Dynamo is installed', items)


def gang_scheduling(cluster):
    crds_ok, items = crds_check(cluster, KUEUE_CRDS, KUEUE_API)
    ready, namespace, deployment_items = deployment_check(cluster, KUEUE_CONTROLLER)
    items.extend(deployment_items)
    hooks_ok, hook_items = webhooks_check(cluster, 'kueue.x-k8s.io')
    items.extend(hook_items)
    if crds_ok:
        queues = list_items(cluster.client, KUEUE_API, 'ClusterQueue', 'list ClusterQueues') or []
        items.append(evidence('ClusterQueues', 'LIST %s ClusterQueue' % KUEUE_API,
                              ', '.join(q['metadata']['name'] for q in queues) or 'none (the functional probe makes its own)', True))
    if crds_ok and ready and hooks_ok:
        return finding(PASS, 'Kueue runs (%s/%s Available, CRDs served in %s, webhooks with caBundle)' % (namespace, KUEUE_CONTROLLER, KUEUE_API),
                       items)
    others = [(crd, name) for crd, name in OTHER_GANG_CRDS if crd in cluster.crds()]
    for crd, name in others:
        items.append(evidence('%s CRD %s' % (name, crd), 'GET apiextensions.k8s.io/v1 CustomResourceDefinition %s' % crd, 'installed', True))
    if others:
        return finding(PASS, '%s is installed (its PodGroup CRD)' % others[0][1], items)
    return finding(FAIL, 'no gang scheduler runs: %s' % '; '.join(i['observed'] for i in items if not i['ok']), items,
                   'ai_scheduling_kueue_install')


def cluster_autoscaling(cluster):
    if cluster.node_pools:
        return _pools_autoscaling(cluster.node_pools)
    items = []
    ready, namespace, deployment_items = deployment_check(cluster, CLUSTER_AUTOSCALER)
    if cluster.deployments(CLUSTER_AUTOSCALER):
        items.extend(deployment_items)
    status = cluster.read('v1', 'ConfigMap', 'cluster-autoscaler-status', 'kube-system')
    items.append(evidence('cluster autoscaler status', 'GET v1 ConfigMap kube-system/cluster-autoscaler-status',
                          'present' if status else 'absent', status))
    if KARPENTER_CRD in cluster.crds():
        pools = list_items(cluster.client, KARPENTER_API, 'NodePool', 'list Karpenter NodePools') or []
        gpu_pools = [p['metadata']['name'] for p in pools if _admits_gpus(p)]
        items.append(evidence('Karpenter NodePools admitting GPU nodes', 'LIST %s NodePool' % KARPENTER_API, ', '.join(gpu_pools) or 'none', gpu_pools))
        if gpu_pools:
            return finding(PASS, 'node auto-provisioning (Karpenter) admits GPU nodes in NodePool %s' % ', '.join(gpu_pools), items)
    if ready or status:
        return finding(PASS, 'a cluster autoscaler runs (%s)' % ('%s/%s' % (namespace, CLUSTER_AUTOSCALER) if ready else 'its status ConfigMap'), items)
    return finding(ABSENT, 'the platform provides no cluster autoscaler (no node_pools given, no cluster-autoscaler, no Karpenter NodePool '
                   'admitting GPU nodes): the requirement applies only where one exists', items, 'nodepools_list')


def _admits_gpus(node_pool):
    """A Karpenter NodePool whose requirements name GPUs (karpenter.azure.com/sku-gpu-manufacturer, ...-gpu-count...)."""
    requirements = ((((node_pool.get('spec') or {}).get('template') or {}).get('spec') or {}).get('requirements')) or []
    return any('gpu' in (r.get('key') or '').lower() and r.get('operator') != 'DoesNotExist' for r in requirements)


def _pools_autoscaling(pools):
    gpu_pools = [p for p in pools if is_gpu_size(p.get('vmSize'))]
    observed = ', '.join('%s (%s, autoscaling %s, min %s, max %s)' % (p.get('name'), p.get('vmSize'), bool(p.get('enableAutoScaling')),
                                                                      p.get('minCount'), p.get('maxCount')) for p in gpu_pools)
    items = [evidence('an AKS GPU pool with the cluster autoscaler', 'GET Microsoft.ContainerService managedClusters/agentPools',
                      observed or 'no GPU pool', False)]
    scaling = [p for p in gpu_pools if p.get('enableAutoScaling') and (p.get('minCount') or 0) < (p.get('maxCount') or 0)]
    pinned = [p for p in gpu_pools if p.get('enableAutoScaling') and p not in scaling]
    if scaling:
        items[0]['ok'] = True
        return finding(PASS, 'the cluster autoscaler scales GPU pool %s between %s and %s nodes' % (
            scaling[0]['name'], scaling[0].get('minCount'), scaling[0].get('maxCount')), items)
    if pinned:
        pool = pinned[0]
        return finding(PASS, 'GPU pool %s has autoscaling on but is pinned at min = max = %s: it cannot prove autoscaling (give it a larger '
                             'maxCount)' % (pool['name'], pool.get('minCount')), items, 'nodepools_list')
    if not gpu_pools:
        return finding(FAIL, 'no GPU pool: nothing for the cluster autoscaler to scale', items, 'nodepools_list')
    return finding(FAIL, 'no GPU pool has the cluster autoscaler on (enableAutoScaling with minCount < maxCount)', items, 'nodepools_list')


def pod_autoscaling(cluster):
    hpa = next((v for v in HPA_VERSIONS if served(cluster.client, v, 'HorizontalPodAutoscaler')), None)
    items = [evidence('HorizontalPodAutoscaler with custom and external metrics', 'GET /apis/%s' % HPA_VERSIONS[0],
                      'served in %s' % hpa if hpa else 'not served', hpa)]
    metrics = [apiservice_check(cluster, name) for name in METRICS_APISERVICES]
    items.extend(item for _ok, item in metrics)
    keda_crd, keda_items = crds_check(cluster, (KEDA_CRD,), 'keda.sh/v1alpha1')
    items.extend(keda_items)
    keda_ready, _namespace, deployment_items = deployment_check(cluster, KEDA_OPERATOR)
    items.extend(deployment_items)
    if hpa and any(ok for ok, _item in metrics):
        return finding(PASS, 'the HPA API (%s) and a custom or external metrics API are Available%s' % (
            hpa, ', KEDA runs' if keda_crd and keda_ready else ''), items)
    lacking = [items[0]] + [item for _ok, item in metrics]
    return finding(FAIL, 'the HPA cannot scale on AI metrics: %s' % '; '.join(
        '%s: %s' % (i['check'], i['observed']) for i in lacking if not i['ok']), items, 'ai_scheduling_keda_install')


def _node_of(series):
    labels = series.get('metric') or {}
    return set(labels[k].split(':')[0] for k in DCGM_NODE_LABELS if labels.get(k))


def accelerator_metrics(cluster):
    nodes, gpu_item = gpu_nodes_check(cluster)
    items = [gpu_item]
    if not nodes:
        return finding(FAIL, 'no GPU node: no accelerator metrics to expose', items, 'nodepools_list')
    exporters = cluster.gpu()['dcgm_exporters']
    daemonsets = list_items(cluster.client, 'apps/v1', 'DaemonSet', 'list the DaemonSets named %s' % DCGM_DAEMONSET,
                            field_selector='metadata.name=%s' % DCGM_DAEMONSET) or []
    managed = [n['name'] for n in nodes if n['name'] in cluster.labelled_nodes(AKS_DCGM_LABEL, 'enabled')]
    exporter = ['Service %s/%s port %s' % (e['namespace'], e['name'], e['port']) for e in exporters]
    exporter += ['DaemonSet %s/%s' % (d['metadata']['namespace'], DCGM_DAEMONSET) for d in daemonsets]
    exporter += ['AKS managed exporter on %s' % ', '.join(managed)] if managed else []
    items.append(evidence('a DCGM exporter', 'LIST v1 Service metadata.name=%s' % gpu_info.DCGM_SERVICE, '; '.join(exporter) or 'none', exporter))
    if not exporter:
        return finding(FAIL, 'no DCGM exporter serves GPU metrics', items, 'gpu_operator_mode')
    if not cluster.prometheus_url:
        return finding(PASS, 'a DCGM exporter runs (%s); no prometheus_url, so no query showed its series' % exporter[0], items)
    names = [n['name'] for n in nodes]
    missing = []
    for metric in DCGM_CORE:
        try:
            result = cluster.query(cluster.prometheus_url, metric)
        except QueryError as exc:
            items.append(evidence('%s for every GPU node' % metric, 'QUERY %s' % metric, str(exc), False))
            return finding(FAIL, 'the query for %s failed: %s' % (metric, exc), items, 'prometheus_monitoring_install')
        seen = set().union(*[_node_of(s) for s in result]) if result else set()
        lacking = [n for n in names if n not in seen]
        missing.extend('%s on %s' % (metric, n) for n in lacking)
        items.append(evidence('%s for every GPU node' % metric, 'QUERY %s' % metric,
                              '%d series; nodes without: %s' % (len(result), ', '.join(lacking) or 'none'), not lacking))
    if missing:
        return finding(FAIL, 'Prometheus has no %s' % ', '.join(missing), items, 'prometheus_monitoring_install')
    extra = _when_available(cluster, names)
    items.append(extra)
    notes = 'Prometheus has %s for every GPU node (%s)' % (' and '.join(DCGM_CORE), ', '.join(names))
    if not extra['ok']:
        notes += '; asked for when available, not seen: %s' % extra['observed']
    return finding(PASS, notes, items, measured=True)


def _when_available(cluster, names):
    """Evidence of free memory, temperature and power for every GPU node: what is missing, or why it is not known."""
    lacking = []
    for metric in DCGM_WHEN_AVAILABLE:
        try:
            result = cluster.query(cluster.prometheus_url, metric)
        except QueryError as exc:
            lacking.append('%s (the query failed: %s)' % (metric, exc))
            continue
        seen = set().union(*[_node_of(s) for s in result]) if result else set()
        lacking.extend('%s on %s' % (metric, n) for n in names if n not in seen)
    return evidence('%s for every GPU node (when available)' % ', '.join(DCGM_WHEN_AVAILABLE),
                    'QUERY %s' % ', '.join(DCGM_WHEN_AVAILABLE), ', '.join(lacking) or 'all present', not lacking)


def ai_service_metrics(cluster):
    items = []
    stacks = []
    for names in MONITORING_CRDS:
        present = [n for n in names if n in cluster.crds()]
        items.append(evidence('CRDs %s' % ', '.join(names), 'LIST apiextensions.k8s.io/v1 CustomResourceDefinition',
                              'installed: %s' % (', '.join(present) or 'none'), len(present) == len(names)))
    if items[0]['ok'] and PROMETHEUS_CRD in cluster.crds():
        prometheuses = list_items(cluster.client, 'monitoring.coreos.com/v1', 'Prometheus', 'list Prometheus objects') or []
        items.append(evidence('a Prometheus', 'LIST monitoring.coreos.com/v1 Prometheus',
                              ', '.join('%s/%s' % (p['metadata']['namespace'], p['metadata']['name']) for p in prometheuses) or 'none', prometheuses))
        if prometheuses:
            stacks.append('Prometheus Operator')
    if items[1]['ok']:
        ready, namespace, deployment_items = deployment_check(cluster, AMA_METRICS)
        items.extend(deployment_items)
        if ready:
            stacks.append('Azure Monitor managed Prometheus (%s/%s)' % (namespace, AMA_METRICS))
    if not stacks:
        return finding(FAIL, 'no monitoring system discovers workload metrics (no Prometheus Operator with a Prometheus, no ama-metrics)',
                       items, 'prometheus_monitoring_install')
    if not cluster.prometheus_url:
        return finding(PASS, '%s collects workload metrics; no prometheus_url, so no query showed a model server\'s series' % stacks[0], items)
    try:
        result = cluster.query(cluster.prometheus_url, VLLM_SERIES)
    except QueryError as exc:
        items.append(evidence('a vLLM series', 'QUERY %s' % VLLM_SERIES, str(exc), False))
        return finding(FAIL, 'the query for %s failed: %s' % (VLLM_SERIES, exc), items, 'prometheus_monitoring_install')
    where = sorted(set('%s/%s' % ((s.get('metric') or {}).get('namespace'), (s.get('metric') or {}).get('pod')) for s in result))
    items.append(evidence('a vLLM series', 'QUERY %s' % VLLM_SERIES, '%d series: %s' % (len(result), ', '.join(where)) if result else 'no series',
                          result))
    if not result:
        return finding(FAIL, 'Prometheus has no %s series: no model server is scraped' % VLLM_SERIES, items, 'prometheus_monitoring_install')
    return finding(PASS, '%s collects vLLM metrics (%s from %s)' % (stacks[0], VLLM_SERIES, ', '.join(where)), items, measured=True)


def secure_accelerator_access(cluster):
    nodes, gpu_item = gpu_nodes_check(cluster)
    items = [gpu_item]
    if not nodes:
        return finding(FAIL, 'no GPU node: no accelerator access to mediate', items, 'nodepools_list')
    mediated = [n['name'] for n in nodes if n['advertises_gpus']]
    items.append(evidence('GPUs advertised by a device plugin or DRA', 'LIST v1 Node', ', '.join(mediated) or 'none', mediated))
    pods = list_items(cluster.client, 'v1', 'Pod', 'list Pods') or []
    raw = ['%s/%s' % (p['metadata']['namespace'], p['metadata']['name']) for p in pods
           if any(((v.get('hostPath') or {}).get('path') or '').startswith('/dev/nvidia') for v in (p.get('spec') or {}).get('volumes') or [])
           and p['metadata']['namespace'] not in SYSTEM_NAMESPACES]
    items.append(evidence('no workload mounts /dev/nvidia* from the host', 'LIST v1 Pod', ', '.join(raw) or 'none', not raw))
    if not mediated or raw:
        return finding(FAIL, 'GPU access is not mediated: %s' % '; '.join(i['observed'] for i in items[1:] if not i['ok']), items,
                       'gpu_operator_mode')
    return finding(PASS, 'GPUs are advertised through the device plugin or DRA on %s and no workload mounts GPU devices' % ', '.join(mediated),
                   items)


def workload_sandboxing(cluster):
    classes = list_items(cluster.client, 'node.k8s.io/v1', 'RuntimeClass', 'list RuntimeClasses') or []
    sandboxed = ['%s (handler %s)' % (c['metadata']['name'], c.get('handler')) for c in classes
                 if any(mark in (c.get('handler') or '').lower() for mark in SANDBOX_HANDLERS)]
    items = [evidence('a sandboxed RuntimeClass (Kata, gVisor)', 'LIST node.k8s.io/v1 RuntimeClass', ', '.join(sandboxed) or 'none', sandboxed)]
    if not sandboxed:
        return finding(FAIL, 'no sandboxed RuntimeClass', items)
    return finding(PASS, 'sandboxed RuntimeClass %s' % ', '.join(sandboxed), items)


def robust_controller(cluster):
    crd_ok, items = crds_check(cluster, (KAITO_CRD,), KAITO_API)
    ready, namespace, deployment_items = deployment_check(cluster, KAITO_CONTROLLER)
    items.extend(deployment_items)
    hooks_ok, hook_items = webhooks_check(cluster, KAITO_GROUP)
    items.extend(hook_items)
    if crd_ok and ready and hooks_ok:
        return finding(PASS, 'KAITO runs: %s/%s Available, %s served in %s, its admission webhook has a caBundle' % (
            namespace, KAITO_CONTROLLER, KAITO_CRD, KAITO_API.split('/')[1]), items)
    return finding(FAIL, 'KAITO is not operational: %s' % '; '.join(i['observed'] for i in items if not i['ok']), items, 'kaito_install')


PROBES = {
    'dra_support': dra_support,
    'driver_runtime_management': driver_runtime_management,
    'gpu_sharing': gpu_sharing,
    'virtualized_accelerator': virtualized_accelerator,
    'ai_inference': ai_inference,
    'advanced_inference_ingress': advanced_inference_ingress,
    'high_performance_networking': high_performance_networking,
    'disaggregated_inference': disaggregated_inference,
    'gang_scheduling': gang_scheduling,
    'cluster_autoscaling': cluster_autoscaling,
    'pod_autoscaling': pod_autoscaling,
    'accelerator_metrics': accelerator_metrics,
    'ai_service_metrics': ai_service_metrics,
    'secure_accelerator_access': secure_accelerator_access,
    'workload_sandboxing': workload_sandboxing,
    'robust_controller': robust_controller,
}
