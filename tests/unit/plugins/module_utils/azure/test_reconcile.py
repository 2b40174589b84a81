"""The ARM reconcile rule: compare only what the user set, merge, refuse immutable changes."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import ArmResource, differences, merge, prune_none


class FakeResource(ArmResource):
    kind = 'widget'
    immutable = ('location', 'properties.size')
    create_requires = ('location',)

    def __init__(self, current, **kwargs):
        super().__init__(None, 'w1', **kwargs)
        self.current = current
        self.writes = []
        self.removed = False

    def read(self):
        return self.current

    def write(self, body, current):
        self.writes.append(body)
        return dict(body, id='/x/w1')

    def remove(self):
        self.removed = True


CURRENT = {'location': 'westeurope', 'tags': {'a': '1', 'b': '2'},
           'properties': {'size': 'S', 'count': 3, 'profile': {'mode': 'x', 'other': True}}}


def test_differences_ignore_keys_the_user_did_not_set():
    assert differences({'tags': {'a': '1'}}, CURRENT) == []
    assert differences({'properties': {'count': 4}}, CURRENT) == ['properties.count']
    assert differences({'properties': {'profile': {'mode': 'y'}}}, CURRENT) == ['properties.profile.mode']


def test_differences_with_replace_compare_whole_map():
    assert differences({'tags': {'a': '1'}}, CURRENT, replace=('tags',)) == ['tags']


def test_merge_keeps_unmentioned_fields():
    merged = merge(CURRENT, {'properties': {'profile': {'mode': 'y'}}, 'tags': {'c': '3'}})
    assert merged['properties'] == {'size': 'S', 'count': 3, 'profile': {'mode': 'y', 'other': True}}
    assert merged['tags'] == {'a': '1', 'b': '2', 'c': '3'}
    assert CURRENT['tags'] == {'a': '1', 'b': '2'}, 'merge must not mutate its input'


def test_merge_replace_path_takes_desired_whole():
    assert merge(CURRENT, {'tags': {'c': '3'}}, replace=('tags',))['tags'] == {'c': '3'}


def test_prune_none_drops_unset_options():
    assert prune_none({'a': None, 'b': {'c': None, 'd': 1}, 'e': [1]}) == {'b': {'d': 1}, 'e': [1]}


def test_present_unchanged_writes_nothing():
    res = FakeResource(CURRENT)
    result = res.present({'location': 'westeurope', 'tags': {'a': '1'}, 'properties': {'count': None}})
    assert result['changed'] is False and res.writes == []
    assert result['resource'] == CURRENT


def test_present_changed_writes_merged_body_once():
    res = FakeResource(CURRENT)
    result = res.present({'properties': {'count': 5}})
    assert result['changed'] is True and result['differences'] == ['properties.count']
    assert res.writes == [dict(CURRENT, properties=dict(CURRENT['properties'], count=5))]
    assert result['diff']['before'] == CURRENT and result['diff']['after']['id'] == '/x/w1'


def test_present_check_mode_writes_nothing_and_shows_after():
    res = FakeResource(CURRENT, check_mode=True)
    result = res.present({'tags': {'a': 'changed'}})
    assert result['changed'] is True and res.writes == []
    assert result['diff']['after']['tags'] == {'a': 'changed', 'b': '2'}


@pytest.mark.parametrize('desired, field', [({'location': 'eastus'}, 'location'), ({'properties': {'size': 'L'}}, 'properties.size')])
def test_present_immutable_change_fails_before_write(desired, field):
    res = FakeResource(CURRENT)
    with pytest.raises(AzureOperationError) as err:
        res.present(desired)
    assert field in str(err.value) and res.writes == []
    assert err.value.error['code'] == 'ImmutableField'


def test_present_create_requires_fields():
    res = FakeResource(None)
    with pytest.raises(AzureOperationError, match='location is required to create widget w1'):
        res.present({'tags': {'a': '1'}})
    assert res.writes == []


def test_present_creates_when_missing():
    res = FakeResource(None)
    result = res.present({'location': 'westeurope', 'tags': None})
    assert result['changed'] is True and res.writes == [{'location': 'westeurope'}]


@pytest.mark.parametrize('current, check_mode, removed, changed', [
    (CURRENT, False, True, True), (CURRENT, True, False, True), (None, False, False, False)])
def test_absent(current, check_mode, removed, changed):
    res = FakeResource(current, check_mode=check_mode)
    result = res.absent()
    assert res.removed is removed and result['changed'] is changed


POOLS = {'properties': {'agentPoolProfiles': [{'name': 'system', 'vmSize': 'S', 'count': 3, 'maxCount': 5},
                                              {'name': 'gpu', 'vmSize': 'G', 'count': 0}]}}
KEYED = {'properties.agentPoolProfiles': 'name'}


def test_keyed_lists_compare_and_merge_by_item_key():
    desired = {'properties': {'agentPoolProfiles': [{'name': 'system', 'maxCount': 6}]}}
    assert differences(desired, POOLS, keyed=KEYED) == ['properties.agentPoolProfiles.system.maxCount']
    merged = merge(POOLS, desired, keyed=KEYED)['properties']['agentPoolProfiles']
    assert merged == [{'name': 'system', 'vmSize': 'S', 'count': 3, 'maxCount': 6}, {'name': 'gpu', 'vmSize': 'G', 'count': 0}]
    added = merge(POOLS, {'properties': {'agentPoolProfiles': [{'name': 'new', 'vmSize': 'N'}]}}, keyed=KEYED)
    assert [p['name'] for p in added['properties']['agentPoolProfiles']] == ['system', 'gpu', 'new']


def test_wildcard_immutable_paths_name_the_item():
    class Pools(FakeResource):
        immutable = ('properties.agentPoolProfiles.*.vmSize',)
        keyed = KEYED
    res = Pools(POOLS)
    with pytest.raises(AzureOperationError, match=r"properties.agentPoolProfiles.system.vmSize is 'S', requested 'L'"):
        res.present({'properties': {'agentPoolProfiles': [{'name': 'system', 'vmSize': 'L'}]}})
    assert res.present({'properties': {'agentPoolProfiles': [{'name': 'system', 'maxCount': 9}]}})['changed'] is True


def test_prune_none_drops_maps_emptied_by_pruning_only():
    assert prune_none({'a': {'b': None}, 'tags': {}}) == {'tags': {}}


def test_create_defaults_apply_only_when_creating():
    class Defaults(FakeResource):
        create_defaults = {'properties': {'secure': True}}
    created = Defaults(None)
    created.present({'location': 'x'})
    assert created.writes == [{'location': 'x', 'properties': {'secure': True}}]
    existing = Defaults(dict(CURRENT, properties={'secure': False}))
    assert existing.present({'location': 'westeurope'})['changed'] is False, 'a default never resets an existing value'


class ContestedResource(FakeResource):
    """Another writer changes the resource between our read and our write: the service refuses our first write."""

    def __init__(self, current, refusals, **kwargs):
        super().__init__(current, **kwargs)
        self.reads = 0
        self.refusals = list(refusals)

    def read(self):
        self.reads += 1
        return self.current

    def write(self, body, current):
        assert current is self.current or current == self.current
        if self.refusals:
            code, other_change = self.refusals.pop(0)
            self.current = merge(self.current, other_change)  # what the other writer made
            raise AzureOperationError('refused', error={'code': code})
        self.writes.append(body)
        self.current = body
        return body


@pytest.mark.parametrize('code', ['PreconditionFailed', 'OperationNotAllowed', 'EtagMismatch'])
def test_a_write_refused_for_a_concurrent_change_is_planned_again_and_keeps_the_other_change(code):
    res = ContestedResource(CURRENT, [(code, {'tags': {'b': 'theirs'}})])
    result = res.present({'properties': {'count': 5}})
    assert res.reads == 2, 'read once, and once more after the refusal'
    assert len(res.writes) == 1 and res.writes[0]['tags'] == {'a': '1', 'b': 'theirs'}, 'the other change is kept'
    assert res.writes[0]['properties']['count'] == 5 and result['changed'] is True


def test_a_refused_write_that_the_other_writer_made_unnecessary_is_not_sent():
    res = ContestedResource(CURRENT, [('PreconditionFailed', {'properties': {'count': 5}})])
    result = res.present({'properties': {'count': 5}})
    assert res.writes == [] and result['changed'] is False and result['resource']['properties']['count'] == 5


def test_other_errors_and_endless_conflicts_fail():
    with pytest.raises(AzureOperationError):
        ContestedResource(CURRENT, [('InvalidParameter', {})]).present({'properties': {'count': 5}})
    res = ContestedResource(CURRENT, [('PreconditionFailed', {'tags': {'n': str(i)}}) for i in range(5)])
    with pytest.raises(AzureOperationError):
        res.present({'properties': {'count': 5}})
    assert res.reads == 3 and res.writes == []


def test_a_caller_that_has_read_the_resource_saves_the_read():
    res = ContestedResource(CURRENT, [])
    assert res.present({'properties': {'count': 3}}, CURRENT)['changed'] is False
    assert res.absent(None)['changed'] is False
    assert res.reads == 0
