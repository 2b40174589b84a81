# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus recording and alert rules of Azure Monitor (Microsoft.AlertsManagement/prometheusRuleGroups through
azure-mgmt-prometheusrulegroups), on the shared reconcile rule. The rules are judged before anything is read: durations,
rule kinds, record names and PromQL syntax, so a rule the service would refuse, or evaluate never, is caught by name.

This SDK's wire form (as_dict) is ARM's own: camel case under `properties`.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError, arm_call, wire
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.monitor import lower_id
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.provider import OfferedLocation
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import TrackedResource
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.sdk import OptionalSdk

RULE_GROUPS_SDK = OptionalSdk('azure-mgmt-prometheusrulegroups', 'azure.mgmt.prometheusrulegroups',
                              'azure.mgmt.prometheusrulegroups.models')
PROMQL = OptionalSdk('promql-parser', 'promql_parser')
# ISO 8601 durations are read with isodate, which the Azure SDKs install (their models' duration type).
ISODATE = OptionalSdk('isodate', 'isodate')

# "Rules per rule group: 20. This limit can't be increased." (Azure Monitor service limits, Prometheus metrics, alert
# and recording rules: MicrosoftDocs/azure-monitor-docs articles/azure-monitor/fundamentals/includes/azure-monitor-limits-metrics.md)
MAX_RULES = 20
# The rule group interval "should be between 1 and 15 minutes" (PrometheusRuleGroupProperties.interval, API 2023-03-01).
INTERVAL_SECONDS = (60, 900)
SEVERITIES = range(0, 5)
# Prometheus data model: metric and label names
METRIC_NAME = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL_NAME = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*$')
# an ISO 8601 duration names at least one number
DURATION_TEXT = re.compile(r'^P[0-9YMWDTHS.,]*[0-9]')
# rule options only an alert rule has (a recording rule writes a series: nothing to annotate, notify or resolve)
ALERT_ONLY = ('severity', 'for', 'annotations', 'resolve_configuration', 'actions')


def duration_seconds(text):
    """Seconds of an ISO 8601 duration of fixed length ('PT1M' -> 60.0); ValueError otherwise (years and months
    have no fixed length; isodate alone would take 'PT' and negative durations)."""
    try:
        value = ISODATE.parse_duration(text) if DURATION_TEXT.match(text) else None
    except (ValueError, TypeError):  # isodate's ISO8601Error is a ValueError
        value = None
    if not isinstance(value, datetime.timedelta):  # isodate.Duration: years or months
        raise ValueError('not an ISO 8601 duration of fixed length')
    return value.total_seconds()


