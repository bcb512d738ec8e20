"""Payment runs (`payments.services.runs`), on both rails, to the penny.

The world (tests/payments/world.py, "today" Friday 20 November 2026): bright-care is paid through Stripe
(its invoice BC-1, 3.50 h at 24.50 = 85.75), able-assist (AA-1, 3.50 h at 18.00 = 63.00) and
dales-adaptations (DA-1, half of a 3,500.00 ramp = 1,750.00) by Bacs. A run pays bright-care at once by a
Stripe transfer and writes one Bacs file of the other two, paid when finance confirms the upload.

What is checked: the transfer as the double received it (idempotency key = payment id), the Bacs file read
back, each invoice paid with its reference and remittance, the ledger (reservation posted, in full or in
part with the rest released; the payable to clearing; every transaction balanced), the provider's email,
Stripe timing out, failing and refusing, providers skipped with the reason, the Bacs file confirmed or
cancelled (both safe to repeat), and query counts that grow per payment and per invoice by a constant.

The helpers at the top (`ledger_balanced`, `net`, `provider_payment_postings`, `approved_directly`, ...)
are shared with test_crash_safety.py and test_payments_postgres.py.
"""

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from django.core import mail
from django.db import connection
from django.db.models import Sum

from invoicing import accounts as invoicing_accounts
from invoicing.models import Invoice, InvoiceStatus, Remittance, RemittanceLine
from ledger import services as ledger_services
from ledger.models import Account, Posting, Transaction
from payments import bacs, selectors
from payments.models import (
    BacsFile,
    BacsFileStatus,
    Payment,
    PaymentInvoice,
    PaymentRun,
    PaymentRunStatus,
    PaymentStatus,
)
from payments.services import runs
from people import services as people_services
from people.models import AuditEvent, Organisation
from tests.payments.stripe_double import SECRET_KEY, stripe_double  # noqa: F401
from tests.payments.world import TODAY, approve, build_payments_world, start_run
from tests.people.factories import ProviderFactory

pytestmark = pytest.mark.django_db

FINANCE_EMAIL = "payments-team@northshire.example"
BC1, AA1, DA1 = 8575, 6300, 175000
MONDAY = date(2026, 11, 23)  # the next working day after TODAY: the default processing day


# Shared helpers -------------------------------------------------------------------------------------------


def ledger_balanced() -> None:
    """Every transaction's debits equal its credits, and so do the accounts' running totals."""
    per: dict[int, dict[str, int]] = defaultdict(lambda: {"debit": 0, "credit": 0})
    for row in Posting.objects.values("transaction_id", "side").annotate(total=Sum("amount_minor")):
        per[row["transaction_id"]][row["side"]] += row["total"]
    unbalanced = {pk: sides for pk, sides in per.items() if sides["debit"] != sides["credit"]}
    assert unbalanced == {}
    totals = Account.objects.aggregate(
        dp=Sum("debits_posted"),
        cp=Sum("credits_posted"),
        dpe=Sum("debits_pending"),
        cpe=Sum("credits_pending"),
    )
    assert (totals["dp"], totals["dpe"]) == (totals["cp"], totals["cpe"])


def net(key: str) -> tuple[int, int]:
    """(posted credits - posted debits, pending credits - pending debits) of the account `key`; (0, 0) if
    it does not exist."""
    account = Account.objects.filter(key=key).first()
    if account is None:
        return (0, 0)
    return (
        account.credits_posted - account.debits_posted,
        account.credits_pending - account.debits_pending,
    )


def payable_key(slug: str) -> str:
    provider = Organisation.objects.get(slug=slug)
    return invoicing_accounts.provider_payable_key(provider_public_id=provider.public_id, currency="GBP")


def funds_of(invoice: Invoice) -> dict[str, int]:
    """The person's funds accounts the invoice's reservation debits, and how much from each."""
    return {
        posting.account.key: posting.amount_minor
        for posting in invoice.reservation.postings.select_related("account")
        if posting.side == "debit"
    }


def posted_debits(key: str) -> int:
    return Account.objects.get(key=key).debits_posted


def provider_payment_postings(payment: Payment) -> int:
    return Transaction.objects.filter(
        metadata__kind="provider_payment", metadata__payment=payment.public_id, reverses__isnull=True
    ).count()


def invoice_payment_postings(invoice: Invoice) -> int:
    return Transaction.objects.filter(
        metadata__kind="invoice_payment", metadata__invoice=invoice.public_id, reverses__isnull=True
    ).count()


