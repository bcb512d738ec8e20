"""Engagements made by activation (plans/services/engagements.py): dates, rates, planned quantities, shares,
and how a mid-year change ends the earlier ones."""

from datetime import date
from decimal import Decimal

import pytest

from plans.models import Engagement
from plans.services import versions, workflow
from tests.api.plans_world import CHANGE_ON, build_world, install_clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(monkeypatch):
    clock = install_clock(monkeypatch)
    return build_world(), clock


def engagements_of(holder) -> list[Engagement]:
    return list(Engagement.objects.filter(budget_holder=holder).select_related("provider").order_by("id"))


class TestEngagementsOnActivation:
    def test_each_item_with_a_provider_is_engaged_for_the_plan_period(self, world):
        w, _ = world

        by_provider = {e.provider.slug: e for e in engagements_of(w.alex)}

        assert set(by_provider) == {"bright-care", "able-assist"}
        care = by_provider["bright-care"]
        assert care.support_item_public_id == w.items["care"].public_id
        assert (care.starts_on, care.ends_on) == (date(2026, 4, 1), date(2027, 3, 31))
        assert (care.agreed_rate_minor, care.currency, care.unit, care.service_code) == (
            2450,
            "GBP",
            "hour",
            "ASC-PC",
        )
        # 14 hours a week over 365 days: 14 x 365 / 7 = 730.00.
        assert care.planned_quantity == Decimal("730.00")
        # ASC pays up to 250.00 a week (13035.71 over the year), ILF the rest of 17885.00.
        assert care.stream_shares == [
            {"stream": "ASC", "weight": 1303571},
            {"stream": "ILF", "weight": 484929},
        ]
        assert care.outcome_public_ids == [w.outcomes["flat"].public_id]

    def test_a_change_from_october_ends_the_old_engagements_the_day_before(self, world):
        w, clock = world
        clock.today = date(2026, 9, 20)
        care = w.item_in(w.v2, "care")
        versions.support_item_update(item=care, by=w.users["navigator"], agreed_rate_minor=2600)
        workflow.plan_version_agree(version=w.v2, agreed_by=w.alex.user)
        for code in ("ASC", "ILF", "ATW"):
            workflow.plan_stream_approve(version=w.v2, stream_code=code, approved_by=w.officers[code])

        rows = engagements_of(w.alex)

        old = [e for e in rows if e.version_id == w.v1.pk]
        new = [e for e in rows if e.version_id == w.v2.pk]
        assert {e.ends_on for e in old} == {date(2026, 9, 30)}
        assert {e.starts_on for e in new} == {CHANGE_ON}
        rates = {(e.provider.slug, e.version_id): e.agreed_rate_minor for e in rows}
        assert rates[("bright-care", w.v1.pk)] == 2450
        assert rates[("bright-care", w.v2.pk)] == 2600
        covering = Engagement.objects.current().covering(date(2026, 10, 5)).get(provider__slug="bright-care")
        assert covering.version_id == w.v2.pk
        assert all(e.replaced_at is None for e in rows)

    def test_a_change_from_the_first_day_replaces_the_old_engagements(self, world):
        w, _ = world
        workflow.plan_version_withdraw(version=w.v2, by=w.users["navigator"], reason="Not needed after all.")
        redo = versions.plan_version_start_from(
            version=w.v1,
            started_by=w.users["navigator"],
            effective_from=date(2026, 4, 1),
            change_reason="A correction before the year starts.",
        )
        workflow.plan_version_agree(version=redo, agreed_by=w.alex.user)
        for code in ("ASC", "ILF", "ATW"):
            workflow.plan_stream_approve(version=redo, stream_code=code, approved_by=w.officers[code])

        old = Engagement.objects.filter(budget_holder=w.alex, version=w.v1)

        assert old.count() == 2 and all(e.replaced_at is not None for e in old)
        current = Engagement.objects.current().filter(budget_holder=w.alex)
        assert set(current.values_list("version_id", flat=True)) == {redo.pk}
        assert current.count() == 2
