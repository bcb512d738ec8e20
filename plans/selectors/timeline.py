"""Reading a person's case timeline: who sees which entries, and in whose words.

The timeline is the person's case history, so that nobody has to explain things twice. It holds what
happened to their plan and money, and their messages and their navigator's notes. Each entry is `shared`
(the person may read it) or `staff` (staff only), may name the funding `stream` it is about, and carries
two texts: `for_person` (plain English, addressed to the budget holder as "you") and `for_staff` (the detail
staff read; empty means the same words).

Who sees what (`timeline_audience`):

=============================================  ========================================  ===================
viewer                                         entries                                   words
=============================================  ========================================  ===================
the budget holder (their own sign-in)          `shared` only                             `for_person`
a representative with an active grant          `shared` only                             `for_person`
(view or approve)
the person's navigator                         every entry                               `for_staff`
a finance officer, an administrator            every entry                               `for_staff`
an agency officer who may see the person       entries about their own agency's          `for_staff`
(`people.view_budgetholder`: the holders       streams only, shared or staff; never an
their agency's streams fund)                   entry without a stream (messages, notes,
                                               plan-wide events)
anyone else: another budget holder, another    nothing: the timeline is not theirs, so
navigator, a provider (even one that serves    it is "not found"
the person), an agency officer whose streams
do not fund the person
=============================================  ========================================  ===================

(`for_staff` falls back to `for_person` when it is empty.) An agency officer sees nothing of other
agencies' money, nor the person's conversation with their navigator: domain.md, "Sees nothing of other
agencies' money beyond what the person shares". A provider needs its engagements, invoices and remittances,
not the person's history.

`timeline_for_person` answers newest first (`at`, then id), annotated with `text` (the words this viewer
reads), `shows_staff_detail` (whether the viewer is staff, so may be told an entry's visibility),
`corrects_public_id` and `corrected_by_public_id` (the newest visible correction of an entry): one query
for the entries whatever their number, and at most one before it to decide the audience (a representative's
grant, an agency officer's sight). Callers paginate it.
"""

from enum import StrEnum
from typing import Any

from django.db.models import Case, F, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.fields import BooleanField

from ledger.errors import DomainError
from people.access import budget_holders_visible_to
from people.models import BudgetHolder, Representative, Role
from plans.models import TimelineEntry, TimelineVisibility

# The kind of the entry `plans.services.instalments` writes when an instalment falls due.
INSTALMENT_DUE_KIND = "instalment.due"


class TimelineAudience(StrEnum):
    """How a viewer reads a person's timeline (module docstring)."""

    PERSON = "person"  # the budget holder or a representative: shared entries, plain English
    STAFF = "staff"  # the navigator, finance, administrators: everything, with the staff detail
    AGENCY = "agency"  # an agency officer: their own agency's streams only, with the staff detail


class TimelineNotVisible(DomainError):
    code = "not_found"
    message = "There is nothing here, or it is not yours to see."
    http_status = 404


def _signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def timeline_audience(*, budget_holder: BudgetHolder, viewer: Any) -> TimelineAudience | None:
    """How `viewer` reads `budget_holder`'s timeline, or None when it is not theirs to read (at most one
    query)."""
    if not _signed_in(viewer):
        return None
    role = getattr(viewer, "role", None)
    if budget_holder.user_id is not None and budget_holder.user_id == viewer.pk:
        return TimelineAudience.PERSON
    if role == Role.NAVIGATOR and budget_holder.navigator_id == viewer.pk:
        return TimelineAudience.STAFF
    if role in (Role.FINANCE_OFFICER, Role.ADMINISTRATOR):
        return TimelineAudience.STAFF
    if role == Role.AGENCY_OFFICER:
        # Which holders an officer sees is the visibility registry's answer (plans.access registers it).
        visible = budget_holders_visible_to(viewer).filter(pk=budget_holder.pk).exists()
        return TimelineAudience.AGENCY if visible and viewer.organisation_id is not None else None
    if role == Role.PROVIDER_USER:
        return None
    if Representative.objects.active().filter(user_id=viewer.pk, budget_holder_id=budget_holder.pk).exists():
        return TimelineAudience.PERSON
    return None


def _entries_seen(
    entries: QuerySet[TimelineEntry], *, audience: TimelineAudience, viewer: Any
) -> QuerySet[TimelineEntry]:
    if audience == TimelineAudience.PERSON:
        return entries.filter(visibility=TimelineVisibility.SHARED)
    if audience == TimelineAudience.AGENCY:
        return entries.filter(stream__agency_id=viewer.organisation_id)
    return entries


def timeline_for_person(*, budget_holder: BudgetHolder, viewer: Any) -> QuerySet[TimelineEntry]:
    """The entries of `budget_holder`'s timeline that `viewer` may read, newest first, with the words they
    read in `text`; raises TimelineNotVisible (404) when the timeline is not theirs to read."""
    audience = timeline_audience(budget_holder=budget_holder, viewer=viewer)
    if audience is None:
        raise TimelineNotVisible()
    mine = TimelineEntry.objects.filter(budget_holder_id=budget_holder.pk)
    corrections = _entries_seen(
        TimelineEntry.objects.filter(corrects_id=OuterRef("pk")), audience=audience, viewer=viewer
    ).order_by("-at", "-id")
    if audience == TimelineAudience.PERSON:
        text: Any = F("for_person")
    else:
        text = Case(When(for_staff="", then=F("for_person")), default=F("for_staff"))
    return (
        _entries_seen(mine, audience=audience, viewer=viewer)
        .select_related("actor", "stream")
        .annotate(
            text=text,
            shows_staff_detail=Value(audience != TimelineAudience.PERSON, output_field=BooleanField()),
            corrects_public_id=F("corrects__public_id"),
            corrected_by_public_id=Subquery(corrections.values("public_id")[:1]),
        )
        .order_by("-at", "-id")
    )


def timeline_entry_get(*, budget_holder: BudgetHolder, viewer: Any, public_id: str) -> TimelineEntry:
    """One entry of the timeline as `viewer` reads it (as in `timeline_for_person`); raises
    TimelineNotVisible when it is not there or not theirs to read."""
    entry = (
        timeline_for_person(budget_holder=budget_holder, viewer=viewer).filter(public_id=public_id).first()
    )
    if entry is None:
        raise TimelineNotVisible()
    return entry


def timeline_instalments_recorded(
    *, budget_holder_ids: list[int], instalment_public_ids: list[str]
) -> set[str]:
    """Which of these instalments already have their entry on their person's timeline (one query)."""
    if not instalment_public_ids:
        return set()
    found = TimelineEntry.objects.filter(
        budget_holder_id__in=budget_holder_ids,
        kind=INSTALMENT_DUE_KIND,
        detail__instalment__in=instalment_public_ids,
    ).values_list("detail__instalment", flat=True)
    return {str(public_id) for public_id in found}
