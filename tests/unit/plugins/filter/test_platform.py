"""The role filters: state splits, where test prompts go, routes to models that do not serve, and the KAITO chart's
values and namespace Pod Security labels."""

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.filter.platform import (
    FilterModule, kaito_helm_values, kaito_pod_security, probe_target, route_problems, unserved_backends, wait_looks, with_state)

MODELS = [{'name': 'a'}, {'name': 'b', 'state': 'absent'}, {'name': 'c', 'state': 'present'}, {'name': 'd'}]


def names(entries):
    return [entry['name'] for entry in entries]


# --- with_state ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('state, default_state, expected', [
    ('present', 'present', ['a', 'd', 'c']),  # entries without a state first, then those that ask for it
    ('absent', 'present', ['b']),
    ('present', 'absent', ['c']),  # an entry's own state wins over the role's
    ('absent', 'absent', ['a', 'd', 'b']),
])
def test_with_state_lets_an_entrys_own_state_win(state, default_state, expected):
    assert names(with_state(MODELS, state, default_state)) == expected


def test_with_state_defaults_to_present_and_leaves_the_input_alone():
    before = copy.deepcopy(MODELS)
    assert names(with_state(MODELS, 'present')) == ['a', 'd', 'c']
    assert MODELS == before


def test_with_state_of_nothing_is_nothing():
    assert with_state([], 'present') == []
    assert with_state(None, 'absent', 'absent') == []


def test_with_state_leaves_out_entries_with_another_or_a_null_state():
    entries = [{'name': 'x', 'state': 'gone'}, {'name': 'y', 'state': None}, {'name': 'z'}]
    assert names(with_state(entries, 'present')) == ['z']
    assert names(with_state(entries, 'absent')) == []


def test_with_state_refuses_an_unknown_state():
    with pytest.raises(AnsibleFilterError, match='present or absent'):
        with_state(MODELS, 'gone')
    with pytest.raises(AnsibleFilterError, match='present or absent'):
        with_state(MODELS, 'present', 'Present')


# --- probe_target ------------------------------------------------------------------------------------------------
MODEL = {'name': 'phi', 'namespace': 'ai'}


def test_probe_target_prefers_the_models_own_url():
    model = dict(MODEL, probe={'url': 'http://phi.example', 'prompts': ['hi']})
    assert probe_target(model, 'http://gateway.example') == {'url': 'http://phi.example'}


@pytest.mark.parametrize('probe', [{}, {'url': ''}, {'url': None}, None])
def test_probe_target_falls_back_to_the_roles_url(probe):
    model = dict(MODEL) if probe is None else dict(MODEL, probe=probe)
    assert probe_target(model, 'http://gateway.example') == {'url': 'http://gateway.example'}


@pytest.mark.parametrize('url', ['', None])
def test_probe_target_without_any_url_is_the_models_service(url):
    assert probe_target(dict(MODEL, probe={'prompts': ['hi']}), url) == {'service': 'phi', 'namespace': 'ai'}
    assert probe_target(dict(MODEL, probe={'url': ''})) == {'service': 'phi', 'namespace': 'ai'}


# --- unserved_backends ---------------------------------------------------------------------------------------------
def served(*entries):
    """kaito_workspace loop results from (namespace, name, ready); ready None is a skipped item (no ready key)."""
    return [{'item': {'namespace': ns, 'name': name}, 'ready': ready} if ready is not None
            else {'item': {'namespace': ns, 'name': name}, 'skipped': True} for ns, name, ready in entries]


ROUTE = {'name': 'chat', 'namespace': 'ai', 'backends': [{'workspace': 'phi', 'weight': 90}, {'service': 'other', 'port': 80}],
         'header_matches': [{'name': 'x-variant', 'value': 'b', 'workspace': 'bloom'}]}


def test_unserved_backends_is_empty_when_every_routed_model_serves():
    assert unserved_backends([ROUTE], served(('ai', 'phi', True), ('ai', 'bloom', True))) == []


