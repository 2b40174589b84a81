"""Managed Prometheus storage and routing (azure/monitor.py) and the region check before a create (azure/provider.py):
the input checks, what is compared, and the reconcile against fake SDK clients that hand back the SDK's own models."""

from types import SimpleNamespace

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.monitor import models

from ansible_collections.aiplatform.aks.plugins.module_utils.azure import monitor as mod
from ansible_collections.aiplatform.aks.plugins.module_utils.azure import provider
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from tests.unit.plugins.module_utils.azure.fakes import Doc, http_error

RG_ID = '/subscriptions/0000/resourceGroups/rg'
AMW = RG_ID + '/providers/Microsoft.Monitor/accounts/amw'
DCE = RG_ID + '/providers/Microsoft.Insights/dataCollectionEndpoints/dce'
DCR = RG_ID + '/providers/Microsoft.Insights/dataCollectionRules/dcr'
CLUSTER = RG_ID + '/providers/Microsoft.ContainerService/managedClusters/aks'
STREAM = 'Microsoft-PrometheusMetrics'
REGIONS = ['West Europe', 'East US', 'North Europe', 'Sweden Central', 'UK South', 'France Central', 'Japan East',
           'Australia East', 'Brazil South', 'Canada Central']


# ---------------------------------------------------------------------------------------------------------------
# regions a type is offered in


def provider_doc(type_name='accounts'):
    return {'namespace': 'Microsoft.Monitor', 'resourceTypes': [{'resourceType': 'operations', 'locations': []},
                                                                {'resourceType': type_name, 'locations': list(REGIONS)}]}


def test_offered_locations_are_the_types_own_in_one_spelling():
    assert provider.offered_locations(provider_doc(), 'Accounts')[:2] == ['westeurope', 'eastus']
    assert provider.offered_locations(provider_doc(), 'operations') is None, 'no regions listed: nothing to judge'
    assert provider.offered_locations(provider_doc(), 'pipelineGroups') is None
    assert provider.offered_locations(None, 'accounts') is None


def test_location_problems_name_the_option_and_a_few_valid_regions():
    offered = provider.offered_locations(provider_doc(), 'accounts')
    assert provider.location_problems('West Europe', offered, 'Microsoft.Monitor/accounts') == []
    assert provider.location_problems('westeurope', None, 'Microsoft.Monitor/accounts') == []
    (problem,) = provider.location_problems('marsnorth', offered, 'Microsoft.Monitor/accounts')
    assert problem == ("location 'marsnorth' is not a region Microsoft.Monitor/accounts is offered in; it is offered in westeurope, "
                       "eastus, northeurope, swedencentral, uksouth, francecentral, japaneast, australiaeast and 2 more")
    (typo,) = provider.location_problems('Sweden Centrl', offered, 'Microsoft.Monitor/accounts')
    assert typo.startswith("location 'Sweden Centrl' is not a region") and 'offered in swedencentral, westeurope, eastus,' in typo


class FakeProviders:
    def __init__(self, doc):
        self.doc = doc
        self.reads = []

    def get(self, namespace):
        self.reads.append(namespace)
        if self.doc is None:
            raise ResourceNotFoundError('no such namespace')
        return Doc(self.doc)


def test_check_offered_location_reads_the_provider_once_and_refuses_by_name():
    client = SimpleNamespace(providers=FakeProviders(provider_doc()))
    provider.check_offered_location(client, 'Microsoft.Monitor/accounts', 'northeurope')
    with pytest.raises(AzureOperationError) as err:
        provider.check_offered_location(client, 'Microsoft.Monitor/accounts', 'moon')
    assert str(err.value).startswith("Invalid input: location 'moon'")
    assert err.value.error['target'] == 'location' and err.value.error['code'] == 'LocationNotAvailableForResourceType'
    assert client.providers.reads == ['Microsoft.Monitor', 'Microsoft.Monitor']
    # a provider that cannot be read (or does not list the type) leaves the judgement to ARM
    provider.check_offered_location(SimpleNamespace(providers=FakeProviders(None)), 'Microsoft.Monitor/accounts', 'moon')


# ---------------------------------------------------------------------------------------------------------------
# data collection rule input


FORWARDERS = [{'name': 'PrometheusDataSource', 'streams': [STREAM], 'label_include_filter': None}]
ACCOUNTS = [{'name': 'MonitoringAccount1', 'account_resource_id': AMW}]
FLOWS = [{'streams': [STREAM], 'destinations': ['MonitoringAccount1']}]


