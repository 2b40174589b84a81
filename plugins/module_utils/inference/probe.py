# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prompts to a model server, with the latency of each answer (inference_probe).

Two APIs: the OpenAI-compatible one (``/v1/models``, ``/v1/chat/completions``; vLLM, and the transformers
runtime of newer KAITO releases) and the older ``/chat`` API of KAITO's transformers runtime, which takes
``prompt``, ``return_full_text`` and ``generate_kwargs`` and answers ``{"Result": "..."}``.

The server is reached at a URL, or through the Kubernetes API server's service proxy
(``/api/v1/namespaces/<ns>/services/<scheme>:<service>:<port>/proxy/...``) with the caller's credentials, so
RBAC applies and no port-forward is needed. The HTTP client is http.client, which lets us time the first
byte of each answer.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import socket
import ssl
import time

from http.client import HTTPConnection, HTTPSConnection, HTTPException
from urllib.parse import quote, urlsplit

RETRY_STATUSES = (502, 503, 504)
BODY_SNIPPET = 300
REDACTED = '********'
# the keys a prompts item may have, and their types
PROMPT_KEYS = {'prompt': (str,), 'expect': (str,), 'max_tokens': (int,), 'temperature': (int, float), 'system_prompt': (str,),
               'generate_kwargs': (dict,)}
# RFC 9110 token characters, the only ones a header name may have
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
PORT_NAME = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')


class ProbeError(Exception):
    """A request that got no usable answer."""

    def __init__(self, msg, status=None, retryable=False):
        super(ProbeError, self).__init__(msg)
        self.status = status
        self.retryable = retryable


class Response:
    def __init__(self, status, reason, body, ttfb, total):
        self.status = status
        self.reason = reason
        self.body = body
        self.ttfb = ttfb
        self.total = total

    def text(self):
        return self.body.decode('utf-8', 'replace')

    def snippet(self):
        text = self.text().strip().replace('\n', ' ')
        return text[:BODY_SNIPPET] + ('...' if len(text) > BODY_SNIPPET else '')


