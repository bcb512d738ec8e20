"""The funding API (api/funding.py): recording an agency's payment of instalments, its receipts, and the late
instalments. Who may do what (every role), each bad input with its code and pointer (nothing changed),
the same request again, Idempotency-Key, paging and a query count that does not grow with the data.

The world is the invoicing world: "today" is 20 November 2026; Alex's ASC instalments of 1,000.00 fell due
every four weeks from 1 April to 11 November.
"""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import FundingStream, Instalment, InstalmentStatus
from ledger.models import Account, Transaction
from ledger.selectors import account_balance
from payments.models import FundingReceipt
from payments.services.funding import funding_receipt_record
from tests.api.plans_world import ROLES
from tests.invoicing.world import build_invoicing_world, provider_client

pytestmark = pytest.mark.django_db

RECEIPTS = "/api/v1/streams/{code}/funding-receipts/"
LATE = "/api/v1/instalments/late/"
SEE_ALL = ("finance", "admin")
SEE_NOTHING = tuple(
    role
    for role in ROLES
    if role not in {"finance", "admin", "officer_asc", "officer_atw", "officer_unrelated", "anonymous"}
)


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def due(code: str) -> list[Instalment]:
    return list(
        Instalment.objects.filter(personal_budget__stream__code=code, status=InstalmentStatus.DUE).order_by(
            "due_on", "pk"
        )
    )


def body(chosen: list[Instalment], **fields) -> dict:
    return {
        "reference": "ASC-BACS-1",
        "received_on": "2026-11-18",
        "instalments": [instalment.public_id for instalment in chosen],
        **fields,
    }


def state() -> tuple:
    """What a refused request must leave as it was."""
    cash = Account.objects.filter(key="payments:cash:bank:GBP").first()
    return (
        FundingReceipt.objects.count(),
        Transaction.objects.count(),
        Instalment.objects.filter(status=InstalmentStatus.RECEIVED).count(),
        0 if cash is None else account_balance(account=cash).posted_minor,
    )


def problems(response) -> list[tuple[str, str]]:
    return [(error["code"], error["pointer"]) for error in response.json()["errors"]]


