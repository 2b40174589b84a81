"""k8s_apply against the real test apiserver: real ansible-playbook runs where the action plugin renders templates,
and module calls in process for inline definitions."""

import threading
import time
import uuid

import pytest

from tests.integration.module_call import run_task
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

CRD = {
    'apiVersion': 'apiextensions.k8s.io/v1',
    'kind': 'CustomResourceDefinition',
    'metadata': {'name': 'gadgets.itest.aiplatform.dev'},
    'spec': {
        'group': 'itest.aiplatform.dev',
        'scope': 'Namespaced',
        'names': {'plural': 'gadgets', 'singular': 'gadget', 'kind': 'Gadget'},
        'versions': [{
            'name': 'v1', 'served': True, 'storage': True, 'subresources': {'status': {}},
            'schema': {'openAPIV3Schema': {'type': 'object', 'properties': {
                'spec': {'type': 'object', 'properties': {'size': {'type': 'integer'}}},
                'status': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}}}},
        }],
    },
}


def namespace(name):
    return {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': name}}


def gadget(name, size=1):
    return {'apiVersion': 'itest.aiplatform.dev/v1', 'kind': 'Gadget', 'metadata': {'name': name}, 'spec': {'size': size}}


@pytest.fixture
def ns():
    # no controller-manager on the bed: deleted namespaces never finish, so each test gets its own
    return 'it-' + uuid.uuid4().hex[:8]


def configmaps(k8s_client, ns, selector='app.kubernetes.io/part-of=itest-set'):
    api = k8s_client.resources.get(api_version='v1', kind='ConfigMap')
    return dict((i['metadata']['name'], i) for i in api.get(namespace=ns, label_selector=selector).to_dict()['items'])


def apply_inline(variables, k8s_env, check=False, diff=False):
    """k8s_apply in process with the variables of playbooks/k8s_apply.yml (inline definitions only: templates need the
    action plugin, so tests that use them run the playbook)."""
    args = {'state': variables.get('component_state', 'present'), 'namespace': variables['component_namespace'],
            'definitions': variables['definitions'], 'force_conflicts': variables.get('force_conflicts', False),
            'wait': variables.get('wait', False), 'wait_timeout': variables.get('wait_timeout', 60)}
    args.update((key, variables[key]) for key in ('wait_condition', 'prune') if key in variables)
    return run_task('k8s_apply', 'Apply the component', args, env=k8s_env, check=check, diff=diff)


def component(ns, names, greeting='hello', size=1, **extra):
    variables = {'component_namespace': ns, 'definitions': [namespace(ns), CRD, gadget('g1', size)],
                 'templates': [{'path': 'configmaps.yaml.j2', 'vars': {'configmap_names': names, 'greeting': greeting}}]}
    variables.update(extra)
    return variables


def test_crd_custom_resource_and_configmap_set_in_one_call(k8s_env, k8s_client, ns):
    first = run_playbook('k8s_apply.yml', component(ns, ['a', 'b', 'c']), env=k8s_env)
    assert first.rc == 0, first.failures
    result = first.result('Apply the component')
    assert result['changed'] is True
    assert sorted((o['kind'], o['action']) for o in result['objects']) == sorted(
        [('Namespace', 'created'), ('CustomResourceDefinition', 'created'), ('Gadget', 'created')] + [('ConfigMap', 'created')] * 3)
    live = configmaps(k8s_client, ns)
    assert sorted(live) == ['a', 'b', 'c'] and live['b']['data'] == {'greeting': 'hello', 'owner': 'b'}
    gadgets = k8s_client.resources.get(api_version='itest.aiplatform.dev/v1', kind='Gadget')
    assert gadgets.get(name='g1', namespace=ns).spec.size == 1
    managers = [m['manager'] for m in live['a']['metadata']['managedFields']]
    assert managers == ['aiplatform.aks'], 'server-side apply under our field manager'

    versions = dict((n, o['metadata']['resourceVersion']) for n, o in live.items())
    second = run_playbook('k8s_apply.yml', component(ns, ['a', 'b', 'c']), env=k8s_env)
    assert second.rc == 0 and second.changed == 0
    assert set(o['action'] for o in second.result('Apply the component')['objects']) == {'unchanged'}
    assert dict((n, o['metadata']['resourceVersion']) for n, o in configmaps(k8s_client, ns).items()) == versions, 'a re-run writes nothing'


def test_check_mode_diff_change_prune_and_delete(k8s_env, k8s_client, ns):
    assert run_playbook('k8s_apply.yml', component(ns, ['a', 'b']), env=k8s_env).rc == 0
    before = configmaps(k8s_client, ns)

    checked = run_playbook('k8s_apply.yml', component(ns, ['a', 'b'], greeting='hi', size=3), env=k8s_env, check=True, diff=True)
    result = checked.result('Apply the component')
    assert checked.rc == 0 and result['changed'] is True
    diffs = dict((d['before_header'], d) for d in result['diff'])
    assert diffs['ConfigMap %s/a' % ns]['before']['data']['greeting'] == 'hello'
    assert diffs['ConfigMap %s/a' % ns]['after']['data']['greeting'] == 'hi'
    assert diffs['Gadget %s/g1' % ns]['after']['spec']['size'] == 3
    after_check = configmaps(k8s_client, ns)
    assert after_check['a']['metadata']['resourceVersion'] == before['a']['metadata']['resourceVersion'], 'check mode writes nothing'
    assert after_check['a']['data']['greeting'] == 'hello'

    changed = run_playbook('k8s_apply.yml', component(ns, ['a'], greeting='hi', prune={'label_selector': 'app.kubernetes.io/part-of=itest-set'}),
                           env=k8s_env)
    actions = dict((o['name'], o['action']) for o in changed.result('Apply the component')['objects'])
    assert changed.rc == 0 and actions['a'] == 'updated' and actions['b'] == 'pruned' and actions['g1'] == 'unchanged'
    live = configmaps(k8s_client, ns)
    assert sorted(live) == ['a'] and live['a']['data']['greeting'] == 'hi'

    gone = run_playbook('k8s_apply.yml', {'component_namespace': ns, 'component_state': 'absent', 'definitions': [gadget('g1')],
                                          'templates': [{'path': 'configmaps.yaml.j2', 'vars': {'configmap_names': ['a'], 'greeting': 'x'}}]},
                        env=k8s_env)
    assert gone.rc == 0 and gone.changed == 1
    assert configmaps(k8s_client, ns) == {}
    again = apply_inline({'component_namespace': ns, 'component_state': 'absent', 'definitions': [gadget('g1')]}, k8s_env)
    assert again.rc == 0 and again.changed == 0


def test_shared_collection_template_resolves_from_any_playbook(k8s_env, k8s_client, ns):
    shared_vars = {'namespaces': [ns], 'pod_security': {'enforce': 'restricted'}, 'namespace_labels': {'team': 'ml'}}
    shared = {'path': 'namespaces.yaml.j2', 'vars': shared_vars}
    run = run_playbook('k8s_apply.yml', {'component_namespace': ns, 'templates': [shared]}, env=k8s_env)
    assert run.rc == 0, run.failures
    labels = k8s_client.resources.get(api_version='v1', kind='Namespace').get(name=ns).to_dict()['metadata']['labels']
    assert labels['pod-security.kubernetes.io/enforce'] == 'restricted'
    assert labels['pod-security.kubernetes.io/enforce-version'] == 'latest' and labels['team'] == 'ml'

    missing = run_playbook('k8s_apply.yml', {'component_namespace': ns, 'templates': ['no-such.yaml.j2']}, env=k8s_env)
    assert missing.rc != 0
    assert 'k8s_apply: cannot find template no-such.yaml.j2' in missing.result('Apply the component')['msg']


@pytest.mark.parametrize('definitions, message', [
    ([{'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {}}], 'metadata.name is required'),
    ([{'kind': 'ConfigMap', 'metadata': {'name': 'x'}}], 'apiVersion is required'),
    ('kind: [unclosed', 'cannot parse definitions as YAML'),
    ([{'apiVersion': 'v1', 'kind': 'Gizmo', 'metadata': {'name': 'x'}}], 'does not serve v1 Gizmo'),
    ([{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'x', 'namespace': 'y'}}], 'cluster-scoped'),
])
def test_bad_input_fails_clearly_and_writes_nothing(k8s_env, k8s_client, ns, definitions, message):
    good = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'good', 'namespace': 'default',
                                                                  'labels': {'app.kubernetes.io/part-of': ns}}}
    docs = [good] + definitions if isinstance(definitions, list) else definitions
    run = apply_inline({'component_namespace': 'default', 'definitions': docs}, k8s_env)
    assert run.rc != 0
    assert message in run.result('Apply the component')['msg']
    assert configmaps(k8s_client, 'default', 'app.kubernetes.io/part-of=%s' % ns) == {}, 'nothing written'


def test_field_conflict_is_explained_and_force_takes_over(k8s_env, k8s_client, ns):
    cm = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'shared', 'namespace': ns}, 'data': {'k': 'theirs'}}
    apply_inline({'component_namespace': ns, 'definitions': [namespace(ns)]}, k8s_env)
    api = k8s_client.resources.get(api_version='v1', kind='ConfigMap')
    api.server_side_apply(body=cm, namespace=ns, field_manager='someone-else')
    mine = dict(cm, data={'k': 'ours'})
    refused = apply_inline({'component_namespace': ns, 'definitions': [mine]}, k8s_env)
    assert refused.rc != 0 and 'force_conflicts' in refused.result('Apply the component')['msg']
    assert api.get(name='shared', namespace=ns).data.k == 'theirs'
    forced = apply_inline({'component_namespace': ns, 'definitions': [mine], 'force_conflicts': True}, k8s_env)
    assert forced.rc == 0 and api.get(name='shared', namespace=ns).data.k == 'ours'


