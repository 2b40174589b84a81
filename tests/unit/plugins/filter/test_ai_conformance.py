"""ai_conformance_files and ai_conformance_submission_problems: PRODUCT.yaml against the 1.34 checklist copy, each rule
of the program's validator caught, junit.xml and results.json in the upstream suite's shapes, HTML escaping."""

import copy
import json
from xml.etree import ElementTree

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.filter.ai_conformance import ai_conformance_files as files
from ansible_collections.aiplatform.aks.plugins.filter.ai_conformance import ai_conformance_submission_problems as problems
from tests.unit.plugins.filter.conformance_result import METADATA, checklist, result

STATUSES = ('Implemented', 'Not Implemented', 'Partially Implemented', 'N/A')
FAILED = {'cluster_autoscaling', 'pod_autoscaling', 'secure_accelerator_access'}


def written(version='1.34', metadata=None, found=None):
    return files(found or result(version), checklist(version), METADATA if metadata is None else metadata)


def product(version='1.34', **metadata):
    return yaml.safe_load(written(version, dict(METADATA, **metadata))['PRODUCT.yaml'])


def checklist_items(version='1.34'):
    return [(category, item) for category, items in checklist(version)['spec'].items() for item in items]


def test_product_yaml_copies_ids_descriptions_and_levels_from_the_checklist_with_valid_statuses_and_evidence_files():
    out = written()
    doc = yaml.safe_load(out['PRODUCT.yaml'])
    assert doc['metadata']['kubernetesVersion'] == 'v1.34'
    assert doc['metadata']['platformName'] == METADATA['platformName']
    assert doc['metadata']['k8sConformanceUrl'] == ''  # asked of every submission, though the 1.34 checklist has no field
    got = [(category, item['id'], item['description'], item['level']) for category, items in doc['spec'].items() for item in items]
    assert got == [(category, item['id'], item['description'], item['level']) for category, item in checklist_items()]
    for items in doc['spec'].values():
        for item in items:
            assert item['status'] in STATUSES
            assert item['evidence'] == ['evidence/%s.md' % item['id']]
            assert item['evidence'][0] in out
    statuses = dict((item['id'], item['status']) for items in doc['spec'].values() for item in items)
    assert statuses['pod_autoscaling'] == 'Not Implemented' and statuses['gang_scheduling'] == 'Implemented'


def test_the_only_problems_of_the_fabricated_report_are_the_unmet_musts():
    out = written()
    found = problems(yaml.safe_load(out['PRODUCT.yaml']), checklist('1.34'), list(out))
    assert found == ["metadata.k8sConformanceUrl is empty (set ai_conformance_k8s_conformance_url): the program's instructions ask every "
                     "submission for it, though this checklist has no field for it",
                     "cluster_autoscaling is a MUST but its status is 'Partially Implemented': it must be Implemented",
                     "pod_autoscaling is a MUST but its status is 'Not Implemented': it must be Implemented",
                     "secure_accelerator_access is a MUST but its status is 'Partially Implemented': it must be Implemented"]


def passing_product(version='1.34'):
    doc = product(version, k8sConformanceUrl='https://github.com/cncf/k8s-conformance/tree/master/v%s/contoso' % version)
    for items in doc['spec'].values():
        for item in items:
            item['status'] = 'Implemented'
    return doc


def test_a_product_with_every_must_implemented_has_no_problem():
    doc = passing_product()
    assert problems(doc, checklist('1.34'), evidence_files()) == []


def evidence_files(version='1.34'):
    return ['PRODUCT.yaml'] + ['evidence/%s.md' % item['id'] for _category, item in checklist_items(version)]


