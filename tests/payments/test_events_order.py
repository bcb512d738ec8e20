"""Stripe's events in every order: the same events, delivered in any order, once or twice, end in the same
state (payment status, invoices, remittances and their lines, every ledger balance: the provider's payable,
clearing, Stripe and bank cash, each of the person's funds, posted and available).

Each order is delivered through the real endpoint inside a savepoint rolled back afterwards, so that every
order starts from the same payment, sent by the same run, and the end states can be compared as they are.
Also: a transfer's events arriving before the run recorded the transfer (the run stopped after Stripe made
it), payouts of Purse's Stripe balance in both orders, an insert clash inside a caller's transaction, and
(on PostgreSQL) the same event delivered twice at once.
"""

import itertools
from typing import Any

import pytest
from django.db import connection, transaction

from invoicing.models import Invoice
from ledger.models import Transaction
from payments.models import Payment, PaymentRunStatus, PaymentStatus, StripeEvent
from payments.services import events, runs
from tests.concurrency import run_in_threads
from tests.payments.stripe_double import new_id, stripe_double  # noqa: F401
from tests.payments.test_webhooks import (
    balances,
    deliver,
    funds_keys,
    make_world,
    paid_by_stripe,
    snapshot,
    transfer_event,
)
from tests.payments.world import build_payments_world, start_run

pytestmark = pytest.mark.django_db


