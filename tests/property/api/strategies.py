"""Hypothesis strategies for typed API objects, derived from the field declarations.

``objects(cls)`` builds any attrs API class field by field from its type hint
and its declared constraints (lengths, bounds, patterns, item counts, unique
list-map keys), so every kind is covered without a hand-written generator
that would drift from the types. The objects respect each field's own
constraints but not the cross-field rules; they are what the codec must
carry faithfully, valid or not.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

import attrs
from hypothesis import strategies as st

from modelplane_core.api.fields import Constraints, constraints_of, is_required, wire_name
from modelplane_core.api.validation import INT64_MAX, INT64_MIN

# Long bounds (a 10240-character CEL selector) are not worth generating in full.
MAX_TEXT = 24
MAX_ITEMS = 3

TEXT = st.text(max_size=MAX_TEXT)


def _strip_optional(type_: Any) -> tuple[Any, bool]:
    if get_origin(type_) in (typing.Union, types.UnionType):
        args = [a for a in get_args(type_) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return type_, False


def _string(c: Constraints) -> st.SearchStrategy[str]:
    low = c.min_length or 0
    high = c.max_length if c.max_length is not None else max(low, MAX_TEXT)
    if c.pattern:
        return st.from_regex(c.pattern, fullmatch=True).filter(lambda s: low <= len(s) <= high)
    return st.text(min_size=low, max_size=min(high, max(low, MAX_TEXT)))


def _item_string(c: Constraints) -> st.SearchStrategy[str]:
    return _string(Constraints(min_length=c.item_min_length, max_length=c.item_max_length))


def value_for(type_: Any, c: Constraints) -> st.SearchStrategy[Any]:
    """Values of ``type_`` that satisfy the field constraints ``c``."""
    type_, _ = _strip_optional(type_)
    origin = get_origin(type_)
    if attrs.has(type_):
        return objects(type_)
    if origin is Literal:
        return st.sampled_from(get_args(type_))
    if type_ is str:
        return _string(c)
    if type_ is bool:
        return st.booleans()
    if type_ is int:
        low = c.minimum if c.minimum is not None else INT64_MIN
        high = c.maximum if c.maximum is not None else INT64_MAX
        return st.integers(low, high)
    if origin is tuple:
        (item_type,) = get_args(type_)[:1]
        item = _item_string(c) if item_type is str else value_for(item_type, Constraints())
        low = c.min_items or 0
        high = min(c.max_items if c.max_items is not None else MAX_ITEMS, max(low, MAX_ITEMS))
        if c.list_map_keys:
            keys = c.list_map_keys
            return st.lists(
                item,
                min_size=low,
                max_size=high,
                unique_by=lambda v: tuple(_wire_value(v, k) for k in keys),
            ).map(tuple)
        return st.lists(item, min_size=low, max_size=high).map(tuple)
    if origin in (Mapping, dict, typing.Mapping):
        high = min(c.max_properties or MAX_ITEMS, MAX_ITEMS)
        return st.dictionaries(TEXT, value_for(get_args(type_)[1], Constraints()), max_size=high)
    raise TypeError(f"no strategy for {type_!r}")  # a new field type must be taught here


def _wire_value(obj: Any, wire: str) -> Any:
    for attribute in attrs.fields(type(obj)):
        if wire_name(attribute) == wire:
            return getattr(obj, attribute.name)
    raise KeyError(wire)


@functools.cache
def objects(cls: type) -> st.SearchStrategy[Any]:
    """Instances of the attrs class ``cls`` whose every field meets its own constraints."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for attribute in attrs.fields(cls):
        value = value_for(hints[attribute.name], constraints_of(attribute))
        if not is_required(attribute):
            value = st.one_of(st.just(attribute.default), value)
        fields[attribute.name] = value
    return st.builds(cls, **fields)


# --- arbitrary, possibly hostile input ---------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
# YAML (not JSON) also produces non-string keys: `1: x`, `true: y`, `~: z`.
KEYS = st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.none())
JSON_LIKE = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=30,
)