def paid_exactly_once(invoice: Invoice) -> None:
    """The invoice is paid, by one remittance line in force, one invoice_payment posting, one holding
    payment line."""
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.status == InvoiceStatus.PAID
    lines = list(RemittanceLine.objects.filter(invoice=invoice, reversed_at__isnull=True))
    assert len(lines) == 1
    assert invoice.remittance_line_id == lines[0].pk
    assert invoice_payment_postings(invoice) == 1
    holding = list(PaymentInvoice.objects.filter(invoice=invoice, holding=True).select_related("payment"))
    assert len(holding) == 1
    assert holding[0].payment.public_id == lines[0].remittance.reference
    assert holding[0].payment.status == PaymentStatus.SENT


def transfers_for(double, payment: Payment) -> list[dict]:
    return [t for t in double.transfers.values() if t["metadata"].get("payment") == payment.public_id]


def add_stripe_provider(double, name: str) -> Organisation:
    """A new provider paid through Stripe, with a ready account on the double."""
    provider = ProviderFactory(name=name)
    account = double.add_account(ready=True, name=name, provider=provider.public_id)["id"]
    people_services.provider_details_set(
        provider=provider, by=None, payout_method="stripe", stripe_account_id=account
    )
    return provider


def add_bank_provider(name: str, *, account_number: str) -> Organisation:
    provider = ProviderFactory(name=name)
    people_services.provider_details_set(
        provider=provider,
        by=None,
        payout_method="bank",
        bank_account_name=name[:18],
        sort_code="20-00-00",
        account_number=account_number,
    )
    return provider


def approved_directly(world, provider: Organisation, *, number: str, amount_minor: int) -> Invoice:
    """An approved invoice of `provider` for Alex, reserved from Alex's funds as approval does, made
    without the invoicing workflow (which needs an engagement): for runs of many providers."""
    template = world.invoices["bright-care"]
    funds = Account.objects.get(key=next(iter(funds_of(template))))
    payable = invoicing_accounts.provider_payable_account(
        provider_public_id=provider.public_id, provider_name=provider.name, currency="GBP"
    )
    reservation = ledger_services.transaction_reserve(
        idempotency_key=f"test:{provider.public_id}:{number}:reservation",
        currency="GBP",
        effective_on=TODAY,
        description=f"Invoice {number} from {provider.name}",
        postings=[
            ledger_services.PostingSpec(account=funds, side="debit", amount_minor=amount_minor),
            ledger_services.PostingSpec(account=payable, side="credit", amount_minor=amount_minor),
        ],
        metadata={"kind": "invoice_reservation", "invoice": number},
    )
    return Invoice.objects.create(
        provider=provider,
        budget_holder=template.budget_holder,
        invoice_number=number,
        issued_on=date(2026, 11, 1),
        currency="GBP",
        total_minor=amount_minor,
        status=InvoiceStatus.APPROVED,
        submitted_by=template.submitted_by,
        reservation=reservation,
    )


def confirm(run: PaymentRun, by) -> BacsFile:
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return runs.bacs_file_confirm(bacs_file=BacsFile.objects.get(run=run), by=by)


@pytest.fixture
def world(monkeypatch, settings, stripe_double):  # noqa: F811
    settings.PAYMENTS_WARNING_EMAILS = [FINANCE_EMAIL]
    return build_payments_world(monkeypatch, settings, stripe_double)


# A run on both rails --------------------------------------------------------------------------------------


