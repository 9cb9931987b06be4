"""Which node pools an InferenceCluster publishes to the scheduler: the one source of truth.

``status.gpuPools`` is the only capacity the scheduler sees, so the InferenceCluster
composer, ``modelplane schedule`` and the simulator all derive it here, from the
cluster's spec and its InferenceClasses, and none of them can drift.

Rules (each decision is reported as a :class:`PoolProblem` naming the pool and field):

* ``nodes`` is ``nodeCount``: the nodes the pool is sized to now. For an
  autoscaled pool ``maxNodes`` is its ``maxNodeCount``, what an autoscaler *may*
  add later: published beside ``nodes`` rather than in place of it, so the
  scheduler can tell capacity that exists from capacity a scale-up would bring
  (a pool scaled to zero has ``nodes: 0`` and ``maxNodes`` above it).
* ``devices`` are the class's devices, copied verbatim.
* A pool is withheld (not published) when its class is missing, unreadable or
  publishes an invalid device contract, when its own fields are invalid, when
  its name repeats an earlier pool's (the first is published), and -- on
  provisioned clusters -- when it cannot be provisioned as written (no recipe
  for the cloud, no zones, a size outside its bounds, the reserved name
  ``system``). The other pools are published regardless.
* A pool with ``nodeCount: 0`` is published with ``nodes: 0``: it exists and
  hosts nothing until it is scaled up (by its autoscaler, when it has one),
  which is worth saying but not an error.
* A withheld pool that the cluster published before (its class deleted,
  unreadable or rejected, or an edit made it invalid) keeps its last
  published entry (:func:`held_pools`): withdrawing it would make the
  scheduler drop every replica running on nodes that are still there. Only
  removing the pool from ``spec.nodePools`` unpublishes it.

Nothing here raises: every input, however malformed, yields pools and problems.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import attrs

from modelplane_core.api.errors import FieldError, index_path, join_path
from modelplane_core.api.fields import AKS_POOL_NAME, AKS_POOL_NAME_HINT
from modelplane_core.api.inference_class import InferenceClass
from modelplane_core.api.inference_cluster import (
    GpuPool,
    InferenceCluster,
    InferenceClusterSpec,
    InferenceClusterStatus,
    NodePool,
)
from modelplane_core.api.validation import validate_value
from modelplane_core.compose.platform.device_contract import device_problems

SYSTEM_POOL_NAME: Final = "system"
PROVISIONED_SOURCES: Final = frozenset({"GKE", "EKS", "AKS", "Nebius", "Vultr"})
# The provisioning block each provisioned source reads from a class.
RECIPE_FIELD: Final = {
    "GKE": "gke",
    "EKS": "eks",
    "AKS": "aks",
    "Nebius": "nebius",
    "Vultr": "vultr",
}
# Clouds whose GPU capacity is zonal: a pool must say which zones it may use.
ZONAL_SOURCES: Final = frozenset({"GKE", "EKS"})
MAX_PROVISIONED_NODES: Final = 1000


@attrs.frozen(kw_only=True)
class PoolProblem:
    """Something about one pool a platform engineer should know or fix.

    ``published`` tells whether the pool is still offered to the scheduler
    (a notice, such as zero nodes) or withheld until the problem is fixed.
    """

    pool: str
    path: str
    message: str
    published: bool = False

    def __str__(self) -> str:
        outcome = "published" if self.published else "not published"
        return f"pool {self.pool!r} ({self.path}): {self.message}; {outcome}"


@attrs.frozen(kw_only=True)
class AcceptedPool:
    """A pool that is published: its spec entry, position and resolved class."""

    index: int
    pool: NodePool
    inference_class: InferenceClass

    @property
    def path(self) -> str:
        return index_path("spec.nodePools", self.index)


@attrs.frozen(kw_only=True)
class PoolReview:
    """Every pool's verdict: the accepted ones in spec order, and every problem found."""

    accepted: tuple[AcceptedPool, ...]
    problems: tuple[PoolProblem, ...]

    @property
    def gpu_pools(self) -> tuple[GpuPool, ...]:
        return tuple(
            GpuPool(
                name=a.pool.name,
                nodes=a.pool.node_count,
                max_nodes=a.pool.max_node_count,
                devices=a.inference_class.spec.devices,
            )
            for a in self.accepted
        )

    @property
    def withheld(self) -> tuple[PoolProblem, ...]:
        return tuple(p for p in self.problems if not p.published)


