"""Arbitrarily deep selectors: a CompileError or a Selector that evaluates, nothing else.

Each example wraps a leaf in up to 400 random layers (parentheses, ``!``,
unary minus, ``&&``/``||``, member calls, indexes, lists, calls, macros,
ternaries, arithmetic), which crosses Kubernetes' nesting limit of 250 in
every way it can be crossed, and stays far below it just as often.
"""

from __future__ import annotations

import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelplane_core import cel

LEAVES = [
    "true",
    "false",
    "1",
    '"a"',
    "device.driver",
    'device.attributes["gpu.nvidia.com"].x',
    'device.attributes["gpu.nvidia.com"].nope',
    'device.capacity["gpu.nvidia.com"].memory',
]
# Layers that keep a bool a bool: chains of them type-check, so celpy evaluates the whole tower.
BOOL_LAYERS = [
    "({})",
    "!{}",
    "!({})",
    "{} && true",
    "false || ({})",
    "true && !({})",
    "[{}][0]",
    '{{"k": {}}}["k"]',
    "[1].exists(v, {})",
    "[{}].all(v, v)",
    "true ? ({}) : false",
    "false ? true : {}",
    "({}) ? true : false",
    "({}) == true",
    "[{}] != []",
]
LAYERS = [
    *BOOL_LAYERS,
    "!{}",
    "!({})",
    "-{}",
    "-({})",
    "{} && true",
    "false || ({})",
    "({}) || device.driver == 'x'",
    "true && !({})",
    "({}).size()",
    "({}).lowerAscii()",
    'quantity("1").compareTo({})',
    "[{}][0]",
    '{{"k": {}}}["k"]',
    "({})[0]",
    '({})["k"]',
    "({}).x",
    "[{}]",
    "size({})",
    "int({})",
    "[1].exists(v, {})",
    "[1].all(v, v > 0 && ({}))",
    "true ? ({}) : false",
    "({}) ? true : false",
    "1 + ({})",
    "({}) * 2 > 0",
    "({}) == true",
    "1 < ({})",
]
DEVICES = [
    {},
    {
        "driver": "gpu.nvidia.com",
        "attributes": {"x": {"int": 1}},
        "capacity": {"memory": {"value": "80Gi"}},
    },
    {"driver": "gpu.nvidia.com", "attributes": {"x": {"bool": True}}},
]


def build(leaf: str, layers: list[str]) -> str:
    expression = leaf
    for layer in layers:
        expression = layer.format(expression)
    return expression


def towers(leaves: list[str], layers: list[str]) -> st.SearchStrategy[str]:
    # The count is drawn first so that deep towers are as likely as shallow ones.
    return st.integers(0, 400).flatmap(
        lambda count: st.builds(
            build,
            st.sampled_from(leaves),
            st.lists(st.sampled_from(layers), min_size=count, max_size=count),
        )
    )


EXPRESSIONS = towers(LEAVES, LAYERS) | towers(
    ["true", "false", 'device.attributes["gpu.nvidia.com"].x'], BOOL_LAYERS
)


def outcome_or_error(expression: str) -> list[cel.Outcome] | cel.CompileError:
    try:
        selector = cel.compile(expression)
    except cel.CompileError as error:
        return error
    return [selector.evaluate(device) for device in DEVICES]


@settings(max_examples=30)
@given(EXPRESSIONS)
def test_deep_selectors_compile_or_are_refused_and_never_crash(expression: str) -> None:
    limit = sys.getrecursionlimit()
    result = outcome_or_error(expression)
    assert sys.getrecursionlimit() == limit
    if isinstance(result, cel.CompileError):
        assert result.message.strip()
        if "recursion" in result.message:
            assert "250" in result.message
        return
    for outcome in result:
        assert isinstance(outcome.matched, bool)
        assert outcome.error is None or not outcome.matched


@settings(max_examples=30)
@given(EXPRESSIONS)
def test_parentheses_change_nothing_but_the_depth(expression: str) -> None:
    inner = outcome_or_error(expression)
    outer: Any = outcome_or_error(f"({expression})")
    if isinstance(inner, cel.CompileError):
        # One more level cannot make a refused selector acceptable.
        assert isinstance(outer, cel.CompileError)
        return
    if isinstance(outer, cel.CompileError):
        assert outer.message.startswith("expression recursion limit exceeded: 250")
        return
    assert outer == inner
