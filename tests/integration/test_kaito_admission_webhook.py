"""The KAITO admission stand-in as a real validating webhook: the 1.20 apiserver calls it for every Workspace write."""

import uuid
from pathlib import Path

import pytest
from kubernetes.dynamic.exceptions import ApiException

from tests.integration import kaito_standin as kaito

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'


@pytest.fixture(scope='module')
def kaito_crds(k8s_client):
    return kaito.install_crds(k8s_client, sorted((CRDS / 'kaito').glob('*.yaml')))


def gpu_workspace(ns, instance_type=None):
    resource = {'labelSelector': {'matchLabels': {'apps': 'llm-gpu'}}}
    if instance_type:
        resource['instanceType'] = instance_type
    return {'apiVersion': 'kaito.sh/v1beta1', 'kind': 'Workspace',
            'metadata': {'name': 'phi-4-mini', 'namespace': ns},
            'resource': resource, 'inference': {'preset': {'name': 'phi-4-mini-instruct'}}}


def test_the_apiserver_asks_the_stand_in_per_provisioning_mode(k8s_client, kaito_crds, kaito_admission):
    ns = 'kadm-' + uuid.uuid4().hex[:8]
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': ns}})
    api = kaito.workspaces(k8s_client)
    with pytest.raises(ApiException) as refused:
        api.create(body=gpu_workspace(ns), namespace=ns)
    assert refused.value.status >= 400
    assert 'kaito-admission-standin.kaito.sh' in str(refused.value.body)
    assert 'instanceType' in str(refused.value.body)
    with kaito_admission.mode(False), pytest.raises(ApiException) as byo:
        api.create(body=gpu_workspace(ns, 'Standard_NC24ads_A100_v4'), namespace=ns)
    assert 'No nodes found matching the specified label selector' in str(byo.value.body)
    created = api.create(body=gpu_workspace(ns, 'Standard_NC24ads_A100_v4'), namespace=ns).to_dict()
    assert created['resource']['instanceType'] == 'Standard_NC24ads_A100_v4'
    assert [r[2] is None for r in kaito_admission.reviews] == [False, False, True]


def test_the_controller_stand_in_readies_workspaces_beside_one_the_webhook_refuses_to_update(k8s_client, kaito_crds, kaito_admission):
    """A workspace made with bring-your-own nodes (no instanceType) is refused every update once node auto-provisioning is
    on; the controller stand-in, like KAITO's per-object reconcile, still readies the workspaces beside it."""
    ns = 'kadm-' + uuid.uuid4().hex[:8]
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': ns}})
    api = kaito.workspaces(k8s_client)
    stuck = gpu_workspace(ns)
    stuck['metadata']['name'] = 'a-byo-workspace'
    kaito_admission.unregister()
    api.create(body=stuck, namespace=ns)
    kaito_admission.register()
    api.create(body=gpu_workspace(ns, 'Standard_NC24ads_A100_v4'), namespace=ns)
    controller = kaito.StandIn(k8s_client, ready_after=0)
    for _round in range(3):  # finalizer, then Ready
        controller.step()
    assert kaito.is_current(api.get(name='phi-4-mini', namespace=ns).to_dict())
    refused = [r[2] for r in kaito_admission.reviews if r[:2] == ('UPDATE', ns + '/a-byo-workspace')]
    assert refused and 'instanceType is required when node auto-provisioning is enabled' in refused[0]
    api.delete(name='a-byo-workspace', namespace=ns)
