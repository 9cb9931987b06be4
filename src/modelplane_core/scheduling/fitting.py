"""The fit phase: one replica's engines on one cluster's pools as free now, or why not.

Engines of a replica share one cluster but may use different pools; each
engine's candidate pools come from the matcher (``matching.py``) and the
combination that fits the free nodes from an exact search
(``assignment.py``). The answer depends only on the engines, the cluster's
pool set and its free nodes, so it is remembered on exactly that: clusters
built from the same classes with the same free nodes are solved once, in a
pass and across passes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING

from modelplane_core.scheduling.assignment import assign_pools, shortage
from modelplane_core.scheduling.matching import MemberFit, engine_options
from modelplane_core.scheduling.outcome import EnginePlacement, MemberPlacement, ReasonTemplate
from modelplane_core.scheduling.requirements import EngineRequirement
from modelplane_core.scheduling.views import ClusterView

if TYPE_CHECKING:
    from modelplane_core.scheduling.cache import SchedulerCache

# A fit: every engine placed on a pool, or why the replica does not fit such a cluster.
Fit = tuple[EnginePlacement, ...] | ReasonTemplate


def engines_key(engines: tuple[EngineRequirement, ...]) -> Hashable:
    """Engine names and requirement signatures: the part of a fit the replica decides."""
    return tuple((e.name, e.signature) for e in engines)


def fit(
    engines: tuple[EngineRequirement, ...],
    key: Hashable,
    cluster: ClusterView,
    free: tuple[int, ...],
    cache: SchedulerCache,
) -> Fit:
    """``engines`` (whose :func:`engines_key` is ``key``) on ``cluster`` with ``free`` nodes."""
    return cache.fits.get(
        (key, cluster.pool_set, free), lambda: _solve(engines, cluster, free, cache)
    )


def _solve(
    engines: tuple[EngineRequirement, ...],
    cluster: ClusterView,
    free: tuple[int, ...],
    cache: SchedulerCache,
) -> Fit:
    per_engine = []
    for engine in engines:
        found = engine_options(engine, cluster.pools, cache, cluster.pool_set)
        if not found.options:
            why = (
                "; ".join(f"pool {p}: {r}" for p, r in found.rejected)
                or "the cluster publishes no pools"
            )
            return ReasonTemplate(
                code="NoPool",
                summary=f'no pool satisfies engine "{engine.name}"',
                before="no pool of cluster ",
                after=f' satisfies engine "{engine.name}": {why}',
            )
        per_engine.append(found.options)
    by_pool = dict(zip((p.name for p in cluster.pools), free, strict=True))
    chosen = assign_pools(per_engine, by_pool)
    if chosen is None:
        text = shortage(per_engine, by_pool, [e.name for e in engines])
        return ReasonTemplate(
            code="InsufficientNodes", summary=text, before="cluster ", after=f": {text}"
        )
    return tuple(
        engine_placement(engine, option.pool, option.fit.members)
        for engine, option in zip(engines, chosen, strict=True)
    )


def engine_placement(
    engine: EngineRequirement, pool: str, fits: Iterable[MemberFit]
) -> EnginePlacement:
    """An engine pinned to ``pool``: what each member claims and the nodes it is charged."""
    members = []
    for member, member_fit in zip(engine.members, fits, strict=True):
        claims = member_fit.claims
        members.append(
            MemberPlacement(
                role=member.role,
                pool=pool,
                device_requests=claims,
                nodes=member.pods * engine.copies if claims else 0,
            )
        )
    return EnginePlacement(name=engine.name, members=tuple(members))
