"""What scheduling may remember between calls: kube-scheduler's cache, owned by the caller.

Three kinds of memory make a fleet cheap to schedule, all keyed by content
so they stay right whatever changes: CEL outcomes per (selector, device);
per-pool matching decisions per (member requests, pool devices) and per
(engine, pool set); and fits per (engines, pool set, free nodes), so
clusters built from the same classes with the same free nodes are solved
once. Plus :class:`~.snapshot.FleetCache`, the fleet's views kept up to date
by diffing each new list of objects against the last.

Whoever calls the scheduler owns one of these: a function server per
process, a controller per watch cache, a simulation per run. Every table is
bounded and safe to share between threads.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from modelplane_core.cel import SelectorCache
from modelplane_core.memo import DEFAULT_LIMIT, Memo
from modelplane_core.scheduling.snapshot import FleetCache

if TYPE_CHECKING:
    from modelplane_core.scheduling.fitting import Fit
    from modelplane_core.scheduling.matching import EngineOptions, MemberFit


class SchedulerCache:
    """Content-keyed memos for scheduling, and the incrementally maintained fleet."""

    __slots__ = ("engine_options", "fits", "fleet", "member_fits", "selectors")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.selectors = SelectorCache(limit)
        self.member_fits: Memo[tuple[Hashable, Hashable], MemberFit] = Memo(limit)
        self.engine_options: Memo[tuple[Hashable, Hashable], EngineOptions] = Memo(limit)
        self.fits: Memo[tuple[Hashable, Hashable, tuple[int, ...]], Fit] = Memo(limit)
        self.fleet = FleetCache()

    @property
    def cel_evaluations(self) -> int:
        """Selector evaluations actually run through this cache."""
        return self.selectors.evaluations
