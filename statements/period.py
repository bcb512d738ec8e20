"""A statement's period: two dates, both inclusive; a calendar month by default."""

import calendar
import re
from dataclasses import dataclass
from datetime import date

from ledger.errors import DomainErrors

LONGEST_PERIOD_DAYS = 366
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PeriodInvalid(DomainErrors):
    """A bad `from` or `to`: one problem, pointing at the query parameter (`/from` or `/to`)."""

    http_status = 400

    def __init__(self, detail: str, *, pointer: str) -> None:
        super().__init__([{"code": "invalid_period", "pointer": f"/{pointer}", "detail": detail}])


@dataclass(frozen=True)
class Period:
    starts_on: date
    ends_on: date

    @property
    def bounds(self) -> dict[str, date]:
        return {"starts_on": self.starts_on, "ends_on": self.ends_on}

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    @property
    def slug(self) -> str:
        return f"{self.starts_on.isoformat()}_{self.ends_on.isoformat()}"


def month_of(day: date) -> Period:
    """The calendar month that contains `day`."""
    last = calendar.monthrange(day.year, day.month)[1]
    return Period(day.replace(day=1), day.replace(day=last))


def previous_month(day: date) -> Period:
    """The calendar month before the one that contains `day` (a month-end run's default)."""
    first = day.replace(day=1)
    return month_of(date.fromordinal(first.toordinal() - 1))


def period_from_text(from_text: str | None, to_text: str | None, *, today: date) -> Period:
    """A period from `from` and `to` (YYYY-MM-DD, both inclusive); the month containing today when both are
    left out, or the month that contains the one given. Raises PeriodInvalid naming the parameter."""

    def read(text: str | None, name: str) -> date | None:
        if text is None or text == "":
            return None
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            raise PeriodInvalid(
                f"'{name}' must be a date written YYYY-MM-DD, like 2026-11-01; {text!r} is not.",
                pointer=name,
            ) from None

    starts_on, ends_on = read(from_text, "from"), read(to_text, "to")
    if starts_on is None and ends_on is None:
        return month_of(today)
    if starts_on is None:
        starts_on = month_of(ends_on).starts_on
    if ends_on is None:
        ends_on = month_of(starts_on).ends_on
    return period_check(Period(starts_on, ends_on))


def period_check(period: Period) -> Period:
    if period.ends_on < period.starts_on:
        raise PeriodInvalid(
            f"The period ends ({period.ends_on.isoformat()}) before it starts "
            f"({period.starts_on.isoformat()}): 'to' must be on or after 'from'.",
            pointer="to",
        )
    if period.days > LONGEST_PERIOD_DAYS:
        raise PeriodInvalid(
            f"A statement covers at most {LONGEST_PERIOD_DAYS} days; this period has {period.days}. "
            "Ask for a shorter one.",
            pointer="to",
        )
    return period
