from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from budgets.services import catalogue as services
from people import services as people_services
from tests.people.factories import (
    AdministratorFactory,
    AgencyFactory,
    AgencyOfficerFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderUserFactory,
    RepresentativeUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

APRIL_2025 = date(2025, 4, 1)
APRIL_2026 = date(2026, 4, 1)


@pytest.fixture
def api():
    client = APIClient()
    user = UserFactory()
    _, raw = people_services.personal_token_issue(user=user, name="test", issued_by=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def make_stream(code="ASC", *, agency=None, **overrides):
    values = {
        "name": f"Stream {code}",
        "agency": agency or AgencyFactory(),
        "policy_sector": "social_care",
        "payment_frequency": "four_weekly",
    }
    return services.stream_create(code=code, **{**values, **overrides})


def make_service(stream, code, *, rates, unit="hour", category=None, description=None):
    service = services.service_create(
        stream=stream,
        service_code=code,
        description=description or f"Service {code}",
        unit=unit,
        category=category,
    )
    for valid_from, amount in rates:
        services.rate_add(service=service, unit_cost_minor=amount, valid_from=valid_from)
    return service


def assert_problem(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if code:
        assert body["type"].endswith(f"/{code}")
    return body


class TestStreamList:
    def test_the_shape_of_a_stream(self, api):
        agency = AgencyFactory(name="Housing Adaptations - Dalesford District Council")
        stream = make_stream(
            "DFG",
            agency=agency,
            name="Disabled Facilities Grant",
            policy_sector="housing",
            payment_frequency="one_off",
            contingency_percent=Decimal("10"),
            surplus_threshold_weeks=Decimal("0"),
        )
        services.spending_category_add(stream=stream, code="adaptations", name="Adaptations to the home")
        services.spending_category_add(stream=stream, code="access", name="Access")

        response = api.get("/api/v1/streams/")

        assert response.status_code == 200
        assert response.json() == {
            "results": [
                {
                    "code": "DFG",
                    "name": "Disabled Facilities Grant",
                    "agency": {
                        "id": agency.public_id,
                        "name": "Housing Adaptations - Dalesford District Council",
                    },
                    "policy_sector": "housing",
                    "currency": "GBP",
                    "budget_year_starts": "04-01",
                    "payment_frequency": "one_off",
                    "charges_contribution": False,
                    "contingency_percent": "10.00",
                    "surplus_threshold_weeks": "0.0",
                    "initial_float_weeks": 0,
                    "reclaim_notice_weeks": 4,
                    "spending_categories": [
                        {"code": "access", "name": "Access"},
                        {"code": "adaptations", "name": "Adaptations to the home"},
                    ],
                }
            ],
            "next": None,
            "previous": None,
        }

    def test_rules_are_decimal_strings_and_the_budget_year_is_month_and_day(self, api):
        make_stream(
            "ASC",
            charges_contribution=True,
            contingency_percent=Decimal("2.5"),
            surplus_threshold_weeks=Decimal("8"),
            initial_float_weeks=4,
            budget_year_start_month=1,
            budget_year_start_day=6,
        )

        stream = api.get("/api/v1/streams/").json()["results"][0]

        assert stream["contingency_percent"] == "2.50"
        assert stream["surplus_threshold_weeks"] == "8.0"
        assert stream["budget_year_starts"] == "01-06"
        assert stream["charges_contribution"] is True
        assert stream["initial_float_weeks"] == 4
        assert stream["spending_categories"] == []

    def test_streams_are_listed_by_code_and_closed_ones_are_left_out(self, api):
        for code in ["SP", "ASC", "ATW"]:
            make_stream(code)
        services.stream_update(stream=make_stream("WCH"), is_active=False)

        codes = [stream["code"] for stream in api.get("/api/v1/streams/").json()["results"]]

        assert codes == ["ASC", "ATW", "SP"]

    def test_the_list_is_cursor_paginated(self, api):
        for code in ["ASC", "ATW", "DFG", "ILF", "SP"]:
            make_stream(code)

        first = api.get("/api/v1/streams/?page_size=2").json()
        second = api.get(first["next"]).json()
        third = api.get(second["next"]).json()

        assert set(first) == {"results", "next", "previous"}
        assert [s["code"] for s in first["results"]] == ["ASC", "ATW"]
        assert first["previous"] is None
        assert [s["code"] for s in second["results"]] == ["DFG", "ILF"]
        assert [s["code"] for s in third["results"]] == ["SP"]
        assert third["next"] is None
        assert [s["code"] for s in api.get(third["previous"]).json()["results"]] == ["DFG", "ILF"]

    @pytest.mark.parametrize(
        "factory",
        [
            UserFactory,
            RepresentativeUserFactory,
            NavigatorFactory,
            AgencyOfficerFactory,
            ProviderUserFactory,
            FinanceOfficerFactory,
            AdministratorFactory,
        ],
    )
    def test_every_role_may_list_streams(self, factory):
        make_stream("ASC")
        user = factory()
        _, raw = people_services.personal_token_issue(user=user, name="test", issued_by=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

        response = client.get("/api/v1/streams/")

        assert response.status_code == 200
        assert [stream["code"] for stream in response.json()["results"]] == ["ASC"]

    def test_staff_on_a_verified_session_may_list_streams(self, client, sign_in_verified):
        make_stream("ASC")
        sign_in_verified(client, NavigatorFactory())

        assert client.get("/api/v1/streams/").status_code == 200

    def test_without_credentials_it_is_a_401_problem(self):
        response = APIClient().get("/api/v1/streams/")

        assert_problem(response, 401)

    def test_the_query_count_does_not_grow_with_the_number_of_streams(
        self, api, django_assert_max_num_queries
    ):
        def add_streams(codes):
            for code in codes:
                stream = make_stream(code)
                services.spending_category_add(stream=stream, code="one", name="One")
                services.spending_category_add(stream=stream, code="two", name="Two")

        def count():
            with CaptureQueriesContext(connection) as captured:
                response = api.get("/api/v1/streams/")
            assert response.status_code == 200
            return len(captured), len(response.json()["results"])

        add_streams(["ASC", "ATW"])
        api.get("/api/v1/streams/")  # the token's first use notes when it was used: one more query, once
        with django_assert_max_num_queries(6):
            small = count()
        add_streams([f"S{index}" for index in range(10)])
        with django_assert_max_num_queries(6):
            large = count()

        assert (small[1], large[1]) == (2, 12)
        assert small[0] == large[0]


class TestStreamServices:
    @pytest.fixture
    def asc(self):
        stream = make_stream("ASC", name="Adult Social Care")
        category = services.spending_category_add(
            stream=stream, code="personal-assistants", name="Employing PAs"
        )
        pa = make_service(
            stream,
            "ASC-PA",
            description="Personal assistant",
            category=category,
            rates=[(APRIL_2025, 1310), (APRIL_2026, 1360)],
        )
        services.on_cost_rule_add(
            service=pa, name="Holiday pay", kind="percentage", percent=Decimal("12.07"), valid_from=APRIL_2025
        )
        services.on_cost_rule_add(
            service=pa,
            name="Employer's liability insurance",
            kind="fixed_yearly",
            amount_minor_per_year=12500,
            valid_from=APRIL_2025,
        )
        make_service(
            stream, "ASC-PC", description="Personal care", rates=[(APRIL_2025, 2380), (APRIL_2026, 2450)]
        )
        return stream

    def test_the_shape_of_the_catalogue_on_a_date(self, api, asc):
        response = api.get("/api/v1/streams/ASC/services/?on=2025-06-01")

        assert response.status_code == 200
        assert response.json() == {
            "results": [
                {
                    "service_code": "ASC-PA",
                    "description": "Personal assistant",
                    "unit": "hour",
                    "category": {"code": "personal-assistants", "name": "Employing PAs"},
                    "unit_cost": "13.10",
                    "currency": "GBP",
                    "valid_from": "2025-04-01",
                    "valid_to": "2026-03-31",
                    "on_cost_rules": [
                        {
                            "name": "Holiday pay",
                            "kind": "percentage",
                            "percent": "12.0700",
                            "amount_per_year": None,
                        },
                        {
                            "name": "Employer's liability insurance",
                            "kind": "fixed_yearly",
                            "percent": None,
                            "amount_per_year": "125.00",
                        },
                    ],
                },
                {
                    "service_code": "ASC-PC",
                    "description": "Personal care",
                    "unit": "hour",
                    "category": None,
                    "unit_cost": "23.80",
                    "currency": "GBP",
                    "valid_from": "2025-04-01",
                    "valid_to": "2026-03-31",
                    "on_cost_rules": [],
                },
            ],
            "next": None,
            "previous": None,
        }

    @pytest.mark.parametrize(
        ("on", "unit_cost", "valid_from", "valid_to"),
        [
            ("2025-04-01", "23.80", "2025-04-01", "2026-03-31"),
            ("2026-03-31", "23.80", "2025-04-01", "2026-03-31"),
            ("2026-04-01", "24.50", "2026-04-01", None),
            ("2030-12-25", "24.50", "2026-04-01", None),
        ],
    )
    def test_the_rate_in_force_on_the_date_is_shown(self, api, asc, on, unit_cost, valid_from, valid_to):
        results = api.get(f"/api/v1/streams/ASC/services/?on={on}").json()["results"]

        care = next(item for item in results if item["service_code"] == "ASC-PC")
        assert (care["unit_cost"], care["valid_from"], care["valid_to"]) == (unit_cost, valid_from, valid_to)

    def test_before_any_rate_the_catalogue_is_empty(self, api, asc):
        body = api.get("/api/v1/streams/ASC/services/?on=2025-03-31").json()

        assert body == {"results": [], "next": None, "previous": None}

    def test_without_a_date_the_catalogue_stands_on_today(self, api):
        stream = make_stream("ASC")
        today = timezone.localdate()
        make_service(stream, "ASC-PC", rates=[(date(2000, 4, 1), 1000), (today + timedelta(days=1), 2000)])

        item = api.get("/api/v1/streams/ASC/services/").json()["results"][0]
        left_blank = api.get("/api/v1/streams/ASC/services/?on=").json()["results"][
            0
        ]  # as a blank form sends it

        assert item["unit_cost"] == "10.00"
        assert item["valid_to"] == today.isoformat()
        assert left_blank == item

    @pytest.mark.parametrize(
        ("currency", "amount", "expected"), [("JPY", 2450, "2450"), ("KWD", 1250, "1.250")]
    )
    def test_money_has_exactly_the_currencys_decimals(self, api, currency, amount, expected):
        stream = make_stream("ABROAD", currency=currency)
        service = make_service(stream, "AB-PC", rates=[(APRIL_2025, amount)])
        services.on_cost_rule_add(
            service=service,
            name="Insurance",
            kind="fixed_yearly",
            amount_minor_per_year=amount,
            valid_from=APRIL_2025,
        )

        item = api.get("/api/v1/streams/ABROAD/services/?on=2025-04-01").json()["results"][0]

        assert (item["unit_cost"], item["currency"]) == (expected, currency)
        assert item["on_cost_rules"][0]["amount_per_year"] == expected

    @pytest.mark.parametrize("on", ["01/04/2026", "2026-02-30", "2026-04-01T00:00:00", "tomorrow"])
    def test_a_bad_date_is_a_400_problem_naming_the_parameter(self, api, asc, on):
        response = api.get("/api/v1/streams/ASC/services/", {"on": on})

        body = assert_problem(response, 400, "invalid_request")
        assert body["errors"] == [
            {
                "code": "invalid",
                "pointer": "/on",
                "detail": "The on parameter must be a date written YYYY-MM-DD, for example 2026-04-01.",
            }
        ]

    def test_an_unknown_stream_is_a_404_problem(self, api):
        response = api.get("/api/v1/streams/NOPE/services/")

        body = assert_problem(response, 404, "unknown_stream")
        assert "NOPE" in body["detail"]

    def test_without_credentials_it_is_a_401_problem(self, asc):
        assert_problem(APIClient().get("/api/v1/streams/ASC/services/"), 401)

    def test_the_query_count_does_not_grow_with_the_catalogue(self, api, django_assert_max_num_queries):
        stream = make_stream("ASC")
        category = services.spending_category_add(stream=stream, code="care", name="Care")

        def add_services(codes):
            for code in codes:
                service = make_service(
                    stream, code, category=category, rates=[(APRIL_2025, 100), (APRIL_2026, 110)]
                )
                services.on_cost_rule_add(
                    service=service,
                    name="Pension",
                    kind="percentage",
                    percent=Decimal("3"),
                    valid_from=APRIL_2025,
                )

        def count():
            with CaptureQueriesContext(connection) as captured:
                response = api.get("/api/v1/streams/ASC/services/?on=2026-04-01")
            assert response.status_code == 200
            return len(captured), len(response.json()["results"])

        add_services(["ASC-A", "ASC-B"])
        api.get("/api/v1/streams/")  # the token's first use notes when it was used: one more query, once
        with django_assert_max_num_queries(7):
            small = count()
        add_services([f"ASC-C{index}" for index in range(10)])
        with django_assert_max_num_queries(7):
            large = count()

        assert (small[1], large[1]) == (2, 12)
        assert small[0] == large[0]


class TestSchema:
    def test_both_endpoints_are_in_the_schema_with_their_shapes(self, api):
        schema = api.get("/api/schema/?format=json").json()

        assert "/api/v1/streams/" in schema["paths"]
        services_path = schema["paths"]["/api/v1/streams/{code}/services/"]["get"]
        assert [p["name"] for p in services_path["parameters"] if p["in"] == "query"] == ["on"]
        components = schema["components"]["schemas"]
        assert set(components["Stream"]["properties"]) >= {
            "budget_year_starts",
            "spending_categories",
            "agency",
        }
        assert set(components["RatedService"]["properties"]) >= {"unit_cost", "valid_to", "on_cost_rules"}
