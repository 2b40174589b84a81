# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side validation of Kubernetes objects before anything is written.

Built-in kinds are checked against the JSON schemas of one Kubernetes minor version shipped by the
kubernetes-validate package. Custom resources are checked against their CRD's structural schema the way
the apiserver does (defaults and null pruning first, then the schema, then the x-kubernetes-validations
CEL rules), so a server that is older than the CRD, or drops its CEL rules, still refuses nothing we send.
"""

from __future__ import annotations

import base64
import binascii
import copy
import gzip
import importlib.util
import ipaddress
import json
import logging
import os
import re
import traceback
import uuid
from urllib.parse import parse_qs, urlsplit

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import K8sError
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.objects import describe, load_documents

try:
    import jsonschema
    import kubernetes_validate
    from referencing import Registry, Resource
    HAS_KUBERNETES_VALIDATE = True
    KUBERNETES_VALIDATE_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES_VALIDATE = False
    KUBERNETES_VALIDATE_IMPORT_ERROR = traceback.format_exc()

# The CEL library is imported by load_cel() when a rule is first compiled: its package also loads a command-line tool
# (typer, rich), a third of a second that every k8s_apply call without validate would pay otherwise.
HAS_CEL = importlib.util.find_spec('cel') is not None
cel = cel_stdlib = None


def load_cel():
    global cel, cel_stdlib  # pylint: disable=global-statement
    if cel is None:
        import cel as library  # pylint: disable=import-outside-toplevel
        from cel import stdlib  # pylint: disable=import-outside-toplevel
        # the library logs every failing Python callback to stderr; a failed rule is reported as a problem instead
        logging.getLogger('cel').setLevel(logging.CRITICAL)
        cel, cel_stdlib = library, stdlib


VALIDATE_ARG_SPEC = dict(
    validate=dict(type='dict', options=dict(
        fail_on_error=dict(type='bool', default=True),
        strict=dict(type='bool', default=True),
        version=dict(type='str'),
        crds=dict(type='list', elements='path'),
    )),
)

CRD_API_VERSION = 'apiextensions.k8s.io/v1'
OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'
# Root and embedded objects always carry these, whether or not the schema declares them.
RESOURCE_FIELDS = ('apiVersion', 'kind', 'metadata')
DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')

# Functions of the CEL core that the cel library evaluates itself.
CEL_NATIVE = frozenset((
    'size', 'contains', 'startsWith', 'endsWith', 'matches', 'int', 'uint', 'double', 'string', 'bytes',
    'timestamp', 'duration', 'dyn', 'type', 'getFullYear', 'getMonth', 'getDayOfYear', 'getDayOfMonth', 'getDate',
    'getDayOfWeek', 'getHours', 'getMinutes', 'getSeconds', 'getMilliseconds',
    'of', 'none', 'hasValue', 'value', 'orValue',  # optionals, for optionalOldSelf rules
))
# CEL reserved words: a property with one of these names is reached as __name__ in a rule.
CEL_RESERVED = frozenset((
    'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import',
    'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while'))
FORMATS_AS_CEL = {'date-time': 'timestamp(v)', 'date': 'timestamp(v + "T00:00:00Z")', 'duration': 'duration(v)'}


class InvalidObjects(K8sError):
    """Validation found problems and fail_on_error is set: nothing may be written."""

    def __init__(self, problems):
        self.problems = problems
        super(InvalidObjects, self).__init__('client-side validation found %d problem(s), nothing was written: %s'
                                             % (len(problems), '; '.join(format_problem(p) for p in problems)))


def format_problem(problem):
    where = '%s: %s' % (problem['object'], problem['path']) if problem['path'] else problem['object']
    return '%s: %s' % (where, problem['message'])


def join_path(path, key):
    if isinstance(key, int):
        return '%s[%d]' % (path, key)
    if not re.match(r'^[A-Za-z_$][A-Za-z0-9_$-]*$', key):
        return '%s[%s]' % (path, key)
    return '%s.%s' % (path, key) if path else key


def split_api_version(api_version):
    group, _sep, version = api_version.rpartition('/')
    return group, version


def minor_version(text):
    """'1.34' from '1.34', 'v1.34.2' or 'v1.34.2-aks.1'; None if it is not a version."""
    match = re.match(r'^v?(\d+)\.(\d+)', str(text or '').strip())
    return '%s.%s' % match.groups() if match else None


def _version_key(version):
    return tuple(int(p) for p in version.split('.'))


def shipped_versions():
    """Kubernetes minor versions whose schemas the installed kubernetes-validate ships, oldest first."""
    names = os.listdir(_schema_root())
    return sorted(set(m.group(1) for m in (re.match(r'^v(\d+\.\d+)\.0-local$', n) for n in names) if m), key=_version_key)


def _schema_root():
    return os.path.join(os.path.dirname(kubernetes_validate.__file__), 'kubernetes-json-schema')


def read_crd_files(paths):
    """The CustomResourceDefinitions in YAML files (.gz allowed); other objects in them are ignored."""
    crds = []
    for path in paths or []:
        try:
            opener = gzip.open if path.endswith('.gz') else open
            with opener(path, 'rt') as handle:
                text = handle.read()
            crds.extend(o for o in load_documents(text, path) if o.get('kind') == 'CustomResourceDefinition')
        except (IOError, OSError) as exc:
            raise K8sError('validate.crds: cannot read %s: %s' % (path, exc))
        except Exception as exc:  # pylint: disable=broad-except
            raise K8sError('validate.crds: %s is not a valid manifest: %s' % (path, exc))
    return crds


# --- formats ---------------------------------------------------------------------------------------
def _is_ip(value, version):
    try:
        return ipaddress.ip_address(value).version == version
    except ValueError:
        return False


def _is_cidr(value):
    try:
        ipaddress.ip_network(value, strict=False)
        return '/' in value
    except ValueError:
        return False


def _is_uuid(value):
    try:
        uuid.UUID(value)
        return True
    except ValueError:
        return False


def _is_base64(value):
    try:
        base64.b64decode(value, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


RFC3339 = re.compile(r'^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$')
STRING_FORMATS = {
    'date-time': RFC3339.match,
    'date': re.compile(r'^\d{4}-\d{2}-\d{2}$').match,
    'ipv4': lambda v: _is_ip(v, 4),
    'ipv6': lambda v: _is_ip(v, 6),
    'cidr': _is_cidr,
    'uuid': _is_uuid,
    'byte': _is_base64,
}
INTEGER_FORMATS = {'int32': 31, 'int64': 63}


# --- Kubernetes CEL library ------------------------------------------------------------------------
_URL_SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:')


def _parse_url(text):
    """Like Go's url.ParseRequestURI, which the Kubernetes url() library uses: an absolute URI or an absolute path."""
    if not isinstance(text, str) or not (text.startswith('/') or _URL_SCHEME.match(text)):
        raise ValueError('URL parse error: %r is not an absolute URI or an absolute path' % (text,))
    if re.search(r'[\x00-\x20\x7f]|%(?![0-9A-Fa-f]{2})', text):
        raise ValueError('URL parse error: %r contains a space, a control character or a bad escape' % text)
    parts = urlsplit(text)
    _port = parts.port  # raises ValueError on a bad port
    return parts


