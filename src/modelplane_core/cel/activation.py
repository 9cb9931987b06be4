"""The ``device`` variable a selector sees, built once per distinct device content.

The shape is DRA's: ``device.driver``, ``device.attributes[domain][id]`` and
``device.capacity[domain][id]``. Names are qualified names: ``domain/id``
splits on the first ``/``; a bare name belongs to the driver's domain. An
unknown domain reads as an empty map (so ``device.attributes["x.com"].y`` is
an "unknown id" error rather than a crash), while ``"x.com" in
device.attributes`` stays false.

Values are converted up front, as Kubernetes does when it builds the
activation: version attributes are parsed strictly into semvers and capacity
values into quantities. A device whose content cannot be converted (no typed
value, a malformed version or quantity, more entries than the limits allow)
fails every selector with the reason: it is never partially visible.

Fleets repeat devices (every pool of a class publishes the same ones), so the
conversion is remembered on the device's content key in the caller's
:class:`~.cache.SelectorCache`, when one is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from celpy import celtypes

from modelplane_core.cel.limits import MAX_ATTRIBUTES, MAX_CAPACITIES, MAX_STRING
from modelplane_core.cel.quantity import QuantityError, parse_quantity
from modelplane_core.cel.semver import SemverError, parse_semver

if TYPE_CHECKING:
    from modelplane_core.cel.cache import SelectorCache

# (name, kind, value) triples; kind is one of string/bool/int/version, or "" when unset.
AttributeKey = tuple[tuple[str, str, Any], ...]
CapacityKey = tuple[tuple[str, str | None], ...]
DeviceKey = tuple[str, AttributeKey, CapacityKey]

_KINDS = ("string", "bool", "int", "version")


class _DomainMap(celtypes.MapType):
    """``device.attributes`` / ``device.capacity``: an unknown domain reads as an empty map."""

    def __getitem__(self, key: Any) -> Any:
        try:
            return super().__getitem__(key)
        except KeyError:
            return celtypes.MapType({})


@attrs.frozen
class Activation:
    """Either the converted device (``value``) or why it cannot be evaluated (``error``)."""

    value: celtypes.MapType | None
    error: str | None = None


def _get(source: Any, name: str) -> Any:
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def _attribute_kind(value: Any) -> tuple[str, Any]:
    set_fields = [(kind, _get(value, kind)) for kind in _KINDS if _get(value, kind) is not None]
    if len(set_fields) != 1:
        return "", None
    return set_fields[0]


def device_key(device: Any) -> DeviceKey:
    """A hashable key of everything a selector can see: equal keys, equal outcomes."""
    driver = _get(device, "driver") or ""
    attributes = _get(device, "attributes") or {}
    capacity = _get(device, "capacity") or {}
    attribute_key = tuple(
        sorted((str(name), *_attribute_kind(value)) for name, value in attributes.items())
    )
    capacity_key = tuple(
        sorted((str(name), _get(value, "value")) for name, value in capacity.items())
    )
    return str(driver), attribute_key, capacity_key


def _split(name: str, driver: str) -> tuple[str, str]:
    domain, slash, identifier = name.partition("/")
    return (domain, identifier) if slash else (driver, name)


def _attribute_value(name: str, kind: str, value: Any) -> Any:
    if kind == "string":
        if not isinstance(value, str):
            raise ValueError(f"attribute {name!r}: string value is not a string")
        if len(value) > MAX_STRING:
            raise ValueError(f"attribute {name!r}: string longer than {MAX_STRING} characters")
        return celtypes.StringType(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"attribute {name!r}: bool value is not a bool")
        return celtypes.BoolType(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"attribute {name!r}: int value is not an integer")
        return celtypes.IntType(value)
    if kind == "version":
        try:
            return parse_semver(str(value))
        except SemverError as exc:
            # Kubernetes' DeviceMatches words it "attribute <name>: parse semantic version: ...".
            raise ValueError(
                f"attribute {name!r}: parse semantic version: {exc.explained()}"
            ) from exc
    raise ValueError(
        f"attribute {name!r}: unsupported attribute value (set exactly one of "
        "string, bool, int or version)"
    )


def _build(key: DeviceKey) -> celtypes.MapType:
    driver, attributes, capacity = key
    if len(attributes) > MAX_ATTRIBUTES or len(capacity) > MAX_CAPACITIES:
        raise ValueError(
            f"device has more than {MAX_ATTRIBUTES} attributes or {MAX_CAPACITIES} capacities"
        )
    by_domain: dict[str, dict[celtypes.StringType, Any]] = {}
    for name, kind, value in attributes:
        domain, identifier = _split(name, driver)
        by_domain.setdefault(domain, {})[celtypes.StringType(identifier)] = _attribute_value(
            name, kind, value
        )
    capacity_by_domain: dict[str, dict[celtypes.StringType, Any]] = {}
    for name, text in capacity:
        if text is None:
            continue  # an entry without a value is not published capacity
        domain, identifier = _split(name, driver)
        try:
            quantity = parse_quantity(str(text))
        except QuantityError as exc:
            raise ValueError(f"capacity {name!r}: {exc.explained()}") from exc
        capacity_by_domain.setdefault(domain, {})[celtypes.StringType(identifier)] = quantity

    def domains(source: dict[str, dict[celtypes.StringType, Any]]) -> _DomainMap:
        return _DomainMap(
            {celtypes.StringType(d): celtypes.MapType(ids) for d, ids in source.items()}
        )

    return celtypes.MapType(
        {
            celtypes.StringType("driver"): celtypes.StringType(driver),
            celtypes.StringType("attributes"): domains(by_domain),
            celtypes.StringType("capacity"): domains(capacity_by_domain),
        }
    )


def activation_for_key(key: DeviceKey) -> Activation:
    try:
        return Activation(_build(key))
    except ValueError as exc:
        return Activation(None, str(exc))


def activation(device: Any, cache: SelectorCache | None = None) -> tuple[DeviceKey, Activation]:
    """The content key and converted form of ``device`` (an api Device or its wire dict)."""
    try:
        key = device_key(device)
        hash(key)
    except (AttributeError, TypeError) as exc:
        bad: DeviceKey = ("", (), ())
        return bad, Activation(None, f"malformed device: {exc}")
    if cache is None:
        return key, activation_for_key(key)
    return key, cache.activations.get(key, lambda: activation_for_key(key))
