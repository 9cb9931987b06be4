"""Choosing pools for a replica's engines on one cluster, exactly.

Engines of a replica share their cluster but may use different pools, and
engines on the same pool share its free nodes. Taking the first pool that fits
each engine in turn can wrongly reject a replica (engine one takes the only
pool engine two fits). This searches every combination — at most 8 engines
over at most 8 pools — and returns the first fit in a fixed order (engines in
spec order, pools by name), so the choice is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from modelplane_core.scheduling.matching import PoolOption


def assign_pools(
    options: Sequence[Sequence[PoolOption]], free: Mapping[str, int]
) -> tuple[PoolOption, ...] | None:
    """One option per engine whose costs fit ``free`` nodes per pool, or None."""
    chosen: list[PoolOption] = []
    used: dict[str, int] = {}
    dead_ends: set[tuple[int, tuple[tuple[str, int], ...]]] = set()

    def search(position: int) -> bool:
        if position == len(options):
            return True
        state = (position, tuple(sorted(used.items())))
        if state in dead_ends:
            return False
        for option in options[position]:
            total = used.get(option.pool, 0) + option.cost
            if total > free.get(option.pool, 0):
                continue
            used[option.pool] = total
            chosen.append(option)
            if search(position + 1):
                return True
            chosen.pop()
            used[option.pool] = total - option.cost
        dead_ends.add(state)
        return False

    return tuple(chosen) if search(0) else None


def shortage(
    options: Sequence[Sequence[PoolOption]], free: Mapping[str, int], names: Sequence[str]
) -> str:
    """Explain why no combination fits, in the words of node counts."""
    if len(options) == 1:
        parts = [
            f"{o.pool} (need {o.cost}, free {max(free.get(o.pool, 0), 0)})" for o in options[0]
        ]
        noun = "pool" if len(parts) == 1 else "pools"
        return f"insufficient nodes in {noun} " + ", ".join(parts)
    needs = "; ".join(
        f'engine "{name}" needs ' + " or ".join(f"{o.cost} on {o.pool}" for o in engine_options)
        for name, engine_options in zip(names, options, strict=True)
    )
    pools = sorted({o.pool for engine_options in options for o in engine_options})
    frees = ", ".join(f"{p} {max(free.get(p, 0), 0)}" for p in pools)
    return f"insufficient nodes for all engines together ({needs}; free: {frees})"
