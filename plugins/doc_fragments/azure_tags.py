# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Tags of an ARM resource; tags not mentioned are kept unless purge_tags is set.
    DOCUMENTATION = r'''
options:
  tags:
    description: Tags to set on the resource. Tags you do not list are kept unless O(purge_tags=true).
    type: dict
  purge_tags:
    description: Remove tags that are not listed in O(tags).
    type: bool
    default: false
'''
