"""InferenceGateway: the control plane's front door, a singleton named ``default``."""

from __future__ import annotations

from typing import Literal

import attrs

from modelplane_core.api.fields import describe
from modelplane_core.api.meta import (
    API_VERSION,
    Condition,
    HasKindInfo,
    KindInfo,
    ObjectMeta,
    PrinterColumn,
)

GATEWAY_SINGLETON_NAME = "default"
GatewayBackend = Literal["Traefik"]
LoadBalancer = Literal["MetalLB"]


@attrs.frozen(kw_only=True)
class MetalLBSettings:
    address_pool: str = attrs.field(
        metadata=describe(
            doc="Address range MetalLB assigns from, e.g. 172.18.255.200-172.18.255.250."
        )
    )


@attrs.frozen(kw_only=True)
class TraefikSettings:
    version: str = attrs.field(metadata=describe(doc="Traefik Helm chart version, e.g. 40.2.0."))
    load_balancer: LoadBalancer | None = attrs.field(
        default=None,
        metadata=describe(
            doc="MetalLB on kind or bare metal; omit where the cluster has a LoadBalancer."
        ),
    )
    metallb: MetalLBSettings | None = attrs.field(
        default=None,
        metadata=describe(doc="MetalLB settings; required when loadBalancer is MetalLB."),
    )


@attrs.frozen(kw_only=True)
class InferenceGatewaySpec:
    backend: GatewayBackend = attrs.field(
        metadata=describe(doc="Which gateway runs the front door; Traefik today.")
    )
    traefik: TraefikSettings | None = attrs.field(
        default=None, metadata=describe(doc="Traefik settings; required when backend is Traefik.")
    )


@attrs.frozen(kw_only=True)
class InferenceGatewayStatus:
    address: str | None = attrs.field(
        default=None, metadata=describe(doc="External address of the gateway.")
    )
    conditions: tuple[Condition, ...] | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class InferenceGateway(HasKindInfo):
    """The fleet's unified OpenAI-compatible front door on the control cluster."""

    kind_info = KindInfo(
        api_version=API_VERSION,
        kind="InferenceGateway",
        plural="inferencegateways",
        scope="Cluster",
        short_names=("ig",),
        printer_columns=(
            PrinterColumn("GATEWAY", ".spec.backend"),
            PrinterColumn("ADDRESS", ".status.address"),
        ),
        description=(
            "The InferenceGateway (exactly one, named default) installs the control-plane "
            "gateway every ModelService is exposed through."
        ),
    )

    metadata: ObjectMeta = attrs.field()
    spec: InferenceGatewaySpec = attrs.field()
    status: InferenceGatewayStatus | None = attrs.field(default=None)
