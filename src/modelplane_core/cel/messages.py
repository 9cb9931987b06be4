"""Evaluation errors in Kubernetes' words.

celpy words its runtime errors after Python: ``no such member in mapping:
'memory'``, ``return error for overflow: overflow``, ``found no matching
overload for Token('RULE', 'relation_gt') applied to '(<class ...>)'``. The
person reading why a device did not match compares with Kubernetes, whose DRA
scheduler reports cel-go's messages, so ``evaluation_message`` rewrites a
celpy error into cel-go's wording:

- an unknown attribute id, map key or field: ``no such key: memory``;
- a list index out of range: ``index out of bounds: 5``;
- a type mismatch at run time: ``no such overload: lowerAscii(int)``, with
  the function (or operator, ``_>_``) and the argument types as cel-go
  names them;
- ``division by zero``, ``modulus by zero``, ``integer overflow`` (``unsigned
  integer overflow`` for uint);
- a quantity or version that does not parse: Kubernetes' own message
  (``quantities must match the regular expression ...``, blang/semver's
  ``No Major.Minor.Patch elements found``), then ours, which names the input
  and what is wrong with it.

Anything else keeps celpy's text with its cause.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Any

import lark
from celpy import celtypes
from celpy.evaluation import CELEvalError

from modelplane_core.cel.errors import UpstreamError
from modelplane_core.cel.quantity import Quantity
from modelplane_core.cel.semver import Semver

# cel-go's type names for the runtime values celpy and this package use (most derived first).
_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (celtypes.BoolType, "bool"),
    (celtypes.UintType, "uint"),
    (celtypes.IntType, "int"),
    (celtypes.DoubleType, "double"),
    (celtypes.StringType, "string"),
    (celtypes.BytesType, "bytes"),
    (celtypes.TimestampType, "google.protobuf.Timestamp"),
    (celtypes.DurationType, "google.protobuf.Duration"),
    (celtypes.ListType, "list"),
    (celtypes.MapType, "map"),
    (celtypes.TypeType, "type"),
    (Quantity, "kubernetes.Quantity"),
    (Semver, "kubernetes.Semver"),
    (type(None), "null_type"),
)
_NAMES_BY_CLASS = {cls.__name__: name for cls, name in _TYPE_NAMES} | {"NullType": "null_type"}

# celpy's rule names for operators, and cel-go's names for the same functions.
_OPERATORS = {
    "relation_lt": "_<_",
    "relation_le": "_<=_",
    "relation_gt": "_>_",
    "relation_ge": "_>=_",
    "relation_eq": "_==_",
    "relation_ne": "_!=_",
    "relation_in": "@in",
    "addition_add": "_+_",
    "addition_sub": "_-_",
    "multiplication_mul": "_*_",
    "multiplication_div": "_/_",
    "multiplication_mod": "_%_",
    "unary_not": "!_",
    "unary_neg": "-_",
}
_NO_MATCHING_OVERLOAD = re.compile(r"found no matching overload for (?P<op>.+?) applied to '\(")
_CLASS = re.compile(r"<class '(?:[\w.]+\.)?(?P<name>\w+)'>")
# celpy's repr of a value inside a Python message: StringType('x') -> 'x'.
_VALUE_REPR = re.compile(
    r"\b(?:Bool|Bytes|Double|Int|String|Uint)Type\(('[^']*'|\"[^\"]*\"|[^()]*)\)"
)


class NoSuchOverload(TypeError):
    """A library function called at run time with argument types it has no overload for.

    Only ``dyn`` values (attribute values) can get this far: the checker has
    already rejected every call whose types are known to be wrong.
    """

    def __init__(self, function: str, arguments: Sequence[Any]) -> None:
        self.function = function
        self.arguments = tuple(arguments)
        super().__init__(f"{function}({', '.join(type_name(a) for a in self.arguments)})")


def type_name(value: Any) -> str:
    """cel-go's name for the type of a runtime value (``int``, ``kubernetes.Quantity``, ...)."""
    for cls, name in _TYPE_NAMES:
        if isinstance(value, cls):
            return name
    return type(value).__name__


def result_message(result: Any) -> str:
    """A selector whose value is not a bool, as the DRA scheduler reports it."""
    return f"CEL result of type {type_name(result)} could not be converted to bool"


