"""Invoicing services: submit, decide (approve, query, reject), withdraw, auto-approval rules, remittances.

Each function is one database transaction. Transitions lock the invoice row (`select_for_update`), check
the state it starts from under the lock, and write an `InvoiceEvent` and a timeline entry. Approval reserves
the money in the ledger inside the same transaction: the person's funds accounts may never go below zero,
and the ledger checks that under their row locks, so two approvals racing for the last of a budget can
never both succeed.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from budgets import accounts as budget_accounts
from budgets.calculator import Problem
from budgets.models import FundingStream
from invoicing import accounts
from invoicing.models import (
    COUNTING_STATUSES,
    UNDECIDED_STATUSES,
    AutoApprovalRule,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceLineFunding,
    InvoiceStatus,
    Remittance,
    RemittanceLine,
)
from ledger import services as ledger_services
from ledger.errors import DomainError, DomainErrors
from ledger.models import Account, Transaction
from ledger.money import (
    InvalidAmount,
    UnknownCurrency,
    currency_exponent,
    decimal_from_minor,
    minor_round,
    money_allocate,
    money_format,
    money_parse,
)
from people.access import may
from people.models import BudgetHolder, Organisation, Role, User
from people.services import audit_event_record
from plans.models import Engagement, PlanVersionStatus, SupportItem
from plans.services.timeline import timeline_record
from plans.wording import date_display, money_display

QUANTITY_DECIMALS = 2
QUANTITY_LIMIT = Decimal(10) ** 10  # what InvoiceLine.quantity holds: 12 digits, 2 of them decimals
REASON_MAX_LENGTH = 2000
INVOICE_MAX_LINES = 500


class InvoiceInvalid(DomainErrors):
    """A submission breaks api.md's rules; `errors` lists every failure as {code, pointer, detail}."""

    code = "invoice_invalid"
    message = "This invoice cannot be accepted."
    summary = "This invoice cannot be accepted"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__([problem.as_dict() for problem in problems])


class DuplicateInvoice(DomainError):
    code = "duplicate_invoice"
    message = "You have already submitted an invoice with this number."
    http_status = 409

    def __init__(self, message: str, *, existing: str) -> None:
        super().__init__(message)
        self.errors = [{"code": self.code, "pointer": "/invoice_number", "detail": message}]
        self.existing = existing


class InvoiceStateConflict(DomainError):
    code = "invalid_invoice_state"
    message = "The invoice is not in a state that allows this."
    http_status = 409


class NotAllowedToDecide(DomainError):
    code = "not_allowed_to_decide"
    message = "Only the budget holder, or a representative who may approve, decides this invoice."
    http_status = 403


class NotAllowedToWithdraw(DomainError):
    code = "not_allowed_to_withdraw"
    message = "Only the provider that sent an invoice may withdraw it."
    http_status = 403


class ReasonRequired(DomainError):
    code = "reason_required"
    message = "Say why, in a sentence the provider can act on."


class InvoiceInsufficientFunds(DomainError):
    code = "insufficient_funds"
    message = "There is not enough money left in the budget to approve this invoice."


class ProviderNotEngaged(DomainError):
    code = "provider_not_engaged"
    message = "That provider is not engaged for any of this person's support."


class InvalidAutoApprovalLimit(DomainError):
    code = "invalid_limit"
    message = "A limit is an amount above zero, or none."


class AutoApprovalRuleAlreadyRevoked(DomainError):
    code = "auto_approval_rule_revoked"
    message = "That auto-approval rule has already been stopped."
    http_status = 409


class NotAllowedToSetRules(DomainError):
    code = "not_allowed_to_set_rules"
    message = "Only the budget holder, or a representative who may approve, sets auto-approval rules."
    http_status = 403


class RemittanceInvalid(DomainError):
    code = "remittance_invalid"
    message = "That remittance cannot be recorded."


@dataclass(frozen=True, kw_only=True)
class InvoiceLineRequest:
    """One line as submitted; money as decimal strings with the currency's decimals ("24.50")."""

    support_item: str
    service_date: date
    quantity: Decimal
    unit_price: str
    amount: str
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class InvoiceRequest:
    """A submission, its shape already checked (types, dates, decimal strings)."""

    invoice_number: str
    person: str
    issued_on: date
    currency: str
    lines: tuple[InvoiceLineRequest, ...]
    total: str


@dataclass(frozen=True)
class _Line:
    """A submitted line with its money read (None where it could not be)."""

    request: InvoiceLineRequest
    unit_price_minor: int | None
    amount_minor: int | None


# Submission ---------------------------------------------------------------------------------------------


