"""Client-side validation: built-in kinds against the Kubernetes schemas, custom resources against real CRDs and their CEL rules."""

import copy
from pathlib import Path
from unittest import mock

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.apply import Applier
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.validate import (
    InvalidObjects, Validator, read_crd_files, shipped_versions)
from tests.integration.module_call import call_module

CRDS = Path(__file__).parents[4] / 'crds'
HTTPROUTES = CRDS / 'gateway-api' / 'v1.4.1' / 'gateway.networking.k8s.io_httproutes.yaml'
KUEUE = [CRDS / 'kueue' / ('kueue.x-k8s.io_%s.yaml' % name) for name in ('clusterqueues', 'localqueues', 'resourceflavors')]
INFERENCEPOOLS = CRDS / 'gateway-api-inference-extension' / 'v1.6.0' / 'inference.networking.k8s.io_inferencepools.yaml'


@pytest.fixture(scope='module')
def crds():
    return read_crd_files([str(p) for p in [HTTPROUTES, INFERENCEPOOLS] + KUEUE])


def problems(objects, **kwargs):
    """Problems of the objects, as (object, path, message) tuples, without failing."""
    kwargs.setdefault('version', '1.34')
    server = dict((k, kwargs.pop(k)) for k in ('served_crd', 'live') if k in kwargs)
    found = Validator(fail_on_error=False, **kwargs).validate(objects if isinstance(objects, list) else [objects], **server)
    return [(p['object'], p['path'], p['message']) for p in found]


def messages(objects, **kwargs):
    return [message for _o, _p, message in problems(objects, **kwargs)]


# --- built-in kinds -------------------------------------------------------------------------------------
DEPLOYMENT = {
    'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'web', 'namespace': 'default', 'labels': {'app': 'web'}},
    'spec': {'replicas': 2, 'selector': {'matchLabels': {'app': 'web'}},
             'template': {'metadata': {'labels': {'app': 'web'}},
                          'spec': {'containers': [{'name': 'web', 'image': 'nginx:1.27', 'ports': [{'containerPort': 80}]}]}}},
}


def with_changes(obj, change):
    obj = copy.deepcopy(obj)
    change(obj)
    return obj


def test_a_valid_deployment_passes_at_1_34():
    assert problems(DEPLOYMENT) == []


def test_a_wrong_field_type_is_reported_with_its_path():
    bad = with_changes(DEPLOYMENT, lambda d: d['spec'].update(replicas='three'))
    assert problems(bad) == [('Deployment default/web', 'spec.replicas', 'must be of type integer, not "three"')]


def test_an_unknown_field_is_a_problem_only_when_strict():
    typo = with_changes(DEPLOYMENT, lambda d: d['spec']['template']['spec']['containers'][0].update(imagePullPolice='Always'))
    assert problems(typo) == [('Deployment default/web', 'spec.template.spec.containers[0].imagePullPolice', 'unknown field')]
    assert problems(typo, strict=False) == []


def test_an_api_version_the_kubernetes_version_does_not_serve_is_refused():
    pdb = {'apiVersion': 'policy/v1beta1', 'kind': 'PodDisruptionBudget', 'metadata': {'name': 'web', 'namespace': 'default'},
           'spec': {'minAvailable': 1, 'selector': {'matchLabels': {'app': 'web'}}}}
    assert messages(pdb) == ['policy/v1beta1 PodDisruptionBudget is not served by Kubernetes 1.34; use policy/v1']
    assert messages(dict(pdb, apiVersion='policy/v1')) == []


def test_a_kind_newer_than_the_version_is_refused():
    claim = {'apiVersion': 'resource.k8s.io/v1', 'kind': 'DeviceClass', 'metadata': {'name': 'gpu.example.com'},
             'spec': {'selectors': [{'cel': {'expression': "device.driver == 'gpu.example.com'"}}]}}
    assert messages(claim, version='1.34') == []
    assert messages(claim, version='1.30') == ['resource.k8s.io/v1 DeviceClass is not served by Kubernetes 1.30']
    template = {'apiVersion': 'resource.k8s.io/v1', 'kind': 'ResourceClaimTemplate', 'metadata': {'name': 'gpu', 'namespace': 'default'},
                'spec': {'spec': {'devices': {'requests': [{'name': 'gpu', 'exactly': {'deviceClassName': 'gpu.example.com'}}]}}}}
    assert messages(template, version='1.34') == []
    assert messages(template, version='1.30') == [
        'resource.k8s.io/v1 ResourceClaimTemplate is not served by Kubernetes 1.30; use resource.k8s.io/v1alpha2']


