"""Microsoft.ContainerService (AKS) for the ARM emulator: managed clusters, agent pools, Kubernetes versions,
credentials, a TokenReview webhook for Entra tokens and Node objects on the test apiserver.

    emu = ArmEmulator(state_dir, operation_seconds=0.5, retry_after=0.1).start()
    aks = register_aks(emu)                       # or register_aks(emu, KubeNodes(kubeconfig))
    server = KubeApiServer(workdir, token_webhook=aks.token_webhook()).start()
    aks.attach(server.kubeconfig)                 # Nodes are written from now on; credentials point at it

or, in a conftest, ``yield from aks_bed_session(tmp_path_factory)`` (emulator first, then the apiserver with the
webhook, then the nodes; see :class:`AksBed`).

What is emulated (api-version 2026-08-01, bodies validated against the copied AKS Swagger; an invalid body is 400):

* ``managedClusters`` — async PUT (201/200 + Creating/Updating), PATCH (tags), DELETE (202); server-set fields as
  the RP fills them (see ``_fill_cluster``); ``POST .../listClusterAdminCredential`` and
  ``.../listClusterUserCredential``.
* ``managedClusters/{name}/agentPools`` — async PUT/DELETE. A pool is stored once as its own resource; the cluster's
  ``properties.agentPoolProfiles`` is regenerated from the pools after every change, so both views always agree. A
  cluster PUT with ``agentPoolProfiles`` creates/updates the listed pools; pools it does not list are kept (as on
  AKS, where Terraform manages extra pools through the agentPools API while the cluster PUT lists only the default
  pool). Fields omitted from an update keep their stored value (so a GET body sent back minus read-only fields, or a
  partial body, changes nothing).
* ``GET /subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{loc}/kubernetesVersions``.
* ``POST /_emulator/tokenreview`` — a Kubernetes token webhook (authentication.k8s.io v1beta1 or v1, whichever the
  apiserver sends): tokens the emulator issued for the AKS server application scope
  ``6dae42f8-4368-4678-94ff-3960e28e3630/.default`` authenticate as user = the client id with group
  ``system:masters``. **Simplification**: real AKS maps Entra users/groups to Kubernetes RBAC (or Azure RBAC); here
  every such token is cluster-admin, and one apiserver stands for every emulated cluster. Anything else is
  ``authenticated: false`` (the apiserver answers 401). ARM itself refuses those AKS-audience tokens (401
  ``InvalidAuthenticationTokenAudience``), like the real ARM does.
* Node objects: when a cluster or pool operation succeeds, the pools' Nodes are reconciled on the apiserver
  (:mod:`tests.bed.kube_nodes`); deleting a pool, a cluster or its resource group (or ``reset()``) deletes them.
* ``GET /_emulator/aks`` (status: kubeconfig, node errors, token reviews), ``POST /_emulator/aks/kubeconfig``
  ``{"path": ...}`` (attach the apiserver later).

Service-side errors (status, code, where the wording comes from):

=====================================================  ===  ====================================  ==================
condition                                              HTTP code                                  source
=====================================================  ===  ====================================  ==================
unknown Kubernetes version (cluster or pool)           400  AgentPoolK8sVersionNotSupported       real (issue threads)
cluster upgrade skipping a minor / downgrade           400  OperationNotAllowed                   real wording
pool upgrade skipping a minor / downgrade              400  BadRequest                            real wording, code
                                                                                                  unconfirmed
pool version newer than the control plane              400  NodePoolMcVersionIncompatible         real
change of a create-only / not-updatable field          400  PropertyChangeNotAllowed              real (AKS answered
                                                                                                  this for nodeTaints)
no System pool left (PUT or DELETE)                    400  MustDefineAtLeastOneSystemPool        real (create); delete
                                                                                                  unconfirmed
admin credential with disableLocalAccounts             400  BadRequest                            real
operation running on the cluster or one of its pools   409  OperationNotAllowed                   engine wording
anything else below                                    400  InvalidParameter / BadRequest         unconfirmed
=====================================================  ===  ====================================  ==================

(oidcIssuerProfile.enabled true -> false; workload identity or the AI toolchain operator without OIDC; spot pool in
System mode; System pool with count/minCount 0 or a VM size under 2 vCPU / 4 GiB; enableAutoScaling without
min/max, min > max, count outside min..max; enableAutoScaling with nodeProvisioningProfile.mode Auto; MIG profile on a
VM size without MIG-capable GPUs; unknown VM size; duplicate pool names; malformed nodeTaints / nodeLabels; two
nodeTaints with the same key and effect; networkProfile.dnsServiceIP outside serviceCidr; autoScalerProfile values of
the wrong kind; aadProfile group or tenant ids that are not GUIDs; an Istio revision not in ISTIO_REVISIONS.)
Node labels under kubernetes.azure.com/ or outside the allowed kubernetes.io / k8s.io keys: 400 BadRequest, real
wording (see ``_check_reserved_label``). Unknown locations and tags: ``rules.py``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import ipaddress
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Optional, Sequence
from urllib.parse import parse_qsl

from ..kube_nodes import KubeNodes, PoolNodes, parse_taint
from .engine import TOKEN_LIFETIME, ArmEngine, Operation, Record, new_etag
from .identity import register_identity
from .monitor import register_monitor
from .resource_types import SPECS_DIR, ActionContext, ArmError, OperationContext, PutContext, ResourceType, Response

if TYPE_CHECKING:  # pragma: no cover
    from ..kube_apiserver import KubeApiServer
    from .server import ArmEmulator

__all__ = [
    "AKS_API_VERSION",
    "AKS_SERVER_APP_ID",
    "AKS_SERVER_SCOPE",
    "AKS_SPEC",
    "AksBed",
    "AksService",
    "DEFAULT_KUBERNETES_VERSION",
    "KUBERNETES_VERSIONS",
    "KubernetesVersions",
    "VM_SIZES",
    "VmSize",
    "aks_bed_session",
    "register_aks",
    "start_aks_bed",
]

log = logging.getLogger(__name__)

AKS_API_VERSION = "2026-08-01"
#: The AKS Swagger (managedClusters + agentPools, api-version 2026-08-01) copied with the common types it references.
AKS_SPEC = (
    SPECS_DIR
    / "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-08-01"
    / "managedClusters.json"
)
#: Entra application of the AKS API server ("Azure Kubernetes Service AAD Server"); kubelogin asks for its scope.
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
AKS_SERVER_SCOPE = f"{AKS_SERVER_APP_ID}/.default"
#: Public client kubelogin uses for the device-code login (what AKS puts into exec kubeconfigs).
KUBELOGIN_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"

CLUSTERS_PATH = ("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
                 "/providers/Microsoft.ContainerService/managedClusters/{resourceName}")
POOLS_PATH = CLUSTERS_PATH + "/agentPools/{agentPoolName}"

#: minor -> patch versions offered by the emulated region (``kubernetesVersions`` and version validation).
KUBERNETES_VERSIONS: dict[str, tuple[str, ...]] = {
    "1.32": ("1.32.7", "1.32.9"),
    "1.33": ("1.33.3", "1.33.5"),
    "1.34": ("1.34.1", "1.34.2"),
    "1.35": ("1.35.0", "1.35.1"),
}
DEFAULT_KUBERNETES_VERSION = "1.34"
LTS_MINORS = ("1.33",)

_SUPPORTED_LINK = "https://aka.ms/supported-version-list"
_SKEW_LINK = "https://aka.ms/version-skew-policy"
_BUSY_STATES = ("Creating", "Updating", "Deleting", "Scaling", "Upgrading", "Starting", "Stopping")
_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
SPOT_LABEL = "kubernetes.azure.com/scalesetpriority"
SPOT_TAINT = f"{SPOT_LABEL}=spot:NoSchedule"
#: Node label keys AKS allows in the kubernetes.io / k8s.io namespaces (its BadRequest lists them, Azure/AKS#1937);
#: node-role.kubernetes.io/ since AKS allowed custom node roles (Azure/AKS#4628).
_K8S_LABEL_PREFIXES = ("kubelet.kubernetes.io", "node.kubernetes.io", "node-role.kubernetes.io")
_K8S_LABEL_KEYS = (
    "beta.kubernetes.io/arch", "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    "failure-domain.kubernetes.io/region", "kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/os",
    "failure-domain.kubernetes.io/zone", "kubernetes.io/hostname", "kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
)
#: Istio revisions of the AKS service mesh add-on the emulated region offers (``az aks mesh get-revisions``).
ISTIO_REVISIONS = ("asm-1-26", "asm-1-27", "asm-1-28")
#: The kind of value each cluster autoscaler profile key takes (the API carries them all as strings). "minutes": a whole
#: number of minutes such as 10m (AKS refused 0s and 30s for scale-down-delay-after-add/-failure,
#: MicrosoftDocs/azure-docs#123289; the API describes the other scale-down times and max-node-provision-time alike).
#: tests/unit/bed/test_aks_emulator.py holds the module's table (aks/cluster.py AUTOSCALER_KINDS) to this one.
AUTOSCALER_KINDS: dict[str, Any] = {
    "balance-similar-node-groups": "bool", "daemonset-eviction-for-empty-nodes": "bool",
    "daemonset-eviction-for-occupied-nodes": "bool", "ignore-daemonsets-utilization": "bool",
    "expander": ("least-waste", "most-pods", "priority", "random"), "max-empty-bulk-delete": "int",
    "max-graceful-termination-sec": "int", "max-node-provision-time": "minutes", "max-total-unready-percentage": "percent",
    "new-pod-scale-up-delay": "duration", "ok-total-unready-count": "int", "scan-interval": "duration",
    "scale-down-delay-after-add": "minutes", "scale-down-delay-after-delete": "duration",
    "scale-down-delay-after-failure": "minutes", "scale-down-unneeded-time": "minutes",
    "scale-down-unready-time": "minutes", "scale-down-utilization-threshold": "fraction",
    "skip-nodes-with-local-storage": "bool", "skip-nodes-with-system-pods": "bool",
}
_DURATION = re.compile(r"^[0-9]+(s|m|h)$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# ---------------------------------------------------------------------------------------------------------------
# VM sizes


@dataclass(frozen=True)
class VmSize:
    """What the emulator knows about a VM size: vCPUs, memory, GPUs (count, model, MIG-capable), CPU architecture."""

    vcpus: int
    memory_gib: float
    gpus: int = 0
    gpu_model: str = ""
    mig: bool = False
    arch: str = "amd64"


def _cpu(vcpus: int, mem: float, arch: str = "amd64") -> VmSize:
    return VmSize(vcpus, mem, arch=arch)


def _gpu(vcpus: int, mem: float, gpus: int, model: str, mig: bool = False) -> VmSize:
    return VmSize(vcpus, mem, gpus, model, mig)


#: VM sizes the emulated region offers (case-insensitive). Others are refused like an unavailable size.
VM_SIZES: dict[str, VmSize] = {
    "Standard_B2s": _cpu(2, 4), "Standard_B2ms": _cpu(2, 8), "Standard_B4ms": _cpu(4, 16),
    "Standard_DS1_v2": _cpu(1, 3.5), "Standard_DS2_v2": _cpu(2, 7), "Standard_DS3_v2": _cpu(4, 14),
    "Standard_DS4_v2": _cpu(8, 28),
    "Standard_D2s_v3": _cpu(2, 8), "Standard_D4s_v3": _cpu(4, 16), "Standard_D8s_v3": _cpu(8, 32),
    "Standard_D2s_v5": _cpu(2, 8), "Standard_D4s_v5": _cpu(4, 16), "Standard_D8s_v5": _cpu(8, 32),
    "Standard_D16s_v5": _cpu(16, 64), "Standard_D32s_v5": _cpu(32, 128),
    "Standard_D2ds_v5": _cpu(2, 8), "Standard_D4ds_v5": _cpu(4, 16), "Standard_D8ds_v5": _cpu(8, 32),
    "Standard_D16ds_v5": _cpu(16, 64), "Standard_D32ds_v5": _cpu(32, 128),
    "Standard_D2as_v5": _cpu(2, 8), "Standard_D4as_v5": _cpu(4, 16), "Standard_D8as_v5": _cpu(8, 32),
    "Standard_D2ds_v6": _cpu(2, 8), "Standard_D4ds_v6": _cpu(4, 16), "Standard_D8ds_v6": _cpu(8, 32),
    "Standard_D4ps_v5": _cpu(4, 16, "arm64"), "Standard_D8ps_v5": _cpu(8, 32, "arm64"),
    "Standard_E4s_v5": _cpu(4, 32), "Standard_E8s_v5": _cpu(8, 64), "Standard_E16s_v5": _cpu(16, 128),
    "Standard_F4s_v2": _cpu(4, 8), "Standard_F8s_v2": _cpu(8, 16), "Standard_F16s_v2": _cpu(16, 32),
    # GPU sizes
    "Standard_NC6s_v3": _gpu(6, 112, 1, "V100"), "Standard_NC12s_v3": _gpu(12, 224, 2, "V100"),
    "Standard_NC24s_v3": _gpu(24, 448, 4, "V100"),
    "Standard_NC4as_T4_v3": _gpu(4, 28, 1, "T4"), "Standard_NC8as_T4_v3": _gpu(8, 56, 1, "T4"),
    "Standard_NC16as_T4_v3": _gpu(16, 110, 1, "T4"), "Standard_NC64as_T4_v3": _gpu(64, 440, 4, "T4"),
    "Standard_NV36ads_A10_v5": _gpu(36, 440, 1, "A10"),
    "Standard_NC24ads_A100_v4": _gpu(24, 220, 1, "A100", True),
    "Standard_NC48ads_A100_v4": _gpu(48, 440, 2, "A100", True),
    "Standard_NC96ads_A100_v4": _gpu(96, 880, 4, "A100", True),
    "Standard_ND96asr_v4": _gpu(96, 900, 8, "A100", True),
    "Standard_ND96amsr_A100_v4": _gpu(96, 1900, 8, "A100", True),
    "Standard_NC40ads_H100_v5": _gpu(40, 320, 1, "H100", True),
    "Standard_NC80adis_H100_v5": _gpu(80, 640, 2, "H100", True),
    "Standard_ND96isr_H100_v5": _gpu(96, 1900, 8, "H100", True),
}
#: GPU instances per GPU for each MIG profile (A100/H100 "single" strategy: nvidia.com/gpu counts MIG instances).
MIG_INSTANCES = {"mig1g": 7, "mig2g": 3, "mig3g": 2, "mig4g": 1, "mig7g": 1}


# ---------------------------------------------------------------------------------------------------------------
# Kubernetes versions


def _vtuple(version: str) -> Optional[tuple[int, ...]]:
    if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+(\.\d+)?", version):
        return None
    return tuple(int(p) for p in version.split("."))


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


class KubernetesVersions:
    """The versions the emulated region offers, their default, and AKS's version rules."""

    def __init__(self, table: Optional[Mapping[str, Sequence[str]]] = None,
                 default: str = DEFAULT_KUBERNETES_VERSION, lts: Sequence[str] = LTS_MINORS,
                 preview: Sequence[str] = ()) -> None:
        table = KUBERNETES_VERSIONS if table is None else table
        self.table = {m: sorted(p, key=_vtuple) for m, p in table.items()}  # type: ignore[arg-type]
        for minor, patches in self.table.items():
            if _vtuple(minor) is None or len(_vtuple(minor) or ()) != 2 or not patches:
                raise ValueError(f"bad Kubernetes minor {minor!r} / patches {patches!r}")
            for p in patches:
                if _minor(p) != minor or len(_vtuple(p) or ()) != 3:
                    raise ValueError(f"patch {p!r} does not belong to minor {minor!r}")
        if default not in self.table:
            raise ValueError(f"default {default!r} is not one of {sorted(self.table)}")
        self.default = default
        self.lts = tuple(lts)
        self.preview = tuple(preview)

    @property
    def minors(self) -> list[str]:
        return sorted(self.table, key=_vtuple)  # type: ignore[arg-type]

    def all_patches(self) -> list[str]:
        return [p for m in self.minors for p in self.table[m]]

    def default_full(self) -> str:
        return self.table[self.default][-1]

    def not_supported(self, version: Any) -> ArmError:
        # Wording and code as AKS answers (e.g. dspace-group/simphera-reference-architecture-azure#29,
        # Azure/application-gateway-kubernetes-ingress#696).
        return ArmError(400, "AgentPoolK8sVersionNotSupported",
                        f"Version {version} is not supported in this region. Please use [az aks get-versions] command "
                        "to get the supported version list in this region. For more information, please check "
                        f"{_SUPPORTED_LINK}")

    def resolve(self, version: Any) -> str:
        """``1.34`` -> its newest patch; ``1.34.1`` -> itself; anything not offered -> 400."""
        vt = _vtuple(version)
        if vt is None:
            raise self.not_supported(version)
        if len(vt) == 2:
            if version in self.table:
                return self.table[version][-1]
            raise self.not_supported(version)
        if version in self.table.get(_minor(version), ()):
            return version
        raise self.not_supported(version)

    def upgrades(self, full: str) -> list[str]:
        """Patches reachable from ``full``: newer patches of its minor and every patch of the next minor."""
        vt = _vtuple(full) or (0, 0, 0)
        nxt = f"{vt[0]}.{vt[1] + 1}"
        out = [p for p in self.table.get(_minor(full), ()) if (_vtuple(p) or ()) > vt]
        out += list(self.table.get(nxt, ()))
        return out

    def list_result(self) -> dict[str, Any]:
        values = []
        for minor in self.minors:
            patches = {p: {"upgrades": self.upgrades(p)} for p in self.table[minor]}
            plans = ["KubernetesOfficial", "AKSLongTermSupport"] if minor in self.lts else ["KubernetesOfficial"]
            entry: dict[str, Any] = {"version": minor, "capabilities": {"supportPlan": plans},
                                     "patchVersions": patches}
            if minor == self.default:
                entry["isDefault"] = True
            if minor in self.preview:
                entry["isPreview"] = True
            values.append(entry)
        return {"values": values}


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _h(seed: str, n: int = 8) -> str:
    return hashlib.sha256(seed.lower().encode()).hexdigest()[:n]


