"""Run one of the collection's modules inside the test process, against the same test bed.

For behaviour that lives in a module's own code (input checks, reconcile, retries, waits), a module call
proves as much as an `ansible-playbook` run at a fraction of its cost: the module is fed its arguments the
way Ansible feeds them (`patch_module_args`, with `_ansible_check_mode` and `_ansible_diff`), and its
`exit_json`/`fail_json` output is read from stdout as Ansible reads it. What only a real run proves (roles,
the `k8s_apply` action plugin, `module_defaults` groups, the files Ansible writes, output at -vvv) stays with `run_playbook`.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
from unittest import mock

from ansible.module_utils import _internal
from ansible.module_utils.testing import patch_module_args

from tests.integration.playbook import PlaybookRun

MODULES = 'ansible_collections.aiplatform.aks.plugins.modules.'


def call_module(name, args, env=None, check=False, diff=False):
    """The result of module `name` (for example 'aks_nodepool') run with `args`; `failed` is true when it failed.

    `env` is the environment the module sees (credentials and endpoints), as `run_playbook` passes it.
    """
    module = importlib.import_module(MODULES + name)
    params = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    output = io.StringIO()
    # a module never runs inside the controller: once a test has loaded controller code (a Templar, say), Ansible
    # would send the module's warnings to the controller's display instead of its result
    with mock.patch.dict(os.environ, env or {}), patch_module_args(params), contextlib.redirect_stdout(output), \
            mock.patch.object(_internal, 'is_controller', False):
        try:
            module.main()
        except SystemExit:
            pass
        else:
            raise AssertionError('module %s returned without exit_json or fail_json' % name)
    text = output.getvalue()
    try:
        return json.loads(text[text.index('{'):])
    except ValueError as exc:
        raise AssertionError('module %s printed no JSON result: %r' % (name, text[-2000:])) from exc


def warnings(result):
    """The warning texts of a module result: plain strings, or the structured summaries newer ansible-core returns."""
    return [w if isinstance(w, str) else (w.get('event') or {}).get('msg', '') for w in result.get('warnings') or []]


def run_task(name, task, args, env=None, check=False, diff=False):
    """`call_module` read as a play of one task named `task`, for tests that read results the way `run_playbook`
    gives them; rc is what ansible-playbook returns when that task fails (2)."""
    result = call_module(name, args, env=env, check=check, diff=diff)
    return PlaybookRun(rc=2 if result.get('failed') else 0, stdout='', stderr='', tasks={task: result},
                       stats={'changed': int(bool(result.get('changed')))})
