# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness predicates that respect observedGeneration, and a bounded poll loop."""

from __future__ import annotations

import time

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError


def wait_spec(wait=False, timeout=300, sleep=1.0):
    """The wait options, typed once and documented by the aiplatform.aks.k8s_wait fragment, with a module's defaults."""
    return dict(
        wait=dict(type='bool', default=wait),
        wait_timeout=dict(type='int', default=timeout),
        wait_sleep=dict(type='float', default=sleep),
    )


def wait_problems(params):
    """Sentences about wait options no wait can use: a negative timeout, a sleep that is not positive."""
    problems = []
    if params.get('wait_timeout') is not None and params['wait_timeout'] < 0:
        problems.append('wait_timeout must be 0 or more seconds, got %s' % params['wait_timeout'])
    if params.get('wait_sleep') is not None and not params['wait_sleep'] > 0:
        problems.append('wait_sleep must be more than 0 seconds, got %s' % params['wait_sleep'])
    return problems


def _conditions(obj):
    return dict((c.get('type'), c) for c in (obj.get('status') or {}).get('conditions') or [])


def generation_observed(obj, condition=None):
    """False when the controller reports an older generation than the object's (a stale status)."""
    generation = obj.get('metadata', {}).get('generation')
    if generation is None:
        return True
    observed = (condition or {}).get('observedGeneration')
    if observed is None:
        observed = (obj.get('status') or {}).get('observedGeneration')
    return observed is None or observed >= generation


def condition_met(obj, ctype, status='True', reason=None):
    """(ok, why): condition `ctype` has `status` (and `reason`) for the current generation."""
    cond = _conditions(obj).get(ctype)
    if cond is None:
        return False, 'condition %s not reported yet' % ctype
    if not generation_observed(obj, cond):
        return False, 'condition %s is for an older generation (stale)' % ctype
    if str(cond.get('status')) != status or (reason and cond.get('reason') != reason):
        return False, 'condition %s is %s (%s: %s)' % (ctype, cond.get('status'), cond.get('reason'), cond.get('message'))
    return True, 'condition %s is %s' % (ctype, status)


def _rollout(obj, want_fields):
    status = obj.get('status') or {}
    if not generation_observed(obj) or 'observedGeneration' not in status:
        return False, 'controller has not observed generation %s' % obj['metadata'].get('generation')
    for have_key, want_key in want_fields:
        want = (obj.get('spec') or {}).get(want_key, 1) if want_key in ('replicas',) else status.get(want_key, 0)
        if status.get(have_key, 0) != want:
            return False, '%s is %s of %s' % (have_key, status.get(have_key, 0), want)
    return True, 'rolled out'


def _deployment(obj):
    return _rollout(obj, [('updatedReplicas', 'replicas'), ('availableReplicas', 'replicas'), ('readyReplicas', 'replicas')])


def _statefulset(obj):
    return _rollout(obj, [('updatedReplicas', 'replicas'), ('readyReplicas', 'replicas')])


def _daemonset(obj):
    return _rollout(obj, [('updatedNumberScheduled', 'desiredNumberScheduled'), ('numberAvailable', 'desiredNumberScheduled')])


def _namespace(obj):
    phase = (obj.get('status') or {}).get('phase')
    return phase == 'Active', 'phase is %s' % phase


PREDICATES = {
    'CustomResourceDefinition': lambda o: condition_met(o, 'Established'),
    'Deployment': _deployment,
    'StatefulSet': _statefulset,
    'DaemonSet': _daemonset,
    'Namespace': _namespace,
    'Job': lambda o: condition_met(o, 'Complete'),
}


def is_ready(obj, condition=None):
    """(ok, why) for `obj`: the explicit condition if given, else the kind's rollout rule, else existence."""
    if condition:
        return condition_met(obj, condition['type'], condition.get('status') or 'True', condition.get('reason'))
    predicate = PREDICATES.get(obj.get('kind'))
    return predicate(obj) if predicate else (True, 'exists')


def poll(fetch, check, timeout, what, sleep=1.0):
    """Call fetch() until check(obj) says ok; raise K8sError with the last reason after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        obj = fetch()
        ok, why = check(obj)
        if ok:
            return obj
        if time.monotonic() >= deadline:
            raise K8sError('Timed out after %ss waiting for %s: %s' % (timeout, what, why))
        time.sleep(min(sleep, max(deadline - time.monotonic(), 0.05)))
