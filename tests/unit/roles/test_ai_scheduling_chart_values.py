"""The values the ai_scheduling role gives Kueue's, KEDA's and JobSet's charts, checked key by key against the charts' values.yaml
of the versions the role pins (tests/charts), and Kueue's manager configuration, a YAML string inside the values,
against the chart's default configuration with its commented waitForPodsReady example."""

import gzip
import re
from pathlib import Path

import yaml

from tests.unit.chart_values import unknown_keys

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / 'roles' / 'ai_scheduling'
DEFAULTS = yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text())
KUEUE_CHART = yaml.safe_load((ROOT / 'tests' / 'charts' / 'kueue' / ('values-%s.yaml' % DEFAULTS['ai_scheduling_kueue_helm_version'])).read_text())
# stored compressed: its comments hold typographic quotes, which ansible-test's no-smart-quotes refuses
KEDA_COPY = ROOT / 'tests' / 'charts' / 'keda' / ('values-%s.yaml.gz' % DEFAULTS['ai_scheduling_keda_helm_version'])
KEDA_CHART = yaml.safe_load(gzip.decompress(KEDA_COPY.read_bytes()))
# stored compressed: the file begins with a blank line, which ansible-test's yamllint refuses
JOBSET_COPY = ROOT / 'tests' / 'charts' / 'jobset' / ('values-%s.yaml.gz' % DEFAULTS['ai_scheduling_jobset_helm_version'])
JOBSET_CHART = yaml.safe_load(gzip.decompress(JOBSET_COPY.read_bytes()))
KUEUE_VALUES = yaml.safe_load((ROLE / 'files' / 'kueue-values.yml').read_text())
JOBSET_VALUES = yaml.safe_load((ROLE / 'files' / 'jobset-values.yml').read_text())
KEDA_VALUES = yaml.safe_load((ROLE / 'files' / 'keda-values.yml').read_text())
HELM_TASKS = yaml.safe_load((ROLE / 'tasks' / 'helm.yml').read_text())


def chart_configuration():
    """The chart's default manager configuration with its commented waitForPodsReady block taken in."""
    text = KUEUE_CHART['managerConfig']['controllerManagerConfigYaml']
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith('#waitForPodsReady:'):
            inside = True
        elif inside and not line.startswith('#  '):
            inside = False
        lines.append(re.sub(r'\s+#.*$', '', line[1:]) if inside else line)
    return yaml.safe_load('\n'.join(lines))


def test_the_pinned_chart_versions_have_values_copies_to_check_against():
    assert 'managerConfig' in KUEUE_CHART and 'controllerManager' in KUEUE_CHART
    assert 'operator' in KEDA_CHART and 'crds' in KEDA_CHART
    assert 'v1beta2' in KUEUE_CHART['managerConfig']['controllerManagerConfigYaml'].splitlines()[0]


def test_the_helm_tasks_pass_the_values_files_as_they_are():
    values = dict((task['name'], task['kubernetes.core.helm']['release_values']) for task in HELM_TASKS if 'kubernetes.core.helm' in task)
    assert values == {'AI scheduling | Install or upgrade Kueue': "{{ lookup('ansible.builtin.file', 'kueue-values.yml') | from_yaml }}",
                      'AI scheduling | Install or upgrade KEDA': "{{ lookup('ansible.builtin.file', 'keda-values.yml') | from_yaml }}",
                      'AI scheduling | Install or upgrade JobSet': "{{ lookup('ansible.builtin.file', 'jobset-values.yml') | from_yaml }}"}


def test_every_key_the_role_gives_the_charts_is_a_key_of_the_chart():
    assert unknown_keys(KUEUE_VALUES, KUEUE_CHART) == []
    assert unknown_keys(KEDA_VALUES, KEDA_CHART) == []
    assert unknown_keys(JOBSET_VALUES, JOBSET_CHART) == []


def test_jobset_runs_the_promoted_image_of_the_pinned_chart():
    # the source tree's values name a staging image at "main"; the published chart is rewritten to the promoted one
    assert JOBSET_CHART['image']['tag'] == 'main'
    assert JOBSET_VALUES['image'] == {'repository': 'registry.k8s.io/jobset/jobset', 'tag': 'v%s' % DEFAULTS['ai_scheduling_jobset_helm_version'],
                                      'pullPolicy': 'IfNotPresent'}


def test_a_misspelt_key_is_caught():
    assert unknown_keys({'managerconfig': {}, 'crds': {'instal': True}}, KEDA_CHART) == ['managerconfig', 'crds.instal']
    assert unknown_keys({'waitForPodReady': {}}, chart_configuration()) == ['waitForPodReady']


def test_kueue_s_configuration_turns_on_wait_for_pods_ready_and_the_platform_s_integrations_only():
    configuration = yaml.safe_load(KUEUE_VALUES['managerConfig']['controllerManagerConfigYaml'])
    reference = chart_configuration()
    assert unknown_keys(configuration, reference) == []
    assert (configuration['apiVersion'], configuration['kind']) == (reference['apiVersion'], reference['kind'])
    ready = configuration['waitForPodsReady']
    assert ready['blockAdmission'] is True and ready['timeout'] == '10m' and ready['requeuingStrategy']['timestamp'] == 'Eviction'
    assert configuration['integrations']['frameworks'] == ['batch/job', 'jobset.x-k8s.io/jobset']
    assert set(configuration['integrations']['frameworks']) <= set(reference['integrations']['frameworks'])
    # what the replaced default sets for the manager to run is kept
    for key in ('health', 'metrics', 'webhook', 'leaderElection'):
        assert configuration[key] == reference[key], key
