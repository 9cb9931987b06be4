"""Seeded synthetic fleets for benchmarks, simulations and property tests.

A realistic fleet is built from a handful of hardware classes (L4, A100,
L40S, 8xH100 and 8xH200 with an InfiniBand fabric) spread over many clusters
and regions, and a mix of deployments: small single-GPU chat models, 8-GPU
models, multi-node gangs and prefill/decode pairs. The same seed always gives
the same fleet, so numbers measured on it are comparable across runs.
"""

from __future__ import annotations

import random

import attrs

from modelplane_core.api.devices import Device, DeviceAttribute, DeviceCapacity
from modelplane_core.api.inference_class import InferenceClass, InferenceClassSpec
from modelplane_core.api.inference_cluster import (
    CacheStorageStatus,
    ClusterSourceSpec,
    ExistingCacheSettings,
    ExistingCluster,
    GatewayStatus,
    InferenceCluster,
    InferenceClusterSpec,
    InferenceClusterStatus,
    KubeconfigSecretRef,
    NodePool,
    ProviderConfigReference,
)
from modelplane_core.api.meta import Condition, LabelSelector, ObjectMeta, Taint
from modelplane_core.api.model_cache import HuggingFaceSource, ModelCache, ModelCacheSpec
from modelplane_core.api.model_deployment import (
    DeviceRequest,
    DeviceSelector,
    Engine,
    EngineMember,
    ModelCacheRef,
    ModelDeployment,
    ModelDeploymentSpec,
    NodeSelector,
    Serving,
    WorkerSpec,
)
from modelplane_core.api.pods import Container, PodSpec, PodTemplate
from modelplane_core.compose.platform.pools import review_pools

GPU = "gpu.nvidia.com"
RWX_STORAGE_CLASS = "nfs-rwx"
REGION_LABEL = "modelplane.ai/region"
REGIONS = ("us-east", "us-west", "us-central", "eu-central", "eu-north", "ap-south")


def _gpu(memory: str, architecture: str, compute: str, count: int) -> Device:
    return Device(
        name="gpu",
        driver=GPU,
        device_class_name=GPU,
        count=count,
        attributes={
            "architecture": DeviceAttribute(string=architecture),
            "cudaComputeCapability": DeviceAttribute(version=compute),
        },
        capacity={"memory": DeviceCapacity(value=memory)},
    )


_INFINIBAND = Device(
    name="nic",
    driver="nic.nvidia.com",
    claim="Synthetic",
    count=8,
    attributes={"linkType": DeviceAttribute(string="infiniband")},
)

CLASS_DEVICES: dict[str, tuple[Device, ...]] = {
    "l4-1x": (_gpu("23034Mi", "Ada Lovelace", "8.9.0", 1),),
    "a100-40-1x": (_gpu("40960Mi", "Ampere", "8.0.0", 1),),
    "l40s-1x": (_gpu("46068Mi", "Ada Lovelace", "8.9.0", 1),),
    "h100-8x": (_gpu("81559Mi", "Hopper", "9.0.0", 8), _INFINIBAND),
    "h200-8x": (_gpu("143771Mi", "Hopper", "9.0.0", 8), _INFINIBAND),
}


def classes() -> list[InferenceClass]:
    return [
        InferenceClass(metadata=ObjectMeta(name=name), spec=InferenceClassSpec(devices=devices))
        for name, devices in CLASS_DEVICES.items()
    ]


_CLASSES: dict[str, InferenceClass] = {c.metadata.name or "": c for c in classes()}


@attrs.frozen(kw_only=True)
class SyntheticFleet:
    classes: tuple[InferenceClass, ...]
    clusters: tuple[InferenceCluster, ...]
    deployments: tuple[ModelDeployment, ...]
    # One per gang deployment: multi-node engines stage their weights through a cache.
    caches: tuple[ModelCache, ...] = ()

    @property
    def objects(self) -> list[object]:
        """Everything, platform first: what ``simulation.dry_run`` takes."""
        return [*self.classes, *self.clusters, *self.caches, *self.deployments]


def _cluster(rng: random.Random, index: int) -> InferenceCluster:
    name = f"cluster-{index:04d}"
    region = REGIONS[index % len(REGIONS)]
    pool_classes = rng.sample(sorted(CLASS_DEVICES), k=rng.choice((1, 1, 2, 2, 3)))
    pools = []
    for class_name in sorted(pool_classes):
        big = class_name.endswith("8x")
        pools.append(
            (f"gpu-{class_name}", class_name, rng.randint(1, 4) if big else rng.randint(2, 16))
        )
    taints = (
        (Taint(key="modelplane.ai/maintenance", value="on", effect="NoSchedule"),)
        if rng.random() < 0.03
        else None
    )
    spec = InferenceClusterSpec(
        cluster=ClusterSourceSpec(
            source="Existing",
            existing=ExistingCluster(
                secret_ref=KubeconfigSecretRef(name=f"{name}-kubeconfig"),
                cache=ExistingCacheSettings(storage_class_name=RWX_STORAGE_CLASS),
            ),
        ),
        node_pools=tuple(NodePool(name=p, class_name=c, node_count=n) for p, c, n in pools),
        taints=taints,
    )
    return InferenceCluster(
        metadata=ObjectMeta(
            name=name, labels={REGION_LABEL: region, "tier": rng.choice(("prod", "dev"))}
        ),
        spec=spec,
        status=InferenceClusterStatus(
            provider_config_ref=ProviderConfigReference(name=f"{name}-pc"),
            gateway=GatewayStatus(address=f"10.{index // 250}.{index % 250}.1"),
            cache=CacheStorageStatus(storage_class_name=RWX_STORAGE_CLASS),
            # Published exactly as the InferenceCluster composer publishes pools.
            gpu_pools=review_pools(spec, _CLASSES).gpu_pools,
            conditions=(
                Condition(type="Ready", status="True" if rng.random() > 0.02 else "False"),
            ),
        ),
    )


