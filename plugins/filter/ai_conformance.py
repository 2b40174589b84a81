# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files of a CNCF Kubernetes AI Conformance self-assessment from what aiplatform.aks.ai_conformance found
(ai_conformance_files), and the program validator's rules applied to them before anyone opens a pull request
(ai_conformance_submission_problems). Documented in the .yml file of each.

The HTML page is built here rather than from a Jinja2 template in the role: every piece of text reaches the page
through one escaping function, the filter needs no path to the role's templates, and the unit tests render it directly.
Nothing written depends on the time of the run, so a second run with the same findings leaves every file unchanged.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from xml.etree import ElementTree

import yaml
from ansible.errors import AnsibleFilterError

IMPLEMENTED = 'Implemented'
NOT_IMPLEMENTED = 'Not Implemented'
PARTIAL = 'Partially Implemented'
NOT_APPLICABLE = 'N/A'
STATUSES = (IMPLEMENTED, NOT_IMPLEMENTED, PARTIAL, NOT_APPLICABLE)
STATUS_CLASSES = {IMPLEMENTED: 'implemented', NOT_IMPLEMENTED: 'not-implemented', PARTIAL: 'partial', NOT_APPLICABLE: 'na'}

# PRODUCT.yaml metadata in the program's order, each with the role variable that fills it (None: from the checklist)
METADATA = (
    ('kubernetesVersion', None),
    ('platformName', 'ai_conformance_platform_name'),
    ('platformVersion', 'ai_conformance_platform_version'),
    ('vendorName', 'ai_conformance_vendor_name'),
    ('websiteUrl', 'ai_conformance_website_url'),
    ('repoUrl', 'ai_conformance_repo_url'),
    ('documentationUrl', 'ai_conformance_documentation_url'),
    ('productLogoUrl', 'ai_conformance_product_logo_url'),
    ('description', 'ai_conformance_description'),
    ('contactEmailAddress', 'ai_conformance_contact_email'),
    ('k8sConformanceUrl', 'ai_conformance_k8s_conformance_url'),
)
OPTIONAL_METADATA = ('repoUrl',)
# checklists from this version on have the field; the program's instructions ask every submission for it (a platform is
# Kubernetes conformant before it is AI conformant), so earlier ones get it added to their metadata
K8S_CONFORMANCE_FIELD_SINCE = (1, 35)
K8S_CONFORMANCE_URL = re.compile(r'^https://github\.com/cncf/k8s-conformance/tree/(master|main)/v\d+\.\d+/[^/]+/?$')
LOGO_SUFFIXES = ('.svg', '.eps', '.ai')
PRODUCT = 'PRODUCT.yaml'
# the upstream suite is a Go package; ours is named after the module, so no one mistakes it for the upstream tests
PACKAGE = 'aiplatform.aks/ai_conformance'
ACRONYMS = {'ai': 'AI', 'dra': 'DRA', 'gpu': 'GPU', 'crd': 'CRD'}
# role variables are prefixed with their role's name (longest first: prometheus_monitoring before a shorter match)
ROLES = ('prometheus_monitoring', 'model_workspace', 'ai_scheduling', 'gpu_operator', 'aks_cluster', 'nodepools', 'istio', 'kaito')
METRICS_REQUIREMENTS = ('accelerator_metrics', 'ai_service_metrics')


class _Dumper(yaml.SafeDumper):
    """SafeDumper that also writes Ansible's tagged strings, mappings and lists as the plain ones they are."""


_Dumper.add_multi_representer(str, yaml.representer.SafeRepresenter.represent_str)
_Dumper.add_multi_representer(dict, yaml.representer.SafeRepresenter.represent_dict)
_Dumper.add_multi_representer(list, yaml.representer.SafeRepresenter.represent_list)


def _snake(name):
    return re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', name).lower()


def _minor(version):
    found = re.match(r'^v?(\d+)\.(\d+)', str(version or ''))
    return (int(found.group(1)), int(found.group(2))) if found else None


