"""Every Kubernetes object the roles render passes client-side validation at Kubernetes 1.34.

The objects are rendered the way a run renders them, in process and without a cluster: role defaults and vars, the
shipped inventories' group_vars and the model_workspace scenario's vars are templated with Ansible's Templar; the
arguments of the roles' own k8s_apply and kaito_workspace tasks are templated from them; k8s_apply's templates are
rendered with the task's variables plus the item's vars (as plugins/action/k8s_apply.py does); kaito_workspace's
options go through the module's argument spec and its render functions. Each object is then validated like
k8s_apply's validate option does, against the Kubernetes 1.34 schemas and the upstream CRDs in tests/crds (HTTPRoute
with its CEL rules, KAITO Workspace). A break of each kind, through the same path, must be caught.
"""

import copy
import functools
import json
import re
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.aiplatform.aks.plugins.action.k8s_apply import SHARED_TEMPLATES
from ansible_collections.aiplatform.aks.plugins.filter.ai_scheduling import ai_scheduling_plan
from ansible_collections.aiplatform.aks.plugins.filter.gpu_operator import gpu_operator_plan
from ansible_collections.aiplatform.aks.plugins.filter.istio import istio_namespace_labels, istio_plan
from ansible_collections.aiplatform.aks.plugins.filter.prometheus_monitoring import prometheus_monitoring_plan
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import load_documents
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.validate import Validator, read_crd_files
from ansible_collections.aiplatform.aks.plugins.module_utils.kaito.workspace import (
    render_inference_config, render_pdb, render_workspace, validate_params)
from ansible_collections.aiplatform.aks.plugins.modules import kaito_workspace

REPO = Path(__file__).resolve().parents[3]
ROLES = REPO / 'roles'
CRDS = REPO / 'tests' / 'crds'
CRD_FILES = [CRDS / 'gateway-api' / 'v1.4.1' / 'gateway.networking.k8s.io_httproutes.yaml', CRDS / 'kaito' / 'kaito.sh_workspaces.yaml',
             CRDS / 'azure-monitor' / 'ama-metrics-servicemonitor-crd.yaml', CRDS / 'gateway-api' / 'v1.4.1' / 'gateway.networking.k8s.io_gateways.yaml',
             CRDS / 'istio' / '1.28.10' / 'crd-all.gen.yaml.gz',
             CRDS / 'gateway-api-inference-extension' / 'v1.6.0' / 'inference.networking.k8s.io_inferencepools.yaml',
             CRDS / 'azure-monitor' / 'ama-metrics-podmonitor-crd.yaml',
             CRDS / 'prometheus-operator' / 'v0.93.0' / 'monitoring.coreos.com_servicemonitors.yaml',
             CRDS / 'prometheus-operator' / 'v0.93.0' / 'monitoring.coreos.com_podmonitors.yaml']
# ai_scheduling: Kueue v0.19.2 (v1beta2) and KEDA v2.20.2
CRD_FILES += [CRDS / 'kueue' / ('kueue.x-k8s.io_%s.yaml' % name) for name in ('resourceflavors', 'clusterqueues', 'localqueues')]
CRD_FILES += [CRDS / 'keda' / 'v2.20.2' / ('keda.sh_%s.yaml' % name) for name in ('scaledobjects', 'triggerauthentications')]
INVENTORIES = sorted(p.parent.parent.name for p in (REPO / 'inventories').glob('*/group_vars/all.yml'))
MOLECULE_VARS = REPO / 'molecule' / 'model_workspace' / 'vars' / 'models.yml'
VERSION = '1.34'
LOADER = DataLoader()


# --- rendering as a run does ---------------------------------------------------------------------------
def load(path):
    return LOADER.load_from_file(str(path), trusted_as_template=True)


def plain(value):
    """What a module receives: JSON, without Ansible's data tags."""
    return json.loads(json.dumps(value))


def template(value, variables):
    return Templar(loader=LOADER, variables=variables).template(value)


def role_variables(role, *files, **overrides):
    """Role defaults, then role vars, then the given group_vars/vars files, then overrides (extra vars)."""
    variables = {}
    for path in [ROLES / role / 'defaults' / 'main.yml', ROLES / role / 'vars' / 'main.yml'] + list(files):
        if Path(path).is_file():
            variables.update(load(path) or {})
    variables.update(overrides)
    return variables


def inventory_vars(name):
    return REPO / 'inventories' / name / 'group_vars' / 'all.yml'


