"""Names of everything one ModelReplica composes on its workload cluster.

All replicas of all teams share the workload namespace of a cluster
(:data:`~modelplane_core.compose.topology.WORKLOAD_NAMESPACE`), so every name
is built from the control-plane namespace *and* the replica name, hashed by
:func:`~modelplane_core.compose.names.child_name` so it stays a DNS label of at
most 63 characters, is the same on every reconcile, and differs for any two
replicas (co-located, or of two teams with the same names).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import attrs

from modelplane_core.compose.names import MAX_NAME, child_name, short_hash, suffixed

# A LeaderWorkerSet's name reappears inside longer names it derives: the worker
# StatefulSet ``<name>-<group>`` whose controller-revision-hash label appends
# another 11 characters and must stay a 63-character label value, pod
# hostnames ``<name>-<group>-<worker>``, and the leader's DNS name. Capping the
# workload name at 45 characters leaves room for up to 64 copies and 63 workers.
WORKLOAD_NAME_MAX: Final = 45
_NOT_DNS: Final = re.compile(r"[^a-z0-9]+")


def qualified_name(head: Sequence[str], tail: str, max_length: int = MAX_NAME) -> str:
    """``<head...>-<tail>-<hash>``: like ``child_name``, but ``tail`` survives truncation.

    The engine a workload serves is what a person scans ``kubectl get`` for,
    so it stays readable at the end while the namespace/replica head is cut.
    The hash covers every exact part, so names stay distinct.
    """
    digest = short_hash("\x00".join((*head, tail)))
    tail_text = _NOT_DNS.sub("-", tail.lower()).strip("-")[: max_length // 2].strip("-")
    room = max_length - len(digest) - len(tail_text) - 2
    head_text = _NOT_DNS.sub("-", "-".join(head).lower()).strip("-")[: max(room, 0)].rstrip("-")
    return "-".join(part for part in (head_text, tail_text, digest) if part)


def starts_with_letter(name: str, max_length: int = MAX_NAME) -> str:
    """``name`` made a DNS-1035 label (Services and LeaderWorkerSets need a leading letter).

    A namespace may start with a digit, and so may a name derived from it.
    The hash at the end of a derived name is kept, so names stay distinct.
    """
    if name[:1].isalpha():
        return name
    return f"m{name}" if len(name) < max_length else f"m{name[1:]}"


@attrs.frozen
class ReplicaNames:
    """The names of one replica's objects, from its namespace and name."""

    namespace: str
    replica: str

    @property
    def replica_id(self) -> str:
        """The replica's identity on a shared cluster: a label value and a name stem."""
        return child_name(self.namespace, self.replica)

    def workload(self, engine: str) -> str:
        """The engine's Deployment or LeaderWorkerSet (engine-qualified so two engines differ)."""
        return starts_with_letter(
            qualified_name((self.namespace, self.replica), engine, WORKLOAD_NAME_MAX),
            WORKLOAD_NAME_MAX,
        )

    def claim_template(self, engine: str, role: str) -> str:
        """The ResourceClaimTemplate one member's pods claim their devices through."""
        return qualified_name((self.namespace, self.replica), f"{engine}-{role.lower()}")

    @property
    def service(self) -> str:
        """The Service in front of a Unified replica's serving pods."""
        return starts_with_letter(self.replica_id)

    @property
    def route(self) -> str:
        """The HTTPRoute on the workload cluster's gateway."""
        return self.replica_id

    @property
    def pool(self) -> str:
        """The InferencePool of a PrefillDecode replica."""
        return suffixed(self.replica_id, "pool")

    @property
    def endpoint_picker(self) -> str:
        """The endpoint picker's Deployment, Service, ConfigMap and RBAC objects."""
        return starts_with_letter(suffixed(self.replica_id, "epp"))
