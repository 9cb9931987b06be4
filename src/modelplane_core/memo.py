"""Bounded, thread-safe memo tables for the caches a caller owns.

The core keeps no state between calls of its own: whoever calls it (a
function server, a controller's watch cache, a simulation run, a notebook)
creates a :class:`modelplane_core.Cache` and passes it in, so what is
remembered, for how long and for whom is visible at the call site. These are
the tables such a cache is made of.

Both tables are bounded (a long-running server never grows without limit)
and safe to share between threads: a lookup is a single dict read, and two
threads computing the same entry at once store equal values, so only writes
take a lock. Eviction clears the whole table: it keeps every operation O(1)
and costs only recomputation, never a wrong answer.
"""

from __future__ import annotations

import threading
import weakref
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

    For results derived from a whole API object (its validation problems, the
    scheduler's view of it), where a content key would cost as much as the
    result. Callers that decode each object version once (the adapters'
    decoders, the reconcile engine) hand the very same object until it
    changes, so the object itself is the key. Entries are held weakly: one
    lives exactly as long as its object, so remembering never keeps an object
    alive (a caller decoding afresh on every call leaves nothing behind), and
    an id is never confused with a later object's. Objects that cannot be
    weakly referenced are held strongly, within the limit.
    """

    __slots__ = ("_entries", "_limit", "_lock")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"a memo needs room for at least one entry, not {limit}")
        self._entries: dict[int, tuple[Callable[[], object], V]] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, obj: Obj, compute: Callable[[Obj], V]) -> V:
        key = id(obj)
        found = self._entries.get(key)
        if found is not None and found[0]() is obj:
            return found[1]
        value = compute(obj)
        try:
            ref: Callable[[], object] = weakref.ref(obj, self._forget(key))
        except TypeError:  # not weakly referenceable: hold it (bounded below)
            ref = _Strong(obj)
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            self._entries[key] = (ref, value)
        return value

    def _forget(self, key: int) -> Callable[[object], None]:
        def forget(dead: object) -> None:
            with self._lock:
                found = self._entries.get(key)
                if found is not None and found[0] is dead:
                    del self._entries[key]

        return forget

    def __len__(self) -> int:
        return len(self._entries)


class _Strong:
    """A reference that is always alive, for objects weakref cannot point at."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __call__(self) -> object:
        return self.obj
