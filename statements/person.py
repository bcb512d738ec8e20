"""A person's statement for any period: what came in from each stream, what went out (to whom, for which
outcome), what is set aside, what is left, in plain English.

Every money figure comes from the ledger (`statements.figures`): per stream, opening + money in - money out
= closing, the posted balance of the person's funds account at the period end, to the penny. The lines
under "money out" are the ledger's payment postings in the period, each broken down into the invoice lines
it paid (the stream's part of each line, `InvoiceLineFunding`); a posting that does not add up to its
invoice's lines (a part payment, say) is shown whole, with its own description, so the lines always add up
to the total. "Set aside" is the same for reservations still pending at the period end.

Outcomes: a line serving several outcomes is split between them equally, to the penny
(`ledger.money.money_allocate`), so "money out by outcome" adds up to money out.

The rest is as it stood at the period end, so the same period gives the same statement whenever it is made:
the active budget then (weeks of funding held and any surplus, from `budgets.selectors.positions`' rules),
what was left on each support item of the plan version in force then, and the invoices waiting for a
decision then (from their append-only history).

Queries: a fixed number (about a dozen) whatever the number of streams, postings or invoice lines.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from budgets import accounts
from budgets.calculator import CashEquivalentInvalid
from budgets.models import FundingStream, PersonalBudget, PersonalBudgetStatus, Service
from budgets.selectors.positions import surplus_minor, weekly_equivalent_minor, weeks_held
from budgets.services.personal_budgets import KIND_ADJUSTMENT
from invoicing.models import Invoice, InvoiceEvent, InvoiceLine, InvoiceLineFunding, InvoiceStatus
from ledger.models import Account, PendingOutcome, Posting, Side, TransactionKind
from ledger.money import money_allocate
from people.models import BudgetHolder
from plans.models import PlanVersion, PlanVersionStatus
from plans.selectors import plans as plan_selectors
from statements.figures import Figures, figures_for
from statements.period import Period

KIND_INVOICE_PAYMENT = "invoice_payment"
KIND_INVOICE_RESERVATION = "invoice_reservation"
WAITING_STATUSES = (
    "submitted",
    InvoiceStatus.AWAITING_APPROVAL,
    InvoiceStatus.ON_HOLD,
    InvoiceStatus.QUERIED,
)
NO_OUTCOME = "Not linked to an outcome"
OTHER_SPENDING = "Other spending"


@dataclass(frozen=True)
class StreamPart:
    """One stream's money in the period (minor units) and, from its budget then, how long it would last."""

    stream_code: str
    stream_name: str
    currency: str
    figures: Figures
    personal_budget_public_id: str | None = None
    allocated_minor: int | None = None  # the budget's amount for its whole budget period
    budget_starts_on: date | None = None
    budget_ends_on: date | None = None
    weekly_equivalent_minor: int | None = None
    weeks_held: Decimal | None = None
    surplus_threshold_weeks: Decimal | None = None
    surplus_minor: int = 0


@dataclass(frozen=True)
class SpendingLine:
    """One thing the money paid for (or is set aside for): an invoice line's part from one stream, or a
    movement of the ledger that is not an invoice's (wages, a purchase, a correction)."""

    on: date  # the day the money moved (paid) or was set aside
    stream_code: str
    stream_name: str
    amount_minor: int
    description: str
    provider_name: str = ""
    invoice_number: str = ""
    service_date: date | None = None
    category_name: str = ""
    outcomes: tuple[str, ...] = ()  # the outcome words, as the person wrote them
    outcome_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Total:
    """A labelled amount: money out to one provider, for one outcome, in one category."""

    label: str
    amount_minor: int


@dataclass(frozen=True)
class ItemLeft:
    """What is left on one support item of the plan version in force at the period end."""

    description: str
    stream_name: str
    planned_minor: int
    spent_minor: int

    @property
    def left_minor(self) -> int:
        return self.planned_minor - self.spent_minor


