"""Reviewing an active plan: progress on every outcome, and when the next review is due.

Plans are reviewed at least yearly, and sooner when asked. A review rates every outcome of the version
(`Progress`), and sets the next review: a year after the review by default, never later. Bringing a review
forward only ever makes it sooner. Each is one transaction that locks the version row, checks that it is
the active version, and writes the timeline. Who may hold or ask for a review is the interface's to check
(`plans.add_review`, `plans.bring_review_forward`).

`ReviewInvalid` lists every problem at once ({code, pointer, detail}; pointers into the review's body):

| code | pointer | when |
| --- | --- | --- |
| `review_in_future` | `/held_on` | a review cannot be recorded before it is held |
| `next_review_not_after_review` | `/next_review_on` | the next review is on or before this one |
| `next_review_too_far` | `/next_review_on` | more than a year after this review |
| `progress_missing` | `/progress` | an outcome of the version has no rating (one problem per outcome) |
| `unknown_outcome` | `/progress/i/outcome` | no outcome of this version has that id |
| `progress_repeated` | `/progress/i/outcome` | an outcome rated twice |
| `invalid_progress` | `/progress/i/progress` | not a `Progress` value (not_started ... achieved) |
| `invalid_date` | `/held_on`, `/next_review_on`, `/due_on` | not a date |
| `review_date_in_past` | `/due_on` | bringing a review forward to a day already gone |
| `review_not_sooner` | `/due_on` | "forward" to the day it is already due, or later |
"""

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from budgets.calculator import Problem
from people.models import User
from plans.models import (
    OutcomeProgress,
    PlanVersion,
    PlanVersionStatus,
    Progress,
    Review,
)
from plans.services.timeline import timeline_record
from plans.services.versions import PlanVersionNotActive, ProblemsError, ReasonRequired
from plans.services.workflow import REVIEW_AT_LEAST_EVERY_MONTHS, add_months
from plans.wording import date_display

_PROGRESS_WORDS = {
    Progress.NOT_STARTED: "not started",
    Progress.SOME_PROGRESS: "some progress",
    Progress.MOSTLY_ACHIEVED: "mostly achieved",
    Progress.ACHIEVED: "achieved",
}


class ReviewInvalid(ProblemsError):
    """The review cannot be recorded; `errors` lists every problem (codes in the module docstring)."""

    code = "review_invalid"
    message = "The review cannot be recorded as it stands: see errors for each problem."
    summary = "The review cannot be recorded as it stands"


@transaction.atomic
def review_record(
    *,
    version: PlanVersion,
    held_by: User,
    held_on: date,
    notes: str,
    progress: list[tuple[str, str, str]],
    next_review_on: date | None = None,
) -> Review:
    """Record a review of the active version: a rating and a note for every outcome (by its public id), and
    the next review (a year after `held_on` by default, never later), which becomes the version's review
    date. Raises PlanVersionNotActive and ReviewInvalid."""
    locked = _lock_active(version)
    problems: list[Problem] = []
    today = timezone.localdate()
    if not isinstance(held_on, date) or isinstance(held_on, datetime):
        raise ReviewInvalid(
            [Problem("invalid_date", "/held_on", "Say the day the review was held, as a date.")]
        )
    if held_on > today:
        problems.append(
            Problem(
                "review_in_future",
                "/held_on",
                f"A review is recorded once it is held: {date_display(held_on)} is after today.",
            )
        )
    latest = add_months(held_on, REVIEW_AT_LEAST_EVERY_MONTHS)
    next_on = latest if next_review_on is None else next_review_on
    if not isinstance(next_on, date) or isinstance(next_on, datetime):
        raise ReviewInvalid(
            [Problem("invalid_date", "/next_review_on", "Say the day the next review is due, as a date.")]
        )
    if next_on <= held_on:
        problems.append(
            Problem(
                "next_review_not_after_review",
                "/next_review_on",
                f"The next review must be after this one ({date_display(held_on)}).",
            )
        )
    elif next_on > latest:
        problems.append(
            Problem(
                "next_review_too_far",
                "/next_review_on",
                f"Plans are reviewed at least every year: the next review must be by {date_display(latest)}.",
            )
        )

    outcomes = {outcome.public_id: outcome for outcome in locked.outcomes.order_by("position", "pk")}
    rated: dict[str, tuple[str, str]] = {}
    for index, entry in enumerate(progress or []):
        outcome_id, value, note = _entry(entry)
        if outcome_id not in outcomes:
            problems.append(
                Problem(
                    "unknown_outcome",
                    f"/progress/{index}/outcome",
                    f"{outcome_id!r} is not an outcome of this version of the plan.",
                )
            )
            continue
        if outcome_id in rated:
            problems.append(
                Problem(
                    "progress_repeated",
                    f"/progress/{index}/outcome",
                    f"The outcome {outcomes[outcome_id].in_own_words!r} is rated more than once.",
                )
            )
            continue
        if value not in Progress.values:
            problems.append(
                Problem(
                    "invalid_progress",
                    f"/progress/{index}/progress",
                    f"Progress is one of {', '.join(Progress.values)}, not {value!r}.",
                )
            )
        rated[outcome_id] = (value, note)
    for outcome_id, outcome in outcomes.items():
        if outcome_id not in rated:
            problems.append(
                Problem(
                    "progress_missing",
                    "/progress",
                    f"Say how the person is getting on with {outcome.in_own_words!r} ({outcome_id}).",
                )
            )
    if problems:
        raise ReviewInvalid(problems)

    review = Review.objects.create(
        version=locked, held_on=held_on, held_by=held_by, notes=(notes or "").strip(), next_review_on=next_on
    )
    OutcomeProgress.objects.bulk_create(
        OutcomeProgress(review=review, outcome=outcomes[outcome_id], progress=value, note=note)
        for outcome_id, (value, note) in rated.items()
    )
    locked.review_due_on = next_on
    locked.save(update_fields=["review_due_on"])
    summary = "; ".join(
        f"{outcomes[outcome_id].in_own_words}: {_PROGRESS_WORDS[Progress(value)]}"
        for outcome_id, (value, _) in rated.items()
    )
    timeline_record(
        budget_holder=locked.plan.budget_holder,
        kind="plan.reviewed",
        actor=held_by,
        for_person=(
            f"Your plan was reviewed on {date_display(held_on)} with {held_by.display_name}. "
            f"How you are getting on: {summary}. Your next review is due by {date_display(next_on)}."
        ),
        for_staff=f"Review {review.public_id} of version {locked.number} by {held_by.display_name}.",
        body=review.notes,
        detail={
            "plan_version": locked.public_id,
            "review": review.public_id,
            "next_review_on": next_on.isoformat(),
            "progress": {outcome_id: value for outcome_id, (value, _) in rated.items()},
        },
    )
    return review


