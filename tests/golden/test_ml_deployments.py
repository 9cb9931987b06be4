"""Golden end-to-end serving: ModelDeployment -> ModelReplicas -> workloads, endpoints, route.

Every object is produced by its own composer from the example manifests,
the way the control plane produces it: the InferenceClusters and the
InferenceGateway are converged through their composers (so ``gpuPools``, the
provider config and the gateway addresses are the published ones), each
composer's requirements are resolved against that world, and each reconcile
sees what the previous one composed. Review the expected files by eye:

* ``ml/deployment-<topology>.yaml``: the deployment, its first reconcile
  (replicas placed), its reconcile once the replicas report Ready (endpoints
  published), each endpoint's composition once its objects exist, and the
  ModelService routing to them;
* ``ml/replica-<topology>.yaml``: the replica and exactly what lands on its
  workload cluster (wrapped in provider-kubernetes Objects).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from modelplane_core import api
from modelplane_core.compose import (
    inference_cluster,
    inference_gateway,
    model_deployment,
    model_endpoint,
    model_replica,
    model_service,
)
from modelplane_core.compose.composition import Composition, Observed, Requirement
from modelplane_core.compose.inference_cluster import SERVING_STACK_KEY
from tests.golden_support import as_yaml, assert_golden
from tests.unit.compose.ml.fixtures import composed_observed, example, schema_problems
from tests.unit.compose.platform import fixtures as platform

READY = {"type": "Ready", "status": "True", "reason": "Available"}


@attrs.define
class World:
    """The control plane's objects, which requirements are resolved against."""

    objects: list[dict[str, Any]] = attrs.field(factory=list)

    def put(self, *objects: Mapping[str, Any]) -> None:
        for obj in objects:
            identity = _identity(obj)
            self.objects = [o for o in self.objects if _identity(o) != identity]
            self.objects.append(dict(obj))

    def resolve(self, requirements: Iterable[Requirement]) -> dict[str, tuple[Any, ...]]:
        return {r.key: tuple(o for o in self.objects if _matches(r, o)) for r in requirements}


