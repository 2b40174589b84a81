# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the ai_scheduling role schedules and scales AI workloads: where Kueue and KEDA come from, the Kueue objects and
ScaledObjects to apply, and what cannot work (ai_scheduling_plan). Documented in its .yml file."""

from __future__ import annotations

import math
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.module_utils.gpu.info import parse_quantity
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import DNS_LABEL, label_selector_problems

KUEUE_API = 'kueue.x-k8s.io/v1beta2'
KEDA_API = 'keda.sh/v1alpha1'
JOBSET_API = 'jobset.x-k8s.io/v1alpha2'
KUEUE_INSTALLS = ('auto', 'helm', 'none')
KEDA_INSTALLS = ('auto', 'addon', 'helm', 'none')
JOBSET_INSTALLS = ('auto', 'helm', 'none')
TAINT_EFFECTS = ('NoSchedule', 'PreferNoSchedule', 'NoExecute')
# A ResourceFlavor holds at most this many node labels, taints and tolerations (its CRD's maxProperties / maxItems).
FLAVOR_MAX = 8
# what a ScaledObject may scale, with the API version of its scale subresource; a KAITO model scales as an InferenceSet:
# KAITO (v0.12) sets a Workspace's Deployment replicas itself, and a Workspace has no scale subresource
TARGET_KINDS = {'Deployment': 'apps/v1', 'StatefulSet': 'apps/v1', 'InferenceSet': 'kaito.sh/v1beta1'}
AUTOSCALED_KEYS = ('name', 'namespace', 'target', 'min_replicas', 'max_replicas', 'query', 'threshold', 'activation_threshold')
NAME_RULE = '(lower case letters, digits and -, at most 63)'
KEDA_OPERATOR_ACCOUNT = 'keda-operator'
ADDON_NAMESPACE = 'kube-system'  # where the AKS add-on runs KEDA
WORKSPACE_ID = re.compile(r'^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Monitor/accounts/[^/]+$', re.IGNORECASE)


def _name_problem(variable, value):
    if isinstance(value, str) and DNS_LABEL.match(value):
        return []
    return ['%s %r is not a name %s' % (variable, value, NAME_RULE)]


def _quantity(variable, value):
    """(the quantity as a string, problems); a quota is a Kubernetes quantity of at least 0."""
    try:
        if isinstance(value, str) and not value.strip():
            raise ValueError(value)
        number = parse_quantity(value)
    except (ValueError, TypeError):
        return None, ['%s %r is not a Kubernetes quantity (for example 4, 500m, 64Gi)' % (variable, value)]
    if number < 0:
        return None, ['%s %r is negative: a quota is 0 or more' % (variable, value)]
    return str(value).strip(), []


def _taint(variable, text):
    """A taint as AKS writes it (key=value:Effect, or key:Effect) as Kueue models it, or problems."""
    key_value, sep, effect = str(text).rpartition(':')
    key, has_value, value = key_value.partition('=')
    if not isinstance(text, str) or not sep or effect not in TAINT_EFFECTS or not key or label_selector_problems(key, variable):
        return None, ['%s %r is not a taint key=value:Effect (effects: %s)' % (variable, text, ', '.join(TAINT_EFFECTS))]
    taint = {'key': key, 'effect': effect}
    if has_value:
        taint['value'] = value
    return taint, []


def _flavor(variable, flavor):
    """The ResourceFlavor of `flavor` ({name, node_labels, node_taints}), and problems. Each node taint becomes a
    toleration too, which Kueue adds to the pods it admits on the flavor, so they may run on the tainted nodes."""
    if not isinstance(flavor, dict):
        return {}, ['%s must be a mapping with name, node_labels and node_taints' % variable]
    problems = _name_problem(variable + '.name', flavor.get('name'))
    labels = flavor.get('node_labels') or {}
    if not isinstance(labels, dict) or len(labels) > FLAVOR_MAX:
        problems.append('%s.node_labels must be a mapping of at most %d labels' % (variable, FLAVOR_MAX))
        labels = {}
    labels = dict((str(k), str(v)) for k, v in labels.items())
    for key, value in sorted(labels.items()):
        problems.extend(label_selector_problems('%s=%s' % (key, value), variable + '.node_labels'))
    taints = []
    texts = flavor.get('node_taints') or []
    if not isinstance(texts, list) or len(texts) > FLAVOR_MAX:
        problems.append('%s.node_taints must be a list of at most %d taints' % (variable, FLAVOR_MAX))
        texts = []
    for index, text in enumerate(texts):
        taint, found = _taint('%s.node_taints[%d]' % (variable, index), text)
        problems.extend(found)
        if taint:
            taints.append(taint)
    tolerations = [dict(t, operator='Equal' if 'value' in t else 'Exists') for t in taints]
    return {'name': flavor.get('name'), 'node_labels': labels, 'node_taints': taints, 'tolerations': tolerations}, problems


def _cluster_queue(settings, gpu_flavor, cpu_flavor):
    """The ClusterQueue's covered resources and flavors. The CPU flavor comes first with no GPUs, so that a workload
    asking for no GPU is not admitted onto the GPU nodes; one asking for GPUs goes on to the AI flavor."""
    problems = _name_problem('ai_scheduling_cluster_queue_name', settings.get('ai_scheduling_cluster_queue_name'))
    gpu = settings.get('ai_scheduling_gpu_resource')
    if not isinstance(gpu, str) or label_selector_problems(gpu, 'ai_scheduling_gpu_resource'):
        problems.append('ai_scheduling_gpu_resource %r is not a resource name (like nvidia.com/gpu)' % (gpu,))
    quotas = settings.get('ai_scheduling_quotas')
    if not isinstance(quotas, dict):
        return {}, problems + ['ai_scheduling_quotas must be a mapping with ai ({gpu, cpu, memory}) and cpu ({cpu, memory})']
    flavors = []
    for key, flavor, resources in (('cpu', cpu_flavor, ('cpu', 'memory')), ('ai', gpu_flavor, ('cpu', 'memory', 'gpu'))):
        given = quotas.get(key)
        if not isinstance(given, dict):
            problems.append('ai_scheduling_quotas.%s must be a mapping with %s' % (key, ', '.join(resources)))
            continue
        nominal = {}
        for resource in resources:
            value, found = _quantity('ai_scheduling_quotas.%s.%s' % (key, resource), given.get(resource))
            problems.extend(found)
            nominal[resource] = value
        unknown = sorted(set(given) - set(resources))
        if unknown:
            problems.append('ai_scheduling_quotas.%s has unknown keys %s (known: %s)' % (key, ', '.join(unknown), ', '.join(resources)))
        nominal.setdefault('gpu', '0')
        flavors.append({'name': flavor.get('name'), 'resources': [
            {'name': 'cpu', 'nominalQuota': nominal['cpu']}, {'name': 'memory', 'nominalQuota': nominal['memory']},
            {'name': gpu, 'nominalQuota': nominal['gpu']}]})
    if cpu_flavor.get('name') and cpu_flavor.get('name') == gpu_flavor.get('name'):
        problems.append('ai_scheduling_cpu_flavor.name and ai_scheduling_gpu_flavor.name are both %s: the flavors need two names' % cpu_flavor['name'])
    return {'name': settings.get('ai_scheduling_cluster_queue_name'), 'covered_resources': ['cpu', 'memory', gpu], 'flavors': flavors}, problems


def _team_namespaces(settings):
    namespaces = settings.get('ai_scheduling_team_namespaces')
    if not isinstance(namespaces, list):
        return [], ['ai_scheduling_team_namespaces must be a list of namespace names, got %r' % (namespaces,)]
    problems = []
    for index, namespace in enumerate(namespaces):
        if not isinstance(namespace, str) or not DNS_LABEL.match(namespace):
            problems.append('ai_scheduling_team_namespaces[%d] %r is not a namespace name %s' % (index, namespace, NAME_RULE))
    problems.extend(_name_problem('ai_scheduling_local_queue_name', settings.get('ai_scheduling_local_queue_name')))
    return sorted(set(n for n in namespaces if isinstance(n, str))), problems


def _replicas(where, model):
    low, high = model.get('min_replicas', 1), model.get('max_replicas')
    whole = [isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (low, high)]
    if not all(whole):
        return ['%s.min_replicas and max_replicas must be whole numbers of 0 or more, got %r and %r' % (where, low, high)]
    if high < 1 or low > high:
        return ['%s.max_replicas (%d) must be at least 1 and at least min_replicas (%d)' % (where, high, low)]
    return []


def _threshold(variable, value, required):
    """A trigger threshold as the string KEDA takes, or problems."""
    if value is None and not required:
        return None, []
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if isinstance(value, bool) or number is None or not math.isfinite(number) or number < 0:
        return None, ['%s must be a number of 0 or more, got %r' % (variable, value)]
    return str(value), []


def _scaled_object(where, model):
    """The ScaledObject of an autoscaled model, and problems."""
    if not isinstance(model, dict):
        return None, ['%s must be a mapping with %s' % (where, ', '.join(AUTOSCALED_KEYS))]
    problems = _name_problem(where + '.name', model.get('name')) + _name_problem(where + '.namespace', model.get('namespace'))
    unknown = sorted(set(model) - set(AUTOSCALED_KEYS))
    if unknown:
        problems.append('%s has unknown keys %s (known: %s)' % (where, ', '.join(unknown), ', '.join(AUTOSCALED_KEYS)))
    target = model.get('target') or {}
    if not isinstance(target, dict) or target.get('kind', 'Deployment') not in TARGET_KINDS:
        problems.append('%s.target.kind must be one of %s' % (where, ', '.join(sorted(TARGET_KINDS))))
        target = {}
    kind, name = target.get('kind', 'Deployment'), target.get('name', model.get('name'))
    problems.extend(_name_problem(where + '.target.name', name) if name != model.get('name') else [])
    query = model.get('query')
    if not isinstance(query, str) or not query.strip():
        problems.append('%s.query is missing: the PromQL query of the queue length, for example '
                        'sum(vllm:num_requests_waiting{namespace="<namespace>",workspace="<model>"})' % where)
    problems.extend(_replicas(where, model))
    threshold, found = _threshold(where + '.threshold', model.get('threshold'), True)
    activation, more = _threshold(where + '.activation_threshold', model.get('activation_threshold'), False)
    problems.extend(found + more)
    return {'name': model.get('name'), 'namespace': model.get('namespace'), 'target': {'api_version': TARGET_KINDS[kind], 'kind': kind, 'name': name},
            'min_replicas': model.get('min_replicas', 1), 'max_replicas': model.get('max_replicas'), 'query': query,
            'threshold': threshold, 'activation_threshold': activation}, problems


def _autoscaling(settings):
    """(scaled objects, the namespaces that need a TriggerAuthentication, problems)."""
    models = settings.get('ai_scheduling_autoscaled_models')
    if not isinstance(models, list):
        return [], [], ['ai_scheduling_autoscaled_models must be a list of models, got %r' % (models,)]
    scaled, problems = [], []
    for index, model in enumerate(models):
        where = 'ai_scheduling_autoscaled_models[%d]' % index
        if isinstance(model, dict) and model.get('name'):
            where += ' (%s)' % model['name']
        found, more = _scaled_object(where, model)
        problems.extend(more)
        if found:
            scaled.append(found)
    seen = set()
    for item in scaled:
        if (item['namespace'], item['name']) in seen:
            problems.append('ai_scheduling_autoscaled_models names %s/%s twice' % (item['namespace'], item['name']))
        seen.add((item['namespace'], item['name']))
    if not scaled:
        return scaled, [], problems
    server = settings.get('ai_scheduling_prometheus_server')
    identity = bool(settings.get('ai_scheduling_prometheus_workload_identity'))
    if not isinstance(server, str) or not server.startswith(('http://', 'https://')):
        problems.append('ai_scheduling_prometheus_server %r is not a URL: on AKS it is the Azure Monitor workspace\'s query endpoint (run '
                        'prometheus_monitoring first, or set it), elsewhere the Prometheus Service\'s URL' % (server,))
    elif identity and not server.startswith('https://'):
        problems.append('ai_scheduling_prometheus_server %s: with ai_scheduling_prometheus_workload_identity the query endpoint is '
                        'https (the Azure Monitor workspace\'s)' % server)
    namespaces = sorted(set(item['namespace'] for item in scaled)) if identity else []
    return scaled, namespaces, problems


def _served(results):
    """{api version: served} from the results of a k8s_info loop (item: {api_version, kind}; skipped when not read)."""
    if not isinstance(results, list):
        raise AnsibleFilterError('ai_scheduling_plan: the input must be the results of a k8s_info loop, got %r' % (results,))
    return dict((r['item']['api_version'], bool(r.get('api_found'))) for r in results
                if isinstance(r, dict) and isinstance(r.get('item'), dict) and not r.get('skipped'))


def _chart(variable, install, choices, api, what, served):
    """(choice, why, problems) of an install variable of auto, helm or none: auto is none where `api` is served, else helm."""
    if install not in choices:
        return install, '', ['%s must be one of %s, got %r' % (variable, ', '.join(choices), install)]
    if install != 'auto':
        return install, '%s is %s' % (variable, install), []
    if served.get(api):
        return 'none', '%s is there (%s is served)' % (what, api), []
    return 'helm', '%s is not served: the role installs %s with helm' % (api, what), []


def _kueue(install, served):
    chosen, why, problems = _chart('ai_scheduling_kueue_install', install, KUEUE_INSTALLS, KUEUE_API, 'Kueue', served)
    if chosen == 'none' and install == 'none' and not served.get(KUEUE_API):
        problems.append('ai_scheduling_kueue_install is none but %s is not served, so the queues cannot be applied: install Kueue '
                        '(v0.15 or later), or set ai_scheduling_kueue_install: helm' % KUEUE_API)
    return chosen, why, problems


def _jobset(install, served):
    """JobSet is optional: none (the default) installs nothing."""
    return _chart('ai_scheduling_jobset_install', install, JOBSET_INSTALLS, JOBSET_API, 'JobSet', served)


def _keda(install, served, aks, wanted):
    if install not in KEDA_INSTALLS:
        return install, '', ['ai_scheduling_keda_install must be one of %s, got %r' % (', '.join(KEDA_INSTALLS), install)]
    if install == 'auto':
        if aks is not None:
            chosen, why = 'addon', 'an AKS cluster: the KEDA add-on'
        elif served.get(KEDA_API):
            chosen, why = 'none', 'KEDA is there (%s is served)' % KEDA_API
        else:
            chosen, why = 'helm', '%s is not served: the role installs KEDA with helm' % KEDA_API
    else:
        chosen, why = install, 'ai_scheduling_keda_install is %s' % install
    problems = []
    if chosen == 'addon' and aks is None:
        problems.append('ai_scheduling_keda_install addon needs an AKS cluster (the host is not in the aks group, or ai_scheduling_aks is false)')
    elif chosen == 'addon' and not aks.get('keda'):
        problems.append('the AKS cluster has no KEDA add-on: set aks_cluster_keda: true and run the aks_cluster role, or choose '
                        'ai_scheduling_keda_install helm or none')
    if chosen == 'none' and wanted and not served.get(KEDA_API):
        problems.append('ai_scheduling_keda_install is none but %s is not served, so the ScaledObjects of ai_scheduling_autoscaled_models '
                        'cannot be applied: install KEDA, or set ai_scheduling_keda_install: helm' % KEDA_API)
    return chosen, why, problems


def _keda_identity(settings, keda, identity_namespaces):
    """What KEDA's workload identity needs from the role: None when nothing, else {subject, workspace_id} of the identity
    to make; and problems. It is made wherever KEDA reads the workspace as its workload identity (the add-on or the chart,
    no ai_scheduling_keda_identity_id), with or without autoscaled models, so that a pod_autoscaling probe can use it;
    without a workspace id it is a problem only where a model's TriggerAuthentication needs it."""
    if not settings.get('ai_scheduling_prometheus_workload_identity') or settings.get('ai_scheduling_keda_identity_id') \
            or keda not in ('addon', 'helm'):
        return None, []
    workspace = settings.get('ai_scheduling_prometheus_workspace_id')
    if not isinstance(workspace, str) or not WORKSPACE_ID.match(workspace):
        if not identity_namespaces:
            return None, []
        return None, ['ai_scheduling_prometheus_workspace_id %r is not the ARM id of an Azure Monitor workspace: KEDA\'s identity gets '
                      'Monitoring Data Reader on it (run prometheus_monitoring first, set it, or set ai_scheduling_keda_identity_id '
                      'to an identity you manage)' % (workspace,)]
    namespace = ADDON_NAMESPACE if keda == 'addon' else settings.get('ai_scheduling_keda_namespace')
    return {'subject': 'system:serviceaccount:%s:%s' % (namespace, KEDA_OPERATOR_ACCOUNT), 'workspace_id': workspace}, []


