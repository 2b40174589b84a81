"""kaito_workspace, in process and through real ansible-playbook runs, against the real test apiserver with KAITO's v0.12.0 CRDs.

There is no KAITO controller on the bed: the tests play it (status conditions, generations, the finalizer).
"""

import copy
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml

from ansible_collections.aiplatform.aks.plugins.module_utils.kaito.workspace import render_workspace
from tests.integration import kaito_standin as kaito
from tests.integration.module_call import run_task
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
TASK = 'Reconcile the workspace'

GPU = {'label_selector': {'matchLabels': {'apps': 'llm-gpu'}}}
CPU_TEMPLATE = {'spec': {'containers': [{
    'name': 'tiny', 'image': 'mcr.microsoft.com/aks/kaito/kaito-base:0.2.0', 'ports': [{'containerPort': 5000, 'name': 'http'}],
    'command': ['accelerate'], 'args': ['launch', 'tfs/inference_api.py', '--pretrained_model_name_or_path', 'bigscience/bloomz-560m'],
    'resources': {'requests': {'cpu': '1', 'memory': '2Gi'}}}]}}


@pytest.fixture(scope='module')
def kaito_crds(k8s_client):
    return kaito.install_crds(k8s_client, sorted((CRDS / 'kaito').glob('*.yaml')))


@pytest.fixture
def ns(k8s_client, kaito_crds):
    # no controller-manager on the bed: deleted namespaces never finish, so each test gets its own
    name = 'kw-' + uuid.uuid4().hex[:8]
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': name}})
    return name


def workspace(k8s_client, ns, name):
    try:
        return kaito.workspaces(k8s_client).get(name=name, namespace=ns).to_dict()
    except Exception:  # pylint: disable=broad-except
        return None


def run(k8s_env, ws, playbook=False, **kwargs):
    """kaito_workspace with the options in `ws`: in process, or through tests/integration/playbooks/kaito_workspace.yml."""
    if playbook:
        return run_playbook('kaito_workspace.yml', {'ws': ws}, env=k8s_env, **kwargs)
    return run_task('kaito_workspace', TASK, dict({'wait_timeout': 30, 'wait_sleep': 0.3}, **ws), env=k8s_env, **kwargs)


def assert_stored(rendered, stored, path='workspace'):
    """Every rendered field was stored as rendered: the schema neither rejected nor pruned anything."""
    if isinstance(rendered, dict):
        assert isinstance(stored, dict), '%s: stored %r' % (path, stored)
        for key, value in rendered.items():
            assert key in stored, '%s.%s was pruned by the CRD schema' % (path, key)
            assert_stored(value, stored[key], '%s.%s' % (path, key))
    elif isinstance(rendered, list):
        assert isinstance(stored, list) and len(stored) == len(rendered), '%s: stored %r' % (path, stored)
        for index, (want, have) in enumerate(zip(rendered, stored)):
            assert_stored(want, have, '%s[%d]' % (path, index))
    else:
        assert rendered == stored, '%s: rendered %r, stored %r' % (path, rendered, stored)


def controller(k8s_client, ns, name, act, until=lambda ws: True, timeout=30):
    """Like KAITO: once the workspace satisfies `until`, call act(workspace), in a thread."""
    def worker():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ws = workspace(k8s_client, ns, name)
            if ws is not None and until(ws):
                time.sleep(1)  # the module is polling by now
                act(ws)
                return
            time.sleep(0.2)
    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    return thread


RENDER_CASES = {
    'byo-preset-with-vllm-config': dict(resource=dict(GPU, preferred_nodes=['aks-gpu-0']), preset={'name': 'phi-4-mini-instruct'},
                                        runtime='vllm', disable_benchmark=True, annotations={'kaito.sh/enablelb': 'False'},
                                        inference_config={'vllm': {'max-model-len': 4096, 'gpu-memory-utilization': 0.9}},
                                        pod_disruption_budget={'max_unavailable': 1}),
    'provisioned-gated-model': dict(resource={'instance_type': 'Standard_NC24ads_A100_v4', 'count': 1, 'label_selector': {
        'matchLabels': {'apps': 'llama-3-1-8b'},
        'matchExpressions': [{'key': 'kubernetes.azure.com/agentpool', 'operator': 'In', 'values': ['gpu']}]}},
        preset={'name': 'meta-llama/Llama-3.1-8B-Instruct', 'model_access_secret': 'hf-token'}),
    'private-preset-with-adapters': dict(resource=GPU,
                                         preset={'name': 'phi-3-mini-128k-instruct', 'access_mode': 'private',
                                                 'image': 'registry.example/models/phi-3:1.0', 'image_pull_secrets': ['pull']},
                                         adapters=[{'name': 'phi-3-adapter', 'image': 'registry.example/adapters/phi-3:0.0.1',
                                                    'image_pull_secrets': ['pull'], 'strength': '0.8'},
                                                   {'name': 'second', 'urls': ['https://models.example/adapter.tar'], 'strength': '1.0'}]),
    'mig-partition': dict(resource=dict(GPU, partition={'mode': 'mig', 'profile': '1g.10gb'}), preset={'name': 'phi-4-mini-instruct'}),
    'cpu-template-transformers': dict(resource={'instance_type': 'Standard_D4ds_v6', 'label_selector': {'matchLabels': {'apps': 'tiny'}}},
                                      template=CPU_TEMPLATE, runtime='transformers'),
    'tuning': dict(resource=GPU, tuning={'preset': {'name': 'phi-3-mini-128k-instruct'}, 'method': 'qlora',
                                         'input': {'urls': ['https://data.example/train.parquet']},
                                         'output': {'image': 'registry.example/tuned/phi-3:1', 'imagePushSecret': 'push'}}),
}


