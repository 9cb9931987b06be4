"""The functions a DRA selector may call: one table for the checker and the runtime.

Every function is declared once, with its overloads (receiver style, argument
types, result type) and, where celpy does not already provide it, the Python
implementation. The checker resolves calls against the declarations; the
runtime binds the implementations into celpy. Keeping both in one row is what
stops the two from drifting apart: a function cannot type-check here and then
be missing at evaluation.

The Kubernetes libraries (quantity, semver) and the Strings extension follow
``k8s.io/apiserver/pkg/cel/library`` and cel-go's ``ext.Strings``: a member
function is callable only as ``x.f()``, a global one only as ``f(x)``, exactly
as Kubernetes compiles them. Functions Kubernetes offers that this matcher
does not implement are listed in ``UNSUPPORTED`` so a selector using one gets
a compile error saying so, never a silent non-match.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from celpy import celtypes
from celpy.evaluation import base_functions

from modelplane_core.cel.messages import NoSuchOverload, type_name
from modelplane_core.cel.quantity import Quantity, QuantityError, parse_quantity
from modelplane_core.cel.semver import Semver, SemverError, parse_semver
from modelplane_core.cel.types import (
    BOOL,
    BYTES,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    QUANTITY,
    SEMVER,
    STRING,
    TIMESTAMP,
    TYPE,
    UINT,
    CelType,
    list_of,
    map_of,
)

INT64_MAX = 2**63 - 1


@attrs.frozen
class Overload:
    """One signature. For a member overload ``params[0]`` is the receiver."""

    member: bool
    params: tuple[CelType, ...]
    result: CelType

    @property
    def arity(self) -> int:
        """Arguments inside the parentheses (the receiver is not one)."""
        return len(self.params) - 1 if self.member else len(self.params)


@attrs.frozen
class Function:
    name: str
    overloads: tuple[Overload, ...]
    # None: celpy's standard library already implements it.
    implementation: Callable[..., Any] | None = None
    # Cost units per call beyond visiting the arguments, as a function of the
    # largest argument size (string length, list length); see checker.estimate.
    cost_per_size: float = 0.0


def _member(*params: CelType, result: CelType) -> Overload:
    return Overload(member=True, params=params, result=result)


def _global(*params: CelType, result: CelType) -> Overload:
    return Overload(member=False, params=params, result=result)


# --- Kubernetes quantity library --------------------------------------------------


def _quantity(text: Any) -> Quantity:
    if not isinstance(text, str):
        raise TypeError("quantity() takes a string")
    # A QuantityError is a ValueError: celpy reports it as the evaluation error.
    return parse_quantity(str(text))


def _is_quantity(text: Any) -> celtypes.BoolType:
    if not isinstance(text, str):
        raise TypeError("isQuantity() takes a string")
    try:
        parse_quantity(str(text))
    except QuantityError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


def _as_quantity(value: Any, function: str) -> Quantity:
    if isinstance(value, Quantity):
        return value
    raise TypeError(f"{function}() needs a quantity, got {type(value).__name__}")


def _quantity_operand(value: Any, function: str) -> Quantity | int:
    if isinstance(value, Quantity):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"{function}() takes a quantity or an int, got {type(value).__name__}")


def _add(left: Any, right: Any) -> Quantity:
    return _as_quantity(left, "add").add(_quantity_operand(right, "add"))


def _sub(left: Any, right: Any) -> Quantity:
    return _as_quantity(left, "sub").sub(_quantity_operand(right, "sub"))


def _sign(value: Any) -> celtypes.IntType:
    return celtypes.IntType(_as_quantity(value, "sign").sign())


def _is_integer(value: Any) -> celtypes.BoolType:
    return celtypes.BoolType(_as_quantity(value, "isInteger").is_integer())


def _as_integer(value: Any) -> celtypes.IntType:
    return celtypes.IntType(_as_quantity(value, "asInteger").as_integer())


def _as_approximate_float(value: Any) -> celtypes.DoubleType:
    return celtypes.DoubleType(_as_quantity(value, "asApproximateFloat").as_approximate_float())


# --- Kubernetes semver library ------------------------------------------------------


def _semver(text: Any, normalize: Any = False) -> Semver:
    if not isinstance(text, str) or not isinstance(normalize, (bool, celtypes.BoolType)):
        raise TypeError("semver() takes a string and an optional bool")
    return parse_semver(str(text), normalize=bool(normalize))


def _is_semver(text: Any, normalize: Any = False) -> celtypes.BoolType:
    try:
        _semver(text, normalize)
    except SemverError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


def _as_semver(value: Any, function: str) -> Semver:
    if isinstance(value, Semver):
        return value
    raise TypeError(f"{function}() needs a semver, got {type(value).__name__}")


def _uint64_as_int(value: int) -> celtypes.IntType:
    """Go's ``types.Int(v)`` of a uint64: semver parts above 2^63 - 1 wrap negative."""
    return celtypes.IntType(value - 2**64 if value > INT64_MAX else value)


