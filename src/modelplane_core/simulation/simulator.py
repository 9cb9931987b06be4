"""A fleet you can run in a notebook: apply events, step through time, inspect.

    from modelplane_core.simulation import Simulation, Scale, Outage

    sim = Simulation(objects)                   # manifests (dicts) or typed API objects
    sim.run(until="2h")                         # reconcile to convergence at every change
    sim.at("3h", Outage(cluster="eks-us-west")) # schedule an event ...
    sim.run()                                   # ... and watch the fleet react
    sim.rows("pools")                           # metrics per step, as rows (or sim.frame(...))

Time only moves to the next interesting moment: the next scheduled event, or
the next time something in the fleet changes state on its own (a node pool
finishes provisioning, an engine finishes loading its model). At each of those
moments the control plane -- the real composers behind a small Crossplane --
reconciles until nothing changes, and the step's metrics are recorded. A step
whose reconcile never settles is reported as not converged and stops the run.
"""

from __future__ import annotations

import heapq
import itertools
import json
import time as wallclock
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from modelplane_core.api.codec import unstructure
from modelplane_core.api.documents import from_dict, validate
from modelplane_core.api.errors import ValidationError
from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.meta import API_VERSION, LABEL_DEPLOYMENT, LABEL_REPLICA_INDEX
from modelplane_core.api.model_deployment import ModelDeployment
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.api.model_routing import ModelService
from modelplane_core.api.registry import kind_class
from modelplane_core.simulation import metrics
from modelplane_core.simulation.control_plane import ControlPlane, Recorded, reconcile_order
from modelplane_core.simulation.events import (
    Apply,
    Delete,
    Event,
    Outage,
    Patch,
    Resize,
    Scale,
    Taint,
    Timed,
    merge_patch,
)
from modelplane_core.simulation.metrics import StepMetrics
from modelplane_core.simulation.providers import Providers, Timing
from modelplane_core.simulation.scenario import Scenario, parse_duration
from modelplane_core.simulation.store import ObjectKey, Store, describe, key_of

# Reconcile rounds within one step before the loop is declared not to converge.
MAX_ROUNDS: Final = 60


