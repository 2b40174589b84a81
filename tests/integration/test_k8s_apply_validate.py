"""k8s_apply's validate option through real ansible-playbook runs against the real 1.20 test apiserver.

The server has the Gateway API v1.2.1 HTTPRoute CRD without its CEL rules (a 1.20 apiserver has no CEL), no Kueue
CRDs, and still serves policy/v1beta1: each refused object below is one the server alone would have accepted or
never seen, so a refusal is validation's, on the controller, before any write. playbooks/k8s_apply_validate.yml makes
every check in one run; it runs once in check mode, then once for real.
"""

import uuid
from pathlib import Path

import pytest

from tests.integration import kaito_standin as kaito
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
PLAYBOOK = 'k8s_apply_validate.yml'
MODES = ['check', 'apply']
CEL_TIMEOUTS = 'backendRequest timeout cannot be longer than request timeout'
CEL_BORROWING = 'borrowingLimit must be nil when cohort is empty'


def names(k8s_client, api_version, kind, ns, label_selector=None):
    api = k8s_client.resources.get(api_version=api_version, kind=kind)
    return sorted(i['metadata']['name'] for i in api.get(namespace=ns, label_selector=label_selector).to_dict()['items'])


def snapshot(k8s_client, ns):
    """What the namespace holds, by kind."""
    return {
        'configmaps': names(k8s_client, 'v1', 'ConfigMap', ns),
        'witnesses': names(k8s_client, 'v1', 'ConfigMap', ns, 'itest/witness=true'),
        'httproutes': names(k8s_client, 'gateway.networking.k8s.io/v1', 'HTTPRoute', ns),
        'deployments': names(k8s_client, 'apps/v1', 'Deployment', ns),
        'budgets': names(k8s_client, 'policy/v1beta1', 'PodDisruptionBudget', ns),
        'labels': k8s_client.resources.get(api_version='v1', kind='Namespace').get(name=ns).to_dict()['metadata'].get('labels') or {},
    }


@pytest.fixture(scope='module')
def ns(k8s_client):
    kaito.install_crds(k8s_client, [CRDS / 'gateway-api' / 'v1.2.1' / 'gateway.networking.k8s.io_httproutes.yaml.gz'])
    # the Kueue ClusterQueue cases need a kind the server does not serve: another file of this bed may have installed it
    kaito.remove_crds(k8s_client, ['clusterqueues.kueue.x-k8s.io'])
    # no controller-manager on the bed: deleted namespaces never finish, so this module gets its own
    name = 'kv-' + uuid.uuid4().hex[:8]
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': name}})
    return name


@pytest.fixture(scope='module')
def runs(k8s_env, k8s_client, ns):
    """The playbook in check mode, then for real; each run's results and what the namespace held after it."""
    runs = {}
    for mode in MODES:
        run = run_playbook(PLAYBOOK, {'test_namespace': ns}, env=k8s_env, check=mode == 'check')
        assert run.rc == 0, run.stderr[-3000:]  # every case task ignores its errors: the test reads each one
        runs[mode] = (run, snapshot(k8s_client, ns))
    return runs


def refused(result):
    """The validation problems of a call that failed on them, after checking that it says nothing was written."""
    assert result.get('failed') is True, result
    assert result['msg'].startswith('client-side validation found %d problem(s), nothing was written: ' % len(result['validation']))
    return [(p['object'], p['path'], p['message']) for p in result['validation']]


@pytest.mark.parametrize('mode', MODES)
def test_a_broken_cel_rule_and_too_many_rules_are_refused_before_any_write(runs, ns, mode):
    run, held = runs[mode]
    result = run.result('HTTPRoute that breaks a CEL rule')
    assert refused(result) == [('HTTPRoute %s/slow-backend' % ns, 'spec.rules[0].timeouts', CEL_TIMEOUTS)]
    assert 'HTTPRoute %s/slow-backend: spec.rules[0].timeouts: %s' % (ns, CEL_TIMEOUTS) in result['msg']
    assert refused(run.result('HTTPRoute with 17 rules')) == [
        ('HTTPRoute %s/too-many-rules' % ns, 'spec.rules', 'must have at most 16 items, has 17')]
    assert 'slow-backend' not in held['httproutes'] and 'too-many-rules' not in held['httproutes']
    assert held['witnesses'] == [], 'a call with an invalid object writes none of its objects'


