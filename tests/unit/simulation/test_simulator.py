"""The simulator end to end: real composers, simulated providers and time, events and metrics."""

from __future__ import annotations

import base64
import json

import pytest

from modelplane_core import api, demo
from modelplane_core.simulation import (
    Delete,
    Outage,
    Patch,
    Resize,
    Scale,
    Simulation,
    Taint,
    Timing,
    parse_scenario,
)
from modelplane_core.simulation.control_plane import composites
from modelplane_core.simulation.metrics import TABLES
from tests.simulation_fixtures import deployment, gpu_class, model_cache, service, small_fleet
from tests.unit.compose.platform.fixtures import NEBIUS_PROVIDER_CONFIG


def settled(*objects: object, **options: object) -> Simulation:
    simulation = Simulation([*small_fleet(), *objects], **options)  # type: ignore[arg-type]
    simulation.run()
    assert simulation.failure is None
    return simulation


def where(simulation: Simulation) -> list[tuple[str, str, bool]]:
    return [(p["deployment"], p["cluster"], p["ready"]) for p in simulation.placements()]


def test_a_fleet_comes_up_and_serves_with_only_the_real_composers() -> None:
    simulation = settled(deployment("chat", 2), service("chat", "chat"))
    # Spread: one replica per cluster, both ready.
    assert where(simulation) == [("ml-team/chat", "east", True), ("ml-team/chat", "west", True)]
    final = simulation.history[-1]
    assert [(c.cluster, c.ready, c.replicas) for c in final.clusters] == [
        ("east", True, 1),
        ("west", True, 1),
    ]
    (chat,) = final.services
    assert (chat.endpoints, chat.ready) == (2, True)
    assert chat.address is not None
    assert chat.address.endswith("/ml-team/chat")
    (row,) = final.deployments
    assert (row.wanted, row.placed, row.ready, row.reason) == (2, 2, 2, None)
    # Statuses are the composers': the ModelDeployment reports replicas for the scale subresource.
    typed = simulation.get("ModelDeployment", "chat", "ml-team")
    assert isinstance(typed, api.ModelDeployment)
    assert typed.status is not None
    assert typed.status.replicas is not None
    assert (typed.status.replicas.total, typed.status.replicas.ready) == (2, 2)


def test_time_moves_only_to_the_next_interesting_moment() -> None:
    timing = Timing(workload=100.0, apply=5.0, release=50.0, load_balancer=20.0)
    simulation = settled(deployment("chat"), timing=timing)
    times = [s.time for s in simulation.history]
    assert times == sorted(set(times))
    assert times[0] == 0.0
    # The replica is ready exactly `workload` seconds after it was created.
    created = next(s.time for s in simulation.history if s.created)
    ready = next(s.time for s in simulation.history if s.deployments and s.deployments[0].ready)
    assert ready - created == 100.0
    assert simulation.next_time() is None  # idle: nothing will change on its own


def test_a_gang_on_a_cold_cache_waits_for_hydration() -> None:
    timing = Timing(workload=60.0, gang=120.0, hydration=1000.0, warm_start=30.0)
    simulation = settled(
        model_cache("weights"),
        deployment("big", gang=1, cache="weights", memory="40Gi"),
        timing=timing,
    )
    # A gang of 2 nodes fits only east (west has one node).
    assert where(simulation) == [("ml-team/big", "east", True)]
    created = next(s.time for s in simulation.history if s.created)
    ready = next(s.time for s in simulation.history if s.deployments[0].ready)
    # Both wait for the cluster to be Ready: the cache's PVC and hydration Job are composed
    # in the same step the replica is placed, so the gang (ready alone after 120 s) waits
    # for the 1000 s download, then starts warm.
    assert ready - created == timing.hydration + timing.warm_start


