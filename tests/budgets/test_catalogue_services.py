import threading
from datetime import date
from decimal import Decimal

import pytest

from budgets.models import FundingStream, OnCostKind, Rate, Service
from budgets.services import catalogue as services
from ledger.money import InvalidAmount, UnknownCurrency
from people.models import AuditEvent
from tests.concurrency import run_in_threads
from tests.people.factories import AdministratorFactory, AgencyFactory, ProviderFactory

pytestmark = pytest.mark.django_db

APRIL_2025 = date(2025, 4, 1)
APRIL_2026 = date(2026, 4, 1)


def stream_values(**overrides):
    values = {
        "code": "ASC",
        "name": "Adult Social Care",
        "policy_sector": "social_care",
        "payment_frequency": "four_weekly",
    }
    if "agency" not in overrides:
        values["agency"] = AgencyFactory()
    return {**values, **overrides}


def make_stream(**overrides) -> FundingStream:
    return services.stream_create(**stream_values(**overrides))


def make_service(stream: FundingStream | None = None, **overrides) -> Service:
    values = {"service_code": "ASC-PC", "description": "Personal care", "unit": "hour"}
    return services.service_create(stream=stream or make_stream(), **{**values, **overrides})


class TestStreamCreate:
    def test_creates_a_stream_with_its_rules_and_an_audit_row(self):
        agency = AgencyFactory()
        admin = AdministratorFactory()

        stream = services.stream_create(
            code="DFG",
            name="Disabled Facilities Grant",
            agency=agency,
            policy_sector="housing",
            payment_frequency="one_off",
            contingency_percent=Decimal("10.00"),
            surplus_threshold_weeks=Decimal("0.0"),
            description="  Adaptations.  ",
            actor=admin,
        )

        stream.refresh_from_db()
        assert stream.code == "DFG"
        assert stream.agency == agency
        assert stream.currency == "GBP"
        assert (stream.budget_year_start_month, stream.budget_year_start_day) == (4, 1)
        assert stream.contingency_percent == Decimal("10.00")
        assert stream.surplus_threshold_weeks == Decimal("0.0")
        assert stream.description == "Adaptations."
        assert stream.is_active
        event = AuditEvent.objects.get(action="funding_stream.created")
        assert event.actor == admin
        assert event.detail["code"] == "DFG"
        assert event.detail["agency"] == agency.public_id
        assert event.detail["contingency_percent"] == "10.00"

    @pytest.mark.parametrize("code", ["asc", "A", "1ASC", "AS-C", "ABCDEFGHIJKLMNOPQ"])
    def test_a_malformed_code_is_refused(self, code):
        with pytest.raises(services.InvalidStream) as error:
            services.stream_create(**stream_values(code=code))

        assert error.value.code == "invalid_stream"
        assert error.value.field == "code"
        assert "capital letters" in error.value.message

    def test_a_code_already_used_is_a_conflict(self):
        make_stream(code="ASC")

        with pytest.raises(services.StreamCodeTaken) as error:
            services.stream_create(**stream_values(code="ASC"))

        assert error.value.code == "stream_code_taken"
        assert error.value.http_status == 409
        assert "ASC" in error.value.message

    def test_a_code_taken_by_a_concurrent_writer_is_the_same_conflict(self, monkeypatch):
        make_stream(code="ASC")
        # As if another administrator saved the same code between our check and our insert.
        monkeypatch.setattr(services, "stream_check", lambda **kwargs: None)

        with pytest.raises(services.StreamCodeTaken):
            services.stream_create(**stream_values(code="ASC"))

        assert FundingStream.objects.filter(code="ASC").count() == 1

    def test_a_blank_name_is_refused(self):
        with pytest.raises(services.InvalidStream) as error:
            services.stream_create(**stream_values(name="   "))

        assert error.value.field == "name"

    def test_a_provider_cannot_own_a_stream(self):
        provider = ProviderFactory(name="Bright Care")

        with pytest.raises(services.NotAnAgency) as error:
            services.stream_create(**stream_values(agency=provider))

        assert error.value.code == "not_an_agency"
        assert "Bright Care is a care provider" in error.value.message

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"policy_sector": "health"}, "policy_sector"),
            ({"payment_frequency": "weekly"}, "payment_frequency"),
            ({"budget_year_start_month": 13}, "budget_year_start_day"),
            ({"budget_year_start_day": 29}, "budget_year_start_day"),
            ({"budget_year_start_day": 0}, "budget_year_start_day"),
            ({"contingency_percent": Decimal("100.01")}, "contingency_percent"),
            ({"contingency_percent": Decimal("-1")}, "contingency_percent"),
            ({"contingency_percent": Decimal("10.001")}, "contingency_percent"),
            ({"contingency_percent": 10.0}, "contingency_percent"),
            ({"contingency_percent": Decimal("NaN")}, "contingency_percent"),
            ({"surplus_threshold_weeks": Decimal("-0.5")}, "surplus_threshold_weeks"),
            ({"surplus_threshold_weeks": Decimal("8.25")}, "surplus_threshold_weeks"),
            ({"initial_float_weeks": 53}, "initial_float_weeks"),
            ({"initial_float_weeks": -1}, "initial_float_weeks"),
        ],
    )
    def test_rules_out_of_range_are_refused_in_plain_english(self, overrides, field):
        with pytest.raises(services.InvalidStream) as error:
            services.stream_create(**stream_values(**overrides))

        assert error.value.code == "invalid_stream"
        assert error.value.field == field
        assert error.value.message[0].isupper() and error.value.message.endswith(".")
        assert not FundingStream.objects.exists()

    def test_an_unknown_currency_is_refused(self):
        with pytest.raises(UnknownCurrency) as error:
            services.stream_create(**stream_values(currency="XXX"))

        assert error.value.code == "unknown_currency"

    def test_a_stream_may_be_created_closed(self):
        stream = services.stream_create(**stream_values(is_active=False))

        assert not FundingStream.objects.get(pk=stream.pk).is_active

    def test_whole_numbers_are_accepted_for_decimal_rules(self):
        stream = services.stream_create(**stream_values(contingency_percent=5, surplus_threshold_weeks=4))

        stream.refresh_from_db()
        assert stream.contingency_percent == Decimal("5.00")
        assert stream.surplus_threshold_weeks == Decimal("4.0")