@dataclass(frozen=True)
class WaitingInvoice:
    number: str
    provider_name: str
    total_minor: int
    currency: str
    submitted_on: date
    status: str


@dataclass(frozen=True)
class PersonStatement:
    budget_holder_public_id: str
    name: str
    period: Period
    currency: str
    streams: list[StreamPart]
    money_out: list[SpendingLine]
    set_aside: list[SpendingLine]
    by_provider: list[Total]
    by_outcome: list[Total]
    items_left: list[ItemLeft]
    waiting: list[WaitingInvoice]
    plan_version: str | None = None
    notes: list[str] = field(default_factory=list)

    def _total(self, name: str) -> int:
        return sum(getattr(part.figures, name) for part in self.streams)

    @property
    def opening_minor(self) -> int:
        return self._total("opening_minor")

    @property
    def money_in_minor(self) -> int:
        return self._total("money_in_minor")

    @property
    def money_out_minor(self) -> int:
        return self._total("money_out_minor")

    @property
    def reclaimed_minor(self) -> int:
        return self._total("reclaimed_minor")

    @property
    def closing_minor(self) -> int:
        return self._total("closing_minor")

    @property
    def reserved_minor(self) -> int:
        return self._total("reserved_minor")

    @property
    def available_minor(self) -> int:
        return self._total("available_minor")

    @property
    def surplus_minor(self) -> int:
        return sum(part.surplus_minor for part in self.streams)


def person_statement(*, budget_holder: BudgetHolder, period: Period) -> PersonStatement:
    """The person's statement for `period` (see the module docstring)."""
    funds = _funds_accounts(budget_holder)
    figures = figures_for(account_ids=[account.pk for account in funds.values()], **period.bounds)
    budgets = _budgets_at(budget_holder, on=period.ends_on)
    streams = {
        stream.code: stream
        for stream in FundingStream.objects.filter(code__in=set(funds) | set(budgets)).order_by("code")
    }
    currency = next(iter(funds.values())).currency if funds else "GBP"
    parts = []
    for code, stream in streams.items():
        account = funds.get(code)
        stream_figures = figures[account.pk] if account is not None else Figures(account_id=0)
        budget = budgets.get(code)
        if account is None and budget is None:
            continue
        parts.append(_stream_part(stream, stream_figures, budget))

    by_account = {account.pk: code for code, account in funds.items()}
    names = {code: stream.name for code, stream in streams.items()}
    money_out, set_aside = _spending_lines(
        by_account=by_account, names=names, period=period, budget_holder=budget_holder
    )
    words = plan_selectors.outcome_words(
        budget_holder=budget_holder,
        public_ids={public_id for line in money_out + set_aside for public_id in line.outcome_ids},
    )
    money_out = [_with_words(line, words) for line in money_out]
    set_aside = [_with_words(line, words) for line in set_aside]
    version = _version_at(budget_holder, on=period.ends_on)
    return PersonStatement(
        budget_holder_public_id=budget_holder.public_id,
        name=budget_holder.name_to_use,
        period=period,
        currency=currency,
        streams=parts,
        money_out=money_out,
        set_aside=set_aside,
        by_provider=_totals(money_out, key=lambda line: line.provider_name or OTHER_SPENDING),
        by_outcome=_outcome_totals(money_out, words),
        items_left=_items_left(version, budget_holder=budget_holder, on=period.ends_on),
        waiting=_waiting(budget_holder, on=period.ends_on),
        plan_version=version.public_id if version is not None else None,
    )


# Accounts and budgets -------------------------------------------------------------------------------------


def _funds_accounts(budget_holder: BudgetHolder) -> dict[str, Account]:
    """The person's funds accounts, by stream code (key `person:<per>:stream:<CODE>:funds`)."""
    prefix = f"person:{budget_holder.public_id}:stream:"
    found = Account.objects.filter(
        owner_type=accounts.OWNER_BUDGET_HOLDER, owner_id=budget_holder.public_id, key__startswith=prefix
    ).filter(key__endswith=":funds")
    return {account.key[len(prefix) : -len(":funds")]: account for account in found}