def held_pools(
    spec: InferenceClusterSpec, review: PoolReview, previous: tuple[GpuPool, ...]
) -> tuple[GpuPool, ...]:
    """Previously published pools that are withheld now but still in the spec, as they were."""
    accepted = {a.pool.name for a in review.accepted}
    withheld = {p.pool for p in review.withheld}
    in_spec = [pool.name for pool in spec.node_pools or ()]
    last = {pool.name: pool for pool in previous}
    return tuple(
        last[name]
        for name in dict.fromkeys(in_spec)
        if name in withheld and name not in accepted and name in last
    )


def class_names(spec: InferenceClusterSpec) -> tuple[str, ...]:
    """The distinct InferenceClass names the pools reference, sorted."""
    return tuple(sorted({pool.class_name for pool in spec.node_pools or ()}))


def publish_pools(
    spec: InferenceClusterSpec,
    classes: Mapping[str, InferenceClass],
    *,
    unreadable: Mapping[str, str] | None = None,
) -> tuple[tuple[GpuPool, ...], list[PoolProblem]]:
    """``status.gpuPools`` for ``spec`` and the problems that shaped it.

    ``classes`` maps class names to the classes that exist; a referenced name
    that is absent is a missing class. ``unreadable`` maps class names that
    exist but could not be decoded to the reason, so they are reported as
    such rather than as missing.
    """
    review = review_pools(spec, classes, unreadable=unreadable)
    return review.gpu_pools, list(review.problems)


def review_pools(
    spec: InferenceClusterSpec,
    classes: Mapping[str, InferenceClass],
    *,
    unreadable: Mapping[str, str] | None = None,
) -> PoolReview:
    """Every pool's verdict (see the module docstring for the rules)."""
    source = spec.cluster.source
    field_errors = _pool_field_errors(spec)
    class_errors: dict[str, list[FieldError]] = {}
    first_index: dict[str, int] = {}
    accepted: list[AcceptedPool] = []
    problems: list[PoolProblem] = []
    for index, pool in enumerate(spec.node_pools or ()):
        problem = _Reporter(pool.name, index_path("spec.nodePools", index))
        if pool.name in first_index:
            problems.append(
                problem(
                    "name",
                    f"duplicate pool name; the pool at spec.nodePools[{first_index[pool.name]}] "
                    "is the one published",
                )
            )
            continue
        first_index[pool.name] = index
        found = [
            PoolProblem(pool=pool.name, path=e.path, message=e.message)
            for e in field_errors.get(index, ())
        ]
        found.extend(problem(f, m) for f, m in _provisioning_problems(source, pool))
        inference_class = classes.get(pool.class_name)
        if unreadable and pool.class_name in unreadable:
            found.append(
                problem(
                    "className",
                    f"InferenceClass {pool.class_name!r} cannot be read: "
                    f"{unreadable[pool.class_name]}",
                )
            )
        elif inference_class is None:
            found.append(
                problem(
                    "className",
                    f"InferenceClass {pool.class_name!r} does not exist; create it or point "
                    "the pool at an existing class",
                )
            )
        else:
            if pool.class_name not in class_errors:
                class_errors[pool.class_name] = device_problems(inference_class.spec.devices)
            found.extend(
                problem("className", f"InferenceClass {pool.class_name!r} is invalid: {e}")
                for e in class_errors[pool.class_name]
            )
            recipe = _recipe_problem(source, inference_class)
            if recipe:
                found.append(problem("className", recipe))
        problems.extend(found)
        if found or inference_class is None:
            continue
        accepted.append(AcceptedPool(index=index, pool=pool, inference_class=inference_class))
        if pool.node_count == 0:
            problems.append(problem("nodeCount", _empty_pool_notice(pool), published=True))
    return PoolReview(accepted=tuple(accepted), problems=tuple(problems))


