"""Instalment schedules: pure date and money arithmetic, no database.

A personal budget is paid in by its stream's agency in **instalments**, in advance: each instalment pays for
a block of days (`covers_from` to `covers_to`, both inclusive) and falls due at the start of its block.

Blocks, from the budget's first day (`starts_on`) to its last (`ends_on`):

* `four_weekly`: 28-day blocks from `starts_on`; the last block is whatever is left (shorter, never longer).
* `monthly`: calendar months from `starts_on` (a budget from 15 April has blocks 15 April to 14 May, 15 May
  to 14 June...; from 31 January: 31 January to 27 February, 28 February to 30 March, 31 March to 30
  April...: each block starts on the anchor day, or the month's last day when it has no such day).
* `quarterly`: the same with three calendar months.
* `one_off`: one block, the whole period.

An **initial float** of N weeks (`FundingStream.initial_float_weeks`) makes the first block the first N
weeks (7N days) instead of one regular block; regular blocks then start from the day after it, so a
4-weekly budget from 1 April with an 11-week float has blocks 1 April to 16 June, 17 June to 14 July, ...
A float is meaningless for a one-off payment and is ignored there; a float at least as long as the period
makes one block.

**Amounts** split the budget by days covered with `ledger.money.money_allocate` (largest remainder): each
instalment gets its exact share rounded down, and the pennies left over go one each to the instalments with
the largest remainders, earlier instalments first on ties. So the amounts always add up to the budget
exactly, and each is within a penny of its exact share.

**Due dates** are the block's first day moved back, if it is a weekend day or a bank holiday in England and
Wales, to the previous working day (the `holidays` package, GB / ENG). Paying early is always fine; paying
late is not. So a budget that starts on a non-working day has its first instalment due on the working day
before the budget starts (a budget from Easter Monday 6 April 2026 has it due on Thursday 2 April).
"""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from ledger.errors import DomainError
from ledger.money import InvalidAmount, money_allocate

FOUR_WEEKLY = "four_weekly"
MONTHLY = "monthly"
QUARTERLY = "quarterly"
ONE_OFF = "one_off"
FREQUENCIES = (FOUR_WEEKLY, MONTHLY, QUARTERLY, ONE_OFF)

_MONTHS_PER_BLOCK = {MONTHLY: 1, QUARTERLY: 3}
_MAX_FLOAT_WEEKS = 52


class InvalidSchedule(DomainError):
    code = "invalid_schedule"
    message = "An instalment schedule needs a period that ends on or after it starts, and a known frequency."


@dataclass(frozen=True)
class Block:
    """A run of days, both ends inclusive."""

    covers_from: date
    covers_to: date

    @property
    def days(self) -> int:
        return (self.covers_to - self.covers_from).days + 1


@dataclass(frozen=True)
class ScheduledInstalment:
    """One instalment of a schedule: the days it pays for, its amount, and the working day it is due."""

    sequence: int
    due_on: date
    covers_from: date
    covers_to: date
    amount_minor: int

    @property
    def days(self) -> int:
        return (self.covers_to - self.covers_from).days + 1


