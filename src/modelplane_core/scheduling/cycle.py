"""One scheduling cycle: a deployment's replicas retained, scaled down and filled.

The order is kube-scheduler's, lifted to replicas on clusters:

1. *retain*: every existing replica that still fits where it runs is kept on
   its cluster, index and pools (a running replica never moves); one whose
   placement cannot be re-checked because a selector fails at run time is
   kept exactly as it runs (``Placement.held``), never dropped for it;
2. *scale down* surplus replicas, most loaded cluster first;
3. *fill* the shortfall: **filter** the clusters (``filtering.py``), take them
   in **score** order (``scoring.py``), **fit** the engines onto the pools as
   free now (``fitting.py``) and **reserve** the nodes in the pass's ledger.

Every placement is charged to the ledger exactly once, when it is reserved,
and everything dropped is released, so deployments scheduled one after
another in a pass see each other exactly.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import attrs

from modelplane_core.api.meta import Toleration
from modelplane_core.api.model_deployment import ModelDeployment
from modelplane_core.scheduling.filtering import (
    CacheFootprint,
    Eligibility,
    filter_clusters,
    untolerated,
)
from modelplane_core.scheduling.fitting import engine_placement, engines_key, fit
from modelplane_core.scheduling.matching import engine_fit
from modelplane_core.scheduling.outcome import (
    DropCode,
    Dropped,
    EnginePlacement,
    Explanation,
    MemberPlacement,
    Placement,
    ReasonTemplate,
    Schedule,
)
from modelplane_core.scheduling.requirements import EngineRequirement
from modelplane_core.scheduling.scoring import by_load
from modelplane_core.scheduling.views import ClusterView, ReplicaView

if TYPE_CHECKING:
    from modelplane_core.scheduling.fleet import FleetPass


class Cycle:
    """One deployment's decision within a :class:`~.fleet.FleetPass`."""

    def __init__(
        self,
        fleet: FleetPass,
        deployment: ModelDeployment,
        engines: tuple[EngineRequirement, ...],
        cache: CacheFootprint | None,
    ) -> None:
        self.fleet = fleet
        self.deployment = deployment
        self.engines = engines
        self.engines_key = engines_key(engines)
        # This pass's fits for these engines, by (pool-set id, free nodes): int-keyed lookups.
        self._fits = fleet.fits_for(self.engines_key)
        self.cache = cache
        spec = deployment.spec
        self.tolerations: tuple[Toleration, ...] = spec.tolerations or ()
        self.selector: Mapping[str, str] = (
            spec.cluster_selector.match_labels or {} if spec.cluster_selector else {}
        )
        self.placements: dict[tuple[str, int], Placement] = {}
        self.dropped: list[Dropped] = []
        self.needs_fleet = False

    def run(self, own: Iterable[ReplicaView]) -> Schedule:
        self._retain(own)
        self._scale_down()
        held = self._held_reason()
        explanation = Explanation()
        if held is None and len(self.placements) < self.deployment.spec.replicas:
            if self.fleet.complete:
                explanation = self._fill()
            else:
                self.needs_fleet = True  # free capacity is unknown without the fleet
        meta = self.deployment.metadata
        return Schedule(
            deployment=f"{meta.namespace or 'default'}/{meta.name or ''}",
            wanted=self.deployment.spec.replicas,
            placements=tuple(self.placements[k] for k in sorted(self.placements)),
            dropped=tuple(self.dropped),
            explanation=explanation,
            clusters_considered=len(self.fleet.snapshot.clusters),
            held=held,
            needs_fleet=self.needs_fleet,
        )

    # -- reserve -------------------------------------------------------------------------

    def _reserve(self, placement: Placement) -> None:
        self.placements[(placement.cluster, placement.index)] = placement
        self.fleet.ledger.charge(placement.cluster, placement.charges().items())

    def _unreserve(self, placement: Placement) -> None:
        del self.placements[(placement.cluster, placement.index)]
        self.fleet.ledger.release(placement.cluster, placement.charges().items())

    # -- retain --------------------------------------------------------------------------

    def _drop(self, view: ReplicaView, code: DropCode, message: str) -> None:
        self.dropped.append(
            Dropped(
                replica_name=view.name,
                cluster=view.cluster,
                index=view.index,
                code=code,
                message=message,
            )
        )

    def _retain(self, own: Iterable[ReplicaView]) -> None:
        shape = tuple(e.shape() for e in self.engines)
        keep: list[tuple[ReplicaView, Placement]] = []
        taken: set[tuple[str, int]] = set()
        for view in own:
            cluster = self.fleet.snapshot.clusters.get(view.cluster)
            if cluster is None:
                self._drop(view, "ClusterGone", f"cluster {view.cluster!r} no longer exists")
                continue
            if view.index is None:
                self._drop(
                    view, "MalformedIdentity", "the replica-index label is missing or malformed"
                )
                continue
            drain = untolerated(cluster.taints, self.tolerations, ("NoExecute",))
            if drain is not None:
                self._drop(
                    view, "Drained", f"cluster {cluster.name!r} has untolerated taint {drain}"
                )
                continue
            if (view.cluster, view.index) in taken:
                self._drop(
                    view, "Duplicate", f"another replica already holds {view.cluster}/{view.index}"
                )
                continue
            if view.shape != shape:
                self._drop(view, "ShapeChanged", "the deployment's engine or member shape changed")
                continue
            placement = self._re_resolve(view, cluster)
            if not isinstance(placement, Placement):
                code, message = placement
                self._drop(view, code, message)
                continue
            taken.add((view.cluster, view.index))
            keep.append((view, placement))
        # A retained replica's pods keep running whatever the ledger says, so its cost is
        # charged unconditionally; only growth (copies or worker.nodes raised) must fit.
        growing = []
        for view, placement in keep:
            old = _sum_by_pool(view.charges)
            if all(nodes <= old.get(pool, 0) for pool, nodes in placement.charges().items()):
                self._reserve(placement)
            else:
                growing.append((view, placement))
        if growing and not self.fleet.complete:
            # Whether a grown replica fits depends on free capacity: keep it as it was
            # stamped until the whole fleet is seen.
            self.needs_fleet = True
            for view, _placement in growing:
                self._reserve(_as_stamped(view, held=None))
            return
        ledger = self.fleet.ledger
        for view, placement in sorted(growing, key=lambda vp: (vp[1].cluster, vp[1].index)):
            too_big = [
                (pool, nodes, ledger.free(placement.cluster, pool))
                for pool, nodes in placement.charges().items()
                if nodes > ledger.free(placement.cluster, pool)
            ]
            if too_big:
                pool, nodes, free = too_big[0]
                self._drop(
                    view,
                    "GrownShapeDoesNotFit",
                    f"the edited shape needs {nodes} nodes on pool {pool!r}, which has {free} free",
                )
            else:
                self._reserve(placement)

    def _re_resolve(
        self, view: ReplicaView, cluster: ClusterView
    ) -> Placement | tuple[DropCode, str]:
        """The replica re-stamped for the current spec on its pinned pools, or why not."""
        assert view.index is not None
        engines = []
        for engine, stamped in zip(self.engines, view.engines, strict=True):
            pools = {member.pool for member in stamped.members}
            if len(pools) != 1:
                return (
                    "PoolMismatch",
                    f"the members of engine {engine.name!r} are on different pools",
                )
            (pool_name,) = pools
            pool = cluster.pool(pool_name)
            if pool is None:
                return "PoolGone", f"pool {pool_name!r} is no longer published by {cluster.name!r}"
            fitted = engine_fit(engine, pool, self.fleet.cache)
            if fitted.errored:
                # A selector that cannot be evaluated says nothing about the pool: keep the
                # replica exactly as it runs and say why, rather than move it.
                return _as_stamped(
                    view,
                    held=(
                        f"replica {view.name} is kept as it runs: engine {engine.name!r} cannot "
                        f"be re-checked on pool {pool_name!r}: {fitted.reason}"
                    ),
                )
            if not fitted.ok:
                return (
                    "PoolMismatch",
                    f"pool {pool_name!r} no longer satisfies engine {engine.name!r}: "
                    f"{fitted.reason}",
                )
            engines.append(engine_placement(engine, pool_name, fitted.members))
        return Placement(
            cluster=cluster.name, index=view.index, engines=tuple(engines), replica_name=view.name
        )

    # -- scale down ----------------------------------------------------------------------

    def _scale_down(self) -> None:
        excess = len(self.placements) - self.deployment.spec.replicas
        for _ in range(max(excess, 0)):
            load: dict[str, int] = defaultdict(int)
            for cluster_name, _index in self.placements:
                load[cluster_name] += 1
            # Most loaded first; among equals a degraded cluster, then the last by name.
            clusters = self.fleet.snapshot.clusters
            cluster = max(
                load, key=lambda name: (load[name], not self._healthy(clusters[name]), name)
            )
            index = max(i for c, i in self.placements if c == cluster)
            placement = self.placements[(cluster, index)]
            self._unreserve(placement)
            self.dropped.append(
                Dropped(
                    replica_name=placement.replica_name or "",
                    cluster=cluster,
                    index=index,
                    code="ScaledDown",
                    message=f"scaled down to {self.deployment.spec.replicas} replicas",
                )
            )

    def _healthy(self, cluster: ClusterView) -> bool:
        return (
            cluster.serving
            and untolerated(cluster.taints, self.tolerations, ("NoSchedule", "NoExecute")) is None
        )

    # -- fill: filter, score, fit, reserve -------------------------------------------------

    def _held_reason(self) -> str | None:
        if self.cache is None:
            return None
        if self.cache.state == "Unknown":
            return f"waiting for ModelCache {self.cache.name!r}"
        if self.cache.state == "Absent":
            return f"ModelCache {self.cache.name!r} not found"
        return None

    def _fit(self, name: str) -> tuple[EnginePlacement, ...] | ReasonTemplate:
        return self._fit_state(
            self.fleet.snapshot.pool_set_ids[name], self.fleet.ledger.vector(name), name
        )

    def _fit_state(
        self, pool_set: int, free: tuple[int, ...], name: str
    ) -> tuple[EnginePlacement, ...] | ReasonTemplate:
        """The fit on any cluster with this pool set and these free nodes (``name`` is one)."""
        key = (pool_set, free)
        found = self._fits.get(key)
        if found is None:
            cluster = self.fleet.snapshot.clusters[name]
            found = fit(self.engines, self.engines_key, cluster, free, self.fleet.cache)
            self._fits[key] = found
        return found

    def _fill(self) -> Explanation:
        wanted = self.deployment.spec.replicas
        if len(self.placements) >= wanted:
            return Explanation()
        filtered = filter_clusters(self.fleet.snapshot, self.selector, self.cache, self.tolerations)
        load = Counter(cluster for cluster, _index in self.placements)

        def place(name: str, engines: tuple[EnginePlacement, ...]) -> None:
            index = _lowest_free_index({i for c, i in self.placements if c == name})
            placement = Placement(cluster=name, index=index, engines=engines)
            scale_up = self._scale_up(placement)
            if scale_up:
                placement = attrs.evolve(placement, scale_up=scale_up)
            self._reserve(placement)
            load[name] += 1

        # Tier one: clusters without a replica of this deployment, in name order.
        candidates = self.fleet.candidates((filtered.pattern, self.engines_key), filtered)
        for name, engines in candidates.fitting(load, self._fits_or_none):
            place(name, engines)
            if len(self.placements) >= wanted:
                return Explanation()
        # Then the clusters hosting its replicas, fewest first.
        heap = by_load(load, filtered.eligible_set)
        while len(self.placements) < wanted and heap:
            count, name = heapq.heappop(heap)
            result = self._fit(name)
            if isinstance(result, ReasonTemplate):
                continue  # capacity only shrinks during a fill: never retried
            place(name, result)
            heapq.heappush(heap, (count + 1, name))
        if len(self.placements) >= wanted:
            return Explanation()
        return self._explain(filtered)

    def _scale_up(self, placement: Placement) -> tuple[tuple[str, int], ...]:
        """Nodes a new placement needs beyond its pools' nodes now (autoscaled pools only)."""
        cluster = self.fleet.snapshot.clusters[placement.cluster]
        needed = []
        for pool_name, nodes in sorted(placement.charges().items()):
            pool = cluster.pool(pool_name)
            if pool is None or pool.capacity == pool.nodes:
                continue
            used_after = pool.capacity - self.fleet.ledger.free(cluster.name, pool_name) + nodes
            beyond = min(nodes, used_after - pool.nodes)
            if beyond > 0:
                needed.append((pool_name, beyond))
        return tuple(needed)

    def _fits_or_none(self, name: str) -> tuple[str, tuple[EnginePlacement, ...]] | None:
        result = self._fit(name)
        return None if isinstance(result, ReasonTemplate) else (name, result)

    def _explain(self, filtered: Eligibility) -> Explanation:
        """Why every cluster took no more replicas, against the ledger as the fill left it.

        Counted per state (clusters alike but for their names), so the cost
        follows the number of distinct states, not of clusters; the
        per-cluster detail is built only when the pass explains.
        """
        snapshot, ledger = self.fleet.snapshot, self.fleet.ledger
        counts: Counter[str] = Counter()
        for profile, verdict in enumerate(filtered.verdicts):
            if verdict is not None:
                counts[verdict.summary] += snapshot.profile_population[profile]
        for (group, free), clusters in ledger.population.items():
            if not filtered.pattern[snapshot.group_profile[group]]:
                continue
            result = self._fit_state(
                snapshot.group_pool_set[group], free, snapshot.group_representative[group]
            )
            if isinstance(result, ReasonTemplate):
                counts[result.summary] += clusters
        detail = None
        if self.fleet.explain:
            detail = filtered.rejected()
            for name in filtered.eligible:
                result = self._fit(name)
                if isinstance(result, ReasonTemplate):
                    detail[name] = result
        return Explanation(
            counts=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            rejected=sum(counts.values()),
            detail=detail,
        )


def _as_stamped(view: ReplicaView, held: str | None) -> Placement:
    """An existing replica exactly as stamped, charged what it was charged."""
    assert view.index is not None
    return Placement(
        cluster=view.cluster,
        index=view.index,
        engines=tuple(
            EnginePlacement(
                name=engine.name,
                members=tuple(
                    MemberPlacement(role=m.role, pool=m.pool, device_requests=(), nodes=m.nodes)
                    for m in engine.members
                ),
            )
            for engine in view.engines
        ),
        replica_name=view.name,
        held=held,
    )


def _sum_by_pool(charges: Iterable[tuple[str, int]]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for pool, nodes in charges:
        total[pool] += nodes
    return dict(total)


def _lowest_free_index(taken: set[int]) -> int:
    index = 0
    while index in taken:
        index += 1
    return index