def _guid(seed: str) -> str:
    h = _h(seed, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _norm(value: Any) -> Any:
    """Comparison form: strings case-insensitive, lists order-insensitive, nested alike."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return sorted((_norm(v) for v in value), key=lambda x: json.dumps(x, sort_keys=True))
    return value


def _strip_none(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _dig(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _label_value(text: str) -> str:
    """A valid label value from ``text`` (AKS puts the node resource group name into a label)."""
    out = re.sub(r"[^A-Za-z0-9_.-]", "-", text)[:63]
    out = re.sub(r"^[^A-Za-z0-9]+", "", out)
    return re.sub(r"[^A-Za-z0-9]+$", "", out)


def _changed(field_path: str) -> ArmError:
    # AKS answered exactly this form for a pool field it does not let change (pulumi/pulumi-azure-native#959:
    # Code="PropertyChangeNotAllowed" Message="Changing property 'properties.nodeTaints' is not allowed."
    # Target="properties.nodeTaints").
    return ArmError(400, "PropertyChangeNotAllowed", f"Changing property '{field_path}' is not allowed.",
                    target=field_path)


def _bad(message: str, target: Optional[str] = None, code: str = "InvalidParameter") -> ArmError:
    return ArmError(400, code, message, target=target)


def _query_get(query: Mapping[str, str], name: str) -> Optional[str]:
    for k, v in query.items():
        if k.lower() == name:
            return v
    return None


def _is_aks_scope(scope: str) -> bool:
    s = scope.lower()
    return s in (AKS_SERVER_SCOPE, f"api://{AKS_SERVER_SCOPE}", f"{AKS_SERVER_APP_ID}/user.read")


# Pool fields AKS does not let change on an existing pool (create-only, or not updatable in place).
POOL_IMMUTABLE = (
    "osType", "osDiskType", "hostGroupID", "capacityReservationGroupID", "proximityPlacementGroupID",
    "nodePublicIPPrefixID", "scaleSetPriority", "scaleSetEvictionPolicy", "spotMaxPrice", "gpuInstanceProfile",
    "windowsProfile", "vmSize", "availabilityZones", "vnetSubnetID", "podSubnetID", "maxPods", "osDiskSizeGB",
    "kubeletDiskType", "kubeletConfig", "linuxOSConfig", "enableFIPS", "enableEncryptionAtHost", "enableUltraSSD",
    "enableNodePublicIP", "creationData", "artifactStreamingProfile", "type",
)
POOL_IMMUTABLE_NESTED = (("gpuProfile", "driver"), ("gpuProfile", "nvidia", "managementMode"))
_OS_SKU_LINUX_MIGRATABLE = ("ubuntu", "ubuntu2204", "ubuntu2404", "azurelinux", "azurelinux3")
CLUSTER_CREATE_ONLY = ("dnsPrefix", "fqdnSubdomain", "nodeResourceGroup")
_POOL_READ_ONLY = ("provisioningState", "currentOrchestratorVersion", "eTag", "name")


# ---------------------------------------------------------------------------------------------------------------
# the service


class AksService:
    """State and behaviour of the emulated AKS resource provider; returned by :func:`register_aks`.

    Knobs (attributes, change at any time): ``versions`` (:class:`KubernetesVersions`), ``vm_sizes`` (name ->
    :class:`VmSize`), ``clusters.operation_seconds`` / ``pools.operation_seconds`` (duration of each type's async
    operations; None = the emulator-wide ``operation_seconds``), ``nodes`` (:class:`KubeNodes` or None).
    """

    def __init__(self, engine: ArmEngine, nodes: Optional[KubeNodes], versions: KubernetesVersions,
                 vm_sizes: Mapping[str, VmSize], cluster_operation_seconds: Optional[float],
                 pool_operation_seconds: Optional[float]) -> None:
        self.engine = engine
        self.nodes = nodes
        self.versions = versions
        self.vm_sizes: dict[str, VmSize] = dict(vm_sizes)
        #: AKS-audience tokens issued by the emulator: token -> (client id, expiry epoch)
        self.kube_tokens: dict[str, tuple[str, float]] = {}
        #: one entry per TokenReview answered: {"time", "authenticated", "user"} (never the token)
        self.token_reviews: list[dict[str, Any]] = []
        #: the emulator's CA (PEM path): the apiserver's webhook kubeconfig trusts it
        self.ca_path: Optional[str] = None
        self.clusters = ResourceType(
            path=CLUSTERS_PATH, api_versions=(AKS_API_VERSION,), spec=AKS_SPEC, definition="ManagedCluster",
            patch_definition="TagsObject", async_put=True, async_delete=True,
            operation_seconds=cluster_operation_seconds, compute=self._cluster_compute, on_done=self._cluster_done,
            etag_path=("eTag",),
            actions={"listClusterAdminCredential": self._admin_credential,
                     "listClusterUserCredential": self._user_credential},
        )
        self.pools = ResourceType(
            path=POOLS_PATH, api_versions=(AKS_API_VERSION,), spec=AKS_SPEC, definition="AgentPool",
            async_put=True, async_delete=True, operation_seconds=pool_operation_seconds,
            compute=self._pool_compute, on_done=self._pool_done, system_data=False, etag_path=("properties", "eTag"),
        )

    # -- wiring -----------------------------------------------------------------------------------------------

    def attach(self, nodes: KubeNodes | str | Path | None) -> Optional[KubeNodes]:
        """Write Nodes (and hand out credentials) for this apiserver from now on; existing clusters are synced."""
        if nodes is not None and not isinstance(nodes, KubeNodes):
            nodes = KubeNodes(nodes)
        with self.engine.lock:
            self.nodes = nodes
            if nodes is not None and Path(nodes.kubeconfig).exists():
                for rec in list(self.engine.store.values()):
                    if rec.rtype is self.clusters and rec.operation is None:
                        self._sync_nodes(rec)
        return nodes

    def token_webhook(self) -> dict[str, str]:
        """``{"url", "ca_path"}`` for ``KubeApiServer(token_webhook=...)``."""
        base = self.engine.base_url
        if not base:
            raise RuntimeError("the emulator is not started (no URL yet)")
        ca = self.ca_path
        return {"url": f"{base}/_emulator/tokenreview", "ca_path": str(ca) if ca else ""}

    def vm_size(self, name: Any) -> Optional[VmSize]:
        if not isinstance(name, str):
            return None
        low = name.lower()
        return next((v for k, v in self.vm_sizes.items() if k.lower() == low), None)

    def status(self) -> dict[str, Any]:
        with self.engine.lock:
            return {
                "kubeconfig": str(self.nodes.kubeconfig) if self.nodes else None,
                "node_errors": list(self.nodes.errors) if self.nodes else [],
                "token_reviews": len(self.token_reviews),
                "kube_tokens": len(self.kube_tokens),
            }

    # -- store helpers ----------------------------------------------------------------------------------------

    def pool_records(self, cluster_id: str) -> dict[str, Record]:
        """The agent pool records of a cluster, by pool name, in creation order."""
        prefix = cluster_id.lower() + "/agentpools/"
        out = {}
        for key, rec in self.engine.store.items():
            if rec.rtype is self.pools and key.startswith(prefix) and "/" not in key[len(prefix):]:
                out[rec.names["agentPoolName"]] = rec
        return out

    def _cluster_rec(self, pool_key: str) -> Optional[Record]:
        return self.engine.store.get(pool_key.rsplit("/agentpools/", 1)[0])

    def _refresh_profiles(self, cluster_doc: dict[str, Any], cluster_id: str) -> None:
        pools = self.pool_records(cluster_id)
        props = cluster_doc.setdefault("properties", {})
        order = [p.get("name") for p in props.get("agentPoolProfiles") or [] if isinstance(p, dict)]
        names = [n for n in order if n in pools] + [n for n in pools if n not in order]
        props["agentPoolProfiles"] = [dict({"name": n}, **copy.deepcopy(pools[n].doc.get("properties") or {}))
                                      for n in names]

    # -- cluster hooks ----------------------------------------------------------------------------------------

    def _cluster_compute(self, ctx: PutContext) -> None:
        doc, prev = ctx.doc, ctx.previous
        req_props = _strip_none(ctx.request_body.get("properties") or {})
        prev_props = (prev or {}).get("properties") or {}
        props = {k: copy.deepcopy(v) for k, v in req_props.items()}
        if prev is not None:
            for key, value in prev_props.items():
                if key not in props and key not in ("provisioningState", "status"):
                    props[key] = copy.deepcopy(value)
            for key in ("sku", "identity", "tags", "kind", "extendedLocation"):
                if ctx.request_body.get(key) is None and prev.get(key) is not None:
                    doc[key] = copy.deepcopy(prev[key])
            for key in CLUSTER_CREATE_ONLY:
                if key in req_props and prev_props.get(key) is not None and \
                        _norm(req_props[key]) != _norm(prev_props[key]):
                    raise _changed(f"properties.{key}")
            if _dig(prev_props, "oidcIssuerProfile", "enabled") and \
                    _dig(req_props, "oidcIssuerProfile", "enabled") is False:
                raise _bad("The OIDC issuer cannot be disabled once it is enabled "
                           "(properties.oidcIssuerProfile.enabled).", "properties.oidcIssuerProfile.enabled",
                           "BadRequest")
        props["provisioningState"] = doc["properties"].get("provisioningState", "Creating")
        oidc = bool(_dig(props, "oidcIssuerProfile", "enabled"))
        if _dig(props, "securityProfile", "workloadIdentity", "enabled") and not oidc:
            raise _bad("Workload identity requires the OIDC issuer: set properties.oidcIssuerProfile.enabled to true.",
                       "properties.securityProfile.workloadIdentity.enabled", "BadRequest")
        if _dig(props, "aiToolchainOperatorProfile", "enabled") and not oidc:
            raise _bad("The AI toolchain operator requires the OIDC issuer: set properties.oidcIssuerProfile.enabled "
                       "to true.", "properties.aiToolchainOperatorProfile.enabled", "BadRequest")

        _check_cluster_settings(props)

        # Kubernetes version
        target_spec = props.get("kubernetesVersion") or self.versions.default_full()
        target = self.versions.resolve(target_spec)
        props["kubernetesVersion"] = target_spec
        prev_current = prev_props.get("currentKubernetesVersion")
        if prev is not None and prev_current and target != prev_current:
            self._check_cluster_upgrade(prev_current, target)

        names = dict(ctx.names)
        cluster_id = ctx.resource_id
        location = doc.get("location") or "eastus"
        self._fill_cluster(ctx, doc, props, names, location)

        # agent pools
        existing = self.pool_records(cluster_id) if prev is not None else {}
        req_pools = (ctx.request_body.get("properties") or {}).get("agentPoolProfiles")
        if prev is None and not req_pools:
            raise _bad("Must define at least one system pool.", "properties.agentPoolProfiles",
                       "MustDefineAtLeastOneSystemPool")
        planned: dict[str, dict[str, Any]] = {n: copy.deepcopy(r.doc.get("properties") or {})
                                              for n, r in existing.items()}
        changed: dict[str, str] = {}
        seen: set[str] = set()
        cp_changed = prev is not None and target_spec != prev_props.get("kubernetesVersion")
        for i, raw in enumerate(req_pools or []):
            where = f"properties.agentPoolProfiles[{i}]"
            if not isinstance(raw, dict):
                continue
            name = raw.get("name")
            if not isinstance(name, str) or not _POOL_NAME.match(name):
                raise _bad(f"The agent pool name {name!r} is invalid: it must match ^[a-z][a-z0-9]{{0,11}}$.",
                           f"{where}.name")
            if name in seen:
                raise _bad(f"Agent pool name '{name}' is used more than once in agentPoolProfiles.", f"{where}.name")
            seen.add(name)
            req = _strip_none({k: v for k, v in raw.items() if k != "name"})
            prev_pool = existing[name].doc.get("properties") if name in existing else None
            if prev_pool is not None and "orchestratorVersion" not in req and cp_changed and \
                    prev_pool.get("orchestratorVersion") == prev_props.get("kubernetesVersion"):
                req["orchestratorVersion"] = target_spec  # pools that follow the control plane are upgraded with it
            new = self._pool_props(req, prev_pool, props, location, where=where, default_mode=(
                "System" if prev is None else "User"), cp_version=target)
            if prev_pool is None:
                changed[name] = "Creating"
            elif _pool_cmp(new) != _pool_cmp(prev_pool):
                changed[name] = "Updating"
            planned[name] = new
        if not any(str(p.get("mode", "")).lower() == "system" for p in planned.values()):
            raise _bad("Must define at least one system pool.", "properties.agentPoolProfiles",
                       "MustDefineAtLeastOneSystemPool")
        if str(_dig(props, "nodeProvisioningProfile", "mode") or "").lower() == "auto":
            for name, p in planned.items():
                if p.get("enableAutoScaling"):
                    raise _bad(f"Agent pool '{name}': the cluster autoscaler cannot be enabled when node "
                               "auto-provisioning (nodeProvisioningProfile.mode Auto) is on.",
                               "properties.nodeProvisioningProfile.mode", "BadRequest")

        # commit: pool records, then the cluster's profile list
        for name, new in planned.items():
            if name in existing:
                if name in changed:
                    new["provisioningState"] = changed[name]
                    new["eTag"] = new_etag()
                    existing[name].doc["properties"] = new
            else:
                new["provisioningState"] = "Creating"
                new["eTag"] = new_etag()
                pool_names = dict(names, agentPoolName=name)
                pool_id = f"{cluster_id}/agentPools/{name}"
                pool_doc = {"id": pool_id, "name": name, "type": self.pools.type_name, "properties": new}
                self.engine.store[pool_id.lower()] = Record(pool_id, self.pools, pool_names, pool_doc)
        if prev is None:
            self._ensure_node_resource_group(props["nodeResourceGroup"], cluster_id, names, location)
        # order: the pools as the cluster listed them so far, then new ones in the order given
        props["agentPoolProfiles"] = copy.deepcopy(prev_props.get("agentPoolProfiles") or [])
        doc["properties"] = props
        self._refresh_profiles(doc, cluster_id)
        doc["eTag"] = new_etag()

    def _ensure_node_resource_group(self, group: str, cluster_id: str, names: Mapping[str, str],
                                    location: str) -> None:
        """AKS creates the node resource group (``MC_...``, managedBy = the cluster) next to the cluster."""
        rg_type = next((t for t in self.engine.types if t.is_resource_group), None)
        sub = self.engine.subscription_id
        rg_id = f"/subscriptions/{sub}/resourceGroups/{group}"
        if rg_type is None or rg_id.lower() in self.engine.store:
            return
        doc = {"id": rg_id, "name": group, "type": rg_type.type_name, "location": location, "managedBy": cluster_id,
               "tags": {"aks-managed-cluster-name": names["resourceName"],
                        "aks-managed-cluster-rg": names["resourceGroupName"]},
               "properties": {"provisioningState": "Succeeded"}}
        self.engine.store[rg_id.lower()] = Record(rg_id, rg_type, {"subscriptionId": sub, "resourceGroupName": group},
                                                  doc)

    def _drop_node_resource_group(self, cluster: Record) -> None:
        group = (cluster.doc.get("properties") or {}).get("nodeResourceGroup")
        if not group:
            return
        key = f"/subscriptions/{self.engine.subscription_id}/resourcegroups/{group}".lower()
        rec = self.engine.store.get(key)
        if rec is None or str(rec.doc.get("managedBy") or "").lower() != cluster.id.lower():
            return
        for k in [k for k in self.engine.store if k == key or k.startswith(key + "/")]:
            del self.engine.store[k]

    def _check_cluster_upgrade(self, current: str, target: str) -> None:
        cur, tgt = _vtuple(current) or (0, 0, 0), _vtuple(target) or (0, 0, 0)
        if tgt < cur or tgt[:2] > (cur[0], cur[1] + 1):
            # Wording and code as AKS answers (rancher/dashboard#11884).
            avail = " ".join(sorted(self.versions.upgrades(current), key=_vtuple, reverse=True))  # type: ignore
            raise ArmError(400, "OperationNotAllowed",
                           f"Upgrading Kubernetes version {current} to {target} is not allowed. Available upgrades: "
                           f"[{avail}]. Please see https://aka.ms/aks-supported-k8s-ver for version details.",
                           target="properties.kubernetesVersion")

    def _fill_cluster(self, ctx: PutContext, doc: dict[str, Any], props: dict[str, Any], names: dict[str, str],
                      location: str) -> None:
        """Server-set (read-only) fields and the defaults the RP fills, stable across PUTs of the same cluster."""
        engine = self.engine
        cid = ctx.resource_id
        name, rg = names["resourceName"], names["resourceGroupName"]
        if not props.get("dnsPrefix") and not props.get("fqdnSubdomain"):
            prefix = re.sub(r"[^A-Za-z0-9-]", "", f"{name[:10]}-{rg[:16]}")
            props["dnsPrefix"] = f"{prefix}-{engine.subscription_id[:6]}".strip("-")
        host = props.get("dnsPrefix") or props.get("fqdnSubdomain")
        suffix = _h(cid)
        props["powerState"] = copy.deepcopy(_dig(ctx.previous, "properties", "powerState")) or {"code": "Running"}
        props["maxAgentPools"] = 100
        props["currentKubernetesVersion"] = (
            _dig(ctx.previous, "properties", "currentKubernetesVersion")
            or self.versions.resolve(props["kubernetesVersion"]))
        props["fqdn"] = f"{host}-{suffix}.hcp.{location}.azmk8s.io".lower()
        props["azurePortalFQDN"] = f"{host}-{suffix}.portal.hcp.{location}.azmk8s.io".lower()
        if _dig(props, "apiServerAccessProfile", "enablePrivateCluster"):
            props["privateFQDN"] = f"{host}-{_h(cid + '/private')}.{_guid(cid)}.privatelink.{location}.azmk8s.io"
        else:
            props.pop("privateFQDN", None)
        props["resourceUID"] = _h(cid + "/uid", 24)
        props.setdefault("nodeResourceGroup", f"MC_{rg}_{name}_{location}"[:80])
        props.setdefault("enableRBAC", True)
        props.setdefault("supportPlan", "KubernetesOfficial")
        props.setdefault("disableLocalAccounts", False)
        props.setdefault("autoUpgradeProfile", {"nodeOSUpgradeChannel": "NodeImage"})
        oidc = props.setdefault("oidcIssuerProfile", {"enabled": False})
        if oidc.get("enabled"):
            oidc["issuerURL"] = f"https://{location}.oic.prod-aks.azure.com/{engine.tenant_id}/{_guid(cid + '/oidc')}/"
        else:
            oidc.pop("issuerURL", None)
        self._fill_network(props)
        doc.setdefault("sku", {"name": "Base", "tier": "Free"})
        identity = doc.get("identity")
        if identity is None and not _dig(props, "servicePrincipalProfile", "clientId"):
            identity = doc["identity"] = {"type": "SystemAssigned"}
        msi = isinstance(identity, dict) and \
            str(identity.get("type", "")).lower() in ("systemassigned", "userassigned")
        if isinstance(identity, dict):
            kind = str(identity.get("type", "")).lower()
            if kind == "systemassigned":
                identity["principalId"] = _guid(cid + "/principal")
                identity["tenantId"] = engine.tenant_id
            else:
                identity.pop("principalId", None)
                identity.pop("tenantId", None)
            for uai_id, value in (identity.get("userAssignedIdentities") or {}).items():
                if isinstance(value, dict) or value is None:
                    identity["userAssignedIdentities"][uai_id] = {"principalId": _guid(uai_id + "/principal"),
                                                                  "clientId": _guid(uai_id + "/client")}
        if msi:
            props["servicePrincipalProfile"] = {"clientId": "msi"}
            profile = props.setdefault("identityProfile", {})
            kubelet = profile.setdefault("kubeletidentity", {})
            kubelet.setdefault("resourceId", f"/subscriptions/{engine.subscription_id}/resourcegroups/"
                                             f"{props['nodeResourceGroup']}/providers/Microsoft.ManagedIdentity/"
                                             f"userAssignedIdentities/{name}-agentpool")
            kubelet.setdefault("clientId", _guid(kubelet["resourceId"] + "/client"))
            kubelet.setdefault("objectId", _guid(kubelet["resourceId"] + "/object"))

    @staticmethod
    def _fill_network(props: dict[str, Any]) -> None:
        net = props.setdefault("networkProfile", {})
        plugin = net.setdefault("networkPlugin", "azure")
        if str(plugin).lower() == "azure" and not net.get("networkPluginMode"):
            net["networkPluginMode"] = "overlay"
        overlay = str(net.get("networkPluginMode", "")).lower() == "overlay"
        if str(plugin).lower() == "kubenet" or overlay:
            net.setdefault("podCidr", "10.244.0.0/16")
            net.setdefault("podCidrs", [net["podCidr"]])
        net.setdefault("serviceCidr", "10.0.0.0/16")
        net.setdefault("serviceCidrs", [net["serviceCidr"]])
        net.setdefault("dnsServiceIP", "10.0.0.10")
        net.setdefault("outboundType", "loadBalancer")
        net.setdefault("loadBalancerSku", "standard")
        net.setdefault("ipFamilies", ["IPv4"])
        if str(net.get("outboundType")).lower() == "loadbalancer":
            lbp = net.setdefault("loadBalancerProfile", {})
            if not lbp.get("outboundIPs") and not lbp.get("outboundIPPrefixes"):
                lbp.setdefault("managedOutboundIPs", {"count": 1})
            lbp.setdefault("backendPoolType", "NodeIPConfiguration")  # the description's spelling

    def _cluster_done(self, ctx: OperationContext) -> None:
        if ctx.kind == "delete":
            return  # Nodes go with the records (see on_removed)
        props = ctx.doc.setdefault("properties", {})
        props.pop("status", None)
        try:
            props["currentKubernetesVersion"] = self.versions.resolve(props.get("kubernetesVersion"))
        except ArmError:
            pass  # the version was withdrawn meanwhile: keep what runs
        for rec in self.pool_records(ctx.resource_id).values():
            pprops = rec.doc.setdefault("properties", {})
            if pprops.get("provisioningState") in _BUSY_STATES or pprops.get("provisioningState") == "Failed":
                pprops["provisioningState"] = "Succeeded"
                pprops.pop("status", None)
                self._set_current_orchestrator(pprops)
        self._refresh_profiles(ctx.doc, ctx.resource_id)
        rec = self.engine.store.get(ctx.resource_id.lower())
        if rec is not None:
            self._sync_nodes(rec)

    def _set_current_orchestrator(self, pprops: dict[str, Any]) -> None:
        try:
            pprops["currentOrchestratorVersion"] = self.versions.resolve(pprops.get("orchestratorVersion"))
        except ArmError:
            pass

    # -- agent pools --------------------------------------------------------------------------------------------

    def _pool_compute(self, ctx: PutContext) -> None:
        cluster = self.engine.store.get(ctx.resource_id.lower().rsplit("/agentpools/", 1)[0])
        assert cluster is not None  # the engine checked the parent
        cprops = cluster.doc.get("properties") or {}
        location = cluster.doc.get("location") or "eastus"
        req = _strip_none(ctx.request_body.get("properties") or {})
        prev_pool = (ctx.previous or {}).get("properties")
        cp = cprops.get("currentKubernetesVersion") or self.versions.resolve(cprops.get("kubernetesVersion"))
        new = self._pool_props(req, prev_pool, cprops, location, where="properties", default_mode="User",
                               cp_version=cp)
        if str(_dig(cprops, "nodeProvisioningProfile", "mode") or "").lower() == "auto" and \
                new.get("enableAutoScaling"):
            raise _bad("The cluster autoscaler cannot be enabled on an agent pool when node auto-provisioning "
                       "(nodeProvisioningProfile.mode Auto) is on.", "properties.enableAutoScaling", "BadRequest")
        if str(new.get("mode")).lower() != "system":
            others = [r for n, r in self.pool_records(cluster.id).items() if n != ctx.name]
            if not any(str((r.doc.get("properties") or {}).get("mode", "")).lower() == "system" for r in others):
                raise _bad("Must define at least one system pool.", "properties.mode",
                           "MustDefineAtLeastOneSystemPool")
        new["provisioningState"] = ctx.doc["properties"].get("provisioningState", "Creating")
        new["eTag"] = new_etag()
        ctx.doc["properties"] = new
        # the cluster's view: this pool's profile with the new state (the record is stored after this hook)
        profiles = [p for p in cprops.get("agentPoolProfiles") or [] if p.get("name") != ctx.name]
        order = [p.get("name") for p in cprops.get("agentPoolProfiles") or []]
        entry = dict({"name": ctx.name}, **copy.deepcopy(new))
        if ctx.name in order:
            profiles.insert(order.index(ctx.name), entry)
        else:
            profiles.append(entry)
        cprops["agentPoolProfiles"] = profiles

    def _pool_done(self, ctx: OperationContext) -> None:
        if ctx.kind == "delete":
            return
        props = ctx.doc.setdefault("properties", {})
        props.pop("status", None)
        self._set_current_orchestrator(props)
        cluster = self._cluster_rec(ctx.resource_id.lower())
        if cluster is not None:
            self._refresh_profiles(cluster.doc, cluster.id)
            self._sync_nodes(cluster)

    def _pool_props(self, req: dict[str, Any], prev: Optional[dict[str, Any]], cprops: Mapping[str, Any],
                    location: str, *, where: str, default_mode: str, cp_version: str) -> dict[str, Any]:
        """Validate one pool's requested properties against the stored ones and fill the service defaults."""
        req = {k: v for k, v in req.items() if k not in _POOL_READ_ONLY}
        if prev is not None:
            for key in POOL_IMMUTABLE:
                if key in req and _norm(req[key]) != _norm(prev.get(key)):
                    raise _changed(f"{where}.{key}")
            for path in POOL_IMMUTABLE_NESTED:
                new_v, old_v = _dig(req, *path), _dig(prev, *path)
                if new_v is not None and _norm(new_v) != _norm(old_v):
                    raise _changed(f"{where}.{'.'.join(path)}")
            if "osSKU" in req and _norm(req["osSKU"]) != _norm(prev.get("osSKU")):
                if not (_norm(req["osSKU"]) in _OS_SKU_LINUX_MIGRATABLE and
                        _norm(prev.get("osSKU")) in _OS_SKU_LINUX_MIGRATABLE):
                    raise _changed(f"{where}.osSKU")
        props = copy.deepcopy({k: v for k, v in (prev or {}).items() if k not in _POOL_READ_ONLY})
        props.update(copy.deepcopy(req))
        if prev is not None and "enableAutoScaling" in req and not req["enableAutoScaling"]:
            for key in ("minCount", "maxCount"):
                if key not in req:
                    props.pop(key, None)

        props.setdefault("type", "VirtualMachineScaleSets")
        props.setdefault("osType", "Linux")
        linux = str(props["osType"]).lower() == "linux"
        props.setdefault("mode", default_mode)
        mode = str(props["mode"]).lower()
        props.setdefault("vmSize", "Standard_DS2_v2")
        vm = self.vm_size(props["vmSize"])
        if vm is None:
            raise _bad(f"The VM size of {props['vmSize']} is not supported in location '{location}' "
                       "(the ARM emulator does not know it; see VM_SIZES).", f"{where}.vmSize")
        props.setdefault("osSKU", "Ubuntu" if linux else "Windows2022")
        props.setdefault("osDiskSizeGB", 128)
        props.setdefault("osDiskType", "Managed")
        props.setdefault("kubeletDiskType", "OS")
        props.setdefault("workloadRuntime", "OCIContainer")
        props.setdefault("maxPods", self._default_max_pods(cprops))
        props.setdefault("scaleDownMode", "Delete")
        props.setdefault("enableAutoScaling", False)
        props.setdefault("enableNodePublicIP", False)
        props.setdefault("enableEncryptionAtHost", False)
        props.setdefault("enableUltraSSD", False)
        props.setdefault("enableFIPS", False)
        props.setdefault("scaleSetPriority", "Regular")
        props.setdefault("powerState", {"code": "Running"})
        spot = str(props["scaleSetPriority"]).lower() == "spot"
        if spot:
            props.setdefault("scaleSetEvictionPolicy", "Delete")
            props.setdefault("spotMaxPrice", -1)
            # AKS adds this label and taint to spot pools and returns them in nodeLabels / nodeTaints
            # (kubernetes-sigs/cluster-api-provider-azure#3976, hashicorp/terraform-provider-azurerm#14024).
            labels = props["nodeLabels"] = dict(props.get("nodeLabels") or {})
            labels[SPOT_LABEL] = "spot"
            taints = list(props.get("nodeTaints") or [])
            if SPOT_TAINT not in taints:
                taints.append(SPOT_TAINT)
            props["nodeTaints"] = taints
            if mode == "system":
                raise _bad("A Spot agent pool cannot be a System pool: set mode to User.", f"{where}.mode")
        else:
            props.setdefault("upgradeSettings", {"maxSurge": "10%", "maxUnavailable": "0"})

        # scale
        auto = bool(props["enableAutoScaling"])
        minimum = 1 if mode == "system" else 0
        if auto:
            lo, hi = props.get("minCount"), props.get("maxCount")
            if lo is None or hi is None:
                raise _bad("minCount and maxCount must be set when enableAutoScaling is true.",
                           f"{where}.{'minCount' if lo is None else 'maxCount'}")
            if lo > hi:
                raise _bad(f"minCount ({lo}) must be less than or equal to maxCount ({hi}).", f"{where}.minCount")
            if lo < minimum:
                raise _bad(f"minCount of a System pool must be at least 1 (got {lo}).", f"{where}.minCount")
            if "count" not in props:
                props["count"] = lo
            count = props["count"]
            if not lo <= count <= hi:
                # AKS refuses it even when only the range changed: the request must carry a count inside it
                raise _bad(f"count ({count}) must be between minCount ({lo}) and maxCount ({hi}) when "
                           "enableAutoScaling is true.", f"{where}.count")
        else:
            props.pop("minCount", None)
            props.pop("maxCount", None)
            props.setdefault("count", 1)
        if props["count"] < minimum or props["count"] > 1000:
            raise _bad(f"count ({props['count']}) must be between {minimum} and 1000 for a "
                       f"{'System' if mode == 'system' else 'User'} pool.", f"{where}.count")
        if mode == "system" and (vm.vcpus < 2 or vm.memory_gib < 4):
            # wording as AKS answered (appvia/kore#1119)
            raise _bad(f"System node pool must use VM sku with more than 2 cores and 4GB memory "
                       f"({props['vmSize']}).", f"{where}.vmSize")

        # GPU
        mig = props.get("gpuInstanceProfile")
        if mig is not None:
            if vm.gpus == 0:
                raise _bad(f"gpuInstanceProfile {mig} requires a GPU VM size; {props['vmSize']} has no GPU.",
                           f"{where}.gpuInstanceProfile")
            if not vm.mig:
                raise _bad(f"gpuInstanceProfile {mig} is not supported on VM size {props['vmSize']} "
                           f"({vm.gpu_model} GPUs do not support MIG).", f"{where}.gpuInstanceProfile")

        # labels / taints
        for key, value in (props.get("nodeLabels") or {}).items():
            if not _valid_label_key(key) or not isinstance(value, str) or not _LABEL_VALUE.match(value):
                raise _bad(f"Invalid node label {key}={value!r}.", f"{where}.nodeLabels")
            if spot and key == SPOT_LABEL and value == "spot":
                continue  # AKS's own label, sent back as it returned it
            _check_reserved_label(key, value)
        seen_taints: dict[tuple[str, str], str] = {}
        for spec in props.get("nodeTaints") or []:
            try:
                taint = parse_taint(spec)
            except ValueError:
                taint = None
            if taint is None or taint["effect"] not in _TAINT_EFFECTS or not _valid_label_key(taint["key"]):
                raise _bad(f"Invalid node taint {spec!r}: expected key[=value]:NoSchedule|PreferNoSchedule|NoExecute.",
                           f"{where}.nodeTaints")
            pair = (taint["key"], taint["effect"])
            if pair in seen_taints:
                # AKS's wording not found; Kubernetes refuses such a Node with this message (Node validation)
                raise _bad(f"Invalid node taints {seen_taints[pair]!r} and {spec!r}: taints must be unique by key and "
                           "effect pair.", f"{where}.nodeTaints")
            seen_taints[pair] = spec

        # versions
        props.setdefault("orchestratorVersion", cprops.get("kubernetesVersion") or cp_version)
        target = self.versions.resolve(props["orchestratorVersion"])
        tv, cv = _vtuple(target) or (0, 0, 0), _vtuple(cp_version) or (0, 0, 0)
        if tv > cv:
            # code and wording as AKS answers (rancher/rancher#33426)
            raise ArmError(400, "NodePoolMcVersionIncompatible",
                           f"Node pool version {target} and control plane version {cp_version} are incompatible. "
                           f"Minor version of node pool version {tv[1]} is bigger than control plane version "
                           f"{cv[1]}. For more information, please check {_SKEW_LINK}",
                           target=f"{where}.orchestratorVersion")
        current = (prev or {}).get("currentOrchestratorVersion")
        if current and target != current:
            cur = _vtuple(current) or (0, 0, 0)
            if tv < cur or tv[:2] > (cur[0], cur[1] + 1):
                # wording as AKS answered (Azure/AKS#1109); the code is unconfirmed
                raise _bad(f"Upgrade agent pool version from {current} to {target} is not allowed, you can only "
                           "upgrade one minor version at a time. Please use [az aks get-upgrades] command to get the "
                           f"supported upgrade paths. For more information, please check {_SKEW_LINK}",
                           f"{where}.orchestratorVersion", "BadRequest")
        if current:
            props["currentOrchestratorVersion"] = current
        else:
            props["currentOrchestratorVersion"] = target
        props.setdefault("nodeImageVersion", _node_image(props, vm))
        return props

    @staticmethod
    def _default_max_pods(cprops: Mapping[str, Any]) -> int:
        net = cprops.get("networkProfile") or {}
        plugin = str(net.get("networkPlugin") or "azure").lower()
        if plugin == "kubenet":
            return 110
        if plugin == "azure" and str(net.get("networkPluginMode") or "").lower() != "overlay":
            return 30  # Azure CNI with pod IPs from the node subnet
        return 250  # Azure CNI overlay (the default), BYO CNI ("none")

    # -- deletes, failures, resets ------------------------------------------------------------------------------

    def before_delete(self, rtype: ResourceType, names: dict[str, str]) -> None:
        if rtype is not self.pools:
            return
        pool_id = rtype.build_id(names)
        rec = self.engine.store.get(pool_id.lower())
        if rec is None or str((rec.doc.get("properties") or {}).get("mode", "")).lower() != "system":
            return
        cluster = self._cluster_rec(pool_id.lower())
        if cluster is None:
            return
        others = [r for n, r in self.pool_records(cluster.id).items()
                  if n != rec.names["agentPoolName"] and
                  str((r.doc.get("properties") or {}).get("mode", "")).lower() == "system"]
        if not others:
            raise _bad(f"Agent pool '{rec.names['agentPoolName']}' is the last System pool of the cluster and "
                       "cannot be deleted. Must define at least one system pool.", None,
                       "MustDefineAtLeastOneSystemPool")

    def after_delete_accepted(self, rtype: ResourceType, names: dict[str, str]) -> None:
        rid = rtype.build_id(names).lower()
        if rtype is self.clusters:
            rec = self.engine.store.get(rid)
            if rec is None:
                return
            for pool in self.pool_records(rec.id).values():
                pool.doc.setdefault("properties", {})["provisioningState"] = "Deleting"
            self._refresh_profiles(rec.doc, rec.id)
        elif rtype is self.pools:
            cluster = self._cluster_rec(rid)
            if cluster is not None:
                self._refresh_profiles(cluster.doc, cluster.id)

    def on_removed(self, removed: list[Record]) -> None:
        """Records the engine dropped (pool/cluster/resource group delete): fix the cluster view, delete Nodes."""
        clusters = [r for r in removed if r.rtype is self.clusters]
        gone = {c.id.lower() for c in clusters}
        for rec in removed:
            if rec.rtype is self.pools:
                cluster = self._cluster_rec(rec.id.lower())
                if cluster is not None and cluster.id.lower() not in gone:
                    self._refresh_profiles(cluster.doc, cluster.id)
                    self._sync_nodes(cluster)
        for rec in clusters:
            self._drop_node_resource_group(rec)
            if self.nodes is not None:
                self.nodes.delete_cluster(rec.id)

    def on_failed(self, op: Operation) -> None:
        rec = self.engine.store.get(op.resource_key)
        if rec is None:
            return
        error = copy.deepcopy(op.error or {})
        if rec.rtype is self.clusters:
            rec.doc.setdefault("properties", {})["status"] = {"provisioningError": error}
            for pool in self.pool_records(rec.id).values():
                pprops = pool.doc.setdefault("properties", {})
                if pprops.get("provisioningState") in _BUSY_STATES:
                    pprops["provisioningState"] = "Failed"
            self._refresh_profiles(rec.doc, rec.id)
        elif rec.rtype is self.pools:
            rec.doc.setdefault("properties", {})["status"] = {"provisioningError": error}
            cluster = self._cluster_rec(op.resource_key)
            if cluster is not None:
                self._refresh_profiles(cluster.doc, cluster.id)

    def on_reset(self) -> None:
        if self.nodes is not None and Path(self.nodes.kubeconfig).exists():
            self.nodes.delete_all()

    # -- Nodes --------------------------------------------------------------------------------------------------

    def _sync_nodes(self, cluster: Record) -> None:
        if self.nodes is None:
            return
        doc = cluster.doc
        props = doc.get("properties") or {}
        label = _label_value(props.get("nodeResourceGroup") or cluster.names["resourceName"])
        specs = [self.pool_nodes(doc, name, rec.doc.get("properties") or {})
                 for name, rec in self.pool_records(cluster.id).items()]
        self.nodes.sync_cluster(cluster.id, label, specs)

    def pool_nodes(self, cluster_doc: Mapping[str, Any], pool: str, props: Mapping[str, Any]) -> PoolNodes:
        """The Nodes an AKS pool has (labels, taints, capacity ...), for :class:`KubeNodes`."""
        cprops = cluster_doc.get("properties") or {}
        cid = cluster_doc["id"]
        location = cluster_doc.get("location") or "eastus"
        vm = self.vm_size(props.get("vmSize")) or VmSize(2, 8)
        stopped = str(_dig(props, "powerState", "code") or "").lower() == "stopped" or \
            str(_dig(cprops, "powerState", "code") or "").lower() == "stopped"
        count = 0 if stopped else int(props.get("count") or 0)
        if props.get("enableAutoScaling") and props.get("minCount") is not None and props.get("maxCount") is not None:
            count = 0 if stopped else min(max(count, int(props["minCount"])), int(props["maxCount"]))
        digits = f"{int(_h(cid + '/' + pool, 16), 16) % 10 ** 8:08d}"
        vmss = f"aks-{pool}-{digits}-vmss"
        mc_rg = cprops.get("nodeResourceGroup") or f"MC_{pool}"
        os_sku = str(props.get("osSKU") or "Ubuntu")
        os_name = "linux" if str(props.get("osType") or "Linux").lower() == "linux" else "windows"
        labels = {
            "agentpool": pool, "kubernetes.azure.com/agentpool": pool,
            "kubernetes.azure.com/mode": str(props.get("mode") or "User").lower(),
            "kubernetes.azure.com/role": "agent", "kubernetes.io/role": "agent", "node-role.kubernetes.io/agent": "",
            "kubernetes.azure.com/os-sku": os_sku,
            "kubernetes.azure.com/node-image-version": _label_value(str(props.get("nodeImageVersion") or "")),
            "kubernetes.azure.com/nodepool-type": str(props.get("type") or "VirtualMachineScaleSets"),
            "kubernetes.azure.com/storageprofile": "managed", "storageprofile": "managed",
            "node.kubernetes.io/instance-type": str(props.get("vmSize")),
            "beta.kubernetes.io/instance-type": str(props.get("vmSize")),
            "kubernetes.io/os": os_name, "beta.kubernetes.io/os": os_name,
            "kubernetes.io/arch": vm.arch, "beta.kubernetes.io/arch": vm.arch,
            "topology.kubernetes.io/region": location, "failure-domain.beta.kubernetes.io/region": location,
        }
        kubelet_client = _dig(cprops, "identityProfile", "kubeletidentity", "clientId")
        if kubelet_client:
            labels["kubernetes.azure.com/kubelet-identity-client-id"] = kubelet_client
        if vm.gpus:
            labels["kubernetes.azure.com/accelerator"] = "nvidia"
        pool_labels = {k: str(v) for k, v in (props.get("nodeLabels") or {}).items()}
        labels.update(pool_labels)
        taints = [parse_taint(t) for t in props.get("nodeTaints") or []]
        zones = [f"{location}-{z}" for z in props.get("availabilityZones") or []]
        max_pods = int(props.get("maxPods") or 110)
        mem_ki = int(vm.memory_gib * 1024 * 1024)
        disk_ki = int(props.get("osDiskSizeGB") or 128) * 1024 * 1024
        capacity = {"cpu": str(vm.vcpus), "memory": f"{mem_ki}Ki", "pods": str(max_pods),
                    "ephemeral-storage": f"{disk_ki}Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0"}
        reserved_mem_ki = (50 + 20 * max_pods + 100) * 1024
        allocatable = {"cpu": f"{vm.vcpus * 1000 - _reserved_cpu_m(vm.vcpus)}m",
                       "memory": f"{max(mem_ki - reserved_mem_ki, 0)}Ki", "pods": str(max_pods),
                       "ephemeral-storage": f"{int(disk_ki * 0.9)}Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0"}
        if vm.gpus and str(_dig(props, "gpuProfile", "driver") or "Install").lower() != "none":
            gpus = vm.gpus
            mig = props.get("gpuInstanceProfile")
            if mig and vm.mig:
                gpus *= MIG_INSTANCES.get(str(mig).lower(), 1)
            capacity["nvidia.com/gpu"] = allocatable["nvidia.com/gpu"] = str(gpus)
        version = props.get("currentOrchestratorVersion") or props.get("orchestratorVersion") or ""
        node_info = {
            "kernelVersion": "5.15.0-1089-azure" if "ubuntu" in os_sku.lower() else "6.6.96.2-2.azl3",
            "osImage": _os_image(os_sku), "containerRuntimeVersion": "containerd://1.7.28-1",
            "kubeletVersion": f"v{version}", "kubeProxyVersion": f"v{version}", "operatingSystem": os_name,
            "architecture": vm.arch,
        }
        sub = self.engine.subscription_id
        return PoolNodes(
            pool=pool, count=count, name_prefix=vmss, labels=labels, pool_label_keys=sorted(pool_labels),
            taints=taints, zones=zones, capacity=capacity, allocatable=allocatable, node_info=node_info,
            provider_id_prefix=(f"azure:///subscriptions/{sub}/resourceGroups/{mc_rg.lower()}/providers/"
                                f"Microsoft.Compute/virtualMachineScaleSets/{vmss}/virtualMachines/"),
        )

    # -- credentials ----------------------------------------------------------------------------------------------

    def _connection(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        if self.nodes is not None:
            try:
                conn = self.nodes.connection()
                if conn.get("server"):
                    return conn
            except (OSError, ValueError) as exc:
                log.warning("AKS credentials: cannot read %s: %s", self.nodes.kubeconfig, exc)
        fqdn = _dig(doc, "properties", "fqdn") or "cluster.invalid"
        ca = Path(self.ca_path or "")
        ca_data = base64.b64encode(ca.read_bytes()).decode() if ca.is_file() else base64.b64encode(b"none").decode()
        return {"server": f"https://{fqdn}:443", "ca_data": ca_data, "token": _h(doc["id"] + "/token", 64),
                "client_certificate_data": None, "client_key_data": None}

    def _kubeconfig(self, doc: Mapping[str, Any], *, admin: bool, exec_login: bool) -> str:
        import yaml  # pylint: disable=import-outside-toplevel

        name = doc["name"]
        rg = doc["id"].split("/")[4]
        conn = self._connection(doc)
        user_name = f"{'clusterAdmin' if admin else 'clusterUser'}_{rg}_{name}"
        if exec_login:
            user: dict[str, Any] = {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "kubelogin",
                "args": ["get-token", "--environment", "AzurePublicCloud", "--server-id", AKS_SERVER_APP_ID,
                         "--client-id", KUBELOGIN_CLIENT_ID, "--tenant-id", self.engine.tenant_id,
                         "--login", "devicecode"],
                "env": None,
                "installHint": "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\n"
                               "To learn more, please go to https://aka.ms/aks/kubelogin\n",
                "provideClusterInfo": False,
                "interactiveMode": "IfAvailable",
            }}
        elif conn.get("token"):
            user = {"token": conn["token"]}
        else:
            user = {"client-certificate-data": conn.get("client_certificate_data"),
                    "client-key-data": conn.get("client_key_data")}
        context = f"{name}-admin" if admin else name
        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"certificate-authority-data": conn["ca_data"],
                                                    "server": conn["server"]}}],
            "contexts": [{"name": context, "context": {"cluster": name, "user": user_name}}],
            "current-context": context,
            "preferences": {},
            "users": [{"name": user_name, "user": user}],
        }
        return yaml.safe_dump(cfg, sort_keys=False)

    def _admin_credential(self, ctx: ActionContext) -> Any:
        if _dig(ctx.doc, "properties", "disableLocalAccounts"):
            # wording and code as AKS answers (hashicorp/terraform-provider-azurerm#15489)
            raise ArmError(400, "BadRequest", "Getting static credential is not allowed because this cluster is set "
                                              "to disable local accounts.")
        text = self._kubeconfig(ctx.doc, admin=True, exec_login=False)
        return {"kubeconfigs": [{"name": "clusterAdmin", "value": base64.b64encode(text.encode()).decode()}]}

    def _user_credential(self, ctx: ActionContext) -> Any:
        props = ctx.doc.get("properties") or {}
        fmt = str(_query_get(ctx.query, "format") or "").lower()
        if fmt and fmt not in ("exec", "azure"):
            raise _bad(f"Invalid format '{fmt}': allowed values are 'azure' and 'exec'.", "format")
        aad = bool(_dig(props, "aadProfile", "managed"))
        exec_login = bool(props.get("disableLocalAccounts")) or aad or fmt == "exec"
        text = self._kubeconfig(ctx.doc, admin=False, exec_login=exec_login)
        return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(text.encode()).decode()}]}

    # -- Entra tokens for the apiserver ---------------------------------------------------------------------------

    def record_token(self, scope_text: str, access_token: str, client_id: str) -> None:
        if any(_is_aks_scope(s) for s in scope_text.split()):
            now = time.time()
            self.kube_tokens[access_token] = (client_id, now + TOKEN_LIFETIME)
            for tok in [t for t, info in self.kube_tokens.items() if info[1] < now]:
                del self.kube_tokens[tok]

    def tokenreview(self, body: bytes) -> Response:
        try:
            review = json.loads(body or b"{}")
        except ValueError:
            return Response(400, {"error": {"code": "BadRequest", "message": "TokenReview body is not JSON"}})
        if not isinstance(review, dict):
            return Response(400, {"error": {"code": "BadRequest", "message": "TokenReview body is not an object"}})
        api_version = review.get("apiVersion") or "authentication.k8s.io/v1beta1"
        spec = review.get("spec") or {}
        token = spec.get("token") or ""
        with self.engine.lock:
            info = self.kube_tokens.get(token)
        status: dict[str, Any]
        if info is not None and info[1] > time.time():
            status = {"authenticated": True,
                      "user": {"username": info[0], "uid": info[0], "groups": ["system:masters"]}}
            if spec.get("audiences"):
                status["audiences"] = list(spec["audiences"])
        else:
            status = {"authenticated": False,
                      "error": "the token was not issued by the ARM emulator for the AKS server application "
                               f"({AKS_SERVER_SCOPE}) or has expired"}
        with self.engine.lock:
            self.token_reviews.append({"time": time.time(), "authenticated": status["authenticated"],
                                       "user": (status.get("user") or {}).get("username")})
            del self.token_reviews[:-200]
        return Response(200, {"apiVersion": api_version, "kind": "TokenReview", "status": status})


