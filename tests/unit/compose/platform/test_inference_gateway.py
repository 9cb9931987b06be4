"""InferenceGateway: Traefik, its Gateway, and MetalLB on kind or bare metal."""

from __future__ import annotations

from typing import Any

import attrs

from modelplane_core import api
from modelplane_core.compose import inference_gateway
from modelplane_core.compose.composition import Observed
from modelplane_core.compose.inference_gateway import (
    GATEWAY_CLASS_KEY,
    GATEWAY_KEY,
    L2_KEY,
    METALLB_KEY,
    POOL_KEY,
    PROVIDER_CONFIG_KEY,
    TRAEFIK_KEY,
)
from tests.unit.compose.platform.fixtures import (
    condition_of,
    converge,
    example,
    keys,
    manifest,
    next_pass,
    ready_status,
    schema_problems,
)


def cloud_gateway() -> api.InferenceGateway:
    return api.InferenceGateway(
        metadata=api.ObjectMeta(name="default"),
        spec=api.InferenceGatewaySpec(
            backend="Traefik", traefik=api.TraefikSettings(version="40.2.0")
        ),
    )


def test_first_pass_composes_the_in_cluster_provider_config() -> None:
    gateway = example("concepts", "inference-gateway.yaml")
    composition = inference_gateway.compose(Observed(composite=gateway))
    assert keys(composition) == [PROVIDER_CONFIG_KEY]
    config = manifest(composition, PROVIDER_CONFIG_KEY)
    assert config["spec"] == {"credentials": {"source": "InjectedIdentity"}}
    assert config["metadata"] == {"name": "modelplane-in-cluster", "namespace": "modelplane-system"}
    assert composition.resource(PROVIDER_CONFIG_KEY).ready is True
    assert schema_problems(composition) == []
    assert condition_of(composition, "ControllerReady").reason == "WaitingForProviderConfig"
    assert composition.status == {}


def test_second_pass_installs_traefik_and_metallb() -> None:
    gateway = example("concepts", "inference-gateway.yaml")
    inputs = Observed(composite=gateway)
    second = inference_gateway.compose(next_pass(inputs, inference_gateway.compose(inputs)))
    assert keys(second) == [PROVIDER_CONFIG_KEY, METALLB_KEY, TRAEFIK_KEY]
    assert schema_problems(second) == []
    traefik = manifest(second, TRAEFIK_KEY)["spec"]["forProvider"]
    assert traefik["chart"] == {
        "name": "traefik",
        "repository": "https://traefik.github.io/charts",
        "version": "40.2.0",
    }
    assert traefik["namespace"] == "traefik-system"
    assert traefik["values"]["providers"]["kubernetesGateway"] == {"enabled": True}
    assert traefik["values"]["gatewayClass"] == {"enabled": False}
    assert manifest(second, TRAEFIK_KEY)["spec"]["providerConfigRef"] == {
        "kind": "ProviderConfig",
        "name": "modelplane-in-cluster",
    }
    assert condition_of(second, "ControllerReady").reason == "Installing"


def test_converged_gateway_publishes_its_address() -> None:
    gateway = example("concepts", "inference-gateway.yaml")
    _, composition = converge(inference_gateway.compose, Observed(composite=gateway))
    assert keys(composition) == [
        GATEWAY_KEY,
        GATEWAY_CLASS_KEY,
        POOL_KEY,
        L2_KEY,
        PROVIDER_CONFIG_KEY,
        METALLB_KEY,
        TRAEFIK_KEY,
    ]
    assert schema_problems(composition) == []
    assert all(r.ready for r in composition.resources)
    assert composition.status == {"address": "172.18.255.200"}
    control = manifest(composition, GATEWAY_KEY)
    assert control["metadata"] == {"name": "modelplane", "namespace": "modelplane-system"}
    assert control["spec"]["gatewayClassName"] == "traefik"
    assert control["spec"]["listeners"][0]["port"] == 8000
    assert control["spec"]["listeners"][0]["allowedRoutes"] == {"namespaces": {"from": "All"}}
    pool = manifest(composition, POOL_KEY)
    assert pool["spec"] == {"addresses": ["172.18.255.200-172.18.255.250"]}
    assert pool["metadata"]["namespace"] == "metallb-system"
    for type_ in ("ControllerReady", "LoadBalancerReady", "GatewayReady"):
        assert condition_of(composition, type_).status == "True", type_


def test_cloud_gateway_has_no_metallb() -> None:
    _, composition = converge(inference_gateway.compose, Observed(composite=cloud_gateway()))
    assert not any(k.startswith("metallb") or k == METALLB_KEY for k in keys(composition))
    assert composition.condition("LoadBalancerReady") is None
    assert composition.status == {"address": "172.18.255.200"}


def test_the_gateway_waits_for_an_accepted_class() -> None:
    inputs = Observed(composite=cloud_gateway())

    def class_pending(key: str, manifest: Any) -> Any:
        status = dict(ready_status(key, manifest))
        if key == GATEWAY_CLASS_KEY:
            status["conditions"] = [{"type": "Accepted", "status": "False"}]
        return status

    composition = inference_gateway.compose(inputs)
    for _ in range(4):
        inputs = next_pass(inputs, composition, class_pending)
        composition = inference_gateway.compose(inputs)
    assert GATEWAY_CLASS_KEY in keys(composition)
    assert GATEWAY_KEY not in keys(composition)
    assert composition.resource(GATEWAY_CLASS_KEY).ready is False
    assert condition_of(composition, "GatewayReady").reason == "WaitingForAddress"


def test_a_misnamed_gateway_is_held() -> None:
    observed, running = converge(inference_gateway.compose, Observed(composite=cloud_gateway()))
    misnamed = attrs.evolve(cloud_gateway(), metadata=api.ObjectMeta(name="other"))
    held = inference_gateway.compose(attrs.evolve(observed, composite=misnamed))
    assert held.held
    assert keys(held) == keys(running)
    accepted = condition_of(held, "Accepted")
    assert accepted.reason == "InvalidSpec"
    assert "metadata.name" in (accepted.message or "")
    assert held.resource(PROVIDER_CONFIG_KEY).ready is True


def test_metallb_without_settings_is_rejected() -> None:
    bad = api.InferenceGateway(
        metadata=api.ObjectMeta(name="default"),
        spec=api.InferenceGatewaySpec(
            backend="Traefik",
            traefik=api.TraefikSettings(version="40.2.0", load_balancer="MetalLB"),
        ),
    )
    composition = inference_gateway.compose(Observed(composite=bad))
    assert composition.held
    assert "spec.traefik.metallb" in (condition_of(composition, "Accepted").message or "")
