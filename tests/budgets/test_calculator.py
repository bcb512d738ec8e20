"""The cash-equivalent calculator: worked examples checked by hand, every rule, and its invariants.

Amounts are in pence. Each worked example writes the hand arithmetic beside the figures it asserts, and
asserts every figure of the explanation (each step's kind, stream, item and amount), so that a change to
any step shows up here.
"""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budgets.calculator import (
    CapSplit,
    CashEquivalentInvalid,
    Contribution,
    Item,
    OnCost,
    PercentSplit,
    Period,
    StreamRules,
    cash_equivalent_compute,
    fraction_display,
    occurrences,
    round_minor,
)
from budgets.models import OnCostKind, Per
from ledger.money import UnknownCurrency

YEAR = Period(date(2026, 4, 1), date(2027, 3, 31))  # 365 days
PART_YEAR = Period(date(2026, 10, 15), date(2027, 3, 31))  # 17 + 30 + 31 + 31 + 28 + 31 = 168 days

ASC = StreamRules(contingency_percent=Decimal("0"), charges_contribution=True)
ILF = StreamRules()


def personal_care(quantity: str, **kwargs) -> Item:
    """ASC-PC, personal care at 24.50 an hour, `quantity` hours a week."""
    return Item(
        stream="ASC",
        unit_cost_minor=2450,
        unit="hour",
        quantity=Decimal(quantity),
        per=Per.WEEK,
        description="Personal care",
        service_code="ASC-PC",
        **kwargs,
    )


def compute(items, *, rules, period=YEAR, contribution=None, currency="GBP"):
    return cash_equivalent_compute(
        period=period, items=items, contribution=contribution, rules=rules, currency=currency
    )


def figures(result) -> list[tuple]:
    """Every step of the explanation as (kind, stream, item, amount)."""
    return [(step.kind, step.stream, step.item_index, step.amount_minor) for step in result.steps]


def stream(result, code):
    return next(s for s in result.streams if s.stream == code)


