"""The static types the selector checker reasons with.

Kubernetes type-checks a DRA selector against a declared ``device`` variable
before it ever runs, which is how a typo becomes a compile error instead of a
device that silently never matches. celpy has no checker, so this small type
model stands in for cel-go's: enough of CEL's types to resolve overloads,
plus ``DYN`` for values whose type is only known at run time (attribute
values, which may be string, bool, int or version).
"""

from __future__ import annotations

import attrs


@attrs.frozen
class CelType:
    """A CEL type: a name plus parameters (element type of a list, key/value of a map)."""

    name: str
    params: tuple[CelType, ...] = ()

    def __str__(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(str(p) for p in self.params)})"

    @property
    def is_dyn(self) -> bool:
        return self.name == "dyn"


DYN = CelType("dyn")
BOOL = CelType("bool")
INT = CelType("int")
UINT = CelType("uint")
DOUBLE = CelType("double")
STRING = CelType("string")
BYTES = CelType("bytes")
NULL = CelType("null_type")
TYPE = CelType("type")
TIMESTAMP = CelType("google.protobuf.Timestamp")
DURATION = CelType("google.protobuf.Duration")
QUANTITY = CelType("kubernetes.Quantity")
SEMVER = CelType("kubernetes.Semver")
# The declared type of the ``device`` variable; its fields are in DEVICE_FIELDS.
DEVICE = CelType("kubernetes.DRADevice")

NUMERIC = frozenset({INT, UINT, DOUBLE})
# Types with a total order under <, <=, >, >= (cel-go's standard overloads).
ORDERED = frozenset({INT, UINT, DOUBLE, STRING, BYTES, BOOL, TIMESTAMP, DURATION})


def list_of(element: CelType) -> CelType:
    return CelType("list", (element,))


def map_of(key: CelType, value: CelType) -> CelType:
    return CelType("map", (key, value))


def element_type(container: CelType) -> CelType:
    """What iterating ``container`` yields: list elements, map keys, else dyn."""
    if container.name in ("list", "map"):
        return container.params[0]
    return DYN


ATTRIBUTE_MAP = map_of(STRING, map_of(STRING, DYN))
CAPACITY_MAP = map_of(STRING, map_of(STRING, QUANTITY))
DEVICE_FIELDS: dict[str, CelType] = {
    "driver": STRING,
    "attributes": ATTRIBUTE_MAP,
    "capacity": CAPACITY_MAP,
}


def assignable(actual: CelType, expected: CelType) -> bool:
    """Could a value of static type ``actual`` be passed where ``expected`` is declared?"""
    if actual.is_dyn or expected.is_dyn:
        return True
    if actual.name != expected.name or len(actual.params) != len(expected.params):
        return False
    return all(assignable(a, e) for a, e in zip(actual.params, expected.params, strict=True))


def join(left: CelType, right: CelType) -> CelType:
    """The type of ``c ? left : right``: the common type, or dyn when they differ."""
    if left == right:
        return left
    if left.is_dyn or right.is_dyn:
        return DYN
    if (
        left.name == right.name
        and len(left.params) == len(right.params)
        and all(assignable(a, b) for a, b in zip(left.params, right.params, strict=True))
    ):
        return CelType(
            left.name, tuple(join(a, b) for a, b in zip(left.params, right.params, strict=True))
        )
    return DYN
