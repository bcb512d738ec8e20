"""Reading reconciliation: accounts, imports and their lines with what each matched and why, and the report.

Every list reads a fixed number of queries whatever its length (lines come with their matches, items and
transactions prefetched).

The report of an account for a period explains the difference between the bank's balance and the ledger's
at the period's end, from the first statement line ever imported (the start of reconciliation):

    bank balance - ledger balance
        = the difference at the start (the statements' opening balance against the ledger's balance then)
        + the bank lines not matched (money the bank moved that the ledger does not show yet)
        - the ledger transactions not matched (money the ledger shows that the bank has not moved yet)
        + matches across the period's end (a line inside it matched to a transaction outside, or back)
        + anything else: the unexplained difference, which must be nothing for a period to be reconciled.

Money on its way through a transit account (Bacs payments recorded, not yet seen at the bank) is listed
too; it is not in the ledger account's balance until a bank line settles it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from ledger.errors import DomainError
from ledger.models import Transaction
from ledger.reconciliation import matching
from ledger.reconciliation.models import (
    IN_FORCE,
    LineState,
    MatchItem,
    MatchStatus,
    ReconciledPeriod,
    ReconciliationAccount,
    ReconciliationMatch,
    StatementImport,
    StatementLine,
)
from ledger.selectors import account_balance


class ReconciliationNotFound(DomainError):
    code = "not_found"
    http_status = 404
    message = "There is nothing here by that id."


def reconciliation_accounts() -> QuerySet[ReconciliationAccount]:
    return ReconciliationAccount.objects.select_related("ledger_account").order_by("name", "pk")


def reconciliation_account_get(*, public_id: str) -> ReconciliationAccount:
    account = reconciliation_accounts().filter(public_id=public_id).first()
    if account is None:
        raise ReconciliationNotFound(f"There is no reconciliation account {public_id!r}.")
    return account


def statement_imports(*, account: ReconciliationAccount | None = None) -> QuerySet[StatementImport]:
    """Imports, newest first, each annotated with its lines' counts by state (`matched`, `suggested`,
    `unmatched`)."""
    imports = StatementImport.objects.select_related("account")
    if account is not None:
        imports = imports.filter(account=account)
    return imports.annotate(
        matched=Count("lines", filter=Q(lines__state=LineState.MATCHED)),
        suggested=Count("lines", filter=Q(lines__state=LineState.SUGGESTED)),
        unmatched=Count("lines", filter=Q(lines__state=LineState.UNMATCHED)),
    ).order_by("-created_at", "-pk")


def statement_import_get(*, public_id: str) -> StatementImport:
    found = statement_imports().filter(public_id=public_id).first()
    if found is None:
        raise ReconciliationNotFound(f"There is no statement import {public_id!r}.")
    return found


def _with_matches(lines: QuerySet[StatementLine]) -> QuerySet[StatementLine]:
    in_force = (
        ReconciliationMatch.objects.filter(status__in=IN_FORCE)
        .order_by("status", "pk")  # "matched" before "suggested"
        .prefetch_related(
            Prefetch("items", queryset=MatchItem.objects.select_related("transaction").order_by("pk"))
        )
    )
    return lines.prefetch_related(Prefetch("matches", queryset=in_force, to_attr="matches_in_force"))


def import_lines(*, statement_import: StatementImport, state: str | None = None) -> QuerySet[StatementLine]:
    """The import's lines in file order, with their matches and suggestions in force."""
    lines = StatementLine.objects.filter(statement_import=statement_import)
    if state:
        lines = lines.filter(state=state)
    return _with_matches(lines.select_related("statement_import", "account").order_by("line_number", "pk"))


