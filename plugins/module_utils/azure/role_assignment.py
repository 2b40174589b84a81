# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure role assignments (azure-mgmt-authorization), on the shared reconcile rule."""

from __future__ import annotations

import re
import uuid

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import (
    AzureOperationError, HttpResponseError, arm_call, arm_error, wire)
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import ArmResource
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.sdk import OptionalSdk

AUTHORIZATION_SDK = OptionalSdk('azure-mgmt-authorization', 'azure.mgmt.authorization', 'azure.mgmt.authorization.models')

# Built-in role names the modules accept besides full role definition ids (ids are the same in every tenant).
BUILTIN_ROLES = {
    'Owner': '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
    'Contributor': 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    'Reader': 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
    'Azure Kubernetes Service RBAC Cluster Admin': 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b',
    'Azure Kubernetes Service Cluster User Role': '4abbcc35-e782-43d8-92c5-2d3f1bd2253f',
    'Managed Identity Operator': 'f1a07417-d97a-45cb-824c-7a7467783830',
    'Monitoring Data Reader': 'b0d8363b-8ddd-447d-831f-62ca05bff136',
}

# uuid5 namespace of role assignment names: scope + role + principal always give the same name
ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID('5d0b0c1e-7a1b-5c51-9a6e-6b1f3c2a9e10')

_GUID = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
_ROLE_ID = re.compile(r'^(/subscriptions/[^/]+)?/providers/Microsoft\.Authorization/roleDefinitions/([^/]+)$', re.IGNORECASE)


def normalize_scope(scope):
    """An ARM scope with one leading slash and no trailing slash."""
    return '/' + scope.strip().strip('/')


def role_guid(role_definition_id):
    """The GUID at the end of a role definition id (lower case)."""
    return role_definition_id.rstrip('/').rsplit('/', 1)[-1].lower()


def resolve_role(role, subscription_id):
    """The role definition id for a built-in role name (any case), a role GUID or a full role definition id."""
    if not role or not role.strip():
        raise AzureOperationError('role must not be empty', error={'code': 'InvalidRole', 'message': 'empty role'})
    role = role.strip()
    by_name = dict((k.lower(), v) for k, v in BUILTIN_ROLES.items())
    guid = by_name.get(role.lower())
    if guid is None and _GUID.match(role):
        guid = role.lower()
    if guid is not None:
        return '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (subscription_id, guid)
    if _ROLE_ID.match(role) and _GUID.match(role_guid(role)):
        return role
    raise AzureOperationError(
        'Unknown role %r: use a role definition id (/subscriptions/<sub>/providers/Microsoft.Authorization/roleDefinitions/<guid>), '
        'a role GUID or one of: %s' % (role, ', '.join(sorted(BUILTIN_ROLES))),
        error={'code': 'InvalidRole', 'message': 'unknown role', 'target': 'role'})


def role_assignment_name(scope, role_definition_id, principal_id):
    """Deterministic assignment name: a retried or interrupted create reuses the same name instead of duplicating."""
    key = '%s|%s|%s' % (normalize_scope(scope).lower(), role_guid(role_definition_id), principal_id.strip().lower())
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))


def matching_assignment(assignments, scope, role_definition_id, principal_id):
    """The assignment (dict with scope, role_definition_id, principal_id) granting the role at exactly `scope`."""
    scope = normalize_scope(scope).lower()
    guid = role_guid(role_definition_id)
    for item in assignments:
        if normalize_scope(item.get('scope') or '').lower() != scope:
            continue
        if role_guid(item.get('role_definition_id') or '') != guid:
            continue
        if (item.get('principal_id') or '').lower() != principal_id.lower():
            continue
        return item
    return None


class RoleAssignment(ArmResource):
    """One (scope, role, principal) grant. Found by listing the principal's assignments at the scope, whatever
    its name; created under a deterministic name so that a retried create never makes a second assignment."""

    kind = 'role assignment'
    result_key = 'role_assignment'
    writable_keys = ('role_definition_id', 'principal_id', 'principal_type')

    def __init__(self, client, scope, role_definition_id, principal_id, principal_type='ServicePrincipal', check_mode=False):
        self.scope = normalize_scope(scope)
        self.role_definition_id = role_definition_id
        self.principal_id = principal_id.strip()
        self.principal_type = principal_type
        super(RoleAssignment, self).__init__(client, role_assignment_name(self.scope, role_definition_id, self.principal_id), check_mode)
        self.current_name = None

    @staticmethod
    def check_input(params):
        problems = []
        if not _GUID.match((params.get('principal_id') or '').strip()):
            problems.append('principal_id %r is not a GUID: give the object (principal) id of the identity, user or group'
                            % params.get('principal_id'))
        scope = (params.get('scope') or '').strip()
        if not scope.startswith('/subscriptions/') and not scope.startswith('/providers/'):
            problems.append('scope %r must be a resource id such as /subscriptions/<id>/resourceGroups/<group>' % scope)
        return problems

    @classmethod
    def from_module(cls, module):
        params = module.params
        role_id = resolve_role(params['role'], module.auth.subscription_id)
        return cls(module.client(AUTHORIZATION_SDK.AuthorizationManagementClient), params['scope'], role_id, params['principal_id'],
                   params['principal_type'], check_mode=module.check_mode)

    @property
    def label(self):
        return 'role assignment %s at %s' % (self.current_name or self.name, self.scope)

    def desired(self, params=None):
        return {'role_definition_id': self.role_definition_id, 'principal_id': self.principal_id}

    def outputs(self, resource):
        return {'role_definition_id': self.role_definition_id,
                'name': (resource or {}).get('name') or self.current_name or self.name}

    def comparable(self, body):
        body = dict(body)
        if body.get('role_definition_id'):
            body['role_definition_id'] = role_guid(body['role_definition_id'])
        if body.get('principal_id'):
            body['principal_id'] = body['principal_id'].lower()
        return body

    def read(self):
        items = arm_call('list role assignments of principal %s at %s' % (self.principal_id, self.scope), lambda: [
            a.as_dict() for a in self.client.role_assignments.list_for_scope(self.scope, filter="principalId eq '%s'" % self.principal_id)])
        found = matching_assignment(items, self.scope, self.role_definition_id, self.principal_id)
        self.current_name = found.get('name') if found else None
        return found

    def prepare_create(self, body):
        body = dict(body)
        body.setdefault('principal_type', self.principal_type)
        return body

    def write(self, body, current):
        params = AUTHORIZATION_SDK.RoleAssignmentCreateParameters(
            role_definition_id=self.role_definition_id, principal_id=self.principal_id,
            principal_type=body.get('principal_type') or self.principal_type)
        return arm_call('create ' + self.label, self._create, params)

    def _create(self, params):
        try:
            return wire(self.client.role_assignments.create(self.scope, self.name, params))
        except HttpResponseError as exc:
            # created meanwhile (another run, or an earlier create whose answer was lost): take that one
            existing = self.read() if arm_error(exc).get('code') == 'RoleAssignmentExists' else None
            if existing is None:
                raise
            return existing

    def remove(self):
        arm_call('delete ' + self.label, self.client.role_assignments.delete, self.scope, self.current_name or self.name, not_found=None)