def test_every_problem_is_listed_when_validation_fails():
    bad = with_changes(DEPLOYMENT, lambda d: d['spec'].update(replicas='three', paused='yes'))
    with pytest.raises(InvalidObjects) as err:
        Validator(version='1.34').validate([bad])
    assert [p['path'] for p in err.value.problems] == ['spec.paused', 'spec.replicas']
    assert 'Deployment default/web: spec.replicas: must be of type integer' in str(err.value)
    assert 'nothing was written' in str(err.value)


def test_without_fail_on_error_problems_become_warnings():
    warned = []
    found = Validator(version='1.34', fail_on_error=False, warn=warned.append).validate(
        [with_changes(DEPLOYMENT, lambda d: d['spec'].update(replicas='three'))])
    assert len(found) == 1
    assert warned == ['validate: Deployment default/web: spec.replicas: must be of type integer, not "three"']


def test_the_version_is_the_servers_or_the_nearest_shipped():
    oldest, newest = shipped_versions()[0], shipped_versions()[-1]
    assert Validator(server_version='v1.34.2-aks.1').version == '1.34'
    assert Validator().version == newest
    old = Validator(server_version='v1.20.15')
    assert old.version == oldest
    assert old.warnings == ['validate: no schemas for Kubernetes 1.20 (the server); built-in kinds are checked against Kubernetes %s' % oldest]
    with pytest.raises(K8sError, match=r'validate.version 1.3: .* %s to %s only \(quote it in YAML' % (oldest, newest)):
        Validator(version='1.3')


# --- custom resources: Gateway API HTTPRoute v1.4.1 -------------------------------------------------------
ROUTE = {
    'apiVersion': 'gateway.networking.k8s.io/v1', 'kind': 'HTTPRoute', 'metadata': {'name': 'chat', 'namespace': 'models'},
    'spec': {
        'parentRefs': [{'name': 'inference-gateway', 'namespace': 'gateway'}],
        'hostnames': ['chat.example.com'],
        'rules': [{'matches': [{'path': {'type': 'PathPrefix', 'value': '/v1/chat'}}],
                   'backendRefs': [{'name': 'phi-4', 'port': 80}],
                   'timeouts': {'request': '60s', 'backendRequest': '30s'}}],
    },
}


def test_a_valid_httproute_passes(crds):
    assert problems(ROUTE, crds=crds) == []


def test_an_httproute_with_17_rules_breaks_max_items(crds):
    route = with_changes(ROUTE, lambda r: r['spec'].update(rules=r['spec']['rules'] * 17))
    assert problems(route, crds=crds) == [('HTTPRoute models/chat', 'spec.rules', 'must have at most 16 items, has 17')]


def test_httproute_cel_rules_are_enforced_with_their_messages(crds):
    too_many_matches = with_changes(ROUTE, lambda r: r['spec'].update(
        rules=[{'matches': [{'path': {'value': '/r%d/m%d' % (i, j)}} for j in range(9)]} for i in range(16)]))
    assert problems(too_many_matches, crds=crds) == [(
        'HTTPRoute models/chat', 'spec.rules',
        'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128')]
    slow_backend = with_changes(ROUTE, lambda r: r['spec']['rules'][0].update(timeouts={'request': '10s', 'backendRequest': '1m'}))
    assert problems(slow_backend, crds=crds) == [
        ('HTTPRoute models/chat', 'spec.rules[0].timeouts', 'backendRequest timeout cannot be longer than request timeout')]


