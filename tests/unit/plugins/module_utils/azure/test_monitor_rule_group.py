"""Prometheus rule groups (azure/prometheus_rule_group.py): every input check names its field, durations compare by
length, rules compare as one ordered list, and the reconcile against a fake client that answers with the SDK's model."""

from types import SimpleNamespace

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.prometheusrulegroups import models

from ansible_collections.aiplatform.aks.plugins.module_utils.azure import prometheus_rule_group as mod
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import differences, prune_none

RG_ID = '/subscriptions/0000/resourceGroups/rg'
AMW = RG_ID + '/providers/Microsoft.Monitor/accounts/amw'
# two of the node recording rules Azure's own Managed Prometheus template writes
NODE_RULES = [
    {'record': 'instance:node_num_cpu:sum', 'expression': 'count without (cpu, mode) (  node_cpu_seconds_total{job="node",mode="idle"})'},
    {'record': 'instance:node_cpu_utilisation:rate5m',
     'expression': '1 - avg without (cpu) (  sum without (mode) (rate(node_cpu_seconds_total{job="node", mode=~"idle|iowait|steal"}[5m])))'},
]
NOT_FIXED = 'is not an ISO 8601 duration in days, hours, minutes and seconds such as PT1M or PT5M30S'
ALERT = {'alert': 'DcgmExporterDown', 'expression': 'absent(up{job="dcgm-exporter"})', 'for': 'PT5M', 'severity': 2,
         'annotations': {'summary': 'no GPU metrics'}, 'resolve_configuration': {'auto_resolved': True, 'time_to_resolve': 'PT10M'},
         'actions': [{'action_group_id': RG_ID + '/providers/microsoft.insights/actionGroups/oncall', 'action_properties': None}]}


def params(**overrides):
    result = dict(state='present', resource_group='rg', name='rules', location='westeurope', tags=None, purge_tags=False,
                  description=None, scopes=[AMW], cluster_name=None, interval='PT1M', enabled=None, rules=NODE_RULES)
    result.update(overrides)
    return result


@pytest.mark.parametrize('value, problem', [
    ('PT1M', None), ('PT15M', None), ('PT90S', None), ('PT1M30S', None),
    ('PT30S', "interval 'PT30S' must be between PT1M and PT15M"),
    ('PT16M', "interval 'PT16M' must be between PT1M and PT15M"),
    ('P1D', "interval 'P1D' must be between PT1M and PT15M"),
    ('1m', "interval '1m' " + NOT_FIXED),
    ('PT', "interval 'PT' " + NOT_FIXED),
    ('5 minutes', "interval '5 minutes' " + NOT_FIXED),
    ('P1M', "interval 'P1M' " + NOT_FIXED),
])
def test_interval_is_an_iso_8601_duration_from_one_to_fifteen_minutes(value, problem):
    assert mod.PrometheusRuleGroup.check_input(params(interval=value)) == ([] if problem is None else [problem])


def test_azures_own_recording_rules_and_a_full_alert_pass():
    assert mod.PrometheusRuleGroup.check_input(params(rules=NODE_RULES + [ALERT])) == []


@pytest.mark.parametrize('rule, problems', [
    ({'record': 'a:b', 'alert': 'A', 'expression': 'up'}, ['rules[0] needs exactly one of record (a recording rule) and alert (an alert rule)']),
    ({'expression': 'up'}, ['rules[0] needs exactly one of record (a recording rule) and alert (an alert rule)']),
    ({'record': 'node-cpu', 'expression': 'up'}, ["rules[0].record 'node-cpu' is not a valid Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"]),
    ({'record': '1st', 'expression': 'up'}, ["rules[0].record '1st' is not a valid Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"]),
    ({'record': 'x', 'expression': 'up', 'severity': 3, 'for': 'PT5M', 'annotations': {'a': 'b'}},
     ['rules[0].severity only applies to alert rules', 'rules[0].for only applies to alert rules',
      'rules[0].annotations only applies to alert rules']),
    ({'alert': 'A', 'expression': 'up', 'severity': 5}, ['rules[0].severity must be 0 to 4, got 5']),
    ({'alert': 'A', 'expression': 'up', 'for': '5m'}, ["rules[0].for '5m' " + NOT_FIXED]),
    ({'alert': 'A', 'expression': 'up', 'for': 'P1M'}, ["rules[0].for 'P1M' " + NOT_FIXED]),
    ({'alert': 'A', 'expression': 'up', 'resolve_configuration': {'time_to_resolve': 'ten minutes'}},
     ["rules[0].resolve_configuration.time_to_resolve 'ten minutes' " + NOT_FIXED]),
    ({'alert': ' ', 'expression': 'up'}, ['rules[0].alert must not be empty']),
    ({'record': 'x', 'expression': 'up', 'labels': {'bad-name': 'v'}}, ["rules[0].labels name 'bad-name' is not a valid Prometheus label name"]),
    ({'record': 'x', 'expression': 'sum(rate(x[5m])'}, ["rules[0].expression 'sum(rate(x[5m])' does not parse as PromQL: unclosed left parenthesis"]),
    ({'record': 'x', 'expression': 'rate(x)'},
     ["rules[0].expression 'rate(x)' does not parse as PromQL: expected type matrix in call to function 'rate', got vector"]),
    ({'record': 'x', 'expression': ' '}, ['rules[0].expression must not be empty']),
])
def test_each_rule_problem_names_the_rule_and_field(rule, problems):
    assert mod.PrometheusRuleGroup.check_input(params(rules=[rule])) == problems


