"""Personal budgets: creation, instalments falling due, and changes mid-period, with the ledger in step.

A year from 1 April 2026 to 31 March 2027 is 365 days; at 3,650.00 it is 10.00 a day and 280.00 a four-week
block, which keeps the hand arithmetic short. Blocks start on 1 and 29 April, 27 May, 24 June, 22 July,
19 August, 16 September... (every fourth Wednesday); the last block is 31 March 2027 alone.
"""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from budgets.models import Instalment, InstalmentStatus, PersonalBudget, PersonalBudgetStatus
from budgets.services.personal_budgets import (
    AUDIT_CHANGED,
    AUDIT_CREATED,
    CashEquivalentMismatch,
    InvalidPersonalBudget,
    PersonalBudgetAlreadySpent,
    PersonalBudgetChangeTooLow,
    PersonalBudgetExists,
    PersonalBudgetNotActive,
    StreamNotActive,
    instalments_post_due,
    personal_budget_change,
    personal_budget_create_from_cash_equivalent,
)
from ledger.models import Account, AccountType, Side, Transaction
from ledger.money import InvalidAmount
from ledger.services import PostingSpec, transaction_post, transaction_reserve
from people.models import AuditEvent
from tests.budgets.factories import FundingStreamFactory
from tests.budgets.helpers import assert_budget_adds_up, assert_ledger_in_step, create, funds_of
from tests.ledger.factories import AccountFactory
from tests.people.factories import BudgetHolderFactory, NavigatorFactory

pytestmark = pytest.mark.django_db

