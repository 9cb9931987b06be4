"""The pure translation: request -> Observed, Composition -> response, Fatal answers."""

from __future__ import annotations

from typing import Any

import pytest
from crossplane.function import resource
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import struct_pb2

from modelplane_adapters.crossplane.admission import admission_problems
from modelplane_adapters.crossplane.machinery import strip_machinery
from modelplane_adapters.crossplane.structs import (
    StructError,
    canonical,
    from_struct,
    to_struct,
)
from modelplane_adapters.crossplane.translate import (
    REASON_INVALID_COMPOSITE,
    REASON_NO_COMPOSITE,
    REASON_UNSUPPORTED_KIND,
    RequestError,
    build_request,
    fatal_response,
    observed_from_request,
    response_from_composition,
    selector_message,
    target_for,
)
from modelplane_core import api
from modelplane_core.compose import (
    Composition,
    DesiredResource,
    Event,
    Fetched,
    Requirement,
    condition,
)
from tests.adapters.crossplane.support import as_crossplane_observes

ENDPOINT: dict[str, Any] = {
    "apiVersion": "modelplane.ai/v1alpha1",
    "kind": "ModelEndpoint",
    "metadata": {"name": "together", "namespace": "ml-team"},
    "spec": {"url": "https://api.together.xyz/", "rewritePath": "/v1/"},
}

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "modelplane.ai/v1alpha1",
    "kind": "ModelDeployment",
    "metadata": {"name": "qwen", "namespace": "ml-team"},
    "spec": {
        "replicas": 2,
        "engines": [
            {
                "name": "main",
                "copies": 3,
                "members": [
                    {
                        "role": "Standalone",
                        "nodeSelector": {
                            "devices": [{"name": "gpu", "count": 1, "selectors": [{"cel": "true"}]}]
                        },
                        "template": {
                            "spec": {"containers": [{"name": "engine", "image": "vllm/vllm"}]}
                        },
                    }
                ],
            }
        ],
    },
}


# --- numbers -----------------------------------------------------------------------------


def test_struct_numbers_come_back_as_exact_integers() -> None:
    sent = {"replicas": 2, "ratio": 0.5, "big": 2**52 + 1, "on": True, "nested": [{"n": 0}]}
    raw = resource.struct_to_dict(resource.dict_to_struct(sent))
    assert raw["replicas"] == 2.0
    assert isinstance(raw["replicas"], float)  # what the SDK hands over
    back = from_struct(resource.dict_to_struct(sent))
    assert back == sent
    assert type(back["replicas"]) is int
    assert type(back["big"]) is int
    assert type(back["ratio"]) is float
    assert back["on"] is True
    assert type(back["nested"][0]["n"]) is int


def test_from_struct_leaves_strings_bools_and_nulls_alone() -> None:
    struct = resource.dict_to_struct(
        {"a": "2", "b": False, "c": 3.0, "d": [1.5, 2.0, None], "e": -0.0, "f": 1e300}
    )
    back = from_struct(struct)
    assert back == {"a": "2", "b": False, "c": 3, "d": [1.5, 2, None], "e": 0, "f": 1e300}
    assert type(back["c"]) is int
    assert type(back["d"][0]) is float
    assert type(back["f"]) is float  # beyond 2**53: which integer was meant is already lost
    assert from_struct(to_struct(back)) == back  # and so it round-trips
    assert back["b"] is False
    assert back["d"][2] is None


def test_from_struct_names_values_json_cannot_hold() -> None:
    struct = struct_pb2.Struct()
    struct.update({"spec": {"ports": [{"port": 80}, {"port": 0}]}})
    struct["spec"]["ports"][1]["port"] = float("nan")
    with pytest.raises(StructError, match=r"^spec\.ports\[1\]\.port: nan is not a JSON number$"):
        from_struct(struct)
    struct["spec"]["ports"][1]["port"] = float("-inf")
    with pytest.raises(StructError, match=r"spec\.ports\[1\]\.port: -inf"):
        from_struct(struct)


