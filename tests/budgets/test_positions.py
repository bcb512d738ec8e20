"""Budget positions: every figure by hand, and a bounded number of queries however much there is."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets import accounts
from budgets.models import InstalmentStatus
from budgets.selectors.positions import NoActiveBudget, budget_position, budget_positions_for_holder
from budgets.services.personal_budgets import (
    instalments_post_due,
    personal_budget_change,
    personal_budget_create,
)
from ledger.models import Account, AccountType, Side
from ledger.services import PostingSpec, transaction_post, transaction_reserve
from tests.budgets.factories import FundingStreamFactory
from tests.ledger.factories import AccountFactory
from tests.people.factories import BudgetHolderFactory, NavigatorFactory

pytestmark = pytest.mark.django_db

START, END = date(2026, 4, 1), date(2027, 3, 31)
ON = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: ON)


@pytest.fixture
def holder():
    return BudgetHolderFactory()


def create(holder, stream, amount_minor, **overrides):
    return personal_budget_create(
        budget_holder=holder,
        stream=stream,
        starts_on=overrides.get("starts_on", START),
        ends_on=overrides.get("ends_on", END),
        amount_minor=amount_minor,
        explanation={},
        created_by=None,
    )


def funds_of(holder, stream):
    return Account.objects.get(
        key=accounts.person_funds_key(budget_holder_public_id=holder.public_id, stream_code=stream.code)
    )


def pay_out(funds, amount_minor, *, key, effective_on, reserve=False, metadata=None):
    provider = AccountFactory(type=AccountType.LIABILITY)
    service = transaction_reserve if reserve else transaction_post
    service(
        idempotency_key=key,
        currency="GBP",
        effective_on=effective_on,
        description="To a provider",
        postings=[
            PostingSpec(account=funds, side=Side.DEBIT, amount_minor=amount_minor),
            PostingSpec(account=provider, side=Side.CREDIT, amount_minor=amount_minor),
        ],
        metadata={"kind": "payment"} if metadata is None else metadata,
    )


@pytest.fixture
def world(holder):
    """Adult Social Care, 4-weekly, 3,650.00 then cut to 3,000.00; Access to Work, monthly, 730.00."""
    asc = FundingStreamFactory(
        code="ASC", payment_frequency="four_weekly", surplus_threshold_weeks=Decimal("8.5")
    )
    atw = FundingStreamFactory(
        code="ATW", payment_frequency="monthly", surplus_threshold_weeks=Decimal("4.0")
    )
    budget = create(holder, asc, 365_000)
    create(holder, atw, 73_000)
    # ASC: 1 April, 29 April and 27 May, 280.00 each; ATW: April (30 days) 60.00 and May (31 days) 62.00.
    instalments_post_due(on=date(2026, 5, 27))
    budget.instalments.filter(sequence=1).update(
        status=InstalmentStatus.RECEIVED, received_on=date(2026, 4, 2)
    )
    funds = funds_of(holder, asc)
    pay_out(funds, 15_000, key="paid", effective_on=date(2026, 5, 1))
    pay_out(funds, 5_000, key="paid-no-kind", effective_on=date(2026, 5, 2), metadata={})
    pay_out(funds, 5_000, key="approved", effective_on=date(2026, 5, 30), reserve=True)
    pay_out(funds, 1_000, key="next-year", effective_on=date(2027, 4, 5))  # spent, but not in this period
    # From 27 May the budget is 3,000.00: kept 560.00 (two blocks), the rest 2,440.00 over 309 days; block 3
    # (27 May to 23 June, already paid 280.00) gets 221.10 of it, so 58.90 is taken back.
    personal_budget_change(
        personal_budget=budget,
        amount_minor=300_000,
        effective_from=date(2026, 5, 27),
        explanation={},
        changed_by=NavigatorFactory(),
        reason="Reassessed",
    )
    return asc, atw


class TestBudgetPosition:
    def test_every_figure_by_hand(self, holder, world):
        asc, _ = world

        position = budget_position(budget_holder=holder, stream=asc, on=ON)

        assert (position.stream_code, position.currency, position.version) == ("ASC", "GBP", 2)
        assert (position.period_starts_on, position.period_ends_on) == (START, END)
        assert position.allocated_minor == 300_000
        assert position.received_minor == 28_000
        assert position.due_so_far_minor == 84_000 - 5_890
        assert position.spent_minor == 20_000  # not the adjustment, not next year's payment
        assert position.committed_minor == 5_000
        assert position.available_minor == 78_110 - 20_000 - 5_000 - 1_000
        # 3,000.00 x 7 / 365 = 57.534246... -> 57.53
        assert position.weekly_equivalent_minor == 5_753
        # 521.10 / 57.53 = 9.0579... -> 9.1
        assert position.weeks_held == Decimal("9.1")
        # 8.5 x 57.53 = 489.005 -> 489.01; 521.10 - 489.01 = 32.09
        assert position.surplus_threshold_weeks == Decimal("8.5")
        assert position.surplus_minor == 3_209

    def test_a_stream_without_changes_or_spending(self, holder, world):
        _, atw = world

        position = budget_position(budget_holder=holder, stream=atw, on=ON)

        assert position.allocated_minor == 73_000
        assert (position.received_minor, position.spent_minor, position.committed_minor) == (0, 0, 0)
        assert position.due_so_far_minor == position.available_minor == 12_200
        assert position.weekly_equivalent_minor == 1_400  # 730.00 x 7 / 365, exactly
        assert position.weeks_held == Decimal("8.7")  # 122.00 / 14.00 = 8.714...
        assert position.surplus_minor == 12_200 - 4 * 1_400

    def test_defaults_to_today(self, holder, world):
        asc, _ = world

        assert budget_position(budget_holder=holder, stream=asc).on == ON

    def test_no_active_budget_for_the_day_is_an_error(self, holder, world):
        asc, _ = world

        with pytest.raises(NoActiveBudget) as missing:
            budget_position(budget_holder=holder, stream=asc, on=date(2027, 4, 1))
        with pytest.raises(NoActiveBudget):
            budget_position(budget_holder=holder, stream=FundingStreamFactory(), on=ON)

        assert missing.value.http_status == 404

    def test_the_weekly_equivalent_rounds_half_up_once(self, holder):
        stream = FundingStreamFactory()
        create(holder, stream, 1, starts_on=START, ends_on=date(2026, 4, 14))  # 0.01 x 7 / 14 = 0.005

        position = budget_position(budget_holder=holder, stream=stream, on=START)

        assert position.weekly_equivalent_minor == 1

    def test_a_zero_budget_holds_no_weeks_and_all_it_has_is_surplus(self, holder):
        stream = FundingStreamFactory()
        create(holder, stream, 0)

        position = budget_position(budget_holder=holder, stream=stream, on=ON)

        assert (position.weekly_equivalent_minor, position.weeks_held, position.surplus_minor) == (0, None, 0)

    def test_before_anything_is_paid_in(self, holder):
        stream = FundingStreamFactory()
        create(holder, stream, 365_000)

        position = budget_position(budget_holder=holder, stream=stream, on=START)

        assert (position.due_so_far_minor, position.available_minor, position.weeks_held) == (
            0,
            0,
            Decimal("0.0"),
        )


class TestBudgetPositionsForHolder:
    def test_one_position_per_stream_with_an_active_budget_that_day_by_code(self, holder, world):
        positions = budget_positions_for_holder(budget_holder=holder, on=ON)

        assert [p.stream_code for p in positions] == ["ASC", "ATW"]
        assert budget_positions_for_holder(budget_holder=holder, on=date(2027, 4, 1)) == []
        assert budget_positions_for_holder(budget_holder=BudgetHolderFactory(), on=ON) == []

    def test_the_number_of_queries_does_not_grow_with_streams_versions_or_postings(
        self, holder, world, django_assert_max_num_queries
    ):
        with CaptureQueriesContext(connection) as few:
            budget_positions_for_holder(budget_holder=holder, on=ON)
        for _ in range(4):
            stream = FundingStreamFactory(payment_frequency="monthly")
            budget = create(holder, stream, 120_000)
            personal_budget_change(
                personal_budget=budget,
                amount_minor=130_000,
                effective_from=date(2026, 4, 10),
                explanation={},
                changed_by=None,
                reason="Reassessed",
            )
        instalments_post_due(on=date(2026, 12, 31))

        with django_assert_max_num_queries(5):
            positions = budget_positions_for_holder(budget_holder=holder, on=ON)

        assert len(positions) == 6
        with CaptureQueriesContext(connection) as many:
            budget_positions_for_holder(budget_holder=holder, on=ON)
        assert len(many.captured_queries) == len(few.captured_queries)

    def test_a_person_with_no_budgets_takes_one_query(self, django_assert_num_queries):
        holder = BudgetHolderFactory()

        with django_assert_num_queries(1):
            assert budget_positions_for_holder(budget_holder=holder, on=ON) == []
