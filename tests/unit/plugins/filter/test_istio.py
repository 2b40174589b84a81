"""istio_plan and istio_namespace_labels: where Istio comes from and why, the revision (one, two, chosen), who owns the
Gateway API CRDs, the APIs the plan needs, bad input naming the variable, and the namespaces' labels."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.filter.istio import istio_namespace_labels as labels
from ansible_collections.aiplatform.aks.plugins.filter.istio import istio_plan as plan

SERVED = {'security.istio.io/v1': True, 'networking.istio.io/v1': True, 'gateway.networking.k8s.io/v1': True,
          'inference.networking.k8s.io/v1': False}


def info(*revisions, managed_by_aks=False, apis=None):
    """What istio_info returns, with istiod Deployments of `revisions` ((revision, namespace) or a name)."""
    found = [dict(revision=r, namespace='aks-istio-system') if isinstance(r, str) else dict(revision=r[0], namespace=r[1]) for r in revisions]
    for item in found:
        item.update(deployment='istiod-' + item['revision'], ready=True)
    return {'revisions': found, 'revision_names': sorted(set(r['revision'] for r in found)),
            'gateway_api': {'installed': True, 'managed_by_aks': managed_by_aks, 'crds': []}, 'apis': dict(SERVED, **(apis or {}))}


def addon(*revisions, gateway_api=True):
    return {'istio': bool(revisions), 'istio_revisions': list(revisions), 'gateway_api': gateway_api}


def test_the_aks_add_on_is_chosen_on_aks_and_its_one_revision_used():
    chosen = plan(info('asm-1-28'), addon('asm-1-28'), namespaces=['ai-serving'])
    assert chosen['problems'] == []
    assert (chosen['install'], chosen['revision'], chosen['root_namespace']) == ('addon', 'asm-1-28', 'aks-istio-system')
    assert chosen['why'] == 'the AKS cluster has the Istio add-on (serviceMeshProfile.mode Istio)'
    assert chosen['gateway_api_owned_by_aks'] is True


def test_during_an_upgrade_two_revisions_need_istio_revision_which_is_then_used():
    refused = plan(info('asm-1-27', 'asm-1-28'), addon('asm-1-27', 'asm-1-28'))
    assert refused['revision'] is None
    assert refused['problems'] == ['two Istio revisions are installed (asm-1-27, asm-1-28), as during an upgrade of the add-on: '
                                   'set istio_revision to the one the model namespaces should use']
    chosen = plan(info('asm-1-27', 'asm-1-28'), addon('asm-1-27', 'asm-1-28'), revision='asm-1-28')
    assert chosen['problems'] == [] and chosen['revision'] == 'asm-1-28'
    assert plan(info('asm-1-28'), addon('asm-1-28'), revision='asm-1-30')['problems'] == [
        'istio_revision asm-1-30 is not installed; installed: asm-1-28']


def test_off_aks_an_istiod_found_is_used_and_without_one_helm_installs():
    found = plan(info(('default', 'istio-system')))
    assert (found['install'], found['revision'], found['root_namespace'], found['problems']) == ('none', 'default', 'istio-system', [])
    assert found['why'] == 'istiod already runs (revisions default): the role uses it and installs nothing'
    assert found['gateway_api_owned_by_aks'] is False
    helm = plan(info(), helm_namespace='mesh-system')
    assert (helm['install'], helm['revision'], helm['root_namespace'], helm['problems']) == ('helm', 'default', 'mesh-system', [])


def test_crds_marked_as_aks_managed_are_owned_by_aks_even_without_the_cluster_read():
    assert plan(info('default', managed_by_aks=True))['gateway_api_owned_by_aks'] is True


@pytest.mark.parametrize('kwargs, message', [
    ({'install': 'operator'}, "istio_install must be one of auto, addon, helm, none, got 'operator'"),
    ({'mtls': 'strict'}, "istio_mtls must be one of STRICT, PERMISSIVE, DISABLE, none, got 'strict'"),
    ({'revision': 'ASM 1.28'}, "istio_revision 'ASM 1.28' is not a revision name"),
    ({'namespaces': ['ai-serving', 'Bad_NS']}, "istio_namespaces item 2 'Bad_NS' is not a namespace name"),
    ({'namespaces': ['kaito-system', 'gpu-operator', 'ai']}, 'istio_namespaces must not hold gpu-operator, kaito-system: admission webhooks'),
    ({'namespaces': 'ai-serving'}, "istio_namespaces must be a list of namespace names, got 'ai-serving'"),
    ({'destination_rules': [{'name': 'epp', 'namespace': 'ai', 'host': 'epp.ai.svc.cluster.local', 'tls_mode': 'OFF'}]},
     "istio_destination_rules item 1.tls_mode must be one of DISABLE, SIMPLE, ISTIO_MUTUAL, got 'OFF'"),
    ({'destination_rules': [{'name': 'epp', 'namespace': 'ai'}]}, 'istio_destination_rules item 1.host must name the Service'),
    ({'destination_rules': [{'name': 'epp', 'namespace': 'ai', 'host': 'h', 'port': 9002}]}, 'istio_destination_rules item 1 has unknown keys port'),
    ({'install': 'addon'}, 'istio_install addon needs an AKS cluster'),
    ({'install': 'none', 'aks': None}, 'istio_install none: no istiod runs in the control plane namespaces'),
])
def test_bad_input_is_a_problem_naming_the_variable(kwargs, message):
    given = dict(kwargs)
    found = info() if given.get('install') in ('addon', 'none') else info('default')
    assert any(p.startswith(message) for p in plan(found, **given)['problems']), plan(found, **given)['problems']


def test_the_add_on_mode_on_a_cluster_without_the_add_on_says_how_to_get_it():
    assert plan(info(), addon(), install='addon')['problems'][0].startswith(
        'istio_install addon: the AKS cluster has no Istio add-on; set aks_cluster_istio_revisions')


@pytest.mark.parametrize('apis, aks, message', [
    ({'gateway.networking.k8s.io/v1': False}, addon('asm-1-28'),
     'istio_gateway needs the Gateway API (gateway.networking.k8s.io/v1), which is not served: turn on aks_cluster_gateway_api'),
    ({'gateway.networking.k8s.io/v1': False}, None,
     'istio_gateway needs the Gateway API (gateway.networking.k8s.io/v1), which is not served: install its standard-channel CRDs, or set istio_gateway: false'),
    ({'security.istio.io/v1': False}, addon('asm-1-28'), "istio_mtls STRICT needs Istio's PeerAuthentication (security.istio.io/v1)"),
])
def test_apis_the_plan_needs_must_be_served(apis, aks, message):
    found = info('asm-1-28', apis=apis)
    assert any(p.startswith(message) for p in plan(found, aks)['problems'])


def test_without_mtls_peer_authentication_is_not_needed_and_without_the_gateway_the_gateway_api():
    assert plan(info('asm-1-28', apis={'security.istio.io/v1': False}), addon('asm-1-28'), mtls='none')['problems'] == []
    assert plan(info(apis={'gateway.networking.k8s.io/v1': False}), gateway=False)['problems'] == []


def test_the_plan_needs_istio_info_output():
    with pytest.raises(AnsibleFilterError, match='must be what istio_info returns'):
        plan({'revisions': []})


def test_namespaces_get_the_revision_and_gateway_labels_and_lose_istio_injection():
    chosen = plan(info('asm-1-28'), addon('asm-1-28'))
    found = [{'item': 'ai-serving', 'resources': [{'metadata': {'labels': {'istio-injection': 'enabled', 'team': 'a'}}}]},
             {'item': 'bloomz', 'resources': []}]
    assert labels(chosen, found, 'inference') == {
        'apply': {'ai-serving': {'istio.io/rev': 'asm-1-28', 'aiplatform.aks/inference-gateway': 'inference'},
                  'bloomz': {'istio.io/rev': 'asm-1-28', 'aiplatform.aks/inference-gateway': 'inference'}},
        'remove_injection': ['ai-serving']}
    assert labels(chosen, found[1:])['apply'] == {'bloomz': {'istio.io/rev': 'asm-1-28'}}
    with pytest.raises(AnsibleFilterError, match='must be a plan from istio_plan'):
        labels({}, found)


POOL = {'name': 'phi-4-mini', 'namespace': 'ai', 'match_labels': {'kaito.sh/workspace': 'phi-4-mini'}, 'target_port': 5000,
        'endpoint_picker': {'name': 'phi-4-mini-epp'}}


def test_inference_pools_need_the_inference_extension_served():
    assert plan(info('default', apis={'inference.networking.k8s.io/v1': True}), inference_pools=[POOL])['problems'] == []
    assert plan(info('default'), inference_pools=[POOL])['problems'] == [
        'istio_inference_pools needs the Gateway API Inference Extension (inference.networking.k8s.io/v1), which is not served: '
        'install its InferencePool CRD (v1.0 or later)']


@pytest.mark.parametrize('changes, message', [
    ({'match_labels': {}}, 'istio_inference_pools item 1.match_labels must select the model server pods'),
    ({'target_port': 70000}, 'istio_inference_pools item 1.target_port must be a port number from 1 to 65535, got 70000'),
    ({'namespace': 'AI'}, "istio_inference_pools item 1.namespace 'AI' is not a name"),
    ({'endpoint_picker': {'port': 9002}}, "istio_inference_pools item 1.endpoint_picker must name the picker's Service"),
    ({'selector': {}}, 'istio_inference_pools item 1 has unknown keys selector'),
])
def test_bad_inference_pools_name_the_item_and_field(changes, message):
    found = info('default', apis={'inference.networking.k8s.io/v1': True})
    assert any(p.startswith(message) for p in plan(found, inference_pools=[dict(POOL, **changes)])['problems'])


def crds_of(bundle, *owners):
    return {'installed': bool(bundle), 'managed_by_aks': 'aks' in owners, 'bundle_version': bundle,
            'crds': [{'name': 'gateways.gateway.networking.k8s.io', 'managed_by': owner} for owner in owners or (None,)] if bundle else []}


@pytest.mark.parametrize('crds, install, why', [
    (crds_of(None), True, 'no Gateway API CRDs are installed: the role installs the standard channel v1.4.1'),
    (crds_of('v1.2.1'), True, 'the Gateway API CRDs are v1.2.1: the role upgrades them to v1.4.1'),
    (crds_of('v1.4.1'), False, 'the Gateway API CRDs (v1.4.1) are not older than v1.4.1: the role leaves them'),
    (crds_of('v1.5.1'), False, 'the Gateway API CRDs (v1.5.1) are not older than v1.4.1: the role leaves them'),
    (crds_of('v1.2.1', 'aks'), False, 'the Gateway API CRDs (v1.2.1) are managed by aks: the role leaves them'),
    (crds_of('v1.2.1', 'Helm'), False, 'the Gateway API CRDs (v1.2.1) are managed by Helm: the role leaves them'),
])
def test_with_helm_the_gateway_api_crds_are_installed_only_where_none_or_older_ones_nobody_owns(crds, install, why):
    found = dict(info(), gateway_api=crds, apis=dict(SERVED, **{'gateway.networking.k8s.io/v1': bool(crds['installed'])}))
    chosen = plan(found)
    assert chosen['install'] == 'helm' and chosen['problems'] == []
    assert (chosen['gateway_api_install'], chosen['gateway_api_why']) == (install, why)


def test_the_gateway_api_crds_are_never_installed_off_the_helm_path_or_without_a_gateway():
    found = dict(info('asm-1-28'), gateway_api=crds_of(None))
    assert plan(found, addon('asm-1-28'))['gateway_api_install'] is False
    assert plan(dict(info(), gateway_api=crds_of(None)), gateway=False)['gateway_api_install'] is False