START, END = date(2026, 4, 1), date(2027, 3, 31)
TODAY = date(2026, 10, 1)
BLOCK_STARTS = [START + timedelta(days=28 * n) for n in range(14)]  # 1 April 2026 ... 31 March 2027


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """Pin "today" (the adjustment's effective date, the period-close check) to 1 October 2026."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def stream():
    return FundingStreamFactory(
        code="ASC", name="Adult Social Care", payment_frequency="four_weekly", initial_float_weeks=0
    )


@pytest.fixture
def holder():
    return BudgetHolderFactory()


@pytest.fixture
def navigator():
    return NavigatorFactory()


def amounts(budget, status=InstalmentStatus.SCHEDULED):
    return list(
        Instalment.objects.filter(personal_budget=budget, status=status)
        .order_by("sequence")
        .values_list("sequence", "amount_minor")
    )


def spend(funds, amount_minor, *, reserve=False, key="spend-1", effective_on=date(2026, 9, 20)):
    provider = AccountFactory(type=AccountType.LIABILITY, currency=funds.currency)
    service = transaction_reserve if reserve else transaction_post
    return service(
        idempotency_key=key,
        currency=funds.currency,
        effective_on=effective_on,
        description="Paid to a provider",
        postings=[
            PostingSpec(account=funds, side=Side.DEBIT, amount_minor=amount_minor),
            PostingSpec(account=provider, side=Side.CREDIT, amount_minor=amount_minor),
        ],
        metadata={"kind": "payment"},
    )


class TestPersonalBudgetCreate:
    def test_makes_version_one_with_its_schedule_accounts_and_audit_row(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)

        assert budget.public_id.startswith("pb_")
        assert (budget.version, budget.status, budget.effective_from) == (
            1,
            PersonalBudgetStatus.ACTIVE,
            START,
        )
        assert (budget.currency, budget.amount_minor, budget.created_by) == ("GBP", 365_000, navigator)
        assert budget.explanation == {"source": "test", "amount": "3650.00"}
        instalments = list(budget.instalments.order_by("sequence"))
        assert [i.covers_from for i in instalments] == BLOCK_STARTS
        assert [i.amount_minor for i in instalments] == [28_000] * 13 + [1_000]
        assert {i.status for i in instalments} == {InstalmentStatus.SCHEDULED}
        assert funds_of(holder, stream).allow_negative is False
        assert Account.objects.filter(key="stream:ASC:receivable", type=AccountType.ASSET).exists()
        event = AuditEvent.objects.get(action=AUDIT_CREATED)
        assert (event.object_id, event.actor) == (budget.public_id, navigator)
        assert event.detail["amount"] == "3650.00"
        assert event.detail["instalments"] == 14

    def test_the_currency_and_schedule_come_from_the_stream(self, holder, navigator):
        stream = FundingStreamFactory(currency="EUR", payment_frequency="four_weekly", initial_float_weeks=11)

        budget = create(holder, stream, navigator)

        assert budget.currency == "EUR"
        assert list(budget.instalments.order_by("sequence").values_list("amount_minor", flat=True)) == (
            [77_000] + [28_000] * 10 + [8_000]
        )

    def test_a_second_active_budget_for_the_same_period_is_refused(self, holder, stream, navigator):
        first = create(holder, stream, navigator)

        with pytest.raises(PersonalBudgetExists) as refused:
            create(holder, stream, navigator, amount_minor=1)

        assert refused.value.code == "personal_budget_exists"
        assert refused.value.http_status == 409
        assert first.public_id in refused.value.message
        assert PersonalBudget.objects.count() == 1
        assert Instalment.objects.count() == 14

    def test_an_overlapping_period_is_refused_but_the_next_period_and_another_stream_are_not(
        self, holder, stream, navigator
    ):
        create(holder, stream, navigator)

        with pytest.raises(PersonalBudgetExists):
            create(holder, stream, navigator, starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31))
        create(holder, stream, navigator, starts_on=date(2027, 4, 1), ends_on=date(2028, 3, 31))
        create(holder, FundingStreamFactory(), navigator)
        create(BudgetHolderFactory(), stream, navigator)

        assert PersonalBudget.objects.count() == 4

    @pytest.mark.parametrize(
        ("overrides", "error"),
        [
            ({"amount_minor": -1}, InvalidAmount),
            ({"amount_minor": 10.5}, InvalidAmount),
            ({"ends_on": date(2026, 3, 31)}, InvalidPersonalBudget),
            ({"explanation": {"amount": 3650.0}}, InvalidPersonalBudget),
            ({"explanation": "3650.00"}, InvalidPersonalBudget),
            ({"reason": "x" * 501}, InvalidPersonalBudget),
        ],
    )
    def test_refuses_bad_requests_and_saves_nothing(self, holder, stream, navigator, overrides, error):
        with pytest.raises(error):
            create(holder, stream, navigator, **overrides)

        assert not PersonalBudget.objects.exists()
        assert not AuditEvent.objects.filter(action=AUDIT_CREATED).exists()

    def test_an_inactive_stream_is_refused(self, holder, navigator):
        with pytest.raises(StreamNotActive):
            create(holder, FundingStreamFactory(is_active=False), navigator)

    def test_a_zero_budget_is_allowed(self, holder, stream, navigator):
        budget = create(holder, stream, navigator, amount_minor=0)

        assert set(budget.instalments.values_list("amount_minor", flat=True)) == {0}


class TestPersonalBudgetCreateFromCashEquivalent:
    def test_keeps_the_calculation_as_the_explanation(self, holder, stream, navigator):
        calculation = {"stream": "ASC", "currency": "GBP", "subtotal": "3650.00", "amount": "3650.00"}

        budget = personal_budget_create_from_cash_equivalent(
            budget_holder=holder,
            stream=stream,
            starts_on=START,
            ends_on=END,
            amount_minor=365_000,
            explanation=calculation,
            created_by=navigator,
        )

        assert budget.explanation == {"source": "cash_equivalent", "calculation": calculation}
        assert budget.reason == "Made from the cash-equivalent calculation."
        assert budget.instalments.count() == 14

    @pytest.mark.parametrize(
        "calculation",
        [
            {"stream": "ATW", "amount": "3650.00"},
            {"currency": "EUR"},
            {"amount": "3650.01"},
            {"amount": "3650"},
        ],
    )
    def test_refuses_an_amount_that_does_not_match_its_calculation(
        self, holder, stream, navigator, calculation
    ):
        with pytest.raises(CashEquivalentMismatch):
            personal_budget_create_from_cash_equivalent(
                budget_holder=holder,
                stream=stream,
                starts_on=START,
                ends_on=END,
                amount_minor=365_000,
                explanation=calculation,
                created_by=navigator,
            )

        assert not PersonalBudget.objects.exists()


class TestPersonalBudgetChange:
    def change(self, budget, navigator, *, amount_minor, effective_from, reason="Reassessed"):
        return personal_budget_change(
            personal_budget=budget,
            amount_minor=amount_minor,
            effective_from=effective_from,
            explanation={"source": "test"},
            changed_by=navigator,
            reason=reason,
        )

    def test_on_time_a_change_reschedules_the_rest_with_no_adjustment(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)
        instalments_post_due(on=date(2026, 8, 18))  # five blocks, to 18 August: 1,400.00

        changed = self.change(budget, navigator, amount_minor=400_000, effective_from=date(2026, 8, 19))

        # Kept for the days before 19 August: the 1,400.00 paid. The rest, 2,600.00, over the 225 days left
        # (8 blocks of 28 days and 1 day): exact shares 323.5555... and 11.5555...; 258,840 + 1,155 =
        # 259,995 pence rounded down, and the five pennies left go to the first five blocks (equal
        # remainders, earlier first).
        assert amounts(changed) == [(6 + n, 32_356) for n in range(5)] + [
            (11, 32_355),
            (12, 32_355),
            (13, 32_355),
            (14, 1_155),
        ]
        assert not Transaction.objects.filter(metadata__kind="budget_adjustment").exists()
        assert_budget_adds_up(changed)
        assert_ledger_in_step(changed)

    def test_the_worked_example_a_backdated_increase_posts_one_adjustment(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)
        instalments_post_due(on=date(2026, 8, 19))  # six blocks, to 15 September: 1,680.00

        changed = self.change(budget, navigator, amount_minor=400_000, effective_from=date(2026, 8, 19))

        budget.refresh_from_db()
        assert (budget.status, changed.status) == (
            PersonalBudgetStatus.SUPERSEDED,
            PersonalBudgetStatus.ACTIVE,
        )
        assert (changed.version, changed.supersedes, changed.effective_from) == (2, budget, date(2026, 8, 19))
        assert (changed.starts_on, changed.ends_on, changed.amount_minor) == (START, END, 400_000)
        # Block 6 (19 August to 15 September) was paid 280.00; its share of the new money is 323.56.
        adjustment = Transaction.objects.get(
            idempotency_key=f"personal-budget:{changed.public_id}:adjustment"
        )
        assert adjustment.effective_on == TODAY
        assert adjustment.metadata == {
            "kind": "budget_adjustment",
            "personal_budget": changed.public_id,
            "supersedes": budget.public_id,
            "stream": "ASC",
            "budget_holder": holder.public_id,
            "covers_from": "2026-08-19",
            "covers_to": "2026-09-15",
            "settles": [["2026-08-19", "2026-09-15", 32_356]],
        }
        postings = {
            (p.account.key, p.side, p.amount_minor) for p in adjustment.postings.select_related("account")
        }
        assert postings == {
            ("stream:ASC:receivable", Side.DEBIT, 4_356),
            (funds_of(holder, stream).key, Side.CREDIT, 4_356),
        }
        assert amounts(changed) == [(7 + n, 32_356) for n in range(4)] + [
            (11 + n, 32_355) for n in range(3)
        ] + [(14, 1_155)]
        # 1,680.00 + 43.56 + 2,276.44 = 4,000.00
        assert 168_000 + 4_356 + sum(a for _, a in amounts(changed)) == 400_000
        cancelled = budget.instalments.filter(status=InstalmentStatus.CANCELLED)
        assert cancelled.count() == 8
        assert all(i.cancelled_at is not None for i in cancelled)
        assert budget.instalments.filter(status=InstalmentStatus.DUE).count() == 6
        assert funds_of(holder, stream).available_minor == 172_356
        assert_budget_adds_up(changed)
        assert_ledger_in_step(changed)

    def test_a_backdated_decrease_takes_the_difference_back(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)
        instalments_post_due(on=date(2026, 8, 19))

        changed = self.change(budget, navigator, amount_minor=300_000, effective_from=date(2026, 8, 19))

        # R = 3,000.00 - 1,400.00 = 1,600.00 over 225 days: 28-day shares 199.1111..., the day 7.1111...;
        # 159,288 + 711 = 159,999 rounded down, the penny left to block 6. Block 6: 199.12 - 280.00.
        adjustment = Transaction.objects.get(
            idempotency_key=f"personal-budget:{changed.public_id}:adjustment"
        )
        postings = {
            (p.account.key, p.side, p.amount_minor) for p in adjustment.postings.select_related("account")
        }
        assert postings == {
            (funds_of(holder, stream).key, Side.DEBIT, 8_088),
            ("stream:ASC:receivable", Side.CREDIT, 8_088),
        }
        assert amounts(changed) == [(7 + n, 19_911) for n in range(7)] + [(14, 711)]
        assert funds_of(holder, stream).available_minor == 168_000 - 8_088
        assert_budget_adds_up(changed)
        assert_ledger_in_step(changed)

    def test_a_change_from_inside_a_paid_block_settles_the_days_after_it(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)
        instalments_post_due(on=date(2026, 8, 19))

        changed = self.change(budget, navigator, amount_minor=400_000, effective_from=date(2026, 9, 1))

        # Block 6 (280.00, 28 days) splits at 1 September: 13 days before (130.00), 15 after (150.00).
        # Kept: 1,400.00 + 130.00 = 1,530.00. R = 2,470.00 over 212 days: 15 days (174.764...), seven
        # blocks of 28 (326.226...) and 1 day (11.650...): 246,995 pence rounded down; the five pennies left
        # go to the largest remainders, the first five 28-day blocks. Adjustment: 174.76 - 150.00.
        adjustment = Transaction.objects.get(
            idempotency_key=f"personal-budget:{changed.public_id}:adjustment"
        )
        assert adjustment.metadata["covers_from"] == "2026-09-01"
        assert funds_of(holder, stream).available_minor == 168_000 + 2_476
        assert amounts(changed) == [(7 + n, 32_623) for n in range(5)] + [
            (12, 32_622),
            (13, 32_622),
            (14, 1_165),
        ]
        assert_budget_adds_up(changed)
        assert_ledger_in_step(changed)

    def test_a_future_change_carries_the_instalments_before_it_over_unchanged(
        self, holder, stream, navigator
    ):
        budget = create(holder, stream, navigator)
        instalments_post_due(on=START)  # block 1 only

        changed = self.change(budget, navigator, amount_minor=400_000, effective_from=date(2026, 9, 1))

        # Kept: block 1 (paid), blocks 2 to 5 and 13 days of block 6 (scheduled): 1,530.00. The rest as above.
        instalments = list(changed.instalments.order_by("sequence"))
        assert [(i.sequence, i.covers_from, i.covers_to, i.amount_minor) for i in instalments[:6]] == [
            (2, date(2026, 4, 29), date(2026, 5, 26), 28_000),
            (3, date(2026, 5, 27), date(2026, 6, 23), 28_000),
            (4, date(2026, 6, 24), date(2026, 7, 21), 28_000),
            (5, date(2026, 7, 22), date(2026, 8, 18), 28_000),
            (6, date(2026, 8, 19), date(2026, 8, 31), 13_000),
            (7, date(2026, 9, 1), date(2026, 9, 15), 17_476),
        ]
        assert instalments[5].due_on == date(2026, 9, 1)  # a Tuesday
        assert [i.amount_minor for i in instalments[6:]] == [32_623] * 5 + [32_622] * 2 + [1_165]
        assert not Transaction.objects.filter(metadata__kind="budget_adjustment").exists()
        assert budget.instalments.filter(status=InstalmentStatus.CANCELLED).count() == 13
        assert_budget_adds_up(changed)

    def test_a_second_change_counts_the_first_adjustment_for_the_days_it_settled(
        self, holder, stream, navigator
    ):
        budget = create(holder, stream, navigator)
        instalments_post_due(on=date(2026, 8, 19))
        second = self.change(budget, navigator, amount_minor=400_000, effective_from=date(2026, 8, 19))

        third = self.change(second, navigator, amount_minor=380_000, effective_from=date(2026, 9, 1))

        # Block 6 (19 August to 15 September) now has what the first change settled for it, 323.56; 13 of its
        # 28 days are before 1 September: 323.56 x 13 / 28 = 150.2228..., the rest 173.3371..., so by largest
        # remainder 150.22 and 173.34. Kept: 1,400.00 + 150.22 = 1,550.22. R = 3,800.00 - 1,550.22 = 2,249.78
        # over 212 days: 15 days 159.1825..., 28 days 297.1407..., 1 day 10.6121...; 224,977 pence rounded
        # down, the penny left to the 15 days. Adjustment: 159.19 - 173.34 = -14.15.
        assert third.version == 3
        adjustment = Transaction.objects.get(idempotency_key=f"personal-budget:{third.public_id}:adjustment")
        postings = {
            (p.side, p.amount_minor) for p in adjustment.postings.filter(account=funds_of(holder, stream))
        }
        assert postings == {(Side.DEBIT, 1_415)}
        assert amounts(third) == [(7 + n, 29_714) for n in range(7)] + [(14, 1_061)]
        assert funds_of(holder, stream).available_minor == 168_000 + 4_356 - 1_415
        second.refresh_from_db()
        assert second.status == PersonalBudgetStatus.SUPERSEDED
        assert second.instalments.filter(status=InstalmentStatus.CANCELLED).count() == 8
        assert_budget_adds_up(third)
        assert_ledger_in_step(third)

    def test_everything_paid_in_leaves_no_instalments_and_one_adjustment(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)
        instalments_post_due(on=END)

        changed = self.change(budget, navigator, amount_minor=365_100, effective_from=date(2027, 3, 31))

        assert not changed.instalments.exists()
        assert funds_of(holder, stream).available_minor == 365_100
        assert_budget_adds_up(changed)

    def test_a_decrease_already_spent_is_refused_in_plain_words_and_changes_nothing(
        self, holder, stream, navigator
    ):
        budget = create(holder, stream, navigator)
        instalments_post_due(on=date(2026, 8, 19))
        funds = funds_of(holder, stream)
        spend(funds, 160_000)
        spend(funds, 5_000, reserve=True, key="approved-invoice")  # 30.00 left, 50.00 set aside

        with pytest.raises(PersonalBudgetAlreadySpent) as refused:
            self.change(budget, navigator, amount_minor=300_000, effective_from=date(2026, 8, 19))

        assert refused.value.code == "personal_budget_already_spent"
        assert "takes back 80.88 GBP" in refused.value.message
        assert "only 30.00 GBP" in refused.value.message
        budget.refresh_from_db()
        assert budget.status == PersonalBudgetStatus.ACTIVE
        assert PersonalBudget.objects.count() == 1
        assert budget.instalments.filter(status=InstalmentStatus.SCHEDULED).count() == 8
        assert not AuditEvent.objects.filter(action=AUDIT_CHANGED).exists()
        assert not Transaction.objects.filter(metadata__kind="budget_adjustment").exists()

    def test_writes_an_audit_row(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)
        instalments_post_due(on=date(2026, 8, 19))

        changed = self.change(budget, navigator, amount_minor=400_000, effective_from=date(2026, 8, 19))

        event = AuditEvent.objects.get(action=AUDIT_CHANGED)
        assert (event.object_id, event.actor) == (changed.public_id, navigator)
        assert event.detail == {
            "supersedes": budget.public_id,
            "version": 2,
            "effective_from": "2026-08-19",
            "currency": "GBP",
            "amount_from": "3650.00",
            "amount_to": "4000.00",
            "kept_before_change": "1400.00",
            "adjustment": "43.56",
            "adjustment_transaction": Transaction.objects.get(metadata__kind="budget_adjustment").public_id,
            "instalments_cancelled": 8,
            "instalments_scheduled": 8,
            "reason": "Reassessed",
        }

    def test_a_superseded_version_cannot_be_changed(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)
        changed = self.change(budget, navigator, amount_minor=1, effective_from=START)

        with pytest.raises(PersonalBudgetNotActive, match=changed.public_id):
            self.change(budget, navigator, amount_minor=2, effective_from=START)

    def test_a_new_total_below_what_the_days_before_already_had_is_refused(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)

        with pytest.raises(PersonalBudgetChangeTooLow, match=r"3640\.00 GBP for the days before 2027-03-31"):
            self.change(budget, navigator, amount_minor=100_000, effective_from=date(2027, 3, 31))

    @pytest.mark.parametrize(
        ("overrides", "error"),
        [
            ({"effective_from": date(2026, 3, 31)}, InvalidPersonalBudget),
            ({"effective_from": date(2027, 4, 1)}, InvalidPersonalBudget),
            ({"reason": "  "}, InvalidPersonalBudget),
            ({"amount_minor": -5}, InvalidAmount),
        ],
    )
    def test_refuses_bad_requests(self, holder, stream, navigator, overrides, error):
        budget = create(holder, stream, navigator)
        arguments = {"amount_minor": 400_000, "effective_from": date(2026, 8, 19), "reason": "Reassessed"}

        with pytest.raises(error):
            self.change(budget, navigator, **{**arguments, **overrides})

        assert PersonalBudget.objects.count() == 1


@st.composite
def histories(draw):
    """A budget's life: creation, then changes with postings between them, then everything posted."""
    frequency = draw(st.sampled_from(["four_weekly", "monthly", "quarterly", "one_off"]))
    float_weeks = draw(st.sampled_from([0, 0, 3, 11]))
    amount = draw(st.integers(min_value=0, max_value=2_000_000))
    steps = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=364),  # post due through START + this many days
                st.integers(min_value=0, max_value=364),  # change effective START + this many days
                st.integers(min_value=0, max_value=2_000_000),  # to this amount
            ),
            max_size=4,
        )
    )
    return frequency, float_weeks, amount, steps


