# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is KAITO usable? Its CRDs are established and serve the API version we render, and its controller is rolled out.

Also reports whether the NVIDIA GPU Operator runs (a ClusterPolicy exists), because then KAITO's own device
plugin and GPU feature discovery must stay off.
"""

from __future__ import annotations

import time

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import k8s_call, read_object, served
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import condition_met, is_ready

GPU_OPERATOR_API = ('nvidia.com/v1', 'ClusterPolicy')


def parse_args(args):
    """Controller flags of interest: --feature-gates=a=true,b=false and --node-provisioner=byo."""
    gates, provisioner = {}, None
    for arg in args or []:
        name, _sep, value = arg.partition('=')
        if name == '--feature-gates':
            for pair in value.split(','):
                key, _sep, flag = pair.partition('=')
                if key:
                    gates[key.strip()] = flag.strip().lower() == 'true'
        elif name == '--node-provisioner':
            provisioner = value
    return gates, provisioner


def image_tag(image):
    if not image or '@' in image:
        return None
    last = image.rsplit('/', 1)[-1]
    return last.partition(':')[2] or None


def _read(client, api_version, kind, name, namespace=None):
    resource = served(client, api_version, kind)
    return None if resource is None else read_object(client, resource, name, namespace)


def crd_info(client, name, api_version):
    """A CRD's state; `api_version` (group/version) must be one of its served versions."""
    crd = _read(client, 'apiextensions.k8s.io/v1', 'CustomResourceDefinition', name)
    if crd is None:
        return {'name': name, 'exists': False, 'established': False, 'served_versions': [], 'storage_version': None}, \
            'CRD %s is not installed' % name
    versions = crd.get('spec', {}).get('versions') or []
    info = {'name': name, 'exists': True, 'established': condition_met(crd, 'Established')[0],
            'served_versions': [v['name'] for v in versions if v.get('served')],
            'storage_version': next((v['name'] for v in versions if v.get('storage')), None)}
    group = crd.get('spec', {}).get('group')
    problem = None
    if not info['established']:
        problem = 'CRD %s is not Established' % name
    elif api_version and api_version.split('/')[0] == group and api_version.split('/')[-1] not in info['served_versions']:
        problem = 'CRD %s does not serve %s (serves %s): KAITO is too old' % (name, api_version, ', '.join(info['served_versions']) or 'nothing')
    return info, problem


def controller_info(client, namespace, name):
    deployment = _read(client, 'apps/v1', 'Deployment', name, namespace)
    if deployment is None:
        return {'namespace': namespace, 'name': name, 'exists': False, 'ready': False}, \
            'KAITO controller Deployment %s/%s does not exist' % (namespace, name)
    ready, why = is_ready(deployment)
    containers = deployment.get('spec', {}).get('template', {}).get('spec', {}).get('containers') or [{}]
    main = next((c for c in containers if name in (c.get('name') or '')), containers[0])
    args = list(main.get('args') or []) + list(main.get('command') or [])
    gates, provisioner = parse_args(args)
    status = deployment.get('status') or {}
    info = {'namespace': namespace, 'name': name, 'exists': True, 'ready': ready, 'why': why,
            'image': main.get('image'), 'version': image_tag(main.get('image')), 'args': list(main.get('args') or []),
            'feature_gates': gates, 'node_provisioner': provisioner,
            'replicas': deployment.get('spec', {}).get('replicas', 1), 'ready_replicas': status.get('readyReplicas', 0)}
    return info, None if ready else 'KAITO controller %s/%s is not ready: %s' % (namespace, name, why)


def gpu_operator_info(client):
    api_version, kind = GPU_OPERATOR_API
    resource = served(client, api_version, kind)
    if resource is None:
        return {'present': False, 'cluster_policies': []}
    items = k8s_call('list ClusterPolicies', lambda: client.get(resource).to_dict().get('items') or [])
    policies = [{'name': i['metadata']['name'], 'state': (i.get('status') or {}).get('state')} for i in items]
    return {'present': bool(policies), 'cluster_policies': policies}


def gather(client, namespace, deployment, crds, api_version):
    problems = []
    crd_states = []
    for name in crds:
        info, problem = crd_info(client, name, api_version)
        crd_states.append(info)
        if problem:
            problems.append(problem)
    controller, problem = controller_info(client, namespace, deployment)
    if problem:
        problems.append(problem)
    return {'installed': all(c['exists'] for c in crd_states) and controller['exists'], 'ready': not problems,
            'nothing_installed': not controller['exists'] and not any(c['exists'] for c in crd_states),
            'crds': crd_states, 'controller': controller, 'gpu_operator': gpu_operator_info(client), 'problems': problems}


def wait_until_ready(client, namespace, deployment, crds, api_version, timeout, sleep=2.0, clock=time.monotonic, pause=time.sleep,
                     absent_timeout=None):
    """Gather until KAITO is ready or `timeout` seconds have passed; while nothing of KAITO exists (no CRD, no
    controller) only `absent_timeout` seconds (default `timeout`), because then nothing is on its way."""
    start = clock()
    deadline = start + timeout
    absent_deadline = start + (timeout if absent_timeout is None else min(absent_timeout, timeout))
    while True:
        state = gather(client, namespace, deployment, crds, api_version)
        now = clock()
        if state['ready'] or now >= deadline or (state['nothing_installed'] and now >= absent_deadline):
            return state
        pause(min(sleep, max(deadline - now, 0.05)))
