"""The reconciliation pages in headless Chromium, at 320px and 1280px, with axe-core: finance reach them from
the navigation and, by keyboard alone, upload a bank statement (naming its CSV columns), confirm a
suggestion, match a line by hand, unmatch a line with a reason, read the report and mark the period
reconciled; a malformed file's error summary lists each problem and leads to the file input; without
JavaScript, the same file again and a large file's "Check progress again"; with JavaScript, a large file's
progress updating by itself."""

import re

import pytest
from playwright.sync_api import expect

from ledger.reconciliation import services as ledger_reconciliation
from ledger.reconciliation import tasks
from ledger.reconciliation.models import LineState, ReconciledPeriod, StatementImport, StatementLine
from tests.browser.conftest import assert_accessible, assert_accessible_at_both_widths, sign_in_as, tab_to
from tests.invoicing.world import build_invoicing_world
from tests.web.test_reconciliation_pages import FIXTURES, MAPPING, Books

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMPORT_URL = re.compile(r"/finance/reconciliation/imports/imp_[a-z0-9]+/$")
LINE_URL = re.compile(r"/finance/reconciliation/lines/stl_[a-z0-9]+/$")


@pytest.fixture
def world(monkeypatch, live_server):
    return build_invoicing_world(monkeypatch)


@pytest.fixture
def books(world):
    return Books()


def _main(page) -> str:
    return page.locator("main").inner_text()


def _type_into(page, selector: str, value: str) -> None:
    tab_to(page, selector, limit=120)
    page.keyboard.type(value)


def _line(number: int) -> StatementLine:
    return StatementLine.objects.get(line_number=number)


class TestByKeyboardAlone:
    def test_upload_decide_report_and_mark_reconciled(self, page, live_server, world, books):
        sign_in_as(page, live_server, world.users["finance"])
        page.goto("/")
        tab_to(page, ".govuk-service-navigation__toggle")  # the menu, folded away at 320px
        page.keyboard.press("Enter")
        tab_to(page, "a.govuk-service-navigation__link[href='/finance/reconciliation/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/finance/reconciliation/")
        assert page.locator("h1").inner_text() == "Reconciliation"
        assert "Council bank account (GBP)" in _main(page) and "Stripe balance (GBP)" in _main(page)
        assert_accessible_at_both_widths(page, "reconciliation")

        tab_to(page, f"main a[href='/finance/reconciliation/upload/?account={books.bank.public_id}']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/finance/reconciliation/upload/**")
        assert page.locator("h1").inner_text() == "Upload a statement"
        assert page.locator(f"input[name=account][value={books.bank.public_id}]").is_checked()
        assert_accessible_at_both_widths(page, "reconciliation-upload")

        tab_to(page, "#id_file")
        # A file chooser is the operating system's: the file is given to the focused input.
        page.set_input_files("#id_file", str(FIXTURES / "bank_good.csv"))
        for name, value in MAPPING.items():
            _type_into(page, f"#id_{name}", value)
        tab_to(page, "main button[type=submit]", limit=120)
        page.keyboard.press("Enter")
        page.wait_for_url(IMPORT_URL)
        assert page.locator("h1").inner_text() == "Statement bank_good.csv"
        assert "You imported bank_good.csv: 8 new lines, 4 matched, 1 suggested and 3 unmatched." in _main(
            page
        )
        assert_accessible_at_both_widths(page, "reconciliation-import")

        tab_to(page, "nav[aria-label='Lines by state'] a[href$='?state=suggested']")
        page.keyboard.press("Enter")
        page.wait_for_url("**?state=suggested")
        payout = _line(6)
        tab_to(page, f"main a[href='/finance/reconciliation/lines/{payout.public_id}/']")
        page.keyboard.press("Enter")
        page.wait_for_url(LINE_URL)
        assert "Suggested match to check" in _main(page)
        assert_accessible_at_both_widths(page, "reconciliation-line-suggested")
        tab_to(page, "button[name=confirm]")
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_contain_text("You confirmed the suggestion")
        assert _line(6).state == LineState.MATCHED
        assert_accessible(page)

        refund = _line(9)
        page.goto(f"/finance/reconciliation/lines/{refund.public_id}/")
        tab_to(page, "main a[href$='/match/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/match/")
        assert page.locator("h1").inner_text() == "Match this line by hand"
        assert_accessible_at_both_widths(page, "reconciliation-match")
        tab_to(page, "#id_candidates_0")
        page.keyboard.press("Space")
        _type_into(page, "#id_note", "J Smith's refund, paid back late.")
        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(LINE_URL)
        assert "You matched the line of 6 November 2026, £25.00" in _main(page)
        assert _line(9).state == LineState.MATCHED

        tab_to(page, "main a[href$='/unmatch/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/unmatch/")
        assert page.locator("h1").inner_text() == "Are you sure you want to unmatch this line?"
        assert_accessible_at_both_widths(page, "reconciliation-unmatch")
        _type_into(page, "#id_note", "Matched to the wrong refund.")
        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(LINE_URL)
        assert "You unmatched the line of 6 November 2026, £25.00" in _main(page)
        assert _line(9).state == LineState.UNMATCHED
        assert_accessible_at_both_widths(page, "reconciliation-line-history")

        page.goto(
            f"/finance/reconciliation/accounts/{books.bank.public_id}/report/?from=2026-11-01&to=2026-11-19"
        )
        assert page.locator("h1").inner_text() == "Reconciliation report, 1 November 2026 to 19 November 2026"
        assert "How the difference is explained" in _main(page)
        assert_accessible_at_both_widths(page, "reconciliation-report")
        with page.expect_download() as download:
            tab_to(page, "main a[href*='/report/csv/']")
            page.keyboard.press("Enter")
        assert download.value.suggested_filename == "reconciliation-bank-gbp-2026-11-01-2026-11-19.csv"

        tab_to(page, "main a[href*='/reconcile/']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/reconcile/**")
        assert (
            page.locator("h1").inner_text().startswith("Are you sure you want to mark Council bank account")
        )
        assert_accessible_at_both_widths(page, "reconciliation-reconcile")
        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url("**/report/?from=2026-11-01&to=2026-11-19")
        expect(page.locator("main")).to_contain_text("You marked Council bank account (GBP) reconciled")
        assert ReconciledPeriod.objects.get().account == books.bank
        assert_accessible_at_both_widths(page, "reconciliation-report-reconciled")

    def test_a_malformed_file_lists_each_problem_and_leads_to_the_file(self, page, live_server, world, books):
        ledger_reconciliation.csv_mapping_save(account=books.bank, mapping=MAPPING)
        sign_in_as(page, live_server, world.users["admin"])
        page.goto(f"/finance/reconciliation/upload/?account={books.bank.public_id}")
        page.set_input_files("#id_file", str(FIXTURES / "bank_malformed.csv"))
        tab_to(page, "main button[type=submit]", limit=120)
        page.keyboard.press("Enter")
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        assert page.title().startswith("Error: ")
        items = summary.locator("li").all_inner_texts()
        assert items[0] == "Line 3: the date '31/11/2026' is not a date written as DD/MM/YYYY."
        assert len(items) == 4
        assert_accessible_at_both_widths(page, "reconciliation-upload-malformed")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "id_file"
        assert not StatementImport.objects.exists()


