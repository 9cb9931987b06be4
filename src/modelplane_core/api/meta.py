"""Pieces every kind shares: object metadata, selectors, conditions, taints.

They follow the Kubernetes shapes field for field so that a manifest a user
already knows reads the same here, and so observed objects from a cluster can
be decoded without translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

import attrs

from modelplane_core.api.fields import describe

GROUP = "modelplane.ai"
INFRA_GROUP = "infrastructure.modelplane.ai"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
INFRA_API_VERSION = f"{INFRA_GROUP}/{VERSION}"

# Labels the control plane owns on ModelReplicas and ModelEndpoints.
LABEL_DEPLOYMENT = "modelplane.ai/deployment"
LABEL_CLUSTER = "modelplane.ai/cluster"
LABEL_REPLICA_INDEX = "modelplane.ai/replica-index"
# Node label that pins a pod to the pool the scheduler chose.
LABEL_POOL = "modelplane.ai/pool"
RESERVED_LABEL_PREFIX = "modelplane.ai/"


@attrs.frozen(kw_only=True)
class OwnerReference:
    api_version: str = attrs.field()
    kind: str = attrs.field()
    name: str = attrs.field()
    uid: str = attrs.field()
    controller: bool | None = attrs.field(default=None)
    block_owner_deletion: bool | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class ObjectMeta:
    """The subset of Kubernetes ObjectMeta Modelplane reads or writes.

    Server-managed bookkeeping (``managedFields``, ``selfLink``) is stripped by
    adapters before decoding; it never influences a decision.
    """

    name: str | None = attrs.field(default=None)
    generate_name: str | None = attrs.field(default=None)
    namespace: str | None = attrs.field(default=None)
    labels: Mapping[str, str] | None = attrs.field(default=None)
    annotations: Mapping[str, str] | None = attrs.field(default=None)
    uid: str | None = attrs.field(default=None)
    resource_version: str | None = attrs.field(default=None)
    generation: int | None = attrs.field(default=None)
    creation_timestamp: str | None = attrs.field(default=None)
    deletion_timestamp: str | None = attrs.field(default=None)
    finalizers: tuple[str, ...] | None = attrs.field(default=None)
    owner_references: tuple[OwnerReference, ...] | None = attrs.field(default=None)

    @property
    def label_map(self) -> Mapping[str, str]:
        return self.labels or {}


@attrs.frozen(kw_only=True)
class LabelSelector:
    """Equality-based label selector (``matchLabels`` only, as the seeds define it)."""

    match_labels: Mapping[str, str] | None = attrs.field(
        default=None,
        metadata=describe(
            doc="Labels an object must carry, all of them, with exactly these values."
        ),
    )

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if not self.match_labels:
            return True
        have = labels or {}
        return all(have.get(k) == v for k, v in self.match_labels.items())


ConditionStatus = Literal["True", "False", "Unknown"]


@attrs.frozen(kw_only=True)
class Condition:
    """A Kubernetes status condition, as Crossplane and kubectl display it."""

    type: str = attrs.field()
    status: ConditionStatus = attrs.field()
    reason: str | None = attrs.field(default=None)
    message: str | None = attrs.field(default=None)
    last_transition_time: str | None = attrs.field(default=None)
    observed_generation: int | None = attrs.field(default=None)


def find_condition(conditions: tuple[Condition, ...] | None, type_: str) -> Condition | None:
    """The condition of ``type_`` in a status, if reported."""
    for condition in conditions or ():
        if condition.type == type_:
            return condition
    return None


TaintEffect = Literal["NoSchedule", "NoExecute"]


@attrs.frozen(kw_only=True)
class Taint:
    """A taint on an InferenceCluster, with Kubernetes node-taint semantics.

    ``NoSchedule`` keeps new replicas off; ``NoExecute`` also drains the
    replicas already there that do not tolerate it.
    """

    key: str = attrs.field(metadata=describe(min_length=1, max_length=316, doc="The taint key."))
    value: str | None = attrs.field(
        default=None, metadata=describe(max_length=63, doc="The taint value.")
    )
    effect: TaintEffect = attrs.field(
        metadata=describe(
            doc="NoSchedule keeps new replicas off; NoExecute also drains untolerated replicas."
        )
    )


TolerationOperator = Literal["Exists", "Equal"]


@attrs.frozen(kw_only=True)
class Toleration:
    """A toleration on a ModelDeployment, matching taints like a pod's toleration does."""

    key: str | None = attrs.field(
        default=None,
        metadata=describe(
            max_length=316,
            doc="Taint key to tolerate. Empty with operator Exists tolerates every taint.",
        ),
    )
    operator: TolerationOperator = attrs.field(
        default="Equal",
        metadata=describe(doc="Equal matches key and value; Exists matches the key alone."),
    )
    value: str | None = attrs.field(
        default=None, metadata=describe(max_length=63, doc="Value to match with Equal.")
    )
    effect: TaintEffect | None = attrs.field(
        default=None, metadata=describe(doc="Effect to tolerate; empty tolerates both effects.")
    )

    def tolerates(self, taint: Taint) -> bool:
        if self.effect is not None and self.effect != taint.effect:
            return False
        if not self.key:
            # An empty key only makes sense with Exists (validation enforces it).
            return self.operator == "Exists"
        if self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return (self.value or "") == (taint.value or "")


def tolerated(taint: Taint, tolerations: tuple[Toleration, ...] | None) -> bool:
    return any(t.tolerates(taint) for t in tolerations or ())


@attrs.frozen(kw_only=True)
class LocalObjectReference:
    name: str = attrs.field(
        metadata=describe(min_length=1, doc="Name of the referenced object in the same namespace.")
    )


@attrs.frozen
class PrinterColumn:
    name: str
    json_path: str
    type: str = "string"


@attrs.frozen(kw_only=True)
class KindInfo:
    """Facts about a kind that its XRD needs and that never vary per object."""

    api_version: str
    kind: str
    plural: str
    scope: Literal["Namespaced", "Cluster"]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ("crossplane", "modelplane")
    printer_columns: tuple[PrinterColumn, ...] = ()
    description: str = ""
    # specReplicasPath / statusReplicasPath of the scale subresource, if any.
    scale: tuple[str, str] | None = None

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0]

    @property
    def version(self) -> str:
        return self.api_version.split("/", 1)[1]

    @property
    def namespaced(self) -> bool:
        return self.scope == "Namespaced"


class HasKindInfo:
    """Marker base for top-level kinds; every subclass sets ``kind_info``."""

    __slots__ = ()
    kind_info: ClassVar[KindInfo]
