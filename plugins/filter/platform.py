# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values the roles compute: which entries a state asks for, where a model's test prompts go, what routes the Gateway
API or the models do not allow and which routed models do not serve yet (model_workspace), the KAITO chart's values
and its namespace's Pod Security labels (kaito), and how many looks a wait makes (every role that waits with
progress lines).
Each filter is documented in the YAML file of its name beside this one."""

from __future__ import annotations

import copy
import math

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.utils.vars import merge_hash

STATES = ('present', 'absent')


def with_state(items, state, default_state='present'):
    """The entries of `items` that `state` asks for: those without a `state` of their own when `default_state` is
    `state`, then those whose own `state` is `state`, each group in input order."""
    if state not in STATES or default_state not in STATES:
        raise AnsibleFilterError('with_state: states are present or absent, got %r and %r' % (state, default_state))
    items = list(items or [])
    stateless = [item for item in items if 'state' not in item] if default_state == state else []
    return stateless + [item for item in items if 'state' in item and item['state'] == state]


def probe_target(model, url=''):
    """Where `model`'s test prompts go: `{'url': ...}` for the probe's own URL, else `url`; without either
    `{'service': name, 'namespace': namespace}`, the model's Service through the API server's proxy."""
    target = (model.get('probe') or {}).get('url') or url
    if target:
        return {'url': target}
    return {'service': model['name'], 'namespace': model['namespace']}


# What an HTTPRoute (gateway.networking.k8s.io/v1) allows: backend weights, rules per route, hostnames per route.
MAX_WEIGHT = 1000000
MAX_RULES = 16
MAX_HOSTNAMES = 16


def route_problems(routes, models):
    """Sentences naming `model_workspace_routes[<name>]` and the field, for what the Gateway API or the models do not
    allow: a backend naming no or two targets, a workspace that is not a model of `models` in the route's namespace,
    a weight outside 0 to 1,000,000 or weights adding up to 0, more rules (one per header match, plus the split) or
    hostnames than a route may have. Empty when every route is fine."""
    known = set('%s/%s' % (m.get('namespace'), m.get('name')) for m in models or [])
    problems = []
    for route in routes or []:
        where = 'model_workspace_routes[%s]' % route.get('name')
        backends = list(route.get('backends') or [])
        if not backends:
            problems.append('%s.backends is empty: the route would answer every request with an error' % where)
        for field, items in (('backends', backends), ('header_matches', list(route.get('header_matches') or []))):
            for index, backend in enumerate(items):
                at = '%s.%s[%d]' % (where, field, index)
                targets = [key for key in ('workspace', 'service') if backend.get(key)]
                if len(targets) != 1:
                    problems.append('%s must name one workspace or one service, got %s' % (at, ', '.join(targets) or 'neither'))
                elif targets == ['workspace'] and '%s/%s' % (route.get('namespace'), backend['workspace']) not in known:
                    problems.append('%s.workspace %s is not a model of model_workspace_models in namespace %s' % (
                        at, backend['workspace'], route.get('namespace')))
                weight = backend.get('weight', 1)
                if field == 'backends' and (isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= MAX_WEIGHT):
                    problems.append('%s.weight must be a whole number from 0 to %d, got %r' % (at, MAX_WEIGHT, weight))
        weights = [b.get('weight', 1) for b in backends]
        if backends and all(isinstance(w, int) and not isinstance(w, bool) for w in weights) and sum(weights) == 0:
            problems.append('%s.backends weights add up to 0: the route would send no request anywhere' % where)
        rules = len(route.get('header_matches') or []) + 1
        if rules > MAX_RULES:
            problems.append('%s has %d rules (one per header match, and the weighted split); an HTTPRoute allows %d' % (where, rules, MAX_RULES))
        if len(route.get('hostnames') or []) > MAX_HOSTNAMES:
            problems.append('%s.hostnames has %d names; an HTTPRoute allows %d' % (where, len(route['hostnames']), MAX_HOSTNAMES))
    return problems


def unserved_backends(routes, served):
    """`namespace/workspace` of each workspace that a backend or header match of `routes` names and that is not
    ready in `served` (the results of a kaito_workspace loop, each with `item` and `ready`); each listed once."""
    ready = set('%s/%s' % (result['item']['namespace'], result['item']['name'])
                for result in served or [] if result.get('ready'))
    missing = []
    for route in routes or []:
        for backend in list(route.get('backends') or []) + list(route.get('header_matches') or []):
            if 'workspace' not in backend:
                continue
            name = '%s/%s' % (route['namespace'], backend['workspace'])
            if name not in ready and name not in missing:
                missing.append(name)
    return missing


def kaito_helm_values(cluster_name, node_provisioner, gpu_operator_runs, local_csi_driver=False, feature_gates=None,
                      overrides=None):
    """The KAITO workspace chart's values: node auto-provisioning off for bring-your-own nodes, KAITO's own device
    plugin and GPU feature discovery off where the NVIDIA GPU Operator serves the GPUs; `feature_gates` laid over the
    computed gate, then `overrides` merged in last, key by key."""
    gates = {'disableNodeAutoProvisioning': node_provisioner == 'byo'}
    gates.update(feature_gates or {})
    agents = not gpu_operator_runs
    values = {
        'clusterName': cluster_name,
        'nodeProvisioner': node_provisioner,
        'featureGates': gates,
        'localCSIDriver': {'useLocalCSIDriver': local_csi_driver},
        'nvidiaDevicePlugin': {'enabled': agents},
        'gpu-feature-discovery': {'nfd': {'enabled': agents}, 'gfd': {'enabled': agents}},
    }
    # as the combine filter with recursive=true; the copy keeps the result from sharing the caller's dicts
    return merge_hash(values, copy.deepcopy(overrides or {}))


def _enabled(values, *path):
    """The flag at `path` of the chart values, a string read as Ansible reads booleans (yes, true, on, 1)."""
    for key in path:
        values = values.get(key) if isinstance(values, dict) else None
    if isinstance(values, str):
        return boolean(values, strict=False)
    return bool(values)


def kaito_pod_security(values, chosen=None):
    """Pod Security labels of the chart's namespace: `chosen` when given; else enforce privileged where `values`
    deploy node agents (device plugin, GPU feature discovery, local CSI driver: they need host access) and restricted
    where only the controller runs, auditing and warning at restricted either way."""
    if chosen:
        return chosen
    node_agents = any([
        _enabled(values, 'nvidiaDevicePlugin', 'enabled'),
        _enabled(values, 'gpu-feature-discovery', 'nfd', 'enabled'),
        _enabled(values, 'gpu-feature-discovery', 'gfd', 'enabled'),
        _enabled(values, 'localCSIDriver', 'useLocalCSIDriver'),
    ])
    return {'enforce': 'privileged' if node_agents else 'restricted', 'audit': 'restricted', 'warn': 'restricted'}


def wait_looks(timeout, interval):
    """How many looks a wait of `timeout` seconds makes with one look every `interval` seconds (at least one)."""
    try:
        timeout, interval = float(timeout), float(interval)
    except (TypeError, ValueError):
        raise AnsibleFilterError('wait_looks: timeout and interval must be numbers of seconds, got %r and %r' % (timeout, interval))
    if interval <= 0:
        raise AnsibleFilterError('wait_looks: the interval must be more than 0 seconds, got %r' % interval)
    return max(1, int(math.ceil(timeout / interval)))


class FilterModule(object):

    def filters(self):
        return {
            'with_state': with_state,
            'probe_target': probe_target,
            'unserved_backends': unserved_backends,
            'route_problems': route_problems,
            'kaito_helm_values': kaito_helm_values,
            'kaito_pod_security': kaito_pod_security,
            'wait_looks': wait_looks,
        }
