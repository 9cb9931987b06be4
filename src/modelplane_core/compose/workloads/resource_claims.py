"""DRA: the ResourceClaimTemplate a member's pods claim their devices through.

The scheduler resolved each of the member's device requests against the
pool it chose (``ResolvedDeviceRequest``); this turns them into the claim DRA
allocates on the workload cluster, with the same count and the same CEL
selectors, so DRA binds exactly the devices the scheduler counted.
A template (rather than one shared claim) gives every pod its own claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from modelplane_core.api.model_replica import ResolvedDeviceRequest

RESOURCE_API_VERSION: Final = "resource.k8s.io/v1"
# The pod-level claim name; one claim carries all of a member's requests.
POD_CLAIM_NAME: Final = "devices"


def device_request(request: ResolvedDeviceRequest) -> dict[str, Any]:
    """One DRA DeviceRequest: ``exactly`` ``count`` devices of the class matching every selector."""
    exactly: dict[str, Any] = {
        "deviceClassName": request.device_class_name,
        "count": request.count,
    }
    selectors = [
        {"cel": {"expression": selector.cel}}
        for selector in request.selectors or ()
        if selector.cel
    ]
    if selectors:
        exactly["selectors"] = selectors
    return {"name": request.name, "exactly": exactly}


def resource_claim_template(
    *,
    name: str,
    namespace: str,
    requests: Sequence[ResolvedDeviceRequest],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    return {
        "apiVersion": RESOURCE_API_VERSION,
        "kind": "ResourceClaimTemplate",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"spec": {"devices": {"requests": [device_request(r) for r in requests]}}},
    }


def pod_claims(template_name: str) -> list[dict[str, str]]:
    """``pod.spec.resourceClaims``: one claim per pod, created from the template."""
    return [{"name": POD_CLAIM_NAME, "resourceClaimTemplateName": template_name}]


def container_claims() -> dict[str, Any]:
    """``container.resources``: the engine container uses the pod's whole claim."""
    return {"claims": [{"name": POD_CLAIM_NAME}]}
