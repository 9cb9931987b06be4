"""Golden ``modelplane render`` output for the documentation examples.

Each file under ``expected/render/`` is exactly what ``modelplane render``
prints for the inputs below (the same function code path Crossplane calls over
gRPC). Review them by eye: they show the desired composite status, conditions,
events, required-resource selectors and desired resources with readiness.
"""

from __future__ import annotations

import copy
from typing import Any

from modelplane_adapters.crossplane.render import (
    COMPOSITION_RESOURCE_NAME,
    RenderInputs,
    render,
)
from tests.adapters.crossplane.support import (
    as_crossplane_observes,
    example,
    h200_cluster,
)
from tests.golden_support import assert_golden


def rendered(inputs: RenderInputs) -> str:
    result = render(inputs)
    assert result.stable
    return result.to_yaml()


def test_render_external_model_endpoint() -> None:
    endpoint = as_crossplane_observes(example("concepts", "model-endpoint.yaml"))
    assert_golden("render/model-endpoint-first-pass", rendered(RenderInputs(composite=endpoint)))


def test_render_external_model_endpoint_with_its_objects_observed() -> None:
    """Second reconcile: the Service and EndpointSlice exist and report themselves."""
    endpoint = as_crossplane_observes(example("concepts", "model-endpoint.yaml"))
    first = render(RenderInputs(composite=endpoint)).to_dict()
    observed: dict[str, dict[str, Any]] = {}
    for key, resource in first["resources"].items():
        manifest = copy.deepcopy(resource["manifest"])
        manifest["metadata"].setdefault("annotations", {})[COMPOSITION_RESOURCE_NAME] = key
        manifest["metadata"]["uid"] = f"uid-{key}"
        observed[key] = manifest
    assert_golden(
        "render/model-endpoint-observed",
        rendered(RenderInputs(composite=endpoint, observed=observed)),
    )


def test_render_model_service_resolves_gateway_and_endpoints() -> None:
    gateway = example("concepts", "inference-gateway.yaml")
    gateway["status"] = {"address": "203.0.113.7"}
    provider = example("concepts", "model-endpoint.yaml")
    provider["status"] = {
        "routing": {"backendName": "kimi-k2-together-endpoint-d8a39"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "Available"}],
    }
    service = as_crossplane_observes(example("concepts", "model-service-external.yaml"))
    assert_golden(
        "render/model-service-external",
        rendered(RenderInputs(composite=service, available=(gateway, provider))),
    )


def test_render_model_deployment_before_the_fleet_is_fetched() -> None:
    deployment = as_crossplane_observes(example("concepts", "model-deployment-multinode.yaml"))
    assert_golden(
        "render/model-deployment-unresolved",
        render(RenderInputs(composite=deployment), max_calls=1).to_yaml(),
    )


def test_render_model_deployment_schedules_onto_the_fleet() -> None:
    deployment = as_crossplane_observes(example("concepts", "model-deployment-multinode.yaml"))
    fleet = (
        h200_cluster("h200-east"),
        h200_cluster("h200-west", region="us-west"),
        example("concepts", "model-cache.yaml"),
    )
    assert_golden(
        "render/model-deployment-scheduled",
        rendered(RenderInputs(composite=deployment, available=fleet)),
    )


def test_render_refuses_a_malformed_composite_and_keeps_what_runs() -> None:
    deployment = as_crossplane_observes(example("concepts", "model-deployment.yaml"))
    deployment["spec"]["replicaz"] = 2
    running = {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelReplica",
        "metadata": {
            "name": "qwen3-8b-3b1f0",
            "namespace": "ml-team",
            "uid": "2c6f1f9e",
            "annotations": {COMPOSITION_RESOURCE_NAME: "replica-gke-l4-0"},
        },
        "spec": {"clusterName": "gke-l4"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert_golden(
        "render/model-deployment-malformed",
        render(
            RenderInputs(composite=deployment, observed={"replica-gke-l4-0": running})
        ).to_yaml(),
    )
