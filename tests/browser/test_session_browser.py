"""The session timeout warning (WCAG 2.2.1: warned, with a way to keep going) and the password reset journey,
in headless Chromium."""

import re

import pytest
from django.core import mail

from tests.browser.conftest import assert_accessible, sign_in_as
from tests.people.factories import BudgetHolderFactory, ProviderUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class TestSessionTimeoutWarning:
    def test_the_warning_appears_before_the_end_and_staying_signed_in_keeps_the_session(
        self, page, live_server, settings
    ):
        settings.SESSION_COOKIE_AGE = 8  # the warning comes half-way for so short a session: after 4 seconds
        sign_in_as(page, live_server, ProviderUserFactory())
        page.goto("/")
        dialog = page.locator("#purse-timeout")
        assert not dialog.is_visible()

        dialog.wait_for(state="visible", timeout=7_000)
        assert "You will be signed out soon" in dialog.inner_text()
        assert page.evaluate("document.activeElement.closest('dialog') !== null"), (
            "focus is not in the dialog"
        )
        assert_accessible(page)
        page.keyboard.press("Tab") if not page.evaluate(
            "document.activeElement.matches('[data-purse-stay]')"
        ) else None
        page.get_by_role("button", name="Stay signed in").press("Enter")

        dialog.wait_for(state="hidden")
        page.wait_for_timeout(5_000)  # past the first session's end: the keep-alive restarted it
        assert page.url == live_server.url + "/"
        assert page.goto("/").url == live_server.url + "/"

    def test_without_an_answer_the_person_is_signed_out_and_told_why(self, page, live_server, settings):
        settings.SESSION_COOKIE_AGE = 4
        sign_in_as(page, live_server, ProviderUserFactory())
        page.goto("/")

        page.wait_for_url(re.compile(r"/sign-in/\?timed_out=1"), timeout=8_000)

        assert "We signed you out because you had not done anything" in page.inner_text("main")
        assert_accessible(page)


class TestPasswordResetJourney:
    def test_forgotten_password_by_email_with_javascript_off(self, page_no_js, live_server):
        page = page_no_js
        BudgetHolderFactory(user__username="alex", user__email="alex@example.org")
        page.goto("/sign-in/")
        page.get_by_role("link", name="I have forgotten my password").click()
        assert_accessible(page)
        page.get_by_label("Email address").fill("alex@example.org")
        page.get_by_role("button", name="Send me a link").click()
        assert page.locator("h1").inner_text() == "Check your email"

        link = re.search(r"https?://[^/]+(/password-reset/\S+/)", mail.outbox[0].body).group(1)
        page.goto(link)
        assert_accessible(page)
        page.get_by_label("New password", exact=True).fill("a-brand-new-passphrase")
        page.get_by_label("Type the new password again").fill("a-brand-new-passphrase")
        page.get_by_role("button", name="Save the new password").click()

        assert page.locator("h1").inner_text() == "Your password has changed"
        assert_accessible(page)
        page.get_by_role("link", name="Sign in").last.click()
        page.fill("#id_username", "alex")
        page.fill("#id_password", "a-brand-new-passphrase")
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r"/people/per_"))