class TestARunOnBothRails:
    def test_stripe_is_paid_at_once_and_the_bank_payments_wait_in_one_file(self, world):
        run = start_run(world.users["finance"])

        assert run.status == PaymentRunStatus.WAITING_FOR_UPLOAD
        assert (run.invoices, run.payments, run.total_minor, run.skipped) == (3, 3, BC1 + AA1 + DA1, [])
        assert (run.pay_on, run.error, run.finished_at) == (MONDAY, "", None)
        payments = {p.provider.slug: p for p in Payment.objects.filter(run=run).select_related("provider")}
        assert {slug: (p.rail, p.status, p.amount_minor) for slug, p in payments.items()} == {
            "bright-care": ("stripe", "sent", BC1),
            "able-assist": ("bacs", "in_file", AA1),
            "dales-adaptations": ("bacs", "in_file", DA1),
        }
        assert payments["bright-care"].destination == world.stripe_account
        assert payments["able-assist"].destination == "200000 55779911"
        assert payments["dales-adaptations"].destination_name == "Dales Adaptations"
        assert payments["able-assist"].bacs_file_id == payments["dales-adaptations"].bacs_file_id is not None

    def test_the_transfer_carries_the_payment_id_as_its_idempotency_key(self, world):
        run = start_run(world.users["finance"])
        payment = Payment.objects.get(run=run, rail="stripe")

        [seen] = world.stripe.requests_to("POST", "/v1/transfers")
        assert seen.headers["idempotency-key"] == payment.public_id
        assert seen.params == {
            "amount": str(BC1),
            "currency": "gbp",
            "destination": world.stripe_account,
            "transfer_group": run.public_id,
            "description": f"Purse payment {payment.public_id} to Bright Care",
            "metadata[payment]": payment.public_id,
            "metadata[run]": run.public_id,
        }
        [transfer] = world.stripe.transfers.values()
        assert payment.stripe_transfer_id == transfer["id"]
        assert payment.attempts == 1

    def test_the_stripe_invoice_is_paid_with_its_reference_and_the_ledger_moves_exactly(self, world):
        invoice = world.invoices["bright-care"]
        funds = funds_of(invoice)
        before = {key: posted_debits(key) for key in funds}
        assert net(payable_key("bright-care")) == (0, BC1)

        run = start_run(world.users["finance"])

        payment = Payment.objects.get(run=run, rail="stripe")
        invoice.refresh_from_db()
        remittance = Remittance.objects.get(reference=payment.public_id)
        assert (invoice.status, invoice.remittance_line.remittance_id) == ("paid", remittance.pk)
        assert (remittance.total_minor, remittance.paid_on, remittance.provider.slug) == (
            BC1,
            TODAY,
            "bright-care",
        )
        assert list(remittance.lines.values_list("invoice_id", "amount_minor")) == [(invoice.pk, BC1)]
        # The reservation posted in full: the person's funds down by exactly what was paid.
        assert {key: posted_debits(key) - before[key] for key in funds} == funds
        assert sum(funds.values()) == BC1
        # The payable: the reservation credited it, the payment debited it; nothing owed, nothing pending.
        assert net(payable_key("bright-care")) == (0, 0)
        assert net("payments:clearing:stripe:GBP") == (BC1, 0)
        assert payment.remittance_id == remittance.pk
        sent = Transaction.objects.get(public_id=payment.clearing_transaction)
        assert (sent.idempotency_key, sent.effective_on, sent.metadata) == (
            f"payment:{payment.public_id}:sent",
            TODAY,
            {"kind": "provider_payment", "payment": payment.public_id, "rail": "stripe"},
        )
        paid_exactly_once(invoice)
        ledger_balanced()
        assert AuditEvent.objects.filter(action="payment.sent", object_id=payment.public_id).count() == 1
        assert AuditEvent.objects.filter(action="payment_run.started", object_id=run.public_id).count() == 1

    def test_the_provider_is_emailed_the_remittance(self, world):
        extra = approve(world, "bright-care", number="BC-2", lines=[("2026-10-04", "2")])
        mail.outbox.clear()

        run = start_run(world.users["finance"])

        payment = Payment.objects.get(run=run, rail="stripe")
        [message] = [m for m in mail.outbox if m.subject.startswith("Remittance")]
        assert message.subject == f"Remittance {payment.public_id}: £134.75 paid"
        assert sorted(message.to) == sorted(
            Organisation.objects.get(slug="bright-care")
            .members.filter(is_active=True, role="provider_user")
            .exclude(email="")
            .values_list("email", flat=True)
        )
        assert message.body.splitlines() == [
            f"Purse has paid Bright Care £134.75 on 20 November 2026, payment reference {payment.public_id}.",
            "",
            "Invoices paid:",
            "- BC-1: £85.75",
            "- BC-2: £49.00",
            "",
            "The same remittance is in Purse's API at /api/v1/remittances/.",
        ]
        assert extra.total_minor == 4900

    def test_the_bacs_file_holds_exactly_the_bank_payments(self, world):
        run = start_run(world.users["finance"])
        bacs_file = BacsFile.objects.get(run=run)
        payments = list(Payment.objects.filter(run=run, rail="bacs").order_by("pk"))

        assert (bacs_file.status, bacs_file.credits, bacs_file.total_minor) == ("written", 2, AA1 + DA1)
        assert (bacs_file.processing_day, bacs_file.file_number) == (MONDAY, 1)
        assert bacs_file.filename == "purse-bacs-2026-11-23-000001.txt"
        parsed = bacs.parse_bacs_file(bacs_file.content)
        assert parsed.processing_day == MONDAY
        assert parsed.contra_amount_minor == AA1 + DA1
        assert [
            (c.sort_code, c.account_number, c.account_name, c.amount_minor, c.reference)
            for c in parsed.credits
        ] == [
            ("200000", "55779911", "ABLE ASSIST LTD", AA1, bacs.bacs_reference(payments[0].public_id)),
            ("401162", "31926819", "DALES ADAPTATIONS", DA1, bacs.bacs_reference(payments[1].public_id)),
        ]
        # Nothing is paid until finance confirms the upload.
        for slug in ("able-assist", "dales-adaptations"):
            assert Invoice.objects.get(pk=world.invoices[slug].pk).status == "approved"
            assert net(payable_key(slug))[1] > 0
        assert net("payments:clearing:bacs:GBP") == (0, 0)


