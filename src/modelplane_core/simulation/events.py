"""What can happen to a fleet: the events a scenario's timeline is made of.

Each event is what a person or the world does -- a platform engineer adds a
cluster or drains one, an ML engineer scales a deployment, a region goes dark
-- expressed as a change to the objects the control plane watches (or, for an
outage, to what the providers can reach). The control plane's reaction is
never part of an event: the simulator reconciles afterwards, with the real
composers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from modelplane_core.api.meta import API_VERSION
from modelplane_core.simulation.store import describe as describe_key

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


@attrs.frozen(kw_only=True)
class Apply:
    """Create or replace objects (``kubectl apply``): add or edit anything."""

    manifests: tuple[Mapping[str, Any], ...]

    def describe(self) -> str:
        return "apply " + ", ".join(_name(m) for m in self.manifests)


@attrs.frozen(kw_only=True)
class Delete:
    """Delete one object (``kubectl delete``); what it composed is garbage-collected."""

    kind: str
    name: str
    namespace: str | None = None
    api_version: str = API_VERSION

    def describe(self) -> str:
        return "delete " + describe_key(
            (self.api_version, self.kind, self.namespace or "", self.name)
        )


@attrs.frozen(kw_only=True)
class Patch:
    """A JSON merge patch on one object (``kubectl patch --type merge``)."""

    kind: str
    name: str
    patch: Mapping[str, Any]
    namespace: str | None = None
    api_version: str = API_VERSION

    def describe(self) -> str:
        return "patch " + describe_key(
            (self.api_version, self.kind, self.namespace or "", self.name)
        )


@attrs.frozen(kw_only=True)
class Scale:
    """Set a ModelDeployment's ``spec.replicas`` (``kubectl scale``, KEDA)."""

    deployment: str
    namespace: str
    replicas: int

    def describe(self) -> str:
        return f"scale ModelDeployment {self.namespace}/{self.deployment} to {self.replicas}"


@attrs.frozen(kw_only=True)
class Outage:
    """An inference cluster becomes unreachable (``down=True``) or reachable again.

    Nothing about its objects changes; its providers simply cannot reach it, so
    its workloads and serving stack stop reporting Ready until it recovers.
    """

    cluster: str
    down: bool = True

    def describe(self) -> str:
        return f"{'outage of' if self.down else 'recovery of'} cluster {self.cluster}"


@attrs.frozen(kw_only=True)
class Taint:
    """Add (or with ``remove``, take off) a taint on an InferenceCluster.

    ``NoSchedule`` keeps new replicas off; ``NoExecute`` also drains the ones
    running there (they are re-placed elsewhere).
    """

    cluster: str
    key: str
    value: str | None = None
    effect: TaintEffect = "NoExecute"
    remove: bool = False

    def describe(self) -> str:
        value = f"={self.value}" if self.value else ""
        verb = "untaint" if self.remove else "taint"
        return f"{verb} cluster {self.cluster} {self.key}{value}:{self.effect}"


@attrs.frozen(kw_only=True)
class Resize:
    """Change one node pool's ``nodeCount`` on an InferenceCluster."""

    cluster: str
    pool: str
    nodes: int

    def describe(self) -> str:
        return f"resize pool {self.pool} of cluster {self.cluster} to {self.nodes} nodes"


Event = Apply | Delete | Patch | Scale | Outage | Taint | Resize


@attrs.frozen(kw_only=True)
class Timed:
    """An event at a simulated time (seconds from the start)."""

    at: float
    event: Event


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _name(manifest: Mapping[str, Any]) -> str:
    metadata = manifest.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name", "?")
    return f"{manifest.get('kind', '?')} {f'{namespace}/' if namespace else ''}{name}"
