"""Comparing two versions of a plan: outcomes, informal support and items added, removed and changed (by
public id), and the money per stream, costed like for like with the demo catalogue."""

from datetime import date
from decimal import Decimal

import pytest

from budgets.models import Per
from budgets.services.cash_equivalents import (
    CashEquivalentRequest,
    ItemRequest,
    PercentSplit,
    cash_equivalent_calculate,
)
from people.models import Organisation
from plans.models import InformalSupport, PlanVersion, PlanVersionStatus
from plans.selectors.compare import FieldChange, PlanVersionsNotComparable, plan_version_compare
from plans.services import versions
from tests.people.factories import BudgetHolderFactory
from tests.plans.factories import PERIOD_END, PERIOD_START, PlanVersionFactory, demo_catalogue

pytestmark = pytest.mark.django_db

CHANGE_ON = date(2026, 10, 1)


@pytest.fixture
def catalogue():
    return demo_catalogue()


@pytest.fixture
def holder():
    return BudgetHolderFactory()


@pytest.fixture
def navigator(holder):
    return holder.navigator


def provider(slug):
    return Organisation.objects.get(slug=slug)


def item(version, navigator, outcome, **fields):
    return versions.support_item_add(
        version=version, by=navigator, per=fields.pop("per", "week"), outcomes=[outcome], **fields
    )


@pytest.fixture
def older(catalogue, holder, navigator):
    """An active version with three outcomes, informal support and six items."""
    version = versions.plan_version_start(
        budget_holder=holder, starts_on=PERIOD_START, ends_on=PERIOD_END, started_by=navigator
    )
    flat = versions.outcome_add(version=version, in_own_words="Live in my own flat", by=navigator)
    job = versions.outcome_add(version=version, in_own_words="Get a job", by=navigator)
    versions.outcome_add(version=version, in_own_words="Learn to cook", by=navigator)
    versions.informal_support_add(version=version, outcome=flat, who="Sister", what="Shopping", by=navigator)
    versions.informal_support_add(version=version, outcome=job, who="Uncle", what="Lifts", by=navigator)
    versions.informal_support_add(version=version, outcome=flat, who="Neighbour", what="Post", by=navigator)
    item(version, navigator, flat, service_code="ASC-PC", quantity=Decimal("10"), description="Care")
    item(version, navigator, job, service_code="ATW-SW", quantity=Decimal("6"), description="Work support")
    item(
        version,
        navigator,
        job,
        stream_code="ATW",
        description="Coach",
        unit="hour",
        unit_cost_minor=3000,
        quantity=Decimal("2"),
    )
    item(
        version,
        navigator,
        flat,
        service_code="ASC-PC",
        quantity=Decimal("4"),
        description="Evening care",
        split={"percent": [{"stream": "ASC", "percent": "50"}, {"stream": "ILF", "percent": "50"}]},
    )
    item(
        version,
        navigator,
        flat,
        service_code="ASC-DAY",
        quantity=Decimal("1"),
        description="Day out",
        provider=provider("bright-care"),
        agreed_rate_minor=6450,
    )
    item(version, navigator, job, service_code="ATW-TRAVEL", quantity=Decimal("10"), description="Taxi")
    PlanVersion.objects.filter(pk=version.pk).update(status=PlanVersionStatus.ACTIVE)
    version.refresh_from_db()
    return version


def by_description(version):
    return {i.description: i for i in version.support_items.all()}


