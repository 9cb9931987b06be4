"""What Crossplane and the API server add to an observed XR, and taking it off again.

The core decodes composites strictly (an unknown field is an error, because the
API server would silently prune a typo). An XR as Crossplane observes it is not
only our API, though: Crossplane v2 nests its own machinery under
``spec.crossplane`` and ``status.crossplane``, legacy (v1-style) XRs carry it
directly under ``spec`` and ``status``, and the API server adds bookkeeping to
``metadata``. Those fields are removed here before decoding.

Only fields we *know* to be machinery are removed, and a legacy name is only
removed when the kind's own schema does not declare a field of that name: user
data is never dropped. Anything else unknown stays, so the decoder reports it
with its field path (a Fatal result), rather than the function composing from an
object it only partly understood.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final

import attrs

from modelplane_core import api
from modelplane_core.api.fields import wire_name

# spec.crossplane / status.crossplane: where Crossplane v2 keeps its machinery.
CROSSPLANE_FIELD: Final = "crossplane"

# Set by the API server on every object; never part of what a composer reads.
SERVER_METADATA: Final = frozenset({"managedFields", "selfLink", "deletionGracePeriodSeconds"})

# Legacy (apiextensions.crossplane.io/v1, LegacyCluster) XRs: machinery directly under spec.
LEGACY_SPEC: Final = frozenset(
    {
        "compositionRef",
        "compositionSelector",
        "compositionRevisionRef",
        "compositionRevisionSelector",
        "compositionUpdatePolicy",
        "compositeDeletePolicy",
        "claimRef",
        "resourceRefs",
        "writeConnectionSecretToRef",
        "publishConnectionDetailsTo",
        "environmentConfigRefs",
    }
)

# ... and directly under status.
LEGACY_STATUS: Final = frozenset({"connectionDetails", "claimConditionTypes"})


@attrs.frozen
class Stripped:
    """The composite reduced to our API, and the field paths that were removed."""

    manifest: dict[str, Any]
    removed: tuple[str, ...]


def strip_machinery(composite: Mapping[str, Any], cls: type[api.Resource]) -> Stripped:
    """``composite`` without Crossplane's and the API server's fields (see module doc)."""
    manifest = dict(composite)
    removed: list[str] = []
    metadata = manifest.get("metadata")
    if isinstance(metadata, Mapping):
        known = _metadata_fields()
        manifest["metadata"] = _without(
            metadata, {k for k in SERVER_METADATA if k not in known}, "metadata", removed
        )
    for section, legacy in (("spec", LEGACY_SPEC), ("status", LEGACY_STATUS)):
        value = manifest.get(section)
        if not isinstance(value, Mapping):
            continue
        declared = _declared(cls, section)
        machinery = {k for k in legacy | {CROSSPLANE_FIELD} if k not in declared}
        manifest[section] = _without(value, machinery, section, removed)
    return Stripped(manifest=manifest, removed=tuple(removed))


def _without(
    value: Mapping[str, Any], drop: set[str], path: str, removed: list[str]
) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, item in value.items():
        if key in drop:
            removed.append(f"{path}.{key}")
        else:
            kept[key] = item
    return kept


@functools.cache
def _metadata_fields() -> frozenset[str]:
    return frozenset(wire_name(a) for a in attrs.fields(api.ObjectMeta))


def _declared(cls: type[api.Resource], section: str) -> frozenset[str]:
    """Wire names the kind's schema declares directly under ``spec`` or ``status``."""
    return _declared_by_kind(cls.kind_info.kind, section)


@functools.cache
def _declared_by_kind(kind: str, section: str) -> frozenset[str]:
    schema = api.openapi_schema(kind)["properties"].get(section, {})
    return frozenset(schema.get("properties", {}))
