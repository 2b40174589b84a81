# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the istio role meshes the model namespaces: where Istio comes from and which revision labels them (istio_plan),
and the namespaces' labels that follow (istio_namespace_labels). Documented in the .yml file of each."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.module_utils.istio.info import version_key
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import DNS_LABEL

INSTALLS = ('auto', 'addon', 'helm', 'none')
MTLS_MODES = ('STRICT', 'PERMISSIVE', 'DISABLE', 'none')
TLS_MODES = ('DISABLE', 'SIMPLE', 'ISTIO_MUTUAL')
REVISION_LABEL = 'istio.io/rev'
ADDON_NAMESPACE = 'aks-istio-system'  # the add-on's control plane
INJECTION_LABEL = 'istio-injection'
# Namespaces that serve admission webhooks or run node agents: a sidecar there delays or breaks their start, and they
# serve no mesh traffic.
NO_SIDECAR_NAMESPACES = ('kube-system', 'aks-istio-system', 'istio-system', 'kaito-system', 'kaito-workspace', 'gpu-operator',
                         'nvidia-dra-driver-gpu', 'kueue-system', 'keda', 'volcano-system')
# Namespaces labelled with it may attach routes to the inference Gateway (its allowedRoutes selector).
GATEWAY_ACCESS_LABEL = 'aiplatform.aks/inference-gateway'


def _namespace_problems(namespaces):
    problems = []
    if not isinstance(namespaces, list):
        return ['istio_namespaces must be a list of namespace names, got %r' % (namespaces,)]
    for index, namespace in enumerate(namespaces):
        if not isinstance(namespace, str) or not DNS_LABEL.match(namespace):
            problems.append('istio_namespaces item %d %r is not a namespace name (lower case letters, digits and -, at most 63)'
                            % (index + 1, namespace))
    webhooks = sorted(set(n for n in namespaces if n in NO_SIDECAR_NAMESPACES))
    if webhooks:
        problems.append('istio_namespaces must not hold %s: admission webhooks and node agents run there, and a sidecar delays or '
                        'breaks their start' % ', '.join(webhooks))
    return problems


def _items(variable, items, known):
    """(where, item, problems) of each item of the list `variable`: problems already holds what every item needs, a
    mapping with a name and namespace that are DNS labels and no key outside `known`."""
    for index, item in enumerate(items or []):
        where = '%s item %d' % (variable, index + 1)
        if not isinstance(item, dict):
            yield where, {}, ['%s must be a mapping with %s' % (where, ', '.join(known))]
            continue
        problems = ['%s.%s %r is not a name (lower case letters, digits and -, at most 63)' % (where, key, item.get(key))
                    for key in ('name', 'namespace') if not isinstance(item.get(key), str) or not DNS_LABEL.match(item[key])]
        unknown = sorted(set(item) - set(known))
        if unknown:
            problems.append('%s has unknown keys %s (known: %s)' % (where, ', '.join(unknown), ', '.join(known)))
        yield where, item, problems


def _destination_rule_problems(rules):
    problems = []
    for where, rule, found in _items('istio_destination_rules', rules, ('name', 'namespace', 'host', 'tls_mode')):
        problems.extend(found)
        if not rule:
            continue
        if not isinstance(rule.get('host'), str) or not rule['host'].strip():
            problems.append('%s.host must name the Service (for example epp.ai-serving.svc.cluster.local)' % where)
        if rule.get('tls_mode', 'DISABLE') not in TLS_MODES:
            problems.append('%s.tls_mode must be one of %s, got %r' % (where, ', '.join(TLS_MODES), rule.get('tls_mode')))
    return problems


