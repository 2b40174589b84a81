"""The prometheus_monitoring role's Grafana dashboard: valid against Grafana's dashboard JSON Schema
(tests/reference/grafana), laid out on the 24-column grid, every query on the dashboard's data source variable, and
every metric it queries produced by the role's rules, a DCGM exporter default counter or vLLM. Its layout picture is
redrawn from the JSON and must match the one in the role."""

import copy
import csv
import gzip
import importlib.util
import json
import re
from pathlib import Path

import jsonschema
import promql_parser
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = ROOT / 'roles' / 'prometheus_monitoring' / 'files' / 'dashboards'
DASHBOARD_FILE = DASHBOARDS / 'gpu-inference.json'
LAYOUT = DASHBOARDS / 'gpu-inference-layout.svg'
RULES = ROOT / 'roles' / 'prometheus_monitoring' / 'files' / 'rules'
REFERENCE = ROOT / 'tests' / 'reference'
SCHEMA = json.loads(gzip.decompress((REFERENCE / 'grafana' / 'dashboard.jsonschema.json.gz').read_bytes()))
GRID_COLUMNS = 24
# Grafana 11.6 and 12.0 write 41; the schema (Grafana 12) defaults to the newest, which Grafana migrates to on load
SCHEMA_VERSION = 41
DATASOURCE = {'type': 'prometheus', 'uid': '${datasource}'}
# Grafana's interval variables, which PromQL cannot parse: any duration stands for them
INTERVALS = re.compile(r'\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}')
LABEL_VALUES = re.compile(r'^label_values\((.+),\s*\w+\)$')
# The recording rules the brief fixes for the dashboard: each must be on it
RECORDS = {
    'node_gpu:dcgm_gpu_utilization:avg5m', 'namespace_pod:dcgm_gpu_utilization:avg5m', 'node_gpu:dcgm_framebuffer_used:ratio',
    'node_gpu:dcgm_framebuffer_used_bytes', 'node_gpu:dcgm_framebuffer_free_bytes', 'namespace_pod:dcgm_framebuffer_used_bytes',
    'node_gpu:dcgm_power_usage_watts:avg5m', 'node_gpu:dcgm_gpu_temperature_celsius:max5m', 'node_gpu:dcgm_xid_errors:max5m',
    'namespace_model:vllm_requests:rate5m', 'namespace_model:vllm_request_success:ratio5m',
    'namespace_model:vllm_e2e_request_latency_seconds:histogram_quantile', 'namespace_model:vllm_time_to_first_token_seconds:histogram_quantile',
    'namespace_model:vllm_generation_tokens:rate5m', 'namespace_model:vllm_prompt_tokens:rate5m', 'namespace_model:vllm_requests_waiting:sum',
    'namespace_model:vllm_requests_running:sum', 'namespace_model:vllm_kv_cache_usage:avg'}
# How the Prometheus client exposes each type of vLLM metric (tests/reference/vllm-metrics.txt lists the base names)
SERIES_SUFFIXES = {'counter': ('_total', '_created'), 'gauge': ('',), 'histogram': ('_bucket', '_sum', '_count')}


def load_dashboard():
    return json.loads(DASHBOARD_FILE.read_text())


def all_panels(dashboard):
    """Every panel, the panels of collapsed rows included."""
    for panel in dashboard['panels']:
        yield panel
        yield from panel.get('panels', [])


def queries(dashboard):
    """(where, PromQL) of every panel target and every query variable, in the PromQL Prometheus receives."""
    for panel in all_panels(dashboard):
        for target in panel.get('targets', []):
            yield 'panel %r %s' % (panel.get('title'), target.get('refId')), INTERVALS.sub('5m', target['expr'])
    for variable in dashboard['templating']['list']:
        if variable['type'] == 'query':
            # label_values(selector, label) is Grafana's; the selector inside is PromQL
            yield 'variable $%s' % variable['name'], LABEL_VALUES.match(variable['query']).group(1)


def metric_names(expression):
    """The metric names of the vector selectors of a PromQL expression, from its syntax tree."""
    names = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name or next(m.value for m in node.matchers.matchers if m.name == '__name__'))

    promql_parser.walk(promql_parser.parse(expression), pre_visit=visit)
    return names


def produced_names():
    """Every series name the platform's Prometheus has: rule records, DCGM default counters and vLLM's metrics."""
    records = {rule['record'] for path in RULES.glob('**/*.yml') for group in yaml.safe_load(path.read_text())['groups']
               for rule in group['rules'] if 'record' in rule}
    lines = (line for line in (REFERENCE / 'dcgm-default-counters.csv').read_text().splitlines() if line.strip() and not line.startswith('#'))
    dcgm = {row[0].strip() for row in csv.reader(lines)}
    vllm = set()
    for line in (REFERENCE / 'vllm-metrics.txt').read_text().splitlines():
        if line.strip() and not line.startswith('#'):
            fields = line.split()
            # 'legacy' marks names of older images, which the rules may still read
            name, kind = fields[1:3] if fields[0] == 'legacy' else fields[:2]
            vllm.update(name + suffix for suffix in SERIES_SUFFIXES[kind])
    return records | dcgm | vllm