def _check_reserved_label(key: str, value: str) -> None:
    """AKS's BadRequest for a node label under a prefix it or Kubernetes keeps (wording as AKS answered)."""
    domain = key.split("/", 1)[0].lower() if "/" in key else ""
    if domain == "kubernetes.azure.com" or domain.endswith(".kubernetes.azure.com"):
        # ams0/aks-nvme-ssd-provisioner#5
        raise _bad(f"Invalid node label key {key}. The 'kubernetes.azure.com' prefix is preserved by aks system labels",
                   key, "BadRequest")
    kube = any(domain == d or domain.endswith("." + d) for d in ("kubernetes.io", "k8s.io"))
    if kube and domain not in _K8S_LABEL_PREFIXES and key not in _K8S_LABEL_KEYS:
        # Azure/AKS#1937, #2866
        raise _bad("For Kubernetes version greater than or equal to 1.16, node label keys in the 'kubernetes.io' or "
                   "'k8s.io' namespace must begin with an allowed prefix (kubelet.kubernetes.io, node.kubernetes.io) "
                   f"or be in the specifically allowed set ({', '.join(_K8S_LABEL_KEYS)}). For more information, "
                   "please check https://aka.ms/aks-node-labels-116.", f"{key}={value}", "BadRequest")


def _autoscaler_value_ok(kind: Any, value: Any) -> bool:
    if isinstance(kind, tuple):
        return value in kind
    if kind == "bool":
        return value in (True, False, "true", "false")
    if not isinstance(value, str):
        return False
    if kind in ("duration", "minutes"):
        return bool(_DURATION.match(value)) and (kind == "duration" or value.endswith("m"))
    if kind in ("int", "percent"):
        return value.isdigit() and (kind == "int" or int(value) <= 100)
    try:
        return 0 <= float(value) <= 1
    except ValueError:
        return False


