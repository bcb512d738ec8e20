"""Invoicing selectors: every function that reads invoices, engagements, rules and remittances.

Each list is a queryset the caller paginates; each takes a fixed number of queries whatever the number of
invoices, lines or events (related rows are prefetched).
"""

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
    return invoices.select_related(
        "provider", "budget_holder", "remittance_line__remittance"
    ).prefetch_related(
        Prefetch(
            "lines", queryset=InvoiceLine.objects.order_by("position").prefetch_related("funding__stream")
        ),
        Prefetch("events", queryset=InvoiceEvent.objects.order_by("id").select_related("by")),
    )


def invoice_list(
    *,
    user: Any,
    status: str | None = None,
    person: str | None = None,
    issued_after: date | None = None,
    issued_before: date | None = None,
) -> QuerySet[Invoice]:
    """The invoices `user` may see, filtered, with lines, funding and history prefetched."""
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
