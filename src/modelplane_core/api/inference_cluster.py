"""InferenceCluster: a Kubernetes cluster offering GPU pools to the fleet.

Its spec says where the cluster comes from (provisioned on GKE, EKS, AKS,
Nebius or Vultr, or an existing one) and which pools it has; its status publishes ``gpuPools``,
the only view of capacity the scheduler reads.
"""

from __future__ import annotations

from typing import Literal

import attrs

from modelplane_core.api.devices import Device
from modelplane_core.api.fields import DNS_LABEL, DNS_LABEL_HINT, describe
from modelplane_core.api.infrastructure import CloudCredentials, credentials_metadata
from modelplane_core.api.meta import (
    API_VERSION,
    Condition,
    HasKindInfo,
    KindInfo,
    ObjectMeta,
    PrinterColumn,
    Taint,
    find_condition,
)

ClusterSource = Literal["GKE", "EKS", "AKS", "Nebius", "Vultr", "Existing"]
IdentityType = Literal[
    "GoogleApplicationCredentials", "AWSWebIdentityCredentials", "NebiusServiceAccountCredentials"
]
FabricType = Literal["None", "EFA", "InfiniBand"]
SYSTEM_NAMESPACE = "modelplane-system"


@attrs.frozen(kw_only=True)
class KubeconfigSecretRef:
    name: str = attrs.field(
        metadata=describe(
            min_length=1, max_length=253, doc="Secret in modelplane-system holding the kubeconfig."
        )
    )
    key: str = attrs.field(default="kubeconfig", metadata=describe(min_length=1, max_length=253))


@attrs.frozen(kw_only=True)
class IdentitySecretRef:
    name: str = attrs.field(
        metadata=describe(min_length=1, max_length=253, doc="Secret holding cloud credentials.")
    )
    key: str = attrs.field(default="private_key", metadata=describe(min_length=1, max_length=253))
    type: IdentityType = attrs.field(
        default="GoogleApplicationCredentials",
        metadata=describe(
            doc="Cloud identity the credential authenticates as; must match the cluster's cloud."
        ),
    )


@attrs.frozen(kw_only=True)
class ExistingCacheSettings:
    storage_class_name: str | None = attrs.field(
        default=None,
        metadata=describe(
            min_length=1,
            max_length=253,
            doc="An existing ReadWriteMany StorageClass for ModelCache PVCs.",
        ),
    )


@attrs.frozen(kw_only=True)
class ExistingCluster:
    secret_ref: KubeconfigSecretRef = attrs.field(
        metadata=describe(doc="Kubeconfig Secret for the cluster.")
    )
    identity_secret_ref: IdentitySecretRef | None = attrs.field(
        default=None, metadata=describe(doc="Optional cloud identity for IAM-based authentication.")
    )
    cache: ExistingCacheSettings | None = attrs.field(
        default=None, metadata=describe(doc="ModelCache storage.")
    )


@attrs.frozen(kw_only=True)
class GKEClusterSettings:
    project: str | None = attrs.field(
        default=None,
        metadata=describe(
            min_length=6,
            max_length=30,
            doc="GCP project ID; omitted, the project of the credentials' provider config.",
        ),
    )
    region: str = attrs.field(
        metadata=describe(min_length=1, max_length=32, doc="GCP region, e.g. us-central1.")
    )
    kubernetes_version: str = attrs.field(
        default="1.35", metadata=describe(doc="GKE Kubernetes version.")
    )
    credentials: CloudCredentials | None = attrs.field(
        default=None, metadata=credentials_metadata("GCP")
    )


@attrs.frozen(kw_only=True)
class EKSClusterSettings:
    region: str = attrs.field(
        metadata=describe(min_length=1, max_length=32, doc="AWS region, e.g. us-west-2.")
    )
    kubernetes_version: str = attrs.field(
        default="1.36", metadata=describe(doc="EKS Kubernetes version.")
    )
    credentials: CloudCredentials | None = attrs.field(
        default=None, metadata=credentials_metadata("AWS")
    )


@attrs.frozen(kw_only=True)
class AKSClusterSettings:
    location: str = attrs.field(
        metadata=describe(min_length=1, max_length=32, doc="Azure region, e.g. westeurope.")
    )
    kubernetes_version: str = attrs.field(
        default="1.34", metadata=describe(doc="AKS Kubernetes version.")
    )
    credentials: CloudCredentials | None = attrs.field(
        default=None, metadata=credentials_metadata("Azure")
    )


