"""JSON Schema for the v2 app envelope, generated per API era from :mod:`cfreplay.cf.cfapi`.

``validate`` checks an envelope against the schema of one API version and, on
failure, raises :class:`cfreplay.SchemaError` naming the exact field and why::

    >>> cfreplay.validate({"metadata": {...}, "entity": {"memory": "lots", ...}})
    SchemaError: entity.memory: expected integer, got string 'lots' (API 2.43.0)
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final, cast

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from cfreplay.cf import cfapi
from cfreplay.cf.cfapi import ApiVersion, Field
from cfreplay.errors import SchemaError

__all__ = ["app_schema", "check_field", "validate"]

GUID_PATTERN: Final = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIMESTAMP_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
#: Before 2.21 CC wrote local-zone times of a UTC host (cfapi.UTC_Z_TIMESTAMPS_SINCE).
OFFSET_TIMESTAMP_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$"
#: 2.21.0 is both: cf-release v196 wrote ``+00:00``, v197 ``Z``.
EITHER_TIMESTAMP_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|\+00:00)$"
PATH_PATTERN: Final = r"^/v2/"
_PATTERNS: Final = {"guid": GUID_PATTERN, "timestamp": TIMESTAMP_PATTERN, "path": PATH_PATTERN}
# JSON Schema counts 1.0 as an integer; CC never sends one, and a float override would
# change the bytes the factories write, so integers must be real ints.
_Validator: Final[Any] = cast(Any, validators.extend)(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)
_PATTERN_NAMES: Final = {
    GUID_PATTERN: "a lowercase guid",
    TIMESTAMP_PATTERN: "an ISO-8601 UTC timestamp like 2015-11-03T00:54:16Z",
    OFFSET_TIMESTAMP_PATTERN: "an ISO-8601 timestamp of this era like 2014-11-07T23:11:39+00:00",
    EITHER_TIMESTAMP_PATTERN: "an ISO-8601 timestamp of this era, ending in Z or +00:00",
    PATH_PATTERN: "a /v2/ path",
}


def _pattern(format_name: str, version: ApiVersion) -> str:
    if format_name == "timestamp" and version < cfapi.UTC_Z_TIMESTAMPS_SINCE:
        return OFFSET_TIMESTAMP_PATTERN
    if format_name == "timestamp" and version == cfapi.UTC_Z_TIMESTAMPS_SINCE:
        return EITHER_TIMESTAMP_PATTERN
    return _PATTERNS[format_name]


def _field_schema(f: Field, version: ApiVersion) -> dict[str, Any]:
    types: list[str] = [f.json_type] + (["null"] if f.nullable else [])
    schema: dict[str, Any] = {"type": types[0] if len(types) == 1 else types, "description": f.doc}
    if f.format is not None:
        schema["pattern"] = _pattern(f.format, version)
    allowed = f.allowed_values(version)
    if allowed is not None:
        schema["enum"] = [*allowed, *([None] if f.nullable else [])]
    if f.minimum is not None:
        schema["minimum"] = f.minimum
    if f.maximum is not None:
        schema["maximum"] = f.maximum
    if f.items is not None:
        item: dict[str, Any] = {"type": f.items}
        if f.item_minimum is not None:
            item["minimum"] = f.item_minimum
        if f.item_maximum is not None:
            item["maximum"] = f.item_maximum
        schema["items"] = item
    if f.shape is not None:
        schema["properties"] = {
            key: {"type": [json_type, "null"] if nullable else json_type}
            for key, (json_type, nullable) in f.shape.items()
        }
        schema["required"] = list(f.shape)
        schema["additionalProperties"] = False
    if f.has_default:
        schema["default"] = f.default
    return schema


def _object_schema(fields: Iterable[Field], version: ApiVersion, *, required: Iterable[str]) -> dict[str, Any]:
    fields = tuple(fields)
    return {
        "type": "object",
        "properties": {f.name: _field_schema(f, version) for f in fields},
        "required": list(required),
        "additionalProperties": False,
    }


def _metadata_schema(version: ApiVersion) -> dict[str, Any]:
    metadata = _object_schema(cfapi.METADATA_FIELDS, version, required=(f.name for f in cfapi.METADATA_FIELDS))
    if version >= cfapi.UPDATED_AT_NOT_NULL_SINCE:
        metadata["properties"]["updated_at"]["type"] = "string"
    return metadata


def _inline_schema(relation: cfapi.InlineRelation, version: ApiVersion) -> dict[str, Any]:
    """What ``inline-relations-depth`` writes for *relation*: a related resource, or a list of them.

    Its metadata is checked as the app's is (its url in the relation's collection); its
    entity belongs to another resource type, whose fields this schema does not model.
    """
    metadata = _metadata_schema(version)
    metadata["properties"]["url"]["pattern"] = f"^{re.escape(relation.collection)}/"
    resource = {
        "type": "object",
        "description": f"the app's {relation.name}, inlined after {relation.link}",
        "properties": {"metadata": metadata, "entity": {"type": "object"}},
        "required": ["metadata", "entity"],
        "additionalProperties": False,
    }
    return {"type": "array", "items": resource} if relation.to_many else resource


@lru_cache(maxsize=64)
def _app_schema(version: ApiVersion) -> dict[str, Any]:
    entity_fields = cfapi.app_fields(version, links=True)
    # A field an earlier release of the same version lacked (``diego`` at 2.22.0) may be left out.
    required = (f.name for f in entity_fields if not f.link and not f.optional_in(version))
    entity = _object_schema(entity_fields, version, required=required)
    present = {f.name for f in entity_fields}
    for relation in cfapi.INLINE_RELATIONS:
        if relation.link in present:
            entity["properties"][relation.name] = _inline_schema(relation, version)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Cloud Controller v2 app envelope, API {version}",
        "type": "object",
        "properties": {"metadata": _metadata_schema(version), "entity": entity},
        "required": ["metadata", "entity"],
        "additionalProperties": False,
    }


def app_schema(api_version: str | ApiVersion | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an app envelope in the given API era.

    Relation link fields (``space_url`` …) are allowed but not required: restage
    responses never carry them, GET and list responses do.  So are the related
    resources ``inline-relations-depth`` writes in (``space``, ``stack``,
    ``routes``, ``service_bindings``).  A field that an earlier release reporting
    the same version lacked is not required at that version either
    (``Field.optional_in``: ``diego`` at 2.22.0).
    """
    return copy.deepcopy(_app_schema(ApiVersion.parse(api_version)))


