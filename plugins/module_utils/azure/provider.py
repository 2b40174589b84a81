# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The regions a resource type is offered in, as its resource provider lists them, checked once before a create.

Not every type is offered in every region ARM knows (an Azure Monitor workspace is in fewer regions than a resource
group), so a location is judged against the type's own list: the refusal names `location` and comes before any write.
"""

from __future__ import annotations

import difflib

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError, arm_call, wire
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import normalize_location
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.resource_group import RESOURCE_SDK

# how many offered regions a refusal lists
REGIONS_SHOWN = 8


def offered_locations(provider, resource_type):
    """The regions (normalised) a provider (wire form of providers.get) offers `resource_type` in ('accounts' of
    Microsoft.Monitor); None when the provider does not list the type or lists no region for it (nothing to judge)."""
    for item in (provider or {}).get('resourceTypes') or []:
        if (item.get('resourceType') or '').lower() == resource_type.lower():
            return [normalize_location(loc) for loc in item.get('locations') or []] or None
    return None


def location_problems(location, offered, type_name):
    """[] when `offered` is None or holds `location`, else one sentence naming the option and a few valid regions: those
    spelt like it first (a typo finds its region), then in the provider's order."""
    wanted = normalize_location(location)
    if offered is None or location is None or wanted in offered:
        return []
    close = difflib.get_close_matches(wanted, offered, n=REGIONS_SHOWN, cutoff=0.75)
    shown = ', '.join((close + [region for region in offered if region not in close])[:REGIONS_SHOWN])
    more = ' and %d more' % (len(offered) - REGIONS_SHOWN) if len(offered) > REGIONS_SHOWN else ''
    return ['location %r is not a region %s is offered in; it is offered in %s%s' % (location, type_name, shown, more)]


def check_offered_location(client, type_name, location):
    """Read the provider of `type_name` ('Microsoft.Monitor/accounts') once with `client` (a ResourceManagementClient)
    and raise AzureOperationError naming `location` when the type is not offered there."""
    namespace, resource_type = type_name.split('/', 1)
    provider = wire(arm_call('read the regions of resource provider ' + namespace, client.providers.get, namespace, not_found=None))
    problems = location_problems(location, offered_locations(provider, resource_type), type_name)
    if problems:
        raise AzureOperationError('Invalid input: ' + problems[0],
                                  error={'code': 'LocationNotAvailableForResourceType', 'message': problems[0], 'target': 'location'})


class OfferedLocation:
    """Put before a TrackedResource subclass: creating it in a region its `type_name` is not offered in fails, naming
    `location`, before any write (check mode included). Updates need no check: the location cannot change."""

    type_name = None
    providers = None  # ResourceManagementClient, set by from_module

    @classmethod
    def from_module(cls, module):
        resource = super(OfferedLocation, cls).from_module(module)
        resource.providers = module.client(RESOURCE_SDK.ResourceManagementClient)
        return resource

    def prepare_create(self, body):
        check_offered_location(self.providers, self.type_name, body.get('location'))
        return super(OfferedLocation, self).prepare_create(body)
