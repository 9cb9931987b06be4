"""Field declarations carrying their wire name, bounds and documentation.

Every API type declares its fields with ``attrs.field(metadata=describe(...))`` so that one
declaration drives three consumers: the wire codec (camelCase names), the
validator (bounds, lengths, patterns, list keys) and the OpenAPI schema export
(the XRDs). Keeping them in one place is what stops the schema a cluster
enforces from drifting away from what ``modelplane validate`` reports.
"""

from __future__ import annotations

import re
from typing import Any, Final

import attrs

META_KEY: Final = "modelplane"


@attrs.frozen(kw_only=True)
class Constraints:
    """Schema facts about one field. ``None`` means "no constraint"."""

    wire: str | None = None
    doc: str = ""
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_hint: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    max_properties: int | None = None
    int64: bool = False
    # x-kubernetes-list-type: "atomic" or "map" (with map keys). A map-list's keys
    # must be unique, which the validator checks like the API server does.
    list_type: str | None = None
    list_map_keys: tuple[str, ...] = ()
    # The value is an opaque JSON object kept verbatim (x-kubernetes-preserve-unknown-fields).
    preserve_unknown: bool = False
    # Bounds on each string item of a list field (e.g. zones).
    item_min_length: int | None = None
    item_max_length: int | None = None
    # Kept on the Python object only: never on the wire, in the schema or validated
    # (e.g. which of two accepted wire layouts an object was read from).
    internal: bool = False

    def compiled_pattern(self) -> re.Pattern[str] | None:
        return _compile(self.pattern) if self.pattern else None


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        compiled = _PATTERNS[pattern] = re.compile(pattern)
    return compiled


def describe(
    *,
    wire: str | None = None,
    doc: str = "",
    minimum: int | None = None,
    maximum: int | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    pattern_hint: str | None = None,
    min_items: int | None = None,
    max_items: int | None = None,
    max_properties: int | None = None,
    int64: bool = False,
    list_type: str | None = None,
    list_map_keys: tuple[str, ...] = (),
    preserve_unknown: bool = False,
    item_min_length: int | None = None,
    item_max_length: int | None = None,
    internal: bool = False,
) -> dict[str, Constraints]:
    """Field metadata for ``attrs.field(metadata=describe(...))``.

    Plain ``attrs.field`` stays the field specifier so type checkers still see
    which fields are required; this only attaches the schema facts.
    """
    return {
        META_KEY: Constraints(
            wire=wire,
            doc=doc,
            minimum=minimum,
            maximum=maximum,
            min_length=min_length,
            max_length=max_length,
            pattern=pattern,
            pattern_hint=pattern_hint,
            min_items=min_items,
            max_items=max_items,
            max_properties=max_properties,
            int64=int64,
            list_type=list_type or ("map" if list_map_keys else None),
            list_map_keys=list_map_keys,
            preserve_unknown=preserve_unknown,
            item_min_length=item_min_length,
            item_max_length=item_max_length,
            internal=internal,
        )
    }


def constraints_of(attribute: attrs.Attribute[Any]) -> Constraints:
    found = attribute.metadata.get(META_KEY)
    return found if isinstance(found, Constraints) else _UNCONSTRAINED


_UNCONSTRAINED: Final = Constraints()


def wire_fields(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    """The fields of ``cls`` that travel on the wire (every field but internal ones)."""
    return tuple(a for a in attrs.fields(cls) if not constraints_of(a).internal)


def camel(name: str) -> str:
    """``node_pool_name`` -> ``nodePoolName``; the Kubernetes wire convention."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_name(attribute: attrs.Attribute[Any]) -> str:
    return constraints_of(attribute).wire or camel(attribute.name)


def is_required(attribute: attrs.Attribute[Any]) -> bool:
    return attribute.default is attrs.NOTHING


# Kubernetes name grammars, reused by several kinds.
DNS_LABEL: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_LABEL_HINT: Final = (
    "a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit"
)
DNS_SUBDOMAIN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_SUBDOMAIN_HINT: Final = (
    "a DNS subdomain: dot-separated DNS labels of lowercase letters, digits and '-'"
)
# AKS node pool names: Linux pools take 1-12 lowercase letters and digits.
AKS_POOL_NAME: Final = r"^[a-z][a-z0-9]{0,11}$"
AKS_POOL_NAME_HINT: Final = "1 to 12 lowercase letters and digits, starting with a letter"
