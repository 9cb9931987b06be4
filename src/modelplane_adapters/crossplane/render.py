"""``modelplane render``: the function's exact code path, offline, like ``crossplane render``.

A render builds real ``RunFunctionRequest`` protobufs (:func:`.translate.build_request`)
and hands them to a runner — :func:`.function.run_function` by default, or a
gRPC stub for a live server — so what it prints is what Crossplane would get.
It also plays Crossplane's part in the required-resources handshake the way
Crossplane's ``FetchingFunctionRunner`` does: call the function; stop at a Fatal
result, or when the requirements equal the previous call's (none at all, on the
first call, equals "no previous"); otherwise resolve every selector against the
objects given with ``--required`` (apiVersion and kind, then name or labels, then
namespace, with Crossplane's rules), replace the request's required resources
with what was found, carry the response's context into the next request, and
call again — at most ``MAX_REQUIREMENTS_ITERATIONS + 1`` calls, as Crossplane.

Observed composed resources are keyed by their
``crossplane.io/composition-resource-name`` annotation, as Crossplane keys them.

The output is one YAML document: the desired composite (readiness and status),
conditions, events (function results), the final requirements and the desired
composed resources with their readiness. Protobuf maps have no order, so every
mapping is printed in a fixed key order: the same inputs always print the same
text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import attrs
import grpc
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from modelplane_adapters.crossplane.function import run_function
from modelplane_adapters.crossplane.structs import canonical, from_struct
from modelplane_adapters.crossplane.translate import build_request, describe
from modelplane_core.api.yamlio import dump_document

COMPOSITION_RESOURCE_NAME: Final = "crossplane.io/composition-resource-name"
# Crossplane's MaxRequirementsIterations; its loop runs iterations 0..5 inclusive.
MAX_REQUIREMENTS_ITERATIONS: Final = 5
DEFAULT_MAX_CALLS: Final = MAX_REQUIREMENTS_ITERATIONS + 1
CALL_TIMEOUT_SECONDS: Final = 30

Runner = Callable[[fnv1.RunFunctionRequest], fnv1.RunFunctionResponse]

_SEVERITY: Final = {
    fnv1.SEVERITY_FATAL: "Fatal",
    fnv1.SEVERITY_WARNING: "Warning",
    fnv1.SEVERITY_NORMAL: "Normal",
}
_STATUS: Final = {
    fnv1.STATUS_CONDITION_TRUE: "True",
    fnv1.STATUS_CONDITION_FALSE: "False",
    fnv1.STATUS_CONDITION_UNKNOWN: "Unknown",
}
_TARGET: Final = {
    fnv1.TARGET_COMPOSITE: "Composite",
    fnv1.TARGET_COMPOSITE_AND_CLAIM: "CompositeAndClaim",
}
_READY: Final = {fnv1.READY_TRUE: True, fnv1.READY_FALSE: False}


class RenderInputError(ValueError):
    """Inputs that cannot be rendered (an observed resource without its key, a duplicate)."""


class RenderCallError(RuntimeError):
    """A running function could not be called (unreachable, refused, timed out)."""


@attrs.frozen(kw_only=True)
class RenderInputs:
    """What ``crossplane render`` would be given: the XR, what exists, what may be fetched."""

    composite: Mapping[str, Any]
    observed: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    available: tuple[Mapping[str, Any], ...] = ()
    context: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class RenderResult:
    """The last response, and how the handshake went."""

    composite: Mapping[str, Any]
    response: fnv1.RunFunctionResponse
    calls: int
    # False when the call bound was hit while the requirements were still changing.
    stable: bool

    @property
    def fatal(self) -> bool:
        return any(r.severity == fnv1.SEVERITY_FATAL for r in self.response.results)

    def to_dict(self) -> dict[str, Any]:
        rendered = summarize(self.response, self.composite)
        rendered["calls"] = self.calls
        return rendered

    def to_yaml(self) -> str:
        return dump_document(self.to_dict())


def render(
    inputs: RenderInputs, *, runner: Runner = run_function, max_calls: int = DEFAULT_MAX_CALLS
) -> RenderResult:
    """Call the function until its requirements are stable, as Crossplane does."""
    required: dict[str, list[dict[str, Any]]] = {}
    context: Mapping[str, Any] = inputs.context
    previous: fnv1.Requirements | None = None
    rsp = fnv1.RunFunctionResponse()
    calls = max(1, max_calls)
    for call in range(1, calls + 1):
        req = build_request(
            inputs.composite, resources=inputs.observed, required=required, context=context
        )
        rsp = runner(req)
        if any(r.severity == fnv1.SEVERITY_FATAL for r in rsp.results):
            return RenderResult(composite=inputs.composite, response=rsp, calls=call, stable=True)
        current = rsp.requirements if rsp.HasField("requirements") else None
        if current == previous:
            return RenderResult(composite=inputs.composite, response=rsp, calls=call, stable=True)
        previous = current
        required = {
            key: resolve(selector, inputs.available)
            for key, selector in sorted(rsp.requirements.resources.items())
        }
        context = from_struct(rsp.context) if rsp.HasField("context") else {}
    return RenderResult(composite=inputs.composite, response=rsp, calls=calls, stable=False)


def render_remote(
    inputs: RenderInputs, address: str, *, max_calls: int = DEFAULT_MAX_CALLS
) -> RenderResult:
    """:func:`render` against a running function (``modelplane function serve --insecure``)."""
    with grpc.insecure_channel(address) as channel:
        stub = grpcv1.FunctionRunnerServiceStub(channel)  # type: ignore[no-untyped-call]

        def call(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
            try:
                rsp: fnv1.RunFunctionResponse = stub.RunFunction(req, timeout=CALL_TIMEOUT_SECONDS)
            except grpc.RpcError as exc:
                code = exc.code() if isinstance(exc, grpc.Call) else None
                detail = exc.details() if isinstance(exc, grpc.Call) else str(exc)
                raise RenderCallError(
                    f"calling the function at {address} failed: {code}: {detail}"
                ) from exc
            return rsp

        return render(inputs, runner=call, max_calls=max_calls)


def resolve(
    selector: fnv1.ResourceSelector, available: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The objects Crossplane would return for ``selector``, in its order (``namespace/name``)."""
    found = [dict(obj) for obj in available if selects(selector, obj)]
    return sorted(found, key=_identity)


