"""A real kube-apiserver + etcd on 127.0.0.1 for tests (envtest-style: no scheduler, controller-manager or kubelet).

Binaries come from ``KUBEBUILDER_ASSETS`` (a directory with ``etcd``, ``kube-apiserver`` and ``kubectl``) or, when
that is unset, from ``build-kube-assets.sh`` (builds v1.20.2 from Debian's archive once, then answers from its cache).
The flags, the PKI and what the 1.20 server cannot judge are set out below, where they are made (README.md, "The test bed").

In-process use (pytest)::

    with KubeApiServer(tmp_path) as server:
        client = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))

    # conftest.py
    @pytest.fixture(scope="session")
    def kube_apiserver(tmp_path_factory):
        yield from kube_apiserver_session(tmp_path_factory)

Processes run in their own session/process group. In-process (``detached=False``) they also get a parent-death
signal (Linux ``PR_SET_PDEATHSIG``) and an ``atexit`` hook, so they don't outlive a crashed or killed test run.
With ``detached=True`` (the ``python -m tests.bed start`` CLI) they survive the Python process; ``describe()`` returns
a JSON-able record and ``KubeApiServer.from_description(record).stop()`` stops them from a later process.
Processes are only ever signalled by recorded PID, after checking the PID still names the same process (start time
from /proc), never by name.
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import datetime
import fcntl
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "ASSET_NAMES",
    "KubeApiServer",
    "KubeApiServerError",
    "ProcessRecord",
    "find_assets",
    "kube_apiserver_session",
    "process_alive",
    "terminate_processes",
]

ASSET_NAMES = ("etcd", "kube-apiserver", "kubectl")
BUILD_SCRIPT = Path(__file__).resolve().with_name("build-kube-assets.sh")
LOOPBACK = "127.0.0.1"
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"  # a config value only; nothing is routed there
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVING_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
CONTEXT = "test-bed"
TOKEN_CONTEXT = "test-bed-token"
READY_TIMEOUT = 60.0
STOP_GRACE = 5.0
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class KubeApiServerError(RuntimeError):
    """The assets are missing, or etcd/kube-apiserver failed to start."""


# --------------------------------------------------------------------------------------------------- assets

_assets_cache: Path | None = None


def _check_assets(path: Path, origin: str) -> Path:
    missing = [n for n in ASSET_NAMES if not os.access(path / n, os.X_OK)]
    if missing:
        raise KubeApiServerError(
            f"{origin}={path} lacks executable {', '.join(missing)} (needs {', '.join(ASSET_NAMES)})")
    return path


def find_assets() -> Path:
    """Directory holding etcd, kube-apiserver and kubectl.

    ``KUBEBUILDER_ASSETS`` if set, else the output of build-kube-assets.sh (returns at once when cached; a cold build
    takes about 5 minutes and is serialised between processes by a lock file next to the cache).
    """
    global _assets_cache
    env = os.environ.get("KUBEBUILDER_ASSETS")
    if env:
        return _check_assets(Path(env).expanduser().resolve(), "KUBEBUILDER_ASSETS")
    if _assets_cache is not None:
        return _assets_cache
    xdg_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cache_root = Path(os.environ.get("AIPLATFORM_CACHE") or xdg_cache / "aiplatform-aks")  # as the script
    cache_root.mkdir(parents=True, exist_ok=True)
    with open(cache_root / ".kube-assets.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent cold build would share $OUT.tmp
        proc = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-30:])
        raise KubeApiServerError(f"{BUILD_SCRIPT} failed (exit {proc.returncode}):\n{tail}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise KubeApiServerError(f"{BUILD_SCRIPT} printed no directory")
    _assets_cache = _check_assets(Path(lines[-1]), "build-kube-assets.sh output")
    return _assets_cache


# --------------------------------------------------------------------------------------------------- processes


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) of a PID, or None if there is no such process."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = data[data.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])  # field 3 (state) and field 22 (starttime)


class ProcessRecord:
    """A started process, identified by PID plus start time (so a reused PID is never signalled)."""

    def __init__(self, name: str, pid: int, start_time: int | None = None, log: str | None = None,
                 popen: subprocess.Popen | None = None):
        self.name, self.pid, self.start_time, self.log, self.popen = name, pid, start_time, log, popen
        if self.start_time is None:
            stat = _proc_stat(pid)
            self.start_time = stat[1] if stat else None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ProcessRecord":
        return cls(d["name"], int(d["pid"]), d.get("start_time"), d.get("log"))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "pid": self.pid, "start_time": self.start_time, "log": self.log}

    def __repr__(self) -> str:
        return f"ProcessRecord({self.name!r}, pid={self.pid})"


def process_alive(rec: ProcessRecord) -> bool:
    """True while the recorded process (same PID *and* start time) runs; zombies count as gone."""
    if rec.popen is not None:
        return rec.popen.poll() is None
    if not Path("/proc").is_dir():  # non-Linux fallback: PID only
        try:
            os.kill(rec.pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    stat = _proc_stat(rec.pid)
    if stat is None:
        return False
    state, start = stat
    if rec.start_time is not None and start != rec.start_time:
        return False
    return state not in ("Z", "X")


def _signal(rec: ProcessRecord, sig: int) -> None:
    if not process_alive(rec):
        return
    try:
        # Our processes lead their own process group: signal the group so helpers they spawned go too.
        if os.getpgid(rec.pid) == rec.pid:
            os.killpg(rec.pid, sig)
        else:
            os.kill(rec.pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(recs: list[ProcessRecord], timeout: float) -> list[ProcessRecord]:
    deadline = time.monotonic() + timeout
    while True:
        alive = [r for r in recs if process_alive(r)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def terminate_processes(recs: list[ProcessRecord], grace: float = STOP_GRACE) -> None:
    """SIGTERM each recorded process (in order), SIGKILL it after ``grace`` seconds. Idempotent."""
    for rec in recs:
        _signal(rec, signal.SIGTERM)
        for left in _wait_gone([rec], grace):
            _signal(left, signal.SIGKILL)
            _wait_gone([left], 5.0)
        if rec.popen is not None:
            try:
                rec.popen.wait(timeout=1)  # reap
            except subprocess.TimeoutExpired:
                pass


# Parent-death signal: if the Python process dies (even by SIGKILL) the kernel sends SIGTERM to the child.
_PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _prctl = _libc.prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


def _child_setup_die_with_parent(parent_pid: int):
    def setup() -> None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return setup


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    socks = []
    try:
        for _attempt in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return f"(no {path.name})"
    return "\n".join(text[-lines:])


# --------------------------------------------------------------------------------------------------- PKI


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                          serialization.NoEncryption())
    )
    path.chmod(0o600)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    return x509.Name(attrs + [x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: x509.Name, key, issuer: x509.Name, issuer_key, *, ca: bool = False, eku=None, sans=None,
          issuer_cert: x509.Certificate | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        b = b.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False), critical=True)
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def generate_pki(pki: Path, token: str) -> dict[str, Path]:
    """CA, serving cert, admin client cert (O=system:masters), SA key pair and static token file in ``pki``."""
    pki.mkdir(parents=True, exist_ok=True)
    paths = {n: pki / f for n, f in {
        "ca_cert": "ca.crt", "ca_key": "ca.key", "serving_cert": "apiserver.crt", "serving_key": "apiserver.key",
        "admin_cert": "admin.crt", "admin_key": "admin.key", "sa_key": "sa.key", "sa_pub": "sa.pub",
        "token_file": "tokens.csv"}.items()}

    ca_key = _key()
    ca_name = _name("test-bed-ca")
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    paths["ca_cert"].write_bytes(_pem(ca))
    _write_key(paths["ca_key"], ca_key)

    srv_key = _key()
    sans = [x509.IPAddress(ipaddress.ip_address(LOOPBACK))] + [x509.DNSName(n) for n in SERVING_DNS_NAMES]
    srv = _cert(_name("kube-apiserver"), srv_key, ca_name, ca_key, eku=[ExtendedKeyUsageOID.SERVER_AUTH], sans=sans)
    paths["serving_cert"].write_bytes(_pem(srv))
    _write_key(paths["serving_key"], srv_key)

    adm_key = _key()
    adm = _cert(_name("admin", "system:masters"), adm_key, ca_name, ca_key, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    paths["admin_cert"].write_bytes(_pem(adm))
    _write_key(paths["admin_key"], adm_key)

    sa_key = _key()
    _write_key(paths["sa_key"], sa_key)
    paths["sa_pub"].write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    paths["token_file"].write_text(f'{token},admin,admin-uid,"system:masters"\n')
    paths["token_file"].chmod(0o600)
    return paths


# --------------------------------------------------------------------------------------------------- server

_running: set["KubeApiServer"] = set()
_running_lock = threading.Lock()


@atexit.register
def _stop_all_at_exit() -> None:
    with _running_lock:
        servers = list(_running)
    for s in servers:
        try:
            s.stop()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass


# Audit only what changes something, at the Metadata level (no request bodies: Secrets stay out of the log).
AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
"""


