"""k8s/client.py: the body of a server-side apply, and the user agent of every client."""

import json

import pytest
import yaml

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s import client as k8s_client
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError, apply_patch_body
from ansible_collections.aiplatform.aks.plugins.module_utils.version import USER_AGENT

from .fakes import FakeCluster

UNICODE = {
    'emoji': 'launch \U0001F680 done \u2705',
    'cjk': '\u6a21\u578b\u670d\u52a1',
    'combining': 'e\u0301',
    'controls': 'tab\there\nnew\x00nul\x7fdel\x85nel\x9bcsi\ufeffbom\uffff\u2028ls\u2029ps',
    'quote': 'a "quoted" \\ backslash',
    'astral': '\U00010348\U0001F9EA\U000E0001',
}


def test_every_unicode_string_survives_the_apply_body_read_as_yaml():
    obj = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'u', 'annotations': {'note': UNICODE['emoji']}},
           'data': UNICODE}
    body = apply_patch_body(obj)
    assert isinstance(body, bytes)
    assert '\U0001F680'.encode('utf-8') in body, 'sent as UTF-8, not as an escape'
    assert b'\\ud83d' not in body.lower(), 'no surrogate pair escapes: YAML refuses them'
    assert yaml.safe_load(body.decode('utf-8')) == obj
    assert json.loads(body) == obj, 'still JSON'


def test_the_fake_apiserver_refuses_what_the_client_library_sends_and_takes_ours():
    obj = {'data': {'emoji': UNICODE['emoji']}}
    with pytest.raises(Exception, match='invalid Unicode character escape code'):
        FakeCluster.apply_patch(json.dumps(obj).encode('ascii'))
    assert FakeCluster.apply_patch(apply_patch_body(obj)) == obj


def test_a_lone_surrogate_is_refused_by_name_not_sent():
    with pytest.raises(K8sError, match='lone surrogate'):
        apply_patch_body({'data': {'x': 'bad \udc80'}})


def test_clients_name_the_collection_in_their_user_agent(tmp_path):
    kubeconfig = {
        'apiVersion': 'v1', 'kind': 'Config', 'current-context': 'c',
        'clusters': [{'name': 'k', 'cluster': {'server': 'https://127.0.0.1:1'}}],
        'users': [{'name': 'u', 'user': {'token': 't'}}],
        'contexts': [{'name': 'c', 'context': {'cluster': 'k', 'user': 'u'}}],
    }
    path = tmp_path / 'config'
    path.write_text(yaml.safe_dump(kubeconfig))
    built = []
    original = k8s_client.DynamicClient
    try:
        k8s_client.DynamicClient = lambda api_client, **kwargs: built.append(api_client) or api_client
        k8s_client.dynamic_client({'kubeconfig': str(path)})
        k8s_client.dynamic_client_from_dict(kubeconfig)
    finally:
        k8s_client.DynamicClient = original
    assert [c.user_agent for c in built] == [USER_AGENT, USER_AGENT]
    assert USER_AGENT.startswith('ansible-aiplatform.aks/')
