"""Manifest loading, ordering, comparison and redaction."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import (
    REDACTED, apply_order, comparable, describe, load_documents, redact)

MULTI = """
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: n}
---
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: n}}
  - {apiVersion: v1, kind: Secret, metadata: {name: s, namespace: n}, data: {k: dmFsdWU=}}
"""


def test_multi_document_yaml_and_lists_are_expanded():
    objects = load_documents(MULTI)
    assert [o['kind'] for o in objects] == ['ConfigMap', 'Namespace', 'Secret']


def test_single_mapping_is_accepted():
    assert load_documents({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'x'}})[0]['metadata']['name'] == 'x'


@pytest.mark.parametrize('doc, message', [
    ({'kind': 'ConfigMap', 'metadata': {'name': 'a'}}, 'apiVersion is required'),
    ({'apiVersion': 'v1', 'metadata': {'name': 'a'}}, 'kind is required'),
    ({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {}}, 'metadata.name is required'),
    (['not a mapping'], 'must be a mapping'),
])
def test_invalid_objects_are_refused_with_their_position(doc, message):
    with pytest.raises(ValueError, match=message) as err:
        load_documents(doc, 'file.yaml')
    assert 'file.yaml, object 1' in str(err.value)


def test_namespaces_and_crds_are_applied_first_in_stable_order():
    objs = [{'kind': k, 'metadata': {'name': str(i)}} for i, k in enumerate(['Widget', 'ConfigMap', 'CustomResourceDefinition', 'Namespace'])]
    assert [o['kind'] for o in apply_order(objs)] == ['Namespace', 'CustomResourceDefinition', 'Widget', 'ConfigMap']


def test_comparable_drops_status_and_bookkeeping_only():
    obj = {'kind': 'X', 'metadata': {'name': 'a', 'resourceVersion': '5', 'generation': 2, 'managedFields': [{}], 'labels': {'l': 'v'}},
           'spec': {'a': 1}, 'status': {'ready': True}}
    assert comparable(obj) == {'kind': 'X', 'metadata': {'name': 'a', 'labels': {'l': 'v'}}, 'spec': {'a': 1}}
    assert obj['status'] == {'ready': True}, 'the input is not modified'
    assert comparable(None) == {}


def test_secret_values_are_redacted_and_others_untouched():
    secret = load_documents(MULTI)[2]
    assert redact(secret)['data'] == {'k': REDACTED}
    assert secret['data'] == {'k': 'dmFsdWU='}
    cm = {'kind': 'ConfigMap', 'data': {'k': 'v'}}
    assert redact(cm) is cm


def test_describe_names_kind_namespace_and_name():
    assert describe({'kind': 'ConfigMap', 'metadata': {'name': 'a', 'namespace': 'n'}}) == 'ConfigMap n/a'
    assert describe({'kind': 'Namespace', 'metadata': {'name': 'n'}}) == 'Namespace n'
