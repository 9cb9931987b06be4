"""The control cluster's front door: Traefik, its Gateway, and MetalLB where there is no cloud LB.

Traefik is the Gateway API implementation because it applies a URLRewrite per
backendRef, which ModelService routes need to send one public prefix to
endpoints with different path layouts. Its chart installs the Gateway API
CRDs (Helm installs a chart's CRDs when they are absent), and Modelplane
composes the GatewayClass and the ``modelplane`` Gateway that every
ModelService HTTPRoute attaches to.
"""

from __future__ import annotations

from typing import Any, Final

from modelplane_core.compose.composition import ObservedResource
from modelplane_core.compose.platform.workload_gateway import first_address
from modelplane_core.compose.topology import CONTROL_GATEWAY_NAME, CONTROL_GATEWAY_NAMESPACE

GATEWAY_API_VERSION: Final = "gateway.networking.k8s.io/v1"
METALLB_API_VERSION: Final = "metallb.io/v1beta1"
TRAEFIK_CLASS: Final = "traefik"
TRAEFIK_CONTROLLER: Final = "traefik.io/gateway-controller"
# The Gateway listens on Traefik's ``web`` entrypoint, whose container port is 8000
# (the Service exposes it as 80); Traefik matches listeners to entrypoints by port.
TRAEFIK_WEB_PORT: Final = 8000
METALLB_POOL: Final = "modelplane"


def traefik_values() -> dict[str, Any]:
    """Traefik as a Gateway API controller only; Modelplane composes the class and Gateway."""
    return {
        "fullnameOverride": "traefik",
        "providers": {
            "kubernetesGateway": {"enabled": True},
            "kubernetesIngress": {"enabled": False},
        },
        "gateway": {"enabled": False},
        "gatewayClass": {"enabled": False},
    }


def gateway_class() -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "GatewayClass",
        "metadata": {"name": TRAEFIK_CLASS},
        "spec": {"controllerName": TRAEFIK_CONTROLLER},
    }


def gateway() -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "Gateway",
        "metadata": {"name": CONTROL_GATEWAY_NAME, "namespace": CONTROL_GATEWAY_NAMESPACE},
        "spec": {
            "gatewayClassName": TRAEFIK_CLASS,
            "listeners": [
                {
                    "name": "web",
                    "port": TRAEFIK_WEB_PORT,
                    "protocol": "HTTP",
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                }
            ],
        },
    }


def address_pool(namespace: str, addresses: str) -> dict[str, Any]:
    return {
        "apiVersion": METALLB_API_VERSION,
        "kind": "IPAddressPool",
        "metadata": {"name": METALLB_POOL, "namespace": namespace},
        "spec": {"addresses": [addresses]},
    }


def l2_advertisement(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": METALLB_API_VERSION,
        "kind": "L2Advertisement",
        "metadata": {"name": METALLB_POOL, "namespace": namespace},
        "spec": {"ipAddressPools": [METALLB_POOL]},
    }


def accepted(resource: ObservedResource) -> bool:
    """A GatewayClass or Gateway its controller has accepted."""
    return resource.condition_true("Accepted")


def addressed(resource: ObservedResource) -> bool:
    """A Gateway that is accepted and reachable: it has an address."""
    return accepted(resource) and first_address(resource.status) is not None
