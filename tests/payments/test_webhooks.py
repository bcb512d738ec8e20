"""`POST /api/v1/webhooks/stripe/` (api.md, "Payments"): Stripe's signed events, through the real endpoint.

Each payload is signed by the SDK's own scheme (`StripeDouble.webhook`) and posted raw, as Stripe posts it;
the hostile cases (no header, garbage, another secret, a body changed after signing, a stale timestamp, a
replay, webhooks switched off, a signed body that is not an event) answer 400 or 200 and change nothing,
counted in rows. A failed or reversed transfer undoes the payment: the invoices approved again with a new
reservation, the person's money where it was before, a timeline entry, an audit event, a warning and an
email for finance, and the next run pays the invoices again.

The helpers at the top (`deliver`, `snapshot`, `paid_by_stripe`...) are shared with test_events_order.py
and test_refetch.py.
"""

import json
import time
from typing import Any

import pytest
from django.core import mail
from django.test import TestCase
from rest_framework.test import APIClient

from invoicing.models import Invoice, Remittance, RemittanceLine
from ledger.models import Account, Transaction
from ledger.selectors import account_balance
from payments import selectors
from payments.models import Payment, PaymentStatus, StripeEvent
from payments.services import events
from people.models import AuditEvent, Organisation
from plans.models import TimelineEntry
from tests.payments.stripe_double import StripeDouble, stripe_double  # noqa: F401
from tests.payments.world import approve, build_payments_world, start_run

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/stripe/"
FINANCE_EMAIL = "payments-team@northshire.example"


# Shared helpers -------------------------------------------------------------------------------------------


def make_world(monkeypatch, settings, double):
    settings.PAYMENTS_WARNING_EMAILS = [FINANCE_EMAIL]
    return build_payments_world(monkeypatch, settings, double)


def paid_by_stripe(world) -> Payment:
    """Run a payment run (bright-care's invoice by Stripe); return bright-care's payment, sent."""
    start_run(world.users["finance"])
    payment = Payment.objects.get(provider__slug="bright-care", status=PaymentStatus.SENT)
    return payment


def post_raw(payload: bytes, signature: str | None, **extra: Any):
    headers = {} if signature is None else {"HTTP_STRIPE_SIGNATURE": signature}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return APIClient().generic("POST", URL, payload, content_type="application/json", **headers, **extra)


def deliver(event: dict[str, Any], **sign: Any):
    """POST `event` as Stripe would, signed with the double's webhook secret (or `secret=`, `timestamp=`)."""
    payload, signature = StripeDouble.webhook(event, **sign)
    return post_raw(payload, signature)


def transfer_event(double, payment: Payment, kind: str) -> dict[str, Any]:
    """A `transfer.<kind>` event for the payment's transfer as the double has it (`reversed`: in full)."""
    transfer = dict(double.transfers[payment.stripe_transfer_id])
    if kind == "reversed":
        transfer.update(reversed=True, amount_reversed=transfer["amount"])
    if kind == "failed":
        transfer["failure_message"] = "The connected account cannot receive transfers."
    return double.event(f"transfer.{kind}", transfer)


def balances() -> dict[str, tuple[int, int]]:
    """Every ledger account's (posted, available) balance, by key, leaving out the ones at (0, 0): an
    account made on first use exists after some orders of events and not after others."""
    found = {
        account.key: (balance.posted_minor, balance.available_minor)
        for account in Account.objects.order_by("key")
        for balance in [account_balance(account=account)]
    }
    return {key: value for key, value in found.items() if value != (0, 0)}


def snapshot(provider_slug: str = "bright-care") -> dict[str, Any]:
    """What an order of events must not change: payments, invoices, remittances and every balance."""
    provider = Organisation.objects.get(slug=provider_slug)
    return {
        "payments": sorted(
            Payment.objects.filter(provider=provider).values_list("public_id", "status", "amount_minor")
        ),
        "invoices": sorted(
            (invoice.invoice_number, invoice.status, invoice.remittance_line_id is not None)
            for invoice in Invoice.objects.filter(provider=provider)
        ),
        "remittances": sorted(
            (remittance.reference, remittance.total_minor, remittance.reversed_on is not None)
            for remittance in Remittance.objects.filter(provider=provider)
        ),
        "remittance_lines": sorted(
            (line.invoice.invoice_number, line.amount_minor, line.reversed_at is not None)
            for line in RemittanceLine.objects.filter(invoice__provider=provider).select_related("invoice")
        ),
        "balances": balances(),
    }


