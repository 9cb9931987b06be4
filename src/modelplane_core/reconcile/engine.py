"""A small Crossplane: reconcile composites by running the real composers.

For each Modelplane composite this does what Crossplane does around a
composition function: decode the composite, hand the composer its observed
composed resources and the required resources it asked for (calling it again
when it asks for new ones), then create or update every desired resource,
garbage-collect the ones no longer desired, and write the composite's status,
conditions and readiness. Nothing here decides anything a composer decides.

It reads a :class:`~.port.ClusterState` and writes through a
:class:`~.port.Writer`, so the simulator and the standalone controller run the
very same loop. Reconciling is split in two: :meth:`Engine.plan` reads and
composes (CPU only, no writes), :func:`execute` performs the plan's writes
(I/O only), so a controller can plan under one lock and write concurrently.

Crossplane semantics kept on purpose:

- a composed resource without a name is named ``<composite>-<resource key>``,
  and lives in the composite's namespace unless its manifest says otherwise;
- the composite is Ready when the composer says so, or else when every
  desired resource is ready (marked ready by the composer, or reporting
  ``Ready=True`` itself); with nothing composed it is Ready;
- a desired manifest replaces the object's spec but never its status, which
  belongs to whoever manages the object (a provider, or its own composer);
- never tear down by accident: a composition that holds (invalid input, an
  unresolved dependency) or a composer that fails never deletes a child, and a
  composite that cannot be decoded is left exactly as it is;
- a composite being deleted (``metadata.deletionTimestamp``, a Kubernetes
  backend) has its children deleted first, and is released only once they are gone.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from modelplane_core.api.documents import AnyObject, Unstructured, from_dict
from modelplane_core.api.errors import ValidationError
from modelplane_core.api.registry import Resource, kind_class
from modelplane_core.cache import Cache
from modelplane_core.compose import Composition, Event, Observed, ObservedResource, Requirement
from modelplane_core.compose.fetched import Fetched, Unreadable, unreadable_from
from modelplane_core.compose.registry import Composer, composed_kinds, composer_for
from modelplane_core.reconcile.port import (
    ClusterState,
    ObjectKey,
    Owner,
    StoredObject,
    Writer,
    describe,
    key_of,
)

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
_NO_KEY: Final = ("", "", "", "")


def is_composite(key: ObjectKey) -> bool:
    """One of our kinds (either API group) with a composer: Crossplane would reconcile it."""
    return kind_class(key[0], key[1]) is not None and key[1] in COMPOSED_KINDS


def reconcile_order(key: ObjectKey) -> tuple[int, str, str]:
    return KIND_ORDER.get(key[1], len(KIND_ORDER)), key[2], key[3]


@attrs.frozen(kw_only=True)
class Plan:
    """The writes one reconcile wants, computed from one consistent read.

    ``events`` come first (the composer's, then the engine's own), then
    ``applies`` in resource-key order, ``deletes``, and last the ``status``
    (None leaves it alone). ``release`` ends a deletion whose children are gone.
    """

    composite: ObjectKey
    read: StoredObject
    events: tuple[Event, ...] = ()
    applies: tuple[tuple[Mapping[str, Any], Owner], ...] = ()
    deletes: tuple[ObjectKey, ...] = ()
    status: Mapping[str, Any] | None = None
    release: bool = False
    composition: Composition | None = None


def execute(plan: Plan | None, writer: Writer) -> bool:
    """Perform a plan's writes in order; True when anything changed."""
    if plan is None:
        return False
    key = plan.composite
    for event in plan.events:
        writer.record(key, event.type, event.reason, event.message)
    changed = False
    for manifest, owner in plan.applies:
        changed |= writer.apply(manifest, owner)
    for child in plan.deletes:
        changed |= writer.delete(child)
    if plan.status is not None:
        changed |= writer.patch_status(key, plan.status, plan.read)
    if plan.release:
        changed |= writer.release(key, plan.read)
    return changed


def call_composer(compose: Composer, observed: Observed[Any], cache: Cache) -> Composition:
    """The one place a composer is called."""
    return compose(observed, cache)


