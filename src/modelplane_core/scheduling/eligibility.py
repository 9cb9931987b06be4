"""Which clusters may take a new replica of a deployment: the cluster-level filter.

The verdict depends only on the cluster (readiness, gateway address, labels,
taints) and on the deployment's ``clusterSelector``, its ModelCache footprint
and its tolerations, never on free capacity. So a :class:`~.fleet.Fleet`
computes it once per distinct (selector, footprint, tolerations) in a pass:
most deployments share one, and a 1,000-cluster fleet is filtered a handful of
times per pass instead of once per deployment.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Literal

import attrs

from modelplane_core.api.meta import Taint, Toleration, tolerated
from modelplane_core.api.model_cache import ModelCache
from modelplane_core.scheduling.outcome import ClusterReason, ReasonCode
from modelplane_core.scheduling.views import ClusterView

CacheState = Literal["Present", "Absent", "Unknown"]


@attrs.frozen(kw_only=True)
class CacheFootprint:
    """The ModelCache a deployment references, as far as it is known.

    ``Present`` narrows new placements to the cache's ``selector``; ``Absent``
    (not found) and ``Unknown`` (not fetched yet) hold new placements while
    keeping every replica that runs.
    """

    name: str
    state: CacheState
    selector: Mapping[str, str] | None = None

    @classmethod
    def of(cls, name: str, cache: ModelCache | None) -> CacheFootprint:
        """The footprint of a fetched ModelCache: Present with its selector, or Absent."""
        if cache is None:
            return cls(name=name, state="Absent")
        selector = cache.spec.cluster_selector
        return cls(
            name=name,
            state="Present",
            selector=dict(selector.match_labels or {}) if selector else None,
        )


@attrs.frozen(kw_only=True)
class Eligibility:
    """The clusters that may take a new replica (by name), and why each other may not."""

    eligible: tuple[str, ...]
    reasons: Mapping[str, ClusterReason]


def filter_key(
    selector: Mapping[str, str],
    cache: CacheFootprint | None,
    tolerations: tuple[Toleration, ...],
) -> Hashable:
    """Everything the filter reads from a deployment: equal keys, equal verdicts."""
    footprint = (
        (cache.name, tuple(sorted(cache.selector.items())))
        if cache is not None and cache.selector
        else None
    )
    return tuple(sorted(selector.items())), footprint, tolerations


def eligibility(
    clusters: Iterable[ClusterView],
    selector: Mapping[str, str],
    cache: CacheFootprint | None,
    tolerations: tuple[Toleration, ...],
) -> Eligibility:
    """Filter ``clusters`` (visited in the given order) for a deployment's new replicas."""
    conflict = selector_conflict(selector, cache)
    eligible: list[str] = []
    reasons: dict[str, ClusterReason] = {}
    for cluster in clusters:
        reason = (
            attrs.evolve(conflict, cluster=cluster.name)
            if conflict is not None
            else ineligible(cluster, selector, cache, tolerations)
        )
        if reason is None:
            eligible.append(cluster.name)
        else:
            reasons[cluster.name] = reason
    return Eligibility(eligible=tuple(eligible), reasons=reasons)


def selector_conflict(
    selector: Mapping[str, str], cache: CacheFootprint | None
) -> ClusterReason | None:
    """A key the deployment and its cache select with different values: no cluster has both."""
    if cache is None or not cache.selector:
        return None
    for key, value in sorted(cache.selector.items()):
        if key in selector and selector[key] != value:
            return ClusterReason(
                cluster="",
                code="ConflictingSelectors",
                summary=f"clusterSelector conflicts with ModelCache {cache.name!r}",
                detail=(
                    f"the deployment selects {key}={selector[key]} but ModelCache "
                    f"{cache.name!r} is staged only on {key}={value}; no cluster can "
                    "satisfy both"
                ),
            )
    return None


def ineligible(
    cluster: ClusterView,
    selector: Mapping[str, str],
    cache: CacheFootprint | None,
    tolerations: tuple[Toleration, ...],
) -> ClusterReason | None:
    """Why ``cluster`` may not take a new replica, or None when it may."""

    def reason(code: ReasonCode, summary: str, detail: str) -> ClusterReason:
        return ClusterReason(cluster=cluster.name, code=code, summary=summary, detail=detail)

    if not cluster.ready:
        return reason("NotReady", "not ready", f"cluster {cluster.name!r} is not Ready")
    if not cluster.gateway_address:
        return reason(
            "NoGateway",
            "no gateway address",
            f"cluster {cluster.name!r} publishes no gateway address",
        )
    missing = mismatch(selector, cluster.labels)
    if missing is not None:
        return reason(
            "ClusterSelector",
            "didn't match clusterSelector",
            f"cluster {cluster.name!r} does not carry the label {missing}",
        )
    if cache is not None and cache.selector:
        missing = mismatch(cache.selector, cluster.labels)
        if missing is not None:
            return reason(
                "CacheFootprint",
                f"outside ModelCache {cache.name!r} footprint",
                f"ModelCache {cache.name!r} is not staged on cluster {cluster.name!r} "
                f"(it needs the label {missing})",
            )
    if cache is not None and not cluster.cache_storage:
        # The ModelCache composer stages weights only on ReadWriteMany storage; a replica
        # mounting the cache elsewhere would wait for a volume that never comes.
        return reason(
            "CacheFootprint",
            f"no storage for ModelCache {cache.name!r}",
            f"cluster {cluster.name!r} publishes no ReadWriteMany storage class "
            f"(status.cache), so ModelCache {cache.name!r} cannot be staged there",
        )
    taint = untolerated(cluster.taints, tolerations, ("NoSchedule", "NoExecute"))
    if taint is not None:
        return reason(
            "Taint",
            f"had untolerated taint {taint}",
            f"cluster {cluster.name!r} has taint {taint}",
        )
    return None


def mismatch(selector: Mapping[str, str], labels: Mapping[str, str]) -> str | None:
    """The first selected ``key=value`` the labels lack, or None."""
    for key, value in sorted(selector.items()):
        if labels.get(key) != value:
            return f"{key}={value}"
    return None


def untolerated(
    taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...], effects: tuple[str, ...]
) -> str | None:
    """The first taint with one of ``effects`` that ``tolerations`` do not tolerate."""
    for taint in taints:
        if taint.effect in effects and not tolerated(taint, tolerations):
            value = f"={taint.value}" if taint.value else ""
            return f"{taint.key}{value}:{taint.effect}"
    return None
