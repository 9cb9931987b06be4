"""Semantic versions, row by row, as Kubernetes' CEL semver library answers.

Kubernetes parses with blang/semver v4's strict ``Parse`` and, for
``semver(s, true)``, its own ``normalizeAndParse`` first; precedence is
semver.org 2.0.0 §11. Rows cover the reference's tables
(upstream-scheduler-cel-tests.md §1.4-1.5), the semver items of its "Gaps" (§4
items 1-3) and landscape.md §4. Where the reference accepted what blang rejects
(``1.0.0-``, ``1.0.0+``, numbers above uint64), the row holds blang's answer.
"""

from __future__ import annotations

import pytest

from modelplane_core import cel
from modelplane_core.cel.semver import Semver, SemverError, parse_semver

T, F, ERR = "T", "F", "ERR"


def verdict(expression: str) -> str:
    outcome = cel.compile(expression).evaluate({})
    if outcome.error is not None:
        assert not outcome.matched
        return ERR
    return T if outcome.matched else F


def less(a: str, b: str) -> list[tuple[str, str]]:
    """Rows stating a < b in every form the library offers."""
    return [
        (f'semver("{a}").isLessThan(semver("{b}"))', T),
        (f'semver("{b}").isGreaterThan(semver("{a}"))', T),
        (f'semver("{a}").compareTo(semver("{b}")) == -1', T),
        (f'semver("{b}").compareTo(semver("{a}")) == 1', T),
        (f'semver("{a}").isGreaterThan(semver("{b}"))', F),
        (f'semver("{a}") == semver("{b}")', F),
    ]