class TestWorkedExamples:
    def test_a_year_of_home_care(self):
        # 10 hours a week at 24.50 from 2026-04-01 to 2027-03-31: 365 days, 365/7 = 52.142857... weeks.
        # 2450 x 10 x 365/7 = 8,942,500/7 = 1,277,500 exactly: 12775.00.
        result = compute([personal_care("10")], rules={"ASC": ASC})

        [line] = result.lines
        assert line.occurrences.value == Fraction(365, 7)
        assert line.occurrences.display == "52.142857"
        assert line.occurrences.basis == "365 days ÷ 7"
        assert (line.stream, line.amount_minor, line.line_amount_minor, line.on_costs) == (
            "ASC",
            1277500,
            1277500,
            (),
        )
        assert line.split is None
        [asc] = result.streams
        assert (asc.subtotal_minor, asc.on_costs_minor, asc.contingency_minor) == (1277500, 0, 0)
        assert (asc.contribution_assessed_minor, asc.contribution_minor, asc.amount_minor) == (0, 0, 1277500)
        assert result.total_minor == 1277500
        assert result.contribution is None
        assert figures(result) == [
            ("period", None, None, None),
            ("line", "ASC", 0, 1277500),
            ("subtotal", "ASC", None, 1277500),
            ("contingency", "ASC", None, 0),
            ("stream", "ASC", None, 1277500),
            ("total", None, None, 1277500),
        ]
        assert result.steps[0].text == "The period runs from 2026-04-01 to 2027-03-31 inclusive: 365 days."
        assert result.steps[1].text == (
            "Item 1, Personal care (ASC-PC): 24.50 per hour x 10 a week x 52.142857 (365 days ÷ 7) "
            "= 12775.00."
        )
        assert result.steps[-1].text == "Total: 12775.00 = 12775.00 GBP."

    def test_a_package_split_by_a_cap(self):
        # 30 hours a week at 24.50: 2450 x 30 x 365/7 = 26,827,500/7 = 3,832,500 (38325.00).
        # ASC pays up to 400.00 a week: 40000 x 365/7 = 14,600,000/7 = 2,085,714.29 -> 2,085,714 (20857.14).
        # ILF pays the rest: 3,832,500 - 2,085,714 = 1,746,786 (17467.86).
        split = CapSplit(capped_stream="ASC", cap_minor=40000, cap_per=Per.WEEK, rest_stream="ILF")

        result = compute([personal_care("30", split=split)], rules={"ASC": ASC, "ILF": ILF})

        asc_line, ilf_line = result.lines
        assert (asc_line.stream, asc_line.amount_minor, asc_line.line_amount_minor) == (
            "ASC",
            2085714,
            3832500,
        )
        assert (ilf_line.stream, ilf_line.amount_minor, ilf_line.line_amount_minor) == (
            "ILF",
            1746786,
            3832500,
        )
        assert (asc_line.split.kind, asc_line.split.cap_minor) == ("cap", 2085714)
        assert (ilf_line.split.kind, ilf_line.split.cap_minor) == ("rest", 2085714)
        assert asc_line.split.text == "ASC pays up to 400.00 a week x 52.142857 (365 days ÷ 7) = 20857.14"
        assert ilf_line.split.text == "ILF pays the rest above ASC's cap of 20857.14"
        assert [(s.stream, s.subtotal_minor, s.amount_minor) for s in result.streams] == [
            ("ASC", 2085714, 2085714),
            ("ILF", 1746786, 1746786),
        ]
        assert result.total_minor == 3832500
        assert figures(result) == [
            ("period", None, None, None),
            ("line", None, 0, 3832500),
            ("split", None, 0, 3832500),
            ("subtotal", "ASC", None, 2085714),
            ("contingency", "ASC", None, 0),
            ("subtotal", "ILF", None, 1746786),
            ("contingency", "ILF", None, 0),
            ("stream", "ASC", None, 2085714),
            ("stream", "ILF", None, 1746786),
            ("total", None, None, 3832500),
        ]
        assert result.steps[2].text == (
            "Item 1 is divided by a cap: ASC pays up to 400.00 a week x 52.142857 (365 days ÷ 7) = 20857.14; "
            "so ASC pays 20857.14 and ILF the rest, 38325.00 - 20857.14 = 17467.86."
        )

    def test_a_cap_that_is_not_reached_leaves_the_rest_stream_nothing(self):
        # 10 hours a week = 12775.00, below the 20857.14 cap: ASC pays it all, ILF 0.00, and ILF's fixed
        # yearly stream on-cost does not apply to a line that costs nothing.
        split = CapSplit(capped_stream="ASC", cap_minor=40000, cap_per=Per.WEEK, rest_stream="ILF")
        ilf = StreamRules(on_costs=(OnCost("Payroll service", OnCostKind.FIXED_YEARLY, None, 6000),))

        result = compute([personal_care("10", split=split)], rules={"ASC": ASC, "ILF": ilf})

        assert [(line.stream, line.amount_minor) for line in result.lines] == [("ASC", 1277500), ("ILF", 0)]
        [payroll] = result.lines[1].on_costs
        assert (payroll.whole_minor, payroll.amount_minor) == (0, 0)
        assert payroll.text == "Payroll service: 60.00 a year, but none on a line that costs nothing"
        assert result.total_minor == 1277500

    def test_a_weekly_contribution_on_adult_social_care(self):
        # Contribution 20.00 a week: 2000 x 365/7 = 730,000/7 = 104,285.71 -> 104,286 (1042.86).
        # ASC: 12775.00 - 1042.86 = 11732.14.
        result = compute(
            [personal_care("10")],
            rules={"ASC": ASC},
            contribution=Contribution(amount_minor=2000, per=Per.WEEK),
        )

        asc = stream(result, "ASC")
        assert (asc.contribution_assessed_minor, asc.contribution_minor, asc.amount_minor) == (
            104286,
            104286,
            1173214,
        )
        assert result.contribution.assessed_minor == 104286
        assert result.contribution.applied_minor == 104286
        assert result.contribution.occurrences.display == "52.142857"
        assert result.total_minor == 1173214
        assert figures(result) == [
            ("period", None, None, None),
            ("line", "ASC", 0, 1277500),
            ("subtotal", "ASC", None, 1277500),
            ("contingency", "ASC", None, 0),
            ("contribution", None, None, 104286),
            ("contribution", "ASC", None, 104286),
            ("stream", "ASC", None, 1173214),
            ("total", None, None, 1173214),
        ]
        assert result.steps[4].text == (
            "Contribution assessed: 20.00 a week x 52.142857 (365 days ÷ 7) = 1042.86."
        )
        assert result.steps[6].text == (
            "ASC: subtotal 12775.00 + on-costs 0.00 + contingency 0.00 - contribution 1042.86 = 11732.14."
        )

    def test_a_contribution_is_never_more_than_the_stream_and_says_so(self):
        # 1 hour a week: 2450 x 365/7 = 894,250/7 = 127,750 (1277.50).
        # Contribution 30.00 a week: 3000 x 365/7 = 1,095,000/7 = 156,428.57 -> 156,429 assessed;
        # ASC takes only its gross, 127,750, and its amount is 0.00.
        result = compute(
            [personal_care("1")],
            rules={"ASC": ASC},
            contribution=Contribution(amount_minor=3000, per=Per.WEEK),
        )

        asc = stream(result, "ASC")
        assert (asc.gross_minor, asc.contribution_assessed_minor, asc.contribution_minor) == (
            127750,
            156429,
            127750,
        )
        assert asc.amount_minor == 0
        assert (result.contribution.assessed_minor, result.contribution.applied_minor) == (156429, 127750)
        assert result.total_minor == 0
        assert result.steps[5].text == (
            "ASC: its share of the contribution is 1564.29, but only 1277.50 is taken: a stream's amount "
            "never goes below zero."
        )

    def test_a_contribution_is_shared_by_gross_between_the_streams_that_charge_one(self):
        # ASC: 12775.00. SP (charges too): 8 hours a week at 21.00 = 2100 x 8 x 365/7 = 6,132,000/7 = 876,000.
        # Contribution 1042.86 = 104,286 shared 1,277,500 : 876,000 (of 2,153,500):
        #   ASC 104,286 x 1,277,500 / 2,153,500 = 61,864.576...,
        #   SP 104,286 x 876,000 / 2,153,500 = 42,421.423...
        #   floors 61,864 + 42,421 = 104,285; the leftover penny goes to the larger remainder, ASC: 61,865.
        # ATW does not charge one and keeps its 6 x 18.00 a week = 1800 x 6 x 365/7 = 3,942,000/7 = 563,142.86
        # -> 563,143.
        support_housing = Item("SP", 2100, "hour", Decimal("8"), Per.WEEK, "Housing support", "SP-HS")
        support_at_work = Item("ATW", 1800, "hour", Decimal("6"), Per.WEEK, "Support worker")
        rules = {"ASC": ASC, "SP": StreamRules(charges_contribution=True), "ATW": StreamRules()}

        result = compute(
            [personal_care("10"), support_at_work, support_housing],
            rules=rules,
            contribution=Contribution(amount_minor=2000, per=Per.WEEK),
        )

        assert [(s.stream, s.gross_minor, s.contribution_minor, s.amount_minor) for s in result.streams] == [
            ("ASC", 1277500, 61865, 1277500 - 61865),
            ("ATW", 563143, 0, 563143),
            ("SP", 876000, 42421, 876000 - 42421),
        ]
        assert result.contribution.applied_minor == 104286
        assert result.total_minor == 1277500 + 563143 + 876000 - 104286

    def test_a_one_off_adaptation(self):
        # DFG-RAMP, one ramp, once: 350000 x 1 x 1 = 350,000 (3500.00); DFG adds 10% contingency: 35,000.
        ramp = Item("DFG", 350000, "item", Decimal("1"), Per.ONCE, "Ramp to the front door", "DFG-RAMP")

        result = compute([ramp], rules={"DFG": StreamRules(contingency_percent=Decimal("10"))})

        [line] = result.lines
        assert (line.occurrences.value, line.occurrences.display, line.amount_minor) == (
            1,
            "1.000000",
            350000,
        )
        dfg = stream(result, "DFG")
        assert (dfg.subtotal_minor, dfg.contingency_minor, dfg.amount_minor) == (350000, 35000, 385000)
        assert figures(result) == [
            ("period", None, None, None),
            ("line", "DFG", 0, 350000),
            ("subtotal", "DFG", None, 350000),
            ("contingency", "DFG", None, 35000),
            ("stream", "DFG", None, 385000),
            ("total", None, None, 385000),
        ]
        assert result.steps[1].text == (
            "Item 1, Ramp to the front door (DFG-RAMP): 3500.00 per item x 1 once x 1.000000 (once) "
            "= 3500.00."
        )
        assert result.steps[3].text == "DFG: contingency 10% of (3500.00 + 0.00) = 350.00."

    def test_a_part_year_from_october(self):
        # 2026-10-15 to 2027-03-31: 168 days.
        # Weekly: 10 hours at 24.50 x 168/7 = 24 weeks: 2450 x 10 x 24 = 588,000.
        # Every 4 weeks: 20 journeys at 12.00 x 168/28 = 6: 1200 x 20 x 6 = 144,000.
        # Monthly: 15 Oct..14 Mar is 5 whole months; 15 Mar..31 Mar is 17 of the 31 days of 15 Mar..14 Apr:
        #   5 + 17/31 = 172/31 = 5.548387...; 8 hours at 21.00: 2100 x 8 x 172/31 = 2,889,600/31 = 93,212.90
        #   -> 93,213.
        # Yearly: 168 of the 365 days of 15 Oct 2026..14 Oct 2027: 30000 x 168/365 = 13,808.22 -> 13,808.
        items = [
            personal_care("10"),
            Item("ATW", 1200, "journey", Decimal("20"), Per.FOUR_WEEKS, "Travel to work", "ATW-TRAVEL"),
            Item("SP", 2100, "hour", Decimal("8"), Per.MONTH, "Housing support", "SP-HS"),
            Item("ATW", 30000, "item", Decimal("1"), Per.YEAR, "Equipment servicing"),
        ]

        result = compute(
            items, rules={"ASC": ASC, "ATW": StreamRules(), "SP": StreamRules()}, period=PART_YEAR
        )

        assert PART_YEAR.days == 168
        assert [(line.occurrences.value, line.occurrences.display) for line in result.lines] == [
            (Fraction(24), "24.000000"),
            (Fraction(6), "6.000000"),
            (Fraction(172, 31), "5.548387"),
            (Fraction(168, 365), "0.460274"),
        ]
        assert [line.occurrences.basis for line in result.lines] == [
            "168 days ÷ 7",
            "168 days ÷ 28",
            "5 whole months + 17 of the 31 days of the next month",
            "168 of the 365 days of a year",
        ]
        assert [line.amount_minor for line in result.lines] == [588000, 144000, 93213, 13808]
        assert [(s.stream, s.amount_minor) for s in result.streams] == [
            ("ASC", 588000),
            ("ATW", 144000 + 13808),
            ("SP", 93213),
        ]
        assert result.total_minor == 588000 + 144000 + 93213 + 13808
        assert figures(result) == [
            ("period", None, None, None),
            ("line", "ASC", 0, 588000),
            ("line", "ATW", 1, 144000),
            ("line", "SP", 2, 93213),
            ("line", "ATW", 3, 13808),
            ("subtotal", "ASC", None, 588000),
            ("contingency", "ASC", None, 0),
            ("subtotal", "ATW", None, 157808),
            ("contingency", "ATW", None, 0),
            ("subtotal", "SP", None, 93213),
            ("contingency", "SP", None, 0),
            ("stream", "ASC", None, 588000),
            ("stream", "ATW", None, 157808),
            ("stream", "SP", None, 93213),
            ("total", None, None, 839021),
        ]

    def test_a_personal_assistant_with_on_costs_contingency_and_a_percentage_split(self):
        # A PA at 12.35 an hour, 3 hours a week, for a year: 1235 x 3 x 365/7 = 1,352,325/7 = 193,189.29
        # -> 193,189 (1931.89).
        # Split ASC 60% / ILF 40%: 115,913.4 and 77,275.6; floors 115,913 + 77,275 = 193,188; the leftover
        # penny goes to the larger remainder (ILF, .6): ASC 115,913, ILF 77,276.
        # Holiday pay 12.07% of the whole line: 193,189 x 12.07 / 100 = 23,317.91 -> 23,318, divided 60/40:
        # 13,990.8 and 9,327.2 -> floors 13,990 + 9,327, the penny to ASC (.8): ASC 13,991, ILF 9,327.
        # Insurance 150.00 a year x 1 year = 15,000, divided 60/40: ASC 9,000, ILF 6,000.
        # ILF's own stream on-cost, a payroll service at 60.00 a year, on its line: 6,000.
        # ASC: on-costs 13,991 + 9,000 = 22,991; contingency 5% of (115,913 + 22,991 = 138,904) = 6,945.2
        # -> 6,945; amount 115,913 + 22,991 + 6,945 = 145,849.
        # ILF: on-costs 9,327 + 6,000 + 6,000 = 21,327; no contingency; amount 77,276 + 21,327 = 98,603.
        # Total 145,849 + 98,603 = 244,452.
        pa = Item(
            stream="ASC",
            unit_cost_minor=1235,
            unit="hour",
            quantity=Decimal("3"),
            per=Per.WEEK,
            description="Personal assistant",
            service_code="ASC-PA",
            on_costs=(
                OnCost("Holiday pay", OnCostKind.PERCENTAGE, percent=Decimal("12.0700")),
                OnCost(
                    "Employer's liability insurance", OnCostKind.FIXED_YEARLY, amount_minor_per_year=15000
                ),
            ),
            split=PercentSplit(parts=(("ASC", Decimal("60")), ("ILF", Decimal("40")))),
        )
        rules = {
            "ASC": StreamRules(contingency_percent=Decimal("5.00"), charges_contribution=True),
            "ILF": StreamRules(on_costs=(OnCost("Payroll service", OnCostKind.FIXED_YEARLY, None, 6000),)),
        }

        result = compute([pa], rules=rules)

        asc_line, ilf_line = result.lines
        assert (asc_line.amount_minor, ilf_line.amount_minor) == (115913, 77276)
        assert asc_line.line_amount_minor == ilf_line.line_amount_minor == 193189
        assert (asc_line.split.kind, asc_line.split.percent, asc_line.split.text) == (
            "percent",
            Decimal("60"),
            "60% of 1931.89",
        )
        assert [
            (c.name, c.source, c.basis_minor, c.years, c.whole_minor, c.amount_minor)
            for c in asc_line.on_costs
        ] == [
            ("Holiday pay", "service", 193189, None, 23318, 13991),
            ("Employer's liability insurance", "service", None, Fraction(1), 15000, 9000),
        ]
        assert [
            (c.name, c.source, c.basis_minor, c.years, c.whole_minor, c.amount_minor)
            for c in ilf_line.on_costs
        ] == [
            ("Holiday pay", "service", 193189, None, 23318, 9327),
            ("Employer's liability insurance", "service", None, Fraction(1), 15000, 6000),
            ("Payroll service", "stream", None, Fraction(1), 6000, 6000),
        ]
        assert asc_line.on_costs[0].text == "Holiday pay: 12.07% of 1931.89"
        assert asc_line.on_costs[1].text == (
            "Employer's liability insurance: 150.00 a year x 1.000000 years (1 whole year)"
        )
        asc, ilf = result.streams
        assert (asc.subtotal_minor, asc.on_costs_minor, asc.contingency_minor, asc.amount_minor) == (
            115913,
            22991,
            6945,
            145849,
        )
        assert (ilf.subtotal_minor, ilf.on_costs_minor, ilf.contingency_minor, ilf.amount_minor) == (
            77276,
            21327,
            0,
            98603,
        )
        assert result.total_minor == 244452
        assert figures(result) == [
            ("period", None, None, None),
            ("line", None, 0, 193189),
            ("split", None, 0, 193189),
            ("on_cost", None, 0, 23318),
            ("on_cost", None, 0, 15000),
            ("on_cost", "ILF", 0, 6000),
            ("subtotal", "ASC", None, 115913),
            ("contingency", "ASC", None, 6945),
            ("subtotal", "ILF", None, 77276),
            ("contingency", "ILF", None, 0),
            ("stream", "ASC", None, 145849),
            ("stream", "ILF", None, 98603),
            ("total", None, None, 244452),
        ]
        assert result.steps[2].text == (
            "Item 1 is divided by percentages (largest remainder, so the parts add up to 1931.89): "
            "ASC 60% = 1159.13, ILF 40% = 772.76."
        )
        assert result.steps[3].text == (
            "Item 1, on-cost Holiday pay: 12.07% of 1931.89 = 233.18, divided like the item: "
            "ASC 139.91, ILF 93.27."
        )
        assert result.steps[7].text == "ASC: contingency 5% of (1159.13 + 229.91) = 69.45."

    def test_a_cap_covers_the_item_on_costs_too(self):
        # A PA at 12.35 an hour, 30 hours a week: 1235 x 30 x 365/7 = 13,523,250/7 = 1,931,892.86
        # -> 1,931,893.
        # ASC pays up to 400.00 a week: 2,085,714 (as above), more than the line, so ASC pays the whole line
        # and ILF's part of it is 0.00. Room left in ASC's cap: 2,085,714 - 1,931,893 = 153,821.
        # Holiday pay 12.07%: 1,931,893 x 12.07 / 100 = 233,179.49 -> 233,179: ASC pays 153,821 (its cap is
        # then full) and ILF 233,179 - 153,821 = 79,358. Insurance 150.00 a year: ASC 0, ILF 15,000.
        # ASC: 1,931,893 + 153,821 = 2,085,714, exactly its cap; ILF: 79,358 + 15,000 = 94,358.
        pa = Item(
            "ASC",
            1235,
            "hour",
            Decimal("30"),
            Per.WEEK,
            "Personal assistant",
            "ASC-PA",
            on_costs=(
                OnCost("Holiday pay", OnCostKind.PERCENTAGE, percent=Decimal("12.07")),
                OnCost("Insurance", OnCostKind.FIXED_YEARLY, amount_minor_per_year=15000),
            ),
            split=CapSplit(capped_stream="ASC", cap_minor=40000, cap_per=Per.WEEK, rest_stream="ILF"),
        )

        result = compute([pa], rules={"ASC": ASC, "ILF": ILF})

        asc_line, ilf_line = result.lines
        assert (asc_line.amount_minor, ilf_line.amount_minor) == (1931893, 0)
        assert [(c.whole_minor, c.amount_minor) for c in asc_line.on_costs] == [(233179, 153821), (15000, 0)]
        assert [(c.whole_minor, c.amount_minor) for c in ilf_line.on_costs] == [
            (233179, 79358),
            (15000, 15000),
        ]
        assert [(s.stream, s.subtotal_minor, s.on_costs_minor, s.amount_minor) for s in result.streams] == [
            ("ASC", 1931893, 153821, 2085714),
            ("ILF", 0, 94358, 94358),
        ]
        assert result.total_minor == 1931893 + 233179 + 15000
        assert figures(result) == [
            ("period", None, None, None),
            ("line", None, 0, 1931893),
            ("split", None, 0, 1931893),
            ("on_cost", None, 0, 233179),
            ("on_cost", None, 0, 15000),
            ("subtotal", "ASC", None, 1931893),
            ("contingency", "ASC", None, 0),
            ("subtotal", "ILF", None, 0),
            ("contingency", "ILF", None, 0),
            ("stream", "ASC", None, 2085714),
            ("stream", "ILF", None, 94358),
            ("total", None, None, 2180072),
        ]
        assert result.steps[3].text == (
            "Item 1, on-cost Holiday pay: 12.07% of 19318.93 = 2331.79, of which ASC pays 1538.21 within its "
            "cap and ILF 793.58."
        )

    def test_a_stream_percentage_on_cost_applies_to_each_of_its_lines(self):
        # ATW adds 10% to each of its lines: 6 x 18.00 a week = 563,143 (see above) -> 56,314.3 -> 56,314;
        # a one-off 250.00 item -> 2,500.
        rules = {"ATW": StreamRules(on_costs=(OnCost("Admin", OnCostKind.PERCENTAGE, Decimal("10")),))}
        items = [
            Item("ATW", 1800, "hour", Decimal("6"), Per.WEEK, "Support worker"),
            Item("ATW", 25000, "item", Decimal("1"), Per.ONCE, "Chair"),
        ]

        result = compute(items, rules=rules)

        assert [line.on_costs_minor for line in result.lines] == [56314, 2500]
        assert stream(result, "ATW").on_costs_minor == 58814
        assert result.total_minor == 563143 + 25000 + 58814


