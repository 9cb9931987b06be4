"""Protobuf ``Struct`` <-> plain data, without the float damage.

``google.protobuf.Struct`` has one number type, a double: every ``2`` Crossplane
sends arrives as ``2.0``. The core's codec tolerates integral floats, but
composers copy observed values into desired manifests and status, where a
``2.0`` would be a type error to the API server (``replicas: 2.0`` is not an
integer) and a golden-file diff. So every value that crosses the wire inbound is
normalised here, once: integral floats become ``int`` exactly (a double holds
every integer up to 2**53 exactly; larger values stay floats, since the wire
already lost which integer they were), other floats stay floats. The ``Struct``
is walked directly rather than through ``json_format``: a value JSON cannot hold
(NaN, infinity — a Go ``structpb`` can carry them) is reported with its field
path, so a malformed request is refused with a message a person can act on.

Outbound, plain data is written into the ``Struct`` directly, in one walk that
also checks it (tuples are lists, any mapping an object): going through
``json_format`` would convert everything twice and costs most of a settled
reconcile's time. An integer a double cannot hold exactly (beyond 2**53) is
refused rather than sent rounded: Crossplane would apply a different number than
the composer decided.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2

# Keys Kubernetes tools print first; everything else follows alphabetically.
_LEADING_KEYS = ("apiVersion", "kind", "metadata", "name", "namespace")
_TRAILING_KEYS = ("status",)
# The largest magnitude up to which every integer has an exact double.
MAX_EXACT_INT = 2**53


class StructError(ValueError):
    """A value that has no exact protobuf ``Struct`` form (NaN, a set, an object...)."""


def from_struct(struct: struct_pb2.Struct, path: str = "") -> dict[str, Any]:
    """A ``Struct`` as plain data with exact integers; :class:`StructError` names bad values."""
    return {
        key: _from_value(value, f"{path}.{key}" if path else key)
        for key, value in struct.fields.items()
    }


def _from_value(value: struct_pb2.Value, path: str) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return from_struct(value.struct_value, path)
    if kind == "list_value":
        return [_from_value(item, f"{path}[{i}]") for i, item in enumerate(value.list_value.values)]
    if kind == "number_value":
        number = value.number_value
        if not math.isfinite(number):
            raise StructError(f"{path}: {number} is not a JSON number")
        # Beyond 2**53 a double no longer says which integer was meant: keep the float,
        # so that echoing the value back never trips the outbound exactness check.
        return int(number) if number.is_integer() and abs(number) <= MAX_EXACT_INT else number
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    return None  # null_value, or a Value with nothing set (JSON null either way)


def json_ready(value: Any, path: str = "") -> Any:
    """``value`` as JSON-shaped data, or :class:`StructError` naming the offending path."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_EXACT_INT:
            raise StructError(
                f"{path or '<root>'}: {value} is beyond 2**53 and has no exact Struct (double) form"
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StructError(f"{path or '<root>'}: {value!r} has no JSON form")
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise StructError(f"{path or '<root>'}: object key {key!r} is not a string")
            out[key] = json_ready(item, f"{path}.{key}" if path else key)
        return out
    if isinstance(value, list | tuple):
        return [json_ready(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise StructError(f"{path or '<root>'}: {type(value).__name__} has no JSON form")


def to_struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    """Plain data as a ``Struct``; raises :class:`StructError` for values JSON cannot hold."""
    struct = struct_pb2.Struct()
    _fill_struct(struct, value, "")
    return struct


def _fill_struct(struct: struct_pb2.Struct, value: Mapping[str, Any], path: str) -> None:
    fields = struct.fields
    for key, item in value.items():
        if not isinstance(key, str):
            raise StructError(f"{path or '<root>'}: object key {key!r} is not a string")
        _fill_value(fields[key], item, f"{path}.{key}" if path else key)


def _fill_value(target: struct_pb2.Value, value: Any, path: str) -> None:
    # Order matters: bool is an int, and a str is a sequence.
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bool):
        target.bool_value = value
    elif value is None:
        target.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, int | float):
        target.number_value = json_ready(value, path)
    elif isinstance(value, Mapping):
        _fill_struct(target.struct_value, value, path)
        if not value:
            target.struct_value.Clear()  # an empty object, not an unset value
    elif isinstance(value, list | tuple):
        items = target.list_value.values
        if not value:
            target.list_value.Clear()  # an empty list, not an unset value
        for index, item in enumerate(value):
            _fill_value(items.add(), item, f"{path}[{index}]")
    else:
        raise StructError(f"{path or '<root>'}: {type(value).__name__} has no JSON form")


def canonical(value: Any) -> Any:
    """``value`` with mapping keys in a stable, kubectl-like order, recursively.

    A ``Struct`` is a map, so key order does not survive the wire; printing in a
    fixed order keeps ``modelplane render`` output and golden files deterministic.
    """
    if isinstance(value, Mapping):
        return {key: canonical(value[key]) for key in sorted(value, key=_key_rank)}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def _key_rank(key: str) -> tuple[int, int, str]:
    if key in _LEADING_KEYS:
        return (0, _LEADING_KEYS.index(key), "")
    if key in _TRAILING_KEYS:
        return (2, _TRAILING_KEYS.index(key), "")
    return (1, 0, key)
