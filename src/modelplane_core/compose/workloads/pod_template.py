"""A member's pod template: the user's container, plus what placement and serving need.

What Modelplane adds is deliberately small and fixed: the pool pin (so pods
land on the pool the scheduler counted), the DRA claim, the GPU toleration,
shared memory, the ModelCache mount, the serving port and readiness probe,
for gangs the leader's address and the pod's rank, and for PrefillDecode the
NIXL side channel. Everything else -- image, command, args, env, labels,
annotations, pull secrets -- is the user's, carried through verbatim. Engine
flags are never injected: they decide parallelism, quantization and KV
transfer, and only the user knows them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from modelplane_core.api.codec import unstructure
from modelplane_core.api.meta import LABEL_POOL
from modelplane_core.api.model_replica import ReplicaMember
from modelplane_core.compose.topology import MODEL_MOUNT_PATH
from modelplane_core.compose.workloads.resource_claims import container_claims, pod_claims

ENGINE_CONTAINER: Final = "engine"
SHM_VOLUME: Final = "dshm"
CACHE_VOLUME: Final = "model-cache"
# GPU node pools are tainted so only GPU work lands there (GKE and EKS both do it).
GPU_TOLERATION: Final = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
# LeaderWorkerSet sets LWS_LEADER_ADDRESS first in every container of a group;
# Modelplane's stable alias for it is what users write in their commands.
LEADER_ADDRESS_ENV: Final = "MODELPLANE_LEADER_ADDRESS"
LWS_LEADER_ADDRESS_ENV: Final = "LWS_LEADER_ADDRESS"
# A gang pod's rank: 0 on the leader, 1..N on the workers, for --node-rank style flags.
# LeaderWorkerSet labels every pod with its index in the group; the downward API
# reads it, which works whatever order the LWS webhook injects its own variables in.
RANK_ENV: Final = "MODELPLANE_RANK"
LWS_WORKER_INDEX_LABEL: Final = "leaderworkerset.sigs.k8s.io/worker-index"
HEALTH_PATH: Final = "/health"


@attrs.frozen(kw_only=True)
class PodPlan:
    """What Modelplane adds to one member's pods."""

    pool: str
    # Managed labels; they win over a user label of the same key.
    labels: Mapping[str, str]
    # Labels the pods inherit from their replica; the member's own and managed ones win.
    inherited_labels: Mapping[str, str] = attrs.field(factory=dict)
    claim_template: str | None = None
    cache_claim: str | None = None
    # A Leader or Worker pod: it is told the leader's address and its own rank.
    gang: bool = False
    # Variables Modelplane provides unless the user set one of the same name.
    default_env: Sequence[Mapping[str, Any]] = ()
    # The port the engine listens on and is probed at; None for gang workers,
    # which serve nothing themselves.
    serve_port: int | None = None
    sidecars: Sequence[Mapping[str, Any]] = ()


def readiness_probe(port: int) -> dict[str, Any]:
    """Ready once the server answers ``/health``; loading a model takes minutes, so poll gently."""
    return {
        "httpGet": {"path": HEALTH_PATH, "port": port},
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
    }


def pod_template(member: ReplicaMember, plan: PodPlan) -> dict[str, Any]:
    """The pod template for ``member``'s pods."""
    user = member.template
    user_labels = (user.metadata.labels if user.metadata else None) or {}
    user_annotations = (user.metadata.annotations if user.metadata else None) or {}
    metadata: dict[str, Any] = {"labels": {**plan.inherited_labels, **user_labels, **plan.labels}}
    if user_annotations:
        metadata["annotations"] = dict(user_annotations)
    spec: dict[str, Any] = {
        "containers": [_engine_container(member, plan), *(dict(s) for s in plan.sidecars)],
        "nodeSelector": {LABEL_POOL: plan.pool},
        "tolerations": [dict(GPU_TOLERATION)],
    }
    if plan.claim_template is not None:
        spec["resourceClaims"] = pod_claims(plan.claim_template)
    spec["volumes"] = _volumes(plan)
    if user.spec.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": s.name} for s in user.spec.image_pull_secrets]
    return {"metadata": metadata, "spec": spec}


def _engine_container(member: ReplicaMember, plan: PodPlan) -> dict[str, Any]:
    engine = member.template.spec.engine
    container: dict[str, Any] = {"name": ENGINE_CONTAINER, "image": engine.image}
    if engine.command:
        container["command"] = list(engine.command)
    if engine.args:
        container["args"] = list(engine.args)
    env: list[dict[str, Any]] = []
    if plan.gang:
        # First, so the user's env and command can reference them.
        env.append({"name": LEADER_ADDRESS_ENV, "value": f"$({LWS_LEADER_ADDRESS_ENV})"})
        env.append(
            {
                "name": RANK_ENV,
                "valueFrom": {
                    "fieldRef": {"fieldPath": f"metadata.labels['{LWS_WORKER_INDEX_LABEL}']"}
                },
            }
        )
    env.extend(unstructure(variable) for variable in engine.env or ())
    named = {variable["name"] for variable in env}
    env.extend(dict(extra) for extra in plan.default_env if extra["name"] not in named)
    if env:
        container["env"] = env
    if plan.serve_port is not None:
        container["ports"] = [{"containerPort": plan.serve_port, "protocol": "TCP"}]
        container["readinessProbe"] = readiness_probe(plan.serve_port)
    mounts = [{"name": SHM_VOLUME, "mountPath": "/dev/shm"}]
    if plan.cache_claim is not None:
        mounts.append({"name": CACHE_VOLUME, "mountPath": MODEL_MOUNT_PATH})
    container["volumeMounts"] = mounts
    if plan.claim_template is not None:
        container["resources"] = container_claims()
    return container


def _volumes(plan: PodPlan) -> list[dict[str, Any]]:
    # Tensor-parallel engines exchange data through /dev/shm; the container default is 64Mi.
    volumes: list[dict[str, Any]] = [{"name": SHM_VOLUME, "emptyDir": {"medium": "Memory"}}]
    if plan.cache_claim is not None:
        volumes.append(
            {"name": CACHE_VOLUME, "persistentVolumeClaim": {"claimName": plan.cache_claim}}
        )
    return volumes