def role_tasks(role, module, tasks_file='main.yml'):
    return [task for task in load(ROLES / role / 'tasks' / tasks_file) if module in task]


def rendering_args(task, module):
    """The task's arguments without the connection ones (kubeconfig, validate), which render nothing."""
    return dict((k, v) for k, v in task[module].items() if k not in ('kubeconfig', 'validate'))


def template_items(task, variables):
    """A k8s_apply task's template items: its list, or what its expression gives for these variables."""
    items = task['aiplatform.aks.k8s_apply']['template']
    return template(items, variables) if isinstance(items, str) else items


def item_path(item):
    return item if isinstance(item, str) else item['path']


def k8s_apply_objects(role, template_path, variables, tasks_file='main.yml'):
    """The objects the role's k8s_apply task with this template (or list of templates) renders (state present)."""
    paths = [template_path] if isinstance(template_path, str) else list(template_path)
    [items] = [items for items in (template_items(t, variables) for t in role_tasks(role, 'aiplatform.aks.k8s_apply', tasks_file)
                                   if template(t['aiplatform.aks.k8s_apply'].get('state', 'present'), variables) == 'present')
               if [item_path(i) for i in items] == paths]
    objects = []
    for item in template(items, variables):
        path = ROLES / role / 'templates' / item_path(item)
        path = path if path.is_file() else Path(SHARED_TEMPLATES) / item_path(item)
        item_vars = dict(variables, **({} if isinstance(item, str) else item.get('vars', {})))
        text = Templar(loader=LOADER, variables=item_vars).template(trust_as_template(path.read_text()), escape_backslashes=False)
        objects.extend(load_documents(text, str(path)))
    return plain(objects)


def models_of(variables, expression='{{ model_workspace_models }}'):
    return plain(template(trust_as_template(expression), variables))


def workspace_objects(models, variables):
    """What the role's kaito_workspace task makes kaito_workspace render for each model, on a 1.34 cluster (policy/v1)."""
    task = role_tasks('model_workspace', 'aiplatform.aks.kaito_workspace')[0]  # create; the wait task repeats its arguments
    objects = []
    for model in models:
        args = plain(template(rendering_args(task, 'aiplatform.aks.kaito_workspace'), dict(variables, item=model, model_workspace_wait_now=False)))
        checked = ArgumentSpecValidator(kaito_workspace.argument_spec(), mutually_exclusive=[('preset', 'template', 'tuning')]).validate(args)
        assert checked.error_messages == [], model['name']
        params = checked.validated_parameters
        assert validate_params(params) == [], model['name']
        workspace = render_workspace(params)
        objects += [workspace, render_inference_config(params), render_pdb(params, 'policy/v1')]
        pod_template = workspace['inference'].get('template')
        if pod_template:
            # KAITO's CRD takes any pod template (x-kubernetes-preserve-unknown-fields) and puts it in a Deployment:
            # check it as the PodTemplateSpec it becomes
            objects.append({'apiVersion': 'v1', 'kind': 'PodTemplate', 'metadata': dict(workspace['metadata']), 'template': pod_template})
    return [o for o in objects if o is not None]


def model_workspace_namespaces(variables):
    return k8s_apply_objects('model_workspace', 'namespaces.yaml.j2', variables)


def routes(route_list, **extra):
    variables = role_variables('model_workspace', model_workspace_routes=route_list, **extra)
    return k8s_apply_objects('model_workspace', 'httproutes.yaml.j2', variables)


def kaito_namespace(gpu_operator_present, **extra):
    """The kaito role's namespace on its helm path: values.yml's facts computed, then helm.yml's k8s_apply task."""
    variables = role_variables('kaito', inventory_vars('kind'), kaito_before={'gpu_operator': {'present': gpu_operator_present}}, **extra)
    for task in load(ROLES / 'kaito' / 'tasks' / 'values.yml'):
        if 'ansible.builtin.set_fact' in task:
            variables.update(template(task['ansible.builtin.set_fact'], dict(variables, **task.get('vars', {}))))
    return k8s_apply_objects('kaito', 'namespaces.yaml.j2', variables, tasks_file='helm.yml')


def gpu_operator_objects(tasks_file, template_paths, pools, **plan_options):
    """What the gpu_operator role's k8s_apply task in `tasks_file` renders for the plan of `pools`."""
    variables = role_variables('gpu_operator', gpu_operator_plan_effective=gpu_operator_plan(pools, **plan_options))
    return k8s_apply_objects('gpu_operator', template_paths, variables, tasks_file=tasks_file)


