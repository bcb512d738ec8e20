"""Template filters for statements: money and dates as people read them (the same wording as the pages)."""

from datetime import date

from django import template

from plans.wording import date_display, money_display

register = template.Library()


@register.filter
def money(amount_minor: int | None, currency: str = "GBP") -> str:
    """Minor units with the currency symbol: 194707 -> "£1,947.07"; nothing for None."""
    if amount_minor is None:
        return ""
    return money_display(int(amount_minor), currency=currency or "GBP")


@register.filter
def day(value: date | None) -> str:
    """15 May 2026."""
    return date_display(value) if value else ""