def test_an_outage_keeps_the_replica_and_drops_only_its_endpoint() -> None:
    simulation = settled(deployment("chat", 2), service("chat", "chat"))
    before = simulation.placements()
    address = simulation.history[-1].services[0].address
    simulation.at(simulation.now + 60, Outage(cluster="west"))
    simulation.run()
    assert [(p["replica"], p["cluster"]) for p in simulation.placements()] == [
        (p["replica"], p["cluster"]) for p in before
    ]
    final = simulation.history[-1]
    assert [(c.cluster, c.ready) for c in final.clusters] == [("east", True), ("west", False)]
    assert (final.deployments[0].placed, final.deployments[0].ready) == (2, 1)
    assert (final.services[0].endpoints, final.services[0].address) == (1, address)
    assert not any(s.created or s.deleted for s in simulation.history[-3:])
    simulation.at(simulation.now + 60, Outage(cluster="west", down=False))
    simulation.run()
    final = simulation.history[-1]
    assert (final.deployments[0].ready, final.services[0].endpoints) == (2, 2)
    assert simulation.placements() == before


def test_a_drain_moves_the_replica_and_a_resize_gives_it_room() -> None:
    simulation = settled(deployment("chat", 2), service("chat", "chat"))
    simulation.at(simulation.now + 60, Taint(cluster="west", key="maintenance"))
    simulation.run()
    # east has two nodes: the drained replica lands there.
    assert [(d, c) for d, c, _ in where(simulation)] == [
        ("ml-team/chat", "east"),
        ("ml-team/chat", "east"),
    ]
    assert any(s.deleted for s in simulation.history)
    simulation.at(simulation.now + 60, Scale(deployment="chat", namespace="ml-team", replicas=3))
    simulation.run()
    short = simulation.history[-1].deployments[0]
    assert (short.placed, short.wanted) == (2, 3)
    assert short.reason is not None
    assert "had untolerated taint maintenance:NoExecute" in short.reason
    simulation.at(simulation.now + 60, Resize(cluster="east", pool="gpu", nodes=3))
    simulation.run()
    row = simulation.history[-1].deployments[0]
    assert (row.placed, row.ready) == (3, 3)
    pools = {(p.cluster, p.pool): (p.nodes, p.used) for p in simulation.history[-1].pools}
    assert pools == {("east", "gpu"): (3, 3), ("west", "gpu"): (1, 0)}


def test_deleting_a_cluster_re_places_its_replica_and_collects_its_objects() -> None:
    simulation = settled(deployment("chat", 1, selector={"modelplane.ai/region": "us-west"}))
    assert [c for _, c, _ in where(simulation)] == ["west"]
    owned_by_west = [
        k for k, s in simulation.store.items() if s.owner and s.owner.composite[3] == "west"
    ]
    assert owned_by_west
    simulation.at(simulation.now + 60, Delete(kind="InferenceCluster", name="west"))
    simulation.run()
    assert where(simulation) == []  # the selector allows only us-west
    assert not any(k in simulation.store for k in owned_by_west)
    row = simulation.history[-1].deployments[0]
    assert (row.placed, row.reason) == (
        0,
        "0/1 replicas scheduled; 0/1 clusters available: 1 didn't match clusterSelector",
    )


def test_refused_events_are_reported_and_the_run_goes_on() -> None:
    simulation = settled(deployment("chat"))
    now = simulation.now
    simulation.at(now + 10, Scale(deployment="ghost", namespace="ml-team", replicas=2))
    simulation.at(now + 20, Patch(kind="ModelDeployment", name="chat", namespace="ml-team",
                                  patch={"spec": {"replicas": -3}}))  # fmt: skip
    simulation.at(now + 30, Resize(cluster="east", pool="nope", nodes=2))
    simulation.at(now + 40, Outage(cluster="nowhere"))
    simulation.run()
    assert simulation.failure is None
    refused = [e.message for e in simulation.events if e.reason == "EventRefused"]
    assert refused == [
        "scale ModelDeployment ml-team/ghost to 2: ModelDeployment ml-team/ghost not found",
        "patch ModelDeployment ml-team/chat: ModelDeployment ml-team/chat is invalid: "
        "spec.replicas: must be at least 1 (got -3)",
        "resize pool nope of cluster east to 2 nodes: InferenceCluster east has no pool nope",
        "outage of cluster nowhere: InferenceCluster nowhere not found",
    ]
    steps = [s for s in simulation.history if s.time > now]
    first = next(e for s in steps for e in s.events)
    assert first.endswith("(refused: ModelDeployment ml-team/ghost not found)")
    assert where(simulation) == [("ml-team/chat", "east", True)]  # nothing torn down


