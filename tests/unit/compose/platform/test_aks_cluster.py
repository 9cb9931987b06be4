"""AKSCluster: the Azure resources of a cluster, its node pools and its RWX storage."""

from __future__ import annotations

from typing import Any

import attrs

from modelplane_core import api
from modelplane_core.api.infrastructure import AKSNetworking
from modelplane_core.compose import aks_cluster
from modelplane_core.compose.aks_cluster import NETWORK_OPERATOR_KEY, aks_cluster_name
from modelplane_core.compose.composition import Observed, desired_from_observed
from modelplane_core.compose.platform.cloud_composite import (
    STORAGE_CLASS_KEY,
    kubeconfig_secret_name,
)
from tests.support import REPO_ROOT
from tests.unit.compose.platform.fixtures import (
    condition_of,
    converge,
    inner,
    keys,
    manifest,
    next_pass,
    ready_status,
    schema_problems,
)

FIRST_PASS = [
    "cluster",
    "nodepool-a100",
    "nodepool-h100ib",
    "provider-config-helm",
    "provider-config-kubernetes",
    "resource-group",
    "subnet",
    "virtual-network",
]


def aks(**changes: Any) -> api.AKSCluster:
    (composite,) = api.load_yaml(
        (REPO_ROOT / "examples" / "infrastructure" / "aksclusters.yaml").read_text()
    )
    assert isinstance(composite, api.AKSCluster)
    return attrs.evolve(composite, spec=attrs.evolve(composite.spec, **changes))


def with_pool(index: int, **changes: Any) -> api.AKSCluster:
    pools = list(aks().spec.node_pools)
    pools[index] = attrs.evolve(pools[index], **changes)
    return aks(node_pools=tuple(pools))


def for_provider(composition: Any, key: str) -> dict[str, Any]:
    found: dict[str, Any] = manifest(composition, key)["spec"]["forProvider"]
    return found


def test_first_pass_composes_the_azure_resources_and_publishes_access() -> None:
    composition = aks_cluster.compose(Observed(composite=aks()))
    assert keys(composition) == FIRST_PASS
    assert schema_problems(composition) == []
    name = aks_cluster_name("modelplane-system", "aks-westeurope")
    group = manifest(composition, "resource-group")
    assert group["metadata"]["name"] == name
    cluster = manifest(composition, "cluster")
    assert cluster["metadata"]["name"] == name
    assert cluster["spec"]["writeConnectionSecretToRef"] == {
        "name": kubeconfig_secret_name("aks-westeurope")
    }
    assert cluster["spec"]["forProvider"]["networkProfile"]["networkPluginMode"] == "overlay"
    assert composition.status == {
        "secrets": [
            {
                "type": "Kubeconfig",
                "name": kubeconfig_secret_name("aks-westeurope"),
                "key": "kubeconfig",
            }
        ],
        "cache": {"storageClassName": "modelplane-rwx-fs"},
    }
    assert [c.reason for c in composition.conditions] == [
        "Composed",
        "Provisioning",
        "Provisioning",
    ]
    # Nothing reaches into the cluster before it exists.
    assert STORAGE_CLASS_KEY not in keys(composition)
    assert NETWORK_OPERATOR_KEY not in keys(composition)


def test_the_first_system_pool_is_the_clusters_default_pool() -> None:
    composition = aks_cluster.compose(Observed(composite=aks()))
    default = for_provider(composition, "cluster")["defaultNodePool"]
    assert default["name"] == "system"
    assert default["vmSize"] == "Standard_D4s_v5"
    assert (default["autoScalingEnabled"], default["minCount"], default["maxCount"]) == (
        True,
        1,
        2,
    )
    assert default["temporaryNameForRotation"] != "system"
    assert len(default["temporaryNameForRotation"]) <= 12
    assert "nodepool-system" not in keys(composition)


def test_a_spec_without_a_system_pool_gets_the_standard_one() -> None:
    gpu_only = aks(node_pools=aks().spec.node_pools[1:])
    composition = aks_cluster.compose(Observed(composite=gpu_only))
    default = for_provider(composition, "cluster")["defaultNodePool"]
    assert (default["name"], default["vmSize"]) == ("system", "Standard_D4s_v5")
    assert {"nodepool-a100", "nodepool-h100ib"} <= set(keys(composition))


def test_gpu_pools_get_the_driver_a_taint_and_their_labels() -> None:
    composition = aks_cluster.compose(Observed(composite=aks()))
    pool = manifest(composition, "nodepool-a100")
    assert pool["metadata"]["annotations"] == {"crossplane.io/external-name": "a100"}
    spec = pool["spec"]
    assert spec["forProvider"]["gpuDriver"] == "Install"
    assert spec["forProvider"]["nodeTaints"] == ["nvidia.com/gpu=true:NoSchedule"]
    assert spec["forProvider"]["nodeLabels"] == {
        "modelplane.ai/pool": "a100",
        "modelplane.ai/gpu": "nvidia-a100",
    }
    assert spec["forProvider"]["zones"] == ["1"]
    assert spec["forProvider"]["mode"] == "User"


