"""Random scenarios through the simulator: it converges, never overcommits, and replays exactly.

Each example is a small bring-your-own fleet (two or three clusters of one or
two GPU classes), a few deployments and a ModelService, and a random timeline
of outages, recoveries, drains, pool resizes, scale changes, cluster deletions
and new deployments. Every run must:

- converge at every step;
- never push a pool over its nodes with new placements (replicas already
  running on a pool that was shrunk stay, and the pool then takes nothing new);
- end in exactly the state reached by replaying the same events one moment at
  a time through the notebook API (``at`` then ``run(until=...)``);
- leave nothing for a full reconcile to change (incremental reconciliation
  missed nothing).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelplane_core.simulation import (
    Apply,
    Delete,
    Outage,
    Resize,
    Scale,
    Scenario,
    Simulation,
    Taint,
    Timed,
)
from modelplane_core.simulation.control_plane import composites
from tests.simulation_fixtures import cluster, deployment, gateway, gpu_class, service

CLUSTERS = ("east", "west", "north")


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    classes = [gpu_class("l40s"), gpu_class("h100", memory="81559Mi", count=8)]
    names = draw(st.lists(st.sampled_from(CLUSTERS), min_size=2, max_size=3, unique=True))
    clusters = [
        cluster(
            name,
            [("gpu", draw(st.sampled_from(["l40s", "h100"])), draw(st.integers(0, 3)))],
            region=draw(st.sampled_from(["us-east", "us-west"])),
        )
        for name in names
    ]
    deployments = [
        deployment(
            f"model-{index}",
            draw(st.integers(1, 4)),
            memory=draw(st.sampled_from(["20Gi", "40Gi", "60Gi"])),
            selector=draw(st.sampled_from([None, {"modelplane.ai/region": "us-east"}])),
        )
        for index in range(draw(st.integers(1, 3)))
    ]
    manifests: list[dict[str, Any]] = [
        gateway(),
        *classes,
        *clusters,
        *deployments,
        service("all", *(d["metadata"]["name"] for d in deployments)),
    ]
    events = []
    for _ in range(draw(st.integers(1, 6))):
        at = float(draw(st.integers(1, 12)) * 300)
        what = draw(st.sampled_from(
            ["outage", "recover", "drain", "undrain", "resize", "scale", "delete", "deploy"]
        ))  # fmt: skip
        target = draw(st.sampled_from(names))
        if what in ("outage", "recover"):
            event: Any = Outage(cluster=target, down=what == "outage")
        elif what in ("drain", "undrain"):
            event = Taint(cluster=target, key="drain", remove=what == "undrain")
        elif what == "resize":
            event = Resize(cluster=target, pool="gpu", nodes=draw(st.integers(0, 4)))
        elif what == "scale":
            chosen = draw(st.sampled_from(deployments))
            event = Scale(
                deployment=chosen["metadata"]["name"],
                namespace="ml-team",
                replicas=draw(st.integers(1, 5)),
            )
        elif what == "delete":
            event = Delete(kind="InferenceCluster", name=target)
        else:
            event = Apply(manifests=(deployment(f"late-{len(events)}", draw(st.integers(1, 3))),))
        events.append(Timed(at=at, event=event))
    return Scenario(name="random", manifests=tuple(manifests), events=tuple(events))


def replayed(scenario: Scenario) -> Simulation:
    """The same scenario driven one moment at a time, as a notebook would.

    Events at the same moment are simultaneous (applied in one step, in their
    written order); reconciling between them would be a different history.
    """
    simulation = Simulation(scenario.manifests, timing=scenario.timing)
    for at in sorted({e.at for e in scenario.events}):
        for timed in (e for e in scenario.events if e.at == at):
            simulation.at(timed.at, timed.event)
        simulation.run(until=at)
    simulation.run()
    return simulation


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_random_scenarios_converge_never_overcommit_and_replay_exactly(scenario: Scenario) -> None:
    simulation = Simulation.from_scenario(scenario)
    simulation.run()
    assert simulation.failure is None
    assert all(step.converged for step in simulation.history)
    used_before: dict[tuple[str, str], int] = {}
    for step in simulation.history:
        for pool in step.pools:
            key = (pool.cluster, pool.pool)
            allowed = max(pool.nodes, used_before.get(key, 0))
            assert pool.used <= allowed, (
                f"t={step.time}: pool {key} has {pool.used} nodes used of {pool.nodes} "
                f"(was {used_before.get(key, 0)}) after {step.events}"
            )
            used_before[key] = pool.used
        for row in step.deployments:
            assert 0 <= row.ready <= row.placed <= row.wanted
    again = replayed(scenario)
    assert again.failure is None
    assert again.manifests() == simulation.manifests()
    assert again.placements() == simulation.placements()
    version = simulation.store.version
    for key in composites(simulation.store):
        simulation.control.reconcile(key, simulation.now)
    simulation.providers.settle(simulation.store, simulation.now)
    assert simulation.store.version == version