@pytest.mark.parametrize('mode', MODES)
def test_a_wrong_field_type_is_refused_with_its_path(runs, ns, mode):
    run, held = runs[mode]
    assert refused(run.result('Deployment with a string for replicas')) == [
        ('Deployment %s/web' % ns, 'spec.replicas', 'must be of type integer, not "three"')]
    assert held['deployments'] == [] and held['witnesses'] == []


@pytest.mark.parametrize('mode', MODES)
def test_an_unknown_field_is_refused_with_strict_and_applied_without(runs, ns, mode):
    run, held = runs[mode]
    # metadata.clusterName: gone from Kubernetes 1.34, still known to the 1.20 server
    assert refused(run.result('Unknown field with strict')) == [('ConfigMap %s/legacy' % ns, 'metadata.clusterName', 'unknown field')]
    lenient = run.result('Unknown field without strict')
    assert not lenient.get('failed') and lenient['changed'] is True and lenient['validation'] == []
    assert [(o['name'], o['action']) for o in lenient['objects']] == [('legacy', 'created')]
    assert ('legacy' in held['configmaps']) == (mode == 'apply'), 'applied for real only outside check mode'
    assert held['witnesses'] == []


@pytest.mark.parametrize('mode', MODES)
def test_an_api_version_the_kubernetes_version_does_not_serve_is_refused(runs, ns, mode):
    run, held = runs[mode]
    assert refused(run.result('PodDisruptionBudget of policy/v1beta1 at Kubernetes 1.34')) == [
        ('PodDisruptionBudget %s/legacy-budget' % ns, '', 'policy/v1beta1 PodDisruptionBudget is not served by Kubernetes 1.34; use policy/v1')]
    assert 'legacy-budget' not in held['budgets'] and held['witnesses'] == []
    if mode == 'apply':
        # the 1.20 server itself takes it
        assert run.result('PodDisruptionBudget of policy/v1beta1 without validation')['changed'] is True
        assert held['budgets'] == ['legacy-budget-unchecked']


@pytest.mark.parametrize('mode', MODES)
def test_a_custom_resource_the_server_does_not_serve_is_checked_against_validate_crds(runs, ns, mode):
    run, held = runs[mode]
    result = run.result('Kueue ClusterQueue that breaks a CEL rule')
    assert refused(result) == [('ClusterQueue %s-queue' % ns, 'spec', CEL_BORROWING)]
    assert 'does not serve' not in result['msg'], 'refused by validation, before the server was asked'
    valid = run.result('Kueue ClusterQueue that passes validation')
    assert valid.get('failed') and 'validation' not in valid
    assert valid['msg'] == 'ClusterQueue %s-queue: the server does not serve kueue.x-k8s.io/v1beta2 ClusterQueue (is its CRD installed?)' % ns
    assert held['witnesses'] == []


@pytest.mark.parametrize('mode', MODES)
def test_a_valid_set_is_applied_and_a_rerun_changes_nothing(runs, ns, mode):
    run, held = runs[mode]
    result = run.result('Valid set')
    assert not result.get('failed') and result['changed'] is True and result['validation'] == []
    expected = [('Namespace', ns, 'updated'), ('ConfigMap', 'settings', 'created'), ('HTTPRoute', 'chat', 'created')]
    assert [(o['kind'], o['name'], o['action']) for o in result['objects']] == expected
    if mode == 'check':
        assert 'settings' not in held['configmaps'] and 'chat' not in held['httproutes'] and 'itest/validated' not in held['labels']
        return
    assert 'settings' in held['configmaps'] and 'chat' in held['httproutes'] and held['labels']['itest/validated'] == 'true'
    again = run.result('Valid set again')
    assert not again.get('failed') and again['changed'] is False and again['validation'] == []
    assert set(o['action'] for o in again['objects']) == {'unchanged'}


@pytest.mark.parametrize('mode', MODES)
def test_without_fail_on_error_problems_are_warnings_and_the_objects_are_applied(runs, ns, mode):
    run, held = runs[mode]
    result = run.result('Problems as warnings')
    assert not result.get('failed') and result['changed'] is True
    assert result['validation'] == [{'object': 'HTTPRoute %s/slow-backend-warned' % ns, 'path': 'spec.rules[0].timeouts', 'message': CEL_TIMEOUTS}]
    assert result['warnings'] == ['validate: HTTPRoute %s/slow-backend-warned: spec.rules[0].timeouts: %s' % (ns, CEL_TIMEOUTS)]
    # the server, without the CRD's CEL rules, takes what validation refused
    assert ('slow-backend-warned' in held['httproutes']) == (mode == 'apply')
