# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Functional conformance probes: objects made in throwaway namespaces, watched, and always removed.

PROBES maps a requirement id to a function of a ProbeContext (context.py) that returns
{'ok': bool, 'evidence': [{check, call, observed, ok}], 'notes': str} and, when it could not measure everything,
'partial': True. The ai_conformance module runs them with `functional: true` and calls the context's cleanup().
"""

from __future__ import annotations

PROBES = {}
