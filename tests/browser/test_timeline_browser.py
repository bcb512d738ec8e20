"""The timeline and messages page in headless Chromium, at 320px and 1280px, with axe-core: the person sends
their navigator a message (with JavaScript off, and by keyboard), the navigator adds and corrects a note."""

import re

import pytest
from playwright.sync_api import expect

from plans.models import TimelineEntry
from tests.browser.conftest import (
    assert_accessible_at_both_widths,
    sign_in_as,
)
from tests.invoicing.world import build_invoicing_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(monkeypatch, live_server):
    return build_invoicing_world(monkeypatch)


class TestThePersonSendsAMessage:
    def test_from_the_contact_box_without_javascript(self, page_no_js, live_server, world):
        page = page_no_js
        sign_in_as(page, live_server, world.users["holder"])
        page.goto(f"/people/{world.base.alex.public_id}/")
        page.click("a:has-text('a message in Purse')")
        page.wait_for_url("**/timeline/#message")
        assert_accessible_at_both_widths(page, "timeline-timeline")

        page.click("button:has-text('Send message')")
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        expect(page).to_have_title(re.compile(r"^Error: "))
        assert_accessible_at_both_widths(page)
        page.click(".govuk-error-summary a")
        assert page.evaluate("document.activeElement.id") == "id_message-text"

        page.fill("#id_message-text", "Can we move Tuesday's visit?")
        page.click("button:has-text('Send message')")
        page.wait_for_url(f"**/people/{world.base.alex.public_id}/timeline/")
        assert "Message sent" in page.locator("main").inner_text()
        assert "Can we move Tuesday's visit?" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page)
        assert TimelineEntry.objects.filter(kind="message", body="Can we move Tuesday's visit?").exists()

    def test_by_keyboard_with_javascript(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["rep_view"])
        page.goto(f"/people/{world.base.alex.public_id}/timeline/")
        page.focus("#id_message-text")
        page.keyboard.type("Alex is away next week.")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.get_by_text("Message sent").wait_for()
        assert "Alex is away next week." in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page)


class TestTheNavigatorsNotes:
    def test_add_a_note_and_correct_it(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["navigator"])
        page.goto(f"/people/{world.base.alex.public_id}/timeline/")
        assert_accessible_at_both_widths(page)
        page.fill("#id_note-text", "Phoned Alex about the new job.")
        page.click("button:has-text('Add note')")
        page.get_by_text("Note added").wait_for()
        assert "Staff only" in page.locator("main").inner_text()

        page.click("a:has-text('Correct this note')")
        assert page.locator("h1").inner_text() == "Correct your note"
        assert_accessible_at_both_widths(page, "timeline-note-correct")
        page.fill("#id_text", "")
        page.click("button:has-text('Save correction')")
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        assert_accessible_at_both_widths(page)
        page.fill("#id_text", "Phoned Alex about the new job in October.")
        page.click("button:has-text('Save correction')")
        page.get_by_text("Note corrected").wait_for()
        assert "This note has been corrected" in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page)
