"""The two-phase scheduler: retain what runs, then fill the shortfall, fleet-wide.

A :class:`Fleet` is built once per pass from every cluster and every existing
ModelReplica, with a node ledger (published nodes minus every replica's
stamped cost). Scheduling a deployment releases its own replicas from the
ledger, decides, and charges the result back, so deployments scheduled one
after another in a pass each see the others' placements without rescanning
the fleet. All decisions are deterministic: every collection is visited in a
fixed order, whatever order the inputs came in.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from typing import Literal

import attrs

from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.meta import Toleration
from modelplane_core.api.model_deployment import ModelDeployment
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.scheduling.assignment import assign_pools, shortage
from modelplane_core.scheduling.eligibility import (
    CacheFootprint,
    Eligibility,
    eligibility,
    filter_key,
    untolerated,
)
from modelplane_core.scheduling.matching import engine_fit, engine_options
from modelplane_core.scheduling.outcome import (
    ClusterReason,
    DropCode,
    Dropped,
    EnginePlacement,
    InvalidSelector,
    MemberPlacement,
    Placement,
    Schedule,
)
from modelplane_core.scheduling.requirements import (
    EngineRequirement,
    SelectorCompileError,
    compile_engines,
)
from modelplane_core.scheduling.views import (
    ClusterView,
    ReplicaView,
    StampedEngine,
    cluster_view,
    replica_view,
)


class Fleet:
    """Clusters, replicas and the node ledger for one scheduling pass."""

    def __init__(
        self,
        clusters: Iterable[InferenceCluster | ClusterView],
        replicas: Iterable[ModelReplica | ReplicaView],
    ) -> None:
        views = [c if isinstance(c, ClusterView) else cluster_view(c) for c in clusters]
        self.clusters: dict[str, ClusterView] = {
            v.name: v for v in sorted(views, key=lambda v: v.name)
        }
        self.free: dict[tuple[str, str], int] = {
            (c.name, p.name): p.nodes for c in self.clusters.values() for p in c.pools
        }
        # Pass-wide memos, each keyed by everything its answer depends on.
        self._eligibility: dict[Hashable, Eligibility] = {}
        self._fits: dict[Hashable, tuple[EnginePlacement, ...] | _Shortfall] = {}
        # Clusters built from the same classes share a pool-set id, and so their fits.
        pool_sets: dict[tuple[tuple[str, str], ...], int] = {}
        self._pool_set: dict[str, int] = {
            c.name: pool_sets.setdefault(c.pool_set_signature, len(pool_sets))
            for c in self.clusters.values()
        }
        # Each cluster's ledger keys in pool order, for reading its free-node vector fast.
        self._ledger_keys: dict[str, tuple[tuple[str, str], ...]] = {
            c.name: tuple((c.name, p.name) for p in c.pools) for c in self.clusters.values()
        }
        self._by_deployment: dict[tuple[str, str], list[ReplicaView]] = defaultdict(list)
        for replica in replicas:
            view = replica if isinstance(replica, ReplicaView) else replica_view(replica)
            self._charge(view.cluster, view.charges)
            if view.deployment is not None:
                self._by_deployment[(view.namespace, view.deployment)].append(view)

    def copy(self) -> Fleet:
        """An independent ledger over the same fleet, sharing every content-keyed memo.

        The memos stay valid in the copy: the cluster filter depends on clusters
        only, and a fit is keyed by the free nodes it was computed for.
        """
        twin = object.__new__(Fleet)
        twin.__dict__.update(self.__dict__)
        twin.free = dict(self.free)
        twin._by_deployment = defaultdict(list, self._by_deployment)
        return twin

    # -- ledger ------------------------------------------------------------------------

    def _charge(self, cluster: str, charges: Iterable[tuple[str, int]], sign: int = 1) -> None:
        for pool, nodes in charges:
            key = (cluster, pool)
            if key in self.free:  # a pool no longer published charges nothing
                self.free[key] -= sign * nodes

    def free_nodes(self, cluster: str, pool: str) -> int:
        return self.free.get((cluster, pool), 0)

    def eligibility(
        self,
        selector: Mapping[str, str],
        cache: CacheFootprint | None,
        tolerations: tuple[Toleration, ...],
    ) -> Eligibility:
        """The cluster filter for new replicas, computed once per distinct input in a pass."""
        key = filter_key(selector, cache, tolerations)
        found = self._eligibility.get(key)
        if found is None:
            found = eligibility(self.clusters.values(), selector, cache, tolerations)
            self._eligibility[key] = found
        return found

    # -- scheduling ----------------------------------------------------------------------

    def schedule(
        self, deployment: ModelDeployment, cache: CacheFootprint | None = None
    ) -> Schedule:
        """Place ``deployment``'s replicas and charge the result to the fleet's ledger."""
        namespace = deployment.metadata.namespace or "default"
        name = deployment.metadata.name or ""
        own = sorted(self._by_deployment.get((namespace, name), []), key=lambda v: v.name)
        try:
            engines = compile_engines(deployment.spec)
        except SelectorCompileError as exc:
            # Nothing can be re-evaluated: keep the ledger as it was and let the caller hold.
            return Schedule(
                deployment=f"{namespace}/{name}",
                wanted=deployment.spec.replicas,
                placements=(),
                clusters_considered=len(self.clusters),
                invalid=InvalidSelector(path=exc.path, message=exc.message),
            )
        for view in own:
            self._charge(view.cluster, view.charges, sign=-1)
        plan = _Plan(self, deployment, engines, cache)
        schedule = plan.run(own)
        for placement in schedule.placements:
            self._charge(placement.cluster, placement.charges().items())
        self._by_deployment[(namespace, name)] = [
            _placed_view(namespace, name, placement) for placement in schedule.placements
        ]
        return schedule


def _placed_view(namespace: str, deployment: str, placement: Placement) -> ReplicaView:
    """The replica a placement will become, so a later schedule in the pass sees it."""
    return ReplicaView(
        namespace=namespace,
        name=placement.replica_name or f"{deployment}@{placement.cluster}/{placement.index}",
        deployment=deployment,
        cluster=placement.cluster,
        index=placement.index,
        engines=tuple(
            StampedEngine(name=e.name, members=tuple((m.role, m.pool) for m in e.members))
            for e in placement.engines
        ),
        charges=tuple(sorted(placement.charges().items())),
    )


class _Plan:
    """One deployment's decision within a :class:`Fleet` pass."""

    def __init__(
        self,
        fleet: Fleet,
        deployment: ModelDeployment,
        engines: tuple[EngineRequirement, ...],
        cache: CacheFootprint | None,
    ) -> None:
        self.fleet = fleet
        self.deployment = deployment
        self.engines = engines
        # Engine names and requirement signatures: the part of a fit this replica decides.
        self.engines_key = tuple((e.name, e.signature) for e in engines)
        self.cache = cache
        spec = deployment.spec
        self.tolerations: tuple[Toleration, ...] = spec.tolerations or ()
        self.selector: Mapping[str, str] = (
            spec.cluster_selector.match_labels or {} if spec.cluster_selector else {}
        )
        self.placements: dict[tuple[str, int], Placement] = {}
        self.dropped: list[Dropped] = []

    # -- retain --------------------------------------------------------------------------

    def run(self, own: list[ReplicaView]) -> Schedule:
        self._retain(own)
        self._scale_down()
        held = self._held_reason()
        reasons: list[ClusterReason] = []
        if held is None:
            reasons = self._fill()
        placements = tuple(self.placements[k] for k in sorted(self.placements))
        meta = self.deployment.metadata
        return Schedule(
            deployment=f"{meta.namespace or 'default'}/{meta.name or ''}",
            wanted=self.deployment.spec.replicas,
            placements=placements,
            dropped=tuple(self.dropped),
            reasons=tuple(reasons) if len(placements) < self.deployment.spec.replicas else (),
            clusters_considered=len(self.fleet.clusters),
            held=held,
        )

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

    def _retain(self, own: list[ReplicaView]) -> None:
        shape = tuple(e.shape() for e in self.engines)
        keep: list[tuple[ReplicaView, Placement]] = []
        for view in own:
            cluster = self.fleet.clusters.get(view.cluster)
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
            if any(p.cluster == view.cluster and p.index == view.index for _, p in keep):
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
            keep.append((view, placement))
        # A retained replica's pods keep running whatever the ledger says, so its cost is
        # charged unconditionally; only growth (copies or worker.nodes raised) must fit.
        growing = []
        for view, placement in keep:
            old = _sum_by_pool(view.charges)
            if all(nodes <= old.get(pool, 0) for pool, nodes in placement.charges().items()):
                self._accept(placement)
            else:
                growing.append((view, placement))
        for view, placement in sorted(growing, key=lambda vp: (vp[1].cluster, vp[1].index)):
            too_big = [
                (pool, nodes, self.fleet.free_nodes(placement.cluster, pool))
                for pool, nodes in placement.charges().items()
                if nodes > self.fleet.free_nodes(placement.cluster, pool)
            ]
            if too_big:
                pool, nodes, free = too_big[0]
                self._drop(
                    view,
                    "GrownShapeDoesNotFit",
                    f"the edited shape needs {nodes} nodes on pool {pool!r}, which has {free} free",
                )
            else:
                self._accept(placement)

    def _accept(self, placement: Placement) -> None:
        self.placements[(placement.cluster, placement.index)] = placement
        self.fleet._charge(placement.cluster, placement.charges().items())

    def _re_resolve(
        self, view: ReplicaView, cluster: ClusterView
    ) -> Placement | tuple[DropCode, str]:
        """The replica re-stamped for the current spec on its pinned pools, or why not."""
        engines = []
        for engine, stamped in zip(self.engines, view.engines, strict=True):
            pools = {pool for _role, pool in stamped.members}
            if len(pools) != 1:
                return (
                    "PoolMismatch",
                    f"the members of engine {engine.name!r} are on different pools",
                )
            (pool_name,) = pools
            pool = cluster.pool(pool_name)
            if pool is None:
                return "PoolGone", f"pool {pool_name!r} is no longer published by {cluster.name!r}"
            fit = engine_fit(engine, pool)
            if not fit.ok:
                return (
                    "PoolMismatch",
                    f"pool {pool_name!r} no longer satisfies engine {engine.name!r}: {fit.reason}",
                )
            engines.append(_engine_placement(engine, pool_name, fit.members))
        assert view.index is not None
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
            cluster = max(
                load,
                key=lambda name: (load[name], not self._healthy(self.fleet.clusters[name]), name),
            )
            index = max(i for c, i in self.placements if c == cluster)
            placement = self.placements.pop((cluster, index))
            self.fleet._charge(cluster, placement.charges().items(), sign=-1)
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

    # -- fill ----------------------------------------------------------------------------

    def _held_reason(self) -> str | None:
        if self.cache is None:
            return None
        if self.cache.state == "Unknown":
            return f"waiting for ModelCache {self.cache.name!r}"
        if self.cache.state == "Absent":
            return f"ModelCache {self.cache.name!r} not found"
        return None

    def _fill(self) -> list[ClusterReason]:
        wanted = self.deployment.spec.replicas
        if len(self.placements) >= wanted:
            return []
        filtered = self.fleet.eligibility(self.selector, self.cache, self.tolerations)
        load = Counter(placed_on for placed_on, _index in self.placements)
        heap = [(load[name], name) for name in filtered.eligible]
        heapq.heapify(heap)
        short: dict[str, ClusterReason] = {}
        while len(self.placements) < wanted and heap:
            count, name = heapq.heappop(heap)
            result = self._fit(self.fleet.clusters[name])
            if isinstance(result, ClusterReason):
                # The ledger only shrinks during a fill, so a cluster that cannot take a
                # replica now cannot take one later in this fill either.
                short[name] = result
                continue
            index = _lowest_free_index({i for c, i in self.placements if c == name})
            self._accept(Placement(cluster=name, index=index, engines=result))
            heapq.heappush(heap, (count + 1, name))
        if len(self.placements) >= wanted:
            return []
        reasons = {**filtered.reasons, **short}
        return [reasons[name] for name in sorted(reasons)]

    def _fit(self, cluster: ClusterView) -> tuple[EnginePlacement, ...] | ClusterReason:
        """This replica's engines on ``cluster``'s pools as free now, or why they do not fit.

        The answer depends only on the engines, the cluster's pools and their free
        nodes, so it is memoized on exactly that for the whole pass: clusters built
        from the same classes with the same free nodes are solved once.
        """
        free = tuple(map(self.fleet.free.__getitem__, self.fleet._ledger_keys[cluster.name]))
        key = (self.engines_key, self.fleet._pool_set[cluster.name], free)
        found = self.fleet._fits.get(key)
        if found is None:
            found = self._solve(
                cluster, dict(zip((p.name for p in cluster.pools), free, strict=True))
            )
            self.fleet._fits[key] = found
        if isinstance(found, _Shortfall):
            return found.reason(cluster.name)
        return found

    def _solve(
        self, cluster: ClusterView, free: Mapping[str, int]
    ) -> tuple[EnginePlacement, ...] | _Shortfall:
        per_engine = []
        for engine in self.engines:
            found = engine_options(engine, cluster.pools)
            if not found.options:
                why = (
                    "; ".join(f"pool {p}: {r}" for p, r in found.rejected)
                    or "the cluster publishes no pools"
                )
                return _Shortfall(
                    code="NoPool",
                    summary=f'no pool satisfies engine "{engine.name}"',
                    before="no pool of cluster ",
                    after=f' satisfies engine "{engine.name}": {why}',
                )
            per_engine.append(found.options)
        chosen = assign_pools(per_engine, free)
        if chosen is None:
            text = shortage(per_engine, free, [e.name for e in self.engines])
            return _Shortfall(
                code="InsufficientNodes", summary=text, before="cluster ", after=f": {text}"
            )
        return tuple(
            _engine_placement(engine, option.pool, option.fit.members)
            for engine, option in zip(self.engines, chosen, strict=True)
        )


