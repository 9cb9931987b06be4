"""``RunFunctionRequest`` -> ``Observed`` and ``Composition`` -> ``RunFunctionResponse``.

Pure functions with no I/O and no gRPC: the servicer, ``modelplane render`` and
the tests all call these, so what Crossplane gets and what a person renders on a
laptop cannot drift apart.

Inbound, every ``Struct`` is read with exact integers (:mod:`.structs`), the
composite loses Crossplane's machinery (:mod:`.machinery`), is decoded strictly
and checked against its XRD schema's limits (:mod:`.admission`). Required
resources and composed resources of Modelplane's kinds are decoded here, the
boundary, through the caller's :class:`~modelplane_core.compose.Decoder`: an
object version (read from the Struct's metadata without converting the rest)
decoded for an earlier request is handed over as the very same object. A
required resource key Crossplane did not send stays *absent* from
``Observed.required`` (not fetched yet); a key it sent with no items becomes an
empty :class:`~modelplane_core.compose.Fetched` (fetched, nothing matched).
Composers rely on that difference.

Outbound, the request's ``desired`` state (what earlier pipeline steps want) is
the starting point (``response.to``); the composer's resources are added or
replace the entries with the same key, its status is merged into the desired
composite's status, and conditions, events and requirements are mapped onto
their protobuf fields. The SDK's default TTL (60 s) is kept: composers read
the readiness of what they composed, so Crossplane must call again soon even
when no watch fires.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs
from crossplane.function import response
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import struct_pb2

from modelplane_adapters.crossplane.admission import admission_problems
from modelplane_adapters.crossplane.machinery import strip_machinery
from modelplane_adapters.crossplane.structs import StructError, from_struct, to_struct
from modelplane_core import api
from modelplane_core.api.meta import Condition
from modelplane_core.compose import (
    Composition,
    Decoder,
    Event,
    Fetched,
    Observed,
    ObservedResource,
    Requirement,
    Unreadable,
    desired_from_observed,
)
from modelplane_core.compose.fetched import unreadable_from
from modelplane_core.compose.fetched import version_key as version_key_of

# Reasons of the Fatal results this adapter writes (PascalCase, as Crossplane expects).
REASON_NO_COMPOSITE: Final = "MissingComposite"
REASON_UNSUPPORTED_KIND: Final = "UnsupportedKind"
REASON_INVALID_COMPOSITE: Final = "InvalidComposite"
REASON_COMPOSE_FAILED: Final = "ComposeFailed"
REASON_INVALID_COMPOSITION: Final = "InvalidComposition"
REASON_MALFORMED_REQUEST: Final = "MalformedRequest"
# Crossplane requires a reason on every condition; used when a composer gave none.
DEFAULT_REASON: Final = "ComposeResources"
# Condition types Crossplane owns; a function may not set them.
RESERVED_CONDITIONS: Final = frozenset({"Ready", "Synced"})
# Keep Fatal messages readable in `kubectl describe` and inside a Kubernetes Event.
MAX_MESSAGE: Final = 4096
MAX_PROBLEM: Final = 400
SHOWN_PROBLEMS: Final = 10

# What a Crossplane v2.3 control plane advertises; render and the tests send the same.
CAPABILITIES: Final = (
    fnv1.CAPABILITY_CAPABILITIES,
    fnv1.CAPABILITY_REQUIRED_RESOURCES,
    fnv1.CAPABILITY_CREDENTIALS,
    fnv1.CAPABILITY_CONDITIONS,
    fnv1.CAPABILITY_REQUIRED_SCHEMAS,
)

_EMPTY_VALUE: Final = struct_pb2.Value()
_READY: Final = {True: fnv1.READY_TRUE, False: fnv1.READY_FALSE, None: fnv1.READY_UNSPECIFIED}
_STATUS: Final = {
    "True": fnv1.STATUS_CONDITION_TRUE,
    "False": fnv1.STATUS_CONDITION_FALSE,
    "Unknown": fnv1.STATUS_CONDITION_UNKNOWN,
}
_SEVERITY: Final = {"Normal": fnv1.SEVERITY_NORMAL, "Warning": fnv1.SEVERITY_WARNING}


class RequestError(ValueError):
    """A request the function cannot compose from; becomes one Fatal result."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@attrs.frozen
