"""A small Crossplane: reconcile composites by running the real composers.

For each Modelplane composite this does what Crossplane does around a
composition function: decode the composite, hand the composer its observed
composed resources and the required resources it asked for (calling it again
when it asks for new ones), then create or update every desired resource,
garbage-collect the ones no longer desired, and write the composite's status,
conditions and readiness. Nothing here decides anything a composer decides.

Crossplane semantics kept on purpose:

- a composed resource without a name is named ``<composite>-<resource key>``,
  and lives in the composite's namespace unless its manifest says otherwise;
- the composite is Ready when the composer says so, or else when every
  desired resource is ready (marked ready by the composer, or reporting
  ``Ready=True`` itself); with nothing composed it is Ready;
- a desired manifest replaces the object's spec but never its status, which
  belongs to whoever manages the object (a provider, or its own composer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from modelplane_core.api.documents import AnyObject, Unstructured, from_dict
from modelplane_core.api.errors import ValidationError
from modelplane_core.api.registry import Resource, kind_class
from modelplane_core.cache import Cache
from modelplane_core.compose import Composition, Observed, ObservedResource, Requirement
from modelplane_core.compose.fetched import Fetched, Unreadable, unreadable_from
from modelplane_core.compose.registry import composed_kinds, composer_for
from modelplane_core.simulation.store import ObjectKey, Owner, Store, describe, key_of

# Crossplane calls a function again while its requirements change; it gives up after this.
MAX_REQUIREMENT_ROUNDS: Final = 5
COMPOSED_KINDS: Final = frozenset(composed_kinds())
# Platform first, so a round publishes pools before deployments read them.
KIND_ORDER: Final = {
    kind: rank
    for rank, kind in enumerate(
        (
            "InferenceClass",
            "InferenceGateway",
            "InferenceCluster",
            "GKECluster",
            "EKSCluster",
            "AKSCluster",
            "VultrCluster",
            "NebiusCluster",
            "ServingStack",
            "ModelCache",
            "ModelDeployment",
            "ModelReplica",
            "ModelEndpoint",
            "ModelService",
        )
    )
}


@attrs.frozen(kw_only=True)
class Recorded:
    """An event a composer emitted, as ``kubectl get events`` would show it."""

    time: float
    object: str
    type: str
    reason: str
    message: str


def is_composite(key: ObjectKey) -> bool:
    """One of our kinds (either API group) with a composer: Crossplane would reconcile it."""
    return kind_class(key[0], key[1]) is not None and key[1] in COMPOSED_KINDS


def reconcile_order(key: ObjectKey) -> tuple[int, str, str]:
    return KIND_ORDER.get(key[1], len(KIND_ORDER)), key[2], key[3]


class ControlPlane:
    """Runs composers against a :class:`Store` and applies what they want."""

    def __init__(self, store: Store, cache: Cache | None = None) -> None:
        self.store = store
        # What the composers may remember for this run (CEL, matching, fleet views).
        self.cache = cache if cache is not None else Cache()
        # Each composite's last requirements: resolved up front next time, as
        # Crossplane ends up doing once a function's requirements are stable.
        self._requirements: dict[ObjectKey, tuple[Requirement, ...]] = {}
        self._decoded: dict[ObjectKey, tuple[Mapping[str, Any], Any]] = {}
        self._resolved: dict[tuple[Any, ...], tuple[int, Fetched]] = {}
        # Who must be reconciled when an object of a kind changes: Crossplane's watches.
        self._watchers: dict[tuple[str, str], set[ObjectKey]] = {}
        self.events: list[Recorded] = []
        self.composer_calls = 0

    # -- reading the store as a composer sees it --------------------------------------

    def typed(self, key: ObjectKey) -> Any:
        """The composite decoded into its API type (cached until the object changes)."""
        stored = self.store.get(key)
        if stored is None:
            return None
        cached = self._decoded.get(key)
        if cached is not None and cached[0] is stored.manifest:
            return cached[1]
        decoded = from_dict(stored.manifest)
        self._decoded[key] = (stored.manifest, decoded)
        return decoded

    def resolve(self, requirement: Requirement) -> Fetched:
        """The objects a requirement selects, by name or by labels, in a stable order.

        They are handed over decoded (the boundary decodes, composers never do),
        each object once per change, not once per reader; and a result is reused
        until an object of its kind is written, so every ModelDeployment asking
        for "all clusters" gets the very same objects, which is what lets the
        scheduler's fleet cache skip everything that did not change.
        """
        memo_key = (
            requirement.api_version,
            requirement.kind,
            requirement.match_name,
            requirement.namespace,
            tuple(sorted((requirement.match_labels or {}).items())),
        )
        version = self.store.kind_version(requirement.api_version, requirement.kind)
        cached = self._resolved.get(memo_key)
        if cached is not None and cached[0] == version:
            return cached[1]
        found: list[AnyObject] = []
        unreadable: list[Unreadable] = []
        for key, stored in self.store.of_kind(requirement.api_version, requirement.kind):
            _api, _kind, namespace, name = key
            if requirement.namespace is not None and namespace != requirement.namespace:
                continue
            if requirement.match_name is not None:
                if name != requirement.match_name:
                    continue
            else:
                labels = (stored.manifest.get("metadata") or {}).get("labels") or {}
                wanted = requirement.match_labels or {}
                if any(labels.get(k) != v for k, v in wanted.items()):
                    continue
            try:
                found.append(self._as_required(key, stored.manifest))
            except ValidationError as exc:
                unreadable.append(unreadable_from(stored.manifest, exc))
        result = Fetched(items=tuple(found), unreadable=tuple(unreadable))
        self._resolved[memo_key] = (version, result)
        return result

    def _as_required(self, key: ObjectKey, manifest: Mapping[str, Any]) -> AnyObject:
        if kind_class(key[0], key[1]) is None:
            return Unstructured(data=manifest)
        decoded: Resource = self.typed(key)
        return decoded

    def _decoded_or_none(self, key: ObjectKey) -> Resource | None:
        """A composed object of our kinds, decoded; None for other kinds or unreadable ones."""
        if kind_class(key[0], key[1]) is None:
            return None
        try:
            decoded: Resource | None = self.typed(key)
        except ValidationError:
            return None
        return decoded

    def observed(self, key: ObjectKey, composite: Any) -> Observed[Any]:
        resources = {}
        for resource, child in self.store.children(key).items():
            stored = self.store.get(child)
            if stored is not None:
                resources[resource] = ObservedResource(
                    manifest=stored.manifest,
                    connection_details=stored.connection,
                    obj=self._decoded_or_none(child),
                )
        required = {r.key: self.resolve(r) for r in self._requirements.get(key, ())}
        return Observed(composite=composite, resources=resources, required=required)

    # -- reconciling ----------------------------------------------------------------

    def reconcile(self, key: ObjectKey, now: float) -> bool:
        """One reconcile of composite ``key``; True when the store changed."""
        try:
            composite = self.typed(key)
        except ValidationError as exc:
            self._record(now, key, "Warning", "InvalidObject", str(exc))
            return False
        if composite is None:
            return False
        compose = composer_for(key[1])
        composition = None
        for _ in range(MAX_REQUIREMENT_ROUNDS):
            observed = self.observed(key, composite)
            self.composer_calls += 1
            composition = compose(observed, self.cache)
            wanted = tuple(sorted(composition.requirements, key=lambda r: r.key))
            if wanted == tuple(sorted(self._requirements.get(key, ()), key=lambda r: r.key)):
                break
            self._watch(key, wanted)
        assert composition is not None
        for event in composition.events:
            self._record(now, key, event.type, event.reason, event.message)
        return self.apply(key, composition, now)

    def affected(self, changes: Mapping[ObjectKey, ObjectKey | None]) -> set[ObjectKey]:
        """The composites a set of writes can change the composition of.

        A composer is a pure function of its composite, its composed resources
        and the resources it requires, so only these need reconciling again: a
        written composite, the owner of a written object, and every composite
        requiring objects of a written kind.
        """
        dirty: set[ObjectKey] = set()
        for key, owner in changes.items():
            if is_composite(key) and key not in self.store:
                self._forget(key)
            elif is_composite(key):
                dirty.add(key)
            if owner is not None:
                dirty.add(owner)
            dirty |= self._watchers.get((key[0], key[1]), set())
        return {key for key in dirty if key in self.store}

    def _forget(self, key: ObjectKey) -> None:
        """A deleted composite: drop its watches and its decoded form."""
        self._watch(key, ())
        self._decoded.pop(key, None)

    def _watch(self, key: ObjectKey, requirements: tuple[Requirement, ...]) -> None:
        for requirement in self._requirements.get(key, ()):
            self._watchers.get((requirement.api_version, requirement.kind), set()).discard(key)
        if requirements:
            self._requirements[key] = requirements
        else:
            self._requirements.pop(key, None)
        for requirement in requirements:
            self._watchers.setdefault((requirement.api_version, requirement.kind), set()).add(key)

    def apply(self, key: ObjectKey, composition: Composition, now: float) -> bool:
        """Make the store match ``composition``: children, garbage, status."""
        stored = self.store.get(key)
        assert stored is not None
        namespace = key[2]
        changed = False
        desired_children: dict[str, ObjectKey] = {}
        for resource in composition.resources:
            manifest = _named(resource.manifest, key[3], resource.key, namespace)
            child = key_of(manifest)
            existing = self.store.get(child)
            owner = Owner(composite=key, resource=resource.key)
            if existing is not None and existing.owner not in (
                None,
                Owner(composite=key, resource=resource.key),
            ):
                assert existing.owner is not None
                self._record(
                    now,
                    key,
                    "Warning",
                    "ComposeConflict",
                    f"{describe(child)} is already composed by "
                    f"{describe(existing.owner.composite)}",
                )
                continue
            if existing is not None and "status" in existing.manifest:
                manifest = {**manifest, "status": existing.manifest["status"]}
            changed |= self.store.put(manifest, now=now, owner=owner)
            desired_children[resource.key] = child
        for resource_key, child in sorted(self.store.children(key).items()):
            if desired_children.get(resource_key) != child:
                changed |= bool(self.store.delete(child))
        ready = composition.ready
        if ready is None:
            ready = all(
                r.ready
                if r.ready is not None
                else _reports_ready(self.store.get(desired_children.get(r.key, ("", "", "", ""))))
                for r in composition.resources
                if r.key in desired_children
            )
        status = dict(composition.status)
        status["conditions"] = _conditions(composition, ready)
        return self.store.set_status(key, status) or changed

    def _record(self, now: float, key: ObjectKey, type_: str, reason: str, message: str) -> None:
        self.events.append(
            Recorded(time=now, object=describe(key), type=type_, reason=reason, message=message)
        )


def _named(
    manifest: Mapping[str, Any], composite: str, resource: str, namespace: str
) -> dict[str, Any]:
    """The manifest with the name and namespace Crossplane would give it."""
    metadata = dict(manifest.get("metadata") or {})
    if not metadata.get("name"):
        metadata["name"] = f"{composite}-{resource}"
    if namespace and not metadata.get("namespace"):
        metadata["namespace"] = namespace
    return {**manifest, "metadata": metadata}


def _reports_ready(stored: Any) -> bool:
    if stored is None:
        return False
    for condition in stored.status.get("conditions") or ():
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def _conditions(composition: Composition, ready: bool) -> list[dict[str, Any]]:
    by_type: dict[str, dict[str, Any]] = {}
    for condition in composition.conditions:
        rendered = {"type": condition.type, "status": condition.status}
        if condition.reason:
            rendered["reason"] = condition.reason
        if condition.message:
            rendered["message"] = condition.message
        by_type[condition.type] = rendered
    by_type["Synced"] = {"type": "Synced", "status": "True", "reason": "ReconcileSuccess"}
    by_type["Ready"] = (
        {"type": "Ready", "status": "True", "reason": "Available"}
        if ready
        else {"type": "Ready", "status": "False", "reason": "Creating"}
    )
    return [by_type[t] for t in sorted(by_type)]


def composites(store: Store) -> Sequence[ObjectKey]:
    """Every composite in the store, in reconcile order."""
    return sorted((k for k in store if is_composite(k)), key=reconcile_order)
