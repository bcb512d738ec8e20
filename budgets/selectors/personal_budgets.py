"""Reading personal budgets, their versions and their instalments."""

from datetime import date

from django.db.models import Prefetch, QuerySet

from budgets.models import FundingStream, Instalment, InstalmentStatus, PersonalBudget, PersonalBudgetStatus
from ledger.errors import DomainError
from people.models import BudgetHolder


class PersonalBudgetNotFound(DomainError):
    code = "personal_budget_not_found"
    message = "There is no such personal budget."
    http_status = 404


def _with_instalments() -> QuerySet[PersonalBudget]:
    return PersonalBudget.objects.select_related("stream", "budget_holder").prefetch_related(
        Prefetch("instalments", queryset=Instalment.objects.order_by("sequence"))
    )


def personal_budget_get(*, public_id: str) -> PersonalBudget:
    """One version of a budget by its public id, with its stream, holder and instalments; raises
    PersonalBudgetNotFound."""
    try:
        return _with_instalments().get(public_id=public_id)
    except PersonalBudget.DoesNotExist:
        raise PersonalBudgetNotFound(f"There is no personal budget {public_id!r}.") from None


def personal_budget_active_on(
    *, budget_holder: BudgetHolder, stream: FundingStream, on: date
) -> PersonalBudget | None:
    """The active budget of a person from a stream whose period contains `on`, or None."""
    return (
        _with_instalments()
        .filter(
            budget_holder=budget_holder,
            stream=stream,
            status=PersonalBudgetStatus.ACTIVE,
            starts_on__lte=on,
            ends_on__gte=on,
        )
        .first()
    )


def personal_budget_versions(*, personal_budget: PersonalBudget) -> QuerySet[PersonalBudget]:
    """Every version of a budget (the same person, stream and period), oldest first, with instalments."""
    return (
        _with_instalments()
        .filter(
            budget_holder_id=personal_budget.budget_holder_id,
            stream_id=personal_budget.stream_id,
            starts_on=personal_budget.starts_on,
        )
        .order_by("version")
    )


def personal_budget_list_for_holder(*, budget_holder: BudgetHolder) -> QuerySet[PersonalBudget]:
    """A person's active budgets, newest period first, then by stream code (without instalments)."""
    return (
        PersonalBudget.objects.select_related("stream")
        .filter(budget_holder=budget_holder, status=PersonalBudgetStatus.ACTIVE)
        .order_by("-starts_on", "stream__code")
    )


def instalments_upcoming(*, budget_holder: BudgetHolder, on: date, limit: int = 5) -> list[Instalment]:
    """The next `limit` instalments still to come to a person (scheduled, due on or after `on`), soonest
    first, each with its budget and stream."""
    return list(
        Instalment.objects.select_related("personal_budget__stream")
        .filter(
            personal_budget__budget_holder=budget_holder,
            status=InstalmentStatus.SCHEDULED,
            due_on__gte=on,
        )
        .order_by("due_on", "personal_budget__stream__code", "pk")[:limit]
    )
