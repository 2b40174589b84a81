"""Microsoft.Resources/resourceGroups, as ARM serves it.

* PUT is synchronous: 201 on create, 200 on update; a different location answers 409 InvalidResourceGroupLocation.
* DELETE is long-running: 202 + ``Location`` (``/subscriptions/{sub}/operationresults/{id}``) + ``Retry-After``;
  the group shows provisioningState ``Deleting`` meanwhile, then it and everything under its id disappear.
  Deleting a missing group is 404 ResourceGroupNotFound; deleting a group already being deleted answers 202 again.
* PATCH replaces ``tags`` (and ``managedBy``) when given.
* A name ending with a period is 400 InvalidResourceGroup; unknown locations and tags ARM refuses: see ``rules.py``.
"""

from __future__ import annotations

from .resource_types import ArmError, PutContext, ResourceType
from .rules import check_resource_group_name

__all__ = ["RESOURCE_GROUPS", "RESOURCE_GROUP_API_VERSIONS", "RESOURCE_GROUP_DEFAULT_API_VERSION"]

RESOURCE_GROUP_DEFAULT_API_VERSION = "2025-04-01"  # what azure-mgmt-resource 26 sends
RESOURCE_GROUP_API_VERSIONS = (
    "2019-05-10", "2019-07-01", "2019-08-01", "2019-10-01", "2020-06-01", "2020-08-01", "2020-10-01",
    "2021-01-01", "2021-04-01", "2022-09-01", "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01",
    "2025-01-01", "2025-03-01", RESOURCE_GROUP_DEFAULT_API_VERSION,
)


def _compute(ctx: PutContext) -> None:
    doc = ctx.doc
    if ctx.previous is None:
        check_resource_group_name(ctx.names["resourceGroupName"])
    if ctx.previous is not None:
        old, new = ctx.previous.get("location"), doc.get("location")
        if old and new and old != new:
            raise ArmError(409, "InvalidResourceGroupLocation",
                           f"Invalid resource group location '{new}'. The Resource group already exists in location "
                           f"'{old}'.")
    doc["properties"] = {"provisioningState": "Succeeded"}
    doc.setdefault("tags", {})
    # ARM answers the keys in this order
    ordered = {k: doc[k] for k in ("id", "name", "type", "location", "managedBy", "tags", "properties") if k in doc}
    doc.clear()
    doc.update(ordered)


def _patch(ctx: PutContext) -> None:
    body = ctx.request_body
    if "tags" in body:
        ctx.doc["tags"] = body["tags"] or {}
    if body.get("managedBy") is not None:
        ctx.doc["managedBy"] = body["managedBy"]


RESOURCE_GROUPS = ResourceType(
    path="/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}",
    type_name="Microsoft.Resources/resourceGroups",
    api_versions=RESOURCE_GROUP_API_VERSIONS,
    spec="resourcegroups.json",
    definition="ResourceGroup",
    patch_definition="ResourceGroupPatchable",
    async_put=False,
    async_delete=True,
    delete_polling=("location",),
    compute=_compute,
    patch=_patch,
    system_data=False,
    not_found_code="ResourceGroupNotFound",
    delete_missing_status=404,
)
