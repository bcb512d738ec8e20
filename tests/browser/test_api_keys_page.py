"""A provider user's API keys page in real headless Chromium at 320px, checked with axe-core."""

import re

import pytest
from playwright.sync_api import expect

from people.models import ProviderApiKey
from tests.browser.conftest import assert_accessible
from tests.people.factories import TEST_PASSWORD, ProviderUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class TestProviderManagesApiKeys:
    def test_issue_list_and_revoke_a_key(self, page):
        ProviderUserFactory(username="pat", organisation__name="Bright Care")
        page.goto("/sign-in/?next=/settings/api-keys/")
        page.fill("#id_username", "pat")
        page.fill("#id_password", TEST_PASSWORD)
        page.click("main button[type=submit]")

        page.wait_for_url("**/settings/api-keys/")
        assert "Bright Care" in page.locator("h1").inner_text()
        assert_accessible(page)

        page.click("button[type=submit]:has-text('Create key')")
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        expect(page).to_have_title(re.compile(r"^Error: "))
        assert_accessible(page)

        page.fill("#id_name", "Rota system")
        page.click("button[type=submit]:has-text('Create key')")
        raw = page.locator("#new-key").inner_text()
        assert raw.startswith("pk_live_")
        assert_accessible(page)

        page.click("text=I have copied it")
        assert "Rota system" in page.locator("main").inner_text()
        assert raw not in page.content()
        assert_accessible(page)

        page.click("a:has-text('Revoke')")
        assert "Are you sure" in page.locator("h1").inner_text()
        assert_accessible(page)
        page.click("button:has-text('Yes, revoke it')")

        page.wait_for_url("**/settings/api-keys/")
        assert "Revoked" in page.locator("main dl").inner_text()
        assert_accessible(page)
        assert not ProviderApiKey.objects.get().is_active
