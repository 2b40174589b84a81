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


class FakePoller:
    """An LROPoller: its service's first answer is `first_answer` (default `result`); it finishes after `finishes_after`
    seconds of waiting, or fails with `error` when waited on, and then returns `result`. `waited` lists the waits."""

    def __init__(self, result=None, first_answer=None, finishes_after=0, error=None):
        self._result = result
        self.first_answer = result if first_answer is None else first_answer
        self.finishes_after = finishes_after
        self.error = error
        self.waited = []

    def polling_method(self):
        return self

    def resource(self):
        return self.first_answer

    def wait(self, timeout=None):
        self.waited.append(timeout)
        if self.error:
            raise self.error

    def done(self):
        return sum(self.waited) >= self.finishes_after

    def result(self):
        return self._result
