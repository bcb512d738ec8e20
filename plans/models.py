"""Support plans, their versions, outcomes, informal support and paid support items; reviews; the case
timeline.

A person has one `SupportPlan`; it has numbered `PlanVersion`s, every one kept. One version is active at a
time. A new version copies the one before it, row by row: an outcome and a support item keep their public
id (`out_...`, `si_...`) across versions, so that a provider's engagement and its invoices, and a
comparison between versions, follow the same item however often the plan changes. A public id is unique
within a version, not across versions.

Workflow (explicit, one service per transition, each written to the timeline):

    draft --agree (budget holder or a representative who may approve)--> agreed
    agreed --each stream's agency approves its part--> active (the version before becomes superseded)
    agreed --an agency returns its part with a reason--> draft (every stream approval of that round ends)

A version's `StreamApproval` rows are one per stream with items, per round of agreement; they hold the
stream's cash equivalent at agreement. Activation makes or changes the personal budgets through `budgets`.

The timeline (`TimelineEntry`) is append-only: entries are facts written explicitly by the service that
caused them; a correction is a new entry.
"""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from ledger.models import AppendOnlyModel
from people.models import new_public_id


def new_plan_id() -> str:
    return new_public_id("pln")


def new_plan_version_id() -> str:
    return new_public_id("plv")


def new_outcome_id() -> str:
    return new_public_id("out")


def new_informal_support_id() -> str:
    return new_public_id("inf")


def new_support_item_id() -> str:
    return new_public_id("si")


def new_review_id() -> str:
    return new_public_id("rev")


def new_timeline_entry_id() -> str:
    return new_public_id("tle")


class SupportPlan(models.Model):
    """The person's one plan; what changes over time are its versions."""

    public_id = models.CharField(max_length=24, unique=True, default=new_plan_id, editable=False)
    budget_holder = models.OneToOneField("people.BudgetHolder", on_delete=models.PROTECT, related_name="plan")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return self.public_id


class PlanVersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AGREED = "agreed", "Agreed by the budget holder, waiting for the agencies"
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Replaced by a newer version"
    WITHDRAWN = "withdrawn", "Withdrawn before it became active"


class PlanVersion(models.Model):
    """One version of a person's plan, for a budget period."""

    public_id = models.CharField(max_length=24, unique=True, default=new_plan_version_id, editable=False)
    plan = models.ForeignKey(SupportPlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_versions"
    )
    status = models.CharField(
        max_length=16, choices=PlanVersionStatus.choices, default=PlanVersionStatus.DRAFT
    )
    starts_on = models.DateField(help_text="The budget period this version plans for.")
    ends_on = models.DateField()
    effective_from = models.DateField(help_text="The day its money applies from (mid-period for a change).")
    summary = models.TextField(blank=True, help_text="About the person, in their own words.")
    change_reason = models.TextField(blank=True)
    review_due_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey("people.User", on_delete=models.PROTECT, null=True, related_name="+")
    agreed_at = models.DateTimeField(null=True, blank=True)
    agreed_by = models.ForeignKey(
        "people.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_unique"),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(status=PlanVersionStatus.ACTIVE), name="plan_one_active_version"
            ),
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status__in=[PlanVersionStatus.DRAFT, PlanVersionStatus.AGREED]),
                name="plan_one_version_in_progress",
            ),
            models.CheckConstraint(
                name="plan_version_ends_after_it_starts", condition=Q(ends_on__gte=F("starts_on"))
            ),
            models.CheckConstraint(
                name="plan_version_effective_inside_period",
                condition=Q(effective_from__gte=F("starts_on"), effective_from__lte=F("ends_on")),
            ),
            models.CheckConstraint(
                name="plan_version_status_valid", condition=Q(status__in=PlanVersionStatus.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} v{self.number} ({self.status})"


class Outcome(models.Model):
    """What the person wants to achieve, in their own words, and what success looks like to them."""

    public_id = models.CharField(max_length=24, default=new_outcome_id)
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="outcomes")
    position = models.PositiveIntegerField(default=0)
    in_own_words = models.TextField()
    success_looks_like = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "public_id"], name="outcome_id_unique_in_version")
        ]

    def __str__(self) -> str:
        return self.in_own_words[:60]


