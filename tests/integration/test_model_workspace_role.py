"""The model_workspace role against the real test apiserver, with a stand-in KAITO controller and a stub model server."""

import uuid
from pathlib import Path

import pytest
import yaml

from tests.integration import kaito_standin as kaito
from tests.integration.inference_stub import CPU_EXAMPLE_PROMPTS, InferenceStub
from tests.integration.playbook import REPO_ROOT, run_playbook

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
DEFAULTS = yaml.safe_load((REPO_ROOT / 'roles' / 'model_workspace' / 'defaults' / 'main.yml').read_text())


@pytest.fixture(scope='module')
def crds(k8s_client):
    return kaito.install_crds(k8s_client, [CRDS / 'kaito' / 'kaito.sh_workspaces.yaml',
                                           CRDS / 'gateway-api' / 'v1.2.1' / 'gateway.networking.k8s.io_httproutes.yaml.gz'])


@pytest.fixture(autouse=True)
def admission(kaito_admission):
    """KAITO's admission webhook (strict stand-in) as on AKS with the KAITO add-on: node auto-provisioning on."""
    return kaito_admission


@pytest.fixture
def standin(k8s_client, crds):
    """The stand-in controller, stepping in a thread: finalizer, and Ready half a second after each generation."""
    with kaito.StandIn(k8s_client, ready_after=0.5).running() as controller:
        yield controller


@pytest.fixture
def stub():
    with InferenceStub() as server:
        yield server


def serve(k8s_env, ns, stub, **extra):
    variables = {'test_namespace': ns, 'model_workspace_probe_url': stub.url}
    variables.update(extra)
    return run_playbook('model_workspace_role.yml', variables, env=k8s_env)


def test_defaults_serve_the_cpu_example_exactly_probe_it_and_change_nothing_the_second_time(k8s_env, k8s_client, standin, stub):
    ns = 'mw-' + uuid.uuid4().hex[:8]
    first = serve(k8s_env, ns, stub)
    assert first.rc == 0, first.failures
    stored = kaito.workspaces(k8s_client).get(name='bloomz-workspace', namespace=ns).to_dict()
    example = DEFAULTS['model_workspace_bloomz_cpu']
    container = stored['inference']['template']['spec']['containers'][0]
    want = example['template']['spec']['containers'][0]
    assert container['image'] == DEFAULTS['model_workspace_cpu_image']
    for key in ('command', 'args', 'env', 'resources', 'livenessProbe', 'readinessProbe', 'ports', 'volumeMounts'):
        assert container[key] == want[key], key
    assert stored['inference']['template']['spec']['volumes'] == [{'name': 'dshm', 'emptyDir': {'medium': 'Memory'}}]
    assert stored['resource'] == {'instanceType': 'Standard_D4ds_v6', 'count': 1, 'labelSelector': {'matchLabels': {'apps': 'bloomz-560m'}}}
    assert ' '.join(container['command'] + container['args']) == (
        'accelerate launch --num_processes 1 --num_machines 1 tfs/inference_api.py --pipeline text-generation --trust_remote_code '
        '--allow_remote_files --pretrained_model_name_or_path bigscience/bloomz-560m --torch_dtype float32')
    phi = kaito.workspaces(k8s_client).get(name='phi-4-mini', namespace=ns).to_dict()
    assert phi['inference']['preset']['name'] == 'phi-4-mini-instruct' and phi['metadata']['annotations']['kaito.sh/disable-benchmark'] == 'true'
    assert phi['resource']['instanceType'] == 'Standard_NC24ads_A100_v4'

    labels = k8s_client.resources.get(api_version='v1', kind='Namespace').get(name=ns).to_dict()['metadata']['labels']
    assert labels['pod-security.kubernetes.io/enforce'] == 'baseline' and labels['pod-security.kubernetes.io/warn'] == 'restricted'
    pdbs = k8s_client.resources.get(api_version='policy/v1beta1', kind='PodDisruptionBudget').get(namespace=ns).to_dict()['items']
    assert sorted((p['metadata']['name'], p['spec']['maxUnavailable']) for p in pdbs) == [('bloomz-workspace', 1), ('phi-4-mini', 1)]

    chat = [r for r in stub.requests if r['path'] == '/chat']
    assert [r['body']['prompt'] for r in chat] == CPU_EXAMPLE_PROMPTS
    assert all(r['body']['generate_kwargs'] == {'max_length': 64, 'do_sample': False} and r['body']['return_full_text'] is False for r in chat)
    assert len([r for r in stub.requests if r['path'] == '/v1/chat/completions']) == 2
    probes = first.result('Send each model its test prompts')
    assert [r['summary']['passed'] for r in probes['results']] == [5, 2]

    second = serve(k8s_env, ns, stub)
    assert second.rc == 0 and second.changed == 0, second.failures


