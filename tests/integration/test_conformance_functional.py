"""The functional conformance probes on the test apiserver, beside named stand-ins for Kueue, a Gateway API controller
and KAITO (controller and admission webhook): each probe passes when the stand-in behaves, fails when it misbehaves,
fails when nobody answers, and in every case leaves nothing behind once the context is cleaned up."""

import gzip
import time
import uuid
from pathlib import Path

import pytest
import yaml

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import functional
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.context import ProbeContext
from tests.integration import conformance_standins as standins
from tests.integration import kaito_standin as kaito
from tests.integration.probe_leftovers import checks
from tests.integration.probe_leftovers import cleaned as cleaned_of

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
TIMEOUT = 4
# cluster-scoped: another test's are not this probe's
QUEUE_KINDS = ('ClusterQueue', 'ResourceFlavor')
PROBED_KINDS = [('v1', 'Pod'), ('v1', 'Service'), ('apps/v1', 'Deployment'), ('batch/v1', 'Job'), (standins.KUEUE, 'Workload'),
                (standins.KUEUE, 'LocalQueue'), (standins.GATEWAY_API, 'Gateway'), (standins.GATEWAY_API, 'HTTPRoute'),
                ('kaito.sh/v1beta1', 'Workspace')]


def cleaned(k8s_client, ctx):
    return cleaned_of(k8s_client, ctx, PROBED_KINDS, [(standins.KUEUE, kind) for kind in QUEUE_KINDS])


def map_keys_required(schema):
    """A 1.20 apiserver wants each key of a list-map defaulted or required; install_crds drops the empty-string
    defaults it reads as null (the Workload CRD's imagePullSecrets[].name), so such keys become required instead."""
    if isinstance(schema, dict):
        items = schema.get('items') or {}
        for key in schema.get('x-kubernetes-list-map-keys') or []:
            if 'default' not in (items.get('properties') or {}).get(key, {}) and key not in items.get('required', []):
                items['required'] = items.get('required', []) + [key]
        for value in schema.values():
            map_keys_required(value)
    elif isinstance(schema, list):
        for value in schema:
            map_keys_required(value)
    return schema


@pytest.fixture(scope='module')
def crds(k8s_client, tmp_path_factory):
    workloads = yaml.safe_load(gzip.decompress((CRDS / 'kueue' / 'kueue.x-k8s.io_workloads.yaml.gz').read_bytes()))
    fixed = tmp_path_factory.mktemp('crds') / 'workloads.yaml'
    fixed.write_text(yaml.safe_dump(map_keys_required(kaito.for_old_apiserver(workloads))))
    files = sorted((CRDS / 'kueue').glob('*.yaml')) + [fixed] + sorted((CRDS / 'gateway-api' / 'v1.2.1').glob('*')) + \
        [CRDS / 'kaito' / 'kaito.sh_workspaces.yaml']
    return kaito.install_crds(k8s_client, files)


@pytest.fixture
def ctx(k8s_client, crds):
    """A probe context with short waits, in namespaces of a prefix of its own (the stand-ins act there only); the
    cleanup every test must leave nothing after runs at the end of the test if the test did not call it."""
    context = ProbeContext(k8s_client, {'namespace_prefix': 'aic-' + uuid.uuid4().hex[:6], 'timeout': TIMEOUT,
                                        'kaito_label_selector': {'kubernetes.io/os': 'linux'}}, sleep=0.2)
    yield context
    context.cleanup()
    # a test that failed before its own cleanup left queues whose finalizers only the stopped Kueue stand-in removes
    for kind in QUEUE_KINDS:
        resource = k8s_client.resources.get(api_version=standins.KUEUE, kind=kind)
        for name in set(r['name'] for r in context.objects if r['kind'] == kind):
            found = resource.get(field_selector='metadata.name=' + name).to_dict()['items']
            if found and found[0]['metadata'].get('finalizers'):
                resource.patch(name=name, content_type='application/merge-patch+json', body={'metadata': {'finalizers': None}})