class TestConfirmingTheBacsFile:
    def test_pays_the_bank_invoices_and_finishes_the_run(self, world):
        finance = world.users["finance"]
        run = start_run(finance)
        mail.outbox.clear()

        bacs_file = confirm(run, finance)

        assert (bacs_file.status, bacs_file.decided_by) == (BacsFileStatus.UPLOADED, finance)
        run.refresh_from_db()
        assert run.status == PaymentRunStatus.DONE and run.finished_at is not None
        for slug, amount in (("able-assist", AA1), ("dales-adaptations", DA1)):
            invoice = world.invoices[slug]
            paid_exactly_once(invoice)
            payment = Payment.objects.get(run=run, provider__slug=slug)
            remittance = Remittance.objects.get(reference=payment.public_id)
            # Paid on the processing day, when the money reaches the provider.
            assert (remittance.total_minor, remittance.paid_on) == (amount, MONDAY)
            assert net(payable_key(slug)) == (0, 0)
            assert provider_payment_postings(payment) == 1
            # Each says which file it went in: the bank shows the file as one line (reconciliation).
            sent = Transaction.objects.get(public_id=payment.clearing_transaction)
            assert sent.metadata == {
                "kind": "provider_payment",
                "payment": payment.public_id,
                "rail": "bacs",
                "bacs_file": bacs_file.public_id,
            }
        assert net("payments:clearing:bacs:GBP") == (AA1 + DA1, 0)
        assert sorted(m.subject.split(":")[0] for m in mail.outbox) == sorted(
            f"Remittance {p.public_id}" for p in Payment.objects.filter(run=run, rail="bacs")
        )
        ledger_balanced()

    def test_again_changes_nothing(self, world):
        finance = world.users["finance"]
        run = start_run(finance)
        confirm(run, finance)
        counts = (Transaction.objects.count(), RemittanceLine.objects.count(), AuditEvent.objects.count())
        mail.outbox.clear()

        again = confirm(run, finance)

        assert again.status == BacsFileStatus.UPLOADED
        assert (
            Transaction.objects.count(),
            RemittanceLine.objects.count(),
            AuditEvent.objects.count(),
        ) == counts
        assert mail.outbox == []

    def test_a_cancelled_file_cannot_be_confirmed(self, world):
        finance = world.users["finance"]
        run = start_run(finance)
        bacs_file = BacsFile.objects.get(run=run)
        runs.bacs_file_cancel(bacs_file=bacs_file, by=finance, reason="Wrong day")
        with pytest.raises(runs.BacsFileStateConflict) as raised:
            runs.bacs_file_confirm(bacs_file=bacs_file, by=finance)
        assert raised.value.message == f"{bacs_file.filename} was cancelled, so it cannot be confirmed."


