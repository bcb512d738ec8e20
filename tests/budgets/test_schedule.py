"""The instalment schedule's arithmetic, checked by hand, and its invariants, checked by hypothesis."""

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budgets import schedule
from budgets.models import PaymentFrequency
from budgets.schedule import (
    Block,
    InvalidSchedule,
    blocks_between,
    blocks_split_at,
    instalment_schedule,
    is_working_day,
    schedule_blocks,
    working_day_on_or_before,
)
from ledger.money import InvalidAmount

YEAR_START, YEAR_END = date(2026, 4, 1), date(2027, 3, 31)  # 365 days; 1 April 2026 is a Wednesday


def _dates(instalments):
    return [(i.due_on, i.covers_from, i.covers_to) for i in instalments]


class TestFrequencies:
    def test_the_schedule_knows_every_frequency_of_the_model(self):
        assert set(schedule.FREQUENCIES) == set(PaymentFrequency.values)


class TestWorkingDays:
    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (date(2026, 4, 1), date(2026, 4, 1)),  # a Wednesday: itself
            (date(2026, 8, 1), date(2026, 7, 31)),  # Saturday -> Friday
            (date(2026, 11, 1), date(2026, 10, 30)),  # Sunday -> Friday
            (date(2026, 4, 6), date(2026, 4, 2)),  # Easter Monday 2026 -> Thursday before Good Friday
            (date(2027, 3, 26), date(2027, 3, 25)),  # Good Friday 2027 -> Thursday
            (date(2027, 3, 29), date(2027, 3, 25)),  # Easter Monday 2027, over the weekend and Good Friday
            (date(2026, 5, 4), date(2026, 5, 1)),  # early May bank holiday 2026 -> Friday
            (date(2027, 5, 3), date(2027, 4, 30)),  # early May bank holiday 2027 -> Friday
            (date(2026, 5, 25), date(2026, 5, 22)),  # spring bank holiday 2026
            (date(2026, 12, 25), date(2026, 12, 24)),  # Christmas Day 2026 (a Friday) -> Thursday
            (date(2026, 12, 28), date(2026, 12, 24)),  # Boxing Day observed, weekend, Christmas
            (date(2027, 12, 28), date(2027, 12, 24)),  # 2027: both observed days, the weekend, -> Friday 24th
            (date(2027, 1, 1), date(2026, 12, 31)),  # New Year's Day 2027 (Friday) -> Thursday
        ],
    )
    def test_moves_back_over_weekends_and_bank_holidays_in_england_and_wales(self, day, expected):
        assert working_day_on_or_before(day) == expected
        assert is_working_day(expected)

    def test_good_friday_2027_is_26_march(self):
        assert not is_working_day(date(2027, 3, 26))
        assert is_working_day(date(2027, 3, 25))