@pytest.fixture
def gateway_class(k8s_client):
    """A GatewayClass the Gateway stand-in implements."""
    name = 'aic-standin-' + uuid.uuid4().hex[:6]
    classes = k8s_client.resources.get(api_version=standins.GATEWAY_API, kind='GatewayClass')
    classes.create(body={'apiVersion': standins.GATEWAY_API, 'kind': 'GatewayClass', 'metadata': {'name': name},
                         'spec': {'controllerName': standins.CONTROLLER}})
    yield name
    classes.delete(name=name)


# ------------------------------------------------------------------------------------------------ gang_scheduling

def test_gang_scheduling_passes_when_kueue_admits_all_or_nothing(k8s_client, ctx):
    with standins.KueueStandIn(k8s_client, ctx.settings['namespace_prefix']).running():
        result = functional.PROBES['gang_scheduling'](ctx)
        assert result['ok'], result
        assert checks(result) == {'queues': True, 'Job suspension': True, 'all pods admitted together': True,
                                  'none admitted above the quota': True}
        fit = next(e for e in result['evidence'] if e['check'] == 'all pods admitted together')
        assert 'unsuspended with 3 pods' in fit['observed']
        assert 'not admitted, Job not started, no pods' in next(e['observed'] for e in result['evidence'] if e['check'] == 'none admitted above the quota')
        assert cleaned(k8s_client, ctx) == ([], [])
    kinds = sorted(set(r['kind'] for r in ctx.objects))
    assert kinds == ['ClusterQueue', 'Job', 'LocalQueue', 'Namespace', 'ResourceFlavor']


def test_gang_scheduling_fails_when_kueue_starts_part_of_a_job(k8s_client, ctx):
    with standins.KueueStandIn(k8s_client, ctx.settings['namespace_prefix'], admit_partially=True).running():
        result = functional.PROBES['gang_scheduling'](ctx)
        assert not result['ok'], result
        assert 'started although above the quota' in result['notes']
        # the over-quota Job's partial admission is named (its pods may not exist yet when the probe stops)
        assert 'admitted (3 pods assigned)' in result['notes']
        assert cleaned(k8s_client, ctx) == ([], [])


def test_gang_scheduling_times_out_without_kueue(k8s_client, ctx):
    started = time.monotonic()
    result = functional.PROBES['gang_scheduling'](ctx)
    assert not result['ok']
    assert 'Timed out after' in result['notes'] and 'no Workload for Job' in result['notes']
    assert time.monotonic() - started < TIMEOUT + functional.gang_hold(TIMEOUT) + 5
    assert checks(result)['gang admission'] is False
    assert cleaned(k8s_client, ctx) == ([], [])


# ------------------------------------------------------------------------------------------------ ai_inference

def test_ai_inference_accepted_route_without_pods_is_partial(k8s_client, ctx, gateway_class):
    ctx.settings['gateway_class'] = gateway_class
    with standins.GatewayStandIn(k8s_client, ctx.settings['namespace_prefix']).running():
        result = functional.PROBES['ai_inference'](ctx)
        assert result['ok'] and result['partial'], result
        assert 'not measured' in result['notes']
        assert checks(result) == {'backends': True, 'gateway': True, 'route': True, 'traffic split': False}
        assert 'Accepted with its references resolved by %s' % standins.CONTROLLER in next(
            e['observed'] for e in result['evidence'] if e['check'] == 'route')
        route = k8s_client.resources.get(api_version=standins.GATEWAY_API, kind='HTTPRoute').get(
            namespace=next(r['name'] for r in ctx.objects if r['kind'] == 'Namespace')).to_dict()['items'][0]
        assert [(r.get('weight'), r['name'].split('-')[1]) for r in route['spec']['rules'][1]['backendRefs']] == [(80, 'v1'), (20, 'v2')]
        assert route['spec']['rules'][0]['matches'][0]['headers'] == [{'name': 'X-Model-Version', 'value': 'v2', 'type': 'Exact'}]
        assert cleaned(k8s_client, ctx) == ([], [])


class WithoutCanaryService(ProbeContext):
    """A cluster where the canary backend's Service never comes to exist (created, then removed at once)."""

    def create(self, body):
        obj = super().create(body)
        if body['kind'] == 'Service' and body['metadata']['name'].startswith('aic-v2-'):
            self.client.resources.get(api_version='v1', kind='Service').delete(name=obj['metadata']['name'], namespace=obj['metadata']['namespace'])
        return obj