def _url_query(text):
    return parse_qs(_parse_url(text).query, keep_blank_values=True)


def _url(text):
    _parse_url(text)
    return text


def _is_url(text):
    try:
        _parse_url(text)
        return True
    except ValueError:
        return False


def _find(text, pattern):
    match = re.search(pattern, text)
    return match.group(0) if match else ''


def _find_all(text, pattern, limit=-1):
    found = [m.group(0) for m in re.finditer(pattern, text)]
    return found if limit < 0 else found[:limit]


def _index_of(value, item, offset=0):
    if isinstance(value, list):
        return value.index(item) if item in value else -1
    return cel_stdlib.index_of(value, item, offset)


def _last_index_of(value, item, *offset):
    if isinstance(value, list):
        return len(value) - 1 - value[::-1].index(item) if item in value else -1
    return cel_stdlib.last_index_of(value, item, *offset)


def _kubernetes_functions():
    """Kubernetes' CEL libraries, as far as this collection implements them (see the validate option's docs)."""
    functions = {}
    for library in ('core', 'strings', 'sets'):
        functions.update(cel_stdlib.EXTENSIONS[library])
    functions.update({
        'indexOf': _index_of,
        'lastIndexOf': _last_index_of,
        'isSorted': lambda items: all(a <= b for a, b in zip(items, items[1:])),
        'find': _find,
        'findAll': _find_all,
        'url': _url,
        'isURL': _is_url,
        'getScheme': lambda text: _parse_url(text).scheme,
        'getHost': lambda text: _parse_url(text).netloc.rpartition('@')[2],
        'getHostname': lambda text: _parse_url(text).hostname or '',
        'getPort': lambda text: str(_parse_url(text).port or ''),
        'getEscapedPath': lambda text: _parse_url(text).path,
        'getQuery': _url_query,
    })
    return functions


