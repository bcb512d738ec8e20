"""Assertions shared by the personal-budget tests: a budget's money adds up, and the ledger agrees with it."""

import itertools
from datetime import date, timedelta

from budgets import accounts
from budgets.models import Instalment, InstalmentStatus, PersonalBudget, PersonalBudgetStatus
from budgets.services.personal_budgets import personal_budget_create
from ledger.models import Account, Posting, Side, Transaction

POSTED = (InstalmentStatus.DUE, InstalmentStatus.RECEIVED)


def versions_of(budget: PersonalBudget) -> list[PersonalBudget]:
    return list(
        PersonalBudget.objects.filter(
            budget_holder_id=budget.budget_holder_id, stream_id=budget.stream_id, starts_on=budget.starts_on
        ).order_by("version")
    )


def adjustments_of(budget: PersonalBudget) -> list[int]:
    """Each version's adjustment, signed for the person (credit to their funds is positive)."""
    funds_key = accounts.person_funds_key(
        budget_holder_public_id=budget.budget_holder.public_id, stream_code=budget.stream.code
    )
    keys = [f"personal-budget:{version.public_id}:adjustment" for version in versions_of(budget)]
    return [
        posting.amount_minor if posting.side == Side.CREDIT else -posting.amount_minor
        for posting in Posting.objects.filter(transaction__idempotency_key__in=keys, account__key=funds_key)
    ]


def assert_budget_adds_up(budget: PersonalBudget) -> None:
    """Paid in (posted instalments of every version, adjustments) + scheduled = the active amount, and the
    posted and scheduled instalments cover each day of the period exactly once."""
    versions = versions_of(budget)
    active = [version for version in versions if version.status == PersonalBudgetStatus.ACTIVE]
    assert len(active) == 1
    active = active[0]
    posted = list(Instalment.objects.filter(personal_budget__in=versions, status__in=POSTED))
    scheduled = list(Instalment.objects.filter(personal_budget=active, status=InstalmentStatus.SCHEDULED))
    assert not Instalment.objects.filter(
        personal_budget__in=[v for v in versions if v != active], status=InstalmentStatus.SCHEDULED
    ).exists()
    total = (
        sum(i.amount_minor for i in posted)
        + sum(adjustments_of(budget))
        + sum(i.amount_minor for i in scheduled)
    )
    assert total == active.amount_minor
    covering = sorted(posted + scheduled, key=lambda i: i.covers_from)
    assert covering[0].covers_from == active.starts_on
    assert covering[-1].covers_to == active.ends_on
    for earlier, later in itertools.pairwise(covering):
        assert later.covers_from == earlier.covers_to + timedelta(days=1)
    assert all(i.amount_minor >= 0 for i in scheduled)
    # Posted instalments are a run from the start of the period; the scheduled ones follow them.
    if posted and scheduled:
        assert max(i.covers_to for i in posted) < min(i.covers_from for i in scheduled)


def assert_ledger_in_step(budget: PersonalBudget) -> None:
    """Every posted instalment (above zero) is exactly one ledger transaction; nothing else of the budget's
    is; the receivable's side of the budget's transactions mirrors the funds' side."""
    versions = versions_of(budget)
    stream, holder = budget.stream, budget.budget_holder
    receivable = Account.objects.get(key=accounts.stream_receivable_key(stream_code=stream.code))
    funds = Account.objects.get(
        key=accounts.person_funds_key(budget_holder_public_id=holder.public_id, stream_code=stream.code)
    )
    instalments = list(Instalment.objects.filter(personal_budget__in=versions))
    for instalment in instalments:
        key = f"instalment:{instalment.public_id}"
        if instalment.status in POSTED and instalment.amount_minor > 0:
            transaction = Transaction.objects.get(idempotency_key=key)
            assert transaction.public_id == instalment.ledger_transaction
            assert transaction.effective_on == instalment.due_on
            assert {(p.account_id, p.side, p.amount_minor) for p in transaction.postings.all()} == {
                (receivable.pk, Side.DEBIT, instalment.amount_minor),
                (funds.pk, Side.CREDIT, instalment.amount_minor),
            }
        else:
            assert not Transaction.objects.filter(idempotency_key=key).exists()
            assert instalment.ledger_transaction == ""
    public_ids = [version.public_id for version in versions]
    postings = Posting.objects.filter(transaction__metadata__personal_budget__in=public_ids)

    def total(account, side):
        return sum(p.amount_minor for p in postings if p.account_id == account.pk and p.side == side)

    posted = sum(i.amount_minor for i in instalments if i.status in POSTED)
    adjustments = adjustments_of(budget)
    ups = sum(a for a in adjustments if a > 0)
    downs = -sum(a for a in adjustments if a < 0)
    assert total(receivable, Side.DEBIT) == total(funds, Side.CREDIT) == posted + ups
    assert total(receivable, Side.CREDIT) == total(funds, Side.DEBIT) == downs


START, END = date(2026, 4, 1), date(2027, 3, 31)


def create(holder, stream, navigator, **overrides) -> PersonalBudget:
    """A budget for 2026/27 of 3,650.00 (10.00 a day) through the service, unless told otherwise."""
    arguments = {
        "budget_holder": holder,
        "stream": stream,
        "starts_on": START,
        "ends_on": END,
        "amount_minor": 365_000,
        "explanation": {"source": "test", "amount": "3650.00"},
        "created_by": navigator,
        "reason": "Assessed in March",
    }
    return personal_budget_create(**{**arguments, **overrides})


def funds_of(holder, stream) -> Account:
    return Account.objects.get(
        key=accounts.person_funds_key(budget_holder_public_id=holder.public_id, stream_code=stream.code)
    )
