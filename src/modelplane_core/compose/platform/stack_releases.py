"""The Helm releases of the serving stack and the values each one needs from Modelplane.

Values are kept to what Modelplane depends on; everything else is the chart's
default, so an upgrade inherits upstream's judgement.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

# Engine, DRA and NFD pods must run on GPU nodes, which the clouds taint.
GPU_TOLERATION: Final = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
AI_GATEWAY_CONTROLLER: Final = "ai-gateway-controller.envoy-ai-gateway-system.svc.cluster.local"
AI_GATEWAY_EXTENSION_PORT: Final = 1063


@attrs.frozen(kw_only=True)
class StackRelease:
    """One release: its resource key, table component, Helm release name and prerequisites."""

    key: str
    component: str
    release_name: str
    after: tuple[str, ...] = ()
    skip_crds: bool = False


def envoy_gateway_values() -> dict[str, Any]:
    """Envoy Gateway with the AI Gateway extension, so routes can target InferencePools."""
    include_all = {"includeAll": True}
    return {
        "config": {
            "envoyGateway": {
                "extensionApis": {"enableBackend": True},
                "extensionManager": {
                    "hooks": {
                        "xdsTranslator": {
                            "translation": {
                                "listener": include_all,
                                "route": include_all,
                                "cluster": include_all,
                                "secret": include_all,
                            },
                            "post": ["Translation", "Cluster", "Route"],
                        }
                    },
                    "service": {
                        "fqdn": {
                            "hostname": AI_GATEWAY_CONTROLLER,
                            "port": AI_GATEWAY_EXTENSION_PORT,
                        }
                    },
                    "backendResources": [
                        {
                            "group": "inference.networking.k8s.io",
                            "kind": "InferencePool",
                            "version": "v1",
                        }
                    ],
                },
            }
        }
    }


def envoy_gateway_crds_values() -> dict[str, Any]:
    """Only Envoy Gateway's own CRDs: the Gateway API CRDs are installed at their own pin."""
    return {"crds": {"gatewayAPI": {"enabled": False}, "envoyGateway": {"enabled": True}}}


def cert_manager_values() -> dict[str, Any]:
    return {"crds": {"enabled": True}}


def prometheus_values() -> dict[str, Any]:
    """Prometheus that scrapes every PodMonitor/ServiceMonitor, not only this release's."""
    return {
        "fullnameOverride": "prometheus",
        "grafana": {"enabled": False},
        "alertmanager": {"enabled": False},
        "prometheus": {
            "prometheusSpec": {
                "podMonitorSelectorNilUsesHelmValues": False,
                "serviceMonitorSelectorNilUsesHelmValues": False,
            }
        },
    }


def node_feature_discovery_values() -> dict[str, Any]:
    """NFD must label GPU nodes too: the DRA kubelet plugin is scheduled by those labels."""
    return {"worker": {"tolerations": [dict(GPU_TOLERATION)]}}


def dra_driver_values(driver_root: str) -> dict[str, Any]:
    """The NVIDIA DRA driver for GPUs (not ComputeDomains), on the tainted GPU nodes.

    ``nvidiaDriverRoot`` is only set when the driver is not installed at ``/``
    (GKE installs it under ``/home/kubernetes/bin/nvidia``).
    """
    values: dict[str, Any] = {
        "gpuResourcesEnabledOverride": True,
        "resources": {"gpus": {"enabled": True}, "computeDomains": {"enabled": False}},
        "kubeletPlugin": {"tolerations": [dict(GPU_TOLERATION)]},
    }
    if driver_root != "/":
        values["nvidiaDriverRoot"] = driver_root
    return values
