"""OpenAPI v3 schemas for the XRDs, generated from the types (one source of truth).

The same field declarations the codec and validator read produce the
structural schema, and every cross-field rule that has a CEL form becomes an
``x-kubernetes-validations`` entry, so the API server enforces on ``kubectl
apply`` what ``modelplane validate`` reports on a laptop.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

import attrs

from modelplane_core.api.codec import unstructure
from modelplane_core.api.deployment_layout import xrd_spec_schema
from modelplane_core.api.fields import (
    Constraints,
    constraints_of,
    is_required,
    wire_fields,
    wire_name,
)
from modelplane_core.api.registry import Resource, class_for_kind
from modelplane_core.api.validation import rules_for

# Imported for its side effect of registering the rules whose CEL we export.
from modelplane_core.api import rules as _rules  # noqa: F401  # isort: skip


def openapi_schema(kind: str | type[Resource]) -> dict[str, Any]:
    """The ``openAPIV3Schema`` of ``kind``'s XRD: ``spec`` and ``status`` (no metadata)."""
    cls = class_for_kind(kind)
    hints = typing.get_type_hints(cls)
    spec_field = attrs.fields_dict(cls)["spec"]
    status_type = _strip_optional(hints["status"])
    schema: dict[str, Any] = {
        "type": "object",
        "description": cls.kind_info.description,
        "required": ["spec"],
        "properties": {
            "spec": _schema_for(hints["spec"], constraints_of(spec_field)),
            "status": _schema_for(status_type, Constraints()),
        },
    }
    if cls.kind_info.kind == "ModelDeployment":
        properties = schema["properties"]
        properties["spec"] = xrd_spec_schema(properties["spec"])
    return schema


def _strip_optional(type_: Any) -> Any:
    if get_origin(type_) in (typing.Union, types.UnionType):
        args = [a for a in get_args(type_) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return type_


def _schema_for(type_: Any, c: Constraints) -> dict[str, Any]:
    type_ = _strip_optional(type_)
    origin = get_origin(type_)
    schema: dict[str, Any]
    if attrs.has(type_):
        schema = _object_schema(type_)
    elif origin is Literal:
        schema = {"type": "string", "enum": list(get_args(type_))}
    elif type_ is str:
        schema = {"type": "string"}
        _put(schema, "minLength", c.min_length)
        _put(schema, "maxLength", c.max_length)
        _put(schema, "pattern", c.pattern)
    elif type_ is bool:
        schema = {"type": "boolean"}
    elif type_ is int:
        schema = {"type": "integer"}
        if c.int64:
            schema["format"] = "int64"
        _put(schema, "minimum", c.minimum)
        _put(schema, "maximum", c.maximum)
    elif origin is tuple:
        item = Constraints(min_length=c.item_min_length, max_length=c.item_max_length)
        schema = {"type": "array", "items": _schema_for(get_args(type_)[0], item)}
        _put(schema, "minItems", c.min_items)
        _put(schema, "maxItems", c.max_items)
        if c.list_type:
            schema["x-kubernetes-list-type"] = c.list_type
        if c.list_map_keys:
            schema["x-kubernetes-list-map-keys"] = list(c.list_map_keys)
    elif origin in (Mapping, dict, typing.Mapping):
        schema = {
            "type": "object",
            "additionalProperties": _schema_for(get_args(type_)[1], Constraints()),
        }
        _put(schema, "maxProperties", c.max_properties)
    else:  # pragma: no cover - a new field type must be taught to the exporter
        raise TypeError(f"no OpenAPI mapping for {type_!r}")
    if c.doc:
        schema = {"description": c.doc, **schema}
    if c.preserve_unknown:
        schema["x-kubernetes-preserve-unknown-fields"] = True
    return schema


def _object_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for attribute in wire_fields(cls):
        name = wire_name(attribute)
        prop = _schema_for(hints[attribute.name], constraints_of(attribute))
        if is_required(attribute):
            required.append(name)
        elif attribute.default is not None:
            prop["default"] = unstructure(attribute.default)
        properties[name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    validations = []
    for one in rules_for(cls):
        if one.cel is None:
            continue
        entry: dict[str, Any] = {"rule": one.cel, "message": one.message}
        if one.field:
            entry["fieldPath"] = "." + one.field
        validations.append(entry)
    if validations:
        schema["x-kubernetes-validations"] = validations
    return schema


def _put(schema: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        schema[key] = value
