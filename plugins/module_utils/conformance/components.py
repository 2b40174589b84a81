# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The installed versions of the platform's components, beside the versions the role variables target.

A component's version is read from its controller (Deployment or DaemonSet, in any namespace): the chart label
`helm.sh/chart` (`<chart>-<version>`), else `app.kubernetes.io/version`, else the tag of its first container's image;
for the Gateway API from the CRDs' bundle annotation. `drift` is true when the installed version is not the target
(a leading `v` and an image variant suffix such as `-distroless` aside) or nothing is installed.
"""

from __future__ import annotations

from ansible_collections.aiplatform.aks.plugins.module_utils.istio.info import BUNDLE_VERSION, GATEWAY_GROUP, image_tag
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import list_items

# name -> (kind, object names, chart name): what each component's controller is called in its charts or add-ons
KNOWN = {
    'gpu_operator': ('Deployment', ('gpu-operator',), 'gpu-operator'),
    'nvidia_dra_driver': ('Deployment', ('nvidia-dra-driver-gpu-controller',), 'nvidia-dra-driver-gpu'),
    'kaito': ('Deployment', ('kaito-workspace',), 'workspace'),
    'istio': ('Deployment', ('istiod',), 'istiod'),
    'kueue': ('Deployment', ('kueue-controller-manager',), 'kueue'),
    'keda': ('Deployment', ('keda-operator',), 'keda'),
    'kube_prometheus_stack': ('Deployment', ('kube-prometheus-stack-operator',), 'kube-prometheus-stack'),
    'dcgm_exporter': ('DaemonSet', ('nvidia-dcgm-exporter',), 'dcgm-exporter'),
    'gateway_api': ('CustomResourceDefinition', (), None),
}


def normalise(version):
    return str(version).strip().lstrip('v') if version is not None else None


def same_version(installed, target):
    """Equal without a leading 'v', or the installed one is the target with an image variant suffix (1.28.10-distroless)."""
    have, want = normalise(installed), normalise(target)
    return have == want or have.startswith(want + '-')


def object_version(obj, chart):
    meta = obj.get('metadata') or {}
    labels = meta.get('labels') or {}
    label = labels.get('helm.sh/chart') or ''
    if chart and label.startswith(chart + '-'):
        return label[len(chart) + 1:]
    if labels.get('app.kubernetes.io/version'):
        return labels['app.kubernetes.io/version']
    containers = ((((obj.get('spec') or {}).get('template') or {}).get('spec') or {}).get('containers')) or [{}]
    return image_tag(containers[0].get('image'))


def installed_version(client, name):
    """The version of component `name` the cluster runs, or None (not found, or a name this module does not know)."""
    if name not in KNOWN:
        return None
    kind, names, chart = KNOWN[name]
    if kind == 'CustomResourceDefinition':
        crds = list_items(client, 'apiextensions.k8s.io/v1', kind, 'list CustomResourceDefinitions') or []
        versions = sorted(set((c['metadata'].get('annotations') or {}).get(BUNDLE_VERSION) for c in crds
                              if (c.get('spec') or {}).get('group') == GATEWAY_GROUP) - {None})
        return versions[0] if versions else None
    for object_name in names:
        found = list_items(client, 'apps/v1', kind, 'list the %ss named %s' % (kind, object_name), field_selector='metadata.name=%s' % object_name)
        if not found and name == 'istio':
            # the AKS add-on names istiod after its revision (istiod-asm-1-28)
            found = [d for d in list_items(client, 'apps/v1', kind, 'list Deployments') or [] if d['metadata']['name'].startswith('istiod-')]
        if found:
            return object_version(sorted(found, key=lambda o: (o['metadata']['namespace'], o['metadata']['name']))[0], chart)
    return None


def components(client, wanted):
    """[{name, target, installed, drift}] for each {name, target} of `wanted`."""
    rows = []
    for item in wanted or []:
        installed = installed_version(client, item['name'])
        rows.append({'name': item['name'], 'target': item.get('target'), 'installed': installed,
                     'drift': installed is None or (item.get('target') is not None and not same_version(installed, item['target']))})
    return rows
