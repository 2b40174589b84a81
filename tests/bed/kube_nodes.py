"""``Node`` objects on the test apiserver for the node pools of emulated AKS clusters.

The test apiserver has no kubelets, so the ARM emulator's AKS types (:mod:`tests.bed.arm_emulator.aks`) write the
Nodes a real cluster would register: when a pool operation succeeds the pool's Nodes are created, deleted (scale
down, pool/cluster delete) or relabelled/retainted to match the pool. All emulated clusters share the one apiserver;
Node names carry a per-cluster hash, so they don't collide.

    nodes = KubeNodes(server.kubeconfig)
    nodes.sync_cluster(cluster_id, cluster_label, [PoolNodes(...), ...])   # reconcile every pool of a cluster
    nodes.delete_cluster(cluster_id, cluster_label)
    nodes.list_nodes(cluster_id)                                           # [Node dicts]

Node objects written here:

* are named ``<name_prefix><6-digit base-36 instance id>`` (AKS: ``aks-<pool>-<8 digits>-vmss00000N``); scale-up
  takes the next unused instance ids, scale-down removes the highest ones (the VMSS default scale-in policy);
* get the pool's labels, ``topology.kubernetes.io/zone`` (``<location>-<zone>``, instance ``i`` in
  ``zones[i % len(zones)]``; ``0`` without zones), ``kubernetes.io/hostname`` and the pool's taints;
* have ``status`` Ready=True with capacity/allocatable and nodeInfo, and no finalizers. The apiserver's
  TaintNodesByCondition admission adds ``node.kubernetes.io/not-ready:NoSchedule`` on create; it is removed right
  away (the node lifecycle controller would do that on a real cluster);
* carry annotations ``aiplatform.aks/arm-resource-id`` (cluster id) and ``aiplatform.aks/pool-labels`` /
  ``aiplatform.aks/pool-taints`` (what the pool set last time, so that labels/taints removed from the pool are
  removed from the Node while labels/taints others added stay, as AKS does).

Pods bound (``spec.nodeName``) to a Node deleted here are deleted too (force, grace 0): the pod garbage collector
of a real control plane does that, the test bed has none. Turn off with ``delete_orphan_pods=False``.

Errors talking to the apiserver never propagate into the emulator: they are logged and kept in ``errors``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import quote

__all__ = ["KubeNodes", "PoolNodes", "KubeNodesError", "instance_suffix", "parse_taint"]

log = logging.getLogger(__name__)

ANNOTATION_CLUSTER = "aiplatform.aks/arm-resource-id"
ANNOTATION_POOL_LABELS = "aiplatform.aks/pool-labels"
ANNOTATION_POOL_TAINTS = "aiplatform.aks/pool-taints"
LABEL_CLUSTER = "kubernetes.azure.com/cluster"
LABEL_POOL = "kubernetes.azure.com/agentpool"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
MAX_ERRORS = 50
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


class KubeNodesError(RuntimeError):
    """A request to the apiserver failed."""


def instance_suffix(index: int) -> str:
    """VMSS instance id as AKS node names spell it: 6 base-36 digits (0 -> ``000000``, 10 -> ``00000a``)."""
    out = ""
    n = index
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            break
    return out.rjust(6, "0")


def _parse_suffix(text: str) -> Optional[int]:
    try:
        return int(text, 36)
    except ValueError:
        return None


def parse_taint(spec: str) -> dict[str, str]:
    """``key=value:Effect`` or ``key:Effect`` (the AKS ``nodeTaints`` syntax) -> a Node taint dict."""
    rest, _sep, effect = spec.rpartition(":")
    if not rest:
        raise ValueError(f"taint {spec!r} lacks ':<effect>'")
    key, has_value, value = rest.partition("=")
    taint = {"key": key, "effect": effect}
    if has_value:
        taint["value"] = value
    return taint


@dataclass
class PoolNodes:
    """What the Nodes of one pool should look like.

    ``labels``: every label the pool's Nodes get except the per-node ones (zone, hostname); ``pool_label_keys``:
    those of ``labels`` that come from the pool's ``nodeLabels`` (removed from Nodes when dropped from the pool).
    ``taints``: the pool's taints (Node taint dicts). ``zones``: zone label values (``eastus2-1`` ...), empty for a
    non-zonal pool. ``name_prefix``: Node names are ``name_prefix + instance_suffix(i)``. ``provider_id_prefix``:
    ``spec.providerID`` is ``provider_id_prefix + str(i)``.
    """

    pool: str
    count: int
    name_prefix: str
    labels: dict[str, str]
    pool_label_keys: list[str] = field(default_factory=list)
    taints: list[dict[str, str]] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    capacity: dict[str, str] = field(default_factory=dict)
    allocatable: dict[str, str] = field(default_factory=dict)
    node_info: dict[str, str] = field(default_factory=dict)
    provider_id_prefix: str = ""
    internal_ip_prefix: str = "10.224.0."


class KubeNodes:
    """Creates/updates/deletes the Nodes of emulated node pools through a kubeconfig (kubernetes Python client).

    The kubeconfig is read lazily (at the first request) and re-read when the file changes, so it may be given
    before the apiserver has written it. ``context`` defaults to the kubeconfig's current context.
    """

    def __init__(self, kubeconfig: str | Path, *, context: Optional[str] = None, delete_orphan_pods: bool = True,
                 request_timeout: float = 10.0) -> None:
        self.kubeconfig = Path(kubeconfig)
        self.context = context
        self.delete_orphan_pods = delete_orphan_pods
        self.request_timeout = request_timeout
        self.errors: list[str] = []
        self._client: Any = None
        self._stamp: Optional[tuple[float, int]] = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"KubeNodes({str(self.kubeconfig)!r})"

    # ------------------------------------------------------------------------------------------- connection

    def _load(self) -> Any:
        try:
            st = self.kubeconfig.stat()
        except FileNotFoundError:
            raise KubeNodesError(f"kubeconfig {self.kubeconfig} does not exist (is the apiserver started?)") from None
        stamp = (st.st_mtime, st.st_size)
        if self._client is None or stamp != self._stamp:
            import kubernetes  # pylint: disable=import-outside-toplevel

            self._client = kubernetes.config.new_client_from_config(config_file=str(self.kubeconfig),
                                                                    context=self.context)
            self._stamp = stamp
        return self._client

    def connection(self) -> dict[str, Optional[str]]:
        """Server URL and credentials from the kubeconfig, for kubeconfigs handed out by the emulator.

        Keys: ``server``, ``ca_data`` (base64 PEM), ``token`` (a bearer token of a user of the kubeconfig, preferring
        the current context's user; None if there is none), ``client_certificate_data``/``client_key_data``
        (base64, of the current context's user, if it uses a client certificate).
        """
        import yaml  # pylint: disable=import-outside-toplevel

        cfg = yaml.safe_load(self.kubeconfig.read_text()) or {}
        ctx_name = self.context or cfg.get("current-context")
        contexts = {c["name"]: c.get("context") or {} for c in cfg.get("contexts") or []}
        clusters = {c["name"]: c.get("cluster") or {} for c in cfg.get("clusters") or []}
        users = {u["name"]: u.get("user") or {} for u in cfg.get("users") or []}
        ctx = contexts.get(ctx_name) or (next(iter(contexts.values())) if contexts else {})
        cluster = clusters.get(ctx.get("cluster")) or (next(iter(clusters.values())) if clusters else {})
        user = users.get(ctx.get("user")) or {}
        ca_data = cluster.get("certificate-authority-data")
        if not ca_data and cluster.get("certificate-authority"):
            ca_data = base64.b64encode(Path(cluster["certificate-authority"]).read_bytes()).decode()
        token = user.get("token") or next((u["token"] for u in users.values() if u.get("token")), None)
        return {
            "server": cluster.get("server"),
            "ca_data": ca_data,
            "token": token,
            "client_certificate_data": user.get("client-certificate-data"),
            "client_key_data": user.get("client-key-data"),
        }

    def _call(self, method: str, path: str, *, body: Any = None, query: Optional[list[tuple[str, str]]] = None,
              content_type: Optional[str] = None, ok: Iterable[int] = (200, 201)) -> tuple[int, Any]:
        client = self._load()
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        elif body is not None:
            headers["Content-Type"] = "application/json"
        method_, url, hdrs, data, post = client.param_serialize(
            method, path, query_params=query or [], header_params=headers, body=body, auth_settings=["BearerToken"])
        resp = client.call_api(method_, url, hdrs, data, post, _request_timeout=self.request_timeout)
        raw = resp.read()
        status = resp.status
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode("utf-8", "replace")
        if status not in tuple(ok):
            raise KubeNodesError(f"{method} {path} -> {status}: {payload}")
        return status, payload

    def _note(self, exc: BaseException, what: str) -> None:
        msg = f"{time.strftime('%H:%M:%S')} {what}: {exc}"
        log.warning("KubeNodes: %s", msg)
        self.errors.append(msg)
        del self.errors[:-MAX_ERRORS]

    # ------------------------------------------------------------------------------------------- queries

    def list_nodes(self, cluster_id: Optional[str] = None, pool: Optional[str] = None) -> list[dict[str, Any]]:
        """Nodes this class manages (all of them, one cluster's, or one pool's), sorted by name."""
        selector = LABEL_CLUSTER if pool is None else f"{LABEL_CLUSTER},{LABEL_POOL}={pool}"
        _status, data = self._call("GET", "/api/v1/nodes", query=[("labelSelector", selector)])
        out = []
        for node in (data or {}).get("items") or []:
            owner = ((node.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_CLUSTER)
            if owner is None:
                continue
            if cluster_id is not None and owner.lower() != cluster_id.lower():
                continue
            out.append(node)
        return sorted(out, key=lambda n: n["metadata"]["name"])

    # ------------------------------------------------------------------------------------------- reconcile

    def sync_cluster(self, cluster_id: str, cluster_label: str, pools: list[PoolNodes]) -> bool:
        """Make the cluster's Nodes match ``pools`` (pools not listed lose their Nodes). False if it failed."""
        with self._lock:
            try:
                existing = self.list_nodes(cluster_id)
                wanted = {p.pool: p for p in pools}
                by_pool: dict[str, list[dict[str, Any]]] = {}
                for node in existing:
                    pool = node["metadata"].get("labels", {}).get(LABEL_POOL, "")
                    by_pool.setdefault(pool, []).append(node)
                for pool, nodes in by_pool.items():
                    if pool not in wanted:
                        for node in nodes:
                            self._delete(node)
                for spec in pools:
                    self._sync_pool(cluster_id, cluster_label, spec, by_pool.get(spec.pool, []))
                return True
            except Exception as exc:  # noqa: BLE001 - never break the emulator over the apiserver
                self._note(exc, f"sync of {cluster_id}")
                return False

    def delete_cluster(self, cluster_id: str) -> bool:
        with self._lock:
            try:
                for node in self.list_nodes(cluster_id):
                    self._delete(node)
                return True
            except Exception as exc:  # noqa: BLE001
                self._note(exc, f"delete of the nodes of {cluster_id}")
                return False

    def delete_all(self) -> bool:
        with self._lock:
            try:
                for node in self.list_nodes():
                    self._delete(node)
                return True
            except Exception as exc:  # noqa: BLE001
                self._note(exc, "delete of all emulator nodes")
                return False

    def _sync_pool(self, cluster_id: str, cluster_label: str, spec: PoolNodes, nodes: list[dict[str, Any]]) -> None:
        indexed: dict[int, dict[str, Any]] = {}
        for node in nodes:
            name = node["metadata"]["name"]
            idx = _parse_suffix(name[len(spec.name_prefix):]) if name.startswith(spec.name_prefix) else None
            if idx is None:  # a node of the same pool name under another naming (e.g. the pool was re-created)
                self._delete(node)
                continue
            indexed[idx] = node
        count = max(0, int(spec.count))
        keep = sorted(indexed)[:count]
        for idx in sorted(indexed)[count:]:
            self._delete(indexed[idx])
        for idx in keep:
            self._update(spec, indexed[idx], idx)
        nxt = (max(indexed) + 1) if indexed else 0
        for idx in range(nxt, nxt + count - len(keep)):
            self._create(cluster_id, cluster_label, spec, idx)

    def _per_node_labels(self, spec: PoolNodes, idx: int, name: str) -> dict[str, str]:
        zone = spec.zones[idx % len(spec.zones)] if spec.zones else "0"
        return {"topology.kubernetes.io/zone": zone, "failure-domain.beta.kubernetes.io/zone": zone,
                "kubernetes.io/hostname": name}

    def _create(self, cluster_id: str, cluster_label: str, spec: PoolNodes, idx: int) -> None:
        name = spec.name_prefix + instance_suffix(idx)
        labels = dict(spec.labels)
        labels.update(self._per_node_labels(spec, idx, name))
        labels[LABEL_CLUSTER] = cluster_label
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        conditions = [
            {"type": t, "status": "False", "reason": r, "message": m, "lastHeartbeatTime": now,
             "lastTransitionTime": now}
            for t, r, m in (("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"))
        ]
        conditions.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                           "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
                           "lastTransitionTime": now})
        ip = f"{spec.internal_ip_prefix}{4 + idx % 250}"
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {
                    ANNOTATION_CLUSTER: cluster_id,
                    ANNOTATION_POOL_LABELS: json.dumps(sorted(spec.pool_label_keys)),
                    ANNOTATION_POOL_TAINTS: json.dumps(_taint_keys(spec.taints)),
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": {"providerID": f"{spec.provider_id_prefix}{idx}", "taints": list(spec.taints)},
            "status": {
                "capacity": dict(spec.capacity),
                "allocatable": dict(spec.allocatable),
                "conditions": conditions,
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": dict(spec.node_info, machineID=_hex(name, 32), systemUUID=_uuid(name),
                                 bootID=_uuid(name + "/boot")),
            },
        }
        _status, created = self._call("POST", "/api/v1/nodes", body=body)
        taints = (created or {}).get("spec", {}).get("taints") or []
        if any(t.get("key") == NOT_READY_TAINT for t in taints):
            self._call("PATCH", f"/api/v1/nodes/{quote(name)}", body={"spec": {"taints": list(spec.taints) or None}},
                       content_type="application/merge-patch+json")

    def _update(self, spec: PoolNodes, node: dict[str, Any], idx: int) -> None:
        meta = node["metadata"]
        name = meta["name"]
        labels = meta.get("labels") or {}
        annotations = meta.get("annotations") or {}
        old_keys = set(_json_list(annotations.get(ANNOTATION_POOL_LABELS)))
        want = dict(spec.labels)
        want.update(self._per_node_labels(spec, idx, name))
        patch_labels: dict[str, Optional[str]] = {k: v for k, v in want.items() if labels.get(k) != v}
        for key in old_keys - set(spec.pool_label_keys):
            if key in labels and key not in want:
                patch_labels[key] = None
        old_taints = {tuple(t) for t in _json_list(annotations.get(ANNOTATION_POOL_TAINTS))}
        current = (node.get("spec") or {}).get("taints") or []
        kept = [t for t in current if (t.get("key"), t.get("effect")) not in old_taints and
                t.get("key") != NOT_READY_TAINT]
        new_keys = {(t["key"], t["effect"]) for t in spec.taints}
        kept = [t for t in kept if (t.get("key"), t.get("effect")) not in new_keys]
        taints = kept + list(spec.taints)
        patch: dict[str, Any] = {}
        if patch_labels:
            patch.setdefault("metadata", {})["labels"] = patch_labels
        new_label_ann = json.dumps(sorted(spec.pool_label_keys))
        new_taint_ann = json.dumps(_taint_keys(spec.taints))
        if annotations.get(ANNOTATION_POOL_LABELS) != new_label_ann or \
                annotations.get(ANNOTATION_POOL_TAINTS) != new_taint_ann:
            patch.setdefault("metadata", {})["annotations"] = {ANNOTATION_POOL_LABELS: new_label_ann,
                                                               ANNOTATION_POOL_TAINTS: new_taint_ann}
        if _taint_list_key(taints) != _taint_list_key(current):
            patch["spec"] = {"taints": taints or None}
        if patch:
            self._call("PATCH", f"/api/v1/nodes/{quote(name)}", body=patch,
                       content_type="application/merge-patch+json")

    def _delete(self, node: dict[str, Any]) -> None:
        name = node["metadata"]["name"]
        if node["metadata"].get("finalizers"):
            self._call("PATCH", f"/api/v1/nodes/{quote(name)}", body={"metadata": {"finalizers": None}},
                       content_type="application/merge-patch+json", ok=(200, 404))
        self._call("DELETE", f"/api/v1/nodes/{quote(name)}", body={"gracePeriodSeconds": 0},
                   ok=(200, 202, 404))
        if self.delete_orphan_pods:
            _status, pods = self._call("GET", "/api/v1/pods", query=[("fieldSelector", f"spec.nodeName={name}")])
            for pod in (pods or {}).get("items") or []:
                pmeta = pod["metadata"]
                path = f"/api/v1/namespaces/{quote(pmeta['namespace'])}/pods/{quote(pmeta['name'])}"
                if pmeta.get("finalizers"):
                    self._call("PATCH", path, body={"metadata": {"finalizers": None}},
                               content_type="application/merge-patch+json", ok=(200, 404))
                self._call("DELETE", path, body={"gracePeriodSeconds": 0}, ok=(200, 202, 404))


def _taint_keys(taints: list[dict[str, str]]) -> list[list[str]]:
    return sorted([t["key"], t["effect"]] for t in taints)


def _taint_list_key(taints: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((t.get("key") or "", t.get("value") or "", t.get("effect") or "") for t in taints)


def _json_list(text: Optional[str]) -> list[Any]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _uuid(seed: str) -> str:
    h = _hex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
