"""What the AKS, Vultr and Nebius cluster composers report alike.

Each builds its cloud's resources differently, but the contract with the
InferenceCluster is the same: ``status.secrets`` names the kubeconfig Secret
(and ``status.cache`` the ReadWriteMany StorageClass, where there is one)
from the first pass, and three conditions say where provisioning stands:
``Accepted`` (the spec), ``ClusterReady`` (the control plane) and
``NodePoolsReady`` (every pool). A pool that cannot be built as written keeps
its observed form, and an invalid spec holds everything: a running cluster is
never torn down because of an input error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, Protocol, TypeVar

from modelplane_core.api.errors import FieldError
from modelplane_core.api.infrastructure import CloudCredentials
from modelplane_core.api.meta import Condition
from modelplane_core.compose.composition import (
    Composition,
    Observed,
    Requirement,
    condition,
    hold_invalid,
    summarize,
)
from modelplane_core.compose.names import child_name
from modelplane_core.compose.platform.gating import Gated, Piece, gate, held_piece
from modelplane_core.compose.platform.managed_resources import authenticated
from modelplane_core.compose.platform.messages import listing
from modelplane_core.compose.platform.provider_configs import HELM_PC_KEY, KUBERNETES_PC_KEY

ACCEPTED: Final = "Accepted"
CLUSTER_READY: Final = "ClusterReady"
NODE_POOLS_READY: Final = "NodePoolsReady"
CLUSTER_KEY: Final = "cluster"
KUBECONFIG_KEY: Final = "kubeconfig"
STORAGE_CLASS_KEY: Final = "storage-class-rwx"
# Provider configs report no status: they are usable as soon as they exist.
STATUSLESS: Final = (KUBERNETES_PC_KEY, HELM_PC_KEY)


def kubeconfig_secret_name(composite: str) -> str:
    """The Secret holding the cluster's kubeconfig (key ``kubeconfig``), in its namespace."""
    return child_name(composite, "kubeconfig")


def held_invalid(
    observed: Observed[Any],
    problems: Sequence[object],
    *,
    statusless: Iterable[str] = (),
    requirements: Iterable[Requirement] = (),
) -> Composition:
    """Everything held because the spec is invalid; what is ready now stays ready.

    ``statusless`` are keys of resources that report no status (provider
    configs, Secrets): ready as long as they exist.
    """
    keep_ready = {*STATUSLESS, *statusless}
    ready = [
        key
        for key, seen in observed.resources.items()
        if seen.condition_true("Ready") or key in keep_ready
    ]
    return hold_invalid(observed, ACCEPTED, problems, ready_keys=ready, requirements=requirements)


def accepted() -> Condition:
    return condition(ACCEPTED, True, "Composed", "the spec is valid")


def cluster_condition(observed: Observed[Any], where: str) -> Condition:
    """``ClusterReady`` from the control plane resource (key ``cluster``); ``where`` names it."""
    seen = observed.resources.get(CLUSTER_KEY)
    if seen is not None and seen.condition_true("Ready"):
        return condition(CLUSTER_READY, True, "ClusterRunning", f"the {where} is running")
    return condition(CLUSTER_READY, False, "Provisioning", f"the {where} is being created")


def pools_condition(
    gated: Gated, pool_keys: Sequence[str], problems: Sequence[str], *, noun: str
) -> Condition:
    """``NodePoolsReady``: pools that cannot be built first, then pools still coming up."""
    if problems:
        return condition(NODE_POOLS_READY, False, "InvalidNodePool", summarize(problems))
    pending = [key for key in pool_keys if not gated.ready(key)]
    if pending:
        return condition(NODE_POOLS_READY, False, "Provisioning", f"waiting for {listing(pending)}")
    return condition(NODE_POOLS_READY, True, "Available", f"{len(pool_keys)} {noun} are ready")


def access_status(composite: str, storage_class: str | None) -> dict[str, Any]:
    """``status``: the kubeconfig Secret consumers reach the cluster with, and the cache class."""
    status: dict[str, Any] = {
        "secrets": [
            {"type": "Kubeconfig", "name": kubeconfig_secret_name(composite), "key": "kubeconfig"}
        ]
    }
    if storage_class is not None:
        status["cache"] = {"storageClassName": storage_class}
    return status


