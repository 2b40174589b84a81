# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The status of a requirement from what its probes found, and the summary of a checklist's statuses.

A static probe reads objects; it shows that something is there, not that it works. So `Implemented` comes from a
static probe only where the checklist asks for presence (PRESENCE: the DRA APIs served) or where the static probe
measured the behaviour itself (a Prometheus query that found the series). Elsewhere a static pass is at most
`Partially Implemented` until the functional probe passed. The notes say which kind of evidence decided.
"""

from __future__ import annotations

IMPLEMENTED = 'Implemented'
NOT_IMPLEMENTED = 'Not Implemented'
PARTIAL = 'Partially Implemented'
NOT_APPLICABLE = 'N/A'
STATUSES = (IMPLEMENTED, NOT_IMPLEMENTED, PARTIAL, NOT_APPLICABLE)

PRESENCE = frozenset(['dra_support'])
NO_PROBE = 'no probe: check by hand'

# functional probes that run only when a setting of their own asks for them (they cost money): how to run them
OPT_IN = {'cluster_autoscaling': 'functional: true with probes.gpu_scale_up: true; costly: a GPU node is added'}

# what a static probe found: the thing is there, it is not, or the requirement does not apply (reason in notes)
PASS, FAIL, ABSENT = 'pass', 'fail', 'absent'


def decide(requirement_id, level, static, functional=None, probe_exists=False):
    """(status, notes, probe) of one requirement.

    `static` is the static probe's finding ({outcome: pass|fail|absent, notes, measured}) or None when the module
    has no probe for the id; `functional` the functional probe's result ({ok, notes, partial}) or None when it did
    not run; `probe_exists` whether the module has a functional probe for the id (the notes say how to show the
    behaviour: with that probe, or by hand)."""
    if functional is not None:
        said = 'Functional probe: %s' % (functional.get('notes') or ('passed' if functional.get('ok') else 'failed'))
        if not functional.get('ok'):
            return NOT_IMPLEMENTED, said, 'functional'
        return (PARTIAL if functional.get('partial') else IMPLEMENTED), said, 'functional'
    if static is None:
        return (NOT_IMPLEMENTED if level == 'MUST' else NOT_APPLICABLE), NO_PROBE, 'static'
    notes = static.get('notes') or ''
    outcome = static['outcome']
    if outcome == ABSENT:
        return NOT_APPLICABLE, 'Static evidence: %s' % (notes or 'the requirement does not apply'), 'static'
    if outcome == FAIL:
        return NOT_IMPLEMENTED, 'Static evidence: %s' % notes, 'static'
    if static.get('measured'):
        return IMPLEMENTED, 'Measured: %s' % notes, 'static'
    if requirement_id in PRESENCE:
        return IMPLEMENTED, 'Static evidence (the checklist asks for presence): %s' % notes, 'static'
    shown = ('run the functional probe (%s) to show the behaviour itself' % OPT_IN.get(requirement_id, 'functional: true') if probe_exists else
             'the module has no functional probe for it yet: show the behaviour by hand')
    return PARTIAL, 'Static evidence only: %s; %s' % (notes, shown), 'static'


def summarize(rows):
    """Counts by level and the MUSTs that are neither Implemented nor N/A (with notes); passed when there are none."""
    musts = [r for r in rows if r['level'] == 'MUST']
    shoulds = [r for r in rows if r['level'] == 'SHOULD']
    failed = [r['id'] for r in musts if r['status'] not in (IMPLEMENTED, NOT_APPLICABLE)]
    return {'must': len(musts), 'must_implemented': sum(1 for r in musts if r['status'] == IMPLEMENTED),
            'should': len(shoulds), 'should_implemented': sum(1 for r in shoulds if r['status'] == IMPLEMENTED),
            'failed_musts': failed, 'passed': not failed}
