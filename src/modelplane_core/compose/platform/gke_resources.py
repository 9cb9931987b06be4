"""The GCP resources of a GKECluster (upbound provider-gcp, namespaced ``*.gcp.m.upbound.io``).

A VPC-native regional cluster on its own network, with Workload Identity and
the Filestore CSI driver (for ModelCache's ReadWriteMany storage), node
pools labelled ``modelplane.ai/pool=<name>`` so pods pinned to a pool land on
it, and a service account whose key, together with the kubeconfig, lets the
providers reach the cluster.
"""

from __future__ import annotations

from typing import Any, Final

from modelplane_core.api.infrastructure import GKEClusterSpec, GKENetworking, GKENodePool
from modelplane_core.api.meta import LABEL_POOL
from modelplane_core.compose.platform.managed_resources import managed, sibling

COMPUTE: Final = "compute.gcp.m.upbound.io/v1beta1"
CONTAINER: Final = "container.gcp.m.upbound.io/v1beta1"
CLOUDPLATFORM: Final = "cloudplatform.gcp.m.upbound.io/v1beta1"
PODS_RANGE: Final = "pods"
SERVICES_RANGE: Final = "services"
CLOUD_PLATFORM_SCOPE: Final = "https://www.googleapis.com/auth/cloud-platform"
LABEL_GPU: Final = "modelplane.ai/gpu"
# Tells GKE the pool's GPUs are bound through DRA, so its autoscaler can size the
# pool (even from zero) for pods that claim GPUs instead of requesting nvidia.com/gpu.
GKE_DRA_LABEL: Final = "cloud.google.com/gke-nvidia-gpu-dra-driver"
CLUSTER_ADMIN_ROLE: Final = "roles/container.admin"


def _project(spec: GKEClusterSpec) -> dict[str, str]:
    """The project every resource names; omitted, the provider config's projectID applies."""
    return {"project": spec.project} if spec.project else {}


def project_of_service_account(email: str) -> str | None:
    """The project a service account lives in: ``name@<project>.iam.gserviceaccount.com``."""
    _, _, domain = email.partition("@")
    project, _, rest = domain.partition(".")
    return project if rest == "iam.gserviceaccount.com" and project else None


def network(spec: GKEClusterSpec, namespace: str) -> dict[str, Any]:
    return managed(
        COMPUTE,
        "Network",
        namespace=namespace,
        for_provider={**_project(spec), "autoCreateSubnetworks": False},
    )


def filestore_api(spec: GKEClusterSpec, namespace: str) -> dict[str, Any]:
    """Filestore backs ModelCache volumes; its API must be on (and stays on at teardown)."""
    return managed(
        CLOUDPLATFORM,
        "ProjectService",
        namespace=namespace,
        for_provider={
            **_project(spec),
            "service": "file.googleapis.com",
            "disableOnDestroy": False,
        },
    )


def subnetwork(spec: GKEClusterSpec, namespace: str) -> dict[str, Any]:
    cidrs = spec.networking or GKENetworking()
    return managed(
        COMPUTE,
        "Subnetwork",
        namespace=namespace,
        for_provider={
            **_project(spec),
            "region": spec.region,
            "networkSelector": sibling(),
            "ipCidrRange": cidrs.node_cidr,
            "secondaryIpRange": [
                {"rangeName": PODS_RANGE, "ipCidrRange": cidrs.pod_cidr},
                {"rangeName": SERVICES_RANGE, "ipCidrRange": cidrs.service_cidr},
            ],
        },
    )


