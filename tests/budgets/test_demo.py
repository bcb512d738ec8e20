import re
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from budgets import demo
from budgets.models import FundingStream, OnCostRule, Rate, Service, SpendingCategory
from budgets.selectors import catalogue as selectors
from people.demo import seed_people
from people.models import AuditEvent, Organisation

pytestmark = pytest.mark.django_db


def row_counts():
    """Rows of every budgets model, and of the organisations and audit rows the seed writes."""
    models = [*apps.get_app_config("budgets").get_models(), Organisation, AuditEvent]
    return {model._meta.label: model.objects.count() for model in models}


@pytest.fixture
def seeded():
    seed_people()
    return demo.seed_streams()


class TestSeedStreams:
    def test_the_six_streams_with_their_agencies_and_rules(self, seeded):
        streams = {stream.code: stream for stream in FundingStream.objects.select_related("agency")}

        assert [stream.code for stream in seeded] == ["ASC", "ILF", "ATW", "WCH", "DFG", "SP"]
        assert {
            code: (s.agency.slug, s.policy_sector, s.payment_frequency) for code, s in streams.items()
        } == {
            "ASC": ("northshire-asc", "social_care", "four_weekly"),
            "ILF": ("ilf-dwp", "social_care", "four_weekly"),
            "ATW": ("jobcentre-atw", "employment", "monthly"),
            "WCH": ("jobcentre-wch", "employment", "monthly"),
            "DFG": ("dalesford-housing", "housing", "one_off"),
            "SP": ("northshire-sp", "housing", "quarterly"),
        }
        assert all(stream.agency.kind == "agency" and stream.currency == "GBP" for stream in streams.values())
        assert [code for code, stream in streams.items() if stream.charges_contribution] == ["ASC"]
        assert streams["ASC"].surplus_threshold_weeks == Decimal("8.0")
        assert streams["DFG"].contingency_percent == Decimal("10.00")
        assert all(SpendingCategory.objects.filter(stream=stream).exists() for stream in streams.values())

    def test_the_catalogue_codes_of_api_md_are_there(self, seeded):
        codes = set(Service.objects.values_list("service_code", flat=True))

        assert codes >= {
            "ASC-PC",
            "ASC-DAY",
            "ASC-PA",
            "ATW-SW",
            "ATW-TRAVEL",
            "DFG-RAMP",
            "DFG-SHOWER",
            "SP-HS",
            "WCH-COACH",
        }
        assert Service.objects.filter(stream__code="ILF").exists()
        assert set(Service.objects.values_list("unit", flat=True)) >= {"hour", "day", "journey", "item"}
        assert not Service.objects.filter(category__isnull=True).exists()

    def test_personal_care_shows_history_a_new_april_rate_replacing_last_years(self, seeded):
        last_year = selectors.service_rate_on(service_code="ASC-PC", on=date(2025, 4, 1))
        this_year = selectors.service_rate_on(service_code="ASC-PC", on=date(2026, 4, 1))

        assert (last_year.rate.unit_cost_minor, last_year.valid_to) == (2380, date(2026, 3, 31))
        assert (this_year.rate.unit_cost_minor, this_year.valid_to) == (2450, None)

    def test_the_personal_assistant_carries_the_employers_on_costs(self, seeded):
        rated = selectors.service_rate_on(service_code="ASC-PA", on=date(2026, 4, 1))

        rules = {
            rule.name: (rule.kind, rule.percent, rule.amount_minor_per_year) for rule in rated.on_cost_rules
        }
        assert rules == {
            "Holiday pay (5.6 weeks a year)": ("percentage", Decimal("12.0700"), None),
            "Employer's National Insurance": ("percentage", Decimal("15.0000"), None),
            "Employer's pension contribution": ("percentage", Decimal("3.0000"), None),
            "Employer's liability insurance": ("fixed_yearly", None, 12500),
            "Payroll service": ("fixed_yearly", None, 24000),
        }

    def test_every_service_has_a_rate_on_1_april_2026(self, seeded):
        for service in Service.objects.all():
            assert selectors.service_rate_on(service_code=service.service_code, on=date(2026, 4, 1))

    def test_running_it_again_changes_nothing(self, seeded):
        before = row_counts()
        rates_before = list(Rate.objects.order_by("pk").values())
        rules_before = list(OnCostRule.objects.order_by("pk").values())

        demo.seed_streams()

        assert row_counts() == before
        assert list(Rate.objects.order_by("pk").values()) == rates_before
        assert list(OnCostRule.objects.order_by("pk").values()) == rules_before

    def test_what_an_administrator_changed_is_left_as_it_is(self, seeded):
        FundingStream.objects.filter(code="SP").update(name="Housing support")

        demo.seed_streams()

        assert FundingStream.objects.get(code="SP").name == "Housing support"

    def test_it_needs_the_demo_people_first(self):
        with pytest.raises(demo.DemoAgencyMissing, match="seed_people"):
            demo.seed_streams()

        assert not FundingStream.objects.exists()


class TestReadme:
    def test_the_readme_tables_say_what_the_seed_creates(self):
        readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
        section = readme.split("\n## The demo world\n", 1)[1].split("\n## ", 1)[0]
        rows = [
            [cell.strip().strip("`") for cell in line.strip("|").split("|")]
            for line in section.splitlines()
            if re.match(r"\| `[A-Z]", line)
        ]
        streams = {row[0]: row for row in rows if "-" not in row[0]}
        catalogue = {row[0]: row for row in rows if "-" in row[0]}

        assert {
            code: (row[1], row[2].rsplit("(", 1)[1].rstrip(")").strip("`")) for code, row in streams.items()
        } == {spec.code: (spec.name, spec.agency_slug) for spec in demo.STREAMS}
        expected = {
            service.service_code: (stream.code, service.unit, [rate.unit_cost for rate in service.rates])
            for stream in demo.STREAMS
            for service in stream.services
        }
        assert {
            code: (row[1], row[3], [cell for cell in row[4:6] if cell]) for code, row in catalogue.items()
        } == expected


class TestSeedDemoCommand:
    def test_running_it_twice_changes_nothing_and_lists_the_streams(self):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        before = row_counts()

        call_command("seed_demo", stdout=StringIO())

        assert row_counts() == before
        assert before["budgets.FundingStream"] == 6
        assert "ASC   Adult Social Care, Adult Social Care - Northshire County Council" in out.getvalue()
