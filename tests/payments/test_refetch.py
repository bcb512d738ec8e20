"""`python manage.py stripe_events_refetch`: the events Stripe made while the webhook was down are fetched
from the local Stripe double (`GET /v1/events`, through the SDK) and processed, once.

Running it again does nothing new, events already delivered by webhook are not processed twice, and it
exits 1 with a plain message (no traceback) when Stripe is switched off or cannot be reached, or when the
window is one Stripe no longer keeps.
"""

import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import TestCase

from invoicing.models import Invoice
from ledger.services import PeriodClosed
from payments.models import Payment, PaymentStatus, StripeEvent
from payments.services import events
from tests.payments.stripe_double import stripe_double  # noqa: F401
from tests.payments.test_webhooks import balances, counts, deliver, make_world, paid_by_stripe

pytestmark = pytest.mark.django_db


def refetch(*args: str) -> str:
    out = io.StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("stripe_events_refetch", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_from_the_command_line(monkeypatch, *argv: str) -> None:
    """Run the command as `manage.py` does (exit code, stderr), keeping the test's database connection:
    a command run so closes every connection when it ends, which on PostgreSQL would close the one the
    test's transaction is on."""
    monkeypatch.setattr(connections, "close_all", lambda: None)
    ManagementUtility(["manage.py", *argv]).execute()


@pytest.fixture
def world(monkeypatch, settings, stripe_double):  # noqa: F811
    return make_world(monkeypatch, settings, stripe_double)


@pytest.fixture
def sent(world):
    """bright-care paid by the run; Stripe stored `transfer.created` for it (the webhook never came)."""
    payment = paid_by_stripe(world)
    transfer = world.stripe.transfers[payment.stripe_transfer_id]
    assert [event["type"] for event in world.stripe.events.values()] == ["transfer.created"]
    return payment, transfer


class TestMissedEvents:
    def test_events_made_while_the_webhook_was_down_are_processed(self, world, sent):
        payment, transfer = sent
        world.stripe.add_event("transfer.paid", transfer)

        output = refetch("--hours", "1")

        assert output.endswith(": 2 seen, 2 new, 1 acted on.")
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PAID
        assert sorted(StripeEvent.objects.values_list("type", "source", "acted")) == [
            ("transfer.created", "refetch", False),
            ("transfer.paid", "refetch", True),
        ]
        assert balances()["payments:cash:stripe:GBP"] == (-payment.amount_minor, -payment.amount_minor)
        listed = world.stripe.requests_to("GET", "/v1/events")
        assert len(listed) == 1
        assert listed[0].params["limit"] == "100"
        assert int(listed[0].params["created[lte]"]) - int(listed[0].params["created[gte]"]) == 3600

    def test_running_it_again_does_nothing_new(self, world, sent):
        _, transfer = sent
        world.stripe.add_event("transfer.paid", transfer)
        refetch("--hours", "1")
        before, state = counts(), balances()

        output = refetch("--hours", "1")

        assert output.endswith(": 2 seen, 0 new, 0 acted on.")
        assert counts() == before
        assert balances() == state

    def test_events_already_delivered_by_webhook_are_not_processed_twice(self, world, sent):
        _, transfer = sent
        paid = world.stripe.add_event("transfer.paid", transfer)
        assert deliver(paid).json()["acted"] is True
        settled = balances()

        output = refetch("--hours", "1")

        assert output.endswith(": 2 seen, 1 new, 0 acted on.")  # only transfer.created was new
        assert balances() == settled
        assert StripeEvent.objects.get(event_id=paid["id"]).source == "webhook"

    def test_a_reversal_missed_is_undone_by_the_refetch(self, world, sent):
        payment, transfer = sent
        world.stripe.reverse_transfer(transfer["id"])

        output = refetch()  # the last 72 hours

        assert output.endswith(": 2 seen, 2 new, 1 acted on.")
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.REVERSED
        assert Invoice.objects.get(pk=world.invoices["bright-care"].pk).status == "approved"

    def test_only_the_window_is_fetched(self, world, sent):
        _, transfer = sent
        world.stripe.add_event("transfer.paid", transfer, created=int(time.time()) - 5 * 3600)

        assert refetch("--hours", "1").endswith(": 1 seen, 1 new, 0 acted on.")
        assert refetch("--hours", "6").endswith(": 2 seen, 1 new, 1 acted on.")

    def test_since_and_until(self, world, sent):
        _, transfer = sent
        now = datetime.now(tz=UTC)
        world.stripe.add_event(
            "transfer.paid", transfer, created=int((now - timedelta(hours=30)).timestamp())
        )

        output = refetch("--since", iso(now - timedelta(hours=31)), "--until", iso(now - timedelta(hours=29)))

        assert output == (
            f"Stripe events from {iso(now - timedelta(hours=31))} to {iso(now - timedelta(hours=29))}: "
            "1 seen, 1 new, 1 acted on."
        )

    def test_one_event_that_cannot_be_processed_is_left_for_later_and_the_rest_are_done(
        self, world, sent, monkeypatch
    ):
        payment, transfer = sent
        world.stripe.add_event("transfer.paid", transfer)

        def closed(payment):
            raise PeriodClosed("That date is in a closed period.")

        monkeypatch.setattr(events, "payment_settle", closed)
        stderr = io.StringIO()

        with pytest.raises(CommandError, match="1 event could not be processed and changed nothing"):
            call_command("stripe_events_refetch", "--hours", "1", stdout=io.StringIO(), stderr=stderr)

        assert "was not processed: That date is in a closed period." in stderr.getvalue()
        assert list(StripeEvent.objects.values_list("type", flat=True)) == ["transfer.created"]
        monkeypatch.undo()
        assert refetch("--hours", "1").endswith(": 2 seen, 1 new, 1 acted on.")
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID


class TestRefused:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--hours", str(31 * 24)], "Stripe keeps events for 30 days"),
            (["--since", iso(datetime.now(tz=UTC) - timedelta(days=31))], "Stripe keeps events for 30 days"),
            (["--hours", "0"], "--hours must be a whole number of hours, 1 or more."),
            (["--since", "yesterday"], "'yesterday' is not a date and time"),
            (["--until", iso(datetime.now(tz=UTC))], "--until needs --since"),
            (
                [
                    "--since",
                    iso(datetime.now(tz=UTC) - timedelta(hours=1)),
                    "--until",
                    "2026-01-01T00:00:00Z",
                ],
                "The window is empty",
            ),
        ],
    )
    def test_a_window_it_cannot_fetch_is_refused_before_asking_stripe(self, world, args, message):
        with pytest.raises(CommandError, match=message.replace("(", r"\(")):
            call_command("stripe_events_refetch", *args, stdout=io.StringIO())

        assert world.stripe.requests_to("GET", "/v1/events") == []

    def test_stripe_switched_off_exits_1_with_a_message_and_no_traceback(
        self, world, settings, capsys, monkeypatch
    ):
        settings.STRIPE_SECRET_KEY = ""

        with pytest.raises(SystemExit) as exited:
            run_from_the_command_line(monkeypatch, "stripe_events_refetch", "--hours", "2")

        assert exited.value.code == 1
        stderr = capsys.readouterr().err
        assert stderr.strip() == (
            "CommandError: No events were fetched or processed. Stripe payouts are switched off: "
            "STRIPE_SECRET_KEY is not set. Providers paid by bank transfer are still paid in the Bacs file."
        )
        assert "Traceback" not in stderr

    def test_stripe_unreachable_exits_1_and_processes_nothing(self, world, sent, capsys, monkeypatch):
        _, transfer = sent
        world.stripe.add_event("transfer.paid", transfer)
        world.stripe.fail_next(3)  # the first attempt and the SDK's two retries
        before = counts()

        with pytest.raises(SystemExit) as exited:
            run_from_the_command_line(monkeypatch, "stripe_events_refetch")

        assert exited.value.code == 1
        stderr = capsys.readouterr().err
        (said,) = [line for line in stderr.splitlines() if line.startswith("CommandError:")]
        assert said.startswith(
            "CommandError: No events were fetched or processed. Could not list Stripe events"
        )
        assert said.endswith("Trying again later is safe: Stripe never carries out the same request twice.")
        assert "Traceback" not in stderr
        assert counts() == before
