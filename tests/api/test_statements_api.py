"""The statements API (api/statements.py): a person's and a stream's statements, issued statements and
statement runs; who may see each (404 for everyone else, exactly as for what does not exist), that the
figures are the domain's, the formats (JSON, PDF, CSV), bad input, pages of people and their queries.

The world (tests/api/statements_world.py) is built once for the module, in a transaction rolled back at the
end; each test runs in a savepoint inside it, rolled back after the test.
"""

import base64
import csv
import hashlib
import io

import jsonschema
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from api import statements as statements_api
from budgets.models import FundingStream
from statements import selectors, services
from statements.formats import CSV_COLUMNS, agency_csv_rows, person_statement_json
from statements.models import IssuedStatement, RunStatus, StatementKind, StatementRun
from statements.period import Period
from tests.api.statements_world import (
    DECEMBER_2,
    NOT_RUN_STAFF,
    NOT_SEE_ASC,
    NOT_SEE_PERSON,
    NOVEMBER,
    OCTOBER,
    RUN_STAFF,
    SEE_ASC,
    SEE_PERSON,
    StatementsWorld,
    build_statements_world,
    fund_people,
)
from tests.invoicing.world import provider_client

pytestmark = pytest.mark.django_db

PDF = "application/pdf"
PROBLEM = "application/problem+json"
NOV = "from=2026-11-01&to=2026-11-30"
NOV_SLUG = "2026-11-01-2026-11-30"
BAD_PERIODS = [
    ("from=2026-13-01", "/from"),
    ("from=yesterday", "/from"),
    ("to=2026-02-30", "/to"),
    ("from=2026-11-10&to=2026-11-01", "/to"),
    ("from=2026-01-01&to=2027-01-02", "/to"),  # 367 days
]


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        yield build_statements_world(monkeypatch)
        transaction.set_rollback(True)


