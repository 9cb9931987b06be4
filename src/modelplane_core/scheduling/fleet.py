"""A scheduling pass: deployments scheduled one after another against one fleet.

A :class:`FleetPass` is a :class:`~.snapshot.FleetSnapshot` plus a private
copy of its node ledger. Scheduling a deployment releases its own replicas
from the ledger, decides (``cycle.py``) and leaves the result charged, so
each deployment in a pass sees exactly the placements made before it: the
same answer as scheduling the deployments one by one onto the evolving fleet,
without rebuilding the fleet for each. All decisions are deterministic:
every collection is visited in a fixed order, whatever order the inputs came
in.

    from modelplane_core import scheduling
    cache = scheduling.SchedulerCache()          # the caller keeps it between passes
    result = scheduling.schedule(deployment, clusters, replicas, cache=cache)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.model_deployment import ModelDeployment
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.scheduling.cache import SchedulerCache
from modelplane_core.scheduling.cycle import Cycle
from modelplane_core.scheduling.filtering import CacheFootprint, Eligibility
from modelplane_core.scheduling.fitting import Fit
from modelplane_core.scheduling.outcome import InvalidSelector, Placement, Schedule
from modelplane_core.scheduling.requirements import SelectorCompileError, compile_engines
from modelplane_core.scheduling.scoring import Candidates
from modelplane_core.scheduling.snapshot import FleetSnapshot, snapshot
from modelplane_core.scheduling.views import (
    ClusterView,
    ReplicaView,
    StampedEngine,
    StampedMember,
)


class FleetPass:
    """The fleet and a running node ledger for one pass over many deployments."""

    def __init__(
        self,
        fleet: FleetSnapshot,
        cache: SchedulerCache | None = None,
        *,
        extra_replicas: Iterable[ReplicaView] = (),
        explain: bool = False,
        complete: bool = True,
    ) -> None:
        """A pass over ``fleet``; ``extra_replicas`` are running replicas it does not list yet.

        With ``explain``, a short deployment's schedule also says why each
        cluster took no more (``Schedule.reasons``); without, only the counts.
        Without ``complete`` the snapshot holds only the deployment's own
        replicas, not the fleet's: the pass retains and scales down, and
        reports ``Schedule.needs_fleet`` instead of deciding anything that
        depends on free capacity.
        """
        self.snapshot = fleet
        self.cache = cache if cache is not None else SchedulerCache()
        self.explain = explain
        self.complete = complete
        self.ledger = fleet.ledger.copy()
        self._own: dict[tuple[str, str], tuple[ReplicaView, ...]] = {}
        for view in extra_replicas:
            self.ledger.charge(view.cluster, view.charges)
            if view.deployment is not None:
                key = (view.namespace, view.deployment)
                self._own[key] = (*self.replicas_of(*key), view)
        self.ledger.grown.clear()
        self._candidates: dict[Hashable, Candidates] = {}
        self._fits: dict[Hashable, dict[tuple[int, tuple[int, ...]], Fit]] = {}

    @classmethod
    def of(
        cls,
        clusters: Iterable[InferenceCluster | ClusterView],
        replicas: Iterable[ModelReplica | ReplicaView],
        cache: SchedulerCache | None = None,
        *,
        explain: bool = True,
    ) -> FleetPass:
        """A pass over a fleet built from scratch (a notebook, a one-off dry run)."""
        return cls(snapshot(clusters, replicas), cache, explain=explain)

    def replicas_of(self, namespace: str, deployment: str) -> tuple[ReplicaView, ...]:
        """The deployment's replicas as this pass knows them (its own placements, once made)."""
        key = (namespace, deployment)
        found = self._own.get(key)
        return found if found is not None else self.snapshot.replicas_of(namespace, deployment)

    def fits_for(self, engines: Hashable) -> dict[tuple[int, tuple[int, ...]], Fit]:
        """This pass's fits of one engines key, by (pool-set id, free nodes)."""
        return self._fits.setdefault(engines, {})

    def candidates(self, key: Hashable, filtered: Eligibility) -> Candidates:
        """The scheduling class ``key``'s clusters that may still fit, refreshed for growth."""
        found = self._candidates.get(key)
        if found is None:
            found = Candidates(filtered.eligible, filtered.eligible_set)
            self._candidates[key] = found
        found.refresh(self.ledger.grown)
        return found

    def schedule(
        self, deployment: ModelDeployment, cache: CacheFootprint | None = None
    ) -> Schedule:
        """Place ``deployment``'s replicas; the result stays charged to this pass's ledger."""
        namespace = deployment.metadata.namespace or "default"
        name = deployment.metadata.name or ""
        try:
            engines = compile_engines(deployment.spec, self.cache.selectors)
        except SelectorCompileError as exc:
            # Nothing can be re-evaluated: keep the ledger as it was and let the caller hold.
            return Schedule(
                deployment=f"{namespace}/{name}",
                wanted=deployment.spec.replicas,
                placements=(),
                clusters_considered=len(self.snapshot.clusters),
                invalid=InvalidSelector(path=exc.path, message=exc.message),
            )
        own = self.replicas_of(namespace, name)
        for view in own:
            self.ledger.release(view.cluster, view.charges)
        result = Cycle(self, deployment, engines, cache).run(own)
        self._own[(namespace, name)] = tuple(
            _placed_view(namespace, name, placement) for placement in result.placements
        )
        return result


def _placed_view(namespace: str, deployment: str, placement: Placement) -> ReplicaView:
    """The replica a placement will become, so a later schedule in the pass sees it."""
    engines = tuple(
        StampedEngine(
            name=e.name,
            members=tuple(
                StampedMember(role=m.role, pool=m.pool, nodes=m.nodes) for m in e.members
            ),
        )
        for e in placement.engines
    )
    return ReplicaView(
        namespace=namespace,
        name=placement.replica_name or f"{deployment}@{placement.cluster}/{placement.index}",
        deployment=deployment,
        cluster=placement.cluster,
        index=placement.index,
        engines=engines,
        charges=tuple((m.pool, m.nodes) for e in engines for m in e.members if m.nodes),
    )


def schedule(
    deployment: ModelDeployment,
    clusters: Iterable[InferenceCluster | ClusterView],
    replicas: Iterable[ModelReplica | ReplicaView],
    footprint: CacheFootprint | None = None,
    *,
    cache: SchedulerCache | None = None,
    explain: bool = True,
) -> Schedule:
    """Place one deployment's replicas on the fleet, explained. Pure: inputs are never modified."""
    return FleetPass.of(clusters, replicas, cache, explain=explain).schedule(deployment, footprint)
