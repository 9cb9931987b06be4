"""The filter phase: which clusters may take a new replica of a deployment, and why not.

The verdict depends only on a cluster's profile (readiness, gateway address,
labels, taints, cache storage) and on what the deployment asks of it: its
``clusterSelector``, its ModelCache (none, or one with its footprint) and its
tolerations, never on free capacity. So a snapshot filters once per distinct
:func:`filter_key`, and within that once per distinct profile: most
deployments share a handful of keys and a 1,000-cluster fleet has a handful
of profiles.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping

import attrs

from modelplane_core.api.meta import Taint, Toleration, tolerated
from modelplane_core.api.model_cache import ModelCache
from modelplane_core.scheduling.outcome import CacheState, ClusterReason, ReasonTemplate
from modelplane_core.scheduling.snapshot import FleetSnapshot
from modelplane_core.scheduling.views import ClusterView


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
    """The clusters that may take a new replica (in name order), and why each other may not.

    Verdicts are kept per profile; :meth:`rejected` names the clusters only
    when an explanation is wanted.
    """

    eligible: tuple[str, ...]
    # The verdict for each profile id of the snapshot (None: eligible).
    verdicts: tuple[ReasonTemplate | None, ...] = attrs.field(repr=False)
    # Which profiles are eligible: filters with equal patterns admit the same clusters.
    pattern: tuple[bool, ...] = attrs.field(repr=False)
    fleet: FleetSnapshot = attrs.field(eq=False, repr=False)
    eligible_set: frozenset[str] = attrs.field(
        default=attrs.Factory(lambda self: frozenset(self.eligible), takes_self=True),
        eq=False,
        repr=False,
    )

    def rejected(self) -> dict[str, ReasonTemplate]:
        """Every ineligible cluster and why."""
        found: dict[str, ReasonTemplate] = {}
        for name, profile in zip(self.fleet.names, self.fleet.profile_ids, strict=True):
            verdict = self.verdicts[profile]
            if verdict is not None:
                found[name] = verdict
        return found

    def reason(self, cluster: str) -> ClusterReason | None:
        template = self.rejected().get(cluster)
        return None if template is None else template.at(cluster)


def filter_key(
    selector: Mapping[str, str],
    cache: CacheFootprint | None,
    tolerations: tuple[Toleration, ...],
) -> Hashable:
    """Everything the filter reads from a deployment: equal keys, equal verdicts.

    A deployment without a ModelCache and one whose cache has no selector
    are different: only the second needs ReadWriteMany storage.
    """
    footprint = (
        None if cache is None else (cache.name, tuple(sorted((cache.selector or {}).items())))
    )
    return tuple(sorted(selector.items())), footprint, tolerations


def filter_clusters(
    fleet: FleetSnapshot,
    selector: Mapping[str, str],
    cache: CacheFootprint | None,
    tolerations: tuple[Toleration, ...],
) -> Eligibility:
    """The filter phase for a deployment's new replicas, remembered per snapshot."""
    return fleet.filters.get(
        filter_key(selector, cache, tolerations),
        lambda: _filter(fleet, selector, cache, tolerations),
    )


def _filter(
    fleet: FleetSnapshot,
    selector: Mapping[str, str],
    cache: CacheFootprint | None,
    tolerations: tuple[Toleration, ...],
) -> Eligibility:
    conflict = selector_conflict(selector, cache)
    verdicts = tuple(
        conflict if conflict is not None else ineligible(view, selector, cache, tolerations)
        for view in fleet.profiles
    )
    pattern = tuple(v is None for v in verdicts)
    eligible = fleet.eligible_by_pattern.get(
        pattern,
        lambda: tuple(itertools.compress(fleet.names, (pattern[p] for p in fleet.profile_ids))),
    )
    return Eligibility(eligible=eligible, verdicts=verdicts, pattern=pattern, fleet=fleet)


def selector_conflict(
    selector: Mapping[str, str], cache: CacheFootprint | None
) -> ReasonTemplate | None:
    """A key the deployment and its cache select with different values: no cluster has both."""
    if cache is None or not cache.selector:
        return None
    for key, value in sorted(cache.selector.items()):
        if key in selector and selector[key] != value:
            return ReasonTemplate(
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
) -> ReasonTemplate | None:
    """Why a cluster like ``cluster`` may not take a new replica, or None when it may.

    Reads only what :attr:`ClusterView.profile` holds, so the answer is the
    same for every cluster of that profile; the cluster's name goes into the
    detail when a reason is shown (``ReasonTemplate.at``).
    """
    if not cluster.ready:
        return ReasonTemplate(
            code="NotReady", summary="not ready", before="cluster ", after=" is not Ready"
        )
    if not cluster.gateway_address:
        return ReasonTemplate(
            code="NoGateway",
            summary="no gateway address",
            before="cluster ",
            after=" publishes no gateway address",
        )
    missing = mismatch(selector, cluster.labels)
    if missing is not None:
        return ReasonTemplate(
            code="ClusterSelector",
            summary="didn't match clusterSelector",
            before="cluster ",
            after=f" does not carry the label {missing}",
        )
    if cache is not None and cache.selector:
        missing = mismatch(cache.selector, cluster.labels)
        if missing is not None:
            return ReasonTemplate(
                code="CacheFootprint",
                summary=f"outside ModelCache {cache.name!r} footprint",
                before=f"ModelCache {cache.name!r} is not staged on cluster ",
                after=f" (it needs the label {missing})",
            )
    if cache is not None and not cluster.cache_storage:
        # The ModelCache composer stages weights only on ReadWriteMany storage; a replica
        # mounting the cache elsewhere would wait for a volume that never comes.
        return ReasonTemplate(
            code="CacheFootprint",
            summary=f"no storage for ModelCache {cache.name!r}",
            before="cluster ",
            after=(
                " publishes no ReadWriteMany storage class (status.cache), so ModelCache "
                f"{cache.name!r} cannot be staged there"
            ),
        )
    taint = untolerated(cluster.taints, tolerations, ("NoSchedule", "NoExecute"))
    if taint is not None:
        return ReasonTemplate(
            code="Taint",
            summary=f"had untolerated taint {taint}",
            before="cluster ",
            after=f" has taint {taint}",
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
