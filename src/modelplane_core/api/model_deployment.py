"""ModelDeployment: the ML team's request for a model served somewhere in the fleet.

The shape follows the seeds: engines directly under ``spec``. The reference
implementation's v0.3 layout nests everything but ``replicas`` under
``spec.template`` (with ``spec.template.metadata.labels``); manifests in that
layout are read too, and become this same object (see
:mod:`modelplane_core.api.deployment_layout`), which remembers the layout it
was read in so errors and output speak it back. ``tolerations`` and
``replicaLabels`` are additive, optional fields beyond the seeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from modelplane_core.api.fields import DNS_LABEL, DNS_LABEL_HINT, describe
from modelplane_core.api.meta import (
    API_VERSION,
    Condition,
    HasKindInfo,
    KindInfo,
    LabelSelector,
    ObjectMeta,
    PrinterColumn,
    Toleration,
)
from modelplane_core.api.pods import PodTemplate

Role = Literal["Standalone", "Leader", "Worker"]
Phase = Literal["Prefill", "Decode"]
ServingMode = Literal["Unified", "PrefillDecode"]
# The wire layout a ModelDeployment was read in: the seeds' (engines under spec) or
# the reference's v0.3 one (everything but replicas under spec.template).
Layout = Literal["engines", "template"]


@attrs.frozen(kw_only=True)
class DeviceSelector:
    """One selector a device must satisfy; today the only kind is a DRA CEL expression."""

    cel: str | None = attrs.field(
        default=None,
        metadata=describe(
            min_length=1,
            max_length=10240,
            doc="A DRA CEL expression evaluated against one device. Reads device.driver, "
            'device.attributes["<driver>"].<name> (typed) and device.capacity["<driver>"].<name> '
            "(a quantity), with quantity() and semver() helpers, e.g. "
            'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("141Gi")) >= 0.',
        ),
    )


@attrs.frozen(kw_only=True)
class DeviceRequest:
    """A per-node device request: ``count`` devices that each satisfy every selector."""

    name: str = attrs.field(
        metadata=describe(
            min_length=1,
            max_length=63,
            pattern=DNS_LABEL,
            pattern_hint=DNS_LABEL_HINT,
            doc="Name of this request; becomes the DRA DeviceRequest name in the ResourceClaim.",
        )
    )
    count: int = attrs.field(
        default=1,
        metadata=describe(
            minimum=1,
            maximum=64,
            doc="How many matching devices each pod needs from its node (for GPUs: GPUs per node).",
        ),
    )
    selectors: tuple[DeviceSelector, ...] = attrs.field(
        metadata=describe(
            min_items=1,
            max_items=8,
            list_type="atomic",
            doc="Selectors a device must satisfy, all ANDed.",
        )
    )


@attrs.frozen(kw_only=True)
class NodeSelector:
    """What each of a member's pods needs from its node, as DRA device requests."""

    devices: tuple[DeviceRequest, ...] = attrs.field(
        metadata=describe(
            min_items=1,
            max_items=16,
            list_map_keys=("name",),
            doc="Device requests; a pool matches only when it satisfies every one.",
        )
    )


@attrs.frozen(kw_only=True)
class WorkerSpec:
    nodes: int = attrs.field(
        metadata=describe(
            minimum=1,
            maximum=63,
            doc="How many nodes the workers span, one worker pod per node; the gang is 1 + nodes.",
        )
    )


@attrs.frozen(kw_only=True)
class EngineMember:
    """One role of an engine's gang with its hardware and pod template."""

    role: Role = attrs.field(
        default="Standalone",
        metadata=describe(
            doc="Standalone is a lone pod; a Leader coordinates and serves while its Workers join."
        ),
    )
    node_selector: NodeSelector | None = attrs.field(
        default=None,
        metadata=describe(
            doc="The per-node device request for this member's pods. Omitted, the member claims "
            "no devices and rides on its engine's pool (a coordinator-only leader)."
        ),
    )
    worker: WorkerSpec | None = attrs.field(
        default=None,
        metadata=describe(doc="Settings for a Worker member; valid only when role is Worker."),
    )
    template: PodTemplate = attrs.field(
        metadata=describe(doc="Pod template for this member's engine pods.")
    )

    @property
    def pods(self) -> int:
        """Pods (hence nodes) one copy of this member occupies."""
        if self.role != "Worker":
            return 1
        return self.worker.nodes if self.worker is not None else 1


