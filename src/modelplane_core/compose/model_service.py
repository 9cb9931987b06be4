"""ModelService -> one HTTPRoute on the control-plane gateway, across the endpoints it selects.

The route matches ``/<namespace>/<service>/`` and sends each request to one
of the selected ModelEndpoints' Services, rewriting the prefix to that
endpoint's ``rewritePath`` on the way. Endpoints are selected by label in the
service's own namespace only: one team can never route into, or read the
backends of, another team's namespace.

A route that serves today is never torn down because its endpoints vanished
or went unready for a moment: the service holds the last route and says so.
A brand-new service with nothing to route to composes no route (and
publishes no address) until its first endpoint is ready.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from modelplane_core.api.inference_gateway import GATEWAY_SINGLETON_NAME, InferenceGateway
from modelplane_core.api.meta import API_VERSION, Condition, ConditionStatus
from modelplane_core.api.model_routing import EndpointSelector, ModelEndpoint, ModelService
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import (
    Composition,
    DesiredResource,
    Event,
    Observed,
    ObservedResource,
    Requirement,
    condition,
    hold,
    problems_of,
)
from modelplane_core.compose.fetched import typed
from modelplane_core.compose.topology import (
    CONTROL_GATEWAY_NAME,
    CONTROL_GATEWAY_NAMESPACE,
    service_path,
)
from modelplane_core.compose.workloads.endpoint_address import EndpointAddress, parse_endpoint_url
from modelplane_core.compose.workloads.route_weights import backend_weights
from modelplane_core.compose.workloads.routing import GATEWAY_API_VERSION, url_host

__all__ = ["MAX_BACKENDS", "compose", "requirements", "service_address"]

REQUIRE_GATEWAY: Final = "gateway"
ROUTE_KEY: Final = "route"
ENDPOINTS_RESOLVED: Final = "EndpointsResolved"
ROUTING_READY: Final = "RoutingReady"
# Gateway API allows at most 16 backendRefs in one rule.
MAX_BACKENDS: Final = 16


def endpoints_key(index: int) -> str:
    return f"endpoints-{index}"


def requirements(service: ModelService) -> tuple[Requirement, ...]:
    """The gateway (for the address) and each entry's endpoints, in the service's namespace."""
    namespace = _namespace(service)
    return (
        Requirement(
            key=REQUIRE_GATEWAY,
            api_version=API_VERSION,
            kind="InferenceGateway",
            match_name=GATEWAY_SINGLETON_NAME,
        ),
        *(
            Requirement(
                key=endpoints_key(index),
                api_version=API_VERSION,
                kind="ModelEndpoint",
                match_labels=dict(entry.selector.match_labels or {}),
                namespace=namespace,
            )
            for index, entry in enumerate(service.spec.endpoints)
        ),
    )


def service_address(gateway_address: str, namespace: str, service: str) -> str:
    """The public base URL clients append OpenAI paths to (``.../v1/chat/completions``)."""
    return f"http://{url_host(gateway_address)}{service_path(namespace, service).rstrip('/')}"


@attrs.frozen
class _Backend:
    endpoint: str
    service: str
    address: EndpointAddress
    rewrite_path: str


@attrs.frozen
class _Selection:
    # Per spec entry: the entry and its ready backends.
    groups: list[tuple[EndpointSelector, list[_Backend]]]
    matched: int
    waiting: list[str]
    problems: list[str]


def compose(observed: Observed[ModelService], cache: Cache | None = None) -> Composition:
    service = observed.composite
    needed = requirements(service)
    problems = problems_of(service, cache)
    if problems:
        message = "the spec is invalid: " + "; ".join(str(p) for p in problems[:5])
        return _hold(observed, needed, "InvalidSpec", message, warn=True)
    unresolved = [r.key for r in needed if observed.required_or_none(r.key) is None]
    if unresolved:
        return _hold(
            observed,
            needed,
            "Resolving",
            f"waiting for {', '.join(unresolved)} to be fetched",
            warn=False,
            resolved="Unknown",
        )
    selection = _select(observed, service)
    events = [Event.warning("UnreadableEndpoint", p) for p in selection.problems]
    if not any(group for _, group in selection.groups):
        return _nothing_to_route(observed, needed, selection, events)
    kept, dropped = _cap(selection.groups)
    # No weights anywhere: every endpoint gets an equal share, as the seeds describe.
    weighted = any(entry.weight is not None for entry in service.spec.endpoints)
    weights = backend_weights(
        [(entry.effective_weight(weighted, len(group)), len(group)) for entry, group in kept]
    )
    route = _route(
        service,
        [
            (backend, weight)
            for (_, group), group_weights in zip(kept, weights, strict=True)
            for backend, weight in zip(group, group_weights, strict=True)
        ],
    )
    seen = observed.resources.get(ROUTE_KEY)
    accepted = _route_accepted(seen)
    status: dict[str, Any] = {}
    address = _gateway_address(observed)
    if address:
        status["address"] = service_address(
            address, _namespace(service), service.metadata.name or ""
        )
    conditions = [
        condition(ENDPOINTS_RESOLVED, True, "Resolved", _resolved_message(selection, dropped)),
        _routing_condition(seen, accepted, address),
    ]
    if dropped:
        events.append(Event.warning("TooManyEndpoints", _resolved_message(selection, dropped)))
    return Composition(
        resources=[DesiredResource(key=ROUTE_KEY, manifest=route, ready=accepted)],
        status=status,
        conditions=tuple(conditions),
        events=tuple(events),
        requirements=needed,
    )


def _select(observed: Observed[ModelService], service: ModelService) -> _Selection:
    """Endpoints per entry: same namespace, labels matching, first entry wins, ready ones routed."""
    namespace = _namespace(service)
    claimed: set[str] = set()
    groups: list[tuple[EndpointSelector, list[_Backend]]] = []
    waiting: list[str] = []
    problems: list[str] = []
    for index, entry in enumerate(service.spec.endpoints):
        found, unreadable = typed(observed.required.get(endpoints_key(index)), ModelEndpoint)
        problems.extend(unreadable)
        group: list[_Backend] = []
        for endpoint in sorted(found, key=lambda e: e.metadata.name or ""):
            name = endpoint.metadata.name or ""
            # The fetch is namespaced already; checking again keeps isolation a property
            # of this function, whatever an adapter hands it.
            if (
                endpoint.metadata.namespace != namespace
                or not entry.selector.matches(endpoint.metadata.labels)
                or name in claimed
            ):
                continue
            claimed.add(name)
            backend = _backend(endpoint)
            if isinstance(backend, str):
                waiting.append(backend)
            else:
                group.append(backend)
        groups.append((entry, group))
    return _Selection(groups=groups, matched=len(claimed), waiting=waiting, problems=problems)


def _backend(endpoint: ModelEndpoint) -> _Backend | str:
    """The routable backend of ``endpoint``, or why it cannot be routed to yet."""
    name = endpoint.metadata.name or ""
    status = endpoint.status
    backend = status.routing.backend_name if status and status.routing else None
    if not backend:
        return f"{name} (no backend yet)"
    address = parse_endpoint_url(endpoint.spec.url)
    if isinstance(address, str):
        return f"{name} ({address})"
    rewrite = endpoint.spec.rewrite_path or address.default_rewrite_path
    return _Backend(endpoint=name, service=backend, address=address, rewrite_path=rewrite)


def _cap(
    groups: list[tuple[EndpointSelector, list[_Backend]]],
) -> tuple[list[tuple[EndpointSelector, list[_Backend]]], list[str]]:
    """Keep the first :data:`MAX_BACKENDS` backends in entry order; name the rest."""
    kept: list[tuple[EndpointSelector, list[_Backend]]] = []
    dropped: list[str] = []
    room = MAX_BACKENDS
    for entry, group in groups:
        kept.append((entry, group[:room]))
        dropped.extend(b.endpoint for b in group[room:])
        room = max(0, room - len(group))
    return kept, dropped


def _route(service: ModelService, backends: Sequence[tuple[_Backend, int]]) -> dict[str, Any]:
    namespace = _namespace(service)
    name = service.metadata.name or ""
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "parentRefs": [{"name": CONTROL_GATEWAY_NAME, "namespace": CONTROL_GATEWAY_NAMESPACE}],
            "rules": [
                {
                    "matches": [
                        {"path": {"type": "PathPrefix", "value": service_path(namespace, name)}}
                    ],
                    "backendRefs": [_backend_ref(b, w) for b, w in backends],
                }
            ],
        },
    }


def _backend_ref(backend: _Backend, weight: int) -> dict[str, Any]:
    rewrite: dict[str, Any] = {
        "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": backend.rewrite_path}
    }
    if backend.address.address_type == "FQDN":
        # A named host (a provider's API, a cloud load balancer) routes by Host header.
        rewrite["hostname"] = backend.address.address
    return {
        "name": backend.service,
        "port": backend.address.port,
        "weight": weight,
        "filters": [{"type": "URLRewrite", "urlRewrite": rewrite}],
    }


def _nothing_to_route(
    observed: Observed[ModelService],
    needed: tuple[Requirement, ...],
    selection: _Selection,
    events: list[Event],
) -> Composition:
    if selection.matched == 0:
        reason, message = "NoEndpoints", "no ModelEndpoint in this namespace matches any selector"
    else:
        reason = "NoReadyEndpoints"
        message = f"matched {selection.matched} endpoint(s), none ready: " + ", ".join(
            selection.waiting
        )
    if ROUTE_KEY in observed.resources:
        message += "; keeping the last route"
        return _hold(observed, needed, reason, message, warn=True, extra_events=events)
    return Composition(
        status={},
        conditions=(
            condition(ENDPOINTS_RESOLVED, False, reason, message),
            condition(ROUTING_READY, False, reason, "no route until an endpoint is ready"),
        ),
        events=tuple(events),
        requirements=needed,
        ready=False,
    )


def _hold(
    observed: Observed[ModelService],
    needed: tuple[Requirement, ...],
    reason: str,
    message: str,
    *,
    warn: bool,
    resolved: ConditionStatus = "False",
    extra_events: Sequence[Event] = (),
) -> Composition:
    seen = observed.resources.get(ROUTE_KEY)
    routing = (
        condition(ROUTING_READY, True, "RouteHeld", "the last route keeps serving")
        if _route_accepted(seen)
        else condition(ROUTING_READY, False, reason, "no accepted route")
    )
    held = hold(
        observed,
        conditions=[
            condition(ENDPOINTS_RESOLVED, resolved, reason, message),
            routing,
        ],
        events=[*extra_events, *([Event.warning(reason, message)] if warn else [])],
        requirements=needed,
        ready_keys=[ROUTE_KEY] if _route_accepted(seen) else [],
    )
    return held if observed.resources else attrs.evolve(held, ready=False)


def _route_accepted(seen: ObservedResource | None) -> bool:
    """The control-plane gateway accepted the route and resolved its backends."""
    if seen is None:
        return False
    for parent in seen.status.get("parents") or ():
        if not isinstance(parent, Mapping):
            continue
        ref = parent.get("parentRef") or {}
        if ref.get("name") != CONTROL_GATEWAY_NAME:
            continue
        conditions = {
            c.get("type"): c.get("status")
            for c in parent.get("conditions") or ()
            if isinstance(c, Mapping)
        }
        return conditions.get("Accepted") == "True" and conditions.get("ResolvedRefs") != "False"
    return False


def _routing_condition(seen: ObservedResource | None, accepted: bool, address: str) -> Condition:
    if accepted:
        where = f" at {address}" if address else "; the gateway has no address yet"
        return condition(
            ROUTING_READY, True, "RouteConfigured", f"the gateway serves the route{where}"
        )
    if seen is None:
        return condition(ROUTING_READY, False, "Configuring", "the route is being created")
    return condition(
        ROUTING_READY, False, "Configuring", "waiting for the gateway to accept the route"
    )


def _resolved_message(selection: _Selection, dropped: Sequence[str]) -> str:
    routed = sum(len(group) for _, group in selection.groups) - len(dropped)
    message = f"matched {selection.matched} endpoint(s), routing to {routed}"
    if selection.waiting:
        message += f"; waiting for {', '.join(selection.waiting)}"
    if dropped:
        message += (
            f"; Gateway API allows {MAX_BACKENDS} backends per route, not routing to "
            f"{', '.join(dropped)}"
        )
    return message


def _gateway_address(observed: Observed[ModelService]) -> str:
    gateways, _ = typed(observed.required.get(REQUIRE_GATEWAY), InferenceGateway)
    for gateway in gateways:
        if gateway.metadata.name == GATEWAY_SINGLETON_NAME and gateway.status is not None:
            return gateway.status.address or ""
    return ""


def _namespace(service: ModelService) -> str:
    return service.metadata.namespace or "default"
