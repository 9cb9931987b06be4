"""Quantity laws over generated strings of every form Kubernetes accepts.

The oracle here is an independent statement of the rules (a Fraction built
from the written number and its suffix, rounded up to the nano unit, binary
values capped at 2^63 - 1); the implementation instead follows Kubernetes'
int64 fast path and decimal slow path. Agreement on every generated string is
what makes ``compare`` "consistent with the exact rational value".
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from modelplane_core import cel
from modelplane_core.cel.quantity import Quantity, QuantityError, parse_quantity

INT64_MAX = 2**63 - 1
DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}

SIGNS = st.sampled_from(["", "+", "-"])
DIGITS = st.text("0123456789", max_size=22)
EXPONENTS = st.builds(
    lambda e, sign, zeros, value: f"{e}{sign}{'0' * zeros}{value}",
    st.sampled_from("eE"),
    st.sampled_from(["", "+", "-"]),
    st.integers(0, 2),
    st.integers(0, 40),
)
SUFFIXES = st.one_of(st.sampled_from(sorted(DECIMAL)), st.sampled_from(sorted(BINARY)), EXPONENTS)


@st.composite
def quantity_texts(draw: Any) -> str:
    """sign, then digits / digits. / .digits / digits.digits (at least one digit), then a suffix."""
    whole, fraction = draw(DIGITS), draw(DIGITS)
    if not whole + fraction:
        whole = draw(st.sampled_from("0123456789"))
    point = "." if fraction or draw(st.booleans()) else ""
    return f"{draw(SIGNS)}{whole}{point}{fraction}{draw(SUFFIXES)}"


QUANTITIES = quantity_texts()


def expected_value(text: str) -> Fraction:
    """The value the Kubernetes rules give ``text``, computed from scratch."""
    match = re.fullmatch(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)", text)
    assert match is not None
    sign, whole, fraction, suffix = match.groups()
    fraction = fraction or ""
    number = Fraction(int(whole + fraction or "0"), 10 ** len(fraction))
    if suffix in BINARY:
        number *= 2 ** BINARY[suffix]
    elif suffix in DECIMAL:
        number *= Fraction(10) ** DECIMAL[suffix]
    else:
        number *= Fraction(10) ** int(suffix[1:])
    if number:  # round up, away from zero, to a whole number of nano units
        number = Fraction(math.ceil(number * 10**9), 10**9)
    if suffix in BINARY:
        number = min(number, Fraction(INT64_MAX))
    return -number if sign == "-" else number


def sign_of(value: Fraction) -> int:
    return (value > 0) - (value < 0)


@given(QUANTITIES)
def test_parsed_value_follows_the_rules(text: str) -> None:
    assert parse_quantity(text).value == expected_value(text)


CANONICAL = re.compile(r"0|-?[1-9][0-9]*(?:[numkMGTPE]|[KMGTPE]i|e-?[1-9][0-9]*)?")


@given(QUANTITIES)
def test_canonical_form_round_trips_and_is_canonical(text: str) -> None:
    quantity = parse_quantity(text)
    canonical = str(quantity)
    again = parse_quantity(canonical)
    assert again.compare(quantity) == 0
    assert again == quantity
    assert str(again) == canonical  # canonical is a fixed point
    assert CANONICAL.fullmatch(canonical), canonical
    number = int(re.match(r"-?[0-9]+", canonical).group())  # type: ignore[union-attr]
    unit = canonical.lstrip("-0123456789")
    if unit.endswith("i"):
        assert number % 1024  # the largest binary suffix that fits
    elif unit:
        assert number % 1000  # the largest decimal suffix or exponent
        if unit.startswith("e"):
            assert int(unit[1:]) % 3 == 0


@given(QUANTITIES, QUANTITIES)
def test_compare_is_the_order_of_the_exact_values(left: str, right: str) -> None:
    a, b = parse_quantity(left), parse_quantity(right)
    assert a.compare(b) == sign_of(a.value - b.value)
    assert b.compare(a) == -a.compare(b)
    assert (a == b) is (a.compare(b) == 0)
    if a == b:
        assert hash(a) == hash(b)


@given(st.lists(QUANTITIES, min_size=3, max_size=8))
def test_compare_is_a_total_order(texts: list[str]) -> None:
    quantities = [parse_quantity(t) for t in texts]
    ordered = sorted(quantities, key=functools.cmp_to_key(Quantity.compare))
    for earlier, later in itertools.pairwise(ordered):
        assert earlier.compare(later) <= 0
        assert earlier.value <= later.value
    for q in quantities:
        assert q.compare(q) == 0


def plain_decimal(value: Fraction) -> str:
    """``value`` (whose denominator is a power of ten) as a plain decimal literal."""
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    digits = str(abs(int(value * 10**places))).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}" if places else f"{sign}{digits}"


@given(
    st.integers(-(10**15), 10**15),
    st.sampled_from([*sorted(DECIMAL.items()), ("e5", 5), ("E-2", -2), ("e+7", 7)]),
)
def test_one_value_in_other_units_is_equal(amount: int, unit: tuple[str, int]) -> None:
    suffix, power = unit
    written = parse_quantity(f"{amount}{suffix}")
    value = Fraction(amount) * Fraction(10) ** power
    assert written == parse_quantity(plain_decimal(value))
    assert parse_quantity(f"{amount}Ki") == parse_quantity(f"{amount * 1024}")
    assert parse_quantity(f"{amount}Mi") == parse_quantity(f"{amount * 1024}Ki")


@given(QUANTITIES, st.one_of(QUANTITIES, st.integers(-(2**63), 2**63 - 1)))
def test_add_and_sub_are_exact(left: str, right: str | int) -> None:
    a = parse_quantity(left)
    b: Quantity | int = parse_quantity(right) if isinstance(right, str) else right
    b_value = b.value if isinstance(b, Quantity) else Fraction(b)
    assert a.add(b).value == a.value + b_value
    assert a.sub(b).value == a.value - b_value
    for result in (a.add(b), a.sub(b)):
        if result.is_integer():
            assert Fraction(result.as_integer()) == result.value


@given(QUANTITIES)
def test_integer_answers_are_exact_int64s(text: str) -> None:
    quantity = parse_quantity(text)
    if quantity.is_integer():
        value = quantity.as_integer()
        assert -(2**63) <= value <= INT64_MAX
        assert Fraction(value) == quantity.value


@given(QUANTITIES)
def test_approximate_float_is_within_a_few_ulps(text: str) -> None:
    quantity = parse_quantity(text)
    approximate = quantity.as_approximate_float()
    exact = quantity.value
    if exact == 0:
        assert approximate == 0.0
    else:
        assert math.isclose(approximate, float(exact), rel_tol=1e-14)


# --- never raising ---------------------------------------------------------------

TEXT_ALPHABET = "0123456789+-.eEinumkKMGTPi xZ"
IS_QUANTITY = cel.compile('isQuantity(device.attributes["d"].s)')
QUANTITY_OF = cel.compile('quantity(device.attributes["d"].s).compareTo(quantity("1")) <= 1')


@given(st.one_of(st.text(TEXT_ALPHABET, max_size=10), QUANTITIES))
def test_is_quantity_is_exactly_parse_success(text: str) -> None:
    try:
        parse_quantity(text)
    except QuantityError:
        parses = False
    else:
        parses = True
    device = {"driver": "d", "attributes": {"s": {"string": text}}}
    assert IS_QUANTITY.evaluate(device) == cel.Outcome(parses)
    outcome = QUANTITY_OF.evaluate(device)
    assert outcome.matched is parses
    assert (outcome.error is None) is parses


@given(st.text(max_size=30))
def test_parse_raises_only_quantity_error(text: str) -> None:
    problem = None
    try:
        parse_quantity(text)
    except QuantityError as error:
        problem = str(error)
    assert problem is None or repr(text) in problem
