"""prometheus_rule_groups_arm and prometheus_rule_objects on the role's own rule files: Azure rule groups named for the
cluster, with ISO 8601 durations and Azure's severities, the 20-rule and severity refusals naming file, group and rule;
PrometheusRule objects valid against the Prometheus operator's v0.93.0 CRD."""

import copy
import re
from pathlib import Path

import promql_parser
import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.filter.prometheus_rules import (
    iso_duration, prometheus_rule_groups_arm as arm, prometheus_rule_objects as objects)
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.prometheus_rule_group import MAX_RULES, duration_seconds, rule_problems
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.validate import Validator, read_crd_files
from ansible_collections.aiplatform.aks.plugins.modules import azure_prometheus_rule_group
from tests.bed.arm_emulator.monitor import iso_duration_seconds

ROOT = Path(__file__).resolve().parents[4]
RULES = ROOT / 'roles' / 'prometheus_monitoring' / 'files' / 'rules'
CRD = ROOT / 'tests' / 'crds' / 'prometheus-operator' / 'v0.93.0' / 'monitoring.coreos.com_prometheusrules.yaml'
WORKSPACE = '/subscriptions/0000/resourceGroups/monitoring/providers/Microsoft.Monitor/accounts/platform'
CLUSTER = '/subscriptions/0000/resourceGroups/aks/providers/Microsoft.ContainerService/managedClusters/aks1'


def sources(*names):
    """The rule files as the role reads them (file lookup, from_yaml), platform ones first; all when none is named."""
    paths = [RULES / name for name in names] or sorted(RULES.glob('platform/*.yml')) + sorted(RULES.glob('standard/*.yml'))
    return [yaml.safe_load(path.read_text()) for path in paths]


def alert(name='TestAlert', severity='warning', **extra):
    labels = {'severity': severity} if severity is not None else {}
    return dict({'alert': name, 'expr': 'up == 0', 'for': '5m', 'labels': labels, 'annotations': {'summary': 's'}}, **extra)


def one_group(rules, name='TestAlertsRuleGroup', **extra):
    return [{'groups': [dict({'name': name, 'interval': '1m', 'rules': rules}, **extra)]}]


def by_name(groups):
    return dict((g['name'], g) for g in groups)


def test_each_group_is_one_rule_group_named_for_the_cluster():
    groups = arm(sources(), 'aks1', [WORKSPACE, CLUSTER])
    assert [g['name'] for g in groups] == [
        'GpuRecordingRulesRuleGroup-aks1', 'GpuAlertsRuleGroup-aks1', 'InferenceRecordingRulesRuleGroup-aks1', 'InferenceAlertsRuleGroup-aks1',
        'KubernetesRecordingRulesRuleGroup-aks1', 'NodeRecordingRulesRuleGroup-aks1']
    for group in groups:
        assert sorted(group) == ['cluster_name', 'description', 'enabled', 'interval', 'name', 'rules', 'scopes']
        assert group['cluster_name'] == 'aks1' and group['scopes'] == [WORKSPACE, CLUSTER]
        assert group['interval'] == 'PT1M' and group['enabled'] is True
    named = by_name(groups)
    # the add-on's own descriptions for its groups; ours name the file
    assert named['NodeRecordingRulesRuleGroup-aks1']['description'] == 'Node Recording Rules RuleGroup - 0.1'
    assert named['GpuAlertsRuleGroup-aks1']['description'] == 'aiplatform.aks GpuAlertsRuleGroup rules (files/rules/platform/gpu.yml)'
    assert arm(sources(), 'aks1', [WORKSPACE], enabled=False)[0]['enabled'] is False


def test_standard_false_drops_the_add_on_s_groups():
    names = [g['name'] for g in arm(sources(), 'aks1', [WORKSPACE], standard=False)]
    assert names == ['GpuRecordingRulesRuleGroup-aks1', 'GpuAlertsRuleGroup-aks1', 'InferenceRecordingRulesRuleGroup-aks1',
                     'InferenceAlertsRuleGroup-aks1']
    assert arm(sources('standard/node-recording.yml'), 'aks1', [WORKSPACE], standard=False) == []


def test_records_keep_their_expression_and_labels_byte_for_byte():
    named = by_name(arm(sources(), 'aks1', [WORKSPACE]))
    files = dict((g['name'], g) for document in sources() for g in document['groups'])
    for name, group in named.items():
        original = files[name[:-len('-aks1')]]['rules']
        assert [r['expression'] for r in group['rules']] == [r['expr'] for r in original]
        assert [r.get('labels') for r in group['rules']] == [r.get('labels') for r in original]
    kubernetes = named['KubernetesRecordingRulesRuleGroup-aks1']['rules']
    assert kubernetes[14] == {'record': 'namespace_workload_pod:kube_pod_owner:relabel', 'labels': {'workload_type': 'daemonset'},
                              'expression': 'max by (cluster, namespace, workload, pod) (  label_replace(    kube_pod_owner{job="kube-state-metrics", '
                                            'owner_kind="DaemonSet"},    "workload", "$1", "owner_name", "(.*)"  ))'}
    # a record without labels carries none, and nothing that belongs to alerts
    assert named['GpuRecordingRulesRuleGroup-aks1']['rules'][0] == {
        'record': 'node_gpu:dcgm_gpu_utilization:avg5m',
        'expression': 'avg by (cluster, Hostname, gpu, UUID, modelName) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m]))'}