class Engine:
    """Plans reconciles of the composites in a :class:`ClusterState`.

    The engine keeps what Crossplane keeps between calls: each composite's last
    requirements (resolved up front next time), decoded composites, resolved
    requirements (reused until their kind is written), and from the
    requirements, who to reconcile when an object of a kind changes. It also
    owns the composers' :class:`~modelplane_core.Cache` (the memory of one
    simulation run, or of one controller's watch cache).
    """

    def __init__(self, state: ClusterState, cache: Cache | None = None) -> None:
        self.state = state
        self.cache = cache if cache is not None else Cache()
        self._requirements: dict[ObjectKey, tuple[Requirement, ...]] = {}
        self._decoded: dict[ObjectKey, tuple[Mapping[str, Any], Any]] = {}
        self._resolved: dict[tuple[Any, ...], tuple[Any, Fetched]] = {}
        # Objects of a kind at one version, indexed for selectors (built on first use).
        self._indexes: dict[tuple[str, str], _KindIndex] = {}
        # Who must be reconciled when an object changes: Crossplane's watches, by selector.
        self._watches = _Watches()
        # The labels each object had when last seen changing: a relabelled or deleted
        # object also wakes whoever selected it by its old labels.
        self._labels: dict[ObjectKey, Mapping[str, str]] = {}
        self.composer_calls = 0

    # -- reading the state as a composer sees it ---------------------------------------

    def typed(self, key: ObjectKey) -> Any:
        """The composite decoded into its API type (cached until the object changes)."""
        stored = self.state.get(key)
        if stored is None:
            return None
        manifest = stored.manifest
        cached = self._decoded.get(key)
        if cached is not None and cached[0] is manifest:
            return cached[1]
        decoded = from_dict(manifest)
        self._decoded[key] = (manifest, decoded)
        return decoded

    def resolve(self, requirement: Requirement) -> Fetched:
        """The objects a requirement selects, by name or by labels, in a stable order, decoded.

        A result is reused until an object of its kind is written, so every
        ModelDeployment asking for "all clusters" gets the very same objects,
        which is what lets the scheduler's fleet cache skip what did not change.
        """
        memo_key = (
            requirement.api_version,
            requirement.kind,
            requirement.match_name,
            requirement.namespace,
            tuple(sorted((requirement.match_labels or {}).items())),
        )
        version = self.state.kind_version(requirement.api_version, requirement.kind)
        cached = self._resolved.get(memo_key)
        if cached is not None and cached[0] == version:
            return cached[1]
        found: list[AnyObject] = []
        unreadable: list[Unreadable] = []
        index = self._index(requirement.api_version, requirement.kind, version)
        for key, stored in index.candidates(requirement):
            _api, _kind, namespace, name = key
            if requirement.namespace is not None and namespace != requirement.namespace:
                continue
            if requirement.match_name is not None:
                if name != requirement.match_name:
                    continue
            elif not _selects(requirement, _labels_of(stored.manifest)):
                continue
            try:
                found.append(self.required_from(key, stored))
            except ValidationError as exc:
                unreadable.append(unreadable_from(stored.manifest, exc))
        result = Fetched(items=tuple(found), unreadable=tuple(unreadable))
        self._resolved[memo_key] = (version, result)
        return result

    def _index(self, api_version: str, kind: str, version: Hashable) -> _KindIndex:
        """The kind's objects at ``version``, indexed by name and label (rebuilt when written)."""
        index = self._indexes.get((api_version, kind))
        if index is None or index.version != version:
            index = _KindIndex(version, self.state.of_kind(api_version, kind))
            self._indexes[(api_version, kind)] = index
        return index

    def required_from(self, key: ObjectKey, stored: StoredObject) -> AnyObject:
        """The one place a stored object becomes a required resource: decoded, the boundary.

        Each object is decoded once per change, not once per reader; one that
        cannot be decoded raises :class:`ValidationError`, and is handed over as
        unreadable.
        """
        if kind_class(key[0], key[1]) is None:
            return Unstructured(data=stored.manifest)
        decoded: Resource = self.typed(key)
        return decoded

    def _composed(self, key: ObjectKey) -> Resource | None:
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
        for resource, child in self.state.children(key).items():
            stored = self.state.get(child)
            if stored is not None:
                resources[resource] = ObservedResource(
                    manifest=stored.manifest,
                    connection_details=stored.connection,
                    obj=self._composed(child),
                )
        required = {r.key: self.resolve(r) for r in self._requirements.get(key, ())}
        return Observed(composite=composite, resources=resources, required=required)

    # -- planning ---------------------------------------------------------------------

    def compose(self, key: ObjectKey, composite: Any) -> Composition:
        """Call the composer until what it asks for is what it was given, as Crossplane does.

        Crossplane calls again while the requirements change. Here a composer
        that composed (did not hold) and asks for less than it was just given
        (a settled ModelDeployment narrowing from every replica to its own, in
        the very call that placed its new replicas) is done too: it composed
        from at least everything it asks for, and calling it with less can only
        lose what it saw, so the narrower requirements start the next reconcile
        instead. Otherwise such a composer would alternate between composing
        with the wide set and holding with the narrow one until the rounds ran
        out. A composer that holds is called again until its requirements are
        exactly what it was given, as Crossplane does.
        """
        compose = composer_for(key[1])
        composition = None
        for _ in range(MAX_REQUIREMENT_ROUNDS):
            given = self._requirements.get(key, ())
            observed = self.observed(key, composite)
            self.composer_calls += 1
            composition = call_composer(compose, observed, self.cache)
            wanted = tuple(sorted(composition.requirements, key=lambda r: r.key))
            if wanted == tuple(sorted(given, key=lambda r: r.key)):
                break
            self._watch(key, wanted)
            if not composition.held and all(any(_covers(g, w) for g in given) for w in wanted):
                break
        assert composition is not None
        return composition

    def plan(self, key: ObjectKey) -> Plan | None:
        """What one reconcile of ``key`` writes; None when the composite does not exist."""
        read = self.state.get(key)
        if read is None:
            return None
        if (read.manifest.get("metadata") or {}).get("deletionTimestamp"):
            return self._plan_deletion(key, read)
        try:
            composite = self.typed(key)
        except ValidationError as exc:
            return Plan(
                composite=key, read=read, events=(Event.warning("InvalidObject", str(exc)),)
            )
        try:
            composition = self.compose(key, composite)
        except Exception as exc:  # a composer bug must not take the fleet down with it
            return self._plan_failure(key, read, exc)
        return self._plan_composition(key, read, composition)

    def _plan_composition(
        self, key: ObjectKey, read: StoredObject, composition: Composition
    ) -> Plan:
        namespace = key[2]
        events = list(composition.events)
        applies: list[tuple[Mapping[str, Any], Owner]] = []
        desired_children: dict[str, ObjectKey] = {}
        claimed: dict[ObjectKey, ObjectKey] = {}
        written_status: dict[str, Mapping[str, Any] | None] = {}
        for resource in composition.resources:
            manifest = _named(resource.manifest, key[3], resource.key, namespace)
            child = key_of(manifest)
            existing = self.state.get(child)
            owner = Owner(composite=key, resource=resource.key)
            holder = claimed.get(child)
            if holder is None and existing is not None and existing.owner not in (None, owner):
                holder = existing.owner.composite
            if holder is not None:
                events.append(
                    Event.warning(
                        "ComposeConflict",
                        f"{describe(child)} is already composed by {describe(holder)}",
                    )
                )
                continue
            claimed[child] = key
            status = None
            if existing is not None and "status" in existing.manifest:
                status = existing.manifest["status"]
            elif "status" in manifest:
                status = manifest["status"]
            written_status[resource.key] = status
            applies.append((manifest, owner))
            desired_children[resource.key] = child
        deletes: tuple[ObjectKey, ...] = ()
        if not composition.held:
            kept = set(desired_children.values())
            deletes = tuple(
                child
                for _resource, child in sorted(self.state.children(key).items())
                if child not in kept
            )
        ready = composition.ready
        if ready is None:
            ready = all(
                r.ready if r.ready is not None else _reports_ready(written_status.get(r.key))
                for r in composition.resources
                if r.key in desired_children
            )
        status = dict(composition.status)
        status["conditions"] = _conditions(composition, ready)
        return Plan(
            composite=key,
            read=read,
            events=tuple(events),
            applies=tuple(applies),
            deletes=deletes,
            status=status,
            composition=composition,
        )

    def _plan_failure(self, key: ObjectKey, read: StoredObject, exc: Exception) -> Plan:
        """A composer raised: keep every child, say so (Synced=False), as a Fatal result does."""
        message = (
            f"composing {describe(key)} failed: {type(exc).__name__}: {exc}; "
            "the composed resources are kept as they are"
        )
        status = dict(read.manifest.get("status") or {})
        conditions = [
            c
            for c in status.get("conditions") or ()
            if isinstance(c, Mapping) and c.get("type") != "Synced"
        ]
        conditions.append(
            {"type": "Synced", "status": "False", "reason": "ReconcileError", "message": message}
        )
        status["conditions"] = sorted(conditions, key=lambda c: str(c.get("type")))
        return Plan(
            composite=key,
            read=read,
            events=(Event.warning("ComposeFailed", message),),
            status=status,
        )

    def _plan_deletion(self, key: ObjectKey, read: StoredObject) -> Plan:
        """Ordered deletion: children first; the composite goes once none is left."""
        children = tuple(sorted(set(self.state.children(key).values())))
        present = tuple(child for child in children if self.state.get(child) is not None)
        return Plan(composite=key, read=read, deletes=present, release=not present)

    # -- watching ---------------------------------------------------------------------

    def affected(self, changes: Mapping[ObjectKey, ObjectKey | None]) -> set[ObjectKey]:
        """The composites a set of writes can change the composition of.

        A composer is a pure function of its composite, its composed resources
        and the resources it requires, so only these need reconciling again: a
        written composite, the owner of a written object, and every composite
        whose requirement selects the written object (by name, or by labels it
        has now or had before it was written).
        """
        dirty: set[ObjectKey] = set()
        state = self.state
        for key, owner in changes.items():
            stored = state.get(key)
            if is_composite(key):
                if stored is None:
                    self.forget(key)
                else:
                    dirty.add(key)
            if owner is not None:
                dirty.add(owner)
            before = self._labels.pop(key, None)
            now = _labels_of(stored.manifest) if stored is not None else None
            if now:
                self._labels[key] = now
            if stored is None and before is None:
                # Deleted before its labels were ever seen: whoever selects by label may care.
                dirty |= self._watches.any_label(key)
            dirty |= self._watches.selecting(key, before or {}, now or {})
        return {key for key in dirty if state.get(key) is not None}

    def forget(self, key: ObjectKey) -> None:
        """A deleted composite: drop its watches and its decoded form."""
        self._watch(key, ())
        self._decoded.pop(key, None)

    def _watch(self, key: ObjectKey, requirements: tuple[Requirement, ...]) -> None:
        self._watches.replace(key, self._requirements.get(key, ()), requirements)
        if requirements:
            self._requirements[key] = requirements
        else:
            self._requirements.pop(key, None)

    def watched_kinds(self) -> set[tuple[str, str]]:
        """Every (apiVersion, kind) some composite requires: what a backend must watch."""
        return {
            (r.api_version, r.kind)
            for requirements in self._requirements.values()
            for r in requirements
        }


