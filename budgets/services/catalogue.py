"""Changing funding streams and their rate catalogues: what administrators do in the admin, and the demo seed.

Each service is one database transaction: it checks its rules, raises a `DomainError` with a stable code and
a plain-English message when one is broken, saves, and writes an audit row. Each has a `*_check` twin that
raises exactly what the service would, saving nothing, so that a form can show the error beside its field
before anything is saved. The service runs the same check again as it saves, with a row lock where a rule
reads other rows (a service's rates; a stream's currency) and unique indexes as the backstop.

Rates are history. A new rate is a new row that starts after every existing rate of its service (the rate in
force on a date is the one with the latest `valid_from` on or before it), and no rate is ever changed or
deleted. A stream's code is never changed (ledger account keys are built from it), nor its currency once
amounts have been recorded in it.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, models, transaction

from budgets.models import (
    FundingStream,
    OnCostKind,
    OnCostRule,
    PaymentFrequency,
    PersonalBudget,
    PolicySector,
    Rate,
    Service,
    SpendingCategory,
    Unit,
    service_code_validator,
    stream_code_validator,
)
from ledger.errors import DomainError
from ledger.money import InvalidAmount, currency_exponent
from people import services as people_services
from people.models import Organisation, OrganisationKind, User


class CatalogueAuditAction(models.TextChoices):
    """The audit actions written by these services."""

    STREAM_CREATED = "funding_stream.created", "Funding stream created"
    STREAM_UPDATED = "funding_stream.updated", "Funding stream changed"
    SPENDING_CATEGORY_ADDED = "spending_category.added", "Spending category added"
    SERVICE_CREATED = "service.created", "Catalogue service created"
    SERVICE_UPDATED = "service.updated", "Catalogue service changed"
    RATE_ADDED = "rate.added", "Rate added"
    ON_COST_RULE_ADDED = "on_cost_rule.added", "On-cost rule added"
    ON_COST_RULE_ENDED = "on_cost_rule.ended", "On-cost rule ended"


# Errors -------------------------------------------------------------------------------------------------


class CatalogueError(DomainError):
    """A broken catalogue rule; `field` names the keyword argument at fault, so a form can show it there."""

    field: str | None = None

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field


class InvalidStream(CatalogueError):
    code = "invalid_stream"
    message = "The funding stream's details are not valid."


class StreamCodeTaken(CatalogueError):
    code = "stream_code_taken"
    field = "code"
    message = "There is already a funding stream with that code."
    http_status = 409


class NotAnAgency(CatalogueError):
    code = "not_an_agency"
    field = "agency"
    message = "A funding stream must belong to a funding agency, not a care provider."


class StreamCurrencyLocked(CatalogueError):
    code = "stream_currency_locked"
    field = "currency"
    message = (
        "The stream's currency cannot change once it has services, on-cost rules or personal budgets: "
        "their amounts are recorded in the old currency."
    )
    http_status = 409


class InvalidSpendingCategory(CatalogueError):
    code = "invalid_spending_category"
    message = "The spending category's details are not valid."


class SpendingCategoryCodeTaken(CatalogueError):
    code = "spending_category_code_taken"
    field = "code"
    message = "The stream already has a spending category with that code."
    http_status = 409


class InvalidService(CatalogueError):
    code = "invalid_service"
    message = "The service's details are not valid."


class ServiceCodeTaken(CatalogueError):
    code = "service_code_taken"
    field = "service_code"
    message = "There is already a service with that code."
    http_status = 409


class CategoryNotInStream(CatalogueError):
    code = "category_not_in_stream"
    field = "category"
    message = "Choose a spending category of the service's own funding stream."


class NegativeUnitCost(CatalogueError):
    code = "unit_cost_negative"
    field = "unit_cost_minor"
    message = "A unit cost cannot be negative."


class RateStartTaken(CatalogueError):
    code = "rate_start_taken"
    field = "valid_from"
    message = "The service already has a rate starting on that date."
    http_status = 409


class RateNotAfterLatest(CatalogueError):
    code = "rate_not_after_latest"
    field = "valid_from"
    message = "A new rate must start after every existing rate of the service."


class EndsBeforeStarts(CatalogueError):
    code = "ends_before_starts"
    field = "valid_to"
    message = "The end date is before the start date."


class OnCostRuleTarget(CatalogueError):
    code = "on_cost_rule_target"
    field = "service"
    message = "An on-cost rule belongs either to a whole funding stream or to one service: choose one."


class InvalidOnCostRule(CatalogueError):
    code = "invalid_on_cost_rule"
    message = "The on-cost rule's details are not valid."


class OnCostRuleAmount(CatalogueError):
    code = "on_cost_rule_amount"
    message = "A percentage rule needs a percent and no yearly amount; a fixed rule a yearly amount only."


class OnCostRuleAlreadyEnded(CatalogueError):
    code = "on_cost_rule_already_ended"
    field = "valid_to"
    message = "This on-cost rule has already ended. Add a new rule instead."
    http_status = 409


# Shared checks ------------------------------------------------------------------------------------------


def _is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_decimal(
    value: Any,
    *,
    field: str,
    label: str,
    places: int,
    minimum: Decimal,
    maximum: Decimal,
    error: type[CatalogueError],
) -> None:
    """A Decimal (or whole number; never a float) inside [minimum, maximum] with at most `places` decimals."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise error(f"{label} must be a decimal number (never a float), not {value!r}.", field=field)
    value = Decimal(value)
    if not value.is_finite() or value < minimum or value > maximum:
        raise error(f"{label} must be from {minimum} to {maximum}.", field=field)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise error(f"{label} can have at most {places} decimal places.", field=field)


