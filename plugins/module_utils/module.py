# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every aiplatform.aks module shares, whatever it talks to: option groups and one way to refuse bad input."""

from __future__ import annotations

import copy

from ansible.module_utils.basic import AnsibleModule

# present/absent, the same in every module that manages something
STATE_ARG_SPEC = dict(
    state=dict(type='str', default='present', choices=['present', 'absent']),
)


def merge_specs(*groups, **options):
    """A module's argument spec: deep copies of shared option groups (such as TAGS_ARG_SPEC), then its own options."""
    spec = {}
    for group in groups:
        spec.update(copy.deepcopy(group))
    spec.update(options)
    return spec


class PlatformModule(AnsibleModule):
    """An AnsibleModule that reports bad input one way: `msg` starting "Invalid input:" and a `problems` list.

    `redact_args`, a function of the module's arguments, returns what the result's `invocation` shows of them (Ansible
    prints it with -v and more): modules whose options can hold secrets inside a larger value (a Secret among manifests,
    an API key among headers) show the value with those secrets masked, and the rest as given, for debugging.
    """

    def __init__(self, *args, **kwargs):
        self._redact_args = kwargs.pop('redact_args', None)
        super(PlatformModule, self).__init__(*args, **kwargs)

    def _with_redacted_invocation(self, kwargs):
        if self._redact_args is not None and 'invocation' not in kwargs:
            kwargs['invocation'] = {'module_args': self._redact_args(copy.deepcopy(self.params))}
        return kwargs

    def exit_json(self, **kwargs):
        super(PlatformModule, self).exit_json(**self._with_redacted_invocation(kwargs))

    def fail_json(self, msg, **kwargs):
        super(PlatformModule, self).fail_json(msg, **self._with_redacted_invocation(kwargs))

    def fail_on_input(self, problems):
        """Fail, before anything is read or written, when the options have problems (sentences naming the option)."""
        if problems:
            self.fail_json(msg='Invalid input: ' + '; '.join(problems), problems=list(problems))