def test_to_struct_refuses_integers_a_double_cannot_hold() -> None:
    assert from_struct(to_struct({"n": 2**53, "m": -(2**53)})) == {"n": 2**53, "m": -(2**53)}
    with pytest.raises(StructError, match=r"spec\.bytes: 9007199254740993 is beyond 2\*\*53"):
        to_struct({"spec": {"bytes": 2**53 + 1}})


def test_to_struct_refuses_values_json_cannot_hold() -> None:
    with pytest.raises(StructError, match=r"spec\.x"):
        to_struct({"spec": {"x": float("nan")}})
    with pytest.raises(StructError, match=r"spec\.y\[0\]"):
        to_struct({"spec": {"y": [object()]}})
    assert from_struct(to_struct({"t": (1, 2)})) == {"t": [1, 2]}


def test_canonical_order_is_kubectl_like() -> None:
    ordered = canonical({"status": {}, "spec": {"b": 1, "a": 2}, "metadata": {}, "kind": "K"})
    assert list(ordered) == ["kind", "metadata", "spec", "status"]
    assert list(ordered["spec"]) == ["a", "b"]


def test_every_number_in_the_request_is_exact() -> None:
    req = build_request(
        DEPLOYMENT,
        resources={"r": {"apiVersion": "v1", "kind": "X", "spec": {"replicas": 4}}},
        required={"clusters": [{"apiVersion": "v1", "kind": "Y", "status": {"nodes": 8}}]},
        context={"apiextensions.crossplane.io/environment": {"zones": 3, "weight": 0.25}},
    )
    composite, observed = observed_from_request(req)
    assert isinstance(composite.obj, api.ModelDeployment)
    assert type(composite.obj.spec.replicas) is int
    assert api.to_dict(composite.obj)["spec"]["engines"][0]["copies"] == 3
    assert type(observed.resources["r"].manifest["spec"]["replicas"]) is int
    (other_kind,) = observed.required["clusters"].items
    assert isinstance(other_kind, api.Unstructured)
    assert type(other_kind.data["status"]["nodes"]) is int
    environment = observed.context["apiextensions.crossplane.io/environment"]
    assert type(environment["zones"]) is int
    assert environment["weight"] == 0.25


# --- requests -> Observed --------------------------------------------------------------------


def test_required_absent_means_not_fetched_and_empty_means_nothing_matched() -> None:
    req = build_request(ENDPOINT, required={"gateway": []})
    _, observed = observed_from_request(req)
    assert observed.required == {"gateway": Fetched()}
    assert observed.required_or_none("gateway") == Fetched()
    assert observed.required_or_none("endpoints-0") is None


def test_legacy_extra_resources_are_read_too() -> None:
    req = build_request(ENDPOINT)
    item = fnv1.Resource(resource=to_struct({"apiVersion": "v1", "kind": "Secret"}))
    req.extra_resources["old"].items.append(item)
    _, observed = observed_from_request(req)
    assert observed.required["old"] == Fetched(
        items=(api.Unstructured(data={"apiVersion": "v1", "kind": "Secret"}),)
    )


def test_observed_resources_keep_status_and_connection_details() -> None:
    req = build_request(ENDPOINT, resources={"service": {"apiVersion": "v1", "kind": "Service"}})
    req.observed.resources["service"].connection_details["token"] = b"s3cr3t"
    _, observed = observed_from_request(req)
    assert observed.resources["service"].connection_details == {"token": b"s3cr3t"}


def test_crossplane_machinery_is_stripped_before_decoding() -> None:
    req = build_request(as_crossplane_observes(ENDPOINT))
    composite, _ = observed_from_request(req)
    assert composite.obj.metadata.uid == "0f9e6c1a-3b7d-4f55-9a1e-2c4b8d7e6f10"
    assert composite.obj.metadata.generation == 3
    assert composite.obj.status is not None
    assert [c.type for c in composite.obj.status.conditions or ()] == ["Synced", "Ready"]
    assert set(composite.removed) == {
        "metadata.managedFields",
        "spec.crossplane",
        "status.crossplane",
    }