class TestOccurrences:
    def test_once_is_once_whatever_the_period(self):
        assert occurrences(period=YEAR, per=Per.ONCE).value == 1

    def test_days_and_weeks_count_the_days_inclusive(self):
        period = Period(date(2026, 4, 1), date(2026, 4, 1))
        assert occurrences(period=period, per=Per.DAY).value == 1
        assert occurrences(period=period, per=Per.WEEK).value == Fraction(1, 7)
        assert occurrences(period=YEAR, per=Per.DAY).value == 365
        assert occurrences(period=YEAR, per=Per.FOUR_WEEKS).value == Fraction(365, 28)

    def test_a_budget_year_is_twelve_months_and_one_year(self):
        assert occurrences(period=YEAR, per=Per.MONTH).value == 12
        assert occurrences(period=YEAR, per=Per.MONTH).basis == "12 whole months"
        assert occurrences(period=YEAR, per=Per.YEAR).value == 1

    def test_a_calendar_month_runs_to_the_day_before_the_same_date(self):
        assert occurrences(period=Period(date(2026, 4, 15), date(2026, 5, 14)), per=Per.MONTH).value == 1
        # one day more is 1 month and 1 of the 31 days of 15 May..14 June
        assert occurrences(
            period=Period(date(2026, 4, 15), date(2026, 5, 15)), per=Per.MONTH
        ).value == 1 + Fraction(1, 31)

    def test_a_month_from_the_31st_ends_on_the_last_day_of_a_shorter_month(self):
        # From 31 January 2027: 31 Jan..28 Feb, 1 Mar..30 Mar, 31 Mar..30 Apr.
        start = date(2027, 1, 31)
        assert occurrences(period=Period(start, date(2027, 2, 28)), per=Per.MONTH).value == 1
        assert occurrences(period=Period(start, date(2027, 3, 30)), per=Per.MONTH).value == 2
        assert occurrences(period=Period(start, date(2027, 4, 30)), per=Per.MONTH).value == 3
        # 31 Jan..27 Feb is 28 of the 29 days of 31 Jan..28 Feb
        assert occurrences(period=Period(start, date(2027, 2, 27)), per=Per.MONTH).value == Fraction(28, 29)

    def test_a_year_from_the_29th_of_february_ends_on_the_28th(self):
        assert occurrences(period=Period(date(2028, 2, 29), date(2029, 2, 28)), per=Per.YEAR).value == 1
        # A leap year's own days: 1 Jan..31 Dec 2028 is one year.
        assert occurrences(period=Period(date(2028, 1, 1), date(2028, 12, 31)), per=Per.YEAR).value == 1

    def test_a_part_month_alone_is_pro_rata_by_the_days_of_its_month(self):
        # 1..10 April: 10 of the 30 days of 1..30 April.
        assert occurrences(
            period=Period(date(2026, 4, 1), date(2026, 4, 10)), per=Per.MONTH
        ).value == Fraction(1, 3)

    def test_works_at_the_end_of_the_calendar(self):
        period = Period(date(9999, 1, 1), date(9999, 12, 31))
        assert occurrences(period=period, per=Per.YEAR).value == 1
        assert occurrences(period=period, per=Per.MONTH).value == 12

    def test_refuses_a_period_that_ends_before_it_starts(self):
        with pytest.raises(ValueError, match="ends before it starts"):
            occurrences(period=Period(date(2026, 4, 2), date(2026, 4, 1)), per=Per.DAY)

    @given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), days=st.integers(1, 3000))
    def test_days_weeks_and_four_weeks_are_exact(self, start, days):
        period = Period(start, start + timedelta(days=days - 1))
        assert occurrences(period=period, per=Per.DAY).value == days
        assert occurrences(period=period, per=Per.WEEK).value * 7 == days
        assert occurrences(period=period, per=Per.FOUR_WEEKS).value * 28 == days

    @given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), days=st.integers(1, 3000))
    def test_months_and_years_grow_with_the_period_and_agree_with_whole_years(self, start, days):
        period = Period(start, start + timedelta(days=days - 1))
        longer = Period(start, period.end + timedelta(days=1))
        for per in (Per.MONTH, Per.YEAR):
            value = occurrences(period=period, per=per).value
            assert 0 < value < occurrences(period=longer, per=per).value
        # whole years are exactly twelve whole months
        years = occurrences(period=period, per=Per.YEAR).value
        if years.denominator == 1:
            assert occurrences(period=period, per=Per.MONTH).value == 12 * years

    def test_shown_with_six_decimals_half_up(self):
        assert fraction_display(Fraction(365, 7), places=6) == "52.142857"
        assert fraction_display(Fraction(1, 8), places=2) == "0.13"
        assert fraction_display(Fraction(2, 3), places=6) == "0.666667"


