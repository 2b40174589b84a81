"""Test bed CLI: ``python -m tests.bed {start,stop,status} --dir DIR`` (run from the repository root).

start   Start the ARM emulator (with AKS; unless --no-arm), then kube-apiserver + etcd as detached processes that
        outlive this command; write DIR/bed.json and DIR/env.sh; print bed.json. The emulator comes first because
        the apiserver checks Entra tokens for the AKS server app with the emulator's TokenReview webhook
        (/_emulator/tokenreview); the emulator writes the Nodes of emulated AKS node pools to the apiserver
        (DIR/kube/kubeconfig) and hands out credentials for it.
stop    Stop everything recorded in DIR/bed.json (TERM, KILL after 5 s). Idempotent.
status  Print whether each recorded process is alive (and whether the apiserver answers /readyz); exit 1 if not.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from .kube_apiserver import (
    KubeApiServer,
    KubeApiServerError,
    ProcessRecord,
    _child_env,
    _tail,
    process_alive,
    terminate_processes,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
ARM_MODULE = "tests.bed.arm_emulator"
ARM_TIMEOUT = 30.0


def _err(msg: str) -> None:
    print(f"tests.bed: {msg}", file=sys.stderr)


def _load(bed_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((bed_dir / "bed.json").read_text())
    except FileNotFoundError:
        return None


def _records(bed: dict[str, Any]) -> list[ProcessRecord]:
    """All recorded processes, in stop order: ARM first, then kube-apiserver, then etcd."""
    recs = [ProcessRecord.from_dict(p) for p in (bed.get("arm") or {}).get("processes", [])]
    recs += [ProcessRecord.from_dict(p) for p in reversed(bed.get("kube", {}).get("processes", []))]
    return recs


def _runnable(module: str) -> bool:
    try:
        spec = importlib.util.find_spec(module)
        if spec is None:
            return False
        if spec.submodule_search_locations is not None:  # a package needs a __main__
            return importlib.util.find_spec(f"{module}.__main__") is not None
    except ImportError:
        return False
    return True


def _start_arm(bed_dir: Path, kubeconfig: Path | None = None) -> dict[str, Any]:
    if not _runnable(ARM_MODULE):
        raise KubeApiServerError(f"{ARM_MODULE} can't be run with python -m (not there yet?); use --no-arm")
    state, log = bed_dir / "arm.json", bed_dir / "arm.log"
    state.unlink(missing_ok=True)
    env = _child_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    argv = [sys.executable, "-m", ARM_MODULE, "serve", "--state-dir", str(bed_dir)]
    if kubeconfig is not None:
        argv += ["--kubeconfig", str(kubeconfig)]
    with open(log, "ab") as out:
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=env,
            start_new_session=True,
        )
    rec = ProcessRecord("arm-emulator", popen.pid, log=str(log), popen=popen)
    try:
        info = _wait_arm_state(popen, state, log)
    except BaseException:
        terminate_processes([rec])
        raise
    rec.popen = None  # from now on identify it by PID + start time, as a later process will
    procs = [rec]
    if info.get("pid") and int(info["pid"]) != popen.pid:  # it handed serving to another process
        procs.insert(0, ProcessRecord("arm-emulator-server", int(info["pid"]), log=str(log)))
    return {**info, "log": str(log), "state_file": str(state), "processes": [p.to_dict() for p in procs]}


def _wait_arm_state(popen: subprocess.Popen, state: Path, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + ARM_TIMEOUT
    while True:
        if popen.poll() is not None:
            raise KubeApiServerError(f"ARM emulator exited (status {popen.returncode}) before writing {state}\n"
                                     f"--- tail of {log} ---\n{_tail(log)}")
        try:
            info = json.loads(state.read_text())
            if isinstance(info, dict) and info.get("url"):
                return info
        except (FileNotFoundError, ValueError):  # absent or half-written
            pass
        if time.monotonic() >= deadline:
            raise KubeApiServerError(f"ARM emulator wrote no {state} within {ARM_TIMEOUT:.0f} s\n"
                                     f"--- tail of {log} ---\n{_tail(log)}")
        time.sleep(0.1)


def _attach_kubeconfig(arm: dict[str, Any], kubeconfig: Path) -> None:
    """Tell the emulator which apiserver gets the Nodes of emulated AKS pools (it also re-syncs existing pools)."""
    ctx = ssl.create_default_context(cafile=arm["ca_path"])
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
    req = urllib.request.Request(f"{arm['url']}/_emulator/aks/kubeconfig", method="POST",
                                 data=json.dumps({"path": str(kubeconfig)}).encode(),
                                 headers={"Content-Type": "application/json"})
    with opener.open(req, timeout=10) as resp:
        resp.read()


def _env_sh(bed: dict[str, Any]) -> str:
    kube, arm = bed["kube"], bed.get("arm")
    env = {"KUBECONFIG": kube["kubeconfig"], "K8S_AUTH_KUBECONFIG": kube["kubeconfig"]}
    if arm:
        env.update({
            "AZURE_CLIENT_ID": arm["client_id"],
            "AZURE_SECRET": arm["client_secret"],
            "AZURE_TENANT": arm["tenant_id"],
            "AZURE_SUBSCRIPTION_ID": arm["subscription_id"],
            "AZURE_ARM_ENDPOINT": arm["url"],
            "AZURE_AUTHORITY_HOST": arm["url"],
            "REQUESTS_CA_BUNDLE": arm["ca_path"],
        })
    lines = ["# test bed environment: source this file", *(f"export {k}={shlex.quote(str(v))}" for k, v in env.items())]
    return "\n".join(lines) + "\n"


def cmd_start(args: argparse.Namespace) -> int:
    bed_dir = Path(args.dir).resolve()
    old = _load(bed_dir)
    if old and any(process_alive(r) for r in _records(old)):
        _err(f"a bed is already running in {bed_dir}; run 'stop --dir {args.dir}' first")
        return 1
    if not args.no_arm and not _runnable(ARM_MODULE):
        _err(f"{ARM_MODULE} can't be run with python -m (not there yet?); use --no-arm")
        return 1
    bed_dir.mkdir(parents=True, exist_ok=True)
    kube_dir = bed_dir / "kube"
    arm = None
    if not args.no_arm:
        try:
            arm = _start_arm(bed_dir, kube_dir / "kubeconfig")
        except BaseException as e:
            _err(str(e))
            return 1
    webhook = {"url": f"{arm['url']}/_emulator/tokenreview", "ca_path": arm["ca_path"]} if arm else None
    server = KubeApiServer(kube_dir, detached=True, token_webhook=webhook)
    try:
        server.start()
        if arm:
            _attach_kubeconfig(arm, server.kubeconfig)
    except BaseException as e:
        server.stop()
        if arm:
            terminate_processes([ProcessRecord.from_dict(p) for p in arm["processes"]])
        _err(str(e))
        return 1
    bed = {
        "dir": str(bed_dir),
        "env_sh": str(bed_dir / "env.sh"),
        "kube": {**server.describe(), "startup_seconds": {k: round(v, 2) for k, v in server.startup_seconds.items()}},
        "arm": arm,
    }
    (bed_dir / "env.sh").write_text(_env_sh(bed))
    tmp = bed_dir / "bed.json.tmp"
    tmp.write_text(json.dumps(bed, indent=2) + "\n")
    tmp.replace(bed_dir / "bed.json")
    print(json.dumps(bed, indent=2))
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    bed_dir = Path(args.dir).resolve()
    bed = _load(bed_dir)
    if bed is None:
        _err(f"nothing recorded in {bed_dir} (already stopped)")
        return 0
    arm_recs = [ProcessRecord.from_dict(p) for p in (bed.get("arm") or {}).get("processes", [])]
    terminate_processes(arm_recs)
    KubeApiServer.from_description(bed["kube"]).stop()  # TERM/KILL apiserver then etcd; removes the etcd data dir
    for r in _records(bed):
        print(f"{r.name}: stopped (pid {r.pid})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    bed_dir = Path(args.dir).resolve()
    bed = _load(bed_dir)
    if bed is None:
        print(f"no bed recorded in {bed_dir}")
        return 1
    ok = True
    for r in reversed(_records(bed)):
        alive = process_alive(r)
        ok &= alive
        print(f"{r.name}: {'alive' if alive else 'dead'} (pid {r.pid})")
    server = KubeApiServer.from_description(bed["kube"])
    if server.alive().get("kube-apiserver"):
        try:
            status = server.get("/readyz", timeout=3)[0]
        except OSError as e:
            status = f"unreachable ({e})"
        print(f"kube-apiserver /readyz: {status} ({server.url})")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start", help="start the bed in the background")
    p.add_argument("--dir", required=True, help="state directory (bed.json, env.sh, logs)")
    p.add_argument("--no-arm", action="store_true", help="don't start the ARM emulator")
    p.set_defaults(func=cmd_start)
    for name, func, text in (("stop", cmd_stop, "stop the bed"), ("status", cmd_status, "show the bed's processes")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--dir", required=True)
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
