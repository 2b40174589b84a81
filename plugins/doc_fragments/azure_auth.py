# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
requirements:
  - azure-identity
options:
  subscription_id:
    description:
      - Azure subscription id. Falls back to E(AZURE_SUBSCRIPTION_ID).
    type: str
  client_id:
    description:
      - Service principal application (client) id. Give it with O(client_secret) and O(tenant_id).
      - Without these options the credential comes, in this order, from AWX's Azure credential variables
        (E(AZURE_CLIENT_ID), E(AZURE_SECRET), E(AZURE_TENANT)), from azure-identity's variables
        (E(AZURE_CLIENT_ID), E(AZURE_CLIENT_SECRET), E(AZURE_TENANT_ID), or certificate and username variants),
        and finally from C(DefaultAzureCredential) (workload identity, managed identity, Azure CLI).
    type: str
  client_secret:
    description: Service principal secret. Never shown in task output.
    type: str
  tenant_id:
    description: Entra ID tenant id of the service principal.
    type: str
  cloud_environment:
    description:
      - Azure cloud to talk to. Falls back to E(AZURE_CLOUD_ENVIRONMENT), then C(AzureCloud).
      - Ignored when O(arm_endpoint) is set.
    type: str
    choices: [AzureCloud, AzureUSGovernment, AzureChinaCloud]
  arm_endpoint:
    description:
      - Resource Manager URL of a custom cloud (Azure Stack, a sovereign cloud, or the test emulator).
        Falls back to E(AZURE_ARM_ENDPOINT). Needs O(authority_host).
      - A private certificate authority is trusted through E(REQUESTS_CA_BUNDLE).
    type: str
  authority_host:
    description:
      - Entra ID authority URL for O(arm_endpoint). Falls back to E(AZURE_AUTHORITY_HOST).
    type: str
  timeout:
    description:
      - Seconds to wait for long-running Azure operations before failing. The operation goes on in Azure;
        running the task again resumes waiting.
      - A negative value is refused. 0 is refused by M(aiplatform.aks.aks_cluster) (it would write and then time out) and
        by M(aiplatform.aks.aks_nodepool) unless O(aiplatform.aks.aks_nodepool#module:wait=false).
    type: int
    default: 1800
'''
