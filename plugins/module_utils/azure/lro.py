# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that waits on Azure long-running operations."""

from __future__ import annotations

import time

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError, HttpResponseError, operation_error


def wait_for(poller, timeout, action, deadline=None):
    """Wait until `poller` is done or `timeout` seconds pass; return its result.

    `deadline` (a time.monotonic() value) lets several steps of one module share a single budget.
    """
    remaining = timeout if deadline is None else max(deadline - time.monotonic(), 0)
    try:
        poller.wait(timeout=remaining)
        if not poller.done():
            raise AzureOperationError(
                'Timed out after %ss waiting to %s. The operation goes on in Azure; run the task again to resume, '
                'or raise timeout.' % (int(timeout), action),
                error={'code': 'Timeout', 'message': 'operation still running'})
        return poller.result()
    except HttpResponseError as exc:
        raise operation_error(action, exc)
