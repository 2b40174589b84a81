# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reconcile rule every ARM resource follows.

desired holds only what the user set (None = leave alone); current is the service's wire form.
Differences are computed on desired's keys only, the write body is current merged with desired,
and fields the service cannot change in place fail before anything is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError


def prune_none(value):
    """Drop None values (the user did not set them) from nested dicts."""
    if isinstance(value, dict):
        return dict((k, prune_none(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [prune_none(v) for v in value]
    return value


def differences(desired, current, replace=(), path=''):
    """Dotted paths under `desired` whose value differs from `current`.

    Dicts are compared key by key (keys the user did not set are ignored) unless their path is in
    `replace`, in which case they must match exactly; lists and scalars compare as a whole.
    """
    found = []
    for key, want in desired.items():
        here = path + '.' + key if path else key
        have = current.get(key) if isinstance(current, dict) else None
        if isinstance(want, dict) and here not in replace:
            found.extend(differences(want, have if isinstance(have, dict) else {}, replace, here))
        elif want != have:
            found.append(here)
    return found


def merge(current, desired, replace=(), path=''):
    """`current` with `desired` laid over it; dicts at `replace` paths are taken whole from desired."""
    merged = copy.deepcopy(current) if isinstance(current, dict) else {}
    for key, want in desired.items():
        here = path + '.' + key if path else key
        if isinstance(want, dict) and here not in replace:
            merged[key] = merge(merged.get(key), want, replace, here)
        else:
            merged[key] = copy.deepcopy(want)
    return merged


def get_path(data, dotted):
    for part in dotted.split('.'):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def touched(changed_paths, field):
    """True if a changed path is `field` or lies under or above it."""
    return any(p == field or p.startswith(field + '.') or field.startswith(p + '.') for p in changed_paths)


class ArmResource:
    """Read -> compare -> write -> wait for one ARM resource; subclasses supply the calls.

    Subclasses implement `read()` (wire dict or None), `write(body)` (returns the wire dict),
    `remove()`, and may set `immutable` (paths that cannot change in place), `replace` (dict paths
    compared whole), `create_requires` (paths needed only to create) and override `comparable()` to normalise values such as locations.
    """

    immutable = ()
    replace = ()
    create_requires = ()
    kind = 'resource'

    def __init__(self, name, check_mode=False):
        self.name = name
        self.check_mode = check_mode

    def comparable(self, body):
        return body

    def writable(self, current):
        """The part of `current` a PUT may send back (read-only fields removed)."""
        return current

    def present(self, desired):
        desired = prune_none(desired)
        current = self.read()
        if current is None:
            missing = [f for f in self.create_requires if get_path(desired, f) is None]
            if missing:
                raise AzureOperationError('%s is required to create %s %s' % (' and '.join(missing), self.kind, self.name),
                                          error={'code': 'MissingParameter', 'message': 'required to create', 'target': ','.join(missing)})
            after = desired
            changed_paths = sorted(desired)
        else:
            changed_paths = differences(self.comparable(desired), self.comparable(current), self.replace)
            blocked = [f for f in self.immutable if touched(changed_paths, f)]
            if blocked:
                raise AzureOperationError(
                    'Cannot change %s of %s %s in place: %s' % (
                        ', '.join(blocked), self.kind, self.name,
                        '; '.join('%s is %r, requested %r' % (f, get_path(current, f), get_path(desired, f)) for f in blocked)),
                    error={'code': 'ImmutableField', 'message': 'fields cannot change in place', 'target': ','.join(blocked)})
            after = merge(self.writable(current), desired, self.replace)
        result = {'changed': bool(changed_paths), 'differences': changed_paths,
                  'diff': {'before': current or {}, 'after': after}}
        if not changed_paths:
            result['resource'] = current
        elif self.check_mode:
            result['resource'] = after
        else:
            result['resource'] = self.write(after)
            result['diff']['after'] = result['resource']
        return result

    def absent(self):
        current = self.read()
        result = {'changed': current is not None, 'differences': [], 'diff': {'before': current or {}, 'after': {}}, 'resource': None}
        if current is not None and not self.check_mode:
            self.remove()
        return result
