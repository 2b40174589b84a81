"""ARM (Azure Resource Manager) + Entra ID token endpoint emulator for the aiplatform.aks test bed.

The real, unmodified azure-identity ``ClientSecretCredential`` and azure-mgmt clients talk to it over HTTPS on
127.0.0.1; see :mod:`.server` for what a caller must set (TLS trust, authority, scopes), :mod:`.resource_types`
for registering resource types, :mod:`.engine` for the ARM semantics and :mod:`.schema` for body validation.

    from tests.bed.arm_emulator import ArmEmulator

    with ArmEmulator(tmp_path, operation_seconds=0.3, retry_after=0.05) as emu:
        ...  # emu.url, emu.ca_path, emu.requests, emu.add_fault(...), emu.register(ResourceType(...))

CLI: ``python -m tests.bed.arm_emulator serve --state-dir DIR [--port 0]`` (writes DIR/arm.json once listening).
"""

from .engine import ArmEngine, Fault
from .resource_groups import RESOURCE_GROUP_API_VERSIONS, RESOURCE_GROUP_DEFAULT_API_VERSION, RESOURCE_GROUPS
from .resource_types import (
    SPECS_DIR,
    ActionContext,
    ArmError,
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

#: The AKS Swagger (managedClusters + agentPools, api-version 2026-08-01) copied with the common types it references.
AKS_SPEC = (
    SPECS_DIR
    / "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-08-01"
    / "managedClusters.json"
)
AKS_API_VERSION = "2026-08-01"

__all__ = [
    "AKS_API_VERSION",
    "AKS_SPEC",
    "ActionContext",
    "ArmEmulator",
    "ArmEngine",
    "ArmError",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_SUBSCRIPTION_ID",
    "DEFAULT_TENANT_ID",
    "Fault",
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
    "Violation",
]
