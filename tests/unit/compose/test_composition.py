"""The Composition shape every composer returns, and the hold rule that keeps fleets running."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelplane_core import api
from modelplane_core.compose.composition import (
    Composition,
    DesiredResource,
    Event,
    Observed,
    ObservedResource,
    Requirement,
    condition,
    desired_from_observed,
    hold,
)
from modelplane_core.compose.fetched import Fetched


def live_object(name: str) -> dict[str, Any]:
    """A composed object as the API server returns it: server fields and status included."""
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelReplica",
        "metadata": {
            "name": name,
            "namespace": "ml-team",
            "labels": {"modelplane.ai/deployment": "qwen"},
            "annotations": {"crossplane.io/composition-resource-name": f"replica-{name}"},
            "uid": "2c6f1f9e",
            "resourceVersion": "48213",
            "generation": 3,
            "creationTimestamp": "2026-08-01T10:00:00Z",
            "managedFields": [{"manager": "crossplane"}],
            "ownerReferences": [{"kind": "ModelDeployment", "name": "qwen"}],
            "finalizers": ["in-use.crossplane.io"],
        },
        "spec": {"clusterName": "a"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def test_resources_are_ordered_by_key_whatever_order_they_were_composed_in() -> None:
    a = DesiredResource(key="a", manifest={"kind": "A"})
    b = DesiredResource(key="b", manifest={"kind": "B"})
    assert [r.key for r in Composition(resources=[b, a]).resources] == ["a", "b"]
    assert Composition(resources=[b, a]).to_dict() == Composition(resources=[a, b]).to_dict()


def test_two_resources_with_one_key_are_a_bug_not_a_silent_overwrite() -> None:
    with pytest.raises(ValueError, match="share the key 'a'"):
        Composition(
            resources=[DesiredResource(key="a", manifest={}), DesiredResource(key="a", manifest={})]
        )


def test_the_last_condition_of_a_type_wins_as_in_crossplane() -> None:
    out = Composition(
        conditions=(condition("Ready", False, "Starting"), condition("Ready", True, "Serving"))
    )
    found = out.condition("Ready")
    assert found is not None
    assert (found.status, found.reason) == ("True", "Serving")
    assert out.condition("Synced") is None
    assert condition("X", "Unknown", "Waiting").status == "Unknown"


def test_to_dict_shows_ready_and_held_only_when_set() -> None:
    plain = Composition().to_dict()
    assert "ready" not in plain
    assert "held" not in plain
    rendered = Composition(
        ready=False,
        held=True,
        resources=[DesiredResource(key="a", manifest={"kind": "A"}, ready=True)],
        events=(Event.warning("Bad", "why"),),
        requirements=(Requirement(key="r", api_version="v1", kind="Secret", match_name="s"),),
    ).to_dict()
    assert rendered["ready"] is False
    assert rendered["held"] is True
    assert rendered["resources"] == [{"key": "a", "ready": True, "manifest": {"kind": "A"}}]
    assert rendered["events"] == [{"type": "Warning", "reason": "Bad", "message": "why"}]
    assert rendered["requirements"][0]["matchName"] == "s"


def test_an_observed_object_is_reduced_to_what_a_composer_asks_for() -> None:
    seen = ObservedResource(manifest=live_object("qwen-a"))
    before = copy.deepcopy(seen.manifest)
    desired = desired_from_observed(seen)
    assert desired == {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelReplica",
        "metadata": {
            "name": "qwen-a",
            "namespace": "ml-team",
            "labels": {"modelplane.ai/deployment": "qwen"},
            "annotations": {"crossplane.io/composition-resource-name": "replica-qwen-a"},
        },
        "spec": {"clusterName": "a"},
    }
    assert seen.manifest == before  # the observed object is not modified
    assert seen.condition_true("Ready")
    assert not seen.condition_true("Synced")


def test_hold_keeps_every_observed_resource_and_the_observed_status() -> None:
    status = api.ModelDeploymentStatus(
        replicas=api.ReplicaCounts(total=2, ready=1),
        conditions=(api.Condition(type="Ready", status="True"),),
    )
    composite = api.ModelDeployment(
        metadata=api.ObjectMeta(name="qwen", namespace="ml-team"),
        spec=api.ModelDeploymentSpec(replicas=2, engines=()),
        status=status,
    )
    observed = Observed(
        composite=composite,
        resources={
            "replica-b": ObservedResource(manifest=live_object("qwen-b")),
            "replica-a": ObservedResource(manifest=live_object("qwen-a")),
        },
    )
    why = condition("ReplicasScheduled", False, "InvalidSpec", "spec.replicas: too small")
    held = hold(observed, conditions=[why], ready_keys=["replica-a"])
    assert held.held
    assert [(r.key, r.ready) for r in held.resources] == [("replica-a", True), ("replica-b", None)]
    for resource in held.resources:
        assert resource.manifest == desired_from_observed(observed.resources[resource.key])
    # The status fields are kept (conditions travel on their own channel, not as a field).
    assert held.status == {"replicas": {"total": 2, "ready": 1}}
    assert held.conditions == (why,)
    replaced = hold(observed, status={"replicas": {"total": 0, "ready": 0}})
    assert replaced.status == {"replicas": {"total": 0, "ready": 0}}


def test_required_or_none_tells_unfetched_from_not_found() -> None:
    observed = Observed(composite=None, required={"found-nothing": ()})
    assert observed.required_or_none("found-nothing") == Fetched()
    assert observed.required_or_none("not-fetched") is None