@attrs.frozen(kw_only=True)
class Engine:
    """One serving unit: a single Standalone pod, or a Leader with Workers across nodes."""

    name: str = attrs.field(
        metadata=describe(
            min_length=1,
            max_length=63,
            pattern=DNS_LABEL,
            pattern_hint=DNS_LABEL_HINT,
            doc="Identifies the engine; part of the composed workload names, so a DNS label.",
        )
    )
    copies: int = attrs.field(
        default=1,
        metadata=describe(
            minimum=1,
            maximum=64,
            doc="Identical copies of this engine per ModelReplica; fixed, never autoscaled.",
        ),
    )
    phase: Phase | None = attrs.field(
        default=None,
        metadata=describe(doc="Prefill or Decode; only when serving.mode is PrefillDecode."),
    )
    members: tuple[EngineMember, ...] = attrs.field(
        metadata=describe(
            min_items=1,
            max_items=2,
            list_type="atomic",
            doc="Either a single Standalone member, or one Leader and one Worker.",
        )
    )

    @property
    def is_gang(self) -> bool:
        return any(m.role == "Leader" for m in self.members)


@attrs.frozen(kw_only=True)
class Serving:
    mode: ServingMode = attrs.field(
        default="Unified",
        metadata=describe(
            doc="Unified serves prefill and decode on one engine; PrefillDecode splits them."
        ),
    )


@attrs.frozen(kw_only=True)
class ModelCacheRef:
    name: str = attrs.field(
        metadata=describe(min_length=1, doc="ModelCache name in the same namespace.")
    )


@attrs.frozen(kw_only=True)
class ModelDeploymentSpec:
    replicas: int = attrs.field(
        metadata=describe(
            minimum=1,
            maximum=10,
            doc="How many ModelReplicas to fan out to; each is a complete serving instance.",
        )
    )
    cluster_selector: LabelSelector | None = attrs.field(
        default=None,
        metadata=describe(
            doc="Label selector over InferenceClusters; omitted, every ready cluster qualifies."
        ),
    )
    model_cache_ref: ModelCacheRef | None = attrs.field(
        default=None,
        metadata=describe(
            doc="A ModelCache mounted at /mnt/models; required when any engine is a gang."
        ),
    )
    serving: Serving | None = attrs.field(
        default=None, metadata=describe(doc="How the deployment is served; omitted means Unified.")
    )
    tolerations: tuple[Toleration, ...] | None = attrs.field(
        default=None,
        metadata=describe(
            list_type="atomic", doc="Taints on InferenceClusters this deployment tolerates."
        ),
    )
    replica_labels: Mapping[str, str] | None = attrs.field(
        default=None,
        metadata=describe(
            max_properties=32,
            doc="Labels stamped on the ModelReplicas, ModelEndpoints and engine pods this "
            "deployment composes, beside the ones Modelplane manages (keys under modelplane.ai/ "
            "are reserved). The v0.3 layout writes them as spec.template.metadata.labels.",
        ),
    )
    engines: tuple[Engine, ...] = attrs.field(
        metadata=describe(
            min_items=1,
            max_items=8,
            list_map_keys=("name",),
            doc="The inference engines every replica runs, together on one cluster.",
        )
    )

    @property
    def serving_mode(self) -> ServingMode:
        return self.serving.mode if self.serving is not None else "Unified"


@attrs.frozen(kw_only=True)
class ReplicaCounts:
    total: int | None = attrs.field(
        default=None, metadata=describe(doc="Replicas scheduled (the scale subresource).")
    )
    ready: int | None = attrs.field(default=None, metadata=describe(doc="Replicas ready to serve."))


@attrs.frozen(kw_only=True)
class ModelDeploymentStatus:
    replicas: ReplicaCounts | None = attrs.field(default=None)
    conditions: tuple[Condition, ...] | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class ModelDeployment(HasKindInfo):
    """Deploy a model to the fleet, from a single pod to disaggregated prefill and decode."""

    kind_info = KindInfo(
        api_version=API_VERSION,
        kind="ModelDeployment",
        plural="modeldeployments",
        scope="Namespaced",
        short_names=("md",),
        printer_columns=(PrinterColumn("REPLICAS", ".status.replicas.ready"),),
        description=(
            "A ModelDeployment serves a model across the fleet: the scheduler places each "
            "replica on a cluster and pool whose hardware matches, and keeps it there."
        ),
        scale=(".spec.replicas", ".status.replicas.total"),
    )

    metadata: ObjectMeta = attrs.field()
    spec: ModelDeploymentSpec = attrs.field()
    status: ModelDeploymentStatus | None = attrs.field(default=None)
    # Not on the wire: the layout the manifest was written in, so that validation
    # errors name the fields the user wrote and ``to_dict`` writes them back.
    layout: Layout = attrs.field(default="engines", eq=False, metadata=describe(internal=True))
