"""The item_key_problems filter: unknown keys named with the nearest valid one, missing required keys, non-dict items."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.filter.item_keys import item_key_problems

VALID = ['name', 'vm_size', 'count', 'min_count', 'max_count', 'labels']


def test_good_items_have_no_problems():
    assert item_key_problems([{'name': 'a', 'vm_size': 'x', 'max_count': 3}], VALID, 'nodepools_list', ['name']) == []
    assert item_key_problems(None, VALID, 'nodepools_list') == []


def test_a_typo_is_named_with_the_nearest_key():
    assert item_key_problems([{'name': 'gpunp', 'max_cout': 3, 'lables': {}}], VALID, 'nodepools_list') == [
        "nodepools_list[0] (gpunp): unknown key 'max_cout'; did you mean 'max_count'?",
        "nodepools_list[0] (gpunp): unknown key 'lables'; did you mean 'labels'?"]


def test_a_key_near_nothing_lists_the_valid_keys():
    problem, = item_key_problems([{'name': 'a', 'colour': 'red'}], VALID, 'nodepools_list')
    assert problem.startswith("nodepools_list[0] (a): unknown key 'colour'; valid keys: count, labels, max_count")


def test_missing_name_and_items_that_are_not_dicts():
    assert item_key_problems([{'vm_size': 'x'}, 'gpunp', {'name': ''}], VALID, 'nodepools_list', ['name']) == [
        'nodepools_list[0]: name is required',
        "nodepools_list[1] must be a dict of options, got str 'gpunp'",
        'nodepools_list[2]: name is required']
    assert item_key_problems({'name': 'a'}, VALID, 'nodepools_list') == ['nodepools_list must be a list of dicts, got dict']


def test_valid_keys_must_be_given():
    with pytest.raises(AnsibleFilterError):
        item_key_problems([], [], 'x')