def size_problem(
    index: int, node_count: int, min_count: int | None, max_count: int | None
) -> FieldError | None:
    """Why an autoscaled pool's bounds cannot hold its size, or None (fixed pools always can).

    ``min_count`` omitted means ``node_count``, as the InferenceCluster composes it.
    """
    if max_count is None:
        return None
    path = f"spec.nodePools[{index}]"
    if min_count is None:
        if node_count > max_count:
            return FieldError(f"{path}.nodeCount", f"{node_count} exceeds maxNodeCount {max_count}")
        return None
    if min_count > max_count:
        return FieldError(f"{path}.minNodeCount", f"{min_count} exceeds maxNodeCount {max_count}")
    if not min_count <= node_count <= max_count:
        return FieldError(
            f"{path}.nodeCount",
            f"{node_count} must lie between minNodeCount {min_count} and maxNodeCount {max_count}",
        )
    return None


class _Named(Protocol):
    @property
    def name(self) -> str: ...


P = TypeVar("P", bound=_Named)


def pool_problems(
    pools: Sequence[P], check: Callable[[int, P], FieldError | None]
) -> list[FieldError]:
    """``check`` of every pool, in spec order."""
    return [problem for index, pool in enumerate(pools) if (problem := check(index, pool))]


def inline_pool_problems(
    pools: Sequence[P], inline: str, check: Callable[[int, P], FieldError | None]
) -> list[FieldError]:
    """``check`` of the pool created inline with the cluster (by name), which the cluster needs."""
    return [
        problem
        for index, pool in enumerate(pools)
        if pool.name == inline and (problem := check(index, pool))
    ]


def kept_as_is(problem: FieldError, pool: str) -> str:
    """A pool problem as reported while the pool keeps its observed form."""
    return f"{problem}; node pool {pool!r} keeps its current form"


def pool_pieces(
    observed: Observed[Any],
    pools: Sequence[P],
    *,
    key: Callable[[str], str],
    check: Callable[[int, P], FieldError | None],
    build: Callable[[P, str], Piece],
    inline: str | None = None,
) -> tuple[list[Piece], list[str]]:
    """A piece per pool (but the ``inline`` one, which the cluster itself carries).

    A pool ``check`` refuses keeps its observed form and is reported; one
    never built is left out, and reported too.
    """
    pieces: list[Piece] = []
    problems: list[str] = []
    for index, pool in enumerate(pools):
        if pool.name == inline:
            continue
        pool_key = key(pool.name)
        problem = check(index, pool)
        if problem is None:
            pieces.append(build(pool, pool_key))
            continue
        if held := held_piece(observed, pool_key):
            pieces.append(held)
        problems.append(kept_as_is(problem, pool.name))
    return pieces, problems


def pool_keys(
    pools: Sequence[P], key: Callable[[str], str], inline: str | None = None
) -> list[str]:
    """The resource each pool's readiness is read from: its own, or the cluster's for ``inline``."""
    return [CLUSTER_KEY if pool.name == inline else key(pool.name) for pool in pools]


def cloud_composition(
    observed: Observed[Any],
    pieces: Sequence[Piece],
    pool_problems: Sequence[str],
    *,
    credentials: CloudCredentials | None,
    pool_keys: Sequence[str],
    where: str,
    storage_class: str | None,
    noun: str = "node pools",
    more: Sequence[Condition] = (),
    requirements: Sequence[Requirement] = (),
    ready: bool | None = None,
) -> Composition:
    """The composition of a valid cloud cluster spec: its pieces gated, status and conditions.

    Every cloud managed resource is authenticated by ``credentials``;
    ``where`` names the cluster in ``ClusterReady``; ``pool_keys`` are the
    resources whose readiness is the pools' (the cluster's key for a pool it
    carries inline).
    """
    gated = gate(observed, authenticated(pieces, credentials))
    name = getattr(getattr(observed.composite, "metadata", None), "name", None) or ""
    return Composition(
        resources=gated.resources,
        status=access_status(name, storage_class),
        conditions=(
            accepted(),
            cluster_condition(observed, where),
            pools_condition(gated, pool_keys, pool_problems, noun=noun),
            *more,
        ),
        requirements=tuple(requirements),
        ready=ready,
    )
