"""The status rule: presence may be Implemented from a static probe, behaviour only with a functional probe or a
measurement; failures, N/A with notes, requirements without a probe; the summary."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import verdict
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.verdict import decide

PASSED = {'outcome': 'pass', 'notes': 'seen'}
BEHAVIOUR = ['ai_inference', 'gang_scheduling', 'cluster_autoscaling', 'pod_autoscaling', 'accelerator_metrics', 'ai_service_metrics',
             'secure_accelerator_access', 'robust_controller']


def test_presence_is_implemented_from_a_static_pass():
    status, notes, probe = decide('dra_support', 'MUST', PASSED)
    assert (status, probe) == ('Implemented', 'static') and 'presence' in notes


@pytest.mark.parametrize('requirement', BEHAVIOUR)
@pytest.mark.parametrize('probe_exists, how', [(True, 'run the functional probe (functional: true)'),
                                               (False, 'no functional probe for it yet: show the behaviour by hand')])
def test_behaviour_is_at_most_partial_from_a_static_pass_and_the_notes_say_how_to_show_it(requirement, probe_exists, how):
    status, notes, probe = decide(requirement, 'MUST', PASSED, probe_exists=probe_exists)
    assert (status, probe) == ('Partially Implemented', 'static')
    if probe_exists and requirement in verdict.OPT_IN:
        how = 'run the functional probe (%s)' % verdict.OPT_IN[requirement]
    assert notes.startswith('Static evidence only: seen') and how in notes


def test_an_opt_in_probe_names_its_setting_and_its_cost():
    notes = decide('cluster_autoscaling', 'MUST', PASSED, probe_exists=True)[1]
    assert notes == ('Static evidence only: seen; run the functional probe (functional: true with probes.gpu_scale_up: true; costly: a GPU '
                     'node is added) to show the behaviour itself')


def test_a_measurement_is_implemented():
    status, notes, _probe = decide('accelerator_metrics', 'MUST', dict(PASSED, measured=True))
    assert status == 'Implemented' and notes == 'Measured: seen'


def test_the_functional_probe_decides_when_it_ran():
    assert decide('gang_scheduling', 'MUST', PASSED, {'ok': True, 'notes': 'admitted'}) == ('Implemented', 'Functional probe: admitted', 'functional')
    assert decide('ai_inference', 'MUST', PASSED, {'ok': True, 'partial': True, 'notes': 'no pods'})[0] == 'Partially Implemented'
    assert decide('gang_scheduling', 'MUST', PASSED, {'ok': False})[:2] == ('Not Implemented', 'Functional probe: failed')


def test_failures_and_not_applicable():
    assert decide('dra_support', 'MUST', {'outcome': 'fail', 'notes': 'not served'})[:2] == ('Not Implemented', 'Static evidence: not served')
    status, notes, _probe = decide('gpu_sharing', 'SHOULD', {'outcome': 'absent', 'notes': 'no strategy'})
    assert status == 'N/A' and notes


def test_no_probe():
    assert decide('new_thing', 'MUST', None) == ('Not Implemented', 'no probe: check by hand', 'static')
    assert decide('new_thing', 'SHOULD', None) == ('N/A', 'no probe: check by hand', 'static')


def test_summary():
    rows = [{'id': 'a', 'level': 'MUST', 'status': 'Implemented'}, {'id': 'b', 'level': 'MUST', 'status': 'Partially Implemented'},
            {'id': 'c', 'level': 'MUST', 'status': 'N/A'}, {'id': 'd', 'level': 'SHOULD', 'status': 'Implemented'},
            {'id': 'e', 'level': 'SHOULD', 'status': 'Not Implemented'}]
    assert verdict.summarize(rows) == {'must': 3, 'must_implemented': 1, 'should': 2, 'should_implemented': 1, 'failed_musts': ['b'],
                                       'passed': False}
    assert verdict.summarize(rows[:1])['passed'] is True
