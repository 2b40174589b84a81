"""Tests for the real kube-apiserver harness (tests/bed/kube_apiserver.py) and the bed CLI (python -m tests.bed).

One server for the whole module; the CLI test starts a second one side by side. Needs the assets
(KUBEBUILDER_ASSETS or the cached build of tests/bed/build-kube-assets.sh).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import kubernetes
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError

from tests.bed.kube_apiserver import (
    KubeApiServer,
    KubeApiServerError,
    ProcessRecord,
    find_assets,
    generate_pki,
    kube_apiserver_session,
    process_alive,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from kube_apiserver_session(tmp_path_factory)


@pytest.fixture(scope="module")
def api_client(server):
    client = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    yield client
    client.close()


@pytest.fixture(scope="module")
def namespace(api_client):
    name = f"bed-{uuid.uuid4().hex[:8]}"
    core = kubernetes.client.CoreV1Api(api_client)
    core.create_namespace(kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=name)))
    return name


def _pid_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


# ------------------------------------------------------------------------------------------ without a server


def test_pki(tmp_path):
    paths = generate_pki(tmp_path, "tok")
    srv = x509.load_pem_x509_certificate(paths["serving_cert"].read_bytes())
    san = srv.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert set(san.get_values_for_type(x509.DNSName)) == {
        "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local"}
    eku = x509.ExtendedKeyUsage
    assert list(srv.extensions.get_extension_for_class(eku).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    adm = x509.load_pem_x509_certificate(paths["admin_cert"].read_bytes())
    assert adm.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    assert adm.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "admin"
    assert list(adm.extensions.get_extension_for_class(eku).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    ca = x509.load_pem_x509_certificate(paths["ca_cert"].read_bytes())
    srv.verify_directly_issued_by(ca)
    adm.verify_directly_issued_by(ca)
    assert paths["token_file"].read_text() == 'tok,admin,admin-uid,"system:masters"\n'
    assert oct(paths["sa_key"].stat().st_mode & 0o777) == "0o600"


def test_startup_failure_reports_log_tail(tmp_path):
    fake = tmp_path / "assets"
    fake.mkdir()
    for name in ("etcd", "kube-apiserver", "kubectl"):
        (fake / name).write_text("#!/bin/sh\necho 'fake binary refuses to run' >&2\nexit 3\n")
        (fake / name).chmod(0o755)
    server = KubeApiServer(tmp_path / "work", assets=fake, ready_timeout=10)
    expected = r"(?s)etcd exited during startup \(exit status 3\).*tail of .*etcd.log.*fake binary refuses"
    with pytest.raises(KubeApiServerError, match=expected):
        server.start()
    assert not any(server.alive().values())


def test_find_assets_env(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    with pytest.raises(KubeApiServerError, match="lacks executable etcd, kube-apiserver, kubectl"):
        find_assets()


# ------------------------------------------------------------------------------------------ with the module server


def test_startup(server):
    print(f"startup seconds: {server.startup_seconds}")
    assert server.url.startswith("https://127.0.0.1:")
    assert server.alive() == {"etcd": True, "kube-apiserver": True}
    assert server.startup_seconds["total"] < 60
    assert server.get("/readyz") == (200, b"ok")


def test_version(api_client):
    info = kubernetes.client.VersionApi(api_client).get_code()
    assert (info.major, info.minor) == ("1", "20")
    assert info.git_version.startswith("v1.20.")


def test_configmap_200_keys(api_client, namespace):
    core = kubernetes.client.CoreV1Api(api_client)
    data = {f"key-{i:03d}": f"value {i}" for i in range(200)}
    core.create_namespaced_config_map(namespace, kubernetes.client.V1ConfigMap(
        metadata=kubernetes.client.V1ObjectMeta(name="big", labels={"a": "b"}), data=data))
    got = core.read_namespaced_config_map("big", namespace)
    assert got.data == data
    assert got.metadata.labels == {"a": "b"}


def test_server_side_apply_conflict(api_client, namespace):
    cms = DynamicClient(api_client).resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa", "namespace": namespace},
            "data": {"owned": "by-a"}}
    obj = cms.server_side_apply(body=body, namespace=namespace, field_manager="manager-a")
    assert obj.data.owned == "by-a"
    assert [m.manager for m in obj.metadata.managedFields] == ["manager-a"]

    body["data"]["owned"] = "by-b"
    with pytest.raises(ConflictError) as exc:
        cms.server_side_apply(body=body, namespace=namespace, field_manager="manager-b")
    assert exc.value.status == 409
    assert "manager-a" in exc.value.summary()

    obj = cms.server_side_apply(body=body, namespace=namespace, field_manager="manager-b", force_conflicts=True)
    assert obj.data.owned == "by-b"
    assert [m.manager for m in obj.metadata.managedFields] == ["manager-b"]


def test_crd_established_and_custom_object(api_client, namespace):
    group, plural = "bed.example.com", "widgets"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
                }}},
            }],
        },
    }
    ext = kubernetes.client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition(crd)
    deadline = time.monotonic() + 30
    while True:
        conds = ext.read_custom_resource_definition(f"{plural}.{group}").status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conds):
            break
        assert time.monotonic() < deadline, f"CRD not Established: {conds}"
        time.sleep(0.2)

    custom = kubernetes.client.CustomObjectsApi(api_client)
    body = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w1"},
            "spec": {"size": 3, "unknown": "pruned"}}
    created = custom.create_namespaced_custom_object(group, "v1", namespace, plural, body)
    assert created["spec"] == {"size": 3}  # structural schema prunes unknown fields

    dyn = DynamicClient(api_client)
    widgets = dyn.resources.get(api_version=f"{group}/v1", kind="Widget")
    got = widgets.get(name="w1", namespace=namespace)
    assert got.spec.size == 3
    patched = custom.patch_namespaced_custom_object_status(group, "v1", namespace, plural, "w1",
                                                           {"status": {"ready": True}})
    assert patched["status"] == {"ready": True}


def test_audit_log_lists_the_writes_made_after_a_mark(server, api_client, namespace):
    core = kubernetes.client.CoreV1Api(api_client)
    mark = server.audit_mark()
    core.list_namespaced_config_map(namespace)  # a read is not a write
    body = kubernetes.client.V1ConfigMap(metadata=kubernetes.client.V1ObjectMeta(name="audited"), data={"k": "secret-value"})
    core.create_namespaced_config_map(namespace, body, dry_run="All")  # nor is a dry run
    with pytest.raises(kubernetes.client.ApiException):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "Not_Valid"}})  # nor a refused request
    core.create_namespaced_config_map(namespace, body)
    core.delete_namespaced_config_map("audited", namespace)
    writes = server.writes(mark)
    assert [(w["verb"], w["uri"].split("?")[0]) for w in writes] == [
        ("create", f"/api/v1/namespaces/{namespace}/configmaps"),
        ("delete", f"/api/v1/namespaces/{namespace}/configmaps/audited"),
    ]
    assert "secret-value" not in server.audit_log.read_text(), "request bodies are not audited"
    assert server.writes(server.audit_mark()) == []


def test_token_auth(server):
    cfg = kubernetes.client.Configuration()
    cfg.host = server.url
    cfg.ssl_ca_cert = str(server.ca_path)
    cfg.api_key = {"authorization": f"Bearer {server.token}"}
    with kubernetes.client.ApiClient(cfg) as client:
        names = [n.metadata.name for n in kubernetes.client.CoreV1Api(client).list_namespace().items]
    assert "default" in names

    # the kubeconfig's token context works too
    kubeconfig = str(server.kubeconfig)
    with kubernetes.config.new_client_from_config(config_file=kubeconfig, context="test-bed-token") as client:
        assert kubernetes.client.VersionApi(client).get_code().minor == "20"

    cfg.api_key = {"authorization": "Bearer wrong"}
    with kubernetes.client.ApiClient(cfg) as client:
        with pytest.raises(ApiException) as exc:
            kubernetes.client.CoreV1Api(client).list_namespace()
    assert exc.value.status == 401


def test_rbac_enforced(api_client):
    """An impersonated user without bindings is forbidden (RBAC authorizer is on)."""
    api_client.set_default_header("Impersonate-User", "nobody")
    try:
        with pytest.raises(ApiException) as exc:
            kubernetes.client.CoreV1Api(api_client).list_namespace()
    finally:
        api_client.default_headers.pop("Impersonate-User", None)
    assert exc.value.status == 403


# ------------------------------------------------------------------------------------------ CLI


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.bed", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_cli_round_trip(server, tmp_path):
    """start --no-arm / status / stop, side by side with the module server."""
    bed_dir = tmp_path / "bed"
    t0 = time.monotonic()
    started = _cli("start", "--dir", str(bed_dir), "--no-arm")
    assert started.returncode == 0, started.stderr
    print(f"CLI start took {time.monotonic() - t0:.1f} s")
    try:
        bed = json.loads(started.stdout)
        assert bed == json.loads((bed_dir / "bed.json").read_text())
        kube = bed["kube"]
        assert kube["url"] != server.url
        assert bed["arm"] is None
        env_sh = (bed_dir / "env.sh").read_text()
        assert f"export KUBECONFIG={kube['kubeconfig']}\n" in env_sh
        assert f"export K8S_AUTH_KUBECONFIG={kube['kubeconfig']}\n" in env_sh
        assert "AZURE_" not in env_sh

        # the processes outlived the CLI and serve requests
        client = kubernetes.config.new_client_from_config(config_file=kube["kubeconfig"])
        with client:
            assert kubernetes.client.VersionApi(client).get_code().minor == "20"

        status = _cli("status", "--dir", str(bed_dir))
        assert status.returncode == 0, status.stdout + status.stderr
        assert "etcd: alive" in status.stdout and "kube-apiserver: alive" in status.stdout
        assert "/readyz: 200" in status.stdout

        again = _cli("start", "--dir", str(bed_dir), "--no-arm")
        assert again.returncode == 1 and "already running" in again.stderr
    finally:
        stopped = _cli("stop", "--dir", str(bed_dir))
    assert stopped.returncode == 0, stopped.stderr
    for p in kube["processes"]:
        assert _pid_gone(p["pid"]), p
    assert not Path(kube["data_dir"]).exists()

    status = _cli("status", "--dir", str(bed_dir))
    assert status.returncode == 1
    assert "etcd: dead" in status.stdout
    assert _cli("stop", "--dir", str(bed_dir)).returncode == 0  # idempotent
    assert _cli("stop", "--dir", str(tmp_path / "missing")).returncode == 0
    assert server.alive() == {"etcd": True, "kube-apiserver": True}  # the other instance was not touched


FAKE_ARM = """
import json, os, sys, time
state_dir = sys.argv[sys.argv.index("--state-dir") + 1]
info = {"url": "https://127.0.0.1:1", "ca_path": "/x/ca.pem", "tenant_id": "t", "client_id": "c",
        "client_secret": "s e'cret", "subscription_id": "sub", "pid": os.getpid()}
