"""Nesting: Kubernetes' parser recursion limit, and no Python recursion limit below it.

cel-go refuses a selector nested more than 250 deep (its default
``MaxRecursionDepth``, which Kubernetes keeps), in two ways: a grammar rule
active more than 250 times while parsing ("expression recursion limit
exceeded: 250"), or more than 250 nested operators, selections, indexes and
member calls in the AST ("max recursion depth exceeded"). Everything below
the limit must compile and evaluate, however tall celpy's tree for it is.
"""

from __future__ import annotations

import subprocess
import sys

import celpy
import pytest

from modelplane_core import cel
from modelplane_core.cel.limits import MAX_EXPRESSION_BYTES, MAX_PARSER_RECURSION
from modelplane_core.cel.nesting import measure
from modelplane_core.cel.stack import frames_for, headroom

PARSE_LIMIT = "expression recursion limit exceeded"
AST_LIMIT = "max recursion depth exceeded"
_PARSER = celpy.Environment()


def nested(prefix: str, core: str, suffix: str, levels: int) -> str:
    return prefix * levels + core + suffix * levels


def compile_error(expression: str) -> cel.CompileError:
    with pytest.raises(cel.CompileError) as info:
        cel.compile(expression)
    return info.value


def test_the_limit_is_cel_gos_default() -> None:
    assert MAX_PARSER_RECURSION == 250


# cel-go's own parser tests (parser/parser_test.go), which run with MaxRecursionDepth(32).
CEL_GO_VECTORS = [
    # More than 32 nested list creation statements.
    (nested("[", "'not fine'", "]", 32), PARSE_LIMIT),
    # More than 32 arithmetic operations: 1 + 2 + ... + 34.
    (" + ".join(str(i) for i in range(1, 35)), AST_LIMIT),
    # More than 32 field selections: a.b.c...H is 33 of them.
    ("a." + ".".join("bcdefghijklmnopqrstuvwxyzABCDEFGH"), AST_LIMIT),
    # More than 32 index operations.
    ("a" + "".join(f"[{i}]" for i in range(1, 34)), AST_LIMIT),
    # More than 32 relation operators.
    ("a" + "".join(f" < {i}" for i in range(1, 34)), AST_LIMIT),
    # The deepest index chain (20) plus the number of relation operators (13).
    (" != ".join(["a" + "".join(f"[{i}]" for i in range(1, 21))] * 14), AST_LIMIT),
    # A long mix of != and -, verbatim.
    (
        """y!=y!=y!=y!=y!=y!=y!=y!=y!=-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y
\t\t!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y
\t\t!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y
\t\t!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y
\t\t!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y
\t\t!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y!=-y!=-y-y!=-y""",
        AST_LIMIT,
    ),
]


@pytest.mark.parametrize(("expression", "error"), CEL_GO_VECTORS)
def test_cel_go_parser_vectors_at_its_test_limit(expression: str, error: str) -> None:
    with pytest.raises(cel.CompileError, match=error):
        measure(_PARSER.compile(expression), limit=32)


@pytest.mark.parametrize(
    "expression",
    [
        nested("[", "'fine'", "]", 31),  # 32 active expr rules: the root and 31 lists
        " + ".join(str(i) for i in range(1, 34)),  # 32 operators
        "a." + ".".join("bcdefghijklmnopqrstuvwxyzABCDEF"),  # 31 selections
        " != ".join(["a" + "".join(f"[{i}]" for i in range(1, 20))] * 14),  # 19 + 13
        " || ".join(["a"] * 500),  # cel-go parses || and && as loops
        "!" * 500 + "a",  # and so a run of ! or -
    ],
)
def test_just_under_cel_gos_test_limit(expression: str) -> None:
    assert measure(_PARSER.compile(expression), limit=32).height > 0


def test_parentheses_at_the_limit_compile_and_evaluate() -> None:
    # The root expr plus 249 parenthesised ones: 250 active expr rules.
    selector = cel.compile(nested("(", "true", ")", 249))
    assert selector.evaluate({}) == cel.Outcome(True)


