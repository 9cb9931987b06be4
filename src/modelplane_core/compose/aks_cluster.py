"""AKSCluster -> not provisioned yet: a clear refusal instead of a half-built cluster.

An InferenceCluster with ``source: AKS`` validates, publishes its pools and
composes this composite from its classes' AKS recipes; composing the AKS
managed resources themselves (cluster, node pools, storage) is not built yet.
Register an existing AKS cluster with ``source: Existing`` meanwhile.
"""

from __future__ import annotations

from typing import Final

from modelplane_core.api.infrastructure import AKSCluster
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import Composition, Observed
from modelplane_core.compose.platform.unprovisioned import refuse

NOT_SUPPORTED: Final = (
    "provisioning AKS clusters is not supported yet; register an existing AKS cluster "
    "with source: Existing and its kubeconfig Secret"
)


def compose(observed: Observed[AKSCluster], cache: Cache | None = None) -> Composition:
    return refuse(observed, NOT_SUPPORTED)
