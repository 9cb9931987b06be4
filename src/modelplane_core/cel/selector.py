"""Compile a DRA selector once; evaluate it per device, memoized, never raising.

``compile`` does what the Kubernetes API server does when a selector is
written: length limit, parse, nesting limit, static type check and cost
bound. Only then is the expression handed to celpy's interpreter. Whatever
the text, ``compile`` raises nothing but CompileError: the nesting limit is
checked without recursing, and the checker and celpy then walk the tree with
the stack room its height needs (``stack.headroom``). Evaluation follows DRA with one
deliberate difference: where Kubernetes aborts the whole scheduling attempt on
a device whose evaluation errors, a fleet scheduler must keep going, so an
error (or a non-bool result) makes that device a non-match and the reason is
returned in the outcome for the explanation, in cel-go's words
(``messages.py``).

Outcomes are memoized per (selector, device content): a fleet publishes the
same few device kinds in many pools, so a scheduling pass evaluates each
selector once per distinct device, not once per pool or per replica.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import attrs
import celpy
import lark
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from modelplane_core.cel.activation import DeviceKey, activation
from modelplane_core.cel.checker import check
from modelplane_core.cel.errors import CompileError
from modelplane_core.cel.library import RUNTIME_FUNCTIONS
from modelplane_core.cel.limits import MAX_COST, MAX_EXPRESSION_BYTES
from modelplane_core.cel.messages import evaluation_message, result_message
from modelplane_core.cel.nesting import measure
from modelplane_core.cel.stack import headroom

_ENVIRONMENT = celpy.Environment()
# Memo entries per selector before the memo is reset (bounds memory on huge fleets).
_MEMO_LIMIT = 65536
_LOG = logging.getLogger(__name__)


@attrs.frozen
class Outcome:
    """A selector's verdict on one device: matched, or not and (on an error) why."""

    matched: bool
    error: str | None = None


class _Counter:
    """Selector evaluations actually run (memo misses): the cost figure benchmarks report."""

    evaluations = 0


def evaluation_count() -> int:
    return _Counter.evaluations


class Selector:
    """A compiled, checked selector. Immutable from the outside; holds its own memo."""

    __slots__ = ("_height", "_memo", "_program", "cost", "expression")

    def __init__(self, expression: str, program: celpy.Runner, cost: int, height: int) -> None:
        self.expression = expression
        self.cost = cost
        self._program = program
        self._height = height  # of the parse tree: how deep evaluation recurses
        self._memo: dict[DeviceKey, Outcome] = {}

    def __repr__(self) -> str:
        return f"Selector({self.expression!r})"

    def matches(self, device: Any) -> bool:
        return self.evaluate(device).matched

    def evaluate(self, device: Any) -> Outcome:
        """Run the selector on ``device`` (an api Device or its wire dict)."""
        key, converted = activation(device)
        if converted.value is None:
            return Outcome(False, converted.error)
        outcome = self._memo.get(key)
        if outcome is None:
            outcome = self._run(converted.value)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = outcome
        return outcome

    def _run(self, device: celtypes.MapType) -> Outcome:
        _Counter.evaluations += 1
        try:
            with headroom(self._height):
                # celpy may return an error as a value instead of raising it.
                result: object = self._program.evaluate({"device": device})
                if isinstance(result, CELEvalError):
                    return Outcome(False, evaluation_message(result))
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
        program = _ENVIRONMENT.program(tree, functions=dict(RUNTIME_FUNCTIONS))
    cost = int(checked.cost)
    if cost > MAX_COST:
        raise CompileError(
            f"estimated worst-case cost {cost} exceeds the limit {MAX_COST} "
            "(nested macros over large lists or maps multiply)"
        )
    return Selector(expression, program, cost, height)


@functools.lru_cache(maxsize=4096)
def compile(expression: str) -> Selector:
    """Check and compile ``expression``; raise CompileError as Kubernetes would reject it.

    CompileError is the only exception, whatever the text: an unexpected
    failure inside celpy or the checker is reported as one (its cause chained)
    so that the composer holds the deployment with InvalidNodeSelector instead
    of crashing.
    """
    if not isinstance(expression, str):
        raise CompileError(f"a selector must be a string, not {type(expression).__name__}")
    try:
        return _compile(expression)
    except CompileError:
        raise
    except Exception as exc:
        _LOG.debug("compiling selector %r raised", expression, exc_info=True)
        raise CompileError(
            f"the selector could not be compiled (internal error {type(exc).__name__}: {exc})"
        ) from exc
