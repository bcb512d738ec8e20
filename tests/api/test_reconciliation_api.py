"""The reconciliation API (api/reconciliation.py): the accounts and their CSV mapping, importing statement
files (the good, the same again, the malformed, the bad input), the lines and what each matched and why,
matching by hand and undoing it (with the ledger checked), suggestions confirmed and rejected, the report
and reconciled periods; who may (finance officers, administrators) and who may not (404 for everyone else,
401 without credentials); a query count that does not grow with the lines.

The world: the real bank and Stripe reconciliation accounts (`reconciliation_accounts_ensure`, no account
identifier so that the fixtures' IBAN is accepted), "today" 3 December 2026, and ledger transactions that
the good camt.053 fixture (tests/ledger/reconciliation/fixtures/camt053_v02_good.xml, 2 to 6 November 2026)
matches: entry 1 (Norfolk's 4,850.00) by reference, entry 2 (a Bacs file of three payments, 1,240.50) as a
batch, entry 3 (Anna's 96.00) by reference; entry 7 (a 25.00 gift) is suggested, the nearest of two
25.00 receipts; entries 4, 5 and 6 match nothing.
"""

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from ledger import services as ledger_services
from ledger.models import Account, AccountType, PeriodClose, Side, Transaction
from ledger.reconciliation.models import (
    LineState,
    MatchStatus,
    ReconciledPeriod,
    ReconciliationAccount,
    ReconciliationMatch,
    StatementImport,
    StatementLine,
)
from ledger.selectors import account_balance
from payments import accounts
from payments.reconciliation import reconciliation_accounts_ensure
from people import services as people_services
from people.models import AuditEvent
from tests.api.plans_world import client_for, install_clock
from tests.ledger.reconciliation.test_matching import MAPPING, csv_file
from tests.people.factories import (
    AdministratorFactory,
    AgencyOfficerFactory,
    BudgetHolderFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderFactory,
    ProviderUserFactory,
    RepresentativeFactory,
)

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
BASE = "/api/v1/reconciliation/"
ACCOUNTS = f"{BASE}accounts/"
IMPORTS = f"{BASE}imports/"
FIXTURES = Path(__file__).parents[1] / "ledger" / "reconciliation" / "fixtures"
TODAY = date(2026, 12, 3)
RECONCILERS = ("finance", "admin")
NOT_RECONCILERS = ("holder", "representative", "navigator", "agency_officer", "provider_user", "provider_key")
# bank_good.csv and bank_wrong_balance.csv: paid in and paid out columns.
PAID_IN_OUT = {
    "date_column": "Date",
    "paid_in_column": "Paid in",
    "paid_out_column": "Paid out",
    "reference_column": "Reference",
    "description_column": "Description",
    "balance_column": "Balance",
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class World:
    """The reconciliation accounts, the ledger accounts behind them, and everyone who might ask."""

    def __init__(self) -> None:
        self.bank, self.stripe = reconciliation_accounts_ensure()
        self.cash = accounts.cash_account(where="bank", currency="GBP")
        self.transit = accounts.clearing_account(rail="bacs", currency="GBP")
        self.receivable = self._account("test:receivable", AccountType.ASSET)
        self.payable = self._account("test:payable", AccountType.LIABILITY)
        self.count = 0
        provider = ProviderFactory()
        _, key = people_services.provider_api_key_issue(provider=provider, name="tests", issued_by=None)
        self.provider_key = key
        self.users = {
            "finance": FinanceOfficerFactory(),
            "admin": AdministratorFactory(),
            "holder": BudgetHolderFactory().user,
            "representative": RepresentativeFactory().user,
            "navigator": NavigatorFactory(),
            "agency_officer": AgencyOfficerFactory(),
            "provider_user": ProviderUserFactory(organisation=provider),
            "anonymous": AnonymousUser(),
        }
        self._clients: dict[str, APIClient] = {}

    @staticmethod
    def _account(key: str, type: str) -> Account:
        return ledger_services.account_get_or_create(
            key=key, name=key, type=type, currency="GBP", allow_negative=True, owner_type="test", owner_id=key
        )

    def client(self, role: str = "finance") -> APIClient:
        if role not in self._clients:
            if role == "provider_key":
                client = APIClient()
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.provider_key}")
            else:
                client = client_for(self.users[role])
            self._clients[role] = client
        return self._clients[role]

    def post(self, debit: Account, credit: Account, amount: int, on: date, description: str, **metadata):
        self.count += 1
        return ledger_services.transaction_post(
            idempotency_key=f"test-recon-{self.count}",
            currency="GBP",
            effective_on=on,
            description=description,
            postings=[
                ledger_services.PostingSpec(account=debit, side=Side.DEBIT, amount_minor=amount),
                ledger_services.PostingSpec(account=credit, side=Side.CREDIT, amount_minor=amount),
            ],
            metadata=metadata,
        )

    def funding(self, amount: int, on: date, reference: str) -> Transaction:
        return self.post(
            self.cash, self.receivable, amount, on, f"Funding, reference {reference}", reference=reference
        )

    def bacs_payment(self, amount: int, on: date, payment: str, bacs_file: str) -> Transaction:
        return self.post(
            self.payable, self.transit, amount, on, f"Payment {payment}", payment=payment, bacs_file=bacs_file
        )

    def camt_transactions(self) -> dict[str, Transaction]:
        """What the good camt.053 statement's lines match (see the module docstring)."""
        made = {"norfolk": self.funding(485_000, date(2026, 11, 2), "DEMO-ASC-2026-11")}
        for payment, amount in (
            ("pay_k7g57jmjtnsuje", 31_875),
            ("pay_r3m8zq2wxkd4ta", 9_600),
            ("pay_t9v2lb6nhc3e8q", 82_575),
        ):
            made[payment] = self.bacs_payment(amount, date(2026, 11, 2), payment, "bacs_7h2k9m4q")
        made["anna"] = self.bacs_payment(9_600, date(2026, 11, 3), "pay_w4xj7d2k9plm3r", "bacs_other")
        made["gift_a"] = self.post(self.cash, self.receivable, 2_500, date(2026, 11, 5), "Gift A")
        made["gift_b"] = self.post(self.cash, self.receivable, 2_500, date(2026, 11, 6), "Gift B")
        return made

    def upload(
        self,
        content: bytes,
        *,
        name: str = "statement",
        account: Any = None,
        role: str = "finance",
        **fields: Any,
    ):
        """POST a statement file as multipart."""
        data = {"account": (account or self.bank).public_id, "file": SimpleUploadedFile(name, content)}
        data.update(fields)
        return self.client(role).post(IMPORTS, data, format="multipart")

    def import_camt(self) -> dict[str, Any]:
        response = self.upload(fixture("camt053_v02_good.xml"), name="camt053_v02_good.xml")
        assert response.status_code == 201, response.content
        return response.json()