@pytest.mark.parametrize('change, expected', [
    (lambda d: d['spec']['schedulingOrchestration'].pop(0), 'gang_scheduling is missing from spec.schedulingOrchestration'),
    (lambda d: d['spec']['security'].append({'id': 'quantum_isolation', 'status': 'Implemented'}),
     'spec.security has quantum_isolation, which the vv1.34 checklist does not know'),
    (lambda d: d['spec']['networking'][0].update(status='Done'), "ai_inference: status 'Done' is not one of Implemented, Not Implemented"),
    (lambda d: d['spec']['operator'][0].update(status='Partially Implemented'),
     "robust_controller is a MUST but its status is 'Partially Implemented': it must be Implemented"),
    (lambda d: d['spec']['operator'][0].update(status='N/A', notes=''), 'robust_controller: N/A needs notes'),
    (lambda d: d['spec']['observability'][0].update(evidence=['evidence/gpu-metrics.md']),
     'accelerator_metrics: evidence evidence/gpu-metrics.md is not a file of the submission'),
    (lambda d: d['spec']['observability'][0].update(evidence=['../../elsewhere/evidence/accelerator_metrics.md']),
     'accelerator_metrics: evidence ../../elsewhere/evidence/accelerator_metrics.md is not a file'),
    (lambda d: d['metadata'].update(platformName='[Platform Name]'),
     'metadata.platformName still holds the checklist placeholder [Platform Name] (set ai_conformance_platform_name)'),
    (lambda d: d['metadata'].update(vendorName=''), 'metadata.vendorName is empty (set ai_conformance_vendor_name)'),
    (lambda d: d['metadata'].pop('contactEmailAddress'), 'metadata.contactEmailAddress is missing (set ai_conformance_contact_email)'),
    (lambda d: d['metadata'].update(productLogoUrl='https://contoso.example/logo.png'), 'productLogoUrl https://contoso.example/logo.png must link to an SVG'),
    (lambda d: d['spec']['accelerators'][0].update(level='SHOULD'), 'dra_support: level differs from the checklist'),
    (lambda d: d['spec']['accelerators'][0].update(description='DRA.'), 'dra_support: description differs from the checklist'),
    (lambda d: d['spec'].pop('operator'), 'spec.operator is missing'),
])
def test_each_rule_of_the_validator_is_caught(change, expected):
    doc = passing_product()
    change(doc)
    found = problems(doc, checklist('1.34'), evidence_files())
    assert any(expected in p for p in found), found


def test_1_35_needs_a_k8s_conformance_url_of_the_programs_form():
    doc = passing_product('1.35')
    assert problems(doc, checklist('1.35'), evidence_files('1.35')) == []
    doc['metadata'].pop('k8sConformanceUrl')
    assert problems(doc, checklist('1.35'), evidence_files('1.35')) == [
        'metadata.k8sConformanceUrl is missing (set ai_conformance_k8s_conformance_url)']
    doc['metadata']['k8sConformanceUrl'] = 'https://github.com/cncf/k8s-conformance/blob/master/v1.35/contoso/PRODUCT.yaml'
    assert problems(doc, checklist('1.35'), evidence_files('1.35'))[0].startswith(
        'metadata.k8sConformanceUrl https://github.com/cncf/k8s-conformance/blob/master/v1.35/contoso/PRODUCT.yaml is not a Kubernetes')
    written_135 = yaml.safe_load(written('1.35', dict(METADATA, k8sConformanceUrl=''))['PRODUCT.yaml'])
    assert written_135['metadata']['k8sConformanceUrl'] == ''


def test_a_should_left_empty_is_allowed_and_a_should_na_carries_its_reason():
    doc = passing_product('1.35')
    doc['spec']['accelerators'][1].update(status='', evidence=[], notes='')
    assert problems(doc, checklist('1.35'), evidence_files('1.35')) == []
    made = yaml.safe_load(written('1.35')['PRODUCT.yaml'])
    should = next(item for item in made['spec']['accelerators'] if item['level'] == 'SHOULD')
    assert should['status'] == 'N/A' and should['notes']


def test_evidence_paths_resolve_relative_to_product_yaml():
    doc = passing_product()
    nested = ['v1.34/contoso/' + path for path in evidence_files()]
    assert problems(doc, checklist('1.34'), nested) == []
    assert any('not a file' in p for p in problems(doc, checklist('1.34'), ['v1.34/contoso/PRODUCT.yaml']))


def test_junit_xml_has_one_testcase_per_requirement_failures_for_unmet_musts_and_skips_with_the_reason():
    out = written('1.35')
    root = ElementTree.fromstring(out['junit.xml'])
    assert root.tag == 'testsuites'
    suite = root.find('testsuite')
    cases = suite.findall('testcase')
    ids = [item['id'] for _c, item in checklist_items('1.35')]
    assert len(cases) == len(ids) == int(suite.get('tests')) == int(root.get('tests'))
    names = [case.get('name') for case in cases]
    assert names[:3] == ['TestDRASupport', 'TestDriverRuntimeManagement', 'TestGPUSharing']
    failed = dict((case.get('name'), case.find('failure')) for case in cases if case.find('failure') is not None)
    assert set(failed) == {'TestClusterAutoscaling', 'TestPodAutoscaling', 'TestSecureAcceleratorAccess'}
    assert int(suite.get('failures')) == int(root.get('failures')) == 3
    assert failed['TestPodAutoscaling'].get('message') == 'MUST Not Implemented'
    assert 'Set ai_scheduling_keda_install (role ai_scheduling)' in failed['TestPodAutoscaling'].text
    skipped = [case for case in cases if case.find('skipped') is not None]
    assert len(skipped) == int(suite.get('skipped')) == 3  # the three SHOULDs of 1.35, N/A
    assert all('no node advertises a virtual GPU' in case.find('skipped').get('message') for case in skipped)
    assert suite.find('properties/property[@name="kubernetes.version"]').get('value') == 'v1.34.2'


