"""Reading what a composer composed earlier, as it exists now.

Platform composers gate later steps on earlier ones (no Helm release before
its provider config exists, no node pool before its class resolves) and
never drop what already exists, so they ask the same few questions of the
observed resources again and again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from modelplane_core.compose.composition import (
    DesiredResource,
    Observed,
    ObservedResource,
    desired_from_observed,
)


def all_observed(observed: Observed[Any], keys: Iterable[str]) -> bool:
    return all(key in observed.resources for key in keys)


def field(resource: ObservedResource | None, *path: str) -> Any:
    """A nested field of an observed manifest (``field(r, "status", "atProvider", "id")``)."""
    value: Any = resource.manifest if resource is not None else None
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def text_field(resource: ObservedResource | None, *path: str) -> str | None:
    """A nested string field, or None when absent or empty."""
    value = field(resource, *path)
    return value if isinstance(value, str) and value else None


def kept(observed: Observed[Any], key: str) -> DesiredResource | None:
    """The observed resource ``key`` re-desired unchanged (to hold it), if it exists."""
    resource = observed.resources.get(key)
    if resource is None:
        return None
    return DesiredResource(
        key=key,
        manifest=desired_from_observed(resource),
        ready=True if resource.condition_true("Ready") else None,
    )