def _check_cluster_settings(props: Mapping[str, Any]) -> None:
    """Cluster settings AKS refuses. The autoscaler and Istio wording is AKS's; for dnsServiceIP and the Entra ids
    AKS's own wording was not found: the "The value of parameter X is invalid" shape is AKS's, the detail ours."""
    net = props.get("networkProfile") or {}
    dns, cidr = net.get("dnsServiceIP"), net.get("serviceCidr") or "10.0.0.0/16"
    if dns is not None:
        try:
            inside = ipaddress.ip_address(dns) in ipaddress.ip_network(cidr, strict=False)
            network = ipaddress.ip_address(dns) == ipaddress.ip_network(cidr, strict=False).network_address
        except ValueError:
            inside, network = False, False
        if not inside or network:
            raise _bad(f"The value of parameter networkProfile.dnsServiceIP is invalid: {dns} must be an address "
                       f"inside networkProfile.serviceCidr {cidr}, other than its network address.",
                       "networkProfile.dnsServiceIP")
    for key, value in (props.get("autoScalerProfile") or {}).items():
        kind = AUTOSCALER_KINDS.get(key)
        if kind is not None and not _autoscaler_value_ok(kind, value):  # unknown keys: refused by the schema
            # code and wording as AKS answers (MicrosoftDocs/azure-docs#123289)
            raise _bad(f"Invalid value specified for the cluster-autoscaler parameter '{key}'. Please refer to "
                       "https://aka.ms/cluster-autoscaler for more details.", f"properties.autoScalerProfile.{key}")
    aad = props.get("aadProfile") or {}
    for group in aad.get("adminGroupObjectIDs") or []:
        if not isinstance(group, str) or not _GUID.match(group):
            raise _bad(f"The value of parameter aadProfile.adminGroupObjectIDs is invalid: {group!r} is not a GUID.",
                       "aadProfile.adminGroupObjectIDs")
    tenant = aad.get("tenantID")
    if tenant is not None and (not isinstance(tenant, str) or not _GUID.match(tenant)):
        raise _bad(f"The value of parameter aadProfile.tenantID is invalid: {tenant!r} is not a GUID.",
                   "aadProfile.tenantID")
    mesh = props.get("serviceMeshProfile") or {}
    for revision in _dig(mesh, "istio", "revisions") or []:
        if revision not in ISTIO_REVISIONS:
            # code and wording as AKS answers (MicrosoftDocs/azure-docs#120606)
            raise _bad(f"Requested change in revisions is not allowed. Reason: Revision {revision} is not supported by "
                       "the service mesh add-on.", "properties.serviceMeshProfile.istio.revisions", "BadRequest")


