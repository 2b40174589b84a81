# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Every module extends one of these, so they also name the collection's maintainers once for all modules.

    # Modules that read the resource, compare what was asked for, and write once.
    DOCUMENTATION = r'''
author:
  - aiplatform.aks maintainers (@aiplatform-aks)
attributes:
  check_mode:
    description: Reads and compares, writes nothing, and returns what would change.
    support: full
  diff_mode:
    description: Returns the before and after state.
    support: full
'''

    # Modules that only read.
    INFO_MODULE = r'''
author:
  - aiplatform.aks maintainers (@aiplatform-aks)
attributes:
  check_mode:
    description: Reads only.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
'''