def _identity(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def _matches(requirement: Requirement, obj: Mapping[str, Any]) -> bool:
    meta = obj["metadata"]
    labels = meta.get("labels") or {}
    return (
        obj["apiVersion"] == requirement.api_version
        and obj["kind"] == requirement.kind
        and requirement.match_name in (None, meta["name"])
        and requirement.namespace in (None, meta.get("namespace"))
        and all(labels.get(k) == v for k, v in (requirement.match_labels or {}).items())
    )


def published(
    cluster: api.InferenceCluster, classes: list[api.InferenceClass], address: str
) -> dict[str, Any]:
    """The InferenceCluster once its composer converged and Crossplane marked it Ready."""

    def healthy(key: str, manifest: Mapping[str, Any]) -> Mapping[str, Any]:
        status = dict(platform.ready_status(key, manifest))
        if key == SERVING_STACK_KEY:
            status["gateway"] = {"address": address}
        return status

    inputs = Observed(composite=cluster, required=platform.required_classes(cluster, classes))
    _, converged = platform.converge(inference_cluster.compose, inputs, healthy)
    assert converged.status["gateway"] == {"address": address}
    return {**api.to_dict(cluster), "status": {**converged.status, "conditions": [READY]}}


def front_door() -> dict[str, Any]:
    gateway = example("concepts", "inference-gateway.yaml")
    _, converged = platform.converge(inference_gateway.compose, Observed(composite=gateway))
    return {**api.to_dict(gateway), "status": dict(converged.status)}


def serve(
    name: str,
    deployment: api.ModelDeployment,
    service: api.ModelService,
    fleet: list[dict[str, Any]],
    *extras: Mapping[str, Any],
) -> None:
    """Reconcile ``deployment`` and ``service`` on ``fleet`` to serving; render the goldens."""
    assert api.validate(deployment) == []
    world = World()
    world.put(front_door(), *fleet, *extras)
    needed = model_deployment.requirements(deployment)

    first = model_deployment.compose(Observed(composite=deployment, required=world.resolve(needed)))
    replicas = [r for r in first.resources if r.manifest["kind"] == "ModelReplica"]
    assert replicas, "the example fleet takes the example deployment"
    world.put(*(r.manifest for r in replicas))
    workloads = [_replica(r.manifest, world) for r in replicas]

    running = Observed(
        composite=deployment,
        resources={r.key: composed_observed(r.manifest, ready=True) for r in replicas},
        required=world.resolve(needed),
    )
    second = model_deployment.compose(running)
    endpoints = [
        _endpoint(r.manifest, world)
        for r in second.resources
        if r.manifest["kind"] == "ModelEndpoint"
    ]
    assert len(endpoints) == len(replicas)

    routed = model_service.compose(
        Observed(composite=service, required=world.resolve(model_service.requirements(service)))
    )
    for composition in (first, second, *endpoints, routed):
        assert schema_problems(composition) == []
    assert routed.status["address"]
    assert_golden(
        f"ml/deployment-{name}",
        as_yaml(
            api.to_dict(deployment),
            first.to_dict(),
            second.to_dict(),
            *(e.to_dict() for e in endpoints),
            api.to_dict(service),
            routed.to_dict(),
        ),
    )
    (workload,) = workloads  # each example deployment is one replica
    assert_golden(f"ml/replica-{name}", workload)


def _replica(manifest: Mapping[str, Any], world: World) -> str:
    replica = api.from_dict(manifest)
    assert isinstance(replica, api.ModelReplica)
    required = world.resolve(model_replica.requirements(replica))
    composition = model_replica.compose(Observed(composite=replica, required=required))
    assert not composition.held
    assert schema_problems(composition) == []
    return as_yaml(dict(manifest), composition.to_dict())


def _endpoint(manifest: Mapping[str, Any], world: World) -> Composition:
    """The endpoint's composition once its Service and EndpointSlice exist; it is published."""
    endpoint = api.from_dict(manifest)
    assert isinstance(endpoint, api.ModelEndpoint)
    first = model_endpoint.compose(Observed(composite=endpoint))
    live = {r.key: composed_observed(r.manifest, ready=None) for r in first.resources}
    second = model_endpoint.compose(Observed(composite=endpoint, resources=live))
    world.put({**manifest, "status": dict(second.status)})
    return second


# --- the fleets ------------------------------------------------------------------------


def l4_fleet() -> list[dict[str, Any]]:
    return [
        published(
            example("concepts", "inference-cluster-gke.yaml"),
            [example("concepts", "inference-class-gke-l4.yaml")],
            "34.55.100.10",
        ),
        published(
            example("concepts", "inference-cluster-eks.yaml"),
            [example("concepts", "inference-class-eks-l4.yaml")],
            "a1b2c3-4d5e.elb.us-west-2.amazonaws.com",
        ),
    ]


def h100_cluster(nodes: int) -> dict[str, Any]:
    cluster: api.InferenceCluster = example("concepts", "inference-cluster-existing.yaml")
    (pool,) = cluster.spec.node_pools or ()
    scaled = attrs.evolve(
        cluster,
        spec=attrs.evolve(cluster.spec, node_pools=(attrs.evolve(pool, node_count=nodes),)),
    )
    return published(scaled, [example("concepts", "inference-class-h100-byo.yaml")], "10.40.0.5")


def h200_cluster() -> dict[str, Any]:
    """The byo example's shape with H200s (141 GB) and RWX storage, for the 480B gang."""
    h100: api.InferenceClass = example("concepts", "inference-class-h100-byo.yaml")
    gpu, nic = h100.spec.devices
    h200 = attrs.evolve(
        h100,
        metadata=api.ObjectMeta(name="h200-8x-byo"),
        spec=attrs.evolve(
            h100.spec,
            description="BYO 8x NVIDIA H200 141GB",
            devices=(
                attrs.evolve(gpu, capacity={"memory": api.DeviceCapacity(value="143771Mi")}),
                nic,
            ),
        ),
    )
    base: api.InferenceCluster = example("concepts", "inference-cluster-existing.yaml")
    existing = base.spec.cluster.existing
    assert existing is not None
    cluster = api.InferenceCluster(
        metadata=api.ObjectMeta(name="byo-us-west", labels={"modelplane.ai/region": "us-west"}),
        spec=api.InferenceClusterSpec(
            cluster=api.ClusterSourceSpec(
                source="Existing",
                existing=attrs.evolve(
                    existing,
                    secret_ref=api.KubeconfigSecretRef(name="byo-us-west-kubeconfig"),
                    cache=api.ExistingCacheSettings(storage_class_name="nfs-rwx"),
                ),
            ),
            node_pools=(api.NodePool(name="gpu-h200", class_name="h200-8x-byo", node_count=2),),
        ),
    )
    return published(cluster, [h200], "10.50.0.5")


def service_for(deployment: str) -> api.ModelService:
    """``concepts/model-service.yaml``, selecting ``deployment``."""
    service: api.ModelService = example("concepts", "model-service.yaml")
    selector = api.LabelSelector(match_labels={api.LABEL_DEPLOYMENT: deployment})
    return attrs.evolve(
        service,
        metadata=attrs.evolve(service.metadata, name=deployment),
        spec=api.ModelServiceSpec(endpoints=(api.EndpointSelector(selector=selector),)),
    )


# --- the goldens -----------------------------------------------------------------------


def test_single_node_deployment() -> None:
    """``concepts/model-deployment.yaml`` on two L4 clusters, behind ``model-service.yaml``."""
    serve(
        "single-node",
        example("concepts", "model-deployment.yaml"),
        example("concepts", "model-service.yaml"),
        l4_fleet(),
    )


def test_getting_started_deployment() -> None:
    """The tour: the seeds' qwen-demo on the starter cluster, behind the ``qwen`` service."""
    folder = ("getting-started", "gke")
    objects = platform.examples(*folder, "platform.yaml")
    classes = [o for o in objects if isinstance(o, api.InferenceClass)]
    (starter,) = [o for o in objects if isinstance(o, api.InferenceCluster)]
    serve(
        "getting-started",
        example(*folder, "model-deployment.yaml"),
        example("getting-started", "model-service.yaml"),
        [published(starter, classes, "34.55.100.10")],
    )


def test_multi_node_gang_deployment_with_cache() -> None:
    """``model-deployment-multinode.yaml``: the H100s are too small, the H200 gang fits."""
    deployment = example("concepts", "model-deployment-multinode.yaml")
    serve(
        "multi-node-cache",
        deployment,
        service_for("qwen3-coder"),
        [h100_cluster(nodes=2), h200_cluster()],
        api.to_dict(example("concepts", "model-cache.yaml")),
    )


def test_prefill_decode_deployment() -> None:
    """The single-node example's engine split into a prefill/decode pair (as a user would)."""
    deployment: api.ModelDeployment = example("concepts", "model-deployment.yaml")
    (engine,) = deployment.spec.engines
    (member,) = engine.members

    def phase_engine(name: str, phase: str, extra: tuple[str, ...], copies: int) -> api.Engine:
        container = member.template.spec.containers[0]
        args = (*(container.args or ()), *extra)
        spec = attrs.evolve(member.template.spec, containers=(attrs.evolve(container, args=args),))
        phased = attrs.evolve(member, template=attrs.evolve(member.template, spec=spec))
        return attrs.evolve(engine, name=name, phase=phase, copies=copies, members=(phased,))

    transfer = '--kv-transfer-config={"kv_connector":"NixlConnector","kv_role":"kv_both"}'
    pd = attrs.evolve(
        deployment,
        metadata=attrs.evolve(deployment.metadata, name="qwen3-8b-pd"),
        spec=attrs.evolve(
            deployment.spec,
            serving=api.Serving(mode="PrefillDecode"),
            engines=(
                phase_engine("prefill", "Prefill", (transfer,), 1),
                phase_engine("decode", "Decode", (transfer, "--port=8001"), 2),
            ),
        ),
    )
    # One prefill and two decode copies take three nodes: only the scaled-up H100 pool fits.
    serve("prefill-decode", pd, service_for("qwen3-8b-pd"), [*l4_fleet(), h100_cluster(nodes=4)])
