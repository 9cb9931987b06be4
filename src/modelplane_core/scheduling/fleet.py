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
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs

from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.meta import Taint, Toleration, tolerated
from modelplane_core.api.model_deployment import ModelDeployment
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.scheduling.assignment import assign_pools, shortage
from modelplane_core.scheduling.matching import engine_fit, engine_options
from modelplane_core.scheduling.outcome import (
    ClusterReason,
    DropCode,
    Dropped,
    EnginePlacement,
    InvalidSelector,
    MemberPlacement,
    Placement,
    ReasonCode,
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

CacheState = Literal["Present", "Absent", "Unknown"]


@attrs.frozen(kw_only=True)
class CacheFootprint:
    """The ModelCache a deployment references, as far as it is known.

    ``Present`` narrows new placements to the cache's ``selector``; ``Absent``
    (not found) and ``Unknown`` (not fetched yet) hold new placements while
    keeping every replica that runs.
    """

    name: str
    state: CacheState
    selector: Mapping[str, str] | None = None


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
        self._by_deployment: dict[tuple[str, str], list[ReplicaView]] = defaultdict(list)
        for replica in replicas:
            view = replica if isinstance(replica, ReplicaView) else replica_view(replica)
            self._charge(view.cluster, view.charges)
            if view.deployment is not None:
                self._by_deployment[(view.namespace, view.deployment)].append(view)

    # -- ledger ------------------------------------------------------------------------

    def _charge(self, cluster: str, charges: Iterable[tuple[str, int]], sign: int = 1) -> None:
        for pool, nodes in charges:
            key = (cluster, pool)
            if key in self.free:  # a pool no longer published charges nothing
                self.free[key] -= sign * nodes

    def free_nodes(self, cluster: str, pool: str) -> int:
        return self.free.get((cluster, pool), 0)

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
            drain = _untolerated(cluster.taints, self.tolerations, ("NoExecute",))
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
            and _untolerated(cluster.taints, self.tolerations, ("NoSchedule", "NoExecute")) is None
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
        reasons: dict[str, ClusterReason] = {}
        conflict = self._selector_conflict()
        load: dict[str, int] = defaultdict(int)
        for placed_on, _index in self.placements:
            load[placed_on] += 1
        heap: list[tuple[int, str]] = []
        for candidate in self.fleet.clusters.values():
            reason = conflict or self._ineligible(candidate)
            if reason is not None:
                reasons[candidate.name] = attrs.evolve(reason, cluster=candidate.name)
            else:
                heap.append((load[candidate.name], candidate.name))
        heapq.heapify(heap)
        while len(self.placements) < wanted and heap:
            count, name = heapq.heappop(heap)
            cluster = self.fleet.clusters[name]
            result = self._fit(cluster)
            if isinstance(result, ClusterReason):
                # The ledger only shrinks during a fill, so a cluster that cannot take a
                # replica now cannot take one later in this fill either.
                reasons[name] = result
                continue
            index = _lowest_free_index({i for c, i in self.placements if c == name})
            placement = Placement(cluster=name, index=index, engines=result)
            self._accept(placement)
            heapq.heappush(heap, (count + 1, name))
        return [reasons[name] for name in sorted(reasons)]

    def _selector_conflict(self) -> ClusterReason | None:
        if self.cache is None or not self.cache.selector:
            return None
        for key, value in sorted(self.cache.selector.items()):
            if key in self.selector and self.selector[key] != value:
                return ClusterReason(
                    cluster="",
                    code="ConflictingSelectors",
                    summary=f"clusterSelector conflicts with ModelCache {self.cache.name!r}",
                    detail=(
                        f"the deployment selects {key}={self.selector[key]} but ModelCache "
                        f"{self.cache.name!r} is staged only on {key}={value}; no cluster can "
                        "satisfy both"
                    ),
                )
        return None

    def _ineligible(self, cluster: ClusterView) -> ClusterReason | None:
        def reason(code: ReasonCode, summary: str, detail: str) -> ClusterReason:
            return ClusterReason(cluster=cluster.name, code=code, summary=summary, detail=detail)

        if not cluster.ready:
            return reason("NotReady", "not ready", f"cluster {cluster.name!r} is not Ready")
        if not cluster.gateway_address:
            return reason(
                "NoGateway",
                "no gateway address",
                f"cluster {cluster.name!r} publishes no gateway address",
            )
        missing = _mismatch(self.selector, cluster.labels)
        if missing is not None:
            return reason(
                "ClusterSelector",
                "didn't match clusterSelector",
                f"cluster {cluster.name!r} does not carry the label {missing}",
            )
        if self.cache is not None and self.cache.selector:
            missing = _mismatch(self.cache.selector, cluster.labels)
            if missing is not None:
                return reason(
                    "CacheFootprint",
                    f"outside ModelCache {self.cache.name!r} footprint",
                    f"ModelCache {self.cache.name!r} is not staged on cluster {cluster.name!r} "
                    f"(it needs the label {missing})",
                )
        taint = _untolerated(cluster.taints, self.tolerations, ("NoSchedule", "NoExecute"))
        if taint is not None:
            return reason(
                "Taint",
                f"had untolerated taint {taint}",
                f"cluster {cluster.name!r} has taint {taint}",
            )
        return None

    def _fit(self, cluster: ClusterView) -> tuple[EnginePlacement, ...] | ClusterReason:
        per_engine = []
        for engine in self.engines:
            found = engine_options(engine, cluster.pools)
            if not found.options:
                why = (
                    "; ".join(f"pool {p}: {r}" for p, r in found.rejected)
                    or "the cluster publishes no pools"
                )
                return ClusterReason(
                    cluster=cluster.name,
                    code="NoPool",
                    summary=f'no pool satisfies engine "{engine.name}"',
                    detail=(
                        f'no pool of cluster {cluster.name!r} satisfies engine "{engine.name}": '
                        f"{why}"
                    ),
                )
            per_engine.append(found.options)
        free = {p.name: self.fleet.free_nodes(cluster.name, p.name) for p in cluster.pools}
        chosen = assign_pools(per_engine, free)
        if chosen is None:
            text = shortage(per_engine, free, [e.name for e in self.engines])
            return ClusterReason(
                cluster=cluster.name,
                code="InsufficientNodes",
                summary=text,
                detail=f"cluster {cluster.name!r}: {text}",
            )
        return tuple(
            _engine_placement(engine, option.pool, option.fit.members)
            for engine, option in zip(self.engines, chosen, strict=True)
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


def _mismatch(selector: Mapping[str, str], labels: Mapping[str, str]) -> str | None:
    for key, value in sorted(selector.items()):
        if labels.get(key) != value:
            return f"{key}={value}"
    return None


def _untolerated(
    taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...], effects: tuple[str, ...]
) -> str | None:
    for taint in taints:
        if taint.effect in effects and not tolerated(taint, tolerations):
            value = f"={taint.value}" if taint.value else ""
            return f"{taint.key}{value}:{taint.effect}"
    return None


def schedule(
    deployment: ModelDeployment,
    clusters: Iterable[InferenceCluster],
    replicas: Iterable[ModelReplica],
    cache: CacheFootprint | None = None,
) -> Schedule:
    """Place one deployment's replicas on the fleet. Pure: inputs are never modified."""
    return Fleet(clusters, replicas).schedule(deployment, cache)
