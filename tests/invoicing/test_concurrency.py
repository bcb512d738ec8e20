"""Invoicing under real concurrency, on PostgreSQL: threads with their own connections, committing for real.

Races: two approvals for the last of a budget, one Idempotency-Key sent three times at once, one invoice
number submitted twice at once, and an approval racing a withdrawal. The world is `tests.invoicing.world`
(the patched `timezone.localdate` applies to every thread, which is what we want: one "today").
"""

from decimal import ROUND_CEILING, Decimal

import pytest
from rest_framework.test import APIClient

from api.models import IdempotencyRecord
from budgets import accounts as budget_accounts
from invoicing import services
from invoicing.models import Invoice, InvoiceStatus
from ledger.models import Account, Transaction
from people import services as people_services
from people.models import Organisation
from tests.concurrency import run_in_threads
from tests.invoicing.world import build_invoicing_world, invoice_body, provider_client

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def _funds(world, stream_code: str) -> Account:
    key = budget_accounts.person_funds_key(
        budget_holder_public_id=world.base.alex.public_id, stream_code=stream_code
    )
    return Account.objects.get(key=key, currency="GBP")


def _submit(client: APIClient, body: dict) -> Invoice:
    response = client.post("/api/v1/invoices/", body, format="json")
    assert response.status_code == 201, response.content
    return Invoice.objects.get(public_id=response.json()["id"])


def _clients_with_one_key(slug: str, count: int) -> list[APIClient]:
    """`count` API clients (one for each thread) carrying the same API key of the provider `slug`."""
    _, raw = people_services.provider_api_key_issue(
        provider=Organisation.objects.get(slug=slug), name="tests", issued_by=None
    )
    clients = []
    for _ in range(count):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        clients.append(client)
    return clients


class TestTwoApprovalsForTheLastOfABudget:
    def test_exactly_one_is_approved_and_the_funds_never_go_below_zero(self, world):
        funds = _funds(world, "ATW")
        available = funds.available_minor
        # Each invoice a little over half of what Access to Work holds: either alone fits, both do not.
        hours = (Decimal(available) / 2 / world.work.agreed_rate_minor).quantize(
            Decimal("0.01"), rounding=ROUND_CEILING
        )
        able = provider_client("able-assist")
        invoices = [
            _submit(able, invoice_body(world.work, number=f"INV-{n}", lines=[("2026-10-05", str(hours))]))
            for n in (1, 2)
        ]
        amount = invoices[0].total_minor
        assert invoices[1].total_minor == amount
        assert amount <= available < 2 * amount
        # Neither is held for want of money (the second is over the planned hours, which does not matter).
        for invoice in invoices:
            assert "insufficient_funds" not in {finding["code"] for finding in invoice.findings}
        transactions = Transaction.objects.count()
        holder = world.base.alex.user

        results = run_in_threads(2, lambda i: services.invoice_approve(invoice=invoices[i], by=holder))

        approved = [result for result in results if isinstance(result, Invoice)]
        refused = [result for result in results if isinstance(result, Exception)]
        assert len(approved) == 1, results
        assert len(refused) == 1 and isinstance(refused[0], services.InvoiceInsufficientFunds), results
        loser = invoices[results.index(refused[0])]
        assert Invoice.objects.get(pk=loser.pk).status == loser.status
        assert Invoice.objects.get(pk=loser.pk).reservation_id is None
        assert Invoice.objects.get(pk=approved[0].pk).status == InvoiceStatus.APPROVED
        assert Transaction.objects.count() == transactions + 1
        funds.refresh_from_db()
        assert funds.available_minor == available - amount
        assert funds.available_minor >= 0


