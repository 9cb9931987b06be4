"""PrefillDecode: what the decode engine's pods need beyond a Unified engine's.

Requests enter a decode pod through llm-d's routing sidecar on the engine
port (the InferencePool's target port). The sidecar asks the chosen prefill
pod to compute the KV cache, which the engines move between them with NIXL,
then forwards the request to the decode engine beside it. So the decode
engine must listen on another port, which it declares with its own
``--port`` flag; Modelplane reads that flag and never sets it.

Both engines' serving pods get the NIXL side channel's address (the pod IP)
and port, where vLLM's NIXL connector listens for its peer's KV handshake,
unless the user set them; their shared memory is the memory-backed
``/dev/shm`` every engine pod has. They also carry the labels llm-d's
routing reads: the phase role, ``llm-d.ai/inference-serving`` and ``app``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from modelplane_core.api.pods import Container
from modelplane_core.compose.topology import ENGINE_PORT
from modelplane_core.compose.workloads.images import ROUTING_SIDECAR_IMAGE
from modelplane_core.compose.workloads.labels import LABEL_LLMD_ROLE
from modelplane_core.compose.workloads.pod_template import readiness_probe

# Where the decode engine is expected when its flags do not say (llm-d's convention).
DEFAULT_DECODE_ENGINE_PORT: Final = 8001
ROUTING_SIDECAR: Final = "routing-sidecar"
PHASE_ROLE: Final = {"Prefill": "prefill", "Decode": "decode"}
LABEL_LLMD_INFERENCE_SERVING: Final = "llm-d.ai/inference-serving"
LABEL_APP: Final = "app"
NIXL_SIDE_CHANNEL_HOST_ENV: Final = "VLLM_NIXL_SIDE_CHANNEL_HOST"
NIXL_SIDE_CHANNEL_PORT_ENV: Final = "VLLM_NIXL_SIDE_CHANNEL_PORT"
NIXL_SIDE_CHANNEL_PORT: Final = 5557


def serving_labels(phase: str, replica_id: str) -> dict[str, str]:
    """What llm-d's prefill/decode filters and its tooling select a serving pod by."""
    return {
        LABEL_LLMD_ROLE: PHASE_ROLE[phase],
        LABEL_LLMD_INFERENCE_SERVING: "true",
        LABEL_APP: replica_id,
    }


def nixl_env() -> tuple[dict[str, Any], ...]:
    """The NIXL side channel: the pod's own IP and a fixed port, as vLLM reads them."""
    return (
        {
            "name": NIXL_SIDE_CHANNEL_HOST_ENV,
            "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
        },
        {"name": NIXL_SIDE_CHANNEL_PORT_ENV, "value": str(NIXL_SIDE_CHANNEL_PORT)},
    )


def declared_port(container: Container) -> int | None:
    """The port the engine's own ``--port`` flag sets, looking through args and command."""
    tokens: list[str] = []
    for part in (*(container.command or ()), *(container.args or ())):
        tokens.extend(part.split())
    return _port_flag(tokens)


def _port_flag(tokens: Sequence[str]) -> int | None:
    for index, token in enumerate(tokens):
        if token == "--port" and index + 1 < len(tokens):
            value = tokens[index + 1]
        elif token.startswith("--port="):
            value = token.split("=", 1)[1]
        else:
            continue
        if value.isdigit() and 0 < int(value) < 65536:
            return int(value)
    return None


def decode_engine_port(container: Container) -> int:
    return declared_port(container) or DEFAULT_DECODE_ENGINE_PORT


def decode_port_problem(container: Container) -> str | None:
    """Why the decode engine's port would not work beside the sidecar, or None."""
    port = declared_port(container)
    if port == ENGINE_PORT:
        return (
            f"the decode engine listens on port {ENGINE_PORT}, which the routing sidecar needs; "
            f"start it with --port={DEFAULT_DECODE_ENGINE_PORT}"
        )
    if port is None:
        return (
            f"the decode engine sets no --port; the routing sidecar takes port {ENGINE_PORT} and "
            f"forwards to {DEFAULT_DECODE_ENGINE_PORT}, so start it with "
            f"--port={DEFAULT_DECODE_ENGINE_PORT}"
        )
    return None


def routing_sidecar(engine_port: int) -> dict[str, Any]:
    """The sidecar that receives a decode pod's requests and sequences prefill then decode."""
    return {
        "name": ROUTING_SIDECAR,
        "image": ROUTING_SIDECAR_IMAGE,
        "args": ["--secure-proxy=false", "--kv-connector=nixlv2", f"--vllm-port={engine_port}"],
        "ports": [{"containerPort": ENGINE_PORT, "protocol": "TCP"}],
        "readinessProbe": readiness_probe(ENGINE_PORT),
    }
