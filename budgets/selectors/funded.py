"""The people an agency's streams fund on a day, a page at a time, with their positions for those streams.

The figures are `budgets.selectors.positions`' own: `positions_for_holders` computes a whole page of
people at once, in the same handful of queries however many people, streams, instalments or postings.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from budgets.models import PersonalBudget, PersonalBudgetStatus
from budgets.selectors.positions import BudgetPosition, positions_for_holders
from people.models import BudgetHolder, Organisation

PAGE_SIZE = 20


@dataclass(frozen=True)
class FundedPerson:
    """One person an agency funds, and their positions with that agency's streams (by stream code)."""

    budget_holder: BudgetHolder
    positions: list[BudgetPosition]


@dataclass(frozen=True)
class CurrencyTotals:
    """The sum of a page's positions in one currency (minor units)."""

    currency: str
    allocated_minor: int = 0
    spent_minor: int = 0
    committed_minor: int = 0
    available_minor: int = 0


@dataclass(frozen=True)
class FundedPage:
    """One page of the people an agency funds: the paginator's page, its people, and their totals."""

    page: Page
    people: list[FundedPerson]
    totals: list[CurrencyTotals] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many people the agency funds on the day, on every page."""
        return self.page.paginator.count


def funded_people(*, agency: Organisation, on: date | None = None) -> QuerySet[BudgetHolder]:
    """The people with an active budget from one of the agency's streams for the period containing `on`,
    by name."""
    on = on or timezone.localdate()
    funded = PersonalBudget.objects.filter(
        stream__agency=agency, status=PersonalBudgetStatus.ACTIVE, starts_on__lte=on, ends_on__gte=on
    ).values("budget_holder_id")
    return BudgetHolder.objects.filter(pk__in=funded).order_by("full_name", "pk")


def funded_positions_for_agency(
    *, agency: Organisation, on: date | None = None, page: Any = 1, per_page: int = PAGE_SIZE
) -> FundedPage:
    """Page `page` of the people the agency funds on `on` (today by default; an impossible page number
    gives the nearest), each with their positions for the agency's streams only, and the page's totals."""
    on = on or timezone.localdate()
    page_obj = Paginator(funded_people(agency=agency, on=on), per_page).get_page(page)
    holders = list(page_obj.object_list)
    by_holder = positions_for_holders(holders=holders, on=on, only=Q(stream__agency=agency))
    people = [
        FundedPerson(budget_holder=holder, positions=by_holder.get(holder.pk, [])) for holder in holders
    ]
    return FundedPage(page=page_obj, people=people, totals=_totals(people))


def _totals(people: list[FundedPerson]) -> list[CurrencyTotals]:
    sums: dict[str, dict[str, int]] = {}
    for person in people:
        for position in person.positions:
            row = sums.setdefault(position.currency, defaultdict(int))
            row["allocated_minor"] += position.allocated_minor
            row["spent_minor"] += position.spent_minor
            row["committed_minor"] += position.committed_minor
            row["available_minor"] += position.available_minor
    return [CurrencyTotals(currency=currency, **row) for currency, row in sorted(sums.items())]
