"""Kubernetes quantities, row by row, as ``resource.ParseQuantity`` and the CEL library answer.

Rows cover the reference's pinned tables (upstream-scheduler-cel-tests.md
§1.2-1.3), the quantity items of its "Gaps" (§4 item 4) and the rules of
landscape.md §4. Where the reference deliberately diverged from Kubernetes
(it rejects a bare ``"Mi"``), the row holds the Kubernetes answer and says so.

Every expected value is worked out from Kubernetes' rules (the quantity.py
docstrings; ``k8s.io/apimachinery/pkg/api/resource``), not read off our output.
CEL rows are deviceless: ``T`` / ``F`` is the value, ``ERR`` an evaluation error
(a non-match that says why).
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from modelplane_core import cel
from modelplane_core.cel.quantity import INT64_MAX, Quantity, QuantityError, parse_quantity

T, F, ERR = "T", "F", "ERR"
EI = 2**60
NANO = Fraction(1, 10**9)


def verdict(expression: str) -> str:
    outcome = cel.compile(expression).evaluate({})
    if outcome.error is not None:
        assert not outcome.matched
        return ERR
    return T if outcome.matched else F


def q(text: str) -> Quantity:
    return parse_quantity(text)


CEL_ROWS: list[tuple[str, str]] = [
    # --- §1.3 parsing and isQuantity ---------------------------------------------
    ('quantity("12Mi").compareTo(quantity("12Mi")) == 0', T),
    *[
        (f'isQuantity("{s}")', T)
        for s in ("20", "20M", "20Mi", "256e3", "1E3", "100n", "100u", "5.", "1.3G", "1.3Gi")
    ],
    *[(f'isQuantity("{s}")', T) for s in ("10000k", "256E", "10E")],
    *[(f'isQuantity("{s}")', F) for s in ("20Mo", "10Mm", " 5Gi", "5Gi ", "1,3G", "200K", "Three")],
    # The reference rejects a bare "Mi" on purpose; Kubernetes' scanner reads the empty
    # number as "0" and the fast path accepts it, so Kubernetes answers true (value 0).
    ('isQuantity("Mi")', T),
    ('quantity("Mi") == quantity("0")', T),
    ('quantity("256e3").compareTo(quantity("256000")) == 0', T),
    # 4e-10 rounds away from zero to the nano unit.
    ('quantity("0.0000000004").compareTo(quantity("0.000000001")) == 0', T),
    # --- §1.3 equality -------------------------------------------------------------
    ('quantity("200M") == quantity("200M")', T),
    ('quantity("200M") == quantity("0.2G") && quantity("0.2G") == quantity("200M")', T),
    (
        'quantity("2M") == quantity("0.002G") && quantity("2000k") == quantity("2M") '
        '&& quantity("0.002G") == quantity("2000k")',
        T,
    ),
    ('quantity("200M") == quantity("0.3G")', F),
    ('quantity("200M") != quantity("0.3G")', T),
    # --- §1.3 ordering ---------------------------------------------------------------
    ('quantity("50M").isLessThan(quantity("50Mi"))', T),  # 50,000,000 < 52,428,800
    ('quantity("50M").isLessThan(quantity("100M"))', T),
    ('quantity("100M").isLessThan(quantity("50M"))', F),
    ('quantity("50Mi").isGreaterThan(quantity("50M"))', T),
    ('quantity("150Mi").isGreaterThan(quantity("100Mi"))', T),
    ('quantity("50M").isGreaterThan(quantity("100M"))', F),
    ('quantity("1").isGreaterThan(quantity("1"))', F),  # strict
    ('quantity("1").isLessThan(quantity("1"))', F),
    ('quantity("200M").compareTo(quantity("0.2G")) == 0', T),
    ('quantity("50M").compareTo(quantity("50Mi")) == -1', T),
    ('quantity("50Mi").compareTo(quantity("50M")) == 1', T),
    # --- §1.3 arithmetic (add/sub take a quantity or an int) ---------------------------
    ('quantity("50k").add(quantity("20")) == quantity("50.02k")', T),
    ('quantity("50k").add(20).isLessThan(quantity("50020"))', F),  # equal, not less
    ('quantity("50k").sub(quantity("20")) == quantity("49.98k")', T),
    ('quantity("50k").sub(20) == quantity("49980")', T),
    ('quantity("50k").add(20).sub(quantity("100k")).asInteger() == -49980', T),
    ('quantity("50k").add(20).sub(quantity("100k")).sub(-50000).asInteger() == 20', T),
    # add does not mutate its receiver (kubernetes/kubernetes#140556).
    (
        '[quantity("1Gi")].all(x, x.add(quantity("1Gi")) == quantity("2Gi") '
        '&& x == quantity("1Gi"))',
        T,
    ),
    # --- §1.3 sign (global only; q.sign() is a compile error, see test_selectors) ------
    ('sign(quantity("50k")) == 1', T),
    ('sign(quantity("-50k")) == -1', T),
    ('sign(quantity("0")) == 0', T),
    # --- §1.2/§1.3 saturation: BinarySI caps at ±(2^63 - 1), keeping the sign ---------
    ('quantity("8Ei").compareTo(quantity("9223372036854775807")) == 0', T),
    ('quantity("8Ei").compareTo(quantity("10Ei")) == 0', T),
    ('quantity("10Ei").compareTo(quantity("100Ei")) == 0', T),
    ('quantity("-10Ei").compareTo(quantity("-9223372036854775807")) == 0', T),
    ('quantity("7Ei").isLessThan(quantity("8Ei"))', T),  # 7 * 2^60 < 2^63 - 1
    # Decimal suffixes and exponents never saturate.
    ('quantity("256E").compareTo(quantity("256000000000000000000")) == 0', T),
    ('quantity("256E").isGreaterThan(quantity("1Ei"))', T),
    # --- §1.3 integers and floats -------------------------------------------------------
    ('quantity("50k").asInteger() == 50000', T),
    ('quantity("50").isInteger()', T),
    ('quantity("50000000G").isInteger()', T),  # int64 (50000000, 9): 5 * 10^16 fits
    ('quantity("9999999999999999999999999999999999999G").isInteger()', F),
    ('quantity("9999999999999999999999999999999999999G").asInteger() > 0', ERR),
    ('quantity("50.703k").asApproximateFloat() == 50703.0', T),
    # --- §1.3 an invalid suffix is an evaluation error ----------------------------------
    ('quantity("10Mo").isGreaterThan(quantity("1"))', ERR),
    ('quantity("").isInteger()', ERR),
    # --- Gaps item 4: corners --------------------------------------------------------
    ('quantity("1e+3") == quantity("1000")', T),
    ('quantity("1.5e-3") == quantity("1.5m")', T),
    ('quantity("1E+2") == quantity("100")', T),
    ('quantity("2E") == quantity("2000P")', T),  # E alone is the exa suffix
    ('quantity("1E3") == quantity("1k")', T),  # E followed by digits is an exponent
    ('isQuantity("1e")', F),  # "e" alone is no suffix
    ('quantity("+5") == quantity("5")', T),
    ('quantity(".5") == quantity("500m")', T),
    ('isQuantity("1ki")', F),
    ('quantity("-0.5n") == quantity("-1n")', T),  # away from zero
    ('quantity("1e-10") == quantity("1n")', T),
    ('quantity("1Ki") == quantity("1024")', T),
    ('quantity("1m").isLessThan(quantity("1"))', T),
    ('quantity("1.5").isInteger()', F),
    ('quantity("1.5").asInteger() == 1', ERR),
    ('quantity("1Ki").add(1) == quantity("1025")', T),
    ('quantity("1Ki").sub(24) == quantity("1000")', T),
    ('quantity("1Gi").add(quantity("1Mi")) == quantity("1025Mi")', T),
    # --- Representation-dependent answers, as Kubernetes gives them ----------------------
    # isInteger is AsInt64: only an int64 pair with scale >= 0 (or scale 0) succeeds.
    ('quantity("1.0").isInteger()', F),  # int64 (10, -1)
    ('quantity("1.0") == quantity("1")', T),  # ...though the values are equal
    ('quantity("0m").isInteger()', F),  # int64 (0, -3): a negative scale fails even for 0
    ('quantity("0").isInteger()', T),
    ('quantity("1k").isInteger()', T),  # int64 (1, 3)
    ('quantity("1Ti").isInteger()', T),  # fast path: precision 15 - 1 - 12 - 1 = 1
    ('quantity("100Ti").isInteger()', F),  # precision 15 - 3 - 12 - 1 < 0: inf.Dec
    ('quantity("1Pi").isInteger()', F),  # precision 15 - 1 - 15 - 1 < 0: inf.Dec
    ('quantity("1m").add(quantity("999m")).isInteger()', F),  # int64 (1000, -3)
    ('quantity("1").add(quantity("0m")).isInteger()', T),  # adding 0 keeps (1, 0)
    ('quantity("0m").add(quantity("1")).isInteger()', T),  # a zero receiver takes (1, 0)
    ('quantity("1.0").asInteger() == 1', ERR),
    # asApproximateFloat is float(unscaled) * math.Pow10(scale): 3.0 * (1 / 10.0).
    ('quantity("0.3").asApproximateFloat() == 0.3', F),
    ('quantity("0.3").asApproximateFloat() == 0.30000000000000004', T),
    ('quantity("0.1").add(quantity("0.2")).asApproximateFloat() == 0.30000000000000004', T),
    ('quantity("1n").asApproximateFloat() == 1e-9', T),  # 1.0 * (1 / 1e9)
    ('quantity("1e-400").asApproximateFloat() == 1e-9', T),  # rounds up to 1n first
]


@pytest.mark.parametrize(
    ("expression", "expected"),
    CEL_ROWS,
    ids=[f"{i:02d}-{row[1]}-{row[0][:60]}" for i, row in enumerate(CEL_ROWS)],
)
def test_quantity_expression(expression: str, expected: str) -> None:
    assert verdict(expression) == expected


# --- parsing: the exact value Kubernetes stores ---------------------------------------

VALUES: list[tuple[str, Fraction]] = [
    # the number forms: digits, digits.digits, digits., .digits, with an optional sign
    ("0", Fraction(0)),
    ("1", Fraction(1)),
    ("5.", Fraction(5)),
    (".5", Fraction(1, 2)),
    ("+5", Fraction(5)),
    ("-1.5", Fraction(-3, 2)),
    ("007", Fraction(7)),
    ("1.G", Fraction(10**9)),
    (".0001k", Fraction(1, 10)),
    ("100.035k", Fraction(100035)),
    # decimal SI suffixes n u m k M G T P E
    ("5n", 5 * NANO),
    ("4u", Fraction(4, 10**6)),
    ("3m", Fraction(3, 1000)),
    ("8k", Fraction(8000)),
    ("7M", Fraction(7 * 10**6)),
    ("6G", Fraction(6 * 10**9)),
    ("5T", Fraction(5 * 10**12)),
    ("2P", Fraction(2 * 10**15)),
    ("2E", Fraction(2 * 10**18)),
    # binary suffixes, looked up before the decimal ones ("Mi" is not "M")
    ("1Ki", Fraction(1024)),
    ("7Mi", Fraction(7 * 2**20)),
    ("6Gi", Fraction(6 * 2**30)),
    ("5Ti", Fraction(5 * 2**40)),
    ("4Pi", Fraction(4 * 2**50)),
    ("3Ei", Fraction(3 * EI)),
    ("1.5Gi", Fraction(3 * 2**29)),
    ("100.035Ki", Fraction(10243584, 100)),
    # exponents: e or E and a signed integer
    ("256e3", Fraction(256000)),
    ("1E3", Fraction(1000)),
    ("1e+3", Fraction(1000)),
    ("1E+2", Fraction(100)),
    ("1.5e-3", Fraction(3, 2000)),
    ("1.3E+6", Fraction(1300000)),
    ("0.5e-1", Fraction(1, 20)),
    ("1e400", Fraction(10**400)),
    # Released Kubernetes narrows the exponent to int32 (int32(parsed)): 2^32 + 1 -> 1.
    # (Upstream master has since started rejecting exponents beyond ±(2^31 - 1).)
    ("1e4294967297", Fraction(10)),
    # rounding up to the nano unit, away from zero
    ("0.0000000004", NANO),
    ("1e-10", NANO),
    ("-0.5n", -NANO),
    ("3.001n", 4 * NANO),
    ("1.1E-9", 2 * NANO),
    ("0.00000012345", 124 * NANO),
    ("0.000000000001Ki", 2 * NANO),  # 1.024e-9 -> 2n
    # BinarySI saturates at ±(2^63 - 1); 7Ei is below the cap
    ("8Ei", Fraction(INT64_MAX)),
    ("10Ei", Fraction(INT64_MAX)),
    ("100Ei", Fraction(INT64_MAX)),
    ("-10Ei", Fraction(-INT64_MAX)),
    ("9223372036854775807Ki", Fraction(INT64_MAX)),
    ("7Ei", Fraction(7 * EI)),
    ("256E", Fraction(256 * 10**18)),  # decimal: no cap
    # An empty number is "0" in Kubernetes' scanner: bare suffixes, signs and dots are 0
    # whenever the int64 fast path takes them (precision >= 0). The reference rejects
    # "Mi"; we follow Kubernetes.
    *[(s, Fraction(0)) for s in ("Mi", "Ki", "Gi", "Ti", "n", "k", "M", "E", "e3", "+", "-")],
    *[(s, Fraction(0)) for s in (".", "+.", "-.", "0Ki", "-0", "00")],
]


@pytest.mark.parametrize(("text", "value"), VALUES)
def test_parsed_value(text: str, value: Fraction) -> None:
    assert q(text).value == value


REJECTED = [
    "",
    " 5Gi",
    "5Gi ",  # no trimming
    "1,3G",
    "200K",  # capital K is no suffix
    "Three",
    "aoeu",
    "10Mo",
    "10Mm",
    "1ki",
    "1Kib",
    "--1",
    "1.2.3",
    "1.1.M",
    "1+1.0M",
    "0.1mi",
    ".5i",
    "1i",
    "-3.01e-",
    "1e",
    "e",
    "1e3.5",
    "1e9223372036854775808",  # the exponent must parse as an int64
    # A bare "Pi" or "Ei" fails where "Mi" passes: its fast-path precision is negative
    # (15 - 1 - 15 - 1, 15 - 1 - 18 - 1), and the decimal path finds no digit.
    "Pi",
    "Ei",
    "-Ei",
    "٣",  # only ASCII digits
]


@pytest.mark.parametrize("text", REJECTED)
def test_rejected(text: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    assert repr(text) in str(info.value)


def test_only_strings_parse() -> None:
    with pytest.raises(QuantityError, match="must be a string"):
        parse_quantity(5)  # type: ignore[arg-type]


FORMAT_WRONG = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)


@pytest.mark.parametrize(
    ("text", "upstream"),
    [
        # resource.ParseQuantity's three errors, for the step of its scanner that fails.
        ("", FORMAT_WRONG),  # an empty string is refused before scanning
        ("10Mo", FORMAT_WRONG),  # a suffix character, then one that is neither sign nor digit
        ("1,3G", FORMAT_WRONG),
        ("٣", FORMAT_WRONG),  # digits are ASCII
        ("200K", "unable to parse quantity's suffix"),  # scans, but K is no suffix
        ("1e", "unable to parse quantity's suffix"),  # an exponent needs digits
        ("1e9223372036854775808", "unable to parse quantity's suffix"),  # beyond int64
        ("Pi", "unable to parse numeric part of quantity"),  # the decimal path finds no digit
    ],
)
def test_rejections_carry_kubernetes_words(text: str, upstream: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    assert info.value.upstream == upstream
    assert info.value.explained() == f"{upstream}: {info.value}"


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("1Ki", "BinarySI"),
        ("0Ki", "BinarySI"),
        ("0.5Ki", "BinarySI"),  # 512
        ("0.000000000001Ki", "DecimalSI"),  # a binary value below 1 becomes DecimalSI
        ("1k", "DecimalSI"),
        ("1", "DecimalSI"),
        ("1e3", "DecimalExponent"),
        ("1E-3", "DecimalExponent"),
    ],
)
def test_format_remembers_the_suffix_kind(text: str, fmt: str) -> None:
    assert q(text).format == fmt


# --- canonical form: Kubernetes' Quantity.String() -----------------------------------
#
# Rules (CanonicalizeBytes): zero is "0". BinarySI with |v| >= 1024 and no fraction
# divides out 1024s and takes Ki..Ei; anything else prints as decimal: factors of 10
# move into the exponent, which is then lowered to a multiple of 3 (mantissa x10 or
# x100) and spelled n u m "" k M G T P E (DecimalSI) or e<exp> (DecimalExponent).

CANONICAL: list[tuple[str, str]] = [
    ("1.5k", "1500"),  # 15e2 -> 1500e0
    ("1536Mi", "1536Mi"),  # 1536 is not a multiple of 1024
    ("2048Ki", "2Mi"),
    ("0.5Gi", "512Mi"),
    ("1.5Gi", "1536Mi"),  # the Quantity doc's own example
    ("100m", "100m"),  # 1e2 x 10^-3 -> 1e-1 -> 100e-3
    ("1.5", "1500m"),  # the Quantity doc's own example
    ("1e3", "1e3"),
    ("1E3", "1e3"),
    ("1e4", "10e3"),
    ("12e6", "12e6"),
    ("1.5e-3", "1500e-6"),
    ("1E-3", "1e-3"),
    # from Kubernetes' TestQuantityParseEmit
    ("1Ki", "1Ki"),
    ("1024Mi", "1Gi"),
    ("1000M", "1G"),
    (".001Ki", "1024m"),  # 1.024 is below 1024: decimal
    (".000001Ki", "1024u"),
    (".000000001Ki", "1024n"),
    (".000000000001Ki", "2n"),
    ("12E", "12E"),
    ("7Ei", "7Ei"),
    ("8Ei", "9223372036854775807"),  # saturated; 2^63 - 1 is odd, so no binary suffix
    ("0", "0"),
    ("0Ki", "0"),
    ("-0", "0"),
    ("-1Gi", "-1Gi"),
    ("-1.5", "-1500m"),
    # After a parse, String() returns these inputs verbatim (they pass its "already
    # canonical" test); str() renders the canonical form instead.
    ("+5", "5"),
    ("007", "7"),
    # Past "E" released Kubernetes drops the suffix ("1000E" would print "1", a wrong
    # value); the exponent form is what upstream prints now and keeps the value.
    ("1000E", "1e21"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_canonical_form(text: str, canonical: str) -> None:
    assert str(q(text)) == canonical
    assert repr(q(text)) == f"Quantity({canonical!r})"


def test_canonical_form_of_arithmetic_results() -> None:
    # BinarySI keeps its format through add; 1025 has no 1024 factor.
    assert str(q("1Ki").add(1)) == "1025"
    # Below 1024 a binary value prints as decimal.
    assert str(q("1Ki").sub(1019)) == "5"
    assert str(q("1Ki").add(q("1Ki"))) == "2Ki"
    assert str(q("1m").add(q("999m"))) == "1"
    # A zero receiver takes the operand's format; an int operand is DecimalExponent.
    assert str(q("0").add(1000)) == "1e3"
    assert str(q("0").add(q("1Ki"))) == "1Ki"
    assert str(q("1k").add(q("0Ki"))) == "1k"
    # Past Ei no binary suffix exists: 2^70 = 4Ei doubled four times prints exactly.
    past_ei = q("4Ei")
    for _ in range(4):
        past_ei = past_ei.add(past_ei)
    assert past_ei.value == 2**66
    assert str(past_ei) == "64Ei"
    for _ in range(4):
        past_ei = past_ei.add(past_ei)
    assert past_ei.value == 2**70
    assert str(past_ei) == "1180591620717411303424"


def test_add_and_sub_are_exact_across_representations() -> None:
    huge = q("9999999999999999999999999999999999999G")  # inf.Dec
    assert huge.add(q("1n")).value == Fraction(10**46 - 10**9) + NANO
    assert huge.sub(huge).value == 0
    # int64 overflow falls back to the exact decimal form.
    assert q("9223372036854775807").add(1).value == 2**63
    assert q("0").sub(-(2**63)).value == 2**63
    with pytest.raises(QuantityError, match="outside int64"):
        q("1").add(2**63)


def test_as_integer_bounds() -> None:
    # 18 digits still take the int64 fast path (precision 18 - 18 = 0); 19 do not, so
    # even 2^63 - 1 written out is an inf.Dec and not an "integer" to Kubernetes.
    assert q("922337203685477580").as_integer() == 922337203685477580
    assert q("-922337203685477580").as_integer() == -922337203685477580
    assert q("9223372036854775807").is_integer() is False
    assert q("9223372036854775k").as_integer() == 9223372036854775000  # (v, 3) fits
    assert q("9223372036854776k").is_integer() is False  # (v, 3) overflows int64
    with pytest.raises(QuantityError, match="cannot convert"):
        q("1.5").as_integer()


def test_approximate_float_specials() -> None:
    # int64 (0, 400): 0.0 * math.Pow10(400) = 0 * inf = NaN, as in Kubernetes.
    assert math.isnan(q("0e400").as_approximate_float())
    assert q("1e400").as_approximate_float() == math.inf
    assert q("-1e400").as_approximate_float() == -math.inf
    assert q("50.703k").as_approximate_float() == 50703.0
    assert q("1Ki").as_approximate_float() == 1024.0
    assert q("-0.3").as_approximate_float() == -0.30000000000000004


def test_hostile_exponents_stay_cheap_and_exact() -> None:
    big, small = q("1e2000000000"), q("1e-2000000000")
    assert big.compare(q("1e1999999999")) == 1
    assert small == q("1n")  # rounded up to the nano unit
    assert big.is_integer() is False
    assert str(big) == "100e1999999998"
    with pytest.raises(QuantityError, match="digits"):
        big.add(q("1"))


def test_value_equality_and_hash() -> None:
    assert q("1k") == q("1000") == q("1e3")
    assert hash(q("1k")) == hash(q("1e3"))
    assert q("1Ki") != q("1k")
    assert q("1k") != "1k"
