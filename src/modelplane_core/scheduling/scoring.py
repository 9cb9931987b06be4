"""The score phase: in which order a deployment's new replicas try the eligible clusters.

The rule is spread: the next replica goes to the eligible cluster hosting the
fewest of this deployment's replicas, ties broken by cluster name, so the
choice is deterministic whatever order the fleet was listed in. A cluster
that cannot take a replica is passed over; capacity only shrinks while one
deployment fills, so it is not tried again in that fill.

Clusters hosting none of the deployment's replicas come first, in name order.
Walking the whole eligible list for each deployment would make a pass
quadratic (every deployment re-checking the clusters filled before it), so a
pass keeps, per scheduling class (a cluster filter and the engines' content),
the eligible clusters that may still fit, in name order. A cluster found not
to fit leaves the list, and comes back only if the ledger records that it
grew (a release): fitting is monotone in free nodes, so nothing else can make
it fit again.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

T = TypeVar("T")


class Candidates:
    """One scheduling class's eligible clusters that may still fit, in name order."""

    __slots__ = ("_eligible", "_grown_seen", "_names", "_present")

    def __init__(self, eligible: tuple[str, ...], eligible_set: frozenset[str]) -> None:
        self._names = list(eligible)
        self._present = set(eligible)
        self._eligible = eligible_set
        self._grown_seen = 0

    def refresh(self, grown: list[str]) -> None:
        """Take back the eligible clusters that grew since the last look."""
        for name in grown[self._grown_seen :]:
            if name in self._eligible and name not in self._present:
                bisect.insort(self._names, name)
                self._present.add(name)
        self._grown_seen = len(grown)

    def fitting(self, skip: Mapping[str, int], fits: Callable[[str], T | None]) -> Iterator[T]:
        """``fits(name)`` for each cluster in name order that fits, dropping those that do not.

        Clusters in ``skip`` (those already hosting the deployment) are left in
        place untried: the second spread tier visits them.
        """
        index = 0
        while index < len(self._names):
            name = self._names[index]
            if skip.get(name):
                index += 1
                continue
            found = fits(name)
            if found is None:
                del self._names[index]
                self._present.discard(name)
                continue
            index += 1
            yield found


def by_load(load: Mapping[str, int], eligible: frozenset[str]) -> list[tuple[int, str]]:
    """The second tier: eligible clusters already hosting replicas, fewest first, as a heap."""
    heap = [(count, name) for name, count in load.items() if count and name in eligible]
    heapq.heapify(heap)
    return heap
