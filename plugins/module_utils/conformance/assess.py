# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One assessment of a cluster against a checklist: each requirement's static probe, then (when asked) its
functional probe in a context that always removes what it made, then the verdict. What ai_conformance returns."""

from __future__ import annotations

import re

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance import static
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.checklist import checklist_problems, checklist_version, requirements
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.components import components
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.context import DEFAULT_SETTINGS, ProbeContext
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.probes import PROBES
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.verdict import FAIL, IMPLEMENTED, PASS, decide, summarize
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError

_PREFIX = re.compile(r'^[a-z0-9]([-a-z0-9]{0,52}[a-z0-9])?$')  # room for '-' and 8 random characters in a namespace name


def input_problems(params):
    """Sentences about the options no assessment could use, each naming the option."""
    problems = checklist_problems(params.get('checklist'))
    probes = params.get('probes') or {}
    prefix = probes.get('namespace_prefix')
    if prefix is not None and not _PREFIX.match(prefix):
        problems.append("probes.namespace_prefix %r is not the start of a namespace name (up to 54 lower case letters, digits or '-', "
                        'starting and ending with a letter or digit)' % prefix)
    for name in ('timeout', 'scale_up_timeout'):
        if probes.get(name) is not None and probes[name] <= 0:
            problems.append('probes.%s must be more than 0 seconds, got %s' % (name, probes[name]))
    url = params.get('prometheus_url') or ''
    if url and not re.match(r'^https?://[^/\s]+', url):
        problems.append('prometheus_url %r is not an http:// or https:// URL (the base of a Prometheus HTTP API)' % url)
    for index, pool in enumerate(params.get('node_pools') or []):
        if not isinstance(pool, dict) or not pool.get('name'):
            problems.append('node_pools item %d is not an AKS pool with a name (aks_cluster_info clusters[0].pools)' % (index + 1))
    for index, item in enumerate(params.get('components') or []):
        if not item.get('name'):
            problems.append('components item %d has no name' % (index + 1))
    return problems


def _static(cluster, requirement_id):
    probe = static.PROBES.get(requirement_id)
    if probe is None:
        return None
    try:
        return probe(cluster)
    except (K8sError, static.QueryError) as exc:
        return static.finding(FAIL, 'the probe could not read what it needs: %s' % exc,
                              [static.evidence('static probe of %s' % requirement_id, 'read', str(exc), False)])


def _functional(client, settings, requirement_id, found, objects):
    """The functional probe's result, or None when there is none, the static probe already failed, or the probe is
    opt-in and was not asked for (it returns None, having made nothing)."""
    probe = PROBES.get(requirement_id)
    if probe is None or (found is not None and found['outcome'] != PASS):
        return None
    ctx = ProbeContext(client, settings)
    result = None
    try:
        result = probe(ctx)
    except K8sError as exc:
        result = {'ok': False, 'evidence': [], 'notes': 'the probe stopped: %s' % exc}
    finally:
        leftovers = ctx.cleanup()
        objects.extend(ctx.objects)
    if result is None:  # an opt-in probe not asked for: the static finding decides
        return None
    if leftovers:
        result = dict(result, notes='%s; not removed: %s' % (result.get('notes') or '', '; '.join(leftovers)))
    return result


def assess(client, params, run_functional):
    """Everything ai_conformance returns but `changed`."""
    settings = dict(DEFAULT_SETTINGS, **dict((k, v) for k, v in (params.get('probes') or {}).items() if v is not None))
    cluster = static.Cluster(client, settings, params.get('node_pools'), params.get('prometheus_url'))
    objects = []
    rows = []
    for requirement in requirements(params['checklist']):
        found = _static(cluster, requirement['id'])
        result = _functional(client, settings, requirement['id'], found, objects) if run_functional else None
        status, notes, probe = decide(requirement['id'], requirement['level'], found, result,
                                      probe_exists=requirement['id'] in PROBES)
        rows.append(dict(requirement, status=status, notes=notes, probe=probe,
                         evidence=((found or {}).get('evidence') or []) + ((result or {}).get('evidence') or []),
                         remediation='' if status == IMPLEMENTED else (found or {}).get('remediation') or ''))
    return {
        'kubernetes_version': client.version['kubernetes']['gitVersion'],
        'checklist_version': checklist_version(params['checklist']),
        'requirements': rows,
        'components': components(client, params.get('components')),
        'summary': summarize(rows),
        'probe_objects': objects,
    }
