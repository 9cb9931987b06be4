"""The runtime cost budget: every evaluation stops once it has spent 1,000,000 units.

The compile-time estimate (``checker.py``) rejects selectors whose worst case
is over the limit, but an estimate is only as good as its size model, and a
selector that slips through can run for minutes or allocate gigabytes on one
device (a string doubled by chained ``replace``, a list concatenated inside a
macro). Kubernetes guards against exactly this by also enforcing the limit at
run time (``cel.CostLimit`` in the DRA scheduler), and so do we:

- every step of the evaluation costs one unit, exactly where the estimate
  (``checker.py``) counts one: a name, a member or index access, a call, a
  list or map literal, an arithmetic, comparison or negation operator, and
  each element a macro visits; literals, parentheses, ``&&``, ``||`` and the
  pass-through levels of celpy's tall parse tree are free. So the actual
  cost of an evaluation never exceeds its estimate, as in cel-go;
- functions that traverse or build strings and lists also cost a tenth of a
  unit per character or element, cel-go's traversal factor, charged *before*
  the result is built from the sizes the inputs imply, so an over-budget
  ``replace`` or ``+`` is refused without allocating its result.

Going over the limit raises :class:`CostLimitExceeded` out of the evaluation;
the selector turns it into a non-match with cel-go's message. A meter lives for
one evaluation only: nothing here is shared between evaluations or threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

import celpy
import lark
from celpy import celtypes
from celpy.evaluation import Activation, Context, Evaluator

from modelplane_core.cel.library import MACROS
from modelplane_core.cel.limits import MAX_COST, TRAVERSAL_FACTOR


class CostLimitExceeded(Exception):
    """An evaluation spent more than the budget; cel-go words it "operation cancelled"."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__("operation cancelled: actual cost limit exceeded")


class Meter:
    """Units spent by one evaluation, against its limit."""

    __slots__ = ("limit", "spent")

    def __init__(self, limit: int = MAX_COST) -> None:
        self.limit = limit
        self.spent = 0

    def charge(self, units: int) -> None:
        self.spent += units
        if self.spent > self.limit:
            raise CostLimitExceeded(self.limit)

    def charge_size(self, size: int) -> None:
        """A traversal or construction over ``size`` characters or elements."""
        if size > 0:
            self.charge(math.ceil(TRAVERSAL_FACTOR * size))


def _size(value: Any) -> int:
    if isinstance(value, (str, bytes, list, tuple, dict)):
        return len(value)
    return 0


def _replace_size(value: Any, old: Any, new: Any, limit: Any = -1) -> int:
    """The length ``value.replace(old, new, limit)`` will have, without building it."""
    if not isinstance(value, str) or not isinstance(old, str) or not isinstance(new, str):
        return _size(value)
    # An empty ``old`` inserts ``new`` around every character, as Go's strings.Replace does.
    occurrences = len(value) + 1 if old == "" else value.count(old)
    if isinstance(limit, int) and limit >= 0:
        occurrences = min(occurrences, limit)
    return len(value) + occurrences * (len(new) - len(old))


def _join_size(value: Any, separator: Any = "") -> int:
    if not isinstance(value, list):
        return 0
    gaps = max(len(value) - 1, 0) * _size(separator)
    return sum(_size(item) for item in value) + gaps


def _concatenation_size(left: Any, right: Any) -> int:
    return _size(left) + _size(right)


def _input_size(*arguments: Any) -> int:
    return max((_size(a) for a in arguments), default=0)


# The size each sized function reads or builds, from its arguments (receiver first).
SIZED: Final[Mapping[str, Callable[..., int]]] = {
    "_+_": _concatenation_size,
    "replace": _replace_size,
    "join": _join_size,
    "split": _input_size,
    "contains": _input_size,
    "startsWith": _input_size,
    "endsWith": _input_size,
    "matches": _input_size,
    "lowerAscii": _input_size,
    "upperAscii": _input_size,
    "trim": _input_size,
    "indexOf": _input_size,
    "lastIndexOf": _input_size,
    "substring": _input_size,
    "charAt": _input_size,
}


# Parse-tree nodes that are a step of their own (see the module docstring).
_STEPS: Final = frozenset(
    {"ident", "ident_arg", "dot_ident", "dot_ident_arg", "member_dot", "member_index"}
    | {"member_object", "list_lit", "map_lit"}
)
# Operator levels: a step only when the operator is there (two children), not a pass-through.
_OPERATORS: Final = frozenset({"relation", "addition", "multiplication", "unary"})


def _costs_a_unit(tree: lark.Tree[Any]) -> bool:
    kind = tree.data
    if kind in _STEPS:
        return True
    if kind in _OPERATORS:
        return len(tree.children) == 2
    if kind == "member_dot_arg":
        # A macro costs its elements (charged per element), not a call.
        return str(tree.children[1]) not in MACROS
    return False


def _metered(meter: Meter, size: Callable[..., int], function: Any) -> Callable[..., Any]:
    def call(*arguments: Any) -> Any:
        meter.charge_size(size(*arguments))
        return function(*arguments)

    return call


class MeteredEvaluator(Evaluator):
    """celpy's evaluator charging its meter for every working node it visits."""

    def __init__(
        self, ast: lark.Tree[Any], activation: Activation, meter: Meter, *, macro: bool = False
    ) -> None:
        super().__init__(ast, activation)
        self.meter = meter
        self.macro = macro  # evaluates a macro's body: once per element

    def _visit_tree(self, tree: lark.Tree[Any]) -> Any:  # lark's single dispatch point
        if _costs_a_unit(tree):
            self.meter.charge(1)
        return super()._visit_tree(tree)

    def sub_evaluator(self, ast: lark.Tree[Any]) -> Evaluator:
        return MeteredEvaluator(ast, self.activation, self.meter, macro=True)

    def set_activation(self, values: Context) -> Evaluator:
        """Bind variables; for a macro's body, one element: its unit is charged here."""
        if self.macro:
            self.meter.charge(1)
        return super().set_activation(values)


class MeteredRunner(celpy.InterpretedRunner):
    """A compiled selector program whose every evaluation runs under a fresh :class:`Meter`."""

    def __init__(
        self,
        environment: celpy.Environment,
        ast: lark.Tree[Any],
        functions: Mapping[str, Any],
        limit: int = MAX_COST,
    ) -> None:
        super().__init__(environment, ast, dict(functions))
        self.limit = limit
        self._sized = {
            name: (size, dict(functions).get(name) or celpy.evaluation.base_functions[name])
            for name, size in SIZED.items()
            if name in functions or name in celpy.evaluation.base_functions
        }

    def evaluate(self, context: Context, meter: Meter | None = None) -> celtypes.Value:
        """Evaluate under a fresh meter, or under ``meter`` to read what was spent."""
        meter = meter if meter is not None else Meter(self.limit)
        functions = dict(self.functions or {})
        for name, (size, function) in self._sized.items():
            functions[name] = _metered(meter, size, function)
        activation = Activation(
            package=self.environment.package,
            annotations=self.environment.annotations,
            functions=functions,
        )
        return MeteredEvaluator(self.ast, activation, meter).evaluate(context)
