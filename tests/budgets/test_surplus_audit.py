"""Surplus audits (issue 9): every figure by hand; reserves excluded; the forecast; bounded queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets import accounts
from budgets.selectors.surplus import stream_holders, surplus_audit, surplus_audits
from budgets.services import reserves
from budgets.services.personal_budgets import personal_budget_create
from ledger.models import AccountType, Side
from ledger.services import PostingSpec, transaction_post
from tests.budgets.factories import FundingStreamFactory
from tests.ledger.factories import AccountFactory
from tests.people.factories import BudgetHolderFactory

pytestmark = pytest.mark.django_db

START, END = date(2026, 4, 1), date(2027, 3, 31)  # 365 days
ON = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: ON)


@pytest.fixture
def stream():
    return FundingStreamFactory(code="ASC", surplus_threshold_weeks=Decimal("4.0"))


def person(stream, *, amount_minor=3_650_000):
    """A budget of 36,500.00 for 365 days: 700.00 a week, so a 4-week threshold of 2,800.00."""
    holder = BudgetHolderFactory()
    personal_budget_create(
        budget_holder=holder,
        stream=stream,
        starts_on=START,
        ends_on=END,
        amount_minor=amount_minor,
        explanation={},
        created_by=None,
    )
    return holder


def move(holder, stream, amount_minor, *, on, key, metadata=None):
    """Money in (amount > 0) or out (< 0) of the person's funds account on a day."""
    funds = accounts.person_funds_account(
        budget_holder_public_id=holder.public_id, stream_code=stream.code, currency="GBP"
    )
    other = AccountFactory(type=AccountType.ASSET, allow_negative=True)
    money_in = amount_minor > 0
    transaction_post(
        idempotency_key=key,
        currency="GBP",
        effective_on=on,
        description="Money in" if money_in else "Money out",
        postings=[
            PostingSpec(
                account=other if money_in else funds, side=Side.DEBIT, amount_minor=abs(amount_minor)
            ),
            PostingSpec(
                account=funds if money_in else other, side=Side.CREDIT, amount_minor=abs(amount_minor)
            ),
        ],
        metadata=metadata or {},
    )