@transaction.atomic
def plan_review_bring_forward(
    *, version: PlanVersion, due_on: date, requested_by: User, reason: str
) -> PlanVersion:
    """Bring the active version's next review forward to `due_on` (today or later, sooner than it was).

    Raises PlanVersionNotActive, ReasonRequired and ReviewInvalid (`review_date_in_past`,
    `review_not_sooner`).
    """
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ReasonRequired("Say why the review is needed sooner.")
    locked = _lock_active(version)
    today = timezone.localdate()
    if not isinstance(due_on, date) or isinstance(due_on, datetime):
        raise ReviewInvalid([Problem("invalid_date", "/due_on", "Say the day the review is due, as a date.")])
    if due_on < today:
        raise ReviewInvalid(
            [Problem("review_date_in_past", "/due_on", "A review can be brought forward to today or later.")]
        )
    if locked.review_due_on is not None and due_on >= locked.review_due_on:
        raise ReviewInvalid(
            [
                Problem(
                    "review_not_sooner",
                    "/due_on",
                    f"The review is already due by {date_display(locked.review_due_on)}: "
                    "choose an earlier day.",
                )
            ]
        )
    was = locked.review_due_on
    locked.review_due_on = due_on
    locked.save(update_fields=["review_due_on"])
    timeline_record(
        budget_holder=locked.plan.budget_holder,
        kind="plan.review_brought_forward",
        actor=requested_by,
        for_person=(
            f"Your next plan review has been brought forward to {date_display(due_on)}, at "
            f"{requested_by.display_name}'s request: {reason}"
        ),
        for_staff=(
            f"Review of version {locked.number} brought forward from "
            f"{was.isoformat() if was else 'none'} to {due_on.isoformat()} by {requested_by.display_name}."
        ),
        body=reason,
        detail={
            "plan_version": locked.public_id,
            "was": was.isoformat() if was else None,
            "due_on": due_on.isoformat(),
        },
    )
    return locked


def _lock_active(version: PlanVersion) -> PlanVersion:
    locked = (
        PlanVersion.objects.select_for_update(of=("self",))
        .select_related("plan__budget_holder")
        .get(pk=version.pk)
    )
    if locked.status != PlanVersionStatus.ACTIVE:
        raise PlanVersionNotActive(
            f"Version {locked.number} is {locked.get_status_display().lower()}: only the active version is "
            "reviewed."
        )
    return locked


def _entry(entry: object) -> tuple[str, str, str]:
    """One (outcome public id, progress, note) as asked; anything unreadable names no outcome."""
    if isinstance(entry, list | tuple) and len(entry) == 3 and all(isinstance(part, str) for part in entry):
        outcome_id, value, note = entry
        return outcome_id, value, note.strip()
    return "", "", ""
