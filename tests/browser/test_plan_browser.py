"""The plan and statement pages in headless Chromium, at 320px and 1280px, with axe-core: the person walks
their plan (chart and table), agrees the change waiting for them by keyboard, and reads their statement."""

import pytest

from invoicing import services as invoicing_services
from plans.models import PlanVersionStatus
from tests.browser.conftest import (
    PHONE,
    assert_accessible,
    assert_accessible_at_both_widths,
    sign_in_as,
    tab_to,
)
from tests.invoicing.world import build_invoicing_world, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(monkeypatch, live_server):
    world = build_invoicing_world(monkeypatch)
    invoice = submit(world.care, number="C-1")
    invoicing_services.invoice_approve(invoice=invoice, by=world.users["holder"])
    return world


class TestThePersonsPlan:
    def test_walk_the_plan_and_agree_the_change_by_keyboard(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["holder"])
        page.goto(f"/people/{world.base.alex.public_id}/plan/")
        assert page.locator("h1").inner_text() == "Your plan"
        chart = page.locator("svg.purse-chart")
        assert chart.get_attribute("role") == "img"
        assert "Spent" in chart.inner_html()
        box = chart.bounding_box()
        assert box["width"] <= PHONE["width"]
        assert page.locator("table caption:has-text('Planned and spent, by outcome')").is_visible()
        assert_accessible_at_both_widths(page, "plan-plan")

        tab_to(page, "a[href$='/agree/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/agree/")
        assert "Are you sure" in page.locator("h1").inner_text()
        assert_accessible_at_both_widths(page, "plan-agree")

        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/people/{world.base.alex.public_id}/plan/")
        assert "Plan version 2 agreed" in page.locator("main").inner_text()
        assert "Waiting for the agencies" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page)
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.AGREED

    def test_a_view_only_representative_sees_the_plan_without_the_button(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["rep_view"])
        page.goto(f"/people/{world.base.alex.public_id}/plan/")
        assert "Waiting for agreement" in page.locator("main").inner_text()
        assert page.locator("a:has-text('Agree to this plan')").count() == 0
        assert_accessible_at_both_widths(page)

    def test_the_navigator_sees_the_plan_with_the_persons_tabs(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["navigator"])
        page.goto(f"/people/{world.base.alex.public_id}/plan/")
        assert page.locator("[aria-current=page]:has-text('Plan')").count() >= 1
        assert_accessible_at_both_widths(page)

    def test_agree_without_javascript(self, page_no_js, live_server, world):
        page = page_no_js
        sign_in_as(page, live_server, world.users["rep_approve"])
        page.goto(f"/people/{world.base.alex.public_id}/plan/")
        page.click("a:has-text('Agree to this plan')")
        page.click("button:has-text('Yes, agree to this plan')")
        page.wait_for_load_state()
        assert "Plan version 2 agreed" in page.locator("main").inner_text()
        assert_accessible(page)


class TestTheStatement:
    def test_read_the_statement_at_both_widths(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["holder"])
        page.goto(f"/people/{world.base.alex.public_id}/statements/")
        assert page.locator("h1").inner_text() == "Your statement for 1 November 2026 to 30 November 2026"
        assert "(invoice C-1)" in page.locator("#set-aside ~ ol").inner_text()
        assert_accessible_at_both_widths(page, "statements-statements")

    def test_finance_reads_it_too(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["finance"])
        page.goto(f"/people/{world.base.alex.public_id}/statements/")
        assert "statement" in page.locator("h1").inner_text()
        assert_accessible_at_both_widths(page)
