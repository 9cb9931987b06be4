"""Simulated providers and workload clusters: how composed resources come to life.

In a real fleet, provider-kubernetes applies an ``Object``'s manifest to its
workload cluster and reports the applied object back under
``status.atProvider.manifest``; provider-helm installs Releases; cloud providers
create clusters and node pools. The composers only ever read those statuses,
so simulating them is enough to drive the real composers end to end:

- a managed resource becomes ``Synced``/``Ready`` after a delay that depends on
  what it is (``Timing``);
- an ``Object``'s applied manifest gets the status its kind reports on a real
  cluster once started: a Deployment or LeaderWorkerSet ``Available`` (later for
  a gang, and not before the ModelCache it mounts is hydrated on that cluster),
  a Job ``Complete``, a PVC ``Bound``, a Gateway an address, an HTTPRoute
  accepted by its parent;
- its readiness then follows its readiness policy, the CEL query evaluated on
  the applied object exactly as provider-kubernetes does.

Everything is a pure function of the store and the simulated time, so a run is
reproducible, and ``next_change`` tells the simulator when to look again.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections.abc import Mapping
from typing import Any, Final

import attrs
import celpy
from celpy.adapter import json_to_cel

from modelplane_core.api.registry import kind_class
from modelplane_core.compose.platform.provider_helm import RELEASE_API_VERSION
from modelplane_core.compose.provider_kubernetes import OBJECT_API_VERSION
from modelplane_core.simulation.store import ObjectKey, Store, Stored

OBJECT_GROUP: Final = OBJECT_API_VERSION.split("/")[0] + "/"
PROVIDER_CONFIG_KINDS: Final = frozenset({"ProviderConfig", "ClusterProviderConfig"})


@attrs.frozen(kw_only=True)
class Timing:
    """Simulated seconds from creation until each kind of thing is up."""

    apply: float = 5.0  # a provider applies an Object / a plain resource is persisted
    workload: float = 90.0  # a single-pod engine pulls its image and loads the model
    gang: float = 240.0  # a Leader + Workers gang forms its collective
    warm_start: float = 30.0  # an engine starting on an already hydrated cache
    hydration: float = 600.0  # a ModelCache Job downloads the weights into its volume
    job: float = 30.0  # any other Job (a CRD installer) runs to completion
    release: float = 120.0  # a helm Release installs
    load_balancer: float = 30.0  # a Gateway gets its address
    cloud: float = 600.0  # a cloud cluster or node pool is provisioned


def _ready_at(stored: Stored, delay: float) -> float:
    return stored.created + delay


def _condition(type_: str, ok: bool, reason: str) -> dict[str, Any]:
    return {"type": type_, "status": "True" if ok else "False", "reason": reason}


def _address(name: str) -> str:
    """A stable private address per object, so runs are reproducible."""
    digest = hashlib.sha256(name.encode()).digest()
    return f"10.{digest[0]}.{digest[1]}.{max(digest[2], 1)}"


def _fields_read(query: str) -> frozenset[str] | None:
    """The top-level fields of ``object`` a query reads, or None if it may read any."""
    dotted = set(re.findall(r"\bobject\.([A-Za-z_]\w*)", query))
    if len(re.findall(r"\bobject\b", query)) != len(re.findall(r"\bobject\.[A-Za-z_]", query)):
        return None  # ``object`` used whole or indexed: give it everything
    return frozenset(dotted)


@attrs.frozen
class _Query:
    """A readiness query compiled, and the top-level fields it reads (None: any)."""

    program: celpy.Runner
    fields: frozenset[str] | None

    @classmethod
    def compile(cls, query: str) -> _Query:
        environment = celpy.Environment()
        return cls(environment.program(environment.compile(query)), _fields_read(query))


def _query_holds(query: _Query, applied: Mapping[str, Any]) -> bool:
    """provider-kubernetes' ``DeriveFromCelQuery``: the query over the applied object.

    Only the top-level fields the query names (``object.status``) are converted
    to CEL values: a pod template is large, and converting it is most of the cost.
    """
    fields = query.fields
    visible = applied if fields is None else {k: v for k, v in applied.items() if k in fields}
    try:
        result: object = query.program.evaluate({"object": json_to_cel(dict(visible))})
    except Exception:  # a query that errors leaves the Object not ready, as the provider does
        return False
    return isinstance(result, celpy.celtypes.BoolType) and bool(result)


class Providers:
    """The providers and workload clusters of a simulated fleet."""

    def __init__(self, timing: Timing | None = None) -> None:
        self.timing = timing or Timing()
        # InferenceClusters whose API cannot be reached (a regional outage).
        self.unreachable: set[str] = set()
        # Readiness verdicts by (query, wrapped manifest, started): celpy is slow, and the
        # verdict only changes when the manifest does or the workload starts.
        self._verdicts: dict[tuple[str, int, bool], tuple[Mapping[str, Any], bool]] = {}
        # Readiness queries compiled (a fleet uses a handful, each on many objects).
        self._queries: dict[str, _Query] = {}
        # Per managed resource: the spec its status was computed from, and its next milestone.
        self._tracked: dict[ObjectKey, tuple[object, float]] = {}
        # (milestone, key) for every tracked resource with a next milestone; stale
        # entries (superseded milestones) are skipped when popped.
        self._upcoming: list[tuple[float, ObjectKey]] = []
        self._outages: frozenset[str] = frozenset()
        # Hydration Jobs per target cluster (their PVCs and creation time), for one settle:
        # Jobs only appear through composers, never while providers settle.
        self._jobs: dict[str, list[tuple[set[str], float]]] | None = None

    # -- what changes, and when ------------------------------------------------------

    def settle(self, store: Store, now: float) -> bool:
        """Bring every managed resource's status up to ``now``; True when any changed.

        Only what can have changed is recomputed: objects whose spec was written
        since their status was last computed, objects whose next milestone has
        passed, everything a cluster outage touches when the outages change, and
        the workloads sharing a cluster with a hydration Job that changed.
        """
        self._jobs = None
        outages, previous = frozenset(self.unreachable), self._outages
        outages_changed = outages != previous
        self._outages = outages
        due: set[ObjectKey] = set()
        hydration_targets: set[str] = set()
        for key in store.drain_touched():
            stored = store.get(key)
            if stored is None:
                self._tracked.pop(key, None)
                continue
            if not _is_managed(key):
                continue
            spec, _ = self._tracked.get(key, (None, math.inf))
            if key not in self._tracked or spec is not stored.manifest.get("spec"):
                due.add(key)
                if _wrapped(stored).get("kind") == "Job":
                    hydration_targets.add(_target(stored))
        while self._upcoming and self._upcoming[0][0] <= now:
            when, key = heapq.heappop(self._upcoming)
            if key in self._tracked and self._tracked[key][1] == when:
                due.add(key)
        if outages_changed:
            # Only resources acting on a cluster that went dark or came back can change.
            flipped = outages ^ previous
            for api_version, kind in (
                (OBJECT_API_VERSION, "Object"),
                (RELEASE_API_VERSION, "Release"),
            ):
                due.update(
                    key
                    for key, stored in store.of_kind(api_version, kind)
                    if cluster_of(store, stored) in flipped
                )
        if hydration_targets:
            for key, stored in store.of_kind(OBJECT_API_VERSION, "Object"):
                if _target(stored) in hydration_targets:
                    due.add(key)
        changed = False
        for key in sorted(due):
            stored = store.get(key)
            if stored is None:
                continue
            status = self.status(store, key, stored, now)
            if status is not None and status != stored.status:
                changed |= store.set_status(key, status)
                stored = store.get(key) or stored
            connection = connection_details(key, stored)
            if connection and connection != stored.connection:
                changed |= store.set_connection(key, connection)
                stored = store.get(key) or stored
            upcoming = min(
                (t for t in self._milestones(store, key, stored) if t > now), default=math.inf
            )
            self._tracked[key] = (stored.manifest.get("spec"), upcoming)
            if upcoming != math.inf:
                heapq.heappush(self._upcoming, (upcoming, key))
        # Our own status writes are not news to us.
        store.drain_touched()
        return changed

    def next_change(self, store: Store, now: float) -> float | None:
        """The earliest simulated time after ``now`` at which some status will change."""
        while self._upcoming:
            when, key = self._upcoming[0]
            if key in self._tracked and self._tracked[key][1] == when and when > now:
                return when
            heapq.heappop(self._upcoming)
        return None

    # -- per kind ------------------------------------------------------------------

    def status(
        self, store: Store, key: ObjectKey, stored: Stored, now: float
    ) -> Mapping[str, Any] | None:
        api_version, kind, _namespace, name = key
        if kind in PROVIDER_CONFIG_KINDS:
            return None  # provider configs report nothing
        if (
            self.unreachable
            and api_version.startswith((OBJECT_GROUP, "helm."))
            and cluster_of(store, stored) in self.unreachable
        ):
            return _unreachable(stored)
        if api_version.startswith(OBJECT_GROUP) and kind == "Object":
            return self._object_status(store, stored, now)
        if not _is_provider_managed(api_version):
            # A plain object on the control cluster: its own controller reports on it.
            started = now >= self._started_at(store, stored, stored.manifest)
            return _kubernetes_status(stored.manifest, name, started) or None
        ready = now >= _ready_at(stored, self._delay(key))
        status: dict[str, Any] = {
            "conditions": [
                _condition("Ready", ready, "Available" if ready else "Creating"),
                _condition("Synced", True, "ReconcileSuccess"),
            ]
        }
        if ready:
            # Cloud resources publish identifiers that composers wire into their siblings.
            status["atProvider"] = {
                "id": f"{name}-id",
                "arn": f"arn:sim:{kind.lower()}/{name}",
                "email": f"{name}@sim.iam",
                "endpoint": f"https://{_address(name)}",
            }
        return status

    def _delay(self, key: ObjectKey) -> float:
        return self.timing.release if key[0].startswith("helm.") else self.timing.cloud

    def _milestones(self, store: Store, key: ObjectKey, stored: Stored) -> list[float]:
        if key[1] in PROVIDER_CONFIG_KINDS:
            return []
        if key[0].startswith(OBJECT_GROUP) and key[1] == "Object":
            wrapped = _wrapped(stored)
            return [
                stored.created + self.timing.apply,
                self._started_at(store, stored, wrapped),
            ]
        if not _is_provider_managed(key[0]):
            return [self._started_at(store, stored, stored.manifest)]
        return [_ready_at(stored, self._delay(key))]

    # -- provider-kubernetes Objects -------------------------------------------------

    def _object_status(self, store: Store, stored: Stored, now: float) -> Mapping[str, Any]:
        applied = now >= stored.created + self.timing.apply
        if not applied:
            return {
                "conditions": [
                    _condition("Ready", False, "Creating"),
                    _condition("Synced", True, "ReconcileSuccess"),
                ]
            }
        wrapped = _wrapped(stored)
        started = now >= self._started_at(store, stored, wrapped)
        where = str((wrapped.get("metadata") or {}).get("name", "")) + "@" + _target(stored)
        manifest = {**wrapped, "status": _kubernetes_status(wrapped, where, started)}
        readiness = (stored.manifest.get("spec") or {}).get("readiness") or {}
        query = readiness.get("celQuery")
        if readiness.get("policy") == "DeriveFromCelQuery" and isinstance(query, str):
            ready = self._verdict(query, wrapped, started, manifest)
        else:
            ready = True  # SuccessfulCreate
        return {
            "conditions": [
                _condition("Ready", ready, "Available" if ready else "Creating"),
                _condition("Synced", True, "ReconcileSuccess"),
            ],
            "atProvider": {"manifest": manifest},
        }

    def _verdict(
        self, query: str, wrapped: Mapping[str, Any], started: bool, applied: Mapping[str, Any]
    ) -> bool:
        key = (query, id(wrapped), started)
        found = self._verdicts.get(key)
        if found is not None and found[0] is wrapped:
            return found[1]
        if len(self._verdicts) > 100_000:
            self._verdicts.clear()
        compiled = self._queries.get(query)
        if compiled is None:
            compiled = self._queries[query] = _Query.compile(query)
        verdict = _query_holds(compiled, applied)
        self._verdicts[key] = (wrapped, verdict)
        return verdict

    def _hydrated_at(
        self, store: Store, stored: Stored, wrapped: Mapping[str, Any]
    ) -> float | None:
        """When the Job filling a PVC this workload mounts completes on the same cluster."""
        claims = _claims(wrapped)
        if not claims:
            return None
        if self._jobs is None:
            self._jobs = _jobs_by_target(store)
        done = [
            created + self.timing.hydration
            for job_claims, created in self._jobs.get(_target(stored), ())
            if job_claims & claims
        ]
        return max(done) if done else None

    def _started_at(self, store: Store, stored: Stored, wrapped: Mapping[str, Any]) -> float:
        """When the wrapped object is up on its cluster: its own start-up, and its cache."""
        kind = wrapped.get("kind")
        if kind == "LeaderWorkerSet":
            start = stored.created + self.timing.gang
        elif kind == "Deployment":
            start = stored.created + self.timing.workload
        elif kind == "Job":
            # A Job filling a volume is a cache hydration; any other Job is short.
            duration = self.timing.hydration if _claims(wrapped) else self.timing.job
            start = stored.created + duration
        elif kind == "Gateway":
            start = stored.created + self.timing.load_balancer
        else:
            return stored.created + self.timing.apply
        if kind in ("Deployment", "LeaderWorkerSet"):
            hydrated = self._hydrated_at(store, stored, wrapped)
            if hydrated is not None:
                start = max(start, hydrated + self.timing.warm_start)
        return start


def connection_details(key: ObjectKey, stored: Stored) -> Mapping[str, bytes]:
    """What a provider writes to a ready managed resource's connection Secret.

    A Release copies the fields its ``connectionDetails`` name (a stand-in value
    each); any other managed resource with a connection Secret is taken for a
    cluster and publishes a kubeconfig for its endpoint. Composers that
    aggregate connection details (NebiusCluster's access) read these.
    """
    spec = stored.manifest.get("spec") or {}
    if not isinstance(spec, Mapping) or "writeConnectionSecretToRef" not in spec:
        return {}
    if not _is_provider_managed(key[0]) or not any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in stored.status.get("conditions") or ()
        if isinstance(c, Mapping)
    ):
        return {}
    name = key[3]
    if key[1] == "Release":
        return {
            str(detail["toConnectionSecretKey"]): f"simulated-{name}".encode()
            for detail in spec.get("connectionDetails") or ()
            if isinstance(detail, Mapping) and detail.get("toConnectionSecretKey")
        }
    kubeconfig = (
        "apiVersion: v1\nkind: Config\ncurrent-context: simulated\n"
        f"clusters:\n- name: simulated\n  cluster:\n    server: https://{_address(name)}\n"
        "contexts:\n- name: simulated\n  context:\n    cluster: simulated\n"
    )
    return {"kubeconfig": kubeconfig.encode()}


def _unreachable(stored: Stored) -> Mapping[str, Any]:
    """What a provider reports when it cannot reach the cluster: not ready, last state kept."""
    message = "cannot reach the cluster's API server"
    status: dict[str, Any] = {
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "Unavailable", "message": message},
            {"type": "Synced", "status": "False", "reason": "ReconcileError", "message": message},
        ]
    }
    if "atProvider" in stored.status:
        status["atProvider"] = stored.status["atProvider"]
    return status


def cluster_of(store: Store, stored: Stored) -> str | None:
    """The InferenceCluster a provider-kubernetes Object or helm Release acts on.

    It is the cluster whose composition owns the provider config the resource
    names (the kubeconfig provider config of an InferenceCluster, or one of its
    ServingStack's), found by walking the owners up to the InferenceCluster.
    """
    ref = (stored.manifest.get("spec") or {}).get("providerConfigRef") or {}
    kind = ref.get("kind") or "ProviderConfig"
    group = str(stored.manifest.get("apiVersion", "")).split("/", 1)[0]
    namespace = (stored.manifest.get("metadata") or {}).get("namespace") or ""
    for key, config in store.named(kind, str(ref.get("name") or "")):
        if key[0].split("/", 1)[0] == group and (
            kind == "ClusterProviderConfig" or key[2] == namespace
        ):
            return _root_cluster(store, config)
    return None


def _root_cluster(store: Store, stored: Stored) -> str | None:
    seen = 0
    while stored.owner is not None and seen < 16:
        composite = stored.owner.composite
        if composite[1] == "InferenceCluster":
            return composite[3]
        parent = store.get(composite)
        if parent is None:
            return None
        stored, seen = parent, seen + 1
    return None


def _is_provider_managed(api_version: str) -> bool:
    """A Crossplane managed resource (helm, cloud) rather than a plain Kubernetes object."""
    group = api_version.split("/", 1)[0]
    return group.endswith((".crossplane.io", ".upbound.io"))


def _is_managed(key: ObjectKey) -> bool:
    """Everything that is not one of our composites is someone else's to make real."""
    return kind_class(key[0], key[1]) is None


def _wrapped(stored: Stored) -> Mapping[str, Any]:
    manifest = ((stored.manifest.get("spec") or {}).get("forProvider") or {}).get("manifest")
    return manifest if isinstance(manifest, Mapping) else {}


def _target(stored: Stored) -> str:
    ref = (stored.manifest.get("spec") or {}).get("providerConfigRef") or {}
    return str(ref.get("name") or "")


def _claims(wrapped: Mapping[str, Any]) -> set[str]:
    """The PVCs a workload's pods mount (Deployment, Job or LeaderWorkerSet templates)."""
    spec = wrapped.get("spec") or {}
    templates = [spec.get("template") or {}]
    lws = spec.get("leaderWorkerTemplate") or {}
    templates += [lws.get("leaderTemplate") or {}, lws.get("workerTemplate") or {}]
    names = set()
    for template in templates:
        for volume in (template.get("spec") or {}).get("volumes") or ():
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if isinstance(claim, str):
                names.add(claim)
    return names


def _jobs_by_target(store: Store) -> dict[str, list[tuple[set[str], float]]]:
    jobs: dict[str, list[tuple[set[str], float]]] = {}
    for _, stored in store.of_kind(OBJECT_API_VERSION, "Object"):
        wrapped = _wrapped(stored)
        if wrapped.get("kind") == "Job":
            jobs.setdefault(_target(stored), []).append((_claims(wrapped), stored.created))
    return jobs


def _kubernetes_status(manifest: Mapping[str, Any], where: str, started: bool) -> Mapping[str, Any]:
    """The status an object's own controller reports on a real cluster, once it is up.

    ``where`` names the object and its cluster, so each gets its own stable address.
    """
    kind = manifest.get("kind")
    spec = manifest.get("spec") or {}
    if kind in ("Deployment", "LeaderWorkerSet"):
        replicas = spec.get("replicas", 1)
        return {
            "replicas": replicas,
            "readyReplicas": replicas if started else 0,
            "conditions": [_condition("Available", started, "Simulated")],
        }
    if kind == "Job":
        return {
            "succeeded": 1 if started else 0,
            "conditions": [_condition("Complete", True, "Simulated")] if started else [],
        }
    if kind == "PersistentVolumeClaim":
        return {"phase": "Bound"}
    if kind == "GatewayClass":
        return {"conditions": [_condition("Accepted", True, "Accepted")]}
    if kind == "Gateway":
        accepted = [_condition("Accepted", True, "Accepted")]
        if not started:
            return {"conditions": accepted}
        return {
            "addresses": [{"type": "IPAddress", "value": _address(where)}],
            "conditions": [*accepted, _condition("Programmed", True, "Programmed")],
        }
    if kind == "HTTPRoute":
        return {
            "parents": [
                {
                    "parentRef": parent,
                    "controllerName": "simulated",
                    "conditions": [_condition("Accepted", True, "Accepted")],
                }
                for parent in spec.get("parentRefs") or ()
            ]
        }
    return {}