def _go_value(value: Any) -> str:
    """A key as Go's ``%v`` prints a CEL value: strings bare, bools lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _selected_field(error: CELEvalError) -> str | None:
    """The field of a failed ``x.field`` selection, from the node celpy attached."""
    tree = error.tree
    if isinstance(tree, lark.Tree) and tree.data == "member_dot" and len(tree.children) == 2:
        field = tree.children[1]
        if isinstance(field, lark.Token):
            return str(field)
    return None


def _cause_text(error: CELEvalError) -> str | None:
    """The first message of the Python exception celpy wrapped, if it recorded one."""
    if len(error.args) > 2 and isinstance(error.args[2], tuple):
        for argument in error.args[2]:
            # re2 reports pattern errors as bytes.
            text = argument.decode("utf-8", "replace") if isinstance(argument, bytes) else argument
            if isinstance(text, str):
                return _VALUE_REPR.sub(r"\1", text)
    return None


def _operator_mismatch(text: str) -> str | None:
    """``no such overload: _>_(string, int)`` from celpy's operator failure text."""
    match = _NO_MATCHING_OVERLOAD.match(text)
    if match is None:
        return None
    operator = match["op"]
    rule = re.search(r"'(\w+)'\)?$", operator)
    if rule is not None and rule[1] in _OPERATORS:
        operator = _OPERATORS[rule[1]]
    signature = text[match.end() :].split(")'", 1)[0]
    types = [_NAMES_BY_CLASS.get(m["name"], m["name"]) for m in _CLASS.finditer(signature)]
    return f"no such overload: {operator}({', '.join(types)})"


def _division(error: CELEvalError) -> str:
    tree = error.tree
    if isinstance(tree, lark.Tree) and tree.children:
        operator = tree.children[0]
        if isinstance(operator, lark.Tree) and operator.data == "multiplication_mod":
            return "modulus by zero"
    return "division by zero"


def _overflow(cause: BaseException | None) -> str:
    """cel-go's errIntOverflow or errUintOverflow: celpy's range check that raised says which."""
    traceback = cause.__traceback__ if cause is not None else None
    innermost = None
    while traceback is not None:
        innermost, traceback = traceback.tb_frame.f_code, traceback.tb_next
    if innermost is not None and innermost.co_qualname.startswith("uint64."):
        return "unsigned integer overflow"
    return "integer overflow"


def evaluation_message(error: CELEvalError) -> str:
    """What went wrong evaluating a selector, in cel-go's words where cel-go has them."""
    text = error.args[0] if error.args and isinstance(error.args[0], str) else ""
    cause = error.__cause__
    cause_class = error.args[1] if len(error.args) > 1 else None
    if isinstance(cause, UpstreamError):
        return cause.explained()
    if isinstance(cause, NoSuchOverload):
        return f"no such overload: {cause}"
    if text.startswith("no such member in mapping: "):
        field = _selected_field(error)
        if field is None:
            field = str(ast.literal_eval(text.removeprefix("no such member in mapping: ")))
        return f"no such key: {field}"
    if text.endswith("does not support field selection"):
        field = _selected_field(error)
        return f"no such key: {field}" if field is not None else "no such key"
    if text == "no such key":
        keys = error.args[2] if len(error.args) > 2 and isinstance(error.args[2], tuple) else ()
        return f"no such key: {_go_value(keys[0])}" if keys else text
    if cause_class is ZeroDivisionError or text in ("modulus or divide by zero", "divide by zero"):
        return _division(error)
    operator = _operator_mismatch(text)
    if operator is not None:
        return operator
    detail = _cause_text(error)
    if text == "return error for overflow":
        # celpy's int64/uint64 range checks raise ValueError("overflow"); other
        # ValueErrors (a string that int() cannot read) carry their own message.
        return _overflow(cause) if detail in (None, "overflow") else detail
    if text == "invalid_argument" and detail is not None:
        return detail  # our list index: "index out of bounds: 5"
    if text == "no such overload":
        return text  # celpy's own TypeError text names Python internals, not CEL
    if text == "match error" and detail is not None:
        return f"error parsing regexp: {detail}"
    message = text or "evaluation error"
    return f"{message}: {detail}" if detail is not None and detail != message else message
