"""Costing a package against the catalogue: resolving items, rules in force, every problem at once."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.calculator import CashEquivalentInvalid, PercentSplit
from budgets.models import Per, Unit
from budgets.services.cash_equivalents import (
    CapSplitRequest,
    CashEquivalentRequest,
    ContributionRequest,
    ItemRequest,
    cash_equivalent_calculate,
)
from tests.budgets.factories import (
    FundingStreamFactory,
    OnCostRuleFactory,
    RateFactory,
    ServiceFactory,
    StreamOnCostRuleFactory,
)

pytestmark = pytest.mark.django_db

START, END = date(2026, 4, 1), date(2027, 3, 31)  # 365 days


def build_catalogue() -> dict:
    """A small catalogue for 2026/27, like the demo's, with the awkward cases the checks need."""
    asc = FundingStreamFactory(code="ASC", name="Adult Social Care", charges_contribution=True)
    ilf = FundingStreamFactory(code="ILF", name="Independent Living Fund")
    atw = FundingStreamFactory(code="ATW", name="Access to Work")
    dfg = FundingStreamFactory(
        code="DFG", name="Disabled Facilities Grant", contingency_percent=Decimal("10.00")
    )
    sp = FundingStreamFactory(code="SP", name="Supporting People")
    eux = FundingStreamFactory(code="EUX", name="A stream in euros", currency="EUR")
    old = FundingStreamFactory(code="OLD", name="A closed stream", is_active=False)
    StreamOnCostRuleFactory(stream=ilf, name="Payroll service", fixed_yearly=True, amount_minor_per_year=6000)
    StreamOnCostRuleFactory(
        stream=ilf, name="Old levy", valid_from=date(2025, 4, 1), valid_to=date(2026, 3, 31)
    )

    care = ServiceFactory(stream=asc, service_code="ASC-PC", description="Personal care")
    RateFactory(service=care, unit_cost_minor=2380, valid_from=date(2025, 4, 1), valid_to=date(2026, 3, 31))
    RateFactory(service=care, unit_cost_minor=2450, valid_from=START)
    pa = ServiceFactory(stream=asc, service_code="ASC-PA", description="Personal assistant")
    RateFactory(service=pa, unit_cost_minor=1235)
    OnCostRuleFactory(service=pa, name="Holiday pay", percent=Decimal("12.0700"))
    OnCostRuleFactory(service=pa, name="Employer's liability insurance", fixed_yearly=True)
    OnCostRuleFactory(service=pa, name="Old levy", valid_from=date(2025, 4, 1), valid_to=date(2026, 3, 31))
    ramp = ServiceFactory(stream=dfg, service_code="DFG-RAMP", description="Ramp", unit=Unit.ITEM)
    RateFactory(service=ramp, unit_cost_minor=350000)
    RateFactory(service__stream=sp, service__service_code="SP-HS", unit_cost_minor=2100)
    RateFactory(
        service__stream=asc,
        service__service_code="ASC-GONE",
        valid_from=date(2025, 4, 1),
        valid_to=date(2026, 3, 31),
    )
    RateFactory(service__stream=asc, service__service_code="ASC-OFF", service__is_active=False)
    RateFactory(service__stream=eux, service__service_code="EUX-PC", unit_cost_minor=2000)
    RateFactory(service__stream=old, service__service_code="OLD-PC", unit_cost_minor=2000)
    return {"asc": asc, "ilf": ilf, "atw": atw, "dfg": dfg, "sp": sp, "eux": eux, "old": old}


@pytest.fixture
def catalogue():
    return build_catalogue()


def request(*items, start=START, end=END, contribution=None) -> CashEquivalentRequest:
    return CashEquivalentRequest(start=start, end=end, items=tuple(items), contribution=contribution)


def care(quantity="10", **kwargs) -> ItemRequest:
    return ItemRequest(service_code="ASC-PC", quantity=Decimal(quantity), per=Per.WEEK, **kwargs)


def errors(caught) -> list[tuple[str, str]]:
    return [(error["code"], error["pointer"]) for error in caught.value.errors]


