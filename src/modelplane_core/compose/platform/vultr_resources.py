"""The Vultr resources of a VultrCluster (provider-vultr, namespaced ``vke.vultr.m.upbound.io``).

VKE requires one node pool inline on the cluster, created with it and never
changed afterwards: it is the spec's first System pool. Every other pool is
a separate ``KubernetesNodePool``, so it can be added, resized or removed
without touching the cluster. Nodes are labelled ``modelplane.ai/pool=<name>``;
GPU pools are tainted so only GPU workloads land there.

VKE installs NVIDIA's GPU Operator on GPU nodes. Its device plugin would
hand out the same GPUs the serving stack's DRA driver binds, each keeping its
own ledger, so GPU pools carry the operator's opt-out label for the plugin;
the driver and the rest of the operator keep running.

Autoscaling is VKE's own (server-side): a pool with ``maxNodeCount`` scales
between ``minNodeCount`` (default ``nodeCount``) and it.
"""

from __future__ import annotations

from typing import Any, Final

from modelplane_core.api.infrastructure import VultrClusterSpec, VultrNodePool
from modelplane_core.api.meta import LABEL_POOL
from modelplane_core.compose.platform.managed_resources import managed, sibling

VKE: Final = "vke.vultr.m.upbound.io/v1beta1"
LABEL_GPU: Final = "modelplane.ai/gpu"
DEVICE_PLUGIN_OPT_OUT: Final = ("nvidia.com/gpu.deploy.device-plugin", "false")
GPU_TAINT: Final = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}


def _labels(pool: VultrNodePool) -> list[dict[str, str]]:
    labels = {LABEL_POOL: pool.name}
    if pool.role == "GPU" and pool.gpu is not None:
        labels[LABEL_GPU] = pool.gpu.accelerator_type
        labels[DEVICE_PLUGIN_OPT_OUT[0]] = DEVICE_PLUGIN_OPT_OUT[1]
    return [{"key": key, "value": value} for key, value in sorted(labels.items())]


def _autoscaling(pool: VultrNodePool) -> dict[str, Any]:
    if pool.max_node_count is None:
        return {}
    low = pool.min_node_count if pool.min_node_count is not None else pool.node_count
    return {"autoScaler": True, "minNodes": low, "maxNodes": pool.max_node_count}


def cluster(
    spec: VultrClusterSpec, namespace: str, label: str, inline: VultrNodePool, kubeconfig: str
) -> dict[str, Any]:
    """The control plane (highly available) with its inline pool; writes the kubeconfig."""
    return managed(
        VKE,
        "Kubernetes",
        namespace=namespace,
        for_provider={
            "label": label,
            "region": spec.region,
            "version": spec.kubernetes_version,
            "haControlplanes": True,
            "nodePools": {
                "label": inline.name,
                "plan": inline.plan,
                "nodeQuantity": inline.node_count,
                "labels": _labels(inline),
                **_autoscaling(inline),
            },
        },
        connection_secret=kubeconfig,
    )


def node_pool(namespace: str, pool: VultrNodePool) -> dict[str, Any]:
    """A separate pool; an autoscaled one is sized only at creation, then VKE owns its size."""
    scaling = _autoscaling(pool)
    for_provider: dict[str, Any] = {
        "clusterIdSelector": sibling(),
        "label": pool.name,
        "plan": pool.plan,
        "labels": _labels(pool),
        **scaling,
    }
    init: dict[str, Any] | None = None
    if scaling:
        init = {"nodeQuantity": pool.node_count}
    else:
        for_provider["nodeQuantity"] = pool.node_count
    if pool.role == "GPU":
        for_provider["taints"] = [dict(GPU_TAINT)]
    return managed(
        VKE,
        "KubernetesNodePool",
        namespace=namespace,
        for_provider=for_provider,
        init_provider=init,
    )
