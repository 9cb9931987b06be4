"""The engine's requirement rounds: widen within one reconcile, narrow for the next one."""

from __future__ import annotations

from typing import Any

import pytest

from modelplane_core.compose import Requirement
from modelplane_core.compose.model_deployment import (
    REQUIRE_CLUSTERS,
    REQUIRE_OWN_REPLICAS,
    REQUIRE_REPLICAS,
    SCHEDULED,
)
from modelplane_core.reconcile import MAX_REQUIREMENT_ROUNDS, Engine
from modelplane_core.reconcile.engine import _covers
from modelplane_core.simulation import Scale, Simulation
from modelplane_core.simulation.events import merge_patch
from tests.simulation_fixtures import deployment, small_fleet

KEY = ("modelplane.ai/v1alpha1", "ModelDeployment", "ml-team", "chat")


def settled_chat(replicas: int = 1) -> Simulation:
    simulation = Simulation([*small_fleet(), deployment("chat", replicas)])
    simulation.run()
    assert simulation.failure is None
    return simulation


def requirement_keys(engine: Engine) -> list[str]:
    return sorted(r.key for r in engine._requirements[KEY])


def scheduled(composition: object) -> tuple[str, str]:
    for condition in composition.conditions:  # type: ignore[attr-defined]
        if condition.type == SCHEDULED:
            return condition.status, condition.reason
    raise AssertionError("no ReplicasScheduled condition")


def narrowed(engine: Engine) -> bool:
    """Only its own replicas and the clusters they run on, by name."""
    keys = requirement_keys(engine)
    return REQUIRE_OWN_REPLICAS in keys and all(
        k == REQUIRE_OWN_REPLICAS or k.startswith("cluster-") for k in keys
    )


def test_a_settled_deployment_asks_for_its_own_part_of_the_fleet_only() -> None:
    engine = settled_chat().control.engine
    assert narrowed(engine)
    assert requirement_keys(engine) == ["cluster-east", REQUIRE_OWN_REPLICAS]


def test_scaling_up_widens_to_the_fleet_and_places_in_one_reconcile() -> None:
    simulation = settled_chat()
    store, engine = simulation.store, simulation.control.engine
    stored = store.get(KEY)
    assert stored is not None
    store.put(merge_patch(stored.manifest, {"spec": {"replicas": 2}}), now=simulation.now)
    calls = engine.composer_calls
    plan = engine.plan(KEY)
    assert plan is not None
    assert plan.composition is not None
    # Own replicas -> "I need the fleet" (held) -> the fleet -> placed: two calls, and the
    # placement is what is written, not a hold from alternating until the rounds run out.
    assert engine.composer_calls - calls == 2 < MAX_REQUIREMENT_ROUNDS
    assert not plan.composition.held
    assert scheduled(plan.composition) == ("True", "ReplicasCreated")
    assert len([m for m, _ in plan.applies if m["kind"] == "ModelReplica"]) == 2
    # It keeps the fleet while the replica it placed does not exist yet ...
    assert requirement_keys(engine) == [REQUIRE_CLUSTERS, REQUIRE_REPLICAS]
    # ... and narrows again once it does.
    simulation.control.reconcile(KEY, simulation.now)
    simulation.at(simulation.now + 1, Scale(deployment="chat", namespace="ml-team", replicas=2))
    simulation.run()
    assert len(simulation.placements()) == 2
    assert narrowed(engine)


def test_a_scale_up_never_reports_resolving_the_fleet() -> None:
    simulation = settled_chat()
    written: list[tuple[str, str]] = []
    original = simulation.store.set_status

    def spy(key: tuple[str, str, str, str], status: object) -> bool:
        if key == KEY:
            for condition in status.get("conditions") or ():  # type: ignore[attr-defined]
                if condition["type"] == SCHEDULED:
                    written.append((condition["status"], condition.get("reason", "")))
        return original(key, status)  # type: ignore[arg-type]

    simulation.store.set_status = spy  # type: ignore[method-assign]
    simulation.at(simulation.now, Scale(deployment="chat", namespace="ml-team", replicas=2))
    simulation.run()
    assert simulation.failure is None
    assert len(simulation.placements()) == 2
    assert written, "the deployment's status was never written"
    assert all(reason == "ReplicasCreated" for _status, reason in written), written


def test_a_deployment_placing_for_the_first_time_keeps_the_fleet() -> None:
    simulation = Simulation(small_fleet())
    simulation.run()
    engine = simulation.control.engine
    simulation.store.put(deployment("chat", 1), now=simulation.now)
    plan = engine.plan(KEY)
    assert plan is not None
    assert plan.composition is not None
    assert scheduled(plan.composition) == ("True", "ReplicasCreated")
    # Nothing observed yet: the fleet stays required until its replicas exist.
    assert requirement_keys(engine) == [REQUIRE_CLUSTERS, REQUIRE_REPLICAS]


def replicas_requirement(**selector: Any) -> Requirement:
    return Requirement(
        key="r", api_version="modelplane.ai/v1alpha1", kind="ModelReplica", **selector
    )


@pytest.mark.parametrize(
    ("given", "wanted", "covered"),
    [
        ({"match_labels": {}}, {"match_labels": {"d": "a"}, "namespace": "n"}, True),
        ({"match_labels": {"d": "a"}}, {"match_labels": {"d": "a", "x": "y"}}, True),
        ({"match_labels": {"d": "a"}}, {"match_labels": {"d": "b"}}, False),
        ({"match_labels": {"d": "a"}, "namespace": "n"}, {"match_labels": {"d": "a"}}, False),
        ({"match_labels": {}}, {"match_name": "x"}, True),
        ({"match_labels": {"d": "a"}}, {"match_name": "x"}, False),
        ({"match_name": "x"}, {"match_name": "x"}, True),
        ({"match_name": "x"}, {"match_labels": {}}, False),
    ],
)
def test_what_a_requirement_covers(
    given: dict[str, Any], wanted: dict[str, Any], covered: bool
) -> None:
    assert _covers(replicas_requirement(**given), replicas_requirement(**wanted)) is covered


def test_another_kind_is_never_covered() -> None:
    clusters = Requirement(
        key="c", api_version="modelplane.ai/v1alpha1", kind="InferenceCluster", match_labels={}
    )
    assert not _covers(clusters, replicas_requirement(match_labels={}))
