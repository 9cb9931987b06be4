"""The standalone controller: informers, a work queue, workers running the shared engine.

The engine (:mod:`modelplane_core.reconcile`) is the simulator's; here its
state is the informer cache and its writer the Kubernetes API. A reconcile
plans under one lock (composers are CPU-bound Python: more threads would not
compose faster, and the engine's memos stay single-threaded) and writes
outside it, so ``--workers`` overlap API round trips; only a plan that
changes what other composites read (a deployment's replicas: the node
ledger) is written before the lock is released.

Safety, in order of importance:

- nothing is reconciled before every watched kind has been listed once (a
  composer must never mistake "not listed yet" for "none exist");
- a kind a composer requires that is not listed yet (not watched, or its
  watch just started) is listed first, and the plan made without it is
  dropped, never executed;
- every kind is watched in every namespace, even with ``--namespace``, which
  only limits the composites reconciled: composers read across namespaces
  (the node ledger counts every ModelReplica of the fleet; an InferenceCluster
  composes into ``modelplane-system``), and a ledger missing another
  namespace's replicas would overcommit the fleet;
- a failed write is retried with exponential backoff; a periodic resync
  reconciles everything again, so a lost event only delays;
- with leader election, workers run only while the Lease is held; losing it
  stops them after their current write and ends ``run`` with exit status 1
  (the process restarts and campaigns again), without touching anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Final

import attrs

from modelplane_adapters.controller.cache import ClusterCache
from modelplane_adapters.controller.informer import WATCH_SECONDS, Informer
from modelplane_adapters.controller.kinds import Kind, watched_kinds
from modelplane_adapters.controller.kube import ApiError, Kube
from modelplane_adapters.controller.leader import LeaderElector
from modelplane_adapters.controller.observability import Endpoints, Metrics
from modelplane_adapters.controller.workqueue import WorkQueue
from modelplane_adapters.controller.writer import KubeWriter
from modelplane_core.reconcile import (
    Engine,
    ObjectKey,
    Plan,
    composites,
    describe,
    execute,
    key_of,
)

LOG = logging.getLogger("modelplane.controller")
RESYNC_SECONDS: Final = 300.0
SYNC_TIMEOUT: Final = 60.0
LEASE_NAME: Final = "modelplane-controller"
LEASE_NAMESPACE: Final = "modelplane-system"


@attrs.frozen(kw_only=True)
class Options:
    namespace: str = ""  # namespaced composites are reconciled here only ("" = every namespace)
    workers: int = 1
    resync: float = RESYNC_SECONDS
    leader_elect: bool = False
    lease_namespace: str = LEASE_NAMESPACE
    lease_name: str = LEASE_NAME
    identity: str = "modelplane-controller"
    metrics_address: str | None = None
    health_address: str | None = None
    watch_seconds: int = WATCH_SECONDS
    kinds: tuple[Kind, ...] = attrs.field(factory=watched_kinds)


class Controller:
    def __init__(self, kube: Kube, options: Options | None = None) -> None:
        self.kube = kube
        self.options = options or Options()
        self.cache = ClusterCache()
        self.engine = Engine(self.cache)
        self.writer = KubeWriter(kube, self.cache, instance=self.options.identity)
        self.queue: WorkQueue[ObjectKey] = WorkQueue()
        self.metrics = Metrics()
        self.metrics.queue_depth = self.queue.__len__
        self.informers: dict[Kind, Informer] = {}
        self.unserved: set[Kind] = set()
        self.stop = threading.Event()
        # Set once every kind is listed, the Lease held (if asked) and the workers run.
        self.started = threading.Event()
        self.elector: LeaderElector | None = None
        self._plan_lock = threading.Lock()
        self._informer_lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._endpoints: list[Endpoints] = []

    # -- watching ---------------------------------------------------------------------

    def watch(self, kind: Kind) -> Informer | None:
        """Start watching a kind (once); None when the API server does not serve it."""
        with self._informer_lock:
            if kind in self.informers:
                return self.informers[kind]
            try:
                info = self.kube.resource(*kind)
            except ApiError as exc:
                if exc.not_found:
                    self.kube.forget_discovery(kind[0])
                    if kind not in self.unserved:
                        LOG.warning("not watching %s %s: not served", *kind)
                    self.unserved.add(kind)
                    return None
                raise
            self.unserved.discard(kind)
            informer = Informer(
                self.kube, info, self.cache, self.notify, watch_seconds=self.options.watch_seconds
            )
            self.informers[kind] = informer
            informer.start()
            return informer

    def synced(self) -> bool:
        return all(i.synced.is_set() for i in list(self.informers.values()))

    def notify(self, changes: Mapping[ObjectKey, ObjectKey | None]) -> None:
        with self._plan_lock:
            dirty = self.engine.affected(changes)
        for key in dirty:
            if self.in_scope(key):
                self.queue.add(key)

    def in_scope(self, key: ObjectKey) -> bool:
        """A composite this controller reconciles: cluster-scoped, or in ``--namespace``."""
        return not self.options.namespace or not key[2] or key[2] == self.options.namespace

    # -- reconciling ------------------------------------------------------------------

    def process(self, key: ObjectKey) -> str:
        """One reconcile of ``key``: plan, watch what is missing, write. Returns the result."""
        with self._plan_lock:
            self.cache.unlisted_reads.clear()
            plan = self.engine.plan(key)
            required = self.engine.watched_kinds()
            # What the plan read before it was listed, and what the next one will read.
            unlisted = set(self.cache.unlisted_reads)
            unlisted |= {kind for kind in required if not self.cache.watching(*kind)}
            unlisted -= self.unserved
            if not unlisted and plan is not None and self._changes_what_others_read(plan):
                # The next plan must read these writes: a ModelDeployment's new replicas
                # are the next one's node ledger, and a ledger missing them overcommits a
                # pool for good (replicas are retained where they are). kube-scheduler
                # "assumes" a pod bound before the next cycle for the same reason.
                self._write(key, plan)
                return "success"
        if unlisted:
            for kind in sorted(unlisted):
                informer = self.watch(kind)
                if informer is not None:
                    informer.synced.wait(SYNC_TIMEOUT)
            self.queue.add_after(key, 0.01)
            return "requeue"
        if plan is None:
            return "gone"
        self._write(key, plan)
        return "success"

    def _changes_what_others_read(self, plan: Plan) -> bool:
        """The plan creates, deletes or changes (spec, labels) an object of a required kind."""
        required = self.engine.watched_kinds()
        for manifest, _owner in plan.applies:
            child = key_of(manifest)
            if child[:2] not in required:
                continue
            cached = self.cache.get(child)
            if cached is None or any(
                _part(manifest, path) != _part(cached.manifest, path)
                for path in (("spec",), ("metadata", "labels"))
            ):
                return True
        return any(child[:2] in required for child in plan.deletes)

    def _write(self, key: ObjectKey, plan: Plan) -> None:
        deleting = bool((plan.read.manifest.get("metadata") or {}).get("deletionTimestamp"))
        if plan.applies and not deleting:
            self.writer.ensure_finalizer(key, plan.read)
        execute(plan, self.writer)
        for manifest, _owner in plan.applies:
            kind = key_of(manifest)[:2]
            if kind not in self.informers:
                LOG.warning("%s %s is composed but was not in the watch table; watching it", *kind)
                self.watch(kind)

    def reconcile(self, key: ObjectKey) -> None:
        started = time.perf_counter()
        result = "error"
        try:
            result = self.process(key)
            self.queue.forget(key)
        except ApiError as exc:
            delay = self.queue.add_rate_limited(key)
            level = logging.INFO if exc.conflict else logging.WARNING
            LOG.log(
                level,
                "reconcile failed, retrying",
                extra={"object": describe(key), "error": str(exc), "retry_in": round(delay, 3)},
            )
        except Exception:
            delay = self.queue.add_rate_limited(key)
            LOG.exception(
                "reconcile crashed, retrying",
                extra={"object": describe(key), "retry_in": round(delay, 3)},
            )
        finally:
            seconds = time.perf_counter() - started
            self.metrics.observe(key[1], result if result != "gone" else "success", seconds)
            self.queue.done(key)
        LOG.debug(
            "reconciled",
            extra={"object": describe(key), "result": result, "seconds": round(seconds, 4)},
        )

    def _work(self) -> None:
        while True:
            key = self.queue.get()
            if key is None:
                return
            if self.stop.is_set() or (
                self.elector is not None and not self.elector.leading.is_set()
            ):
                self.queue.done(key)
                return
            self.reconcile(key)

    def resync(self) -> None:
        """Queue every composite (the periodic safety net for anything a watch missed)."""
        for key in composites(self.cache.keys()):
            if self.in_scope(key):
                self.queue.add(key)

    # -- running ----------------------------------------------------------------------

    def start_endpoints(self) -> None:
        def healthz() -> tuple[int, str, str]:
            return 200, "text/plain", "ok\n"

        def readyz() -> tuple[int, str, str]:
            if self.synced():
                return 200, "text/plain", "ok\n"
            return 503, "text/plain", "informers not synced\n"

        def metrics() -> tuple[int, str, str]:
            return 200, "text/plain; version=0.0.4; charset=utf-8", self.metrics.exposition()

        routes = {"/healthz": healthz, "/readyz": readyz}
        if self.options.health_address:
            if self.options.health_address == self.options.metrics_address:
                routes["/metrics"] = metrics
            self._endpoints.append(Endpoints(self.options.health_address, routes))
        if (
            self.options.metrics_address
            and self.options.metrics_address != self.options.health_address
        ):
            self._endpoints.append(Endpoints(self.options.metrics_address, {"/metrics": metrics}))
        for endpoint in self._endpoints:
            endpoint.start()

    def run(self) -> int:
        """Run until :attr:`stop` is set (0) or the leader lease is lost (1)."""
        self.start_endpoints()
        try:
            for kind in self.options.kinds:
                self.watch(kind)
            while not self.synced() and not self.stop.wait(0.05):
                pass
            if self.stop.is_set():
                return 0
            LOG.info(
                "caches synced", extra={"kinds": len(self.informers), "objects": len(self.cache)}
            )
            if self.options.leader_elect:
                self.elector = LeaderElector(
                    self.kube,
                    namespace=self.options.lease_namespace,
                    name=self.options.lease_name,
                    identity=self.options.identity,
                )
                threading.Thread(target=self.elector.run, args=(self.stop,), daemon=True).start()
                while not self.elector.leading.is_set() and not self.stop.wait(0.1):
                    pass
                if self.stop.is_set():
                    return 0
            self.resync()
            self._workers = [
                threading.Thread(target=self._work, name=f"worker-{n}", daemon=True)
                for n in range(max(1, self.options.workers))
            ]
            for worker in self._workers:
                worker.start()
            self.started.set()
            next_resync = time.monotonic() + self.options.resync
            while not self.stop.wait(0.1):
                if self.elector is not None and self.elector.lost.is_set():
                    LOG.error("leader lease lost: stopping")
                    return 1
                if time.monotonic() >= next_resync:
                    self.resync()
                    next_resync = time.monotonic() + self.options.resync
            return 0
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop taking work, let in-flight reconciles finish, stop watching, release the lease."""
        self.stop.set()
        self.queue.shutdown()
        for worker in self._workers:
            worker.join(timeout=60)
        for informer in list(self.informers.values()):
            informer.stop()
        if self.elector is not None:
            self.elector.release()
        for endpoint in self._endpoints:
            endpoint.stop()
        self._endpoints.clear()


def _part(manifest: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = manifest
    for field in path:
        value = value.get(field) if isinstance(value, Mapping) else None
    return value or None
