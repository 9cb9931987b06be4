"""ModelCache -> the model's weights staged once on every cluster of its footprint.

The footprint is every InferenceCluster the ``clusterSelector`` matches
(all of them when it is omitted) that is Ready, can be targeted
(``status.providerConfigRef``) and reports a ReadWriteMany storage class
(``status.cache.storageClassName``). On each: a PVC, a Job that downloads
the Hugging Face repository into it once, and -- only while that Job still
has work to do and only when the repository needs one -- a copy of the
token Secret.

Staged weights are expensive to fetch again and running replicas mount
them, so a PVC that exists is never dropped while its cluster exists: a
cluster that leaves the footprint (not Ready for a moment, selector
narrowed) keeps its PVC as observed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from modelplane_core.api.documents import Unstructured
from modelplane_core.api.errors import FieldError
from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.meta import API_VERSION, Condition, ConditionStatus, find_condition
from modelplane_core.api.model_cache import CachePhase, HuggingFaceSource, ModelCache
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import (
    Composition,
    DesiredResource,
    Event,
    Observed,
    Requirement,
    condition,
    desired_from_observed,
    hold_because,
    named,
    problems_of,
)
from modelplane_core.compose.fetched import typed
from modelplane_core.compose.names import child_name
from modelplane_core.compose.provider_kubernetes import wrap
from modelplane_core.compose.topology import WORKLOAD_NAMESPACE
from modelplane_core.compose.workloads.cache_storage import (
    BOUND_CEL,
    auth_secret_name,
    cache_pvc,
    cache_pvc_name,
    hydration_job_name,
)
from modelplane_core.compose.workloads.hydration import (
    COMPLETE_CEL,
    JOB_MANAGEMENT_POLICIES,
    hydration_job,
    token_reference,
    token_secret,
)
from modelplane_core.compose.workloads.labels import LABEL_MODEL_CACHE
from modelplane_core.compose.workloads.object_state import (
    applied_condition_true,
    applied_status,
    is_ready,
)

__all__ = ["cache_pvc_name", "compose", "requirements"]

REQUIRE_CLUSTERS: Final = "clusters"
REQUIRE_AUTH: Final = "auth-secret"
CLUSTERS_MATCHED: Final = "ClustersMatched"
ARTIFACT_READY: Final = "ArtifactReady"
PVC_PREFIX: Final = "pvc-"
JOB_PREFIX: Final = "hydrate-"
AUTH_PREFIX: Final = "auth-"


def requirements(cache: ModelCache, staged_on: Iterable[str] = ()) -> tuple[Requirement, ...]:
    """The clusters its selector selects, those it has staged on, and the token Secret.

    The selected clusters by their labels (every cluster when there is no
    selector), and by name each cluster holding one of its volumes
    (``staged_on``): a cluster the selector stops matching (the selector
    narrowed, the cluster relabelled) must still be seen to exist, or its PVC
    -- staged weights replicas may be mounting -- would be taken for a deleted
    cluster's and dropped. A change to any other cluster neither has to be
    fetched for the cache nor wakes it.
    """
    selector = cache.spec.cluster_selector
    labels = dict(selector.match_labels or {}) if selector else {}
    if not labels:
        staged_on = ()  # every cluster is selected: the staged ones are among them
    needed = [
        Requirement(
            key=REQUIRE_CLUSTERS,
            api_version=API_VERSION,
            kind="InferenceCluster",
            match_labels=labels,
        ),
        *named(API_VERSION, "InferenceCluster", staged_key(""), staged_on),
    ]
    source = cache.spec.hugging_face
    if source is not None and source.auth_secret is not None:
        needed.append(
            Requirement(
                key=REQUIRE_AUTH,
                api_version="v1",
                kind="Secret",
                match_name=source.auth_secret.name,
                namespace=_namespace(cache),
            )
        )
    return tuple(needed)


@attrs.frozen
class _Target:
    """A footprint cluster: where to reach it and which storage class to ask for."""

    name: str
    provider_config: str
    storage_class: str


def compose(observed: Observed[ModelCache], cache: Cache | None = None) -> Composition:
    return _compose(observed, problems_of(observed.composite, cache))


def staged_key(cluster: str) -> str:
    """The requirement key of a cluster holding one of the cache's volumes."""
    return f"staged-{cluster}"


