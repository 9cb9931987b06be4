"""The VPC of an EKSCluster: public and private subnets per zone, internet and NAT gateways.

Nodes live in the private subnets and reach the internet (registries, model
hubs) through one NAT gateway; load balancers live in the public subnets.
Subnet ``i`` is in zone ``<region><a+i>``. Each zone's private subnet is its
public subnet shifted by as many blocks of its size as there are zones (the
defaults give 10.0.48.0/20, 10.0.64.0/20, 10.0.80.0/20), which must stay
inside the VPC and clear of every other subnet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any, Final

import attrs

from modelplane_core.api.errors import FieldError
from modelplane_core.api.infrastructure import EKSClusterSpec, EKSNetworking
from modelplane_core.compose.names import child_name
from modelplane_core.compose.platform.managed_resources import managed, sibling

EC2: Final = "ec2.aws.m.upbound.io/v1beta1"
LABEL_ZONE: Final = "modelplane.ai/zone"
LABEL_TIER: Final = "modelplane.ai/subnet-tier"
ANYWHERE: Final = "0.0.0.0/0"


@attrs.frozen(kw_only=True)
class Zone:
    """One availability zone of the cluster and its two subnets."""

    name: str
    public_cidr: str
    private_cidr: str

    def public_subnet(self, composite: str) -> str:
        return child_name(composite, "subnet", self.name)

    def private_subnet(self, composite: str) -> str:
        return child_name(composite, "private-subnet", self.name)


def zones(spec: EKSClusterSpec) -> tuple[list[Zone], list[FieldError]]:
    """The cluster's zones with their subnets, or why the networking cannot be laid out."""
    networking = spec.networking or EKSNetworking()
    path = "spec.networking"
    try:
        vpc = ipaddress.IPv4Network(networking.vpc_cidr)
        publics = [ipaddress.IPv4Network(c) for c in networking.subnet_cidrs]
    except ValueError as exc:
        return [], [FieldError(path, f"invalid IPv4 CIDR: {exc}")]
    count = len(publics)
    found: list[Zone] = []
    problems: list[FieldError] = []
    taken = list(publics)
    for index, public in enumerate(publics):
        shifted = int(public.network_address) + count * public.num_addresses
        if shifted + public.num_addresses > 2**32:
            problems.append(
                FieldError(f"{path}.subnetCidrs[{index}]", "no room for its private subnet")
            )
            continue
        private = ipaddress.IPv4Network(f"{ipaddress.IPv4Address(shifted)}/{public.prefixlen}")
        field = f"{path}.subnetCidrs[{index}]"
        if not public.subnet_of(vpc):
            problems.append(FieldError(field, f"{public} is not inside vpcCidr {vpc}"))
        elif not private.subnet_of(vpc):
            problems.append(
                FieldError(
                    field,
                    f"its private subnet {private} would fall outside vpcCidr {vpc}; "
                    "use a larger VPC or smaller subnets",
                )
            )
        elif any(private.overlaps(other) for other in taken):
            problems.append(
                FieldError(field, f"its private subnet {private} overlaps another subnet")
            )
        taken.append(private)
        found.append(
            Zone(
                name=f"{spec.region}{chr(ord('a') + index)}",
                public_cidr=str(public),
                private_cidr=str(private),
            )
        )
    return found, problems


def vpc(spec: EKSClusterSpec, namespace: str) -> dict[str, Any]:
    networking = spec.networking or EKSNetworking()
    return managed(
        EC2,
        "VPC",
        namespace=namespace,
        for_provider={
            "region": spec.region,
            "cidrBlock": networking.vpc_cidr,
            "enableDnsHostnames": True,
            "enableDnsSupport": True,
        },
    )