def _covers(given: Requirement, wanted: Requirement) -> bool:
    """Everything ``wanted`` selects, ``given`` selected too (by another key, perhaps)."""
    if (given.api_version, given.kind) != (wanted.api_version, wanted.kind):
        return False
    if given.namespace is not None and given.namespace != wanted.namespace:
        return False
    if given.match_name is not None:
        return wanted.match_name == given.match_name
    labels = (given.match_labels or {}).items()
    if wanted.match_name is not None:
        return not labels
    return labels <= (wanted.match_labels or {}).items()


def _labels_of(manifest: Mapping[str, Any]) -> Mapping[str, str]:
    labels = (manifest.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, Mapping) else {}


def _selects(requirement: Requirement, labels: Mapping[str, str]) -> bool:
    """A label requirement (no labels: every object) selects an object with ``labels``."""
    return all(labels.get(k) == v for k, v in (requirement.match_labels or {}).items())


class _KindIndex:
    """A kind's objects at one version, by name and by each label pair, in key order."""

    __slots__ = ("by_label", "by_name", "objects", "version")

    def __init__(
        self, version: Hashable, objects: Iterable[tuple[ObjectKey, StoredObject]]
    ) -> None:
        self.version = version
        self.objects = list(objects)
        self.by_name: dict[str, list[tuple[ObjectKey, StoredObject]]] = {}
        self.by_label: dict[tuple[str, str], list[tuple[ObjectKey, StoredObject]]] = {}
        for entry in self.objects:
            self.by_name.setdefault(entry[0][3], []).append(entry)
            for pair in _labels_of(entry[1].manifest).items():
                self.by_label.setdefault(pair, []).append(entry)

    def candidates(self, requirement: Requirement) -> list[tuple[ObjectKey, StoredObject]]:
        """A superset of what ``requirement`` selects, in key order."""
        if requirement.match_name is not None:
            return self.by_name.get(requirement.match_name, [])
        labels = sorted((requirement.match_labels or {}).items())
        return self.by_label.get(labels[0], []) if labels else self.objects