def test_routes_wait_for_the_models_they_name(k8s_env, k8s_client, crds, stub):
    ns = 'mw-' + uuid.uuid4().hex[:8]
    route = {'name': 'chat', 'namespace': ns, 'parent_refs': [{'name': 'ai-gw'}], 'backends': [{'workspace': 'phi-4-mini'}]}
    # no controller: nothing becomes ready, so the role must not route to it
    refused = serve(k8s_env, ns, stub, model_workspace_wait=False, model_workspace_routes=[route])
    assert refused.rc != 0
    msg = refused.result('Routes go only to models that serve')['msg']
    assert 'Not creating routes to models that do not serve yet' in msg and '%s/phi-4-mini' % ns in msg
    routes = k8s_client.resources.get(api_version='gateway.networking.k8s.io/v1', kind='HTTPRoute')
    assert routes.get(namespace=ns).items == []
    assert [r for r in stub.requests if r['method'] == 'POST'] == [], 'no prompts to a model that does not serve'


def test_routes_follow_ready_models(k8s_env, k8s_client, standin, stub):
    ns = 'mw-' + uuid.uuid4().hex[:8]
    route = {'name': 'chat', 'namespace': ns, 'parent_refs': [{'name': 'ai-gw'}], 'hostnames': ['models.example.com'],
             'path_prefix': '/v1', 'backends': [{'workspace': 'phi-4-mini', 'weight': 90}, {'service': 'other', 'port': 8080, 'weight': 10}],
             'header_matches': [{'name': 'x-model-variant', 'value': 'b', 'workspace': 'bloomz-workspace'}]}
    run = serve(k8s_env, ns, stub, model_workspace_routes=[route])
    assert run.rc == 0, run.failures
    spec = k8s_client.resources.get(api_version='gateway.networking.k8s.io/v1', kind='HTTPRoute').get(name='chat', namespace=ns).to_dict()['spec']
    assert spec['hostnames'] == ['models.example.com']
    assert spec['rules'][0]['matches'] == [{'path': {'type': 'PathPrefix', 'value': '/v1'},
                                           'headers': [{'type': 'Exact', 'name': 'x-model-variant', 'value': 'b'}]}]
    assert [(b['name'], b['port']) for b in spec['rules'][0]['backendRefs']] == [('bloomz-workspace', 80)]
    assert [(b['name'], b['port'], b['weight']) for b in spec['rules'][1]['backendRefs']] == [('phi-4-mini', 80, 90), ('other', 8080, 10)]

    gone = serve(k8s_env, ns, stub, model_workspace_routes=[dict(route, state='absent')])
    assert gone.rc == 0, gone.failures
    assert k8s_client.resources.get(api_version='gateway.networking.k8s.io/v1', kind='HTTPRoute').get(namespace=ns).items == []


def test_without_a_probe_url_the_prompts_go_through_the_api_server(k8s_env, k8s_client, standin, stub):
    """The bed's apiserver proxies to no pod, so this ends in its 503, which shows the role's wiring of service and namespace."""
    ns = 'mw-' + uuid.uuid4().hex[:8]
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': ns}})
    # what KAITO creates for the workspace (a Service on port 80) and, while the pod loads, no ready endpoint
    k8s_client.resources.get(api_version='v1', kind='Service').create(namespace=ns, body={
        'metadata': {'name': 'bloomz-workspace'}, 'spec': {'ports': [{'name': 'http', 'port': 80, 'targetPort': 5000}]}})
    k8s_client.resources.get(api_version='v1', kind='Endpoints').create(namespace=ns, body={'metadata': {'name': 'bloomz-workspace'}})
    run = serve(k8s_env, ns, stub, model_workspace_probe_url='',
                model_workspace_models="{{ [model_workspace_bloomz_cpu | combine({'namespace': test_namespace})] }}")
    assert run.rc != 0
    msg = run.result('Send each model its test prompts')['results'][0]['msg']
    assert '5 of 5 prompts to service %s/bloomz-workspace port 80 via the API server' % ns in msg
    assert 'HTTP 503' in msg and 'no endpoints available' in msg
    assert stub.requests == []
