"""The runtime meter against the compile-time estimate, over generated selectors.

Kubernetes' estimate is a sound upper bound: an expression never costs more
when it runs than it was estimated to. Ours must keep that promise with the
meter that enforces the budget, or the budget would stop selectors that were
admitted, and the estimate would let through selectors that cannot run.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelplane_core import cel
from modelplane_core.cel.limits import MAX_COST

WORDS = st.sampled_from(["", "a", "ab", "gpu", "a-b-c", "xyz" * 4])
STRING_ATTRIBUTE = 'device.attributes["x.com"].s'
DEVICES = st.fixed_dictionaries(
    {
        "driver": st.just("x.com"),
        "attributes": st.fixed_dictionaries(
            {"s": st.fixed_dictionaries({"string": st.text("ab-", max_size=40)})}
        ),
    }
)


LEAVES = st.one_of(WORDS.map(lambda w: f'"{w}"'), st.just(STRING_ATTRIBUTE))


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One more level of string building around ``inner`` strings."""
    lists = st.one_of(
        st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        st.tuples(inner, WORDS).map(lambda p: f'{p[0]}.split("{p[1]}")'),
    )
    return st.one_of(
        st.tuples(inner, inner).map(lambda p: f"({p[0]} + {p[1]})"),
        st.tuples(inner, WORDS, inner).map(lambda p: f'{p[0]}.replace("{p[1]}", {p[2]})'),
        st.tuples(inner).map(lambda p: f"{p[0]}.upperAscii()"),
        st.tuples(lists, WORDS).map(lambda p: f'{p[0]}.join("{p[1]}")'),
    )


STRINGS = st.recursive(LEAVES, _grow, max_leaves=6)
STRING_LISTS = st.one_of(
    st.lists(STRINGS, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
    st.tuples(STRINGS, WORDS).map(lambda p: f'{p[0]}.split("{p[1]}")'),
)


def booleans() -> st.SearchStrategy[str]:
    text, lists = STRINGS, STRING_LISTS
    simple = st.one_of(
        st.tuples(text).map(lambda p: f"size({p[0]}) >= 0"),
        st.tuples(text, WORDS).map(lambda p: f'{p[0]}.contains("{p[1]}")'),
        st.tuples(lists, text).map(lambda p: f"{p[0]}.exists(v, v == {p[1]})"),
        st.tuples(lists, lists).map(lambda p: f"{p[0]}.all(v, {p[1]}.all(w, v != w || true))"),
        st.tuples(lists).map(lambda p: f"{p[0]}.map(v, v + v).size() >= 0"),
    )
    return st.one_of(
        simple,
        st.tuples(simple, simple).map(lambda p: f"({p[0]} && {p[1]})"),
        st.tuples(simple, simple).map(lambda p: f"(!{p[0]} || {p[1]})"),
    )


@settings(max_examples=200, deadline=None)
@given(booleans(), DEVICES)
def test_what_an_evaluation_spends_never_exceeds_its_estimate(
    expression: str, device: dict[str, Any]
) -> None:
    try:
        selector = cel.compile(expression)
    except cel.CompileError:
        return  # refused when written (over the estimate): it never runs
    outcome, spent = selector.actual_cost(device)
    assert spent <= selector.cost <= MAX_COST, (expression, spent, selector.cost, outcome)
    assert outcome.error != "operation cancelled: actual cost limit exceeded"