class Composite:
    """The observed composite, decoded: its class and typed object, and what was stripped."""

    cls: type[api.Resource]
    obj: api.Resource
    removed: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return describe(api.to_dict(self.obj))


# --- inbound ---------------------------------------------------------------------------


def observed_from_request(
    req: fnv1.RunFunctionRequest, decoder: Decoder | None = None
) -> tuple[Composite, Observed[Any]]:
    """Everything a composer sees, decoded, or :class:`RequestError` naming what is wrong."""
    decoder = decoder if decoder is not None else Decoder()
    composite = read_composite(req, decoder)
    observed = Observed(
        composite=composite.obj,
        resources=observed_resources(req, decoder),
        required=required_resources(req, decoder),
        context=context_of(req),
    )
    return composite, observed


def raw_composite(req: fnv1.RunFunctionRequest) -> dict[str, Any]:
    """The observed composite as plain data; :class:`RequestError` when there is none."""
    if not (
        req.HasField("observed")
        and req.observed.HasField("composite")
        and req.observed.composite.HasField("resource")
        and req.observed.composite.resource.fields
    ):
        raise RequestError(
            REASON_NO_COMPOSITE,
            "the request carries no observed composite resource; nothing to compose",
        )
    try:
        return from_struct(req.observed.composite.resource)
    except StructError as exc:
        raise RequestError(
            REASON_INVALID_COMPOSITE, f"the observed composite cannot be read: {exc}"
        ) from exc


def _read(struct: struct_pb2.Struct, what: str) -> dict[str, Any]:
    """A ``Struct`` of the request other than the composite, or a MalformedRequest."""
    try:
        return from_struct(struct)
    except StructError as exc:
        raise RequestError(REASON_MALFORMED_REQUEST, f"{what} cannot be read: {exc}") from exc


def kind_of(raw: Mapping[str, Any]) -> type[api.Resource]:
    """The Modelplane class serving the composite's apiVersion/kind, or :class:`RequestError`."""
    api_version, kind = raw.get("apiVersion"), raw.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not kind:
        raise RequestError(
            REASON_UNSUPPORTED_KIND,
            f"the observed composite has no apiVersion/kind (got apiVersion={api_version!r}, "
            f"kind={kind!r})",
        )
    cls = api.kind_class(api_version, kind)
    if cls is None:
        known = ", ".join(
            sorted(f"{c.kind_info.api_version} {c.kind_info.kind}" for c in api.KINDS)
        )
        raise RequestError(
            REASON_UNSUPPORTED_KIND,
            f"{api_version} {kind} is not a Modelplane kind this function composes "
            f"(known: {known})",
        )
    return cls


def read_composite(req: fnv1.RunFunctionRequest, decoder: Decoder | None = None) -> Composite:
    """Decode the observed composite strictly, after removing Crossplane's machinery.

    With a ``decoder``, a composite version read before is not read again: the
    same :class:`Composite` (or the same refusal) comes back, so what is
    remembered per decoded object (its validation) is remembered across calls.
    """
    if decoder is None:
        return _read_composite(req)
    key = None
    if req.HasField("observed") and req.observed.HasField("composite"):
        version = version_key(req.observed.composite.resource)
        key = ("composite", *version) if version is not None else None
    found = decoder.remember(key, lambda: _composite_or_error(req))
    if isinstance(found, RequestError):
        raise found
    return found


