"""The agency officer's pages in real headless Chromium: one officer approves their stream's part of a plan
(JavaScript on), another returns theirs with a reason (JavaScript off); every page is checked with axe-core
at 320px and at 1280px."""

import re

import pytest
from playwright.sync_api import expect

from plans.models import PlanVersionStatus, StreamApproval, StreamApprovalStatus
from plans.services import workflow
from tests.browser.conftest import (
    assert_accessible_at_both_widths,
    sign_in_as,
)
from tests.invoicing.world import build_invoicing_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The list of plans to approve (a browser keeps the fragment of the page it came from across a redirect).
LIST = re.compile(r"/approvals/(#.*)?$")


@pytest.fixture
def world(monkeypatch):
    world = build_invoicing_world(monkeypatch)
    workflow.plan_version_agree(version=world.base.v2, agreed_by=world.users["holder"])
    return world


def _part(world, code: str) -> StreamApproval:
    return StreamApproval.objects.filter(version=world.base.v2, stream__code=code).order_by("-round").first()


class TestOfficerApproves:
    def test_approve_a_streams_part(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["officer_asc"])

        page.goto("/approvals/")
        assert page.locator("h1").inner_text() == "Plans to approve"
        assert_accessible_at_both_widths(page, "officer-approvals")

        page.click(f"a:has-text('{world.base.alex.full_name}') >> nth=0")
        page.wait_for_url(f"**/approvals/{world.base.v2.public_id}/ASC/")
        assert "plan" in page.locator("h1").inner_text()
        page.click("summary:has-text('Every step of the calculation')")
        assert_accessible_at_both_widths(page, "officer-approval")

        page.click("a.govuk-button:has-text('Approve')")
        assert "Are you sure" in page.locator("h1").inner_text()
        assert_accessible_at_both_widths(page, "officer-approve")
        page.click("button:has-text('Yes, approve')")

        page.wait_for_url(LIST)
        assert (
            "You approved the Adult Social Care part"
            in page.locator(".govuk-notification-banner").inner_text()
        )
        assert_accessible_at_both_widths(page)
        assert _part(world, "ASC").status == StreamApprovalStatus.APPROVED

    def test_people_we_fund(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["officer_atw"])
        page.goto("/funded-people/")
        assert page.locator("h1").inner_text() == "People we fund"
        assert world.base.alex.full_name in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page, "officer-funded-people")

        page.goto("/approvals/decided/")
        assert_accessible_at_both_widths(page)


class TestOfficerReturnsWithoutJavaScript:
    def test_return_a_streams_part_with_a_reason(self, page_no_js, live_server, world):
        page = page_no_js
        sign_in_as(page, live_server, world.users["officer_atw"])

        page.goto(f"/approvals/{world.base.v2.public_id}/ATW/")
        page.click("a.govuk-button:has-text('Return for changes')")
        assert "Return" in page.locator("h1").inner_text()
        assert_accessible_at_both_widths(page, "officer-return")

        page.click("button:has-text('Continue')")
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        expect(page).to_have_title(re.compile(r"^Error: "))
        assert_accessible_at_both_widths(page)
        page.click(".govuk-error-summary a")
        page.fill("#id_reason", "Taxis: three days a week, not five.")
        page.click("button:has-text('Continue')")

        assert "Are you sure" in page.locator("h1").inner_text()
        assert "Taxis: three days a week" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page, "officer-return-confirm")
        page.click("button:has-text('Yes, return the plan')")

        page.wait_for_url(LIST)
        assert "You returned the Access to Work part" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page)
        part = _part(world, "ATW")
        assert part.status == StreamApprovalStatus.RETURNED
        assert part.reason == "Taxis: three days a week, not five."
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.DRAFT