def counts() -> tuple[int, int, int, int]:
    return (
        Transaction.objects.count(),
        StripeEvent.objects.count(),
        TimelineEntry.objects.count(),
        AuditEvent.objects.count(),
    )


def funds_keys(invoice: Invoice) -> list[str]:
    """The person's funds accounts the invoice's reservation draws on."""
    return sorted(
        posting.account.key
        for posting in invoice.reservation.postings.select_related("account")
        if posting.account.owner_type != "provider"
    )


def problem_code(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    body = response.json()
    code = body["type"].rsplit("/", 1)[-1]
    assert [error["code"] for error in body.get("errors", [{"code": code}])] == [code]
    return code


@pytest.fixture
def world(monkeypatch, settings, stripe_double):  # noqa: F811
    return make_world(monkeypatch, settings, stripe_double)


# The signature --------------------------------------------------------------------------------------------


class TestSignature:
    @pytest.fixture
    def paid(self, world):
        payment = paid_by_stripe(world)
        event = transfer_event(world.stripe, payment, "paid")
        return payment, event

    def refused(self, response, *, detail_has: str) -> None:
        assert response.status_code == 400, response.content
        assert problem_code(response) == "invalid_signature"
        assert detail_has in response.json()["detail"]

    def test_no_header_is_400_and_changes_nothing(self, paid):
        payment, event = paid
        before = counts()

        response = post_raw(json.dumps(event).encode(), None)

        self.refused(response, detail_has="no Stripe-Signature header")
        assert counts() == before
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SENT

    def test_a_garbage_header_is_400(self, paid):
        _, event = paid
        before = counts()

        response = post_raw(json.dumps(event).encode(), "garbage, not=a signature")

        self.refused(response, detail_has="does not match")
        assert counts() == before

    def test_signed_with_another_secret_is_400(self, paid):
        payment, event = paid
        before = counts()

        response = deliver(event, secret="whsec_someone_else")

        self.refused(response, detail_has="does not match")
        assert counts() == before
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SENT

    def test_a_payload_changed_after_signing_is_400(self, paid):
        payment, event = paid
        payload, signature = StripeDouble.webhook(event)
        changed = payload.replace(b'"transfer.paid"', b'"transfer.failed"')
        assert changed != payload
        before = counts()

        response = post_raw(changed, signature)

        self.refused(response, detail_has="does not match")
        assert counts() == before
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SENT

    def test_a_timestamp_301_seconds_old_is_400(self, paid):
        payment, event = paid
        before = counts()

        response = deliver(event, timestamp=int(time.time()) - 301)

        self.refused(response, detail_has="more than 300 seconds old")
        assert counts() == before
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SENT

    def test_a_timestamp_299_seconds_old_is_accepted(self, paid):
        payment, event = paid

        response = deliver(event, timestamp=int(time.time()) - 299)

        assert response.status_code == 200, response.content
        assert response.json()["processed"] is True
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID

    def test_webhooks_switched_off_is_400_saying_so(self, paid, settings):
        _, event = paid
        settings.STRIPE_WEBHOOK_SECRET = ""
        before = counts()

        response = deliver(event)

        self.refused(response, detail_has="webhooks are switched off: STRIPE_WEBHOOK_SECRET is not set")
        assert counts() == before

    @pytest.mark.parametrize("payload", [b"not json at all", b'{"id": '])
    def test_a_correctly_signed_body_that_is_not_json_is_400(self, world, payload):
        before = counts()

        response = post_raw(payload, StripeDouble.sign(payload))

        self.refused(response, detail_has="not a Stripe event")
        assert counts() == before

    @pytest.mark.parametrize("payload", [b"[]", b'"evt_1"', b"null", b"{}", b'{"id": 12}', b'{"id": ""}'])
    def test_a_correctly_signed_json_that_is_not_an_event_is_400_invalid_event(self, world, payload):
        before = counts()

        response = post_raw(payload, StripeDouble.sign(payload))

        assert response.status_code == 400, response.content
        assert problem_code(response) == "invalid_event"
        assert counts() == before


class TestTheEndpoint:
    def test_a_replay_of_an_accepted_event_is_200_processed_false_and_changes_nothing(self, world):
        payment = paid_by_stripe(world)
        event = transfer_event(world.stripe, payment, "paid")
        payload, signature = StripeDouble.webhook(event)
        first = post_raw(payload, signature)
        assert first.status_code == 200, first.content
        before, state = counts(), snapshot()

        again = post_raw(payload, signature)

        assert again.status_code == 200
        body = again.json()
        assert (body["received"], body["event"], body["processed"], body["acted"]) == (
            True,
            event["id"],
            False,
            False,
        )
        assert body["outcome"].startswith("Already processed at ")
        assert counts() == before
        assert snapshot() == state

    def test_the_same_event_re_signed_later_is_also_seen_before(self, world):
        payment = paid_by_stripe(world)
        event = transfer_event(world.stripe, payment, "paid")
        deliver(event, timestamp=int(time.time()) - 200)
        before = counts()

        response = deliver(event)

        assert response.json()["processed"] is False
        assert counts() == before

    def test_the_answer_names_the_event_and_what_purse_did(self, world):
        payment = paid_by_stripe(world)
        event = transfer_event(world.stripe, payment, "paid")

        response = deliver(event)

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "received": True,
            "event": event["id"],
            "processed": True,
            "acted": True,
            "outcome": f"Payment {payment.public_id}: sent -> paid.",
        }
        stored = StripeEvent.objects.get(event_id=event["id"])
        assert (stored.type, stored.source, stored.acted) == ("transfer.paid", "webhook", True)
        assert stored.payload["data"]["object"]["id"] == payment.stripe_transfer_id

    def test_an_unknown_event_type_is_200_stored_and_changes_nothing(self, world):
        payment = paid_by_stripe(world)
        state = snapshot()
        event = world.stripe.event("customer.created", {"id": "cus_1", "object": "customer"})

        response = deliver(event)

        assert response.status_code == 200
        assert (response.json()["processed"], response.json()["acted"]) == (True, False)
        assert response.json()["outcome"] == "Purse does not act on customer.created."
        assert snapshot() == state
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SENT

    def test_a_transfer_that_is_not_purses_is_200_stored_and_acted_false(self, world):
        paid_by_stripe(world)
        state = snapshot()
        stranger = world.stripe.transfer_object(destination=world.stripe_account, amount=999)
        before = counts()

        response = deliver(world.stripe.event("transfer.reversed", {**stranger, "reversed": True}))

        assert response.status_code == 200
        assert (response.json()["processed"], response.json()["acted"]) == (True, False)
        assert response.json()["outcome"] == f"Transfer {stranger['id']} is not one of Purse's payments."
        assert counts() == (before[0], before[1] + 1, before[2], before[3])
        assert snapshot() == state

    def test_a_transfer_naming_a_payment_it_does_not_match_changes_nothing_and_finance_is_told(self, world):
        payment = paid_by_stripe(world)
        state = snapshot()
        mail.outbox.clear()
        impostor = world.stripe.transfer_object(
            destination=world.stripe_account, amount=payment.amount_minor, payment=payment.public_id
        )

        response = deliver(world.stripe.event("transfer.failed", impostor))

        assert response.status_code == 200
        assert response.json()["acted"] is False
        assert response.json()["outcome"] == (
            f"Transfer {impostor['id']} names payment {payment.public_id}, which Stripe paid by transfer "
            f"{payment.stripe_transfer_id}."
        )
        assert snapshot() == state
        assert [message.to for message in mail.outbox] == [[FINANCE_EMAIL]]

    def test_a_connected_accounts_own_event_is_not_acted_on(self, world):
        payment = paid_by_stripe(world)
        event = {**transfer_event(world.stripe, payment, "reversed"), "account": world.stripe_account}

        response = deliver(event)

        assert response.json()["acted"] is False
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SENT

    @pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
    def test_another_method_is_405(self, world, method):
        response = APIClient().generic(method, URL)

        assert response.status_code == 405
        assert problem_code(response) == "method_not_allowed"

    def test_a_payload_over_1_mb_is_413_and_changes_nothing(self, world):
        event = world.stripe.event("customer.created", {"id": "cus_1", "padding": "x" * (1024 * 1024)})
        before = counts()

        response = deliver(event)

        assert response.status_code == 413
        assert problem_code(response) == "payload_too_large"
        assert counts() == before

    def test_no_rate_limit_refuses_stripe(self, world, settings):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"provider_key": "1/minute", "anon": "1/minute", "user": "1/minute"},
        }
        answers = [deliver(world.stripe.event("customer.created", {"id": f"cus_{n}"})) for n in range(5)]

        assert [answer.status_code for answer in answers] == [200] * 5

    def test_stripes_own_accept_header_is_answered_in_json(self, world):
        payload, signature = StripeDouble.webhook(world.stripe.event("customer.created", {"id": "cus_1"}))

        response = post_raw(payload, signature, HTTP_ACCEPT="*/*; q=0.5, application/xml")

        assert response.status_code == 200
        assert response.json()["processed"] is True

    def test_a_session_without_a_csrf_token_does_not_matter(self, world):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(world.users["finance"])
        payload, signature = StripeDouble.webhook(world.stripe.event("customer.created", {"id": "cus_1"}))

        response = client.generic(
            "POST", URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )

        assert response.status_code == 200

    def test_it_is_not_in_the_public_schema(self, world):
        client = APIClient()
        client.force_authenticate(world.users["finance"])

        schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

        assert not [path for path in schema["paths"] if "webhook" in path]

    def test_a_broken_rule_rolls_back_stores_nothing_and_is_409(self, world, monkeypatch, caplog):
        payment = paid_by_stripe(world)
        event = transfer_event(world.stripe, payment, "paid")
        state, before = snapshot(), counts()

        from ledger.services import PeriodClosed

        def closed(payment):
            Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.PAID)  # rolled back too
            raise PeriodClosed("That date is in a closed period: the ledger is closed to 30 November 2026.")

        monkeypatch.setattr(events, "payment_settle", closed)

        response = deliver(event)

        assert response.status_code == 409
        assert problem_code(response) == "period_closed"
        assert "closed to 30 November 2026" in response.json()["detail"]
        assert counts() == before
        assert snapshot() == state
        assert "will be retried" in caplog.text
        # Stripe delivers it again once the rule no longer stands: it is processed then.
        monkeypatch.undo()
        again = deliver(event)
        assert (again.status_code, again.json()["processed"], again.json()["acted"]) == (200, True, True)
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID


# Settling, and undoing -----------------------------------------------------------------------------------


class TestPaid:
    def test_transfer_paid_moves_clearing_to_stripe_cash(self, world):
        payment = paid_by_stripe(world)
        amount = payment.amount_minor
        assert balances()["payments:clearing:stripe:GBP"] == (amount, amount)

        deliver(transfer_event(world.stripe, payment, "paid"))

        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PAID
        assert "payments:clearing:stripe:GBP" not in balances()
        assert balances()["payments:cash:stripe:GBP"] == (-amount, -amount)
        assert Invoice.objects.get(pk=world.invoices["bright-care"].pk).status == "paid"

    def test_transfer_created_for_a_sent_payment_changes_nothing(self, world):
        payment = paid_by_stripe(world)
        state = snapshot()

        response = deliver(transfer_event(world.stripe, payment, "created"))

        assert response.json()["acted"] is False
        assert response.json()["outcome"] == f"Payment {payment.public_id} is already sent; nothing changed."
        assert snapshot() == state


@pytest.mark.parametrize("kind", ["failed", "reversed"])
class TestUndone:
    def test_the_payment_is_undone_and_everyone_who_should_know_knows(self, world, kind):
        invoice = world.invoices["bright-care"]
        keys = funds_keys(invoice)
        before_payment = balances()
        payment = paid_by_stripe(world)
        amount = payment.amount_minor
        assert amount == invoice.total_minor
        paid = balances()
        # Paying posted the reservation: the person's posted balance went down by the amount, and what is
        # available did not move (it was set aside at approval).
        assert sum(before_payment[key][0] - paid[key][0] for key in keys) == amount
        assert [paid[key][1] for key in keys] == [before_payment[key][1] for key in keys]
        timeline_before = TimelineEntry.objects.filter(budget_holder=invoice.budget_holder).count()
        mail.outbox.clear()

        response = deliver(transfer_event(world.stripe, payment, kind))

        assert response.status_code == 200
        assert response.json()["acted"] is True
        assert response.json()["outcome"] == f"Payment {payment.public_id}: sent -> {kind}."
        payment.refresh_from_db()
        assert payment.status == kind
        if kind == "failed":
            assert payment.error == (
                "Stripe could not make the transfer. The connected account cannot receive transfers."
            )
        else:
            assert payment.error == "The transfer was reversed."
        # The invoice is approved again, with a new reservation; the money is back where it was.
        invoice = Invoice.objects.get(pk=invoice.pk)
        assert (invoice.status, invoice.remittance_line_id) == ("approved", None)
        assert invoice.reservation.idempotency_key == (
            f"invoice:{invoice.public_id}:reservation:after:{payment.public_id}"
        )
        after = balances()
        for key in keys:
            assert after.get(key) == before_payment.get(key), key  # available as before, posted back up
        assert after.get("payments:clearing:stripe:GBP", (0, 0)) == (0, 0)
        assert after.get("payments:cash:stripe:GBP", (0, 0)) == (0, 0)
        payable = f"provider:{payment.provider.public_id}:payable:GBP"
        assert payable not in after and payable not in before_payment
        owed = Account.objects.get(key=payable)
        # Posted: the invoice's payment (credit) and its reversal (debit), the move to clearing (debit) and
        # its reversal (credit), so nothing; pending: the new reservation, owed again for the next run.
        assert (owed.credits_posted, owed.debits_posted) == (2 * amount, 2 * amount)
        assert (owed.credits_pending, owed.debits_pending) == (amount, 0)
        remittance = Remittance.objects.get(reference=payment.public_id)
        assert remittance.reversed_on is not None
        assert remittance.lines.get().reversed_at is not None
        # Told: the person (timeline), the audit trail, finance's warnings and finance's inbox.
        entries = TimelineEntry.objects.filter(budget_holder=invoice.budget_holder).order_by("pk")
        assert entries.count() == timeline_before + 1
        assert entries.last().kind == "invoice.payment_undone"
        assert "did not go through" in entries.last().for_person
        assert AuditEvent.objects.filter(action=f"payment.{kind}", object_id=payment.public_id).count() == 1
        assert list(selectors.payment_warnings()) == [payment]
        assert [message.to for message in mail.outbox] == [[FINANCE_EMAIL]]
        assert mail.outbox[0].subject == (
            f"Payment {payment.public_id} to {payment.provider.name} did not go through"
        )

    def test_after_paid_too(self, world, kind):
        invoice = world.invoices["bright-care"]
        keys = funds_keys(invoice)
        before_payment = balances()
        payment = paid_by_stripe(world)
        deliver(transfer_event(world.stripe, payment, "paid"))

        deliver(transfer_event(world.stripe, payment, kind))

        payment.refresh_from_db()
        assert payment.status == kind
        after = balances()
        assert after.get("payments:clearing:stripe:GBP", (0, 0)) == (0, 0)
        assert after.get("payments:cash:stripe:GBP", (0, 0)) == (0, 0)
        for key in keys:
            assert after.get(key) == before_payment.get(key), key

    def test_the_next_run_pays_the_invoices_again_with_a_new_payment_and_transfer(self, world, kind):
        first = paid_by_stripe(world)
        deliver(transfer_event(world.stripe, first, kind))
        transfers_before = world.stripe.transfer_count

        start_run(world.users["finance"])

        again = Payment.objects.exclude(pk=first.pk).get(provider__slug="bright-care")
        assert again.status == PaymentStatus.SENT
        assert again.amount_minor == first.amount_minor
        assert again.stripe_transfer_id not in ("", first.stripe_transfer_id)
        assert world.stripe.transfer_count == transfers_before + 1
        assert world.stripe.transfers[again.stripe_transfer_id]["metadata"]["payment"] == again.public_id
        assert list(again.lines.values_list("invoice_id", flat=True)) == [world.invoices["bright-care"].pk]
        assert Invoice.objects.get(pk=world.invoices["bright-care"].pk).status == "paid"

    def test_a_late_paid_after_it_changes_nothing(self, world, kind):
        payment = paid_by_stripe(world)
        deliver(transfer_event(world.stripe, payment, kind))
        state, before = snapshot(), counts()

        response = deliver(transfer_event(world.stripe, payment, "paid"))

        assert response.json()["acted"] is False
        assert (
            response.json()["outcome"] == f"Payment {payment.public_id} is already {kind}; nothing changed."
        )
        assert snapshot() == state
        assert counts() == (before[0], before[1] + 1, before[2], before[3])