def _major(value: Any) -> celtypes.IntType:
    return _uint64_as_int(_as_semver(value, "major").major)


def _minor(value: Any) -> celtypes.IntType:
    return _uint64_as_int(_as_semver(value, "minor").minor)


def _patch(value: Any) -> celtypes.IntType:
    return _uint64_as_int(_as_semver(value, "patch").patch)


# --- comparisons shared by both libraries -------------------------------------------


def _compare(left: Any, right: Any) -> int:
    if isinstance(left, Quantity) and isinstance(right, Quantity):
        return left.compare(right)
    if isinstance(left, Semver) and isinstance(right, Semver):
        return left.compare(right)
    raise TypeError(
        f"cannot compare {type(left).__name__} with {type(right).__name__}; "
        "compareTo takes two quantities or two semvers"
    )


def _compare_to(left: Any, right: Any) -> celtypes.IntType:
    return celtypes.IntType(_compare(left, right))


def _is_greater_than(left: Any, right: Any) -> celtypes.BoolType:
    return celtypes.BoolType(_compare(left, right) == 1)


def _is_less_than(left: Any, right: Any) -> celtypes.BoolType:
    return celtypes.BoolType(_compare(left, right) == -1)


# --- cel-go ext.Strings (the subset Kubernetes' base environment enables) ----------


def _text(value: Any, function: str) -> str:
    if isinstance(value, str):
        return str(value)
    raise TypeError(f"{function}() needs a string, got {type(value).__name__}")


def _lower_ascii(value: Any) -> celtypes.StringType:
    text = _text(value, "lowerAscii")
    return celtypes.StringType("".join(c.lower() if c.isascii() else c for c in text))


def _upper_ascii(value: Any) -> celtypes.StringType:
    text = _text(value, "upperAscii")
    return celtypes.StringType("".join(c.upper() if c.isascii() else c for c in text))


def _trim(value: Any) -> celtypes.StringType:
    return celtypes.StringType(_text(value, "trim").strip())


def _index_of(value: Any, sub: Any, start: Any = 0) -> celtypes.IntType:
    text = _text(value, "indexOf")
    if not 0 <= int(start) <= len(text):
        raise ValueError(f"indexOf: offset {start} out of range")
    return celtypes.IntType(text.find(_text(sub, "indexOf"), int(start)))


def _last_index_of(value: Any, sub: Any, end: Any = None) -> celtypes.IntType:
    text = _text(value, "lastIndexOf")
    stop = len(text) if end is None else int(end)
    if not 0 <= stop <= len(text):
        raise ValueError(f"lastIndexOf: offset {end} out of range")
    needle = _text(sub, "lastIndexOf")
    return celtypes.IntType(text.rfind(needle, 0, stop + len(needle)))


def _substring(value: Any, start: Any, end: Any = None) -> celtypes.StringType:
    text = _text(value, "substring")
    stop = len(text) if end is None else int(end)
    if not 0 <= int(start) <= stop <= len(text):
        raise ValueError(f"substring: range [{start}, {stop}) out of bounds")
    return celtypes.StringType(text[int(start) : stop])


def _char_at(value: Any, index: Any) -> celtypes.StringType:
    text = _text(value, "charAt")
    if not 0 <= int(index) <= len(text):
        raise ValueError(f"charAt: index {index} out of range")
    return celtypes.StringType(text[int(index) : int(index) + 1])


def _replace(value: Any, old: Any, new: Any, limit: Any = -1) -> celtypes.StringType:
    text = _text(value, "replace")
    return celtypes.StringType(
        text.replace(_text(old, "replace"), _text(new, "replace"), int(limit))
    )


def _split(value: Any, separator: Any, limit: Any = -1) -> celtypes.ListType:
    text, sep, n = _text(value, "split"), _text(separator, "split"), int(limit)
    if n == 0:
        return celtypes.ListType([])
    parts = list(text) if sep == "" else text.split(sep, -1 if n < 0 else n - 1)
    if sep == "" and n > 0 and len(parts) > n:
        parts = [*parts[: n - 1], "".join(parts[n - 1 :])]
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


def _join(value: Any, separator: Any = "") -> celtypes.StringType:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("join() needs a list of strings")
    return celtypes.StringType(_text(separator, "join").join(str(v) for v in value))