def test_cel_sees_escaped_property_names(crds):
    # the rule reads parentRefs' `namespace` as p1.__namespace__ (a CEL reserved word)
    twice = with_changes(ROUTE, lambda r: r['spec']['parentRefs'].append(dict(r['spec']['parentRefs'][0])))
    assert messages(twice, crds=crds) == ['sectionName must be unique when parentRefs includes 2 or more references to the same parent']
    other_namespace = with_changes(twice, lambda r: r['spec']['parentRefs'][1].update(namespace='other'))
    assert messages(other_namespace, crds=crds) == []


def test_cel_sees_schema_defaults(crds):
    # path.type defaults to PathPrefix, so the rule on PathPrefix values applies to a path that only gives a value
    relative = with_changes(ROUTE, lambda r: r['spec']['rules'][0].update(matches=[{'path': {'value': 'v1'}}]))
    assert messages(relative, crds=crds) == [
        "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"]


def test_a_structural_type_error_stops_cel_rules_like_the_apiserver(crds):
    bad = with_changes(ROUTE, lambda r: r['spec']['rules'][0].update(timeouts='60s'))
    assert messages(bad, crds=crds) == ['must be of type object, not string',
                                        'CEL rules were not checked because of the type errors above']


# --- custom resources: Kueue v0.19.2 and Inference Extension v1.6.0 -------------------------------------
KUEUE_SETUP = [
    {'apiVersion': 'kueue.x-k8s.io/v1beta2', 'kind': 'ResourceFlavor', 'metadata': {'name': 'default-flavor'}},
    {'apiVersion': 'kueue.x-k8s.io/v1beta2', 'kind': 'ClusterQueue', 'metadata': {'name': 'cluster-queue'},
     'spec': {'namespaceSelector': {}, 'resourceGroups': [{
         'coveredResources': ['cpu', 'memory'],
         'flavors': [{'name': 'default-flavor', 'resources': [{'name': 'cpu', 'nominalQuota': 9},
                                                              {'name': 'memory', 'nominalQuota': '36Gi'}]}]}]}},
    {'apiVersion': 'kueue.x-k8s.io/v1beta2', 'kind': 'LocalQueue', 'metadata': {'name': 'user-queue', 'namespace': 'default'},
     'spec': {'clusterQueue': 'cluster-queue'}},
]


def test_a_valid_kueue_setup_passes(crds):
    assert problems(KUEUE_SETUP, crds=crds) == []


def test_kueue_clusterqueue_cel_rules_are_enforced(crds):
    borrowing = with_changes(KUEUE_SETUP[1], lambda q: q['spec']['resourceGroups'][0]['flavors'][0]['resources'][0].update(borrowingLimit=2))
    assert problems(borrowing, crds=crds) == [('ClusterQueue cluster-queue', 'spec', 'borrowingLimit must be nil when cohort is empty')]
    assert problems(dict(borrowing, spec=dict(borrowing['spec'], cohortName='research')), crds=crds) == []
    uncovered = with_changes(KUEUE_SETUP[1], lambda q: q['spec']['resourceGroups'][0]['flavors'][0]['resources'].pop())
    assert problems(uncovered, crds=crds) == [
        ('ClusterQueue cluster-queue', 'spec.resourceGroups[0]', 'flavors must have the same number of resources as the coveredResources')]


def test_quantities_are_int_or_string_with_a_pattern(crds):
    quota = KUEUE_SETUP[1]['spec']['resourceGroups'][0]['flavors'][0]['resources']
    assert [q['nominalQuota'] for q in quota] == [9, '36Gi']
    bad = with_changes(KUEUE_SETUP[1], lambda q: q['spec']['resourceGroups'][0]['flavors'][0]['resources'][1].update(nominalQuota='lots'))
    [(_obj, path, message)] = problems(bad, crds=crds)
    assert path == 'spec.resourceGroups[0].flavors[0].resources[1].nominalQuota'
    assert message.startswith('"lots" should match')
    listed = with_changes(KUEUE_SETUP[1], lambda q: q['spec']['resourceGroups'][0]['flavors'][0]['resources'][1].update(nominalQuota=[1]))
    assert messages(listed, crds=crds)[0] == 'must be of type integer or string, not array'