@pytest.fixture
def world(settings, monkeypatch) -> World:
    settings.BACS_SORT_CODE = ""
    settings.BACS_ACCOUNT_NUMBER = ""
    install_clock(monkeypatch, TODAY)
    return World()


@pytest.fixture
def imported(world) -> dict[str, Any]:
    """The good camt.053 statement, imported and matched."""
    world.camt_transactions()
    return world.import_camt()


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
        assert body["type"].endswith(f"/{code}"), body
    return body


def pointers(response) -> list[tuple[str, str]]:
    return [(error["code"], error["pointer"]) for error in response.json()["errors"]]


def private(response) -> bool:
    return {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}


def line(number: int, statement: StatementImport | str | None = None) -> StatementLine:
    lines = StatementLine.objects.filter(line_number=number)
    if statement is not None:
        public_id = statement if isinstance(statement, str) else statement.public_id
        lines = lines.filter(statement_import__public_id=public_id)
    return lines.get()


def line_url(found: StatementLine, suffix: str = "") -> str:
    return f"{BASE}lines/{found.public_id}/{suffix}"


def suggestion_of(found: StatementLine) -> ReconciliationMatch:
    return ReconciliationMatch.objects.get(line=found, status=MatchStatus.SUGGESTED)


def ledger_state(world: World) -> tuple:
    """What a refused request must leave as it was."""
    return (
        StatementImport.objects.count(),
        StatementLine.objects.count(),
        sorted(StatementLine.objects.values_list("public_id", "state")),
        sorted(ReconciliationMatch.objects.values_list("public_id", "status")),
        Transaction.objects.count(),
        account_balance(account=world.cash).posted_minor,
        account_balance(account=world.transit).posted_minor,
        ReconciledPeriod.objects.count(),
    )


# Who may --------------------------------------------------------------------------------------------------


def _every_endpoint(world: World, statement: dict) -> list[tuple[str, str, dict]]:
    """(method, url, body) of every reconciliation endpoint, naming real records."""
    some_line = line(4, statement["id"])
    suggested = suggestion_of(line(7, statement["id"]))
    account = f"{ACCOUNTS}{world.bank.public_id}/"
    return [
        ("get", ACCOUNTS, {}),
        ("put", f"{account}csv-mapping/", MAPPING),
        ("get", f"{account}report/?start=2026-11-01&end=2026-11-30", {}),
        ("get", f"{account}periods/", {}),
        ("post", f"{account}periods/", {"period_start": "2026-11-01", "period_end": "2026-11-30"}),
        ("get", IMPORTS, {}),
        ("post", IMPORTS, {}),
        ("get", f"{IMPORTS}{statement['id']}/", {}),
        ("get", f"{IMPORTS}{statement['id']}/lines/", {}),
        ("get", line_url(some_line), {}),
        ("post", line_url(some_line, "match/"), {"ledger_items": [Transaction.objects.first().public_id]}),
        ("post", line_url(line(1, statement["id"]), "unmatch/"), {}),
        ("post", f"{BASE}matches/{suggested.public_id}/confirm/", {}),
        ("post", f"{BASE}matches/{suggested.public_id}/reject/", {}),
    ]


class TestWhoMay:
    @pytest.mark.parametrize("role", NOT_RECONCILERS)
    def test_everyone_but_finance_is_answered_404_on_every_endpoint_and_changes_nothing(
        self, world, imported, role
    ):
        before = ledger_state(world)
        mapping_before = ReconciliationAccount.objects.get(pk=world.bank.pk).csv_mapping

        for method, url, body in _every_endpoint(world, imported):
            response = getattr(world.client(role), method)(url, body, format="json")

            assert_problem(response, 404, "not_found")
            assert "statement" not in response.json()["detail"].lower(), (method, url)

        assert ledger_state(world) == before
        assert ReconciliationAccount.objects.get(pk=world.bank.pk).csv_mapping == mapping_before

    def test_no_credentials_is_401_on_every_endpoint(self, world, imported):
        for method, url, body in _every_endpoint(world, imported):
            response = getattr(world.client("anonymous"), method)(url, body, format="json")

            assert_problem(response, 401, "not_authenticated")

    def test_an_import_by_someone_else_imports_nothing(self, world):
        response = world.upload(fixture("camt053_v02_good.xml"), role="navigator")

        assert_problem(response, 404)
        assert not StatementImport.objects.exists()

    @pytest.mark.parametrize("role", RECONCILERS)
    def test_finance_officers_and_administrators_may(self, world, imported, role):
        client = world.client(role)
        for method, url, _ in _every_endpoint(world, imported):
            if method == "get":
                assert client.get(url).status_code == 200, url
        response = client.post(line_url(line(4, imported["id"]), "unmatch/"), {}, format="json")
        assert_problem(response, 409, "match_conflict")  # allowed, but the line is not matched

    def test_a_record_that_does_not_exist_is_404(self, world):
        client = world.client()
        for url in (
            f"{ACCOUNTS}rca_nothing/report/?start=2026-11-01&end=2026-11-30",
            f"{ACCOUNTS}rca_nothing/periods/",
            f"{IMPORTS}imp_nothing/",
            f"{IMPORTS}imp_nothing/lines/",
            f"{BASE}lines/stl_nothing/",
        ):
            assert_problem(client.get(url), 404, "not_found")
        assert_problem(client.post(f"{BASE}lines/stl_nothing/match/", {}, format="json"), 404)
        assert_problem(client.post(f"{BASE}matches/rcm_nothing/confirm/", {}, format="json"), 404)
        assert_problem(client.put(f"{ACCOUNTS}rca_nothing/csv-mapping/", MAPPING, format="json"), 404)


# Accounts -------------------------------------------------------------------------------------------------


