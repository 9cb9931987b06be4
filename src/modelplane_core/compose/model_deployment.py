"""ModelDeployment -> one ModelReplica per placement, and a ModelEndpoint per ready replica.

The scheduler decides; this module turns its decision into objects and
conditions. It needs the whole fleet to decide (every InferenceCluster and every
ModelReplica, for the node ledger) and, when the deployment references one, its
ModelCache. Until those are fetched, or when the spec is invalid, it holds what
runs: an empty desired state would make Crossplane delete the live replicas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import attrs

from modelplane_core import scheduling
from modelplane_core.api.codec import unstructure
from modelplane_core.api.documents import from_dict, validate
from modelplane_core.api.errors import ValidationError
from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.meta import (
    API_VERSION,
    LABEL_CLUSTER,
    LABEL_DEPLOYMENT,
    LABEL_REPLICA_INDEX,
    Condition,
)
from modelplane_core.api.model_cache import ModelCache
from modelplane_core.api.model_deployment import ModelDeployment
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.compose.composition import (
    Composition,
    DesiredResource,
    Event,
    Observed,
    Required,
    Requirement,
    condition,
    desired_from_observed,
    hold,
)
from modelplane_core.compose.names import child_name
from modelplane_core.compose.workloads.routing import replica_endpoint
from modelplane_core.memo import IdentityMemo
from modelplane_core.scheduling import CacheFootprint, Placement, Schedule

T = TypeVar("T")

REQUIRE_CLUSTERS = "clusters"
REQUIRE_REPLICAS = "replicas"
REQUIRE_CACHE = "cache"

SCHEDULED = "ReplicasScheduled"
READY = "ReplicasReady"
CACHE_RESOLVED = "ModelCacheResolved"


def replica_name(deployment: str, cluster: str, index: int) -> str:
    """Stable and DNS-safe; distinct for co-located replicas; readable in ``kubectl get``."""
    return child_name(deployment, cluster, str(index))


def replica_key(cluster: str, index: int) -> str:
    return f"replica-{cluster}-{index}"


def endpoint_key(cluster: str, index: int) -> str:
    return f"endpoint-{cluster}-{index}"


def requirements(deployment: ModelDeployment) -> tuple[Requirement, ...]:
    """Every cluster and replica of the fleet (the ledger needs them all), and the cache."""
    needed = [
        Requirement(
            key=REQUIRE_CLUSTERS, api_version=API_VERSION, kind="InferenceCluster", match_labels={}
        ),
        Requirement(
            key=REQUIRE_REPLICAS, api_version=API_VERSION, kind="ModelReplica", match_labels={}
        ),
    ]
    if deployment.spec.model_cache_ref is not None:
        needed.append(
            Requirement(
                key=REQUIRE_CACHE,
                api_version=API_VERSION,
                kind="ModelCache",
                match_name=deployment.spec.model_cache_ref.name,
                namespace=deployment.metadata.namespace or "default",
            )
        )
    return tuple(needed)


def compose(observed: Observed[ModelDeployment]) -> Composition:
    deployment = observed.composite
    needed = requirements(deployment)
    problems = validate(deployment)
    if problems:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        message = f"the spec is invalid, holding the current replicas: {shown}{more}"
        return _hold(
            observed,
            conditions=[condition(SCHEDULED, False, "InvalidSpec", message)],
            events=[Event.warning("InvalidSpec", message)],
            requirements=needed,
        )
    clusters = _decode_all(observed.required_or_none(REQUIRE_CLUSTERS), InferenceCluster)
    replicas = _decode_all(observed.required_or_none(REQUIRE_REPLICAS), ModelReplica)
    if (
        isinstance(clusters, str)
        or isinstance(replicas, str)
        or clusters is None
        or replicas is None
    ):
        waiting = (
            clusters
            if isinstance(clusters, str)
            else replicas
            if isinstance(replicas, str)
            else None
        )
        reason = "InvalidFleetObject" if waiting else "ResolvingFleet"
        message = waiting or "waiting for the fleet's InferenceClusters and ModelReplicas"
        return _hold(
            observed,
            conditions=[condition(SCHEDULED, "Unknown" if not waiting else False, reason, message)],
            events=[Event.warning(reason, message)] if waiting else [],
            requirements=needed,
        )
    cache = _cache_footprint(deployment, observed)
    replicas = _with_own_replicas(replicas, observed)
    result = scheduling.schedule(deployment, clusters, replicas, cache.footprint)
    if result.invalid is not None:
        message = f"{result.invalid.path}: {result.invalid.message}"
        return _hold(
            observed,
            conditions=[condition(SCHEDULED, False, "InvalidNodeSelector", message)],
            events=[Event.warning("InvalidNodeSelector", message)],
            requirements=needed,
        )
    return _compose_schedule(
        observed, result, {c.metadata.name or "": c for c in clusters}, cache, needed
    )


def _with_own_replicas(
    fleet: tuple[ModelReplica, ...], observed: Observed[ModelDeployment]
) -> tuple[ModelReplica, ...]:
    """The fleet's replicas plus this deployment's composed ones the fetch does not list yet.

    The fleet list and the observed composed resources are read separately;
    a replica that exists but is missing from a lagging list would look
    unplaced, and the scheduler would place a new one and drop the running one.
    """
    listed = _LISTED(fleet, _identities)
    own = []
    for seen in observed.resources.values():
        if seen.manifest.get("kind") != "ModelReplica":
            continue
        meta = seen.manifest.get("metadata") or {}
        if (meta.get("namespace"), meta.get("name")) in listed:
            continue
        try:
            replica = from_dict(desired_from_observed(seen))
        except ValidationError:
            continue  # an unreadable own object is left to the fleet list
        if isinstance(replica, ModelReplica):
            own.append(replica)
    # The very same tuple when nothing is added: the scheduler reuses its ledger for it.
    return (*fleet, *own) if own else fleet


def _identities(fleet: tuple[ModelReplica, ...]) -> frozenset[tuple[str | None, str | None]]:
    return frozenset((r.metadata.namespace, r.metadata.name) for r in fleet)


# A control plane hands every deployment the same fleet tuples in a pass (the simulator
# does); deriving from them once per tuple keeps a pass linear in the fleet's size.
_LISTED: IdentityMemo[tuple[ModelReplica, ...], frozenset[tuple[str | None, str | None]]] = (
    IdentityMemo(limit=64)
)
_DECODED: dict[type[Any], IdentityMemo[tuple[Required, ...], Any]] = {}


def _hold(observed: Observed[ModelDeployment], **why: Any) -> Composition:
    """:func:`hold`, and not ready when nothing runs yet (no replica means nothing serves)."""
    held = hold(observed, **why)
    return held if observed.resources else attrs.evolve(held, ready=False)


def _decode_all(items: Sequence[Required] | None, cls: type[T]) -> tuple[T, ...] | str | None:
    """Typed objects, ``None`` while unresolved, or a message naming an undecodable object."""
    if items is None:
        return None
    if isinstance(items, tuple):
        memo = _DECODED.setdefault(cls, IdentityMemo(limit=64))
        decoded: tuple[T, ...] | str = memo(items, lambda given: _decode_items(given, cls))
        return decoded
    return _decode_items(items, cls)


def _decode_items(items: Sequence[Required], cls: type[T]) -> tuple[T, ...] | str:
    decoded: list[T] = []
    for item in items:
        if isinstance(item, cls):
            decoded.append(item)
            continue
        try:
            obj = from_dict(item)
        except ValidationError as exc:
            name = (
                (item.get("metadata") or {}).get("name", "?") if isinstance(item, Mapping) else "?"
            )
            return f"{cls.__name__} {name} cannot be read: {exc.errors[0]}"
        if isinstance(obj, cls):
            decoded.append(obj)
    return tuple(decoded)


@attrs.frozen(kw_only=True)
class _Cache:
    """The referenced ModelCache as the scheduler sees it, and why, when it cannot be read."""

    footprint: CacheFootprint | None = None
    unreadable: str | None = None


def _cache_footprint(deployment: ModelDeployment, observed: Observed[ModelDeployment]) -> _Cache:
    ref = deployment.spec.model_cache_ref
    if ref is None:
        return _Cache()
    found = observed.required_or_none(REQUIRE_CACHE)
    if found is None:
        return _Cache(footprint=CacheFootprint(name=ref.name, state="Unknown"))
    caches = _decode_all(found, ModelCache)
    if isinstance(caches, str):
        # Its footprint is unknown: hold new placements as while it is being fetched.
        return _Cache(footprint=CacheFootprint(name=ref.name, state="Unknown"), unreadable=caches)
    return _Cache(footprint=CacheFootprint.of(ref.name, caches[0] if caches else None))


def _compose_schedule(
    observed: Observed[ModelDeployment],
    result: Schedule,
    clusters: Mapping[str, InferenceCluster],
    cache: _Cache,
    needed: tuple[Requirement, ...],
) -> Composition:
    deployment = observed.composite
    resources: list[DesiredResource] = []
    events: list[Event] = []
    ready = 0
    for placement in result.placements:
        key = replica_key(placement.cluster, placement.index)
        name = placement.replica_name or replica_name(
            deployment.metadata.name or "", placement.cluster, placement.index
        )
        seen = observed.resources.get(key)
        replica_ready = seen is not None and seen.condition_true("Ready")
        ready += replica_ready
        resources.append(
            DesiredResource(
                key=key,
                manifest=_replica_manifest(deployment, placement, name),
                ready=True if replica_ready else None,
            )
        )
        if seen is None and not placement.retained:
            pools = ", ".join(sorted({e.pool for e in placement.engines}))
            events.append(
                Event.normal(
                    "Scheduled",
                    f"Scheduled replica {name} on cluster {placement.cluster} (pools {pools})",
                )
            )
        cluster = clusters.get(placement.cluster)
        if replica_ready and cluster is not None and cluster.ready and cluster.gateway_address:
            endpoint = endpoint_key(placement.cluster, placement.index)
            resources.append(
                DesiredResource(
                    key=endpoint,
                    manifest=_endpoint_manifest(
                        deployment, placement, name, cluster.gateway_address
                    ),
                    ready=True
                    if (e := observed.resources.get(endpoint)) and e.condition_true("Ready")
                    else None,
                )
            )
    for dropped in result.dropped:
        if (
            dropped.index is not None
            and replica_key(dropped.cluster, dropped.index) in observed.resources
        ):
            warn = dropped.code in ("ClusterGone", "Drained", "PoolGone")
            events.append(
                Event(
                    type="Warning" if warn else "Normal",
                    reason=dropped.code,
                    message=f"Removing replica {dropped.replica_name}: {dropped.message}",
                )
            )
    conditions = _conditions(result, cache, ready)
    if cache.unreadable is not None:
        events.append(Event.warning("InvalidModelCache", cache.unreadable))
    if result.shortfall and result.held is None:
        events.append(Event.warning("InsufficientCapacity", result.summary()))
    return Composition(
        resources=resources,
        status={"replicas": {"total": result.placed, "ready": ready}},
        conditions=tuple(conditions),
        events=tuple(events),
        requirements=needed,
        ready=False if result.placed == 0 else None,
    )


def _conditions(result: Schedule, cache: _Cache, ready: int) -> list[Condition]:
    conditions = []
    footprint = cache.footprint
    if footprint is not None:
        conditions.append(_cache_condition(footprint, cache.unreadable))
    if not result.shortfall:
        conditions.append(condition(SCHEDULED, True, "AllReplicasScheduled", result.summary()))
    elif result.held is not None:
        reason = (
            "ModelCacheNotFound"
            if footprint is not None and footprint.state == "Absent"
            else "WaitingForModelCache"
        )
        conditions.append(condition(SCHEDULED, False, reason, result.summary()))
    else:
        conditions.append(condition(SCHEDULED, False, "InsufficientCapacity", result.summary()))
    message = f"{ready} of {result.wanted} ready"
    if result.placed and ready == result.wanted:
        conditions.append(condition(READY, True, "AllReplicasReady", message))
    elif result.placed:
        conditions.append(condition(READY, False, "ReplicasStarting", message))
    else:
        conditions.append(condition(READY, False, "NoReplicasScheduled", message))
    return conditions


def _cache_condition(cache: CacheFootprint, unreadable: str | None) -> Condition:
    if cache.state == "Present":
        return condition(CACHE_RESOLVED, True, "Resolved", f"ModelCache {cache.name} found")
    kept = "running replicas are kept, new ones wait for it"
    if unreadable is not None:
        return condition(CACHE_RESOLVED, False, "InvalidModelCache", f"{unreadable}; {kept}")
    if cache.state == "Unknown":
        return condition(CACHE_RESOLVED, False, "Waiting", f"waiting for ModelCache {cache.name}")
    return condition(
        CACHE_RESOLVED, False, "NotFound", f"ModelCache {cache.name} not found; {kept}"
    )


def _labels(deployment: ModelDeployment, placement: Placement) -> dict[str, str]:
    """The user's replica labels, then the managed ones (which win, as in a pod template)."""
    return {
        **(deployment.spec.replica_labels or {}),
        LABEL_DEPLOYMENT: deployment.metadata.name or "",
        LABEL_CLUSTER: placement.cluster,
        LABEL_REPLICA_INDEX: str(placement.index),
    }


