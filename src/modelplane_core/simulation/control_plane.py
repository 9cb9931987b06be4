"""The simulator's control plane: the shared reconcile engine over the simulated store.

The engine (:mod:`modelplane_core.reconcile`) is the small Crossplane the
standalone controller runs too; here the :class:`~.store.Store` is both what
it reads and, through :class:`StoreWriter`, what it writes, at simulated time.
Events go to a list the timeline prints, as ``kubectl get events`` would show them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from modelplane_core.cache import Cache
from modelplane_core.reconcile import Engine, execute
from modelplane_core.reconcile.engine import composites as _composites
from modelplane_core.reconcile.engine import is_composite, reconcile_order
from modelplane_core.reconcile.port import StoredObject
from modelplane_core.simulation.store import ObjectKey, Owner, Store, describe, key_of

__all__ = [
    "ControlPlane",
    "Recorded",
    "StoreWriter",
    "composites",
    "is_composite",
    "reconcile_order",
]


@attrs.frozen(kw_only=True)
class Recorded:
    """An event a composer emitted, as ``kubectl get events`` would show it."""

    time: float
    object: str
    type: str
    reason: str
    message: str


class StoreWriter:
    """The engine's writes, applied to the store at simulated time ``now``."""

    def __init__(self, store: Store, now: float, events: list[Recorded]) -> None:
        self.store = store
        self.now = now
        self.events = events

    def apply(self, manifest: Mapping[str, Any], owner: Owner) -> bool:
        existing = self.store.get(key_of(manifest))
        if existing is not None and "status" in existing.manifest:
            manifest = {**manifest, "status": existing.manifest["status"]}
        return self.store.put(manifest, now=self.now, owner=owner)

    def patch_status(self, key: ObjectKey, status: Mapping[str, Any], read: StoredObject) -> bool:
        return self.store.set_status(key, status)

    def delete(self, key: ObjectKey) -> bool:
        return bool(self.store.delete(key))

    def record(self, key: ObjectKey, type_: str, reason: str, message: str) -> None:
        self.events.append(
            Recorded(
                time=self.now, object=describe(key), type=type_, reason=reason, message=message
            )
        )

    def release(self, key: ObjectKey, read: StoredObject) -> bool:
        return bool(self.store.delete(key))  # the store has no finalizers: deletion is immediate


class ControlPlane:
    """Runs composers against a :class:`Store` and applies what they want."""

    def __init__(self, store: Store, cache: Cache | None = None) -> None:
        self.store = store
        self.engine = Engine(store, cache)
        self.events: list[Recorded] = []

    @property
    def composer_calls(self) -> int:
        return self.engine.composer_calls

    def typed(self, key: ObjectKey) -> Any:
        """The composite decoded into its API type (cached until the object changes)."""
        return self.engine.typed(key)

    def reconcile(self, key: ObjectKey, now: float) -> bool:
        """One reconcile of composite ``key``; True when the store changed."""
        return execute(self.engine.plan(key), StoreWriter(self.store, now, self.events))

    def affected(self, changes: Mapping[ObjectKey, ObjectKey | None]) -> set[ObjectKey]:
        """The composites a set of writes can change the composition of."""
        return self.engine.affected(changes)


def composites(store: Store) -> Sequence[ObjectKey]:
    """Every composite in the store, in reconcile order."""
    return _composites(store)
