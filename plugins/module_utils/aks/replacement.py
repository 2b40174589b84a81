# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Blue/green replacement of a node pool: create the new pool, wait for its nodes, drain the old ones, delete the old pool.

aks_nodepool loads this only when a pool is replaced, because the Kubernetes side needs the kubernetes package,
whose import costs about half a second on every run otherwise.
"""

from __future__ import annotations

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import AKS_SDK
from ansible_collections.aiplatform.aks.plugins.module_utils.aks.credentials import entra_token, fetch_kubeconfig, uses_exec_plugin, with_token
from ansible_collections.aiplatform.aks.plugins.module_utils.aks.nodepool import family_of, replacement_body, replacement_name, unfinished_replacement
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import (
    HAS_KUBERNETES, KUBERNETES_IMPORT_ERROR, K8sError, dynamic_client, dynamic_client_from_dict)
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.drain import cordon_and_drain, wait_nodes_ready


def explained(workflow):
    """A Kubernetes error during a replacement fails the module, naming the pool."""
    def run(module, pool, current, desired):
        try:
            return workflow(module, pool, current, desired)
        except K8sError as exc:
            module.fail_json(msg='Blue/green replacement of node pool %s: %s' % (module.params['name'], exc))
    return run


def kubernetes_client(module):
    """Kubernetes access for the drain: the given kubeconfig, else the cluster's credentials held in memory."""
    params = module.params
    if not HAS_KUBERNETES:
        module.fail_json(msg='replace=blue_green needs the kubernetes Python package', exception=KUBERNETES_IMPORT_ERROR)
    kubeconfig = (params['drain'] or {}).get('kubeconfig')
    if kubeconfig:
        return dynamic_client({'kubeconfig': kubeconfig})
    config = fetch_kubeconfig(module.client(AKS_SDK.ContainerServiceClient), params['resource_group'], params['cluster'])
    if uses_exec_plugin(config):
        config = with_token(config, *entra_token(module.auth.credential))
    return dynamic_client_from_dict(config)


def drain_timeout(module):
    return module.params['drain']['timeout'] if module.params['drain'] else 1800


def pool_nodes(name):
    """Label selector of the Nodes of the pool called `name`."""
    return 'kubernetes.azure.com/agentpool=%s' % name


def wait_for_nodes(module, client, name, pool):
    """Wait until the Nodes of the pool called `name` (its wire form `pool`) are Ready."""
    wait_nodes_ready(client, pool_nodes(name), (pool.get('properties') or {}).get('count') or 0, drain_timeout(module))


def drain_and_delete(module, old_pool, client=None):
    """Cordon and drain the old pool's nodes, then delete the pool."""
    client = client or kubernetes_client(module)
    drained = cordon_and_drain(client, pool_nodes(old_pool.name), drain_timeout(module))
    old_pool.remove()
    return drained


@explained
def finish_replacement(module, pool, current, desired):
    """Complete a replacement an earlier run (or a start without waiting) began: keep the pool that fits `desired`
    and, once its nodes are Ready, drain and delete the other. A replacement pool whose creation failed stops it."""
    leftover = unfinished_replacement(pool, current)
    if leftover is None:
        return pool, current, None
    other = pool.named(leftover['name'])
    swapped = pool.immutable_changes(desired, current) and not other.immutable_changes(desired, leftover)
    if swapped:
        pool, current, other = other, other.settle(leftover), pool
        if pool.needs_repair(current):  # its creation failed: finish creating it before the old pool goes
            current = pool.present(desired, current)['resource']
    plan = {'old': other.name, 'new': pool.name, 'resumed': True}
    if not module.check_mode:
        client = kubernetes_client(module)
        if swapped:
            wait_for_nodes(module, client, pool.name, current)
        plan['drained'] = drain_and_delete(module, other, client)
    return pool, current, plan


@explained
def blue_green(module, pool, current, desired):
    """Create the replacement, wait for its nodes, drain the old nodes, delete the old pool."""
    family = family_of(current) or module.params['name']
    taken = [p['name'] for p in pool.list()]
    siblings = [name for name in taken if name != pool.name]
    resumed = [name for name in siblings if family_of(pool.named(name).read() or {}) == family]
    new_name = resumed[0] if resumed else replacement_name(pool, taken)
    new_pool = pool.named(new_name)
    body = replacement_body(current, desired, family)
    plan = {'old': pool.name, 'new': new_name}
    if module.check_mode:
        return {'changed': True, 'replaced': plan, 'resource': body, 'differences': [],
                'diff': {'before': current, 'after': body}}
    created = new_pool.present(body)['resource']
    result = {'changed': True, 'replaced': plan, 'resource': created, 'differences': [], 'diff': {'before': current, 'after': created}}
    if not pool.wait:
        return result  # the new pool is being created: a later run (with wait) finishes the replacement
    client = kubernetes_client(module)
    wait_for_nodes(module, client, new_name, created)
    plan['drained'] = drain_and_delete(module, pool, client)
    return result
