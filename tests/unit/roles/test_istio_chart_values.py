"""The values the istio role gives the istiod chart, checked key by key against the chart's values.yaml of the version
the role pins (tests/charts/istio), and the pilot settings against what istiod 1.28 accepts."""

from pathlib import Path

import yaml

from tests.unit.chart_values import unknown_keys

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / 'roles' / 'istio'
PINNED = yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text())['istio_helm_version']
# The 1.2x charts keep their defaults under this key and read the user's values from the top level.
CHART = yaml.safe_load((ROOT / 'tests' / 'charts' / 'istio' / ('istiod-values-%s.yaml' % PINNED)).read_text())['_internal_defaults_do_not_set']
ROLE_VALUES = yaml.safe_load((ROLE / 'files' / 'istiod-values.yml').read_text())
# istiod's environment: variable names are pilot's, not the chart's
FREE_FORM = {('env',)}
# ENABLE_NATIVE_SIDECARS in pilot/pkg/features/pilot.go of 1.28: any other value silently means "off"
NATIVE_SIDECAR_VALUES = {'true', 'false', 'auto'}


def test_the_pinned_chart_version_has_a_values_copy_to_check_against():
    assert isinstance(CHART, dict) and 'revision' in CHART and 'meshConfig' in CHART


def test_every_key_the_role_gives_istiod_is_a_key_of_the_chart():
    # the install task adds only the revision to the shipped file
    task = (ROLE / 'tasks' / 'helm.yml').read_text()
    assert "combine({'revision':" in task
    assert unknown_keys(dict(ROLE_VALUES, revision='asm-1-28'), CHART, FREE_FORM) == []


def test_a_misspelt_key_is_caught():
    assert unknown_keys({'meshconfig': {'enablePrometheusMerge': True}, 'revison': 'x'}, CHART, FREE_FORM) == ['meshconfig', 'revison']


def test_native_sidecars_are_switched_on_with_a_value_pilot_understands():
    # weights are downloaded by KAITO's init containers: the proxy must run before them (README, STRICT pitfalls)
    native = ROLE_VALUES['env']['ENABLE_NATIVE_SIDECARS']
    assert native in NATIVE_SIDECAR_VALUES and native == 'true'
    assert ROLE_VALUES['meshConfig']['enablePrometheusMerge'] is True