def _compose(observed: Observed[ModelCache], problems: list[FieldError]) -> Composition:
    cache = observed.composite
    staged_on = [k.removeprefix(PVC_PREFIX) for k in observed.resources if k.startswith(PVC_PREFIX)]
    needed = requirements(cache, staged_on)
    source = cache.spec.hugging_face
    if problems or source is None:
        shown = "; ".join(str(p) for p in problems[:5]) or "spec.huggingFace is required"
        return _hold(observed, needed, "InvalidSpec", f"the spec is invalid: {shown}", warn=True)
    unresolved = [r.key for r in needed if observed.required_or_none(r.key) is None]
    if unresolved:
        message = f"waiting for {', '.join(unresolved)} to be fetched"
        return _hold(observed, needed, "Resolving", message, warn=False)
    clusters, unreadable = _clusters(observed, needed)
    targets, excluded = _footprint(cache, clusters)
    token = _token(observed, source)
    names = _Names(_namespace(cache), cache.metadata.name or "")
    resources: list[DesiredResource] = []
    phases: dict[str, CachePhase] = {}
    was_ready = _reported_ready(cache)
    for target in targets:
        phase = _phase(observed, was_ready, target.name)
        phases[target.name] = phase
        resources.extend(
            _cluster_resources(
                observed, names, source=source, target=target, phase=phase, token=token
            )
        )
    kept = _kept_pvcs(observed, clusters, set(phases), bool(unreadable))
    resources.extend(kept.values())
    ready = [name for name, phase in phases.items() if phase == "Ready"]
    all_ready = bool(phases) and len(ready) == len(phases)
    auth_missing = source.auth_secret is not None and token is None
    events = [Event.warning("UnreadableCluster", p) for p in unreadable]
    events.extend(_events(observed, cache, source, targets, all_ready))
    conditions = _conditions(cache, source, phases, excluded, auth_missing)
    if auth_missing and not all_ready and phases:
        events.append(Event.warning("AuthSecretMissing", _auth_missing_message(cache, source)))
    return Composition(
        resources=resources,
        status=_status(
            phases, {name: _phase(observed, was_ready, name) for name in kept}, excluded
        ),
        conditions=conditions,
        events=tuple(events),
        requirements=needed,
        ready=all_ready,
    )


@attrs.frozen
class _Names:
    namespace: str
    cache: str

    @property
    def pvc(self) -> str:
        return cache_pvc_name(self.namespace, self.cache)

    @property
    def job(self) -> str:
        return hydration_job_name(self.namespace, self.cache)

    @property
    def secret(self) -> str:
        return auth_secret_name(self.namespace, self.cache)


def _clusters(
    observed: Observed[ModelCache], needed: Sequence[Requirement]
) -> tuple[list[InferenceCluster], list[str]]:
    """Every cluster fetched (selected or staged on), once each, and those unreadable."""
    by_name: dict[str, InferenceCluster] = {}
    unreadable: list[str] = []
    for requirement in needed:
        if requirement.kind != "InferenceCluster":
            continue
        found, problems = typed(observed.required[requirement.key], InferenceCluster)
        unreadable.extend(problems)
        for cluster in found:
            by_name.setdefault(cluster.metadata.name or "", cluster)
    return [by_name[name] for name in sorted(by_name)], unreadable


def _footprint(
    cache: ModelCache, clusters: Sequence[InferenceCluster]
) -> tuple[list[_Target], dict[str, str]]:
    """The clusters to stage on, and why each other selected cluster is not one of them."""
    selector = cache.spec.cluster_selector
    targets: list[_Target] = []
    excluded: dict[str, str] = {}
    for cluster in sorted(clusters, key=lambda c: c.metadata.name or ""):
        name = cluster.metadata.name or ""
        status = cluster.status
        provider_config = (
            status.provider_config_ref.name if status and status.provider_config_ref else None
        )
        storage_class = status.cache.storage_class_name if status and status.cache else None
        if selector is not None and not selector.matches(cluster.metadata.labels):
            continue
        if not cluster.ready:
            excluded[name] = "not Ready"
        elif not provider_config:
            excluded[name] = "no status.providerConfigRef"
        elif not storage_class:
            excluded[name] = "no ReadWriteMany storage class (status.cache.storageClassName)"
        else:
            targets.append(_Target(name, provider_config, storage_class))
    return targets, excluded