@attrs.frozen(kw_only=True)
class NebiusClusterSettings:
    kubernetes_version: str = attrs.field(
        default="1.34", metadata=describe(doc="mk8s Kubernetes version.")
    )
    credentials: CloudCredentials | None = attrs.field(
        default=None, metadata=credentials_metadata("Nebius")
    )


@attrs.frozen(kw_only=True)
class VultrClusterSettings:
    region: str = attrs.field(
        metadata=describe(min_length=1, max_length=32, doc="Vultr region, e.g. ewr.")
    )
    kubernetes_version: str = attrs.field(
        default="v1.36.1+3",
        metadata=describe(doc="Exact VKE version, including its build suffix."),
    )
    credentials: CloudCredentials | None = attrs.field(
        default=None, metadata=credentials_metadata("Vultr")
    )


@attrs.frozen(kw_only=True)
class ClusterSourceSpec:
    source: ClusterSource = attrs.field(
        metadata=describe(doc="How the cluster is provisioned, or Existing.")
    )
    existing: ExistingCluster | None = attrs.field(
        default=None, metadata=describe(doc="Required when source is Existing.")
    )
    gke: GKEClusterSettings | None = attrs.field(
        default=None, metadata=describe(doc="Required when source is GKE.")
    )
    eks: EKSClusterSettings | None = attrs.field(
        default=None, metadata=describe(doc="Required when source is EKS.")
    )
    aks: AKSClusterSettings | None = attrs.field(
        default=None, metadata=describe(doc="Required when source is AKS.")
    )
    nebius: NebiusClusterSettings | None = attrs.field(
        default=None, metadata=describe(doc="Required when source is Nebius.")
    )
    vultr: VultrClusterSettings | None = attrs.field(
        default=None, metadata=describe(doc="Required when source is Vultr.")
    )


@attrs.frozen(kw_only=True)
class CapacityBlock:
    capacity_reservation_id: str = attrs.field(
        metadata=describe(
            min_length=4,
            max_length=64,
            pattern=r"^cr-[0-9a-f]+$",
            pattern_hint="cr- followed by lowercase hex digits",
            doc="The Capacity Reservation backing an EKS Capacity Block.",
        )
    )


@attrs.frozen(kw_only=True)
class InfiniBandSettings:
    fabric: str = attrs.field(
        metadata=describe(min_length=1, max_length=63, doc="Physical InfiniBand fabric to join.")
    )


@attrs.frozen(kw_only=True)
class Fabric:
    type: FabricType = attrs.field(
        default="None",
        metadata=describe(doc="None (TCP), EFA (EKS) or InfiniBand (Nebius and AKS)."),
    )
    infiniband: InfiniBandSettings | None = attrs.field(
        default=None,
        metadata=describe(doc="Required when type is InfiniBand on Nebius; not used on AKS."),
    )


@attrs.frozen(kw_only=True)
class NodePool:
    name: str = attrs.field(
        metadata=describe(
            min_length=1,
            max_length=40,
            pattern=DNS_LABEL,
            pattern_hint=DNS_LABEL_HINT,
            doc="Pool name; nodes carry the label modelplane.ai/pool=<name>.",
        )
    )
    class_name: str = attrs.field(
        metadata=describe(
            min_length=1, max_length=253, doc="InferenceClass describing the pool's hardware."
        )
    )
    node_count: int = attrs.field(default=1, metadata=describe(minimum=0, doc="Nodes in the pool."))
    min_node_count: int | None = attrs.field(
        default=None, metadata=describe(minimum=0, doc="Autoscaling minimum.")
    )
    max_node_count: int | None = attrs.field(
        default=None,
        metadata=describe(minimum=1, doc="Autoscaling maximum; omit for a fixed-size pool."),
    )
    zones: tuple[str, ...] | None = attrs.field(
        default=None, metadata=describe(doc="Zones the pool is restricted to.")
    )
    capacity_block: CapacityBlock | None = attrs.field(
        default=None, metadata=describe(doc="EKS Capacity Block.")
    )
    fabric: Fabric | None = attrs.field(
        default=None, metadata=describe(doc="Node-to-node fabric for gangs.")
    )


