"""Manifest loading, ordering, comparison and redaction."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import (
    REDACTED, apply_order, comparable, describe, label_selector_problems, load_documents, redact, redact_definitions, validate_object)

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


# --- input and redaction (issue 11) ------------------------------------------------------------------------------

@pytest.mark.parametrize('value', [42, 4.2, True])
def test_definitions_that_are_not_manifests_are_refused_by_name(value):
    with pytest.raises(ValueError, match='definitions must be a mapping, a list of mappings or a string of YAML documents'):
        load_documents(value)


@pytest.mark.parametrize('obj, problem', [
    ({'apiVersion': 1, 'kind': 'ConfigMap', 'metadata': {'name': 'a'}}, 'apiVersion must be a string, got int 1'),
    ({'apiVersion': 'v1', 'kind': ['x'], 'metadata': {'name': 'a'}}, "kind must be a string, got list ['x']"),
    ({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': 'a'}, 'metadata must be a mapping, got str'),
    ({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 7}}, 'metadata.name must be a string, got int 7'),
    ({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'a', 'namespace': ['n']}}, "metadata.namespace must be a string"),
])
def test_fields_every_object_needs_are_typed(obj, problem):
    problems = validate_object(obj)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize('selector', ['app=x', 'app.kubernetes.io/part-of==kaito', 'a in (x, y),!b,c', 'a notin (x)', 'b!=y', 'a='])
def test_label_selectors_the_apiserver_takes_pass(selector):
    assert label_selector_problems(selector) == []


@pytest.mark.parametrize('selector, problem', [
    ('', 'is not a requirement'), ('a=b=c', 'is not a requirement'), ('a in x', 'is not a requirement'),
    ('app=has space', 'is not a requirement'), ('!a=b', 'is not a requirement'), ('x/y/z=1', "'x/y/z' is not a label key"),
    ('app=-x', "'-x' is not a label value"), ('a in (ok, -bad)', "'-bad' is not a label value"),
])
def test_label_selectors_the_apiserver_refuses_are_named(selector, problem):
    problems = label_selector_problems(selector, 'prune.label_selector')
    assert problems and all(p.startswith('prune.label_selector %r' % selector) for p in problems)
    assert problem in problems[0]


SECRET = {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 's'}, 'stringData': {'token': 'hunter2-value'},
          'data': {'k': 'c2VjcmV0'}}


def test_definitions_shown_in_the_invocation_mask_secret_values_only():
    config = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'c'}, 'data': {'greeting': 'hello'}}
    shown = redact_definitions([SECRET, config, {'apiVersion': 'v1', 'kind': 'List', 'items': [SECRET]}])
    assert shown[0]['stringData'] == {'token': REDACTED} and shown[0]['data'] == {'k': REDACTED}
    assert shown[0]['metadata'] == {'name': 's'}, 'names stay for debugging'
    assert shown[1] == config
    assert shown[2]['items'][0]['stringData'] == {'token': REDACTED}
    assert SECRET['stringData'] == {'token': 'hunter2-value'}, 'the definitions themselves are not changed'


def test_yaml_text_holding_a_secret_is_shown_redacted_and_text_that_does_not_parse_is_not_shown():
    text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n' \
           'stringData: {token: hunter2-value}\n'
    shown = redact_definitions(text)
    assert 'hunter2-value' not in shown and 'name: s' in shown and REDACTED in shown
    plain = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n'
    assert redact_definitions(plain) == plain
    assert 'hunter2' not in redact_definitions('kind: Secret\nstringData: {token: hunter2-value\n')
    assert redact_definitions(42) == 42