class TestStreamUpdate:
    def test_changes_only_what_is_given_and_audits_before_and_after(self):
        stream = make_stream(contingency_percent=Decimal("0.00"))
        admin = AdministratorFactory()

        updated = services.stream_update(
            stream=stream, contingency_percent=Decimal("5.50"), payment_frequency="monthly", actor=admin
        )

        updated.refresh_from_db()
        assert updated.contingency_percent == Decimal("5.50")
        assert updated.payment_frequency == "monthly"
        assert updated.name == "Adult Social Care"
        assert updated.code == "ASC"
        event = AuditEvent.objects.get(action="funding_stream.updated")
        assert event.actor == admin
        assert event.detail["changed"] == {
            "contingency_percent": ["0.00", "5.50"],
            "payment_frequency": ["four_weekly", "monthly"],
        }

    def test_no_change_writes_nothing(self):
        stream = make_stream(contingency_percent=Decimal("10.00"))

        services.stream_update(stream=stream, contingency_percent=Decimal("10"), name="Adult Social Care")

        assert not AuditEvent.objects.filter(action="funding_stream.updated").exists()

    def test_a_stream_can_be_closed_and_switches_can_be_turned_off(self):
        stream = make_stream(charges_contribution=True)

        services.stream_update(stream=stream, is_active=False, charges_contribution=False)

        stream.refresh_from_db()
        assert not stream.is_active
        assert not stream.charges_contribution

    def test_the_agency_may_change_to_another_agency_only(self):
        stream = make_stream()
        other = AgencyFactory()

        services.stream_update(stream=stream, agency=other)
        with pytest.raises(services.NotAnAgency):
            services.stream_update(stream=stream, agency=ProviderFactory())

        stream.refresh_from_db()
        assert stream.agency == other

    def test_the_currency_may_change_while_nothing_is_priced_in_it(self):
        stream = make_stream()

        services.stream_update(stream=stream, currency="EUR")

        stream.refresh_from_db()
        assert stream.currency == "EUR"

    def test_the_currency_is_locked_once_a_service_is_priced_in_it(self):
        service = make_service()

        with pytest.raises(services.StreamCurrencyLocked) as error:
            services.stream_update(stream=service.stream, currency="EUR")

        assert error.value.code == "stream_currency_locked"
        assert error.value.http_status == 409
        assert error.value.field == "currency"
        assert FundingStream.objects.get().currency == "GBP"

    def test_the_currency_is_locked_once_a_stream_on_cost_rule_exists(self):
        stream = make_stream()
        services.on_cost_rule_add(
            stream=stream,
            name="Payroll",
            kind="fixed_yearly",
            amount_minor_per_year=24000,
            valid_from=APRIL_2025,
        )

        with pytest.raises(services.StreamCurrencyLocked):
            services.stream_update(stream=stream, currency="EUR")

    def test_a_broken_rule_changes_nothing(self):
        stream = make_stream()

        with pytest.raises(services.InvalidStream):
            services.stream_update(stream=stream, name="New name", contingency_percent=Decimal("101"))

        stream.refresh_from_db()
        assert stream.name == "Adult Social Care"


