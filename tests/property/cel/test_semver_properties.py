"""Semver laws: strict acceptance, precedence, build metadata, normalization.

The oracles are independent statements of semver.org 2.0.0: its published
regular expression (plus blang's uint64 bounds) for what parses, and §11 read
directly off the strings for precedence. The implementation parses into
identifiers and compares those.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from modelplane_core import cel
from modelplane_core.cel.semver import Semver, SemverError, parse_semver

UINT64_MAX = 2**64 - 1

# semver.org's suggested regular expression, with [0-9] for \d (Python's \d is Unicode).
_N = r"(?:0|[1-9][0-9]*)"
_PRE = r"(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
SEMVER_ORG = re.compile(
    rf"({_N})\.({_N})\.({_N})(?:-({_PRE}(?:\.{_PRE})*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)


def accepted_by_spec(text: str) -> bool:
    match = SEMVER_ORG.fullmatch(text)
    if match is None:
        return False
    major, minor, patch, prerelease, _ = match.groups()
    numbers = [major, minor, patch]
    numbers += [p for p in (prerelease or "").split(".") if p.isascii() and p.isdigit()]
    return all(int(n) <= UINT64_MAX for n in numbers)


def precedence(left: str, right: str) -> int:
    """semver.org §11 on the strings themselves: -1, 0 or 1."""

    def split(text: str) -> tuple[tuple[int, ...], list[str] | None]:
        core, dash, prerelease = text.partition("+")[0].partition("-")
        return tuple(int(n) for n in core.split(".")), (prerelease.split(".") if dash else None)

    def cmp(a: Any, b: Any) -> int:
        return (a > b) - (a < b)

    (core_a, pre_a), (core_b, pre_b) = split(left), split(right)
    if core_a != core_b:
        return cmp(core_a, core_b)
    if pre_a is None or pre_b is None:  # a release outranks its prereleases
        return cmp(pre_a is None, pre_b is None)
    for a, b in zip(pre_a, pre_b, strict=False):
        if a == b:
            continue
        a_numeric, b_numeric = a.isdigit(), b.isdigit()
        if a_numeric and b_numeric:
            return cmp(int(a), int(b))
        if a_numeric != b_numeric:
            return -1 if a_numeric else 1  # numeric identifiers have lower precedence
        return cmp(a, b)  # ASCII order
    return cmp(len(pre_a), len(pre_b))


# Small pools so that equal cores and shared prerelease prefixes are common.
NUMBERS = st.one_of(st.integers(0, 3), st.integers(0, UINT64_MAX)).map(str)
SMALL = st.integers(0, 3).map(str)
PRE_IDENTIFIERS = st.one_of(
    st.sampled_from(["0", "1", "2", "10", "alpha", "beta", "rc", "RC", "a-b", "1a", "-", "0x"]),
    st.integers(0, UINT64_MAX).map(str),
    st.from_regex(r"[0-9A-Za-z-]{0,4}[A-Za-z-][0-9A-Za-z-]{0,4}", fullmatch=True),
)
BUILD_IDENTIFIERS = st.one_of(
    st.sampled_from(["b", "001", "x-y", "sha.5114f85"]),
    st.from_regex(r"[0-9A-Za-z-]{1,6}", fullmatch=True),
)


@st.composite
def versions(draw: Any, build: bool = True) -> str:
    numbers = SMALL if draw(st.booleans()) else NUMBERS
    text = ".".join(draw(numbers) for _ in range(3))
    prerelease = draw(st.lists(PRE_IDENTIFIERS, max_size=3))
    if prerelease:
        text += "-" + ".".join(prerelease)
    if build and draw(st.booleans()):
        text += "+" + ".".join(draw(st.lists(BUILD_IDENTIFIERS, min_size=1, max_size=2)))
    return text


VERSIONS = versions()
CORES = versions(build=False)


@given(VERSIONS)
def test_valid_versions_parse_and_print_back(text: str) -> None:
    assert accepted_by_spec(text)
    assert str(parse_semver(text)) == text


@given(VERSIONS, VERSIONS)
def test_compare_is_semver_org_precedence(left: str, right: str) -> None:
    a, b = parse_semver(left), parse_semver(right)
    assert a.compare(b) == precedence(left, right)
    assert b.compare(a) == -a.compare(b)
    assert (a == b) is (a.compare(b) == 0)
    if a == b:
        assert hash(a) == hash(b)


@given(st.lists(VERSIONS, min_size=3, max_size=8))
def test_precedence_is_a_total_order(texts: list[str]) -> None:
    parsed = [parse_semver(t) for t in texts]
    ordered = sorted(parsed, key=functools.cmp_to_key(Semver.compare))
    for i, j in itertools.combinations(range(len(ordered)), 2):
        assert ordered[i].compare(ordered[j]) <= 0  # transitive: sorted stays sorted
    for version in parsed:
        assert version.compare(version) == 0


@given(CORES, CORES, st.lists(BUILD_IDENTIFIERS, min_size=1, max_size=2), BUILD_IDENTIFIERS)
def test_build_metadata_never_changes_order(
    left: str, right: str, build: list[str], other: str
) -> None:
    a, b = parse_semver(left), parse_semver(right)
    a_built = parse_semver(f"{left}+{'.'.join(build)}")
    b_built = parse_semver(f"{right}+{other}")
    assert a_built.compare(b_built) == a.compare(b)
    assert a_built == a
    assert hash(a_built) == hash(a)


NEAR_MISSES = st.one_of(
    st.text("0123456789.-+aZv_ ", max_size=14),
    st.builds(
        lambda text, at, insert: text[:at] + insert + text[at:],
        VERSIONS,
        st.integers(0, 30),
        st.sampled_from(["0", ".", "-", "+", "..", "v", " ", "_", "00", "18446744073709551616"]),
    ),
)
IS_SEMVER = cel.compile('isSemver(device.attributes["d"].s)')
IS_SEMVER_NORMALIZED = cel.compile('isSemver(device.attributes["d"].s, true)')
COMPARES = cel.compile(
    'semver(device.attributes["d"].s).compareTo(semver("1.0.0")) >= -1 && '
    'device.attributes["d"].v.isLessThan(semver("99.0.0"))'
)


def parses(text: str, normalize: bool = False) -> bool:
    try:
        parse_semver(text, normalize=normalize)
    except SemverError:
        return False
    return True


@given(st.one_of(VERSIONS, NEAR_MISSES))
def test_strict_parsing_is_the_semver_org_grammar(text: str) -> None:
    assert parses(text) is accepted_by_spec(text)


@given(st.one_of(VERSIONS, NEAR_MISSES))
def test_cel_functions_agree_with_parsing_and_never_raise(text: str) -> None:
    device = {"driver": "d", "attributes": {"s": {"string": text}, "v": {"version": "1.0.0"}}}
    assert IS_SEMVER.evaluate(device) == cel.Outcome(parses(text))
    assert IS_SEMVER_NORMALIZED.evaluate(device) == cel.Outcome(parses(text, normalize=True))
    outcome = COMPARES.evaluate(device)
    assert outcome.matched is parses(text)
    assert (outcome.error is None) is parses(text)


@given(VERSIONS)
def test_normalizing_a_strict_version_changes_nothing(text: str) -> None:
    strict = parse_semver(text)
    for written in (text, f"v{text}"):
        normalized = parse_semver(written, normalize=True)
        assert normalized == strict
        assert str(normalized) == str(strict)


@given(st.integers(0, 999), st.integers(0, 999), st.integers(0, 3), st.integers(0, 3))
def test_normalizing_pads_and_strips_zeros(major: int, minor: int, zeros: int, parts: int) -> None:
    pad = "0" * zeros
    written = ".".join(f"{pad}{n}" for n in (major, minor, 7)[: max(parts, 1)])
    expected = (major, minor if parts >= 2 else 0, 7 if parts >= 3 else 0)
    version = parse_semver(written, normalize=True)
    assert (version.major, version.minor, version.patch) == expected
