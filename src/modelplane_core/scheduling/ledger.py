"""Free nodes per pool across the fleet: the one place capacity is counted.

Capacity is counted in whole nodes: a pool publishes ``nodes``, and every
replica charges ``pods x copies`` nodes per member that claims a device. The
ledger starts from the published nodes minus every existing replica's stamped
cost, and a scheduling pass charges what it places and releases what it
drops, through :meth:`Ledger.charge` and :meth:`Ledger.release` only, so a
placement is counted exactly once.

Each cluster's free nodes are kept as one tuple in the cluster's pool order:
that tuple is what a fit is remembered on (two clusters with the same pools
and the same free nodes fit alike), and reading it is one lookup. A release
is recorded in :attr:`Ledger.grown`, in order: a cluster that could not take
a replica earlier in a pass can only take one after it has grown, so a pass
revisits just those clusters.

Clusters also belong to a *group* (those the scheduler cannot tell apart but
by name and free nodes: same filter profile, same pool set), and the ledger
counts the clusters in each (group, free nodes) *state*: explaining a short
deployment then costs one fit per state, not one per cluster.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

State = tuple[int, tuple[int, ...]]  # (group, free nodes per pool)


class Ledger:
    """Free nodes of every published pool; charges for pools not published cost nothing."""

    __slots__ = ("_free", "_groups", "_index", "grown", "population")

    def __init__(
        self,
        pools: Mapping[str, tuple[tuple[str, int], ...]],
        groups: Mapping[str, int] | None = None,
    ) -> None:
        """``pools``: each cluster's (pool name, published nodes), in the cluster's pool order.

        ``groups``: each cluster's group (default: all in group 0).
        """
        self._index: dict[str, dict[str, int]] = {
            cluster: {name: i for i, (name, _) in enumerate(published)}
            for cluster, published in pools.items()
        }
        self._free: dict[str, tuple[int, ...]] = {
            cluster: tuple(nodes for _, nodes in published) for cluster, published in pools.items()
        }
        self._groups: Mapping[str, int] = groups if groups is not None else dict.fromkeys(pools, 0)
        self.population: Counter[State] = Counter(
            (self._groups[cluster], free) for cluster, free in self._free.items()
        )
        self.grown: list[str] = []

    def copy(self) -> Ledger:
        """An independent ledger with the same free nodes (sharing the fixed pool index)."""
        twin = object.__new__(Ledger)
        twin._index = self._index
        twin._groups = self._groups
        twin._free = dict(self._free)
        twin.population = self.population.copy()
        twin.grown = []
        return twin

    def frozen(self) -> Mapping[str, tuple[int, ...]]:
        """Every cluster's free nodes now (a copy: what an explanation reads later)."""
        return dict(self._free)

    def free(self, cluster: str, pool: str) -> int:
        position = self._index.get(cluster, {}).get(pool)
        return 0 if position is None else self._free[cluster][position]

    def vector(self, cluster: str) -> tuple[int, ...]:
        """The cluster's free nodes per pool, in its pool order."""
        return self._free[cluster]

    def charge(self, cluster: str, charges: Iterable[tuple[str, int]]) -> None:
        """Take ``charges`` ((pool, nodes) pairs) from the cluster's free nodes."""
        self._add(cluster, charges, -1)

    def release(self, cluster: str, charges: Iterable[tuple[str, int]]) -> None:
        """Give ``charges`` back, and record that the cluster grew."""
        if self._add(cluster, charges, 1):
            self.grown.append(cluster)

    def _add(self, cluster: str, charges: Iterable[tuple[str, int]], sign: int) -> bool:
        index = self._index.get(cluster)
        if index is None:
            return False
        free = list(self._free[cluster])
        changed = False
        for pool, nodes in charges:
            position = index.get(pool)
            if position is not None and nodes:
                free[position] += sign * nodes
                changed = True
        if changed:
            group = self._groups[cluster]
            left = (group, self._free[cluster])
            if self.population[left] == 1:
                del self.population[left]  # only occupied states are listed
            else:
                self.population[left] -= 1
            self._free[cluster] = tuple(free)
            self.population[(group, self._free[cluster])] += 1
        return changed
