"""The workload cluster's gateway: the address every replica on the cluster is reached at.

ModelReplica routes attach to the Gateway ``inference-gateway`` in
``modelplane-system`` (see :mod:`modelplane_core.compose.topology`) from the
``modelplane-workloads`` namespace, so the Gateway accepts routes from every
namespace. Its first status address is the cluster's ``gateway.address``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from modelplane_core.api.infrastructure import GatewayListener, StackGateway
from modelplane_core.compose.topology import WORKLOAD_GATEWAY_NAME, WORKLOAD_GATEWAY_NAMESPACE

GATEWAY_API_VERSION: Final = "gateway.networking.k8s.io/v1"
ENVOY_CONTROLLER: Final = "gateway.envoyproxy.io/gatewayclass-controller"
DEFAULT_LISTENERS: Final = (GatewayListener(name="http", port=80, protocol="HTTP"),)

# provider-kubernetes readiness queries over the applied object.
ACCEPTED_CEL: Final = (
    "has(object.status.conditions) && object.status.conditions.exists(c, "
    'c.type == "Accepted" && c.status == "True")'
)
# Ready only once the load balancer has given the Gateway an address: that address
# is what the cluster publishes, and what every ModelEndpoint points at.
ADDRESSED_CEL: Final = "has(object.status.addresses) && size(object.status.addresses) > 0"


def namespace(name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def gateway_class(settings: StackGateway | None) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "GatewayClass",
        "metadata": {"name": class_name(settings)},
        "spec": {"controllerName": ENVOY_CONTROLLER},
    }


def class_name(settings: StackGateway | None) -> str:
    return settings.class_name if settings is not None else StackGateway().class_name


def listeners(settings: StackGateway | None) -> Sequence[GatewayListener]:
    chosen = settings.listeners if settings is not None else None
    return chosen or DEFAULT_LISTENERS


def gateway(settings: StackGateway | None) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "Gateway",
        "metadata": {"name": WORKLOAD_GATEWAY_NAME, "namespace": WORKLOAD_GATEWAY_NAMESPACE},
        "spec": {
            "gatewayClassName": class_name(settings),
            "listeners": [
                {
                    "name": listener.name,
                    "port": listener.port,
                    "protocol": listener.protocol,
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                }
                for listener in listeners(settings)
            ],
        },
    }


def first_address(gateway_status: Mapping[str, Any]) -> str | None:
    """The first address a Gateway's status reports, or None."""
    for address in gateway_status.get("addresses") or ():
        if isinstance(address, Mapping):
            value = address.get("value")
            if isinstance(value, str) and value:
                return value
    return None
