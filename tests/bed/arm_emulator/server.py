"""HTTPS front end of the ARM emulator and the :class:`ArmEmulator` Python API.

TLS trust — what a caller must set
----------------------------------
The server certificate (for ``127.0.0.1`` and ``localhost``) is issued by a throw-away test CA (trustme) whose PEM
is written to ``emu.ca_path``. Both azure-identity (MSAL's HTTP goes through an azure-core pipeline built by
azure-identity) and the azure-mgmt clients use azure-core's ``RequestsTransport``, so either of these works:

* pass ``connection_verify=emu.ca_path`` to ``ClientSecretCredential(...)`` **and** to every management client
  (azure-identity forwards it to the transport it gives MSAL), or
* set the environment variable ``REQUESTS_CA_BUNDLE=emu.ca_path`` (requests reads it whenever the transport's
  ``connection_verify`` is left at its default ``True``; it replaces the certifi bundle for the whole process).
  An explicit ``connection_verify`` wins over the variable (verified with REQUESTS_CA_BUNDLE preset to the
  system bundle).

Pass the CA as a ``str`` (``emu.ca_path`` is one): requests treats any non-``str`` ``verify`` such as a ``Path``
like ``True``. Plain ``requests.Session`` users: ``session.verify`` loses against REQUESTS_CA_BUNDLE /
CURL_CA_BUNDLE from the environment; pass ``verify=`` per request or set ``session.trust_env = False``.

The credential additionally needs ``authority=emu.url`` (or env ``AZURE_AUTHORITY_HOST``) and
``disable_instance_discovery=True``: without the latter MSAL validates the unknown authority against
``https://login.microsoftonline.com/common/discovery/instance`` — i.e. leaves 127.0.0.1 — and fails. Management
clients need ``base_url=emu.url`` and ``credential_scopes=[emu.url + "/.default"]`` (any ``*/.default`` scope is
accepted)::

    cred = ClientSecretCredential(emu.tenant_id, emu.client_id, emu.client_secret, authority=emu.url,
                                  disable_instance_discovery=True, connection_verify=emu.ca_path)
    client = ResourceManagementClient(cred, emu.subscription_id, base_url=emu.url,
                                      credential_scopes=[emu.url + "/.default"], connection_verify=emu.ca_path)

Set ``retry_after`` (emulator setting) to a small non-zero value for quick tests: azure-core treats
``Retry-After: 0`` as "absent" and then waits the client's ``polling_interval`` (30 s by default) between polls.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import ssl
import sys
import threading
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import parse_qsl, urlsplit

import trustme

from .engine import ArmEngine, Fault
from .resource_groups import RESOURCE_GROUPS
from .resource_types import ResourceType, Response

__all__ = [
    "ArmEmulator",
    "DEFAULT_TENANT_ID",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_SUBSCRIPTION_ID",
]

log = logging.getLogger(__name__)

DEFAULT_TENANT_ID = "00000000-0000-0000-0000-0000000000aa"
DEFAULT_CLIENT_ID = "00000000-0000-0000-0000-0000000000c1"
DEFAULT_CLIENT_SECRET = "arm-emulator-client-secret"
DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-0000000000bb"
CA_FILE = "arm-ca.pem"
JSON_TYPE = "application/json; charset=utf-8"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ArmEmulator/1.0"

    def version_string(self) -> str:
        return self.server_version
    timeout = 120  # idle keep-alive connections are closed after this

    server: "_TLSServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's signature
        log.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            resp = self.server.engine.handle(self.command, url.path, query, headers, body)
        except Exception:  # noqa: BLE001 - answer 500 and keep serving
            traceback.print_exc(file=sys.stderr)
            resp = Response(500, {"error": {"code": "InternalServerError",
                                            "message": "The ARM emulator failed (see its log)."}})
        if resp.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(resp, headers)

    def _send(self, resp: Response, req_headers: dict[str, str]) -> None:
        payload = b""
        if resp.body is not None:
            payload = json.dumps(resp.body, indent=None, separators=(",", ":")).encode("utf-8")
        self.send_response(resp.status)
        request_id = str(uuid.uuid4())
        extra = {k.lower() for k in resp.headers}
        if resp.body is not None:
            self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("x-ms-request-id", request_id)
        self.send_header("x-ms-correlation-request-id",
                         req_headers.get("x-ms-correlation-request-id") or request_id)
        if req_headers.get("x-ms-client-request-id"):
            self.send_header("x-ms-client-request-id", req_headers["x-ms-client-request-id"])
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if "content-length" not in extra:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], ssl_context: ssl.SSLContext, engine: ArmEngine) -> None:
        self.ssl_context = ssl_context
        self.engine = engine
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # TLS handshake in the worker thread, so one slow client cannot block accept().
        try:
            request.settimeout(30)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with self._conns_lock:
            self._conns.add(tls)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, ConnectionError, TimeoutError, OSError):
            pass
        finally:
            with self._conns_lock:
                self._conns.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ArmEmulator:
    """ARM + Entra ID token endpoint emulator on ``https://127.0.0.1:<port>``.

    >>> with ArmEmulator(tmp_path, operation_seconds=0.3, retry_after=0.05) as emu:
    ...     emu.url, emu.ca_path, emu.requests

    ``resource_types`` defaults to ``[RESOURCE_GROUPS]``; more can be added with :meth:`register` at any time.
    """

    def __init__(
        self,
        state_dir: str | Path,
        *,
        tenant_id: str = DEFAULT_TENANT_ID,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        subscription_id: str = DEFAULT_SUBSCRIPTION_ID,
        operation_seconds: float = 1.0,
        retry_after: float = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        resource_types: Optional[Iterable[ResourceType]] = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.subscription_id = subscription_id
        self.host = host
        self._port = port
        self._server: Optional[_TLSServer] = None
        self._thread: Optional[threading.Thread] = None
        #: PEM of the test CA, as a ``str`` (requests treats a ``Path`` given as ``verify`` like ``True``!)
        self.ca_path = str(self.state_dir / CA_FILE)
        types = list(resource_types) if resource_types is not None else [RESOURCE_GROUPS]
        self.engine = ArmEngine(
            tenant_id=tenant_id, client_id=client_id, client_secret=client_secret, subscription_id=subscription_id,
            operation_seconds=operation_seconds, retry_after=retry_after, base_url=lambda: self.url,
            resource_types=types,
        )

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> "ArmEmulator":
        if self._server is not None:
            return self
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(organization_name="aiplatform.aks ARM emulator test CA")
        cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
        tmp = f"{self.ca_path}.{os.getpid()}.tmp"
        ca.cert_pem.write_to_path(tmp)
        os.replace(tmp, self.ca_path)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        cert.configure_cert(ctx)
        self._server = _TLSServer((self.host, self._port), ctx, self.engine)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"arm-emulator-{self._port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "ArmEmulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self._port}"

    def describe(self) -> dict[str, Any]:
        """The ``arm.json`` record: url, ca_path, tenant_id, client_id, client_secret, subscription_id, pid."""
        return {
            "url": self.url, "ca_path": self.ca_path, "tenant_id": self.tenant_id,
            "client_id": self.client_id, "client_secret": self.client_secret,
            "subscription_id": self.subscription_id, "pid": os.getpid(),
        }

    # -- state / control (same as the /_emulator/ HTTP API) ---------------------------------------------------

    def register(self, rtype: ResourceType) -> ResourceType:
        return self.engine.register(rtype)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Snapshot of the request log: dicts with method, path, query, status, body, time, kind[, fault]."""
        return self.engine.requests()

    def clear_requests(self) -> int:
        return self.engine.clear_requests()

    def add_fault(self, fault: Fault | dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """Add a fault: ``action`` "status" | "drop" | "fail_operation"; optional ``method``, ``path`` (regex,
        case-insensitive, searched in the URL path), ``status``, ``retry_after``, ``error`` {code, message},
        ``headers``, ``times`` (default 1; None = unlimited)."""
        return self.engine.add_fault(fault, **kwargs)

    def clear_faults(self) -> int:
        return self.engine.clear_faults()

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Read / change ``operation_seconds`` and ``retry_after``."""
        return self.engine.settings(**changes)

    def reset(self) -> None:
        """Forget resources, operations, faults and the request log (tokens and settings stay)."""
        self.engine.reset()

    def resources(self) -> dict[str, Any]:
        """``{"resources": [documents], "operations": [status documents + kind]}``."""
        return self.engine.dump()

    def get_resource(self, resource_id: str) -> Optional[dict[str, Any]]:
        return self.engine.get_resource(resource_id)