class InformalSupport(models.Model):
    """Family, friends, neighbours or community support towards an outcome: who, what, and no cost."""

    public_id = models.CharField(max_length=24, default=new_informal_support_id)
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="informal_supports")
    outcome = models.ForeignKey(Outcome, on_delete=models.PROTECT, related_name="informal_supports")
    who = models.CharField(max_length=200)
    what = models.TextField()
    how_often = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "public_id"], name="informal_support_id_unique_in_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.who}: {self.what[:40]}"


class SupportItem(models.Model):
    """Paid support: a catalogue service (or a described item with its own cost), how much, how often,
    from whom, funded by which stream (or split), serving which outcomes."""

    public_id = models.CharField(max_length=24, default=new_support_item_id)
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="support_items")
    position = models.PositiveIntegerField(default=0)
    service = models.ForeignKey(
        "budgets.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stream = models.ForeignKey(
        "budgets.FundingStream",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The stream that funds it (for a split, the first stream of the split).",
    )
    description = models.CharField(max_length=200)
    unit = models.CharField(max_length=16, blank=True, help_text="For a described item: its unit.")
    unit_cost_minor = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="For a described item: its own cost.",
    )
    quantity = models.DecimalField(max_digits=9, decimal_places=2, validators=[MinValueValidator(0)])
    per = models.CharField(max_length=16)
    split = models.JSONField(
        default=dict,
        blank=True,
        help_text="Empty, or a split as in the cash-equivalents API (percent, or cap and rest).",
    )
    provider = models.ForeignKey(
        "people.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    agreed_rate_minor = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="The rate agreed with the provider.",
    )
    outcomes = models.ManyToManyField(Outcome, related_name="support_items", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "public_id"], name="support_item_id_unique_in_version"
            ),
            models.CheckConstraint(
                name="support_item_service_or_own_cost",
                condition=Q(service__isnull=False, unit_cost_minor__isnull=True)
                | Q(service__isnull=True, unit_cost_minor__isnull=False),
            ),
            models.CheckConstraint(name="support_item_quantity_positive", condition=Q(quantity__gt=0)),
        ]
        indexes = [models.Index(fields=["public_id"], name="support_item_public_id")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.description}"


class StreamApprovalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the agency"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned for changes"
    CANCELLED = "cancelled", "Ended: another agency returned the plan"


class StreamApproval(models.Model):
    """One stream's part of an agreed version, for its agency to approve or return; one per round."""

    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="stream_approvals")
    stream = models.ForeignKey("budgets.FundingStream", on_delete=models.PROTECT, related_name="+")
    round = models.PositiveIntegerField(default=1)
    amount_minor = models.BigIntegerField(help_text="The stream's cash equivalent when the plan was agreed.")
    currency = models.CharField(max_length=3)
    explanation = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=StreamApprovalStatus.choices, default=StreamApprovalStatus.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "people.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "stream", "round"], name="stream_approval_once_per_round"
            ),
            models.CheckConstraint(
                name="stream_approval_status_valid", condition=Q(status__in=StreamApprovalStatus.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version_id} {self.stream_id} round {self.round}: {self.status}"


class Review(models.Model):
    """A review of an active plan: progress on each outcome, and when the next review is due."""

    public_id = models.CharField(max_length=24, unique=True, default=new_review_id, editable=False)
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="reviews")
    held_on = models.DateField()
    held_by = models.ForeignKey("people.User", on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(blank=True)
    next_review_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="review_next_after_held", condition=Q(next_review_on__gt=F("held_on"))
            )
        ]

    def __str__(self) -> str:
        return f"{self.public_id} on {self.held_on}"


class Progress(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    SOME_PROGRESS = "some_progress", "Some progress"
    MOSTLY_ACHIEVED = "mostly_achieved", "Mostly achieved"
    ACHIEVED = "achieved", "Achieved"


class OutcomeProgress(models.Model):
    """Progress on one outcome, recorded at a review."""

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="progress")
    outcome = models.ForeignKey(Outcome, on_delete=models.PROTECT, related_name="progress")
    progress = models.CharField(max_length=16, choices=Progress.choices)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "outcome"], name="outcome_progress_once_per_review"),
            models.CheckConstraint(name="outcome_progress_valid", condition=Q(progress__in=Progress.values)),
        ]

    def __str__(self) -> str:
        return f"{self.outcome_id}: {self.progress}"


