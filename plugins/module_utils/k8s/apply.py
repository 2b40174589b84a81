# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side apply of object sets with honest change detection, waits, deletion and pruning.

Each object is first applied with dryRun=All; only when the dry-run result differs from the live
object (ignoring status and server bookkeeping) is the real apply sent. A second run writes nothing.
With a Validator, every object is validated on the client before the first request that could write.
"""

from __future__ import annotations

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import (
    CONNECTION_ERRORS, ApiException, K8sError, api_error_message, apply_patch_body, connection_error_message, k8s_call, read_object,
    served)
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import apply_order, comparable, describe, ident, redact
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import is_ready, poll
from ansible_collections.aiplatform.aks.plugins.module_utils.version import COLLECTION_NAME


FIELD_MANAGER = COLLECTION_NAME
BACKGROUND_DELETE = {'apiVersion': 'v1', 'kind': 'DeleteOptions', 'propagationPolicy': 'Background'}


class Applier:
    """Applies, waits for, deletes and prunes Kubernetes objects through one DynamicClient."""

    def __init__(self, client, check_mode=False, namespace=None, field_manager=FIELD_MANAGER, force_conflicts=False,
                 validator=None):
        self.client = client
        self.check_mode = check_mode
        self.namespace = namespace
        self.field_manager = field_manager
        self.force_conflicts = force_conflicts
        self._pending_crds = set()  # kinds whose CRD exists only as a check-mode plan
        self._new_namespaces = set()  # namespaces this run creates
        self.validator = validator
        self.validation = []  # problems the validator reported without failing

    # --- lookups -------------------------------------------------------------------------------
    def resource(self, obj):
        resource = served(self.client, obj['apiVersion'], obj['kind'])
        if resource is None:
            raise K8sError('%s: the server does not serve %s %s (is its CRD installed?)' % (describe(obj), obj['apiVersion'], obj['kind']))
        return resource

    def served_crd(self, api_version, kind):
        """The CustomResourceDefinition the server has for a kind, or None if it does not serve the kind."""
        resource = served(self.client, api_version, kind)
        crds = served(self.client, 'apiextensions.k8s.io/v1', 'CustomResourceDefinition')
        if resource is None or crds is None:
            return None
        return self.read(crds, '%s.%s' % (resource.name, resource.group), None)

    def live(self, obj):
        """The object as the server has it, or None (for transition rules, which compare with the old object)."""
        resource = served(self.client, obj['apiVersion'], obj['kind'])
        if resource is None:
            return None
        try:
            namespace = self._place(obj, resource)
        except K8sError:
            return None  # check() reports a misplaced object, after validation
        return self.read(resource, obj['metadata']['name'], namespace)

    def _place(self, obj, resource):
        """Fill in the namespace of namespaced objects; refuse one on cluster-scoped objects."""
        meta = obj.setdefault('metadata', {})
        if resource.namespaced:
            meta['namespace'] = meta.get('namespace') or self.namespace
            if not meta['namespace']:
                raise K8sError('%s is namespaced: set metadata.namespace or the namespace option' % describe(obj))
        elif meta.get('namespace'):
            raise K8sError('%s is cluster-scoped and must not have metadata.namespace' % describe(obj))
        return meta.get('namespace')

    def read(self, resource, name, namespace):
        return read_object(self.client, resource, name, namespace)

    # --- apply ---------------------------------------------------------------------------------
    def _ssa(self, resource, obj, namespace, dry_run):
        try:
            body = apply_patch_body(obj)
        except K8sError as exc:
            raise K8sError('cannot apply %s: %s' % (describe(obj), exc))
        kwargs = dict(body=body, name=obj['metadata']['name'], namespace=namespace,
                      field_manager=self.field_manager, force_conflicts=self.force_conflicts)
        if dry_run:
            kwargs['dry_run'] = 'All'
        try:
            return self.client.server_side_apply(resource, **kwargs).to_dict()
        except ApiException as exc:
            hint = ''
            if exc.status == 409:
                hint = ' Another field manager owns these fields; set force_conflicts to take them over.'
            raise K8sError('cannot apply %s: %s.%s' % (describe(obj), api_error_message(exc), hint))
        except CONNECTION_ERRORS as exc:
            raise K8sError('cannot apply %s: %s' % (describe(obj), connection_error_message(exc)))

    def plan(self, obj):
        """(resource, namespace, live object or None, the server's dry-run result): what applying `obj` would do."""
        resource = self.resource(obj)
        namespace = self._place(obj, resource)
        before = self.read(resource, obj['metadata']['name'], namespace)
        return resource, namespace, before, self._ssa(resource, obj, namespace, dry_run=True)

    def apply_one(self, obj, plan=None):
        """Apply one object; `plan` is its plan() made earlier in this run, else it is made now."""
        if self.check_mode and obj['kind'] in self._pending_crds:
            # the CRD would be created by this run, so the server cannot dry-run its objects yet
            return self.record(obj, 'created', None, obj)
        resource, namespace, before, planned = plan or self.plan(obj)
        if before is not None and comparable(before) == comparable(planned):
            return self.record(obj, 'unchanged', before, before)
        after = planned if self.check_mode else self._ssa(resource, obj, namespace, dry_run=False)
        if obj['kind'] == 'CustomResourceDefinition' and before is None and self.check_mode:
            self._pending_crds.add(obj['spec']['names']['kind'])
        return self.record(obj, 'created' if before is None else 'updated', before, after)

    @staticmethod
    def record(obj, action, before, after):
        return {'action': action, 'object': after, 'before': before, 'id': ident(obj), 'name': describe(obj)}

    def check(self, objects):
        """Resolve every object's kind and namespace before anything is written (bad input writes nothing)."""
        defined_here = set(o['spec']['names']['kind'] for o in objects
                           if o['kind'] == 'CustomResourceDefinition' and isinstance(o.get('spec', {}).get('names'), dict))
        for obj in objects:
            if obj['kind'] not in defined_here:
                self._place(obj, self.resource(obj))

    def _namespace_of(self, obj):
        """The namespace an object goes to if its kind is namespaced (placement may not have run yet)."""
        return obj.get('metadata', {}).get('namespace') or self.namespace

    def plan_all(self, objects):
        """Every object's plan, in apply order, made before anything is written, so that an object the server refuses
        (its schema, admission, a field conflict) stops the run before the first write.

        An object that depends on a write of this run cannot be dry-run yet: one in a namespace this run creates, or of a
        kind whose CRD this run creates or changes. Its plan is None; it is dry-run when its turn comes (in check mode it
        is reported as it would be created).
        """
        plans, changing_kinds = {}, set()
        new_namespaces = self._new_namespaces = set()
        for obj in apply_order(objects):
            if obj['kind'] in changing_kinds or self._namespace_of(obj) in new_namespaces:
                plans[id(obj)] = None
                continue
            plans[id(obj)] = plan = self.plan(obj)
            before, planned = plan[2], plan[3]
            changes = before is None or comparable(before) != comparable(planned)
            if obj['kind'] == 'Namespace' and before is None:
                new_namespaces.add(obj['metadata']['name'])
            elif obj['kind'] == 'CustomResourceDefinition' and changes:
                kind = ((obj.get('spec') or {}).get('names') or {}).get('kind')
                changing_kinds.add(kind)
        return plans

    def apply(self, objects, wait=False, wait_timeout=300, wait_condition=None, wait_sleep=1.0):
        """Apply objects in dependency order; CRDs are waited for before the objects they define."""
        if self.validator:
            self.validation = self.validator.validate(objects, self.served_crd, self.live)
        self.check(objects)
        plans = self.plan_all(objects)
        results = []
        for obj in apply_order(objects):
            plan = plans[id(obj)]
            if plan is None and self.check_mode and self._namespace_of(obj) in self._new_namespaces:
                # its namespace would be created by this run: the server cannot dry-run it yet
                record = self.record(obj, 'created', None, obj)
            else:
                record = self.apply_one(obj, plan)
            if not self.check_mode and (wait or obj['kind'] == 'CustomResourceDefinition'):
                condition = None if obj['kind'] in ('CustomResourceDefinition', 'Namespace') else wait_condition
                record['object'] = self.wait_ready(obj, condition, wait_timeout, wait_sleep)
            results.append(record)
        return results

    def wait_ready(self, obj, condition, timeout, sleep=1.0):
        resource = self.resource(obj)
        meta = obj['metadata']

        def fetch():
            current = self.read(resource, meta['name'], meta.get('namespace'))
            if current is None:
                raise K8sError('%s disappeared while waiting for it' % describe(obj))
            return current
        return poll(fetch, lambda o: is_ready(o, condition), timeout, describe(obj), sleep)

    # --- delete and prune ------------------------------------------------------------------------
    def delete_one(self, obj, wait_timeout=300, wait_sleep=1.0):
        try:
            resource = self.resource(obj)
        except K8sError:
            return self.record(obj, 'absent', None, None)  # kind not served: nothing of it can exist
        namespace = self._place(obj, resource)
        name = obj['metadata']['name']
        before = self.read(resource, name, namespace)
        if before is None:
            return self.record(obj, 'absent', None, None)
        if not self.check_mode:
            # the dependents go too (kubectl's default); batch/v1 Jobs would otherwise orphan their pods
            k8s_call('delete ' + describe(obj), self.client.delete, resource, name=name, namespace=namespace, body=BACKGROUND_DELETE,
                     not_found=None)
            # finalizers keep the object until their controllers let go
            poll(lambda: self.read(resource, name, namespace), lambda o: (o is None, 'still present (finalizers: %s)'
                 % ', '.join((o or {}).get('metadata', {}).get('finalizers') or ['none'])), wait_timeout, 'deletion of %s' % describe(obj), wait_sleep)
        return self.record(obj, 'deleted', before, None)

    def delete(self, objects, wait_timeout=300, wait_sleep=1.0):
        return [self.delete_one(obj, wait_timeout, wait_sleep) for obj in reversed(apply_order(objects))]

    def prune(self, applied, label_selector, kinds=None, wait_timeout=300, wait_sleep=1.0):
        """Delete objects that match `label_selector`, are of the applied (or given) kinds, and were not applied."""
        keep = set(r['id'] for r in applied)
        kinds = kinds or sorted(set((r['id'][0], r['id'][1]) for r in applied))
        namespaces = sorted(set(r['id'][2] for r in applied if r['id'][2])) or [self.namespace]
        pruned = []
        for api_version, kind in kinds:
            resource = served(self.client, api_version, kind)
            if resource is None:
                continue
            for namespace in (namespaces if resource.namespaced else [None]):
                if resource.namespaced and not namespace:
                    continue
                items = k8s_call('list %s for pruning' % kind, lambda: self.client.get(
                    resource, namespace=namespace, label_selector=label_selector).to_dict().get('items') or [])
                for item in items:
                    item.setdefault('apiVersion', api_version)
                    item.setdefault('kind', kind)
                    if ident(item) not in keep:
                        record = self.delete_one(item, wait_timeout, wait_sleep)
                        record['action'] = 'pruned'
                        pruned.append(record)
        return pruned


def report(records, diff=False):
    """What a module returns for applied records: the changed flag, one entry per object and, when `diff` (Ansible's
    --diff), the diff list (else None); secrets redacted."""
    changed = any(r['action'] not in ('unchanged', 'absent') for r in records)
    objects = []
    diffs = [] if diff else None
    for r in records:
        api_version, kind, namespace, name = r['id']
        objects.append({'apiVersion': api_version, 'kind': kind, 'namespace': namespace, 'name': name,
                        'action': r['action'], 'object': redact(r['object'])})
        if diff and r['action'] not in ('unchanged', 'absent'):
            diffs.append({'before_header': r['name'], 'after_header': r['name'],
                          'before': redact(comparable(r['before'])), 'after': redact(comparable(r['object']))})
    return changed, objects, diffs
