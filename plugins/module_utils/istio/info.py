# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the cluster runs of Istio and the Gateway API, read only.

The istiod Deployments of each revision in the control plane namespaces, the ingress gateway's Service and its
address, the Gateway API CRDs with their bundle version and whether AKS owns them, and which of the mesh's APIs the
server serves.
"""

from __future__ import annotations

import re

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import list_items, read_object, served
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import DNS_LABEL

# the AKS add-on, then upstream Istio
DEFAULT_CONTROL_PLANE_NAMESPACES = ('aks-istio-system', 'istio-system')
ISTIOD = 'istiod'  # upstream's Deployment; a revision's is istiod-<revision> (istiod-asm-1-28 on AKS)
REVISION_LABEL = 'istio.io/rev'
DEFAULT_REVISION = 'default'  # what Istio calls an install without a revision
DISCOVERY_CONTAINER = 'discovery'

DEFAULT_INGRESS = {'namespace': 'aks-istio-ingress', 'service': 'aks-istio-ingressgateway-external'}

GATEWAY_GROUP = 'gateway.networking.k8s.io'
BUNDLE_VERSION = 'gateway.networking.k8s.io/bundle-version'
CHANNEL = 'gateway.networking.k8s.io/channel'
# AKS documents its mark on the Managed Gateway API CRDs as a label in one place and an annotation in another
MANAGED_BY = 'app.kubernetes.io/managed-by'
MANAGED_BY_AKS = 'aks'

# one kind of each API group the mesh's roles write
APIS = (('security.istio.io/v1', 'PeerAuthentication'), ('networking.istio.io/v1', 'DestinationRule'),
        ('gateway.networking.k8s.io/v1', 'Gateway'), ('inference.networking.k8s.io/v1', 'InferencePool'))

_VERSION = re.compile(r'^v?(\d+)\.(\d+)(?:\.(\d+))?(-\S+)?$')


def input_problems(params):
    """Sentences about the options no read could use."""
    problems = []
    namespaces = params.get('control_plane_namespaces')
    if not namespaces:
        problems.append('control_plane_namespaces is empty: give the namespaces istiod runs in (aks-istio-system on the AKS add-on)')
    for index, namespace in enumerate(namespaces or []):
        if not isinstance(namespace, str) or not DNS_LABEL.match(namespace):
            problems.append("control_plane_namespaces item %d %r is not a namespace name (up to 63 lower case letters, digits or '-', "
                            'starting and ending with a letter or digit)' % (index + 1, namespace))
    ingress = params.get('ingress')
    for option in ('namespace', 'service') if ingress else ():
        value = ingress.get(option)
        if not isinstance(value, str) or not DNS_LABEL.match(value):
            problems.append("ingress.%s %r is not a %s name (up to 63 lower case letters, digits or '-', starting and ending with a "
                            'letter or digit)' % (option, value, option))
    return problems


def image_tag(image):
    """The tag of an image reference (registry:port/repo:tag@digest), or None without one."""
    name = (image or '').split('@')[0].rsplit('/', 1)[-1]
    return name.partition(':')[2] or None


def is_istiod(name):
    return name == ISTIOD or name.startswith(ISTIOD + '-')


def revision_info(deployment):
    """One istiod Deployment: its revision, readiness and version."""
    meta = deployment['metadata']
    spec = deployment.get('spec') or {}
    status = deployment.get('status') or {}
    replicas = spec.get('replicas')
    replicas = 1 if replicas is None else replicas
    ready_replicas = status.get('readyReplicas') or 0
    containers = ((spec.get('template') or {}).get('spec') or {}).get('containers') or []
    discovery = next((c for c in containers if c.get('name') == DISCOVERY_CONTAINER), containers[0] if containers else {})
    # a status the controller wrote before the last spec change says nothing about this spec
    current = (status.get('observedGeneration') or 0) >= (meta.get('generation') or 0)
    return {
        'revision': (meta.get('labels') or {}).get(REVISION_LABEL) or DEFAULT_REVISION,
        'namespace': meta.get('namespace'),
        'deployment': meta['name'],
        'ready': current and replicas > 0 and ready_replicas >= replicas,
        'replicas': replicas,
        'ready_replicas': ready_replicas,
        'version': image_tag(discovery.get('image')),
    }


def revisions(client, namespaces):
    """The istiod Deployments of `namespaces`, sorted by revision, then namespace."""
    found = []
    for namespace in sorted(set(namespaces)):
        items = list_items(client, 'apps/v1', 'Deployment', 'list the Deployments of namespace %s' % namespace, namespace=namespace) or []
        found.extend(revision_info(d) for d in items if is_istiod(d['metadata']['name']))
    return sorted(found, key=lambda r: (r['revision'], r['namespace'], r['deployment']))


def ingress_info(client, namespace, name):
    """The ingress gateway's Service: its type, external addresses and ports, and whether it can take traffic."""
    where = 'Service %s/%s' % (namespace, name)
    service = read_object(client, served(client, 'v1', 'Service'), name, namespace)
    if service is None:
        return {'namespace': namespace, 'service': name, 'found': False, 'type': None, 'addresses': [], 'ports': [],
                'ready': False, 'reason': '%s does not exist' % where}
    spec = service.get('spec') or {}
    kind = spec.get('type') or 'ClusterIP'
    ingress = ((service.get('status') or {}).get('loadBalancer') or {}).get('ingress') or []
    addresses = [i.get('ip') or i.get('hostname') for i in ingress if i.get('ip') or i.get('hostname')]
    ready = kind != 'LoadBalancer' or bool(addresses)
    return {'namespace': namespace, 'service': name, 'found': True, 'type': kind, 'addresses': addresses,
            'ports': [{'name': p.get('name'), 'port': p.get('port')} for p in spec.get('ports') or []], 'ready': ready,
            'reason': None if ready else '%s has no external address yet (status.loadBalancer.ingress is empty)' % where}