class _Rules:
    """Compiles and evaluates x-kubernetes-validations rules; a rule it cannot run is an error, never a pass."""

    def __init__(self):
        load_cel()
        self.functions = _kubernetes_functions()
        # namespaced functions (sets.contains) are reported by their last name
        self.known = CEL_NATIVE | set(name.rpartition('.')[2] for name in self.functions)
        self._compiled = {}

    def compile(self, rule):
        """(program, uses oldSelf, why not) for a rule, cached."""
        if rule not in self._compiled:
            try:
                program = cel.compile(rule)
            except Exception as exc:  # pylint: disable=broad-except
                self._compiled[rule] = (None, False, 'cannot parse CEL rule %r: %s' % (rule, str(exc).splitlines()[0]))
            else:
                unknown = sorted(n for n in program.functions() if re.match(r'^[A-Za-z]', n) and n not in self.known)
                why = ('CEL rule %r uses %s, which this collection does not implement' % (rule, ', '.join(unknown))
                       if unknown else None)
                self._compiled[rule] = (program, 'oldSelf' in program.variables(), why)
        return self._compiled[rule]

    def run(self, program, variables):
        values = dict(self.functions)
        values.update(variables)
        return program.execute(values)

    def convert(self, expression, value):
        """A string field typed by its format (date-time, duration) as CEL sees it, or the string if it does not parse."""
        try:
            return cel.evaluate(expression, {'v': value})
        except Exception:  # pylint: disable=broad-except
            return value


def cel_name(name):
    """A property name as a CEL rule spells it (Kubernetes escaping)."""
    if name in CEL_RESERVED:
        return '__%s__' % name
    return (name.replace('__', '__underscores__').replace('.', '__dot__').replace('-', '__dash__')
            .replace('/', '__slash__'))


# --- built-in kinds ----------------------------------------------------------------------------------
class _Catalog:
    """The built-in kinds of one Kubernetes minor version, from kubernetes-validate's JSON schemas."""

    def __init__(self, version, strict):
        self.version = version
        folder = os.path.join(_schema_root(), 'v%s.0-local%s' % (version, '-strict' if strict else ''))
        with open(os.path.join(folder, '_definitions.json')) as handle:
            self.document = json.load(handle)
        self.kinds = {}
        for name, definition in self.document['$defs'].items():
            for gvk in definition.get('x-kubernetes-group-version-kind') or []:
                self.kinds.setdefault((gvk['group'], gvk['version'], gvk['kind']), name)
        self.groups = set(group for group, _v, _k in self.kinds)
        self.registry = Registry().with_resource(self.document['$id'], Resource.from_contents(self.document))

    def served(self, group, kind):
        return sorted('%s/%s' % (g, v) if g else v for g, v, k in self.kinds if g == group and k == kind)

    def errors(self, definition, value, path=''):
        """(path, message) for every way `value` breaks a definition."""
        schema = {'$ref': '%s#/$defs/%s' % (self.document['$id'], definition)}
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry)
        for error in validator.iter_errors(value):
            where = path
            for key in error.absolute_path:
                where = join_path(where, key)
            if error.validator == 'additionalProperties' and error.validator_value is False:
                declared = error.schema.get('properties') or {}
                for key in sorted(k for k in error.instance if k not in declared):
                    yield join_path(where, key), 'unknown field'
            elif error.validator == 'type':
                types = [t for t in (error.validator_value if isinstance(error.validator_value, list) else [error.validator_value])
                         if t != 'null']
                yield where, 'must be of type %s, not %s' % (' or '.join(types), json.dumps(error.instance))
            else:
                yield where, error.message


