"""The fleet as one scheduling pass sees it, and how it is kept up to date between passes.

A :class:`FleetSnapshot` is immutable: every cluster's view (by name, in name
order), every existing replica's view (grouped by deployment) and the base
node ledger (published nodes minus every replica's stamped cost). A pass
copies the ledger and never touches the snapshot, so one snapshot serves any
number of passes, on any number of threads, as kube-scheduler's Snapshot
serves its scheduling cycles.

Building views is the expensive part and most of the fleet does not change
between two passes, so :class:`FleetCache` (kube-scheduler's cache) keeps the
views of the last fleet it saw and, given the next list of objects, rebuilds
only the views of objects that are not the very same object as last time.
Callers that hand over the same decoded object until it changes (the
adapters' decode caches, the simulator's store) get incremental updates for
free; the cache holds one fleet, so its memory is bounded by the fleet.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.memo import DEFAULT_LIMIT, Memo, ObjectMemo
from modelplane_core.scheduling.ledger import Ledger
from modelplane_core.scheduling.views import ClusterView, ReplicaView, cluster_view, replica_view

if TYPE_CHECKING:
    from modelplane_core.scheduling.filtering import Eligibility

Obj = TypeVar("Obj")
V = TypeVar("V")

# Distinct cluster filters remembered per snapshot (deployments mostly share a handful).
FILTERS_PER_SNAPSHOT = 4096


class FleetSnapshot:
    """Clusters, replicas and the base ledger of one moment of the fleet. Never modified."""

    __slots__ = (
        "clusters",
        "eligible_by_pattern",
        "filters",
        "group_pool_set",
        "group_profile",
        "group_representative",
        "groups",
        "ledger",
        "names",
        "pool_set_ids",
        "profile_ids",
        "profile_population",
        "profiles",
        "replicas",
    )

    def __init__(self, clusters: Iterable[ClusterView], replicas: Iterable[ReplicaView]) -> None:
        by_name = {view.name: view for view in clusters}
        self.names: tuple[str, ...] = tuple(sorted(by_name))
        self.clusters: Mapping[str, ClusterView] = {name: by_name[name] for name in self.names}
        # Small ids for what clusters share, so per-cluster lookups hash ints, not contents:
        # equal pool sets fit alike, equal profiles filter alike.
        pool_sets: dict[Hashable, int] = {}
        self.pool_set_ids: Mapping[str, int] = {
            name: pool_sets.setdefault(cluster.pool_set, len(pool_sets))
            for name, cluster in self.clusters.items()
        }
        profiles: dict[Hashable, int] = {}
        self.profile_ids: tuple[int, ...] = tuple(
            profiles.setdefault(cluster.profile, len(profiles))
            for cluster in self.clusters.values()
        )
        # One cluster of each profile, in profile-id order: what the filter judges.
        first: dict[int, ClusterView] = {}
        for cluster, profile in zip(self.clusters.values(), self.profile_ids, strict=True):
            first.setdefault(profile, cluster)
        self.profiles: tuple[ClusterView, ...] = tuple(first[i] for i in range(len(first)))
        self.profile_population: tuple[int, ...] = tuple(
            self.profile_ids.count(i) for i in range(len(first))
        )
        # Groups: clusters told apart only by name and free nodes (same profile, pool set).
        pairs: dict[tuple[int, int], int] = {}
        self.groups: Mapping[str, int] = {
            name: pairs.setdefault((profile, self.pool_set_ids[name]), len(pairs))
            for name, profile in zip(self.names, self.profile_ids, strict=True)
        }
        self.group_profile: tuple[int, ...] = tuple(profile for profile, _ in pairs)
        self.group_pool_set: tuple[int, ...] = tuple(pool_set for _, pool_set in pairs)
        # A cluster of each group: any of them stands for the group in a fit.
        first_of: dict[int, str] = {}
        for name, group in self.groups.items():
            first_of.setdefault(group, name)
        self.group_representative: tuple[str, ...] = tuple(first_of[g] for g in range(len(pairs)))
        self.ledger = Ledger(
            {v.name: tuple((p.name, p.capacity) for p in v.pools) for v in self.clusters.values()},
            self.groups,
        )
        grouped: dict[tuple[str, str], list[ReplicaView]] = defaultdict(list)
        for view in replicas:
            self.ledger.charge(view.cluster, view.charges)
            if view.deployment is not None:
                grouped[(view.namespace, view.deployment)].append(view)
        self.ledger.grown.clear()
        self.replicas: Mapping[tuple[str, str], tuple[ReplicaView, ...]] = {
            key: tuple(sorted(views, key=lambda v: v.name)) for key, views in grouped.items()
        }
        # The cluster filter depends on the clusters only: remembered per snapshot, and the
        # eligible names per pattern of eligible profiles (filters mostly share a few).
        self.filters: Memo[Hashable, Eligibility] = Memo(FILTERS_PER_SNAPSHOT)
        self.eligible_by_pattern: Memo[tuple[bool, ...], tuple[str, ...]] = Memo(
            FILTERS_PER_SNAPSHOT
        )

    def replicas_of(self, namespace: str, deployment: str) -> tuple[ReplicaView, ...]:
        return self.replicas.get((namespace, deployment), ())


def snapshot(
    clusters: Iterable[InferenceCluster | ClusterView],
    replicas: Iterable[ModelReplica | ReplicaView],
) -> FleetSnapshot:
    """A snapshot built from scratch (for a one-off pass; use a FleetCache between passes)."""
    return FleetSnapshot(
        (c if isinstance(c, ClusterView) else cluster_view(c) for c in clusters),
        (r if isinstance(r, ReplicaView) else replica_view(r) for r in replicas),
    )


class FleetCache:
    """The last few fleets seen, so the next snapshot rebuilds only what changed.

    A few, because callers alternate between fleets (every cluster with every
    replica for a deployment that places; a handful of clusters for one that
    only keeps what it runs). Views are remembered per object (bounded), so a
    snapshot of objects seen before costs lookups, not view builds. Callers
    that hand over the same decoded object until it changes (the adapters'
    decoders, the reconcile engine) get incremental updates for free.
    """

    __slots__ = ("_clusters", "_lock", "_recent", "_replicas")

    SLOTS = 4

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._lock = threading.Lock()
        self._clusters: ObjectMemo[InferenceCluster, ClusterView] = ObjectMemo(limit)
        self._replicas: ObjectMemo[ModelReplica, ReplicaView] = ObjectMemo(limit)
        self._recent: list[tuple[Sequence[object], Sequence[object], FleetSnapshot]] = []

    def snapshot(
        self,
        clusters: Sequence[InferenceCluster],
        replicas: Sequence[ModelReplica],
        *,
        remember: bool = True,
    ) -> FleetSnapshot:
        """The snapshot of exactly these objects; equal to :func:`snapshot` of them.

        Without ``remember``, a one-off (a few clusters of one deployment) that
        must not push the shared fleets out.
        """
        with self._lock:
            for seen_clusters, seen_replicas, built in self._recent:
                if _same(seen_clusters, clusters) and _same(seen_replicas, replicas):
                    return built
        built = FleetSnapshot(
            (self._clusters.get(c, cluster_view) for c in clusters),
            (self._replicas.get(r, replica_view) for r in replicas),
        )
        if remember:
            with self._lock:
                self._recent = [(clusters, replicas, built), *self._recent[: self.SLOTS - 1]]
        return built


def _same(seen: Sequence[object], given: Sequence[object]) -> bool:
    """The very same objects in the same order (a new list of unchanged objects is the same)."""
    if seen is given:
        return True
    return len(seen) == len(given) and all(a is b for a, b in zip(seen, given, strict=True))
