"""The invoice pages in Chromium: each role's flows at 320px and 1280px, checked by axe-core, approving by
keyboard alone, and querying an invoice with JavaScript off."""

import re

import pytest
from playwright.sync_api import expect

from invoicing.models import AutoApprovalRule, Invoice, InvoiceStatus
from tests.browser.conftest import (
    assert_accessible_at_both_widths,
    screenshot,
    sign_in_as,
    tab_to,
)
from tests.invoicing.world import build_invoicing_world, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def invoices_url(world) -> str:
    return f"/people/{world.base.alex.public_id}/invoices/"


def invoice_url(invoice: Invoice) -> str:
    return f"/people/{invoice.budget_holder.public_id}/invoices/{invoice.public_id}/"


def wait_for_path(page, path: str) -> None:
    """Wait until the page is at `path` (a fragment, kept by the browser across a redirect, aside)."""
    page.wait_for_url(lambda url: url.split("#")[0].endswith(path))


def status_of(invoice: Invoice) -> str:
    invoice.refresh_from_db()
    return invoice.status


class TestBudgetHolder:
    def test_approves_an_invoice_with_the_keyboard_alone(self, page, live_server, world):
        submit(world.work, number="W-1")
        invoice = submit(world.care, number="C-7")
        sign_in_as(page, live_server, world.users["holder"])

        page.goto(invoices_url(world))
        assert page.locator("h1").inner_text() == "Your invoices"
        assert "2 invoices are waiting for your decision." in page.locator("#waiting-summary").inner_text()
        assert_accessible_at_both_widths(page)
        screenshot(page, "invoices-list")

        tab_to(page, f'a[href="{invoice_url(invoice)}"]')
        page.keyboard.press("Enter")
        wait_for_path(page, f"{invoice_url(invoice)}")
        assert "Invoice C-7" in page.locator("h1").inner_text()
        assert_accessible_at_both_widths(page)
        screenshot(page, "invoices-detail")

        tab_to(page, f'a[href="{invoice_url(invoice)}approve/"]')
        page.keyboard.press("Space")  # a link styled as a button answers Space too (govuk-button)
        wait_for_path(page, f"{invoice_url(invoice)}approve/")
        assert page.locator("h1").inner_text() == "Approve £85.75 to Bright Care?"
        assert_accessible_at_both_widths(page)
        screenshot(page, "invoices-approve")
        assert status_of(invoice) == InvoiceStatus.AWAITING_APPROVAL

        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        wait_for_path(page, f"{invoice_url(invoice)}")

        banner = page.locator(".govuk-notification-banner--success")
        assert "You approved Bright Care's invoice C-7 for £85.75." in banner.inner_text()
        assert "Approved" in page.locator(".govuk-tag").first.inner_text()
        assert_accessible_at_both_widths(page)
        assert status_of(invoice) == InvoiceStatus.APPROVED

        page.go_back()  # the confirmation again: it only says the invoice is approved already
        assert "is already approved" in page.locator(".govuk-notification-banner").first.inner_text()
        assert status_of(invoice) == InvoiceStatus.APPROVED

    def test_queries_an_invoice_with_javascript_off(self, page_no_js, live_server, world):
        page = page_no_js
        invoice = submit(world.care)
        sign_in_as(page, live_server, world.users["holder"])

        page.goto(invoice_url(invoice))
        page.get_by_role("button", name="Ask a question about invoice INV-1001").click()
        wait_for_path(page, invoice_url(invoice) + "query/")
        assert_accessible_at_both_widths(page)
        screenshot(page, "invoices-query")

        page.get_by_role("button", name="Send the question").click()
        expect(page).to_have_title(re.compile(r"^Error: "))
        summary = page.locator(".govuk-error-summary")
        assert "Enter your question for the provider" in summary.inner_text()
        assert_accessible_at_both_widths(page)
        summary.get_by_role("link", name="Enter your question for the provider").click()
        assert status_of(invoice) == InvoiceStatus.AWAITING_APPROVAL

        page.get_by_label("Your question for the provider").fill("Were these hours on a Saturday?")
        page.get_by_role("button", name="Send the question").click()
        wait_for_path(page, f"{invoice_url(invoice)}")

        assert (
            "Your question was sent to Bright Care."
            in page.locator(".govuk-notification-banner").inner_text()
        )
        assert "Were these hours on a Saturday?" in page.locator("main").inner_text()
        assert status_of(invoice) == InvoiceStatus.QUERIED

    def test_filters_the_list_with_javascript_off(self, page_no_js, live_server, world):
        page = page_no_js
        submit(world.care, number="C-1")
        submit(world.work, number="HOLD-1", lines=[("2026-10-05", "313.00")])
        sign_in_as(page, live_server, world.users["holder"])

        page.goto(invoices_url(world))
        page.get_by_label("Show").select_option("on_hold")
        page.get_by_role("button", name="Show invoices").click()

        main = page.locator("main").inner_text()
        assert "HOLD-1" in main and "C-1" not in main
        assert_accessible_at_both_widths(page)

    def test_sets_and_stops_an_auto_approval_rule(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["holder"])

        page.goto(invoices_url(world))
        page.get_by_role("link", name="See and change your auto-approval rules").click()
        assert page.locator("h1").inner_text() == "Approving routine invoices automatically"
        assert_accessible_at_both_widths(page)
        screenshot(page, "invoices-auto-approval")

        page.get_by_role("button", name="Continue").click()  # nothing chosen
        assert "Choose a provider" in page.locator(".govuk-error-summary").inner_text()
        assert_accessible_at_both_widths(page)

        page.get_by_label("Bright Care").check()
        page.get_by_label("Largest invoice to approve automatically").fill("400")
        page.get_by_role("button", name="Continue").click()
        assert page.locator("h1").inner_text() == "Approve Bright Care's routine invoices automatically?"
        assert_accessible_at_both_widths(page)
        screenshot(page, "invoices-auto-approval-confirm")
        assert not AutoApprovalRule.objects.exists()

        page.get_by_role("button", name="Yes, approve them automatically").click()
        assert "up to £400.00 an invoice" in page.locator(".govuk-notification-banner").inner_text()
        rule = AutoApprovalRule.objects.get()
        assert rule.max_total_minor == 40000

        page.get_by_role("link", name="Stop approving Bright Care's invoices automatically").click()
        assert page.locator("h1").inner_text() == "Stop approving Bright Care's invoices automatically?"
        assert_accessible_at_both_widths(page)
        page.get_by_role("button", name="Yes, stop the rule").click()
        assert (
            "will no longer be approved automatically"
            in page.locator(".govuk-notification-banner").inner_text()
        )
        rule.refresh_from_db()
        assert rule.revoked_at is not None