class TestSpendingCategoryAdd:
    def test_adds_a_category_with_an_audit_row(self):
        stream = make_stream()

        category = services.spending_category_add(stream=stream, code="personal-care", name=" Personal care ")

        assert category.stream == stream
        assert category.name == "Personal care"
        assert AuditEvent.objects.get(action="spending_category.added").detail == {
            "stream": "ASC",
            "code": "personal-care",
            "name": "Personal care",
        }

    @pytest.mark.parametrize(("code", "name", "field"), [("Personal care", "x", "code"), ("ok", " ", "name")])
    def test_bad_details_are_refused(self, code, name, field):
        with pytest.raises(services.InvalidSpendingCategory) as error:
            services.spending_category_add(stream=make_stream(), code=code, name=name)

        assert error.value.code == "invalid_spending_category"
        assert error.value.field == field

    def test_a_code_longer_than_forty_characters_is_refused(self):
        with pytest.raises(services.InvalidSpendingCategory):
            services.spending_category_add(stream=make_stream(), code="x" * 41, name="Long")

    def test_a_code_used_in_the_same_stream_is_a_conflict(self):
        stream = make_stream()
        services.spending_category_add(stream=stream, code="personal-care", name="Personal care")

        with pytest.raises(services.SpendingCategoryCodeTaken) as error:
            services.spending_category_add(stream=stream, code="personal-care", name="Again")

        assert error.value.code == "spending_category_code_taken"
        assert error.value.http_status == 409

    def test_the_same_code_may_be_used_by_another_stream(self):
        services.spending_category_add(stream=make_stream(code="ASC"), code="care", name="Care")

        services.spending_category_add(stream=make_stream(code="ILF"), code="care", name="Care")


class TestServiceCreate:
    def test_adds_a_service_to_the_catalogue(self):
        stream = make_stream()
        category = services.spending_category_add(stream=stream, code="personal-care", name="Personal care")

        service = services.service_create(
            stream=stream, service_code="ASC-PC", description="Personal care", unit="hour", category=category
        )

        assert (service.stream, service.category, service.unit) == (stream, category, "hour")
        assert AuditEvent.objects.get(action="service.created").detail["category"] == "personal-care"

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"service_code": "asc-pc"}, "service_code"),
            ({"service_code": "A"}, "service_code"),
            ({"description": "  "}, "description"),
            ({"unit": "minute"}, "unit"),
        ],
    )
    def test_bad_details_are_refused(self, overrides, field):
        with pytest.raises(services.InvalidService) as error:
            make_service(**overrides)

        assert error.value.code == "invalid_service"
        assert error.value.field == field

    def test_a_service_may_be_created_withdrawn(self):
        service = make_service(is_active=False)

        assert not Service.objects.get(pk=service.pk).is_active

    def test_a_code_used_anywhere_is_a_conflict(self):
        make_service(stream=make_stream(code="ASC"), service_code="PC-1")

        with pytest.raises(services.ServiceCodeTaken) as error:
            make_service(stream=make_stream(code="ILF"), service_code="PC-1")

        assert error.value.code == "service_code_taken"
        assert error.value.http_status == 409

    def test_a_category_of_another_stream_is_refused(self):
        other = services.spending_category_add(stream=make_stream(code="ATW"), code="travel", name="Travel")

        with pytest.raises(services.CategoryNotInStream) as error:
            make_service(stream=make_stream(code="ASC"), category=other)

        assert error.value.code == "category_not_in_stream"


