"""Fleet-scheduler invariants over random fleets, deployments, histories and events.

Each example builds a random fleet (clusters with pools of a few device kinds,
labels, readiness, gateways, taints) and a few deployments, runs one pass
(every deployment in order in one FleetPass, as ``simulation.dry_run`` does), then
applies a random sequence of fleet events -- cluster loss, readiness flaps,
taints, pool resizes, selector edits, scale up/down -- feeding each pass's
output back as the next pass's ModelReplicas, the way a control plane
reconciles. After every pass:

- no pool is pushed over its published nodes by new placements (replicas that
  were already running are kept whatever the ledger says, so a shrunk pool may
  stay over; it then takes nothing new);
- retained replicas keep their cluster, index and pools;
- the pass is deterministic under any permutation of clusters and replicas;
- re-running a pass on its own output changes nothing (a fixed point).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelplane_core import api
from modelplane_core.scheduling import FleetPass, Placement, Schedule
from tests.scheduling_fixtures import (
    cluster,
    deployment,
    engine,
    gang,
    gpu,
    mem_at_least,
    member,
    nic,
    pool,
    stamped,
)

# Device kinds a pool may publish, and requests a member may make.
POOL_DEVICES = {
    "l4": (gpu("23034Mi", count=1),),
    "h100": (gpu("81559Mi", count=8), nic()),
    "h200": (gpu("143771Mi", count=8), nic()),
}
REQUESTS = {
    "small": mem_at_least("20Gi"),
    "big": mem_at_least("75Gi"),
    "huge": mem_at_least("120Gi"),
}
DRAIN = api.Taint(key="drain", effect="NoExecute")
CORDON = api.Taint(key="cordon", value="on", effect="NoSchedule")
TOLERATE_CORDON = api.Toleration(key="cordon", operator="Exists", effect="NoSchedule")


@st.composite
def clusters(draw: st.DrawFn) -> list[api.InferenceCluster]:
    names = draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=5, unique=True))
    built = []
    for name in sorted(names):
        kinds = draw(st.lists(st.sampled_from(sorted(POOL_DEVICES)), max_size=3, unique=True))
        pools = [
            pool(f"pool-{kind}", nodes=draw(st.integers(0, 4)), devices=POOL_DEVICES[kind])
            for kind in kinds
        ]
        built.append(
            cluster(
                name,
                *pools,
                ready=draw(st.booleans() | st.just(True)),
                gateway=draw(st.sampled_from(["auto", "auto", None])),
                labels={"region": draw(st.sampled_from(["east", "west"]))},
                taints=draw(st.sampled_from([(), (), (CORDON,), (DRAIN,)])),
            )
        )
    return built


@st.composite
def engines(draw: st.DrawFn, name: str) -> api.Engine:
    request = REQUESTS[draw(st.sampled_from(sorted(REQUESTS)))]
    copies = draw(st.integers(1, 2))
    if draw(st.booleans()):
        return engine(
            name, member("Standalone", request, count=draw(st.sampled_from([1, 8]))), copies=copies
        )
    return gang(draw(st.integers(2, 3)), request, copies=copies, name=name)


@st.composite
def deployments(draw: st.DrawFn) -> list[api.ModelDeployment]:
    count = draw(st.integers(1, 3))
    built = []
    for index in range(count):
        engine_names = ["main"] if draw(st.booleans()) else ["prefill", "decode"]
        built.append(
            deployment(
                f"model-{index}",
                replicas=draw(st.integers(0, 5)),
                engines=[draw(engines(n)) for n in engine_names],
                selector=draw(st.sampled_from([None, None, {"region": "east"}])),
                tolerations=draw(st.sampled_from([(), (TOLERATE_CORDON,)])),
            )
        )
    return built


Event = tuple[str, str, int]  # (what, cluster name, value)
EVENTS = st.tuples(
    st.sampled_from(["delete", "flap", "drain", "cordon", "clear", "resize", "scale", "narrow"]),
    st.sampled_from("abcdef"),
    st.integers(0, 5),
)


def run_pass(
    fleet: Sequence[api.InferenceCluster],
    wanted: Sequence[api.ModelDeployment],
    replicas: Sequence[api.ModelReplica],
) -> list[Schedule]:
    state = FleetPass.of(fleet, replicas)
    return [state.schedule(d) for d in wanted]


def replicas_of(
    wanted: Sequence[api.ModelDeployment], schedules: Sequence[Schedule]
) -> list[api.ModelReplica]:
    return [stamped(d, p) for d, s in zip(wanted, schedules, strict=True) for p in s.placements]


def unnamed(schedule: Schedule) -> list[Placement]:
    """Placements without the replica name (a new placement has none until it is stamped)."""
    return [attrs.evolve(p, replica_name=None) for p in schedule.placements]


def stamped_pins(
    replicas: Sequence[api.ModelReplica],
) -> dict[str, tuple[str, int, tuple[str, ...]]]:
    return {
        r.metadata.name or "": (
            r.spec.cluster_name,
            int(r.metadata.label_map[api.LABEL_REPLICA_INDEX]),
            tuple(m.node_pool_name for e in r.spec.engines for m in e.members),
        )
        for r in replicas
    }


def apply(
    event: Event, fleet: list[api.InferenceCluster], wanted: list[api.ModelDeployment]
) -> tuple[list[api.InferenceCluster], list[api.ModelDeployment]]:
    what, name, value = event
    target = next((c for c in fleet if c.metadata.name == name), None)
    if what == "scale":
        index = value % len(wanted)
        spec = attrs.evolve(wanted[index].spec, replicas=value)
        wanted = [*wanted[:index], attrs.evolve(wanted[index], spec=spec), *wanted[index + 1 :]]
        return fleet, wanted
    if what == "narrow":
        index = value % len(wanted)
        selector = api.LabelSelector(match_labels={"region": "west" if value % 2 else "east"})
        spec = attrs.evolve(wanted[index].spec, cluster_selector=selector)
        wanted = [*wanted[:index], attrs.evolve(wanted[index], spec=spec), *wanted[index + 1 :]]
        return fleet, wanted
    if target is None:
        return fleet, wanted
    if what == "delete":
        return [c for c in fleet if c is not target], wanted
    status, spec = target.status, target.spec
    assert status is not None
    if what == "flap":
        ready = "False" if target.ready else "True"
        status = attrs.evolve(status, conditions=(api.Condition(type="Ready", status=ready),))
    elif what == "resize":
        pools = tuple(attrs.evolve(p, nodes=value) for p in status.gpu_pools or ())
        status = attrs.evolve(status, gpu_pools=pools)
    else:
        taints = {"drain": (DRAIN,), "cordon": (CORDON,), "clear": None}[what]
        spec = attrs.evolve(spec, taints=taints)
    changed = attrs.evolve(target, spec=spec, status=status)
    return [changed if c is target else c for c in fleet], wanted


def check_pass(
    fleet: Sequence[api.InferenceCluster],
    wanted: Sequence[api.ModelDeployment],
    history: Sequence[api.ModelReplica],
    schedules: Sequence[Schedule],
) -> None:
    published = {(c.metadata.name, p.name): p.nodes or 0 for c in fleet for p in c.gpu_pools}
    retained: dict[tuple[str | None, str], int] = defaultdict(int)
    new: dict[tuple[str | None, str], int] = defaultdict(int)
    for schedule in schedules:
        for placement in schedule.placements:
            for pool_name, nodes in placement.charges().items():
                target = retained if placement.retained else new
                target[(placement.cluster, pool_name)] += nodes
    for key, nodes in new.items():
        assert key in published, f"placed on an unpublished pool {key}"
        assert retained[key] + nodes <= max(published[key], retained[key]), (
            f"pool {key} overcommitted by new placements: {retained[key]} kept + {nodes} new "
            f"> {published[key]} nodes"
        )
    # Retained replicas never move.
    before = stamped_pins(history)
    after = stamped_pins(replicas_of(wanted, schedules))
    for schedule in schedules:
        for placement in schedule.placements:
            if placement.retained:
                assert placement.replica_name is not None
                assert after[placement.replica_name] == before[placement.replica_name]
    # Deterministic under any input order.
    shuffled = run_pass(list(reversed(fleet)), wanted, list(reversed(history)))
    assert shuffled == list(schedules)
    # Each deployment places at most what it wants, at distinct indices per cluster.
    for schedule in schedules:
        assert schedule.placed <= schedule.wanted
        assert len({(p.cluster, p.index) for p in schedule.placements}) == schedule.placed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(), deployments(), st.lists(EVENTS, max_size=6))
def test_invariants_hold_through_random_event_sequences(
    fleet: list[api.InferenceCluster], wanted: list[api.ModelDeployment], events: list[Event]
) -> None:
    history: list[api.ModelReplica] = []
    for event in [None, *events]:
        if event is not None:
            fleet, wanted = apply(event, fleet, wanted)
        schedules = run_pass(fleet, wanted, history)
        check_pass(fleet, wanted, history, schedules)
        history = replicas_of(wanted, schedules)
        # Reconciling again on its own output is a fixed point.
        again = run_pass(fleet, wanted, history)
        assert [unnamed(s) for s in again] == [unnamed(s) for s in schedules]
        assert all(p.retained for s in again for p in s.placements)
        assert not any(s.dropped for s in again)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.booleans(), min_size=1, max_size=6),
    st.integers(0, 12),
    st.sampled_from([None, "east"]),
)
def test_spread_is_optimal_when_capacity_allows(
    hosts: list[bool], replicas: int, region: str | None
) -> None:
    """With room everywhere, no eligible cluster holds two more replicas than another."""
    fleet = [
        cluster(
            f"c{i}",
            pool("gpus", nodes=20, devices=POOL_DEVICES["h200" if big else "l4"]),
            labels={"region": "east" if i % 2 else "west"},
        )
        for i, big in enumerate(hosts)
    ]
    wanted = deployment(
        replicas=replicas,
        engines=[engine("main", member("Standalone", REQUESTS["huge"]))],
        selector={"region": region} if region else None,
    )
    result = FleetPass.of(fleet, []).schedule(wanted)
    eligible = [
        c.metadata.name or ""
        for c, big in zip(fleet, hosts, strict=True)
        if big and (region is None or c.metadata.label_map["region"] == region)
    ]
    counts = Counter(p.cluster for p in result.placements)
    assert set(counts) <= set(eligible)
    assert result.placed == (replicas if eligible else 0)
    if eligible:
        per_cluster = [counts[name] for name in eligible]
        assert max(per_cluster) - min(per_cluster) <= 1