def _checklist_items(checklist):
    """[(category, item)] in the checklist's order."""
    if not isinstance(checklist, dict) or not isinstance(checklist.get('spec'), dict):
        raise AnsibleFilterError('ai_conformance: the checklist must be a parsed AIConformance-1.NN.yaml (metadata and spec), got %r'
                                 % type(checklist).__name__)
    return [(category, item) for category, items in checklist['spec'].items() for item in items or []]


def _result_rows(result):
    if not isinstance(result, dict) or not isinstance(result.get('requirements'), list):
        raise AnsibleFilterError('ai_conformance_files: the input must be what aiplatform.aks.ai_conformance returns (with requirements), got %r'
                                 % type(result).__name__)
    return dict((row.get('id'), row) for row in result['requirements'])


def test_name(requirement_id):
    """gang_scheduling -> TestGangScheduling, the Go test naming of the upstream suite."""
    return 'Test' + ''.join(ACRONYMS.get(word, word.capitalize()) for word in str(requirement_id).split('_'))


def evidence_path(requirement_id):
    return 'evidence/%s.md' % requirement_id


def met(row):
    """True, False (a MUST not met), or None (skipped: N/A, or a SHOULD not fully met)."""
    if row['status'] == IMPLEMENTED:
        return True
    if row['status'] == NOT_APPLICABLE or row['level'] != 'MUST':
        return None
    return False


def todo(row):
    """What to do about a requirement that is not Implemented (empty when it is, or N/A)."""
    status, variable = row.get('status'), row.get('remediation') or ''
    if status in (IMPLEMENTED, NOT_APPLICABLE):
        return ''
    role = next((name for name in ROLES if variable.startswith(name + '_')), None)
    fix = ('Set %s (role %s) and run the playbook again, then this role.' % (variable, role) if role else
           'Set %s and run the playbook again, then this role.' % variable) if variable else ''
    if status == PARTIAL and row.get('probe') != 'functional':
        how = ('set ai_conformance_prometheus_url so that a query shows the series' if row.get('id') in METRICS_REQUIREMENTS else
               'run with ai_conformance_functional: true where a functional probe exists, or attach a transcript of your own')
        return ' '.join(s for s in ('Static evidence shows presence only: %s.' % how, fix) if s)
    if row.get('notes') == 'no probe: check by hand':
        return 'No probe checks this requirement: check it by hand and add the evidence to the submission.'
    return fix or 'No role of this collection provides it: install a solution, then run this role again.'


def _product(result, checklist, metadata):
    rows = _result_rows(result)
    items = _checklist_items(checklist)
    version = (checklist.get('metadata') or {}).get('kubernetesVersion')
    given = metadata or {}
    meta = {}
    for field, variable in METADATA:
        value = version if variable is None else given.get(field, given.get(_snake(field), ''))
        value = '' if value is None else str(value)
        if not value and field in OPTIONAL_METADATA:
            continue
        meta[field] = value
    spec = {}
    for category, item in items:
        row = rows.get(item.get('id')) or {}
        spec.setdefault(category, []).append({
            'id': item.get('id'), 'description': item.get('description'), 'level': item.get('level'),
            'status': row.get('status') or '', 'evidence': [evidence_path(item.get('id'))] if row else [],
            'notes': row.get('notes') or ''})
    return {'metadata': meta, 'spec': spec}


def _fence(text):
    """`text` as a Markdown code span, fenced with more backticks than it holds."""
    if not text:
        return '(nothing)'
    run = max([len(m) for m in re.findall('`+', text)] or [0])
    tick = '`' * (run + 1)
    return '%s %s %s' % (tick, text, tick) if run else '%s%s%s' % (tick, text, tick)


