# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every functional conformance probe, by requirement id: those of functional.py and those in modules of their own
(a probe with its own stand-in-sized logic gets its own file)."""

from __future__ import annotations

from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.accelerator_probe import PROBES as ACCELERATOR_PROBES
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.autoscaling_probe import PROBES as AUTOSCALING_PROBES
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.functional import PROBES as CORE_PROBES
from ansible_collections.aiplatform.aks.plugins.module_utils.conformance.scale_up_probe import PROBES as SCALE_UP_PROBES

PROBES = dict(CORE_PROBES)
PROBES.update(AUTOSCALING_PROBES)
PROBES.update(SCALE_UP_PROBES)
PROBES.update(ACCELERATOR_PROBES)
