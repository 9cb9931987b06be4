"""ModelReplica -> the objects that serve one replica on the cluster it is pinned to.

Per engine: a Deployment (one Standalone member) or a LeaderWorkerSet (a
Leader and its Workers), and a ResourceClaimTemplate per member that claims
devices. Per replica: the route on the workload cluster's gateway and what
it routes to -- a Service for Unified serving, an InferencePool with its
endpoint picker for PrefillDecode. Everything lives in the shared workload
namespace of the cluster and reaches it wrapped in a provider-kubernetes
Object that targets the cluster's provider config.

A replica never moves, so a cluster that is briefly missing, or not yet
ready to be targeted, must not delete running engines: every state in which
the objects cannot be computed holds the observed ones and says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.meta import API_VERSION, Condition
from modelplane_core.api.model_replica import ModelReplica, ReplicaEngine, ReplicaMember
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import (
    Composition,
    DesiredResource,
    Event,
    Observed,
    Requirement,
    condition,
    hold_because,
    problems_of,
)
from modelplane_core.compose.fetched import typed
from modelplane_core.compose.provider_kubernetes import AVAILABLE_CEL, wrap
from modelplane_core.compose.topology import ENGINE_PORT, WORKLOAD_NAMESPACE
from modelplane_core.compose.workloads.cache_storage import cache_pvc_name
from modelplane_core.compose.workloads.deployment import standalone_deployment
from modelplane_core.compose.workloads.endpoint_picker import (
    endpoint_picker,
    inference_pool,
    kv_block_size,
    picker_config,
)
from modelplane_core.compose.workloads.labels import (
    LABEL_REPLICA,
    LABEL_SERVING,
    LABEL_WORKLOAD,
)
from modelplane_core.compose.workloads.leader_worker_set import leader_worker_set
from modelplane_core.compose.workloads.object_state import is_applied, is_ready
from modelplane_core.compose.workloads.pod_template import PodPlan, pod_template
from modelplane_core.compose.workloads.prefill_decode import (
    decode_engine_port,
    decode_port_problem,
    nixl_env,
    routing_sidecar,
    serving_labels,
)
from modelplane_core.compose.workloads.replica_names import ReplicaNames
from modelplane_core.compose.workloads.resource_claims import resource_claim_template
from modelplane_core.compose.workloads.routing import (
    pool_backend,
    replica_endpoint,
    replica_route,
    service_backend,
    unified_service,
)

__all__ = ["PlannedObject", "compose", "plan", "replica_endpoint", "requirements"]

REQUIRE_CLUSTER: Final = "cluster"
# Condition types and reasons as the reference's v0.3.1 names them (the seeds name none).
ACCEPTED: Final = "ModelAccepted"
SERVING: Final = "ModelReady"
ROUTE_KEY: Final = "route"
SERVICE_KEY: Final = "service"
POOL_KEY: Final = "pool"
PICKER_KEY_PREFIX: Final = "picker-"
PICKER_DEPLOYMENT_KEY: Final = f"{PICKER_KEY_PREFIX}deployment"


def workload_key(engine: str) -> str:
    return f"workload-{engine}"


def claims_key(engine: str, role: str) -> str:
    return f"claims-{engine}-{role.lower()}"


def requirements(replica: ModelReplica) -> tuple[Requirement, ...]:
    """The InferenceCluster the replica is pinned to: its provider config is the way in."""
    return (
        Requirement(
            key=REQUIRE_CLUSTER,
            api_version=API_VERSION,
            kind="InferenceCluster",
            match_name=replica.spec.cluster_name,
        ),
    )


@attrs.frozen
class PlannedObject:
    """One object to compose: its key, the bare manifest, and how its readiness is judged."""

    key: str
    manifest: Mapping[str, Any]
    ready_when: str | None = None


def compose(observed: Observed[ModelReplica], cache: Cache | None = None) -> Composition:
    replica = observed.composite
    needed = requirements(replica)
    cluster_name = replica.spec.cluster_name
    problems = problems_of(replica, cache)
    if problems:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        return _hold(
            observed, needed, "InvalidSpec", f"the spec is invalid: {shown}{more}", warn=True
        )
    found = observed.required_or_none(REQUIRE_CLUSTER)
    if found is None:
        return _hold(
            observed,
            needed,
            "WaitingForCluster",
            f"waiting for InferenceCluster {cluster_name} to be fetched",
            warn=False,
        )
    clusters, unreadable = typed(found, InferenceCluster)
    if unreadable:
        return _hold(observed, needed, "InvalidCluster", "; ".join(unreadable), warn=True)
    cluster = next((c for c in clusters if c.metadata.name == cluster_name), None)
    if cluster is None:
        return _hold(
            observed,
            needed,
            "ClusterNotFound",
            f"InferenceCluster {cluster_name} does not exist; keeping what runs until it returns "
            "or the ModelDeployment places the replica elsewhere",
            warn=True,
        )
    provider_config = _provider_config(cluster)
    if provider_config is None:
        return _hold(
            observed,
            needed,
            "WaitingForProviderConfig",
            f"InferenceCluster {cluster_name} does not publish status.providerConfigRef yet "
            "(it is still being provisioned or its serving stack installed)",
            warn=False,
        )
    planned, warnings = plan(replica)
    resources = [
        DesiredResource(
            key=item.key,
            manifest=wrap(
                item.manifest, provider_config=provider_config, ready_when=item.ready_when
            ),
            ready=is_ready(observed.resources.get(item.key)),
        )
        for item in planned
    ]
    events = [Event.warning("DecodeEnginePort", message) for message in warnings]
    workloads = [workload_key(e.name) for e in replica.spec.engines]
    if not any(key in observed.resources for key in workloads):
        events.insert(0, Event.normal("Composing", _composing_message(replica)))
    return Composition(
        resources=resources,
        conditions=_conditions(observed, replica),
        events=tuple(events),
        requirements=needed,
    )


def plan(replica: ModelReplica) -> tuple[list[PlannedObject], list[str]]:
    """Every object of the replica, unwrapped, and warnings about the user's engine flags."""
    names = ReplicaNames(_namespace(replica), replica.metadata.name or "")
    cache = replica.spec.model_cache_ref
    cache_claim = cache_pvc_name(names.namespace, cache.name) if cache is not None else None
    planned: list[PlannedObject] = []
    warnings: list[str] = []
    for engine in replica.spec.engines:
        objects, problems = _engine_objects(replica, names, engine, cache_claim)
        planned.extend(objects)
        warnings.extend(problems)
    planned.extend(_routing_objects(replica, names))
    return planned, warnings


