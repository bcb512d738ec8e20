from datetime import date
from decimal import Decimal

import pytest

from budgets.calculator import CashEquivalentInvalid
from budgets.demo import seed_streams
from budgets.models import Per, PersonalBudget
from budgets.services.cash_equivalents import CapSplitRequest, CashEquivalentRequest, ItemRequest
from budgets.services.packages import personal_budgets_create_from_package
from budgets.services.personal_budgets import PersonalBudgetExists
from people.demo import seed_people
from tests.budgets.helpers import assert_budget_adds_up
from tests.people.factories import BudgetHolderFactory

pytestmark = pytest.mark.django_db

YEAR = CashEquivalentRequest(start=date(2026, 4, 1), end=date(2027, 3, 31), items=())


def _package(*items: ItemRequest) -> CashEquivalentRequest:
    return CashEquivalentRequest(start=YEAR.start, end=YEAR.end, items=items)


@pytest.fixture
def demo_streams():
    seed_people()
    return {stream.code: stream for stream in seed_streams()}


class TestPersonalBudgetsFromPackage:
    def test_one_budget_per_stream_with_the_calculated_amount_and_steps(self, demo_streams):
        holder = BudgetHolderFactory()
        package = _package(
            # 14 h a week at 24.50 = 343.00 a week; ASC pays up to 250.00 a week, ILF the rest (93.00 a week).
            ItemRequest(
                service_code="ASC-PC",
                quantity=Decimal("14"),
                per=Per.WEEK,
                split=CapSplitRequest(stream="ASC", amount="250.00", per=Per.WEEK, rest="ILF"),
            ),
        )

        budgets = personal_budgets_create_from_package(budget_holder=holder, package=package, created_by=None)

        by_stream = {budget.stream.code: budget for budget in budgets}
        assert set(by_stream) == {"ASC", "ILF"}
        # 365 days: 52 1/7 weeks. ASC 250.00 x 365/7 = 13035.714... -> 13035.71; ILF the rest of
        # 343.00 x 365/7 = 17885.00, so 4849.29.
        assert by_stream["ASC"].amount_minor == 1303571
        assert by_stream["ILF"].amount_minor == 484929
        assert by_stream["ASC"].explanation["calculation"]["amount"] == "13035.71"
        assert any("ASC-PC" in step["text"] for step in by_stream["ILF"].explanation["calculation"]["steps"])
        for budget in budgets:
            assert_budget_adds_up(budget)

    def test_each_streams_steps_leave_out_the_items_it_has_no_part_in(self, demo_streams):
        holder = BudgetHolderFactory()
        package = _package(
            ItemRequest(
                service_code="ASC-PC",
                quantity=Decimal("14"),
                per=Per.WEEK,
                split=CapSplitRequest(stream="ASC", amount="250.00", per=Per.WEEK, rest="ILF"),
            ),
            ItemRequest(service_code="ATW-SW", quantity=Decimal("6"), per=Per.WEEK),
        )

        budgets = personal_budgets_create_from_package(budget_holder=holder, package=package, created_by=None)

        steps = {
            budget.stream.code: [step["text"] for step in budget.explanation["calculation"]["steps"]]
            for budget in budgets
        }
        # Another agency's item (and what it pays) is not this agency's business.
        assert not any("ASC-PC" in text or "ASC" in text or "ILF" in text for text in steps["ATW"])
        assert any("ATW-SW" in text for text in steps["ATW"])
        assert not any("ATW-SW" in text for text in steps["ASC"] + steps["ILF"])
        assert any("ASC-PC" in text for text in steps["ASC"]) and any(
            "ASC-PC" in text for text in steps["ILF"]
        )

    def test_all_or_nothing_when_one_stream_already_has_a_budget(self, demo_streams):
        holder = BudgetHolderFactory()
        personal_budgets_create_from_package(
            budget_holder=holder,
            package=_package(ItemRequest(service_code="SP-HS", quantity=Decimal("2"), per=Per.WEEK)),
            created_by=None,
        )

        with pytest.raises(PersonalBudgetExists):
            personal_budgets_create_from_package(
                budget_holder=holder,
                package=_package(
                    ItemRequest(service_code="ASC-DAY", quantity=Decimal("1"), per=Per.WEEK),
                    ItemRequest(service_code="SP-HS", quantity=Decimal("3"), per=Per.WEEK),
                ),
                created_by=None,
            )

        assert [budget.stream.code for budget in PersonalBudget.objects.filter(budget_holder=holder)] == [
            "SP"
        ]

    def test_a_package_with_a_problem_creates_nothing(self, demo_streams):
        holder = BudgetHolderFactory()

        with pytest.raises(CashEquivalentInvalid):
            personal_budgets_create_from_package(
                budget_holder=holder,
                package=_package(ItemRequest(service_code="NO-SUCH", quantity=Decimal("1"), per=Per.WEEK)),
                created_by=None,
            )

        assert not PersonalBudget.objects.filter(budget_holder=holder).exists()