class TestWithoutJavaScript:
    def test_the_same_file_again_links_to_the_first(self, page_no_js, live_server, world, books):
        page = page_no_js
        first = books.imported(world.users["finance"])
        sign_in_as(page, live_server, world.users["finance"])
        page.goto(f"/finance/reconciliation/upload/?account={books.bank.public_id}")
        page.set_input_files("#id_file", str(FIXTURES / "bank_good.csv"))
        page.click("button:has-text('Upload and match')")
        summary = page.locator(".govuk-error-summary")
        assert "This file was already imported on" in summary.inner_text()
        assert_accessible(page)
        summary.locator(f"a[href='/finance/reconciliation/imports/{first.public_id}/']").click()
        page.wait_for_url(IMPORT_URL)
        assert StatementImport.objects.count() == 1

    def test_a_large_file_offers_to_check_progress_again(
        self, page_no_js, live_server, world, books, settings, monkeypatch
    ):
        page = page_no_js
        settings.RECONCILIATION_SYNC_LINES = 2
        monkeypatch.setattr(tasks.import_match_task, "delay", lambda pk: None)  # no worker picks it up yet
        ledger_reconciliation.csv_mapping_save(account=books.bank, mapping=MAPPING)
        sign_in_as(page, live_server, world.users["finance"])
        page.goto(f"/finance/reconciliation/upload/?account={books.bank.public_id}")
        page.set_input_files("#id_file", str(FIXTURES / "bank_good.csv"))
        page.click("button:has-text('Upload and match')")
        page.wait_for_url(IMPORT_URL)
        region = page.locator(".purse-run-progress")
        assert "0 of 8 lines checked (0%)" in region.inner_text()
        assert page.locator("meta[http-equiv=refresh]").count() == 0
        assert_accessible(page)

        ledger_reconciliation.import_match(StatementImport.objects.get().pk)

        page.click("a:has-text('Check progress again')")
        assert "All 8 new lines checked" in page.locator(".purse-run-progress").inner_text()
        assert "Matched (4)" in _main(page)
        assert_accessible(page)


class TestWithJavaScript:
    def test_a_large_files_progress_updates_by_itself(
        self, page, live_server, world, books, settings, monkeypatch
    ):
        settings.RECONCILIATION_SYNC_LINES = 2
        monkeypatch.setattr(tasks.import_match_task, "delay", lambda pk: None)
        imported = books.imported(world.users["finance"])
        sign_in_as(page, live_server, world.users["finance"])
        page.goto(f"/finance/reconciliation/imports/{imported.public_id}/")
        region = page.locator(".purse-run-progress")
        assert "0 of 8 lines checked (0%)" in region.inner_text()
        assert_accessible_at_both_widths(page, "reconciliation-import-processing")

        ledger_reconciliation.import_match(imported.pk)

        expect(region).to_contain_text("All 8 new lines checked", timeout=15_000)
        expect(region).not_to_contain_text("Check progress again")
        assert_accessible(page)
