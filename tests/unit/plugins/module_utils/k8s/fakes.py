"""An in-memory Kubernetes API behind the parts of kubernetes.dynamic.DynamicClient the collection calls.

It keeps objects as dicts, merges server-side applies (dry-run or not), selects by label and field, and answers
evictions; tests set `conflicts`, `pdb_blocked` and `refused_eviction_versions` to make it refuse as a server does, and
add to `kinds` what an installed CRD would serve.
"""

import copy
import json
import re

import yaml

from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError

# (apiVersion, kind) -> (plural, namespaced)
KINDS = {
    ('v1', 'Namespace'): ('namespaces', False),
    ('v1', 'ConfigMap'): ('configmaps', True),
    ('v1', 'Secret'): ('secrets', True),
    ('v1', 'Node'): ('nodes', False),
    ('v1', 'Pod'): ('pods', True),
    ('apiextensions.k8s.io/v1', 'CustomResourceDefinition'): ('customresourcedefinitions', False),
}


def api_error(status, reason, message):
    exc = ApiException(status=status, reason=reason)
    exc.body = json.dumps({'kind': 'Status', 'message': message, 'reason': reason, 'code': status})
    return exc


def _merged(live, body):
    if not isinstance(live, dict) or not isinstance(body, dict):
        return copy.deepcopy(body)
    out = copy.deepcopy(live)
    for key, value in body.items():
        out[key] = _merged(live.get(key), value)
    return out


def _matches(obj, label_selector, field_selector):
    labels = obj['metadata'].get('labels') or {}
    for term in filter(None, (label_selector or '').split(',')):
        key, _sep, value = term.partition('=')
        if labels.get(key) != value:
            return False
    for term in filter(None, (field_selector or '').split(',')):
        path, _sep, value = term.partition('=')
        node = obj
        for part in path.split('.'):
            node = (node or {}).get(part)
        if node != value:
            return False
    return True


class Result(dict):
    def to_dict(self):
        return copy.deepcopy(dict(self))


class FakeResource:
    """What client.resources.get() returns; drain calls get() and patch() on it directly."""

    def __init__(self, cluster, api_version, kind):
        self.cluster = cluster
        self.api_version = api_version
        self.kind = kind
        self.name, self.namespaced = cluster.kinds[(api_version, kind)]
        self.group = api_version.rpartition('/')[0]

    def get(self, name=None, namespace=None, label_selector=None, field_selector=None):
        return self.cluster.get(self, name=name, namespace=namespace, label_selector=label_selector, field_selector=field_selector)

    def patch(self, name, body, content_type):
        assert content_type == 'application/merge-patch+json'
        self.cluster.patches.append((self.kind, name, body))
        key = self.cluster.key(self, name, None)
        self.cluster.objects[key] = _merged(self.cluster.objects[key], body)


class FakeResources:
    def __init__(self, cluster):
        self.cluster = cluster

    def get(self, api_version, kind):
        if (api_version, kind) not in self.cluster.kinds:
            raise ResourceNotFoundError('No matches found for {}'.format({'api_version': api_version, 'kind': kind}))
        return FakeResource(self.cluster, api_version, kind)


