"""How deeply a selector nests, counted the way Kubernetes' CEL parser counts it.

cel-go, which the API server and the DRA scheduler use, refuses a selector
that nests too deeply, and Kubernetes keeps cel-go's default limit of 250
(``parser.MaxRecursionDepth``; neither the base environment nor DRA sets
``cel.ParserRecursionLimit``). It checks twice:

- while parsing, no grammar rule may be active more than 250 times at once:
  ``expression recursion limit exceeded: 250``. Every parenthesis, call or
  macro argument, list element, map entry, index and ternary ``else`` branch
  opens one more ``expr``; inside one, an operand to the right of a relation
  keeps a second ``relation`` active, and one to the right of ``+``/``-``
  and then ``*``/``/``/``%`` keeps up to three ``calc`` active;
- while building the AST, no more than 250 ternaries, relations,
  arithmetic operators, field selections, indexes and member calls may
  nest: ``max recursion depth exceeded``. A flat chain counts each
  operator, so ``1 + 1 + ...`` may have 250 of them.

``&&`` / ``||`` chains and runs of ``!`` or ``-`` count for neither (cel-go
parses them as loops), so they may be as long as the 10 KiB size limit allows.

celpy's tree has another shape (chains nest to the left, every level has
its own wrapper node), so ``measure`` replays cel-go's counting on it. It
walks with an explicit stack, never recursing: its job is to reject a deep
selector before anything recursive (the checker, celpy's evaluator) sees it,
and to report the tree's height so ``stack.headroom`` can make room for the
legal ones. ``limit`` is a parameter so tests can replay cel-go's own test
vectors, which use a limit of 32.
"""

from __future__ import annotations

import attrs
import lark

from modelplane_core.cel.errors import CompileError
from modelplane_core.cel.limits import MAX_PARSER_RECURSION

_RELATION_OPERATORS = frozenset(
    {
        "relation_lt",
        "relation_le",
        "relation_gt",
        "relation_ge",
        "relation_eq",
        "relation_ne",
        "relation_in",
    }
)
_ADDITION_OPERATORS = frozenset({"addition_add", "addition_sub"})
# Nodes cel-go's AST builder counts (checkAndIncrementRecursionDepth) when they have an operator.
_BINARY = frozenset({"relation", "addition", "multiplication"})
_POSTFIX = frozenset({"member_dot", "member_dot_arg", "member_index"})


@attrs.frozen
class Nesting:
    """The deepest counts on any path of the tree, and the tree's height in nodes."""

    parse_depth: int  # most simultaneously active invocations of one cel-go grammar rule
    ast_depth: int  # most nested counted AST nodes
    height: int


@attrs.frozen
class _Counts:
    """cel-go's counters on the way down: active ``expr``/``relation``/``calc`` rules, AST depth."""

    expr: int = 0
    relation: int = 0
    calc: int = 0
    ast: int = 0

    def parse(self) -> int:
        return max(self.expr, self.relation, self.calc)


_Position = tuple[int | None, int | None]


def _enter(node: lark.Tree[lark.Token], parent: str, below: _Counts) -> _Counts:
    """The counts once ``node`` (whose parent node is ``parent``) has been entered."""
    kind = str(node.data)
    expr, relation, calc, ast = below.expr, below.relation, below.calc, below.ast
    if kind == "expr":
        expr += 1
        ast += len(node.children) == 3  # a ternary
    elif kind == "relation" and parent not in _RELATION_OPERATORS:
        relation += 1  # the top of a relation chain: one relation(0) invocation
    elif kind == "addition" and parent not in _ADDITION_OPERATORS:
        calc += 1  # the top of an arithmetic chain: one calc(0) invocation
    if (kind in _BINARY and len(node.children) == 2) or kind in _POSTFIX:
        ast += 1
    return _Counts(expr, relation, calc, ast)


def _descend(node: lark.Tree[lark.Token], index: int, counts: _Counts) -> _Counts:
    """Counts for child ``index`` of ``node``: a right operand keeps one more rule active."""
    right_operand = index == 1 and len(node.children) == 2
    if right_operand and node.data == "relation":
        return attrs.evolve(counts, relation=counts.relation + 1)  # relation(2) for the operand
    if right_operand and node.data in ("addition", "multiplication"):
        return attrs.evolve(counts, calc=counts.calc + 1)  # calc(2) / calc(3) for the operand
    return counts


def _position(node: lark.Tree[lark.Token], inherited: _Position) -> _Position:
    """Where ``node`` starts; celpy's ``true``/``false``/``null`` tokens carry no position,
    so a node made only of one of those takes its parent's."""
    line = getattr(node.meta, "line", None)
    if line is None:
        return inherited
    return line, getattr(node.meta, "column", None)


def measure(tree: lark.Tree[lark.Token], limit: int = MAX_PARSER_RECURSION) -> Nesting:
    """Count ``tree`` as cel-go would; raise CompileError where it would refuse the selector.

    The parse-time check wins over the AST one, as in cel-go, where parsing
    stops at the first rule nested too deeply before any AST is built.
    """
    parse_depth = ast_depth = height = 0
    too_deep_parse: _Position | None = None
    too_deep_ast: _Position | None = None
    pending: list[tuple[lark.Tree[lark.Token], str, _Counts, int, _Position]] = [
        (tree, "", _Counts(), 1, (None, None))
    ]
    while pending:
        node, parent, below, level, inherited = pending.pop()
        position = _position(node, inherited)
        counts = _enter(node, parent, below)
        height = max(height, level)
        if counts.parse() > parse_depth:
            parse_depth = counts.parse()
            if parse_depth > limit and too_deep_parse is None:
                too_deep_parse = position
        if counts.ast > ast_depth:
            ast_depth = counts.ast
            if ast_depth > limit and too_deep_ast is None:
                too_deep_ast = position
        children = [
            (child, index)
            for index, child in enumerate(node.children)
            if isinstance(child, lark.Tree)
        ]
        # Reversed, so the walk visits left to right and reports the first offender.
        for child, index in reversed(children):
            below_child = _descend(node, index, counts)
            pending.append((child, str(node.data), below_child, level + 1, position))
    if too_deep_parse is not None:
        raise CompileError(
            f"expression recursion limit exceeded: {limit} (Kubernetes' CEL parser allows at "
            f"most {limit} nested levels of parentheses, calls, lists, maps, indexes and "
            f"conditionals; this selector needs {parse_depth})",
            *too_deep_parse,
        )
    if too_deep_ast is not None:
        raise CompileError(
            f"max recursion depth exceeded: Kubernetes' CEL parser allows at most {limit} "
            "nested operators, field selections, indexes and member calls (a chain like "
            f"a + b + c counts each operator); this selector nests {ast_depth}",
            *too_deep_ast,
        )
    return Nesting(parse_depth, ast_depth, height)
