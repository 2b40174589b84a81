"""The ai_conformance role on the test apiserver (Kubernetes 1.20) with the 1.34 checklist.

The bed serves no resource.k8s.io (no DRA) and has no GPU node, so MUSTs are unmet whatever other test files left
installed: the role writes every file, then fails naming them, or only reports with ai_conformance_fail_on_must: false.
"""

import json
from xml.etree import ElementTree

import pytest
import yaml

from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

ASSERT_TASK = 'AI conformance | Every MUST is met'
WRITE_TASK = 'AI conformance | Write the report'


def ids(version='1.34'):
    from tests.unit.plugins.filter.conformance_result import checklist
    return [item['id'] for items in checklist(version)['spec'].values() for item in items]


def converge(k8s_env, output, **variables):
    return run_playbook('ai_conformance_role.yml', dict({'ai_conformance_version': '1.34', 'ai_conformance_output_dir': str(output),
                                                         'ai_conformance_platform_name': 'Test bed'}, **variables), env=k8s_env)


def test_the_role_writes_every_file_and_fails_naming_the_unmet_musts(bed, k8s_env, tmp_path):
    run = converge(k8s_env, tmp_path)
    assert run.rc != 0
    assert [name.split(' : ')[-1] for name in run.failures] == [ASSERT_TASK], run.failures
    message = next(iter(run.failures.values()))
    assert message.startswith('MUSTs of the v1.34 checklist not met: dra_support: Not Implemented')
    assert 'secure_accelerator_access: Not Implemented' in message  # no GPU node on the bed
    assert str(tmp_path) in message and 'ai_conformance_fail_on_must' in message
    expected = {'PRODUCT.yaml', 'results.json', 'junit.xml', 'index.html'} | set('evidence/%s.md' % i for i in ids())
    assert set(str(p.relative_to(tmp_path)) for p in tmp_path.rglob('*') if p.is_file()) == expected
    assert all(oct(p.stat().st_mode)[-3:] == '644' for p in tmp_path.rglob('*') if p.is_file())
    product = yaml.safe_load((tmp_path / 'PRODUCT.yaml').read_text())
    statuses = dict((item['id'], item['status']) for items in product['spec'].values() for item in items)
    assert list(statuses) == ids() and statuses['dra_support'] == 'Not Implemented'
    assert 'not served' in (tmp_path / 'evidence' / 'dra_support.md').read_text()
    cases = ElementTree.fromstring((tmp_path / 'junit.xml').read_text()).findall('testsuite/testcase')
    assert len(cases) == 9 and any(c.get('name') == 'TestDRASupport' and c.find('failure') is not None for c in cases)
    events = [json.loads(line) for line in (tmp_path / 'results.json').read_text().splitlines()]
    assert events[-1]['Action'] == 'fail'
    assert 'data-requirement="dra_support" data-status="Not Implemented"' in (tmp_path / 'index.html').read_text()
    lines = run.result('AI conformance | Say each requirement\'s status')['results']
    assert [r['item']['id'] for r in lines] == ids()
    assert lines[0]['msg'].startswith('Not Implemented: dra_support (MUST, static)')
    problems = run.result("AI conformance | Report the submission's problems")['msg']
    assert 'metadata.vendorName is empty (set ai_conformance_vendor_name)' in problems
    assert "dra_support is a MUST but its status is 'Not Implemented': it must be Implemented" in problems


def test_only_reporting_succeeds_and_a_second_run_changes_nothing(bed, k8s_env, tmp_path):
    first = converge(k8s_env, tmp_path, ai_conformance_fail_on_must=False)
    assert first.rc == 0, first.failures
    assert first.result(WRITE_TASK)['changed'] is True
    second = converge(k8s_env, tmp_path, ai_conformance_fail_on_must=False)
    assert second.rc == 0, second.failures
    assert second.changed == 0, [name for name, r in second.tasks.items() if r.get('changed')]


def test_without_a_version_the_servers_minor_is_used_and_the_1_20_bed_has_no_checklist(bed, k8s_env, tmp_path):
    run = converge(k8s_env, tmp_path, ai_conformance_version='')
    assert run.rc != 0
    message = next(iter(run.failures.values()))
    assert message == ('No AI conformance checklist for Kubernetes 1.20 (the server runs %s): set ai_conformance_version to one of '
                       '1.33, 1.34, 1.35, 1.36, 1.37' % message.split('server runs ')[1].split(')')[0])
    assert message.split('server runs ')[1].startswith('v1.20.')
    assert not any(tmp_path.iterdir())