@pytest.mark.parametrize('case', sorted(RENDER_CASES))
def test_every_rendered_workspace_is_accepted_by_the_real_crd(k8s_env, k8s_client, ns, case):
    ws = dict(RENDER_CASES[case], name='m-' + case[:40], namespace=ns, wait=False)
    result = run(k8s_env, ws)
    assert result.rc == 0, result.failures
    stored = workspace(k8s_client, ns, ws['name'])
    rendered = render_workspace(ws)
    assert 'spec' not in stored, 'v1beta1 has no spec'
    assert_stored(rendered, stored)
    actions = dict((o['kind'], o['action']) for o in result.result(TASK)['objects'])
    assert actions['Workspace'] == 'created'
    if 'inference_config' in ws:
        cm = k8s_client.resources.get(api_version='v1', kind='ConfigMap').get(name=ws['name'] + '-inference-config', namespace=ns)
        assert yaml.safe_load(cm.data['inference_config.yaml']) == ws['inference_config']
        assert stored['inference']['config'] == ws['name'] + '-inference-config'
        assert actions['ConfigMap'] == 'created'
    if 'pod_disruption_budget' in ws:
        # the 1.20 bed serves only policy/v1beta1; a current cluster gets policy/v1
        pdb = k8s_client.resources.get(api_version='policy/v1beta1', kind='PodDisruptionBudget').get(name=ws['name'], namespace=ns)
        assert pdb.spec.maxUnavailable == 1 and dict(pdb.spec.selector.matchLabels) == {'kaito.sh/workspace': ws['name']}


BAD = {'apiVersion': 'kaito.sh/v1beta1', 'kind': 'Workspace', 'metadata': {'name': 'bad'},
       'resource': {'labelSelector': {'matchLabels': {'apps': 'gpu'}}}, 'inference': {'preset': {'name': 'phi-4-mini-instruct'}}}


@pytest.mark.parametrize('change, message', [
    ({'spec': {'resource': {'instanceType': 'x'}}}, '.spec: field not declared in schema'),  # the v1alpha1-era shape
    ({'inference': {'preset': {'accessMode': 'secret'}}}, 'inference.preset.name: Required value'),
    ({'inference': {'preset': {'name': 'x', 'accessMode': 'secret'}}}, 'Unsupported value: "secret"'),
    ({'resource': {'instanceType': 'x'}}, 'resource.labelSelector: Required value'),
])
def test_the_schema_check_is_real_bad_workspaces_are_refused(k8s_env, k8s_client, ns, change, message):
    bad = dict(copy.deepcopy(BAD), **change)
    result = run_task('k8s_apply', 'Apply the component', {'namespace': ns, 'definitions': [bad]}, env=k8s_env)
    assert result.rc != 0
    assert message in result.result('Apply the component')['msg']
    assert workspace(k8s_client, ns, 'bad') is None


