"""InferenceClass: a tested recipe for a GPU node pool, published by the platform team.

Its ``devices`` are the contract ML teams' selectors match against; its
optional ``provisioning`` says how to create such a pool on a cloud.
"""

from __future__ import annotations

from typing import Literal

import attrs

from modelplane_core.api.devices import Device
from modelplane_core.api.fields import describe
from modelplane_core.api.meta import API_VERSION, Condition, HasKindInfo, KindInfo, ObjectMeta

Provider = Literal["GKE", "EKS", "AKS", "Nebius", "Vultr"]


@attrs.frozen(kw_only=True)
class Accelerator:
    type: str = attrs.field(
        metadata=describe(min_length=1, max_length=63, doc="Accelerator type, e.g. nvidia-l4.")
    )
    count: int = attrs.field(metadata=describe(minimum=1, maximum=16, doc="Accelerators per node."))


@attrs.frozen(kw_only=True)
class GKEProvisioning:
    machine_type: str = attrs.field(
        metadata=describe(min_length=1, doc="GCE machine type, e.g. g2-standard-8.")
    )
    disk_size_gb: int = attrs.field(
        default=100, metadata=describe(minimum=10, doc="Boot disk size in GB.")
    )
    accelerator: Accelerator = attrs.field(metadata=describe(doc="GPUs attached to each node."))


@attrs.frozen(kw_only=True)
class EKSProvisioning:
    instance_type: str = attrs.field(
        metadata=describe(min_length=1, doc="EC2 instance type, e.g. g6.xlarge.")
    )
    disk_size_gb: int = attrs.field(
        default=100, metadata=describe(minimum=10, doc="Root volume size in GB.")
    )
    accelerator: Accelerator = attrs.field(
        metadata=describe(doc="GPUs each instance carries (informational).")
    )


@attrs.frozen(kw_only=True)
class AKSProvisioning:
    vm_size: str = attrs.field(
        metadata=describe(min_length=1, doc="Azure VM size, e.g. Standard_NC24ads_A100_v4.")
    )
    disk_size_gb: int = attrs.field(
        default=100, metadata=describe(minimum=10, doc="OS disk size in GB.")
    )
    accelerator: Accelerator = attrs.field(
        metadata=describe(doc="GPUs each VM carries (informational).")
    )


@attrs.frozen(kw_only=True)
class VultrProvisioning:
    plan: str = attrs.field(
        metadata=describe(
            min_length=1, max_length=63, doc="Vultr plan ID, e.g. vcg-l40s-16c-180g-48vram."
        )
    )
    accelerator: Accelerator = attrs.field(
        metadata=describe(doc="GPUs each node carries (informational).")
    )


@attrs.frozen(kw_only=True)
class NebiusProvisioning:
    platform: str = attrs.field(
        metadata=describe(min_length=1, max_length=63, doc="Nebius platform, e.g. gpu-h100-sxm.")
    )
    preset: str = attrs.field(
        metadata=describe(
            min_length=1, max_length=63, doc="Nebius preset, e.g. 8gpu-128vcpu-1600gb."
        )
    )
    disk_size_gb: int = attrs.field(
        default=100, metadata=describe(minimum=10, doc="Boot disk size in GB.")
    )
    drivers_preset: str = attrs.field(
        default="cuda13.0",
        metadata=describe(min_length=1, max_length=63, doc="GPU drivers preset."),
    )
    accelerator: Accelerator = attrs.field(metadata=describe(doc="GPUs each node carries."))


@attrs.frozen(kw_only=True)
class Provisioning:
    provider: Provider = attrs.field(metadata=describe(doc="Cloud this recipe provisions on."))
    gke: GKEProvisioning | None = attrs.field(
        default=None, metadata=describe(doc="Recipe for GKE node pools.")
    )
    eks: EKSProvisioning | None = attrs.field(
        default=None, metadata=describe(doc="Recipe for EKS node groups.")
    )
    aks: AKSProvisioning | None = attrs.field(
        default=None, metadata=describe(doc="Recipe for AKS node pools.")
    )
    nebius: NebiusProvisioning | None = attrs.field(
        default=None, metadata=describe(doc="Recipe for Nebius node groups.")
    )
    vultr: VultrProvisioning | None = attrs.field(
        default=None, metadata=describe(doc="Recipe for Vultr node pools.")
    )


@attrs.frozen(kw_only=True)
class InferenceClassSpec:
    description: str | None = attrs.field(
        default=None, metadata=describe(doc="Free-text description.")
    )
    provisioning: Provisioning | None = attrs.field(
        default=None,
        metadata=describe(doc="How to create a pool of this class; omit for existing clusters."),
    )
    devices: tuple[Device, ...] = attrs.field(
        metadata=describe(
            min_items=1,
            max_items=16,
            list_map_keys=("name",),
            doc="The devices every node of this class carries, DRA-style.",
        )
    )


@attrs.frozen(kw_only=True)
class InferenceClassStatus:
    conditions: tuple[Condition, ...] | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class InferenceClass(HasKindInfo):
    """A hardware profile: the devices a pool's nodes carry and how to provision them."""

    kind_info = KindInfo(
        api_version=API_VERSION,
        kind="InferenceClass",
        plural="inferenceclasses",
        scope="Cluster",
        short_names=("icl",),
        description=(
            "An InferenceClass describes the devices every node of a pool carries (the "
            "contract ModelDeployment selectors match) and optionally how to provision it."
        ),
    )

    metadata: ObjectMeta = attrs.field()
    spec: InferenceClassSpec = attrs.field()
    status: InferenceClassStatus | None = attrs.field(default=None)
