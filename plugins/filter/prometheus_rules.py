# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prometheus_monitoring role's rules, written once in Prometheus's rule-file format (files/rules), rendered as the
parameters of azure_prometheus_rule_group (prometheus_rule_groups_arm) or as PrometheusRule objects of the Prometheus
operator (prometheus_rule_objects). Documented in the .yml file of each."""

from __future__ import annotations

import json
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.prometheus_rule_group import MAX_RULES, PrometheusRuleGroup

# The groups the AKS metrics add-on's own template creates, with its descriptions. Rendered for Azure only by default:
# kube-prometheus-stack ships its own version of them.
STANDARD_GROUPS = {
    'NodeRecordingRulesRuleGroup': 'Node Recording Rules RuleGroup - 0.1',
    'KubernetesRecordingRulesRuleGroup': 'Kubernetes Recording Rules RuleGroup - 0.1',
}
# Azure's alert severity: 0 is the most severe.
SEVERITIES = {'critical': 0, 'error': 1, 'warning': 2, 'info': 3}
OBJECT_PREFIX = 'aiplatform-'
_DURATION = re.compile(r'(\d+)(y|w|d|h|m|s)')
_DAYS = {'y': 365, 'w': 7, 'd': 1}
_GROUP_SUFFIX = re.compile(r'(Rules)?RuleGroup$')
_WORD = re.compile(r'[A-Z][a-z0-9]*|[a-z0-9]+')


def _plain(value):
    """Without Ansible's data tags, which the modules and the API cannot take."""
    return json.loads(json.dumps(value))


def _groups(document, index):
    if not isinstance(document, dict) or not isinstance(document.get('groups'), list) or not document['groups']:
        raise AnsibleFilterError('rule source %d is not a Prometheus rule file (a mapping with a list of groups), got %r' % (index, document))
    return document['groups']


def file_name(document, index=0):
    """The name of a rule file from its groups: the words their names share, without RuleGroup and Rules, in kebab case
    (GpuRecordingRulesRuleGroup and GpuAlertsRuleGroup: gpu). The rule files are named so."""
    names = [_WORD.findall(_GROUP_SUFFIX.sub('', str(group.get('name') or ''))) for group in _groups(document, index)]
    words = []
    for column in zip(*names):
        if len(set(column)) > 1:
            break
        words.append(column[0])
    if not words:
        raise AnsibleFilterError('rule source %d: its groups (%s) share no leading word to name the file by'
                                 % (index, ', '.join(str(g.get('name')) for g in document['groups'])))
    return '-'.join(w.lower() for w in words)


def iso_duration(duration, where):
    """A Prometheus duration (5m, 1h30m, 1d) as ISO 8601 (PT5M, PT1H30M, P1D)."""
    text = str(duration)
    parts = _DURATION.findall(text)
    if not parts or ''.join(n + u for n, u in parts) != text:
        raise AnsibleFilterError('%s: %r is not a Prometheus duration of whole seconds or more (like 30s, 5m, 1h30m)' % (where, text))
    days = sum(int(n) * _DAYS[u] for n, u in parts if u in _DAYS)
    time = ''.join('%d%s' % (int(n), u.upper()) for n, u in parts if u not in _DAYS)
    return 'P' + ('%dD' % days if days else '') + ('T' + time if time else '')


def _arm_rule(rule, where):
    if ('record' in rule) == ('alert' in rule) or not rule.get('expr'):
        raise AnsibleFilterError('%s: a rule needs one of record and alert, and expr' % where)
    body = {'record': rule['record']} if 'record' in rule else {'alert': rule['alert']}
    body['expression'] = rule['expr']
    if rule.get('labels'):
        body['labels'] = dict(rule['labels'])
    if 'alert' in rule:
        severity = (rule.get('labels') or {}).get('severity')
        if severity not in SEVERITIES:
            raise AnsibleFilterError('%s: severity label %r is not one of %s' % (where, severity, ', '.join(SEVERITIES)))
        body['severity'] = SEVERITIES[severity]
        body['annotations'] = dict(rule.get('annotations') or {})
        if rule.get('for') is not None:
            body['for'] = iso_duration(rule['for'], where)
    return body


def _description(group, name):
    return STANDARD_GROUPS.get(group['name']) or 'aiplatform.aks %s rules (files/rules/platform/%s.yml)' % (group['name'], name)


DEFAULT_INTERVAL = 'PT1M'


def prometheus_rule_groups_arm(sources, cluster_name, scopes, interval=None, enabled=True, standard=True):
    """The parameters of one azure_prometheus_rule_group call per group of `sources` (parsed rule files), checked as the
    module checks them, so that a role stops before its first write. `interval`, when given, is every group's."""
    result = []
    for index, document in enumerate(_plain(sources)):
        name = file_name(document, index)
        for group in document['groups']:
            if group['name'] in STANDARD_GROUPS and not standard:
                continue
            where = '%s.yml, group %s' % (name, group['name'])
            rules = group.get('rules') or []
            if len(rules) > MAX_RULES:
                first = rules[MAX_RULES].get('record') or rules[MAX_RULES].get('alert')
                raise AnsibleFilterError('%s has %d rules, more than the %d Azure Monitor takes in one rule group (from rule %d, %s, on): '
                                         'split the group' % (where, len(rules), MAX_RULES, MAX_RULES + 1, first))
            params = {
                'name': '%s-%s' % (group['name'], cluster_name),
                'description': _description(group, name),
                'scopes': list(scopes),
                'cluster_name': cluster_name,
                'interval': interval or (iso_duration(group['interval'], where) if group.get('interval') else DEFAULT_INTERVAL),
                'enabled': bool(enabled),
                'rules': [_arm_rule(rule, '%s, %s %s' % (where, 'alert' if 'alert' in rule else 'record', rule.get('alert') or rule.get('record')))
                          for rule in rules],
            }
            problems = PrometheusRuleGroup.check_input(dict(params, state='present'))
            if problems:
                raise AnsibleFilterError('%s: %s' % (where, '; '.join(problems)))
            result.append(params)
    return result


def prometheus_rule_objects(sources, namespace, labels=None, standard=False):
    """One PrometheusRule (monitoring.coreos.com/v1) per rule file of `sources`, named aiplatform-<file>; the standard
    groups only with `standard`."""
    objects = []
    for index, document in enumerate(_plain(sources)):
        name = file_name(document, index)
        groups = [g for g in document['groups'] if standard or g['name'] not in STANDARD_GROUPS]
        if not groups:
            continue
        metadata = {'name': OBJECT_PREFIX + name, 'namespace': namespace}
        if labels:
            metadata['labels'] = _plain(labels)
        objects.append({'apiVersion': 'monitoring.coreos.com/v1', 'kind': 'PrometheusRule', 'metadata': metadata, 'spec': {'groups': groups}})
    return objects


class FilterModule(object):

    def filters(self):
        return {'prometheus_rule_groups_arm': prometheus_rule_groups_arm, 'prometheus_rule_objects': prometheus_rule_objects}
