"""ModelReplica: one complete serving instance, pinned to one cluster and its pools.

Composed by the ModelDeployment composer from the scheduler's placement; the
scheduler's decisions (cluster, pool per member, resolved DRA requests) are
stamped on it so they survive as inputs to the next reconcile.
"""

from __future__ import annotations

import attrs

from modelplane_core.api.fields import DNS_LABEL, DNS_LABEL_HINT, describe
from modelplane_core.api.meta import (
    API_VERSION,
    Condition,
    HasKindInfo,
    KindInfo,
    ObjectMeta,
    PrinterColumn,
)
from modelplane_core.api.model_deployment import (
    DeviceSelector,
    ModelCacheRef,
    Phase,
    Role,
    Serving,
    ServingMode,
    WorkerSpec,
)
from modelplane_core.api.pods import PodTemplate


@attrs.frozen(kw_only=True)
class ResolvedDeviceRequest:
    """A device request resolved against a pool: what the ResourceClaim will ask DRA for."""

    name: str = attrs.field(
        metadata=describe(
            min_length=1,
            max_length=63,
            pattern=DNS_LABEL,
            pattern_hint=DNS_LABEL_HINT,
            doc="Request name; becomes the DeviceRequest name.",
        )
    )
    count: int = attrs.field(
        default=1, metadata=describe(minimum=1, maximum=64, doc="How many devices to claim.")
    )
    device_class_name: str = attrs.field(
        metadata=describe(
            min_length=1,
            max_length=253,
            doc="Cluster-scoped DRA DeviceClass to claim through, from the matched device.",
        )
    )
    selectors: tuple[DeviceSelector, ...] | None = attrs.field(
        default=None,
        metadata=describe(max_items=8, list_type="atomic", doc="CEL selectors carried to DRA."),
    )


@attrs.frozen(kw_only=True)
class ReplicaMember:
    role: Role = attrs.field(
        default="Standalone", metadata=describe(doc="Standalone, Leader or Worker.")
    )
    node_pool_name: str = attrs.field(
        metadata=describe(
            min_length=1,
            doc="The pool on the pinned cluster the scheduler chose for this member; a member "
            "with no device requests of its own is pinned to its engine's pool.",
        )
    )
    device_requests: tuple[ResolvedDeviceRequest, ...] | None = attrs.field(
        default=None,
        metadata=describe(
            min_items=1,
            max_items=16,
            list_map_keys=("name",),
            doc="The DRA requests the member's pods claim; absent for a claimless member.",
        ),
    )
    worker: WorkerSpec | None = attrs.field(
        default=None, metadata=describe(doc="Worker settings; only on a Worker.")
    )
    template: PodTemplate = attrs.field(
        metadata=describe(doc="Pod template for this member's engine pods.")
    )

    @property
    def pods(self) -> int:
        if self.role != "Worker":
            return 1
        return self.worker.nodes if self.worker is not None else 1

    @property
    def claims_devices(self) -> bool:
        return bool(self.device_requests)


@attrs.frozen(kw_only=True)
class ReplicaEngine:
    name: str = attrs.field(
        metadata=describe(
            min_length=1, max_length=63, pattern=DNS_LABEL, pattern_hint=DNS_LABEL_HINT
        )
    )
    copies: int = attrs.field(default=1, metadata=describe(minimum=1, maximum=64))
    phase: Phase | None = attrs.field(default=None)
    members: tuple[ReplicaMember, ...] = attrs.field(
        metadata=describe(min_items=1, max_items=2, list_type="atomic")
    )


@attrs.frozen(kw_only=True)
class ModelReplicaSpec:
    cluster_name: str = attrs.field(
        metadata=describe(
            min_length=1,
            doc="The InferenceCluster this replica is pinned to. A replica never moves: if its "
            "cluster is deleted the parent ModelDeployment places a new one elsewhere.",
        )
    )
    model_cache_ref: ModelCacheRef | None = attrs.field(
        default=None,
        metadata=describe(doc="ModelCache mounted into the engine pods, inherited verbatim."),
    )
    serving: Serving | None = attrs.field(
        default=None,
        metadata=describe(doc="Serving mode, inherited verbatim from the parent ModelDeployment."),
    )
    engines: tuple[ReplicaEngine, ...] = attrs.field(
        metadata=describe(min_items=1, max_items=8, list_map_keys=("name",))
    )

    @property
    def serving_mode(self) -> ServingMode:
        return self.serving.mode if self.serving is not None else "Unified"


@attrs.frozen(kw_only=True)
class ModelReplicaStatus:
    conditions: tuple[Condition, ...] | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class ModelReplica(HasKindInfo):
    """One serving instance of a ModelDeployment, pinned to an InferenceCluster."""

    kind_info = KindInfo(
        api_version=API_VERSION,
        kind="ModelReplica",
        plural="modelreplicas",
        scope="Namespaced",
        short_names=("mr",),
        printer_columns=(PrinterColumn("CLUSTER", ".spec.clusterName"),),
        description=(
            "A ModelReplica is one complete serving instance of a ModelDeployment, pinned "
            "to one InferenceCluster and its pools. Composed by ModelDeployment."
        ),
    )

    metadata: ObjectMeta = attrs.field()
    spec: ModelReplicaSpec = attrs.field()
    status: ModelReplicaStatus | None = attrs.field(default=None)
