"""The fleet scheduler: where each replica of a ModelDeployment runs, and why.

Two-level matching (clusters by labels, pools by DRA device requests), capacity
counted in whole nodes with a fleet-wide ledger, and per deployment one
cycle: retain every replica that still fits where it runs, scale down, then
fill the shortfall through kube-scheduler's phases (filter, score, fit,
reserve). Nothing is remembered between calls except in the
:class:`SchedulerCache` the caller passes.

    from modelplane_core import scheduling
    cache = scheduling.SchedulerCache()
    result = scheduling.schedule(deployment, clusters, replicas, cache=cache)
    result.placements, result.summary()

    fleet = scheduling.FleetPass.of(clusters, replicas, cache)   # many deployments
    results = [fleet.schedule(d) for d in deployments]
"""

from modelplane_core.scheduling.cache import SchedulerCache
from modelplane_core.scheduling.filtering import CacheFootprint, Eligibility
from modelplane_core.scheduling.fleet import FleetPass, schedule
from modelplane_core.scheduling.ledger import Ledger
from modelplane_core.scheduling.outcome import (
    CacheState,
    ClusterReason,
    Dropped,
    EnginePlacement,
    Explanation,
    InvalidSelector,
    MemberPlacement,
    Placement,
    ReasonTemplate,
    Schedule,
)
from modelplane_core.scheduling.snapshot import FleetCache, FleetSnapshot, snapshot
from modelplane_core.scheduling.views import (
    ClusterView,
    PoolView,
    ReplicaView,
    cluster_view,
    pool_view,
    replica_view,
)

__all__ = [
    "CacheFootprint",
    "CacheState",
    "ClusterReason",
    "ClusterView",
    "Dropped",
    "Eligibility",
    "EnginePlacement",
    "Explanation",
    "FleetCache",
    "FleetPass",
    "FleetSnapshot",
    "InvalidSelector",
    "Ledger",
    "MemberPlacement",
    "Placement",
    "PoolView",
    "ReasonTemplate",
    "ReplicaView",
    "Schedule",
    "SchedulerCache",
    "cluster_view",
    "pool_view",
    "replica_view",
    "schedule",
    "snapshot",
]
