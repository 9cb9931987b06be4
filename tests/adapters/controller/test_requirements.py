"""Requirements through the controller: narrowed when settled, widened to place, watched first.

The deployments here are pinned to one cluster: where an unpinned one lands
depends on which clusters are ready when it is first reconciled, which the
simulator (every cluster up before any deployment) and the controller (each
as its providers report) may see differently, and placements are retained.
"""

from __future__ import annotations

from typing import Any

from modelplane_core.compose.model_deployment import (
    REQUIRE_OWN_REPLICAS,
    SCHEDULED,
)
from modelplane_core.simulation import Scale, Simulation
from tests.adapters.controller.apiserver import ApiServer
from tests.adapters.controller.backends import INSTANT, ApiTwin, store_objects
from tests.adapters.controller.test_same_engine import api_twin
from tests.simulation_fixtures import deployment, small_fleet

API = "modelplane.ai/v1alpha1"
CHAT = (API, "ModelDeployment", "ml-team", "chat")


def scheduled_reasons(server: ApiServer, since: int) -> list[str]:
    """Every ReplicasScheduled reason the deployment's status was written with since a version."""
    reasons = []
    with server.lock:
        history = list(server.history)
    for version, resource, _type, obj in history:
        if version <= since or resource.kind != "ModelDeployment":
            continue
        if obj["metadata"]["name"] != "chat":
            continue
        for condition in (obj.get("status") or {}).get("conditions") or ():
            if condition["type"] == SCHEDULED:
                reasons.append(condition.get("reason", ""))
    return reasons


def replicas(twin: ApiTwin) -> list[dict[str, Any]]:
    return twin.server.list(API, "ModelReplica")


def chat(count: int) -> dict[str, Any]:
    return deployment("chat", count, selector={"modelplane.ai/region": "us-east"})


def test_a_settled_deployment_scales_up_through_the_fleet_and_narrows_again() -> None:
    simulation = Simulation([*small_fleet(), chat(1)], timing=INSTANT)
    simulation.run()
    with api_twin() as twin:
        twin.follow(simulation)
        assert len(replicas(twin)) == 1
        engine = twin.controller.engine
        settled = sorted(r.key for r in engine._requirements[CHAT])
        assert settled == ["cluster-east", REQUIRE_OWN_REPLICAS]
        before = twin.server.version
        simulation.at(simulation.now, Scale(deployment="chat", namespace="ml-team", replicas=2))
        simulation.run()
        twin.follow(simulation)
        placed = replicas(twin)
        assert [r["spec"]["clusterName"] for r in placed] == ["east", "east"]
        status = twin.server.get(*CHAT[:2], CHAT[3], CHAT[2])["status"]
        assert status["replicas"]["total"] == 2
        # Widened to the fleet and placed in the same reconcile: the status never said
        # it was waiting for the fleet, as it did when the rounds alternated.
        reasons = scheduled_reasons(twin.server, before)
        assert reasons
        assert set(reasons) == {"ReplicasCreated"}, reasons
        assert sorted(r.key for r in engine._requirements[CHAT]) == settled
        assert store_objects(simulation.store) == twin.objects()


def test_a_required_kind_not_watched_yet_is_listed_before_anything_is_written() -> None:
    from modelplane_adapters.controller.kinds import watched_kinds

    without_replicas = tuple(k for k in watched_kinds() if k != (API, "ModelReplica"))
    simulation = Simulation([*small_fleet(), chat(2)], timing=INSTANT)
    simulation.run()
    with api_twin(kinds=without_replicas) as twin:
        twin.follow(simulation)
        assert (API, "ModelReplica") in twin.controller.informers
        assert store_objects(simulation.store) == twin.objects()
        # The plans made before the kind was listed were dropped, not written as failures.
        with twin.server.lock:
            history = list(twin.server.history)
        for _version, resource, _type, obj in history:
            if resource.kind == "Event":
                assert obj["reason"] != "ComposeFailed", obj["message"]
            for condition in (obj.get("status") or {}).get("conditions") or ():
                assert condition.get("reason") != "ReconcileError", condition
