"""Kubernetes ``resource.Quantity``, as DRA selectors and the API server see it.

A selector such as ``device.capacity["gpu.nvidia.com"].memory.compareTo(
quantity("40Gi")) >= 0`` must pick exactly the devices Kubernetes would, so
this module follows ``k8s.io/apimachinery/pkg/api/resource`` rather than a
regular expression: the same scanner (which accepts ``"5."``, ``".5"``,
``"+"`` and most bare suffixes such as ``"Mi"`` as zero, and rejects
``"Ei"``), the same rounding of sub-nano values away from zero, the same
saturation of binary-suffixed values at ±(2^63 - 1), and exact comparison
across units (``200M == 0.2G``, ``50M < 50Mi``).

Kubernetes stores a quantity either as a small ``int64 x 10^scale`` pair or as
an arbitrary-precision ``inf.Dec`` (an unscaled integer and a scale), and three
library functions observe which: ``isInteger()`` / ``asInteger()`` answer true
only for an int64 pair with a scale >= 0 (so ``quantity("1.0")`` and even
``quantity("0m")`` are not integers there), and ``asApproximateFloat()``
multiplies the float of the unscaled integer by ``math.Pow10(scale)`` in
float64 arithmetic (so ``quantity("0.3").asApproximateFloat()`` is
0.30000000000000004, not 0.3). ``Quantity`` keeps that representation
alongside the exact value so these functions agree with Kubernetes too; see
``docs/cel.md``.

Parsing and arithmetic follow the released ``resource`` package (1.33-1.35).
``str()`` is its ``String()`` canonical form, except where that form has no
suffix for the value and released Kubernetes silently drops the magnitude
(``1000E`` printed as ``1``, ``2^70`` BinarySI printed as ``1``): there we
print the exact decimal-exponent form upstream now emits (``1e21``,
``1180591620717411303424``). We also never reuse the caller's text the way
``String()`` does after a parse (it returns ``"+5"`` and ``"007"`` verbatim).

The value itself is kept exactly as ``mantissa x 10^exponent`` (no floats, no
``Decimal`` context): comparisons never materialise ``10^exponent``, so a
hostile ``"1e2000000000"`` costs nothing.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Final, Literal

import attrs

from modelplane_core.cel.errors import UpstreamError

Format = Literal["DecimalSI", "BinarySI", "DecimalExponent"]

INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)
NANO: Final = -9  # the finest scale a quantity keeps

_DECIMAL_SUFFIXES: Final = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}  # fmt: skip
_BINARY_SUFFIXES: Final = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXPONENT: Final = {e: s for s, e in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER: Final = {0: "", **{e // 10: s for s, e in _BINARY_SUFFIXES.items()}}
_SUFFIX_CHARS: Final = frozenset("eEinumkKMGTP")
_SIGNED_INT: Final = re.compile(r"[+-]?[0-9]+")

# resource.ParseQuantity's errors and the library's asInteger() error, word for word.
ERR_FORMAT_WRONG: Final = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
ERR_NUMERIC: Final = "unable to parse numeric part of quantity"
ERR_SUFFIX: Final = "unable to parse quantity's suffix"
ERR_NOT_INTEGER: Final = "cannot convert value to integer"
# Arithmetic and rendering expand 10^k only below this; beyond it a value is hostile input.
_MAX_EXPANDED_DIGITS: Final = 4096
_ALLOWED: Final = "n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or an exponent such as e3 or E-2"

# Go's math.Pow10 tables: each entry is the float64 nearest its decimal literal.
_POW10: Final = tuple(float(f"1e{i}") for i in range(32))
_POW10_UP32: Final = tuple(float(f"1e{32 * i}") for i in range(10))
_POW10_DOWN32: Final = tuple(float(f"1e-{32 * i}") for i in range(11))


class QuantityError(UpstreamError):
    """A string that is not a Kubernetes quantity, or a quantity operation that fails.

    ``upstream`` is Kubernetes' message for the same failure (``ERR_*``).
    """


def _in_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


def _wrap_int32(value: int) -> int:
    """Go's int32 arithmetic: Kubernetes keeps scales in int32 and lets them wrap."""
    return (value + 2**31) % 2**32 - 2**31


