"""A cloud cluster kind whose provisioning is not built: say so, and keep what exists.

The API, its validation and the InferenceCluster side are in place (the
InferenceCluster composes the cloud composite from its classes' recipes), but
composing the cloud's managed resources is not: the composer composes
nothing new, never returns an empty desired state for a live composite, and
says why on the ``Accepted`` condition, which the InferenceCluster relays.
"""

from __future__ import annotations

from typing import Any, Final

from modelplane_core.compose.composition import Composition, Event, Observed, condition, hold

ACCEPTED: Final = "Accepted"


def refuse(observed: Observed[Any], message: str) -> Composition:
    return hold(
        observed,
        conditions=[condition(ACCEPTED, False, "NotSupported", message)],
        events=[Event.warning("NotSupported", message)],
        status={},
        ready_keys=[k for k, r in observed.resources.items() if r.condition_true("Ready")],
    )
