"""The emulator's brain: store, routing, ARM semantics, long-running operations, faults and the request log.

Transport-free: :meth:`ArmEngine.handle` takes (method, path, query, headers, body bytes) and returns a
:class:`~.resource_types.Response`; ``server.py`` puts it behind HTTPS. One lock serialises all requests.

Time is evaluated lazily: an async operation records when it started; every request (and every control call) first
finishes the operations whose duration has elapsed. No background threads.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence
from urllib.parse import parse_qsl, unquote

from . import rules
from .metadata import metadata_response
from .resource_types import (
    ActionContext,
    ArmError,
    ListContext,
    OperationContext,
    PutContext,
    ResourceType,
    Response,
    match_segments,
)
from .schema import SchemaValidator, SpecLoader, Violation

__all__ = ["ArmEngine", "Fault", "Operation", "Record"]

_TERMINAL = ("Succeeded", "Failed", "Canceled")
_DEFAULT_ERROR_CODES = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 408: "RequestTimeout",
    409: "Conflict", 412: "PreconditionFailed", 429: "TooManyRequests", 500: "InternalServerError",
    502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout",
}
_FAULT_ACTIONS = ("status", "drop", "fail_operation")
TOKEN_LIFETIME = 3600


def utc_iso(ts: float | None = None) -> str:
    dt = datetime.datetime.fromtimestamp(time.time() if ts is None else ts, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def retry_headers(value: float) -> dict[str, str]:
    """``Retry-After: N`` for whole seconds (SDKs deserialize it as an int); a fractional value is sent as
    ``retry-after-ms`` instead (azure-core honours it; ``Retry-After`` is then omitted)."""
    value = float(value)
    if value.is_integer():
        return {"Retry-After": str(int(value))}
    return {"retry-after-ms": str(int(round(value * 1000)))}


def normalise_location(value: str) -> str:
    return value.replace(" ", "").lower()


@dataclass
class Fault:
    """An injected fault. See ``ArmEngine.add_fault``."""

    action: str
    method: Optional[str] = None
    path: Optional[str] = None
    status: Optional[int] = None
    retry_after: Optional[float] = None
    error: Optional[dict[str, Any]] = None
    headers: dict[str, str] = field(default_factory=dict)
    times: Optional[int] = 1
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    hits: int = 0
    _rx: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.action not in _FAULT_ACTIONS:
            raise ValueError(f"fault action must be one of {_FAULT_ACTIONS}, not {self.action!r}")
        if self.action == "status":
            if self.status is None:
                self.status = 500
            if not (isinstance(self.status, int) and 100 <= self.status <= 599):
                raise ValueError(f"fault status must be an HTTP status code, not {self.status!r}")
        if self.times is not None and (not isinstance(self.times, int) or self.times < 1):
            raise ValueError("fault times must be a positive integer or null (= unlimited)")
        if self.retry_after is not None and float(self.retry_after) < 0:
            raise ValueError("fault retry_after must be >= 0")
        if self.error is not None and not isinstance(self.error, dict):
            raise ValueError("fault error must be an object {code, message}")
        self._rx = re.compile(self.path, re.IGNORECASE) if self.path else None
        if self.method:
            self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method.upper():
            return False
        if self._rx is not None and not self._rx.search(path):
            return False
        return True

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "action": self.action, "method": self.method, "path": self.path, "status": self.status,
            "retry_after": self.retry_after, "error": self.error, "headers": self.headers, "times": self.times,
            "hits": self.hits,
        }

    def error_body(self) -> dict[str, Any]:
        status = self.status or 500
        err = {"code": _DEFAULT_ERROR_CODES.get(status, "Error"),
               "message": f"Injected fault {self.id}: HTTP {status}."}
        err.update(self.error or {})
        return {"error": err}


@dataclass
class Record:
    id: str
    rtype: ResourceType
    names: dict[str, str]
    doc: dict[str, Any]
    operation: Optional["Operation"] = None


@dataclass
class Operation:
    id: str
    kind: str  # create | update | delete
    resource_key: str
    resource_id: str
    rtype: ResourceType
    namespace: str
    location: str
    api_version: str
    started: float  # monotonic
    started_wall: float
    duration: float
    status: str = "InProgress"
    ended_wall: Optional[float] = None
    fail_error: Optional[dict[str, Any]] = None
    error: Optional[dict[str, Any]] = None
    location_style: str = "provider"  # provider | subscription (resource groups)

    def status_path(self, sub: str) -> str:
        return f"/subscriptions/{sub}/providers/{self.namespace}/locations/{self.location}/operations/{self.id}"

    def result_path(self, sub: str) -> str:
        if self.location_style == "subscription":
            return f"/subscriptions/{sub}/operationresults/{self.id}"
        return f"/subscriptions/{sub}/providers/{self.namespace}/locations/{self.location}/operationresults/{self.id}"

    def status_doc(self, sub: str) -> dict[str, Any]:
        if self.status == "InProgress":
            pct = min(99.0, round(100.0 * (time.monotonic() - self.started) / max(self.duration, 1e-6), 1))
        else:
            pct = 100.0
        doc: dict[str, Any] = {
            "id": self.status_path(sub),
            "name": self.id,
            "status": self.status,
            "startTime": utc_iso(self.started_wall),
            "percentComplete": pct,
            "resourceId": self.resource_id,
        }
        if self.ended_wall is not None:
            doc["endTime"] = utc_iso(self.ended_wall)
        if self.error:
            doc["error"] = self.error
        return doc


class ArmEngine:
    """State and semantics of the emulated ARM + Entra endpoints. All public methods are thread-safe."""

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        subscription_id: str,
        operation_seconds: float = 1.0,
        retry_after: float = 1,
        base_url: Callable[[], str] | str = "",
        resource_types: Optional[list[ResourceType]] = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.subscription_id = subscription_id
        self.operation_seconds = float(operation_seconds)
        self.retry_after = float(retry_after)
        self._base_url = base_url
        self.lock = threading.RLock()
        self.types: list[ResourceType] = []
        self.store: dict[str, Record] = {}
        self.operations: dict[str, Operation] = {}
        self.faults: list[Fault] = []
        self.log: list[dict[str, Any]] = []
        self.tokens: dict[str, float] = {}  # token -> expiry (epoch)
        self._request_path = ""
        self._spec_loader = SpecLoader()
        self._validators: dict[tuple[str, bool], SchemaValidator] = {}
        for rtype in resource_types or []:
            self.register(rtype)

    # ---------------------------------------------------------------------------------------------------------
    # configuration / control

    @property
    def base_url(self) -> str:
        return self._base_url() if callable(self._base_url) else self._base_url

    def register(self, rtype: ResourceType) -> ResourceType:
        with self.lock:
            for other in self.types:
                if _template_key(other) == _template_key(rtype):
                    raise ValueError(f"a type with path {rtype.path!r} is already registered")
            if rtype.spec_path is not None:
                self._validator(rtype)  # load the spec now: fail at registration, not at the first PUT
            self.types.append(rtype)
            return rtype

    def add_fault(self, fault: Fault | Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        if fault is None:
            fault = Fault(**kwargs)
        elif not isinstance(fault, Fault):
            data = dict(fault)
            unknown = set(data) - {"action", "method", "path", "status", "retry_after", "error", "headers", "times"}
            if unknown:
                raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
            fault = Fault(**data)
        with self.lock:
            self.faults.append(fault)
            return fault.as_dict()

    def clear_faults(self) -> int:
        with self.lock:
            n = len(self.faults)
            self.faults.clear()
            return n

    def clear_requests(self) -> int:
        with self.lock:
            n = len(self.log)
            self.log.clear()
            return n

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.log)

    def settings(self, **changes: Any) -> dict[str, Any]:
        with self.lock:
            for key, value in changes.items():
                if value is None:
                    continue
                if key not in ("operation_seconds", "retry_after"):
                    raise ValueError(f"unknown setting {key!r}")
                value = float(value)
                if value < 0:
                    raise ValueError(f"{key} must be >= 0")
                setattr(self, key, value)
            return {"operation_seconds": self.operation_seconds, "retry_after": self.retry_after}

    def reset(self) -> None:
        """Forget resources, operations, faults and the request log (issued tokens and settings stay valid)."""
        with self.lock:
            self.store.clear()
            self.operations.clear()
            self.faults.clear()
            self.log.clear()

    def dump(self) -> dict[str, Any]:
        with self.lock:
            self._advance()
            return {
                "resources": [copy.deepcopy(r.doc) for r in sorted(self.store.values(), key=lambda r: r.id.lower())],
                "operations": [dict(op.status_doc(self.subscription_id), kind=op.kind)
                               for op in self.operations.values()],
            }

    def get_resource(self, resource_id: str) -> Optional[dict[str, Any]]:
        with self.lock:
            self._advance()
            rec = self.store.get(resource_id.lower())
            return copy.deepcopy(rec.doc) if rec else None

    # ---------------------------------------------------------------------------------------------------------
    # entry point

    def handle(self, method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str],
               body: bytes) -> Response:
        method = method.upper()
        path = raw_path.split("?", 1)[0]
        segs = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
        if segs and segs[0] == "_emulator":
            try:
                return self._control(method, segs[1:], query, body)
            except (ValueError, TypeError, re.error) as exc:
                return Response(400, {"error": {"code": "BadRequest", "message": str(exc)}})
        if method == "GET" and [s.lower() for s in segs] == ["metadata", "endpoints"]:
            try:  # the ARM metadata document needs no token (metadata.py)
                return metadata_response(self.base_url, query)
            except ArmError as err:
                return err.response()
        with self.lock:
            self._advance()
            self._request_path = path
            kind = "identity" if _is_identity_path(segs) else "arm"
            entry: dict[str, Any] = {
                "method": method, "path": path, "query": dict(query), "status": None,
                "body": None, "time": time.time(), "kind": kind,
            }
            if kind == "arm":
                entry["body"] = _parse_json_or_none(body)
            else:
                entry["query"] = {}  # never log anything but the path of identity requests
            self.log.append(entry)
            fault = self._take_fault(method, path, ("status", "drop"))
            if fault is not None:
                entry["fault"] = fault.action
                if fault.action == "drop":
                    return Response(0, drop=True)
                hdrs = dict(fault.headers)
                if fault.retry_after is not None:
                    hdrs.update(retry_headers(fault.retry_after))
                resp = Response(fault.status or 500, fault.error_body(), hdrs)
                entry["status"] = resp.status
                return resp
            try:
                if kind == "identity":
                    resp = self._identity(method, segs, headers, body)
                else:
                    resp = self._arm(method, segs, query, headers, body)
            except ArmError as err:
                resp = err.response()
            entry["status"] = resp.status
            return resp

    # ---------------------------------------------------------------------------------------------------------
    # control API (/_emulator/...)

    def _control(self, method: str, segs: list[str], query: Mapping[str, str], body: bytes) -> Response:
        what = "/".join(segs)
        data = _parse_json_or_none(body) if body else None
        if what == "health" and method == "GET":
            return Response(200, {"status": "ok"})
        if what == "requests":
            if method == "GET":
                return Response(200, self.requests())
            if method == "DELETE":
                return Response(200, {"cleared": self.clear_requests()})
        if what == "faults":
            if method == "GET":
                with self.lock:
                    return Response(200, [f.as_dict() for f in self.faults])
            if method == "POST":
                if not isinstance(data, dict):
                    raise ValueError("POST /_emulator/faults needs a JSON object body")
                return Response(201, self.add_fault(data))
            if method == "DELETE":
                return Response(200, {"cleared": self.clear_faults()})
        if what == "settings":
            if method == "GET":
                return Response(200, self.settings())
            if method == "POST":
                if not isinstance(data, dict):
                    raise ValueError("POST /_emulator/settings needs a JSON object body")
                return Response(200, self.settings(**data))
        if what == "resources" and method == "GET":
            return Response(200, self.dump())
        if what == "reset" and method == "POST":
            self.reset()
            return Response(200, {"reset": True})
        return Response(404, {"error": {"code": "NotFound",
                                        "message": f"no control endpoint {method} /_emulator/{what}"}})

    def _take_fault(self, method: str, path: str, actions: tuple[str, ...]) -> Optional[Fault]:
        for fault in self.faults:
            if fault.action in actions and fault.matches(method, path):
                fault.hits += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    # ---------------------------------------------------------------------------------------------------------
    # Entra ID (login.microsoftonline.com look-alike)

    def _aad_error(self, status: int, error: str, code: int, description: str) -> Response:
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        now = utc_iso()
        return Response(status, {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {corr} "
                                 f"Timestamp: {now}",
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": f"{self.base_url}/error?code={code}",
        })

    def _openid_configuration(self, tenant: str) -> dict[str, Any]:
        base = f"{self.base_url}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{self.base_url}/{tenant}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{self.base_url}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
            "kerberos_endpoint": f"{base}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "emulator.local",
            "cloud_graph_host_name": "graph.emulator.local",
            "msgraph_host": "graph.emulator.local",
            "rbac_url": self.base_url,
        }

    def _tenant_ok(self, tenant: str) -> bool:
        return tenant.lower() in (self.tenant_id.lower(), "organizations", "common")

    def _identity(self, method: str, segs: list[str], headers: Mapping[str, str], body: bytes) -> Response:
        low = [s.lower() for s in segs]
        if method == "GET" and low[:3] == ["common", "discovery", "instance"]:
            host = self.base_url.split("://", 1)[-1]
            return Response(200, {
                "tenant_discovery_endpoint": f"{self.base_url}/{{tenant}}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            })
        if method == "GET" and len(low) in (3, 4) and low[-2:] == [".well-known", "openid-configuration"] and \
                (len(low) == 3 or low[1] == "v2.0"):
            tenant = segs[0]
            if not self._tenant_ok(tenant):
                return self._aad_error(400, "invalid_tenant", 90002,
                                       f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                                       "tenant ID and are signing into the correct cloud.")
            return Response(200, self._openid_configuration(tenant))
        if method == "POST" and len(low) == 4 and low[1:] == ["oauth2", "v2.0", "token"]:
            return self._token(segs[0], headers, body)
        return Response(404, {"error": {"code": "NotFound", "message": f"No emulated endpoint for {method} "
                                                                       f"/{'/'.join(segs)}."}})

    def _token(self, tenant: str, headers: Mapping[str, str], body: bytes) -> Response:
        if not self._tenant_ok(tenant):
            return self._aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        auth = headers.get("authorization") or headers.get("Authorization")
        if auth and auth.lower().startswith("basic "):  # client_secret_basic
            import base64

            try:
                cid, _sep, csec = base64.b64decode(auth[6:]).decode().partition(":")
                form.setdefault("client_id", unquote(cid))
                form.setdefault("client_secret", unquote(csec))
            except ValueError:
                pass
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            return self._aad_error(400, "unsupported_grant_type", 70003,
                                   f"The app requested an unsupported grant type '{grant}'.")
        scope = form.get("scope", "")
        if not scope or not all(s.endswith("/.default") for s in scope.split()):
            return self._aad_error(400, "invalid_scope", 1002012,
                                   f"The provided value for scope {scope} is not valid. Client credential flows "
                                   "must have a scope value with /.default suffixed to the resource identifier "
                                   "(application ID URI).")
        client_id = form.get("client_id", "")
        if client_id != self.client_id:
            return self._aad_error(401, "invalid_client", 700016,
                                   f"Application with identifier '{client_id}' was not found in the directory "
                                   f"'{self.tenant_id}'. This can happen if the application has not been installed "
                                   "by the administrator of the tenant or consented to by any user in the tenant.")
        if "client_secret" not in form:
            return self._aad_error(401, "invalid_client", 7000216,
                                   "'client_assertion', 'client_secret' or 'request' is required for the "
                                   "'client_credentials' grant type.")
        if not secrets.compare_digest(form["client_secret"], self.client_secret):
            return self._aad_error(401, "invalid_client", 7000215,
                                   "Invalid client secret provided. Ensure the secret being sent in the request is "
                                   "the client secret value, not the client secret ID, for a secret added to app "
                                   f"'{self.client_id}'.")
        token = "emu." + secrets.token_urlsafe(40)
        self.tokens[token] = time.time() + TOKEN_LIFETIME
        return Response(200, {
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME - 1,
            "ext_expires_in": TOKEN_LIFETIME - 1,
            "access_token": token,
        })

    # ---------------------------------------------------------------------------------------------------------
    # ARM

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        auth = headers.get("authorization") or headers.get("Authorization")
        challenge = {"WWW-Authenticate": f'Bearer authorization_uri="{self.base_url}/{self.tenant_id}", '
                                         'error="invalid_token", error_description="The authentication failed"'}
        if not auth:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                           headers=challenge)
        scheme, _sep, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ArmError(401, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                           headers=challenge)
        expiry = self.tokens.get(token.strip())
        if expiry is None:
            raise ArmError(401, "AuthenticationFailed",
                           "Authentication failed. The access token is invalid (not issued by this emulator).",
                           headers=challenge)
        if expiry < time.time():
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The access token has expired.",
                           headers=challenge)

    def _arm(self, method: str, segs: list[str], query: Mapping[str, str], headers: Mapping[str, str],
             body: bytes) -> Response:
        self._authenticate(headers)
        api_version = _query_get(query, "api-version")
        if not api_version:
            raise ArmError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
        if len(segs) < 2 or segs[0].lower() != "subscriptions" or not segs[1]:
            raise self._no_route(method, segs)
        if segs[1].lower() != self.subscription_id.lower():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{segs[1]}' could not be found.")
        low = [s.lower() for s in segs]

        if len(segs) == 2 and method == "GET":
            return Response(200, self._subscription_doc())
        # operation status / result endpoints
        if method == "GET" and len(low) == 8 and low[2] == "providers" and low[4] == "locations" and \
                low[6] in ("operations", "operationresults"):
            op = self._find_op(segs[7])
            return self._op_status(op) if low[6] == "operations" else self._op_result(op, api_version)
        if method == "GET" and len(low) == 4 and low[2] == "operationresults":
            return self._op_result(self._find_op(segs[3]), api_version)
        # generic resource listings
        if method == "GET" and (len(low) == 3 and low[2] == "resources" or
                                len(low) == 5 and low[2] == "resourcegroups" and low[4] == "resources"):
            return self._list_generic(segs, api_version)

        if method == "GET" and len(low) == 4 and low[2] == "providers":
            return self._provider(segs[3], api_version)

        for rtype in self.types:
            names = rtype.match(segs)
            if names is not None:
                self._check_api_version(rtype, api_version)
                return self._resource(method, rtype, names, query, headers, body, api_version)
        for rtype in self.types:
            names = rtype.match_collection(segs)
            if names is not None and method == "GET":
                self._check_api_version(rtype, api_version)
                return self._list(rtype, names, query)
            sub_coll = rtype.subscription_collection()
            if sub_coll is not None and method == "GET" and len(sub_coll) == len(segs):
                if match_segments(sub_coll, segs) is not None:
                    self._check_api_version(rtype, api_version)
                    return self._list(rtype, None, query)
            if method == "POST" and len(segs) == len(rtype.segments) + 1 and rtype.actions:
                names = rtype.match(segs[:-1])
                if names is not None:
                    handler = {k.lower(): v for k, v in rtype.actions.items()}.get(low[-1])
                    if handler is not None:
                        self._check_api_version(rtype, api_version)
                        return self._action(rtype, names, handler, query, body, api_version)
        raise self._no_route(method, segs)

    def _no_route(self, method: str, segs: list[str]) -> ArmError:
        low = [s.lower() for s in segs]
        if "providers" in low:
            i = low.index("providers")
            if i + 2 < len(segs):
                return ArmError(400, "InvalidResourceType",
                                f"The resource type '{'/'.join(segs[i + 2:i + 3])}' could not be found in the "
                                f"namespace '{segs[i + 1]}' for api version used (ARM emulator: no such route "
                                f"{method} /{'/'.join(segs)}).")
        return ArmError(404, "NotFound", f"The ARM emulator has no route for {method} /{'/'.join(segs)}.")

    def _check_api_version(self, rtype: ResourceType, api_version: str) -> None:
        if not rtype.supports(api_version):
            raise ArmError(400, "InvalidApiVersionParameter",
                           f"The api-version '{api_version}' is invalid. The supported versions are "
                           f"'{','.join(rtype.api_versions)}'.")

    def _subscription_doc(self) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{self.subscription_id}",
            "subscriptionId": self.subscription_id,
            "tenantId": self.tenant_id,
            "displayName": "ARM emulator subscription",
            "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                     "spendingLimit": "Off"},
            "authorizationSource": "RoleBased",
        }

    def _provider(self, namespace: str, api_version: str) -> Response:
        """ARM's provider read: every registered type of ``namespace`` with the regions and api-versions it serves."""
        rg_type = next((t for t in self.types if t.is_resource_group), None)
        if rg_type is not None:
            self._check_api_version(rg_type, api_version)
        versions: dict[str, set[str]] = {}
        spelled = None
        for rtype in self.types:
            if rtype.namespace.lower() == namespace.lower():
                spelled = rtype.namespace
                versions.setdefault(rtype.type_name.split("/", 1)[1], set()).update(rtype.api_versions)  # type: ignore
        if spelled is None:
            raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")
        regions = list(rules.AZURE_LOCATION_NAMES.values())
        return Response(200, {
            "id": f"/subscriptions/{self.subscription_id}/providers/{spelled}",
            "namespace": spelled,
            "registrationState": "Registered",
            "registrationPolicy": "RegistrationRequired",
            "resourceTypes": [{"resourceType": kind, "locations": list(regions), "apiVersions": sorted(v, reverse=True)}
                              for kind, v in versions.items()],
        })

    # -- helpers on the store ---------------------------------------------------------------------------------

    def _ancestors(self, rtype: ResourceType, names: Mapping[str, str]
                   ) -> list[tuple[ResourceType, str, dict[str, str]]]:
        """Registered types whose template is a strict prefix of ``rtype``'s, outermost first, with their ids and
        placeholder values (under the ancestor's own placeholder names)."""
        out = []
        for other in self.types:
            n = len(other.segments)
            if n >= len(rtype.segments):
                continue
            if all((a[0] or "").lower() == (b[0] or "").lower() and (a[0] is None) == (b[0] is None)
                   for a, b in zip(other.segments, rtype.segments[:n])):
                sub_names = {a[1]: names[b[1]] for a, b in zip(other.segments, rtype.segments[:n])  # type: ignore
                             if a[1] is not None}
                out.append((other, other.build_id(sub_names), sub_names))
        out.sort(key=lambda t: len(t[0].segments))
        return out

    def _not_found(self, rtype: ResourceType, names: Mapping[str, str]) -> ArmError:
        if rtype.is_resource_group:
            return ArmError(404, rtype.not_found_code,
                            f"Resource group '{names[rtype.name_param]}' could not be found.")
        rg = _rg_name(rtype, names)
        where = f" under resource group '{rg}'" if rg else ""
        return ArmError(404, rtype.not_found_code,
                        f"The Resource '{rtype.display_name(names)}'{where} was not found. For more details please "
                        "go to https://aka.ms/ARMResourceNotFoundFix")

    def _require_ancestors(self, rtype: ResourceType, names: Mapping[str, str], method: str = "GET") -> list[Record]:
        recs = []
        for atype, aid, anames in self._ancestors(rtype, names):
            rec = self.store.get(aid.lower())
            if rec is None:
                if not atype.is_resource_group and atype.namespace.lower() != rtype.namespace.lower():
                    # the scope of an extension resource (another provider's resource): ARM answers for the parent
                    verb = {"PUT": "write", "PATCH": "write", "DELETE": "delete", "POST": "action"}.get(method, "read")
                    raise ArmError(404, "ParentResourceNotFound",
                                   f"Failed to perform '{verb}' on resource(s) of type '{rtype.type_name}', because "
                                   f"the parent resource '{aid}' could not be found.")
                raise self._not_found(atype, anames)
            recs.append(rec)
        return recs

    def _busy_error(self, rec: Record, attempted: str) -> ArmError:
        op = rec.operation
        assert op is not None
        if rec.rtype.is_resource_group and op.kind == "delete":
            return ArmError(409, "ResourceGroupBeingDeleted",
                            f"The resource group '{rec.names[rec.rtype.name_param]}' is in deprovisioning state "
                            "and cannot perform this operation.")
        what = rec.rtype.type_name.split("/")[-1]  # type: ignore[union-attr]
        return ArmError(409, "OperationNotAllowed",
                        f"Operation is not allowed because there's an in progress {op.kind} {what} operation "
                        f"({op.id}) on '{rec.id}' which started at {utc_iso(op.started_wall)}. Please wait for it "
                        f"to complete before starting a new {attempted} operation.")

    def _check_not_busy(self, ancestors: list[Record], rec: Optional[Record], attempted: str) -> None:
        for anc in ancestors:
            if anc.operation is not None:
                raise self._busy_error(anc, attempted)
        if rec is not None and rec.operation is not None:
            raise self._busy_error(rec, attempted)

    def _validator(self, rtype: ResourceType) -> Optional[SchemaValidator]:
        spec = rtype.spec_path
        if spec is None:
            return None
        key = (str(spec), rtype.allow_unknown_properties)
        v = self._validators.get(key)
        if v is None:
            v = SchemaValidator(spec, self._spec_loader, allow_unknown=rtype.allow_unknown_properties)
            self._validators[key] = v
        return v

    def _validate_names(self, rtype: ResourceType, names: Mapping[str, str]) -> None:
        v = self._validator(rtype)
        if v is None:
            return
        params = v.path_parameters(rtype.path)
        if not params:
            return
        spec_names = _spec_placeholders(v, rtype)
        ours = [seg[1] for seg in rtype.segments if seg[1] is not None]
        for mine, theirs in zip(ours, spec_names):
            param = params.get(theirs)
            if not param or mine not in names or param.get("format") == "uuid":
                continue
            schema = {k: param[k] for k in ("type", "minLength", "maxLength", "pattern", "enum") if k in param}
            problems = v.check_value(schema, names[mine], mine)
            if problems:
                raise ArmError(400, "InvalidResourceName" if mine == rtype.name_param else "InvalidParameter",
                               f"The value '{names[mine]}' of path parameter '{theirs}' is invalid: "
                               + " ".join(p.message for p in problems), target=theirs)

    def _validate_body(self, rtype: ResourceType, definition: Optional[str], body: Any,
                       existing: Optional[dict[str, Any]]) -> None:
        v = self._validator(rtype)
        if v is None or definition is None:
            return
        problems = v.validate(definition, body, existing=existing)
        if not problems:
            return
        raise _violations_error(problems)

    def _location_of(self, doc: dict[str, Any], ancestors: list[Record]) -> str:
        for d in [doc] + [a.doc for a in reversed(ancestors)]:
            loc = d.get("location")
            if isinstance(loc, str) and loc:
                return normalise_location(loc)
        return "global"

    def _start_op(self, rec: Record, kind: str, api_version: str, method: str, path: str,
                  ancestors: list[Record]) -> Operation:
        rtype = rec.rtype
        duration = rtype.operation_seconds if rtype.operation_seconds is not None else self.operation_seconds
        op = Operation(
            id=str(uuid.uuid4()), kind=kind, resource_key=rec.id.lower(), resource_id=rec.id, rtype=rtype,
            namespace=rtype.namespace, location=self._location_of(rec.doc, ancestors), api_version=api_version,
            started=time.monotonic(), started_wall=time.time(), duration=float(duration),
            location_style="subscription" if rtype.is_resource_group else "provider",
        )
        fault = self._take_fault(method, path, ("fail_operation",))
        if fault is not None:
            err = {"code": "InternalOperationError",
                   "message": f"Injected fault {fault.id}: the {kind} operation failed."}
            err.update(fault.error or {})
            op.fail_error = err
            if self.log:
                self.log[-1]["fault"] = "fail_operation"
        self.operations[op.id.lower()] = op
        rec.operation = op
        return op

    def _poll_headers(self, op: Operation, styles: tuple[str, ...]) -> dict[str, str]:
        hdrs = retry_headers(self.retry_after)
        sub = self.subscription_id
        if "azure-async-operation" in styles:
            hdrs["Azure-AsyncOperation"] = f"{self.base_url}{op.status_path(sub)}?api-version={op.api_version}"
        if "location" in styles:
            hdrs["Location"] = f"{self.base_url}{op.result_path(sub)}?api-version={op.api_version}"
        return hdrs

    def _advance(self) -> None:
        now = time.monotonic()
        due = [op for op in self.operations.values() if op.status == "InProgress" and now >= op.started + op.duration]
        for op in sorted(due, key=lambda o: o.started + o.duration):
            if op.status == "InProgress":  # may have been canceled by an earlier delete in this loop
                self._finish(op)

    def _finish(self, op: Operation) -> None:
        op.ended_wall = time.time()
        rec = self.store.get(op.resource_key)
        if rec is not None and rec.operation is op:
            rec.operation = None
        if op.fail_error is not None:
            op.status = "Failed"
            op.error = op.fail_error
            if rec is not None:
                _set_state(rec, "Failed")
            return
        op.status = "Succeeded"
        if op.kind == "delete":
            doc = rec.doc if rec is not None else {}
            self._remove_tree(op.resource_key)
            if op.rtype.on_done:
                op.rtype.on_done(OperationContext(self, op.rtype, op.resource_id, op.kind, doc))
            return
        if rec is not None:
            _set_state(rec, "Succeeded")
            if op.rtype.on_done:
                op.rtype.on_done(OperationContext(self, op.rtype, op.resource_id, op.kind, rec.doc))

    def _remove_tree(self, key: str) -> None:
        prefix = key + "/"
        for k in [k for k in self.store if k == key or k.startswith(prefix)]:
            rec = self.store.pop(k)
            if rec.operation is not None and rec.operation.status == "InProgress" and k != key:
                rec.operation.status = "Canceled"
                rec.operation.ended_wall = time.time()
                rec.operation.error = {"code": "Canceled", "message": "The parent resource was deleted."}

    def _find_op(self, op_id: str) -> Operation:
        op = self.operations.get(op_id.lower())
        if op is None:
            raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' could not be found.")
        return op

    def _op_status(self, op: Operation) -> Response:
        # ARM repeats Retry-After on the status endpoint while the operation runs; without it clients
        # fall back to their own interval (30 s in azure-core)
        headers = retry_headers(self.retry_after) if op.status == "InProgress" else {}
        return Response(200, op.status_doc(self.subscription_id), headers=headers)

    def _op_result(self, op: Operation, api_version: str) -> Response:
        if op.status == "InProgress":
            hdrs = {"Location": f"{self.base_url}{op.result_path(self.subscription_id)}?api-version={api_version}",
                    **retry_headers(self.retry_after)}
            return Response(202, None, hdrs)
        if op.status == "Failed":
            return Response(400, {"error": op.error})
        if op.status == "Canceled":
            return Response(409, {"error": op.error or {"code": "Canceled", "message": "Operation canceled."}})
        if op.kind == "delete":
            return Response(200 if op.rtype.is_resource_group else 204, None)
        rec = self.store.get(op.resource_key)
        return Response(200, copy.deepcopy(rec.doc)) if rec else Response(204, None)

    # -- resource handlers ------------------------------------------------------------------------------------

    def _resource(self, method: str, rtype: ResourceType, names: dict[str, str], query: Mapping[str, str],
                  headers: Mapping[str, str], body: bytes, api_version: str) -> Response:
        rid = rtype.build_id(names)
        key = rid.lower()
        path = self._request_path
        ancestors = self._require_ancestors(rtype, names, method)
        rec = self.store.get(key)

        if method in ("GET", "HEAD"):
            if rec is None:
                if method == "HEAD":
                    return Response(404, None)
                raise self._not_found(rtype, names)
            return Response(204, None) if method == "HEAD" else Response(200, copy.deepcopy(rec.doc))

        if method in ("PUT", "PATCH", "DELETE"):
            self._check_preconditions(rtype, rec, headers)
        if method == "PUT":
            return self._put(rtype, names, rid, rec, ancestors, body, api_version, path)

        if method == "PATCH":
            if rec is None:
                raise self._not_found(rtype, names)
            self._check_not_busy(ancestors, rec, "update")
            data = _parse_body_object(body)
            if rtype.patch_definition:
                self._validate_body(rtype, rtype.patch_definition, data, None)
            else:
                _check_tags_only(data)
            rules.check_tags(data.get("tags"))
            doc = copy.deepcopy(rec.doc)
            ctx = PutContext(self, rtype, rid, dict(rec.names), doc, data, copy.deepcopy(rec.doc),
                             ancestors[-1].doc if ancestors else None, api_version)
            if rtype.patch:
                rtype.patch(ctx)
            elif "tags" in data:
                doc["tags"] = data["tags"] or {}
            if rtype.etag_path:
                _set_path(doc, rtype.etag_path, new_etag())
            _touch_system_data(rtype, doc, self.client_id, create=False)
            rec.doc = doc
            if rtype.async_put:
                _set_state(rec, "Updating")
                op = self._start_op(rec, "update", api_version, method, path, ancestors)
                return Response(200, copy.deepcopy(rec.doc), self._poll_headers(op, ("azure-async-operation",)))
            return Response(200, copy.deepcopy(rec.doc))

        if method == "DELETE":
            if rec is None:
                if rtype.delete_missing_status == 404:
                    raise self._not_found(rtype, names)
                return Response(rtype.delete_missing_status, None)
            if rec.operation is not None and rec.operation.kind == "delete" and rtype.is_resource_group:
                return Response(202, None, self._poll_headers(rec.operation, tuple(rtype.delete_polling)))
            self._check_not_busy(ancestors, rec, "delete")
            if not rtype.async_delete:
                self._remove_tree(key)
                return Response(200, None)
            _set_state(rec, "Deleting")
            op = self._start_op(rec, "delete", api_version, method, path, ancestors)
            return Response(202, None, self._poll_headers(op, tuple(rtype.delete_polling)))

        raise ArmError(405, "MethodNotAllowed", f"The method {method} is not allowed on {rtype.type_name}.")

    def _check_preconditions(self, rtype: ResourceType, rec: Optional[Record], headers: Mapping[str, str]) -> None:
        """ARM's optimistic concurrency: ``If-Match`` names the entity tag the write is based on (``*``: any, but the
        resource must exist), ``If-None-Match: *`` asks that the resource not exist yet; otherwise 412."""
        if not rtype.etag_path:
            return
        current = _get_path(rec.doc, rtype.etag_path) if rec else None
        if_match = headers.get("if-match")
        if if_match is not None:
            wanted = if_match.strip()
            if rec is None or (wanted != "*" and wanted.strip('"') != current):
                raise ArmError(412, "PreconditionFailed",
                               f"The entity tag in If-Match ({wanted}) does not match the resource's current entity tag "
                               f"({current if rec else 'none: the resource does not exist'}).")
        if_none_match = headers.get("if-none-match")
        if if_none_match is not None and rec is not None and if_none_match.strip() in ("*", f'"{current}"', current):
            raise ArmError(412, "PreconditionFailed",
                           f"If-None-Match ({if_none_match.strip()}) refuses the write: the resource already exists "
                           f"with entity tag {current}.")

    def _put(self, rtype: ResourceType, names: dict[str, str], rid: str, rec: Optional[Record],
             ancestors: list[Record], body: bytes, api_version: str, path: str) -> Response:
        self._check_not_busy(ancestors, rec, "update" if rec else "create")
        self._validate_names(rtype, names)
        data = _parse_body_object(body)
        if isinstance(data.get("location"), str):
            data["location"] = normalise_location(data["location"])
        self._validate_body(rtype, rtype.definition, data, rec.doc if rec else None)
        if "location" in data:
            rules.check_location(data["location"], rtype.type_name)
        rules.check_tags(data.get("tags"))

        is_create = rec is None
        # ids keep the casing of the resource's first PUT; names keep the casing the caller gave
        doc_id = rec.id if rec else rid
        doc: dict[str, Any] = {
            "id": doc_id,
            "name": names[rtype.name_param] if is_create else rec.doc.get("name", names[rtype.name_param]),
            "type": rtype.type_name,
        }
        doc.update((k, v) for k, v in copy.deepcopy(data).items() if k not in doc)
        state = ("Creating" if is_create else "Updating") if rtype.async_put else "Succeeded"
        props = doc.get("properties")
        if props is None:
            props = doc["properties"] = {}
        if isinstance(props, dict):
            props["provisioningState"] = state
        if rtype.system_data:
            doc["systemData"] = copy.deepcopy(rec.doc.get("systemData")) if rec and rec.doc.get("systemData") else {}
            _touch_system_data(rtype, doc, self.client_id, create=is_create)
        ctx = PutContext(self, rtype, doc_id, dict(names), doc, copy.deepcopy(data),
                         copy.deepcopy(rec.doc) if rec else None, ancestors[-1].doc if ancestors else None,
                         api_version)
        if rtype.compute:
            rtype.compute(ctx)
        if rec is None:
            rec = Record(doc_id, rtype, dict(names), doc)
            self.store[doc_id.lower()] = rec
        else:
            rec.doc = doc
        status = 201 if is_create else 200
        if rtype.async_put:
            op = self._start_op(rec, "create" if is_create else "update", api_version, "PUT", path, ancestors)
            return Response(status, copy.deepcopy(rec.doc), self._poll_headers(op, ("azure-async-operation",)))
        return Response(status, copy.deepcopy(rec.doc))

    def _list(self, rtype: ResourceType, names: Optional[dict[str, str]],
              query: Optional[Mapping[str, str]] = None) -> Response:
        if names is not None:
            self._require_ancestors(rtype, dict(names, **{rtype.name_param: "-"}))
            prefix = "/" + "/".join(lit if lit is not None else names[ph]  # type: ignore[index]
                                    for lit, ph in rtype.segments[:-1]) + "/"
        else:
            prefix = f"/subscriptions/{self.subscription_id}/"
        prefix = prefix.lower()
        items = [copy.deepcopy(r.doc) for k, r in sorted(self.store.items())
                 if r.rtype is rtype and k.startswith(prefix)]
        if rtype.lister is not None:
            items = rtype.lister(ListContext(self, rtype, prefix.rstrip("/"), dict(query or {}), items))
        return Response(200, {"value": items})

    def _list_generic(self, segs: list[str], api_version: str) -> Response:
        rg_type = next((t for t in self.types if t.is_resource_group), None)
        if rg_type is not None:
            self._check_api_version(rg_type, api_version)
        if len(segs) == 5:
            rg_key = f"/subscriptions/{self.subscription_id}/resourcegroups/{segs[3]}".lower()
            if rg_type is not None and rg_key not in self.store:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{segs[3]}' could not be found.")
            prefix = rg_key + "/"
        else:
            prefix = f"/subscriptions/{self.subscription_id}/".lower()
        items = []
        for k, r in sorted(self.store.items()):
            if k.startswith(prefix) and not r.rtype.is_resource_group:
                item = {f: r.doc[f] for f in ("id", "name", "type", "location", "tags", "kind", "sku", "identity",
                                              "managedBy") if f in r.doc}
                items.append(copy.deepcopy(item))
        return Response(200, {"value": items})

    def _action(self, rtype: ResourceType, names: dict[str, str], handler: Callable[[ActionContext], Any],
                query: Mapping[str, str], body: bytes, api_version: str) -> Response:
        self._require_ancestors(rtype, names)
        rid = rtype.build_id(names)
        rec = self.store.get(rid.lower())
        if rec is None:
            raise self._not_found(rtype, names)
        result = handler(ActionContext(self, rtype, rec.id, rec.doc, _parse_json_or_none(body) if body else None,
                                       dict(query), api_version))
        return result if isinstance(result, Response) else Response(200, result)


