"""Funding streams, their rate catalogues, personal budgets and instalment schedules.

Streams and catalogues are data, not code: an administrator adds a council's own. A catalogue service has
rates over time; the rate on a date is the one with the latest `valid_from` on or before it (and, if it has
one, a `valid_to` on or after it), so a new April rate is a new row and history is never touched.

Money is integer minor units in the stream's currency (`*_minor`); arithmetic is in `ledger.money`.
A personal budget is one person's money from one stream for one budget period. A change makes a new
version that supersedes the old one (kept), and its instalment schedule replaces the old one's future
instalments; what was already posted to the ledger stays posted.
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from people.models import new_public_id


def new_personal_budget_id() -> str:
    return new_public_id("pb")


def new_instalment_id() -> str:
    return new_public_id("ins")


class PolicySector(models.TextChoices):
    SOCIAL_CARE = "social_care", "Social care"
    EMPLOYMENT = "employment", "Employment"
    HOUSING = "housing", "Housing"


class PaymentFrequency(models.TextChoices):
    FOUR_WEEKLY = "four_weekly", "Every 4 weeks"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    ONE_OFF = "one_off", "One-off"


class Unit(models.TextChoices):
    HOUR = "hour", "Hour"
    DAY = "day", "Day"
    NIGHT = "night", "Night"
    WEEK = "week", "Week"
    ITEM = "item", "Item"
    JOURNEY = "journey", "Journey"


class Per(models.TextChoices):
    """How often a quantity recurs in a package (api.md `per`)."""

    ONCE = "once", "Once"
    DAY = "day", "Every day"
    WEEK = "week", "Every week"
    FOUR_WEEKS = "four_weeks", "Every 4 weeks"
    MONTH = "month", "Every month"
    YEAR = "year", "Every year"


class OnCostKind(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage of the cost"
    FIXED_YEARLY = "fixed_yearly", "Fixed sum a year"


stream_code_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,15}$", "A stream code is 2 to 16 capital letters or digits, starting with a letter."
)
service_code_validator = RegexValidator(
    r"^[A-Z][A-Z0-9-]{1,31}$",
    "A service code is 2 to 32 capital letters, digits or hyphens, starting with a letter.",
)


class FundingStream(models.Model):
    """A pot of public money with its own rules, owned by one agency (Adult Social Care, Access to Work)."""

    code = models.CharField(max_length=16, unique=True, validators=[stream_code_validator])
    name = models.CharField(max_length=200)
    agency = models.ForeignKey(
        "people.Organisation",
        on_delete=models.PROTECT,
        related_name="funding_streams",
        limit_choices_to={"kind": "agency"},
    )
    policy_sector = models.CharField(max_length=16, choices=PolicySector.choices)
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=3, default="GBP")
    budget_year_start_month = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    budget_year_start_day = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    payment_frequency = models.CharField(
        max_length=16, choices=PaymentFrequency.choices, default=PaymentFrequency.FOUR_WEEKLY
    )
    charges_contribution = models.BooleanField(
        default=False, help_text="Whether the person may pay an assessed contribution towards this stream."
    )
    contingency_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Contingency added to the stream's subtotal and on-costs, as a percentage.",
    )
    surplus_threshold_weeks = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        default=8,
        validators=[MinValueValidator(0)],
        help_text="Unspent money above this many weeks of payments may be reclaimed.",
    )
    reclaim_notice_weeks = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(4), MaxValueValidator(52)],
        help_text="Weeks of notice a budget holder is given before a surplus is reclaimed (at least 4).",
    )
    initial_float_weeks = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(52)],
        help_text="Weeks of money paid in advance with the first instalment (0 for none).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="stream_contingency_0_to_100",
                condition=Q(contingency_percent__gte=0, contingency_percent__lte=100),
            ),
            models.CheckConstraint(
                name="stream_budget_year_start_valid",
                condition=Q(budget_year_start_month__gte=1, budget_year_start_month__lte=12)
                & Q(budget_year_start_day__gte=1, budget_year_start_day__lte=28),
            ),
            models.CheckConstraint(
                name="stream_surplus_threshold_not_negative", condition=Q(surplus_threshold_weeks__gte=0)
            ),
            models.CheckConstraint(
                name="stream_reclaim_notice_at_least_4_weeks",
                condition=Q(reclaim_notice_weeks__gte=4, reclaim_notice_weeks__lte=52),
            ),
            models.CheckConstraint(
                name="stream_frequency_valid", condition=Q(payment_frequency__in=PaymentFrequency.values)
            ),
            models.CheckConstraint(
                name="stream_sector_valid", condition=Q(policy_sector__in=PolicySector.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SpendingCategory(models.Model):
    """What a stream's money may be spent on (personal care, support at work, adaptations...)."""

    stream = models.ForeignKey(FundingStream, on_delete=models.PROTECT, related_name="spending_categories")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "code"], name="spending_category_unique_per_stream")
        ]
        verbose_name_plural = "spending categories"

    def __str__(self) -> str:
        return f"{self.stream.code}: {self.name}"