def test_ai_inference_fails_when_a_backend_is_missing(k8s_client, crds, gateway_class):
    ctx = WithoutCanaryService(k8s_client, {'namespace_prefix': 'aic-' + uuid.uuid4().hex[:6], 'timeout': TIMEOUT,
                                            'gateway_class': gateway_class}, sleep=0.2)
    try:
        with standins.GatewayStandIn(k8s_client, ctx.settings['namespace_prefix']).running():
            result = functional.PROBES['ai_inference'](ctx)
        assert not result['ok']
        assert 'ResolvedRefs is False (BackendNotFound: Service' in result['notes'] and 'aic-v2-' in result['notes']
        assert checks(result) == {'backends': True, 'gateway': True, 'route': False}
    finally:
        assert cleaned(k8s_client, ctx) == ([], [])


def test_ai_inference_fails_when_the_route_is_never_accepted(k8s_client, ctx, gateway_class):
    ctx.settings['gateway_class'] = gateway_class
    with standins.GatewayStandIn(k8s_client, ctx.settings['namespace_prefix'], accept_routes=False).running():
        result = functional.PROBES['ai_inference'](ctx)
        assert not result['ok']
        assert 'Timed out after %ss waiting for HTTPRoute' % TIMEOUT in result['notes'] and 'no status from the controller' in result['notes']
        assert cleaned(k8s_client, ctx) == ([], [])


def test_ai_inference_times_out_when_no_controller_takes_the_gateway_class(k8s_client, ctx, gateway_class):
    ctx.settings['gateway_class'] = gateway_class
    result = functional.PROBES['ai_inference'](ctx)
    assert not result['ok']
    assert 'waiting for Gateway' in result['notes'] and 'condition Accepted is Unknown (Pending: Waiting for controller)' in result['notes']
    assert checks(result) == {'backends': True, 'gateway': False}
    assert cleaned(k8s_client, ctx) == ([], [])


# ------------------------------------------------------------------------------------------------ robust_controller

def test_robust_controller_passes_with_kaito_webhook_and_controller(k8s_client, ctx, kaito_admission):
    with kaito_admission.mode(False), kaito.StandIn(k8s_client, ready_after=0.5).running():
        result = functional.PROBES['robust_controller'](ctx)
        assert result['ok'], result
        refusal = next(e for e in result['evidence'] if e['check'] == 'webhook refuses an invalid Workspace')
        assert 'admission webhook "%s" denied the request' % kaito.WEBHOOK_NAME in refusal['observed']
        assert 'Either Inference or Tuning must be specified, not neither' in refusal['observed']
        assert 'condition InferenceReady is True' in next(e['observed'] for e in result['evidence'] if e['check'] == 'Workspace reconciled')
        # the dry run refused, the valid Workspace admitted (then the controller's finalizer updates); the stand-in
        # controller also reconciles Workspaces other files of this bed left, so only this probe's reviews count
        mine = [r for r in kaito_admission.reviews if r[1].startswith(ctx.settings['namespace_prefix'] + '-')]
        assert [(r[0], r[2] is None) for r in mine[:2]] == [('CREATE', False), ('CREATE', True)]
        assert cleaned(k8s_client, ctx) == ([], [])  # the deletion waited for KAITO's finalizer


def test_robust_controller_fails_without_the_webhook(k8s_client, ctx):
    with kaito.StandIn(k8s_client, ready_after=0.2).running():
        result = functional.PROBES['robust_controller'](ctx)
        assert not result['ok']
        assert 'did not refuse an invalid one: accepted' in result['notes']
        assert checks(result) == {'webhook refuses an invalid Workspace': False, 'Workspace reconciled': True}
        assert cleaned(k8s_client, ctx) == ([], [])


def test_robust_controller_times_out_without_the_controller(k8s_client, ctx, kaito_admission):
    with kaito_admission.mode(False):
        result = functional.PROBES['robust_controller'](ctx)
    assert not result['ok']
    assert 'Timed out after %ss waiting for Workspace' % TIMEOUT in result['notes'] and 'InferenceReady not reported yet' in result['notes']
    assert cleaned(k8s_client, ctx) == ([], [])
