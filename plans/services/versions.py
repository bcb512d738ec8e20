"""Drafting plan versions: starting one, and writing its outcomes, informal support and support items.

A person's first version is started with `plan_version_start` (it makes their `SupportPlan` if they have none
yet); a change to an active plan is a new version started from it with `plan_version_start_from`, which
copies every outcome, informal support and support item, keeping their public ids (`out_...`, `si_...`), so
that providers' engagements, invoices and comparisons follow them across versions. Only one version of a
plan is in progress (draft or agreed) at a time.

Only a draft changes. Every edit locks the version row, re-checks that it is still a draft, and writes an
audit row (who changed what); starting a version writes a timeline entry. Authorising the caller (who may
write which person's plan) is the interface's job, through `plans.*` permissions.

A support item is checked against the catalogue and the calculator's rules by costing it alone with
`budgets` over the days the version's money applies; every problem is raised at once as
`SupportItemInvalid`, whose `errors` point into the item's own body ("/quantity", "/split/cap/amount").
Besides the calculator's codes (budgets.services.cash_equivalents), its codes are:

| code | pointer | when |
| --- | --- | --- |
| `required` | `/stream`, `/unit`, `/unit_cost`, `/description` | an item with its own cost misses one |
| `item_ambiguous` | `/stream`, `/unit`, `/unit_cost` | a catalogue item also gives its own stream or cost |
| `invalid_per` | `/per` | not one of once, day, week, four_weeks, month, year |
| `invalid_unit` | `/unit` | not one of the catalogue's units |
| `invalid_description` | `/description` | longer than 200 characters |
| `invalid_split` | `/split`... | a split that is neither percentages nor a cap and a rest |
| `outcome_required` | `/outcomes` | the item serves no outcome |
| `outcome_not_in_version` | `/outcomes/i` | an outcome of another version |
| `not_a_provider` | `/provider` | the organisation is not a provider |
| `agreed_rate_without_provider` | `/agreed_rate` | a rate agreed with nobody |
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from budgets.calculator import AMOUNT_LIMIT_MINOR, CashEquivalentInvalid, PercentSplit, Problem
from budgets.models import FundingStream, Per, Service, Unit
from budgets.services.cash_equivalents import (
    CapSplitRequest,
    CashEquivalentRequest,
    ItemRequest,
    cash_equivalent_calculate,
)
from ledger.errors import DomainError
from ledger.money import UnknownCurrency, money_format
from people.models import BudgetHolder, Organisation, User
from people.services import audit_event_record
from plans.models import (
    InformalSupport,
    Outcome,
    PlanVersion,
    PlanVersionStatus,
    SupportItem,
    SupportPlan,
)
from plans.services.timeline import timeline_record
from plans.wording import date_display

IN_PROGRESS = (PlanVersionStatus.DRAFT, PlanVersionStatus.AGREED)
DESCRIPTION_MAX = 200
WHO_MAX = 200

# Errors -------------------------------------------------------------------------------------------------


class ProblemsError(DomainError):
    """A domain error listing every problem in `errors` as {code, pointer, detail}; one problem names itself
    (its code and detail become the error's), as budgets' CashEquivalentInvalid does."""

    summary = "This cannot be saved as it stands"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        self.errors = [problem.as_dict() for problem in self.problems]
        if len(self.problems) == 1:
            self.code = self.problems[0].code
            super().__init__(self.problems[0].detail)
        else:
            super().__init__(f"{self.summary}: {len(self.problems)} problems, see errors for each one.")


class InvalidPlanPeriod(DomainError):
    code = "invalid_plan_period"
    message = "A plan's period runs between two dates and ends on or after it starts."


class PlanVersionInProgress(DomainError):
    code = "plan_version_in_progress"
    message = "This plan already has a version being drafted or waiting for approval: finish or withdraw it."
    http_status = 409


class PlanVersionActiveOverlaps(DomainError):
    code = "plan_version_active_overlaps"
    message = "The person already has an active plan for that period: start a change from it instead."
    http_status = 409


class PlanVersionNotActive(DomainError):
    code = "plan_version_not_active"
    message = "Only the active version of a plan can be changed or reviewed."
    http_status = 409


class PlanVersionNotDraft(DomainError):
    code = "plan_version_not_draft"
    message = "Only a draft can be changed: this version has been agreed, approved or withdrawn."
    http_status = 409


class EffectiveFromOutsidePeriod(DomainError):
    code = "effective_from_outside_period"
    message = "A change takes effect on a day inside the plan's period."


class EffectiveFromBeforeCurrent(DomainError):
    code = "effective_from_before_current"
    message = "A change cannot take effect before the version it changes did."


class ReasonRequired(DomainError):
    code = "reason_required"
    message = "Say why, in a few words."


class OutcomeInvalid(DomainError):
    code = "outcome_invalid"
    message = "An outcome needs what the person wants to achieve, in their own words."


class OutcomeNotInVersion(DomainError):
    code = "outcome_not_in_version"
    message = "That outcome belongs to another version of the plan."


class OutcomeInUse(DomainError):
    code = "outcome_in_use"
    message = "Informal support or support items still serve only this outcome: move or remove them first."
    http_status = 409


class InformalSupportInvalid(DomainError):
    code = "informal_support_invalid"
    message = "Informal support needs who gives it and what they do."


class SupportItemInvalid(ProblemsError):
    """The item cannot be saved; `errors` lists every problem (codes in the module docstring)."""

    code = "support_item_invalid"
    message = "The support item cannot be saved as it stands: see errors for each problem."
    summary = "The support item cannot be saved as it stands"


# Starting a version -------------------------------------------------------------------------------------


@transaction.atomic
def plan_version_start(
    *,
    budget_holder: BudgetHolder,
    starts_on: date,
    ends_on: date,
    started_by: User,
    summary: str = "",
) -> PlanVersion:
    """Start a person's first draft for a period (making their plan if they have none).

    Raises InvalidPlanPeriod, PlanVersionInProgress (a draft or agreed version exists) and
    PlanVersionActiveOverlaps (an active version covers part of the period: start a change from it).
    """
    _check_period(starts_on=starts_on, ends_on=ends_on)
    # One lock per person serialises starting versions: two requests cannot both find "nothing in progress".
    holder = BudgetHolder.objects.select_for_update().get(pk=budget_holder.pk)
    plan, _ = SupportPlan.objects.get_or_create(budget_holder=holder)
    _check_nothing_in_progress(plan)
    active = PlanVersion.objects.filter(
        plan=plan, status=PlanVersionStatus.ACTIVE, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).first()
    if active is not None:
        raise PlanVersionActiveOverlaps(
            f"{holder.name_to_use} already has an active plan (version {active.number}, "
            f"{period_display(active.starts_on, active.ends_on)}) for part of that period: start a change "
            "from it instead."
        )
    version = _version_create(
        plan=plan,
        based_on=None,
        starts_on=starts_on,
        ends_on=ends_on,
        effective_from=starts_on,
        summary=summary,
        change_reason="",
        created_by=started_by,
    )
    timeline_record(
        budget_holder=holder,
        kind="plan.version_started",
        actor=started_by,
        for_person=(
            f"{started_by.display_name} started drafting your support plan for "
            f"{period_display(starts_on, ends_on)}."
        ),
        for_staff=f"{started_by.display_name} started version {version.number} ({version.public_id}).",
        detail={"plan_version": version.public_id, "number": version.number},
    )
    return version


@transaction.atomic
def plan_version_start_from(
    *, version: PlanVersion, started_by: User, effective_from: date, change_reason: str
) -> PlanVersion:
    """Start a change: a draft copied from the active `version` (same period), effective from a day in it.

    Raises PlanVersionNotActive, PlanVersionInProgress, ReasonRequired, EffectiveFromOutsidePeriod and
    EffectiveFromBeforeCurrent.
    """
    holder = BudgetHolder.objects.select_for_update().get(plan__versions=version)
    current = PlanVersion.objects.select_related("plan").get(pk=version.pk)
    if current.status != PlanVersionStatus.ACTIVE:
        raise PlanVersionNotActive(
            f"Version {current.number} is {current.get_status_display().lower()}, not active: start a change "
            "from the active version."
        )
    _check_nothing_in_progress(current.plan)
    change_reason = _required_text(change_reason, what="why the plan is changing")
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime):
        raise EffectiveFromOutsidePeriod(f"A change takes effect on a date, not {effective_from!r}.")
    if not current.starts_on <= effective_from <= current.ends_on:
        raise EffectiveFromOutsidePeriod(
            f"A change takes effect inside the plan's period, {date_display(current.starts_on)} to "
            f"{date_display(current.ends_on)}, not on {date_display(effective_from)}."
        )
    if effective_from < current.effective_from:
        raise EffectiveFromBeforeCurrent(
            f"Version {current.number} took effect on {date_display(current.effective_from)}; a change to it "
            f"takes effect on that day or later, not on {date_display(effective_from)}."
        )
    draft = _version_create(
        plan=current.plan,
        based_on=current,
        starts_on=current.starts_on,
        ends_on=current.ends_on,
        effective_from=effective_from,
        summary=current.summary,
        change_reason=change_reason,
        created_by=started_by,
    )
    _copy_contents(source=current, target=draft)
    timeline_record(
        budget_holder=holder,
        kind="plan.change_started",
        actor=started_by,
        for_person=(
            f"{started_by.display_name} started a change to your support plan, to take effect from "
            f"{date_display(effective_from)}. Why: {change_reason}"
        ),
        for_staff=(
            f"{started_by.display_name} started version {draft.number} ({draft.public_id}) from version "
            f"{current.number}, effective {effective_from.isoformat()}: {change_reason}"
        ),
        detail={
            "plan_version": draft.public_id,
            "number": draft.number,
            "based_on": current.public_id,
            "effective_from": effective_from.isoformat(),
        },
    )
    return draft


def _version_create(
    *,
    plan: SupportPlan,
    based_on: PlanVersion | None,
    starts_on: date,
    ends_on: date,
    effective_from: date,
    summary: str,
    change_reason: str,
    created_by: User,
) -> PlanVersion:
    number = (PlanVersion.objects.filter(plan=plan).aggregate(last=Max("number"))["last"] or 0) + 1
    try:
        with transaction.atomic():
            return PlanVersion.objects.create(
                plan=plan,
                number=number,
                based_on=based_on,
                starts_on=starts_on,
                ends_on=ends_on,
                effective_from=effective_from,
                summary=summary or "",
                change_reason=change_reason,
                created_by=created_by,
            )
    except IntegrityError:
        # Only possible without the person's lock (which every start takes): another version since we looked.
        raise PlanVersionInProgress() from None


def _copy_contents(*, source: PlanVersion, target: PlanVersion) -> None:
    """Copy outcomes, informal support and support items (with their outcome links) in a fixed number of
    queries, keeping every public id."""
    outcomes = list(Outcome.objects.filter(version=source).order_by("position", "pk"))
    Outcome.objects.bulk_create(
        Outcome(
            public_id=outcome.public_id,
            version=target,
            position=outcome.position,
            in_own_words=outcome.in_own_words,
            success_looks_like=outcome.success_looks_like,
        )
        for outcome in outcomes
    )
    new_outcomes = {outcome.public_id: outcome for outcome in Outcome.objects.filter(version=target)}
    InformalSupport.objects.bulk_create(
        InformalSupport(
            public_id=informal.public_id,
            version=target,
            outcome=new_outcomes[informal.outcome.public_id],
            who=informal.who,
            what=informal.what,
            how_often=informal.how_often,
        )
        for informal in InformalSupport.objects.filter(version=source)
        .select_related("outcome")
        .order_by("pk")
    )
    items = list(
        SupportItem.objects.filter(version=source).prefetch_related("outcomes").order_by("position", "pk")
    )
    SupportItem.objects.bulk_create(
        SupportItem(
            public_id=item.public_id,
            version=target,
            position=item.position,
            service_id=item.service_id,
            stream_id=item.stream_id,
            description=item.description,
            unit=item.unit,
            unit_cost_minor=item.unit_cost_minor,
            quantity=item.quantity,
            per=item.per,
            split=item.split,
            provider_id=item.provider_id,
            agreed_rate_minor=item.agreed_rate_minor,
        )
        for item in items
    )
    new_items = {item.public_id: item.pk for item in SupportItem.objects.filter(version=target)}
    links = SupportItem.outcomes.through
    links.objects.bulk_create(
        links(supportitem_id=new_items[item.public_id], outcome_id=new_outcomes[outcome.public_id].pk)
        for item in items
        for outcome in item.outcomes.all()
    )


# Outcomes -----------------------------------------------------------------------------------------------


@transaction.atomic
def plan_version_update(*, version: PlanVersion, by: User, summary: str) -> PlanVersion:
    """Change a draft's summary (about the person, in their own words). Raises PlanVersionNotDraft."""
    locked = _lock_draft(version)
    locked.summary = summary.strip()
    locked.save(update_fields=["summary"])
    _audit(by, "plan.summary_changed", locked, {"summary": locked.summary})
    return locked


@transaction.atomic
def outcome_add(
    *, version: PlanVersion, in_own_words: str, success_looks_like: str = "", by: User
) -> Outcome:
    """Add what the person wants to achieve to a draft. Raises PlanVersionNotDraft and OutcomeInvalid."""
    locked = _lock_draft(version)
    words = _outcome_words(in_own_words)
    outcome = Outcome.objects.create(
        version=locked,
        position=_next_position(Outcome, locked),
        in_own_words=words,
        success_looks_like=(success_looks_like or "").strip(),
    )
    _audit(by, "plan.outcome_added", locked, {"outcome": outcome.public_id, "in_own_words": words})
    return outcome


@transaction.atomic
def outcome_update(
    *,
    outcome: Outcome,
    by: User,
    in_own_words: str | None = None,
    success_looks_like: str | None = None,
) -> Outcome:
    """Change an outcome's words on a draft (None leaves a field as it is).

    Raises PlanVersionNotDraft and OutcomeInvalid.
    """
    locked = _lock_draft(outcome.version)
    current = Outcome.objects.get(pk=outcome.pk)
    if in_own_words is not None:
        current.in_own_words = _outcome_words(in_own_words)
    if success_looks_like is not None:
        current.success_looks_like = success_looks_like.strip()
    current.save(update_fields=["in_own_words", "success_looks_like"])
    _audit(
        by,
        "plan.outcome_changed",
        locked,
        {"outcome": current.public_id, "in_own_words": current.in_own_words},
    )
    return current


@transaction.atomic
def outcome_remove(*, outcome: Outcome, by: User) -> None:
    """Remove an outcome from a draft; items that also serve other outcomes stop serving this one.

    Refuses (OutcomeInUse) while informal support is recorded for it or an item serves only it, so that no
    support is left serving nothing: move or remove those first. Raises PlanVersionNotDraft and OutcomeInUse.
    """
    locked = _lock_draft(outcome.version)
    current = Outcome.objects.get(pk=outcome.pk)
    informal = list(current.informal_supports.order_by("pk").values_list("who", flat=True))
    only_this = [
        item.description
        for item in current.support_items.prefetch_related("outcomes").order_by("position", "pk")
        if len(item.outcomes.all()) == 1
    ]
    if informal or only_this:
        parts = []
        if informal:
            parts.append("informal support from " + ", ".join(informal))
        if only_this:
            parts.append("support items " + ", ".join(only_this))
        raise OutcomeInUse(
            f"This outcome still has {' and '.join(parts)} serving only it: move them to another outcome or "
            "remove them first."
        )
    current.support_items.clear()
    public_id = current.public_id
    current.delete()
    _audit(by, "plan.outcome_removed", locked, {"outcome": public_id})


def _outcome_words(in_own_words: str) -> str:
    words = (in_own_words or "").strip()
    if not words:
        raise OutcomeInvalid()
    return words


# Informal support ---------------------------------------------------------------------------------------


@transaction.atomic
def informal_support_add(
    *, version: PlanVersion, outcome: Outcome, who: str, what: str, how_often: str = "", by: User
) -> InformalSupport:
    """Record family, friends' or community support towards an outcome of a draft.

    Raises PlanVersionNotDraft, OutcomeNotInVersion and InformalSupportInvalid.
    """
    locked = _lock_draft(version)
    if outcome.version_id != locked.pk:
        raise OutcomeNotInVersion()
    who, what, how_often = (who or "").strip(), (what or "").strip(), (how_often or "").strip()
    if not who or not what:
        raise InformalSupportInvalid()
    if len(who) > WHO_MAX or len(how_often) > WHO_MAX:
        raise InformalSupportInvalid(f"Say who, and how often, in at most {WHO_MAX} characters each.")
    informal = InformalSupport.objects.create(
        version=locked, outcome=outcome, who=who, what=what, how_often=how_often
    )
    _audit(
        by,
        "plan.informal_support_added",
        locked,
        {"informal_support": informal.public_id, "who": who, "outcome": outcome.public_id},
    )
    return informal


@transaction.atomic
def informal_support_remove(*, informal_support: InformalSupport, by: User) -> None:
    """Remove informal support from a draft. Raises PlanVersionNotDraft."""
    locked = _lock_draft(informal_support.version)
    current = InformalSupport.objects.get(pk=informal_support.pk)
    public_id = current.public_id
    current.delete()
    _audit(by, "plan.informal_support_removed", locked, {"informal_support": public_id})


# Support items ------------------------------------------------------------------------------------------


@dataclass
class _ItemFields:
    """A support item's fields as asked, before they are checked."""

    quantity: Any
    per: Any
    outcomes: Any
    service_code: str | None = None
    stream_code: str | None = None
    description: str = ""
    unit: str = ""
    unit_cost_minor: Any = None
    split: Any = None
    provider: Organisation | None = None
    agreed_rate_minor: Any = None


@dataclass
class _CheckedItem:
    service: Service | None
    stream: FundingStream
    description: str
    unit: str
    split: dict[str, Any]
    outcomes: list[Outcome] = field(default_factory=list)


_ITEM_FIELDS = (
    "quantity",
    "per",
    "outcomes",
    "service_code",
    "stream_code",
    "description",
    "unit",
    "unit_cost_minor",
    "split",
    "provider",
    "agreed_rate_minor",
)


@transaction.atomic
def support_item_add(
    *,
    version: PlanVersion,
    by: User,
    quantity: Decimal,
    per: str,
    outcomes: list[Outcome],
    service_code: str | None = None,
    stream_code: str | None = None,
    description: str = "",
    unit: str = "",
    unit_cost_minor: int | None = None,
    split: dict | None = None,
    provider: Organisation | None = None,
    agreed_rate_minor: int | None = None,
) -> SupportItem:
    """Add paid support to a draft: a catalogue service (its stream, unit and cost from the catalogue) or a
    described item with its own stream, unit and unit cost; optionally split between streams, from a
    provider at an agreed rate, serving one or more of the version's outcomes.

    Raises PlanVersionNotDraft and SupportItemInvalid (every problem at once; codes in the module docstring).
    """
    locked = _lock_draft(version)
    asked = _ItemFields(
        quantity=quantity,
        per=per,
        outcomes=outcomes,
        service_code=service_code,
        stream_code=stream_code,
        description=description,
        unit=unit,
        unit_cost_minor=unit_cost_minor,
        split=split,
        provider=provider,
        agreed_rate_minor=agreed_rate_minor,
    )
    checked = _item_check(locked, asked)
    item = SupportItem(version=locked, position=_next_position(SupportItem, locked))
    _item_apply(item, asked, checked)
    item.save()
    item.outcomes.set(checked.outcomes)
    _audit(by, "plan.support_item_added", locked, _item_audit(item))
    return item


@transaction.atomic
def support_item_update(*, item: SupportItem, by: User, **changes: Any) -> SupportItem:
    """Change a draft's support item: any of support_item_add's fields, checked again as a whole.

    Switching to a catalogue service drops the item's own stream, unit and cost unless given again; leaving
    the catalogue (`service_code=None`) needs them. Raises PlanVersionNotDraft and SupportItemInvalid.
    """
    unknown = sorted(set(changes) - set(_ITEM_FIELDS))
    if unknown:
        raise TypeError(f"support_item_update() got unexpected fields: {', '.join(unknown)}")
    locked = _lock_draft(item.version)
    current = SupportItem.objects.select_related("service", "stream", "provider").get(pk=item.pk)
    asked = _ItemFields(
        quantity=current.quantity,
        per=current.per,
        outcomes=list(current.outcomes.all()),
        service_code=current.service.service_code if current.service_id else None,
        stream_code=None if current.service_id else current.stream.code,
        description=current.description,
        unit=current.unit,
        unit_cost_minor=current.unit_cost_minor,
        split=current.split or None,
        provider=current.provider,
        agreed_rate_minor=current.agreed_rate_minor,
    )
    if changes.get("service_code") is not None:
        # Onto a (new) catalogue service: its own description, and no own stream, unit or cost.
        if current.service_id is None:
            asked.stream_code, asked.unit, asked.unit_cost_minor = None, "", None
        if current.service_id is None or changes["service_code"] != asked.service_code:
            asked.description = ""
    for name, value in changes.items():
        setattr(asked, name, value)
    checked = _item_check(locked, asked)
    _item_apply(current, asked, checked)
    current.save()
    current.outcomes.set(checked.outcomes)
    _audit(by, "plan.support_item_changed", locked, _item_audit(current))
    return current


@transaction.atomic
def support_item_remove(*, item: SupportItem, by: User) -> None:
    """Remove a support item from a draft. Raises PlanVersionNotDraft."""
    locked = _lock_draft(item.version)
    current = SupportItem.objects.get(pk=item.pk)
    public_id = current.public_id
    current.outcomes.clear()
    current.delete()
    _audit(by, "plan.support_item_removed", locked, {"support_item": public_id})


def _item_apply(item: SupportItem, asked: _ItemFields, checked: _CheckedItem) -> None:
    item.service = checked.service
    item.stream = checked.stream
    item.description = checked.description
    item.unit = checked.unit
    item.unit_cost_minor = None if checked.service is not None else asked.unit_cost_minor
    item.quantity = asked.quantity
    item.per = asked.per
    item.split = checked.split
    item.provider = asked.provider
    item.agreed_rate_minor = asked.agreed_rate_minor


def _item_check(version: PlanVersion, asked: _ItemFields) -> _CheckedItem:
    """Check an item as a whole, costing it alone over the version's days; raises SupportItemInvalid."""
    problems: list[Problem] = []

    quantity = asked.quantity
    if isinstance(quantity, int) and not isinstance(quantity, bool):
        quantity = asked.quantity = Decimal(quantity)
    if not isinstance(quantity, Decimal):
        problems.append(
            Problem("invalid_quantity", "/quantity", 'The quantity must be a number such as "10".')
        )
        quantity = Decimal(1)  # stands in so that the other checks still run
    per = asked.per
    if per not in Per.values:
        problems.append(
            Problem("invalid_per", "/per", f"How often must be one of {', '.join(Per.values)}, not {per!r}.")
        )
        per = Per.WEEK

    outcomes = _item_outcomes(version, asked.outcomes, problems)
    description = (asked.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        problems.append(
            Problem(
                "invalid_description",
                "/description",
                f"Describe the item in at most {DESCRIPTION_MAX} characters.",
            )
        )

    service_code = asked.service_code or None
    unit = asked.unit or ""
    unit_cost_text = None
    if service_code is not None:
        for name, pointer in (
            ("stream_code", "/stream"),
            ("unit", "/unit"),
            ("unit_cost_minor", "/unit_cost"),
        ):
            if getattr(asked, name) not in (None, ""):
                problems.append(
                    Problem(
                        "item_ambiguous",
                        pointer,
                        "A catalogue item takes its stream, unit and cost from the catalogue: leave this "
                        "out, or leave out the service to give the item its own cost.",
                    )
                )
    else:
        unit_cost_text = _own_item_problems(asked, description, problems)

    split_json, split = _split_read(asked.split, problems)
    _provider_problems(asked, problems)

    request_item = ItemRequest(
        quantity=quantity,
        per=Per(per),
        service_code=service_code,
        stream=None if service_code else (asked.stream_code or ""),
        description=description,
        unit_cost=unit_cost_text,
        unit=unit or None,
        split=split,
    )
    reported = {problem.pointer for problem in problems}
    try:
        cash_equivalent_calculate(
            request=CashEquivalentRequest(
                start=version.effective_from, end=version.ends_on, items=(request_item,)
            )
        )
    except CashEquivalentInvalid as error:
        for problem in error.problems:
            pointer = problem.pointer.removeprefix("/items/0")
            if pointer not in reported:
                problems.append(Problem(problem.code, pointer, problem.detail))
    if problems:
        raise SupportItemInvalid(problems)

    service = None
    if service_code is not None:
        service = Service.objects.select_related("stream").get(service_code=service_code, is_active=True)
        description = description or service.description
    first_stream = _split_first_stream(split)
    if first_stream is not None:
        stream = FundingStream.objects.get(code=first_stream)
    elif service is not None:
        stream = service.stream
    else:
        stream = FundingStream.objects.get(code=asked.stream_code)
    return _CheckedItem(
        service=service,
        stream=stream,
        description=description,
        unit="" if service is not None else unit,
        split=split_json,
        outcomes=outcomes,
    )


def _item_outcomes(version: PlanVersion, outcomes: Any, problems: list[Problem]) -> list[Outcome]:
    if not isinstance(outcomes, list | tuple) or not outcomes:
        problems.append(
            Problem(
                "outcome_required", "/outcomes", "Say which of the person's outcomes this support serves."
            )
        )
        return []
    chosen: list[Outcome] = []
    for index, outcome in enumerate(outcomes):
        if not isinstance(outcome, Outcome) or outcome.version_id != version.pk:
            problems.append(
                Problem(
                    "outcome_not_in_version",
                    f"/outcomes/{index}",
                    "Choose an outcome of this version of the plan.",
                )
            )
        elif outcome not in chosen:
            chosen.append(outcome)
    return chosen


def _own_item_problems(asked: _ItemFields, description: str, problems: list[Problem]) -> str | None:
    """Problems with an item that has its own cost; returns its unit cost as money text for the calculator."""
    required = "An item with its own cost needs a stream, a unit, a unit cost and a description."
    if not asked.stream_code:
        problems.append(Problem("required", "/stream", required))
    if not asked.unit:
        problems.append(Problem("required", "/unit", required))
    elif asked.unit not in Unit.values:
        problems.append(
            Problem(
                "invalid_unit",
                "/unit",
                f"The unit must be one of {', '.join(Unit.values)}, not {asked.unit!r}.",
            )
        )
    if not description:
        problems.append(Problem("required", "/description", required))
    cost = asked.unit_cost_minor
    if cost is None:
        problems.append(Problem("required", "/unit_cost", required))
        return None
    if isinstance(cost, bool) or not isinstance(cost, int) or not 0 <= cost <= AMOUNT_LIMIT_MINOR:
        problems.append(
            Problem(
                "invalid_amount", "/unit_cost", "The unit cost must be a sensible amount of zero or more."
            )
        )
        return None
    stream = FundingStream.objects.filter(code=asked.stream_code or "").first()
    if stream is None:
        return "0"  # the calculator reports the unknown stream; the cost is not read without one
    try:
        return money_format(cost, currency=stream.currency)
    except UnknownCurrency:
        return "0"  # the calculator reports the stream's unknown currency


def _split_read(
    split: Any, problems: list[Problem]
) -> tuple[dict[str, Any], PercentSplit | CapSplitRequest | None]:
    """A split as asked: stored JSON ({} for none) and the calculator's request; notes shape problems."""
    if split in (None, {}):
        return {}, None
    shape = Problem(
        "invalid_split",
        "/split",
        'Split an item either by percentages, {"percent": [{"stream": "ASC", "percent": "60"}, ...]}, or '
        'by a cap, {"cap": {"stream": "ASC", "amount": "250.00", "per": "week"}, "rest": "ILF"}.',
    )
    if not isinstance(split, dict):
        problems.append(shape)
        return {}, None
    if set(split) == {"percent"} and isinstance(split["percent"], list | tuple) and split["percent"]:
        parts: list[tuple[str, Decimal]] = []
        stored = []
        for index, part in enumerate(split["percent"]):
            if (
                not isinstance(part, dict)
                or set(part) != {"stream", "percent"}
                or not isinstance(part["stream"], str)
            ):
                problems.append(Problem("invalid_split", f"/split/percent/{index}", shape.detail))
                continue
            percent = _decimal(part["percent"])
            if percent is None:
                problems.append(
                    Problem(
                        "invalid_percent",
                        f"/split/percent/{index}/percent",
                        'A percentage is a number written as a string, such as "60" or "33.5".',
                    )
                )
                continue
            parts.append((part["stream"], percent))
            stored.append({"stream": part["stream"], "percent": _decimal_text(percent)})
        if len(parts) != len(split["percent"]):
            return {}, None
        return {"percent": stored}, PercentSplit(parts=tuple(parts))
    cap = split.get("cap")
    if (
        set(split) == {"cap", "rest"}
        and isinstance(split["rest"], str)
        and isinstance(cap, dict)
        and set(cap) == {"stream", "amount", "per"}
        and isinstance(cap["stream"], str)
        and isinstance(cap["amount"], str)
    ):
        if cap["per"] not in Per.values:
            problems.append(
                Problem("invalid_per", "/split/cap/per", f"How often must be one of {', '.join(Per.values)}.")
            )
            return {}, None
        stored_cap = {"stream": cap["stream"], "amount": cap["amount"], "per": cap["per"]}
        request = CapSplitRequest(
            stream=cap["stream"], amount=cap["amount"], per=Per(cap["per"]), rest=split["rest"]
        )
        return {"cap": stored_cap, "rest": split["rest"]}, request
    problems.append(shape)
    return {}, None


def _split_first_stream(split: PercentSplit | CapSplitRequest | None) -> str | None:
    if isinstance(split, PercentSplit):
        return split.parts[0][0]
    if isinstance(split, CapSplitRequest):
        return split.stream
    return None


_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value):
        return Decimal(value)
    return None


def _decimal_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _provider_problems(asked: _ItemFields, problems: list[Problem]) -> None:
    provider = asked.provider
    if provider is not None and (not isinstance(provider, Organisation) or not provider.is_provider):
        problems.append(
            Problem(
                "not_a_provider", "/provider", "Choose a care provider (not a funding agency) for this item."
            )
        )
    rate = asked.agreed_rate_minor
    if rate is None:
        return
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= AMOUNT_LIMIT_MINOR:
        problems.append(
            Problem(
                "invalid_amount", "/agreed_rate", "The agreed rate must be a sensible amount of zero or more."
            )
        )
    elif provider is None:
        problems.append(
            Problem(
                "agreed_rate_without_provider",
                "/agreed_rate",
                "A rate is agreed with a provider: choose the provider too, or leave out the rate.",
            )
        )


def _item_audit(item: SupportItem) -> dict[str, Any]:
    return {
        "support_item": item.public_id,
        "service": item.service.service_code if item.service_id else None,
        "stream": item.stream.code,
        "quantity": f"{item.quantity}",
        "per": item.per,
        "split": item.split,
        "provider": item.provider.public_id if item.provider_id else None,
        "agreed_rate_minor": item.agreed_rate_minor,
    }


# Helpers ------------------------------------------------------------------------------------------------


def _lock_draft(version: PlanVersion) -> PlanVersion:
    """Lock the version row and check, under the lock, that it is still a draft."""
    locked = PlanVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != PlanVersionStatus.DRAFT:
        raise PlanVersionNotDraft(
            f"Version {locked.number} is {locked.get_status_display().lower()}: only a draft can be changed."
        )
    return locked


def _check_nothing_in_progress(plan: SupportPlan) -> None:
    in_progress = PlanVersion.objects.filter(plan=plan, status__in=IN_PROGRESS).first()
    if in_progress is not None:
        raise PlanVersionInProgress(
            f"Version {in_progress.number} of this plan is {in_progress.get_status_display().lower()}: "
            "finish or withdraw it before starting another."
        )


def _check_period(*, starts_on: date, ends_on: date) -> None:
    for value in (starts_on, ends_on):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidPlanPeriod(f"A plan's period runs between two dates, not {value!r}.")
    if ends_on < starts_on:
        raise InvalidPlanPeriod(
            f"A plan's period cannot end ({date_display(ends_on)}) before it starts "
            f"({date_display(starts_on)})."
        )


def _required_text(text: str, *, what: str) -> str:
    cleaned = (text or "").strip() if isinstance(text, str) else ""
    if not cleaned:
        raise ReasonRequired(f"Say {what}, in a few words.")
    return cleaned


def _next_position(model: type[Outcome] | type[SupportItem], version: PlanVersion) -> int:
    last = model.objects.filter(version=version).aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def _audit(by: User, action: str, version: PlanVersion, detail: dict[str, Any]) -> None:
    """An audit row on the version: who changed what in the draft (the detail names the outcome or item)."""
    audit_event_record(
        actor=by, action=action, obj=version, detail={"plan_version": version.public_id, **detail}
    )


def period_display(starts_on: date, ends_on: date) -> str:
    """A period as a person reads it: "2026/27" for a year from 1 April, else "1 October 2026 to 31 March
    2027"."""
    if (starts_on.month, starts_on.day) == (4, 1) and ends_on == date(starts_on.year + 1, 4, 1) - timedelta(
        days=1
    ):
        return f"{starts_on.year}/{(starts_on.year + 1) % 100:02d}"
    return f"{date_display(starts_on)} to {date_display(ends_on)}"
