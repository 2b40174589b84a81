"""The functional probes' pure parts: the objects they make (checked against Kubernetes 1.34 and the upstream CRDs,
CEL rules included) and how they judge what the controllers did."""

from pathlib import Path

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import functional as f
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.validate import Validator, read_crd_files

CRDS = Path(__file__).resolve().parents[4] / 'crds'
CRD_FILES = [CRDS / 'gateway-api' / 'v1.4.1' / ('gateway.networking.k8s.io_%s.yaml' % name) for name in ('gateways', 'httproutes')]
CRD_FILES += [CRDS / 'kueue' / ('kueue.x-k8s.io_%s.yaml' % name) for name in ('resourceflavors', 'clusterqueues', 'localqueues')]
CRD_FILES += [CRDS / 'kaito' / 'kaito.sh_workspaces.yaml']


def test_every_object_a_probe_makes_is_valid_and_labelled():
    job = f.gang_job('ns', 'aic-gang-fit-abc123', 'aic-lq-1', 3)
    objects = [f.resource_flavor('aic-flavor-1'), f.cluster_queue('aic-cq-1', 'aic-flavor-1'), f.local_queue('ns', 'aic-lq-1', 'aic-cq-1'),
               job, f.gateway('ns', 'aic-gw-1', 'istio'), f.http_route('ns', 'aic-route-1', 'aic-gw-1', 'aic-v1-1', 'aic-v2-1'),
               f.client_job('ns', 'aic-client-1', '10.0.0.7'), f.workspace('ns', 'aic-ws-1', {}),
               f.workspace('ns', 'aic-invalid-1', {}, valid=False)] + list(f.backend('ns', 'aic-v1-1'))
    validator = Validator(version='1.34', crds=read_crd_files([str(p) for p in CRD_FILES]), strict=True, fail_on_error=False)
    assert validator.validate(objects) == []
    assert all(o['metadata']['labels'][f.PROBE_LABEL] for o in objects)
    assert all(o['metadata']['labels']['app.kubernetes.io/managed-by'] == 'aiplatform.aks' for o in objects)


def test_gang_jobs_fit_the_quota_exactly_and_one_pod_more_does_not():
    fit, over = f.gang_job('ns', 'a', 'q', f.GANG_SIZE), f.gang_job('ns', 'b', 'q', f.GANG_SIZE + 1)
    for job, size in ((fit, f.GANG_SIZE), (over, f.GANG_SIZE + 1)):
        assert job['spec']['suspend'] is True
        assert job['spec']['parallelism'] == job['spec']['completions'] == size
        assert job['metadata']['labels'][f.QUEUE_LABEL] == 'q'
    per_pod = int(f.GANG_POD_CPU.rstrip('m'))
    assert per_pod * f.GANG_SIZE == int(f.GANG_QUOTA_CPU.rstrip('m')) < per_pod * (f.GANG_SIZE + 1)
    queue = f.cluster_queue('cq', 'flavor')['spec']
    assert queue['queueingStrategy'] == 'BestEffortFIFO'
    assert queue['resourceGroups'][0]['flavors'][0]['resources'] == [{'name': 'cpu', 'nominalQuota': f.GANG_QUOTA_CPU}]


def admitted_workload(uid, count, status='True'):
    return {'metadata': {'name': 'job-x-1', 'generation': 1, 'ownerReferences': [{'uid': uid, 'kind': 'Job'}]},
            'status': {'admission': {'clusterQueue': 'cq', 'podSetAssignments': [{'name': 'main', 'count': count}]},
                       'conditions': [{'type': 'QuotaReserved', 'status': status, 'observedGeneration': 1},
                                      {'type': 'Admitted', 'status': status, 'observedGeneration': 1}]}}


def job(uid='u1', suspend=False):
    return {'metadata': {'name': 'fit', 'uid': uid}, 'spec': {'suspend': suspend}}


