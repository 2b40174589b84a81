"""kaito_info logic: controller flags, versions, and what makes KAITO not ready."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.kaito import controller
from ansible_collections.aiplatform.aks.plugins.module_utils.kaito.controller import image_tag, parse_args


def test_feature_gates_and_node_provisioner_from_the_controller_flags():
    gates, provisioner = parse_args(['--webhook-port=9443', '--feature-gates=vLLM=true, enableMIG=False,disableNodeAutoProvisioning=true',
                                     '--node-provisioner=byo', '--leader-elect'])
    assert gates == {'vLLM': True, 'enableMIG': False, 'disableNodeAutoProvisioning': True}
    assert provisioner == 'byo'
    assert parse_args([]) == ({}, None)


@pytest.mark.parametrize('image, tag', [
    ('mcr.microsoft.com/aks/kaito/workspace:0.12.0', '0.12.0'),
    ('localhost:5000/kaito/workspace:0.6.0', '0.6.0'),
    ('localhost:5000/kaito/workspace', None),
    ('mcr.microsoft.com/aks/kaito/workspace@sha256:abc', None),
    (None, None),
])
def test_version_from_the_image_tag(image, tag):
    assert image_tag(image) == tag


def crd(versions, established=True):
    return {'spec': {'group': 'kaito.sh', 'versions': [{'name': v, 'served': s, 'storage': st} for v, s, st in versions]},
            'status': {'conditions': [{'type': 'Established', 'status': 'True' if established else 'False'}]}}


@pytest.mark.parametrize('live, problem', [
    (None, 'CRD workspaces.kaito.sh is not installed'),
    (crd([('v1alpha1', True, False), ('v1beta1', True, True)], established=False), 'CRD workspaces.kaito.sh is not Established'),
    (crd([('v1alpha1', True, True)]), 'CRD workspaces.kaito.sh does not serve kaito.sh/v1beta1 (serves v1alpha1): KAITO is too old'),
    (crd([('v1alpha1', True, False), ('v1beta1', True, True)]), None),
])
def test_crd_problems(monkeypatch, live, problem):
    monkeypatch.setattr(controller, '_read', lambda *args, **kwargs: live)
    info, found = controller.crd_info(None, 'workspaces.kaito.sh', 'kaito.sh/v1beta1')
    assert found == problem
    assert info['exists'] is (live is not None)
    if problem is None:
        assert info['served_versions'] == ['v1alpha1', 'v1beta1'] and info['storage_version'] == 'v1beta1'


def deployment(generation=2, **status):
    return {'kind': 'Deployment', 'metadata': {'name': 'kaito-workspace', 'generation': generation},
            'spec': {'replicas': 1, 'template': {'spec': {'containers': [
                {'name': 'manager', 'image': 'x/sidecar:1'},
                {'name': 'kaito-workspace', 'image': 'mcr.microsoft.com/aks/kaito/workspace:0.12.0', 'args': ['--node-provisioner=byo']}]}}},
            'status': status}


def test_controller_ready_only_when_rolled_out_for_its_generation(monkeypatch):
    monkeypatch.setattr(controller, '_read', lambda *args, **kwargs: deployment(
        observedGeneration=1, replicas=1, updatedReplicas=1, readyReplicas=1, availableReplicas=1))
    info, problem = controller.controller_info(None, 'kube-system', 'kaito-workspace')
    assert info['ready'] is False and 'has not observed generation 2' in problem
    assert info['version'] == '0.12.0' and info['node_provisioner'] == 'byo', 'the container named like the Deployment'
    monkeypatch.setattr(controller, '_read', lambda *args, **kwargs: deployment(
        observedGeneration=2, replicas=1, updatedReplicas=1, readyReplicas=1, availableReplicas=1))
    assert controller.controller_info(None, 'kube-system', 'kaito-workspace') == (dict(info, ready=True, why='rolled out', ready_replicas=1), None)


def test_wait_until_ready_gives_up_at_the_deadline(monkeypatch):
    states = iter([{'ready': False, 'nothing_installed': False}, {'ready': False, 'nothing_installed': False}, {'ready': True}])
    monkeypatch.setattr(controller, 'gather', lambda *args: next(states))
    now = [0.0]
    pauses = []

    def pause(seconds):
        pauses.append(seconds)
        now[0] += seconds
    assert controller.wait_until_ready(None, 'ns', 'd', [], 'v', timeout=10, sleep=4, clock=lambda: now[0], pause=pause) == {'ready': True}
    assert pauses == [4, 4]
    states = iter([{'ready': False, 'nothing_installed': False}] * 10)
    now[0] = 0.0
    assert controller.wait_until_ready(None, 'ns', 'd', [], 'v', timeout=5, sleep=4, clock=lambda: now[0], pause=pause)['ready'] is False


def test_while_nothing_of_kaito_exists_the_wait_ends_after_absent_timeout(monkeypatch):
    nothing = {'ready': False, 'nothing_installed': True}
    installing = {'ready': False, 'nothing_installed': False}
    now = [0.0]

    def pause(seconds):
        now[0] += seconds

    def wait(states, absent_timeout):
        monkeypatch.setattr(controller, 'gather', lambda *args: next(states))
        now[0] = 0.0
        state = controller.wait_until_ready(None, 'ns', 'd', [], 'v', timeout=600, sleep=2, clock=lambda: now[0], pause=pause,
                                            absent_timeout=absent_timeout)
        return state, now[0]
    assert wait(iter([nothing] * 1000), 0) == (nothing, 0.0), 'nothing there: one look'
    assert wait(iter([nothing] * 1000), 10) == (nothing, 10.0)
    # the add-on's first object appears: from then on the whole timeout applies
    assert wait(iter([nothing] + [installing] * 1000), 2) == (installing, 600.0)
    assert wait(iter([nothing] + [installing] * 5 + [{'ready': True}]), 2) == ({'ready': True}, 12.0)
    assert wait(iter([nothing] * 1000), None) == (nothing, 600.0), 'default: the whole timeout'