def test_duplicate_keys_of_a_map_list_are_refused(crds):
    twice = with_changes(KUEUE_SETUP[1], lambda q: q['spec']['resourceGroups'][0]['flavors'].append(
        copy.deepcopy(q['spec']['resourceGroups'][0]['flavors'][0])))
    assert ('ClusterQueue cluster-queue', 'spec.resourceGroups[0].flavors[1]', 'duplicate entry with name="default-flavor"') in problems(twice, crds=crds)


POOL = {'apiVersion': 'inference.networking.k8s.io/v1', 'kind': 'InferencePool', 'metadata': {'name': 'phi-4', 'namespace': 'models'},
        'spec': {'selector': {'matchLabels': {'app': 'phi-4'}}, 'targetPorts': [{'number': 8000}],
                 'endpointPickerRef': {'name': 'phi-4-epp', 'port': {'number': 9002}}}}


def test_inferencepool_rules_see_defaults_and_lists(crds):
    assert problems(POOL, crds=crds) == []
    same_port = with_changes(POOL, lambda p: p['spec']['targetPorts'].append({'number': 8000}))
    assert problems(same_port, crds=crds) == [('InferencePool models/phi-4', 'spec.targetPorts', 'port number must be unique')]
    # kind defaults to Service, which needs a port
    no_port = with_changes(POOL, lambda p: p['spec']['endpointPickerRef'].pop('port'))
    assert messages(no_port, crds=crds) == ["port is required when kind is 'Service' or unspecified (defaults to 'Service')"]


def test_root_metadata_is_checked(crds):
    bad = with_changes(POOL, lambda p: p['metadata'].update(name='Phi_4', labels={'replicas': 2}))
    assert problems(bad, crds=crds) == [
        ('InferencePool models/Phi_4', 'metadata.labels.replicas', 'must be of type string, not 2'),
        ('InferencePool models/Phi_4', 'metadata.name', '"Phi_4" must be a lowercase RFC 1123 subdomain (a-z, 0-9, "-" and ".")')]


# --- where the CRD comes from ----------------------------------------------------------------------------
def widget_crd(rules, served=True, properties=None):
    spec_schema = {'type': 'object', 'properties': properties or {'size': {'type': 'integer'}, 'owner': {'type': 'string'}},
                   'x-kubernetes-validations': rules}
    return {'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition', 'metadata': {'name': 'widgets.example.com'},
            'spec': {'group': 'example.com', 'scope': 'Namespaced', 'names': {'plural': 'widgets', 'singular': 'widget', 'kind': 'Widget'},
                     'versions': [{'name': 'v1', 'served': served, 'storage': True,
                                   'schema': {'openAPIV3Schema': {'type': 'object', 'properties': {'spec': spec_schema}}}}]}}


def widget(**spec):
    return {'apiVersion': 'example.com/v1', 'kind': 'Widget', 'metadata': {'name': 'w', 'namespace': 'default'}, 'spec': spec}


SMALL = [{'rule': 'self.size <= 3', 'message': 'too big'}]


def test_a_crd_in_the_same_call_wins_over_validate_crds_and_the_server():
    here = widget_crd(SMALL)
    elsewhere = widget_crd([{'rule': 'self.size <= 10', 'message': 'elsewhere'}])
    server = mock.Mock(return_value=widget_crd([{'rule': 'self.size <= 100', 'message': 'server'}]))
    assert messages([here, widget(size=5)], crds=[elsewhere], served_crd=server) == ['too big']
    assert messages([widget(size=50)], crds=[elsewhere], served_crd=server) == ['elsewhere']
    assert messages([widget(size=500)], served_crd=server) == ['server']
    server.assert_called_once_with('example.com/v1', 'Widget')


def test_the_server_is_asked_for_a_kind_s_crd_once_however_many_objects_of_it():
    server = mock.Mock(return_value=widget_crd(SMALL))
    second = dict(widget(size=5), metadata={'name': 'w2', 'namespace': 'default'})
    assert problems([widget(size=1), second], served_crd=server) == [('Widget default/w2', 'spec', 'too big')]
    server.assert_called_once_with('example.com/v1', 'Widget')


