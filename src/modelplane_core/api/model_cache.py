"""ModelCache: model weights staged once per cluster on shared storage."""

from __future__ import annotations

from typing import Literal

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

CacheSource = Literal["HuggingFace"]
CachePhase = Literal["Pending", "Hydrating", "Ready", "Failed"]


@attrs.frozen(kw_only=True)
class SecretKeyReference:
    name: str = attrs.field(
        metadata=describe(min_length=1, doc="Secret in the ModelCache's namespace.")
    )
    key: str = attrs.field(default="HF_TOKEN", metadata=describe(doc="Key holding the token."))


@attrs.frozen(kw_only=True)
class HuggingFaceSource:
    repo: str = attrs.field(
        metadata=describe(min_length=1, doc="Repository to fetch, e.g. Qwen/Qwen3-8B.")
    )
    revision: str | None = attrs.field(
        default=None,
        metadata=describe(doc="Branch, tag or commit; the default branch when absent."),
    )
    auth_secret: SecretKeyReference | None = attrs.field(
        default=None,
        metadata=describe(
            doc="Token for gated or private repos, propagated to every cluster the cache stages to."
        ),
    )
    size_gib: int = attrs.field(
        metadata=describe(
            wire="sizeGiB",
            minimum=1,
            maximum=100000,
            doc="Storage for the weights on each cluster, in GiB; size it to the model.",
        )
    )


@attrs.frozen(kw_only=True)
class ModelCacheSpec:
    source: CacheSource = attrs.field(
        metadata=describe(doc="Where the weights come from; HuggingFace today.")
    )
    hugging_face: HuggingFaceSource | None = attrs.field(
        default=None,
        metadata=describe(doc="The Hugging Face source; required when source is HuggingFace."),
    )
    cluster_selector: LabelSelector | None = attrs.field(
        default=None,
        metadata=describe(
            doc="Clusters to stage on; omitted, every cluster. Narrowing it narrows where a "
            "referencing ModelDeployment places new replicas."
        ),
    )


@attrs.frozen(kw_only=True)
class CacheSummary:
    ready: str | None = attrs.field(
        default=None, metadata=describe(doc='Ready clusters over matched, e.g. "2/3".')
    )


@attrs.frozen(kw_only=True)
class CacheClusterStatus:
    name: str = attrs.field(metadata=describe(doc="InferenceCluster name."))
    phase: CachePhase | None = attrs.field(default=None)
    message: str | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class ModelCacheStatus:
    conditions: tuple[Condition, ...] | None = attrs.field(default=None)
    summary: CacheSummary | None = attrs.field(default=None)
    clusters: tuple[CacheClusterStatus, ...] | None = attrs.field(default=None)


@attrs.frozen(kw_only=True)
class ModelCache(HasKindInfo):
    """Stage a model's weights once per cluster on ReadWriteMany storage."""

    kind_info = KindInfo(
        api_version=API_VERSION,
        kind="ModelCache",
        plural="modelcaches",
        scope="Namespaced",
        short_names=("mc",),
        printer_columns=(
            PrinterColumn("SOURCE", ".spec.huggingFace.repo"),
            PrinterColumn("READY", ".status.summary.ready"),
        ),
        description=(
            "A ModelCache stages model weights once per cluster on shared storage, mounted "
            "at /mnt/models in every pod of a referencing ModelDeployment."
        ),
    )

    metadata: ObjectMeta = attrs.field()
    spec: ModelCacheSpec = attrs.field()
    status: ModelCacheStatus | None = attrs.field(default=None)
