"""Run real ansible-playbook processes from tests and read their per-task results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / 'playbooks'
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name('ansible-playbook')


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    tasks: dict  # task name -> localhost result (last one wins)
    stats: dict

    def result(self, task):
        """The result of the task named `task` (tasks of roles match without their 'role : ' prefix)."""
        if task not in self.tasks:
            task = next((name for name in self.tasks if name.endswith(' : ' + task)), task)
        assert task in self.tasks, 'task %r did not run; ran: %s\n%s' % (task, list(self.tasks), self.stderr[-3000:])
        return self.tasks[task]

    @property
    def changed(self):
        return self.stats.get('changed', 0)

    @property
    def failures(self):
        """Task name -> message of each failed task; a failed loop gives its failed items' messages, each after its
        item's label as Ansible prints it (`failed: [localhost] (item=<label>) => ...`)."""
        def messages(result):
            items = ['(item=%s) %s' % (item.get('_ansible_item_label', item.get('item')), item.get('msg') or '')
                     for item in result.get('results') or [] if item.get('failed')]
            return items or result.get('msg') or ''
        return dict((name, messages(r)) for name, r in self.tasks.items() if r.get('failed'))


def run_playbook(name, extra_vars=None, check=False, diff=False, env=None, verbosity=0, json_output=True, timeout=600, inventory=None):
    """ansible-playbook from the repo root (so ansible.cfg applies), with JSON results.

    `name` is a test playbook in tests/integration/playbooks, or a path from the repo root such as playbooks/site.yml.
    """
    cmd = [str(ANSIBLE_PLAYBOOK), str(REPO_ROOT / name if '/' in name else PLAYBOOKS / name)]
    if inventory:
        cmd += ['-i', str(REPO_ROOT / inventory)]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    if verbosity:
        cmd.append('-' + 'v' * verbosity)
    run_env = dict(os.environ)
    run_env.update({'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_FORCE_COLOR': '0', 'ANSIBLE_DEPRECATION_WARNINGS': '0'})
    if json_output:
        run_env['ANSIBLE_STDOUT_CALLBACK'] = 'ansible.posix.json'
    run_env.update(env or {})
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
    tasks, stats = {}, {}
    if json_output:
        try:
            data = json.loads(proc.stdout[proc.stdout.index('{'):])
        except ValueError as exc:
            raise AssertionError('ansible-playbook printed no JSON (rc=%s): %s\n%s' % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])) from exc
        for play in data.get('plays', []):
            for task in play.get('tasks', []):
                host = task['hosts'].get('localhost') or next(iter(task['hosts'].values()), None)
                if host is not None:
                    tasks[task['task']['name']] = host
        stats = data.get('stats', {}).get('localhost') or next(iter(data.get('stats', {}).values()), {})
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, tasks, stats)