def budgets_in_force(*, holder_ids: Q, on: date) -> QuerySet[PersonalBudget]:
    """The personal budgets in force on a day: per person and stream, the newest version (active or since
    superseded) whose period contains the day and whose amount applied from then or earlier. (A change made
    later but taking effect earlier counts: what was sent before it is the issued statement.)"""
    return (
        PersonalBudget.objects.filter(
            holder_ids,
            status__in=(PersonalBudgetStatus.ACTIVE, PersonalBudgetStatus.SUPERSEDED),
            starts_on__lte=on,
            ends_on__gte=on,
            effective_from__lte=on,
        )
        .select_related("stream")
        .order_by("budget_holder_id", "stream_id", "-version")
    )


def _budgets_at(budget_holder: BudgetHolder, *, on: date) -> dict[str, PersonalBudget]:
    chosen: dict[str, PersonalBudget] = {}
    for budget in budgets_in_force(holder_ids=Q(budget_holder=budget_holder), on=on):
        chosen.setdefault(budget.stream.code, budget)
    return chosen


def stream_part(stream: FundingStream, figures: Figures, budget: PersonalBudget | None) -> StreamPart:
    """A stream's figures with what its budget then makes of them (weeks held, surplus)."""
    return _stream_part(stream, figures, budget)


def _stream_part(stream: FundingStream, figures: Figures, budget: PersonalBudget | None) -> StreamPart:
    if budget is None:
        return StreamPart(
            stream_code=stream.code, stream_name=stream.name, currency=stream.currency, figures=figures
        )
    weekly = weekly_equivalent_minor(budget)
    available = figures.available_minor
    return StreamPart(
        stream_code=stream.code,
        stream_name=stream.name,
        currency=budget.currency,
        figures=figures,
        personal_budget_public_id=budget.public_id,
        allocated_minor=budget.amount_minor,
        budget_starts_on=budget.starts_on,
        budget_ends_on=budget.ends_on,
        weekly_equivalent_minor=weekly,
        weeks_held=weeks_held(available, weekly),
        surplus_threshold_weeks=stream.surplus_threshold_weeks,
        surplus_minor=surplus_minor(available_minor=available, budget=budget, weekly_minor=weekly),
    )


# Money out and set aside ----------------------------------------------------------------------------------


def _spending_lines(
    *, by_account: dict[int, str], names: dict[str, str], period: Period, budget_holder: BudgetHolder
) -> tuple[list[SpendingLine], list[SpendingLine]]:
    if not by_account:
        return [], []
    paid = (
        Posting.objects.filter(
            account_id__in=list(by_account),
            kind=TransactionKind.POSTED,
            side=Side.DEBIT,
            effective_on__range=(period.starts_on, period.ends_on),
        )
        .filter(Q(transaction__metadata__kind__isnull=True) | ~Q(transaction__metadata__kind=KIND_ADJUSTMENT))
        .select_related("transaction")
        .order_by("effective_on", "pk")
    )
    pending = (
        Posting.objects.filter(
            account_id__in=list(by_account),
            kind=TransactionKind.PENDING,
            side=Side.DEBIT,
            effective_on__lte=period.ends_on,
        )
        .filter(
            Q(transaction__resolution__isnull=True)
            | Q(transaction__resolution__effective_on__gt=period.ends_on)
        )
        .select_related("transaction")
        .order_by("effective_on", "pk")
    )
    paid, pending = list(paid), list(pending)
    invoice_ids = {
        (posting.transaction.metadata or {}).get("invoice")
        for posting in paid + pending
        if (posting.transaction.metadata or {}).get("kind")
        in (KIND_INVOICE_PAYMENT, KIND_INVOICE_RESERVATION)
    }
    invoices = invoice_breakdowns(public_ids={public_id for public_id in invoice_ids if public_id})
    return (
        _break_down(paid, by_account=by_account, names=names, invoices=invoices),
        _break_down(pending, by_account=by_account, names=names, invoices=invoices),
    )