class FakeCluster:
    """The client: objects by (apiVersion, kind, namespace, name), and a log of the writes it took."""

    def __init__(self, *objects):
        self.objects = {}
        self.kinds = dict(KINDS)  # tests add the kinds of installed CRDs
        self.resources = FakeResources(self)
        self.applies = []  # (name, dry_run)
        self.deletes = []
        self.delete_policies = []
        self.patches = []
        self.evictions = []
        self.conflicts = set()  # names whose apply meets another field manager
        self.invalid = {}  # name -> the message the server refuses its apply with (schema, admission)
        self.namespaces_enforced = False  # refuse namespaced objects in a namespace that does not exist, as a server does
        self.pdb_blocked = set()  # namespace/name of pods a PodDisruptionBudget protects
        self.refused_eviction_versions = set()
        self.version = 0
        for obj in objects:
            self.add(obj)

    def key(self, resource, name, namespace):
        return (resource.api_version, resource.kind, namespace if resource.namespaced else None, name)

    def add(self, obj):
        obj = copy.deepcopy(obj)
        resource = FakeResource(self, obj['apiVersion'], obj['kind'])
        self.objects[self.key(resource, obj['metadata']['name'], obj['metadata'].get('namespace'))] = obj
        return obj

    def live(self, kind, name, namespace=None):
        return next((o for k, o in self.objects.items() if k[1] == kind and k[2] == namespace and k[3] == name), None)

    def get(self, resource, name=None, namespace=None, label_selector=None, field_selector=None):
        if name is not None:
            obj = self.objects.get(self.key(resource, name, namespace))
            if obj is None:
                raise api_error(404, 'NotFound', '%s "%s" not found' % (resource.name, name))
            return Result(obj)
        items = [o for k, o in sorted(self.objects.items(), key=lambda kv: str(kv[0]))
                 if k[:2] == (resource.api_version, resource.kind) and (namespace is None or k[2] == namespace)
                 and _matches(o, label_selector, field_selector)]
        return Result(items=copy.deepcopy(items))

    def server_side_apply(self, resource, body, name, namespace, field_manager, force_conflicts, dry_run=None):
        self.applies.append((name, dry_run))
        body = self.apply_patch(body)
        if name in self.conflicts and not force_conflicts:
            raise api_error(409, 'Conflict', 'Apply failed with 1 conflict: conflict with "kubectl" using v1: .data.key')
        if name in self.invalid:
            raise api_error(422, 'Invalid', self.invalid[name])
        if self.namespaces_enforced and resource.namespaced and self.live('Namespace', namespace) is None:
            raise api_error(404, 'NotFound', 'namespaces "%s" not found' % namespace)
        key = self.key(resource, name, namespace)
        live = self.objects.get(key)
        after = _merged(live or {}, body)
        if live is None or after != live:
            self.version += 1
            after['metadata']['resourceVersion'] = str(self.version)
        if not dry_run:
            self.objects[key] = after
        return Result(after)

    @staticmethod
    def apply_patch(body):
        """The object of an application/apply-patch+yaml body, read as the apiserver reads it (YAML 1.1, which has no
        surrogate pairs: an escaped one is refused with the apiserver's message)."""
        assert isinstance(body, bytes), 'an apply patch is sent as bytes, got %s' % type(body).__name__
        if re.search(rb'\\u[dD][89abAB][0-9a-fA-F]{2}', body):
            raise api_error(400, 'BadRequest', 'error decoding YAML: error converting YAML to JSON: yaml: found invalid Unicode character escape code')
        return yaml.safe_load(body.decode('utf-8'))

    def delete(self, resource, name, namespace, body=None):
        self.deletes.append(name)
        self.delete_policies.append((body or {}).get('propagationPolicy'))
        key = self.key(resource, name, namespace)
        obj = self.objects.get(key)
        if obj is None:
            raise api_error(404, 'NotFound', '%s "%s" not found' % (resource.name, name))
        if obj['metadata'].get('finalizers'):
            obj['metadata']['deletionTimestamp'] = '2026-01-01T00:00:00Z'  # stays until its controller lets go
        else:
            del self.objects[key]

    def request(self, method, path, body):
        match = re.match(r'^/api/v1/namespaces/([^/]+)/pods/([^/]+)/eviction$', path)
        assert method == 'post' and match, path
        namespace, name = match.groups()
        if body['apiVersion'] in self.refused_eviction_versions:
            raise api_error(400, 'BadRequest', 'no kind "Eviction" is registered for version "%s"' % body['apiVersion'])
        key = ('v1', 'Pod', namespace, name)
        if key not in self.objects:
            raise api_error(404, 'NotFound', 'pods "%s" not found' % name)
        if '%s/%s' % (namespace, name) in self.pdb_blocked:
            raise api_error(429, 'TooManyRequests', 'Cannot evict pod as it would violate the pod\'s disruption budget.')
        self.evictions.append(('%s/%s' % (namespace, name), body['apiVersion']))
        del self.objects[key]