tmp = os.path.join(state_dir, "arm.json.tmp")
with open(tmp, "w") as f:
    json.dump(info, f)
os.replace(tmp, os.path.join(state_dir, "arm.json"))
print("fake arm listening", flush=True)
time.sleep(600)
"""


def test_cli_arm_start_and_env(tmp_path, monkeypatch):
    """The ARM part of start/stop against a stand-in module (the real emulator is tested elsewhere)."""
    from tests.bed import __main__ as cli

    (tmp_path / "fake_arm_emulator.py").write_text(FAKE_ARM)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(cli, "ARM_MODULE", "fake_arm_emulator")
    bed_dir = tmp_path / "bed"
    bed_dir.mkdir()
    arm = cli._start_arm(bed_dir)
    try:
        recs = [ProcessRecord.from_dict(p) for p in arm["processes"]]
        assert [r.name for r in recs] == ["arm-emulator"] and recs[0].pid == arm["pid"]
        assert all(process_alive(r) for r in recs)
    finally:
        cli.terminate_processes(recs)
    assert _pid_gone(arm["pid"])
    assert "fake arm listening" in (bed_dir / "arm.log").read_text()

    env_sh = cli._env_sh({"kube": {"kubeconfig": "/b/kube/kubeconfig"}, "arm": arm})
    assert env_sh.splitlines()[1:] == [
        "export KUBECONFIG=/b/kube/kubeconfig",
        "export K8S_AUTH_KUBECONFIG=/b/kube/kubeconfig",
        "export AZURE_CLIENT_ID=c",
        "export AZURE_SECRET='s e'\"'\"'cret'",
        "export AZURE_TENANT=t",
        "export AZURE_SUBSCRIPTION_ID=sub",
        "export AZURE_ARM_ENDPOINT=https://127.0.0.1:1",
        "export AZURE_AUTHORITY_HOST=https://127.0.0.1:1",
        "export REQUESTS_CA_BUNDLE=/x/ca.pem",
    ]
    out = subprocess.run(["bash", "-c", "source /dev/stdin; echo \"$AZURE_SECRET\""], input=env_sh,
                         capture_output=True, text=True, check=True)
    assert out.stdout == "s e'cret\n"


def test_cli_arm_missing_module_fails_fast(tmp_path, monkeypatch):
    from tests.bed import __main__ as cli

    monkeypatch.setattr(cli, "ARM_MODULE", "no_such_arm_module_xyz")
    assert cli.main(["start", "--dir", str(tmp_path / "bed")]) == 1
    assert not (tmp_path / "bed").exists()


def test_recorded_pid_reuse_is_not_signalled():
    rec = ProcessRecord("me", os.getpid())
    assert process_alive(rec)
    rec.start_time += 1  # same PID, different process
    assert not process_alive(rec)


# ------------------------------------------------------------------------------------------ last: stop


def test_stop_leaves_no_process(server):
    """Runs last in this module (file order): stops the module server; the fixture's own stop is then a no-op."""
    pids = server.pids
    assert len(pids) == 2
    t0 = time.monotonic()
    server.stop()
    print(f"stop took {time.monotonic() - t0:.1f} s")
    assert all(_pid_gone(pid) for pid in pids)
    assert server.alive() == {"etcd": False, "kube-apiserver": False}
    assert not server.data_dir.exists()
    server.stop()  # idempotent
