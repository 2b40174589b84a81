"""inference_probe, in process and through real ansible-playbook runs, against a local model server speaking both APIs."""

import uuid

import pytest

from tests.integration.inference_stub import ANSWERS, CPU_EXAMPLE_PROMPTS, InferenceStub
from tests.integration.module_call import run_task
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

TASK = 'Send the prompts'
PROMPTS = CPU_EXAMPLE_PROMPTS


@pytest.fixture
def stub():
    with InferenceStub() as server:
        yield server


def probe(options, env=None, playbook=False):
    """inference_probe with `options`: in process, or through tests/integration/playbooks/inference_probe.yml."""
    if playbook:
        return run_playbook('inference_probe.yml', {'probe': options}, env=env)
    return run_task('inference_probe', TASK, options, env=env)


def test_chat_api_sends_the_transformers_request_and_reports_each_answer(stub):
    run = probe({'url': stub.url, 'api': 'chat', 'prompts': PROMPTS})
    assert run.rc == 0, run.failures
    result = run.result(TASK)
    assert result['changed'] is False
    assert [r['answer'] for r in result['results']] == [ANSWERS[p] for p in PROMPTS]
    assert all(r['ok'] and r['status'] == 200 and r['attempts'] == 1 for r in result['results'])
    assert all(0 < r['ttfb_seconds'] <= r['total_seconds'] for r in result['results'])
    assert result['summary']['prompts'] == 5 and result['summary']['passed'] == 5 and result['summary']['failed'] == 0
    posts = [r for r in stub.requests if r['method'] == 'POST']
    assert [r['path'] for r in posts] == ['/chat'] * 5
    assert posts[0]['body'] == {'prompt': PROMPTS[0], 'return_full_text': False, 'generate_kwargs': {'max_length': 64, 'do_sample': False}}
    assert result['endpoint'] == stub.url


def test_openai_api_discovers_the_model_and_reports_tokens(stub):
    run = probe({'url': stub.url, 'prompts': ['What is Kubernetes?', {'prompt': 'Say hi', 'max_tokens': 5}], 'system_prompt': 'Be brief.'})
    assert run.rc == 0, run.failures
    result = run.result(TASK)
    assert result['model'] == 'stub-model' and result['models'] == ['stub-model']
    first = result['results'][0]
    assert first['answer'] == 'You asked: What is Kubernetes?'
    assert (first['prompt_tokens'], first['completion_tokens'], first['total_tokens']) == (3, 5, 8)
    assert first['tokens_per_second'] > 0
    posts = [r for r in stub.requests if r['method'] == 'POST']
    assert [r['path'] for r in posts] == ['/v1/chat/completions'] * 2
    assert posts[0]['body']['messages'] == [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'What is Kubernetes?'}]
    assert posts[0]['body']['max_tokens'] == 64 and posts[1]['body']['max_tokens'] == 5
    assert posts[0]['body']['model'] == 'stub-model' and posts[0]['body']['temperature'] == 0


def test_streaming_separates_the_first_byte_from_the_first_token(stub):
    run = probe({'url': stub.url, 'stream': True, 'prompts': ['[slow:1.5] stream this']})
    assert run.rc == 0, run.failures
    answer = run.result(TASK)['results'][0]
    assert answer['answer'] == 'You asked: stream this'
    assert answer['ttfb_seconds'] < 1.0, 'headers come before the first token'
    assert 1.5 <= answer['ttft_seconds'] <= answer['total_seconds']
    assert answer['completion_tokens'] == 4, 'usage from the last event'


@pytest.mark.parametrize('api', ['openai', 'chat'])
@pytest.mark.parametrize('prompt, error', [
    ('[500] please', 'HTTP 500 Internal Server Error from'),
    ('[empty] please', 'empty answer (HTTP 200'),
    ('[slow:5] please', 'no complete answer from'),
])
def test_failures_are_named_per_prompt(stub, api, prompt, error):
    run = probe({'url': stub.url, 'api': api, 'prompts': ['fine', prompt], 'timeout': 1.5})
    assert run.rc != 0
    result = run.result(TASK)
    assert '1 of 2 prompts to %s failed' % stub.url in result['msg'] and error in result['msg']
    assert result['results'][0]['ok'] is True
    assert result['results'][1]['ok'] is False and error in result['results'][1]['error']
    if 'slow' in prompt:
        assert 'within 1.5s' in result['msg']


def test_fail_on_error_false_reports_without_failing(stub):
    run = probe({'url': stub.url, 'prompts': ['fine', '[500]'], 'fail_on_error': False})
    assert run.rc == 0
    result = run.result(TASK)
    assert [r['ok'] for r in result['results']] == [True, False] and result['summary']['failed'] == 1
    assert result['results'][1]['status'] == 500


