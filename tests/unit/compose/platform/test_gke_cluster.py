"""GKECluster: the GCP resources of a cluster, its node pools and its RWX storage."""

from __future__ import annotations

from typing import Any

import attrs

from modelplane_core import api
from modelplane_core.compose import gke_cluster
from modelplane_core.compose.composition import Observed, ObservedResource
from modelplane_core.compose.gke_cluster import (
    IAM_BINDING_KEY,
    STORAGE_CLASS_KEY,
    kubeconfig_secret_name,
    service_account_key_secret_name,
)
from tests.unit.compose.platform.fixtures import (
    condition_of,
    example,
    inner,
    keys,
    manifest,
    next_pass,
    ready_status,
    schema_problems,
)

FIRST_PASS = [
    "cluster",
    "filestore-api",
    "network",
    "nodepool-gpu-h100",
    "nodepool-system",
    "provider-config-kubernetes",
    "service-account",
    "service-account-key",
    "subnet",
]


def gke() -> api.GKECluster:
    return example("reference", "gkeclusters.yaml")


def provisioned(key: str, manifest: Any) -> dict[str, Any]:
    """GCP as Crossplane observes it after creating everything."""
    status = dict(ready_status(key, manifest))
    if key == "service-account":
        status["atProvider"] = {"email": "mp-sa@my-gcp-project.iam.gserviceaccount.com"}
    if key == "network":
        manifest["metadata"]["annotations"] = {"crossplane.io/external-name": "vpc-x7k2p"}
    return status


def test_first_pass_composes_the_cloud_resources() -> None:
    composition = gke_cluster.compose(Observed(composite=gke()))
    assert keys(composition) == FIRST_PASS
    assert schema_problems(composition) == []
    for resource in composition.resources:
        if resource.manifest["apiVersion"].endswith(".gcp.m.upbound.io/v1beta1"):
            assert resource.manifest["metadata"]["namespace"] == "platform"
            assert resource.manifest["spec"]["providerConfigRef"] == {
                "kind": "ClusterProviderConfig",
                "name": "default",
            }
            if resource.key != "service-account-key":
                assert resource.manifest["spec"]["forProvider"]["project"] == "my-gcp-project"
    assert composition.resource("provider-config-kubernetes").ready is True
    assert not any(r.ready for r in composition.resources if r.key != "provider-config-kubernetes")
    cluster = manifest(composition, "cluster")
    assert cluster["spec"]["writeConnectionSecretToRef"] == {
        "name": kubeconfig_secret_name("inference-us-central")
    }
    assert cluster["spec"]["forProvider"]["location"] == "us-central1"
    assert composition.status == {
        "secrets": [
            {
                "type": "Kubeconfig",
                "name": kubeconfig_secret_name("inference-us-central"),
                "key": "kubeconfig",
            },
            {
                "type": "GoogleApplicationCredentials",
                "name": service_account_key_secret_name("inference-us-central"),
                "key": "private_key",
            },
        ],
        "cache": {"storageClassName": "modelplane-rwx"},
    }
    assert condition_of(composition, "ClusterReady").reason == "Provisioning"


def test_node_pools_are_labelled_and_sized_in_total() -> None:
    composition = gke_cluster.compose(Observed(composite=gke()))
    gpu = manifest(composition, "nodepool-gpu-h100")["spec"]["forProvider"]
    assert gpu["nodeConfig"]["labels"] == {
        "modelplane.ai/pool": "gpu-h100",
        "modelplane.ai/gpu": "nvidia-h100-80gb",
        "cloud.google.com/gke-nvidia-gpu-dra-driver": "true",
    }
    assert gpu["nodeConfig"]["guestAccelerator"][0]["count"] == 8
    assert gpu["nodeConfig"]["machineType"] == "a3-highgpu-8g"
    assert gpu["nodeConfig"]["diskSizeGb"] == 500
    assert gpu["nodeLocations"] == ["us-central1-a"]
    assert gpu["autoscaling"]["totalMinNodeCount"] == 0
    assert gpu["autoscaling"]["totalMaxNodeCount"] == 4
    system = manifest(composition, "nodepool-system")["spec"]["forProvider"]
    assert system["nodeConfig"]["labels"] == {"modelplane.ai/pool": "system"}
    assert "guestAccelerator" not in system["nodeConfig"]