class TestFourWeekly:
    def test_a_year_from_1_april_2026_is_thirteen_blocks_of_28_days_and_one_of_a_day(self):
        instalments = instalment_schedule(
            starts_on=YEAR_START, ends_on=YEAR_END, amount_minor=1_234_567, frequency="four_weekly"
        )

        assert len(instalments) == 14
        assert [i.sequence for i in instalments] == list(range(1, 15))
        starts = [YEAR_START + timedelta(days=28 * n) for n in range(14)]
        assert [i.covers_from for i in instalments] == starts
        assert [i.days for i in instalments] == [28] * 13 + [1]
        assert instalments[-1].covers_from == instalments[-1].covers_to == date(2027, 3, 31)
        # Every block starts on a Wednesday and none on a bank holiday, so each is due on its first day.
        assert [i.due_on for i in instalments] == starts

    def test_amounts_add_up_with_the_leftover_pennies_placed_by_largest_remainder(self):
        # 12,345.67 over 365 days. A 28-day block's exact share is 1,234,567 x 28 / 365 = 94,706 + 186/365;
        # the 1-day block's is 1,234,567 / 365 = 3,382 + 137/365. Rounded down they make
        # 13 x 94,706 + 3,382 = 1,234,560: 7 pennies are left. The largest remainders are the 28-day blocks'
        # (186 > 137), all equal, so the first seven get a penny each.
        instalments = instalment_schedule(
            starts_on=YEAR_START, ends_on=YEAR_END, amount_minor=1_234_567, frequency="four_weekly"
        )

        assert [i.amount_minor for i in instalments] == [94_707] * 7 + [94_706] * 6 + [3_382]
        assert sum(i.amount_minor for i in instalments) == 1_234_567

    def test_good_friday_2027_moves_a_due_date_back_to_the_thursday(self):
        # From Friday 24 April 2026, block 13 starts 24 April + 12 x 28 days = Friday 26 March 2027.
        instalments = instalment_schedule(
            starts_on=date(2026, 4, 24),
            ends_on=date(2027, 4, 23),
            amount_minor=365_000,
            frequency="four_weekly",
        )

        assert _dates(instalments)[12] == (date(2027, 3, 25), date(2027, 3, 26), date(2027, 4, 22))
        assert _dates(instalments)[13] == (date(2027, 4, 23), date(2027, 4, 23), date(2027, 4, 23))
        assert [i.amount_minor for i in instalments] == [28_000] * 13 + [1_000]

    def test_christmas_day_moves_a_due_date_back_to_christmas_eve(self):
        # From Friday 17 April 2026, block 10 starts 17 April + 9 x 28 days = Friday 25 December 2026.
        instalments = instalment_schedule(
            starts_on=date(2026, 4, 17),
            ends_on=date(2027, 4, 16),
            amount_minor=365_000,
            frequency="four_weekly",
        )

        assert _dates(instalments)[9] == (date(2026, 12, 24), date(2026, 12, 25), date(2027, 1, 21))

    def test_a_budget_starting_on_a_bank_holiday_is_paid_the_working_day_before_it_starts(self):
        # Monday 4 May 2026 and Monday 3 May 2027 are early May bank holidays: both move to the Friday.
        instalments = instalment_schedule(
            starts_on=date(2026, 5, 4),
            ends_on=date(2027, 5, 3),
            amount_minor=365_000,
            frequency="four_weekly",
        )

        assert instalments[0].due_on == date(2026, 5, 1)
        assert instalments[0].covers_from == date(2026, 5, 4)
        assert _dates(instalments)[-1] == (date(2027, 4, 30), date(2027, 5, 3), date(2027, 5, 3))

    def test_easter_monday_start_is_paid_on_the_thursday_before_good_friday(self):
        instalments = instalment_schedule(
            starts_on=date(2026, 4, 6), ends_on=date(2026, 6, 30), amount_minor=8_600, frequency="four_weekly"
        )

        assert instalments[0].due_on == date(2026, 4, 2)
        # 86 days: 28 + 28 + 28 + 2, at 1.00 a day.
        assert [(i.days, i.amount_minor) for i in instalments] == [
            (28, 2800),
            (28, 2800),
            (28, 2800),
            (2, 200),
        ]

    def test_an_eleven_week_float_makes_the_first_instalment_77_days_then_four_weekly_blocks(self):
        instalments = instalment_schedule(
            starts_on=YEAR_START,
            ends_on=YEAR_END,
            amount_minor=365_000,
            frequency="four_weekly",
            initial_float_weeks=11,
        )

        # 77 days (1 April to 16 June) + 10 x 28 days + 8 days (24 to 31 March) = 365 days.
        assert [i.days for i in instalments] == [77] + [28] * 10 + [8]
        assert _dates(instalments)[0] == (date(2026, 4, 1), date(2026, 4, 1), date(2026, 6, 16))
        assert _dates(instalments)[1] == (date(2026, 6, 17), date(2026, 6, 17), date(2026, 7, 14))
        assert _dates(instalments)[-1] == (date(2027, 3, 24), date(2027, 3, 24), date(2027, 3, 31))
        assert [i.amount_minor for i in instalments] == [77_000] + [28_000] * 10 + [8_000]

    def test_a_float_longer_than_the_period_makes_one_instalment(self):
        instalments = instalment_schedule(
            starts_on=YEAR_START,
            ends_on=date(2026, 5, 31),
            amount_minor=6_100,
            frequency="four_weekly",
            initial_float_weeks=11,
        )

        assert _dates(instalments) == [(YEAR_START, YEAR_START, date(2026, 5, 31))]
        assert instalments[0].amount_minor == 6_100