def _inference_pool_problems(pools):
    problems = []
    for where, pool, found in _items('istio_inference_pools', pools, ('name', 'namespace', 'match_labels', 'target_port', 'endpoint_picker')):
        problems.extend(found)
        if not pool:
            continue
        if not isinstance(pool.get('match_labels'), dict) or not pool['match_labels']:
            problems.append('%s.match_labels must select the model server pods (for example the workspace label)' % where)
        port = pool.get('target_port', 5000)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            problems.append('%s.target_port must be a port number from 1 to 65535, got %r' % (where, port))
        picker = pool.get('endpoint_picker')
        if picker is not None and (not isinstance(picker, dict) or not isinstance(picker.get('name'), str) or not DNS_LABEL.match(picker['name'])):
            problems.append('%s.endpoint_picker must name the picker\'s Service (name, and port: 9002 by default)' % where)
    return problems


def _gateway_api_install(gateway_api, version):
    """(install, why) for the Gateway API CRDs of `version` on the helm path: where there are none, or where the
    installed ones are older and nobody marks them as theirs."""
    if not gateway_api.get('installed'):
        return True, 'no Gateway API CRDs are installed: the role installs the standard channel %s' % version
    owners = sorted(set(c['managed_by'] for c in gateway_api.get('crds') or [] if c.get('managed_by')))
    current = gateway_api.get('bundle_version')
    if owners:
        return False, 'the Gateway API CRDs (%s) are managed by %s: the role leaves them' % (current or 'of no bundle version', ', '.join(owners))
    if version_key(current) is not None and version_key(current) < version_key(version):
        return True, 'the Gateway API CRDs are %s: the role upgrades them to %s' % (current, version)
    return False, 'the Gateway API CRDs (%s) are not older than %s: the role leaves them' % (current or 'of no bundle version', version)


def _choose(install, addon, found):
    """(install, why) for `auto`; the chosen one with the reason otherwise."""
    if install != 'auto':
        return install, 'istio_install is %s' % install
    if addon:
        return 'addon', 'the AKS cluster has the Istio add-on (serviceMeshProfile.mode Istio)'
    if found:
        return 'none', 'istiod already runs (revisions %s): the role uses it and installs nothing' % ', '.join(found)
    return 'helm', 'no Istio add-on and no istiod found: the role installs upstream Istio with helm'


