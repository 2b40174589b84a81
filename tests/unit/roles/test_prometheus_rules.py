"""The prometheus_monitoring role's rule files (roles/prometheus_monitoring/files/rules): promtool reads each as it is,
its unit tests (prometheus_rules/*.test.yml) pass and fail on a wrong expression, the standard groups are Azure's own
rules, the record names are the ones the dashboard reads, the metric names are the DCGM exporter's and vLLM's, and every
expression parses with promql-parser, as Azure's rule groups must."""

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import promql_parser
import pytest
import yaml

from ansible_collections.aiplatform.aks.plugins.filter.prometheus_rules import STANDARD_GROUPS, file_name

REPO = Path(__file__).resolve().parents[3]
RULES = REPO / 'roles' / 'prometheus_monitoring' / 'files' / 'rules'
RULE_FILES = sorted(RULES.glob('*/*.yml'))
PLATFORM = sorted(RULES.glob('platform/*.yml'))
UNIT_TEST_DIR = Path(__file__).parent / 'prometheus_rules'
UNIT_TESTS = sorted(UNIT_TEST_DIR.glob('*.test.yml'))
REFERENCE = REPO / 'tests' / 'reference'

GPU_RECORDS = ['node_gpu:dcgm_gpu_utilization:avg5m', 'namespace_pod:dcgm_gpu_utilization:avg5m', 'node_gpu:dcgm_framebuffer_used:ratio',
               'node_gpu:dcgm_framebuffer_used_bytes', 'node_gpu:dcgm_framebuffer_free_bytes', 'namespace_pod:dcgm_framebuffer_used_bytes',
               'node_gpu:dcgm_power_usage_watts:avg5m', 'node_gpu:dcgm_gpu_temperature_celsius:max5m', 'node_gpu:dcgm_xid_errors:max5m']
INFERENCE_RECORDS = ['namespace_model:vllm_requests:rate5m', 'namespace_model:vllm_request_success:ratio5m',
                     'namespace_model:vllm_e2e_request_latency_seconds:histogram_quantile',
                     'namespace_model:vllm_time_to_first_token_seconds:histogram_quantile', 'namespace_model:vllm_generation_tokens:rate5m',
                     'namespace_model:vllm_prompt_tokens:rate5m', 'namespace_model:vllm_requests_waiting:sum',
                     'namespace_model:vllm_requests_running:sum', 'namespace_model:vllm_kv_cache_usage:avg']
ALERTS = ['GpuIdleWhileAllocated', 'GpuMemoryPressure', 'GpuXidErrors', 'InferenceErrorRatioHigh', 'InferenceQueueGrowing']
CONSUMER_RECORDS = ['namespace_pod:dcgm_gpu_utilization:avg5m', 'namespace_pod:dcgm_framebuffer_used_bytes']


def load(path):
    return yaml.safe_load(Path(path).read_text())


def rules_of(path):
    return [(group['name'], rule) for group in load(path)['groups'] for rule in group['rules']]


def promtool():
    """The promtool that `make bootstrap` links into the virtualenv (or one on PATH)."""
    found = Path(sys.prefix) / 'bin' / 'promtool'
    found = str(found) if found.exists() else shutil.which('promtool')
    assert found, 'promtool is missing: run `make bootstrap` (it unpacks promtool from Debian\'s prometheus package into the venv)'
    return found