class TestMonthly:
    def test_calendar_months_from_the_start_moved_back_to_working_days(self):
        instalments = instalment_schedule(
            starts_on=YEAR_START, ends_on=YEAR_END, amount_minor=365_000, frequency="monthly"
        )

        assert [i.covers_from for i in instalments] == [date(2026, month, 1) for month in range(4, 13)] + [
            date(2027, month, 1) for month in range(1, 4)
        ]
        assert [i.covers_to.day for i in instalments] == [30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28, 31]
        # 10.00 a day: each month's days x 1,000 pence.
        assert [i.amount_minor for i in instalments] == [
            30_000, 31_000, 30_000, 31_000, 31_000, 30_000, 31_000, 30_000, 31_000, 31_000, 28_000, 31_000
        ]  # fmt: skip
        due = {i.covers_from: i.due_on for i in instalments}
        assert due[date(2026, 8, 1)] == date(2026, 7, 31)  # a Saturday
        assert due[date(2026, 11, 1)] == date(2026, 10, 30)  # a Sunday
        assert due[date(2027, 1, 1)] == date(2026, 12, 31)  # New Year's Day
        assert due[date(2026, 6, 1)] == date(2026, 6, 1)  # a Monday

    def test_a_month_without_the_anchor_day_starts_on_its_last_day(self):
        blocks = schedule_blocks(starts_on=date(2027, 1, 31), ends_on=date(2027, 5, 30), frequency="monthly")

        assert blocks == [
            Block(date(2027, 1, 31), date(2027, 2, 27)),
            Block(date(2027, 2, 28), date(2027, 3, 30)),
            Block(date(2027, 3, 31), date(2027, 4, 29)),
            Block(date(2027, 4, 30), date(2027, 5, 30)),
        ]

    def test_a_part_month_at_the_end_is_shorter(self):
        instalments = instalment_schedule(
            starts_on=date(2026, 4, 15), ends_on=date(2026, 6, 20), amount_minor=10_001, frequency="monthly"
        )

        # 30 + 31 + 6 = 67 days. Exact shares 4,478.06, 4,627.33 and 895.61 (in pence): rounded down they make
        # 10,000; the penny left goes to the largest remainder, the last (0.6).
        assert [i.days for i in instalments] == [30, 31, 6]
        assert [i.amount_minor for i in instalments] == [4_478, 4_627, 896]


class TestQuarterlyAndOneOff:
    def test_quarterly_is_three_calendar_months(self):
        instalments = instalment_schedule(
            starts_on=YEAR_START, ends_on=YEAR_END, amount_minor=365_000, frequency="quarterly"
        )

        assert _dates(instalments) == [
            (date(2026, 4, 1), date(2026, 4, 1), date(2026, 6, 30)),
            (date(2026, 7, 1), date(2026, 7, 1), date(2026, 9, 30)),
            (date(2026, 10, 1), date(2026, 10, 1), date(2026, 12, 31)),
            (date(2026, 12, 31), date(2027, 1, 1), date(2027, 3, 31)),  # New Year's Day: paid on the 31st
        ]
        assert [i.amount_minor for i in instalments] == [91_000, 92_000, 92_000, 90_000]

    def test_one_off_is_a_single_instalment_at_the_start_whatever_the_float(self):
        instalments = instalment_schedule(
            starts_on=date(2026, 5, 9),
            ends_on=YEAR_END,
            amount_minor=450_000,
            frequency="one_off",
            initial_float_weeks=8,
        )

        assert len(instalments) == 1
        assert _dates(instalments) == [(date(2026, 5, 8), date(2026, 5, 9), YEAR_END)]  # Saturday -> Friday
        assert instalments[0].amount_minor == 450_000

    def test_a_one_day_budget(self):
        instalments = instalment_schedule(
            starts_on=YEAR_START, ends_on=YEAR_START, amount_minor=1, frequency="monthly"
        )

        assert _dates(instalments) == [(YEAR_START, YEAR_START, YEAR_START)]

    def test_a_zero_budget_has_zero_instalments_covering_every_day(self):
        instalments = instalment_schedule(
            starts_on=YEAR_START, ends_on=YEAR_END, amount_minor=0, frequency="quarterly"
        )

        assert [i.amount_minor for i in instalments] == [0, 0, 0, 0]


class TestRefusals:
    def test_a_period_that_ends_before_it_starts(self):
        with pytest.raises(InvalidSchedule, match="cannot end"):
            schedule_blocks(starts_on=YEAR_END, ends_on=YEAR_START, frequency="monthly")

    def test_an_unknown_frequency(self):
        with pytest.raises(InvalidSchedule, match="not a payment frequency"):
            schedule_blocks(starts_on=YEAR_START, ends_on=YEAR_END, frequency="weekly")

    @pytest.mark.parametrize("weeks", [-1, 53, True, "4"])
    def test_a_float_out_of_range(self, weeks):
        with pytest.raises(InvalidSchedule, match="initial float"):
            schedule_blocks(
                starts_on=YEAR_START, ends_on=YEAR_END, frequency="monthly", initial_float_weeks=weeks
            )

    @pytest.mark.parametrize("amount", [-1, 1.5, True, "100"])
    def test_an_amount_that_is_not_whole_minor_units_of_zero_or_more(self, amount):
        with pytest.raises(InvalidAmount):
            instalment_schedule(
                starts_on=YEAR_START, ends_on=YEAR_END, amount_minor=amount, frequency="monthly"
            )