def _check_dates(*, valid_from: date, valid_to: date | None, what: str) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise EndsBeforeStarts(
            f"{what} cannot end ({valid_to.isoformat()}) before it starts ({valid_from.isoformat()})."
        )


def _check_pattern(value: str, *, field: str, validator: Any, error: type[CatalogueError]) -> None:
    try:
        validator(value)
    except ValidationError as exc:
        raise error(" ".join(exc.messages), field=field) from None


def _save_unique(obj: models.Model, *, taken: DomainError, is_taken: Any) -> None:
    """Save a new row; a unique index hit by a concurrent writer becomes the same error as the check's."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        if is_taken():
            raise taken from None
        raise


def _audit(*, actor: User | None, action: str, obj: models.Model, detail: dict[str, Any]) -> None:
    people_services.audit_event_record(actor=actor, action=action, obj=obj, detail=detail)


# Funding streams ----------------------------------------------------------------------------------------


def stream_check(
    *,
    stream: FundingStream | None,
    code: str,
    name: str,
    agency: Organisation,
    policy_sector: str,
    currency: str,
    budget_year_start_month: int,
    budget_year_start_day: int,
    payment_frequency: str,
    contingency_percent: Decimal,
    surplus_threshold_weeks: Decimal,
    initial_float_weeks: int,
    reclaim_notice_weeks: int = 4,
) -> None:
    """Raise what stream_create (`stream` None) or stream_update (`stream` given) would for these values.

    Raises InvalidStream, StreamCodeTaken, NotAnAgency, UnknownCurrency, StreamCurrencyLocked.
    """
    _check_pattern(code, field="code", validator=stream_code_validator, error=InvalidStream)
    others = FundingStream.objects.filter(code=code)
    if stream is not None:
        others = others.exclude(pk=stream.pk)
    if others.exists():
        raise StreamCodeTaken(f"There is already a funding stream with the code {code}.")
    if not name.strip():
        raise InvalidStream("Give the funding stream a name.", field="name")
    if agency.kind != OrganisationKind.AGENCY:
        raise NotAnAgency(f"{agency.name} is a care provider. A funding stream must belong to an agency.")
    if policy_sector not in PolicySector.values:
        raise InvalidStream(
            f"The policy sector must be one of {', '.join(PolicySector.values)}.", field="policy_sector"
        )
    if payment_frequency not in PaymentFrequency.values:
        raise InvalidStream(
            f"How often it pays must be one of {', '.join(PaymentFrequency.values)}.",
            field="payment_frequency",
        )
    currency_exponent(currency)  # raises UnknownCurrency
    if stream is not None and currency != stream.currency and _has_amounts(stream):
        raise StreamCurrencyLocked(
            f"{stream.code} already has services, on-cost rules or personal budgets in {stream.currency}, "
            f"so its currency cannot change to {currency}."
        )
    if not (
        _is_whole_number(budget_year_start_month)
        and _is_whole_number(budget_year_start_day)
        and 1 <= budget_year_start_month <= 12
        and 1 <= budget_year_start_day <= 28
    ):
        raise InvalidStream(
            "The budget year must start on a day from the 1st to the 28th of a month (month 1 to 12), "
            "so that the day exists every year.",
            field="budget_year_start_day",
        )
    _check_decimal(
        contingency_percent,
        field="contingency_percent",
        label="The contingency percentage",
        places=2,
        minimum=Decimal(0),
        maximum=Decimal(100),
        error=InvalidStream,
    )
    _check_decimal(
        surplus_threshold_weeks,
        field="surplus_threshold_weeks",
        label="The surplus threshold in weeks",
        places=1,
        minimum=Decimal(0),
        maximum=Decimal("9999.9"),
        error=InvalidStream,
    )
    if not _is_whole_number(reclaim_notice_weeks) or not 4 <= reclaim_notice_weeks <= 52:
        raise InvalidStream(
            "The notice before a surplus is reclaimed must be a whole number of weeks from 4 to 52.",
            field="reclaim_notice_weeks",
        )
    if not _is_whole_number(initial_float_weeks) or not 0 <= initial_float_weeks <= 52:
        raise InvalidStream(
            "The initial float must be a whole number of weeks from 0 to 52.", field="initial_float_weeks"
        )


def _has_amounts(stream: FundingStream) -> bool:
    return (
        Service.objects.filter(stream=stream).exists()
        or OnCostRule.objects.filter(stream=stream).exists()
        or PersonalBudget.objects.filter(stream=stream).exists()
    )


@transaction.atomic
def stream_create(
    *,
    code: str,
    name: str,
    agency: Organisation,
    policy_sector: str,
    payment_frequency: str,
    currency: str = "GBP",
    budget_year_start_month: int = 4,
    budget_year_start_day: int = 1,
    charges_contribution: bool = False,
    contingency_percent: Decimal = Decimal("0.00"),
    surplus_threshold_weeks: Decimal = Decimal("8.0"),
    initial_float_weeks: int = 0,
    reclaim_notice_weeks: int = 4,
    description: str = "",
    is_active: bool = True,
    actor: User | None = None,
) -> FundingStream:
    """Create a funding stream owned by an agency.

    Raises InvalidStream, StreamCodeTaken, NotAnAgency, UnknownCurrency.
    """
    values = {
        "code": code,
        "name": name.strip(),
        "agency": agency,
        "policy_sector": policy_sector,
        "currency": currency,
        "budget_year_start_month": budget_year_start_month,
        "budget_year_start_day": budget_year_start_day,
        "payment_frequency": payment_frequency,
        "contingency_percent": contingency_percent,
        "surplus_threshold_weeks": surplus_threshold_weeks,
        "initial_float_weeks": initial_float_weeks,
        "reclaim_notice_weeks": reclaim_notice_weeks,
    }
    stream_check(stream=None, **values)
    stream = FundingStream(
        **values,
        charges_contribution=bool(charges_contribution),
        description=description.strip(),
        is_active=bool(is_active),
    )
    _save_unique(
        stream,
        taken=StreamCodeTaken(f"There is already a funding stream with the code {code}."),
        is_taken=lambda: FundingStream.objects.filter(code=code).exists(),
    )
    _audit(
        actor=actor,
        action=CatalogueAuditAction.STREAM_CREATED,
        obj=stream,
        detail={"code": code, "agency": agency.public_id, **_stream_snapshot(stream)},
    )
    return stream


_STREAM_EDITABLE = (
    "name",
    "agency",
    "policy_sector",
    "description",
    "currency",
    "budget_year_start_month",
    "budget_year_start_day",
    "payment_frequency",
    "charges_contribution",
    "contingency_percent",
    "surplus_threshold_weeks",
    "initial_float_weeks",
    "reclaim_notice_weeks",
    "is_active",
)

# Fields of a stream that need no check beyond their type (free text and switches).
_UNCHECKED_STREAM_FIELDS = frozenset({"description", "charges_contribution", "is_active"})


def _stream_snapshot(stream: FundingStream) -> dict[str, Any]:
    """The stream's editable fields as JSON-safe values, for the audit trail."""
    snapshot: dict[str, Any] = {}
    for field in _STREAM_EDITABLE:
        value = getattr(stream, field)
        if isinstance(value, Organisation):
            value = value.public_id
        elif isinstance(value, Decimal):
            value = str(value)
        snapshot[field] = value
    return snapshot