def test_a_loop_that_does_not_settle_is_reported_and_stops_the_run() -> None:
    simulation = Simulation([*small_fleet(), deployment("chat")])
    simulation.max_rounds = 2  # far fewer than bringing a fleet up needs
    simulation.run()
    assert simulation.failure is not None
    assert simulation.failure.startswith(
        "the control plane did not converge at t=0s after 2 rounds"
    )
    assert simulation.history[-1].converged is False
    assert simulation.step() is None


def test_incremental_reconciliation_misses_nothing() -> None:
    """After convergence, reconciling every composite once more changes nothing."""
    simulation = settled(deployment("chat", 3), service("chat", "chat"))
    simulation.at(simulation.now + 60, Taint(cluster="east", key="drain"))
    simulation.run()
    version = simulation.store.version
    for key in composites(simulation.store):
        simulation.control.reconcile(key, simulation.now)
    simulation.providers.settle(simulation.store, simulation.now)
    assert simulation.store.version == version


def test_scheduling_an_event_in_the_past_is_refused() -> None:
    simulation = settled()
    with pytest.raises(ValueError, match="the simulation is at"):
        simulation.at(0, Outage(cluster="east"))


def test_typed_objects_and_manifests_simulate_alike() -> None:
    typed = [api.from_dict(m) for m in (*small_fleet(), deployment("chat"))]
    from_typed = Simulation(typed)
    from_typed.run()
    from_manifests = settled(deployment("chat"))
    assert from_typed.placements() == from_manifests.placements()


def test_metrics_export_as_rows_and_json() -> None:
    simulation = settled(deployment("chat", 2), service("chat", "chat"))
    exported = json.loads(simulation.to_json())
    assert sorted(exported) == sorted(TABLES)
    last_pools = [r for r in exported["pools"] if r["step"] == len(simulation.history) - 1]
    assert last_pools == [
        {"step": len(simulation.history) - 1, "time": simulation.now, "cluster": "east",
         "pool": "gpu", "nodes": 2, "used": 1, "gpusPerNode": 1, "gpusClaimed": 1, "free": 1,
         "gpusStranded": 0},
        {"step": len(simulation.history) - 1, "time": simulation.now, "cluster": "west",
         "pool": "gpu", "nodes": 1, "used": 1, "gpusPerNode": 1, "gpusClaimed": 1, "free": 0,
         "gpusStranded": 0},
    ]  # fmt: skip
    steps = simulation.rows("steps")
    assert sum(r["created"] for r in steps) == 2
    assert steps[-1]["converged"] is True
    with pytest.raises(KeyError, match="unknown table"):
        simulation.rows("nope")


def test_whole_node_accounting_strands_gpus() -> None:
    simulation = Simulation(
        [
            *small_fleet()[:1],
            {
                **small_fleet()[1],
                "metadata": {"name": "h100"},
                "spec": {**small_fleet()[1]["spec"], "devices": [
                    {**small_fleet()[1]["spec"]["devices"][0], "count": 8}
                ]},
            },
            {**small_fleet()[2], "spec": {**small_fleet()[2]["spec"], "nodePools": [
                {"name": "gpu", "className": "h100", "nodeCount": 2}
            ]}},
            deployment("chat"),
        ]
    )  # fmt: skip
    simulation.run()
    (pool,) = simulation.history[-1].pools
    # One pod claims one GPU of an eight-GPU node, and the whole node is charged.
    assert (pool.used, pool.gpus_per_node, pool.gpus_claimed, pool.gpus_stranded) == (1, 8, 1, 7)


