"""The Azure resources of an AKSCluster (provider-upjet-azure, namespaced ``*.azure.m.upbound.io``).

A dedicated resource group (so deleting the cluster leaves nothing behind in
Azure), a virtual network with one node subnet (Azure subnets span every
availability zone), and the AKS cluster with Azure CNI in overlay mode: pods
and services get addresses outside the VNet, from fixed ranges the VNet must
stay clear of. AKS requires a default node pool inline on the cluster; it is
the spec's first System pool. Every other pool is a separate agent pool, so
adding or removing one never touches the cluster. Nodes are labelled
``modelplane.ai/pool=<name>``; GPU pools get AKS's NVIDIA driver (GPUs then
bind to pods through the serving stack's DRA driver) and a taint only GPU
workloads tolerate.

The cluster writes its kubeconfig, which embeds a client certificate for the
cluster's admin account, to a connection Secret: consumers need nothing else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any, Final

from modelplane_core.api.errors import FieldError
from modelplane_core.api.infrastructure import AKSClusterSpec, AKSNetworking, AKSNodePool
from modelplane_core.api.meta import LABEL_POOL
from modelplane_core.compose.platform.managed_resources import managed, sibling

AZURE: Final = "azure.m.upbound.io/v1beta1"
NETWORK: Final = "network.azure.m.upbound.io/v1beta1"
CONTAINER_SERVICE: Final = "containerservice.azure.m.upbound.io/v1beta1"
LABEL_GPU: Final = "modelplane.ai/gpu"
EXTERNAL_NAME: Final = "crossplane.io/external-name"
# AKS takes taints as strings; the serving stack's GPU workloads tolerate this one.
GPU_TAINT: Final = "nvidia.com/gpu=true:NoSchedule"
# Pods and services live in an overlay outside the VNet (AKSNetworking's defaults avoid them).
POD_CIDR: Final = "10.244.0.0/16"
SERVICE_CIDR: Final = "10.96.0.0/16"
DNS_SERVICE_IP: Final = "10.96.0.10"
OVERLAY_RANGES: Final = {"the pod range": POD_CIDR, "the service range": SERVICE_CIDR}
# Azure Files over SMB for ModelCache's ReadWriteMany volumes. Model hubs lay out
# caches as symlinks, which SMB only stores with mfsymlinks; every pod reads as root.
FILES_MOUNT_OPTIONS: Final = (
    "dir_mode=0777",
    "file_mode=0777",
    "uid=0",
    "gid=0",
    "mfsymlinks",
    "cache=strict",
    "actimeo=30",
    "nosharesock",
)


def networking_problems(spec: AKSClusterSpec) -> list[FieldError]:
    """Whether the VNet and its subnet can be laid out beside the overlay ranges."""
    networking = spec.networking or AKSNetworking()
    found: list[FieldError] = []
    parsed: dict[str, ipaddress.IPv4Network] = {}
    for field, value in (
        ("vnetCidr", networking.vnet_cidr),
        ("subnetCidr", networking.subnet_cidr),
    ):
        try:
            parsed[field] = ipaddress.IPv4Network(value)
        except ValueError as exc:
            found.append(FieldError(f"spec.networking.{field}", f"invalid IPv4 CIDR: {exc}"))
    if found:
        return found
    vnet, subnet = parsed["vnetCidr"], parsed["subnetCidr"]
    if not subnet.subnet_of(vnet):
        found.append(
            FieldError("spec.networking.subnetCidr", f"{subnet} is not inside vnetCidr {vnet}")
        )
    for field, network in parsed.items():
        for what, cidr in OVERLAY_RANGES.items():
            if network.overlaps(ipaddress.IPv4Network(cidr)):
                found.append(
                    FieldError(
                        f"spec.networking.{field}",
                        f"{network} overlaps {what} {cidr} of the cluster's overlay network",
                    )
                )
    return found


def resource_group(spec: AKSClusterSpec, namespace: str, name: str) -> dict[str, Any]:
    """Named ``name`` in Azure too: resource group names are unique per subscription."""
    return managed(
        AZURE,
        "ResourceGroup",
        namespace=namespace,
        name=name,
        for_provider={"location": spec.location},
    )


def virtual_network(spec: AKSClusterSpec, namespace: str) -> dict[str, Any]:
    networking = spec.networking or AKSNetworking()
    return managed(
        NETWORK,
        "VirtualNetwork",
        namespace=namespace,
        for_provider={
            "location": spec.location,
            "addressSpace": [networking.vnet_cidr],
            "resourceGroupNameSelector": sibling(),
        },
    )


def subnet(spec: AKSClusterSpec, namespace: str) -> dict[str, Any]:
    networking = spec.networking or AKSNetworking()
    return managed(
        NETWORK,
        "Subnet",
        namespace=namespace,
        for_provider={
            "addressPrefixes": [networking.subnet_cidr],
            "resourceGroupNameSelector": sibling(),
            "virtualNetworkNameSelector": sibling(),
        },
    )


def rotation_name(pool: str) -> str:
    """A temporary pool name for AKS to rotate the default pool through (<= 12 characters)."""
    candidate = f"{pool[:9]}tmp"
    return candidate if candidate != pool else f"{pool[:9]}rot"


def autoscaled(pool: AKSNodePool) -> bool:
    """A pool whose bounds differ autoscales between them; otherwise it stays at nodeCount."""
    return pool.max_node_count > pool.min_node_count


def _sizing(pool: AKSNodePool) -> dict[str, Any]:
    if autoscaled(pool):
        return {
            "autoScalingEnabled": True,
            "minCount": pool.min_node_count,
            "maxCount": pool.max_node_count,
        }
    return {"autoScalingEnabled": False, "nodeCount": pool.node_count}


def _labels(pool: AKSNodePool) -> dict[str, str]:
    labels = {LABEL_POOL: pool.name}
    if pool.role == "GPU" and pool.gpu is not None:
        labels[LABEL_GPU] = pool.gpu.accelerator_type
    return labels


def cluster(
    spec: AKSClusterSpec,
    namespace: str,
    name: str,
    *,
    default_pool: AKSNodePool,
    kubeconfig_secret: str,
    dns_prefix: str,
) -> dict[str, Any]:
    """The control plane and its default (system) pool; ``name`` is also its Azure name."""
    pool: dict[str, Any] = {
        "name": default_pool.name,
        "vmSize": default_pool.vm_size,
        "osDiskSizeGb": default_pool.disk_size_gb,
        "temporaryNameForRotation": rotation_name(default_pool.name),
        "nodeLabels": _labels(default_pool),
        "vnetSubnetIdSelector": sibling(),
        **_sizing(default_pool),
    }
    if default_pool.zones:
        pool["zones"] = list(default_pool.zones)
    return managed(
        CONTAINER_SERVICE,
        "KubernetesCluster",
        namespace=namespace,
        name=name,
        for_provider={
            "location": spec.location,
            "kubernetesVersion": spec.kubernetes_version,
            "dnsPrefix": dns_prefix,
            # AKS's default name for it (MC_<group>_<cluster>_<location>) can exceed
            # Azure's 80 characters with our names.
            "nodeResourceGroup": f"{name}-nodes",
            "resourceGroupNameSelector": sibling(),
            "identity": {"type": "SystemAssigned"},
            "defaultNodePool": pool,
            "networkProfile": {
                "networkPlugin": "azure",
                "networkPluginMode": "overlay",
                "podCidr": POD_CIDR,
                "serviceCidr": SERVICE_CIDR,
                "dnsServiceIp": DNS_SERVICE_IP,
            },
        },
        connection_secret=kubeconfig_secret,
    )


def node_pool(spec: AKSClusterSpec, namespace: str, pool: AKSNodePool) -> dict[str, Any]:
    """An agent pool; its name in Azure is the pool's name (external name), not the object's.

    An autoscaled pool's size is given only at creation (``initProvider``) and
    never late-initialized, so the AKS autoscaler owns it afterwards.
    """
    gpu = pool.role == "GPU" and pool.gpu is not None
    sizing = _sizing(pool)
    init: dict[str, Any] | None = None
    if autoscaled(pool):
        init = {"nodeCount": pool.node_count}
    for_provider: dict[str, Any] = {
        "kubernetesClusterIdSelector": sibling(),
        "vnetSubnetIdSelector": sibling(),
        "mode": "System" if pool.role == "System" else "User",
        "vmSize": pool.vm_size,
        "osDiskSizeGb": pool.disk_size_gb,
        "orchestratorVersion": spec.kubernetes_version,
        "nodeLabels": _labels(pool),
        **sizing,
    }
    if pool.zones:
        for_provider["zones"] = list(pool.zones)
    if gpu:
        for_provider["gpuDriver"] = "Install"
        for_provider["nodeTaints"] = [GPU_TAINT]
    manifest = managed(
        CONTAINER_SERVICE,
        "KubernetesClusterNodePool",
        namespace=namespace,
        for_provider=for_provider,
        init_provider=init,
    )
    manifest["metadata"]["annotations"] = {EXTERNAL_NAME: pool.name}
    return manifest


def files_storage_class(name: str) -> dict[str, Any]:
    """ReadWriteMany volumes on Azure Files (Premium), whose CSI driver AKS bundles."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": "file.csi.azure.com",
        "parameters": {"skuName": "Premium_LRS"},
        "mountOptions": list(FILES_MOUNT_OPTIONS),
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
    }


def network_operator_values(tolerations: Sequence[dict[str, str]]) -> dict[str, Any]:
    """The NVIDIA network operator: InfiniBand host drivers and the RDMA device plugin.

    Both run as DaemonSets on the GPU nodes, which carry the GPU taint.
    """
    return {
        "deployCR": True,
        "ofedDriver": {"deploy": True},
        "rdmaSharedDevicePlugin": {"deploy": True},
        "daemonsets": {"tolerations": [dict(t) for t in tolerations]},
    }