# Working days ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday in England and Wales."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_day_on_or_before(day: date) -> date:
    """The day itself if it is a working day, else the working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


# Blocks ---------------------------------------------------------------------------------------------------


def _add_months(anchor: date, months: int) -> date:
    """`anchor` plus whole calendar months, on the anchor's day or the month's last day if it is shorter."""
    month_index = anchor.month - 1 + months
    year, month = anchor.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def _regular_block_starts(anchor: date, ends_on: date, frequency: str) -> list[date]:
    if frequency == FOUR_WEEKLY:
        count = (ends_on - anchor).days // 28 + 1
        return [anchor + timedelta(days=28 * index) for index in range(count)]
    starts = []
    months = _MONTHS_PER_BLOCK[frequency]
    start, index = anchor, 0
    while start <= ends_on:
        starts.append(start)
        index += 1
        start = _add_months(anchor, months * index)
    return starts


def schedule_blocks(
    *, starts_on: date, ends_on: date, frequency: str, initial_float_weeks: int = 0
) -> list[Block]:
    """The blocks of days a budget's instalments pay for, in order, covering the period exactly once.

    Raises InvalidSchedule.
    """
    _check_period(starts_on=starts_on, ends_on=ends_on, frequency=frequency)
    if (
        isinstance(initial_float_weeks, bool)
        or not isinstance(initial_float_weeks, int)
        or not 0 <= initial_float_weeks <= _MAX_FLOAT_WEEKS
    ):
        raise InvalidSchedule(
            f"An initial float is 0 to {_MAX_FLOAT_WEEKS} weeks, not {initial_float_weeks!r}."
        )
    if frequency == ONE_OFF:
        return [Block(starts_on, ends_on)]
    starts: list[date] = []
    anchor = starts_on
    if initial_float_weeks:
        starts.append(starts_on)
        anchor = starts_on + timedelta(weeks=initial_float_weeks)
    if anchor <= ends_on:
        starts.extend(_regular_block_starts(anchor, ends_on, frequency))
    ends = [start - timedelta(days=1) for start in starts[1:]] + [ends_on]
    return [Block(start, end) for start, end in zip(starts, ends, strict=True)]


def blocks_between(blocks: Sequence[Block], *, from_on: date, to_on: date) -> list[Block]:
    """The parts of `blocks` that fall between two days (both inclusive): blocks outside are dropped, blocks
    across either end are cut there."""
    return [
        Block(max(block.covers_from, from_on), min(block.covers_to, to_on))
        for block in blocks
        if block.covers_to >= from_on and block.covers_from <= to_on
    ]


def blocks_split_at(blocks: Sequence[Block], day: date) -> list[Block]:
    """`blocks` with the one that runs across `day` (starts before it, ends on or after it) cut in two."""
    result = []
    for block in blocks:
        if block.covers_from < day <= block.covers_to:
            result.append(Block(block.covers_from, day - timedelta(days=1)))
            result.append(Block(day, block.covers_to))
        else:
            result.append(block)
    return result


# Money ----------------------------------------------------------------------------------------------------


def amounts_by_days(amount_minor: int, blocks: Sequence[Block]) -> list[int]:
    """Split an amount between blocks by the days each covers, adding up exactly (largest remainder)."""
    return money_allocate(amount_minor, weights=[block.days for block in blocks])


def instalments_for_blocks(
    blocks: Sequence[Block], amounts_minor: Sequence[int], *, first_sequence: int = 1
) -> list[ScheduledInstalment]:
    """Number the blocks from `first_sequence`, with their amounts and due dates."""
    return [
        ScheduledInstalment(
            sequence=first_sequence + index,
            due_on=working_day_on_or_before(block.covers_from),
            covers_from=block.covers_from,
            covers_to=block.covers_to,
            amount_minor=amount,
        )
        for index, (block, amount) in enumerate(zip(blocks, amounts_minor, strict=True))
    ]


def instalment_schedule(
    *, starts_on: date, ends_on: date, amount_minor: int, frequency: str, initial_float_weeks: int = 0
) -> list[ScheduledInstalment]:
    """A budget's instalments: one per block, amounts split by days, due on working days (module docstring).

    Raises InvalidSchedule and InvalidAmount.
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor < 0:
        raise InvalidAmount(f"A budget is a whole number of minor units, zero or more, not {amount_minor!r}.")
    blocks = schedule_blocks(
        starts_on=starts_on, ends_on=ends_on, frequency=frequency, initial_float_weeks=initial_float_weeks
    )
    return instalments_for_blocks(blocks, amounts_by_days(amount_minor, blocks))


def _check_period(*, starts_on: date, ends_on: date, frequency: str) -> None:
    for value in (starts_on, ends_on):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidSchedule(f"A budget period runs between two dates, not {value!r}.")
    if ends_on < starts_on:
        raise InvalidSchedule(f"A budget period cannot end ({ends_on}) before it starts ({starts_on}).")
    if frequency not in FREQUENCIES:
        raise InvalidSchedule(f"{frequency!r} is not a payment frequency ({', '.join(FREQUENCIES)}).")