def _digits(value: int) -> int:
    return len(str(abs(value))) if value else 0


def _strip_tens(mantissa: int, exponent: int) -> tuple[int, int]:
    if mantissa == 0:
        return 0, 0
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    return mantissa, exponent


def _go_pow10(power: int) -> float:
    """Go's ``math.Pow10``: a product (or quotient) of two table entries, not 10**n rounded."""
    if 0 <= power <= 308:
        return _POW10_UP32[power // 32] * _POW10[power % 32]
    if -323 <= power < 0:
        return _POW10_DOWN32[-power // 32] / _POW10[-power % 32]
    return math.inf if power > 0 else 0.0


def _float_of(mantissa: int, shift: int) -> float:
    """The float64 nearest ``mantissa * 10^shift`` (``shift >= 0``), ±inf past its range."""
    if mantissa == 0:
        return 0.0
    if _digits(mantissa) + shift > 309:
        return math.copysign(math.inf, mantissa)
    try:
        return float(mantissa * 10**shift)
    except OverflowError:
        return math.copysign(math.inf, mantissa)


@attrs.frozen(eq=False, repr=False)
class Quantity:
    """An exact quantity; ``==`` and ``hash`` go by value, like ``Quantity.Cmp``.

    ``mantissa x 10^exponent`` is the value, with trailing zeros moved into
    the exponent. The rest records how Kubernetes would hold the same value,
    which only ``isInteger``, ``asInteger``, ``asApproximateFloat`` and
    ``str()`` observe: ``int64_form`` is its ``int64Amount`` ``(value,
    scale)`` when it has one; otherwise it holds an ``inf.Dec`` whose scale
    (digits after the point, so the unscaled integer is ``value x
    10^dec_scale``) is ``dec_scale``.
    """

    mantissa: int
    exponent: int
    format: Format = "DecimalSI"
    int64_form: tuple[int, int] | None = None
    dec_scale: int = 0

    @classmethod
    def of(
        cls,
        mantissa: int,
        exponent: int,
        fmt: Format,
        int64_form: tuple[int, int] | None,
        dec_scale: int = 0,
    ) -> Quantity:
        m, e = _strip_tens(mantissa, exponent)
        return cls(m, e, fmt, int64_form, dec_scale)

    # --- value ------------------------------------------------------------------

    @property
    def value(self) -> Fraction:
        """The exact rational value (materialises 10^exponent: not for hostile input)."""
        if self.exponent >= 0:
            return Fraction(self.mantissa * 10**self.exponent)
        return Fraction(self.mantissa, 10**-self.exponent)

    @property
    def _inf_scale(self) -> int:
        """The ``inf.Dec`` scale Kubernetes' ``AsDec()`` gives this value."""
        return -self.int64_form[1] if self.int64_form is not None else self.dec_scale

    def sign(self) -> int:
        return (self.mantissa > 0) - (self.mantissa < 0)

    def compare(self, other: Quantity) -> int:
        """-1, 0 or 1, exactly, without building 10^exponent for far-apart magnitudes."""
        mine, theirs = self.sign(), other.sign()
        if mine != theirs or mine == 0:
            return (mine > theirs) - (mine < theirs)
        # Same non-zero sign: compare magnitudes by their leading-digit position first.
        top_self = self.exponent + _digits(self.mantissa)
        top_other = other.exponent + _digits(other.mantissa)
        if top_self != top_other:
            bigger = top_self > top_other
        else:
            low = min(self.exponent, other.exponent)
            left = abs(self.mantissa) * 10 ** (self.exponent - low)
            right = abs(other.mantissa) * 10 ** (other.exponent - low)
            if left == right:
                return 0
            bigger = left > right
        return mine if bigger else -mine

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.mantissa == other.mantissa and self.exponent == other.exponent

    def __hash__(self) -> int:
        return hash((self.mantissa, self.exponent))

    # --- the Kubernetes library functions ------------------------------------------

    def is_integer(self) -> bool:
        """Kubernetes' ``isInteger()``: ``AsInt64`` succeeds (see ``_as_int64``)."""
        return self._as_int64() is not None

    def as_integer(self) -> int:
        """Kubernetes' ``asInteger()``; QuantityError where Kubernetes errors."""
        result = self._as_int64()
        if result is None:
            raise QuantityError(
                f"{ERR_NOT_INTEGER}: {self} has a fractional part, exceeds int64, "
                "or is not held as an int64",
                ERR_NOT_INTEGER,
            )
        return result

    def _as_int64(self) -> int | None:
        """``int64Amount.AsInt64``: a negative scale fails even for zero (``0m``, ``0.0``)."""
        if self.int64_form is None:
            return None
        value, scale = self.int64_form
        if scale == 0:
            return value
        if scale < 0:
            return None
        if value == 0:
            return 0
        if scale > 18:  # |value| >= 1, so 10^19 and beyond overflow
            return None
        scaled = value * 10**scale
        return scaled if _in_int64(scaled) else None

    def as_approximate_float(self) -> float:
        """Kubernetes' ``AsApproximateFloat64``, bit for bit.

        Not the float nearest the value: Kubernetes converts the unscaled
        integer to float64 and multiplies by Go's ``math.Pow10(exponent)``,
        rounding twice (``0.3`` gives 0.30000000000000004; ``0e400`` gives
        NaN as 0 x inf).
        """
        if self.int64_form is not None:
            unscaled, power = self.int64_form
            base = float(unscaled)
        else:
            power = -self.dec_scale
            base = _float_of(self.mantissa, self.exponent - power)
        if power == 0:
            return base
        return base * _go_pow10(power)

    def add(self, other: Quantity | int) -> Quantity:
        return self._plus(_operand(other))

    def sub(self, other: Quantity | int) -> Quantity:
        operand = _operand(other)
        negated_form = None
        # Kubernetes negates an int64 operand in int64; -(-2^63) does not fit, so
        # (since the mostNegative fix) it falls back to the decimal form, as here.
        if operand.int64_form is not None and _in_int64(-operand.int64_form[0]):
            negated_form = (-operand.int64_form[0], operand.int64_form[1])
        negated = Quantity(
            -operand.mantissa, operand.exponent, operand.format, negated_form, operand._inf_scale
        )
        return self._plus(negated)

    def _plus(self, other: Quantity) -> Quantity:
        """``Quantity.Add``: int64 when both are and nothing overflows, else ``inf.Dec``."""
        fmt = other.format if self.mantissa == 0 else self.format
        low = min(self.exponent, other.exponent)
        if max(self.exponent, other.exponent) - low > _MAX_EXPANDED_DIGITS:
            raise QuantityError(
                f"cannot add {self} and {other}: the exact sum needs more than "
                f"{_MAX_EXPANDED_DIGITS} digits"
            )
        total = self.mantissa * 10 ** (self.exponent - low) + other.mantissa * 10 ** (
            other.exponent - low
        )
        if self.int64_form is not None and other.int64_form is not None:
            form = _int64_add(self.int64_form, other.int64_form)
            if form is not None:
                return Quantity.of(total, low, fmt, form)
        # inf.Dec addition keeps the larger of the two scales.
        return Quantity.of(total, low, fmt, None, max(self._inf_scale, other._inf_scale))

    # --- canonical form --------------------------------------------------------------

    def __str__(self) -> str:
        """The canonical form Kubernetes prints: ``1.5k`` is ``1500``, ``2048Ki`` is ``2Mi``."""
        if self.mantissa == 0:
            return "0"
        sign = "-" if self.mantissa < 0 else ""
        magnitude = abs(self.mantissa)
        if (
            self.format == "BinarySI"
            and 0 <= self.exponent <= _MAX_EXPANDED_DIGITS
            and Quantity(magnitude, self.exponent).compare(_BINARY_MINIMUM) >= 0
        ):
            amount, power = magnitude * 10**self.exponent, 0
            while amount % 1024 == 0:
                amount //= 1024
                power += 1
            suffix = _BINARY_BY_POWER.get(power)
            if suffix is not None:
                return f"{sign}{amount}{suffix}"
            # Past Ei there is no binary suffix: the exact decimal form.
            return sign + _decimal_text(magnitude, self.exponent, "DecimalExponent")
        # BinarySI below 1024 or with a fraction prints as DecimalSI, as in Kubernetes.
        fmt: Format = "DecimalSI" if self.format == "BinarySI" else self.format
        return sign + _decimal_text(magnitude, self.exponent, fmt)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"


_BINARY_MINIMUM: Final = Quantity(1024, 0)


def _decimal_text(amount: int, exponent: int, fmt: Format) -> str:
    """``amount x 10^exponent`` with the exponent lowered to a multiple of 3, then suffixed."""
    while exponent % 3:
        amount *= 10
        exponent -= 1
    suffix = _DECIMAL_BY_EXPONENT.get(exponent) if fmt == "DecimalSI" else None
    if suffix is None:  # DecimalExponent, or DecimalSI past "E" / below "n"
        return f"{amount}e{exponent}" if exponent else str(amount)
    return f"{amount}{suffix}"


def _operand(value: Quantity | int) -> Quantity:
    """An ``add``/``sub`` operand; an int becomes ``NewQuantity(v, DecimalExponent)``."""
    if isinstance(value, Quantity):
        return value
    if not _in_int64(value):
        raise QuantityError(f"integer {value} is outside int64")
    return Quantity.of(value, 0, "DecimalExponent", (value, 0))


def _int64_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    """Go's ``int64Amount.Add``: stays int64 when aligning and summing do not overflow."""
    (a_value, a_scale), (b_value, b_scale) = a, b
    if b_value == 0:
        return a
    if a_value == 0:
        return b
    low = min(a_scale, b_scale)
    if a_scale - low > 18 or b_scale - low > 18:
        return None
    left, right = a_value * 10 ** (a_scale - low), b_value * 10 ** (b_scale - low)
    if not (_in_int64(left) and _in_int64(right) and _in_int64(left + right)):
        return None
    return left + right, low


# --- parsing -----------------------------------------------------------------------


@attrs.frozen
class _Scanned:
    negative: bool
    value: str  # the signed number as written, for the arbitrary-precision path
    num: str  # integer digits, leading zeros stripped ("0" when none)
    denom: str  # fraction digits
    suffix: str


def _scan(text: str) -> _Scanned:
    """Split ``text`` exactly as Kubernetes' quantity scanner does."""
    end, pos = len(text), 0
    negative = False
    if text[0] in "+-":
        negative = text[0] == "-"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos == end:
        return _Scanned(negative, "0", "0", "", "")
    start = pos
    while pos < end and text[pos].isascii() and text[pos].isdigit():
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos].isascii() and text[pos].isdigit():
            pos += 1
        denom = text[start:pos]
    value, suffix_start = text[:pos], pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos].isascii() and text[pos].isdigit():
        pos += 1
    if pos != end:
        raise QuantityError(
            f"invalid quantity {text!r}: expected a signed decimal number and a suffix "
            f"({_ALLOWED})",
            ERR_FORMAT_WRONG,
        )
    return _Scanned(negative, value, num, denom, text[suffix_start:])


