"""An agency's statement for one funding stream and a period: a line for each person the stream funds, and
totals. The agency sees only its own stream's money: every figure is of the person's funds account for that
stream (`person:<per>:stream:<CODE>:funds`), read by `statements.figures`.

Each person's line:

* **allocated**: the amount of their budget from the stream in force at the period end, for its whole
  budget period (none if no budget was in force then);
* **opening**, **money in** (instalments and budget changes), **spent** (money out), **closing**,
  **reserved** (approved invoices not yet paid) and **available** at the period end: the ledger's figures;
* **received**: instalments the agency paid in the period (their receipt date);
* **spent by category**: the stream's part of the invoice lines paid in the period (scaled to what the
  ledger posted for the invoice, so a part payment counts only as far as it was paid), by the spending
  category of the line's service; anything else paid out (not an invoice's) is "Other spending";
* **spent by outcome**: the same parts by the person's outcomes (split equally between a line's outcomes, to
  the penny);
* **weeks held** and **surplus reclaimable** at the period end, by the budget's rules
  (`budgets.selectors.positions`).

Totals add up the lines (weeks held is per person, not added). The lines are read a batch of people at a
time (`agency_lines`, a fixed number of queries per batch); `agency_totals` reads the whole stream in a fixed
number of queries, streaming rows rather than holding them, so that a JSON page of people and its totals
take the same number of queries for ten people or ten thousand.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby

from django.db.models import Q, QuerySet, Sum

from budgets.models import FundingStream, Instalment, InstalmentStatus, PersonalBudget, Service
from invoicing.models import InvoiceLineFunding
from ledger.models import Account, PendingOutcome, Posting, Side, TransactionKind
from ledger.money import money_allocate
from people.models import BudgetHolder
from plans.models import Outcome
from statements.figures import Figures, figures_iter
from statements.period import Period
from statements.person import KIND_INVOICE_PAYMENT, NO_OUTCOME, OTHER_SPENDING, budgets_in_force, stream_part

BATCH_SIZE = 500
UNCATEGORISED = "Not in a spending category"


@dataclass(frozen=True)
class AgencyLine:
    """One person's line on the agency statement (minor units)."""

    budget_holder_public_id: str
    name: str
    figures: Figures
    received_minor: int
    personal_budget_public_id: str | None
    allocated_minor: int
    weekly_equivalent_minor: int | None
    weeks_held: Decimal | None
    surplus_minor: int
    by_category: dict[str, int]
    by_outcome: dict[str, int]


@dataclass
class AgencyTotals:
    people: int = 0
    allocated_minor: int = 0
    opening_minor: int = 0
    money_in_minor: int = 0
    received_minor: int = 0
    spent_minor: int = 0
    reclaimed_minor: int = 0
    reserved_minor: int = 0
    closing_minor: int = 0
    available_minor: int = 0
    surplus_minor: int = 0
    by_category: dict[str, int] = field(default_factory=dict)

    def add(self, line: AgencyLine) -> None:
        """Add a person's line (how the tests check the totals against the lines)."""
        self.people += 1
        self.allocated_minor += line.allocated_minor
        self.opening_minor += line.figures.opening_minor
        self.money_in_minor += line.figures.money_in_minor
        self.received_minor += line.received_minor
        self.spent_minor += line.figures.money_out_minor
        self.reclaimed_minor += line.figures.reclaimed_minor
        self.reserved_minor += line.figures.reserved_minor
        self.closing_minor += line.figures.closing_minor
        self.available_minor += line.figures.available_minor
        self.surplus_minor += line.surplus_minor
        for label, amount in line.by_category.items():
            self.by_category[label] = self.by_category.get(label, 0) + amount


def funds_suffix(stream: FundingStream) -> str:
    return f":stream:{stream.code}:funds"


def funded_people(*, stream: FundingStream, period: Period) -> QuerySet[BudgetHolder]:
    """The people on the stream's statement for the period, by public id: everyone with money from the
    stream (a funds account with postings by the period end) or a budget from it overlapping the period."""
    with_money = Account.objects.filter(
        key__startswith="person:",
        key__endswith=funds_suffix(stream),
        postings__effective_on__lte=period.ends_on,
    ).values("owner_id")
    with_budget = PersonalBudget.objects.filter(
        stream=stream, starts_on__lte=period.ends_on, ends_on__gte=period.starts_on
    ).values("budget_holder_id")
    return BudgetHolder.objects.filter(Q(public_id__in=with_money) | Q(pk__in=with_budget)).order_by(
        "public_id"
    )


def people_batches(
    *, stream: FundingStream, period: Period, size: int = BATCH_SIZE
) -> Iterator[list[BudgetHolder]]:
    """The stream's people in batches, by public id (keyset pages, so nothing is held but one batch)."""
    after = ""
    while True:
        batch = list(funded_people(stream=stream, period=period).filter(public_id__gt=after)[:size])
        if not batch:
            return
        yield batch
        after = batch[-1].public_id