GPU_POOL = {'name': 'gpunp', 'vmSize': 'Standard_NC24ads_A100_v4'}
DRA_EXAMPLES = ('dra-gpu-claim-template-example.yml', 'dra-gpu-pod-example.yml')
OWN_DRIVER_POOL = dict(GPU_POOL, gpuProfile={'driver': 'None'})


def gpu_validation_jobs(level='quick', mode='gpu_operator'):
    """The validation Jobs the gpu_operator role's validate.yml renders for a node of the GPU pool (gpu_info's view)."""
    node = {'name': 'aks-gpunp-12345678-vmss000000', 'pool': 'gpunp', 'gpu_node': True, 'unschedulable': False, 'dra_gpu_devices': 0,
            'gfd': {'count': 1, 'replicas': None}, 'resources': {'nvidia.com/gpu': {'capacity': 1, 'allocatable': 1, 'allocated': 0}}}
    gpus = {'nodes': [node], 'summary': {}, 'dcgm_exporters': []}
    variables = role_variables('gpu_operator', gpu_operator_plan_effective=gpu_operator_plan([dict(GPU_POOL, nodeTaints=['sku=gpu:NoSchedule'])], mode=mode),
                               gpu_operator_gpus=gpus, gpu_operator_validation_run='x7k2p', gpu_operator_validate_level=level)
    [task] = [t for t in role_tasks('gpu_operator', 'ansible.builtin.set_fact', 'validate.yml')
              if 'gpu_operator_validation' in t['ansible.builtin.set_fact']]
    rendered = template(task['ansible.builtin.set_fact'], variables)['gpu_operator_validation']
    assert rendered['problems'] == [] and rendered['skipped'] == {}
    return plain(rendered['jobs'])


ISTIO_TEMPLATES = ['mesh-namespaces.yaml.j2', 'mesh-policies.yaml.j2', 'gateway.yaml.j2', 'inference-pools.yaml.j2']


def istio_objects(templates, **overrides):
    """What the istio role's k8s_apply task with these templates renders for a mesh of two namespaces on the add-on's
    asm-1-28, one of them labelled istio-injection."""
    mesh = {'revisions': [{'revision': 'asm-1-28', 'namespace': 'aks-istio-system', 'ready': True}], 'revision_names': ['asm-1-28'],
            'gateway_api': {'managed_by_aks': True},
            'apis': {'gateway.networking.k8s.io/v1': True, 'security.istio.io/v1': True, 'inference.networking.k8s.io/v1': True}}
    variables = role_variables('istio', **overrides)
    variables['istio_namespaces'] = ['ai-serving', 'bloomz']
    plan = istio_plan(mesh, {'istio': True, 'istio_revisions': ['asm-1-28'], 'gateway_api': True}, namespaces=variables['istio_namespaces'],
                      mtls=variables['istio_mtls'], destination_rules=variables['istio_destination_rules'],
                      inference_pools=variables['istio_inference_pools'])
    assert plan['problems'] == []
    found = [{'item': 'ai-serving', 'resources': [{'metadata': {'labels': {'istio-injection': 'enabled'}}}]}, {'item': 'bloomz', 'resources': []}]
    variables.update(istio_plan_effective=plan, istio_labels_effective=istio_namespace_labels(plan, found, variables['istio_gateway_name']))
    return k8s_apply_objects('istio', templates, variables)


PROMETHEUS_MONITORING_TEMPLATES = {'managed': ['namespaces.yaml.j2', 'monitors.yaml.j2'], 'helm': ['monitors.yaml.j2', 'dashboard.yaml.j2'],
                                   'operator': ['namespaces.yaml.j2', 'monitors.yaml.j2', 'dashboard.yaml.j2']}


def prometheus_monitoring_objects(install, **overrides):
    """What the prometheus_monitoring role's objects.yml applies where the plan chose `install`, with the model
    namespaces of model_workspace's default models."""
    served = [{'item': 'monitoring.coreos.com/v1', 'api_found': install == 'operator'},
              {'item': 'azmonitoring.coreos.com/v1', 'api_found': install == 'managed'}]
    variables = role_variables('prometheus_monitoring', ROLES / 'model_workspace' / 'defaults' / 'main.yml',
                               role_path=str(ROLES / 'prometheus_monitoring'), prometheus_monitoring_rule_sources=[],
                               prometheus_monitoring_plan_effective=prometheus_monitoring_plan(served, install), **overrides)
    return k8s_apply_objects('prometheus_monitoring', PROMETHEUS_MONITORING_TEMPLATES[install], variables, tasks_file='objects.yml')


