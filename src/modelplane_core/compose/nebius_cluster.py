"""NebiusCluster -> a Nebius mk8s cluster, its node groups, its access and ReadWriteMany storage.

Composes the VPC network and subnet, the cluster (public endpoint; its
credential-less kubeconfig written to a connection Secret), a shared
filesystem with the cloud-init that mounts it, a GPU cluster per InfiniBand
fabric, one node group per ``spec.nodePools`` entry (plus Modelplane's
standard system pool when the spec names no System pool), and the cluster's access
(``platform/cluster_access.py``): a provider-helm ProviderConfig with the
Nebius service-account identity of ``spec.credentials``'s provider config, a
release creating a cluster-admin ServiceAccount and its token, and -- once
the token is known -- the kubeconfig Secret the status publishes, with
provider configs built on it. Through those, once the cluster is reachable:
the ``csi-mounted-fs-path`` driver and the StorageClass ``modelplane-rwx-fs``.

The composite is not Ready before its kubeconfig Secret exists, so nothing
downstream (the InferenceCluster's provider config, the serving stack) is
pointed at a Secret that is not there yet. A credentials problem holds the
access pieces as they are and says why on ``AccessReady``; a pool that cannot
be built keeps its node group.
"""

from __future__ import annotations

from typing import Final

import attrs

from modelplane_core.api.errors import FieldError
from modelplane_core.api.infrastructure import NebiusCluster, NebiusClusterSpec, NebiusNodePool
from modelplane_core.api.meta import Condition
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import (
    Composition,
    Observed,
    Requirement,
    condition,
    problems_of,
)
from modelplane_core.compose.names import child_name
from modelplane_core.compose.platform import cluster_access as access
from modelplane_core.compose.platform import nebius_resources as nebius
from modelplane_core.compose.platform.chart_versions import helm_chart
from modelplane_core.compose.platform.cloud_composite import (
    CLUSTER_KEY,
    KUBECONFIG_KEY,
    STORAGE_CLASS_KEY,
    cloud_composition,
    held_invalid,
    kubeconfig_secret_name,
    pool_keys,
    pool_pieces,
    pool_problems,
    size_problem,
)
from modelplane_core.compose.platform.cloud_pools import SYSTEM_NEBIUS_POOL
from modelplane_core.compose.platform.gating import Piece, held_piece
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

__all__ = ["STORAGE_CLASS", "compose", "composer_checks", "plan", "pool_problem"]

STORAGE_CLASS: Final = "modelplane-rwx-fs"
ACCESS_READY: Final = "AccessReady"
NETWORK_KEY: Final = "network"
FILESYSTEM_KEY: Final = "filesystem"
CLOUD_INIT_KEY: Final = "cloud-init"
BOOTSTRAP_PC_KEY: Final = "provider-config-bootstrap"
ACCESS_RELEASE_KEY: Final = "release-cluster-access"
KUBECONFIG_SECRET_KEY: Final = "kubeconfig"
CSI_RELEASE_KEY: Final = "release-csi-mounted-fs-path"
# Resources with no status of their own: ready as soon as they exist.
STATUSLESS: Final = (CLOUD_INIT_KEY, BOOTSTRAP_PC_KEY, KUBECONFIG_SECRET_KEY)
# What runs on the cluster waits for it and for the kubeconfig that reaches it.
ON_CLUSTER: Final = (CLUSTER_KEY, KUBECONFIG_SECRET_KEY, KUBERNETES_PC_KEY, HELM_PC_KEY)


def node_group_key(pool: str) -> str:
    return f"nodegroup-{pool}"


def gpu_cluster_key(fabric: str) -> str:
    return f"gpu-cluster-{fabric}"


def cluster_kubeconfig_name(composite: str) -> str:
    """The mk8s cluster's own connection Secret: endpoint and CA, no credentials."""
    return child_name(composite, "mk8s-kubeconfig")


def token_secret_name(composite: str) -> str:
    """The access release's connection Secret, holding the ServiceAccount's token."""
    return child_name(composite, "access-token")


