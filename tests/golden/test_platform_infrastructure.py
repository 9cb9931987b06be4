"""Golden compositions of the internal composites: ServingStack, GKECluster, EKSCluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelplane_core import api
from modelplane_core.compose import eks_cluster, gke_cluster, serving_stack
from modelplane_core.compose.composition import Composition, Observed
from tests.golden_support import as_yaml, assert_golden
from tests.unit.compose.platform.fixtures import converge, example, ready_status, schema_problems

COMPOSERS: dict[str, tuple[str, Callable[[Observed[Any]], Composition]]] = {
    "serving-stack": ("servingstacks.yaml", serving_stack.compose),
    "gke-cluster": ("gkeclusters.yaml", gke_cluster.compose),
    "eks-cluster": ("eksclusters.yaml", eks_cluster.compose),
}


def provisioned(key: str, manifest: Any) -> Any:
    """Healthy cloud resources, with the IDs and names their siblings wait for."""
    status = dict(ready_status(key, manifest))
    if key == "service-account":
        status["atProvider"] = {"email": "modelplane@my-gcp-project.iam.gserviceaccount.com"}
    if key == "network":
        manifest["metadata"]["annotations"] = {"crossplane.io/external-name": "vpc-x7k2p"}
    if key == "efs-filesystem":
        status["atProvider"] = {"id": "fs-0abc123"}
    return status


@pytest.mark.parametrize("name", sorted(COMPOSERS))
def test_reference_composite(name: str) -> None:
    file, compose = COMPOSERS[name]
    composite = example("reference", file)
    first = compose(Observed(composite=composite))
    _, ready = converge(compose, Observed(composite=composite), provisioned)
    assert schema_problems(first) == []
    assert schema_problems(ready) == []
    assert all(r.ready for r in ready.resources)
    assert_golden(f"platform/{name}-first-pass", as_yaml(api.to_dict(composite), first.to_dict()))
    assert_golden(f"platform/{name}-ready", as_yaml(ready.to_dict()))