def _md(text):
    """Prose for Markdown: collapsed to one line, with no HTML a renderer would act on."""
    return ' '.join(str(text if text is not None else '').split()).replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def _evidence_md(row, result):
    lines = ['# %s: %s' % (row['id'], row['status']), '',
             '%s requirement of the `%s` category, Kubernetes AI Conformance checklist v%s; cluster %s.' % (
                 row['level'], row['category'], result.get('checklist_version'), result.get('kubernetes_version')), '',
             '> ' + _md(row['description']), '',
             '## What was checked', '',
             'Probe: %s (%s).' % (row.get('probe') or 'static',
                                  'objects were created in a throwaway namespace and deleted' if row.get('probe') == 'functional' else 'reads only'),
             '']
    for index, item in enumerate(row.get('evidence') or [], 1):
        lines += ['%d. %s: **%s**' % (index, _md(item.get('check')), 'ok' if item.get('ok') else 'not ok'),
                  '   - call: %s' % _fence(' '.join(str(item.get('call')).split())),
                  '   - observed: %s' % _fence(' '.join(str(item.get('observed')).split()))]
    if not row.get('evidence'):
        lines.append('No API call: the module has no probe for this requirement.')
    lines += ['', '## Verdict', '', '**%s.** %s' % (row['status'], _md(row.get('notes')))]
    if todo(row):
        lines += ['', '## What to do', '', _md(todo(row))]
    return '\n'.join(lines) + '\n'


def _output_lines(row):
    """The requirement's transcript in the shape of `go test -v` output."""
    name = test_name(row['id'])
    verdict = {True: 'PASS', False: 'FAIL', None: 'SKIP'}[met(row)]
    lines = ['=== RUN   %s\n' % name]
    for item in row.get('evidence') or []:
        observed = ' '.join(str(item.get('observed')).split())
        lines.append('    %s: %s: %s -> %s (%s)\n' % (row['id'], item.get('check'), item.get('call'), observed, 'ok' if item.get('ok') else 'not ok'))
    lines.append('    %s: %s %s: %s\n' % (row['id'], row['level'], row['status'], row.get('notes') or ''))
    lines.append('--- %s: %s (0.00s)\n' % (verdict, name))
    return lines


def _results_json(rows):
    """A `go test -json` stream (test2json events, one per line). No Time field: as for cached test results, so the file
    depends on the findings only."""
    events = [{'Action': 'start', 'Package': PACKAGE}]
    for row in rows:
        name = test_name(row['id'])
        events.append({'Action': 'run', 'Package': PACKAGE, 'Test': name})
        events += [{'Action': 'output', 'Package': PACKAGE, 'Test': name, 'Output': line} for line in _output_lines(row)]
        events.append({'Action': {True: 'pass', False: 'fail', None: 'skip'}[met(row)], 'Package': PACKAGE, 'Test': name})
    verdict = 'fail' if any(met(row) is False for row in rows) else 'pass'
    events.append({'Action': 'output', 'Package': PACKAGE, 'Output': verdict.upper() + '\n'})
    events.append({'Action': verdict, 'Package': PACKAGE})
    return ''.join(json.dumps(event, separators=(',', ':')) + '\n' for event in events)


def _junit_xml(rows, result):
    """gotestsum's JUnit shape: testsuites > testsuite (the package, with properties) > one testcase per requirement."""
    failures = sum(1 for row in rows if met(row) is False)
    skipped = sum(1 for row in rows if met(row) is None)
    suites = ElementTree.Element('testsuites', {'tests': str(len(rows)), 'failures': str(failures), 'errors': '0', 'time': '0.000000'})
    suite = ElementTree.SubElement(suites, 'testsuite', {'tests': str(len(rows)), 'failures': str(failures), 'skipped': str(skipped),
                                                         'time': '0.000000', 'name': PACKAGE})
    properties = ElementTree.SubElement(suite, 'properties')
    for name, value in (('kubernetes.version', result.get('kubernetes_version')), ('checklist.version', result.get('checklist_version'))):
        ElementTree.SubElement(properties, 'property', {'name': name, 'value': str(value)})
    for row in rows:
        case = ElementTree.SubElement(suite, 'testcase', {'classname': PACKAGE, 'name': test_name(row['id']), 'time': '0.000000'})
        output = ''.join(_output_lines(row))
        if met(row) is False:
            failure = ElementTree.SubElement(case, 'failure', {'message': '%s %s' % (row['level'], row['status']), 'type': ''})
            failure.text = output + (todo(row) + '\n' if todo(row) else '')
        elif met(row) is None:
            ElementTree.SubElement(case, 'skipped', {'message': output})
    ElementTree.indent(suites, '\t')
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding='unicode') + '\n'