def dcr_params(**overrides):
    params = dict(state='present', resource_group='rg', name='dcr', location='westeurope', tags=None, purge_tags=False,
                  kind='Linux', description='DCR for Managed Prometheus', data_collection_endpoint_id=DCE,
                  prometheus_forwarder=FORWARDERS, monitoring_accounts=ACCOUNTS, data_flows=FLOWS)
    params.update(overrides)
    return params


def test_data_flows_must_use_defined_streams_and_destinations():
    assert mod.DataCollectionRule.check_input(dcr_params()) == []
    flows = [{'streams': [STREAM], 'destinations': ['MonitoringAccount1', 'Elsewhere']},
             {'streams': ['Microsoft-Syslog'], 'destinations': []}]
    assert mod.DataCollectionRule.check_input(dcr_params(data_flows=flows)) == [
        "data_flows[0].destinations names 'Elsewhere', which is not a defined destination (a name in monitoring_accounts)",
        "data_flows[1].streams names 'Microsoft-Syslog', which no data source produces (the streams of prometheus_forwarder)",
        'data_flows[1].destinations must name at least one entry']


def test_names_of_sources_and_destinations_are_unique():
    problems = mod.DataCollectionRule.check_input(dcr_params(prometheus_forwarder=FORWARDERS * 2, monitoring_accounts=ACCOUNTS * 2))
    assert problems == ["prometheus_forwarder[1].name names 'PrometheusDataSource' more than once; names must be unique",
                        "monitoring_accounts[1].name names 'MonitoringAccount1' more than once; names must be unique"]


def test_flows_without_their_lists_are_not_judged_before_the_read_and_nothing_is_judged_on_delete():
    assert mod.DataCollectionRule.check_input(dcr_params(prometheus_forwarder=None, monitoring_accounts=None,
                                                         data_flows=[{'streams': ['x'], 'destinations': ['y']}])) == []
    assert mod.DataCollectionRule.check_input(dcr_params(state='absent', data_flows=[{'streams': ['x'], 'destinations': ['y']}])) == []


# ---------------------------------------------------------------------------------------------------------------
# reconcile against fake clients that answer with the SDK's models


class FakeOperations:
    """One azure-mgmt-monitor operations group: `model` parses the wire bodies, `server` adds what the service sets."""

    def __init__(self, model, server=None, current=None):
        self.model = model
        self.server = server or {}
        self.current = current
        self.writes = []
        self.deleted = 0

    def get(self, *ids):
        if self.current is None:
            raise ResourceNotFoundError('missing')
        return self.model.deserialize(self.current)

    def create(self, *args):
        *ids, body = args
        self.writes.append(body.serialize())
        doc = body.serialize()
        props = doc.setdefault('properties', {})
        for key, value in self.server.items():
            props.setdefault(key, value)
        for account in (props.get('destinations') or {}).get('monitoringAccounts') or []:
            account['accountId'] = 'account-guid'
        for source in (props.get('dataSources') or {}).get('prometheusForwarder') or []:
            source.setdefault('labelIncludeFilter', {})
        self.current = dict(doc, id=RG_ID + '/x/' + ids[-1], name=ids[-1])
        return self.model.deserialize(self.current)

    def delete(self, *ids):
        self.deleted += 1
        self.current = None


def rule(client, check_mode=False):
    resource = mod.DataCollectionRule(client, 'rg', 'dcr', check_mode=check_mode)
    resource.providers = SimpleNamespace(providers=FakeProviders(provider_doc('dataCollectionRules')))
    return resource