def _kept_pvcs(
    observed: Observed[ModelCache],
    clusters: Sequence[InferenceCluster],
    footprint: set[str],
    some_unreadable: bool,
) -> dict[str, DesiredResource]:
    """Observed PVCs of clusters outside the footprint that still exist, kept as they are.

    A cluster that is gone takes its volume with it; one that could not be
    read might be any cluster, so nothing is dropped while one is unreadable.
    """
    existing = {c.metadata.name or "" for c in clusters}
    kept: dict[str, DesiredResource] = {}
    for key, seen in observed.resources.items():
        cluster = key.removeprefix(PVC_PREFIX)
        if not key.startswith(PVC_PREFIX) or cluster in footprint:
            continue
        if cluster in existing or some_unreadable:
            kept[cluster] = DesiredResource(
                key=key, manifest=desired_from_observed(seen), ready=is_ready(seen)
            )
    return kept


def _token(observed: Observed[ModelCache], source: HuggingFaceSource) -> str | None:
    """The token, still base64 as the Secret holds it; None when missing, keyless or empty."""
    if source.auth_secret is None:
        return None
    found = observed.required.get(REQUIRE_AUTH)
    for secret in found.of(Unstructured) if found is not None else ():
        data = secret.data.get("data")
        value = data.get(source.auth_secret.key) if isinstance(data, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return None


def _phase(observed: Observed[ModelCache], was_ready: frozenset[str], cluster: str) -> CachePhase:
    pvc = observed.resources.get(PVC_PREFIX + cluster)
    job = observed.resources.get(JOB_PREFIX + cluster)
    if applied_condition_true(job, "Failed"):
        return "Failed"
    bound = applied_status(pvc).get("phase") == "Bound"
    if bound and (applied_condition_true(job, "Complete") or cluster in was_ready):
        # Once staged, a cluster stays Ready after its finished Job is cleaned up.
        return "Ready"
    return "Hydrating" if bound else "Pending"


def _reported_ready(cache: ModelCache) -> frozenset[str]:
    """Clusters the cache last reported Ready on (read once per reconcile)."""
    previous = cache.status.clusters if cache.status else None
    return frozenset(c.name for c in previous or () if c.phase == "Ready")


def _cluster_resources(
    observed: Observed[ModelCache],
    names: _Names,
    *,
    source: HuggingFaceSource,
    target: _Target,
    phase: CachePhase,
    token: str | None,
) -> list[DesiredResource]:
    # The cache's identity on a shared cluster: namespace and name, as a valid label value.
    labels = {LABEL_MODEL_CACHE: child_name(names.namespace, names.cache)}

    def desired(key: str, manifest: Mapping[str, Any]) -> DesiredResource:
        return DesiredResource(
            key=key, manifest=manifest, ready=is_ready(observed.resources.get(key))
        )

    pvc = cache_pvc(
        name=names.pvc,
        namespace=WORKLOAD_NAMESPACE,
        storage_class=target.storage_class,
        size_gib=source.size_gib,
        labels=labels,
    )
    out = [
        desired(
            PVC_PREFIX + target.name,
            wrap(pvc, provider_config=target.provider_config, ready_when=BOUND_CEL),
        )
    ]
    if phase == "Ready":
        return out
    auth = source.auth_secret
    if auth is not None and token is None:
        # A gated repository cannot be fetched without its token; wait for it.
        return out
    if auth is not None and token is not None:
        # The token itself stays in the user's Secret; the provider copies it across.
        secret = token_secret(name=names.secret, namespace=WORKLOAD_NAMESPACE, labels=labels)
        reference = token_reference(secret=auth.name, namespace=names.namespace, key=auth.key)
        out.append(
            desired(
                AUTH_PREFIX + target.name,
                wrap(secret, provider_config=target.provider_config, references=[reference]),
            )
        )
    job = hydration_job(
        name=names.job,
        namespace=WORKLOAD_NAMESPACE,
        pvc=names.pvc,
        repo=source.repo,
        revision=source.revision,
        token_secret=(names.secret, auth.key) if auth is not None else None,
        labels=labels,
    )
    out.append(
        desired(
            JOB_PREFIX + target.name,
            wrap(
                job,
                provider_config=target.provider_config,
                ready_when=COMPLETE_CEL,
                management_policies=JOB_MANAGEMENT_POLICIES,
            ),
        )
    )
    return out


def _status(
    phases: Mapping[str, CachePhase],
    kept: Mapping[str, CachePhase],
    excluded: Mapping[str, str],
) -> dict[str, Any]:
    ready = sum(1 for phase in phases.values() if phase == "Ready")
    clusters: list[dict[str, Any]] = [
        {"name": name, "phase": phase} for name, phase in sorted(phases.items())
    ]
    for name, phase in sorted(kept.items()):
        why = excluded.get(name, "no longer selected")
        clusters.append(
            {
                "name": name,
                "phase": phase,
                "message": f"outside the footprint ({why}); PVC kept",
            }
        )
    return {"summary": {"ready": f"{ready}/{len(phases)}"}, "clusters": clusters}


def _conditions(
    cache: ModelCache,
    source: HuggingFaceSource,
    phases: Mapping[str, CachePhase],
    excluded: Mapping[str, str],
    auth_missing: bool,
) -> tuple[Condition, ...]:
    if not phases:
        why = "; ".join(f"{name}: {reason}" for name, reason in sorted(excluded.items()))
        message = "no selected InferenceCluster is Ready with a ReadWriteMany storage class" + (
            f" ({why})" if why else " (no cluster matches clusterSelector)"
        )
        return (
            condition(CLUSTERS_MATCHED, False, "NoClusters", message),
            condition(ARTIFACT_READY, False, "NoClusters", message),
        )
    matched = condition(
        CLUSTERS_MATCHED, True, "Matched", f"staging on {', '.join(sorted(phases))}"
    )
    failed = sorted(name for name, phase in phases.items() if phase == "Failed")
    ready = [name for name, phase in phases.items() if phase == "Ready"]
    total = len(phases)
    if auth_missing and len(ready) < total:
        artifact = condition(
            ARTIFACT_READY, False, "AuthSecretMissing", _auth_missing_message(cache, source)
        )
    elif failed:
        artifact = condition(
            ARTIFACT_READY,
            False,
            "Failed",
            f"the hydration Job failed on {', '.join(failed)}; read its pod's log there, then "
            "delete the Job to retry",
        )
    elif len(ready) == total:
        artifact = condition(ARTIFACT_READY, True, "Staged", f"staged on all {total} clusters")
    elif ready:
        artifact = condition(
            ARTIFACT_READY, False, "Partial", f"staged on {len(ready)}/{total} clusters"
        )
    else:
        artifact = condition(ARTIFACT_READY, False, "Hydrating", f"staging on {total} clusters")
    return (matched, artifact)


def _events(
    observed: Observed[ModelCache],
    cache: ModelCache,
    source: HuggingFaceSource,
    targets: Sequence[_Target],
    all_ready: bool,
) -> list[Event]:
    """Transitions only: the first staging, and the moment every cluster is staged."""
    events = []
    if targets and not any(PVC_PREFIX + t.name in observed.resources for t in targets):
        names = ", ".join(t.name for t in targets)
        events.append(
            Event.normal("Staging", f"Staging {source.repo} to {len(targets)} clusters: {names}")
        )
    previous = find_condition(cache.status.conditions if cache.status else None, ARTIFACT_READY)
    if all_ready and (previous is None or previous.status != "True"):
        events.append(Event.normal("Staged", f"Artifact staged on all {len(targets)} clusters"))
    return events


def _auth_missing_message(cache: ModelCache, source: HuggingFaceSource) -> str:
    auth = source.auth_secret
    assert auth is not None
    return (
        f"Secret {_namespace(cache)}/{auth.name} is missing or has no non-empty key "
        f"{auth.key!r}; create it to stage the repository"
    )


def _hold(
    observed: Observed[ModelCache],
    needed: tuple[Requirement, ...],
    reason: str,
    message: str,
    *,
    warn: bool,
) -> Composition:
    status: ConditionStatus = "False" if warn else "Unknown"
    return hold_because(
        observed,
        CLUSTERS_MATCHED,
        reason,
        message,
        warn=warn,
        status=status,
        conditions=[condition(ARTIFACT_READY, status, reason, message)],
        requirements=needed,
        ready_keys=[k for k, seen in observed.resources.items() if is_ready(seen)],
    )


def _namespace(cache: ModelCache) -> str:
    return cache.metadata.namespace or "default"