class TestRecording:
    def test_201_with_the_receipt_and_the_money_moved(self, world):
        chosen = due("ASC")[-2:]
        receivable = Account.objects.get(key="stream:ASC:receivable")
        owed = account_balance(account=receivable).posted_minor

        response = world.client("finance").post(
            RECEIPTS.format(code="ASC"), body(chosen, amount="2000.00"), format="json"
        )

        assert response.status_code == 201, response.content
        data = response.json()
        receipt = FundingReceipt.objects.get()
        assert data == {
            "id": receipt.public_id,
            "stream": "ASC",
            "reference": "ASC-BACS-1",
            "received_on": "2026-11-18",
            "amount": "2000.00",
            "currency": "GBP",
            "instalments": sorted(instalment.public_id for instalment in chosen),
            "ledger_transaction": receipt.ledger_transaction,
            "recorded_by": world.users["finance"].public_id,
            "recorded_at": data["recorded_at"],
        }
        assert data["recorded_at"].endswith("Z")
        assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
        assert account_balance(account=receivable).posted_minor == owed - 200000
        cash = Account.objects.get(key="payments:cash:bank:GBP")
        assert account_balance(account=cash).posted_minor == 200000

    def test_the_same_again_is_200_with_the_first_and_changes_nothing(self, world):
        client = world.client("finance")
        chosen = due("ASC")[:1]
        first = client.post(RECEIPTS.format(code="ASC"), body(chosen), format="json")
        before = state()

        again = client.post(RECEIPTS.format(code="ASC"), body(chosen), format="json")

        assert again.status_code == 200
        assert again.json() == first.json()
        assert state() == before

    def test_the_same_reference_for_other_instalments_is_409_naming_the_first(self, world):
        client = world.client("admin")
        chosen = due("ASC")[:2]
        first = client.post(RECEIPTS.format(code="ASC"), body(chosen[:1]), format="json").json()
        before = state()

        response = client.post(RECEIPTS.format(code="ASC"), body(chosen[:1]), format="json")
        assert response.status_code == 200  # still the same one
        response = client.post(RECEIPTS.format(code="ASC"), body(chosen[1:]), format="json")

        assert response.status_code == 409
        assert response["Content-Type"] == "application/problem+json"
        assert problems(response) == [("duplicate_reference", "/reference")]
        assert first["id"] in response.json()["detail"]
        assert state() == before

    def test_idempotency_key_replays_the_first_answer(self, world):
        client = world.client("finance")
        url = RECEIPTS.format(code="ILF")
        sent = body(due("ILF")[:2], reference="ILF-1")

        first = client.post(url, sent, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
        before = state()
        replay = client.post(url, sent, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
        reused = client.post(url, {**sent, "reference": "ILF-2"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

        assert first.status_code == 201
        assert (replay.status_code, replay.json()) == (201, first.json())
        assert replay["Idempotent-Replayed"] == "true"
        assert reused.status_code == 422 and reused.json()["type"].endswith("/idempotency_key_reused")
        assert state() == before


@pytest.fixture
def recorded(world):
    """Two ASC receipts and one ILF receipt, recorded through the service."""
    asc, ilf = due("ASC"), due("ILF")
    stream = FundingStream.objects.get
    receipts = [
        funding_receipt_record(
            stream=stream(code="ASC"),
            instalments=[asc[0].public_id],
            reference="A-1",
            received_on=date(2026, 4, 3),
            by=None,
        ).receipt,
        funding_receipt_record(
            stream=stream(code="ASC"),
            instalments=[asc[1].public_id, asc[2].public_id],
            reference="A-2",
            received_on=date(2026, 6, 1),
            by=None,
        ).receipt,
        funding_receipt_record(
            stream=stream(code="ILF"),
            instalments=[ilf[0].public_id],
            reference="I-1",
            received_on=date(2026, 4, 2),
            by=None,
        ).receipt,
    ]
    return receipts


class TestWhoMay:
    @pytest.mark.parametrize("role", SEE_ALL)
    def test_finance_and_administrators_record(self, world, role):
        response = world.client(role).post(RECEIPTS.format(code="DFG"), body(due("DFG")), format="json")
        assert response.status_code == 201

    def test_the_streams_own_officer_may_not_record(self, world):
        before = state()
        response = world.client("officer_asc").post(
            RECEIPTS.format(code="ASC"), body(due("ASC")[:1]), format="json"
        )
        assert response.status_code == 403
        assert response.json()["type"].endswith("/permission_denied")
        assert state() == before

    @pytest.mark.parametrize("role", [*SEE_NOTHING, "officer_atw", "officer_unrelated"])
    def test_anyone_else_recording_gets_404(self, world, role):
        before = state()
        response = world.client(role).post(RECEIPTS.format(code="ASC"), body(due("ASC")[:1]), format="json")
        assert response.status_code == 404
        assert state() == before

    def test_a_providers_api_key_gets_404(self, world):
        client = provider_client("bright-care")
        assert (
            client.post(RECEIPTS.format(code="ASC"), body(due("ASC")[:1]), format="json").status_code == 404
        )
        assert client.get(RECEIPTS.format(code="ASC")).status_code == 404
        assert client.get(LATE).status_code == 404

    def test_anonymous_gets_401(self, world):
        client = world.client("anonymous")
        assert (
            client.post(RECEIPTS.format(code="ASC"), body(due("ASC")[:1]), format="json").status_code == 401
        )
        assert client.get(RECEIPTS.format(code="ASC")).status_code == 401
        assert client.get(LATE).status_code == 401
        assert state()[0] == 0

    @pytest.mark.parametrize(
        "role, code, expected",
        [
            ("finance", "ASC", 200),
            ("admin", "ILF", 200),
            ("officer_asc", "ASC", 200),
            ("officer_asc", "ILF", 404),
            ("officer_atw", "ASC", 404),
            ("officer_unrelated", "ASC", 404),
            *[(role, "ASC", 404) for role in SEE_NOTHING],
            ("finance", "NOPE", 404),
        ],
    )
    def test_who_sees_a_streams_receipts(self, world, recorded, role, code, expected):
        response = world.client(role).get(RECEIPTS.format(code=code))
        assert response.status_code == expected
        if expected == 200:
            assert {item["stream"] for item in response.json()["results"]} == {code}

    @pytest.mark.parametrize(
        "role, streams",
        [
            ("finance", {"ASC", "ATW", "DFG", "ILF"}),
            ("admin", {"ASC", "ATW", "DFG", "ILF"}),
            ("officer_asc", {"ASC"}),
            ("officer_atw", {"ATW"}),
            ("officer_unrelated", set()),
        ],
    )
    def test_who_sees_which_late_instalments(self, world, role, streams):
        response = world.client(role).get(LATE, {"page_size": 200})
        assert response.status_code == 200
        assert {item["stream"] for item in response.json()["results"]} == streams

    @pytest.mark.parametrize("role", SEE_NOTHING)
    def test_anyone_else_gets_404_for_late_instalments(self, world, role):
        assert world.client(role).get(LATE).status_code == 404
        assert world.client(role).get(LATE, {"stream": "ASC"}).status_code == 404

    def test_an_officer_asking_for_another_agencys_stream_gets_404(self, world):
        client = world.client("officer_asc")
        assert client.get(LATE, {"stream": "ATW"}).status_code == 404
        assert client.get(LATE, {"stream": "NOPE"}).status_code == 404
        assert client.get(LATE, {"stream": "ASC"}).status_code == 200


class TestBadInput:
    @pytest.mark.parametrize(
        "sent, status, expected",
        [
            (
                {},
                400,
                [("required", "/reference"), ("required", "/received_on"), ("required", "/instalments")],
            ),
            ({"reference": ""}, 400, [("blank", "/reference")]),
            ({"reference": "R" * 65}, 400, [("max_length", "/reference")]),
            ({"received_on": "2026-13-01"}, 400, [("invalid", "/received_on")]),
            ({"received_on": "18/11/2026"}, 400, [("invalid", "/received_on")]),
            ({"instalments": "ins_x"}, 400, [("not_a_list", "/instalments")]),
            ({"instalments": [1, {"x": 1}]}, 400, [("invalid", "/instalments/1")]),
            ({"amount": "1000"}, 400, [("invalid_amount", "/amount")]),
            ({"amount": "10.5"}, 400, [("invalid_amount", "/amount")]),
            ({"amount": "1,000.00"}, 400, [("invalid_amount", "/amount")]),
            ({"instalments": []}, 422, [("no_instalments", "/instalments")]),
            ({"received_on": "2026-11-21"}, 422, [("future_date", "/received_on")]),
            ({"received_on": "2026-10-10"}, 422, [("received_too_early", "/received_on")]),
            ({"amount": "1999.99"}, 422, [("amount_mismatch", "/amount")]),
            ({"amount": "0.00"}, 422, [("invalid_amount", "/amount")]),
            ({"amount": "-1000.00"}, 422, [("invalid_amount", "/amount")]),
            ({"instalments": ["ins_nothing"]}, 422, [("unknown_instalment", "/instalments/0")]),
            ({"instalments": "ilf"}, 422, [("unknown_instalment", "/instalments/0")]),
            ({"instalments": "scheduled"}, 422, [("not_due", "/instalments/0")]),
            (
                {"instalments": "last_and_ilf", "received_on": "2026-12-01", "amount": "5.00"},
                422,
                [
                    ("future_date", "/received_on"),
                    ("unknown_instalment", "/instalments/1"),
                ],
            ),
        ],
    )
    def test_each_problem_named_with_its_pointer_and_nothing_changes(self, world, sent, status, expected):
        last, ilf = due("ASC")[-1], due("ILF")[0]
        scheduled = Instalment.objects.filter(
            personal_budget__stream__code="ASC", status=InstalmentStatus.SCHEDULED
        ).first()
        named = {
            "ilf": [ilf.public_id],
            "scheduled": [scheduled.public_id],
            "last_and_ilf": [last.public_id, ilf.public_id],
        }
        request = {**body([last], amount="1000.00"), **sent} if sent else {}
        if isinstance(request.get("instalments"), str) and request["instalments"] in named:
            request["instalments"] = named[request["instalments"]]
        before = state()

        response = world.client("finance").post(RECEIPTS.format(code="ASC"), request, format="json")

        assert response.status_code == status, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert problems(response) == expected
        assert all(error["detail"] for error in response.json()["errors"])
        assert state() == before

    def test_an_already_received_instalment(self, world):
        client = world.client("finance")
        client.post(RECEIPTS.format(code="ASC"), body(due("ASC")[:1], reference="FIRST"), format="json")
        taken = Instalment.objects.get(status=InstalmentStatus.RECEIVED)
        before = state()
        response = client.post(RECEIPTS.format(code="ASC"), body([taken], reference="SECOND"), format="json")
        assert response.status_code == 422
        assert problems(response) == [("already_received", "/instalments/0")]
        assert response.json()["detail"] == f"{taken.public_id} was already received on 18 November 2026."
        assert state() == before

    def test_malformed_json_is_400(self, world):
        response = world.client("finance").post(
            RECEIPTS.format(code="ASC"), data="{not json", content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json()["type"].endswith("/malformed_request")


class TestLists:
    def test_receipts_latest_received_first_cursor_paged(self, world, recorded):
        client = world.client("finance")
        first = client.get(RECEIPTS.format(code="ASC"), {"page_size": 1}).json()
        assert [item["reference"] for item in first["results"]] == ["A-2"]
        assert first["results"][0]["amount"] == "2000.00"
        assert len(first["results"][0]["instalments"]) == 2
        assert first["previous"] is None and first["next"]
        second = client.get(first["next"]).json()
        assert [item["reference"] for item in second["results"]] == ["A-1"]
        assert second["next"] is None

    def test_late_instalments_oldest_first_with_days_late(self, world, recorded):
        response = world.client("officer_asc").get(LATE, {"stream": "ASC", "page_size": 2}).json()
        asc = due("ASC")
        assert [item["id"] for item in response["results"]] == [asc[0].public_id, asc[1].public_id]
        item = response["results"][0]
        assert item == {
            "id": asc[0].public_id,
            "person": world.base.alex.public_id,
            "stream": "ASC",
            "personal_budget": asc[0].personal_budget.public_id,
            "sequence": 4,
            "due_on": "2026-06-24",
            "days_late": 149,
            "amount": "1000.00",
            "currency": "GBP",
            "covers_from": "2026-06-24",
            "covers_to": "2026-07-21",
        }
        assert response["next"]
        rest = world.client("officer_asc").get(response["next"]).json()
        assert [i["due_on"] for i in rest["results"]] == ["2026-08-19", "2026-09-16"]

    def test_query_counts_do_not_grow_with_the_data(self, world):
        client = world.client("finance")
        stream = FundingStream.objects.get(code="ASC")

        def count(url: str) -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            return len(queries)

        funding_receipt_record(
            stream=stream,
            instalments=[due("ASC")[0].public_id],
            reference="Q-1",
            received_on=date(2026, 5, 1),
            by=None,
        )
        count(LATE)  # the token's first use of the day is written down once
        few_receipts, few_late = count(RECEIPTS.format(code="ASC")), count(LATE)
        for n, instalment in enumerate(due("ASC")[:4]):
            funding_receipt_record(
                stream=stream,
                instalments=[instalment.public_id],
                reference=f"Q-{n + 2}",
                received_on=date(2026, 11, 19),
                by=None,
            )
        assert count(RECEIPTS.format(code="ASC")) == few_receipts
        assert count(LATE) == few_late
