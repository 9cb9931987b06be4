"""InferenceCluster: the cluster, how to reach it, its serving stack and its published pools."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from modelplane_core import api
from modelplane_core.compose import inference_cluster
from modelplane_core.compose.composition import Observed, ObservedResource
from modelplane_core.compose.inference_cluster import (
    PROVIDER_CONFIG_KEY,
    SERVING_STACK_KEY,
    provider_config_name,
)
from tests.unit.compose.platform.fixtures import (
    condition_of,
    converge,
    example,
    existing_cluster,
    gpu_device,
    inference_class,
    keys,
    manifest,
    next_pass,
    provisioned_cluster,
    ready_status,
    required_classes,
    schema_problems,
)

L4 = inference_class("l4")
GKE_L4 = inference_class("gke-l4", provider="GKE")
EKS_L4 = inference_class("eks-l4", provider="EKS")


def pool(name: str, class_name: str, nodes: int = 1, **fields: Any) -> api.NodePool:
    return api.NodePool(name=name, class_name=class_name, node_count=nodes, **fields)


def compose_with(
    cluster: api.InferenceCluster, classes: list[api.InferenceClass], **observed: Any
) -> tuple[Observed[api.InferenceCluster], Any]:
    inputs = Observed(composite=cluster, required=required_classes(cluster, classes), **observed)
    return inputs, inference_cluster.compose(inputs)


def stack_ready(address: str = "34.55.100.10") -> Any:
    def status_for(key: str, _: Any) -> dict[str, Any]:
        status: dict[str, Any] = {"conditions": [{"type": "Ready", "status": "True"}]}
        if key == SERVING_STACK_KEY:
            status["gateway"] = {"address": address}
        return status

    return status_for


def cloud_ready(kind: str) -> Any:
    """A cloud composite that is Ready and publishes its Secrets and cache class."""
    secrets: list[dict[str, Any]] = [
        {"type": "Kubeconfig", "name": "c-kubeconfig-1a2b3", "key": "kubeconfig"}
    ]
    if kind == "GKECluster":
        secrets.append(
            {"type": "GoogleApplicationCredentials", "name": "c-sa-key-4d5e6", "key": "private_key"}
        )
    cache = {"GKECluster": "modelplane-rwx", "EKSCluster": "modelplane-rwx-efs"}[kind]

    def status_for(_: str, manifest: Any) -> dict[str, Any]:
        status: dict[str, Any] = {"conditions": [{"type": "Ready", "status": "True"}]}
        if manifest["kind"] == kind:
            status.update({"secrets": secrets, "cache": {"storageClassName": cache}})
        return status

    return status_for


# --- Existing ------------------------------------------------------------------------------


def test_existing_cluster_first_pass_composes_provider_config_and_stack() -> None:
    cluster = example("concepts", "inference-cluster-existing.yaml")
    cls = example("concepts", "inference-class-h100-byo.yaml")
    _, composition = compose_with(cluster, [cls])
    assert keys(composition) == [PROVIDER_CONFIG_KEY, SERVING_STACK_KEY]
    assert schema_problems(composition) == []
    config = manifest(composition, PROVIDER_CONFIG_KEY)
    assert config["kind"] == "ClusterProviderConfig"
    assert config["metadata"]["name"] == provider_config_name("byo-us-east")
    assert config["spec"]["credentials"]["secretRef"] == {
        "name": "byo-cluster-kubeconfig",
        "namespace": "modelplane-system",
        "key": "kubeconfig",
    }
    assert "identity" not in config["spec"]
    stack = manifest(composition, SERVING_STACK_KEY)
    assert stack["metadata"]["namespace"] == "modelplane-system"
    assert [s["type"] for s in stack["spec"]["secrets"]] == ["Kubeconfig"]
    assert "nvidiaDriverRoot" not in stack["spec"]
    assert composition.resource(PROVIDER_CONFIG_KEY).ready is True
    assert composition.resource(SERVING_STACK_KEY).ready is False
    status = composition.status
    assert status["providerConfigRef"] == {"name": provider_config_name("byo-us-east")}
    assert [(p["name"], p["nodes"]) for p in status["gpuPools"]] == [("gpu-h100", 2)]
    assert status["gpuPools"][0]["devices"] == api.to_dict(cls)["spec"]["devices"]
    assert "gateway" not in status
    assert "cache" not in status
    assert condition_of(composition, "ClusterReady").reason == "ClusterRunning"
    assert condition_of(composition, "BackendReady").reason == "Installing"
    assert condition_of(composition, "PoolsPublished").status == "True"
    assert [r.match_name for r in composition.requirements] == ["h100-8x-byo"]
    assert composition.ready is None


def test_existing_cluster_with_identity_and_cache() -> None:
    cluster = existing_cluster(
        "byo",
        [pool("a", "l4")],
        identity_secret_ref=api.IdentitySecretRef(name="sa", key="key.json"),
        cache=api.ExistingCacheSettings(storage_class_name="weka-rwx"),
    )
    _, composition = compose_with(cluster, [L4])
    assert schema_problems(composition) == []
    identity = manifest(composition, PROVIDER_CONFIG_KEY)["spec"]["identity"]
    assert identity == {
        "type": "GoogleApplicationCredentials",
        "source": "Secret",
        "secretRef": {"name": "sa", "namespace": "modelplane-system", "key": "key.json"},
    }
    secrets = manifest(composition, SERVING_STACK_KEY)["spec"]["secrets"]
    assert [s["type"] for s in secrets] == ["Kubeconfig", "GoogleApplicationCredentials"]
    assert composition.status["cache"] == {"storageClassName": "weka-rwx"}


def test_existing_cluster_with_an_identity_provider_kubernetes_lacks_is_held() -> None:
    cluster = existing_cluster(
        "byo",
        [pool("a", "l4")],
        identity_secret_ref=api.IdentitySecretRef(
            name="sa", type="NebiusServiceAccountCredentials"
        ),
    )
    _, composition = compose_with(cluster, [L4])
    accepted = condition_of(composition, "Accepted")
    assert (accepted.status, accepted.reason) == ("False", "InvalidSpec")
    assert "spec.cluster.existing.identitySecretRef.type" in (accepted.message or "")
    assert composition.held
    assert composition.resources == ()


def test_second_pass_relays_the_gateway_address_once_the_stack_is_ready() -> None:
    cluster = example("concepts", "inference-cluster-existing.yaml")
    cls = example("concepts", "inference-class-h100-byo.yaml")
    inputs, first = compose_with(cluster, [cls])
    second = inference_cluster.compose(next_pass(inputs, first, stack_ready()))
    assert second.status["gateway"] == {"address": "34.55.100.10"}
    assert second.resource(SERVING_STACK_KEY).ready is True
    backend = condition_of(second, "BackendReady")
    assert (backend.status, backend.reason) == ("True", "BackendHealthy")
    assert second.events == ()


# --- provisioned -------------------------------------------------------------------------------


def test_gke_first_pass_composes_only_the_cloud_cluster() -> None:
    cluster = example("concepts", "inference-cluster-gke.yaml")
    cls = example("concepts", "inference-class-gke-l4.yaml")
    _, composition = compose_with(cluster, [cls])
    assert keys(composition) == ["gke-cluster"]
    assert schema_problems(composition) == []
    gke = manifest(composition, "gke-cluster")
    assert gke["kind"] == "GKECluster"
    assert gke["metadata"] == {"name": "gke-us-central", "namespace": "modelplane-system"}
    assert gke["spec"]["project"] == "my-gcp-project"
    system, gpu = gke["spec"]["nodePools"]
    assert (system["name"], system["role"]) == ("system", "System")
    assert gpu == {
        "name": "gpu-l4",
        "role": "GPU",
        "machineType": "g2-standard-8",
        "diskSizeGb": 100,
        "nodeCount": 1,
        "minNodeCount": 1,
        "maxNodeCount": 4,
        "gpu": {"acceleratorType": "nvidia-l4", "acceleratorCount": 1},
        "zones": ["us-central1-a", "us-central1-c"],
    }
    assert composition.resource("gke-cluster").ready is False
    assert "providerConfigRef" not in composition.status
    assert [p["name"] for p in composition.status["gpuPools"]] == ["gpu-l4"]
    assert condition_of(composition, "ClusterReady").reason == "Provisioning"
    assert condition_of(composition, "BackendReady").reason == "WaitingForCluster"


def test_autoscaled_pool_without_a_minimum_never_scales_below_its_published_size() -> None:
    cluster = provisioned_cluster(
        "c", "GKE", [pool("a", "gke-l4", nodes=3, max_node_count=6, zones=("z",))]
    )
    _, composition = compose_with(cluster, [GKE_L4])
    gpu = manifest(composition, "gke-cluster")["spec"]["nodePools"][1]
    assert (gpu["nodeCount"], gpu["minNodeCount"], gpu["maxNodeCount"]) == (3, 3, 6)
    fixed = provisioned_cluster("c", "GKE", [pool("a", "gke-l4", nodes=2, zones=("z",))])
    _, composition = compose_with(fixed, [GKE_L4])
    gpu = manifest(composition, "gke-cluster")["spec"]["nodePools"][1]
    assert (gpu["minNodeCount"], gpu["maxNodeCount"]) == (2, 2)


def test_gke_ready_composes_provider_config_with_identity_and_the_stack() -> None:
    cluster = example("concepts", "inference-cluster-gke.yaml")
    cls = example("concepts", "inference-class-gke-l4.yaml")
    inputs, first = compose_with(cluster, [cls])
    second = inference_cluster.compose(next_pass(inputs, first, cloud_ready("GKECluster")))
    assert keys(second) == [PROVIDER_CONFIG_KEY, "gke-cluster", SERVING_STACK_KEY]
    assert schema_problems(second) == []
    assert second.resource("gke-cluster").ready is True
    config = manifest(second, PROVIDER_CONFIG_KEY)["spec"]
    assert config["credentials"]["secretRef"]["name"] == "c-kubeconfig-1a2b3"
    assert config["identity"]["type"] == "GoogleApplicationCredentials"
    assert config["identity"]["secretRef"] == {
        "name": "c-sa-key-4d5e6",
        "namespace": "modelplane-system",
        "key": "private_key",
    }
    stack = manifest(second, SERVING_STACK_KEY)["spec"]
    assert stack["nvidiaDriverRoot"] == "/home/kubernetes/bin/nvidia"
    assert [s["type"] for s in stack["secrets"]] == ["Kubeconfig", "GoogleApplicationCredentials"]
    assert second.status["cache"] == {"storageClassName": "modelplane-rwx"}
    assert second.status["providerConfigRef"]["name"] == provider_config_name("gke-us-central")
    assert condition_of(second, "ClusterReady").reason == "ClusterRunning"
    assert [e.reason for e in second.events] == ["ComposingBackend"]


def test_eks_ready_composes_provider_config_without_identity() -> None:
    cluster = example("concepts", "inference-cluster-eks.yaml")
    cls = example("concepts", "inference-class-eks-l4.yaml")
    inputs, first = compose_with(cluster, [cls])
    eks = manifest(first, "eks-cluster")
    assert eks["spec"]["nodePools"][1]["instanceType"] == "g6.xlarge"
    assert eks["spec"]["nodePools"][1]["fabric"] == "None"
    second = inference_cluster.compose(next_pass(inputs, first, cloud_ready("EKSCluster")))
    assert schema_problems(second) == []
    assert "identity" not in manifest(second, PROVIDER_CONFIG_KEY)["spec"]
    assert "nvidiaDriverRoot" not in manifest(second, SERVING_STACK_KEY)["spec"]
    assert second.status["cache"] == {"storageClassName": "modelplane-rwx-efs"}


def test_eks_capacity_block_and_efa_reach_the_node_pool() -> None:
    cluster = provisioned_cluster(
        "c",
        "EKS",
        [
            pool(
                "h200",
                "eks-l4",
                zones=("us-west-2a",),
                capacity_block=api.CapacityBlock(capacity_reservation_id="cr-0123abc"),
                fabric=api.Fabric(type="EFA"),
            )
        ],
    )
    _, composition = compose_with(cluster, [EKS_L4])
    gpu = manifest(composition, "eks-cluster")["spec"]["nodePools"][1]
    assert gpu["capacityBlock"] == {"capacityReservationId": "cr-0123abc"}
    assert gpu["fabric"] == "EFA"
    assert schema_problems(composition) == []


def test_a_cluster_that_stops_being_ready_keeps_its_provider_config_and_stack() -> None:
    cluster = example("concepts", "inference-cluster-gke.yaml")
    cls = example("concepts", "inference-class-gke-l4.yaml")
    inputs, first = compose_with(cluster, [cls])
    inputs = next_pass(inputs, first, cloud_ready("GKECluster"))
    running = inference_cluster.compose(inputs)
    inputs = next_pass(inputs, running, stack_ready())
    # The GKECluster flaps: not Ready, and its status lost its Secrets.
    flapping = dict(inputs.resources)
    gke = dict(flapping["gke-cluster"].manifest)
    gke["status"] = {"conditions": [{"type": "Ready", "status": "False"}]}
    flapping["gke-cluster"] = ObservedResource(manifest=gke)
    held = inference_cluster.compose(attrs.evolve(inputs, resources=flapping))
    assert keys(held) == keys(running)
    assert manifest(held, SERVING_STACK_KEY)["spec"] == manifest(running, SERVING_STACK_KEY)["spec"]
    assert (
        manifest(held, PROVIDER_CONFIG_KEY)["spec"]
        == manifest(running, PROVIDER_CONFIG_KEY)["spec"]
    )
    assert held.resource(PROVIDER_CONFIG_KEY).ready is True
    assert held.status["providerConfigRef"] == running.status["providerConfigRef"]
    assert condition_of(held, "ClusterReady").reason == "Provisioning"


def test_a_cloud_composite_that_rejects_its_spec_is_surfaced() -> None:
    cluster = provisioned_cluster("c", "Nebius", [pool("h100", "neb")])
    neb = inference_class("neb", provider="Nebius")
    inputs, first = compose_with(cluster, [neb])
    assert manifest(first, "nebius-cluster")["kind"] == "NebiusCluster"
    assert schema_problems(first) == []

    def rejected(_: str, __: Any) -> dict[str, Any]:
        return {
            "conditions": [
                {"type": "Accepted", "status": "False", "reason": "NotSupported", "message": "no"}
            ]
        }

    second = inference_cluster.compose(next_pass(inputs, first, rejected))
    cluster_ready = condition_of(second, "ClusterReady")
    assert (cluster_ready.reason, cluster_ready.message) == (
        "CloudClusterRejected",
        "NebiusCluster modelplane-system/c does not accept its spec: no",
    )


# --- bad input ----------------------------------------------------------------------------------


def test_a_missing_class_withholds_its_pool_and_keeps_the_rest() -> None:
    cluster = existing_cluster("byo", [pool("gone", "missing"), pool("ok", "l4", nodes=3)])
    _, composition = compose_with(cluster, [L4])
    assert keys(composition) == [PROVIDER_CONFIG_KEY, SERVING_STACK_KEY]
    assert [(p["name"], p["nodes"]) for p in composition.status["gpuPools"]] == [("ok", 3)]
    published = condition_of(composition, "PoolsPublished")
    assert (published.status, published.reason) == ("False", "PoolsWithheld")
    assert "pool 'gone' (spec.nodePools[0].className)" in (published.message or "")
    assert "published: ok" in (published.message or "")
    assert [e.reason for e in composition.events] == ["ComposingBackend", "PoolsWithheld"]


def test_a_class_that_goes_missing_keeps_the_provisioned_node_pool() -> None:
    cluster = provisioned_cluster(
        "c", "GKE", [pool("a", "gke-l4", zones=("z",)), pool("b", "gke-b", zones=("z",))]
    )
    gke_b = inference_class("gke-b", provider="GKE")
    inputs, first = compose_with(cluster, [GKE_L4, gke_b])
    before = manifest(first, "gke-cluster")["spec"]["nodePools"]
    assert [p["name"] for p in before] == ["system", "a", "b"]
    inputs = next_pass(inputs, first)
    gone = attrs.evolve(inputs, required=required_classes(cluster, [GKE_L4]))
    after = inference_cluster.compose(gone)
    assert manifest(after, "gke-cluster")["spec"]["nodePools"] == before
    assert [p["name"] for p in after.status["gpuPools"]] == ["a"]
    assert schema_problems(after) == []
    # Removing the pool from the spec is what removes its node pool.
    trimmed = attrs.evolve(
        cluster, spec=attrs.evolve(cluster.spec, node_pools=(pool("a", "gke-l4", zones=("z",)),))
    )
    removed = inference_cluster.compose(attrs.evolve(gone, composite=trimmed))
    assert [p["name"] for p in manifest(removed, "gke-cluster")["spec"]["nodePools"]] == [
        "system",
        "a",
    ]


def test_a_dra_device_without_device_class_withholds_the_pool() -> None:
    bad = inference_class("bad", devices=(gpu_device(device_class_name=None),))
    cluster = existing_cluster("byo", [pool("a", "bad"), pool("b", "l4")])
    _, composition = compose_with(cluster, [bad, L4])
    assert [p["name"] for p in composition.status["gpuPools"]] == ["b"]
    message = condition_of(composition, "PoolsPublished").message or ""
    assert "spec.nodePools[0].className" in message
    assert "spec.devices[0].deviceClassName" in message


def test_duplicate_pool_names_publish_the_first() -> None:
    cluster = existing_cluster("byo", [pool("a", "l4", nodes=1), pool("a", "l4", nodes=9)])
    _, composition = compose_with(cluster, [L4])
    assert [(p["name"], p["nodes"]) for p in composition.status["gpuPools"]] == [("a", 1)]
    assert "spec.nodePools[1].name" in (condition_of(composition, "PoolsPublished").message or "")
    assert condition_of(composition, "Accepted").status == "True"


def test_zero_nodes_are_published_with_a_notice() -> None:
    cluster = existing_cluster("byo", [pool("a", "l4", nodes=0)])
    _, composition = compose_with(cluster, [L4])
    assert [(p["name"], p["nodes"]) for p in composition.status["gpuPools"]] == [("a", 0)]
    published = condition_of(composition, "PoolsPublished")
    assert published.status == "True"
    assert "spec.nodePools[0].nodeCount" in (published.message or "")


def test_unresolved_classes_hold_everything_as_observed() -> None:
    cluster = example("concepts", "inference-cluster-existing.yaml")
    cls = example("concepts", "inference-class-h100-byo.yaml")
    inputs, first = compose_with(cluster, [cls])
    live = next_pass(inputs, first, stack_ready())
    running = inference_cluster.compose(live)
    published = attrs.evolve(
        cluster, status=api.from_dict({**api.to_dict(cluster), "status": running.status}).status
    )
    waiting = Observed(composite=published, resources=live.resources, required={})
    held = inference_cluster.compose(waiting)
    assert held.held
    assert keys(held) == keys(running)
    assert held.resource(PROVIDER_CONFIG_KEY).ready is True
    assert held.status["gpuPools"] == running.status["gpuPools"]
    accepted = condition_of(held, "Accepted")
    assert (accepted.status, accepted.reason) == ("False", "WaitingForClasses")
    assert [r.key for r in held.requirements] == ["class-h100-8x-byo"]
    assert held.events == ()


def test_an_invalid_spec_holds_and_warns() -> None:
    cluster = existing_cluster("byo", [pool("a", "l4")])
    broken = attrs.evolve(
        cluster,
        spec=attrs.evolve(cluster.spec, cluster=api.ClusterSourceSpec(source="GKE")),
    )
    _, composition = compose_with(broken, [L4])
    accepted = condition_of(composition, "Accepted")
    assert accepted.reason == "InvalidSpec"
    assert "spec.cluster.gke" in (accepted.message or "")
    assert [e.type for e in composition.events] == ["Warning"]


def test_converged_existing_cluster_is_ready_for_placements() -> None:
    cluster = example("concepts", "inference-cluster-existing.yaml")
    cls = example("concepts", "inference-class-h100-byo.yaml")
    inputs, first = compose_with(cluster, [cls])
    final = inference_cluster.compose(next_pass(inputs, first, ready_status))
    # Every composed resource is marked ready, so Crossplane derives Ready=True.
    assert all(r.ready for r in final.resources)
    assert final.status["gateway"]["address"]


def test_duplicate_pool_names_never_duplicate_a_node_pool() -> None:
    pools = [pool("a", "gke-l4", zones=("z",)), pool("a", "gke-l4", nodes=5, zones=("z",))]
    cluster = provisioned_cluster("c", "GKE", pools)
    inputs, first = compose_with(cluster, [GKE_L4])
    second = inference_cluster.compose(next_pass(inputs, first))
    for composition in (first, second):
        names = [p["name"] for p in manifest(composition, "gke-cluster")["spec"]["nodePools"]]
        assert names == ["system", "a"]
        assert schema_problems(composition) == []


def _live_gke(pools: list[api.NodePool], classes: list[api.InferenceClass]) -> Any:
    """A converged GKE cluster: cloud cluster, provider config and stack all healthy."""
    cluster = provisioned_cluster("c", "GKE", pools)
    inputs = Observed(composite=cluster, required=required_classes(cluster, classes))
    return converge(inference_cluster.compose, inputs, ready_status)


BAD_CLASS = inference_class("gke-b", provider="GKE", devices=(gpu_device(device_class_name=None),))
HEALTHY = [pool("a", "gke-l4", nodes=2, zones=("z",)), pool("b", "gke-b", nodes=1, zones=("z",))]


@pytest.mark.parametrize(
    ("breakage", "pools", "classes", "named", "published"),
    [
        ("missing-class", HEALTHY, [GKE_L4], ["pool 'b'", "spec.nodePools[1].className"], ["a"]),
        (
            "zero-nodes",
            [HEALTHY[0], attrs.evolve(HEALTHY[1], node_count=0)],
            [GKE_L4, inference_class("gke-b", provider="GKE")],
            ["pool 'b'", "spec.nodePools[1].nodeCount"],
            ["a", "b"],
        ),
        (
            "duplicate-name",
            [*HEALTHY, pool("a", "gke-b", nodes=7, zones=("z",))],
            [GKE_L4, inference_class("gke-b", provider="GKE")],
            ["pool 'a'", "spec.nodePools[2].name"],
            ["a", "b"],
        ),
        (
            "dra-device-without-class",
            HEALTHY,
            [GKE_L4, BAD_CLASS],
            ["pool 'b'", "spec.nodePools[1].className", "spec.devices[0].deviceClassName"],
            ["a"],
        ),
    ],
)
def test_bad_pool_input_on_a_live_cluster_is_named_and_tears_nothing_down(
    breakage: str,
    pools: list[api.NodePool],
    classes: list[api.InferenceClass],
    named: list[str],
    published: list[str],
) -> None:
    """Issue 6: a condition naming the pool and field; no crash; healthy pools untouched."""
    inputs, running = _live_gke(HEALTHY, [GKE_L4, inference_class("gke-b", provider="GKE")])
    before = manifest(running, "gke-cluster")["spec"]["nodePools"]
    assert [p["name"] for p in running.status["gpuPools"]] == ["a", "b"]
    edited = attrs.evolve(
        inputs.composite, spec=attrs.evolve(inputs.composite.spec, node_pools=tuple(pools))
    )
    broken = inference_cluster.compose(
        attrs.evolve(inputs, composite=edited, required=required_classes(edited, classes))
    )
    # Nothing that runs is dropped or loses readiness, and every healthy node pool stays as it is.
    assert keys(broken) == keys(running)
    assert [r.ready for r in broken.resources] == [r.ready for r in running.resources]
    node_pools = manifest(broken, "gke-cluster")["spec"]["nodePools"]
    # No node pool removed or duplicated.
    assert [p["name"] for p in node_pools] == [p["name"] for p in before] == ["system", "a", "b"]
    after = {p["name"]: p for p in node_pools}
    assert after["a"] == before[1]
    assert manifest(broken, SERVING_STACK_KEY) == manifest(running, SERVING_STACK_KEY)
    assert broken.status["providerConfigRef"] == running.status["providerConfigRef"]
    # The healthy pool is still offered to the scheduler at its size.
    gpu_pools = {p["name"]: p["nodes"] for p in broken.status["gpuPools"]}
    assert list(gpu_pools) == published
    assert gpu_pools["a"] == 2
    message = condition_of(broken, "PoolsPublished").message or ""
    for text in named:
        assert text in message, f"{breakage}: {text!r} not in {message!r}"
    assert condition_of(broken, "Accepted").status == "True"
    assert schema_problems(broken) == []
