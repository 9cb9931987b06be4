"""GKECluster -> a GKE cluster, its node pools and ReadWriteMany storage, on GCP.

Composes the network, subnetwork, cluster (its kubeconfig written to a
connection Secret), one node pool per ``spec.nodePools`` entry (labelled
``modelplane.ai/pool=<name>``), a service account with a key and the
cluster-admin role, a provider-kubernetes ProviderConfig reaching the new
cluster, and -- once the cluster is up and the VPC's name is known -- the
Filestore StorageClass ``modelplane-rwx``.

Status publishes the Secrets a consumer needs (the kubeconfig and the service
account key) and the cache storage class, from the first pass: their names
are fixed, and the InferenceCluster only uses them once this composite is
Ready.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from modelplane_core.api.infrastructure import GKECluster
from modelplane_core.api.meta import Condition
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import (
    Composition,
    Observed,
    condition,
    hold_invalid,
    problems_of,
)
from modelplane_core.compose.names import child_name
from modelplane_core.compose.platform import gke_resources as gcp
from modelplane_core.compose.platform.gating import Piece, gate, held_piece
from modelplane_core.compose.platform.managed_resources import authenticated
from modelplane_core.compose.platform.messages import listing
from modelplane_core.compose.platform.observed_state import text_field
from modelplane_core.compose.platform.provider_configs import (
    KUBERNETES_API_VERSION,
    Identity,
    SecretKey,
    kubeconfig_provider_config,
)
from modelplane_core.compose.provider_kubernetes import wrap
from modelplane_core.compose.topology import SYSTEM_NAMESPACE

__all__ = ["STORAGE_CLASS", "compose", "kubeconfig_secret_name", "plan"]

STORAGE_CLASS: Final = "modelplane-rwx"
KUBECONFIG_KEY: Final = "kubeconfig"
SA_KEY_KEY: Final = "private_key"
CLUSTER_KEY: Final = "cluster"
NETWORK_KEY: Final = "network"
SERVICE_ACCOUNT_KEY: Final = "service-account"
IAM_BINDING_KEY: Final = "iam-binding"
PROVIDER_CONFIG_KEY: Final = "provider-config-kubernetes"
STORAGE_CLASS_KEY: Final = "storage-class-rwx"
ACCEPTED: Final = "Accepted"
CLUSTER_READY: Final = "ClusterReady"
NODE_POOLS_READY: Final = "NodePoolsReady"
ORPHAN: Final = ("Observe", "Create", "Update")


def node_pool_key(pool: str) -> str:
    return f"nodepool-{pool}"


def kubeconfig_secret_name(cluster: str) -> str:
    return child_name(cluster, "kubeconfig")


def service_account_key_secret_name(cluster: str) -> str:
    return child_name(cluster, "sa-key")


def compose(observed: Observed[GKECluster], cache: Cache | None = None) -> Composition:
    composite = observed.composite
    problems = problems_of(composite, cache)
    if problems:
        return hold_invalid(
            observed,
            ACCEPTED,
            problems,
            ready_keys=[k for k, r in observed.resources.items() if r.condition_true("Ready")],
        )
    gated = gate(observed, authenticated(plan(observed), composite.spec.credentials))
    pools = [node_pool_key(p.name) for p in composite.spec.node_pools]
    pending_pools = [k for k in pools if not gated.ready(k)]
    return Composition(
        resources=gated.resources,
        status=_status(composite),
        conditions=(
            condition(ACCEPTED, True, "Composed", "the spec is valid"),
            _cluster_condition(observed, composite),
            condition(NODE_POOLS_READY, True, "Available", f"{len(pools)} node pools are ready")
            if not pending_pools
            else condition(
                NODE_POOLS_READY, False, "Provisioning", f"waiting for {listing(pending_pools)}"
            ),
        ),
    )


def plan(observed: Observed[GKECluster]) -> list[Piece]:
    composite = observed.composite
    email = text_field(observed.resources.get(SERVICE_ACCOUNT_KEY), "status", "atProvider", "email")
    spec = composite.spec
    if spec.project is None and email is not None:
        # No project given: it is the credentials' one, which the service account
        # reveals once created; the project-scoped pieces wait for it.
        spec = attrs.evolve(spec, project=gcp.project_of_service_account(email))
    namespace = composite.metadata.namespace or SYSTEM_NAMESPACE
    name = composite.metadata.name or ""
    kubeconfig = kubeconfig_secret_name(name)
    sa_key = service_account_key_secret_name(name)
    pieces = [
        Piece(key=NETWORK_KEY, manifest=gcp.network(spec, namespace)),
        Piece(key="filestore-api", manifest=gcp.filestore_api(spec, namespace)),
        Piece(key="subnet", manifest=gcp.subnetwork(spec, namespace)),
        Piece(key=CLUSTER_KEY, manifest=gcp.cluster(spec, namespace, kubeconfig)),
        *(
            Piece(key=node_pool_key(pool.name), manifest=gcp.node_pool(spec, pool, namespace))
            for pool in spec.node_pools
        ),
        Piece(key=SERVICE_ACCOUNT_KEY, manifest=gcp.service_account(spec, namespace, name)),
        Piece(key="service-account-key", manifest=gcp.service_account_key(namespace, sa_key)),
        Piece(
            key=PROVIDER_CONFIG_KEY,
            manifest=kubeconfig_provider_config(
                api_version=KUBERNETES_API_VERSION,
                kind="ProviderConfig",
                name=kubeconfig,
                namespace=namespace,
                kubeconfig=SecretKey(name=kubeconfig, key=KUBECONFIG_KEY, namespace=namespace),
                identity=Identity(
                    type="GoogleApplicationCredentials",
                    secret=SecretKey(name=sa_key, key=SA_KEY_KEY, namespace=namespace),
                ),
            ),
            always_ready=True,
        ),
    ]
    if email is not None and spec.project is not None:
        pieces.append(
            Piece(key=IAM_BINDING_KEY, manifest=gcp.cluster_admin_binding(spec, namespace, email))
        )
    elif held := held_piece(observed, IAM_BINDING_KEY):
        pieces.append(held)
    network_name = text_field(
        observed.resources.get(NETWORK_KEY),
        "metadata",
        "annotations",
        "crossplane.io/external-name",
    )
    if network_name is not None:
        pieces.append(
            Piece(
                key=STORAGE_CLASS_KEY,
                manifest=wrap(
                    gcp.filestore_storage_class(network_name),
                    provider_config=kubeconfig,
                    provider_config_kind="ProviderConfig",
                    namespace=namespace,
                    management_policies=ORPHAN,
                ),
                after=(CLUSTER_KEY,),
            )
        )
    elif held := held_piece(observed, STORAGE_CLASS_KEY):
        pieces.append(held)
    return pieces


def _status(composite: GKECluster) -> dict[str, Any]:
    name = composite.metadata.name or ""
    return {
        "secrets": [
            {"type": "Kubeconfig", "name": kubeconfig_secret_name(name), "key": KUBECONFIG_KEY},
            {
                "type": "GoogleApplicationCredentials",
                "name": service_account_key_secret_name(name),
                "key": SA_KEY_KEY,
            },
        ],
        "cache": {"storageClassName": STORAGE_CLASS},
    }


def _cluster_condition(observed: Observed[GKECluster], composite: GKECluster) -> Condition:
    seen = observed.resources.get(CLUSTER_KEY)
    project = f"{composite.spec.project}/" if composite.spec.project else ""
    where = f"GKE cluster in {project}{composite.spec.region}"
    if seen is not None and seen.condition_true("Ready"):
        return condition(CLUSTER_READY, True, "ClusterRunning", f"the {where} is running")
    return condition(CLUSTER_READY, False, "Provisioning", f"the {where} is being created")