AI_SCHEDULING_TEMPLATES = {'kueue': ['namespaces.yaml.j2', 'kueue.yaml.j2'], 'keda': ['autoscaling.yaml.j2']}
AUTOSCALED_MODEL = {'name': 'phi-4-mini', 'namespace': 'ai-serving', 'max_replicas': 3, 'threshold': 5, 'activation_threshold': 1,
                    'query': 'sum(vllm:num_requests_waiting{namespace="ai-serving",workspace="phi-4-mini"})'}


def ai_scheduling_objects(objects, aks=False, **overrides):
    """What the ai_scheduling role's k8s_apply task of `objects` (kueue or keda) renders with model_workspace's default
    models, on an AKS cluster with the KEDA add-on and the workspace of prometheus_monitoring, or off AKS."""
    variables = role_variables('ai_scheduling', ROLES / 'model_workspace' / 'defaults' / 'main.yml', group_names=['aks'] if aks else [],
                               prometheus_monitoring_workspace={'query_endpoint': 'https://amw-ai.westeurope.prometheus.monitor.azure.com'},
                               **overrides)
    served = [{'item': api, 'api_found': True} for api in variables['ai_scheduling_apis']]
    plan = ai_scheduling_plan(served, plain(template(variables['ai_scheduling_settings'], variables)), {'keda': True} if aks else None)
    assert plan['problems'] == []
    variables['ai_scheduling_plan_effective'] = plan
    variables['ai_scheduling_keda_client_id'] = plain(template(variables['ai_scheduling_keda_identity_id'], variables))  # the role's fact
    return k8s_apply_objects('ai_scheduling', AI_SCHEDULING_TEMPLATES[objects], variables)


def readme_route_example():
    """The route example of roles/model_workspace/README.md."""
    text = (ROLES / 'model_workspace' / 'README.md').read_text()
    example = re.search(r'### A route\s+```yaml\n(.*?)```', text, re.S).group(1)
    return LOADER.load(example)['model_workspace_routes']


def molecule_variables():
    # the scenario's vars pick the test bed's or kind's lists by platform (molecule/shared/vars/platform.yml)
    return role_variables('model_workspace', MOLECULE_VARS, platform={'name': 'testbed'})


def molecule_models():
    """Both platforms' models of the model_workspace scenario, and its variables."""
    variables = molecule_variables()
    return models_of(variables, '{{ testbed_models + kind_models }}'), variables


def molecule_routes(name):
    return plain(template(trust_as_template('{{ %s }}' % name), molecule_variables()))


AB_TO_A_SERVICE = {'name': 'chat', 'namespace': 'ai-serving', 'parent_refs': [{'name': 'ai-gw', 'namespace': 'gateway'}],
                   'hostnames': ['models.example.com'], 'path_prefix': '/v1',
                   'backends': [{'workspace': 'phi-4-mini', 'weight': 90}, {'service': 'other', 'port': 8080, 'weight': 10}],
                   'header_matches': [{'name': 'x-model-variant', 'value': 'b', 'workspace': 'bloomz-workspace'},
                                      {'name': 'x-tenant', 'value': 42, 'service': 'tenant-42', 'port': 8000}]}


def defaults_models():
    """The default models and the GPU example, and the role's variables."""
    variables = role_variables('model_workspace')
    return models_of(variables, '{{ model_workspace_models + [model_workspace_phi4_mini_gpu] }}'), variables


def inventory_models(name):
    variables = role_variables('model_workspace', inventory_vars(name))
    return models_of(variables), variables


def molecule_namespaces():
    models, variables = molecule_models()
    return model_workspace_namespaces(dict(variables, model_workspace_models=models))