def agency_lines(*, stream: FundingStream, period: Period, people: list[BudgetHolder]) -> list[AgencyLine]:
    """The lines of these people (a batch or page of `funded_people`), in the same order; eight queries."""
    if not people:
        return []
    public_ids = [holder.public_id for holder in people]
    keys = [f"person:{public_id}{funds_suffix(stream)}" for public_id in public_ids]
    accounts = dict(Account.objects.filter(key__in=keys).values_list("owner_id", "pk"))
    figures = {row.owner_id: row for row in figures_iter(account_ids=accounts.values(), **period.bounds)}
    budgets: dict[int, PersonalBudget] = {}
    for budget in budgets_in_force(holder_ids=Q(budget_holder__in=people, stream=stream), on=period.ends_on):
        budgets.setdefault(budget.budget_holder_id, budget)
    received = dict(
        _received(stream=stream, period=period)
        .filter(personal_budget__budget_holder__in=people)
        .values("personal_budget__budget_holder_id")
        .annotate(total=Sum("amount_minor"))
        .order_by()
        .values_list("personal_budget__budget_holder_id", "total")
    )
    by_category: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_outcome_ids: dict[int, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
    for holder_id, category, amount, outcome_ids in _paid_shares(stream=stream, period=period, people=people):
        by_category[holder_id][category] += amount
        ids = [public_id for public_id in outcome_ids or [] if isinstance(public_id, str)] or [None]
        for target, part in zip(ids, money_allocate(amount, weights=[1] * len(ids)), strict=True):
            by_outcome_ids[holder_id][target] += part
    categories = _category_names(stream, {code for parts in by_category.values() for code in parts})
    words = dict(
        Outcome.objects.filter(
            version__plan__budget_holder__in=people,
            public_id__in={i for parts in by_outcome_ids.values() for i in parts if i is not None},
        )
        .order_by("version__number")
        .values_list("public_id", "in_own_words")
    )
    lines = []
    for holder in people:
        row = figures.get(holder.public_id) or Figures(account_id=accounts.get(holder.public_id, 0))
        budget = budgets.get(holder.pk)
        part = stream_part(stream, row, budget)
        named: dict[str, int] = defaultdict(int)
        for code, amount in by_category[holder.pk].items():
            named[categories.get(code, UNCATEGORISED)] += amount
        other = row.money_out_minor - sum(named.values())
        if other:
            named[OTHER_SPENDING] += other
        outcomes: dict[str, int] = defaultdict(int)
        for public_id, amount in by_outcome_ids[holder.pk].items():
            outcomes[words.get(public_id, NO_OUTCOME) if public_id else NO_OUTCOME] += amount
        if other:
            outcomes[OTHER_SPENDING] += other
        lines.append(
            AgencyLine(
                budget_holder_public_id=holder.public_id,
                name=holder.full_name,
                figures=row,
                received_minor=received.get(holder.pk, 0),
                personal_budget_public_id=part.personal_budget_public_id,
                allocated_minor=part.allocated_minor or 0,
                weekly_equivalent_minor=part.weekly_equivalent_minor,
                weeks_held=part.weeks_held,
                surplus_minor=part.surplus_minor,
                by_category=dict(sorted(named.items())),
                by_outcome=dict(sorted(outcomes.items())),
            )
        )
    return lines


def agency_totals(*, stream: FundingStream, period: Period) -> AgencyTotals:
    """The statement's totals for the whole stream in a fixed number of queries (see the module docstring);
    they equal the sum of every person's line."""
    totals = AgencyTotals()
    people = funded_people(stream=stream, period=period)
    totals.people = people.count()
    rows = figures_iter(
        account_ids=None,
        accounts_q=Q(account__key__startswith="person:", account__key__endswith=funds_suffix(stream)),
        order_by="account__owner_id",
        **period.bounds,
    )
    budgets = (
        budgets_in_force(holder_ids=Q(stream=stream), on=period.ends_on)
        .select_related("budget_holder")
        .order_by("budget_holder__public_id", "-version")
    )
    for figures, budget in _merge(rows, _newest_per_holder(budgets.iterator(chunk_size=2000))):
        part = stream_part(stream, figures, budget)
        totals.allocated_minor += part.allocated_minor or 0
        totals.opening_minor += figures.opening_minor
        totals.money_in_minor += figures.money_in_minor
        totals.spent_minor += figures.money_out_minor
        totals.reclaimed_minor += figures.reclaimed_minor
        totals.reserved_minor += figures.reserved_minor
        totals.closing_minor += figures.closing_minor
        totals.available_minor += figures.available_minor
        totals.surplus_minor += part.surplus_minor
    totals.received_minor = _received(stream=stream, period=period).aggregate(
        total=Sum("amount_minor", default=0)
    )["total"]
    categorised: dict[str, int] = defaultdict(int)
    codes: dict[str, int] = defaultdict(int)
    for _holder_id, code, amount, _outcomes in _paid_shares(stream=stream, period=period):
        codes[code] += amount
    names = _category_names(stream, set(codes))
    for code, amount in codes.items():
        categorised[names.get(code, UNCATEGORISED)] += amount
    other = totals.spent_minor - sum(categorised.values())
    if other:
        categorised[OTHER_SPENDING] += other
    totals.by_category = dict(sorted(categorised.items()))
    return totals


def _newest_per_holder(budgets: Iterator[PersonalBudget]) -> Iterator[PersonalBudget]:
    last = None
    for budget in budgets:
        if budget.budget_holder.public_id != last:
            last = budget.budget_holder.public_id
            yield budget


def _merge(
    rows: Iterator[Figures], budgets: Iterator[PersonalBudget]
) -> Iterator[tuple[Figures, PersonalBudget | None]]:
    """Pair each person's figures with their budget; both come in budget holder public id order."""
    zero = Figures(account_id=0)
    row, budget = next(rows, None), next(budgets, None)
    while row is not None or budget is not None:
        budget_owner = budget.budget_holder.public_id if budget is not None else None
        if row is not None and (budget_owner is None or row.owner_id < budget_owner):
            yield row, None
            row = next(rows, None)
        elif row is not None and row.owner_id == budget_owner:
            yield row, budget
            row, budget = next(rows, None), next(budgets, None)
        else:
            yield zero, budget  # a budget in force, no money moved yet
            budget = next(budgets, None)


def _received(*, stream: FundingStream, period: Period) -> QuerySet[Instalment]:
    return Instalment.objects.filter(
        personal_budget__stream=stream,
        status=InstalmentStatus.RECEIVED,
        received_on__range=(period.starts_on, period.ends_on),
    )


def _paid_shares(
    *, stream: FundingStream, period: Period, people: list[BudgetHolder] | None = None
) -> Iterator[tuple[int, str, int, list]]:
    """What each invoice paid in the period spent, line by line: (holder pk, service code, amount, outcome
    ids) for the stream's part of each line. The parts are scaled to what the ledger posted for the
    invoice on the person's funds account (a part payment shares its amount between the lines in
    proportion, to the penny), so they add up to the ledger's payments. Two queries, streamed."""
    payments = Posting.objects.filter(
        account__key__startswith="person:",
        account__key__endswith=funds_suffix(stream),
        kind=TransactionKind.POSTED,
        side=Side.DEBIT,
        effective_on__range=(period.starts_on, period.ends_on),
        transaction__metadata__kind=KIND_INVOICE_PAYMENT,
    )
    parts = _paid_parts(stream=stream, period=period)
    if people is not None:
        payments = payments.filter(account__owner_id__in=[holder.public_id for holder in people])
        parts = parts.filter(line__invoice__budget_holder__in=people)
    posted: dict[str, int] = defaultdict(int)
    for invoice_id, amount in payments.values_list("transaction__metadata__invoice", "amount_minor").iterator(
        chunk_size=5000
    ):
        posted[str(invoice_id)] += amount
    rows = parts.values_list(
        "line__invoice__public_id",
        "line__invoice__budget_holder_id",
        "line__engagement__service_code",
        "amount_minor",
        "line__outcome_public_ids",
    ).order_by("line__invoice__public_id", "line__position", "pk")
    for invoice_id, group in groupby(rows.iterator(chunk_size=5000), key=lambda row: row[0]):
        lines = list(group)
        paid = posted.get(invoice_id, 0)
        amounts = [row[3] for row in lines]
        if paid != sum(amounts):
            amounts = money_allocate(paid, weights=amounts) if paid > 0 else [0] * len(amounts)
        for row, amount in zip(lines, amounts, strict=True):
            if amount:
                yield row[1], row[2], amount, row[4]


def _paid_parts(*, stream: FundingStream, period: Period) -> QuerySet[InvoiceLineFunding]:
    """The stream's parts of invoice lines whose invoice was paid (its reservation posted) in the period."""
    return InvoiceLineFunding.objects.filter(
        stream=stream,
        amount_minor__gt=0,
        line__invoice__reservation__resolution__outcome=PendingOutcome.POSTED,
        line__invoice__reservation__resolution__effective_on__range=(period.starts_on, period.ends_on),
    )


def _category_names(stream: FundingStream, codes: set[str]) -> dict[str, str]:
    codes = codes - {""}
    if not codes:
        return {}
    return {
        code: name
        for code, name in Service.objects.filter(service_code__in=codes).values_list(
            "service_code", "category__name"
        )
        if name
    }
