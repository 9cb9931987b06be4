"""Every intended difference between ``api.validate`` and the reference XRDs, keyed by rule.

The differential test accepts a disagreement only when an entry here explains
it, and each entry explains it narrowly: a *stricter* entry matches the exact
problems we report that the reference does not (we reject, it accepts); an
*additive* entry matches the exact rejections of the reference for a field
we add (it rejects, we accept). Every entry carries a witness, a change to a
real example manifest that shows the difference, and its reason is written
out in ``docs/validation.md`` under the same rule name. Nothing here loosens
a comparison: a disagreement no entry matches fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

import attrs

Manifest = dict[str, Any]


@attrs.frozen
class Difference:
    rule: str
    direction: Literal["stricter", "additive"]
    kinds: tuple[str, ...]
    # stricter: matches our "path: message"; additive: matches the reference's "path: reason".
    pattern: re.Pattern[str]
    # (kind of the example to start from, change applied to a copy of it)
    witness: tuple[str, Callable[[Manifest], None]]

    def explains(self, kind: str, problem: str) -> bool:
        return kind in self.kinds and self.pattern.search(problem) is not None


def _engine0(m: Manifest) -> dict[str, Any]:
    engine: dict[str, Any] = m["spec"]["engines"][0]
    return engine


def _member0(m: Manifest) -> dict[str, Any]:
    member: dict[str, Any] = _engine0(m)["members"][0]
    return member


def _container0(m: Manifest) -> dict[str, Any]:
    container: dict[str, Any] = _member0(m)["template"]["spec"]["containers"][0]
    return container


def _device0(m: Manifest) -> dict[str, Any]:
    device: dict[str, Any] = m["spec"]["devices"][0]
    return device


def _pool0(m: Manifest) -> dict[str, Any]:
    pool: dict[str, Any] = m["spec"]["nodePools"][0]
    return pool


def _gang_without_cache(m: Manifest) -> None:
    member = _member0(m)
    leader = member | {"role": "Leader"}
    worker = member | {"role": "Worker", "worker": {"nodes": 2}}
    _engine0(m)["members"] = [leader, worker]
    m["spec"].pop("modelCacheRef", None)


def _ready_pool_with_bad_device(m: Manifest) -> None:
    m["status"] = {
        "gpuPools": [
            {
                "name": "gpu",
                "nodes": 1,
                "devices": [{"name": "gpu", "driver": "gpu.nvidia.com", "count": 0}],
            }
        ]
    }


ML = ("ModelDeployment", "ModelReplica")
DNS_LABEL = r"invalid value .*: must be a DNS label"

DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        rule="engine-name-dns-label",
        direction="stricter",
        kinds=ML,
        pattern=re.compile(rf"^spec\.engines\[\d+\]\.name: {DNS_LABEL}"),
        witness=("ModelDeployment", lambda m: _engine0(m).update(name="Qwen_3")),
    ),
    Difference(
        rule="device-request-name-dns-label",
        direction="stricter",
        kinds=ML,
        pattern=re.compile(
            r"^spec\.engines\[\d+\]\.members\[\d+\]\.(nodeSelector\.devices|deviceRequests)"
            rf"\[\d+\]\.name: {DNS_LABEL}"
        ),
        witness=(
            "ModelDeployment",
            lambda m: _member0(m)["nodeSelector"]["devices"][0].update(name="GPU"),
        ),
    ),
    Difference(
        rule="pool-name-dns-label",
        direction="stricter",
        kinds=("InferenceCluster",),
        pattern=re.compile(rf"^spec\.nodePools\[\d+\]\.name: ({DNS_LABEL}|must not be empty)"),
        witness=("InferenceCluster", lambda m: _pool0(m).update(name="H100_pool")),
    ),
    Difference(
        rule="device-driver-dns-subdomain",
        direction="stricter",
        kinds=("InferenceClass", "InferenceCluster"),
        pattern=re.compile(
            r"^(spec|status\.gpuPools\[\d+\])\.devices\[\d+\]\.driver: "
            r"invalid value .*: must be a DNS subdomain"
        ),
        witness=("InferenceClass", lambda m: _device0(m).update(driver="GPU.nvidia.com")),
    ),
    Difference(
        rule="device-attribute-names",
        direction="stricter",
        kinds=("InferenceClass", "InferenceCluster"),
        pattern=re.compile(
            r"\.devices\[\d+\](\.(attributes|capacity)\[[^\]]*\]: invalid (name|domain) "
            r"|: a device may publish at most 32 attributes and capacities in total)"
        ),
        witness=(
            "InferenceClass",
            lambda m: _device0(m)["attributes"].update({"cuda-version": {"string": "12.4"}}),
        ),
    ),
    Difference(
        rule="pod-template-spec-required",
        direction="stricter",
        kinds=ML,
        pattern=re.compile(
            r"\.members\[\d+\]\.template\.spec: (required field is missing|"
            r"expected an object, got null)$"
        ),
        witness=("ModelDeployment", lambda m: _member0(m).update(template={})),
    ),
    Difference(
        rule="gang-needs-model-cache",
        direction="stricter",
        kinds=("ModelDeployment",),
        pattern=re.compile(
            r"^spec\.modelCacheRef: a gang engine \(a Leader with Workers\) .* requires "
            r"spec\.modelCacheRef"
        ),
        witness=("ModelDeployment", _gang_without_cache),
    ),
    Difference(
        rule="endpoint-selector-not-empty",
        direction="stricter",
        kinds=("ModelService",),
        pattern=re.compile(
            r"^spec\.endpoints\[\d+\]\.selector\.matchLabels: "
            r"selector\.matchLabels must name at least one label"
        ),
        witness=(
            "ModelService",
            lambda m: m["spec"]["endpoints"][0]["selector"].update(matchLabels={}),
        ),
    ),
    Difference(
        rule="label-syntax",
        direction="stricter",
        kinds=("ModelDeployment", "ModelReplica", "ModelService", "ModelCache"),
        pattern=re.compile(
            r"(matchLabels|template\.metadata\.labels)\[[^\]]*\]: invalid label (key|value)"
            r"|template\.metadata\.annotations\[[^\]]*\]: invalid annotation key"
        ),
        witness=(
            "ModelService",
            lambda m: m["spec"]["endpoints"][0]["selector"]["matchLabels"].update(
                {"modelplane.ai/deployment": "-qwen"}
            ),
        ),
    ),
    Difference(
        rule="pod-labels-reserved-prefix",
        direction="stricter",
        kinds=ML,
        pattern=re.compile(
            r"template\.metadata\.labels\[modelplane\.ai/[^\]]*\]: "
            r"label keys must not use the reserved modelplane\.ai/ prefix"
        ),
        witness=(
            "ModelDeployment",
            lambda m: _member0(m)["template"].update(
                metadata={"labels": {"modelplane.ai/pool": "elsewhere"}}
            ),
        ),
    ),
    Difference(
        rule="pod-metadata-entries",
        direction="stricter",
        kinds=ML,
        pattern=re.compile(
            r"template\.metadata\.(labels|annotations): must have at most 32 entries"
        ),
        witness=(
            "ModelDeployment",
            lambda m: _member0(m)["template"].update(
                metadata={"annotations": {f"note-{i}": "x" for i in range(33)}}
            ),
        ),
    ),
    Difference(
        rule="env-value-source",
        direction="stricter",
        kinds=ML,
        pattern=re.compile(
            r"\.env\[\d+\](: set either value or valueFrom, not both"
            r"|\.valueFrom: valueFrom must set exactly one of secretKeyRef, configMapKeyRef, "
            r"fieldRef)$"
        ),
        witness=(
            "ModelDeployment",
            lambda m: _container0(m).update(
                env=[{"name": "HOST", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "a"}}}]
            ),
        ),
    ),
    Difference(
        rule="image-pull-secret-name",
        direction="stricter",
        kinds=ML,
        pattern=re.compile(r"\.imagePullSecrets\[\d+\]\.name: must not be empty$"),
        witness=(
            "ModelDeployment",
            lambda m: _member0(m)["template"]["spec"].update(imagePullSecrets=[{"name": ""}]),
        ),
    ),
    Difference(
        rule="endpoint-url",
        direction="stricter",
        kinds=("ModelEndpoint",),
        pattern=re.compile(r"^spec\.url: invalid URL "),
        witness=("ModelEndpoint", lambda m: m["spec"].update(url="api.together.xyz")),
    ),
    Difference(
        rule="endpoint-rewrite-path",
        direction="stricter",
        kinds=("ModelEndpoint",),
        pattern=re.compile(r"^spec\.rewritePath: must be an absolute path starting with '/'$"),
        witness=("ModelEndpoint", lambda m: m["spec"].update(rewritePath="v1")),
    ),
    Difference(
        rule="cluster-features-match-source",
        direction="stricter",
        kinds=("InferenceCluster",),
        pattern=re.compile(
            r"^spec\.nodePools\[\d+\]\.(fabric\.type: (EFA|InfiniBand) is only available on "
            r"|capacityBlock: capacity blocks are an EKS feature)"
        ),
        witness=(
            "InferenceCluster",
            lambda m: _pool0(m).update(
                fabric={"type": "InfiniBand", "infiniband": {"fabric": "fabric-2"}}
            ),
        ),
    ),
    Difference(
        rule="node-count-order",
        direction="stricter",
        kinds=("InferenceCluster",),
        pattern=re.compile(
            r"^spec\.nodePools\[\d+\]\.minNodeCount: minNodeCount must not exceed maxNodeCount$"
        ),
        witness=("InferenceCluster", lambda m: _pool0(m).update(minNodeCount=5, maxNodeCount=2)),
    ),
    Difference(
        rule="null-map-entry",
        direction="stricter",
        kinds=(
            "ModelDeployment",
            "ModelReplica",
            "ModelService",
            "ModelCache",
            "InferenceClass",
            "InferenceCluster",
        ),
        pattern=re.compile(r"\[[^\]]*\]: expected an? (string|object), got null$"),
        witness=("InferenceClass", lambda m: _device0(m)["capacity"].update(memory=None)),
    ),
    Difference(
        rule="status-gpu-pool-devices",
        direction="stricter",
        kinds=("InferenceCluster",),
        pattern=re.compile(r"^status\.gpuPools\[\d+\]\.devices\[\d+\]"),
        witness=("InferenceCluster", _ready_pool_with_bad_device),
    ),
    Difference(
        rule="gke-project-optional",
        direction="additive",
        kinds=("GKECluster", "InferenceCluster"),
        pattern=re.compile(r"^spec(\.cluster\.gke)?: 'project' is a required property$"),
        witness=("GKECluster", lambda m: m["spec"].pop("project")),
    ),
    Difference(
        rule="tolerations",
        direction="additive",
        kinds=("ModelDeployment",),
        pattern=re.compile(r"^spec\.tolerations: unknown field$"),
        witness=(
            "ModelDeployment",
            lambda m: m["spec"].update(tolerations=[{"key": "drain", "operator": "Exists"}]),
        ),
    ),
    Difference(
        rule="taints",
        direction="additive",
        kinds=("InferenceCluster",),
        pattern=re.compile(r"^spec\.taints: unknown field$"),
        witness=(
            "InferenceCluster",
            lambda m: m["spec"].update(taints=[{"key": "drain", "effect": "NoExecute"}]),
        ),
    ),
    Difference(
        rule="endpoint-weight",
        direction="additive",
        kinds=("ModelService",),
        pattern=re.compile(r"^spec\.endpoints\[\d+\]\.weight: unknown field$"),
        witness=("ModelService", lambda m: m["spec"]["endpoints"][0].update(weight=3)),
    ),
    Difference(
        rule="status-conditions",
        direction="additive",
        kinds=(
            "ModelDeployment",
            "ModelReplica",
            "ModelService",
            "ModelEndpoint",
            "ModelCache",
            "InferenceClass",
            "InferenceCluster",
            "InferenceGateway",
            "ServingStack",
            "GKECluster",
            "EKSCluster",
            "NebiusCluster",
        ),
        pattern=re.compile(r"^status\.conditions(\[\d+\]\.\w+)?: unknown field$"),
        witness=(
            "ModelDeployment",
            lambda m: m.update(status={"conditions": [{"type": "Ready", "status": "True"}]}),
        ),
    ),
)


def unexplained(kind: str, ours: list[str], reference: list[str]) -> tuple[str, list[str]] | None:
    """Why ours and the reference disagree, when no entry explains it; None when they agree.

    Returns the disagreement's direction and the problems no entry matches.
    """
    if bool(ours) == bool(reference):
        return None
    if ours:
        stricter = [d for d in DIFFERENCES if d.direction == "stricter"]
        left = [p for p in ours if not any(d.explains(kind, p) for d in stricter)]
        return ("we reject what the reference accepts", left) if left else None
    additive = [d for d in DIFFERENCES if d.direction == "additive"]
    left = [p for p in reference if not any(d.explains(kind, p) for d in additive)]
    return ("the reference rejects what we accept", left) if left else None
