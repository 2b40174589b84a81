"""Managed identities, federated identity credentials and role assignments, as ARM serves them.

* ``Microsoft.ManagedIdentity/userAssignedIdentities``: synchronous PUT (201 create, 200 update); the server sets
  ``properties.tenantId``, ``principalId`` and ``clientId`` once (they never change on update); the location cannot
  change.
* ``.../userAssignedIdentities/{name}/federatedIdentityCredentials/{fic}``: synchronous; ``issuer``, ``subject`` and
  ``audiences`` are required and updatable; at most 20 credentials per identity (400 like ARM); an issuer+subject pair
  may be used by only one credential of an identity.
* ``Microsoft.Authorization/roleAssignments``: registered at the scopes the collection uses (subscription, resource
  group, managed cluster, user-assigned identity, Azure Monitor workspace). The name must be a GUID; the role definition must be a known
  built-in role; the same principal+role at the same scope under another name answers 409 ``RoleAssignmentExists``;
  changing principal or role of an existing assignment answers 400 ``RoleAssignmentUpdateNotPermitted``. Listing
  honours ``$filter`` = ``atScope()``, ``principalId eq '...'``, ``assignedTo('...')`` (joined with ``and``): without
  ``atScope()`` a list at scope S holds assignments at, above and below S; with it, at or above S.

    register_identity(emu)     # done by register_aks too
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import TYPE_CHECKING, Any, Optional

from .resource_types import ArmError, ListContext, PutContext, ResourceType

if TYPE_CHECKING:  # pragma: no cover
    from .engine import ArmEngine
    from .server import ArmEmulator

__all__ = [
    "BUILTIN_ROLES",
    "FEDERATED_CREDENTIALS",
    "MAX_FEDERATED_CREDENTIALS",
    "MSI_API_VERSION",
    "ROLE_ASSIGNMENT_API_VERSION",
    "ROLE_ASSIGNMENT_SCOPES",
    "USER_ASSIGNED_IDENTITIES",
    "register_identity",
]

MSI_API_VERSION = "2024-11-30"  # azure-mgmt-msi 7.1.0
MSI_API_VERSIONS = ("2018-11-30", "2023-01-31", MSI_API_VERSION)
ROLE_ASSIGNMENT_API_VERSION = "2022-04-01"  # azure-mgmt-authorization 4.0.0
MAX_FEDERATED_CREDENTIALS = 20
ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"

BUILTIN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b": "Azure Kubernetes Service RBAC Cluster Admin",
    "4abbcc35-e782-43d8-92c5-2d3f1bd2253f": "Azure Kubernetes Service Cluster User Role",
    "f1a07417-d97a-45cb-824c-7a7467783830": "Managed Identity Operator",
    "b0d8363b-8ddd-447d-831f-62ca05bff136": "Monitoring Data Reader",
}

_RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
_IDENTITY = _RG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}"
_RA = "/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}"
ROLE_ASSIGNMENT_SCOPES = (
    "/subscriptions/{subscriptionId}",
    _RG,
    _RG + "/providers/Microsoft.ContainerService/managedClusters/{resourceName}",
    _IDENTITY,
    _RG + "/providers/Microsoft.Monitor/accounts/{resourceName}",
)
_ROLE_DEFINITION = re.compile(
    r"^(?:/subscriptions/(?P<sub>[^/]+))?/providers/Microsoft\.Authorization/roleDefinitions/(?P<guid>[^/]+)$",
    re.IGNORECASE)


def _identity_compute(ctx: PutContext) -> None:
    props = ctx.doc.setdefault("properties", {})
    old = (ctx.previous or {}).get("properties") or {}
    props["tenantId"] = ctx.engine.tenant_id
    props["principalId"] = old.get("principalId") or str(uuid.uuid4())
    props["clientId"] = old.get("clientId") or str(uuid.uuid4())
    props.pop("provisioningState", None)
    ctx.doc.setdefault("tags", {})


def _credential_compute(ctx: PutContext) -> None:
    props = ctx.doc["properties"]
    props.pop("provisioningState", None)
    identity_id = ctx.resource_id.rsplit("/federatedIdentityCredentials/", 1)[0].lower() + "/"
    siblings = [r for k, r in ctx.engine.store.items()
                if r.rtype is ctx.rtype and k.startswith(identity_id) and k != ctx.resource_id.lower()]
    if ctx.is_create and len(siblings) >= MAX_FEDERATED_CREDENTIALS:
        raise ArmError(400, "BadRequest",
                       f"Too many Federated Identity Credentials are written to Managed Identity "
                       f"'{ctx.names['resourceName']}'. The maximum is {MAX_FEDERATED_CREDENTIALS}.")
    for rec in siblings:
        other = rec.doc.get("properties") or {}
        if other.get("issuer") == props.get("issuer") and other.get("subject") == props.get("subject"):
            raise ArmError(409, "Conflict",
                           f"FederatedIdentityCredential with issuer '{props.get('issuer')}' and subject "
                           f"'{props.get('subject')}' already exists as '{rec.doc.get('name')}' on Managed "
                           f"Identity '{ctx.names['resourceName']}'.")
    if not props.get("issuer", "").startswith("https://"):
        raise ArmError(400, "BadRequest", f"Issuer '{props.get('issuer')}' must be an https URL.",
                       target="properties.issuer")


_RA_SUFFIX = re.compile(r"/providers/Microsoft\.Authorization/roleAssignments(?:/[^/]*)?$", re.IGNORECASE)


def _scope_of(path: str) -> str:
    """The scope of a role assignment id or of a role-assignment collection URL."""
    return _RA_SUFFIX.sub("", path) or "/"


def _role_assignments(engine: "ArmEngine") -> list[dict[str, Any]]:
    return [r.doc for _k, r in sorted(engine.store.items()) if r.rtype.type_name == ROLE_ASSIGNMENT_TYPE]


def _role_assignment_compute(ctx: PutContext) -> None:
    engine = ctx.engine
    name = ctx.name
    try:
        uuid.UUID(name)
    except ValueError:
        raise ArmError(400, "InvalidRoleAssignmentId",
                       f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.") from None
    props = ctx.doc["properties"]
    props.pop("provisioningState", None)
    role = _ROLE_DEFINITION.match(props.get("roleDefinitionId") or "")
    if role is None or role.group("guid").lower() not in BUILTIN_ROLES or \
            (role.group("sub") and role.group("sub").lower() != engine.subscription_id.lower()):
        raise ArmError(400, "RoleDefinitionDoesNotExist",
                       f"The specified role definition with ID '{props.get('roleDefinitionId')}' does not exist.")
    try:
        uuid.UUID(props["principalId"])
    except ValueError:
        raise ArmError(400, "InvalidPrincipalId",
                       "A valid principal ID must be provided for role assignment.") from None
    scope = _scope_of(ctx.resource_id)
    if ctx.previous is not None:
        old = ctx.previous["properties"]
        if old["principalId"].lower() != props["principalId"].lower() or \
                old["roleDefinitionId"].lower() != props["roleDefinitionId"].lower():
            raise ArmError(400, "RoleAssignmentUpdateNotPermitted",
                           "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
    for other in _role_assignments(engine):
        if other["id"].lower() == ctx.resource_id.lower():
            continue
        op = other["properties"]
        if _scope_of(other["id"]).lower() == scope.lower() and \
                op["principalId"].lower() == props["principalId"].lower() and \
                op["roleDefinitionId"].rsplit("/", 1)[-1].lower() == role.group("guid").lower():
            raise ArmError(409, "RoleAssignmentExists",
                           f"The role assignment already exists. The ID of the existing role assignment is "
                           f"{other['name']}.")
    now = ctx.doc.get("systemData", {}).get("lastModifiedAt")
    props["scope"] = scope
    props.setdefault("principalType", "User")
    props.setdefault("condition", None)
    props.setdefault("conditionVersion", None)
    prev = (ctx.previous or {}).get("properties") or {}
    props["createdOn"] = prev.get("createdOn") or now
    props["updatedOn"] = now
    props["createdBy"] = prev.get("createdBy") or engine.client_id
    props["updatedBy"] = engine.client_id
    props["delegatedManagedIdentityResourceId"] = props.get("delegatedManagedIdentityResourceId")
    props["description"] = props.get("description")
    ctx.doc.pop("systemData", None)


_FILTER_TERM = re.compile(r"^\s*(?:(atscope)\(\)|principalid\s+eq\s+'([^']*)'|assignedto\('([^']*)'\))\s*$",
                          re.IGNORECASE)


def parse_filter(text: Optional[str]) -> tuple[bool, Optional[str]]:
    """``(at_scope, principal_id)`` of a role-assignment ``$filter``; 400 InvalidFilterParameter otherwise."""
    at_scope, principal = False, None
    if not text:
        return at_scope, principal
    for term in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        m = _FILTER_TERM.match(term)
        if m is None:
            raise ArmError(400, "InvalidFilterParameter", f"The filter '{text}' is not supported.")
        if m.group(1):
            at_scope = True
        else:
            principal = (m.group(2) or m.group(3)).lower()
    return at_scope, principal


def _within(inner: str, outer: str) -> bool:
    inner, outer = inner.lower().rstrip("/"), outer.lower().rstrip("/")
    return inner == outer or inner.startswith(outer + "/")


def _list_role_assignments(ctx: ListContext) -> list[dict[str, Any]]:
    flt = next((v for k, v in ctx.query.items() if k.lower() == "$filter"), None)
    at_scope, principal = parse_filter(flt)
    scope = _scope_of(ctx.scope)
    out = []
    for doc in _role_assignments(ctx.engine):
        mine = _scope_of(doc["id"])
        if not (_within(scope, mine) or (not at_scope and _within(mine, scope))):
            continue
        if principal is not None and doc["properties"]["principalId"].lower() != principal:
            continue
        out.append(doc)
    return copy.deepcopy(out)


USER_ASSIGNED_IDENTITIES = ResourceType(
    path=_IDENTITY,
    api_versions=MSI_API_VERSIONS,
    spec="managedidentity.json",
    definition="Identity",
    compute=_identity_compute,
)

FEDERATED_CREDENTIALS = ResourceType(
    path=_IDENTITY + "/federatedIdentityCredentials/{federatedIdentityCredentialResourceName}",
    api_versions=MSI_API_VERSIONS,
    spec="managedidentity.json",
    definition="FederatedIdentityCredential",
    compute=_credential_compute,
)


def role_assignment_type(scope_template: str) -> ResourceType:
    """The role-assignment type at one scope template (e.g. ``/subscriptions/{subscriptionId}``)."""
    return ResourceType(
        path=scope_template + _RA,
        type_name=ROLE_ASSIGNMENT_TYPE,
        api_versions=(ROLE_ASSIGNMENT_API_VERSION,),
        spec="authorization.json",
        definition="RoleAssignmentCreateParameters",
        compute=_role_assignment_compute,
        lister=_list_role_assignments,
        system_data=True,
        not_found_code="RoleAssignmentNotFound",
    )


def register_identity(emulator: "ArmEmulator | ArmEngine") -> None:
    """Register identities, federated credentials and role assignments (idempotent)."""
    engine: "ArmEngine" = getattr(emulator, "engine", emulator)
    with engine.lock:
        if any(t.type_name == ROLE_ASSIGNMENT_TYPE for t in engine.types):
            return
        engine.register(USER_ASSIGNED_IDENTITIES)
        engine.register(FEDERATED_CREDENTIALS)
        for scope in ROLE_ASSIGNMENT_SCOPES:
            engine.register(role_assignment_type(scope))
