"""The runtime cost budget: an evaluation stops when it has spent Kubernetes' limit.

The compile-time estimate bounds the worst case, but it is an estimate; the
budget enforced while evaluating is what guarantees that no selector runs
for minutes or builds gigabytes on one device (Kubernetes enforces it in
the DRA scheduler for the same reason).
"""

from __future__ import annotations

import tracemalloc

import pytest

from modelplane_core import cel
from modelplane_core.cel.limits import MAX_COST
from modelplane_core.cel.meter import CostLimitExceeded, Meter

STOPPED = "operation cancelled: actual cost limit exceeded"
DEVICE = {"driver": "x.com", "attributes": {"s": {"string": "a" * 253}}}


def test_an_evaluation_over_its_budget_is_a_non_match_with_cel_gos_words() -> None:
    selector = cel.compile("[1, 2, 3, 4, 5, 6, 7, 8].all(a, [1, 2, 3, 4].all(b, a + b > 0))")
    outcome, spent = selector.actual_cost({}, limit=MAX_COST)
    assert outcome == cel.Outcome(True)
    assert 0 < spent <= selector.cost
    stopped, spent_when_stopped = selector.actual_cost({}, limit=spent - 1)
    assert stopped == cel.Outcome(False, STOPPED)
    assert spent_when_stopped == spent  # stopped on the unit that went over, not later


def test_the_budget_is_kubernetes_runtime_limit() -> None:
    assert MAX_COST == 1_000_000
    meter = Meter()
    meter.charge(MAX_COST)  # exactly the limit is allowed
    with pytest.raises(CostLimitExceeded):
        meter.charge(1)


def test_a_string_over_budget_is_refused_before_it_is_built() -> None:
    # 253 characters with 8,000 inserted around each: a 2 MB string if built.
    insert = "b" * 8000
    selector = cel.compile(f'device.attributes["x.com"].s.replace("", "{insert}").size() > 0')
    assert selector.cost <= MAX_COST  # the estimate admits it ...
    tracemalloc.start()
    try:
        outcome, _ = selector.actual_cost(DEVICE, limit=10_000)  # ... a smaller budget does not
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome == cel.Outcome(False, STOPPED)
    assert peak < 500_000  # the 2 MB result was never allocated


def test_within_budget_the_same_string_is_built_and_charged_for() -> None:
    insert = "b" * 8000
    selector = cel.compile(f'device.attributes["x.com"].s.replace("", "{insert}").size() > 0')
    outcome, spent = selector.actual_cost(DEVICE)
    assert outcome == cel.Outcome(True)
    assert spent >= (253 + 254 * 8000) // 10  # a tenth of a unit per character built


@pytest.mark.parametrize(
    "expression",
    [
        # Chained replace doubling a string: each step's result feeds the next.
        '"ab"' + '.replace("", "ab")' * 9 + ".size() > 0",
        # split("") then join on a long separator, twice.
        '"' + "a" * 100 + '".split("").join("' + "a" * 100 + '").split("").join("x").size() > 0',
        # A device string with itself inserted around every character, twice.
        'device.attributes["x.com"].s.replace("", device.attributes["x.com"].s)'
        '.replace("", device.attributes["x.com"].s).size() > 0',
    ],
    ids=["chained-replace", "split-join", "self-insertion"],
)
def test_the_estimate_counts_string_growth(expression: str) -> None:
    """Selectors that build strings fast are refused when written, as their cost grows."""
    with pytest.raises(cel.CompileError, match="estimated worst-case cost"):
        cel.compile(expression)


def test_a_selector_near_the_limit_compiles_and_a_larger_one_does_not() -> None:
    ten = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"
    three = f"{ten}.all(a, {ten}.all(b, {ten}.all(c, a + b + c > 0)))"
    assert cel.compile(three).cost < MAX_COST
    six = "a > f"
    for variable in "fedcba":
        six = f"{ten}.all({variable}, {six})"
    with pytest.raises(cel.CompileError, match="estimated worst-case cost"):
        cel.compile(six)
