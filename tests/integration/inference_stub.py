"""A small model server for tests: the OpenAI-compatible API and KAITO's transformers ``/chat`` API.

It does not generate anything: known prompts get fixed answers, others an echo. Markers in a prompt change
the behaviour, so one server covers the failure cases:

    ``[slow:<seconds>]``  wait that long before answering (with streaming: before the first token)
    ``[500]``             answer HTTP 500
    ``[503-once]``        answer HTTP 503 the first time this prompt is seen, then normally
    ``[empty]``           answer HTTP 200 with an empty text

Every request is recorded (method, path, headers, JSON body) for assertions.

In-process (pytest)::

    with InferenceStub() as stub:
        stub.url  # http://127.0.0.1:<port>

As a process (molecule)::

    python -m tests.integration.inference_stub start --state DIR/stub.json [--watch PATH]
    python -m tests.integration.inference_stub stop --state DIR/stub.json
"""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.integration import background

MODEL = 'stub-model'
ANSWERS = {
    'What sport should I play in rainy weather?': 'Swimming in an indoor pool.',
    'Is a tomato a fruit or a vegetable?': 'A tomato is a fruit.',
    'Name three indoor activities suitable for rainy weather.': 'Reading, board games and cooking.',
    'Can electric cars reduce air pollution? Explain briefly.': 'Yes, they have no exhaust emissions.',
    'Answer briefly: What is cloud computing?': 'Computing services delivered over the internet.',
    # the prompts of the role's GPU preset example
    'What is Kubernetes? Answer in one sentence.': 'Kubernetes runs and scales containers across a cluster.',
    'What is 2 + 2? Answer with the number only.': '4',
}
# the five test prompts of the Terraform environment's CPU example
CPU_EXAMPLE_PROMPTS = list(ANSWERS)[:5]
SLOW = re.compile(r'\[slow:([0-9.]+)\]')


def answer_for(prompt: str) -> str:
    if '[empty]' in prompt:
        return ''
    return ANSWERS.get(prompt, 'You asked: %s' % SLOW.sub('', prompt).strip())


class Handler(BaseHTTPRequestHandler):
    server_version = 'inference-stub/1'
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _send(self, status, body, content_type='application/json'):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, body=None):
        self.server.stub.requests.append({'method': self.command, 'path': self.path, 'headers': dict(self.headers), 'body': body})

    def do_GET(self):  # noqa: N802
        self._record()
        if self.path == '/health':
            self._send(200, {'status': 'Healthy'})
        elif self.path == '/v1/models':
            self._send(200, {'object': 'list', 'data': [{'id': self.server.stub.model, 'object': 'model'}]})
        else:
            self._send(404, {'detail': 'Not Found'})

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get('Content-Length') or 0)
        try:
            body = json.loads(self.rfile.read(length) or b'{}')
        except ValueError:
            self._record()
            return self._send(400, {'detail': 'body is not JSON'})
        self._record(body)
        if self.path == '/v1/chat/completions':
            prompt = ''.join(m.get('content') or '' for m in body.get('messages') or [] if m.get('role') == 'user')
        elif self.path == self.server.stub.chat_path:
            prompt = body.get('prompt') or ''
        else:
            return self._send(404, {'detail': 'Not Found'})
        if '[500]' in prompt:
            return self._send(500, {'detail': 'Error during text generation'})
        if '[503-once]' in prompt and prompt not in self.server.stub.seen:
            self.server.stub.seen.add(prompt)
            return self._send(503, b'no endpoints available for service', 'text/plain')
        delay = float(SLOW.search(prompt).group(1)) if SLOW.search(prompt) else 0.0
        text = answer_for(prompt)
        if self.path == self.server.stub.chat_path:
            time.sleep(delay)
            result = prompt + text if body.get('return_full_text') else text
            return self._send(200, {'Result': result})
        usage = {'prompt_tokens': len(prompt.split()), 'completion_tokens': len(text.split()),
                 'total_tokens': len(prompt.split()) + len(text.split())}
        model = body.get('model')
        if model != self.server.stub.model:
            return self._send(404, {'object': 'error', 'message': 'The model `%s` does not exist.' % model})
        if body.get('stream'):
            return self._stream(text, usage, delay, body)
        time.sleep(delay)
        self._send(200, {'id': 'cmpl-1', 'object': 'chat.completion', 'model': model,
                         'choices': [{'index': 0, 'message': {'role': 'assistant', 'content': text}, 'finish_reason': 'stop'}],
                         'usage': usage})

    def _stream(self, text, usage, delay, body):
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Connection', 'close')
        self.end_headers()
        self.close_connection = True
        self.wfile.flush()
        time.sleep(delay)

        def event(payload):
            self.wfile.write(('data: %s\n\n' % (payload if isinstance(payload, str) else json.dumps(payload))).encode())
            self.wfile.flush()
        for word in re.findall(r'\S+\s*', text):
            event({'object': 'chat.completion.chunk', 'choices': [{'index': 0, 'delta': {'content': word}}]})
        if (body.get('stream_options') or {}).get('include_usage'):
            event({'object': 'chat.completion.chunk', 'choices': [], 'usage': usage})
        event('[DONE]')


class InferenceStub:
    """The server on 127.0.0.1 in a background thread."""

    def __init__(self, port=0, model=MODEL, chat_path='/chat'):
        self.model = model
        self.chat_path = chat_path
        self.requests = []
        self.seen = set()
        self.httpd = ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.stub = self
        self.thread = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.httpd.server_address[1]

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    def arguments(p):
        p.add_argument('--port', type=int, default=0)
        p.add_argument('--model', default=MODEL)
    parser = background.helper_parser('tests.integration.inference_stub', __doc__, arguments)[0]
    args = parser.parse_args(argv)
    if background.start_or_stop(args, 'inference-stub', 'tests.integration.inference_stub', ['port', 'model']):
        return 0
    stub = InferenceStub(args.port, args.model).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    background.write_ready(Path(args.state), {'url': stub.url, 'model': stub.model})
    try:
        while not background.should_exit(args.watch):
            time.sleep(1)
    finally:
        stub.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
