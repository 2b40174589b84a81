# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource groups through azure-mgmt-resource, on the shared reconcile rule."""

from __future__ import annotations

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.checks import check_resource_group_name
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import arm_call, wire
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.lro import wait_for
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import TrackedResource
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.sdk import OptionalSdk

RESOURCE_SDK = OptionalSdk('azure-mgmt-resource', 'azure.mgmt.resource.resources', 'azure.mgmt.resource.resources.models')


class ResourceGroup(TrackedResource):
    kind = 'resource group'
    result_key = 'resource_group'
    writable_keys = ('location', 'tags', 'managedBy')
    sdk_client = RESOURCE_SDK.ResourceManagementClient
    module_params = ('name', 'timeout')

    def __init__(self, client, name, timeout, check_mode=False, purge_tags=False):
        super(ResourceGroup, self).__init__(client, name, check_mode, purge_tags)
        self.timeout = timeout

    @staticmethod
    def check_input(params):
        return check_resource_group_name(params['name'], 'name')

    def read(self):
        return wire(arm_call('read ' + self.label, self.client.resource_groups.get, self.name, not_found=None))

    def write(self, body, current):
        return wire(arm_call('write ' + self.label, self.client.resource_groups.create_or_update, self.name, RESOURCE_SDK.ResourceGroup(body)))

    def write_tags(self, tags, current):
        return wire(arm_call('update the tags of ' + self.label, self.client.resource_groups.update, self.name,
                             RESOURCE_SDK.ResourceGroupPatchable(tags=tags)))

    def remove(self):
        action = 'delete ' + self.label
        poller = arm_call(action, self.client.resource_groups.begin_delete, self.name, not_found=None)
        if poller is not None:
            wait_for(poller, self.timeout, action)
