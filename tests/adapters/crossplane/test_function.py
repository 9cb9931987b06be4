"""``run_function``: dispatch to the core composer per kind, and Fatal instead of crashes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import struct_pb2

from modelplane_adapters.crossplane.function import find_composer, run_function
from modelplane_adapters.crossplane.structs import from_struct
from modelplane_adapters.crossplane.translate import (
    REASON_COMPOSE_FAILED,
    REASON_INVALID_COMPOSITE,
    REASON_INVALID_COMPOSITION,
    REASON_MALFORMED_REQUEST,
    REASON_NO_COMPOSITE,
    REASON_UNSUPPORTED_KIND,
    build_request,
    observed_from_request,
    response_from_composition,
    target_for,
)
from modelplane_core import api
from modelplane_core.cache import Cache
from modelplane_core.compose import (
    Composition,
    Decoder,
    DesiredResource,
    Observed,
    compose,
    composer_for,
)
from tests import scheduling_fixtures as fixtures
from tests.adapters.crossplane.support import (
    as_crossplane_observes,
    huge_selector,
    reference_example,
)

KINDS = sorted(api.KINDS, key=lambda c: c.kind_info.kind)
OBSERVED_SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {
        "name": "kept",
        "namespace": "ml-team",
        "annotations": {"crossplane.io/composition-resource-name": "service"},
    },
    "spec": {"ports": [{"port": 80, "protocol": "TCP"}]},
    "status": {"loadBalancer": {}},
}


def fatal(rsp: fnv1.RunFunctionResponse) -> fnv1.Result:
    (result,) = [r for r in rsp.results if r.severity == fnv1.SEVERITY_FATAL]
    return result


def assert_no_teardown(rsp: fnv1.RunFunctionResponse) -> None:
    kept = from_struct(rsp.desired.resources["service"].resource)
    assert kept["metadata"]["name"] == "kept"
    assert "status" not in kept


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.kind_info.kind)
def test_every_kind_dispatches_to_its_core_composer(cls: type[api.Resource]) -> None:
    """The response is exactly the core composition, translated; never a Fatal result."""
    req = build_request(as_crossplane_observes(reference_example(cls)))
    rsp = run_function(req)
    assert [r.message for r in rsp.results if r.severity == fnv1.SEVERITY_FATAL] == []
    _, observed = observed_from_request(req)
    expected = response_from_composition(req, compose(observed), target=target_for(cls))
    assert rsp == expected


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.kind_info.kind)
def test_a_kind_without_composer_is_a_clear_fatal(
    cls: type[api.Resource], monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_built(kind: object) -> Any:
        error = ModuleNotFoundError("No module named 'modelplane_core.compose.later'")
        error.name = "modelplane_core.compose.later"
        raise error

    monkeypatch.setattr("modelplane_adapters.crossplane.function.composer_for", not_built)
    req = build_request(reference_example(cls), resources={"service": OBSERVED_SERVICE})
    rsp = run_function(req)
    result = fatal(rsp)
    assert result.reason == REASON_UNSUPPORTED_KIND
    assert f"no composer for {cls.kind_info.kind} yet" in result.message
    assert result.target == target_for(cls)
    assert_no_teardown(rsp)


def test_find_composer_returns_the_registered_composer() -> None:
    assert find_composer(api.ModelEndpoint) is composer_for(api.ModelEndpoint)


@pytest.mark.parametrize(
    ("mutate", "reason", "fragment"),
    [
        (lambda xr: xr.clear(), REASON_NO_COMPOSITE, "no observed composite"),
        (lambda xr: xr.update(kind="Banana"), REASON_UNSUPPORTED_KIND, "Banana"),
        (
            lambda xr: xr.update(apiVersion="modelplane.ai/v9"),
            REASON_UNSUPPORTED_KIND,
            "modelplane.ai/v9",
        ),
        (
            lambda xr: xr["spec"].update(url=42),
            REASON_INVALID_COMPOSITE,
            "spec.url: expected a string",
        ),
        (lambda xr: xr.update(spec="nope"), REASON_INVALID_COMPOSITE, "spec: expected an object"),
        (lambda xr: xr["spec"].update(extra={}), REASON_INVALID_COMPOSITE, "spec.extra"),
        (lambda xr: xr.update(metadata=[]), REASON_INVALID_COMPOSITE, "metadata"),
    ],
    ids=[
        "no-composite",
        "unknown-kind",
        "wrong-version",
        "wrong-type",
        "spec-not-object",
        "unknown-field",
        "metadata-not-object",
    ],
)
def test_malformed_composites_get_fatal_results_and_no_teardown(
    mutate: Any, reason: str, fragment: str
) -> None:
    xr = copy.deepcopy(reference_example(api.ModelEndpoint))
    mutate(xr)
    req = build_request(xr, resources={"service": OBSERVED_SERVICE})
    rsp = run_function(req)
    result = fatal(rsp)
    assert result.reason == reason
    assert fragment in result.message
    assert_no_teardown(rsp)
    assert rsp.meta.tag == req.meta.tag


def test_a_huge_cel_selector_is_refused_before_the_scheduler_sees_it() -> None:
    xr = huge_selector(reference_example(api.ModelDeployment))
    req = build_request(xr, resources={"service": OBSERVED_SERVICE})
    rsp = run_function(req)
    result = fatal(rsp)
    assert result.reason == REASON_INVALID_COMPOSITE
    assert "selectors[0].cel: must be at most 10240 characters long" in result.message
    assert len(result.message) < 2000
    assert_no_teardown(rsp)


def test_a_composer_that_raises_gives_a_fatal_naming_the_composite() -> None:
    def broken(_: Observed[Any], _cache: Cache | None) -> Composition:
        raise ZeroDivisionError("division by zero")

    req = build_request(
        reference_example(api.ModelEndpoint), resources={"service": OBSERVED_SERVICE}
    )
    rsp = run_function(req, lookup=lambda _cls: broken)
    result = fatal(rsp)
    assert result.reason == REASON_COMPOSE_FAILED
    assert "ModelEndpoint ml-team/" in result.message
    assert "ZeroDivisionError: division by zero" in result.message
    assert_no_teardown(rsp)


def test_a_composition_that_cannot_be_sent_gives_a_fatal() -> None:
    def odd(_: Observed[Any], _cache: Cache | None) -> Composition:
        return Composition(
            resources=[DesiredResource(key="x", manifest={"spec": {"bad": float("inf")}})]
        )

    req = build_request(
        reference_example(api.ModelEndpoint), resources={"service": OBSERVED_SERVICE}
    )
    rsp = run_function(req, lookup=lambda _cls: odd)
    result = fatal(rsp)
    assert result.reason == REASON_INVALID_COMPOSITION
    assert "'x'" in result.message
    assert "spec.bad" in result.message
    assert_no_teardown(rsp)
    assert "x" not in rsp.desired.resources


def _nan_at(struct: struct_pb2.Struct, *path: str | int) -> None:
    """Put NaN at ``path`` in ``struct`` (a Go structpb can carry one; JSON cannot)."""
    node: Any = struct
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = float("nan")


def test_a_composite_with_a_number_json_cannot_hold_is_invalid() -> None:
    req = build_request(
        reference_example(api.ModelDeployment), resources={"service": OBSERVED_SERVICE}
    )
    _nan_at(req.observed.composite.resource, "spec", "replicas")
    rsp = run_function(req)
    result = fatal(rsp)
    assert result.reason == REASON_INVALID_COMPOSITE
    assert result.message == (
        "the observed composite cannot be read: spec.replicas: nan is not a JSON number"
    )
    assert_no_teardown(rsp)


@pytest.mark.parametrize(
    ("where", "fragment"),
    [
        ("observed", "observed composed resource 'broken' cannot be read: spec.ports[0].port"),
        ("required", "required resource 'gateway'[0] cannot be read: status.n"),
        ("context", "the pipeline context cannot be read: apiextensions.crossplane.io/env.n"),
    ],
)
def test_other_unreadable_parts_of_the_request_are_malformed(where: str, fragment: str) -> None:
    broken = copy.deepcopy(OBSERVED_SERVICE)
    req = build_request(
        reference_example(api.ModelEndpoint),
        resources={"service": OBSERVED_SERVICE, "broken": broken},
        required={"gateway": [{"apiVersion": "v1", "kind": "X", "status": {"n": 1}}]},
        context={"apiextensions.crossplane.io/env": {"n": 1}},
    )
    if where == "observed":
        _nan_at(req.observed.resources["broken"].resource, "spec", "ports", 0, "port")
    elif where == "required":
        _nan_at(req.required_resources["gateway"].items[0].resource, "status", "n")
    else:
        _nan_at(req.context, "apiextensions.crossplane.io/env", "n")
    rsp = run_function(req)
    result = fatal(rsp)
    assert result.reason == REASON_MALFORMED_REQUEST
    assert fragment in result.message
    assert_no_teardown(rsp)
    # The unreadable observed resource is still kept: copied verbatim, never dropped.
    assert "broken" in rsp.desired.resources
    if where == "observed":
        assert rsp.desired.resources["broken"].resource == req.observed.resources["broken"].resource


def test_the_runners_memory_changes_no_answer_and_keeps_unchanged_objects() -> None:
    """A runner remembers decoded object versions; answers must not depend on it."""

    def served(obj: Any, version: str) -> dict[str, Any]:
        manifest = api.to_dict(obj)
        meta = {**manifest["metadata"], "uid": f"uid-{manifest['metadata']['name']}"}
        return {**manifest, "metadata": {**meta, "resourceVersion": version}}

    fleet = [served(fixtures.cluster(name), "7") for name in ("a", "b")]
    composite = served(fixtures.deployment("qwen"), "3")
    req = build_request(composite, required={"clusters": fleet, "replicas": []})
    cache, decoder = Cache(), Decoder()
    fresh = run_function(req)
    assert run_function(req, cache=cache, decoder=decoder) == fresh
    assert run_function(req, cache=cache, decoder=decoder) == fresh
    first, observed = observed_from_request(req, decoder)
    again, later = observed_from_request(req, decoder)
    assert again.obj is first.obj  # a composite version is decoded once
    assert later.required["clusters"].items[0] is observed.required["clusters"].items[0]
    # A new resourceVersion is a new object: decoded again, and its change is seen.
    edited = served(fixtures.deployment("qwen", replicas=2), "4")
    changed = build_request(edited, required={"clusters": fleet, "replicas": []})
    assert run_function(changed, cache=cache, decoder=decoder) == run_function(changed)
    newer, _ = observed_from_request(changed, decoder)
    assert newer.obj is not first.obj
    assert isinstance(newer.obj, api.ModelDeployment)
    assert newer.obj.spec.replicas == 2
