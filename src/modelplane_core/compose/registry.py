"""Which composer serves which kind; the single dispatch table adapters use."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Final

from modelplane_core.api.registry import Resource
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import Composition, Observed

# Every composer: ``compose(observed, cache=None)``; the cache is the caller's memory.
Composer = Callable[[Observed[Any], Cache | None], Composition]

# Module per kind, imported on first use so one kind's composer never costs another's.
_MODULES: Final[dict[str, str]] = {
    "ModelDeployment": "model_deployment",
    "ModelReplica": "model_replica",
    "ModelEndpoint": "model_endpoint",
    "ModelService": "model_service",
    "ModelCache": "model_cache",
    "InferenceClass": "inference_class",
    "InferenceCluster": "inference_cluster",
    "InferenceGateway": "inference_gateway",
    "ServingStack": "serving_stack",
    "GKECluster": "gke_cluster",
    "EKSCluster": "eks_cluster",
    "AKSCluster": "aks_cluster",
    "NebiusCluster": "nebius_cluster",
    "VultrCluster": "vultr_cluster",
}


def composer_for(kind: str | type[Resource]) -> Composer:
    """The ``compose`` function for ``kind``; raises KeyError for a kind we do not serve."""
    name = kind if isinstance(kind, str) else kind.kind_info.kind
    module = importlib.import_module(f"modelplane_core.compose.{_MODULES[name]}")
    composer: Composer = module.compose
    return composer


def compose(observed: Observed[Any], cache: Cache | None = None) -> Composition:
    """Dispatch on the composite's kind."""
    return composer_for(type(observed.composite))(observed, cache)


def composed_kinds() -> list[str]:
    return sorted(_MODULES)
