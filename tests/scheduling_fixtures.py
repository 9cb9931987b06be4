"""Small builders for scheduler tests: clusters with pools, deployments, stamped replicas.

Everything is built through the real API types (and the real scheduler output
for replicas), so a fixture can never describe a fleet the product could not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from modelplane_core import api
from modelplane_core.api.codec import unstructure
from modelplane_core.compose.model_deployment import replica_name
from modelplane_core.scheduling import Placement

GPU_DRIVER = "gpu.nvidia.com"


def mem_at_least(quantity: str) -> str:
    return f'device.capacity["{GPU_DRIVER}"].memory.compareTo(quantity("{quantity}")) >= 0'


def mem_below(quantity: str) -> str:
    return f'device.capacity["{GPU_DRIVER}"].memory.compareTo(quantity("{quantity}")) < 0'


IB = 'device.attributes["nic.nvidia.com"].linkType == "infiniband"'


def gpu(memory: str = "141Gi", count: int = 1, name: str = "gpu", claim: str = "DRA") -> api.Device:
    return api.Device(
        name=name,
        driver=GPU_DRIVER,
        claim=claim,  # type: ignore[arg-type]
        device_class_name=GPU_DRIVER if claim == "DRA" else None,
        count=count,
        attributes={"architecture": api.DeviceAttribute(string="Hopper")},
        capacity={"memory": api.DeviceCapacity(value=memory)},
    )


def nic(link: str = "infiniband", count: int = 1) -> api.Device:
    return api.Device(
        name="nic",
        driver="nic.nvidia.com",
        claim="Synthetic",
        count=count,
        attributes={"linkType": api.DeviceAttribute(string=link)},
    )


def pool(
    name: str = "default", nodes: int = 2, devices: Sequence[api.Device] | None = None
) -> api.GpuPool:
    return api.GpuPool(
        name=name, nodes=nodes, devices=tuple(devices if devices is not None else [gpu()])
    )


def cluster(
    name: str,
    *pools: api.GpuPool,
    ready: bool = True,
    gateway: str | None = "auto",
    labels: Mapping[str, str] | None = None,
    taints: Iterable[api.Taint] = (),
    cache_storage: bool = True,
) -> api.InferenceCluster:
    address = f"10.0.0.{sum(map(ord, name)) % 250 + 1}" if gateway == "auto" else gateway
    return api.InferenceCluster(
        metadata=api.ObjectMeta(name=name, labels=dict(labels or {})),
        spec=api.InferenceClusterSpec(
            cluster=api.ClusterSourceSpec(
                source="Existing",
                existing=api.ExistingCluster(secret_ref=api.KubeconfigSecretRef(name="kubeconfig")),
            ),
            taints=tuple(taints) or None,
        ),
        status=api.InferenceClusterStatus(
            gateway=api.GatewayStatus(address=address) if address else None,
            cache=api.CacheStorageStatus(storage_class_name="rwx") if cache_storage else None,
            gpu_pools=tuple(pools) if pools else (pool(),),
            conditions=(api.Condition(type="Ready", status="True" if ready else "False"),),
        ),
    )


def member(
    role: str = "Standalone",
    *selectors: str,
    count: int = 1,
    requests: Sequence[tuple[str, int, Sequence[str]]] | None = None,
    worker_nodes: int | None = None,
    claimless: bool = False,
) -> api.EngineMember:
    """A member requesting ``count`` GPUs matching ``selectors`` (default: >= 141Gi)."""
    if claimless:
        requests = []
    elif requests is None:
        requests = [("gpu", count, selectors or (mem_at_least("141Gi"),))]
    node_selector = (
        api.NodeSelector(
            devices=tuple(
                api.DeviceRequest(
                    name=name, count=n, selectors=tuple(api.DeviceSelector(cel=s) for s in sels)
                )
                for name, n, sels in requests
            )
        )
        if requests
        else None
    )
    return api.EngineMember(
        role=role,  # type: ignore[arg-type]
        node_selector=node_selector,
        worker=api.WorkerSpec(nodes=worker_nodes) if worker_nodes is not None else None,
        template=api.PodTemplate(
            spec=api.PodSpec(containers=(api.Container(name="engine", image="vllm/vllm-openai"),))
        ),
    )


def engine(
    name: str = "main", *members: api.EngineMember, copies: int = 1, phase: str | None = None
) -> api.Engine:
    return api.Engine(
        name=name,
        members=tuple(members) or (member(),),
        copies=copies,
        phase=phase,  # type: ignore[arg-type]
    )


def gang(nodes: int, *selectors: str, copies: int = 1, name: str = "main") -> api.Engine:
    """A Leader plus a Worker spanning ``nodes - 1`` nodes: the engine costs ``nodes`` nodes."""
    return engine(
        name,
        member("Leader", *selectors),
        member("Worker", *selectors, worker_nodes=nodes - 1),
        copies=copies,
    )


def deployment(
    name: str = "my-model",
    replicas: int = 1,
    engines: Sequence[api.Engine] | None = None,
    *,
    namespace: str = "ml-team",
    selector: Mapping[str, str] | None = None,
    tolerations: Sequence[api.Toleration] = (),
    cache: str | None = None,
    serving: str | None = None,
) -> api.ModelDeployment:
    return api.ModelDeployment(
        metadata=api.ObjectMeta(name=name, namespace=namespace),
        spec=api.ModelDeploymentSpec(
            replicas=replicas,
            engines=tuple(engines or (engine(),)),
            cluster_selector=api.LabelSelector(match_labels=dict(selector)) if selector else None,
            tolerations=tuple(tolerations) or None,
            model_cache_ref=api.ModelCacheRef(name=cache) if cache else None,
            serving=api.Serving(mode=serving) if serving else None,  # type: ignore[arg-type]
        ),
    )


def stamped(
    deployment_obj: api.ModelDeployment, placement: Placement, *, name: str | None = None
) -> api.ModelReplica:
    """The ModelReplica the ModelDeployment composer would write for ``placement``."""
    from modelplane_core.compose.model_deployment import _replica_manifest

    replica = (
        name
        or placement.replica_name
        or replica_name(deployment_obj.metadata.name or "", placement.cluster, placement.index)
    )
    obj = api.from_dict(_replica_manifest(deployment_obj, placement, replica))
    assert isinstance(obj, api.ModelReplica)
    return obj


def replica(
    deployment_name: str,
    cluster_name: str,
    index: int,
    engines: Sequence[tuple[str, Sequence[tuple[str, str, bool]]]] = (
        ("main", (("Standalone", "default", True),)),
    ),
    *,
    namespace: str = "ml-team",
    copies: int = 1,
    worker_nodes: int | None = None,
    name: str | None = None,
    index_label: str | None = None,
) -> api.ModelReplica:
    """A replica stamped by hand: engines as (name, [(role, pool, claims)])."""
    data: dict[str, Any] = {
        "apiVersion": api.API_VERSION,
        "kind": "ModelReplica",
        "metadata": {
            "name": name or replica_name(deployment_name, cluster_name, index),
            "namespace": namespace,
            "labels": {
                api.LABEL_DEPLOYMENT: deployment_name,
                api.LABEL_CLUSTER: cluster_name,
                api.LABEL_REPLICA_INDEX: index_label if index_label is not None else str(index),
            },
        },
        "spec": {
            "clusterName": cluster_name,
            "engines": [
                {
                    "name": engine_name,
                    "copies": copies,
                    "members": [
                        {
                            "role": role,
                            "nodePoolName": pool_name,
                            **(
                                {
                                    "deviceRequests": [
                                        {"name": "gpu", "deviceClassName": GPU_DRIVER, "count": 1}
                                    ]
                                }
                                if claims
                                else {}
                            ),
                            **(
                                {"worker": {"nodes": worker_nodes}}
                                if role == "Worker" and worker_nodes
                                else {}
                            ),
                            "template": unstructure(member().template),
                        }
                        for role, pool_name, claims in members
                    ],
                }
                for engine_name, members in engines
            ],
        },
    }
    obj = api.from_dict(data)
    assert isinstance(obj, api.ModelReplica)
    return obj


def where(result: Any) -> list[tuple[str, int]]:
    """Placements as (cluster, index), the compact form most assertions need."""
    return [(p.cluster, p.index) for p in result.placements]


def pools_of(result: Any) -> list[list[str]]:
    return [[e.pool for e in p.engines] for p in result.placements]
