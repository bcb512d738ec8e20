"""Instalments falling due: posted to the ledger once, whatever runs at once. (The command around it,
`post_due_instalments`, is plans': tests/plans/test_instalments_timeline.py.)"""

from datetime import date

import pytest
from django.utils import timezone

from budgets.models import Instalment, InstalmentStatus, PersonalBudget, PersonalBudgetStatus
from budgets.services.personal_budgets import (
    InstalmentPostingResult,
    instalments_post_due,
    personal_budget_change,
)
from ledger.models import Side, Transaction
from ledger.services import period_close
from tests.budgets.factories import FundingStreamFactory
from tests.budgets.helpers import END, START, assert_budget_adds_up, assert_ledger_in_step, create, funds_of
from tests.concurrency import run_in_threads
from tests.people.factories import BudgetHolderFactory, NavigatorFactory

TODAY = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """Pin "today" (the command's default day, the period-close check) to 1 October 2026."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def stream(db):
    return FundingStreamFactory(
        code="ASC", name="Adult Social Care", payment_frequency="four_weekly", initial_float_weeks=0
    )


@pytest.fixture
def holder(db):
    return BudgetHolderFactory()


@pytest.fixture
def navigator(db):
    return NavigatorFactory()


@pytest.mark.django_db
class TestInstalmentsPostDue:
    def test_posts_every_instalment_due_by_the_day_to_the_ledger(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)

        result = instalments_post_due(on=date(2026, 5, 27))

        assert (result.posted, result.already_posted, result.skipped, result.failed) == (3, 0, 0, [])
        posted = list(budget.instalments.filter(status=InstalmentStatus.DUE).order_by("sequence"))
        assert [i.sequence for i in posted] == [1, 2, 3]
        assert result.posted_instalments == [i.public_id for i in posted]
        first = posted[0]
        transaction = Transaction.objects.get(public_id=first.ledger_transaction)
        assert transaction.idempotency_key == f"instalment:{first.public_id}"
        assert transaction.effective_on == first.due_on == START
        assert transaction.metadata == {
            "kind": "instalment",
            "instalment": first.public_id,
            "personal_budget": budget.public_id,
            "stream": "ASC",
            "budget_holder": holder.public_id,
        }
        sides = {
            (p.account.key, p.side, p.amount_minor) for p in transaction.postings.select_related("account")
        }
        assert sides == {
            ("stream:ASC:receivable", Side.DEBIT, 28_000),
            (funds_of(holder, stream).key, Side.CREDIT, 28_000),
        }
        assert funds_of(holder, stream).available_minor == 84_000
        assert_ledger_in_step(budget)

    def test_running_twice_posts_once(self, holder, stream, navigator):
        create(holder, stream, navigator)
        instalments_post_due(on=date(2026, 5, 27))

        again = instalments_post_due(on=date(2026, 5, 27))

        assert again.posted == 0
        assert again.posted_instalments == []
        assert Transaction.objects.count() == 3
        assert funds_of(holder, stream).available_minor == 84_000

    def test_posts_in_bounded_batches(self, holder, stream, navigator):
        create(holder, stream, navigator)
        create(BudgetHolderFactory(), stream, navigator)

        result = instalments_post_due(on=END, batch_size=5)

        assert result.posted == 28
        assert Transaction.objects.count() == 28

    def test_a_zero_instalment_falls_due_without_a_ledger_transaction(self, holder, stream, navigator):
        budget = create(holder, stream, navigator, amount_minor=5)  # 14 instalments of 5 pennies

        result = instalments_post_due(on=END)

        assert result.posted == 14
        assert list(budget.instalments.order_by("sequence").values_list("amount_minor", flat=True)) == (
            [1] * 5 + [0] * 9
        )
        assert Transaction.objects.count() == 5
        assert set(budget.instalments.values_list("status", flat=True)) == {InstalmentStatus.DUE}
        assert budget.instalments.filter(amount_minor=0, ledger_transaction="").count() == 9

    def test_an_instalment_in_a_closed_period_fails_and_later_ones_of_its_budget_wait(
        self, holder, stream, navigator
    ):
        budget = create(holder, stream, navigator)
        other = create(BudgetHolderFactory(), stream, navigator, starts_on=date(2026, 5, 1))
        period_close(closed_through=date(2026, 4, 30), closed_by="finance")

        result = instalments_post_due(on=date(2026, 5, 27))

        first = budget.instalments.get(sequence=1)
        assert result.failed == [(first.public_id, result.failed[0][1])]
        assert "closed" in result.failed[0][1]
        assert result.skipped == 2  # budget's instalments 2 and 3 wait for the first
        assert result.posted == 1  # the other budget's first instalment, due 1 May
        assert set(budget.instalments.values_list("status", flat=True)) == {InstalmentStatus.SCHEDULED}
        assert other.instalments.get(sequence=1).status == InstalmentStatus.DUE

    def test_a_cancelled_instalment_is_never_posted(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)
        personal_budget_change(
            personal_budget=budget,
            amount_minor=365_000,
            effective_from=date(2026, 4, 29),
            explanation={},
            changed_by=navigator,
            reason="Reassessed",
        )

        instalments_post_due(on=END)

        assert not budget.instalments.exclude(status=InstalmentStatus.CANCELLED).exists()
        assert Transaction.objects.filter(metadata__personal_budget=budget.public_id).count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentPosting:
    def test_runs_at_once_post_each_instalment_once(self, stream, navigator):
        budgets = [create(BudgetHolderFactory(), stream, navigator) for _ in range(3)]

        results = run_in_threads(4, lambda index: instalments_post_due(on=END, batch_size=5))

        assert all(isinstance(result, InstalmentPostingResult) for result in results), results
        assert sum(result.posted for result in results) == 42
        assert all(result.failed == [] for result in results)
        assert Transaction.objects.count() == 42
        assert not Instalment.objects.filter(status=InstalmentStatus.SCHEDULED).exists()
        for budget in budgets:
            assert_ledger_in_step(budget)
            assert funds_of(budget.budget_holder, stream).available_minor == 365_000

    def test_a_change_racing_a_posting_run_keeps_everything_adding_up(self, stream, navigator):
        for _ in range(5):
            holder = BudgetHolderFactory()
            budget = create(holder, stream, navigator)
            instalments_post_due(on=date(2026, 7, 22))  # five blocks

            def work(index, budget=budget):
                if index == 0:
                    return instalments_post_due(on=date(2026, 8, 19))
                return personal_budget_change(
                    personal_budget=budget,
                    amount_minor=400_000,
                    effective_from=date(2026, 8, 19),
                    explanation={},
                    changed_by=navigator,
                    reason="Reassessed",
                )

            run, changed = run_in_threads(2, work)

            assert isinstance(run, InstalmentPostingResult), run
            assert isinstance(changed, PersonalBudget), changed
            changed.refresh_from_db()
            assert changed.status == PersonalBudgetStatus.ACTIVE
            assert_budget_adds_up(changed)
            assert_ledger_in_step(changed)
            # Whichever went first, block 6 is paid at the new rate, as an instalment or as 280.00 + 43.56.
            instalments_post_due(on=date(2026, 8, 19))
            assert funds_of(holder, stream).available_minor == 140_000 + 32_356
            assert not Instalment.objects.filter(
                status=InstalmentStatus.CANCELLED, ledger_transaction__gt=""
            ).exists()
            assert (
                not Transaction.objects.filter(
                    postings__side=Side.DEBIT, metadata__personal_budget=changed.supersedes.public_id
                )
                .exclude(metadata__kind="instalment")
                .exists()
            )
