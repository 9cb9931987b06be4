"""What an observed composed resource says about the thing it manages.

Most of what the ML composers compose is wrapped in provider-kubernetes
Objects; the wrapped object's own status (a Deployment's Available condition,
a PVC's phase, a Job's Complete condition) is visible under
``status.atProvider.manifest``. These helpers read it without caring whether
the Object has been observed yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelplane_core.compose.composition import ObservedResource
from modelplane_core.compose.provider_kubernetes import applied_manifest


def is_ready(resource: ObservedResource | None) -> bool:
    """The composed resource reports ``Ready=True`` (for an Object: its readiness policy holds)."""
    return resource is not None and resource.condition_true("Ready")


def is_applied(resource: ObservedResource | None) -> bool:
    """The provider has applied the wrapped object to its cluster at least once."""
    return resource is not None and bool(applied_manifest(resource.manifest))


def applied_status(resource: ObservedResource | None) -> Mapping[str, Any]:
    """The wrapped object's status on its cluster, or an empty mapping."""
    if resource is None:
        return {}
    status = applied_manifest(resource.manifest).get("status")
    return status if isinstance(status, Mapping) else {}


def applied_condition_true(resource: ObservedResource | None, type_: str) -> bool:
    """The wrapped object reports condition ``type_`` as True (e.g. a Job's ``Complete``)."""
    for condition in applied_status(resource).get("conditions") or ():
        if (
            isinstance(condition, Mapping)
            and condition.get("type") == type_
            and condition.get("status") == "True"
        ):
            return True
    return False
