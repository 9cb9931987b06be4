"""Builders for the ML composer tests: clusters, stamped replicas, observed state.

Everything goes through the real API types, so a fixture cannot describe an
object the product would reject. Replicas stamped from ModelDeployments come
from the ModelDeployment composer itself (see ``deployment_inputs`` and
``deployment_next_pass``), never from a hand-written imitation of it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from modelplane_core import api
from modelplane_core.api.meta import LABEL_DEPLOYMENT
from modelplane_core.compose.composition import (
    Composition,
    Observed,
    ObservedResource,
    Requirement,
)
from modelplane_core.compose.model_deployment import (
    REQUIRE_CACHE,
    REQUIRE_CLUSTERS,
    REQUIRE_REPLICAS,
)
from tests.k8s_schemas import validate_manifest
from tests.support import shared_path

GPU_CLASS = "gpu.nvidia.com"


def example(*parts: str) -> Any:
    """The single typed object of an example manifest under ../shared/examples."""
    (obj,) = api.load_yaml(shared_path("examples", *parts).read_text())
    return obj


def cluster(
    name: str,
    *,
    provider_config: str | None = "default",
    ready: bool = True,
    gateway: str | None = "34.55.100.10",
    storage_class: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A raw InferenceCluster as a requirement resolves it (an Existing cluster with status)."""
    status = api.InferenceClusterStatus(
        provider_config_ref=api.ProviderConfigReference(
            name=f"{name}-pc" if provider_config == "default" else provider_config
        )
        if provider_config is not None
        else None,
        gateway=api.GatewayStatus(address=gateway) if gateway else None,
        cache=api.CacheStorageStatus(storage_class_name=storage_class) if storage_class else None,
        conditions=(api.Condition(type="Ready", status="True" if ready else "False"),),
    )
    obj = api.InferenceCluster(
        metadata=api.ObjectMeta(name=name, labels=dict(labels) if labels else None),
        spec=api.InferenceClusterSpec(
            cluster=api.ClusterSourceSpec(
                source="Existing",
                existing=api.ExistingCluster(secret_ref=api.KubeconfigSecretRef(name=f"{name}-kc")),
            )
        ),
        status=status,
    )
    return api.to_dict(obj)


