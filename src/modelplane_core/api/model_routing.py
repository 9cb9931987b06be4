"""ModelService and ModelEndpoint: one stable URL in front of replicas anywhere.

A ModelEndpoint is one reachable backend (a replica, or an external provider);
a ModelService selects endpoints by label, like a Service selects pods, and
routes one OpenAI-compatible path prefix across them.
"""

from __future__ import annotations

import attrs

from modelplane_core.api.fields import describe
from modelplane_core.api.meta import (
    API_VERSION,
    Condition,
    HasKindInfo,
    KindInfo,
    LabelSelector,
    ObjectMeta,
    PrinterColumn,
)

MAX_ROUTE_WEIGHT = 1_000_000  # Gateway API's ceiling for a backendRef weight


@attrs.frozen(kw_only=True)
class ModelEndpointSpec:
    url: str = attrs.field(
        metadata=describe(
            min_length=1,
            doc="Base URL of the endpoint, e.g. https://api.together.xyz/ or http://10.0.0.1/.",
        )
    )
    rewrite_path: str | None = attrs.field(
        default=None,
        metadata=describe(
            doc="Path prefix requests are rewritten to. A ModelService receives requests at "
            "/<namespace>/<service>/... and replaces that prefix with this one."
        ),
    )


@attrs.frozen(kw_only=True)
class EndpointRouting:
    backend_name: str | None = attrs.field(
        default=None,
        metadata=describe(doc="Name of the composed Service a ModelService routes to."),
    )


@attrs.frozen(kw_only=True)
class ModelEndpointStatus:
    routing: EndpointRouting | None = attrs.field(default=None)
    conditions: tuple[Condition, ...] | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class ModelEndpoint(HasKindInfo):
    """A single reachable inference endpoint a ModelService can route to."""

    kind_info = KindInfo(
        api_version=API_VERSION,
        kind="ModelEndpoint",
        plural="modelendpoints",
        scope="Namespaced",
        short_names=("me",),
        printer_columns=(PrinterColumn("URL", ".spec.url"),),
        description=(
            "A ModelEndpoint is one reachable inference backend: a replica (composed by "
            "ModelDeployment) or an external OpenAI-compatible provider."
        ),
    )

    metadata: ObjectMeta = attrs.field()
    spec: ModelEndpointSpec = attrs.field()
    status: ModelEndpointStatus | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class EndpointSelector:
    selector: LabelSelector = attrs.field(
        metadata=describe(doc="Selects ModelEndpoints in the service's namespace by label.")
    )
    weight: int | None = attrs.field(
        default=None,
        metadata=describe(
            minimum=1,
            maximum=MAX_ROUTE_WEIGHT,
            doc="Relative share of traffic for this entry's endpoints, split evenly among "
            "them. When no entry sets a weight, traffic splits evenly across every matched "
            "endpoint; when some do, an entry without one weighs 1.",
        ),
    )

    def effective_weight(self, weighted: bool, endpoints: int) -> int:
        """This entry's group weight: its own, or its endpoint count when nobody weighs."""
        if not weighted:
            return endpoints
        return self.weight if self.weight is not None else 1


@attrs.frozen(kw_only=True)
class ModelServiceSpec:
    endpoints: tuple[EndpointSelector, ...] = attrs.field(
        metadata=describe(
            min_items=1,
            doc="Endpoint groups; the service routes to every endpoint any entry matches.",
        )
    )


@attrs.frozen(kw_only=True)
class ModelServiceStatus:
    address: str | None = attrs.field(
        default=None,
        metadata=describe(doc="The public base URL, http://<gateway>/<namespace>/<name>."),
    )
    conditions: tuple[Condition, ...] | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class ModelService(HasKindInfo):
    """One OpenAI-compatible URL load-balancing across the endpoints it selects."""

    kind_info = KindInfo(
        api_version=API_VERSION,
        kind="ModelService",
        plural="modelservices",
        scope="Namespaced",
        short_names=("ms",),
        printer_columns=(PrinterColumn("ADDRESS", ".status.address"),),
        description=(
            "A ModelService exposes one stable, OpenAI-compatible URL that load-balances "
            "across every ModelEndpoint its selectors match, wherever the replicas run."
        ),
    )

    metadata: ObjectMeta = attrs.field()
    spec: ModelServiceSpec = attrs.field()
    status: ModelServiceStatus | None = attrs.field(default=None)
