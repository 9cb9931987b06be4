"""Every third-party component Modelplane installs, pinned in one table.

A version bump is a one-line change here, reviewed on its own; no composer
spells a chart, repository, manifest URL or image tag itself. Where the API
lets a user choose a version (``ServingStack.spec.versions``,
``InferenceGateway.spec.traefik.version``) the choice overrides the pin.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs

from modelplane_core.api.infrastructure import StackVersions


@attrs.frozen(kw_only=True)
class HelmChart:
    """A Helm chart, the namespace it installs into and its pinned version."""

    chart: str
    repository: str
    version: str
    namespace: str


@attrs.frozen(kw_only=True)
class ManifestBundle:
    """A release asset of plain manifests (CRDs an upstream project ships no chart for)."""

    url_template: str
    version: str

    def url(self, version: str | None = None) -> str:
        return self.url_template.format(version=version or self.version)


@attrs.frozen(kw_only=True)
class ContainerImage:
    repository: str
    version: str

    def reference(self) -> str:
        return f"{self.repository}:{self.version}"


Component = HelmChart | ManifestBundle | ContainerImage

_ENVOY_OCI: Final = "oci://docker.io/envoyproxy"

COMPONENTS: Final[Mapping[str, Component]] = MappingProxyType(
    {
        # --- serving stack, on every workload cluster ---------------------------------
        "gatewayApi": ManifestBundle(
            url_template=(
                "https://github.com/kubernetes-sigs/gateway-api/releases/download/"
                "{version}/standard-install.yaml"
            ),
            version="v1.5.1",
        ),
        "inferenceExtension": ManifestBundle(
            url_template=(
                "https://github.com/kubernetes-sigs/gateway-api-inference-extension/releases/"
                "download/{version}/v1-manifests.yaml"
            ),
            version="v1.5.0",
        ),
        "kubectl": ContainerImage(repository="registry.k8s.io/kubectl", version="v1.35.0"),
        "certManager": HelmChart(
            chart="cert-manager",
            repository="https://charts.jetstack.io",
            version="v1.17.1",
            namespace="cert-manager",
        ),
        "envoyGatewayCrds": HelmChart(
            chart="gateway-crds-helm",
            repository=_ENVOY_OCI,
            version="v1.8.1",
            namespace="envoy-gateway-system",
        ),
        "envoyGateway": HelmChart(
            chart="gateway-helm",
            repository=_ENVOY_OCI,
            version="v1.8.1",
            namespace="envoy-gateway-system",
        ),
        "envoyAiGatewayCrds": HelmChart(
            chart="ai-gateway-crds-helm",
            repository=_ENVOY_OCI,
            version="v0.7.0",
            namespace="envoy-ai-gateway-system",
        ),
        "envoyAiGateway": HelmChart(
            chart="ai-gateway-helm",
            repository=_ENVOY_OCI,
            version="v0.7.0",
            namespace="envoy-ai-gateway-system",
        ),
        "prometheus": HelmChart(
            chart="kube-prometheus-stack",
            repository="https://prometheus-community.github.io/helm-charts",
            version="72.6.2",
            namespace="monitoring",
        ),
        "leaderWorkerSet": HelmChart(
            chart="lws",
            repository="oci://registry.k8s.io/lws/charts",
            version="v0.8.0",
            namespace="lws-system",
        ),
        "nodeFeatureDiscovery": HelmChart(
            chart="node-feature-discovery",
            repository="oci://registry.k8s.io/nfd/charts",
            version="0.18.3",
            namespace="node-feature-discovery",
        ),
        "nvidiaDraDriver": HelmChart(
            chart="dra-driver-nvidia-gpu",
            repository="oci://registry.k8s.io/dra-driver-nvidia/charts",
            version="0.4.0",
            namespace="dra-driver-nvidia-gpu",
        ),
        # --- control-plane gateway ------------------------------------------------------
        "traefik": HelmChart(
            chart="traefik",
            repository="https://traefik.github.io/charts",
            version="40.2.0",
            namespace="traefik-system",
        ),
        "metallb": HelmChart(
            chart="metallb",
            repository="https://metallb.github.io/metallb",
            version="0.14.9",
            namespace="metallb-system",
        ),
        # --- EKS clusters ---------------------------------------------------------------
        "clusterAutoscaler": HelmChart(
            chart="cluster-autoscaler",
            repository="https://kubernetes.github.io/autoscaler",
            version="9.57.0",
            namespace="kube-system",
        ),
        "awsDranet": HelmChart(
            chart="aws-dranet",
            repository="https://aws.github.io/eks-charts",
            version="1.0.0",
            namespace="kube-system",
        ),
        # --- AKS clusters -----------------------------------------------------------------
        "networkOperator": HelmChart(
            chart="network-operator",
            repository="https://helm.ngc.nvidia.com/nvidia",
            version="26.4.0",
            namespace="network-operator",
        ),
        # --- Nebius clusters --------------------------------------------------------------
        "csiMountedFsPath": HelmChart(
            chart="csi-mounted-fs-path",
            repository="oci://cr.eu-north1.nebius.cloud/mk8s/helm",
            version="0.1.6",
            namespace="kube-system",
        ),
        # A chart of plain manifests given as values: the Nebius cluster's access
        # bootstrap (see platform/cluster_access.py) installs its ServiceAccount with it.
        "rawManifests": HelmChart(
            chart="raw",
            repository="https://dysnix.github.io/charts",
            version="v0.3.2",
            namespace="kube-system",
        ),
    }
)

# Components whose version ServingStack.spec.versions may choose, and the field that does.
STACK_VERSION_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "gatewayApi": "gateway_api",
        "certManager": "cert_manager",
        "envoyGatewayCrds": "envoy_gateway",
        "envoyGateway": "envoy_gateway",
        "prometheus": "prometheus",
        "leaderWorkerSet": "leader_worker_set",
        "nodeFeatureDiscovery": "node_feature_discovery",
        "nvidiaDraDriver": "nvidia_dra_driver",
    }
)


def helm_chart(component: str) -> HelmChart:
    found = COMPONENTS[component]
    if not isinstance(found, HelmChart):
        raise TypeError(f"component {component!r} is not a Helm chart")
    return found


def manifest_bundle(component: str) -> ManifestBundle:
    found = COMPONENTS[component]
    if not isinstance(found, ManifestBundle):
        raise TypeError(f"component {component!r} is not a manifest bundle")
    return found


def container_image(component: str) -> ContainerImage:
    found = COMPONENTS[component]
    if not isinstance(found, ContainerImage):
        raise TypeError(f"component {component!r} is not a container image")
    return found


def stack_version(component: str, versions: StackVersions | None) -> str:
    """The version of ``component`` a ServingStack installs: the spec's choice, else the pin."""
    field = STACK_VERSION_FIELDS.get(component)
    if versions is not None and field is not None:
        chosen: str = getattr(versions, field)
        return chosen
    return COMPONENTS[component].version
