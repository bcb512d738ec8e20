"""Template filters for the pages: money and dates written the way people read them."""

from datetime import date, datetime

from django import template
from django.utils import timezone
from num2words import num2words

from ledger.money import currency_exponent
from plans.wording import date_display, money_display

register = template.Library()

# The names of a currency's units in words, for the money read aloud ("twelve pounds and five pence").
_UNIT_WORDS = {"GBP": ("pound", "pounds", "penny", "pence"), "EUR": ("euro", "euros", "cent", "cents")}


@register.filter
def money(amount_minor: int | None, currency: str = "GBP") -> str:
    """Minor units as a person reads them: 194707 -> "£1,947.07"; nothing for None."""
    if amount_minor is None:
        return ""
    return money_display(int(amount_minor), currency=currency or "GBP")


@register.filter
def money_words(amount_minor: int | None, currency: str = "GBP") -> str:
    """The same amount in words: 1207 -> "twelve pounds and seven pence"."""
    if amount_minor is None:
        return ""
    currency = currency or "GBP"
    amount_minor = int(amount_minor)
    sign = "minus " if amount_minor < 0 else ""
    scale = 10 ** currency_exponent(currency)
    whole, fraction = divmod(abs(amount_minor), scale)
    one, many, one_minor, many_minor = _UNIT_WORDS.get(
        currency, (currency, currency, "hundredth", "hundredths")
    )
    words = f"{num2words(whole, lang='en_GB')} {one if whole == 1 else many}"
    if fraction:
        words += f" and {num2words(fraction, lang='en_GB')} {one_minor if fraction == 1 else many_minor}"
    return sign + words


@register.filter
def day(value: date | datetime | None) -> str:
    """A date as a person writes it: "15 May 2026"; a datetime in local time, with the time of day."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = timezone.localtime(value)
        return f"{date_display(local.date())}, {local:%H:%M}"
    return date_display(value)


@register.filter
def date_parts(field) -> list[dict[str, str]]:
    """A GOV.UK date input's boxes (web.forms.statements.DateInputField): each one's name suffix, label, width
    and the value typed or given."""
    value = field.value()
    values = value if isinstance(value, list | tuple) else field.field.widget.decompress(value)
    return [
        {"suffix": suffix, "label": label, "width": width, "value": value or ""}
        for (suffix, label, width), value in zip(
            (("day", "Day", "2"), ("month", "Month", "2"), ("year", "Year", "4")), values, strict=True
        )
    ]