def invoice_submit(*, provider: Organisation, submitted_by: User, request: InvoiceRequest) -> Invoice:
    """Check a provider's invoice against every rule of api.md and store it, or store nothing.

    An invoice that passes goes to `awaiting_approval`; with findings (over the planned quantity, more than
    the budget holds) to `on_hold`; matching the person's auto-approval rule for the provider, to
    `approved`, its money reserved. Raises InvoiceInvalid (422, every failure listed) and DuplicateInvoice
    (409).
    """
    today = timezone.localdate()
    existing = (
        Invoice.objects.filter(provider=provider, invoice_number=request.invoice_number)
        .exclude(status=InvoiceStatus.WITHDRAWN)
        .values_list("public_id", flat=True)
        .first()
    )
    if existing is not None:
        raise _duplicate(request.invoice_number, existing)

    problems: list[Problem] = []
    lines, total_minor = _read_money(request, problems)
    if request.issued_on > today:
        problems.append(
            Problem(
                "future_issue_date",
                "/issued_on",
                f"{request.issued_on.isoformat()} is after today: date the invoice the day you send it, or "
                "earlier.",
            )
        )
    holder = _engaged_holder(provider=provider, person=request.person)
    if holder is None:
        problems.append(
            Problem(
                "unknown_person",
                "/person",
                f"{request.person} is not a person you are engaged to support. Check the person's id in "
                "GET /api/v1/engagements/.",
            )
        )
    engagements = _engagements_by_item(provider=provider, holder=holder)
    planned_items = _items_of_person(holder=holder, public_ids={line.support_item for line in request.lines})
    covering: list[Engagement | None] = []
    currency_reported = False
    for index, read in enumerate(lines):
        line = read.request
        at = f"/lines/{index}"
        engagement = None
        problems.extend(_line_arithmetic_problems(read, at=at, currency=request.currency, today=today))
        if holder is not None:
            own = engagements.get(line.support_item, [])
            if not own:
                if line.support_item in planned_items:
                    problems.append(
                        Problem(
                            "not_engaged",
                            f"{at}/support_item",
                            f"You are not engaged to deliver support item {line.support_item} for this "
                            "person.",
                        )
                    )
                else:
                    problems.append(
                        Problem(
                            "unknown_support_item",
                            f"{at}/support_item",
                            f"{line.support_item} is not one of this person's support items that you are "
                            "engaged for.",
                        )
                    )
            else:
                engagement = next((e for e in own if e.starts_on <= line.service_date <= e.ends_on), None)
                if engagement is None:
                    first = min(e.starts_on for e in own)
                    last = max(e.ends_on for e in own)
                    problems.append(
                        Problem(
                            "outside_plan_period",
                            f"{at}/service_date",
                            f"{line.service_date.isoformat()} is outside support item {line.support_item}'s "
                            f"dates, {first.isoformat()} to {last.isoformat()}.",
                        )
                    )
                else:
                    if engagement.currency != request.currency and not currency_reported:
                        currency_reported = True
                        problems.append(
                            Problem(
                                "currency_mismatch",
                                "/currency",
                                f"Support item {line.support_item} is paid in {engagement.currency}, not "
                                f"{request.currency}.",
                            )
                        )
                    elif (
                        engagement.currency == request.currency
                        and read.unit_price_minor is not None
                        and read.unit_price_minor > engagement.agreed_rate_minor
                    ):
                        rate = money_format(engagement.agreed_rate_minor, currency=engagement.currency)
                        problems.append(
                            Problem(
                                "rate_above_agreed",
                                f"{at}/unit_price",
                                f"Agreed rate for this support item is {rate} {engagement.currency} per "
                                f"{engagement.unit} on {line.service_date.isoformat()}.",
                            )
                        )
        covering.append(engagement)
    amounts = [read.amount_minor for read in lines]
    if total_minor is not None and None not in amounts:
        lines_total = sum(amount for amount in amounts if amount is not None)
        if lines_total != total_minor:
            problems.append(
                Problem(
                    "total_mismatch",
                    "/total",
                    f"The lines add up to {money_format(lines_total, currency=request.currency)}, not "
                    f"{money_format(total_minor, currency=request.currency)}.",
                )
            )
    if problems:
        raise InvoiceInvalid(problems)
    assert holder is not None and total_minor is not None

    try:
        with transaction.atomic():
            return _invoice_create(
                provider=provider,
                holder=holder,
                submitted_by=submitted_by,
                request=request,
                lines=lines,
                total_minor=total_minor,
                engagements=[e for e in covering if e is not None],
            )
    except IntegrityError:
        # Another submission of the same number won the race (the unique constraint decided it).
        winner = (
            Invoice.objects.filter(provider=provider, invoice_number=request.invoice_number)
            .exclude(status=InvoiceStatus.WITHDRAWN)
            .values_list("public_id", flat=True)
            .first()
        )
        if winner is None:
            raise
        raise _duplicate(request.invoice_number, winner) from None


def _duplicate(number: str, existing: str) -> DuplicateInvoice:
    return DuplicateInvoice(
        f"You have already submitted invoice {number} ({existing}). Use a new invoice number, or withdraw "
        "that invoice first.",
        existing=existing,
    )


def _read_money(request: InvoiceRequest, problems: list[Problem]) -> tuple[list[_Line], int | None]:
    """Each line's unit price and amount, and the total, in minor units; a problem for each unreadable one."""
    try:
        currency_exponent(request.currency)
    except UnknownCurrency:
        problems.append(
            Problem("unknown_currency", "/currency", f"{request.currency} is not a currency Purse knows.")
        )
        return [_Line(line, None, None) for line in request.lines], None

    def read(text: str, pointer: str, *, positive: bool) -> int | None:
        try:
            value = money_parse(text, currency=request.currency)
        except InvalidAmount as error:
            problems.append(Problem("invalid_amount", pointer, error.message))
            return None
        if positive and value <= 0:
            problems.append(Problem("invalid_amount", pointer, f"{text} must be more than zero."))
            return None
        return value

    lines = [
        _Line(
            line,
            read(line.unit_price, f"/lines/{index}/unit_price", positive=True),
            read(line.amount, f"/lines/{index}/amount", positive=True),
        )
        for index, line in enumerate(request.lines)
    ]
    return lines, read(request.total, "/total", positive=True)