def test_alerts_get_azure_s_severity_and_an_iso_8601_for():
    named = by_name(arm(sources(), 'aks1', [WORKSPACE]))
    alerts = dict((r['alert'], r) for name in ('GpuAlertsRuleGroup-aks1', 'InferenceAlertsRuleGroup-aks1') for r in named[name]['rules'])
    assert dict((n, (a['severity'], a['for'])) for n, a in alerts.items()) == {
        'GpuIdleWhileAllocated': (3, 'PT30M'), 'GpuMemoryPressure': (2, 'PT15M'), 'GpuXidErrors': (1, 'PT1M'),
        'InferenceErrorRatioHigh': (0, 'PT10M'), 'InferenceQueueGrowing': (2, 'PT10M')}
    xid = alerts['GpuXidErrors']
    assert sorted(xid) == ['alert', 'annotations', 'expression', 'for', 'labels', 'severity']
    assert xid['labels'] == {'severity': 'error'} and sorted(xid['annotations']) == ['description', 'summary']


@pytest.mark.parametrize('severity, number', [('critical', 0), ('error', 1), ('warning', 2), ('info', 3)])
def test_each_severity_maps_to_azure_s_number(severity, number):
    assert arm(one_group([alert(severity=severity)]), 'c', [WORKSPACE])[0]['rules'][0]['severity'] == number


@pytest.mark.parametrize('duration, iso, seconds', [
    ('5m', 'PT5M', 300), ('30s', 'PT30S', 30), ('90s', 'PT90S', 90), ('1h30m', 'PT1H30M', 5400), ('1d', 'P1D', 86400),
    ('2w', 'P14D', 14 * 86400), ('1d12h', 'P1DT12H', 36 * 3600)])
def test_prometheus_durations_become_iso_8601(duration, iso, seconds):
    assert iso_duration(duration, 'x') == iso
    # the ARM emulator reads ISO 8601 durations on its own; both must agree on the length
    assert iso_duration_seconds(iso) == seconds


@pytest.mark.parametrize('duration', ['5', '1.5m', '100ms', '', '5 m', 'm5'])
def test_durations_that_are_not_prometheus_s_are_refused(duration):
    with pytest.raises(AnsibleFilterError, match=re.escape('group TestAlertsRuleGroup, alert TestAlert: %r is not a Prometheus duration' % duration)):
        arm(one_group([alert(**{'for': duration})]), 'c', [WORKSPACE])


def test_the_argument_s_interval_is_every_group_s_else_the_group_s_own_else_one_minute():
    assert arm(one_group([alert()], interval='2m'), 'c', [WORKSPACE], interval='PT5M')[0]['interval'] == 'PT5M'
    assert arm(one_group([alert()], interval='2m'), 'c', [WORKSPACE])[0]['interval'] == 'PT2M'
    no_interval = [{'groups': [{'name': 'TestAlertsRuleGroup', 'rules': [alert()]}]}]
    assert arm(no_interval, 'c', [WORKSPACE], interval='PT5M')[0]['interval'] == 'PT5M'
    assert arm(no_interval, 'c', [WORKSPACE])[0]['interval'] == 'PT1M'


@pytest.mark.parametrize('interval, words', [('every minute', "interval 'every minute' is not an ISO 8601 duration"),
                                             ('PT30M', "interval 'PT30M' must be between PT1M and PT15M")])
def test_a_rule_group_the_module_would_refuse_is_refused_here_first_naming_the_group(interval, words):
    with pytest.raises(AnsibleFilterError, match='test-alerts.yml, group TestAlertsRuleGroup: ' + re.escape(words)):
        arm(one_group([alert()]), 'c', [WORKSPACE], interval=interval)


def test_twenty_rules_fit_in_a_group_twenty_one_are_refused_naming_file_group_and_rule():
    rules = [{'record': 'test:up:sum%d' % i, 'expr': 'sum(up)'} for i in range(21)]
    assert len(arm(one_group(rules[:20], name='TestRecordingRulesRuleGroup'), 'c', [WORKSPACE])[0]['rules']) == 20
    with pytest.raises(AnsibleFilterError) as refused:
        arm(one_group(rules, name='TestRecordingRulesRuleGroup'), 'c', [WORKSPACE])
    assert str(refused.value) == ('test-recording.yml, group TestRecordingRulesRuleGroup has 21 rules, more than the 20 Azure Monitor takes in '
                                  'one rule group (from rule 21, test:up:sum20, on): split the group')


@pytest.mark.parametrize('severity', ['fatal', 'Critical', None])
def test_an_alert_without_a_known_severity_is_refused_naming_file_group_and_alert(severity):
    with pytest.raises(AnsibleFilterError) as refused:
        arm(one_group([alert(), alert('BadAlert', severity=severity)]), 'c', [WORKSPACE])
    assert str(refused.value) == ('test-alerts.yml, group TestAlertsRuleGroup, alert BadAlert: severity label %r is not one of critical, error, '
                                  'warning, info' % (severity,))