@dataclass(frozen=True)
class _Part:
    line: InvoiceLine
    amount_minor: int
    category_name: str


@dataclass(frozen=True)
class InvoiceBreakdown:
    """An invoice's lines, split by the stream that pays each part."""

    invoice: Invoice
    parts: dict[str, list[_Part]]  # stream code -> the lines' parts it pays, in line order


def invoice_breakdowns(*, public_ids: set[str]) -> dict[str, InvoiceBreakdown]:
    """The invoices' lines and their streams' parts, by invoice public id (three or four queries)."""
    if not public_ids:
        return {}
    funding = Prefetch("funding", queryset=InvoiceLineFunding.objects.select_related("stream").order_by("pk"))
    lines = Prefetch(
        "lines",
        queryset=InvoiceLine.objects.select_related("engagement")
        .prefetch_related(funding)
        .order_by("position"),
    )
    invoices = list(
        Invoice.objects.filter(public_id__in=public_ids).select_related("provider").prefetch_related(lines)
    )
    codes = {line.engagement.service_code for invoice in invoices for line in invoice.lines.all()} - {""}
    categories = {
        code: name or ""
        for code, name in Service.objects.filter(service_code__in=codes).values_list(
            "service_code", "category__name"
        )
    }
    found = {}
    for invoice in invoices:
        parts: dict[str, list[_Part]] = defaultdict(list)
        for line in invoice.lines.all():
            category = categories.get(line.engagement.service_code, "")
            for part in line.funding.all():
                if part.amount_minor > 0:
                    parts[part.stream.code].append(_Part(line, part.amount_minor, category))
        found[invoice.public_id] = InvoiceBreakdown(invoice=invoice, parts=dict(parts))
    return found


def _break_down(
    postings: list[Posting],
    *,
    by_account: dict[int, str],
    names: dict[str, str],
    invoices: dict[str, InvoiceBreakdown],
) -> list[SpendingLine]:
    rows = []
    for posting in postings:
        code = by_account[posting.account_id]
        metadata = posting.transaction.metadata or {}
        breakdown = invoices.get(metadata.get("invoice") or "")
        parts = breakdown.parts.get(code, []) if breakdown is not None else []
        if breakdown is not None and sum(part.amount_minor for part in parts) == posting.amount_minor:
            invoice = breakdown.invoice
            for part in parts:
                ids = tuple(i for i in part.line.outcome_public_ids or [] if isinstance(i, str))
                rows.append(
                    SpendingLine(
                        on=posting.effective_on,
                        stream_code=code,
                        stream_name=names.get(code, code),
                        amount_minor=part.amount_minor,
                        description=part.line.description or part.line.engagement.description,
                        provider_name=invoice.provider.name,
                        invoice_number=invoice.invoice_number,
                        service_date=part.line.service_date,
                        category_name=part.category_name,
                        outcome_ids=ids,
                    )
                )
            continue
        provider_name = breakdown.invoice.provider.name if breakdown is not None else ""
        rows.append(
            SpendingLine(
                on=posting.effective_on,
                stream_code=code,
                stream_name=names.get(code, code),
                amount_minor=posting.amount_minor,
                description=posting.transaction.description,
                provider_name=provider_name,
                invoice_number=breakdown.invoice.invoice_number if breakdown is not None else "",
            )
        )
    return rows


def _with_words(line: SpendingLine, words: dict[str, str]) -> SpendingLine:
    if not line.outcome_ids:
        return line
    return SpendingLine(
        **{
            **line.__dict__,
            "outcomes": tuple(words.get(public_id, NO_OUTCOME) for public_id in line.outcome_ids),
        }
    )


def _totals(lines: list[SpendingLine], *, key) -> list[Total]:
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[key(line)] += line.amount_minor
    return [
        Total(label, amount) for label, amount in sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))
    ]