def test_problems_name_the_index_of_the_rule():
    rules = NODE_RULES + [{'record': 'x', 'expression': 'up ==', 'severity': 1}]
    assert mod.PrometheusRuleGroup.check_input(params(rules=rules)) == [
        'rules[2].severity only applies to alert rules', "rules[2].expression 'up ==' does not parse as PromQL: invalid promql query"]


def test_rule_count_scopes_and_delete():
    rules = [{'record': 'r%d' % i, 'expression': 'up'} for i in range(mod.MAX_RULES + 1)]
    assert mod.PrometheusRuleGroup.check_input(params(rules=rules[:mod.MAX_RULES])) == []
    assert mod.PrometheusRuleGroup.check_input(params(rules=rules)) == [
        'rules has 21 rules; Azure Monitor allows at most 20 in a rule group (split them into groups)']
    assert mod.PrometheusRuleGroup.check_input(params(rules=[])) == ['rules must hold at least one rule']
    assert mod.PrometheusRuleGroup.check_input(params(scopes=['amw'])) == ["scopes entry 'amw' must be a resource id (/subscriptions/...)"]
    assert mod.PrometheusRuleGroup.check_input(params(scopes=[])) == ['scopes must name the Azure Monitor workspace']
    assert mod.PrometheusRuleGroup.check_input(params(state='absent', interval='soon', rules=[{'expression': '('}])) == []


def test_rules_compare_by_meaning_and_in_order():
    group = mod.PrometheusRuleGroup(None, 'rg', 'rules')
    sent = group.desired(params(interval='PT60S', rules=[ALERT]))
    served = {'location': 'westeurope', 'properties': {
        'scopes': [AMW.upper()], 'interval': 'PT1M', 'rules': [
            dict(mod.rule_wire(ALERT), **{'for': 'PT300S', 'enabled': True, 'labels': {},
                                          'resolveConfiguration': {'autoResolved': True, 'timeToResolve': 'PT10M'}})]}}
    assert group.immutable_changes(sent, served) == []
    assert differences(group.comparable(prune_none(sent)), group.comparable(served)) == []
    swapped = group.desired(params(rules=list(reversed(NODE_RULES))))
    in_order = dict(served, properties=dict(served['properties'], rules=[mod.rule_wire(r) for r in NODE_RULES]))
    assert differences(group.comparable(prune_none(swapped)), group.comparable(prune_none(in_order))) == ['properties.rules']
    disabled = dict(ALERT, enabled=False)
    assert differences(group.comparable(prune_none(group.desired(params(rules=[disabled])))), group.comparable(served)) == ['properties.rules']


class FakeRuleGroups:
    def __init__(self):
        self.current = None
        self.writes = []
        self.deleted = 0

    def get(self, rg, name):
        if self.current is None:
            raise ResourceNotFoundError('missing')
        return models.PrometheusRuleGroupResource(self.current)

    def create_or_update(self, rg, name, body):
        self.writes.append(body.as_dict())
        self.current = dict(body.as_dict(), id=RG_ID + '/providers/Microsoft.AlertsManagement/prometheusRuleGroups/' + name, name=name)
        return models.PrometheusRuleGroupResource(self.current)

    def delete(self, rg, name):
        self.deleted += 1
        self.current = None


class FakeProviders:
    def get(self, namespace):
        return models.PrometheusRuleGroupResource({})  # any model: as_dict() without resourceTypes, nothing to judge


def group(api, check_mode=False):
    resource = mod.PrometheusRuleGroup(SimpleNamespace(prometheus_rule_groups=api), 'rg', 'rules', check_mode=check_mode)
    resource.providers = SimpleNamespace(providers=FakeProviders())
    return resource


def test_rule_group_create_rerun_change_and_delete():
    api = FakeRuleGroups()
    created = group(api).ensure(params(cluster_name='aks', rules=NODE_RULES + [ALERT]))
    assert created['changed'] is True and len(api.writes) == 1
    props = api.writes[0]['properties']
    assert props['interval'] == 'PT1M' and props['clusterName'] == 'aks' and props['scopes'] == [AMW]
    assert props['rules'][0] == NODE_RULES[0], 'a recording rule is sent with only what it has'
    assert props['rules'][2] == {
        'alert': 'DcgmExporterDown', 'expression': ALERT['expression'], 'for': 'PT5M', 'severity': 2,
        'annotations': {'summary': 'no GPU metrics'}, 'resolveConfiguration': {'autoResolved': True, 'timeToResolve': 'PT10M'},
        'actions': [{'actionGroupId': ALERT['actions'][0]['action_group_id']}]}
    assert group(api).outputs(created['resource'])['id'].endswith('/prometheusRuleGroups/rules')

    assert group(api).ensure(params(cluster_name='aks', rules=NODE_RULES + [ALERT], interval='PT60S'))['changed'] is False
    assert len(api.writes) == 1

    plan = group(api, check_mode=True).ensure(params(rules=NODE_RULES[:1]))
    assert plan['changed'] is True and plan['differences'] == ['properties.rules'] and len(api.writes) == 1
    changed = group(api).ensure(params(rules=NODE_RULES[:1]))
    assert changed['changed'] is True and len(api.writes) == 2
    assert api.writes[1]['properties']['clusterName'] == 'aks', 'options left out keep their value'

    assert group(api).ensure(params(state='absent'))['changed'] is True and api.deleted == 1
    assert group(api).ensure(params(state='absent'))['changed'] is False and api.deleted == 1


def test_a_new_group_needs_scopes_and_rules():
    api = FakeRuleGroups()
    with pytest.raises(AzureOperationError) as err:
        group(api).ensure(params(scopes=None, rules=None))
    assert str(err.value) == 'scopes and rules are required to create Prometheus rule group rules' and api.writes == []
