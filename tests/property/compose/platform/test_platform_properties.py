"""Properties of pool publication and of the platform composers over random inputs."""

from __future__ import annotations

import random
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelplane_core import api
from modelplane_core.api import infrastructure as infra
from modelplane_core.api.codec import structure
from modelplane_core.compose import (
    aks_cluster,
    inference_cluster,
    nebius_cluster,
    serving_stack,
    vultr_cluster,
)
from modelplane_core.compose.composition import Observed
from modelplane_core.compose.platform.cluster_access import CREDENTIALS_KEY
from modelplane_core.compose.platform.pools import publish_pools
from tests.unit.compose.platform.fixtures import (
    NEBIUS_PROVIDER_CONFIG,
    converge,
    inference_class,
    next_pass,
    ready_status,
    required_classes,
    schema_problems,
)

CLASS_NAMES = ["l4", "h100", "a100", "gone"]
POOL_NAMES = ["a", "b", "c", "d"]
SOURCES = ["Existing", "GKE", "EKS", "AKS", "Vultr", "Nebius"]
# Zones a pool of each source names (GKE/EKS need them; AKS zones are "1".."3").
ZONES: dict[str, tuple[str, ...]] = {
    "GKE": ("us-west-2a",),
    "EKS": ("us-west-2a",),
    "AKS": ("1",),
    "Existing": ("us-west-2a",),
}
BAD_KINDS = ["no-device-class", "bad-quantity", "bad-version", "duplicate-device"]

quick = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def devices(draw: st.DrawFn, bad: str | None) -> tuple[api.Device, ...]:
    """A class's devices; ``bad`` names the one defect to plant, if any."""
    count = draw(st.integers(1, 8))
    memory = draw(st.sampled_from(["23034Mi", "80Gi", "81559Mi", "1.5T", "40960Mi"]))
    gpu = api.Device(
        name="gpu",
        driver="gpu.nvidia.com",
        device_class_name=None if bad == "no-device-class" else "gpu.nvidia.com",
        count=count,
        attributes={
            "architecture": api.DeviceAttribute(string=draw(st.sampled_from(["Hopper", "Ada"]))),
            "cc": api.DeviceAttribute(version="9.0" if bad == "bad-version" else "9.0.0"),
        },
        capacity={"memory": api.DeviceCapacity(value="80 GB" if bad == "bad-quantity" else memory)},
    )
    found = [gpu]
    if draw(st.booleans()):
        found.append(
            api.Device(name="nic", claim="Synthetic", driver="nic.nvidia.com", count=count)
        )
    if bad == "duplicate-device":
        found.append(gpu)
    return tuple(found)


@st.composite
def fleets(
    draw: st.DrawFn,
) -> tuple[api.InferenceCluster, list[api.InferenceClass], set[str]]:
    """A cluster, the classes that exist, and the names of the classes built valid."""
    source = draw(st.sampled_from(SOURCES))
    classes: list[api.InferenceClass] = []
    valid: set[str] = set()
    for name in CLASS_NAMES[:-1]:  # "gone" never exists
        if not draw(st.booleans()):
            continue
        bad = draw(st.one_of(st.none(), st.sampled_from(BAD_KINDS)))
        provider = source if source != "Existing" else draw(st.sampled_from([None, "GKE"]))
        cls = inference_class(name, devices=draw(devices(bad)), provider=provider)
        classes.append(cls)
        if bad is None:
            valid.add(name)
    pools = draw(
        st.lists(
            st.builds(
                lambda n, c, count, grow: api.NodePool(
                    name=n,
                    class_name=c,
                    node_count=count,
                    # maxNodeCount is at least 1 when set (a valid pool's bound).
                    max_node_count=max(count + grow, 1) if grow is not None else None,
                    zones=ZONES.get(source),
                ),
                st.sampled_from(POOL_NAMES),
                st.sampled_from(CLASS_NAMES),
                st.integers(0, 6),
                st.one_of(st.none(), st.integers(0, 4)),
            ),
            max_size=6,
        )
    )
    settings_ = api.ClusterSourceSpec(
        source=source,  # type: ignore[arg-type]
        existing=api.ExistingCluster(secret_ref=api.KubeconfigSecretRef(name="kc"))
        if source == "Existing"
        else None,
        gke=api.GKEClusterSettings(project="my-project", region="us-central1")
        if source == "GKE"
        else None,
        eks=api.EKSClusterSettings(region="us-west-2") if source == "EKS" else None,
        aks=api.AKSClusterSettings(location="westeurope") if source == "AKS" else None,
        vultr=api.VultrClusterSettings(region="ewr") if source == "Vultr" else None,
        nebius=api.NebiusClusterSettings() if source == "Nebius" else None,
    )
    cluster = api.InferenceCluster(
        metadata=api.ObjectMeta(name="fleet-1"),
        spec=api.InferenceClusterSpec(cluster=settings_, node_pools=tuple(pools) or None),
    )
    return cluster, classes, valid


