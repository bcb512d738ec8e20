"""Payment runs started and processed at the same moment, on PostgreSQL with real threads (each its own
connection): the database lets one run in, and however many workers process it at once, each invoice is paid
exactly once and each Stripe payment is one transfer.
"""

import pytest
from django.db import connection

from invoicing.models import Invoice
from payments.models import Payment, PaymentInvoice, PaymentRun, PaymentStatus, Rail
from payments.services import runs
from tests.concurrency import run_in_threads
from tests.payments.stripe_double import stripe_double  # noqa: F401
from tests.payments.test_payment_runs import (
    add_stripe_provider,
    approved_directly,
    confirm,
    ledger_balanced,
    paid_exactly_once,
    provider_payment_postings,
    transfers_for,
)
from tests.payments.world import build_payments_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(monkeypatch, settings, stripe_double):  # noqa: F811
    assert connection.vendor == "postgresql"
    world = build_payments_world(monkeypatch, settings, stripe_double)
    for n, amount in enumerate((1001, 2002, 3003)):
        provider = add_stripe_provider(stripe_double, f"Stripe Provider {n}")
        approved_directly(world, provider, number=f"SP-{n}", amount_minor=amount)
    return world


def test_four_starts_at_once_make_one_run_that_claims_each_invoice_once(world):
    finance = world.users["finance"]
    approved = set(Invoice.objects.filter(status="approved").values_list("pk", flat=True))

    results = run_in_threads(4, lambda index: runs.payment_run_start(by=finance))

    assert not [result for result in results if isinstance(result, Exception)], results
    assert sum(result.created for result in results) == 1
    assert {result.run.pk for result in results} == {PaymentRun.objects.get().pk}
    claimed = list(PaymentInvoice.objects.filter(holding=True).values_list("invoice_id", flat=True))
    assert sorted(claimed) == sorted(approved)


def test_two_workers_processing_one_run_at_once_pay_each_invoice_once(world):
    finance = world.users["finance"]
    with pytest.MonkeyPatch.context() as patch:  # its own, so the world's clock stays patched
        patch.setattr(runs, "_dispatch", lambda run: None)  # made, but no worker has it yet
        run = runs.payment_run_start(by=finance).run

    results = run_in_threads(2, lambda index: runs.payment_run_process(run.pk))

    assert not [result for result in results if isinstance(result, Exception)], results
    confirm(PaymentRun.objects.get(pk=run.pk), finance)
    for payment in Payment.objects.filter(run=run):
        assert payment.status == PaymentStatus.SENT
        assert provider_payment_postings(payment) == 1
        if payment.rail == Rail.STRIPE:
            assert len(transfers_for(world.stripe, payment)) == 1
    invoices = PaymentInvoice.objects.filter(payment__run=run).values_list("invoice_id", flat=True)
    assert len(invoices) == 6
    for invoice in Invoice.objects.filter(pk__in=invoices):
        paid_exactly_once(invoice)
    ledger_balanced()
