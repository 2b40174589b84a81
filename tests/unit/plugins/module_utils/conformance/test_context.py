"""ProbeContext on a fake API: what it creates is recorded and removed newest first, namespaces without waiting for
them, a deletion that fails is reported (not raised) and the rest still removed; waits time out with the last reason."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.context import ProbeContext
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError

from tests.unit.plugins.module_utils.k8s.fakes import FakeCluster, Result, api_error


class Fake(FakeCluster):
    """The fake API with create, and deletes that keep namespaces Terminating (no namespace controller) and can be
    refused or left lingering."""

    def __init__(self):
        super(Fake, self).__init__()
        self.refuse_delete = set()
        self.linger = set()
        self.order = []

    def create(self, resource, body, namespace=None):
        if resource.namespaced and self.live('Namespace', namespace) is None:
            raise api_error(404, 'NotFound', 'namespaces "%s" not found' % namespace)
        return Result(self.add(dict(body, metadata=dict(body['metadata'], namespace=namespace) if namespace else body['metadata'])))

    def delete(self, resource, name, namespace=None, body=None, **query):
        self.order.append((resource.kind, name, query.get('propagation_policy')))
        if name in self.refuse_delete:
            raise api_error(403, 'Forbidden', 'cannot delete %s' % name)
        if resource.kind == 'Namespace':
            self.live('Namespace', name)['status'] = {'phase': 'Terminating'}
        elif name not in self.linger:
            super(Fake, self).delete(resource, name, namespace, body)


def configmap(namespace, name):
    return {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': name, 'namespace': namespace}}


def test_cleanup_removes_everything_newest_first():
    client = Fake()
    ctx = ProbeContext(client, {'namespace_prefix': 'aic-t', 'timeout': 1}, sleep=0.01)
    assert ctx.settings['gpu_resource'] == 'nvidia.com/gpu' and ctx.settings['timeout'] == 1
    namespace = ctx.namespace()
    assert namespace.startswith('aic-t-') and len(namespace) == len('aic-t-') + 8
    ctx.create(configmap(namespace, 'a'))
    ctx.create(configmap(namespace, 'b'))
    assert ctx.cleanup() == []
    assert [(kind, name) for kind, name, _policy in client.order] == [('ConfigMap', 'b'), ('ConfigMap', 'a'), ('Namespace', namespace)]
    assert set(policy for _kind, _name, policy in client.order) == {'Background'}
    assert client.live('ConfigMap', 'a', namespace) is None and client.live('Namespace', namespace)['status']['phase'] == 'Terminating'
    assert ctx.objects == [{'kind': 'Namespace', 'namespace': None, 'name': namespace, 'created': True, 'deleted': True},
                           {'kind': 'ConfigMap', 'namespace': namespace, 'name': 'a', 'created': True, 'deleted': True},
                           {'kind': 'ConfigMap', 'namespace': namespace, 'name': 'b', 'created': True, 'deleted': True}]
    assert ctx.cleanup() == []  # nothing left to do


def test_a_failed_deletion_is_reported_and_the_rest_removed():
    client = Fake()
    ctx = ProbeContext(client, {'timeout': 0.2}, sleep=0.01)
    namespace = ctx.namespace()
    ctx.create(configmap(namespace, 'refused'))
    ctx.create(configmap(namespace, 'lingers'))
    client.refuse_delete.add('refused')
    client.linger.add('lingers')
    problems = ctx.cleanup()
    assert problems[0].startswith('Timed out after 0.2s waiting for the deletion of ConfigMap %s/lingers' % namespace)
    assert problems[1] == 'cannot delete ConfigMap %s/refused: cannot delete refused (HTTP 403 Forbidden)' % namespace
    assert [o['deleted'] for o in ctx.objects] == [True, False, False]


def test_create_of_a_kind_not_served_and_waits():
    ctx = ProbeContext(Fake(), {'timeout': 0.1}, sleep=0.01)
    with pytest.raises(K8sError, match='cannot create ClusterQueue q: the server does not serve kueue.x-k8s.io/v1beta2'):
        ctx.create({'apiVersion': 'kueue.x-k8s.io/v1beta2', 'kind': 'ClusterQueue', 'metadata': {'name': 'q'}})
    with pytest.raises(K8sError, match='cannot create ConfigMap missing/c: namespaces "missing" not found'):
        ctx.create(configmap('missing', 'c'))
    assert ctx.objects == []
    assert ctx.wait(lambda: (True, 'done')) == 'done'
    with pytest.raises(K8sError, match='Timed out after 0.1s waiting for the queue: still pending'):
        ctx.wait(lambda: (False, 'still pending'), what='the queue')