def expected_pools(
    cluster: api.InferenceCluster, classes: list[api.InferenceClass], valid: set[str]
) -> list[tuple[str, int]]:
    """The oracle: first pool of each name whose class exists and was built valid
    (and, on Vultr, that runs at least one node: a VKE pool cannot be empty)."""
    existing = {c.metadata.name for c in classes}
    seen: set[str] = set()
    published = []
    vultr = cluster.spec.cluster.source == "Vultr"
    for pool in cluster.spec.node_pools or ():
        if pool.name in seen:
            continue
        seen.add(pool.name)
        if vultr and pool.node_count == 0:
            continue
        if pool.class_name in existing and pool.class_name in valid:
            published.append((pool.name, pool.node_count))
    return published


@quick
@given(fleets())
def test_published_pools_are_exactly_the_valid_ones(
    fleet: tuple[api.InferenceCluster, list[api.InferenceClass], set[str]],
) -> None:
    cluster, classes, valid = fleet
    pools, problems = publish_pools(cluster.spec, {c.metadata.name or "": c for c in classes})
    assert [(p.name, p.nodes) for p in pools] == expected_pools(cluster, classes, valid)
    by_name = {c.metadata.name: c for c in classes}
    for pool in pools:
        assert (
            pool.devices
            == by_name[
                next(p.class_name for p in cluster.spec.node_pools or () if p.name == pool.name)
            ].spec.devices
        )
    withheld = {p.pool for p in problems if not p.published}
    published = {p.name for p in pools}
    names = {p.name for p in cluster.spec.node_pools or ()}
    # Every pool name is either published or reported (duplicates are both).
    assert names <= published | withheld
    for problem in problems:
        assert problem.path.startswith("spec.nodePools[")


