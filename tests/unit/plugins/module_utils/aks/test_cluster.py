"""Cluster options: bad input refused with a message naming the option; the wire body holds only what was set."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.cluster import autoscaler_keys, check_cluster, cluster_body

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
