"""DRA-style device descriptions, shared by InferenceClass and published gpuPools.

The shape mirrors what a Kubernetes DRA driver publishes in a ResourceSlice
(driver, typed attributes, quantity capacity), so the CEL selector an ML
engineer writes for the scheduler is the same one DRA evaluates when it binds
the GPU on the workload cluster.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Literal

import attrs

from modelplane_core.api.fields import DNS_SUBDOMAIN, DNS_SUBDOMAIN_HINT, describe


@attrs.frozen(kw_only=True)
class DeviceAttribute:
    """One typed attribute value; exactly one of the four fields is set."""

    string: str | None = attrs.field(
        default=None, metadata=describe(max_length=253, doc="A string value.")
    )
    version: str | None = attrs.field(
        default=None,
        metadata=describe(max_length=32, doc="A semantic version (semver.org), e.g. 9.0.0."),
    )
    # Named after the wire keys; ``builtins.`` keeps the type names unambiguous here.
    bool: builtins.bool | None = attrs.field(
        default=None, metadata=describe(doc="A boolean value.")
    )
    int: builtins.int | None = attrs.field(
        default=None, metadata=describe(int64=True, doc="A 64-bit integer value.")
    )

    def set_fields(self) -> list[str]:
        return [n for n in ("string", "version", "bool", "int") if getattr(self, n) is not None]


@attrs.frozen(kw_only=True)
class DeviceCapacity:
    """A capacity figure such as GPU memory, as a Kubernetes quantity string."""

    value: str = attrs.field(
        metadata=describe(
            min_length=1,
            max_length=32,
            doc='A Kubernetes quantity, e.g. "81559Mi". Publish real usable capacity.',
        )
    )


DeviceClaim = Literal["DRA", "Synthetic"]


@attrs.frozen(kw_only=True)
class Device:
    """A kind of device every node of a pool carries, ``count`` of them per node."""

    name: str = attrs.field(
        metadata=describe(
            min_length=1,
            max_length=63,
            doc="Name of this device within the class, e.g. gpu or nic.",
        )
    )
    claim: DeviceClaim = attrs.field(
        default="DRA",
        metadata=describe(
            doc="DRA devices are scheduled against and bound to pods through DRA; Synthetic "
            "devices (e.g. an InfiniBand fabric with no DRA driver) only gate placement."
        ),
    )
    driver: str = attrs.field(
        metadata=describe(
            min_length=1,
            max_length=253,
            pattern=DNS_SUBDOMAIN,
            pattern_hint=DNS_SUBDOMAIN_HINT,
            doc="DRA driver owning the device, e.g. gpu.nvidia.com; the default attribute domain.",
        )
    )
    device_class_name: str | None = attrs.field(
        default=None,
        metadata=describe(
            min_length=1,
            max_length=253,
            doc="Cluster-scoped DRA DeviceClass to claim through; required when claim is DRA.",
        ),
    )
    count: int = attrs.field(
        default=1, metadata=describe(minimum=1, maximum=64, doc="How many such devices a node has.")
    )
    attributes: Mapping[str, DeviceAttribute] | None = attrs.field(
        default=None,
        metadata=describe(
            max_properties=32,
            doc="Typed attributes (string, version, bool or int) selectors read by name.",
        ),
    )
    capacity: Mapping[str, DeviceCapacity] | None = attrs.field(
        default=None,
        metadata=describe(
            max_properties=32,
            doc="Capacity quantities, e.g. memory, that selectors compare with quantity().",
        ),
    )

    @property
    def claimable(self) -> bool:
        return self.claim == "DRA"