class TestOnePerson:
    def test_below_the_threshold_and_rising_a_surplus_is_forecast(self, stream):
        holder = person(stream)
        move(holder, stream, 300_000, on=date(2026, 4, 1), key="in")
        move(holder, stream, -60_000, on=date(2026, 5, 1), key="out")
        move(holder, stream, 99_000, on=date(2026, 3, 9), key="before-the-12-weeks")  # not in the rate

        audit = surplus_audit(budget_holder=holder, stream_code="ASC")

        assert (audit.available_minor, audit.weekly_equivalent_minor, audit.weeks_held) == (
            339_000,
            70_000,
            Decimal("4.8"),
        )
        assert (audit.threshold_weeks, audit.threshold_minor, audit.reserves_minor) == (
            Decimal("4.0"),
            280_000,
            0,
        )
        # 3,390.00 is above 2,800.00: 590.00 may be reclaimed now.
        assert audit.reclaimable_minor == 59_000
        assert (audit.surplus_expected_on, audit.forecast_explanation) == (None, "There is a surplus now.")

    def test_a_reserve_is_excluded_and_the_forecast_says_when(self, stream):
        holder = person(stream)
        move(holder, stream, 300_000, on=date(2026, 4, 1), key="in")
        move(holder, stream, -60_000, on=date(2026, 5, 1), key="out")
        # Held 2,400.00; the last 12 weeks' net change is +2,400.00, so 200.00 a week.
        audit = surplus_audit(budget_holder=holder, stream_code="ASC")
        assert (audit.reclaimable_minor, audit.weekly_rate_minor) == (0, 20_000)
        # 2,800.00 - 2,400.00 = 400.00 to go: after 2 weeks it is exactly at the threshold, after 3 above it.
        assert audit.surplus_expected_on == date(2026, 6, 22)
        assert audit.forecast_explanation == (
            "Over the last 12 weeks the money held has risen by 200.00 GBP a week on average; at that rate a "
            "surplus arises in 3 weeks, on 2026-06-22."
        )

        reserves.reserve_set(
            budget_holder=holder,
            stream=stream,
            amount_minor=50_000,
            reason="Holiday pay",
            by=holder.navigator,
        )
        audit = surplus_audit(budget_holder=holder, stream_code="ASC")
        # 900.00 to go at 200.00 a week: above it after 5 weeks.
        assert (audit.reserves_minor, audit.surplus_expected_on) == (50_000, date(2026, 7, 6))

    def test_reserves_are_taken_off_what_may_be_reclaimed_and_released_ones_are_not(self, stream):
        holder = person(stream)
        move(holder, stream, 400_000, on=date(2026, 4, 1), key="in")
        reserve = reserves.reserve_set(
            budget_holder=holder,
            stream=stream,
            amount_minor=50_000,
            reason="Holiday pay",
            by=holder.navigator,
        )
        assert (
            surplus_audit(budget_holder=holder, stream_code="ASC").reclaimable_minor
            == 400_000 - 50_000 - 280_000
        )

        reserves.reserve_release(reserve=reserve, by=holder.navigator, reason="Paid")
        assert surplus_audit(budget_holder=holder, stream_code="ASC").reclaimable_minor == 120_000

    def test_a_reclaim_is_not_spending_for_the_forecast(self, stream):
        holder = person(stream)
        move(holder, stream, 300_000, on=date(2026, 4, 1), key="in")
        move(
            holder, stream, -100_000, on=date(2026, 5, 1), key="reclaim", metadata={"kind": "surplus_reclaim"}
        )
        audit = surplus_audit(budget_holder=holder, stream_code="ASC")
        assert (audit.available_minor, audit.weekly_rate_minor) == (200_000, 25_000)  # 3,000.00 / 12, half up

    def test_falling_or_flat_money_forecasts_no_surplus(self, stream):
        holder = person(stream)
        move(holder, stream, 100_000, on=date(2026, 2, 1), key="long-ago")
        move(holder, stream, -12_006, on=date(2026, 5, 1), key="out")
        audit = surplus_audit(budget_holder=holder, stream_code="ASC")
        assert audit.weekly_rate_minor == -1_001  # -120.06 / 12 = -10.005, half up to -10.01
        assert audit.surplus_expected_on is None
        assert audit.forecast_explanation == (
            "Over the last 12 weeks the money held has fallen by 10.01 GBP a week on average, so no surplus "
            "is expected at this rate of spending."
        )

    def test_no_surplus_before_the_period_ends_gives_no_date(self, stream):
        holder = person(stream)
        move(holder, stream, 1_200, on=date(2026, 4, 1), key="in")  # 1.00 a week: 2,788 weeks to go
        audit = surplus_audit(budget_holder=holder, stream_code="ASC")
        assert audit.surplus_expected_on is None
        assert audit.forecast_explanation.endswith(
            "at that rate no surplus arises before the budget period ends on 2027-03-31."
        )

    def test_no_active_budget_is_no_audit(self, stream):
        assert surplus_audit(budget_holder=BudgetHolderFactory(), stream_code="ASC") is None


class TestAStream:
    def test_most_reclaimable_first_and_only_the_streams_people(self, stream):
        small, large, none = person(stream), person(stream), person(stream)
        move(small, stream, 290_000, on=date(2026, 4, 1), key="small")
        move(large, stream, 500_000, on=date(2026, 4, 1), key="large")
        other = person(FundingStreamFactory(code="ATW"))

        holders = list(stream_holders(stream_code="ASC"))
        audits = surplus_audits(holders=[*holders, other], stream_code="ASC")

        assert set(holders) == {small, large, none}
        assert [(audit.budget_holder_public_id, audit.reclaimable_minor) for audit in audits][:2] == [
            (large.public_id, 220_000),
            (small.public_id, 10_000),
        ]
        assert len(audits) == 3

    def test_the_same_queries_for_5_people_as_for_50(self, stream):
        def measure(count, tag):
            people = [person(stream) for _ in range(count)]
            for n, holder in enumerate(people):
                move(holder, stream, 100_000 + n, on=date(2026, 4, 1), key=f"{tag}-{n}")
                reserves.reserve_set(
                    budget_holder=holder,
                    stream=stream,
                    amount_minor=1_000,
                    reason="Repair",
                    by=holder.navigator,
                )
            with CaptureQueriesContext(connection) as queries:
                audits = surplus_audits(holders=people, stream_code="ASC")
            assert len(audits) == count
            return len(queries)

        assert measure(5, "a") == measure(50, "b")
