"""Semantic validation: every bound, pattern and cross-field rule, all problems at once.

Two kinds of checks run over a typed object:

* field constraints declared with :func:`~modelplane_core.api.fields.describe`
  (lengths, bounds, patterns, item counts, unique list-map keys), the same ones
  the exported OpenAPI schema carries;
* cross-field rules registered per class with :func:`rule` (a predicate that
  may also carry the equivalent CEL so the XRD enforces it server-side) or
  :func:`check` (a function yielding precise field errors).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import attrs

from modelplane_core.api.errors import FieldError, index_path, join_path, key_path, shown
from modelplane_core.api.fields import Constraints, constraints_of, wire_fields, wire_name

T = TypeVar("T")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


@attrs.frozen
class Rule:
    """A cross-field invariant of one type; ``cel`` is its XRD form when expressible.

    ``field`` names the wire field the failure is reported at (relative to the
    object), mirroring ``fieldPath`` of ``x-kubernetes-validations``.
    """

    predicate: Callable[[Any], bool]
    message: str
    cel: str | None = None
    field: str | None = None


Checker = Callable[[Any, str], Iterable[FieldError]]
_RULES: dict[type, list[Rule]] = {}
_CHECKERS: dict[type, list[Checker]] = {}


def rule(
    cls: type[T], *, message: str, cel: str | None = None, field: str | None = None
) -> Callable[[Callable[[T], bool]], Callable[[T], bool]]:
    """Register ``predicate(obj) -> ok`` for ``cls``; a failure reports ``message``."""

    def register(predicate: Callable[[T], bool]) -> Callable[[T], bool]:
        _RULES.setdefault(cls, []).append(
            Rule(predicate=predicate, message=message, cel=cel, field=field)
        )
        return predicate

    return register


def check(
    cls: type[T],
) -> Callable[[Callable[[T, str], Iterable[FieldError]]], Callable[[T, str], Iterable[FieldError]]]:
    """Register ``checker(obj, path)`` yielding field errors with their own precise paths."""

    def register(
        checker: Callable[[T, str], Iterable[FieldError]],
    ) -> Callable[[T, str], Iterable[FieldError]]:
        _CHECKERS.setdefault(cls, []).append(checker)
        return checker

    return register


def rules_for(cls: type) -> list[Rule]:
    return list(_RULES.get(cls, ()))


def validate_value(obj: object, path: str = "") -> list[FieldError]:
    """Every problem in ``obj`` (an attrs API object), in document order."""
    return list(_walk(obj, path))


@functools.cache  # per class: derived from the class definitions, a constant of the program
def _fields(cls: type) -> tuple[tuple[str, str, attrs.Attribute[Any]], ...]:
    """Each wire field of ``cls``: attribute name, wire name, and the attribute."""
    return tuple((a.name, wire_name(a), a) for a in wire_fields(cls))


def _walk(obj: object, path: str) -> Iterator[FieldError]:
    cls = type(obj)
    if not attrs.has(cls):
        return
    for name, wire, attribute in _fields(cls):
        value = getattr(obj, name)
        if value is None:
            continue
        yield from _check_field(value, join_path(path, wire), attribute)
    for one in _RULES.get(cls, ()):
        if not _safe_predicate(one, obj):
            yield FieldError(join_path(path, one.field) if one.field else path, one.message)
    for checker in _CHECKERS.get(cls, ()):
        yield from checker(obj, path)


def _safe_predicate(one: Rule, obj: object) -> bool:
    # A rule must never crash validation of an object built in code with odd values;
    # a rule that cannot evaluate has, by definition, not been satisfied.
    try:
        return bool(one.predicate(obj))
    except (TypeError, ValueError, AttributeError, KeyError, IndexError):
        return False


def _check_field(value: object, path: str, attribute: attrs.Attribute[Any]) -> Iterator[FieldError]:
    c = constraints_of(attribute)
    if isinstance(value, str):
        if c.min_length is not None and len(value) < c.min_length:
            yield FieldError(
                path,
                "must not be empty"
                if c.min_length == 1
                else f"must be at least {c.min_length} characters (got {len(value)})",
            )
        if c.max_length is not None and len(value) > c.max_length:
            yield FieldError(path, f"must be at most {c.max_length} characters (got {len(value)})")
        pattern = c.compiled_pattern()
        if pattern is not None and value and not pattern.match(value):
            expected = f"must be {c.pattern_hint}" if c.pattern_hint else f"must match {c.pattern}"
            yield FieldError(path, f"invalid value {shown(value)}: {expected}")
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        # Every integer must fit in int64, not only those declared int64: the API
        # server decodes JSON integers into int64, and a larger one is rejected there.
        if not INT64_MIN <= value <= INT64_MAX:
            yield FieldError(path, f"must fit in a signed 64-bit integer (got {value})")
        elif c.minimum is not None and value < c.minimum:
            yield FieldError(path, f"must be at least {c.minimum} (got {value})")
        elif c.maximum is not None and value > c.maximum:
            yield FieldError(path, f"must be at most {c.maximum} (got {value})")
    elif isinstance(value, tuple):
        if c.min_items is not None and len(value) < c.min_items:
            yield FieldError(
                path,
                "must not be empty"
                if c.min_items == 1
                else f"must have at least {c.min_items} items (got {len(value)})",
            )
        if c.max_items is not None and len(value) > c.max_items:
            yield FieldError(path, f"must have at most {c.max_items} items (got {len(value)})")
        if c.list_map_keys:
            yield from _unique_keys(value, path, c.list_map_keys)
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield from _check_item_length(item, index_path(path, index), c)
            else:
                yield from _walk(item, index_path(path, index))
    elif isinstance(value, Mapping):
        if c.max_properties is not None and len(value) > c.max_properties:
            yield FieldError(
                path, f"must have at most {c.max_properties} entries (got {len(value)})"
            )
        for key, item in value.items():
            yield from _walk(item, key_path(path, str(key)))
    else:
        yield from _walk(value, path)


def _check_item_length(item: str, path: str, c: Constraints) -> Iterator[FieldError]:
    if c.item_min_length is not None and len(item) < c.item_min_length:
        yield FieldError(
            path,
            "must not be empty"
            if c.item_min_length == 1
            else f"must be at least {c.item_min_length} characters",
        )
    if c.item_max_length is not None and len(item) > c.item_max_length:
        yield FieldError(path, f"must be at most {c.item_max_length} characters (got {len(item)})")


def _unique_keys(items: tuple[Any, ...], path: str, keys: tuple[str, ...]) -> Iterator[FieldError]:
    seen: dict[tuple[Any, ...], int] = {}
    for index, item in enumerate(items):
        identity = tuple(getattr(item, _attr_for_wire(type(item), k), None) for k in keys)
        if identity in seen:
            entry = ", ".join(f"{k}={shown(v)}" for k, v in zip(keys, identity, strict=True))
            yield FieldError(
                index_path(path, index),
                f"duplicate entry ({entry}); the same entry is also at index {seen[identity]}",
            )
        else:
            seen[identity] = index


def _attr_for_wire(cls: type, wire: str) -> str:
    for attribute in attrs.fields(cls):
        if wire_name(attribute) == wire:
            return str(attribute.name)
    return wire
