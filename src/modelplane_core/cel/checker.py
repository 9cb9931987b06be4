"""Static checks on a parsed selector: the compile-time errors Kubernetes gives.

celpy parses CEL but does not type-check it, so on its own a typo
(``quantty(...)``, ``device.atributes``) or a wrong overload compiles and
then silently matches nothing; the user sees "insufficient capacity" instead
of "your selector is wrong". This module walks celpy's parse tree once and
infers a static type for every node against the declared ``device``
variable and the function table in ``library.py``, rejecting what cel-go's
checker rejects in the DRA environment:

- unknown identifiers, fields of ``device`` and functions;
- wrong arity, and argument types that cannot match any overload;
- a member-only function called globally (``sign`` is global only,
  ``isInteger`` member only) and vice versa;
- ``has()`` on anything but a field selection;
- operators on types without that overload (``quantity("1") < quantity("2")``);
- a result that cannot be a bool.

The same walk computes a sound upper bound of the evaluation cost, using the
size limits in ``limits.py``, and rejects selectors over 1,000,000 units, so
no selector can stall a scheduling pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs
import lark

from modelplane_core.cel import types as t
from modelplane_core.cel.errors import CompileError
from modelplane_core.cel.library import FUNCTIONS, MACROS, UNSUPPORTED, UNSUPPORTED_NAMESPACES
from modelplane_core.cel.limits import (
    MAX_ATTRIBUTES,
    MAX_CAPACITIES,
    MAX_STRING,
    TRAVERSAL_FACTOR,
)

# Functions that build a new string or list: building it costs a traversal of the result.
_BUILDERS = frozenset({"replace", "join", "split", "lowerAscii", "upperAscii"})


@attrs.frozen
class Bound:
    """Upper bounds on a value's size: string/bytes length or entry count, and of its parts."""

    size: int = 1
    elem: Bound | None = None  # list elements, map keys
    value: Bound | None = None  # map values

    def element(self) -> Bound:
        return self.elem or _SCALAR


_SCALAR = Bound(1)
_STRING = Bound(MAX_STRING)
# Sizes of the ``device`` variable under the limits that the activation enforces.
_QUALIFIED = Bound(MAX_STRING)
DEVICE_BOUNDS: Mapping[str, Bound] = {
    "driver": _STRING,
    "attributes": Bound(MAX_ATTRIBUTES, _QUALIFIED, Bound(MAX_ATTRIBUTES, _QUALIFIED, _STRING)),
    "capacity": Bound(MAX_CAPACITIES, _QUALIFIED, Bound(MAX_CAPACITIES, _QUALIFIED, _SCALAR)),
}


@attrs.frozen
class Checked:
    """What the checker knows about an expression: its type, cost bound and size bound."""

    type: t.CelType
    cost: float
    bound: Bound = _SCALAR


@attrs.frozen
class Variable:
    type: t.CelType
    bound: Bound


_OPERATORS = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
}


def _position(node: lark.Tree[lark.Token] | lark.Token) -> tuple[int | None, int | None]:
    """Where to point: a token's start; for a binary operator node, the operator itself."""
    if isinstance(node, lark.Token):
        return node.line, node.column
    meta = node.meta
    if getattr(meta, "line", None) is None:  # the root of a tree carries no position
        return 1, 1
    operator = _OPERATORS.get(str(node.data))
    if operator is not None:
        # The operator node spans "left <op>"; the operator ends the span.
        return meta.end_line, meta.end_column - len(operator)
    return meta.line, meta.column


def _fail(node: lark.Tree[lark.Token] | lark.Token, message: str) -> CompileError:
    line, column = _position(node)
    return CompileError(message, line, column)


def _subtrees(node: lark.Tree[lark.Token]) -> list[lark.Tree[lark.Token]]:
    return [c for c in node.children if isinstance(c, lark.Tree)]


_SIGNATURE_SEPARATOR = ", "


def _signature(types: Sequence[t.CelType]) -> str:
    return f"({_SIGNATURE_SEPARATOR.join(str(x) for x in types)})"