@pytest.fixture
def world(shared_world, db) -> StatementsWorld:
    yield shared_world
    shared_world.clock.today = DECEMBER_2


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def assert_matches(openapi, body, component: str) -> None:
    """The body is what the OpenAPI schema says the component is."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": openapi["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["detail"]
    if code is not None:
        assert body["type"].endswith(f"/{code}")
    return body


def person_url(world, suffix: str = "") -> str:
    return f"/api/v1/people/{world.alex.public_id}/statements/{suffix}"


def stream(code: str = "ASC") -> FundingStream:
    return FundingStream.objects.get(code=code)


def issued(kind: str, *, world, period: Period = OCTOBER) -> IssuedStatement:
    subject = {"budget_holder": world.alex} if kind == StatementKind.PERSON else {"stream": stream("ASC")}
    return IssuedStatement.objects.get(
        kind=kind, starts_on=period.starts_on, ends_on=period.ends_on, **subject
    )


def funded_ids(code: str = "ASC") -> list[str]:
    """The stream's people in November, by public id (the statement's order)."""
    people = selectors.funded_people(stream=stream(code), period=NOVEMBER)
    return list(people.values_list("public_id", flat=True))


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))


# A person's statement -----------------------------------------------------------------------------------


class TestPersonStatement:
    @pytest.mark.parametrize("role", SEE_PERSON)
    def test_the_person_their_side_and_finance_get_the_domain_s_figures(self, world, role):
        response = world.client(role).get(person_url(world, f"?{NOV}"))

        assert response.status_code == 200, response.content
        expected = person_statement_json(
            selectors.person_statement(budget_holder=world.alex, period=NOVEMBER)
        )
        assert response.json() == expected
        assert response["Cache-Control"] == "private, no-store"

    def test_the_figures_are_those_of_the_world(self, world, openapi):
        body = world.client("holder").get(person_url(world, f"?{NOV}")).json()

        assert (body["from"], body["to"], body["currency"]) == ("2026-11-01", "2026-11-30", "GBP")
        assert body["money_out"] == "85.75"  # C-1: 3.50 hours at 24.50, paid on 25 November
        assert body["reserved"] == "63.00"  # W-1: approved, not yet paid
        assert [line["invoice_number"] for line in body["money_out_lines"]] == ["C-1"] * 4
        assert_matches(openapi, body, "PersonStatement")

    @pytest.mark.parametrize("role", NOT_SEE_PERSON)
    def test_everyone_else_gets_404_as_for_nobody(self, world, role):
        client = world.client(role)

        response = client.get(person_url(world, f"?{NOV}"))

        nobody = client.get(f"/api/v1/people/per_nobody/statements/?{NOV}")
        assert assert_problem(response, 404) == assert_problem(nobody, 404)

    def test_a_provider_s_api_key_gets_404(self, world):
        assert_problem(provider_client("bright-care").get(person_url(world, f"?{NOV}")), 404)

    def test_without_credentials_is_401(self, world):
        assert_problem(APIClient().get(person_url(world, f"?{NOV}")), 401)

    def test_the_pdf(self, world):
        response = world.client("rep_view").get(person_url(world, f"?{NOV}"), HTTP_ACCEPT=PDF)

        assert response.status_code == 200
        assert response["Content-Type"] == PDF
        assert response.content.startswith(b"%PDF")
        assert response["Content-Disposition"] == (
            f'attachment; filename="statement-{world.alex.public_id}-2026-11-01-2026-11-30.pdf"'
        )

    def test_a_pdf_for_someone_else_is_a_404_problem_not_a_pdf(self, world):
        assert_problem(world.client("officer_asc").get(person_url(world, f"?{NOV}"), HTTP_ACCEPT=PDF), 404)

    def test_without_dates_this_month_with_one_that_date_s_month(self, world):
        client = world.client("holder")

        this_month = client.get(person_url(world)).json()
        from_only = client.get(person_url(world, "?from=2026-11-05")).json()

        assert (this_month["from"], this_month["to"]) == ("2026-12-01", "2026-12-31")
        assert (from_only["from"], from_only["to"]) == ("2026-11-05", "2026-11-30")

    @pytest.mark.parametrize(("query", "pointer"), BAD_PERIODS)
    def test_a_bad_period_is_400_pointing_at_the_parameter(self, world, query, pointer):
        response = world.client("holder").get(person_url(world, f"?{query}"))

        body = assert_problem(response, 400, "invalid_period")
        assert [(error["code"], error["pointer"]) for error in body["errors"]] == [
            ("invalid_period", pointer)
        ]

    @pytest.mark.parametrize("accept", ["text/csv", "text/html", "image/png"])
    def test_a_format_it_does_not_answer_is_406(self, world, accept):
        response = world.client("holder").get(person_url(world, f"?{NOV}"), HTTP_ACCEPT=accept)

        assert "application/pdf" in assert_problem(response, 406, "not_acceptable")["detail"]


# A stream's statement -----------------------------------------------------------------------------------


def stream_url(code: str = "ASC", query: str = NOV) -> str:
    return f"/api/v1/streams/{code}/statements/?{query}"


def expected_page(code: str, period: Period, *, first: int = 0, size: int = 50) -> dict:
    the_stream = stream(code)
    people = list(selectors.funded_people(stream=the_stream, period=period)[first : first + size])
    return selectors.agency_json(
        stream=the_stream,
        period=period,
        totals=selectors.agency_totals(stream=the_stream, period=period),
        lines=selectors.agency_lines(stream=the_stream, period=period, people=people),
    )


class TestStreamStatement:
    @pytest.mark.parametrize("role", SEE_ASC)
    def test_the_stream_s_agency_and_finance_get_the_domain_s_figures(self, world, role):
        response = world.client(role).get(stream_url())

        assert response.status_code == 200, response.content
        assert response.json() == {**expected_page("ASC", NOVEMBER), "next": None, "previous": None}
        assert response["Cache-Control"] == "private, no-store"

    def test_the_figures_are_those_of_the_world(self, world, openapi):
        body = world.client("finance").get(stream_url()).json()

        assert [line["person"] for line in body["people"]] == [world.alex.public_id]
        assert body["totals"]["people"] == 1
        assert body["totals"]["spent"] == body["people"][0]["spent"] == "62.50"  # ASC's part of C-1
        assert body["totals"]["spent_by_category"] == [{"category": "Personal care", "amount": "62.50"}]
        assert_matches(openapi, body, "AgencyStatementPage")

    def test_an_officer_gets_their_own_agency_s_stream(self, world):
        response = world.client("officer_atw").get(stream_url("ATW"))

        assert response.status_code == 200
        assert response.json()["stream"] == "ATW"

    @pytest.mark.parametrize("role", NOT_SEE_ASC)
    def test_everyone_else_gets_404_exactly_as_for_an_unknown_stream(self, world, role):
        client = world.client(role)

        response = client.get(stream_url())

        assert assert_problem(response, 404) == assert_problem(client.get(stream_url("NOPE")), 404)

    def test_a_provider_s_api_key_gets_404(self, world):
        assert_problem(provider_client("bright-care").get(stream_url()), 404)

    @pytest.mark.parametrize("code", ["NOPE", "asc", "A%2FB"])
    def test_an_unknown_stream_is_404_for_finance_too(self, world, code):
        assert_problem(world.client("finance").get(stream_url(code)), 404)

    @pytest.mark.parametrize(("query", "pointer"), BAD_PERIODS)
    def test_a_bad_period_is_400_pointing_at_the_parameter(self, world, query, pointer):
        response = world.client("officer_asc").get(stream_url(query=query))

        body = assert_problem(response, 400, "invalid_period")
        assert [error["pointer"] for error in body["errors"]] == [pointer]

    @pytest.mark.parametrize("accept", ["text/html", "application/xml"])
    def test_a_format_it_does_not_answer_is_406(self, world, accept):
        assert_problem(world.client("finance").get(stream_url(), HTTP_ACCEPT=accept), 406, "not_acceptable")

    def test_the_csv_has_every_person_a_row_read_batch_by_batch(self, world, monkeypatch):
        fund_people(4)
        monkeypatch.setattr(statements_api, "CSV_BATCH", 2)

        response = world.client("officer_asc").get(stream_url(), HTTP_ACCEPT="text/csv")

        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="ASC-statement-{NOV_SLUG}.csv"'
        rows = csv_rows(response)
        assert tuple(rows[0]) == CSV_COLUMNS
        funded = funded_ids()
        assert [row[CSV_COLUMNS.index("person")] for row in rows[1:]] == funded
        assert len(funded) == 5
        expected = "".join(
            agency_csv_rows(
                stream_code="ASC",
                period_from="2026-11-01",
                period_to="2026-11-30",
                currency="GBP",
                lines=selectors.agency_all_lines(stream=stream(), period=NOVEMBER),
            )
        )
        assert rows == list(csv.reader(io.StringIO(expected)))

    def test_the_csv_of_a_stream_funding_nobody_is_its_header(self, world):
        rows = csv_rows(world.client("finance").get(stream_url("SP"), HTTP_ACCEPT="text/csv"))

        assert rows == [list(CSV_COLUMNS)]

    def test_the_pdf_of_the_whole_stream(self, world):
        response = world.client("finance").get(stream_url(), HTTP_ACCEPT=PDF)

        assert response.status_code == 200
        assert response["Content-Type"] == PDF
        assert response.content.startswith(b"%PDF")
        assert response["Content-Disposition"] == f'attachment; filename="ASC-statement-{NOV_SLUG}.pdf"'

    def test_a_csv_or_pdf_for_another_agency_is_a_404_problem(self, world):
        client = world.client("officer_atw")

        assert_problem(client.get(stream_url(), HTTP_ACCEPT="text/csv"), 404)
        assert_problem(client.get(stream_url(), HTTP_ACCEPT=PDF), 404)


class TestStreamStatementPages:
    def test_people_come_a_page_at_a_time_with_totals_for_them_all(self, world):
        fund_people(5)
        client = world.client("finance")
        everyone = funded_ids()
        all_totals = expected_page("ASC", NOVEMBER)["totals"]

        pages, url = [], stream_url(query=f"{NOV}&page_size=2")
        while url:
            body = client.get(url).json()
            pages.append(body)
            url = body["next"]

        assert [[line["person"] for line in page["people"]] for page in pages] == [
            everyone[0:2],
            everyone[2:4],
            everyone[4:6],
        ]
        assert all(page["totals"] == all_totals for page in pages)
        assert all_totals["people"] == 6
        assert pages[0]["previous"] is None
        assert pages[1]["people"] == expected_page("ASC", NOVEMBER, first=2, size=2)["people"]
        back = client.get(pages[2]["previous"]).json()
        assert [line["person"] for line in back["people"]] == everyone[2:4]
        first = client.get(back["previous"]).json()
        assert [line["person"] for line in first["people"]] == everyone[0:2]
        assert first["previous"] is None
        assert first["next"] is not None

    def test_the_next_link_keeps_the_period_and_page_size(self, world):
        fund_people(2)

        body = (
            world.client("finance").get(stream_url(query="from=2026-11-01&to=2026-11-30&page_size=1")).json()
        )

        assert "from=2026-11-01" in body["next"] and "to=2026-11-30" in body["next"]
        assert "page_size=1" in body["next"]

    @pytest.mark.parametrize(("page_size", "shown"), [("0", 3), ("abc", 3), ("1000", 3), ("2", 2)])
    def test_page_size_is_read_as_the_api_s_other_lists_read_it(self, world, page_size, shown):
        fund_people(2)

        body = world.client("finance").get(stream_url(query=f"{NOV}&page_size={page_size}")).json()

        assert len(body["people"]) == shown

    @pytest.mark.parametrize(
        "cursor",
        [
            "garbage!!",
            base64.urlsafe_b64encode(b"n:../etc/passwd").decode(),
            base64.urlsafe_b64encode(b"x:per_abc").decode(),
            base64.urlsafe_b64encode(b"\xff\xfe").decode(),
            "",
        ],
    )
    def test_a_cursor_this_list_did_not_give_is_404(self, world, cursor):
        response = world.client("finance").get(stream_url(query=f"{NOV}&cursor={cursor}"))

        if cursor == "":
            assert response.status_code == 200  # no cursor: the first page
        else:
            assert_problem(response, 404)

    def test_the_queries_do_not_grow_with_the_people(self, world):
        client = world.client("finance")
        url = stream_url()
        client.get(url)  # anything cached once per process is cached now

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            assert response.status_code == 200
            return len(captured)

        few = queries()
        fund_people(12)
        many = queries()

        assert client.get(url).json()["totals"]["people"] == 13
        assert many == few
        assert few <= 20


# Issued statements --------------------------------------------------------------------------------------


class TestIssuedStatements:
    @pytest.mark.parametrize("role", SEE_PERSON)
    def test_the_person_s_issued_statements_for_their_side_and_finance(self, world, role, openapi):
        statement = issued(StatementKind.PERSON, world=world)

        response = world.client(role).get(person_url(world, "issued/"))

        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["next"], body["previous"]) == (None, None)
        assert body["results"] == [
            {
                "id": statement.public_id,
                "kind": "person",
                "person": world.alex.public_id,
                "stream": None,
                "from": "2026-10-01",
                "to": "2026-10-31",
                "pages": statement.pages,
                "sha256": statement.sha256,
                "issued_at": body["results"][0]["issued_at"],
                "run": world.october_run.public_id,
                "url": f"http://testserver/api/v1/statements/{statement.public_id}/",
            }
        ]
        assert_matches(openapi, body["results"][0], "IssuedStatementSummary")

    @pytest.mark.parametrize("role", NOT_SEE_PERSON)
    def test_nobody_else_lists_them(self, world, role):
        assert_problem(world.client(role).get(person_url(world, "issued/")), 404)

    @pytest.mark.parametrize("role", SEE_PERSON)
    def test_a_person_s_issued_statement_is_its_stored_figures(self, world, role, openapi):
        statement = issued(StatementKind.PERSON, world=world)

        response = world.client(role).get(f"/api/v1/statements/{statement.public_id}/")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["figures"] == statement.figures
        assert body["figures"]["person"] == world.alex.public_id
        assert (body["sha256"], body["pages"], body["kind"]) == (statement.sha256, statement.pages, "person")
        assert_matches(openapi, body, "IssuedStatement")

    @pytest.mark.parametrize("role", NOT_SEE_PERSON)
    def test_nobody_else_gets_a_person_s_issued_statement(self, world, role):
        client = world.client(role)
        statement = issued(StatementKind.PERSON, world=world)

        response = client.get(f"/api/v1/statements/{statement.public_id}/")

        nothing = client.get("/api/v1/statements/stm_nothing/")
        assert assert_problem(response, 404) == assert_problem(nothing, 404)
        assert_problem(client.get(f"/api/v1/statements/{statement.public_id}/", HTTP_ACCEPT=PDF), 404)

    def test_the_pdf_is_the_one_issued_byte_for_byte(self, world):
        statement = issued(StatementKind.PERSON, world=world)
        url = f"/api/v1/statements/{statement.public_id}/"
        client = world.client("holder")

        response = client.get(url, HTTP_ACCEPT=PDF)

        assert response.status_code == 200
        assert response["Content-Type"] == PDF
        assert response.content == bytes(statement.pdf)
        assert response.content.startswith(b"%PDF")
        assert (
            response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest() == statement.sha256
        )
        assert response["ETag"] == f'"{statement.sha256}"'
        assert response["Content-Disposition"] == (
            f'attachment; filename="statement-{world.alex.public_id}-2026-10-01-2026-10-31.pdf"'
        )
        again = client.get(url, HTTP_ACCEPT=PDF, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304
        assert again.content == b""
        other = client.get(url, HTTP_ACCEPT=PDF, HTTP_IF_NONE_MATCH='"something-else"')
        assert other.status_code == 200

    def test_an_issued_statement_in_a_format_it_does_not_answer_is_406(self, world):
        statement = issued(StatementKind.PERSON, world=world)

        response = world.client("holder").get(
            f"/api/v1/statements/{statement.public_id}/", HTTP_ACCEPT="text/csv"
        )

        assert_problem(response, 406, "not_acceptable")

    @pytest.mark.parametrize("role", SEE_ASC)
    def test_a_stream_s_issued_statements_for_its_agency_and_finance(self, world, role, openapi):
        statement = issued(StatementKind.AGENCY, world=world)
        client = world.client(role)

        listed = client.get("/api/v1/streams/ASC/statements/issued/")
        detail = client.get(f"/api/v1/statements/{statement.public_id}/")
        pdf = client.get(f"/api/v1/statements/{statement.public_id}/", HTTP_ACCEPT=PDF)

        assert [item["id"] for item in listed.json()["results"]] == [statement.public_id]
        assert listed.json()["results"][0]["stream"] == "ASC"
        assert detail.json()["figures"] == statement.figures
        assert detail.json()["figures"]["stream"] == "ASC"
        assert_matches(openapi, detail.json(), "IssuedStatement")
        assert pdf.content == bytes(statement.pdf)
        assert pdf["Content-Disposition"] == 'attachment; filename="ASC-statement-2026-10-01-2026-10-31.pdf"'

    @pytest.mark.parametrize("role", NOT_SEE_ASC)
    def test_nobody_else_gets_a_stream_s_issued_statements(self, world, role):
        client = world.client(role)
        statement = issued(StatementKind.AGENCY, world=world)

        assert_problem(client.get("/api/v1/streams/ASC/statements/issued/"), 404)
        assert_problem(client.get(f"/api/v1/statements/{statement.public_id}/"), 404)


# Statement runs -----------------------------------------------------------------------------------------

RUNS = "/api/v1/statement-runs/"


def run_url(run) -> str:
    public_id = run if isinstance(run, str) else run.public_id
    return f"{RUNS}{public_id}/"


def november_statements() -> int:
    return len(november_made())


def november_made() -> set[tuple[int, str]]:
    """November's issued statements, as (pk, sha256)."""
    made = IssuedStatement.objects.filter(starts_on=NOVEMBER.starts_on, ends_on=NOVEMBER.ends_on)
    return set(made.values_list("pk", "sha256"))