class Simulation:
    """A simulated control plane and fleet, advanced one interesting moment at a time."""

    def __init__(
        self,
        objects: Iterable[Mapping[str, Any] | object] = (),
        *,
        timing: Timing | None = None,
    ) -> None:
        self.store = Store()
        self.control = ControlPlane(self.store)
        self.providers = Providers(timing)
        self.now = 0.0
        self.history: list[StepMetrics] = []
        self.failure: str | None = None
        # Reconcile rounds one step may take before it is declared not to converge.
        self.max_rounds = MAX_ROUNDS
        self._pending: list[tuple[float, int, Event]] = []
        self._order = itertools.count()
        initial = tuple(_manifest(o) for o in objects)
        if initial:
            self.at(0.0, Apply(manifests=initial))

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Simulation:
        simulation = cls(scenario.manifests, timing=scenario.timing)
        for timed in scenario.events:
            simulation.at(timed.at, timed.event)
        return simulation

    # -- what happens ---------------------------------------------------------------

    def at(self, when: float | str, event: Event) -> None:
        """Schedule ``event`` at simulated time ``when`` (seconds or ``"1h30m"``)."""
        moment = parse_duration(when)
        if moment < self.now:
            raise ValueError(
                f"cannot schedule an event at {moment}s: the simulation is at {self.now}s"
            )
        heapq.heappush(self._pending, (moment, next(self._order), event))

    def apply(self, *objects: Mapping[str, Any] | object) -> None:
        """Apply objects now (they take effect at the next step)."""
        self.at(self.now, Apply(manifests=tuple(_manifest(o) for o in objects)))

    @property
    def pending(self) -> tuple[Timed, ...]:
        return tuple(Timed(at=at, event=event) for at, _, event in sorted(self._pending))

    # -- time ------------------------------------------------------------------------

    def next_time(self) -> float | None:
        """When the next step happens: the next event, or the next change in the fleet."""
        candidates = [self._pending[0][0]] if self._pending else []
        changes = self.providers.next_change(self.store, self.now)
        if changes is not None:
            candidates.append(changes)
        if not self.history and not candidates:
            return self.now
        return min(candidates) if candidates else None

    def step(self) -> StepMetrics | None:
        """Advance to the next moment, apply its events, reconcile, record; None when idle."""
        if self.failure is not None:
            return None
        moment = self.next_time()
        if moment is None:
            return None
        self.now = max(moment, self.now)
        started = wallclock.perf_counter()
        before = self._replicas()
        applied = []
        while self._pending and self._pending[0][0] <= self.now:
            _, _, event = heapq.heappop(self._pending)
            applied.append(self._perform(event))
        calls = self.control.composer_calls
        rounds, converged = self._converge()
        after = self._replicas()
        record = self._measure(
            events=tuple(applied),
            rounds=rounds,
            composer_calls=self.control.composer_calls - calls,
            seconds=wallclock.perf_counter() - started,
            converged=converged,
            created=tuple(sorted(after - before)),
            deleted=tuple(sorted(before - after)),
        )
        self.history.append(record)
        if not converged:
            self.failure = (
                f"the control plane did not converge at t={self.now:g}s after {rounds} rounds"
            )
        return record

    def run(
        self,
        until: float | str | None = None,
        *,
        progress: Callable[[StepMetrics], None] | None = None,
    ) -> list[StepMetrics]:
        """Step until idle (or ``until``); returns the steps taken in this call."""
        limit = parse_duration(until) if until is not None else None
        taken = []
        while True:
            moment = self.next_time()
            if moment is None or (limit is not None and moment > limit):
                break
            record = self.step()
            if record is None:
                break
            taken.append(record)
            if progress is not None:
                progress(record)
            if self.failure is not None:
                break
        if limit is not None and self.failure is None:
            self.now = max(self.now, limit)
        return taken

    # -- inspecting --------------------------------------------------------------------

    def get(self, kind: str, name: str, namespace: str | None = None) -> Any:
        """The typed object of one of our kinds, status included, or None."""
        for key in self._keys(kind):
            if key[3] == name and (namespace is None or key[2] == namespace):
                return self.control.typed(key)
        return None

    def objects(self, kind: str) -> list[Any]:
        """Every object of one of our kinds, typed, in (namespace, name) order."""
        return [self.control.typed(key) for key in self._keys(kind)]

    def manifests(self) -> list[Mapping[str, Any]]:
        """Every object in the simulated control cluster, as wire dicts."""
        return [stored.manifest for _, stored in self.store.items()]

    @property
    def events(self) -> list[Recorded]:
        """What the composers reported (Kubernetes events), oldest first."""
        return list(self.control.events)

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Metrics as flat rows; ``table`` is one of ``metrics.TABLES`` (``pools``, ...)."""
        return metrics.step_rows(self.history, table)

    def frame(self, table: str) -> Any:
        """The same rows as a pandas DataFrame (pandas must be installed)."""
        try:
            import pandas  # type: ignore[import-untyped]  # noqa: PLC0415 - optional
        except ImportError as exc:
            raise ImportError("Simulation.frame needs pandas: pip install pandas") from exc
        return pandas.DataFrame(self.rows(table))

    def to_json(self) -> str:
        return json.dumps({table: self.rows(table) for table in metrics.TABLES}, indent=2)

    def placements(self) -> list[dict[str, Any]]:
        """Where every replica runs now: deployment, cluster, index, pools, ready."""
        rows = []
        for replica in self.objects("ModelReplica"):
            labels = replica.metadata.label_map
            deployment = labels.get(LABEL_DEPLOYMENT, "?")
            rows.append(
                {
                    "deployment": f"{replica.metadata.namespace}/{deployment}",
                    "replica": replica.metadata.name,
                    "cluster": replica.spec.cluster_name,
                    "index": labels.get(LABEL_REPLICA_INDEX),
                    "pools": ",".join(
                        f"{e.name}={e.members[0].node_pool_name}" for e in replica.spec.engines
                    ),
                    "ready": metrics.replica_ready(replica),
                }
            )
        return rows

    # -- internals -------------------------------------------------------------------

    def _keys(self, kind: str) -> list[ObjectKey]:
        return [key for key in self.store if key[1] == kind and kind_class(key[0], key[1])]

    def _replicas(self) -> set[str]:
        return {f"{k[2]}/{k[3]}" for k in self._keys("ModelReplica")}

    def _converge(self) -> tuple[int, bool]:
        """Reconcile until nothing changes; only what a write can affect is reconciled."""
        for round_ in range(1, self.max_rounds + 1):
            self.providers.settle(self.store, self.now)
            dirty = self.control.affected(self.store.drain_changes())
            if not dirty:
                return round_, True
            for key in sorted(dirty, key=reconcile_order):
                self.control.reconcile(key, self.now)
        return self.max_rounds, False

    def _measure(self, **step: Any) -> StepMetrics:
        clusters = [c for c in self.objects("InferenceCluster") if isinstance(c, InferenceCluster)]
        replicas = [r for r in self.objects("ModelReplica") if isinstance(r, ModelReplica)]
        deployments = [d for d in self.objects("ModelDeployment") if isinstance(d, ModelDeployment)]
        services = []
        for key in self._keys("ModelService"):
            service = self.control.typed(key)
            if isinstance(service, ModelService):
                routes = [
                    stored.manifest
                    for child in self.store.children(key).values()
                    if (stored := self.store.get(child)) is not None and child[1] == "HTTPRoute"
                ]
                services.append((service, routes))
        return StepMetrics(
            step=len(self.history),
            time=self.now,
            deployments=metrics.deployment_rows(deployments),
            pools=metrics.pool_rows(clusters, replicas),
            clusters=metrics.cluster_rows(clusters, replicas),
            services=metrics.service_rows(services),
            **step,
        )

    def _perform(self, event: Event) -> str:
        """Apply one event to the world; what happened, for the timeline."""
        try:
            outcome = self._change(event)
        except _Refused as exc:
            self.control.events.append(
                Recorded(
                    time=self.now,
                    object="simulation",
                    type="Warning",
                    reason="EventRefused",
                    message=f"{event.describe()}: {exc}",
                )
            )
            return f"{event.describe()} (refused: {exc})"
        return outcome or event.describe()

    def _change(self, event: Event) -> str | None:
        if isinstance(event, Apply):
            for manifest in event.manifests:
                self._admit(manifest)
            for manifest in event.manifests:
                self._write(manifest)
            return None
        if isinstance(event, Outage):
            if not any(k[1] == "InferenceCluster" and k[3] == event.cluster for k in self.store):
                raise _Refused(f"InferenceCluster {event.cluster} not found")
            (self.providers.unreachable.add if event.down else self.providers.unreachable.discard)(
                event.cluster
            )
            return None
        if isinstance(event, Delete):
            key = self._find(event.api_version, event.kind, event.name, event.namespace)
            self.store.delete(key)
            return None
        if isinstance(event, Patch):
            key = self._find(event.api_version, event.kind, event.name, event.namespace)
            self._edit(key, lambda m: merge_patch(m, event.patch))
            return None
        if isinstance(event, Scale):
            key = self._find(API_VERSION, "ModelDeployment", event.deployment, event.namespace)
            self._edit(key, lambda m: merge_patch(m, {"spec": {"replicas": event.replicas}}))
            return None
        if isinstance(event, Taint):
            key = self._find(API_VERSION, "InferenceCluster", event.cluster, None)
            self._edit(key, lambda m: _tainted(m, event))
            return None
        assert isinstance(event, Resize)
        key = self._find(API_VERSION, "InferenceCluster", event.cluster, None)
        self._edit(key, lambda m: _resized(m, event))
        return None

    def _find(self, api_version: str, kind: str, name: str, namespace: str | None) -> ObjectKey:
        for key in self.store:
            if key[:2] == (api_version, kind) and key[3] == name and key[2] == (namespace or ""):
                return key
        where = f"{namespace}/{name}" if namespace else name
        raise _Refused(f"{kind} {where} not found")

    def _edit(self, key: ObjectKey, change: Callable[[Mapping[str, Any]], Any]) -> None:
        stored = self.store.get(key)
        assert stored is not None
        spec_part = {k: v for k, v in stored.manifest.items() if k != "status"}
        edited = change(spec_part)
        self._admit(edited)
        self._write(edited)

    def _admit(self, manifest: Mapping[str, Any]) -> None:
        """Reject what the API server would: our kinds must decode and validate."""
        if kind_class(str(manifest.get("apiVersion")), str(manifest.get("kind"))) is None:
            return
        try:
            problems = validate(from_dict(manifest))
        except ValidationError as exc:
            problems = exc.errors
        if problems:
            shown = "; ".join(str(p) for p in problems[:3])
            raise _Refused(f"{describe(key_of(manifest))} is invalid: {shown}")

    def _write(self, manifest: Mapping[str, Any]) -> None:
        """``kubectl apply``: the spec is the user's, the status stays the controller's."""
        key = key_of(manifest)
        existing = self.store.get(key)
        written = {k: v for k, v in manifest.items() if k != "status"}
        if existing is not None and "status" in existing.manifest:
            written["status"] = existing.manifest["status"]
        elif "status" in manifest:
            written["status"] = manifest["status"]
        self.store.put(written, now=self.now)


class _Refused(Exception):
    """An event that cannot be applied (a missing object, an invalid manifest)."""


def _manifest(obj: Mapping[str, Any] | object) -> Mapping[str, Any]:
    if isinstance(obj, Mapping):
        return obj
    info = getattr(type(obj), "kind_info", None)
    if info is None:
        raise TypeError(f"cannot simulate a {type(obj).__name__}: give a manifest or an API object")
    wire: dict[str, Any] = {"apiVersion": info.api_version, "kind": info.kind, **unstructure(obj)}
    return wire


def _tainted(manifest: Mapping[str, Any], event: Taint) -> Any:
    spec = dict(manifest.get("spec") or {})
    taints = [
        t
        for t in spec.get("taints") or ()
        if not (t.get("key") == event.key and t.get("effect") == event.effect)
    ]
    if not event.remove:
        taint = {"key": event.key, "effect": event.effect}
        if event.value is not None:
            taint["value"] = event.value
        taints.append(taint)
    if taints:
        spec["taints"] = taints
    else:
        spec.pop("taints", None)
    return {**manifest, "spec": spec}


def _resized(manifest: Mapping[str, Any], event: Resize) -> Any:
    spec = dict(manifest.get("spec") or {})
    pools = [dict(p) for p in spec.get("nodePools") or ()]
    matching = [p for p in pools if p.get("name") == event.pool]
    if not matching:
        raise _Refused(f"InferenceCluster {event.cluster} has no pool {event.pool}")
    for pool in matching:
        pool["nodeCount"] = event.nodes
        for bound in ("minNodeCount", "maxNodeCount"):
            if bound in pool:
                pool[bound] = (
                    min(pool[bound], event.nodes)
                    if bound == "minNodeCount"
                    else max(pool[bound], event.nodes)
                )
    return {**manifest, "spec": {**spec, "nodePools": pools}}