def pods(uid, count):
    return [{'metadata': {'ownerReferences': [{'uid': uid}]}} for index in range(count)] + [{'metadata': {'ownerReferences': [{'uid': 'other'}]}}]


@pytest.mark.parametrize('state, ok, why', [
    (f.gang_state(job(), pods('u1', 3), [admitted_workload('u1', 3)]), True, 'admitted for 3 pods; Job fit unsuspended with 3 pods'),
    (f.gang_state(job(), pods('u1', 0), []), False, 'no Workload for Job fit yet'),
    (f.gang_state(job(suspend=True), pods('u1', 0), [admitted_workload('u1', 3, 'False')]), False, 'not admitted'),
    (f.gang_state(job(), pods('u1', 2), [admitted_workload('u1', 2)]), False, 'admitted for 2 pods, not 3'),
    (f.gang_state(job(suspend=True), pods('u1', 0), [admitted_workload('u1', 3)]), False, 'still suspended'),
    (f.gang_state(job(), pods('u1', 2), [admitted_workload('u1', 3)]), False, 'has 2 pods, not 3'),
    (f.gang_state({'metadata': {'name': 'fit', 'uid': 'u1'}, 'spec': {}}, pods('u1', 3), [admitted_workload('u1', 3)]), True, 'admitted'),
])
def test_a_gang_has_started_only_when_all_its_pods_were_admitted_and_made(state, ok, why):
    assert f.gang_started(state, 3)[0] is ok
    assert why in f.gang_started(state, 3)[1]


def test_a_job_above_the_quota_counts_as_started_by_any_sign():
    held = f.gang_state(job(suspend=True), pods('u1', 0), [admitted_workload('u1', 0, 'False')])
    assert f.gang_started_partly(held) is None
    assert f.gang_started_partly(dict(held, suspended=None)) is None  # a server without spec.suspend
    assert f.gang_started_partly(dict(held, suspended=False)) == 'Job fit unsuspended'
    assert f.gang_started_partly(dict(held, pods=2)) == '2 pods created'
    partly = f.gang_state(job(), pods('u1', 3), [admitted_workload('u1', 3)])
    assert f.gang_started_partly(partly) == 'Workload job-x-1 admitted (3 pods assigned); Job fit unsuspended; 3 pods created'
    assert f.gang_hold(120) == 30 and f.gang_hold(8) == 2


def condition(ctype, status='True', generation=1, reason='R', message='m'):
    return {'type': ctype, 'status': status, 'observedGeneration': generation, 'reason': reason, 'message': message}


def test_a_gateway_is_programmed_with_both_conditions_and_an_address():
    conditions = [condition('Accepted', generation=2), condition('Programmed', generation=2)]
    gw = {'metadata': {'name': 'gw', 'generation': 2}, 'status': {'addresses': [{'value': '10.0.0.1'}], 'conditions': conditions}}
    assert f.gateway_programmed(gw) == (True, 'Gateway gw Accepted and Programmed at 10.0.0.1')
    stale = dict(gw, status=dict(gw['status'], conditions=[condition('Accepted', generation=2), condition('Programmed', generation=1)]))
    assert 'older generation' in f.gateway_programmed(stale)[1]
    assert f.gateway_programmed(dict(gw, status=dict(gw['status'], addresses=[]))) == (False, 'Gateway gw: Programmed but no status.addresses')


def route(parents, generation=1):
    return {'metadata': {'name': 'r', 'generation': generation}, 'status': {'parents': parents}}


def test_a_route_is_accepted_only_with_resolved_references_from_its_gateway():
    good = {'parentRef': {'name': 'gw'}, 'controllerName': 'c', 'conditions': [condition('Accepted'), condition('ResolvedRefs')]}
    assert f.route_accepted(route([good]), 'gw') == (True, 'HTTPRoute r Accepted with its references resolved by c')
    assert 'no status from the controller of Gateway gw' in f.route_accepted(route([dict(good, parentRef={'name': 'other'})]), 'gw')[1]
    missing = dict(good, conditions=[condition('Accepted'), condition('ResolvedRefs', 'False', reason='BackendNotFound', message='svc')])
    assert f.route_accepted(route([missing]), 'gw') == (False, 'HTTPRoute r: ResolvedRefs is False (BackendNotFound: svc)')
    assert 'older generation' in f.route_accepted(route([good], generation=2), 'gw')[1]
    assert 'condition ResolvedRefs not reported' in f.route_accepted(route([dict(good, conditions=[condition('Accepted')])]), 'gw')[1]


