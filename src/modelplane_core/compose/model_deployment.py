"""ModelDeployment -> one ModelReplica per placement, and a ModelEndpoint per ready replica.

The scheduler decides; this module turns its decision into objects and
conditions. It needs the whole fleet to decide (every InferenceCluster and every
ModelReplica, for the node ledger) and, when the deployment references one, its
ModelCache. Until those are fetched, when the spec is invalid, when the fleet
lists no cluster at all while replicas run, or when a fleet object cannot be
read, it holds what runs: an empty desired state would make Crossplane delete
the live replicas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from modelplane_core.api.codec import unstructure
from modelplane_core.api.documents import to_dict
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
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import (
    Composition,
    DesiredResource,
    Event,
    Observed,
    ObservedResource,
    Requirement,
    condition,
    desired_from_observed,
    hold_because,
    hold_invalid,
    named,
)
from modelplane_core.compose.names import child_name
from modelplane_core.compose.workloads.routing import replica_endpoint
from modelplane_core.scheduling import (
    CacheFootprint,
    ClusterView,
    FleetPass,
    Placement,
    Schedule,
    replica_view,
)

REQUIRE_CLUSTERS = "clusters"
REQUIRE_REPLICAS = "replicas"  # every ModelReplica of the fleet: the node ledger
REQUIRE_OWN_REPLICAS = "own-replicas"  # only this deployment's: enough while it is settled
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


def requirements(
    deployment: ModelDeployment, *, fleet: bool = True, clusters: Iterable[str] = ()
) -> tuple[Requirement, ...]:
    """The clusters, the replicas, and the cache.

    With ``fleet``, every cluster and every replica of the fleet: placing a
    replica needs them all (the node ledger counts every replica). Without,
    only this deployment's own replicas and the ``clusters`` they run on: a
    settled deployment (every replica placed) only retains and scales down,
    which those decide, so a change anywhere else in the fleet neither has to
    be fetched for it nor has to wake it up (as kube-scheduler requeues only
    unschedulable pods on cluster events).
    """
    name, namespace = deployment.metadata.name or "", deployment.metadata.namespace or "default"
    needed: list[Requirement]
    if fleet:
        needed = [
            Requirement(
                key=REQUIRE_CLUSTERS,
                api_version=API_VERSION,
                kind="InferenceCluster",
                match_labels={},
            ),
            Requirement(
                key=REQUIRE_REPLICAS, api_version=API_VERSION, kind="ModelReplica", match_labels={}
            ),
        ]
    else:
        needed = named(API_VERSION, "InferenceCluster", cluster_key(""), clusters)
        needed.append(
            Requirement(
                key=REQUIRE_OWN_REPLICAS,
                api_version=API_VERSION,
                kind="ModelReplica",
                match_labels={LABEL_DEPLOYMENT: name},
                namespace=namespace,
            )
        )
    if deployment.spec.model_cache_ref is not None:
        needed.append(
            Requirement(
                key=REQUIRE_CACHE,
                api_version=API_VERSION,
                kind="ModelCache",
                match_name=deployment.spec.model_cache_ref.name,
                namespace=namespace,
            )
        )
    return tuple(needed)


def cluster_key(cluster: str) -> str:
    """The requirement key of one cluster a settled deployment runs on."""
    return f"cluster-{cluster}"


@attrs.frozen(kw_only=True)
class _Inputs:
    """The fleet as fetched for this reconcile: clusters and replicas, or what is missing."""

    complete: bool  # every cluster and replica of the fleet, or only this deployment's
    clusters: tuple[InferenceCluster, ...] = ()
    replicas: tuple[ModelReplica, ...] = ()
    unreadable: tuple[str, ...] = ()
    fetched: bool = True
    # A cluster it runs on was not found by name: only the whole fleet tells whether the
    # cluster is gone (re-place its replicas) or the list failed (hold them).
    widen: bool = False


def _inputs(observed: Observed[ModelDeployment], running_on: list[str]) -> _Inputs:
    """The whole fleet if it was fetched; else, for a deployment that runs, its own part."""
    listed = observed.required_or_none(REQUIRE_REPLICAS)
    complete = listed is not None or not observed.resources
    if complete:
        fleet = observed.required_or_none(REQUIRE_CLUSTERS)
        if fleet is None or listed is None:
            return _Inputs(complete=True, fetched=False)
        return _Inputs(
            complete=True,
            clusters=fleet.of(InferenceCluster),
            replicas=listed.of(ModelReplica),
            unreadable=(*fleet.problems(InferenceCluster), *listed.problems(ModelReplica)),
        )
    own = observed.required_or_none(REQUIRE_OWN_REPLICAS)
    named = [observed.required_or_none(cluster_key(c)) for c in running_on]
    if own is None or any(found is None for found in named):
        return _Inputs(complete=False, fetched=False)
    if any(found is not None and not found.items and not found.unreadable for found in named):
        return _Inputs(complete=False, fetched=False, widen=True)
    clusters = tuple(c for found in named if found for c in found.of(InferenceCluster))
    problems = [p for found in named if found for p in found.problems(InferenceCluster)]
    return _Inputs(
        complete=False,
        clusters=clusters,
        replicas=own.of(ModelReplica),
        unreadable=(*problems, *own.problems(ModelReplica)),
    )


def compose(observed: Observed[ModelDeployment], cache: Cache | None = None) -> Composition:
    cache = cache if cache is not None else Cache()
    deployment = observed.composite
    own, unreadable_own = _own_replicas(observed)
    running_on = sorted({r.spec.cluster_name for r in own})
    inputs = _inputs(observed, running_on)
    needed = requirements(deployment, fleet=inputs.complete, clusters=running_on)
    problems = cache.problems(deployment)
    if problems:
        return hold_invalid(observed, SCHEDULED, problems, requirements=needed)
    if not inputs.fetched:
        return hold_because(
            observed,
            SCHEDULED,
            "ResolvingFleet",
            "waiting for the fleet's InferenceClusters and ModelReplicas",
            warn=False,
            status="Unknown",
            requirements=requirements(deployment, fleet=True) if inputs.widen else needed,
        )
    if inputs.unreadable or unreadable_own:
        return hold_because(
            observed,
            SCHEDULED,
            "InvalidFleetObject",
            "holding the current replicas: the fleet's capacity cannot be counted while "
            f"objects cannot be read: {'; '.join([*inputs.unreadable, *unreadable_own][:5])}",
            requirements=needed,
        )
    clusters, replicas = inputs.clusters, inputs.replicas
    if not clusters and observed.resources:
        # A list that returns no cluster at all while replicas run is far more likely a
        # transient failure than every cluster deleted at once: never drop on it.
        return hold_because(
            observed,
            SCHEDULED,
            "NoClustersListed",
            "the fleet lists no InferenceCluster while this deployment has replicas; "
            "holding them until clusters are listed again",
            requirements=needed,
        )
    footprint = _cache_footprint(deployment, observed)
    complete = inputs.complete
    if complete:
        snapshot = cache.scheduler.fleet.snapshot(clusters, replicas)
        namespace = deployment.metadata.namespace or "default"
        name = deployment.metadata.name or ""
        known = {v.name for v in snapshot.replicas_of(namespace, name)}
        extra = [replica_view(r) for r in own if r.metadata.name not in known]
    else:
        # Its own clusters alone (not remembered: every settled deployment has its own);
        # its replicas ride along in the pass.
        snapshot = cache.scheduler.fleet.snapshot(clusters, (), remember=False)
        listed_names = {r.metadata.name for r in replicas}
        extra = [
            replica_view(r)
            for r in (*replicas, *(o for o in own if o.metadata.name not in listed_names))
        ]
    result = FleetPass(snapshot, cache.scheduler, extra_replicas=extra, complete=complete).schedule(
        deployment, footprint.footprint
    )
    if result.needs_fleet:
        return hold_because(
            observed,
            SCHEDULED,
            "ResolvingFleet",
            "placing replicas needs every ModelReplica of the fleet (the node ledger)",
            warn=False,
            status="Unknown",
            requirements=requirements(deployment, fleet=True),
        )
    if (
        complete
        and not result.shortfall
        and observed.resources
        and all(p.retained for p in result.placements)
    ):
        # Settled (every replica placed and already running): its own replicas, and the
        # clusters they run on, suffice from now on. Not in the call that places: its new
        # replicas do not exist until this answer is applied, so narrowing now would
        # make Crossplane call again with a view that lacks them.
        needed = requirements(
            deployment, fleet=False, clusters=sorted({p.cluster for p in result.placements})
        )
    if result.invalid is not None:
        return hold_because(
            observed,
            SCHEDULED,
            "InvalidNodeSelector",
            f"{result.invalid.path}: {result.invalid.message}",
            requirements=needed,
        )
    running = {r.metadata.name: r for r in (*replicas, *own)} if result.holds else {}
    return _compose_schedule(
        observed, result, _Fleet(clusters=snapshot.clusters, replicas=running), footprint, needed
    )


def _own_replicas(
    observed: Observed[ModelDeployment],
) -> tuple[list[ModelReplica], list[str]]:
    """This deployment's composed ModelReplicas as observed, and those that cannot be read.

    The fleet list and the observed composed resources are read separately; a
    replica that exists but is missing from a lagging list would look
    unplaced, and the scheduler would place a new one and drop the running one.
    """
    own: list[ModelReplica] = []
    unreadable: list[str] = []
    for key, seen in observed.resources.items():
        if seen.manifest.get("kind") != "ModelReplica":
            continue
        if isinstance(seen.obj, ModelReplica):
            own.append(seen.obj)
        else:
            unreadable.append(f"composed ModelReplica {key!r} cannot be read")
    return own, unreadable


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
    problems = found.problems(ModelCache)
    if problems:
        # Its footprint is unknown: hold new placements as while it is being fetched.
        return _Cache(
            footprint=CacheFootprint(name=ref.name, state="Unknown"), unreadable=problems[0]
        )
    caches = found.of(ModelCache)
    return _Cache(footprint=CacheFootprint.of(ref.name, caches[0] if caches else None))


@attrs.frozen(kw_only=True)
class _Fleet:
    """What composing reads of the fleet: clusters' views by name, running replicas by name."""

    clusters: Mapping[str, ClusterView]
    replicas: Mapping[str | None, ModelReplica]