class TestServiceUpdate:
    def test_changes_description_category_and_whether_offered(self):
        service = make_service()
        category = services.spending_category_add(stream=service.stream, code="care", name="Care")

        services.service_update(service=service, description="Home care", category=category, is_active=False)

        service.refresh_from_db()
        assert (service.description, service.category, service.is_active) == ("Home care", category, False)
        assert AuditEvent.objects.get(action="service.updated").detail["changed"] == {
            "description": ["Personal care", "Home care"],
            "category": [None, "care"],
            "is_active": [True, False],
        }

    def test_a_category_of_another_stream_is_refused(self):
        service = make_service()
        other = services.spending_category_add(stream=make_stream(code="ATW"), code="travel", name="Travel")

        with pytest.raises(services.CategoryNotInStream):
            services.service_update(service=service, description="x", category=other, is_active=True)


class TestRateAdd:
    def test_adds_a_rate_in_minor_units_with_an_audit_row(self):
        service = make_service()

        rate = services.rate_add(service=service, unit_cost_minor=2450, valid_from=APRIL_2026)

        assert (rate.unit_cost_minor, rate.valid_from, rate.valid_to) == (2450, APRIL_2026, None)
        assert AuditEvent.objects.get(action="rate.added").detail == {
            "service_code": "ASC-PC",
            "unit_cost_minor": 2450,
            "currency": "GBP",
            "valid_from": "2026-04-01",
            "valid_to": None,
        }

    def test_a_new_april_rate_is_a_new_row_and_history_is_untouched(self):
        service = make_service()
        old = services.rate_add(service=service, unit_cost_minor=2380, valid_from=APRIL_2025)

        services.rate_add(service=service, unit_cost_minor=2450, valid_from=APRIL_2026)

        old.refresh_from_db()
        assert (old.unit_cost_minor, old.valid_from, old.valid_to) == (2380, APRIL_2025, None)
        assert Rate.objects.filter(service=service).count() == 2

    def test_a_zero_rate_is_allowed(self):
        services.rate_add(service=make_service(), unit_cost_minor=0, valid_from=APRIL_2025)

    def test_a_negative_cost_is_refused(self):
        with pytest.raises(services.NegativeUnitCost) as error:
            services.rate_add(service=make_service(), unit_cost_minor=-1, valid_from=APRIL_2025)

        assert error.value.code == "unit_cost_negative"
        assert error.value.field == "unit_cost_minor"

    @pytest.mark.parametrize("amount", [24.5, Decimal("24.50"), "2450", True])
    def test_anything_but_whole_minor_units_is_refused(self, amount):
        with pytest.raises(InvalidAmount):
            services.rate_add(service=make_service(), unit_cost_minor=amount, valid_from=APRIL_2025)

    def test_a_rate_cannot_end_before_it_starts(self):
        with pytest.raises(services.EndsBeforeStarts) as error:
            services.rate_add(
                service=make_service(), unit_cost_minor=100, valid_from=APRIL_2026, valid_to=date(2026, 3, 31)
            )

        assert error.value.code == "ends_before_starts"
        assert error.value.field == "valid_to"

    def test_a_one_day_rate_is_allowed(self):
        services.rate_add(
            service=make_service(), unit_cost_minor=100, valid_from=APRIL_2026, valid_to=APRIL_2026
        )

    def test_a_start_that_already_has_a_rate_is_a_conflict(self):
        service = make_service()
        services.rate_add(service=service, unit_cost_minor=2380, valid_from=APRIL_2025)

        with pytest.raises(services.RateStartTaken) as error:
            services.rate_add(service=service, unit_cost_minor=2400, valid_from=APRIL_2025)

        assert error.value.code == "rate_start_taken"
        assert error.value.http_status == 409
        assert "2025-04-01" in error.value.message

    def test_the_start_of_an_older_rate_is_also_a_conflict(self):
        service = make_service()
        services.rate_add(service=service, unit_cost_minor=2380, valid_from=APRIL_2025)
        services.rate_add(service=service, unit_cost_minor=2450, valid_from=APRIL_2026)

        with pytest.raises(services.RateStartTaken):
            services.rate_add(service=service, unit_cost_minor=2400, valid_from=APRIL_2025)

    def test_a_rate_starting_before_the_latest_is_refused(self):
        service = make_service()
        services.rate_add(service=service, unit_cost_minor=2450, valid_from=APRIL_2026)

        with pytest.raises(services.RateNotAfterLatest) as error:
            services.rate_add(service=service, unit_cost_minor=2380, valid_from=APRIL_2025)

        assert error.value.code == "rate_not_after_latest"
        assert error.value.field == "valid_from"
        assert "2026-04-01" in error.value.message
        assert Rate.objects.filter(service=service).count() == 1

    def test_rates_of_other_services_do_not_count(self):
        stream = make_stream()
        first = make_service(stream=stream, service_code="ASC-PC")
        second = make_service(stream=stream, service_code="ASC-DAY", unit="day")
        services.rate_add(service=first, unit_cost_minor=2450, valid_from=APRIL_2026)

        services.rate_add(service=second, unit_cost_minor=6240, valid_from=APRIL_2025)


