"""The ledger figures every statement is made of: per funds account, for a period, in one query.

For a person's funds account of a stream (`person:<per>:stream:<CODE>:funds`, a liability: credits are
money held for the person) and a period from `starts_on` to `ends_on`, both inclusive:

* **opening**: the posted balance at the end of the day before the period (credits - debits).
* **money in**: posted credits effective in the period, less posted budget-adjustment debits (a budget
  change down takes back money paid in for days no longer funded: it is money in, negative, not spending).
  `instalments` and `changes` are its two parts; anything else credited (`other_in`) is shown as such.
* **money out**: posted debits effective in the period except budget adjustments: invoices paid, wages,
  purchases.
* **closing**: opening + money in - money out, which is the ledger's posted balance at the end of the
  period (`ledger.selectors.account_balance(on=ends_on)`), to the penny.
* **reserved**: pending debits effective by the period end and not resolved by then: approved invoices not
  yet paid. **Available** at the period end is closing - reserved.

One aggregate query for any number of accounts; the rows are read in account order, so a caller can
stream them (`figures_iter`) without holding a whole stream's people in memory.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, Sum

from budgets.selectors.surplus import KIND_RECLAIM
from budgets.services.personal_budgets import KIND_ADJUSTMENT, KIND_INSTALMENT
from ledger.models import Posting, Side, TransactionKind


@dataclass(frozen=True)
class Figures:
    """One funds account's figures for a period, in minor units."""

    account_id: int
    owner_id: str = ""  # the budget holder's public id
    opening_minor: int = 0
    instalments_minor: int = 0
    changes_minor: int = 0  # signed: budget changes' adjustments
    other_in_minor: int = 0
    money_out_minor: int = 0  # spending: everything paid out except reclaims
    reclaimed_minor: int = 0  # surplus reclaimed by the agency (ledger metadata kind `surplus_reclaim`)
    reserved_minor: int = 0

    @property
    def money_in_minor(self) -> int:
        return self.instalments_minor + self.changes_minor + self.other_in_minor

    @property
    def closing_minor(self) -> int:
        return self.opening_minor + self.money_in_minor - self.money_out_minor - self.reclaimed_minor

    @property
    def available_minor(self) -> int:
        return self.closing_minor - self.reserved_minor


def _sum(condition: Q) -> Sum:
    return Sum("amount_minor", filter=condition, default=0)


def figures_iter(
    *,
    account_ids: Iterable[int] | None,
    starts_on: date,
    ends_on: date,
    accounts_q: Q | None = None,
    order_by: str = "account_id",
) -> Iterator[Figures]:
    """Figures for the accounts (by id, or every account matching `accounts_q`, a condition on postings
    such as `Q(account__key__endswith=...)`), in `order_by` order (account id, or `account__owner_id`).

    An account with no postings up to the period end yields nothing; callers treat a missing one as zeros.
    """
    postings = Posting.objects.filter(effective_on__lte=ends_on)
    if account_ids is not None:
        postings = postings.filter(account_id__in=list(account_ids))
    if accounts_q is not None:
        postings = postings.filter(accounts_q)
    posted = Q(kind=TransactionKind.POSTED)
    before = posted & Q(effective_on__lt=starts_on)
    during = posted & Q(effective_on__gte=starts_on)
    is_adjustment = Q(transaction__metadata__kind=KIND_ADJUSTMENT)
    is_instalment = Q(transaction__metadata__kind=KIND_INSTALMENT)
    is_reclaim = Q(transaction__metadata__kind=KIND_RECLAIM)
    credit, debit = Q(side=Side.CREDIT), Q(side=Side.DEBIT)
    pending_debit = Q(kind=TransactionKind.PENDING, side=Side.DEBIT)
    rows = (
        postings.values("account_id", "account__owner_id")
        .annotate(
            before_credits=_sum(before & credit),
            before_debits=_sum(before & debit),
            instalments=_sum(during & credit & is_instalment),
            changes_in=_sum(during & credit & is_adjustment),
            changes_out=_sum(during & debit & is_adjustment),
            credits=_sum(during & credit),
            debits=_sum(during & debit),
            reclaimed=_sum(during & debit & is_reclaim),
            pending=_sum(pending_debit),
            released=_sum(pending_debit & Q(transaction__resolution__effective_on__lte=ends_on)),
        )
        .order_by(order_by, "account_id")
    )
    for row in rows.iterator(chunk_size=2000):
        changes = row["changes_in"] - row["changes_out"]
        yield Figures(
            account_id=row["account_id"],
            owner_id=row["account__owner_id"],
            opening_minor=row["before_credits"] - row["before_debits"],
            instalments_minor=row["instalments"],
            changes_minor=changes,
            other_in_minor=row["credits"] - row["instalments"] - row["changes_in"],
            money_out_minor=row["debits"] - row["changes_out"] - row["reclaimed"],
            reclaimed_minor=row["reclaimed"],
            reserved_minor=row["pending"] - row["released"],
        )


def figures_for(*, account_ids: Iterable[int], starts_on: date, ends_on: date) -> dict[int, Figures]:
    """Figures by account id for these accounts (zeros for one with no postings yet)."""
    ids = list(account_ids)
    found = {
        figures.account_id: figures
        for figures in figures_iter(account_ids=ids, starts_on=starts_on, ends_on=ends_on)
    }
    return {account_id: found.get(account_id, Figures(account_id=account_id)) for account_id in ids}
