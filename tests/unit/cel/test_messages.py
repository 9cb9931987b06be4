"""Evaluation errors read like Kubernetes': cel-go's words, then our detail where it helps.

The expected texts are cel-go's and Kubernetes' own (types.NewErr and friends
in cel-go's common/types and interpreter, resource.ParseQuantity's errors,
blang/semver's Parse errors, the DRA scheduler's result conversion), typed
here from those sources rather than from this package's output.
"""

from __future__ import annotations

from typing import Any

import pytest

from modelplane_core import cel

A = 'device.attributes["gpu.nvidia.com"]'
C = 'device.capacity["gpu.nvidia.com"]'
GPU: dict[str, Any] = {
    "driver": "gpu.nvidia.com",
    "attributes": {
        "architecture": {"string": "Hopper"},
        "n": {"int": 5},
        "v": {"version": "1.2.3"},
    },
    "capacity": {"memory": {"value": "141Gi"}},
}
FORMAT_WRONG = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)


def error_of(expression: str, device: dict[str, Any] = GPU) -> str:
    outcome = cel.compile(expression).evaluate(device)
    assert not outcome.matched
    assert outcome.error is not None
    return outcome.error


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        # Unknown ids, keys and fields: cel-go's "no such key: %v".
        (f'{A}.nope == "x"', "no such key: nope"),
        (f'{A}["nope"] == "x"', "no such key: nope"),
        (f"{C}.nope.isInteger()", "no such key: nope"),
        ('device.attributes["other.com"].x == 1', "no such key: x"),
        ('{"a": 1}["b"] == 1', "no such key: b"),
        ('{1: "a"}[2] == "a"', "no such key: 2"),
        (f"{A}.n.x == 1", "no such key: x"),  # selecting from an int
        # List indexes: the interpreter's "index out of bounds: %v", and IndexOrError.
        ("[1][5] == 1", "index out of bounds: 5"),
        ("[1][-1] == 1", "index out of bounds: -1"),
        ("[1][0.5] == 1", "unsupported index value 0.5 in list"),
        (f"[1][{A}.architecture] == 1", "unsupported index type 'string' in list"),
        # Type mismatches only dyn values can reach: "no such overload: f(types)".
        (f"{A}.architecture > 1", "no such overload: _>_(string, int)"),
        (f'{A}.n + "a" == "x"', "no such overload: _+_(int, string)"),
        (f"!{A}.n", "no such overload: !_(int)"),
        (f"-{A}.architecture == 1", "no such overload: -_(string)"),
        (f'{A}.n.lowerAscii() == "x"', "no such overload: lowerAscii(int)"),
        (f"{A}.n.size() == 1", "no such overload: size(int)"),
        (f"quantity({A}.n).isInteger()", "no such overload: quantity(int)"),
        (
            f'{A}.architecture.isGreaterThan(quantity("1"))',
            "no such overload: isGreaterThan(string, kubernetes.Quantity)",
        ),
        (
            f'{A}.v.compareTo(quantity("1")) == 0',
            "no such overload: compareTo(kubernetes.Semver, kubernetes.Quantity)",
        ),
        # Arithmetic: cel-go's errDivideByZero, errModulusByZero, errIntOverflow, errUintOverflow.
        ("1 / 0 == 1", "division by zero"),
        ("1u / 0u == 1u", "division by zero"),
        ("1 % 0 == 1", "modulus by zero"),
        (f"{A}.n % 0 == 0", "modulus by zero"),
        ("9223372036854775807 + 1 > 0", "integer overflow"),
        ("-9223372036854775807 - 2 < 0", "integer overflow"),
        (f"{A}.n * 9223372036854775807 > 0", "integer overflow"),
        ("-(-9223372036854775807 - 1) > 0", "integer overflow"),
        ("int(1e19) > 0", "integer overflow"),
        ("18446744073709551615u + 1u > 0u", "unsigned integer overflow"),
        ("0u - 1u > 0u", "unsigned integer overflow"),
        ("uint(-1) == 1u", "unsigned integer overflow"),
        # Kubernetes' quantity library: asInteger's own error.
        (
            'quantity("1.5").asInteger() == 1',
            "cannot convert value to integer: 1500m has a fractional part, exceeds int64, "
            "or is not held as an int64",
        ),
        # The DRA scheduler's words for a result that is not a bool.
        (f"{A}.n", "CEL result of type int could not be converted to bool"),
        (f"{A}.architecture", "CEL result of type string could not be converted to bool"),
    ],
)
def test_runtime_errors_in_cel_go_words(expression: str, message: str) -> None:
    assert error_of(expression) == message


@pytest.mark.parametrize(
    ("text", "kubernetes", "detail"),
    [
        ("10Mo", FORMAT_WRONG, "invalid quantity '10Mo': expected a signed decimal number"),
        ("", FORMAT_WRONG, "invalid quantity '': empty string"),
        ("200K", "unable to parse quantity's suffix", "unknown suffix 'K'"),
        ("1e", "unable to parse quantity's suffix", "unknown suffix 'e'"),
        ("Pi", "unable to parse numeric part of quantity", "no digits before the suffix"),
    ],
)
def test_a_quantity_that_does_not_parse_says_what_kubernetes_says_first(
    text: str, kubernetes: str, detail: str
) -> None:
    message = error_of(f'quantity("{text}").isInteger()')
    assert message.startswith(f"{kubernetes}: ")
    assert detail in message


@pytest.mark.parametrize(
    ("call", "blang"),
    [
        ('semver("")', "Version string empty"),
        ('semver("v1.0")', "No Major.Minor.Patch elements found"),
        ('semver("v1.0.0")', 'Invalid character(s) found in major number "v1"'),
        ('semver("1.02.0")', 'Minor number must not contain leading zeroes "02"'),
        ('semver("1.0.0-")', "Prerelease is empty"),
        ('semver("1.0.0+a_b")', 'Invalid character(s) found in build meta data "a_b"'),
        ('semver("1.2-rc", true)', "short version cannot contain PreRelease/Build meta data"),
    ],
)
def test_a_version_that_does_not_parse_says_what_kubernetes_says_first(
    call: str, blang: str
) -> None:
    message = error_of(f"{call}.major() == 1")
    assert message.startswith(f"{blang}: invalid version ")


def test_unconvertible_devices_say_what_kubernetes_says() -> None:
    # DeviceMatches: "attribute <name>: parse semantic version: <blang error>".
    version = {"driver": "d", "attributes": {"cc": {"version": "9.0"}}}
    assert error_of('device.driver == "d"', version) == (
        "attribute 'cc': parse semantic version: No Major.Minor.Patch elements found: "
        "invalid version '9.0': expected MAJOR.MINOR.PATCH"
    )
    capacity = {"driver": "d", "capacity": {"memory": {"value": "10Mo"}}}
    message = error_of('device.driver == "d"', capacity)
    assert message.startswith(f"capacity 'memory': {FORMAT_WRONG}: invalid quantity '10Mo': ")
    assert message.count("invalid quantity") == 1
