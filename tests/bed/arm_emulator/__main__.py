"""``python -m tests.bed.arm_emulator serve --state-dir DIR [--port 0] [--kubeconfig PATH]`` (run from the repository
root).

The AKS types (managedClusters, agentPools, kubernetesVersions, credentials, ``/_emulator/tokenreview``), the
identity types (userAssignedIdentities, federatedIdentityCredentials, roleAssignments) and the Azure Monitor types
(accounts, dataCollectionEndpoints/Rules/RuleAssociations, prometheusRuleGroups) are registered unless ``--no-aks``.
With ``--kubeconfig`` the emulator writes the Nodes of emulated node pools to that apiserver and hands out credentials
for it; the file is read when first needed (and re-read when it changes), so it
may name the kubeconfig of an apiserver started after the emulator. Without it, Nodes are skipped until
``POST /_emulator/aks/kubeconfig {"path": ...}``.

Runs the emulator in the foreground until SIGTERM/SIGINT. Once listening it writes ``DIR/arm.json`` (atomically:
temporary file + rename) = {"url", "ca_path", "tenant_id", "client_id", "client_secret", "subscription_id", "pid"}
and prints the same JSON on one stdout line. A stale ``DIR/arm.json`` is removed before starting, and ours is
removed again on a clean exit, so "arm.json exists" means "this server is listening".
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

from .aks import register_aks
from .server import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SUBSCRIPTION_ID,
    DEFAULT_TENANT_ID,
    ArmEmulator,
)

STATE_FILE = "arm.json"


def _write_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def serve(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    state = state_dir / STATE_FILE
    state.unlink(missing_ok=True)
    emu = ArmEmulator(
        state_dir, tenant_id=args.tenant_id, client_id=args.client_id, client_secret=args.client_secret,
        subscription_id=args.subscription_id, operation_seconds=args.operation_seconds,
        retry_after=args.retry_after, host=args.host, port=args.port,
    )
    if not args.no_aks:
        register_aks(emu, args.kubeconfig, cluster_operation_seconds=args.aks_operation_seconds,
                     pool_operation_seconds=args.aks_operation_seconds)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    emu.start()
    try:
        info = emu.describe()
        _write_atomic(state, info)
        print(json.dumps(info), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
        try:
            if json.loads(state.read_text()).get("pid") == os.getpid():
                state.unlink()
        except (OSError, ValueError):
            pass
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bed.arm_emulator", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the emulator in the foreground")
    s.add_argument("--state-dir", required=True, help="directory for arm.json and the CA certificate")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help="0 = a free port")
    s.add_argument("--operation-seconds", type=float, default=1.0, help="duration of async operations")
    s.add_argument("--retry-after", type=float, default=1, help="Retry-After of LRO answers (seconds)")
    s.add_argument("--tenant-id", default=DEFAULT_TENANT_ID)
    s.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    s.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    s.add_argument("--subscription-id", default=DEFAULT_SUBSCRIPTION_ID)
    s.add_argument("--kubeconfig", help="apiserver for the Nodes of emulated AKS node pools (and their credentials)")
    s.add_argument("--no-aks", action="store_true", help="don't register the AKS types")
    s.add_argument("--aks-operation-seconds", type=float, default=None,
                   help="duration of AKS cluster/pool operations (default: --operation-seconds)")
    s.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
