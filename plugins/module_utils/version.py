# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collection identity used in user agents and field managers; keep in step with galaxy.yml."""

from __future__ import annotations

COLLECTION_NAME = 'aiplatform.aks'
COLLECTION_VERSION = '0.1.0'
USER_AGENT = 'ansible-%s/%s' % (COLLECTION_NAME, COLLECTION_VERSION)
