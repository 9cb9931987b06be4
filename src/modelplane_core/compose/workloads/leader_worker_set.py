"""A gang engine: a LeaderWorkerSet of ``copies`` groups, each one leader and its workers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

LWS_API_VERSION: Final = "leaderworkerset.x-k8s.io/v1"


def leader_worker_set(
    *,
    name: str,
    namespace: str,
    copies: int,
    size: int,
    leader_template: Mapping[str, Any],
    worker_template: Mapping[str, Any],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """The LeaderWorkerSet; ``size`` counts the leader (1 + worker nodes).

    A gang whose pod restarts has lost its collective (NCCL, Ray), so the whole
    group is recreated rather than the one pod restarted.
    """
    return {
        "apiVersion": LWS_API_VERSION,
        "kind": "LeaderWorkerSet",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": copies,
            "leaderWorkerTemplate": {
                "size": size,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": dict(leader_template),
                "workerTemplate": dict(worker_template),
            },
        },
    }