@transaction.atomic
def stream_update(
    *,
    stream: FundingStream,
    name: str | None = None,
    agency: Organisation | None = None,
    policy_sector: str | None = None,
    description: str | None = None,
    currency: str | None = None,
    budget_year_start_month: int | None = None,
    budget_year_start_day: int | None = None,
    payment_frequency: str | None = None,
    charges_contribution: bool | None = None,
    contingency_percent: Decimal | None = None,
    surplus_threshold_weeks: Decimal | None = None,
    initial_float_weeks: int | None = None,
    reclaim_notice_weeks: int | None = None,
    is_active: bool | None = None,
    actor: User | None = None,
) -> FundingStream:
    """Change a stream's rules; each argument left as None keeps its value. The code never changes.

    Raises InvalidStream, NotAnAgency, UnknownCurrency, StreamCurrencyLocked.
    """
    stream = FundingStream.objects.select_for_update(of=("self",)).select_related("agency").get(pk=stream.pk)
    changes = {
        "name": name.strip() if name is not None else None,
        "agency": agency,
        "policy_sector": policy_sector,
        "description": description.strip() if description is not None else None,
        "currency": currency,
        "budget_year_start_month": budget_year_start_month,
        "budget_year_start_day": budget_year_start_day,
        "payment_frequency": payment_frequency,
        "charges_contribution": charges_contribution,
        "contingency_percent": contingency_percent,
        "surplus_threshold_weeks": surplus_threshold_weeks,
        "initial_float_weeks": initial_float_weeks,
        "reclaim_notice_weeks": reclaim_notice_weeks,
        "is_active": is_active,
    }
    merged = {field: getattr(stream, field) if value is None else value for field, value in changes.items()}
    stream_check(
        stream=stream,
        code=stream.code,
        **{field: merged[field] for field in _STREAM_EDITABLE if field not in _UNCHECKED_STREAM_FIELDS},
    )
    # Compare values, not their text, so that Decimal("10") and Decimal("10.00") are the same percentage.
    changed_fields = [field for field in _STREAM_EDITABLE if getattr(stream, field) != merged[field]]
    if not changed_fields:
        return stream
    before = _stream_snapshot(stream)
    for field in changed_fields:
        setattr(stream, field, merged[field])
    after = _stream_snapshot(stream)
    changed = {field: [before[field], after[field]] for field in changed_fields}
    stream.save(update_fields=changed_fields)
    _audit(
        actor=actor,
        action=CatalogueAuditAction.STREAM_UPDATED,
        obj=stream,
        detail={"code": stream.code, "changed": changed},
    )
    return stream