class Service(models.Model):
    """A service in a stream's rate catalogue (`ASC-PC` personal care, per hour); its costs are `Rate`s."""

    stream = models.ForeignKey(FundingStream, on_delete=models.PROTECT, related_name="services")
    service_code = models.CharField(max_length=32, unique=True, validators=[service_code_validator])
    description = models.CharField(max_length=200)
    unit = models.CharField(max_length=16, choices=Unit.choices)
    category = models.ForeignKey(
        SpendingCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="services"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.CheckConstraint(name="service_unit_valid", condition=Q(unit__in=Unit.values))]

    def __str__(self) -> str:
        return f"{self.service_code} {self.description}"


class Rate(models.Model):
    """A service's unit cost from a date; the next rate's `valid_from` ends it (or its own `valid_to`)."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="rates")
    unit_cost_minor = models.BigIntegerField(validators=[MinValueValidator(0)])
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Leave empty while the rate is current.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "valid_from"], name="rate_one_per_service_and_start"),
            models.CheckConstraint(name="rate_unit_cost_not_negative", condition=Q(unit_cost_minor__gte=0)),
            models.CheckConstraint(
                name="rate_ends_after_it_starts",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
            ),
        ]
        indexes = [models.Index(fields=["service", "-valid_from"], name="rate_service_latest")]

    def __str__(self) -> str:
        return f"{self.service.service_code} from {self.valid_from}"


class OnCostRule(models.Model):
    """An on-cost added to a service's (or every service of a stream's) cost: a percentage or a yearly sum.

    For example, employing a personal assistant: holiday pay 12.07%, employer's National Insurance, pension,
    employer's liability insurance 150.00 a year, a payroll service 240.00 a year.
    """

    stream = models.ForeignKey(
        FundingStream, on_delete=models.PROTECT, null=True, blank=True, related_name="on_cost_rules"
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="on_cost_rules"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=OnCostKind.choices)
    percent = models.DecimalField(
        max_digits=7, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    amount_minor_per_year = models.BigIntegerField(null=True, blank=True, validators=[MinValueValidator(0)])
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="on_cost_for_a_stream_or_a_service",
                condition=Q(stream__isnull=False, service__isnull=True)
                | Q(stream__isnull=True, service__isnull=False),
            ),
            models.CheckConstraint(
                name="on_cost_amount_fits_kind",
                condition=Q(kind=OnCostKind.PERCENTAGE, percent__gte=0, amount_minor_per_year__isnull=True)
                | Q(kind=OnCostKind.FIXED_YEARLY, amount_minor_per_year__gte=0, percent__isnull=True),
            ),
            models.CheckConstraint(
                name="on_cost_ends_after_it_starts",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PersonalBudgetStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Replaced by a newer version"


class PersonalBudget(models.Model):
    """One person's money from one stream for one budget period; a change makes a new version."""

    public_id = models.CharField(max_length=24, unique=True, default=new_personal_budget_id, editable=False)
    budget_holder = models.ForeignKey(
        "people.BudgetHolder", on_delete=models.PROTECT, related_name="personal_budgets"
    )
    stream = models.ForeignKey(FundingStream, on_delete=models.PROTECT, related_name="personal_budgets")
    starts_on = models.DateField()
    ends_on = models.DateField()
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField(validators=[MinValueValidator(0)])
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    effective_from = models.DateField(help_text="The first day this version's amount applies.")
    status = models.CharField(
        max_length=16, choices=PersonalBudgetStatus.choices, default=PersonalBudgetStatus.ACTIVE
    )
    explanation = models.JSONField(
        default=dict, blank=True, help_text="The cash-equivalent calculation for this stream, step by step."
    )
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        "people.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="personal_budget_amount_not_negative", condition=Q(amount_minor__gte=0)
            ),
            models.CheckConstraint(
                name="personal_budget_ends_after_it_starts", condition=Q(ends_on__gte=F("starts_on"))
            ),
            models.CheckConstraint(
                name="personal_budget_effective_inside_period",
                condition=Q(effective_from__gte=F("starts_on"), effective_from__lte=F("ends_on")),
            ),
            models.UniqueConstraint(
                fields=["budget_holder", "stream", "starts_on"],
                condition=Q(status=PersonalBudgetStatus.ACTIVE),
                name="personal_budget_one_active_per_period",
            ),
            models.UniqueConstraint(
                fields=["budget_holder", "stream", "starts_on", "version"],
                name="personal_budget_version_unique",
            ),
        ]
        indexes = [models.Index(fields=["budget_holder", "stream", "status"], name="personal_budget_lookup")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.stream_id} v{self.version}"


class InstalmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    DUE = "due", "Due (posted to the ledger)"
    RECEIVED = "received", "Received from the agency"
    CANCELLED = "cancelled", "Cancelled by a budget change"


class Instalment(models.Model):
    """One payment of a personal budget from its agency, due on a working day, covering some days."""

    public_id = models.CharField(max_length=24, unique=True, default=new_instalment_id, editable=False)
    personal_budget = models.ForeignKey(PersonalBudget, on_delete=models.PROTECT, related_name="instalments")
    sequence = models.PositiveIntegerField()
    due_on = models.DateField()
    covers_from = models.DateField()
    covers_to = models.DateField()
    amount_minor = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=InstalmentStatus.choices, default=InstalmentStatus.SCHEDULED
    )
    ledger_transaction = models.CharField(
        max_length=32, blank=True, help_text="The ledger transaction that posted it when it fell due."
    )
    received_on = models.DateField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["personal_budget", "sequence"], name="instalment_sequence_unique"
            ),
            models.CheckConstraint(
                name="instalment_covers_forwards", condition=Q(covers_to__gte=F("covers_from"))
            ),
            models.CheckConstraint(
                name="instalment_status_valid", condition=Q(status__in=InstalmentStatus.values)
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="instalment_due")]

    def __str__(self) -> str:
        return f"{self.public_id} due {self.due_on}"


def new_reserve_id() -> str:
    return new_public_id("rsv")


class LegitimateReserve(models.Model):
    """Money a person holds for a stream that is set aside for a known cost (a personal assistant's holiday
    pay, say), entered by their navigator: a surplus audit excludes it from what may be reclaimed.

    Never deleted: a reserve no longer needed is released, with who, when and why.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_reserve_id, editable=False)
    budget_holder = models.ForeignKey(
        "people.BudgetHolder", on_delete=models.PROTECT, related_name="reserves"
    )
    stream = models.ForeignKey(FundingStream, on_delete=models.PROTECT, related_name="reserves")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    entered_by = models.ForeignKey("people.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        "people.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["stream", "budget_holder"], name="reserve_stream_holder")]
        constraints = [
            models.CheckConstraint(name="reserve_amount_positive", condition=Q(amount_minor__gt=0)),
            models.CheckConstraint(
                name="reserve_release_complete",
                condition=Q(released_at__isnull=True, released_by__isnull=True)
                | Q(released_at__isnull=False, released_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.stream_id} {self.amount_minor}"
