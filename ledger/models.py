"""The ledger's data: a generic double-entry engine that knows nothing of budgets.

Design
------
* An **account** has a type (asset, liability, income, expense, equity), one currency, an opaque owner
  (`owner_type` + `owner_id`, never interpreted here) and a stable unique `key` that callers use to get or
  create it (`"person:per_x:stream:ASC:funds-held"`). Its public id is `acc_` + random characters.
* A **transaction** is two or more **postings**, each a positive amount of integer minor units on one side
  (debit or credit) of one account. All accounts of a transaction share its currency, and its debits equal
  its credits. The service refuses anything else first; on PostgreSQL a `DEFERRABLE INITIALLY DEFERRED`
  constraint trigger refuses it again at commit, so no code path (raw SQL included) can commit an
  unbalanced transaction.
* **Append-only.** Transactions, postings, pending resolutions and period closes are facts: never updated,
  never deleted. The models refuse `save()` of an existing row and `delete()`, their querysets refuse
  `update()` and `delete()`, foreign keys `PROTECT`, the admin is read-only, and on PostgreSQL triggers
  refuse UPDATE, DELETE and TRUNCATE. A mistake is corrected by a reversing transaction
  (`transaction_reverse`), linked to the one it reverses; a transaction is reversed at most once.
* **Idempotent.** Every request that writes carries an idempotency key, unique in the database, beside a
  SHA-256 of the request's canonical content. The same key with the same content returns what the first
  request made; the same key with other content is `idempotency_key_reused`.
* **Two-phase.** A *pending* transaction reserves money: it counts against the available balance but not
  the posted balance. It is later resolved exactly once (a `PendingResolution` row, one per pending
  transaction): *posted*, in full or in part (a new posted transaction of the amounts taken, the rest
  released), or *voided*.
* **Balances.** Each account row carries four running totals in minor units, as in TigerBeetle:
  `debits_pending`, `debits_posted`, `credits_pending`, `credits_posted`. Services update them in the same
  database transaction as the postings, last, one UPDATE per account in account-id order (so concurrent
  writers cannot deadlock, and the row lock is held only until the commit), so the current balance is one
  row read however many postings the account has. Asset and expense accounts are debit-normal, the others
  credit-normal; the posted balance is the normal side minus the other side, and the available balance
  also takes off pending amounts that would reduce it. An account with `allow_negative=False` may never
  have a negative available balance: the service's UPDATE checks it under the row lock it takes (and
  raises `insufficient_funds`), and a database check constraint refuses it again.
* **The past.** Postings carry their transaction's `effective_on` and `kind`, indexed by
  `(account, effective_on)`, so a balance on any past date is one aggregate over the account's postings; a
  pending reservation counts on the dates from its own `effective_on` until its resolution's.
* **Period close.** Once a period is closed through a date, nothing may be posted, reserved, resolved or
  reversed with an effective date on or before it. On PostgreSQL writers take a shared advisory lock and
  `period_close` the exclusive one, so a close cannot race a posting; SQLite serialises writers already.
"""

import base64
import secrets

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from ledger.errors import DomainError

_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _random_suffix() -> str:
    # 24 characters of 0-9a-z: 120 random bits in base 32 (a-z, 2-7), so ids can neither be guessed nor
    # walked; cheap enough for bulk work such as reconciliation, which makes thousands at once.
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def new_account_id() -> str:
    return "acc_" + _random_suffix()


def new_transaction_id() -> str:
    return "txn_" + _random_suffix()


class AppendOnlyViolation(DomainError):
    code = "append_only"
    message = "Ledger records are never changed or deleted; correct a mistake with a reversing transaction."
    http_status = 409


class AppendOnlyQuerySet(models.QuerySet):
    """A queryset that may create and read rows but never update or delete them."""

    def update(self, **kwargs):
        raise AppendOnlyViolation(f"{self.model.__name__} rows cannot be updated.")

    def delete(self):
        raise AppendOnlyViolation(f"{self.model.__name__} rows cannot be deleted.")

    update.alters_data = True
    delete.alters_data = True
    delete.queryset_only = True


