"""Golden ModelEndpoint and ModelService compositions from the example manifests."""

from __future__ import annotations

from typing import Any

from modelplane_core import api
from modelplane_core.api.meta import LABEL_CLUSTER, LABEL_DEPLOYMENT
from modelplane_core.compose import model_endpoint, model_service
from modelplane_core.compose.composition import Observed
from modelplane_core.compose.model_endpoint import backend_service_name, replica_endpoint
from tests.golden_support import as_yaml, assert_golden
from tests.unit.compose.ml.fixtures import example, observed_plain, schema_problems

GATEWAY = "34.55.100.10"


def both_passes(endpoint: api.ModelEndpoint) -> list[dict[str, Any]]:
    """The first reconcile, and the one after both objects exist (backend published)."""
    first = model_endpoint.compose(Observed(composite=endpoint))
    assert schema_problems(first) == []
    live = {r.key: observed_plain(r.manifest) for r in first.resources}
    second = model_endpoint.compose(Observed(composite=endpoint, resources=live))
    return [api.to_dict(endpoint), first.to_dict(), second.to_dict()]


def replica_endpoint_object(replica: str, cluster: str, address: str) -> api.ModelEndpoint:
    """The ModelEndpoint the ModelDeployment composer publishes for a ready replica."""
    url, rewrite = replica_endpoint("ml-team", replica, address)
    return api.ModelEndpoint(
        metadata=api.ObjectMeta(
            name=replica,
            namespace="ml-team",
            labels={LABEL_DEPLOYMENT: "kimi-k2", LABEL_CLUSTER: cluster},
        ),
        spec=api.ModelEndpointSpec(url=url, rewrite_path=rewrite),
        status=api.ModelEndpointStatus(
            routing=api.EndpointRouting(backend_name=backend_service_name(replica))
        ),
    )


def test_external_endpoint() -> None:
    assert_golden(
        "ml/endpoint-external", as_yaml(*both_passes(example("concepts", "model-endpoint.yaml")))
    )


def test_replica_endpoint() -> None:
    endpoint = replica_endpoint_object("kimi-k2-3f2a1", "gke-us-east", GATEWAY)
    assert_golden("ml/endpoint-replica", as_yaml(*both_passes(endpoint)))


def routed(endpoint: api.ModelEndpoint) -> dict[str, Any]:
    published = api.ModelEndpointStatus(
        routing=api.EndpointRouting(backend_name=backend_service_name(endpoint.metadata.name or ""))
    )
    return api.to_dict(
        api.ModelEndpoint(metadata=endpoint.metadata, spec=endpoint.spec, status=published)
    )


def gateway() -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "InferenceGateway",
        "metadata": {"name": "default"},
        "spec": {"backend": "Traefik", "traefik": {"version": "40.2.0"}},
        "status": {"address": "172.18.255.200"},
    }


def render_service(
    service: api.ModelService, groups: list[list[dict[str, Any]]], name: str
) -> None:
    required = {"gateway": (gateway(),)} | {
        f"endpoints-{i}": tuple(found) for i, found in enumerate(groups)
    }
    composition = model_service.compose(Observed(composite=service, required=required))
    assert schema_problems(composition) == []
    assert_golden(f"ml/{name}", as_yaml(api.to_dict(service), composition.to_dict()))


def test_service_across_replicas_and_an_external_provider() -> None:
    service = example("concepts", "model-service-external.yaml")
    replicas = [
        routed(replica_endpoint_object("kimi-k2-3f2a1", "gke-us-east", GATEWAY)),
        routed(
            replica_endpoint_object(
                "kimi-k2-9c0d4", "eks-us-west", "a1b2c3-4d5e.elb.us-west-2.amazonaws.com"
            )
        ),
    ]
    external = routed(example("concepts", "model-endpoint.yaml"))
    render_service(service, [replicas, [external]], "service-external")


def test_weighted_service_across_two_deployments() -> None:
    """getting-started's two-deployment service, split 90/10 (weights are beyond the seeds)."""
    base: api.ModelService = example("getting-started", "model-service-multi.yaml")
    entries = tuple(
        api.EndpointSelector(selector=e.selector, weight=w)
        for e, w in zip(base.spec.endpoints, (90, 10), strict=True)
    )
    service = api.ModelService(metadata=base.metadata, spec=api.ModelServiceSpec(endpoints=entries))

    def ep(name: str, deployment: str, address: str) -> dict[str, Any]:
        url, rewrite = replica_endpoint("ml-team", name, address)
        return routed(
            api.ModelEndpoint(
                metadata=api.ObjectMeta(
                    name=name, namespace="ml-team", labels={LABEL_DEPLOYMENT: deployment}
                ),
                spec=api.ModelEndpointSpec(url=url, rewrite_path=rewrite),
            )
        )

    demo = [
        ep("qwen-demo-7323a", "qwen-demo", "34.55.100.10"),
        ep("qwen-demo-81bb2", "qwen-demo", "34.55.100.11"),
    ]
    west = [ep("qwen-west-92535", "qwen-west", "35.1.2.3")]
    render_service(service, [demo, west], "service-weighted")
