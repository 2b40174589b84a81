"""Checklist parsing against the five copies the role ships (1.33-1.37), and the refusals of a malformed one."""

import hashlib
from pathlib import Path

import pytest
import yaml

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import checklist, static

CHECKLISTS = Path(__file__).parents[5] / 'roles' / 'ai_conformance' / 'files' / 'checklists'
MUSTS = ['ai_inference', 'gang_scheduling', 'cluster_autoscaling', 'pod_autoscaling', 'accelerator_metrics', 'ai_service_metrics',
         'secure_accelerator_access', 'robust_controller']
EXPECTED = {
    '1.33': (['dra_support'] + MUSTS, {'dra_support': 'SHOULD'}),
    '1.34': (['dra_support'] + MUSTS, {}),
    '1.35': (['dra_support', 'driver_runtime_management', 'gpu_sharing', 'virtualized_accelerator'] + MUSTS, {}),
    '1.36': (['driver_runtime_management', 'gpu_sharing', 'virtualized_accelerator', 'ai_inference', 'advanced_inference_ingress',
              'high_performance_networking', 'disaggregated_inference'] + MUSTS[1:], {}),
    '1.37': (['driver_runtime_management', 'gpu_sharing', 'virtualized_accelerator', 'ai_inference', 'advanced_inference_ingress',
              'high_performance_networking', 'disaggregated_inference'] + MUSTS[1:-1] + ['workload_sandboxing', 'robust_controller'], {}),
}
SHOULDS = {'driver_runtime_management', 'gpu_sharing', 'virtualized_accelerator', 'advanced_inference_ingress', 'high_performance_networking',
           'disaggregated_inference', 'workload_sandboxing'}


def load(version):
    return yaml.safe_load((CHECKLISTS / ('AIConformance-%s.yaml' % version)).read_text())


@pytest.mark.parametrize('version', sorted(EXPECTED))
def test_each_copy_parses_in_order_with_verbatim_text(version):
    parsed = load(version)
    assert checklist.checklist_problems(parsed) == []
    assert checklist.checklist_version(parsed) == version
    found = checklist.requirements(parsed)
    ids, levels = EXPECTED[version]
    assert [r['id'] for r in found] == ids
    for row in found:
        want = levels.get(row['id'], 'SHOULD' if row['id'] in SHOULDS else 'MUST')
        assert row['level'] == want, row['id']
        item = next(i for i in parsed['spec'][row['category']] if i['id'] == row['id'])
        assert row['description'] == item['description'] and row['description'] in (CHECKLISTS / ('AIConformance-%s.yaml' % version)).read_text()
    # every id of every shipped checklist has a static probe
    assert set(ids) <= set(static.PROBES)


@pytest.mark.parametrize('version', sorted(EXPECTED))
def test_copies_match_the_blobs_of_their_provenance(version):
    """Each file is the one whose git blob the README records (upstream's, for 1.33-1.36)."""
    name = 'AIConformance-%s.yaml' % version
    data = (CHECKLISTS / name).read_bytes()
    blob = hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()
    row = next(line for line in (CHECKLISTS / 'README.md').read_text().splitlines() if line.startswith('| `%s`' % name))
    assert row.rstrip(' |').endswith(blob)


def test_1_37_keeps_the_upstream_wording():
    text = next(r['description'] for r in checklist.requirements(load('1.37')) if r['id'] == 'accelerator_metrics')
    assert 'makes they available' in text


@pytest.mark.parametrize('bad, words', [
    (None, ['checklist is not a parsed checklist']),
    ({'metadata': {'kubernetesVersion': '1.34.2'}, 'spec': {'a': []}}, ['kubernetesVersion', "'1.34.2'"]),
    ({'metadata': {'kubernetesVersion': 'v1.34'}}, ['checklist.spec']),
    ({'metadata': {'kubernetesVersion': 'v1.34'}, 'spec': {'networking': {'id': 'x'}}}, ['checklist.spec.networking is not a list']),
    ({'metadata': {'kubernetesVersion': 'v1.34'}, 'spec': {'networking': [{'id': 'x', 'description': 'd', 'level': 'MAY'}]}},
     ['checklist.spec.networking[0].level', "'MAY'"]),
    ({'metadata': {'kubernetesVersion': 'v1.34'}, 'spec': {'networking': [{'id': 'x', 'level': 'MUST'}]}},
     ['checklist.spec.networking[0].description is missing']),
    ({'metadata': {'kubernetesVersion': 'v1.34'},
      'spec': {'a': [{'id': 'x', 'description': 'd', 'level': 'MUST'}], 'b': [{'id': 'x', 'description': 'd', 'level': 'MUST'}]}},
     ["checklist.spec.b[0].id 'x' appears twice"]),
])
def test_malformed_checklists_are_named(bad, words):
    problems = ' '.join(checklist.checklist_problems(bad))
    assert all(word in problems for word in words), problems
