"""The fleet scheduler: where each replica of a ModelDeployment runs, and why.

Two-level matching (clusters by labels, pools by DRA device requests), capacity
counted in whole nodes with a fleet-wide ledger, and two phases per pass:
retain every replica that still fits where it runs, then fill the shortfall
onto the eligible cluster hosting the fewest of the deployment's replicas.

    from modelplane_core import scheduling
    result = scheduling.schedule(deployment, clusters, replicas, cache=None)
    result.placements, result.summary()
"""

from modelplane_core.scheduling.eligibility import CacheFootprint, CacheState
from modelplane_core.scheduling.fleet import Fleet, schedule
from modelplane_core.scheduling.outcome import (
    ClusterReason,
    Dropped,
    EnginePlacement,
    InvalidSelector,
    MemberPlacement,
    Placement,
    Schedule,
)
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
    "EnginePlacement",
    "Fleet",
    "InvalidSelector",
    "MemberPlacement",
    "Placement",
    "PoolView",
    "ReplicaView",
    "Schedule",
    "cluster_view",
    "pool_view",
    "replica_view",
    "schedule",
]
