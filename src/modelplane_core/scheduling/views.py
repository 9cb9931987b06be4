"""The scheduler's read-only view of the fleet, built once per pass.

API objects carry everything a user may write; the scheduler needs a small,
flat subset, and needs it fast: a cluster's readiness, labels, taints and
pools, each pool with a content signature so identical pools (1,000 clusters
built from a handful of InferenceClasses) share every matching decision.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import attrs

from modelplane_core.api.codec import unstructure
from modelplane_core.api.devices import Device
from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.meta import LABEL_DEPLOYMENT, LABEL_REPLICA_INDEX, Taint
from modelplane_core.api.model_deployment import Role
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.memo import IdentityMemo


@attrs.frozen(kw_only=True)
class PoolView:
    name: str
    nodes: int
    devices: tuple[Device, ...]
    # Canonical content of the devices; pools with equal signatures match alike.
    signature: str


def device_signature(devices: Iterable[Device]) -> str:
    return json.dumps([unstructure(d) for d in devices], sort_keys=True, separators=(",", ":"))


def pool_view(name: str, nodes: int, devices: tuple[Device, ...]) -> PoolView:
    return PoolView(name=name, nodes=nodes, devices=devices, signature=device_signature(devices))


@attrs.frozen(kw_only=True)
class ClusterView:
    name: str
    labels: Mapping[str, str]
    ready: bool
    gateway_address: str
    taints: tuple[Taint, ...]
    pools: tuple[PoolView, ...]  # sorted by name; names unique
    # Publishes a ReadWriteMany storage class, so a ModelCache can be staged on it.
    cache_storage: bool = False

    @property
    def serving(self) -> bool:
        """Healthy enough to receive new replicas (Ready with a gateway address)."""
        return self.ready and bool(self.gateway_address)

    def pool(self, name: str) -> PoolView | None:
        for pool in self.pools:
            if pool.name == name:
                return pool
        return None

    @property
    def pool_set_signature(self) -> tuple[tuple[str, str], ...]:
        return tuple((p.name, p.signature) for p in self.pools)


_CLUSTER_VIEWS: IdentityMemo[InferenceCluster, ClusterView] = IdentityMemo()
_REPLICA_VIEWS: IdentityMemo[ModelReplica, ReplicaView] = IdentityMemo()


def cluster_view(cluster: InferenceCluster) -> ClusterView:
    """The scheduler's view of a cluster (built once per cluster object: they are frozen)."""
    return _CLUSTER_VIEWS(cluster, _cluster_view)


def _cluster_view(cluster: InferenceCluster) -> ClusterView:
    pools: dict[str, PoolView] = {}
    for published in cluster.gpu_pools:
        # A published pool name appears once (the composer guarantees it); keep the first.
        if published.name not in pools:
            pools[published.name] = pool_view(
                published.name, max(published.nodes or 0, 0), published.devices or ()
            )
    return ClusterView(
        name=cluster.metadata.name or "",
        labels=dict(cluster.metadata.label_map),
        ready=cluster.ready,
        gateway_address=cluster.gateway_address,
        taints=cluster.spec.taints or (),
        pools=tuple(pools[name] for name in sorted(pools)),
        cache_storage=bool(
            cluster.status and cluster.status.cache and cluster.status.cache.storage_class_name
        ),
    )


@attrs.frozen(kw_only=True)
class StampedEngine:
    """An engine as stamped on a replica: its name and each member's (role, pinned pool)."""

    name: str
    members: tuple[tuple[Role, str], ...]


@attrs.frozen(kw_only=True)
class ReplicaView:
    """An existing ModelReplica as the scheduler needs it: identity, pins and stamped cost."""

    namespace: str
    name: str
    deployment: str | None
    cluster: str
    index: int | None  # None when the index label is missing or malformed
    engines: tuple[StampedEngine, ...]
    # (pool, nodes) charged per member, as stamped: pods x copies for a claiming member.
    charges: tuple[tuple[str, int], ...]

    @property
    def shape(self) -> tuple[tuple[str, tuple[Role, ...]], ...]:
        return tuple((e.name, tuple(role for role, _ in e.members)) for e in self.engines)


def replica_view(replica: ModelReplica) -> ReplicaView:
    """The scheduler's view of a replica (built once per replica object)."""
    return _REPLICA_VIEWS(replica, _replica_view)


def _replica_view(replica: ModelReplica) -> ReplicaView:
    labels = replica.metadata.label_map
    raw_index = labels.get(LABEL_REPLICA_INDEX)
    index = int(raw_index) if raw_index is not None and raw_index.isdigit() else None
    charges = []
    for engine in replica.spec.engines:
        for member in engine.members:
            if member.claims_devices:
                charges.append((member.node_pool_name, member.pods * engine.copies))
    return ReplicaView(
        namespace=replica.metadata.namespace or "default",
        name=replica.metadata.name or "",
        deployment=labels.get(LABEL_DEPLOYMENT),
        cluster=replica.spec.cluster_name,
        index=index,
        engines=tuple(
            StampedEngine(name=e.name, members=tuple((m.role, m.node_pool_name) for m in e.members))
            for e in replica.spec.engines
        ),
        charges=tuple(charges),
    )
