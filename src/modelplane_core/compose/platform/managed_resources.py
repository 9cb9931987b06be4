"""Crossplane managed resources of the cloud providers (upbound GCP and AWS, namespaced APIs).

Every cloud resource a cluster composite creates is spelled the same way: the
namespaced API group (``*.m.upbound.io``), the composite's namespace, the
credentials it was given, and references to its siblings by controller
reference (``matchControllerRef``) so two clusters never pick each other's
network or role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

if TYPE_CHECKING:
    from modelplane_core.api.infrastructure import CloudCredentials
    from modelplane_core.compose.platform.gating import Piece

# The provider credentials every cloud resource uses unless the API grows a field for it:
# the ClusterProviderConfig named "default" (see the getting-started guides).
DEFAULT_CREDENTIALS: Final = {"kind": "ClusterProviderConfig", "name": "default"}
# Create, update and delete, but leave fields the cloud (or an autoscaler) owns alone.
NO_LATE_INITIALIZE: Final = ("Observe", "Create", "Update", "Delete")


def managed(
    api_version: str,
    kind: str,
    *,
    namespace: str,
    for_provider: Mapping[str, Any],
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    connection_secret: str | None = None,
    init_provider: Mapping[str, Any] | None = None,
    provider_config: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A managed resource of the composite's namespace, with the default credentials.

    ``init_provider`` fields are set at creation only (a pool's node count, which an
    autoscaler then owns): the resource is managed without ``LateInitialize``, or
    the provider would copy the cloud's value into ``forProvider`` and enforce it.
    """
    metadata: dict[str, Any] = {"namespace": namespace}
    if name is not None:
        metadata["name"] = name
    if labels:
        metadata["labels"] = dict(labels)
    spec: dict[str, Any] = {
        "forProvider": dict(for_provider),
        "providerConfigRef": dict(provider_config or DEFAULT_CREDENTIALS),
    }
    if init_provider is not None:
        spec["initProvider"] = dict(init_provider)
        spec["managementPolicies"] = list(NO_LATE_INITIALIZE)
    if connection_secret is not None:
        spec["writeConnectionSecretToRef"] = {"name": connection_secret}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def sibling(labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A selector for a resource of the same composite (optionally with these labels)."""
    selector: dict[str, Any] = {"matchControllerRef": True}
    if labels:
        selector["matchLabels"] = dict(labels)
    return selector


def with_credentials(
    manifest: Mapping[str, Any], credentials: Mapping[str, str] | None
) -> Mapping[str, Any]:
    """``manifest`` authenticated by ``credentials`` if it is a cloud managed resource.

    Only the cloud providers' resources (``*.upbound.io``) take the cluster's
    cloud credentials; provider-kubernetes and provider-helm objects reach the
    new cluster through its own provider configs and are left alone.
    """
    group = str(manifest.get("apiVersion", "")).split("/", 1)[0]
    spec = manifest.get("spec")
    if credentials is None or not group.endswith(".upbound.io") or not isinstance(spec, Mapping):
        return manifest
    return {**manifest, "spec": {**spec, "providerConfigRef": dict(credentials)}}


def authenticated(pieces: Sequence[Piece], credentials: CloudCredentials | None) -> list[Piece]:
    """Every cloud managed resource of ``pieces`` authenticated by the cluster's credentials."""
    ref = credentials.as_ref() if credentials is not None else None
    return [attrs.evolve(p, manifest=with_credentials(p.manifest, ref)) for p in pieces]