def test_unserved_backends_names_the_models_that_are_not_ready():
    assert unserved_backends([ROUTE], served(('ai', 'phi', True), ('ai', 'bloom', False))) == ['ai/bloom']
    # a skipped wait and a model of that name in another namespace do not count as serving
    assert unserved_backends([ROUTE], served(('ai', 'phi', None), ('other', 'bloom', True))) == ['ai/phi', 'ai/bloom']


def test_unserved_backends_lists_each_model_once_in_route_order():
    other = {'name': 'chat2', 'namespace': 'ai', 'backends': [{'workspace': 'bloom'}, {'workspace': 'mistral'}],
             'header_matches': [{'name': 'x', 'value': 'y', 'workspace': 'phi'}]}
    assert unserved_backends([ROUTE, other], []) == ['ai/phi', 'ai/bloom', 'ai/mistral']


def test_unserved_backends_checks_only_workspaces():
    only_services = {'name': 'r', 'namespace': 'ai', 'backends': [{'service': 's', 'port': 1}],
                     'header_matches': [{'name': 'x', 'value': 'y', 'service': 't'}]}
    no_backends = {'name': 'empty', 'namespace': 'ai'}
    null_backends = {'name': 'null', 'namespace': 'ai', 'backends': None, 'header_matches': None}
    assert unserved_backends([only_services, no_backends, null_backends], None) == []


def test_unserved_backends_of_no_routes_is_empty():
    assert unserved_backends([], served(('ai', 'phi', False))) == []
    assert unserved_backends(None, None) == []


# --- kaito_helm_values ---------------------------------------------------------------------------------------------
def test_kaito_helm_values_for_bring_your_own_nodes_without_the_gpu_operator():
    assert kaito_helm_values('ai-platform', 'byo', False) == {
        'clusterName': 'ai-platform', 'nodeProvisioner': 'byo',
        'featureGates': {'disableNodeAutoProvisioning': True},
        'localCSIDriver': {'useLocalCSIDriver': False},
        'nvidiaDevicePlugin': {'enabled': True},
        'gpu-feature-discovery': {'nfd': {'enabled': True}, 'gfd': {'enabled': True}},
    }


def test_kaito_helm_values_keep_node_auto_provisioning_for_a_provisioner():
    values = kaito_helm_values('c', 'azure-gpu-provisioner', False, local_csi_driver=True)
    assert values['featureGates'] == {'disableNodeAutoProvisioning': False}
    assert values['localCSIDriver'] == {'useLocalCSIDriver': True}


def test_kaito_helm_values_turn_kaitos_gpu_agents_off_under_the_gpu_operator():
    values = kaito_helm_values('c', 'byo', True)
    assert values['nvidiaDevicePlugin'] == {'enabled': False}
    assert values['gpu-feature-discovery'] == {'nfd': {'enabled': False}, 'gfd': {'enabled': False}}


def test_kaito_helm_values_lay_feature_gates_over_the_computed_one_key_by_key():
    values = kaito_helm_values('c', 'byo', False, feature_gates={'enableMIG': True, 'disableNodeAutoProvisioning': False})
    assert values['featureGates'] == {'disableNodeAutoProvisioning': False, 'enableMIG': True}
    # like combine without recursive: a gate's value is replaced whole
    nested = kaito_helm_values('c', 'byo', False, feature_gates={'disableNodeAutoProvisioning': {'x': 1}})
    assert nested['featureGates'] == {'disableNodeAutoProvisioning': {'x': 1}}


