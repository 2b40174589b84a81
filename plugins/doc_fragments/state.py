# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # present/absent; the spec is STATE_ARG_SPEC in module_utils/module.py. A module may document what deleting
    # also does by giving its own description.
    DOCUMENTATION = r'''
options:
  state:
    description: Whether the resource should exist.
    type: str
    choices: [present, absent]
    default: present
'''
