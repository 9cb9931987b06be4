"""The real server on a loopback socket: every kind, the handshake, load and faults.

The server is ``modelplane function serve --insecure`` in a subprocess (see
conftest); requests are real ``RunFunctionRequest`` protobufs over gRPC, and the
expected answer is always what the same request gives in-process, so the wire
adds nothing and loses nothing.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import grpc
import pytest
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1
from crossplane.function.proto.v1beta1 import run_function_pb2 as fnv1beta1
from crossplane.function.proto.v1beta1 import run_function_pb2_grpc as grpcv1beta1

from modelplane_adapters.crossplane.function import run_function
from modelplane_adapters.crossplane.structs import from_struct
from modelplane_adapters.crossplane.translate import build_request
from modelplane_core import api
from modelplane_core.compose import composer_for
from tests.adapters.crossplane.support import (
    as_crossplane_observes,
    example,
    h200_cluster,
    huge_selector,
    reference_example,
    requires_scheduler,
)

KINDS = sorted(api.KINDS, key=lambda c: c.kind_info.kind)
SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "kept", "namespace": "ml-team"},
    "spec": {"ports": [{"port": 80, "protocol": "TCP"}]},
    "status": {"loadBalancer": {}},
}


def has_composer(cls: type[api.Resource]) -> bool:
    try:
        composer_for(cls)
    except ModuleNotFoundError:
        return False
    return True


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
    if has_composer(cls):
        assert fatal_reasons(rsp) == []
    else:  # a composer another issue is still writing: refused clearly, nothing torn down
        assert fatal_reasons(rsp) == ["UnsupportedKind"]


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

    requires_scheduler()
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

    started = time.perf_counter()
    answers = asyncio.run(call_all())
    elapsed = time.perf_counter() - started
    assert len(answers) == 500
    for index, answer in enumerate(answers):
        assert answer == expected[index % len(requests)], f"call {index} answered wrongly"
    assert elapsed < 30, f"500 calls took {elapsed:.1f} s"


def _malformed() -> list[tuple[str, fnv1.RunFunctionRequest, str]]:
    endpoint = reference_example(api.ModelEndpoint)
    wrong_type = copy.deepcopy(endpoint)
    wrong_type["spec"]["url"] = ["not", "a", "string"]
    unknown = copy.deepcopy(endpoint)
    unknown["spec"]["replicas"] = 3
    no_composite = build_request(endpoint, resources={"service": SERVICE})
    no_composite.observed.ClearField("composite")
    return [
        ("no composite", no_composite, "MissingComposite"),
        (
            "unknown kind",
            build_request(
                {"apiVersion": "example.org/v1", "kind": "Widget"}, resources={"service": SERVICE}
            ),
            "UnsupportedKind",
        ),
        (
            "wrong type",
            build_request(wrong_type, resources={"service": SERVICE}),
            "InvalidComposite",
        ),
        (
            "unknown field",
            build_request(unknown, resources={"service": SERVICE}),
            "InvalidComposite",
        ),
        (
            "huge CEL selector",
            build_request(
                huge_selector(reference_example(api.ModelDeployment)),
                resources={"service": SERVICE},
            ),
            "InvalidComposite",
        ),
    ]


@pytest.mark.parametrize(
    ("name", "req", "reason"), _malformed(), ids=[case[0] for case in _malformed()]
)
def test_malformed_requests_get_fatal_results_and_no_teardown(
    name: str, req: fnv1.RunFunctionRequest, reason: str, stub: grpcv1.FunctionRunnerServiceStub
) -> None:
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