def _line_arithmetic_problems(read: _Line, *, at: str, currency: str, today: date) -> list[Problem]:
    problems = []
    line = read.request
    quantity = line.quantity
    exponent = quantity.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    quantity_ok = quantity > 0 and decimals <= QUANTITY_DECIMALS and quantity < QUANTITY_LIMIT
    if not quantity_ok:
        problems.append(
            Problem(
                "invalid_quantity",
                f"{at}/quantity",
                f"A quantity is more than zero and less than {QUANTITY_LIMIT:,}, with at most "
                f"{QUANTITY_DECIMALS} decimals, not {quantity}.",
            )
        )
    if line.service_date > today:
        problems.append(
            Problem(
                "future_service_date",
                f"{at}/service_date",
                f"{line.service_date.isoformat()} is after today: invoice only for support already "
                "delivered.",
            )
        )
    if quantity_ok and read.unit_price_minor is not None and read.amount_minor is not None:
        expected = _line_amount(quantity=quantity, unit_price_minor=read.unit_price_minor, currency=currency)
        if expected != read.amount_minor:
            problems.append(
                Problem(
                    "amount_mismatch",
                    f"{at}/amount",
                    f"{quantity} x {money_format(read.unit_price_minor, currency=currency)} is "
                    f"{money_format(expected, currency=currency)} (rounded half up), not "
                    f"{money_format(read.amount_minor, currency=currency)}.",
                )
            )
    return problems


def _line_amount(*, quantity: Decimal, unit_price_minor: int, currency: str) -> int:
    """quantity x unit price, rounded once, half up, to the minor unit."""
    return minor_round(quantity * decimal_from_minor(unit_price_minor, currency=currency), currency=currency)


def _engaged_holder(*, provider: Organisation, person: str) -> BudgetHolder | None:
    """The person, if the provider has an engagement (still in force) with them."""
    # One filter() call, so both conditions are on the same engagement (two calls would join twice and
    # accept a provider whose only engagements were replaced, as long as the person has any other).
    return (
        BudgetHolder.objects.filter(
            public_id=person, engagements__provider=provider, engagements__replaced_at__isnull=True
        )
        .distinct()
        .first()
    )


def _engagements_by_item(
    *, provider: Organisation, holder: BudgetHolder | None
) -> dict[str, list[Engagement]]:
    if holder is None:
        return {}
    found: dict[str, list[Engagement]] = defaultdict(list)
    for engagement in (
        Engagement.objects.current()
        .filter(provider=provider, budget_holder=holder)
        .select_related("version")
        .order_by("starts_on")
    ):
        found[engagement.support_item_public_id].append(engagement)
    return found


def _items_of_person(*, holder: BudgetHolder | None, public_ids: set[str]) -> set[str]:
    if holder is None or not public_ids:
        return set()
    return set(
        # Items of versions that have been in force: a draft's items are nobody's business but the plan's.
        SupportItem.objects.filter(
            version__plan__budget_holder=holder,
            version__status__in=[PlanVersionStatus.ACTIVE, PlanVersionStatus.SUPERSEDED],
            public_id__in=public_ids,
        )
        .values_list("public_id", flat=True)
        .distinct()
    )


