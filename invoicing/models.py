"""Providers' invoices, their lines and history, auto-approval rules and remittances.

An invoice is submitted by a provider against the support items it is engaged for (`plans.Engagement`).
A submission that breaks a rule of api.md's table is refused whole and stores nothing; one that passes is
stored with its lines, each attributed to its support item, the engagement that covered its service date,
the streams that pay for it (`InvoiceLineFunding`, the line's amount split by the engagement's stream
shares, adding up exactly) and the outcomes the item serves.

States (one service per transition in `invoicing.services`, each writing an `InvoiceEvent` and the case
timeline):

    submitted --> awaiting_approval | on_hold (findings) | approved (an auto-approval rule matched)
    awaiting_approval | on_hold | queried --approve--> approved --remittance--> paid
    awaiting_approval | on_hold --query--> queried
    awaiting_approval | on_hold | queried --reject--> rejected
    awaiting_approval | on_hold | queried --withdraw (the provider)--> withdrawn

A queried invoice waits for the provider to withdraw it (and send a corrected one), but the person may still
approve or reject it once the answer satisfies them. The navigator decides only an invoice on hold.

Approval reserves the money in the ledger: one pending transaction from the person's funds of each paying
stream to the provider's payable (`invoicing.accounts`). Payment posts it; nothing else touches it.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models import AppendOnlyModel
from people.models import new_public_id


def new_invoice_id() -> str:
    return new_public_id("inv")


def new_remittance_id() -> str:
    return new_public_id("rem")


def new_auto_approval_rule_id() -> str:
    return new_public_id("aar")


class InvoiceStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for approval"
    ON_HOLD = "on_hold", "On hold"
    APPROVED = "approved", "Approved"
    QUERIED = "queried", "Queried"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    PAID = "paid", "Paid"


# The states in which an invoice still counts against the plan (its quantities are "invoiced").
COUNTING_STATUSES = (
    InvoiceStatus.AWAITING_APPROVAL,
    InvoiceStatus.ON_HOLD,
    InvoiceStatus.APPROVED,
    InvoiceStatus.QUERIED,
    InvoiceStatus.PAID,
)
# The states a decision (approve, query, reject) or a withdrawal may start from.
UNDECIDED_STATUSES = (InvoiceStatus.AWAITING_APPROVAL, InvoiceStatus.ON_HOLD, InvoiceStatus.QUERIED)


class InvoiceQuerySet(models.QuerySet):
    def counting(self) -> "InvoiceQuerySet":
        return self.filter(status__in=COUNTING_STATUSES)


class Invoice(models.Model):
    """A provider's invoice for support delivered to one person."""

    public_id = models.CharField(max_length=24, unique=True, default=new_invoice_id, editable=False)
    provider = models.ForeignKey("people.Organisation", on_delete=models.PROTECT, related_name="invoices")
    budget_holder = models.ForeignKey(
        "people.BudgetHolder", on_delete=models.PROTECT, related_name="invoices"
    )
    invoice_number = models.CharField(max_length=64)
    issued_on = models.DateField()
    currency = models.CharField(max_length=3)
    total_minor = models.BigIntegerField()
    status = models.CharField(max_length=24, choices=InvoiceStatus.choices)
    findings = models.JSONField(default=list, blank=True, help_text="[{code, pointer, detail}]: why on hold.")
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey("people.User", on_delete=models.PROTECT, related_name="+")
    reservation = models.OneToOneField(
        "ledger.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The pending ledger transaction that approval made.",
    )
    remittance_line = models.ForeignKey(
        "invoicing.RemittanceLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The remittance line that paid it, while that payment stands.",
    )
    query_question = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        constraints = [
            # A provider's invoice numbers are unique, except that a withdrawn invoice's may be used again
            # (the provider withdraws a queried invoice and resubmits it corrected).
            models.UniqueConstraint(
                fields=["provider", "invoice_number"],
                condition=~Q(status="withdrawn"),
                name="invoice_number_unique_per_provider",
            ),
            models.CheckConstraint(name="invoice_status_valid", condition=Q(status__in=InvoiceStatus.values)),
            models.CheckConstraint(name="invoice_total_positive", condition=Q(total_minor__gt=0)),
            models.CheckConstraint(
                name="invoice_reserved_when_approved",
                condition=~Q(status__in=["approved", "paid"]) | Q(reservation__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "-id"], name="invoice_by_provider"),
            models.Index(fields=["budget_holder", "-id"], name="invoice_by_person"),
            models.Index(fields=["status", "-id"], name="invoice_by_status"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.invoice_number} ({self.status})"


class InvoiceLine(models.Model):
    """One line: support delivered on a day against one support item, at a unit price."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    engagement = models.ForeignKey("plans.Engagement", on_delete=models.PROTECT, related_name="invoice_lines")
    support_item_public_id = models.CharField(max_length=24)
    service_date = models.DateField()
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    unit_price_minor = models.BigIntegerField()
    amount_minor = models.BigIntegerField()
    description = models.CharField(max_length=500, blank=True)
    outcome_public_ids = models.JSONField(default=list, help_text="The outcomes the support item serves.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position_unique"),
            models.CheckConstraint(name="invoice_line_quantity_positive", condition=Q(quantity__gt=0)),
            models.CheckConstraint(name="invoice_line_amount_positive", condition=Q(amount_minor__gt=0)),
        ]
        indexes = [models.Index(fields=["engagement"], name="invoice_line_by_engagement")]

    def __str__(self) -> str:
        return f"{self.invoice_id} line {self.position}"


class InvoiceLineFunding(models.Model):
    """The part of a line's amount that one stream pays: a line's parts add up to its amount."""

    line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="funding")
    stream = models.ForeignKey("budgets.FundingStream", on_delete=models.PROTECT, related_name="+")
    amount_minor = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "stream"], name="invoice_line_funding_once_per_stream"),
            models.CheckConstraint(
                name="invoice_line_funding_not_negative", condition=Q(amount_minor__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.stream_id} {self.amount_minor}"


class InvoiceEvent(AppendOnlyModel):
    """One step of an invoice's history: the status it reached, who, when and why. Append-only."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="events")
    status = models.CharField(max_length=24, help_text="submitted, or the status the invoice moved to.")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey("people.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    by_role = models.CharField(
        max_length=24, help_text="provider, budget_holder, representative, navigator, rule or system."
    )
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["invoice", "id"], name="invoice_event_by_invoice")]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.status} at {self.at:%Y-%m-%d %H:%M}"


