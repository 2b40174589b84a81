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
    """An AnsibleModule that reports bad input one way: `msg` starting "Invalid input:" and a `problems` list."""

    def fail_on_input(self, problems):
        """Fail, before anything is read or written, when the options have problems (sentences naming the option)."""
        if problems:
            self.fail_json(msg='Invalid input: ' + '; '.join(problems), problems=list(problems))
