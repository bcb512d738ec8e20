"""The sign-in journeys in real headless Chromium at 320px, by keyboard alone, checked with axe-core."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, tab_to
from tests.people.factories import TEST_PASSWORD, BudgetHolderFactory, TOTPDeviceFactory, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _type_by_keyboard(page, text: str) -> None:
    page.keyboard.type(text)


class TestBudgetHolderSignsIn:
    def test_sign_in_page_is_accessible_and_works_by_keyboard(self, page, live_server):
        holder = BudgetHolderFactory(user__username="alex")
        page.goto("/sign-in/")
        assert_accessible(page)

        tab_to(page, "#id_username")
        _type_by_keyboard(page, "alex")
        tab_to(page, "#id_password")
        _type_by_keyboard(page, TEST_PASSWORD)
        page.keyboard.press("Enter")

        page.wait_for_url(f"{live_server.url}/people/{holder.public_id}/")
        assert holder.user.first_name in page.locator("h1").inner_text()
        assert_accessible(page)

    def test_a_wrong_password_shows_an_error_summary_that_links_to_the_field(self, page):
        BudgetHolderFactory(user__username="alex")
        page.goto("/sign-in/")
        page.fill("#id_username", "alex")
        page.fill("#id_password", "not-the-password")
        page.click("main button[type=submit]")

        summary = page.locator(".govuk-error-summary")
        expect(summary).to_be_visible()
        expect(page).to_have_title(re.compile(r"^Error: "))
        assert_accessible(page)
        summary.locator("a").first.click()
        assert page.evaluate("document.activeElement.id") in {"id_username", "id_password"}


class TestStaffSignInWithSecondFactor:
    def test_navigator_enters_the_code_from_their_authenticator(self, page, live_server):
        device = TOTPDeviceFactory(user__username="nav")
        page.goto("/sign-in/")
        page.fill("#id_username", "nav")
        page.fill("#id_password", TEST_PASSWORD)
        page.click("main button[type=submit]")

        page.wait_for_url("**/sign-in/code/**")
        assert_accessible(page)
        tab_to(page, "#id_code")
        _type_by_keyboard(page, totp_code(device))
        page.keyboard.press("Enter")

        page.wait_for_url(live_server.url + "/caseload/")
        assert "caseload" in page.locator("main").inner_text().lower()
        assert_accessible(page)

    def test_a_navigator_without_an_authenticator_is_taken_to_set_one_up(self, page):
        from tests.people.factories import NavigatorFactory

        NavigatorFactory(username="newnav")
        page.goto("/sign-in/")
        page.fill("#id_username", "newnav")
        page.fill("#id_password", TEST_PASSWORD)
        page.click("main button[type=submit]")

        page.wait_for_url("**/set-up-authenticator/**")
        assert page.locator("svg").count() >= 1
        assert_accessible(page)