CEL_ROWS: list[tuple[str, str]] = [
    # --- §1.5 -------------------------------------------------------------------
    ('semver("1.2.3").compareTo(semver("1.2.3")) == 0', T),
    ('semver("0.1.0-alpha.1").major() == 0', T),
    ('isSemver("1.2.3-beta.1+build.1")', T),
    ('isSemver("1.0.0")', T),
    *[
        (f'isSemver("{s}")', F)
        for s in ("hello", "", "v1.0.0", "v1.0", " 1.0.0", "1. 0.0", "1.0.0 ", "01.01.01")
    ],
    *[(f'isSemver("{s}")', F) for s in ("1", "1.1", "200K", "Mi")],
    *[(f'isSemver("{s}", true)', F) for s in ("", " 1.0.0", "1. 0.0", "1.0.0 ")],
    *[(f'isSemver("{s}", true)', T) for s in ("v1.0.0", "01.01.01", "1", "1.1")],
    ('semver("v01.01", true) == semver("1.1.0")', T),
    ('semver("v1.0.0", true).major() == 1', T),
    ('semver("1.0", true).patch() == 0', T),
    ('semver("01.01.01", true).minor() == 1', T),
    ('semver("1.2.3") == semver("1.2.3")', T),
    ('semver("1.2.3") == semver("1.0.0")', F),
    ('semver("1.0.0").isLessThan(semver("1.2.3"))', T),
    ('semver("1.0.0").isLessThan(semver("1.0.0"))', F),
    ('semver("1.2.3").isGreaterThan(semver("1.0.0"))', T),
    ('semver("1.0.0").isGreaterThan(semver("1.0.0"))', F),
    ('semver("1.2.3").compareTo(semver("2.0.0")) == -1', T),
    ('semver("1.2.3").compareTo(semver("0.1.2")) == 1', T),
    ('semver("1.2.3").major() == 1 && semver("1.2.3").minor() == 2', T),
    ('semver("1.2.3").patch() == 3', T),
    ('semver("v1.0").major() == 1', ERR),  # strict parse error
    ('semver("1.0.0").major() == 1', T),
    # --- §1.4: a false flag means strict; normalize does not trim ------------------
    ('isSemver("v1.0.0", false)', F),
    ('semver("1.0", false).major() == 1', ERR),
    ('isSemver("\\t1.0.0", true)', F),
    # --- Gaps item 1: precedence (semver.org §11) --------------------------------
    *less("1.0.0-alpha", "1.0.0"),  # a prerelease sorts below its release
    *less("1.0.0-1", "1.0.0-alpha"),  # numeric identifiers below alphanumeric ones
    *less("1.0.0-rc.2", "1.0.0-rc.10"),  # numbers compare as integers
    *less("1.0.0-rc.1", "1.0.0-rc.1.1"),  # a longer list wins over its prefix
    *less("1.0.0-RC", "1.0.0-rc"),  # ASCII: upper case sorts first
    *less("1.9.0", "1.10.0"),  # numeric, not lexical
    *less("1.99.99", "2.0.0"),
    *less("2.0.0-rc.1", "2.0.0"),
    ('semver("1.0.0+a") == semver("1.0.0+b")', T),  # build metadata is ignored
    ('semver("1.0.0+a").compareTo(semver("1.0.0")) == 0', T),
    ('semver("1.0.0-rc.1+x").isLessThan(semver("1.0.0+y"))', T),
    # --- Gaps item 2: what blang rejects --------------------------------------------
    ('isSemver("1.0.0-")', F),  # empty prerelease (the reference accepted it)
    ('isSemver("1.0.0+")', F),  # empty build (the reference accepted it)
    ('isSemver("18446744073709551616.0.0")', F),  # above uint64 (the reference accepted it)
    ('isSemver("1.18446744073709551616.0")', F),
    ('isSemver("1.0.18446744073709551616")', F),
    ('isSemver("1.0.0-18446744073709551616")', F),  # a numeric prerelease is a uint64 too
    ('isSemver("18446744073709551615.0.0")', T),
    ('isSemver("1.0.0-01")', F),  # leading zero in a numeric identifier
    ('isSemver("1.0.0-0a")', T),  # ...but an alphanumeric one may start with 0
    ('isSemver("1.0.0-0")', T),
    ('isSemver("1.0.0-a_b")', F),
    ('isSemver("1.0.0-a..b")', F),
    ('isSemver("1.0.0+a..b")', F),
    ('isSemver("1.0.0+001")', T),  # build identifiers may have leading zeros
    ('isSemver("1.0.0+build-1.x")', T),
    ('isSemver("1.0.0-rc-1+b")', T),
    ('isSemver("V1.0.0")', F),
    ('isSemver("1.2.3.4")', F),
    ('isSemver("1.2.-3")', F),
    ('isSemver("1.2.+3")', F),
    # --- Gaps item 3: normalizing edge cases ------------------------------------------
    ('isSemver("1.0-rc1", true)', F),  # a short version may not carry a prerelease
    ('isSemver("1+b", true)', F),  # ...nor build metadata
    ('isSemver("v1.0.0-rc.1", true)', T),
    ('semver("000", true) == semver("0.0.0")', T),
    ('isSemver("vv1.0.0", true)', F),  # one "v" only
    ('isSemver("V1.0.0", true)', F),  # a lower-case "v" only
    ('semver("1.02.003", true) == semver("1.2.3")', T),
    ('semver("01.0.0-rc.1", true) == semver("1.0.0-rc.1")', T),
    ('isSemver("1.0.00-rc.01", true)', F),  # prerelease zeros are not stripped
    ('semver("1.0.0+b", true) == semver("1.0.0")', T),
    # normalizeAndParse prefixes "0" to any multi-character part not starting with a
    # digit, so a missing patch before a prerelease or build is filled in.
    ('semver("1.0.-rc", true) == semver("1.0.0-rc")', T),
    ('isSemver("1.0.+b", true)', T),
    ('isSemver("1.0.-rc")', F),
    # --- landscape §4: accessors return int; Go's types.Int(uint64) wraps ----------
    ('semver("9223372036854775807.0.0").major() == 9223372036854775807', T),
    ('semver("18446744073709551615.0.0").major() == -1', T),
    ('semver("0.9223372036854775808.0").minor() == -9223372036854775808', T),
]


@pytest.mark.parametrize(
    ("expression", "expected"),
    CEL_ROWS,
    ids=[f"{i:03d}-{row[1]}-{row[0][:60]}" for i, row in enumerate(CEL_ROWS)],
)
def test_semver_expression(expression: str, expected: str) -> None:
    assert verdict(expression) == expected


@pytest.mark.parametrize(
    "text", ["v1.0", "1", "1.1", "01.01.01", " 1.0.0", "1.0.0 ", "", "hello", "1.0.0\n"]
)
def test_strict_parse_rejects(text: str) -> None:
    with pytest.raises(SemverError) as info:
        parse_semver(text)
    assert repr(text) in str(info.value)