RENDERED = {
    'namespaces: model_workspace defaults': lambda: model_workspace_namespaces(role_variables('model_workspace')),
    'namespaces: model_workspace with Istio labels and a pinned version': lambda: model_workspace_namespaces(role_variables(
        'model_workspace', model_workspace_namespace_labels={'istio.io/rev': 'asm-1-28', 'team': 7},
        model_workspace_pod_security_version='v1.34')),
    'namespaces: model_workspace molecule': molecule_namespaces,
    'namespaces: kaito helm, GPU Operator present': lambda: kaito_namespace(True),
    'namespaces: kaito helm, no GPU Operator': lambda: kaito_namespace(False),
    'namespaces: kaito helm, kaito_pod_security set': lambda: kaito_namespace(False, kaito_pod_security={'enforce': 'baseline'}),
    'httproutes: README canary with an A/B header match': lambda: routes(readme_route_example()),
    'httproutes: molecule test bed canary with an A/B header match': lambda: routes(molecule_routes('testbed_routes')),
    'httproutes: molecule kind': lambda: routes(molecule_routes('kind_routes')),
    'httproutes: A/B to a service, with hostnames': lambda: routes([AB_TO_A_SERVICE]),
    'workspaces: model_workspace defaults and the GPU example': lambda: workspace_objects(*defaults_models()),
    'workspaces: molecule models': lambda: workspace_objects(*molecule_models()),
    'gpu_operator: device plugin with time-slicing': lambda: gpu_operator_objects(
        'device_plugin.yml', ['namespaces.yaml.j2', 'device-plugin.yaml.j2'], [GPU_POOL], mode='device_plugin',
        time_slicing={'replicas': 4, 'rename_by_default': True}),
    'gpu_operator: device plugin': lambda: gpu_operator_objects(
        'device_plugin.yml', ['namespaces.yaml.j2', 'device-plugin.yaml.j2'], [GPU_POOL], mode='device_plugin'),
    'gpu_operator: namespaces of the operator and the DRA driver': lambda: gpu_operator_objects(
        'operator.yml', ['namespaces.yaml.j2'], [OWN_DRIVER_POOL], dra=True),
    'gpu_operator: the Managed Prometheus ServiceMonitor of the DCGM exporter': lambda: gpu_operator_objects(
        'operator.yml', ['dcgm-service-monitor.yaml.j2'], [GPU_POOL]),
    'gpu_operator: validation Jobs, quick, with DCGM': gpu_validation_jobs,
    'gpu_operator: validation Jobs, burn-in, device plugin alone': lambda: gpu_validation_jobs('burn_in', 'device_plugin'),
    'istio: mesh namespaces, mTLS and the inference Gateway (defaults)': lambda: istio_objects(ISTIO_TEMPLATES),
    'istio: mesh-wide PERMISSIVE, an HTTPS listener, a DestinationRule': lambda: istio_objects(
        ISTIO_TEMPLATES, istio_mtls='PERMISSIVE', istio_mtls_mesh_wide=True,
        istio_gateway_listeners=[{'name': 'https', 'port': 443, 'protocol': 'HTTPS', 'hostname': 'ai.example.com',
                                  'tls': {'mode': 'Terminate', 'certificateRefs': [{'name': 'ai-tls'}]}}],
        istio_destination_rules=[{'name': 'epp', 'namespace': 'ai-serving', 'host': 'epp.ai-serving.svc.cluster.local', 'tls_mode': 'DISABLE'}]),
    'istio: an InferencePool with its endpoint picker': lambda: istio_objects(ISTIO_TEMPLATES, istio_inference_pools=[
        {'name': 'phi-4-mini', 'namespace': 'ai-serving', 'match_labels': {'kaito.sh/workspace': 'phi-4-mini'}, 'target_port': 5000,
         'endpoint_picker': {'name': 'phi-4-mini-epp', 'port': 9002}}]),
    'prometheus_monitoring: scrape objects for the AKS metrics add-on (azmonitoring.coreos.com/v1)': lambda: prometheus_monitoring_objects('managed'),
    'prometheus_monitoring: scrape objects and dashboard for kube-prometheus-stack': lambda: prometheus_monitoring_objects('helm'),
    'prometheus_monitoring: operator already there, two model namespaces': lambda: prometheus_monitoring_objects(
        'operator', prometheus_monitoring_model_namespaces=['ai-serving', 'bloomz']),
    'ai_scheduling: team namespaces, flavors, ClusterQueue and LocalQueues (defaults)': lambda: ai_scheduling_objects('kueue'),
    'ai_scheduling: two team namespaces, a tainted CPU flavor, quotas as numbers': lambda: ai_scheduling_objects(
        'kueue', ai_scheduling_team_namespaces=['team-a', 'team-b'],
        ai_scheduling_quotas={'ai': {'gpu': 8, 'cpu': 190, 'memory': '1800Gi'}, 'cpu': {'cpu': '15500m', 'memory': '6e10'}},
        ai_scheduling_cpu_flavor={'name': 'system', 'node_labels': {'kubernetes.azure.com/mode': 'user'}, 'node_taints': ['dedicated:NoSchedule']}),
    'ai_scheduling: ScaledObjects against Azure Monitor with workload identity (AKS)': lambda: ai_scheduling_objects(
        'keda', aks=True, ai_scheduling_keda_identity_id='00000000-0000-0000-0000-000000000001', ai_scheduling_autoscaled_models=[
            AUTOSCALED_MODEL, {'name': 'bloomz', 'namespace': 'bloomz', 'min_replicas': 0, 'max_replicas': 2, 'threshold': '2.5',
                               'target': {'kind': 'StatefulSet', 'name': 'bloomz-workspace'},
                               'query': 'sum(vllm:num_requests_waiting{namespace="bloomz",workspace="bloomz-workspace"})'}]),
    'ai_scheduling: a ScaledObject against kube-prometheus-stack': lambda: ai_scheduling_objects(
        'keda', ai_scheduling_autoscaled_models=[AUTOSCALED_MODEL]),
    'gpu_operator: the DRA example (ResourceClaimTemplate and a pod using it)': lambda: plain(
        [yaml.safe_load((ROLES / 'gpu_operator' / 'files' / name).read_text()) for name in DRA_EXAMPLES]),
}
RENDERED.update(('namespaces: model_workspace inventory %s' % name, lambda name=name: model_workspace_namespaces(
    role_variables('model_workspace', inventory_vars(name)))) for name in INVENTORIES)
