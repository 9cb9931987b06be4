"""PrefillDecode routing: an InferencePool and the endpoint picker (EPP) that drives it.

The workload gateway asks the picker, per request, which pod to send it to.
Configured for prefill/decode, the picker chooses a decode pod and, when the
prompt is long enough not to be served from the prefix cache, a prefill pod
too; the routing sidecar on the decode pod then runs prefill remotely and
decode locally. Its scorers favour pods that already hold the prompt's prefix
in their KV cache, and short queues.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

import yaml

from modelplane_core.compose.topology import ENGINE_PORT
from modelplane_core.compose.workloads.images import ENDPOINT_PICKER_IMAGE
from modelplane_core.compose.workloads.labels import LABEL_ENDPOINT_PICKER, LABEL_SERVING

POOL_API_VERSION: Final = "inference.networking.k8s.io/v1"
PICKER_GRPC_PORT: Final = 9002
# The picker's default gRPC health port, named on the pod for probes and debugging.
PICKER_HEALTH_PORT: Final = 9003
PICKER_CONFIG_FILE: Final = "epp-config.yaml"
CONFIG_CHECKSUM_ANNOTATION: Final = "modelplane.ai/epp-config-checksum"
# vLLM's default KV-cache block size; the picker's prefix hashing must use the engine's.
DEFAULT_BLOCK_SIZE: Final = 16
_BLOCK_SIZE_FLAGS: Final = ("--block-size", "--page-size")


def kv_block_size(args: Sequence[str]) -> int:
    """The engine's KV block size from its own flags (``--block-size N`` or ``=N``), else 16.

    Only read, never set: the flag is the user's.
    """
    for index, arg in enumerate(args):
        for flag in _BLOCK_SIZE_FLAGS:
            if arg == flag and index + 1 < len(args):
                value = args[index + 1]
            elif arg.startswith(f"{flag}="):
                value = arg.split("=", 1)[1]
            else:
                continue
            return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_BLOCK_SIZE
    return DEFAULT_BLOCK_SIZE


def picker_config(block_size: int) -> str:
    """The EndpointPickerConfig for prefill/decode serving, as the YAML text the picker reads."""
    scorers = [
        {"pluginRef": "max-score-picker"},
        {"pluginRef": "prefix-cache-scorer", "weight": 2},
        {"pluginRef": "queue-scorer", "weight": 1},
    ]
    config = {
        "apiVersion": "llm-d.ai/v1alpha1",
        "kind": "EndpointPickerConfig",
        "plugins": [
            {
                "type": "approx-prefix-cache-producer",
                "parameters": {
                    "autoTune": False,
                    "blockSizeTokens": block_size,
                    "maxPrefixBlocksToMatch": 256,
                    "lruCapacityPerServer": 31250,
                },
            },
            {"type": "prefix-cache-scorer"},
            {"type": "queue-scorer"},
            {"type": "max-score-picker"},
            {"type": "prefill-filter"},
            {"type": "decode-filter"},
            {"type": "disagg-headers-handler"},
            # Prefill remotely only when this many prompt tokens miss the prefix cache.
            {"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": 16}},
            {
                "type": "disagg-profile-handler",
                "parameters": {"deciders": {"prefill": "prefix-based-pd-decider"}},
            },
        ],
        "schedulingProfiles": [
            {"name": "prefill", "plugins": [{"pluginRef": "prefill-filter"}, *scorers]},
            {"name": "decode", "plugins": [{"pluginRef": "decode-filter"}, *scorers]},
        ],
    }
    text: str = yaml.safe_dump(config, sort_keys=False)
    return text


def inference_pool(
    *, name: str, namespace: str, replica_id: str, picker: str, labels: Mapping[str, str]
) -> dict[str, Any]:
    """The pool of a replica's serving pods (both phases), picked among by ``picker``.

    FailOpen: if the picker is down the gateway still forwards to some pod of
    the pool, so a picker restart degrades routing instead of failing requests.
    """
    return {
        "apiVersion": POOL_API_VERSION,
        "kind": "InferencePool",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": {LABEL_SERVING: replica_id}},
            "targetPorts": [{"number": ENGINE_PORT}],
            "endpointPickerRef": {
                "name": picker,
                "port": {"number": PICKER_GRPC_PORT},
                "failureMode": "FailOpen",
            },
        },
    }


def endpoint_picker(
    *, name: str, namespace: str, pool: str, config: str, labels: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The picker's objects: serviceaccount, role, rolebinding, config, deployment, service."""

    def meta() -> dict[str, Any]:
        return {"name": name, "namespace": namespace, "labels": dict(labels)}

    selector = {LABEL_ENDPOINT_PICKER: name}
    return {
        "serviceaccount": {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta()},
        "role": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta(),
            "rules": _picker_rules(),
        },
        "rolebinding": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta(),
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        },
        "config": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta(),
            "data": {PICKER_CONFIG_FILE: config},
        },
        "deployment": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta(),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {
                        "labels": {**labels, **selector},
                        # The picker reads its config once; a new checksum rolls it out.
                        "annotations": {
                            CONFIG_CHECKSUM_ANNOTATION: hashlib.sha256(config.encode()).hexdigest()
                        },
                    },
                    "spec": _picker_pod(name, namespace, pool),
                },
            },
        },
        "service": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta(),
            "spec": {
                "selector": selector,
                "ports": [
                    {
                        "name": "grpc-ext-proc",
                        "port": PICKER_GRPC_PORT,
                        "targetPort": PICKER_GRPC_PORT,
                        "protocol": "TCP",
                        "appProtocol": "http2",
                    }
                ],
            },
        },
    }


def _picker_rules() -> list[dict[str, Any]]:
    read = ["get", "list", "watch"]
    return [
        {"apiGroups": [""], "resources": ["pods"], "verbs": read},
        {
            "apiGroups": ["inference.networking.k8s.io"],
            "resources": ["inferencepools"],
            "verbs": read,
        },
        # InferenceObjectives moved from the Inference Extension's alpha group to llm-d's;
        # the picker watches whichever its release knows.
        {
            "apiGroups": ["inference.networking.x-k8s.io", "llm-d.ai"],
            "resources": ["inferenceobjectives"],
            "verbs": read,
        },
    ]


def _picker_pod(name: str, namespace: str, pool: str) -> dict[str, Any]:
    return {
        "serviceAccountName": name,
        "containers": [
            {
                "name": "epp",
                "image": ENDPOINT_PICKER_IMAGE,
                "args": [
                    f"--pool-name={pool}",
                    f"--pool-namespace={namespace}",
                    "--pool-group=inference.networking.k8s.io",
                    f"--config-file=/config/{PICKER_CONFIG_FILE}",
                    f"--grpc-port={PICKER_GRPC_PORT}",
                ],
                "ports": [
                    {"name": "grpc", "containerPort": PICKER_GRPC_PORT, "protocol": "TCP"},
                    {"name": "grpc-health", "containerPort": PICKER_HEALTH_PORT, "protocol": "TCP"},
                ],
                "volumeMounts": [{"name": "config", "mountPath": "/config", "readOnly": True}],
            }
        ],
        "volumes": [{"name": "config", "configMap": {"name": name}}],
    }