@lru_cache(maxsize=64)
def _validator(version: ApiVersion) -> Any:
    return _Validator(_app_schema(version))


def validate(envelope: Any, api_version: str | ApiVersion | None = None) -> None:
    """Check *envelope* against the app schema of *api_version* (default: ``cfapi.DEFAULT_API_VERSION``).

    Raises :class:`cfreplay.SchemaError` for the first offending field in
    presenter order; its message names the field and says what is wrong.
    """
    version = ApiVersion.parse(api_version)
    errors = list(_validator(version).iter_errors(envelope))
    if errors:
        raise _explain(min(errors, key=_error_rank), version)


_FIELD_POSITION: Final = {
    **{("metadata", f.name): i for i, f in enumerate(cfapi.METADATA_FIELDS)},
    **{("entity", f.name): 100 + i for i, f in enumerate(cfapi.APP_FIELDS)},
}


def _error_rank(error: ValidationError) -> tuple[int, int, str]:
    path = [str(p) for p in error.absolute_path]
    position = _FIELD_POSITION.get((path[0], path[1]), 1000) if len(path) >= 2 else -1
    return (position, -len(path), error.message)


def _dotted(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "envelope"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _era_note(name: str, version: ApiVersion) -> str:
    """Why *name* is not an entity field of *version*: unknown, or from another era."""
    known = {f.name: f for f in cfapi.APP_FIELDS}
    f = known.get(name)
    if f is None:
        return "unknown field; not part of the v2 app envelope"
    if version < f.since:
        return f"not in this API version; introduced in {f.since}"
    return f"not in this API version; removed in {f.until}"


def _explain(error: ValidationError, version: ApiVersion, prefix: Iterable[str] = ()) -> SchemaError:
    """The :class:`SchemaError` for one validation error: the field's dotted path and a plain reason."""
    path = [*prefix, *error.absolute_path]
    value = error.instance
    if error.validator == "additionalProperties" and isinstance(value, Mapping):
        return _unknown_key(error, value, path, version)
    if error.validator == "required" and isinstance(value, Mapping):
        expected: Any = error.validator_value
        missing = next(k for k in expected if k not in value)
        return SchemaError(_dotted([*path, missing]), "missing; this API version requires it", str(version))
    return SchemaError(_dotted(path), _value_reason(error, path), str(version))


def _unknown_key(error: ValidationError, value: Mapping[str, Any], path: list[Any], version: ApiVersion) -> SchemaError:
    """A key the schema does not allow; an entity key may be a field of another era."""
    schema: Any = error.schema
    allowed = schema.get("properties", {})
    extra = next(k for k in value if k not in allowed)
    reason = _era_note(extra, version) if path == ["entity"] else "unknown field"
    return SchemaError(_dotted([*path, extra]), reason, str(version))


def _value_reason(error: ValidationError, path: list[Any]) -> str:
    """Why a value is wrong, in words: its type, enum, pattern or bound; else jsonschema's message."""
    validator, value = error.validator, error.instance
    expected: Any = error.validator_value
    if validator == "type":
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return f"expected {expected_text}, got {_json_type(value)} {_show(value)}"
    if validator == "enum":
        return _enum_reason(value, expected, path)
    if validator == "pattern":
        return f"{_show(value)} is not {_PATTERN_NAMES.get(expected, 'well formed')}"
    if validator in ("minimum", "maximum"):
        word = "below the minimum" if validator == "minimum" else "above the maximum"
        return f"{_show(value)} is {word} {expected}"
    return error.message


def _enum_reason(value: Any, expected: Any, path: list[Any]) -> str:
    """Not an allowed value; when the value belongs to a later era, say which."""
    allowed = [v for v in expected if v is not None]
    reason = f"{_show(value)} is not one of {', '.join(map(repr, allowed))}"
    field_name = str(path[-1]) if path else ""
    f = {f.name: f for f in cfapi.APP_FIELDS}.get(field_name)
    if f is not None and f.enum is not None and isinstance(value, str) and value in f.enum:
        reason += f" (that value needs API {f.enum[value]} or later)"
    return reason


@lru_cache(maxsize=1024)
def _field_validator(name: str, version: ApiVersion, where: str) -> Any:
    fields = cfapi.METADATA_FIELDS if where == "metadata" else cfapi.app_fields(version, links=True)
    for f in fields:
        if f.name == name:
            schema = _app_schema(version)["properties"][where]["properties"][name]
            return _Validator(schema)
    return None


def check_field(name: str, value: Any, version: ApiVersion, *, where: str = "entity") -> None:
    """Check one field value against its schema in *version*; raise :class:`SchemaError` naming it."""
    validator = _field_validator(name, version, where)
    if validator is None:
        reason = _era_note(name, version) if where == "entity" else "unknown field"
        raise SchemaError(f"{where}.{name}", reason, str(version))
    errors = list(validator.iter_errors(value))
    if errors:
        error = min(errors, key=lambda e: (-len(e.absolute_path), e.message))
        raise _explain(error, version, prefix=(where, name))
