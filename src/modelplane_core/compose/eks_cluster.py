"""EKSCluster -> an EKS cluster, its node groups and ReadWriteMany storage, on AWS.

Composes the VPC (public and private subnets per zone, internet and NAT
gateways, routes), IAM roles, the cluster with a ClusterAuth that writes the
kubeconfig Secret, one managed node group per ``spec.nodePools`` entry
(labelled ``modelplane.ai/pool=<name>``; a launch template where Capacity
Blocks or EFA need one), the add-ons, an EFS file system with a mount target
per zone, provider configs reaching the new cluster, and -- once the cluster
is up -- the StorageClass ``modelplane-rwx-efs``, the cluster autoscaler and,
for EFA pools, the EFA DRA driver.

A node group that cannot be built this pass (a zone outside the cluster's
zones, EFA security groups not known yet) keeps its observed form; nothing
that runs is dropped for want of an input.
"""

from __future__ import annotations

from typing import Final

from modelplane_core.api.infrastructure import EKSCluster, EKSClusterSpec, EKSNetworking
from modelplane_core.api.meta import Condition
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import (
    Composition,
    Event,
    Observed,
    condition,
    hold_invalid,
    problems_of,
)
from modelplane_core.compose.names import child_name
from modelplane_core.compose.platform import eks_network, eks_resources
from modelplane_core.compose.platform.chart_versions import helm_chart
from modelplane_core.compose.platform.gating import Piece, gate, held_piece
from modelplane_core.compose.platform.managed_resources import authenticated
from modelplane_core.compose.platform.messages import listing, summarize
from modelplane_core.compose.platform.observed_state import text_field
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

__all__ = ["STORAGE_CLASS", "compose", "eks_cluster_name", "kubeconfig_secret_name", "plan"]

STORAGE_CLASS: Final = "modelplane-rwx-efs"
KUBECONFIG_KEY: Final = "kubeconfig"
CLUSTER_KEY: Final = "cluster"
CLUSTER_AUTH_KEY: Final = "cluster-auth"
FILESYSTEM_KEY: Final = "efs-filesystem"
EFA_SG_KEY: Final = "efa-security-group"
STORAGE_CLASS_KEY: Final = "storage-class-rwx"
ACCEPTED: Final = "Accepted"
CLUSTER_READY: Final = "ClusterReady"
NODE_POOLS_READY: Final = "NodePoolsReady"
# Everything that runs on the cluster waits for it to be up and reachable.
ON_CLUSTER: Final = (CLUSTER_KEY, CLUSTER_AUTH_KEY, KUBERNETES_PC_KEY, HELM_PC_KEY)


def node_group_key(pool: str) -> str:
    return f"nodegroup-{pool}"


def launch_template_key(pool: str) -> str:
    return f"launch-template-{pool}"


def kubeconfig_secret_name(cluster: str) -> str:
    return child_name(cluster, "kubeconfig")


def eks_cluster_name(namespace: str, name: str) -> str:
    """The EKS cluster's name, unique per account and region (the autoscaler finds it by name)."""
    return child_name(namespace, name, "eks")