def test_a_rule_needs_record_or_alert_and_an_expression():
    with pytest.raises(AnsibleFilterError, match='group TestAlertsRuleGroup, alert TestAlert: a rule needs one of record and alert, and expr'):
        arm(one_group([dict(alert(), record='both')]), 'c', [WORKSPACE])
    with pytest.raises(AnsibleFilterError, match='a rule needs one of record and alert, and expr'):
        arm(one_group([{'record': 'test:up:sum', 'expr': ''}]), 'c', [WORKSPACE])


def test_a_source_that_is_not_a_rule_file_is_refused():
    with pytest.raises(AnsibleFilterError, match='rule source 1 is not a Prometheus rule file'):
        arm(sources('platform/gpu.yml') + [{'rules': []}], 'c', [WORKSPACE])
    with pytest.raises(AnsibleFilterError, match=r'rule source 0: its groups \(GpuAlertsRuleGroup, NodeRecordingRulesRuleGroup\) share no leading word'):
        objects([{'groups': [{'name': 'GpuAlertsRuleGroup', 'rules': []}, {'name': 'NodeRecordingRulesRuleGroup', 'rules': []}]}], 'monitoring')


def test_every_rendered_expression_parses_with_promql_parser():
    for group in arm(sources(), 'aks1', [WORKSPACE]):
        for rule in group['rules']:
            assert promql_parser.parse(rule['expression']) is not None, (group['name'], rule.get('record') or rule.get('alert'))


def test_what_is_rendered_is_what_azure_prometheus_rule_group_takes():
    options = yaml.safe_load(azure_prometheus_rule_group.DOCUMENTATION)['options']
    rule_options = options['rules']['suboptions']
    for group in arm(sources(), 'aks1', [WORKSPACE, CLUSTER]):
        assert sorted(set(group) - set(options)) == [] and sorted(set(k for r in group['rules'] for k in r) - set(rule_options)) == []
        assert [p for i, rule in enumerate(group['rules']) for p in rule_problems(rule, 'rules[%d]' % i)] == [], group['name']
        assert duration_seconds(group['interval']) == 60 and len(group['rules']) <= MAX_RULES


def test_the_inputs_are_not_changed():
    given = sources()
    kept = copy.deepcopy(given)
    arm(given, 'aks1', [WORKSPACE])[0]['rules'][0]['expression'] = 'changed'
    objects(given, 'monitoring', standard=True)[0]['spec']['groups'][0]['name'] = 'changed'
    assert given == kept


# --- PrometheusRule objects ----------------------------------------------------------------------------
@pytest.fixture(scope='module')
def validator():
    return Validator(version='1.34', crds=read_crd_files([str(CRD)]), strict=True, fail_on_error=False)


def test_one_prometheus_rule_per_file_without_the_standard_groups_unless_asked():
    rendered = objects(sources(), 'monitoring', {'release': 'kube-prometheus-stack'})
    assert [o['metadata'] for o in rendered] == [
        {'name': 'aiplatform-gpu', 'namespace': 'monitoring', 'labels': {'release': 'kube-prometheus-stack'}},
        {'name': 'aiplatform-inference', 'namespace': 'monitoring', 'labels': {'release': 'kube-prometheus-stack'}}]
    assert all(o['apiVersion'] == 'monitoring.coreos.com/v1' and o['kind'] == 'PrometheusRule' for o in rendered)
    assert [o['spec'] for o in rendered] == sources('platform/gpu.yml', 'platform/inference.yml')
    with_standard = objects(sources(), 'monitoring', standard=True)
    assert [o['metadata'] for o in with_standard][2:] == [{'name': 'aiplatform-kubernetes-recording', 'namespace': 'monitoring'},
                                                          {'name': 'aiplatform-node-recording', 'namespace': 'monitoring'}]
    assert [o['spec'] for o in with_standard][2:] == sources('standard/kubernetes-recording.yml', 'standard/node-recording.yml')


def test_the_prometheus_rules_are_valid_against_the_operator_s_crd(validator):
    rendered = objects(sources(), 'monitoring', {'release': 'kube-prometheus-stack'}, standard=True)
    assert len(rendered) == 4
    assert validator.validate(rendered) == []


@pytest.mark.parametrize('break_it, path', [
    (lambda spec: spec['groups'][1]['rules'][0].update({'for': '5 minutes'}), 'spec.groups[1].rules[0].for'),
    (lambda spec: spec['groups'][0].update({'interval': 'every minute'}), 'spec.groups[0].interval'),
    (lambda spec: spec['groups'][0]['rules'][0].pop('expr'), 'spec.groups[0].rules[0]'),
])
def test_a_broken_prometheus_rule_is_caught_by_the_same_check(validator, break_it, path):
    rendered = objects(sources('platform/gpu.yml'), 'monitoring')
    break_it(rendered[0]['spec'])
    problems = validator.validate(rendered)
    assert problems and any(p['path'].startswith(path) for p in problems), problems
