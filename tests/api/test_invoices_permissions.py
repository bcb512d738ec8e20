"""The permission matrix of the invoicing API: every endpoint, every role, and providers' API keys.

Who may *see* is asked first (404 for what is not yours, with exactly the body of an id that does not exist),
who may *act* next (403 for someone who sees it but may not do that), the services' rules after that. A
refused call changes nothing. The world is `tests.invoicing.world` with these invoices, all to Alex but F:

* A: bright-care, awaiting approval (the one the matrix decides and withdraws);
* B: bright-care, 700 hours, put on hold (more than the budget holds) and then withdrawn;
* C: bright-care, 40 hours, on hold (over the planned quantity, thanks to B) but affordable;
* D: bright-care, approved by Alex and paid (remittance REM-D);
* E: able-assist (Alex's support worker), awaiting approval; Alex has an auto-approval rule for able-assist;
* F: dales-adaptations, Sam's ramp, on hold (more than the budget holds).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from invoicing import services
from invoicing.models import AutoApprovalRule, Invoice, InvoiceEvent, Remittance
from ledger.models import Transaction
from ledger.money import money_parse
from plans.models import TimelineEntry
from plans.wording import money_display
from tests.api.plans_world import ROLES, client_for, install_clock
from tests.invoicing.world import TODAY, InvoicingWorld, build_invoicing_world, invoice_body, provider_client

pytestmark = pytest.mark.django_db

KEYS = ("key_engaged", "key_not_engaged")
EVERYONE = (*ROLES, *KEYS)
SIGNED_IN = frozenset(EVERYONE) - {"anonymous"}
# bright-care, the provider that sent A to D: its user and its API key.
SENDER = frozenset({"provider_engaged", "key_engaged"})
NOT_ENGAGED = frozenset({"provider_not_engaged", "key_not_engaged"})
# Alex's side: the person, their representatives (not the revoked one) and their navigator.
ALEX_SIDE = frozenset({"holder", "rep_approve", "rep_view", "navigator"})
SAM_SIDE = frozenset({"other_holder", "other_navigator"})
EVERYTHING = frozenset({"finance", "admin"})
SEES_INVOICE = ALEX_SIDE | EVERYTHING | SENDER
DECIDERS = frozenset({"holder", "rep_approve"})
# Who sees Alex at all (people.access): Alex's side, finance and admin, the agencies that fund Alex and the
# providers engaged by Alex.
SEES_ALEX = ALEX_SIDE | EVERYTHING | SENDER | {"officer_asc", "officer_atw"}
SEES_RULES = ALEX_SIDE | EVERYTHING
MISSING_INVOICE = "inv_0000000000000000"
MISSING_PERSON = "per_0000000000000000"
MISSING_RULE = "aar_0000000000000000"


@dataclass
class Matrix:
    world: InvoicingWorld
    invoices: dict[str, Invoice]
    rule: AutoApprovalRule

    def client(self, role: str) -> APIClient:
        if role == "key_engaged":
            return provider_client("bright-care")
        if role == "key_not_engaged":
            return provider_client(self.world.users["provider_not_engaged"].organisation.slug)
        return client_for(self.world.users[role])

    def id(self, name: str) -> str:
        return self.invoices[name].public_id

    def status(self, name: str) -> str:
        return Invoice.objects.get(pk=self.invoices[name].pk).status


def _submit(client: APIClient, body: dict[str, Any], status: str) -> Invoice:
    response = client.post("/api/v1/invoices/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == status, response.json()
    return Invoice.objects.get(public_id=response.json()["id"])


def build_matrix(monkeypatch) -> Matrix:
    """The world of the module docstring, every invoice made through the API or the services."""
    world = build_invoicing_world(monkeypatch)
    bright, able, dales = (
        provider_client(slug) for slug in ("bright-care", "able-assist", "dales-adaptations")
    )
    alex = client_for(world.base.alex.user)
    invoices = {
        "A": _submit(bright, invoice_body(world.care, number="INV-A"), "awaiting_approval"),
        "B": _submit(
            bright, invoice_body(world.care, number="INV-B", lines=[("2026-10-10", "700.00")]), "on_hold"
        ),
        "C": _submit(
            bright, invoice_body(world.care, number="INV-C", lines=[("2026-10-17", "40.00")]), "on_hold"
        ),
    }
    assert [finding["code"] for finding in invoices["C"].findings] == ["over_planned_quantity"]
    assert bright.post(f"/api/v1/invoices/{invoices['B'].public_id}/withdraw/").status_code == 200
    invoices["D"] = _submit(
        bright, invoice_body(world.care, number="INV-D", lines=[("2026-10-24", "2.00")]), "awaiting_approval"
    )
    assert alex.post(f"/api/v1/invoices/{invoices['D'].public_id}/approve/").status_code == 200
    services.remittance_record(
        provider=world.care.provider, invoices=[invoices["D"]], reference="REM-D", paid_on=TODAY, by=None
    )
    invoices["E"] = _submit(able, invoice_body(world.work, number="INV-E"), "awaiting_approval")
    invoices["F"] = _submit(
        dales, invoice_body(world.ramp, number="INV-F", lines=[("2026-09-01", "1")]), "on_hold"
    )
    rule = services.auto_approval_rule_set(
        budget_holder=world.base.alex,
        provider=world.work.provider,
        max_total_minor=None,
        currency="GBP",
        by=world.base.alex.user,
    )
    return Matrix(
        world=world, invoices={name: Invoice.objects.get(pk=i.pk) for name, i in invoices.items()}, rule=rule
    )


@pytest.fixture(scope="module")
def shared_matrix(django_db_setup, django_db_blocker):
    """One world for the module, built once in an outer transaction that is rolled back at the end; each test
    runs inside it (in a savepoint, rolled back after the test), so every test starts from the same world."""
    with pytest.MonkeyPatch.context() as monkeypatch, django_db_blocker.unblock(), transaction.atomic():
        yield build_matrix(monkeypatch)
        transaction.set_rollback(True)


@pytest.fixture
def matrix(shared_matrix, db, monkeypatch) -> Matrix:
    install_clock(monkeypatch, TODAY)
    return shared_matrix


@dataclass(frozen=True)
class Endpoint:
    """One call: who sees what it is about, who may make it, and what a permitted call answers."""

    name: str
    method: str
    url: Callable[[Matrix], str]
    sees: frozenset[str]
    may: frozenset[str]
    success: int
    body: Callable[[Matrix], dict] = field(default=lambda m: {})
    # The same call about an id that does not exist (for endpoints about one record).
    missing_url: str | None = None
    # Roles whose permitted call is refused by a business rule instead, and how.
    refused: dict[str, int] = field(default_factory=dict)
    # The invoice's status after a permitted call.
    then: tuple[str, str] | None = None


def _invoice(name: str, action: str = "") -> Callable[[Matrix], str]:
    return lambda m: f"/api/v1/invoices/{m.id(name)}/{action}"


def _reason(m: Matrix) -> dict:
    return {"reason": "Please split the hours by day."}


def _decision(action: str, name: str, may: frozenset[str], then: str, body=_reason) -> Endpoint:
    return Endpoint(
        f"{action} {name}",
        "post",
        _invoice(name, f"{action}/"),
        SEES_INVOICE,
        may,
        200,
        body=body,
        missing_url=f"/api/v1/invoices/{MISSING_INVOICE}/{action}/",
        then=(name, then),
    )


ENDPOINTS = [
    Endpoint("engagements", "get", lambda m: "/api/v1/engagements/", SIGNED_IN, SIGNED_IN, 200),
    Endpoint("invoices", "get", lambda m: "/api/v1/invoices/", SIGNED_IN, SIGNED_IN, 200),
    Endpoint(
        "submit",
        "post",
        lambda m: "/api/v1/invoices/",
        SIGNED_IN,
        SENDER | NOT_ENGAGED,
        201,
        body=lambda m: invoice_body(m.world.care, number="INV-NEW"),
        refused={role: 422 for role in NOT_ENGAGED},
    ),
    Endpoint(
        "invoice",
        "get",
        _invoice("A"),
        SEES_INVOICE,
        SEES_INVOICE,
        200,
        missing_url=f"/api/v1/invoices/{MISSING_INVOICE}/",
    ),
    _decision("approve", "A", DECIDERS, "approved", body=lambda m: {}),
    _decision("approve", "C", DECIDERS | {"navigator"}, "approved", body=lambda m: {}),
    _decision("query", "A", DECIDERS, "queried"),
    _decision("query", "C", DECIDERS | {"navigator"}, "queried"),
    _decision("reject", "A", DECIDERS, "rejected"),
    _decision("reject", "C", DECIDERS | {"navigator"}, "rejected"),
    _decision("withdraw", "A", SENDER, "withdrawn", body=lambda m: {}),
    _decision("withdraw", "C", SENDER, "withdrawn"),
    Endpoint("remittances", "get", lambda m: "/api/v1/remittances/", SIGNED_IN, SIGNED_IN, 200),
    Endpoint(
        "rules",
        "get",
        lambda m: f"/api/v1/people/{m.world.base.alex.public_id}/auto-approval-rules/",
        SEES_ALEX,
        SEES_ALEX,
        200,
        missing_url=f"/api/v1/people/{MISSING_PERSON}/auto-approval-rules/",
    ),
    Endpoint(
        "set a rule",
        "post",
        lambda m: f"/api/v1/people/{m.world.base.alex.public_id}/auto-approval-rules/",
        SEES_ALEX,
        DECIDERS,
        201,
        body=lambda m: {"provider": m.world.care.provider.public_id, "max_total": "100.00"},
        missing_url=f"/api/v1/people/{MISSING_PERSON}/auto-approval-rules/",
    ),
    Endpoint(
        "revoke a rule",
        "post",
        lambda m: f"/api/v1/auto-approval-rules/{m.rule.public_id}/revoke/",
        SEES_RULES,
        DECIDERS,
        200,
        missing_url=f"/api/v1/auto-approval-rules/{MISSING_RULE}/revoke/",
    ),
]


def expected_status(endpoint: Endpoint, role: str) -> int:
    if role == "anonymous":
        return 401
    if role not in endpoint.sees:
        return 404
    if role not in endpoint.may:
        return 403
    return endpoint.refused.get(role, endpoint.success)


def _changes() -> dict[str, Any]:
    """Everything a call on this API might change."""
    return {
        "invoices": list(Invoice.objects.order_by("pk").values_list("public_id", "status", "reservation_id")),
        "events": InvoiceEvent.objects.count(),
        "transactions": Transaction.objects.count(),
        "timeline": TimelineEntry.objects.count(),
        "rules": list(AutoApprovalRule.objects.order_by("pk").values_list("public_id", "revoked_at")),
        "remittances": Remittance.objects.count(),
    }


def _call(client: APIClient, method: str, url: str, body: dict) -> Any:
    if method == "get":
        return client.get(url)
    return client.post(url, body, format="json")


class TestMatrix:
    @pytest.mark.parametrize("role", EVERYONE)
    @pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
    def test_every_endpoint_for_every_role(self, matrix, endpoint, role):
        client = matrix.client(role)
        before = _changes()

        response = _call(client, endpoint.method, endpoint.url(matrix), endpoint.body(matrix))

        expected = expected_status(endpoint, role)
        assert response.status_code == expected, response.content
        if expected >= 400:
            assert response["Content-Type"] == "application/problem+json"
            assert _changes() == before
        if expected == 404:
            missing = _call(client, endpoint.method, endpoint.missing_url, endpoint.body(matrix))
            assert missing.status_code == 404
            assert response.json() == missing.json()
        if expected == 422:
            assert [error["code"] for error in response.json()["errors"]] == ["unknown_person"]
        if expected < 400 and endpoint.then is not None:
            name, status = endpoint.then
            assert response.json()["status"] == status
            assert matrix.status(name) == status

    def test_the_matrix_names_every_role_and_endpoint(self):
        assert set(EVERYONE) >= SEES_INVOICE | SEES_ALEX | NOT_ENGAGED | SAM_SIDE | {"anonymous"}
        assert len(ENDPOINTS) == 16


class TestRefusedDecisionsChangeNothing:
    """A navigator may not decide an invoice that is not on hold; nobody decides twice."""

    @pytest.mark.parametrize("action", ["approve", "query", "reject"])
    def test_the_navigator_on_an_invoice_awaiting_approval(self, matrix, action):
        before = _changes()

        response = matrix.client("navigator").post(
            f"/api/v1/invoices/{matrix.id('A')}/{action}/", _reason(matrix), format="json"
        )

        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "not_allowed_to_decide"
        assert _changes() == before

    @pytest.mark.parametrize("action", ["approve", "query", "reject", "withdraw"])
    def test_a_paid_invoice(self, matrix, action):
        role = "key_engaged" if action == "withdraw" else "holder"
        before = _changes()

        response = matrix.client(role).post(
            f"/api/v1/invoices/{matrix.id('D')}/{action}/", _reason(matrix), format="json"
        )

        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "invalid_invoice_state"
        assert _changes() == before

    def test_the_approval_reserves_the_money_once(self, matrix):
        client = matrix.client("holder")
        before = Transaction.objects.count()

        first = client.post(f"/api/v1/invoices/{matrix.id('A')}/approve/")
        second = client.post(f"/api/v1/invoices/{matrix.id('A')}/approve/")

        assert (first.status_code, second.status_code) == (200, 409)
        assert Transaction.objects.count() == before + 1


class TestAProviderSeesOnlyItsOwn:
    """A provider never sees another provider's invoices, engagements or people."""

    @pytest.mark.parametrize("role", ["provider_engaged", "key_engaged"])
    def test_another_providers_invoice_is_not_found(self, matrix, role):
        client = matrix.client(role)

        theirs = client.get(f"/api/v1/invoices/{matrix.id('E')}/")
        nobodys = client.get(f"/api/v1/invoices/{MISSING_INVOICE}/")

        assert theirs.status_code == nobodys.status_code == 404
        assert theirs.json() == nobodys.json()

    @pytest.mark.parametrize("action", ["approve", "query", "reject", "withdraw"])
    def test_another_providers_invoice_cannot_be_acted_on(self, matrix, action):
        client = matrix.client("key_engaged")
        before = _changes()

        theirs = client.post(f"/api/v1/invoices/{matrix.id('E')}/{action}/", _reason(matrix), format="json")
        nobodys = client.post(f"/api/v1/invoices/{MISSING_INVOICE}/{action}/", _reason(matrix), format="json")

        assert theirs.status_code == nobodys.status_code == 404
        assert theirs.json() == nobodys.json()
        assert _changes() == before

    def test_the_lists_hold_only_its_own(self, matrix):
        client = matrix.client("key_engaged")

        invoices = client.get("/api/v1/invoices/").json()["results"]
        engagements = client.get("/api/v1/engagements/").json()["results"]
        alexs = client.get(f"/api/v1/invoices/?person={matrix.world.base.alex.public_id}").json()["results"]
        sams = client.get(f"/api/v1/invoices/?person={matrix.world.base.sam.public_id}").json()["results"]

        provider = matrix.world.care.provider.public_id
        assert {invoice["id"] for invoice in invoices} == {matrix.id(name) for name in "ABCD"}
        assert {invoice["provider"] for invoice in invoices} == {provider}
        assert [engagement["id"] for engagement in engagements] == [matrix.world.care.public_id]
        assert {invoice["id"] for invoice in alexs} == {matrix.id(name) for name in "ABCD"}
        assert sams == []

    @pytest.mark.parametrize("role", ["provider_engaged", "key_engaged"])
    def test_another_providers_person_is_unknown(self, matrix, role):
        body = invoice_body(matrix.world.care, number="INV-SAM")
        body["person"] = matrix.world.base.sam.public_id
        before = _changes()

        theirs = matrix.client(role).post("/api/v1/invoices/", body, format="json")
        body["person"] = MISSING_PERSON
        nobodys = matrix.client(role).post("/api/v1/invoices/", body, format="json")

        assert theirs.status_code == nobodys.status_code == 422
        assert [error["code"] for error in theirs.json()["errors"]] == ["unknown_person"]
        assert [error["pointer"] for error in theirs.json()["errors"]] == ["/person"]
        assert _changes() == before

    @pytest.mark.parametrize("role", ["provider_engaged", "key_engaged"])
    def test_it_is_not_told_how_much_money_the_person_has(self, matrix, role):
        # Held for more than the budget holds: the provider learns that (the finding's code), not what is
        # left in each of Alex's streams (domain.md: a provider sees only what it needs).
        body = invoice_body(matrix.world.care, number="INV-BIG", lines=[("2026-10-11", "600.00")])

        submitted = matrix.client(role).post("/api/v1/invoices/", body, format="json")
        stored = matrix.client(role).get(f"/api/v1/invoices/{matrix.id('B')}/")

        assert submitted.status_code == 201
        for invoice in (submitted.json(), stored.json()):
            own = {invoice["total"]} | {
                part["amount"] for line in invoice["lines"] for part in line["streams"]
            }
            own |= {money_display(money_parse(amount, currency="GBP"), currency="GBP") for amount in own}
            held = [f for f in invoice["findings"] if f["code"] == "insufficient_funds"]
            assert held
            for finding in held:
                assert set(re.findall(r"£[0-9,]+\.[0-9]{2}", finding["detail"])) <= own, finding

    def test_another_providers_invoice_number_is_not_a_duplicate(self, matrix):
        # able-assist used INV-E; bright-care may use it too (numbers are unique per provider).
        body = invoice_body(matrix.world.care, number="INV-E")

        response = matrix.client("key_engaged").post("/api/v1/invoices/", body, format="json")

        assert response.status_code == 201