def test_kaito_helm_values_merge_the_overrides_last_and_recursively_without_modifying_them():
    gates = {'gatewayAPIInferenceExtension': True}
    overrides = {'featureGates': {'disableNodeAutoProvisioning': False}, 'gpu-feature-discovery': {'gfd': {'enabled': True}},
                 'image': {'tag': 'v0.12.0'}, 'nvidiaDevicePlugin': None}
    before = copy.deepcopy((gates, overrides))
    values = kaito_helm_values('c', 'byo', True, feature_gates=gates, overrides=overrides)
    assert values['featureGates'] == {'disableNodeAutoProvisioning': False, 'gatewayAPIInferenceExtension': True}
    assert values['gpu-feature-discovery'] == {'nfd': {'enabled': False}, 'gfd': {'enabled': True}}
    assert values['image'] == {'tag': 'v0.12.0'}
    assert values['nvidiaDevicePlugin'] is None, 'a value that is not a mapping replaces the computed one'
    assert (gates, overrides) == before
    values['image']['tag'] = 'changed'
    assert overrides['image'] == {'tag': 'v0.12.0'}, 'the result shares nothing with the overrides'


def test_kaito_helm_values_without_overrides():
    assert kaito_helm_values('c', 'byo', False, feature_gates=None, overrides=None) == kaito_helm_values('c', 'byo', False)
    assert kaito_helm_values('c', 'byo', False, feature_gates={}, overrides={}) == kaito_helm_values('c', 'byo', False)


# --- kaito_pod_security --------------------------------------------------------------------------------------------
RESTRICTED = {'enforce': 'restricted', 'audit': 'restricted', 'warn': 'restricted'}
PRIVILEGED = {'enforce': 'privileged', 'audit': 'restricted', 'warn': 'restricted'}


@pytest.mark.parametrize('gpu_operator_runs, local_csi_driver, expected', [
    (False, False, PRIVILEGED),  # KAITO's device plugin and GPU discovery need host access
    (True, True, PRIVILEGED),  # the local CSI driver does too
    (True, False, RESTRICTED),  # only the controller
])
def test_kaito_pod_security_follows_the_node_agents_the_chart_deploys(gpu_operator_runs, local_csi_driver, expected):
    values = kaito_helm_values('c', 'byo', gpu_operator_runs, local_csi_driver=local_csi_driver)
    assert kaito_pod_security(values) == expected


@pytest.mark.parametrize('overrides', [
    {'nvidiaDevicePlugin': {'enabled': True}},
    {'gpu-feature-discovery': {'nfd': {'enabled': True}}},
    {'gpu-feature-discovery': {'gfd': {'enabled': True}}},
    {'localCSIDriver': {'useLocalCSIDriver': 'yes'}},
])
def test_kaito_pod_security_any_one_node_agent_needs_privileged(overrides):
    assert kaito_pod_security(kaito_helm_values('c', 'byo', True, overrides=overrides)) == PRIVILEGED


def test_kaito_pod_security_reads_string_flags_as_booleans_and_missing_flags_as_off():
    off = {'nvidiaDevicePlugin': {'enabled': 'false'}, 'gpu-feature-discovery': {'nfd': {'enabled': 'no'}, 'gfd': None},
           'localCSIDriver': {}}
    assert kaito_pod_security(off) == RESTRICTED
    assert kaito_pod_security({}) == RESTRICTED
    assert kaito_pod_security({'nvidiaDevicePlugin': None, 'gpu-feature-discovery': 'x'}) == RESTRICTED


def test_kaito_pod_security_takes_the_users_labels_when_given():
    chosen = {'enforce': 'baseline'}
    assert kaito_pod_security(kaito_helm_values('c', 'byo', False), chosen) is chosen
    assert kaito_pod_security(kaito_helm_values('c', 'byo', False), {}) == PRIVILEGED
    assert kaito_pod_security(kaito_helm_values('c', 'byo', False), None) == PRIVILEGED


def test_every_filter_is_exported_under_its_name():
    assert FilterModule().filters() == {
        'with_state': with_state, 'probe_target': probe_target, 'unserved_backends': unserved_backends,
        'kaito_helm_values': kaito_helm_values, 'kaito_pod_security': kaito_pod_security, 'wait_looks': wait_looks,
        'route_problems': route_problems}


