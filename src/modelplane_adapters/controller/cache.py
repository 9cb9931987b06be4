"""The controller's view of the cluster: every watched object, as the engine reads it.

This is the Kubernetes backend of the engine's :class:`~modelplane_core.reconcile.ClusterState`,
filled by the informers (:mod:`.informer`) and by the answers to our own writes
(so a reconcile reads what it just wrote). Objects are kept as wire dicts
without ``metadata.managedFields`` (the bulk of a large object, read by no one
here) and without our bookkeeping, kept aside: ``status.observedGeneration``,
and the owner label and resource-key annotation below. Composers read objects
exactly as the simulator's store holds them; a ModelReplica's labels, say, go
onto its pods, and the controller's own must not.

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
    parent_uid: str = ""  # the OWNER_UID label, taken off the manifest
    resource: str = ""  # the RESOURCE_KEY annotation, likewise

    @property
    def uid(self) -> str:
        return str((self.manifest.get("metadata") or {}).get("uid") or "")


def ingest(raw: Mapping[str, Any]) -> Cached:
    """A wire object as cached: our bookkeeping and managedFields taken off (owner unset)."""
    manifest = dict(raw)
    metadata = dict(manifest.get("metadata") or {})
    metadata.pop("managedFields", None)
    labels = dict(metadata.get("labels") or {})
    annotations = dict(metadata.get("annotations") or {})
    parent, resource = str(labels.pop(OWNER_UID, "")), str(annotations.pop(RESOURCE_KEY, ""))
    for field, kept in (("labels", labels), ("annotations", annotations)):
        if kept:
            metadata[field] = kept
        else:
            metadata.pop(field, None)
    manifest["metadata"] = metadata
    observed = None
    status = manifest.get("status")
    if isinstance(status, Mapping) and "observedGeneration" in status:
        observed = status.get("observedGeneration")
        manifest["status"] = {k: v for k, v in status.items() if k != "observedGeneration"}
    return Cached(
        manifest=manifest,
        observed_generation=observed if isinstance(observed, int) else None,
        parent_uid=parent,
        resource=resource,
    )


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
        # Objects our own deletes took out, with their owner, until their watch event comes.
        self._deleted: dict[ObjectKey, ObjectKey | None] = {}
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
        read = ingest(raw)
        key = key_of(read.manifest)
        with self._lock:
            before = self._objects.get(key)
            owner = self._owner_of(read)
            stored = attrs.evolve(read, owner=owner)
            if before is not None:
                self._unindex(key, before)
            self._objects[key] = stored
            self._by_kind.setdefault(key[:2], {})[key] = stored
            self._bump(key)
            self._deleted.pop(key, None)  # a new object took the name: its news is this
            uid = stored.uid
            if uid:
                self._uids[uid] = key
            if stored.parent_uid:
                by_resource = self._children.setdefault(stored.parent_uid, {})
                by_resource.setdefault(stored.resource, set()).add(key)
            changes = {key: owner.composite if owner else None}
            if before is not None and before.owner is not None and before.owner != owner:
                changes[before.owner.composite] = None
            return changes

    def remove(self, key: ObjectKey, uid: str = "") -> dict[ObjectKey, ObjectKey | None]:
        """An object is gone (a watch said so); the change, even if we removed it first.

        With ``uid``, only that incarnation: the late DELETED event of an object
        whose name a newer one (already cached) took over leaves the newer one.
        """
        with self._lock:
            current = self._objects.get(key)
            if current is not None and uid and current.uid and current.uid != uid:
                return {}
            before = self._objects.pop(key, None)
            if before is None:
                if key in self._deleted:
                    return {key: self._deleted.pop(key)}
                return {}
            self._deleted.pop(key, None)
            self._by_kind.get(key[:2], {}).pop(key, None)
            self._unindex(key, before)
            self._bump(key)
            return {key: before.owner.composite if before.owner else None}

    def deleted(self, key: ObjectKey) -> None:
        """We deleted an object: gone for readers now, news for watchers when its event comes.

        The engine learns of changes from the watches; were the object simply
        removed here, its DELETED event would find nothing to report, and a
        composite selecting it (a ModelService its ModelEndpoints) would never
        hear of it.
        """
        with self._lock:
            changes = self.remove(key)
            if changes:
                self._deleted[key] = changes[key]

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
            for key in [k for k in self._deleted if k[:2] == (api_version, kind)]:
                owner = self._deleted.pop(key)
                if key not in seen:
                    changes[key] = owner  # its DELETED event was lost with the watch
            self._watched.add((api_version, kind))
        return changes

    def _owner_of(self, read: Cached) -> Owner | None:
        composite = self._uids.get(read.parent_uid) if read.parent_uid else None
        if composite is None:
            return None
        return Owner(composite=composite, resource=read.resource)

    def _unindex(self, key: ObjectKey, before: Cached) -> None:
        parent = before.parent_uid
        if parent:
            by_resource = self._children.get(parent, {})
            by_resource.get(before.resource, set()).discard(key)
            if not by_resource.get(before.resource):
                by_resource.pop(before.resource, None)
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


def _created(stored: Cached | None) -> tuple[str, str]:
    if stored is None:
        return ("", "")
    metadata = stored.manifest.get("metadata") or {}
    return str(metadata.get("creationTimestamp") or ""), str(metadata.get("name") or "")


def _same_version(cached: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    version = (item.get("metadata") or {}).get("resourceVersion")
    return bool(version) and version == (cached.get("metadata") or {}).get("resourceVersion")
