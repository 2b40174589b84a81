"""The ARM metadata document, ``GET /metadata/endpoints?api-version=...``, served without a token as ARM serves it.

ARM clients that are pointed at a resource manager endpoint only (``az cloud register --endpoint-resource-manager``,
Azure Stack Hub tooling, ``ARM_CLOUD_METADATA_URL``) read it to find the login endpoint and the token audience.
It comes in two shapes, chosen by api-version:

* ``2015-01-01`` and other versions before ``2019-05-01`` (what Azure Stack Hub's resource manager answers and
  ``az cloud register --endpoint-resource-manager`` asks for): one object with ``galleryEndpoint``, ``graphEndpoint``,
  ``portalEndpoint`` and ``authentication: {loginEndpoint, audiences}``.
* ``2019-05-01`` and later (what the public cloud's resource manager answers, read by azure-cli's
  ``ARM_CLOUD_METADATA_URL`` support and Azure PowerShell): a list of cloud objects with ``name``,
  ``resourceManager``, ``authentication: {loginEndpoint, audiences, tenant, identityProvider}``, ``portal``,
  ``graph``/``graphAudience``, ``gallery``, ``batch``, ``sqlManagement``, ``media``, ``vmImageAliasDoc``,
  ``activeDirectoryDataLake``, ``microsoftGraphResourceId`` and ``suffixes``.

Here the login endpoint and the resource manager are the emulator itself; the audience a token must be asked for is
the emulator's URL (scope ``<url>/.default``). Services the emulator does not emulate (portal, graph, gallery ...)
point at the emulator too, so that nothing a client derives from the document leaves 127.0.0.1.
"""

from __future__ import annotations

from typing import Any, Mapping

from .resource_types import ArmError, Response

__all__ = ["CLOUD_NAME", "NEW_SHAPE_API_VERSION", "metadata_document", "metadata_response"]

#: The name the emulated cloud goes by in the list shape (what a client registers it as).
CLOUD_NAME = "ArmEmulator"
#: api-versions from this one on answer the list shape.
NEW_SHAPE_API_VERSION = "2019-05-01"


def metadata_document(base_url: str, api_version: str) -> Any:
    base = base_url.rstrip("/")
    login = base + "/"
    audiences = [base + "/"]
    if api_version < NEW_SHAPE_API_VERSION:
        return {
            "galleryEndpoint": login,
            "graphEndpoint": login,
            "portalEndpoint": login,
            "authentication": {"loginEndpoint": login, "audiences": audiences},
        }
    host = base.split("://", 1)[-1]
    return [{
        "name": CLOUD_NAME,
        "portal": base,
        "authentication": {"loginEndpoint": login, "audiences": audiences, "tenant": "common",
                           "identityProvider": "AAD"},
        "media": login,
        "graphAudience": login,
        "graph": login,
        "resourceManager": login,
        "sqlManagement": login,
        "batch": login,
        "gallery": login,
        "vmImageAliasDoc": base + "/_emulator/vm-image-aliases",
        "activeDirectoryDataLake": login,
        "microsoftGraphResourceId": login,
        "suffixes": {"storage": host, "keyVaultDns": host, "sqlServerHostname": host, "acrLoginServer": host},
    }]


def metadata_response(base_url: str, query: Mapping[str, str]) -> Response:
    api_version = next((v for k, v in query.items() if k.lower() == "api-version"), None)
    if not api_version:
        # as ARM answers any request without an api-version
        raise ArmError(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all requests.")
    return Response(200, metadata_document(base_url, api_version))
