"""Wrapping workload-cluster manifests in provider-kubernetes Objects.

Crossplane reaches a workload cluster only through a provider: each manifest
meant for an inference cluster becomes a namespaced ``Object`` whose
``forProvider.manifest`` is the manifest and whose provider config carries the
cluster's kubeconfig.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

OBJECT_API_VERSION: Final = "kubernetes.m.crossplane.io/v1alpha1"
OBJECT_KIND: Final = "Object"
ProviderConfigKind = Literal["ProviderConfig", "ClusterProviderConfig"]

# Readiness of a wrapped Deployment or LeaderWorkerSet: its own Available condition.
AVAILABLE_CEL: Final = (
    'has(object.status.conditions) && object.status.conditions.exists(c, c.type == "Available"'
    ' && c.status == "True")'
)


def wrap(
    manifest: Mapping[str, Any],
    *,
    provider_config: str,
    provider_config_kind: ProviderConfigKind = "ClusterProviderConfig",
    namespace: str | None = None,
    ready_when: str | None = None,
    management_policies: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    references: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """A provider-kubernetes ``Object`` applying ``manifest`` to the target cluster.

    ``ready_when`` is a CEL query over the applied object (readiness policy
    ``DeriveFromCelQuery``); without it the Object is ready once created.
    ``references`` are the Object's ``spec.references``: values the provider
    patches into the manifest from objects on the control cluster.
    """
    spec: dict[str, Any] = {
        "forProvider": {"manifest": dict(manifest)},
        "providerConfigRef": {"kind": provider_config_kind, "name": provider_config},
    }
    if ready_when is not None:
        spec["readiness"] = {"policy": "DeriveFromCelQuery", "celQuery": ready_when}
    else:
        spec["readiness"] = {"policy": "SuccessfulCreate"}
    if management_policies is not None:
        spec["managementPolicies"] = list(management_policies)
    if references:
        spec["references"] = [dict(r) for r in references]
    metadata: dict[str, Any] = {}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    obj: dict[str, Any] = {"apiVersion": OBJECT_API_VERSION, "kind": OBJECT_KIND}
    if metadata:
        obj["metadata"] = metadata
    obj["spec"] = spec
    return obj


def applied_manifest(observed_object: Mapping[str, Any]) -> Mapping[str, Any]:
    """The wrapped object as the provider last saw it on the cluster (``atProvider``)."""
    status = observed_object.get("status")
    if not isinstance(status, Mapping):
        return {}
    at_provider = status.get("atProvider")
    if not isinstance(at_provider, Mapping):
        return {}
    manifest = at_provider.get("manifest")
    return manifest if isinstance(manifest, Mapping) else {}