CSS = '''body{font-family:system-ui,sans-serif;margin:2em;color:#1b1b1b}
table{border-collapse:collapse;width:100%;margin-bottom:2em;table-layout:fixed}
th,td{border:1px solid #c8c8c8;padding:.4em .6em;vertical-align:top;text-align:left;overflow-wrap:anywhere}
#requirements th:nth-child(1){width:13%}#requirements th:nth-child(2){width:6%}#requirements th:nth-child(3){width:12%}
#requirements th:nth-child(4){width:31%}#requirements th:nth-child(5){width:19%}
th{background:#eef1f5}
.status{display:inline-block;padding:.15em .6em;border-radius:.8em;font-weight:600}
.implemented{background:#d5f2dc;color:#125c25}
.partial{background:#fff0c2;color:#6b4d00}
.not-implemented{background:#ffd9d6;color:#8c1a10}
.na{background:#e6e6e6;color:#444}
.ok{color:#125c25}.bad{color:#8c1a10}
tr.drift td{background:#fff4e0}
ul{margin:0;padding-left:1.2em}
code{font-size:.9em;background:#f3f3f3;padding:0 .2em}
.summary{font-size:1.1em}
'''


def _e(value):
    return html.escape('' if value is None else str(value), quote=True)


def _badge(status):
    return '<span class="status %s">%s</span>' % (STATUS_CLASSES.get(status, 'na'), _e(status or 'no status'))


def _requirement_row(row):
    checks = ''.join('<li class="%s">%s %s: <code>%s</code> &rarr; %s</li>' % (
        'ok' if item.get('ok') else 'bad', '&#10003;' if item.get('ok') else '&#10007;', _e(item.get('check')), _e(item.get('call')),
        _e(item.get('observed'))) for item in row.get('evidence') or [])
    return ('<tr data-requirement="%s" data-status="%s"><td><strong>%s</strong><br><small>%s</small></td><td>%s</td><td>%s</td>'
            '<td><ul>%s</ul><a href="%s">%s</a></td><td>%s</td><td>%s</td></tr>') % (
        _e(row['id']), _e(row['status']), _e(row['id']), _e(row['category']), _e(row['level']), _badge(row['status']),
        checks, _e(evidence_path(row['id'])), _e(evidence_path(row['id'])), _e(row.get('notes')), _e(todo(row)) or '&mdash;')