def _invoice_create(
    *,
    provider: Organisation,
    holder: BudgetHolder,
    submitted_by: User,
    request: InvoiceRequest,
    lines: list[_Line],
    total_minor: int,
    engagements: list[Engagement],
) -> Invoice:
    invoice = Invoice.objects.create(
        provider=provider,
        budget_holder=holder,
        invoice_number=request.invoice_number,
        issued_on=request.issued_on,
        currency=request.currency,
        total_minor=total_minor,
        status=InvoiceStatus.AWAITING_APPROVAL,
        submitted_by=submitted_by,
    )
    streams = {stream.code: stream for stream in FundingStream.objects.all()}
    stored = InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=index,
            engagement=engagement,
            support_item_public_id=read.request.support_item,
            service_date=read.request.service_date,
            quantity=read.request.quantity,
            unit_price_minor=read.unit_price_minor,
            amount_minor=read.amount_minor,
            description=read.request.description,
            outcome_public_ids=list(engagement.outcome_public_ids),
        )
        for index, (read, engagement) in enumerate(zip(lines, engagements, strict=True))
    )
    if any(line.pk is None for line in stored):  # a database that returns no ids from bulk_create
        stored = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position"))
    funding = []
    for line, engagement in zip(stored, engagements, strict=True):
        shares = engagement.stream_shares
        parts = money_allocate(line.amount_minor, weights=[int(share["weight"]) for share in shares])
        funding.extend(
            InvoiceLineFunding(line=line, stream=streams[share["stream"]], amount_minor=part)
            for share, part in zip(shares, parts, strict=True)
            if part > 0
        )
    InvoiceLineFunding.objects.bulk_create(funding)
    _event(invoice, status="submitted", by=submitted_by)

    findings = _findings(invoice=invoice, lines=lines, engagements=engagements)
    provider_name = provider.name
    amount = money_display(invoice.total_minor, currency=invoice.currency)
    if findings:
        invoice.status = InvoiceStatus.ON_HOLD
        invoice.findings = [finding.as_dict() for finding in findings]
        invoice.save(update_fields=["status", "findings"])
        _event(invoice, status=InvoiceStatus.ON_HOLD, by=None, reason="; ".join(f.detail for f in findings))
        _timeline(
            invoice,
            kind="invoice.on_hold",
            actor=submitted_by,
            for_person=(
                f"{provider_name} sent an invoice for {amount} ({invoice.invoice_number}). It is on hold: "
                f"{findings[0].detail} You or your navigator can decide what to do."
            ),
        )
        return invoice

    rule = AutoApprovalRule.objects.active().filter(budget_holder=holder, provider=provider).first()
    if rule is not None and _rule_matches(rule, invoice=invoice, lines=lines, engagements=engagements):
        try:
            with transaction.atomic():
                _reserve(invoice)
        except InvoiceInsufficientFunds as error:
            # The finding and the history are the provider's to see: not how much is left (error.message).
            held = f"There is not enough money left in the budget to pay this invoice ({amount})."
            invoice.status = InvoiceStatus.ON_HOLD
            invoice.findings = [{"code": "insufficient_funds", "pointer": "/total", "detail": held}]
            invoice.save(update_fields=["status", "findings"])
            _event(invoice, status=InvoiceStatus.ON_HOLD, by=None, reason=held)
            _timeline(
                invoice,
                kind="invoice.on_hold",
                actor=submitted_by,
                for_person=f"{provider_name} sent an invoice for {amount} ({invoice.invoice_number}). It is "
                f"on hold: {error.message}",
            )
            return invoice
        invoice.status = InvoiceStatus.APPROVED
        invoice.decided_at = timezone.now()
        invoice.save(update_fields=["status", "decided_at", "reservation"])
        _event(
            invoice,
            status=InvoiceStatus.APPROVED,
            by=None,
            by_role="rule",
            reason=f"Your auto-approval rule for {provider_name} ({rule.public_id}).",
        )
        _timeline(
            invoice,
            kind="invoice.approved",
            actor=None,
            for_person=(
                f"{provider_name}'s invoice for {amount} ({invoice.invoice_number}) was approved "
                f"automatically, by your rule for {provider_name}: it was at the agreed rate and within your "
                "plan. The money is set aside to pay it."
            ),
        )
        return invoice

    _timeline(
        invoice,
        kind="invoice.submitted",
        actor=submitted_by,
        for_person=(
            f"{provider_name} sent an invoice for {amount} ({invoice.invoice_number}). It is waiting for you "
            "to approve it, ask a question or reject it."
        ),
    )
    return invoice


def _findings(*, invoice: Invoice, lines: list[_Line], engagements: list[Engagement]) -> list[Problem]:
    """What puts a valid invoice on hold: more than planned for an item, more than the budget holds."""
    findings: list[Problem] = []
    by_engagement: dict[int, Decimal] = defaultdict(Decimal)
    first_line: dict[int, int] = {}
    for index, (read, engagement) in enumerate(zip(lines, engagements, strict=True)):
        by_engagement[engagement.pk] += read.request.quantity
        first_line.setdefault(engagement.pk, index)
    invoiced = _invoiced_quantities(engagement_ids=list(by_engagement), excluding=invoice)
    seen = {engagement.pk: engagement for engagement in engagements}
    for engagement_id, quantity in by_engagement.items():
        engagement = seen[engagement_id]
        so_far = invoiced.get(engagement_id, Decimal(0))
        if so_far + quantity > engagement.planned_quantity:
            findings.append(
                Problem(
                    "over_planned_quantity",
                    f"/lines/{first_line[engagement_id]}/quantity",
                    f"This takes support item {engagement.support_item_public_id} to {so_far + quantity} "
                    f"{engagement.unit}s invoiced, more than the {engagement.planned_quantity} planned.",
                )
            )
    for stream_code, needed in _stream_amounts(invoice).items():
        account = _funds_account(invoice.budget_holder, stream_code=stream_code, currency=invoice.currency)
        available = account.available_minor if account is not None else 0
        if needed > available:
            findings.append(
                Problem(
                    "insufficient_funds",
                    "/total",
                    # Not how much is left: the provider sees this finding, and the person's money is
                    # not the provider's business (domain.md).
                    f"{money_display(needed, currency=invoice.currency)} of it is for {stream_code}, more "
                    f"than the budget has left for {stream_code}.",
                )
            )
    return findings


def _invoiced_quantities(
    *, engagement_ids: list[int], excluding: Invoice | None = None
) -> dict[int, Decimal]:
    lines = InvoiceLine.objects.filter(
        engagement_id__in=engagement_ids, invoice__status__in=COUNTING_STATUSES
    )
    if excluding is not None:
        lines = lines.exclude(invoice=excluding)
    return {
        row["engagement_id"]: row["total"]
        for row in lines.values("engagement_id").annotate(total=Sum("quantity")).order_by()
    }


