"""Selector semantics, row by row: expression, device, expected verdict.

Rows follow the reference's pinned table (upstream-scheduler-cel-tests.md §1.1),
the selector items of its "Gaps" (§4 items 5-11) and Kubernetes DRA's own rules
(landscape.md §4); quantity and semver rows live in test_quantity / test_semver.
Verdicts:

- ``T`` / ``F``: evaluates to true / false;
- ``ERR``: a non-match with an evaluation error reported (never raised);
- ``COMPILE``: rejected by ``cel.compile``, as Kubernetes rejects it.
"""

from __future__ import annotations

from typing import Any

import pytest

from modelplane_core import cel
from modelplane_core.api.codec import structure
from modelplane_core.api.devices import Device

T, F, ERR, COMPILE = "T", "F", "ERR", "COMPILE"

A = 'device.attributes["gpu.nvidia.com"]'
C = 'device.capacity["gpu.nvidia.com"]'

GPU: dict[str, Any] = {
    "driver": "gpu.nvidia.com",
    "attributes": {
        "architecture": {"string": "Hopper"},
        "cudaComputeCapability": {"version": "9.5.3"},
        "resource.kubernetes.io/pcieRoot": {"string": "pci0"},
    },
    "capacity": {"memory": {"value": "141Gi"}},
}
NIC = {"driver": "nic.nvidia.com", "attributes": {"linkType": {"string": "infiniband"}}}
LARGE_BLACK = {
    "driver": "resource-driver.example.com",
    "attributes": {"color": {"string": "black"}, "size": {"string": "large"}},
}
SMALL_WHITE = {
    "driver": "resource-driver.example.com",
    "attributes": {"color": {"string": "white"}, "size": {"string": "small"}},
}
EXAMPLE_GPU = {"driver": "gpu.example.com", "attributes": {"type": {"string": "gpu"}}}
DRA_EXAMPLE = {
    "driver": "dra.example.com",
    "attributes": {"ext.example.com/family": {"string": "x"}, "model": {"string": "y"}},
}


def gpu_memory(value: str) -> dict[str, Any]:
    return {
        "driver": "driver.example.com",
        "attributes": {"type": {"string": "gpu"}},
        "capacity": {"memory": {"value": value}},
    }


def dev(**attributes: dict[str, Any]) -> dict[str, Any]:
    return {"driver": "gpu.nvidia.com", "attributes": attributes}


BLACK_LARGE = (
    'device.attributes["resource-driver.example.com"].color == "black" && '
    'device.attributes["resource-driver.example.com"].size == "large"'
)
WHITE_SMALL = (
    'device.attributes["resource-driver.example.com"].color == "white" && '
    'device.attributes["resource-driver.example.com"].size == "small"'
)
EXAMPLE = "device.driver == 'gpu.example.com' && device.attributes['gpu.example.com'].type == 'gpu'"
MEMORY_64 = (
    'device.attributes["driver.example.com"].type == "gpu" && '
    'device.capacity["driver.example.com"].memory == quantity("64Gi")'
)

