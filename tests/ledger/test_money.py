from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.money import (
    CURRENCY_EXPONENTS,
    InvalidAllocation,
    InvalidAmount,
    UnknownCurrency,
    currency_exponent,
    decimal_from_minor,
    decimal_round,
    minor_from_decimal,
    minor_round,
    money_allocate,
    money_format,
    money_formatter,
    money_parse,
)

currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))
amounts_minor = st.integers(min_value=-(10**15), max_value=10**15)


class TestCurrencyExponent:
    def test_knows_the_usual_currencies(self):
        assert currency_exponent("GBP") == 2
        assert currency_exponent("JPY") == 0
        assert currency_exponent("KWD") == 3

    @pytest.mark.parametrize("currency", ["XXX", "gbp", "", None, "GBPP"])
    def test_refuses_an_unknown_currency(self, currency):
        with pytest.raises(UnknownCurrency) as caught:
            currency_exponent(currency)
        assert caught.value.code == "unknown_currency"


class TestDecimalFromMinor:
    def test_converts_pence_to_pounds(self):
        assert decimal_from_minor(8575, currency="GBP") == Decimal("85.75")
        assert str(decimal_from_minor(8575, currency="GBP")) == "85.75"

    def test_converts_yen_as_whole_units(self):
        assert decimal_from_minor(8575, currency="JPY") == Decimal("8575")

    def test_handles_negative_amounts(self):
        assert decimal_from_minor(-5, currency="GBP") == Decimal("-0.05")

    @pytest.mark.parametrize("amount", [85.75, Decimal("8575"), "8575", True])
    def test_refuses_anything_but_an_int(self, amount):
        with pytest.raises(InvalidAmount):
            decimal_from_minor(amount, currency="GBP")


class TestMinorFromDecimal:
    def test_converts_an_exact_amount(self):
        assert minor_from_decimal(Decimal("85.75"), currency="GBP") == 8575
        assert minor_from_decimal(Decimal("85.7"), currency="GBP") == 8570
        assert minor_from_decimal(Decimal("1.234"), currency="KWD") == 1234

    def test_refuses_more_decimals_than_the_currency_has(self):
        with pytest.raises(InvalidAmount):
            minor_from_decimal(Decimal("85.755"), currency="GBP")
        with pytest.raises(InvalidAmount):
            minor_from_decimal(Decimal("1.5"), currency="JPY")

    @pytest.mark.parametrize("amount", [85.75, 8575, Decimal("NaN"), Decimal("Infinity")])
    def test_refuses_floats_ints_and_non_finite_values(self, amount):
        with pytest.raises(InvalidAmount):
            minor_from_decimal(amount, currency="GBP")

    @settings(max_examples=200)
    @given(amount_minor=amounts_minor, currency=currencies)
    def test_round_trips_with_decimal_from_minor(self, amount_minor, currency):
        assert minor_from_decimal(decimal_from_minor(amount_minor, currency=currency), currency=currency) == (
            amount_minor
        )


class TestRounding:
    @pytest.mark.parametrize(
        ("amount", "expected"),
        [
            ("2.345", "2.35"),
            ("2.344", "2.34"),
            ("2.355", "2.36"),
            ("-2.345", "-2.35"),
            ("0.005", "0.01"),
            ("0.0049999", "0.00"),
            ("10", "10.00"),
        ],
    )
    def test_rounds_half_up_to_the_minor_unit(self, amount, expected):
        rounded = decimal_round(Decimal(amount), currency="GBP")
        assert str(rounded) == expected

    def test_rounds_to_whole_yen(self):
        assert minor_round(Decimal("100.5"), currency="JPY") == 101

    def test_minor_round_returns_minor_units(self):
        assert minor_round(Decimal("24.50") * Decimal("3.5"), currency="GBP") == 8575
        assert minor_round(Decimal("1") / Decimal("3"), currency="GBP") == 33

    @settings(max_examples=200)
    @given(
        amount=st.decimals(
            min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=6
        ),
        currency=currencies,
    )
    def test_rounding_is_within_half_a_minor_unit(self, amount, currency):
        unit = Decimal(1).scaleb(-currency_exponent(currency))
        rounded = decimal_round(amount, currency=currency)
        assert abs(rounded - amount) <= unit / 2
        assert minor_from_decimal(rounded, currency=currency) == minor_round(amount, currency=currency)


