"""Writing the case timeline: one entry per thing that happened to a budget holder, by the service that
caused it (never by a signal). Entries are append-only; a correction is a new entry that `corrects` one."""

from datetime import datetime
from typing import Any

from django.db import transaction

from budgets.models import FundingStream
from ledger.errors import DomainError
from people.models import BudgetHolder, User
from plans.models import TimelineEntry, TimelineVisibility


class InvalidTimelineEntry(DomainError):
    code = "invalid_timeline_entry"
    message = "A timeline entry needs what happened, in plain English for the person."


@transaction.atomic
def timeline_record(
    *,
    budget_holder: BudgetHolder,
    kind: str,
    for_person: str,
    for_staff: str = "",
    actor: User | None = None,
    visibility: str = TimelineVisibility.SHARED,
    body: str = "",
    stream: FundingStream | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
    corrects: TimelineEntry | None = None,
) -> TimelineEntry:
    """Record one entry on a person's timeline; raises InvalidTimelineEntry.

    `for_person` is what the budget holder reads ("Your plan was approved by Access to Work on 3 May");
    `for_staff` the detail staff see (empty: the same words). A `staff` entry is never shown to the person.
    """
    if not kind or not for_person.strip():
        raise InvalidTimelineEntry()
    if visibility not in TimelineVisibility.values:
        raise InvalidTimelineEntry(f"Visibility must be one of {', '.join(TimelineVisibility.values)}.")
    if corrects is not None and corrects.budget_holder_id != budget_holder.pk:
        raise InvalidTimelineEntry("A correction must be on the same person's timeline.")
    entry = TimelineEntry(
        budget_holder=budget_holder,
        kind=kind,
        for_person=for_person.strip(),
        for_staff=for_staff.strip(),
        actor=actor,
        visibility=visibility,
        body=body,
        stream=stream,
        detail=detail or {},
        corrects=corrects,
    )
    if at is not None:
        entry.at = at
    entry.save()
    return entry
