"""Compile-time checks: messages name the problem and carry its position; limits hold."""

from __future__ import annotations

import pytest

from modelplane_core import cel
from modelplane_core.cel.limits import MAX_COST, MAX_EXPRESSION_BYTES


def compile_error(expression: str) -> cel.CompileError:
    with pytest.raises(cel.CompileError) as info:
        cel.compile(expression)
    return info.value


@pytest.mark.parametrize(
    ("expression", "fragment", "line", "column"),
    [
        ('quantty("1Gi").isInteger()', "undeclared reference to function 'quantty'", 1, 1),
        ('device.driver == "a" && devise.driver == "b"', "undeclared reference to 'devise'", 1, 25),
        ("device.foo", "undefined field 'foo' of device", 1, 8),
        ('quantity("1").sign() == 1', "sign() is a global function", 1, 15),
        ('isInteger(quantity("1"))', "isInteger() is a member function", 1, 1),
        ('semver("1.0.0").major(1) == 1', "major() takes 0 argument(s), got 1", 1, 17),
        (
            "isQuantity([1, 2, 3])",
            "found no matching overload for 'isQuantity' applied to (list(int))",
            1,
            1,
        ),
        ('quantity("1") < quantity("2")', "compare quantities and semvers with compareTo", 1, 15),
        ('quantity("1") == 1', "found no matching overload for '=='", 1, 15),
        ('has(device.attributes["d"])', "invalid argument to has()", 1, 1),
        ('"x"', "must evaluate to bool or the unknown type, not string", 1, 1),
        ("device.driver == 1 + ", "syntax error", 1, None),
        ("cel.bind(x, 1, x == 1)", "not supported by Modelplane's matcher", 1, 5),
        ('device.driver.exists(c, c == "a")', "iterates a list or map, not string", 1, 15),
        ("[1, 2].exists(1, true)", "must be a variable name", 1, 15),
        ("[1, 2].all(x, x)", "the predicate of all() must be bool, not int", 1, 15),
        ("true ? 1 : 2", "must evaluate to bool", 1, 1),
        ("1 ? true : false", "the condition of ?: must be bool, not int", 1, 1),
    ],
)
def test_compile_error_message_and_position(
    expression: str, fragment: str, line: int, column: int | None
) -> None:
    error = compile_error(expression)
    assert fragment in error.message
    assert error.line == line
    if column is not None:
        assert error.column == column
    assert str(error).startswith(f"{error.line}:{error.column}: ")


def test_pointer_shows_the_offending_column() -> None:
    expression = 'device.driver == "a" && devise.x'
    error = compile_error(expression)
    assert error.pointer(expression) == f"{expression}\n{' ' * 24}^"


def test_multiline_positions() -> None:
    expression = 'device.driver == "a" &&\n  device.nope == 1'
    error = compile_error(expression)
    assert (error.line, error.column) == (2, 10)


