#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: istio_info
short_description: Report the Istio control plane revisions, the ingress gateway, the Gateway API CRDs and the mesh's APIs
version_added: 0.2.0
description:
  - The istiod Deployments (named C(istiod), or C(istiod-) and a revision, as the AKS add-on names them,
    C(istiod-asm-1-28)) in the control plane namespaces, each with its revision (label C(istio.io/rev)), readiness
    and version (the tag of its image).
  - With O(ingress), the ingress gateway's Service, its external addresses and ports, and whether it has an address.
  - The CustomResourceDefinitions of the Gateway API (group C(gateway.networking.k8s.io)) with their bundle version and
    channel, and whether AKS manages them (Managed Gateway API marks them C(app.kubernetes.io/managed-by=aks); AKS
    documents that mark as a label in one place and an annotation in another, so either counts). Roles must not install
    or overwrite CRDs that AKS manages.
  - Whether the server serves C(security.istio.io/v1), C(networking.istio.io/v1), C(gateway.networking.k8s.io/v1) and
    C(inference.networking.k8s.io/v1).
  - Reads only; never changes anything.
options:
  control_plane_namespaces:
    description:
      - Namespaces to look for istiod in. The AKS add-on runs it in C(aks-istio-system), upstream Istio in C(istio-system).
      - A name that is not a namespace name is refused before anything is read, naming this option.
    type: list
    elements: str
    default: [aks-istio-system, istio-system]
  ingress:
    description:
      - The ingress gateway Service to report in RV(ingress); leave it out to read none.
      - A namespace or Service name that is not a DNS label is refused before anything is read, naming the option.
    type: dict
    suboptions:
      namespace:
        description: Namespace of the Service (the AKS add-on's external ingress gateway runs in C(aks-istio-ingress)).
        type: str
        default: aks-istio-ingress
      service:
        description: Name of the Service (C(aks-istio-ingressgateway-internal) for the add-on's internal gateway).
        type: str
        default: aks-istio-ingressgateway-external
extends_documentation_fragment:
  - aiplatform.aks.k8s_auth
  - aiplatform.aks.attributes.info_module
requirements:
  - kubernetes >= 37
'''

EXAMPLES = r'''
- name: Read the mesh and the add-on's external ingress gateway
  aiplatform.aks.istio_info:
    ingress: {}
  register: mesh

- name: One istiod revision is ready
  ansible.builtin.assert:
    that: mesh.revisions | selectattr('ready') | list | length > 0
    fail_msg: "No istiod is ready: {{ mesh.revisions | map(attribute='deployment') | join(', ') or 'none found' }}"

- name: Say where the gateway listens
  ansible.builtin.debug:
    msg: "{{ mesh.ingress.addresses | join(', ') if mesh.ingress.ready else mesh.ingress.reason }}"

- name: Install the Gateway API CRDs only where AKS does not manage them
  ansible.builtin.debug:
    msg: "Gateway API {{ mesh.gateway_api.bundle_version }} is managed by AKS: leave its CRDs alone"
  when: mesh.gateway_api.managed_by_aks

- name: Upstream Istio in its own namespace
  aiplatform.aks.istio_info:
    control_plane_namespaces: [istio-system]
'''

RETURN = r'''
revisions:
  description: The istiod Deployments found in O(control_plane_namespaces), sorted by revision, then namespace.
  returned: always
  type: list
  elements: dict
  contains:
    revision: {description: 'The C(istio.io/rev) label; C(default) without it.', type: str, returned: always, sample: asm-1-28}
    namespace: {description: Namespace of the Deployment., type: str, returned: always, sample: aks-istio-system}
    deployment: {description: Name of the Deployment., type: str, returned: always, sample: istiod-asm-1-28}
    ready:
      description: >-
        The Deployment's controller has seen its latest spec (C(status.observedGeneration) at least
        C(metadata.generation)) and at least C(spec.replicas) (1 when unset, and more than 0) replicas are ready.
      type: bool
      returned: always
    replicas: {description: The replicas asked for (C(spec.replicas); 1 when unset)., type: int, returned: always, sample: 2}
    ready_replicas: {description: Ready replicas (C(status.readyReplicas))., type: int, returned: always, sample: 2}
    version:
      description: Tag of the image of the C(discovery) container (else of the first container); null without a tag.
      type: str
      returned: always
      sample: 1.28.1-distroless
  sample: [{revision: asm-1-28, namespace: aks-istio-system, deployment: istiod-asm-1-28, ready: true, replicas: 2,
            ready_replicas: 2, version: 1.28.1-distroless}]
revision_names:
  description: The distinct revisions of RV(revisions), sorted; two during an upgrade of the add-on.
  returned: always
  type: list
  elements: str
  sample: [asm-1-27, asm-1-28]
ingress:
  description: The ingress gateway Service of O(ingress); null without that option.
  returned: always
  type: dict
  contains:
    namespace: {description: Namespace of the Service., type: str, returned: always, sample: aks-istio-ingress}
    service: {description: Name of the Service., type: str, returned: always, sample: aks-istio-ingressgateway-external}
    found: {description: The Service exists., type: bool, returned: always}
    type: {description: 'The Service type (C(LoadBalancer), C(ClusterIP), ...); null when it does not exist.', type: str, returned: always}
    addresses:
      description: The IP addresses or host names of C(status.loadBalancer.ingress).
      type: list
      elements: str
      returned: always
      sample: [20.61.12.34]
    ports:
      description: The Service's ports, each with its C(name) and C(port).
      type: list
      elements: dict
      returned: always
      sample: [{name: status-port, port: 15021}, {name: http2, port: 80}, {name: https, port: 443}]
    ready: {description: 'The Service exists and, when of type C(LoadBalancer), has an external address.', type: bool, returned: always}
    reason:
      description: Why it is not ready; null when it is.
      type: str
      returned: always
      sample: Service aks-istio-ingress/aks-istio-ingressgateway-external has no external address yet (status.loadBalancer.ingress is empty)
  sample: {namespace: aks-istio-ingress, service: aks-istio-ingressgateway-external, found: true, type: LoadBalancer,
           addresses: [20.61.12.34], ports: [{name: http2, port: 80}], ready: true, reason: null}
gateway_api:
  description: The Gateway API CRDs (group C(gateway.networking.k8s.io)).
  returned: always
  type: dict
  contains:
    crds:
      description: >-
        Each CRD, by name, with its C(bundle_version) and C(channel) (annotations C(gateway.networking.k8s.io/bundle-version)
        and C(gateway.networking.k8s.io/channel); null without them), its C(served_versions), C(managed_by) (the
        C(app.kubernetes.io/managed-by) label, else that annotation; null without either), and C(managed_by_aks), true
        when C(app.kubernetes.io/managed-by) is C(aks) as a label or an annotation.
      type: list
      elements: dict
      returned: always
      sample: [{name: gateways.gateway.networking.k8s.io, bundle_version: v1.4.1, channel: standard, served_versions: [v1, v1beta1],
                managed_by: aks, managed_by_aks: true}]
    installed: {description: At least one Gateway API CRD is installed., type: bool, returned: always}
    managed_by_aks: {description: 'AKS manages at least one of them (Managed Gateway API): do not install or overwrite them.', type: bool, returned: always}
    bundle_version:
      description: The lowest bundle version among the CRDs, compared numerically; null without CRDs or annotations.
      type: str
      returned: always
      sample: v1.4.1
apis:
  description: >-
    Whether the server serves each API the mesh uses, by group and version: C(security.istio.io/v1) (PeerAuthentication),
    C(networking.istio.io/v1) (DestinationRule), C(gateway.networking.k8s.io/v1) (Gateway) and
    C(inference.networking.k8s.io/v1) (InferencePool).
  returned: always
  type: dict
  sample: {security.istio.io/v1: true, networking.istio.io/v1: true, gateway.networking.k8s.io/v1: true, inference.networking.k8s.io/v1: false}
'''

from ansible_collections.aiplatform.aks.plugins.module_utils.istio.info import DEFAULT_CONTROL_PLANE_NAMESPACES, DEFAULT_INGRESS, gather, input_problems
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.module import K8sModule


def main():
    module = K8sModule(argument_spec=dict(
        control_plane_namespaces=dict(type='list', elements='str', default=list(DEFAULT_CONTROL_PLANE_NAMESPACES)),
        ingress=dict(type='dict', options=dict((key, dict(type='str', default=value)) for key, value in DEFAULT_INGRESS.items())),
    ))
    p = module.params
    module.fail_on_input(input_problems(p))
    try:
        found = gather(module.client, p['control_plane_namespaces'], p['ingress'])
    except K8sError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **found)


if __name__ == '__main__':
    main()