def ai_scheduling_plan(served, settings, aks=None):
    """The plan from `served` (k8s_info results over the Kueue and KEDA API versions), `settings` (the role's variables
    by name) and `aks` (the cluster's addons as aks_cluster_info returns them; None off AKS)."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError('ai_scheduling_plan: settings must be the role\'s variables by name, got %r' % (settings,))
    apis = _served(served)
    problems = []
    gpu_flavor, found = _flavor('ai_scheduling_gpu_flavor', settings.get('ai_scheduling_gpu_flavor'))
    problems.extend(found)
    cpu_flavor, found = _flavor('ai_scheduling_cpu_flavor', settings.get('ai_scheduling_cpu_flavor'))
    problems.extend(found)
    cluster_queue, found = _cluster_queue(settings, gpu_flavor, cpu_flavor)
    problems.extend(found)
    namespaces, found = _team_namespaces(settings)
    problems.extend(found)
    scaled, identity_namespaces, found = _autoscaling(settings)
    problems.extend(found)
    kueue, kueue_why, found = _kueue(settings.get('ai_scheduling_kueue_install'), apis)
    problems.extend(found)
    keda, keda_why, found = _keda(settings.get('ai_scheduling_keda_install'), apis, aks, bool(scaled))
    problems.extend(found)
    jobset, jobset_why, found = _jobset(settings.get('ai_scheduling_jobset_install', 'none'), apis)
    problems.extend(found)
    keda_identity, found = _keda_identity(settings, keda, identity_namespaces) if aks is not None else (None, [])
    problems.extend(found)
    return {'kueue_install': kueue, 'kueue_why': kueue_why, 'keda_install': keda, 'keda_why': keda_why,
            'jobset_install': jobset, 'jobset_why': jobset_why,
            'kueue_served': bool(apis.get(KUEUE_API)), 'keda_served': bool(apis.get(KEDA_API)),
            'flavors': [f for f in (cpu_flavor, gpu_flavor) if f], 'cluster_queue': cluster_queue, 'team_namespaces': namespaces,
            'scaled_objects': scaled, 'trigger_authentication_namespaces': identity_namespaces, 'keda_identity': keda_identity,
            'problems': problems}


class FilterModule(object):

    def filters(self):
        return {'ai_scheduling_plan': ai_scheduling_plan}
