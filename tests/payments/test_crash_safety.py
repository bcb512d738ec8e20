"""A payment run killed half way and run again pays each invoice exactly once, on both rails (issue 8).

A crash is an exception that nothing in Purse catches (`Killed`), raised where a real process could die:

* Stripe: after N transfers (N = 0, 1, 2) and before the next, or just after Stripe made the N+1th
  transfer and before Purse heard of it (`stripe_gateway.transfer_create` monkeypatched: the real call,
  then the crash); and a timeout after the transfer was made.
* Bacs: while writing the file (the writer, or the BacsFile insert), and while confirming the upload
  after the first payment was recorded.

Run again (`start_run` resumes the running run; confirm again), every invoice is paid once: one transfer
per payment on the double, one remittance line in force, one `invoice_payment` posting per invoice, one
`provider_payment` posting per payment, and the ledger balances to the penny.
"""

import pytest

from invoicing.models import Invoice
from payments import stripe_gateway
from payments.models import BacsFile, Payment, PaymentRun, PaymentStatus
from payments.services import runs
from tests.payments.stripe_double import stripe_double  # noqa: F401
from tests.payments.test_payment_runs import (
    AA1,
    BC1,
    DA1,
    add_stripe_provider,
    confirm,
    ledger_balanced,
    net,
    paid_exactly_once,
    provider_payment_postings,
    transfers_for,
)
from tests.payments.world import approve, build_payments_world, start_run

pytestmark = pytest.mark.django_db


class Killed(Exception):
    """The process died here."""


@pytest.fixture
def crash():
    """A monkeypatch of its own for the crash, so that undoing it (the process restarting) leaves the
    world's patched clock alone."""
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


@pytest.fixture
def world(monkeypatch, settings, stripe_double):  # noqa: F811
    world = build_payments_world(monkeypatch, settings, stripe_double)
    # Four Stripe payments: bright-care (BC-1 and BC-2) and three more providers with one invoice each.
    approve(world, "bright-care", number="BC-2", lines=[("2026-10-04", "2")])
    from tests.payments.test_payment_runs import approved_directly

    for n, amount in enumerate((1001, 2002, 3003)):
        provider = add_stripe_provider(stripe_double, f"Carer {n}")
        approved_directly(world, provider, number=f"C{n}-1", amount_minor=amount)
    return world


STRIPE_TOTAL = BC1 + 4900 + 1001 + 2002 + 3003


def kill_transfers(crash, *, after: int, made: bool) -> list[int]:
    """Let `after` transfers through, then kill the process on the next: before asking Stripe (`made`
    False) or once Stripe has made it (`made` True). Returns the list of calls seen (appended to)."""
    real = stripe_gateway.transfer_create
    calls: list[int] = []

    def transfer_create(**kwargs):
        calls.append(1)
        if len(calls) <= after:
            return real(**kwargs)
        if made:
            real(**kwargs)
        raise Killed()

    crash.setattr(stripe_gateway, "transfer_create", transfer_create)
    return calls


def assert_everything_paid_once(world) -> None:
    for payment in Payment.objects.filter(rail="stripe"):
        assert payment.status == PaymentStatus.SENT, payment
        assert len(transfers_for(world.stripe, payment)) == 1
        assert world.stripe.transfers[payment.stripe_transfer_id]["amount"] == payment.amount_minor
        assert provider_payment_postings(payment) == 1
    assert len(world.stripe.transfers) == Payment.objects.filter(rail="stripe").count() == 4
    for invoice in Invoice.objects.filter(provider__payments__rail="stripe").distinct():
        paid_exactly_once(invoice)
    assert net("payments:clearing:stripe:GBP") == (STRIPE_TOTAL, 0)
    ledger_balanced()


