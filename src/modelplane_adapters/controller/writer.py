"""The engine's writes on the Kubernetes API: server-side apply, status, deletes, Events.

- Composed objects are server-side applied with field manager ``modelplane``
  (forced: the controller is the authority on what it composes), labelled with
  the composite's uid and annotated with the resource key (:mod:`.cache`),
  and owned by the composite through an owner reference wherever Kubernetes
  allows one (same namespace, or a cluster-scoped owner). Their ``status`` is
  never sent: it belongs to whoever manages the object. An apply that would
  change nothing (the very body this writer applied last, every field of it
  still in place) is not sent: a resync re-applies every child of every
  composite, and each would be an API round trip for nothing.
- A composite's status is applied to its status subresource, with
  ``observedGeneration`` (top level and per condition) set to the generation
  the composer read, and ``lastTransitionTime`` kept while a condition holds.
  A status equal to the one cached is not written at all.
- Deletes carry the object's uid as a precondition, so a composite never
  deletes a newer object that took a name over.
- Events are core/v1 Events, best effort: a failed Event is logged, never retried.
- Our finalizer is added before the first child is created and removed (with a
  ``resourceVersion`` precondition) once the children are gone.

Every answer goes straight into the cache, so the next reconcile reads its own writes.
"""

from __future__ import annotations

import datetime
import logging
import socket
import uuid
from collections.abc import Mapping
from typing import Any, Final

from modelplane_adapters.controller.cache import OWNER_UID, RESOURCE_KEY, Cached, ClusterCache
from modelplane_adapters.controller.kube import APPLY, MERGE, ApiError, Kube
from modelplane_core.reconcile import ObjectKey, Owner, StoredObject, key_of

LOG = logging.getLogger("modelplane.controller.writer")
FIELD_MANAGER: Final = "modelplane"
FINALIZER: Final = "controller.modelplane.ai/finalizer"
COMPONENT: Final = "modelplane-controller"


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubeWriter:
    """Implements :class:`modelplane_core.reconcile.Writer` against one API server."""

    def __init__(self, kube: Kube, cache: ClusterCache, *, instance: str | None = None) -> None:
        self.kube, self.cache = kube, cache
        self.instance = instance or socket.gethostname()
        self.writes = 0
        # The body last applied per object, so an apply that changes nothing is skipped.
        self._applied: dict[ObjectKey, dict[str, Any]] = {}

    def _path(self, key: ObjectKey, subresource: str = "") -> str:
        info = self.kube.resource(key[0], key[1])
        return info.path(key[2], key[3], subresource)

    def _store(self, answer: Any) -> None:
        if isinstance(answer, Mapping) and answer.get("metadata"):
            self.cache.upsert(answer)

    # -- composed objects -------------------------------------------------------------

    def apply(self, manifest: Mapping[str, Any], owner: Owner) -> bool:
        key = key_of(manifest)
        body = self.desired(manifest, owner)
        before = self.cache.get(key)
        if before is not None and self._applied.get(key) == body and _holds(before, body):
            return False
        answer = self.kube.request(
            "PATCH",
            self._path(key),
            query={"fieldManager": FIELD_MANAGER, "force": "true"},
            body=body,
            content_type=APPLY,
        )
        self.writes += 1
        self._store(answer)
        self._applied[key] = body
        return before is None or _version(before.manifest) != _version(answer)

    def desired(self, manifest: Mapping[str, Any], owner: Owner) -> dict[str, Any]:
        """What is applied for a composed object: no status, our label, annotation, owner."""
        body = {k: v for k, v in manifest.items() if k != "status"}
        metadata = dict(body.get("metadata") or {})
        composite = self.cache.get(owner.composite)
        uid = composite and str((composite.manifest.get("metadata") or {}).get("uid") or "")
        if not uid:
            raise ApiError(0, "OwnerUnknown", f"the composite {owner.composite} has no uid yet")
        metadata["labels"] = {**(metadata.get("labels") or {}), OWNER_UID: uid}
        metadata["annotations"] = {
            **(metadata.get("annotations") or {}),
            RESOURCE_KEY: owner.resource,
        }
        if _may_own(owner.composite, key_of(body), self.kube):
            metadata["ownerReferences"] = [
                {
                    "apiVersion": owner.composite[0],
                    "kind": owner.composite[1],
                    "name": owner.composite[3],
                    "uid": uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]
        body["metadata"] = metadata
        return body

    def delete(self, key: ObjectKey) -> bool:
        self._applied.pop(key, None)
        stored = self.cache.get(key)
        if stored is None:
            return False
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Background",
            "preconditions": {"uid": stored.uid},
        }
        try:
            answer = self.kube.request("DELETE", self._path(key), body=options)
        except ApiError as exc:
            if exc.not_found:
                self.cache.deleted(key)
                return False
            raise
        self.writes += 1
        if isinstance(answer, Mapping) and (answer.get("metadata") or {}).get("deletionTimestamp"):
            self._store(answer)
        else:
            self.cache.deleted(key)
        return True

    # -- the composite ------------------------------------------------------------------

    def patch_status(self, key: ObjectKey, status: Mapping[str, Any], read: StoredObject) -> bool:
        generation = (read.manifest.get("metadata") or {}).get("generation")
        current = self.cache.get(key)
        previous = current.manifest.get("status") if current is not None else None
        wanted = _with_transitions(status, previous if isinstance(previous, Mapping) else {})
        if isinstance(generation, int):
            wanted = _with_generation(wanted, generation)
        if current is not None and _status_of(current) == wanted:
            return False
        body = {
            "apiVersion": key[0],
            "kind": key[1],
            "metadata": {"name": key[3], **({"namespace": key[2]} if key[2] else {})},
            "status": wanted,
        }
        answer = self.kube.request(
            "PATCH",
            self._path(key, "status" if self.kube.resource(key[0], key[1]).status else ""),
            query={"fieldManager": FIELD_MANAGER, "force": "true"},
            body=body,
            content_type=APPLY,
        )
        self.writes += 1
        self._store(answer)
        return True

    def ensure_finalizer(self, key: ObjectKey, read: StoredObject) -> bool:
        """Add our finalizer before anything is composed, so deletion waits for the children."""
        metadata = read.manifest.get("metadata") or {}
        finalizers = list(metadata.get("finalizers") or ())
        if FINALIZER in finalizers or metadata.get("deletionTimestamp"):
            return False
        return self._finalizers(key, read, [*finalizers, FINALIZER])

    def release(self, key: ObjectKey, read: StoredObject) -> bool:
        finalizers = list((read.manifest.get("metadata") or {}).get("finalizers") or ())
        if FINALIZER not in finalizers:
            return False
        return self._finalizers(key, read, [f for f in finalizers if f != FINALIZER])

    def _finalizers(self, key: ObjectKey, read: StoredObject, finalizers: list[str]) -> bool:
        version = _version(read.manifest)
        patch = {"metadata": {"finalizers": finalizers, "resourceVersion": version}}
        try:
            answer = self.kube.request("PATCH", self._path(key), body=patch, content_type=MERGE)
        except ApiError as exc:
            if exc.not_found:
                return False
            raise
        self.writes += 1
        if finalizers or not (answer.get("metadata") or {}).get("deletionTimestamp"):
            self._store(answer)
        return True

    # -- events -----------------------------------------------------------------------

    def record(self, key: ObjectKey, type_: str, reason: str, message: str) -> None:
        stored = self.cache.get(key)
        metadata = (stored.manifest.get("metadata") or {}) if stored is not None else {}
        namespace = key[2] or "default"
        now = _now()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{key[3]}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": key[0],
                "kind": key[1],
                "name": key[3],
                **({"namespace": key[2]} if key[2] else {}),
                **({"uid": metadata["uid"]} if metadata.get("uid") else {}),
                **(
                    {"resourceVersion": metadata["resourceVersion"]}
                    if metadata.get("resourceVersion")
                    else {}
                ),
            },
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "reportingInstance": self.instance,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self.kube.request("POST", f"/api/v1/namespaces/{namespace}/events", body=event)
        except ApiError as exc:
            LOG.warning("recording event %s on %s failed: %s", reason, key, exc)