def selects(selector: fnv1.ResourceSelector, obj: Mapping[str, Any]) -> bool:
    """Crossplane's matching: type, then namespace, then name or labels.

    As Crossplane's fetcher does it: a name is a ``Get`` of namespace/name, so
    without a namespace it finds a cluster-scoped object only; labels are a
    ``List``, across every namespace unless one is given; a selector with
    neither lists every object of the type (recent Crossplane; older releases
    refuse such a selector, and this function never sends one).
    """
    if obj.get("apiVersion") != selector.api_version or obj.get("kind") != selector.kind:
        return False
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    namespace = metadata.get("namespace") or ""
    match = selector.WhichOneof("match")
    if match == "match_name":
        return namespace == selector.namespace and metadata.get("name") == selector.match_name
    if selector.namespace and namespace != selector.namespace:
        return False
    if match == "match_labels":
        labels = metadata.get("labels")
        labels = labels if isinstance(labels, Mapping) else {}
        return all(labels.get(k) == v for k, v in selector.match_labels.labels.items())
    return True


def _identity(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    return f"{metadata.get('namespace') or ''}/{metadata.get('name') or ''}"


def observed_by_key(manifests: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Observed composed resources keyed by their composition-resource-name annotation."""
    keyed: dict[str, dict[str, Any]] = {}
    for manifest in manifests:
        metadata = manifest.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
        key = (
            annotations.get(COMPOSITION_RESOURCE_NAME) if isinstance(annotations, Mapping) else None
        )
        if not isinstance(key, str) or not key:
            raise RenderInputError(
                f"observed resource {describe(manifest)} has no "
                f"{COMPOSITION_RESOURCE_NAME} annotation, so it cannot be matched to a "
                "composed resource"
            )
        if key in keyed:
            raise RenderInputError(
                f"two observed resources share {COMPOSITION_RESOURCE_NAME}={key} "
                f"({describe(keyed[key])} and {describe(manifest)})"
            )
        keyed[key] = dict(manifest)
    return keyed


def summarize(rsp: fnv1.RunFunctionResponse, composite: Mapping[str, Any]) -> dict[str, Any]:
    """A response as plain, ordered data: what ``modelplane render`` prints."""
    metadata = composite.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    identity: dict[str, Any] = {
        "apiVersion": composite.get("apiVersion"),
        "kind": composite.get("kind"),
        "metadata": {k: metadata[k] for k in ("name", "namespace") if k in metadata},
    }
    desired_composite = from_struct(rsp.desired.composite.resource)
    if rsp.desired.composite.ready in _READY:
        identity["ready"] = _READY[rsp.desired.composite.ready]
    identity["status"] = desired_composite.get("status", {})
    return {
        "composite": canonical(identity),
        "conditions": [_condition(c) for c in rsp.conditions],
        "events": [_result(r) for r in rsp.results],
        "requirements": {
            key: _selector(selector) for key, selector in sorted(rsp.requirements.resources.items())
        },
        "resources": {
            key: _resource(resource) for key, resource in sorted(rsp.desired.resources.items())
        },
    }


def _condition(condition: fnv1.Condition) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "type": condition.type,
        "status": _STATUS.get(condition.status, "Unknown"),
        "reason": condition.reason,
    }
    if condition.HasField("message"):
        rendered["message"] = condition.message
    if condition.HasField("target"):
        rendered["target"] = _TARGET.get(condition.target, "Composite")
    return rendered


def _result(result: fnv1.Result) -> dict[str, Any]:
    rendered: dict[str, Any] = {"severity": _SEVERITY.get(result.severity, "Normal")}
    if result.HasField("reason"):
        rendered["reason"] = result.reason
    rendered["message"] = result.message
    if result.HasField("target"):
        rendered["target"] = _TARGET.get(result.target, "Composite")
    return rendered


def _selector(selector: fnv1.ResourceSelector) -> dict[str, Any]:
    rendered: dict[str, Any] = {"apiVersion": selector.api_version, "kind": selector.kind}
    match = selector.WhichOneof("match")
    if match == "match_name":
        rendered["matchName"] = selector.match_name
    elif match == "match_labels":
        rendered["matchLabels"] = dict(sorted(selector.match_labels.labels.items()))
    if selector.HasField("namespace"):
        rendered["namespace"] = selector.namespace
    return rendered


def _resource(resource: fnv1.Resource) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    if resource.ready in _READY:
        rendered["ready"] = _READY[resource.ready]
    rendered["manifest"] = canonical(from_struct(resource.resource))
    return rendered