RENDERED.update(('workspaces: inventory %s' % name, lambda name=name: workspace_objects(*inventory_models(name)))
                for name in INVENTORIES)


# --- validation ----------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def validator():
    return Validator(version=VERSION, crds=read_crd_files([str(p) for p in CRD_FILES]), strict=True, fail_on_error=False)


def problems(validator, objects):
    return [(p['object'], p['path'], p['message']) for p in validator.validate(objects)]


@functools.lru_cache(maxsize=None)
def rendered(case):
    return RENDERED[case]()


@pytest.mark.parametrize('case', sorted(RENDERED))
def test_every_rendered_object_is_valid_at_kubernetes_1_34(validator, case):
    objects = rendered(case)
    assert objects, 'nothing rendered'
    assert problems(validator, objects) == []


def test_every_kind_the_roles_render_is_covered():
    kinds = set()
    for case in RENDERED:
        kinds.update((o['apiVersion'], o['kind']) for o in rendered(case))
    assert kinds == {('v1', 'Namespace'), ('gateway.networking.k8s.io/v1', 'HTTPRoute'), ('kaito.sh/v1beta1', 'Workspace'),
                     ('policy/v1', 'PodDisruptionBudget'), ('v1', 'ConfigMap'), ('v1', 'PodTemplate'), ('apps/v1', 'DaemonSet'),
                     ('resource.k8s.io/v1', 'ResourceClaimTemplate'), ('v1', 'Pod'), ('azmonitoring.coreos.com/v1', 'ServiceMonitor'),
                     ('batch/v1', 'Job'), ('gateway.networking.k8s.io/v1', 'Gateway'), ('security.istio.io/v1', 'PeerAuthentication'),
                     ('networking.istio.io/v1', 'DestinationRule'), ('inference.networking.k8s.io/v1', 'InferencePool'),
                     ('azmonitoring.coreos.com/v1', 'PodMonitor'), ('monitoring.coreos.com/v1', 'ServiceMonitor'),
                     ('monitoring.coreos.com/v1', 'PodMonitor'), ('kueue.x-k8s.io/v1beta2', 'ResourceFlavor'),
                     ('kueue.x-k8s.io/v1beta2', 'ClusterQueue'), ('kueue.x-k8s.io/v1beta2', 'LocalQueue'), ('keda.sh/v1alpha1', 'ScaledObject'),
                     ('keda.sh/v1alpha1', 'TriggerAuthentication')}


def _bloomz_with(change):
    models, variables = defaults_models()
    model = copy.deepcopy(models[0])
    change(model)
    return workspace_objects([model], variables)


def _of_kind(objects, kind):
    return [o for o in objects if o['kind'] == kind]


def _broken_inference_config():
    objects = workspace_objects(*molecule_models())
    [config] = _of_kind(objects, 'ConfigMap')
    config['data']['inference_config.yaml'] = 4096
    return [config]