class TestPartlyReversed:
    def test_a_partial_reversal_changes_nothing_and_finance_is_told(self, world):
        payment = paid_by_stripe(world)
        state = snapshot()
        mail.outbox.clear()
        transfer = {**world.stripe.transfers[payment.stripe_transfer_id], "amount_reversed": 100}

        response = deliver(world.stripe.event("transfer.reversed", transfer))

        assert response.json()["acted"] is False
        assert response.json()["outcome"].startswith(
            f"Transfer {payment.stripe_transfer_id} was reversed in part (1.00 of "
        )
        assert snapshot() == state
        assert [message.to for message in mail.outbox] == [[FINANCE_EMAIL]]


class TestTwoInvoices:
    def test_a_reversed_payment_of_two_invoices_puts_both_back(self, world):
        second = approve(world, "bright-care", number="BC-2")
        before = balances()
        payment = paid_by_stripe(world)
        assert payment.lines.count() == 2

        deliver(transfer_event(world.stripe, payment, "reversed"))

        assert sorted(
            Invoice.objects.filter(pk__in=[world.invoices["bright-care"].pk, second.pk]).values_list(
                "invoice_number", "status"
            )
        ) == [("BC-1", "approved"), ("BC-2", "approved")]
        after = balances()
        for key in funds_keys(second):
            assert after.get(key) == before.get(key)
