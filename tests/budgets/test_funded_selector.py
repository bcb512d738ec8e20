"""The people an agency funds, a page at a time, with their positions for that agency's streams only."""

import pytest

from budgets.selectors.funded import funded_people, funded_positions_for_agency
from budgets.selectors.positions import budget_positions_for_holder
from invoicing import services as invoicing_services
from tests.budgets.helpers import create
from tests.invoicing.world import TODAY, build_invoicing_world, submit
from tests.people.factories import BudgetHolderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(monkeypatch):
    """The invoicing world with one approved invoice of `work` (ATW: committed) and one paid of `care`
    (ASC and ILF: spent)."""
    world = build_invoicing_world(monkeypatch)
    holder = world.users["holder"]
    invoicing_services.invoice_approve(invoice=submit(world.work, number="W-1"), by=holder)
    paid = submit(world.care, number="C-1")
    invoicing_services.invoice_approve(invoice=paid, by=holder)
    invoicing_services.remittance_record(
        provider=paid.provider, invoices=[paid], reference="BACS-1", paid_on=TODAY, by=None
    )
    return world


def _agency(world, code: str):
    return world.base.officers[code].organisation


class TestFundedPositionsForAgency:
    @pytest.mark.parametrize("code", ["ASC", "ILF", "ATW", "DFG"])
    def test_the_same_figures_as_each_persons_positions(self, world, code):
        agency = _agency(world, code)
        streams = set(agency.funding_streams.values_list("code", flat=True))

        funded = funded_positions_for_agency(agency=agency, on=TODAY)

        assert funded.people
        for person in funded.people:
            expected = [
                position
                for position in budget_positions_for_holder(budget_holder=person.budget_holder, on=TODAY)
                if position.stream_code in streams
            ]
            assert person.positions == expected

    def test_only_the_agencys_streams(self, world):
        funded = funded_positions_for_agency(agency=_agency(world, "ATW"), on=TODAY)

        assert [person.budget_holder for person in funded.people] == [world.base.alex]
        assert [position.stream_code for position in funded.people[0].positions] == ["ATW"]
        assert funded.people[0].positions[0].committed_minor > 0

    def test_spending_shows(self, world):
        [person] = funded_positions_for_agency(agency=_agency(world, "ASC"), on=TODAY).people
        assert person.positions[0].spent_minor > 0

    def test_totals_add_up_the_page(self, world):
        agency = _agency(world, "ASC")
        stream = agency.funding_streams.get(code="ASC")
        create(BudgetHolderFactory(), stream, world.users["navigator"])

        funded = funded_positions_for_agency(agency=agency, on=TODAY)

        [total] = funded.totals
        positions = [position for person in funded.people for position in person.positions]
        assert total.currency == "GBP"
        assert total.allocated_minor == sum(p.allocated_minor for p in positions)
        assert total.spent_minor == sum(p.spent_minor for p in positions)
        assert total.committed_minor == sum(p.committed_minor for p in positions)
        assert total.available_minor == sum(p.available_minor for p in positions)
        assert funded.count == 2

    def test_nobody_outside_the_budget_period(self, world):
        from datetime import date

        assert funded_positions_for_agency(agency=_agency(world, "ASC"), on=date(2027, 4, 1)).people == []
        assert not funded_people(agency=_agency(world, "ASC"), on=date(2026, 3, 31)).exists()

    def test_pages_by_name(self, world):
        agency = _agency(world, "ASC")
        stream = agency.funding_streams.get(code="ASC")
        for name in ("Zed Last", "Abe First"):
            create(BudgetHolderFactory(full_name=name), stream, world.users["navigator"])

        first = funded_positions_for_agency(agency=agency, on=TODAY, page=1, per_page=2)
        second = funded_positions_for_agency(agency=agency, on=TODAY, page="2", per_page=2)
        nearest = funded_positions_for_agency(agency=agency, on=TODAY, page="99", per_page=2)

        names = [p.budget_holder.full_name for p in first.people + second.people]
        assert names == sorted(names) and len(names) == 3
        assert names[0] == "Abe First" and names[-1] == "Zed Last"
        assert nearest.page.number == 2

    def test_a_bounded_number_of_queries_for_a_page(self, world, django_assert_max_num_queries):
        agency = _agency(world, "ASC")
        stream = agency.funding_streams.get(code="ASC")
        for _ in range(12):
            create(BudgetHolderFactory(), stream, world.users["navigator"])

        with django_assert_max_num_queries(7):
            funded = funded_positions_for_agency(agency=agency, on=TODAY)
        assert len(funded.people) == 13