def node_pools(spec: NebiusClusterSpec) -> tuple[NebiusNodePool, ...]:
    """The spec's pools, and Modelplane's standard system pool when the spec names none:
    the serving stack needs somewhere to run that is not a GPU node."""
    if any(pool.role == "System" for pool in spec.node_pools):
        return spec.node_pools
    return (*spec.node_pools, SYSTEM_NEBIUS_POOL)


def pool_problem(index: int, pool: NebiusNodePool) -> FieldError | None:
    return size_problem(index, pool.node_count, pool.min_node_count, pool.max_node_count)


def composer_checks(composite: NebiusCluster) -> list[FieldError]:
    """Everything this composer refuses beyond the API's checks (for ``modelplane validate``)."""
    return pool_problems(composite.spec.node_pools, pool_problem)


@attrs.frozen(kw_only=True)
class _Access:
    """The access pieces of this pass and where access stands."""

    pieces: tuple[Piece, ...]
    condition: Condition
    kubeconfig_composed: bool


def compose(observed: Observed[NebiusCluster], cache: Cache | None = None) -> Composition:
    composite = observed.composite
    namespace = composite.metadata.namespace or SYSTEM_NAMESPACE
    needed = access.credentials_requirement(composite.spec.credentials, namespace)
    problems = problems_of(composite, cache)
    if problems:
        return held_invalid(observed, problems, statusless=STATUSLESS, requirements=(needed,))
    pieces, pool_problems = plan(observed)
    granted = _access(observed, needed)
    return cloud_composition(
        observed,
        [*pieces, *granted.pieces],
        pool_problems,
        credentials=composite.spec.credentials,
        pool_keys=pool_keys(node_pools(composite.spec), node_group_key),
        where="Nebius mk8s cluster",
        storage_class=STORAGE_CLASS,
        noun="node groups",
        more=(granted.condition,),
        requirements=(needed,),
        # Not Ready before consumers can reach the cluster with the published Secret.
        ready=None if granted.kubeconfig_composed else False,
    )


def plan(observed: Observed[NebiusCluster]) -> tuple[list[Piece], list[str]]:
    """The cloud resources and the pieces on the cluster, and the pools that cannot be built."""
    composite = observed.composite
    spec = composite.spec
    namespace = composite.metadata.namespace or SYSTEM_NAMESPACE
    name = composite.metadata.name or ""
    cloud_init = child_name(name, "cloud-init")
    pieces = [
        Piece(key=NETWORK_KEY, manifest=nebius.network(namespace, name)),
        Piece(key="subnet", manifest=nebius.subnet(namespace, name)),
        Piece(
            key=CLUSTER_KEY,
            manifest=nebius.cluster(spec, namespace, name, cluster_kubeconfig_name(name)),
        ),
        Piece(key=FILESYSTEM_KEY, manifest=nebius.filesystem(namespace, name)),
        Piece(
            key=CLOUD_INIT_KEY,
            manifest=nebius.cloud_init_secret(namespace, cloud_init),
            always_ready=True,
        ),
        *(
            Piece(key=gpu_cluster_key(fabric), manifest=nebius.gpu_cluster(namespace, name, fabric))
            for fabric in nebius.fabrics(spec)
        ),
    ]
    pools, problems = pool_pieces(
        observed,
        node_pools(spec),
        key=node_group_key,
        check=pool_problem,
        build=lambda pool, key: Piece(
            key=key,
            manifest=nebius.node_group(
                spec, namespace, pool, name=f"{name}-{pool.name}", cloud_init=cloud_init
            ),
        ),
    )
    pieces += pools
    kubeconfig = kubeconfig_secret_name(name)
    secret = SecretKey(name=kubeconfig, key=KUBECONFIG_KEY, namespace=namespace)
    pieces += kubeconfig_pieces(name=kubeconfig, namespace=namespace, kubeconfig=secret)
    pieces += [
        Piece(
            key=CSI_RELEASE_KEY,
            manifest=release(
                helm_chart("csiMountedFsPath"),
                provider_config=kubeconfig,
                namespace=namespace,
                release_name="csi-mounted-fs-path",
                values=nebius.csi_values([GPU_TOLERATION]),
                management_policies=ORPHAN_ON_DELETE,
            ),
            after=ON_CLUSTER,
        ),
        Piece(
            key=STORAGE_CLASS_KEY,
            manifest=wrap(
                nebius.fs_storage_class(STORAGE_CLASS),
                provider_config=kubeconfig,
                provider_config_kind="ProviderConfig",
                namespace=namespace,
                management_policies=ORPHAN_ON_DELETE,
            ),
            after=ON_CLUSTER,
        ),
    ]
    return pieces, problems


