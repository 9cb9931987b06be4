"""ModelService composition: selection, namespace isolation, weights, rewrites, holding routes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelplane_core import api
from modelplane_core.compose import model_service
from modelplane_core.compose.composition import Observed
from modelplane_core.compose.model_service import MAX_BACKENDS, endpoints_key
from tests.unit.compose.ml.fixtures import observed_plain, schema_problems

GATEWAY = {
    "apiVersion": "modelplane.ai/v1alpha1",
    "kind": "InferenceGateway",
    "metadata": {"name": "default"},
    "spec": {"backend": "Traefik", "traefik": {"version": "40.2.0"}},
    "status": {"address": "34.55.100.10"},
}


def service(*entries: tuple[Mapping[str, str], int], name: str = "qwen") -> api.ModelService:
    return api.ModelService(
        metadata=api.ObjectMeta(name=name, namespace="ml-team"),
        spec=api.ModelServiceSpec(
            endpoints=tuple(
                api.EndpointSelector(
                    selector=api.LabelSelector(match_labels=dict(labels)), weight=weight
                )
                for labels, weight in entries
            )
        ),
    )


def endpoint(
    name: str,
    labels: Mapping[str, str],
    *,
    url: str = "http://10.0.0.1/ml-team/r/",
    rewrite: str | None = "/ml-team/r/",
    backend: str | None = "default",
    namespace: str = "ml-team",
) -> dict[str, Any]:
    obj = api.ModelEndpoint(
        metadata=api.ObjectMeta(name=name, namespace=namespace, labels=dict(labels)),
        spec=api.ModelEndpointSpec(url=url, rewrite_path=rewrite),
        status=api.ModelEndpointStatus(
            routing=api.EndpointRouting(
                backend_name=f"{name}-svc" if backend == "default" else backend
            )
        )
        if backend
        else None,
    )
    return api.to_dict(obj)


def observe(
    svc: api.ModelService,
    *groups: Sequence[dict[str, Any]],
    gateway: Sequence[dict[str, Any]] = (GATEWAY,),
    resources: Mapping[str, Any] | None = None,
) -> Observed[api.ModelService]:
    required: dict[str, tuple[Mapping[str, Any], ...]] = {"gateway": tuple(gateway)}
    for index, found in enumerate(groups):
        required[endpoints_key(index)] = tuple(found)
    return Observed(composite=svc, required=required, resources=resources or {})


def route_of(out: model_service.Composition) -> dict[str, Any]:
    found = out.resource("route")
    assert found is not None
    return dict(found.manifest)


def refs(out: model_service.Composition) -> list[dict[str, Any]]:
    refs_: list[dict[str, Any]] = route_of(out)["spec"]["rules"][0]["backendRefs"]
    return refs_


DEP = {"modelplane.ai/deployment": "qwen"}
EXT = {"modelplane.ai/external-provider": "together"}


def test_one_route_on_the_control_gateway_with_a_rewrite_per_backend() -> None:
    out = model_service.compose(
        observe(
            service((DEP, 1), (EXT, 1)),
            [endpoint("r-1", DEP)],
            [endpoint("together", EXT, url="https://api.together.xyz/", rewrite="/v1/")],
        )
    )
    route = route_of(out)
    assert route["metadata"] == {"name": "qwen", "namespace": "ml-team"}
    assert route["spec"]["parentRefs"] == [{"name": "modelplane", "namespace": "modelplane-system"}]
    rule = route["spec"]["rules"][0]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/ml-team/qwen/"}}]
    assert rule["backendRefs"] == [
        {
            "name": "r-1-svc",
            "port": 80,
            "weight": 1,
            "filters": [
                {
                    "type": "URLRewrite",
                    "urlRewrite": {
                        "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/ml-team/r/"}
                    },
                }
            ],
        },
        {
            "name": "together-svc",
            "port": 443,
            "weight": 1,
            "filters": [
                {
                    "type": "URLRewrite",
                    "urlRewrite": {
                        "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/v1/"},
                        "hostname": "api.together.xyz",
                    },
                }
            ],
        },
    ]
    assert out.status == {"address": "http://34.55.100.10/ml-team/qwen"}
    assert out.condition("EndpointsResolved").status == "True"  # type: ignore[union-attr]
    assert schema_problems(out) == []


def test_requirements_select_endpoints_in_the_services_own_namespace() -> None:
    svc = service((DEP, 1), (EXT, 3))
    needed = model_service.requirements(svc)
    assert needed[0].kind == "InferenceGateway"
    assert needed[0].match_name == "default"
    assert [(r.kind, r.namespace, dict(r.match_labels or {})) for r in needed[1:]] == [
        ("ModelEndpoint", "ml-team", DEP),
        ("ModelEndpoint", "ml-team", EXT),
    ]


def test_endpoints_of_another_namespace_are_never_routed_to() -> None:
    foreign = endpoint("r-evil", DEP, namespace="other-team")
    out = model_service.compose(observe(service((DEP, 1)), [endpoint("r-1", DEP), foreign]))
    assert [r["name"] for r in refs(out)] == ["r-1-svc"]
    only_foreign = model_service.compose(observe(service((DEP, 1)), [foreign]))
    assert only_foreign.resources == ()


def test_endpoints_not_matching_the_selector_are_ignored() -> None:
    stray = endpoint("r-2", {"modelplane.ai/deployment": "other"})
    out = model_service.compose(observe(service((DEP, 1)), [endpoint("r-1", DEP), stray]))
    assert [r["name"] for r in refs(out)] == ["r-1-svc"]


def test_only_endpoints_with_a_backend_are_routed_and_the_rest_are_named() -> None:
    out = model_service.compose(
        observe(service((DEP, 1)), [endpoint("r-1", DEP), endpoint("r-2", DEP, backend=None)])
    )
    assert [r["name"] for r in refs(out)] == ["r-1-svc"]
    resolved = out.condition("EndpointsResolved")
    assert resolved is not None
    assert "r-2 (no backend yet)" in (resolved.message or "")


def test_an_endpoint_matched_by_two_entries_counts_for_the_first_only() -> None:
    both = {**DEP, **EXT}
    out = model_service.compose(
        observe(
            service((DEP, 3), (EXT, 1)),
            [endpoint("a", both)],
            [endpoint("a", both), endpoint("b", EXT)],
        )
    )
    assert [(r["name"], r["weight"]) for r in refs(out)] == [("a-svc", 3), ("b-svc", 1)]


def test_group_weights_split_over_their_endpoints() -> None:
    dep = [endpoint(f"r-{i}", DEP) for i in range(3)]
    out = model_service.compose(observe(service((DEP, 80), (EXT, 20)), dep, [endpoint("ext", EXT)]))
    assert [r["weight"] for r in refs(out)] == [27, 27, 26, 20]


def test_order_of_fetched_endpoints_does_not_matter() -> None:
    found = [endpoint(f"r-{i}", DEP) for i in range(4)]
    a = model_service.compose(observe(service((DEP, 5)), found)).to_dict()
    b = model_service.compose(observe(service((DEP, 5)), list(reversed(found)))).to_dict()
    assert a == b


def test_without_rewrite_path_the_url_path_is_the_rewrite() -> None:
    out = model_service.compose(
        observe(
            service((EXT, 1)),
            [endpoint("p", EXT, url="https://api.example.com/openai/v1", rewrite=None)],
        )
    )
    rewrite = refs(out)[0]["filters"][0]["urlRewrite"]["path"]["replacePrefixMatch"]
    assert rewrite == "/openai/v1/"


def test_an_ipv6_gateway_address_is_bracketed() -> None:
    gateway = {**GATEWAY, "status": {"address": "2001:db8::5"}}
    out = model_service.compose(observe(service((DEP, 1)), [endpoint("r", DEP)], gateway=[gateway]))
    assert out.status == {"address": "http://[2001:db8::5]/ml-team/qwen"}


def test_without_a_gateway_address_the_route_is_composed_without_an_address() -> None:
    out = model_service.compose(observe(service((DEP, 1)), [endpoint("r", DEP)], gateway=[]))
    assert out.status == {}
    assert out.resource("route") is not None


def test_routing_is_ready_once_the_gateway_accepts_and_resolves_the_route() -> None:
    first = model_service.compose(observe(service((DEP, 1)), [endpoint("r", DEP)]))
    assert first.condition("RoutingReady").status == "False"  # type: ignore[union-attr]
    parent = {"parentRef": {"name": "modelplane", "namespace": "modelplane-system"}}
    accepted = {
        "parents": [
            {
                **parent,
                "conditions": [
                    {"type": "Accepted", "status": "True"},
                    {"type": "ResolvedRefs", "status": "True"},
                ],
            }
        ]
    }
    live = {"route": observed_plain(route_of(first), accepted)}
    out = model_service.compose(observe(service((DEP, 1)), [endpoint("r", DEP)], resources=live))
    assert out.condition("RoutingReady").status == "True"  # type: ignore[union-attr]
    assert out.resource("route").ready is True  # type: ignore[union-attr]
    unresolved = {
        "parents": [
            {
                **parent,
                "conditions": [
                    {"type": "Accepted", "status": "True"},
                    {"type": "ResolvedRefs", "status": "False"},
                ],
            }
        ]
    }
    live = {"route": observed_plain(route_of(first), unresolved)}
    out = model_service.compose(observe(service((DEP, 1)), [endpoint("r", DEP)], resources=live))
    assert out.condition("RoutingReady").status == "False"  # type: ignore[union-attr]


def test_losing_every_endpoint_holds_the_live_route() -> None:
    svc = service((DEP, 1))
    first = model_service.compose(observe(svc, [endpoint("r", DEP)]))
    live = {"route": observed_plain(route_of(first))}
    for found in ([], [endpoint("r", DEP, backend=None)]):
        out = model_service.compose(observe(svc, found, resources=live))
        assert out.held
        assert route_of(out) == route_of(first)
        resolved = out.condition("EndpointsResolved")
        assert resolved is not None
        assert resolved.status == "False"
        assert resolved.reason in ("NoEndpoints", "NoReadyEndpoints")
        assert any(e.type == "Warning" for e in out.events)


def test_a_new_service_with_no_endpoints_composes_no_route() -> None:
    out = model_service.compose(observe(service((DEP, 1)), []))
    assert out.resources == ()
    assert out.status == {}
    assert out.ready is False
    assert not out.held
    assert out.condition("EndpointsResolved").reason == "NoEndpoints"  # type: ignore[union-attr]
    assert len(out.requirements) == 2


def test_unresolved_requirements_hold() -> None:
    svc = service((DEP, 1), (EXT, 1))
    first = model_service.compose(observe(svc, [endpoint("r", DEP)], []))
    live = {"route": observed_plain(route_of(first))}
    partial = Observed(
        composite=svc, required={"gateway": (GATEWAY,), endpoints_key(0): ()}, resources=live
    )
    out = model_service.compose(partial)
    assert out.held
    assert route_of(out) == route_of(first)
    resolved = out.condition("EndpointsResolved")
    assert resolved is not None
    assert resolved.status == "Unknown"
    assert "endpoints-1" in (resolved.message or "")


def test_an_unreadable_endpoint_is_reported_and_skipped() -> None:
    broken = {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelEndpoint",
        "metadata": {"name": "x"},
    }
    out = model_service.compose(observe(service((DEP, 1)), [broken, endpoint("r", DEP)]))
    assert [r["name"] for r in refs(out)] == ["r-svc"]
    assert [e.reason for e in out.events] == ["UnreadableEndpoint"]


def test_at_most_sixteen_backends_are_routed_and_the_rest_named() -> None:
    found = [endpoint(f"r-{i:02d}", DEP) for i in range(MAX_BACKENDS + 2)]
    out = model_service.compose(observe(service((DEP, 1)), found))
    assert len(refs(out)) == MAX_BACKENDS
    resolved = out.condition("EndpointsResolved")
    assert resolved is not None
    assert "r-16, r-17" in (resolved.message or "")
    assert any(e.reason == "TooManyEndpoints" for e in out.events)
    assert schema_problems(out) == []


def test_an_invalid_service_holds() -> None:
    bad = service(({}, 1))  # an empty selector would route to everything
    out = model_service.compose(observe(bad, []))
    assert out.held
    assert out.condition("EndpointsResolved").reason == "InvalidSpec"  # type: ignore[union-attr]