class TestCancellingTheBacsFile:
    def test_lets_the_invoices_go_to_the_next_run(self, world):
        finance = world.users["finance"]
        run = start_run(finance)
        bacs_file = BacsFile.objects.get(run=run)
        before = Transaction.objects.count()

        cancelled = runs.bacs_file_cancel(bacs_file=bacs_file, by=finance, reason="  The bank was closed ")

        assert (cancelled.status, cancelled.decided_by) == (BacsFileStatus.CANCELLED, finance)
        bank = Payment.objects.filter(run=run, rail="bacs")
        assert sorted(bank.values_list("status", "error")) == [("cancelled", "The bank was closed")] * 2
        assert not PaymentInvoice.objects.filter(payment__in=bank, holding=True).exists()
        assert Transaction.objects.count() == before  # nothing was posted, nothing is undone
        run.refresh_from_db()
        assert run.status == PaymentRunStatus.DONE
        # Safe to repeat.
        assert runs.bacs_file_cancel(bacs_file=bacs_file, by=finance, reason="again").status == "cancelled"
        with pytest.raises(runs.BacsFileStateConflict):
            runs.bacs_file_confirm(bacs_file=bacs_file, by=finance)

        second = start_run(finance)

        assert (second.invoices, second.payments, second.total_minor) == (2, 2, AA1 + DA1)
        second_file = confirm(second, finance)
        assert second_file.file_number == 2
        for slug in ("able-assist", "dales-adaptations"):
            paid_exactly_once(world.invoices[slug])
        assert net("payments:clearing:bacs:GBP") == (AA1 + DA1, 0)
        ledger_balanced()

    def test_needs_a_reason(self, world):
        run = start_run(world.users["finance"])
        with pytest.raises(runs.BacsFileStateConflict) as raised:
            runs.bacs_file_cancel(
                bacs_file=BacsFile.objects.get(run=run), by=world.users["finance"], reason=" "
            )
        assert raised.value.message == "Say why the file is not being uploaded."
        assert BacsFile.objects.get(run=run).status == "written"

    def test_an_uploaded_file_cannot_be_cancelled(self, world):
        finance = world.users["finance"]
        run = start_run(finance)
        confirm(run, finance)
        with pytest.raises(runs.BacsFileStateConflict) as raised:
            runs.bacs_file_cancel(bacs_file=BacsFile.objects.get(run=run), by=finance, reason="Too late")
        assert raised.value.code == "bacs_file_state_conflict"


class TestStartingRuns:
    def test_a_second_start_while_one_is_running_resumes_it(self, world):
        finance = world.users["finance"]
        started = runs.payment_run_start(by=finance)  # its work is handed over on commit, never reached here
        again = runs.payment_run_start(by=finance)
        assert (started.created, again.created, again.run.pk) == (True, False, started.run.pk)
        assert PaymentRun.objects.count() == 1

    def test_a_run_while_the_last_waits_for_its_upload_takes_only_new_invoices(self, world):
        finance = world.users["finance"]
        first = start_run(finance)
        new = approve(world, "able-assist", number="AA-2", lines=[("2026-10-06", "1")])

        second = start_run(finance)

        assert second.pk != first.pk
        assert (second.invoices, second.payments, second.total_minor) == (1, 1, 1800)
        assert list(
            PaymentInvoice.objects.filter(payment__run=second).values_list("invoice_id", flat=True)
        ) == [new.pk]

    def test_no_approved_invoices_makes_an_empty_run_that_is_done(self, world):
        finance = world.users["finance"]
        confirm(start_run(finance), finance)
        run = start_run(finance)
        assert (run.status, run.invoices, run.payments, run.total_minor) == ("done", 0, 0, 0)
        assert not BacsFile.objects.filter(run=run).exists()

    @pytest.mark.parametrize(
        "pay_on, message",
        [
            (date(2026, 11, 19), "The processing day 19 November 2026 has passed; choose today or later."),
            (date(2026, 11, 21), "21 November 2026 is not a working day; the next one is 23 November 2026."),
            ("2026-11-23", "Give the processing day as a date."),
        ],
    )
    def test_a_processing_day_that_is_not_a_working_day_ahead_is_refused(self, world, pay_on, message):
        with pytest.raises(runs.PaymentRunInvalid) as raised:
            runs.payment_run_start(by=world.users["finance"], pay_on=pay_on)
        assert (raised.value.code, raised.value.message) == ("invalid_payment_run", message)
        assert PaymentRun.objects.count() == 0

    def test_a_later_processing_day_is_the_files_and_the_bank_payments_are_paid_on_it(self, world):
        finance = world.users["finance"]
        run = start_run(finance, pay_on=date(2026, 11, 25))
        assert BacsFile.objects.get(run=run).processing_day == date(2026, 11, 25)
        confirm(run, finance)
        payment = Payment.objects.get(run=run, provider__slug="able-assist")
        assert Remittance.objects.get(reference=payment.public_id).paid_on == date(2026, 11, 25)
        assert Transaction.objects.get(public_id=payment.clearing_transaction).effective_on == date(
            2026, 11, 25
        )