class AutoApprovalRuleQuerySet(models.QuerySet):
    def active(self) -> "AutoApprovalRuleQuerySet":
        return self.filter(revoked_at__isnull=True)


class AutoApprovalRule(models.Model):
    """A budget holder's standing approval of a provider's routine invoices: every line at the agreed rate,
    nothing over the planned quantity, no findings, and (optionally) a total no more than a limit."""

    public_id = models.CharField(
        max_length=24, unique=True, default=new_auto_approval_rule_id, editable=False
    )
    budget_holder = models.ForeignKey(
        "people.BudgetHolder", on_delete=models.PROTECT, related_name="auto_approval_rules"
    )
    provider = models.ForeignKey("people.Organisation", on_delete=models.PROTECT, related_name="+")
    max_total_minor = models.BigIntegerField(null=True, blank=True, help_text="Empty: no limit on the total.")
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey("people.User", on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "people.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = AutoApprovalRuleQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["budget_holder", "provider"],
                condition=Q(revoked_at__isnull=True),
                name="auto_approval_rule_one_active_per_provider",
            ),
            models.CheckConstraint(
                name="auto_approval_rule_limit_positive",
                condition=Q(max_total_minor__isnull=True) | Q(max_total_minor__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.budget_holder_id} {self.provider_id}"


class Remittance(models.Model):
    """What was paid to a provider, when, for which invoices, with the payment reference."""

    public_id = models.CharField(max_length=24, unique=True, default=new_remittance_id, editable=False)
    provider = models.ForeignKey("people.Organisation", on_delete=models.PROTECT, related_name="remittances")
    paid_on = models.DateField()
    reference = models.CharField(max_length=64, unique=True)
    currency = models.CharField(max_length=3)
    total_minor = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    reversed_on = models.DateField(
        null=True,
        blank=True,
        help_text="When the payment failed or was reversed: the invoices are unpaid again.",
    )
    reversal_reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "-id"], name="remittance_by_provider")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.reference}"


class RemittanceLine(models.Model):
    """One invoice a remittance paid, and how much of it."""

    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="lines")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="remittance_lines")
    amount_minor = models.BigIntegerField()
    reversed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the payment failed or was reversed, so the invoice was not paid.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(reversed_at__isnull=True),
                name="remittance_line_once_in_force",
            )
        ]

    def __str__(self) -> str:
        return f"{self.remittance_id} {self.invoice_id}"
