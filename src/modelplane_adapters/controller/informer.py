"""List, then watch, one kind: client-go's reflector, kept small.

Each informer is a thread: it lists the kind (replacing what the cache holds
of it, atomically, so a relist never shows a half-empty fleet), then watches
from the list's ``resourceVersion``. A watch that ends (the server's timeout, a
dropped connection) resumes from the last version seen; one the server
answers with 410 Gone (the version left its history) lists again; any other
failure is retried with exponential backoff. Every change goes to ``notify``
as the engine's ``affected`` wants it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Final

from modelplane_adapters.controller.cache import ClusterCache
from modelplane_adapters.controller.kube import ApiError, Kube, ResourceInfo
from modelplane_core.reconcile import ObjectKey, key_of

LOG = logging.getLogger("modelplane.controller.informer")
# The server ends a watch after this (client-go picks 5-10 minutes at random).
WATCH_SECONDS: Final = 300
BACKOFF_START: Final = 0.5
BACKOFF_MAX: Final = 30.0

Notify = Callable[[Mapping[ObjectKey, ObjectKey | None]], None]


class Informer:
    """Keeps ``cache`` up to date with one kind; ``synced`` is set after the first list."""

    def __init__(
        self,
        kube: Kube,
        info: ResourceInfo,
        cache: ClusterCache,
        notify: Notify,
        *,
        namespace: str = "",
        watch_seconds: int = WATCH_SECONDS,
    ) -> None:
        self.kube, self.info, self.cache, self.notify = kube, info, cache, notify
        self.namespace = namespace if info.namespaced else ""
        self.watch_seconds = watch_seconds
        self.synced = threading.Event()
        self.stopped = threading.Event()
        self.relists = 0
        # The resourceVersion of the last list or event fully handled (cached, then notified):
        # opaque to the controller, compared only by tests that know their API server.
        self.handled = ""
        self._thread = threading.Thread(target=self._run, name=f"informer-{info.kind}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopped.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        backoff = BACKOFF_START
        version = ""
        while not self.stopped.is_set():
            try:
                if not version:
                    version = self._list()
                version = self._watch(version)
                backoff = BACKOFF_START
            except ApiError as exc:
                if exc.gone:
                    LOG.info("watch of %s expired (%s); listing again", self.info.kind, exc.message)
                    version = ""
                    continue
                LOG.warning(
                    "watching %s failed: %s; retrying in %.1fs", self.info.kind, exc, backoff
                )
                self.stopped.wait(backoff * (1 + random.random() / 2))
                backoff = min(backoff * 2, BACKOFF_MAX)

    def _list(self) -> str:
        listed = self.kube.request("GET", self.info.path(self.namespace))
        items = listed.get("items") or ()
        changes = self.cache.replace_kind(self.info.api_version, self.info.kind, items)
        self.relists += 1
        self.synced.set()
        if changes:
            self.notify(changes)
        version = str((listed.get("metadata") or {}).get("resourceVersion") or "")
        self.handled = version
        return version

    def _watch(self, version: str) -> str:
        query = {
            "watch": "true",
            "resourceVersion": version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(self.watch_seconds),
        }
        stream = self.kube.stream(
            self.info.path(self.namespace), query, timeout=self.watch_seconds + 10
        )
        for event in stream:
            if self.stopped.is_set():
                break
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                raise ApiError(
                    int(obj.get("code") or 500), str(obj.get("reason")), str(obj.get("message"))
                )
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            if kind == "BOOKMARK":
                self.handled = version
                continue
            item = {"apiVersion": self.info.api_version, "kind": self.info.kind, **obj}
            if kind == "DELETED":
                uid = str((obj.get("metadata") or {}).get("uid") or "")
                changes = self.cache.remove(key_of(item), uid)
            else:
                changes = self.cache.upsert(item)
            if changes:
                self.notify(changes)
            self.handled = version
        return version