# ---------------------------------------------------------------------------------------------------------------
# module helpers


def _is_identity_path(segs: list[str]) -> bool:
    low = [s.lower() for s in segs]
    return "oauth2" in low or ".well-known" in low or low[:3] == ["common", "discovery", "instance"]


def _query_get(query: Mapping[str, str], name: str) -> Optional[str]:
    for k, v in query.items():
        if k.lower() == name:
            return v
    return None


def _parse_json_or_none(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _parse_body_object(body: bytes) -> dict[str, Any]:
    if not body or not body.strip():
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                                                     "deserialized: the request body is empty.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArmError(400, "InvalidRequestContent",
                       f"The request content was invalid and could not be deserialized: {exc}.") from None
    if not isinstance(data, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                                                     "deserialized: the body must be a JSON object.", target="")
    return data


def _violations_error(problems: list[Violation]) -> ArmError:
    changes = [p for p in problems if p.code == "PropertyChangeNotAllowed"]
    if changes and len(changes) == len(problems):
        return ArmError(400, "PropertyChangeNotAllowed",
                        "; ".join(p.message for p in changes), target=changes[0].path,
                        details=[p.as_detail() for p in changes])
    listing = "; ".join(f"'{p.path or '(body)'}': {p.message}" for p in problems)
    return ArmError(400, "InvalidRequestContent",
                    f"The request content was invalid and could not be deserialized ({len(problems)} "
                    f"problem{'s' if len(problems) != 1 else ''}): {listing}",
                    target=problems[0].path, details=[p.as_detail() for p in problems])