def test_waits_while_the_controller_works_and_a_second_run_changes_nothing(k8s_env, k8s_client, ns):
    ws = dict(name='phi', namespace=ns, resource=GPU, preset={'name': 'phi-4-mini-instruct'}, pod_disruption_budget={})
    kaito_thread = controller(k8s_client, ns, 'phi', lambda o: kaito.mark_ready(k8s_client, ns, 'phi', o['metadata']['generation']))
    started = time.monotonic()
    first = run(k8s_env, ws)
    kaito_thread.join()
    assert first.rc == 0, first.failures
    result = first.result(TASK)
    assert result['changed'] is True and result['workspace_action'] == 'created' and result['ready'] is True
    assert time.monotonic() - started > 1, 'it waited for the controller'
    assert {c['type']: c['status'] for c in result['conditions']}['InferenceReady'] == 'True'
    assert result['service'] == {'name': 'phi', 'namespace': ns, 'port': 80}

    version = workspace(k8s_client, ns, 'phi')['metadata']['resourceVersion']
    second = run(k8s_env, ws, playbook=True)
    assert second.rc == 0 and second.changed == 0, second.failures
    assert second.result(TASK)['workspace_action'] == 'unchanged' and second.result(TASK)['ready'] is True
    assert workspace(k8s_client, ns, 'phi')['metadata']['resourceVersion'] == version, 'a re-run writes nothing'


def test_a_stale_ready_from_an_older_generation_does_not_end_the_wait(k8s_env, k8s_client, ns):
    ws = dict(name='tiny', namespace=ns, resource={'label_selector': {'matchLabels': {'apps': 'tiny'}}}, template=CPU_TEMPLATE, wait=False)
    assert run(k8s_env, ws).rc == 0
    kaito.mark_ready(k8s_client, ns, 'tiny', generation=1)

    changed_template = copy.deepcopy(CPU_TEMPLATE)
    changed_template['spec']['containers'][0]['resources']['requests']['cpu'] = '2'  # templates may change in place
    waiting = dict(ws, template=changed_template, wait=True, wait_timeout=3)
    stale = run(k8s_env, waiting)
    assert stale.rc != 0
    assert workspace(k8s_client, ns, 'tiny')['metadata']['generation'] == 2
    msg = stale.result(TASK)['msg']
    assert 'Timed out after 3s' in msg and 'InferenceReady is for an older generation' in msg, msg

    kaito_thread = controller(k8s_client, ns, 'tiny', lambda o: kaito.mark_ready(k8s_client, ns, 'tiny', 2))
    done = run(k8s_env, dict(waiting, wait_timeout=30))
    kaito_thread.join()
    assert done.rc == 0, done.failures
    result = done.result(TASK)
    assert result['workspace_action'] == 'unchanged' and result['ready'] is True
    assert all(c['observedGeneration'] == 2 for c in result['conditions'])


def test_a_failed_condition_surfaces_its_reason_and_the_pod_events(k8s_env, k8s_client, ns):
    ws = dict(name='broken', namespace=ns, resource=GPU, preset={'name': 'phi-4-mini-instruct'}, wait=False)
    assert run(k8s_env, ws).rc == 0
    # what KAITO and the kubelet leave behind when the image cannot be pulled
    k8s_client.resources.get(api_version='v1', kind='Pod').create(namespace=ns, body={
        'metadata': {'name': 'broken-0', 'labels': {'kaito.sh/workspace': 'broken'}},
        'spec': {'containers': [{'name': 'model', 'image': 'registry.example/missing:1'}]}})
    events = k8s_client.resources.get(api_version='v1', kind='Event')
    for index, (reason, message) in enumerate([('Scheduled', 'Successfully assigned to aks-gpu-0'),
                                               ('Failed', 'Failed to pull image "registry.example/missing:1": not found')]):
        events.create(namespace=ns, body={
            'metadata': {'name': 'broken-0.%d' % index}, 'involvedObject': {'kind': 'Pod', 'name': 'broken-0', 'namespace': ns},
            'reason': reason, 'message': message, 'type': 'Warning' if reason == 'Failed' else 'Normal',
            'firstTimestamp': '2026-01-01T00:00:0%dZ' % index, 'lastTimestamp': '2026-01-01T00:00:0%dZ' % index,
            'count': 1, 'source': {'component': 'kubelet'}})
    events.create(namespace=ns, body={'metadata': {'name': 'unrelated'}, 'involvedObject': {'kind': 'Pod', 'name': 'other-0', 'namespace': ns},
                                      'reason': 'Pulled', 'message': 'not ours', 'type': 'Normal'})
    kaito.set_status(k8s_client, ns, 'broken', [
        kaito.condition('ResourceReady', 'True', 'workspaceResourceStatusSuccess', generation=1),
        kaito.condition('InferenceReady', 'False', 'ImagePullError', 'inference pod broken-0 cannot pull its image', generation=1)], 'NotReady')

    started = time.monotonic()
    failed = run(k8s_env, dict(ws, wait=True, wait_timeout=60))
    assert failed.rc != 0
    assert time.monotonic() - started < 30, 'a failure ends the wait at once, not at the timeout'
    result = failed.result(TASK)
    assert 'InferenceReady is False (ImagePullError): inference pod broken-0 cannot pull its image' in result['msg']
    assert 'Failed to pull image' in result['msg'], 'the pod events are in the message'
    assert [e['reason'] for e in result['events']] == ['Scheduled', 'Failed']
    assert result['events'][-1]['object'] == 'Pod/broken-0'
    assert result['condition']['reason'] == 'ImagePullError'

    # the generic "still starting" reason is not a failure: it times out instead, saying what it waited for
    kaito.set_status(k8s_client, ns, 'broken', [
        kaito.condition('InferenceReady', 'False', 'WorkspaceInferenceStatusPending', 'Inference workload is not ready', generation=1)], 'Pending')
    pending = run(k8s_env, dict(ws, wait=True, wait_timeout=2))
    assert pending.rc != 0
    msg = pending.result(TASK)['msg']
    assert 'Timed out after 2s' in msg and 'WorkspaceInferenceStatusPending' in msg and 'state Pending' in msg, msg


