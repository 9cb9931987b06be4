"""What the controller watches, and therefore what its ClusterRole must allow.

Composite kinds come from the API types. Composed and required kinds are a
table, kept complete by a test that runs every composer's golden inputs and
the simulated tour and checks each kind they compose or require is listed: the
controller must watch them from the start (a composer must never see "none
exist" for a kind merely not watched yet), and its RBAC must allow them.
A composed kind missing here still works: it is watched from the first time
it is applied, and a warning names it.
"""

from __future__ import annotations

from typing import Final

from modelplane_core import api

Kind = tuple[str, str]  # (apiVersion, kind)

# Composed on the control cluster, by group.
COMPOSED: Final[tuple[Kind, ...]] = (
    ("v1", "Service"),
    ("v1", "Secret"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("gateway.networking.k8s.io/v1", "Gateway"),
    ("gateway.networking.k8s.io/v1", "GatewayClass"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("metallb.io/v1beta1", "IPAddressPool"),
    ("metallb.io/v1beta1", "L2Advertisement"),
    ("kubernetes.m.crossplane.io/v1alpha1", "Object"),
    ("kubernetes.m.crossplane.io/v1alpha1", "ProviderConfig"),
    ("kubernetes.m.crossplane.io/v1alpha1", "ClusterProviderConfig"),
    ("helm.m.crossplane.io/v1beta1", "Release"),
    ("helm.m.crossplane.io/v1beta1", "ProviderConfig"),
    ("cloudplatform.gcp.m.upbound.io/v1beta1", "ProjectIAMMember"),
    ("cloudplatform.gcp.m.upbound.io/v1beta1", "ProjectService"),
    ("cloudplatform.gcp.m.upbound.io/v1beta1", "ServiceAccount"),
    ("cloudplatform.gcp.m.upbound.io/v1beta1", "ServiceAccountKey"),
    ("compute.gcp.m.upbound.io/v1beta1", "Network"),
    ("compute.gcp.m.upbound.io/v1beta1", "Subnetwork"),
    ("container.gcp.m.upbound.io/v1beta1", "Cluster"),
    ("container.gcp.m.upbound.io/v1beta1", "NodePool"),
    ("ec2.aws.m.upbound.io/v1beta1", "EIP"),
    ("ec2.aws.m.upbound.io/v1beta1", "InternetGateway"),
    ("ec2.aws.m.upbound.io/v1beta1", "NATGateway"),
    ("ec2.aws.m.upbound.io/v1beta1", "Route"),
    ("ec2.aws.m.upbound.io/v1beta1", "RouteTable"),
    ("ec2.aws.m.upbound.io/v1beta1", "RouteTableAssociation"),
    ("ec2.aws.m.upbound.io/v1beta1", "SecurityGroup"),
    ("ec2.aws.m.upbound.io/v1beta1", "SecurityGroupIngressRule"),
    ("ec2.aws.m.upbound.io/v1beta1", "Subnet"),
    ("ec2.aws.m.upbound.io/v1beta1", "VPC"),
    ("efs.aws.m.upbound.io/v1beta1", "FileSystem"),
    ("efs.aws.m.upbound.io/v1beta1", "MountTarget"),
    ("eks.aws.m.upbound.io/v1beta1", "Addon"),
    ("eks.aws.m.upbound.io/v1beta1", "Cluster"),
    ("eks.aws.m.upbound.io/v1beta1", "ClusterAuth"),
    ("eks.aws.m.upbound.io/v1beta1", "NodeGroup"),
    ("eks.aws.m.upbound.io/v1beta1", "PodIdentityAssociation"),
    ("iam.aws.m.upbound.io/v1beta1", "Policy"),
    ("iam.aws.m.upbound.io/v1beta1", "Role"),
    ("iam.aws.m.upbound.io/v1beta1", "RolePolicyAttachment"),
    ("azure.m.upbound.io/v1beta1", "ResourceGroup"),
    ("network.azure.m.upbound.io/v1beta1", "VirtualNetwork"),
    ("network.azure.m.upbound.io/v1beta1", "Subnet"),
    ("containerservice.azure.m.upbound.io/v1beta1", "KubernetesCluster"),
    ("containerservice.azure.m.upbound.io/v1beta1", "KubernetesClusterNodePool"),
    ("vke.vultr.m.upbound.io/v1beta1", "Kubernetes"),
    ("vke.vultr.m.upbound.io/v1beta1", "KubernetesNodePool"),
    ("vpc.nebius.m.upbound.io/v1beta1", "Network"),
    ("vpc.nebius.m.upbound.io/v1beta1", "Subnet"),
    ("mk8s.nebius.m.upbound.io/v1beta1", "Cluster"),
    ("mk8s.nebius.m.upbound.io/v1beta1", "NodeGroup"),
    ("compute.nebius.m.upbound.io/v1beta1", "GpuCluster"),
    ("compute.nebius.m.upbound.io/v1beta1", "Filesystem"),
)

# Read through composers' requirements and not one of our kinds (ModelCache credentials,
# the Nebius provider config a NebiusCluster reaches its cluster with).
REQUIRED: Final[tuple[Kind, ...]] = (
    ("v1", "Secret"),
    ("nebius.m.upbound.io/v1beta1", "ClusterProviderConfig"),
    ("nebius.m.upbound.io/v1beta1", "ProviderConfig"),
)


def composite_kinds() -> tuple[Kind, ...]:
    return tuple(sorted((c.kind_info.api_version, c.kind_info.kind) for c in api.KINDS))


def watched_kinds() -> tuple[Kind, ...]:
    """Everything watched from the start: composites first, then composed and required kinds."""
    seen: dict[Kind, None] = {}
    for kind in (*composite_kinds(), *COMPOSED, *REQUIRED):
        seen.setdefault(kind, None)
    return tuple(seen)


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]