def test_only_strings_parse() -> None:
    with pytest.raises(SemverError, match="must be a string"):
        parse_semver(1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "normalize", "upstream"),
    [
        # blang/semver's Parse, check by check: the first that fails names the part.
        ("", False, "Version string empty"),
        ("1.0", False, "No Major.Minor.Patch elements found"),
        ("v1.0.0", False, 'Invalid character(s) found in major number "v1"'),
        (" 1.0.0", False, 'Invalid character(s) found in major number " 1"'),
        ("01.0.0", False, 'Major number must not contain leading zeroes "01"'),
        ("1.x.0", False, 'Invalid character(s) found in minor number "x"'),
        # An empty part passes the character checks and fails strconv.ParseUint.
        ("1..0", False, 'strconv.ParseUint: parsing "": invalid syntax'),
        ("1.0.00", False, 'Patch number must not contain leading zeroes "00"'),
        (
            "18446744073709551616.0.0",
            False,
            'strconv.ParseUint: parsing "18446744073709551616": value out of range',
        ),
        ("1.0.0-01", False, 'Numeric PreRelease version must not contain leading zeroes "01"'),
        ("1.0.0-a..b", False, "Prerelease is empty"),
        ("1.0.0-a_b+x", False, 'Invalid character(s) found in prerelease "a_b"'),
        ("1.0.0+", False, "Build meta data is empty"),
        ("1.0.0+a_b", False, 'Invalid character(s) found in build meta data "a_b"'),
        # Kubernetes' normalizeAndParse, then Parse on what it produced.
        ("1.2-rc", True, "short version cannot contain PreRelease/Build meta data"),
        ("x", True, 'Invalid character(s) found in major number "x"'),
    ],
)
def test_rejections_carry_kubernetes_words(text: str, normalize: bool, upstream: str) -> None:
    with pytest.raises(SemverError) as info:
        parse_semver(text, normalize=normalize)
    assert info.value.upstream == upstream
    assert info.value.explained() == f"{upstream}: {info.value}"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("1.2.3", (1, 2, 3, (), ())),
        ("1.2.3-rc.1+build.5", (1, 2, 3, ("rc", 1), ("build", "5"))),
        ("0.0.0-0.a-b", (0, 0, 0, (0, "a-b"), ())),
        ("1.0.0+001", (1, 0, 0, (), ("001",))),
        ("1.0.0-x+y-z", (1, 0, 0, ("x",), ("y-z",))),  # the build splits off first
    ],
)
def test_parsed_parts(text: str, parts: tuple[object, ...]) -> None:
    version = parse_semver(text)
    assert (version.major, version.minor, version.patch, version.prerelease, version.build) == (
        parts
    )
    assert str(version) == text


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("v1", "1.0.0"),
        ("1.1", "1.1.0"),
        ("v01.01", "1.1.0"),
        ("000", "0.0.0"),
        ("00.00.00", "0.0.0"),
        ("1.0.0-rc.1", "1.0.0-rc.1"),
        ("v1.0.0+build", "1.0.0+build"),
    ],
)
def test_normalized_form(text: str, normalized: str) -> None:
    assert str(parse_semver(text, normalize=True)) == normalized


def test_build_metadata_is_ignored_by_equality_and_hash() -> None:
    a, b = parse_semver("1.0.0+a"), parse_semver("1.0.0+b")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, parse_semver("1.0.0")}) == 1
    assert parse_semver("1.0.0-rc") != parse_semver("1.0.0")
    assert a != "1.0.0"
    assert isinstance(a, Semver)
    assert repr(a) == "Semver('1.0.0+a')"


def test_semver_org_precedence_chain() -> None:
    # The example chain of semver.org §11.4, in ascending order.
    chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ]
    versions = [parse_semver(v) for v in chain]
    for i, left in enumerate(versions):
        for j, right in enumerate(versions):
            assert left.compare(right) == (i > j) - (i < j), (chain[i], chain[j])


def test_a_normalizing_error_names_what_was_written() -> None:
    with pytest.raises(SemverError) as info:
        parse_semver("1.0.00-rc.01", normalize=True)
    message = str(info.value)
    assert "'1.0.00-rc.01'" in message
    assert "leading zero" in message
