"""Finance's payment run pages: the runs (and the payment warnings banner), starting a run (the Bacs
processing day, then "Check and confirm" with what would be paid by each rail and who would be skipped),
a run's progress, payments and skipped providers, its Bacs file (download, confirm the upload, or cancel
it), and the payment warnings to mark as seen. Who may see each (finance and administrators; 404 for
anyone else), exact amounts, bad processing days, and query counts that do not grow with the payments."""

import html as html_text
import re
from datetime import date

import pytest
from django.db import transaction
from django.urls import reverse

from invoicing.models import Invoice, InvoiceStatus, Remittance
from ledger.selectors import account_balance
from payments import accounts, selectors
from payments.models import (
    BacsFile,
    BacsFileStatus,
    Payment,
    PaymentInvoice,
    PaymentRun,
    PaymentRunStatus,
    PaymentStatus,
    Rail,
)
from payments.services import runs
from people import services as people_services
from people.models import AuditEvent, Organisation
from tests.payments.stripe_double import stripe_double  # noqa: F401
from tests.payments.world import approve, build_payments_world, start_run
from tests.web.roles import sign_in_role

pytestmark = pytest.mark.django_db

RUNS = reverse("web:payment-runs")
START = reverse("web:payment-run-start")
WARNINGS = reverse("web:payment-warnings")
# The world's approved invoices (tests/payments/world.py): one per provider.
ABLE = 6300  # able-assist, AA-1: 3.5 hours at 18.00
DALES = 175000  # dales-adaptations, DA-1: half the ramp at 3500.00
BACS_TOTAL = ABLE + DALES
NOT_FINANCE = ("holder", "rep_approve", "navigator", "officer_asc", "provider_engaged")
STRIPE_OFF = (
    "Stripe payouts are switched off: STRIPE_SECRET_KEY is not set. Providers paid by bank transfer are "
    "still paid in the Bacs file."
)


@pytest.fixture
def world(monkeypatch, settings, stripe_double):  # noqa: F811
    """The payments world with Stripe switched off (the demo's case): bright-care is skipped, the bank
    providers are paid in the Bacs file. (Built on the double so bright-care has a real account id.)"""
    built = build_payments_world(monkeypatch, settings, stripe_double=stripe_double)
    settings.STRIPE_SECRET_KEY = ""
    return built


@pytest.fixture
def stripe_world(world, settings, stripe_double):  # noqa: F811
    """The same world with Stripe switched on, pointed at the local double."""
    from tests.payments.stripe_double import use_stripe_double

    use_stripe_double(settings, stripe_double)
    return world


def _signed_in(client, sign_in_verified, world, role: str):
    sign_in_role(client, sign_in_verified, world.users[role], role)
    return client


def _text(response) -> str:
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def _day(day: date) -> dict[str, str]:
    return {"pay_on_day": str(day.day), "pay_on_month": str(day.month), "pay_on_year": str(day.year)}


def _run_url(run: PaymentRun, name: str = "web:payment-run") -> str:
    return reverse(name, args=[run.public_id])


def _run_started_not_sent(by=None) -> PaymentRun:
    """A run made by the service whose payments were never sent (its commit callbacks not run): running."""
    return runs.payment_run_start(by=by, pay_on=date(2026, 11, 23)).run


def _run_with_file(world) -> PaymentRun:
    run = start_run(world.users["finance"], pay_on=date(2026, 11, 23))
    assert run.status == PaymentRunStatus.WAITING_FOR_UPLOAD
    return run


