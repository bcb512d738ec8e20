"""The funding received pages in headless Chromium, at 320px and 1280px, with axe-core: finance find the late
instalments from the navigation and record an agency's payment by keyboard alone, through "Check and
confirm", to the confirmation panel; a mistake shows the error summary, which leads to the field; the same
without JavaScript; an agency officer reads their own streams' late instalments."""

import re

import pytest
from playwright.sync_api import expect

from budgets.models import Instalment, InstalmentStatus
from payments.models import FundingReceipt
from tests.browser.conftest import assert_accessible, assert_accessible_at_both_widths, sign_in_as, tab_to
from tests.invoicing.world import build_invoicing_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(monkeypatch, live_server):
    return build_invoicing_world(monkeypatch)


def _asc_due() -> list[Instalment]:
    return list(
        Instalment.objects.filter(personal_budget__stream__code="ASC", status=InstalmentStatus.DUE).order_by(
            "due_on", "pk"
        )
    )


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


class TestRecordingAPayment:
    def test_by_keyboard_alone_through_check_and_confirm(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["finance"])
        page.goto("/")
        page.click(".govuk-service-navigation__toggle")  # the menu, folded away at 320px
        page.click("a.govuk-service-navigation__link:has-text('Funding received')")
        page.wait_for_url("**/finance/funding/")
        assert page.locator("h1").inner_text() == "Funding received"
        assert "Adult Social Care (ASC)" in page.locator("table").first.inner_text()
        assert_accessible_at_both_widths(page, "funding-late")

        tab_to(page, "a[href='/finance/funding/ASC/record/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/finance/funding/ASC/record/")
        assert page.locator("h1").inner_text() == "Record a payment from Adult Social Care"
        assert_accessible_at_both_widths(page, "funding-record")

        tab_to(page, "#id_instalments")
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
        tab_to(page, "#id_reference")
        page.keyboard.type("ASC-BACS-1")
        page.keyboard.press("Tab")
        for value in ("18", "11", "2026"):
            page.keyboard.type(value)
            page.keyboard.press("Tab")
        assert _focused_id(page) == "id_amount"
        page.keyboard.type("2000.00")
        page.keyboard.press("Enter")  # Enter continues (not another page of instalments)
        expect(page.locator("h1")).to_have_text("Check and confirm the payment from Adult Social Care")
        assert "£2,000.00" in page.locator("main").inner_text()
        assert not FundingReceipt.objects.exists()
        assert_accessible_at_both_widths(page, "funding-record-confirm")

        tab_to(page, "button[name=confirm]")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/finance/funding/receipts/rcv_[a-z0-9]+/$"))
        expect(page.locator(".govuk-panel__title")).to_have_text("Payment recorded")
        receipt = FundingReceipt.objects.get()
        assert (receipt.reference, receipt.amount_minor) == ("ASC-BACS-1", 200000)
        assert_accessible_at_both_widths(page, "funding-receipt-recorded")

    def test_a_mistake_shows_the_error_summary_which_leads_to_the_field(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["finance"])
        page.goto("/finance/funding/ASC/record/")
        page.check("#id_instalments")
        page.fill("#id_reference", "ASC-BACS-2")
        page.fill("#id_received_on_day", "18")
        page.fill("#id_received_on_month", "11")
        page.fill("#id_received_on_year", "2026")
        page.fill("#id_amount", "999.99")
        page.click("button:visible:has-text('Continue')")
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        assert "The instalments chosen come to 1000.00, not 999.99." in summary.inner_text()
        assert page.title().startswith("Error: ")
        assert_accessible_at_both_widths(page, "funding-record-error")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert _focused_id(page) == "id_amount"
        assert not FundingReceipt.objects.exists()

    def test_without_javascript(self, page_no_js, live_server, world):
        page = page_no_js
        chosen = _asc_due()[-1]
        sign_in_as(page, live_server, world.users["admin"])
        page.goto("/finance/funding/ASC/record/")
        page.check(f"input[value='{chosen.public_id}']")
        page.fill("#id_reference", "ASC-NOJS")
        page.fill("#id_received_on_day", "19")
        page.fill("#id_received_on_month", "11")
        page.fill("#id_received_on_year", "2026")
        page.fill("#id_amount", "1000")
        page.click("button:visible:has-text('Continue')")
        assert page.locator("h1").inner_text() == "Check and confirm the payment from Adult Social Care"
        assert_accessible(page)
        page.click("button:has-text('Record the payment')")
        page.wait_for_url(re.compile(r"/finance/funding/receipts/rcv_[a-z0-9]+/$"))
        assert page.locator(".govuk-panel__title").inner_text() == "Payment recorded"
        chosen.refresh_from_db()
        assert chosen.status == InstalmentStatus.RECEIVED
        page.goto("/finance/funding/receipts/")
        assert "ASC-NOJS" in page.locator("table").inner_text()
        assert_accessible(page)


class TestTheOfficer:
    def test_reads_their_own_streams_late_instalments(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["officer_atw"])
        page.goto("/finance/funding/")
        main = page.locator("main").inner_text()
        assert "Access to Work (ATW)" in main and "Adult Social Care" not in main
        assert page.locator("a:has-text('Record a payment')").count() == 0
        assert_accessible_at_both_widths(page, "funding-late-officer")
