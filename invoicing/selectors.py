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
    Remittance,
    RemittanceLine,
)
from ledger.errors import DomainError
from plans.models import Engagement


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