def _index_html(rows, result, meta, problems):
    summary = result.get('summary') or {}
    name = meta.get('platformName') or 'this platform'
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
             '<title>%s: Kubernetes AI Conformance v%s</title>' % (_e(name), _e(result.get('checklist_version'))),
             '<style>%s</style></head><body>' % CSS,
             '<h1>%s: Kubernetes AI Conformance v%s</h1>' % (_e(name), _e(result.get('checklist_version'))),
             '<p class="summary" id="summary">Cluster %s. MUST: %s of %s Implemented; SHOULD: %s of %s Implemented. %s</p>' % (
                 _e(result.get('kubernetes_version')), _e(summary.get('must_implemented')), _e(summary.get('must')),
                 _e(summary.get('should_implemented')), _e(summary.get('should')),
                 '<span class="status implemented">every MUST met</span>' if summary.get('passed') else
                 '<span class="status not-implemented">MUSTs not met: %s</span>' % _e(', '.join(summary.get('failed_musts') or []))),
             '<h2>Requirements</h2>',
             '<table id="requirements"><thead><tr><th>Requirement</th><th>Level</th><th>Status</th><th>Evidence</th><th>Notes</th>'
             '<th>What to do</th></tr></thead><tbody>']
    parts += [_requirement_row(row) for row in rows]
    parts.append('</tbody></table>')
    parts.append('<h2>Components</h2>')
    parts.append('<table id="components"><thead><tr><th>Component</th><th>Target</th><th>Installed</th><th>Drift</th></tr></thead><tbody>')
    for item in result.get('components') or []:
        parts.append('<tr data-component="%s"%s><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            _e(item.get('name')), ' class="drift"' if item.get('drift') else '', _e(item.get('name')),
            _e(item.get('target') or 'no target'), _e(item.get('installed') or 'not installed'),
            '<strong class="bad">drift</strong>' if item.get('drift') else '<span class="ok">as targeted</span>'))
    parts.append('</tbody></table>')
    parts.append('<h2>Submission checks</h2>')
    passes = '<li class="ok">PRODUCT.yaml passes the validator\'s rules that can be checked here.</li>'
    parts.append('<ul id="problems">%s</ul>' % (''.join('<li>%s</li>' % _e(p) for p in problems) or passes))
    parts.append('<p>Files: <a href="PRODUCT.yaml">PRODUCT.yaml</a>, <a href="results.json">results.json</a>, '
                 '<a href="junit.xml">junit.xml</a>, evidence/&lt;id&gt;.md.</p></body></html>')
    return '\n'.join(parts) + '\n'


def ai_conformance_files(result, checklist, metadata=None):
    """{relative path: text} of the self-assessment: PRODUCT.yaml, evidence/<id>.md, results.json, junit.xml, index.html."""
    _result_rows(result)
    product = _product(result, checklist, metadata)
    known = dict((item.get('id'), category) for category, item in _checklist_items(checklist))
    rows = [dict(row, category=row.get('category') or known.get(row.get('id'))) for row in result['requirements']
            if row.get('id') in known]
    files = {PRODUCT: '# Kubernetes AI Conformance self-assessment, written by the aiplatform.aks.ai_conformance role\n'
                      + yaml.dump(product, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100000, default_flow_style=False)}
    for row in rows:
        files[evidence_path(row['id'])] = _evidence_md(row, result)
    files['results.json'] = _results_json(rows)
    files['junit.xml'] = _junit_xml(rows, result)
    problems = ai_conformance_submission_problems(product, checklist, list(files) + ['index.html'])
    files['index.html'] = _index_html(rows, result, product['metadata'], problems)
    return files


def _metadata_problems(meta, version):
    problems = []
    for field, variable in METADATA:
        value = meta.get(field, meta.get(_snake(field)))
        hint = ' (set %s)' % variable if variable else ''
        if field == 'k8sConformanceUrl' and (_minor(version) or (0, 0)) < K8S_CONFORMANCE_FIELD_SINCE:
            hint += ': the program\'s instructions ask every submission for it, though this checklist has no field for it'
        if value is None or value == '':
            if field not in OPTIONAL_METADATA:
                problems.append('metadata.%s is %s%s' % (field, 'missing' if value is None else 'empty', hint))
            continue
        if not isinstance(value, str):
            problems.append('metadata.%s must be a string, got %r' % (field, value))
            continue
        if value.startswith('[') and value.endswith(']'):
            problems.append('metadata.%s still holds the checklist placeholder %s%s' % (field, value, hint))
        elif field == 'k8sConformanceUrl' and not K8S_CONFORMANCE_URL.match(value):
            problems.append('metadata.k8sConformanceUrl %s is not a Kubernetes conformance submission URL of the form '
                            'https://github.com/cncf/k8s-conformance/tree/main/vX.Y/<product>%s' % (value, hint))
        elif field == 'productLogoUrl' and value.startswith('http') and not value.lower().endswith(LOGO_SUFFIXES):
            problems.append('metadata.productLogoUrl %s must link to an SVG, EPS or AI file%s' % (value, hint))
    return problems