class AppendOnlyModel(models.Model):
    """Guards against changing a saved row through the ORM; PostgreSQL triggers guard raw SQL."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyViolation(f"{type(self).__name__} {self.pk} cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyViolation(f"{type(self).__name__} {self.pk} cannot be deleted.")


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"
    EQUITY = "equity", "Equity"

    @property
    def is_debit_normal(self) -> bool:
        return self.value in ("asset", "expense")


class Side(models.TextChoices):
    DEBIT = "debit", "Debit"
    CREDIT = "credit", "Credit"


class TransactionKind(models.TextChoices):
    POSTED = "posted", "Posted"
    PENDING = "pending", "Pending"


class PendingOutcome(models.TextChoices):
    POSTED = "posted", "Posted"
    VOIDED = "voided", "Voided"


_DEBIT_NORMAL = [AccountType.ASSET.value, AccountType.EXPENSE.value]
_CREDIT_NORMAL = [AccountType.LIABILITY.value, AccountType.INCOME.value, AccountType.EQUITY.value]


class Account(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_account_id, editable=False)
    key = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=AccountType.choices)
    currency = models.CharField(max_length=3)
    owner_type = models.CharField(max_length=50, blank=True)
    owner_id = models.CharField(max_length=64, blank=True)
    allow_negative = models.BooleanField(default=False)
    # Running totals, in minor units, kept by the services under the row lock (see the module docstring).
    debits_pending = models.BigIntegerField(default=0, editable=False)
    debits_posted = models.BigIntegerField(default=0, editable=False)
    credits_pending = models.BigIntegerField(default=0, editable=False)
    credits_posted = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["owner_type", "owner_id"], name="ledger_account_owner")]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=AccountType.values), name="ledger_account_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(debits_pending__gte=0)
                & Q(debits_posted__gte=0)
                & Q(credits_pending__gte=0)
                & Q(credits_posted__gte=0),
                name="ledger_account_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(allow_negative=True)
                | Q(type__in=_DEBIT_NORMAL, debits_posted__gte=F("credits_posted") + F("credits_pending"))
                | Q(type__in=_CREDIT_NORMAL, credits_posted__gte=F("debits_posted") + F("debits_pending")),
                name="ledger_account_available_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"

    @property
    def is_debit_normal(self) -> bool:
        return AccountType(self.type).is_debit_normal

    @property
    def posted_minor(self) -> int:
        return balance_posted(
            is_debit_normal=self.is_debit_normal,
            debits_posted=self.debits_posted,
            credits_posted=self.credits_posted,
        )

    @property
    def available_minor(self) -> int:
        return balance_available(
            is_debit_normal=self.is_debit_normal,
            debits_posted=self.debits_posted,
            credits_posted=self.credits_posted,
            debits_pending=self.debits_pending,
            credits_pending=self.credits_pending,
        )


def balance_posted(*, is_debit_normal: bool, debits_posted: int, credits_posted: int) -> int:
    """Posted balance on the account's normal side."""
    return debits_posted - credits_posted if is_debit_normal else credits_posted - debits_posted


def balance_available(
    *,
    is_debit_normal: bool,
    debits_posted: int,
    credits_posted: int,
    debits_pending: int,
    credits_pending: int,
) -> int:
    """Posted balance less the pending amounts that would reduce it."""
    posted = balance_posted(
        is_debit_normal=is_debit_normal, debits_posted=debits_posted, credits_posted=credits_posted
    )
    return posted - (credits_pending if is_debit_normal else debits_pending)


class Transaction(AppendOnlyModel):
    public_id = models.CharField(max_length=32, unique=True, default=new_transaction_id, editable=False)
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    currency = models.CharField(max_length=3)
    description = models.TextField()
    effective_on = models.DateField()
    metadata = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["effective_on"], name="ledger_transaction_effective")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=TransactionKind.values), name="ledger_transaction_kind"
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(kind=TransactionKind.POSTED),
                name="ledger_transaction_reversal_posted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.effective_on} {self.description}"


class Posting(AppendOnlyModel):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="postings")
    # Indexed by (account, effective_on) below, which also serves lookups by account alone.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings", db_index=False)
    side = models.CharField(max_length=6, choices=Side.choices)
    amount_minor = models.BigIntegerField()
    # Copies of the transaction's, so a past-date balance reads one index.
    effective_on = models.DateField()
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)

    class Meta:
        indexes = [
            models.Index(fields=["account", "effective_on"], name="ledger_posting_account_on"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="ledger_posting_amount_positive"),
            models.CheckConstraint(condition=Q(side__in=Side.values), name="ledger_posting_side"),
            models.CheckConstraint(condition=Q(kind__in=TransactionKind.values), name="ledger_posting_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.amount_minor} on account {self.account_id}"


class PendingResolution(AppendOnlyModel):
    """How a pending transaction ended: posted (in full or in part) or voided. At most one per pending."""

    pending = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="resolution")
    outcome = models.CharField(max_length=16, choices=PendingOutcome.choices)
    posting_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="resolves"
    )
    effective_on = models.DateField()
    reason = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome=PendingOutcome.POSTED, posting_transaction__isnull=False)
                | Q(outcome=PendingOutcome.VOIDED, posting_transaction__isnull=True),
                name="ledger_resolution_outcome_matches",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} {self.pending_id} on {self.effective_on}"


class PeriodClose(AppendOnlyModel):
    """Nothing may be posted with an effective date on or before `closed_through`."""

    closed_through = models.DateField(unique=True)
    closed_by = models.CharField(max_length=200)
    closed_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"closed through {self.closed_through}"


# Reconciliation's models live beside the engine in ledger/reconciliation/; importing them here registers
# them with the ledger app.
from ledger.reconciliation.models import (  # noqa: E402, F401
    MatchItem,
    ReconciledPeriod,
    ReconciliationAccount,
    ReconciliationMatch,
    StatementImport,
    StatementLine,
)
