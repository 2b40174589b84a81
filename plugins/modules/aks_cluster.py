#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: aks_cluster
short_description: Create, update or delete an AI-ready AKS cluster
version_added: 0.1.0
description:
  - Manages an Azure Kubernetes Service cluster with what an AI platform needs, through the AKS API
    (api-version 2026-08-01 of azure-mgmt-containerservice 41.x).
  - Reads the cluster, compares only the options you set, and sends one PUT of the current cluster with your
    changes merged in when something differs, so settings you do not mention are never reset.
  - Secure settings are applied when the cluster is created and you did not choose otherwise; Entra ID with
    Azure RBAC, local accounts off, OIDC issuer and workload identity on, system-assigned identity, Kubernetes 1.34.
  - Changes AKS cannot make in place (location, DNS prefix, network plugin and CIDRs, system pool VM size and
    other pool create-time fields) fail before anything is written, naming each field. So do disabling the OIDC
    issuer, downgrades and upgrades that skip a minor version.
  - An operation left running (for example by an interrupted run) is waited for; a cluster in C(Failed) state is
    written again to repair it.
options:
  name:
    description: Cluster name.
    type: str
    required: true
  state:
    description: Whether the cluster should exist.
  dns_prefix:
    description: DNS prefix of the API server name. Defaults to the cluster name on create. Cannot change.
    type: str
  kubernetes_version:
    description:
      - Kubernetes version, C(1.34) or C(1.34.2); 1.34 or later (AI conformance). Defaults to C(1.34) on create.
      - Upgrades go one minor version at a time; downgrades are refused.
    type: str
  sku_tier:
    description: Control plane tier (C(Standard) gives the uptime SLA). AKS uses C(Free) when unset on create.
    type: str
    choices: [Free, Standard, Premium]
  identity:
    description: Control plane identity. SystemAssigned on create when unset.
    type: dict
    suboptions:
      type:
        description: Identity type.
        type: str
        choices: [SystemAssigned, UserAssigned]
        required: true
      user_assigned_identity:
        description: Resource id of the user-assigned identity, with O(identity.type=UserAssigned).
        type: str
  oidc_issuer:
    description: OIDC issuer (needed by workload identity and KAITO). On when created. Cannot be turned off once on.
    type: bool
  workload_identity:
    description: Microsoft Entra Workload ID for pods. On when created.
    type: bool
  istio:
    description: Istio-based service mesh add-on.
    type: dict
    suboptions:
      enabled:
        description: Turn the add-on on or off.
        type: bool
        required: true
      revisions:
        description: Control plane revisions, for example C([asm-1-28]); two during a canary upgrade.
        type: list
        elements: str
      ingress_gateways:
        description: Managed ingress gateways (at most one External and one Internal).
        type: list
        elements: dict
        suboptions:
          mode:
            description: Gateway exposure.
            type: str
            choices: [External, Internal]
            required: true
          enabled:
            description: Whether the gateway runs.
            type: bool
            default: true
  gateway_api:
    description: Install the managed Gateway API CRDs (C(ingressProfile.gatewayAPI.installation=Standard)).
    type: bool
  kaito:
    description: AI toolchain operator (KAITO) add-on.
    type: bool
  monitoring:
    description: Azure Monitor managed Prometheus metrics add-on.
    type: dict
    suboptions:
      enabled:
        description: Collect metrics.
        type: bool
        required: true
      metric_labels_allowlist:
        description: Extra Kubernetes labels kube-state-metrics exports, for example C(pods=[app]).
        type: str
      metric_annotations_allowlist:
        description: Kubernetes annotations kube-state-metrics exports.
        type: str
  keda:
    description: KEDA event-driven autoscaling add-on.
    type: bool
  node_provisioning:
    description: Node auto provisioning (Karpenter).
    type: dict
    suboptions:
      mode:
        description: C(Auto) lets AKS provision nodes for pending pods; autoscaled pools are then not allowed.
        type: str
        choices: [Manual, Auto]
        required: true
      default_node_pools:
        description: Whether AKS creates its default Karpenter node pools.
        type: str
        choices: ['None', Auto]
  autoscaler_profile:
    description:
      - Cluster autoscaler settings, with AKS's keys in kebab-case or snake_case (for example C(scan-interval), C(expander)).
    type: dict
  network_profile:
    description: Network settings. Only creation-time except O(network_profile.network_policy) and O(network_profile.network_dataplane).
    type: dict
    suboptions:
      network_plugin:
        description: CNI plugin.
        type: str
        choices: [azure, kubenet, none]
      network_plugin_mode:
        description: C(overlay) for Azure CNI Overlay.
        type: str
        choices: [overlay]
      network_dataplane:
        description: Dataplane.
        type: str
        choices: [azure, cilium]
      network_policy:
        description: Network policy engine.
        type: str
        choices: [none, calico, azure, cilium]
      outbound_type:
        description: Egress type.
        type: str
        choices: [loadBalancer, userDefinedRouting, managedNATGateway, userAssignedNATGateway, none]
      pod_cidr:
        description: Pod CIDR (overlay and kubenet).
        type: str
      service_cidr:
        description: Service CIDR.
        type: str
      dns_service_ip:
        description: Cluster DNS service IP, inside O(network_profile.service_cidr).
        type: str
      load_balancer_sku:
        description: Load balancer SKU.
        type: str
        choices: [standard, basic]
  entra:
    description: Microsoft Entra ID integration. Managed Entra ID with Azure RBAC is used on create when unset.
    type: dict
    suboptions:
      azure_rbac:
        description: Authorize Kubernetes access with Azure role assignments.
        type: bool
        default: true
      admin_group_object_ids:
        description: Entra groups that are cluster administrators.
        type: list
        elements: str
      tenant_id:
        description: Tenant of the Entra ID integration (the subscription's by default).
        type: str
  local_accounts:
    description:
      - Allow the static local admin account. Off when created (Entra ID only); C(true) is the proof-of-concept behaviour.
    type: bool
  api_server_authorized_ip_ranges:
    description: Only these CIDRs may reach the API server.
    type: list
    elements: str
  system_pool:
    description:
      - The system node pool, sent in the cluster body. Required to create. Other pools are managed with M(aiplatform.aks.aks_nodepool).
    type: dict
    suboptions:
      name:
        description: Pool name (1-12 lowercase letters and digits).
        type: str
        default: system
      only_critical_addons:
        description: Taint the pool C(CriticalAddonsOnly=true:NoSchedule) so only system add-ons run there.
        type: bool
        default: false
      vm_size:
        description: VM size. Cannot change in place.
        type: str
      count:
        description: Node count (with autoscaling, only on create).
        type: int
      enable_auto_scaling:
        description: Autoscale between min and max.
        type: bool
      min_count:
        description: Fewest nodes (at least 1 for a system pool).
        type: int
      max_count:
        description: Most nodes.
        type: int
      zones:
        description: Availability zones. Cannot change in place.
        type: list
        elements: str
      os_sku:
        description: Node OS. Cannot change in place.
        type: str
        choices: [Ubuntu, Ubuntu2204, Ubuntu2404, AzureLinux, AzureLinux3]
      os_disk_size_gb:
        description: OS disk size in GB. Cannot change in place.
        type: int
      max_pods:
        description: Most pods per node. Cannot change in place.
        type: int
      labels:
        description: Node labels.
        type: dict
      taints:
        description: Node taints as C(key=value:Effect).
        type: list
        elements: str
      kubernetes_version:
        description: Kubernetes version of the pool.
        type: str
extends_documentation_fragment:
  - aiplatform.aks.resource_group
  - aiplatform.aks.state
  - aiplatform.aks.azure_auth
  - aiplatform.aks.azure_location
  - aiplatform.aks.attributes
  - aiplatform.aks.azure_tags
attributes:
  check_mode:
    description: Reads and compares, writes nothing, and returns the body that would be sent.
    support: full
requirements:
  - azure-mgmt-containerservice >= 41
'''

EXAMPLES = r'''
- name: AI-conformant cluster (the Terraform environment's settings)
  aiplatform.aks.aks_cluster:
    name: aks-ai-platform
    resource_group: rg-ai-platform
    location: westeurope
    kubernetes_version: "1.34"
    gateway_api: true
    kaito: true
    monitoring:
      enabled: true
    istio:
      enabled: true
      revisions: [asm-1-28]
      ingress_gateways:
        - mode: External
    system_pool:
      vm_size: Standard_D2s_v3
      enable_auto_scaling: true
      min_count: 2
      max_count: 5
      zones: ["1", "2", "3"]
      only_critical_addons: true

- name: Raise the autoscaler ceiling of the system pool (nothing else is touched)
  aiplatform.aks.aks_cluster:
    name: aks-ai-platform
    resource_group: rg-ai-platform
    system_pool:
      enable_auto_scaling: true
      min_count: 2
      max_count: 8
'''

RETURN = r'''
cluster:
  description: The cluster as AKS returns it (wire format; credentials are never included), or null when absent.
  returned: always
  type: dict
  sample:
    name: aks-ai-platform
    location: westeurope
    properties:
      kubernetesVersion: "1.34"
      provisioningState: Succeeded
      oidcIssuerProfile: {enabled: true, issuerURL: "https://westeurope.oic.prod-aks.azure.com/0000/1111/"}
differences:
  description: Dotted wire paths that differed from the cluster.
  returned: always
  type: list
  elements: str
  sample: [properties.agentPoolProfiles.system.maxCount]
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.cluster import ManagedCluster
from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import AKS_SDK
from ansible_collections.aiplatform.aks.plugins.module_utils.aks.nodepool import POOL_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import LOCATION_ARG_SPEC, RESOURCE_GROUP_ARG_SPEC, TAGS_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def argument_spec():
    pool = merge_specs(POOL_ARG_SPEC, name=dict(type='str', default='system'), only_critical_addons=dict(type='bool', default=False))
    return merge_specs(
        RESOURCE_GROUP_ARG_SPEC, STATE_ARG_SPEC, LOCATION_ARG_SPEC, TAGS_ARG_SPEC,
        name=dict(type='str', required=True),
        dns_prefix=dict(type='str'),
        kubernetes_version=dict(type='str'),
        sku_tier=dict(type='str', choices=['Free', 'Standard', 'Premium']),
        identity=dict(type='dict', options=dict(
            type=dict(type='str', required=True, choices=['SystemAssigned', 'UserAssigned']),
            user_assigned_identity=dict(type='str'))),
        oidc_issuer=dict(type='bool'),
        workload_identity=dict(type='bool'),
        istio=dict(type='dict', options=dict(
            enabled=dict(type='bool', required=True),
            revisions=dict(type='list', elements='str'),
            ingress_gateways=dict(type='list', elements='dict', options=dict(
                mode=dict(type='str', required=True, choices=['External', 'Internal']),
                enabled=dict(type='bool', default=True))))),
        gateway_api=dict(type='bool'),
        kaito=dict(type='bool'),
        monitoring=dict(type='dict', options=dict(
            enabled=dict(type='bool', required=True),
            metric_labels_allowlist=dict(type='str'),
            metric_annotations_allowlist=dict(type='str'))),
        keda=dict(type='bool'),
        node_provisioning=dict(type='dict', options=dict(
            mode=dict(type='str', required=True, choices=['Manual', 'Auto']),
            default_node_pools=dict(type='str', choices=['None', 'Auto']))),
        autoscaler_profile=dict(type='dict'),
        network_profile=dict(type='dict', options=dict(
            network_plugin=dict(type='str', choices=['azure', 'kubenet', 'none']),
            network_plugin_mode=dict(type='str', choices=['overlay']),
            network_dataplane=dict(type='str', choices=['azure', 'cilium']),
            network_policy=dict(type='str', choices=['none', 'calico', 'azure', 'cilium']),
            outbound_type=dict(type='str', choices=['loadBalancer', 'userDefinedRouting', 'managedNATGateway', 'userAssignedNATGateway', 'none']),
            pod_cidr=dict(type='str'), service_cidr=dict(type='str'), dns_service_ip=dict(type='str'),
            load_balancer_sku=dict(type='str', choices=['standard', 'basic']))),
        entra=dict(type='dict', options=dict(
            azure_rbac=dict(type='bool', default=True),
            admin_group_object_ids=dict(type='list', elements='str'),
            tenant_id=dict(type='str'))),
        local_accounts=dict(type='bool'),
        api_server_authorized_ip_ranges=dict(type='list', elements='str'),
        system_pool=dict(type='dict', options=pool),
    )


def main():
    AzureModule(argument_spec=argument_spec(), required_libs=[AKS_SDK.requirement]).run(ManagedCluster)


if __name__ == '__main__':
    main()
