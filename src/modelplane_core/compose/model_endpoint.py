"""ModelEndpoint -> a Service the control-plane gateway can route to, wherever the URL points.

The Service is selector-less: its one EndpointSlice carries the URL's host
(an IPv4 or IPv6 address, or a DNS name) and port. That is how a Gateway API
route, which can only name Services, reaches a workload cluster's gateway or
an external provider. It is not an ExternalName Service because gateways such
as Traefik refuse ExternalName backends.

Both objects have names derived from the endpoint's, so they are composed in
the same pass. ``status.routing.backendName`` is published only once both
exist: a ModelService routes to an endpoint only after that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from modelplane_core.api.model_routing import ModelEndpoint
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import (
    Composition,
    DesiredResource,
    Event,
    Observed,
    condition,
    hold,
    problems_of,
)
from modelplane_core.compose.names import child_name
from modelplane_core.compose.workloads.endpoint_address import EndpointAddress, parse_endpoint_url
from modelplane_core.compose.workloads.object_state import is_ready
from modelplane_core.compose.workloads.replica_names import starts_with_letter
from modelplane_core.compose.workloads.routing import replica_endpoint

__all__ = ["backend_service_name", "compose", "replica_endpoint"]

ROUTING_READY: Final = "RoutingReady"
SERVICE_KEY: Final = "service"
SLICE_KEY: Final = "endpointslice"
# EndpointSlices Kubernetes' own controllers must leave alone say who manages them.
MANAGED_BY: Final = "modelplane.ai"


def backend_service_name(endpoint: str) -> str:
    """The Service (and EndpointSlice) of ModelEndpoint ``endpoint`` in its namespace."""
    return starts_with_letter(child_name(endpoint, "endpoint"))


def compose(observed: Observed[ModelEndpoint], cache: Cache | None = None) -> Composition:
    endpoint = observed.composite
    problems = problems_of(endpoint, cache)
    parsed = parse_endpoint_url(endpoint.spec.url)
    if problems or isinstance(parsed, str):
        reason = "InvalidURL" if isinstance(parsed, str) else "InvalidSpec"
        detail = parsed if isinstance(parsed, str) else "; ".join(str(p) for p in problems)
        message = f"{detail}; keeping the current backend"
        held = hold(
            observed,
            conditions=[condition(ROUTING_READY, False, reason, message)],
            events=[Event.warning(reason, message)],
            ready_keys=[k for k, seen in observed.resources.items() if is_ready(seen)],
        )
        return held if observed.resources else attrs.evolve(held, ready=False)
    name = backend_service_name(endpoint.metadata.name or "")
    namespace = endpoint.metadata.namespace or "default"
    service_seen = SERVICE_KEY in observed.resources
    slice_seen = SLICE_KEY in observed.resources
    resources = [
        DesiredResource(
            key=SERVICE_KEY,
            manifest=_service(name, namespace, parsed),
            ready=service_seen,
        ),
        DesiredResource(
            key=SLICE_KEY,
            manifest=_endpoint_slice(name, namespace, parsed),
            ready=slice_seen,
        ),
    ]
    if service_seen and slice_seen:
        return Composition(
            resources=resources,
            status={"routing": {"backendName": name}},
            conditions=(
                condition(
                    ROUTING_READY,
                    True,
                    "BackendConfigured",
                    f"Service {name} forwards to {parsed.address}:{parsed.port}",
                ),
            ),
        )
    return Composition(
        resources=resources,
        status={},
        conditions=(
            condition(
                ROUTING_READY,
                False,
                "WaitingForBackend",
                f"waiting for Service {name} and its EndpointSlice to exist",
            ),
        ),
    )


def _service(name: str, namespace: str, address: EndpointAddress) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "ports": [{"port": address.port, "targetPort": address.port, "protocol": "TCP"}],
        },
    }


def _endpoint_slice(name: str, namespace: str, address: EndpointAddress) -> dict[str, Any]:
    labels: Mapping[str, str] = {
        "kubernetes.io/service-name": name,
        "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
    }
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "addressType": address.address_type,
        # Unnamed, like the Service's only port, which is how the two are matched.
        "ports": [{"name": "", "port": address.port, "protocol": "TCP"}],
        # ready stated explicitly: some gateways skip endpoints whose readiness is unset.
        "endpoints": [{"addresses": [address.address], "conditions": {"ready": True}}],
    }
