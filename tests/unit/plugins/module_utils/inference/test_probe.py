"""inference_probe logic: answer parsing, streaming, retries, and the API server's service proxy path."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kubernetes
import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.inference.probe import (
    REDACTED, Endpoint, ProbeError, Prober, Response, StreamCollector, chat_answer, openai_answer, option_problems, prompt_item_problems,
    redact_headers, service_proxy_endpoint, service_proxy_path, ssl_context_for, summarize)


def test_openai_answers():
    data = {'choices': [{'message': {'role': 'assistant', 'content': 'Hi.'}}], 'usage': {'completion_tokens': 2}}
    assert openai_answer(data) == ('Hi.', {'completion_tokens': 2})
    assert openai_answer({'choices': [{'text': 'legacy'}]}) == ('legacy', {})
    assert openai_answer({'choices': [{'message': {'content': None}}]}) == ('', {})
    with pytest.raises(ProbeError, match='no choices'):
        openai_answer({'object': 'error', 'message': 'boom'})


@pytest.mark.parametrize('data, text', [
    ({'Result': 'A tomato is a fruit.'}, 'A tomato is a fruit.'),
    ([{'generated_text': 'a'}, {'generated_text': 'b'}], 'ab'),
    ({'Result': [{'generated_text': 'nested'}]}, 'nested'),
    ('plain', 'plain'),
    ({'Result': ''}, ''),
])
def test_transformers_chat_answers(data, text):
    assert chat_answer(data) == text


def test_transformers_chat_answer_without_result():
    with pytest.raises(ProbeError, match='no Result'):
        chat_answer({'detail': 'Not Found'})


def test_stream_collector_times_the_first_token_and_keeps_the_usage():
    collector = StreamCollector()
    for elapsed, line in enumerate([b': keep-alive\n', b'data: {"choices": [{"delta": {"role": "assistant"}}]}\n', b'\n',
                                    b'data: {"choices": [{"delta": {"content": "Hel"}}]}\n',
                                    b'data: {"choices": [{"delta": {"content": "lo"}}]}\n',
                                    b'data: {"choices": [], "usage": {"completion_tokens": 2}}\n', b'data: [DONE]\n']):
        collector(line, float(elapsed))
    assert collector.text == 'Hello' and collector.ttft == 3.0 and collector.usage == {'completion_tokens': 2}
    assert collector.done and collector.error is None
    broken = StreamCollector()
    broken(b'data: {not json\n', 0.1)
    assert 'not JSON' in broken.error


def test_service_proxy_path_quotes_names():
    assert service_proxy_path('ai-serving', 'phi-4-mini', 80) == '/api/v1/namespaces/ai-serving/services/http:phi-4-mini:80/proxy'
    assert service_proxy_path('a/b', 'x', 'http', 'https') == '/api/v1/namespaces/a%2Fb/services/https:x:http/proxy'


class FakeEndpoint(Endpoint):
    """Answers from a script instead of a socket: one entry per request."""

    def __init__(self, script):
        super(FakeEndpoint, self).__init__('http://model.example')
        self.script = list(script)
        self.sent = []

    def request(self, method, path, body=None, timeout=60.0, on_line=None):
        self.sent.append((method, path, body))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, payload = step
        return Response(status, 'OK' if status == 200 else 'Error', json.dumps(payload).encode(), 0.1, 0.2)


def chat(text):
    return (200, {'Result': text})


def test_retries_only_what_can_pass_later():
    sleeps = []
    endpoint = FakeEndpoint([(503, 'loading'), ProbeError('cannot reach', retryable=True), chat('ok')])
    result = Prober(endpoint, api='chat', retries=2, retry_delay=7, sleep=sleeps.append).ask('hi')
    assert result['ok'] and result['attempts'] == 3 and sleeps == [7, 7]
    endpoint = FakeEndpoint([(500, {'detail': 'boom'})])
    result = Prober(endpoint, api='chat', retries=3, sleep=sleeps.append).ask('hi')
    assert not result['ok'] and result['attempts'] == 1 and result['status'] == 500 and 'HTTP 500' in result['error']
    endpoint = FakeEndpoint([(503, 'x'), (503, 'x')])
    result = Prober(endpoint, api='chat', retries=1, retry_delay=0, sleep=sleeps.append).ask('hi')
    assert not result['ok'] and result['attempts'] == 2


def test_empty_answers_and_expectations_fail():
    result = Prober(FakeEndpoint([chat('   ')]), api='chat').ask('hi')
    assert not result['ok'] and result['error'].startswith('empty answer (HTTP 200')
    result = Prober(FakeEndpoint([chat('A tomato is a fruit.')]), api='chat').ask({'prompt': 'tomato?', 'expect': 'FRUIT'})
    assert result['ok']
    result = Prober(FakeEndpoint([chat('A vegetable.')]), api='chat').ask({'prompt': 'tomato?', 'expect': 'fruit'})
    assert not result['ok'] and "does not match 'fruit'" in result['error']
    assert Prober(FakeEndpoint([]), api='chat').ask('')['error'] == 'empty prompt'


def test_chat_request_body_merges_generate_kwargs():
    endpoint = FakeEndpoint([chat('x')])
    Prober(endpoint, api='chat', generate_kwargs={'max_length': 64, 'do_sample': False}).ask(
        {'prompt': 'hi', 'generate_kwargs': {'max_length': 16}})
    assert endpoint.sent == [('POST', '/chat', {'prompt': 'hi', 'return_full_text': False,
                                                'generate_kwargs': {'max_length': 16, 'do_sample': False}})]


def test_openai_model_discovery_and_tokens():
    endpoint = FakeEndpoint([(200, {'data': [{'id': 'phi-4-mini-instruct'}, {'id': 'adapter'}]}),
                             (200, {'choices': [{'message': {'content': 'Four.'}}],
                                    'usage': {'prompt_tokens': 9, 'completion_tokens': 2, 'total_tokens': 11}})])
    prober = Prober(endpoint, max_tokens=32)
    assert prober.discover_model() == 'phi-4-mini-instruct' and prober.models == ['phi-4-mini-instruct', 'adapter']
    result = prober.ask({'prompt': '2+2?', 'max_tokens': 8})
    assert result['ok'] and (result['prompt_tokens'], result['completion_tokens'], result['total_tokens']) == (9, 2, 11)
    assert result['tokens_per_second'] == 10.0
    assert endpoint.sent[1] == ('POST', '/v1/chat/completions', {'model': 'phi-4-mini-instruct', 'max_tokens': 8, 'temperature': 0.0,
                                                                 'messages': [{'role': 'user', 'content': '2+2?'}]})
    with pytest.raises(ProbeError, match='lists no models'):
        Prober(FakeEndpoint([(200, {'data': []})])).discover_model()
    given = Prober(FakeEndpoint([(200, {'data': [{'id': 'a'}]})]), model='b')
    assert given.discover_model() == 'b'


def test_summary():
    results = [{'ok': True, 'ttfb_seconds': 1.0, 'ttft_seconds': None, 'total_seconds': 2.0, 'completion_tokens': 3},
               {'ok': False, 'ttfb_seconds': None, 'ttft_seconds': None, 'total_seconds': None, 'completion_tokens': None},
               {'ok': True, 'ttfb_seconds': 3.0, 'ttft_seconds': None, 'total_seconds': 4.0, 'completion_tokens': 5}]
    summary = summarize(results)
    assert summary['prompts'] == 3 and summary['passed'] == 2 and summary['failed'] == 1
    assert summary['ttfb_seconds'] == {'min': 1.0, 'avg': 2.0, 'max': 3.0} and summary['ttft_seconds'] is None
    assert summary['completion_tokens'] == 8


class FakeApiServer(BaseHTTPRequestHandler):
    """Plays the API server's service proxy: checks the token and forwards to a model that answers OpenAI requests."""
    protocol_version = 'HTTP/1.1'
    seen = []

    def log_message(self, *args):
        pass

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self.seen.append(('GET', self.path, self.headers.get('Authorization')))
        if self.headers.get('Authorization') != 'Bearer fresh-token':
            return self._answer(403, {'kind': 'Status', 'message': 'services "phi" is forbidden', 'code': 403})
        self._answer(200, {'data': [{'id': 'phi-4-mini-instruct'}]})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        self.seen.append(('POST', self.path, self.headers.get('Authorization')))
        if self.headers.get('Authorization') != 'Bearer fresh-token':
            return self._answer(403, {'kind': 'Status', 'message': 'services "phi" is forbidden', 'code': 403})
        self._answer(200, {'choices': [{'message': {'content': 'echo ' + body['messages'][-1]['content']}}]})