class TestRounding:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (Fraction(1, 2), 1),  # exactly half a penny rounds up
            (Fraction(49999, 100000), 0),  # just under half rounds down
            (Fraction(5, 2), 3),
            (Fraction(8942500, 7), 1277500),
            (Fraction(14600000, 7), 2085714),
        ],
    )
    def test_rounds_half_up_once(self, value, expected):
        assert round_minor(value, currency="GBP") == expected

    def test_rounds_to_the_currency_minor_unit(self):
        # JPY has no minor unit: 1 yen is the unit. KWD has 3 decimals.
        assert round_minor(Fraction(3, 2), currency="JPY") == 2
        result = compute(
            [Item("ASC", 1000, "hour", Decimal("1"), Per.WEEK, "Care")], rules={"ASC": ASC}, currency="KWD"
        )
        # 1000 fils x 365/7 = 52,142.857 -> 52,143 fils = 52.143 KWD
        assert result.lines[0].amount_minor == 52143
        assert result.steps[-1].text == "Total: 52.143 = 52.143 KWD."

    @given(value=st.fractions(min_value=0, max_value=10**9))
    def test_matches_exact_half_up_rounding(self, value):
        floor, remainder = divmod(value.numerator, value.denominator)
        expected = floor + (1 if 2 * remainder >= value.denominator else 0)
        assert round_minor(value, currency="GBP") == expected

    def test_an_unknown_currency_is_refused(self):
        with pytest.raises(UnknownCurrency):
            compute([personal_care("1")], rules={"ASC": ASC}, currency="XYZ")