@quick
@given(fleets(), st.randoms(use_true_random=False))
def test_inference_cluster_is_deterministic_and_valid(
    fleet: tuple[api.InferenceCluster, list[api.InferenceClass], set[str]], rng: random.Random
) -> None:
    cluster, classes, _ = fleet
    required = required_classes(cluster, classes)
    inputs = Observed(composite=cluster, required=required)
    first = inference_cluster.compose(inputs)
    shuffled = list(required.items())
    rng.shuffle(shuffled)
    again = inference_cluster.compose(Observed(composite=cluster, required=dict(shuffled)))
    assert first.to_dict() == again.to_dict()
    assert schema_problems(first) == []
    second_inputs = next_pass(inputs, first, ready_status)
    second = inference_cluster.compose(second_inputs)
    assert schema_problems(second) == []
    resources = list(second_inputs.resources.items())
    rng.shuffle(resources)
    reordered = inference_cluster.compose(
        Observed(composite=cluster, required=dict(shuffled), resources=dict(resources))
    )
    assert reordered.to_dict() == second.to_dict()
    # A cluster never loses the resources it has because of its inputs.
    assert set(second_inputs.resources) <= {r.key for r in second.resources}


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mangled_class(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A class as the API might hand it over after a bad edit: any JSON in any field."""
    base = api.to_dict(inference_class(name))
    spec = dict(base["spec"])
    field = draw(st.sampled_from(["devices", "provisioning", "description", "extra"]))
    spec[field] = draw(JSONISH)
    if draw(st.booleans()):
        device = dict(base["spec"]["devices"][0])
        device[draw(st.sampled_from(["capacity", "attributes", "count", "claim", "driver"]))] = (
            draw(JSONISH)
        )
        spec["devices"] = [device]
    return {**base, "spec": spec}


@quick
@given(st.data())
def test_arbitrary_class_contents_never_crash_the_composer(data: st.DataObject) -> None:
    cluster = api.InferenceCluster(
        metadata=api.ObjectMeta(name="fleet-1"),
        spec=api.InferenceClusterSpec(
            cluster=api.ClusterSourceSpec(
                source="Existing",
                existing=api.ExistingCluster(secret_ref=api.KubeconfigSecretRef(name="kc")),
            ),
            node_pools=(
                api.NodePool(name="a", class_name="l4"),
                api.NodePool(name="b", class_name="h100"),
            ),
        ),
    )
    required = {
        "class-h100": (api.to_dict(inference_class("h100")),),
        "class-l4": (data.draw(mangled_class("l4")),),
    }
    composition = inference_cluster.compose(Observed(composite=cluster, required=required))
    names = [p["name"] for p in composition.status["gpuPools"]]
    assert "b" in names
    assert schema_problems(composition) == []


@st.composite
def stacks(draw: st.DrawFn) -> api.ServingStack:
    identity = draw(
        st.sampled_from([None, "GoogleApplicationCredentials", "AWSWebIdentityCredentials"])
    )
    secrets = [api.ClusterSecret(type="Kubeconfig", name="kc", key="kubeconfig")]
    if identity:
        secrets.append(api.ClusterSecret(type=identity, name="id", key="k"))  # type: ignore[arg-type]
    version = draw(st.sampled_from([None, "v1.17.1", "v1.18.2"]))
    return api.ServingStack(
        metadata=api.ObjectMeta(name="stack", namespace="modelplane-system"),
        spec=api.ServingStackSpec(
            secrets=tuple(secrets),
            nvidia_driver_root=draw(st.sampled_from(["/", "/home/kubernetes/bin/nvidia"])),
            versions=api.StackVersions(cert_manager=version) if version else None,
        ),
    )


@settings(max_examples=10, deadline=None)
@given(stacks(), st.randoms(use_true_random=False))
def test_serving_stack_converges_to_valid_ready_resources(
    stack: api.ServingStack, rng: random.Random
) -> None:
    observed, composition = converge(serving_stack.compose, Observed(composite=stack))
    assert schema_problems(composition) == []
    assert all(r.ready for r in composition.resources)
    resources = list(observed.resources.items())
    rng.shuffle(resources)
    again = serving_stack.compose(attrs.evolve(observed, resources=dict(resources)))
    assert again.to_dict() == composition.to_dict()


@quick
@given(fleets(), st.data())
def test_a_deleted_or_rejected_class_never_unpublishes_a_pool(
    fleet: tuple[api.InferenceCluster, list[api.InferenceClass], set[str]], data: st.DataObject
) -> None:
    """Withdrawing a published pool makes the scheduler drop every replica running on it.

    Whatever happens to the classes afterwards (deleted, rejected by a bad
    edit, unreadable), each pool published before stays published as it was,
    and the condition and a Warning event say why.
    """
    cluster, classes, _ = fleet
    first = inference_cluster.compose(
        Observed(composite=cluster, required=required_classes(cluster, classes))
    )
    before = {p["name"]: p for p in first.status["gpuPools"]}
    published = attrs.evolve(cluster, status=structure(first.status, api.InferenceClusterStatus))
    broken = data.draw(st.lists(st.sampled_from(CLASS_NAMES), unique=True), label="broken")
    how = data.draw(st.sampled_from(["deleted", "rejected", "unreadable"]), label="how")
    required = required_classes(published, [c for c in classes if c.metadata.name not in broken])
    for name in broken:
        key = f"class-{name}"
        if key not in required or how == "deleted":
            continue
        bad = api.to_dict(inference_class(name, devices=data.draw(devices("bad-quantity"))))
        if how == "unreadable":
            bad["spec"]["devices"] = "not a list"
        required[key] = (bad,)
    after = inference_cluster.compose(Observed(composite=published, required=required))
    now = {p["name"]: p for p in after.status["gpuPools"]}
    assert {name: now.get(name) for name in before} == before
    class_of = {p.name: p.class_name for p in reversed(cluster.spec.node_pools or ())}
    if any(class_of[name] in broken for name in before):
        assert any(e.reason == "PoolsHeld" and e.type == "Warning" for e in after.events)
        assert after.condition("PoolsPublished").reason == "PoolsHeld"  # type: ignore[union-attr]


# --- the AKS, Vultr and Nebius cluster composers --------------------------------------------

CLOUD_POOL_NAMES = ["system", "gpua", "gpub", "gpuc"]


def _pools(draw: st.DrawFn, build: Any, low: int) -> tuple[Any, ...]:
    """1-4 distinct pools (``system`` is the System one), each with random, sometimes
    inconsistent bounds: ``build(name, role, nodeCount, minNodeCount, maxNodeCount)``."""
    names = draw(st.lists(st.sampled_from(CLOUD_POOL_NAMES), min_size=1, max_size=4, unique=True))
    pools = []
    for name in names:
        count = draw(st.integers(low, 4))
        maximum = draw(st.one_of(st.none(), st.integers(max(low, 1), 6)))
        minimum = draw(st.one_of(st.none(), st.integers(low, 4))) if maximum is not None else None
        pools.append(build(name, "System" if name == "system" else "GPU", count, minimum, maximum))
    return tuple(pools)


@st.composite
def aks_clusters(draw: st.DrawFn) -> infra.AKSCluster:
    def pool(name: str, role: str, count: int, low: int | None, high: int | None) -> Any:
        return infra.AKSNodePool(
            name=name,
            role=role,  # type: ignore[arg-type]
            vm_size="Standard_D4s_v5" if role == "System" else "Standard_NC24ads_A100_v4",
            node_count=count,
            min_node_count=low if low is not None else 0,
            max_node_count=high if high is not None else count,
            zones=draw(st.sampled_from([None, ("1",), ("1", "2")])),
            gpu=infra.AKSGpu(accelerator_type="nvidia-a100") if role == "GPU" else None,
            fabric=draw(st.sampled_from(["None", "InfiniBand"])) if role == "GPU" else "None",
        )

    return infra.AKSCluster(
        metadata=api.ObjectMeta(name="aks-1", namespace="modelplane-system"),
        spec=infra.AKSClusterSpec(location="westeurope", node_pools=_pools(draw, pool, 0)),
    )


@st.composite
def vultr_clusters(draw: st.DrawFn) -> infra.VultrCluster:
    def pool(name: str, role: str, count: int, low: int | None, high: int | None) -> Any:
        return infra.VultrNodePool(
            name=name,
            role=role,  # type: ignore[arg-type]
            plan="vc2-6c-16gb" if role == "System" else "vcg-l40s-16c-180g-48vram",
            node_count=count,
            min_node_count=low,
            max_node_count=high,
            gpu=infra.VultrGpu(accelerator_type="nvidia-l40s") if role == "GPU" else None,
        )

    return infra.VultrCluster(
        metadata=api.ObjectMeta(name="vke-1", namespace="modelplane-system"),
        spec=infra.VultrClusterSpec(region="ewr", node_pools=_pools(draw, pool, 1)),
    )


@st.composite
def nebius_clusters(draw: st.DrawFn) -> infra.NebiusCluster:
    def pool(name: str, role: str, count: int, low: int | None, high: int | None) -> Any:
        fabric = draw(st.sampled_from([None, "fabric-2", "fabric-3"])) if role == "GPU" else None
        return infra.NebiusNodePool(
            name=name,
            role=role,  # type: ignore[arg-type]
            platform="cpu-d3" if role == "System" else "gpu-h100-sxm",
            preset="4vcpu-16gb" if role == "System" else "1gpu-16vcpu-200gb",
            node_count=count,
            min_node_count=low,
            max_node_count=high,
            gpu=infra.NebiusGpu(accelerator_type="nvidia-h100") if role == "GPU" else None,
            fabric=infra.NebiusFabric(
                type="InfiniBand", infiniband=infra.NebiusInfiniBand(fabric=fabric)
            )
            if fabric
            else None,
        )

    return infra.NebiusCluster(
        metadata=api.ObjectMeta(name="mk8s-1", namespace="modelplane-system"),
        spec=infra.NebiusClusterSpec(node_pools=_pools(draw, pool, 0)),
    )


CLOUD_COMPOSERS: dict[str, tuple[Any, Any]] = {
    "aks": (aks_clusters(), aks_cluster.compose),
    "vultr": (vultr_clusters(), vultr_cluster.compose),
    "nebius": (nebius_clusters(), nebius_cluster.compose),
}


def _cloud_inputs(composite: Any) -> Observed[Any]:
    required = (
        {CREDENTIALS_KEY: (NEBIUS_PROVIDER_CONFIG,)}
        if isinstance(composite, infra.NebiusCluster)
        else {}
    )
    return Observed(composite=composite, required=required)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(CLOUD_COMPOSERS)), st.data(), st.randoms(use_true_random=False))
def test_cloud_clusters_compose_valid_resources_whatever_the_pools(
    cloud: str, data: st.DataObject, rng: random.Random
) -> None:
    """Valid manifests on every pass; converged, everything is ready unless a pool is refused;
    the same inputs in any order give the same output."""
    strategy, compose = CLOUD_COMPOSERS[cloud]
    composite = data.draw(strategy, label="composite")
    inputs = _cloud_inputs(composite)
    first = compose(inputs)
    assert schema_problems(first) == []
    observed, converged = converge(compose, inputs)
    assert schema_problems(converged) == []
    resources = list(observed.resources.items())
    rng.shuffle(resources)
    again = compose(attrs.evolve(observed, resources=dict(resources)))
    assert again.to_dict() == converged.to_dict()
    accepted = converged.condition("Accepted")
    pools = converged.condition("NodePoolsReady")
    assert accepted is not None
    if accepted.status == "True" and pools is not None and pools.reason != "InvalidNodePool":
        assert all(r.ready for r in converged.resources)
        assert converged.ready is not False
        assert pools.status == "True"
    if accepted.status == "False":
        assert converged.held
        assert [e.type for e in converged.events] == ["Warning"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(CLOUD_COMPOSERS)), st.data())
def test_cloud_clusters_only_remove_what_the_spec_removed(cloud: str, data: st.DataObject) -> None:
    """Whatever the next spec is (valid or not), every running resource stays desired
    unless it belongs to a pool the spec no longer names (or to a fabric no pool uses)."""
    strategy, compose = CLOUD_COMPOSERS[cloud]
    before = data.draw(strategy, label="before")
    after = data.draw(strategy, label="after")
    observed, _ = converge(compose, _cloud_inputs(before))
    composition = compose(attrs.evolve(observed, composite=after))
    kept = {r.key for r in composition.resources}
    names = {p.name for p in after.spec.node_pools}
    fabrics = {
        p.fabric.infiniband.fabric
        for p in after.spec.node_pools
        if isinstance(p, infra.NebiusNodePool) and p.fabric and p.fabric.infiniband
    }
    for key in observed.resources:
        pool = key.partition("-")[2] if key.startswith(("nodepool-", "nodegroup-")) else None
        if pool is not None and pool not in names:
            continue
        if key.startswith("gpu-cluster-") and key.removeprefix("gpu-cluster-") not in fabrics:
            continue
        if key == "release-network-operator" and not any(
            getattr(p, "fabric", None) == "InfiniBand" for p in after.spec.node_pools
        ):
            continue
        assert key in kept, key