def test_legacy_machinery_is_stripped_too() -> None:
    legacy = {
        **ENDPOINT,
        "metadata": {**ENDPOINT["metadata"], "selfLink": "/apis/x"},
        "spec": {
            **ENDPOINT["spec"],
            "compositionRef": {"name": "c"},
            "resourceRefs": [],
            "writeConnectionSecretToRef": {"name": "s", "namespace": "n"},
            "claimRef": {"apiVersion": "a", "kind": "k", "name": "n", "namespace": "n"},
        },
        "status": {"connectionDetails": {}, "claimConditionTypes": ["X"]},
    }
    stripped = strip_machinery(legacy, api.ModelEndpoint)
    assert stripped.manifest["spec"] == ENDPOINT["spec"]
    assert stripped.manifest["status"] == {}
    assert "metadata.selfLink" in stripped.removed
    api.from_dict(stripped.manifest)  # decodes cleanly


def test_a_kind_field_named_like_machinery_is_never_stripped() -> None:
    # ModelDeployment declares spec.replicas; a made-up legacy name it declares would stay.
    stripped = strip_machinery(DEPLOYMENT, api.ModelDeployment)
    assert stripped.manifest == DEPLOYMENT
    assert stripped.removed == ()


def test_unknown_fields_are_reported_with_their_path_not_dropped() -> None:
    bad = {**ENDPOINT, "spec": {**ENDPOINT["spec"], "urll": "typo"}}
    with pytest.raises(RequestError) as caught:
        observed_from_request(build_request(bad))
    assert caught.value.reason == REASON_INVALID_COMPOSITE
    assert "ModelEndpoint ml-team/together cannot be read" in caught.value.message
    assert "spec.urll" in caught.value.message


def test_wrong_types_are_reported_with_their_path() -> None:
    bad = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replicas": "two"}}
    with pytest.raises(RequestError, match=r"spec\.replicas: expected an integer"):
        observed_from_request(build_request(bad))


@pytest.mark.parametrize(
    ("composite", "reason", "fragment"),
    [
        ({"apiVersion": "v1", "kind": "ConfigMap"}, REASON_UNSUPPORTED_KIND, "v1 ConfigMap"),
        (
            {"apiVersion": "modelplane.ai/v2", "kind": "ModelEndpoint"},
            REASON_UNSUPPORTED_KIND,
            "modelplane.ai/v2 ModelEndpoint",
        ),
        ({"kind": "ModelEndpoint"}, REASON_UNSUPPORTED_KIND, "no apiVersion/kind"),
    ],
)
def test_kinds_we_do_not_serve_are_refused(
    composite: dict[str, Any], reason: str, fragment: str
) -> None:
    with pytest.raises(RequestError) as caught:
        observed_from_request(build_request(composite))
    assert caught.value.reason == reason
    assert fragment in caught.value.message


def test_a_request_without_composite_is_refused() -> None:
    with pytest.raises(RequestError) as caught:
        observed_from_request(fnv1.RunFunctionRequest(meta=fnv1.RequestMeta(tag="t")))
    assert caught.value.reason == REASON_NO_COMPOSITE


