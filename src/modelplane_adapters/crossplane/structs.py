"""Protobuf ``Struct`` <-> plain data, without the float damage.

``google.protobuf.Struct`` has one number type, a double: every ``2`` Crossplane
sends arrives as ``2.0``. The core's codec tolerates integral floats, but
composers copy observed values into desired manifests and status, where a
``2.0`` would be a type error to the API server (``replicas: 2.0`` is not an
integer) and a golden-file diff. So every value that crosses the wire inbound is
normalised here, once: integral floats become ``int`` exactly (a double holds
every integer up to 2**53 exactly, and nothing larger survives the wire anyway),
other floats stay floats.

Outbound, plain data is made JSON-shaped (tuples become lists, mappings become
dicts) before ``dict_to_struct`` sees it, because protobuf's parser only accepts
``dict`` and ``list``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from crossplane.function import resource
from google.protobuf import struct_pb2

# Keys Kubernetes tools print first; everything else follows alphabetically.
_LEADING_KEYS = ("apiVersion", "kind", "metadata", "name", "namespace")
_TRAILING_KEYS = ("status",)


class StructError(ValueError):
    """A value that has no exact protobuf ``Struct`` form (NaN, a set, an object...)."""


def exact_numbers(value: Any) -> Any:
    """``value`` with every integral float turned into the ``int`` it stands for."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): exact_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [exact_numbers(v) for v in value]
    return value


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A ``Struct`` as plain data with exact integers."""
    converted: dict[str, Any] = exact_numbers(resource.struct_to_dict(struct))
    return converted


def json_ready(value: Any, path: str = "") -> Any:
    """``value`` as JSON-shaped data, or :class:`StructError` naming the offending path."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
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
    return resource.dict_to_struct(json_ready(value))


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
