"""AKSCluster -> an AKS cluster, its node pools and ReadWriteMany storage, on Azure.

Composes a resource group, a virtual network and node subnet, the cluster
(whose default node pool is the spec's first System pool, or Modelplane's
standard system pool when the spec names none; its kubeconfig is written to a
connection Secret), one agent pool per other ``spec.nodePools`` entry, the
provider configs reaching the new cluster, and -- once the cluster is up --
the StorageClass ``modelplane-rwx-fs`` (Azure Files) and, when a pool joins
an InfiniBand fabric, the NVIDIA network operator.

Every Azure resource is authenticated by ``spec.credentials``. A pool that
cannot be built as written keeps its observed agent pool and is reported on
``NodePoolsReady``; nothing that runs is dropped for want of an input.
"""

from __future__ import annotations

from typing import Final

from modelplane_core.api.errors import FieldError
from modelplane_core.api.infrastructure import AKSCluster, AKSClusterSpec, AKSNodePool
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import Composition, Observed, problems_of
from modelplane_core.compose.names import child_name
from modelplane_core.compose.platform import aks_resources as azure
from modelplane_core.compose.platform.chart_versions import helm_chart
from modelplane_core.compose.platform.cloud_composite import (
    CLUSTER_KEY,
    KUBECONFIG_KEY,
    STORAGE_CLASS_KEY,
    cloud_composition,
    held_invalid,
    inline_pool_problems,
    kubeconfig_secret_name,
    pool_keys,
    pool_pieces,
    pool_problems,
    size_problem,
)
from modelplane_core.compose.platform.cloud_pools import SYSTEM_AKS_POOL
from modelplane_core.compose.platform.gating import Piece
from modelplane_core.compose.platform.provider_configs import (
    HELM_PC_KEY,
    KUBERNETES_PC_KEY,
    SecretKey,
    kubeconfig_pieces,
)
from modelplane_core.compose.platform.provider_helm import ORPHAN_ON_DELETE, release
from modelplane_core.compose.platform.stack_releases import GPU_TOLERATION
from modelplane_core.compose.provider_kubernetes import wrap
from modelplane_core.compose.topology import SYSTEM_NAMESPACE

__all__ = [
    "STORAGE_CLASS",
    "aks_cluster_name",
    "compose",
    "composer_checks",
    "plan",
    "pool_problem",
    "spec_problems",
]

STORAGE_CLASS: Final = "modelplane-rwx-fs"
NETWORK_OPERATOR_KEY: Final = "release-network-operator"
DNS_PREFIX_LENGTH: Final = 54
# Everything that runs on the cluster waits for it to be up and reachable.
ON_CLUSTER: Final = (CLUSTER_KEY, KUBERNETES_PC_KEY, HELM_PC_KEY)


def node_pool_key(pool: str) -> str:
    return f"nodepool-{pool}"


def aks_cluster_name(namespace: str, name: str, *, max_length: int = 63) -> str:
    """The cluster's (and its resource group's) Azure name, unique per subscription.

    The cluster's DNS prefix is the same name cut to AKS's 54 characters.
    """
    return child_name(namespace, name, "aks", max_length=max_length)


def default_pool(spec: AKSClusterSpec) -> AKSNodePool:
    """The pool inline on the cluster: the first System pool, else the standard one."""
    return next((p for p in spec.node_pools if p.role == "System"), SYSTEM_AKS_POOL)


def spec_problems(composite: AKSCluster, cache: Cache | None = None) -> list[FieldError]:
    """What makes the whole spec unusable: the API's problems, a network that cannot fit, a
    default pool that cannot be sized (it is part of the cluster itself)."""
    spec = composite.spec
    return [
        *problems_of(composite, cache),
        *azure.networking_problems(spec),
        *inline_pool_problems(spec.node_pools, default_pool(spec).name, pool_problem),
    ]


def composer_checks(composite: AKSCluster) -> list[FieldError]:
    """Everything this composer refuses beyond the API's checks (for ``modelplane validate``)."""
    return [
        *azure.networking_problems(composite.spec),
        *pool_problems(composite.spec.node_pools, pool_problem),
    ]


def compose(observed: Observed[AKSCluster], cache: Cache | None = None) -> Composition:
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
        pool_keys=pool_keys(spec.node_pools, node_pool_key, default_pool(spec).name),
        where=f"AKS cluster in {spec.location}",
        storage_class=STORAGE_CLASS,
    )


def plan(observed: Observed[AKSCluster]) -> tuple[list[Piece], list[str]]:
    """Every resource of the cluster, and the pools that cannot be built this pass."""
    composite = observed.composite
    spec = composite.spec
    namespace = composite.metadata.namespace or SYSTEM_NAMESPACE
    name = composite.metadata.name or ""
    azure_name = aks_cluster_name(namespace, name)
    kubeconfig = kubeconfig_secret_name(name)
    inline = default_pool(spec)
    pieces = [
        Piece(key="resource-group", manifest=azure.resource_group(spec, namespace, azure_name)),
        Piece(key="virtual-network", manifest=azure.virtual_network(spec, namespace)),
        Piece(key="subnet", manifest=azure.subnet(spec, namespace)),
        Piece(
            key=CLUSTER_KEY,
            manifest=azure.cluster(
                spec,
                namespace,
                azure_name,
                default_pool=inline,
                kubeconfig_secret=kubeconfig,
                dns_prefix=aks_cluster_name(namespace, name, max_length=DNS_PREFIX_LENGTH),
            ),
        ),
    ]
    pools, problems = pool_pieces(
        observed,
        spec.node_pools,
        key=node_pool_key,
        check=pool_problem,
        build=lambda pool, key: Piece(key=key, manifest=azure.node_pool(spec, namespace, pool)),
        inline=inline.name,
    )
    pieces += pools
    secret = SecretKey(name=kubeconfig, key=KUBECONFIG_KEY, namespace=namespace)
    pieces += kubeconfig_pieces(name=kubeconfig, namespace=namespace, kubeconfig=secret)
    pieces.append(
        Piece(
            key=STORAGE_CLASS_KEY,
            manifest=wrap(
                azure.files_storage_class(STORAGE_CLASS),
                provider_config=kubeconfig,
                provider_config_kind="ProviderConfig",
                namespace=namespace,
                management_policies=ORPHAN_ON_DELETE,
            ),
            after=ON_CLUSTER,
        )
    )
    if any(pool.fabric == "InfiniBand" for pool in spec.node_pools):
        pieces.append(
            Piece(
                key=NETWORK_OPERATOR_KEY,
                manifest=release(
                    helm_chart("networkOperator"),
                    provider_config=kubeconfig,
                    namespace=namespace,
                    release_name="network-operator",
                    values=azure.network_operator_values([GPU_TOLERATION]),
                    management_policies=ORPHAN_ON_DELETE,
                ),
                after=ON_CLUSTER,
            )
        )
    return pieces, problems


def pool_problem(index: int, pool: AKSNodePool) -> FieldError | None:
    """Why ``pool`` cannot be sized as written, or None."""
    problem = size_problem(index, pool.node_count, pool.min_node_count, pool.max_node_count)
    if problem is None and pool.role == "System" and pool.max_node_count < 1:
        problem = FieldError(
            f"spec.nodePools[{index}].maxNodeCount", "an AKS System pool runs at least one node"
        )
    return problem