class TestWhoSeesThePages:
    def _urls(self, run: PaymentRun, payment: Payment) -> list[str]:
        return [
            RUNS,
            START,
            WARNINGS,
            _run_url(run),
            _run_url(run, "web:payment-run-resume"),
            _run_url(run, "web:payment-run-bacs-file"),
            _run_url(run, "web:payment-run-bacs-uploaded"),
            _run_url(run, "web:payment-run-bacs-cancel"),
        ]

    @pytest.mark.parametrize("role", ["finance", "admin"])
    def test_finance_and_administrators(self, client, sign_in_verified, world, role):
        run = _run_with_file(world)
        _signed_in(client, sign_in_verified, world, role)
        for url in self._urls(run, run.payment_set.first()):
            assert client.get(url).status_code == 200, url

    @pytest.mark.parametrize("role", NOT_FINANCE)
    def test_anyone_else_gets_not_found_and_changes_nothing(self, client, sign_in_verified, world, role):
        run = _run_with_file(world)
        payment = run.payment_set.first()
        _signed_in(client, sign_in_verified, world, role)
        for url in self._urls(run, payment):
            assert client.get(url).status_code == 404, url
        assert client.post(START, {**_day(date(2026, 11, 23)), "confirm": "yes"}).status_code == 404
        assert client.post(_run_url(run, "web:payment-run-bacs-uploaded")).status_code == 404
        assert client.post(_run_url(run, "web:payment-run-bacs-cancel"), {"reason": "No"}).status_code == 404
        assert client.post(_run_url(run, "web:payment-run-resume")).status_code == 404
        seen = reverse("web:payment-warning-seen", args=[payment.public_id])
        assert client.post(seen).status_code == 404
        assert PaymentRun.objects.count() == 1
        assert BacsFile.objects.get().status == BacsFileStatus.WRITTEN
        assert not AuditEvent.objects.filter(action="bacs_file.downloaded").exists()

    def test_anonymous_is_sent_to_sign_in(self, client, world):
        run = _run_with_file(world)
        for url in (RUNS, START, WARNINGS, _run_url(run), _run_url(run, "web:payment-run-bacs-file")):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("web:sign-in"))

    def test_unknown_runs_and_runs_without_a_file_are_not_found(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        assert client.get("/finance/payment-runs/prun_nothing/").status_code == 404
        assert client.get("/finance/payment-runs/prun_nothing/bacs-file/").status_code == 404
        running = _run_started_not_sent()
        assert client.get(_run_url(running, "web:payment-run-bacs-file")).status_code == 404
        assert client.post("/finance/payment-warnings/pay_nothing/seen/").status_code == 404

    def test_the_navigation_leads_there(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        html = client.get(reverse("web:home")).content.decode()
        assert f'href="{RUNS}"' in html and "Payment runs" in html


class TestStartingARun:
    def test_the_processing_day_is_the_next_working_day_by_default(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        html = client.get(START).content.decode()
        # Today is Friday 20 November 2026: the next working day is Monday the 23rd.
        assert 'name="pay_on_day" type="text" inputmode="numeric" autocomplete="off" value="23"' in html
        assert 'name="pay_on_month" type="text" inputmode="numeric" autocomplete="off" value="11"' in html
        assert 'name="pay_on_year" type="text" inputmode="numeric" autocomplete="off" value="2026"' in html
        assert "No payment run has been started yet." in _text(client.get(RUNS))

    def test_check_and_confirm_shows_what_would_be_paid_and_makes_nothing(
        self, client, sign_in_verified, world
    ):
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.post(START, _day(date(2026, 11, 23)))
        assert response.status_code == 200
        text = _text(response)
        assert "Check what this payment run will pay" in text
        assert "Bacs processing day 23 November 2026" in text
        assert "Invoices to pay 2" in text and "Providers to pay 2" in text
        assert "Total to pay £1,813.00" in text
        assert "Bank transfer (Bacs) 2 2 £1,813.00" in text
        assert "Stripe payouts are switched off on this Purse" in text
        assert f"Bright Care {STRIPE_OFF} 1 £" in text
        preview = response.context["preview"]
        assert [(r.rail, r.providers, r.invoices, r.total_minor) for r in preview.rails] == [
            (Rail.BACS, 2, 2, BACS_TOTAL)
        ]
        bright = world.invoices["bright-care"]
        assert [(s.name, s.invoices, s.total_minor, s.reason) for s in preview.skipped] == [
            ("Bright Care", 1, bright.total_minor, STRIPE_OFF)
        ]
        assert (preview.skipped_providers, preview.skipped_invoices) == (1, 1)
        assert not PaymentRun.objects.exists()
        assert not PaymentInvoice.objects.exists()

    def test_with_stripe_on_the_stripe_provider_is_counted_by_its_rail(
        self, client, sign_in_verified, stripe_world
    ):
        _signed_in(client, sign_in_verified, stripe_world, "finance")
        response = client.post(START, _day(date(2026, 11, 23)))
        preview = response.context["preview"]
        bright = stripe_world.invoices["bright-care"].total_minor
        assert [(r.rail, r.providers, r.invoices, r.total_minor) for r in preview.rails] == [
            (Rail.STRIPE, 1, 1, bright),
            (Rail.BACS, 2, 2, BACS_TOTAL),
        ]
        assert preview.skipped == [] and preview.skipped_providers == 0
        text = _text(response)
        assert "Stripe payouts are switched off" not in text
        assert "None: every provider with an approved invoice can be paid." in text

    def test_the_preview_is_a_fixed_number_of_queries(self, world, django_assert_num_queries):
        people_services.provider_details_set(
            provider=Organisation.objects.get(slug="able-assist"), by=None, payout_method="none"
        )
        for number in range(2, 8):
            approve(world, "dales-adaptations", number=f"DA-{number}", lines=[("2026-10-03", "0.01")])
        with django_assert_num_queries(2):
            preview = selectors.payment_run_preview()
        assert [(r.rail, r.providers, r.invoices) for r in preview.rails] == [(Rail.BACS, 1, 7)]
        assert sorted((s.name, s.invoices, s.reason) for s in preview.skipped) == [
            ("Able Assist", 1, "The provider has not set up how it is paid."),
            ("Bright Care", 1, STRIPE_OFF),
        ]

    def test_start_then_download_then_confirm_the_upload_pays_the_invoices(
        self, client, sign_in_verified, world, django_capture_on_commit_callbacks
    ):
        _signed_in(client, sign_in_verified, world, "finance")
        with django_capture_on_commit_callbacks(execute=True):
            started = client.post(START, {**_day(date(2026, 11, 23)), "confirm": "yes"})

        run = PaymentRun.objects.get()
        assert started.status_code == 302 and started["Location"] == _run_url(run)
        assert (run.created_by, run.pay_on) == (world.users["finance"], date(2026, 11, 23))
        assert (run.invoices, run.payments, run.total_minor) == (2, 2, BACS_TOTAL)
        assert run.status == PaymentRunStatus.WAITING_FOR_UPLOAD
        assert run.skipped == [
            {
                "provider": world.invoices["bright-care"].provider.public_id,
                "name": "Bright Care",
                "invoices": 1,
                "reason": STRIPE_OFF,
            }
        ]

        page = client.get(started["Location"])
        text = _text(page)
        assert "You started a payment run: 2 invoices in 2 payments, £1,813.00." in text
        assert "Waiting for finance to upload the Bacs file" in text
        assert "2 of 2 payments done (100%): 0 paid, 2 in the Bacs file waiting to be uploaded." in text
        assert "data-purse-poll-url" not in page.content.decode()
        assert "Able Assist 1 invoice Bank transfer (Bacs) £63.00" in text
        assert "Dales Adaptations 1 invoice Bank transfer (Bacs) £1,750.00" in text
        assert f"Bright Care 1 {STRIPE_OFF}" in text
        bacs_file = BacsFile.objects.get()
        assert bacs_file.filename == "purse-bacs-2026-11-23-000001.txt"
        assert "Download the Bacs file (purse-bacs-2026-11-23-000001.txt)" in text

        download = client.get(_run_url(run, "web:payment-run-bacs-file"))
        assert download["Content-Type"] == "text/plain; charset=us-ascii"
        assert download["Content-Disposition"] == 'attachment; filename="purse-bacs-2026-11-23-000001.txt"'
        assert download.content.decode("ascii") == bacs_file.content
        assert (
            AuditEvent.objects.filter(
                action="bacs_file.downloaded", object_id=bacs_file.public_id, actor=world.users["finance"]
            ).count()
            == 1
        )

        check = _text(client.get(_run_url(run, "web:payment-run-bacs-uploaded")))
        assert "Have you uploaded purse-bacs-2026-11-23-000001.txt to the bank?" in check
        assert "Payments in it 2" in check and "Total £1,813.00" in check
        assert "Processing day 23 November 2026" in check
        assert Payment.objects.filter(status=PaymentStatus.IN_FILE).count() == 2  # nothing changed yet

        confirmed = client.post(_run_url(run, "web:payment-run-bacs-uploaded"))
        assert confirmed.status_code == 302 and confirmed["Location"] == _run_url(run)
        text = _text(client.get(confirmed["Location"]))
        assert (
            "You confirmed that purse-bacs-2026-11-23-000001.txt was uploaded to the bank: 2 payments of "
            "£1,813.00 recorded as paid, on 23 November 2026." in text
        )
        assert "2 of 2 payments done (100%): 2 paid." in text
        run.refresh_from_db()
        assert run.status == PaymentRunStatus.DONE
        bacs_file.refresh_from_db()
        assert (bacs_file.status, bacs_file.decided_by) == (BacsFileStatus.UPLOADED, world.users["finance"])
        for slug, amount in (("able-assist", ABLE), ("dales-adaptations", DALES)):
            invoice = Invoice.objects.get(pk=world.invoices[slug].pk)
            assert invoice.status == InvoiceStatus.PAID
            payment = Payment.objects.get(provider__slug=slug)
            assert (payment.status, payment.amount_minor) == (PaymentStatus.SENT, amount)
            remittance = Remittance.objects.get(reference=payment.public_id)
            assert (remittance.total_minor, remittance.paid_on) == (amount, date(2026, 11, 23))
            assert [line.amount_minor for line in remittance.lines.all()] == [amount]
        assert Invoice.objects.get(pk=world.invoices["bright-care"].pk).status == InvoiceStatus.APPROVED
        clearing = accounts.clearing_account(rail=Rail.BACS, currency="GBP")
        assert account_balance(account=clearing).posted_minor == BACS_TOTAL

        # The page says so and offers nothing more; a second confirmation changes nothing.
        again = client.get(_run_url(run, "web:payment-run-bacs-uploaded"))
        assert "so there is nothing more to confirm" in _text(again)
        client.post(_run_url(run, "web:payment-run-bacs-uploaded"))
        assert Remittance.objects.count() == 2
        listing = _text(client.get(RUNS))
        assert (
            "Done" in listing and "£1,813.00" in listing and "Bacs processing day 23 November 2026" in listing
        )

    def test_stripe_payments_are_sent_at_once(
        self,
        client,
        sign_in_verified,
        stripe_world,
        stripe_double,  # noqa: F811
        django_capture_on_commit_callbacks,
    ):
        _signed_in(client, sign_in_verified, stripe_world, "admin")
        with django_capture_on_commit_callbacks(execute=True):
            started = client.post(START, {**_day(date(2026, 11, 24)), "confirm": "yes"})
        run = PaymentRun.objects.get()
        bright = stripe_world.invoices["bright-care"].total_minor
        assert (run.invoices, run.payments, run.total_minor) == (3, 3, BACS_TOTAL + bright)
        payment = Payment.objects.get(rail=Rail.STRIPE)
        assert payment.status == PaymentStatus.SENT and payment.amount_minor == bright
        [transfer] = stripe_double.transfers.values()
        assert transfer["amount"] == bright and transfer["destination"] == stripe_world.stripe_account
        text = _text(client.get(started["Location"]))
        assert "3 of 3 payments done (100%): 1 paid, 2 in the Bacs file waiting to be uploaded." in text
        assert f"Stripe {payment.stripe_transfer_id}" in text
        assert BacsFile.objects.get().processing_day == date(2026, 11, 24)

    @pytest.mark.parametrize(
        ("day", "message"),
        [
            (("31", "2", "2026"), "The processing day must be a real date"),
            (("", "11", "2026"), "The processing day must include a day"),
            (("", "", ""), "Enter the Bacs processing day"),
            (("23", "11", "26"), "Year must include 4 numbers"),
            (("19", "11", "2026"), "The processing day 19 November 2026 has passed; choose today or later."),
            (
                ("21", "11", "2026"),
                "21 November 2026 is not a working day; the next one is 23 November 2026.",
            ),
            # Christmas: Boxing Day is a Saturday, so Monday the 28th is the bank holiday instead.
            (
                ("25", "12", "2026"),
                "25 December 2026 is not a working day; the next one is 29 December 2026.",
            ),
        ],
    )
    def test_a_bad_processing_day_shows_an_error_summary_and_makes_nothing(
        self, client, sign_in_verified, world, day, message
    ):
        _signed_in(client, sign_in_verified, world, "finance")
        fields = {"pay_on_day": day[0], "pay_on_month": day[1], "pay_on_year": day[2]}
        for data in (fields, {**fields, "confirm": "yes"}):
            response = client.post(START, data)
            assert response.status_code == 200
            html = response.content.decode()
            assert "There is a problem" in html and 'href="#id_pay_on_day"' in html
            assert html_text.escape(message, quote=False) in html.replace("&#x27;", "'")
            assert "<title>Error: Start a payment run - Purse</title>" in html
        assert not PaymentRun.objects.exists()

    @pytest.mark.parametrize("day", [date(2026, 11, 19), date(2026, 11, 21), date(2026, 12, 25)])
    def test_the_pages_words_for_a_bad_day_are_the_services(self, client, sign_in_verified, world, day):
        with pytest.raises(runs.PaymentRunInvalid) as refused:
            runs.payment_run_start(by=None, pay_on=day)
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.post(START, _day(day))
        assert response.context["form"].errors["pay_on"] == [refused.value.message]

    def test_the_services_refusal_at_confirmation_is_shown_on_the_form(
        self, client, sign_in_verified, world, monkeypatch
    ):
        def refuse(**kwargs):
            raise runs.PaymentRunInvalid("The bank is closed that day.")

        monkeypatch.setattr(runs, "payment_run_start", refuse)
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.post(START, {**_day(date(2026, 11, 23)), "confirm": "yes"})
        assert response.status_code == 200
        assert response.context["form"].errors["pay_on"] == ["The bank is closed that day."]
        assert "There is a problem" in response.content.decode()

    def test_change_the_processing_day(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.post(START, {**_day(date(2026, 11, 25)), "change": "yes"})
        assert 'name="pay_on_day" type="text" inputmode="numeric" autocomplete="off" value="25"' in (
            response.content.decode()
        )
        assert not PaymentRun.objects.exists()

    def test_a_run_already_running_is_found_not_doubled(self, client, sign_in_verified, world):
        running = _run_started_not_sent()
        _signed_in(client, sign_in_verified, world, "finance")
        start_page = _text(client.get(START))
        assert "A payment run is already running." in start_page
        assert _run_url(running) in client.get(START).content.decode()
        assert _run_url(running) in client.get(RUNS).content.decode()
        response = client.post(START, {**_day(date(2026, 11, 23)), "confirm": "yes"}, follow=True)
        assert response.redirect_chain[-1][0] == _run_url(running)
        assert "A payment run was already running" in _text(response)
        assert "so no new one was started" in _text(response)
        assert PaymentRun.objects.count() == 1


class TestARunningRun:
    def test_its_page_polls_and_offers_to_check_again(self, client, sign_in_verified, world):
        run = _run_started_not_sent()
        _signed_in(client, sign_in_verified, world, "finance")
        page = client.get(_run_url(run))
        html = page.content.decode()
        assert f'data-purse-poll-url="{_run_url(run)}"' in html
        text = _text(page)
        assert "Check progress again" in text
        assert "0 of 2 payments done (0%): 0 paid, 2 waiting to be sent." in text
        assert "The Bacs file is written once the Stripe payments have been sent." in text

        polled = client.get(_run_url(run), headers={"X-Requested-With": "fetch"})
        assert polled["X-Purse-Running"] == "1"
        assert "<h1" not in polled.content.decode()
        assert "0 of 2 payments done" in _text(polled)

    def test_resumed_it_sends_its_payments(
        self, client, sign_in_verified, world, django_capture_on_commit_callbacks
    ):
        run = _run_started_not_sent()
        _signed_in(client, sign_in_verified, world, "finance")
        confirm = _text(client.get(_run_url(run, "web:payment-run-resume")))
        assert "2 payments are waiting to be sent." in confirm
        with django_capture_on_commit_callbacks(execute=True):
            resumed = client.post(_run_url(run, "web:payment-run-resume"))
        assert resumed["Location"] == _run_url(run)
        run.refresh_from_db()
        assert run.status == PaymentRunStatus.WAITING_FOR_UPLOAD
        polled = client.get(_run_url(run), headers={"X-Requested-With": "fetch"})
        assert polled["X-Purse-Running"] == "0"
        assert "You resumed the payment run" in _text(client.get(_run_url(run)))
        # Not running any more: nothing to resume.
        again = client.post(_run_url(run, "web:payment-run-resume"))
        assert "There is a problem" in again.content.decode()
        assert "is not paying any more" in _text(again)


class TestCancellingTheBacsFile:
    def test_a_reason_is_needed(self, client, sign_in_verified, world):
        run = _run_with_file(world)
        _signed_in(client, sign_in_verified, world, "finance")
        for reason in ("", "   "):
            response = client.post(_run_url(run, "web:payment-run-bacs-cancel"), {"reason": reason})
            html = response.content.decode()
            assert "There is a problem" in html and 'href="#id_reason"' in html
            assert "Say why the file is not being uploaded" in html
        too_long = client.post(_run_url(run, "web:payment-run-bacs-cancel"), {"reason": "x" * 501})
        assert "The reason must be 500 characters or fewer" in too_long.content.decode()
        assert BacsFile.objects.get().status == BacsFileStatus.WRITTEN
        assert Payment.objects.filter(status=PaymentStatus.IN_FILE).count() == 2

    def test_cancelled_its_invoices_wait_for_the_next_run(
        self, client, sign_in_verified, world, django_capture_on_commit_callbacks
    ):
        run = _run_with_file(world)
        _signed_in(client, sign_in_verified, world, "finance")
        page = _text(client.get(_run_url(run, "web:payment-run-bacs-cancel")))
        assert "The file has 2 payments of £1,813.00 in all, for processing on 23 November 2026." in page

        cancelled = client.post(
            _run_url(run, "web:payment-run-bacs-cancel"), {"reason": "  The bank rejected the file.  "}
        )
        assert cancelled["Location"] == _run_url(run)
        text = _text(client.get(cancelled["Location"]))
        assert "You cancelled purse-bacs-2026-11-23-000001.txt: it will not be uploaded." in text
        assert "Cancelled: not uploaded" in text and "The bank rejected the file." in text
        assert "I have uploaded this file to the bank" not in text
        bacs_file = BacsFile.objects.get()
        assert bacs_file.status == BacsFileStatus.CANCELLED
        assert set(Payment.objects.values_list("status", "error")) == {
            (PaymentStatus.CANCELLED, "The bank rejected the file.")
        }
        assert not PaymentInvoice.objects.filter(holding=True).exists()
        assert set(Invoice.objects.values_list("status", flat=True)) == {InvoiceStatus.APPROVED}
        assert not Remittance.objects.exists()
        run.refresh_from_db()
        assert run.status == PaymentRunStatus.DONE
        # Cancelled, it cannot be confirmed: the service says why, on the page.
        refused = client.post(_run_url(run, "web:payment-run-bacs-uploaded"))
        assert refused.status_code == 200
        assert "was cancelled, so it cannot be confirmed." in _text(refused)
        assert not Remittance.objects.exists()

        # The next run pays the same invoices again, exactly.
        assert [r.total_minor for r in selectors.payment_run_preview().rails] == [BACS_TOTAL]
        with django_capture_on_commit_callbacks(execute=True):
            client.post(START, {**_day(date(2026, 11, 23)), "confirm": "yes"})
        assert PaymentRun.objects.count() == 2
        assert PaymentRun.objects.order_by("-pk").first().total_minor == BACS_TOTAL


def _failed_stripe_payment(world, by) -> Payment:
    """A run whose Stripe payment Stripe refuses (the provider's connected account no longer exists)."""
    people_services.provider_details_set(
        provider=Organisation.objects.get(slug="bright-care"),
        by=None,
        payout_method="stripe",
        stripe_account_id="acct_gone1",
    )
    start_run(by, pay_on=date(2026, 11, 23))
    payment = Payment.objects.get(rail=Rail.STRIPE)
    assert payment.status == PaymentStatus.FAILED
    return payment


class TestPaymentWarnings:
    def test_listed_with_a_banner_then_marked_as_seen(self, client, sign_in_verified, stripe_world):
        payment = _failed_stripe_payment(stripe_world, stripe_world.users["finance"])
        bright = stripe_world.invoices["bright-care"].total_minor
        _signed_in(client, sign_in_verified, stripe_world, "finance")

        runs_page = client.get(RUNS)
        text = _text(runs_page)
        assert "Payment warnings 1 payment did not go through (failed or reversed)." in text
        assert f'href="{WARNINGS}"' in runs_page.content.decode()

        warnings = _text(client.get(WARNINGS))
        money = f"£{bright // 100:,}.{bright % 100:02d}"
        assert f"Bright Care: {money}" in warnings
        assert "What happened Failed" in warnings and payment.error in warnings
        assert "Their invoices are approved again and will be paid by the next payment run" in warnings
        assert "Mark as seen" in warnings
        assert (
            Invoice.objects.get(pk=stripe_world.invoices["bright-care"].pk).status == InvoiceStatus.APPROVED
        )

        seen = client.post(reverse("web:payment-warning-seen", args=[payment.public_id]), {"page": "1"})
        assert seen.status_code == 302 and seen["Location"] == WARNINGS
        text = _text(client.get(WARNINGS))
        assert f"You marked as seen that payment {payment.public_id} to Bright Care of {money}" in text
        assert "There are no payment warnings" in text
        payment.refresh_from_db()
        assert payment.warning_acknowledged_by == stripe_world.users["finance"]
        assert "Payment warnings" not in _text(client.get(RUNS))
        # Seen twice: nothing more happens.
        client.post(reverse("web:payment-warning-seen", args=[payment.public_id]))
        assert AuditEvent.objects.filter(action="payment.warning_acknowledged").count() == 1

    def test_a_payment_that_did_not_fail_is_not_a_warning(self, client, sign_in_verified, world):
        run = _run_with_file(world)
        payment = run.payment_set.first()
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.post(reverse("web:payment-warning-seen", args=[payment.public_id]), follow=True)
        assert "has not failed, so there is nothing to see." in _text(response)
        payment.refresh_from_db()
        assert payment.warning_acknowledged_at is None

    def test_paginated(self, client, sign_in_verified, world):
        run = _run_started_not_sent()
        provider = Organisation.objects.get(slug="able-assist")
        with transaction.atomic():
            Payment.objects.bulk_create(
                [
                    Payment(
                        run=run,
                        provider=provider,
                        rail=Rail.BACS,
                        currency="GBP",
                        amount_minor=100 + n,
                        destination="200000 55779911",
                        status=PaymentStatus.FAILED,
                        error=f"Refused {n}",
                    )
                    for n in range(23)
                ]
            )
        _signed_in(client, sign_in_verified, world, "finance")
        first = client.get(WARNINGS)
        assert len(first.context["warnings"].object_list) == 20
        assert 'href="?page=2"' in first.content.decode()
        assert len(client.get(WARNINGS + "?page=2").context["warnings"].object_list) == 3
        assert "23 payments did not go through" in _text(client.get(RUNS))


class TestQueries:
    def _payments(self, run: PaymentRun, count: int) -> None:
        providers = list(Organisation.objects.filter(slug__in=["able-assist", "dales-adaptations"]))
        Payment.objects.bulk_create(
            [
                Payment(
                    run=run,
                    provider=providers[n % 2],
                    rail=Rail.BACS,
                    currency="GBP",
                    amount_minor=1000 + n,
                    destination="200000 55779911",
                    status=PaymentStatus.SENT,
                )
                for n in range(count)
            ]
        )

    def test_the_run_page_does_not_grow_with_its_payments(
        self, client, sign_in_verified, world, django_assert_max_num_queries
    ):
        _signed_in(client, sign_in_verified, world, "finance")
        one = PaymentRun.objects.create(pay_on=date(2026, 11, 23), status=PaymentRunStatus.DONE)
        self._payments(one, 1)
        with django_assert_max_num_queries(40) as few:
            assert client.get(_run_url(one)).status_code == 200
        many = PaymentRun.objects.create(
            pay_on=date(2026, 11, 23),
            status=PaymentRunStatus.DONE,
            skipped=[
                {"provider": "pro_x", "name": f"P{n}", "invoices": 1, "reason": "No"} for n in range(45)
            ],
        )
        self._payments(many, 45)
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(_run_url(many))
        assert len(response.context["payments"].object_list) == 20
        assert len(response.context["skipped"].object_list) == 20
        html = response.content.decode()
        assert 'href="?page=2"' in html and 'href="?skipped=2"' in html
        assert "45 payments (page 1 of 3)" in _text(response)

    def test_the_runs_page_is_bounded_by_its_page_size(
        self, client, sign_in_verified, world, django_assert_max_num_queries
    ):
        _signed_in(client, sign_in_verified, world, "finance")
        PaymentRun.objects.create(pay_on=date(2026, 11, 23), status=PaymentRunStatus.DONE)
        with django_assert_max_num_queries(40) as few:
            client.get(RUNS)
        PaymentRun.objects.bulk_create(
            [PaymentRun(pay_on=date(2026, 11, 23), status=PaymentRunStatus.DONE) for _ in range(24)]
        )
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(RUNS)
        assert len(response.context["tagged_runs"]) == 20
        assert 'href="?page=2"' in response.content.decode()
        assert len(client.get(RUNS + "?page=2").context["tagged_runs"]) == 5
        runs_on_page = [run.pk for run, _ in response.context["tagged_runs"]]
        assert runs_on_page == sorted(runs_on_page, reverse=True)  # newest first
