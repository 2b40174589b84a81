# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource groups through azure-mgmt-resource, on the shared reconcile rule."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import describe
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.lro import wait_for
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import ArmResource

try:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.mgmt.resource.resources import ResourceManagementClient
    from azure.mgmt.resource.resources.models import ResourceGroup as ResourceGroupModel
    HAS_RESOURCE_SDK = True
    RESOURCE_SDK_IMPORT_ERROR = None
except ImportError:
    HAS_RESOURCE_SDK = False
    RESOURCE_SDK_IMPORT_ERROR = traceback.format_exc()
    ResourceManagementClient = None


class ResourceGroup(ArmResource):
    kind = 'resource group'
    immutable = ('location',)
    create_requires = ('location',)

    def __init__(self, client, name, timeout, check_mode=False, purge_tags=False):
        super(ResourceGroup, self).__init__(name, check_mode, purge_tags)
        self.client = client
        self.timeout = timeout

    @classmethod
    def from_module(cls, module):
        params = module.params
        return cls(module.client(ResourceManagementClient), params['name'], params['timeout'],
                   check_mode=module.check_mode, purge_tags=params['purge_tags'])

    def writable(self, current):
        return dict((k, current[k]) for k in ('location', 'tags', 'managedBy') if k in current)

    def read(self):
        try:
            return self.client.resource_groups.get(self.name).as_dict()
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            raise describe('read resource group %s' % self.name, exc)

    def write(self, body):
        try:
            return self.client.resource_groups.create_or_update(self.name, ResourceGroupModel(body)).as_dict()
        except HttpResponseError as exc:
            raise describe('write resource group %s' % self.name, exc)

    def remove(self):
        action = 'delete resource group %s' % self.name
        try:
            poller = self.client.resource_groups.begin_delete(self.name)
        except ResourceNotFoundError:
            return
        except HttpResponseError as exc:
            raise describe(action, exc)
        wait_for(poller, self.timeout, action)
