"""k8s/apply.py against an in-memory API: honest change detection, check mode, placement, deletion, pruning, report."""

import re

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.apply import Applier, report
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import REDACTED

from .fakes import FakeCluster


def config_map(name, data, namespace='ai', labels=None):
    meta = {'name': name, 'namespace': namespace}
    if labels:
        meta['labels'] = labels
    return {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': meta, 'data': data}


def crd(kind='Workspace'):
    return {'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition',
            'metadata': {'name': 'workspaces.kaito.sh'},
            'spec': {'group': 'kaito.sh', 'names': {'kind': kind, 'plural': 'workspaces'}, 'scope': 'Namespaced'}}


def test_a_new_object_is_created_after_a_dry_run_and_a_second_apply_writes_nothing():
    cluster = FakeCluster()
    first = Applier(cluster).apply([config_map('settings', {'a': '1'})])
    assert [r['action'] for r in first] == ['created']
    assert cluster.applies == [('settings', 'All'), ('settings', None)]
    assert cluster.live('ConfigMap', 'settings', 'ai')['data'] == {'a': '1'}

    cluster.applies = []
    again = Applier(cluster).apply([config_map('settings', {'a': '1'})])
    assert [r['action'] for r in again] == ['unchanged']
    assert cluster.applies == [('settings', 'All')], 'only the dry run: the object already matches'
    assert report(again)[0] is False


def test_a_changed_object_is_updated_with_before_and_after():
    cluster = FakeCluster(config_map('settings', {'a': '1'}))
    record = Applier(cluster).apply([config_map('settings', {'a': '2'})])[0]
    assert record['action'] == 'updated'
    assert record['before']['data'] == {'a': '1'} and record['object']['data'] == {'a': '2'}
    assert cluster.live('ConfigMap', 'settings', 'ai')['data'] == {'a': '2'}


def test_check_mode_dry_runs_only():
    cluster = FakeCluster(config_map('settings', {'a': '1'}))
    records = Applier(cluster, check_mode=True).apply([config_map('settings', {'a': '2'}), config_map('new', {'b': '1'})])
    assert [r['action'] for r in records] == ['updated', 'created']
    assert all(dry_run == 'All' for _name, dry_run in cluster.applies)
    assert cluster.live('ConfigMap', 'settings', 'ai')['data'] == {'a': '1'}
    assert cluster.live('ConfigMap', 'new', 'ai') is None
    assert records[0]['object']['data'] == {'a': '2'}, 'the planned object is what the dry run returned'


def test_check_mode_plans_objects_of_a_crd_the_same_run_would_create():
    cluster = FakeCluster()
    workspace = {'apiVersion': 'kaito.sh/v1beta1', 'kind': 'Workspace', 'metadata': {'name': 'phi', 'namespace': 'ai'}}
    records = Applier(cluster, check_mode=True).apply([workspace, crd()])
    assert [(r['id'][1], r['action']) for r in records] == [('CustomResourceDefinition', 'created'), ('Workspace', 'created')]
    assert cluster.applies == [('workspaces.kaito.sh', 'All')], 'no request for the kind the server cannot know yet'


def test_the_namespace_option_places_namespaced_objects():
    cluster = FakeCluster()
    Applier(cluster, namespace='team').apply([config_map('settings', {'a': '1'}, namespace=None)])
    assert cluster.live('ConfigMap', 'settings', 'team') is not None


@pytest.mark.parametrize('bad, message', [
    (config_map('loose', {}, namespace=None), 'ConfigMap loose is namespaced: set metadata.namespace or the namespace option'),
    ({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'ai', 'namespace': 'ai'}},
     'is cluster-scoped and must not have metadata.namespace'),
    ({'apiVersion': 'example.com/v1', 'kind': 'Gadget', 'metadata': {'name': 'g', 'namespace': 'ai'}},
     'the server does not serve example.com/v1 Gadget (is its CRD installed?)'),
])
def test_a_misplaced_or_unserved_object_fails_before_anything_is_written(bad, message):
    cluster = FakeCluster()
    with pytest.raises(K8sError, match=re.escape(message)):
        Applier(cluster).apply([config_map('fine', {'a': '1'}), bad])
    assert cluster.applies == [] and cluster.objects == {}


