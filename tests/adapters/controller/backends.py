"""The engine's two backends side by side: the simulator's store and the Kubernetes API.

A :class:`~modelplane_core.simulation.Simulation` applies events (the user's
writes, an outage) to its store, reconciles, and lets its simulated providers
report status. :class:`ApiTwin` replays the same user writes on the API server
emulator through the real ``kubernetes`` client, as ``kubectl apply`` and
``kubectl delete`` would, lets the controller reconcile, and has the very same
simulated providers report status on the objects the controller composed
(:class:`ProviderBridge`): whatever a provider would write, both backends get.

:func:`normalized` removes what only one backend has by construction (server
metadata, the controller's owner label and resource-key annotation, status
bookkeeping); what is left must be equal.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Mapping
from typing import Any, Final

from modelplane_adapters.controller.cache import OWNER_UID, RESOURCE_KEY
from modelplane_adapters.controller.kube import APPLY, ApiError, Kube
from modelplane_adapters.controller.manager import Controller
from modelplane_core.api.registry import kind_class
from modelplane_core.reconcile import ObjectKey, Owner, key_of
from modelplane_core.simulation import Simulation, Timing
from modelplane_core.simulation.providers import Providers
from modelplane_core.simulation.store import Store
from tests.adapters.controller.apiserver import SERVER_FIELDS, ApiServer
from tests.adapters.controller.conftest import settled

# Everything is up the moment it exists: both backends reach the end state without
# simulated time, and the API side needs no clock to agree with the store's.
INSTANT: Final = Timing(
    apply=0,
    workload=0,
    gang=0,
    warm_start=0,
    hydration=0,
    job=0,
    release=0,
    load_balancer=0,
    cloud=0,
)
PROVIDER: Final = "simulated-provider"
USER: Final = "kubectl"
# The API server's own bookkeeping, and what only the controller writes.
SERVER_METADATA: Final = frozenset({*SERVER_FIELDS, "finalizers", "ownerReferences"})
NOT_COMPARED: Final = frozenset({"Event", "Lease", "CustomResourceDefinition"})

Record = tuple[dict[str, Any], tuple[ObjectKey, str] | None]  # (manifest, owner)


def normalized(manifest: Mapping[str, Any], owner: Owner | None) -> Record:
    """An object as both backends must agree on it, with its owner and resource key."""
    out = copy.deepcopy(dict(manifest))
    metadata = {k: v for k, v in (out.get("metadata") or {}).items() if k not in SERVER_METADATA}
    for field, ours in (("labels", OWNER_UID), ("annotations", RESOURCE_KEY)):
        kept = {k: v for k, v in (metadata.pop(field, None) or {}).items() if k != ours}
        if kept:
            metadata[field] = kept
    out["metadata"] = metadata
    status = out.get("status")
    if isinstance(status, dict):
        status.pop("observedGeneration", None)
        for condition in status.get("conditions") or ():
            if isinstance(condition, dict):
                condition.pop("lastTransitionTime", None)
                condition.pop("observedGeneration", None)
    return out, (owner.composite, owner.resource) if owner is not None else None


def store_objects(store: Store) -> dict[ObjectKey, Record]:
    return {key: normalized(stored.manifest, stored.owner) for key, stored in store.items()}


def user_objects(store: Store) -> dict[ObjectKey, dict[str, Any]]:
    """What the user wrote (nobody composed it), without the status controllers wrote."""
    return {
        key: {k: v for k, v in stored.manifest.items() if k != "status"}
        for key, stored in store.items()
        if stored.owner is None
    }


def mirror(objects: Iterable[Mapping[str, Any]]) -> Store:
    """API objects in a simulator store, each owned as the controller's label says."""
    objects = [o for o in objects if o["kind"] not in NOT_COMPARED]
    by_uid = {o["metadata"]["uid"]: key_of(o) for o in objects}
    store = Store()
    for obj in sorted(objects, key=key_of):
        metadata = obj["metadata"]
        parent = by_uid.get((metadata.get("labels") or {}).get(OWNER_UID, ""))
        resource = (metadata.get("annotations") or {}).get(RESOURCE_KEY, "")
        owner = Owner(composite=parent, resource=resource) if parent else None
        store.put(obj, now=0.0, owner=owner)
    return store


class ProviderBridge:
    """The simulator's providers acting on the API server: status for what was composed."""

    def __init__(self, server: ApiServer) -> None:
        self.server = server
        self.unreachable: set[str] = set()
        self.writes = 0
        self.rounds = 0
        self.seconds = 0.0  # spent mirroring, settling and writing (benchmarks report it)

    def provide(self) -> bool:
        """Write every status a provider would report now; True when any changed."""
        started = time.perf_counter()
        self.rounds += 1
        with self.server.lock:
            objects = [copy.deepcopy(o) for o in self.server.objects.values()]
        store = mirror(objects)
        before = {key: stored.status for key, stored in store.items()}
        providers = Providers(INSTANT)
        providers.unreachable = set(self.unreachable)
        providers.settle(store, 0.0)
        changed = False
        for key, stored in store.items():
            if stored.status != before[key]:
                self.server.write_status(key, stored.status, PROVIDER)
                self.writes += 1
                changed = True
        self.seconds += time.perf_counter() - started
        return changed


class ApiTwin:
    """The API server, the controller, and the simulated providers, driven like a simulation."""

    def __init__(self, server: ApiServer, controller: Controller, kube: Kube) -> None:
        self.server, self.controller, self.kube = server, controller, kube
        self.providers = ProviderBridge(server)

    def follow(self, simulation: Simulation) -> None:
        """Make the user's objects what they are in ``simulation``, then converge."""
        self.write(simulation)
        self.converge()

    def write(self, simulation: Simulation) -> None:
        """The user's writes (and the outages) that make the API side match ``simulation``."""
        wanted = user_objects(simulation.store)
        for key, manifest in sorted(wanted.items()):
            self._apply(key, manifest)
        for key in sorted(self._user_keys() - set(wanted)):
            self._delete(key)
        self.providers.unreachable = set(simulation.providers.unreachable)

    def converge(self, rounds: int = 60) -> None:
        """Reconcile and report status until neither the controller nor a provider writes."""
        for _ in range(rounds):
            settled(self.server, self.controller)
            if not self.providers.provide():
                return
        raise AssertionError(f"the API backend did not converge in {rounds} provider rounds")

    def objects(self) -> dict[ObjectKey, Record]:
        with self.server.lock:
            found = [copy.deepcopy(o) for o in self.server.objects.values()]
        store = mirror(found)
        return {key: normalized(stored.manifest, stored.owner) for key, stored in store.items()}

    def _path(self, key: ObjectKey) -> str:
        return self.kube.resource(key[0], key[1]).path(key[2], key[3])

    def _apply(self, key: ObjectKey, manifest: Mapping[str, Any]) -> None:
        self.kube.request(
            "PATCH",
            self._path(key),
            query={"fieldManager": USER, "force": "true"},
            body=manifest,
            content_type=APPLY,
        )

    def _delete(self, key: ObjectKey) -> None:
        try:
            self.kube.request("DELETE", self._path(key), body={"propagationPolicy": "Background"})
        except ApiError as exc:
            if not exc.not_found:
                raise

    def _user_keys(self) -> set[ObjectKey]:
        """Our kinds nobody composed (no owner label), as the API server holds them."""
        with self.server.lock:
            return {
                key_of(o)
                for o in self.server.objects.values()
                if kind_class(o["apiVersion"], o["kind"]) is not None
                and OWNER_UID not in (o["metadata"].get("labels") or {})
            }