def _podmonitor_with_action(action):
    [monitor] = copy.deepcopy(_of_kind(rendered('prometheus_monitoring: scrape objects for the AKS metrics add-on (azmonitoring.coreos.com/v1)'),
                                       'PodMonitor'))
    monitor['spec']['podMetricsEndpoints'][0]['metricRelabelings'][0]['action'] = action
    return [monitor]


def _with_tolerations(daemonset, tolerations):
    broken = copy.deepcopy(daemonset)
    broken['spec']['template']['spec']['tolerations'] = tolerations
    return broken


def _ai_scheduling_with(objects, kind, change, **overrides):
    found = [copy.deepcopy(o) for o in ai_scheduling_objects(objects, **overrides) if o['kind'] == kind]
    for obj in found:
        change(obj)
    return found


# One break per kind, rendered through the same path as above; each must be found, with its field path.
BROKEN = {
    'Namespace: a Pod Security level given as a YAML boolean': (
        lambda: model_workspace_namespaces(role_variables('model_workspace', model_workspace_pod_security={'enforce': True})),
        ('Namespace bloomz', 'metadata.labels[pod-security.kubernetes.io/enforce]', 'must be of type string, not true')),
    'HTTPRoute: a path prefix that is not an absolute path (CEL rule)': (
        lambda: routes([dict(readme_route_example()[0], path_prefix='v1')]),
        ('HTTPRoute ai-serving/chat', 'spec.rules[0].matches[0].path',
         "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']")),
    'Workspace: a GPU partition of 0 whole GPUs': (
        lambda: _of_kind(_bloomz_with(lambda m: m['resource'].update(partition={'mode': 'accelerator', 'count': 0})), 'Workspace'),
        ('Workspace bloomz/bloomz-workspace', 'resource.partition.count', 'should be greater than or equal to 1')),
    'PodTemplate: a misspelt container field in the model template': (
        lambda: _of_kind(_bloomz_with(lambda m: m['template']['spec']['containers'][0].update(imagePullPolice='Always')), 'PodTemplate'),
        ('PodTemplate bloomz/bloomz-workspace', 'template.spec.containers[0].imagePullPolice', 'unknown field')),
    'PodDisruptionBudget: the policy/v1beta1 budget discovery picks on a 1.20 server': (
        lambda: [dict(o, apiVersion='policy/v1beta1') for o in _of_kind(_bloomz_with(lambda m: None), 'PodDisruptionBudget')],
        ('PodDisruptionBudget bloomz/bloomz-workspace', '', 'policy/v1beta1 PodDisruptionBudget is not served by Kubernetes 1.34; use policy/v1')),
    'ResourceClaimTemplate: a request without the exactly wrapper of resource.k8s.io/v1': (
        lambda: [dict(o, spec={'spec': {'devices': {'requests': [{'name': 'gpu', 'deviceClassName': 'gpu.nvidia.com'}]}}})
                 for o in rendered('gpu_operator: the DRA example (ResourceClaimTemplate and a pod using it)')
                 if o['kind'] == 'ResourceClaimTemplate'],
        ('ResourceClaimTemplate team-a/one-gpu', 'spec.spec.devices.requests[0].deviceClassName', 'unknown field')),
    'DaemonSet: a toleration with a misspelt field': (
        lambda: [_with_tolerations(o, [{'key': 'sku', 'efect': 'NoSchedule'}])
                 for o in rendered('gpu_operator: device plugin') if o['kind'] == 'DaemonSet'],
        ('DaemonSet nvidia-device-plugin', 'spec.template.spec.tolerations[0].efect', 'unknown field')),  # k8s_apply sets the namespace
    'PodMonitor: a relabeling action the add-on does not know': (
        lambda: _podmonitor_with_action('kept'),
        ('PodMonitor monitoring/aiplatform-models', 'spec.podMetricsEndpoints[0].metricRelabelings[0].action',
         'unsupported value "kept": supported values: "replace", "Replace", "keep", "Keep", "drop", "Drop", "hashmod", "HashMod", '
         '"labelmap", "LabelMap", "labeldrop", "LabelDrop", "labelkeep", "LabelKeep", "lowercase", "Lowercase", "uppercase", "Uppercase", '
         '"keepequal", "KeepEqual", "dropequal", "DropEqual"')),
    'ResourceFlavor: a toleration of the GPU taint with operator Exists and a value (CEL rule)': (
        lambda: _ai_scheduling_with('kueue', 'ResourceFlavor', lambda o: [t.update(operator='Exists') for t in o['spec'].get('tolerations', [])]),
        ('ResourceFlavor ai-gpu', 'spec.tolerations', "a value must be empty when 'operator' is 'Exists'")),
    'ScaledObject: a trigger without its type': (
        lambda: _ai_scheduling_with('keda', 'ScaledObject', lambda o: o['spec']['triggers'][0].pop('type'), ai_scheduling_autoscaled_models=[AUTOSCALED_MODEL]),
        ('ScaledObject ai-serving/phi-4-mini', 'spec.triggers[0].type', 'required value')),
    'ConfigMap: inference_config.yaml as a number': (
        _broken_inference_config,
        ('ConfigMap ai-serving/phi-4-mini-canary-inference-config', 'data[inference_config.yaml]', 'must be of type string, not 4096')),
}