def _interpret(suffix: str, text: str) -> tuple[int, int, Format]:
    """(base, exponent, format) of a suffix, or QuantityError."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], "DecimalSI"
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], "BinarySI"
    if len(suffix) > 1 and suffix[0] in "eE" and _SIGNED_INT.fullmatch(suffix[1:]):
        exponent = int(suffix[1:])
        if _in_int64(exponent):
            # Kubernetes narrows the exponent to int32, wrapping around.
            return 10, _wrap_int32(exponent), "DecimalExponent"
    raise QuantityError(
        f"invalid quantity {text!r}: unknown suffix {suffix!r} (allowed: {_ALLOWED})", ERR_SUFFIX
    )


def _fast_form(scanned: _Scanned, base: int, exponent: int) -> tuple[int, int] | None:
    """The int64 ``(value, scale)`` Kubernetes' fast path produces, or None."""
    if base == 10:
        precision = 18 - len(scanned.num) - len(scanned.denom)
        scale, multiplier = _wrap_int32(exponent - len(scanned.denom)), 1
    elif not scanned.denom:
        precision = 15 - len(scanned.num) - exponent * 3 // 10 - 1
        scale, multiplier = 0, 2**exponent
    else:
        return None
    if precision < 0 or scale < NANO:
        return None
    result = int(scanned.num + scanned.denom) * multiplier
    if not _in_int64(result):
        return None
    return (-result if scanned.negative else result), scale