# --- custom resources: the apiserver's structural schema semantics ------------------------------------
def defaulted(value, schema):
    """The value with schema defaults applied and non-nullable nulls dropped, as the apiserver does before validating.

    The input is left as it is: what is sent to the server is the user's object, not this one.
    """
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        properties = schema.get('properties') or {}
        extra = schema.get('additionalProperties') if isinstance(schema.get('additionalProperties'), dict) else None
        result = {}
        for key, item in value.items():
            sub = properties.get(key, extra)
            if item is None and sub is not None and not sub.get('nullable'):
                continue
            result[key] = defaulted(item, sub)
        for key, sub in properties.items():
            if key not in result and 'default' in sub:
                result[key] = defaulted(copy.deepcopy(sub['default']), sub)
        return result
    if isinstance(value, list):
        return [defaulted(item, schema.get('items')) for item in value]
    return value


def _type_ok(value, schema):
    expected = schema.get('type')
    if schema.get('x-kubernetes-int-or-string'):
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if expected == 'object':
        return isinstance(value, dict)
    if expected == 'array':
        return isinstance(value, list)
    if expected == 'string':
        return isinstance(value, str)
    if expected == 'boolean':
        return isinstance(value, bool)
    if expected == 'integer':
        return (isinstance(value, int) or (isinstance(value, float) and value.is_integer())) and not isinstance(value, bool)
    if expected == 'number':
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def _kind_of(value):
    for kind, types in (('boolean', bool), ('object', dict), ('array', list), ('string', str), ('integer', int), ('number', float)):
        if isinstance(value, types):
            return kind
    return type(value).__name__


def _list_key(item, keys):
    return tuple(json.dumps(item.get(k), sort_keys=True) if isinstance(item, dict) else None for k in keys)