def test_data_collection_rule_create_rerun_and_one_change():
    ops = FakeOperations(models.DataCollectionRuleResource, server={'immutableId': 'dcr-1234'})
    client = SimpleNamespace(data_collection_rules=ops)
    created = rule(client).ensure(dcr_params())
    assert created['changed'] is True
    (body,) = ops.writes
    assert body == {'location': 'westeurope', 'kind': 'Linux', 'properties': {
        'description': 'DCR for Managed Prometheus', 'dataCollectionEndpointId': DCE,
        'dataSources': {'prometheusForwarder': [{'name': 'PrometheusDataSource', 'streams': [STREAM]}]},
        'destinations': {'monitoringAccounts': [{'name': 'MonitoringAccount1', 'accountResourceId': AMW}]},
        'dataFlows': [{'streams': [STREAM], 'destinations': ['MonitoringAccount1']}]}}, 'Azure template shape'
    assert rule(client).outputs(created['resource']) == {'id': RG_ID + '/x/dcr', 'immutable_id': 'dcr-1234'}

    # the service's accountId and empty label filter, and ids in another case, are not drift
    again = rule(client).ensure(dcr_params(data_collection_endpoint_id=DCE.upper(),
                                           monitoring_accounts=[dict(ACCOUNTS[0], account_resource_id=AMW.lower())]))
    assert again['changed'] is False and len(ops.writes) == 1
    # options left out are left alone
    unset = dict.fromkeys(('kind', 'description', 'data_collection_endpoint_id', 'prometheus_forwarder', 'monitoring_accounts', 'data_flows'))
    assert rule(client).ensure(dcr_params(**unset))['changed'] is False and len(ops.writes) == 1

    flows = [{'streams': [STREAM], 'destinations': ['MonitoringAccount1']}, {'streams': [STREAM], 'destinations': ['Second']}]
    accounts = ACCOUNTS + [{'name': 'Second', 'account_resource_id': AMW + '2'}]
    plan = rule(client, check_mode=True).ensure(dcr_params(monitoring_accounts=accounts, data_flows=flows))
    assert plan['changed'] is True and plan['differences'] == ['destinations.monitoring_accounts', 'data_flows'] and len(ops.writes) == 1
    changed = rule(client).ensure(dcr_params(monitoring_accounts=accounts, data_flows=flows))
    assert changed['changed'] is True and len(ops.writes) == 2
    assert ops.writes[1]['properties']['description'] == 'DCR for Managed Prometheus', 'what was not changed is sent back'
    assert 'immutableId' not in ops.writes[1]['properties'], 'read-only values are not sent'


def test_data_collection_rule_refuses_a_new_kind_and_flows_to_destinations_it_does_not_have():
    ops = FakeOperations(models.DataCollectionRuleResource)
    client = SimpleNamespace(data_collection_rules=ops)
    rule(client).ensure(dcr_params())
    with pytest.raises(AzureOperationError) as err:
        rule(client).ensure(dcr_params(kind='Windows'))
    assert err.value.error['code'] == 'ImmutableField' and 'kind' in str(err.value)
    with pytest.raises(AzureOperationError) as err:
        rule(client).ensure(dcr_params(prometheus_forwarder=None, monitoring_accounts=None,
                                       data_flows=[{'streams': [STREAM], 'destinations': ['Nowhere']}]))
    assert "data_flows[0].destinations names 'Nowhere'" in str(err.value)
    assert len(ops.writes) == 1


def test_a_create_in_a_region_the_type_is_not_offered_in_fails_before_writing():
    ops = FakeOperations(models.DataCollectionRuleResource)
    with pytest.raises(AzureOperationError) as err:
        rule(SimpleNamespace(data_collection_rules=ops), check_mode=True).ensure(dcr_params(location='atlantis'))
    assert err.value.error['target'] == 'location' and ops.writes == []


def test_workspace_outputs_and_endpoint_desired_body():
    ops = FakeOperations(models.AzureMonitorWorkspaceResource, server={
        'metrics': {'prometheusQueryEndpoint': 'https://amw.westeurope.prometheus.monitor.azure.com'},
        'defaultIngestionSettings': {'dataCollectionRuleResourceId': DCR, 'dataCollectionEndpointResourceId': DCE}})
    workspace = mod.MonitorWorkspace(SimpleNamespace(azure_monitor_workspaces=ops), 'rg', 'amw', 60)
    workspace.providers = SimpleNamespace(providers=FakeProviders(provider_doc()))
    result = workspace.ensure({'state': 'present', 'location': 'westeurope', 'tags': None, 'public_network_access': 'Disabled'})
    assert ops.writes == [{'location': 'westeurope', 'properties': {'publicNetworkAccess': 'Disabled'}}]
    assert workspace.outputs(result['resource']) == {
        'id': RG_ID + '/x/amw', 'query_endpoint': 'https://amw.westeurope.prometheus.monitor.azure.com',
        'default_data_collection_rule_id': DCR, 'default_data_collection_endpoint_id': DCE}
    assert workspace.outputs(None) == dict.fromkeys(('id', 'query_endpoint', 'default_data_collection_rule_id',
                                                     'default_data_collection_endpoint_id'))

    endpoint = mod.DataCollectionEndpoint(None, 'rg', 'dce')
    assert endpoint.desired({'location': 'westeurope', 'tags': None, 'kind': 'Linux', 'description': None,
                             'public_network_access': None}) == {
        'location': 'westeurope', 'tags': None, 'kind': 'Linux', 'description': None, 'network_acls': {'public_network_access': None}}