class TestSkippedProviders:
    def test_a_provider_without_payout_details_is_skipped_with_the_reason(self, world):
        people_services.provider_details_set(
            provider=Organisation.objects.get(slug="able-assist"), by=None, payout_method="none"
        )
        run = start_run(world.users["finance"])
        able = Organisation.objects.get(slug="able-assist")
        assert run.skipped == [
            {
                "provider": able.public_id,
                "name": able.name,
                "invoices": 1,
                "reason": "The provider has not set up how it is paid.",
            }
        ]
        assert (run.invoices, run.payments, run.total_minor) == (2, 2, BC1 + DA1)
        assert not PaymentInvoice.objects.filter(invoice=world.invoices["able-assist"]).exists()

    def test_a_bank_account_name_bacs_cannot_carry_is_skipped_and_the_file_still_written(self, world):
        dales = Organisation.objects.get(slug="dales-adaptations")
        people_services.provider_details_set(
            provider=dales,
            by=None,
            payout_method="bank",
            bank_account_name="Dales Adaptations Limited",
            sort_code="401162",
            account_number="31926819",
        )
        run = start_run(world.users["finance"])
        assert run.status == "waiting_for_upload"
        assert run.skipped == [
            {
                "provider": dales.public_id,
                "name": dales.name,
                "invoices": 1,
                "reason": "the account name must be at most 18 characters as Bacs writes it; "
                "'DALES ADAPTATIONS LIMITED' is 25. Enter the shortened name the bank holds for the account.",
            }
        ]
        assert BacsFile.objects.get(run=run).credits == 1

    def test_with_stripe_switched_off_stripe_providers_are_skipped_and_bacs_still_works(
        self, world, settings
    ):
        settings.STRIPE_SECRET_KEY = ""
        finance = world.users["finance"]
        run = start_run(finance)
        bright = Organisation.objects.get(slug="bright-care")
        assert run.skipped == [
            {
                "provider": bright.public_id,
                "name": bright.name,
                "invoices": 1,
                "reason": "Stripe payouts are switched off: STRIPE_SECRET_KEY is not set. "
                "Providers paid by bank transfer are still paid in the Bacs file.",
            }
        ]
        assert world.stripe.requests == []
        confirm(run, finance)
        assert Invoice.objects.get(pk=world.invoices["bright-care"].pk).status == "approved"
        for slug in ("able-assist", "dales-adaptations"):
            paid_exactly_once(world.invoices[slug])

    def test_with_bacs_not_configured_bank_providers_are_skipped_and_stripe_still_pays(self, world, settings):
        settings.BACS_SERVICE_USER_NUMBER = ""
        run = start_run(world.users["finance"])
        assert [entry["reason"] for entry in run.skipped] == [runs.BacsNotConfigured.message] * 2
        assert run.status == "done"
        paid_exactly_once(world.invoices["bright-care"])


