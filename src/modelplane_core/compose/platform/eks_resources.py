"""An EKSCluster's AWS resources besides its network (provider-aws, ``*.aws.m.upbound.io``).

IAM roles for the control plane, the nodes and the in-cluster controllers
(EFS CSI driver, cluster autoscaler, through EKS Pod Identity); the cluster
and a ClusterAuth that keeps a kubeconfig Secret with a fresh token; managed
node groups labelled ``modelplane.ai/pool=<name>`` (GPU groups tainted so
only GPU workloads land there, with a launch template for Capacity Blocks and
EFA); the add-ons; and an EFS file system with a mount target per zone for
ModelCache's ReadWriteMany storage.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from modelplane_core.api.infrastructure import EKSClusterSpec, EKSNodePool
from modelplane_core.api.meta import LABEL_POOL
from modelplane_core.compose.platform.eks_network import EC2, Zone
from modelplane_core.compose.platform.managed_resources import managed, sibling

EKS: Final = "eks.aws.m.upbound.io/v1beta1"
IAM: Final = "iam.aws.m.upbound.io/v1beta1"
EFS: Final = "efs.aws.m.upbound.io/v1beta1"
LABEL_ROLE: Final = "modelplane.ai/iam-role"
LABEL_GPU: Final = "modelplane.ai/gpu"
LABEL_SG: Final = "modelplane.ai/security-group"
GPU_TAINT: Final = {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}
ADDONS: Final = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-efs-csi-driver")
AWS_POLICY: Final = "arn:aws:iam::aws:policy/"
CLUSTER_POLICIES: Final = ("AmazonEKSClusterPolicy",)
NODE_POLICIES: Final = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
)
EFS_CSI_POLICY: Final = "service-role/AmazonEFSCSIDriverPolicy"
NFS_PORT: Final = 2049
# EFA interfaces, one per network card, by instance family (others have one card).
NETWORK_CARDS: Final = {"p5": 32, "p5e": 32, "p5en": 16, "p4d": 4, "p4de": 4}

# What the cluster autoscaler may do: discover node groups, and resize them.
AUTOSCALER_POLICY: Final = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
                "eks:DescribeNodegroup",
            ],
            "Resource": ["*"],
        },
        {
            "Effect": "Allow",
            "Action": [
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
            ],
            "Resource": ["*"],
        },
    ],
}


def _trust(service: str, *, tag_session: bool = False) -> str:
    actions: str | list[str] = (
        ["sts:AssumeRole", "sts:TagSession"] if tag_session else "sts:AssumeRole"
    )
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}
            ],
        },
        separators=(",", ":"),
    )


def role(namespace: str, label: str, service: str, *, tag_session: bool = False) -> dict[str, Any]:
    return managed(
        IAM,
        "Role",
        namespace=namespace,
        labels={LABEL_ROLE: label},
        for_provider={"assumeRolePolicy": _trust(service, tag_session=tag_session)},
    )


def policy_attachment(namespace: str, label: str, policy_arn: str) -> dict[str, Any]:
    return managed(
        IAM,
        "RolePolicyAttachment",
        namespace=namespace,
        for_provider={"policyArn": policy_arn, "roleSelector": sibling({LABEL_ROLE: label})},
    )


def iam_pieces(namespace: str) -> list[tuple[str, dict[str, Any]]]:
    keyed: list[tuple[str, dict[str, Any]]] = [
        ("iam-role-cluster", role(namespace, "cluster", "eks.amazonaws.com")),
        ("iam-role-node", role(namespace, "node", "ec2.amazonaws.com")),
        (
            "iam-role-efs-csi",
            role(namespace, "efs-csi", "pods.eks.amazonaws.com", tag_session=True),
        ),
        (
            "iam-role-cluster-autoscaler",
            role(namespace, "cluster-autoscaler", "pods.eks.amazonaws.com", tag_session=True),
        ),
        (
            "iam-policy-cluster-autoscaler",
            managed(
                IAM,
                "Policy",
                namespace=namespace,
                labels={LABEL_ROLE: "cluster-autoscaler"},
                for_provider={"policy": json.dumps(AUTOSCALER_POLICY, separators=(",", ":"))},
            ),
        ),
        (
            "iam-attach-cluster-autoscaler",
            managed(
                IAM,
                "RolePolicyAttachment",
                namespace=namespace,
                for_provider={
                    "policyArnSelector": sibling({LABEL_ROLE: "cluster-autoscaler"}),
                    "roleSelector": sibling({LABEL_ROLE: "cluster-autoscaler"}),
                },
            ),
        ),
        (
            "iam-attach-efs-csi",
            policy_attachment(namespace, "efs-csi", AWS_POLICY + EFS_CSI_POLICY),
        ),
    ]
    for policy in CLUSTER_POLICIES:
        keyed.append(
            (
                f"iam-attach-cluster-{_key(policy)}",
                policy_attachment(namespace, "cluster", AWS_POLICY + policy),
            )
        )
    for policy in NODE_POLICIES:
        keyed.append(
            (
                f"iam-attach-node-{_key(policy)}",
                policy_attachment(namespace, "node", AWS_POLICY + policy),
            )
        )
    return keyed


def _key(policy: str) -> str:
    """``AmazonEKS_CNI_Policy`` -> ``amazoneks-cni-policy``, a resource key that reads like one."""
    return policy.lower().replace("_", "-")


def cluster(spec: EKSClusterSpec, namespace: str, name: str) -> dict[str, Any]:
    """The control plane; ``name`` is account-wide, since the autoscaler finds it by name."""
    return managed(
        EKS,
        "Cluster",
        namespace=namespace,
        name=name,
        for_provider={
            "region": spec.region,
            "version": spec.kubernetes_version,
            "roleArnSelector": sibling({LABEL_ROLE: "cluster"}),
            "accessConfig": {
                "authenticationMode": "API_AND_CONFIG_MAP",
                "bootstrapClusterCreatorAdminPermissions": True,
            },
            "vpcConfig": {
                "endpointPrivateAccess": True,
                "endpointPublicAccess": True,
                "subnetIdSelector": sibling(),
            },
        },
    )


def cluster_auth(spec: EKSClusterSpec, namespace: str, kubeconfig_secret: str) -> dict[str, Any]:
    """Writes the kubeconfig Secret, its token refreshed before it expires."""
    return managed(
        EKS,
        "ClusterAuth",
        namespace=namespace,
        for_provider={"region": spec.region, "clusterNameSelector": sibling()},
        connection_secret=kubeconfig_secret,
    )


def addon(spec: EKSClusterSpec, namespace: str, addon_name: str) -> dict[str, Any]:
    return managed(
        EKS,
        "Addon",
        namespace=namespace,
        for_provider={
            "region": spec.region,
            "addonName": addon_name,
            "clusterNameSelector": sibling(),
        },
    )


def pod_identity(
    spec: EKSClusterSpec, namespace: str, *, service_account: str, label: str
) -> dict[str, Any]:
    return managed(
        EKS,
        "PodIdentityAssociation",
        namespace=namespace,
        for_provider={
            "region": spec.region,
            "namespace": "kube-system",
            "serviceAccount": service_account,
            "clusterNameSelector": sibling(),
            "roleArnSelector": sibling({LABEL_ROLE: label}),
        },
    )


def needs_launch_template(pool: EKSNodePool) -> bool:
    return pool.capacity_block is not None or pool.fabric == "EFA"


def network_cards(instance_type: str) -> int:
    return NETWORK_CARDS.get(instance_type.split(".", 1)[0], 1)


def launch_template(
    spec: EKSClusterSpec,
    namespace: str,
    pool: EKSNodePool,
    name: str,
    security_groups: Sequence[str] = (),
) -> dict[str, Any]:
    """Instance settings a node group alone cannot express: Capacity Blocks and EFA interfaces.

    An EFA node gets one EFA interface per network card; a launch template that
    lists interfaces must also name their security groups (the EFA group and
    the cluster's), so it is only composed once both IDs are known.
    """
    for_provider: dict[str, Any] = {
        "region": spec.region,
        "name": name,
        "instanceType": pool.instance_type,
        "blockDeviceMappings": [
            {"deviceName": "/dev/xvda", "ebs": {"volumeSize": pool.disk_size_gb}}
        ],
    }
    if pool.capacity_block is not None:
        for_provider["instanceMarketOptions"] = {"marketType": "capacity-block"}
        for_provider["capacityReservationSpecification"] = {
            "capacityReservationPreference": "capacity-reservations-only",
            "capacityReservationTarget": {
                "capacityReservationId": pool.capacity_block.capacity_reservation_id
            },
        }
    if pool.fabric == "EFA":
        for_provider["networkInterfaces"] = [
            {
                "networkCardIndex": card,
                "deviceIndex": 0 if card == 0 else 1,
                "interfaceType": "efa" if card == 0 else "efa-only",
                "securityGroups": list(security_groups),
            }
            for card in range(network_cards(pool.instance_type))
        ]
    return managed(EC2, "LaunchTemplate", namespace=namespace, for_provider=for_provider)


def node_group(
    spec: EKSClusterSpec,
    namespace: str,
    pool: EKSNodePool,
    *,
    subnets: Sequence[str],
    template: str | None,
) -> dict[str, Any]:
    """A managed node group; the autoscaler owns its desired size after creation."""
    gpu = pool.role == "GPU"
    labels = {LABEL_POOL: pool.name}
    for_provider: dict[str, Any] = {
        "region": spec.region,
        "amiType": "AL2023_x86_64_NVIDIA" if gpu else "AL2023_x86_64_STANDARD",
        "clusterNameSelector": sibling(),
        "nodeRoleArnSelector": sibling({LABEL_ROLE: "node"}),
        # AWS requires maxSize >= 1; a zero-node pool may still grow to one.
        "scalingConfig": {"minSize": pool.min_node_count, "maxSize": max(pool.max_node_count, 1)},
    }
    if template is not None:
        for_provider["launchTemplate"] = {"name": template, "version": "$Latest"}
        if pool.capacity_block is not None:
            for_provider["capacityType"] = "CAPACITY_BLOCK"
    else:
        for_provider["instanceTypes"] = [pool.instance_type]
        for_provider["diskSize"] = pool.disk_size_gb
    if subnets:
        for_provider["subnetIdRefs"] = [{"name": subnet} for subnet in subnets]
    else:
        for_provider["subnetIdSelector"] = sibling({"modelplane.ai/subnet-tier": "private"})
    if gpu and pool.gpu is not None:
        labels[LABEL_GPU] = pool.gpu.accelerator_type
        for_provider["taint"] = [dict(GPU_TAINT)]
    for_provider["labels"] = labels
    return managed(
        EKS,
        "NodeGroup",
        namespace=namespace,
        for_provider=for_provider,
        init_provider={"scalingConfig": {"desiredSize": pool.node_count}},
    )


def security_group(
    spec: EKSClusterSpec, namespace: str, *, role_label: str, name: str, description: str
) -> dict[str, Any]:
    return managed(
        EC2,
        "SecurityGroup",
        namespace=namespace,
        labels={LABEL_SG: role_label},
        for_provider={
            "region": spec.region,
            "name": name,
            "description": description,
            "vpcIdSelector": sibling(),
        },
    )


def self_rule(spec: EKSClusterSpec, namespace: str, kind: str, role_label: str) -> dict[str, Any]:
    """All traffic between members of one security group (EFA's OS-bypass needs it both ways)."""
    return managed(
        EC2,
        kind,
        namespace=namespace,
        for_provider={
            "region": spec.region,
            "ipProtocol": "-1",
            "referencedSecurityGroupIdSelector": sibling({LABEL_SG: role_label}),
            "securityGroupIdSelector": sibling({LABEL_SG: role_label}),
        },
    )


def efs_pieces(
    spec: EKSClusterSpec, namespace: str, composite: str, vpc_cidr: str, zones: Sequence[Zone]
) -> list[tuple[str, dict[str, Any]]]:
    keyed: list[tuple[str, dict[str, Any]]] = [
        (
            "efs-filesystem",
            managed(
                EFS,
                "FileSystem",
                namespace=namespace,
                for_provider={
                    "region": spec.region,
                    "throughputMode": "elastic",
                    "encrypted": True,
                },
            ),
        ),
        (
            "efs-security-group",
            security_group(
                spec,
                namespace,
                role_label="efs",
                name=f"{composite}-efs",
                description="NFS from the cluster's nodes to the ModelCache file system",
            ),
        ),
        (
            "efs-security-group-ingress",
            managed(
                EC2,
                "SecurityGroupIngressRule",
                namespace=namespace,
                for_provider={
                    "region": spec.region,
                    "ipProtocol": "tcp",
                    "fromPort": NFS_PORT,
                    "toPort": NFS_PORT,
                    "cidrIpv4": vpc_cidr,
                    "securityGroupIdSelector": sibling({LABEL_SG: "efs"}),
                },
            ),
        ),
        (
            "pod-identity-efs-csi",
            pod_identity(spec, namespace, service_account="efs-csi-controller-sa", label="efs-csi"),
        ),
    ]
    for zone in zones:
        keyed.append(
            (
                f"efs-mount-target-{zone.name}",
                managed(
                    EFS,
                    "MountTarget",
                    namespace=namespace,
                    for_provider={
                        "region": spec.region,
                        "fileSystemIdSelector": sibling(),
                        "subnetIdRef": {"name": zone.private_subnet(composite)},
                        "securityGroupsSelector": sibling({LABEL_SG: "efs"}),
                    },
                ),
            )
        )
    return keyed


def efs_storage_class(file_system_id: str) -> dict[str, Any]:
    """ReadWriteMany volumes as EFS access points on the cluster's own file system."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "modelplane-rwx-efs"},
        "provisioner": "efs.csi.aws.com",
        "parameters": {
            "provisioningMode": "efs-ap",
            "fileSystemId": file_system_id,
            "directoryPerms": "700",
        },
        "volumeBindingMode": "Immediate",
    }


def autoscaler_values(spec: EKSClusterSpec, cluster_name: str) -> dict[str, Any]:
    return {
        "cloudProvider": "aws",
        "awsRegion": spec.region,
        "autoDiscovery": {"clusterName": cluster_name},
        "rbac": {"serviceAccount": {"name": "cluster-autoscaler"}},
        "extraArgs": {
            "balance-similar-node-groups": True,
            # Size GPU node groups for pods that claim GPUs through DRA.
            "enable-dynamic-resource-allocation": True,
        },
    }
