"""The narrow port between the reconcile engine and a cluster: what it reads, what it writes.

The engine (:mod:`.engine`) is a small Crossplane. It never talks to a cluster
itself; it reads a :class:`ClusterState` and writes through a :class:`Writer`.
Two backends implement them: the simulator's in-memory store
(``modelplane_core.simulation.store``) and the Kubernetes API behind an
informer cache (``modelplane_adapters.controller``). The third part of the
port, *watch*, is a plain value: every backend reports what was written as a
mapping of object key to the composite that owned the object then (``None``
for an object nobody composed), and :meth:`.engine.Engine.affected` turns that
into the composites to reconcile again.

Objects are wire dicts (``apiVersion``, ``kind``, ``metadata``, ``spec``,
``status``), never mutated in place by a backend: a write stores a new dict,
so a reader may keep a reference, and a decoding of it, for as long as it likes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Protocol

import attrs

ObjectKey = tuple[str, str, str, str]  # (apiVersion, kind, namespace or "", name)


def key_of(manifest: Mapping[str, Any]) -> ObjectKey:
    metadata = manifest.get("metadata") or {}
    return (
        str(manifest.get("apiVersion", "")),
        str(manifest.get("kind", "")),
        str(metadata.get("namespace") or ""),
        str(metadata.get("name") or ""),
    )


def describe(key: ObjectKey) -> str:
    """``Kind namespace/name`` (``Kind name`` when cluster-scoped), as kubectl prints it."""
    _api, kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


@attrs.frozen(kw_only=True)
class Owner:
    """The composite that composed an object, and the resource key it used."""

    composite: ObjectKey
    resource: str


class StoredObject(Protocol):
    """One object as a backend holds it: the manifest, its owner, its connection details."""

    @property
    def manifest(self) -> Mapping[str, Any]: ...

    @property
    def owner(self) -> Owner | None: ...

    @property
    def connection(self) -> Mapping[str, bytes]: ...


class ClusterState(Protocol):
    """What the engine reads: objects by key, by kind, and who composed what."""

    def get(self, key: ObjectKey) -> StoredObject | None: ...

    def of_kind(self, api_version: str, kind: str) -> Iterable[tuple[ObjectKey, StoredObject]]:
        """Every object of the kind, in key order (composers see a stable order)."""
        ...

    def kind_version(self, api_version: str, kind: str) -> Hashable:
        """Changes whenever an object of the kind is written: lists are reused while it holds."""
        ...

    def children(self, composite: ObjectKey) -> Mapping[str, ObjectKey]:
        """Resource key -> child key for everything ``composite`` composed."""
        ...


class Writer(Protocol):
    """What the engine writes. Each call is one idempotent request; True when it changed."""

    def apply(self, manifest: Mapping[str, Any], owner: Owner) -> bool:
        """Make the object's content (never its status) equal ``manifest``, owned by ``owner``."""
        ...

    def patch_status(self, key: ObjectKey, status: Mapping[str, Any], read: StoredObject) -> bool:
        """Replace the composite's status; ``read``: the composite it was computed from."""
        ...

    def delete(self, key: ObjectKey) -> bool: ...

    def record(self, key: ObjectKey, type_: str, reason: str, message: str) -> None:
        """Record an event on the object (a Kubernetes Event, a simulator timeline entry)."""
        ...

    def release(self, key: ObjectKey, read: StoredObject) -> bool:
        """The composite's children are gone: let its deletion finish (remove our finalizer)."""
        ...
