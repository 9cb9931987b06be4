"""The controller and the Crossplane function want the same objects from the same inputs.

A fleet is converged by the controller on the API server emulator (with the
simulated providers reporting status). Then, for every composite, the function
is called over real gRPC on 127.0.0.1 with exactly what the controller's engine
composed from: the composite, its composed resources keyed by resource key,
and its required resources as resolved from the watch cache. The function's
desired resources must be what the controller applied, its desired composite
status and conditions what the controller wrote, modulo the differences
docs/controller.md lists (the owner label, resource-key annotation and owner
references each path puts on children; the Ready and Synced conditions, which
Crossplane derives itself; names of composed resources a composer leaves
unnamed).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from modelplane_adapters.controller.cache import ClusterCache
from modelplane_adapters.crossplane.function import run_function
from modelplane_adapters.crossplane.render import RenderInputs, render
from modelplane_adapters.crossplane.structs import from_struct
from modelplane_adapters.crossplane.translate import build_request
from modelplane_core.reconcile import Engine, ObjectKey, composites
from modelplane_core.simulation import Scale, Simulation
from tests.adapters.controller.backends import INSTANT, SERVER_METADATA, ApiTwin
from tests.adapters.controller.test_same_engine import FALLBACK, FALLBACK_LABELS, api_twin
from tests.adapters.crossplane.conftest import function_address, stub
from tests.simulation_fixtures import (
    cluster,
    deployment,
    gateway,
    gpu_class,
    model_cache,
    service,
    small_fleet,
)

__all__ = ["function_address", "stub"]  # the function server fixtures, used by name

REGION = "modelplane.ai/region"
# Crossplane derives these from the function's answer itself; the engine writes them.
CROSSPLANE_CONDITIONS = frozenset({"Ready", "Synced"})


def fleet() -> list[dict[str, Any]]:
    routed = service("all", "chat", "big")
    routed["spec"]["endpoints"].append({"selector": {"matchLabels": FALLBACK_LABELS}})
    return [
        gateway(),
        gpu_class("l40s"),
        cluster("east", [("gpu", "l40s", 3)], region="r-east"),
        cluster("west", [("gpu", "l40s", 2)], region="r-west"),
        deployment("chat", 2, selector={REGION: "r-east"}),
        model_cache("weights"),
        deployment("big", 1, gang=1, cache="weights", selector={REGION: "r-west"}),
        FALLBACK,
        routed,
    ]


def inputs_of(engine: Engine, cache: ClusterCache, key: ObjectKey) -> dict[str, Any]:
    """What the engine composed ``key`` from, as raw objects: the function's request."""
    stored = cache.get(key)
    assert stored is not None
    resources = {}
    for resource, child in cache.children(key).items():
        found = cache.get(child)
        if found is not None:
            resources[resource] = dict(found.manifest)
    required = {}
    for requirement in engine._requirements.get(key, ()):
        fetched = engine.resolve(requirement)
        assert not fetched.unreadable, fetched.unreadable
        required[requirement.key] = [
            dict(_cached(cache, requirement.api_version, requirement.kind, item).manifest)
            for item in fetched.items
        ]
    return {"composite": dict(stored.manifest), "resources": resources, "required": required}


def _cached(cache: ClusterCache, api_version: str, kind: str, item: Any) -> Any:
    metadata = item.metadata if hasattr(item, "metadata") else None
    if metadata is None:  # Unstructured
        raw = item.data["metadata"]
        name, namespace = raw["name"], raw.get("namespace") or ""
    else:
        name, namespace = metadata.name, metadata.namespace or ""
    found = cache.get((api_version, kind, namespace, name))
    assert found is not None
    return found


def applied(twin: ApiTwin, key: ObjectKey) -> dict[str, dict[str, Any]]:
    """The composite's children on the API server, by resource key, as a composer wrote them."""
    cache = twin.controller.cache
    children = {}
    for resource, child in cache.children(key).items():
        found = cache.get(child)
        assert found is not None
        children[resource] = without_server_fields(found.manifest)
    return children


def without_server_fields(manifest: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: copy.deepcopy(v) for k, v in manifest.items() if k != "status"}
    out["metadata"] = {
        k: v for k, v in (out.get("metadata") or {}).items() if k not in SERVER_METADATA
    }
    return out


def named_as_the_controller_does(
    manifest: dict[str, Any], composite: ObjectKey, resource: str
) -> dict[str, Any]:
    """The documented naming difference: an unnamed resource is ``<composite>-<key>`` here."""
    metadata = dict(manifest.get("metadata") or {})
    metadata.setdefault("name", f"{composite[3]}-{resource}")
    if composite[2]:
        metadata.setdefault("namespace", composite[2])
    return {**manifest, "metadata": metadata}