class TestAccounts:
    def test_the_accounts_are_made_on_first_use_and_listed(self, world, openapi):
        ReconciliationAccount.objects.all().delete()

        response = world.client().get(ACCOUNTS)

        assert response.status_code == 200, response.content
        assert private(response)
        body = response.json()
        bank, stripe = ReconciliationAccount.objects.order_by("name")
        assert body == {
            "results": [
                {
                    "id": bank.public_id,
                    "name": "Council bank account (GBP)",
                    "kind": "bank",
                    "currency": "GBP",
                    "identifier": "",
                    "has_csv_mapping": False,
                    "csv_mapping": None,
                    "reconciled_through": None,
                },
                {
                    "id": stripe.public_id,
                    "name": "Stripe balance (GBP)",
                    "kind": "stripe",
                    "currency": "GBP",
                    "identifier": "",
                    "has_csv_mapping": False,
                    "csv_mapping": None,
                    "reconciled_through": None,
                },
            ],
            "next": None,
            "previous": None,
        }
        for entry in body["results"]:
            assert_matches(openapi, entry, "ReconciliationAccount")

    def test_the_list_is_paginated(self, world):
        first = world.client().get(ACCOUNTS, {"page_size": 1}).json()

        assert len(first["results"]) == 1 and first["next"]
        second = world.client().get(first["next"]).json()
        assert [entry["kind"] for entry in first["results"] + second["results"]] == ["bank", "stripe"]

    def test_saving_a_csv_mapping(self, world):
        url = f"{ACCOUNTS}{world.bank.public_id}/csv-mapping/"

        response = world.client().put(url, PAID_IN_OUT, format="json")

        assert response.status_code == 200, response.content
        assert private(response)
        body = response.json()
        assert body["has_csv_mapping"] is True
        assert body["csv_mapping"]["paid_in_column"] == "Paid in"
        assert body["csv_mapping"]["date_format"] == "%d/%m/%Y"
        world.bank.refresh_from_db()
        assert world.bank.csv_mapping["paid_out_column"] == "Paid out"
        assert AuditEvent.objects.filter(action="reconciliation.csv_mapping_saved").count() == 1
        # A CSV statement is then read with it.
        imported = world.upload(fixture("bank_good.csv"), name="bank_good.csv")
        assert imported.status_code == 201, imported.content
        assert imported.json()["format"] == "csv" and imported.json()["lines"] == 8

    @pytest.mark.parametrize(
        ("mapping", "words"),
        [
            ({**PAID_IN_OUT, "amount_column": "Amount"}, "both an amount column and paid in"),
            ({"date_column": "Date"}, "must name the amount column"),
            ({**MAPPING, "date_format": "%m/%Y"}, "must have a day, a month and a year"),
            ({**MAPPING, "delimiter": "ab"}, "delimiter"),
            ({**MAPPING, "amount_colum": "Amount"}, "does not know: amount_colum"),
        ],
    )
    def test_a_mapping_that_cannot_be_used_is_422_saying_why_and_nothing_is_saved(
        self, world, mapping, words
    ):
        response = world.client().put(
            f"{ACCOUNTS}{world.bank.public_id}/csv-mapping/", mapping, format="json"
        )

        body = assert_problem(response, 422, "invalid_csv_mapping")
        assert words in body["detail"]
        assert pointers(response) == [("invalid_csv_mapping", "")]
        world.bank.refresh_from_db()
        assert world.bank.csv_mapping is None

    @pytest.mark.parametrize(
        ("mapping", "pointer"),
        [
            ({**MAPPING, "skip_lines": "two"}, "/skip_lines"),
            ({**MAPPING, "decimal_comma": "perhaps"}, "/decimal_comma"),
            ({**MAPPING, "amount_column": {"name": "Amount"}}, "/amount_column"),
            ({"amount_column": "Amount"}, "/date_column"),
        ],
    )
    def test_a_mapping_of_the_wrong_types_is_400_naming_the_field(self, world, mapping, pointer):
        response = world.client().put(
            f"{ACCOUNTS}{world.bank.public_id}/csv-mapping/", mapping, format="json"
        )

        assert_problem(response, 400, "invalid_request")
        assert [p for _, p in pointers(response)] == [pointer]
        world.bank.refresh_from_db()
        assert world.bank.csv_mapping is None

    def test_a_body_that_is_not_an_object_is_400(self, world):
        url = f"{ACCOUNTS}{world.bank.public_id}/csv-mapping/"

        assert_problem(world.client().put(url, ["Date"], format="json"), 400)
        assert_problem(
            world.client().put(url, "{", content_type="application/json"), 400, "malformed_request"
        )


# Imports --------------------------------------------------------------------------------------------------