def _pool_cmp(props: Mapping[str, Any]) -> Any:
    return _norm({k: v for k, v in props.items() if k not in ("provisioningState", "eTag", "status")})


def _valid_label_key(key: Any) -> bool:
    if not isinstance(key, str) or not key:
        return False
    prefix, sep, name = key.rpartition("/")
    if sep and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return bool(_LABEL_NAME.match(name))


def _reserved_cpu_m(vcpus: int) -> int:
    # kube-reserved CPU as AKS documents it (60m for 1 core ... 740m for 64 cores)
    for cores, milli in ((1, 60), (2, 100), (4, 140), (8, 180), (16, 260), (32, 420)):
        if vcpus <= cores:
            return milli
    return 740


def _node_image(props: Mapping[str, Any], vm: VmSize) -> str:
    sku = str(props.get("osSKU") or "Ubuntu").lower()
    if sku.startswith("azurelinux") or sku == "cblmariner":
        base = "AKSAzureLinux-V3gen2"
    elif sku.startswith("windows"):
        return "AKSWindows-2022-containerd-20348.4171.251014"
    elif sku == "ubuntu2404":
        base = "AKSUbuntu-2404gen2containerd"
    else:
        base = "AKSUbuntu-2204gen2containerd"
    if vm.arch == "arm64":
        base = base.replace("gen2", "gen2arm64")
    return f"{base}-202510.03.0"