def istio_plan(info, aks=None, install='auto', revision='', namespaces=None, mtls='STRICT', destination_rules=None, helm_namespace='istio-system',
               gateway=True, inference_pools=None, gateway_api_version='v1.4.1'):
    """The plan for the mesh from `info` (what istio_info returned) and `aks` (the cluster's addons as aks_cluster_info
    returns them; None off AKS): install (addon, helm or none), why, the revision to label with, the revisions there
    are, the control plane's root namespace, whether AKS owns the Gateway API CRDs, and problems (sentences naming the
    variable; empty when it can work)."""
    if not isinstance(info, dict) or 'revisions' not in info or 'gateway_api' not in info:
        raise AnsibleFilterError('istio_plan: the input must be what istio_info returns, got %r' % (info,))
    problems = []
    if install not in INSTALLS:
        problems.append('istio_install must be one of %s, got %r' % (', '.join(INSTALLS), install))
    if mtls not in MTLS_MODES:
        problems.append('istio_mtls must be one of %s, got %r' % (', '.join(MTLS_MODES), mtls))
    if revision and (not isinstance(revision, str) or not DNS_LABEL.match(revision)):
        problems.append('istio_revision %r is not a revision name (like asm-1-28)' % (revision,))
    problems.extend(_namespace_problems(namespaces if namespaces is not None else []))
    problems.extend(_destination_rule_problems(destination_rules))
    problems.extend(_inference_pool_problems(inference_pools))
    addon = bool(aks and aks.get('istio'))
    found = list(info.get('revision_names') or [])
    chosen, why = _choose(install, addon, found) if install in INSTALLS else (install, '')

    if chosen == 'addon':
        if aks is None:
            problems.append('istio_install addon needs an AKS cluster (the host is not in the aks group, or istio_aks is false)')
        elif not addon:
            problems.append('istio_install addon: the AKS cluster has no Istio add-on; set aks_cluster_istio_revisions and run the '
                            'aks_cluster role, or choose istio_install helm')
        revisions = list(aks.get('istio_revisions') or []) if aks else []
        root = ADDON_NAMESPACE
    elif chosen == 'helm':
        revisions = [revision or 'default']
        root = helm_namespace
    else:
        revisions = found
        root = next((r['namespace'] for r in info['revisions'] if r['revision'] == (revision or (found[0] if found else None))), None)
        if chosen == 'none' and not found:
            problems.append('istio_install none: no istiod runs in the control plane namespaces (istio_control_plane_namespaces), '
                            'so nothing would inject sidecars')
    chosen_revision = revision or (revisions[0] if len(revisions) == 1 else None)
    if revisions and len(revisions) > 1 and not revision:
        problems.append('two Istio revisions are installed (%s), as during an upgrade of the add-on: set istio_revision to the one '
                        'the model namespaces should use' % ', '.join(revisions))
    elif revision and revisions and revision not in revisions and chosen != 'helm':
        problems.append('istio_revision %s is not installed; installed: %s' % (revision, ', '.join(revisions)))

    gateway_api = info['gateway_api']
    owned = bool(gateway_api.get('managed_by_aks')) or bool(aks and aks.get('gateway_api'))
    install_crds, crds_why = False, 'istio_install is not helm: the role never writes the Gateway API CRDs'
    if chosen == 'helm' and gateway:
        install_crds, crds_why = _gateway_api_install(gateway_api, gateway_api_version)
    apis = info.get('apis') or {}
    if gateway and not install_crds and not apis.get('gateway.networking.k8s.io/v1'):
        problems.append('istio_gateway needs the Gateway API (gateway.networking.k8s.io/v1), which is not served: %s, or set '
                        'istio_gateway: false' % ('turn on aks_cluster_gateway_api (AKS Managed Gateway API)' if aks is not None
                                                  else 'install its standard-channel CRDs'))
    if chosen != 'helm' and mtls != 'none' and not apis.get('security.istio.io/v1'):
        problems.append('istio_mtls %s needs Istio\'s PeerAuthentication (security.istio.io/v1), which is not served' % mtls)
    if inference_pools and not apis.get('inference.networking.k8s.io/v1'):
        problems.append('istio_inference_pools needs the Gateway API Inference Extension (inference.networking.k8s.io/v1), which is not '
                        'served: install its InferencePool CRD (v1.0 or later)')
    return {'install': chosen, 'why': why, 'revision': chosen_revision, 'revisions': revisions, 'root_namespace': root,
            'problems': problems, 'gateway_api_owned_by_aks': owned, 'gateway_api_install': install_crds, 'gateway_api_why': crds_why,
            'mtls': mtls}


def istio_namespace_labels(plan, found, gateway=''):
    """The mesh namespaces' labels from `found` (the results of a k8s_info loop over them: item and resources):
    `apply`, {namespace: labels} (the revision, and the Gateway's route-access label), and `remove_injection`, the
    namespaces whose `istio-injection` label goes: the add-on ignores it, and on upstream Istio it fights the revision
    label."""
    if not isinstance(plan, dict) or 'revision' not in plan:
        raise AnsibleFilterError('istio_namespace_labels: the input must be a plan from istio_plan, got %r' % (plan,))
    wanted = {REVISION_LABEL: plan['revision']}
    if gateway:
        wanted[GATEWAY_ACCESS_LABEL] = gateway
    apply, remove = {}, []
    for result in found or []:
        namespace = result['item']
        apply[namespace] = dict(wanted)
        labels = ((result.get('resources') or [{}])[0].get('metadata') or {}).get('labels') or {}
        if INJECTION_LABEL in labels:
            remove.append(namespace)
    return {'apply': apply, 'remove_injection': sorted(remove)}


class FilterModule(object):

    def filters(self):
        return {'istio_plan': istio_plan, 'istio_namespace_labels': istio_namespace_labels}