class TestImport:
    def test_a_camt053_statement_is_imported_and_matched(self, world, openapi):
        world.camt_transactions()

        response = world.upload(fixture("camt053_v02_good.xml"), name="camt053_v02_good.xml")

        assert response.status_code == 201, response.content
        assert private(response)
        body = response.json()
        statement = StatementImport.objects.get()
        assert {
            key: body[key]
            for key in (
                "id",
                "account",
                "format",
                "status",
                "lines",
                "matched",
                "suggested",
                "unmatched",
                "opening_balance",
                "closing_balance",
                "currency",
            )
        } == {
            "id": statement.public_id,
            "account": world.bank.public_id,
            "format": "camt053",
            "status": "done",
            "lines": 7,
            "matched": 3,
            "suggested": 1,
            "unmatched": 3,
            "opening_balance": "10000.00",
            "closing_balance": "13526.00",
            "currency": "GBP",
        }
        assert (body["lines_new"], body["lines_already_imported"], body["lines_checked"]) == (7, 0, 7)
        assert (body["period_start"], body["period_end"]) == ("2026-11-02", "2026-11-06")
        assert body["file_name"] == "camt053_v02_good.xml"
        assert body["imported_by"] == world.users["finance"].username
        assert body["created_at"].endswith("Z") and body["finished_at"].endswith("Z")
        assert response["Location"] == body["url"]
        assert body["url"].endswith(f"{IMPORTS}{statement.public_id}/")
        assert_matches(openapi, body, "StatementImport")
        # The Bacs file's payments (and Anna's) were on their way: the statement settled them.
        assert account_balance(account=world.transit).posted_minor == 0
        assert account_balance(account=world.cash).posted_minor == 485_000 + 5_000 - 124_050 - 9_600
        assert AuditEvent.objects.filter(
            action="reconciliation.imported", object_id=statement.public_id
        ).exists()

    def test_the_same_file_again_is_409_naming_the_first_and_imports_nothing(self, world, imported):
        before = ledger_state(world)

        again = world.upload(fixture("camt053_v02_good.xml"), name="again.xml")

        body = assert_problem(again, 409, "duplicate_import")
        assert body["first_import"] == imported["id"]
        assert imported["id"] in body["detail"]
        assert pointers(again) == [("duplicate_import", "/file")]
        assert ledger_state(world) == before

    def test_an_overlapping_statement_skips_the_lines_already_imported(self, world):
        first = world.upload(
            csv_file([(date(2026, 11, 2), 777, "A", ""), (date(2026, 11, 3), 100, "B", "")]),
            csv_mapping=json.dumps(MAPPING),
        )
        assert first.status_code == 201, first.content

        second = world.upload(
            csv_file([(date(2026, 11, 3), 100, "B", ""), (date(2026, 11, 4), 5, "C", "")], opening=100_777)
        )

        assert second.status_code == 201, second.content
        body = second.json()
        assert (body["lines"], body["lines_new"], body["lines_already_imported"]) == (2, 1, 1)
        assert body["matched"] + body["suggested"] + body["unmatched"] == 1

    @pytest.mark.parametrize(
        ("name", "fields", "problems"),
        [
            (
                "bank_wrong_balance.csv",
                {"csv_mapping": json.dumps(PAID_IN_OUT)},
                [
                    (
                        4,
                        "Line 4: the balance 14,231.90 does not add up: the balance before plus this line's "
                        "amount (-1,240.50) makes 14,221.90, a difference of 10.00.",
                    )
                ],
            ),
            (
                "mt940_bad_lines.sta",
                {},
                [
                    (13, "Line 13: the value date '261131' is not a real date (YYMMDD)."),
                    (17, "Line 17: the amount '12,505' has more decimals than GBP allows."),
                ],
            ),
            (
                "camt053_bad_entries.xml",
                {"format": "camt053"},
                [
                    (1, "Entry 1: the amount '4850.001' has more decimals than GBP allows (2 decimals)."),
                    (3, "Entry 3: the credit or debit mark 'DEBIT' is not CRDT or DBIT."),
                    (6, "Entry 6: the entry has no booking date (BookgDt)."),
                ],
            ),
        ],
    )
    def test_a_malformed_file_is_422_naming_each_line_and_reason_and_imports_nothing(
        self, world, openapi, name, fields, problems
    ):
        world.camt_transactions()
        before = ledger_state(world)

        response = world.upload(fixture(name), name=name, **fields)

        body = assert_problem(response, 422, "invalid_statement_file")
        assert [(error["line"], error["detail"]) for error in body["errors"]] == problems
        assert {(error["code"], error["pointer"]) for error in body["errors"]} == {
            ("invalid_statement_file", "/file")
        }
        assert body["detail"] == problems[0][1]
        assert body["more"] == 0
        assert_matches(openapi, body, "StatementFileProblem")
        assert ledger_state(world) == before
        world.bank.refresh_from_db()
        assert world.bank.csv_mapping is None  # a mapping sent with a refused file is not saved either

    def test_a_file_purse_cannot_tell_is_422_for_the_file_as_a_whole(self, world):
        response = world.upload(b"%PDF-1.7 not a statement", name="statement.pdf")

        body = assert_problem(response, 422, "invalid_statement_file")
        assert body["errors"][0]["line"] is None and "PDF" in body["detail"]
        assert not StatementImport.objects.exists()

    @pytest.mark.parametrize(
        ("content", "fields", "number"),
        [
            (csv_file([(date(2026, 11, 2), 777, "A\x00B", "")]), {"csv_mapping": json.dumps(MAPPING)}, 2),
            (fixture("mt940_good.sta").replace(b"NORFOLK COUNTY", b"NORFOLK\x00COUNTY"), {}, 6),
            (fixture("camt053_v02_good.xml").replace(b"GIFT FOR MUM", b"GIFT\x00"), {}, 152),
        ],
    )
    def test_a_file_with_a_nul_character_is_422_naming_its_line(self, world, content, fields, number):
        # The readers would keep it in a line's reference or description, which PostgreSQL cannot store.
        response = world.upload(content, **fields)

        body = assert_problem(response, 422, "invalid_statement_file")
        assert [error["line"] for error in body["errors"]] == [number]
        assert body["detail"].startswith(f"Line {number}: there is a NUL character")
        assert not StatementImport.objects.exists()

    def test_a_utf16_csv_file_is_read_with_its_mapping(self, world):
        text = "Date,Amount,Reference,Description,Balance\n02/11/2026,7.77,AB,Café,7.77\n"

        mapping = json.dumps({**MAPPING, "encoding": "utf-16"})

        response = world.upload(text.encode("utf-16"), csv_mapping=mapping)

        assert response.status_code == 201, response.content
        assert StatementLine.objects.get().description == "Café"

    def test_a_csv_file_with_its_mapping_is_imported_and_the_mapping_saved(self, world):
        world.funding(50_000, date(2026, 11, 2), "FUND-NOV001")

        response = world.upload(
            csv_file([(date(2026, 11, 2), 50_000, "FUND-NOV001", "AGENCY")], opening=0),
            name="s.csv",
            format="csv",
            csv_mapping=json.dumps(MAPPING),
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["format"], body["matched"], body["opening_balance"], body["closing_balance"]) == (
            "csv",
            1,
            "0.00",
            "500.00",
        )
        world.bank.refresh_from_db()
        assert world.bank.csv_mapping["amount_column"] == "Amount"

    @pytest.mark.parametrize(
        ("data", "status", "code", "pointer"),
        [
            ({"file": None}, 400, "required", "/file"),
            ({"account": None}, 400, "required", "/account"),
            ({"account": "rca_nothing"}, 422, "unknown_account", "/account"),
            ({"format": "xls"}, 400, "invalid_choice", "/format"),
            ({"file": b""}, 422, "invalid_import", "/file"),
            ({"format": "mt940"}, 422, "invalid_statement_file", "/file"),
            ({"csv_mapping": "{not json"}, 400, "invalid", "/csv_mapping"),
            ({"csv_mapping": "[]"}, 400, "invalid", "/csv_mapping"),
            (
                {"csv_mapping": json.dumps({**MAPPING, "skip_lines": "x"})},
                400,
                "invalid",
                "/csv_mapping/skip_lines",
            ),
            (
                {"csv_mapping": json.dumps({**MAPPING, "paid_in_column": "In"})},
                422,
                "invalid_csv_mapping",
                "/csv_mapping",
            ),
        ],
    )
    def test_bad_input_is_a_problem_naming_the_field_and_imports_nothing(
        self, world, data, status, code, pointer
    ):
        form: dict[str, Any] = {
            "account": world.bank.public_id,
            "file": SimpleUploadedFile("s.xml", fixture("camt053_v02_good.xml")),
        }
        for key, value in data.items():
            if value is None:
                form.pop(key)
            elif key == "file":
                form[key] = SimpleUploadedFile("s.xml", value)
            else:
                form[key] = value
        before = ledger_state(world)

        response = world.client().post(IMPORTS, form, format="multipart")

        assert_problem(response, status)
        assert pointers(response) == [(code, pointer)]
        assert ledger_state(world) == before

    def test_a_csv_file_without_a_mapping_is_422_asking_for_one(self, world):
        response = world.upload(fixture("bank_good.csv"), name="bank_good.csv", format="csv")

        body = assert_problem(response, 422, "invalid_csv_mapping")
        assert "column mapping" in body["detail"]
        assert pointers(response) == [("invalid_csv_mapping", "/csv_mapping")]
        assert not StatementImport.objects.exists()

    def test_a_statement_of_another_account_is_422_and_imports_nothing(self, world):
        ReconciliationAccount.objects.filter(pk=world.bank.pk).update(identifier="40404087654321")

        response = world.upload(fixture("mt940_good.sta"), name="s.sta")

        body = assert_problem(response, 422, "wrong_account")
        assert "20000012345678" in body["detail"]
        assert pointers(response) == [("wrong_account", "/account")]
        assert not StatementImport.objects.exists()

    def test_json_is_415_the_file_is_uploaded_as_a_form(self, world):
        response = world.client().post(IMPORTS, {"account": world.bank.public_id}, format="json")

        assert_problem(response, 415)
        assert not StatementImport.objects.exists()

    def test_a_large_file_is_processing_with_progress_then_done(
        self, world, settings, django_capture_on_commit_callbacks
    ):
        settings.RECONCILIATION_SYNC_LINES = 2
        settings.RECONCILIATION_BATCH_LINES = 2
        rows = []
        for day in range(2, 7):
            world.funding(1_000 + day, date(2026, 11, day), f"FUND-{day:03d}X")
            rows.append((date(2026, 11, day), 1_000 + day, f"FUND-{day:03d}X", ""))

        with django_capture_on_commit_callbacks(execute=True) as queued:
            response = world.upload(csv_file(rows), csv_mapping=json.dumps(MAPPING))

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["status"], body["lines_new"], body["lines_checked"], body["finished_at"]) == (
            "processing",
            5,
            0,
            None,
        )
        assert len(queued) == 1  # matched on the workers (eager in the tests) once committed
        done = world.client().get(body["url"])
        assert done.status_code == 200 and private(done)
        assert {key: done.json()[key] for key in ("status", "lines_checked", "matched", "unmatched")} == {
            "status": "done",
            "lines_checked": 5,
            "matched": 5,
            "unmatched": 0,
        }

    def test_the_same_idempotency_key_replays_the_import(self, world):
        world.camt_transactions()
        client = world.client()

        def send():
            form = {
                "account": world.bank.public_id,
                "file": SimpleUploadedFile("s.xml", fixture("camt053_v02_good.xml")),
            }
            return client.post(IMPORTS, form, format="multipart", HTTP_IDEMPOTENCY_KEY="import-1")

        first, again = send(), send()

        assert first.status_code == 201, first.content
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert again["Idempotent-Replayed"] == "true"
        assert StatementImport.objects.count() == 1

    def test_a_retry_with_a_new_multipart_boundary_is_a_replay_and_another_file_is_not(self, world):
        from django.test.client import encode_multipart

        world.camt_transactions()
        client = world.client()

        def send(boundary, content):
            form = {"account": world.bank.public_id, "file": SimpleUploadedFile("s.xml", content)}
            return client.generic(
                "POST",
                IMPORTS,
                encode_multipart(boundary, form),
                content_type=f"multipart/form-data; boundary={boundary}",
                HTTP_IDEMPOTENCY_KEY="import-2",
            )

        first = send("BoundaryOne", fixture("camt053_v02_good.xml"))
        again = send("AnotherBoundary", fixture("camt053_v02_good.xml"))
        other = send("BoundaryOne", fixture("camt053_v08_two_days.xml"))

        assert first.status_code == 201, first.content
        assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
        assert other.status_code == 422 and other.json()["type"].endswith("/idempotency_key_reused")
        assert StatementImport.objects.count() == 1

    def test_a_file_larger_than_the_form_memory_limit_is_read_with_an_idempotency_key(self, world, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
        rows = [(date(2026, 11, 2), 100 + index, f"R{index}", "") for index in range(200)]
        content = csv_file(rows)
        assert len(content) > 1_000
        form = {
            "account": world.bank.public_id,
            "file": SimpleUploadedFile("big.csv", content),
            "csv_mapping": json.dumps(MAPPING),
        }

        response = world.client().post(IMPORTS, form, format="multipart", HTTP_IDEMPOTENCY_KEY="big-1")

        assert response.status_code == 201, response.content
        assert response.json()["lines"] == 200

    def test_the_imports_newest_first_a_page_at_a_time_and_one(self, world, imported, openapi):
        other = world.upload(
            csv_file([(date(2026, 11, 9), 700, "Z", "")], opening=1_352_600), csv_mapping=json.dumps(MAPPING)
        )
        assert other.status_code == 201, other.content

        page = world.client().get(IMPORTS, {"page_size": 1})

        assert page.status_code == 200 and private(page)
        assert [entry["id"] for entry in page.json()["results"]] == [other.json()["id"]]
        rest = world.client().get(page.json()["next"]).json()
        assert [entry["id"] for entry in rest["results"]] == [imported["id"]]
        assert rest["results"][0] == imported
        assert world.client().get(IMPORTS, {"account": world.stripe.public_id}).json()["results"] == []
        one = world.client().get(f"{IMPORTS}{imported['id']}/")
        assert one.status_code == 200 and private(one)
        assert one.json() == imported
        assert_matches(openapi, one.json(), "StatementImport")


# Lines ----------------------------------------------------------------------------------------------------


class TestLines:
    def test_each_line_with_what_it_matched_and_why(self, world, openapi):
        made = world.camt_transactions()
        statement = world.import_camt()

        response = world.client().get(f"{IMPORTS}{statement['id']}/lines/")

        assert response.status_code == 200, response.content
        assert private(response)
        results = response.json()["results"]
        assert [(entry["line_number"], entry["state"], entry["amount"]) for entry in results] == [
            (1, "matched", "4850.00"),
            (2, "matched", "-1240.50"),
            (3, "matched", "-96.00"),
            (4, "unmatched", "-96.00"),
            (5, "unmatched", "96.00"),
            (6, "unmatched", "-12.50"),
            (7, "suggested", "25.00"),
        ]
        first = results[0]
        found = line(1)
        match = found.matches.get()
        assert first == {
            "id": found.public_id,
            "statement_import": statement["id"],
            "account": world.bank.public_id,
            "line_number": 1,
            "date": "2026-11-02",
            "value_date": "2026-11-02",
            "amount": "4850.00",
            "currency": "GBP",
            "reference": "DEMO-ASC-2026-11",
            "description": "NORFOLK COUNTY COUNCIL",
            "bank_id": "2026110200001",
            "kind": "credit",
            "state": "matched",
            "match": {
                "id": match.public_id,
                "status": "matched",
                "how": "reference",
                "how_description": "Reference and amount",
                "explanation": match.explanation,
                "note": "",
                "created_by": "purse",
                "created_at": first["match"]["created_at"],
                "decided_by": "purse",
                "decided_at": first["match"]["decided_at"],
                "ledger_items": [
                    {
                        "id": made["norfolk"].public_id,
                        "date": "2026-11-02",
                        "amount": "4850.00",
                        "description": "Funding, reference DEMO-ASC-2026-11",
                        "in_transit": False,
                    }
                ],
            },
            "suggestions": [],
        }
        assert "DEMOASC202611" in match.explanation
        batch = results[1]["match"]
        assert batch["how"] == "batch" and "bacs_7h2k9m4q" in batch["explanation"]
        assert [(item["id"], item["amount"], item["in_transit"]) for item in batch["ledger_items"]] == [
            (made["pay_k7g57jmjtnsuje"].public_id, "-318.75", True),
            (made["pay_r3m8zq2wxkd4ta"].public_id, "-96.00", True),
            (made["pay_t9v2lb6nhc3e8q"].public_id, "-825.75", True),
        ]
        gift = results[6]
        assert gift["match"] is None
        assert [
            (s["status"], s["how"], [i["id"] for i in s["ledger_items"]]) for s in gift["suggestions"]
        ] == [("suggested", "amount_date", [made["gift_b"].public_id])]
        assert (
            gift["suggestions"][0]["decided_by"] is None
            and "nearest" in gift["suggestions"][0]["explanation"]
        )
        assert results[3]["match"] is None and results[3]["suggestions"] == []
        for entry in results:
            assert_matches(openapi, entry, "StatementLine")

    @pytest.mark.parametrize(
        ("state", "numbers"), [("matched", [1, 2, 3]), ("suggested", [7]), ("unmatched", [4, 5, 6])]
    )
    def test_the_lines_in_one_state(self, world, imported, state, numbers):
        response = world.client().get(f"{IMPORTS}{imported['id']}/lines/", {"state": state})

        assert response.status_code == 200
        assert [entry["line_number"] for entry in response.json()["results"]] == numbers

    def test_a_state_lines_are_not_in_is_400_naming_state(self, world, imported):
        response = world.client().get(f"{IMPORTS}{imported['id']}/lines/", {"state": "rejected"})

        body = assert_problem(response, 400)
        assert pointers(response) == [("invalid_choice", "/state")]
        assert "matched" in body["detail"]

    def test_the_lines_a_page_at_a_time(self, world, imported):
        url = f"{IMPORTS}{imported['id']}/lines/"
        seen, page = [], world.client().get(url, {"page_size": 3}).json()
        while True:
            seen += [entry["line_number"] for entry in page["results"]]
            if not page["next"]:
                break
            page = world.client().get(page["next"]).json()

        assert seen == [1, 2, 3, 4, 5, 6, 7]

    def test_the_lines_read_a_fixed_number_of_queries_whatever_their_number(self, world):
        client = world.client()
        client.get(ACCOUNTS)  # the token's first use, and the accounts, out of the way

        def lines_queries(n: int, **params: Any) -> tuple[int, list]:
            rows = []
            for index in range(n):
                reference = f"QRY-{world.count + 1:05d}A"
                world.funding(1_000 + index, date(2026, 11, 2), reference)
                rows.append((date(2026, 11, 2), 1_000 + index, reference, ""))
            response = world.upload(
                csv_file(rows, opening=world.count * 1_000), csv_mapping=json.dumps(MAPPING)
            )
            assert response.status_code == 201, response.content
            with CaptureQueriesContext(connection) as queries:
                listed = client.get(f"{response.json()['lines_url']}", params)
            assert listed.status_code == 200
            return len(queries), listed.json()["results"]

        one, results = lines_queries(1)
        many, results_many = lines_queries(12)
        paged, results_paged = lines_queries(12, page_size=5)

        assert len(results) == 1 and len(results_many) == 12 and len(results_paged) == 5
        assert all(entry["state"] == "matched" and entry["match"]["ledger_items"] for entry in results_many)
        assert one == many == paged

    def test_one_line_with_its_history(self, world, imported, openapi):
        gift = line(7)
        suggestion = suggestion_of(gift)
        world.client().post(
            f"{BASE}matches/{suggestion.public_id}/reject/", {"note": "Not hers"}, format="json"
        )

        response = world.client().get(line_url(gift))

        assert response.status_code == 200 and private(response)
        body = response.json()
        assert body["state"] == "unmatched" and body["suggestions"] == []
        assert [(entry["id"], entry["status"], entry["note"]) for entry in body["history"]] == [
            (suggestion.public_id, "rejected", "Not hers")
        ]
        assert body["history"][0]["decided_by"] == world.users["finance"].username
        assert_matches(openapi, body, "StatementLineDetail")


# Matching by hand -----------------------------------------------------------------------------------------


class TestMatchingByHand:
    def test_match_then_unmatch_a_line_moves_the_money_and_back(self, world, imported, openapi):
        # Line 4 is a second payment to Anna that the ledger did not know of; now it does.
        payment = world.bacs_payment(9_600, date(2026, 11, 4), "pay_w4xj7d2k9plm3s", "bacs_third")
        unmatched = line(4)
        cash, transit = (account_balance(account=a).posted_minor for a in (world.cash, world.transit))
        assert transit == 9_600  # on its way

        response = world.client().post(
            line_url(unmatched, "match/"),
            {"ledger_items": [payment.public_id], "note": "Second visit"},
            format="json",
        )

        assert response.status_code == 200, response.content
        assert private(response)
        body = response.json()
        assert body["id"] == unmatched.public_id and body["state"] == "matched"
        match = body["match"]
        assert (match["how"], match["status"], match["note"]) == ("manual", "matched", "Second visit")
        assert match["created_by"] == match["decided_by"] == world.users["finance"].username
        assert match["ledger_items"] == [
            {
                "id": payment.public_id,
                "date": "2026-11-04",
                "amount": "-96.00",
                "description": "Payment pay_w4xj7d2k9plm3s",
                "in_transit": True,
            }
        ]
        assert_matches(openapi, body, "StatementLineDetail")
        # The payment was on its way; the bank line settles it from transit to the bank.
        assert account_balance(account=world.transit).posted_minor == transit - 9_600 == 0
        assert account_balance(account=world.cash).posted_minor == cash - 9_600
        assert AuditEvent.objects.filter(
            action="reconciliation.matched", object_id=unmatched.public_id
        ).exists()

        undone = world.client().post(
            line_url(unmatched, "unmatch/"), {"note": "Wrong payment"}, format="json"
        )

        assert undone.status_code == 200, undone.content
        body = undone.json()
        assert body["state"] == "unmatched" and body["match"] is None
        assert [(entry["status"], entry["note"]) for entry in body["history"]] == [
            ("unmatched", "Wrong payment")
        ]
        assert account_balance(account=world.transit).posted_minor == transit
        assert account_balance(account=world.cash).posted_minor == cash
        unmatched.refresh_from_db()
        assert unmatched.state == LineState.UNMATCHED

    def test_a_line_matched_to_several_transactions_adding_up(self, world, imported):
        fee = world.post(world.receivable, world.cash, 1_000, date(2026, 11, 6), "Bank fee part one")
        rest = world.post(world.receivable, world.cash, 250, date(2026, 11, 6), "Bank fee part two")

        response = world.client().post(
            line_url(line(6), "match/"), {"ledger_items": [fee.public_id, rest.public_id]}, format="json"
        )

        assert response.status_code == 200, response.content
        assert [item["amount"] for item in response.json()["match"]["ledger_items"]] == ["-10.00", "-2.50"]
        assert response.json()["match"]["note"] == ""

    @pytest.mark.parametrize(
        ("body", "status", "code", "pointer"),
        [
            ({}, 400, "required", "/ledger_items"),
            ({"ledger_items": "txn_x"}, 400, "not_a_list", "/ledger_items"),
            ({"ledger_items": [{"id": "txn_x"}]}, 400, "invalid", "/ledger_items/0"),
            ({"ledger_items": ["txn_x"], "note": "x" * 2001}, 400, "max_length", "/note"),
            ({"ledger_items": []}, 422, "invalid_match", "/ledger_items"),
            ({"ledger_items": ["txn_nothing"]}, 422, "invalid_match", "/ledger_items"),
            ({"ledger_items": "gift_a"}, 422, "invalid_match", "/ledger_items"),  # 25.00, not -12.50
            ({"ledger_items": "elsewhere"}, 422, "invalid_match", "/ledger_items"),  # not the bank's money
            ({"ledger_items": "anna"}, 409, "match_conflict", None),  # already line 3's
        ],
    )
    def test_bad_input_is_a_problem_naming_the_field_and_changes_nothing(
        self, world, body, status, code, pointer
    ):
        made = world.camt_transactions()
        made["elsewhere"] = world.post(world.receivable, world.payable, 1_250, date(2026, 11, 6), "Elsewhere")
        world.import_camt()
        if isinstance(body.get("ledger_items"), str) and body["ledger_items"] in made:
            body = {"ledger_items": [made[body["ledger_items"]].public_id]}
        # Line 6 is -12.50, matched to nothing; line 4 is -96.00, as Anna's payment that line 3 matched.
        target = line(4) if code == "match_conflict" else line(6)
        before = ledger_state(world)

        response = world.client().post(line_url(target, "match/"), body, format="json")

        assert_problem(response, status, None if status == 400 else code)
        if pointer is not None:
            assert (code, pointer) in pointers(response)
        assert ledger_state(world) == before

    def test_a_matched_line_cannot_be_matched_again_nor_an_unmatched_one_unmatched(self, world, imported):
        before = ledger_state(world)
        anna = ReconciliationMatch.objects.get(line=line(3)).items.get().transaction

        again = world.client().post(
            line_url(line(3), "match/"), {"ledger_items": [anna.public_id]}, format="json"
        )
        undo = world.client().post(line_url(line(5), "unmatch/"), {}, format="json")

        assert "already matched" in assert_problem(again, 409, "match_conflict")["detail"]
        assert "nothing to undo" in assert_problem(undo, 409, "match_conflict")["detail"]
        assert ledger_state(world) == before


class TestSuggestions:
    def test_confirming_a_suggestion_matches_the_line(self, world, imported):
        gift = line(7)
        suggestion = suggestion_of(gift)

        response = world.client().post(f"{BASE}matches/{suggestion.public_id}/confirm/", format="json")

        assert response.status_code == 200, response.content
        assert private(response)
        body = response.json()
        assert body["id"] == gift.public_id and body["state"] == "matched" and body["suggestions"] == []
        assert (body["match"]["id"], body["match"]["status"], body["match"]["how"]) == (
            suggestion.public_id,
            "matched",
            "amount_date",
        )
        assert body["match"]["created_by"] == "purse"
        assert body["match"]["decided_by"] == world.users["finance"].username
        before = ledger_state(world)
        again = world.client().post(f"{BASE}matches/{suggestion.public_id}/confirm/", format="json")
        assert "already matched" in assert_problem(again, 409, "match_conflict")["detail"]
        assert ledger_state(world) == before

    def test_rejecting_a_suggestion_leaves_the_line_to_match(self, world, imported):
        gift = line(7)
        suggestion = suggestion_of(gift)

        response = world.client().post(
            f"{BASE}matches/{suggestion.public_id}/reject/", {"note": "A gift, not ours"}, format="json"
        )

        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["state"], body["match"], body["suggestions"]) == ("unmatched", None, [])
        suggestion.refresh_from_db()
        assert (suggestion.status, suggestion.note) == (MatchStatus.REJECTED, "A gift, not ours")
        assert AuditEvent.objects.filter(action="reconciliation.rejected", object_id=gift.public_id).exists()
        before = ledger_state(world)
        confirm = world.client().post(f"{BASE}matches/{suggestion.public_id}/confirm/", format="json")
        assert "already rejected" in assert_problem(confirm, 409, "match_conflict")["detail"]
        too_long = world.client().post(
            f"{BASE}matches/{suggestion.public_id}/reject/", {"note": "x" * 2001}, format="json"
        )
        assert pointers(too_long) == [("max_length", "/note")]
        assert ledger_state(world) == before

    def test_unmatching_a_suggested_line_rejects_its_suggestions(self, world, imported):
        response = world.client().post(
            line_url(line(7), "unmatch/"), {"note": "None of these"}, format="json"
        )

        assert response.status_code == 200, response.content
        assert response.json()["state"] == "unmatched"
        assert [entry["status"] for entry in response.json()["history"]] == ["rejected"]


