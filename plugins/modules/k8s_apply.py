#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: k8s_apply
short_description: Apply, wait for, prune or delete many Kubernetes objects in one call
version_added: 0.1.0
description:
  - Applies a whole component (inline definitions, files, templates) with server-side apply under the field
    manager O(field_manager), in one module call.
  - Each object is first applied as a server dry run; the real apply is sent only when the result differs
    from the live object, so a second run writes nothing and reports C(changed=false).
  - Every object is dry-run before the first write, so an object the server refuses (schema, admission, a field
    conflict) stops the call before anything is written. Only objects that need a write of the same call (in a
    namespace it creates, of a kind whose CRD it creates or changes) are dry-run when their turn comes.
  - Namespaces and CustomResourceDefinitions are applied first, and each CRD is waited for until it is
    Established, so a CRD and objects of its kind can be applied in the same call.
  - Check mode uses server-side dry run; C(--diff) shows each object's before and after without status and
    server bookkeeping. Secret values are never shown.
  - With O(validate), every object is validated on the controller first (built-in kinds against the Kubernetes
    schemas, custom resources against their CRD including its CEL rules), so a bad manifest writes nothing even where
    the server would have accepted part of the call.
  - With O(wait=true), each applied object must be ready. Deployments, StatefulSets and DaemonSets must be rolled out
    for their current generation; Jobs complete; Namespaces active; other kinds must satisfy O(wait_condition)
    if given, else exist.
options:
  definitions:
    description:
      - Objects to manage; a list of mappings, one mapping, or a string of one or more YAML documents.
        C(List) kinds are expanded into their items.
      - The task result's C(invocation) (printed with C(-v) and more) shows them with the values of Secrets
        (C(data), C(stringData)) masked.
    type: raw
  src:
    description:
      - Manifest files (YAML, several documents allowed). Relative paths are looked up like the
        M(ansible.builtin.copy) C(src) option (role C(files/) first).
    type: list
    elements: path
  template:
    description:
      - Jinja2 templates rendered on the controller with the task's variables. Each item is a path, or a
        mapping with C(path) and extra C(vars). Relative paths are looked up like the template module does (role
        C(templates/) first), then in the collection's own C(templates/) directory, which holds manifests shared
        across roles such as C(namespaces.yaml.j2).
    type: list
    elements: raw
  state:
    description:
      - C(present) applies the objects; C(absent) deletes them (in reverse order) and waits until they are gone.
      - Deletes cascade in the background, as C(kubectl delete) does. The objects an object owns (the pods of a Job, the
        ReplicaSets of a Deployment) are deleted after it by the garbage collector, never orphaned.
  namespace:
    description: Namespace for namespaced objects that do not set C(metadata.namespace).
    type: str
  field_manager:
    description: Server-side apply field manager.
    type: str
    default: aiplatform.aks
  force_conflicts:
    description: Take over fields that another field manager owns instead of failing with the conflict.
    type: bool
    default: false
  wait:
    default: false
  wait_condition:
    description:
      - Condition that counts as ready. It only counts when reported for the object's current generation
        (C(observedGeneration)), so a stale condition from an earlier generation does not end the wait.
    type: dict
    suboptions:
      type:
        description: Condition type, for example C(Ready).
        type: str
        required: true
      status:
        description: Condition status.
        type: str
        choices: ['True', 'False', 'Unknown']
        default: 'True'
      reason:
        description: Required reason, if any.
        type: str
  wait_timeout:
    default: 300
  wait_sleep:
    default: 1.0
  prune:
    description:
      - After applying, delete objects that carry this label selector, are of the applied kinds (or O(prune.kinds)),
        live in the namespaces of the applied objects, and were not part of this call.
    type: dict
    suboptions:
      label_selector:
        description: Label selector that marks the objects this call owns, for example C(app.kubernetes.io/part-of=kaito).
        type: str
        required: true
      kinds:
        description: Kinds to consider, as C(apiVersion/Kind) strings (for example C(v1/ConfigMap)).
        type: list
        elements: str
