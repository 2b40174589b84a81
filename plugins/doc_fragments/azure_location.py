# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # The region of an ARM tracked resource; the spec is LOCATION_ARG_SPEC in module_utils/azure/reconcile.py.
    DOCUMENTATION = r'''
options:
  location:
    description:
      - Azure region, for example C(westeurope). Required to create the resource; it cannot change afterwards.
      - C(West Europe) and C(westeurope) are treated as the same region.
    type: str
'''
