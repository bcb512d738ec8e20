"""Issued statements (what was sent, kept for good) and month-end statement runs (their progress)."""

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models import AppendOnlyModel

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _suffix() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(24))


def new_statement_id() -> str:
    return "stm_" + _suffix()


def new_run_id() -> str:
    return "run_" + _suffix()


class StatementKind(models.TextChoices):
    PERSON = "person", "Person's statement"
    AGENCY = "agency", "Agency statement"


class IssuedStatement(AppendOnlyModel):
    """A statement as it was issued: its PDF, the SHA-256 of the PDF and its figures (the JSON), never
    changed afterwards. One per person (or stream) and period: issuing again returns it."""

    public_id = models.CharField(max_length=32, unique=True, default=new_statement_id, editable=False)
    kind = models.CharField(max_length=8, choices=StatementKind.choices)
    budget_holder = models.ForeignKey(
        "people.BudgetHolder", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stream = models.ForeignKey(
        "budgets.FundingStream", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveIntegerField()
    figures = models.JSONField(help_text="The statement's JSON, as issued.")
    run = models.ForeignKey(
        "statements.StatementRun", on_delete=models.PROTECT, null=True, blank=True, related_name="issued"
    )
    issued_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["budget_holder", "starts_on", "ends_on"],
                condition=Q(kind="person"),
                name="issued_person_statement_once",
            ),
            models.UniqueConstraint(
                fields=["stream", "starts_on", "ends_on"],
                condition=Q(kind="agency"),
                name="issued_agency_statement_once",
            ),
            models.CheckConstraint(
                name="issued_statement_has_its_subject",
                condition=(Q(kind="person", budget_holder__isnull=False, stream__isnull=True))
                | Q(kind="agency", stream__isnull=False, budget_holder__isnull=True),
            ),
            models.CheckConstraint(
                name="issued_statement_period", condition=Q(ends_on__gte=models.F("starts_on"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} {self.starts_on}..{self.ends_on}"


class RunStatus(models.TextChoices):
    PREPARING = "preparing", "Preparing the list of statements"
    RUNNING = "running", "Making statements"
    DONE = "done", "Done"
    DONE_WITH_FAILURES = "done_with_failures", "Done, with statements that failed"


class StatementRun(models.Model):
    """A month-end run: every person's and every stream's statement for one period, made on the workers."""

    public_id = models.CharField(max_length=32, unique=True, default=new_run_id, editable=False)
    starts_on = models.DateField()
    ends_on = models.DateField()
    status = models.CharField(max_length=24, choices=RunStatus.choices, default=RunStatus.PREPARING)
    total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey("people.User", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["starts_on", "ends_on"], name="statement_run_once_per_period"),
            models.CheckConstraint(
                name="statement_run_period", condition=Q(ends_on__gte=models.F("starts_on"))
            ),
            models.CheckConstraint(
                name="statement_run_status_valid", condition=Q(status__in=RunStatus.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.starts_on}..{self.ends_on}"


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class StatementRunItem(models.Model):
    """One statement of a run, and how making it went."""

    run = models.ForeignKey(StatementRun, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=8, choices=StatementKind.choices)
    budget_holder = models.ForeignKey(
        "people.BudgetHolder", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stream = models.ForeignKey(
        "budgets.FundingStream", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=8, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    issued = models.ForeignKey(
        IssuedStatement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "budget_holder"], condition=Q(kind="person"), name="run_item_person_once"
            ),
            models.UniqueConstraint(
                fields=["run", "stream"], condition=Q(kind="agency"), name="run_item_agency_once"
            ),
            models.CheckConstraint(name="run_item_status_valid", condition=Q(status__in=ItemStatus.values)),
        ]
        indexes = [models.Index(fields=["run", "status"], name="run_item_by_status")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.kind}:{self.budget_holder_id or self.stream_id} {self.status}"