# Spending categories ------------------------------------------------------------------------------------


def spending_category_check(*, stream: FundingStream, code: str, name: str) -> None:
    """Raise what spending_category_add would for these values.

    Raises InvalidSpendingCategory, SpendingCategoryCodeTaken.
    """
    try:
        validate_slug(code)
    except ValidationError:
        raise InvalidSpendingCategory(
            f"{code!r} cannot be a category code: use lower-case letters, digits and hyphens, like "
            "personal-care.",
            field="code",
        ) from None
    if len(code) > SpendingCategory._meta.get_field("code").max_length:
        raise InvalidSpendingCategory("A category code can be at most 40 characters long.", field="code")
    if not name.strip():
        raise InvalidSpendingCategory("Give the spending category a name.", field="name")
    if SpendingCategory.objects.filter(stream=stream, code=code).exists():
        raise SpendingCategoryCodeTaken(
            f"{stream.code} already has a spending category with the code {code}."
        )


@transaction.atomic
def spending_category_add(
    *, stream: FundingStream, code: str, name: str, actor: User | None = None
) -> SpendingCategory:
    """Add something a stream's money may be spent on.

    Raises InvalidSpendingCategory, SpendingCategoryCodeTaken.
    """
    spending_category_check(stream=stream, code=code, name=name)
    category = SpendingCategory(stream=stream, code=code, name=name.strip())
    _save_unique(
        category,
        taken=SpendingCategoryCodeTaken(
            f"{stream.code} already has a spending category with the code {code}."
        ),
        is_taken=lambda: SpendingCategory.objects.filter(stream=stream, code=code).exists(),
    )
    _audit(
        actor=actor,
        action=CatalogueAuditAction.SPENDING_CATEGORY_ADDED,
        obj=category,
        detail={"stream": stream.code, "code": code, "name": category.name},
    )
    return category


