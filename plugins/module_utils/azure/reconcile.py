# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reconcile rule every ARM resource follows.

desired holds only what the user set (None = leave alone); current is the service's wire form.
Differences are computed on desired's keys only, the write body is current merged with desired,
and fields the service cannot change in place fail before anything is written.
"""

from __future__ import annotations

import copy

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError

# Codes of a write the service refused because the resource changed, or was changing, after it was read: the write
# is planned again from a new read (never re-sent as it was, which would undo the other writer's change).
CONCURRENT_CHANGE_CODES = ('OperationNotAllowed', 'PreconditionFailed', 'EtagMismatch')
WRITE_ATTEMPTS = 3
# present()'s default: read the resource (None would mean "read, and it does not exist")
_UNREAD = object()

# The tags options of every Azure resource module, typed once; documented by the aiplatform.aks.azure_tags fragment.
TAGS_ARG_SPEC = dict(
    tags=dict(type='dict'),
    purge_tags=dict(type='bool', default=False),
)

# The region of a tracked resource; documented by the aiplatform.aks.azure_location fragment.
LOCATION_ARG_SPEC = dict(
    location=dict(type='str'),
)
# The resource group of the resource a module manages; documented by the aiplatform.aks.resource_group fragment.
RESOURCE_GROUP_ARG_SPEC = dict(
    resource_group=dict(type='str', required=True),
)


def normalize_location(location):
    """'West Europe' and 'westeurope' name the same region."""
    return location.replace(' ', '').lower() if isinstance(location, str) else location


def prune_none(value):
    """Drop None values (options the user did not set), and mappings left empty by that, from nested data."""
    if isinstance(value, dict):
        pruned = dict((k, prune_none(v)) for k, v in value.items() if v is not None)
        return dict((k, v) for k, v in pruned.items() if not (isinstance(v, dict) and not v and value[k]))
    if isinstance(value, list):
        return [prune_none(v) for v in value]
    return value


def _by_key(items, key):
    return dict((item.get(key), item) for item in items or [] if isinstance(item, dict))


def differences(desired, current, replace=(), keyed=None, path=''):
    """Dotted paths under `desired` whose value differs from `current`.

    Dicts are compared key by key (keys the user did not set are ignored) unless their path is in
    `replace`, in which case they must match exactly. Lists whose path is in `keyed` ({path: key})
    are matched item by item on that key, like dicts; other lists and scalars compare as a whole.
    """
    keyed = keyed or {}
    found = []
    for key, want in desired.items():
        here = path + '.' + key if path else key
        have = current.get(key) if isinstance(current, dict) else None
        if here in keyed and isinstance(want, list):
            mine, theirs = _by_key(want, keyed[here]), _by_key(have, keyed[here])
            found.extend(differences(mine, theirs, replace, {}, here))
        elif isinstance(want, dict) and here not in replace:
            found.extend(differences(want, have if isinstance(have, dict) else {}, replace, keyed, here))
        elif want != have:
            found.append(here)
    return found


def merge(current, desired, replace=(), keyed=None, path=''):
    """`current` with `desired` laid over it; dicts at `replace` paths are taken whole from desired,
    lists at `keyed` paths are merged item by item (new items appended)."""
    keyed = keyed or {}
    merged = copy.deepcopy(current) if isinstance(current, dict) else {}
    for key, want in desired.items():
        here = path + '.' + key if path else key
        if here in keyed and isinstance(want, list):
            field = keyed[here]
            items = [copy.deepcopy(i) for i in merged.get(key) or []]
            index = dict((item.get(field), n) for n, item in enumerate(items) if isinstance(item, dict))
            for item in want:
                if item.get(field) in index:
                    items[index[item[field]]] = merge(items[index[item[field]]], item, replace, {}, here)
                else:
                    items.append(copy.deepcopy(item))
            merged[key] = items
        elif isinstance(want, dict) and here not in replace:
            merged[key] = merge(merged.get(key), want, replace, keyed, here)
        else:
            merged[key] = copy.deepcopy(want)
    return merged


def get_path(data, dotted):
    """Value at a dotted path; a list step picks the item whose `name` is that step (keyed lists)."""
    for part in dotted.split('.'):
        if isinstance(data, list):
            data = dict((i.get('name'), i) for i in data if isinstance(i, dict))
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _covers(pattern, path):
    """`pattern` (dotted, `*` = any one step) equals `path` or one is a prefix of the other."""
    left, right = pattern.split('.'), path.split('.')
    return all(a == '*' or a == b for a, b in zip(left, right))


def blocked_paths(changed_paths, immutable):
    """The changed paths that fall under an immutable field."""
    return [p for p in changed_paths if any(_covers(f, p) for f in immutable)]


def touched(changed_paths, field):
    """True if a changed path is `field` or lies under or above it (`*` matches one step)."""
    return any(_covers(field, p) for p in changed_paths)


class ArmResource:
    """Read -> compare -> write -> wait for one ARM resource; subclasses supply the calls.

    Subclasses set `sdk_client` (the SDK client class) and `module_params` (the module options passed, in order,
    to the constructor after the client), or override `from_module(module)`; they implement `desired(params)`
    (the wire dict the options ask for),
    `read()` (wire dict or None), `write(body, current)` (returns the wire dict; `current` is the read the body is
    based on, for a service that can refuse a write based on a stale read) and `remove()`; AzureModule.run()
    drives them. They may set `result_key` (the module's return key for the resource), override
    `check_input(params)` (problems with the options, found before anything is read) and `outputs(resource)`
    (more return keys), and set `immutable` (paths that cannot change in place, `*` for any one step),
    `replace` (dict paths compared whole), `keyed` (lists matched by an item key), `create_requires`
    (paths needed only to create), `create_defaults` (values used only when creating) and `writable_keys`
    (the top-level keys a PUT sends back), `service_added` (values the service adds itself: not drift), and
    override `comparable()` (normalise values such as locations), `settle()` (wait out an operation
    left running, for example by an interrupted run), `prepare_create()`, `align()`, `refuse()` and `needs_repair()`.
    """

    immutable = ()
    replace = ()
    keyed = {}
    create_requires = ()
    create_defaults = {}
    kind = 'resource'
    result_key = 'resource'
    writable_keys = None
    service_added = {}  # {dotted path: list items or dict entries the service adds there on its own}
    sdk_client = None
    module_params = ('name',)

    def __init__(self, client, name, check_mode=False, purge_tags=False):
        self.client = client
        self.name = name
        self.check_mode = check_mode
        if purge_tags:
            self.replace = tuple(self.replace) + ('tags',)

    @classmethod
    def from_module(cls, module):
        """The resource the module's options name, with an SDK client for the module's credentials."""
        params = module.params
        options = {'check_mode': module.check_mode}
        if 'purge_tags' in params:
            options['purge_tags'] = params['purge_tags']
        return cls(module.client(cls.sdk_client), *[params[key] for key in cls.module_params], **options)

    @property
    def label(self):
        """What error messages call the resource."""
        return '%s %s' % (self.kind, self.name)

    @staticmethod
    def check_input(params):
        """Hook: problems with the module's options, each a sentence naming the option."""
        return []

    def outputs(self, resource):
        """Hook: return keys besides `result_key`, taken from the resource (None when absent)."""
        return {}

    def comparable(self, body):
        """`body` as compared: regions in one spelling (subclasses may normalise more)."""
        if 'location' not in body:
            return body
        return dict(body, location=normalize_location(body['location']))

    def immutable_changes(self, desired, current):
        """Paths of `desired` that differ from `current` and cannot change in place."""
        changed = differences(self.comparable(prune_none(desired)), self.comparable(current), self.replace, self.keyed)
        return blocked_paths(changed, self.immutable)

    def settle(self, current):
        """Hook: the resource once any operation already running on it has ended."""
        return current

    def prepare_create(self, body):
        """Hook: the create body; may fill create-time values or refuse it (raise AzureOperationError)."""
        return body

    def align(self, desired, current):
        """Hook: `desired` written the way the service reports the same value (for example 1.34 as 1.34.2)."""
        return desired

    def tags_only(self, differences, current):
        """True when an existing resource differs only in its tags and the service has a tags-only write for it."""
        return current is not None and type(self).write_tags is not ArmResource.write_tags and \
            all(path == 'tags' or path.startswith('tags.') for path in differences)

    def write_tags(self, tags, current):
        """Hook: replace the tags of the existing resource with `tags` (a tags-only PATCH) and return the resource.
        Resources whose API has one implement it; a change of tags alone then does not rewrite the whole resource."""
        raise NotImplementedError

    def with_service_values(self, desired, current):
        """`desired` plus what the service added to `current` at the `service_added` paths the user set: those values
        are not drift, and a write sends them back rather than asking the service to remove and re-add them."""
        desired = copy.deepcopy(desired)
        for path, added in self.service_added.items():
            want, have = get_path(desired, path), get_path(current, path)
            if want is None or not have:
                continue
            if isinstance(want, dict):
                want.update((k, v) for k, v in added.items() if have.get(k) == v and k not in want)
            else:
                want.extend(v for v in added if v in have and v not in want)
        return desired

    def refuse(self, desired, current):
        """Hook: raise AzureOperationError for a change the service allows only one way (checked on every plan)."""

    def needs_repair(self, current):
        """Hook: True when an unchanged resource must still be written (for example after a failed operation)."""
        return False

    def writable(self, current):
        """The part of `current` a PUT may send back: the `writable_keys`, or all of it when they are not set."""
        if self.writable_keys is None:
            return current
        return dict((k, current[k]) for k in self.writable_keys if k in current)

    def present(self, desired, current=_UNREAD):
        """Bring the resource to `desired`: one read (none when the caller passes `current`), at most one write.

        A write the service refuses because someone else changed the resource meanwhile is planned again from a
        new read, so their change is kept and ours is made only if still needed.
        """
        desired = prune_none(desired)
        for attempt in range(WRITE_ATTEMPTS):
            if current is _UNREAD:
                current = self.settle(self.read())
            result, after = self.plan(desired, current)
            if not result['changed'] or self.check_mode:
                result['resource'] = current if not result['changed'] else after
                return result
            try:
                if self.tags_only(result['differences'], current):
                    result['resource'] = self.write_tags(after.get('tags') or {}, current)
                else:
                    result['resource'] = self.write(after, current)
            except AzureOperationError as exc:
                if exc.error.get('code') not in CONCURRENT_CHANGE_CODES or attempt == WRITE_ATTEMPTS - 1:
                    raise
                current = _UNREAD
                continue
            result['diff']['after'] = result['resource']
            return result

    def plan(self, desired, current):
        """(result without the resource, the body to write) for `desired` over `current`; refuses what cannot change."""
        if current is None:
            missing = [f for f in self.create_requires if get_path(desired, f) is None]
            if missing:
                raise AzureOperationError('%s is required to create %s %s' % (' and '.join(missing), self.kind, self.name),
                                          error={'code': 'MissingParameter', 'message': 'required to create', 'target': ','.join(missing)})
            after = self.prepare_create(merge(self.create_defaults, desired, self.replace, self.keyed))
            changed_paths = sorted(after)
        else:
            self.refuse(desired, current)
            desired = self.align(self.with_service_values(desired, current), current)
            changed_paths = differences(self.comparable(desired), self.comparable(current), self.replace, self.keyed)
            blocked = blocked_paths(changed_paths, self.immutable)
            if blocked:
                raise AzureOperationError(
                    'Cannot change %s of %s %s in place: %s' % (
                        ', '.join(blocked), self.kind, self.name,
                        '; '.join('%s is %r, requested %r' % (p, get_path(current, p), get_path(desired, p)) for p in blocked)),
                    error={'code': 'ImmutableField', 'message': 'fields cannot change in place', 'target': ','.join(blocked)})
            after = merge(self.writable(current), desired, self.replace, self.keyed)
            if not changed_paths and self.needs_repair(current):
                changed_paths = ['properties.provisioningState']
        return {'changed': bool(changed_paths), 'differences': changed_paths, 'diff': {'before': current or {}, 'after': after}}, after

    def ensure(self, params):
        """The resource as `params['state']` asks: present with the options' values, or absent."""
        return self.absent() if params['state'] == 'absent' else self.present(self.desired(params))

    def absent(self, current=_UNREAD):
        if current is _UNREAD:
            current = self.settle(self.read())
        result = {'changed': current is not None, 'differences': [], 'diff': {'before': current or {}, 'after': {}}, 'resource': None}
        if current is not None and not self.check_mode:
            self.remove()
        return result


class TrackedResource(ArmResource):
    """An ARM tracked resource: a location fixed at creation, and tags."""

    immutable = ('location',)
    create_requires = ('location',)
    writable_keys = ('location', 'tags')

    def desired(self, params):
        return {'location': params['location'], 'tags': params['tags']}
