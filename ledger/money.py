"""Money arithmetic: the one place that converts, parses, formats, rounds and allocates amounts.

Amounts are stored as integer minor units (pence, cents, yen) beside an ISO 4217 currency code, computed in
`Decimal` with explicit rounding (half up, to the currency's minor unit) and shown as decimal strings with
exactly the currency's minor-unit decimals ("85.75"). Floats are refused everywhere.
"""

import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ledger.errors import DomainError

# ISO 4217 minor-unit exponents of the currencies Purse may meet. Deliberately explicit: an unknown code
# is an error, never a guess.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "ISK": 0,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "NOK": 2,
    "NZD": 2,
    "SEK": 2,
    "SGD": 2,
    "USD": 2,
    "ZAR": 2,
}


class UnknownCurrency(DomainError):
    code = "unknown_currency"
    message = "That currency is not one Purse knows."


class InvalidAmount(DomainError):
    code = "invalid_amount"
    message = "That is not a valid amount."


class InvalidAllocation(DomainError):
    code = "invalid_allocation"
    message = "An amount cannot be split by those weights."


def currency_exponent(currency: str) -> int:
    """Number of minor-unit decimals of an ISO 4217 currency; raises UnknownCurrency."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except (KeyError, TypeError):
        raise UnknownCurrency(
            f"{currency!r} is not a currency Purse knows (use an ISO 4217 code such as GBP)."
        ) from None


def _require_int(amount_minor: int) -> None:
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
        raise InvalidAmount(f"An amount in minor units must be a whole number, not {amount_minor!r}.")


def _require_decimal(amount: Decimal) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidAmount(f"An amount must be a finite Decimal, not {amount!r}.")


def decimal_from_minor(amount_minor: int, *, currency: str) -> Decimal:
    """The exact Decimal value of an integer amount of minor units: 8575 GBP -> Decimal("85.75")."""
    _require_int(amount_minor)
    exponent = currency_exponent(currency)
    return Decimal(amount_minor).scaleb(-exponent)


def minor_from_decimal(amount: Decimal, *, currency: str) -> int:
    """Integer minor units of an amount exact to the minor unit; raises InvalidAmount otherwise."""
    _require_decimal(amount)
    exponent = currency_exponent(currency)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(
            f"{amount} has more decimals than {currency} allows ({exponent}); round it first."
        )
    return int(scaled)


def decimal_round(amount: Decimal, *, currency: str) -> Decimal:
    """Round an amount half up to the currency's minor unit: Decimal("2.345") GBP -> Decimal("2.35")."""
    _require_decimal(amount)
    exponent = currency_exponent(currency)
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def minor_round(amount: Decimal, *, currency: str) -> int:
    """Round an amount half up to the currency's minor unit and return it in minor units."""
    return minor_from_decimal(decimal_round(amount, currency=currency), currency=currency)


def money_parse(text: str, *, currency: str) -> int:
    """Parse a string with exactly the currency's decimals ("85.75" GBP -> 8575); raises InvalidAmount.

    An optional leading minus is accepted; no plus sign, spaces, thousands separators or exponents.
    """
    exponent = currency_exponent(currency)
    if not isinstance(text, str):
        raise InvalidAmount(
            f'Amounts are written as strings such as "{money_format(8575, currency=currency)}".'
        )
    pattern = r"-?\d+" if exponent == 0 else rf"-?\d+\.\d{{{exponent}}}"
    if not re.fullmatch(pattern, text, flags=re.ASCII):
        example = money_format(8575, currency=currency)
        decimals = "no decimals" if exponent == 0 else f"exactly {exponent} decimals"
        raise InvalidAmount(
            f'"{text}" is not a {currency} amount: write it with {decimals}, like "{example}".'
        )
    try:
        return minor_from_decimal(Decimal(text), currency=currency)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise InvalidAmount(f'"{text}" is not an amount.') from None


def money_format(amount_minor: int, *, currency: str) -> str:
    """Format minor units as a string with exactly the currency's decimals: 8575 GBP -> "85.75"."""
    # Integer arithmetic: exact, and much cheaper than a Decimal for lists that format thousands of amounts.
    _require_int(amount_minor)
    exponent = currency_exponent(currency)
    if exponent == 0:
        return str(amount_minor)
    whole, fraction = divmod(abs(amount_minor), 10**exponent)
    return f"{'-' if amount_minor < 0 else ''}{whole}.{fraction:0{exponent}d}"


def money_formatter(currency: str) -> Callable[[int], str]:
    """`money_format` for one currency, its exponent looked up once: for lists of many amounts."""
    exponent = currency_exponent(currency)
    if exponent == 0:
        return str
    scale = 10**exponent

    def format_amount(amount_minor: int) -> str:
        whole, fraction = divmod(abs(amount_minor), scale)
        return f"{'-' if amount_minor < 0 else ''}{whole}.{fraction:0{exponent}d}"

    return format_amount


def money_allocate(total_minor: int, *, weights: Sequence[int | Decimal]) -> list[int]:
    """Split a total into parts proportional to weights that add up exactly to the total.

    Largest remainder: each part is its exact share rounded down (towards zero for a negative total), and
    the leftover minor units go one each to the parts with the largest remainders, earlier parts first on
    ties. Every part is within one minor unit of its exact share. Zero weights get zero. Raises
    InvalidAllocation for no weights, negative weights or weights that are all zero.
    """
    _require_int(total_minor)
    if not weights:
        raise InvalidAllocation("There is nothing to split the amount between.")
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, int | Decimal):
            raise InvalidAllocation(f"Weights must be whole numbers or Decimals, not {weight!r}.")
        if isinstance(weight, Decimal) and not weight.is_finite():
            raise InvalidAllocation(f"Weights must be finite, not {weight!r}.")
        if weight < 0:
            raise InvalidAllocation("Weights cannot be negative.")
    # Scale Decimal weights to integers so that every step below is exact integer arithmetic.
    scale = max((-w.as_tuple().exponent for w in weights if isinstance(w, Decimal)), default=0)
    scale = max(scale, 0)
    integer_weights = [int(Decimal(w).scaleb(scale)) for w in weights]
    weight_total = sum(integer_weights)
    if weight_total == 0:
        raise InvalidAllocation("At least one weight must be more than zero.")

    sign = -1 if total_minor < 0 else 1
    magnitude = abs(total_minor)
    parts = []
    remainders = []
    for weight in integer_weights:
        part, remainder = divmod(magnitude * weight, weight_total)
        parts.append(part)
        remainders.append(remainder)
    leftover = magnitude - sum(parts)
    by_largest_remainder = sorted(range(len(parts)), key=lambda index: (-remainders[index], index))
    for index in by_largest_remainder[:leftover]:
        parts[index] += 1
    return [sign * part for part in parts]
