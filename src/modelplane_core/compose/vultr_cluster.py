"""VultrCluster -> not provisioned yet: a clear refusal instead of a half-built cluster.

An InferenceCluster with ``source: Vultr`` validates, publishes its pools and
composes this composite from its classes' Vultr recipes; composing the Vultr
managed resources themselves (cluster, node pools, storage) is not built yet.
Register an existing Vultr cluster with ``source: Existing`` meanwhile.
"""

from __future__ import annotations

from typing import Final

from modelplane_core.api.infrastructure import VultrCluster
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import Composition, Observed
from modelplane_core.compose.platform.unprovisioned import refuse

NOT_SUPPORTED: Final = (
    "provisioning Vultr clusters is not supported yet; register an existing Vultr cluster "
    "with source: Existing and its kubeconfig Secret"
)


def compose(observed: Observed[VultrCluster], cache: Cache | None = None) -> Composition:
    return refuse(observed, NOT_SUPPORTED)