class TestProblems:
    def _codes(self, caught) -> list[tuple[str, str]]:
        return [(error["code"], error["pointer"]) for error in caught.value.errors]

    def test_every_problem_is_listed_at_once(self):
        items = [
            personal_care("0"),
            personal_care("1.234", split=PercentSplit((("ASC", Decimal("60")), ("ILF", Decimal("30"))))),
            Item("XX", -1, "hour", Decimal("-2"), Per.WEEK, "Mystery"),
            personal_care("1", split=PercentSplit((("ASC", Decimal("0")), ("ASC", Decimal("100.00001"))))),
            personal_care("1", split=CapSplit("ASC", -5, Per.WEEK, "ASC")),
            personal_care("100000"),
        ]

        with pytest.raises(CashEquivalentInvalid) as caught:
            compute(
                items,
                rules={"ASC": ASC, "ILF": ILF},
                period=Period(date(2027, 1, 1), date(2026, 12, 31)),
                contribution=Contribution(-1, Per.WEEK),
            )

        assert self._codes(caught) == [
            ("period_end_before_start", "/period/end"),
            ("invalid_quantity", "/items/0/quantity"),
            ("invalid_quantity", "/items/1/quantity"),
            ("split_percent_not_100", "/items/1/split/percent"),
            ("invalid_quantity", "/items/2/quantity"),
            ("invalid_amount", "/items/2/unit_cost"),
            ("unknown_stream", "/items/2/stream"),
            ("invalid_percent", "/items/3/split/percent/0/percent"),
            ("split_stream_repeated", "/items/3/split/percent/1/stream"),
            ("invalid_percent", "/items/3/split/percent/1/percent"),
            ("split_stream_repeated", "/items/4/split/rest"),
            ("invalid_amount", "/items/4/split/cap/amount"),
            ("invalid_quantity", "/items/5/quantity"),
            ("invalid_amount", "/contribution/amount"),
        ]
        assert caught.value.code == "cash_equivalent_invalid"
        assert caught.value.http_status == 422
        details = {error["pointer"]: error["detail"] for error in caught.value.errors}
        assert details["/items/1/split/percent"] == (
            "The split's percentages add up to 90, not 100: change them so that they add up to exactly 100."
        )
        assert details["/items/0/quantity"].startswith("The quantity must be more than zero")
        assert (
            details["/items/1/quantity"]
            == 'The quantity 1.234 has more than 2 decimals; round it, like "7.25".'
        )

    def test_one_problem_names_the_error(self):
        with pytest.raises(CashEquivalentInvalid) as caught:
            compute(
                [Item("ILF", 100, "hour", Decimal("1"), Per.WEEK, "x")],
                rules={"ASC": ASC, "ILF": ILF},
                contribution=Contribution(2000, Per.WEEK),
            )

        assert caught.value.code == "contribution_not_charged"
        assert self._codes(caught) == [("contribution_not_charged", "/contribution")]
        assert caught.value.message == caught.value.errors[0]["detail"]

    def test_a_split_naming_an_unknown_stream(self):
        with pytest.raises(CashEquivalentInvalid) as caught:
            compute([personal_care("1", split=CapSplit("ASC", 100, Per.WEEK, "NOPE"))], rules={"ASC": ASC})

        assert self._codes(caught) == [("unknown_stream", "/items/0/split/rest")]

    def test_an_item_ref_places_its_problems(self):
        with pytest.raises(CashEquivalentInvalid) as caught:
            compute([personal_care("0", ref="/items/7")], rules={"ASC": ASC})

        assert self._codes(caught) == [("invalid_quantity", "/items/7/quantity")]

    def test_an_on_cost_that_does_not_fit_its_kind_is_a_bug(self):
        with pytest.raises(ValueError, match="does not fit"):
            OnCost("Broken", OnCostKind.PERCENTAGE, percent=None, amount_minor_per_year=100)
        with pytest.raises(ValueError, match="does not fit"):
            OnCost("Broken", OnCostKind.FIXED_YEARLY, percent=Decimal("1"))