def test_one_parenthesis_over_the_limit_is_refused_with_the_limit() -> None:
    error = compile_error(nested("(", 'device.driver == ""', ")", 250))
    assert error.message.startswith(f"{PARSE_LIMIT}: 250 ")
    assert "at most 250" in error.message
    # 251 expr rules, each with a relation rule active, and one more relation rule for
    # the right operand of ==: the relation count is the deepest.
    assert "needs 252" in error.message
    # It points at the innermost expression, the one that went over.
    assert (error.line, error.column) == (1, 251)


@pytest.mark.parametrize(
    ("prefix", "core", "suffix", "tail"),
    [
        ("!(", "true", ")", ""),
        ("-(", "1", ")", " == 1"),
        ("[", "1", "]", " != []"),
        ('{"k": ', "1", "}", " != {}"),
        ("int(", "1", ")", " == 1"),
        ("[1].exists(x, ", "true", ")", ""),
        ("[1].map(x, ", "true", ")", " != []"),
        ("false ? false : ", "true", "", ""),
        ("[0][", "0", "]", " == 0"),
    ],
)
def test_every_kind_of_nesting_at_the_limit_evaluates(
    prefix: str, core: str, suffix: str, tail: str
) -> None:
    selector = cel.compile(nested(prefix, core, suffix, 249) + tail)
    outcome = selector.evaluate({})
    assert outcome.error is None
    with pytest.raises(cel.CompileError, match=PARSE_LIMIT):
        cel.compile(nested(prefix, core, suffix, 250) + tail)


def test_operators_to_the_right_keep_more_rules_active() -> None:
    # Inside "1 + 1 * (x)", x is parsed with three calc rules active (cel-go's
    # precedence climbing: calc(0), calc(2) for the right of +, calc(3) for the
    # right of *), so 83 levels need 3 * 83 + 1 = 250 and 84 need 253, long
    # before the 85 nested expr rules would count.
    assert cel.compile(nested("1 + 1 * (", "1", ")", 83) + " > 0").evaluate({}).matched
    error = compile_error(nested("1 + 1 * (", "1", ")", 84) + " > 0")
    assert "needs 253" in error.message
    # Right of a relation: two relation rules per level, 2 * 124 + 1 = 249.
    assert cel.compile(nested("true == (", "true", ")", 124)).evaluate({}).matched
    assert "needs 251" in compile_error(nested("true == (", "true", ")", 125)).message


def test_operator_chains_count_each_operator() -> None:
    # 249 additions and the comparison: 250 nested operators in cel-go's AST.
    chain = " + ".join(["1"] * 250) + " > 0"
    assert cel.compile(chain).evaluate({}) == cel.Outcome(True)
    error = compile_error(" + ".join(["1"] * 251) + " > 0")
    assert error.message.startswith(AST_LIMIT)
    assert "at most 250" in error.message
    assert "nests 251" in error.message


def test_selection_chains_count_each_selection() -> None:
    device = {"driver": "d", "attributes": {"x": {"int": 1}}}
    base = 'device.attributes["d"]'  # two selections and an index
    assert cel.compile(f"{base}.x == 1").evaluate(device) == cel.Outcome(True)
    # 2 + 247 selections + the comparison = 250: legal, and an unknown key at run time.
    outcome = cel.compile(base + ".x" * 247 + " == 1").evaluate(device)
    assert outcome.error == "no such key: x"  # x is an int, not a map
    assert AST_LIMIT in compile_error(base + ".x" * 248 + " == 1").message


def fitting(term: str, separator: str) -> str:
    """As many terms as fit in the size limit, joined by ``separator``."""
    count = (MAX_EXPRESSION_BYTES + len(separator)) // (len(term) + len(separator))
    expression = separator.join([term] * count)
    assert len(expression) <= MAX_EXPRESSION_BYTES
    return expression


