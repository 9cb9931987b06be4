"""NebiusCluster -> not provisioned yet: a clear refusal instead of a half-built cluster.

The API and the InferenceCluster side are in place (an InferenceCluster with
``source: Nebius`` composes this composite from its classes' Nebius recipes),
but two things stop Modelplane from provisioning Nebius today:

* a Nebius mk8s kubeconfig carries no credentials: providers authenticate
  with a Nebius service-account identity, which provider-kubernetes supports
  only from v1.3.0, while Modelplane targets v1.2.1;
* the provider-nebius resource schemas are not among the schemas every
  composed manifest is validated against.

Until both hold, the composer composes nothing new, keeps whatever exists
(never an empty desired state for a live composite) and says why on the
``Accepted`` condition, which the InferenceCluster relays.
"""

from __future__ import annotations

from typing import Final

from modelplane_core.api.infrastructure import NebiusCluster
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import Composition, Observed
from modelplane_core.compose.platform.provider_configs import PROVIDER_KUBERNETES_VERSION
from modelplane_core.compose.platform.unprovisioned import ACCEPTED, refuse

NOT_SUPPORTED: Final = (
    "provisioning Nebius clusters is not supported yet: their kubeconfig needs a Nebius "
    "service-account identity, which provider-kubernetes supports from v1.3.0 "
    f"(Modelplane targets {PROVIDER_KUBERNETES_VERSION}); register an existing Nebius "
    "cluster with source: Existing and a kubeconfig that carries its own credentials"
)


__all__ = ["ACCEPTED", "NOT_SUPPORTED", "compose"]


def compose(observed: Observed[NebiusCluster], cache: Cache | None = None) -> Composition:
    return refuse(observed, NOT_SUPPORTED)
