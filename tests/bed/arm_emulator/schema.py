"""Request-body validation against Swagger 2.0 (OpenAPI 2) definitions, the way ARM resource providers see them.

Written for the emulator (no third-party JSON-schema library): it understands what azure-rest-api-specs use —

* ``$ref`` to ``#/definitions/X`` in the same file or ``relative/file.json#/definitions/X`` in another file
  (resolved relative to the file holding the reference); sibling keywords next to a ``$ref`` (``readOnly``,
  ``x-ms-mutability``) are honoured like AutoRest does;
* ``allOf`` (properties, ``required`` and ``additionalProperties`` are merged);
* ``type`` (``integer`` is an int, ``number`` an int or float, ``boolean`` is never an int, ...), ``format``
  (``int32``/``int64`` ranges, ``uuid``, ``date-time``, ``byte``);
* ``enum``: case-insensitive for strings; ``x-ms-enum.modelAsString: true`` accepts any string;
* ``readOnly`` properties present in a request body are violations (option ``reject_read_only``);
* unknown members are violations unless the object allows ``additionalProperties`` (option ``allow_unknown``);
  ARM resource providers such as AKS answer "Could not find member 'x' on object of type 'Y'" for those;
* ``additionalProperties`` maps, ``required``, ``minimum``/``maximum`` (and ``exclusive*``), ``minLength``/
  ``maxLength``/``pattern``, ``minItems``/``maxItems``/``uniqueItems``;
* ``x-ms-mutability`` without ``update``: when the stored resource (``existing``) is given, changing such a value is
  reported with code ``PropertyChangeNotAllowed``.

JSON ``null`` is treated as "absent" (ARM deserializers do the same) unless the property is ``required``.

Violations carry an ARM-style JSON path such as ``properties.agentPoolProfiles[0].count`` (keys that are not plain
identifiers are written ``['key']``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import math
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

__all__ = ["SpecLoader", "SchemaValidator", "Violation", "format_path", "join_path"]

_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_NO_VALUE = object()


@dataclass(frozen=True)
class Violation:
    """One problem in a request body. ``path`` is the ARM-style JSON path ('' = the body itself)."""

    path: str
    code: str
    message: str

    def as_detail(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "target": self.path}


def join_path(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    if _IDENT.match(key):
        return f"{base}.{key}" if base else key
    quoted = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{base}['{quoted}']"


def format_path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out = join_path(out, part)
    return out


class SpecLoader:
    """Loads and caches Swagger JSON files and resolves ``$ref`` strings relative to the referring file."""

    def __init__(self) -> None:
        self._docs: dict[Path, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def load(self, path: str | Path) -> dict[str, Any]:
        p = Path(path).resolve()
        with self._lock:
            doc = self._docs.get(p)
            if doc is None:
                with open(p, encoding="utf-8") as fh:
                    doc = json.load(fh)
                self._docs[p] = doc
            return doc

    def resolve(self, ref: str, base_file: Path) -> tuple[Any, Path]:
        """Resolve ``ref`` found in ``base_file``; returns (target, file the target lives in)."""
        file_part, _sep, pointer = ref.partition("#")
        target_file = (base_file.parent / file_part).resolve() if file_part else base_file
        node: Any = self.load(target_file)
        for raw in pointer.split("/")[1:] if pointer else []:
            token = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(token)]
            elif isinstance(node, dict) and token in node:
                node = node[token]
            else:
                raise KeyError(f"cannot resolve $ref {ref!r} from {base_file}")
        return node, target_file


class _Shape:
    """The merged view of an object schema (own keywords + everything reachable through allOf)."""

    __slots__ = ("types", "properties", "required", "additional", "name", "has_object_keywords")

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.properties: dict[str, tuple[dict[str, Any], Path]] = {}
        self.required: set[str] = set()
        self.additional: Any = None  # None = not declared; True/False; or (schema, file)
        self.name: str | None = None
        self.has_object_keywords = False


class SchemaValidator:
    """Validates JSON values against a definition of one Swagger file.

    >>> v = SchemaValidator("specs/resourcegroups.json")
    >>> v.validate("ResourceGroup", {"location": "westeurope", "tags": {"a": 1}})
    [Violation(path="tags.a", code="InvalidType", ...)]
    """

    def __init__(
        self,
        spec_file: str | Path,
        loader: SpecLoader | None = None,
        *,
        allow_unknown: bool = False,
        reject_read_only: bool = True,
    ) -> None:
        self.spec_file = Path(spec_file).resolve()
        self.loader = loader or SpecLoader()
        self.allow_unknown = allow_unknown
        self.reject_read_only = reject_read_only
        self.loader.load(self.spec_file)  # fail early on a missing/broken file
        self._patterns: dict[str, re.Pattern[str] | None] = {}

    # -- public -----------------------------------------------------------------------------------------------

    def definition(self, name: str) -> dict[str, Any]:
        return self.loader.resolve(f"#/definitions/{name}", self.spec_file)[0]

    def validate(self, definition: str, instance: Any, *, existing: Any = None) -> list[Violation]:
        """Validate ``instance`` against ``definition`` (a name in this file's definitions or a ``$ref`` string).

        ``existing`` (optional) is the stored resource; used for ``x-ms-mutability`` checks.
        """
        ref = definition if ("#" in definition) else f"#/definitions/{definition}"
        out: list[Violation] = []
        self._check({"$ref": ref}, self.spec_file, instance, "", existing, out)
        return out

    def path_parameters(self, path_template: str) -> dict[str, dict[str, Any]]:
        """The ``in: path`` parameters (resolved) of the operation(s) at ``path_template`` in this spec, by name.

        Matching ignores case and placeholder names, so the emulator's template needs not spell them like the spec.
        """
        doc = self.loader.load(self.spec_file)
        want = _normalise_template(path_template)
        for key, item in (doc.get("paths") or {}).items():
            if _normalise_template(key) != want:
                continue
            params: dict[str, dict[str, Any]] = {}
            blocks = [item.get("parameters") or []] + [
                op.get("parameters") or [] for m, op in item.items() if isinstance(op, dict) and m != "parameters"
            ]
            for block in blocks:
                for param in block:
                    resolved = self._deref(param, self.spec_file)[0]
                    if resolved.get("in") == "path":
                        params.setdefault(resolved["name"], resolved)
            return params
        return {}

    def check_value(self, schema: dict[str, Any], value: Any, path: str = "") -> list[Violation]:
        """Validate a scalar/inline schema (e.g. a path parameter) against ``value``."""
        out: list[Violation] = []
        self._check(schema, self.spec_file, value, path, None, out)
        return out

    # -- internals --------------------------------------------------------------------------------------------

    def _deref(self, schema: Any, file: Path) -> tuple[dict[str, Any], Path]:
        """Follow $ref chains; keyword siblings of a $ref override the target (readOnly, x-ms-mutability...)."""
        seen = 0
        merged_siblings: dict[str, Any] = {}
        name = None
        while isinstance(schema, dict) and "$ref" in schema:
            seen += 1
            if seen > 64:
                raise ValueError(f"$ref loop at {schema['$ref']!r}")
            for k, v in schema.items():
                if k != "$ref" and k not in merged_siblings:
                    merged_siblings[k] = v
            ref = schema["$ref"]
            name = ref.rsplit("/", 1)[-1]
            schema, file = self.loader.resolve(ref, file)
        if not isinstance(schema, dict):
            raise ValueError(f"schema is not an object: {schema!r}")
        if merged_siblings or name:
            schema = dict(schema)
            for k in ("readOnly", "x-ms-mutability"):
                if k in merged_siblings:
                    schema[k] = merged_siblings[k]
            if name and "x-emulator-name" not in schema:
                schema["x-emulator-name"] = name
        return schema, file

    def _shape(self, schema: dict[str, Any], file: Path, depth: int = 0) -> _Shape:
        shape = _Shape()
        shape.name = schema.get("x-emulator-name")
        self._merge_shape(shape, schema, file, depth)
        return shape

    def _merge_shape(self, shape: _Shape, schema: dict[str, Any], file: Path, depth: int) -> None:
        if depth > 32:
            raise ValueError("allOf nesting too deep")
        t = schema.get("type")
        if isinstance(t, str):
            shape.types.add(t)
        elif isinstance(t, list):
            shape.types.update(t)
        for part in schema.get("allOf") or []:
            sub, sub_file = self._deref(part, file)
            self._merge_shape(shape, sub, sub_file, depth + 1)
        props = schema.get("properties")
        if props:
            shape.has_object_keywords = True
            for name, prop in props.items():
                shape.properties[name] = (prop, file)  # own properties override the allOf ones
        if schema.get("required"):
            shape.required.update(schema["required"])
        if "additionalProperties" in schema:
            shape.has_object_keywords = True
            ap = schema["additionalProperties"]
            if isinstance(ap, dict):
                shape.additional = (ap, file)
            elif shape.additional is None or ap is True:
                shape.additional = bool(ap)

    def _pattern(self, pattern: str) -> re.Pattern[str] | None:
        if pattern not in self._patterns:
            try:
                self._patterns[pattern] = re.compile(pattern)
            except re.error:
                self._patterns[pattern] = None  # an ECMA-only construct: don't guess
        return self._patterns[pattern]

    def _check(
        self, schema: Any, file: Path, value: Any, path: str, existing: Any, out: list[Violation]
    ) -> None:
        schema, file = self._deref(schema, file)
        if value is None:
            return
        shape = self._shape(schema, file)
        types = shape.types or ({"object"} if shape.has_object_keywords else set())
        label = shape.name
        if types and not any(_type_ok(t, value) for t in types):
            want = " or ".join(sorted(types))
            out.append(Violation(path, "InvalidType",
                                 f"Invalid type at '{path or '(body)'}': expected {want}"
                                 f"{f' ({label})' if label else ''}, got {_json_type(value)} {_short(value)}."))
            return

        self._check_enum(schema, value, path, out)
        if isinstance(value, str):
            self._check_string(schema, value, path, out)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._check_number(schema, value, path, out)
        elif isinstance(value, list):
            self._check_array(schema, file, value, path, existing, out)
        elif isinstance(value, dict):
            self._check_object(shape, value, path, existing, out)

    def _check_enum(self, schema: dict[str, Any], value: Any, path: str, out: list[Violation]) -> None:
        enum = schema.get("enum")
        if not enum:
            return
        xms = schema.get("x-ms-enum") or {}
        if xms.get("modelAsString") and isinstance(value, str):
            return
        for allowed in enum:
            if isinstance(allowed, str) and isinstance(value, str):
                if allowed.lower() == value.lower():
                    return
            elif allowed == value and type(allowed) is type(value):
                return
        out.append(Violation(path, "InvalidEnumValue",
                             f"The value {_short(value)} at '{path}' is not allowed; allowed values: "
                             f"{', '.join(json.dumps(a) for a in enum)}."))

    def _check_string(self, schema: dict[str, Any], value: str, path: str, out: list[Violation]) -> None:
        if "minLength" in schema and len(value) < schema["minLength"]:
            out.append(Violation(path, "InvalidLength",
                                 f"The value at '{path}' is shorter than the minimum length {schema['minLength']}."))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(Violation(path, "InvalidLength",
                                 f"The value at '{path}' is longer than the maximum length {schema['maxLength']}."))
        pattern = schema.get("pattern")
        if pattern:
            rx = self._pattern(pattern)
            if rx is not None and not rx.search(value):
                out.append(Violation(path, "InvalidPattern",
                                     f"The value {_short(value)} at '{path}' does not match the pattern '{pattern}'."))
        fmt = schema.get("format")
        bad = False
        if fmt == "uuid":
            try:
                uuid.UUID(value)
            except ValueError:
                bad = True
        elif fmt == "date-time":
            try:
                datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                bad = True
        elif fmt == "byte":
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                bad = True
        if bad:
            out.append(Violation(path, "InvalidFormat",
                                 f"The value {_short(value)} at '{path}' is not a valid '{fmt}'."))

    def _check_number(self, schema: dict[str, Any], value: int | float, path: str, out: list[Violation]) -> None:
        fmt = schema.get("format")
        if fmt in _INT_RANGES and isinstance(value, int):
            lo, hi = _INT_RANGES[fmt]
            if not lo <= value <= hi:
                out.append(Violation(path, "InvalidValue", f"The value {value} at '{path}' does not fit {fmt}."))
        if isinstance(value, float) and not math.isfinite(value):
            out.append(Violation(path, "InvalidValue", f"The value at '{path}' is not a finite number."))
        if "minimum" in schema:
            lo = schema["minimum"]
            if value < lo or (schema.get("exclusiveMinimum") and value == lo):
                out.append(Violation(path, "InvalidValue",
                                     f"The value {value} at '{path}' is less than the minimum {lo}"
                                     f"{' (exclusive)' if schema.get('exclusiveMinimum') else ''}."))
        if "maximum" in schema:
            hi = schema["maximum"]
            if value > hi or (schema.get("exclusiveMaximum") and value == hi):
                out.append(Violation(path, "InvalidValue",
                                     f"The value {value} at '{path}' is greater than the maximum {hi}"
                                     f"{' (exclusive)' if schema.get('exclusiveMaximum') else ''}."))
        if "multipleOf" in schema and schema["multipleOf"]:
            q = value / schema["multipleOf"]
            if abs(q - round(q)) > 1e-9:
                out.append(Violation(path, "InvalidValue",
                                     f"The value {value} at '{path}' is not a multiple of {schema['multipleOf']}."))

    def _check_array(
        self, schema: dict[str, Any], file: Path, value: list[Any], path: str, existing: Any, out: list[Violation]
    ) -> None:
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append(Violation(path, "InvalidLength",
                                 f"The array at '{path}' has {len(value)} items; at least {schema['minItems']} "
                                 "are required."))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append(Violation(path, "InvalidLength",
                                 f"The array at '{path}' has {len(value)} items; at most {schema['maxItems']} "
                                 "are allowed."))
        if schema.get("uniqueItems"):
            seen: list[str] = []
            for item in value:
                key = json.dumps(item, sort_keys=True)
                if key in seen:
                    out.append(Violation(path, "DuplicateItems", f"The array at '{path}' has duplicate items."))
                    break
                seen.append(key)
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                old = existing[i] if isinstance(existing, list) and i < len(existing) else None
                self._check(items, file, item, join_path(path, i), old, out)

    def _check_object(
        self, shape: _Shape, value: dict[str, Any], path: str, existing: Any, out: list[Violation]
    ) -> None:
        for name in sorted(shape.required):
            if value.get(name) is None:
                out.append(Violation(join_path(path, name), "MissingRequiredProperty",
                                     f"The required property '{join_path(path, name)}' is missing."))
        for key, item in value.items():
            sub_path = join_path(path, key)
            old = existing.get(key, _NO_VALUE) if isinstance(existing, dict) else _NO_VALUE
            if key in shape.properties:
                prop, prop_file = shape.properties[key]
                resolved = self._deref(prop, prop_file)[0]
                if resolved.get("readOnly") and self.reject_read_only and item is not None:
                    out.append(Violation(sub_path, "ReadOnlyProperty",
                                         f"The property '{sub_path}' is read-only and cannot be set in a request."))
                    continue
                mutability = resolved.get("x-ms-mutability")
                if (mutability and "update" not in mutability and old is not _NO_VALUE and old is not None
                        and item is not None and old != item):
                    out.append(Violation(sub_path, "PropertyChangeNotAllowed",
                                         f"Changing property '{sub_path}' is not allowed (from {_short(old)} to "
                                         f"{_short(item)})."))
                    continue
                self._check(prop, prop_file, item, sub_path, None if old is _NO_VALUE else old, out)
            elif isinstance(shape.additional, tuple):
                ap, ap_file = shape.additional
                self._check(ap, ap_file, item, sub_path, None if old is _NO_VALUE else old, out)
            elif shape.additional is True or (shape.additional is None and self.allow_unknown):
                continue
            else:
                typename = shape.name or "object"
                out.append(Violation(sub_path, "UnknownProperty",
                                     f"Could not find member '{key}' on object of type '{typename}'. "
                                     f"Path '{sub_path}'."))


def _type_ok(t: str, value: Any) -> bool:
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "file":
        return isinstance(value, (str, bytes))
    return True  # unknown type keyword: don't judge


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _normalise_template(template: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", template.rstrip("/")).lower()
