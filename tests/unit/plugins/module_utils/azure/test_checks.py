"""azure/checks.py: what ARM refuses in any module's options (resource group names, tags, timeouts, GUIDs)."""

import pytest

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.checks import (
    check_guids, check_resource_group_name, check_tags, check_timeout, common_problems)


@pytest.mark.parametrize('name', ['rg-ml', 'rg_ml.(prod)', 'Grüppe', 'a' * 90])
def test_resource_group_names_arm_accepts(name):
    assert check_resource_group_name(name) == []


@pytest.mark.parametrize('name, words', [
    ('rg-ml.', 'must not end with a period'),
    ('rg ml', 'may only hold'),
    ('rg/ml', 'may only hold'),
    ('a' * 91, 'at most 90'),
    ('', 'non-empty'),
])
def test_resource_group_names_arm_refuses(name, words):
    problems = check_resource_group_name(name, 'name')
    assert len(problems) == 1 and problems[0].startswith('name ') and words in problems[0]


def test_tags_arm_accepts():
    assert check_tags({'env': 'test', 'a' * 512: 'b' * 256, 'owner.team-1': ''}) == []


@pytest.mark.parametrize('tags, words', [
    ({'a<b': 'x'}, "tags name 'a<b' holds <"),
    ({'cost/centre': 'x'}, 'holds /'),
    ({'a' * 513: 'x'}, 'at most 512'),
    ({'env': 'v' * 257}, 'value of env is 257 characters long'),
    ({'cost': 42}, 'tags value of cost must be a string (quote it), got int 42'),
    ({'on': True}, 'got bool True'),
    (dict(('t%d' % i, 'x') for i in range(51)), 'has 51 entries; ARM allows at most 50'),
])
def test_tags_arm_refuses(tags, words):
    problems = check_tags(tags)
    assert len(problems) == 1 and words in problems[0], problems


def test_timeouts():
    assert check_timeout(0) == [] and check_timeout(None) == [] and check_timeout(5) == []
    assert check_timeout(-1) == ['timeout must be zero or more seconds, got -1']
    assert check_timeout(0, zero_ok=False) == ['timeout must be a positive number of seconds, got 0']


def test_guids():
    assert check_guids(['00000000-0000-0000-0000-0000000000aB'], 'ids') == []
    assert check_guids(['admins'], 'entra.admin_group_object_ids') == [
        "entra.admin_group_object_ids entry 'admins' is not a GUID (an Entra object id looks like 00000000-0000-0000-0000-000000000000)"]


def test_common_problems_name_each_option():
    problems = common_problems({'timeout': -5, 'resource_group': 'rg.', 'tags': {'x': 1}})
    assert [p.split(' ')[0] for p in problems] == ['timeout', 'resource_group', 'tags']
    assert common_problems({'timeout': 60, 'name': 'x'}) == []