def _rule_matches(
    rule: AutoApprovalRule, *, invoice: Invoice, lines: list[_Line], engagements: list[Engagement]
) -> bool:
    """Every line exactly at the agreed rate, and the total within the rule's limit (no findings already)."""
    if rule.max_total_minor is not None and (
        rule.currency != invoice.currency or invoice.total_minor > rule.max_total_minor
    ):
        return False
    return all(
        read.unit_price_minor == engagement.agreed_rate_minor
        for read, engagement in zip(lines, engagements, strict=True)
    )


# Decisions ----------------------------------------------------------------------------------------------


def _locked(invoice: Invoice) -> Invoice:
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("provider", "budget_holder")
        .get(pk=invoice.pk)
    )


def _decider_role(user: User, invoice: Invoice) -> str:
    """How `user` decides this invoice ("budget_holder", "representative", "navigator"); raises
    NotAllowedToDecide. A navigator decides only an invoice on hold."""
    holder = invoice.budget_holder
    if may(user, "people.act_for_budgetholder", holder):
        return "budget_holder" if holder.user_id == user.pk else "representative"
    if user.role == Role.NAVIGATOR and holder.navigator_id == user.pk:
        if invoice.status == InvoiceStatus.ON_HOLD:
            return "navigator"
        raise NotAllowedToDecide(
            "A navigator decides an invoice only while it is on hold; this one is for the budget holder."
        )
    raise NotAllowedToDecide()


def _check_state(invoice: Invoice, allowed: tuple[str, ...], *, doing: str) -> None:
    if invoice.status not in allowed:
        raise InvoiceStateConflict(
            f"Invoice {invoice.invoice_number} is {invoice.get_status_display().lower()}, so it cannot be "
            f"{doing}."
        )


@transaction.atomic
def invoice_approve(*, invoice: Invoice, by: User) -> Invoice:
    """Approve an invoice and reserve its money from the person's funds of each paying stream.

    Raises NotAllowedToDecide, InvoiceStateConflict and InvoiceInsufficientFunds.
    """
    invoice = _locked(invoice)
    role = _decider_role(by, invoice)
    _check_state(invoice, UNDECIDED_STATUSES, doing="approved")
    _reserve(invoice)
    invoice.status = InvoiceStatus.APPROVED
    invoice.decided_at = timezone.now()
    invoice.save(update_fields=["status", "decided_at", "reservation"])
    _event(invoice, status=InvoiceStatus.APPROVED, by=by, by_role=role)
    who = "You" if role == "budget_holder" else by.get_full_name() or by.username
    _timeline(
        invoice,
        kind="invoice.approved",
        actor=by,
        for_person=(
            f"{who} approved {invoice.provider.name}'s invoice for "
            f"{money_display(invoice.total_minor, currency=invoice.currency)} "
            f"({invoice.invoice_number}). The "
            "money is set aside to pay it."
        ),
    )
    return invoice


@transaction.atomic
def invoice_query(*, invoice: Invoice, by: User, reason: str) -> Invoice:
    """Ask the provider a question about an invoice; it waits, queried, for the provider's answer.

    Raises NotAllowedToDecide, InvoiceStateConflict and ReasonRequired.
    """
    invoice = _locked(invoice)
    role = _decider_role(by, invoice)
    _check_state(invoice, (InvoiceStatus.AWAITING_APPROVAL, InvoiceStatus.ON_HOLD), doing="queried")
    # After who and state: someone who may not decide, or a decided invoice, is not asked for a reason.
    reason = _reason(reason, what="question")
    invoice.status = InvoiceStatus.QUERIED
    invoice.query_question = reason
    invoice.save(update_fields=["status", "query_question"])
    _event(invoice, status=InvoiceStatus.QUERIED, by=by, by_role=role, reason=reason)
    _timeline(
        invoice,
        kind="invoice.queried",
        actor=by,
        body=reason,
        for_person=(
            f"A question was sent to {invoice.provider.name} about their invoice {invoice.invoice_number}. "
            "They can withdraw it and send a corrected one."
        ),
    )
    return invoice


@transaction.atomic
def invoice_reject(*, invoice: Invoice, by: User, reason: str) -> Invoice:
    """Reject an invoice, with a reason the provider sees; nothing was reserved, so nothing is released.

    Raises NotAllowedToDecide, InvoiceStateConflict and ReasonRequired.
    """
    invoice = _locked(invoice)
    role = _decider_role(by, invoice)
    _check_state(invoice, UNDECIDED_STATUSES, doing="rejected")
    reason = _reason(reason, what="reason")  # after who and state, as for a query
    invoice.status = InvoiceStatus.REJECTED
    invoice.decided_at = timezone.now()
    invoice.save(update_fields=["status", "decided_at"])
    _event(invoice, status=InvoiceStatus.REJECTED, by=by, by_role=role, reason=reason)
    _timeline(
        invoice,
        kind="invoice.rejected",
        actor=by,
        body=reason,
        for_person=(
            f"{invoice.provider.name}'s invoice for "
            f"{money_display(invoice.total_minor, currency=invoice.currency)} ({invoice.invoice_number}) was "
            "rejected. Nothing will be paid for it."
        ),
    )
    return invoice