class TestStripeTrouble:
    def test_a_timeout_cleared_by_the_sdks_retry_pays_once(self, world):
        world.stripe.timeout_after_create(1)
        run = start_run(world.users["finance"])
        payment = Payment.objects.get(run=run, rail="stripe")
        assert payment.status == "sent"
        assert len(world.stripe.requests_to("POST", "/v1/transfers")) == 2
        assert len(transfers_for(world.stripe, payment)) == 1
        assert world.stripe.replays == 1
        paid_exactly_once(world.invoices["bright-care"])

    @pytest.mark.parametrize("trouble", ["timeout", "5xx"])
    def test_stripe_out_of_reach_leaves_the_payment_waiting_and_a_resume_pays_it_once(self, world, trouble):
        if trouble == "timeout":
            world.stripe.timeout_after_create(3)  # made, then every answer lost: Purse cannot know
        else:
            world.stripe.fail_next(3)  # refused by Stripe's servers: nothing made
        finance = world.users["finance"]
        run = start_run(finance)

        payment = Payment.objects.get(run=run, rail="stripe")
        assert (payment.status, payment.attempts, payment.stripe_transfer_id) == ("pending", 1, "")
        assert payment.error.startswith(f"Could not pay {payment.public_id}: Stripe")
        assert run.status == "running"
        assert run.error == (
            "Stripe could not be reached for 1 payment. They are waiting; resume the run to send them "
            "(nothing is paid twice)."
        )
        assert len(world.stripe.transfers) == (1 if trouble == "timeout" else 0)
        assert Invoice.objects.get(pk=world.invoices["bright-care"].pk).status == "approved"
        assert net("payments:clearing:stripe:GBP") == (0, 0)
        # The bank payments do not wait for Stripe.
        assert BacsFile.objects.get(run=run).credits == 2

        resumed = start_run(finance)

        assert resumed.pk == run.pk
        assert (resumed.status, resumed.error) == ("waiting_for_upload", "")
        payment.refresh_from_db()
        assert (payment.status, payment.attempts, payment.error) == ("sent", 2, "")
        assert len(transfers_for(world.stripe, payment)) == 1
        assert set(world.stripe.transfers) == {payment.stripe_transfer_id}
        paid_exactly_once(world.invoices["bright-care"])
        assert net("payments:clearing:stripe:GBP") == (BC1, 0)
        assert BacsFile.objects.count() == 1
        ledger_balanced()

    def test_a_renamed_provider_between_attempts_is_still_one_transfer(self, world):
        world.stripe.timeout_after_create(3)
        finance = world.users["finance"]
        start_run(finance)
        Organisation.objects.filter(slug="bright-care").update(name="Bright Care Cooperative")

        run = start_run(finance)

        payment = Payment.objects.get(run=run, rail="stripe")
        assert payment.status == "sent"
        assert len(world.stripe.transfers) == 1
        paid_exactly_once(world.invoices["bright-care"])

    def test_stripe_refusing_fails_the_payment_releases_the_invoices_and_warns_finance(self, world):
        invoice = world.invoices["bright-care"]
        people_services.provider_details_set(
            provider=invoice.provider, by=None, payout_method="stripe", stripe_account_id="acct_nobodyatall"
        )
        before_funds = {key: net(key) for key in funds_of(invoice)}
        before = Transaction.objects.count()
        mail.outbox.clear()
        finance = world.users["finance"]

        run = start_run(finance)

        payment = Payment.objects.get(run=run, rail="stripe")
        assert payment.status == "failed"
        assert payment.error == (
            f"Stripe refused to pay {payment.public_id}: No such destination: 'acct_nobodyatall'"
        )
        assert payment.failed_at is not None
        assert list(payment.lines.values_list("holding", flat=True)) == [False]
        invoice.refresh_from_db()
        assert (invoice.status, invoice.remittance_line_id) == ("approved", None)
        assert Transaction.objects.count() == before  # nothing posted
        assert {key: net(key) for key in funds_of(invoice)} == before_funds
        assert net(payable_key("bright-care")) == (0, BC1)  # still reserved for the next run
        assert list(selectors.payment_warnings()) == [payment]
        assert [m.to for m in mail.outbox] == [[FINANCE_EMAIL]]
        assert mail.outbox[0].subject == f"Payment {payment.public_id} to Bright Care did not go through"
        assert AuditEvent.objects.filter(action="payment.failed", object_id=payment.public_id).count() == 1
        confirm(run, finance)
        run.refresh_from_db()
        assert run.status == PaymentRunStatus.DONE_WITH_FAILURES

        # Put right, the next run pays it (once).
        people_services.provider_details_set(
            provider=invoice.provider, by=None, payout_method="stripe", stripe_account_id=world.stripe_account
        )
        second = start_run(finance)
        assert (second.status, second.invoices) == ("done", 1)
        paid_exactly_once(invoice)
        runs.payment_warning_acknowledge(payment=payment, by=finance)
        assert list(selectors.payment_warnings()) == []
        ledger_balanced()

    def test_the_stripe_key_removed_after_the_run_was_made_fails_the_payment_unsent(self, world, settings):
        finance = world.users["finance"]
        started = runs.payment_run_start(by=finance)
        settings.STRIPE_SECRET_KEY = ""
        run = runs.payment_run_process(started.run.pk)
        payment = Payment.objects.get(run=run, rail="stripe")
        assert (payment.status, payment.error) == ("failed", runs.stripe_gateway.StripeDisabled.message)
        assert run.status == "waiting_for_upload"
        assert world.stripe.requests == []


