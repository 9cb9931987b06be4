"""The scheduler's read-only view of the fleet: small, flat, keyed by content.

API objects carry everything a user may write; the scheduler needs a small,
flat subset, and needs to recognise sameness fast. So every view carries
content keys: a pool's ``signature`` (its devices: pools with equal
signatures match alike), a cluster's ``pool_set`` (its pools' names and
signatures: clusters built from the same classes fit alike) and ``profile``
(everything the cluster filter reads: clusters with equal profiles are
filtered alike). These are plain functions of one object; remembering them
between passes is the caller's business (:class:`.snapshot.FleetCache`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

import attrs

from modelplane_core.api.devices import Device
from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.meta import LABEL_DEPLOYMENT, LABEL_REPLICA_INDEX, Taint
from modelplane_core.api.model_deployment import Role
from modelplane_core.api.model_replica import ModelReplica

# Everything a selector or the matcher can read from a device, as nested tuples.
DeviceSignature = tuple[Hashable, ...]


def device_signature(device: Device) -> DeviceSignature:
    attributes = tuple(
        sorted(
            (name, a.string, a.version, a.bool, a.int)
            for name, a in (device.attributes or {}).items()
        )
    )
    capacity = tuple(sorted((name, c.value) for name, c in (device.capacity or {}).items()))
    return (
        device.name,
        device.claim,
        device.driver,
        device.device_class_name,
        device.count,
        attributes,
        capacity,
    )


@attrs.frozen(kw_only=True)
class PoolView:
    """A pool: its nodes now, the most it may have, and what each node carries.

    ``capacity`` is what the scheduler may place on: the nodes of a fixed pool,
    or an autoscaled pool's maximum, so a pool scaled to zero still takes
    replicas (its autoscaler adds the nodes; a placement beyond ``nodes``
    reports the scale-up it needs).
    """

    name: str
    nodes: int
    devices: tuple[Device, ...] = attrs.field(eq=False, repr=False)
    # Canonical content of the devices; pools with equal signatures match alike.
    signature: tuple[DeviceSignature, ...]
    capacity: int = attrs.field(default=attrs.Factory(lambda self: self.nodes, takes_self=True))


def pool_view(
    name: str, nodes: int, devices: Iterable[Device], max_nodes: int | None = None
) -> PoolView:
    kept = tuple(devices)
    return PoolView(
        name=name,
        nodes=nodes,
        devices=kept,
        signature=tuple(map(device_signature, kept)),
        capacity=max(nodes, max_nodes or 0),
    )


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
    # Pool names and signatures: clusters with equal pool sets fit every engine alike.
    pool_set: tuple[tuple[str, tuple[DeviceSignature, ...]], ...] = attrs.field(
        init=False,
        repr=False,
        eq=False,
        default=attrs.Factory(lambda self: tuple((p.name, p.signature) for p in self.pools), True),
    )
    # Everything the cluster filter reads: equal profiles, equal filter verdicts.
    profile: Hashable = attrs.field(
        init=False,
        repr=False,
        eq=False,
        default=attrs.Factory(
            lambda self: (
                self.ready,
                bool(self.gateway_address),
                tuple(sorted(self.labels.items())),
                self.taints,
                self.cache_storage,
            ),
            True,
        ),
    )

    @property
    def serving(self) -> bool:
        """Healthy enough to receive new replicas (Ready with a gateway address)."""
        return self.ready and bool(self.gateway_address)

    def pool(self, name: str) -> PoolView | None:
        for pool in self.pools:
            if pool.name == name:
                return pool
        return None


def cluster_view(cluster: InferenceCluster) -> ClusterView:
    """The scheduler's view of a cluster, from its published status."""
    pools: dict[str, PoolView] = {}
    for published in cluster.gpu_pools:
        # A published pool name appears once (the composer guarantees it); keep the first.
        if published.name not in pools:
            pools[published.name] = pool_view(
                published.name,
                max(published.nodes or 0, 0),
                published.devices or (),
                max_nodes=published.max_nodes,
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
class StampedMember:
    role: Role
    pool: str
    nodes: int  # charged: pods x copies when the member claims a device, else 0


@attrs.frozen(kw_only=True)
class StampedEngine:
    """An engine as stamped on a replica: its name and each member's pin and charge."""

    name: str
    members: tuple[StampedMember, ...]


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
        return tuple((e.name, tuple(m.role for m in e.members)) for e in self.engines)


def replica_view(replica: ModelReplica) -> ReplicaView:
    """The scheduler's view of an existing replica, from its labels and stamped spec."""
    labels = replica.metadata.label_map
    raw_index = labels.get(LABEL_REPLICA_INDEX)
    index = int(raw_index) if raw_index is not None and raw_index.isdigit() else None
    engines = tuple(
        StampedEngine(
            name=e.name,
            members=tuple(
                StampedMember(
                    role=m.role,
                    pool=m.node_pool_name,
                    nodes=m.pods * e.copies if m.claims_devices else 0,
                )
                for m in e.members
            ),
        )
        for e in replica.spec.engines
    )
    return ReplicaView(
        namespace=replica.metadata.namespace or "default",
        name=replica.metadata.name or "",
        deployment=labels.get(LABEL_DEPLOYMENT),
        cluster=replica.spec.cluster_name,
        index=index,
        engines=engines,
        charges=tuple((m.pool, m.nodes) for e in engines for m in e.members if m.nodes),
    )