def _mark_ready(k8s_client, ns, generation):
    api = k8s_client.resources.get(api_version='itest.aiplatform.dev/v1', kind='Gadget')
    api.status.patch(name='g1', namespace=ns, content_type='application/merge-patch+json', body={'status': {'conditions': [
        {'type': 'Ready', 'status': 'True', 'reason': 'Serving', 'observedGeneration': generation}]}})


def _play_controller(k8s_client, ns, generation):
    """Like a controller: once the object reaches `generation`, report Ready for it."""
    api = k8s_client.resources.get(api_version='itest.aiplatform.dev/v1', kind='Gadget')

    def worker():
        deadline = time.monotonic() + 30
        while api.get(name='g1', namespace=ns).metadata.generation < generation and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # the module is polling by now
        _mark_ready(k8s_client, ns, generation)
    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    return thread


def test_wait_condition_needs_the_current_generation(k8s_env, k8s_client, ns):
    assert apply_inline({'component_namespace': ns, 'definitions': [namespace(ns), CRD, gadget('g1', 1)]}, k8s_env).rc == 0
    _mark_ready(k8s_client, ns, generation=1)
    waiting = {'component_namespace': ns, 'definitions': [gadget('g1', 2)], 'wait': True,
               'wait_condition': {'type': 'Ready'}, 'wait_timeout': 3}

    # the spec change makes generation 2; Ready for generation 1 must not end the wait
    run = apply_inline(waiting, k8s_env)
    assert run.rc != 0
    assert 'condition Ready is for an older generation' in run.result('Apply the component')['msg']

    controller = _play_controller(k8s_client, ns, generation=2)
    waiting.update(definitions=[gadget('g1', 2)], wait_timeout=30)
    run = apply_inline(waiting, k8s_env)
    controller.join()
    assert run.rc == 0, run.failures
    obj = run.result('Apply the component')['objects'][0]
    assert obj['action'] == 'unchanged' and obj['object']['status']['conditions'][0]['observedGeneration'] == 2


def test_k8s_info_reads_what_k8s_apply_wrote(k8s_env, ns):
    assert run_playbook('k8s_apply.yml', component(ns, ['a', 'b']), env=k8s_env).rc == 0
    found = run_playbook('k8s_info.yml', {'info_args': {'kind': 'ConfigMap', 'namespace': ns,
                                                        'label_selectors': ['app.kubernetes.io/part-of=itest-set']}}, env=k8s_env)
    result = found.result('Read objects')
    assert found.rc == 0 and result['api_found'] is True and result['changed'] is False
    assert sorted(o['metadata']['name'] for o in result['resources']) == ['a', 'b']
    missing = run_task('k8s_info', 'Read objects', {'api_version': 'nope.example.com/v1', 'kind': 'Nothing'}, env=k8s_env)
    assert missing.rc != 0 and 'kind Nothing in api_version nope.example.com/v1' in missing.result('Read objects')['msg']
    allowed = run_task('k8s_info', 'Read objects', {'api_version': 'nope.example.com/v1', 'kind': 'Nothing', 'allow_missing': True},
                       env=k8s_env)
    assert allowed.rc == 0 and allowed.result('Read objects')['api_found'] is False
    assert allowed.result('Read objects')['resources'] == []
