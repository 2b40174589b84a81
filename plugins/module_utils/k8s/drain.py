# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node readiness, cordon and drain through the Eviction API (PodDisruptionBudgets are respected)."""

from __future__ import annotations

import time

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import (
    CONNECTION_ERRORS, ApiException, K8sError, api_error_message, connection_error_message, k8s_call)

EVICTION_VERSIONS = ('policy/v1', 'policy/v1beta1')  # v1beta1 for servers older than 1.22


def _api(client, kind):
    return client.resources.get(api_version='v1', kind=kind)


def node_ready(node):
    return any(c.get('type') == 'Ready' and c.get('status') == 'True' for c in (node.get('status') or {}).get('conditions') or [])


def wait_nodes_ready(client, label_selector, count, timeout, sleep=2.0):
    """Wait until at least `count` nodes match `label_selector` and all of them are Ready."""
    deadline = time.monotonic() + timeout
    while True:
        nodes = _api(client, 'Node').get(label_selector=label_selector).to_dict()['items']
        ready = [n for n in nodes if node_ready(n)]
        if len(nodes) >= count and len(ready) == len(nodes):
            return nodes
        if time.monotonic() >= deadline:
            raise K8sError('Timed out after %ss waiting for %d Ready nodes with %s (%d found, %d Ready)'
                           % (timeout, count, label_selector, len(nodes), len(ready)))
        time.sleep(sleep)


def _evictable(pod):
    meta = pod.get('metadata') or {}
    if any(ref.get('kind') == 'DaemonSet' for ref in meta.get('ownerReferences') or []):
        return False
    if 'kubernetes.io/config.mirror' in (meta.get('annotations') or {}):
        return False
    return (pod.get('status') or {}).get('phase') not in ('Succeeded', 'Failed')


def _evict(client, pod):
    meta = pod['metadata']
    path = '/api/v1/namespaces/%s/pods/%s/eviction' % (meta['namespace'], meta['name'])
    last = None
    for version in EVICTION_VERSIONS:
        body = {'apiVersion': version, 'kind': 'Eviction', 'metadata': {'name': meta['name'], 'namespace': meta['namespace']}}
        try:
            client.request('post', path, body=body)
            return True
        except ApiException as exc:
            if exc.status == 404:
                return True  # already gone
            if exc.status == 429:
                return False  # a PodDisruptionBudget does not allow it yet
            last = exc
            if exc.status not in (400, 415, 422):
                break
        except CONNECTION_ERRORS as exc:
            raise K8sError('cannot evict pod %s/%s: %s' % (meta['namespace'], meta['name'], connection_error_message(exc)))
    raise K8sError('cannot evict pod %s/%s: %s' % (meta['namespace'], meta['name'], api_error_message(last)))


def cordon_and_drain(client, label_selector, timeout, sleep=2.0):
    """Cordon the nodes matching `label_selector` and evict their pods; returns the node and pod names handled."""
    nodes_api, pods_api = _api(client, 'Node'), _api(client, 'Pod')
    nodes = [n['metadata']['name'] for n in k8s_call('list the nodes %s' % label_selector,
                                                     lambda: nodes_api.get(label_selector=label_selector).to_dict()['items'])]
    for name in nodes:
        k8s_call('cordon node %s' % name, nodes_api.patch, name=name, body={'spec': {'unschedulable': True}},
                 content_type='application/merge-patch+json')
    deadline = time.monotonic() + timeout
    evicted = set()
    while True:
        remaining = []
        for name in nodes:
            pods = k8s_call('list the pods of node %s' % name, lambda: pods_api.get(field_selector='spec.nodeName=%s' % name).to_dict()['items'])
            remaining.extend(p for p in pods if _evictable(p))
        blocked = []
        for pod in remaining:
            key = '%s/%s' % (pod['metadata']['namespace'], pod['metadata']['name'])
            if pod['metadata'].get('deletionTimestamp'):
                continue  # evicted, still shutting down
            if _evict(client, pod):
                evicted.add(key)
            else:
                blocked.append(key)
        if not remaining:
            return {'nodes': nodes, 'evicted': sorted(evicted)}
        if time.monotonic() >= deadline:
            detail = ('PodDisruptionBudgets still block %s' % ', '.join(blocked)) if blocked else \
                'pods still terminating: %s' % ', '.join('%s/%s' % (p['metadata']['namespace'], p['metadata']['name']) for p in remaining)
            raise K8sError('Timed out after %ss draining nodes %s: %s' % (timeout, ', '.join(nodes), detail))
        time.sleep(sleep)
