"""Stand-ins for Kueue and for a Gateway API controller on the test apiserver, which runs no controllers, for the
functional conformance probes (plugins/module_utils/conformance/functional.py). They act only in namespaces whose
name starts with `namespace_prefix` (and on the cluster-scoped queues those use), so other tests on the shared bed
are left alone.

``KueueStandIn`` plays Kueue v0.19 (kueue.x-k8s.io/v1beta2) with the batch/v1 Job integration, and the parts of
Kubernetes it relies on:

- a Workload ``job-<job>-<uid prefix>`` for each Job labelled ``kueue.x-k8s.io/queue-name`` (one podSet ``main`` of
  ``parallelism`` pods, owned by the Job);
- admission by the ClusterQueue of the Job's LocalQueue: every resource the pods request must be covered, and the
  Workload's whole request (per pod request x count) plus what the queue's admitted Workloads use must fit the first
  flavor's nominalQuota, else nothing is admitted (``QuotaReserved`` False, reason ``Pending``, Kueue's message);
  an admitted Workload gets ``status.admission`` and ``QuotaReserved``/``Admitted`` True, and its Job is unsuspended;
- the finalizer ``kueue.x-k8s.io/resource-in-use`` on ClusterQueues (dropped once none of its Workloads is admitted)
  and ResourceFlavors (dropped once no ClusterQueue names the flavor);
- the Job controller for unsuspended queued Jobs: ``min(parallelism, completions - succeeded)`` pods at once, owned by
  the Job (they stay Pending: there is no scheduler); the garbage collector: pods and Workloads whose Job is gone.
  A 1.20 apiserver drops ``spec.suspend`` (Kubernetes 1.21+), so there a queued Job counts as suspended until its
  Workload is admitted, which is what Kueue's suspension achieves.

``admit_partially=True`` makes it a faulty Kueue (for the tests that the probe notices): it admits as many pods of a
Workload as the quota has room for and starts those.

``GatewayStandIn`` plays a Gateway API (v1) implementation with controllerName CONTROLLER: GatewayClasses naming it
become ``Accepted``; their Gateways get an address and ``Accepted``/``Programmed`` True (listeners of protocol HTTP
only; others are ``UnsupportedProtocol``); for each HTTPRoute parentRef to such a Gateway it writes a parent status:
``Accepted`` True only when a listener's ``allowedRoutes`` lets the route's namespace in (``Same`` or ``All``;
``Selector`` is not played and refused as ``NotAllowedByListeners``), ``ResolvedRefs`` True only when every backendRef
is a Service that exists in the route's namespace (otherwise False with ``BackendNotFound``, or ``RefNotPermitted``
for another namespace: ReferenceGrants are not played), as the Gateway API spec says. A parentRef to a Gateway that
does not exist gets no status (no controller owns it). ``accept_routes=False`` makes it a faulty controller that never
writes route status.
"""

from __future__ import annotations

import contextlib
import hashlib

from kubernetes.client.exceptions import ApiException
from kubernetes.utils.quantity import parse_quantity

from tests.integration import background
from tests.integration.kaito_standin import MERGE, now

KUEUE = 'kueue.x-k8s.io/v1beta2'
QUEUE_LABEL = 'kueue.x-k8s.io/queue-name'
IN_USE = 'kueue.x-k8s.io/resource-in-use'
GATEWAY_API = 'gateway.networking.k8s.io/v1'
CONTROLLER = 'aiplatform.aks/gateway-controller-standin'


def api(client, kind, api_version='v1'):
    return client.resources.get(api_version=api_version, kind=kind)


def owner_uid(obj, kind):
    return next((ref['uid'] for ref in obj['metadata'].get('ownerReferences') or [] if ref.get('kind') == kind and ref.get('controller')), None)


def condition(ctype, status, reason, message, generation):
    return {'type': ctype, 'status': status, 'reason': reason, 'message': message, 'lastTransitionTime': now(),
            'observedGeneration': generation}


def pod_request(template_spec):
    """Per pod: the sum of the containers' requests (limits where no request is given), as Kueue counts them."""
    total = {}
    for container in template_spec.get('containers') or []:
        resources = container.get('resources') or {}
        for name, amount in dict(resources.get('limits') or {}, **(resources.get('requests') or {})).items():
            total[name] = total.get(name, 0) + parse_quantity(amount)
    return total


