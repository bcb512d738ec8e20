"""`POST /api/v1/cash-equivalents/`: who may call it, the shape of its answer, every error, and that it saves
nothing."""

import json
from copy import deepcopy

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from people import services as people_services
from tests.budgets.factories import FundingStreamFactory, RateFactory
from tests.budgets.test_cash_equivalent_service import build_catalogue
from tests.people.factories import (
    AdministratorFactory,
    AgencyOfficerFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderUserFactory,
    RepresentativeUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/cash-equivalents/"
YEAR = {"start": "2026-04-01", "end": "2027-03-31"}

API_MD_EXAMPLE = {
    "period": YEAR,
    "contribution": {"amount": "20.00", "per": "week"},
    "items": [
        {"service_code": "ASC-PC", "quantity": "10", "per": "week"},
        {
            "stream": "ATW",
            "description": "Support worker",
            "unit_cost": "18.00",
            "unit": "hour",
            "quantity": "6",
            "per": "week",
        },
        {"service_code": "DFG-RAMP", "quantity": "1", "per": "once"},
    ],
}


@pytest.fixture
def catalogue():
    return build_catalogue()


@pytest.fixture
def api(catalogue):
    """A client signed in as a navigator (with a personal token)."""
    return client_for(NavigatorFactory())


def client_for(user) -> APIClient:
    client = APIClient()
    _, raw = people_services.personal_token_issue(user=user, name="test", issued_by=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def post(client, body):
    return client.post(URL, body, format="json")


def problems(response) -> list[tuple[str, str]]:
    return [(error["code"], error["pointer"]) for error in response.json()["errors"]]


class TestWhoMayCost:
    @pytest.mark.parametrize(
        "factory", [NavigatorFactory, AgencyOfficerFactory, FinanceOfficerFactory, AdministratorFactory]
    )
    def test_staff_who_draw_up_and_fund_plans_may(self, catalogue, factory):
        response = post(client_for(factory()), API_MD_EXAMPLE)

        assert response.status_code == 200
        assert response.json()["total"] == "21213.57"

    @pytest.mark.parametrize("factory", [UserFactory, RepresentativeUserFactory, ProviderUserFactory])
    def test_budget_holders_representatives_and_providers_may_not(self, catalogue, factory):
        response = post(client_for(factory()), API_MD_EXAMPLE)

        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == (
            "Only navigators, agency officers, finance officers and administrators may cost a package."
        )

    def test_without_credentials_is_a_401(self, catalogue):
        response = APIClient().post(URL, API_MD_EXAMPLE, format="json")

        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"

    def test_a_navigator_with_a_verified_session_may(self, catalogue, client, sign_in_verified):
        sign_in_verified(client, NavigatorFactory())

        response = client.post(URL, API_MD_EXAMPLE, content_type="application/json")

        assert response.status_code == 200


class TestAnswer:
    def test_answers_every_figure_as_strings_in_the_shape_of_api_md(self, api):
        # 10 hours a week of ASC-PC at 24.50 for 365 days: 12775.00; contribution 20.00 a week: 1042.86.
        body = {
            "period": YEAR,
            "contribution": {"amount": "20.00", "per": "week"},
            "items": [{"service_code": "ASC-PC", "quantity": "10", "per": "week"}],
        }

        response = post(api, body)

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        answer = response.json()
        explanation = answer.pop("explanation")
        assert answer == {
            "currency": "GBP",
            "total": "11732.14",
            "streams": [
                {
                    "stream": "ASC",
                    "subtotal": "12775.00",
                    "on_costs": "0.00",
                    "contingency": "0.00",
                    "contribution": "-1042.86",
                    "amount": "11732.14",
                    "contingency_percent": "0",
                    "gross": "12775.00",
                    "charges_contribution": True,
                    "contribution_assessed": "-1042.86",
                }
            ],
            "lines": [
                {
                    "item": 0,
                    "service_code": "ASC-PC",
                    "stream": "ASC",
                    "description": "Personal care",
                    "unit": "hour",
                    "unit_cost": "24.50",
                    "quantity": "10",
                    "per": "week",
                    "occurrences": "52.142857",
                    "occurrences_basis": "365 days ÷ 7",
                    "amount": "12775.00",
                    "line_amount": "12775.00",
                    "split": None,
                    "on_costs": "0.00",
                    "on_cost_lines": [],
                }
            ],
            "period": {"start": "2026-04-01", "end": "2027-03-31", "days": 365},
            "contribution": {
                "amount": "20.00",
                "per": "week",
                "occurrences": "52.142857",
                "occurrences_basis": "365 days ÷ 7",
                "assessed": "1042.86",
                "applied": "1042.86",
            },
        }
        assert [(step["step"], step["stream"], step["item"], step["amount"]) for step in explanation] == [
            ("period", None, None, None),
            ("line", "ASC", 0, "12775.00"),
            ("subtotal", "ASC", None, "12775.00"),
            ("contingency", "ASC", None, "0.00"),
            ("contribution", None, None, "1042.86"),
            ("contribution", "ASC", None, "1042.86"),
            ("stream", "ASC", None, "11732.14"),
            ("total", None, None, "11732.14"),
        ]
        assert explanation[-1]["text"] == "Total: 11732.14 = 11732.14 GBP."

    def test_the_example_of_api_md(self, api):
        response = post(api, API_MD_EXAMPLE)

        answer = response.json()
        assert [
            (s["stream"], s["subtotal"], s["contingency"], s["contribution"], s["amount"])
            for s in answer["streams"]
        ] == [
            ("ASC", "12775.00", "0.00", "-1042.86", "11732.14"),
            ("ATW", "5631.43", "0.00", "0.00", "5631.43"),
            ("DFG", "3500.00", "350.00", "0.00", "3850.00"),
        ]
        assert [
            (line["service_code"], line["stream"], line["occurrences"], line["amount"])
            for line in answer["lines"]
        ] == [
            ("ASC-PC", "ASC", "52.142857", "12775.00"),
            (None, "ATW", "52.142857", "5631.43"),
            ("DFG-RAMP", "DFG", "1.000000", "3500.00"),
        ]
        assert answer["total"] == "21213.57"

    def test_a_split_item_answers_one_line_per_stream(self, api):
        # ASC-PA 3 hours a week, 60/40 with ILF: 1931.89 -> ASC 1159.13, ILF 772.76 (the remainder penny).
        body = {
            "period": YEAR,
            "items": [
                {
                    "service_code": "ASC-PA",
                    "quantity": "3",
                    "per": "week",
                    "split": {
                        "percent": [{"stream": "ASC", "percent": "60"}, {"stream": "ILF", "percent": "40"}]
                    },
                },
                {
                    "service_code": "ASC-PC",
                    "quantity": "30",
                    "per": "week",
                    "split": {"cap": {"stream": "ASC", "amount": "400.00", "per": "week"}, "rest": "ILF"},
                },
            ],
        }

        answer = post(api, body).json()

        assert [
            (line["item"], line["stream"], line["amount"], line["line_amount"]) for line in answer["lines"]
        ] == [
            (0, "ASC", "1159.13", "1931.89"),
            (0, "ILF", "772.76", "1931.89"),
            (1, "ASC", "20857.14", "38325.00"),
            (1, "ILF", "17467.86", "38325.00"),
        ]
        assert answer["lines"][0]["split"] == {
            "kind": "percent",
            "percent": "60",
            "cap": None,
            "description": "60% of 1931.89",
        }
        assert answer["lines"][2]["split"] == {
            "kind": "cap",
            "percent": None,
            "cap": "20857.14",
            "description": "ASC pays up to 400.00 a week x 52.142857 (365 days ÷ 7) = 20857.14",
        }
        assert answer["lines"][0]["on_cost_lines"] == [
            {
                "name": "Holiday pay",
                "kind": "percentage",
                "source": "service",
                "percent": "12.07",
                "amount_per_year": None,
                "basis": "1931.89",
                "years": None,
                "amount_before_split": "233.18",
                "amount": "139.91",
                "description": "Holiday pay: 12.07% of 1931.89",
            },
            {
                "name": "Employer's liability insurance",
                "kind": "fixed_yearly",
                "source": "service",
                "percent": None,
                "amount_per_year": "150.00",
                "basis": None,
                "years": "1.000000",
                "amount_before_split": "150.00",
                "amount": "90.00",
                "description": (
                    "Employer's liability insurance: 150.00 a year x 1.000000 years (1 whole year)"
                ),
            },
        ]
        # each stream's subtotal is the sum of its lines
        for stream in answer["streams"]:
            lines = [line for line in answer["lines"] if line["stream"] == stream["stream"]]
            assert sum(int(line["amount"].replace(".", "")) for line in lines) == int(
                stream["subtotal"].replace(".", "")
            )

    def test_every_amount_is_a_string_with_the_currency_decimals(self, api):
        answer = post(api, API_MD_EXAMPLE).json()

        assert answer["total"] == "21213.57"
        for stream in answer["streams"]:
            for key in ("subtotal", "on_costs", "contingency", "contribution", "amount", "gross"):
                assert isinstance(stream[key], str)
                assert stream[key].count(".") == 1 and len(stream[key].split(".")[1]) == 2
        for line in answer["lines"]:
            assert isinstance(line["quantity"], str)
            assert len(line["occurrences"].split(".")[1]) == 6

    def test_saves_nothing(self, catalogue):
        client = APIClient()
        client.force_authenticate(NavigatorFactory())
        models = [
            model for model in apps.get_models() if model._meta.app_label in ("budgets", "ledger", "people")
        ]
        before = {model._meta.label: model._default_manager.count() for model in models}

        with CaptureQueriesContext(connection) as queries:
            response = post(client, API_MD_EXAMPLE)

        assert response.status_code == 200
        assert {model._meta.label: model._default_manager.count() for model in models} == before
        assert all(query["sql"].lstrip().upper().startswith("SELECT") for query in queries.captured_queries)


def _with(**changes):
    body = deepcopy(API_MD_EXAMPLE)
    for path, value in changes.items():
        target = body
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return body


class TestMalformedRequests:
    def test_bad_json_is_a_400(self, api):
        response = api.post(URL, "{not json", content_type="application/json")

        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"].endswith("/malformed_request")

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ([], [("invalid", "")]),
            ({}, [("required", "/period"), ("required", "/items")]),
            (_with(period={"start": "2026-04-01"}), [("required", "/period/end")]),
            (_with(period__start="1 April 2026"), [("invalid", "/period/start")]),
            (_with(items=[]), [("empty", "/items")]),
            (_with(items__0__quantity=10), [("not_a_string", "/items/0/quantity")]),
            (_with(items__0__quantity="ten"), [("not_a_decimal", "/items/0/quantity")]),
            (_with(items__0__quantity="1e3"), [("not_a_decimal", "/items/0/quantity")]),
            (_with(items__1__unit_cost=18.0), [("not_a_string", "/items/1/unit_cost")]),
            (_with(items__1__unit_cost="£18"), [("not_a_decimal", "/items/1/unit_cost")]),
            (_with(contribution={"amount": 20, "per": "week"}), [("not_a_string", "/contribution/amount")]),
            (_with(items__0__per="fortnight"), [("invalid_choice", "/items/0/per")]),
            (_with(items__1__unit="banana"), [("invalid_choice", "/items/1/unit")]),
            (
                _with(
                    items__0={
                        "service_code": "ASC-PC",
                        "stream": "ASC",
                        "unit_cost": "1.00",
                        "quantity": "1",
                        "per": "week",
                    }
                ),
                [("item_ambiguous", "/items/0/stream"), ("item_ambiguous", "/items/0/unit_cost")],
            ),
            (_with(items__0={"quantity": "1", "per": "week"}), [("required", "/items/0")]),
            (
                _with(items__1={"stream": "ATW", "quantity": "1", "per": "week"}),
                [
                    ("required", "/items/1/description"),
                    ("required", "/items/1/unit_cost"),
                    ("required", "/items/1/unit"),
                ],
            ),
            (
                _with(
                    items__0__split={
                        "percent": [{"stream": "ASC", "percent": "100"}],
                        "cap": {"stream": "ASC", "amount": "1.00", "per": "week"},
                    }
                ),
                [("split_ambiguous", "/items/0/split")],
            ),
            (_with(items__0__split={}), [("split_ambiguous", "/items/0/split")]),
            (
                _with(items__0__split={"cap": {"stream": "ASC", "amount": "1.00", "per": "week"}}),
                [("required", "/items/0/split/rest")],
            ),
            (
                _with(items__0__split={"percent": [{"stream": "ASC", "percent": 100}]}),
                [("not_a_string", "/items/0/split/percent/0/percent")],
            ),
            (_with(items__0__service_code=None), [("null", "/items/0/service_code")]),
        ],
    )
    def test_a_malformed_request_is_a_400_naming_each_problem(self, api, body, expected):
        response = post(api, body)

        assert response.status_code == 400, response.json()
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"].endswith("/invalid_request")
        assert problems(response) == expected

    def test_a_json_number_gets_a_clear_message(self, api):
        response = post(api, _with(items__0__quantity=10))

        assert response.json()["errors"][0]["detail"] == (
            'Write this number as a string, like "10" or "7.5", not as a JSON number.'
        )

    def test_too_many_items_is_a_400(self, api):
        body = _with(items=[{"service_code": "ASC-PC", "quantity": "1", "per": "week"}] * 201)

        response = post(api, body)

        assert response.status_code == 400
        assert problems(response) == [("max_length", "/items")]

    def test_a_null_contribution_is_no_contribution(self, api):
        response = post(api, _with(contribution=None))

        assert response.status_code == 200
        assert response.json()["contribution"] is None
        assert response.json()["total"] == "22256.43"  # 21213.57 + 1042.86


