"""How a request reaches a replica's engines, and the URL the replica is reached at.

The request path (see docs/ml-composers.md): client -> control-plane gateway
(ModelService HTTPRoute, rewrites ``/<ns>/<service>/`` to the endpoint's
``rewritePath``) -> the workload cluster's gateway address (the ModelEndpoint)
-> this module's HTTPRoute (matches :func:`replica_path`, rewrites it to
``/``) -> a Service (Unified) or an InferencePool (PrefillDecode) -> engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from modelplane_core.compose.topology import (
    ENGINE_PORT,
    WORKLOAD_GATEWAY_NAME,
    WORKLOAD_GATEWAY_NAMESPACE,
    replica_path,
)
from modelplane_core.compose.workloads.labels import LABEL_SERVING

GATEWAY_API_VERSION: Final = "gateway.networking.k8s.io/v1"
# Token streams of long generations outlive any default request timeout; "0s" disables it.
NO_TIMEOUT: Final = "0s"


def url_host(address: str) -> str:
    """``address`` as a URL host: IPv6 literals need brackets."""
    if ":" in address and not address.startswith("["):
        return f"[{address}]"
    return address


def replica_endpoint(namespace: str, replica: str, gateway_address: str) -> tuple[str, str]:
    """The ModelEndpoint ``(url, rewritePath)`` of a replica behind its cluster's gateway.

    The ModelService rewrites its public prefix to ``rewritePath`` and sends
    the request to ``url``'s host; the replica's own route on that gateway
    matches the same path and strips it again.
    """
    path = replica_path(namespace, replica)
    return f"http://{url_host(gateway_address)}{path}", path


def unified_service(
    *, name: str, namespace: str, replica_id: str, labels: Mapping[str, str]
) -> dict[str, Any]:
    """A ClusterIP Service in front of every serving pod of a Unified replica."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "selector": {LABEL_SERVING: replica_id},
            "ports": [
                {"name": "http", "port": ENGINE_PORT, "targetPort": ENGINE_PORT, "protocol": "TCP"}
            ],
        },
    }


def service_backend(service: str) -> dict[str, Any]:
    return {"name": service, "port": ENGINE_PORT}


def pool_backend(pool: str) -> dict[str, Any]:
    return {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": pool}


def replica_route(
    *,
    name: str,
    namespace: str,
    tenant_namespace: str,
    replica: str,
    backend: Mapping[str, Any],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """The HTTPRoute on the workload cluster's gateway: ``/<ns>/<replica>/X`` -> ``/X``."""
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "parentRefs": [
                {"name": WORKLOAD_GATEWAY_NAME, "namespace": WORKLOAD_GATEWAY_NAMESPACE}
            ],
            "rules": [
                {
                    "matches": [
                        {
                            "path": {
                                "type": "PathPrefix",
                                "value": replica_path(tenant_namespace, replica),
                            }
                        }
                    ],
                    "filters": [
                        {
                            "type": "URLRewrite",
                            "urlRewrite": {
                                "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}
                            },
                        }
                    ],
                    "backendRefs": [dict(backend)],
                    "timeouts": {"request": NO_TIMEOUT},
                }
            ],
        },
    }
