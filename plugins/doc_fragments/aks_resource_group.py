# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The resource group of an AKS cluster; the spec is RESOURCE_GROUP_ARG_SPEC in module_utils/aks/common.py.
    DOCUMENTATION = r'''
options:
  resource_group:
    description: Resource group of the cluster.
    type: str
    required: true
'''