def inner(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest a provider-kubernetes Object wraps."""
    wrapped: dict[str, Any] = manifest["spec"]["forProvider"]["manifest"]
    return wrapped


def inner_of(composition: Composition, key: str) -> dict[str, Any]:
    resource = composition.resource(key)
    assert resource is not None, f"no desired resource {key!r}"
    return inner(resource.manifest)


def observed_object(
    desired: Mapping[str, Any],
    *,
    ready: bool = True,
    applied: bool = True,
    applied_status: Mapping[str, Any] | None = None,
) -> ObservedResource:
    """A composed Object as Crossplane observes it after the provider applied it."""
    manifest = copy.deepcopy(dict(desired))
    status: dict[str, Any] = {
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]
    }
    if applied:
        wrapped = copy.deepcopy(inner(desired))
        if applied_status is not None:
            wrapped["status"] = dict(applied_status)
        status["atProvider"] = {"manifest": wrapped}
    manifest["status"] = status
    manifest.setdefault("metadata", {})["name"] = "generated-abc12"
    return ObservedResource(manifest=manifest)


def observed_plain(
    desired: Mapping[str, Any], status: Mapping[str, Any] | None = None
) -> ObservedResource:
    """A resource composed directly (not wrapped), as observed."""
    manifest = copy.deepcopy(dict(desired))
    if status is not None:
        manifest["status"] = dict(status)
    return ObservedResource(manifest=manifest)


def with_observed(
    observed: Observed[Any], resources: Mapping[str, ObservedResource]
) -> Observed[Any]:
    return Observed(
        composite=observed.composite,
        resources={**observed.resources, **resources},
        required=observed.required,
    )


def schema_problems(composition: Composition) -> list[str]:
    """Every schema problem of every desired manifest (and of what it wraps)."""
    return [
        f"{resource.key}: {problem}"
        for resource in composition.resources
        for problem in validate_manifest(resource.manifest)
    ]


def pod_templates(workload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every pod template of a Deployment or LeaderWorkerSet."""
    spec = workload["spec"]
    if workload["kind"] == "Deployment":
        return [spec["template"]]
    lws = spec["leaderWorkerTemplate"]
    return [lws["leaderTemplate"], lws["workerTemplate"]]


def keys(composition: Composition) -> list[str]:
    return [r.key for r in composition.resources]


def names_of(manifests: Iterable[Mapping[str, Any]]) -> list[str]:
    return [m["metadata"]["name"] for m in manifests]


def container(
    image: str = "vllm/vllm-openai:v0.23.0",
    *,
    args: Iterable[str] | None = ("--model=Qwen/Qwen3-8B",),
    command: Iterable[str] | None = None,
    env: Iterable[api.EnvVar] | None = None,
) -> api.Container:
    return api.Container(
        name="engine",
        image=image,
        args=tuple(args) if args is not None else None,
        command=tuple(command) if command is not None else None,
        env=tuple(env) if env is not None else None,
    )


def template(
    engine: api.Container | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    pull_secrets: Iterable[str] = (),
) -> api.PodTemplate:
    metadata = (
        api.PodTemplateMetadata(labels=labels, annotations=annotations)
        if labels or annotations
        else None
    )
    secrets = tuple(api.LocalObjectReference(name=s) for s in pull_secrets) or None
    return api.PodTemplate(
        metadata=metadata,
        spec=api.PodSpec(containers=(engine or container(),), image_pull_secrets=secrets),
    )


def gpu_request(
    name: str = "gpu", count: int = 1, cel: Iterable[str] = ('device.driver == "gpu.nvidia.com"',)
) -> api.ResolvedDeviceRequest:
    return api.ResolvedDeviceRequest(
        name=name,
        count=count,
        device_class_name=GPU_CLASS,
        selectors=tuple(api.DeviceSelector(cel=c) for c in cel) or None,
    )


def standalone(
    pool: str = "gpu",
    requests: Iterable[api.ResolvedDeviceRequest] | None = None,
    tmpl: api.PodTemplate | None = None,
) -> api.ReplicaMember:
    reqs = tuple(requests) if requests is not None else (gpu_request(),)
    return api.ReplicaMember(
        role="Standalone",
        node_pool_name=pool,
        device_requests=reqs or None,
        template=tmpl or template(),
    )


def gang(
    *,
    leader_pool: str = "gpu",
    worker_pool: str = "gpu",
    nodes: int = 1,
    leader_requests: Iterable[api.ResolvedDeviceRequest] | None = None,
    worker_requests: Iterable[api.ResolvedDeviceRequest] | None = None,
    leader: api.PodTemplate | None = None,
    worker: api.PodTemplate | None = None,
) -> tuple[api.ReplicaMember, api.ReplicaMember]:
    lead = tuple(leader_requests) if leader_requests is not None else (gpu_request(count=8),)
    work = tuple(worker_requests) if worker_requests is not None else (gpu_request(count=8),)
    return (
        api.ReplicaMember(
            role="Leader",
            node_pool_name=leader_pool,
            device_requests=lead or None,
            template=leader or template(),
        ),
        api.ReplicaMember(
            role="Worker",
            node_pool_name=worker_pool,
            device_requests=work or None,
            worker=api.WorkerSpec(nodes=nodes),
            template=worker or template(),
        ),
    )


def replica(
    *engines: api.ReplicaEngine,
    name: str = "qwen-a1b2c",
    namespace: str = "ml-team",
    cluster_name: str = "cluster-a",
    cache: str | None = None,
    mode: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> api.ModelReplica:
    return api.ModelReplica(
        metadata=api.ObjectMeta(name=name, namespace=namespace, labels=labels),
        spec=api.ModelReplicaSpec(
            cluster_name=cluster_name,
            model_cache_ref=api.ModelCacheRef(name=cache) if cache else None,
            serving=api.Serving(mode=mode) if mode else None,  # type: ignore[arg-type]
            engines=engines or (api.ReplicaEngine(name="main", members=(standalone(),)),),
        ),
    )


def engine(
    name: str = "main",
    *members: api.ReplicaMember,
    copies: int = 1,
    phase: str | None = None,
) -> api.ReplicaEngine:
    return api.ReplicaEngine(
        name=name,
        copies=copies,
        phase=phase,  # type: ignore[arg-type]
        members=members or (standalone(),),
    )


def pd_replica(
    *,
    decode_args: Iterable[str] = ("--model=Qwen/Qwen3-8B", "--port=8001"),
    **kwargs: Any,
) -> api.ModelReplica:
    return replica(
        engine("prefill", standalone(pool="prefill-pool"), phase="Prefill"),
        engine(
            "decode",
            standalone(pool="decode-pool", tmpl=template(container(args=decode_args))),
            phase="Decode",
            copies=2,
        ),
        mode="PrefillDecode",
        **kwargs,
    )


def resolve(
    needed: Iterable[Requirement], objects: Iterable[Mapping[str, Any]]
) -> dict[str, tuple[Mapping[str, Any], ...]]:
    """Each requirement resolved against ``objects`` as Crossplane does (kind, name, labels)."""
    available = list(objects)
    resolved: dict[str, tuple[Mapping[str, Any], ...]] = {}
    for requirement in needed:
        found = []
        for manifest in available:
            metadata = manifest.get("metadata") or {}
            if manifest.get("kind") != requirement.kind:
                continue
            if requirement.namespace is not None and metadata.get("namespace") != (
                requirement.namespace
            ):
                continue
            if requirement.match_name is not None:
                if metadata.get("name") != requirement.match_name:
                    continue
            else:
                labels = metadata.get("labels") or {}
                wanted = requirement.match_labels or {}
                if any(labels.get(k) != v for k, v in wanted.items()):
                    continue
            found.append(manifest)
        resolved[requirement.key] = tuple(found)
    return resolved


def observe(composite: Any, **required: Iterable[Mapping[str, Any]]) -> Observed[Any]:
    return Observed(composite=composite, required={k: tuple(v) for k, v in required.items()})


# --- ModelDeployment: the fleet as its requirements resolve, and the passes after -------------

# ``cache=NOT_FETCHED``: the ModelCache requirement has not been resolved yet.
NOT_FETCHED: Any = object()


def model_cache(
    name: str = "weights",
    *,
    namespace: str = "ml-team",
    selector: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    return api.to_dict(
        api.ModelCache(
            metadata=api.ObjectMeta(name=name, namespace=namespace),
            spec=api.ModelCacheSpec(
                source="HuggingFace",
                hugging_face=api.HuggingFaceSource(repo="Qwen/Qwen3-8B", size_gib=20),
                cluster_selector=api.LabelSelector(match_labels=dict(selector))
                if selector
                else None,
            ),
        )
    )


def deployment_inputs(
    deployment: api.ModelDeployment,
    clusters: Iterable[api.InferenceCluster | Mapping[str, Any]],
    *,
    replicas: Iterable[Mapping[str, Any]] = (),
    cache: Iterable[Mapping[str, Any]] = NOT_FETCHED,
) -> Observed[api.ModelDeployment]:
    """A first reconcile: the fleet (and the cache, unless ``NOT_FETCHED``) resolved."""
    required: dict[str, tuple[Mapping[str, Any], ...]] = {
        REQUIRE_CLUSTERS: tuple(c if isinstance(c, Mapping) else api.to_dict(c) for c in clusters),
        REQUIRE_REPLICAS: tuple(replicas),
    }
    if cache is not NOT_FETCHED:
        required[REQUIRE_CACHE] = tuple(cache)
    return Observed(composite=deployment, required=required)


def composed_observed(manifest: Mapping[str, Any], ready: bool | None) -> ObservedResource:
    """A composed object as the API server returns it; reporting Ready when ``ready`` is set."""
    seen = copy.deepcopy(dict(manifest))
    seen["metadata"]["uid"] = f"uid-{seen['metadata']['name']}"
    if ready is not None:
        seen["status"] = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return ObservedResource(manifest=seen)


def deployment_next_pass(
    previous: Observed[api.ModelDeployment],
    composition: Composition,
    *,
    ready: bool | Mapping[str, bool] | None = None,
) -> Observed[api.ModelDeployment]:
    """The following reconcile: every composed object exists, and the fleet lists the replicas.

    ``ready`` is what the objects report: one value for all, or one per key
    (keys left out report no status yet).
    """
    resources = {}
    for resource in composition.resources:
        state = ready.get(resource.key) if isinstance(ready, Mapping) else ready
        resources[resource.key] = composed_observed(resource.manifest, state)
    mine = [r.manifest for r in resources.values() if r.manifest["kind"] == "ModelReplica"]
    names = {m["metadata"]["name"] for m in mine}
    meta = previous.composite.metadata
    listed = previous.required.get(REQUIRE_REPLICAS)
    others = [
        r
        for r in (listed.items if listed is not None else ())
        if isinstance(r, api.ModelReplica)
        and r.metadata.name not in names
        and not (
            r.metadata.namespace == meta.namespace
            and r.metadata.label_map.get(LABEL_DEPLOYMENT) == meta.name
        )
    ]
    required = {**previous.required, REQUIRE_REPLICAS: (*others, *mine)}
    return Observed(composite=previous.composite, resources=resources, required=required)