def test_a_custom_resource_without_a_crd_is_a_problem_only_when_strict():
    assert messages(widget(size=1)) == ['no CustomResourceDefinition found for example.com/v1 Widget '
                                        '(not in this call, in validate.crds or on the server)']
    validator = Validator(version='1.34', strict=False, fail_on_error=False)
    assert validator.validate([widget(size=1)]) == []
    assert validator.warnings == ['validate: Widget default/w: no CustomResourceDefinition found for example.com/v1 Widget '
                                  '(not in this call, in validate.crds or on the server); not checked']


def test_a_version_the_crd_does_not_serve_is_refused():
    assert messages(widget(size=1), crds=[widget_crd(SMALL, served=False)]) == [
        'example.com/v1 Widget is not served by CustomResourceDefinition widgets.example.com']


def test_unknown_fields_of_a_custom_resource():
    crd = widget_crd(SMALL, properties={'size': {'type': 'integer'},
                                        'extra': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True},
                                        'template': {'type': 'object', 'x-kubernetes-embedded-resource': True,
                                                     'properties': {'spec': {'type': 'object'}}}})
    obj = widget(size=1, colour='red', extra={'anything': 1},
                 template={'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'p'}, 'spec': {}})
    assert problems(obj, crds=[crd]) == [('Widget default/w', 'spec.colour', 'unknown field')]
    assert problems(obj, crds=[crd], strict=False) == []


# --- CEL ---------------------------------------------------------------------------------------------------
def test_a_rule_with_an_unsupported_function_is_an_explicit_error():
    crd = widget_crd([{'rule': "quantity(self.owner).isGreaterThan(quantity('1'))"}])
    assert messages(widget(size=1, owner='2'), crds=[crd]) == [
        "CEL rule \"quantity(self.owner).isGreaterThan(quantity('1'))\" uses isGreaterThan, quantity, "
        "which this collection does not implement"]
    # even where a short-circuit would never call it
    crd = widget_crd([{'rule': 'true || self.owner.isSorted2()'}])
    assert len(messages(widget(size=1, owner='a'), crds=[crd])) == 1


def test_message_expression_and_field_path():
    crd = widget_crd([{'rule': 'self.size <= 3', 'messageExpression': "'size ' + string(self.size) + ' is over 3'",
                       'fieldPath': '.size'}])
    assert problems(widget(size=5), crds=[crd]) == [('Widget default/w', 'spec.size', 'size 5 is over 3')]
    crd = widget_crd([{'rule': 'self.size <= 3'}])
    assert messages(widget(size=5), crds=[crd]) == ['failed rule: self.size <= 3']


def test_transition_rules_compare_with_the_object_on_the_server():
    crd = widget_crd([{'rule': 'self.owner == oldSelf.owner', 'message': 'owner is immutable'},
                      {'rule': '!oldSelf.hasValue() || oldSelf.value().size <= self.size', 'optionalOldSelf': True,
                       'message': 'size may not shrink'}])
    live = mock.Mock(return_value=None)
    assert messages(widget(size=1, owner='a'), crds=[crd], live=live) == []
    live.return_value = widget(size=3, owner='b')
    assert messages(widget(size=1, owner='a'), crds=[crd], live=live) == ['owner is immutable', 'size may not shrink']


@pytest.mark.parametrize('rule', [
    "self.owner.find('[0-9]+') == '42' && self.owner.findAll('[a-z]') == ['a', 'b']",
    "url('https://' + self.owner + '.example.com:8443/x?q=1').getHost() == 'a42b.example.com:8443'",
    "isURL('/absolute/path') && !isURL('relative') && url('http://h/p').getScheme() == 'http'",
    "self.owner.split('4').size() == 2 && self.owner.substring(1, 3) == '42' && self.owner.upperAscii() == 'A42B'",
    "[1, 2, 3].isSorted() && [3, 1].indexOf(1) == 1 && [1, 5].sum() == 6 && [4, 2].min() == 2",
    "sets.contains(['a', 'b'], ['a']) && ['x', 'y'].join('-') == 'x-y'",
])
def test_kubernetes_cel_library_functions(rule):
    assert messages(widget(size=1, owner='a42b'), crds=[widget_crd([{'rule': rule}])]) == []


def test_formats_are_checked_and_typed_for_cel():
    crd = widget_crd([{'rule': "self.after < timestamp('2030-01-01T00:00:00Z')", 'message': 'too late'},
                      {'rule': "self.every >= duration('1m')", 'message': 'too often'}],
                     properties={'after': {'type': 'string', 'format': 'date-time'}, 'every': {'type': 'string', 'format': 'duration'},
                                 'address': {'type': 'string', 'format': 'ipv4'}, 'count': {'type': 'integer', 'format': 'int32'}})
    assert messages(widget(after='2026-05-01T10:00:00Z', every='5m', address='10.0.0.1', count=3), crds=[crd]) == []
    assert messages(widget(after='2031-05-01T10:00:00Z', every='5s', address='10.0.0.1', count=3), crds=[crd]) == ['too late', 'too often']
    assert problems(widget(after='2026-05-01T10:00:00Z', every='5m', address='10.0.0.256', count=2 ** 31), crds=[crd]) == [
        ('Widget default/w', 'spec.address', '"10.0.0.256" is not a valid ipv4'),
        ('Widget default/w', 'spec.count', '2147483648 is out of range for int32')]


def test_a_rule_that_fails_to_evaluate_is_a_problem():
    crd = widget_crd([{'rule': "self.owner == 'a'"}])
    [message] = messages(widget(size=1), crds=[crd])
    assert message.startswith('rule "self.owner == \'a\'" could not be evaluated')


# --- wiring --------------------------------------------------------------------------------------------
def test_the_applier_validates_before_any_request():
    client = mock.Mock()
    applier = Applier(client, validator=Validator(version='1.34'))
    with pytest.raises(InvalidObjects):
        applier.apply([with_changes(DEPLOYMENT, lambda d: d['spec'].update(replicas='three'))])
    assert client.mock_calls == []


def run_k8s_apply(client, **args):
    with mock.patch.object(K8sModule, 'client', new_callable=mock.PropertyMock, return_value=client):
        return call_module('k8s_apply', args)


def test_k8s_apply_fails_with_every_problem_and_writes_nothing():
    client = mock.Mock()
    bad = with_changes(DEPLOYMENT, lambda d: d['spec'].update(replicas='three'))
    result = run_k8s_apply(client, definitions=[bad, dict(DEPLOYMENT, apiVersion='apps/v1beta1')], validate={'version': '1.34'})
    assert result['failed']
    assert result['validation'] == [
        {'object': 'Deployment default/web', 'path': 'spec.replicas', 'message': 'must be of type integer, not "three"'},
        {'object': 'Deployment default/web', 'path': '', 'message': 'apps/v1beta1 Deployment is not served by Kubernetes 1.34; use apps/v1'}]
    client.server_side_apply.assert_not_called()


def test_k8s_apply_warns_and_applies_without_fail_on_error():
    client = mock.Mock()
    client.resources.get.return_value.namespaced = True
    client.get.return_value.to_dict.return_value = None  # not there yet
    client.server_side_apply.return_value.to_dict.return_value = DEPLOYMENT
    typo = with_changes(DEPLOYMENT, lambda d: d['spec'].update(replica=2))
    result = run_k8s_apply(client, definitions=[typo], validate={'version': '1.34', 'fail_on_error': False})
    assert not result.get('failed') and result['changed']
    assert result['validation'] == [{'object': 'Deployment default/web', 'path': 'spec.replica', 'message': 'unknown field'}]
    assert [w['event']['msg'] for w in result['warnings']] == ['validate: Deployment default/web: spec.replica: unknown field']
    assert client.server_side_apply.call_count == 2  # dry run, then the write


def test_crd_files_may_be_compressed_and_hold_other_objects(tmp_path):
    manifest = tmp_path / 'bundle.yaml'
    manifest.write_text('apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n' + HTTPROUTES.read_text())
    gz = CRDS / 'gateway-api' / 'v1.2.1' / 'gateway.networking.k8s.io_httproutes.yaml.gz'
    assert [c['metadata']['name'] for c in read_crd_files([str(manifest), str(gz)])] == ['httproutes.gateway.networking.k8s.io'] * 2
    with pytest.raises(K8sError, match='validate.crds: cannot read'):
        read_crd_files([str(tmp_path / 'missing.yaml')])