class KubeApiServer:
    """etcd + kube-apiserver on random loopback ports, with PKI and a kubeconfig in ``workdir``.

    Attributes (after ``start()``): ``url``, ``kubeconfig`` (Path), ``token`` (admin bearer token, group
    system:masters), ``ca_path`` (Path), ``client_cert_path``/``client_key_path`` (admin, system:masters),
    ``etcd_url``, ``workdir``, ``data_dir`` (etcd data, removed by ``stop()``), ``processes``.

    The kubeconfig's current context ``test-bed`` uses the client certificate; context ``test-bed-token`` uses the
    bearer token. Logs: ``workdir/etcd.log``, ``workdir/kube-apiserver.log``, and ``workdir/audit.log``: the
    apiserver's audit log of every write request (``writes(since)`` reads it).
    """

    def __init__(self, workdir: Path | str, *, assets: Path | str | None = None, detached: bool = False,
                 ready_timeout: float = READY_TIMEOUT, extra_apiserver_args: list[str] | None = None,
                 token_webhook: dict[str, str] | None = None):
        self.workdir = Path(workdir).resolve()
        # {"url": ..., "ca_path": ...[, "version": "v1beta1"|"v1", "cache_ttl": "10s"]}: bearer tokens that are not
        # in the static token file are checked by this TokenReview webhook (the ARM emulator's
        # /_emulator/tokenreview; its server must be listening before requests with such tokens arrive)
        self.token_webhook = dict(token_webhook) if token_webhook else None
        self.token_webhook_config = self.workdir / "token-webhook.kubeconfig"
        self.assets = Path(assets).resolve() if assets else None
        self.detached = detached
        self.ready_timeout = ready_timeout
        self.extra_apiserver_args = list(extra_apiserver_args or [])
        self.pki_dir = self.workdir / "pki"
        self.data_dir = self.workdir / "etcd-data"
        self.kubeconfig = self.workdir / "kubeconfig"
        self.etcd_log = self.workdir / "etcd.log"
        self.apiserver_log = self.workdir / "kube-apiserver.log"
        self.audit_log = self.workdir / "audit.log"
        self.audit_policy = self.workdir / "audit-policy.yaml"
        self.ca_path = self.pki_dir / "ca.crt"
        self.client_cert_path = self.pki_dir / "admin.crt"
        self.client_key_path = self.pki_dir / "admin.key"
        self.token: str | None = None
        self.url: str | None = None
        self.etcd_url: str | None = None
        self.ports: dict[str, int] = {}
        self.processes: list[ProcessRecord] = []
        self.startup_seconds: dict[str, float] = {}

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> "KubeApiServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "KubeApiServer":
        if self.processes and any(process_alive(p) for p in self.processes):
            raise KubeApiServerError(f"already running ({self.processes})")
        self.processes = []
        t0 = time.monotonic()
        assets = self.assets or find_assets()
        _check_assets(assets, "assets")
        self.workdir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.token = secrets.token_hex(24)
        generate_pki(self.pki_dir, self.token)
        self.startup_seconds["pki"] = time.monotonic() - t0

        etcd_client, etcd_peer, secure = _free_ports(3)
        self.ports = {"etcd_client": etcd_client, "etcd_peer": etcd_peer, "apiserver": secure}
        self.etcd_url = f"http://{LOOPBACK}:{etcd_client}"
        self.url = f"https://{LOOPBACK}:{secure}"
        self._write_kubeconfig()
        self._write_token_webhook_config()
        self.audit_policy.write_text(AUDIT_POLICY)
        self.audit_log.unlink(missing_ok=True)
        if not self.detached:
            with _running_lock:
                _running.add(self)
        try:
            t1 = time.monotonic()
            deadline = t1 + self.ready_timeout
            self._spawn("etcd", [str(assets / "etcd"), *self._etcd_args()], self.etcd_log)
            self._wait_ready("etcd", self._etcd_ready, deadline)
            t2 = time.monotonic()
            self.startup_seconds["etcd"] = t2 - t1
            self._spawn("kube-apiserver", [str(assets / "kube-apiserver"), *self._apiserver_args()], self.apiserver_log)
            self._wait_ready("kube-apiserver", self._apiserver_ready, deadline)
            self.startup_seconds["kube-apiserver"] = time.monotonic() - t2
            self.startup_seconds["total"] = time.monotonic() - t0
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """TERM kube-apiserver then etcd (recorded PIDs), KILL after 5 s, remove the etcd data dir. Idempotent."""
        with _running_lock:
            _running.discard(self)
        terminate_processes(list(reversed(self.processes)))
        if not any(process_alive(p) for p in self.processes):
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def alive(self) -> dict[str, bool]:
        return {p.name: process_alive(p) for p in self.processes}

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    # ---------------------------------------------------------------- records for a later process

    def describe(self) -> dict[str, Any]:
        """JSON-able record; ``from_description()`` turns it back into a stoppable server."""
        return {
            "url": self.url,
            "kubeconfig": str(self.kubeconfig),
            "context": CONTEXT,
            "token_context": TOKEN_CONTEXT,
            "token": self.token,
            "ca_path": str(self.ca_path),
            "client_cert_path": str(self.client_cert_path),
            "client_key_path": str(self.client_key_path),
            "etcd_url": self.etcd_url,
            "ports": self.ports,
            "workdir": str(self.workdir),
            "data_dir": str(self.data_dir),
            "logs": {"etcd": str(self.etcd_log), "kube-apiserver": str(self.apiserver_log)},
            "processes": [p.to_dict() for p in self.processes],
            "token_webhook": self.token_webhook,
        }

    @classmethod
    def from_description(cls, d: dict[str, Any]) -> "KubeApiServer":
        s = cls(d["workdir"], detached=True)
        s.url, s.etcd_url, s.token = d.get("url"), d.get("etcd_url"), d.get("token")
        s.ports = d.get("ports") or {}
        s.processes = [ProcessRecord.from_dict(p) for p in d.get("processes", [])]
        return s

    # ---------------------------------------------------------------- helpers

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        """GET ``path`` on the apiserver with the CA and the admin token (no proxy). Returns (status, body)."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=self.ssl_context()))
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with opener.open(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def _etcd_args(self) -> list[str]:
        client, peer = f"http://{LOOPBACK}:{self.ports['etcd_client']}", f"http://{LOOPBACK}:{self.ports['etcd_peer']}"
        return [
            "--name=t", f"--data-dir={self.data_dir}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=t={peer}", "--initial-cluster-state=new", "--unsafe-no-fsync",
            "--quota-backend-bytes=2147483648", "--logger=zap", "--log-outputs=stderr",
        ]

    def _apiserver_args(self) -> list[str]:
        p = self.pki_dir
        return [
            f"--etcd-servers={self.etcd_url}",
            f"--bind-address={LOOPBACK}", f"--advertise-address={LOOPBACK}",
            f"--secure-port={self.ports['apiserver']}", "--insecure-port=0",
            f"--cert-dir={p}", f"--tls-cert-file={p / 'apiserver.crt'}",
            f"--tls-private-key-file={p / 'apiserver.key'}",
            f"--client-ca-file={p / 'ca.crt'}", f"--token-auth-file={p / 'tokens.csv'}",
            f"--service-account-issuer={SA_ISSUER}",
            f"--service-account-key-file={p / 'sa.pub'}", f"--service-account-signing-key-file={p / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--authorization-mode=RBAC", "--allow-privileged=true",
            "--disable-admission-plugins=ServiceAccount", "--endpoint-reconciler-type=none", "--profiling=false",
            # alpha in 1.20 (on from 1.21, GA in 1.23): without it the server drops ttlSecondsAfterFinished from Jobs
            "--feature-gates=TTLAfterFinished=true",
            f"--audit-policy-file={self.audit_policy}", f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json", "--audit-log-mode=blocking",
            *self._token_webhook_args(),
            *self.extra_apiserver_args,
        ]

    def audit_mark(self) -> int:
        """Where the audit log ends now: pass it to ``writes()`` to see the writes made after this point."""
        return self.audit_log.stat().st_size if self.audit_log.exists() else 0

    def writes(self, since: int = 0) -> list[dict[str, Any]]:
        """Write requests the apiserver carried out after ``since`` (an ``audit_mark()``): verb, URI, user agent and
        status of each. Dry runs and refused requests (status 400 and up) wrote nothing and are left out."""
        if not self.audit_log.exists():
            return []
        with self.audit_log.open("rb") as handle:
            handle.seek(since)
            lines = handle.read().decode("utf-8", "replace").splitlines()
        done = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line still being written
            code = (event.get("responseStatus") or {}).get("code") or 0
            if event.get("stage") != "ResponseComplete" or code >= 400 or "dryRun=" in event.get("requestURI", ""):
                continue
            done.append({"verb": event.get("verb"), "uri": event.get("requestURI"), "user_agent": event.get("userAgent"),
                         "user": (event.get("user") or {}).get("username"), "code": code})
        return done

    def _token_webhook_args(self) -> list[str]:
        if not self.token_webhook:
            return []
        return [
            f"--authentication-token-webhook-config-file={self.token_webhook_config}",
            f"--authentication-token-webhook-version={self.token_webhook.get('version', 'v1beta1')}",
            f"--authentication-token-webhook-cache-ttl={self.token_webhook.get('cache_ttl', '10s')}",
        ]

    def _write_token_webhook_config(self) -> None:
        """kubeconfig-format file the apiserver reads the webhook's URL and CA from (``clusters`` = the webhook)."""
        if not self.token_webhook:
            return
        ca = self.token_webhook.get("ca_path")
        cluster: dict[str, Any] = {"server": self.token_webhook["url"]}
        if ca:
            cluster["certificate-authority-data"] = base64.b64encode(Path(ca).read_bytes()).decode()
        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "token-webhook", "cluster": cluster}],
            "users": [{"name": "kube-apiserver", "user": {}}],
            "contexts": [{"name": "webhook", "context": {"cluster": "token-webhook", "user": "kube-apiserver"}}],
            "current-context": "webhook",
        }
        self.token_webhook_config.write_text(json.dumps(cfg, indent=2))
        self.token_webhook_config.chmod(0o600)

    def _spawn(self, name: str, argv: list[str], log: Path) -> None:
        with open(log, "ab") as out:
            kwargs: dict[str, Any] = {}
            if not self.detached and _prctl is not None:
                kwargs["preexec_fn"] = _child_setup_die_with_parent(os.getpid())
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     cwd=self.workdir, env=_child_env(), start_new_session=True, **kwargs)
        self.processes.append(ProcessRecord(name, popen.pid, log=str(log), popen=popen))

    def _etcd_ready(self) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.etcd_url + "/health", timeout=2) as r:
                return r.status == 200 and json.loads(r.read()).get("health") == "true"
        except (OSError, ValueError):
            return False

    def _apiserver_ready(self) -> bool:
        try:
            status = self.get("/readyz", timeout=2)[0]
        except (OSError, ssl.SSLError):
            return False
        return status == 200

    def _wait_ready(self, name: str, probe, deadline: float) -> None:
        rec = next(p for p in self.processes if p.name == name)
        while True:
            if not process_alive(rec):
                raise KubeApiServerError(f"{name} exited during startup{self._exit_info(rec)}\n{self._log_tails()}")
            if probe():
                return
            if time.monotonic() >= deadline:
                raise KubeApiServerError(
                    f"{name} not ready within {self.ready_timeout:.0f} s ({self.url})\n{self._log_tails()}")
            time.sleep(0.2)

    @staticmethod
    def _exit_info(rec: ProcessRecord) -> str:
        if rec.popen is not None and rec.popen.returncode is not None:
            return f" (exit status {rec.popen.returncode})"
        return ""

    def _log_tails(self) -> str:
        return "\n".join(f"--- tail of {log} ---\n{_tail(log)}" for log in (self.etcd_log, self.apiserver_log))

    def _write_kubeconfig(self) -> None:
        def b64(path):
            return base64.b64encode(Path(path).read_bytes()).decode()

        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": CONTEXT,
                          "cluster": {"server": self.url, "certificate-authority-data": b64(self.ca_path)}}],
            "users": [
                {"name": "test-bed-admin", "user": {"client-certificate-data": b64(self.client_cert_path),
                                                    "client-key-data": b64(self.client_key_path)}},
                {"name": "test-bed-token", "user": {"token": self.token}},
            ],
            "contexts": [
                {"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "test-bed-admin"}},
                {"name": TOKEN_CONTEXT, "context": {"cluster": CONTEXT, "user": "test-bed-token"}},
            ],
            "current-context": CONTEXT,
            "preferences": {},
        }
        try:
            import yaml

            text = yaml.safe_dump(cfg, sort_keys=False)
        except ImportError:  # JSON is YAML too
            text = json.dumps(cfg, indent=2)
        self.kubeconfig.write_text(text)
        self.kubeconfig.chmod(0o600)

    def __repr__(self) -> str:
        return f"KubeApiServer(url={self.url!r}, workdir={str(self.workdir)!r}, pids={self.pids})"


def kube_apiserver_session(tmp_path_factory, basename: str = "kube-apiserver", **kwargs) -> Iterator[KubeApiServer]:
    """Generator for a pytest fixture: ``yield from kube_apiserver_session(tmp_path_factory)``.

    Starts one server in a fresh ``tmp_path_factory`` directory and stops it on teardown.
    """
    with KubeApiServer(tmp_path_factory.mktemp(basename), **kwargs) as server:
        yield server
