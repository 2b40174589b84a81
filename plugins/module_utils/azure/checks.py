# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input ARM refuses whatever the resource: resource group names, tags, timeouts. Each check returns problems,
sentences naming the option, so a module refuses the input before it reads or writes anything."""

from __future__ import annotations

import re

# Microsoft.Resources resourceGroupName (resourcegroups.json): letters (Unicode included), digits, '_', '-', '.', '(' and ')',
# 1-90 characters; ARM also refuses a name that ends with a period.
RESOURCE_GROUP_NAME = re.compile(r'^[-\w._()]+$', re.UNICODE)
RESOURCE_GROUP_NAME_MAX = 90
# ARM tag limits (Azure Resource Manager "Use tags to organize your Azure resources"): at most 50 tags on a resource,
# names up to 512 characters without < > % & \ ? /, values up to 256 characters, and values are strings.
TAG_NAME_MAX = 512
TAG_VALUE_MAX = 256
TAGS_MAX = 50
TAG_NAME_FORBIDDEN = '<>%&\\?/'
GUID = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')


def check_resource_group_name(name, field='resource_group'):
    if name is None:
        return []
    if not isinstance(name, str) or not name:
        return ['%s must be a non-empty string, got %r' % (field, name)]
    problems = []
    if len(name) > RESOURCE_GROUP_NAME_MAX:
        problems.append('%s %r is %d characters long; ARM allows at most %d' % (field, name, len(name), RESOURCE_GROUP_NAME_MAX))
    if not RESOURCE_GROUP_NAME.match(name):
        problems.append('%s %r may only hold letters, digits, underscores, hyphens, periods and parentheses' % (field, name))
    elif name.endswith('.'):
        problems.append('%s %r must not end with a period' % (field, name))
    return problems


def check_tags(tags, field='tags'):
    """What ARM refuses in a tags mapping: too many tags, long names or values, forbidden characters, non-string values."""
    if not tags:
        return []
    problems = []
    if len(tags) > TAGS_MAX:
        problems.append('%s has %d entries; ARM allows at most %d tags on a resource' % (field, len(tags), TAGS_MAX))
    for name, value in tags.items():
        name = str(name)
        if not name.strip():
            problems.append('%s has an empty tag name' % field)
        if len(name) > TAG_NAME_MAX:
            problems.append('%s name %r is %d characters long; ARM allows at most %d' % (field, name[:40] + '...', len(name), TAG_NAME_MAX))
        bad = sorted(set(c for c in name if c in TAG_NAME_FORBIDDEN))
        if bad:
            problems.append('%s name %r holds %s; ARM refuses the characters %s in tag names'
                            % (field, name, ' '.join(bad), ' '.join(TAG_NAME_FORBIDDEN)))
        if not isinstance(value, str):
            problems.append('%s value of %s must be a string (quote it), got %s %r' % (field, name, type(value).__name__, value))
        elif len(value) > TAG_VALUE_MAX:
            problems.append('%s value of %s is %d characters long; ARM allows at most %d' % (field, name, len(value), TAG_VALUE_MAX))
    return problems


def check_timeout(timeout, field='timeout', zero_ok=True):
    if timeout is None:
        return []
    if timeout < 0 or (timeout == 0 and not zero_ok):
        return ['%s must be %s seconds, got %s' % (field, 'zero or more' if zero_ok else 'a positive number of', timeout)]
    return []


def check_guids(values, field):
    return ['%s entry %r is not a GUID (an Entra object id looks like 00000000-0000-0000-0000-000000000000)' % (field, v)
            for v in values or [] if not GUID.match(str(v))]


def common_problems(params):
    """Problems with the options every Azure module may have: timeout, resource_group, tags."""
    problems = check_timeout(params.get('timeout'))
    problems.extend(check_resource_group_name(params.get('resource_group')))
    problems.extend(check_tags(params.get('tags')))
    return problems
