"""InferenceClass -> a verdict on the device contract; nothing is composed.

A class is pure data: InferenceClusters copy its devices into the pools the
scheduler reads, and provisioned clusters turn its recipe into node pools.
The composer's job is to say early, on the class itself, whether that data
is usable -- every problem with its field path -- instead of letting a bad
quantity or a DRA device without a DeviceClass surface later as a pool that
silently never matches or a claim that never binds.
"""

from __future__ import annotations

from typing import Final

from modelplane_core.api.devices import Device
from modelplane_core.api.inference_class import InferenceClass
from modelplane_core.cache import Cache
from modelplane_core.compose.composition import Composition, Event, Observed, condition
from modelplane_core.compose.platform.device_contract import class_problems
from modelplane_core.compose.platform.messages import summarize

ACCEPTED: Final = "Accepted"


def compose(observed: Observed[InferenceClass], cache: Cache | None = None) -> Composition:
    inference_class = observed.composite
    problems = class_problems(inference_class)
    if problems:
        message = f"the class cannot be used: {summarize([str(p) for p in problems])}"
        return Composition(
            conditions=(condition(ACCEPTED, False, "InvalidClass", message),),
            events=(Event.warning("InvalidClass", message),),
            ready=False,
        )
    return Composition(
        conditions=(condition(ACCEPTED, True, "Available", _usable_message(inference_class)),),
        ready=True,
    )


def _usable_message(inference_class: InferenceClass) -> str:
    devices = ", ".join(_describe(d) for d in inference_class.spec.devices)
    provisioning = inference_class.spec.provisioning
    where = (
        f"provisions {provisioning.provider} node pools"
        if provisioning is not None
        else "describes existing nodes (no provisioning recipe)"
    )
    return f"publishes {devices}; {where}"


def _describe(device: Device) -> str:
    kind = "claimed through DRA" if device.claimable else "matched only (Synthetic)"
    return f"{device.name} ({device.count}x {device.driver}, {kind})"
