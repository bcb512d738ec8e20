from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.selectors import catalogue as selectors
from budgets.services import catalogue as services
from tests.people.factories import AgencyFactory

pytestmark = pytest.mark.django_db

APRIL_2025 = date(2025, 4, 1)
APRIL_2026 = date(2026, 4, 1)


def make_stream(code="ASC", **overrides):
    return services.stream_create(
        code=code,
        name=overrides.pop("name", f"Stream {code}"),
        agency=AgencyFactory(),
        policy_sector="social_care",
        payment_frequency="four_weekly",
        **overrides,
    )


def make_service(stream, code="ASC-PC", *, rates=(), unit="hour"):
    """A service with rates given as (valid_from, unit_cost_minor[, valid_to]), oldest first."""
    service = services.service_create(
        stream=stream, service_code=code, description=f"Service {code}", unit=unit
    )
    for valid_from, amount, *valid_to in rates:
        services.rate_add(
            service=service,
            unit_cost_minor=amount,
            valid_from=valid_from,
            valid_to=valid_to[0] if valid_to else None,
        )
    return service


@pytest.fixture
def personal_care():
    """ASC-PC: 23.80 from 1 April 2025, 24.50 from 1 April 2026 (still in force)."""
    return make_service(make_stream(), "ASC-PC", rates=[(APRIL_2025, 2380), (APRIL_2026, 2450)])


class TestServiceRateOn:
    @pytest.mark.parametrize(
        ("on", "amount", "valid_from", "valid_to"),
        [
            (date(2025, 4, 1), 2380, APRIL_2025, date(2026, 3, 31)),  # the first rate's first day
            (date(2025, 11, 5), 2380, APRIL_2025, date(2026, 3, 31)),
            (date(2026, 3, 31), 2380, APRIL_2025, date(2026, 3, 31)),  # its last day: the day before the next
            (date(2026, 4, 1), 2450, APRIL_2026, None),  # the new April rate's first day
            (date(2031, 1, 1), 2450, APRIL_2026, None),  # the latest rate stays in force while it has no end
        ],
    )
    def test_the_rate_in_force_is_the_latest_started_by_then(
        self, personal_care, on, amount, valid_from, valid_to
    ):
        rated = selectors.service_rate_on(service_code="ASC-PC", on=on)

        assert rated.service == personal_care
        assert (rated.rate.unit_cost_minor, rated.rate.valid_from, rated.valid_to) == (
            amount,
            valid_from,
            valid_to,
        )

    def test_before_the_first_rate_there_is_none(self, personal_care):
        with pytest.raises(selectors.RateNotValid) as error:
            selectors.service_rate_on(service_code="ASC-PC", on=date(2025, 3, 31))

        assert error.value.code == "rate_not_valid"
        assert "2025-03-31" in error.value.message

    def test_after_a_rate_ends_with_no_successor_there_is_none(self):
        make_service(make_stream(), "ASC-PC", rates=[(APRIL_2025, 2380, date(2025, 9, 30))])

        last_day = selectors.service_rate_on(service_code="ASC-PC", on=date(2025, 9, 30))
        with pytest.raises(selectors.RateNotValid):
            selectors.service_rate_on(service_code="ASC-PC", on=date(2025, 10, 1))

        assert last_day.valid_to == date(2025, 9, 30)

    def test_in_a_gap_between_an_ended_rate_and_the_next_there_is_none(self):
        make_service(
            make_stream(), "ASC-PC", rates=[(APRIL_2025, 2380, date(2025, 6, 30)), (date(2025, 10, 1), 2400)]
        )

        during = selectors.service_rate_on(service_code="ASC-PC", on=date(2025, 5, 1))
        with pytest.raises(selectors.RateNotValid):
            selectors.service_rate_on(service_code="ASC-PC", on=date(2025, 8, 1))
        after = selectors.service_rate_on(service_code="ASC-PC", on=date(2025, 10, 1))

        assert during.valid_to == date(2025, 6, 30)  # its own end comes before the next rate
        assert after.rate.unit_cost_minor == 2400

    def test_the_next_rate_ends_an_older_rate_whose_own_end_is_later(self):
        make_service(
            make_stream(), "ASC-PC", rates=[(APRIL_2025, 2380, date(2026, 12, 31)), (APRIL_2026, 2450)]
        )

        rated = selectors.service_rate_on(service_code="ASC-PC", on=date(2025, 12, 1))

        assert rated.valid_to == date(2026, 3, 31)

    def test_an_ended_latest_rate_hides_an_older_open_one(self):
        # The rate in force is the one with the latest start on or before the date; once it ends, nothing is.
        make_service(
            make_stream(), "ASC-PC", rates=[(APRIL_2025, 2380), (APRIL_2026, 2450, date(2026, 6, 30))]
        )

        with pytest.raises(selectors.RateNotValid):
            selectors.service_rate_on(service_code="ASC-PC", on=date(2026, 7, 1))

    def test_an_unknown_or_withdrawn_service_is_unknown(self, personal_care):
        services.service_update(
            service=personal_care, description="Personal care", category=None, is_active=False
        )

        with pytest.raises(selectors.UnknownService) as unknown:
            selectors.service_rate_on(service_code="NOPE", on=APRIL_2026)
        with pytest.raises(selectors.UnknownService):
            selectors.service_rate_on(service_code="ASC-PC", on=APRIL_2026)

        assert unknown.value.code == "unknown_service"

    def test_on_cost_rules_in_force_on_the_date_come_with_the_rate(self, personal_care):
        old_ni = services.on_cost_rule_add(
            service=personal_care,
            name="NI 13.8%",
            kind="percentage",
            percent=Decimal("13.8"),
            valid_from=APRIL_2025,
            valid_to=date(2026, 3, 31),
        )
        new_ni = services.on_cost_rule_add(
            service=personal_care,
            name="NI 15%",
            kind="percentage",
            percent=Decimal("15"),
            valid_from=APRIL_2026,
        )

        assert selectors.service_rate_on(service_code="ASC-PC", on=date(2026, 3, 31)).on_cost_rules == (
            old_ni,
        )
        assert selectors.service_rate_on(service_code="ASC-PC", on=APRIL_2026).on_cost_rules == (new_ni,)


