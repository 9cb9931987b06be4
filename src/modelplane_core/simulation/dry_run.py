"""A fleet dry run over manifests: where would these deployments land, and why not.

``modelplane schedule`` and notebooks hold manifests, not a running control
plane, so their InferenceClusters usually carry no status: nothing has
published ``status.gpuPools`` yet. A dry run publishes those pools exactly as
the InferenceCluster composer does (``compose.platform.pools``, the one source
of truth for pools), counts such clusters Ready with a gateway, and schedules
every ModelDeployment in the given order in one :class:`FleetPass`, so each
deployment sees the replicas placed before it, exactly as consecutive
reconciles of a real control plane would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from modelplane_core.api.inference_class import InferenceClass
from modelplane_core.api.inference_cluster import (
    CacheStorageStatus,
    GatewayStatus,
    InferenceCluster,
    InferenceClusterStatus,
)
from modelplane_core.api.meta import Condition
from modelplane_core.api.model_cache import ModelCache
from modelplane_core.api.model_deployment import ModelDeployment
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.compose.aks_cluster import STORAGE_CLASS as AKS_STORAGE_CLASS
from modelplane_core.compose.eks_cluster import STORAGE_CLASS as EKS_STORAGE_CLASS
from modelplane_core.compose.gke_cluster import STORAGE_CLASS as GKE_STORAGE_CLASS
from modelplane_core.compose.nebius_cluster import STORAGE_CLASS as NEBIUS_STORAGE_CLASS
from modelplane_core.compose.platform.pools import review_pools
from modelplane_core.compose.vultr_cluster import STORAGE_CLASS as VULTR_STORAGE_CLASS
from modelplane_core.scheduling import (
    CacheFootprint,
    FleetPass,
    Schedule,
    SchedulerCache,
    snapshot,
)

# The gateway a dry-run cluster is assumed to have; never shown as a real address.
DRY_RUN_GATEWAY = "dry-run.invalid"


@attrs.frozen(kw_only=True)
class PoolNotice:
    """A pool the dry run could not publish as written (missing class, bad size, ...)."""

    cluster: str
    message: str


@attrs.frozen(kw_only=True)
class DryRun:
    """Every deployment's schedule, in input order, and what shaped the fleet."""

    schedules: tuple[Schedule, ...]
    clusters: tuple[InferenceCluster, ...]
    notices: tuple[PoolNotice, ...]
    cel_evaluations: int

    @property
    def wanted(self) -> int:
        return sum(s.wanted for s in self.schedules)

    @property
    def placed(self) -> int:
        return sum(s.placed for s in self.schedules)

    @property
    def complete(self) -> bool:
        """Every replica of every deployment placed, and every selector valid."""
        return all(s.shortfall == 0 and s.invalid is None for s in self.schedules)


def publish(
    cluster: InferenceCluster, classes: Mapping[str, InferenceClass]
) -> tuple[InferenceCluster, list[PoolNotice]]:
    """``cluster`` as the scheduler would see it once its composer has run.

    A cluster that already publishes ``status.gpuPools`` is taken as observed
    (its readiness included). One without gets the pools its composer would
    publish and is counted Ready with a gateway address: the dry run asks
    "where would this land", not "is the cluster up yet".
    """
    if cluster.status is not None and cluster.status.gpu_pools is not None:
        return cluster, []
    review = review_pools(cluster.spec, classes)
    name = cluster.metadata.name or ""
    notices = [PoolNotice(cluster=name, message=str(p)) for p in review.problems]
    status = cluster.status or InferenceClusterStatus()
    storage = _cache_storage(cluster)
    published = attrs.evolve(
        status,
        gpu_pools=review.gpu_pools,
        gateway=status.gateway or GatewayStatus(address=DRY_RUN_GATEWAY),
        cache=status.cache or (CacheStorageStatus(storage_class_name=storage) if storage else None),
        conditions=(Condition(type="Ready", status="True", reason="DryRun"),),
    )
    return attrs.evolve(cluster, status=published), notices


def _cache_storage(cluster: InferenceCluster) -> str | None:
    """The RWX storage class the cluster's composer will publish for ModelCaches, if any."""
    source = cluster.spec.cluster
    if source.source == "Existing" and source.existing is not None and source.existing.cache:
        return source.existing.cache.storage_class_name
    return {
        "GKE": GKE_STORAGE_CLASS,
        "EKS": EKS_STORAGE_CLASS,
        "AKS": AKS_STORAGE_CLASS,
        "Nebius": NEBIUS_STORAGE_CLASS,
        "Vultr": VULTR_STORAGE_CLASS,  # none: a VKE cluster stages no caches
    }.get(source.source)


def footprint(
    deployment: ModelDeployment, caches: Mapping[tuple[str, str], ModelCache]
) -> CacheFootprint | None:
    """The referenced ModelCache's footprint: Present with its selector, or Absent."""
    ref = deployment.spec.model_cache_ref
    if ref is None:
        return None
    namespace = deployment.metadata.namespace or "default"
    return CacheFootprint.of(ref.name, caches.get((namespace, ref.name)))


def dry_run(
    objects: Iterable[object], cache: SchedulerCache | None = None, *, explain: bool = True
) -> DryRun:
    """Schedule every ModelDeployment among ``objects`` against the rest of them.

    ``objects`` are typed API objects (anything else is ignored): InferenceClasses,
    InferenceClusters, ModelCaches, existing ModelReplicas and the deployments,
    which are scheduled in the order given. Pass a ``cache`` to reuse what an
    earlier run learned (CEL outcomes, pool matching, fits). Without
    ``explain``, a short deployment's schedule carries the reason counts but
    not the per-cluster detail, which costs a look at every cluster.
    """
    cache = cache if cache is not None else SchedulerCache()
    items = list(objects)
    classes = {o.metadata.name or "": o for o in items if isinstance(o, InferenceClass)}
    caches = {
        (o.metadata.namespace or "default", o.metadata.name or ""): o
        for o in items
        if isinstance(o, ModelCache)
    }
    clusters: list[InferenceCluster] = []
    notices: list[PoolNotice] = []
    for cluster in (o for o in items if isinstance(o, InferenceCluster)):
        published, found = publish(cluster, classes)
        clusters.append(published)
        notices.extend(found)
    replicas = [o for o in items if isinstance(o, ModelReplica)]
    deployments = [o for o in items if isinstance(o, ModelDeployment)]
    before = cache.cel_evaluations
    schedules = schedule_in_order(deployments, clusters, replicas, caches, cache, explain=explain)
    return DryRun(
        schedules=tuple(schedules),
        clusters=tuple(clusters),
        notices=tuple(notices),
        cel_evaluations=cache.cel_evaluations - before,
    )


def schedule_in_order(
    deployments: Sequence[ModelDeployment],
    clusters: Sequence[InferenceCluster],
    replicas: Sequence[ModelReplica],
    caches: Mapping[tuple[str, str], ModelCache],
    cache: SchedulerCache | None = None,
    *,
    explain: bool = True,
) -> list[Schedule]:
    """One fleet pass: each deployment is scheduled seeing the placements before it."""
    fleet = FleetPass(snapshot(clusters, replicas), cache, explain=explain)
    return [fleet.schedule(d, footprint(d, caches)) for d in deployments]
