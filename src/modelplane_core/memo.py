"""Bounded, thread-safe memo tables for the caches a caller owns.

The core keeps no state between calls of its own: whoever calls it (a
function server, a controller's watch cache, a simulation run, a notebook)
creates a :class:`modelplane_core.Cache` and passes it in, so what is
remembered, for how long and for whom is visible at the call site. These are
the tables such a cache is made of.

Both tables are bounded (a long-running server never grows without limit)
and safe to share between threads: a lookup is a single dict read, and two
threads computing the same entry at once store equal values, so only the
eviction takes a lock. Eviction clears the whole table: it keeps every
operation O(1) and costs only recomputation, never a wrong answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Final, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Obj = TypeVar("Obj")

DEFAULT_LIMIT: Final = 65536


class Memo(Generic[K, V]):
    """``memo.get(key, compute)``: ``compute()`` once per distinct content key."""

    __slots__ = ("_entries", "_limit", "_lock", "misses")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"a memo needs room for at least one entry, not {limit}")
        self._entries: dict[K, V] = {}
        self._limit = limit
        self._lock = threading.Lock()
        # Computations actually run: what benchmarks report as the real work done.
        self.misses = 0

    def get(self, key: K, compute: Callable[[], V]) -> V:
        try:
            return self._entries[key]
        except KeyError:
            pass
        value = compute()
        with self._lock:
            self.misses += 1
            if len(self._entries) >= self._limit:
                self._entries.clear()
            self._entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self._entries)


class ObjectMemo(Generic[Obj, V]):
    """``memo.get(obj, compute)``: ``compute(obj)`` once per object, for frozen objects.

    For results derived from a whole API object (its validation problems),
    where a content key would cost as much as the result. Callers that
    decode each object version once (the adapters' decode caches, the
    simulator's store) hand the very same object until it changes, so the
    object itself is the key. An entry holds its object, so an id is never
    reused while it is remembered.
    """

    __slots__ = ("_entries", "_limit", "_lock")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"a memo needs room for at least one entry, not {limit}")
        self._entries: dict[int, tuple[Obj, V]] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, obj: Obj, compute: Callable[[Obj], V]) -> V:
        found = self._entries.get(id(obj))
        if found is not None and found[0] is obj:
            return found[1]
        value = compute(obj)
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            self._entries[id(obj)] = (obj, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)