def _compose_schedule(
    observed: Observed[ModelDeployment],
    result: Schedule,
    fleet: _Fleet,
    cache: _Cache,
    needed: tuple[Requirement, ...],
) -> Composition:
    deployment = observed.composite
    resources: list[DesiredResource] = []
    events: list[Event] = []
    ready = 0
    unavailable: list[str] = []  # ready replicas whose cluster does not serve right now
    for placement in result.placements:
        key = replica_key(placement.cluster, placement.index)
        name = placement.replica_name or replica_name(
            deployment.metadata.name or "", placement.cluster, placement.index
        )
        seen = observed.resources.get(key)
        replica_ready = seen is not None and seen.condition_true("Ready")
        if placement.held is not None:
            # Kept exactly as it runs: its placement could not be re-checked.
            manifest: Mapping[str, Any] = desired_from_observed(
                seen or ObservedResource(manifest=to_dict(fleet.replicas[placement.replica_name]))
            )
        else:
            manifest = _replica_manifest(deployment, placement, name)
        resources.append(
            DesiredResource(key=key, manifest=manifest, ready=True if replica_ready else None)
        )
        if seen is None and not placement.retained:
            pools = ", ".join(sorted({e.pool for e in placement.engines}))
            events.append(
                Event.normal(
                    "Scheduled",
                    f"Scheduled replica {name} on cluster {placement.cluster} (pools {pools})",
                )
            )
        if not replica_ready:
            continue
        cluster = fleet.clusters.get(placement.cluster)
        if cluster is None or not cluster.serving:
            # Like Kubernetes' endpoints for pods on a NotReady node: the replica keeps
            # running, but is not routed to, and does not count as ready, until it serves.
            unavailable.append(placement.cluster)
            continue
        ready += 1
        endpoint = endpoint_key(placement.cluster, placement.index)
        resources.append(
            DesiredResource(
                key=endpoint,
                manifest=_endpoint_manifest(deployment, placement, name, cluster.gateway_address),
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
    for placement in result.holds:
        events.append(Event.warning("SelectorError", placement.held or ""))
    conditions = _conditions(result, cache, ready, unavailable)
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


def _conditions(
    result: Schedule, cache: _Cache, ready: int, unavailable: list[str]
) -> list[Condition]:
    conditions = []
    footprint = cache.footprint
    if footprint is not None:
        conditions.append(_cache_condition(footprint, cache.unreadable))
    holds = result.holds
    if holds:
        message = f"{len(holds)} replica(s) kept as they run: " + "; ".join(
            p.held or "" for p in holds[:3]
        )
        conditions.append(condition(SCHEDULED, False, "SelectorError", message))
    elif not result.shortfall:
        conditions.append(condition(SCHEDULED, True, "ReplicasCreated", result.summary()))
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
    if unavailable:
        where = ", ".join(sorted(set(unavailable)))
        message += f"; {len(unavailable)} running on clusters that are not serving ({where})"
        conditions.append(condition(READY, False, "ClusterNotReady", message))
    elif result.placed and ready == result.wanted:
        conditions.append(condition(READY, True, "AllReplicasReady", message))
    elif result.placed:
        conditions.append(condition(READY, False, "ModelStarting", message))
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
