"""Money and dates as people read them on the timeline: "£1,947.07", "15 May 2026".

The API shows money as decimal strings beside a currency (api.md); these are for sentences written for
people. The amount itself comes from `ledger.money.money_format`, so the decimals are always the currency's.
"""

from datetime import date

from ledger.money import money_format

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
# English month names, whatever the process's locale (strftime's %B follows it).
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def money_display(amount_minor: int, *, currency: str) -> str:
    """Minor units as a person reads them: 94707 GBP -> "£947.07", 194707 -> "£1,947.07", -500 -> "-£5.00".

    A currency without a symbol here is written after the amount: "1,947.07 CHF".
    """
    digits = money_format(abs(amount_minor), currency=currency)
    whole, _, fraction = digits.partition(".")
    grouped = f"{int(whole):,}" + (f".{fraction}" if fraction else "")
    sign = "-" if amount_minor < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{grouped}" if symbol else f"{sign}{grouped} {currency}"


def date_display(day: date) -> str:
    """A date as a person writes it: 15 May 2026 (no leading zero, the month in full)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
