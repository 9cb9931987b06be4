"""Internal composites (group infrastructure.modelplane.ai) an InferenceCluster composes.

Users rarely write these; they exist so the cloud-specific and per-cluster
software pieces are separately observable and separately reconciled.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from modelplane_core.api.fields import AKS_POOL_NAME, AKS_POOL_NAME_HINT, describe
from modelplane_core.api.meta import (
    INFRA_API_VERSION,
    Condition,
    HasKindInfo,
    KindInfo,
    ObjectMeta,
    PrinterColumn,
)

SecretType = Literal[
    "Kubeconfig",
    "GoogleApplicationCredentials",
    "AWSWebIdentityCredentials",
    "NebiusServiceAccountCredentials",
]
PoolRole = Literal["System", "GPU"]
ListenerProtocol = Literal["HTTP", "TCP"]
CredentialsKind = Literal["ProviderConfig", "ClusterProviderConfig"]


@attrs.frozen(kw_only=True)
class CloudCredentials:
    """Which provider config authenticates the cloud API calls that build a cluster."""

    type: CredentialsKind = attrs.field(
        default="ClusterProviderConfig",
        metadata=describe(
            doc="A namespaced ProviderConfig (in modelplane-system) or a ClusterProviderConfig."
        ),
    )
    name: str = attrs.field(
        default="default",
        metadata=describe(min_length=1, max_length=253, doc="Name of the provider config."),
    )

    def as_ref(self) -> dict[str, str]:
        """The ``providerConfigRef`` of every cloud managed resource built with them."""
        return {"kind": self.type, "name": self.name}


def credentials_metadata(cloud: str) -> dict[str, Any]:
    """Field metadata of the optional ``credentials`` every cloud cluster spec carries."""
    return describe(
        doc=f"{cloud} ProviderConfig or ClusterProviderConfig that authenticates to the "
        f"{cloud} API; omitted, the ClusterProviderConfig named default."
    )


@attrs.frozen(kw_only=True)
class ClusterSecret:
    """A Secret holding access material for a workload cluster."""

    type: SecretType = attrs.field(metadata=describe(doc="What the Secret holds."))
    name: str = attrs.field(metadata=describe(max_length=253, doc="Secret name."))
    key: str = attrs.field(metadata=describe(max_length=253, doc="Key within the Secret."))
    namespace: str | None = attrs.field(
        default=None,
        metadata=describe(max_length=253, doc="Secret namespace; defaults to the XR's namespace."),
    )


@attrs.frozen(kw_only=True)
class StackVersions:
    gateway_api: str = attrs.field(default="v1.5.1", metadata=describe(min_length=1, max_length=32))
    cert_manager: str = attrs.field(
        default="v1.17.1", metadata=describe(min_length=1, max_length=32)
    )
    envoy_gateway: str = attrs.field(
        default="v1.8.1", metadata=describe(min_length=1, max_length=32)
    )
    prometheus: str = attrs.field(default="72.6.2", metadata=describe(min_length=1, max_length=32))
    leader_worker_set: str = attrs.field(
        default="v0.8.0", metadata=describe(min_length=1, max_length=32)
    )
    node_feature_discovery: str = attrs.field(
        default="0.18.3", metadata=describe(min_length=1, max_length=32)
    )
    nvidia_dra_driver: str = attrs.field(
        default="0.4.0", metadata=describe(min_length=1, max_length=32)
    )


@attrs.frozen(kw_only=True)
class GatewayListener:
    name: str = attrs.field(metadata=describe(min_length=1, max_length=63))
    port: int = attrs.field(metadata=describe(minimum=1, maximum=65535))
    protocol: ListenerProtocol = attrs.field()


@attrs.frozen(kw_only=True)
class StackGateway:
    class_name: str = attrs.field(default="envoy", metadata=describe(min_length=1, max_length=63))
    listeners: tuple[GatewayListener, ...] | None = attrs.field(
        default=None, metadata=describe(max_items=8, list_map_keys=("name",))
    )


@attrs.frozen(kw_only=True)
class ServingStackSpec:
    secrets: tuple[ClusterSecret, ...] = attrs.field(
        metadata=describe(
            min_items=1,
            max_items=8,
            doc="Access to the workload cluster; must include a Kubeconfig.",
        )
    )
    nvidia_driver_root: str = attrs.field(
        default="/",
        metadata=describe(max_length=512, doc="Host path of the NVIDIA driver (GKE: non-default)."),
    )
    versions: StackVersions | None = attrs.field(
        default=None, metadata=describe(doc="Pinned component versions.")
    )
    gateway: StackGateway | None = attrs.field(
        default=None, metadata=describe(doc="The workload-cluster Gateway.")
    )


@attrs.frozen(kw_only=True)
class StackGatewayStatus:
    address: str | None = attrs.field(default=None, metadata=describe(max_length=256))


@attrs.frozen(kw_only=True)
class ServingStackStatus:
    gateway: StackGatewayStatus | None = attrs.field(default=None)
    conditions: tuple[Condition, ...] | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class ServingStack(HasKindInfo):
    """The serving substrate Modelplane installs on every workload cluster."""

    kind_info = KindInfo(
        api_version=INFRA_API_VERSION,
        kind="ServingStack",
        plural="servingstacks",
        scope="Namespaced",
        short_names=("ss",),
        printer_columns=(PrinterColumn("GATEWAY", ".status.gateway.address"),),
        description=(
            "A ServingStack installs the serving substrate (LeaderWorkerSet, Gateway API, "
            "cert-manager, Prometheus, the DRA driver) on a Kubernetes cluster."
        ),
    )

    metadata: ObjectMeta = attrs.field()
    spec: ServingStackSpec = attrs.field()
    status: ServingStackStatus | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class CloudCacheStatus:
    storage_class_name: str | None = attrs.field(default=None, metadata=describe(max_length=253))


@attrs.frozen(kw_only=True)
class CloudClusterStatus:
    secrets: tuple[ClusterSecret, ...] | None = attrs.field(default=None)
    cache: CloudCacheStatus | None = attrs.field(default=None)
    conditions: tuple[Condition, ...] | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class GKEGpu:
    accelerator_type: str = attrs.field(metadata=describe(min_length=1, max_length=63))
    accelerator_count: int = attrs.field(default=1, metadata=describe(minimum=1, maximum=16))


@attrs.frozen(kw_only=True)
class GKENodePool:
    name: str = attrs.field(metadata=describe(min_length=1, max_length=40))
    role: PoolRole = attrs.field()
    machine_type: str = attrs.field(metadata=describe(min_length=1, max_length=63))
    disk_size_gb: int = attrs.field(default=100, metadata=describe(minimum=10, maximum=65536))
    node_count: int = attrs.field(default=1, metadata=describe(minimum=0, maximum=1000))
    min_node_count: int = attrs.field(default=0, metadata=describe(minimum=0, maximum=1000))
    max_node_count: int = attrs.field(default=8, metadata=describe(minimum=0, maximum=1000))
    gpu: GKEGpu | None = attrs.field(default=None)
    zones: tuple[str, ...] | None = attrs.field(
        default=None,
        metadata=describe(min_items=1, max_items=8, item_min_length=1, item_max_length=63),
    )


@attrs.frozen(kw_only=True)
class GKENetworking:
    pod_cidr: str = attrs.field(default="10.1.0.0/16", metadata=describe(max_length=18))
    service_cidr: str = attrs.field(default="10.2.0.0/16", metadata=describe(max_length=18))
    node_cidr: str = attrs.field(default="10.0.0.0/24", metadata=describe(max_length=18))


@attrs.frozen(kw_only=True)
class GKEClusterSpec:
    region: str = attrs.field(metadata=describe(min_length=1, max_length=32))
    project: str | None = attrs.field(
        default=None,
        metadata=describe(
            min_length=6,
            max_length=30,
            doc="GCP project ID; omitted, the project of the credentials' provider config.",
        ),
    )
    node_pools: tuple[GKENodePool, ...] = attrs.field(
        metadata=describe(min_items=1, max_items=8, list_map_keys=("name",))
    )
    kubernetes_version: str = attrs.field(
        default="1.35", metadata=describe(min_length=1, max_length=16)
    )
    credentials: CloudCredentials | None = attrs.field(
        default=None, metadata=credentials_metadata("GCP")
    )
    networking: GKENetworking | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class GKECluster(HasKindInfo):
    """A GKE cluster with dedicated GPU and system node pools."""

    kind_info = KindInfo(
        api_version=INFRA_API_VERSION,
        kind="GKECluster",
        plural="gkeclusters",
        scope="Namespaced",
        short_names=("gke",),
        printer_columns=(
            PrinterColumn("PROJECT", ".spec.project"),
            PrinterColumn("REGION", ".spec.region"),
        ),
        description="A GKECluster provisions a GKE cluster with GPU and system node pools.",
    )

    metadata: ObjectMeta = attrs.field()
    spec: GKEClusterSpec = attrs.field()
    status: CloudClusterStatus | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class EKSGpu:
    accelerator_type: str = attrs.field(metadata=describe(min_length=1, max_length=63))


@attrs.frozen(kw_only=True)
class CapacityBlockRef:
    capacity_reservation_id: str = attrs.field(
        metadata=describe(
            min_length=4,
            max_length=64,
            pattern=r"^cr-[0-9a-f]+$",
            pattern_hint="cr- followed by lowercase hex digits",
        )
    )


@attrs.frozen(kw_only=True)
class EKSNodePool:
    name: str = attrs.field(metadata=describe(min_length=1, max_length=40))
    role: PoolRole = attrs.field()
    instance_type: str = attrs.field(metadata=describe(min_length=1, max_length=63))
    disk_size_gb: int = attrs.field(default=100, metadata=describe(minimum=10, maximum=65536))
    node_count: int = attrs.field(default=1, metadata=describe(minimum=0, maximum=1000))
    min_node_count: int = attrs.field(default=0, metadata=describe(minimum=0, maximum=1000))
    max_node_count: int = attrs.field(default=8, metadata=describe(minimum=0, maximum=1000))
    gpu: EKSGpu | None = attrs.field(default=None)
    capacity_block: CapacityBlockRef | None = attrs.field(default=None)
    zones: tuple[str, ...] | None = attrs.field(
        default=None,
        metadata=describe(min_items=1, max_items=8, item_min_length=1, item_max_length=63),
    )
    fabric: Literal["None", "EFA"] = attrs.field(default="None")


@attrs.frozen(kw_only=True)
class EKSNetworking:
    vpc_cidr: str = attrs.field(default="10.0.0.0/16", metadata=describe(max_length=18))
    subnet_cidrs: tuple[str, ...] = attrs.field(
        default=("10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"),
        metadata=describe(min_items=2, max_items=6, item_max_length=18),
    )


@attrs.frozen(kw_only=True)
class EKSClusterSpec:
    region: str = attrs.field(metadata=describe(min_length=1, max_length=32))
    node_pools: tuple[EKSNodePool, ...] = attrs.field(
        metadata=describe(min_items=1, max_items=8, list_map_keys=("name",))
    )
    kubernetes_version: str = attrs.field(
        default="1.36", metadata=describe(min_length=1, max_length=16)
    )
    credentials: CloudCredentials | None = attrs.field(
        default=None, metadata=credentials_metadata("AWS")
    )
    networking: EKSNetworking | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class EKSCluster(HasKindInfo):
    """An EKS cluster with dedicated GPU and system node groups."""

    kind_info = KindInfo(
        api_version=INFRA_API_VERSION,
        kind="EKSCluster",
        plural="eksclusters",
        scope="Namespaced",
        short_names=("eks",),
        printer_columns=(PrinterColumn("REGION", ".spec.region"),),
        description="An EKSCluster provisions an EKS cluster with GPU and system node groups.",
    )

    metadata: ObjectMeta = attrs.field()
    spec: EKSClusterSpec = attrs.field()
    status: CloudClusterStatus | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class NebiusGpu:
    accelerator_type: str = attrs.field(metadata=describe(min_length=1, max_length=63))
    drivers_preset: str = attrs.field(
        default="cuda13.0", metadata=describe(min_length=1, max_length=63)
    )


@attrs.frozen(kw_only=True)
class NebiusInfiniBand:
    fabric: str = attrs.field(metadata=describe(min_length=1, max_length=63))


@attrs.frozen(kw_only=True)
class NebiusFabric:
    type: Literal["None", "InfiniBand"] = attrs.field(default="None")
    infiniband: NebiusInfiniBand | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class NebiusNodePool:
    name: str = attrs.field(metadata=describe(min_length=1, max_length=40))
    role: PoolRole = attrs.field()
    platform: str = attrs.field(metadata=describe(min_length=1, max_length=63))
    preset: str = attrs.field(metadata=describe(min_length=1, max_length=63))
    disk_size_gb: int = attrs.field(default=100, metadata=describe(minimum=10, maximum=65536))
    node_count: int = attrs.field(default=1, metadata=describe(minimum=0, maximum=1000))
    min_node_count: int | None = attrs.field(
        default=None, metadata=describe(minimum=0, maximum=1000)
    )
    max_node_count: int | None = attrs.field(
        default=None, metadata=describe(minimum=1, maximum=1000)
    )
    gpu: NebiusGpu | None = attrs.field(default=None)
    fabric: NebiusFabric | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class NebiusClusterSpec:
    node_pools: tuple[NebiusNodePool, ...] = attrs.field(
        metadata=describe(min_items=1, max_items=8, list_map_keys=("name",))
    )
    kubernetes_version: str = attrs.field(
        default="1.34", metadata=describe(min_length=1, max_length=16)
    )
    credentials: CloudCredentials | None = attrs.field(
        default=None, metadata=credentials_metadata("Nebius")
    )


@attrs.frozen(kw_only=True)
class NebiusCluster(HasKindInfo):
    """A Nebius mk8s cluster with GPU and system node groups."""

    kind_info = KindInfo(
        api_version=INFRA_API_VERSION,
        kind="NebiusCluster",
        plural="nebiusclusters",
        scope="Namespaced",
        short_names=("mk8s",),
        description="A NebiusCluster provisions a Nebius mk8s cluster with GPU node groups.",
    )

    metadata: ObjectMeta = attrs.field()
    spec: NebiusClusterSpec = attrs.field()
    status: CloudClusterStatus | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class AKSGpu:
    accelerator_type: str = attrs.field(metadata=describe(min_length=1, max_length=63))


@attrs.frozen(kw_only=True)
class AKSNodePool:
    name: str = attrs.field(
        metadata=describe(
            min_length=1,
            max_length=12,
            pattern=AKS_POOL_NAME,
            pattern_hint=AKS_POOL_NAME_HINT,
        )
    )
    role: PoolRole = attrs.field()
    vm_size: str = attrs.field(metadata=describe(min_length=1, max_length=63))
    disk_size_gb: int = attrs.field(default=100, metadata=describe(minimum=10, maximum=65536))
    node_count: int = attrs.field(default=1, metadata=describe(minimum=0, maximum=1000))
    min_node_count: int = attrs.field(default=0, metadata=describe(minimum=0, maximum=1000))
    max_node_count: int = attrs.field(default=8, metadata=describe(minimum=0, maximum=1000))
    zones: tuple[str, ...] | None = attrs.field(
        default=None,
        metadata=describe(min_items=1, max_items=3, item_min_length=1, item_max_length=8),
    )
    gpu: AKSGpu | None = attrs.field(default=None)
    fabric: Literal["None", "InfiniBand"] = attrs.field(default="None")


@attrs.frozen(kw_only=True)
class AKSNetworking:
    vnet_cidr: str = attrs.field(default="10.0.0.0/16", metadata=describe(max_length=18))
    # Must stay clear of the cluster's service (10.96.0.0/16) and pod (10.244.0.0/16) ranges.
    subnet_cidr: str = attrs.field(default="10.0.0.0/20", metadata=describe(max_length=18))


@attrs.frozen(kw_only=True)
class AKSClusterSpec:
    location: str = attrs.field(metadata=describe(min_length=1, max_length=32))
    node_pools: tuple[AKSNodePool, ...] = attrs.field(
        metadata=describe(min_items=1, max_items=8, list_map_keys=("name",))
    )
    kubernetes_version: str = attrs.field(
        default="1.34", metadata=describe(min_length=1, max_length=16)
    )
    credentials: CloudCredentials | None = attrs.field(
        default=None, metadata=credentials_metadata("Azure")
    )
    networking: AKSNetworking | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class AKSCluster(HasKindInfo):
    """An AKS cluster with a system node pool and GPU node pools."""

    kind_info = KindInfo(
        api_version=INFRA_API_VERSION,
        kind="AKSCluster",
        plural="aksclusters",
        scope="Namespaced",
        short_names=("aks",),
        printer_columns=(PrinterColumn("LOCATION", ".spec.location"),),
        description="An AKSCluster provisions an AKS cluster with GPU and system node pools.",
    )

    metadata: ObjectMeta = attrs.field()
    spec: AKSClusterSpec = attrs.field()
    status: CloudClusterStatus | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class VultrGpu:
    accelerator_type: str = attrs.field(metadata=describe(min_length=1, max_length=63))


@attrs.frozen(kw_only=True)
class VultrNodePool:
    name: str = attrs.field(metadata=describe(min_length=1, max_length=40))
    role: PoolRole = attrs.field()
    plan: str = attrs.field(metadata=describe(min_length=1, max_length=63))
    node_count: int = attrs.field(default=1, metadata=describe(minimum=1, maximum=1000))
    min_node_count: int | None = attrs.field(
        default=None, metadata=describe(minimum=1, maximum=1000)
    )
    max_node_count: int | None = attrs.field(
        default=None, metadata=describe(minimum=1, maximum=1000)
    )
    gpu: VultrGpu | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class VultrClusterSpec:
    region: str = attrs.field(metadata=describe(min_length=1, max_length=32))
    node_pools: tuple[VultrNodePool, ...] = attrs.field(
        metadata=describe(min_items=1, max_items=8, list_map_keys=("name",))
    )
    kubernetes_version: str = attrs.field(
        default="v1.36.1+3",
        metadata=describe(
            min_length=1, max_length=16, doc="Exact VKE version, including its build suffix."
        ),
    )
    credentials: CloudCredentials | None = attrs.field(
        default=None, metadata=credentials_metadata("Vultr")
    )


@attrs.frozen(kw_only=True)
class VultrCluster(HasKindInfo):
    """A Vultr Kubernetes Engine (VKE) cluster with GPU node pools."""

    kind_info = KindInfo(
        api_version=INFRA_API_VERSION,
        kind="VultrCluster",
        plural="vultrclusters",
        scope="Namespaced",
        short_names=("vke",),
        printer_columns=(PrinterColumn("REGION", ".spec.region"),),
        description="A VultrCluster provisions a Vultr Kubernetes Engine cluster with GPU node "
        "pools.",
    )

    metadata: ObjectMeta = attrs.field()
    spec: VultrClusterSpec = attrs.field()
    status: CloudClusterStatus | None = attrs.field(default=None)