# Services -----------------------------------------------------------------------------------------------


def service_check(
    *,
    service: Service | None,
    stream: FundingStream,
    service_code: str,
    description: str,
    unit: str,
    category: SpendingCategory | None,
) -> None:
    """Raise what service_create (`service` None) or service_update would for these values.

    Raises InvalidService, ServiceCodeTaken, CategoryNotInStream.
    """
    _check_pattern(service_code, field="service_code", validator=service_code_validator, error=InvalidService)
    others = Service.objects.filter(service_code=service_code)
    if service is not None:
        others = others.exclude(pk=service.pk)
    if others.exists():
        raise ServiceCodeTaken(f"There is already a service with the code {service_code}.")
    if not description.strip():
        raise InvalidService("Describe the service, for example Personal care.", field="description")
    if unit not in Unit.values:
        raise InvalidService(f"The unit must be one of {', '.join(Unit.values)}.", field="unit")
    if category is not None and category.stream_id != stream.pk:
        raise CategoryNotInStream(
            f"{category.name} is a spending category of another stream. Choose one of {stream.code}'s."
        )


@transaction.atomic
def service_create(
    *,
    stream: FundingStream,
    service_code: str,
    description: str,
    unit: str,
    category: SpendingCategory | None = None,
    is_active: bool = True,
    actor: User | None = None,
) -> Service:
    """Add a service to a stream's rate catalogue; its costs are added with rate_add.

    Raises InvalidService, ServiceCodeTaken, CategoryNotInStream.
    """
    # Lock the stream: its currency may not change while its first service is being added.
    stream = FundingStream.objects.select_for_update().get(pk=stream.pk)
    service_check(
        service=None,
        stream=stream,
        service_code=service_code,
        description=description,
        unit=unit,
        category=category,
    )
    service = Service(
        stream=stream,
        service_code=service_code,
        description=description.strip(),
        unit=unit,
        category=category,
        is_active=bool(is_active),
    )
    _save_unique(
        service,
        taken=ServiceCodeTaken(f"There is already a service with the code {service_code}."),
        is_taken=lambda: Service.objects.filter(service_code=service_code).exists(),
    )
    _audit(
        actor=actor,
        action=CatalogueAuditAction.SERVICE_CREATED,
        obj=service,
        detail={
            "stream": stream.code,
            "service_code": service_code,
            "unit": unit,
            "category": category.code if category else None,
            "is_active": service.is_active,
        },
    )
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    description: str,
    category: SpendingCategory | None,
    is_active: bool,
    actor: User | None = None,
) -> Service:
    """Change what may change about a service: its description, category and whether it is offered.

    Its code, stream and unit never change, because its rates are history in that unit.
    Raises InvalidService, CategoryNotInStream.
    """
    service = (
        Service.objects.select_for_update(of=("self",))
        .select_related("stream", "category")
        .get(pk=service.pk)
    )
    service_check(
        service=service,
        stream=service.stream,
        service_code=service.service_code,
        description=description,
        unit=service.unit,
        category=category,
    )
    before = {
        "description": service.description,
        "category": service.category.code if service.category else None,
        "is_active": service.is_active,
    }
    service.description = description.strip()
    service.category = category
    service.is_active = bool(is_active)
    after = {
        "description": service.description,
        "category": category.code if category else None,
        "is_active": service.is_active,
    }
    changed = {field: [before[field], after[field]] for field in before if before[field] != after[field]}
    if not changed:
        return service
    service.save(update_fields=["description", "category", "is_active"])
    _audit(
        actor=actor,
        action=CatalogueAuditAction.SERVICE_UPDATED,
        obj=service,
        detail={"service_code": service.service_code, "changed": changed},
    )
    return service


