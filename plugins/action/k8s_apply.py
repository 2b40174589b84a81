# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of k8s_apply: reads src files, renders templates and finds validate.crds files, then runs the module once."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleFileNotFound
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template

# Manifests shared across the collection's roles (templates/ at the collection root).
SHARED_TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'templates')


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def _find(self, kind, path):
        try:
            return self._find_needle(kind, path)
        except AnsibleFileNotFound as exc:
            shared = os.path.join(SHARED_TEMPLATES, path)
            if kind != 'templates' or os.path.isabs(path) or not os.path.isfile(shared):
                raise AnsibleActionFail('k8s_apply: cannot find %s %s' % ('template' if kind == 'templates' else 'file', path),
                                        orig_exc=exc)
            return shared

    def _read(self, kind, path):
        return self._loader.get_text_file_contents(self._find(kind, path))

    def _render(self, item, task_vars):
        path, extra = (item, {}) if isinstance(item, str) else (item.get('path'), item.get('vars') or {})
        if not path:
            raise AnsibleActionFail('k8s_apply: each template needs a path')
        variables = dict(task_vars)
        variables.update(extra)
        templar = self._templar.copy_with_new_env(available_variables=variables)
        return templar.template(trust_as_template(self._read('templates', path)), escape_backslashes=False)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        documents = _as_list(args.pop('definitions', None))
        documents.extend(self._read('files', path) for path in _as_list(args.pop('src', None)))
        documents.extend(self._render(item, task_vars or {}) for item in _as_list(args.pop('template', None)))
        if documents:
            args['definitions'] = documents
        validate = args.get('validate')
        if isinstance(validate, dict) and validate.get('crds'):
            # found like src, read by the module: the shared validate option also serves modules without an action plugin
            args['validate'] = dict(validate, crds=[self._find('files', path) for path in _as_list(validate['crds'])])
        result.update(self._execute_module(module_args=args, task_vars=task_vars))
        return result