@attrs.frozen(kw_only=True)
class InferenceClusterSpec:
    cluster: ClusterSourceSpec = attrs.field(metadata=describe(doc="Where the cluster comes from."))
    node_pools: tuple[NodePool, ...] | None = attrs.field(
        default=None,
        metadata=describe(
            min_items=1,
            max_items=8,
            list_map_keys=("name",),
            doc="GPU node pools; the system pool is provisioned automatically.",
        ),
    )
    taints: tuple[Taint, ...] | None = attrs.field(
        default=None,
        metadata=describe(
            list_map_keys=("key", "effect"),
            doc="NoSchedule keeps new replicas off; NoExecute also drains untolerated ones.",
        ),
    )


@attrs.frozen(kw_only=True)
class ProviderConfigReference:
    name: str | None = attrs.field(
        default=None, metadata=describe(doc="ProviderConfig targeting the cluster.")
    )


@attrs.frozen(kw_only=True)
class GatewayStatus:
    address: str | None = attrs.field(
        default=None, metadata=describe(doc="External address of the cluster gateway.")
    )


@attrs.frozen(kw_only=True)
class CacheStorageStatus:
    storage_class_name: str | None = attrs.field(
        default=None, metadata=describe(max_length=253, doc="RWX StorageClass for ModelCache PVCs.")
    )


@attrs.frozen(kw_only=True)
class GpuPool:
    """A pool as the scheduler sees it: node count and the devices of each node."""

    name: str = attrs.field(metadata=describe(doc="Pool name, matching spec.nodePools[].name."))
    nodes: int | None = attrs.field(
        default=None, metadata=describe(doc="Nodes the pool is sized to now (its nodeCount).")
    )
    max_nodes: int | None = attrs.field(
        default=None,
        metadata=describe(
            doc="For an autoscaled pool, the most nodes its autoscaler may scale it to "
            "(its maxNodeCount); absent for a fixed-size pool. A pool with 0 nodes and "
            "maxNodes above 0 scales up from zero when replicas need it."
        ),
    )
    devices: tuple[Device, ...] | None = attrs.field(
        default=None,
        metadata=describe(max_items=16, list_map_keys=("name",), doc="Devices from the class."),
    )


@attrs.frozen(kw_only=True)
class InferenceClusterStatus:
    provider_config_ref: ProviderConfigReference | None = attrs.field(default=None)
    gateway: GatewayStatus | None = attrs.field(default=None)
    cache: CacheStorageStatus | None = attrs.field(default=None)
    gpu_pools: tuple[GpuPool, ...] | None = attrs.field(
        default=None,
        metadata=describe(max_items=8, list_map_keys=("name",), doc="Schedulable pools."),
    )
    namespace: str | None = attrs.field(
        default=None, metadata=describe(doc="Namespace of the internal XRs.")
    )
    conditions: tuple[Condition, ...] | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class InferenceCluster(HasKindInfo):
    """A GPU cluster of the fleet, provisioned by Modelplane or brought by the platform team."""

    kind_info = KindInfo(
        api_version=API_VERSION,
        kind="InferenceCluster",
        plural="inferenceclusters",
        scope="Cluster",
        short_names=("ic",),
        printer_columns=(
            PrinterColumn("SOURCE", ".spec.cluster.source"),
            PrinterColumn("GATEWAY", ".status.gateway.address"),
        ),
        description=(
            "An InferenceCluster is a Kubernetes cluster configured for model serving; its "
            "status.gpuPools is the capacity the scheduler places replicas on."
        ),
    )

    metadata: ObjectMeta = attrs.field()
    spec: InferenceClusterSpec = attrs.field()
    status: InferenceClusterStatus | None = attrs.field(default=None)

    @property
    def ready(self) -> bool:
        condition = find_condition(self.status.conditions if self.status else None, "Ready")
        return condition is not None and condition.status == "True"

    @property
    def gateway_address(self) -> str:
        if self.status is None or self.status.gateway is None:
            return ""
        return self.status.gateway.address or ""

    @property
    def gpu_pools(self) -> tuple[GpuPool, ...]:
        return (self.status.gpu_pools or ()) if self.status else ()
