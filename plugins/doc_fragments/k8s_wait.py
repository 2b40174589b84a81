# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Waiting for readiness; the spec is wait_spec() in module_utils/k8s/wait.py. Each module documents its own
    # defaults and, in its description, what ready means for it.
    DOCUMENTATION = r'''
options:
  wait:
    description:
      - Wait until what the module manages is ready, as its description defines ready, before returning.
      - A status counts only when the controller reports it for the object's current generation
        (C(observedGeneration)), so a status left from an older generation does not end the wait.
    type: bool
  wait_timeout:
    description:
      - Seconds to wait before failing, for readiness or, where the module deletes, for the deletion to finish.
      - 0 checks once; a negative value is refused.
    type: int
  wait_sleep:
    description: Seconds between two checks while waiting; must be more than 0.
    type: float
'''