def _member(
    role: str, selectors: tuple[str, ...], count: int, worker_nodes: int | None = None
) -> EngineMember:
    return EngineMember(
        role=role,  # type: ignore[arg-type]
        node_selector=NodeSelector(
            devices=(
                DeviceRequest(
                    name="gpu",
                    count=count,
                    selectors=tuple(DeviceSelector(cel=s) for s in selectors),
                ),
            )
        ),
        worker=WorkerSpec(nodes=worker_nodes) if worker_nodes else None,
        template=PodTemplate(
            spec=PodSpec(containers=(Container(name="engine", image="vllm/vllm-openai:v0.23.0"),))
        ),
    )


def _memory(at_least: str) -> str:
    return f'device.capacity["{GPU}"].memory.compareTo(quantity("{at_least}")) >= 0'


HOPPER = f'device.attributes["{GPU}"].architecture == "Hopper"'
FABRIC = 'device.attributes["nic.nvidia.com"].linkType == "infiniband"'


def _deployment(rng: random.Random, index: int) -> ModelDeployment:
    name = f"model-{index:04d}"
    shape = rng.choices(("small", "medium", "large", "gang", "pd"), weights=(45, 25, 15, 10, 5))[0]
    cache = None
    serving = None
    engines: tuple[Engine, ...]
    if shape == "small":
        engines = (
            Engine(
                name="engine",
                members=(_member("Standalone", (_memory(rng.choice(("16Gi", "20Gi"))),), 1),),
            ),
        )
    elif shape == "medium":
        engines = (
            Engine(
                name="engine",
                members=(_member("Standalone", (_memory("40Gi"),), 1),),
                copies=rng.choice((1, 2)),
            ),
        )
    elif shape == "large":
        engines = (
            Engine(name="engine", members=(_member("Standalone", (HOPPER, _memory("80Gi")), 8),)),
        )
    elif shape == "gang":
        cache = ModelCacheRef(name=f"{name}-weights")
        engines = (
            Engine(
                name="engine",
                members=(
                    _member("Leader", (_memory("120Gi"),), 8),
                    _member("Worker", (_memory("120Gi"),), 8, worker_nodes=1),
                ),
            ),
        )
    else:
        serving = Serving(mode="PrefillDecode")
        engines = (
            Engine(name="prefill", phase="Prefill", members=(_member("Standalone", (HOPPER,), 8),)),
            Engine(name="decode", phase="Decode", members=(_member("Standalone", (HOPPER,), 8),)),
        )
    selector = (
        LabelSelector(match_labels={REGION_LABEL: rng.choice(REGIONS)})
        if rng.random() < 0.2
        else None
    )
    return ModelDeployment(
        metadata=ObjectMeta(name=name, namespace=f"team-{index % 7}"),
        spec=ModelDeploymentSpec(
            replicas=rng.randint(1, 4 if shape in ("small", "medium") else 2),
            cluster_selector=selector,
            model_cache_ref=cache,
            serving=serving,
            engines=engines,
        ),
    )


def _cache(deployment: ModelDeployment, index: int) -> ModelCache | None:
    """A regional cache for a gang's weights: staged in one region, where the gang may run.

    A cache without a selector is staged on every cluster; hundreds of 500 GiB
    models on every cluster of a large fleet is not a fleet anyone runs.
    """
    ref = deployment.spec.model_cache_ref
    if ref is None:
        return None
    selector = deployment.spec.cluster_selector
    pinned = (selector.match_labels or {}) if selector else {}
    region = pinned.get(REGION_LABEL, REGIONS[index % len(REGIONS)])
    return ModelCache(
        metadata=ObjectMeta(name=ref.name, namespace=deployment.metadata.namespace),
        spec=ModelCacheSpec(
            source="HuggingFace",
            hugging_face=HuggingFaceSource(repo=f"example/{ref.name}", size_gib=500),
            cluster_selector=LabelSelector(match_labels={REGION_LABEL: region}),
        ),
    )


def fleet(clusters: int = 200, deployments: int = 200, seed: int = 0) -> SyntheticFleet:
    """A reproducible fleet of ``clusters`` clusters and ``deployments`` deployments."""
    rng = random.Random(seed)
    built_clusters = tuple(_cluster(rng, i) for i in range(clusters))
    built_deployments = tuple(_deployment(rng, i) for i in range(deployments))
    return SyntheticFleet(
        classes=tuple(classes()),
        clusters=built_clusters,
        deployments=built_deployments,
        caches=tuple(c for i, d in enumerate(built_deployments) if (c := _cache(d, i)) is not None),
    )