def account_lines(
    *,
    account: ReconciliationAccount,
    state: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[StatementLine]:
    lines = StatementLine.objects.filter(account=account)
    if state:
        lines = lines.filter(state=state)
    if start:
        lines = lines.filter(booked_on__gte=start)
    if end:
        lines = lines.filter(booked_on__lte=end)
    return _with_matches(lines.select_related("statement_import", "account").order_by("booked_on", "pk"))


def statement_line_get(*, public_id: str) -> StatementLine:
    found = _with_matches(StatementLine.objects.select_related("account", "statement_import")).filter(
        public_id=public_id
    )
    line = found.first()
    if line is None:
        raise ReconciliationNotFound(f"There is no statement line {public_id!r}.")
    return line


def match_get(*, public_id: str) -> ReconciliationMatch:
    found = (
        ReconciliationMatch.objects.select_related("line__account", "account")
        .prefetch_related(Prefetch("items", queryset=MatchItem.objects.select_related("transaction")))
        .filter(public_id=public_id)
        .first()
    )
    if found is None:
        raise ReconciliationNotFound(f"There is no match {public_id!r}.")
    return found


def match_history(*, line: StatementLine) -> QuerySet[ReconciliationMatch]:
    """Every match and suggestion the line ever had, newest first: who made and decided each, and when."""
    return line.matches.prefetch_related(
        Prefetch("items", queryset=MatchItem.objects.select_related("transaction"))
    ).order_by("-created_at", "-pk")


def reconciled_periods(*, account: ReconciliationAccount) -> QuerySet[ReconciledPeriod]:
    return ReconciledPeriod.objects.filter(account=account).order_by("-period_end")


# The report ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportItem:
    on: date
    amount_minor: int
    reference: str
    description: str
    id: str


@dataclass
class ReconciliationReport:
    account: ReconciliationAccount
    period_start: date
    period_end: date
    started_on: date | None  # the first statement line ever imported
    opening_known: bool
    bank_opening_minor: int  # at the start of the period
    bank_balance_minor: int  # at the end of the period
    ledger_opening_minor: int
    ledger_balance_minor: int
    lines_in_period: int
    matched_count: int
    matched_minor: int
    suggested_count: int
    suggested_minor: int
    unmatched_count: int
    unmatched_minor: int
    start_difference_minor: int
    unmatched_lines_minor: int  # through the end, all of reconciliation
    unmatched_items_minor: int
    across_period_end_minor: int
    statement_balance_problem: str
    unmatched_lines: list[ReportItem] = field(default_factory=list)
    unmatched_items: list[ReportItem] = field(default_factory=list)
    in_transit: list[ReportItem] = field(default_factory=list)
    reconciled: ReconciledPeriod | None = None

    def money(self, amount_minor: int) -> str:
        return matching.money_words(amount_minor, currency=self.account.currency)

    @property
    def difference_minor(self) -> int:
        return self.bank_balance_minor - self.ledger_balance_minor

    @property
    def unexplained_minor(self) -> int:
        return (
            self.difference_minor
            - self.start_difference_minor
            - self.unmatched_lines_minor
            + self.unmatched_items_minor
            - self.across_period_end_minor
        )

    @property
    def ledger_moved(self) -> bool:
        """Whether the ledger account moved in the period (a period without statement lines can be
        reconciled only when it did not: a Stripe balance unused that month)."""
        return self.ledger_opening_minor != self.ledger_balance_minor or any(
            self.period_start <= item.on <= self.period_end for item in self.unmatched_items
        )

    @property
    def in_transit_minor(self) -> int:
        return sum(item.amount_minor for item in self.in_transit)


def _day_before(day: date) -> date:
    return day - timedelta(days=1) if day > date.min else day


def _lines_sum(lines: QuerySet[StatementLine]) -> int:
    return int(lines.aggregate(total=Sum("amount_minor"))["total"] or 0)


def reconciliation_report(
    *, account: ReconciliationAccount, period_start: date, period_end: date
) -> ReconciliationReport:
    lines = StatementLine.objects.filter(account=account)
    started_on = lines.order_by("booked_on").values_list("booked_on", flat=True).first()
    before_start = _day_before(started_on or period_start)
    ledger_at_start = account_balance(account=account.ledger_account, on=before_start).posted_minor
    first_import = (
        StatementImport.objects.filter(account=account, lines__booked_on=started_on)
        .order_by("period_start", "pk")
        .first()
        if started_on
        else None
    )
    opening_known = bool(first_import and first_import.opening_balance_minor is not None)
    bank_start = first_import.opening_balance_minor if opening_known else ledger_at_start

    def bank_on(day: date) -> int:
        return bank_start + _lines_sum(lines.filter(booked_on__lte=day))

    period = lines.filter(booked_on__gte=period_start, booked_on__lte=period_end)
    counts = {
        row["state"]: (row["count"], int(row["total"] or 0))
        for row in period.values("state").annotate(count=Count("pk"), total=Sum("amount_minor")).order_by()
    }
    not_matched = (
        lines.filter(booked_on__lte=period_end).exclude(state=LineState.MATCHED).order_by("booked_on", "pk")
    )
    unmatched_lines = [
        ReportItem(
            on=line.booked_on,
            amount_minor=line.amount_minor,
            reference=line.reference,
            description=line.description,
            id=line.public_id,
        )
        for line in not_matched.only("booked_on", "amount_minor", "reference", "description", "public_id")
    ]
    unmatched_items: list[ReportItem] = []
    in_transit: list[ReportItem] = []
    if started_on is not None and started_on <= period_end:
        transit_pks = list(account.transit_accounts.values_list("pk", flat=True))
        for candidate in matching.candidates_load(
            account=account,
            start=started_on,
            end=period_end,
            ledger_account_pk=account.ledger_account_id,
            transit_pks=transit_pks,
            batch_keys=[],
        ):
            cash = candidate.amount_minor - candidate.transit_minor
            item = ReportItem(
                on=candidate.effective_on,
                amount_minor=cash,
                reference=candidate.public_id,
                description=candidate.description,
                id=candidate.public_id,
            )
            if cash:
                unmatched_items.append(item)
            if candidate.transit_minor:
                in_transit.append(
                    ReportItem(
                        on=candidate.effective_on,
                        amount_minor=candidate.transit_minor,
                        reference=candidate.public_id,
                        description=candidate.description,
                        id=candidate.public_id,
                    )
                )
    # Matches across the period's end: the cash part of claimed items, by where the line and the item fall.
    claimed = MatchItem.objects.filter(account=account, claimed=True, match__status=MatchStatus.MATCHED)
    inside = Q(
        transaction__effective_on__gte=started_on or period_start, transaction__effective_on__lte=period_end
    )
    across = int(
        claimed.filter(match__line__booked_on__lte=period_end, in_transit=False)
        .exclude(inside)
        .aggregate(total=Sum("amount_minor"))["total"]
        or 0
    ) - int(
        claimed.filter(inside, match__line__booked_on__gt=period_end, in_transit=False).aggregate(
            total=Sum("amount_minor")
        )["total"]
        or 0
    )
    bank_balance = bank_on(period_end)
    problem = ""
    last_stated = (
        StatementImport.objects.filter(account=account, period_end__lte=period_end)
        .exclude(closing_balance_minor=None)
        .order_by("-period_end", "-pk")
        .first()
    )
    if opening_known and last_stated is not None:
        computed = bank_on(last_stated.period_end)
        if computed != last_stated.closing_balance_minor:
            stated = matching.money_words(last_stated.closing_balance_minor, currency=account.currency)
            added = matching.money_words(computed, currency=account.currency)
            problem = (
                f"Statement {last_stated.public_id} ends at {stated}, but the lines imported add up to "
                f"{added}: a statement between them may be missing."
            )
    return ReconciliationReport(
        account=account,
        period_start=period_start,
        period_end=period_end,
        started_on=started_on,
        opening_known=opening_known,
        bank_opening_minor=bank_on(_day_before(period_start)),
        bank_balance_minor=bank_balance,
        ledger_opening_minor=account_balance(
            account=account.ledger_account, on=_day_before(period_start)
        ).posted_minor,
        ledger_balance_minor=account_balance(account=account.ledger_account, on=period_end).posted_minor,
        lines_in_period=sum(count for count, _ in counts.values()),
        matched_count=counts.get(LineState.MATCHED, (0, 0))[0],
        matched_minor=counts.get(LineState.MATCHED, (0, 0))[1],
        suggested_count=counts.get(LineState.SUGGESTED, (0, 0))[0],
        suggested_minor=counts.get(LineState.SUGGESTED, (0, 0))[1],
        unmatched_count=counts.get(LineState.UNMATCHED, (0, 0))[0],
        unmatched_minor=counts.get(LineState.UNMATCHED, (0, 0))[1],
        start_difference_minor=bank_start - ledger_at_start,
        unmatched_lines_minor=sum(item.amount_minor for item in unmatched_lines),
        unmatched_items_minor=sum(item.amount_minor for item in unmatched_items),
        across_period_end_minor=across,
        statement_balance_problem=problem,
        unmatched_lines=unmatched_lines,
        unmatched_items=unmatched_items,
        in_transit=in_transit,
        reconciled=ReconciledPeriod.objects.filter(account=account, period_end=period_end).first(),
    )


def transactions_of(*, public_ids: list[str]) -> QuerySet[Transaction]:
    return Transaction.objects.filter(public_id__in=public_ids)
