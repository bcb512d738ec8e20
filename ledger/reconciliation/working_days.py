"""Working days (Monday to Friday, not a bank holiday in England), counted so a distance is one subtraction.

`working_day_number(day)` is how many working days there are from 1 January 2000 up to and including
`day`; two dates are `n` working days apart when their numbers differ by `n`. A weekend or holiday has the
number of the working day before it, so a Saturday line and a Friday posting are 0 working days apart.
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays

_EPOCH_YEAR = 2000


@lru_cache(maxsize=256)
def _year_table(year: int) -> tuple[int, ...]:
    """For each day of `year`, the working days from 1 January of that year up to and including it."""
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=year)
    counts: list[int] = []
    count = 0
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() < 5 and day not in bank_holidays:
            count += 1
        counts.append(count)
        day += timedelta(days=1)
    return tuple(counts)


@lru_cache(maxsize=256)
def _before_year(year: int) -> int:
    if year <= _EPOCH_YEAR:
        return 0
    return _before_year(year - 1) + _year_table(year - 1)[-1]


def working_day_number(day: date) -> int:
    return _before_year(day.year) + _year_table(day.year)[day.timetuple().tm_yday - 1]


def working_days_apart(first: date, second: date) -> int:
    return abs(working_day_number(first) - working_day_number(second))