class TestEdges:
    def test_no_items_costs_nothing(self):
        result = compute([], rules={})

        assert (result.total_minor, result.streams, result.lines) == (0, (), ())
        assert result.steps[-1].text == "Total: 0.00 GBP: there is nothing to cost."

    def test_a_contribution_on_streams_with_nothing_to_take_it_from(self):
        free = Item("ASC", 0, "hour", Decimal("1"), Per.WEEK, "Free")
        rules = {"ASC": ASC, "SP": StreamRules(charges_contribution=True)}
        sp_free = Item("SP", 0, "hour", Decimal("1"), Per.WEEK, "Free")

        result = compute([free, sp_free], rules=rules, contribution=Contribution(2000, Per.WEEK))

        # assessed 104,286 shared equally, 52,143 each, none taken
        assert [
            (s.contribution_assessed_minor, s.contribution_minor, s.amount_minor) for s in result.streams
        ] == [
            (52143, 0, 0),
            (52143, 0, 0),
        ]
        assert result.contribution.applied_minor == 0

    def test_same_inputs_same_result(self):
        items = [
            personal_care(
                "7.5", split=PercentSplit((("ASC", Decimal("33.3333")), ("ILF", Decimal("66.6667"))))
            )
        ]

        first = compute(items, rules={"ASC": ASC, "ILF": ILF}, contribution=Contribution(1000, Per.MONTH))
        second = compute(items, rules={"ASC": ASC, "ILF": ILF}, contribution=Contribution(1000, Per.MONTH))

        assert first == second

    def test_the_largest_inputs_allowed_stay_exact(self):
        # The largest unit cost, quantity and percentages, every day from year 1 to 9999, 200 items: every
        # figure must stay inside the 28 digits ledger.money rounds and formats in (26 here).
        on_cost = (
            OnCost("Most", OnCostKind.PERCENTAGE, Decimal("999.9999")),
            OnCost("Yearly", OnCostKind.FIXED_YEARLY, amount_minor_per_year=10**10),
        )
        item = Item("ASC", 10**10, "hour", Decimal("99999.99"), Per.DAY, "Most", on_costs=on_cost)
        rules = {"ASC": StreamRules(Decimal("100"), True, on_cost)}

        result = compute(
            [item] * 200,
            rules=rules,
            period=Period(date(1, 1, 1), date(9999, 12, 31)),
            contribution=Contribution(10**10, Per.DAY),
            currency="KWD",
        )

        # one line: 10^10 x 99999.99 x 3,652,059 days
        assert result.lines[0].amount_minor == 10**10 * 9999999 * 3652059 // 100
        assert len(str(result.total_minor)) <= 26
        assert result.steps[-1].text.endswith(" KWD.")


