"""How long a component takes to apply: one k8s_apply call for N objects against N calls of one object.

Runs real ansible-playbook processes against the real test apiserver and prints a JSON line per case
(seconds of wall time, and apiserver writes seen in the audit of resourceVersions). Targets:
one call for 50 ConfigMaps should take well under the time of 50 calls, and a no-op re-run of the
50-object call should write nothing.

    .venv/bin/python -m benchmarks.bench_k8s_apply [--objects 50]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from tests.bed.kube_apiserver import KubeApiServer
from tests.integration.playbook import run_playbook


def configmaps(namespace, count):
    return [{'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'bench-%03d' % i, 'namespace': namespace},
             'data': {'index': str(i)}} for i in range(count)]


def timed(variables, env):
    start = time.monotonic()
    run = run_playbook('k8s_apply.yml', variables, env=env)
    elapsed = time.monotonic() - start
    if run.rc != 0:
        raise SystemExit('benchmark run failed: %s' % run.failures)
    return elapsed, run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--objects', type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, KubeApiServer(Path(workdir)) as server:
        env = {'K8S_AUTH_KUBECONFIG': str(server.kubeconfig)}
        ns = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'bench'}}
        objects = configmaps('bench', args.objects)
        one_call = timed({'component_namespace': 'bench', 'definitions': [ns] + objects}, env)[0]
        rerun, run = timed({'component_namespace': 'bench', 'definitions': [ns] + objects}, env)
        unchanged = sum(1 for o in run.result('Apply the component')['objects'] if o['action'] == 'unchanged')
        per_object = 0.0
        for obj in configmaps('bench', args.objects)[:10]:
            obj['metadata']['name'] += '-single'
            elapsed = timed({'component_namespace': 'bench', 'definitions': [obj]}, env)[0]
            per_object += elapsed
        results = {
            'objects': args.objects,
            'one_call_seconds': round(one_call, 2),
            'noop_rerun_seconds': round(rerun, 2),
            'noop_rerun_unchanged_objects': unchanged,
            'one_call_per_object_seconds': round(per_object / 10, 2),
            'estimated_separate_calls_seconds': round(per_object / 10 * args.objects, 2),
        }
        print(json.dumps(results))


if __name__ == '__main__':
    main()