def _engine_objects(
    replica: ModelReplica, names: ReplicaNames, engine: ReplicaEngine, cache_claim: str | None
) -> tuple[list[PlannedObject], list[str]]:
    labels = {LABEL_REPLICA: names.replica_id}
    inherited = inherited_labels(replica)
    phase = engine.phase if replica.spec.serving_mode == "PrefillDecode" else None
    pd = phase is not None
    pd_labels = serving_labels(phase, names.replica_id) if phase is not None else {}
    serving_pods = {**labels, LABEL_SERVING: names.replica_id, **pd_labels}
    serving_env = nixl_env() if pd else ()
    members = {m.role: m for m in engine.members}
    server = members.get("Standalone") or members["Leader"]
    serve_port = ENGINE_PORT
    sidecars: tuple[dict[str, Any], ...] = ()
    warnings: list[str] = []
    if pd and engine.phase == "Decode":
        container = server.template.spec.engine
        serve_port = decode_engine_port(container)
        sidecars = (routing_sidecar(serve_port),)
        if problem := decode_port_problem(container):
            warnings.append(f"engine {engine.name}: {problem}")
    planned: list[PlannedObject] = []
    claims: dict[str, str | None] = {}
    for member in engine.members:
        claims[member.role] = _claim_template(names, engine, member, labels, planned)
    workload = names.workload(engine.name)
    if "Standalone" in members:
        template = pod_template(
            server,
            PodPlan(
                pool=server.node_pool_name,
                labels={**serving_pods, LABEL_WORKLOAD: workload},
                inherited_labels=inherited,
                claim_template=claims["Standalone"],
                cache_claim=cache_claim,
                serve_port=serve_port,
                sidecars=sidecars,
                default_env=serving_env,
            ),
        )
        manifest = standalone_deployment(
            name=workload,
            namespace=WORKLOAD_NAMESPACE,
            copies=engine.copies,
            template=template,
            labels=labels,
        )
    else:
        worker = members["Worker"]
        leader_template = pod_template(
            server,
            PodPlan(
                pool=server.node_pool_name,
                labels=serving_pods,
                inherited_labels=inherited,
                claim_template=claims["Leader"],
                cache_claim=cache_claim,
                gang=True,
                serve_port=serve_port,
                sidecars=sidecars,
                default_env=serving_env,
            ),
        )
        worker_template = pod_template(
            worker,
            PodPlan(
                pool=worker.node_pool_name,
                labels=labels,
                inherited_labels=inherited,
                claim_template=claims["Worker"],
                cache_claim=cache_claim,
                gang=True,
            ),
        )
        manifest = leader_worker_set(
            name=workload,
            namespace=WORKLOAD_NAMESPACE,
            copies=engine.copies,
            size=1 + worker.pods,
            leader_template=leader_template,
            worker_template=worker_template,
            labels=labels,
        )
    planned.insert(0, PlannedObject(workload_key(engine.name), manifest, AVAILABLE_CEL))
    return planned, warnings


# Prefixes of labels the control plane manages on a ModelReplica (Modelplane's own
# and Crossplane's composition bookkeeping); every other label is the user's.
CONTROL_PLANE_LABEL_PREFIXES: Final = ("modelplane.ai/", "crossplane.io/")


def inherited_labels(replica: ModelReplica) -> dict[str, str]:
    """The replica's user labels (a ModelDeployment's replicaLabels), stamped on its pods."""
    return {
        key: value
        for key, value in replica.metadata.label_map.items()
        if not key.startswith(CONTROL_PLANE_LABEL_PREFIXES)
    }