# Invariants ---------------------------------------------------------------------------------------------

STREAMS = ["ASC", "ILF", "SP"]

on_costs = st.lists(
    st.one_of(
        st.builds(
            OnCost,
            name=st.sampled_from(["Holiday pay", "Pension"]),
            kind=st.just(OnCostKind.PERCENTAGE),
            percent=st.decimals(min_value=0, max_value=50, places=2),
        ),
        st.builds(
            OnCost,
            name=st.just("Insurance"),
            kind=st.just(OnCostKind.FIXED_YEARLY),
            amount_minor_per_year=st.integers(0, 50000),
        ),
    ),
    max_size=2,
).map(tuple)


@st.composite
def splits(draw, *, max_parts=3):
    kind = draw(st.sampled_from(["none", "percent", "cap"]))
    if kind == "percent":
        streams = draw(st.lists(st.sampled_from(STREAMS), min_size=1, max_size=max_parts, unique=True))
        cuts = sorted(
            draw(
                st.lists(
                    st.integers(1, 9999), min_size=len(streams) - 1, max_size=len(streams) - 1, unique=True
                )
            )
        )
        bounds = [0, *cuts, 10000]
        percents = [Decimal(bounds[i + 1] - bounds[i]) / 100 for i in range(len(streams))]
        return PercentSplit(tuple(zip(streams, percents, strict=True)))
    if kind == "cap":
        capped, rest = draw(st.lists(st.sampled_from(STREAMS), min_size=2, max_size=2, unique=True))
        return CapSplit(capped, draw(st.integers(0, 100000)), draw(st.sampled_from(list(Per))), rest)
    return None