def test_the_route_holds_a_header_rule_and_an_80_20_split():
    rules = f.http_route('ns', 'r', 'gw', 'v1', 'v2')['spec']['rules']
    assert rules[0] == {'matches': [{'headers': [{'name': 'X-Model-Version', 'value': 'v2'}]}], 'backendRefs': [{'name': 'v2', 'port': 8080}]}
    assert [(r['name'], r['weight']) for r in rules[1]['backendRefs']] == [('v1', 80), ('v2', 20)]


def log(stable, canary, failed=0, header_canary=20, header_stable=0):
    lines = ['split v1-abc-%d' % i for i in range(stable)] + ['split v2-def-%d' % i for i in range(canary)] + ['split '] * failed
    return '\n'.join(lines + ['header v2-def-1'] * header_canary + ['header v1-abc-1'] * header_stable)


@pytest.mark.parametrize('text, ok, observed', [
    (log(80, 20), True, '80 stable, 20 canary, 0 failed (80 % stable'),
    (log(71, 29), True, '(71 % stable'),
    (log(69, 31), False, '(69 % stable'),
    (log(100, 0), False, '100 stable, 0 canary'),
    (log(78, 20, failed=2), False, '2 failed'),
    (log(80, 20, header_canary=19, header_stable=1), False, 'v2: 19 canary of 20'),
    ('', False, '0 stable, 0 canary, 0 failed'),
])
def test_the_split_is_judged_from_the_clients_log(text, ok, observed):
    result = f.split_verdict(text, 'v1', 'v2')
    assert result[0] is ok
    assert observed in result[1]


def test_the_workspace_takes_its_nodes_from_the_settings():
    byo = f.workspace('ns', 'w', {})
    assert byo['resource'] == {'labelSelector': {'matchLabels': {'kubernetes.io/os': 'linux'}}}
    assert byo['inference']['template']['spec']['containers'][0]['args'] == ['netexec', '--http-port=5000']
    nap = f.workspace('ns', 'w', {'kaito_instance_type': 'Standard_D4s_v5', 'kaito_label_selector': {'pool': 'cpu'}})
    assert nap['resource'] == {'labelSelector': {'matchLabels': {'pool': 'cpu'}}, 'instanceType': 'Standard_D4s_v5'}
    invalid = f.workspace('ns', 'w', {}, valid=False)
    assert 'inference' not in invalid and 'tuning' not in invalid


class Refusal(Exception):
    def __init__(self, body, status=400):
        super().__init__(body)
        self.body, self.status = body, status


def test_only_a_webhook_denial_counts_as_the_webhook_working():
    denied = Refusal('{"message": "admission webhook \\"validation.workspace.kaito.sh\\" denied the request: bad", "reason": "BadRequest"}')
    assert f.dry_run_refusal(denied)[0] is True
    schema = Refusal('{"message": "Workspace.kaito.sh \\"w\\" is invalid: resource.labelSelector: Required value", "reason": "Invalid"}', 422)
    assert f.dry_run_refusal(schema) == (False, 'Workspace.kaito.sh "w" is invalid: resource.labelSelector: Required value (HTTP 422 Invalid)')


def test_every_probe_is_registered_under_its_requirement():
    assert sorted(f.PROBES) == ['ai_inference', 'gang_scheduling', 'robust_controller']
    assert 'secure_accelerator_access' not in f.PROBES  # needs a kubelet with the NVIDIA runtime: see the module's docstring
