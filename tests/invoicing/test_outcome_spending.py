"""`invoicing.selectors.outcome_spending`: per outcome of a plan version, what it plans to spend (from the
version's costing) and what approved or paid invoice lines have spent, each line once."""

import pytest

from invoicing import services as invoicing_services
from invoicing.models import InvoiceLine
from invoicing.selectors import outcome_spending
from plans.models import Engagement
from plans.selectors.plans import plan_version_costing, plan_version_get, support_items_ordered
from tests.invoicing.world import build_invoicing_world, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def _rows(world):
    spending = outcome_spending(version=plan_version_get(public_id=world.base.v1.public_id))
    return spending, {row.outcome_public_id: row for row in spending.outcomes}


def _approved(world, engagement, **body):
    invoice = submit(engagement, **body)
    return invoicing_services.invoice_approve(invoice=invoice, by=world.users["holder"])


class TestPlanned:
    def test_each_outcome_is_planned_the_cost_of_the_items_serving_it(self, world):
        version = plan_version_get(public_id=world.base.v1.public_id)
        costing = plan_version_costing(version=version)
        items = support_items_ordered(version=version)
        cost = {}
        for line in costing.lines:
            public_id = items[line.item_index].public_id
            cost[public_id] = cost.get(public_id, 0) + line.amount_minor + line.on_costs_minor
        spending, rows = _rows(world)
        flat, job = world.base.outcomes["flat"].public_id, world.base.outcomes["job"].public_id
        items_by_name = world.base.items
        assert rows[flat].planned_minor == cost[items_by_name["care"].public_id]
        assert (
            rows[job].planned_minor
            == cost[items_by_name["work"].public_id] + cost[items_by_name["taxi"].public_id]
        )
        assert spending.planned_total_minor == costing.total_minor
        assert spending.costed

    def test_nothing_spent_before_any_invoice_is_approved(self, world):
        submit(world.care)  # waiting for approval: not spent
        spending, rows = _rows(world)
        assert spending.spent_total_minor == 0
        assert all(row.spent_minor == 0 for row in rows.values())


class TestSpent:
    def test_an_approved_invoice_counts_against_its_items_outcome(self, world):
        invoice = _approved(world, world.care, lines=[("2026-10-03", "2.00"), ("2026-10-04", "1.00")])
        spending, rows = _rows(world)
        assert rows[world.base.outcomes["flat"].public_id].spent_minor == invoice.total_minor
        assert rows[world.base.outcomes["job"].public_id].spent_minor == 0
        assert spending.spent_total_minor == invoice.total_minor

    def test_rejected_and_waiting_invoices_do_not_count(self, world):
        waiting = submit(world.work, number="W-1")
        rejected = submit(world.work, number="W-2")
        invoicing_services.invoice_reject(invoice=rejected, by=world.users["holder"], reason="Not delivered")
        assert waiting.status != "approved"
        spending, _ = _rows(world)
        assert spending.spent_total_minor == 0

    def test_a_line_serving_two_outcomes_is_split_to_the_penny_and_counted_once(self, world):
        flat, job = world.base.outcomes["flat"].public_id, world.base.outcomes["job"].public_id
        Engagement.objects.filter(pk=world.care.pk).update(outcome_public_ids=[flat, job])
        world.care.refresh_from_db()
        invoice = _approved(world, world.care, lines=[("2026-10-03", "1.50")])  # 36.75: odd pence
        assert invoice.total_minor % 2 == 1
        spending, rows = _rows(world)
        assert rows[flat].spent_minor + rows[job].spent_minor == invoice.total_minor
        assert abs(rows[flat].spent_minor - rows[job].spent_minor) == 1
        assert rows[flat].shared_minor == rows[flat].spent_minor
        assert spending.spent_total_minor == invoice.total_minor
        assert spending.has_shared

    def test_a_line_for_an_outcome_not_in_the_version_has_its_own_row(self, world):
        Engagement.objects.filter(pk=world.care.pk).update(outcome_public_ids=["out_gone"])
        world.care.refresh_from_db()
        invoice = _approved(world, world.care)
        spending, rows = _rows(world)
        assert rows[None].spent_minor == invoice.total_minor
        assert sum(row.spent_minor for row in spending.outcomes) == spending.spent_total_minor

    def test_lines_before_the_version_applies_do_not_count(self, world):
        invoice = _approved(world, world.care)
        InvoiceLine.objects.filter(invoice=invoice).update(service_date="2026-03-01")
        spending, _ = _rows(world)
        assert spending.spent_total_minor == 0


class TestQueries:
    def test_the_number_of_queries_does_not_grow_with_invoices(self, world, django_assert_max_num_queries):
        version = plan_version_get(public_id=world.base.v1.public_id)
        _approved(world, world.care, number="C-1")
        with django_assert_max_num_queries(12) as few:
            outcome_spending(version=version)
        for number in range(2, 8):
            _approved(world, world.care, number=f"C-{number}", lines=[(f"2026-10-{number + 10}", "1.00")])
        version = plan_version_get(public_id=world.base.v1.public_id)
        with django_assert_max_num_queries(len(few.captured_queries)):
            outcome_spending(version=version)