class TimelineVisibility(models.TextChoices):
    SHARED = "shared", "Shared with the person"
    STAFF = "staff", "Staff only"


class TimelineEntry(AppendOnlyModel):
    """Something that happened to a budget holder: a fact, written once by the service that caused it."""

    public_id = models.CharField(max_length=24, unique=True, default=new_timeline_entry_id, editable=False)
    budget_holder = models.ForeignKey(
        "people.BudgetHolder", on_delete=models.PROTECT, related_name="timeline"
    )
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=48, help_text="What happened, e.g. plan.agreed, message, note.")
    visibility = models.CharField(
        max_length=8, choices=TimelineVisibility.choices, default=TimelineVisibility.SHARED
    )
    actor = models.ForeignKey(
        "people.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    for_person = models.TextField(help_text="Plain English, as the budget holder reads it.")
    for_staff = models.TextField(blank=True, help_text="The detail staff see; empty means the same text.")
    body = models.TextField(blank=True, help_text="A message's or note's own words.")
    stream = models.ForeignKey(
        "budgets.FundingStream", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )

    class Meta:
        indexes = [models.Index(fields=["budget_holder", "-at", "-id"], name="timeline_by_person")]
        constraints = [
            models.CheckConstraint(
                name="timeline_visibility_valid", condition=Q(visibility__in=TimelineVisibility.values)
            )
        ]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.kind}"


def new_engagement_id() -> str:
    return new_public_id("eng")


class EngagementQuerySet(models.QuerySet):
    def current(self) -> "EngagementQuerySet":
        """Engagements still in force: not replaced by a later version's."""
        return self.filter(replaced_at__isnull=True)

    def covering(self, day) -> "EngagementQuerySet":
        return self.filter(starts_on__lte=day, ends_on__gte=day)


class Engagement(models.Model):
    """A provider engaged to deliver one support item of a person's active plan, at an agreed rate, between
    two dates. Made by the plan's activation from each item that names a provider.

    A later version that keeps the item ends this engagement the day before it takes effect (`ends_on` is
    cut) and makes its own, so the rate on any service date is the rate of the engagement covering it. An
    engagement that a later version replaces from its first day is marked `replaced_at` and covers nothing.
    The stream shares are the item's costed amount per stream (its split), the weights that attribute each
    invoiced amount to the streams that pay for it.
    """

    public_id = models.CharField(max_length=24, unique=True, default=new_engagement_id, editable=False)
    budget_holder = models.ForeignKey(
        "people.BudgetHolder", on_delete=models.PROTECT, related_name="engagements"
    )
    provider = models.ForeignKey("people.Organisation", on_delete=models.PROTECT, related_name="engagements")
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="engagements")
    support_item_public_id = models.CharField(max_length=24)
    service_code = models.CharField(max_length=32, blank=True)
    description = models.CharField(max_length=200)
    unit = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    agreed_rate_minor = models.BigIntegerField(validators=[MinValueValidator(0)])
    planned_quantity = models.DecimalField(max_digits=12, decimal_places=2)
    starts_on = models.DateField()
    ends_on = models.DateField()
    stream_shares = models.JSONField(
        default=list, help_text='[{"stream": "ASC", "weight": 1250000}, ...]: the item\'s cost per stream.'
    )
    outcome_public_ids = models.JSONField(default=list, help_text="The outcomes the item serves (out_...).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    replaced_at = models.DateTimeField(null=True, blank=True)

    objects = EngagementQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="engagement_ends_after_it_starts", condition=Q(ends_on__gte=F("starts_on"))
            ),
            models.CheckConstraint(
                name="engagement_rate_not_negative", condition=Q(agreed_rate_minor__gte=0)
            ),
            models.UniqueConstraint(
                fields=["version", "support_item_public_id"], name="engagement_once_per_version_item"
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "budget_holder"], name="engagement_by_provider"),
            models.Index(fields=["budget_holder", "support_item_public_id"], name="engagement_by_item"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.support_item_public_id} ({self.starts_on} to {self.ends_on})"
