# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CNCF AI Conformance checklist (AIConformance-1.NN.yaml, parsed): its version and its requirements in order.

The file's shape: `metadata.kubernetesVersion` (v1.34) and `spec.<category>` lists of items with `id`,
`description`, `level` (MUST or SHOULD), `status`, `evidence` and `notes`. A report copies id, description and level
unchanged, so nothing here rewrites them.
"""

from __future__ import annotations

import re

LEVELS = ('MUST', 'SHOULD')
_VERSION = re.compile(r'^v?(\d+)\.(\d+)$')


def checklist_problems(checklist):
    """Sentences about a parsed checklist no report can be made from (each names the field)."""
    if not isinstance(checklist, dict):
        return ['checklist is not a parsed checklist (a mapping with metadata and spec), got %s' % type(checklist).__name__]
    problems = []
    version = (checklist.get('metadata') or {}).get('kubernetesVersion') if isinstance(checklist.get('metadata'), dict) else None
    if not _VERSION.match(str(version or '')):
        problems.append('checklist.metadata.kubernetesVersion %r is not a Kubernetes minor version such as v1.34' % (version,))
    spec = checklist.get('spec')
    if not isinstance(spec, dict) or not spec:
        return problems + ['checklist.spec is not a mapping of categories to requirement lists']
    seen = set()
    for category, items in spec.items():
        if not isinstance(items, list):
            problems.append('checklist.spec.%s is not a list of requirements' % category)
            continue
        for index, item in enumerate(items):
            where = 'checklist.spec.%s[%d]' % (category, index)
            if not isinstance(item, dict):
                problems.append('%s is not a mapping' % where)
                continue
            for field in ('id', 'description'):
                if not isinstance(item.get(field), str) or not item.get(field).strip():
                    problems.append('%s.%s is missing or empty' % (where, field))
            if item.get('level') not in LEVELS:
                problems.append('%s.level %r is not one of %s' % (where, item.get('level'), ', '.join(LEVELS)))
            if item.get('id') in seen:
                problems.append('%s.id %r appears twice' % (where, item.get('id')))
            seen.add(item.get('id'))
    return problems


def checklist_version(checklist):
    """'1.34' from metadata.kubernetesVersion 'v1.34'."""
    major, minor = _VERSION.match(str(checklist['metadata']['kubernetesVersion'])).groups()
    return '%s.%s' % (major, minor)


def requirements(checklist):
    """The requirements in checklist order: {id, category, level, description}, the text as the file has it."""
    return [{'id': item['id'], 'category': category, 'level': item['level'], 'description': item['description']}
            for category, items in checklist['spec'].items() for item in items]
