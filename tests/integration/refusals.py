"""What every bad-input test asserts: the input was refused with a message naming the option, and nothing was
written, neither to ARM (the emulator's request log) nor to Kubernetes (the test apiserver's audit log).

The bad-input suite is the test_bad_input_*.py files; each case is one row of a table (module or role, input,
the names the message must mention) checked with `refused_before_writing`.
"""

from __future__ import annotations

import dataclasses

from tests.integration.module_call import call_module
from tests.integration.playbook import run_playbook

ARM_WRITES = ('PUT', 'PATCH', 'DELETE', 'POST')


@dataclasses.dataclass
class BadInput:
    """One bad input: `args` given to `module` must fail with a message that contains every string of `names`."""
    id: str
    module: str
    args: dict
    names: tuple

    def __post_init__(self):
        self.names = (self.names,) if isinstance(self.names, str) else tuple(self.names)


def arm_writes(emulator):
    """Logged ARM requests that change something (token requests are not writes)."""
    return [(r['method'], r['path']) for r in emulator.requests
            if r['method'] in ARM_WRITES and '/oauth2/' not in r['path'] and not r['path'].startswith('/_emulator')]


class WriteWatch:
    """Everything written to the bed from the moment it is made."""

    def __init__(self, bed):
        self.bed = bed
        bed.emulator.clear_requests()
        self.mark = bed.apiserver.audit_mark()

    def writes(self):
        """ARM writes, and Kubernetes writes by any client but the apiserver itself (its start-up objects and the
        leases and endpoints it keeps up to date are not the module's doing)."""
        kubernetes = [w for w in self.bed.apiserver.writes(self.mark) if w['user'] != 'system:apiserver']
        return {'arm': arm_writes(self.bed.emulator), 'kubernetes': kubernetes}


def assert_refused(result, names, nothing_written):
    """`result` failed, its message names each of `names`, and `nothing_written` (a WriteWatch) saw no write."""
    assert result.get('failed'), 'accepted: %r' % {k: v for k, v in result.items() if k != 'invocation'}
    message = result.get('msg') or ''
    missing = [name for name in names if name not in message]
    assert not missing, 'the message does not name %s: %r' % (missing, message)
    assert 'Traceback' not in message and 'exception' not in result, 'a crash, not a refusal: %r' % message
    written = nothing_written.writes()
    assert written == {'arm': [], 'kubernetes': []}, 'written before the refusal: %r' % written


def refused_before_writing(bed, case, env=None):
    """Call the module of `case` and assert it refused the input by name before writing anything; return the result."""
    watch = WriteWatch(bed)
    result = call_module(case.module, case.args, env=dict(bed.env(), **(env or {})))
    assert_refused(result, case.names, watch)
    return result


def refused_before_reading(bed, case):
    """As refused_before_writing, and the same refusal where no server listens: the input was judged before any read."""
    refused_before_writing(bed, case)
    unreachable = call_module(case.module, dict(case.args, host='https://127.0.0.1:1'), env={})
    assert unreachable['failed'] is True and unreachable['msg'].startswith('Invalid input: ')
    assert all(name in unreachable['msg'] for name in case.names), unreachable['msg']


def failure_messages(run):
    """The messages of a run's failed tasks, loop items included (PlaybookRun.failures, flattened)."""
    messages = []
    for found in run.failures.values():
        messages.extend(found if isinstance(found, list) else [found])
    return messages


def role_refused_before_writing(bed, playbook, variables, names, inventory=None):
    """Run `playbook` with `variables`; assert it failed naming each of `names` and wrote nothing. Returns the run."""
    watch = WriteWatch(bed)
    run = run_playbook(playbook, variables, env=bed.env(), inventory=inventory)
    assert run.rc != 0, 'accepted: %s' % run.stdout[-2000:]
    message = '\n'.join(failure_messages(run))
    assert_refused({'failed': True, 'msg': message}, names if not isinstance(names, str) else (names,), watch)
    return run


def cases(*rows):
    """pytest parameters of BadInput rows, named by their ids."""
    import pytest
    return [pytest.param(row, id=row.id) for row in rows]
