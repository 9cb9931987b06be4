"""The Nebius resources of a NebiusCluster (provider-nebius, namespaced ``*.nebius.m.upbound.io``).

A VPC network and subnet (addresses from the network's own pools), the mk8s
cluster with a public endpoint, one node group per pool (labelled
``modelplane.ai/pool=<name>``; GPU groups with Nebius's driver preset and a
taint only GPU workloads tolerate), and a GPU cluster per InfiniBand fabric
the pools join. Every Nebius resource is named explicitly (the API requires
a name) and is parented to the project of the provider config it uses.

ModelCache's ReadWriteMany storage: Nebius has no managed RWX volumes, so a
shared filesystem is attached to every node group and mounted by cloud-init,
and Nebius's ``csi-mounted-fs-path`` driver serves volumes from directories
on that mount (``modelplane-rwx-fs``).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, Final

from modelplane_core.api.infrastructure import NebiusClusterSpec, NebiusNodePool
from modelplane_core.api.meta import LABEL_POOL
from modelplane_core.compose.platform.managed_resources import managed, sibling

VPC: Final = "vpc.nebius.m.upbound.io/v1beta1"
MK8S: Final = "mk8s.nebius.m.upbound.io/v1beta1"
COMPUTE: Final = "compute.nebius.m.upbound.io/v1beta1"
LABEL_GPU: Final = "modelplane.ai/gpu"
LABEL_FABRIC: Final = "modelplane.ai/fabric"
GPU_TAINT: Final = {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}
BOOT_DISK: Final = "NETWORK_SSD"
# The cache filesystem: fixed size (Nebius has no elastic filesystem), attached to
# every node under a tag that cloud-init mounts.
FILESYSTEM_TYPE: Final = "NETWORK_SSD"
FILESYSTEM_GIB: Final = 1024
MOUNT_TAG: Final = "modelplane-cache"
MOUNT_POINT: Final = "/mnt/modelplane-cache"
USER_DATA_KEY: Final = "userData"
CSI_DRIVER: Final = "mounted-fs-path.csi.nebius.ai"
# First boot mounts the filesystem; the fstab entry mounts it again after a reboot.
CLOUD_INIT: Final = f"""#cloud-config
runcmd:
  - mkdir -p {MOUNT_POINT}
  - mount -t virtiofs {MOUNT_TAG} {MOUNT_POINT}
  - echo "{MOUNT_TAG} {MOUNT_POINT} virtiofs defaults,nofail 0 2" >> /etc/fstab
"""


def fabric_of(pool: NebiusNodePool) -> str | None:
    """The InfiniBand fabric the pool's nodes join, if any."""
    fabric = pool.fabric
    if fabric is not None and fabric.type == "InfiniBand" and fabric.infiniband is not None:
        return fabric.infiniband.fabric
    return None


def fabrics(spec: NebiusClusterSpec) -> list[str]:
    """The distinct fabrics of the pools, in the order they first appear."""
    return list(dict.fromkeys(f for f in map(fabric_of, spec.node_pools) if f is not None))


def network(namespace: str, name: str) -> dict[str, Any]:
    return managed(VPC, "Network", namespace=namespace, for_provider={"name": name})


def subnet(namespace: str, name: str) -> dict[str, Any]:
    return managed(
        VPC,
        "Subnet",
        namespace=namespace,
        for_provider={
            "name": name,
            "networkIdSelector": sibling(),
            "ipv4PrivatePools": {"useNetworkPools": True},
        },
    )


def cluster(
    spec: NebiusClusterSpec, namespace: str, name: str, connection_secret: str
) -> dict[str, Any]:
    """The control plane, reachable on a public endpoint; writes its kubeconfig.

    That kubeconfig holds the endpoint and CA only: Nebius authenticates every
    client through its IAM (see ``cluster_access``).
    """
    return managed(
        MK8S,
        "Cluster",
        namespace=namespace,
        for_provider={
            "name": name,
            "controlPlane": {
                "version": spec.kubernetes_version,
                "subnetIdSelector": sibling(),
                "endpoints": {"publicEndpoint": {}},
            },
        },
        connection_secret=connection_secret,
    )


def gpu_cluster(namespace: str, name: str, fabric: str) -> dict[str, Any]:
    """Nodes of one fabric share a GPU cluster; node groups find theirs by label."""
    return managed(
        COMPUTE,
        "GpuCluster",
        namespace=namespace,
        labels={LABEL_FABRIC: fabric},
        for_provider={"name": f"{name}-{fabric}", "infinibandFabric": fabric},
    )


def filesystem(namespace: str, name: str) -> dict[str, Any]:
    return managed(
        COMPUTE,
        "Filesystem",
        namespace=namespace,
        for_provider={
            "name": f"{name}-cache",
            "type": FILESYSTEM_TYPE,
            "sizeGibibytes": FILESYSTEM_GIB,
        },
    )


def cloud_init_secret(namespace: str, name: str) -> dict[str, Any]:
    """The user data node groups read by reference, in their own namespace."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {USER_DATA_KEY: base64.b64encode(CLOUD_INIT.encode()).decode()},
    }


def node_group(
    spec: NebiusClusterSpec,
    namespace: str,
    pool: NebiusNodePool,
    *,
    name: str,
    cloud_init: str,
) -> dict[str, Any]:
    """A node group; fixed at ``nodeCount`` or autoscaled by mk8s between its bounds."""
    labels = {LABEL_POOL: pool.name}
    template: dict[str, Any] = {
        "resources": {"platform": pool.platform, "preset": pool.preset},
        "bootDisk": {"sizeGibibytes": pool.disk_size_gb, "type": BOOT_DISK},
        "networkInterfaces": [{"subnetIdSelector": sibling()}],
        "filesystems": [
            {
                "attachMode": "READ_WRITE",
                "mountTag": MOUNT_TAG,
                "existingFilesystem": {"idSelector": sibling()},
            }
        ],
        "cloudInitUserDataSecretRef": {"name": cloud_init, "key": USER_DATA_KEY},
    }
    if pool.role == "GPU" and pool.gpu is not None:
        labels[LABEL_GPU] = pool.gpu.accelerator_type
        template["gpuSettings"] = {"driversPreset": pool.gpu.drivers_preset}
        template["taints"] = [dict(GPU_TAINT)]
    fabric = fabric_of(pool)
    if fabric is not None:
        template["gpuCluster"] = {"idSelector": sibling({LABEL_FABRIC: fabric})}
    template["metadata"] = {"labels": labels}
    for_provider: dict[str, Any] = {
        "name": name,
        "parentIdSelector": sibling(),
        "version": spec.kubernetes_version,
        "template": template,
    }
    if pool.max_node_count is not None:
        low = pool.min_node_count if pool.min_node_count is not None else pool.node_count
        for_provider["autoscaling"] = {"minNodeCount": low, "maxNodeCount": pool.max_node_count}
    else:
        for_provider["fixedNodeCount"] = pool.node_count
    return managed(MK8S, "NodeGroup", namespace=namespace, for_provider=for_provider)


def csi_values(tolerations: Sequence[dict[str, str]]) -> dict[str, Any]:
    """The CSI driver serves volumes from a directory on the mount, on every node (GPU too)."""
    return {
        "dataDir": f"{MOUNT_POINT}/csi-mounted-fs-path-data/",
        "tolerations": [dict(t) for t in tolerations],
    }


def fs_storage_class(name: str) -> dict[str, Any]:
    """Volumes are directories on a node's mount: bound where their first pod runs."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": CSI_DRIVER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
