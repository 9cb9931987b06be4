"""Provider configs: how provider-kubernetes and provider-helm reach a cluster.

A workload cluster is reached through its kubeconfig Secret, optionally with a
cloud identity Secret when the kubeconfig alone cannot authenticate (a GKE
kubeconfig expects Google credentials, for instance). The control cluster is
reached with the provider's own in-cluster identity.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import attrs

from modelplane_core.compose.platform.gating import Piece

KUBERNETES_API_VERSION: Final = "kubernetes.m.crossplane.io/v1alpha1"
HELM_API_VERSION: Final = "helm.m.crossplane.io/v1beta1"
ProviderConfigKind = Literal["ProviderConfig", "ClusterProviderConfig"]

# The identity types the pinned providers accept (their CRDs' enums):
# provider-kubernetes v1.2.1 has no Nebius identity; provider-helm v1.4.0 does.
KUBERNETES_IDENTITY_TYPES: Final = frozenset(
    {"GoogleApplicationCredentials", "AWSWebIdentityCredentials"}
)
HELM_IDENTITY_TYPES: Final = KUBERNETES_IDENTITY_TYPES | {"NebiusServiceAccountCredentials"}
PROVIDER_KUBERNETES_VERSION: Final = "v1.2.1"


@attrs.frozen(kw_only=True)
class SecretKey:
    """One key of one Secret, where a provider reads credentials from."""

    name: str
    key: str
    namespace: str

    def as_ref(self) -> dict[str, str]:
        return {"name": self.name, "namespace": self.namespace, "key": self.key}


@attrs.frozen(kw_only=True)
class Identity:
    """A cloud identity layered on the kubeconfig (e.g. Google application credentials)."""

    type: str
    secret: SecretKey


def kubeconfig_provider_config(
    *,
    api_version: str,
    kind: ProviderConfigKind,
    name: str,
    kubeconfig: SecretKey,
    identity: Identity | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    """A provider config that authenticates with a kubeconfig Secret (and an identity)."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    spec: dict[str, Any] = {
        "credentials": {"source": "Secret", "secretRef": kubeconfig.as_ref()},
    }
    if identity is not None:
        spec["identity"] = {
            "type": identity.type,
            "source": "Secret",
            "secretRef": identity.secret.as_ref(),
        }
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


# The resource keys of the pair of provider configs a cluster composite writes.
KUBERNETES_PC_KEY: Final = "provider-config-kubernetes"
HELM_PC_KEY: Final = "provider-config-helm"


def kubeconfig_pieces(
    *, name: str, namespace: str, kubeconfig: SecretKey, identity: Identity | None = None
) -> list[Piece]:
    """The provider-kubernetes and provider-helm configs for one cluster, usable at once."""
    return [
        Piece(
            key=key,
            manifest=kubeconfig_provider_config(
                api_version=api_version,
                kind="ProviderConfig",
                name=name,
                namespace=namespace,
                kubeconfig=kubeconfig,
                identity=identity,
            ),
            always_ready=True,
        )
        for key, api_version in (
            (KUBERNETES_PC_KEY, KUBERNETES_API_VERSION),
            (HELM_PC_KEY, HELM_API_VERSION),
        )
    ]


def in_cluster_provider_config(*, api_version: str, name: str, namespace: str) -> dict[str, Any]:
    """A provider config for the cluster the provider itself runs in."""
    return {
        "apiVersion": api_version,
        "kind": "ProviderConfig",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"credentials": {"source": "InjectedIdentity"}},
    }


def unsupported_kubernetes_identity(identity_type: str) -> str | None:
    """Why provider-kubernetes cannot use ``identity_type``, or None when it can."""
    if identity_type in KUBERNETES_IDENTITY_TYPES:
        return None
    supported = ", ".join(sorted(KUBERNETES_IDENTITY_TYPES))
    return (
        f"identity type {identity_type} is not supported by provider-kubernetes "
        f"{PROVIDER_KUBERNETES_VERSION}, which Modelplane targets (supported: {supported})"
    )
