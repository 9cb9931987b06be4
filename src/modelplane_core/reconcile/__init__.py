"""The reconcile engine shared by the simulator and the standalone controller.

:class:`Engine` plans a reconcile of one composite from a
:class:`ClusterState` (decode, resolve requirements, compose, diff against
what exists); :func:`execute` performs the plan through a :class:`Writer`.
The simulator's store and the Kubernetes API are the two backends.
"""

from modelplane_core.reconcile.engine import (
    KIND_ORDER,
    MAX_REQUIREMENT_ROUNDS,
    Engine,
    Plan,
    call_composer,
    composites,
    execute,
    is_composite,
    reconcile_order,
)
from modelplane_core.reconcile.port import (
    ClusterState,
    ObjectKey,
    Owner,
    StoredObject,
    Writer,
    describe,
    key_of,
)

__all__ = [
    "KIND_ORDER",
    "MAX_REQUIREMENT_ROUNDS",
    "ClusterState",
    "Engine",
    "ObjectKey",
    "Owner",
    "Plan",
    "StoredObject",
    "Writer",
    "call_composer",
    "composites",
    "describe",
    "execute",
    "is_composite",
    "key_of",
    "reconcile_order",
]
