"""provider-helm Releases: a chart from the pinned table, installed through a provider config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from modelplane_core.compose.platform.chart_versions import HelmChart
from modelplane_core.compose.platform.provider_configs import HELM_API_VERSION

RELEASE_API_VERSION: Final = HELM_API_VERSION
EXTERNAL_NAME: Final = "crossplane.io/external-name"
# Keep what was installed when the Release is dropped or deleted: used for pieces
# whose removal would strand data or cut a cluster off (e.g. its autoscaler).
ORPHAN_ON_DELETE: Final = ("Observe", "Create", "Update")


def release(
    chart: HelmChart,
    *,
    version: str | None = None,
    provider_config: str,
    namespace: str,
    release_name: str | None = None,
    values: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    skip_crds: bool = False,
    management_policies: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A namespaced ``Release`` of ``chart`` (``version`` overrides the pin).

    ``release_name`` fixes the Helm release name through the external-name
    annotation, so it stays short and stable across chart upgrades instead of
    being the generated name of the Release object.
    """
    metadata: dict[str, Any] = {"namespace": namespace}
    if release_name is not None:
        metadata["annotations"] = {EXTERNAL_NAME: release_name}
    if labels:
        metadata["labels"] = dict(labels)
    for_provider: dict[str, Any] = {
        "chart": {
            "name": chart.chart,
            "repository": chart.repository,
            "version": version or chart.version,
        },
        "namespace": chart.namespace,
    }
    if skip_crds:
        for_provider["skipCRDs"] = True
    if values:
        for_provider["values"] = dict(values)
    spec: dict[str, Any] = {
        "forProvider": for_provider,
        "providerConfigRef": {"kind": "ProviderConfig", "name": provider_config},
    }
    if management_policies is not None:
        spec["managementPolicies"] = list(management_policies)
    return {
        "apiVersion": RELEASE_API_VERSION,
        "kind": "Release",
        "metadata": metadata,
        "spec": spec,
    }