def test_an_immutable_change_fails_without_writing_and_recreate_goes_through_the_finalizer(k8s_env, k8s_client, ns):
    ws = dict(name='phi', namespace=ns, resource=GPU, preset={'name': 'phi-4-mini-instruct'}, wait=False)
    assert run(k8s_env, ws).rc == 0
    kaito.set_finalizer(k8s_client, ns, 'phi')  # KAITO's controller adds it
    kaito.mark_ready(k8s_client, ns, 'phi', 1)
    before = workspace(k8s_client, ns, 'phi')['metadata']

    changed = dict(ws, preset={'name': 'phi-4'}, resource={'label_selector': {'matchLabels': {'apps': 'other-gpu'}}})
    refused = run(k8s_env, changed)
    assert refused.rc != 0
    result = refused.result(TASK)
    assert 'cannot change resource.labelSelector, inference.preset in place' in result['msg'] and 'recreate: true' in result['msg']
    assert 'inference.preset: {"accessMode": "public", "name": "phi-4-mini-instruct"} -> {"name": "phi-4"}' in result['msg']
    assert sorted(c['field'] for c in result['immutable_changes']) == ['inference.preset', 'resource.labelSelector']
    assert workspace(k8s_client, ns, 'phi')['metadata']['resourceVersion'] == before['resourceVersion'], 'nothing written'

    checked = run(k8s_env, dict(changed, recreate=True), check=True, diff=True)
    assert checked.rc == 0 and checked.result(TASK)['workspace_action'] == 'recreated' and checked.result(TASK)['changed'] is True
    diff = [d for d in checked.result(TASK)['diff'] if d['before_header'].startswith('Workspace')][0]
    assert diff['before']['inference']['preset']['name'] == 'phi-4-mini-instruct' and diff['after']['inference']['preset']['name'] == 'phi-4'
    assert workspace(k8s_client, ns, 'phi')['metadata']['uid'] == before['uid'], 'check mode deletes nothing'

    # KAITO: let go of the finalizer once the deletion starts, then report the new workspace ready
    released = controller(k8s_client, ns, 'phi', lambda o: kaito.set_finalizer(k8s_client, ns, 'phi', present=False),
                          until=lambda o: bool(o['metadata'].get('deletionTimestamp')))
    readied = controller(k8s_client, ns, 'phi', lambda o: kaito.mark_ready(k8s_client, ns, 'phi', 1),
                         until=lambda o: o['metadata']['uid'] != before['uid'], timeout=60)
    recreated = run(k8s_env, dict(changed, recreate=True, wait=True))
    released.join()
    readied.join()
    assert recreated.rc == 0, recreated.failures
    result = recreated.result(TASK)
    assert result['workspace_action'] == 'recreated' and result['ready'] is True
    after = workspace(k8s_client, ns, 'phi')
    assert after['metadata']['uid'] != before['uid']
    assert after['inference']['preset']['name'] == 'phi-4' and after['resource']['labelSelector'] == {'matchLabels': {'apps': 'other-gpu'}}

    again = run(k8s_env, dict(changed, recreate=True))
    assert again.rc == 0 and again.changed == 0 and again.result(TASK)['workspace_action'] == 'unchanged'