def test_retries_ride_out_a_model_that_is_still_loading(stub):
    once = probe({'url': stub.url, 'api': 'chat', 'prompts': ['[503-once] a']})
    assert once.rc != 0 and 'HTTP 503' in once.result(TASK)['msg']
    retried = probe({'url': stub.url, 'api': 'chat', 'prompts': ['[503-once] b'], 'retries': 2, 'retry_delay': 0.1})
    assert retried.rc == 0, retried.failures
    assert retried.result(TASK)['results'][0]['attempts'] == 2
    not_retried = probe({'url': stub.url, 'api': 'chat', 'prompts': ['[500] c'], 'retries': 2, 'retry_delay': 0.1})
    assert not_retried.rc != 0 and not_retried.result(TASK)['results'][0]['attempts'] == 1, 'a 500 is not retried'


def test_headers_token_model_and_expect(stub):
    run = probe({'url': stub.url + '/', 'prompts': [{'prompt': 'Is a tomato a fruit or a vegetable?', 'expect': 'fruit'}],
                 'headers': {'x-model-variant': 'canary', 'Host': 'models.example.com'}, 'url_token': 's3cret', 'model': 'stub-model'},
                playbook=True)
    assert run.rc == 0, run.failures
    sent = [r for r in stub.requests if r['method'] == 'POST'][0]['headers']
    assert sent['x-model-variant'] == 'canary' and sent['Host'] == 'models.example.com' and sent['Authorization'] == 'Bearer s3cret'
    assert 's3cret' not in run.stdout, 'the token is not logged'

    mismatch = probe({'url': stub.url, 'prompts': [{'prompt': 'Is a tomato a fruit or a vegetable?', 'expect': '^vegetable'}]})
    assert mismatch.rc != 0 and "does not match '^vegetable'" in mismatch.result(TASK)['msg']

    unknown = probe({'url': stub.url, 'prompts': ['hi'], 'model': 'other-model'})
    assert unknown.rc != 0 and 'HTTP 404' in unknown.result(TASK)['msg'] and 'other-model' in unknown.result(TASK)['msg']


def test_unreachable_server_fails_clearly():
    with InferenceStub() as server:
        url = server.url
    run = probe({'url': url, 'prompts': ['hi']})
    assert run.rc != 0 and 'cannot find the model to ask' in run.result(TASK)['msg'] and 'cannot reach' in run.result(TASK)['msg']


def test_service_proxy_path_reaches_the_real_api_server(k8s_env, k8s_client):
    """The bed's apiserver cannot proxy to loopback endpoints, but it must accept our credentials and the proxy URL:
    a Service without ready endpoints answers 503 from the apiserver itself, and an unknown Service 404."""
    ns = 'ip-' + uuid.uuid4().hex[:8]
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': ns}})
    k8s_client.resources.get(api_version='v1', kind='Service').create(namespace=ns, body={
        'metadata': {'name': 'phi'}, 'spec': {'ports': [{'name': 'http', 'port': 80, 'targetPort': 5000}]}})
    # no endpoints controller on the bed: the Endpoints object a real cluster keeps, with no ready pod (model loading)
    k8s_client.resources.get(api_version='v1', kind='Endpoints').create(namespace=ns, body={'metadata': {'name': 'phi'}, 'subsets': []})
    run = probe({'service': 'phi', 'namespace': ns, 'prompts': ['hi'], 'model': 'phi-4-mini-instruct'}, env=k8s_env, playbook=True)
    assert run.rc != 0
    msg = run.result(TASK)['msg']
    assert 'service %s/phi port 80 via the API server https://127.0.0.1:' % ns in msg
    assert 'HTTP 503' in msg and 'no endpoints available for service' in msg, msg
    missing = probe({'service': 'nope', 'namespace': ns, 'api': 'chat', 'prompts': ['hi']}, env=k8s_env)
    assert missing.rc != 0 and 'HTTP 404' in missing.result(TASK)['msg']


@pytest.mark.parametrize('options, message', [
    ({'prompts': ['hi']}, 'one of the following is required: url, service'),
    ({'service': 'x', 'prompts': ['hi']}, 'missing parameter(s) required by \'service\': namespace'),
    ({'url': 'ftp://x', 'prompts': ['hi']}, 'must be an http:// or https:// URL'),
    ({'url': 'http://127.0.0.1:1', 'prompts': ['', 'x']}, 'prompts item 1 must be a non-empty string'),
])
def test_bad_options(options, message):
    run = probe(options)
    assert run.rc != 0 and message in run.result(TASK)['msg']
