"""The controller's view of the cluster: every watched object, as the engine reads it.

This is the Kubernetes backend of the engine's :class:`~modelplane_core.reconcile.ClusterState`,
filled by the informers (:mod:`.informer`) and by the answers to our own writes
(so a reconcile reads what it just wrote). Objects are kept as wire dicts
without ``metadata.managedFields`` (the bulk of a large object, read by no one
here) and without ``status.observedGeneration`` (our bookkeeping, kept aside so
composites decode into their API types exactly as the function adapter's do).

Ownership is read from what the writer puts on every composed object: the
label :data:`OWNER_UID` (the composite's uid) and the annotation
:data:`RESOURCE_KEY` (the composer's resource key). A uid, not a name, so a
composite deleted and created again under the same name never adopts the
children of its predecessor.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Final

import attrs

from modelplane_core.reconcile import ObjectKey, Owner, key_of

OWNER_UID: Final = "controller.modelplane.ai/owner-uid"
RESOURCE_KEY: Final = "controller.modelplane.ai/resource-key"


class NotWatched(LookupError):
    """A kind the cache does not hold yet: reading it would look like "none exist"."""


@attrs.frozen(kw_only=True)
class Cached:
    """One object: its manifest as composers see it, its owner, our status bookkeeping."""

    manifest: Mapping[str, Any]
    owner: Owner | None = None
    connection: Mapping[str, bytes] = attrs.field(factory=dict)
    observed_generation: int | None = None

    @property
    def uid(self) -> str:
        return str((self.manifest.get("metadata") or {}).get("uid") or "")


def ingest(raw: Mapping[str, Any]) -> tuple[dict[str, Any], int | None]:
    """A wire object as cached: without managedFields and status.observedGeneration."""
    manifest = dict(raw)
    metadata = manifest.get("metadata")
    if isinstance(metadata, Mapping) and "managedFields" in metadata:
        manifest["metadata"] = {k: v for k, v in metadata.items() if k != "managedFields"}
    observed = None
    status = manifest.get("status")
    if isinstance(status, Mapping) and "observedGeneration" in status:
        observed = status.get("observedGeneration")
        manifest["status"] = {k: v for k, v in status.items() if k != "observedGeneration"}
    return manifest, observed if isinstance(observed, int) else None


class ClusterCache:
    """Objects by key and kind, children by owner uid; a version per kind; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._objects: dict[ObjectKey, Cached] = {}
        self._by_kind: dict[tuple[str, str], dict[ObjectKey, Cached]] = {}
        self._kind_versions: dict[tuple[str, str], int] = {}
        self._uids: dict[str, ObjectKey] = {}
        # owner uid -> resource key -> child keys (more than one only after a rename)
        self._children: dict[str, dict[str, set[ObjectKey]]] = {}
        self._watched: set[tuple[str, str]] = set()
        # Kinds a reader asked for before they were listed (the controller's plans clear it).
        self.unlisted_reads: set[tuple[str, str]] = set()

    # -- the engine's ClusterState -----------------------------------------------------

    def get(self, key: ObjectKey) -> Cached | None:
        return self._objects.get(key)

    def of_kind(self, api_version: str, kind: str) -> Iterable[tuple[ObjectKey, Cached]]:
        with self._lock:
            if (api_version, kind) not in self._watched:
                self.unlisted_reads.add((api_version, kind))
                raise NotWatched(f"{api_version} {kind} is not watched yet")
            found = self._by_kind.get((api_version, kind), {})
            return sorted(found.items())

    def kind_version(self, api_version: str, kind: str) -> Hashable:
        return self._kind_versions.get((api_version, kind), 0)

    def children(self, composite: ObjectKey) -> Mapping[str, ObjectKey]:
        """Resource key -> child. A key held by two objects (a renamed child) shows the
        older name under ``<key>@<name>``, so the engine sees, and collects, both."""
        stored = self._objects.get(composite)
        if stored is None:
            return {}
        with self._lock:
            by_resource = self._children.get(stored.uid, {})
            found: dict[str, ObjectKey] = {}
            for resource, keys in by_resource.items():
                ordered = sorted(keys, key=lambda k: _created(self._objects.get(k)))
                found[resource] = ordered[-1]
                for older in ordered[:-1]:
                    found[f"{resource}@{older[3]}"] = older
            return found

    # -- what the informers and the writer report ----------------------------------------

    def watching(self, api_version: str, kind: str) -> bool:
        return (api_version, kind) in self._watched

    def mark_watched(self, api_version: str, kind: str) -> None:
        with self._lock:
            self._watched.add((api_version, kind))

    def owner_uid(self, key: ObjectKey) -> str:
        stored = self._objects.get(key)
        return stored.uid if stored is not None else ""

    def upsert(self, raw: Mapping[str, Any]) -> dict[ObjectKey, ObjectKey | None]:
        """Store an object as read; the change, as the engine's ``affected`` wants it."""
        manifest, observed = ingest(raw)
        key = key_of(manifest)
        with self._lock:
            before = self._objects.get(key)
            owner = self._owner_of(manifest)
            stored = Cached(manifest=manifest, owner=owner, observed_generation=observed)
            if before is not None:
                self._unindex(key, before)
            self._objects[key] = stored
            self._by_kind.setdefault(key[:2], {})[key] = stored
            self._bump(key)
            uid = stored.uid
            if uid:
                self._uids[uid] = key
            parent = _parent_uid(manifest)
            if parent:
                resource = _resource_key(manifest)
                self._children.setdefault(parent, {}).setdefault(resource, set()).add(key)
            changes = {key: owner.composite if owner else None}
            if before is not None and before.owner is not None and before.owner != owner:
                changes[before.owner.composite] = None
            return changes

    def remove(self, key: ObjectKey) -> dict[ObjectKey, ObjectKey | None]:
        with self._lock:
            before = self._objects.pop(key, None)
            if before is None:
                return {}
            self._by_kind.get(key[:2], {}).pop(key, None)
            self._unindex(key, before)
            self._bump(key)
            return {key: before.owner.composite if before.owner else None}

    def replace_kind(
        self, api_version: str, kind: str, items: Iterable[Mapping[str, Any]]
    ) -> dict[ObjectKey, ObjectKey | None]:
        """A fresh list of a kind (the first, or after a watch expired): add, update, remove."""
        changes: dict[ObjectKey, ObjectKey | None] = {}
        with self._lock:
            seen = set()
            for raw in items:
                item = {"apiVersion": api_version, "kind": kind, **raw}
                key = key_of(item)
                seen.add(key)
                before = self._objects.get(key)
                if before is not None and _same_version(before.manifest, item):
                    continue
                changes |= self.upsert(item)
            for key in [k for k in self._by_kind.get((api_version, kind), {}) if k not in seen]:
                changes |= self.remove(key)
            self._watched.add((api_version, kind))
        return changes

    def _owner_of(self, manifest: Mapping[str, Any]) -> Owner | None:
        parent = _parent_uid(manifest)
        composite = self._uids.get(parent) if parent else None
        if composite is None:
            return None
        return Owner(composite=composite, resource=_resource_key(manifest))

    def _unindex(self, key: ObjectKey, before: Cached) -> None:
        parent = _parent_uid(before.manifest)
        if parent:
            by_resource = self._children.get(parent, {})
            resource = _resource_key(before.manifest)
            by_resource.get(resource, set()).discard(key)
            if not by_resource.get(resource):
                by_resource.pop(resource, None)
            if not by_resource:
                self._children.pop(parent, None)
        if before.uid and self._uids.get(before.uid) == key:
            del self._uids[before.uid]

    def _bump(self, key: ObjectKey) -> None:
        self._kind_versions[key[:2]] = self._kind_versions.get(key[:2], 0) + 1

    def keys(self) -> list[ObjectKey]:
        with self._lock:
            return list(self._objects)

    def __len__(self) -> int:
        return len(self._objects)


def _parent_uid(manifest: Mapping[str, Any]) -> str:
    labels = (manifest.get("metadata") or {}).get("labels") or {}
    return str(labels.get(OWNER_UID) or "")


def _resource_key(manifest: Mapping[str, Any]) -> str:
    annotations = (manifest.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(RESOURCE_KEY) or "")


def _created(stored: Cached | None) -> tuple[str, str]:
    if stored is None:
        return ("", "")
    metadata = stored.manifest.get("metadata") or {}
    return str(metadata.get("creationTimestamp") or ""), str(metadata.get("name") or "")


def _same_version(cached: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    version = (item.get("metadata") or {}).get("resourceVersion")
    return bool(version) and version == (cached.get("metadata") or {}).get("resourceVersion")
