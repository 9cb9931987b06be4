"""A Standalone engine: a Deployment of ``copies`` identical single-pod engines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelplane_core.compose.workloads.labels import LABEL_WORKLOAD


def standalone_deployment(
    *,
    name: str,
    namespace: str,
    copies: int,
    template: Mapping[str, Any],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """The Deployment; ``template`` must carry ``LABEL_WORKLOAD: name`` (the selector).

    Rollouts replace one pod at a time and never surge: a GPU pool is usually
    sized to the pods the scheduler counted, so a surge pod would wait forever
    for a node that does not exist and stall the rollout.
    """
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": copies,
            "selector": {"matchLabels": {LABEL_WORKLOAD: name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
            },
            "template": dict(template),
        },
    }