ROWS: list[tuple[str, dict[str, Any], str]] = [
    # driver
    ('device.driver == "gpu.nvidia.com"', GPU, T),
    ('device.driver == "nic.nvidia.com"', GPU, F),
    # quantities on capacity
    (f'{C}.memory.compareTo(quantity("141Gi")) >= 0', GPU, T),
    (f'{C}.memory.compareTo(quantity("200Gi")) >= 0', GPU, F),
    (f'{C}.memory.isGreaterThan(quantity("80Gi"))', GPU, T),
    (f'{C}.memory.isLessThan(quantity("200Gi"))', GPU, T),
    (f"sign({C}.memory) == 1", GPU, T),
    (f"{C}.memory.asInteger() == 151397597184", GPU, T),
    (f"{C}.memory.isInteger()", GPU, T),
    (f'{C}.memory.add(quantity("1Gi")).compareTo(quantity("142Gi")) == 0', GPU, T),
    (f"{C}.memory.add(1).isGreaterThan({C}.memory)", GPU, T),
    ('isQuantity("1.3Gi")', GPU, T),
    ('isQuantity("200K")', GPU, F),
    # semver on a version attribute
    (f'{A}.cudaComputeCapability.isGreaterThan(semver("9.0.0"))', GPU, T),
    (f'{A}.cudaComputeCapability.isGreaterThan(semver("9.9.0"))', GPU, F),
    (f"{A}.cudaComputeCapability.major() == 9", GPU, T),
    (f"{A}.cudaComputeCapability.minor() == 5", GPU, T),
    (f"{A}.cudaComputeCapability.patch() == 3", GPU, T),
    (f'{A}.cudaComputeCapability == semver("9.5.3")', GPU, T),
    ('isSemver("1.0.0")', GPU, T),
    ('isSemver("1.0")', GPU, F),
    ('isSemver("1.0", true)', GPU, T),
    ('semver("v1.0", true).major() == 1', GPU, T),
    ('semver("v1.0").major() == 1', GPU, ERR),
    # typed scalar attributes
    (f'{A}.architecture == "Hopper"', GPU, T),
    ('device.attributes["nic.nvidia.com"].linkType == "infiniband"', NIC, T),
    (f"{A}.x", dev(x={"bool": True}), T),
    (f"{A}.x", dev(x={"bool": False}), F),
    (f"{A}.x >= 8", dev(x={"int": 8}), T),
    (f"{A}.x >= 8", dev(x={"int": 4}), F),
    # qualified names: first slash splits, bare names take the driver's domain
    ('device.attributes["resource.kubernetes.io"].pcieRoot == "pci0"', GPU, T),
    ('device.attributes["a"]["b/c"] == "x"', dev(**{"a/b/c": {"string": "x"}}), T),
    # landscape §4: ext.example.com/family reads as device.attributes["ext.example.com"].family
    (
        'device.attributes["ext.example.com"].family == "x" && '
        'device.attributes["dra.example.com"].model == "y"',
        DRA_EXAMPLE,
        T,
    ),
    ('"family" in device.attributes["dra.example.com"]', DRA_EXAMPLE, F),
    (f'{A}.explicit == "x"', dev(**{"gpu.nvidia.com/explicit": {"string": "x"}}), T),
    # non-matches that must not raise
    (
        f'{A}.cudaComputeCapability.isGreaterThan(semver("8.0.0"))',
        dev(cudaComputeCapability={"version": "9.0"}),
        ERR,
    ),
    (
        f'{C}.memory.compareTo(quantity("1Gi")) >= 0',
        gpu_memory("10Mo") | {"driver": "gpu.nvidia.com"},
        ERR,
    ),
    (f'{A}.nope == "x"', GPU, ERR),
    # one unconvertible value fails the whole device, even for selectors that never read it
    ('device.driver == "gpu.nvidia.com"', dev(bad={}), ERR),
    ('device.driver == "gpu.nvidia.com"', dev(bad={"string": "a", "int": 1}), ERR),
    ('device.driver == "gpu.nvidia.com"', dev(cudaComputeCapability={"version": "9.0"}), ERR),
    ('device.driver == "driver.example.com"', gpu_memory("10Mo"), ERR),
    ('device.driver == "driver.example.com"', gpu_memory("1.0.0"), ERR),
    # a quantity Kubernetes accepts is a valid capacity, however odd ("Mi" is 0)
    ('device.capacity["driver.example.com"].memory == quantity("0")', gpu_memory("Mi"), T),
    # domain presence
    ('"other.com" in device.attributes', GPU, F),
    ('"gpu.nvidia.com" in device.attributes', GPU, T),
    ('device.attributes["other.com"].x == "y"', GPU, ERR),
    (f'"gpu.nvidia.com" in device.attributes && {A}.architecture == "Hopper"', GPU, T),
    (f'"name" in {C} && {C}.name.isGreaterThan(quantity("1"))', GPU, F),
    (f'!("name" in {C}) || {C}.name.isGreaterThan(quantity("1"))', GPU, T),
    (f"has({A}.architecture)", GPU, T),
    (f"has({A}.nope)", GPU, F),
    # the full design selector
    (
        f'{A}.cudaComputeCapability.isGreaterThan(semver("9.0.0")) && '
        f'{C}.memory.compareTo(quantity("141Gi")) >= 0',
        GPU,
        T,
    ),
    # verbatim examples from the Kubernetes DRA documentation
    (BLACK_LARGE, LARGE_BLACK, T),
    (BLACK_LARGE, SMALL_WHITE, F),
    (WHITE_SMALL, SMALL_WHITE, T),
    (EXAMPLE, EXAMPLE_GPU, T),
    (EXAMPLE, NIC, F),
    (MEMORY_64, gpu_memory("64Gi"), T),
    (MEMORY_64, gpu_memory("32Gi"), F),
    # CEL's commutative error absorption
    (f'{A}.nope == "x" || true', GPU, T),
    (f'true || {A}.nope == "x"', GPU, T),
    (f'false && {A}.nope == "x"', GPU, F),
    (f'{A}.nope == "x" && false', GPU, F),
    (f'{A}.nope == "x" || false', GPU, ERR),
    # standard library and macros
    ("size(device.attributes) == 2", GPU, T),
    (f'{A}.exists(k, k == "architecture")', GPU, T),
    (f"{A}.all(k, k.size() > 3)", GPU, T),
    ('device.driver.startsWith("gpu.")', GPU, T),
    ('device.driver.matches("^gpu\\\\.")', GPU, T),
    (f'{A}.architecture.lowerAscii() == "hopper"', GPU, T),
    ('device.driver.split(".").size() == 3', GPU, T),
    # list indexes as cel-go reads them: no negative indexes, integral doubles only
    ("[1, 2][1] == 2", GPU, T),
    ("[1, 2][1.0] == 2", GPU, T),
    ("[1, 2][1u] == 2", GPU, T),
    ("[1, 2][-1] == 2", GPU, ERR),
    ("[1, 2][2] == 2", GPU, ERR),
    ("[1, 2][0.5] == 1", GPU, ERR),
    (f"[1, 2][{A}.x] == 2", dev(x={"bool": True}), ERR),
    # results that are not bool are compile errors when knowable, runtime non-matches when dyn
    (f"{A}.x", dev(x={"int": 5}), ERR),
    ('"5"', GPU, COMPILE),
    ("1", GPU, COMPILE),
    # the reference's documented leniencies are compile errors here, as in Kubernetes
    (f"{C}.memory.sign() == 1", GPU, COMPILE),
    ('has(device.attributes["gpu.nvidia.com"])', GPU, COMPILE),
    ("isQuantity([1, 2, 3])", GPU, COMPILE),
    ("isSemver([1, 2, 3])", GPU, COMPILE),
    # typos and type errors: compile errors, never a silent "insufficient capacity"
    ('quantty("1Gi").isInteger()', GPU, COMPILE),
    ('device.atributes["gpu.nvidia.com"].x == 1', GPU, COMPILE),
    ("device.foo == 1", GPU, COMPILE),
    ("device.allowMultipleAllocations", GPU, COMPILE),
    ("gpu.memory > 1", GPU, COMPILE),
    (f"{A}.cudaComputeCapability.major(1) == 9", GPU, COMPILE),
    ('quantity("1") == 1', GPU, COMPILE),
    ('quantity("1") < quantity("2")', GPU, COMPILE),
    ('semver("1.0.0") < semver("2.0.0")', GPU, COMPILE),
    ('semver("1.0.0").compareTo(quantity("1")) == 0', GPU, COMPILE),
    ('quantity("1").isInteger', GPU, COMPILE),
    ('isInteger(quantity("1"))', GPU, COMPILE),
    ('"a" + 1 == "a1"', GPU, COMPILE),
    ("!1", GPU, COMPILE),
    ("cel.bind(x, 1, x == 1)", GPU, COMPILE),
    ('isURL("https://example.com")', GPU, COMPILE),
    # outside Kubernetes' DRA environment (ext.Math) or not implemented here (Lists)
    ("math.greatest(1, 2) == 2", GPU, COMPILE),
    ("[1, 2].isSorted()", GPU, COMPILE),
    ("not ) valid (", GPU, COMPILE),
    ("", GPU, COMPILE),
    ("   ", GPU, COMPILE),
]


