"""The real server on a loopback socket: every kind, the handshake, load and faults.

The server is ``modelplane function serve --insecure`` in a subprocess (see
conftest); requests are real ``RunFunctionRequest`` protobufs over gRPC, and the
expected answer is always what the same request gives in-process, so the wire
adds nothing and loses nothing.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import grpc
import pytest
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1
from crossplane.function.proto.v1beta1 import run_function_pb2 as fnv1beta1
from crossplane.function.proto.v1beta1 import run_function_pb2_grpc as grpcv1beta1

from modelplane_adapters.crossplane.function import run_function
from modelplane_adapters.crossplane.render import (
    COMPOSITION_RESOURCE_NAME,
    RenderInputs,
    render,
    render_remote,
)
from modelplane_adapters.crossplane.structs import from_struct
from modelplane_adapters.crossplane.translate import build_request
from modelplane_core import api
from tests.adapters.crossplane.support import (
    as_crossplane_observes,
    example,
    h200_cluster,
    huge_selector,
    reference_example,
)

KINDS = sorted(api.KINDS, key=lambda c: c.kind_info.kind)
SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "kept", "namespace": "ml-team"},
    "spec": {"ports": [{"port": 80, "protocol": "TCP"}]},
    "status": {"loadBalancer": {}},
}


def fatal_reasons(rsp: fnv1.RunFunctionResponse) -> list[str]:
    return [r.reason for r in rsp.results if r.severity == fnv1.SEVERITY_FATAL]


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.kind_info.kind)
def test_every_kind_over_grpc(
    cls: type[api.Resource], stub: grpcv1.FunctionRunnerServiceStub
) -> None:
    req = build_request(as_crossplane_observes(reference_example(cls)), context={"replicas": 3})
    rsp = stub.RunFunction(req, timeout=30)
    assert rsp == run_function(req)
    assert rsp.meta.tag == req.meta.tag
    assert rsp.meta.ttl.seconds == 60
    assert from_struct(rsp.context) == {"replicas": 3}
    assert fatal_reasons(rsp) == []


def test_the_v1beta1_service_answers_the_same(function_address: str) -> None:
    req = build_request(reference_example(api.ModelEndpoint))
    beta = fnv1beta1.RunFunctionRequest()
    beta.ParseFromString(req.SerializeToString())
    with grpc.insecure_channel(function_address) as channel:
        rsp = grpcv1beta1.FunctionRunnerServiceStub(channel).RunFunction(beta, timeout=30)
    expected = fnv1beta1.RunFunctionResponse()
    expected.ParseFromString(run_function(req).SerializeToString())
    assert rsp == expected


def test_model_deployment_required_resources_handshake(
    stub: grpcv1.FunctionRunnerServiceStub,
) -> None:
    """Call 1 asks for the fleet and the cache and holds; call 2, with them, composes."""
    deployment = as_crossplane_observes(example("concepts", "model-deployment-multinode.yaml"))
    first = stub.RunFunction(build_request(deployment), timeout=30)
    assert fatal_reasons(first) == []
    asked = {
        key: (s.api_version, s.kind, s.WhichOneof("match"), s.namespace)
        for key, s in first.requirements.resources.items()
    }
    assert asked == {
        "clusters": ("modelplane.ai/v1alpha1", "InferenceCluster", "match_labels", ""),
        "replicas": ("modelplane.ai/v1alpha1", "ModelReplica", "match_labels", ""),
        "cache": ("modelplane.ai/v1alpha1", "ModelCache", "match_name", "ml-team"),
    }
    assert first.requirements.resources["cache"].match_name == "qwen3-coder"
    assert dict(first.desired.resources) == {}  # nothing composed yet, nothing existed
    (waiting,) = [c for c in first.conditions if c.type == "ReplicasScheduled"]
    assert waiting.status == fnv1.STATUS_CONDITION_UNKNOWN

    required = {
        "clusters": [h200_cluster("h200-east"), h200_cluster("h200-west", region="us-west")],
        "replicas": [],
        "cache": [example("concepts", "model-cache.yaml")],
    }
    second_req = build_request(deployment, required=required)
    second = stub.RunFunction(second_req, timeout=30)
    assert second == run_function(second_req)
    assert fatal_reasons(second) == []
    replicas = {
        key: from_struct(r.resource)
        for key, r in second.desired.resources.items()
        if key.startswith("replica-")
    }
    assert len(replicas) == 1
    (replica,) = replicas.values()
    assert replica["kind"] == "ModelReplica"
    assert replica["spec"]["clusterName"] in ("h200-east", "h200-west")
    assert replica["spec"]["modelCacheRef"] == {"name": "qwen3-coder"}
    assert from_struct(second.desired.composite.resource)["status"]["replicas"]["total"] == 1
    (scheduled,) = [c for c in second.conditions if c.type == "ReplicasScheduled"]
    assert scheduled.status == fnv1.STATUS_CONDITION_TRUE
    # Same requirements as before: Crossplane stops iterating here.
    assert second.requirements == first.requirements


def test_500_concurrent_calls_are_all_answered_correctly(function_address: str) -> None:
    requests = [
        build_request(reference_example(api.ModelEndpoint)),
        build_request(as_crossplane_observes(reference_example(api.ModelService))),
        build_request(reference_example(api.ModelDeployment)),
        build_request(reference_example(api.ModelCache), required={"clusters": []}),
        build_request(reference_example(api.InferenceClass)),
        build_request({"apiVersion": "v1", "kind": "Nope"}, resources={"s": SERVICE}),
    ]
    expected = [run_function(req) for req in requests]

    async def call_all() -> list[fnv1.RunFunctionResponse]:
        async with grpc.aio.insecure_channel(function_address) as channel:
            stub = grpcv1.FunctionRunnerServiceStub(channel)
            calls = [stub.RunFunction(requests[i % len(requests)], timeout=60) for i in range(500)]
            return list(await asyncio.gather(*calls))

    answers = asyncio.run(call_all())
    assert len(answers) == 500
    for index, answer in enumerate(answers):
        assert answer == expected[index % len(requests)], f"call {index} answered wrongly"


def _malformed(case: str) -> tuple[fnv1.RunFunctionRequest, str]:
    """The request of one malformed case and the Fatal reason it must get.

    Built inside the test, not at collection: the examples come from ../shared,
    and a missing ../shared must skip these tests, not fail collection.
    """
    endpoint = reference_example(api.ModelEndpoint)
    wrong_type = copy.deepcopy(endpoint)
    wrong_type["spec"]["url"] = ["not", "a", "string"]
    unknown = copy.deepcopy(endpoint)
    unknown["spec"]["replicas"] = 3
    no_composite = build_request(endpoint, resources={"service": SERVICE})
    no_composite.observed.ClearField("composite")
    not_a_number = build_request(
        reference_example(api.ModelDeployment), resources={"service": SERVICE}
    )
    not_a_number.observed.composite.resource["spec"]["replicas"] = float("nan")
    cases = {
        "no composite": (no_composite, "MissingComposite"),
        "unknown kind": (
            build_request(
                {"apiVersion": "example.org/v1", "kind": "Widget"}, resources={"service": SERVICE}
            ),
            "UnsupportedKind",
        ),
        "wrong type": (
            build_request(wrong_type, resources={"service": SERVICE}),
            "InvalidComposite",
        ),
        "unknown field": (
            build_request(unknown, resources={"service": SERVICE}),
            "InvalidComposite",
        ),
        "NaN in the composite": (not_a_number, "InvalidComposite"),
        "huge CEL selector": (
            build_request(
                huge_selector(reference_example(api.ModelDeployment)),
                resources={"service": SERVICE},
            ),
            "InvalidComposite",
        ),
    }
    return cases[case]


MALFORMED = (
    "no composite",
    "unknown kind",
    "wrong type",
    "unknown field",
    "NaN in the composite",
    "huge CEL selector",
)


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_requests_get_fatal_results_and_no_teardown(
    name: str, stub: grpcv1.FunctionRunnerServiceStub
) -> None:
    req, reason = _malformed(name)
    rsp = stub.RunFunction(req, timeout=30)
    assert fatal_reasons(rsp) == [reason], name
    kept = from_struct(rsp.desired.resources["service"].resource)
    assert kept == {k: v for k, v in SERVICE.items() if k != "status"}
    healthy = build_request(reference_example(api.ModelEndpoint))
    assert stub.RunFunction(healthy, timeout=30) == run_function(healthy)


def test_bytes_that_are_not_a_request_do_not_stop_the_server(function_address: str) -> None:
    with grpc.insecure_channel(function_address) as channel:
        raw = channel.unary_unary(
            "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        with pytest.raises(grpc.RpcError) as caught:
            raw(b"\xff\xff\xff\xff not a protobuf", timeout=10)
        assert caught.value.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
        too_big = build_request(
            reference_example(api.ModelEndpoint),
            context={"blob": "x" * (5 * 1024 * 1024)},
        )
        stub = grpcv1.FunctionRunnerServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.RunFunction(too_big, timeout=10)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        healthy = build_request(reference_example(api.ModelEndpoint))
        assert stub.RunFunction(healthy, timeout=30) == run_function(healthy)


def _with_selector(deployment: dict[str, Any], expression: str) -> dict[str, Any]:
    xr = copy.deepcopy(deployment)
    xr["spec"]["engines"][0]["members"][0]["nodeSelector"]["devices"][0]["selectors"] = [
        {"cel": expression}
    ]
    return xr


# Selectors the XRD schema admits (at most 10 KiB) that are hard on a CEL compiler:
# deep nesting (Python recursion), a cost bomb, a long chain, a big literal list.
ADMITTED_CEL = {
    "nested parentheses": "(" * 2000 + "true" + ")" * 2000,
    "nested negations": "!" * 9000 + "true",
    "nested macros over big lists": "["
    + ",".join(["1"] * 1000)
    + "].all(x, ["
    + ",".join(["1"] * 1000)
    + "].all(y, x == y))",
    "10 KiB disjunction": "device.driver == 'gpu.nvidia.com' || " * 270 + "true",
    "big literal list": "device.driver in [" + ",".join(f"'d{i}'" for i in range(900)) + "]",
}


@pytest.mark.parametrize("expression", ADMITTED_CEL.values(), ids=list(ADMITTED_CEL))
def test_hard_cel_selectors_never_stop_the_server_or_tear_down(
    expression: str, stub: grpcv1.FunctionRunnerServiceStub
) -> None:
    """Refused (Fatal) or explained (a False condition), never a crash or an empty desired."""
    assert len(expression) <= 10 * 1024  # within the schema: the composer must judge it
    running = {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelReplica",
        "metadata": {"name": "qwen3-coder-h200-east-0", "namespace": "ml-team"},
        "spec": {"clusterName": "h200-east"},
    }
    deployment = _with_selector(example("concepts", "model-deployment-multinode.yaml"), expression)
    req = build_request(
        as_crossplane_observes(deployment),
        resources={"replica-h200-east-0": running},
        required={
            "clusters": [h200_cluster("h200-east")],
            "replicas": [running],
            "cache": [example("concepts", "model-cache.yaml")],
        },
    )
    rsp = stub.RunFunction(req, timeout=60)
    assert rsp == run_function(req)
    assert "replica-h200-east-0" in rsp.desired.resources
    refused = fatal_reasons(rsp)
    explained = [c for c in rsp.conditions if c.status == fnv1.STATUS_CONDITION_FALSE and c.message]
    scheduled = [
        c
        for c in rsp.conditions
        if c.type == "ReplicasScheduled" and c.status == fnv1.STATUS_CONDITION_TRUE
    ]
    assert refused or explained or scheduled, rsp
    healthy = build_request(reference_example(api.ModelEndpoint))
    assert stub.RunFunction(healthy, timeout=30) == run_function(healthy)


def test_model_deployment_reconciles_through_crossplanes_loop_over_grpc(
    function_address: str,
) -> None:
    """Crossplane's FetchingFunctionRunner against the live server, two reconciles.

    Reconcile 1: call, fetch the three selectors, call again; the answer places a
    replica. Reconcile 2: the replica exists (observed, and listed by the
    ``replicas`` selector) and reports Ready; it stays where it is.
    """
    deployment = as_crossplane_observes(example("concepts", "model-deployment-multinode.yaml"))
    fleet = (
        h200_cluster("h200-east"),
        h200_cluster("h200-west", region="us-west"),
        example("concepts", "model-cache.yaml"),
    )
    first = RenderInputs(composite=deployment, available=fleet)
    remote = render_remote(first, function_address)
    assert (remote.calls, remote.stable) == (2, True)
    assert remote.response == render(first).response
    (key,) = [k for k in remote.response.desired.resources if k.startswith("replica-")]
    replica = from_struct(remote.response.desired.resources[key].resource)

    existing = copy.deepcopy(replica)
    existing["metadata"]["uid"] = "7d0c1f4e"
    existing["metadata"]["annotations"] = {COMPOSITION_RESOURCE_NAME: key}
    existing["status"] = {"conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}]}
    second = RenderInputs(
        composite=deployment, observed={key: existing}, available=(*fleet, existing)
    )
    again = render_remote(second, function_address)
    assert again.response == render(second).response
    assert [k for k in again.response.desired.resources if k.startswith("replica-")] == [key]
    kept = from_struct(again.response.desired.resources[key].resource)
    assert kept["spec"]["clusterName"] == replica["spec"]["clusterName"]
    assert kept["metadata"]["name"] == replica["metadata"]["name"]
    status = from_struct(again.response.desired.composite.resource)["status"]
    assert status["replicas"] == {"total": 1, "ready": 1}
