"""The navigator's pages in headless Chromium at 320px and 1280px, with axe-core: the caseload, the plan
editor adding a support item with the live cost (JavaScript on) and with "Work out the cost" (JavaScript
off), withdrawing a draft, and recording a review after checking it."""

import re

import pytest
from playwright.sync_api import expect

from plans.models import PlanVersionStatus, Review, SupportItem
from tests.browser.conftest import (
    assert_accessible_at_both_widths,
    sign_in_as,
)
from tests.invoicing.world import build_invoicing_world, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(monkeypatch, live_server):
    world = build_invoicing_world(monkeypatch)
    submit(world.work, lines=[("2026-10-05", "313.00")])  # on hold: more than planned
    return world


def _pounds(text: str) -> str:
    match = re.search(r"£[\d,]+\.\d\d", text)
    assert match, text
    return match.group(0)


class TestNavigator:
    def test_caseload_then_add_a_support_item_with_the_live_cost(self, page, live_server, world):
        alex = world.base.alex
        sign_in_as(page, live_server, world.users["navigator"])
        page.goto("/caseload/")
        assert page.locator("h1").inner_text() == "Your caseload"
        assert alex.full_name in page.locator("main").inner_text()
        assert "1 on hold" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page, "nav-caseload")

        page.check("#show-attention")
        page.click("text=Show these people")
        page.wait_for_url(re.compile(r"show=attention"))
        assert alex.full_name in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page)

        page.click(f"text=Edit plan for {alex.full_name}")
        page.wait_for_url(f"**/people/{alex.public_id}/plan/edit/")
        assert "What the plan costs" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page, "nav-plan-edit")

        page.click("text=Add a support item")
        page.wait_for_url("**/plan/edit/items/new/")
        assert_accessible_at_both_widths(page, "nav-item-add")
        page.select_option("#id_service", "ASC-PC")
        page.fill("#id_quantity", "2")
        page.select_option("#id_per", "week")
        region = page.locator("#item-cost")
        region.get_by_text("This item would add").wait_for()
        first = _pounds(region.inner_text())
        page.fill("#id_quantity", "4")
        page.wait_for_function(
            "(before) => !document.getElementById('item-cost').innerText.includes(before)", arg=first
        )
        second = _pounds(region.inner_text())
        assert second != first
        assert not SupportItem.objects.filter(version=world.base.v2, quantity=4).exists()  # nothing saved
        page.locator("#id_outcomes input").first.check()
        page.fill("#id_description", "Morning help")
        assert_accessible_at_both_widths(page)
        page.click("button:has-text('Add the item')")
        page.wait_for_url(f"**/people/{alex.public_id}/plan/edit/")
        assert "Support item added." in page.locator("main").inner_text()
        assert SupportItem.objects.filter(version=world.base.v2, description="Morning help").exists()

    def test_bad_item_shows_the_error_summary(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["navigator"])
        page.goto(f"/people/{world.base.alex.public_id}/plan/edit/items/new/")
        page.fill("#id_quantity", "lots")
        page.click("button:has-text('Add the item')")
        expect(page).to_have_title(re.compile(r"^Error: "))
        summary = page.locator(".govuk-error-summary")
        assert "Enter how many units as a number" in summary.inner_text()
        assert_accessible_at_both_widths(page)

    def test_withdraw_the_draft_after_the_check(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["navigator"])
        page.goto(f"/people/{world.base.alex.public_id}/plan/edit/withdraw/")
        assert "Are you sure" in page.locator("h1").inner_text()
        assert_accessible_at_both_widths(page, "nav-plan-withdraw")
        page.fill("#id_reason", "Alex wants to wait.")
        page.click("button:has-text('Withdraw version 2')")
        page.wait_for_url("**/plan/edit/")
        assert "Start a change to the plan" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page)
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.WITHDRAWN

    def test_record_a_review(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["navigator"])
        page.goto(f"/people/{world.base.alex.public_id}/reviews/")
        assert_accessible_at_both_widths(page, "nav-reviews")
        page.fill("#id_held_on", "19 11 2026")
        for outcome in world.base.v1.outcomes.all():
            page.check(f"input[name=progress_{outcome.public_id}][value=mostly_achieved]")
        page.fill("#id_notes", "Settled in well.")
        page.click("button:has-text('Continue')")
        assert "Check the review" in page.locator("h1").inner_text()
        assert_accessible_at_both_widths(page, "nav-review-confirm")
        assert not Review.objects.exists()
        page.click("button:has-text('Record the review')")
        page.wait_for_url("**/reviews/")
        text = page.locator("main").inner_text()
        assert "The review was recorded." in text
        assert "Review on 19 November 2026" in text
        assert_accessible_at_both_widths(page)
        assert Review.objects.count() == 1


class TestNavigatorWithoutJavaScript:
    def test_work_out_the_cost_then_add_the_item(self, page_no_js, live_server, world):
        page = page_no_js
        sign_in_as(page, live_server, world.users["navigator"])
        page.goto(f"/people/{world.base.alex.public_id}/plan/edit/items/new/")
        page.select_option("#id_service", "ASC-PC")
        page.fill("#id_quantity", "3")
        page.click("button:has-text('Work out the cost')")
        region = page.locator("#item-cost")
        assert "This item would add" in region.inner_text()
        _pounds(region.inner_text())
        assert page.input_value("#id_quantity") == "3"
        assert_accessible_at_both_widths(page, "nav-item-cost-no-js")
        page.locator("#id_outcomes input").first.check()
        page.fill("#id_description", "No-JS help")
        page.click("button:has-text('Add the item')")
        page.wait_for_url("**/plan/edit/")
        assert SupportItem.objects.filter(version=world.base.v2, description="No-JS help").exists()
        assert_accessible_at_both_widths(page)
        # Closing the page here, before the fixture closes its context, keeps that teardown from stalling.
        page.close()