def _claim_template(
    names: ReplicaNames,
    engine: ReplicaEngine,
    member: ReplicaMember,
    labels: Mapping[str, str],
    planned: list[PlannedObject],
) -> str | None:
    """Plan the member's ResourceClaimTemplate, if it claims devices; returns its name."""
    if not member.device_requests:
        return None
    name = names.claim_template(engine.name, member.role)
    planned.append(
        PlannedObject(
            claims_key(engine.name, member.role),
            resource_claim_template(
                name=name,
                namespace=WORKLOAD_NAMESPACE,
                requests=member.device_requests,
                labels=labels,
            ),
        )
    )
    return name


def _routing_objects(replica: ModelReplica, names: ReplicaNames) -> list[PlannedObject]:
    labels = {LABEL_REPLICA: names.replica_id}
    route_args: dict[str, Any] = {
        "name": names.route,
        "namespace": WORKLOAD_NAMESPACE,
        "tenant_namespace": names.namespace,
        "replica": names.replica,
        "labels": labels,
    }
    if replica.spec.serving_mode != "PrefillDecode":
        return [
            PlannedObject(
                SERVICE_KEY,
                unified_service(
                    name=names.service,
                    namespace=WORKLOAD_NAMESPACE,
                    replica_id=names.replica_id,
                    labels=labels,
                ),
            ),
            PlannedObject(
                ROUTE_KEY, replica_route(backend=service_backend(names.service), **route_args)
            ),
        ]
    decode = next(e for e in replica.spec.engines if e.phase == "Decode")
    decode_serving = next(m for m in decode.members if m.role != "Worker")
    config = picker_config(kv_block_size(decode_serving.template.spec.engine.args or ()))
    picker = endpoint_picker(
        name=names.endpoint_picker,
        namespace=WORKLOAD_NAMESPACE,
        pool=names.pool,
        config=config,
        labels=labels,
    )
    planned = [
        PlannedObject(
            POOL_KEY,
            inference_pool(
                name=names.pool,
                namespace=WORKLOAD_NAMESPACE,
                replica_id=names.replica_id,
                picker=names.endpoint_picker,
                labels=labels,
            ),
        ),
        PlannedObject(ROUTE_KEY, replica_route(backend=pool_backend(names.pool), **route_args)),
    ]
    for role, manifest in picker.items():
        key = f"{PICKER_KEY_PREFIX}{role}"
        planned.append(
            PlannedObject(key, manifest, AVAILABLE_CEL if key == PICKER_DEPLOYMENT_KEY else None)
        )
    return planned


def _conditions(observed: Observed[ModelReplica], replica: ModelReplica) -> tuple[Condition, ...]:
    cluster = replica.spec.cluster_name
    engines = [e.name for e in replica.spec.engines]
    waiting_apply = [e for e in engines if not is_applied(observed.resources.get(workload_key(e)))]
    starting = [e for e in engines if not is_ready(observed.resources.get(workload_key(e)))]
    picker_down = replica.spec.serving_mode == "PrefillDecode" and not is_ready(
        observed.resources.get(PICKER_DEPLOYMENT_KEY)
    )
    if waiting_apply:
        accepted = condition(
            ACCEPTED,
            False,
            "Deploying",
            f"waiting for cluster {cluster} to accept the workload of engine(s) "
            f"{', '.join(waiting_apply)}",
        )
    else:
        accepted = condition(ACCEPTED, True, "Accepted", f"all workloads applied on {cluster}")
    if waiting_apply:
        serving = condition(SERVING, False, "WaitingForModel", "workloads not applied yet")
    elif starting or picker_down:
        parts = [f"engine(s) {', '.join(starting)} not available"] if starting else []
        if picker_down:
            parts.append("the endpoint picker is not available")
        serving = condition(SERVING, False, "ModelStarting", "; ".join(parts))
    else:
        serving = condition(SERVING, True, "Serving", f"every engine is available on {cluster}")
    return (accepted, serving)


def _hold(
    observed: Observed[ModelReplica],
    needed: tuple[Requirement, ...],
    reason: str,
    message: str,
    *,
    warn: bool,
) -> Composition:
    """Keep what runs and say why; a replica with nothing running is not ready."""
    return hold_because(
        observed,
        ACCEPTED,
        reason,
        message,
        warn=warn,
        conditions=[
            condition(
                SERVING, "Unknown", "WaitingForModel", "the replica's serving state is not known"
            )
        ],
        requirements=needed,
        ready_keys=[key for key, seen in observed.resources.items() if is_ready(seen)],
    )


def _provider_config(cluster: InferenceCluster) -> str | None:
    status = cluster.status
    if status is None or status.provider_config_ref is None:
        return None
    return status.provider_config_ref.name or None


def _namespace(replica: ModelReplica) -> str:
    return replica.metadata.namespace or "default"


def _composing_message(replica: ModelReplica) -> str:
    first = replica.spec.engines[0].members[0].template.spec.engine.image
    pools = sorted({m.node_pool_name for e in replica.spec.engines for m in e.members})
    return (
        f"Composing {first} on cluster {replica.spec.cluster_name} "
        f"(pool{'s' if len(pools) > 1 else ''} {', '.join(pools)})"
    )
