"""Declarative description of an ARM resource type served by the emulator.

Adding a type is one :class:`ResourceType` value passed to ``ArmEmulator(resource_types=[...])`` or
``emu.register(...)``::

    MANAGED_CLUSTERS = ResourceType(
        path="/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
             "/providers/Microsoft.ContainerService/managedClusters/{resourceName}",
        api_versions=("2026-08-01",),
        spec=AKS_SPEC,                      # relative to specs/ (or absolute)
        definition="ManagedCluster",        # body of PUT
        patch_definition="TagsObject",      # body of PATCH (tags update)
        async_put=True, async_delete=True,
        compute=fill_server_fields,         # def fill_server_fields(ctx: PutContext) -> None
    )

Everything else (routes for GET/PUT/PATCH/DELETE/HEAD on the resource, list under the parent, list in the
subscription for types directly under a resource group, operation status endpoints, parent checks, name checks
from the spec's path parameters, body validation, 409 while an operation runs) is derived by the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from .engine import ArmEngine

__all__ = [
    "ArmError",
    "Response",
    "ResourceType",
    "PutContext",
    "OperationContext",
    "ActionContext",
    "ListContext",
    "SPECS_DIR",
    "match_segments",
]

SPECS_DIR = Path(__file__).resolve().parent / "specs"


class ArmError(Exception):
    """Raise from hooks (or anywhere in the engine) to answer an ARM error ``{"error": {...}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            err["target"] = self.target
        if self.details:
            err["details"] = self.details
        return {"error": err}

    def response(self) -> "Response":
        return Response(self.status, self.body(), dict(self.headers))


@dataclass
class Response:
    """What the engine answers. ``body`` None = no body; ``drop`` = close the connection without answering."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


@dataclass
class PutContext:
    """Passed to ``ResourceType.compute`` on every PUT (create or update), before the resource is stored.

    ``doc`` is the document that will be stored and returned: the request body plus ``id``, ``name``, ``type``,
    the normalised ``location``, ``properties.provisioningState`` (Creating/Updating for async types, else
    Succeeded) and ``systemData``. Mutate it in place to add server-set (read-only) fields. Raise
    :class:`ArmError` to reject the request.
    """

    engine: "ArmEngine"
    rtype: "ResourceType"
    resource_id: str
    names: dict[str, str]
    doc: dict[str, Any]
    request_body: dict[str, Any]
    previous: Optional[dict[str, Any]]
    parent: Optional[dict[str, Any]]
    api_version: str

    @property
    def is_create(self) -> bool:
        return self.previous is None

    @property
    def name(self) -> str:
        return self.names[self.rtype.name_param]


@dataclass
class OperationContext:
    """Passed to ``ResourceType.on_done`` when an async operation of the type finishes successfully.

    ``kind`` is "create", "update" or "delete"; for deletes ``doc`` is the last document (already removed).
    """

    engine: "ArmEngine"
    rtype: "ResourceType"
    resource_id: str
    kind: str
    doc: dict[str, Any]


@dataclass
class ActionContext:
    """Passed to an action handler (``POST {resource id}/{action}``); return a :class:`Response` or a JSON body."""

    engine: "ArmEngine"
    rtype: "ResourceType"
    resource_id: str
    doc: dict[str, Any]
    body: Any
    query: dict[str, str]
    api_version: str


@dataclass
class ListContext:
    """Passed to ``ResourceType.lister`` on GET of the type's collection URL.

    ``scope`` is the collection's parent id (the subscription id for subscription-wide lists), ``items`` what the
    engine would answer (every resource of the type under ``scope``), ``query`` the request's query parameters.
    """

    engine: "ArmEngine"
    rtype: "ResourceType"
    scope: str
    query: dict[str, str]
    items: list[dict[str, Any]]


_PLACEHOLDER = re.compile(r"^\{([^{}]+)\}$")


@dataclass
class ResourceType:
    """An ARM resource type. Only ``path`` and ``api_versions`` are required.

    path              URL template of one resource, ARM casing (used for ids), e.g.
                      ``/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/NS/things/{name}``.
                      Child types extend a parent's template (``.../things/{name}/parts/{partName}``).
    api_versions      accepted ``api-version`` values (others: 400 InvalidApiVersionParameter).
    type_name         ARM ``type`` (default derived: ``NS/things`` or ``NS/things/parts``).
    spec, definition  Swagger file (relative to specs/ or absolute) and the definition validating PUT bodies.
    patch_definition  definition validating PATCH bodies (default: a generic ``{"tags": {str: str}}`` check).
    async_put         PUT/PATCH answer Creating/Updating + ``Azure-AsyncOperation`` and finish after the duration.
    async_delete      DELETE answers 202 + polling headers (``delete_polling``) and removes the resource later.
    delete_polling    which polling headers an async DELETE sends: "azure-async-operation" and/or "location".
    operation_seconds duration of this type's async operations (default: the emulator-wide setting).
    compute           hook(PutContext) filling server-set fields / rejecting requests.
    on_done           hook(OperationContext) run when an async operation succeeds.
    patch             hook(PutContext) applying a PATCH body (default: replace ``tags``).
    actions           {"actionName": handler(ActionContext)} for ``POST {id}/actionName``.
    lister            hook(ListContext) -> list of documents answering GET on the collection URL (filters...).
    allow_unknown_properties  don't reject members the Swagger does not know.
    system_data       add ``systemData`` (createdBy/At ...) to documents.
    not_found_code    error code of a 404 on this type (ResourceNotFound; ResourceGroupNotFound for groups).
    delete_missing_status  DELETE of a missing resource: 204 (ARM default) or 404 (resource groups).
    etag_path         where the document keeps its entity tag (``("eTag",)``); set, PUT, PATCH and DELETE honour
                      ``If-Match`` / ``If-None-Match`` (412 PreconditionFailed) and a PATCH issues a new tag.
    """

    path: str
    api_versions: Sequence[str]
    type_name: Optional[str] = None
    spec: Optional[str | Path] = None
    definition: Optional[str] = None
    patch_definition: Optional[str] = None
    async_put: bool = False
    async_delete: bool = False
    delete_polling: Sequence[str] = ("azure-async-operation", "location")
    operation_seconds: Optional[float] = None
    compute: Optional[Callable[[PutContext], None]] = None
    on_done: Optional[Callable[[OperationContext], None]] = None
    patch: Optional[Callable[[PutContext], None]] = None
    actions: Mapping[str, Callable[[ActionContext], Any]] = field(default_factory=dict)
    lister: Optional[Callable[[ListContext], list[dict[str, Any]]]] = None
    allow_unknown_properties: bool = False
    system_data: bool = True
    not_found_code: str = "ResourceNotFound"
    delete_missing_status: int = 204
    etag_path: Optional[Sequence[str]] = None

    # derived
    segments: list[tuple[Optional[str], Optional[str]]] = field(init=False, repr=False)
    namespace: str = field(init=False)
    name_param: str = field(init=False)

    def __post_init__(self) -> None:
        if not self.path.startswith("/subscriptions/"):
            raise ValueError(f"path must start with /subscriptions/: {self.path!r}")
        self.segments = []
        for raw in self.path.strip("/").split("/"):
            m = _PLACEHOLDER.match(raw)
            self.segments.append((None, m.group(1)) if m else (raw, None))
        if self.segments[-1][1] is None:
            raise ValueError(f"path must end with a {{name}} placeholder: {self.path!r}")
        self.name_param = self.segments[-1][1]  # type: ignore[assignment]
        lits = [seg[0] for seg in self.segments]
        low = [s.lower() if s else None for s in lits]
        if "providers" in low:
            i = len(low) - 1 - low[::-1].index("providers")
            self.namespace = lits[i + 1]  # type: ignore[assignment]
            kinds = [lits[j] for j in range(i + 2, len(lits), 2)]
            derived = "/".join([self.namespace] + [k for k in kinds if k])
        elif low[2:3] == ["resourcegroups"] and len(lits) == 4:
            self.namespace = "Microsoft.Resources"
            derived = "Microsoft.Resources/resourceGroups"
        else:
            raise ValueError(f"cannot derive the provider namespace of {self.path!r}")
        if self.type_name is None:
            self.type_name = derived
        if not self.api_versions:
            raise ValueError("api_versions must not be empty")
        for how in self.delete_polling:
            if how not in ("azure-async-operation", "location"):
                raise ValueError(f"unknown delete_polling entry {how!r}")

    @property
    def is_resource_group(self) -> bool:
        return self.type_name.lower() == "microsoft.resources/resourcegroups"  # type: ignore[union-attr]

    @property
    def spec_path(self) -> Optional[Path]:
        if self.spec is None:
            return None
        p = Path(self.spec)
        return p if p.is_absolute() else SPECS_DIR / p

    def supports(self, api_version: str) -> bool:
        return api_version.lower() in {v.lower() for v in self.api_versions}

    def match(self, segs: Sequence[str]) -> Optional[dict[str, str]]:
        """Placeholder values if ``segs`` (decoded path segments) address one resource of this type."""
        if len(segs) != len(self.segments):
            return None
        return match_segments(self.segments, segs)

    def match_collection(self, segs: Sequence[str]) -> Optional[dict[str, str]]:
        """Placeholder values if ``segs`` is this type's list URL under its parent."""
        if len(segs) != len(self.segments) - 1:
            return None
        return match_segments(self.segments[:-1], segs)

    def subscription_collection(self) -> Optional[list[tuple[Optional[str], Optional[str]]]]:
        """For types directly under a resource group: the segments of the subscription-wide list URL."""
        lits = [(seg[0] or "").lower() for seg in self.segments]
        if len(self.segments) == 8 and lits[2] == "resourcegroups" and lits[4] == "providers":
            return self.segments[:2] + self.segments[4:7]
        return None

    def build_id(self, names: Mapping[str, str]) -> str:
        return "/" + "/".join(lit if lit is not None else names[ph] for lit, ph in self.segments)  # type: ignore

    def display_name(self, names: Mapping[str, str]) -> str:
        """``NS/things/n1/parts/n2`` as ARM's not-found messages spell it."""
        if self.is_resource_group:
            return names[self.name_param]
        lits = [seg[0] for seg in self.segments]
        low = [(s or "").lower() for s in lits]
        i = len(low) - 1 - low[::-1].index("providers")
        parts = [self.namespace]
        for j in range(i + 2, len(self.segments), 2):
            parts += [lits[j], names[self.segments[j + 1][1]]]  # type: ignore[index]
        return "/".join(parts)  # type: ignore[arg-type]


def match_segments(
    template: Sequence[tuple[Optional[str], Optional[str]]], segs: Sequence[str]
) -> Optional[dict[str, str]]:
    """Placeholder values if the decoded path ``segs`` fit ``template`` (literals compared case-insensitively)."""
    names: dict[str, str] = {}
    for (lit, ph), seg in zip(template, segs):
        if lit is not None:
            if lit.lower() != seg.lower():
                return None
        else:
            if not seg:
                return None
            names[ph] = seg  # type: ignore[index]
    return names