def unknown_metrics(dashboard, known):
    """'name (where)' for every metric a query uses that nothing produces."""
    return sorted('%s (%s)' % (name, where) for where, expression in queries(dashboard) for name in metric_names(expression)
                  if name not in known)


@pytest.fixture(scope='module')
def dashboard():
    return load_dashboard()


def test_the_dashboard_is_valid_against_grafana_s_dashboard_schema(dashboard):
    problems = ['%s: %s' % ('/'.join(map(str, e.absolute_path)), e.message) for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(dashboard)]
    assert problems == []
    assert dashboard['schemaVersion'] == SCHEMA_VERSION <= SCHEMA['definitions']['Dashboard']['properties']['schemaVersion']['default']
    assert dashboard['uid'] and len(dashboard['uid']) <= 40


def test_the_schema_check_catches_a_break(dashboard):
    broken = copy.deepcopy(dashboard)
    broken['panels'][1]['gridPos']['w'] = 30
    del broken['templating']
    messages = [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(broken)]
    assert "'templating' is a required property" in messages and any('30' in m for m in messages)


def test_the_variables_are_the_data_source_the_cluster_and_the_namespace(dashboard):
    variables = {v['name']: v for v in dashboard['templating']['list']}
    assert (variables['datasource']['type'], variables['datasource']['query']) == ('datasource', 'prometheus')
    for name in ('cluster', 'namespace'):
        assert variables[name]['type'] == 'query' and variables[name]['datasource'] == DATASOURCE
        # a Prometheus without a cluster label (kube-prometheus-stack) matches All
        assert variables[name]['includeAll'] and variables[name]['allValue'] == '.*'


def test_every_panel_has_a_unique_id_and_sits_inside_the_grid_without_overlapping(dashboard):
    panels = list(all_panels(dashboard))
    ids = [p['id'] for p in panels]
    assert len(ids) == len(set(ids)), ids
    cells = {}
    for panel in panels:
        grid = panel['gridPos']
        assert grid['x'] >= 0 and grid['w'] > 0 and grid['x'] + grid['w'] <= GRID_COLUMNS, panel['title']
        for x in range(grid['x'], grid['x'] + grid['w']):
            for y in range(grid['y'], grid['y'] + grid['h']):
                assert (x, y) not in cells, '%s overlaps %s' % (panel['title'], cells[(x, y)])
                cells[(x, y)] = panel['title']


def test_every_query_uses_the_data_source_variable(dashboard):
    for panel in all_panels(dashboard):
        if panel['type'] == 'row':
            continue
        assert panel['datasource'] == DATASOURCE, panel['title']
        assert panel['targets'], panel['title']
        assert [t['datasource'] for t in panel['targets']] == [DATASOURCE] * len(panel['targets']), panel['title']


def test_every_fixed_recording_rule_is_on_the_dashboard(dashboard):
    used = set().union(*(metric_names(query[1]) for query in queries(dashboard)))
    assert RECORDS - used == set()


def test_every_metric_the_dashboard_queries_is_produced_by_a_rule_dcgm_or_vllm(dashboard):
    known = produced_names()
    # the references are there and read: a rule record, a DCGM default counter, a vLLM histogram series
    assert {'node_gpu:dcgm_gpu_utilization:avg5m', 'DCGM_FI_DEV_GPU_UTIL', 'vllm:e2e_request_latency_seconds_bucket'} <= known
    assert unknown_metrics(dashboard, known) == []


def test_a_metric_nothing_produces_is_named_with_where_it_is_used(dashboard):
    broken = copy.deepcopy(dashboard)
    panel = next(p for p in broken['panels'] if p['type'] != 'row')
    panel['targets'].append(dict(panel['targets'][0], refId='Z', expr='sum(rate(vllm:request_succes_total[$__rate_interval])) / DCGM_FI_DEV_GPU_UTIL'))
    broken['templating']['list'][1]['query'] = 'label_values(DCGM_FI_DEV_GPU_UTILIZATION, cluster)'
    assert unknown_metrics(broken, produced_names()) == [
        'DCGM_FI_DEV_GPU_UTILIZATION (variable $cluster)', "vllm:request_succes_total (panel %r Z)" % panel['title']]


def test_metric_names_come_from_the_syntax_tree_not_from_words():
    expression = 'sum by (pod) (rate({__name__="vllm:prompt_tokens_total", model_name="rate"}[5m])) / on(pod) group_left max_over_time(up[5m:1m])'
    assert metric_names(expression) == {'vllm:prompt_tokens_total', 'up'}
    with pytest.raises(ValueError):
        metric_names('sum(rate(vllm:prompt_tokens_total[5m])')


def test_the_layout_picture_is_drawn_from_the_current_dashboard(dashboard):
    spec = importlib.util.spec_from_file_location('dashboard_layout_svg', ROOT / 'scripts' / 'dashboard_layout_svg.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = module.render(dashboard, DASHBOARD_FILE.name)
    assert 'not a screenshot' in drawn and all(p['title'] in drawn for p in all_panels(dashboard))
    assert drawn == LAYOUT.read_text(), 'redraw it: python scripts/dashboard_layout_svg.py %s %s' % (
        DASHBOARD_FILE.relative_to(ROOT), LAYOUT.relative_to(ROOT))