@pytest.mark.parametrize('timeout, interval, looks', [(900, 30, 30), (901, 30, 31), (2, 1, 2), (0, 5, 1), ('600', '30', 20), (10, 0.5, 20)])
def test_a_wait_looks_once_per_interval_rounding_up_and_at_least_once(timeout, interval, looks):
    assert wait_looks(timeout, interval) == looks


@pytest.mark.parametrize('timeout, interval, message', [
    (900, 0, 'the interval must be more than 0 seconds'), ('soon', 30, 'timeout and interval must be numbers'),
    (None, 30, 'timeout and interval must be numbers')])
def test_a_wait_without_a_positive_interval_or_a_number_is_refused(timeout, interval, message):
    with pytest.raises(AnsibleFilterError, match=message):
        wait_looks(timeout, interval)


ROUTE_MODELS = [{'name': 'phi-4-mini', 'namespace': 'ai'}, {'name': 'phi-4-mini-canary', 'namespace': 'ai'}]


def route(**changes):
    return dict({'name': 'chat', 'namespace': 'ai', 'backends': [{'workspace': 'phi-4-mini', 'weight': 90}, {'workspace': 'phi-4-mini-canary', 'weight': 10}],
                 'header_matches': [{'name': 'x-model-variant', 'value': 'canary', 'workspace': 'phi-4-mini-canary'}]}, **changes)


def test_routes_the_gateway_api_and_the_models_allow_have_no_problem():
    assert route_problems([route(), route(backends=[{'service': 'other', 'port': 8080, 'weight': 0}, {'workspace': 'phi-4-mini'}])],
                          ROUTE_MODELS) == []


@pytest.mark.parametrize('changes, message', [
    ({'backends': [{'workspace': 'phi-4-mini', 'weight': 1000001}]},
     'model_workspace_routes[chat].backends[0].weight must be a whole number from 0 to 1000000, got 1000001'),
    ({'backends': [{'workspace': 'phi-4-mini', 'weight': -1}]}, 'model_workspace_routes[chat].backends[0].weight must be a whole number'),
    ({'backends': [{'workspace': 'phi-4-mini', 'weight': '90'}]},
     "model_workspace_routes[chat].backends[0].weight must be a whole number from 0 to 1000000, got '90'"),
    ({'backends': [{'workspace': 'phi-4-mini', 'weight': 0}, {'service': 'other', 'weight': 0}]},
     'model_workspace_routes[chat].backends weights add up to 0'),
    ({'backends': [{'workspace': 'llama', 'weight': 1}]},
     'model_workspace_routes[chat].backends[0].workspace llama is not a model of model_workspace_models in namespace ai'),
    ({'namespace': 'other'}, 'model_workspace_routes[chat].backends[0].workspace phi-4-mini is not a model of model_workspace_models in namespace other'),
    ({'backends': [{'workspace': 'phi-4-mini', 'service': 'other'}]},
     'model_workspace_routes[chat].backends[0] must name one workspace or one service, got workspace, service'),
    ({'header_matches': [{'name': 'x', 'value': 'y'}]}, 'model_workspace_routes[chat].header_matches[0] must name one workspace or one service, got neither'),
    ({'backends': []}, 'model_workspace_routes[chat].backends is empty'),
    ({'header_matches': [{'name': 'x-variant', 'value': str(i), 'workspace': 'phi-4-mini'} for i in range(16)]},
     'model_workspace_routes[chat] has 17 rules (one per header match, and the weighted split); an HTTPRoute allows 16'),
    ({'hostnames': ['h%d.example.com' % i for i in range(17)]}, 'model_workspace_routes[chat].hostnames has 17 names; an HTTPRoute allows 16'),
])
def test_route_problems_name_the_route_and_the_field(changes, message):
    assert any(p.startswith(message) for p in route_problems([route(**changes)], ROUTE_MODELS)), route_problems([route(**changes)], ROUTE_MODELS)