class TestRulesBroken:
    @pytest.mark.parametrize(
        ("body", "code", "pointer"),
        [
            (_with(period__end="2026-03-31"), "period_end_before_start", "/period/end"),
            (_with(items__0__service_code="NOPE"), "unknown_service", "/items/0/service_code"),
            (_with(items__0__service_code="ASC-OFF"), "unknown_service", "/items/0/service_code"),
            (_with(items__0__service_code="ASC-GONE"), "rate_not_valid", "/items/0/service_code"),
            (_with(items__1__stream="NOPE"), "unknown_stream", "/items/1/stream"),
            (_with(items__0__service_code="OLD-PC"), "stream_inactive", "/items/0/service_code"),
            (_with(items__2__service_code="EUX-PC"), "currency_mismatch", "/items/2/service_code"),
            (_with(items__0__quantity="0"), "invalid_quantity", "/items/0/quantity"),
            (_with(items__0__quantity="-1"), "invalid_quantity", "/items/0/quantity"),
            (_with(items__0__quantity="1.125"), "invalid_quantity", "/items/0/quantity"),
            (_with(items__1__unit_cost="18.5"), "invalid_amount", "/items/1/unit_cost"),
            (_with(items__1__unit_cost="-18.00"), "invalid_amount", "/items/1/unit_cost"),
            (_with(contribution={"amount": "20", "per": "week"}), "invalid_amount", "/contribution/amount"),
            (
                _with(
                    items__0__split={
                        "percent": [{"stream": "ASC", "percent": "60"}, {"stream": "ILF", "percent": "0"}]
                    }
                ),
                "invalid_percent",
                "/items/0/split/percent/1/percent",
            ),
            (
                _with(
                    items__0__split={
                        "percent": [{"stream": "ASC", "percent": "60"}, {"stream": "ILF", "percent": "30"}]
                    }
                ),
                "split_percent_not_100",
                "/items/0/split/percent",
            ),
            (
                _with(
                    items__0__split={
                        "percent": [{"stream": "ASC", "percent": "60"}, {"stream": "ASC", "percent": "40"}]
                    }
                ),
                "split_stream_repeated",
                "/items/0/split/percent/1/stream",
            ),
            (
                _with(
                    items__0__split={
                        "percent": [{"stream": "ASC", "percent": "60"}, {"stream": "NOPE", "percent": "40"}]
                    }
                ),
                "unknown_stream",
                "/items/0/split/percent/1/stream",
            ),
            (
                _with(
                    items__0__split={
                        "cap": {"stream": "ASC", "amount": "400.0", "per": "week"},
                        "rest": "ILF",
                    }
                ),
                "invalid_amount",
                "/items/0/split/cap/amount",
            ),
            (
                _with(
                    items__0__split={
                        "cap": {"stream": "ASC", "amount": "400.00", "per": "week"},
                        "rest": "NOPE",
                    }
                ),
                "unknown_stream",
                "/items/0/split/rest",
            ),
            (
                _with(items__0__service_code="SP-HS"),  # no stream in the package charges a contribution now
                "contribution_not_charged",
                "/contribution",
            ),
        ],
    )
    def test_a_broken_rule_is_a_422_naming_it(self, api, body, code, pointer):
        response = post(api, body)

        assert response.status_code == 422, response.json()
        assert response["Content-Type"] == "application/problem+json"
        answer = response.json()
        assert answer["type"].endswith(f"/{code}")
        assert answer["title"] == "Your request breaks a rule"
        assert [(error["code"], error["pointer"]) for error in answer["errors"]] == [(code, pointer)]
        assert answer["detail"] == answer["errors"][0]["detail"]

    def test_a_stream_in_a_currency_purse_does_not_know(self, api):
        odd = FundingStreamFactory(code="ODD", currency="XYZ")
        RateFactory(service__stream=odd, service__service_code="ODD-PC")

        response = post(api, _with(items__0__service_code="ODD-PC"))

        assert response.status_code == 422
        assert problems(response) == [("unknown_currency", "/items/0/service_code")]

    def test_every_broken_rule_is_listed_at_once(self, api):
        body = _with(
            period__end="2026-01-01",
            items__0__service_code="NOPE",
            items__1__unit_cost="18.5",
            items__2__quantity="0",
        )

        response = post(api, body)

        assert response.status_code == 422
        answer = response.json()
        assert answer["type"].endswith("/cash_equivalent_invalid")
        assert answer["detail"] == (
            "The package cannot be costed as it stands: 4 problems, see errors for each one."
        )
        assert problems(response) == [
            ("period_end_before_start", "/period/end"),
            ("unknown_service", "/items/0/service_code"),
            ("invalid_amount", "/items/1/unit_cost"),
            ("invalid_quantity", "/items/2/quantity"),
        ]
        assert all(error["detail"] for error in answer["errors"])


class TestSchema:
    def test_the_schema_shows_the_request_and_the_answer(self, api):
        schema = api.get("/api/schema/?format=json").json()

        operation = schema["paths"]["/api/v1/cash-equivalents/"]["post"]
        assert operation["operationId"] == "cash_equivalents_create"
        request_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert request_ref.endswith("/CashEquivalentPackageRequest")
        assert set(operation["responses"]) == {"200", "400", "401", "403", "422"}
        answer = schema["components"]["schemas"]["CashEquivalent"]
        assert {"currency", "total", "streams", "lines"} <= set(answer["properties"])
        line = schema["components"]["schemas"]["CashEquivalentLine"]
        assert {"service_code", "stream", "unit_cost", "quantity", "per", "occurrences", "amount"} <= set(
            line["properties"]
        )
        assert json.dumps(schema)  # it is plain JSON