@st.composite
def items(draw, *, max_parts=3):
    return Item(
        stream=draw(st.sampled_from(STREAMS)),
        unit_cost_minor=draw(st.integers(0, 100000)),
        unit="hour",
        quantity=draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("200"), places=2)),
        per=draw(st.sampled_from(list(Per))),
        description="Support",
        on_costs=draw(on_costs),
        split=draw(splits(max_parts=max_parts)),
    )


@st.composite
def packages(draw, *, max_parts=3):
    start = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
    period = Period(start, start + timedelta(days=draw(st.integers(0, 800))))
    rules = {
        code: StreamRules(
            contingency_percent=draw(st.decimals(min_value=0, max_value=100, places=2)),
            charges_contribution=draw(st.booleans()) or code == "ASC",
            on_costs=draw(on_costs),
        )
        for code in STREAMS
    }
    package_items = draw(st.lists(items(max_parts=max_parts), min_size=1, max_size=5))
    contribution = draw(
        st.none()
        | st.builds(Contribution, amount_minor=st.integers(0, 50000), per=st.sampled_from(list(Per)))
    )
    # a contribution needs a charging stream in the package: ASC always charges, so make sure it is in it
    if contribution is not None:
        package_items.append(Item("ASC", 1000, "hour", Decimal("1"), Per.WEEK, "Care"))
    return {"period": period, "items": package_items, "contribution": contribution, "rules": rules}


class TestInvariants:
    @settings(max_examples=300, deadline=None)
    @given(package=packages())
    def test_parts_always_add_up(self, package):
        result = cash_equivalent_compute(currency="GBP", **package)

        # each item's stream parts add up to the item, and each on-cost's shares to the whole on-cost
        for index in range(len(package["items"])):
            parts = [line for line in result.lines if line.item_index == index]
            assert sum(line.amount_minor for line in parts) == parts[0].line_amount_minor
            service_costs = [[c for c in line.on_costs if c.source == "service"] for line in parts]
            for charges in zip(*service_costs, strict=True):
                assert sum(charge.amount_minor for charge in charges) == charges[0].whole_minor
        # lines add up to their stream's subtotal and on-costs; stream amounts add up to the total
        for stream_amount in result.streams:
            own = [line for line in result.lines if line.stream == stream_amount.stream]
            assert stream_amount.subtotal_minor == sum(line.amount_minor for line in own)
            assert stream_amount.on_costs_minor == sum(line.on_costs_minor for line in own)
            assert stream_amount.amount_minor == (
                stream_amount.subtotal_minor
                + stream_amount.on_costs_minor
                + stream_amount.contingency_minor
                - stream_amount.contribution_minor
            )
            assert 0 <= stream_amount.contribution_minor <= stream_amount.contribution_assessed_minor
            assert stream_amount.amount_minor >= 0
        assert result.total_minor == sum(s.amount_minor for s in result.streams)
        assert result.steps[-1].amount_minor == result.total_minor
        # the contribution's shares add up to what was assessed and what was applied
        if result.contribution is not None:
            assert (
                sum(s.contribution_assessed_minor for s in result.streams)
                == result.contribution.assessed_minor
            )
            assert sum(s.contribution_minor for s in result.streams) == result.contribution.applied_minor
        else:
            assert all(s.contribution_minor == 0 for s in result.streams)

    @settings(max_examples=150, deadline=None)
    @given(package=packages())
    def test_same_inputs_same_result(self, package):
        assert cash_equivalent_compute(currency="GBP", **package) == cash_equivalent_compute(
            currency="GBP", **package
        )

    @settings(max_examples=300, deadline=None)
    @given(
        package=packages(max_parts=2),
        which=st.integers(0, 10),
        more=st.decimals(Decimal("0.01"), 100, places=2),
    )
    def test_more_quantity_never_costs_less(self, package, which, more):
        # Two-way splits at most: with three or more percentage parts, largest remainder can move a penny
        # from one stream to another as the amount grows (the "Alabama paradox"), which may in turn move a
        # penny of a stream's own on-costs or contingency.
        package_items = package["items"]
        index = which % len(package_items)
        bigger = list(package_items)
        item = bigger[index]
        bigger[index] = Item(**{**item.__dict__, "quantity": item.quantity + more})

        before = cash_equivalent_compute(currency="GBP", **package)
        after = cash_equivalent_compute(currency="GBP", **{**package, "items": bigger})

        assert after.total_minor >= before.total_minor
        before_line = next(line for line in before.lines if line.item_index == index)
        after_line = next(line for line in after.lines if line.item_index == index)
        assert after_line.line_amount_minor >= before_line.line_amount_minor
        for old, new in zip(before.streams, after.streams, strict=True):
            assert new.gross_minor >= old.gross_minor