def composer_conditions(status: Mapping[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {
        c["type"]: (c["status"], c.get("reason", ""), c.get("message", ""))
        for c in status.get("conditions") or ()
        if c["type"] not in CROSSPLANE_CONDITIONS
    }


STATUS = {
    fnv1.STATUS_CONDITION_TRUE: "True",
    fnv1.STATUS_CONDITION_FALSE: "False",
    fnv1.STATUS_CONDITION_UNKNOWN: "Unknown",
}


def compare(twin: ApiTwin, stub: grpcv1.FunctionRunnerServiceStub) -> int:
    engine, cache = twin.controller.engine, twin.controller.cache
    compared = 0
    for key in composites(cache.keys()):
        given = inputs_of(engine, cache, key)
        rsp = stub.RunFunction(build_request(**given), timeout=30)
        assert not [r for r in rsp.results if r.severity == fnv1.SEVERITY_FATAL], rsp.results
        wanted = {
            resource: named_as_the_controller_does(
                without_server_fields(from_struct(desired.resource)), key, resource
            )
            for resource, desired in rsp.desired.resources.items()
        }
        assert wanted == applied(twin, key), key
        # The requirements the function returns are those the engine settled on.
        asked = sorted(rsp.requirements.resources)
        assert asked == sorted(r.key for r in engine._requirements.get(key, ())), key
        # The composite's status (conditions apart) and the composer's conditions.
        written = dict(given["composite"].get("status") or {})
        desired = from_struct(rsp.desired.composite.resource).get("status") or {}
        assert {k: v for k, v in written.items() if k != "conditions"} == desired, key
        conditions = {
            c.type: (STATUS[c.status], c.reason, c.message)
            for c in rsp.conditions
            if c.type not in CROSSPLANE_CONDITIONS
        }
        assert conditions == composer_conditions(written), key
        compared += 1
    return compared


def test_the_function_wants_what_the_controller_applied(
    stub: grpcv1.FunctionRunnerServiceStub,
) -> None:
    simulation = Simulation(fleet(), timing=INSTANT)
    simulation.run()
    with api_twin() as twin:
        twin.follow(simulation)
        kinds = {key[1] for key in composites(twin.controller.cache.keys())}
        assert {"InferenceCluster", "ModelDeployment", "ModelReplica", "ModelService"} <= kinds
        assert compare(twin, stub) >= 10
        simulation.at(simulation.now, Scale(deployment="chat", namespace="ml-team", replicas=3))
        simulation.run()
        twin.follow(simulation)
        assert compare(twin, stub) >= 10


# -- the Crossplane path's handshake and v2 composites ------------------------------------


def test_crossplanes_handshake_stabilizes_when_a_settled_deployment_scales_up() -> None:
    simulation = Simulation([*small_fleet(), deployment("chat", 1)])
    simulation.run()
    store = simulation.store
    key = ("modelplane.ai/v1alpha1", "ModelDeployment", "ml-team", "chat")
    stored = store.get(key)
    assert stored is not None
    composite = copy.deepcopy(dict(stored.manifest))
    composite["spec"]["replicas"] = 2
    observed = {}
    for resource, child in store.children(key).items():
        manifest = copy.deepcopy(dict(store.get(child).manifest))  # type: ignore[union-attr]
        annotations = manifest["metadata"].setdefault("annotations", {})
        annotations["crossplane.io/composition-resource-name"] = resource
        observed[resource] = manifest
    available = tuple(s.manifest for _, s in store.items())
    result = render(RenderInputs(composite=composite, observed=observed, available=available))
    assert result.stable
    assert len([k for k in result.response.desired.resources if k.startswith("replica-")]) == 2


def test_the_function_reads_required_composites_as_crossplane_v2_sends_them() -> None:
    simulation = Simulation(small_fleet())
    simulation.run()
    clusters = []
    for key, stored in simulation.store.items():
        if key[1] == "InferenceCluster":
            manifest = copy.deepcopy(dict(stored.manifest))
            manifest["spec"]["crossplane"] = {"compositionRef": {"name": "inferencecluster"}}
            clusters.append(manifest)
    request = build_request(deployment("chat", 1), required={"clusters": clusters, "replicas": []})
    rsp = run_function(request)
    reasons = {c.type: c.reason for c in rsp.conditions}
    assert reasons["ReplicasScheduled"] == "ReplicasCreated", reasons
