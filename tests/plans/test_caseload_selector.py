"""The caseload selector: who is in it, in what order, what counts as needing attention, and surpluses
that agree with budgets' own positions, in a fixed number of queries."""

from datetime import date

import pytest

from budgets.selectors.positions import budget_positions_for_holder
from plans.models import PlanVersion, PlanVersionStatus
from plans.selectors.caseload import (
    caseload_for_navigator,
    caseload_summary,
    caseload_surpluses,
    outcome_progress_history,
    reviews_for_person,
)
from plans.services.reviews import review_record
from tests.invoicing.world import TODAY, build_invoicing_world
from tests.people.factories import BudgetHolderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


class TestCaseloadForNavigator:
    def test_only_the_navigators_people_overdue_first(self, world):
        navigator = world.users["navigator"]
        quiet = BudgetHolderFactory(navigator=navigator, full_name="Aaron Quiet")
        PlanVersion.objects.filter(pk=world.base.v1.pk).update(review_due_on=date(2026, 11, 1))
        people = list(caseload_for_navigator(navigator=navigator, on=TODAY))
        assert people == [world.base.alex, quiet]
        assert people[0].review_due_on == date(2026, 11, 1)
        assert people[0].waiting_status == PlanVersionStatus.DRAFT
        assert people[1].review_due_on is None and people[1].waiting_status is None

    def test_needs_attention(self, world):
        navigator = world.users["navigator"]
        quiet = BudgetHolderFactory(navigator=navigator)
        attention = list(caseload_for_navigator(navigator=navigator, on=TODAY, needs_attention=True))
        assert attention == [world.base.alex]
        with_hold = caseload_for_navigator(
            navigator=navigator, on=TODAY, needs_attention=True, on_hold_ids=[quiet.pk]
        )
        assert quiet in list(with_hold)

    def test_summary_counts(self, world):
        navigator = world.users["navigator"]
        BudgetHolderFactory(navigator=navigator)
        PlanVersion.objects.filter(pk=world.base.v1.pk).update(review_due_on=date(2026, 11, 1))
        summary = caseload_summary(navigator=navigator, on=TODAY, on_hold_ids=[world.base.alex.pk])
        assert summary.people == 2
        assert (summary.reviews_due, summary.reviews_overdue, summary.plans_waiting) == (1, 1, 1)
        assert summary.with_on_hold == 1
        assert summary.with_surplus == (
            1 if caseload_surpluses(budget_holder_ids=[world.base.alex.pk], on=TODAY) else 0
        )

    def test_surpluses_agree_with_budget_positions(self, world):
        for holder in (world.base.alex, world.base.sam):
            found = {
                surplus.stream_code: surplus.surplus_minor
                for surplus in caseload_surpluses(budget_holder_ids=[holder.pk], on=TODAY).get(holder.pk, [])
            }
            expected = {
                position.stream_code: position.surplus_minor
                for position in budget_positions_for_holder(budget_holder=holder, on=TODAY)
                if position.surplus_minor > 0
            }
            assert found == expected

    def test_fixed_queries(self, world, django_assert_num_queries):
        ids = [world.base.alex.pk, world.base.sam.pk] + [BudgetHolderFactory().pk for _ in range(5)]
        with django_assert_num_queries(2):
            caseload_surpluses(budget_holder_ids=ids, on=TODAY)


class TestReviewReads:
    def test_history_and_reviews(self, world):
        v1 = world.base.v1
        outcomes = list(v1.outcomes.order_by("position"))
        for day, value in ((date(2026, 7, 1), "not_started"), (date(2026, 10, 1), "achieved")):
            review_record(
                version=v1,
                held_by=world.users["navigator"],
                held_on=day,
                notes="",
                progress=[(o.public_id, value, "") for o in outcomes],
            )
        history = outcome_progress_history(version=v1)
        assert [entry.progress for entry in history[outcomes[0].public_id]] == ["not_started", "achieved"]
        reviews = list(reviews_for_person(budget_holder=world.base.alex))
        assert [review.held_on for review in reviews] == [date(2026, 10, 1), date(2026, 7, 1)]
        assert list(reviews_for_person(budget_holder=world.base.sam)) == []