class TestCuttingBlocks:
    BLOCKS = [Block(date(2026, 4, 1), date(2026, 4, 28)), Block(date(2026, 4, 29), date(2026, 5, 26))]

    def test_between_drops_blocks_outside_and_cuts_the_ends(self):
        assert blocks_between(self.BLOCKS, from_on=date(2026, 4, 10), to_on=date(2026, 5, 1)) == [
            Block(date(2026, 4, 10), date(2026, 4, 28)),
            Block(date(2026, 4, 29), date(2026, 5, 1)),
        ]
        assert (
            blocks_between(self.BLOCKS, from_on=date(2026, 4, 29), to_on=date(2026, 5, 26)) == self.BLOCKS[1:]
        )

    def test_split_at_cuts_only_the_block_running_across_the_day(self):
        assert blocks_split_at(self.BLOCKS, date(2026, 4, 29)) == self.BLOCKS
        assert blocks_split_at(self.BLOCKS, date(2026, 5, 1)) == [
            self.BLOCKS[0],
            Block(date(2026, 4, 29), date(2026, 4, 30)),
            Block(date(2026, 5, 1), date(2026, 5, 26)),
        ]


@st.composite
def budgets(draw):
    starts_on = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2034, 12, 31)))
    ends_on = starts_on + timedelta(days=draw(st.integers(min_value=0, max_value=800)))
    return {
        "starts_on": starts_on,
        "ends_on": ends_on,
        "amount_minor": draw(st.integers(min_value=0, max_value=10**12)),
        "frequency": draw(st.sampled_from(schedule.FREQUENCIES)),
        "initial_float_weeks": draw(st.integers(min_value=0, max_value=52)),
    }


class TestProperties:
    @settings(max_examples=300, deadline=None)
    @given(budget=budgets())
    def test_amounts_add_up_and_every_day_is_covered_exactly_once(self, budget):
        instalments = instalment_schedule(**budget)

        assert sum(i.amount_minor for i in instalments) == budget["amount_minor"]
        assert instalments[0].covers_from == budget["starts_on"]
        assert instalments[-1].covers_to == budget["ends_on"]
        for earlier, later in itertools.pairwise(instalments):
            assert later.covers_from == earlier.covers_to + timedelta(days=1)
        assert [i.sequence for i in instalments] == list(range(1, len(instalments) + 1))

    @settings(max_examples=300, deadline=None)
    @given(budget=budgets())
    def test_each_amount_is_within_a_penny_of_its_share_by_days(self, budget):
        instalments = instalment_schedule(**budget)
        total_days = (budget["ends_on"] - budget["starts_on"]).days + 1

        for instalment in instalments:
            exact_times_days = budget["amount_minor"] * instalment.days
            assert abs(instalment.amount_minor * total_days - exact_times_days) < total_days

    @settings(max_examples=300, deadline=None)
    @given(budget=budgets())
    def test_due_dates_are_working_days_on_or_shortly_before_the_block_starts(self, budget):
        instalments = instalment_schedule(**budget)

        for instalment in instalments:
            assert is_working_day(instalment.due_on)
            assert instalment.covers_from - timedelta(days=7) < instalment.due_on <= instalment.covers_from
        assert [i.due_on for i in instalments] == sorted(i.due_on for i in instalments)

    @settings(max_examples=200, deadline=None)
    @given(budget=budgets())
    def test_blocks_have_the_frequencys_length_except_the_float_and_the_last(self, budget):
        blocks = schedule_blocks(
            starts_on=budget["starts_on"],
            ends_on=budget["ends_on"],
            frequency=budget["frequency"],
            initial_float_weeks=budget["initial_float_weeks"],
        )
        total_days = (budget["ends_on"] - budget["starts_on"]).days + 1
        float_weeks = budget["initial_float_weeks"]

        if budget["frequency"] == "one_off":
            assert blocks == [Block(budget["starts_on"], budget["ends_on"])]
            return
        regular = blocks
        if float_weeks:
            assert blocks[0].days == min(7 * float_weeks, total_days)
            regular = blocks[1:]
        if budget["frequency"] == "four_weekly" and regular:
            assert all(block.days == 28 for block in regular[:-1])
            assert 1 <= regular[-1].days <= 28
        if budget["frequency"] == "monthly" and regular:
            assert all(28 <= block.days <= 31 for block in regular[:-1])
            assert 1 <= regular[-1].days <= 31
        if budget["frequency"] == "quarterly" and regular:
            assert all(89 <= block.days <= 92 for block in regular[:-1])
            assert 1 <= regular[-1].days <= 92