class TestCashEquivalentCalculate:
    def test_costs_the_package_of_api_md(self, catalogue):
        # ASC-PC 10 hours a week at 24.50: 12775.00; contribution 20.00 a week x 365/7 = 1042.86 -> 11732.14.
        # ATW support worker, own cost 18.00 x 6 a week: 1800 x 6 x 365/7 = 3,942,000/7 = 563,142.86
        # -> 5631.43.
        # DFG-RAMP once: 3500.00, plus DFG's 10% contingency 350.00 -> 3850.00.
        # Total 11732.14 + 5631.43 + 3850.00 = 21213.57.
        result = cash_equivalent_calculate(
            request=request(
                care("10"),
                ItemRequest(
                    stream="ATW",
                    description="Support worker",
                    unit_cost="18.00",
                    unit=Unit.HOUR,
                    quantity=Decimal("6"),
                    per=Per.WEEK,
                ),
                ItemRequest(service_code="DFG-RAMP", quantity=Decimal("1"), per=Per.ONCE),
                contribution=ContributionRequest(amount="20.00", per=Per.WEEK),
            )
        )

        assert result.currency == "GBP"
        assert [
            (
                line.service_code,
                line.stream,
                line.description,
                line.unit,
                line.unit_cost_minor,
                line.amount_minor,
            )
            for line in result.lines
        ] == [
            ("ASC-PC", "ASC", "Personal care", "hour", 2450, 1277500),
            (None, "ATW", "Support worker", "hour", 1800, 563143),
            ("DFG-RAMP", "DFG", "Ramp", "item", 350000, 350000),
        ]
        assert [
            (s.stream, s.subtotal_minor, s.contingency_minor, s.contribution_minor, s.amount_minor)
            for s in result.streams
        ] == [
            ("ASC", 1277500, 0, 104286, 1173214),
            ("ATW", 563143, 0, 0, 563143),
            ("DFG", 350000, 35000, 0, 385000),
        ]
        assert result.total_minor == 2121357

    def test_the_rate_on_the_period_start_applies(self, catalogue):
        # The 2025/26 rate, 23.80, is in force on 2026-03-01; 28 days of 10 hours a week:
        # 2380 x 10 x 4 = 95,200.
        result = cash_equivalent_calculate(
            request=request(care("10"), start=date(2026, 3, 1), end=date(2026, 3, 28))
        )

        assert result.lines[0].unit_cost_minor == 2380
        assert result.total_minor == 95200

    def test_the_service_and_stream_on_costs_in_force_apply(self, catalogue):
        # ASC-PA 3 hours a week split 60/40 with ILF (as in the calculator's worked example): the line is
        # 1931.89; holiday pay 233.18 and insurance 150.00 are the service's rules in force (the old levy
        # ended in March); ILF adds its payroll service, 60.00 a year.
        pa = ItemRequest(
            service_code="ASC-PA",
            quantity=Decimal("3"),
            per=Per.WEEK,
            split=PercentSplit((("ASC", Decimal("60")), ("ILF", Decimal("40")))),
        )

        result = cash_equivalent_calculate(request=request(pa))

        asc_line, ilf_line = result.lines
        assert [(c.name, c.source, c.whole_minor, c.amount_minor) for c in asc_line.on_costs] == [
            ("Holiday pay", "service", 23318, 13991),
            ("Employer's liability insurance", "service", 15000, 9000),
        ]
        assert [(c.name, c.source, c.whole_minor, c.amount_minor) for c in ilf_line.on_costs] == [
            ("Holiday pay", "service", 23318, 9327),
            ("Employer's liability insurance", "service", 15000, 6000),
            ("Payroll service", "stream", 6000, 6000),
        ]
        assert [(s.stream, s.amount_minor) for s in result.streams] == [("ASC", 138904), ("ILF", 98603)]

    def test_a_cap_split_uses_the_streams_rules(self, catalogue):
        # 30 hours a week: 38325.00; ASC up to 400.00 a week = 20857.14, ILF the rest 17467.86 plus its
        # payroll service 60.00.
        split = CapSplitRequest(stream="ASC", amount="400.00", per=Per.WEEK, rest="ILF")

        result = cash_equivalent_calculate(request=request(care("30", split=split)))

        assert [(s.stream, s.subtotal_minor, s.on_costs_minor, s.amount_minor) for s in result.streams] == [
            ("ASC", 2085714, 0, 2085714),
            ("ILF", 1746786, 6000, 1752786),
        ]

    def test_a_catalogue_item_may_be_described_in_its_own_words(self, catalogue):
        result = cash_equivalent_calculate(request=request(care("1", description="Morning calls")))

        assert result.lines[0].description == "Morning calls"

    def test_every_problem_is_reported_at_once(self, catalogue):
        items = [
            ItemRequest(service_code="NOPE", quantity=Decimal("0"), per=Per.WEEK),
            ItemRequest(service_code="ASC-GONE", quantity=Decimal("1"), per=Per.WEEK),
            ItemRequest(service_code="ASC-OFF", quantity=Decimal("1"), per=Per.WEEK),
            ItemRequest(
                stream="ZZZ",
                description="x",
                unit_cost="1.00",
                unit=Unit.HOUR,
                quantity=Decimal("1"),
                per=Per.WEEK,
            ),
            ItemRequest(
                stream="ATW",
                description="x",
                unit_cost="18.5",
                unit=Unit.HOUR,
                quantity=Decimal("1.234"),
                per=Per.WEEK,
            ),
            ItemRequest(service_code="OLD-PC", quantity=Decimal("1"), per=Per.WEEK),
            ItemRequest(service_code="EUX-PC", quantity=Decimal("1"), per=Per.WEEK),
            care("1", split=PercentSplit((("ASC", Decimal("60")), ("NOPE", Decimal("30"))))),
            care("1", split=CapSplitRequest(stream="ASC", amount="400", per=Per.WEEK, rest="ASC")),
            ItemRequest(
                stream="ATW",
                description="x",
                unit_cost="-1.00",
                unit=Unit.HOUR,
                quantity=Decimal("1"),
                per=Per.WEEK,
            ),
        ]

        with pytest.raises(CashEquivalentInvalid) as caught:
            cash_equivalent_calculate(
                request=request(
                    *items,
                    start=date(2026, 4, 1),
                    end=date(2026, 3, 31),
                    contribution=ContributionRequest(amount="20", per=Per.WEEK),
                )
            )

        assert errors(caught) == [
            ("period_end_before_start", "/period/end"),
            ("invalid_quantity", "/items/0/quantity"),
            ("unknown_service", "/items/0/service_code"),
            ("rate_not_valid", "/items/1/service_code"),
            ("unknown_service", "/items/2/service_code"),
            ("unknown_stream", "/items/3/stream"),
            ("invalid_quantity", "/items/4/quantity"),
            ("invalid_amount", "/items/4/unit_cost"),
            ("stream_inactive", "/items/5/service_code"),
            ("currency_mismatch", "/items/6/service_code"),
            ("unknown_stream", "/items/7/split/percent/1/stream"),
            ("split_percent_not_100", "/items/7/split/percent"),
            ("invalid_amount", "/items/8/split/cap/amount"),
            ("split_stream_repeated", "/items/8/split/rest"),
            ("invalid_amount", "/items/9/unit_cost"),
            ("invalid_amount", "/contribution/amount"),
        ]
        assert caught.value.code == "cash_equivalent_invalid"
        details = {error["pointer"]: error["detail"] for error in caught.value.errors}
        assert (
            details["/items/4/unit_cost"]
            == '"18.5" is not a GBP amount: write it with exactly 2 decimals, like "85.75".'
        )
        assert details["/items/1/service_code"] == (
            "Service ASC-GONE has no rate on 2026-04-01, the start of the period: choose a period that "
            "starts when the service has a rate, or give the item its own unit cost."
        )
        assert details["/items/6/service_code"] == (
            "Funding stream EUX pays in EUR, but this package is costed in GBP (the currency of its first "
            "stream): cost each currency's items separately."
        )
        assert details["/items/9/unit_cost"] == "The unit cost cannot be negative."

    def test_a_contribution_no_stream_charges_is_refused(self, catalogue):
        with pytest.raises(CashEquivalentInvalid) as caught:
            cash_equivalent_calculate(
                request=request(
                    ItemRequest(service_code="SP-HS", quantity=Decimal("2"), per=Per.WEEK),
                    contribution=ContributionRequest(amount="20.00", per=Per.WEEK),
                )
            )

        assert caught.value.code == "contribution_not_charged"
        assert errors(caught) == [("contribution_not_charged", "/contribution")]
        assert caught.value.errors[0]["detail"] == (
            "No stream in this package charges a contribution (streams: SP): leave out the contribution, or "
            "add an item funded by a stream that charges one."
        )

    def test_a_split_stream_must_be_open_and_in_the_same_currency(self, catalogue):
        split = PercentSplit((("ASC", Decimal("50")), ("OLD", Decimal("25")), ("EUX", Decimal("25"))))

        with pytest.raises(CashEquivalentInvalid) as caught:
            cash_equivalent_calculate(request=request(care("1", split=split)))

        assert errors(caught) == [
            ("stream_inactive", "/items/0/split/percent/1/stream"),
            ("currency_mismatch", "/items/0/split/percent/2/stream"),
        ]

    def test_nothing_to_cost_is_refused(self, catalogue):
        with pytest.raises(CashEquivalentInvalid) as caught:
            cash_equivalent_calculate(request=request())

        assert errors(caught) == [("no_items", "/items")]

    def test_reads_a_fixed_number_of_queries_and_writes_nothing(self, catalogue):
        def cost(count: int) -> list[str]:
            items = [
                care("1"),
                ItemRequest(service_code="ASC-PA", quantity=Decimal("2"), per=Per.WEEK),
            ] * count
            items.append(
                care("1", split=CapSplitRequest(stream="ASC", amount="100.00", per=Per.WEEK, rest="ILF"))
            )
            with CaptureQueriesContext(connection) as queries:
                cash_equivalent_calculate(request=request(*items))
            return [query["sql"] for query in queries.captured_queries]

        few, many = cost(1), cost(40)

        assert len(few) == len(many) <= 7
        assert all(sql.lstrip().upper().startswith("SELECT") for sql in many)