class TestStripeRail:
    @pytest.mark.parametrize("made", [False, True], ids=["before-the-transfer", "after-stripe-made-it"])
    @pytest.mark.parametrize("after", [0, 1, 2])
    def test_killed_after_n_transfers_and_run_again_pays_each_invoice_once(self, world, crash, after, made):
        finance = world.users["finance"]
        kill_transfers(crash, after=after, made=made)
        with pytest.raises(Killed):
            start_run(finance)

        run = PaymentRun.objects.get()
        assert run.status == "running"
        stripe_payments = Payment.objects.filter(run=run, rail="stripe").order_by("pk")
        assert [p.status for p in stripe_payments] == ["sent"] * after + ["pending"] * (4 - after)
        assert len(world.stripe.transfers) == after + int(made)
        assert not BacsFile.objects.exists()  # killed before the file was written
        ledger_balanced()

        crash.undo()  # the process restarts with the real gateway
        resumed = start_run(finance)

        assert (resumed.pk, resumed.status) == (run.pk, "waiting_for_upload")
        assert_everything_paid_once(world)
        if made:  # the transfer Stripe made before the crash is the one recorded
            assert world.stripe.replays == 1

    def test_killed_twice_in_a_row_still_pays_once(self, world, crash):
        finance = world.users["finance"]
        kill_transfers(crash, after=1, made=True)
        with pytest.raises(Killed):
            start_run(finance)
        crash.undo()
        kill_transfers(crash, after=1, made=True)  # the replay of the second, then killed on the third
        with pytest.raises(Killed):
            start_run(finance)
        crash.undo()
        start_run(finance)
        assert_everything_paid_once(world)

    def test_a_timeout_after_the_transfer_was_made_then_a_resume_pays_once(self, world):
        finance = world.users["finance"]
        world.stripe.timeout_after_create(3)  # the first payment's transfer is made; no answer comes back
        run = start_run(finance)
        assert run.status == "running"
        assert Payment.objects.filter(status="pending").count() == 1
        assert len(world.stripe.transfers) == 4

        start_run(finance)

        assert_everything_paid_once(world)

    def test_a_crash_after_the_transfer_then_stripes_webhook_records_it(self, world, crash):
        """The `transfer.created` event of a transfer Purse never heard back about records it; the resume
        then leaves it alone."""
        from payments.services import events

        finance = world.users["finance"]
        kill_transfers(crash, after=0, made=True)
        with pytest.raises(Killed):
            start_run(finance)
        crash.undo()
        [event] = [e for e in world.stripe.events.values() if e["type"] == "transfer.created"]
        outcome = events.stripe_event_process(event=event)
        assert outcome.acted is True
        start_run(finance)
        assert_everything_paid_once(world)
        assert world.stripe.replays == 0


class TestBacsRail:
    @pytest.mark.parametrize("where", ["writer", "insert"])
    def test_killed_while_writing_the_file_leaves_nothing_and_run_again_writes_it_once(
        self, world, crash, where
    ):
        finance = world.users["finance"]

        def killed(*args, **kwargs):
            raise Killed()

        runs.payment_run_start(by=finance)  # the run is made (its work handed over on commit, not reached)
        if where == "writer":
            crash.setattr(runs.bacs, "bacs_file", killed)
        else:
            crash.setattr(BacsFile.objects, "create", killed)
        with pytest.raises(Killed):
            start_run(finance)

        assert not BacsFile.objects.exists()
        assert sorted(Payment.objects.filter(rail="bacs").values_list("status", "bacs_file")) == [
            ("pending", None),
            ("pending", None),
        ]
        assert PaymentRun.objects.get().status == "running"

        crash.undo()
        run = start_run(finance)

        assert run.status == "waiting_for_upload"
        bacs_file = BacsFile.objects.get()
        assert (bacs_file.credits, bacs_file.total_minor, bacs_file.file_number) == (2, AA1 + DA1, 1)
        confirm(run, finance)
        for slug in ("able-assist", "dales-adaptations"):
            paid_exactly_once(world.invoices[slug])
        assert net("payments:clearing:bacs:GBP") == (AA1 + DA1, 0)
        assert_everything_paid_once(world)

    def test_killed_while_confirming_leaves_nothing_and_confirming_again_pays_once(self, world, crash):
        finance = world.users["finance"]
        run = start_run(finance)
        real = runs.payment_record_sent
        calls: list[int] = []

        def record_then_die(*args, **kwargs):
            calls.append(1)
            if len(calls) > 1:
                raise Killed()
            return real(*args, **kwargs)

        crash.setattr(runs, "payment_record_sent", record_then_die)
        with pytest.raises(Killed):
            confirm(run, finance)

        assert len(calls) == 2  # the first payment was recorded, then the process died
        assert BacsFile.objects.get().status == "written"
        assert sorted(Payment.objects.filter(rail="bacs").values_list("status", flat=True)) == ["in_file"] * 2
        for slug in ("able-assist", "dales-adaptations"):
            assert Invoice.objects.get(pk=world.invoices[slug].pk).status == "approved"
        assert net("payments:clearing:bacs:GBP") == (0, 0)

        crash.undo()
        confirm(run, finance)
        confirm(run, finance)  # and once more, as a double click would

        for slug in ("able-assist", "dales-adaptations"):
            paid_exactly_once(world.invoices[slug])
        for payment in Payment.objects.filter(rail="bacs"):
            assert provider_payment_postings(payment) == 1
        assert net("payments:clearing:bacs:GBP") == (AA1 + DA1, 0)
        run.refresh_from_db()
        assert run.status == "done"
        ledger_balanced()
