"""``docs/validation.md`` lists every field constraint and every cross-field rule the code has.

The field tables in the document are rendered from the field declarations by
``field_rows`` below; this test fails when a bound, enum, pattern, default or
rule changes without the document following, and names the missing line.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Literal, get_args, get_origin

import attrs
import pytest

from modelplane_core import api
from modelplane_core.api.fields import (
    Constraints,
    constraints_of,
    is_required,
    wire_fields,
    wire_name,
)
from modelplane_core.api.validation import rules_for
from tests.support import REPO_ROOT

DOC = REPO_ROOT / "docs" / "validation.md"


def _strip_optional(type_: Any) -> Any:
    if get_origin(type_) in (typing.Union, types.UnionType):
        args = [a for a in get_args(type_) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return type_


def _span(low: int | None, high: int | None, unit: str) -> str | None:
    if low and high is not None:
        if low == high == 1:
            return f"exactly 1 {unit.removesuffix('s')}"
        return f"{low} to {high} {unit}" if low != high else f"exactly {low} {unit}"
    if high is not None:
        return f"at most {high} {unit}"
    if low == 1:
        return "non-empty"
    if low:
        return f"at least {low} {unit}"
    return None


def _allowed(attribute: attrs.Attribute[Any], type_: Any, c: Constraints) -> list[str]:
    parts: list[str] = []
    if is_required(attribute):
        parts.append("required")
    elif attribute.default is not None:
        default = attribute.default
        shown = list(default) if isinstance(default, tuple) else default
        parts.append(f"default `{shown}`".replace("'", '"'))
    if get_origin(type_) is Literal:
        parts.append("one of " + ", ".join(f"`{v}`" for v in get_args(type_)))
    for part in (
        _span(c.min_length, c.max_length, "characters"),
        c.pattern_hint and f"{c.pattern_hint}",
        _span(c.min_items, c.max_items, "items"),
        c.list_map_keys and "unique by " + " and ".join(f"`{k}`" for k in c.list_map_keys),
        _span(None, c.max_properties, "entries"),
        _span(c.item_min_length, c.item_max_length, "characters each"),
    ):
        if part:
            parts.append(part)
    if c.minimum is not None and c.maximum is not None:
        parts.append(f"{c.minimum} to {c.maximum}")
    elif c.minimum is not None:
        parts.append(f"at least {c.minimum}")
    elif c.maximum is not None:
        parts.append(f"at most {c.maximum}")
    return parts


def field_rows(cls: type, path: str = "") -> Iterator[str]:
    """One ``| `path` | allowed |`` table row per field that has a constraint or default."""
    hints = typing.get_type_hints(cls)
    for attribute in wire_fields(cls):
        type_ = _strip_optional(hints[attribute.name])
        where = f"{path}.{wire_name(attribute)}" if path else wire_name(attribute)
        if where == "metadata":
            continue  # Kubernetes ObjectMeta: covered by its own section
        parts = _allowed(attribute, type_, constraints_of(attribute))
        if [p for p in parts if p != "required"]:
            yield f"| `{where}` | {'; '.join(parts)} |"
        inner, inner_path = type_, where
        if get_origin(type_) is tuple:
            inner, inner_path = get_args(type_)[0], f"{where}[]"
        elif get_origin(type_) in (Mapping, dict, typing.Mapping):
            inner, inner_path = get_args(type_)[1], f"{where}[*]"
        inner = _strip_optional(inner)
        if attrs.has(inner):
            yield from field_rows(inner, inner_path)


def _all_classes() -> list[type]:
    seen: list[type] = []

    def visit(cls: type) -> None:
        if cls in seen:
            return
        seen.append(cls)
        hints = typing.get_type_hints(cls)
        for attribute in wire_fields(cls):
            for arg in (hints[attribute.name], *get_args(_strip_optional(hints[attribute.name]))):
                inner = _strip_optional(arg)
                if attrs.has(inner):
                    visit(inner)

    for kind in api.KINDS:
        visit(kind)
    return seen


@pytest.mark.parametrize("cls", api.KINDS, ids=[k.kind_info.kind for k in api.KINDS])
def test_every_field_constraint_is_in_the_document(cls: type) -> None:
    text = DOC.read_text()
    assert f"### {cls.kind_info.kind}\n" in text  # type: ignore[attr-defined]
    missing = [row for row in field_rows(cls) if row not in text]
    assert missing == [], "add these rows to docs/validation.md:\n" + "\n".join(missing)


def test_every_cross_field_rule_message_is_in_the_document() -> None:
    text = DOC.read_text()
    messages = {r.message for cls in _all_classes() for r in rules_for(cls)}
    missing = sorted(m for m in messages if m not in text)
    assert missing == [], "add these rules to docs/validation.md:\n" + "\n".join(missing)