class TestPartPayments:
    def test_a_payment_of_part_of_an_invoice_posts_that_part_and_releases_the_rest(self, world):
        invoice = world.invoices["bright-care"]
        funds = funds_of(invoice)
        asc, ilf = sorted(funds)
        # BC-1 (85.75) is shared between the streams at approval: 62.50 from ASC, 23.25 from ILF.
        assert (funds[asc], funds[ilf]) == (6250, 2325)
        before = {key: net(key) for key in funds}
        finance = world.users["finance"]
        started = runs.payment_run_start(by=finance)
        payment = Payment.objects.get(run=started.run, rail="stripe")
        PaymentInvoice.objects.filter(payment=payment).update(amount_minor=5001)
        Payment.objects.filter(pk=payment.pk).update(amount_minor=5001)

        runs.payment_run_process(started.run.pk)

        payment.refresh_from_db()
        assert payment.status == "sent"
        [transfer] = world.stripe.transfers.values()
        assert transfer["amount"] == 5001
        remittance = Remittance.objects.get(reference=payment.public_id)
        assert remittance.total_minor == 5001
        assert list(remittance.lines.values_list("amount_minor", flat=True)) == [5001]
        # 50.01 shared in proportion, 6250:2325, by largest remainder: 36.45 and 13.56 (adding up to
        # 50.01); each fund's posted balance goes down by its part and its whole reservation is released
        # (`net` is credits - debits; funds are assets).
        after = {key: net(key) for key in funds}
        assert {key: (after[key][0] - before[key][0], after[key][1] - before[key][1]) for key in funds} == {
            asc: (-3645, 6250),
            ilf: (-1356, 2325),
        }
        [posted] = Transaction.objects.filter(
            metadata__kind="invoice_payment", metadata__invoice=invoice.public_id
        )
        assert sorted(posted.postings.values_list("account__key", "side", "amount_minor")) == sorted(
            [(asc, "debit", 3645), (ilf, "debit", 1356), (payable_key("bright-care"), "credit", 5001)]
        )
        assert net(payable_key("bright-care")) == (0, 0)
        assert net("payments:clearing:stripe:GBP") == (5001, 0)
        paid_exactly_once(invoice)
        ledger_balanced()


# Query counts ---------------------------------------------------------------------------------------------


class _Counter:
    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


@contextmanager
def counting() -> Iterator[_Counter]:
    """Count the queries run inside (not capped, as Django's 9,000-query log is)."""
    counter = _Counter()
    with connection.execute_wrapper(counter):
        yield counter


class TestQueryCounts:
    def test_queries_grow_by_a_constant_per_payment_and_per_invoice(self, world, settings):
        finance = world.users["finance"]
        confirm(start_run(finance), finance)  # the world's invoices; makes the clearing accounts
        providers = []
        for n in range(30):
            if n % 2 == 0:
                providers.append(add_stripe_provider(world.stripe, f"Stripe Provider {n}"))
            else:
                providers.append(add_bank_provider(f"Bank Provider {n}", account_number=f"{10000000 + n}"))

        def measure(count: int, per: int, tag: str) -> tuple[int, int, int]:
            for provider in providers[:count]:
                for k in range(per):
                    approved_directly(world, provider, number=f"{tag}-{k}", amount_minor=100 + k)
            with counting() as claim:
                started = runs.payment_run_start(by=finance)
            with counting() as process:
                run = runs.payment_run_process(started.run.pk)
            assert (run.status, run.payments, run.invoices) == ("waiting_for_upload", count, count * per)
            bacs_file = BacsFile.objects.get(run=run)
            with counting() as confirming:
                runs.bacs_file_confirm(bacs_file=bacs_file, by=finance)
            return claim.queries, process.queries, confirming.queries

        ten = measure(10, 10, "A")
        twenty = measure(20, 10, "B")
        thirty = measure(30, 10, "C")  # 300 invoices across 30 providers
        thirty_of_five = measure(30, 5, "D")

        for step in range(3):
            per_ten_payments = twenty[step] - ten[step]
            assert thirty[step] - twenty[step] == per_ten_payments, (step, ten, twenty, thirty)
        # Claiming works in batches: what it costs does not depend on how many invoices a payment has.
        assert thirty[0] == thirty_of_five[0]
        assert (twenty[0] - ten[0]) / 10 <= 3  # a payment: read its invoices, insert it and its lines
        # Paying costs a constant per invoice (posting its reservation, its remittance line, its history),
        # the same on both rails.
        per_invoice_stripe = (thirty[1] - thirty_of_five[1]) / (15 * 5)
        per_invoice_bacs = (thirty[2] - thirty_of_five[2]) / (15 * 5)
        assert per_invoice_stripe == per_invoice_bacs == int(per_invoice_stripe)
        assert per_invoice_stripe <= 20
        # Writing the Bacs file is a constant, whatever the number of bank payments.
        assert (twenty[1] - ten[1]) % 5 == 0
        for payment in Payment.objects.filter(run__payments=30).select_related("run")[:3]:
            assert provider_payment_postings(payment) == 1
        ledger_balanced()
        assert SECRET_KEY  # the double was used throughout