class TestMoneyParse:
    @pytest.mark.parametrize(
        ("text", "currency", "expected"),
        [
            ("85.75", "GBP", 8575),
            ("0.05", "GBP", 5),
            ("-12.00", "EUR", -1200),
            ("1000000.00", "USD", 100000000),
            ("8575", "JPY", 8575),
            ("1.234", "KWD", 1234),
        ],
    )
    def test_parses_amounts_with_exactly_the_currency_decimals(self, text, currency, expected):
        assert money_parse(text, currency=currency) == expected

    @pytest.mark.parametrize(
        ("text", "currency"),
        [
            ("85.7", "GBP"),
            ("85", "GBP"),
            ("85.755", "GBP"),
            ("85.", "GBP"),
            (".75", "GBP"),
            ("+85.75", "GBP"),
            (" 85.75", "GBP"),
            ("1,000.00", "GBP"),
            ("1e3", "GBP"),
            ("NaN", "GBP"),
            ("85.0", "JPY"),
            ("", "GBP"),
            ("\u0668\u0665.\u0667\u0665", "GBP"),  # Arabic-Indic digits
        ],
    )
    def test_refuses_anything_else(self, text, currency):
        with pytest.raises(InvalidAmount) as caught:
            money_parse(text, currency=currency)
        assert caught.value.code == "invalid_amount"

    def test_refuses_a_number_that_is_not_a_string(self):
        with pytest.raises(InvalidAmount):
            money_parse(85.75, currency="GBP")

    def test_refuses_an_unknown_currency(self):
        with pytest.raises(UnknownCurrency):
            money_parse("1.00", currency="ABC")

    @settings(max_examples=200)
    @given(amount_minor=amounts_minor, currency=currencies)
    def test_round_trips_with_money_format(self, amount_minor, currency):
        assert money_parse(money_format(amount_minor, currency=currency), currency=currency) == amount_minor


class TestMoneyFormat:
    @pytest.mark.parametrize(
        ("amount_minor", "currency", "expected"),
        [
            (8575, "GBP", "85.75"),
            (8570, "GBP", "85.70"),
            (5, "GBP", "0.05"),
            (-5, "GBP", "-0.05"),
            (0, "GBP", "0.00"),
            (8575, "JPY", "8575"),
            (1, "KWD", "0.001"),
            (123456789012345, "EUR", "1234567890123.45"),
        ],
    )
    def test_formats_with_exactly_the_minor_unit_decimals(self, amount_minor, currency, expected):
        assert money_format(amount_minor, currency=currency) == expected


class TestMoneyAllocate:
    def test_splits_evenly_with_the_extra_penny_first(self):
        assert money_allocate(100, weights=[1, 1, 1]) == [34, 33, 33]

    def test_gives_leftovers_to_the_largest_remainders(self):
        # exact shares 33.3, 16.7, 50.0: the leftover penny goes to the 16.7
        assert money_allocate(100, weights=[2, 1, 3]) == [33, 17, 50]

    def test_splits_by_decimal_weights(self):
        assert money_allocate(1000, weights=[Decimal("0.5"), Decimal("0.25"), Decimal("0.25")]) == [
            500,
            250,
            250,
        ]
        assert money_allocate(1001, weights=[Decimal("0.333"), Decimal("0.667")]) == [333, 668]

    def test_gives_zero_weights_nothing(self):
        assert money_allocate(101, weights=[0, 1, 0, 1]) == [0, 51, 0, 50]

    def test_splits_a_negative_total_symmetrically(self):
        assert money_allocate(-100, weights=[1, 1, 1]) == [-34, -33, -33]

    def test_splits_zero_into_zeros(self):
        assert money_allocate(0, weights=[1, 2]) == [0, 0]

    def test_is_deterministic(self):
        assert money_allocate(7, weights=[1] * 5) == money_allocate(7, weights=[1] * 5) == [2, 2, 1, 1, 1]

    @pytest.mark.parametrize("weights", [[], [0, 0], [1, -1], [1.5, 1], [True, 1], [Decimal("NaN")]])
    def test_refuses_weights_it_cannot_split_by(self, weights):
        with pytest.raises(InvalidAllocation) as caught:
            money_allocate(100, weights=weights)
        assert caught.value.code == "invalid_allocation"

    def test_refuses_a_total_that_is_not_an_int(self):
        with pytest.raises(InvalidAmount):
            money_allocate(Decimal("1.00"), weights=[1])

    @settings(max_examples=300)
    @given(
        total=st.integers(min_value=-(10**12), max_value=10**12),
        weights=st.lists(
            st.one_of(
                st.integers(min_value=0, max_value=10**6),
                st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False, allow_infinity=False),
            ),
            min_size=1,
            max_size=12,
        ).filter(lambda weights: sum(weights) > 0),
    )
    def test_parts_add_up_and_each_is_within_a_minor_unit_of_its_share(self, total, weights):
        parts = money_allocate(total, weights=weights)
        assert sum(parts) == total
        assert len(parts) == len(weights)
        weight_total = sum(Fraction(weight) for weight in weights)
        for part, weight in zip(parts, weights, strict=True):
            exact = Fraction(total) * Fraction(weight) / weight_total
            assert abs(part - exact) < 1
            if weight == 0:
                assert part == 0


class TestMoneyFormatProperty:
    @given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["GBP", "JPY", "KWD"]))
    def test_formatting_is_the_exact_decimal_with_the_currencys_decimals(self, amount_minor, currency):
        exponent = currency_exponent(currency)
        expected = f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f}"

        assert money_format(amount_minor, currency=currency) == expected
        assert money_parse(expected, currency=currency) == amount_minor

    @given(st.integers(min_value=-(10**15), max_value=10**15), currencies)
    def test_the_formatter_for_one_currency_formats_as_money_format(self, amount_minor, currency):
        assert money_formatter(currency)(amount_minor) == money_format(amount_minor, currency=currency)
