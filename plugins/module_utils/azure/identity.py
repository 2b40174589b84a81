# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""User-assigned managed identities and their federated credentials (azure-mgmt-msi), on the shared reconcile rule."""

from __future__ import annotations

import re

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import arm_call, wire
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import ArmResource, TrackedResource
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.sdk import OptionalSdk

MSI_SDK = OptionalSdk('azure-mgmt-msi', 'azure.mgmt.msi', 'azure.mgmt.msi.models')
DEFAULT_AUDIENCES = ['api://AzureADTokenExchange']
FEDERATED_CREDENTIAL_NAME = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$')
# Microsoft.ManagedIdentity/userAssignedIdentities: 3 to 128 letters, digits, hyphens and underscores, starting with a
# letter or digit.
IDENTITY_NAME = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$')


def identity_name_problems(name, field):
    if IDENTITY_NAME.match(name or ''):
        return []
    return ['%s %r is not a valid managed identity name: 3 to 128 letters, digits, - or _, starting with a letter or digit'
            % (field, name)]


class ManagedIdentity(TrackedResource):
    kind = 'managed identity'
    result_key = 'identity'
    sdk_client = MSI_SDK.ManagedServiceIdentityClient
    module_params = ('resource_group', 'name')

    def __init__(self, client, resource_group, name, check_mode=False, purge_tags=False):
        super(ManagedIdentity, self).__init__(client, name, check_mode, purge_tags)
        self.resource_group = resource_group

    @staticmethod
    def check_input(params):
        return identity_name_problems(params['name'], 'name')

    def outputs(self, resource):
        return dict((key, (resource or {}).get(key)) for key in ('id', 'principal_id', 'client_id'))

    def read(self):
        return wire(arm_call('read ' + self.label, self.client.user_assigned_identities.get, self.resource_group, self.name,
                             not_found=None))

    def write(self, body, current):
        model = MSI_SDK.Identity(location=body['location'], tags=body.get('tags'))
        return wire(arm_call('write ' + self.label, self.client.user_assigned_identities.create_or_update,
                             self.resource_group, self.name, model))

    def write_tags(self, tags, current):
        return wire(arm_call('update the tags of ' + self.label, self.client.user_assigned_identities.update,
                             self.resource_group, self.name, MSI_SDK.IdentityUpdate(tags=tags)))

    def remove(self):
        arm_call('delete ' + self.label, self.client.user_assigned_identities.delete, self.resource_group, self.name, not_found=None)


class FederatedCredential(ArmResource):
    kind = 'federated credential'
    result_key = 'federated_credential'
    create_requires = ('issuer', 'subject', 'audiences')
    writable_keys = ('issuer', 'subject', 'audiences')
    sdk_client = MSI_SDK.ManagedServiceIdentityClient
    module_params = ('resource_group', 'identity', 'name')

    def __init__(self, client, resource_group, identity, name, check_mode=False):
        super(FederatedCredential, self).__init__(client, name, check_mode)
        self.resource_group = resource_group
        self.identity = identity

    @staticmethod
    def check_input(params):
        problems = identity_name_problems(params['identity'], 'identity')
        if not FEDERATED_CREDENTIAL_NAME.match(params['name']):
            problems.append('name %r is not a valid federated credential name: 3 to 120 letters, digits, - or _, '
                            'starting with a letter or digit' % params['name'])
        if params['state'] == 'present' and not params['audiences']:
            problems.append('audiences must not be empty')
        return problems

    @property
    def label(self):
        return 'federated credential %s of identity %s' % (self.name, self.identity)

    def desired(self, params):
        return {'issuer': params['issuer'], 'subject': params['subject'], 'audiences': params['audiences']}

    def read(self):
        return wire(arm_call('read ' + self.label, self.client.federated_identity_credentials.get,
                             self.resource_group, self.identity, self.name, not_found=None))

    def write(self, body, current):
        model = MSI_SDK.FederatedIdentityCredential(issuer=body['issuer'], subject=body['subject'], audiences=body['audiences'])
        return wire(arm_call('write ' + self.label, self.client.federated_identity_credentials.create_or_update,
                             self.resource_group, self.identity, self.name, model))

    def remove(self):
        arm_call('delete ' + self.label, self.client.federated_identity_credentials.delete,
                 self.resource_group, self.identity, self.name, not_found=None)
