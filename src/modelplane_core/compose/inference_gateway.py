"""InferenceGateway ``default`` -> the control-plane gateway every ModelService is exposed through.

On the control cluster itself: a provider-helm ProviderConfig using the
provider's own identity, the Traefik release, the GatewayClass ``traefik``
and the Gateway ``modelplane`` in ``modelplane-system``; with
``spec.traefik.loadBalancer: MetalLB`` also MetalLB and an address pool, so
the gateway gets an address on kind or bare metal. ``status.address`` is the
Gateway's first address, the host of every ModelService URL.
"""

from __future__ import annotations

from typing import Final

from modelplane_core.api.inference_gateway import InferenceGateway
from modelplane_core.api.meta import Condition
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import (
    Composition,
    Event,
    Observed,
    condition,
    hold_invalid,
    problems_of,
)
from modelplane_core.compose.platform import control_gateway
from modelplane_core.compose.platform.chart_versions import helm_chart
from modelplane_core.compose.platform.gating import Gated, Piece, exists, gate
from modelplane_core.compose.platform.messages import listing
from modelplane_core.compose.platform.provider_configs import (
    HELM_API_VERSION,
    in_cluster_provider_config,
)
from modelplane_core.compose.platform.provider_helm import release
from modelplane_core.compose.platform.workload_gateway import first_address
from modelplane_core.compose.topology import (
    CONTROL_GATEWAY_NAME,
    CONTROL_GATEWAY_NAMESPACE,
    SYSTEM_NAMESPACE,
)

__all__ = ["PROVIDER_CONFIG_NAME", "compose"]

PROVIDER_CONFIG_NAME: Final = "modelplane-in-cluster"
PROVIDER_CONFIG_KEY: Final = "provider-config-helm"
TRAEFIK_KEY: Final = "release-traefik"
METALLB_KEY: Final = "release-metallb"
POOL_KEY: Final = "metallb-address-pool"
L2_KEY: Final = "metallb-l2-advertisement"
GATEWAY_CLASS_KEY: Final = "gateway-class"
GATEWAY_KEY: Final = "gateway"
ACCEPTED: Final = "Accepted"
CONTROLLER_READY: Final = "ControllerReady"
LOAD_BALANCER_READY: Final = "LoadBalancerReady"
GATEWAY_READY: Final = "GatewayReady"
LABEL_COMPONENT: Final = "modelplane.ai/component"


def compose(observed: Observed[InferenceGateway], cache: Cache | None = None) -> Composition:
    front_door = observed.composite
    problems = problems_of(front_door, cache)
    traefik = front_door.spec.traefik
    if problems or traefik is None:
        ready = [k for k, r in observed.resources.items() if r.condition_true("Ready")]
        if PROVIDER_CONFIG_KEY in observed.resources:
            ready.append(PROVIDER_CONFIG_KEY)
        return hold_invalid(
            observed, ACCEPTED, problems or ["spec.traefik is required"], ready_keys=ready
        )
    pieces = [
        Piece(
            key=PROVIDER_CONFIG_KEY,
            manifest=in_cluster_provider_config(
                api_version=HELM_API_VERSION, name=PROVIDER_CONFIG_NAME, namespace=SYSTEM_NAMESPACE
            ),
            always_ready=True,
        ),
        Piece(
            key=TRAEFIK_KEY,
            manifest=release(
                helm_chart("traefik"),
                version=traefik.version,
                provider_config=PROVIDER_CONFIG_NAME,
                namespace=SYSTEM_NAMESPACE,
                values=control_gateway.traefik_values(),
                labels={LABEL_COMPONENT: "traefik"},
            ),
            after=(PROVIDER_CONFIG_KEY,),
        ),
        Piece(
            key=GATEWAY_CLASS_KEY,
            manifest=control_gateway.gateway_class(),
            after=(TRAEFIK_KEY,),
            judge=control_gateway.accepted,
        ),
        Piece(
            key=GATEWAY_KEY,
            manifest=control_gateway.gateway(),
            after=(GATEWAY_CLASS_KEY,),
            judge=control_gateway.addressed,
        ),
    ]
    metallb = traefik.metallb if traefik.load_balancer == "MetalLB" else None
    if metallb is not None:
        chart = helm_chart("metallb")
        pieces.extend(
            [
                Piece(
                    key=METALLB_KEY,
                    manifest=release(
                        chart,
                        provider_config=PROVIDER_CONFIG_NAME,
                        namespace=SYSTEM_NAMESPACE,
                        labels={LABEL_COMPONENT: "metallb"},
                    ),
                    after=(PROVIDER_CONFIG_KEY,),
                ),
                Piece(
                    key=POOL_KEY,
                    manifest=control_gateway.address_pool(chart.namespace, metallb.address_pool),
                    after=(METALLB_KEY,),
                    judge=exists,
                ),
                Piece(
                    key=L2_KEY,
                    manifest=control_gateway.l2_advertisement(chart.namespace),
                    after=(POOL_KEY,),
                    judge=exists,
                ),
            ]
        )
    gated = gate(observed, pieces)
    seen = observed.resources.get(GATEWAY_KEY)
    address = first_address(seen.status) if seen is not None else None
    events = []
    if gated.composed(GATEWAY_KEY) and GATEWAY_KEY not in observed.resources:
        events.append(Event.normal("ComposingGateway", "Traefik is ready, composing the Gateway"))
    conditions = [
        condition(ACCEPTED, True, "Composed", "the spec is valid"),
        _controller_condition(gated),
    ]
    if metallb is not None:
        conditions.append(_load_balancer_condition(gated, metallb.address_pool))
    conditions.append(_gateway_condition(address))
    return Composition(
        resources=gated.resources,
        status={"address": address} if address else {},
        conditions=tuple(conditions),
        events=tuple(events),
    )


def _controller_condition(gated: Gated) -> Condition:
    if gated.ready(TRAEFIK_KEY):
        return condition(CONTROLLER_READY, True, "ControllerHealthy", "Traefik is ready")
    if not gated.composed(TRAEFIK_KEY):
        return condition(
            CONTROLLER_READY,
            False,
            "WaitingForProviderConfig",
            f"Traefik is installed once the helm ProviderConfig {PROVIDER_CONFIG_NAME} exists",
        )
    return condition(CONTROLLER_READY, False, "Installing", "Traefik is being installed")


def _load_balancer_condition(gated: Gated, pool: str) -> Condition:
    pending = [k for k in (METALLB_KEY, POOL_KEY, L2_KEY) if not gated.ready(k)]
    if not pending:
        return condition(
            LOAD_BALANCER_READY, True, "AddressPoolReady", f"MetalLB advertises {pool}"
        )
    return condition(LOAD_BALANCER_READY, False, "Installing", f"waiting for {listing(pending)}")


def _gateway_condition(address: str | None) -> Condition:
    gateway = f"Gateway {CONTROL_GATEWAY_NAMESPACE}/{CONTROL_GATEWAY_NAME}"
    if address:
        return condition(GATEWAY_READY, True, "AddressAssigned", f"{gateway} is at {address}")
    return condition(GATEWAY_READY, False, "WaitingForAddress", f"{gateway} has no address yet")