class TestOnCostRuleAdd:
    def test_adds_a_percentage_rule_to_a_service(self):
        service = make_service()

        rule = services.on_cost_rule_add(
            service=service,
            name="Holiday pay",
            kind="percentage",
            percent=Decimal("12.07"),
            valid_from=APRIL_2025,
        )

        assert (rule.service, rule.stream, rule.percent, rule.amount_minor_per_year) == (
            service,
            None,
            Decimal("12.07"),
            None,
        )
        event = AuditEvent.objects.get(action="on_cost_rule.added")
        assert event.detail["percent"] == "12.07"
        assert event.detail["service_code"] == "ASC-PC"

    def test_adds_a_fixed_yearly_rule_to_a_stream(self):
        stream = make_stream()

        rule = services.on_cost_rule_add(
            stream=stream,
            name="Payroll service",
            kind=OnCostKind.FIXED_YEARLY,
            amount_minor_per_year=24000,
            valid_from=APRIL_2025,
        )

        assert (rule.stream, rule.amount_minor_per_year, rule.percent) == (stream, 24000, None)

    def test_a_rule_needs_exactly_one_of_a_stream_or_a_service(self):
        service = make_service()
        common = {"name": "Pension", "kind": "percentage", "percent": Decimal("3"), "valid_from": APRIL_2025}

        with pytest.raises(services.OnCostRuleTarget) as neither:
            services.on_cost_rule_add(**common)
        with pytest.raises(services.OnCostRuleTarget):
            services.on_cost_rule_add(stream=service.stream, service=service, **common)

        assert neither.value.code == "on_cost_rule_target"

    @pytest.mark.parametrize(
        ("overrides", "error", "field"),
        [
            ({"name": " "}, services.InvalidOnCostRule, "name"),
            ({"kind": "per_hour"}, services.InvalidOnCostRule, "kind"),
            ({"percent": None}, services.OnCostRuleAmount, "percent"),
            ({"amount_minor_per_year": 100}, services.OnCostRuleAmount, "amount_minor_per_year"),
            ({"percent": Decimal("100.0001")}, services.OnCostRuleAmount, "percent"),
            ({"percent": Decimal("-1")}, services.OnCostRuleAmount, "percent"),
            ({"percent": Decimal("12.00001")}, services.OnCostRuleAmount, "percent"),
            ({"percent": 12.07}, services.OnCostRuleAmount, "percent"),
            ({"valid_to": date(2025, 3, 31)}, services.EndsBeforeStarts, "valid_to"),
        ],
    )
    def test_a_bad_percentage_rule_is_refused(self, overrides, error, field):
        values = {
            "name": "Holiday pay",
            "kind": "percentage",
            "percent": Decimal("12.07"),
            "valid_from": APRIL_2025,
        }

        with pytest.raises(error) as raised:
            services.on_cost_rule_add(service=make_service(), **{**values, **overrides})

        assert raised.value.field == field

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"amount_minor_per_year": None}, "amount_minor_per_year"),
            ({"percent": Decimal("1")}, "percent"),
            ({"amount_minor_per_year": -1}, "amount_minor_per_year"),
            ({"amount_minor_per_year": 125.0}, "amount_minor_per_year"),
        ],
    )
    def test_a_bad_fixed_rule_is_refused(self, overrides, field):
        values = {
            "name": "Insurance",
            "kind": "fixed_yearly",
            "amount_minor_per_year": 12500,
            "valid_from": APRIL_2025,
        }

        with pytest.raises(services.OnCostRuleAmount) as raised:
            services.on_cost_rule_add(service=make_service(), **{**values, **overrides})

        assert raised.value.code == "on_cost_rule_amount"
        assert raised.value.field == field