extends_documentation_fragment:
  - aiplatform.aks.state
  - aiplatform.aks.k8s_auth
  - aiplatform.aks.k8s_validate
  - aiplatform.aks.k8s_wait
  - aiplatform.aks.attributes
notes:
  - Relative paths in O(validate.crds) are looked up like O(src) (role C(files/) first).
  - O(validate) is not used with O(state=absent).
attributes:
  check_mode:
    description: Server-side dry run of every object; nothing is written.
    support: full
requirements:
  - kubernetes >= 37
  - PyYAML
  - kubernetes-validate >= 1.35 (with O(validate))
  - common-expression-language >= 0.10 (with O(validate))
'''

EXAMPLES = r'''
- name: Apply a CRD and an object of it in one call
  aiplatform.aks.k8s_apply:
    definitions:
      - apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget}
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
      - apiVersion: example.com/v1
        kind: Widget
        metadata: {name: first, namespace: default}

- name: Render a component from templates and remove what it no longer contains
  aiplatform.aks.k8s_apply:
    template:
      - kaito/namespace.yaml.j2
      - path: kaito/config.yaml.j2
        vars: {replicas: 2}
    namespace: kaito-workspace
    wait: true
    prune:
      label_selector: app.kubernetes.io/managed-by=aiplatform.aks

- name: Refuse a Gateway API route that breaks its CRD's rules, before anything is written
  aiplatform.aks.k8s_apply:
    template: httproutes.yaml.j2
    validate:
      version: "1.34"
      # the upstream CRD, with the CEL rules an older server would have dropped
      crds: [crds/gateway.networking.k8s.io_httproutes.yaml]

- name: Report problems as warnings and apply anyway
  aiplatform.aks.k8s_apply:
    src: manifests/legacy.yaml
    validate:
      fail_on_error: false
      strict: false
  register: applied

- name: Show what validation found
  ansible.builtin.debug:
    msg: "{{ applied.validation | map(attribute='message') | list }}"

- name: Delete the objects of a manifest file
  aiplatform.aks.k8s_apply:
    src: manifests/monitoring.yaml
    state: absent
'''

RETURN = r'''
objects:
  description: One entry per object, in the order handled.
  returned: always
  type: list
  elements: dict
  contains:
    apiVersion: {description: API version., type: str, returned: always}
    kind: {description: Kind., type: str, returned: always}
    namespace:
      description: Namespace; null for cluster-scoped objects.
      type: str
      returned: always
    name: {description: Name., type: str, returned: always}
    action:
      description: What happened.
      type: str
      returned: always
      sample: unchanged
      choices: [created, updated, unchanged, deleted, absent, pruned]
    object: {description: The object as the server returns it (Secret values redacted)., type: dict, returned: always}
validation:
  description:
    - Problems found by client-side validation. With O(validate.fail_on_error) the module fails when there are any,
      and returns them here too.
  returned: when O(validate) is set
  type: list
  elements: dict
  contains:
    object:
      description: The object, as C(Kind namespace/name) or C(Kind name).
      type: str
      returned: always
      sample: HTTPRoute default/chat
    path:
      description: Field path in the object, empty for the object as a whole.
      type: str
      returned: always
      sample: spec.rules
    message:
      description: What is wrong; for a CEL rule, the rule's message.
      type: str
      returned: always
      sample: must have at most 16 items, has 17
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.apply import Applier, report
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import DNS_LABEL, label_selector_problems, load_documents, redact_definitions
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.validate import VALIDATE_ARG_SPEC, InvalidObjects, validator_for
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import wait_spec
from ansible_collections.aiplatform.aks.plugins.module_utils.module import STATE_ARG_SPEC, merge_specs