class _Check:
    """One walk of a custom resource through its schema: problems, and the nodes whose CEL rules run after it."""

    def __init__(self, strict):
        self.strict = strict
        self.problems = []  # (path, message)
        self.type_errors = False
        self.rules = []  # (value, schema, path, old)

    def add(self, path, message):
        self.problems.append((path, message))

    def node(self, value, schema, path, old=None, structural=True):
        """Check `value` against `schema`; `structural` is false inside allOf/anyOf/oneOf/not, which only constrain."""
        if value is None:
            if not schema.get('nullable') and (schema.get('type') or schema.get('x-kubernetes-int-or-string')):
                self.type_errors = self.type_errors or structural
                self.add(path, 'must not be null')
            return
        if not _type_ok(value, schema):
            self.type_errors = self.type_errors or structural
            expected = 'integer or string' if schema.get('x-kubernetes-int-or-string') else schema['type']
            self.add(path, 'must be of type %s, not %s' % (expected, _kind_of(value)))
            return
        if 'enum' in schema and value not in schema['enum']:
            self.add(path, 'unsupported value %s: supported values: %s'
                     % (json.dumps(value), ', '.join(json.dumps(v) for v in schema['enum'])))
        if isinstance(value, str):
            self._string(value, schema, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._number(value, schema, path)
        elif isinstance(value, list):
            self._array(value, schema, path, old, structural)
        elif isinstance(value, dict):
            self._object(value, schema, path, old, structural)
        self._combinations(value, schema, path)
        if structural and schema.get('x-kubernetes-validations'):
            self.rules.append((value, schema, path, old))

    def _string(self, value, schema, path):
        length = len(value)
        if 'maxLength' in schema and length > schema['maxLength']:
            self.add(path, 'may not be longer than %d characters, has %d' % (schema['maxLength'], length))
        if 'minLength' in schema and length < schema['minLength']:
            self.add(path, 'must be at least %d characters long' % schema['minLength'])
        if 'pattern' in schema:
            try:
                matched = re.search(schema['pattern'], value)
            except re.error:
                matched = True  # a Go regular expression Python cannot read: the server checks it
            if not matched:
                self.add(path, '%s should match %r' % (json.dumps(value), schema['pattern']))
        check = STRING_FORMATS.get(schema.get('format'))
        if check and not check(value):
            self.add(path, '%s is not a valid %s' % (json.dumps(value), schema['format']))

    def _number(self, value, schema, path):
        if 'maximum' in schema:
            if value > schema['maximum'] or (schema.get('exclusiveMaximum') and value == schema['maximum']):
                self.add(path, 'should be less than %s%s' % ('' if schema.get('exclusiveMaximum') else 'or equal to ', schema['maximum']))
        if 'minimum' in schema:
            if value < schema['minimum'] or (schema.get('exclusiveMinimum') and value == schema['minimum']):
                self.add(path, 'should be greater than %s%s' % ('' if schema.get('exclusiveMinimum') else 'or equal to ', schema['minimum']))
        if schema.get('multipleOf') and value % schema['multipleOf']:
            self.add(path, 'should be a multiple of %s' % schema['multipleOf'])
        bits = INTEGER_FORMATS.get(schema.get('format'))
        if bits and not -2 ** bits <= value < 2 ** bits:
            self.add(path, '%s is out of range for %s' % (value, schema['format']))

    def _array(self, value, schema, path, old, structural):
        if 'maxItems' in schema and len(value) > schema['maxItems']:
            self.add(path, 'must have at most %d items, has %d' % (schema['maxItems'], len(value)))
        if 'minItems' in schema and len(value) < schema['minItems']:
            self.add(path, 'must have at least %d items, has %d' % (schema['minItems'], len(value)))
        list_type = schema.get('x-kubernetes-list-type')
        keys = schema.get('x-kubernetes-list-map-keys') or []
        if list_type == 'set' or schema.get('uniqueItems'):
            seen = []
            for index, item in enumerate(value):
                if item in seen:
                    self.add(join_path(path, index), 'duplicate value %s' % json.dumps(item))
                seen.append(item)
        old_items = {}
        if list_type == 'map' and keys:
            seen = set()
            for index, item in enumerate(value):
                key = _list_key(item, keys)
                if key in seen:
                    self.add(join_path(path, index), 'duplicate entry with %s' % ', '.join(
                        '%s=%s' % (k, v) for k, v in zip(keys, key)))
                seen.add(key)
            # only items of a map list correlate with the old object (for transition rules)
            old_items = dict((_list_key(item, keys), item) for item in old or [] if isinstance(item, dict))
        if isinstance(schema.get('items'), dict):
            for index, item in enumerate(value):
                self.node(item, schema['items'], join_path(path, index),
                          old_items.get(_list_key(item, keys)) if old_items else None, structural)

    def _object(self, value, schema, path, old, structural):
        properties = schema.get('properties') or {}
        extra = schema.get('additionalProperties')
        old = old if isinstance(old, dict) else {}
        for key in schema.get('required') or []:
            if key not in value:
                self.add(join_path(path, key), 'required value')
        if 'maxProperties' in schema and len(value) > schema['maxProperties']:
            self.add(path, 'must have at most %d properties, has %d' % (schema['maxProperties'], len(value)))
        if 'minProperties' in schema and len(value) < schema['minProperties']:
            self.add(path, 'must have at least %d properties' % schema['minProperties'])
        # the root and embedded objects are resources: apiVersion, kind and metadata are always allowed
        resource = structural and (not path or schema.get('x-kubernetes-embedded-resource'))
        free = (extra is True or schema.get('x-kubernetes-preserve-unknown-fields') or not structural or not self.strict)
        for key, item in value.items():
            where = join_path(path, key)
            if resource and key == 'metadata':
                # metadata fields are checked against ObjectMeta; the schema may only constrain name and generateName
                meta = dict(properties.get(key) or {'type': 'object'}, **{'x-kubernetes-preserve-unknown-fields': True})
                self.node(item, meta, where, old.get(key), structural)
            elif key in properties:
                self.node(item, properties[key], where, old.get(key), structural)
            elif isinstance(extra, dict):
                self.node(item, extra, where, old.get(key), structural)
            elif not free and not (resource and key in RESOURCE_FIELDS):
                self.add(where, 'unknown field')

    def _combinations(self, value, schema, path):
        """allOf/anyOf/oneOf/not: value validations only, so unknown fields and CEL rules are not theirs to judge."""
        def failures(sub):
            check = _Check(strict=False)
            check.node(value, sub, path, structural=False)
            return check.problems
        for sub in schema.get('allOf') or []:
            self.problems.extend(failures(sub))
        if schema.get('anyOf'):
            results = [failures(sub) for sub in schema['anyOf']]
            if all(results):
                self.add(path, 'must match at least one of the anyOf schemas: %s' % ' or '.join(
                    '%s' % r[0][1] for r in results))
        if schema.get('oneOf'):
            matched = sum(1 for sub in schema['oneOf'] if not failures(sub))
            if matched != 1:
                self.add(path, 'must match exactly one of the oneOf schemas, matches %d' % matched)
        if isinstance(schema.get('not'), dict) and not failures(schema['not']):
            self.add(path, 'must not match the "not" schema')


class Validator:
    """Validates Kubernetes objects on the client: built-in kinds, and custom resources with their CEL rules."""

    def __init__(self, version=None, server_version=None, strict=True, fail_on_error=True, crds=None, warn=None):
        """`version` is what the user asked for; without it `server_version`, else the newest schemas shipped."""
        self.strict = strict
        self.fail_on_error = fail_on_error
        self.warnings = []
        self._warn_callback = warn
        self.shipped = shipped_versions()
        self.version = self._choose_version(version, server_version)
        self._crds = {}  # (group, kind) -> CRD from validate.crds
        for crd in crds or []:
            self._crds[self._crd_key(crd)] = crd
        self._catalogs = {}
        self._served = {}  # (group, kind) -> CRD the server has, or None: asked once per kind
        self._rules = None

    def warn(self, message):
        self.warnings.append(message)
        if self._warn_callback:
            self._warn_callback(message)

    def _choose_version(self, version, server_version):
        shipped = self.shipped
        if version:
            wanted = minor_version(version)
            if wanted not in shipped:
                hint = ' (quote it in YAML: unquoted, 1.30 is the number 1.3)' if re.match(r'^\d+\.\d$', str(version)) else ''
                raise K8sError('validate.version %s: the installed kubernetes-validate has schemas for Kubernetes %s to %s only%s'
                               % (version, shipped[0], shipped[-1], hint))
            return wanted
        wanted = minor_version(server_version)
        if wanted is None:
            return shipped[-1]
        if wanted in shipped:
            return wanted
        chosen = shipped[0] if _version_key(wanted) < _version_key(shipped[0]) else shipped[-1]
        self.warn('validate: no schemas for Kubernetes %s (the server); built-in kinds are checked against Kubernetes %s'
                  % (wanted, chosen))
        return chosen

    @staticmethod
    def _crd_key(crd):
        spec = crd.get('spec') or {}
        return spec.get('group'), (spec.get('names') or {}).get('kind')

    def catalog(self, version=None):
        version = version or self.version
        if version not in self._catalogs:
            self._catalogs[version] = _Catalog(version, self.strict)
        return self._catalogs[version]

    # --- entry point --------------------------------------------------------------------------------
    def validate(self, objects, served_crd=None, live=None):
        """Problems ({object, path, message}) of every object; raises InvalidObjects if there are some and fail_on_error.

        served_crd(api_version, kind) returns the CRD the server has for a kind, or None; live(obj) returns the object
        as it is on the server, or None; both are optional (no server).
        """
        here = dict((self._crd_key(o), o) for o in objects if o.get('kind') == 'CustomResourceDefinition'
                    and o.get('apiVersion') == CRD_API_VERSION)
        problems = []
        for obj in objects:
            name = describe(obj)
            for path, message in self.object_problems(obj, here, served_crd, live):
                problems.append({'object': name, 'path': path, 'message': message})
        if problems and self.fail_on_error:
            raise InvalidObjects(problems)
        for problem in problems:
            self.warn('validate: %s' % format_problem(problem))
        return problems

    def object_problems(self, obj, here=None, served_crd=None, live=None):
        """(path, message) for one object."""
        group, version = split_api_version(obj['apiVersion'])
        catalog = self.catalog()
        if group in catalog.groups or group in self.catalog(self.shipped[-1]).groups:
            return self._builtin(obj, group, version, catalog)
        key = (group, obj['kind'])
        crd = (here or {}).get(key) or self._crds.get(key) or self._served_crd(key, obj, served_crd)
        if crd is None:
            why = ('no CustomResourceDefinition found for %s %s (not in this call, in validate.crds or on the server)'
                   % (obj['apiVersion'], obj['kind']))
            if self.strict:
                return [('', why)]
            self.warn('validate: %s: %s; not checked' % (describe(obj), why))
            return []
        return self._custom(obj, version, crd, live)

    def _served_crd(self, key, obj, served_crd):
        """The server's CRD for a kind, asked once per kind however many objects of it there are."""
        if served_crd is None:
            return None
        if key not in self._served:
            self._served[key] = served_crd(obj['apiVersion'], obj['kind'])
        return self._served[key]

    def _builtin(self, obj, group, version, catalog):
        definition = catalog.kinds.get((group, version, obj['kind']))
        if definition is None:
            served = catalog.served(group, obj['kind'])
            return [('', '%s %s is not served by Kubernetes %s%s' % (
                obj['apiVersion'], obj['kind'], catalog.version, '; use %s' % ' or '.join(served) if served else ''))]
        return list(catalog.errors(definition, obj))

    def _custom(self, obj, version, crd, live):
        crd_name = crd.get('metadata', {}).get('name')
        versions = dict((v.get('name'), v) for v in (crd.get('spec') or {}).get('versions') or [])
        entry = versions.get(version)
        if not entry or not entry.get('served'):
            served = ' or '.join('%s/%s' % (crd['spec']['group'], n) for n, v in versions.items() if v.get('served'))
            return [('', '%s %s is not served by CustomResourceDefinition %s%s'
                     % (obj['apiVersion'], obj['kind'], crd_name, '; use %s' % served if served else ''))]
        if entry.get('deprecated'):
            self.warn('validate: %s: %s' % (describe(obj), entry.get('deprecationWarning') or '%s %s is deprecated'
                                            % (obj['apiVersion'], obj['kind'])))
        schema = (entry.get('schema') or {}).get('openAPIV3Schema')
        problems = self._metadata(obj)
        if not schema:
            return problems
        value = defaulted(obj, schema)
        if (entry.get('subresources') or {}).get('status') is not None:
            value.pop('status', None)  # the server ignores status written through the main resource
        old = None
        if live and any(self._uses_old_self(r) for r in _all_rules(schema)):
            old = live(obj)
            old = defaulted(old, schema) if old else None
        check = _Check(self.strict)
        check.node(value, schema, '', old)
        problems.extend(check.problems)
        if check.type_errors:
            if check.rules:
                problems.append(('', 'CEL rules were not checked because of the type errors above'))
            return problems
        for node, node_schema, path, node_old in check.rules:
            problems.extend(self._run_rules(node, node_schema, path, node_old))
        return problems

    def _metadata(self, obj):
        meta = obj.get('metadata')
        problems = list(self.catalog().errors(OBJECT_META, meta, 'metadata'))
        name = (meta or {}).get('name')
        if isinstance(name, str) and (len(name) > 253 or not DNS_SUBDOMAIN.match(name)):
            problems.append(('metadata.name', '%s must be a lowercase RFC 1123 subdomain (a-z, 0-9, "-" and ".")' % json.dumps(name)))
        return problems

    # --- CEL ----------------------------------------------------------------------------------------------
    def _uses_old_self(self, rule):
        return self.rules().compile(rule['rule'])[1] or rule.get('optionalOldSelf')

    def rules(self):
        if self._rules is None:
            self._rules = _Rules()
        return self._rules

    def _run_rules(self, value, schema, path, old):
        problems = []
        self_value = self.cel_value(value, schema, root=not path)
        for rule in schema['x-kubernetes-validations']:
            program, uses_old, why = self.rules().compile(rule['rule'])
            if uses_old and old is None and not rule.get('optionalOldSelf'):
                continue  # a transition rule: nothing to compare with on create
            where = (path + rule['fieldPath'] if rule.get('fieldPath') else path).lstrip('.')
            if why:
                problems.append((where, why))
                continue
            variables = {'self': self_value}
            if uses_old or rule.get('optionalOldSelf'):
                old_value = None if old is None else self.cel_value(old, schema, root=not path)
                if rule.get('optionalOldSelf'):
                    old_value = cel.OptionalValue.none() if old is None else cel.OptionalValue.of(old_value)
                variables['oldSelf'] = old_value
            try:
                result = self.rules().run(program, variables)
            except Exception as exc:  # pylint: disable=broad-except
                problems.append((where, 'rule %r could not be evaluated: %s' % (rule['rule'], str(exc).splitlines()[0])))
                continue
            if result is not True:
                problems.append((where, self._rule_message(rule, variables)))
        return problems

    def _rule_message(self, rule, variables):
        if rule.get('messageExpression'):
            program, _uses_old, why = self.rules().compile(rule['messageExpression'])
            if not why:
                try:
                    message = self.rules().run(program, variables)
                    if isinstance(message, str) and message.strip():
                        return message
                except Exception:  # pylint: disable=broad-except
                    pass  # as the apiserver does: fall back to the message
        return rule.get('message') or 'failed rule: %s' % rule['rule']

    def cel_value(self, value, schema, root=False):
        """The value as a rule sees it: declared fields only, escaped names, numbers and formats typed by the schema."""
        if value is None or not isinstance(schema, dict):
            return value
        if isinstance(value, dict):
            properties = schema.get('properties') or {}
            extra = schema.get('additionalProperties')
            if not properties and not isinstance(extra, dict):
                return value  # x-kubernetes-preserve-unknown-fields or a free-form object
            if isinstance(extra, dict) and not properties:
                return dict((k, self.cel_value(v, extra)) for k, v in value.items())
            result = dict((cel_name(k), self.cel_value(v, properties[k])) for k, v in value.items() if k in properties)
            if root or schema.get('x-kubernetes-embedded-resource'):
                for key in ('apiVersion', 'kind'):
                    if key in value:
                        result[key] = value[key]
                meta = value.get('metadata') or {}
                result['metadata'] = dict((k, meta[k]) for k in ('name', 'generateName') if k in meta)
            return result
        if isinstance(value, list):
            return [self.cel_value(v, schema.get('items')) for v in value]
        return self._cel_scalar(value, schema)

    def _cel_scalar(self, value, schema):
        if schema.get('type') == 'number' and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if schema.get('type') == 'integer' and isinstance(value, float):
            return int(value)
        if isinstance(value, str) and schema.get('type') == 'string':
            if schema.get('format') in FORMATS_AS_CEL:
                return self.rules().convert(FORMATS_AS_CEL[schema['format']], value)
            if schema.get('format') == 'byte' and _is_base64(value):
                return base64.b64decode(value)
        return value


def _all_rules(schema):
    """Every x-kubernetes-validations rule in a schema tree."""
    if not isinstance(schema, dict):
        return []
    rules = list(schema.get('x-kubernetes-validations') or [])
    for child in list((schema.get('properties') or {}).values()) + [schema.get('items'), schema.get('additionalProperties')]:
        rules.extend(_all_rules(child))
    return rules


def server_version(client):
    """The server's Kubernetes version as reported at discovery, or None."""
    try:
        return (client.version or {}).get('kubernetes', {}).get('gitVersion')
    except Exception:  # pylint: disable=broad-except
        return None


def validator_for(module, client):
    """A Validator for a module's O(validate) option (None when it is not set); fails the module on bad input."""
    options = module.params.get('validate')
    if options is None:
        return None
    if not HAS_KUBERNETES_VALIDATE:
        module.fail_json(msg=missing_required_lib('kubernetes-validate'), exception=KUBERNETES_VALIDATE_IMPORT_ERROR)
    if not HAS_CEL:
        module.fail_json(msg=missing_required_lib('common-expression-language'))
    try:
        version = options['version']
        return Validator(version=version, server_version=None if version else server_version(client),
                         strict=options['strict'], fail_on_error=options['fail_on_error'],
                         crds=read_crd_files(options['crds']), warn=module.warn)
    except K8sError as exc:
        module.fail_json(msg=str(exc))