def test_schema_limits_are_enforced_like_admission() -> None:
    huge = "true || " * 6400 + "true"  # ~50 KiB
    bad: dict[str, Any] = {
        **DEPLOYMENT,
        "spec": {**DEPLOYMENT["spec"], "replicas": 500},
    }
    engine = bad["spec"]["engines"][0]
    selectors = [{"cel": huge}]
    bad["spec"]["engines"] = [
        {
            **engine,
            "members": [
                {
                    **engine["members"][0],
                    "nodeSelector": {
                        "devices": [{"name": "gpu", "count": 1, "selectors": selectors}]
                    },
                }
            ],
        }
    ]
    problems = admission_problems(bad, api.ModelDeployment)
    assert any(p.startswith("spec.replicas: must be at most") for p in problems)
    assert any(
        "spec.engines[0].members[0].nodeSelector.devices[0].selectors[0].cel: must be at most" in p
        for p in problems
    )
    with pytest.raises(RequestError) as caught:
        observed_from_request(build_request(bad))
    assert "could not have admitted it" in caught.value.message
    assert len(caught.value.message) < 2000  # the 50 KiB value is never echoed


def test_duplicate_list_map_keys_are_refused_like_admission() -> None:
    engines = DEPLOYMENT["spec"]["engines"]
    bad = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "engines": engines + engines}}
    assert "spec.engines[1]: duplicate entry with name=main" in admission_problems(
        bad, api.ModelDeployment
    )


# --- Composition -> response -----------------------------------------------------------


def _composition(**overrides: Any) -> Composition:
    values: dict[str, Any] = {
        "resources": [
            DesiredResource(
                key="b", manifest={"apiVersion": "v1", "kind": "B", "n": 2}, ready=True
            ),
            DesiredResource(key="a", manifest={"apiVersion": "v1", "kind": "A"}, ready=False),
            DesiredResource(key="c", manifest={"apiVersion": "v1", "kind": "C"}),
        ],
        "status": {"replicas": {"total": 2, "ready": 1}},
        "conditions": (
            condition("ReplicasScheduled", True, "ReplicasCreated", "2 of 2"),
            condition("ReplicasReady", "Unknown", "", None),
        ),
        "events": (Event.normal("Scheduled", "placed"), Event.warning("Short", "1 short")),
        "requirements": (
            Requirement(
                key="clusters", api_version="modelplane.ai/v1alpha1", kind="IC", match_labels={}
            ),
            Requirement(
                key="cache",
                api_version="modelplane.ai/v1alpha1",
                kind="MC",
                match_name="c",
                namespace="ns",
            ),
            Requirement(
                key="eps",
                api_version="modelplane.ai/v1alpha1",
                kind="ME",
                match_labels={"a": "b"},
                namespace="ns",
            ),
        ),
        "ready": None,
    }
    values.update(overrides)
    return Composition(**values)


def test_response_carries_everything_the_composer_wants() -> None:
    req = build_request(DEPLOYMENT)
    rsp = response_from_composition(req, _composition(), target=fnv1.TARGET_COMPOSITE_AND_CLAIM)
    assert rsp.meta.tag == req.meta.tag
    assert rsp.meta.ttl.seconds == 60  # the SDK default, kept on purpose
    assert {k: r.ready for k, r in rsp.desired.resources.items()} == {
        "a": fnv1.READY_FALSE,
        "b": fnv1.READY_TRUE,
        "c": fnv1.READY_UNSPECIFIED,
    }
    assert from_struct(rsp.desired.resources["b"].resource) == {
        "apiVersion": "v1",
        "kind": "B",
        "n": 2,
    }
    assert from_struct(rsp.desired.composite.resource) == {
        "status": {"replicas": {"total": 2, "ready": 1}}
    }
    assert rsp.desired.composite.ready == fnv1.READY_UNSPECIFIED
    first, second = rsp.conditions
    assert (first.type, first.status, first.reason, first.message) == (
        "ReplicasScheduled",
        fnv1.STATUS_CONDITION_TRUE,
        "ReplicasCreated",
        "2 of 2",
    )
    assert first.target == fnv1.TARGET_COMPOSITE_AND_CLAIM
    assert second.status == fnv1.STATUS_CONDITION_UNKNOWN
    assert second.reason == "ComposeResources"  # Crossplane needs a reason
    assert not second.HasField("message")
    assert [(r.severity, r.reason, r.message) for r in rsp.results] == [
        (fnv1.SEVERITY_NORMAL, "Scheduled", "placed"),
        (fnv1.SEVERITY_WARNING, "Short", "1 short"),
    ]
    clusters = rsp.requirements.resources["clusters"]
    assert clusters.WhichOneof("match") == "match_labels"
    assert dict(clusters.match_labels.labels) == {}
    assert not clusters.HasField("namespace")
    cache = rsp.requirements.resources["cache"]
    assert (cache.match_name, cache.namespace) == ("c", "ns")
    assert dict(rsp.requirements.resources["eps"].match_labels.labels) == {"a": "b"}