def _version(manifest: Any) -> str:
    return str(((manifest or {}).get("metadata") or {}).get("resourceVersion") or "")


def _holds(stored: Cached, body: Mapping[str, Any]) -> bool:
    """Every field of an applied ``body`` has its value in the cached object (so applying it
    again changes nothing); our label and annotation are kept aside in the cache."""
    metadata = dict(body.get("metadata") or {})
    labels = dict(metadata.pop("labels", None) or {})
    annotations = dict(metadata.pop("annotations", None) or {})
    if labels.pop(OWNER_UID, "") != stored.parent_uid:
        return False
    if annotations.pop(RESOURCE_KEY, "") != stored.resource:
        return False
    cached = stored.manifest.get("metadata") or {}
    if not _contains(cached.get("labels") or {}, labels):
        return False
    if not _contains(cached.get("annotations") or {}, annotations):
        return False
    return _contains(stored.manifest, {**body, "metadata": metadata})


def _contains(found: Any, wanted: Any) -> bool:
    """``wanted``'s fields all in ``found`` with equal values (lists compared whole)."""
    if isinstance(wanted, Mapping):
        return isinstance(found, Mapping) and all(
            k in found and _contains(found[k], v) for k, v in wanted.items()
        )
    return bool(found == wanted)


def _may_own(owner: ObjectKey, child: ObjectKey, kube: Kube) -> bool:
    """Kubernetes garbage collection only honours an owner in the child's namespace, or a
    cluster-scoped owner; anything else would read as a missing owner (and delete the child)."""
    if not owner[2]:
        return True
    try:
        namespaced = kube.resource(child[0], child[1]).namespaced
    except ApiError:
        return False
    return namespaced and child[2] == owner[2]


def _status_of(stored: Cached) -> dict[str, Any]:
    status = dict(stored.manifest.get("status") or {})
    if stored.observed_generation is not None:
        status["observedGeneration"] = stored.observed_generation
    return status


def _with_generation(status: Mapping[str, Any], generation: int) -> dict[str, Any]:
    wanted = dict(status)
    wanted["observedGeneration"] = generation
    if isinstance(wanted.get("conditions"), list):
        wanted["conditions"] = [
            {**c, "observedGeneration": generation} if isinstance(c, Mapping) else c
            for c in wanted["conditions"]
        ]
    return wanted


def _with_transitions(status: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """Conditions keep their ``lastTransitionTime`` while their status holds."""
    wanted = dict(status)
    before = {c.get("type"): c for c in previous.get("conditions") or () if isinstance(c, Mapping)}
    if isinstance(wanted.get("conditions"), list):
        stamped = []
        for condition in wanted["conditions"]:
            old = before.get(condition.get("type"))
            since = (
                old.get("lastTransitionTime")
                if old is not None and old.get("status") == condition.get("status")
                else None
            )
            stamped.append({**condition, "lastTransitionTime": since or _now()})
        wanted["conditions"] = stamped
    return wanted
