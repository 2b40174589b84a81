# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn Azure SDK exceptions into module failures that show ARM's own error."""

from __future__ import annotations

try:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
except ImportError:  # modules report the missing library before any call
    class HttpResponseError(Exception):
        pass

    class ResourceNotFoundError(HttpResponseError):
        pass

# arm_call's default: "not found" is an error like any other
_RAISE = object()


class AzureOperationError(Exception):
    """A failed ARM call or operation, with ARM's error fields."""

    def __init__(self, message, error=None, status=None):
        super(AzureOperationError, self).__init__(message)
        self.error = error or {}
        self.status = status


def _detail(detail):
    return {
        'code': getattr(detail, 'code', None),
        'message': getattr(detail, 'message', None),
        'target': getattr(detail, 'target', None),
        'details': [_detail(d) for d in (getattr(detail, 'details', None) or [])],
    }


def arm_error(exc):
    """ARM error fields of an azure-core HttpResponseError (either error body shape)."""
    error = getattr(exc, 'error', None)
    if error is not None and getattr(error, 'code', None):
        return _detail(error)
    response = getattr(exc, 'response', None)
    body = {}
    if response is not None:
        try:
            body = response.json() or {}
        except Exception:  # pylint: disable=broad-except
            body = {}
    # AKS sometimes answers without the {"error": ...} wrapper (for example EtagMismatch)
    body = body.get('error', body) if isinstance(body, dict) else {}
    return {
        'code': body.get('code') or type(exc).__name__,
        'message': body.get('message') or getattr(exc, 'message', None) or str(exc),
        'target': body.get('target'),
        'details': body.get('details') or [],
    }


def operation_error(action, exc):
    """An AzureOperationError for `action` ("create resource group x") failing with `exc`."""
    error = arm_error(exc)
    text = 'Failed to %s: %s: %s' % (action, error['code'], error['message'])
    if error.get('target'):
        text += ' (target: %s)' % error['target']
    return AzureOperationError(text, error=error, status=getattr(exc, 'status_code', None))


def is_not_found(exc):
    return isinstance(exc, ResourceNotFoundError) or getattr(exc, 'status_code', None) == 404


def arm_call(action, call, *args, **kwargs):
    """`call(*args, **kwargs)`, with every ARM error turned into one AzureOperationError naming `action`.

    With the keyword `not_found`, a 404 returns that value instead (a read of something missing, the delete
    of something already gone).
    """
    not_found = kwargs.pop('not_found', _RAISE)
    try:
        return call(*args, **kwargs)
    except HttpResponseError as exc:
        if not_found is not _RAISE and is_not_found(exc):
            return not_found
        raise operation_error(action, exc)


def wire(model):
    """An SDK model in ARM's wire form (dict), or None for None."""
    return None if model is None else model.as_dict()