def cluster(spec: GKEClusterSpec, namespace: str, kubeconfig_secret: str) -> dict[str, Any]:
    for_provider: dict[str, Any] = {
        **_project(spec),
        "location": spec.region,
        "deletionProtection": False,
        # Node pools are separate resources; GKE insists on creating a default one.
        "removeDefaultNodePool": True,
        "initialNodeCount": 1,
        "minMasterVersion": spec.kubernetes_version,
        "networkSelector": sibling(),
        "subnetworkSelector": sibling(),
        "ipAllocationPolicy": {
            "clusterSecondaryRangeName": PODS_RANGE,
            "servicesSecondaryRangeName": SERVICES_RANGE,
        },
        "releaseChannel": {"channel": "REGULAR"},
    }
    if spec.project:
        # The pool is named after the project: set once the project is known.
        for_provider["workloadIdentityConfig"] = {"workloadPool": f"{spec.project}.svc.id.goog"}
    for_provider["addonsConfig"] = {"gcpFilestoreCsiDriverConfig": {"enabled": True}}
    return managed(
        CONTAINER,
        "Cluster",
        namespace=namespace,
        for_provider=for_provider,
        connection_secret=kubeconfig_secret,
    )


def node_pool(spec: GKEClusterSpec, pool: GKENodePool, namespace: str) -> dict[str, Any]:
    """A node pool sized in total, not per zone, so its size is the size the scheduler counts.

    GKE's ``initialNodeCount`` is per zone: the pool starts with enough nodes per
    zone to reach ``nodeCount`` in total (rounded up), and the autoscaler keeps
    the total between the pool's bounds.
    """
    zones = list(pool.zones or ())
    per_zone = -(-pool.node_count // len(zones)) if zones else pool.node_count
    labels = {LABEL_POOL: pool.name}
    node_config: dict[str, Any] = {
        "machineType": pool.machine_type,
        "diskSizeGb": pool.disk_size_gb,
        "imageType": "COS_CONTAINERD",
        "oauthScopes": [CLOUD_PLATFORM_SCOPE],
    }
    if pool.gpu is not None:
        labels[LABEL_GPU] = pool.gpu.accelerator_type
        labels[GKE_DRA_LABEL] = "true"
        node_config["guestAccelerator"] = [
            {
                "type": pool.gpu.accelerator_type,
                "count": pool.gpu.accelerator_count,
                "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"},
            }
        ]
    node_config["labels"] = labels
    for_provider: dict[str, Any] = {
        **_project(spec),
        "location": spec.region,
        "clusterSelector": sibling(),
        "initialNodeCount": per_zone,
        "autoscaling": {
            "totalMinNodeCount": pool.min_node_count,
            "totalMaxNodeCount": pool.max_node_count,
            # GPUs are scarce: take capacity in whichever zone has it.
            "locationPolicy": "ANY",
        },
        "nodeConfig": node_config,
    }
    if zones:
        for_provider["nodeLocations"] = zones
    return managed(CONTAINER, "NodePool", namespace=namespace, for_provider=for_provider)


def service_account(spec: GKEClusterSpec, namespace: str, cluster_name: str) -> dict[str, Any]:
    return managed(
        CLOUDPLATFORM,
        "ServiceAccount",
        namespace=namespace,
        for_provider={**_project(spec), "displayName": f"Modelplane GKE {cluster_name}"},
    )


def service_account_key(namespace: str, key_secret: str) -> dict[str, Any]:
    return managed(
        CLOUDPLATFORM,
        "ServiceAccountKey",
        namespace=namespace,
        for_provider={"serviceAccountIdSelector": sibling()},
        connection_secret=key_secret,
    )


def cluster_admin_binding(spec: GKEClusterSpec, namespace: str, email: str) -> dict[str, Any]:
    """Lets the service account administer the cluster; needs its email, known once created."""
    return managed(
        CLOUDPLATFORM,
        "ProjectIAMMember",
        namespace=namespace,
        for_provider={
            **_project(spec),
            "role": CLUSTER_ADMIN_ROLE,
            "member": f"serviceAccount:{email}",
        },
    )


def filestore_storage_class(network_name: str) -> dict[str, Any]:
    """ReadWriteMany volumes on Filestore Enterprise, in the cluster's own VPC."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "modelplane-rwx"},
        "provisioner": "filestore.csi.storage.gke.io",
        "parameters": {"tier": "enterprise", "network": network_name},
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
    }
