"""ModelDeployment composition: replicas from placements, gated endpoints, status, conditions.

The scheduler is real (so is every API type): each test builds a small fleet,
composes, and, where a later reconcile matters, feeds the composed objects
back the way Crossplane does -- as observed composed resources *and* in the
fleet-wide ModelReplica list the scheduler's ledger reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs
import pytest

from modelplane_core import api
from modelplane_core.api.codec import unstructure
from modelplane_core.compose import model_deployment
from modelplane_core.compose.composition import Composition, Observed
from modelplane_core.compose.model_deployment import (
    CACHE_RESOLVED,
    READY,
    REQUIRE_CACHE,
    REQUIRE_CLUSTERS,
    REQUIRE_OWN_REPLICAS,
    REQUIRE_REPLICAS,
    SCHEDULED,
    cluster_key,
)
from tests.scheduling_fixtures import (
    cluster,
    deployment,
    engine,
    gang,
    gpu,
    mem_at_least,
    member,
    pool,
)
from tests.unit.compose.ml.fixtures import (
    NOT_FETCHED,
    deployment_inputs,
    deployment_next_pass,
    keys,
    model_cache,
    schema_problems,
)

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def with_composite(
    observed_inputs: Observed[api.ModelDeployment], dep: api.ModelDeployment
) -> Observed[api.ModelDeployment]:
    return attrs.evolve(observed_inputs, composite=dep)


def compose(observed_inputs: Observed[api.ModelDeployment]) -> Composition:
    return model_deployment.compose(observed_inputs)


def manifests(composition: Composition, kind: str) -> list[Mapping[str, Any]]:
    return [r.manifest for r in composition.resources if r.manifest["kind"] == kind]


def cond(composition: Composition, type_: str) -> tuple[str, str, str]:
    found = composition.condition(type_)
    assert found is not None, f"no {type_} condition in {composition.conditions}"
    return found.status, found.reason, found.message or ""


def events(composition: Composition) -> list[tuple[str, str]]:
    return [(e.type, e.reason) for e in composition.events]


def replicas_of(composition: Composition) -> list[api.ModelReplica]:
    found = []
    for manifest in manifests(composition, "ModelReplica"):
        obj = api.from_dict(manifest)
        assert isinstance(obj, api.ModelReplica)
        found.append(obj)
    return found


def live(
    dep: api.ModelDeployment, clusters: list[api.InferenceCluster], **ready: Any
) -> tuple[Observed[api.ModelDeployment], Composition]:
    """A deployment after two reconciles: its replicas exist and report ``ready``."""
    first = deployment_inputs(dep, clusters)
    second = deployment_next_pass(first, compose(first), ready=ready.get("ready", True))
    return second, compose(second)


# --- replicas from placements --------------------------------------------------------


def test_each_placement_becomes_one_labelled_model_replica() -> None:
    clusters = [cluster("a"), cluster("b")]
    out = compose(deployment_inputs(deployment("qwen", replicas=2), clusters))
    assert keys(out) == ["replica-a-0", "replica-b-0"]
    for key, found in zip(keys(out), replicas_of(out), strict=True):
        cluster_name = key.split("-")[1]
        assert found.metadata.namespace == "ml-team"
        assert found.metadata.labels == {
            api.LABEL_DEPLOYMENT: "qwen",
            api.LABEL_CLUSTER: cluster_name,
            api.LABEL_REPLICA_INDEX: "0",
        }
        assert found.spec.cluster_name == cluster_name
        assert api.validate(found) == []
    assert schema_problems(out) == []


def test_replica_names_are_stable_dns_labels_distinct_for_co_located_replicas() -> None:
    dep = deployment("qwen", replicas=2)
    clusters = [cluster("a", pool(nodes=2))]
    out = compose(deployment_inputs(dep, clusters))
    assert keys(out) == ["replica-a-0", "replica-a-1"]
    names = [m["metadata"]["name"] for m in manifests(out, "ModelReplica")]
    assert len(set(names)) == 2
    assert [
        m["metadata"]["labels"][api.LABEL_REPLICA_INDEX] for m in manifests(out, "ModelReplica")
    ] == ["0", "1"]
    for name in names:
        assert DNS_LABEL.match(name)
        assert len(name) <= 63
        assert name.startswith("qwen-a-")
    # The same inputs give the same names, on every reconcile and in any input order.
    again = compose(deployment_inputs(dep, list(reversed(clusters))))
    assert [m["metadata"]["name"] for m in manifests(again, "ModelReplica")] == names


def test_the_longest_names_still_give_63_character_dns_labels() -> None:
    long_deployment = "d" * 63
    long_cluster = "c" + "-x" * 31
    assert len(long_cluster) == 63
    dep = deployment(long_deployment)
    assert api.validate(dep) == []
    out = compose(deployment_inputs(dep, [cluster(long_cluster)]))
    ((found,),) = [replicas_of(out)]
    name = found.metadata.name or ""
    assert DNS_LABEL.match(name)
    assert len(name) == 63
    assert api.validate(found) == []
    assert found.metadata.labels == {
        api.LABEL_DEPLOYMENT: long_deployment,
        api.LABEL_CLUSTER: long_cluster,
        api.LABEL_REPLICA_INDEX: "0",
    }
    assert schema_problems(out) == []


def test_names_differ_when_only_the_cluster_or_the_deployment_differs() -> None:
    """Parts that sanitise alike (``a.b`` vs ``a-b``) must not collide."""
    names = set()
    for dep_name, cluster_name in [("m", "a-b"), ("m-a", "b"), ("m", "a.b")]:
        out = compose(deployment_inputs(deployment(dep_name), [cluster(cluster_name)]))
        (found,) = replicas_of(out)
        names.add(found.metadata.name)
    assert len(names) == 3


def test_the_replica_inherits_the_spec_verbatim_with_resolved_pools_and_devices() -> None:
    template = api.PodTemplate(
        metadata=api.PodTemplateMetadata(
            labels={"team": "search"}, annotations={"example.com/owner": "ml"}
        ),
        spec=api.PodSpec(
            containers=(
                api.Container(
                    name="engine",
                    image="vllm/vllm-openai:v0.23.0",
                    command=("/bin/sh", "-c", "exec vllm serve /mnt/models"),
                    env=(
                        api.EnvVar(
                            name="VLLM_HOST_IP",
                            value_from=api.EnvVarSource(
                                field_ref=api.ObjectFieldSelector(field_path="status.podIP")
                            ),
                        ),
                    ),
                ),
            ),
            image_pull_secrets=(api.LocalObjectReference(name="registry"),),
        ),
    )
    leader = attrs.evolve(member("Leader", mem_at_least("141Gi"), count=8), template=template)
    worker = attrs.evolve(
        member("Worker", mem_at_least("141Gi"), count=8, worker_nodes=2), template=template
    )
    dep = attrs.evolve(
        deployment("coder", engines=[engine("main", leader, worker, copies=2)], cache="weights"),
    )
    # The pool's device carries its own DeviceClass: the replica must claim through it.
    h200 = attrs.evolve(gpu("141Gi", count=8), device_class_name="h200.example.com")
    fleet = [
        cluster("small", pool("l4", nodes=8, devices=[gpu("23Gi", count=8)])),
        cluster("big", pool("h200", nodes=6, devices=[h200])),
    ]
    out = compose(deployment_inputs(dep, fleet, cache=[model_cache()]))
    (found,) = replicas_of(out)
    spec = api.to_dict(found)["spec"]
    assert spec["clusterName"] == "big"
    assert spec["modelCacheRef"] == {"name": "weights"}
    assert "serving" not in spec
    (rendered,) = spec["engines"]
    assert (rendered["name"], rendered["copies"]) == ("main", 2)
    for member_spec, source in zip(rendered["members"], (leader, worker), strict=True):
        assert member_spec["role"] == source.role
        assert member_spec["nodePoolName"] == "h200"
        assert member_spec["template"] == unstructure(template)
        assert member_spec["deviceRequests"] == [
            {
                "name": "gpu",
                "count": 8,
                "deviceClassName": "h200.example.com",
                "selectors": [{"cel": mem_at_least("141Gi")}],
            }
        ]
    assert rendered["members"][1]["worker"] == {"nodes": 2}
    assert "worker" not in rendered["members"][0]
    assert api.validate(found) == []


def test_prefill_decode_serving_and_phases_are_carried_and_each_engine_gets_its_pool() -> None:
    dep = deployment(
        "pd",
        engines=[
            engine("prefill", member(count=1), phase="Prefill"),
            engine("decode", member(count=1), copies=2, phase="Decode"),
        ],
        serving="PrefillDecode",
    )
    # Two one-node pools and one two-node pool: decode (2 copies) only fits the big one.
    fleet = [cluster("a", pool("one", nodes=1), pool("two", nodes=2))]
    out = compose(deployment_inputs(dep, fleet))
    (found,) = replicas_of(out)
    assert found.spec.serving == api.Serving(mode="PrefillDecode")
    assert [(e.name, e.phase, e.copies) for e in found.spec.engines] == [
        ("prefill", "Prefill", 1),
        ("decode", "Decode", 2),
    ]
    assert [e.members[0].node_pool_name for e in found.spec.engines] == ["one", "two"]
    assert api.validate(found) == []


def test_a_claimless_leader_carries_no_device_requests_but_keeps_its_pool() -> None:
    dep = deployment(
        "gang",
        engines=[
            engine("main", member("Leader", claimless=True), member("Worker", worker_nodes=1))
        ],
        cache="weights",
    )
    out = compose(deployment_inputs(dep, [cluster("a")], cache=[model_cache()]))
    (found,) = replicas_of(out)
    leader, worker = found.spec.engines[0].members
    assert leader.device_requests is None
    assert leader.node_pool_name == worker.node_pool_name == "default"
    assert worker.device_requests is not None
    assert len(worker.device_requests) == 1
    assert api.validate(found) == []


# --- readiness-gated endpoints -------------------------------------------------------


def test_no_endpoint_until_the_replica_is_ready() -> None:
    dep = deployment("qwen")
    first = deployment_inputs(dep, [cluster("a", gateway="34.55.100.10")])
    fresh = compose(first)
    assert manifests(fresh, "ModelEndpoint") == []
    starting = compose(deployment_next_pass(first, fresh, ready=False))
    assert manifests(starting, "ModelEndpoint") == []
    serving = compose(deployment_next_pass(first, fresh, ready=True))
    (endpoint,) = manifests(serving, "ModelEndpoint")
    (replica,) = manifests(serving, "ModelReplica")
    name = replica["metadata"]["name"]
    assert keys(serving) == ["endpoint-a-0", "replica-a-0"]
    assert endpoint["metadata"] == {
        "name": name,
        "namespace": "ml-team",
        "labels": replica["metadata"]["labels"],
    }
    assert endpoint["spec"] == {
        "url": f"http://34.55.100.10/ml-team/{name}/",
        "rewritePath": f"/ml-team/{name}/",
    }
    assert schema_problems(serving) == []


@pytest.mark.parametrize(
    ("ready", "gateway"),
    [(False, "34.55.100.10"), (True, None)],
    ids=["not-ready-cluster-with-an-address", "ready-cluster-without-an-address"],
)
def test_a_ready_replica_on_a_cluster_that_cannot_serve_gets_no_endpoint(
    ready: bool, gateway: str | None
) -> None:
    """The reference published endpoints on NotReady clusters that kept an address (gap 17).

    Like Kubernetes' endpoints for pods on a NotReady node, the replica keeps
    running but is not routed to and does not count as ready, and the status
    says so: it never reports AllReplicasReady while an endpoint is withheld.
    """
    dep = deployment("qwen")
    first = deployment_inputs(dep, [cluster("a")])
    running = deployment_next_pass(first, compose(first), ready=True)
    assert "endpoint-a-0" in keys(compose(running))
    degraded = attrs.evolve(
        running,
        required={
            **running.required,
            REQUIRE_CLUSTERS: (api.to_dict(cluster("a", ready=ready, gateway=gateway)),),
        },
    )
    out = compose(degraded)
    assert keys(out) == ["replica-a-0"]  # the replica is kept where it runs
    assert out.resource("replica-a-0").ready is True  # type: ignore[union-attr]
    assert out.status["replicas"] == {"total": 1, "ready": 0}
    status, reason, message = cond(out, READY)
    assert (status, reason) == ("False", "ClusterNotReady")
    assert "1 running on clusters that are not serving (a)" in message


def test_an_ipv6_gateway_address_is_bracketed_in_the_endpoint_url() -> None:
    _, out = live(deployment("qwen"), [cluster("a", gateway="2001:db8::7")])
    (endpoint,) = manifests(out, "ModelEndpoint")
    name = endpoint["metadata"]["name"]
    assert endpoint["spec"]["url"] == f"http://[2001:db8::7]/ml-team/{name}/"
    assert schema_problems(out) == []


def test_an_endpoint_is_marked_ready_once_it_reports_ready() -> None:
    running, out = live(deployment("qwen"), [cluster("a")])
    assert out.resource("endpoint-a-0").ready is None  # type: ignore[union-attr]
    settled = compose(deployment_next_pass(running, out, ready=True))
    assert [r.ready for r in settled.resources] == [True, True]


def test_an_endpoint_is_withdrawn_when_its_replica_stops_being_ready() -> None:
    running, out = live(deployment("qwen"), [cluster("a")])
    assert "endpoint-a-0" in keys(out)
    flapping = compose(deployment_next_pass(running, out, ready={"replica-a-0": False}))
    assert keys(flapping) == ["replica-a-0"]


# --- status: the scale subresource ---------------------------------------------------


def test_status_counts_placed_and_ready_replicas_where_the_scale_subresource_reads() -> None:
    dep = deployment("qwen", replicas=3)
    # Room for two replicas only.
    fleet = [cluster("a", pool(nodes=1)), cluster("b", pool(nodes=1))]
    first = deployment_inputs(dep, fleet)
    fresh = compose(first)
    assert fresh.status == {"replicas": {"total": 2, "ready": 0}}
    one_ready = compose(deployment_next_pass(first, fresh, ready={"replica-a-0": True}))
    assert one_ready.status == {"replicas": {"total": 2, "ready": 1}}
    spec_path, status_path = api.ModelDeployment.kind_info.scale  # type: ignore[misc]
    assert spec_path == ".spec.replicas"
    value: Any = {"status": one_ready.status}
    for part in status_path.strip(".").split("."):
        value = value[part]
    assert value == 2


# --- conditions ----------------------------------------------------------------------


def test_all_scheduled_and_all_ready() -> None:
    dep = deployment("qwen", replicas=2)
    first = deployment_inputs(dep, [cluster("a"), cluster("b")])
    fresh = compose(first)
    assert cond(fresh, SCHEDULED) == (
        "True",
        "ReplicasCreated",
        "2/2 replicas scheduled on 2 clusters",
    )
    assert cond(fresh, READY) == ("False", "ModelStarting", "0 of 2 ready")
    assert fresh.ready is None
    settled = compose(deployment_next_pass(first, fresh, ready=True))
    assert cond(settled, READY) == ("True", "AllReplicasReady", "2 of 2 ready")
    assert fresh.condition(CACHE_RESOLVED) is None  # no cache referenced


def test_a_partial_shortfall_is_insufficient_capacity_on_every_pass() -> None:
    """The reference reported "Scheduled 1 of 3" as True once one replica existed (gap 28)."""
    dep = deployment("qwen", replicas=3)
    first = deployment_inputs(dep, [cluster("a", pool(nodes=1))])
    fresh = compose(first)
    status, reason, message = cond(fresh, SCHEDULED)
    assert (status, reason) == ("False", "InsufficientCapacity")
    assert message.startswith("1/3 replicas scheduled; 0/1 clusters available: ")
    assert "insufficient nodes in pool default" in message
    assert ("Warning", "InsufficientCapacity") in events(fresh)
    running = compose(deployment_next_pass(first, fresh, ready=True))
    assert cond(running, SCHEDULED)[:2] == ("False", "InsufficientCapacity")
    assert cond(running, READY) == ("False", "ModelStarting", "1 of 3 ready")
    assert running.status == {"replicas": {"total": 1, "ready": 1}}


def test_nothing_placeable_is_not_ready_and_explains_every_cluster() -> None:
    dep = deployment("qwen", engines=[engine("main", member("Standalone", mem_at_least("200Gi")))])
    out = compose(deployment_inputs(dep, [cluster("a"), cluster("b", ready=False)]))
    assert keys(out) == []
    assert out.ready is False
    status, reason, message = cond(out, SCHEDULED)
    assert (status, reason) == ("False", "InsufficientCapacity")
    assert "0/2 clusters available" in message
    assert "not ready" in message
    assert "no pool satisfies engine" in message
    assert cond(out, READY)[:2] == ("False", "NoReplicasScheduled")


# --- ModelCacheResolved ------------------------------------------------------------------


def test_a_present_cache_resolves_and_narrows_new_placements_to_its_footprint() -> None:
    dep = deployment("qwen", cache="weights")
    fleet = [cluster("a", labels={"tier": "cpu"}), cluster("b", labels={"tier": "gpu"})]
    out = compose(deployment_inputs(dep, fleet, cache=[model_cache(selector={"tier": "gpu"})]))
    assert cond(out, CACHE_RESOLVED) == ("True", "Resolved", "ModelCache weights found")
    assert keys(out) == ["replica-b-0"]
    (found,) = replicas_of(out)
    assert found.spec.model_cache_ref == api.ModelCacheRef(name="weights")


def test_a_cache_footprint_that_contradicts_the_cluster_selector_places_nothing() -> None:
    """The reference let the cache's value overwrite the deployment's (gap 26)."""
    dep = deployment("qwen", cache="weights", selector={"region": "east"})
    fleet = [cluster("a", labels={"region": "east"}), cluster("b", labels={"region": "west"})]
    out = compose(deployment_inputs(dep, fleet, cache=[model_cache(selector={"region": "west"})]))
    assert keys(out) == []
    status, reason, message = cond(out, SCHEDULED)
    assert (status, reason) == ("False", "InsufficientCapacity")
    assert "clusterSelector conflicts with ModelCache 'weights'" in message


def test_an_unfetched_cache_waits_placing_nothing_new() -> None:
    out = compose(deployment_inputs(deployment("qwen", cache="weights"), [cluster("a")]))
    assert keys(out) == []
    assert cond(out, CACHE_RESOLVED) == ("False", "Waiting", "waiting for ModelCache weights")
    assert cond(out, SCHEDULED)[:2] == ("False", "WaitingForModelCache")
    assert out.ready is False
    assert events(out) == []  # waiting is not a problem a person must act on


@pytest.mark.parametrize("cache", [NOT_FETCHED, ()], ids=["not-fetched", "not-found"])
def test_an_unavailable_cache_keeps_the_running_replicas_and_holds_new_ones(
    cache: object,
) -> None:
    dep = deployment("qwen", replicas=1, cache="weights")
    fleet = [cluster("a"), cluster("b")]
    first = deployment_inputs(dep, fleet, cache=[model_cache()])
    running = deployment_next_pass(first, compose(first), ready=True)
    assert keys(compose(running)) == ["endpoint-a-0", "replica-a-0"]
    # The cache vanishes (or is not fetched yet) while the deployment scales up.
    required = {k: v for k, v in running.required.items() if k != REQUIRE_CACHE}
    if cache is not NOT_FETCHED:
        required[REQUIRE_CACHE] = ()
    scaled = attrs.evolve(running, composite=deployment("qwen", replicas=2, cache="weights"))
    out = compose(attrs.evolve(scaled, required=required))
    assert keys(out) == ["endpoint-a-0", "replica-a-0"]
    assert out.resource("replica-a-0").ready is True  # type: ignore[union-attr]
    status, reason, message = cond(out, CACHE_RESOLVED)
    if cache is NOT_FETCHED:
        assert (status, reason) == ("False", "Waiting")
        assert cond(out, SCHEDULED)[:2] == ("False", "WaitingForModelCache")
    else:
        assert (status, reason) == ("False", "NotFound")
        assert "running replicas are kept" in message
        assert cond(out, SCHEDULED)[:2] == ("False", "ModelCacheNotFound")
    assert "new placements held" in cond(out, SCHEDULED)[2]
    assert out.status == {"replicas": {"total": 1, "ready": 1}}


def test_an_unreadable_cache_is_reported_as_unreadable_and_holds_new_placements() -> None:
    broken = model_cache()
    broken["spec"]["sizeGiB"] = "lots"
    out = compose(
        deployment_inputs(deployment("qwen", cache="weights"), [cluster("a")], cache=[broken])
    )
    assert keys(out) == []
    status, reason, message = cond(out, CACHE_RESOLVED)
    assert (status, reason) == ("False", "InvalidModelCache")
    assert "ModelCache ml-team/weights cannot be read" in message
    assert ("Warning", "InvalidModelCache") in events(out)


# --- hold on error -----------------------------------------------------------------------


def test_an_invalid_selector_on_a_live_deployment_holds_everything_it_runs() -> None:
    """The reference tore a running deployment down on a CEL typo (gap 25)."""
    dep = deployment("qwen")
    running, out = live(dep, [cluster("a")])
    assert keys(out) == ["endpoint-a-0", "replica-a-0"]
    live_inputs = deployment_next_pass(running, out, ready=True)
    typo = deployment(
        "qwen", engines=[engine("main", member("Standalone", 'device.driver == "gpu'))]
    )
    held = compose(with_composite(live_inputs, typo))
    assert held.held
    assert keys(held) == keys(out)
    for key in keys(out):
        desired = held.resource(key)
        assert desired is not None
        assert desired.manifest == out.resource(key).manifest  # type: ignore[union-attr]
    status, reason, message = cond(held, SCHEDULED)
    assert (status, reason) == ("False", "InvalidNodeSelector")
    assert "spec.engines[0].members[0].nodeSelector.devices[0].selectors[0].cel" in message
    assert events(held) == [("Warning", "InvalidNodeSelector")]


def test_an_invalid_spec_on_a_live_deployment_holds_and_keeps_its_status() -> None:
    running, out = live(deployment("qwen"), [cluster("a")])
    live_inputs = deployment_next_pass(running, out, ready=True)
    status = api.ModelDeploymentStatus(replicas=api.ReplicaCounts(total=1, ready=1))
    bad = attrs.evolve(
        deployment("qwen"),
        spec=attrs.evolve(deployment("qwen").spec, replicas=0),
        status=status,
    )
    held = compose(with_composite(live_inputs, bad))
    assert held.held
    assert keys(held) == keys(out)
    assert held.status == {"replicas": {"total": 1, "ready": 1}}
    assert cond(held, SCHEDULED)[:2] == ("False", "InvalidSpec")
    assert "spec.replicas" in cond(held, SCHEDULED)[2]
    assert events(held) == [("Warning", "InvalidSpec")]


@pytest.mark.parametrize("missing", [REQUIRE_CLUSTERS, REQUIRE_REPLICAS])
def test_an_unresolved_fleet_holds_the_live_replicas_and_asks_again(missing: str) -> None:
    running, out = live(deployment("qwen", replicas=2), [cluster("a"), cluster("b")])
    live_inputs = deployment_next_pass(running, out, ready=True)
    unresolved = attrs.evolve(
        live_inputs, required={k: v for k, v in live_inputs.required.items() if k != missing}
    )
    held = compose(unresolved)
    assert held.held
    assert keys(held) == keys(out)
    assert cond(held, SCHEDULED)[:2] == ("Unknown", "ResolvingFleet")
    # A deployment that runs asks for its own part of the fleet first (the clusters it
    # runs on, its replicas): enough unless it must place.
    if missing == REQUIRE_CLUSTERS:
        assert [r.key for r in held.requirements] == [REQUIRE_CLUSTERS, REQUIRE_REPLICAS]
    else:
        assert [r.key for r in held.requirements] == [
            cluster_key("a"),
            cluster_key("b"),
            REQUIRE_OWN_REPLICAS,
        ]
    assert events(held) == []


def own_only(observed: Observed[api.ModelDeployment]) -> Observed[api.ModelDeployment]:
    """The inputs as fetched for the narrow requirements: its replicas and their clusters."""
    listed = observed.required[REQUIRE_REPLICAS].items
    mine = tuple(
        r
        for r in listed
        if isinstance(r, api.ModelReplica)
        and r.metadata.label_map.get(api.LABEL_DEPLOYMENT) == observed.composite.metadata.name
    )
    on = {r.spec.cluster_name for r in mine}
    clusters = {
        cluster_key(c.metadata.name or ""): (c,)
        for c in observed.required[REQUIRE_CLUSTERS].items
        if isinstance(c, api.InferenceCluster) and c.metadata.name in on
    }
    rest = {
        k: v for k, v in observed.required.items() if k not in (REQUIRE_REPLICAS, REQUIRE_CLUSTERS)
    }
    return attrs.evolve(observed, required={**rest, **clusters, REQUIRE_OWN_REPLICAS: mine})


def test_a_settled_deployment_needs_only_its_own_part_of_the_fleet_and_widens_to_place() -> None:
    other = deployment("other")
    fleet = [cluster("a", pool(nodes=2)), cluster("b", pool(nodes=2))]
    running, out = live(deployment("qwen", replicas=2), fleet)
    settled = deployment_next_pass(running, out, ready=True)
    # Settled with the whole fleet in view: next time, its own part of the fleet is enough.
    narrowed = [cluster_key("a"), cluster_key("b"), REQUIRE_OWN_REPLICAS]
    assert [r.key for r in compose(settled).requirements] == narrowed
    narrow = own_only(settled)
    again = compose(narrow)
    assert not again.held
    assert again.to_dict()["resources"] == compose(settled).to_dict()["resources"]
    assert [r.key for r in again.requirements] == narrowed
    # Scaled up, it must place: with only its own replicas it holds and asks for the fleet.
    scaled = attrs.evolve(
        narrow,
        composite=attrs.evolve(
            narrow.composite, spec=attrs.evolve(narrow.composite.spec, replicas=3)
        ),
    )
    held = compose(scaled)
    assert held.held
    assert keys(held) == keys(again)
    assert cond(held, SCHEDULED)[:2] == ("Unknown", "ResolvingFleet")
    assert [r.key for r in held.requirements] == [REQUIRE_CLUSTERS, REQUIRE_REPLICAS]
    # With the fleet it places, seeing the other deployment's replica in the ledger.
    taken = deployment_inputs(
        other, fleet, replicas=[api.to_dict(r) for r in settled.required[REQUIRE_REPLICAS].items]
    )
    other_out = compose(taken)
    with_fleet = attrs.evolve(
        settled,
        composite=scaled.composite,
        required={
            **settled.required,
            REQUIRE_REPLICAS: (
                *settled.required[REQUIRE_REPLICAS].items,
                *(api.from_dict(r.manifest) for r in other_out.resources),
            ),
        },
    )
    placed = compose(with_fleet)
    assert cond(placed, SCHEDULED)[:2] == ("True", "ReplicasCreated")
    assert len([k for k in keys(placed) if k.startswith("replica-")]) == 3


def test_an_unreadable_fleet_object_holds_and_names_it() -> None:
    running, out = live(deployment("qwen"), [cluster("a")])
    live_inputs = deployment_next_pass(running, out, ready=True)
    broken = api.to_dict(cluster("b"))
    broken["status"]["gpuPools"][0]["nodes"] = "two"
    required = {
        **live_inputs.required,
        REQUIRE_CLUSTERS: (*live_inputs.required[REQUIRE_CLUSTERS].items, broken),
    }
    held = compose(attrs.evolve(live_inputs, required=required))
    assert held.held
    assert keys(held) == keys(out)
    status, reason, message = cond(held, SCHEDULED)
    assert (status, reason) == ("False", "InvalidFleetObject")
    assert message.startswith("holding the current replicas")
    assert "InferenceCluster b cannot be read: status.gpuPools[0].nodes" in message
    assert events(held) == [("Warning", "InvalidFleetObject")]


def test_a_new_deployment_that_cannot_be_scheduled_yet_holds_nothing_and_is_not_ready() -> None:
    dep = deployment("qwen", cache="weights")
    for held in (
        compose(Observed(composite=dep)),
        compose(Observed(composite=deployment("qwen", replicas=0))),
    ):
        assert held.held
        assert held.resources == ()
        assert held.ready is False


# --- requirements ------------------------------------------------------------------------


def test_requirements_ask_for_the_whole_fleet_and_the_referenced_cache() -> None:
    def shape(c: Composition) -> list[tuple[str, str, str | None, Any, str | None]]:
        return [(r.key, r.kind, r.match_name, r.match_labels, r.namespace) for r in c.requirements]

    without = compose(deployment_inputs(deployment("qwen"), [cluster("a")]))
    assert shape(without) == [
        (REQUIRE_CLUSTERS, "InferenceCluster", None, {}, None),
        (REQUIRE_REPLICAS, "ModelReplica", None, {}, None),
    ]
    # The requirements do not depend on the clusterSelector: narrowing it must not hide
    # the clusters existing replicas run on (the reference evicted them, gap 27).
    narrowed = deployment("qwen", cache="weights", selector={"region": "us-east"})
    with_cache = compose(deployment_inputs(narrowed, [cluster("a")]))
    assert shape(with_cache) == [
        *shape(without),
        (REQUIRE_CACHE, "ModelCache", "weights", None, "ml-team"),
    ]
    assert all(r.api_version == api.API_VERSION for r in with_cache.requirements)


def test_narrowing_the_cluster_selector_keeps_running_replicas() -> None:
    fleet = [cluster("a", labels={"region": "east"}), cluster("b", labels={"region": "west"})]
    running, out = live(deployment("qwen"), fleet)
    assert keys(out) == ["endpoint-a-0", "replica-a-0"]
    narrowed = with_composite(
        deployment_next_pass(running, out, ready=True),
        deployment("qwen", selector={"region": "west"}),
    )
    assert keys(compose(narrowed)) == ["endpoint-a-0", "replica-a-0"]


def test_a_running_replica_missing_from_a_lagging_fleet_list_is_kept_where_it_runs() -> None:
    """The scheduler sees the composed replica even when the ModelReplica list lags."""
    fleet = [cluster("a"), cluster("b")]
    dep = deployment("qwen")
    on_b = compose(deployment_inputs(dep, [cluster("b")]))
    assert keys(on_b) == ["replica-b-0"]
    running = deployment_next_pass(deployment_inputs(dep, fleet), on_b, ready=True)
    lagging = attrs.evolve(running, required={**running.required, REQUIRE_REPLICAS: ()})
    out = compose(lagging)
    # Without it, the fill would pick cluster a (fewest replicas, first by name) and drop b's.
    assert keys(out) == ["endpoint-b-0", "replica-b-0"]
    assert out.events == ()  # nothing new was scheduled
    assert out.status == {"replicas": {"total": 1, "ready": 1}}


def test_a_listed_replica_not_yet_observed_is_kept_and_not_announced_again() -> None:
    dep = deployment("qwen")
    running, out = live(dep, [cluster("a")])
    unobserved = attrs.evolve(deployment_next_pass(running, out, ready=True), resources={})
    again = compose(unobserved)
    assert keys(again) == ["replica-a-0"]
    assert again.resource("replica-a-0").manifest == out.resource("replica-a-0").manifest  # type: ignore[union-attr]
    assert again.events == ()


# --- events --------------------------------------------------------------------------


def test_every_new_replica_is_announced_once_including_on_scale_up() -> None:
    """The reference announced nothing once any replica existed (gap 33)."""
    dep = deployment("qwen")
    fleet = [cluster("a"), cluster("b")]
    first = deployment_inputs(dep, fleet)
    fresh = compose(first)
    ((kind, reason),) = events(fresh)
    assert (kind, reason) == ("Normal", "Scheduled")
    (replica,) = manifests(fresh, "ModelReplica")
    assert fresh.events[0].message == (
        f"Scheduled replica {replica['metadata']['name']} on cluster a (pools default)"
    )
    running = deployment_next_pass(first, fresh, ready=True)
    assert events(compose(running)) == []  # nothing new, nothing said
    scaled = compose(with_composite(running, deployment("qwen", replicas=2)))
    assert keys(scaled) == ["endpoint-a-0", "replica-a-0", "replica-b-0"]
    (announced,) = scaled.events
    assert (announced.type, announced.reason) == ("Normal", "Scheduled")
    assert "on cluster b" in announced.message


def test_removals_are_announced_with_why() -> None:
    dep = deployment("qwen", replicas=2)
    running, out = live(dep, [cluster("a"), cluster("b")])
    live_inputs = deployment_next_pass(running, out, ready=True)
    down = compose(with_composite(live_inputs, deployment("qwen", replicas=1)))
    assert keys(down) == ["endpoint-a-0", "replica-a-0"]
    ((kind, reason),) = events(down)
    assert (kind, reason) == ("Normal", "ScaledDown")
    assert "scaled down to 1 replicas" in down.events[0].message
    gone = attrs.evolve(
        live_inputs,
        required={**live_inputs.required, REQUIRE_CLUSTERS: (api.to_dict(cluster("a")),)},
    )
    moved = compose(gone)
    assert ("Warning", "ClusterGone") in events(moved)
    assert "replica-b-0" not in keys(moved)


def test_composition_does_not_depend_on_input_order() -> None:
    dep = deployment("qwen", replicas=3, engines=[gang(2)], cache="weights")
    fleet = [cluster(n, pool(nodes=4)) for n in ("c", "a", "b")]
    first = deployment_inputs(dep, fleet, cache=[model_cache()])
    running = deployment_next_pass(first, compose(first), ready=True)
    forward = compose(running)
    backward = attrs.evolve(
        running,
        resources=dict(reversed(list(running.resources.items()))),
        required={k: tuple(reversed(v.items)) for k, v in reversed(list(running.required.items()))},
    )
    assert compose(backward).to_dict() == forward.to_dict()


def test_a_settled_deployment_whose_cluster_is_not_found_asks_the_fleet_before_moving() -> None:
    fleet = [cluster("a", pool(nodes=2)), cluster("b", pool(nodes=2))]
    running, out = live(deployment("qwen", replicas=1), fleet)
    settled = deployment_next_pass(running, out, ready=True)
    narrow = own_only(settled)
    (on,) = [k for k in narrow.required if k.startswith("cluster-")]
    gone = attrs.evolve(narrow, required={**narrow.required, on: ()})
    held = compose(gone)
    # Not found by name: the whole fleet says whether it is gone or the read failed.
    assert held.held
    assert keys(held) == keys(compose(narrow))
    assert [r.key for r in held.requirements] == [REQUIRE_CLUSTERS, REQUIRE_REPLICAS]
    # Listed without it: gone, so the replica is re-placed on the other cluster.
    (kept,) = [c for c in fleet if cluster_key(c.metadata.name or "") != on]
    moved = compose(attrs.evolve(settled, required={**settled.required, REQUIRE_CLUSTERS: (kept,)}))
    assert [k for k in keys(moved) if k.startswith("replica-")] == [
        f"replica-{kept.metadata.name}-0"
    ]
    # Listed empty: far more likely a failed list than every cluster gone, so it holds.
    empty = compose(attrs.evolve(settled, required={**settled.required, REQUIRE_CLUSTERS: ()}))
    assert empty.held
    assert cond(empty, SCHEDULED)[1] == "NoClustersListed"