@pytest.mark.parametrize('case', sorted(BROKEN))
def test_a_break_of_each_kind_is_caught(validator, case):
    render, expected = BROKEN[case]
    objects = render()
    assert objects, 'nothing rendered'
    assert expected in problems(validator, objects)


def test_prometheus_monitoring_scrapes_the_consumer_of_each_gpu_and_the_models_through_istio_s_merged_port():
    """What the scrape objects must do beyond being valid, the same in both API groups; and the dashboard ConfigMap
    holds the dashboard under the label kube-prometheus-stack's Grafana sidecar looks for by default."""
    chart = yaml.safe_load((REPO / 'tests' / 'charts' / 'kube-prometheus-stack' / ('values-%s.yaml' % role_variables(
        'prometheus_monitoring')['prometheus_monitoring_helm_version'])).read_text())['grafana']['sidecar']['dashboards']
    for install, api in (('managed', 'azmonitoring.coreos.com/v1'), ('operator', 'monitoring.coreos.com/v1')):
        objects = prometheus_monitoring_objects(install, prometheus_monitoring_model_namespaces=['ai-serving', 'bloomz'])
        assert all(o['metadata']['labels']['app.kubernetes.io/managed-by'] == 'aiplatform.aks' for o in objects)
        # in the role's namespace, naming the ones they scrape (which may not exist yet)
        [dcgm] = [o for o in objects if o['kind'] == 'ServiceMonitor']
        assert (dcgm['apiVersion'], dcgm['metadata']['namespace'], dcgm['spec']['namespaceSelector'], dcgm['spec']['selector']['matchLabels']) == (
            api, 'monitoring', {'matchNames': ['gpu-operator']}, {'app': 'nvidia-dcgm-exporter'})
        [endpoint] = dcgm['spec']['endpoints']
        assert endpoint['port'] == 'gpu-metrics' and endpoint['honorLabels'] is True
        models = [o for o in objects if o['kind'] == 'PodMonitor']
        assert [(o['apiVersion'], o['metadata']['namespace'], o['spec']['namespaceSelector']) for o in models] == [
            (api, 'monitoring', {'matchNames': ['ai-serving', 'bloomz']})]
        for monitor in models:
            assert monitor['spec']['selector'] == {'matchExpressions': [{'key': 'kaito.sh/workspace', 'operator': 'Exists'}]}
            [endpoint] = monitor['spec']['podMetricsEndpoints']
            by_target = dict((r['targetLabel'], r) for r in endpoint['relabelings'])
            assert by_target['workspace']['sourceLabels'] == ['__meta_kubernetes_pod_label_kaito_sh_workspace']
            # the port and path the injector writes into the pod's annotations (15020, /stats/prometheus) win
            assert by_target['__metrics_path__']['sourceLabels'] == ['__meta_kubernetes_pod_annotation_prometheus_io_path']
            addresses = [r for r in endpoint['relabelings'] if r['targetLabel'] == '__address__']
            # Prometheus anchors the regex and writes $1 where Python writes \1
            assert [re.sub(r['regex'], re.sub(r'\$(\d)', r'\\\1', r['replacement']), ip + ';15020') for r in addresses
                    for ip in ('10.244.1.7', 'fd00:10:244::7') if re.fullmatch(r['regex'], ip + ';15020')] == [
                '10.244.1.7:15020', '[fd00:10:244::7]:15020']
    [dashboard] = [o for o in prometheus_monitoring_objects('helm') if o['kind'] == 'ConfigMap']
    assert dashboard['metadata']['labels'][chart['label']] == chart['labelValue']
    assert json.loads(dashboard['data']['gpu-inference.json']) == json.loads(
        (ROLES / 'prometheus_monitoring' / 'files' / 'dashboards' / 'gpu-inference.json').read_text())
