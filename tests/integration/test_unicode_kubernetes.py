"""Any Unicode string, emoji included, round-trips through every Kubernetes module: written by k8s_apply and
kaito_workspace (the same apply code) to the real test apiserver, whose audit log names the tool (the collection's user
agent), read back by k8s_info, and sent to a model and read from its answer by inference_probe (stub model server)."""

import base64
import uuid
from pathlib import Path

import pytest
import yaml

from ansible_collections.aiplatform.aks.plugins.module_utils.version import USER_AGENT
from tests.integration import kaito_standin as kaito
from tests.integration.inference_stub import InferenceStub
from tests.integration.module_call import call_module

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
# outside the Basic Multilingual Plane (emoji, a Gothic letter), CJK, a combining accent, and what YAML folds or refuses
# unescaped (NEL, DEL, a C1 control, the line separator, the byte order mark)
TEXT = 'ready \U0001F680\u2705 \U00010348 \u6a21\u578b e\u0301 nel\x85 del\x7f csi\x9b ls\u2028 bom\ufeff'


@pytest.fixture
def ns(k8s_client):
    name = 'uni-' + uuid.uuid4().hex[:8]
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': name}})
    return name


def test_k8s_apply_round_trips_any_unicode_and_a_second_run_changes_nothing(k8s_env, k8s_client, kube_apiserver, ns):
    definitions = [
        {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'greeting', 'annotations': {'note': TEXT}},
         'data': {'text': TEXT}},
        {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 'greeting'}, 'stringData': {'text': TEXT}},
    ]
    args = {'namespace': ns, 'definitions': definitions}
    mark = kube_apiserver.audit_mark()
    first = call_module('k8s_apply', args, env=k8s_env)
    assert not first.get('failed'), first.get('msg')
    assert [o['action'] for o in first['objects']] == ['created', 'created']
    writes = [w for w in kube_apiserver.writes(mark) if ns in w['uri']]
    assert len(writes) == 2 and all(w['user_agent'] == USER_AGENT for w in writes), 'the audit log names the tool: %r' % writes
    cm = k8s_client.resources.get(api_version='v1', kind='ConfigMap').get(name='greeting', namespace=ns).to_dict()
    assert cm['data'] == {'text': TEXT} and cm['metadata']['annotations'] == {'note': TEXT}
    secret = k8s_client.resources.get(api_version='v1', kind='Secret').get(name='greeting', namespace=ns).to_dict()
    assert base64.b64decode(secret['data']['text']).decode('utf-8') == TEXT
    again = call_module('k8s_apply', args, env=k8s_env)
    assert not again.get('failed'), again.get('msg')
    assert again['changed'] is False, 'what was stored is what was asked for: %r' % again['objects']
    read = call_module('k8s_info', {'kind': 'ConfigMap', 'namespace': ns, 'name': 'greeting'}, env=k8s_env)
    assert not read.get('failed'), read.get('msg')
    assert [(r['data'], r['metadata']['annotations']) for r in read['resources']] == [({'text': TEXT}, {'note': TEXT})]


def test_kaito_workspace_round_trips_any_unicode_in_its_workspace_and_inference_config(k8s_env, k8s_client, ns):
    kaito.install_crds(k8s_client, sorted((CRDS / 'kaito').glob('*.yaml')))
    config = {'vllm': {'served-model-name': 'chat \U0001F916'}, 'note': TEXT}
    ws = {'name': 'emoji', 'namespace': ns, 'wait': False, 'annotations': {'note': TEXT},
          'resource': {'label_selector': {'matchLabels': {'apps': 'emoji'}}}, 'preset': {'name': 'phi-4-mini-instruct'},
          'inference_config': config}
    result = call_module('kaito_workspace', ws, env=k8s_env)
    assert not result.get('failed'), result.get('msg')
    stored = kaito.workspaces(k8s_client).get(name='emoji', namespace=ns).to_dict()
    assert stored['metadata']['annotations']['note'] == TEXT
    cm = k8s_client.resources.get(api_version='v1', kind='ConfigMap').get(name='emoji-inference-config', namespace=ns)
    assert yaml.safe_load(cm.data['inference_config.yaml']) == config
    again = call_module('kaito_workspace', ws, env=k8s_env)
    assert not again.get('failed'), again.get('msg')
    assert again['changed'] is False


@pytest.mark.parametrize('api', ['openai', 'chat'])
def test_inference_probe_sends_and_reads_any_unicode(api):
    """The stub model server echoes a prompt it does not know ("You asked: <prompt>"), so the answer holds the text."""
    with InferenceStub() as stub:
        result = call_module('inference_probe', {'url': stub.url, 'api': api, 'prompts': [{'prompt': TEXT, 'expect': '\U0001F680'}]})
    assert not result.get('failed'), result.get('msg')
    assert [r['answer'] for r in result['results']] == ['You asked: %s' % TEXT.strip()]
    sent = [r['body'].get('prompt') or r['body']['messages'][0]['content'] for r in stub.requests if r['method'] == 'POST']
    assert sent == [TEXT]
