"""Small fleets as manifests, for simulation tests: bring-your-own clusters come up fast.

Everything is a plain manifest (what a scenario file holds), so a test reads
like the YAML a user would write, and the real composers publish every status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

API = "modelplane.ai/v1alpha1"


def gpu_class(name: str, memory: str = "46068Mi", count: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "InferenceClass",
        "metadata": {"name": name},
        "spec": {
            "devices": [
                {
                    "name": "gpu",
                    "driver": "gpu.nvidia.com",
                    "deviceClassName": "gpu.nvidia.com",
                    "count": count,
                    "attributes": {"architecture": {"string": "Ada Lovelace"}},
                    "capacity": {"memory": {"value": memory}},
                }
            ]
        },
    }


def cluster(
    name: str,
    pools: Sequence[tuple[str, str, int]],
    *,
    region: str = "us-east",
    cache_storage: str | None = "nfs-rwx",
) -> dict[str, Any]:
    """A bring-your-own cluster; ``pools`` are (pool name, class name, nodes)."""
    existing: dict[str, Any] = {"secretRef": {"name": f"{name}-kubeconfig", "key": "kubeconfig"}}
    if cache_storage:
        existing["cache"] = {"storageClassName": cache_storage}
    return {
        "apiVersion": API,
        "kind": "InferenceCluster",
        "metadata": {"name": name, "labels": {"modelplane.ai/region": region}},
        "spec": {
            "cluster": {
                "source": "Existing",
                "existing": existing,
            },
            "nodePools": [
                {"name": pool, "className": klass, "nodeCount": nodes}
                for pool, klass, nodes in pools
            ],
        },
    }


def deployment(
    name: str,
    replicas: int = 1,
    *,
    memory: str = "20Gi",
    namespace: str = "ml-team",
    selector: Mapping[str, str] | None = None,
    gang: int | None = None,
    cache: str | None = None,
) -> dict[str, Any]:
    """One GPU with at least ``memory`` per pod; with ``gang``, a Leader and that many Workers."""
    request = {
        "devices": [
            {
                "name": "gpu",
                "count": 1,
                "selectors": [
                    {
                        "cel": 'device.capacity["gpu.nvidia.com"].memory.compareTo('
                        f'quantity("{memory}")) >= 0'
                    }
                ],
            }
        ]
    }
    template = {"spec": {"containers": [{"name": "engine", "image": "vllm/vllm-openai:v0.23.0"}]}}
    members: list[dict[str, Any]]
    if gang is None:
        members = [{"role": "Standalone", "nodeSelector": request, "template": template}]
    else:
        members = [
            {"role": "Leader", "nodeSelector": request, "template": template},
            {
                "role": "Worker",
                "worker": {"nodes": gang},
                "nodeSelector": request,
                "template": template,
            },
        ]
    spec: dict[str, Any] = {"replicas": replicas, "engines": [{"name": "main", "members": members}]}
    if selector:
        spec["clusterSelector"] = {"matchLabels": dict(selector)}
    if cache:
        spec["modelCacheRef"] = {"name": cache}
    return {
        "apiVersion": API,
        "kind": "ModelDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def model_cache(name: str, namespace: str = "ml-team", size: int = 100) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "ModelCache",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "source": "HuggingFace",
            "huggingFace": {"repo": f"example/{name}", "sizeGiB": size},
        },
    }


def service(name: str, *deployments: str, namespace: str = "ml-team") -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "ModelService",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "endpoints": [
                {"selector": {"matchLabels": {"modelplane.ai/deployment": d}}} for d in deployments
            ]
        },
    }


def gateway() -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "InferenceGateway",
        "metadata": {"name": "default"},
        "spec": {
            "backend": "Traefik",
            "traefik": {
                "version": "40.2.0",
                "loadBalancer": "MetalLB",
                "metallb": {"addressPool": "172.18.255.200-172.18.255.250"},
            },
        },
    }


def small_fleet() -> list[dict[str, Any]]:
    """Two regions of one-GPU L40S nodes and a gateway: the smallest interesting fleet."""
    return [
        gateway(),
        gpu_class("l40s"),
        cluster("east", [("gpu", "l40s", 2)], region="us-east"),
        cluster("west", [("gpu", "l40s", 1)], region="us-west"),
    ]