def test_results_json_is_a_go_test_json_stream_with_the_verdict_of_each_requirement():
    out = written()
    events = [json.loads(line) for line in out['results.json'].splitlines()]
    assert all(set(e) <= {'Action', 'Package', 'Test', 'Output'} for e in events)  # no Time: the file depends on the findings only
    assert events[0] == {'Action': 'start', 'Package': 'aiplatform.aks/ai_conformance'}
    verdicts = dict((e['Test'], e['Action']) for e in events if e.get('Test') and e['Action'] in ('pass', 'fail', 'skip'))
    assert verdicts == {'TestDRASupport': 'pass', 'TestAIInference': 'pass', 'TestGangScheduling': 'pass', 'TestClusterAutoscaling': 'fail',
                        'TestPodAutoscaling': 'fail', 'TestAcceleratorMetrics': 'pass', 'TestAIServiceMetrics': 'pass',
                        'TestSecureAcceleratorAccess': 'fail', 'TestRobustController': 'pass'}
    assert [e['Action'] for e in events if 'Test' not in e] == ['start', 'output', 'fail']
    output = ''.join(e.get('Output', '') for e in events if e.get('Test') == 'TestPodAutoscaling')
    assert output.startswith('=== RUN   TestPodAutoscaling\n') and output.endswith('--- FAIL: TestPodAutoscaling (0.00s)\n')
    assert 'QUERY' not in output and 'GET apiregistration.k8s.io/v1 APIService v1beta1.external.metrics.k8s.io' in output


def test_html_escapes_every_text_and_marks_statuses_and_drift():
    found = result()
    found['requirements'][-1]['notes'] = '<script>alert("x")</script> & more'
    page = written(found=found)['index.html']
    assert '<script>' not in page and '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more' in page
    assert 'AI Platform on AKS &lt;aiplatform.aks&gt;' in page
    assert '&lt;instanceType&gt; must be empty when preferredNodes are set &amp; &quot;quoted&quot;' in page
    assert '<tr data-requirement="pod_autoscaling" data-status="Not Implemented">' in page
    assert '<span class="status not-implemented">Not Implemented</span>' in page
    assert '<tr data-component="kaito" class="drift">' in page and '<tr data-component="gpu_operator">' in page


def test_evidence_markdown_names_the_calls_the_observations_and_what_to_do():
    text = written()['evidence/pod_autoscaling.md']
    assert text.startswith('# pod_autoscaling: Not Implemented\n')
    assert '`GET apiregistration.k8s.io/v1 APIService v1beta1.external.metrics.k8s.io`' in text
    assert '`False (FailedDiscoveryCheck)`' in text and '**not ok**' in text
    assert '## What to do\n\nSet ai_scheduling_keda_install (role ai_scheduling)' in text
    assert '&lt;instanceType&gt;' not in written()['evidence/robust_controller.md']  # observations are code spans
    assert '## What to do' not in written()['evidence/gang_scheduling.md']


def test_the_files_do_not_change_between_two_runs_with_the_same_findings():
    assert written() == written()


def test_input_that_is_not_a_module_result_or_a_checklist_is_refused():
    with pytest.raises(AnsibleFilterError, match='what aiplatform.aks.ai_conformance returns'):
        files({'rc': 0}, checklist('1.34'), METADATA)
    with pytest.raises(AnsibleFilterError, match='parsed AIConformance-1.NN.yaml'):
        files(result(), 'AIConformance-1.34.yaml', METADATA)
    assert problems('PRODUCT', checklist('1.34'), []) == ['PRODUCT.yaml is not a mapping with metadata and spec']


def test_the_result_is_not_modified():
    found = result()
    before = copy.deepcopy(found)
    written(found=found)
    assert found == before
