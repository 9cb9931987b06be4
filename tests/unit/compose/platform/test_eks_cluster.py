"""EKSCluster: the AWS resources of a cluster, its node groups and its RWX storage."""

from __future__ import annotations

import json
from typing import Any

import attrs

from modelplane_core import api
from modelplane_core.compose import eks_cluster
from modelplane_core.compose.composition import Observed
from modelplane_core.compose.eks_cluster import (
    STORAGE_CLASS_KEY,
    eks_cluster_name,
    kubeconfig_secret_name,
)
from modelplane_core.compose.platform.eks_network import zones
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


def eks(**pool_changes: Any) -> api.EKSCluster:
    composite: api.EKSCluster = example("reference", "eksclusters.yaml")
    if not pool_changes:
        return composite
    system, gpu = composite.spec.node_pools
    gpu = attrs.evolve(gpu, **pool_changes)
    return attrs.evolve(composite, spec=attrs.evolve(composite.spec, node_pools=(system, gpu)))


def provisioned(key: str, manifest: Any) -> dict[str, Any]:
    status = dict(ready_status(key, manifest))
    if key == "efs-filesystem":
        status["atProvider"] = {"id": "fs-0abc123"}
    if key == "efa-security-group":
        status["atProvider"] = {"id": "sg-0efa"}
    if key == "cluster":
        status["atProvider"] = {"vpcConfig": {"clusterSecurityGroupId": "sg-0cluster"}}
    return status


def test_first_pass_composes_network_iam_cluster_and_node_groups() -> None:
    composition = eks_cluster.compose(Observed(composite=eks()))
    assert schema_problems(composition) == []
    composed = set(keys(composition))
    for zone in ("us-west-2a", "us-west-2b", "us-west-2c"):
        assert {f"subnet-public-{zone}", f"subnet-private-{zone}", f"efs-mount-target-{zone}"} <= (
            composed
        )
    for key in (
        "vpc",
        "internet-gateway",
        "nat-gateway",
        "cluster",
        "cluster-auth",
        "nodegroup-system",
        "nodegroup-gpu-a10g",
        "addon-vpc-cni",
        "addon-aws-efs-csi-driver",
        "efs-filesystem",
        "provider-config-kubernetes",
        "provider-config-helm",
    ):
        assert key in composed, key
    assert "release-cluster-autoscaler" not in composed
    assert STORAGE_CLASS_KEY not in composed
    cluster = manifest(composition, "cluster")
    assert cluster["metadata"]["name"] == eks_cluster_name("platform", "inference-west")
    assert cluster["spec"]["forProvider"]["version"] == "1.36"
    auth = manifest(composition, "cluster-auth")
    assert auth["spec"]["writeConnectionSecretToRef"] == {
        "name": kubeconfig_secret_name("inference-west")
    }
    assert composition.status == {
        "secrets": [
            {
                "type": "Kubeconfig",
                "name": kubeconfig_secret_name("inference-west"),
                "key": "kubeconfig",
            }
        ],
        "cache": {"storageClassName": "modelplane-rwx-efs"},
    }


def test_private_subnets_follow_the_public_ones() -> None:
    laid_out, problems = zones(eks().spec)
    assert problems == []
    assert [(z.name, z.public_cidr, z.private_cidr) for z in laid_out] == [
        ("us-west-2a", "10.0.0.0/20", "10.0.48.0/20"),
        ("us-west-2b", "10.0.16.0/20", "10.0.64.0/20"),
        ("us-west-2c", "10.0.32.0/20", "10.0.80.0/20"),
    ]


def test_gpu_node_groups_are_pinned_tainted_and_left_to_the_autoscaler() -> None:
    composition = eks_cluster.compose(Observed(composite=eks()))
    group = manifest(composition, "nodegroup-gpu-a10g")
    spec = group["spec"]
    assert spec["managementPolicies"] == ["Observe", "Create", "Update", "Delete"]
    assert spec["initProvider"] == {"scalingConfig": {"desiredSize": 0}}
    provider = spec["forProvider"]
    assert provider["amiType"] == "AL2023_x86_64_NVIDIA"
    assert provider["instanceTypes"] == ["g6.12xlarge"]
    assert provider["labels"] == {
        "modelplane.ai/pool": "gpu-a10g",
        "modelplane.ai/gpu": "nvidia-a10g",
    }
    assert provider["taint"] == [
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}
    ]
    laid_out, _ = zones(eks().spec)
    assert provider["subnetIdRefs"] == [
        {"name": laid_out[0].private_subnet("inference-west")},
        {"name": laid_out[1].private_subnet("inference-west")},
    ]
    assert provider["scalingConfig"] == {"minSize": 0, "maxSize": 8}
    system = manifest(composition, "nodegroup-system")["spec"]["forProvider"]
    assert system["labels"] == {"modelplane.ai/pool": "system"}
    assert "taint" not in system


def test_iam_policies_are_valid_json() -> None:
    composition = eks_cluster.compose(Observed(composite=eks()))
    for resource in composition.resources:
        provider = resource.manifest["spec"].get("forProvider", {})
        for field in ("assumeRolePolicy", "policy"):
            if field in provider:
                assert json.loads(provider[field])["Version"] == "2012-10-17"


