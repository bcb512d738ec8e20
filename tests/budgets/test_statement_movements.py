"""`budgets.selectors.movements`: a person's statement for the current period agrees with their budget
positions to the penny, and its movements add up to the money available."""

from datetime import date

import pytest

from budgets.selectors.movements import movement_rows, statement_for_holder, statement_movements
from budgets.selectors.positions import budget_positions_for_holder
from invoicing import services as invoicing_services
from tests.invoicing.world import TODAY, build_invoicing_world, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def _statement(world):
    statements = statement_for_holder(budget_holder=world.base.alex, on=TODAY)
    rows = movement_rows(postings=list(statement_movements(statements=statements)), statements=statements)
    return statements, rows


def _approve(world, engagement, number):
    invoice = submit(engagement, number=number)
    return invoicing_services.invoice_approve(invoice=invoice, by=world.users["holder"])


class TestFigures:
    def test_the_figures_are_the_positions(self, world):
        _approve(world, world.care, "C-1")
        statements, _ = _statement(world)
        positions = budget_positions_for_holder(budget_holder=world.base.alex, on=TODAY)
        assert [s.position for s in statements] == positions
        for statement in statements:
            assert statement.money_in_minor == statement.position.due_so_far_minor
            assert (
                statement.money_out_minor
                == statement.position.spent_minor + statement.position.committed_minor
            )
            assert statement.other_minor == 0

    def test_carried_in_and_every_movement_add_up_to_the_available_balance(self, world):
        paid = _approve(world, world.care, "C-1")
        _approve(world, world.work, "W-1")
        invoicing_services.remittance_record(
            provider=world.care.provider, invoices=[paid], reference="PAY-1", paid_on=TODAY, by=None
        )
        statements, rows = _statement(world)
        for statement in statements:
            mine = [row.amount_minor for row in rows if row.stream_name == statement.position.stream_name]
            assert statement.carried_in_minor + sum(mine) == statement.position.available_minor

    def test_a_person_without_a_budget_has_no_statement(self, world):
        assert statement_for_holder(budget_holder=world.base.alex, on=date(2030, 1, 1)) == []


class TestMovements:
    def test_instalments_are_money_in_and_newest_first(self, world):
        _, rows = _statement(world)
        assert rows
        assert all(row.amount_minor > 0 for row in rows)
        assert [row.on for row in rows] == sorted((row.on for row in rows), reverse=True)
        assert rows[0].description.startswith("Payment in from ")

    def test_an_approved_invoice_is_set_aside_then_paid(self, world):
        invoice = _approve(world, world.care, "C-1")
        _, rows = _statement(world)
        set_aside = [row for row in rows if row.is_set_aside]
        assert set_aside and all("C-1" in row.description for row in set_aside)
        assert -sum(row.amount_minor for row in set_aside) == invoice.total_minor
        invoicing_services.remittance_record(
            provider=world.care.provider, invoices=[invoice], reference="PAY-1", paid_on=TODAY, by=None
        )
        _, rows = _statement(world)
        assert not any(row.is_set_aside for row in rows)
        paid = [row for row in rows if row.description.startswith("Paid invoice C-1")]
        assert -sum(row.amount_minor for row in paid) == invoice.total_minor

    def test_a_page_of_movements_is_one_query(self, world, django_assert_num_queries):
        statements = statement_for_holder(budget_holder=world.base.alex, on=TODAY)
        with django_assert_num_queries(1):
            movement_rows(
                postings=list(statement_movements(statements=statements)[:20]), statements=statements
            )
