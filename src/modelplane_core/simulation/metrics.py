"""What a simulation step measured, read off the objects the composers wrote.

Nothing here is computed by a second model of the fleet: replicas wanted,
placed and ready are the ModelDeployment's status; nodes used are the stamped
cost of the ModelReplicas on each pool (what the scheduler's ledger charges);
endpoints are the backends of each ModelService's route. So a metric can only
disagree with the control plane if the control plane disagrees with itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.meta import Condition, find_condition
from modelplane_core.api.model_deployment import ModelDeployment
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.api.model_routing import ModelService


@attrs.frozen(kw_only=True)
class DeploymentRow:
    deployment: str
    wanted: int
    placed: int
    ready: int
    reason: str | None  # the ReplicasScheduled message while short

    @property
    def shortfall(self) -> int:
        return max(self.wanted - self.placed, 0)


@attrs.frozen(kw_only=True)
class PoolRow:
    cluster: str
    pool: str
    nodes: int
    used: int
    gpus_per_node: int
    gpus_claimed: int

    @property
    def free(self) -> int:
        return self.nodes - self.used

    @property
    def gpus_stranded(self) -> int:
        """GPUs on charged nodes that no pod claims: the cost of whole-node accounting."""
        return max(self.used * self.gpus_per_node - self.gpus_claimed, 0)


@attrs.frozen(kw_only=True)
class ClusterRow:
    cluster: str
    ready: bool
    replicas: int
    ready_replicas: int


@attrs.frozen(kw_only=True)
class ServiceRow:
    service: str
    address: str | None
    endpoints: int
    ready: bool


@attrs.frozen(kw_only=True)
class StepMetrics:
    """The fleet after one step: the events applied at ``time`` and the reconcile they caused."""

    step: int
    time: float
    events: tuple[str, ...]
    rounds: int
    composer_calls: int
    seconds: float  # wall-clock time the control plane took to converge this step
    converged: bool
    deployments: tuple[DeploymentRow, ...]
    pools: tuple[PoolRow, ...]
    clusters: tuple[ClusterRow, ...]
    services: tuple[ServiceRow, ...]
    created: tuple[str, ...]  # ModelReplicas created in this step
    deleted: tuple[str, ...]  # ModelReplicas deleted in this step

    @property
    def wanted(self) -> int:
        return sum(d.wanted for d in self.deployments)

    @property
    def placed(self) -> int:
        return sum(d.placed for d in self.deployments)

    @property
    def ready(self) -> int:
        return sum(d.ready for d in self.deployments)


def deployment_rows(deployments: Iterable[ModelDeployment]) -> tuple[DeploymentRow, ...]:
    rows = []
    for deployment in deployments:
        status = deployment.status
        replicas = status.replicas if status is not None else None
        scheduled = find_condition(status.conditions if status else None, "ReplicasScheduled")
        meta = deployment.metadata
        rows.append(
            DeploymentRow(
                deployment=f"{meta.namespace or 'default'}/{meta.name}",
                wanted=deployment.spec.replicas,
                placed=(replicas.total or 0) if replicas is not None else 0,
                ready=(replicas.ready or 0) if replicas is not None else 0,
                reason=scheduled.message
                if scheduled is not None and scheduled.status != "True"
                else None,
            )
        )
    return tuple(sorted(rows, key=lambda r: r.deployment))


def pool_rows(
    clusters: Iterable[InferenceCluster], replicas: Iterable[ModelReplica]
) -> tuple[PoolRow, ...]:
    used: dict[tuple[str, str], int] = defaultdict(int)
    claimed: dict[tuple[str, str], int] = defaultdict(int)
    for replica in replicas:
        for engine in replica.spec.engines:
            for member in engine.members:
                if not member.claims_devices:
                    continue
                nodes = member.pods * engine.copies
                key = (replica.spec.cluster_name, member.node_pool_name)
                used[key] += nodes
                per_pod = sum(r.count for r in member.device_requests or ())
                claimed[key] += nodes * per_pod
    rows = []
    for cluster in clusters:
        name = cluster.metadata.name or ""
        for pool in cluster.gpu_pools:
            gpus = sum(d.count for d in pool.devices or () if d.claimable)
            rows.append(
                PoolRow(
                    cluster=name,
                    pool=pool.name,
                    nodes=pool.nodes or 0,
                    used=used[(name, pool.name)],
                    gpus_per_node=gpus,
                    gpus_claimed=claimed[(name, pool.name)],
                )
            )
    return tuple(sorted(rows, key=lambda r: (r.cluster, r.pool)))


def cluster_rows(
    clusters: Iterable[InferenceCluster], replicas: Iterable[ModelReplica]
) -> tuple[ClusterRow, ...]:
    hosted: dict[str, int] = defaultdict(int)
    ready: dict[str, int] = defaultdict(int)
    for replica in replicas:
        hosted[replica.spec.cluster_name] += 1
        ready[replica.spec.cluster_name] += replica_ready(replica)
    rows = [
        ClusterRow(
            cluster=c.metadata.name or "",
            ready=c.ready,
            replicas=hosted[c.metadata.name or ""],
            ready_replicas=ready[c.metadata.name or ""],
        )
        for c in clusters
    ]
    return tuple(sorted(rows, key=lambda r: r.cluster))


def service_rows(
    services: Iterable[tuple[ModelService, Iterable[Mapping[str, Any]]]],
) -> tuple[ServiceRow, ...]:
    """Each service with the routes it composed (their backends are its endpoints)."""
    rows = []
    for service, routes in services:
        backends = {
            (ref.get("namespace"), ref.get("name"))
            for route in routes
            for rule in (route.get("spec") or {}).get("rules") or ()
            for ref in rule.get("backendRefs") or ()
        }
        status = service.status
        rows.append(
            ServiceRow(
                service=f"{service.metadata.namespace or 'default'}/{service.metadata.name}",
                address=status.address if status is not None else None,
                endpoints=len(backends),
                ready=_condition_true(status.conditions if status else None, "Ready"),
            )
        )
    return tuple(sorted(rows, key=lambda r: r.service))


def replica_ready(replica: ModelReplica) -> bool:
    """The ModelReplica reports Ready=True (its composer's verdict on its workloads)."""
    return _condition_true(replica.status.conditions if replica.status else None, "Ready")


def _condition_true(conditions: tuple[Condition, ...] | None, type_: str) -> bool:
    found = find_condition(conditions, type_)
    return found is not None and found.status == "True"


def step_rows(steps: Iterable[StepMetrics], table: str) -> list[dict[str, Any]]:
    """One flat dict per row of ``table`` per step, each with its step and time."""
    rows: list[dict[str, Any]] = []
    for step in steps:
        head = {"step": step.step, "time": step.time}
        if table == "steps":
            rows.append(
                {
                    **head,
                    "events": "; ".join(step.events),
                    "rounds": step.rounds,
                    "composerCalls": step.composer_calls,
                    "seconds": step.seconds,
                    "converged": step.converged,
                    "wanted": step.wanted,
                    "placed": step.placed,
                    "ready": step.ready,
                    "created": len(step.created),
                    "deleted": len(step.deleted),
                }
            )
            continue
        source = {
            "deployments": step.deployments,
            "pools": step.pools,
            "clusters": step.clusters,
            "services": step.services,
        }.get(table)
        if source is None:
            raise KeyError(f"unknown table {table!r}; tables are {', '.join(TABLES)}")
        for row in source:
            rows.append({**head, **_row(row)})
    return rows


TABLES = ("steps", "deployments", "pools", "clusters", "services")


def _row(row: object) -> dict[str, Any]:
    values = attrs.asdict(row)  # type: ignore[arg-type]
    for name in ("shortfall", "free", "gpus_stranded"):
        if hasattr(row, name):
            values[name] = getattr(row, name)
    return {_camel(k): v for k, v in values.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
