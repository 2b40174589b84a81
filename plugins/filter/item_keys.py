# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Problems with the items of a role variable that is a list of dicts: keys no option has (with the nearest option, so a
typo such as max_cout is named with max_count) and required keys left out. Documented in item_key_problems.yml."""

from __future__ import annotations

import difflib

from ansible.errors import AnsibleFilterError


def item_key_problems(items, valid, variable, required=()):
    """Sentences naming `variable`, the item (its name, else its index) and each key that is unknown or missing."""
    if not isinstance(valid, (list, tuple)) or not valid:
        raise AnsibleFilterError('item_key_problems: valid must be a non-empty list of keys, got %r' % (valid,))
    if items is None:
        return []
    if not isinstance(items, (list, tuple)):
        return ['%s must be a list of dicts, got %s' % (variable, type(items).__name__)]
    valid = [str(key) for key in valid]
    problems = []
    for index, item in enumerate(items):
        where = '%s[%d]' % (variable, index)
        if not isinstance(item, dict):
            problems.append('%s must be a dict of options, got %s %r' % (where, type(item).__name__, item))
            continue
        if item.get('name') not in (None, ''):
            where += ' (%s)' % item['name']
        for key in item:
            if str(key) in valid:
                continue
            near = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
            problems.append('%s: unknown key %r%s' % (where, key, '; did you mean %r?' % near[0] if near else
                                                      '; valid keys: %s' % ', '.join(sorted(valid))))
        for key in required:
            if item.get(key) in (None, ''):
                problems.append('%s: %s is required' % (where, key))
    return problems


class FilterModule(object):

    def filters(self):
        return {'item_key_problems': item_key_problems}