def orders(kinds: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every order of `kinds`, each event once; and each order again with its first event delivered a second
    time at the end, and with every event delivered twice in a row."""
    found: list[tuple[str, ...]] = []
    for order in itertools.permutations(kinds):
        found.append(order)
        found.append((*order, order[0]))
        found.append(tuple(kind for kind in order for _ in range(2)))
    return found


def end_state(events_by_kind: dict[str, dict[str, Any]], order: tuple[str, ...]) -> tuple[Any, list[Any]]:
    """Deliver `order` in a savepoint, read the end state, and roll back; returns (state, answers)."""
    with transaction.atomic():
        answers = []
        for kind in order:
            response = deliver(events_by_kind[kind])
            assert response.status_code == 200, (order, response.content)
            answers.append((kind, response.json()["processed"]))
        state = snapshot()
        transaction.set_rollback(True)
    return state, answers


@pytest.fixture
def world(monkeypatch, settings, stripe_double):  # noqa: F811
    return make_world(monkeypatch, settings, stripe_double)


@pytest.mark.parametrize(
    ("kinds", "final"),
    [(("created", "paid", "reversed"), "reversed"), (("created", "paid", "failed"), "failed")],
    ids=["reversed", "failed"],
)
def test_every_order_of_a_transfers_events_ends_in_the_same_state(world, kinds, final):
    invoice = world.invoices["bright-care"]
    keys = funds_keys(invoice)
    before_payment = balances()
    payment = paid_by_stripe(world)
    amount = payment.amount_minor
    events_by_kind = {kind: transfer_event(world.stripe, payment, kind) for kind in kinds}

    results = {order: end_state(events_by_kind, order) for order in orders(kinds)}

    assert len(results) == 18
    first_state = results[kinds][0]
    for order, (state, answers) in results.items():
        assert state == first_state, order
        # An event seen before is answered processed: false, whatever came between.
        seen: set[str] = set()
        for kind, processed in answers:
            assert processed is (kind not in seen), (order, kind)
            seen.add(kind)
    # And that state is the right one: undone, the invoice approved again, the money back where it was.
    assert first_state["payments"] == [(payment.public_id, final, amount)]
    assert first_state["invoices"] == [(invoice.invoice_number, "approved", False)]
    assert first_state["remittances"] == [(payment.public_id, amount, True)]
    assert first_state["remittance_lines"] == [(invoice.invoice_number, amount, True)]
    ledger = first_state["balances"]
    assert "payments:clearing:stripe:GBP" not in ledger  # (0, 0)
    assert "payments:cash:stripe:GBP" not in ledger
    assert {key: ledger.get(key) for key in keys} == {key: before_payment.get(key) for key in keys}
    assert ledger == before_payment


def test_every_order_of_created_and_paid_ends_paid(world):
    payment = paid_by_stripe(world)
    amount = payment.amount_minor
    events_by_kind = {kind: transfer_event(world.stripe, payment, kind) for kind in ("created", "paid")}

    results = {order: end_state(events_by_kind, order) for order in orders(("created", "paid"))}

    states = [state for state, _ in results.values()]
    assert all(state == states[0] for state in states)
    assert states[0]["payments"] == [(payment.public_id, "paid", amount)]
    assert states[0]["invoices"] == [("BC-1", "paid", True)]
    assert states[0]["remittances"] == [(payment.public_id, amount, False)]
    assert states[0]["balances"]["payments:cash:stripe:GBP"] == (-amount, -amount)
    assert "payments:clearing:stripe:GBP" not in states[0]["balances"]


def test_the_undo_is_told_once_whatever_the_order(world):
    from django.core import mail

    from people.models import AuditEvent
    from plans.models import TimelineEntry

    payment = paid_by_stripe(world)
    events_by_kind = {kind: transfer_event(world.stripe, payment, kind) for kind in ("paid", "reversed")}
    holder = world.invoices["bright-care"].budget_holder
    timeline = TimelineEntry.objects.filter(budget_holder=holder).count()

    for order in [("reversed", "paid", "reversed"), ("paid", "reversed", "paid", "reversed")]:
        with transaction.atomic():
            mail.outbox.clear()
            for kind in order:
                deliver(events_by_kind[kind])
            assert TimelineEntry.objects.filter(budget_holder=holder).count() == timeline + 1, order
            assert (
                AuditEvent.objects.filter(action="payment.reversed", object_id=payment.public_id).count() == 1
            )
            assert len(mail.outbox) == 1, order
            transaction.set_rollback(True)


# Before the run recorded the transfer ---------------------------------------------------------------------


class _Crash(Exception):
    pass


@pytest.fixture
def crashed(world, monkeypatch):
    """A run stopped after Stripe made bright-care's transfer and before it recorded it: pending."""

    def crash(*args, **kwargs):
        raise _Crash("the worker died")

    monkeypatch.setattr(runs, "payment_record_sent", crash)
    with pytest.raises(_Crash):
        start_run(world.users["finance"])
    monkeypatch.undo()
    payment = Payment.objects.get(provider__slug="bright-care")
    assert (payment.status, payment.stripe_transfer_id) == (PaymentStatus.PENDING, "")
    (transfer,) = world.stripe.transfers.values()
    assert transfer["metadata"]["payment"] == payment.public_id
    return payment, transfer


def _event(world, kind: str, transfer: dict[str, Any]) -> dict[str, Any]:
    if kind == "reversed":
        transfer = {**transfer, "reversed": True, "amount_reversed": transfer["amount"]}
    return world.stripe.event(f"transfer.{kind}", transfer)


class TestBeforeTheRunRecordedIt:
    @pytest.mark.parametrize("order", [("created", "paid"), ("paid", "created"), ("paid",)])
    def test_the_payment_is_found_by_its_metadata_and_completed(self, world, crashed, order):
        payment, transfer = crashed
        invoice = world.invoices["bright-care"]

        answers = [deliver(_event(world, kind, transfer)).json() for kind in order]

        assert answers[0]["acted"] is True
        payment.refresh_from_db()
        assert (payment.status, payment.stripe_transfer_id) == (PaymentStatus.PAID, transfer["id"])
        assert Invoice.objects.get(pk=invoice.pk).status == "paid"
        assert balances()["payments:cash:stripe:GBP"] == (-payment.amount_minor, -payment.amount_minor)
        # The run, resumed, sends nothing again and finishes.
        transfers = world.stripe.transfer_count
        run = start_run(world.users["finance"])
        assert world.stripe.transfer_count == transfers == 1
        assert run.status == PaymentRunStatus.WAITING_FOR_UPLOAD  # the Bacs file of the other providers
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PAID
        assert Transaction.objects.filter(idempotency_key=f"payment:{payment.public_id}:sent").count() == 1

    def test_created_alone_records_it_sent(self, world, crashed):
        payment, transfer = crashed

        response = deliver(_event(world, "created", transfer))

        assert response.json()["outcome"] == f"Payment {payment.public_id}: pending -> sent."
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.SENT
        assert balances()["payments:clearing:stripe:GBP"] == (payment.amount_minor, payment.amount_minor)

    def test_reversed_before_anything_releases_the_invoice_and_the_run_does_not_send_it(self, world, crashed):
        payment, transfer = crashed
        before = balances()

        deliver(_event(world, "reversed", transfer))
        deliver(_event(world, "paid", transfer))

        payment.refresh_from_db()
        assert payment.status == PaymentStatus.REVERSED
        assert Invoice.objects.get(pk=world.invoices["bright-care"].pk).status == "approved"
        assert balances() == before
        start_run(world.users["finance"])
        assert world.stripe.transfer_count == 1
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.REVERSED


# Payouts ---------------------------------------------------------------------------------------------------


def _payout(double, amount: int = 12_345) -> dict[str, Any]:
    return {
        "id": new_id("po_"),
        "object": "payout",
        "amount": amount,
        "currency": "gbp",
        "status": "paid",
        "destination": "ba_council",
    }


@pytest.mark.parametrize("paid_first", [True, False], ids=["paid-then-failed", "failed-then-paid"])
def test_a_payout_paid_and_failed_in_either_order_ends_with_nothing_moved(world, paid_first):
    payout = _payout(world.stripe)
    paid = world.stripe.event("payout.paid", payout)
    failed = world.stripe.event("payout.failed", {**payout, "status": "failed"})
    before = balances()
    order = [paid, failed, paid, failed] if paid_first else [failed, paid, failed, paid]

    answers = [deliver(event).json() for event in order]

    assert [answer["processed"] for answer in answers] == [True, True, False, False]
    assert [answer["acted"] for answer in answers] == (
        [True, True, False, False] if paid_first else [False] * 4
    )
    assert balances() == before
    assert Transaction.objects.filter(
        idempotency_key__startswith=f"stripe:payout:{payout['id']}"
    ).count() == (2 if paid_first else 0)


def test_a_payout_paid_moves_stripe_cash_to_the_bank_once(world):
    payout = _payout(world.stripe, amount=50_000)
    paid = world.stripe.event("payout.paid", payout)
    before = balances()

    first = deliver(paid).json()
    deliver(paid)
    another_delivery = deliver(world.stripe.event("payout.paid", payout)).json()

    assert first["outcome"] == f"Payout {payout['id']} of 500.00 reached the bank."
    assert another_delivery["acted"] is False
    after = balances()
    assert after["payments:cash:bank:GBP"][0] == before.get("payments:cash:bank:GBP", (0, 0))[0] + 50_000
    assert after["payments:cash:stripe:GBP"][0] == before.get("payments:cash:stripe:GBP", (0, 0))[0] - 50_000


def test_a_connected_accounts_payout_is_not_purses(world):
    before = balances()

    answer = deliver({**world.stripe.event("payout.paid", _payout(world.stripe)), "account": "acct_1"}).json()

    assert (answer["processed"], answer["acted"]) == (True, False)
    assert balances() == before


# Stored once ----------------------------------------------------------------------------------------------


def test_an_insert_clash_inside_a_callers_transaction_leaves_it_usable(world, monkeypatch):
    payment = paid_by_stripe(world)
    event = transfer_event(world.stripe, payment, "paid")
    # As if another delivery stored the event between the look-up and the insert.
    monkeypatch.setattr(events, "_stored", lambda event_id: None)

    with transaction.atomic():
        first = events.stripe_event_process(event=event)
        again = events.stripe_event_process(event=event)
        still_usable = Payment.objects.get(pk=payment.pk).status

    assert (first.new, again.new, again.event.pk) == (True, False, first.event.pk)
    assert still_usable == PaymentStatus.PAID
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_twice_at_once_is_processed_once(monkeypatch, settings, stripe_double):  # noqa: F811
    assert connection.vendor == "postgresql"
    world = build_payments_world(monkeypatch, settings, stripe_double)
    payment = paid_by_stripe(world)
    event = transfer_event(world.stripe, payment, "paid")

    results = run_in_threads(4, lambda index: events.stripe_event_process(event=event))

    assert not [result for result in results if isinstance(result, Exception)], results
    assert sorted(result.new for result in results) == [False, False, False, True]
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID
    assert Transaction.objects.filter(idempotency_key=f"payment:{payment.public_id}:settled").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_payouts_paid_and_failed_at_once_never_leave_it_paid(monkeypatch, settings, stripe_double):  # noqa: F811
    assert connection.vendor == "postgresql"
    world = build_payments_world(monkeypatch, settings, stripe_double)
    before = balances()
    for _ in range(3):
        payout = _payout(world.stripe)
        both = [
            world.stripe.event("payout.paid", payout),
            world.stripe.event("payout.failed", {**payout, "status": "failed"}),
        ]

        results = run_in_threads(2, lambda index, both=both: events.stripe_event_process(event=both[index]))

        assert not [result for result in results if isinstance(result, Exception)], results
        assert balances() == before
