"""The cloud cluster composite (GKE, EKS, AKS, Nebius, Vultr) an InferenceCluster asks for.

Each published pool becomes a GPU node pool built from its class's recipe for
the cloud; a system pool is added to run the serving stack. A pool that cannot
be built this pass (its class went missing, say) keeps the node pool the cloud
composite already has, so a transient problem never deletes running nodes;
only removing the pool from the InferenceCluster removes its node pool.

Sizing: ``nodeCount`` is the pool's size. With ``maxNodeCount`` the pool
autoscales between ``minNodeCount`` (default: ``nodeCount``, so the capacity
the scheduler was promised never scales away) and ``maxNodeCount``; without
it the pool is fixed at ``nodeCount``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

import attrs

from modelplane_core.api.documents import to_dict
from modelplane_core.api.inference_cluster import InferenceCluster, NodePool
from modelplane_core.api.infrastructure import (
    AKSCluster,
    AKSClusterSpec,
    AKSGpu,
    AKSNodePool,
    CapacityBlockRef,
    EKSCluster,
    EKSClusterSpec,
    EKSGpu,
    EKSNodePool,
    GKECluster,
    GKEClusterSpec,
    GKEGpu,
    GKENodePool,
    NebiusCluster,
    NebiusClusterSpec,
    NebiusFabric,
    NebiusGpu,
    NebiusInfiniBand,
    NebiusNodePool,
    VultrCluster,
    VultrClusterSpec,
    VultrGpu,
    VultrNodePool,
)
from modelplane_core.api.meta import ObjectMeta
from modelplane_core.compose.platform.pools import SYSTEM_POOL_NAME, AcceptedPool
from modelplane_core.compose.topology import SYSTEM_NAMESPACE

T = TypeVar("T")

# The non-GPU pool every provisioned cluster gets for the serving stack: small,
# general-purpose machines, one node that may grow to two under load.
SYSTEM_GKE_POOL: Final = GKENodePool(
    name=SYSTEM_POOL_NAME,
    role="System",
    machine_type="e2-standard-4",
    node_count=1,
    min_node_count=1,
    max_node_count=2,
)
SYSTEM_EKS_POOL: Final = EKSNodePool(
    name=SYSTEM_POOL_NAME,
    role="System",
    instance_type="m6i.xlarge",
    node_count=1,
    min_node_count=1,
    max_node_count=2,
)
SYSTEM_NEBIUS_POOL: Final = NebiusNodePool(
    name=SYSTEM_POOL_NAME,
    role="System",
    platform="cpu-d3",
    preset="4vcpu-16gb",
    node_count=1,
    min_node_count=1,
    max_node_count=2,
)

SYSTEM_AKS_POOL: Final = AKSNodePool(
    name=SYSTEM_POOL_NAME,
    role="System",
    vm_size="Standard_D4s_v5",
    node_count=1,
    min_node_count=1,
    max_node_count=2,
)
SYSTEM_VULTR_POOL: Final = VultrNodePool(
    name=SYSTEM_POOL_NAME,
    role="System",
    plan="vc2-6c-16gb",
    node_count=1,
    min_node_count=1,
    max_node_count=2,
)


@attrs.frozen(kw_only=True)
class CloudComposite:
    """Which cloud composite a source composes, under which key."""

    key: str
    kind: str


CLOUD_COMPOSITES: Final[Mapping[str, CloudComposite]] = {
    "GKE": CloudComposite(key="gke-cluster", kind="GKECluster"),
    "EKS": CloudComposite(key="eks-cluster", kind="EKSCluster"),
    "AKS": CloudComposite(key="aks-cluster", kind="AKSCluster"),
    "Nebius": CloudComposite(key="nebius-cluster", kind="NebiusCluster"),
    "Vultr": CloudComposite(key="vultr-cluster", kind="VultrCluster"),
}


def size_bounds(pool: NodePool) -> tuple[int, int]:
    """``(min, max)`` node counts of the provisioned pool."""
    if pool.max_node_count is None:
        return pool.node_count, pool.node_count
    low = pool.min_node_count if pool.min_node_count is not None else pool.node_count
    return low, pool.max_node_count


def cloud_cluster(
    cluster: InferenceCluster,
    accepted: Sequence[AcceptedPool],
    observed_manifest: Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    """The cloud composite for ``cluster``, or None when its source provisions nothing."""
    source = cluster.spec.cluster.source
    settings = cluster.spec.cluster
    metadata = ObjectMeta(name=cluster.metadata.name, namespace=SYSTEM_NAMESPACE)
    built: dict[str, Any]
    if source == "GKE" and settings.gke is not None:
        gke = settings.gke
        composite = GKECluster(
            metadata=metadata,
            spec=GKEClusterSpec(
                project=gke.project,
                region=gke.region,
                kubernetes_version=gke.kubernetes_version,
                credentials=gke.credentials,
                node_pools=(SYSTEM_GKE_POOL, *_built(_gke_pool, accepted)),
            ),
        )
        built = to_dict(composite)
    elif source == "EKS" and settings.eks is not None:
        eks = settings.eks
        built = to_dict(
            EKSCluster(
                metadata=metadata,
                spec=EKSClusterSpec(
                    region=eks.region,
                    kubernetes_version=eks.kubernetes_version,
                    credentials=eks.credentials,
                    node_pools=(SYSTEM_EKS_POOL, *_built(_eks_pool, accepted)),
                ),
            )
        )
    elif source == "Nebius" and settings.nebius is not None:
        built = to_dict(
            NebiusCluster(
                metadata=metadata,
                spec=NebiusClusterSpec(
                    kubernetes_version=settings.nebius.kubernetes_version,
                    credentials=settings.nebius.credentials,
                    node_pools=(SYSTEM_NEBIUS_POOL, *_built(_nebius_pool, accepted)),
                ),
            )
        )
    elif source == "AKS" and settings.aks is not None:
        aks = settings.aks
        built = to_dict(
            AKSCluster(
                metadata=metadata,
                spec=AKSClusterSpec(
                    location=aks.location,
                    kubernetes_version=aks.kubernetes_version,
                    credentials=aks.credentials,
                    node_pools=(SYSTEM_AKS_POOL, *_built(_aks_pool, accepted)),
                ),
            )
        )
    elif source == "Vultr" and settings.vultr is not None:
        vultr = settings.vultr
        built = to_dict(
            VultrCluster(
                metadata=metadata,
                spec=VultrClusterSpec(
                    region=vultr.region,
                    kubernetes_version=vultr.kubernetes_version,
                    credentials=vultr.credentials,
                    node_pools=(SYSTEM_VULTR_POOL, *_built(_vultr_pool, accepted)),
                ),
            )
        )
    else:
        return None
    built["spec"]["nodePools"] = _with_held_pools(
        cluster, built["spec"]["nodePools"], observed_manifest
    )
    return built


def _with_held_pools(
    cluster: InferenceCluster,
    pools: list[dict[str, Any]],
    observed_manifest: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    """``pools`` plus the observed entries of spec pools that could not be built, in spec order."""
    observed_pools = _observed_pools(observed_manifest)
    built = {pool["name"]: pool for pool in pools}
    ordered = [built.pop(SYSTEM_POOL_NAME)] if SYSTEM_POOL_NAME in built else []
    placed = {SYSTEM_POOL_NAME}
    for pool in cluster.spec.node_pools or ():
        if pool.name in placed:  # the system pool, or a duplicate name (the first one counts)
            continue
        placed.add(pool.name)
        if pool.name in built:
            ordered.append(built.pop(pool.name))
        elif pool.name in observed_pools:
            ordered.append(dict(observed_pools.pop(pool.name)))
    ordered.extend(built.values())
    return ordered


def _observed_pools(manifest: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    spec = manifest.get("spec") if manifest else None
    pools = spec.get("nodePools") if isinstance(spec, Mapping) else None
    found: dict[str, Mapping[str, Any]] = {}
    for pool in pools if isinstance(pools, list) else ():
        if isinstance(pool, Mapping) and isinstance(pool.get("name"), str):
            found.setdefault(pool["name"], pool)
    return found


def _built(build: Callable[[AcceptedPool], T | None], accepted: Sequence[AcceptedPool]) -> list[T]:
    return [pool for pool in map(build, accepted) if pool is not None]


def _gke_pool(accepted: AcceptedPool) -> GKENodePool | None:
    pool = accepted.pool
    provisioning = accepted.inference_class.spec.provisioning
    recipe = provisioning.gke if provisioning else None
    if recipe is None:  # review_pools only accepts pools whose class has the recipe
        return None
    low, high = size_bounds(pool)
    return GKENodePool(
        name=pool.name,
        role="GPU",
        machine_type=recipe.machine_type,
        disk_size_gb=recipe.disk_size_gb,
        node_count=pool.node_count,
        min_node_count=low,
        max_node_count=high,
        gpu=GKEGpu(
            accelerator_type=recipe.accelerator.type,
            accelerator_count=recipe.accelerator.count,
        ),
        zones=pool.zones,
    )


def _eks_pool(accepted: AcceptedPool) -> EKSNodePool | None:
    pool = accepted.pool
    provisioning = accepted.inference_class.spec.provisioning
    recipe = provisioning.eks if provisioning else None
    if recipe is None:
        return None
    low, high = size_bounds(pool)
    block = pool.capacity_block
    return EKSNodePool(
        name=pool.name,
        role="GPU",
        instance_type=recipe.instance_type,
        disk_size_gb=recipe.disk_size_gb,
        node_count=pool.node_count,
        min_node_count=low,
        max_node_count=high,
        gpu=EKSGpu(accelerator_type=recipe.accelerator.type),
        capacity_block=(
            CapacityBlockRef(capacity_reservation_id=block.capacity_reservation_id)
            if block is not None
            else None
        ),
        zones=pool.zones,
        fabric="EFA" if pool.fabric is not None and pool.fabric.type == "EFA" else "None",
    )


def _nebius_pool(accepted: AcceptedPool) -> NebiusNodePool | None:
    pool = accepted.pool
    provisioning = accepted.inference_class.spec.provisioning
    recipe = provisioning.nebius if provisioning else None
    if recipe is None:
        return None
    autoscaled = pool.max_node_count is not None
    low, high = size_bounds(pool)
    fabric = None
    if pool.fabric is not None and pool.fabric.type == "InfiniBand" and pool.fabric.infiniband:
        fabric = NebiusFabric(
            type="InfiniBand", infiniband=NebiusInfiniBand(fabric=pool.fabric.infiniband.fabric)
        )
    return NebiusNodePool(
        name=pool.name,
        role="GPU",
        platform=recipe.platform,
        preset=recipe.preset,
        disk_size_gb=recipe.disk_size_gb,
        node_count=pool.node_count,
        min_node_count=low if autoscaled else None,
        max_node_count=high if autoscaled else None,
        gpu=NebiusGpu(
            accelerator_type=recipe.accelerator.type, drivers_preset=recipe.drivers_preset
        ),
        fabric=fabric,
    )


def _aks_pool(accepted: AcceptedPool) -> AKSNodePool | None:
    pool = accepted.pool
    provisioning = accepted.inference_class.spec.provisioning
    recipe = provisioning.aks if provisioning else None
    if recipe is None:
        return None
    low, high = size_bounds(pool)
    infiniband = pool.fabric is not None and pool.fabric.type == "InfiniBand"
    return AKSNodePool(
        name=pool.name,
        role="GPU",
        vm_size=recipe.vm_size,
        disk_size_gb=recipe.disk_size_gb,
        node_count=pool.node_count,
        min_node_count=low,
        max_node_count=high,
        zones=pool.zones or None,
        gpu=AKSGpu(accelerator_type=recipe.accelerator.type),
        fabric="InfiniBand" if infiniband else "None",
    )


def _vultr_pool(accepted: AcceptedPool) -> VultrNodePool | None:
    pool = accepted.pool
    provisioning = accepted.inference_class.spec.provisioning
    recipe = provisioning.vultr if provisioning else None
    if recipe is None:
        return None
    autoscaled = pool.max_node_count is not None
    low, high = size_bounds(pool)
    return VultrNodePool(
        name=pool.name,
        role="GPU",
        plan=recipe.plan,
        node_count=pool.node_count,
        # VKE pools run at least one node.
        min_node_count=max(low, 1) if autoscaled else None,
        max_node_count=high if autoscaled else None,
        gpu=VultrGpu(accelerator_type=recipe.accelerator.type),
    )
