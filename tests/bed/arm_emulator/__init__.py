"""ARM (Azure Resource Manager) + Entra ID token endpoint emulator for the aiplatform.aks test bed.

The real, unmodified azure-identity ``ClientSecretCredential`` and azure-mgmt clients talk to it over HTTPS on
127.0.0.1; see :mod:`.server` for what a caller must set (TLS trust, authority, scopes), :mod:`.resource_types`
for registering resource types, :mod:`.engine` for the ARM semantics and :mod:`.schema` for body validation.

    from tests.bed.arm_emulator import ArmEmulator

    with ArmEmulator(tmp_path, operation_seconds=0.3, retry_after=0.05) as emu:
        ...  # emu.url, emu.ca_path, emu.requests, emu.add_fault(...), emu.register(ResourceType(...))

AKS (managedClusters + agentPools, Kubernetes versions, credentials, token webhook, Nodes): see :mod:`.aks`::

    aks = register_aks(emu)            # optionally register_aks(emu, KubeNodes(kubeconfig)) / aks.attach(kubeconfig)

Managed identities and role assignments (:mod:`.identity`) and Azure Monitor managed Prometheus (:mod:`.monitor`)
come with ``register_aks``, or alone with ``register_identity(emu)`` / ``register_monitor(emu)``.

CLI: ``python -m tests.bed.arm_emulator serve --state-dir DIR [--port 0] [--kubeconfig PATH]`` (writes DIR/arm.json
once listening; AKS types are registered).
"""

from .aks import (
    AKS_API_VERSION,
    AKS_SERVER_APP_ID,
    AKS_SERVER_SCOPE,
    AKS_SPEC,
    DEFAULT_KUBERNETES_VERSION,
    KUBERNETES_VERSIONS,
    VM_SIZES,
    AksBed,
    AksService,
    KubernetesVersions,
    VmSize,
    aks_bed_session,
    register_aks,
    start_aks_bed,
)
from .engine import ArmEngine, Fault
from .identity import register_identity
from .monitor import register_monitor
from .resource_groups import RESOURCE_GROUP_API_VERSIONS, RESOURCE_GROUP_DEFAULT_API_VERSION, RESOURCE_GROUPS
from .resource_types import (
    SPECS_DIR,
    ActionContext,
    ArmError,
    ListContext,
    OperationContext,
    PutContext,
    ResourceType,
    Response,
)
from .schema import SchemaValidator, SpecLoader, Violation
from .server import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SUBSCRIPTION_ID,
    DEFAULT_TENANT_ID,
    ArmEmulator,
)

__all__ = [
    "AKS_API_VERSION",
    "AKS_SERVER_APP_ID",
    "AKS_SERVER_SCOPE",
    "AKS_SPEC",
    "AksBed",
    "AksService",
    "ActionContext",
    "ArmEmulator",
    "ArmEngine",
    "ArmError",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_KUBERNETES_VERSION",
    "DEFAULT_SUBSCRIPTION_ID",
    "DEFAULT_TENANT_ID",
    "Fault",
    "KUBERNETES_VERSIONS",
    "KubernetesVersions",
    "ListContext",
    "OperationContext",
    "PutContext",
    "RESOURCE_GROUPS",
    "RESOURCE_GROUP_API_VERSIONS",
    "RESOURCE_GROUP_DEFAULT_API_VERSION",
    "ResourceType",
    "Response",
    "SPECS_DIR",
    "SchemaValidator",
    "SpecLoader",
    "VM_SIZES",
    "Violation",
    "VmSize",
    "aks_bed_session",
    "register_aks",
    "register_identity",
    "register_monitor",
    "start_aks_bed",
]