def managed_by(meta):
    """Who marks the object as theirs (app.kubernetes.io/managed-by, as a label or else an annotation), or None."""
    return (meta.get('labels') or {}).get(MANAGED_BY) or (meta.get('annotations') or {}).get(MANAGED_BY) or None


def managed_by_aks(meta):
    return MANAGED_BY_AKS in ((meta.get('labels') or {}).get(MANAGED_BY), (meta.get('annotations') or {}).get(MANAGED_BY))


def version_key(version):
    """A bundle version ('v1.4.1') as a tuple that orders numerically, a release after its pre-releases; None when it
    is not a version."""
    match = _VERSION.match(version or '')
    if not match:
        return None
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor), int(patch or 0), pre is None, pre or '')


def gateway_api_info(client):
    """The CRDs of the Gateway API group, their bundle version and channel, and whether AKS manages them."""
    items = list_items(client, 'apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'list CustomResourceDefinitions') or []
    crds = []
    for item in sorted(items, key=lambda i: i['metadata']['name']):
        if (item.get('spec') or {}).get('group') != GATEWAY_GROUP:
            continue
        meta = item['metadata']
        annotations = meta.get('annotations') or {}
        crds.append({'name': meta['name'], 'bundle_version': annotations.get(BUNDLE_VERSION), 'channel': annotations.get(CHANNEL),
                     'served_versions': [v['name'] for v in item['spec'].get('versions') or [] if v.get('served')],
                     'managed_by': managed_by(meta), 'managed_by_aks': managed_by_aks(meta)})
    versions = [c['bundle_version'] for c in crds if version_key(c['bundle_version'])]
    return {'crds': crds, 'installed': bool(crds), 'managed_by_aks': any(c['managed_by_aks'] for c in crds),
            'bundle_version': min(versions, key=version_key) if versions else None}


def apis_served(client):
    return dict((api_version, served(client, api_version, kind) is not None) for api_version, kind in APIS)


def gather(client, control_plane_namespaces, ingress=None):
    """Everything istio_info returns; `ingress` ({namespace, service}) is the gateway Service to report, or None."""
    found = revisions(client, control_plane_namespaces)
    return {
        'revisions': found,
        'revision_names': sorted(set(r['revision'] for r in found)),
        'ingress': ingress_info(client, ingress['namespace'], ingress['service']) if ingress else None,
        'gateway_api': gateway_api_info(client),
        'apis': apis_served(client),
    }
