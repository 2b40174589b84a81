# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # The resource group an Azure resource lives in; the spec is RESOURCE_GROUP_ARG_SPEC in module_utils/azure/reconcile.py.
    # The default names an AKS cluster's (the AKS modules); IDENTITY a managed identity's (identity and credential modules);
    # MONITOR a Managed Prometheus resource's (workspace, data collection endpoint and rule, rule group modules).
    DOCUMENTATION = r'''
options:
  resource_group:
    description: Resource group of the cluster.
    type: str
    required: true
'''

    IDENTITY = r'''
options:
  resource_group:
    description: Resource group of the identity.
    type: str
    required: true
'''

    MONITOR = r'''
options:
  resource_group:
    description: Resource group of the resource.
    type: str
    required: true
'''