@transaction.atomic
def invoice_withdraw(*, invoice: Invoice, by: User, reason: str = "") -> Invoice:
    """The provider withdraws an invoice not yet approved; its number may then be used again.

    Raises NotAllowedToWithdraw and InvoiceStateConflict (already approved, paid, rejected or withdrawn).
    """
    invoice = _locked(invoice)
    if by.role != Role.PROVIDER_USER or by.organisation_id != invoice.provider_id:
        raise NotAllowedToWithdraw()
    _check_state(invoice, UNDECIDED_STATUSES, doing="withdrawn (only an invoice not yet approved can be)")
    if not isinstance(reason, str) or len(reason) > REASON_MAX_LENGTH:
        raise ReasonRequired(f"A reason is text of at most {REASON_MAX_LENGTH:,} characters.")
    invoice.status = InvoiceStatus.WITHDRAWN
    invoice.save(update_fields=["status"])
    _event(invoice, status=InvoiceStatus.WITHDRAWN, by=by, by_role="provider", reason=reason.strip())
    _timeline(
        invoice,
        kind="invoice.withdrawn",
        actor=by,
        body=reason.strip(),
        for_person=(
            f"{invoice.provider.name} withdrew their invoice {invoice.invoice_number} for "
            f"{money_display(invoice.total_minor, currency=invoice.currency)}. You don't need to do anything."
        ),
    )
    return invoice