def test_the_built_in_tour_tells_the_seeds_story() -> None:
    scenario = parse_scenario(demo.tour_yaml())
    simulation = Simulation.from_scenario(scenario)
    simulation.run(until=scenario.until)
    assert simulation.failure is None
    by_time = {}
    for step in simulation.history:
        by_time[step.time] = step
    # qwen-demo lands on the only (L4) cluster, then spreads to an L40S region when scaled.
    first = next(s for s in simulation.history if s.created)
    assert first.created == ("ml-team/qwen-demo-eks-us-east-0-3732d",)
    scaled = next(s for s in simulation.history if "scale ModelDeployment" in " ".join(s.events))
    assert [n.split("-0-")[0] for n in scaled.created] == ["ml-team/qwen-demo-eks-eu-central"]
    west = next(s for s in simulation.history if "qwen-west" in " ".join(s.events))
    assert [n.split("-0-")[0] for n in west.created] == ["ml-team/qwen-west-eks-us-west"]
    # The outage deletes nothing; only the drain does.
    outage = next(
        s for s in simulation.history if s.events == ("outage of cluster eks-eu-central",)
    )
    during = [s for s in simulation.history if outage.time <= s.time < outage.time + 1800]
    assert not any(s.deleted or s.created for s in during)
    drain = next(s for s in simulation.history if s.events and s.events[0].startswith("taint"))
    assert [n.split("-0-")[0] for n in drain.deleted] == ["ml-team/qwen-demo-eks-us-east"]
    assert drain.deployments[0].reason is not None
    assert "insufficient nodes" in drain.deployments[0].reason
    # One ModelService address, the same from the moment it exists to the end.
    addresses = {
        s.services[0].address for s in simulation.history if s.services and s.services[0].address
    }
    assert len(addresses) == 1
    assert [(p["deployment"], p["cluster"], p["ready"]) for p in simulation.placements()] == [
        ("ml-team/qwen-demo", "eks-eu-central", True),
        ("ml-team/qwen-demo", "eks-us-west", True),
        ("ml-team/qwen-west", "eks-us-west", True),
    ]


def nebius_fleet() -> list[dict[str, object]]:
    h100 = gpu_class("h100", memory="81559Mi")
    h100["spec"]["provisioning"] = {  # type: ignore[index]
        "provider": "Nebius",
        "nebius": {
            "platform": "gpu-h100-sxm",
            "preset": "1gpu-16vcpu-200gb",
            "accelerator": {"type": "nvidia-h100", "count": 1},
        },
    }
    return [
        h100,
        {
            "apiVersion": "modelplane.ai/v1alpha1",
            "kind": "InferenceCluster",
            "metadata": {"name": "neb"},
            "spec": {
                "cluster": {"source": "Nebius", "nebius": {}},
                "nodePools": [{"name": "h100", "className": "h100", "nodeCount": 1}],
            },
        },
    ]


def test_a_nebius_cluster_is_reached_with_the_token_its_providers_publish() -> None:
    """The simulated providers publish connection details, so Nebius access is bootstrapped."""
    simulation = Simulation([*nebius_fleet(), NEBIUS_PROVIDER_CONFIG])
    simulation.run()
    nebius = simulation.get("NebiusCluster", "neb", "modelplane-system")
    assert isinstance(nebius, api.NebiusCluster)
    conditions = {c.type: c for c in (nebius.status.conditions if nebius.status else None) or ()}
    assert conditions["AccessReady"].reason == "TokenIssued"
    (secret,) = [
        stored.manifest
        for key, stored in simulation.store.items()
        if key[1] == "Secret" and stored.manifest["metadata"]["name"].startswith("neb-kubeconfig")
    ]
    kubeconfig = base64.b64decode(secret["data"]["kubeconfig"]).decode()
    assert "token: simulated-" in kubeconfig
    assert simulation.history[-1].clusters[0].ready


def test_without_its_provider_config_a_nebius_cluster_says_why_and_is_not_ready() -> None:
    simulation = Simulation(nebius_fleet())
    simulation.run()
    nebius = simulation.get("NebiusCluster", "neb", "modelplane-system")
    assert isinstance(nebius, api.NebiusCluster)
    conditions = {c.type: c for c in (nebius.status.conditions if nebius.status else None) or ()}
    assert conditions["AccessReady"].reason == "InvalidCredentials"
    assert conditions["Ready"].status == "False"
    assert not simulation.history[-1].clusters[0].ready
