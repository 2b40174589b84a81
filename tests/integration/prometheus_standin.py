"""A stand-in for Prometheus's HTTP query API, for tests: it serves the series a test loads, nothing is scraped.

``GET`` or ``POST`` (form-encoded) ``/api/v1/query`` on 127.0.0.1, as Prometheus takes it: ``query`` is required
(an empty or missing one is Prometheus's "no expression found in input"), ``time`` and ``timeout`` are optional
numbers. A query that does not parse (``promql_parser``) gets Prometheus's own error shape, HTTP 400
``{"status": "error", "errorType": "bad_data", "error": "invalid parameter \\"query\\": ..."}``. The stand-in
evaluates vector selectors (metric name and label matchers ``=``, ``!=``, ``=~``, ``!~``, regular expressions
anchored as Prometheus anchors them) and ``vector(<number literal>)`` (one sample with no labels, its value written
as Prometheus writes floats: ``2``, ``-1.5``, ``NaN``, ``+Inf``); any other expression parses but is answered with
HTTP 422 ``execution`` naming the stand-in, so a test never mistakes an unevaluated query for an empty result.
``time`` is a Unix timestamp or RFC 3339, as Prometheus takes it (KEDA sends RFC 3339). Results are instant vectors
(``resultType: vector``, ``value: [time, "<number>"]``). Other paths: 404; other methods: 405. With ``bearer_token``
every request must carry ``Authorization: Bearer <token>``, else HTTP 401 ``Unauthorized`` (as an authenticating
proxy or the Azure Monitor workspace answers); ``authorizations`` records the header of each query.

    with PrometheusStandIn() as prometheus:
        prometheus.load({'__name__': 'DCGM_FI_DEV_GPU_UTIL', 'Hostname': 'gpu-0', 'gpu': '0'}, 42)
        prometheus.url  # http://127.0.0.1:<port>
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import promql_parser

QUERY_PATH = '/api/v1/query'


class QueryFailure(Exception):
    def __init__(self, status, error_type, message):
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def _matches(matcher, labels):
    value = labels.get(matcher.name, '')
    op = str(matcher.op).rsplit('.', 1)[-1]
    if op == 'Equal':
        return value == matcher.value
    if op == 'NotEqual':
        return value != matcher.value
    hit = re.fullmatch(matcher.value, value) is not None
    return hit if op == 'Re' else not hit


def _float_text(value):
    """A sample value as Prometheus writes it (Go's FormatFloat(v, 'f', -1, 64), with NaN and +Inf/-Inf)."""
    if math.isnan(value):
        return 'NaN'
    if math.isinf(value):
        return '+Inf' if value > 0 else '-Inf'
    text = repr(float(value))
    if 'e' in text or 'E' in text:
        text = '{:f}'.format(decimal.Decimal(text))
    return text[:-2] if text.endswith('.0') else text


def _timestamp(text):
    """A Unix timestamp or an RFC 3339 time, as Prometheus parses the `time` parameter."""
    try:
        return float(text)
    except ValueError:
        pass
    if re.fullmatch(r'\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})', text):
        return datetime.datetime.fromisoformat(text.replace('Z', '+00:00')).timestamp()
    raise ValueError(text)


class PrometheusStandIn:
    """The stand-in server; `series` are (labels, value) pairs, `queries` the query texts received."""

    def __init__(self, bearer_token=None):
        self.series = []
        self.queries = []
        self.bearer_token = bearer_token
        self.authorizations = []
        self.server = None
        self.thread = None

    def load(self, labels, value):
        if '__name__' not in labels:
            raise ValueError('a series needs a __name__')
        self.series.append((dict(labels), float(value)))

    def clear(self):
        self.series.clear()
        self.queries.clear()
        self.authorizations.clear()

    def evaluate(self, query, at):
        try:
            expr = promql_parser.parse(query)
        except ValueError as exc:
            raise QueryFailure(400, 'bad_data', 'invalid parameter "query": %s' % exc)
        if isinstance(expr, promql_parser.Call) and expr.func.name == 'vector' and len(expr.args) == 1 \
                and isinstance(expr.args[0], promql_parser.NumberLiteral):
            return [{'metric': {}, 'value': [at, _float_text(expr.args[0].val)]}]
        if not isinstance(expr, promql_parser.VectorSelector) or expr.offset is not None or expr.at is not None \
                or expr.matchers.or_matchers:
            raise QueryFailure(422, 'execution', 'the Prometheus stand-in evaluates only plain vector selectors (and vector(<number>)), not %r' % query)
        matchers = list(expr.matchers.matchers)
        result = []
        for labels, value in self.series:
            if expr.name is not None and labels['__name__'] != expr.name:
                continue
            if all(_matches(m, labels) for m in matchers):
                result.append({'metric': labels, 'value': [at, ('%f' % value).rstrip('0').rstrip('.')]})
        return result

    def answer(self, method, path, query_string, body, authorization=None):
        if urlsplit(path).path != QUERY_PATH:
            return 404, {'text': '404 page not found'}
        if method not in ('GET', 'POST'):
            return 405, {'text': 'method not allowed'}
        params = parse_qs(query_string, keep_blank_values=True)
        if method == 'POST':
            for key, values in parse_qs(body, keep_blank_values=True).items():
                params.setdefault(key, []).extend(values)
        query = (params.get('query') or [''])[0]
        if self.bearer_token is not None and authorization != 'Bearer ' + self.bearer_token:
            return 401, {'text': 'Unauthorized'}
        self.queries.append(query)
        self.authorizations.append(authorization)
        try:
            at = time.time()
            for name in ('time', 'timeout'):
                if params.get(name):
                    try:
                        value = _timestamp(params[name][0]) if name == 'time' else float(params[name][0])
                    except ValueError:
                        raise QueryFailure(400, 'bad_data', 'invalid parameter "%s": cannot parse %r to a valid %s' % (
                            name, params[name][0], 'timestamp' if name == 'time' else 'duration'))
                    at = value if name == 'time' else at
            return 200, {'status': 'success', 'data': {'resultType': 'vector', 'result': self.evaluate(query, at)}}
        except QueryFailure as exc:
            return exc.status, {'status': 'error', 'errorType': exc.error_type, 'error': exc.message}

    def start(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length).decode() if length else ''
                status, payload = standin.answer(self.command, parts.path, parts.query, body, self.headers.get('Authorization'))
                text = payload['text'] if 'text' in payload else json.dumps(payload)
                data = text.encode()
                self.send_response(status)
                self.send_header('Content-Type', 'text/plain' if 'text' in payload else 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 (http.server's names)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server.server_address[1]

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
