"""Invoicing selectors: every function that reads invoices, engagements, rules and remittances.

Each list is a queryset the caller paginates; each takes a fixed number of queries whatever the number of
invoices, lines or events (related rows are prefetched).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import DecimalField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from budgets.calculator import CashEquivalentInvalid
from invoicing.access import (
    auto_approval_rules_visible_to,
    engagements_visible_to,
    invoices_visible_to,
    remittances_visible_to,
)
from invoicing.models import (
    COUNTING_STATUSES,
    AutoApprovalRule,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceLineFunding,
    InvoiceStatus,
    Remittance,
    RemittanceLine,
)
from ledger.errors import DomainError
from ledger.money import money_allocate
from plans.models import Engagement
from plans.selectors import plans as plan_selectors


class InvoiceNotFound(DomainError):
    code = "not_found"
    message = "There is no such invoice, or it is not yours to see."
    http_status = 404


def _with_details(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    # Lines, their funding and the history are read by `invoice_parts`, as plain rows: a page of 50
    # invoices has about a thousand of them, and making model instances of each costs more than the query.
    return invoices.select_related("provider", "budget_holder", "remittance_line__remittance")


@dataclass(frozen=True)
class InvoiceParts:
    """The lines, their funding and the history of some invoices, as rows keyed by invoice (or line) pk.

    lines: (pk, support_item, service_date, quantity, unit_price_minor, amount_minor, description, outcomes)
    funding: (stream code, amount_minor), by line pk, in stored order
    events: (status, at, by_role, reason, by's first name, last name, username, role), in order
    """

    lines: dict[int, list[tuple]]
    funding: dict[int, list[tuple]]
    events: dict[int, list[tuple]]


INVOICE_ROW_FIELDS = (
    "id",
    "public_id",
    "invoice_number",
    "budget_holder__public_id",
    "provider__public_id",
    "provider__name",
    "status",
    "currency",
    "total_minor",
    "issued_on",
    "submitted_at",
    "findings",
    "query_question",
    "remittance_line__amount_minor",
    "remittance_line__remittance__public_id",
    "remittance_line__remittance__reference",
    "remittance_line__remittance__paid_on",
)


def invoice_rows(*, invoices: QuerySet[Invoice]) -> QuerySet:
    """The invoices as plain rows (`INVOICE_ROW_FIELDS`), one query: for lists, where model instances of
    each invoice, its provider, person and remittance would cost more than the query."""
    return invoices.values(*INVOICE_ROW_FIELDS)


def invoice_parts(*, invoice_ids: list[int]) -> InvoiceParts:
    """The lines, funding and history of these invoices in three queries, however many there are."""
    lines: dict[int, list[tuple]] = defaultdict(list)
    funding: dict[int, list[tuple]] = defaultdict(list)
    events: dict[int, list[tuple]] = defaultdict(list)
    if not invoice_ids:
        return InvoiceParts(lines=lines, funding=funding, events=events)
    for invoice_id, *row in (
        InvoiceLine.objects.filter(invoice_id__in=invoice_ids)
        .order_by("invoice_id", "position")
        .values_list(
            "invoice_id",
            "pk",
            "support_item_public_id",
            "service_date",
            "quantity",
            "unit_price_minor",
            "amount_minor",
            "description",
            "outcome_public_ids",
        )
    ):
        lines[invoice_id].append(tuple(row))
    for line_id, code, amount in (
        InvoiceLineFunding.objects.filter(line__invoice_id__in=invoice_ids)
        .order_by("pk")
        .values_list("line_id", "stream__code", "amount_minor")
    ):
        funding[line_id].append((code, amount))
    for invoice_id, *row in (
        InvoiceEvent.objects.filter(invoice_id__in=invoice_ids)
        .order_by("pk")
        .values_list(
            "invoice_id",
            "status",
            "at",
            "by_role",
            "reason",
            "by__first_name",
            "by__last_name",
            "by__username",
            "by__role",
        )
    ):
        events[invoice_id].append(tuple(row))
    return InvoiceParts(lines=lines, funding=funding, events=events)


def invoice_list(
    *,
    user: Any,
    status: str | None = None,
    person: str | None = None,
    issued_after: date | None = None,
    issued_before: date | None = None,
) -> QuerySet[Invoice]:
    """The invoices `user` may see, filtered, with provider, person and payment joined in.

    `invoice_parts` reads their lines, funding and history."""
    invoices = invoices_visible_to(user)
    if status:
        invoices = invoices.filter(status=status)
    if person:
        invoices = invoices.filter(budget_holder__public_id=person)
    if issued_after:
        invoices = invoices.filter(issued_on__gte=issued_after)
    if issued_before:
        invoices = invoices.filter(issued_on__lte=issued_before)
    return _with_details(invoices)


def invoice_get(*, user: Any, public_id: str) -> Invoice:
    """One invoice `user` may see; raises InvoiceNotFound (also for another's)."""
    invoice = _with_details(invoices_visible_to(user)).filter(public_id=public_id).first()
    if invoice is None:
        raise InvoiceNotFound()
    return invoice


def engagement_list(*, user: Any, person: str | None = None) -> QuerySet[Engagement]:
    """The engagements in force that `user` may see, each with the quantity invoiced against it so far."""
    engagements = engagements_visible_to(user).current().select_related("budget_holder", "provider")
    if person:
        engagements = engagements.filter(budget_holder__public_id=person)
    return engagements.annotate(
        invoiced_quantity=Coalesce(
            Sum(
                "invoice_lines__quantity",
                filter=Q(invoice_lines__invoice__status__in=COUNTING_STATUSES),
            ),
            Value(0),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        )
    )


def remittance_list(*, user: Any) -> QuerySet[Remittance]:
    """The remittances `user` may see, with the invoices each paid."""
    return (
        remittances_visible_to(user)
        .select_related("provider")
        .prefetch_related(
            Prefetch("lines", queryset=RemittanceLine.objects.select_related("invoice").order_by("id"))
        )
    )


def auto_approval_rule_list(*, user: Any, person: str) -> QuerySet[AutoApprovalRule]:
    """A person's auto-approval rules in force, that `user` may see."""
    return (
        auto_approval_rules_visible_to(user)
        .active()
        .filter(budget_holder__public_id=person)
        .select_related("provider", "created_by")
    )


# What has been spent against a plan's outcomes (for the person's plan page) -----------------------------

# The invoices whose money is spent: approved (set aside in the ledger) or paid.
SPENT_STATUSES = (InvoiceStatus.APPROVED, InvoiceStatus.PAID)


@dataclass(frozen=True)
class OutcomeSpend:
    """One row of `outcome_spending`: an outcome of the version (or, with no `outcome_public_id`, support
    that serves no outcome of it), what the plan costs for it and what has been spent on it so far."""

    outcome_public_id: str | None
    label: str
    planned_minor: int
    spent_minor: int
    shared_minor: int  # the part of `spent_minor` that came from lines serving more than one outcome


@dataclass(frozen=True)
class OutcomeSpending:
    """A version's planned cost and spending per outcome, over the days its money applies."""

    currency: str
    from_on: date
    to_on: date
    costed: bool  # False when the version cannot be costed (yet): planned figures are then 0
    outcomes: tuple[OutcomeSpend, ...]
    contingency_minor: int  # planned per stream, for the unexpected; serves no one outcome
    spent_total_minor: int  # every spent line once

    @property
    def planned_total_minor(self) -> int:
        return sum(row.planned_minor for row in self.outcomes) + self.contingency_minor

    @property
    def has_shared(self) -> bool:
        return any(row.shared_minor for row in self.outcomes)


def outcome_spending(*, version: Any) -> OutcomeSpending:
    """Per outcome of `version`: its planned cost (the version's costing from `effective_from` to the
    period's end) and what approved or paid invoice lines with a service date in those days have spent.

    An item (or an invoice line) serving several outcomes is split between them equally, to the penny
    (`ledger.money.money_allocate`), so that nothing is counted twice: the rows add up to the totals. Lines
    for outcomes that are not in this version, or for none, go to one row without an outcome. Takes the
    costing's queries and one more (pass a version from `plans.selectors.plans.plan_version_get`, whose
    outcomes and items are prefetched; another is read that way first).
    """
    if "support_items" not in getattr(version, "_prefetched_objects_cache", {}):
        version = plan_selectors.plan_version_get(public_id=version.public_id)
    outcomes = list(version.outcomes.all())
    items = plan_selectors.support_items_ordered(version=version)
    known = {outcome.public_id for outcome in outcomes}
    planned: dict[str | None, int] = defaultdict(int)
    spent: dict[str | None, int] = defaultdict(int)
    shared: dict[str | None, int] = defaultdict(int)

    def share(amounts: dict[str | None, int], total: int, ids: list[str]) -> bool:
        """Split `total` between the outcomes `ids` (equally; unknown ones go to None); True if shared."""
        targets = [public_id if public_id in known else None for public_id in ids] or [None]
        for target, part in zip(targets, money_allocate(total, weights=[1] * len(targets)), strict=True):
            amounts[target] += part
        return len(targets) > 1

    currency = items[0].stream.currency if items else "GBP"
    contingency = 0
    costed = False
    if items:
        try:
            costing = plan_selectors.plan_version_costing(version=version)
        except CashEquivalentInvalid:
            costing = None
        if costing is not None:
            costed = True
            currency = costing.currency
            item_costs: dict[int, int] = defaultdict(int)
            for line in costing.lines:
                item_costs[line.item_index] += line.amount_minor + line.on_costs_minor
            for index, cost in item_costs.items():
                if cost:
                    share(planned, cost, [outcome.public_id for outcome in items[index].outcomes.all()])
            contingency = sum(stream.contingency_minor for stream in costing.streams)

    spent_total = 0
    lines = InvoiceLine.objects.filter(
        invoice__budget_holder_id=version.plan.budget_holder_id,
        invoice__status__in=SPENT_STATUSES,
        invoice__currency=currency,
        service_date__range=(version.effective_from, version.ends_on),
    ).values_list("amount_minor", "outcome_public_ids")
    for amount, outcome_ids in lines:
        spent_total += amount
        ids = [public_id for public_id in outcome_ids or [] if isinstance(public_id, str)]
        before = dict(spent)
        if share(spent, amount, ids):
            for key, value in spent.items():
                shared[key] += value - before.get(key, 0)

    rows = [
        OutcomeSpend(
            outcome_public_id=outcome.public_id,
            label=outcome.in_own_words,
            planned_minor=planned[outcome.public_id],
            spent_minor=spent[outcome.public_id],
            shared_minor=shared[outcome.public_id],
        )
        for outcome in outcomes
    ]
    if planned[None] or spent[None]:
        rows.append(
            OutcomeSpend(
                outcome_public_id=None,
                label="Support not linked to an outcome of this plan",
                planned_minor=planned[None],
                spent_minor=spent[None],
                shared_minor=shared[None],
            )
        )
    return OutcomeSpending(
        currency=currency,
        from_on=version.effective_from,
        to_on=version.ends_on,
        costed=costed,
        outcomes=tuple(rows),
        contingency_minor=contingency,
        spent_total_minor=spent_total,
    )
