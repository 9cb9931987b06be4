"""NebiusCluster: refused clearly, without touching anything that exists."""

from __future__ import annotations

from modelplane_core.compose import nebius_cluster
from modelplane_core.compose.composition import Observed, ObservedResource
from tests.unit.compose.platform.fixtures import condition_of, example, keys


def test_nebius_provisioning_is_refused_with_a_reason() -> None:
    composite = example("reference", "nebiusclusters.yaml")
    composition = nebius_cluster.compose(Observed(composite=composite))
    accepted = condition_of(composition, "Accepted")
    assert (accepted.status, accepted.reason) == ("False", "NotSupported")
    assert "provider-kubernetes" in (accepted.message or "")
    assert "source: Existing" in (accepted.message or "")
    assert composition.resources == ()
    assert [e.type for e in composition.events] == ["Warning"]


def test_whatever_exists_is_kept() -> None:
    composite = example("reference", "nebiusclusters.yaml")
    live = ObservedResource(
        manifest={
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "x", "uid": "u"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
    )
    composition = nebius_cluster.compose(Observed(composite=composite, resources={"x": live}))
    assert keys(composition) == ["x"]
    assert composition.resource("x").ready is True
    assert "uid" not in composition.resource("x").manifest["metadata"]
