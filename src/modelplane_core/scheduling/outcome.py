"""What the scheduler decided, and why — the part users read in conditions.

Explanations are built lazily: a short deployment always gets the grouped
counts its condition shows (``0/5 clusters available: 3 ..., 2 ...``), while
the per-cluster detail (``--explain``) is materialised only when read, from
reason templates shared by every cluster they apply to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from modelplane_core.api.model_deployment import Role
from modelplane_core.api.model_replica import ResolvedDeviceRequest


@attrs.frozen(kw_only=True)
class MemberPlacement:
    role: Role
    pool: str
    device_requests: tuple[ResolvedDeviceRequest, ...]
    nodes: int  # charged: pods x copies when the member claims a DRA device, else 0


@attrs.frozen(kw_only=True)
class EnginePlacement:
    name: str
    members: tuple[MemberPlacement, ...]

    @property
    def pool(self) -> str:
        return self.members[0].pool


@attrs.frozen(kw_only=True)
class Placement:
    """One replica on one cluster, every member pinned to a pool."""

    cluster: str
    index: int
    engines: tuple[EnginePlacement, ...]
    # The existing ModelReplica kept in place, or None for a new replica.
    replica_name: str | None = None
    # Set when the existing replica is kept exactly as it runs because its placement could
    # not be re-evaluated (a selector failed at run time): the reason, for a condition.
    held: str | None = None
    # (pool, nodes) this new replica needs added to autoscaled pools beyond their nodes now.
    scale_up: tuple[tuple[str, int], ...] = ()

    @property
    def retained(self) -> bool:
        return self.replica_name is not None

    @property
    def nodes(self) -> int:
        return sum(m.nodes for e in self.engines for m in e.members)

    def charges(self) -> dict[str, int]:
        by_pool: dict[str, int] = {}
        for engine in self.engines:
            for member in engine.members:
                if member.nodes:
                    by_pool[member.pool] = by_pool.get(member.pool, 0) + member.nodes
        return by_pool


CacheState = Literal["Present", "Absent", "Unknown"]

DropCode = Literal[
    "ClusterGone",
    "Drained",
    "MalformedIdentity",
    "Duplicate",
    "ShapeChanged",
    "PoolGone",
    "PoolMismatch",
    "GrownShapeDoesNotFit",
    "ScaledDown",
]


@attrs.frozen(kw_only=True)
class Dropped:
    """An existing replica that is not kept (it is deleted; fill may place a new one)."""

    replica_name: str
    cluster: str
    index: int | None
    code: DropCode
    message: str


ReasonCode = Literal[
    "NotReady",
    "NoGateway",
    "ClusterSelector",
    "CacheFootprint",
    "ConflictingSelectors",
    "Taint",
    "NoPool",
    "InsufficientNodes",
]


@attrs.frozen(kw_only=True)
class ClusterReason:
    """Why a cluster took no (more) replicas of the deployment."""

    cluster: str
    code: ReasonCode
    summary: str  # short and shared across clusters, for the kube-scheduler-style count
    detail: str  # everything a person needs to fix it, specific to this cluster


@attrs.frozen(kw_only=True)
class ReasonTemplate:
    """A reason shared by every cluster it applies to; :meth:`at` names the cluster.

    The detail reads ``before + repr(cluster) + after``, or ``detail`` when the
    reason does not depend on the cluster at all.
    """

    code: ReasonCode
    summary: str
    before: str = ""
    after: str = ""
    detail: str | None = None

    def at(self, cluster: str) -> ClusterReason:
        detail = self.detail if self.detail is not None else f"{self.before}{cluster!r}{self.after}"
        return ClusterReason(cluster=cluster, code=self.code, summary=self.summary, detail=detail)


@attrs.frozen(kw_only=True)
class Explanation:
    """Why clusters took no (more) replicas: counts always, per-cluster detail when asked.

    ``counts`` are clusters per short reason, most common first, as the
    condition shows them; ``rejected`` is how many clusters have a reason. The
    per-cluster ``detail`` (a template each, made concrete by :meth:`reasons`)
    is kept only when the pass was asked to explain: building it costs a look
    at every cluster, which a pass over a large fleet otherwise avoids.
    """

    counts: tuple[tuple[str, int], ...] = ()
    rejected: int = 0
    detail: Mapping[str, ReasonTemplate] | None = None

    def reasons(self) -> tuple[ClusterReason, ...]:
        detail = self.detail or {}
        return tuple(detail[name].at(name) for name in sorted(detail))


@attrs.frozen(kw_only=True)
class InvalidSelector:
    path: str
    message: str


@attrs.frozen(kw_only=True)
class Schedule:
    """The placement of one deployment's replicas and its explanation."""

    deployment: str  # namespace/name
    wanted: int
    placements: tuple[Placement, ...]  # sorted by (cluster, index)
    dropped: tuple[Dropped, ...] = ()
    # Why each cluster took no more replicas; filled only when the deployment is short.
    explanation: Explanation = attrs.field(factory=Explanation)
    clusters_considered: int = 0
    # Set when new placements were deliberately not made (e.g. the ModelCache is unknown).
    held: str | None = None
    # Set when a selector does not compile; nothing was re-evaluated and placements are empty.
    invalid: InvalidSelector | None = None
    # Set when the pass saw only the deployment's own replicas and the decision needs the
    # fleet's capacity (new placements, or a replica grown); nothing was placed or grown.
    needs_fleet: bool = False

    @property
    def placed(self) -> int:
        return len(self.placements)

    @property
    def shortfall(self) -> int:
        return max(self.wanted - self.placed, 0)

    def _scale_up(self) -> str:
        """``; scaling up c/p +N`` for the nodes new replicas wait for, or nothing."""
        needed: dict[str, int] = {}
        for placement in self.placements:
            for pool, nodes in placement.scale_up:
                where = f"{placement.cluster}/{pool}"
                needed[where] = needed.get(where, 0) + nodes
        if not needed:
            return ""
        return "; scaling up " + ", ".join(f"{w} +{n}" for w, n in sorted(needed.items()))

    @property
    def reasons(self) -> tuple[ClusterReason, ...]:
        """Per-cluster detail of a short deployment, when the pass was asked to explain."""
        return self.explanation.reasons()

    @property
    def holds(self) -> tuple[Placement, ...]:
        """Running replicas kept as they are because their placement could not be re-checked."""
        return tuple(p for p in self.placements if p.held is not None)

    def summary(self) -> str:
        """One line like kube-scheduler's: ``0/5 clusters available: 3 ..., 2 ...``."""
        if self.invalid is not None:
            return f"invalid device selector at {self.invalid.path}: {self.invalid.message}"
        head = f"{self.placed}/{self.wanted} replicas scheduled"
        if self.held is not None and self.shortfall:
            return f"{head}; new placements held: {self.held}"
        if not self.shortfall:
            clusters = len({p.cluster for p in self.placements})
            return f"{head} on {clusters} cluster{'s' if clusters != 1 else ''}{self._scale_up()}"
        listed = ", ".join(f"{n} {text}" for text, n in self.explanation.counts)
        available = self.clusters_considered - self.explanation.rejected
        tail = f": {listed}" if listed else ""
        fleet = f"{max(available, 0)}/{self.clusters_considered} clusters available{tail}"
        return f"{head}; {fleet}{self._scale_up()}"