def compose(observed: Observed[EKSCluster], cache: Cache | None = None) -> Composition:
    composite = observed.composite
    problems = problems_of(composite, cache)
    zones, network_problems = eks_network.zones(composite.spec)
    problems.extend(network_problems)
    if problems:
        return hold_invalid(
            observed,
            ACCEPTED,
            problems,
            ready_keys=[
                k
                for k, r in observed.resources.items()
                if r.condition_true("Ready") or k in (KUBERNETES_PC_KEY, HELM_PC_KEY)
            ],
        )
    pieces, pool_problems = plan(observed, zones)
    gated = gate(observed, authenticated(pieces, composite.spec.credentials))
    groups = [node_group_key(p.name) for p in composite.spec.node_pools]
    pending = [k for k in groups if not gated.ready(k)]
    if pool_problems:
        pools = condition(NODE_POOLS_READY, False, "InvalidNodePool", summarize(pool_problems))
    elif pending:
        pools = condition(
            NODE_POOLS_READY, False, "Provisioning", f"waiting for {listing(pending)}"
        )
    else:
        pools = condition(
            NODE_POOLS_READY, True, "Available", f"{len(groups)} node groups are ready"
        )
    return Composition(
        resources=gated.resources,
        status={
            "secrets": [
                {
                    "type": "Kubeconfig",
                    "name": kubeconfig_secret_name(composite.metadata.name or ""),
                    "key": KUBECONFIG_KEY,
                }
            ],
            "cache": {"storageClassName": STORAGE_CLASS},
        },
        conditions=(
            condition(ACCEPTED, True, "Composed", "the spec is valid"),
            _cluster_condition(observed, composite.spec),
            pools,
        ),
        events=tuple(Event.warning("InvalidNodePool", p) for p in pool_problems),
    )


def plan(
    observed: Observed[EKSCluster], zones: list[eks_network.Zone]
) -> tuple[list[Piece], list[str]]:
    """Every resource of the cluster, and the node pools that cannot be built this pass."""
    composite = observed.composite
    spec = composite.spec
    namespace = composite.metadata.namespace or SYSTEM_NAMESPACE
    name = composite.metadata.name or ""
    cluster_name = eks_cluster_name(namespace, name)
    kubeconfig = kubeconfig_secret_name(name)
    keyed = eks_network.network_pieces(spec, namespace, name, zones)
    keyed.extend(eks_resources.iam_pieces(namespace))
    keyed.append((CLUSTER_KEY, eks_resources.cluster(spec, namespace, cluster_name)))
    keyed.append((CLUSTER_AUTH_KEY, eks_resources.cluster_auth(spec, namespace, kubeconfig)))
    keyed.extend(
        (f"addon-{addon}", eks_resources.addon(spec, namespace, addon))
        for addon in eks_resources.ADDONS
    )
    vpc_cidr = (spec.networking or EKSNetworking()).vpc_cidr
    keyed.extend(eks_resources.efs_pieces(spec, namespace, name, vpc_cidr, zones))
    keyed.append(
        (
            "pod-identity-cluster-autoscaler",
            eks_resources.pod_identity(
                spec, namespace, service_account="cluster-autoscaler", label="cluster-autoscaler"
            ),
        )
    )
    pieces = [Piece(key=key, manifest=manifest) for key, manifest in keyed]
    pool_pieces, problems = _node_pools(observed, spec, namespace, name, zones)
    pieces.extend(pool_pieces)
    secret = SecretKey(name=kubeconfig, key=KUBECONFIG_KEY, namespace=namespace)
    pieces += kubeconfig_pieces(name=kubeconfig, namespace=namespace, kubeconfig=secret)
    pieces.append(
        Piece(
            key="release-cluster-autoscaler",
            manifest=release(
                helm_chart("clusterAutoscaler"),
                provider_config=kubeconfig,
                namespace=namespace,
                release_name="cluster-autoscaler",
                values=eks_resources.autoscaler_values(spec, cluster_name),
                management_policies=ORPHAN_ON_DELETE,
            ),
            after=ON_CLUSTER,
        )
    )
    file_system = observed.resources.get(FILESYSTEM_KEY)
    file_system_id = text_field(file_system, "status", "atProvider", "id") or text_field(
        file_system, "metadata", "annotations", "crossplane.io/external-name"
    )
    if file_system_id is not None:
        pieces.append(
            Piece(
                key=STORAGE_CLASS_KEY,
                manifest=wrap(
                    eks_resources.efs_storage_class(file_system_id),
                    provider_config=kubeconfig,
                    provider_config_kind="ProviderConfig",
                    namespace=namespace,
                    management_policies=ORPHAN_ON_DELETE,
                ),
                after=ON_CLUSTER,
            )
        )
    elif held := held_piece(observed, STORAGE_CLASS_KEY):
        pieces.append(held)
    return pieces, problems


