#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: kaito_info
short_description: Report whether KAITO is installed and ready, and whether the NVIDIA GPU Operator runs
version_added: 0.1.0
description:
  - Checks that KAITO's CRDs are installed and Established and serve the API version the collection renders
    (C(kaito.sh/v1beta1)), and that the controller Deployment is rolled out for its current generation.
  - Reports the controller's image version, feature gates and node provisioner from its arguments.
  - Reports whether the NVIDIA GPU Operator runs (a C(nvidia.com/v1) ClusterPolicy exists); KAITO's own device
    plugin and GPU feature discovery must then stay off.
  - Verifies the AKS add-on (controller C(kaito-workspace) in C(kube-system)) without installing anything.
  - KAITO is ready when its CRDs are Established and serve O(api_version) and its controller is rolled out;
    O(wait=true) waits up to O(wait_timeout) seconds for that.
options:
  namespace:
    description: Namespace of the controller. C(kube-system) for the AKS add-on, the Helm release namespace otherwise.
    type: str
    default: kaito-workspace
  deployment:
    description: Name of the controller Deployment.
    type: str
    default: kaito-workspace
  crds:
    description: CRDs that must be installed and Established.
    type: list
    elements: str
    default: [workspaces.kaito.sh]
  api_version:
    description: API version that the CRD of its group must serve.
    type: str
    default: kaito.sh/v1beta1
  wait:
    default: false
  wait_timeout:
    default: 300
  wait_sleep:
    default: 2.0
  absent_timeout:
    description:
      - With O(wait=true), seconds to go on waiting while nothing of KAITO exists (none of O(crds) and no controller
        Deployment), after which the module stops waiting. When something exists, O(wait_timeout) applies.
      - Nothing being there usually means nothing is being installed, so waiting the whole O(wait_timeout) would only
        delay the failure; give the time an installation takes to create its first object (the AKS add-on, a chart
        installed by another job).
      - Default O(wait_timeout). A negative value is refused.
    type: int
  require_ready:
    description: Fail, listing every problem found, when KAITO is not ready (after waiting with O(wait=true)).
    type: bool
    default: false
extends_documentation_fragment:
  - aiplatform.aks.k8s_auth
  - aiplatform.aks.k8s_wait
  - aiplatform.aks.attributes.info_module
requirements:
  - kubernetes >= 37
'''

EXAMPLES = r'''
- name: Verify the AKS add-on
  aiplatform.aks.kaito_info:
    namespace: kube-system
    wait: true
    require_ready: true

- name: Is the GPU Operator there?
  aiplatform.aks.kaito_info:
  register: kaito

- name: Show it
  ansible.builtin.debug:
    msg: "GPU Operator: {{ kaito.gpu_operator.present }}, KAITO {{ kaito.controller.version | default('not installed') }}"
'''

RETURN = r'''
installed:
  description: The CRDs and the controller Deployment exist.
  returned: always
  type: bool
nothing_installed:
  description: None of the CRDs and no controller Deployment exist.
  returned: always
  type: bool
ready:
  description: The CRDs are Established and serve O(api_version), and the controller is rolled out.
  returned: always
  type: bool
problems:
  description: Why KAITO is not ready.
  returned: always
  type: list
  elements: str
  sample: [KAITO controller kube-system/kaito-workspace is not ready, readyReplicas is 0 of 1]
crds:
  description: State of each CRD of O(crds).
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: CRD name., type: str, returned: always}
    exists: {description: Installed., type: bool, returned: always}
    established: {description: Established condition is True., type: bool, returned: always}
    served_versions: {description: Served versions., type: list, elements: str, returned: always}
    storage_version: {description: Storage version., type: str, returned: always}
controller:
  description: State of the controller Deployment.
  returned: always
  type: dict
  contains:
    exists: {description: The Deployment exists., type: bool, returned: always}
    ready: {description: Rolled out for its current generation., type: bool, returned: always}
    image: {description: Controller image., type: str, returned: when it exists}
    version: {description: Tag of the controller image., type: str, returned: when it exists, sample: 0.12.0}
    feature_gates: {description: Feature gates from C(--feature-gates)., type: dict, returned: when it exists}
    node_provisioner: {description: Value of C(--node-provisioner)., type: str, returned: when it exists, sample: byo}
gpu_operator:
  description: Whether the NVIDIA GPU Operator runs.
  returned: always
  type: dict
  contains:
    present: {description: At least one ClusterPolicy exists., type: bool, returned: always}
    cluster_policies: {description: Name and state of each ClusterPolicy., type: list, elements: dict, returned: always}
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.aiplatform.aks.plugins.module_utils.kaito.controller import gather, wait_until_ready
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.wait import wait_spec


def input_problems(params):
    """Sentences about options no read could use."""
    problems = ['crds item %r is not a CRD name (<plural>.<group>, for example workspaces.kaito.sh)' % name
                for name in params['crds'] if '.' not in name.strip('.') or ' ' in name or '/' in name]
    if params['api_version'].count('/') != 1 or not all(params['api_version'].split('/')):
        problems.append('api_version %r must look like group/version, for example kaito.sh/v1beta1' % params['api_version'])
    if (params['absent_timeout'] or 0) < 0:
        problems.append('absent_timeout must not be negative, got %s' % params['absent_timeout'])
    for option in ('namespace', 'deployment'):
        if not params[option]:
            problems.append('%s must not be empty' % option)
    return problems


def main():
    spec = wait_spec(sleep=2.0)
    spec.update(
        namespace=dict(type='str', default='kaito-workspace'),
        deployment=dict(type='str', default='kaito-workspace'),
        crds=dict(type='list', elements='str', default=['workspaces.kaito.sh']),
        api_version=dict(type='str', default='kaito.sh/v1beta1'),
        require_ready=dict(type='bool', default=False),
        absent_timeout=dict(type='int'),
    )
    module = K8sModule(argument_spec=spec)
    p = module.params
    module.fail_on_input(input_problems(p))
    try:
        if p['wait']:
            state = wait_until_ready(module.client, p['namespace'], p['deployment'], p['crds'], p['api_version'], p['wait_timeout'], p['wait_sleep'],
                                     absent_timeout=p['absent_timeout'])
        else:
            state = gather(module.client, p['namespace'], p['deployment'], p['crds'], p['api_version'])
    except K8sError as exc:
        module.fail_json(msg=str(exc))
    if p['require_ready'] and not state['ready']:
        if state['nothing_installed']:
            module.fail_json(msg='KAITO is not installed: %s' % '; '.join(state['problems']), changed=False, **state)
        waited = ' after waiting %ss' % p['wait_timeout'] if p['wait'] else ''
        module.fail_json(msg='KAITO is not ready%s: %s' % (waited, '; '.join(state['problems'])), changed=False, **state)
    module.exit_json(changed=False, **state)


if __name__ == '__main__':
    main()
