"""What ARM itself refuses whatever the resource type: unknown locations, tags it does not store, resource group names.

Codes and wording, and where they come from:

=================================================  ===  =====================================  =======================
condition                                          HTTP code                                   source
=================================================  ===  =====================================  =======================
resource group in a location ARM does not offer    400  LocationNotAvailableForResourceGroup   real wording (Azure/
                                                                                               azure-cli#7602, #16368)
other resource in a location ARM does not offer    400  LocationNotAvailableForResourceType    real code; wording
                                                                                               modelled on the above
tag name with < > % & \\ ? /                        400  InvalidTagNameCharacters               real code; wording not
                                                                                               found, ours
tag name over 512, value over 256 characters       400  InvalidTagNameLength /                 unconfirmed (not found)
                                                        InvalidTagValueLength
more than 50 tags                                  400  InvalidTagCount                        unconfirmed (not found)
resource group name ending with a period           400  InvalidResourceGroup                   code as ARM answers bad
                                                                                               group names; wording
                                                                                               unconfirmed
=================================================  ===  =====================================  =======================

Non-string tag values are refused earlier, by the body schema (InvalidRequestContent).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from .resource_types import ArmError

__all__ = ["AZURE_LOCATIONS", "AZURE_LOCATION_NAMES", "TAG_NAME_FORBIDDEN", "check_location", "check_resource_group_name", "check_tags"]

#: Public Azure regions a resource group can be created in (as ARM lists them in LocationNotAvailableForResourceGroup,
#: Azure/azure-cli#16368 and MicrosoftDocs/executable-docs#74, plus the regions opened since), with the display names
#: ARM's provider reads list them by.
AZURE_LOCATION_NAMES = {
    "eastasia": "East Asia", "southeastasia": "Southeast Asia", "australiaeast": "Australia East",
    "australiasoutheast": "Australia Southeast", "australiacentral": "Australia Central",
    "australiacentral2": "Australia Central 2", "brazilsouth": "Brazil South", "canadacentral": "Canada Central",
    "canadaeast": "Canada East", "switzerlandnorth": "Switzerland North", "germanywestcentral": "Germany West Central",
    "eastus2": "East US 2", "eastus": "East US", "centralus": "Central US", "northcentralus": "North Central US",
    "francecentral": "France Central", "uksouth": "UK South", "ukwest": "UK West", "centralindia": "Central India",
    "southindia": "South India", "westindia": "West India", "jioindiawest": "Jio India West",
    "italynorth": "Italy North", "japaneast": "Japan East", "japanwest": "Japan West", "koreacentral": "Korea Central",
    "koreasouth": "Korea South", "mexicocentral": "Mexico Central", "northeurope": "North Europe",
    "norwayeast": "Norway East", "polandcentral": "Poland Central", "qatarcentral": "Qatar Central",
    "spaincentral": "Spain Central", "swedencentral": "Sweden Central", "uaenorth": "UAE North",
    "westcentralus": "West Central US", "westeurope": "West Europe", "westus2": "West US 2", "westus": "West US",
    "southcentralus": "South Central US", "westus3": "West US 3", "southafricanorth": "South Africa North",
    "israelcentral": "Israel Central", "newzealandnorth": "New Zealand North", "indonesiacentral": "Indonesia Central",
    "malaysiawest": "Malaysia West", "chilecentral": "Chile Central", "austriaeast": "Austria East",
    "belgiumcentral": "Belgium Central", "denmarkeast": "Denmark East", "centraluseuap": "Central US EUAP",
    "eastus2euap": "East US 2 EUAP",
}
AZURE_LOCATIONS = tuple(AZURE_LOCATION_NAMES)
TAG_NAME_FORBIDDEN = "<>%&\\?/"
TAG_NAME_MAX, TAG_VALUE_MAX, TAGS_MAX = 512, 256, 50


def check_location(location: Any, type_name: str) -> None:
    """Refuse a location ARM does not offer ('global' is what location-less resources carry)."""
    if not isinstance(location, str) or location in AZURE_LOCATIONS or location == "global":
        return
    listing = ",".join(AZURE_LOCATIONS)
    if type_name.lower() == "microsoft.resources/resourcegroups":
        raise ArmError(400, "LocationNotAvailableForResourceGroup",
                       f"The provided location '{location}' is not available for resource group. List of available "
                       f"regions is '{listing}'.", target="location")
    raise ArmError(400, "LocationNotAvailableForResourceType",
                   f"The provided location '{location}' is not available for resource type '{type_name}'. List of "
                   f"available regions for the resource type is '{listing}'.", target="location")


def check_tags(tags: Optional[Mapping[str, Any]]) -> None:
    """Refuse tags ARM does not store: too many, names too long or with reserved characters, values too long."""
    if not isinstance(tags, Mapping):
        return
    if len(tags) > TAGS_MAX:
        raise ArmError(400, "InvalidTagCount",
                       f"The number of tags ({len(tags)}) exceeds the maximum of {TAGS_MAX} tags per resource.",
                       target="tags")
    bad = [name for name in tags if any(c in TAG_NAME_FORBIDDEN or ord(c) < 32 for c in name)]
    if bad:
        raise ArmError(400, "InvalidTagNameCharacters",
                       f"The tag names '{','.join(bad)}' have reserved characters "
                       f"'{','.join(TAG_NAME_FORBIDDEN)}' or control characters.", target="tags")
    for name, value in tags.items():
        if len(name) > TAG_NAME_MAX:
            raise ArmError(400, "InvalidTagNameLength",
                           f"The tag name '{name}' exceeds the maximum length of '{TAG_NAME_MAX}' characters.",
                           target="tags")
        if isinstance(value, str) and len(value) > TAG_VALUE_MAX:
            raise ArmError(400, "InvalidTagValueLength",
                           f"The tag value '{value}' of tag '{name}' exceeds the maximum length of '{TAG_VALUE_MAX}' "
                           "characters.", target="tags")


def check_resource_group_name(name: str) -> None:
    """The spec's pattern lets a final period through; ARM refuses it."""
    if name.endswith("."):
        raise ArmError(400, "InvalidResourceGroup",
                       f"The provided resource group name '{name}' is invalid: a resource group name cannot end with "
                       "a period. The name can only hold letters, digits, '-', '.', '(', ')' and '_', up to 90 "
                       "characters.", target="resourceGroupName")
