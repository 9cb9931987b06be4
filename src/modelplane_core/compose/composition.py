"""The one shape every composer shares: ``compose(observed) -> Composition``.

``Observed`` is what Crossplane (or the standalone controller, or the
simulator) shows a composer: the composite resource, the resources it
composed earlier as they exist now, and the related resources it asked for,
all decoded at the boundary (``fetched.py``): a composer never decodes.
``Composition`` is everything the composer wants: desired resources keyed
stably, the composite's status, conditions, events, readiness, and the
related resources it needs to see next time.

The rule that keeps running fleets safe lives here too (:func:`hold`): a
composer that cannot compute a trustworthy desired state returns the observed
resources unchanged, because an empty desired state tells Crossplane to delete
everything the composite owns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

import attrs

from modelplane_core.api.codec import unstructure
from modelplane_core.api.documents import AnyObject, validate
from modelplane_core.api.errors import FieldError
from modelplane_core.api.meta import Condition, ConditionStatus
from modelplane_core.api.registry import Resource
from modelplane_core.cache import Cache
from modelplane_core.compose.fetched import Fetched, decoded_or_none, fetched

XR = TypeVar("XR")

EventType = Literal["Normal", "Warning"]


@attrs.frozen(kw_only=True)
class ObservedResource:
    """A composed resource as it exists in the cluster, status included."""

    manifest: Mapping[str, Any]
    connection_details: Mapping[str, bytes] = attrs.field(factory=dict)
    # The resource decoded at the boundary when it is one of Modelplane's kinds and reads
    # (None otherwise). Given by adapters that decode through a cache; else decoded here.
    obj: Resource | None = attrs.field(
        default=attrs.Factory(lambda self: decoded_or_none(self.manifest), takes_self=True)
    )

    @property
    def status(self) -> Mapping[str, Any]:
        status = self.manifest.get("status")
        return status if isinstance(status, Mapping) else {}

    def condition(self, type_: str) -> Mapping[str, Any] | None:
        """The status condition of ``type_`` (e.g. ``Ready``), if the object reports one."""
        for condition in self.status.get("conditions") or ():
            if isinstance(condition, Mapping) and condition.get("type") == type_:
                return condition
        return None

    def condition_true(self, type_: str) -> bool:
        condition = self.condition(type_)
        return condition is not None and condition.get("status") == "True"


@attrs.frozen(kw_only=True)
class Requirement:
    """Related resources a composer needs: by name, or by labels (empty labels: all).

    Crossplane fetches them and calls the function again with the results under
    the same ``key``; until then the key is absent from ``Observed.required``.
    """

    key: str
    api_version: str
    kind: str
    match_name: str | None = None
    match_labels: Mapping[str, str] | None = None
    namespace: str | None = None


def _fetched_by_key(
    required: Mapping[str, Fetched | Iterable[Any]],
) -> Mapping[str, Fetched]:
    """Constructing an Observed is the boundary: anything not decoded yet is decoded here."""
    return {key: fetched(value) for key, value in required.items()}


def named(api_version: str, kind: str, key_prefix: str, names: Iterable[str]) -> list[Requirement]:
    """One requirement per object named (cluster-scoped), keyed ``key_prefix + name``."""
    return [
        Requirement(key=f"{key_prefix}{name}", api_version=api_version, kind=kind, match_name=name)
        for name in sorted(set(names))
    ]


@attrs.frozen(kw_only=True)
class Observed(Generic[XR]):
    """The inputs of one reconcile of composite ``XR``."""

    composite: XR
    resources: Mapping[str, ObservedResource] = attrs.field(factory=dict)
    # Resolved requirements by key, decoded. A key that is absent has not been fetched
    # yet, which is different from a key that resolved to nothing: only the latter
    # means "the object does not exist". Typed objects are accepted and wrapped.
    required: Mapping[str, Fetched] = attrs.field(factory=dict, converter=_fetched_by_key)
    context: Mapping[str, Any] = attrs.field(factory=dict)

    def required_or_none(self, key: str) -> Fetched | None:
        """The fetched objects for ``key``, or ``None`` while the requirement is unresolved."""
        return self.required.get(key)


@attrs.frozen(kw_only=True)
class DesiredResource:
    """A resource the composite should own. ``ready`` None lets Crossplane decide."""

    key: str
    manifest: Mapping[str, Any]
    ready: bool | None = None


@attrs.frozen(kw_only=True)
class Event:
    """An event to record on the composite (a Crossplane function result)."""

    type: EventType
    reason: str
    message: str

    @classmethod
    def normal(cls, reason: str, message: str) -> Event:
        return cls(type="Normal", reason=reason, message=message)

    @classmethod
    def warning(cls, reason: str, message: str) -> Event:
        return cls(type="Warning", reason=reason, message=message)


def _sorted_resources(resources: Iterable[DesiredResource]) -> tuple[DesiredResource, ...]:
    by_key: dict[str, DesiredResource] = {}
    for resource in resources:
        if resource.key in by_key:
            raise ValueError(f"two desired resources share the key {resource.key!r}")
        by_key[resource.key] = resource
    return tuple(by_key[key] for key in sorted(by_key))


@attrs.frozen(kw_only=True)
class Composition:
    """Everything a composer wants for one composite.

    ``status`` is the complete set of status fields the composer owns (Crossplane
    applies it server-side, so a field left out is a field removed).
    ``ready`` overrides the composite's readiness; None lets Crossplane derive it
    from the composed resources.
    """

    resources: tuple[DesiredResource, ...] = attrs.field(default=(), converter=_sorted_resources)
    status: Mapping[str, Any] = attrs.field(factory=dict)
    conditions: tuple[Condition, ...] = ()
    events: tuple[Event, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    ready: bool | None = None
    # True when the composer could not decide and held the observed resources.
    held: bool = False

    def resource(self, key: str) -> DesiredResource | None:
        for resource in self.resources:
            if resource.key == key:
                return resource
        return None

    def condition(self, type_: str) -> Condition | None:
        found = None
        for condition in self.conditions:
            if condition.type == type_:
                found = condition  # later entries of a type win, as in Crossplane
        return found

    def to_dict(self) -> dict[str, Any]:
        """A plain, deterministic rendering (for ``modelplane render`` and golden files)."""
        rendered: dict[str, Any] = {}
        if self.ready is not None:
            rendered["ready"] = self.ready
        if self.held:
            rendered["held"] = True
        rendered["status"] = dict(self.status)
        rendered["conditions"] = [unstructure(c) for c in self.conditions]
        rendered["events"] = [unstructure(e) for e in self.events]
        rendered["requirements"] = [unstructure(r) for r in self.requirements]
        rendered["resources"] = [
            {
                "key": r.key,
                **({"ready": r.ready} if r.ready is not None else {}),
                "manifest": r.manifest,
            }
            for r in self.resources
        ]
        return rendered


def condition(
    type_: str, status: bool | ConditionStatus, reason: str, message: str | None = None
) -> Condition:
    """Build a condition; ``status`` may be a bool for the common True/False case."""
    value: ConditionStatus
    value = ("True" if status else "False") if isinstance(status, bool) else status
    return Condition(type=type_, status=value, reason=reason, message=message)


# Metadata a server sets; echoing it back as desired state would fight the server.
_SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "ownerReferences",
    "finalizers",
)


def desired_from_observed(resource: ObservedResource) -> dict[str, Any]:
    """The observed object reduced to what a composer would have asked for."""
    manifest = {k: v for k, v in resource.manifest.items() if k != "status"}
    metadata = manifest.get("metadata")
    if isinstance(metadata, Mapping):
        manifest["metadata"] = {k: v for k, v in metadata.items() if k not in _SERVER_METADATA}
    return manifest


def hold(
    observed: Observed[Any],
    *,
    conditions: Iterable[Condition] = (),
    events: Iterable[Event] = (),
    requirements: Iterable[Requirement] = (),
    status: Mapping[str, Any] | None = None,
    ready_keys: Iterable[str] = (),
) -> Composition:
    """Keep every observed composed resource as it is and say why.

    Used on invalid input, unresolved dependencies and internal errors: the
    composite's children keep running while its conditions explain the problem.
    The observed status is kept unless a replacement is given, for the same reason.
    """
    ready = set(ready_keys)
    kept = [
        DesiredResource(
            key=key,
            manifest=desired_from_observed(resource),
            ready=True if key in ready else None,
        )
        for key, resource in observed.resources.items()
    ]
    return Composition(
        resources=kept,
        status=status if status is not None else _observed_status(observed.composite),
        conditions=tuple(conditions),
        events=tuple(events),
        requirements=tuple(requirements),
        held=True,
    )


def problems_of(obj: AnyObject, cache: Cache | None) -> list[FieldError]:
    """The object's validation problems, remembered per object in ``cache`` when given."""
    return cache.problems(obj) if cache is not None else validate(obj)