def test_an_object_the_server_refuses_stops_the_run_before_the_first_write():
    cluster = FakeCluster(config_map('kept', {'a': '1'}))
    cluster.invalid['bad'] = 'ConfigMap "bad" is invalid: data[k y]: Invalid value: "k y"'
    objects = [config_map('kept', {'a': '2'}), config_map('new', {'b': '1'}), config_map('bad', {'k y': '1'})]
    with pytest.raises(K8sError, match=re.escape('cannot apply ConfigMap ai/bad: ConfigMap "bad" is invalid')):
        Applier(cluster).apply(objects)
    assert all(dry_run == 'All' for _name, dry_run in cluster.applies), 'only dry runs: %r' % cluster.applies
    assert cluster.live('ConfigMap', 'kept', 'ai')['data'] == {'a': '1'} and cluster.live('ConfigMap', 'new', 'ai') is None


def test_objects_in_a_namespace_the_run_creates_are_dry_run_once_it_exists():
    cluster = FakeCluster()
    cluster.namespaces_enforced = True
    namespace = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'ai'}}
    checked = Applier(cluster, check_mode=True).apply([config_map('settings', {'a': '1'}), namespace])
    assert [(r['id'][1], r['action']) for r in checked] == [('Namespace', 'created'), ('ConfigMap', 'created')]
    assert cluster.applies == [('ai', 'All')] and cluster.objects == {}
    records = Applier(cluster).apply([config_map('settings', {'a': '1'}), namespace])
    assert [r['action'] for r in records] == ['created', 'created']
    assert cluster.applies[1:] == [('ai', 'All'), ('ai', None), ('settings', 'All'), ('settings', None)]


def test_objects_of_a_served_crd_in_a_namespace_the_run_creates_are_dry_run_once_it_exists():
    cluster = FakeCluster(crd())
    cluster.kinds[('kaito.sh/v1beta1', 'Workspace')] = ('workspaces', True)
    cluster.namespaces_enforced = True
    namespace = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'ai'}}
    workspace = {'apiVersion': 'kaito.sh/v1beta1', 'kind': 'Workspace', 'metadata': {'name': 'phi'}}
    applier = Applier(cluster, namespace='ai')
    applier.wait_ready = lambda obj, *args: obj
    records = applier.apply([workspace, crd(), namespace])
    assert [r['action'] for r in records] == ['created', 'unchanged', 'created']


def test_objects_of_a_crd_the_run_changes_are_dry_run_after_the_crd_is_applied():
    cluster = FakeCluster(crd())
    cluster.kinds[('kaito.sh/v1beta1', 'Workspace')] = ('workspaces', True)
    changed = crd()
    changed['spec']['names']['shortNames'] = ['ws']
    workspace = {'apiVersion': 'kaito.sh/v1beta1', 'kind': 'Workspace', 'metadata': {'name': 'phi', 'namespace': 'ai'}}
    applier = Applier(cluster)
    applier.wait_ready = lambda obj, *args: obj
    applier.apply([workspace, config_map('settings', {'a': '1'}), changed])
    assert cluster.applies == [('workspaces.kaito.sh', 'All'), ('settings', 'All'), ('workspaces.kaito.sh', None),
                               ('phi', 'All'), ('phi', None), ('settings', None)]


def test_a_field_owned_by_another_manager_names_force_conflicts():
    cluster = FakeCluster(config_map('settings', {'key': 'theirs'}))
    cluster.conflicts.add('settings')
    with pytest.raises(K8sError, match='cannot apply ConfigMap ai/settings: Apply failed with 1 conflict.*set force_conflicts'):
        Applier(cluster).apply([config_map('settings', {'key': 'ours'})])
    record = Applier(cluster, force_conflicts=True).apply([config_map('settings', {'key': 'ours'})])[0]
    assert record['action'] == 'updated'


def test_namespaces_and_crds_are_applied_first_and_deleted_last():
    cluster = FakeCluster()
    namespace = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'ai'}}
    records = Applier(cluster).apply([config_map('settings', {'a': '1'}), namespace])
    assert [r['id'][1] for r in records] == ['Namespace', 'ConfigMap']
    deleted = Applier(cluster).delete([config_map('settings', {'a': '1'}), namespace])
    assert [(r['id'][1], r['action']) for r in deleted] == [('ConfigMap', 'deleted'), ('Namespace', 'deleted')]
    assert cluster.objects == {}
    # owned objects go too: without a policy the apiserver would orphan the pods of a batch/v1 Job
    assert cluster.delete_policies == ['Background', 'Background']


