"""A fleet pass is exact: it places what one-by-one scheduling places, and all that fits.

A pass (``modelplane schedule``, ``simulation.dry_run``, a control plane
reconciling deployment after deployment) schedules deployments in order on one
running ledger. Two properties pin it down, over random fleets:

- *sequential*: each deployment gets exactly the schedule it would get alone,
  scheduled onto the fleet as the deployments before it left it (their
  placements stamped as ModelReplicas), so sharing a ledger changes nothing;
- *maximal*: once reconciling reaches a fixed point, no short deployment has
  a replica that would fit an eligible cluster in the final ledger, checked
  against an oracle written independently of the scheduler (brute force over
  pool assignments, node counts from the stamped replicas).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelplane_core import api
from modelplane_core.scheduling import CacheFootprint, FleetPass, Schedule, schedule
from modelplane_core.scheduling.filtering import ineligible
from modelplane_core.scheduling.matching import engine_fit
from modelplane_core.scheduling.requirements import compile_engines
from modelplane_core.scheduling.views import cluster_view
from tests.property.scheduling.test_fleet_properties import (
    clusters,
    deployments,
    replicas_of,
    run_pass,
)
from tests.scheduling_fixtures import cluster, deployment, pool, stamped

SLOW = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def without(replicas: Sequence[api.ModelReplica], name: str | None) -> list[api.ModelReplica]:
    return [r for r in replicas if r.metadata.label_map.get(api.LABEL_DEPLOYMENT) != name]


@SLOW
@given(clusters(), deployments(), st.booleans())
def test_a_pass_places_exactly_what_one_by_one_scheduling_places(
    fleet: list[api.InferenceCluster], wanted: list[api.ModelDeployment], with_history: bool
) -> None:
    history: list[api.ModelReplica] = []
    if with_history:
        history = replicas_of(wanted, run_pass(fleet, wanted, []))
        # Scale every deployment by one, so the second pass both retains and changes.
        wanted = [
            attrs.evolve(d, spec=attrs.evolve(d.spec, replicas=max(d.spec.replicas - 1 + i % 3, 0)))
            for i, d in enumerate(wanted)
        ]
    shared = run_pass(fleet, wanted, history)
    evolving = list(history)
    for index, d in enumerate(wanted):
        alone = schedule(d, fleet, evolving)
        assert alone == shared[index], d.metadata.name
        evolving = [*without(evolving, d.metadata.name), *(stamped(d, p) for p in alone.placements)]


def reconcile_to_fixed_point(
    fleet: Sequence[api.InferenceCluster], wanted: Sequence[api.ModelDeployment]
) -> tuple[list[Schedule], list[api.ModelReplica]]:
    """Passes feeding their output back until nothing changes (as a control plane does)."""
    history: list[api.ModelReplica] = []
    for _ in range(6):
        schedules = run_pass(fleet, wanted, history)
        placed = replicas_of(wanted, schedules)
        if [r.metadata.name for r in placed] == [r.metadata.name for r in history]:
            return schedules, placed
        history = placed
    raise AssertionError("reconciling did not reach a fixed point in 6 passes")


def free_after(
    fleet: Sequence[api.InferenceCluster], placed: Sequence[api.ModelReplica]
) -> dict[tuple[str, str], int]:
    """Published nodes minus every stamped replica's charge, counted from the manifests."""
    free = {(c.metadata.name or "", p.name): p.nodes or 0 for c in fleet for p in c.gpu_pools}
    for replica in placed:
        for engine in replica.spec.engines:
            for member in engine.members:
                key = (replica.spec.cluster_name, member.node_pool_name)
                if member.claims_devices and key in free:
                    free[key] -= member.pods * engine.copies
    return free


def one_more_fits(
    d: api.ModelDeployment, c: api.InferenceCluster, free: dict[tuple[str, str], int]
) -> bool:
    """Brute force: some pool per engine satisfies it, and their costs fit the free nodes."""
    view = cluster_view(c)
    engines = compile_engines(d.spec)
    per_engine = [
        [(p.name, fit.cost) for p in view.pools if (fit := engine_fit(e, p)).ok] for e in engines
    ]
    for choice in itertools.product(*per_engine):
        used: dict[str, int] = defaultdict(int)
        for pool_name, cost in choice:
            used[pool_name] += cost
        if all(free[(view.name, p)] >= n for p, n in used.items()):
            return True
    return False


@SLOW
@given(clusters(), deployments())
def test_at_a_fixed_point_no_unplaced_replica_fits_the_final_ledger(
    fleet: list[api.InferenceCluster], wanted: list[api.ModelDeployment]
) -> None:
    schedules, placed = reconcile_to_fixed_point(fleet, wanted)
    free = free_after(fleet, placed)
    assert all(nodes >= 0 for nodes in free.values()), "a fresh fleet is never overcommitted"
    for d, result in zip(wanted, schedules, strict=True):
        if not result.shortfall or result.held or result.invalid:
            continue
        selector = (d.spec.cluster_selector.match_labels or {}) if d.spec.cluster_selector else {}
        for c in fleet:
            view = cluster_view(c)
            if ineligible(view, selector, None, d.spec.tolerations or ()) is not None:
                continue
            assert not one_more_fits(d, c, free), (
                f"{d.metadata.name} is short by {result.shortfall} but another replica "
                f"fits cluster {c.metadata.name}"
            )


def test_two_one_node_deployments_share_a_two_node_pool() -> None:
    """The first pass charged each placement twice: the second deployment found 0 free."""
    fleet = FleetPass.of([cluster("a", pool("default", nodes=2))], [])
    first, second = fleet.schedule(deployment("one")), fleet.schedule(deployment("two"))
    assert (first.placed, second.placed) == (1, 1)
    assert fleet.ledger.free("a", "default") == 0


def test_a_cache_without_selector_and_no_cache_are_filtered_apart() -> None:
    """The filter memo once keyed both as 'no footprint': the verdict followed document order."""
    no_storage = cluster("a", pool("default", nodes=4), cache_storage=False)
    weights = CacheFootprint(name="weights", state="Present")
    for order in ((False, True), (True, False)):
        fleet = FleetPass.of([no_storage], [])
        results = {}
        for cached in order:
            d = deployment("cached" if cached else "plain", cache="weights" if cached else None)
            results[cached] = fleet.schedule(d, weights if cached else None)
        assert results[False].placed == 1  # a plain deployment needs no RWX storage
        assert results[True].placed == 0  # a cached one does
        assert results[True].reasons[0].code == "CacheFootprint"
