"""ServingStack -> the serving substrate on one workload cluster.

Everything is installed remotely through two namespaced provider configs
built from the stack's Secrets: Helm releases (cert-manager, Envoy Gateway with
the AI Gateway extension, Prometheus, LeaderWorkerSet, Node Feature Discovery,
the NVIDIA DRA driver) through provider-helm, and plain objects (the Gateway
API and Inference Extension CRDs, the namespaces, the workload Gateway)
through provider-kubernetes. Chart versions come from the one pinned table
(:mod:`modelplane_core.compose.platform.chart_versions`), overridden by
``spec.versions``.

Installs are ordered (see :mod:`modelplane_core.compose.platform.gating`):
nothing remote is created before both provider configs exist, nothing that
needs a CRD before the CRD's installer is done; and nothing that exists is
ever dropped. ``status.gateway.address`` is the workload Gateway's first
address -- the address every replica on the cluster is reached at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from modelplane_core.api.errors import FieldError
from modelplane_core.api.infrastructure import ServingStack
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
from modelplane_core.compose.platform import crd_installer, stack_releases, workload_gateway
from modelplane_core.compose.platform.chart_versions import (
    container_image,
    helm_chart,
    manifest_bundle,
    stack_version,
)
from modelplane_core.compose.platform.gating import Gated, Piece, gate
from modelplane_core.compose.platform.messages import listing
from modelplane_core.compose.platform.observed_state import all_observed
from modelplane_core.compose.platform.provider_configs import (
    HELM_PC_KEY,
    KUBERNETES_PC_KEY,
    Identity,
    SecretKey,
    kubeconfig_pieces,
    unsupported_kubernetes_identity,
)
from modelplane_core.compose.platform.provider_helm import release
from modelplane_core.compose.platform.stack_releases import StackRelease
from modelplane_core.compose.provider_kubernetes import applied_manifest, wrap
from modelplane_core.compose.topology import (
    SYSTEM_NAMESPACE,
    WORKLOAD_GATEWAY_NAME,
    WORKLOAD_GATEWAY_NAMESPACE,
    WORKLOAD_NAMESPACE,
)

__all__ = ["compose", "plan", "provider_config_name"]

PROVIDER_CONFIG_KEYS: Final = (KUBERNETES_PC_KEY, HELM_PC_KEY)
CRDS_KEY: Final = "crds-gateway-api-inference"
GATEWAY_CLASS_KEY: Final = "gateway-class"
GATEWAY_KEY: Final = "gateway"
DRA_NAMESPACE_KEY: Final = "namespace-dra-driver"
DRA_QUOTA_KEY: Final = "dra-driver-critical-pods-quota"
ACCEPTED: Final = "Accepted"
COMPONENTS_READY: Final = "ComponentsReady"
GATEWAY_READY: Final = "GatewayReady"
LABEL_COMPONENT: Final = "modelplane.ai/component"
# Workload objects are never deleted with the stack: deleting the namespace would
# delete every replica's objects behind their owners' backs.
ORPHAN: Final = ("Observe", "Create", "Update")

RELEASES: Final = (
    StackRelease(
        key="release-cert-manager", component="certManager", release_name="mp-cert-manager"
    ),
    StackRelease(
        key="release-envoy-gateway-crds",
        component="envoyGatewayCrds",
        release_name="mp-envoy-gateway-crds",
    ),
    StackRelease(
        key="release-envoy-gateway",
        component="envoyGateway",
        release_name="mp-envoy-gateway",
        after=("release-envoy-gateway-crds", CRDS_KEY),
        skip_crds=True,
    ),
    StackRelease(
        key="release-ai-gateway-crds",
        component="envoyAiGatewayCrds",
        release_name="mp-ai-gateway-crds",
    ),
    StackRelease(
        key="release-ai-gateway",
        component="envoyAiGateway",
        release_name="mp-ai-gateway",
        after=("release-ai-gateway-crds", "release-envoy-gateway"),
        skip_crds=True,
    ),
    StackRelease(key="release-prometheus", component="prometheus", release_name="mp-prometheus"),
    StackRelease(
        key="release-leader-worker-set", component="leaderWorkerSet", release_name="mp-lws"
    ),
    StackRelease(
        key="release-node-feature-discovery",
        component="nodeFeatureDiscovery",
        release_name="mp-node-feature-discovery",
    ),
    StackRelease(
        key="release-nvidia-dra-driver",
        component="nvidiaDraDriver",
        release_name="mp-nvidia-dra-driver",
        after=(DRA_QUOTA_KEY,),
    ),
)

_VALUES: Final[Mapping[str, Callable[[ServingStack], dict[str, Any]]]] = {
    "certManager": lambda _: stack_releases.cert_manager_values(),
    "envoyGatewayCrds": lambda _: stack_releases.envoy_gateway_crds_values(),
    "envoyGateway": lambda _: stack_releases.envoy_gateway_values(),
    "prometheus": lambda _: stack_releases.prometheus_values(),
    "nodeFeatureDiscovery": lambda _: stack_releases.node_feature_discovery_values(),
    "nvidiaDraDriver": lambda s: stack_releases.dra_driver_values(s.spec.nvidia_driver_root),
}


def provider_config_name(stack: str) -> str:
    """Both provider configs (kubernetes and helm) share this name."""
    return child_name(stack, "cluster")


def compose(observed: Observed[ServingStack], cache: Cache | None = None) -> Composition:
    stack = observed.composite
    problems = spec_problems(stack, cache)
    if problems:
        ready = [k for k, r in observed.resources.items() if r.condition_true("Ready")]
        ready.extend(k for k in PROVIDER_CONFIG_KEYS if k in observed.resources)
        return hold_invalid(observed, ACCEPTED, problems, ready_keys=ready)
    pieces = plan(stack)
    configs = gate(observed, [p for p in pieces if p.key in PROVIDER_CONFIG_KEYS])
    # Nothing remote before both provider configs exist: they are how it gets there.
    remote = gate(
        observed,
        [p for p in pieces if p.key not in PROVIDER_CONFIG_KEYS],
        open_=all_observed(observed, PROVIDER_CONFIG_KEYS),
    )
    address = _gateway_address(observed)
    return Composition(
        resources=(*configs.resources, *remote.resources),
        status={"gateway": {"address": address}} if address else {},
        conditions=(
            condition(ACCEPTED, True, "Composed", "the spec is valid"),
            _components_condition(observed, remote),
            _gateway_condition(address),
        ),
    )


def spec_problems(stack: ServingStack, cache: Cache | None = None) -> list[FieldError]:
    problems = problems_of(stack, cache)
    for index, secret in enumerate(stack.spec.secrets):
        if secret.type == "Kubeconfig":
            continue
        why = unsupported_kubernetes_identity(secret.type)
        if why:
            problems.append(FieldError(f"spec.secrets[{index}].type", why))
    return problems


def plan(stack: ServingStack) -> list[Piece]:
    """Every piece of the stack, in install order, with its prerequisites."""
    namespace = stack.metadata.namespace or SYSTEM_NAMESPACE
    name = provider_config_name(stack.metadata.name or "")
    kubeconfig, identity = _access(stack, namespace)
    pieces = kubeconfig_pieces(
        name=name, namespace=namespace, kubeconfig=kubeconfig, identity=identity
    )
    pieces.extend(_objects(stack, namespace, name))
    versions = stack.spec.versions
    for entry in RELEASES:
        values = _VALUES.get(entry.component)
        pieces.append(
            Piece(
                key=entry.key,
                manifest=release(
                    helm_chart(entry.component),
                    version=stack_version(entry.component, versions),
                    provider_config=name,
                    namespace=namespace,
                    release_name=entry.release_name,
                    values=values(stack) if values else None,
                    labels={LABEL_COMPONENT: entry.component},
                    skip_crds=entry.skip_crds,
                ),
                after=entry.after,
            )
        )
    return pieces


def _objects(stack: ServingStack, namespace: str, provider_config: str) -> list[Piece]:
    """The provider-kubernetes Objects: CRDs, namespaces, quota, the workload Gateway."""

    def obj(
        key: str,
        manifest: Mapping[str, Any],
        *,
        after: tuple[str, ...] = (),
        ready_when: str | None = None,
        policies: tuple[str, ...] | None = None,
    ) -> Piece:
        return Piece(
            key=key,
            manifest=wrap(
                manifest,
                provider_config=provider_config,
                provider_config_kind="ProviderConfig",
                namespace=namespace,
                ready_when=ready_when,
                management_policies=policies,
            ),
            after=after,
        )

    versions = stack.spec.versions
    urls = [
        manifest_bundle("gatewayApi").url(stack_version("gatewayApi", versions)),
        manifest_bundle("inferenceExtension").url(),
    ]
    dra_namespace = helm_chart("nvidiaDraDriver").namespace
    gateway = stack.spec.gateway
    return [
        obj("namespace-system", workload_gateway.namespace(WORKLOAD_GATEWAY_NAMESPACE)),
        obj(
            "namespace-workloads",
            workload_gateway.namespace(WORKLOAD_NAMESPACE),
            policies=ORPHAN,
        ),
        obj(DRA_NAMESPACE_KEY, workload_gateway.namespace(dra_namespace)),
        obj(
            "crd-installer-service-account",
            crd_installer.service_account(WORKLOAD_GATEWAY_NAMESPACE),
            after=("namespace-system",),
        ),
        obj("crd-installer-cluster-role", crd_installer.cluster_role()),
        obj(
            "crd-installer-cluster-role-binding",
            crd_installer.cluster_role_binding(WORKLOAD_GATEWAY_NAMESPACE),
        ),
        obj(
            CRDS_KEY,
            crd_installer.job(
                namespace=WORKLOAD_GATEWAY_NAMESPACE,
                image=container_image("kubectl").reference(),
                urls=urls,
            ),
            after=(
                "crd-installer-service-account",
                "crd-installer-cluster-role",
                "crd-installer-cluster-role-binding",
            ),
            ready_when=crd_installer.COMPLETE_CEL,
        ),
        obj(DRA_QUOTA_KEY, _critical_pods_quota(dra_namespace), after=(DRA_NAMESPACE_KEY,)),
        obj(
            GATEWAY_CLASS_KEY,
            workload_gateway.gateway_class(gateway),
            after=(CRDS_KEY,),
            ready_when=workload_gateway.ACCEPTED_CEL,
        ),
        obj(
            GATEWAY_KEY,
            workload_gateway.gateway(gateway),
            after=(GATEWAY_CLASS_KEY, "namespace-system"),
            ready_when=workload_gateway.ADDRESSED_CEL,
        ),
    ]


def _critical_pods_quota(namespace: str) -> dict[str, Any]:
    """Lets the DRA driver's node-critical pods run outside kube-system.

    Some managed clusters (GKE) admit system-*-critical pods outside
    kube-system only under a quota scoped to those priority classes; elsewhere
    the quota is harmless.
    """
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "allow-critical-pods", "namespace": namespace},
        "spec": {
            "hard": {"pods": "1000"},
            "scopeSelector": {
                "matchExpressions": [
                    {
                        "scopeName": "PriorityClass",
                        "operator": "In",
                        "values": ["system-node-critical", "system-cluster-critical"],
                    }
                ]
            },
        },
    }


def _access(stack: ServingStack, namespace: str) -> tuple[SecretKey, Identity | None]:
    """The kubeconfig Secret and the first cloud identity Secret, if any."""
    kubeconfig: SecretKey | None = None
    identity: Identity | None = None
    for secret in stack.spec.secrets:
        key = SecretKey(name=secret.name, key=secret.key, namespace=secret.namespace or namespace)
        if secret.type == "Kubeconfig":
            kubeconfig = kubeconfig or key
        elif identity is None:
            identity = Identity(type=secret.type, secret=key)
    # Validation guarantees a Kubeconfig entry; fall back to the first Secret regardless.
    first = stack.spec.secrets[0]
    return (
        kubeconfig
        or SecretKey(name=first.name, key=first.key, namespace=first.namespace or namespace),
        identity,
    )


def _gateway_address(observed: Observed[ServingStack]) -> str | None:
    seen = observed.resources.get(GATEWAY_KEY)
    if seen is None:
        return None
    status = applied_manifest(seen.manifest).get("status")
    return workload_gateway.first_address(status) if isinstance(status, Mapping) else None


def _components_condition(observed: Observed[ServingStack], remote: Gated) -> Condition:
    if not all_observed(observed, PROVIDER_CONFIG_KEYS):
        return condition(
            COMPONENTS_READY,
            False,
            "WaitingForProviderConfigs",
            "installs start once the kubernetes and helm provider configs exist",
        )
    pending = remote.not_ready()
    waiting = [w.key for w in remote.waiting]
    if not pending and not waiting:
        return condition(COMPONENTS_READY, True, "Healthy", "every component is ready")
    parts = []
    if pending:
        parts.append(f"installing {listing(pending)}")
    if waiting:
        parts.append(f"queued {listing(waiting)}")
    return condition(COMPONENTS_READY, False, "Installing", "; ".join(parts))


def _gateway_condition(address: str | None) -> Condition:
    gateway = f"Gateway {WORKLOAD_GATEWAY_NAMESPACE}/{WORKLOAD_GATEWAY_NAME}"
    if address:
        return condition(GATEWAY_READY, True, "AddressAssigned", f"{gateway} is at {address}")
    return condition(
        GATEWAY_READY,
        False,
        "WaitingForAddress",
        f"{gateway} has no address yet (its load balancer is being provisioned)",
    )
