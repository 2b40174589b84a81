# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU validation Jobs: rendered here for the gpu_validation_jobs filter, and read back here for gpu_info.

One Job per GPU node rather than one per pool: a failure on one node then neither stops nor retries onto another,
and every result names its node. Each Job's pod runs the checks one after the other (init containers, the last one
as the container), asks for the node's GPU like any workload (the pool's node selector, the GPU taints tolerated, a
GPU request) and is pinned to its node by node affinity on the node's name. Each check writes its output, at most
the last 4000 bytes, to its termination message, which is how the result reaches the API without reading logs.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.aiplatform.aks.plugins.module_utils.gpu.info import GPU_RESOURCE, MIG_RESOURCE_PREFIX, POOL_LABELS, SHARED_RESOURCE
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import list_items
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import DNS_LABEL

NAME_LABEL = 'app.kubernetes.io/name'
NAME = 'gpu-validation'
MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
RUN_LABEL = 'gpu-validation.aiplatform.aks/run'
POOL_LABEL = 'gpu-validation.aiplatform.aks/pool'
NODE_ANNOTATION = 'gpu-validation.aiplatform.aks/node'
LEVELS = ('quick', 'burn_in')
# dcgmi diag run levels: 1 checks the deployment in seconds; 3 stresses every GPU for about half an hour
DCGM_LEVELS = {'quick': 1, 'burn_in': 3}
# A Job ends itself (activeDeadlineSeconds) only well after the role stops waiting for it, whose looks take time of
# their own (twice the wait, and 5 minutes more): the role deletes it first and reports what its pod was waiting for,
# which the Job controller would erase by deleting the pod at the deadline. The deadline is for runs interrupted before
# they delete their Jobs.
DEADLINE_FACTOR = 2
DEADLINE_GRACE = 300
GPU_TOLERATION = {'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}
_RUN = re.compile(r'^[a-z0-9]{1,8}$')


def _captured(command):
    """`command` in a shell, its output in the log and its last 4000 bytes in the termination message (the kubelet
    keeps 4096), its exit status the container's."""
    return ['sh', '-c', '{ %s; } > /tmp/check.log 2>&1; status=$?; cat /tmp/check.log; tail -c 4000 /tmp/check.log > /dev/termination-log; '
                        'exit $status' % command]


def checks(level, dcgm):
    """(container name, image key, shell command) of each check, in the order they run."""
    steps = [('nvidia-smi', 'cuda', 'nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader'),
             ('cuda-vectoradd', 'cuda', '/cuda-samples/vectorAdd')]
    if dcgm:
        # the diagnostic talks to a host engine; the pod starts its own, which sees only the pod's GPUs
        steps.append(('dcgm-diag', 'dcgm', 'nv-hostengine && dcgmi diag -r %d' % DCGM_LEVELS[level]))
    return steps


def gpu_request(node, level):
    """(resource, amount) a validation pod asks for on `node` (a gpu_info node): one whole GPU, else one time-sliced
    replica, else one MIG instance; burn-in takes every whole GPU the node has, so that each is stressed."""
    allocatable = dict((name, amounts['allocatable']) for name, amounts in node['resources'].items() if amounts['allocatable'] > 0)
    if allocatable.get(GPU_RESOURCE):
        amount = 1
        if level == 'burn_in':
            # time-slicing advertises each GPU `replicas` times
            amount = node['gfd'].get('count') or max(1, allocatable[GPU_RESOURCE] // (node['gfd'].get('replicas') or 1))
        return GPU_RESOURCE, int(amount)
    if allocatable.get(SHARED_RESOURCE):
        return SHARED_RESOURCE, 1
    mig = sorted(name for name in allocatable if name.startswith(MIG_RESOURCE_PREFIX))
    if mig:
        return mig[0], 1
    return None, 0


def job_name(node, run):
    """A DNS label of at most 63 characters (the job-name label of its pods): readable, unique per node and run."""
    slug = re.sub(r'[^a-z0-9-]+', '-', node.lower()).strip('-')[:34].rstrip('-')
    return 'gpu-validate-%s-%s-%s' % (slug, hashlib.sha1(node.encode('utf-8')).hexdigest()[:6], run)


def render_job(node, run, namespace, level, images, dcgm, tolerations, timeout, ttl):
    resource, amount = gpu_request(node, level)
    labels = {NAME_LABEL: NAME, MANAGED_BY_LABEL: 'aiplatform.aks', RUN_LABEL: run}
    selector = {}
    if node['pool']:
        labels[POOL_LABEL] = node['pool']
        selector = {POOL_LABELS[0]: node['pool']}
    containers = []
    for name, image, command in checks(level, dcgm):
        containers.append({
            'name': name, 'image': images[image], 'command': _captured(command),
            'env': [{'name': 'NVIDIA_DRIVER_CAPABILITIES', 'value': 'compute,utility'}],
            'resources': {'requests': {'cpu': '100m', 'memory': '256Mi', resource: str(amount)},
                          'limits': {'memory': '1Gi', resource: str(amount)}},
            'securityContext': {'allowPrivilegeEscalation': False},
            'terminationMessagePolicy': 'FallbackToLogsOnError',
        })
    pod = {
        'restartPolicy': 'Never',
        'automountServiceAccountToken': False,
        'affinity': {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': [
            {'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': [node['name']]}]}]}}},
        'tolerations': tolerations,
        'initContainers': containers[:-1],
        'containers': containers[-1:],
    }
    if selector:
        pod['nodeSelector'] = selector
    return {
        'apiVersion': 'batch/v1', 'kind': 'Job',
        'metadata': {'name': job_name(node['name'], run), 'namespace': namespace, 'labels': labels,
                     'annotations': {NODE_ANNOTATION: node['name']}},
        'spec': {'backoffLimit': 0, 'activeDeadlineSeconds': int(timeout) * DEADLINE_FACTOR + DEADLINE_GRACE, 'ttlSecondsAfterFinished': int(ttl),
                 'template': {'metadata': {'labels': {NAME_LABEL: NAME, RUN_LABEL: run}}, 'spec': pod}},
    }


