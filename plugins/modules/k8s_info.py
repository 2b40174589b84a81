#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: k8s_info
short_description: Read Kubernetes objects by kind, name, namespace and selectors
version_added: 0.1.0
description:
  - Gets one object or lists objects of a kind, for verify steps and facts. Discovery stays in memory (no cache
    files in the temporary directory). Secret values are redacted.
options:
  api_version:
    description: API version of the kind, for example C(v1) or C(kaito.sh/v1beta1).
    type: str
    default: v1
  kind:
    description: Kind to read, for example C(Node).
    type: str
    required: true
  name:
    description: Name of one object; without it the matching objects are listed.
    type: str
  namespace:
    description: Namespace to read from; without it namespaced kinds are listed across all namespaces.
    type: str
  label_selectors:
    description: Label selectors, joined with commas (for example C(kubernetes.azure.com/agentpool=gpunp)).
    type: list
    elements: str
    default: []
  field_selectors:
    description: Field selectors, joined with commas.
    type: list
    elements: str
    default: []
  allow_missing:
    description:
      - Whether the kind may be one the server does not serve (for example a CRD that is not installed yet). With
        C(true) the module then returns C(api_found=false) and no resources; with C(false) it fails naming the kind.
    type: bool
    default: false
extends_documentation_fragment:
  - aiplatform.aks.k8s_auth
  - aiplatform.aks.attributes.info_module
requirements:
  - kubernetes >= 37
'''

EXAMPLES = r'''
- name: Nodes of the AI pool
  aiplatform.aks.k8s_info:
    kind: Node
    label_selectors: [kubernetes.azure.com/agentpool=gpunp]
  register: ai_nodes

- name: KAITO workspaces, if KAITO's CRDs are installed
  aiplatform.aks.k8s_info:
    api_version: kaito.sh/v1beta1
    kind: Workspace
    allow_missing: true
  register: workspaces
'''

RETURN = r'''
resources:
  description: The objects found (empty when none match, or when the kind is not served and O(allow_missing=true)).
  returned: always
  type: list
  elements: dict
api_found:
  description: Whether the server serves the kind (false only with O(allow_missing=true)).
  returned: always
  type: bool
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError, k8s_call, served
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import label_selector_problems, redact


def input_problems(params):
    """Sentences about options no request could use."""
    problems = []
    if not params['kind'] or not params['kind'][:1].isupper() or not params['kind'].isalnum():
        problems.append('kind %r must be a Kind as the API names it, for example Node or ConfigMap' % params['kind'])
    version = params['api_version'] or ''
    if not version or version.count('/') > 1 or ' ' in version or version.endswith('/') or version.startswith('/'):
        problems.append('api_version %r must look like v1 or group/version, for example kaito.sh/v1beta1' % version)
    for option in ('label_selectors', 'field_selectors'):
        problems.extend('%s item %d is empty' % (option, i + 1) for i, item in enumerate(params[option]) if not item.strip())
    for item in params['label_selectors']:
        if item.strip():
            problems.extend(label_selector_problems(item, 'label_selectors item'))
    return problems


def main():
    module = K8sModule(argument_spec=dict(
        api_version=dict(type='str', default='v1'),
        kind=dict(type='str', required=True),
        name=dict(type='str'),
        namespace=dict(type='str'),
        label_selectors=dict(type='list', elements='str', default=[]),
        field_selectors=dict(type='list', elements='str', default=[]),
        allow_missing=dict(type='bool', default=False),
    ))
    p = module.params
    module.fail_on_input(input_problems(p))
    resource = served(module.client, p['api_version'], p['kind'])
    if resource is None:
        if not p['allow_missing']:
            module.fail_json(msg='the server does not serve kind %s in api_version %s (a typo, or a CRD that is not installed?); '
                                 'set allow_missing: true if it may be absent' % (p['kind'], p['api_version']), api_found=False)
        module.exit_json(changed=False, resources=[], api_found=False)
    namespace = p['namespace'] if resource.namespaced else None
    try:
        if p['name']:
            found = k8s_call('read ' + p['kind'], lambda: [module.client.get(resource, name=p['name'], namespace=namespace).to_dict()],
                             not_found=[])
        else:
            listed = k8s_call('read ' + p['kind'], lambda: module.client.get(
                resource, namespace=namespace, label_selector=','.join(p['label_selectors']) or None,
                field_selector=','.join(p['field_selectors']) or None).to_dict())
            found = [dict(item, apiVersion=p['api_version'], kind=p['kind']) for item in listed.get('items') or []]
    except K8sError as exc:
        selectors = ['%s %s' % (option, ','.join(p[option])) for option in ('label_selectors', 'field_selectors') if p[option]]
        module.fail_json(msg='%s%s' % (exc, ' (with %s)' % '; '.join(selectors) if selectors else ''))
    module.exit_json(changed=False, resources=[redact(obj) for obj in found], api_found=True)


if __name__ == '__main__':
    main()
