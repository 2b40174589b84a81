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
'''

RETURN = r'''
resources:
  description: The objects found (empty when none match or the kind is not served).
  returned: always
  type: list
  elements: dict
api_found:
  description: Whether the server serves the kind.
  returned: always
  type: bool
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError, k8s_call, served
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import redact


def main():
    module = K8sModule(argument_spec=dict(
        api_version=dict(type='str', default='v1'),
        kind=dict(type='str', required=True),
        name=dict(type='str'),
        namespace=dict(type='str'),
        label_selectors=dict(type='list', elements='str', default=[]),
        field_selectors=dict(type='list', elements='str', default=[]),
    ))
    p = module.params
    resource = served(module.client, p['api_version'], p['kind'])
    if resource is None:
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
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, resources=[redact(obj) for obj in found], api_found=True)


if __name__ == '__main__':
    main()