def test_ready_cluster_gets_storage_and_the_autoscaler() -> None:
    inputs = Observed(composite=eks())
    first = eks_cluster.compose(inputs)
    second = eks_cluster.compose(next_pass(inputs, first, provisioned))
    assert schema_problems(second) == []
    storage = inner(second, STORAGE_CLASS_KEY)
    assert storage["metadata"]["name"] == "modelplane-rwx-efs"
    assert storage["parameters"]["fileSystemId"] == "fs-0abc123"
    autoscaler = manifest(second, "release-cluster-autoscaler")
    values = autoscaler["spec"]["forProvider"]["values"]
    assert values["autoDiscovery"] == {
        "clusterName": eks_cluster_name("platform", "inference-west")
    }
    assert values["awsRegion"] == "us-west-2"
    assert "Delete" not in autoscaler["spec"]["managementPolicies"]
    assert autoscaler["spec"]["providerConfigRef"]["name"] == kubeconfig_secret_name(
        "inference-west"
    )
    assert condition_of(second, "ClusterReady").status == "True"
    assert condition_of(second, "NodePoolsReady").status == "True"


def test_capacity_blocks_use_a_launch_template_first() -> None:
    composite = eks(
        instance_type="p5en.48xlarge",
        capacity_block=api.infrastructure.CapacityBlockRef(capacity_reservation_id="cr-0123abc"),
    )
    inputs = Observed(composite=composite)
    first = eks_cluster.compose(inputs)
    assert "launch-template-gpu-a10g" in keys(first)
    assert "nodegroup-gpu-a10g" not in keys(first)
    template = manifest(first, "launch-template-gpu-a10g")["spec"]["forProvider"]
    assert template["capacityReservationSpecification"]["capacityReservationTarget"] == {
        "capacityReservationId": "cr-0123abc"
    }
    assert template["instanceMarketOptions"] == {"marketType": "capacity-block"}
    second = eks_cluster.compose(next_pass(inputs, first, provisioned))
    group = manifest(second, "nodegroup-gpu-a10g")["spec"]["forProvider"]
    assert group["capacityType"] == "CAPACITY_BLOCK"
    assert group["launchTemplate"] == {"name": template["name"], "version": "$Latest"}
    assert "instanceTypes" not in group
    assert schema_problems(second) == []


def test_efa_pools_wait_for_their_security_groups() -> None:
    composite = eks(instance_type="p5en.48xlarge", fabric="EFA")
    inputs = Observed(composite=composite)
    first = eks_cluster.compose(inputs)
    assert {"efa-security-group", "efa-security-group-ingress", "efa-security-group-egress"} <= set(
        keys(first)
    )
    assert "launch-template-gpu-a10g" not in keys(first)
    assert "release-efa-dra-driver" not in keys(first)
    inputs = next_pass(inputs, first, provisioned)
    second = eks_cluster.compose(inputs)
    interfaces = manifest(second, "launch-template-gpu-a10g")["spec"]["forProvider"][
        "networkInterfaces"
    ]
    assert len(interfaces) == 16
    assert interfaces[0]["interfaceType"] == "efa"
    assert {i["interfaceType"] for i in interfaces[1:]} == {"efa-only"}
    assert all(i["securityGroups"] == ["sg-0efa", "sg-0cluster"] for i in interfaces)
    assert "release-efa-dra-driver" in keys(second)
    third = eks_cluster.compose(next_pass(inputs, second, provisioned))
    assert "nodegroup-gpu-a10g" in keys(third)
    assert schema_problems(third) == []


def test_a_pool_in_an_unknown_zone_is_reported_and_held() -> None:
    inputs = Observed(composite=eks())
    running = eks_cluster.compose(inputs)
    inputs = next_pass(inputs, running, provisioned)
    moved = eks(zones=("us-west-2d",))
    composition = eks_cluster.compose(attrs.evolve(inputs, composite=moved))
    assert (
        manifest(composition, "nodegroup-gpu-a10g")["spec"]
        == manifest(running, "nodegroup-gpu-a10g")["spec"]
    )
    pools = condition_of(composition, "NodePoolsReady")
    assert pools.reason == "InvalidNodePool"
    assert "spec.nodePools[1].zones" in (pools.message or "")
    fresh = eks_cluster.compose(Observed(composite=moved))
    assert "nodegroup-gpu-a10g" not in keys(fresh)


def test_networking_that_cannot_be_laid_out_is_held() -> None:
    composite = eks()
    bad = attrs.evolve(
        composite,
        spec=attrs.evolve(
            composite.spec,
            networking=api.infrastructure.EKSNetworking(
                vpc_cidr="10.0.0.0/18", subnet_cidrs=("10.0.0.0/20", "10.0.48.0/20")
            ),
        ),
    )
    composition = eks_cluster.compose(Observed(composite=bad))
    assert composition.held
    message = condition_of(composition, "Accepted").message or ""
    assert "spec.networking.subnetCidrs[1]" in message
    assert "outside vpcCidr" in message
