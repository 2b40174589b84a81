# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a functional conformance probe works with: the client, its settings, and objects that are always removed.

Every object a probe makes goes through ProbeContext (`namespace()`, `create()`), which records it; `cleanup()`
deletes them newest first and waits until each is gone, except namespaces, whose deletion some servers never finish
(the 1.20 test apiserver runs no namespace controller): those are deleted without waiting. The module calls
`cleanup()` in a `finally`, after a failure or a timeout too, and returns the records as `probe_objects`.
"""

from __future__ import annotations

import uuid

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError, k8s_call, served
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import poll

DEFAULT_SETTINGS = {
    'namespace_prefix': 'aic-probe',
    'timeout': 120,
    'gpu_resource': 'nvidia.com/gpu',
    'device_class': 'gpu.nvidia.com',
    'gateway_class': 'istio',
    'kaito_preset': 'phi-4-mini-instruct',
    'keda_prometheus_server': '',
    'keda_identity_id': '',
    'gpu_scale_up': False,
    'scale_up_timeout': 1200,
}


class ProbeContext:
    """The client (`client`, a DynamicClient), the probe settings (`settings`, DEFAULT_SETTINGS overridden by the
    module's `probes` option) and the objects made so far (`objects`: kind, namespace, name, created, deleted)."""

    def __init__(self, client, settings=None, sleep=1.0):
        self.client = client
        self.settings = dict(DEFAULT_SETTINGS, **dict((k, v) for k, v in (settings or {}).items() if v is not None))
        self.objects = []
        self.sleep = sleep
        self._registered = []  # (resource, record), oldest first

    def _register(self, resource, obj):
        meta = obj.get('metadata') or {}
        record = {'kind': resource.kind, 'namespace': meta.get('namespace'), 'name': meta.get('name'), 'created': True, 'deleted': False}
        self.objects.append(record)
        self._registered.append((resource, record))
        return record

    def namespace(self):
        """A new namespace `<namespace_prefix>-<random>`, registered for deletion; returns its name."""
        name = '%s-%s' % (self.settings['namespace_prefix'], uuid.uuid4().hex[:8])
        self.create({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': name}})
        return name

    def create(self, body):
        """Create `body` (its metadata.namespace says where, for a namespaced kind) and register it; returns the object
        as the server stored it. A kind the server does not serve is a K8sError naming it."""
        resource = served(self.client, body['apiVersion'], body['kind'])
        if resource is None:
            raise K8sError('cannot create %s %s: the server does not serve %s' % (body['kind'], body['metadata'].get('name'), body['apiVersion']))
        namespace = body['metadata'].get('namespace') if resource.namespaced else None
        what = '%s %s' % (body['kind'], '/'.join(n for n in (namespace, body['metadata'].get('name') or body['metadata'].get('generateName')) if n))
        obj = k8s_call('create ' + what, lambda: self.client.create(resource, body=body, namespace=namespace).to_dict())
        self._register(resource, obj)
        return obj

    def wait(self, predicate, timeout=None, what='the probe'):
        """Call `predicate()` until it returns (True, detail); returns that detail. After `timeout` seconds (default the
        settings' timeout) a K8sError "Timed out after ...s waiting for <what>: <the last detail>"."""
        timeout = self.settings['timeout'] if timeout is None else timeout
        return poll(predicate, lambda result: result, timeout, what, self.sleep)[1]

    def _gone(self, resource, record):
        def read():
            found = k8s_call('read %s %s' % (record['kind'], record['name']),
                             lambda: self.client.get(resource, name=record['name'], namespace=record['namespace']), not_found=None)
            return found is None, '%s %s still exists' % (record['kind'], record['name'])
        return read

    def cleanup(self):
        """Delete every registered object, newest first, waiting for each to go (namespaces: not waited for). Never
        raises: returns a sentence per object it could not remove, and leaves `deleted` false for it."""
        problems = []
        while self._registered:
            resource, record = self._registered.pop()
            where = '%s %s' % (record['kind'], '/'.join(n for n in (record['namespace'], record['name']) if n))
            try:
                k8s_call('delete ' + where, self.client.delete, resource, name=record['name'], namespace=record['namespace'],
                         propagation_policy='Background', not_found=None)
                if record['kind'] != 'Namespace':
                    poll(self._gone(resource, record), lambda result: result, self.settings['timeout'], 'the deletion of ' + where, self.sleep)
                record['deleted'] = True
            except K8sError as exc:
                problems.append(str(exc))
        return problems
