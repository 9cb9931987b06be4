"""A ModelCache on a workload cluster: its PVC, and the names replicas mount it by.

The ModelCache composer creates the PVC; the ModelReplica composer mounts it
by name without looking it up. Both call :func:`cache_pvc_name`, which is the
whole contract between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from modelplane_core.compose.names import child_name

# Readiness of the wrapped PVC: bound to a volume.
BOUND_CEL: Final = 'has(object.status.phase) && object.status.phase == "Bound"'


def cache_pvc_name(namespace: str, cache: str) -> str:
    """The PVC holding ModelCache ``namespace/cache`` on every cluster it stages to."""
    return child_name("modelcache", namespace, cache)


def hydration_job_name(namespace: str, cache: str) -> str:
    return child_name("modelcache", namespace, cache, "hydrate")


def auth_secret_name(namespace: str, cache: str) -> str:
    return child_name("modelcache", namespace, cache, "auth")


def cache_pvc(
    *, name: str, namespace: str, storage_class: str, size_gib: int, labels: Mapping[str, str]
) -> dict[str, Any]:
    """ReadWriteMany, so every pod of every replica on the cluster mounts the same copy."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": storage_class,
            "resources": {"requests": {"storage": f"{size_gib}Gi"}},
        },
    }