def test_composite_readiness_is_forwarded() -> None:
    req = build_request(DEPLOYMENT)
    assert response_from_composition(req, _composition(ready=False)).desired.composite.ready == (
        fnv1.READY_FALSE
    )
    assert response_from_composition(req, _composition(ready=True)).desired.composite.ready == (
        fnv1.READY_TRUE
    )


def test_earlier_pipeline_steps_are_respected() -> None:
    req = build_request(DEPLOYMENT, desired={"from-earlier": {"apiVersion": "v1", "kind": "E"}})
    req.desired.composite.resource.update(
        {"status": {"earlier": "kept", "replicas": "overwritten"}}
    )
    req.context.update({"from-earlier": "context"})
    rsp = response_from_composition(req, _composition())
    assert set(rsp.desired.resources) == {"from-earlier", "a", "b", "c"}
    assert from_struct(rsp.desired.composite.resource)["status"] == {
        "earlier": "kept",
        "replicas": {"total": 2, "ready": 1},
    }
    assert from_struct(rsp.context) == {"from-earlier": "context"}


def test_reserved_conditions_are_not_forwarded() -> None:
    req = build_request(DEPLOYMENT)
    composition = _composition(conditions=(condition("Ready", True, "Done"),))
    rsp = response_from_composition(req, composition)
    assert [c.type for c in rsp.conditions] == []
    assert rsp.results[-1].reason == "ReservedCondition"


def test_internal_kinds_target_the_composite_only() -> None:
    assert target_for(api.ModelDeployment) == fnv1.TARGET_COMPOSITE_AND_CLAIM
    assert target_for(api.ServingStack) == fnv1.TARGET_COMPOSITE
    assert target_for(None) == fnv1.TARGET_COMPOSITE


def test_a_requirement_without_name_or_labels_selects_everything() -> None:
    selector = selector_message(Requirement(key="k", api_version="v1", kind="Secret"))
    assert selector.WhichOneof("match") == "match_labels"


# --- Fatal -------------------------------------------------------------------------------


def test_fatal_keeps_observed_resources_without_status_or_server_fields() -> None:
    observed = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s", "uid": "u", "resourceVersion": "9", "managedFields": []},
        "spec": {"ports": [{"port": 80}]},
        "status": {"loadBalancer": {}},
    }
    req = build_request(
        ENDPOINT,
        resources={"service": observed, "other": {"apiVersion": "v1", "kind": "X"}},
        desired={"other": {"apiVersion": "v1", "kind": "X", "spec": {"from": "earlier step"}}},
    )
    rsp = fatal_response(req, "Broken", "it broke")
    assert from_struct(rsp.desired.resources["service"].resource) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80}]},
    }
    # An earlier step's desired entry wins over the observed copy.
    assert from_struct(rsp.desired.resources["other"].resource)["spec"] == {"from": "earlier step"}
    (result,) = rsp.results
    assert (result.severity, result.reason, result.message) == (
        fnv1.SEVERITY_FATAL,
        "Broken",
        "it broke",
    )
    assert rsp.meta.tag == req.meta.tag


def test_fatal_messages_are_clipped() -> None:
    rsp = fatal_response(build_request(ENDPOINT), "Broken", "x" * 100_000)
    assert len(rsp.results[0].message) <= 4096