# The report and reconciled periods ------------------------------------------------------------------------


def _report(world: World, start: str = "2026-11-01", end: str = "2026-11-30", account=None):
    return world.client().get(
        f"{ACCOUNTS}{(account or world.bank).public_id}/report/", {"start": start, "end": end}
    )


class TestReport:
    def test_the_report_explains_the_difference_with_money_as_strings(self, world, imported, openapi):
        response = _report(world)

        assert response.status_code == 200, response.content
        assert private(response)
        body = response.json()
        assert_matches(openapi, body, "ReconciliationReport")
        assert {
            key: body[key]
            for key in (
                "account",
                "currency",
                "period_start",
                "period_end",
                "started_on",
                "opening_known",
                "bank_opening",
                "bank_balance",
                "lines_in_period",
                "matched_count",
                "suggested_count",
                "suggested_amount",
                "unmatched_count",
                "unmatched_amount",
                "reconciled",
            )
        } == {
            "account": world.bank.public_id,
            "currency": "GBP",
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "started_on": "2026-11-02",
            "opening_known": True,
            "bank_opening": "10000.00",
            "bank_balance": "13526.00",
            "lines_in_period": 7,
            "matched_count": 3,
            "suggested_count": 1,
            "suggested_amount": "25.00",
            "unmatched_count": 3,
            "unmatched_amount": "-12.50",
            "reconciled": None,
        }
        # 4,850.00 in, 50.00 of gifts, the Bacs file's 1,240.50 and Anna's 96.00 out.
        assert body["ledger_balance"] == "3563.50" and body["difference"] == "9962.50"
        # Explained: the statement's opening balance the ledger never had, the lines not matched
        # (-96.00 + 96.00 - 12.50 + 25.00) and the gifts the bank has not matched (25.00 + 25.00).
        assert (body["start_difference"], body["unmatched_lines_amount"], body["unmatched_items_amount"]) == (
            "10000.00",
            "12.50",
            "50.00",
        )
        assert (body["across_period_end"], body["unexplained"], body["in_transit_amount"]) == (
            "0.00",
            "0.00",
            "0.00",
        )
        assert [item["amount"] for item in body["unmatched_lines"]] == ["-96.00", "96.00", "-12.50", "25.00"]
        assert {"id", "date", "amount", "reference", "description"} == set(body["unmatched_lines"][0])
        assert body["statement_balance_problem"] is None

    @pytest.mark.parametrize(
        ("params", "pointer"),
        [
            ({"end": "2026-11-30"}, "/start"),
            ({"start": "2026-11-01"}, "/end"),
            ({"start": "1 November", "end": "2026-11-30"}, "/start"),
            ({"start": "2026-11-01", "end": "2026-11-31"}, "/end"),
            ({"start": "2026-11-30", "end": "2026-11-01"}, "/end"),
            ({"start": "0001-01-01", "end": "2026-11-30"}, "/start"),
            ({"start": "2026-11-01", "end": "9999-12-31"}, "/end"),
        ],
    )
    def test_a_bad_period_is_400_naming_the_parameter(self, world, params, pointer):
        response = world.client().get(f"{ACCOUNTS}{world.bank.public_id}/report/", params)

        assert_problem(response, 400)
        assert [p for _, p in pointers(response)] == [pointer]


