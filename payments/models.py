"""Moving real money: payment runs, payments to providers (Stripe or Bacs), Bacs files, Stripe events, and
funding received from agencies.

A payment run groups the approved invoices it finds per provider into payments. A payment's public id is
the Stripe idempotency key of its transfer and the reference in its Bacs record, so a retry never pays
twice. An invoice belongs to at most one payment that is still in force (a database constraint), so two
runs can never pay it twice either.
"""

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _suffix(length: int = 20) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_payment_run_id() -> str:
    return "prun_" + _suffix()


def new_payment_id() -> str:
    # At most 18 characters: it is the reference field of a Bacs record.
    return "pay_" + _suffix(14)


def new_bacs_file_id() -> str:
    return "bacs_" + _suffix()


def new_funding_receipt_id() -> str:
    return "rcv_" + _suffix()


class Rail(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    BACS = "bacs", "Bank transfer (Bacs)"


class PaymentRunStatus(models.TextChoices):
    RUNNING = "running", "Paying"
    WAITING_FOR_UPLOAD = "waiting_for_upload", "Waiting for finance to upload the Bacs file"
    DONE = "done", "Done"
    DONE_WITH_FAILURES = "done_with_failures", "Done, with payments that failed"


class PaymentRun(models.Model):
    """One run: every approved invoice due, grouped per provider, paid by each provider's rail."""

    public_id = models.CharField(max_length=32, unique=True, default=new_payment_run_id, editable=False)
    status = models.CharField(
        max_length=24, choices=PaymentRunStatus.choices, default=PaymentRunStatus.RUNNING
    )
    pay_on = models.DateField(help_text="The Bacs processing day (a working day); Stripe pays at once.")
    created_by = models.ForeignKey("people.User", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    invoices = models.PositiveIntegerField(default=0)
    payments = models.PositiveIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="GBP")
    skipped = models.JSONField(
        default=list,
        blank=True,
        help_text="[{provider, name, invoices, reason}]: providers the run could not pay.",
    )
    error = models.TextField(blank=True, help_text="Why the run stopped, when it did.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="payment_run_status_valid", condition=Q(status__in=PaymentRunStatus.values)
            ),
            models.UniqueConstraint(
                fields=["currency"],
                condition=Q(status="running"),
                name="payment_run_one_running",
                violation_error_message="A payment run is already running.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    IN_FILE = "in_file", "In a Bacs file, waiting for finance to upload it"
    SENT = "sent", "Sent"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    REVERSED = "reversed", "Reversed"
    CANCELLED = "cancelled", "Cancelled (the Bacs file was not uploaded)"


# Payments in these states hold their invoices; the others have let them go.
HOLDING_STATUSES = (PaymentStatus.PENDING, PaymentStatus.IN_FILE, PaymentStatus.SENT, PaymentStatus.PAID)
# States a payment never leaves.
FINAL_STATUSES = (PaymentStatus.FAILED, PaymentStatus.REVERSED, PaymentStatus.CANCELLED)


class Payment(models.Model):
    """One payment to one provider of one or more approved invoices, by one rail."""

    public_id = models.CharField(max_length=18, unique=True, default=new_payment_id, editable=False)
    run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="payment_set")
    provider = models.ForeignKey("people.Organisation", on_delete=models.PROTECT, related_name="payments")
    rail = models.CharField(max_length=8, choices=Rail.choices)
    status = models.CharField(max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    # Where the money goes, as it stood when the run was made (the provider may change it later).
    destination = models.CharField(max_length=64, help_text="acct_... or the sort code and account number.")
    destination_name = models.CharField(max_length=140, blank=True)
    stripe_transfer_id = models.CharField(max_length=64, blank=True)
    bacs_file = models.ForeignKey(
        "payments.BacsFile", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    remittance = models.ForeignKey(
        "invoicing.Remittance", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    clearing_transaction = models.CharField(max_length=32, blank=True)
    settled_transaction = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the last attempt failed, in plain English.")
    warning_acknowledged_at = models.DateTimeField(null=True, blank=True)
    warning_acknowledged_by = models.ForeignKey(
        "people.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(name="payment_status_valid", condition=Q(status__in=PaymentStatus.values)),
            models.CheckConstraint(name="payment_rail_valid", condition=Q(rail__in=Rail.values)),
            models.CheckConstraint(name="payment_amount_positive", condition=Q(amount_minor__gt=0)),
        ]
        indexes = [
            models.Index(fields=["run", "status"], name="payment_by_run"),
            models.Index(fields=["stripe_transfer_id"], name="payment_by_transfer"),
            models.Index(fields=["status", "warning_acknowledged_at"], name="payment_warnings"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.rail} {self.status}"


class PaymentInvoice(models.Model):
    """One invoice a payment pays, and how much of it (the rest of its reservation is released)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="lines")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    amount_minor = models.BigIntegerField()
    # Copied from the payment so the database can say "one payment in force per invoice".
    holding = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(holding=True), name="payment_invoice_once_in_force"
            ),
            models.CheckConstraint(name="payment_invoice_amount_positive", condition=Q(amount_minor__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.invoice_id}"


class BacsFileStatus(models.TextChoices):
    WRITTEN = "written", "Written, waiting for finance to upload it"
    UPLOADED = "uploaded", "Uploaded by finance"
    CANCELLED = "cancelled", "Cancelled: not uploaded"


class BacsFile(models.Model):
    """A Bacs Standard 18 payment file for the finance team to upload to the bank."""

    public_id = models.CharField(max_length=32, unique=True, default=new_bacs_file_id, editable=False)
    run = models.OneToOneField(PaymentRun, on_delete=models.PROTECT, related_name="bacs_file")
    file_number = models.PositiveIntegerField(unique=True)
    processing_day = models.DateField()
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    credits = models.PositiveIntegerField()
    total_minor = models.BigIntegerField()
    status = models.CharField(max_length=12, choices=BacsFileStatus.choices, default=BacsFileStatus.WRITTEN)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey("people.User", on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="bacs_file_status_valid", condition=Q(status__in=BacsFileStatus.values)
            )
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def filename(self) -> str:
        return f"purse-bacs-{self.processing_day.isoformat()}-{self.file_number:06d}.txt"


class StripeEvent(models.Model):
    """A Stripe event Purse has seen: stored once by its id, so a repeat changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=64)
    created = models.DateTimeField(help_text="When Stripe made the event.")
    received_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=8, default="webhook", help_text="webhook or refetch")
    acted = models.BooleanField(default=False, help_text="Whether Purse changed anything because of it.")
    outcome = models.TextField(blank=True)
    payload = models.JSONField()

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class FundingReceipt(models.Model):
    """Money an agency paid in for instalments of its stream: the stream's receivable to cash."""

    public_id = models.CharField(max_length=32, unique=True, default=new_funding_receipt_id, editable=False)
    stream = models.ForeignKey("budgets.FundingStream", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=64, help_text="The agency's payment reference.")
    received_on = models.DateField()
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    ledger_transaction = models.CharField(max_length=32)
    recorded_by = models.ForeignKey("people.User", on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    instalments = models.ManyToManyField("budgets.Instalment", related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "reference"], name="funding_receipt_reference_once"),
            models.CheckConstraint(name="funding_receipt_positive", condition=Q(amount_minor__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.reference}"


def new_reclaim_notice_id() -> str:
    return "rcl_" + _suffix()


class ReclaimStatus(models.TextChoices):
    NOTIFIED = "notified", "Notice given"
    RESPONDED = "responded", "Budget holder responded"
    WITHDRAWN = "withdrawn", "Withdrawn"
    RECLAIMED = "reclaimed", "Reclaimed"


OPEN_RECLAIM_STATUSES = (ReclaimStatus.NOTIFIED, ReclaimStatus.RESPONDED)


class ReclaimNotice(models.Model):
    """Notice to a budget holder that part of a stream's money they hold is to be reclaimed as surplus, at
    least the stream's notice period ahead; they may respond; then it is reclaimed (or withdrawn)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_reclaim_notice_id, editable=False)
    budget_holder = models.ForeignKey("people.BudgetHolder", on_delete=models.PROTECT, related_name="+")
    stream = models.ForeignKey("budgets.FundingStream", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=ReclaimStatus.choices, default=ReclaimStatus.NOTIFIED)
    notice_given_on = models.DateField()
    reclaim_on = models.DateField()
    raised_by = models.ForeignKey("people.User", on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now, editable=False)
    response = models.TextField(blank=True)
    responded_by = models.ForeignKey("people.User", on_delete=models.PROTECT, null=True, related_name="+")
    responded_at = models.DateTimeField(null=True)
    withdrawn_by = models.ForeignKey("people.User", on_delete=models.PROTECT, null=True, related_name="+")
    withdrawn_at = models.DateTimeField(null=True)
    withdrawal_reason = models.TextField(blank=True)
    reclaimed_minor = models.BigIntegerField(null=True)
    reclaimed_by = models.ForeignKey("people.User", on_delete=models.PROTECT, null=True, related_name="+")
    reclaimed_at = models.DateTimeField(null=True)
    ledger_transaction = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [models.Index(fields=["stream", "status"], name="reclaim_stream_status")]
        constraints = [
            models.CheckConstraint(name="reclaim_amount_positive", condition=Q(amount_minor__gt=0)),
            models.CheckConstraint(name="reclaim_status_valid", condition=Q(status__in=ReclaimStatus.values)),
            models.CheckConstraint(
                name="reclaim_after_notice", condition=Q(reclaim_on__gt=models.F("notice_given_on"))
            ),
            models.CheckConstraint(
                name="reclaim_reclaimed_complete",
                condition=~Q(status=ReclaimStatus.RECLAIMED)
                | Q(reclaimed_minor__gt=0, reclaimed_minor__lte=models.F("amount_minor"))
                & ~Q(ledger_transaction=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"
