"""VultrCluster -> a Vultr Kubernetes Engine cluster and its node pools.

Composes the VKE cluster (its inline pool is the spec's first System pool, or
Modelplane's standard system pool when the spec names none; its kubeconfig,
which embeds static client certificates, is written to a connection Secret)
and -- once the cluster exists, since a pool names the cluster's ID -- one
``KubernetesNodePool`` per other ``spec.nodePools`` entry. Every Vultr
resource is authenticated by ``spec.credentials``.

No ReadWriteMany StorageClass is composed: VKE's Vultr File System class does
not serve GPU nodes, so a Vultr cluster publishes no cache storage and
ModelCaches are not staged there (see docs/platform-composers.md).
"""

from __future__ import annotations

from typing import Final

from modelplane_core.api.errors import FieldError
from modelplane_core.api.infrastructure import VultrCluster, VultrClusterSpec, VultrNodePool
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import Composition, Observed, problems_of
from modelplane_core.compose.names import child_name
from modelplane_core.compose.platform import vultr_resources as vke
from modelplane_core.compose.platform.cloud_composite import (
    CLUSTER_KEY,
    cloud_composition,
    held_invalid,
    inline_pool_problems,
    kubeconfig_secret_name,
    pool_keys,
    pool_pieces,
    pool_problems,
    size_problem,
)
from modelplane_core.compose.platform.cloud_pools import SYSTEM_VULTR_POOL
from modelplane_core.compose.platform.gating import Piece
from modelplane_core.compose.topology import SYSTEM_NAMESPACE

__all__ = [
    "STORAGE_CLASS",
    "compose",
    "composer_checks",
    "plan",
    "spec_problems",
    "vke_cluster_label",
]

# VKE composes no cache storage (see the module docstring).
STORAGE_CLASS: Final[str | None] = None


def node_pool_key(pool: str) -> str:
    return f"nodepool-{pool}"


def vke_cluster_label(namespace: str, name: str) -> str:
    """The cluster's label in Vultr: one per composite, whatever namespace it is in."""
    return child_name(namespace, name, "vke")


def inline_pool(spec: VultrClusterSpec) -> VultrNodePool:
    """The pool created with the cluster: the first System pool, else the standard one."""
    return next((p for p in spec.node_pools if p.role == "System"), SYSTEM_VULTR_POOL)


def spec_problems(composite: VultrCluster, cache: Cache | None = None) -> list[FieldError]:
    """The API's problems, and an inline pool that cannot be sized (it is part of the cluster)."""
    spec = composite.spec
    return [
        *problems_of(composite, cache),
        *inline_pool_problems(spec.node_pools, inline_pool(spec).name, pool_problem),
    ]


def composer_checks(composite: VultrCluster) -> list[FieldError]:
    """Everything this composer refuses beyond the API's checks (for ``modelplane validate``)."""
    return pool_problems(composite.spec.node_pools, pool_problem)


def pool_problem(index: int, pool: VultrNodePool) -> FieldError | None:
    return size_problem(index, pool.node_count, pool.min_node_count, pool.max_node_count)


def compose(observed: Observed[VultrCluster], cache: Cache | None = None) -> Composition:
    composite = observed.composite
    problems = spec_problems(composite, cache)
    if problems:
        return held_invalid(observed, problems)
    pieces, pool_problems = plan(observed)
    spec = composite.spec
    return cloud_composition(
        observed,
        pieces,
        pool_problems,
        credentials=spec.credentials,
        pool_keys=pool_keys(spec.node_pools, node_pool_key, inline_pool(spec).name),
        where=f"VKE cluster in {spec.region}",
        storage_class=STORAGE_CLASS,
    )


def plan(observed: Observed[VultrCluster]) -> tuple[list[Piece], list[str]]:
    """Every resource of the cluster, and the pools that cannot be built this pass."""
    composite = observed.composite
    spec = composite.spec
    namespace = composite.metadata.namespace or SYSTEM_NAMESPACE
    name = composite.metadata.name or ""
    inline = inline_pool(spec)
    pieces = [
        Piece(
            key=CLUSTER_KEY,
            manifest=vke.cluster(
                spec,
                namespace,
                vke_cluster_label(namespace, name),
                inline,
                kubeconfig_secret_name(name),
            ),
        )
    ]
    pools, problems = pool_pieces(
        observed,
        spec.node_pools,
        key=node_pool_key,
        check=pool_problem,
        # A pool names the cluster's ID: it waits for the cluster to exist.
        build=lambda pool, key: Piece(
            key=key, manifest=vke.node_pool(namespace, pool), after=(CLUSTER_KEY,)
        ),
        inline=inline.name,
    )
    return [*pieces, *pools], problems