def _replica_manifest(
    deployment: ModelDeployment, placement: Placement, name: str
) -> dict[str, Any]:
    spec = deployment.spec
    engines = []
    for engine, engine_placement in zip(spec.engines, placement.engines, strict=True):
        members = []
        for member, member_placement in zip(engine.members, engine_placement.members, strict=True):
            rendered: dict[str, Any] = {"role": member.role, "nodePoolName": member_placement.pool}
            if member_placement.device_requests:
                rendered["deviceRequests"] = [
                    unstructure(r) for r in member_placement.device_requests
                ]
            if member.worker is not None:
                rendered["worker"] = unstructure(member.worker)
            rendered["template"] = unstructure(member.template)
            members.append(rendered)
        rendered_engine: dict[str, Any] = {"name": engine.name, "copies": engine.copies}
        if engine.phase is not None:
            rendered_engine["phase"] = engine.phase
        rendered_engine["members"] = members
        engines.append(rendered_engine)
    replica_spec: dict[str, Any] = {"clusterName": placement.cluster}
    if spec.model_cache_ref is not None:
        replica_spec["modelCacheRef"] = unstructure(spec.model_cache_ref)
    if spec.serving is not None:
        replica_spec["serving"] = unstructure(spec.serving)
    replica_spec["engines"] = engines
    return {
        "apiVersion": API_VERSION,
        "kind": "ModelReplica",
        "metadata": {
            "name": name,
            "namespace": deployment.metadata.namespace or "default",
            "labels": _labels(deployment, placement),
        },
        "spec": replica_spec,
    }


def _endpoint_manifest(
    deployment: ModelDeployment, placement: Placement, name: str, gateway_address: str
) -> dict[str, Any]:
    namespace = deployment.metadata.namespace or "default"
    url, rewrite_path = replica_endpoint(namespace, name, gateway_address)
    return {
        "apiVersion": API_VERSION,
        "kind": "ModelEndpoint",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": _labels(deployment, placement),
        },
        "spec": {"url": url, "rewritePath": rewrite_path},
    }
