# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where Managed Prometheus stores and sends metrics (azure-mgmt-monitor), on the shared reconcile rule: the Azure Monitor
workspace, the data collection endpoint and rule that route a cluster's metrics to it, and the association of a rule
or endpoint with the cluster.

azure-mgmt-monitor models are flattened: their wire form (as_dict) names `properties.x` as `x`, in snake case.
"""

from __future__ import annotations

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import (
    AzureOperationError, HttpResponseError, arm_call, arm_error, is_not_found, operation_error, wire)
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.lro import wait_for
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.provider import OfferedLocation
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import ArmResource, TrackedResource
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.sdk import OptionalSdk

MONITOR_SDK = OptionalSdk('azure-mgmt-monitor', 'azure.mgmt.monitor', 'azure.mgmt.monitor.models')
PROMETHEUS_STREAM = 'Microsoft-PrometheusMetrics'
# The one association name an endpoint association may have (the service refuses others).
ENDPOINT_ASSOCIATION = 'configurationAccessEndpoint'


def lower_id(value):
    """ARM ids are case-insensitive: compare them in one case."""
    return value.lower() if isinstance(value, str) else value


def _option_path(field, index, key):
    return '%s[%d].%s' % (field, index, key)


def duplicate_names(items, field):
    """Problems for items of the list option `field` that repeat a name."""
    seen, problems = set(), []
    for index, item in enumerate(items or []):
        name = item.get('name')
        if name in seen:
            problems.append('%s names %r more than once; names must be unique' % (_option_path(field, index, 'name'), name))
        seen.add(name)
    return problems


def data_flow_problems(forwarders, accounts, flows):
    """Problems with `flows` (data_flows) against the data sources and destinations they use; None for a list means
    the rule's current one is not known here and its references are not judged."""
    problems = duplicate_names(forwarders, 'prometheus_forwarder') + duplicate_names(accounts, 'monitoring_accounts')
    streams = None if forwarders is None else set(s for f in forwarders for s in f.get('streams') or [])
    destinations = None if accounts is None else set(a.get('name') for a in accounts)
    for index, flow in enumerate(flows or []):
        for key, known, what in (('streams', streams, 'which no data source produces (the streams of prometheus_forwarder)'),
                                 ('destinations', destinations, 'which is not a defined destination (a name in monitoring_accounts)')):
            if not flow.get(key):
                problems.append('%s must name at least one entry' % _option_path('data_flows', index, key))
            unknown = [v for v in flow.get(key) or [] if known is not None and v not in known]
            if unknown:
                problems.append('%s names %s, %s' % (_option_path('data_flows', index, key), ', '.join(map(repr, unknown)), what))
    return problems


class MonitorResource(OfferedLocation, TrackedResource):
    """A tracked azure-mgmt-monitor resource in a resource group: `operations` names its client attribute and `model`
    its SDK model. A write sends back everything the model can write (the SDK drops the read-only fields)."""

    sdk_client = MONITOR_SDK.MonitorManagementClient
    module_params = ('resource_group', 'name')
    writable_keys = None
    operations = None
    model = None

    def __init__(self, client, resource_group, name, check_mode=False, purge_tags=False):
        super(MonitorResource, self).__init__(client, name, check_mode, purge_tags)
        self.resource_group = resource_group

    @property
    def api(self):
        return getattr(self.client, self.operations)

    def read(self):
        return wire(arm_call('read ' + self.label, self.api.get, self.resource_group, self.name, not_found=None))

    def write(self, body, current):
        model = getattr(MONITOR_SDK, self.model).from_dict(body)
        return wire(arm_call('write ' + self.label, self.api.create, self.resource_group, self.name, model))

    def remove(self):
        arm_call('delete ' + self.label, self.api.delete, self.resource_group, self.name, not_found=None)


class MonitorWorkspace(MonitorResource):
    """Microsoft.Monitor/accounts: Azure creates the workspace's own default data collection endpoint and rule."""

    kind = 'Azure Monitor workspace'
    result_key = 'workspace'
    type_name = 'Microsoft.Monitor/accounts'
    operations = 'azure_monitor_workspaces'
    model = 'AzureMonitorWorkspaceResource'
    module_params = ('resource_group', 'name', 'timeout')

    def __init__(self, client, resource_group, name, timeout, check_mode=False, purge_tags=False):
        super(MonitorWorkspace, self).__init__(client, resource_group, name, check_mode, purge_tags)
        self.timeout = timeout

    def desired(self, params):
        return dict(super(MonitorWorkspace, self).desired(params), public_network_access=params['public_network_access'])

    def outputs(self, resource):
        resource = resource or {}
        ingestion = resource.get('default_ingestion_settings') or {}
        return {'id': resource.get('id'),
                'query_endpoint': (resource.get('metrics') or {}).get('prometheus_query_endpoint'),
                'default_data_collection_rule_id': ingestion.get('data_collection_rule_resource_id'),
                'default_data_collection_endpoint_id': ingestion.get('data_collection_endpoint_resource_id')}

    def remove(self):
        # the only long-running call of these resources
        action = 'delete ' + self.label
        poller = arm_call(action, self.api.begin_delete, self.resource_group, self.name, not_found=None)
        if poller is not None:
            wait_for(poller, self.timeout, action)