@attrs.frozen(kw_only=True)
class _Shortfall:
    """A cluster-independent "does not fit", made a ClusterReason for each cluster it hits."""

    code: Literal["NoPool", "InsufficientNodes"]
    summary: str
    before: str  # the detail reads: before + repr(cluster name) + after
    after: str

    def reason(self, cluster: str) -> ClusterReason:
        return ClusterReason(
            cluster=cluster,
            code=self.code,
            summary=self.summary,
            detail=f"{self.before}{cluster!r}{self.after}",
        )


def _engine_placement(
    engine: EngineRequirement, pool: str, fits: Iterable[object]
) -> EnginePlacement:
    members = []
    for member, fit in zip(engine.members, fits, strict=True):
        claims = getattr(fit, "claims", ())
        members.append(
            MemberPlacement(
                role=member.role,
                pool=pool,
                device_requests=claims,
                nodes=member.pods * engine.copies if claims else 0,
            )
        )
    return EnginePlacement(name=engine.name, members=tuple(members))


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


class _Recent:
    """The last few fleets built, by the identity of the objects they were built from.

    A control plane schedules every deployment against the same cluster and
    replica objects until one of them changes; building the ledger once and
    copying it per deployment makes each schedule cost the deployment, not the
    fleet. The key holds the objects themselves, so an id is never reused.
    """

    SIZE = 4

    def __init__(self) -> None:
        self._fleets: list[
            tuple[tuple[InferenceCluster, ...], tuple[ModelReplica, ...], Fleet]
        ] = []

    def fleet(
        self, clusters: tuple[InferenceCluster, ...], replicas: tuple[ModelReplica, ...]
    ) -> Fleet:
        for seen_clusters, seen_replicas, fleet in self._fleets:
            if _same(seen_clusters, clusters) and _same(seen_replicas, replicas):
                return fleet
        built = Fleet(clusters, replicas)
        self._fleets = [(clusters, replicas, built), *self._fleets[: self.SIZE - 1]]
        return built


def _same(left: tuple[object, ...], right: tuple[object, ...]) -> bool:
    if left is right:
        return True
    return len(left) == len(right) and all(a is b for a, b in zip(left, right, strict=True))


_RECENT = _Recent()


def schedule(
    deployment: ModelDeployment,
    clusters: Iterable[InferenceCluster],
    replicas: Iterable[ModelReplica],
    cache: CacheFootprint | None = None,
) -> Schedule:
    """Place one deployment's replicas on the fleet. Pure: inputs are never modified."""
    return _RECENT.fleet(tuple(clusters), tuple(replicas)).copy().schedule(deployment, cache)