_COMPARABLE = (QUANTITY, SEMVER)
_DURATION_GETTERS = frozenset({"getHours", "getMilliseconds", "getMinutes", "getSeconds"})

FUNCTIONS: Mapping[str, Function] = {
    f.name: f
    for f in (
        # Standard library (implemented by celpy).
        Function(
            "size",
            tuple(
                ov
                for t in (STRING, BYTES, list_of(DYN), map_of(DYN, DYN))
                for ov in (_global(t, result=INT), _member(t, result=INT))
            ),
        ),
        Function("contains", (_member(STRING, STRING, result=BOOL),), cost_per_size=0.1),
        Function("startsWith", (_member(STRING, STRING, result=BOOL),), cost_per_size=0.1),
        Function("endsWith", (_member(STRING, STRING, result=BOOL),), cost_per_size=0.1),
        Function(
            "matches",
            (_global(STRING, STRING, result=BOOL), _member(STRING, STRING, result=BOOL)),
            cost_per_size=1.0,
        ),
        Function(
            "int", tuple(_global(t, result=INT) for t in (INT, UINT, DOUBLE, STRING, TIMESTAMP))
        ),
        Function("uint", tuple(_global(t, result=UINT) for t in (INT, UINT, DOUBLE, STRING))),
        Function("double", tuple(_global(t, result=DOUBLE) for t in (INT, UINT, DOUBLE, STRING))),
        Function("string", (_global(DYN, result=STRING),)),
        Function("bool", (_global(BOOL, result=BOOL), _global(STRING, result=BOOL))),
        Function("bytes", (_global(BYTES, result=BYTES), _global(STRING, result=BYTES))),
        Function("type", (_global(DYN, result=TYPE),)),
        Function("timestamp", (_global(STRING, result=TIMESTAMP),)),
        Function("duration", (_global(STRING, result=DURATION),)),
        *(
            Function(
                getter,
                (
                    _member(TIMESTAMP, result=INT),
                    _member(TIMESTAMP, STRING, result=INT),
                    *((_member(DURATION, result=INT),) if getter in _DURATION_GETTERS else ()),
                ),
            )
            for getter in (
                "getDate",
                "getDayOfMonth",
                "getDayOfWeek",
                "getDayOfYear",
                "getFullYear",
                "getMonth",
                "getHours",
                "getMilliseconds",
                "getMinutes",
                "getSeconds",
            )
        ),
        # Kubernetes quantity library.
        Function("quantity", (_global(STRING, result=QUANTITY),), _quantity),
        Function("isQuantity", (_global(STRING, result=BOOL),), _is_quantity),
        Function("sign", (_global(QUANTITY, result=INT),), _sign),
        Function("isInteger", (_member(QUANTITY, result=BOOL),), _is_integer),
        Function("asInteger", (_member(QUANTITY, result=INT),), _as_integer),
        Function("asApproximateFloat", (_member(QUANTITY, result=DOUBLE),), _as_approximate_float),
        Function(
            "add",
            (_member(QUANTITY, QUANTITY, result=QUANTITY), _member(QUANTITY, INT, result=QUANTITY)),
            _add,
        ),
        Function(
            "sub",
            (_member(QUANTITY, QUANTITY, result=QUANTITY), _member(QUANTITY, INT, result=QUANTITY)),
            _sub,
        ),
        # Kubernetes semver library (version 1: with the normalizing overloads).
        Function(
            "semver",
            (_global(STRING, result=SEMVER), _global(STRING, BOOL, result=SEMVER)),
            _semver,
        ),
        Function(
            "isSemver",
            (_global(STRING, result=BOOL), _global(STRING, BOOL, result=BOOL)),
            _is_semver,
        ),
        Function("major", (_member(SEMVER, result=INT),), _major),
        Function("minor", (_member(SEMVER, result=INT),), _minor),
        Function("patch", (_member(SEMVER, result=INT),), _patch),
        # Shared by both libraries: the type of the receiver picks the overload.
        Function("compareTo", tuple(_member(t, t, result=INT) for t in _COMPARABLE), _compare_to),
        Function(
            "isGreaterThan",
            tuple(_member(t, t, result=BOOL) for t in _COMPARABLE),
            _is_greater_than,
        ),
        Function(
            "isLessThan", tuple(_member(t, t, result=BOOL) for t in _COMPARABLE), _is_less_than
        ),
        # cel-go ext.Strings.
        Function("lowerAscii", (_member(STRING, result=STRING),), _lower_ascii, 0.1),
        Function("upperAscii", (_member(STRING, result=STRING),), _upper_ascii, 0.1),
        Function("trim", (_member(STRING, result=STRING),), _trim, 0.1),
        Function(
            "indexOf",
            (_member(STRING, STRING, result=INT), _member(STRING, STRING, INT, result=INT)),
            _index_of,
            0.1,
        ),
        Function(
            "lastIndexOf",
            (_member(STRING, STRING, result=INT), _member(STRING, STRING, INT, result=INT)),
            _last_index_of,
            0.1,
        ),
        Function(
            "substring",
            (_member(STRING, INT, result=STRING), _member(STRING, INT, INT, result=STRING)),
            _substring,
            0.1,
        ),
        Function("charAt", (_member(STRING, INT, result=STRING),), _char_at, 0.1),
        Function(
            "replace",
            (
                _member(STRING, STRING, STRING, result=STRING),
                _member(STRING, STRING, STRING, INT, result=STRING),
            ),
            _replace,
            0.1,
        ),
        Function(
            "split",
            (
                _member(STRING, STRING, result=list_of(STRING)),
                _member(STRING, STRING, INT, result=list_of(STRING)),
            ),
            _split,
            0.1,
        ),
        Function(
            "join",
            (
                _member(list_of(STRING), result=STRING),
                _member(list_of(STRING), STRING, result=STRING),
            ),
            _join,
            0.1,
        ),
    )
}