# ---------------------------------------------------------------------------------------------------------------
# associations


def dcra_params(**overrides):
    params = dict(state='present', resource_id=CLUSTER, name='MSProm-westeurope-aks', data_collection_rule_id=DCR,
                  data_collection_endpoint_id=None, description=None)
    params.update(overrides)
    return params


@pytest.mark.parametrize('overrides, problem', [
    ({}, None),
    ({'name': 'configurationAccessEndpoint', 'data_collection_rule_id': None, 'data_collection_endpoint_id': DCE}, None),
    ({'data_collection_rule_id': None, 'data_collection_endpoint_id': DCE},
     "name must be configurationAccessEndpoint for an association with data_collection_endpoint_id, got 'MSProm-westeurope-aks'"),
    ({'name': 'configurationAccessEndpoint'}, 'name configurationAccessEndpoint is kept for the data_collection_endpoint_id association'),
    ({'resource_id': 'aks-ai-platform'}, "resource_id 'aks-ai-platform' must be a resource id"),
    ({'data_collection_rule_id': 'dcr'}, "data_collection_rule_id 'dcr' must be a resource id"),
])
def test_association_input(overrides, problem):
    problems = mod.DataCollectionRuleAssociation.check_input(dcra_params(**overrides))
    assert (problems == []) if problem is None else (len(problems) == 1 and problems[0].startswith(problem))


def test_missing_parent_is_told_apart_from_a_missing_association():
    assert mod.missing_parent({'code': 'ParentResourceNotFound', 'message': 'x'}, CLUSTER, 'a1')
    assert mod.missing_parent({'code': 'ResourceGroupNotFound', 'message': "Resource group 'rg' could not be found."}, CLUSTER, 'a1')
    assert mod.missing_parent({'code': 'ResourceNotFound', 'message': "The Resource 'Microsoft.ContainerService/managedClusters/aks' "
                                                                      "under resource group 'rg' was not found."}, CLUSTER, 'a1')
    assert not mod.missing_parent({'code': 'ResourceNotFound', 'message': "The Resource 'Microsoft.Insights/"
                                                                          "dataCollectionRuleAssociations/a1' was not found."}, CLUSTER, 'a1')


class FakeAssociations:
    def __init__(self, error_code=None):
        self.error_code = error_code
        self.current = None
        self.writes = []

    def get(self, resource_uri, name):
        if self.current is None:
            raise http_error(404, self.error_code or 'ResourceNotFound')
        return models.DataCollectionRuleAssociationProxyOnlyResource.deserialize(self.current)

    def create(self, resource_uri, name, body):
        self.writes.append((resource_uri, name, body.serialize()))
        self.current = dict(body.serialize(), id=resource_uri + '/providers/Microsoft.Insights/dataCollectionRuleAssociations/' + name,
                            name=name)
        return models.DataCollectionRuleAssociationProxyOnlyResource.deserialize(self.current)

    def delete(self, resource_uri, name):
        self.current = None


def association(api, check_mode=False):
    return mod.DataCollectionRuleAssociation(SimpleNamespace(data_collection_rule_associations=api), CLUSTER + '/', 'a1', check_mode)


def test_association_create_rerun_and_missing_cluster():
    api = FakeAssociations()
    created = association(api).ensure(dcra_params(description='Managed Prometheus'))
    assert created['changed'] is True and api.writes == [
        (CLUSTER, 'a1', {'properties': {'dataCollectionRuleId': DCR, 'description': 'Managed Prometheus'}})]
    assert association(api).outputs(created['resource'])['id'].endswith('/dataCollectionRuleAssociations/a1')
    assert association(api).ensure(dcra_params(data_collection_rule_id=DCR.upper()))['changed'] is False and len(api.writes) == 1

    missing = FakeAssociations(error_code='ParentResourceNotFound')
    with pytest.raises(AzureOperationError) as err:
        association(missing).ensure(dcra_params())
    assert str(err.value).startswith('resource_id %s does not exist' % CLUSTER) and err.value.error['target'] == 'resource_id'
    assert association(missing, check_mode=True).ensure(dcra_params())['changed'] is True, 'check mode: an earlier task may create it'
    assert association(missing).ensure(dcra_params(state='absent'))['changed'] is False
    assert missing.writes == []