def outcome_shares(line: SpendingLine, words: dict[str, str]) -> list[tuple[str, int]]:
    """The line's amount split equally between its outcomes (by their words), to the penny."""
    if not line.invoice_number:
        return [(OTHER_SPENDING, line.amount_minor)]
    labels = [words.get(public_id, NO_OUTCOME) for public_id in line.outcome_ids] or [NO_OUTCOME]
    return list(zip(labels, money_allocate(line.amount_minor, weights=[1] * len(labels)), strict=True))


def _outcome_totals(lines: list[SpendingLine], words: dict[str, str]) -> list[Total]:
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        for label, amount in outcome_shares(line, words):
            totals[label] += amount
    return [
        Total(label, amount) for label, amount in sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))
    ]


# The plan and the invoices as they stood at the period end ------------------------------------------------


def _version_at(budget_holder: BudgetHolder, *, on: date) -> PlanVersion | None:
    version = (
        PlanVersion.objects.filter(
            plan__budget_holder=budget_holder,
            status__in=(PlanVersionStatus.ACTIVE, PlanVersionStatus.SUPERSEDED),
            effective_from__lte=on,
            ends_on__gte=on,
            starts_on__lte=on,
        )
        .order_by("-number")
        .first()
    )
    if version is None:
        return None
    return plan_selectors.plan_version_get(public_id=version.public_id)


def _items_left(version: PlanVersion | None, *, budget_holder: BudgetHolder, on: date) -> list[ItemLeft]:
    """Per support item: its planned cost (the version's costing) less what invoices approved by `on` (and
    not since voided by then) spent on it, for service dates in the version's days."""
    if version is None:
        return []
    items = plan_selectors.support_items_ordered(version=version)
    if not items:
        return []
    planned: dict[int, int] = defaultdict(int)
    try:
        costing = plan_selectors.plan_version_costing(version=version)
    except CashEquivalentInvalid:  # a version that can no longer be costed: planned shows as 0
        costing = None
    if costing is not None:
        for line in costing.lines:
            planned[line.item_index] += line.amount_minor + line.on_costs_minor
    spent = dict(
        InvoiceLine.objects.filter(
            invoice__budget_holder=budget_holder,
            invoice__reservation__effective_on__lte=on,
            service_date__range=(version.effective_from, version.ends_on),
            support_item_public_id__in=[item.public_id for item in items],
        )
        .exclude(
            invoice__reservation__resolution__outcome=PendingOutcome.VOIDED,
            invoice__reservation__resolution__effective_on__lte=on,
        )
        .values("support_item_public_id")
        .annotate(total=Sum("amount_minor"))
        .order_by()
        .values_list("support_item_public_id", "total")
    )
    return [
        ItemLeft(
            description=item.description,
            stream_name=item.stream.name,
            planned_minor=planned[index],
            spent_minor=spent.get(item.public_id, 0),
        )
        for index, item in enumerate(items)
    ]


def _waiting(budget_holder: BudgetHolder, *, on: date) -> list[WaitingInvoice]:
    """Invoices whose latest history entry by the end of `on` left them waiting for a decision."""
    end = timezone.make_aware(datetime.combine(on + timedelta(days=1), time.min))
    latest = InvoiceEvent.objects.filter(invoice=OuterRef("pk"), at__lt=end).order_by("-at", "-id")
    invoices = (
        Invoice.objects.filter(budget_holder=budget_holder, submitted_at__lt=end)
        .annotate(status_then=Subquery(latest.values("status")[:1]))
        .filter(status_then__in=WAITING_STATUSES)
        .select_related("provider")
        .order_by("submitted_at", "pk")
    )
    labels = dict(InvoiceStatus.choices) | {"submitted": "Waiting for approval"}
    return [
        WaitingInvoice(
            number=invoice.invoice_number,
            provider_name=invoice.provider.name,
            total_minor=invoice.total_minor,
            currency=invoice.currency,
            submitted_on=timezone.localdate(invoice.submitted_at),
            status=labels.get(invoice.status_then, invoice.status_then),
        )
        for invoice in invoices
    ]