def subnet(
    spec: EKSClusterSpec, namespace: str, composite: str, zone: Zone, *, public: bool
) -> dict[str, Any]:
    tier = "public" if public else "private"
    return managed(
        EC2,
        "Subnet",
        namespace=namespace,
        name=zone.public_subnet(composite) if public else zone.private_subnet(composite),
        labels={LABEL_ZONE: zone.name, LABEL_TIER: tier},
        for_provider={
            "region": spec.region,
            "availabilityZone": zone.name,
            "cidrBlock": zone.public_cidr if public else zone.private_cidr,
            "mapPublicIpOnLaunch": public,
            # Where the AWS load balancer controller puts internet-facing / internal LBs.
            "tags": {
                "kubernetes.io/role/elb" if public else "kubernetes.io/role/internal-elb": "1"
            },
            "vpcIdSelector": sibling(),
        },
    )


def internet_gateway(spec: EKSClusterSpec, namespace: str) -> dict[str, Any]:
    return managed(
        EC2,
        "InternetGateway",
        namespace=namespace,
        for_provider={"region": spec.region, "vpcIdSelector": sibling()},
    )


def nat_address(spec: EKSClusterSpec, namespace: str) -> dict[str, Any]:
    return managed(
        EC2, "EIP", namespace=namespace, for_provider={"region": spec.region, "domain": "vpc"}
    )


def nat_gateway(spec: EKSClusterSpec, namespace: str, first: Zone) -> dict[str, Any]:
    return managed(
        EC2,
        "NATGateway",
        namespace=namespace,
        for_provider={
            "region": spec.region,
            "allocationIdSelector": sibling(),
            "subnetIdSelector": sibling({LABEL_ZONE: first.name, LABEL_TIER: "public"}),
        },
    )


def route_table(spec: EKSClusterSpec, namespace: str, tier: str) -> dict[str, Any]:
    return managed(
        EC2,
        "RouteTable",
        namespace=namespace,
        labels={LABEL_TIER: tier},
        for_provider={"region": spec.region, "vpcIdSelector": sibling()},
    )


def default_route(spec: EKSClusterSpec, namespace: str, tier: str) -> dict[str, Any]:
    """Public subnets route out through the internet gateway, private ones through the NAT."""
    via = "gatewayIdSelector" if tier == "public" else "natGatewayIdSelector"
    return managed(
        EC2,
        "Route",
        namespace=namespace,
        for_provider={
            "region": spec.region,
            "destinationCidrBlock": ANYWHERE,
            via: sibling(),
            "routeTableIdSelector": sibling({LABEL_TIER: tier}),
        },
    )


def route_table_association(
    spec: EKSClusterSpec, namespace: str, zone: Zone, tier: str
) -> dict[str, Any]:
    return managed(
        EC2,
        "RouteTableAssociation",
        namespace=namespace,
        for_provider={
            "region": spec.region,
            "routeTableIdSelector": sibling({LABEL_TIER: tier}),
            "subnetIdSelector": sibling({LABEL_ZONE: zone.name, LABEL_TIER: tier}),
        },
    )


def network_pieces(
    spec: EKSClusterSpec, namespace: str, composite: str, laid_out: Sequence[Zone]
) -> list[tuple[str, dict[str, Any]]]:
    """Every network resource, keyed."""
    keyed: list[tuple[str, dict[str, Any]]] = [
        ("vpc", vpc(spec, namespace)),
        ("internet-gateway", internet_gateway(spec, namespace)),
        ("nat-eip", nat_address(spec, namespace)),
    ]
    if laid_out:
        keyed.append(("nat-gateway", nat_gateway(spec, namespace, laid_out[0])))
    for tier in ("public", "private"):
        keyed.append((f"route-table-{tier}", route_table(spec, namespace, tier)))
        keyed.append((f"route-{tier}-default", default_route(spec, namespace, tier)))
        for zone in laid_out:
            public = tier == "public"
            keyed.append(
                (
                    f"subnet-{tier}-{zone.name}",
                    subnet(spec, namespace, composite, zone, public=public),
                )
            )
            keyed.append(
                (
                    f"route-table-association-{tier}-{zone.name}",
                    route_table_association(spec, namespace, zone, tier),
                )
            )
    return keyed
