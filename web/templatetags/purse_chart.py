"""The plan page's bar chart of spending against each outcome, drawn as SVG on the server (no JavaScript).

`{% outcome_chart spending %}` draws, per outcome, its name and two labelled bars: planned for the period,
and spent so far. Every bar carries its words and amount as text, so nothing is told by colour alone; the
SVG is one image (role="img") whose title and description say the same figures, and the page shows them in a
table too. The drawing is 300 units wide and scales with its box (viewBox): at 320px it is drawn about 1:1.
"""

import textwrap
from dataclasses import dataclass
from typing import Any

from django import template

from web.templatetags.purse import money

register = template.Library()

WIDTH = 300
LINE = 18  # the height of one line of text
BAR = 12  # the height of a bar
GAP = 16  # the space between two outcomes
LABEL_CHARACTERS = 40  # where an outcome's name wraps


@dataclass(frozen=True)
class Bar:
    y: int  # the top of the bar
    text_y: int  # the baseline of its words
    width: int
    css_class: str
    text: str


@dataclass(frozen=True)
class Group:
    label_lines: list[tuple[int, str]]  # (baseline, words)
    bars: list[Bar]


def _width(amount: int, largest: int) -> int:
    if amount <= 0 or largest <= 0:
        return 0
    return max(2, round(WIDTH * amount / largest))  # a sliver still shows that something is there


@register.inclusion_tag("web/plan/chart.html")
def outcome_chart(spending: Any, chart_id: str = "spending-chart") -> dict[str, Any]:
    """The chart's geometry and words for an `invoicing.selectors.OutcomeSpending`."""
    currency = spending.currency
    rows = spending.outcomes
    largest = max([*(row.planned_minor for row in rows), *(row.spent_minor for row in rows), 0])
    groups = []
    descriptions = []
    y = 0
    for row in rows:
        lines = textwrap.wrap(row.label, LABEL_CHARACTERS) or [""]
        if len(lines) > 3:
            lines = [*lines[:2], textwrap.shorten(" ".join(lines[2:]), LABEL_CHARACTERS, placeholder="...")]
        label_lines = []
        for line in lines:
            y += LINE
            label_lines.append((y - 4, line))
        over = row.spent_minor > row.planned_minor
        planned_text = f"Planned {money(row.planned_minor, currency)}"
        spent_text = f"Spent {money(row.spent_minor, currency)}" + (" (more than planned)" if over else "")
        bars = []
        for text, amount, css_class in (
            (planned_text, row.planned_minor, "purse-chart__planned"),
            (spent_text, row.spent_minor, "purse-chart__over" if over else "purse-chart__spent"),
        ):
            text_y = y + LINE - 4
            bars.append(
                Bar(
                    y=y + LINE,
                    text_y=text_y,
                    width=_width(amount, largest),
                    css_class=css_class,
                    text=text,
                )
            )
            y += LINE + BAR + 2
        groups.append(Group(label_lines=label_lines, bars=bars))
        descriptions.append(f"{row.label}: {planned_text.lower()}, {spent_text.lower()}.")
        y += GAP
    return {
        "chart_id": chart_id,
        "width": WIDTH,
        "height": max(y, LINE),
        "groups": groups,
        "description": " ".join(descriptions),
        "bar_height": BAR,
    }


_UNIT_PLURALS = {"hour": "hours", "day": "days", "night": "nights", "week": "weeks", "item": "items"}
_PER_WORDS = {
    "once": "once",
    "day": "a day",
    "week": "a week",
    "four_weeks": "every 4 weeks",
    "month": "a month",
    "year": "a year",
}


@register.filter
def how_much(item: Any) -> str:
    """A support item's quantity as a person says it: "14 hours a week", "1 item once"."""
    unit = (item.service.unit if item.service_id else item.unit) or "item"
    quantity = item.quantity.normalize()
    quantity_text = f"{quantity:f}"
    unit_text = unit if quantity == 1 else _UNIT_PLURALS.get(unit, f"{unit}s")
    return f"{quantity_text} {unit_text} {_PER_WORDS.get(item.per, item.per)}"