# Rates --------------------------------------------------------------------------------------------------


def rate_check(
    *, service: Service, unit_cost_minor: int, valid_from: date, valid_to: date | None = None
) -> None:
    """Raise what rate_add would for these values.

    Raises InvalidAmount, NegativeUnitCost, EndsBeforeStarts, RateStartTaken, RateNotAfterLatest.
    """
    if not _is_whole_number(unit_cost_minor):
        raise InvalidAmount(f"A unit cost in minor units must be a whole number, not {unit_cost_minor!r}.")
    if unit_cost_minor < 0:
        raise NegativeUnitCost()
    _check_dates(valid_from=valid_from, valid_to=valid_to, what="A rate")
    if Rate.objects.filter(service=service, valid_from=valid_from).exists():
        raise RateStartTaken(
            f"{service.service_code} already has a rate from {valid_from.isoformat()}. Rates are history: "
            "add a new rate from a later date instead of changing this one."
        )
    latest = Rate.objects.filter(service=service).aggregate(latest=models.Max("valid_from"))["latest"]
    if latest is not None and valid_from < latest:
        raise RateNotAfterLatest(
            f"A new rate for {service.service_code} must start after its latest rate, which starts on "
            f"{latest.isoformat()}. Earlier rates are history and are not changed."
        )


@transaction.atomic
def rate_add(
    *,
    service: Service,
    unit_cost_minor: int,
    valid_from: date,
    valid_to: date | None = None,
    actor: User | None = None,
) -> Rate:
    """Add a service's unit cost (minor units of its stream's currency) from a date: the new rate in force.

    The previous rate stays as it is; it is in force until the day before this one starts.
    Raises InvalidAmount, NegativeUnitCost, EndsBeforeStarts, RateStartTaken, RateNotAfterLatest.
    """
    # Lock the service so that two rates added at once are checked one after the other.
    service = Service.objects.select_for_update(of=("self",)).select_related("stream").get(pk=service.pk)
    rate_check(service=service, unit_cost_minor=unit_cost_minor, valid_from=valid_from, valid_to=valid_to)
    rate = Rate.objects.create(
        service=service, unit_cost_minor=unit_cost_minor, valid_from=valid_from, valid_to=valid_to
    )
    _audit(
        actor=actor,
        action=CatalogueAuditAction.RATE_ADDED,
        obj=rate,
        detail={
            "service_code": service.service_code,
            "unit_cost_minor": unit_cost_minor,
            "currency": service.stream.currency,
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat() if valid_to else None,
        },
    )
    return rate


# On-cost rules ------------------------------------------------------------------------------------------


