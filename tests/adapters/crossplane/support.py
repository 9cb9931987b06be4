"""Inputs for the Crossplane adapter tests: example composites, a fleet, Crossplane's additions.

Composites come from ``../shared/examples`` (read at test time); the fleet a
ModelDeployment schedules onto is built through the real API types, with the
status an InferenceCluster composer would publish.
"""

from __future__ import annotations

import copy
import socket
from collections.abc import Mapping
from typing import Any

import yaml

from modelplane_core import api
from tests.support import REPO_ROOT, shared_path

GPU = "gpu.nvidia.com"
OWN_EXAMPLES = REPO_ROOT / "examples" / "infrastructure"


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def example(*parts: str) -> dict[str, Any]:
    """The single document of an example manifest, as raw wire data."""
    (doc,) = [d for d in yaml.safe_load_all(shared_path("examples", *parts).read_text()) if d]
    return dict(doc)


def reference_example(cls: type[api.Resource]) -> dict[str, Any]:
    """The reference-page example of ``cls`` (one per kind).

    Kinds the documentation has no page for (AKSCluster, VultrCluster) use the
    project's own example under ``examples/infrastructure``, so their tests run
    with or without ../shared.
    """
    own = OWN_EXAMPLES / f"{cls.kind_info.plural}.yaml"
    if own.exists():
        (doc,) = [d for d in yaml.safe_load_all(own.read_text()) if d]
        return dict(doc)
    return example("reference", f"{cls.kind_info.plural}.yaml")


def h200_cluster(name: str, *, nodes: int = 4, region: str = "us-east") -> dict[str, Any]:
    """A ready InferenceCluster with one pool of 8x H200 nodes and RWX cache storage, as its
    composer publishes it."""
    device = api.Device(
        name="gpu",
        driver=GPU,
        device_class_name=GPU,
        count=8,
        attributes={"architecture": api.DeviceAttribute(string="Hopper")},
        capacity={"memory": api.DeviceCapacity(value="141Gi")},
    )
    cluster = api.InferenceCluster(
        metadata=api.ObjectMeta(name=name, labels={"modelplane.ai/region": region}),
        spec=api.InferenceClusterSpec(
            cluster=api.ClusterSourceSpec(
                source="Existing",
                existing=api.ExistingCluster(
                    secret_ref=api.KubeconfigSecretRef(name=f"{name}-kc"),
                    cache=api.ExistingCacheSettings(storage_class_name="nfs-rwx"),
                ),
            )
        ),
        status=api.InferenceClusterStatus(
            provider_config_ref=api.ProviderConfigReference(name=f"{name}-pc"),
            gateway=api.GatewayStatus(address="34.55.100.10"),
            cache=api.CacheStorageStatus(storage_class_name="nfs-rwx"),
            gpu_pools=(api.GpuPool(name="h200", nodes=nodes, devices=(device,)),),
            conditions=(api.Condition(type="Ready", status="True"),),
        ),
    )
    return api.to_dict(cluster)


def as_crossplane_observes(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """``manifest`` as a Crossplane v2 control plane sends it: machinery and server fields added."""
    observed = copy.deepcopy(dict(manifest))
    metadata = observed.setdefault("metadata", {})
    metadata.update(
        {
            "uid": "0f9e6c1a-3b7d-4f55-9a1e-2c4b8d7e6f10",
            "resourceVersion": "48213",
            "generation": 3,
            "creationTimestamp": "2026-08-01T10:00:00Z",
            "finalizers": ["composite.apiextensions.crossplane.io"],
            "managedFields": [
                {"manager": "kubectl", "operation": "Update", "apiVersion": "v1", "fieldsV1": {}}
            ],
        }
    )
    spec = observed.setdefault("spec", {})
    spec["crossplane"] = {
        "compositionRef": {"name": f"{observed['kind'].lower()}s.modelplane.ai"},
        "compositionRevisionRef": {"name": "rev-1"},
        "compositionUpdatePolicy": "Automatic",
        "resourceRefs": [{"apiVersion": "v1", "kind": "Service", "name": "x"}],
    }
    status = observed.setdefault("status", {})
    status["crossplane"] = {"connectionDetails": {"lastPublishedTime": "2026-08-01T10:00:00Z"}}
    status["conditions"] = [
        {
            "type": "Synced",
            "status": "True",
            "reason": "ReconcileSuccess",
            "lastTransitionTime": "2026-08-01T10:00:00Z",
            "observedGeneration": 3,
        },
        {
            "type": "Ready",
            "status": "False",
            "reason": "Creating",
            "lastTransitionTime": "2026-08-01T10:00:00Z",
        },
    ]
    return observed


def huge_selector(deployment: dict[str, Any], size: int = 50 * 1024) -> dict[str, Any]:
    """``deployment`` with its first device selector replaced by ``size`` bytes of CEL."""
    xr = copy.deepcopy(deployment)
    chunk = "device.driver == 'gpu.nvidia.com' || "
    expression = chunk * (size // len(chunk) + 1) + "true"
    device = xr["spec"]["engines"][0]["members"][0]["nodeSelector"]["devices"][0]
    device["selectors"] = [{"cel": expression}]
    return xr
