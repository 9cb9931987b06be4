"""Compile a DRA selector once; evaluate it per device, never raising.

``compile`` does what the Kubernetes API server does when a selector is
written: length limit, parse, nesting limit, static type check and cost
bound. Only then is the expression handed to celpy's interpreter. Whatever
the text, ``compile`` raises nothing but CompileError: the nesting limit is
checked without recursing, and the checker and celpy then walk the tree with
the stack room its height needs (``stack.headroom``). Evaluation follows DRA
with one deliberate difference: where Kubernetes aborts the whole scheduling
attempt on a device whose evaluation errors, a fleet scheduler must keep
going, so an error (or a non-bool result, or running over the runtime cost
budget, ``meter.py``) makes that device a non-match and the reason is
returned in the outcome for the explanation, in cel-go's words
(``messages.py``).

Compiled selectors and outcomes are remembered only in a
:class:`~.cache.SelectorCache` the caller passes: per (selector text,
device content), so a scheduling pass evaluates each selector once per
distinct device, not once per pool or per replica.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs
import celpy
import lark
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from modelplane_core.cel.activation import activation
from modelplane_core.cel.cache import SelectorCache
from modelplane_core.cel.checker import check
from modelplane_core.cel.errors import CompileError
from modelplane_core.cel.library import RUNTIME_FUNCTIONS
from modelplane_core.cel.limits import MAX_COST, MAX_EXPRESSION_BYTES
from modelplane_core.cel.messages import evaluation_message, result_message
from modelplane_core.cel.meter import CostLimitExceeded, Meter, MeteredRunner
from modelplane_core.cel.nesting import measure
from modelplane_core.cel.stack import headroom

# Configuration only (the CEL package and type annotations); never changed after import.
_ENVIRONMENT = celpy.Environment()
_LOG = logging.getLogger(__name__)


@attrs.frozen
class Outcome:
    """A selector's verdict on one device: matched, or not and (on an error) why."""

    matched: bool
    error: str | None = None


class Selector:
    """A compiled, checked selector: immutable, safe to share between threads."""

    __slots__ = ("_height", "_program", "cost", "expression")

    def __init__(self, expression: str, program: MeteredRunner, cost: int, height: int) -> None:
        self.expression = expression
        self.cost = cost
        self._program = program
        self._height = height  # of the parse tree: how deep evaluation recurses

    def __repr__(self) -> str:
        return f"Selector({self.expression!r})"

    def matches(self, device: Any, cache: SelectorCache | None = None) -> bool:
        return self.evaluate(device, cache).matched

    def evaluate(self, device: Any, cache: SelectorCache | None = None) -> Outcome:
        """Run the selector on ``device`` (an api Device or its wire dict)."""
        key, converted = activation(device, cache)
        if converted.value is None:
            return Outcome(False, converted.error)
        value = converted.value
        if cache is None:
            return self._run(value)
        return cache.outcomes.get((self.expression, key), lambda: self._run(value))

    def actual_cost(self, device: Any, limit: int = MAX_COST) -> tuple[Outcome, int]:
        """The outcome on ``device`` and the cost units its evaluation spent (never memoized).

        ``limit`` is the budget (Kubernetes' by default); a smaller one shows
        where an evaluation would be stopped.
        """
        _key, converted = activation(device)
        if converted.value is None:
            return Outcome(False, converted.error), 0
        meter = Meter(limit)
        return self._run(converted.value, meter), meter.spent

    def _run(self, device: celtypes.MapType, meter: Meter | None = None) -> Outcome:
        try:
            with headroom(self._height):
                # celpy may return an error as a value instead of raising it.
                result: object = self._program.evaluate({"device": device}, meter)
                if isinstance(result, CELEvalError):
                    return Outcome(False, evaluation_message(result))
        except CostLimitExceeded as exc:
            return Outcome(False, str(exc))
        except CELEvalError as exc:
            return Outcome(False, evaluation_message(exc))
        except Exception as exc:  # celpy internals: report, never raise into the scheduler
            _LOG.debug("selector %r raised", self.expression, exc_info=True)
            return Outcome(False, f"evaluation failed: {type(exc).__name__}: {exc}")
        if not isinstance(result, celtypes.BoolType):
            return Outcome(False, result_message(result))
        return Outcome(bool(result))


def _parse_error(exc: CELParseError) -> CompileError:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    cause = exc.__cause__ or exc.__context__
    detail = "syntax error"
    token = getattr(cause, "token", None)
    if isinstance(token, lark.Token):
        detail = f"syntax error: unexpected {str(token)!r}" if str(token) else "syntax error"
    elif isinstance(cause, lark.exceptions.UnexpectedCharacters):
        detail = f"syntax error: unexpected character {cause.char!r}"
    elif isinstance(cause, lark.exceptions.UnexpectedEOF):
        detail = "syntax error: unexpected end of expression"
    return CompileError(detail, line, column)


def _utf8_size(expression: str) -> int:
    try:
        return len(expression.encode())
    except UnicodeEncodeError as exc:  # a lone surrogate, as JSON's "\ud800" decodes to
        raise CompileError(
            f"expression is not valid UTF-8 text: {exc.reason} at character {exc.start + 1}"
        ) from None


def _compile(expression: str) -> Selector:
    # Parsing needs a few dozen frames whatever the text; the tree's walks need more.
    with headroom(0):
        return _compile_with_room(expression)


def _compile_with_room(expression: str) -> Selector:
    size = _utf8_size(expression)
    if size > MAX_EXPRESSION_BYTES:
        raise CompileError(
            f"expression is {size} bytes; a DRA selector may be at most {MAX_EXPRESSION_BYTES}"
        )
    if not expression.strip():
        raise CompileError("expression is empty")
    try:
        tree = _ENVIRONMENT.compile(expression)  # lark's LALR parser does not recurse
    except CELParseError as exc:
        raise _parse_error(exc) from None
    height = measure(tree).height
    with headroom(height):
        checked = check(tree)
        program = MeteredRunner(_ENVIRONMENT, tree, RUNTIME_FUNCTIONS, limit=MAX_COST)
    cost = int(checked.cost)
    if cost > MAX_COST:
        raise CompileError(
            f"estimated worst-case cost {cost} exceeds the limit {MAX_COST} "
            "(nested macros over large lists or maps multiply, and building strings or lists "
            "costs their size)"
        )
    return Selector(expression, program, cost, height)


def compile(expression: str, cache: SelectorCache | None = None) -> Selector:
    """Check and compile ``expression``; raise CompileError as Kubernetes would reject it.

    CompileError is the only exception, whatever the text: an unexpected
    failure inside celpy or the checker is reported as one (its cause chained)
    so that the composer holds the deployment with InvalidNodeSelector instead
    of crashing. With a ``cache``, each distinct text is compiled once (a
    rejection is remembered too).
    """
    if not isinstance(expression, str):
        raise CompileError(f"a selector must be a string, not {type(expression).__name__}")
    if cache is None:
        return _checked_compile(expression)
    found = cache.compiled.get(expression, lambda: _compile_or_error(expression))
    if isinstance(found, CompileError):
        raise found
    return found


def _compile_or_error(expression: str) -> Selector | CompileError:
    try:
        return _checked_compile(expression)
    except CompileError as exc:
        return exc


def _checked_compile(expression: str) -> Selector:
    try:
        return _compile(expression)
    except CompileError:
        raise
    except Exception as exc:
        _LOG.debug("compiling selector %r raised", expression, exc_info=True)
        raise CompileError(
            f"the selector could not be compiled (internal error {type(exc).__name__}: {exc})"
        ) from exc
