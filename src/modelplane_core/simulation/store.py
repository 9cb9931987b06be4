"""The simulated API server: every object of the control cluster, and who owns what.

Objects are stored as wire dicts (``apiVersion``, ``kind``, ``metadata``,
``spec``, ``status``) exactly as Crossplane would hand them to a composer, and
are never mutated in place: a write stores a new dict, so a reader can keep a
reference (and a typed decoding of it) for as long as it likes. Each object
remembers the composite that owns it and under which resource key, which is
what garbage collection and ``Observed.resources`` are built from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from modelplane_core.reconcile.port import ObjectKey, Owner, describe, key_of

__all__ = ["ObjectKey", "Owner", "Store", "Stored", "describe", "key_of"]


@attrs.frozen(kw_only=True)
class Stored:
    """One object, when it was created (simulated seconds), and its owner if composed."""

    manifest: Mapping[str, Any]
    created: float
    owner: Owner | None = None
    connection: Mapping[str, bytes] = attrs.field(factory=dict)

    @property
    def status(self) -> Mapping[str, Any]:
        status = self.manifest.get("status")
        return status if isinstance(status, Mapping) else {}


class Store:
    """Objects by key, owned children by composite, and a version that counts every write."""

    def __init__(self) -> None:
        self._objects: dict[ObjectKey, Stored] = {}
        self._by_kind: dict[tuple[str, str], set[ObjectKey]] = {}
        # Each kind's keys in order, kept until an object of the kind is added or removed.
        self._ordered: dict[tuple[str, str], list[ObjectKey]] = {}
        self._by_name: dict[tuple[str, str], set[ObjectKey]] = {}
        # Writes per (apiVersion, kind): a list of that kind is unchanged while this is.
        self._kind_versions: dict[tuple[str, str], int] = {}
        self._children: dict[ObjectKey, dict[str, ObjectKey]] = {}
        self.version = 0
        # Keys written since the last drain, each with the composite that owned it then:
        # what must be reconciled again (the object, its owner, whoever watches its kind).
        self._changed: dict[ObjectKey, ObjectKey | None] = {}
        # The same writes for the providers, who drain them on their own schedule.
        self._touched: set[ObjectKey] = set()

    # -- reading ----------------------------------------------------------------------

    def get(self, key: ObjectKey) -> Stored | None:
        return self._objects.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._objects

    def __iter__(self) -> Iterator[ObjectKey]:
        return iter(sorted(self._objects))

    def __len__(self) -> int:
        return len(self._objects)

    def items(self) -> Iterable[tuple[ObjectKey, Stored]]:
        return ((key, self._objects[key]) for key in sorted(self._objects))

    def of_kind(self, api_version: str, kind: str) -> list[tuple[ObjectKey, Stored]]:
        keys = self._ordered.get((api_version, kind))
        if keys is None:
            keys = sorted(self._by_kind.get((api_version, kind), ()))
            self._ordered[(api_version, kind)] = keys
        return [(key, self._objects[key]) for key in keys]

    def kind_version(self, api_version: str, kind: str) -> int:
        return self._kind_versions.get((api_version, kind), 0)

    def named(self, kind: str, name: str) -> list[tuple[ObjectKey, Stored]]:
        """Every object of ``kind`` called ``name`` (any group, version or namespace)."""
        return [(key, self._objects[key]) for key in sorted(self._by_name.get((kind, name), ()))]

    def keys(self) -> Iterable[ObjectKey]:
        """Every key, in no particular order (cheaper than iterating the store)."""
        return self._objects.keys()

    def children(self, composite: ObjectKey) -> Mapping[str, ObjectKey]:
        """Resource key -> child key for everything ``composite`` composed."""
        return self._children.get(composite, {})

    # -- writing ----------------------------------------------------------------------

    def put(
        self,
        manifest: Mapping[str, Any],
        *,
        now: float,
        owner: Owner | None = None,
        connection: Mapping[str, bytes] | None = None,
    ) -> bool:
        """Create or replace an object; True when anything about it changed."""
        key = key_of(manifest)
        before = self._objects.get(key)
        stored = Stored(
            manifest=manifest,
            created=before.created if before is not None else now,
            owner=owner if owner is not None else (before.owner if before else None),
            connection=connection
            if connection is not None
            else (before.connection if before else {}),
        )
        if before is not None and before == stored:
            return False
        if before is not None and before.owner is not None and before.owner != stored.owner:
            self._children.get(before.owner.composite, {}).pop(before.owner.resource, None)
        self._objects[key] = stored
        if before is None:
            self._ordered.pop(key[:2], None)
        self._by_kind.setdefault((key[0], key[1]), set()).add(key)
        self._by_name.setdefault((key[1], key[3]), set()).add(key)
        if stored.owner is not None:
            self._children.setdefault(stored.owner.composite, {})[stored.owner.resource] = key
        self.version += 1
        self._kind_versions[key[:2]] = self._kind_versions.get(key[:2], 0) + 1
        self._changed[key] = stored.owner.composite if stored.owner is not None else None
        self._touched.add(key)
        return True

    def set_status(self, key: ObjectKey, status: Mapping[str, Any]) -> bool:
        """Replace the status of an existing object; True when it changed."""
        stored = self._objects.get(key)
        if stored is None:
            return False
        manifest = {k: v for k, v in stored.manifest.items() if k != "status"}
        if status:
            manifest["status"] = dict(status)
        return self.put(manifest, now=stored.created)

    def set_connection(self, key: ObjectKey, connection: Mapping[str, bytes]) -> bool:
        """Replace the connection details a provider published for an object; True when changed."""
        stored = self._objects.get(key)
        if stored is None:
            return False
        return self.put(stored.manifest, now=stored.created, connection=connection)

    def delete(self, key: ObjectKey) -> list[ObjectKey]:
        """Delete an object and, like Kubernetes garbage collection, everything it owns."""
        stored = self._objects.pop(key, None)
        if stored is None:
            return []
        self._by_kind[(key[0], key[1])].discard(key)
        self._ordered.pop(key[:2], None)
        self._by_name[(key[1], key[3])].discard(key)
        removed = [key]
        self._touched.add(key)
        self.version += 1
        self._kind_versions[key[:2]] = self._kind_versions.get(key[:2], 0) + 1
        self._changed[key] = stored.owner.composite if stored.owner is not None else None
        if stored.owner is not None:
            siblings = self._children.get(stored.owner.composite, {})
            if siblings.get(stored.owner.resource) == key:
                del siblings[stored.owner.resource]
        for child in sorted(self._children.pop(key, {}).values()):
            removed += self.delete(child)
        return removed

    def drain_touched(self) -> set[ObjectKey]:
        """Keys written since the providers last asked (see :meth:`drain_changes`)."""
        touched, self._touched = self._touched, set()
        return touched

    def drain_changes(self) -> dict[ObjectKey, ObjectKey | None]:
        """What was written since the last call: each key with its owner at the time."""
        changed, self._changed = self._changed, {}
        return changed
