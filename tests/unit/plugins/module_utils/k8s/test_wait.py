"""Readiness rules: a status from an older generation never counts."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import is_ready, poll, wait_problems


def obj(kind='Workspace', generation=2, conditions=None, **status):
    status = dict(status)
    if conditions is not None:
        status['conditions'] = conditions
    return {'kind': kind, 'metadata': {'name': 'x', 'generation': generation}, 'spec': {'replicas': 2}, 'status': status}


READY = {'type': 'Ready', 'status': 'True', 'reason': 'Done'}


@pytest.mark.parametrize('o, ok', [
    (obj(conditions=[dict(READY, observedGeneration=2)]), True),
    (obj(conditions=[dict(READY, observedGeneration=1)]), False),
    (obj(conditions=[READY], observedGeneration=1), False),
    (obj(conditions=[READY], observedGeneration=2), True),
    (obj(conditions=[READY]), True),
    (obj(conditions=[dict(READY, status='False')]), False),
    (obj(conditions=[]), False),
])
def test_condition_respects_observed_generation(o, ok):
    assert is_ready(o, {'type': 'Ready'})[0] is ok


def test_condition_reason_must_match_when_given():
    o = obj(conditions=[READY])
    assert is_ready(o, {'type': 'Ready', 'reason': 'Done'})[0] is True
    ok, why = is_ready(o, {'type': 'Ready', 'reason': 'Other'})
    assert ok is False and 'Done' in why


@pytest.mark.parametrize('status, ok', [
    ({'observedGeneration': 2, 'updatedReplicas': 2, 'availableReplicas': 2, 'readyReplicas': 2}, True),
    ({'observedGeneration': 1, 'updatedReplicas': 2, 'availableReplicas': 2, 'readyReplicas': 2}, False),
    ({'observedGeneration': 2, 'updatedReplicas': 1, 'availableReplicas': 2, 'readyReplicas': 2}, False),
    ({'updatedReplicas': 2, 'availableReplicas': 2, 'readyReplicas': 2}, False),
])
def test_deployment_rollout(status, ok):
    assert is_ready(obj('Deployment', **status))[0] is ok


def test_daemonset_rollout():
    ready = obj('DaemonSet', observedGeneration=2, desiredNumberScheduled=3, updatedNumberScheduled=3, numberAvailable=3)
    assert is_ready(ready)[0] is True
    assert is_ready(obj('DaemonSet', observedGeneration=2, desiredNumberScheduled=3, updatedNumberScheduled=2, numberAvailable=3))[0] is False


def test_crd_needs_established_and_unknown_kinds_need_only_exist():
    assert is_ready(obj('CustomResourceDefinition', generation=1, conditions=[{'type': 'Established', 'status': 'True'}]))[0]
    assert not is_ready(obj('CustomResourceDefinition', generation=1, conditions=[{'type': 'NamesAccepted', 'status': 'True'}]))[0]
    assert is_ready(obj('ConfigMap')) == (True, 'exists')


def test_poll_returns_when_ready_and_times_out_with_reason():
    states = iter([obj(conditions=[]), obj(conditions=[dict(READY, observedGeneration=2)])])
    assert poll(lambda: next(states), lambda o: is_ready(o, {'type': 'Ready'}), 5, 'x', sleep=0.01)['status']['conditions']
    with pytest.raises(K8sError, match='Timed out after 0.05s waiting for Workspace x: condition Ready is for an older generation'):
        poll(lambda: obj(conditions=[dict(READY, observedGeneration=1)]), lambda o: is_ready(o, {'type': 'Ready'}), 0.05, 'Workspace x', sleep=0.01)


@pytest.mark.parametrize('params, problem', [
    ({'wait_timeout': -1, 'wait_sleep': 1.0}, 'wait_timeout must be 0 or more seconds, got -1'),
    ({'wait_timeout': 10, 'wait_sleep': 0.0}, 'wait_sleep must be more than 0 seconds, got 0.0'),
    ({'wait_timeout': 10, 'wait_sleep': -2.0}, 'wait_sleep must be more than 0 seconds, got -2.0'),
])
def test_wait_options_no_wait_can_use_are_named(params, problem):
    assert wait_problems(params) == [problem]


def test_a_zero_timeout_and_modules_without_wait_options_pass():
    assert wait_problems({'wait_timeout': 0, 'wait_sleep': 0.5}) == []
    assert wait_problems({'kind': 'Node'}) == []