def _reason(reason: str, *, what: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired(f"Write the {what}, in a sentence the provider can act on.")
    if len(reason) > REASON_MAX_LENGTH:
        raise ReasonRequired(f"The {what} can be at most {REASON_MAX_LENGTH:,} characters.")
    return reason.strip()


def _stream_amounts(invoice: Invoice) -> dict[str, int]:
    """What each stream pays of the invoice, by stream code (the lines' funding parts added up)."""
    return {
        row["stream__code"]: row["total"]
        for row in InvoiceLineFunding.objects.filter(line__invoice=invoice)
        .values("stream__code")
        .annotate(total=Sum("amount_minor"))
        .order_by("stream__code")
    }


def _funds_account(holder: BudgetHolder, *, stream_code: str, currency: str) -> Account | None:
    key = budget_accounts.person_funds_key(budget_holder_public_id=holder.public_id, stream_code=stream_code)
    return Account.objects.filter(key=key, currency=currency).first()


def _reserve(invoice: Invoice, *, key: str | None = None, on: date | None = None) -> None:
    """Reserve the invoice's money: debit each paying stream's funds, credit the provider's payable.

    Raises InvoiceInsufficientFunds (the ledger refused it under the funds accounts' row locks).
    """
    holder = invoice.budget_holder
    payable = accounts.provider_payable_account(
        provider_public_id=invoice.provider.public_id,
        provider_name=invoice.provider.name,
        currency=invoice.currency,
    )
    postings = []
    for stream_code, amount in _stream_amounts(invoice).items():
        funds = budget_accounts.person_funds_account(
            budget_holder_public_id=holder.public_id, stream_code=stream_code, currency=invoice.currency
        )
        postings.append(ledger_services.PostingSpec(account=funds, side="debit", amount_minor=amount))
    postings.append(
        ledger_services.PostingSpec(account=payable, side="credit", amount_minor=invoice.total_minor)
    )
    try:
        reservation = ledger_services.transaction_reserve(
            idempotency_key=key or f"invoice:{invoice.public_id}:reservation",
            currency=invoice.currency,
            effective_on=on or timezone.localdate(),
            description=(
                f"Invoice {invoice.invoice_number} from {invoice.provider.name} ({invoice.public_id})"
            ),
            postings=postings,
            metadata={"kind": "invoice_reservation", "invoice": invoice.public_id},
        )
    except ledger_services.InsufficientFunds as error:
        raise InvoiceInsufficientFunds(
            f"There is not enough money left to approve invoice {invoice.invoice_number} "
            f"({money_display(invoice.total_minor, currency=invoice.currency)}): "
            f"{money_display(max(error.available_minor, 0), currency=invoice.currency)} is available in "
            "the part of the budget that pays for it."
        ) from None
    invoice.reservation = reservation


# History and timeline -----------------------------------------------------------------------------------


def _event(
    invoice: Invoice, *, status: str, by: User | None, by_role: str | None = None, reason: str = ""
) -> None:
    if by_role is None:
        by_role = "provider" if by is not None and by.role == Role.PROVIDER_USER else "system"
    InvoiceEvent.objects.create(invoice=invoice, status=str(status), by=by, by_role=by_role, reason=reason)


def _timeline(invoice: Invoice, *, kind: str, actor: User | None, for_person: str, body: str = "") -> None:
    timeline_record(
        budget_holder=invoice.budget_holder,
        kind=kind,
        actor=actor,
        for_person=for_person,
        for_staff=(
            f"{for_person} [{invoice.public_id}, {invoice.provider.name} ({invoice.provider.public_id}), "
            f"status {invoice.status}]"
        ),
        body=body,
        detail={"invoice": invoice.public_id, "status": str(invoice.status)},
    )


# Auto-approval rules ------------------------------------------------------------------------------------


@transaction.atomic
def auto_approval_rule_set(
    *,
    budget_holder: BudgetHolder,
    provider: Organisation,
    max_total_minor: int | None,
    currency: str,
    by: User,
) -> AutoApprovalRule:
    """Approve a provider's routine invoices for the person automatically (replacing any earlier rule).

    Routine: every line at the agreed rate, nothing over the planned quantity, enough money, and the total
    within `max_total_minor` when there is one. Raises NotAllowedToSetRules, ProviderNotEngaged and
    InvalidAutoApprovalLimit.
    """
    if not may(by, "people.act_for_budgetholder", budget_holder):
        raise NotAllowedToSetRules()
    if max_total_minor is not None and (isinstance(max_total_minor, bool) or max_total_minor <= 0):
        raise InvalidAutoApprovalLimit()
    if not Engagement.objects.current().filter(budget_holder=budget_holder, provider=provider).exists():
        raise ProviderNotEngaged(f"{provider.name} is not engaged for any of this person's support.")
    BudgetHolder.objects.select_for_update().get(pk=budget_holder.pk)
    now = timezone.now()
    for earlier in AutoApprovalRule.objects.active().filter(budget_holder=budget_holder, provider=provider):
        earlier.revoked_at = now
        earlier.revoked_by = by
        earlier.save(update_fields=["revoked_at", "revoked_by"])
    rule = AutoApprovalRule.objects.create(
        budget_holder=budget_holder,
        provider=provider,
        max_total_minor=max_total_minor,
        currency=currency,
        created_by=by,
    )
    limit = (
        f", up to {money_display(max_total_minor, currency=currency)} an invoice"
        if max_total_minor is not None
        else ""
    )
    audit_event_record(
        actor=by,
        action="auto_approval_rule.set",
        obj=rule,
        detail={"provider": provider.public_id, "max_total_minor": max_total_minor, "currency": currency},
    )
    timeline_record(
        budget_holder=budget_holder,
        kind="invoice.rule_set",
        actor=by,
        for_person=(
            f"Invoices from {provider.name} will now be approved automatically when they are at the agreed "
            f"rate and within your plan{limit}. You can stop this at any time."
        ),
        detail={"rule": rule.public_id, "provider": provider.public_id},
    )
    return rule


@transaction.atomic
def auto_approval_rule_revoke(*, rule: AutoApprovalRule, by: User) -> AutoApprovalRule:
    """Stop an auto-approval rule at once. Raises NotAllowedToSetRules and AutoApprovalRuleAlreadyRevoked."""
    rule = (
        AutoApprovalRule.objects.select_for_update(of=("self",))
        .select_related("provider", "budget_holder")
        .get(pk=rule.pk)
    )
    if not may(by, "people.act_for_budgetholder", rule.budget_holder):
        raise NotAllowedToSetRules()
    if rule.revoked_at is not None:
        raise AutoApprovalRuleAlreadyRevoked()
    rule.revoked_at = timezone.now()
    rule.revoked_by = by
    rule.save(update_fields=["revoked_at", "revoked_by"])
    audit_event_record(actor=by, action="auto_approval_rule.revoked", obj=rule)
    timeline_record(
        budget_holder=rule.budget_holder,
        kind="invoice.rule_revoked",
        actor=by,
        for_person=f"Invoices from {rule.provider.name} will no longer be approved automatically.",
        detail={"rule": rule.public_id, "provider": rule.provider.public_id},
    )
    return rule


# Remittances --------------------------------------------------------------------------------------------


@transaction.atomic
def remittance_record(
    *,
    provider: Organisation,
    invoices: list[Invoice],
    reference: str,
    paid_on: date,
    by: User | None,
    amounts: dict[str, int] | None = None,
) -> Remittance:
    """Record that approved invoices were paid to `provider` under one payment reference.

    Posts each invoice's reservation (the person's funds to the provider's payable): in full, or, where
    `amounts` (invoice public id -> minor units) says less, that much, shared between the paying streams in
    proportion and with the rest released. Marks each invoice paid. The same reference for the same invoices
    returns the first remittance (safe to retry). Raises RemittanceInvalid and InvoiceStateConflict.
    """
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 64:
        raise RemittanceInvalid("A payment reference is 1 to 64 characters.")
    if not invoices:
        raise RemittanceInvalid("A remittance pays at least one invoice.")
    amounts = dict(amounts or {})
    wanted = sorted(invoice.pk for invoice in invoices)
    earlier = Remittance.objects.filter(reference=reference).first()
    if earlier is not None:
        if (
            earlier.provider_id == provider.pk
            and sorted(earlier.lines.values_list("invoice_id", flat=True)) == wanted
        ):
            return earlier
        raise RemittanceInvalid(f"Payment reference {reference} was already used for another remittance.")
    locked = list(
        Invoice.objects.select_for_update(of=("self",))
        .select_related("provider", "budget_holder", "reservation")
        .filter(pk__in=wanted)
        .order_by("pk")
    )
    currencies = {invoice.currency for invoice in locked}
    if len(locked) != len(wanted) or len(currencies) != 1:
        raise RemittanceInvalid("A remittance pays invoices of one currency.")
    paying: dict[int, int] = {}
    for invoice in locked:
        if invoice.provider_id != provider.pk:
            raise RemittanceInvalid(f"Invoice {invoice.public_id} is not {provider.name}'s.")
        _check_state(invoice, (InvoiceStatus.APPROVED,), doing="paid")
        amount = amounts.pop(invoice.public_id, invoice.total_minor)
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= invoice.total_minor:
            raise RemittanceInvalid(
                f"Invoice {invoice.invoice_number} can be paid more than nothing and at most its total "
                f"({money_display(invoice.total_minor, currency=invoice.currency)})."
            )
        paying[invoice.pk] = amount
    if amounts:
        raise RemittanceInvalid(f"{', '.join(sorted(amounts))} is not among the invoices being paid.")
    remittance = Remittance.objects.create(
        provider=provider,
        paid_on=paid_on,
        reference=reference,
        currency=currencies.pop(),
        total_minor=sum(paying.values()),
    )
    for invoice in locked:
        amount = paying[invoice.pk]
        ledger_services.pending_post(
            pending=invoice.reservation,
            idempotency_key=f"invoice:{invoice.public_id}:payment:{reference}",
            effective_on=max(paid_on, invoice.reservation.effective_on),
            amounts_minor=None if amount == invoice.total_minor else _part_amounts(invoice, amount),
            description=f"Paid invoice {invoice.invoice_number} to {provider.name} ({reference})",
            metadata={"kind": "invoice_payment", "invoice": invoice.public_id, "reference": reference},
        )
        line = RemittanceLine.objects.create(remittance=remittance, invoice=invoice, amount_minor=amount)
        invoice.status = InvoiceStatus.PAID
        invoice.remittance_line = line
        invoice.save(update_fields=["status", "remittance_line"])
        _event(invoice, status=InvoiceStatus.PAID, by=by, by_role="system", reason=f"Payment {reference}")
        _timeline(
            invoice,
            kind="invoice.paid",
            actor=by,
            for_person=(
                f"{provider.name} was paid "
                f"{money_display(amount, currency=invoice.currency)} for "
                f"invoice {invoice.invoice_number} on {date_display(paid_on)}."
            ),
        )
    return remittance


def _part_amounts(invoice: Invoice, amount: int) -> list[int]:
    """How much of each posting of the invoice's reservation a part payment of `amount` posts.

    The reservation debits each paying stream's funds and credits the provider's payable with the total;
    the part is shared between the streams in proportion (rounded half up, the parts adding up to `amount`).
    """
    postings = list(invoice.reservation.postings.order_by("pk").values_list("side", "amount_minor"))
    debits = [minor for side, minor in postings if side == "debit"]
    shares = iter(money_allocate(amount, weights=debits))
    return [next(shares) if side == "debit" else amount for side, _minor in postings]


@transaction.atomic
def remittance_reverse(*, remittance: Remittance, reason: str, on: date, by: User | None) -> Remittance:
    """Undo a remittance whose payment failed or was reversed: the invoices are approved (unpaid) again.

    Reverses each invoice's payment posting (the money goes back to the person's funds) and reserves it
    again, so the invoice keeps its claim on the budget and the next payment run pays it. Safe to retry: a
    remittance already reversed is returned as it is.
    """
    remittance = (
        Remittance.objects.select_for_update(of=("self",)).select_related("provider").get(pk=remittance.pk)
    )
    if remittance.reversed_on is not None:
        return remittance
    reason = _reason(reason, what="why the payment is being undone")
    lines = list(remittance.lines.select_related("invoice").order_by("invoice_id"))
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update(of=("self",))
        .select_related("provider", "budget_holder", "reservation")
        .filter(pk__in=[line.invoice_id for line in lines])
        .order_by("pk")
    }
    now = timezone.now()
    for line in lines:
        invoice = invoices[line.invoice_id]
        payment = Transaction.objects.get(
            idempotency_key=f"invoice:{invoice.public_id}:payment:{remittance.reference}"
        )
        day = max(on, payment.effective_on)
        ledger_services.transaction_reverse(
            transaction=payment,
            idempotency_key=f"invoice:{invoice.public_id}:payment:{remittance.reference}:reversal",
            effective_on=day,
            reason=(
                f"Payment {remittance.reference} to {remittance.provider.name} did not go through: {reason}"
            ),
        )
        line.reversed_at = now
        line.save(update_fields=["reversed_at"])
        invoice.status = InvoiceStatus.APPROVED
        invoice.remittance_line = None
        _reserve(invoice, key=f"invoice:{invoice.public_id}:reservation:after:{remittance.reference}", on=day)
        invoice.save(update_fields=["status", "remittance_line", "reservation"])
        _event(invoice, status=InvoiceStatus.APPROVED, by=by, by_role="system", reason=reason)
        _timeline(
            invoice,
            kind="invoice.payment_undone",
            actor=by,
            for_person=(
                f"The payment of {money_display(line.amount_minor, currency=invoice.currency)} to "
                f"{remittance.provider.name} for invoice {invoice.invoice_number} did not go through, so "
                "the invoice is waiting to be paid again. The money is still set aside for it."
            ),
            body=reason,
        )
    remittance.reversed_on = on
    remittance.reversal_reason = reason
    remittance.save(update_fields=["reversed_on", "reversal_reason"])
    return remittance