def milli(amount):
    return '%dm' % int(amount * 1000)


class KueueStandIn:
    """Kueue for the probes' namespaces (a stand-in): see the module's docstring."""

    def __init__(self, client, namespace_prefix, admit_partially=False):
        self.client = client
        self.prefix = namespace_prefix
        self.admit_partially = admit_partially
        self.jobs, self.pods = api(client, 'Job', 'batch/v1'), api(client, 'Pod')
        self.workloads, self.local_queues = api(client, 'Workload', KUEUE), api(client, 'LocalQueue', KUEUE)
        self.cluster_queues, self.flavors = api(client, 'ClusterQueue', KUEUE), api(client, 'ResourceFlavor', KUEUE)
        self.seen_queues, self.seen_flavors = set(), set()  # named by our LocalQueues: their finalizers are ours to drop

    def ours(self, items):
        return [item for item in items if item['metadata'].get('namespace', '').startswith(self.prefix)]

    def step(self):
        jobs = [job for job in self.ours(self.jobs.get().to_dict()['items']) if QUEUE_LABEL in (job['metadata'].get('labels') or {})]
        live = dict((job['metadata']['uid'], job) for job in jobs if not job['metadata'].get('deletionTimestamp'))
        workloads = self.ours(self.workloads.get().to_dict()['items'])
        pods = self.ours(self.pods.get().to_dict()['items'])
        self.collect(workloads, pods, live)
        local_queues = dict(((q['metadata']['namespace'], q['metadata']['name']), q['spec'].get('clusterQueue'))
                            for q in self.ours(self.local_queues.get().to_dict()['items']))
        queues = dict((q['metadata']['name'], q) for q in self.cluster_queues.get().to_dict()['items'])
        by_job = dict((owner_uid(w, 'Job'), w) for w in workloads)
        for uid, job in sorted(live.items(), key=lambda item: item[1]['metadata']['creationTimestamp']):
            with contextlib.suppress(ApiException):
                workload = by_job.get(uid) or self.create_workload(job)
                by_job[uid] = workload
                if not self.admitted(workload):
                    by_job[uid] = self.admit(job, workload, local_queues, queues, list(by_job.values()))
                if self.admitted(by_job[uid]) if 'suspend' not in job['spec'] else not job['spec']['suspend']:
                    self.start_pods(job, pods)
        self.finalize(local_queues, queues, list(by_job.values()))

    # -------------------------------------------------------------------------------------------------- Workloads

    @staticmethod
    def admitted(workload):
        return any(c['type'] == 'QuotaReserved' and c['status'] == 'True' for c in (workload.get('status') or {}).get('conditions') or [])

    def create_workload(self, job):
        meta = job['metadata']
        name = 'job-%s-%s' % (meta['name'], hashlib.sha256(meta['uid'].encode()).hexdigest()[:5])
        owner = {'apiVersion': 'batch/v1', 'kind': 'Job', 'name': meta['name'], 'uid': meta['uid'], 'controller': True, 'blockOwnerDeletion': True}
        podset = {'name': 'main', 'count': job['spec'].get('parallelism', 1), 'template': job['spec']['template']}
        body = {'apiVersion': KUEUE, 'kind': 'Workload', 'spec': {'queueName': meta['labels'][QUEUE_LABEL], 'podSets': [podset]},
                'metadata': {'name': name, 'namespace': meta['namespace'], 'labels': {'kueue.x-k8s.io/job-uid': meta['uid']},
                             'ownerReferences': [owner]}}
        return self.workloads.create(body=body, namespace=meta['namespace']).to_dict()

    def usage(self, queue_name, workloads):
        used = {}
        for workload in workloads:
            admission = (workload.get('status') or {}).get('admission') or {}
            if self.admitted(workload) and admission.get('clusterQueue') == queue_name:
                for assignment in admission.get('podSetAssignments') or []:
                    for name, amount in (assignment.get('resourceUsage') or {}).items():
                        used[name] = used.get(name, 0) + parse_quantity(amount)
        return used

    def admit(self, job, workload, local_queues, queues, workloads):
        """Admit the whole Workload if it fits its ClusterQueue's quota, else write why it waits."""
        meta = workload['metadata']
        podset = workload['spec']['podSets'][0]
        queue_name = local_queues.get((meta['namespace'], workload['spec']['queueName']))
        queue = queues.get(queue_name)
        per_pod = pod_request(podset['template'].get('spec') or {})
        count, why = podset['count'], None
        if queue is None or queue['metadata'].get('deletionTimestamp'):
            why = ('Inadmissible', "LocalQueue %s doesn't exist" % workload['spec']['queueName'] if queue_name is None
                   else "ClusterQueue %s doesn't exist" % queue_name)
        else:
            group = (queue['spec'].get('resourceGroups') or [{}])[0]
            flavor = (group.get('flavors') or [{}])[0]
            quota = dict((r['name'], parse_quantity(r['nominalQuota'])) for r in flavor.get('resources') or [])
            used = self.usage(queue_name, workloads)
            uncovered = sorted(name for name in per_pod if name not in (group.get('coveredResources') or []))
            if uncovered:
                why = ('Inadmissible', 'resource %s unavailable in ClusterQueue' % uncovered[0])
            else:
                room = min(int((quota[name] - used.get(name, 0)) / amount) if amount else count for name, amount in per_pod.items())
                if self.admit_partially:
                    count = min(count, room)
                if room < count or count <= 0:
                    name = next(n for n, a in per_pod.items() if a and quota[n] - used.get(n, 0) < a * podset['count'])
                    more = per_pod[name] * podset['count'] - (quota[name] - used.get(name, 0))
                    why = ('Pending', "couldn't assign flavors to pod set main: insufficient unused quota for %s in flavor %s, %s more needed"
                           % (name, flavor['name'], milli(more) if name == 'cpu' else more))
        generation = meta.get('generation', 1)
        if why:
            status = {'conditions': [condition('QuotaReserved', 'False', why[0], why[1], generation)]}
            if [c.get('message') for c in (workload.get('status') or {}).get('conditions') or []] != [why[1]]:
                return self.workloads.status.patch(name=meta['name'], namespace=meta['namespace'], content_type=MERGE,
                                                   body={'status': status}).to_dict()
            return workload
        usage = dict((name, milli(amount * count) if name == 'cpu' else str(amount * count)) for name, amount in per_pod.items())
        status = {'admission': {'clusterQueue': queue_name, 'podSetAssignments': [{
            'name': 'main', 'count': count, 'flavors': dict((name, flavor['name']) for name in per_pod), 'resourceUsage': usage}]},
            'conditions': [condition('QuotaReserved', 'True', 'QuotaReserved', 'Quota reserved in ClusterQueue %s' % queue_name, generation),
                           condition('Admitted', 'True', 'Admitted', 'The workload is admitted', generation)]}
        admitted = self.workloads.status.patch(name=meta['name'], namespace=meta['namespace'], content_type=MERGE,
                                               body={'status': status}).to_dict()
        patch = {'spec': {'suspend': False}}
        if count != job['spec'].get('parallelism', 1):
            patch['spec']['parallelism'] = count  # the faulty mode starts only what it admitted
        self.jobs.patch(name=job['metadata']['name'], namespace=meta['namespace'], content_type=MERGE, body=patch)
        job['spec'].update(patch['spec'])
        return admitted

    def start_pods(self, job, pods):
        """The Job controller: the Job's missing active pods, all at once."""
        meta, spec = job['metadata'], job['spec']
        mine = [p for p in pods if owner_uid(p, 'Job') == meta['uid']]
        succeeded = sum(1 for p in mine if (p.get('status') or {}).get('phase') == 'Succeeded')
        active = [p for p in mine if (p.get('status') or {}).get('phase') not in ('Succeeded', 'Failed')]
        want = min(spec.get('parallelism', 1), spec.get('completions', spec.get('parallelism', 1)) - succeeded)
        template = spec['template']
        for _index in range(max(0, want - len(active))):
            self.pods.create(namespace=meta['namespace'], body={'apiVersion': 'v1', 'kind': 'Pod', 'spec': template['spec'], 'metadata': {
                'generateName': meta['name'] + '-', 'namespace': meta['namespace'],
                'labels': dict(template['metadata'].get('labels') or {}, **{'controller-uid': meta['uid'], 'job-name': meta['name']}),
                'ownerReferences': [{'apiVersion': 'batch/v1', 'kind': 'Job', 'name': meta['name'], 'uid': meta['uid'],
                                     'controller': True, 'blockOwnerDeletion': True}]}})

    # -------------------------------------------------------------------------------------------------- garbage, finalizers

    def collect(self, workloads, pods, live):
        """The garbage collector: Workloads and pods whose Job is gone."""
        for obj, resource in [(w, self.workloads) for w in workloads] + [(p, self.pods) for p in pods]:
            uid = owner_uid(obj, 'Job')
            if uid and uid not in live and not obj['metadata'].get('deletionTimestamp'):
                with contextlib.suppress(ApiException):
                    resource.delete(name=obj['metadata']['name'], namespace=obj['metadata']['namespace'])

    def finalize(self, local_queues, queues, workloads):
        """Kueue's finalizers on the ClusterQueues our LocalQueues named and on their flavors."""
        self.seen_queues.update(local_queues.values())
        for name in self.seen_queues.intersection(queues):
            self.seen_flavors.update(f['name'] for g in queues[name]['spec'].get('resourceGroups') or [] for f in g.get('flavors') or [])
        used_queues = set(((w.get('status') or {}).get('admission') or {}).get('clusterQueue') for w in workloads if self.admitted(w))
        named_flavors = set(f['name'] for q in queues.values() if not q['metadata'].get('deletionTimestamp')
                            for g in q['spec'].get('resourceGroups') or [] for f in g.get('flavors') or [])
        for name in self.seen_queues.intersection(queues):
            self.keep_finalizer(self.cluster_queues, queues[name], name in used_queues)
        for flavor in self.flavors.get().to_dict()['items']:
            if flavor['metadata']['name'] in self.seen_flavors:
                self.keep_finalizer(self.flavors, flavor, flavor['metadata']['name'] in named_flavors)

    @staticmethod
    def keep_finalizer(resource, obj, in_use):
        """Kueue's finalizer: added to a live object, dropped from one being deleted once nothing uses it."""
        meta = obj['metadata']
        finalizers = meta.get('finalizers') or []
        deleting = bool(meta.get('deletionTimestamp'))
        want = (IN_USE not in finalizers and not deleting) or (IN_USE in finalizers and deleting and not in_use)
        if want:
            kept = [f for f in finalizers if f != IN_USE] + ([] if deleting else [IN_USE])
            with contextlib.suppress(ApiException):
                resource.patch(name=meta['name'], content_type=MERGE,
                               body={'metadata': {'finalizers': kept or None, 'resourceVersion': meta['resourceVersion']}})

    @contextlib.contextmanager
    def running(self, interval=0.2):
        with background.stepping(self.step, interval):
            yield self


