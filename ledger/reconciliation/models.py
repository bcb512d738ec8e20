"""Reconciliation's data: the bank and processor accounts Purse reconciles, their imported statements and
lines, and each line's match to ledger transactions.

* A **reconciliation account** (`rca_`) is one real account outside Purse (a bank account, a Stripe
  balance) and the ledger account that mirrors it (`ledger_account`, an asset). `transit_accounts` are the
  ledger accounts whose money is on its way through it (Bacs payments recorded but not yet seen leaving the
  bank): a match to one of their transactions also moves it to `ledger_account` (a *settlement*).
  `batch_keys` name the transaction metadata keys that group transactions the real account shows as one
  line (a Bacs file). `csv_mapping` is the saved column mapping for the bank's CSV exports.
* A **statement import** (`imp_`) is one file, kept by its SHA-256 (unique per account: the same file twice
  imports nothing). Its **lines** (`stl_`) carry a fingerprint unique per account, so an overlapping
  statement's lines already imported are skipped and counted, never doubled.
* A **match** (`rcm_`) ties one line to one or more transactions, with how it was found and why, in plain
  English. It is `suggested` (waiting for a person), `matched` (found certain, or confirmed by a person),
  `rejected` or `unmatched` (undone). Its items say which transactions and for how much. While a match is
  in force, its transactions are claimed on that reconciliation account: a partial unique constraint
  refuses claiming one transaction twice there (the same Stripe payout may be in both the bank's and
  Stripe's reconciliation).
* A **reconciled period** records that a finance officer checked an account through a date, with the
  figures they saw; once every account is reconciled through a date, the ledger is closed through it.

People are recorded by username: the ledger knows nothing of Purse's users.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models import Account, Transaction, _random_suffix


def new_reconciliation_account_id() -> str:
    return "rca_" + _random_suffix()


def new_import_id() -> str:
    return "imp_" + _random_suffix()


def new_line_id() -> str:
    return "stl_" + _random_suffix()


def new_match_id() -> str:
    return "rcm_" + _random_suffix()


def new_reconciled_period_id() -> str:
    return "rcp_" + _random_suffix()


class ReconciliationAccountKind(models.TextChoices):
    BANK = "bank", "Bank account"
    STRIPE = "stripe", "Stripe balance"


class ReconciliationAccount(models.Model):
    public_id = models.CharField(
        max_length=32, unique=True, default=new_reconciliation_account_id, editable=False
    )
    key = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ReconciliationAccountKind.choices)
    currency = models.CharField(max_length=3)
    # What the bank or Stripe calls the account (sort code and number, IBAN, acct_...); "" accepts any file.
    identifier = models.CharField(max_length=100, blank=True)
    ledger_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    transit_accounts = models.ManyToManyField(Account, related_name="+", blank=True)
    batch_keys = models.JSONField(default=list, blank=True)
    csv_mapping = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ReconciliationAccountKind.values), name="recon_account_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class StatementImport(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_import_id, editable=False)
    account = models.ForeignKey(ReconciliationAccount, on_delete=models.PROTECT, related_name="imports")
    format = models.CharField(max_length=20)
    file_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    opening_balance_minor = models.BigIntegerField(null=True)
    closing_balance_minor = models.BigIntegerField(null=True)
    period_start = models.DateField(null=True)
    period_end = models.DateField(null=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.PROCESSING)
    lines_in_file = models.PositiveIntegerField(default=0)
    lines_new = models.PositiveIntegerField(default=0)
    lines_already_imported = models.PositiveIntegerField(default=0)
    lines_checked = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    imported_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "sha256"], name="recon_import_file_once"),
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="recon_import_status"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.file_name}"


class LineState(models.TextChoices):
    UNMATCHED = "unmatched", "Unmatched"
    SUGGESTED = "suggested", "Suggested"
    MATCHED = "matched", "Matched"


class StatementLine(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_line_id, editable=False)
    account = models.ForeignKey(ReconciliationAccount, on_delete=models.PROTECT, related_name="lines")
    statement_import = models.ForeignKey(StatementImport, on_delete=models.PROTECT, related_name="lines")
    line_number = models.PositiveIntegerField()
    booked_on = models.DateField()
    value_on = models.DateField(null=True)
    amount_minor = models.BigIntegerField()
    reference = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    bank_id = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=50, blank=True)
    batch = models.CharField(max_length=100, blank=True)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=LineState.choices, default=LineState.UNMATCHED)
    # Set once the automatic passes have looked at the line (a resumed import skips it).
    checked_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["statement_import", "state"], name="recon_line_import_state"),
            models.Index(fields=["account", "booked_on"], name="recon_line_account_on"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["account", "fingerprint"], name="recon_line_once"),
            models.CheckConstraint(condition=Q(state__in=LineState.values), name="recon_line_state"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.booked_on} {self.amount_minor}"


class MatchStatus(models.TextChoices):
    SUGGESTED = "suggested", "Suggested"
    MATCHED = "matched", "Matched"
    REJECTED = "rejected", "Rejected"
    UNMATCHED = "unmatched", "Unmatched"


class MatchHow(models.TextChoices):
    REFERENCE = "reference", "Reference and amount"
    BATCH = "batch", "One line for several transactions, by exact sum"
    AMOUNT_DATE = "amount_date", "Amount and date"
    REFERENCE_AMOUNT_DIFFERS = "reference_amount_differs", "Reference, but the amount differs"
    SAME_DAY_SUM = "same_day_sum", "Sum of one day's transactions"
    MANUAL = "manual", "Matched by a person"


IN_FORCE = ("suggested", "matched")


class ReconciliationMatch(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_match_id, editable=False)
    account = models.ForeignKey(ReconciliationAccount, on_delete=models.PROTECT, related_name="matches")
    line = models.ForeignKey(StatementLine, on_delete=models.PROTECT, related_name="matches")
    status = models.CharField(max_length=16, choices=MatchStatus.choices)
    how = models.CharField(max_length=32, choices=MatchHow.choices)
    explanation = models.TextField()
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_by = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True)
    note = models.TextField(blank=True)
    # The transaction that moved the matched transit items' money to the ledger account, if any.
    settlement = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unsettlement = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["line", "status"], name="recon_match_line_status")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=MatchStatus.values), name="recon_match_status"),
            models.CheckConstraint(condition=Q(how__in=MatchHow.values), name="recon_match_how"),
            # A line has at most one match in force that is certain.
            models.UniqueConstraint(
                fields=["line"], condition=Q(status="matched"), name="recon_match_one_per_line"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status} {self.how}"


class MatchItem(models.Model):
    match = models.ForeignKey(ReconciliationMatch, on_delete=models.PROTECT, related_name="items")
    account = models.ForeignKey(ReconciliationAccount, on_delete=models.PROTECT, related_name="+")
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")
    # Signed, as the reconciliation account sees it: + money in, - money out.
    amount_minor = models.BigIntegerField()
    # On a transit account (moved to the ledger account when matched).
    in_transit = models.BooleanField(default=False)
    claimed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "transaction"], condition=Q(claimed=True), name="recon_item_claimed_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_id} {self.amount_minor}"


class ReconciledPeriod(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_reconciled_period_id, editable=False)
    account = models.ForeignKey(ReconciliationAccount, on_delete=models.PROTECT, related_name="periods")
    period_start = models.DateField()
    period_end = models.DateField()
    bank_balance_minor = models.BigIntegerField()
    ledger_balance_minor = models.BigIntegerField()
    unmatched_lines_minor = models.BigIntegerField()
    unmatched_items_minor = models.BigIntegerField()
    note = models.TextField(blank=True)
    reconciled_by = models.CharField(max_length=200)
    reconciled_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "period_end"], name="recon_period_once"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="recon_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} through {self.period_end}"