class Endpoint:
    """A base URL plus the headers and TLS settings every request to it needs."""

    def __init__(self, base_url, headers=None, ssl_context=None, display=None):
        parts = urlsplit(base_url)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise ProbeError('url %r must be an http:// or https:// URL with a host' % base_url)
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.base_path = parts.path.rstrip('/')
        self.headers = dict(headers or {})
        self.ssl_context = ssl_context
        self.display = display or '%s://%s%s%s' % (parts.scheme, parts.hostname, ':%s' % parts.port if parts.port else '', self.base_path)

    def where(self, path):
        return self.display + path

    def _connection(self, timeout):
        if self.scheme == 'https':
            return HTTPSConnection(self.host, self.port, timeout=timeout, context=self.ssl_context or ssl.create_default_context())
        return HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, timeout=60.0, on_line=None):
        """Send one request; return a Response with the time to the first byte and in total.

        `on_line(line, elapsed)` receives each line of the body as it arrives (server-sent events).
        Raises ProbeError when there is no complete answer within `timeout` seconds.
        """
        headers = {'Accept': 'application/json'}
        headers.update(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        where = self.where(path)
        start = time.monotonic()
        deadline = start + timeout
        conn = self._connection(timeout)
        try:
            try:
                conn.request(method, self.base_path + path, body=data, headers=headers)
                resp = conn.getresponse()
                ttfb = time.monotonic() - start
                chunks = []
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise socket.timeout()
                    if conn.sock is not None:
                        conn.sock.settimeout(remaining)
                    if on_line is not None:
                        line = resp.readline()
                        if not line:
                            break
                        chunks.append(line)
                        on_line(line, time.monotonic() - start)
                    else:
                        chunk = resp.read1(65536) if hasattr(resp, 'read1') else resp.read(65536)
                        if not chunk:
                            break
                        chunks.append(chunk)
                return Response(resp.status, resp.reason, b''.join(chunks), ttfb, time.monotonic() - start)
            except socket.timeout:
                raise ProbeError('no complete answer from %s within %ss' % (where, timeout), retryable=True)
            except ssl.SSLError as exc:
                raise ProbeError('TLS error talking to %s: %s' % (where, exc))
            except (socket.error, HTTPException) as exc:
                raise ProbeError('cannot reach %s: %s' % (where, exc), retryable=True)
        finally:
            conn.close()


def ssl_context_for(ca_cert=None, validate_certs=True, cert_file=None, key_file=None, ca_option='url_ca_cert'):
    try:
        context = ssl.create_default_context(cafile=ca_cert) if ca_cert else ssl.create_default_context()
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ProbeError('cannot use the CA certificate %s (%s): %s' % (ca_cert, ca_option, exc))
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert_file:
        try:
            context.load_cert_chain(cert_file, key_file)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise ProbeError('cannot use the client certificate %s: %s' % (cert_file, exc))
    return context


def url_endpoint(url, headers=None, token=None, ca_cert=None, validate_certs=True):
    headers = dict(headers or {})
    if token:
        headers['Authorization'] = 'Bearer %s' % token
    return Endpoint(url, headers, ssl_context_for(ca_cert, validate_certs))


def service_proxy_path(namespace, service, port, scheme='http'):
    return '/api/v1/namespaces/%s/services/%s:%s:%s/proxy' % (quote(namespace, safe=''), scheme, quote(service, safe=''), port)


def service_proxy_endpoint(configuration, namespace, service, port=80, scheme='http', headers=None):
    """An Endpoint that reaches a Service through the API server of a kubernetes.client.Configuration."""
    host = configuration.host.rstrip('/')
    auth = (configuration.auth_settings() or {}).get('BearerToken') or {}
    all_headers = dict(headers or {})
    if auth.get('value'):
        all_headers['Authorization'] = auth['value']
    context = None
    if host.startswith('https://'):
        context = ssl_context_for(configuration.ssl_ca_cert, configuration.verify_ssl, configuration.cert_file, configuration.key_file,
                                  ca_option='ca_cert or the kubeconfig')
    path = service_proxy_path(namespace, service, port, scheme)
    return Endpoint(host + path, all_headers, context,
                    display='service %s/%s port %s via the API server %s' % (namespace, service, port, host))


# --- input ----------------------------------------------------------------------------------------

def _nearest(key, valid):
    close = difflib.get_close_matches(str(key), valid, n=1)
    return ' (did you mean %s?)' % close[0] if close else ''


def prompt_item_problems(index, item):
    """Sentences about one prompts item (a mapping): unknown keys, wrong types, an expect that is not a regex."""
    problems = []
    where = 'prompts item %d' % index
    for key, value in item.items():
        if key not in PROMPT_KEYS:
            problems.append('%s has an unknown key %r%s; valid keys: %s' % (where, key, _nearest(key, list(PROMPT_KEYS)),
                                                                            ', '.join(PROMPT_KEYS)))
        elif value is not None and (not isinstance(value, PROMPT_KEYS[key]) or isinstance(value, bool)):
            wanted = ' or '.join(t.__name__ for t in PROMPT_KEYS[key])
            problems.append('%s %s must be of type %s, got %s %r' % (where, key, wanted, type(value).__name__, value))
    if isinstance(item.get('expect'), str):
        try:
            re.compile(item['expect'])
        except re.error as exc:
            problems.append('%s expect %r is not a regular expression: %s' % (where, item['expect'], exc))
    if isinstance(item.get('max_tokens'), int) and not isinstance(item['max_tokens'], bool) and item['max_tokens'] < 1:
        problems.append('%s max_tokens must be 1 or more, got %s' % (where, item['max_tokens']))
    if isinstance(item.get('temperature'), (int, float)) and not isinstance(item['temperature'], bool) and item['temperature'] < 0:
        problems.append('%s temperature must be 0 or more, got %s' % (where, item['temperature']))
    return problems


def option_problems(params):
    """Sentences about inference_probe options that no request could use, each naming the option."""
    problems = []
    for option, minimum, unit in (('timeout', None, 'seconds'), ('retries', 0, ''), ('retry_delay', 0, 'seconds'),
                                  ('max_tokens', 1, '')):
        value = params.get(option)
        if value is None:
            continue
        if minimum is None and not value > 0:
            problems.append('%s must be more than 0 %s, got %s' % (option, unit, value))
        elif minimum is not None and value < minimum:
            problems.append('%s must be %s or more%s, got %s' % (option, minimum, ' ' + unit if unit else '', value))
    if params.get('temperature') is not None and params['temperature'] < 0:
        problems.append('temperature must be 0 or more, got %s' % params['temperature'])
    for name, value in (params.get('headers') or {}).items():
        if not HEADER_NAME.match(str(name)):
            problems.append('headers name %r is not an HTTP header name (letters, digits and !#$%%&\'*+.^_`|~- only)' % name)
        if isinstance(value, (dict, list)) or value is None:
            problems.append('headers %s must be a string, got %s' % (name, type(value).__name__))
        elif re.search(r'[\r\n\x00]', str(value)):
            problems.append('headers %s has a line break or NUL in its value' % name)
        elif not all(ord(ch) < 256 for ch in str(value)):
            problems.append('headers %s has characters HTTP headers cannot carry (only ISO-8859-1)' % name)
    port = params.get('service_port')
    if params.get('service') and port is not None:
        if port.isdigit():
            if not 1 <= int(port) <= 65535:
                problems.append('service_port %s is not a port number (1 to 65535)' % port)
        elif not PORT_NAME.match(port) or len(port) > 15:
            problems.append('service_port %r must be a port number or a port name (lowercase letters, digits and -, at most 15)'
                            % port)
    if params.get('chat_path') is not None and not params['chat_path'].startswith('/'):
        problems.append('chat_path must start with /, got %r' % params['chat_path'])
    for option in ('url_ca_cert', 'ca_cert'):
        if params.get(option) and not os.path.isfile(params[option]):
            problems.append('%s %s is not a file' % (option, params[option]))
    return problems


def redact_headers(params):
    """The arguments as a result's invocation shows them: the header names, not their values."""
    if isinstance(params.get('headers'), dict):
        params['headers'] = dict((name, REDACTED) for name in params['headers'])
    return params


# --- answers ----------------------------------------------------------------------------------------

def _json(resp, where):
    try:
        return json.loads(resp.text())
    except ValueError:
        raise ProbeError('the answer from %s is not JSON: %s' % (where, resp.snippet()), status=resp.status)


def check_status(resp, where):
    if resp.status != 200:
        raise ProbeError('HTTP %s %s from %s after %.2fs: %s' % (resp.status, resp.reason, where, resp.total, resp.snippet()),
                         status=resp.status, retryable=resp.status in RETRY_STATUSES)


def openai_answer(data):
    """(text, usage) from an OpenAI chat completion (or legacy completion) object."""
    choices = data.get('choices') if isinstance(data, dict) else None
    if not choices:
        raise ProbeError('the answer has no choices: %s' % json.dumps(data)[:BODY_SNIPPET])
    first = choices[0] or {}
    message = first.get('message') or {}
    text = message.get('content')
    if text is None:
        text = first.get('text')
    return text or '', data.get('usage') or {}


def chat_answer(data):
    """Text from KAITO's transformers /chat answer ({"Result": ...}); also accepts common pipeline shapes."""
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return ''.join(chat_answer(item) for item in data)
    if isinstance(data, dict):
        for key in ('Result', 'result', 'generated_text', 'text', 'response', 'output'):
            if key in data:
                return chat_answer(data[key]) if not isinstance(data[key], str) else data[key]
        raise ProbeError('the answer has no Result: %s' % json.dumps(data)[:BODY_SNIPPET])
    return '' if data is None else str(data)


class StreamCollector:
    """Collects an OpenAI server-sent event stream: the text, usage, and time to the first token."""

    def __init__(self):
        self.parts = []
        self.usage = {}
        self.ttft = None
        self.done = False
        self.error = None

    def __call__(self, line, elapsed):
        line = line.decode('utf-8', 'replace').strip()
        if not line.startswith('data:'):
            return
        payload = line[5:].strip()
        if payload == '[DONE]':
            self.done = True
            return
        try:
            chunk = json.loads(payload)
        except ValueError:
            self.error = 'an event is not JSON: %s' % payload[:BODY_SNIPPET]
            return
        if chunk.get('usage'):
            self.usage = chunk['usage']
        for choice in chunk.get('choices') or []:
            text = (choice.get('delta') or {}).get('content') or choice.get('text') or ''
            if text:
                if self.ttft is None:
                    self.ttft = elapsed
                self.parts.append(text)

    @property
    def text(self):
        return ''.join(self.parts)


class Prober:
    """Sends prompts through one Endpoint with one API and reports each answer."""

    def __init__(self, endpoint, api='openai', model=None, timeout=60.0, retries=0, retry_delay=5.0, stream=False,
                 max_tokens=64, temperature=0.0, system_prompt=None, chat_path='/chat', generate_kwargs=None,
                 return_full_text=False, sleep=time.sleep):
        self.endpoint = endpoint
        self.api = api
        self.model = model
        self.timeout = timeout
        self.retries = retries
        self.retry_delay = retry_delay
        self.stream = stream
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.system_prompt = system_prompt
        self.chat_path = chat_path
        self.generate_kwargs = generate_kwargs or {}
        self.return_full_text = return_full_text
        self.models = []
        self._sleep = sleep

    def _retrying(self, call):
        attempt = 0
        while True:
            attempt += 1
            try:
                return call(), attempt
            except ProbeError as exc:
                if not exc.retryable or attempt > self.retries:
                    exc.attempts = attempt
                    raise
                self._sleep(self.retry_delay)

    def discover_model(self):
        """The served model names (GET /v1/models); the first one is used when no model was given."""
        def call():
            resp = self.endpoint.request('GET', '/v1/models', timeout=self.timeout)
            check_status(resp, self.endpoint.where('/v1/models'))
            data = _json(resp, self.endpoint.where('/v1/models'))
            return [m.get('id') for m in (data.get('data') or []) if isinstance(m, dict) and m.get('id')]
        self.models = self._retrying(call)[0]
        if not self.model:
            if not self.models:
                raise ProbeError('%s lists no models' % self.endpoint.where('/v1/models'))
            self.model = self.models[0]
        return self.model

    def _openai(self, item):
        messages = []
        if item.get('system_prompt', self.system_prompt):
            messages.append({'role': 'system', 'content': item.get('system_prompt', self.system_prompt)})
        messages.append({'role': 'user', 'content': item['prompt']})
        body = {'model': self.model, 'messages': messages, 'max_tokens': item.get('max_tokens') or self.max_tokens,
                'temperature': self.temperature if item.get('temperature') is None else item['temperature']}
        path = '/v1/chat/completions'
        where = self.endpoint.where(path)
        if self.stream:
            body.update(stream=True, stream_options={'include_usage': True})
            collector = StreamCollector()
            resp = self.endpoint.request('POST', path, body, self.timeout, on_line=collector)
            check_status(resp, where)
            if collector.error:
                raise ProbeError('the stream from %s is broken: %s' % (where, collector.error), status=resp.status)
            return resp, collector.text, collector.usage, collector.ttft
        resp = self.endpoint.request('POST', path, body, self.timeout)
        check_status(resp, where)
        text, usage = openai_answer(_json(resp, where))
        return resp, text, usage, None

    def _chat(self, item):
        kwargs = dict(self.generate_kwargs)
        kwargs.update(item.get('generate_kwargs') or {})
        body = {'prompt': item['prompt'], 'return_full_text': self.return_full_text, 'generate_kwargs': kwargs}
        where = self.endpoint.where(self.chat_path)
        resp = self.endpoint.request('POST', self.chat_path, body, self.timeout)
        check_status(resp, where)
        return resp, chat_answer(_json(resp, where)), {}, None

    def ask(self, item):
        """One prompt: a result dict that is `ok` or names its `error`; never raises for a bad answer."""
        item = {'prompt': item} if not isinstance(item, dict) else item
        result = {'prompt': item.get('prompt'), 'answer': None, 'ok': False, 'error': None, 'status': None, 'attempts': 0,
                  'ttfb_seconds': None, 'ttft_seconds': None, 'total_seconds': None, 'prompt_tokens': None,
                  'completion_tokens': None, 'total_tokens': None, 'tokens_per_second': None}
        if not item.get('prompt'):
            result['error'] = 'empty prompt'
            return result
        send = self._openai if self.api == 'openai' else self._chat

        def call():
            resp, text, usage, ttft = send(item)
            if not (text or '').strip():
                raise ProbeError('empty answer (HTTP %s after %.2fs)' % (resp.status, resp.total), status=resp.status)
            return resp, text, usage, ttft
        try:
            (resp, text, usage, ttft), attempts = self._retrying(call)
        except ProbeError as exc:
            result.update(error=str(exc), status=exc.status, attempts=getattr(exc, 'attempts', 1))
            return result
        result.update(answer=text, status=resp.status, attempts=attempts, ttfb_seconds=round(resp.ttfb, 4),
                      total_seconds=round(resp.total, 4), ttft_seconds=round(ttft, 4) if ttft is not None else None)
        for key in ('prompt_tokens', 'completion_tokens', 'total_tokens'):
            if isinstance(usage.get(key), int):
                result[key] = usage[key]
        if result['completion_tokens'] and resp.total > 0:
            result['tokens_per_second'] = round(result['completion_tokens'] / resp.total, 2)
        expect = item.get('expect')
        if expect and not re.search(expect, text, re.IGNORECASE):
            result['error'] = 'the answer does not match %r: %s' % (expect, text[:BODY_SNIPPET])
            return result
        result['ok'] = True
        return result


def _stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {'min': round(min(values), 4), 'avg': round(sum(values) / len(values), 4), 'max': round(max(values), 4)}


def summarize(results):
    return {
        'prompts': len(results),
        'passed': sum(1 for r in results if r['ok']),
        'failed': sum(1 for r in results if not r['ok']),
        'ttfb_seconds': _stats([r['ttfb_seconds'] for r in results]),
        'ttft_seconds': _stats([r['ttft_seconds'] for r in results]),
        'total_seconds': _stats([r['total_seconds'] for r in results]),
        'completion_tokens': sum(r['completion_tokens'] or 0 for r in results) if any(r['completion_tokens'] for r in results) else None,
    }


def failure_message(results, endpoint):
    failed = [r for r in results if not r['ok']]
    details = ' | '.join('%r: %s' % (r['prompt'], r['error']) for r in failed)
    return '%d of %d prompts to %s failed: %s' % (len(failed), len(results), endpoint.display, details)
