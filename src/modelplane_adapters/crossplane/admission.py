"""The XRD schema's limits, checked the way the API server checks them at admission.

An XR reaches the function only after the API server admitted it against the
XRD's ``openAPIV3Schema`` (which is :func:`modelplane_core.api.openapi_schema`).
A composite in a request that breaks that schema's limits — a 50 KiB CEL
selector where the schema allows 10 KiB, a replica count above the maximum —
therefore did not come through a real, matching API server: it is a malformed
request (or an XRD out of step with the function), and the function answers
with a Fatal result instead of feeding it to the scheduler.

Everything the schema admits but the core still rejects (cross-field rules with
no CEL form, unschedulable selectors) is the composer's to judge: it holds the
running resources and explains itself in a condition.

Only ``spec`` is checked. ``status`` is written by this function's own earlier
responses; refusing to compose because of it could never be repaired.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from modelplane_core import api

MAX_PROBLEMS: Final = 20
_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "object": (Mapping,),
    "array": (list, tuple),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def admission_problems(composite: Mapping[str, Any], cls: type[api.Resource]) -> list[str]:
    """Every way ``composite['spec']`` breaks the limits of ``cls``'s XRD schema."""
    schema = _spec_schema(cls.kind_info.kind)
    problems: list[str] = []
    for problem in _check(composite.get("spec"), schema, "spec"):
        problems.append(problem)
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


@functools.cache
def _spec_schema(kind: str) -> dict[str, Any]:
    spec: dict[str, Any] = api.openapi_schema(kind)["properties"]["spec"]
    return spec


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check(value: Any, schema: Mapping[str, Any], path: str) -> Iterator[str]:
    if value is None:
        return
    expected = schema.get("type")
    if isinstance(expected, str):
        allowed = _TYPES.get(expected, (object,))
        if not isinstance(value, allowed) or (expected != "boolean" and isinstance(value, bool)):
            yield f"{path}: must be of type {expected}"
            return
    if "enum" in schema and value not in schema["enum"]:
        shown = ", ".join(str(v) for v in schema["enum"])
        yield f"{path}: must be one of {shown}"
    if isinstance(value, str):
        yield from _check_string(value, schema, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield from _check_number(value, schema, path)
    elif isinstance(value, list | tuple):
        yield from _check_array(value, schema, path)
    elif isinstance(value, Mapping):
        yield from _check_object(value, schema, path)


def _check_string(value: str, schema: Mapping[str, Any], path: str) -> Iterator[str]:
    length = len(value)
    if "maxLength" in schema and length > schema["maxLength"]:
        yield f"{path}: must be at most {schema['maxLength']} characters long (is {length})"
    if "minLength" in schema and length < schema["minLength"]:
        yield f"{path}: must be at least {schema['minLength']} characters long (is {length})"
    # An over-long value is already refused; do not run a regex over 50 KiB of it.
    within = length <= schema.get("maxLength", length)
    if "pattern" in schema and within and not _pattern(schema["pattern"]).search(value):
        yield f"{path}: must match the pattern {schema['pattern']}"


def _check_number(value: float, schema: Mapping[str, Any], path: str) -> Iterator[str]:
    if "minimum" in schema and value < schema["minimum"]:
        yield f"{path}: must be at least {schema['minimum']} (is {value})"
    if "maximum" in schema and value > schema["maximum"]:
        yield f"{path}: must be at most {schema['maximum']} (is {value})"


def _check_array(
    value: list[Any] | tuple[Any, ...], schema: Mapping[str, Any], path: str
) -> Iterator[str]:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        yield f"{path}: must have at most {schema['maxItems']} items (has {len(value)})"
    if "minItems" in schema and len(value) < schema["minItems"]:
        yield f"{path}: must have at least {schema['minItems']} items (has {len(value)})"
    keys = schema.get("x-kubernetes-list-map-keys")
    if schema.get("x-kubernetes-list-type") == "map" and keys:
        seen: set[tuple[Any, ...]] = set()
        for index, item in enumerate(value):
            if not isinstance(item, Mapping):
                continue
            identity = tuple(str(item.get(k)) for k in keys)
            if identity in seen:
                shown = ", ".join(f"{k}={v}" for k, v in zip(keys, identity, strict=True))
                yield f"{path}[{index}]: duplicate entry with {shown}"
            seen.add(identity)
    items = schema.get("items")
    if isinstance(items, Mapping):
        for index, item in enumerate(value):
            yield from _check(item, items, f"{path}[{index}]")


def _check_object(value: Mapping[str, Any], schema: Mapping[str, Any], path: str) -> Iterator[str]:
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        yield f"{path}: must have at most {schema['maxProperties']} entries (has {len(value)})"
    for name in schema.get("required", ()):
        if name not in value:
            yield f"{path}.{name}: required field is missing"
    properties = schema.get("properties")
    additional = schema.get("additionalProperties")
    for key, item in value.items():
        if isinstance(properties, Mapping) and key in properties:
            yield from _check(item, properties[key], f"{path}.{key}")
        elif isinstance(additional, Mapping):
            yield from _check(item, additional, f"{path}[{key}]")
