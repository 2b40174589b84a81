"""What the Azure SDK hands back, faked for unit tests: models with as_dict() and HttpResponseErrors with ARM's body."""

from types import SimpleNamespace

from azure.core.exceptions import HttpResponseError


class Doc(dict):
    def as_dict(self):
        return dict(self)


def http_error(status, code):
    response = SimpleNamespace(status_code=status, reason='x', headers={}, json=lambda: {'error': {'code': code, 'message': code}},
                               text=lambda: '', request=None)
    exc = HttpResponseError(message=code, response=response)
    exc.status_code = status
    return exc
