"""InferenceCluster -> the cluster (provisioned or adopted), its serving stack, its published pools.

* ``Existing``: a ClusterProviderConfig built from the kubeconfig Secret (and
  the optional cloud identity) in ``modelplane-system``.
* ``GKE`` / ``EKS`` / ``AKS`` / ``Vultr`` / ``Nebius``: the cloud composite (GKECluster, ...) in
  ``modelplane-system``, its GPU pools built from each pool's class recipe plus
  a system pool; the ClusterProviderConfig once the cloud composite is ready
  and publishes its kubeconfig Secret.
* Every source: a ServingStack installing the serving substrate.

Status is what the rest of Modelplane reads: ``gpuPools`` (the scheduler's
capacity, see :mod:`modelplane_core.compose.platform.pools`),
``providerConfigRef`` (how ModelReplica and ModelCache reach the cluster),
``gateway.address`` (relayed from the ServingStack) and
``cache.storageClassName``. Readiness is derived by Crossplane from the
composed resources, each marked ready only when it really is; the
``ClusterReady`` / ``BackendReady`` / ``PoolsPublished`` conditions say why not.

A problem with one pool withholds that pool only. A problem with the whole
spec, or classes not fetched yet, holds everything as observed: a cluster
and its stack are never torn down because of an input error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, cast, get_args

import attrs

from modelplane_core.api.codec import unstructure
from modelplane_core.api.documents import to_dict
from modelplane_core.api.errors import FieldError
from modelplane_core.api.inference_class import InferenceClass
from modelplane_core.api.inference_cluster import GpuPool, InferenceCluster
from modelplane_core.api.infrastructure import (
    ClusterSecret,
    SecretType,
    ServingStack,
    ServingStackSpec,
)
from modelplane_core.api.meta import API_VERSION, Condition, ObjectMeta
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import (
    Composition,
    DesiredResource,
    Event,
    Observed,
    ObservedResource,
    Requirement,
    condition,
    hold_because,
    problems_of,
)
from modelplane_core.compose.fetched import typed
from modelplane_core.compose.names import child_name
from modelplane_core.compose.platform.cloud_pools import CLOUD_COMPOSITES, cloud_cluster
from modelplane_core.compose.platform.messages import listing, summarize
from modelplane_core.compose.platform.observed_state import field, kept, text_field
from modelplane_core.compose.platform.pools import (
    PoolReview,
    class_names,
    held_pools,
    review_pools,
)
from modelplane_core.compose.platform.provider_configs import (
    KUBERNETES_API_VERSION,
    Identity,
    SecretKey,
    kubeconfig_provider_config,
    unsupported_kubernetes_identity,
)
from modelplane_core.compose.topology import SYSTEM_NAMESPACE

__all__ = [
    "compose",
    "provider_config_name",
    "requirements",
    "serving_stack_name",
]

CLASS_KEY_PREFIX: Final = "class-"
PROVIDER_CONFIG_KEY: Final = "cluster-provider-config"
SERVING_STACK_KEY: Final = "serving-stack"
ACCEPTED: Final = "Accepted"
POOLS_PUBLISHED: Final = "PoolsPublished"
CLUSTER_READY: Final = "ClusterReady"
BACKEND_READY: Final = "BackendReady"
# Where GKE's driver installer puts the NVIDIA driver on the node.
GKE_DRIVER_ROOT: Final = "/home/kubernetes/bin/nvidia"


def class_key(name: str) -> str:
    return f"{CLASS_KEY_PREFIX}{name}"


def requirements(cluster: InferenceCluster) -> tuple[Requirement, ...]:
    """One InferenceClass per distinct ``className``, by name."""
    return tuple(
        Requirement(
            key=class_key(name), api_version=API_VERSION, kind="InferenceClass", match_name=name
        )
        for name in class_names(cluster.spec)
    )


def provider_config_name(cluster: str) -> str:
    """The ClusterProviderConfig that targets the workload cluster."""
    return child_name(cluster, "cluster-kubeconfig")


def serving_stack_name(cluster: str) -> str:
    return child_name(cluster, "serving-stack")


@attrs.frozen(kw_only=True)
class _Backend:
    """How the workload cluster is reached and served, as far as it is known this pass."""

    resources: tuple[DesiredResource, ...] = ()
    cluster_ready: bool = False
    cluster_condition: Condition
    kubeconfig: SecretKey | None = None
    identity: Identity | None = None
    stack_secrets: tuple[ClusterSecret, ...] | None = None
    driver_root: str | None = None
    cache_class: str | None = None


def compose(observed: Observed[InferenceCluster], cache: Cache | None = None) -> Composition:
    cluster = observed.composite
    needed = requirements(cluster)
    problems = spec_problems(cluster, cache)
    if problems:
        message = f"the spec is invalid: {summarize([str(p) for p in problems])}"
        return _hold(observed, needed, "InvalidSpec", message, warn=True)
    unresolved = [r.match_name or r.key for r in needed if observed.required_or_none(r.key) is None]
    if unresolved:
        message = f"waiting for InferenceClasses {listing(unresolved)} to be fetched"
        return _hold(observed, needed, "WaitingForClasses", message, warn=False)
    classes, unreadable = _resolve_classes(observed, needed)
    review = review_pools(cluster.spec, classes, unreadable=unreadable)
    backend = _backend(observed, cluster, review)
    resources = list(backend.resources)
    events: list[Event] = []
    pc_name = provider_config_name(cluster.metadata.name or "")
    provider_config, pc_problem = _provider_config(observed, backend, pc_name)
    if provider_config is not None:
        resources.append(provider_config)
    stack = _serving_stack(observed, cluster, backend)
    if stack is not None:
        resources.append(stack)
        if backend.cluster_ready and SERVING_STACK_KEY not in observed.resources:
            events.append(
                Event.normal(
                    "ComposingBackend",
                    f"{_source_label(cluster)} cluster ready, installing its serving stack",
                )
            )
    withheld = review.withheld
    if withheld:
        events.append(Event.warning("PoolsWithheld", summarize([str(p) for p in withheld])))
    previous = cluster.status.gpu_pools if cluster.status else None
    held = held_pools(cluster.spec, review, previous or ())
    if held:
        events.append(Event.warning("PoolsHeld", _held_message(held)))
    stack_seen = observed.resources.get(SERVING_STACK_KEY)
    address = text_field(stack_seen, "status", "gateway", "address")
    return Composition(
        resources=resources,
        status=_status(
            review,
            held,
            has_provider_config=provider_config is not None,
            provider_config=pc_name,
            backend=backend,
            address=address,
        ),
        conditions=(
            condition(ACCEPTED, True, "Composed", "the spec is valid and every class resolved"),
            _pools_condition(review, held),
            backend.cluster_condition,
            _backend_condition(backend, stack is not None, stack_seen, pc_problem),
        ),
        events=tuple(events),
        requirements=needed,
    )


# --- inputs -----------------------------------------------------------------------------


def spec_problems(cluster: InferenceCluster, cache: Cache | None = None) -> list[FieldError]:
    """Problems that make the whole spec untrustworthy (pool problems are handled per pool)."""
    problems = [p for p in problems_of(cluster, cache) if not _pool_scoped(p.path)]
    existing = cluster.spec.cluster.existing
    if (
        cluster.spec.cluster.source == "Existing"
        and existing is not None
        and existing.identity_secret_ref is not None
    ):
        why = unsupported_kubernetes_identity(existing.identity_secret_ref.type)
        if why:
            problems.append(FieldError("spec.cluster.existing.identitySecretRef.type", why))
    return problems


def _pool_scoped(path: str) -> bool:
    prefix = "spec.nodePools["
    if not path.startswith(prefix):
        return False
    index, _, rest = path[len(prefix) :].partition("]")
    return index.isdigit() and (rest == "" or rest.startswith("."))


def _resolve_classes(
    observed: Observed[InferenceCluster], needed: Sequence[Requirement]
) -> tuple[dict[str, InferenceClass], dict[str, str]]:
    classes: dict[str, InferenceClass] = {}
    unreadable: dict[str, str] = {}
    for requirement in needed:
        name = requirement.match_name or ""
        found, problems = typed(observed.required.get(requirement.key), InferenceClass)
        match = next((c for c in found if c.metadata.name == name), None)
        if match is not None:
            classes[name] = match
        elif problems:
            unreadable[name] = problems[0]
    return classes, unreadable


# --- the cluster and how to reach it ------------------------------------------------------


def _backend(
    observed: Observed[InferenceCluster], cluster: InferenceCluster, review: PoolReview
) -> _Backend:
    settings = cluster.spec.cluster
    if settings.source == "Existing" and settings.existing is not None:
        existing = settings.existing
        kubeconfig = SecretKey(
            name=existing.secret_ref.name, key=existing.secret_ref.key, namespace=SYSTEM_NAMESPACE
        )
        secrets = [ClusterSecret(type="Kubeconfig", **_secret_fields(kubeconfig))]
        identity = None
        if existing.identity_secret_ref is not None:
            ref = existing.identity_secret_ref
            identity = Identity(
                type=ref.type,
                secret=SecretKey(name=ref.name, key=ref.key, namespace=SYSTEM_NAMESPACE),
            )
            secrets.append(ClusterSecret(type=ref.type, **_secret_fields(identity.secret)))
        return _Backend(
            cluster_ready=True,
            cluster_condition=condition(
                CLUSTER_READY,
                True,
                "ClusterRunning",
                f"reaching the cluster with the kubeconfig in Secret "
                f"{SYSTEM_NAMESPACE}/{kubeconfig.name} (key {kubeconfig.key})",
            ),
            kubeconfig=kubeconfig,
            identity=identity,
            stack_secrets=tuple(secrets),
            cache_class=existing.cache.storage_class_name if existing.cache else None,
        )
    return _provisioned_backend(observed, cluster, review)


def _provisioned_backend(
    observed: Observed[InferenceCluster], cluster: InferenceCluster, review: PoolReview
) -> _Backend:
    source = cluster.spec.cluster.source
    info = CLOUD_COMPOSITES[source]
    seen = observed.resources.get(info.key)
    manifest = cloud_cluster(cluster, review.accepted, seen.manifest if seen else None)
    ready = seen is not None and seen.condition_true("Ready")
    resources = (
        (DesiredResource(key=info.key, manifest=manifest, ready=ready),)
        if manifest is not None
        else ()
    )
    name = f"{info.kind} {SYSTEM_NAMESPACE}/{cluster.metadata.name}"
    rejected = seen.condition("Accepted") if seen is not None else None
    if ready:
        cluster_condition = condition(CLUSTER_READY, True, "ClusterRunning", f"{name} is ready")
    elif rejected is not None and rejected.get("status") == "False":
        cluster_condition = condition(
            CLUSTER_READY,
            False,
            "CloudClusterRejected",
            f"{name} does not accept its spec: {rejected.get('message') or rejected.get('reason')}",
        )
    else:
        cluster_condition = condition(
            CLUSTER_READY, False, "Provisioning", f"waiting for {name} to become ready"
        )
    secrets = _cloud_secrets(seen)
    kubeconfig = next(
        (_secret_key(s) for s in secrets if s.type == "Kubeconfig"),
        None,
    )
    identity = next(
        (Identity(type=s.type, secret=_secret_key(s)) for s in secrets if s.type != "Kubeconfig"),
        None,
    )
    return _Backend(
        resources=resources,
        cluster_ready=ready,
        cluster_condition=cluster_condition,
        kubeconfig=kubeconfig if ready else None,
        identity=identity if ready else None,
        stack_secrets=tuple(secrets) if ready and kubeconfig is not None else None,
        driver_root=GKE_DRIVER_ROOT if source == "GKE" else None,
        cache_class=text_field(seen, "status", "cache", "storageClassName"),
    )


def _cloud_secrets(seen: ObservedResource | None) -> list[ClusterSecret]:
    """The access Secrets a cloud composite publishes in ``status.secrets``."""
    found: list[ClusterSecret] = []
    for entry in field(seen, "status", "secrets") or ():
        if not isinstance(entry, Mapping):
            continue
        kind, name, key = entry.get("type"), entry.get("name"), entry.get("key")
        if not (isinstance(kind, str) and isinstance(name, str) and isinstance(key, str)):
            continue
        if kind not in get_args(SecretType):
            continue
        namespace = entry.get("namespace")
        found.append(
            ClusterSecret(
                type=cast(SecretType, kind),
                name=name,
                key=key,
                namespace=namespace if isinstance(namespace, str) and namespace else None,
            )
        )
    return found


def _secret_key(secret: ClusterSecret) -> SecretKey:
    return SecretKey(
        name=secret.name, key=secret.key, namespace=secret.namespace or SYSTEM_NAMESPACE
    )


def _secret_fields(secret: SecretKey) -> dict[str, str]:
    return {"name": secret.name, "key": secret.key, "namespace": secret.namespace}


def _provider_config(
    observed: Observed[InferenceCluster], backend: _Backend, name: str
) -> tuple[DesiredResource | None, str | None]:
    """The ClusterProviderConfig, or the observed one held while the kubeconfig is unknown."""
    problem = unsupported_kubernetes_identity(backend.identity.type) if backend.identity else None
    if backend.kubeconfig is None or problem:
        held = kept(observed, PROVIDER_CONFIG_KEY)
        return (attrs.evolve(held, ready=True) if held else None), problem
    manifest = kubeconfig_provider_config(
        api_version=KUBERNETES_API_VERSION,
        kind="ClusterProviderConfig",
        name=name,
        kubeconfig=backend.kubeconfig,
        identity=backend.identity,
    )
    # A provider config has no Ready condition of its own; it is usable once it exists.
    return DesiredResource(key=PROVIDER_CONFIG_KEY, manifest=manifest, ready=True), None


def _serving_stack(
    observed: Observed[InferenceCluster], cluster: InferenceCluster, backend: _Backend
) -> DesiredResource | None:
    seen = observed.resources.get(SERVING_STACK_KEY)
    ready = seen is not None and seen.condition_true("Ready")
    secrets = backend.stack_secrets
    if secrets is None:
        # The cloud cluster is not ready (or lost its kubeconfig for a moment): keep the
        # stack that runs, with the access it was given, rather than uninstalling it.
        held = kept(observed, SERVING_STACK_KEY)
        return attrs.evolve(held, ready=ready) if held else None
    stack = ServingStack(
        metadata=ObjectMeta(
            name=serving_stack_name(cluster.metadata.name or ""), namespace=SYSTEM_NAMESPACE
        ),
        spec=ServingStackSpec(
            secrets=secrets,
            nvidia_driver_root=backend.driver_root or "/",
        ),
    )
    manifest = to_dict(stack)
    if backend.driver_root is None:
        manifest["spec"].pop("nvidiaDriverRoot", None)
    return DesiredResource(key=SERVING_STACK_KEY, manifest=manifest, ready=ready)


# --- status and conditions --------------------------------------------------------------


def _held_message(held: tuple[GpuPool, ...]) -> str:
    return (
        f"keeping pools {listing([p.name for p in held])} as last published, so the replicas "
        "running on them stay, until their problems are fixed or they are removed from "
        "spec.nodePools"
    )


def _status(
    review: PoolReview,
    held: tuple[GpuPool, ...],
    *,
    has_provider_config: bool,
    provider_config: str,
    backend: _Backend,
    address: str | None,
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "namespace": SYSTEM_NAMESPACE,
        "gpuPools": [unstructure(pool) for pool in (*review.gpu_pools, *held)],
    }
    if has_provider_config:
        status["providerConfigRef"] = {"name": provider_config}
    if backend.cache_class:
        status["cache"] = {"storageClassName": backend.cache_class}
    if address:
        status["gateway"] = {"address": address}
    return status


def _pools_condition(review: PoolReview, held: tuple[GpuPool, ...]) -> Condition:
    published = [a.pool.name for a in review.accepted]
    shown = f"published: {listing(published)}" if published else "no pool is published"
    withheld = review.withheld
    if held:
        return condition(
            POOLS_PUBLISHED,
            False,
            "PoolsHeld",
            f"{summarize([str(p) for p in withheld])}; {shown}; {_held_message(held)}",
        )
    if withheld:
        return condition(
            POOLS_PUBLISHED,
            False,
            "PoolsWithheld",
            f"{summarize([str(p) for p in withheld])}; {shown}",
        )
    if not published:
        return condition(
            POOLS_PUBLISHED, True, "NoPools", "spec.nodePools is empty: the cluster offers no GPUs"
        )
    notices = [str(p) for p in review.problems]
    message = f"{shown}; {summarize(notices)}" if notices else shown
    return condition(POOLS_PUBLISHED, True, "Published", message)


def _backend_condition(
    backend: _Backend,
    stack_composed: bool,
    stack_seen: ObservedResource | None,
    pc_problem: str | None,
) -> Condition:
    if pc_problem:
        return condition(
            BACKEND_READY,
            False,
            "UnsupportedIdentity",
            f"cannot build the cluster's provider config: {pc_problem}",
        )
    if stack_seen is not None and stack_seen.condition_true("Ready"):
        return condition(BACKEND_READY, True, "BackendHealthy", "the serving stack is ready")
    if not stack_composed:
        return condition(
            BACKEND_READY,
            False,
            "WaitingForCluster",
            "the serving stack is installed once the cluster is ready",
        )
    return condition(BACKEND_READY, False, "Installing", "the serving stack is being installed")


def _source_label(cluster: InferenceCluster) -> str:
    return cluster.spec.cluster.source


def _hold(
    observed: Observed[InferenceCluster],
    needed: tuple[Requirement, ...],
    reason: str,
    message: str,
    *,
    warn: bool,
) -> Composition:
    """Keep the cluster, its stack and its published pools as they are, and say why."""
    ready_keys = [key for key, seen in observed.resources.items() if seen.condition_true("Ready")]
    if PROVIDER_CONFIG_KEY in observed.resources:
        ready_keys.append(PROVIDER_CONFIG_KEY)
    held = hold_because(
        observed, ACCEPTED, reason, message, warn=warn, requirements=needed, ready_keys=ready_keys
    )
    # A cluster keeps its published status (its pools) and its readiness while held.
    return attrs.evolve(held, ready=None)