class DataCollectionEndpoint(MonitorResource):
    kind = 'data collection endpoint'
    result_key = 'data_collection_endpoint'
    type_name = 'Microsoft.Insights/dataCollectionEndpoints'
    operations = 'data_collection_endpoints'
    model = 'DataCollectionEndpointResource'
    # the SDK does not mark the service-set immutable id and ingestion endpoints read-only: never send them back
    writable_keys = ('location', 'tags', 'kind', 'identity', 'description', 'network_acls')

    def desired(self, params):
        return dict(super(DataCollectionEndpoint, self).desired(params), kind=params['kind'], description=params['description'],
                    network_acls={'public_network_access': params['public_network_access']})

    def outputs(self, resource):
        resource = resource or {}
        return {'id': resource.get('id'), 'metrics_ingestion_endpoint': (resource.get('metrics_ingestion') or {}).get('endpoint')}


class DataCollectionRule(MonitorResource):
    """Data sources, destinations and flows are each compared as a whole list, in the order given; other kinds of
    data source or destination the rule may have are kept."""

    kind = 'data collection rule'
    result_key = 'data_collection_rule'
    type_name = 'Microsoft.Insights/dataCollectionRules'
    operations = 'data_collection_rules'
    model = 'DataCollectionRuleResource'
    # the kind of a rule cannot change (terraform-provider-azurerm replaces a rule whose kind changes)
    immutable = ('location', 'kind')

    @staticmethod
    def check_input(params):
        if params['state'] == 'absent':
            return []
        return data_flow_problems(params['prometheus_forwarder'], params['monitoring_accounts'], params['data_flows'])

    def desired(self, params):
        forwarders, accounts, flows = params['prometheus_forwarder'], params['monitoring_accounts'], params['data_flows']
        return dict(
            super(DataCollectionRule, self).desired(params), kind=params['kind'], description=params['description'],
            data_collection_endpoint_id=params['data_collection_endpoint_id'],
            data_sources=None if forwarders is None else {'prometheus_forwarder': [
                {'name': f['name'], 'streams': f['streams'], 'label_include_filter': f['label_include_filter']} for f in forwarders]},
            destinations=None if accounts is None else {'monitoring_accounts': [
                {'name': a['name'], 'account_resource_id': a['account_resource_id']} for a in accounts]},
            data_flows=None if flows is None else [{'streams': f['streams'], 'destinations': f['destinations']} for f in flows])

    def comparable(self, body):
        """Only the fields these options manage, ids in one case, an empty label filter as none."""
        body = dict(super(DataCollectionRule, self).comparable(body))
        if 'data_collection_endpoint_id' in body:
            body['data_collection_endpoint_id'] = lower_id(body['data_collection_endpoint_id'])
        sources, destinations = body.get('data_sources'), body.get('destinations')
        if isinstance(sources, dict) and 'prometheus_forwarder' in sources:
            body['data_sources'] = dict(sources, prometheus_forwarder=[
                dict(name=f.get('name'), streams=f.get('streams'), label_include_filter=f.get('label_include_filter') or None)
                for f in sources['prometheus_forwarder'] or []])
        if isinstance(destinations, dict) and 'monitoring_accounts' in destinations:
            body['destinations'] = dict(destinations, monitoring_accounts=[
                dict(name=a.get('name'), account_resource_id=lower_id(a.get('account_resource_id')))
                for a in destinations['monitoring_accounts'] or []])
        if body.get('data_flows') is not None:
            body['data_flows'] = [dict(streams=f.get('streams'), destinations=f.get('destinations')) for f in body['data_flows']]
        return body

    def refuse(self, desired, current):
        # flows given without their sources or destinations refer to the rule's current ones: judged after the read
        flows = desired.get('data_flows')
        if flows is None:
            return
        sources = (desired.get('data_sources') or current.get('data_sources') or {}).get('prometheus_forwarder') or []
        accounts = (desired.get('destinations') or current.get('destinations') or {}).get('monitoring_accounts') or []
        problems = data_flow_problems(sources, accounts, flows)
        if problems:
            raise AzureOperationError('Invalid input: ' + '; '.join(problems),
                                      error={'code': 'InvalidDataFlow', 'message': problems[0], 'target': 'data_flows'})

    def outputs(self, resource):
        resource = resource or {}
        return {'id': resource.get('id'), 'immutable_id': resource.get('immutable_id')}