class TestOnCostRuleEnd:
    def _rule(self):
        return services.on_cost_rule_add(
            service=make_service(),
            name="NI",
            kind="percentage",
            percent=Decimal("13.8"),
            valid_from=APRIL_2025,
        )

    def test_gives_an_open_rule_its_last_day(self):
        rule = self._rule()

        services.on_cost_rule_end(rule=rule, valid_to=date(2026, 3, 31))

        rule.refresh_from_db()
        assert rule.valid_to == date(2026, 3, 31)
        assert AuditEvent.objects.get(action="on_cost_rule.ended").detail["valid_to"] == "2026-03-31"

    def test_an_ended_rule_cannot_be_ended_again(self):
        rule = self._rule()
        services.on_cost_rule_end(rule=rule, valid_to=date(2026, 3, 31))

        with pytest.raises(services.OnCostRuleAlreadyEnded) as error:
            services.on_cost_rule_end(rule=rule, valid_to=date(2027, 3, 31))

        assert error.value.code == "on_cost_rule_already_ended"
        assert error.value.http_status == 409

    def test_a_rule_cannot_end_before_it_starts(self):
        with pytest.raises(services.EndsBeforeStarts):
            services.on_cost_rule_end(rule=self._rule(), valid_to=date(2025, 3, 31))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentCatalogueChanges:
    def test_the_same_new_rate_added_four_times_at_once_is_added_once(self):
        service = make_service()

        results = run_in_threads(
            4, lambda _index: services.rate_add(service=service, unit_cost_minor=2450, valid_from=APRIL_2026)
        )

        assert sum(isinstance(result, Rate) for result in results) == 1
        assert sum(isinstance(result, services.RateStartTaken) for result in results) == 3
        assert Rate.objects.filter(service=service).count() == 1

    def test_rates_added_at_once_still_each_start_after_the_latest(self):
        service = make_service()
        starts = iter([date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1)])
        lock = threading.Lock()

        def add():
            with lock:
                valid_from = next(starts)
            return services.rate_add(service=service, unit_cost_minor=2450, valid_from=valid_from)

        results = run_in_threads(4, lambda _index: add())

        assert all(isinstance(result, Rate | services.RateNotAfterLatest) for result in results)
        added = list(Rate.objects.filter(service=service).order_by("pk").values_list("valid_from", flat=True))
        assert added == sorted(added)
        assert len(added) == sum(isinstance(result, Rate) for result in results) >= 1

    def test_the_same_stream_code_created_four_times_at_once_is_created_once(self):
        agency = AgencyFactory()

        results = run_in_threads(4, lambda _index: services.stream_create(**stream_values(agency=agency)))

        assert sum(isinstance(result, FundingStream) for result in results) == 1
        assert sum(isinstance(result, services.StreamCodeTaken) for result in results) == 3


class TestReclaimNotice:
    """How many weeks' notice a budget holder gets before a surplus is reclaimed: at least 4 (issue 9)."""

    def test_four_weeks_unless_told_and_kept(self):
        assert services.stream_create(**stream_values()).reclaim_notice_weeks == 4
        stream = services.stream_create(**stream_values(code="ATW", reclaim_notice_weeks=6))
        assert FundingStream.objects.get(pk=stream.pk).reclaim_notice_weeks == 6

    @pytest.mark.parametrize("weeks", [3, 0, 53, "4", 4.5, True])
    def test_less_than_four_weeks_or_not_a_whole_number_is_refused(self, weeks):
        with pytest.raises(services.InvalidStream) as raised:
            services.stream_create(**stream_values(reclaim_notice_weeks=weeks))
        assert raised.value.field == "reclaim_notice_weeks"
        assert raised.value.message == (
            "The notice before a surplus is reclaimed must be a whole number of weeks from 4 to 52."
        )
        assert not FundingStream.objects.exists()

    def test_it_can_be_changed_and_the_change_is_audited(self):
        stream = services.stream_create(**stream_values())
        services.stream_update(stream=stream, reclaim_notice_weeks=8, actor=AdministratorFactory())
        assert FundingStream.objects.get(pk=stream.pk).reclaim_notice_weeks == 8
        with pytest.raises(services.InvalidStream):
            services.stream_update(stream=stream, reclaim_notice_weeks=2)
        assert FundingStream.objects.get(pk=stream.pk).reclaim_notice_weeks == 8
