"""ModelEndpoint composition: a selector-less Service and its EndpointSlice, held on bad input."""

from __future__ import annotations

from typing import Any

import pytest

from modelplane_core import api
from modelplane_core.compose import model_endpoint
from modelplane_core.compose.composition import Observed
from modelplane_core.compose.model_endpoint import backend_service_name, replica_endpoint
from modelplane_core.compose.workloads.endpoint_address import EndpointAddress, parse_endpoint_url
from tests.unit.compose.ml.fixtures import keys, observed_plain, schema_problems


def endpoint(
    url: str, name: str = "kimi-k2-together", rewrite: str | None = "/"
) -> api.ModelEndpoint:
    return api.ModelEndpoint(
        metadata=api.ObjectMeta(name=name, namespace="ml-team"),
        spec=api.ModelEndpointSpec(url=url, rewrite_path=rewrite),
    )


def resource(out: model_endpoint.Composition, key: str) -> dict[str, Any]:
    found = out.resource(key)
    assert found is not None
    return dict(found.manifest)


@pytest.mark.parametrize(
    ("url", "address_type", "address", "port"),
    [
        ("http://34.55.100.10/ml-team/qwen/", "IPv4", "34.55.100.10", 80),
        ("http://[2001:db8::1]/v1", "IPv6", "2001:db8::1", 80),
        ("https://api.together.xyz/", "FQDN", "api.together.xyz", 443),
        ("http://gw.example.com:8080/x", "FQDN", "gw.example.com", 8080),
        ("HTTPS://API.Example.COM", "FQDN", "api.example.com", 443),
        ("http://10.0.0.1:31000", "IPv4", "10.0.0.1", 31000),
    ],
)
def test_the_url_becomes_a_service_and_an_endpoint_slice(
    url: str, address_type: str, address: str, port: int
) -> None:
    out = model_endpoint.compose(Observed(composite=endpoint(url)))
    assert keys(out) == ["endpointslice", "service"]
    service = resource(out, "service")
    assert "selector" not in service["spec"]
    assert service["spec"]["ports"] == [{"port": port, "targetPort": port, "protocol": "TCP"}]
    slice_ = resource(out, "endpointslice")
    assert slice_["addressType"] == address_type
    assert slice_["endpoints"] == [{"addresses": [address], "conditions": {"ready": True}}]
    assert slice_["ports"][0]["port"] == port
    assert slice_["metadata"]["labels"]["kubernetes.io/service-name"] == service["metadata"]["name"]
    assert service["metadata"]["namespace"] == slice_["metadata"]["namespace"] == "ml-team"
    assert schema_problems(out) == []


def test_the_backend_is_published_only_once_both_objects_exist() -> None:
    ep = endpoint("https://api.together.xyz/")
    first = model_endpoint.compose(Observed(composite=ep))
    assert first.status == {}
    assert first.condition("RoutingReady").reason == "WaitingForBackend"  # type: ignore[union-attr]
    assert [r.ready for r in first.resources] == [False, False]
    service_only = model_endpoint.compose(
        Observed(composite=ep, resources={"service": observed_plain(resource(first, "service"))})
    )
    assert service_only.status == {}
    both = model_endpoint.compose(
        Observed(
            composite=ep,
            resources={key: observed_plain(resource(first, key)) for key in keys(first)},
        )
    )
    assert both.status == {"routing": {"backendName": backend_service_name("kimi-k2-together")}}
    assert both.condition("RoutingReady").status == "True"  # type: ignore[union-attr]
    assert all(r.ready for r in both.resources)


@pytest.mark.parametrize(
    "url",
    ["not-a-url", "https://host:abc", "ftp://files.example.com/", "api.x.com", "http://bad_host/"],
)
def test_an_invalid_url_holds_what_routes_today(url: str) -> None:
    good = endpoint("https://api.together.xyz/")
    first = model_endpoint.compose(Observed(composite=good))
    live = {key: observed_plain(resource(first, key)) for key in keys(first)}
    routed = api.ModelEndpoint(
        metadata=good.metadata,
        spec=api.ModelEndpointSpec(url=url),
        status=api.ModelEndpointStatus(
            routing=api.EndpointRouting(backend_name=backend_service_name("kimi-k2-together"))
        ),
    )
    out = model_endpoint.compose(Observed(composite=routed, resources=live))
    assert out.held
    assert keys(out) == keys(first)
    assert out.status == {"routing": {"backendName": backend_service_name("kimi-k2-together")}}
    routing = out.condition("RoutingReady")
    assert routing is not None
    assert routing.status == "False"
    assert routing.reason in ("InvalidURL", "InvalidSpec")
    assert [e.type for e in out.events] == ["Warning"]
    assert url in (routing.message or "") or "URL" in (routing.message or "")


def test_an_invalid_url_on_a_new_endpoint_composes_nothing_and_is_not_ready() -> None:
    out = model_endpoint.compose(Observed(composite=endpoint("not-a-url")))
    assert out.resources == ()
    assert out.ready is False
    assert out.condition("RoutingReady").reason == "InvalidURL"  # type: ignore[union-attr]


def test_replica_endpoint_points_at_the_replica_path_on_the_cluster_gateway() -> None:
    url, rewrite = replica_endpoint("ml-team", "qwen-a1b2c", "34.55.100.10")
    assert (url, rewrite) == ("http://34.55.100.10/ml-team/qwen-a1b2c/", "/ml-team/qwen-a1b2c/")
    parsed = parse_endpoint_url(url)
    assert isinstance(parsed, EndpointAddress)
    assert parsed.address_type == "IPv4"
    url6, _ = replica_endpoint("ml-team", "qwen", "2001:db8::7")
    parsed6 = parse_endpoint_url(url6)
    assert isinstance(parsed6, EndpointAddress)
    assert (parsed6.address, parsed6.address_type) == ("2001:db8::7", "IPv6")
    host_url, _ = replica_endpoint("ml-team", "qwen", "a1b2-3.elb.us-west-2.amazonaws.com")
    assert parse_endpoint_url(host_url).address_type == "FQDN"  # type: ignore[union-attr]