def _access(observed: Observed[NebiusCluster], needed: Requirement) -> _Access:
    """The bootstrap provider config, the token release and the kubeconfig Secret."""
    composite = observed.composite
    namespace = composite.metadata.namespace or SYSTEM_NAMESPACE
    name = composite.metadata.name or ""
    bootstrap = child_name(name, "bootstrap")
    pieces = [
        Piece(
            key=ACCESS_RELEASE_KEY,
            manifest=access.access_release(
                provider_config=bootstrap,
                namespace=namespace,
                token_secret=token_secret_name(name),
            ),
            after=(CLUSTER_KEY, BOOTSTRAP_PC_KEY),
        )
    ]
    found = access.credentials_secret(observed, needed, namespace)
    if found.secret is not None:
        pieces.append(
            Piece(
                key=BOOTSTRAP_PC_KEY,
                manifest=access.bootstrap_provider_config(
                    name=bootstrap,
                    namespace=namespace,
                    kubeconfig=SecretKey(
                        name=cluster_kubeconfig_name(name), key=KUBECONFIG_KEY, namespace=namespace
                    ),
                    identity=found.secret,
                ),
                always_ready=True,
            )
        )
    elif held := held_piece(observed, BOOTSTRAP_PC_KEY):
        # The provider config went missing or changed shape: keep reaching the cluster as before.
        pieces.append(attrs.evolve(held, always_ready=True))
    kubeconfig = _assembled_kubeconfig(observed, name, namespace)
    if kubeconfig is not None:
        pieces.append(kubeconfig)
    elif held := held_piece(observed, KUBECONFIG_SECRET_KEY):
        kubeconfig = attrs.evolve(held, always_ready=True)
        pieces.append(kubeconfig)
    return _Access(
        pieces=tuple(pieces),
        condition=_access_condition(observed, found, issued=kubeconfig is not None),
        kubeconfig_composed=kubeconfig is not None,
    )


def _assembled_kubeconfig(
    observed: Observed[NebiusCluster], name: str, namespace: str
) -> Piece | None:
    cluster = observed.resources.get(CLUSTER_KEY)
    token_release = observed.resources.get(ACCESS_RELEASE_KEY)
    if cluster is None or token_release is None:
        return None
    endpoint = cluster.connection_details.get(access.KUBECONFIG_KEY)
    token = token_release.connection_details.get(access.TOKEN_KEY)
    if not endpoint or not token:
        return None
    text = access.token_kubeconfig(endpoint, token, name=name)
    if text is None:
        return None
    return Piece(
        key=KUBECONFIG_SECRET_KEY,
        manifest=access.kubeconfig_secret(
            name=kubeconfig_secret_name(name), namespace=namespace, kubeconfig=text
        ),
        always_ready=True,
    )


def _access_condition(
    observed: Observed[NebiusCluster], found: access.Credentials, *, issued: bool
) -> Condition:
    if found.problem is not None and not found.waiting:
        return condition(ACCESS_READY, False, "InvalidCredentials", found.problem)
    if issued:
        return condition(
            ACCESS_READY,
            True,
            "TokenIssued",
            f"the cluster is reached with the token of ServiceAccount "
            f"{access.ACCESS_NAMESPACE}/{access.SERVICE_ACCOUNT}",
        )
    if found.waiting:
        return condition(ACCESS_READY, "Unknown", "WaitingForCredentials", found.problem)
    cluster = observed.resources.get(CLUSTER_KEY)
    if cluster is None or not cluster.condition_true("Ready"):
        return condition(
            ACCESS_READY,
            False,
            "WaitingForCluster",
            "the access ServiceAccount is created once the cluster is up",
        )
    return condition(
        ACCESS_READY,
        False,
        "WaitingForToken",
        "waiting for the access ServiceAccount's token and the cluster's endpoint",
    )