def run_promtool(*args, cwd=None):
    return subprocess.run([promtool()] + list(args), cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize('path', RULE_FILES, ids=lambda p: str(p.relative_to(RULES)))
def test_promtool_reads_every_rule_file_as_it_is(path):
    result = run_promtool('check', 'rules', str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'SUCCESS: %d rules found' % len(rules_of(path)) in result.stdout


@pytest.mark.parametrize('path', UNIT_TESTS, ids=lambda p: p.name)
def test_promtool_unit_tests_pass(path):
    result = run_promtool('test', 'rules', path.name, cwd=path.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def unit_test_targets():
    """What the unit tests look at: {record or alert: [the test blocks' names]}, and the alerts seen firing and quiet."""
    looked_at, firing, quiet = {}, set(), set()
    for path in UNIT_TESTS:
        for block in load(path)['tests']:
            for case in block.get('promql_expr_test') or []:
                looked_at.setdefault(re.match(r'[\w:]+', case['expr']).group(0), []).append(block['name'])
            for case in block.get('alert_rule_test') or []:
                looked_at.setdefault(case['alertname'], []).append(block['name'])
                (firing if case.get('exp_alerts') else quiet).add(case['alertname'])
    return looked_at, firing, quiet


def test_the_unit_tests_cover_every_record_and_alert_firing_and_quiet():
    looked_at, firing, quiet = unit_test_targets()
    assert sorted(set(GPU_RECORDS + INFERENCE_RECORDS + ALERTS) - set(looked_at)) == []
    assert sorted(firing) == sorted(ALERTS) and sorted(quiet) == sorted(ALERTS)


def test_the_gpu_unit_tests_cover_both_label_layouts_of_the_dcgm_exporter():
    """Every GPU record and the consumer alert are tested on series with exported_* labels and on series without them."""
    blocks = {block['name']: block for block in load(UNIT_TEST_DIR / 'gpu.test.yml')['tests']}
    looked_at = unit_test_targets()[0]

    def layouts(name):
        series = [s['series'] for s in blocks[name]['input_series']]
        # the consumer in exported_pod, or in pod itself (the test pods are called trainer-*)
        return ({'exported'} if any('exported_pod=' in s for s in series) else set()) | \
            ({'honorLabels'} if any('pod="trainer-' in s and 'exported_pod=' not in s for s in series) else set())
    for target in GPU_RECORDS + ['GpuIdleWhileAllocated']:
        seen = set().union(*(layouts(name) for name in looked_at[target] if name in blocks))
        assert seen == {'exported', 'honorLabels'}, target


def test_the_platform_records_and_alerts_are_the_fixed_names():
    records = [rule['record'] for path in PLATFORM for _group, rule in rules_of(path) if 'record' in rule]
    alerts = [rule['alert'] for path in PLATFORM for _group, rule in rules_of(path) if 'alert' in rule]
    assert sorted(set(records)) == sorted(GPU_RECORDS + INFERENCE_RECORDS) and sorted(alerts) == sorted(ALERTS)
    quantiles = [(rule['record'], rule['labels']['quantile']) for path in PLATFORM for _g, rule in rules_of(path) if 'quantile' in (rule.get('labels') or {})]
    assert sorted(quantiles) == sorted((r, q) for r in INFERENCE_RECORDS if r.endswith(':histogram_quantile') for q in ('0.5', '0.9', '0.99'))


def test_every_platform_rule_keeps_cluster_in_each_aggregation():
    for path in PLATFORM:
        for group, rule in rules_of(path):
            groupings = re.findall(r'\bby \(([^)]*)\)', rule['expr'])
            if 'record' in rule:
                assert groupings, (group, rule['record'])
            assert all('cluster' in [label.strip() for label in g.split(',')] for g in groupings), (group, rule.get('record') or rule['alert'])


def test_alerts_have_for_a_known_severity_summary_and_description():
    for path in PLATFORM:
        for group, rule in rules_of(path):
            if 'alert' in rule:
                assert rule['for'] and rule['labels']['severity'] in ('critical', 'error', 'warning', 'info'), rule['alert']
                assert sorted(rule['annotations']) == ['description', 'summary'], rule['alert']


def test_groups_are_named_for_their_file_and_evaluated_every_minute():
    for path in RULE_FILES:
        document = load(path)
        assert file_name(document) == path.stem
        assert [g['interval'] for g in document['groups']] == ['1m'] * len(document['groups'])
        assert all(len(g['rules']) <= 20 for g in document['groups']), 'Azure Monitor takes 20 rules in a group'


def test_the_standard_groups_are_azure_s_rules_exactly():
    reference = json.loads((REFERENCE / 'managed_prometheus_arm_shapes.json').read_text())
    ours = {}
    for path in sorted(RULES.glob('standard/*.yml')):
        for group in load(path)['groups']:
            ours[group['name']] = [dict({'record': r['record'], 'expression': r['expr']}, **({'labels': r['labels']} if 'labels' in r else {}))
                                   for r in group['rules']]
    assert ours == reference['ruleGroups']
    assert [len(ours['NodeRecordingRulesRuleGroup']), len(ours['KubernetesRecordingRulesRuleGroup'])] == [11, 19]
    # the filter knows these groups by name, with the descriptions the add-on's template gives them
    description = reference['resources']['Microsoft.AlertsManagement/prometheusRuleGroups@2023-03-01']['properties']['description']
    assert sorted(STANDARD_GROUPS) == sorted(ours) and sorted(STANDARD_GROUPS.values()) == sorted(description.split(' | '))


def test_the_standard_files_say_they_are_rendered_for_azure_only():
    for path in sorted(RULES.glob('standard/*.yml')):
        assert 'kube-prometheus-stack ships its own' in path.read_text()


def test_the_gpu_rules_read_default_dcgm_counters_only():
    with open(REFERENCE / 'dcgm-default-counters.csv') as handle:
        counters = {row[0].strip(): row[1].strip() for row in csv.reader(handle) if row and not row[0].startswith('#')}
    used = set(re.findall(r'DCGM_FI_[A-Z_]+', (RULES / 'platform' / 'gpu.yml').read_text()))
    assert used and sorted(used - set(counters)) == []
    assert all(counters[name] == 'gauge' for name in used), 'the rules use them as gauges'


def vllm_reference():
    current, legacy = {}, {}
    for line in (REFERENCE / 'vllm-metrics.txt').read_text().splitlines():
        if not line.strip() or line.startswith('#'):
            continue
        words = line.split()
        (legacy if words[0] == 'legacy' else current)[words[-3]] = (words[-2], words[-1].split(','))
    return current, legacy


def test_the_inference_rules_read_vllm_s_metric_names_and_labels():
    current, legacy = vllm_reference()
    exposed = {}
    for table in (current, legacy):
        for name, (kind, labels) in table.items():
            exposed[name + {'counter': '_total', 'histogram': '_bucket'}.get(kind, '')] = (name, labels)
    text = (RULES / 'platform' / 'inference.yml').read_text()
    expressions = [rule['expr'] for _g, rule in rules_of(RULES / 'platform' / 'inference.yml')]
    used = set(re.findall(r'vllm:[a-z0-9_]+', ' '.join(expressions)))
    assert used and sorted(used - set(exposed)) == []
    for name in used:
        assert 'model_name' in exposed[name][1], name
    assert 'finished_reason' in current['vllm:request_success'][1] and 'finished_reason=~"stop|length"' in text
    # the old KV-cache name only as the fallback of the current one
    assert [exposed[n][0] for n in used if exposed[n][0] in legacy] == ['vllm:gpu_cache_usage_perc']
    assert 'vllm:kv_cache_usage_perc' in current


def test_every_expression_parses_with_promql_parser():
    for path in RULE_FILES:
        for group, rule in rules_of(path):
            assert promql_parser.parse(rule['expr']) is not None, (group, rule.get('record') or rule.get('alert'))
    with pytest.raises(ValueError):
        promql_parser.parse('sum by (cluster) (rate(vllm:request_success_total[5m])')


# A wrong expression of each kind makes the unit tests fail: (file, rule, the wrong expression, what is wrong).
BY_GPU = 'by (cluster, Hostname, gpu, UUID, modelName)'
MUTANTS = [
    ('gpu', 'node_gpu:dcgm_gpu_utilization:avg5m', 'avg %s (DCGM_FI_DEV_GPU_UTIL)' % BY_GPU, 'last sample, not the 5-minute average'),
    ('gpu', 'namespace_pod:dcgm_gpu_utilization:avg5m', 'avg by (cluster, namespace, pod) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m]))',
     'no rename from exported_*'),
    ('gpu', 'namespace_pod:dcgm_gpu_utilization:avg5m', 'avg by (cluster, exported_namespace, exported_pod) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m]))',
     'exported_* only: wrong with honorLabels'),
    ('gpu', 'namespace_pod:dcgm_framebuffer_used_bytes',
     'sum by (cluster, namespace, pod) (label_replace(label_replace(DCGM_FI_DEV_FB_USED{exported_pod!=""}, "namespace", "$1", "exported_namespace", '
     '"(.+)"), "pod", "$1", "exported_pod", "(.+)") or DCGM_FI_DEV_FB_USED{exported_pod="", pod!=""}) * 1048576', "the exporter's own pod counted"),
    ('gpu', 'node_gpu:dcgm_framebuffer_used:ratio', 'max %s (DCGM_FI_DEV_FB_USED) / max %s (DCGM_FI_DEV_FB_FREE)' % (BY_GPU, BY_GPU), 'used / free'),
    ('gpu', 'node_gpu:dcgm_framebuffer_used_bytes', 'max %s (DCGM_FI_DEV_FB_USED) * 1000000' % BY_GPU, 'MB, not MiB'),
    ('gpu', 'node_gpu:dcgm_framebuffer_free_bytes', 'max %s (DCGM_FI_DEV_FB_FREE)' % BY_GPU, 'MiB, not bytes'),
    ('gpu', 'node_gpu:dcgm_power_usage_watts:avg5m', 'avg %s (DCGM_FI_DEV_POWER_USAGE)' % BY_GPU, 'last sample'),
    ('gpu', 'node_gpu:dcgm_gpu_temperature_celsius:max5m', 'max %s (avg_over_time(DCGM_FI_DEV_GPU_TEMP[5m]))' % BY_GPU, 'average, not maximum'),
    ('gpu', 'node_gpu:dcgm_xid_errors:max5m', 'max %s (DCGM_FI_DEV_XID_ERRORS)' % BY_GPU, 'last sample: a passed error is lost'),
    ('gpu', 'GpuIdleWhileAllocated', 'namespace_pod:dcgm_gpu_utilization:avg5m <= 1', 'threshold'),
    ('gpu', 'GpuMemoryPressure', 'node_gpu:dcgm_framebuffer_used:ratio > 0.85', "threshold under vLLM's 90 %"),
    ('inference', 'namespace_model:vllm_requests:rate5m',
     'sum by (cluster, namespace, model_name) (rate(vllm:request_success_total{finished_reason="stop"}[5m]))', 'only one reason'),
    ('inference', 'namespace_model:vllm_request_success:ratio5m',
     'sum by (cluster, namespace, model_name) (rate(vllm:request_success_total{finished_reason="stop"}[5m])) / '
     'sum by (cluster, namespace, model_name) (rate(vllm:request_success_total[5m]))', 'length is a normal end too'),
    ('inference', 'namespace_model:vllm_e2e_request_latency_seconds:histogram_quantile',
     'histogram_quantile(0.95, sum by (cluster, namespace, model_name, le) (rate(vllm:e2e_request_latency_seconds_bucket[5m])))', 'wrong quantile'),
    ('inference', 'namespace_model:vllm_time_to_first_token_seconds:histogram_quantile',
     'histogram_quantile(0.5, sum by (cluster, namespace, model_name, le) (rate(vllm:e2e_request_latency_seconds_bucket[5m])))', 'the e2e histogram'),
    ('inference', 'namespace_model:vllm_e2e_request_latency_seconds:histogram_quantile',
     'histogram_quantile(0.5, max by (cluster, namespace, model_name, le) (rate(vllm:e2e_request_latency_seconds_bucket[5m])))', 'max, not sum'),
    ('inference', 'namespace_model:vllm_e2e_request_latency_seconds:histogram_quantile',
     'avg by (cluster, namespace, model_name) (histogram_quantile(0.5, rate(vllm:e2e_request_latency_seconds_bucket[5m])))', 'pods not summed first'),
    ('inference', 'namespace_model:vllm_generation_tokens:rate5m', 'sum by (cluster, namespace, model_name) (rate(vllm:prompt_tokens_total[5m]))',
     'prompt for generation'),
    ('inference', 'namespace_model:vllm_prompt_tokens:rate5m', 'sum by (cluster, namespace, model_name) (increase(vllm:prompt_tokens_total[5m]))',
     'per 5 minutes, not per second'),
    ('inference', 'namespace_model:vllm_requests_waiting:sum', 'max by (cluster, namespace, model_name) (vllm:num_requests_waiting)', 'max, not sum'),
    ('inference', 'namespace_model:vllm_requests_running:sum', 'sum by (cluster, namespace, model_name) (vllm:num_requests_waiting)', 'waiting for running'),
    ('inference', 'namespace_model:vllm_kv_cache_usage:avg', 'avg by (cluster, namespace, model_name) (vllm:kv_cache_usage_perc)',
     'no fallback to the old name'),
    ('inference', 'InferenceErrorRatioHigh', '(1 - namespace_model:vllm_request_success:ratio5m) > 0.05', 'no traffic floor'),
    ('inference', 'InferenceQueueGrowing', 'namespace_model:vllm_requests_waiting:sum > 0', 'a steady queue is not a growing one'),
]


@pytest.mark.parametrize('stem, name, wrong, why', MUTANTS, ids=['%s: %s' % (m[1], m[3]) for m in MUTANTS])
def test_a_wrong_expression_fails_the_unit_tests(tmp_path, stem, name, wrong, why):
    rules = load(RULES / 'platform' / ('%s.yml' % stem))
    targets = [r for g in rules['groups'] for r in g['rules'] if name in (r.get('record'), r.get('alert'))]
    targets[0]['expr'] = wrong
    (tmp_path / 'rules.yml').write_text(yaml.safe_dump(rules))
    tests = load(UNIT_TEST_DIR / ('%s.test.yml' % stem))
    tests['rule_files'] = [str(tmp_path / 'rules.yml')]
    (tmp_path / 'test.yml').write_text(yaml.safe_dump(tests))
    assert run_promtool('check', 'rules', str(tmp_path / 'rules.yml')).returncode == 0, 'the wrong expression must still be valid PromQL'
    result = run_promtool('test', 'rules', 'test.yml', cwd=tmp_path)
    assert result.returncode != 0 and 'FAILED' in result.stdout + result.stderr, 'the unit tests did not see: %s' % why
