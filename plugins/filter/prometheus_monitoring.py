# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the prometheus_monitoring role collects metrics: where they go, the Azure names of the managed path, and what
cannot work (prometheus_monitoring_plan). Documented in its .yml file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.cluster import summarize
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.monitor import ENDPOINT_ASSOCIATION
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import DNS_LABEL

INSTALLS = ('auto', 'managed', 'helm', 'operator', 'none')
STATES = ('present', 'absent')
OPERATOR_API = 'monitoring.coreos.com/v1'
MANAGED_API = 'azmonitoring.coreos.com/v1'
# Names as the metrics add-on's own ARM template (Azure/prometheus-collector, FullAzureMonitorMetricsProfile.json) makes them.
NAME_PREFIX = 'MSProm'
DATA_COLLECTION_ENDPOINT_MAX = 44
DATA_COLLECTION_RULE_MAX = 64


def _choose(install, aks, served):
    if install != 'auto':
        return install, 'prometheus_monitoring_install is %s' % install
    if aks:
        return 'managed', 'an AKS cluster: Azure Managed Prometheus'
    if served.get(OPERATOR_API):
        return 'operator', 'the Prometheus operator is there (%s is served)' % OPERATOR_API
    return 'helm', 'no Prometheus operator (%s is not served): kube-prometheus-stack' % OPERATOR_API


def _problems(install, aks, cluster, served, rules, available, namespace, check_mode, state):
    problems = []
    unknown = [name for name in rules if name not in available]
    if unknown:
        problems.append('prometheus_monitoring_rules names %s, which the role does not have (it has: %s)'
                        % (', '.join(repr(n) for n in unknown), ', '.join(available) or 'none'))
    if install in ('helm', 'operator') and not DNS_LABEL.match(namespace or ''):
        problems.append('prometheus_monitoring_namespace %r is not a namespace name (lower case letters, digits and -, at most 63)' % (namespace,))
    if install == 'operator' and not served.get(OPERATOR_API):
        problems.append('prometheus_monitoring_install is operator but no Prometheus operator is there (%s is not served): '
                        'install one, or set prometheus_monitoring_install: helm' % OPERATOR_API)
    if install != 'managed' or state == 'absent':
        return problems
    if not aks:
        problems.append('prometheus_monitoring_install is managed, which needs an AKS cluster (a host of the aks group)')
    elif not cluster and not check_mode:
        problems.append('the AKS cluster named by prometheus_monitoring_cluster does not exist in prometheus_monitoring_resource_group: '
                        'create it first (the aks_cluster role, playbooks/aks.yml)')
    elif cluster and not cluster['addons']['managed_prometheus']:
        problems.append('the metrics add-on of AKS cluster %s is off, so nothing would collect: set aks_cluster_managed_prometheus: true '
                        'and run the aks_cluster role' % cluster.get('name'))
    return problems


def _names(cluster_name, cluster, workspace_location, workspace_resource_group, workspace_name):
    subscription = ((cluster or {}).get('id') or '').split('/')[2:3]
    base = '%s-%s-%s' % (NAME_PREFIX, (workspace_location or '').replace(' ', '').lower(), cluster_name)
    names = {
        'data_collection_endpoint': base[:DATA_COLLECTION_ENDPOINT_MAX],
        'data_collection_rule': base[:DATA_COLLECTION_RULE_MAX],
        'association': '%s-%s-%s' % (NAME_PREFIX, (cluster or {}).get('location') or '', cluster_name),
        'endpoint_association': ENDPOINT_ASSOCIATION,
    }
    # the ids before the resources exist (a run in check mode); the workspace is made in the cluster's subscription
    group = '/subscriptions/%s/resourceGroups/%s/providers/' % (''.join(subscription), workspace_resource_group)
    names.update(workspace_id=group + 'Microsoft.Monitor/accounts/' + workspace_name,
                 data_collection_endpoint_id=group + 'Microsoft.Insights/dataCollectionEndpoints/' + names['data_collection_endpoint'],
                 data_collection_rule_id=group + 'Microsoft.Insights/dataCollectionRules/' + names['data_collection_rule'])
    return names


def prometheus_monitoring_plan(served, install='auto', aks=False, cluster=None, cluster_name='', workspace_location='',
                               rules=None, available=None, namespace='monitoring', workspace_resource_group='', workspace_name='',
                               check_mode=False, state='present'):
    """Where the metrics go (managed, helm, operator or none) and why, the API of the scrape objects, the Azure names
    (managed) and the problems that stop the role before it writes anything. `cluster` is the AKS cluster's wire form."""
    if install not in INSTALLS:
        raise AnsibleFilterError('prometheus_monitoring_install must be one of %s, got %r' % (', '.join(INSTALLS), install))
    if state not in STATES:
        raise AnsibleFilterError('prometheus_monitoring_state must be one of %s, got %r' % (', '.join(STATES), state))
    # what k8s_info looked at, API by API (a loop's results: item and api_found; items it skipped have no api_found)
    served = dict((r['item'], bool(r['api_found'])) for r in served or [] if 'api_found' in r)
    rules = list(rules or [])
    cluster = summarize(cluster) if cluster and cluster.get('id') else None
    chosen, why = _choose(install, bool(aks), served)
    return {
        'install': chosen,
        'why': why,
        'monitor_api': MANAGED_API if chosen == 'managed' else OPERATOR_API,
        # Azure's standard node and Kubernetes recording rules: kube-prometheus-stack ships its own.
        'standard_rules': chosen == 'managed',
        # Grafana runs in the cluster only with the operator's stack; on AKS the JSON is imported into Azure Managed Grafana.
        'dashboard_configmap': chosen in ('helm', 'operator'),
        'names': _names(cluster_name, cluster, workspace_location, workspace_resource_group, workspace_name) if chosen == 'managed' else {},
        # in check mode on an empty subscription the cluster is only planned: nothing on Azure can be checked against it yet
        'azure': chosen == 'managed' and (bool(cluster) or state == 'absent'),
        'cluster_id': (cluster or {}).get('id'),
        'problems': _problems(chosen, bool(aks), cluster, served, rules, sorted(available or []), namespace, check_mode, state),
    }


class FilterModule(object):
    def filters(self):
        return {'prometheus_monitoring_plan': prometheus_monitoring_plan}