def with_published_pools(
    cluster: InferenceCluster,
    classes: Mapping[str, InferenceClass],
    *,
    unreadable: Mapping[str, str] | None = None,
) -> InferenceCluster:
    """``cluster`` with ``status.gpuPools`` derived from its spec and ``classes``.

    For callers that hold manifests rather than a running control plane
    (``modelplane schedule``, the simulator): the rest of the status is kept.
    """
    pools, _ = publish_pools(cluster.spec, classes, unreadable=unreadable)
    status = cluster.status or InferenceClusterStatus()
    return attrs.evolve(cluster, status=attrs.evolve(status, gpu_pools=pools))


def _empty_pool_notice(pool: NodePool) -> str:
    if pool.max_node_count:
        return (
            f"the pool has 0 nodes now; its autoscaler adds up to {pool.max_node_count} "
            "when replicas are placed on it"
        )
    return "the pool has 0 nodes, so it hosts no replicas until nodeCount is raised"


@attrs.frozen
class _Reporter:
    """Builds the problems of one pool entry."""

    pool: str
    path: str

    def __call__(self, field: str, message: str, *, published: bool = False) -> PoolProblem:
        return PoolProblem(
            pool=self.pool, path=join_path(self.path, field), message=message, published=published
        )


def _pool_field_errors(spec: InferenceClusterSpec) -> dict[int, list[FieldError]]:
    """Schema and rule errors inside each pool entry, by pool index.

    Errors at a pool's own path (a duplicate name) are left to the duplicate
    rule; errors outside the pools belong to the whole spec.
    """
    by_index: dict[int, list[FieldError]] = {}
    prefix = "spec.nodePools["
    for error in validate_value(spec, "spec"):
        if not error.path.startswith(prefix):
            continue
        index_text, _, rest = error.path[len(prefix) :].partition("]")
        if index_text.isdigit() and rest.startswith("."):
            by_index.setdefault(int(index_text), []).append(error)
    return by_index


def _provisioning_problems(source: str, pool: NodePool) -> list[tuple[str, str]]:
    """What stops a pool from being provisioned as written on ``source``."""
    if source not in PROVISIONED_SOURCES:
        return []
    found: list[tuple[str, str]] = []
    if pool.name == SYSTEM_POOL_NAME:
        found.append(
            (
                "name",
                f"{SYSTEM_POOL_NAME!r} is reserved for the pool Modelplane adds to run the "
                "serving stack; choose another name",
            )
        )
    if source in ZONAL_SOURCES and not pool.zones:
        found.append(("zones", f"{source} GPU pools must list the zones they may use"))
    if source == "AKS" and not re.match(AKS_POOL_NAME, pool.name):
        found.append(("name", f"an AKS node pool name is {AKS_POOL_NAME_HINT}"))
    if source == "Vultr" and pool.node_count == 0:
        found.append(("nodeCount", "a VKE node pool runs at least one node"))
    largest = max(pool.node_count, pool.max_node_count or 0, pool.min_node_count or 0)
    if largest > MAX_PROVISIONED_NODES:
        found.append(
            (
                "maxNodeCount" if pool.max_node_count is not None else "nodeCount",
                f"a provisioned pool has at most {MAX_PROVISIONED_NODES} nodes",
            )
        )
    if pool.max_node_count is not None:
        low = pool.min_node_count or 0
        if not low <= pool.node_count <= pool.max_node_count:
            found.append(
                (
                    "nodeCount",
                    f"nodeCount {pool.node_count} must lie between minNodeCount {low} "
                    f"and maxNodeCount {pool.max_node_count}",
                )
            )
    return found


def _recipe_problem(source: str, inference_class: InferenceClass) -> str | None:
    """Why ``inference_class`` cannot provision a pool on ``source``, or None."""
    if source not in PROVISIONED_SOURCES:
        return None
    name = inference_class.metadata.name
    field = RECIPE_FIELD[source]
    provisioning = inference_class.spec.provisioning
    if provisioning is None:
        return (
            f"InferenceClass {name!r} has no provisioning recipe, so it only describes "
            f"existing nodes; a {source} cluster needs a class with "
            f"spec.provisioning.{field}"
        )
    if provisioning.provider != source or getattr(provisioning, field) is None:
        return (
            f"InferenceClass {name!r} provisions {provisioning.provider}, not {source} "
            f"(spec.provisioning.{field} is required)"
        )
    return None
