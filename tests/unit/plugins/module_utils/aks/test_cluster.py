"""Cluster options: bad input refused with a message naming the option; the wire body holds only what was set."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.cluster import (
    AUTOSCALER_KINDS, ManagedCluster, autoscaler_keys, check_cluster, cluster_body, summarize)

SYSTEM = {'name': 'system', 'vm_size': 'Standard_D2s_v3', 'enable_auto_scaling': True, 'min_count': 2, 'max_count': 5,
          'zones': ['1', '2', '3'], 'only_critical_addons': True}


@pytest.mark.parametrize('changes, message', [
    ({'kubernetes_version': '1.x'}, 'must look like 1.34'),
    ({'kubernetes_version': '1.31'}, 'is too old'),
    ({'dns_prefix': '-bad-'}, 'dns_prefix'),
    ({'workload_identity': True, 'oidc_issuer': False}, 'workload_identity needs oidc_issuer'),
    ({'kaito': True, 'oidc_issuer': False}, 'kaito needs oidc_issuer'),
    ({'istio': {'enabled': True, 'revisions': ['asm-1-27', 'asm-1-28', 'asm-1-29']}}, 'istio.revisions takes one revision'),
    ({'istio': {'enabled': True, 'revisions': ['istio-1.28']}}, 'must look like asm-1-28'),
    ({'istio': {'enabled': True}}, 'istio.enabled needs istio.revisions'),
    ({'istio': {'enabled': True, 'revisions': ['asm-1-28'], 'ingress_gateways': [{'mode': 'External'}, {'mode': 'External'}]}},
     'at most one External'),
    ({'api_server_authorized_ip_ranges': ['10.0.0.0/33']}, 'is not an IP address or CIDR range'),
    ({'identity': {'type': 'UserAssigned'}}, 'needs identity.user_assigned_identity'),
    ({'node_provisioning': {'mode': 'Auto'}}, 'does not allow an autoscaled system_pool'),
    ({'system_pool': dict(SYSTEM, min_count=0)}, 'system_pool.min_count 0 is outside 1-1000'),
    ({'system_pool': dict(SYSTEM, vm_size='Standard D2s v3')}, 'system_pool.vm_size'),
    ({'system_pool': dict(SYSTEM, labels={'kubernetes.azure.com/x': 'y'})}, "system_pool.labels key 'kubernetes.azure.com/x' uses a prefix reserved"),
    ({'system_pool': dict(SYSTEM, taints=['a=1:NoExecute', 'a=2:NoExecute'])}, 'system_pool.taints entries'),
    ({'network_profile': {'service_cidr': '10.0.0.0/16', 'dns_service_ip': '10.1.0.10'}},
     'network_profile.dns_service_ip 10.1.0.10 is outside network_profile.service_cidr 10.0.0.0/16'),
    ({'network_profile': {'service_cidr': '10.0.0.0/16', 'dns_service_ip': '10.0.0.0'}}, 'is the network address of'),
    ({'network_profile': {'dns_service_ip': '10.0.0.300'}}, "network_profile.dns_service_ip '10.0.0.300' is not an IPv4 address"),
    ({'network_profile': {'service_cidr': '10.0.0.0/33'}}, "network_profile.service_cidr '10.0.0.0/33' is not a CIDR range"),
    ({'network_profile': {'service_cidr': '10.0.0.0/16', 'pod_cidr': '10.0.0.0/8'}}, 'network_profile.pod_cidr 10.0.0.0/8 overlaps'),
    ({'autoscaler_profile': {'scan_interval': 'often'}}, "autoscaler_profile scan-interval is 'often'; AKS expects a duration such as 10m"),
    ({'autoscaler_profile': {'scale-down-delay-after-add': '10'}}, 'scale-down-delay-after-add'),
    ({'autoscaler_profile': {'scale_down_delay_after_failure': '30s'}}, "scale-down-delay-after-failure is '30s'; AKS expects whole minutes"),
    ({'autoscaler_profile': {'max_empty_bulk_delete': 'ten'}}, 'max-empty-bulk-delete'),
    ({'autoscaler_profile': {'max_total_unready_percentage': 101}}, 'a whole number from 0 to 100'),
    ({'autoscaler_profile': {'scale_down_utilization_threshold': '1.5'}}, 'a number from 0 to 1'),
    ({'autoscaler_profile': {'expander': 'cheapest'}}, 'expects one of least-waste, most-pods, priority, random'),
    ({'autoscaler_profile': {'balance_similar_node_groups': 'yes'}}, 'true or false'),
    ({'autoscaler_profile': {'scan_intervall': '10s'}},
     "autoscaler_profile key 'scan-intervall' is not a cluster autoscaler setting (did you mean 'scan-interval'?)"),
    ({'entra': {'admin_group_object_ids': ['platform-admins']}}, "entra.admin_group_object_ids entry 'platform-admins' is not a GUID"),
    ({'entra': {'tenant_id': 'contoso.onmicrosoft.com'}}, 'entra.tenant_id'),
])
def test_bad_cluster_options(changes, message):
    params = dict({'kubernetes_version': '1.34', 'system_pool': SYSTEM}, **changes)
    problems = check_cluster(params)
    assert problems and any(message in p for p in problems), problems


def test_cluster_body_holds_only_what_was_set():
    body = cluster_body({'location': 'westeurope', 'gateway_api': True, 'kaito': True, 'local_accounts': False,
                         'istio': {'enabled': True, 'revisions': ['asm-1-28'], 'ingress_gateways': [{'mode': 'External', 'enabled': True}]},
                         'monitoring': {'enabled': True}, 'system_pool': SYSTEM})
    props = body['properties']
    assert props['ingressProfile'] == {'gatewayAPI': {'installation': 'Standard'}}
    assert props['aiToolchainOperatorProfile'] == {'enabled': True}
    assert props['disableLocalAccounts'] is True
    assert props['serviceMeshProfile']['istio']['components']['ingressGateways'] == [{'mode': 'External', 'enabled': True}]
    pool = props['agentPoolProfiles'][0]
    assert pool['nodeTaints'] == ['CriticalAddonsOnly=true:NoSchedule'] and pool['mode'] == 'System'
    assert pool['availabilityZones'] == ['1', '2', '3'] and pool['minCount'] == 2
    assert props['oidcIssuerProfile'] is None, 'unset options stay None (left alone)'


def test_autoscaler_keys_are_kebab_case_strings():
    assert autoscaler_keys({'scan_interval': '20s', 'expander': 'least-waste', 'skip-nodes-with-system-pods': False,
                            'ignore_daemonsets_utilization': True}) == {
        'scan-interval': '20s', 'expander': 'least-waste', 'skip-nodes-with-system-pods': 'false', 'ignore-daemonsets-utilization': True}


def test_good_network_autoscaler_and_entra_pass():
    assert check_cluster({'kubernetes_version': '1.34', 'system_pool': SYSTEM,
                          'network_profile': {'service_cidr': '10.0.0.0/16', 'dns_service_ip': '10.0.0.10', 'pod_cidr': '10.244.0.0/16'},
                          'autoscaler_profile': {'scan_interval': '20s', 'scale_down_unneeded_time': '10m', 'max_empty_bulk_delete': 10,
                                                 'scale_down_utilization_threshold': '0.5', 'expander': 'least-waste',
                                                 'skip_nodes_with_system_pods': False, 'daemonset_eviction_for_empty_nodes': True},
                          'entra': {'admin_group_object_ids': ['6f1c2a2e-9d7b-4b8e-a7a4-0c1d2e3f4a5b']}}) == []


def test_every_autoscaler_key_of_the_api_has_a_kind():
    import json
    import os
    spec = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'bed', 'arm_emulator', 'specs', 'specification',
                        'containerservice', 'resource-manager', 'Microsoft.ContainerService', 'aks', 'stable', '2026-08-01',
                        'managedClusters.json')
    with open(spec) as handle:
        keys = json.load(handle)['definitions']['ManagedClusterPropertiesAutoScalerProfile']['properties']
    assert sorted(keys) == sorted(AUTOSCALER_KINDS)


@pytest.mark.parametrize('timeout, state, message', [
    (0, 'present', 'timeout must be a positive number of seconds, got 0'),
    (0, 'absent', 'timeout must be a positive number of seconds, got 0'),
])
def test_timeout_zero_is_refused_before_writing(timeout, state, message):
    assert message in ManagedCluster.check_input({'timeout': timeout, 'state': state, 'kubernetes_version': '1.34', 'system_pool': SYSTEM})


def test_the_summary_of_a_pool_has_its_gpu_and_mig_profiles():
    gpu = {'name': 'gpunp', 'vmSize': 'Standard_NC24ads_A100_v4', 'gpuProfile': {'driver': 'None'}, 'gpuInstanceProfile': 'MIG1g'}
    pools = summarize({'name': 'aks', 'properties': {'agentPoolProfiles': [gpu, {'name': 'system', 'vmSize': 'Standard_D4ds_v5'}]}})['pools']
    assert [(p['name'], p['gpuProfile'], p['gpuInstanceProfile']) for p in pools] == [
        ('gpunp', {'driver': 'None'}, 'MIG1g'), ('system', None, None)]
