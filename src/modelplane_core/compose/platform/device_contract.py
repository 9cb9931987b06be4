"""The device contract an InferenceClass publishes, checked as DRA will read it.

A class's devices are copied verbatim into every pool that uses it, and from
there into the scheduler's CEL evaluation and the DRA ResourceClaims bound on
the workload cluster. A value the API schema accepts but DRA cannot parse (a
capacity of ``"80 GB"``, a version attribute of ``"9.0"``) would only fail far
away, at match or bind time, with no pointer back to the class. These checks
catch it at the class, with the field path.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Final

from modelplane_core.api.devices import Device
from modelplane_core.api.documents import validate
from modelplane_core.api.errors import FieldError, index_path, join_path, key_path
from modelplane_core.api.inference_class import InferenceClass
from modelplane_core.api.validation import validate_value
from modelplane_core.cel.quantity import QuantityError, parse_quantity
from modelplane_core.cel.semver import SemverError, parse_semver

MAX_DEVICES: Final = 16

_QUANTITY_HINT: Final = (
    'a capacity must be a Kubernetes quantity such as "81559Mi", "80Gi" or "1.5T"'
)


def quantity_problem(value: str) -> str | None:
    """Why ``value`` is not a usable capacity quantity, or None.

    Acceptance is exactly the matcher's (``parse_quantity``, Kubernetes'
    ``ParseQuantity``), so a class never publishes a capacity that the CEL
    evaluation would then reject. On top, two things Kubernetes accepts but
    no real capacity means: a negative amount, and a number with no digits
    (``"Gi"``, ``"+"``, ``"."``), which Kubernetes silently reads as 0.
    """
    try:
        quantity = parse_quantity(value)
    except QuantityError as exc:
        return f"{exc}; {_QUANTITY_HINT}"
    if not _number_has_digits(value):
        return (
            f"invalid quantity {value!r}: it has no digits, so Kubernetes would read it as 0; "
            f"{_QUANTITY_HINT}"
        )
    if quantity.sign() < 0:
        return f"invalid quantity {value!r}: a capacity cannot be negative"
    return None


def _number_has_digits(value: str) -> bool:
    """Whether the number before the suffix has a digit (``"e3"`` and ``"Mi"`` do not)."""
    number = value[1:] if value[:1] in ("+", "-") else value
    return any(c != "." for c in itertools.takewhile(lambda c: c in "0123456789.", number))


def semver_problem(value: str) -> str | None:
    """Why ``value`` is not a semantic version DRA accepts, or None.

    DRA parses ``version`` attributes strictly (``semver.Parse``), exactly as
    the matcher's ``parse_semver`` does; a version it rejects would make the
    device fail every selector.
    """
    try:
        parse_semver(value)
    except SemverError as exc:
        return (
            f"{exc}; a version attribute must be a strict semantic version "
            'MAJOR.MINOR.PATCH[-prerelease][+build] (e.g. "9.0.0"), as DRA and semver() require'
        )
    return None


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