def test_flat_logical_chains_as_long_as_the_size_limit_allows() -> None:
    # Kubernetes accepts them (its parser loops over || and &&); celpy nests them.
    any_true = fitting("false", "||")[: -len("false")] + "true"
    assert cel.compile(any_true).evaluate({}) == cel.Outcome(True)
    all_true = fitting("true", "&&")
    assert cel.compile(all_true).evaluate({}) == cel.Outcome(True)
    one_false = "false" + all_true[len("true") : -len("&&true")]
    assert cel.compile(one_false).evaluate({}) == cel.Outcome(False)


def test_runs_of_unary_operators_as_long_as_the_size_limit_allows() -> None:
    bangs = "!" * (MAX_EXPRESSION_BYTES - len("true"))
    assert cel.compile(bangs + "true").evaluate({}) == cel.Outcome(len(bangs) % 2 == 0)
    negations = "-" * (MAX_EXPRESSION_BYTES - len("1 == 1"))
    expected = 1 if len(negations) % 2 == 0 else -1
    assert cel.compile(negations + f"1 == {expected}").evaluate({}) == cel.Outcome(True)


def test_long_chains_are_refused_by_the_size_or_nesting_rule_not_by_python() -> None:
    assert "bytes" in compile_error(fitting("true", "||") + "||true").message
    assert AST_LIMIT in compile_error("+".join(["1"] * 4000) + ">0").message
    assert AST_LIMIT in compile_error("1" + "<1" * 4000).message


def test_deep_selectors_compile_and_evaluate_from_a_deep_caller() -> None:
    # The headroom is relative to where the caller already is: compile and
    # evaluate a selector at the limit from just under Python's recursion limit.
    expression = nested("(", 'device.attributes["d"].nope == 1', ")", 240)
    results: list[cel.Outcome] = []

    def descend(remaining: int) -> None:
        if remaining > 0:
            descend(remaining - 1)
            return
        results.append(cel.compile(expression).evaluate({"driver": "d"}))

    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
    descend(sys.getrecursionlimit() - depth - 60)
    assert results == [cel.Outcome(False, "no such key: nope")]


SMALL_STACK_PROGRAM = """
import sys, threading
from modelplane_core import cel

def run():
    for expression in sys.argv[1:]:
        print(cel.compile(expression).evaluate({}).matched)

threading.stack_size(256 * 1024)
worker = threading.Thread(target=run)
worker.start()
worker.join()
"""


def test_deep_selectors_need_heap_not_thread_stack() -> None:
    # A raised recursion limit is safe only if deep walks do not grow the C stack
    # (a C stack overflow is a crash, not a RecursionError): run the deepest
    # selectors in a thread with a 256 KiB stack, in a child process so that a
    # crash fails this test instead of the test run.
    expressions = [
        nested("[1].exists(x, ", "true", ")", 249),  # macros recurse through C
        nested("(", "true", ")", 249),
        "!" * 10_000 + "true",
    ]
    result = subprocess.run(
        [sys.executable, "-c", SMALL_STACK_PROGRAM, *expressions],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "True", "True"]


def test_compiling_and_evaluating_leave_the_recursion_limit_as_it_was() -> None:
    before = sys.getrecursionlimit()
    selector = cel.compile(nested("!(", "false", ")", 201))
    assert selector.evaluate({}).matched
    assert sys.getrecursionlimit() == before


def test_headroom_grants_the_largest_active_request_and_then_restores() -> None:
    before = sys.getrecursionlimit()
    with headroom(100):
        assert sys.getrecursionlimit() == before + frames_for(100)
        with headroom(1000):
            assert sys.getrecursionlimit() == before + frames_for(1000)
        assert sys.getrecursionlimit() == before + frames_for(100)
    assert sys.getrecursionlimit() == before


def test_a_lone_surrogate_is_a_compile_error() -> None:
    error = compile_error('device.driver == "\ud800"')
    assert "not valid UTF-8" in error.message
    assert "character 19" in error.message