def nodes_to_validate(nodes):
    """(nodes to validate, {node: why not}) of gpu_info's nodes: the GPU nodes that advertise a GPU resource a pod
    can ask for, and are not cordoned."""
    chosen, skipped = [], {}
    for node in nodes:
        if not node['gpu_node']:
            continue
        if node['unschedulable']:
            skipped[node['name']] = 'cordoned (spec.unschedulable): no pod can start there'
        elif gpu_request(node, 'quick')[0] is None:
            skipped[node['name']] = ('advertises no GPU resource a pod can request' +
                                     (' (its GPUs are DRA devices)' if node['dra_gpu_devices'] else ''))
        else:
            chosen.append(node)
    return chosen, skipped


def validation_problems(run, level, timeout, ttl, images):
    problems = []
    if not isinstance(run, str) or not _RUN.match(run):
        problems.append('the validation run id must be 1 to 8 lowercase letters or digits, got %r' % (run,))
    if level not in LEVELS:
        problems.append('gpu_operator_validate_level must be one of %s, got %r' % (', '.join(LEVELS), level))
    for what, value in (('gpu_operator_validate_timeout', timeout), ('the Jobs\' ttlSecondsAfterFinished', ttl)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append('%s must be a whole number of seconds of 1 or more, got %r' % (what, value))
    for key in ('cuda', 'dcgm'):
        if not isinstance(images, dict) or not isinstance(images.get(key), str) or not images[key].strip():
            problems.append('gpu_operator_validate_images.%s must name an image' % key)
    return problems


def read_problems(options):
    """Problems with gpu_info's validation option."""
    if not options:
        return []
    problems = []
    if not DNS_LABEL.match(options.get('namespace') or ''):
        problems.append('validation.namespace %r is not a namespace name (lower case letters, digits and -, at most 63)' % options.get('namespace'))
    if options.get('run') is not None and not _RUN.match(options['run']):
        problems.append('validation.run %r is not a run id (1 to 8 lower case letters or digits)' % options['run'])
    return problems


# --- results -----------------------------------------------------------------------------------------------------

def _condition(obj, ctype):
    return next((c for c in (obj.get('status') or {}).get('conditions') or [] if c.get('type') == ctype and c.get('status') == 'True'), None)


def _step(name, status):
    state = (status or {}).get('state') or {}
    if 'terminated' in state:
        done = state['terminated']
        code = done.get('exitCode')
        return {'name': name, 'state': 'passed' if code == 0 else 'failed', 'exit_code': code,
                'message': (done.get('message') or '').strip() or None}
    if 'running' in state:
        return {'name': name, 'state': 'running', 'exit_code': None, 'message': None}
    waiting = state.get('waiting') or {}
    message = ': '.join(x for x in (waiting.get('reason'), waiting.get('message')) if x) or None
    return {'name': name, 'state': 'waiting', 'exit_code': None, 'message': message}


def steps(pod):
    """Each check of the pod, in order, with its state (passed, failed, running, waiting), exit code and message."""
    spec = pod.get('spec') or {}
    status = pod.get('status') or {}
    statuses = dict((s['name'], s) for s in (status.get('initContainerStatuses') or []) + (status.get('containerStatuses') or []))
    return [_step(c['name'], statuses.get(c['name'])) for c in (spec.get('initContainers') or []) + (spec.get('containers') or [])]


def _last_line(text):
    lines = [line for line in (text or '').splitlines() if line.strip()]
    return lines[-1].strip() if lines else ''


def _failure(checks_run):
    failed = next((s for s in checks_run if s['state'] == 'failed'), None)
    if failed is None:
        return None
    return '%s exited %s%s' % (failed['name'], failed['exit_code'], (': ' + _last_line(failed['message'])) if failed['message'] else '')


def _unfinished(pod, checks_run):
    """Why a pod has not finished: not scheduled (the scheduler's message), a check waiting (an image pull), running."""
    if pod is None:
        return 'pending', 'no pod yet (the Job controller has not made one; kubectl describe job shows why)'
    scheduled = next((c for c in (pod.get('status') or {}).get('conditions') or [] if c.get('type') == 'PodScheduled'), None)
    if not (pod.get('spec') or {}).get('nodeName'):
        if scheduled and scheduled.get('status') == 'False':
            return 'pending', 'not scheduled: %s' % (scheduled.get('message') or scheduled.get('reason'))
        return 'pending', 'not scheduled yet'
    current = next((s for s in checks_run if s['state'] in ('running', 'waiting')), None)
    if current and current['state'] == 'running':
        return 'running', '%s is running' % current['name']
    if current and current['message']:
        return 'pending', '%s is waiting: %s' % (current['name'], current['message'])
    return 'running', 'started on the node'


def job_result(job, pods):
    """The result of one validation Job: state passed, failed, running or pending, why, and each check."""
    meta = job['metadata']
    pod = max(pods, key=lambda p: p['metadata'].get('creationTimestamp') or '') if pods else None
    checks_run = steps(pod) if pod else []
    result = {'node': (meta.get('annotations') or {}).get(NODE_ANNOTATION), 'pool': (meta.get('labels') or {}).get(POOL_LABEL),
              'job': meta['name'], 'pod': pod['metadata']['name'] if pod else None, 'checks': checks_run}
    failed = _condition(job, 'Failed')
    phase = ((pod or {}).get('status') or {}).get('phase')
    if _condition(job, 'Complete') or (phase == 'Succeeded' and not failed):
        result.update(state='passed', reason=None)
    elif failed or phase == 'Failed':
        reason = _failure(checks_run)
        if failed and failed.get('reason') == 'DeadlineExceeded':
            # the Job controller deletes the pod at the deadline; what it was doing is known only while it is there
            before = _unfinished(pod, checks_run)[1] if pod is not None and reason is None and phase not in ('Succeeded', 'Failed') else reason
            reason = 'did not finish within %s s (activeDeadlineSeconds)%s' % (
                (job.get('spec') or {}).get('activeDeadlineSeconds'), ('; ' + before) if before else '')
        result.update(state='failed', reason=reason or (failed or {}).get('message') or 'the pod failed')
    else:
        state, reason = _unfinished(pod, checks_run)
        result.update(state=state, reason=reason)
    return result


def results(jobs, pods):
    """{node: result} of the validation Jobs (the newest Job of a node wins), each with the pods it owns."""
    by_job = {}
    for pod in pods:
        for owner in pod['metadata'].get('ownerReferences') or []:
            if owner.get('kind') == 'Job' and owner.get('controller'):
                by_job.setdefault(owner.get('uid'), []).append(pod)
    found = {}
    for job in sorted(jobs, key=lambda j: j['metadata'].get('creationTimestamp') or ''):
        result = job_result(job, by_job.get(job['metadata'].get('uid'), []))
        if result['node']:
            found[result['node']] = result
    return found


def summary(found):
    """The nodes whose validation passed, failed (with why) and has not finished (with why); all empty without results."""
    return {
        'validation_passed': sorted(n for n, r in found.items() if r['state'] == 'passed'),
        'validation_failed': dict((n, r['reason']) for n, r in sorted(found.items()) if r['state'] == 'failed'),
        'validation_unfinished': dict((n, r['reason']) for n, r in sorted(found.items()) if r['state'] in ('pending', 'running')),
    }


def read(client, namespace, run=None):
    """{node: result} of the GPU validation Jobs in `namespace` (of the run `run` only, when given)."""
    selector = '%s=%s' % (NAME_LABEL, NAME)
    if run:
        selector += ',%s=%s' % (RUN_LABEL, run)
    jobs, pods = (list_items(client, api_version, kind, 'list the GPU validation %ss in %s' % (kind, namespace), namespace=namespace,
                             label_selector=selector) or [] for api_version, kind in (('batch/v1', 'Job'), ('v1', 'Pod')))
    return results(jobs, pods)


def attach(gathered, found):
    """gpu_info's output with each node's validation result (None where no Job validated it) and the summary's
    validation_passed, validation_failed and validation_unfinished."""
    for node in gathered['nodes']:
        node['validation'] = found.get(node['name'])
    gathered['summary'].update(summary(dict((n['name'], n['validation']) for n in gathered['nodes'] if n['validation'])))
    return gathered
