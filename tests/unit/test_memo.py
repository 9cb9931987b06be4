"""The memo tables a caller's cache is made of: bounded, and never keeping objects alive."""

from __future__ import annotations

import gc

import pytest

from modelplane_core.api.meta import ObjectMeta
from modelplane_core.memo import Memo, ObjectMemo


def test_a_memo_computes_once_per_key_and_counts_what_it_computed() -> None:
    memo: Memo[str, int] = Memo(limit=10)
    calls: list[str] = []
    for key in ["a", "b", "a", "a", "b"]:
        assert memo.get(key, lambda key=key: calls.append(key) or len(key)) == 1
    assert calls == ["a", "b"]
    assert memo.misses == 2


def test_a_full_memo_starts_over_rather_than_grow() -> None:
    memo: Memo[int, int] = Memo(limit=3)
    for n in range(10):
        memo.get(n, lambda n=n: n)
    assert len(memo) <= 3


def test_an_object_memo_forgets_an_entry_when_its_object_is_gone() -> None:
    memo: ObjectMemo[ObjectMeta, str] = ObjectMemo()
    meta = ObjectMeta(name="a")
    assert memo.get(meta, lambda m: m.name or "") == "a"
    assert memo.get(meta, lambda m: "recomputed") == "a"  # the same object: remembered
    assert len(memo) == 1
    del meta
    gc.collect()
    assert len(memo) == 0  # nothing kept alive, nothing left behind


def test_an_equal_but_different_object_is_computed_for_itself() -> None:
    memo: ObjectMemo[ObjectMeta, int] = ObjectMemo()
    first, second = ObjectMeta(name="a"), ObjectMeta(name="a")
    assert memo.get(first, lambda _: 1) == 1
    assert memo.get(second, lambda _: 2) == 2


def test_objects_without_weak_references_are_held_within_the_limit() -> None:
    memo: ObjectMemo[tuple[int, ...], int] = ObjectMemo(limit=2)
    kept = [(n,) for n in range(5)]
    for item in kept:
        assert memo.get(item, lambda t: t[0]) == item[0]
    assert len(memo) <= 2


def test_a_memo_needs_room() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        Memo(limit=0)