def _check_tags_only(data: dict[str, Any]) -> None:
    problems = []
    for key in data:
        if key != "tags":
            problems.append(Violation(key, "UnknownProperty",
                                      f"Could not find member '{key}' on object of type 'TagsObject'. Path '{key}'."))
    tags = data.get("tags")
    if tags is not None:
        if not isinstance(tags, dict):
            problems.append(Violation("tags", "InvalidType", "tags must be an object of strings."))
        else:
            for k, v in tags.items():
                if not isinstance(v, str):
                    problems.append(Violation(f"tags.{k}", "InvalidType", f"The tag value of '{k}' must be a string."))
    if problems:
        raise _violations_error(problems)


def new_etag() -> str:
    """A fresh entity tag (opaque to clients; AKS uses GUID-like values)."""
    return str(uuid.uuid4())


def _get_path(doc: Mapping[str, Any], path: Sequence[str]) -> Any:
    for key in path:
        doc = doc.get(key) if isinstance(doc, Mapping) else None
    return doc


def _set_path(doc: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for key in path[:-1]:
        doc = doc.setdefault(key, {})
    doc[path[-1]] = value


def _set_state(rec: Record, state: str) -> None:
    props = rec.doc.get("properties")
    if isinstance(props, dict):
        props["provisioningState"] = state


def _touch_system_data(rtype: ResourceType, doc: dict[str, Any], who: str, *, create: bool) -> None:
    if not rtype.system_data:
        return
    sd = doc.setdefault("systemData", {})
    now = utc_iso()
    if create or "createdAt" not in sd:
        sd.update({"createdBy": who, "createdByType": "Application", "createdAt": now})
    sd.update({"lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": now})


def _rg_name(rtype: ResourceType, names: Mapping[str, str]) -> Optional[str]:
    segs = rtype.segments
    for i, seg in enumerate(segs[:-1]):
        if seg[0] and seg[0].lower() == "resourcegroups" and segs[i + 1][1]:
            return names.get(segs[i + 1][1])  # type: ignore[arg-type]
    return None


def _template_key(rtype: ResourceType) -> list[Optional[str]]:
    return [seg[0].lower() if seg[0] is not None else None for seg in rtype.segments]


def _spec_placeholders(v: SchemaValidator, rtype: ResourceType) -> list[str]:
    """Placeholder names as the spec spells them for ``rtype.path`` (same order as the emulator's)."""
    doc = v.loader.load(v.spec_file)
    want = re.sub(r"\{[^}]*\}", "{}", rtype.path).lower()
    for key in doc.get("paths") or {}:
        if re.sub(r"\{[^}]*\}", "{}", key.rstrip("/")).lower() == want:
            return re.findall(r"\{([^}]*)\}", key)
    return []