# A composite selecting by labels: (composite, namespace or None, sorted label pairs).
_LabelWatch = tuple[ObjectKey, str | None, tuple[tuple[str, str], ...]]


def _entry(by_label: bool, composite: ObjectKey, requirement: Requirement) -> Any:
    if not by_label:
        return composite
    return (
        composite,
        requirement.namespace,
        tuple(sorted((requirement.match_labels or {}).items())),
    )


class _Watches:
    """Which composites' requirements select an object: by name, by a label pair, or all."""

    def __init__(self) -> None:
        # (apiVersion, kind, name) -> composites naming it.
        self.by_name: dict[tuple[str, str, str], set[ObjectKey]] = {}
        # (apiVersion, kind, label, value) -> (composite, namespace, labels) selecting with it.
        self.by_label: dict[tuple[str, str, str, str], set[_LabelWatch]] = {}
        # (apiVersion, kind) -> composites selecting every object of the kind.
        self.all: dict[tuple[str, str], set[ObjectKey]] = {}

    def _slot(self, requirement: Requirement) -> tuple[dict[Any, set[Any]], Any]:
        kind = (requirement.api_version, requirement.kind)
        if requirement.match_name is not None:
            return self.by_name, (*kind, requirement.match_name)
        labels = sorted((requirement.match_labels or {}).items())
        if labels:
            return self.by_label, (*kind, *labels[0])
        return self.all, kind

    def replace(
        self,
        composite: ObjectKey,
        old: Iterable[Requirement],
        new: Iterable[Requirement],
    ) -> None:
        for requirement in old:
            table, slot = self._slot(requirement)
            table.get(slot, set()).discard(_entry(table is self.by_label, composite, requirement))
        for requirement in new:
            table, slot = self._slot(requirement)
            table.setdefault(slot, set()).add(
                _entry(table is self.by_label, composite, requirement)
            )

    def selecting(
        self, key: ObjectKey, before: Mapping[str, str], now: Mapping[str, str]
    ) -> set[ObjectKey]:
        """The composites whose requirements select ``key`` with either set of labels."""
        api_version, kind, namespace, name = key
        found = set(self.all.get((api_version, kind), ()))
        found |= self.by_name.get((api_version, kind, name), set())
        for labels in (before, now):
            for pair in labels.items():
                for composite, selected_in, wanted in self.by_label.get(
                    (api_version, kind, *pair), ()
                ):
                    namespaced = selected_in in (None, namespace)
                    if namespaced and all(labels.get(k) == v for k, v in wanted):
                        found.add(composite)
        return found

    def any_label(self, key: ObjectKey) -> set[ObjectKey]:
        """Every composite selecting objects of ``key``'s kind by some label."""
        return {
            composite
            for (api_version, kind, _label, _value), entries in self.by_label.items()
            if (api_version, kind) == key[:2]
            for composite, _namespace, _labels in entries
        }


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


def _reports_ready(status: Any) -> bool:
    if not isinstance(status, Mapping):
        return False
    for condition in status.get("conditions") or ():
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


def composites(keys: Iterable[ObjectKey]) -> Sequence[ObjectKey]:
    """The composites among ``keys``, in reconcile order."""
    return sorted((k for k in keys if is_composite(k)), key=reconcile_order)
