"""Golden compositions of the internal composites: ServingStack and the cloud clusters.

Each is rendered on its first pass (nothing observed yet) and once converged
(every composed resource observed healthy, with the IDs, names and connection
details its siblings wait for). AKSCluster and VultrCluster come from the
project's own examples (``examples/infrastructure``); the others from the
documentation's reference pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelplane_core import api
from modelplane_core.compose import (
    aks_cluster,
    eks_cluster,
    gke_cluster,
    nebius_cluster,
    serving_stack,
    vultr_cluster,
)
from modelplane_core.compose.composition import Composition, Observed
from modelplane_core.compose.platform.cluster_access import CREDENTIALS_KEY
from tests.golden_support import as_yaml, assert_golden
from tests.support import REPO_ROOT
from tests.unit.compose.platform.fixtures import (
    NEBIUS_PROVIDER_CONFIG,
    converge,
    example,
    ready_status,
    schema_problems,
)

COMPOSERS: dict[str, tuple[str, Callable[[Observed[Any]], Composition]]] = {
    "serving-stack": ("servingstacks.yaml", serving_stack.compose),
    "gke-cluster": ("gkeclusters.yaml", gke_cluster.compose),
    "eks-cluster": ("eksclusters.yaml", eks_cluster.compose),
    "nebius-cluster": ("nebiusclusters.yaml", nebius_cluster.compose),
    "aks-cluster": ("aksclusters.yaml", aks_cluster.compose),
    "vultr-cluster": ("vultrclusters.yaml", vultr_cluster.compose),
}
OWN = {"aks-cluster", "vultr-cluster"}


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


def composite(name: str) -> Any:
    file, _ = COMPOSERS[name]
    if name in OWN:
        (obj,) = api.load_yaml((REPO_ROOT / "examples" / "infrastructure" / file).read_text())
        return obj
    return example("reference", file)


@pytest.mark.parametrize("name", sorted(COMPOSERS))
def test_composite(name: str) -> None:
    _, compose = COMPOSERS[name]
    obj = composite(name)
    required = {CREDENTIALS_KEY: (NEBIUS_PROVIDER_CONFIG,)} if name == "nebius-cluster" else {}
    first = compose(Observed(composite=obj, required=required))
    _, ready = converge(compose, Observed(composite=obj, required=required), provisioned)
    assert schema_problems(first) == []
    assert schema_problems(ready) == []
    assert all(r.ready for r in ready.resources)
    assert ready.ready is not False
    assert_golden(f"platform/{name}-first-pass", as_yaml(api.to_dict(obj), first.to_dict()))
    assert_golden(f"platform/{name}-ready", as_yaml(ready.to_dict()))
