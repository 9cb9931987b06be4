"""Golden InferenceCluster compositions for every example platform manifest.

Each cluster is rendered on its first pass (nothing observed yet) and once
converged (every composed resource observed healthy: the cloud cluster up,
the serving stack ready with its gateway address).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelplane_core import api
from modelplane_core.compose import inference_cluster
from modelplane_core.compose.composition import Observed
from tests.golden_support import as_yaml, assert_golden
from tests.unit.compose.platform.fixtures import (
    converge,
    example,
    examples,
    ready_status,
    required_classes,
    schema_problems,
)

CONCEPTS = {
    "existing": ("inference-cluster-existing.yaml", ["inference-class-h100-byo.yaml"]),
    "gke": ("inference-cluster-gke.yaml", ["inference-class-gke-l4.yaml"]),
    "eks": ("inference-cluster-eks.yaml", ["inference-class-eks-l4.yaml"]),
    "nebius": ("inference-cluster-nebius.yaml", ["inference-class-nebius-h100.yaml"]),
}
GETTING_STARTED = [
    ("gke", "platform.yaml"),
    ("gke", "platform-scale.yaml"),
    ("eks", "platform.yaml"),
    ("eks", "platform-scale.yaml"),
    ("nebius", "platform.yaml"),
]


# Our own recipes for the clouds the documentation has no example of (see test_v03_examples).
CLOUDS = Path(__file__).resolve().parent / "inputs" / "v03" / "clouds"


def render(name: str, cluster: api.InferenceCluster, classes: list[api.InferenceClass]) -> None:
    inputs = Observed(composite=cluster, required=required_classes(cluster, classes))
    first = inference_cluster.compose(inputs)
    assert schema_problems(first) == []
    _, ready = converge(inference_cluster.compose, inputs, ready_status)
    assert schema_problems(ready) == []
    assert_golden(f"platform/{name}-first-pass", as_yaml(api.to_dict(cluster), first.to_dict()))
    assert_golden(f"platform/{name}-ready", as_yaml(ready.to_dict()))


@pytest.mark.parametrize("name", sorted(CONCEPTS))
def test_concept_cluster(name: str) -> None:
    cluster_file, class_files = CONCEPTS[name]
    cluster = example("concepts", cluster_file)
    classes = [example("concepts", f) for f in class_files]
    render(f"cluster-{name}", cluster, classes)


@pytest.mark.parametrize(("folder", "file"), GETTING_STARTED)
def test_getting_started_platform(folder: str, file: str) -> None:
    objects: list[Any] = examples("getting-started", folder, file)
    classes = [o for o in objects if isinstance(o, api.InferenceClass)]
    clusters = [o for o in objects if isinstance(o, api.InferenceCluster)]
    assert clusters
    for cluster in clusters:
        stem = file.removesuffix(".yaml")
        render(f"getting-started-{folder}-{stem}-{cluster.metadata.name}", cluster, classes)


@pytest.mark.parametrize("cloud", ["aks", "nebius", "vultr"])
def test_provisioned_cloud_cluster(cloud: str) -> None:
    objects = list(api.load_yaml((CLOUDS / f"{cloud}.yaml").read_text()))
    (cluster,) = [o for o in objects if isinstance(o, api.InferenceCluster)]
    classes = [o for o in objects if isinstance(o, api.InferenceClass)]
    render(f"cluster-{cloud}-v03", cluster, classes)


def test_reference_cluster_reports_its_unprovisionable_pool() -> None:
    """The reference example pairs a GKE cluster with a BYO class: reported, not provisioned."""
    cluster = example("reference", "inferenceclusters.yaml")
    byo = example("concepts", "inference-class-h100-byo.yaml")
    composition = inference_cluster.compose(
        Observed(composite=cluster, required=required_classes(cluster, [byo]))
    )
    assert composition.status["gpuPools"] == []
    assert schema_problems(composition) == []
    assert_golden("platform/reference-cluster-first-pass", as_yaml(composition.to_dict()))
