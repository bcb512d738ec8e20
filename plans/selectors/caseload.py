"""A navigator's caseload: the people they support, with what needs their attention; and the reviews of a
person's plan with each outcome's progress over time.

For each person: when the active plan's review is due (overdue first), whether a version of the plan is
waiting (a draft, a draft an agency returned, or agreed and waiting for the agencies), and each stream's
surplus (money held above the stream's threshold, as `budgets.selectors.positions` works it out). Invoices
on hold are invoicing's, which plans may not import: the interface counts them and passes in the people
who have some (`on_hold_ids`) so that the "needs attention" filter can include them.

Every function here runs a fixed number of queries however many people the caseload has.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from budgets import accounts
from budgets.models import PersonalBudget, PersonalBudgetStatus

# The rule itself stays in budgets: the same rounding of the weekly equivalent and of the threshold.
from budgets.selectors.positions import surplus_minor
from ledger.models import Account
from people.models import BudgetHolder, User
from plans.models import (
    OutcomeProgress,
    PlanVersion,
    PlanVersionStatus,
    Review,
    StreamApproval,
    StreamApprovalStatus,
)

REVIEW_SOON_DAYS = 28  # a review due within four weeks counts as due
IN_PROGRESS = (PlanVersionStatus.DRAFT, PlanVersionStatus.AGREED)


@dataclass(frozen=True)
class Surplus:
    """Money one stream's budget holds above its threshold."""

    stream_code: str
    stream_name: str
    currency: str
    surplus_minor: int


@dataclass(frozen=True)
class CaseloadSummary:
    """Counts over the whole caseload, for the top of the page."""

    people: int
    reviews_due: int  # due within REVIEW_SOON_DAYS, or overdue
    reviews_overdue: int
    plans_waiting: int
    with_surplus: int
    with_on_hold: int


def caseload_for_navigator(
    *,
    navigator: User,
    on: date,
    needs_attention: bool = False,
    on_hold_ids: Iterable[int] = (),
) -> QuerySet[BudgetHolder]:
    """The navigator's people, annotated, reviews due soonest (overdue) first, then by name.

    Annotations: `review_due_on` (the active version's, or None), `waiting_status` (the in-progress
    version's status, or None) and `waiting_returned` (that draft was returned by an agency).
    With `needs_attention`, only people whose review is due, whose plan waits, who hold a surplus, or who
    are in `on_hold_ids`.
    """
    people = _annotated(BudgetHolder.objects.filter(navigator=navigator))
    if needs_attention:
        surplus_ids = set(caseload_surpluses(budget_holder_ids=people.values("pk"), on=on))
        people = people.filter(
            Q(review_due_on__lte=on + timedelta(days=REVIEW_SOON_DAYS))
            | Q(waiting_status__isnull=False)
            | Q(pk__in=surplus_ids | set(on_hold_ids))
        )
    return people.order_by(F("review_due_on").asc(nulls_last=True), "full_name", "pk")


def caseload_summary(*, navigator: User, on: date, on_hold_ids: Iterable[int] = ()) -> CaseloadSummary:
    """The counts at the top of the caseload (a fixed number of queries)."""
    people = _annotated(BudgetHolder.objects.filter(navigator=navigator))
    rows = list(people.values_list("pk", "review_due_on", "waiting_status"))
    soon = on + timedelta(days=REVIEW_SOON_DAYS)
    ids = {pk for pk, _, _ in rows}
    return CaseloadSummary(
        people=len(rows),
        reviews_due=sum(1 for _, due, _ in rows if due is not None and due <= soon),
        reviews_overdue=sum(1 for _, due, _ in rows if due is not None and due < on),
        plans_waiting=sum(1 for _, _, waiting in rows if waiting is not None),
        with_surplus=len(caseload_surpluses(budget_holder_ids=list(ids), on=on)),
        with_on_hold=len(ids & set(on_hold_ids)),
    )


def caseload_surpluses(*, budget_holder_ids: Iterable[int] | QuerySet, on: date) -> dict[int, list[Surplus]]:
    """Each person's streams that hold a surplus on `on`, by budget holder pk (people without one are left
    out); two queries for any number of people."""
    budgets = list(
        PersonalBudget.objects.filter(
            budget_holder_id__in=budget_holder_ids,
            status=PersonalBudgetStatus.ACTIVE,
            starts_on__lte=on,
            ends_on__gte=on,
        )
        .select_related("stream", "budget_holder")
        .order_by("budget_holder_id", "stream__code")
    )
    keys = {
        budget.pk: accounts.person_funds_key(
            budget_holder_public_id=budget.budget_holder.public_id, stream_code=budget.stream.code
        )
        for budget in budgets
    }
    funds = {account.key: account for account in Account.objects.filter(key__in=keys.values())}
    surpluses: dict[int, list[Surplus]] = defaultdict(list)
    for budget in budgets:
        account = funds.get(keys[budget.pk])
        available = account.available_minor if account is not None else 0
        surplus = surplus_minor(available_minor=available, budget=budget)
        if surplus > 0:
            surpluses[budget.budget_holder_id].append(
                Surplus(
                    stream_code=budget.stream.code,
                    stream_name=budget.stream.name,
                    currency=budget.currency,
                    surplus_minor=surplus,
                )
            )
    return dict(surpluses)


def _annotated(people: QuerySet[BudgetHolder]) -> QuerySet[BudgetHolder]:
    active = PlanVersion.objects.filter(
        plan__budget_holder=OuterRef("pk"), status=PlanVersionStatus.ACTIVE
    ).values("review_due_on")[:1]
    waiting = PlanVersion.objects.filter(plan__budget_holder=OuterRef("pk"), status__in=IN_PROGRESS).values(
        "status"
    )[:1]
    returned = StreamApproval.objects.filter(
        version__plan__budget_holder=OuterRef("pk"),
        version__status=PlanVersionStatus.DRAFT,
        status=StreamApprovalStatus.RETURNED,
    )
    return people.annotate(
        review_due_on=Subquery(active),
        waiting_status=Subquery(waiting),
        waiting_returned=Exists(returned),
    )


# The reviews page -----------------------------------------------------------------------------------------


def reviews_for_person(*, budget_holder: BudgetHolder) -> QuerySet[Review]:
    """Every review of the person's plan, of any version, newest first, with who held it and the progress
    on each outcome (a fixed number of queries for a page of them)."""
    return (
        Review.objects.filter(version__plan__budget_holder=budget_holder)
        .select_related("held_by", "version")
        .prefetch_related(
            Prefetch(
                "progress",
                queryset=OutcomeProgress.objects.select_related("outcome").order_by(
                    "outcome__position", "pk"
                ),
            )
        )
        .order_by("-held_on", "-pk")
    )


def outcome_progress_history(*, version: PlanVersion) -> dict[str, list[OutcomeProgress]]:
    """For each outcome of `version` (by public id, which outcomes keep across versions), its progress at
    every review of the plan, oldest first; one query."""
    history: dict[str, list[OutcomeProgress]] = defaultdict(list)
    rows = (
        OutcomeProgress.objects.filter(
            review__version__plan_id=version.plan_id,
            outcome__public_id__in=version.outcomes.values("public_id"),
        )
        .select_related("review", "outcome")
        .order_by("review__held_on", "review__pk")
    )
    for row in rows:
        history[row.outcome.public_id].append(row)
    return dict(history)