class TestRepresentatives:
    def test_an_approving_representative_rejects_an_invoice(self, page, live_server, world):
        invoice = submit(world.care)
        sign_in_as(page, live_server, world.users["rep_approve"])

        page.goto(invoice_url(invoice))
        assert "You are acting for" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page)
        page.get_by_role("button", name="Reject invoice INV-1001").click()
        assert_accessible_at_both_widths(page)
        screenshot(page, "invoices-reject")

        page.get_by_role("button", name="Reject the invoice").click()
        summary = page.locator(".govuk-error-summary").inner_text()
        assert "Enter why you are rejecting this invoice" in summary
        assert "Confirm that you understand rejecting cannot be undone" in summary
        assert_accessible_at_both_widths(page)
        assert status_of(invoice) == InvoiceStatus.AWAITING_APPROVAL

        page.get_by_label("Why are you rejecting this invoice?").fill("Nobody came on 3 October.")
        page.get_by_label("I understand that this cannot be undone").check()
        page.get_by_role("button", name="Reject the invoice").click()
        wait_for_path(page, f"{invoice_url(invoice)}")
        assert "Nothing will be paid for it" in page.locator(".govuk-notification-banner").inner_text()
        assert status_of(invoice) == InvoiceStatus.REJECTED

    def test_a_view_only_representative_sees_the_invoice_without_buttons(self, page, live_server, world):
        submit(world.care)
        sign_in_as(page, live_server, world.users["rep_view"])

        page.goto(invoices_url(world))
        assert_accessible_at_both_widths(page)
        page.get_by_role("link", name="Bright Care: invoice INV-1001").click()
        assert_accessible_at_both_widths(page)
        assert page.get_by_role("button", name="Approve invoice INV-1001").count() == 0
        assert "decides this invoice" in page.locator("main").inner_text()


class TestNavigator:
    def test_approves_an_invoice_on_hold(self, page, live_server, world):
        held = submit(world.work, number="HOLD-1", lines=[("2026-10-05", "313.00")])
        waiting = submit(world.care, number="C-1")
        sign_in_as(page, live_server, world.users["navigator"])

        page.goto(invoice_url(waiting))
        assert page.get_by_role("button", name="Approve invoice C-1").count() == 0
        page.goto(invoice_url(held))
        assert "Why it is on hold" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page)
        screenshot(page, "invoices-on-hold")

        page.get_by_role("button", name="Approve invoice HOLD-1").click()
        assert_accessible_at_both_widths(page)
        page.get_by_role("button", name="Yes, approve").click()
        wait_for_path(page, f"{invoice_url(held)}")
        assert status_of(held) == InvoiceStatus.APPROVED
        assert status_of(waiting) == InvoiceStatus.AWAITING_APPROVAL

    def test_a_money_error_is_shown_on_the_confirmation(self, page, live_server, world):
        ramp = submit(world.ramp, lines=[("2026-09-14", "1")])
        sign_in_as(page, live_server, world.users["other_holder"])

        page.goto(invoice_url(ramp) + "approve/")
        page.locator("main button[type=submit]").click()

        assert "There is not enough money left" in page.locator(".govuk-error-summary").inner_text()
        assert_accessible_at_both_widths(page)
        assert status_of(ramp) == InvoiceStatus.ON_HOLD