def duration_problems(value, field, bounds=None):
    if value is None:
        return []
    try:
        seconds = duration_seconds(value)
    except ValueError:
        return ['%s %r is not an ISO 8601 duration in days, hours, minutes and seconds such as PT1M or PT5M30S' % (field, value)]
    if bounds and not bounds[0] <= seconds <= bounds[1]:
        return ['%s %r must be between PT%dM and PT%dM' % (field, value, bounds[0] // 60, bounds[1] // 60)]
    return []


def expression_problems(expression, field):
    if not expression or not expression.strip():
        return ['%s must not be empty' % field]
    try:
        PROMQL.parse(expression)
    except ValueError as exc:
        return ['%s %r does not parse as PromQL: %s' % (field, expression, exc)]
    return []


def rule_problems(rule, field):
    """Problems with one item of `rules`, each naming it as `field` (rules[3]) plus the sub-option."""
    problems = []
    record, alert = rule.get('record'), rule.get('alert')
    if (record is None) == (alert is None):
        problems.append('%s needs exactly one of record (a recording rule) and alert (an alert rule)' % field)
    if record is not None and not METRIC_NAME.match(record):
        problems.append('%s.record %r is not a valid Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)' % (field, record))
    if alert is not None and not alert.strip():
        problems.append('%s.alert must not be empty' % field)
    if record is not None:
        problems.extend('%s.%s only applies to alert rules' % (field, key) for key in ALERT_ONLY if rule.get(key) is not None)
    if rule.get('severity') is not None and rule['severity'] not in SEVERITIES:
        problems.append('%s.severity must be 0 to 4, got %s' % (field, rule['severity']))
    problems.extend(duration_problems(rule.get('for'), field + '.for'))
    problems.extend(duration_problems((rule.get('resolve_configuration') or {}).get('time_to_resolve'),
                                      field + '.resolve_configuration.time_to_resolve'))
    problems.extend('%s.labels name %r is not a valid Prometheus label name' % (field, name)
                    for name in rule.get('labels') or {} if not LABEL_NAME.match(str(name)))
    problems.extend(expression_problems(rule.get('expression'), field + '.expression'))
    return problems


def rule_wire(rule):
    """One `rules` item in ARM's form (None where unset)."""
    resolve = rule.get('resolve_configuration')
    return {
        'record': rule.get('record'), 'alert': rule.get('alert'), 'expression': rule.get('expression'),
        'labels': rule.get('labels'), 'annotations': rule.get('annotations'), 'for': rule.get('for'),
        'severity': rule.get('severity'), 'enabled': rule.get('enabled'),
        'resolveConfiguration': None if resolve is None else {
            'autoResolved': resolve.get('auto_resolved'), 'timeToResolve': resolve.get('time_to_resolve')},
        'actions': None if rule.get('actions') is None else [
            {'actionGroupId': a.get('action_group_id'), 'actionProperties': a.get('action_properties')} for a in rule['actions']],
    }


def _seconds_or_text(value):
    try:
        return duration_seconds(value)
    except ValueError:
        return value


def _compact(value):
    """`value` without None, empty mappings and empty lists anywhere inside (unset and empty read the same)."""
    if isinstance(value, dict):
        value = dict((k, _compact(v)) for k, v in value.items())
        return dict((k, v) for k, v in value.items() if v not in (None, {}, []))
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def comparable_rule(rule):
    """A rule as compared: durations in seconds (PT1M = PT60S), nothing empty, action group ids in one case, and
    `enabled: true` as unset (the default)."""
    rule = dict((k, v) for k, v in _compact(rule).items() if not (k == 'enabled' and v is True))
    if 'actions' in rule:
        rule['actions'] = [dict(a, actionGroupId=lower_id(a.get('actionGroupId'))) for a in rule['actions']]
    if 'for' in rule:
        rule['for'] = _seconds_or_text(rule['for'])
    resolve = rule.get('resolveConfiguration')
    if resolve and 'timeToResolve' in resolve:
        rule['resolveConfiguration'] = dict(resolve, timeToResolve=_seconds_or_text(resolve['timeToResolve']))
    return rule


class PrometheusRuleGroup(OfferedLocation, TrackedResource):
    """The rules are compared as one list, in order (the service evaluates and keeps them in order)."""

    kind = 'Prometheus rule group'
    result_key = 'rule_group'
    type_name = 'Microsoft.AlertsManagement/prometheusRuleGroups'
    sdk_client = RULE_GROUPS_SDK.PrometheusRuleGroupsMgmtClient
    module_params = ('resource_group', 'name')
    writable_keys = ('location', 'tags', 'properties')

    def __init__(self, client, resource_group, name, check_mode=False, purge_tags=False):
        super(PrometheusRuleGroup, self).__init__(client, name, check_mode, purge_tags)
        self.resource_group = resource_group

    @staticmethod
    def check_input(params):
        if params['state'] == 'absent':
            return []
        problems = duration_problems(params['interval'], 'interval', INTERVAL_SECONDS)
        rules = params['rules']
        if rules is not None and not rules:
            problems.append('rules must hold at least one rule')
        if rules and len(rules) > MAX_RULES:
            problems.append('rules has %d rules; Azure Monitor allows at most %d in a rule group (split them into groups)'
                            % (len(rules), MAX_RULES))
        for index, rule in enumerate(rules or []):
            problems.extend(rule_problems(rule, 'rules[%d]' % index))
        problems.extend('scopes entry %r must be a resource id (/subscriptions/...)' % scope
                        for scope in params['scopes'] or [] if not scope.strip().lower().startswith('/subscriptions/'))
        if params['scopes'] is not None and not params['scopes']:
            problems.append('scopes must name the Azure Monitor workspace')
        return problems

    def desired(self, params):
        return dict(super(PrometheusRuleGroup, self).desired(params), properties={
            'description': params['description'], 'scopes': params['scopes'], 'clusterName': params['cluster_name'],
            'interval': params['interval'], 'enabled': params['enabled'],
            'rules': None if params['rules'] is None else [rule_wire(rule) for rule in params['rules']]})

    def comparable(self, body):
        body = dict(super(PrometheusRuleGroup, self).comparable(body))
        props = body.get('properties')
        if isinstance(props, dict):
            props = dict(props)
            if props.get('scopes') is not None:
                props['scopes'] = [lower_id(s) for s in props['scopes']]
            if props.get('interval') is not None:
                props['interval'] = _seconds_or_text(props['interval'])
            if props.get('rules') is not None:
                props['rules'] = [comparable_rule(rule) for rule in props['rules']]
            body['properties'] = props
        return body

    def prepare_create(self, body):
        props = body.get('properties') or {}
        missing = [option for option in ('scopes', 'rules') if not props.get(option)]
        if missing:
            verb = 'are' if len(missing) > 1 else 'is'
            raise AzureOperationError('%s %s required to create %s %s' % (' and '.join(missing), verb, self.kind, self.name),
                                      error={'code': 'MissingParameter', 'message': 'required to create', 'target': ','.join(missing)})
        return super(PrometheusRuleGroup, self).prepare_create(body)

    def outputs(self, resource):
        return {'id': (resource or {}).get('id')}

    def read(self):
        return wire(arm_call('read ' + self.label, self.client.prometheus_rule_groups.get, self.resource_group, self.name, not_found=None))

    def write(self, body, current):
        model = RULE_GROUPS_SDK.PrometheusRuleGroupResource(body)
        return wire(arm_call('write ' + self.label, self.client.prometheus_rule_groups.create_or_update, self.resource_group, self.name, model))

    def remove(self):
        arm_call('delete ' + self.label, self.client.prometheus_rule_groups.delete, self.resource_group, self.name, not_found=None)
