"""A person's statement for the budget period that contains a day: per stream, the money in and out, the
balance carried in and what is available now, and every movement of their funds, newest first.

The figures are `budgets.selectors.positions`' (so the statement and the home page agree to the penny);
the movements are the postings on the person's funds account of each stream, read from the ledger:

* posted postings effective from the period's first day (money in as credits, money out as debits);
* pending debits not yet resolved: money set aside for approved invoices (a resolved reservation shows as
  the posted payment that resolved it; a voided one is gone).

The balance **carried in** is the account's posted balance before the period. Carried in + every movement
shown = available now, exactly; where the position's money in and out do not cover a movement (a
correction, say), the difference is shown as **other changes**, never hidden. A statement takes the
positions' queries and two more; a page of movements is one query.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet, Sum

from budgets import accounts
from budgets.selectors.positions import BudgetPosition, budget_positions_for_holder
from budgets.services.personal_budgets import KIND_ADJUSTMENT, KIND_INSTALMENT
from ledger.models import Account, Posting, Side, TransactionKind
from people.models import BudgetHolder


@dataclass(frozen=True)
class StreamStatement:
    """One stream's part of the statement: its position, the balance carried in and any other changes."""

    position: BudgetPosition
    account_id: int | None  # the person's funds account for the stream (None before any money moved)
    carried_in_minor: int

    @property
    def money_in_minor(self) -> int:
        return self.position.due_so_far_minor

    @property
    def money_out_minor(self) -> int:
        return self.position.spent_minor + self.position.committed_minor

    @property
    def other_minor(self) -> int:
        """What carried in + money in - money out leaves unexplained of the available balance (usually 0)."""
        return self.position.available_minor - (
            self.carried_in_minor + self.money_in_minor - self.money_out_minor
        )


@dataclass(frozen=True)
class Movement:
    """One movement of a person's funds, as the statement shows it."""

    on: date
    stream_name: str
    description: str
    amount_minor: int  # signed: + money in, - money out
    currency: str
    is_set_aside: bool  # pending: set aside for an approved invoice, not yet paid

    @property
    def in_minor(self) -> int | None:
        return self.amount_minor if self.amount_minor > 0 else None

    @property
    def out_minor(self) -> int | None:
        return -self.amount_minor if self.amount_minor < 0 else None


def statement_for_holder(*, budget_holder: BudgetHolder, on: date) -> list[StreamStatement]:
    """Per stream the person has an active budget from on `on`, by stream code: the statement's figures."""
    positions = budget_positions_for_holder(budget_holder=budget_holder, on=on)
    if not positions:
        return []
    keys = {
        position.stream_code: accounts.person_funds_key(
            budget_holder_public_id=budget_holder.public_id, stream_code=position.stream_code
        )
        for position in positions
    }
    by_key = dict(Account.objects.filter(key__in=keys.values()).values_list("key", "pk"))
    account_ids = {code: by_key.get(key) for code, key in keys.items()}
    before = Q(pk__in=[])
    for position in positions:
        if account_ids[position.stream_code] is not None:
            before |= Q(
                account_id=account_ids[position.stream_code], effective_on__lt=position.period_starts_on
            )
    carried: dict[int, int] = {}
    for row in (
        Posting.objects.filter(before, kind=TransactionKind.POSTED)
        .values("account_id", "side")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    ):
        signed = row["total"] if row["side"] == Side.CREDIT else -row["total"]
        carried[row["account_id"]] = carried.get(row["account_id"], 0) + signed
    return [
        StreamStatement(
            position=position,
            account_id=account_ids[position.stream_code],
            carried_in_minor=carried.get(account_ids[position.stream_code] or 0, 0),
        )
        for position in positions
    ]


def statement_movements(*, statements: list[StreamStatement]) -> QuerySet[Posting]:
    """The movements of the statement's funds accounts, newest first, with their transactions (to page)."""
    condition = Q(pk__in=[])
    for statement in statements:
        if statement.account_id is None:
            continue
        condition |= Q(
            account_id=statement.account_id,
            kind=TransactionKind.POSTED,
            effective_on__gte=statement.position.period_starts_on,
        ) | Q(
            account_id=statement.account_id,
            kind=TransactionKind.PENDING,
            side=Side.DEBIT,
            transaction__resolution__isnull=True,
        )
    return Posting.objects.filter(condition).select_related("transaction").order_by("-effective_on", "-id")


def movement_rows(*, postings: list[Posting], statements: list[StreamStatement]) -> list[Movement]:
    """Postings (a page of `statement_movements`) as the statement's rows, described in plain English."""
    streams = {statement.account_id: statement.position for statement in statements if statement.account_id}
    rows = []
    for posting in postings:
        position = streams[posting.account_id]
        sign = 1 if posting.side == Side.CREDIT else -1
        rows.append(
            Movement(
                on=posting.effective_on,
                stream_name=position.stream_name,
                description=_describe(posting, stream_name=position.stream_name),
                amount_minor=sign * posting.amount_minor,
                currency=position.currency,
                is_set_aside=posting.kind == TransactionKind.PENDING,
            )
        )
    return rows


def _describe(posting: Posting, *, stream_name: str) -> str:
    kind = (posting.transaction.metadata or {}).get("kind")
    if kind == KIND_INSTALMENT:
        return f"Payment in from {stream_name}"
    if kind == KIND_ADJUSTMENT:
        more = posting.side == Side.CREDIT
        return f"Budget change: {'more' if more else 'less'} for days already paid for"
    if kind == "invoice_reservation":
        description = posting.transaction.description
        return f"Set aside for {description[:1].lower()}{description[1:]}"
    return posting.transaction.description
