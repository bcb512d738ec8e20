"""The statements pages in headless Chromium, at 320px and 1280px, with axe-core: the person chooses their
statement's period by keyboard alone (and without JavaScript), an agency officer reads and downloads their
stream's statement, and finance start a statement run through its "Are you sure" page and watch it."""

import re

import pytest
from playwright.sync_api import expect

from budgets.models import FundingStream
from invoicing import services as invoicing_services
from statements.models import ItemStatus, RunStatus, StatementRun, StatementRunItem
from tests.browser.conftest import assert_accessible, assert_accessible_at_both_widths, sign_in_as, tab_to
from tests.invoicing.world import TODAY, build_invoicing_world, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(monkeypatch, live_server):
    world = build_invoicing_world(monkeypatch)
    paid = invoicing_services.invoice_approve(
        invoice=submit(world.care, number="C-1"), by=world.users["holder"]
    )
    invoicing_services.remittance_record(
        provider=world.care.provider, invoices=[paid], reference="PAY-1", paid_on=TODAY, by=None
    )
    invoicing_services.invoice_approve(invoice=submit(world.work, number="W-1"), by=world.users["holder"])
    return world


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


class TestThePersonsStatement:
    def test_read_it_and_choose_other_dates_by_keyboard_alone(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["holder"])
        page.goto(f"/people/{world.base.alex.public_id}/statements/")
        assert page.locator("h1").inner_text() == "Your statement for 1 November 2026 to 30 November 2026"
        assert "(invoice C-1)" in page.locator("main").inner_text()
        # The dates of one's own stay folded away until asked for.
        expect(page.locator("#id_from_day")).to_be_hidden()
        assert_accessible_at_both_widths(page, "statements-person")

        tab_to(page, "summary.govuk-details__summary")
        page.keyboard.press("Enter")
        expect(page.locator("#id_from_day")).to_be_visible()
        page.keyboard.press("Tab")
        assert _focused_id(page) == "id_from_day"
        for value in ("3", "10", "2026", "20", "11", "2026"):
            page.keyboard.type(value)
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Show these dates"
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"show=dates"))
        assert page.locator("h1").inner_text() == "Your statement for 3 October 2026 to 20 November 2026"
        assert_accessible_at_both_widths(page)

        # A date that does not exist: the error summary takes the focus and its link leads to the day box.
        tab_to(page, "#id_to_day")
        page.keyboard.type("31")
        page.keyboard.press("Tab")
        page.keyboard.type("9")
        tab_to(page, "details button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"to_day=31"))
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        assert "The end date must be a real date" in summary.inner_text()
        assert page.locator("h1").inner_text() == "Your statement"
        assert page.title().startswith("Error: ")
        assert_accessible_at_both_widths(page, "statements-person-error")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert _focused_id(page) == "id_to_day"

    def test_choose_a_month_by_keyboard_and_without_javascript(self, page_no_js, live_server, world):
        page = page_no_js
        sign_in_as(page, live_server, world.users["rep_view"])
        page.goto(f"/people/{world.base.alex.public_id}/statements/")
        tab_to(page, "select[name=month]")
        page.keyboard.press("ArrowDown")
        assert page.locator("select[name=month]").input_value() == "2026-10"
        tab_to(page, "#id_show button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"month=2026-10"))
        assert page.locator("h1").inner_text() == "Alex's statement for 1 October 2026 to 31 October 2026"
        assert_accessible(page)

        with page.expect_download() as download:
            page.click("a:has-text('Download this statement as a PDF')")
        assert download.value.suggested_filename.endswith("-2026-10-01-2026-10-31.pdf")
        with open(download.value.path(), "rb") as pdf:
            assert pdf.read(4) == b"%PDF"


class TestTheStreamStatement:
    def test_an_officer_reads_and_downloads_their_streams_statement(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["officer_asc"])
        page.goto("/streams/")
        assert page.locator("h1").inner_text() == "Statements"
        assert_accessible_at_both_widths(page, "statements-streams")
        page.click("a:has-text('Adult Social Care (ASC)')")
        page.wait_for_url("**/streams/ASC/statements/")
        assert page.locator("h1").inner_text() == (
            "Adult Social Care statement for 1 November 2026 to 30 November 2026"
        )
        assert world.base.alex.full_name in page.locator("main").inner_text()
        assert_accessible_at_both_widths(page, "statements-stream")

        with page.expect_download() as download:
            page.click("a:has-text('Download this statement as CSV')")
        assert download.value.suggested_filename == "ASC-statement-2026-11-01-2026-11-30.csv"
        with open(download.value.path(), encoding="utf-8") as csv:
            rows = csv.read().splitlines()
        assert rows[0].startswith("stream,period_from,period_to,person,")
        assert rows[1].startswith(f"ASC,2026-11-01,2026-11-30,{world.base.alex.public_id},")


class TestStatementRuns:
    def test_start_a_run_through_the_confirmation_and_see_its_progress(self, page, live_server, world):
        sign_in_as(page, live_server, world.users["finance"])
        page.goto("/")
        page.click("main a:has-text('Statement runs')")
        page.wait_for_url("**/finance/statement-runs/")
        assert page.locator("h1").inner_text() == "Statement runs"
        assert page.locator("select[name=month]").input_value() == "2026-10"
        assert_accessible_at_both_widths(page, "statement-runs")

        page.click("button:has-text('Continue')")
        page.wait_for_url("**/finance/statement-runs/start/")
        expect(page.locator("h1")).to_have_text(
            "Are you sure you want to start the statement run for 1 October 2026 to 31 October 2026?"
        )
        assert_accessible_at_both_widths(page, "statement-run-start-confirm")

        page.click("button:has-text('Yes, start the statement run')")
        # Made eagerly, in the POST: every statement is made before the run's page opens.
        page.wait_for_url(re.compile(r"/finance/statement-runs/run_[a-z0-9]+/$"), timeout=120_000)
        run = StatementRun.objects.get()
        assert page.locator("h1").inner_text() == "Statement run for 1 October 2026 to 31 October 2026"
        main = page.locator("main").inner_text()
        assert f"{run.total} of {run.total} statements made (100%)" in main
        assert "You started the statement run" in main
        assert page.locator("progress").get_attribute("value") == str(run.total)
        assert_accessible_at_both_widths(page, "statement-run")

    def test_a_running_runs_page_updates_its_progress_by_itself(self, page, live_server, world):
        run = StatementRun.objects.create(
            starts_on=TODAY.replace(month=9, day=1), ends_on=TODAY.replace(month=9, day=30), total=2
        )
        StatementRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
        for code in ("ASC", "ILF"):
            StatementRunItem.objects.create(
                run=run, kind="agency", stream=FundingStream.objects.get(code=code)
            )
        sign_in_as(page, live_server, world.users["finance"])
        page.goto(f"/finance/statement-runs/{run.public_id}/")
        region = page.locator(".purse-run-progress")
        assert "0 of 2 statements made, 2 waiting (0%)" in region.inner_text()
        assert "Check progress again" in region.inner_text()
        assert_accessible_at_both_widths(page, "statement-run-running")

        StatementRunItem.objects.filter(run=run).update(status=ItemStatus.DONE)
        StatementRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE)

        expect(region).to_contain_text("2 of 2 statements made (100%)", timeout=15_000)
        expect(region).to_contain_text("The run has finished")
        assert page.locator("h1").inner_text() == "Statement run for 1 September 2026 to 30 September 2026"
        assert_accessible(page)