@pytest.fixture
def apiserver():
    FakeApiServer.seen = []
    server = ThreadingHTTPServer(('127.0.0.1', 0), FakeApiServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_prompts_go_through_the_api_server_service_proxy_with_the_callers_token(apiserver):
    configuration = kubernetes.client.Configuration(host=apiserver + '/')
    configuration.api_key = {'authorization': 'Bearer stale-token'}

    def refresh(config):  # what an exec credential plugin (kubelogin on AKS) does before each request
        config.api_key = {'authorization': 'Bearer fresh-token'}
    configuration.refresh_api_key_hook = refresh

    endpoint = service_proxy_endpoint(configuration, 'ai-serving', 'phi-4-mini', 80, headers={'x-model-variant': 'canary'})
    assert endpoint.display == 'service ai-serving/phi-4-mini port 80 via the API server %s' % apiserver
    assert 'fresh-token' not in endpoint.display
    prober = Prober(endpoint)
    prober.discover_model()
    result = prober.ask('hello')
    assert result['ok'] and result['answer'] == 'echo hello'
    proxy = '/api/v1/namespaces/ai-serving/services/http:phi-4-mini:80/proxy'
    assert FakeApiServer.seen == [('GET', proxy + '/v1/models', 'Bearer fresh-token'),
                                  ('POST', proxy + '/v1/chat/completions', 'Bearer fresh-token')]


def test_rbac_refusal_through_the_proxy_is_reported(apiserver):
    configuration = kubernetes.client.Configuration(host=apiserver)
    configuration.api_key = {'authorization': 'Bearer not-allowed'}
    prober = Prober(service_proxy_endpoint(configuration, 'ai', 'phi'), model='phi')
    result = prober.ask('hello')
    assert not result['ok'] and result['status'] == 403 and 'HTTP 403 Forbidden' in result['error'] and 'is forbidden' in result['error']


def test_bad_url():
    with pytest.raises(ProbeError, match='http:// or https://'):
        Endpoint('model.example:80')


# --- input (issue 11) ----------------------------------------------------------------------------------------------

OPTIONS = {'timeout': 60.0, 'retries': 0, 'retry_delay': 5.0, 'max_tokens': 64, 'temperature': 0.0, 'headers': None,
           'service': None, 'service_port': '80', 'chat_path': '/chat', 'url_ca_cert': None, 'ca_cert': None}


def test_the_defaults_have_no_problems():
    assert option_problems(OPTIONS) == []
    assert option_problems(dict(OPTIONS, service='chat', service_port='http', headers={'X-Api-Key': 'k', 'X-Retries': 3})) == []


@pytest.mark.parametrize('change, problem', [
    ({'timeout': 0.0}, 'timeout must be more than 0 seconds, got 0.0'),
    ({'retries': -1}, 'retries must be 0 or more, got -1'),
    ({'retry_delay': -1.0}, 'retry_delay must be 0 or more seconds, got -1.0'),
    ({'max_tokens': 0}, 'max_tokens must be 1 or more, got 0'),
    ({'temperature': -0.1}, 'temperature must be 0 or more, got -0.1'),
    ({'headers': {'Bad Name': 'v'}}, "headers name 'Bad Name' is not an HTTP header name"),
    ({'headers': {'X-A': 'a\r\nX-B: b'}}, 'headers X-A has a line break or NUL in its value'),
    ({'headers': {'X-A': ['v']}}, 'headers X-A must be a string, got list'),
    ({'headers': {'X-A': 'caf\u00e9 \u2615'}}, 'headers X-A has characters HTTP headers cannot carry'),
    ({'service': 'chat', 'service_port': '0'}, 'service_port 0 is not a port number (1 to 65535)'),
    ({'service': 'chat', 'service_port': 'a-very-long-port-name'}, "service_port 'a-very-long-port-name' must be a port number"),
    ({'chat_path': 'chat'}, "chat_path must start with /, got 'chat'"),
    ({'url_ca_cert': '/nonexistent/ca.pem'}, 'url_ca_cert /nonexistent/ca.pem is not a file'),
])
def test_options_no_request_could_use_are_named(change, problem):
    problems = option_problems(dict(OPTIONS, **change))
    assert len(problems) == 1 and problems[0].startswith(problem), problems


@pytest.mark.parametrize('item, problem', [
    ({'prompt': 'hi', 'expect': '(('}, "prompts item 3 expect '((' is not a regular expression"),
    ({'prompt': 'hi', 'expected': 'x'}, "prompts item 3 has an unknown key 'expected' (did you mean expect?)"),
    ({'prompt': 'hi', 'max_tokens': '5'}, "prompts item 3 max_tokens must be of type int, got str '5'"),
    ({'prompt': 'hi', 'max_tokens': True}, 'prompts item 3 max_tokens must be of type int, got bool True'),
    ({'prompt': 'hi', 'max_tokens': 0}, 'prompts item 3 max_tokens must be 1 or more, got 0'),
    ({'prompt': 'hi', 'temperature': -1}, 'prompts item 3 temperature must be 0 or more, got -1'),
    ({'prompt': 'hi', 'generate_kwargs': 'x'}, 'prompts item 3 generate_kwargs must be of type dict'),
])
def test_prompt_items_are_checked_key_by_key(item, problem):
    problems = prompt_item_problems(3, item)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_a_full_prompt_item_passes():
    assert prompt_item_problems(1, {'prompt': 'hi', 'expect': '^4$', 'max_tokens': 8, 'temperature': 0.5, 'system_prompt': 's',
                                    'generate_kwargs': {'do_sample': False}}) == []


def test_the_invocation_shows_header_names_not_values():
    shown = redact_headers({'headers': {'X-Api-Key': 'sk-secret', 'Host': 'chat.example'}, 'url': 'http://127.0.0.1:1'})
    assert shown == {'headers': {'X-Api-Key': REDACTED, 'Host': REDACTED}, 'url': 'http://127.0.0.1:1'}
    assert redact_headers({'headers': None}) == {'headers': None}


def test_a_ca_certificate_that_is_not_pem_is_a_probe_error_naming_the_option(tmp_path):
    bad = tmp_path / 'ca.pem'
    bad.write_text('not a certificate')
    with pytest.raises(ProbeError, match='cannot use the CA certificate .*ca.pem \\(url_ca_cert\\)'):
        ssl_context_for(str(bad))
