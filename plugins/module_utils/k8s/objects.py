# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manifest loading, ordering and comparison of Kubernetes objects."""

from __future__ import annotations

import copy

try:
    import yaml
    # libyaml parses large manifests (CRDs of several hundred KB) tens of times faster
    SAFE_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

# Server-maintained fields that say nothing about what the user asked for.
IGNORED_METADATA = ('managedFields', 'resourceVersion', 'generation')
REDACTED = '********'
# Applied first (and deleted last) because other objects live in or are typed by them.
APPLY_FIRST = ('Namespace', 'CustomResourceDefinition')


def load_documents(value, origin='definitions'):
    """A list of object dicts from a dict, a list, or a (multi-document) YAML string."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [doc for doc in yaml.load_all(value, Loader=SAFE_LOADER) if doc is not None]
    elif isinstance(value, dict):
        value = [value]
    objects = []
    for doc in value:
        if isinstance(doc, dict) and doc.get('kind', '').endswith('List') and 'items' in doc:
            objects.extend(doc['items'] or [])
        else:
            objects.append(doc)
    for index, obj in enumerate(objects):
        problems = validate_object(obj)
        if problems:
            raise ValueError('%s, object %d: %s' % (origin, index + 1, '; '.join(problems)))
    return objects


def validate_object(obj):
    if not isinstance(obj, dict):
        return ['must be a mapping, got %s' % type(obj).__name__]
    problems = ['%s is required' % f for f in ('apiVersion', 'kind') if not obj.get(f)]
    if not isinstance(obj.get('metadata'), dict) or not obj['metadata'].get('name'):
        problems.append('metadata.name is required')
    return problems


def ident(obj):
    meta = obj.get('metadata', {})
    return (obj.get('apiVersion'), obj.get('kind'), meta.get('namespace'), meta.get('name'))


def describe(obj):
    meta = obj.get('metadata', {})
    where = '%s/%s' % (meta['namespace'], meta.get('name')) if meta.get('namespace') else meta.get('name')
    return '%s %s' % (obj.get('kind'), where)


def apply_order(objects):
    """Namespaces, then CRDs, then everything else in the order given."""
    rank = dict((kind, i) for i, kind in enumerate(APPLY_FIRST))
    return sorted(objects, key=lambda o: rank.get(o.get('kind'), len(APPLY_FIRST)))


def comparable(obj):
    """The object without status and server bookkeeping, for before/after comparison."""
    if not obj:
        return {}
    obj = copy.deepcopy(obj)
    obj.pop('status', None)
    meta = obj.get('metadata', {})
    for field in IGNORED_METADATA:
        meta.pop(field, None)
    return obj


def redact(obj):
    """Secret values never reach task output."""
    if not obj or obj.get('kind') != 'Secret':
        return obj
    obj = copy.deepcopy(obj)
    for field in ('data', 'stringData'):
        if isinstance(obj.get(field), dict):
            obj[field] = dict((k, REDACTED) for k in obj[field])
    annotations = obj.get('metadata', {}).get('annotations') or {}
    annotations.pop('kubectl.kubernetes.io/last-applied-configuration', None)
    return obj
