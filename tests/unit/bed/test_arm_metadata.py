"""The ARM emulator's metadata document (tests/bed/arm_emulator/metadata.py): an ARM client that knows only the
resource manager URL finds the login endpoint and the token audience there, and they work."""

from __future__ import annotations

import pytest
import requests
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.bed.arm_emulator import ArmEmulator


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with ArmEmulator(tmp_path_factory.mktemp("arm-metadata"), operation_seconds=0.1, retry_after=0.05) as emu:
        yield emu


@pytest.fixture(scope="module")
def http(emu):
    s = requests.Session()
    s.trust_env = False
    s.verify = emu.ca_path
    return s


def _get(http, emu, **params):
    return http.get(emu.url + "/metadata/endpoints", params=params, timeout=10)


def test_azure_stack_shape_without_a_token(emu, http):
    emu.clear_requests()
    r = _get(http, emu, **{"api-version": "2015-01-01"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert set(doc) == {"galleryEndpoint", "graphEndpoint", "portalEndpoint", "authentication"}
    assert doc["authentication"] == {"loginEndpoint": emu.url + "/", "audiences": [emu.url + "/"]}
    # every endpoint a client derives from the document stays on the emulator
    assert all(v.startswith(emu.url) for v in (doc["galleryEndpoint"], doc["graphEndpoint"], doc["portalEndpoint"]))


def test_cloud_list_shape(emu, http):
    r = _get(http, emu, **{"api-version": "2022-09-01"})
    assert r.status_code == 200, r.text
    (cloud,) = r.json()
    assert cloud["name"] == "ArmEmulator" and cloud["resourceManager"] == emu.url + "/"
    assert cloud["authentication"] == {"loginEndpoint": emu.url + "/", "audiences": [emu.url + "/"],
                                       "tenant": "common", "identityProvider": "AAD"}
    # what azure-cli's metadata mapper reads without a fallback
    for key in ("portal", "graphAudience", "sqlManagement", "batch", "gallery", "vmImageAliasDoc", "media",
                "activeDirectoryDataLake", "microsoftGraphResourceId", "suffixes"):
        assert key in cloud, key
    host = emu.url.split("://", 1)[1]
    assert set(cloud["suffixes"].values()) == {host}


def test_missing_api_version_is_refused_as_arm_does(emu, http):
    r = _get(http, emu)
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"


def test_a_client_that_knows_only_the_resource_manager_logs_in_with_what_it_reads(emu, http):
    cloud = _get(http, emu, **{"api-version": "2022-09-01"}).json()[0]
    auth = cloud["authentication"]
    cred = ClientSecretCredential(emu.tenant_id, emu.client_id, emu.client_secret,
                                  authority=auth["loginEndpoint"].rstrip("/"), disable_instance_discovery=True,
                                  connection_verify=emu.ca_path)
    scope = auth["audiences"][0].rstrip("/") + "/.default"
    rm = ResourceManagementClient(cred, emu.subscription_id, base_url=cloud["resourceManager"].rstrip("/"),
                                  credential_scopes=[scope], connection_verify=emu.ca_path)
    emu.reset()
    rm.resource_groups.create_or_update("rg-from-metadata", {"location": "eastus"})
    assert rm.resource_groups.get("rg-from-metadata").location == "eastus"
    token_calls = [r for r in emu.requests if r["path"].endswith("/oauth2/v2.0/token")]
    assert token_calls and token_calls[-1]["status"] == 200