def test_deleting_what_is_not_there_or_not_served_changes_nothing():
    cluster = FakeCluster()
    gadget = {'apiVersion': 'example.com/v1', 'kind': 'Gadget', 'metadata': {'name': 'g', 'namespace': 'ai'}}
    records = Applier(cluster).delete([config_map('settings', {}), gadget])
    assert [r['action'] for r in records] == ['absent', 'absent']
    assert cluster.deletes == [] and report(records)[0] is False


def test_check_mode_reports_a_deletion_without_deleting():
    cluster = FakeCluster(config_map('settings', {'a': '1'}))
    record = Applier(cluster, check_mode=True).delete_one(config_map('settings', {}))
    assert record['action'] == 'deleted' and record['before']['data'] == {'a': '1'}
    assert cluster.deletes == [] and cluster.live('ConfigMap', 'settings', 'ai') is not None


def test_a_deletion_held_by_a_finalizer_times_out_naming_it():
    held = config_map('settings', {'a': '1'})
    held['metadata']['finalizers'] = ['example.com/cleanup']
    cluster = FakeCluster(held)
    with pytest.raises(K8sError, match=r'deletion of ConfigMap ai/settings: still present \(finalizers: example.com/cleanup\)'):
        Applier(cluster).delete_one(config_map('settings', {}), wait_timeout=0, wait_sleep=0)


def test_prune_deletes_labelled_objects_of_the_applied_kinds_that_were_not_applied():
    owned = {'app.kubernetes.io/managed-by': 'aiplatform.aks'}
    cluster = FakeCluster(config_map('stale', {}, labels=owned), config_map('foreign', {}),
                          config_map('elsewhere', {}, namespace='other', labels=owned))
    applier = Applier(cluster)
    applied = applier.apply([config_map('kept', {'a': '1'}, labels=owned)])
    pruned = applier.prune(applied, 'app.kubernetes.io/managed-by=aiplatform.aks')
    assert [(r['id'][3], r['action']) for r in pruned] == [('stale', 'pruned')]
    assert cluster.live('ConfigMap', 'kept', 'ai') and cluster.live('ConfigMap', 'foreign', 'ai')
    assert cluster.live('ConfigMap', 'elsewhere', 'other'), 'only the namespaces objects were applied to are pruned'


def test_wait_fails_when_the_object_disappears():
    cluster = FakeCluster()
    applier = Applier(cluster)
    with pytest.raises(K8sError, match='ConfigMap ai/settings disappeared while waiting for it'):
        applier.wait_ready(config_map('settings', {}), None, timeout=0, sleep=0)


def test_report_redacts_secrets_and_lists_diffs_of_changes_only():
    secret = {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 'token', 'namespace': 'ai'}, 'data': {'token': 'c2VjcmV0'}}
    cluster = FakeCluster(config_map('same', {'a': '1'}))
    records = Applier(cluster).apply([secret, config_map('same', {'a': '1'})])
    changed, objects, diffs = report(records, diff=True)
    assert changed is True
    assert [(o['kind'], o['action']) for o in objects] == [('Secret', 'created'), ('ConfigMap', 'unchanged')]
    assert objects[0]['object']['data'] == {'token': REDACTED}
    assert len(diffs) == 1 and diffs[0]['before_header'] == 'Secret ai/token'
    assert diffs[0]['after']['data'] == {'token': REDACTED} and 'resourceVersion' not in diffs[0]['after']['metadata']
    assert 'c2VjcmV0' not in repr((objects, diffs))
    assert report(records)[2] is None, 'no diff is built unless Ansible asks for one'


def test_a_dropped_connection_is_a_failure_naming_the_object_not_a_crash():
    import urllib3

    cluster = FakeCluster()

    def dropped(*args, **kwargs):
        raise urllib3.exceptions.MaxRetryError(None, '/api/v1/namespaces/ai/configmaps/settings',
                                               urllib3.exceptions.ProtocolError('Connection aborted.'))
    cluster.server_side_apply = dropped
    with pytest.raises(K8sError, match='cannot apply ConfigMap ai/settings: the connection to the Kubernetes API server failed'):
        Applier(cluster).apply([config_map('settings', {'a': '1'})])
    cluster.get = dropped
    with pytest.raises(K8sError, match='cannot read ConfigMap settings: the connection to the Kubernetes API server failed'):
        Applier(cluster).apply([config_map('settings', {'a': '1'})])
