"""The payment run pages in headless Chromium, at 320px and 1280px, with axe-core: finance start a run by
keyboard alone (the processing day, "Check and confirm", the run's page), download its Bacs file and confirm
the upload; a bad processing day's error summary; the same flow and a cancelled file without JavaScript; a
running run's page updating itself; the payment warnings; and a provider setting up Stripe payouts through
the local Stripe double's onboarding page and coming back."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from invoicing.models import Invoice, InvoiceStatus
from payments.models import (
    BacsFile,
    BacsFileStatus,
    Payment,
    PaymentRun,
    PaymentRunStatus,
    PaymentStatus,
    Rail,
)
from payments.services import runs
from people.models import Organisation, PayoutMethod, ProviderDetails
from tests.browser.conftest import assert_accessible, assert_accessible_at_both_widths, sign_in_as, tab_to
from tests.payments.stripe_double import stripe_double, use_stripe_double  # noqa: F401
from tests.payments.world import build_payments_world
from tests.people.factories import ProviderUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUN_URL = re.compile(r"/finance/payment-runs/prun_[a-z0-9]+/$")


@pytest.fixture
def world(monkeypatch, settings, live_server, stripe_double):  # noqa: F811
    """The payments world with Stripe switched off, as on the demo: the bank providers go in the Bacs file."""
    built = build_payments_world(monkeypatch, settings, stripe_double=stripe_double)
    settings.STRIPE_SECRET_KEY = ""
    return built


def _running_run(monkeypatch) -> PaymentRun:
    """A run made by the service and not handed to the workers: still running, its payments waiting."""
    with monkeypatch.context() as patched:
        patched.setattr(runs, "_dispatch", lambda run: None)
        return runs.payment_run_start(by=None, pay_on=date(2026, 11, 23)).run


def _focused_text(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.textContent.trim()")


class TestStartingARun:
    def test_start_confirm_and_pay_by_keyboard_alone(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["finance"])
        page.goto("/finance/payment-runs/")
        assert page.locator("h1").inner_text() == "Payment runs"
        assert "No payment run has been started yet." in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page, "payment-runs")

        tab_to(page, "main a[href='/finance/payment-runs/start/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/finance/payment-runs/start/")
        assert page.locator("h1").inner_text() == "Start a payment run"
        assert page.locator("#id_pay_on_day").input_value() == "23"
        assert page.locator("#id_pay_on_month").input_value() == "11"
        assert page.locator("#id_pay_on_year").input_value() == "2026"
        assert_accessible_at_both_widths(page, "payment-run-start")

        tab_to(page, "main button[type=submit]")
        assert _focused_text(page) == "Continue"
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Check what this payment run will pay")
        main = page.locator("main").inner_text()
        assert "Total to pay\n£1,813.00" in main or "Total to pay £1,813.00" in main.replace("\n", " ")
        assert "Stripe payouts are switched off on this Purse" in main
        assert "Bright Care" in main
        assert not PaymentRun.objects.exists()
        assert_accessible_at_both_widths(page, "payment-run-check")

        tab_to(page, "button[name=confirm]")
        page.keyboard.press("Enter")
        page.wait_for_url(RUN_URL, timeout=60_000)
        run = PaymentRun.objects.get()
        assert run.status == PaymentRunStatus.WAITING_FOR_UPLOAD
        assert page.locator("h1").inner_text().startswith("Payment run started ")
        main = page.locator("main").inner_text()
        assert "You started a payment run: 2 invoices in 2 payments, £1,813.00." in main
        assert "2 of 2 payments done (100%)" in main
        assert page.locator("progress").get_attribute("value") == "2"
        assert_accessible_at_both_widths(page, "payment-run")

        bacs_file = BacsFile.objects.get()
        tab_to(page, "a[href$='/bacs-file/']")
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        assert download.value.suggested_filename == bacs_file.filename
        with open(download.value.path(), "rb") as written:
            assert written.read() == bacs_file.content.encode("ascii")

        tab_to(page, "a[href$='/bacs-file/uploaded/']")
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text(f"Have you uploaded {bacs_file.filename} to the bank?")
        assert_accessible_at_both_widths(page, "payment-run-bacs-uploaded")
        tab_to(page, "main button[type=submit]")
        assert _focused_text(page) == "Yes, I have uploaded this file"
        page.keyboard.press("Enter")
        page.wait_for_url(RUN_URL)
        expect(page.locator(".purse-run-progress")).to_contain_text("2 of 2 payments done (100%): 2 paid.")
        assert_accessible(page)
        assert set(Payment.objects.values_list("status", flat=True)) == {PaymentStatus.SENT}
        for slug in ("able-assist", "dales-adaptations"):
            assert Invoice.objects.get(pk=world.invoices[slug].pk).status == InvoiceStatus.PAID

    def test_a_day_that_is_not_a_working_day_is_explained(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["finance"])
        page.goto("/finance/payment-runs/start/")
        page.fill("#id_pay_on_day", "21")
        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        assert (
            "21 November 2026 is not a working day; the next one is 23 November 2026." in summary.inner_text()
        )
        assert page.title().startswith("Error: ")
        assert_accessible_at_both_widths(page, "payment-run-start-error")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "id_pay_on_day"
        assert not PaymentRun.objects.exists()


class TestWithoutJavaScript:
    def test_start_and_cancel_the_bacs_file(self, page_no_js, live_server, world):
        page = page_no_js
        sign_in_as(page, live_server, world.users["admin"])
        page.goto("/finance/payment-runs/start/")
        page.click("main button:has-text('Continue')")
        expect(page.locator("h1")).to_have_text("Check what this payment run will pay")
        assert_accessible(page)
        page.click("button:has-text('Confirm and start the payment run')")
        page.wait_for_url(RUN_URL, timeout=60_000)
        assert "2 of 2 payments done (100%)" in page.locator("main").inner_text()
        assert_accessible(page)

        page.click("a:has-text('This file will not be uploaded')")
        assert_accessible(page)
        page.click("button:has-text('Cancel this Bacs file')")
        summary = page.locator(".govuk-error-summary")
        assert "Say why the file is not being uploaded" in summary.inner_text()
        assert_accessible(page)
        page.fill("#id_reason", "The bank rejected the file.")
        page.click("button:has-text('Cancel this Bacs file')")
        page.wait_for_url(RUN_URL)
        assert "it will not be uploaded" in page.locator("main").inner_text()
        assert BacsFile.objects.get().status == BacsFileStatus.CANCELLED
        assert set(Invoice.objects.values_list("status", flat=True)) == {InvoiceStatus.APPROVED}
        assert_accessible(page)

    def test_a_running_run_offers_to_check_progress_again(self, page_no_js, live_server, world, monkeypatch):
        page = page_no_js
        run = _running_run(monkeypatch)
        sign_in_as(page, live_server, world.users["finance"])
        page.goto(f"/finance/payment-runs/{run.public_id}/")
        region = page.locator(".purse-run-progress")
        assert "0 of 2 payments done (0%)" in region.inner_text()
        runs.payment_run_process(run.pk)
        page.click("a:has-text('Check progress again')")
        assert "2 of 2 payments done (100%)" in page.locator(".purse-run-progress").inner_text()
        assert_accessible(page)


class TestWithJavaScript:
    def test_a_running_runs_page_updates_its_progress_by_itself(self, page, live_server, world, monkeypatch):
        run = _running_run(monkeypatch)
        sign_in_as(page, live_server, world.users["finance"])
        page.goto(f"/finance/payment-runs/{run.public_id}/")
        region = page.locator(".purse-run-progress")
        assert "0 of 2 payments done (0%)" in region.inner_text()
        assert_accessible_at_both_widths(page, "payment-run-running")

        runs.payment_run_process(run.pk)

        expect(region).to_contain_text("2 of 2 payments done (100%)", timeout=15_000)
        expect(region).not_to_contain_text("Check progress again")
        assert_accessible(page)

    def test_the_payment_warnings_are_marked_as_seen(self, page, live_server, world, monkeypatch):
        run = _running_run(monkeypatch)
        provider = Organisation.objects.get(slug="able-assist")
        for number in range(2):
            Payment.objects.create(
                run=run,
                provider=provider,
                rail=Rail.BACS,
                currency="GBP",
                amount_minor=1234 + number,
                destination="200000 55779911",
                status=PaymentStatus.FAILED,
                error="The bank returned the payment: the account is closed.",
            )
        sign_in_as(page, live_server, world.users["finance"])
        page.goto("/finance/payment-runs/")
        banner = page.locator(".govuk-notification-banner")
        assert "2 payments did not go through" in banner.inner_text()
        assert_accessible_at_both_widths(page, "payment-runs-warnings-banner")
        tab_to(page, "main a[href='/finance/payment-warnings/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/finance/payment-warnings/")
        assert page.locator("h1").inner_text() == "Payment warnings"
        assert_accessible_at_both_widths(page, "payment-warnings")
        tab_to(page, "form[action$='/seen/'] button")
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_contain_text("You marked as seen that payment")
        assert page.locator("button:has-text('Mark as seen')").count() == 1
        assert_accessible(page)


class TestProviderPayouts:
    def test_a_bank_provider_sets_up_stripe_and_comes_back(
        self,
        page,
        live_server,
        world,
        settings,
        stripe_double,  # noqa: F811
    ):
        use_stripe_double(settings, stripe_double)
        able = Organisation.objects.get(slug="able-assist")
        user = ProviderUserFactory(organisation=able, email="pay@able.test")
        sign_in_as(page, live_server, user)
        page.goto("/")
        assert page.locator("nav a[href='/provider/payouts/']").inner_text() == "Payouts"
        page.goto("/provider/payouts/")
        assert page.locator("h1").inner_text() == "How Able Assist is paid"
        main = page.locator("main").inner_text()
        assert "20-00-00" in main and "Ending 9911" in main and "55779911" not in main
        assert_accessible_at_both_widths(page, "provider-payouts")

        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        # Off to the double's onboarding page, which completes it and sends the browser back.
        page.wait_for_url("**/provider/payouts/stripe-return/")
        assert page.locator("h1").inner_text() == "Your Stripe payouts are set up"
        assert_accessible_at_both_widths(page, "provider-payouts-return")
        details = ProviderDetails.objects.get(provider=able)
        assert details.payout_method == PayoutMethod.STRIPE
        assert stripe_double.accounts[details.stripe_account_id]["payouts_enabled"] is True

    def test_with_stripe_switched_off_there_is_no_button(self, page_no_js, live_server, world):
        page = page_no_js
        able = Organisation.objects.get(slug="able-assist")
        sign_in_as(page, live_server, ProviderUserFactory(organisation=able, email="pay@able.test"))
        page.goto("/provider/payouts/")
        main = page.locator("main").inner_text()
        assert "Stripe payouts are switched off on this Purse; you are paid by bank transfer" in main
        assert page.locator("main button").count() == 0
        assert_accessible(page)