class TestChangeProperties:
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(history=histories())
    # Taking back an adjustment spread over days that had nothing once left a penny to take back from nothing.
    @example(history=("four_weekly", 0, 0, [(0, 1, 182), (0, 0, 0), (0, 1, 0)]))
    def test_paid_in_plus_scheduled_always_equals_the_budget_and_covers_each_day_once(
        self, navigator, history
    ):
        from django.db import transaction

        frequency, float_weeks, amount, steps = history
        with transaction.atomic():
            stream = FundingStreamFactory(payment_frequency=frequency, initial_float_weeks=float_weeks)
            budget = create(BudgetHolderFactory(), stream, navigator, amount_minor=amount)
            for post_days, effective_days, new_amount in steps:
                instalments_post_due(on=START + timedelta(days=post_days))
                try:
                    budget = personal_budget_change(
                        personal_budget=budget,
                        amount_minor=new_amount,
                        effective_from=START + timedelta(days=effective_days),
                        explanation={},
                        changed_by=navigator,
                        reason="Reassessed",
                    )
                except PersonalBudgetChangeTooLow:
                    continue
                assert_budget_adds_up(budget)
                assert_ledger_in_step(budget)
            instalments_post_due(on=END)
            assert_budget_adds_up(budget)
            assert_ledger_in_step(budget)
            funds = Account.objects.get(key__endswith=f":stream:{stream.code}:funds")
            assert funds.available_minor == budget.amount_minor
            transaction.set_rollback(True)