def test_length_limit_is_bytes_not_characters() -> None:
    padding = " " * (MAX_EXPRESSION_BYTES - len("true"))
    assert cel.compile("true" + padding).matches({})
    error = compile_error("true" + padding + " ")
    assert str(MAX_EXPRESSION_BYTES) in error.message
    # Multi-byte characters count by their UTF-8 size, as the API server measures.
    wide = '"' + "é" * (MAX_EXPRESSION_BYTES // 2) + '" == ""'
    assert "bytes" in compile_error(wide).message


def test_cost_limit_rejects_nested_macros_that_multiply() -> None:
    hundred = "[" + ", ".join(str(i) for i in range(100)) + "]"
    two_levels = f"{hundred}.all(x, {hundred}.all(y, x + y >= 0))"
    assert cel.compile(two_levels).cost < MAX_COST
    three_levels = f"{hundred}.all(x, {hundred}.all(y, {hundred}.all(z, x + y + z >= 0)))"
    error = compile_error(three_levels)
    assert "exceeds the limit 1000000" in error.message


def test_cost_bound_accounts_for_device_sizes() -> None:
    attributes = 'device.attributes["d"]'
    nested = (
        f"{attributes}.all(a, {attributes}.all(b, {attributes}.all(c, "
        f'{attributes}.all(e, a + b + c + e != ""))))'
    )
    # 32^4 iterations of a non-trivial body: over the limit by the DRA size bounds.
    assert "exceeds" in compile_error(nested).message
    simple = 'device.attributes["d"].exists(a, a.startsWith("x"))'
    assert 0 < cel.compile(simple).cost < 10_000


def test_selector_cost_is_reported_and_small_for_seed_selectors() -> None:
    selector = cel.compile(
        'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0'
    )
    assert 1 <= selector.cost < 100


def test_compile_remembers_only_in_the_callers_cache() -> None:
    cache = cel.SelectorCache()
    assert cel.compile('device.driver == "x"', cache) is cel.compile('device.driver == "x"', cache)
    assert cel.compile('device.driver == "x"') is not cel.compile('device.driver == "x"')
    # A rejection is remembered too, and raised again every time.
    for _ in range(2):
        with pytest.raises(cel.CompileError, match="undeclared"):
            cel.compile("nope == 1", cache)
    assert len(cache.compiled) == 2


def test_comprehension_variables_are_scoped() -> None:
    cel.compile("[1, 2].all(x, x > 0) && [3].exists(y, y == 3)")
    assert "undeclared reference to 'x'" in compile_error("[1].all(x, x > 0) && x > 0").message


def test_map_macro_result_is_typed() -> None:
    assert cel.compile('["a", "bb"].map(s, size(s)).all(n, n > 0)').matches({})
    assert "must be bool" in compile_error('["a"].map(s, s).all(n, n)').message


def test_supported_standard_and_string_functions_run() -> None:
    device = {"driver": "gpu.nvidia.com", "attributes": {"model": {"string": "  H100-SXM "}}}
    model = 'device.attributes["gpu.nvidia.com"].model'
    for expression in (
        f'{model}.trim() == "H100-SXM"',
        f'{model}.trim().upperAscii() == "H100-SXM"',
        f'{model}.indexOf("H") == 2',
        f'{model}.replace(" ", "") == "H100-SXM"',
        f'{model}.trim().substring(0, 4) == "H100"',
        f'{model}.trim().split("-") == ["H100", "SXM"]',
        '["a", "b"].join("-") == "a-b"',
        f'{model}.contains("100") && !{model}.endsWith("x")',
        'size(device.driver) == 14 && int("3") == 3 && double(1) == 1.0',
        "[1, 2, 3].filter(x, x > 1).size() == 2 && [1, 2].exists_one(x, x == 2)",
        '{"a": 1}["a"] == 1 && "a" in {"a": 1}',
    ):
        outcome = cel.compile(expression).evaluate(device)
        assert outcome == cel.Outcome(True), expression


def test_runtime_errors_are_outcomes_not_exceptions() -> None:
    for expression in (
        "1 / 0 == 1",
        "[1][5] == 1",
        'quantity("huge").isInteger()',
        'quantity("1.5").asInteger() == 1',
        'int("x") == 1',
    ):
        outcome = cel.compile(expression).evaluate({})
        assert not outcome.matched
        assert outcome.error, expression


def test_evaluation_counter_counts_memo_misses_only() -> None:
    cache = cel.SelectorCache()
    selector = cel.compile('device.driver == "counter-test"', cache)
    device = {"driver": "counter-test", "attributes": {"n": {"int": 1}}}
    assert selector.matches(device, cache)
    assert selector.matches(dict(device), cache)
    assert cache.evaluations == 1
    other = {"driver": "counter-test", "attributes": {"n": {"int": 2}}}
    assert selector.matches(other, cache)
    assert cache.evaluations == 2
    # Without a cache nothing is remembered, anywhere.
    assert selector.matches(other)
    assert cache.evaluations == 2