def collect(module):
    """Parse every definition before anything is sent, so bad input writes nothing."""
    params = module.params
    if params['template']:
        module.fail_json(msg='template is rendered by the k8s_apply action plugin; call the module by its name aiplatform.aks.k8s_apply')
    value = params['definitions']
    items = [] if value is None else value if isinstance(value, list) else [value]
    sources = [('definitions item %d' % (i + 1), item) for i, item in enumerate(items)]
    for path in params['src'] or []:
        try:
            with open(path, encoding='utf-8') as handle:
                sources.append((path, handle.read()))
        except (OSError, UnicodeDecodeError) as exc:
            module.fail_on_input(['cannot read src %s: %s' % (path, getattr(exc, 'strerror', None) or exc)])
    objects = []
    try:
        for origin, value in sources:
            objects.extend(load_documents(value, origin))
    except (ValueError, TypeError) as exc:
        module.fail_on_input(['invalid definitions: %s' % exc])
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_on_input(['cannot parse definitions as YAML: %s' % exc])
    if not objects:
        module.fail_on_input(['no objects given (definitions, src or template)'])
    return objects


def redact_args(params):
    """The arguments as the result's invocation shows them: Secret values in definitions masked."""
    params['definitions'] = redact_definitions(params.get('definitions'))
    return params


def parse_kinds(kinds):
    parsed = []
    for item in kinds or []:
        api_version, sep, kind = item.rpartition('/')
        if not sep or not kind:
            raise ValueError('prune.kinds entry %r must look like apiVersion/Kind, for example v1/ConfigMap' % item)
        parsed.append((api_version, kind))
    return parsed


def main():
    spec = merge_specs(
        STATE_ARG_SPEC, VALIDATE_ARG_SPEC, wait_spec(),
        definitions=dict(type='raw'),
        src=dict(type='list', elements='path'),
        template=dict(type='list', elements='raw'),
        namespace=dict(type='str'),
        field_manager=dict(type='str', default='aiplatform.aks'),
        force_conflicts=dict(type='bool', default=False),
        wait_condition=dict(type='dict', options=dict(
            type=dict(type='str', required=True),
            status=dict(type='str', default='True', choices=['True', 'False', 'Unknown']),
            reason=dict(type='str'),
        )),
        prune=dict(type='dict', options=dict(
            label_selector=dict(type='str', required=True),
            kinds=dict(type='list', elements='str'),
        )),
    )
    module = K8sModule(argument_spec=spec, required_one_of=[('definitions', 'src', 'template')], redact_args=redact_args)
    params = module.params
    objects = collect(module)
    try:
        prune_kinds = parse_kinds((params['prune'] or {}).get('kinds'))
    except ValueError as exc:
        module.fail_on_input([str(exc)])
    problems = []
    if params['prune']:
        problems.extend(label_selector_problems(params['prune']['label_selector'], 'prune.label_selector'))
    if params['namespace'] is not None and not DNS_LABEL.match(params['namespace']):
        problems.append('namespace %r is not a namespace name (lowercase letters, digits and -, at most 63)' % params['namespace'])
    if not params['field_manager'] or len(params['field_manager']) > 128:
        problems.append('field_manager must be 1 to 128 characters, got %r' % params['field_manager'])
    module.fail_on_input(problems)

    validator = validator_for(module, module.client) if params['state'] == 'present' else None
    applier = Applier(module.client, check_mode=module.check_mode, namespace=params['namespace'],
                      field_manager=params['field_manager'], force_conflicts=params['force_conflicts'], validator=validator)
    try:
        if params['state'] == 'absent':
            records = applier.delete(objects, params['wait_timeout'], params['wait_sleep'])
        else:
            records = applier.apply(objects, params['wait'], params['wait_timeout'], params['wait_condition'], params['wait_sleep'])
            if params['prune']:
                records.extend(applier.prune(records, params['prune']['label_selector'], prune_kinds,
                                             params['wait_timeout'], params['wait_sleep']))
    except InvalidObjects as exc:
        module.fail_json(msg=str(exc), validation=exc.problems)
    except K8sError as exc:
        module.fail_json(msg=str(exc))
    changed, summary, diffs = report(records, module._diff)
    result = dict(changed=changed, objects=summary)
    if diffs is not None:
        result['diff'] = diffs
    if validator:
        result['validation'] = applier.validation
    module.exit_json(**result)


if __name__ == '__main__':
    main()