def on_cost_rule_check(
    *,
    stream: FundingStream | None,
    service: Service | None,
    name: str,
    kind: str,
    percent: Decimal | None,
    amount_minor_per_year: int | None,
    valid_from: date,
    valid_to: date | None,
) -> None:
    """Raise what on_cost_rule_add would for these values.

    Raises OnCostRuleTarget, InvalidOnCostRule, OnCostRuleAmount, EndsBeforeStarts.
    """
    if (stream is None) == (service is None):
        raise OnCostRuleTarget()
    if not name.strip():
        raise InvalidOnCostRule(
            "Give the on-cost a name, for example Employer's pension contribution.", field="name"
        )
    if kind == OnCostKind.PERCENTAGE:
        if percent is None or amount_minor_per_year is not None:
            raise OnCostRuleAmount(
                "A percentage on-cost needs a percent and no yearly amount.",
                field="percent" if percent is None else "amount_minor_per_year",
            )
        _check_decimal(
            percent,
            field="percent",
            label="The on-cost percentage",
            places=4,
            minimum=Decimal(0),
            maximum=Decimal(100),
            error=OnCostRuleAmount,
        )
    elif kind == OnCostKind.FIXED_YEARLY:
        if amount_minor_per_year is None or percent is not None:
            raise OnCostRuleAmount(
                "A fixed on-cost needs a yearly amount and no percent.",
                field="amount_minor_per_year" if amount_minor_per_year is None else "percent",
            )
        if not _is_whole_number(amount_minor_per_year):
            raise OnCostRuleAmount(
                f"A yearly amount in minor units must be a whole number, not {amount_minor_per_year!r}.",
                field="amount_minor_per_year",
            )
        if amount_minor_per_year < 0:
            raise OnCostRuleAmount(
                "A yearly on-cost amount cannot be negative.", field="amount_minor_per_year"
            )
    else:
        raise InvalidOnCostRule(
            f"The kind of on-cost must be one of {', '.join(OnCostKind.values)}.", field="kind"
        )
    _check_dates(valid_from=valid_from, valid_to=valid_to, what="An on-cost rule")


@transaction.atomic
def on_cost_rule_add(
    *,
    name: str,
    kind: str,
    valid_from: date,
    stream: FundingStream | None = None,
    service: Service | None = None,
    percent: Decimal | None = None,
    amount_minor_per_year: int | None = None,
    valid_to: date | None = None,
    actor: User | None = None,
) -> OnCostRule:
    """Add an on-cost to every service of a stream, or to one service: a percentage or a fixed yearly sum.

    `amount_minor_per_year` is in minor units of the stream's currency.
    Raises OnCostRuleTarget, InvalidOnCostRule, OnCostRuleAmount, EndsBeforeStarts.
    """
    if stream is not None:
        # Lock the stream: its currency may not change while an amount in it is being added.
        stream = FundingStream.objects.select_for_update().get(pk=stream.pk)
    on_cost_rule_check(
        stream=stream,
        service=service,
        name=name,
        kind=kind,
        percent=percent,
        amount_minor_per_year=amount_minor_per_year,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    rule = OnCostRule.objects.create(
        stream=stream,
        service=service,
        name=name.strip(),
        kind=kind,
        percent=percent,
        amount_minor_per_year=amount_minor_per_year,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    _audit(
        actor=actor,
        action=CatalogueAuditAction.ON_COST_RULE_ADDED,
        obj=rule,
        detail={
            "stream": stream.code if stream else None,
            "service_code": service.service_code if service else None,
            "name": rule.name,
            "kind": kind,
            "percent": str(percent) if percent is not None else None,
            "amount_minor_per_year": amount_minor_per_year,
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat() if valid_to else None,
        },
    )
    return rule


def on_cost_rule_end_check(*, rule: OnCostRule, valid_to: date) -> None:
    """Raise what on_cost_rule_end would.

    Raises OnCostRuleAlreadyEnded, EndsBeforeStarts.
    """
    if rule.valid_to is not None:
        raise OnCostRuleAlreadyEnded(
            f"{rule.name} already ended on {rule.valid_to.isoformat()}. Add a new rule instead."
        )
    _check_dates(valid_from=rule.valid_from, valid_to=valid_to, what="An on-cost rule")


@transaction.atomic
def on_cost_rule_end(*, rule: OnCostRule, valid_to: date, actor: User | None = None) -> OnCostRule:
    """Give an open on-cost rule its last day (when the rule changes, end it and add the new one).

    Raises OnCostRuleAlreadyEnded, EndsBeforeStarts.
    """
    rule = OnCostRule.objects.select_for_update().get(pk=rule.pk)
    on_cost_rule_end_check(rule=rule, valid_to=valid_to)
    rule.valid_to = valid_to
    rule.save(update_fields=["valid_to"])
    _audit(
        actor=actor,
        action=CatalogueAuditAction.ON_COST_RULE_ENDED,
        obj=rule,
        detail={"name": rule.name, "valid_to": valid_to.isoformat()},
    )
    return rule