class TestPlanVersionCompare:
    def test_every_kind_of_change_and_the_money_per_stream(self, older, navigator):
        newer = versions.plan_version_start_from(
            version=older, started_by=navigator, effective_from=CHANGE_ON, change_reason="A new job."
        )
        outcomes = {o.in_own_words: o for o in newer.outcomes.all()}
        items = by_description(newer)
        flat = outcomes["Live in my own flat"]
        friends = versions.outcome_add(version=newer, in_own_words="See friends", by=navigator)
        versions.outcome_update(outcome=flat, by=navigator, success_looks_like="My own key")
        informal = {i.who: i for i in newer.informal_supports.all()}
        versions.informal_support_remove(informal_support=informal["Uncle"], by=navigator)
        versions.informal_support_add(version=newer, outcome=friends, who="Club", what="Darts", by=navigator)
        InformalSupport.objects.filter(pk=informal["Neighbour"].pk).update(how_often="Daily")
        versions.support_item_update(item=items["Care"], by=navigator, quantity=Decimal("12"))
        versions.support_item_update(
            item=items["Work support"], by=navigator, per="day", quantity=Decimal("1")
        )
        versions.support_item_update(item=items["Coach"], by=navigator, stream_code="WCH")
        versions.support_item_update(
            item=items["Evening care"],
            by=navigator,
            split={"cap": {"stream": "ASC", "amount": "50.00", "per": "week"}, "rest": "ILF"},
        )
        versions.support_item_update(
            item=items["Day out"],
            by=navigator,
            service_code="ASC-NIGHT",
            description="Day out",
            provider=None,
            agreed_rate_minor=None,
        )
        versions.support_item_remove(item=items["Taxi"], by=navigator)
        added = item(
            newer, navigator, friends, service_code="WCH-COACH", quantity=Decimal("1"), description="Coaching"
        )
        versions.outcome_remove(outcome=outcomes["Learn to cook"], by=navigator)

        comparison = plan_version_compare(older=older, newer=newer)

        assert comparison.money_from == CHANGE_ON
        assert [o.public_id for o in comparison.outcomes_added] == [friends.public_id]
        assert [o.in_own_words for o in comparison.outcomes_removed] == ["Learn to cook"]
        [changed_outcome] = comparison.outcomes_changed
        assert changed_outcome.public_id == flat.public_id
        assert changed_outcome.changes == (FieldChange("success_looks_like", "", "My own key"),)
        assert [i.who for i in comparison.informal_support_added] == ["Club"]
        assert [i.who for i in comparison.informal_support_removed] == ["Uncle"]
        [neighbour] = comparison.informal_support_changed
        assert neighbour.changes == (FieldChange("how_often", "", "Daily"),)
        assert [i.public_id for i in comparison.support_items_added] == [added.public_id]
        assert [i.description for i in comparison.support_items_removed] == ["Taxi"]
        changed = {
            c.older.description: {f.field: (f.older, f.newer) for f in c.changes}
            for c in comparison.support_items_changed
        }
        assert set(changed) == {"Care", "Work support", "Coach", "Evening care", "Day out"}
        assert set(changed["Care"]) == {"quantity", "cost"}
        assert changed["Care"]["quantity"] == ("10", "12")
        assert changed["Care"]["cost"] == (
            "6370.00",
            "7644.00",
        )  # 24.50 x 10 (or 12) x 26 weeks from 1 October
        assert set(changed["Work support"]) == {"quantity", "per", "cost"}
        assert changed["Work support"]["per"] == ("week", "day")
        assert changed["Coach"] == {"stream": ("ATW", "WCH")}
        assert set(changed["Evening care"]) == {"split"}
        assert changed["Evening care"]["split"][1] == {
            "cap": {"stream": "ASC", "amount": "50.00", "per": "week"},
            "rest": "ILF",
        }
        assert set(changed["Day out"]) == {"service", "provider", "agreed_rate", "cost"}
        assert changed["Day out"]["service"] == ("ASC-DAY", "ASC-NIGHT")
        assert changed["Day out"]["provider"] == (provider("bright-care").public_id, None)

        def oracle(items):
            result = cash_equivalent_calculate(
                request=CashEquivalentRequest(start=CHANGE_ON, end=PERIOD_END, items=tuple(items))
            )
            return {s.stream: s.amount_minor for s in result.streams}

        half = PercentSplit(parts=(("ASC", Decimal("50")), ("ILF", Decimal("50"))))
        old_money = oracle(
            [
                ItemRequest(service_code="ASC-PC", quantity=Decimal("10"), per=Per.WEEK),
                ItemRequest(service_code="ATW-SW", quantity=Decimal("6"), per=Per.WEEK),
                ItemRequest(
                    stream="ATW", unit="hour", unit_cost="30.00", quantity=Decimal("2"), per=Per.WEEK
                ),
                ItemRequest(service_code="ASC-PC", quantity=Decimal("4"), per=Per.WEEK, split=half),
                ItemRequest(service_code="ASC-DAY", quantity=Decimal("1"), per=Per.WEEK),
                ItemRequest(service_code="ATW-TRAVEL", quantity=Decimal("10"), per=Per.WEEK),
            ]
        )
        money = {m.stream: (m.older_minor, m.newer_minor, m.difference_minor) for m in comparison.money}
        assert set(money) == {"ASC", "ATW", "ILF", "WCH"}
        assert {code: older_minor for code, (older_minor, _, _) in money.items() if older_minor} == old_money
        assert money["WCH"][0] == 0 and money["WCH"][1] == 30_00 * 2 * 26 + 35_00 * 26
        assert all(difference == new - old for old, new, difference in money.values())
        assert {m.currency for m in comparison.money} == {"GBP"}
        assert comparison.has_changes

    def test_an_unchanged_copy_has_no_changes(self, older, navigator):
        newer = versions.plan_version_start_from(
            version=older, started_by=navigator, effective_from=CHANGE_ON, change_reason="Nothing yet."
        )
        comparison = plan_version_compare(older=older, newer=newer)
        assert not comparison.has_changes
        assert all(m.difference_minor == 0 for m in comparison.money)

    def test_versions_of_different_periods_are_each_costed_over_their_own_days(
        self, older, holder, navigator
    ):
        following = versions.plan_version_start(
            budget_holder=holder, starts_on=date(2027, 4, 1), ends_on=date(2028, 3, 31), started_by=navigator
        )
        comparison = plan_version_compare(older=older, newer=following)
        assert comparison.money_from is None
        assert len(comparison.outcomes_removed) == 3 and len(comparison.support_items_removed) == 6
        assert {m.newer_minor for m in comparison.money} == {0}
        assert all(m.older_minor > 0 for m in comparison.money)

    def test_only_an_older_and_a_newer_version_of_one_plan(self, older, navigator):
        newer = versions.plan_version_start_from(
            version=older, started_by=navigator, effective_from=CHANGE_ON, change_reason="x"
        )
        for a, b in ((newer, older), (older, older), (older, PlanVersionFactory(number=5))):
            with pytest.raises(PlanVersionsNotComparable) as error:
                plan_version_compare(older=a, newer=b)
            assert (error.value.code, error.value.http_status) == ("plan_versions_not_comparable", 422)