class TestOneIdempotencyKeyThreeTimesAtOnce:
    def test_one_invoice_is_made_and_the_others_replay_or_wait(self, world):
        clients = _clients_with_one_key("bright-care", 3)
        body = invoice_body(world.care, number="INV-IDEM")

        def submit(index: int):
            return clients[index].post(
                "/api/v1/invoices/", body, format="json", HTTP_IDEMPOTENCY_KEY="submit-inv-idem"
            )

        responses = run_in_threads(3, submit)

        for response in responses:
            assert not isinstance(response, Exception), response
        assert Invoice.objects.filter(invoice_number="INV-IDEM").count() == 1
        invoice = Invoice.objects.get(invoice_number="INV-IDEM")
        first = [r for r in responses if r.status_code == 201 and r.get("Idempotent-Replayed") != "true"]
        assert len(first) == 1, [(r.status_code, r.content) for r in responses]
        assert first[0].json()["id"] == invoice.public_id
        for response in responses:
            if response is first[0]:
                continue
            if response.status_code == 201:
                assert response["Idempotent-Replayed"] == "true"
                assert response.json() == first[0].json()
            else:
                assert response.status_code == 409, response.content
                assert response.json()["errors"][0]["code"] == "idempotency_request_in_progress"
                assert response["Retry-After"] == "1"
        assert IdempotencyRecord.objects.filter(key="submit-inv-idem").count() == 1

        again = clients[0].post(
            "/api/v1/invoices/", body, format="json", HTTP_IDEMPOTENCY_KEY="submit-inv-idem"
        )

        assert again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert again.json() == first[0].json()
        assert Invoice.objects.filter(invoice_number="INV-IDEM").count() == 1


class TestOneInvoiceNumberTwiceAtOnce:
    @pytest.mark.parametrize("same_key", [True, False], ids=["one API key", "two API keys"])
    def test_one_is_made_and_the_other_is_a_duplicate(self, world, same_key):
        clients = _clients_with_one_key("bright-care", 2)
        if not same_key:
            clients[1] = provider_client("bright-care")
        for round_ in range(3):
            number = f"INV-TWICE-{round_}"
            body = invoice_body(world.care, number=number)

            def submit(index: int, body=body, round_=round_):
                return clients[index].post(
                    "/api/v1/invoices/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"twice-{round_}-{index}"
                )

            responses = run_in_threads(2, submit)

            for response in responses:
                assert not isinstance(response, Exception), response
            assert sorted(r.status_code for r in responses) == [201, 409], [r.content for r in responses]
            made = next(r for r in responses if r.status_code == 201)
            duplicate = next(r for r in responses if r.status_code == 409)
            assert [error["code"] for error in duplicate.json()["errors"]] == ["duplicate_invoice"]
            assert made.json()["id"] in duplicate.json()["detail"]
            assert Invoice.objects.filter(invoice_number=number).count() == 1


class TestApproveRacingWithdraw:
    def test_exactly_one_wins_and_a_withdrawn_invoice_reserves_nothing(self, world):
        bright = provider_client("bright-care")
        holder, provider_user = world.base.alex.user, world.users["provider_engaged"]
        funds = {code: _funds(world, code) for code in ("ASC", "ILF")}
        winners = set()
        for round_ in range(4):
            invoice = _submit(bright, invoice_body(world.care, number=f"INV-RACE-{round_}"))
            assert invoice.status == InvoiceStatus.AWAITING_APPROVAL
            transactions = Transaction.objects.count()
            available = {code: Account.objects.get(pk=a.pk).available_minor for code, a in funds.items()}

            def act(index: int, invoice=invoice):
                if index == 0:
                    return services.invoice_approve(invoice=invoice, by=holder)
                return services.invoice_withdraw(invoice=invoice, by=provider_user, reason="Sent twice.")

            results = run_in_threads(2, act)

            won = [index for index, result in enumerate(results) if isinstance(result, Invoice)]
            assert len(won) == 1, results
            lost = results[1 - won[0]]
            assert isinstance(lost, services.InvoiceStateConflict), results
            invoice.refresh_from_db()
            now = {code: Account.objects.get(pk=a.pk).available_minor for code, a in funds.items()}
            if won == [0]:
                winners.add("approve")
                assert invoice.status == InvoiceStatus.APPROVED
                assert invoice.reservation_id is not None
                assert Transaction.objects.count() == transactions + 1
                assert sum(available.values()) - sum(now.values()) == invoice.total_minor
            else:
                winners.add("withdraw")
                assert invoice.status == InvoiceStatus.WITHDRAWN
                assert invoice.reservation_id is None
                assert Transaction.objects.count() == transactions
                assert now == available
            assert all(value >= 0 for value in now.values())
            assert [event.status for event in invoice.events.order_by("id")][-1] == invoice.status
        assert winners  # which one wins is the scheduler's choice; the assertions above hold either way