def test_defaults_of_the_server_are_not_changes_and_check_mode_writes_nothing(k8s_env, k8s_client, ns):
    # the server stores count: 1 and accessMode: public; asking for them explicitly is not an immutable change
    ws = dict(name='phi', namespace=ns, resource=GPU, preset={'name': 'phi-4-mini-instruct'}, wait=False)
    assert run(k8s_env, ws).rc == 0
    explicit = dict(ws, resource=dict(GPU, count=1), preset={'name': 'phi-4-mini-instruct', 'access_mode': 'public'})
    same = run(k8s_env, explicit)
    assert same.rc == 0, same.failures
    assert same.result(TASK)['immutable_changes'] == []

    version = workspace(k8s_client, ns, 'phi')['metadata']['resourceVersion']
    checked = run(k8s_env, dict(ws, labels={'team': 'ml'}, inference_config={'vllm': {'max-model-len': 2048}}), check=True, diff=True)
    assert checked.rc == 0 and checked.result(TASK)['changed'] is True
    actions = dict((o['kind'], o['action']) for o in checked.result(TASK)['objects'])
    assert actions == {'ConfigMap': 'created', 'Workspace': 'updated'}
    assert workspace(k8s_client, ns, 'phi')['metadata']['resourceVersion'] == version
    assert 'team' not in workspace(k8s_client, ns, 'phi')['metadata']['labels']


def test_absent_waits_for_the_finalizer_and_removes_what_it_made(k8s_env, k8s_client, ns):
    ws = dict(name='phi', namespace=ns, resource=GPU, preset={'name': 'phi-4-mini-instruct'}, wait=False,
              inference_config='vllm:\n  max-model-len: 1024\n', pod_disruption_budget={'min_available': '50%'})
    pdbs = k8s_client.resources.get(api_version='policy/v1beta1', kind='PodDisruptionBudget')
    configmaps = k8s_client.resources.get(api_version='v1', kind='ConfigMap')

    def create_held_by_kaito():
        assert run(k8s_env, ws).rc == 0
        kaito.set_finalizer(k8s_client, ns, 'phi')

    def actions(result):
        return sorted((o['kind'], o['action']) for o in result.result(TASK)['objects'])

    create_held_by_kaito()
    assert pdbs.get(name='phi', namespace=ns).spec.minAvailable == '50%'
    stuck = run(k8s_env, {'name': 'phi', 'namespace': ns, 'state': 'absent', 'wait_timeout': 2})
    assert stuck.rc != 0 and 'workspace.finalizer.kaito.sh' in stuck.result(TASK)['msg']
    assert workspace(k8s_client, ns, 'phi')['metadata'].get('deletionTimestamp'), 'the deletion started; the finalizer holds it'

    # KAITO lets go later; the next run removes what the timed-out one left behind
    kaito.set_finalizer(k8s_client, ns, 'phi', present=False)
    deadline = time.monotonic() + 30
    while workspace(k8s_client, ns, 'phi') is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    leftovers = run(k8s_env, {'name': 'phi', 'namespace': ns, 'state': 'absent'})
    assert leftovers.rc == 0, leftovers.failures
    assert actions(leftovers) == [('ConfigMap', 'deleted'), ('PodDisruptionBudget', 'deleted'), ('Workspace', 'absent')]

    # KAITO lets go as soon as the deletion starts: the module waits for that and then removes the rest
    create_held_by_kaito()
    released = controller(k8s_client, ns, 'phi', lambda o: kaito.set_finalizer(k8s_client, ns, 'phi', present=False),
                          until=lambda o: bool(o['metadata'].get('deletionTimestamp')))
    gone = run(k8s_env, {'name': 'phi', 'namespace': ns, 'state': 'absent'})
    released.join()
    assert gone.rc == 0, gone.failures
    assert actions(gone) == [('ConfigMap', 'deleted'), ('PodDisruptionBudget', 'deleted'), ('Workspace', 'deleted')]
    assert workspace(k8s_client, ns, 'phi') is None
    assert configmaps.get(namespace=ns).items == [] and pdbs.get(namespace=ns).items == []
    again = run(k8s_env, {'name': 'phi', 'namespace': ns, 'state': 'absent'})
    assert again.rc == 0 and again.changed == 0 and again.result(TASK)['workspace_action'] == 'absent'


@pytest.mark.parametrize('ws, message', [
    (dict(name='Bad_Name', resource=GPU, preset={'name': 'x'}), 'must be a DNS-1123 label'),
    (dict(name='x', resource={'label_selector': {'apps': 'gpu'}}, preset={'name': 'x'}), 'matchLabels'),
    (dict(name='x', resource=GPU), 'one of preset, template or tuning is required'),
    (dict(name='x', resource=GPU, preset={'name': 'x'}, template=CPU_TEMPLATE), 'mutually exclusive'),
])
def test_bad_options_fail_before_anything_is_sent(k8s_env, k8s_client, ns, ws, message):
    result = run(k8s_env, dict(ws, namespace=ns))
    assert result.rc != 0 and message in result.result(TASK)['msg']
    assert kaito.workspaces(k8s_client).get(namespace=ns).items == []
