"""Results remembered per object identity, for the core's immutable inputs.

API objects are frozen, so anything computed from one (its validation, the
scheduler's view of a cluster) stays right for as long as that very object
lives. A control plane holding a fleet hands the same objects to composer
after composer; remembering by identity turns repeated work into a lookup.
Entries keep their object alive (so an id is never reused while remembered)
and the memo is bounded, so a long-running process never grows without limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

DEFAULT_LIMIT: Final = 16384


class IdentityMemo(Generic[K, V]):
    """``memo(obj, compute)``: ``compute(obj)`` once per distinct object, not per value."""

    __slots__ = ("_entries", "_limit")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._entries: dict[int, tuple[K, V]] = {}
        self._limit = limit

    def __call__(self, obj: K, compute: Callable[[K], V]) -> V:
        found = self._entries.get(id(obj))
        if found is not None and found[0] is obj:
            return found[1]
        value = compute(obj)
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[id(obj)] = (obj, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)