def test_initial_nodes_per_zone_reach_the_node_count() -> None:
    spec = gke().spec
    pool = attrs.evolve(spec.node_pools[1], node_count=3, zones=("a", "b"))
    composite = attrs.evolve(gke(), spec=attrs.evolve(spec, node_pools=(spec.node_pools[0], pool)))
    composition = gke_cluster.compose(Observed(composite=composite))
    # Two zones, three nodes: two per zone so the pool starts with at least three.
    assert (
        manifest(composition, "nodepool-gpu-h100")["spec"]["forProvider"]["initialNodeCount"] == 2
    )


def test_the_provider_config_reaches_the_cluster_with_the_service_account() -> None:
    composition = gke_cluster.compose(Observed(composite=gke()))
    config = manifest(composition, "provider-config-kubernetes")
    assert config["metadata"]["name"] == kubeconfig_secret_name("inference-us-central")
    assert config["spec"]["identity"] == {
        "type": "GoogleApplicationCredentials",
        "source": "Secret",
        "secretRef": {
            "name": service_account_key_secret_name("inference-us-central"),
            "namespace": "platform",
            "key": "private_key",
        },
    }


def test_second_pass_binds_the_service_account_and_adds_storage() -> None:
    inputs = Observed(composite=gke())
    first = gke_cluster.compose(inputs)
    second = gke_cluster.compose(next_pass(inputs, first, provisioned))
    assert keys(second) == sorted([*FIRST_PASS, IAM_BINDING_KEY, STORAGE_CLASS_KEY])
    assert schema_problems(second) == []
    binding = manifest(second, IAM_BINDING_KEY)["spec"]["forProvider"]
    assert binding["member"] == "serviceAccount:mp-sa@my-gcp-project.iam.gserviceaccount.com"
    assert binding["role"] == "roles/container.admin"
    storage = inner(second, STORAGE_CLASS_KEY)
    assert storage["metadata"]["name"] == "modelplane-rwx"
    assert storage["parameters"] == {"tier": "enterprise", "network": "vpc-x7k2p"}
    assert "Delete" not in manifest(second, STORAGE_CLASS_KEY)["spec"]["managementPolicies"]
    assert all(second.resource(k).ready for k in FIRST_PASS)
    assert condition_of(second, "ClusterReady").status == "True"
    assert condition_of(second, "NodePoolsReady").status == "True"


def test_storage_waits_for_the_cluster_and_is_never_dropped() -> None:
    inputs = Observed(composite=gke())
    first = gke_cluster.compose(inputs)

    def cluster_pending(key: str, manifest: Any) -> dict[str, Any]:
        status = provisioned(key, manifest)
        if key == "cluster":
            status["conditions"] = [{"type": "Ready", "status": "False"}]
        return status

    waiting = gke_cluster.compose(next_pass(inputs, first, cluster_pending))
    assert STORAGE_CLASS_KEY not in keys(waiting)
    live = next_pass(next_pass(inputs, first, provisioned), waiting, provisioned)
    running = gke_cluster.compose(live)
    live = next_pass(live, running, provisioned)
    # The network's external name vanishes for a pass: the StorageClass is kept as it is.
    network = dict(live.resources["network"].manifest)
    network["metadata"] = {k: v for k, v in network["metadata"].items() if k != "annotations"}
    resources = {**live.resources, "network": ObservedResource(manifest=network)}
    kept = gke_cluster.compose(attrs.evolve(live, resources=resources))
    assert inner(kept, STORAGE_CLASS_KEY) == inner(running, STORAGE_CLASS_KEY)


def test_an_invalid_spec_is_held() -> None:
    spec = gke().spec
    no_zones = attrs.evolve(spec.node_pools[1], zones=None)
    bad = attrs.evolve(gke(), spec=attrs.evolve(spec, node_pools=(spec.node_pools[0], no_zones)))
    observed = Observed(composite=gke())
    running = gke_cluster.compose(observed)
    held = gke_cluster.compose(next_pass(observed, running, composite=bad))
    assert held.held
    assert keys(held) == keys(running)
    assert "spec.nodePools[1].zones" in (condition_of(held, "Accepted").message or "")