def _os_image(os_sku: str) -> str:
    sku = os_sku.lower()
    if sku.startswith("azurelinux"):
        return "Microsoft Azure Linux 3.0"
    if sku == "cblmariner":
        return "CBL-Mariner/Linux"
    if sku == "ubuntu2404":
        return "Ubuntu 24.04.3 LTS"
    if sku.startswith("windows"):
        return "Windows Server 2022 Datacenter"
    return "Ubuntu 22.04.5 LTS"


# ---------------------------------------------------------------------------------------------------------------
# engine integration


class _AksEngine(ArmEngine):
    """ArmEngine plus the AKS routes and bookkeeping that the declarative ResourceType hooks cannot express."""

    aks: AksService

    def _token(self, tenant: str, headers: Mapping[str, str], body: bytes) -> Response:
        resp = super()._token(tenant, headers, body)
        if resp.status == 200 and isinstance(resp.body, dict) and resp.body.get("access_token"):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            self.aks.record_token(form.get("scope", ""), resp.body["access_token"], self.client_id)
        return resp

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        super()._authenticate(headers)
        token = (headers.get("authorization") or headers.get("Authorization") or "").partition(" ")[2].strip()
        if token in self.aks.kube_tokens:
            challenge = (f'Bearer authorization_uri="{self.base_url}/{self.tenant_id}", error="invalid_token", '
                         'error_description="The access token is from the wrong audience or resource."')
            raise ArmError(401, "InvalidAuthenticationTokenAudience",
                           f"The access token has been obtained for wrong audience or resource '{AKS_SERVER_APP_ID}'. "
                           f"It should exactly match with one of the allowed audiences of the ARM emulator "
                           f"('{self.base_url}').", headers={"WWW-Authenticate": challenge})

    def _control(self, method: str, segs: list[str], query: Mapping[str, str], body: bytes) -> Response:
        what = "/".join(segs)
        if what == "tokenreview" and method == "POST":
            return self.aks.tokenreview(body)
        if what == "aks" and method == "GET":
            return Response(200, self.aks.status())
        if what == "aks/kubeconfig" and method == "POST":
            data = json.loads(body or b"{}")
            if not isinstance(data, dict) or not data.get("path"):
                raise ValueError('POST /_emulator/aks/kubeconfig needs {"path": "<kubeconfig>"}')
            self.aks.attach(data["path"])
            return Response(200, self.aks.status())
        return super()._control(method, segs, query, body)

    def _arm(self, method: str, segs: list[str], query: Mapping[str, str], headers: Mapping[str, str],
             body: bytes) -> Response:
        low = [s.lower() for s in segs]
        if method == "GET" and len(low) == 7 and low[0] == "subscriptions" and low[2] == "providers" and \
                low[3] == "microsoft.containerservice" and low[4] == "locations" and low[6] == "kubernetesversions":
            self._authenticate(headers)
            api_version = _query_get(query, "api-version")
            if not api_version:
                raise ArmError(400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.")
            if low[1] != self.subscription_id.lower():
                raise ArmError(404, "SubscriptionNotFound", f"The subscription '{segs[1]}' could not be found.")
            self._check_api_version(self.aks.clusters, api_version)
            return Response(200, self.aks.versions.list_result())
        return super()._arm(method, segs, query, headers, body)

    def _check_not_busy(self, ancestors: list[Record], rec: Optional[Record], attempted: str) -> None:
        super()._check_not_busy(ancestors, rec, attempted)
        if rec is not None and rec.rtype is self.aks.clusters:
            for pool in self.aks.pool_records(rec.id).values():
                if pool.operation is not None:
                    raise self._busy_error(pool, attempted)

    def _resource(self, method: str, rtype: ResourceType, names: dict[str, str], query: Mapping[str, str],
                  headers: Mapping[str, str], body: bytes, api_version: str) -> Response:
        if method == "DELETE":
            self.aks.before_delete(rtype, names)
        resp = super()._resource(method, rtype, names, query, headers, body, api_version)
        if method == "DELETE" and resp.status == 202:
            self.aks.after_delete_accepted(rtype, names)
        return resp

    def _remove_tree(self, key: str) -> None:
        prefix = key + "/"
        removed = [rec for k, rec in self.store.items() if k == key or k.startswith(prefix)]
        super()._remove_tree(key)
        self.aks.on_removed(removed)

    def _finish(self, op: Operation) -> None:
        super()._finish(op)
        if op.status == "Failed":
            self.aks.on_failed(op)

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.aks.on_reset()


def register_aks(emulator: "ArmEmulator | ArmEngine", nodes: KubeNodes | str | Path | None = None, *,
                 cluster_operation_seconds: Optional[float] = None, pool_operation_seconds: Optional[float] = None,
                 kubernetes_versions: Optional[Mapping[str, Sequence[str]]] = None,
                 default_kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
                 vm_sizes: Optional[Mapping[str, VmSize]] = None) -> AksService:
    """Register the AKS types (and routes) on an :class:`ArmEmulator` (or its engine); returns the
    :class:`AksService`. Idempotent: a second call returns the existing service (``nodes`` attached if given).

    ``nodes``: a :class:`KubeNodes` or a kubeconfig path (Nodes are written there; credentials point there). Without
    it Nodes are skipped and credentials point at the cluster's (unreachable) FQDN, until :meth:`AksService.attach`.
    ``*_operation_seconds``: duration of the types' async operations (None = the emulator-wide setting).
    ``kubernetes_versions``/``default_kubernetes_version``: the region's versions (default :data:`KUBERNETES_VERSIONS`).
    ``vm_sizes``: extra/overriding VM sizes, merged into :data:`VM_SIZES`.
    """
    engine: ArmEngine = getattr(emulator, "engine", emulator)
    existing = getattr(engine, "aks", None)
    if isinstance(existing, AksService):
        if nodes is not None:
            existing.attach(nodes)
        return existing
    if nodes is not None and not isinstance(nodes, KubeNodes):
        nodes = KubeNodes(nodes)
    sizes = dict(VM_SIZES)
    sizes.update(vm_sizes or {})
    versions = KubernetesVersions(kubernetes_versions or KUBERNETES_VERSIONS, default_kubernetes_version)
    service = AksService(engine, nodes, versions, sizes, cluster_operation_seconds, pool_operation_seconds)
    service.ca_path = getattr(emulator, "ca_path", None)
    with engine.lock:
        engine.register(service.clusters)
        engine.register(service.pools)
        register_identity(engine)  # managed identities, federated credentials, role assignments
        register_monitor(engine)  # Azure Monitor workspaces, data collection, Prometheus rule groups
        engine.__class__ = _AksEngine  # pylint: disable=attribute-defined-outside-init
        engine.aks = service  # type: ignore[attr-defined]
    return service


# ---------------------------------------------------------------------------------------------------------------
# emulator + apiserver + nodes in the right order (for conftests)


@dataclass
class AksBed:
    """An ARM emulator with AKS, a kube-apiserver that accepts the emulator's AKS tokens, and the Node writer.

    Start order: emulator (its URL and CA are needed for the apiserver's token webhook), apiserver, then the
    kubeconfig is attached to the AKS service. ``stop()`` stops the apiserver, then the emulator.
    """

    emulator: "ArmEmulator"
    apiserver: "KubeApiServer"
    aks: AksService
    nodes: KubeNodes

    def env(self) -> dict[str, str]:
        """Environment for modules under test: the kubeconfig plus an AWX-style Azure credential (as env.sh)."""
        emu = self.emulator
        return {
            "KUBECONFIG": str(self.apiserver.kubeconfig),
            "K8S_AUTH_KUBECONFIG": str(self.apiserver.kubeconfig),
            "AZURE_CLIENT_ID": emu.client_id,
            "AZURE_SECRET": emu.client_secret,
            "AZURE_TENANT": emu.tenant_id,
            "AZURE_SUBSCRIPTION_ID": emu.subscription_id,
            "AZURE_ARM_ENDPOINT": emu.url,
            "AZURE_AUTHORITY_HOST": emu.url,
            "REQUESTS_CA_BUNDLE": emu.ca_path,
        }

    def stop(self) -> None:
        try:
            self.apiserver.stop()
        finally:
            self.emulator.stop()

    def __enter__(self) -> "AksBed":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_aks_bed(workdir: str | Path, *, operation_seconds: float = 0.5, retry_after: float = 0.1,
                  apiserver_kwargs: Optional[dict[str, Any]] = None, **aks_kwargs: Any) -> AksBed:
    """Start an :class:`AksBed` under ``workdir`` (``arm/`` and ``kube/``)."""
    from ..kube_apiserver import KubeApiServer  # pylint: disable=import-outside-toplevel
    from .server import ArmEmulator  # pylint: disable=import-outside-toplevel

    workdir = Path(workdir)
    emulator = ArmEmulator(workdir / "arm", operation_seconds=operation_seconds, retry_after=retry_after).start()
    try:
        aks = register_aks(emulator, **aks_kwargs)
        apiserver = KubeApiServer(workdir / "kube", token_webhook=aks.token_webhook(), **(apiserver_kwargs or {}))
        apiserver.start()
    except BaseException:
        emulator.stop()
        raise
    nodes = aks.attach(apiserver.kubeconfig)
    assert nodes is not None
    return AksBed(emulator, apiserver, aks, nodes)


def aks_bed_session(tmp_path_factory: Any, basename: str = "aks-bed", **kwargs: Any) -> Iterator[AksBed]:
    """Generator for a pytest fixture: ``yield from aks_bed_session(tmp_path_factory)``."""
    bed = start_aks_bed(tmp_path_factory.mktemp(basename), **kwargs)
    try:
        yield bed
    finally:
        bed.stop()