@pytest.mark.parametrize(
    ("expression", "device", "expected"),
    ROWS,
    ids=[f"{i:02d}-{row[2]}-{row[0][:50]}" for i, row in enumerate(ROWS)],
)
def test_selector_verdict(expression: str, device: dict[str, Any], expected: str) -> None:
    if expected == COMPILE:
        with pytest.raises(cel.CompileError):
            cel.compile(expression)
        return
    outcome = cel.compile(expression).evaluate(device)
    if expected == ERR:
        assert not outcome.matched
        assert outcome.error, "an evaluation error must say why"
    else:
        assert outcome.error is None, outcome.error
        assert outcome.matched is (expected == T)


def test_api_device_and_wire_dict_agree() -> None:
    selector = cel.compile(
        f'{A}.architecture == "Hopper" && {C}.memory.isGreaterThan(quantity("80Gi"))'
    )
    typed = structure({"name": "gpu", "deviceClassName": "gpu.nvidia.com", **GPU}, Device)
    assert selector.evaluate(typed) == selector.evaluate(GPU)
    assert selector.matches(typed)


def test_capacity_entry_without_value_is_skipped() -> None:
    device = {"driver": "d", "capacity": {"memory": {}}, "attributes": {"a": {"int": 1}}}
    assert cel.compile('device.attributes["d"].a == 1').matches(device)
    outcome = cel.compile('device.capacity["d"].memory.isInteger()').evaluate(device)
    assert not outcome.matched
    assert outcome.error


def test_missing_driver_and_maps_default_to_empty() -> None:
    assert cel.compile('device.driver == ""').matches({})
    assert cel.compile("size(device.attributes) == 0 && size(device.capacity) == 0").matches({})


def test_oversized_device_is_an_error_not_an_unbounded_evaluation() -> None:
    device = {"driver": "d", "attributes": {f"a{i}": {"int": i} for i in range(33)}}
    outcome = cel.compile('device.driver == "d"').evaluate(device)
    assert not outcome.matched
    assert outcome.error is not None
    assert "32" in outcome.error


def test_malformed_device_is_reported_not_raised() -> None:
    outcome = cel.compile('device.driver == "d"').evaluate({"attributes": {"a": ["not", "a map"]}})
    assert not outcome.matched
    assert outcome.error