def test_autoscaled_pools_leave_their_size_to_the_autoscaler() -> None:
    composition = aks_cluster.compose(Observed(composite=aks()))
    scaled = manifest(composition, "nodepool-a100")["spec"]
    assert (scaled["forProvider"]["minCount"], scaled["forProvider"]["maxCount"]) == (1, 4)
    assert "nodeCount" not in scaled["forProvider"]
    assert scaled["initProvider"] == {"nodeCount": 1}
    assert "LateInitialize" not in scaled["managementPolicies"]
    fixed = manifest(composition, "nodepool-h100ib")["spec"]
    assert fixed["forProvider"]["autoScalingEnabled"] is False
    assert fixed["forProvider"]["nodeCount"] == 2
    assert "initProvider" not in fixed


def test_credentials_authenticate_every_azure_resource_only() -> None:
    creds = api.CloudCredentials(type="ProviderConfig", name="team-azure")
    _, ready = converge(aks_cluster.compose, Observed(composite=aks(credentials=creds)))
    for resource in ready.resources:
        ref = resource.manifest["spec"].get("providerConfigRef", {})
        if resource.manifest["apiVersion"].endswith(".upbound.io/v1beta1"):
            assert ref == {"kind": "ProviderConfig", "name": "team-azure"}, resource.key
        else:
            assert ref.get("name") != "team-azure", resource.key


def test_a_ready_cluster_gets_storage_and_the_infiniband_operator() -> None:
    _, ready = converge(aks_cluster.compose, Observed(composite=aks()))
    assert schema_problems(ready) == []
    assert all(r.ready for r in ready.resources)
    storage = inner(ready, STORAGE_CLASS_KEY)
    assert storage["metadata"]["name"] == "modelplane-rwx-fs"
    assert storage["provisioner"] == "file.csi.azure.com"
    assert "mfsymlinks" in storage["mountOptions"]
    operator = manifest(ready, NETWORK_OPERATOR_KEY)["spec"]
    assert operator["forProvider"]["chart"]["name"] == "network-operator"
    assert operator["forProvider"]["values"]["daemonsets"]["tolerations"][0]["key"] == (
        "nvidia.com/gpu"
    )
    assert "Delete" not in operator["managementPolicies"]
    assert [c.status for c in ready.conditions] == ["True", "True", "True"]
    # Without an InfiniBand pool there is no network operator.
    pools = tuple(p for p in aks().spec.node_pools if p.fabric == "None")
    _, plain = converge(aks_cluster.compose, Observed(composite=aks(node_pools=pools)))
    assert NETWORK_OPERATOR_KEY not in keys(plain)


def test_a_pool_that_cannot_be_sized_keeps_its_agent_pool() -> None:
    observed, running = converge(aks_cluster.compose, Observed(composite=aks()))
    bad = with_pool(1, min_node_count=5, max_node_count=4, node_count=5)
    composition = aks_cluster.compose(attrs.evolve(observed, composite=bad))
    assert not composition.held
    kept = manifest(composition, "nodepool-a100")
    assert kept == desired_from_observed(observed.resources["nodepool-a100"])
    assert kept["spec"] == manifest(running, "nodepool-a100")["spec"]
    pools = condition_of(composition, "NodePoolsReady")
    assert (pools.status, pools.reason) == ("False", "InvalidNodePool")
    assert "spec.nodePools[1].minNodeCount" in (pools.message or "")
    # Never built before: nothing to keep, and still reported.
    fresh = aks_cluster.compose(Observed(composite=bad))
    assert "nodepool-a100" not in keys(fresh)
    assert condition_of(fresh, "NodePoolsReady").reason == "InvalidNodePool"


def test_an_invalid_default_pool_or_network_holds_the_cluster() -> None:
    observed = Observed(composite=aks())
    running = aks_cluster.compose(observed)
    live = next_pass(observed, running, ready_status)
    for bad, field in (
        (with_pool(0, max_node_count=0, min_node_count=0, node_count=0), "nodePools[0]"),
        (aks(networking=AKSNetworking(subnet_cidr="10.1.0.0/20")), "subnetCidr"),
        (
            aks(networking=AKSNetworking(vnet_cidr="10.96.0.0/12", subnet_cidr="10.96.0.0/20")),
            "overlaps the service range",
        ),
    ):
        held = aks_cluster.compose(attrs.evolve(live, composite=bad))
        assert held.held
        assert keys(held) == keys(running)
        accepted = condition_of(held, "Accepted")
        assert (accepted.status, accepted.reason) == ("False", "InvalidSpec")
        assert field in (accepted.message or ""), accepted.message
        assert [e.type for e in held.events] == ["Warning"]


def test_names_fit_azure() -> None:
    composite = attrs.evolve(aks(), metadata=api.ObjectMeta(name="a" * 60, namespace="n" * 60))
    cluster = manifest(aks_cluster.compose(Observed(composite=composite)), "cluster")
    prefix = cluster["spec"]["forProvider"]["dnsPrefix"]
    assert len(prefix) <= 54
    assert prefix[0].isalnum()
    assert prefix[-1].isalnum()
    assert len(cluster["metadata"]["name"]) <= 63
    assert (
        cluster["spec"]["forProvider"]["nodeResourceGroup"]
        == f"{cluster['metadata']['name']}-nodes"
    )