class TestStreamServicesOn:
    def test_lists_services_with_a_rate_on_the_date_by_code(self):
        stream = make_stream()
        make_service(stream, "ASC-PC", rates=[(APRIL_2025, 2380), (APRIL_2026, 2450)])
        make_service(stream, "ASC-DAY", unit="day", rates=[(APRIL_2026, 6450)])
        make_service(stream, "ASC-NEW", rates=[(date(2027, 4, 1), 1000)])
        make_service(make_stream("ILF"), "ILF-PC", rates=[(APRIL_2025, 2380)])

        in_2025 = selectors.stream_services_on(stream=stream, on=date(2025, 6, 1))
        in_2026 = selectors.stream_services_on(stream=stream, on=date(2026, 6, 1))

        assert [(r.service.service_code, r.rate.unit_cost_minor) for r in in_2025] == [("ASC-PC", 2380)]
        assert [(r.service.service_code, r.rate.unit_cost_minor) for r in in_2026] == [
            ("ASC-DAY", 6450),
            ("ASC-PC", 2450),
        ]

    def test_withdrawn_services_are_left_out(self):
        stream = make_stream()
        service = make_service(stream, "ASC-PC", rates=[(APRIL_2025, 2380)])
        services.service_update(service=service, description="x", category=None, is_active=False)

        assert selectors.stream_services_on(stream=stream, on=APRIL_2026) == []

    def test_runs_a_fixed_number_of_queries_whatever_the_catalogue_size(self):
        stream = make_stream()

        def count_queries():
            with CaptureQueriesContext(connection) as captured:
                rated = selectors.stream_services_on(stream=stream, on=APRIL_2026)
                touched = [(r.service.category, r.service.stream.currency, r.on_cost_rules) for r in rated]
            return len(captured), len(touched)

        make_service(stream, "ASC-A", rates=[(APRIL_2025, 100)])
        small = count_queries()
        for index in range(8):
            service = make_service(stream, f"ASC-B{index}", rates=[(APRIL_2025, 100), (APRIL_2026, 110)])
            services.on_cost_rule_add(
                service=service,
                name="Pension",
                kind="percentage",
                percent=Decimal("3"),
                valid_from=APRIL_2025,
            )
        large = count_queries()

        assert (small[1], large[1]) == (1, 9)
        assert small[0] == large[0] <= 3


class TestStreams:
    def test_stream_list_is_the_active_streams_by_code(self):
        make_stream("SP")
        make_stream("ASC")
        closed = make_stream("WCH")
        services.stream_update(stream=closed, is_active=False)

        assert [stream.code for stream in selectors.stream_list()] == ["ASC", "SP"]
        assert [stream.code for stream in selectors.stream_list(active_only=False)] == ["ASC", "SP", "WCH"]

    def test_stream_get_by_code(self):
        stream = make_stream("ATW")

        assert selectors.stream_get(code="ATW") == stream

    def test_an_unknown_stream_is_a_404_error(self):
        with pytest.raises(selectors.UnknownStream) as error:
            selectors.stream_get(code="NOPE")

        assert (error.value.code, error.value.http_status) == ("unknown_stream", 404)
        assert "NOPE" in error.value.message

    def test_stream_wide_on_cost_rules_on_a_date(self):
        stream = make_stream()
        rule = services.on_cost_rule_add(
            stream=stream,
            name="Payroll",
            kind="fixed_yearly",
            amount_minor_per_year=24000,
            valid_from=APRIL_2026,
        )

        assert selectors.stream_on_cost_rules_on(stream=stream, on=date(2026, 3, 31)) == []
        assert selectors.stream_on_cost_rules_on(stream=stream, on=APRIL_2026) == [rule]