def _round_to_nano(mantissa: int, exponent: int) -> tuple[int, int]:
    """Round a non-zero value away from zero to a whole number of nano units."""
    if exponent >= NANO or mantissa == 0:
        return mantissa, exponent
    shift = NANO - exponent
    magnitude = abs(mantissa)
    if _digits(magnitude) <= shift:  # below one nano unit: Kubernetes rounds up to 1n
        rounded = 1
    else:
        rounded, remainder = divmod(magnitude, 10**shift)
        rounded += remainder > 0
    return (rounded if mantissa > 0 else -rounded), NANO


def parse_quantity(text: str) -> Quantity:
    """Parse ``text`` as Kubernetes' ``resource.ParseQuantity`` does, or raise QuantityError."""
    if not isinstance(text, str):
        raise QuantityError(f"a quantity must be a string, not {type(text).__name__}")
    if not text:
        raise QuantityError("invalid quantity '': empty string", ERR_FORMAT_WRONG)
    scanned = _scan(text)
    base, exponent, fmt = _interpret(scanned.suffix, text)
    form = _fast_form(scanned, base, exponent)
    if form is not None:
        value, scale = form
        return Quantity.of(value, scale, fmt, form)
    # Kubernetes' arbitrary-precision path: the written number must have a digit.
    number = scanned.value.lstrip("+-")
    whole, _, fraction = number.partition(".")
    if not (whole + fraction):
        raise QuantityError(f"invalid quantity {text!r}: no digits before the suffix", ERR_NUMERIC)
    mantissa = int(whole + fraction)
    mantissa = -mantissa if scanned.negative else mantissa
    if base == 10:
        # inf.Dec's scale (an int32, like the negated exponent) absorbs the suffix.
        dec_scale = _wrap_int32(len(fraction) + _wrap_int32(-exponent))
    else:
        dec_scale = len(fraction)
        mantissa <<= exponent
    if mantissa == 0:
        return Quantity.of(0, 0, fmt, None, dec_scale)
    # A non-zero value is rounded to nano, which leaves inf.Dec at scale 9.
    mantissa, scale = _round_to_nano(mantissa, -dec_scale)
    dec_scale = -NANO
    if fmt == "BinarySI":
        magnitude = Quantity.of(abs(mantissa), scale, fmt, None)
        if magnitude.compare(_INT64_MAX_QUANTITY) > 0:
            mantissa, scale, dec_scale = (INT64_MAX if mantissa > 0 else -INT64_MAX), 0, 0
        elif magnitude.compare(_ONE) < 0:
            fmt = "DecimalSI"  # Kubernetes: a binary value below 1 is DecimalSI
    return Quantity.of(mantissa, scale, fmt, None, dec_scale)


_INT64_MAX_QUANTITY: Final = Quantity(INT64_MAX, 0)
_ONE: Final = Quantity(1, 0)
