"""The device contract an InferenceClass publishes, checked as DRA will read it.

A class's devices are copied verbatim into every pool that uses it, and from
there into the scheduler's CEL evaluation and the DRA ResourceClaims bound on
the workload cluster. A value the API schema accepts but DRA cannot parse (a
capacity of ``"80 GB"``, a version attribute of ``"9.0"``) would only fail far
away, at match or bind time, with no pointer back to the class. These checks
catch it at the class, with the field path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from modelplane_core.api.devices import Device
from modelplane_core.api.documents import validate
from modelplane_core.api.errors import FieldError, index_path, join_path, key_path
from modelplane_core.api.inference_class import InferenceClass
from modelplane_core.api.validation import validate_value

MAX_DEVICES: Final = 16

# Kubernetes resource.Quantity: a signed decimal number with an optional binary
# (Ki..Ei), decimal (n, u, m, k, M..E) or exponent (e3, E-2) suffix.
_QUANTITY: Final = re.compile(
    r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$"
)
# Semantic Versioning 2.0.0, the syntax DRA requires of a ``version`` attribute.
_NUMBER = r"(?:0|[1-9]\d*)"
_IDENT = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER: Final = re.compile(
    rf"^{_NUMBER}\.{_NUMBER}\.{_NUMBER}"
    rf"(?:-{_IDENT}(?:\.{_IDENT})*)?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


def quantity_problem(value: str) -> str | None:
    """Why ``value`` is not a usable capacity quantity, or None."""
    if not _QUANTITY.match(value):
        return (
            f"invalid quantity {value!r}: must be a Kubernetes quantity such as "
            '"81559Mi", "80Gi" or "1.5T"'
        )
    if value.startswith("-"):
        return f"invalid quantity {value!r}: a capacity cannot be negative"
    return None


def semver_problem(value: str) -> str | None:
    """Why ``value`` is not a semantic version DRA accepts, or None."""
    if _SEMVER.match(value):
        return None
    return (
        f"invalid version {value!r}: must be a semantic version MAJOR.MINOR.PATCH "
        '(e.g. "9.0.0"), as DRA and semver() require'
    )


def device_problems(devices: Sequence[Device], path: str = "spec.devices") -> list[FieldError]:
    """Every problem of a device list, as the pool that copies it would expose it."""
    problems: list[FieldError] = []
    if not devices:
        problems.append(FieldError(path, "a class must describe at least one device"))
    if len(devices) > MAX_DEVICES:
        problems.append(
            FieldError(path, f"must have at most {MAX_DEVICES} devices (got {len(devices)})")
        )
    first_index: dict[str, int] = {}
    for index, device in enumerate(devices):
        device_path = index_path(path, index)
        if device.name in first_index:
            problems.append(
                FieldError(
                    join_path(device_path, "name"),
                    f"duplicate device name {device.name!r} (also at index "
                    f"{first_index[device.name]}); selectors address devices by name",
                )
            )
        else:
            first_index[device.name] = index
        problems.extend(validate_value(device, device_path))
        problems.extend(_value_problems(device, device_path))
    return problems


def _value_problems(device: Device, path: str) -> list[FieldError]:
    problems: list[FieldError] = []
    for name, capacity in sorted((device.capacity or {}).items()):
        problem = quantity_problem(capacity.value)
        if problem:
            field = join_path(key_path(join_path(path, "capacity"), name), "value")
            problems.append(FieldError(field, problem))
    for name, attribute in sorted((device.attributes or {}).items()):
        if attribute.version is not None and (problem := semver_problem(attribute.version)):
            field = join_path(key_path(join_path(path, "attributes"), name), "version")
            problems.append(FieldError(field, problem))
    return problems


def class_problems(inference_class: InferenceClass) -> list[FieldError]:
    """Every problem of a class: schema, cross-field rules, then the DRA value syntax.

    Schema and rule problems come first (they are what the API server would
    also reject); the value-syntax checks only a DRA consumer would trip over follow.
    """
    problems = validate(inference_class)
    for index, device in enumerate(inference_class.spec.devices):
        problems.extend(_value_problems(device, index_path("spec.devices", index)))
    return problems
