"""What a functional conformance probe left on the test apiserver once its context was cleaned up, for the tests of
every probe (each names the kinds its probe and the stand-ins it drives make)."""

from __future__ import annotations

import time

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.functional import PROBE_LABEL


def leftovers(k8s_client, ctx, namespaced_kinds, cluster_kinds=()):
    """Any object of `namespaced_kinds` ((api version, kind)) in the probe's namespaces, any object of `cluster_kinds`
    ((api version, kind), cluster-scoped: only those the probe made count, another test's are not its) still there,
    and the probe's namespaces that are neither gone nor Terminating (the bed runs no namespace controller)."""
    left = []
    namespaces = [r['name'] for r in ctx.objects if r['kind'] == 'Namespace']
    for api_version, kind in namespaced_kinds:
        resource = k8s_client.resources.get(api_version=api_version, kind=kind)
        for namespace in namespaces:
            left += ['%s %s/%s' % (kind, namespace, o['metadata']['name']) for o in resource.get(namespace=namespace).to_dict()['items']]
    for api_version, kind in cluster_kinds:
        mine = set(r['name'] for r in ctx.objects if r['kind'] == kind)
        resource = k8s_client.resources.get(api_version=api_version, kind=kind)
        left += ['%s %s' % (kind, o['metadata']['name']) for o in resource.get(label_selector=PROBE_LABEL).to_dict()['items']
                 if o['metadata']['name'] in mine]
    for namespace in namespaces:
        found = k8s_client.resources.get(api_version='v1', kind='Namespace').get(field_selector='metadata.name=' + namespace).to_dict()['items']
        left += ['Namespace %s (%s)' % (namespace, n['status']['phase']) for n in found if n['status']['phase'] != 'Terminating']
    return left


def cleaned(k8s_client, ctx, namespaced_kinds, cluster_kinds=(), settle=5.0):
    """Clean up, then give the stand-ins' garbage collectors a moment (pods of deleted Jobs, HPAs of deleted
    ScaledObjects); returns the cleanup's problems and what is still there. Every object the probe made is deleted."""
    problems = ctx.cleanup()
    deadline = time.monotonic() + settle
    while leftovers(k8s_client, ctx, namespaced_kinds, cluster_kinds) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ctx.objects and all(r['deleted'] for r in ctx.objects), ctx.objects
    return problems, leftovers(k8s_client, ctx, namespaced_kinds, cluster_kinds)


def checks(result):
    """{check: ok} of a probe's evidence."""
    return dict((e['check'], e['ok']) for e in result['evidence'])