def summarize(problems: Sequence[object], limit: int = 5) -> str:
    """The first ``limit`` problems joined, and how many more there are."""
    shown = "; ".join(str(p) for p in problems[:limit])
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return shown + more


def hold_because(
    observed: Observed[Any],
    condition_type: str,
    reason: str,
    message: str,
    *,
    warn: bool = True,
    status: ConditionStatus = "False",
    requirements: Iterable[Requirement] = (),
    conditions: Iterable[Condition] = (),
    ready_keys: Iterable[str] = (),
) -> Composition:
    """:func:`hold` for one cause: a condition of ``condition_type`` naming it.

    ``warn`` records a Warning event saying what to fix; a dependency that is
    only not fetched yet resolves by itself and is held quietly, usually with
    ``status="Unknown"``. ``conditions`` are added after the first. A composite
    with nothing running is reported not ready.
    """
    held = hold(
        observed,
        conditions=[condition(condition_type, status, reason, message), *conditions],
        events=[Event.warning(reason, message)] if warn else [],
        requirements=requirements,
        ready_keys=ready_keys,
    )
    return held if observed.resources else attrs.evolve(held, ready=False)


def hold_invalid(
    observed: Observed[Any],
    condition_type: str,
    problems: Sequence[object],
    *,
    requirements: Iterable[Requirement] = (),
    conditions: Iterable[Condition] = (),
    ready_keys: Iterable[str] = (),
) -> Composition:
    """Hold what runs because the composite's spec is invalid, listing what is wrong."""
    return hold_because(
        observed,
        condition_type,
        "InvalidSpec",
        f"the spec is invalid, holding what runs: {summarize(problems)}",
        requirements=requirements,
        conditions=conditions,
        ready_keys=ready_keys,
    )


def _observed_status(composite: object) -> Mapping[str, Any]:
    status = getattr(composite, "status", None)
    if status is None:
        return {}
    encoded = unstructure(status)
    # Conditions are written through the conditions channel, never as status fields.
    return {k: v for k, v in encoded.items() if k != "conditions"}