class TestPeriods:
    def _reconcilable(self, world: World) -> dict:
        """November at the bank: one funding receipt, matched; nothing else."""
        world.funding(50_000, date(2026, 11, 2), "FUND-NOV001")
        response = world.upload(
            csv_file([(date(2026, 11, 2), 50_000, "FUND-NOV001", "AGENCY")], opening=0),
            csv_mapping=json.dumps(MAPPING),
        )
        assert response.status_code == 201 and response.json()["matched"] == 1, response.content
        return response.json()

    def test_a_period_is_marked_reconciled(self, world, openapi):
        self._reconcilable(world)
        url = f"{ACCOUNTS}{world.bank.public_id}/periods/"

        response = world.client().post(
            url,
            {"period_start": "2026-11-01", "period_end": "2026-11-30", "note": "All there"},
            format="json",
        )

        assert response.status_code == 201, response.content
        assert private(response)
        body = response.json()
        period = ReconciledPeriod.objects.get()
        assert body == {
            "id": period.public_id,
            "account": world.bank.public_id,
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "currency": "GBP",
            "bank_balance": "500.00",
            "ledger_balance": "500.00",
            "unmatched_lines_amount": "0.00",
            "unmatched_items_amount": "0.00",
            "note": "All there",
            "reconciled_by": world.users["finance"].username,
            "reconciled_at": body["reconciled_at"],
        }
        assert_matches(openapi, body, "ReconciledPeriod")
        # The Stripe account is not reconciled through November, so the ledger stays open.
        assert not PeriodClose.objects.exists()
        listed = world.client().get(url)
        assert listed.status_code == 200 and listed.json()["results"] == [body]
        assert _report(world).json()["reconciled"] == body
        accounts_list = world.client().get(ACCOUNTS).json()["results"]
        assert [entry["reconciled_through"] for entry in accounts_list] == ["2026-11-30", None]
        assert AuditEvent.objects.filter(action="reconciliation.period_reconciled").count() == 1

    @pytest.mark.parametrize(
        ("body", "words"),
        [
            ({"period_start": "2026-11-01", "period_end": "2026-12-31"}, "once it has ended"),
        ],
    )
    def test_a_period_that_cannot_be_reconciled_is_409_saying_why(self, world, body, words):
        self._reconcilable(world)
        before = ledger_state(world)

        response = world.client().post(f"{ACCOUNTS}{world.bank.public_id}/periods/", body, format="json")

        assert words in assert_problem(response, 409, "period_not_reconcilable")["detail"]
        assert ledger_state(world) == before

    def test_twice_and_with_a_suggestion_waiting_are_409(self, world, imported):
        url = f"{ACCOUNTS}{world.bank.public_id}/periods/"
        november = {"period_start": "2026-11-01", "period_end": "2026-11-30"}

        waiting = world.client().post(url, november, format="json")
        assert (
            "suggested match is waiting" in assert_problem(waiting, 409, "period_not_reconcilable")["detail"]
        )

        world.client().post(f"{BASE}matches/{suggestion_of(line(7)).public_id}/confirm/", format="json")
        first = world.client().post(url, november, format="json")
        assert first.status_code == 201, first.content
        twice = world.client().post(url, november, format="json")
        assert "already reconciled" in assert_problem(twice, 409, "period_not_reconcilable")["detail"]
        assert ReconciledPeriod.objects.count() == 1

    def test_an_unused_stripe_balance_is_reconciled_without_a_statement(self, world):
        response = world.client().post(
            f"{ACCOUNTS}{world.stripe.public_id}/periods/",
            {"period_start": "2026-11-01", "period_end": "2026-11-30"},
            format="json",
        )

        assert response.status_code == 201, response.content
        assert (response.json()["bank_balance"], response.json()["ledger_balance"]) == ("0.00", "0.00")

    def test_a_month_the_ledger_moved_without_a_statement_is_409(self, world):
        self._reconcilable(world)
        world.funding(1_000, date(2026, 10, 5), "FUND-OCT001")
        before = ledger_state(world)

        response = world.client().post(
            f"{ACCOUNTS}{world.bank.public_id}/periods/",
            {"period_start": "2026-10-01", "period_end": "2026-10-31"},
            format="json",
        )

        assert (
            "import the statement first" in assert_problem(response, 409, "period_not_reconcilable")["detail"]
        )
        assert ledger_state(world) == before

    @pytest.mark.parametrize(
        ("body", "status", "code", "pointer"),
        [
            ({"period_end": "2026-11-30"}, 400, "required", "/period_start"),
            ({"period_start": "2026-11-01", "period_end": "30/11/2026"}, 400, "invalid", "/period_end"),
            ({"period_start": "0001-01-01", "period_end": "2000-01-01"}, 400, "invalid", "/period_start"),
            (
                {"period_start": "2026-11-30", "period_end": "2026-11-01"},
                422,
                "invalid_import",
                "/period_end",
            ),
        ],
    )
    def test_bad_input_is_a_problem_naming_the_field(self, world, body, status, code, pointer):
        self._reconcilable(world)

        response = world.client().post(f"{ACCOUNTS}{world.bank.public_id}/periods/", body, format="json")

        assert_problem(response, status)
        assert pointers(response) == [(code, pointer)]
        assert not ReconciledPeriod.objects.exists()
