"""Properties of ModelReplica composition over generated valid replicas.

For any valid replica: composition is deterministic, every produced manifest
validates against its real schema, every pod of every member is pinned to
that member's pool, and every device request becomes a ResourceClaimTemplate
request with the same count and selectors, claimed by that member's pods.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelplane_core import api
from modelplane_core.api.meta import LABEL_POOL
from modelplane_core.compose import model_replica
from modelplane_core.compose.composition import Composition
from tests.unit.compose.ml.fixtures import (
    cluster,
    container,
    inner,
    inner_of,
    observe,
    pod_templates,
    schema_problems,
    template,
)

LABEL = st.from_regex(r"[a-z]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
NAMESPACE = st.one_of(
    LABEL, st.from_regex(r"[a-z0-9]{1,3}[a-z0-9-]{40,58}[a-z0-9]", fullmatch=True)
)
REPLICA_NAME = st.one_of(
    LABEL,
    st.from_regex(r"[a-z0-9]([a-z0-9.-]{60,120})[a-z0-9]", fullmatch=True).filter(
        lambda s: ".." not in s and ".-" not in s and "-." not in s
    ),
)
CEL = st.sampled_from(
    [
        'device.driver == "gpu.nvidia.com"',
        'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0',
        'device.attributes["gpu.nvidia.com"].architecture == "Hopper"',
    ]
)


@st.composite
def requests(draw: st.DrawFn, *, allow_none: bool) -> tuple[api.ResolvedDeviceRequest, ...] | None:
    if allow_none and draw(st.booleans()):
        return None
    names = draw(st.lists(LABEL, min_size=1, max_size=3, unique=True))
    return tuple(
        api.ResolvedDeviceRequest(
            name=name,
            count=draw(st.integers(1, 8)),
            device_class_name=draw(st.sampled_from(["gpu.nvidia.com", "nic.example.com"])),
            selectors=tuple(api.DeviceSelector(cel=c) for c in draw(st.lists(CEL, max_size=2)))
            or None,
        )
        for name in names
    )


def member_template(draw: st.DrawFn) -> api.PodTemplate:
    env = (api.EnvVar(name="HF_HOME", value="/tmp"),) if draw(st.booleans()) else None
    return template(
        container(args=("--model=m", "--port=8001"), env=env),
        labels={"team": draw(LABEL)} if draw(st.booleans()) else None,
    )


@st.composite
def engines(draw: st.DrawFn, name: str, phase: str | None) -> api.ReplicaEngine:
    pool = draw(LABEL)
    if draw(st.booleans()):
        members: tuple[api.ReplicaMember, ...] = (
            api.ReplicaMember(
                role="Standalone",
                node_pool_name=pool,
                device_requests=draw(requests(allow_none=False)),
                template=member_template(draw),
            ),
        )
    else:
        leader_claims = draw(requests(allow_none=True))
        members = (
            api.ReplicaMember(
                role="Leader",
                node_pool_name=pool,
                device_requests=leader_claims,
                template=member_template(draw),
            ),
            api.ReplicaMember(
                role="Worker",
                node_pool_name=draw(st.sampled_from([pool, f"{pool}-w"])),
                device_requests=draw(requests(allow_none=False)),
                worker=api.WorkerSpec(nodes=draw(st.integers(1, 8))),
                template=member_template(draw),
            ),
        )
    return api.ReplicaEngine(
        name=name,
        copies=draw(st.integers(1, 4)),
        phase=phase,
        members=members,  # type: ignore[arg-type]
    )


@st.composite
def replicas(draw: st.DrawFn) -> api.ModelReplica:
    pd = draw(st.booleans())
    if pd:
        engine_list = (draw(engines("prefill", "Prefill")), draw(engines("decode", "Decode")))
    else:
        names = draw(st.lists(LABEL, min_size=1, max_size=3, unique=True))
        engine_list = tuple(draw(engines(n, None)) for n in names)
    return api.ModelReplica(
        metadata=api.ObjectMeta(name=draw(REPLICA_NAME), namespace=draw(NAMESPACE)),
        spec=api.ModelReplicaSpec(
            cluster_name="cluster-a",
            model_cache_ref=api.ModelCacheRef(name=draw(LABEL)) if draw(st.booleans()) else None,
            serving=api.Serving(mode="PrefillDecode") if pd else None,
            engines=engine_list,
        ),
    )


def compose(replica: api.ModelReplica) -> Composition:
    assert api.validate(replica) == []
    return model_replica.compose(observe(replica, cluster=[cluster("cluster-a")]))


def member_pods(out: Composition, engine: api.ReplicaEngine) -> list[tuple[api.ReplicaMember, Any]]:
    pods = pod_templates(inner_of(out, model_replica.workload_key(engine.name)))
    members = sorted(engine.members, key=lambda m: m.role not in {"Leader", "Standalone"})
    return list(zip(members, pods, strict=True))


@settings(max_examples=50)
@given(replicas())
def test_composition_is_deterministic(replica: api.ModelReplica) -> None:
    assert compose(replica).to_dict() == compose(replica).to_dict()


# Schema validation costs ~30 ms a manifest, so fewer, richer examples here.
@settings(max_examples=12)
@given(replicas())
def test_every_manifest_validates_and_every_name_fits(replica: api.ModelReplica) -> None:
    out = compose(replica)
    assert schema_problems(out) == []
    identities = [
        (inner(r.manifest)["kind"], inner(r.manifest)["metadata"]["name"]) for r in out.resources
    ]
    assert len(identities) == len(set(identities))
    assert all(len(name) <= 63 for _, name in identities)


@settings(max_examples=50)
@given(replicas())
def test_every_pod_is_pinned_to_its_members_pool(replica: api.ModelReplica) -> None:
    out = compose(replica)
    for engine in replica.spec.engines:
        for member, pod in member_pods(out, engine):
            assert pod["spec"]["nodeSelector"] == {LABEL_POOL: member.node_pool_name}


@settings(max_examples=50)
@given(replicas())
def test_every_device_request_resolves_to_the_same_claim_request(replica: api.ModelReplica) -> None:
    out = compose(replica)
    for engine in replica.spec.engines:
        for member, pod in member_pods(out, engine):
            key = model_replica.claims_key(engine.name, member.role)
            if not member.device_requests:
                assert out.resource(key) is None
                assert "resourceClaims" not in pod["spec"]
                continue
            claim = inner_of(out, key)
            got = {
                r["name"]: (
                    r["exactly"]["count"],
                    r["exactly"]["deviceClassName"],
                    [s["cel"]["expression"] for s in r["exactly"].get("selectors", [])],
                )
                for r in claim["spec"]["spec"]["devices"]["requests"]
            }
            want = {
                r.name: (r.count, r.device_class_name, [s.cel for s in r.selectors or ()])
                for r in member.device_requests
            }
            assert got == want
            (pod_claim,) = pod["spec"]["resourceClaims"]
            assert pod_claim["resourceClaimTemplateName"] == claim["metadata"]["name"]


@settings(max_examples=40)
@given(replicas(), replicas())
def test_two_replicas_never_share_an_object_or_a_selector(
    a: api.ModelReplica, b: api.ModelReplica
) -> None:
    if (a.metadata.namespace, a.metadata.name) == (b.metadata.namespace, b.metadata.name):
        return

    def identities(out: Composition) -> set[tuple[str, str]]:
        return {
            (inner(r.manifest)["kind"], inner(r.manifest)["metadata"]["name"])
            for r in out.resources
        }

    first, second = compose(a), compose(b)
    assert identities(first).isdisjoint(identities(second))
    route = inner_of(first, "route")["spec"]["rules"][0]["matches"][0]["path"]["value"]
    other = inner_of(second, "route")["spec"]["rules"][0]["matches"][0]["path"]["value"]
    assert route != other