class GatewayStandIn:
    """A Gateway API controller for the probes' namespaces (a stand-in): see the module's docstring."""

    def __init__(self, client, namespace_prefix, accept_routes=True):
        self.client = client
        self.prefix = namespace_prefix
        self.accept_routes = accept_routes
        self.classes = api(client, 'GatewayClass', GATEWAY_API)
        self.gateways, self.routes = api(client, 'Gateway', GATEWAY_API), api(client, 'HTTPRoute', GATEWAY_API)
        self.services = api(client, 'Service')

    def step(self):
        mine = set()
        for gwc in self.classes.get().to_dict()['items']:
            if gwc['spec'].get('controllerName') == CONTROLLER:
                mine.add(gwc['metadata']['name'])
                self.write(self.classes, gwc, {'conditions': [condition('Accepted', 'True', 'Accepted', 'stand-in', gwc['metadata']['generation'])]})
        gateways = {}
        for gw in self.gateways.get().to_dict()['items']:
            if gw['metadata']['namespace'].startswith(self.prefix) and gw['spec'].get('gatewayClassName') in mine:
                gateways[(gw['metadata']['namespace'], gw['metadata']['name'])] = gw
                self.program(gw, len(gateways))
        if self.accept_routes:
            for route in self.routes.get().to_dict()['items']:
                if route['metadata']['namespace'].startswith(self.prefix):
                    self.route_status(route, gateways)

    def write(self, resource, obj, status, namespace=None):
        """Write `status` unless it says what the object's status says already (times aside)."""
        def plain(value):
            if isinstance(value, dict):
                return dict((k, plain(v)) for k, v in value.items() if k != 'lastTransitionTime')
            return [plain(v) for v in value] if isinstance(value, list) else value
        if plain(dict((k, (obj.get('status') or {}).get(k)) for k in status)) != plain(status):
            with contextlib.suppress(ApiException):
                resource.status.patch(name=obj['metadata']['name'], namespace=namespace, content_type=MERGE, body={'status': status})

    def program(self, gw, index):
        generation = gw['metadata']['generation']
        listeners, problems = [], []
        for listener in gw['spec'].get('listeners') or []:
            ok = listener.get('protocol') == 'HTTP'
            if not ok:
                problems.append(listener['name'])
            listeners.append({'name': listener['name'], 'attachedRoutes': 0,
                              'supportedKinds': [{'group': 'gateway.networking.k8s.io', 'kind': 'HTTPRoute'}] if ok else [],
                              'conditions': [condition('Accepted', 'True' if ok else 'False', 'Accepted' if ok else 'UnsupportedProtocol',
                                                       'stand-in', generation),
                                             condition('Programmed', 'True' if ok else 'False', 'Programmed' if ok else 'Invalid',
                                                       'stand-in', generation)]})
        ok = not problems
        reason = 'Accepted' if ok else 'ListenersNotValid'
        status = {'addresses': [{'type': 'IPAddress', 'value': '10.0.0.%d' % (100 + index % 100)}] if ok else None,
                  'listeners': listeners,
                  'conditions': [condition('Accepted', 'True' if ok else 'False', reason, 'stand-in', generation),
                                 condition('Programmed', 'True' if ok else 'False', 'Programmed' if ok else 'Invalid', 'stand-in', generation)]}
        self.write(self.gateways, gw, status, gw['metadata']['namespace'])

    def service_exists(self, namespace, name):
        try:
            self.services.get(name=name, namespace=namespace)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def resolved(self, route):
        """(status, reason, message) of ResolvedRefs."""
        namespace = route['metadata']['namespace']
        for rule in route['spec'].get('rules') or []:
            for ref in rule.get('backendRefs') or []:
                if (ref.get('group') or '') != '' or (ref.get('kind') or 'Service') != 'Service':
                    return 'False', 'InvalidKind', 'backendRef %s is not a core Service' % ref['name']
                if (ref.get('namespace') or namespace) != namespace:
                    return 'False', 'RefNotPermitted', 'backendRef %s/%s: ReferenceGrants are not played' % (ref['namespace'], ref['name'])
                if not self.service_exists(namespace, ref['name']):
                    return 'False', 'BackendNotFound', 'Service %s/%s not found' % (namespace, ref['name'])
        return 'True', 'ResolvedRefs', 'all references resolved'

    def route_status(self, route, gateways):
        namespace, generation = route['metadata']['namespace'], route['metadata']['generation']
        parents = [p for p in (route.get('status') or {}).get('parents') or [] if p.get('controllerName') != CONTROLLER]
        for ref in route['spec'].get('parentRefs') or []:
            gw = gateways.get((ref.get('namespace') or namespace, ref['name']))
            if gw is None or (ref.get('kind') or 'Gateway') != 'Gateway':
                continue
            allowed = any(((listener.get('allowedRoutes') or {}).get('namespaces') or {}).get('from', 'Same') == 'All'
                          or (((listener.get('allowedRoutes') or {}).get('namespaces') or {}).get('from', 'Same') == 'Same'
                              and gw['metadata']['namespace'] == namespace)
                          for listener in gw['spec'].get('listeners') or [])
            accepted = condition('Accepted', 'True', 'Accepted', 'stand-in', generation) if allowed else \
                condition('Accepted', 'False', 'NotAllowedByListeners', 'no listener of Gateway %s allows routes from %s' % (ref['name'], namespace),
                          generation)
            resolved = condition('ResolvedRefs', *self.resolved(route), generation=generation)
            parents.append({'parentRef': ref, 'controllerName': CONTROLLER, 'conditions': [accepted, resolved]})
        if parents:
            self.write(self.routes, route, {'parents': parents}, namespace)

    @contextlib.contextmanager
    def running(self, interval=0.2):
        with background.stepping(self.step, interval):
            yield self