def without_machinery(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A Modelplane object Crossplane handed over (a composite: an XR), without its machinery.

    Required and composed objects of our kinds are XRs too, so under Crossplane
    v2 they carry ``spec.crossplane`` and the API server's bookkeeping, exactly
    as the observed composite does; other kinds are returned as they are.
    """
    cls = api.kind_class(str(manifest.get("apiVersion", "")), str(manifest.get("kind", "")))
    return strip_machinery(manifest, cls).manifest if cls is not None else dict(manifest)


def _composite_or_error(req: fnv1.RunFunctionRequest) -> Composite | RequestError:
    try:
        return _read_composite(req)
    except RequestError as exc:
        return exc


def _read_composite(req: fnv1.RunFunctionRequest) -> Composite:
    raw = raw_composite(req)
    cls = kind_of(raw)
    stripped = strip_machinery(raw, cls)
    label = describe(raw)
    try:
        obj = api.from_dict(stripped.manifest)
    except api.ValidationError as exc:
        raise RequestError(
            REASON_INVALID_COMPOSITE,
            f"{label} cannot be read: " + summarize(str(e) for e in exc.errors),
        ) from exc
    problems = admission_problems(stripped.manifest, cls)
    if problems:
        raise RequestError(
            REASON_INVALID_COMPOSITE,
            f"{label} breaks its CompositeResourceDefinition's schema, so the API server "
            "could not have admitted it: " + summarize(problems),
        )
    return Composite(cls=cls, obj=obj, removed=stripped.removed)


def observed_resources(
    req: fnv1.RunFunctionRequest, decoder: Decoder | None = None
) -> dict[str, ObservedResource]:
    """The composed resources as they exist now, status included, keyed as composed.

    Those of Modelplane's kinds are also decoded (``obj``); one that does not
    decode is left as a manifest for its composer to report.
    """
    decoder = decoder if decoder is not None else Decoder()
    found = {}
    for key, observed in sorted(req.observed.resources.items()):
        manifest = _read(observed.resource, f"observed composed resource {key!r}")
        found[key] = ObservedResource(
            manifest=manifest,
            connection_details=dict(observed.connection_details),
            obj=_ours(manifest, decoder),
        )
    return found


def _ours(manifest: Mapping[str, Any], decoder: Decoder) -> api.Resource | None:
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    if api.kind_class(api_version, kind) is None:
        return None
    try:
        decoded = decoder.decode(without_machinery(manifest), version_key_of(manifest))
    except api.ValidationError:
        return None
    return decoded if not isinstance(decoded, api.Unstructured) else None


def required_resources(
    req: fnv1.RunFunctionRequest, decoder: Decoder | None = None
) -> dict[str, Fetched]:
    """Fetched requirements by key, decoded: absent = not fetched yet, empty = nothing matched.

    Crossplane before v2 sent them as the deprecated ``extra_resources``; both are
    read, the current field winning for a key present in both.
    """
    decoder = decoder if decoder is not None else Decoder()
    found: dict[str, Fetched] = {}
    for source in (req.extra_resources, req.required_resources):
        for key, resources in source.items():
            found[key] = _fetch(key, resources.items, decoder)
    return dict(sorted(found.items()))


def _fetch(key: str, items: Sequence[fnv1.Resource], decoder: Decoder) -> Fetched:
    decoded: list[api.AnyObject] = []
    unreadable: list[Unreadable] = []
    for index, item in enumerate(items):
        what = f"required resource {key!r}[{index}]"
        try:
            decoded.append(
                decoder.decode_lazily(
                    version_key(item.resource),
                    lambda item=item, what=what: without_machinery(_read(item.resource, what)),
                )
            )
        except api.ValidationError as exc:
            unreadable.append(unreadable_from(_read(item.resource, what), exc))
    return Fetched(items=tuple(decoded), unreadable=tuple(unreadable))


def version_key(struct: struct_pb2.Struct) -> tuple[str, ...] | None:
    """``compose.fetched.version_key`` of the object, read without converting the Struct."""
    fields = struct.fields
    metadata = fields.get("metadata")
    if metadata is None or metadata.WhichOneof("kind") != "struct_value":
        return None
    meta = metadata.struct_value.fields
    version = meta.get("resourceVersion")
    if version is None or not version.string_value:
        return None
    empty = _EMPTY_VALUE
    return (
        fields.get("apiVersion", empty).string_value,
        fields.get("kind", empty).string_value,
        meta.get("namespace", empty).string_value,
        meta.get("name", empty).string_value,
        meta.get("uid", empty).string_value,
        version.string_value,
    )


def context_of(req: fnv1.RunFunctionRequest) -> dict[str, Any]:
    return _read(req.context, "the pipeline context") if req.HasField("context") else {}


# --- outbound --------------------------------------------------------------------------


def target_for(cls: type[api.Resource] | None) -> fnv1.Target:
    """Who a condition or event is for.

    The user-facing kinds (``modelplane.ai``) address the person who created the
    object, so their conditions and events are written for them and marked for
    the composite and any claim; the internal infrastructure kinds only concern
    the platform team reading the composite itself.
    """
    if cls is not None and cls.kind_info.group == api.GROUP:
        return fnv1.TARGET_COMPOSITE_AND_CLAIM
    return fnv1.TARGET_COMPOSITE


def response_from_composition(
    req: fnv1.RunFunctionRequest,
    composition: Composition,
    *,
    target: fnv1.Target = fnv1.TARGET_COMPOSITE_AND_CLAIM,
) -> fnv1.RunFunctionResponse:
    """The composer's wishes on top of the request's desired state (earlier pipeline steps)."""
    rsp = response.to(req)
    _set_composite(rsp, composition)
    for desired in composition.resources:
        try:
            struct = to_struct(desired.manifest)
        except ValueError as exc:
            raise RequestError(
                REASON_INVALID_COMPOSITION,
                f"the composer produced resource {desired.key!r} that cannot be sent: {exc}",
            ) from exc
        rsp.desired.resources[desired.key].CopyFrom(
            fnv1.Resource(resource=struct, ready=_READY[desired.ready])
        )
    reserved = [c for c in composition.conditions if c.type in RESERVED_CONDITIONS]
    rsp.conditions.extend(
        condition_message(c, target)
        for c in composition.conditions
        if c.type not in RESERVED_CONDITIONS
    )
    rsp.results.extend(result_message(e, target) for e in composition.events)
    for condition in reserved:  # never forwarded: Crossplane derives these itself
        rsp.results.append(
            fnv1.Result(
                severity=fnv1.SEVERITY_WARNING,
                reason="ReservedCondition",
                message=f"the composer set the {condition.type} condition, which Crossplane "
                "owns; it was not forwarded",
                target=fnv1.TARGET_COMPOSITE,
            )
        )
    for requirement in composition.requirements:
        rsp.requirements.resources[requirement.key].CopyFrom(selector_message(requirement))
    return rsp


def _set_composite(rsp: fnv1.RunFunctionResponse, composition: Composition) -> None:
    status = {k: v for k, v in composition.status.items() if k != "conditions"}
    if status:
        desired = _read(rsp.desired.composite.resource, "the desired composite of earlier steps")
        earlier = desired.get("status")
        merged = {**(earlier if isinstance(earlier, Mapping) else {}), **status}
        try:
            rsp.desired.composite.resource.CopyFrom(to_struct({**desired, "status": merged}))
        except ValueError as exc:
            raise RequestError(
                REASON_INVALID_COMPOSITION,
                f"the composer produced a composite status that cannot be sent: {exc}",
            ) from exc
    if composition.ready is not None:
        rsp.desired.composite.ready = _READY[composition.ready]


def condition_message(condition: Condition, target: fnv1.Target) -> fnv1.Condition:
    message = fnv1.Condition(
        type=condition.type,
        status=_STATUS.get(condition.status, fnv1.STATUS_CONDITION_UNKNOWN),
        reason=condition.reason or DEFAULT_REASON,
        target=target,
    )
    if condition.message:
        message.message = condition.message
    return message


def result_message(event: Event, target: fnv1.Target) -> fnv1.Result:
    return fnv1.Result(
        severity=_SEVERITY[event.type], message=event.message, reason=event.reason, target=target
    )


def selector_message(requirement: Requirement) -> fnv1.ResourceSelector:
    """A requirement as Crossplane's selector; no name and no labels selects every object."""
    selector = fnv1.ResourceSelector(api_version=requirement.api_version, kind=requirement.kind)
    if requirement.match_name is not None:
        selector.match_name = requirement.match_name
    else:
        # SetInParent marks the oneof even for an empty label set ("match all").
        selector.match_labels.SetInParent()
        selector.match_labels.labels.update(dict(requirement.match_labels or {}))
    if requirement.namespace is not None:
        selector.namespace = requirement.namespace
    return selector


def fatal_response(
    req: fnv1.RunFunctionRequest,
    reason: str,
    message: str,
    *,
    target: fnv1.Target = fnv1.TARGET_COMPOSITE_AND_CLAIM,
) -> fnv1.RunFunctionResponse:
    """One Fatal result, with every observed composed resource kept in desired.

    Crossplane stops the pipeline on a Fatal result, but an empty desired state
    is how a composite says "delete everything I own"; the observed resources are
    therefore carried into desired (reduced to what a composer would ask for), so
    no version of the pipeline can read this answer as a teardown.
    """
    try:
        rsp = response.to(req)
    except Exception:  # a request too broken to copy; answer with the bare minimum
        rsp = fnv1.RunFunctionResponse(meta=fnv1.ResponseMeta(tag=req.meta.tag))
    for key, observed in req.observed.resources.items():
        if key in rsp.desired.resources:
            continue
        try:
            kept = desired_from_observed(ObservedResource(manifest=from_struct(observed.resource)))
            rsp.desired.resources[key].CopyFrom(fnv1.Resource(resource=to_struct(kept)))
        except Exception:  # keep it verbatim rather than lose it
            rsp.desired.resources[key].CopyFrom(fnv1.Resource(resource=observed.resource))
    rsp.results.append(
        fnv1.Result(
            severity=fnv1.SEVERITY_FATAL, message=clip(message), reason=reason, target=target
        )
    )
    return rsp


# --- building requests (render, tests) -----------------------------------------------------


def build_request(
    composite: Mapping[str, Any],
    *,
    resources: Mapping[str, Mapping[str, Any]] | None = None,
    required: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    context: Mapping[str, Any] | None = None,
    desired: Mapping[str, Mapping[str, Any]] | None = None,
) -> fnv1.RunFunctionRequest:
    """A ``RunFunctionRequest`` shaped like the ones Crossplane v2.3 sends.

    The tag is a hash of the request itself, as Crossplane derives it: identical
    requests carry identical tags.
    """
    req = fnv1.RunFunctionRequest(
        meta=fnv1.RequestMeta(capabilities=list(CAPABILITIES)),
        observed=fnv1.State(
            composite=fnv1.Resource(resource=to_struct(composite)),
            resources={
                key: fnv1.Resource(resource=to_struct(manifest))
                for key, manifest in (resources or {}).items()
            },
        ),
        desired=fnv1.State(
            resources={
                key: fnv1.Resource(resource=to_struct(manifest))
                for key, manifest in (desired or {}).items()
            }
        ),
        required_resources={
            key: fnv1.Resources(items=[fnv1.Resource(resource=to_struct(i)) for i in items])
            for key, items in (required or {}).items()
        },
    )
    if context:
        req.context.CopyFrom(to_struct(context))
    req.meta.tag = hashlib.sha256(req.SerializeToString(deterministic=True)).hexdigest()
    return req


# --- messages --------------------------------------------------------------------------


def describe(manifest: Mapping[str, Any]) -> str:
    """``Kind namespace/name`` as far as the raw object tells, for messages."""
    kind = manifest.get("kind") if isinstance(manifest.get("kind"), str) else "<no kind>"
    metadata = manifest.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    name = metadata.get("name") if isinstance(metadata.get("name"), str) else "<no name>"
    namespace = metadata.get("namespace")
    return f"{kind} {namespace}/{name}" if isinstance(namespace, str) else f"{kind} {name}"


def summarize(problems: Iterable[str]) -> str:
    """The first few problems, each clipped, and how many more there are."""
    listed = list(problems)
    shown = "; ".join(clip(p, MAX_PROBLEM) for p in listed[:SHOWN_PROBLEMS])
    more = len(listed) - SHOWN_PROBLEMS
    return shown + (f" (and {more} more)" if more > 0 else "")


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 20] + f"... ({len(text)} chars)"
