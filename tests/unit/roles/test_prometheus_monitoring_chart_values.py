"""The values the prometheus_monitoring role gives kube-prometheus-stack, checked key by key against the chart's
values.yaml of the version the role pins (tests/charts/kube-prometheus-stack), and for what they must do: select the
role's monitors and rules in every namespace, load its dashboard, and expose nothing outside the cluster."""

from pathlib import Path

import yaml

from tests.unit.chart_values import unknown_keys

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / 'roles' / 'prometheus_monitoring'
PINNED = yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text())['prometheus_monitoring_helm_version']
CHART_COPY = ROOT / 'tests' / 'charts' / 'kube-prometheus-stack' / ('values-%s.yaml' % PINNED)
CHART = yaml.safe_load(CHART_COPY.read_text())
ROLE_VALUES = yaml.safe_load((ROLE / 'files' / 'kube-prometheus-stack-values.yml').read_text())


def walk(value, path=()):
    """Every (key path, value) of a values tree."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield path + (key,), child
            yield from walk(child, path + (key,))


def test_the_pinned_chart_version_has_a_values_copy_to_check_against():
    assert CHART_COPY.is_file(), 'copy charts/kube-prometheus-stack/values.yaml of kube-prometheus-stack-%s to %s' % (PINNED, CHART_COPY)
    assert {'prometheus', 'alertmanager', 'grafana', 'prometheusOperator'} <= set(CHART)


def test_every_key_the_role_gives_the_chart_is_a_key_of_the_chart():
    # the install task passes the file as it is
    assert "lookup('ansible.builtin.file', 'kube-prometheus-stack-values.yml') | from_yaml" in (ROLE / 'tasks' / 'helm.yml').read_text()
    assert unknown_keys(ROLE_VALUES, CHART) == []


def test_a_misspelt_key_is_caught():
    broken = {'prometheus': {'prometheusSpec': {'serviceMonitorSelectorNilUsesHelmValue': False}}, 'grafana': {'sidecar': {'dashboard': {}}}}
    assert unknown_keys(broken, CHART) == ['prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValue', 'grafana.sidecar.dashboard']


def test_prometheus_selects_monitors_and_rules_of_every_namespace_without_the_release_label():
    spec = ROLE_VALUES['prometheus']['prometheusSpec']
    for kind in ('serviceMonitor', 'podMonitor', 'rule'):
        # the chart's default would select only objects labelled with the release
        assert CHART['prometheus']['prometheusSpec'][kind + 'SelectorNilUsesHelmValues'] is True
        assert spec[kind + 'SelectorNilUsesHelmValues'] is False, kind
        assert spec[kind + 'NamespaceSelector'] == {}, kind


def test_grafana_loads_dashboards_of_every_namespace_by_the_chart_s_label():
    sidecar = ROLE_VALUES['grafana']['sidecar']['dashboards']
    chart = CHART['grafana']['sidecar']['dashboards']
    assert sidecar['enabled'] is True and sidecar['searchNamespace'] == 'ALL'
    # the same label as the chart's default, so a kube-prometheus-stack the role did not install loads it too
    assert (sidecar['label'], sidecar['labelValue']) == (chart['label'], chart['labelValue']) == ('grafana_dashboard', '1')


def test_nothing_is_exposed_and_no_password_is_in_the_file():
    paths = dict(walk(ROLE_VALUES))
    assert [p for p, v in paths.items() if p[-1] == 'type' and v != 'ClusterIP'] == []
    assert [p for p, v in paths.items() if p[-1] == 'enabled' and 'ingress' in p and v is not False] == []
    for component in ('prometheus', 'alertmanager', 'grafana'):
        assert ROLE_VALUES[component]['ingress']['enabled'] is False, component
    assert [p for p in paths if p[-1] in ('adminPassword', 'password')] == []
    # neither the chart: without both, the Grafana chart generates a random admin password into its Secret
    assert 'adminPassword' not in CHART['grafana'] and ROLE_VALUES['grafana']['admin']['existingSecret'] == ''
