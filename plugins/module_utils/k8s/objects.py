# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manifest loading, ordering and comparison of Kubernetes objects."""

from __future__ import annotations

import copy
import re

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
    elif not isinstance(value, list):
        raise ValueError('%s must be a mapping, a list of mappings or a string of YAML documents, got %s %r'
                         % (origin, type(value).__name__, value))
    objects = []
    for doc in value:
        if isinstance(doc, dict) and isinstance(doc.get('kind'), str) and doc['kind'].endswith('List') and 'items' in doc:
            if not isinstance(doc['items'] or [], list):
                raise ValueError('%s: items of the %s must be a list' % (origin, doc['kind']))
            objects.extend(doc['items'] or [])
        else:
            objects.append(doc)
    for index, obj in enumerate(objects):
        problems = validate_object(obj)
        if problems:
            raise ValueError('%s, object %d: %s' % (origin, index + 1, '; '.join(problems)))
    return objects


def validate_object(obj):
    """What every object needs before it can be sent: apiVersion, kind and metadata.name, as strings."""
    if not isinstance(obj, dict):
        return ['must be a mapping, got %s' % type(obj).__name__]
    problems = []
    for field in ('apiVersion', 'kind'):
        if not obj.get(field):
            problems.append('%s is required' % field)
        elif not isinstance(obj[field], str):
            problems.append('%s must be a string, got %s %r' % (field, type(obj[field]).__name__, obj[field]))
    meta = obj.get('metadata')
    if meta is not None and not isinstance(meta, dict):
        problems.append('metadata must be a mapping, got %s' % type(meta).__name__)
        return problems
    meta = meta or {}
    if not meta.get('name'):
        problems.append('metadata.name is required')
    for field in ('name', 'namespace'):
        if meta.get(field) and not isinstance(meta[field], str):
            problems.append('metadata.%s must be a string, got %s %r' % (field, type(meta[field]).__name__, meta[field]))
    return problems


# a namespace name, a Service name: lower case letters, digits and '-', at most 63
DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$')
_NAME = r'[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?'
_KEY = re.compile(r'^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?%s$' % _NAME)
_VALUE = re.compile(r'^(%s)?$' % _NAME)
_REQUIREMENT = re.compile(r'^\s*(?P<not>!)?\s*(?P<key>[^\s!=,()]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[^\s!=,()]*)'
                          r'|\s+(?P<set>in|notin)\s*\((?P<values>[^()]*)\))?\s*$')


def label_selector_problems(selector, option='label_selector'):
    """Sentences about a label selector the apiserver would refuse (its syntax, its keys and values)."""
    problems = []
    requirements, depth, current = [], 0, ''
    for ch in selector:
        depth += {'(': 1, ')': -1}.get(ch, 0)
        if ch == ',' and depth == 0:
            requirements.append(current)
            current = ''
        else:
            current += ch
    requirements.append(current)
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if not requirement.strip() or not match or (match.group('not') and (match.group('op') or match.group('set'))):
            problems.append('%s %r: %r is not a requirement (key, !key, key=value, key!=value, key in (a,b), key notin (a,b))'
                            % (option, selector, requirement.strip()))
            continue
        if not _KEY.match(match.group('key')):
            problems.append('%s %r: %r is not a label key' % (option, selector, match.group('key')))
        values = [match.group('value')] if match.group('op') else [v.strip() for v in (match.group('values') or '').split(',')]
        problems.extend('%s %r: %r is not a label value' % (option, selector, v) for v in values
                        if v is not None and not _VALUE.match(v))
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


def _holds_secret(doc):
    if not isinstance(doc, dict):
        return False
    items = doc.get('items') if isinstance(doc.get('items'), list) else []
    return doc.get('kind') == 'Secret' or any(_holds_secret(item) for item in items)


def _redact_doc(doc):
    if isinstance(doc, dict) and isinstance(doc.get('items'), list):
        return dict(doc, items=[_redact_doc(item) for item in doc['items']])
    return redact(doc) if isinstance(doc, dict) else doc


def redact_definitions(value):
    """Definitions (a mapping, a list, YAML text) as they may be shown: the values of Secrets masked, all else as given.

    YAML text that holds a Secret is shown as the YAML of its redacted documents; text that does not parse is not
    shown at all (it may hold a Secret the parser could not find).
    """
    if isinstance(value, list):
        return [redact_definitions(item) for item in value]
    if isinstance(value, dict):
        return _redact_doc(value)
    if isinstance(value, str):
        try:
            docs = list(yaml.load_all(value, Loader=SAFE_LOADER))
        except Exception:  # pylint: disable=broad-except
            return '(YAML that does not parse, %d characters, not shown)' % len(value)
        if any(_holds_secret(doc) for doc in docs):
            return yaml.safe_dump_all([_redact_doc(doc) for doc in docs], sort_keys=False, allow_unicode=True)
    return value