class Checker:
    """One walk over one parse tree; ``scope`` holds comprehension variables."""

    def __init__(self) -> None:
        self.scope: dict[str, Variable] = {"device": Variable(t.DEVICE, Bound())}

    # --- expression levels, top down --------------------------------------------------

    def check(self, node: lark.Tree[lark.Token]) -> Checked:
        handler = getattr(self, f"_{node.data}", None)
        if handler is None:
            raise _fail(node, f"unsupported expression form {node.data!r}")
        result: Checked = handler(node)
        return result

    def _single(self, node: lark.Tree[lark.Token]) -> Checked:
        return self.check(_subtrees(node)[0])

    def _expr(self, node: lark.Tree[lark.Token]) -> Checked:
        parts = _subtrees(node)
        if len(parts) == 1:
            return self.check(parts[0])
        condition, left, right = (self.check(p) for p in parts)
        self._require(parts[0], condition, t.BOOL, "the condition of ?:")
        joined = t.join(left.type, right.type)
        bound = Bound(max(left.bound.size, right.bound.size), left.bound.elem, left.bound.value)
        return Checked(joined, condition.cost + max(left.cost, right.cost), bound)

    def _conditionalor(self, node: lark.Tree[lark.Token]) -> Checked:
        return self._logical(node, "||")

    def _conditionaland(self, node: lark.Tree[lark.Token]) -> Checked:
        return self._logical(node, "&&")

    def _logical(self, node: lark.Tree[lark.Token], operator: str) -> Checked:
        parts = _subtrees(node)
        if len(parts) == 1:
            return self.check(parts[0])
        left, right = self.check(parts[0]), self.check(parts[1])
        self._require(parts[0], left, t.BOOL, f"the left operand of {operator}")
        self._require(parts[1], right, t.BOOL, f"the right operand of {operator}")
        # CEL may evaluate both sides (errors are absorbed commutatively).
        return Checked(t.BOOL, left.cost + right.cost)

    def _relation(self, node: lark.Tree[lark.Token]) -> Checked:
        parts = _subtrees(node)
        if len(parts) == 1:
            return self.check(parts[0])
        operation, right_node = parts
        left_node = _subtrees(operation)[0]
        left, right = self.check(left_node), self.check(right_node)
        symbol = operation.data.removeprefix("relation_")
        cost = left.cost + right.cost + 1
        if symbol in ("eq", "ne"):
            if not self._equatable(left.type, right.type):
                raise self._no_overload(
                    operation, "==" if symbol == "eq" else "!=", [left.type, right.type]
                )
            scan = min(left.bound.size, right.bound.size) if left.type in (t.STRING, t.BYTES) else 0
            return Checked(t.BOOL, cost + math.ceil(TRAVERSAL_FACTOR * scan))
        if symbol == "in":
            container = right.type
            if container.name in ("list", "map"):
                if not t.assignable(left.type, t.element_type(container)):
                    raise self._no_overload(operation, "in", [left.type, right.type])
                scan = right.bound.size if container.name == "list" else 1
                return Checked(t.BOOL, cost + scan)
            if not container.is_dyn:
                raise self._no_overload(operation, "in", [left.type, right.type])
            return Checked(t.BOOL, cost + right.bound.size)
        text = _OPERATORS[str(operation.data)]
        if not self._ordered(left.type, right.type):
            hint = ""
            if left.type in (t.QUANTITY, t.SEMVER) or right.type in (t.QUANTITY, t.SEMVER):
                hint = (
                    "; compare quantities and semvers with compareTo, isGreaterThan or isLessThan"
                )
            raise self._no_overload(operation, text, [left.type, right.type], hint)
        return Checked(t.BOOL, cost)

    def _addition(self, node: lark.Tree[lark.Token]) -> Checked:
        return self._arithmetic(node)

    def _multiplication(self, node: lark.Tree[lark.Token]) -> Checked:
        return self._arithmetic(node)

    def _arithmetic(self, node: lark.Tree[lark.Token]) -> Checked:
        parts = _subtrees(node)
        if len(parts) == 1:
            return self.check(parts[0])
        operation, right_node = parts
        left, right = self.check(_subtrees(operation)[0]), self.check(right_node)
        symbol = _OPERATORS[str(operation.data)]
        cost = left.cost + right.cost + 1
        result = self._arithmetic_type(symbol, left.type, right.type)
        if result is None:
            raise self._no_overload(operation, symbol, [left.type, right.type])
        # A dyn sum may be a concatenation at run time: bound it as one (sizes from the bounds).
        if symbol == "+" and (result.is_dyn or result.name in ("string", "bytes", "list")):
            size = left.bound.size + right.bound.size
            elem = left.bound.elem or right.bound.elem
            return Checked(result, cost + math.ceil(TRAVERSAL_FACTOR * size), Bound(size, elem))
        return Checked(result, cost)

    @staticmethod
    def _arithmetic_type(symbol: str, left: t.CelType, right: t.CelType) -> t.CelType | None:
        if left.is_dyn or right.is_dyn:
            known = right if left.is_dyn else left
            if known.is_dyn or known in t.NUMERIC or known.name in ("string", "bytes", "list"):
                return known
            if symbol in "+-" and known in (t.TIMESTAMP, t.DURATION):
                return t.DYN
            return None
        if left != right and not (left.name == right.name == "list"):
            if symbol == "+" and {left, right} == {t.TIMESTAMP, t.DURATION}:
                return t.TIMESTAMP
            if symbol == "-" and (left, right) == (t.TIMESTAMP, t.DURATION):
                return t.TIMESTAMP
            return None
        if left in t.NUMERIC:
            return None if symbol == "%" and left == t.DOUBLE else left
        if symbol == "+" and (left in (t.STRING, t.BYTES, t.DURATION) or left.name == "list"):
            return t.join(left, right)
        if symbol == "-" and left in (t.TIMESTAMP, t.DURATION):
            return t.DURATION
        return None

    def _unary(self, node: lark.Tree[lark.Token]) -> Checked:
        parts = _subtrees(node)
        if len(parts) == 1:
            return self.check(parts[0])
        operation, operand_node = parts
        operand = self.check(operand_node)
        if operation.data == "unary_not":
            self._require(operand_node, operand, t.BOOL, "the operand of !")
            return Checked(t.BOOL, operand.cost + 1)
        if not (operand.type.is_dyn or operand.type in (t.INT, t.DOUBLE, t.DURATION)):
            raise self._no_overload(operation, "-", [operand.type])
        return Checked(operand.type, operand.cost + 1)

    def _member(self, node: lark.Tree[lark.Token]) -> Checked:
        return self._single(node)

    def _primary(self, node: lark.Tree[lark.Token]) -> Checked:
        return self._single(node)

    def _paren_expr(self, node: lark.Tree[lark.Token]) -> Checked:
        return self._single(node)

    # --- leaves -------------------------------------------------------------------------

    def _literal(self, node: lark.Tree[lark.Token]) -> Checked:
        token = node.children[0]
        assert isinstance(token, lark.Token)
        kind = {
            "INT_LIT": t.INT,
            "UINT_LIT": t.UINT,
            "FLOAT_LIT": t.DOUBLE,
            "STRING_LIT": t.STRING,
            "MLSTRING_LIT": t.STRING,
            "BYTES_LIT": t.BYTES,
            "BOOL_LIT": t.BOOL,
            "NULL_LIT": t.NULL,
        }[token.type]
        size = len(str(token)) if kind in (t.STRING, t.BYTES) else 1
        return Checked(kind, 0, Bound(size))

    def _ident(self, node: lark.Tree[lark.Token]) -> Checked:
        token = node.children[0]
        assert isinstance(token, lark.Token)
        variable = self.scope.get(str(token))
        if variable is None:
            raise _fail(
                token,
                f"undeclared reference to {str(token)!r}: a DRA selector can read only "
                "the variable 'device' (and the variables of its macros)",
            )
        return Checked(variable.type, 1, variable.bound)

    def _dot_ident(self, node: lark.Tree[lark.Token]) -> Checked:
        return self._ident(node)

    def _list_lit(self, node: lark.Tree[lark.Token]) -> Checked:
        lists = _subtrees(node)
        items = [self.check(e) for e in _subtrees(lists[0])] if lists else []
        element = t.DYN
        if items:
            element = items[0].type
            for item in items[1:]:
                element = t.join(element, item.type)
        elem_bound = Bound(max((i.bound.size for i in items), default=1))
        return Checked(
            t.list_of(element), 1 + sum(i.cost for i in items), Bound(len(items), elem_bound)
        )

    def _map_lit(self, node: lark.Tree[lark.Token]) -> Checked:
        inits = _subtrees(node)
        entries = [self.check(e) for e in _subtrees(inits[0])] if inits else []
        keys, values = entries[0::2], entries[1::2]
        key_type = values_type = t.DYN
        if entries:
            key_type, values_type = keys[0].type, values[0].type
            for key in keys[1:]:
                key_type = t.join(key_type, key.type)
            for value in values[1:]:
                values_type = t.join(values_type, value.type)
        if not (key_type.is_dyn or key_type in (t.STRING, t.INT, t.UINT, t.BOOL)):
            raise _fail(node, f"map keys must be string, int, uint or bool, not {key_type}")
        bound = Bound(
            len(keys),
            Bound(max((k.bound.size for k in keys), default=1)),
            Bound(max((v.bound.size for v in values), default=1)),
        )
        return Checked(t.map_of(key_type, values_type), 1 + sum(e.cost for e in entries), bound)

    def _member_object(self, node: lark.Tree[lark.Token]) -> Checked:
        raise _fail(node, "message construction is not available in a DRA selector")

    # --- selection, indexing, calls -----------------------------------------------------

    def _member_dot(self, node: lark.Tree[lark.Token]) -> Checked:
        target_node, field = node.children
        assert isinstance(target_node, lark.Tree)
        assert isinstance(field, lark.Token)
        target = self.check(target_node)
        return self._select(field, target, str(field))

    def _select(self, at: lark.Token, target: Checked, field: str) -> Checked:
        if target.type == t.DEVICE:
            field_type = t.DEVICE_FIELDS.get(field)
            if field_type is None:
                allowed = ", ".join(sorted(t.DEVICE_FIELDS))
                raise _fail(at, f"undefined field {field!r} of device (fields: {allowed})")
            return Checked(field_type, target.cost + 1, DEVICE_BOUNDS[field])
        if target.type.name == "map":
            key, value = target.type.params
            if not t.assignable(t.STRING, key):
                raise _fail(at, f"cannot select field {field!r} from {target.type}")
            return Checked(value, target.cost + 1, target.bound.value or _SCALAR)
        if target.type.is_dyn:
            return Checked(t.DYN, target.cost + 1, _STRING)
        raise _fail(at, f"type {target.type} has no fields (selecting {field!r})")

    def _member_index(self, node: lark.Tree[lark.Token]) -> Checked:
        target_node, index_node = _subtrees(node)
        target, index = self.check(target_node), self.check(index_node)
        cost = target.cost + index.cost + 1
        if target.type.name == "map":
            key, value = target.type.params
            if not t.assignable(index.type, key):
                raise self._no_overload(node, "_[_]", [target.type, index.type])
            return Checked(value, cost, target.bound.value or _SCALAR)
        if target.type.name == "list":
            if not (index.type.is_dyn or index.type in t.NUMERIC):
                raise self._no_overload(node, "_[_]", [target.type, index.type])
            return Checked(target.type.params[0], cost, target.bound.element())
        if target.type.is_dyn:
            return Checked(t.DYN, cost, _STRING)
        if target.type == t.DEVICE:
            raise _fail(node, "index device's fields with '.', e.g. device.attributes")
        raise self._no_overload(node, "_[_]", [target.type, index.type])

    def _ident_arg(self, node: lark.Tree[lark.Token]) -> Checked:
        name = node.children[0]
        assert isinstance(name, lark.Token)
        arguments = [c for c in node.children[1:] if isinstance(c, lark.Tree)]
        argument_nodes = _subtrees(arguments[0]) if arguments else []
        if str(name) == "has":
            return self._has(node, argument_nodes)
        if str(name) in MACROS:
            raise _fail(
                name, f"{name}() is a macro: call it on a list or map, e.g. l.{name}(x, ...)"
            )
        checked = [self.check(a) for a in argument_nodes]
        return self._call(name, str(name), None, checked)

    def _dot_ident_arg(self, node: lark.Tree[lark.Token]) -> Checked:
        return self._ident_arg(node)

    def _member_dot_arg(self, node: lark.Tree[lark.Token]) -> Checked:
        target_node, name = node.children[0], node.children[1]
        assert isinstance(target_node, lark.Tree)
        assert isinstance(name, lark.Token)
        arguments = [c for c in node.children[2:] if isinstance(c, lark.Tree)]
        argument_nodes = _subtrees(arguments[0]) if arguments else []
        namespace = _bare_identifier(target_node)
        if namespace in UNSUPPORTED_NAMESPACES and namespace not in self.scope:
            raise _fail(
                name,
                f"{namespace}.{name}() is part of Kubernetes' CEL environment but is not "
                "supported by Modelplane's matcher",
            )
        if str(name) in MACROS:
            return self._macro(node, name, target_node, argument_nodes)
        target = self.check(target_node)
        checked = [self.check(a) for a in argument_nodes]
        return self._call(name, str(name), target, checked)

    def _has(self, node: lark.Tree[lark.Token], arguments: list[lark.Tree[lark.Token]]) -> Checked:
        if len(arguments) != 1:
            raise _fail(node, "has() takes exactly one argument, a field selection like has(x.f)")
        selection = _unwrap(arguments[0])
        if selection.data != "member_dot":
            raise _fail(
                node,
                "invalid argument to has(): it must be a field selection such as "
                'has(device.attributes["d"].name); to test a domain use '
                '"d" in device.attributes',
            )
        target_node = selection.children[0]
        assert isinstance(target_node, lark.Tree)
        target = self.check(target_node)
        if not (target.type.is_dyn or target.type.name == "map" or target.type == t.DEVICE):
            raise _fail(node, f"has() cannot test a field of {target.type}")
        return Checked(t.BOOL, target.cost + 1)

    def _macro(
        self,
        node: lark.Tree[lark.Token],
        name: lark.Token,
        range_node: lark.Tree[lark.Token],
        arguments: list[lark.Tree[lark.Token]],
    ) -> Checked:
        if len(arguments) != MACROS[str(name)] + 1:
            forms = {"map": "l.map(x, expr)"}.get(str(name), f"l.{name}(x, predicate)")
            raise _fail(name, f"{name}() takes a variable and an expression: {forms}")
        variable = _bare_identifier(arguments[0])
        if variable is None:
            raise _fail(arguments[0], f"the first argument of {name}() must be a variable name")
        iterated = self.check(range_node)
        if not (iterated.type.is_dyn or iterated.type.name in ("list", "map")):
            raise _fail(name, f"{name}() iterates a list or map, not {iterated.type}")
        outer = self.scope.get(variable)
        self.scope[variable] = Variable(t.element_type(iterated.type), iterated.bound.element())
        try:
            body = self.check(arguments[1])
        finally:
            if outer is None:
                del self.scope[variable]
            else:
                self.scope[variable] = outer
        cost = iterated.cost + iterated.bound.size * (body.cost + 1)
        if str(name) == "map":
            return Checked(t.list_of(body.type), cost, Bound(iterated.bound.size, body.bound))
        self._require(arguments[1], body, t.BOOL, f"the predicate of {name}()")
        if str(name) == "filter":
            return Checked(iterated.type, cost, iterated.bound)
        return Checked(t.BOOL, cost)

    def _call(
        self,
        at: lark.Token,
        name: str,
        receiver: Checked | None,
        arguments: list[Checked],
    ) -> Checked:
        function = FUNCTIONS.get(name)
        if function is None:
            if name in UNSUPPORTED:
                raise _fail(
                    at,
                    f"{name}() is part of Kubernetes' CEL environment but is not supported "
                    "by Modelplane's matcher",
                )
            raise _fail(at, f"undeclared reference to function {name!r}")
        member = receiver is not None
        styled = [o for o in function.overloads if o.member == member]
        if not styled:
            if member:
                raise _fail(at, f"{name}() is a global function: call it as {name}(x, ...)")
            raise _fail(at, f"{name}() is a member function: call it as x.{name}(...)")
        by_arity = [o for o in styled if o.arity == len(arguments)]
        if not by_arity:
            arities = sorted({o.arity for o in styled})
            expected = " or ".join(str(a) for a in arities)
            raise _fail(
                at,
                f"{name}() takes {expected} argument(s), got {len(arguments)}",
            )
        actual = ([receiver] if receiver is not None else []) + arguments
        actual_types = [a.type for a in actual]
        matching = [
            o
            for o in by_arity
            if all(t.assignable(a, p) for a, p in zip(actual_types, o.params, strict=True))
        ]
        if not matching:
            raise self._no_overload(at, name, actual_types)
        result = matching[0].result
        for overload in matching[1:]:
            result = t.join(result, overload.result)
        largest = max((a.bound.size for a in actual), default=0)
        cost = 1 + sum(a.cost for a in actual) + math.ceil(function.cost_per_size * largest)
        bound = self._result_bound(name, actual)
        if name in _BUILDERS:
            # Building the result is a traversal of it too (the runtime meter charges the same).
            cost += math.ceil(TRAVERSAL_FACTOR * bound.size)
        return Checked(result, cost, bound)

    @staticmethod
    def _result_bound(name: str, actual: list[Checked]) -> Bound:
        if not actual:
            return _SCALAR
        first = actual[0].bound
        if name in ("lowerAscii", "upperAscii", "trim", "substring", "charAt"):
            return Bound(first.size)
        if name == "replace":
            # Worst case: an empty ``old`` inserts ``new`` before every character and at the end.
            new = actual[2].bound.size if len(actual) > 2 else 0
            return Bound(first.size + (first.size + 1) * new)
        if name == "split":
            return Bound(first.size + 1, Bound(first.size))
        if name == "join":
            separator = actual[1].bound.size if len(actual) > 1 else 0
            return Bound(first.size * (first.element().size + separator))
        if name == "string":
            return Bound(max(first.size, 32))
        return _SCALAR

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _equatable(left: t.CelType, right: t.CelType) -> bool:
        if left.is_dyn or right.is_dyn or t.NULL in (left, right):
            return True
        return t.assignable(left, right) and t.assignable(right, left)

    @staticmethod
    def _ordered(left: t.CelType, right: t.CelType) -> bool:
        if left.is_dyn and right.is_dyn:
            return True
        if left.is_dyn or right.is_dyn:
            known = right if left.is_dyn else left
            return known in t.ORDERED
        if left in t.NUMERIC and right in t.NUMERIC:
            # Kubernetes enables CrossTypeNumericComparisons.
            return True
        return left == right and left in t.ORDERED

    def _require(
        self, node: lark.Tree[lark.Token], checked: Checked, expected: t.CelType, what: str
    ) -> None:
        if not t.assignable(checked.type, expected):
            raise _fail(node, f"{what} must be {expected}, not {checked.type}")

    @staticmethod
    def _no_overload(
        node: lark.Tree[lark.Token] | lark.Token,
        operator: str,
        types: Sequence[t.CelType],
        hint: str = "",
    ) -> CompileError:
        return _fail(
            node,
            f"found no matching overload for {operator!r} applied to {_signature(types)}{hint}",
        )


def _unwrap(node: lark.Tree[lark.Token]) -> lark.Tree[lark.Token]:
    """Descend through single-child wrapper levels (expr → ... → member) to the real node."""
    while len(node.children) == 1 and isinstance(node.children[0], lark.Tree):
        node = node.children[0]
    return node


def _bare_identifier(node: lark.Tree[lark.Token]) -> str | None:
    inner = _unwrap(node)
    if inner.data == "ident":
        return str(inner.children[0])
    if inner.data == "primary" and inner.children and isinstance(inner.children[0], lark.Tree):
        return _bare_identifier(inner.children[0])
    return None


def check(tree: lark.Tree[lark.Token]) -> Checked:
    """Type-check ``tree`` and bound its cost; raise CompileError on the first problem."""
    checked = Checker().check(tree)
    if not t.assignable(checked.type, t.BOOL):
        raise _fail(
            tree, f"a selector must evaluate to bool or the unknown type, not {checked.type}"
        )
    return checked
