"""The curated subset of PodTemplateSpec a member's engine pods are built from.

Only what the seeds expose: one container named ``engine`` with its image,
command, args and env, plus pod labels, annotations and image pull secrets.
Everything else about the pod (placement, claims, probes) is Modelplane's to
compose, which is what keeps a ModelDeployment portable across clusters.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from modelplane_core.api.fields import describe
from modelplane_core.api.meta import LocalObjectReference

ENGINE_CONTAINER = "engine"


@attrs.frozen(kw_only=True)
class KeySelector:
    """Selects a key of a Secret or ConfigMap in the pod's namespace."""

    name: str = attrs.field(metadata=describe(doc="Name of the Secret or ConfigMap."))
    key: str = attrs.field(metadata=describe(doc="The key to read."))
    optional: bool | None = attrs.field(
        default=None, metadata=describe(doc="Whether the key must exist.")
    )


@attrs.frozen(kw_only=True)
class ObjectFieldSelector:
    field_path: str = attrs.field(
        metadata=describe(doc="Pod field to read, e.g. status.podIP or metadata.name.")
    )
    api_version: str | None = attrs.field(
        default=None, metadata=describe(doc="Schema version of field_path.")
    )


@attrs.frozen(kw_only=True)
class EnvVarSource:
    secret_key_ref: KeySelector | None = attrs.field(
        default=None, metadata=describe(doc="A key of a Secret.")
    )
    config_map_key_ref: KeySelector | None = attrs.field(
        default=None, metadata=describe(doc="A key of a ConfigMap.")
    )
    field_ref: ObjectFieldSelector | None = attrs.field(
        default=None,
        metadata=describe(
            doc="Reference a pod field via the downward API, e.g. status.podIP, "
            "metadata.name, or metadata.namespace."
        ),
    )

    def set_fields(self) -> list[str]:
        return [
            wire
            for wire, value in (
                ("secretKeyRef", self.secret_key_ref),
                ("configMapKeyRef", self.config_map_key_ref),
                ("fieldRef", self.field_ref),
            )
            if value is not None
        ]


@attrs.frozen(kw_only=True)
class EnvVar:
    name: str = attrs.field(metadata=describe(doc="Environment variable name."))
    value: str | None = attrs.field(default=None, metadata=describe(doc="Literal value."))
    value_from: EnvVarSource | None = attrs.field(
        default=None, metadata=describe(doc="Source of the value.")
    )


@attrs.frozen(kw_only=True)
class Container:
    name: str = attrs.field(
        metadata=describe(
            min_length=1,
            doc='Container name. The container named "engine" is the inference engine.',
        )
    )
    image: str = attrs.field(metadata=describe(min_length=1, doc="Container image."))
    command: tuple[str, ...] | None = attrs.field(
        default=None,
        metadata=describe(
            doc="Entrypoint override, passed through verbatim. A gang's command addresses the "
            "leader through $(MODELPLANE_LEADER_ADDRESS), which Modelplane injects."
        ),
    )
    args: tuple[str, ...] | None = attrs.field(
        default=None,
        metadata=describe(
            doc="Engine arguments, passed through verbatim (model, parallelism, ...)."
        ),
    )
    env: tuple[EnvVar, ...] | None = attrs.field(
        default=None,
        metadata=describe(
            doc="Environment variables; valueFrom supports secretKeyRef, configMapKeyRef, fieldRef."
        ),
    )


@attrs.frozen(kw_only=True)
class PodSpec:
    containers: tuple[Container, ...] = attrs.field(
        metadata=describe(
            min_items=1,
            max_items=1,
            doc='The engine pod\'s single container, which must be named "engine".',
        )
    )
    image_pull_secrets: tuple[LocalObjectReference, ...] | None = attrs.field(
        default=None, metadata=describe(doc="Image pull secrets for private registries (NGC etc.).")
    )

    @property
    def engine(self) -> Container:
        """The engine container; validation guarantees exactly one exists."""
        for container in self.containers:
            if container.name == ENGINE_CONTAINER:
                return container
        return self.containers[0]


@attrs.frozen(kw_only=True)
class PodTemplateMetadata:
    labels: Mapping[str, str] | None = attrs.field(
        default=None,
        metadata=describe(max_properties=32, doc="Labels applied to the member's pods."),
    )
    annotations: Mapping[str, str] | None = attrs.field(
        default=None,
        metadata=describe(max_properties=32, doc="Annotations applied to the member's pods."),
    )


@attrs.frozen(kw_only=True)
class PodTemplate:
    """Pod template for a member's engine pods; a curated subset of PodTemplateSpec."""

    metadata: PodTemplateMetadata | None = attrs.field(
        default=None,
        metadata=describe(
            doc="Metadata applied to the member's pods, e.g. labels for service-mesh injection."
        ),
    )
    spec: PodSpec = attrs.field(metadata=describe(doc="Pod spec for this member's engine pods."))
