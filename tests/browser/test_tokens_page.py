"""The personal API tokens page in real headless Chromium at 320px, with axe-core."""

import pytest

from people import services as people_services
from tests.browser.conftest import assert_accessible
from tests.people.factories import TEST_PASSWORD, BudgetHolderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class TestTokensPage:
    def test_a_budget_holder_lists_issues_and_revokes_a_token_at_phone_width(self, page, live_server):
        holder = BudgetHolderFactory(user__username="alex")
        people_services.personal_token_issue(user=holder.user, name="My phone app", issued_by=holder.user)
        page.goto("/sign-in/")
        page.fill("#id_username", "alex")
        page.fill("#id_password", TEST_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/people/{holder.public_id}/")

        page.goto("/settings/tokens/")
        assert "My phone app" in page.locator("main").inner_text()
        assert_accessible(page)

        page.fill("#id_name", "Spreadsheet")
        page.locator("main button[type=submit]").first.click()
        assert "Spreadsheet" in page.locator("main").inner_text()
        assert_accessible(page)