# The comprehension macros: ``range.name(var, ...)``; value = number of expression arguments.
MACROS: Mapping[str, int] = {"all": 1, "exists": 1, "exists_one": 1, "map": 1, "filter": 1}

# Offered by Kubernetes' CEL environment for DRA, not implemented by this matcher.
UNSUPPORTED: frozenset[str] = frozenset(
    {
        "url", "isURL", "getScheme", "getHost", "getHostname", "getPort", "getEscapedPath",
        "getQuery", "ip", "isIP", "cidr", "isCIDR", "family", "isUnspecified", "isLoopback",
        "isLinkLocalMulticast", "isLinkLocalUnicast", "isGlobalUnicast", "containsIP",
        "containsCIDR", "masked", "prefixLength", "find", "findAll", "isSorted", "sum", "min",
        "max", "format", "quote", "reverse", "bind", "includes", "optional", "orValue", "hasValue",
        "value", "transformList", "transformMap", "transformMapEntry",
    }
)  # fmt: skip

# Namespaced functions (``cel.bind``, ``sets.contains``, ...) the parser sees as member calls.
UNSUPPORTED_NAMESPACES: frozenset[str] = frozenset(
    {"cel", "sets", "strings", "math", "lists", "optional"}
)

# --- the runtime table ---------------------------------------------------------------


def _guarded(name: str, implementation: Callable[..., Any]) -> Callable[..., Any]:
    """``implementation`` reporting a type mismatch as cel-go does: ``name(int, string)``.

    Only dyn values (attribute values) reach a function with the wrong types;
    whatever detail the implementation's TypeError had, the person reading the
    outcome wants the function and the types it got, as Kubernetes reports them.
    """

    def call(*arguments: Any) -> Any:
        try:
            return implementation(*arguments)
        except NoSuchOverload:
            raise
        except TypeError:
            raise NoSuchOverload(name, arguments) from None

    return call


def _list_position(index: Any) -> int:
    """cel-go's ``IndexOrError``: an int, or a uint or double that is exactly an int64."""
    if isinstance(index, (celtypes.IntType, celtypes.UintType)):
        if int(index) <= INT64_MAX:
            return int(index)
    elif isinstance(index, celtypes.DoubleType):
        if index.is_integer() and -(2**63) <= index < 2**63:
            return int(index)
    else:
        raise IndexError(f"unsupported index type '{type_name(index)}' in list")
    raise IndexError(f"unsupported index value {index} in list")


def _index(container: Any, index: Any) -> Any:
    """``container[index]``, strictly: celpy's Python indexing would accept ``[1][-1]``."""
    if isinstance(container, celtypes.ListType):
        position = _list_position(index)
        if not 0 <= position < len(container):
            raise IndexError(f"index out of bounds: {index}")
        return container[position]
    if isinstance(container, celtypes.MapType):
        return container[index]  # a KeyError is celpy's "no such key"
    raise NoSuchOverload("_[_]", (container, index))


RUNTIME_FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    **{
        name: _guarded(name, function.implementation or base_functions[name])
        for name, function in FUNCTIONS.items()
        # celpy's conversions are types (IntType, ...) that celpy may compare against.
        if function.implementation is not None or not isinstance(base_functions[name], type)
    },
    "_[_]": _index,
}
