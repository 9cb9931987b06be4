"""Semantic versions as Kubernetes' CEL ``semver()`` library parses and orders them.

DRA publishes ``version`` attributes (``cudaComputeCapability: 9.0.0``) and a
selector compares them with ``semver("8.9.0")``. Kubernetes parses both with
blang/semver's strict ``Parse`` (semver.org 2.0.0: no ``v``, no leading zeros,
all three numbers, each within uint64, no empty prerelease or build part), and
since library version 1 offers ``semver(s, true)``, which first normalizes
``v1.2`` to ``1.2.0``. Precedence is semver.org's: a prerelease sorts below its
release, numeric identifiers below alphanumeric ones and by value, a longer
identifier list above its prefix; build metadata never affects order or ``==``.
"""

from __future__ import annotations

from typing import Final

import attrs

from modelplane_core.cel.errors import UpstreamError

UINT64_MAX: Final = 2**64 - 1
_DIGITS: Final = frozenset("0123456789")
_ALPHANUMERIC: Final = _DIGITS | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-")


class SemverError(UpstreamError):
    """A string that is not a semantic version (in the strict or normalizing form asked for).

    ``upstream`` is what Kubernetes reports for the same string: blang/semver's
    ``Parse`` error, or the semver library's own for a shortened version.
    """


def _quoted(text: str) -> str:
    """Go's ``%q`` of printable text, as blang/semver quotes the offending part."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse_uint(part: str) -> str:
    """Go's ``strconv.ParseUint`` error, which blang/semver returns unwrapped."""
    reason = "value out of range" if part else "invalid syntax"
    return f"strconv.ParseUint: parsing {_quoted(part)}: {reason}"


Identifier = int | str


@attrs.frozen(eq=False, repr=False)
class Semver:
    """A parsed version; ``==`` and ``hash`` ignore build metadata, as precedence does."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[Identifier, ...] = ()
    build: tuple[str, ...] = ()

    def compare(self, other: Semver) -> int:
        """-1, 0 or 1 by semver.org precedence."""
        mine = (self.major, self.minor, self.patch)
        theirs = (other.major, other.minor, other.patch)
        if mine != theirs:
            return -1 if mine < theirs else 1
        if not self.prerelease or not other.prerelease:
            # A release outranks any of its prereleases.
            return (not self.prerelease) - (not other.prerelease)
        for left, right in zip(self.prerelease, other.prerelease, strict=False):
            if left == right:
                continue
            if isinstance(left, int) != isinstance(right, int):
                return -1 if isinstance(left, int) else 1
            return -1 if left < right else 1  # type: ignore[operator]
        return (len(self.prerelease) > len(other.prerelease)) - (
            len(self.prerelease) < len(other.prerelease)
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Semver):
            return NotImplemented
        return self.compare(other) == 0

    def __hash__(self) -> int:
        return hash((self.major, self.minor, self.patch, self.prerelease))

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(i) for i in self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def __repr__(self) -> str:
        return f"Semver({str(self)!r})"


def _number(part: str, what: str, text: str) -> int:
    """A numeric part: ``what`` is major, minor, patch or prerelease identifier."""
    if not part or not set(part) <= _DIGITS:
        upstream = (
            _parse_uint(part)
            if not part
            else f"Invalid character(s) found in {what} number {_quoted(part)}"
        )
        raise SemverError(f"invalid version {text!r}: {what} {part!r} is not a number", upstream)
    if len(part) > 1 and part[0] == "0":
        upstream = (
            f"Numeric PreRelease version must not contain leading zeroes {_quoted(part)}"
            if what == "prerelease identifier"
            else f"{what.capitalize()} number must not contain leading zeroes {_quoted(part)}"
        )
        raise SemverError(f"invalid version {text!r}: {what} {part!r} has a leading zero", upstream)
    value = int(part)
    if value > UINT64_MAX:
        raise SemverError(
            f"invalid version {text!r}: {what} {part!r} exceeds uint64", _parse_uint(part)
        )
    return value


def _prerelease(part: str, text: str) -> Identifier:
    if not part:
        raise SemverError(
            f"invalid version {text!r}: empty prerelease identifier", "Prerelease is empty"
        )
    if set(part) <= _DIGITS:
        return _number(part, "prerelease identifier", text)
    if not set(part) <= _ALPHANUMERIC:
        raise SemverError(
            f"invalid version {text!r}: prerelease identifier {part!r} may hold only [0-9A-Za-z-]",
            f"Invalid character(s) found in prerelease {_quoted(part)}",
        )
    return part


def _build(part: str, text: str) -> str:
    if not part or not set(part) <= _ALPHANUMERIC:
        upstream = (
            f"Invalid character(s) found in build meta data {_quoted(part)}"
            if part
            else "Build meta data is empty"
        )
        raise SemverError(
            f"invalid version {text!r}: build identifier {part!r} must be non-empty [0-9A-Za-z-]",
            upstream,
        )
    return part


def _strict(text: str) -> Semver:
    if not text:
        raise SemverError("invalid version '': empty string", "Version string empty")
    parts = text.split(".", 2)
    if len(parts) != 3:
        raise SemverError(
            f"invalid version {text!r}: expected MAJOR.MINOR.PATCH",
            "No Major.Minor.Patch elements found",
        )
    major = _number(parts[0], "major", text)
    minor = _number(parts[1], "minor", text)
    rest, plus, build = parts[2].partition("+")
    patch, dash, prerelease = rest.partition("-")
    return Semver(
        major,
        minor,
        _number(patch, "patch", text),
        tuple(_prerelease(p, text) for p in prerelease.split(".")) if dash else (),
        tuple(_build(b, text) for b in build.split(".")) if plus else (),
    )


def _normalized(text: str) -> str:
    """``semver(s, true)``'s rewrite (``normalizeAndParse``): drop one ``v``, strip
    leading zeros from each of the first three dot-separated parts, pad to x.y.z."""
    body = text.removeprefix("v")
    parts = body.split(".", 2)
    if len(parts) < 3 and ("-" in parts[-1] or "+" in parts[-1]):
        raise SemverError(
            f"invalid version {text!r}: a shortened version cannot carry prerelease or build",
            "short version cannot contain PreRelease/Build meta data",
        )
    stripped = [_strip_zeros(part) for part in parts]
    stripped += ["0"] * (3 - len(stripped))
    return ".".join(stripped)


def _strip_zeros(part: str) -> str:
    """Kubernetes' zero stripping: a "0" goes back whenever the rest does not start with a
    digit, so ``00`` is ``0`` and ``-rc`` becomes ``0-rc`` ("1.0.-rc" is 1.0.0-rc)."""
    if len(part) <= 1:
        return part
    rest = part.lstrip("0")
    return rest if rest and rest[0] in _DIGITS else "0" + rest


def parse_semver(text: str, normalize: bool = False) -> Semver:
    """Parse ``text`` strictly, or after the normalizing rewrite; raise SemverError."""
    if not isinstance(text, str):
        raise SemverError(f"a version must be a string, not {type(text).__name__}")
    if not normalize:
        return _strict(text)
    normalized = _normalized(text)
    try:
        return _strict(normalized)
    except SemverError as exc:
        if normalized == text:
            raise
        raise SemverError(f"{exc} (normalized from {text!r})", exc.upstream) from None