def _node_pools(
    observed: Observed[EKSCluster],
    spec: EKSClusterSpec,
    namespace: str,
    composite: str,
    zones: list[eks_network.Zone],
) -> tuple[list[Piece], list[str]]:
    by_zone = {zone.name: zone for zone in zones}
    pieces: list[Piece] = []
    problems: list[str] = []
    efa = any(pool.fabric == "EFA" for pool in spec.node_pools)
    security_groups = _efa_security_groups(observed) if efa else None
    if efa:
        pieces.extend(
            [
                Piece(
                    key=EFA_SG_KEY,
                    manifest=eks_resources.security_group(
                        spec,
                        namespace,
                        role_label="efa",
                        name=f"{composite}-efa",
                        description="EFA traffic between the nodes of a gang",
                    ),
                ),
                Piece(
                    key="efa-security-group-ingress",
                    manifest=eks_resources.self_rule(
                        spec, namespace, "SecurityGroupIngressRule", "efa"
                    ),
                ),
                Piece(
                    key="efa-security-group-egress",
                    manifest=eks_resources.self_rule(
                        spec, namespace, "SecurityGroupEgressRule", "efa"
                    ),
                ),
                Piece(
                    key="release-efa-dra-driver",
                    manifest=release(
                        helm_chart("awsDranet"),
                        provider_config=kubeconfig_secret_name(composite),
                        namespace=namespace,
                        release_name="aws-dranet",
                        values={"tolerations": [dict(GPU_TOLERATION)]},
                        management_policies=ORPHAN_ON_DELETE,
                    ),
                    after=ON_CLUSTER,
                ),
            ]
        )
    for index, pool in enumerate(spec.node_pools):
        key = node_group_key(pool.name)
        unknown = [z for z in pool.zones or () if z not in by_zone]
        if unknown:
            problems.append(
                f"spec.nodePools[{index}].zones: {listing(unknown)} is not one of the "
                f"cluster's zones ({listing(sorted(by_zone))}); node pool {pool.name!r} "
                "keeps its current form"
            )
            if held := held_piece(observed, key):
                pieces.append(held)
            continue
        subnets = [by_zone[z].private_subnet(composite) for z in pool.zones or ()]
        template = None
        after: tuple[str, ...] = ()
        if eks_resources.needs_launch_template(pool):
            template = child_name(composite, "lt", pool.name)
            template_key = launch_template_key(pool.name)
            after = (template_key,)
            if pool.fabric != "EFA" or security_groups is not None:
                pieces.append(
                    Piece(
                        key=template_key,
                        manifest=eks_resources.launch_template(
                            spec, namespace, pool, template, security_groups or ()
                        ),
                    )
                )
            elif held := held_piece(observed, template_key):
                pieces.append(held)
        pieces.append(
            Piece(
                key=key,
                manifest=eks_resources.node_group(
                    spec, namespace, pool, subnets=subnets, template=template
                ),
                after=after,
            )
        )
    return pieces, problems


def _efa_security_groups(observed: Observed[EKSCluster]) -> tuple[str, str] | None:
    """The EFA group's and the cluster's security group IDs, once both are known."""
    efa = text_field(observed.resources.get(EFA_SG_KEY), "status", "atProvider", "id")
    cluster = text_field(
        observed.resources.get(CLUSTER_KEY),
        "status",
        "atProvider",
        "vpcConfig",
        "clusterSecurityGroupId",
    )
    return (efa, cluster) if efa and cluster else None


def _cluster_condition(observed: Observed[EKSCluster], spec: EKSClusterSpec) -> Condition:
    seen = observed.resources.get(CLUSTER_KEY)
    if seen is not None and seen.condition_true("Ready"):
        return condition(
            CLUSTER_READY, True, "ClusterRunning", f"the EKS cluster in {spec.region} is running"
        )
    return condition(
        CLUSTER_READY, False, "Provisioning", f"the EKS cluster in {spec.region} is being created"
    )
