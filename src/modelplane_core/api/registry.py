"""Which Python class serves which ``apiVersion``/``kind``."""

from __future__ import annotations

from typing import TypeAlias

from modelplane_core.api.inference_class import InferenceClass
from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.inference_gateway import InferenceGateway
from modelplane_core.api.infrastructure import (
    AKSCluster,
    EKSCluster,
    GKECluster,
    NebiusCluster,
    ServingStack,
    VultrCluster,
)
from modelplane_core.api.meta import GROUP, INFRA_GROUP
from modelplane_core.api.model_cache import ModelCache
from modelplane_core.api.model_deployment import ModelDeployment
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.api.model_routing import ModelEndpoint, ModelService

Resource: TypeAlias = (
    ModelDeployment
    | ModelReplica
    | ModelService
    | ModelEndpoint
    | ModelCache
    | InferenceClass
    | InferenceCluster
    | InferenceGateway
    | ServingStack
    | GKECluster
    | EKSCluster
    | AKSCluster
    | NebiusCluster
    | VultrCluster
)

KINDS: tuple[type[Resource], ...] = (
    ModelDeployment,
    ModelReplica,
    ModelService,
    ModelEndpoint,
    ModelCache,
    InferenceClass,
    InferenceCluster,
    InferenceGateway,
    ServingStack,
    GKECluster,
    EKSCluster,
    AKSCluster,
    NebiusCluster,
    VultrCluster,
)

_BY_API_VERSION_KIND: dict[tuple[str, str], type[Resource]] = {
    (cls.kind_info.api_version, cls.kind_info.kind): cls for cls in KINDS
}
_BY_KIND: dict[str, type[Resource]] = {cls.kind_info.kind: cls for cls in KINDS}
OUR_GROUPS = frozenset({GROUP, INFRA_GROUP})


def kind_class(api_version: str, kind: str) -> type[Resource] | None:
    """The class for an exact ``apiVersion``/``kind`` pair, if it is one of ours."""
    return _BY_API_VERSION_KIND.get((api_version, kind))


def class_for_kind(kind: str | type[Resource]) -> type[Resource]:
    """Resolve a kind name (``"ModelDeployment"``) or class to its class."""
    if isinstance(kind, type):
        return kind
    try:
        return _BY_KIND[kind]
    except KeyError:
        known = ", ".join(sorted(_BY_KIND))
        raise KeyError(f"unknown kind {kind!r}; Modelplane kinds are {known}") from None


def is_our_group(api_version: str) -> bool:
    return api_version.split("/", 1)[0] in OUR_GROUPS


def known_kinds() -> list[str]:
    return sorted(_BY_KIND)
