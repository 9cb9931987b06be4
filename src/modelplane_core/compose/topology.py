"""Where composed things live, agreed on by every composer.

Several composers must name the same object without talking to each other:
the ServingStack creates the workload namespace and gateway that ModelReplica
routes attach to; the ModelDeployment composer publishes the URL path the
ModelReplica's route serves. These constants and functions are that contract.
"""

from __future__ import annotations

from typing import Final

# Control cluster: internal composites, secrets, the front-door gateway.
SYSTEM_NAMESPACE: Final = "modelplane-system"
CONTROL_GATEWAY_NAME: Final = "modelplane"
CONTROL_GATEWAY_NAMESPACE: Final = SYSTEM_NAMESPACE

# Workload clusters: every replica's and cache's objects live in one namespace the
# ServingStack creates; their names carry the control-plane namespace, so teams
# cannot collide there.
WORKLOAD_NAMESPACE: Final = "modelplane-workloads"
WORKLOAD_GATEWAY_NAME: Final = "inference-gateway"
WORKLOAD_GATEWAY_NAMESPACE: Final = SYSTEM_NAMESPACE

# Engines serve HTTP on this container port.
ENGINE_PORT: Final = 8000
# The ModelCache volume mount path inside every engine pod.
MODEL_MOUNT_PATH: Final = "/mnt/models"


def replica_path(namespace: str, replica: str) -> str:
    """The path prefix a replica is served under on its cluster's gateway."""
    return f"/{namespace}/{replica}/"


def service_path(namespace: str, service: str) -> str:
    """The path prefix a ModelService is served under on the control-plane gateway."""
    return f"/{namespace}/{service}/"