class TestWhoSeesWhat:
    """The lists: each caller sees exactly the records of module docstring's world that are theirs to see."""

    INVOICES = {
        **{role: set() for role in SIGNED_IN},
        **{role: set("ABCDE") for role in ALEX_SIDE},
        **{role: set("F") for role in SAM_SIDE},
        **{role: set("ABCD") for role in SENDER},
        **{role: set("ABCDEF") for role in EVERYTHING},
    }
    ENGAGEMENTS = {
        **{role: set() for role in SIGNED_IN},
        **{role: {"care", "work"} for role in ALEX_SIDE},
        **{role: {"ramp"} for role in SAM_SIDE},
        **{role: {"care"} for role in SENDER},
        **{role: {"care", "work", "ramp"} for role in EVERYTHING},
    }
    REMITTANCES = {
        **{role: set() for role in SIGNED_IN},
        **{role: {"REM-D"} for role in SENDER | EVERYTHING},
    }

    @pytest.mark.parametrize("role", sorted(SIGNED_IN))
    def test_invoices(self, matrix, role):
        names = {invoice.public_id: name for name, invoice in matrix.invoices.items()}

        response = matrix.client(role).get("/api/v1/invoices/")

        assert response.status_code == 200
        seen = [invoice["id"] for invoice in response.json()["results"]]
        assert len(seen) == len(set(seen))
        assert set(seen) <= set(names)
        assert {names[id_] for id_ in seen} == self.INVOICES[role]

    @pytest.mark.parametrize("role", sorted(SIGNED_IN))
    def test_engagements(self, matrix, role):
        world = matrix.world
        names = {world.care.public_id: "care", world.work.public_id: "work", world.ramp.public_id: "ramp"}

        response = matrix.client(role).get("/api/v1/engagements/")

        assert response.status_code == 200
        seen = [engagement["id"] for engagement in response.json()["results"]]
        assert len(seen) == len(set(seen))
        assert {names[id_] for id_ in seen if id_ in names} == self.ENGAGEMENTS[role]
        if role not in EVERYTHING:
            assert set(seen) <= set(names)

    @pytest.mark.parametrize("role", sorted(SIGNED_IN))
    def test_remittances(self, matrix, role):
        response = matrix.client(role).get("/api/v1/remittances/")

        assert response.status_code == 200
        results = response.json()["results"]
        assert {remittance["reference"] for remittance in results} == self.REMITTANCES[role]
        for remittance in results:
            assert [line["invoice"] for line in remittance["invoices"]] == [matrix.id("D")]

    @pytest.mark.parametrize("role", sorted(SEES_ALEX))
    def test_rules(self, matrix, role):
        # Whoever sees Alex may ask; only the person's side, finance and admin see the rules themselves.
        response = matrix.client(role).get(
            f"/api/v1/people/{matrix.world.base.alex.public_id}/auto-approval-rules/"
        )

        assert response.status_code == 200
        seen = [rule["id"] for rule in response.json()["results"]]
        assert seen == ([matrix.rule.public_id] if role in SEES_RULES else [])

    @pytest.mark.parametrize("role", ["holder", "navigator", "finance"])
    def test_an_invoice_in_full(self, matrix, role):
        response = matrix.client(role).get(f"/api/v1/invoices/{matrix.id('D')}/")

        assert response.status_code == 200
        invoice = response.json()
        assert invoice["status"] == "paid"
        assert invoice["payment"]["reference"] == "REM-D"
        assert [step["status"] for step in invoice["history"]] == ["submitted", "approved", "paid"]


