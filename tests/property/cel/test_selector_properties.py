"""Selectors never raise into the scheduler, whatever the device or the expression text."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from modelplane_core import cel

NAMES = st.sampled_from(
    ["memory", "architecture", "cc", "gpu.nvidia.com/memory", "a/b/c", "x", "count"]
)
ATTRIBUTE_VALUES = st.one_of(
    st.builds(lambda v: {"string": v}, st.text(max_size=20)),
    st.builds(lambda v: {"bool": v}, st.booleans()),
    st.builds(lambda v: {"int": v}, st.integers(-(2**63), 2**63 - 1)),
    st.builds(lambda v: {"version": v}, st.sampled_from(["9.0.0", "1.2.3-rc.1", "9.0", "v1", ""])),
    st.just({}),
    st.builds(lambda v: {"string": "a", "int": v}, st.integers()),
    st.builds(lambda v: {"string": v}, st.integers()),  # wrong scalar type
    st.none(),
)
CAPACITY_VALUES = st.one_of(
    st.builds(lambda v: {"value": v}, st.sampled_from(["40Gi", "80Gi", "1", "10Mo", "", "1e3"])),
    st.builds(lambda v: {"value": v}, st.text(max_size=8)),
    st.just({}),
    st.none(),
)
DEVICES = st.fixed_dictionaries(
    {},
    optional={
        "driver": st.one_of(st.sampled_from(["gpu.nvidia.com", "nic.nvidia.com", ""]), st.none()),
        "attributes": st.dictionaries(NAMES, ATTRIBUTE_VALUES, max_size=6),
        "capacity": st.dictionaries(NAMES, CAPACITY_VALUES, max_size=4),
    },
)

A = 'device.attributes["gpu.nvidia.com"]'
C = 'device.capacity["gpu.nvidia.com"]'
SELECTORS = [
    cel.compile(e)
    for e in (
        f'{C}.memory.compareTo(quantity("40Gi")) >= 0',
        f'{A}.architecture == "Hopper"',
        f'{A}.cc.isGreaterThan(semver("8.9.0"))',
        f"{A}.x",
        f"{A}.count > 2 || {A}.x == true",
        '"gpu.nvidia.com" in device.attributes && size(device.capacity) > 0',
        f'{A}.exists(k, k.startsWith("a"))',
        f"{C}.memory.asInteger() > 0 && {C}.memory.add(1).isInteger()",
        'device.attributes["a"]["b/c"] == "x"',
    )
]


@given(DEVICES)
def test_evaluation_never_raises_and_errors_are_non_matches(device: dict[str, Any]) -> None:
    for selector in SELECTORS:
        outcome = selector.evaluate(device)
        assert isinstance(outcome.matched, bool)
        if outcome.error is not None:
            assert not outcome.matched
            assert outcome.error.strip()


@given(DEVICES)
def test_outcome_depends_only_on_device_content(device: dict[str, Any]) -> None:
    rebuilt = dict(reversed(list(device.items())))
    for selector in SELECTORS:
        assert selector.evaluate(device) == selector.evaluate(rebuilt)


FRAGMENTS = st.sampled_from(
    [
        "device", ".driver", ".attributes", '["gpu.nvidia.com"]', ".x", "==", "&&", "||", "!",
        "(", ")", "1", '"a"', "quantity(", 'semver("1.0.0")', ".compareTo(", ">=", "in", "[",
        "]", ",", ".all(", "v", "has(", "?", ":", "true", "null", "{", "}", "-", "+", "1.5",
        "size(", ".exists(", "cel.bind(", "'s'", "\n", " ",
    ]
)  # fmt: skip


@given(st.lists(FRAGMENTS, max_size=14).map("".join) | st.text(max_size=40))
def test_compile_raises_only_compile_error(expression: str) -> None:
    try:
        selector = cel.compile(expression)
    except cel.CompileError as error:
        problem = error.message
    else:
        problem = None
    if problem is not None:
        assert problem.strip()
        return
    outcome = selector.evaluate({"driver": "gpu.nvidia.com", "attributes": {"x": {"int": 1}}})
    assert isinstance(outcome.matched, bool)