def _evidence_problems(requirement_id, evidence, base, files):
    problems = []
    for link in evidence or []:
        if not isinstance(link, str) or not link:
            continue
        if link.startswith('http://') or link.startswith('https://'):
            continue  # the validator fetches URLs; here only files can be checked
        target = posixpath.normpath(posixpath.join(base, link))
        if link.startswith('/') or target.startswith('../') or target not in files:
            problems.append('%s: evidence %s is not a file of the submission (relative to %s)' % (requirement_id, link, PRODUCT))
    return problems


def ai_conformance_submission_problems(product, checklist, files=None):
    """Sentences, one per broken rule of the program's validator that can be checked without the network."""
    items = _checklist_items(checklist)
    if not isinstance(product, dict):
        return ['%s is not a mapping with metadata and spec' % PRODUCT]
    version = (checklist.get('metadata') or {}).get('kubernetesVersion')
    problems = []
    meta = product.get('metadata')
    if not isinstance(meta, dict):
        problems.append('%s has no metadata section' % PRODUCT)
    else:
        problems += _metadata_problems(meta, version)
        if meta.get('kubernetesVersion') not in (None, '') and _minor(meta.get('kubernetesVersion')) != _minor(version):
            problems.append('metadata.kubernetesVersion %s is not the checklist\'s %s' % (meta.get('kubernetesVersion'), version))
    spec = product.get('spec')
    if not isinstance(spec, dict):
        return problems + ['%s has no spec section' % PRODUCT]
    paths = set(posixpath.normpath(p) for p in files or [])
    product_path = next((p for p in sorted(paths) if posixpath.basename(p) == PRODUCT), PRODUCT)
    base = posixpath.dirname(product_path)
    wanted = dict((item.get('id'), (category, item)) for category, item in items)
    given = {}
    for category, entries in spec.items():
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                given.setdefault(entry.get('id'), (category, entry))
    for category in dict.fromkeys(category for category, _item in items):
        if category not in spec:
            problems.append('spec.%s is missing (a category of the checklist)' % category)
    for requirement_id in given:
        if requirement_id not in wanted:
            problems.append('spec.%s has %s, which the v%s checklist does not know' % (given[requirement_id][0], requirement_id, version))
    for requirement_id, (category, item) in wanted.items():
        if requirement_id not in given:
            problems.append('%s is missing from spec.%s' % (requirement_id, category))
            continue
        where, entry = given[requirement_id]
        if where != category:
            problems.append('%s is under spec.%s; the checklist has it under spec.%s' % (requirement_id, where, category))
        for field in ('description', 'level'):
            if entry.get(field) != item.get(field):
                problems.append('%s: %s differs from the checklist (it must be copied unchanged)' % (requirement_id, field))
        status = entry.get('status') or ''
        if item.get('level') == 'SHOULD' and not status and not entry.get('evidence'):
            continue  # a SHOULD may be left empty
        if status not in STATUSES:
            problems.append('%s: status %r is not one of %s' % (requirement_id, status, ', '.join(STATUSES)))
        if item.get('level') == 'MUST' and status != IMPLEMENTED:
            problems.append('%s is a MUST but its status is %r: it must be Implemented' % (requirement_id, status))
        if status == NOT_APPLICABLE and not entry.get('notes'):
            problems.append('%s: N/A needs notes that say why the requirement does not apply' % requirement_id)
        problems += _evidence_problems(requirement_id, entry.get('evidence'), base, paths)
    return problems


class FilterModule(object):

    def filters(self):
        return {'ai_conformance_files': ai_conformance_files, 'ai_conformance_submission_problems': ai_conformance_submission_problems}