# 404 codes of an association read that say the resource it would hang on, not the association, is missing
PARENT_NOT_FOUND = ('ParentResourceNotFound', 'ResourceGroupNotFound', 'SubscriptionNotFound')


def missing_parent(error, resource_id, association):
    """True when a 404 of an association read says the resource it hangs on does not exist: ARM answers
    ParentResourceNotFound (or names the missing group or subscription), or a ResourceNotFound whose message names
    the parent rather than the association."""
    if error.get('code') in PARENT_NOT_FOUND:
        return True
    message = (error.get('message') or '').lower()
    parent = resource_id.rstrip('/').rsplit('/', 1)[-1].lower()
    return association.lower() not in message and parent in message


class DataCollectionRuleAssociation(ArmResource):
    """An extension resource on `resource_id` (for example an AKS cluster) tying a data collection rule, or the
    endpoint the cluster's agents read their configuration from, to it."""

    kind = 'data collection rule association'
    result_key = 'association'
    sdk_client = MONITOR_SDK.MonitorManagementClient
    module_params = ('resource_id', 'name')
    writable_keys = ('description', 'data_collection_rule_id', 'data_collection_endpoint_id')

    def __init__(self, client, resource_id, name, check_mode=False):
        super(DataCollectionRuleAssociation, self).__init__(client, name, check_mode)
        self.resource_id = '/' + resource_id.strip().strip('/')
        self.parent_missing = False

    @staticmethod
    def check_input(params):
        problems = []
        for field in ('resource_id', 'data_collection_rule_id', 'data_collection_endpoint_id'):
            value = params.get(field)
            if value is not None and not value.strip().lower().startswith('/subscriptions/'):
                problems.append('%s %r must be a resource id (/subscriptions/<id>/resourceGroups/<group>/providers/...)' % (field, value))
        if params.get('data_collection_endpoint_id') and params['name'] != ENDPOINT_ASSOCIATION:
            problems.append('name must be %s for an association with data_collection_endpoint_id, got %r' % (ENDPOINT_ASSOCIATION, params['name']))
        if params.get('data_collection_rule_id') and params['name'] == ENDPOINT_ASSOCIATION:
            problems.append('name %s is kept for the data_collection_endpoint_id association; give the rule association another name'
                            % ENDPOINT_ASSOCIATION)
        return problems

    @property
    def label(self):
        return 'data collection rule association %s of %s' % (self.name, self.resource_id)

    def desired(self, params):
        return {'data_collection_rule_id': params['data_collection_rule_id'],
                'data_collection_endpoint_id': params['data_collection_endpoint_id'], 'description': params['description']}

    def comparable(self, body):
        return dict(body, **dict((k, lower_id(body[k])) for k in ('data_collection_rule_id', 'data_collection_endpoint_id') if k in body))

    def outputs(self, resource):
        return {'id': (resource or {}).get('id')}

    def read(self):
        try:
            return wire(self.client.data_collection_rule_associations.get(self.resource_id, self.name))
        except HttpResponseError as exc:
            if not is_not_found(exc):
                raise operation_error('read ' + self.label, exc)
            self.parent_missing = missing_parent(arm_error(exc), self.resource_id, self.name)
            return None

    def prepare_create(self, body):
        # in check mode the resource may be one an earlier task would have created
        if self.parent_missing and not self.check_mode:
            raise AzureOperationError('resource_id %s does not exist: create it before associating a data collection rule or endpoint with it'
                                      % self.resource_id, error={'code': 'ParentResourceNotFound', 'message': 'no such resource',
                                                                 'target': 'resource_id'})
        return body

    def write(self, body, current):
        model = MONITOR_SDK.DataCollectionRuleAssociationProxyOnlyResource.from_dict(body)
        return wire(arm_call('write ' + self.label, self.client.data_collection_rule_associations.create, self.resource_id, self.name, model))

    def remove(self):
        arm_call('delete ' + self.label, self.client.data_collection_rule_associations.delete, self.resource_id, self.name, not_found=None)
