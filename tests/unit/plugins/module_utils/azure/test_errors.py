"""ARM error bodies in both shapes become readable failures."""

import json

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import arm_error, operation_error


class FakeResponse:
    def __init__(self, status, body):
        self.status_code = status
        self.reason = 'Bad'
        self._body = body
        self.request = HttpRequest('PUT', 'https://127.0.0.1/x')
        self.headers = {}
        self.content_type = 'application/json'

    def json(self):
        return self._body

    def text(self, encoding=None):
        return json.dumps(self._body)

    def body(self):
        return self.text().encode()


def test_wrapped_error_body():
    exc = HttpResponseError(response=FakeResponse(400, {'error': {'code': 'InvalidParameter', 'message': 'bad size', 'target': 'properties.vmSize'}}))
    error = arm_error(exc)
    assert (error['code'], error['message'], error['target']) == ('InvalidParameter', 'bad size', 'properties.vmSize')
    assert str(operation_error('create pool p', exc)) == 'Failed to create pool p: InvalidParameter: bad size (target: properties.vmSize)'


def test_unwrapped_error_body():
    exc = HttpResponseError(response=FakeResponse(409, {'code': 'EtagMismatch', 'message': 'etag changed', 'subcode': 'x'}))
    assert arm_error(exc)['code'] == 'EtagMismatch' and arm_error(exc)['message'] == 'etag changed'


def test_no_body_falls_back_to_exception_text():
    error = arm_error(HttpResponseError(message='connection reset'))
    assert error['code'] == 'HttpResponseError' and 'connection reset' in error['message']