class TestStatementRunStart:
    @pytest.mark.parametrize("role", RUN_STAFF)
    def test_starts_last_month_s_run_and_it_issues_every_statement(
        self, world, role, django_capture_on_commit_callbacks, openapi
    ):
        client = world.client(role)

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(RUNS, {}, format="json")

        assert response.status_code == 202, response.content
        body = response.json()
        assert (body["from"], body["to"]) == ("2026-11-01", "2026-11-30")
        assert response["Location"] == body["url"] == f"http://testserver{run_url(body['id'])}"
        progress = client.get(run_url(body["id"])).json()
        assert progress["status"] == RunStatus.DONE
        assert progress["total"] == 8  # six active streams, Alex and Sam
        assert (progress["done"], progress["failed"], progress["pending"], progress["percent"]) == (
            8,
            0,
            0,
            100,
        )
        assert progress["finished_at"] is not None
        assert progress["failures"] == []
        assert november_statements() == 8
        assert_matches(openapi, progress, "StatementRunDetail")

    def test_the_same_period_again_answers_the_run_already_started(
        self, world, django_capture_on_commit_callbacks
    ):
        client = world.client("finance")
        with django_capture_on_commit_callbacks(execute=True):
            first = client.post(RUNS, {"from": "2026-11-01", "to": "2026-11-30"}, format="json")

        again = client.post(RUNS, {}, format="json")

        assert (first.status_code, again.status_code) == (202, 200)
        assert again.json()["id"] == first.json()["id"]
        assert StatementRun.objects.filter(starts_on=NOVEMBER.starts_on).count() == 1
        assert november_statements() == 8

    def test_a_period_given_by_its_first_day_is_that_month(self, world):
        response = world.client("finance").post(RUNS, {"from": "2026-09-01"}, format="json")

        assert response.status_code == 202
        assert (response.json()["from"], response.json()["to"]) == ("2026-09-01", "2026-09-30")

    def test_the_same_idempotency_key_replays_the_first_answer(self, world):
        client = world.client("finance")

        first = client.post(RUNS, {}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
        again = client.post(RUNS, {}, format="json", HTTP_IDEMPOTENCY_KEY="k1")

        assert first.status_code == 202
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert again["Idempotent-Replayed"] == "true"
        assert StatementRun.objects.count() == 2  # October's and this one

    @pytest.mark.parametrize(
        ("body", "pointer"),
        [
            ({"from": "2026-13-01"}, "/from"),
            ({"to": "30/11/2026"}, "/to"),
            ({"from": "2026-11-10", "to": "2026-11-01"}, "/to"),
            ({"from": "2025-01-01", "to": "2026-01-02"}, "/to"),
        ],
    )
    def test_a_bad_period_is_400_and_starts_nothing(self, world, body, pointer):
        response = world.client("finance").post(RUNS, body, format="json")

        problem = assert_problem(response, 400, "invalid_period")
        assert [error["pointer"] for error in problem["errors"]] == [pointer]
        assert StatementRun.objects.count() == 1

    @pytest.mark.parametrize("body", [[], {"from": ["2026-11-01"]}, {"to": {"day": 1}}])
    def test_a_malformed_body_is_400_and_starts_nothing(self, world, body):
        assert_problem(world.client("finance").post(RUNS, body, format="json"), 400)
        assert StatementRun.objects.count() == 1

    @pytest.mark.parametrize(
        "body", [{"from": "2026-12-01"}, {"from": "2026-11-15", "to": "2026-12-02"}, {"from": "2027-01-01"}]
    )
    def test_a_period_not_yet_over_is_422_and_starts_nothing(self, world, body):
        assert_problem(world.client("finance").post(RUNS, body, format="json"), 422, "period_not_ended")
        assert StatementRun.objects.count() == 1

    @pytest.mark.parametrize("role", NOT_RUN_STAFF)
    def test_nobody_else_starts_or_sees_runs(self, world, role):
        client = world.client(role)
        october = world.october_run

        assert_problem(client.post(RUNS, {}, format="json"), 404)
        assert_problem(client.get(RUNS), 404)
        assert_problem(client.get(run_url(october)), 404)
        assert_problem(client.post(f"{run_url(october)}resume/", {}, format="json"), 404)
        assert_problem(client.post(f"{run_url(october)}retry/", {}, format="json"), 404)
        assert StatementRun.objects.count() == 1

    def test_a_provider_s_api_key_gets_404(self, world):
        assert_problem(provider_client("bright-care").post(RUNS, {}, format="json"), 404)
        assert StatementRun.objects.count() == 1

    def test_an_unknown_run_is_404(self, world):
        client = world.client("finance")

        assert_problem(client.get(run_url("run_nothing")), 404)
        assert_problem(client.post(f"{run_url('run_nothing')}resume/", {}, format="json"), 404)


class TestStatementRunList:
    def test_newest_period_first_with_each_run_s_progress(self, world):
        services.statement_run_start(period=NOVEMBER, by=None)  # listed; its tasks never run here
        client = world.client("admin")

        body = client.get(RUNS).json()

        assert [(run["from"], run["status"]) for run in body["results"]] == [
            ("2026-11-01", RunStatus.RUNNING),
            ("2026-10-01", RunStatus.DONE),
        ]
        assert [(run["done"], run["pending"]) for run in body["results"]] == [(0, 8), (8, 0)]
        page = client.get(f"{RUNS}?page_size=1").json()
        assert [run["from"] for run in page["results"]] == ["2026-11-01"]
        assert [run["from"] for run in client.get(page["next"]).json()["results"]] == ["2026-10-01"]

    def test_a_cursor_this_list_did_not_give_is_404(self, world):
        assert_problem(world.client("finance").get(f"{RUNS}?cursor=nonsense"), 404)


class TestStatementRunResumeAndRetry:
    def test_resume_sends_the_statements_still_waiting(self, world, django_capture_on_commit_callbacks):
        client = world.client("finance")
        started = client.post(RUNS, {}, format="json").json()  # its tasks never run: as after a crash
        assert (started["pending"], started["status"]) == (8, RunStatus.RUNNING)

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{run_url(started['id'])}resume/", {}, format="json")

        assert response.status_code == 202
        progress = client.get(run_url(started["id"])).json()
        assert (progress["status"], progress["done"], progress["pending"]) == (RunStatus.DONE, 8, 0)
        assert november_statements() == 8
        nothing_left = client.post(f"{run_url(started['id'])}resume/", {}, format="json")
        assert_problem(nothing_left, 409, "run_not_resumable")

    def test_retry_makes_only_the_failed_statements_again(
        self, world, monkeypatch, django_capture_on_commit_callbacks
    ):
        real = services.person_document

        def fails_for_alex(*, budget_holder, period):
            if budget_holder.pk == world.alex.pk:
                raise RuntimeError("The printer caught fire")
            return real(budget_holder=budget_holder, period=period)

        monkeypatch.setattr(services, "person_document", fails_for_alex)
        client = world.client("finance")
        with django_capture_on_commit_callbacks(execute=True):
            started = client.post(RUNS, {}, format="json").json()

        failed = client.get(run_url(started["id"])).json()
        assert (failed["status"], failed["done"], failed["failed"], failed["pending"]) == (
            RunStatus.DONE_WITH_FAILURES,
            7,
            1,
            0,
        )
        assert [(f["kind"], f["person"], f["stream"], f["attempts"]) for f in failed["failures"]] == [
            ("person", world.alex.public_id, None, 1)
        ]
        assert failed["failures"][0]["error"] == "RuntimeError: The printer caught fire"
        made_first = november_made()
        assert len(made_first) == 7
        assert_problem(
            client.post(f"{run_url(started['id'])}resume/", {}, format="json"), 409, "run_not_resumable"
        )

        monkeypatch.setattr(services, "person_document", real)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{run_url(started['id'])}retry/", {}, format="json")

        assert response.status_code == 202
        done = client.get(run_url(started["id"])).json()
        assert (done["status"], done["done"], done["failed"], done["failures"]) == (RunStatus.DONE, 8, 0, [])
        made_now = november_made()
        assert made_first < made_now and len(made_now) == 8
        assert IssuedStatement.objects.get(starts_on=NOVEMBER.starts_on, budget_holder=world.alex).pk not in {
            pk for pk, _ in made_first
        }

    def test_retry_with_nothing_failed_is_409(self, world):
        response = world.client("finance").post(f"{run_url(world.october_run)}retry/", {}, format="json")

        assert_problem(response, 409, "run_not_resumable")


# The schema ---------------------------------------------------------------------------------------------


class TestSchema:
    OPERATIONS = {
        ("/api/v1/people/{per}/statements/", "get"): "people_statements_retrieve",
        ("/api/v1/people/{per}/statements/issued/", "get"): "people_statements_issued_list",
        ("/api/v1/streams/{code}/statements/", "get"): "streams_statements_retrieve",
        ("/api/v1/streams/{code}/statements/issued/", "get"): "streams_statements_issued_list",
        ("/api/v1/statements/{stm}/", "get"): "statements_retrieve",
        ("/api/v1/statement-runs/", "get"): "statement_runs_list",
        ("/api/v1/statement-runs/", "post"): "statement_runs_create",
        ("/api/v1/statement-runs/{run}/", "get"): "statement_runs_retrieve",
        ("/api/v1/statement-runs/{run}/resume/", "post"): "statement_runs_resume",
        ("/api/v1/statement-runs/{run}/retry/", "post"): "statement_runs_retry",
    }

    def test_every_operation_is_documented_with_its_formats(self, openapi):
        for (path, method), operation_id in self.OPERATIONS.items():
            assert openapi["paths"][path][method]["operationId"] == operation_id
        person = openapi["paths"]["/api/v1/people/{per}/statements/"]["get"]["responses"]
        assert set(person["200"]["content"]) == {"application/json", PDF}
        assert set(person["404"]["content"]) == {PROBLEM}
        stream_statement = openapi["paths"]["/api/v1/streams/{code}/statements/"]["get"]
        assert set(stream_statement["responses"]["200"]["content"]) == {"application/json", "text/csv", PDF}
        assert {"from", "to", "cursor", "page_size"} <= {p["name"] for p in stream_statement["parameters"]}
