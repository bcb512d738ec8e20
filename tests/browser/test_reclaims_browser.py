"""The surplus and reclaim pages in headless Chromium, at 320px and 1280px, with axe-core: finance find the
surplus audit from the navigation and give notice by keyboard alone, through "Check and give notice"; a
mistake's error summary leads to its field; the budget holder replies by keyboard (and without JavaScript);
finance reclaim the money after the confirmation page; the navigator sets money aside and releases it.

"Today" is 20 November 2026 (tests/invoicing/world.py): Alex holds 9,000.00 of ASC money, 7,000.00 of it
reclaimable; ASC gives 4 weeks' notice (18 December 2026 at the earliest)."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from budgets.models import LegitimateReserve
from payments.models import ReclaimNotice, ReclaimStatus
from payments.services.reclaims import reclaim_notice_raise
from tests.browser.conftest import assert_accessible, assert_accessible_at_both_widths, sign_in_as, tab_to
from tests.invoicing.world import build_invoicing_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTICE_URL = re.compile(r"/reclaims/rcl_[a-z0-9]+/$")


@pytest.fixture
def world(monkeypatch, live_server):
    return build_invoicing_world(monkeypatch)


def _notice(world, amount=100_000) -> ReclaimNotice:
    return reclaim_notice_raise(
        budget_holder=world.base.alex,
        stream_code="ASC",
        amount_minor=amount,
        reason="Unspent for months.",
        by=world.users["finance"],
    )


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


class TestGivingNotice:
    def test_from_the_navigation_by_keyboard_alone(self, page, live_server, world):
        alex = world.base.alex
        sign_in_as(page, live_server, world.users["finance"])
        page.goto("/")
        page.click(".govuk-service-navigation__toggle")  # the menu, folded away at 320px
        page.click("a.govuk-service-navigation__link:has-text('Surplus reclaims')")
        page.wait_for_url("**/surplus/")
        assert page.locator("h1").inner_text() == "Surplus reclaims"
        assert_accessible_at_both_widths(page, "surplus-streams")

        tab_to(page, "a[href='/surplus/ASC/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/surplus/ASC/")
        assert page.locator("h1").inner_text() == "Surplus audit of Adult Social Care"
        main = page.locator("main").inner_text()
        assert "£7,000.00" in main and "There is a surplus now." in main
        assert_accessible_at_both_widths(page, "surplus-audit")

        tab_to(page, f"a[href='/surplus/ASC/people/{alex.public_id}/notice/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/notice/")
        assert page.locator("#id_amount").input_value() == "7000.00"
        assert page.locator("#id_reclaim_on_day").input_value() == "18"
        assert_accessible_at_both_widths(page, "surplus-give-notice")

        tab_to(page, "#id_amount")
        page.keyboard.press("Control+A")
        page.keyboard.type("1500.00")
        page.keyboard.press("Tab")
        assert _focused_id(page) == "id_reason"
        page.keyboard.type("You have held more than you need since the summer.")
        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_contain_text(f"Check and give {alex.full_name} notice about")
        assert "£1,500.00" in page.locator("main").inner_text()
        assert not ReclaimNotice.objects.exists()
        assert_accessible_at_both_widths(page, "surplus-give-notice-check")

        tab_to(page, "button[name=confirm]")
        page.keyboard.press("Enter")
        page.wait_for_url(NOTICE_URL)
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
            "They and their navigator"
        )
        notice = ReclaimNotice.objects.get()
        assert (notice.amount_minor, notice.reclaim_on) == (150_000, date(2026, 12, 18))
        assert "The notice runs until 18 December 2026" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page, "reclaim-notice")

    def test_a_mistake_shows_the_error_summary_which_leads_to_the_field(self, page, live_server, world):
        alex = world.base.alex
        sign_in_as(page, live_server, world.users["officer_asc"])
        page.goto(f"/surplus/ASC/people/{alex.public_id}/notice/")
        page.fill("#id_amount", "7000.01")
        page.click("main button:has-text('Continue')")
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        assert "At most £7,000.00 may be reclaimed now" in summary.inner_text()
        assert "Say why the money is being reclaimed" in summary.inner_text()
        assert page.title().startswith("Error: ")
        assert_accessible_at_both_widths(page, "surplus-give-notice-error")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert _focused_id(page) == "id_amount"
        assert not ReclaimNotice.objects.exists()


class TestReclaiming:
    def test_after_the_notice_runs_out_with_a_confirmation(self, page, live_server, world):
        notice = _notice(world)
        world.clock.today = date(2026, 12, 18)
        sign_in_as(page, live_server, world.users["finance"])
        page.goto("/surplus/ASC/notices/")
        assert page.locator("h1").inner_text() == "Notices given for Adult Social Care"
        assert_accessible_at_both_widths(page, "reclaim-notices")

        page.click(f"a[href='/reclaims/{notice.public_id}/']")
        page.wait_for_url(NOTICE_URL)
        tab_to(page, f"a[href='/reclaims/{notice.public_id}/reclaim/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/reclaim/")
        assert "This cannot be undone" in page.locator(".govuk-warning-text").inner_text()
        assert_accessible_at_both_widths(page, "reclaim-confirm")

        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(NOTICE_URL)
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text("You reclaimed £1,000.00")
        notice.refresh_from_db()
        assert notice.status == ReclaimStatus.RECLAIMED
        assert_accessible_at_both_widths(page, "reclaim-notice-reclaimed")

    def test_withdrawn_with_a_reason(self, page, live_server, world):
        notice = _notice(world)
        sign_in_as(page, live_server, world.users["officer_asc"])
        page.goto(f"/reclaims/{notice.public_id}/withdraw/")
        page.click("main button[type=submit]")
        expect(page.locator(".govuk-error-summary")).to_be_focused()
        assert_accessible_at_both_widths(page, "reclaim-withdraw-error")
        page.fill("#id_reason", "A new plan needs the money.")
        page.click("main button[type=submit]")
        page.wait_for_url(NOTICE_URL)
        notice.refresh_from_db()
        assert notice.status == ReclaimStatus.WITHDRAWN
        assert_accessible(page)


class TestTheBudgetHolder:
    def test_reads_the_notice_and_replies_by_keyboard(self, page, live_server, world):
        notice = _notice(world)
        alex = world.base.alex
        sign_in_as(page, live_server, world.users["holder"])
        page.goto("/")
        page.click(".govuk-service-navigation__toggle")
        page.click("a.govuk-service-navigation__link:has-text('Unspent money')")
        page.wait_for_url(f"**/people/{alex.public_id}/reclaims/")
        assert page.locator("h1").inner_text() == "Notices about your unspent money"
        main = page.locator("main").inner_text()
        assert "£1,000.00 of Adult Social Care money" in main and "Unspent for months." in main
        assert_accessible_at_both_widths(page, "reclaims-person")

        tab_to(page, f"a[href='/people/{alex.public_id}/reclaims/{notice.public_id}/reply/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/reply/")
        assert_accessible_at_both_widths(page, "reclaims-reply")
        tab_to(page, "#id_response")
        page.keyboard.type("I am saving for a new wheelchair.")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/people/{alex.public_id}/reclaims/")
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Your reply was sent")
        notice.refresh_from_db()
        assert notice.response == "I am saving for a new wheelchair."
        assert_accessible_at_both_widths(page, "reclaims-person-replied")

    def test_replies_without_javascript(self, page_no_js, live_server, world):
        page = page_no_js
        notice = _notice(world)
        alex = world.base.alex
        sign_in_as(page, live_server, world.users["rep_approve"])
        page.goto(f"/people/{alex.public_id}/reclaims/{notice.public_id}/reply/")
        page.click("main button[type=submit]")
        assert "Write your reply" in page.locator(".govuk-error-summary").inner_text()
        assert_accessible(page)
        page.fill("#id_response", "We agree.")
        page.click("main button[type=submit]")
        page.wait_for_url(f"**/people/{alex.public_id}/reclaims/")
        notice.refresh_from_db()
        assert notice.status == ReclaimStatus.RESPONDED
        assert_accessible(page)


class TestTheNavigator:
    def test_sets_money_aside_by_keyboard_then_releases_it(self, page, live_server, world):
        alex = world.base.alex
        sign_in_as(page, live_server, world.users["navigator"])
        page.goto(f"/people/{alex.public_id}/")
        page.click("nav.purse-person-tabs a:has-text('Reserves')")
        page.wait_for_url(f"**/people/{alex.public_id}/reserves/")
        assert page.locator("h1").inner_text() == f"Money set aside for {alex.name_to_use}"
        assert_accessible_at_both_widths(page, "reserves")

        tab_to(page, "input[name=stream][value=ASC]")
        page.keyboard.press("Space")
        tab_to(page, "#id_amount")
        page.keyboard.type("250")
        page.keyboard.press("Tab")
        page.keyboard.type("Holiday pay for the personal assistant.")
        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text("You set aside £250.00")
        reserve = LegitimateReserve.objects.get()
        assert (reserve.stream.code, reserve.amount_minor) == ("ASC", 25_000)
        assert_accessible_at_both_widths(page, "reserves-set")

        tab_to(page, f"a[href='/people/{alex.public_id}/reserves/{reserve.public_id}/release/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/release/")
        assert_accessible_at_both_widths(page, "reserve-release")
        tab_to(page, "#id_reason")
        page.keyboard.type("Paid in October.")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/people/{alex.public_id}/reserves/")
        reserve.refresh_from_db()
        assert reserve.release_reason == "Paid in October."
        assert_accessible(page)