class TestQueryCounts:
    """The lists take as many queries for 12 invoices of 5 lines as for 2 invoices of 1 line."""

    # Measured: the caller's key or token, then the invoices, their lines, the lines' funding, its streams
    # and the history; the engagements with their invoiced quantities in one.
    MOST = {"/api/v1/invoices/": 6, "/api/v1/engagements/": 2}

    @staticmethod
    def _submit(matrix: Matrix, *, count: int, lines: int, start: int) -> None:
        client = provider_client("bright-care")
        for number in range(start, start + count):
            body = invoice_body(
                matrix.world.care,
                number=f"INV-Q{number}",
                lines=[(f"2026-11-{day:02d}", "1.00") for day in range(1, lines + 1)],
            )
            invoice = _submit(client, body, "awaiting_approval")
            if number % 2:
                services.invoice_approve(invoice=invoice, by=matrix.world.base.alex.user)

    @staticmethod
    def _count(client: APIClient, url: str) -> tuple[int, int]:
        assert client.get(url).status_code == 200  # the first call notes the key's or token's use
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries), len(response.json()["results"])

    @pytest.mark.parametrize("role", ["key_engaged", "holder", "finance"])
    @pytest.mark.parametrize("url", ["/api/v1/invoices/", "/api/v1/engagements/"])
    def test_the_count_does_not_grow_with_the_data(self, matrix, role, url):
        client = matrix.client(role)
        self._submit(matrix, count=2, lines=1, start=1)
        small, small_results = self._count(client, url)

        self._submit(matrix, count=10, lines=5, start=3)
        large, large_results = self._count(client, url)

        if url == "/api/v1/invoices/":
            assert large_results == small_results + 10
        assert large == small
        assert large <= self.MOST[url]
