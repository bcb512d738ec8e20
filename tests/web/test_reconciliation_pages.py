"""Finance's reconciliation pages: the accounts, uploading a statement (a good file, the same file again, a
malformed one, a large one still being matched), an import's lines by state, a line (confirm or reject a
suggestion, match by hand, unmatch with a reason), and the report of an account for a period (its numbers,
its CSV and PDF) with "Mark reconciled". Who may see each (finance and administrators; 404 for anyone
else, who changes nothing), and query counts that do not grow with the lines.

The books (`Books`): the real bank and Stripe reconciliation accounts, and ledger transactions on the bank's
cash account and the Bacs clearing account that bank_good.csv (2 to 6 November 2026) matches: two funding
receipts by reference, a Bacs file of three payments by its one contra line, a Bacs payment by its
reference, two £150.00 receipts (so the £150.00 line is a suggestion, of the nearer), and a £25.00 receipt
on 12 November, too far from its line to be matched by itself. HMRC's and the bank's charges are not in the
ledger. Today is 20 November 2026 (the page tests' world).
"""

import csv
import html as html_text
import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import BooleanObject

from ledger import services as ledger_services
from ledger.models import AccountType, PeriodClose, Side, Transaction
from ledger.reconciliation import services as ledger_reconciliation
from ledger.reconciliation.models import (
    ImportStatus,
    LineState,
    MatchHow,
    MatchStatus,
    ReconciledPeriod,
    ReconciliationMatch,
    StatementImport,
    StatementLine,
)
from ledger.selectors import account_balance
from payments import accounts
from payments import reconciliation as reconciliation_services
from people.models import AuditEvent
from plans.wording import date_display
from tests.web.roles import sign_in_role
from web.templatetags.purse import day

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "ledger" / "reconciliation" / "fixtures"
OVERVIEW = reverse("web:reconciliation")
UPLOAD = reverse("web:reconciliation-upload")
MAPPING = {
    "date_column": "Date",
    "paid_in_column": "Paid in",
    "paid_out_column": "Paid out",
    "reference_column": "Reference",
    "description_column": "Description",
    "balance_column": "Balance",
}
MAPPING_FORM = {
    **MAPPING,
    "date_format": "%d/%m/%Y",
    "delimiter": "comma",
    "encoding": "utf-8-sig",
    "skip_lines": "0",
}
NOT_FINANCE = ("holder", "rep_approve", "navigator", "officer_asc", "provider_engaged")
PERIOD = {"from": "2026-11-01", "to": "2026-11-19"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def text(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.content.decode())
    return html_text.unescape(re.sub(r"\s+", " ", page)).replace(" ,", ",").strip()


def signed_in(client, sign_in_verified, world, role: str):
    sign_in_role(client, sign_in_verified, world.users[role], role)
    return client


class Books:
    """The real reconciliation accounts and the ledger transactions bank_good.csv matches (see above)."""

    def __init__(self) -> None:
        self.bank, self.stripe = reconciliation_services.reconciliation_accounts_ensure()
        self.cash = accounts.cash_account(where="bank", currency="GBP")
        self.transit = accounts.clearing_account(rail="bacs", currency="GBP")
        self.elsewhere = ledger_services.account_get_or_create(
            key="test:reconciliation:elsewhere",
            name="Elsewhere",
            type=AccountType.ASSET,
            currency="GBP",
            allow_negative=True,
            owner_type="test",
            owner_id="reconciliation",
        )
        self.count = 0
        self.asc = self.receipt(485_000, date(2026, 11, 2), "Funding, reference DEMO-ASC-2026-11")
        self.ilf = self.receipt(61_240, date(2026, 11, 2), "Funding, reference DEMO-ILF-2026-11")
        self.batch = [
            self.bacs(amount, date(2026, 11, 3), f"pay_{index}batchpay01", "bacs_7h2k9m4q")
            for index, amount in enumerate((50_000, 44_050, 30_000))
        ]
        self.bright = self.bacs(31_875, date(2026, 11, 3), "pay_k7g57jmjtnsuje", "bacs_single001")
        self.payout_far = self.receipt(15_000, date(2026, 11, 3), "Money in from Stripe")
        self.payout_near = self.receipt(15_000, date(2026, 11, 4), "Money in from Stripe")
        self.refund = self.receipt(2_500, date(2026, 11, 12), "Refund from J Smith")

    def post(self, debit, credit, amount: int, on: date, description: str, **metadata) -> Transaction:
        self.count += 1
        return ledger_services.transaction_post(
            idempotency_key=f"test:reconciliation:{self.count}",
            currency="GBP",
            effective_on=on,
            description=description,
            postings=[
                ledger_services.PostingSpec(account=debit, side=Side.DEBIT, amount_minor=amount),
                ledger_services.PostingSpec(account=credit, side=Side.CREDIT, amount_minor=amount),
            ],
            metadata=metadata,
        )

    def receipt(self, amount: int, on: date, description: str) -> Transaction:
        return self.post(self.cash, self.elsewhere, amount, on, description)

    def bacs(self, amount: int, on: date, payment: str, bacs_file: str) -> Transaction:
        return self.post(
            self.elsewhere,
            self.transit,
            amount,
            on,
            f"Payment {payment}",
            payment=payment,
            bacs_file=bacs_file,
        )

    def many(self, count: int) -> StatementImport:
        """A statement of `count` more lines, 9 to 13 November, each matched by amount and date."""
        rows = ["Date,Amount,Reference"]
        for number in range(count):
            on = date(2026, 11, 9 + number % 5)
            self.receipt(100_000 + number, on, f"Receipt {number}")
            rows.append(f"{on:%d/%m/%Y},{(100_000 + number) // 100}.{(100_000 + number) % 100:02d},")
        return ledger_reconciliation.statement_import(
            account=self.bank,
            content=("\n".join(rows) + "\n").encode(),
            by="finance",
            file_name="more.csv",
            csv_mapping={"date_column": "Date", "amount_column": "Amount", "reference_column": "Reference"},
        )

    def imported(self, by, name: str = "bank_good.csv") -> StatementImport:
        return reconciliation_services.statement_import(
            account=self.bank, content=fixture(name), by=by, file_name=name, csv_mapping=MAPPING
        )


@pytest.fixture
def books(world):
    return Books()


@pytest.fixture
def imported(books, world):
    return books.imported(world.users["finance"])


def line(imported: StatementImport, number: int) -> StatementLine:
    return StatementLine.objects.get(statement_import=imported, line_number=number)


# The lines of bank_good.csv, by file line.
ASC, ILF, CONTRA, BRIGHT, PAYOUT, HMRC, CHARGES, REFUND = range(2, 10)


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def report_url(books: Books, name: str = "web:reconciliation-report", period=PERIOD) -> str:
    return url(name, books.bank.public_id) + "?" + "&".join(f"{k}={v}" for k, v in period.items())


def upload_data(books: Books, name: str, **fields) -> dict:
    return {
        "account": books.bank.public_id,
        "file": SimpleUploadedFile(name, fixture(name), content_type="text/csv"),
        "format": "",
        **MAPPING_FORM,
        **fields,
    }


class TestWhoSeesThePages:
    def urls(self, books: Books, imported: StatementImport) -> list[str]:
        suggestion = ReconciliationMatch.objects.get(
            line=line(imported, PAYOUT), status=MatchStatus.SUGGESTED
        )
        matched = line(imported, ASC)
        return [
            OVERVIEW,
            UPLOAD,
            url("web:reconciliation-account", books.bank.public_id),
            report_url(books, "web:reconciliation-account-lines"),
            url("web:reconciliation-import", imported.public_id),
            url("web:reconciliation-line", matched.public_id),
            url("web:reconciliation-line-match", line(imported, REFUND).public_id),
            url("web:reconciliation-line-unmatch", matched.public_id),
            url("web:reconciliation-match-reject", suggestion.public_id),
            report_url(books),
            report_url(books, "web:reconciliation-report-csv"),
            report_url(books, "web:reconciliation-report-pdf"),
            report_url(books, "web:reconciliation-reconcile"),
        ]

    @pytest.mark.parametrize("role", ["finance", "admin"])
    def test_finance_and_administrators(self, client, sign_in_verified, world, books, imported, role):
        signed_in(client, sign_in_verified, world, role)
        for address in self.urls(books, imported):
            response = client.get(address)
            assert response.status_code == 200, address
            assert response["Cache-Control"].startswith("max-age=0"), address

    @pytest.mark.parametrize("role", NOT_FINANCE)
    def test_anyone_else_gets_not_found_and_changes_nothing(
        self, client, sign_in_verified, world, books, imported, role
    ):
        suggestion = ReconciliationMatch.objects.get(
            line=line(imported, PAYOUT), status=MatchStatus.SUGGESTED
        )
        signed_in(client, sign_in_verified, world, role)
        for address in self.urls(books, imported):
            assert client.get(address).status_code == 404, address
        refund, asc = line(imported, REFUND), line(imported, ASC)
        posts = [
            (UPLOAD, upload_data(books, "bank_newest_first.csv")),
            (
                url("web:reconciliation-line", line(imported, PAYOUT).public_id),
                {"confirm": suggestion.public_id},
            ),
            (url("web:reconciliation-match-reject", suggestion.public_id), {"note": "No"}),
            (
                url("web:reconciliation-line-match", refund.public_id),
                {"transaction_ids": books.refund.public_id},
            ),
            (url("web:reconciliation-line-unmatch", asc.public_id), {"note": "No"}),
            (report_url(books, "web:reconciliation-reconcile"), {"note": ""}),
        ]
        for address, data in posts:
            assert client.post(address, data).status_code == 404, address
        assert StatementImport.objects.count() == 1
        assert line(imported, PAYOUT).state == LineState.SUGGESTED
        assert line(imported, REFUND).state == LineState.UNMATCHED
        assert line(imported, ASC).state == LineState.MATCHED
        assert not ReconciledPeriod.objects.exists()
        assert (
            not AuditEvent.objects.filter(action__startswith="reconciliation.")
            .exclude(action="reconciliation.imported")
            .exists()
        )

    def test_anonymous_is_sent_to_sign_in(self, client, world, books, imported):
        for address in (
            OVERVIEW,
            UPLOAD,
            url("web:reconciliation-import", imported.public_id),
            report_url(books),
        ):
            response = client.get(address)
            assert response.status_code == 302 and response["Location"].startswith(reverse("web:sign-in"))

    def test_unknown_things_are_not_found(self, client, sign_in_verified, world, books):
        signed_in(client, sign_in_verified, world, "finance")
        for address in (
            "/finance/reconciliation/imports/imp_nothing/",
            "/finance/reconciliation/lines/stl_nothing/",
            "/finance/reconciliation/lines/stl_nothing/match/",
            "/finance/reconciliation/suggestions/rcm_nothing/reject/",
            "/finance/reconciliation/accounts/rca_nothing/report/",
            "/finance/reconciliation/accounts/rca_nothing/report/pdf/",
        ):
            assert client.get(address).status_code == 404, address

    def test_the_navigation_leads_there_for_finance(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "finance")
        html = client.get(reverse("web:home")).content.decode()
        assert f'href="{OVERVIEW}"' in html and "Reconciliation" in html
        client.logout()
        signed_in(client, sign_in_verified, world, "navigator")
        assert f'href="{OVERVIEW}"' not in client.get(reverse("web:home")).content.decode()


class TestTheAccounts:
    def test_made_on_first_visit_and_listed_with_their_latest_statements(
        self, client, sign_in_verified, world
    ):
        signed_in(client, sign_in_verified, world, "finance")
        assert not reconciliation_services.reconciliation_accounts_present()
        response = client.get(OVERVIEW)
        assert reconciliation_services.reconciliation_accounts_present()
        page = text(response)
        assert "Council bank account (GBP)" in page and "Stripe balance (GBP)" in page
        assert page.count("No statement has been uploaded yet.") == 2

    def test_counts_and_links(self, client, sign_in_verified, world, books, imported):
        signed_in(client, sign_in_verified, world, "finance")
        response = client.get(OVERVIEW)
        page = text(response)
        assert (
            "Lines matched 4 Suggestions to check 1 Lines not matched 3 Reconciled through Not reconciled yet"
            in page
        )
        assert "4 matched, 1 suggested, 3 not matched" in page
        html = response.content.decode()
        assert f'href="{url("web:reconciliation-import", imported.public_id)}"' in html
        assert f'href="{UPLOAD}?account={books.bank.public_id}"' in html
        assert f'href="{url("web:reconciliation-report", books.bank.public_id)}"' in html
        account = client.get(url("web:reconciliation-account", books.bank.public_id))
        assert "bank_good.csv" in text(account) and "2 November 2026 to 6 November 2026" in text(account)


class TestUploading:
    def test_the_form_is_prefilled_with_the_saved_mapping(self, client, sign_in_verified, world, books):
        ledger_reconciliation.csv_mapping_save(account=books.bank, mapping={**MAPPING, "delimiter": ";"})
        signed_in(client, sign_in_verified, world, "finance")
        html = client.get(f"{UPLOAD}?account={books.bank.public_id}").content.decode()
        assert re.search(r'name="paid_in_column" value="Paid in"', html)
        assert re.search(r'<option value="semicolon" selected>', html)
        assert re.search(rf'value="{books.bank.public_id}"[^>]*checked', html)
        assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html

    def test_a_good_file_is_imported_matched_and_its_mapping_saved(
        self, client, sign_in_verified, world, books
    ):
        signed_in(client, sign_in_verified, world, "finance")
        response = client.post(UPLOAD, upload_data(books, "bank_good.csv"))
        imported = StatementImport.objects.get()
        assert response.status_code == 302
        assert response["Location"] == url("web:reconciliation-import", imported.public_id)
        assert (imported.status, imported.lines_new, imported.format) == (ImportStatus.DONE, 8, "csv")
        books.bank.refresh_from_db()
        assert books.bank.csv_mapping["paid_in_column"] == "Paid in"
        page = text(client.get(response["Location"]))
        assert "You imported bank_good.csv: 8 new lines, 4 matched, 1 suggested and 3 unmatched." in page
        assert "Statement bank_good.csv" in page
        assert "Opening balance £10,000.00 Closing balance £12,963.32" in page
        assert "All lines (8) Matched (4) Suggested (1) Unmatched (3)" in page
        assert AuditEvent.objects.filter(
            action="reconciliation.imported", actor=world.users["finance"]
        ).exists()

    def test_lines_show_what_they_matched_and_why(self, client, sign_in_verified, world, books, imported):
        signed_in(client, sign_in_verified, world, "finance")
        page = text(client.get(url("web:reconciliation-import", imported.public_id)))
        assert "Line 2 of " in page and "2 November 2026, £4,850.00" in page
        assert (
            "Matched to 2 November 2026: Funding, reference DEMO-ASC-2026-11, £4,850.00 "
            f"{books.asc.public_id}" in page
        )
        assert "Why Reference and amount:" in page
        assert "Found by Purse, automatically" in page
        assert "One line for several transactions, by exact sum" in page and "Together -£1,240.50" in page
        assert "(money on its way)" in page

    def test_the_state_tabs_filter_the_lines(self, client, sign_in_verified, world, books, imported):
        signed_in(client, sign_in_verified, world, "finance")
        address = url("web:reconciliation-import", imported.public_id)
        response = client.get(address + "?state=unmatched")
        assert [row.line.line_number for row in response.context["rows"]] == [HMRC, CHARGES, REFUND]
        assert f'href="{address}?state=unmatched" aria-current="page"' in response.content.decode()
        assert text(response).startswith("Unmatched lines: statement bank_good.csv")
        suggested = client.get(address + "?state=suggested")
        assert [row.line.line_number for row in suggested.context["rows"]] == [PAYOUT]
        assert "Suggested 2 November 2026" not in text(suggested)
        assert "Suggested 4 November 2026: Money in from Stripe, £150.00" in text(suggested)
        assert [
            row.line.line_number for row in client.get(address + "?state=nonsense").context["rows"]
        ] == list(range(2, 10))

    def test_the_same_file_again_imports_nothing_and_links_to_the_first(
        self, client, sign_in_verified, world, books, imported
    ):
        signed_in(client, sign_in_verified, world, "finance")
        response = client.post(UPLOAD, upload_data(books, "bank_good.csv"))
        assert response.status_code == 200
        page = text(response)
        assert page.startswith("Error: Upload a statement")
        on = date_display(timezone.localtime(imported.created_at).date())
        assert f"This file was already imported on {on} as {imported.public_id}" in page
        assert "nothing was imported again." in page
        assert f'href="{url("web:reconciliation-import", imported.public_id)}"' in response.content.decode()
        assert StatementImport.objects.count() == 1 and StatementLine.objects.count() == 8

    def test_a_malformed_file_lists_each_problem_and_imports_nothing(
        self, client, sign_in_verified, world, books
    ):
        signed_in(client, sign_in_verified, world, "finance")
        response = client.post(UPLOAD, upload_data(books, "bank_malformed.csv"))
        assert response.status_code == 200
        html = response.content.decode()
        summary = html[html.index("govuk-error-summary") : html.index("</h1>")]
        problems = [
            "Line 3: the date &#x27;31/11/2026&#x27; is not a date written as DD/MM/YYYY.",
            "Line 4: the paid out amount &#x27;abc&#x27; is not a number.",
            "Line 5: the paid out amount &#x27;318.755&#x27; has more decimals than GBP allows (2 decimals).",
            "Line 6: this row has 6 columns, but the header has 7.",
        ]
        for problem in problems:
            assert f'<a href="#id_file">{problem}</a>' in summary
        assert "Purse found 4 problems in the file" in text(response)
        assert "Purse cannot read this file (4 problems, listed at the top of the page)" in text(response)
        assert not StatementImport.objects.exists() and not StatementLine.objects.exists()

    def test_more_problems_than_listed_are_counted(self, client, sign_in_verified, world, books, monkeypatch):
        from ledger.reconciliation import statement_files

        monkeypatch.setattr(statement_files, "MAX_PROBLEMS", 2)
        signed_in(client, sign_in_verified, world, "finance")
        page = text(client.post(UPLOAD, upload_data(books, "bank_malformed.csv")))
        assert "Line 4: the paid out amount 'abc' is not a number. and 2 more problems" in page
        assert "Line 5:" not in page

    def test_a_mapping_that_cannot_be_used_is_shown_on_its_field(
        self, client, sign_in_verified, world, books
    ):
        signed_in(client, sign_in_verified, world, "finance")
        response = client.post(
            UPLOAD, upload_data(books, "bank_good.csv", format="csv", amount_column="Amount")
        )
        assert response.status_code == 200
        assert "both an amount column and paid in / paid out columns" in text(response)
        assert response.context["form"].errors["paid_in_column"]
        assert response.context["mapping_open"] is True
        assert not StatementImport.objects.exists()

    @pytest.mark.parametrize(
        "fields, field_id, message",
        [
            ({"account": ""}, "id_account_0", "Choose the account the statement is for"),
            ({"file": ""}, "id_file", "Choose the statement file to upload"),
            ({"skip_lines": "x"}, "id_skip_lines", "Enter the lines to skip as a whole number, like 0"),
        ],
    )
    def test_each_mistake_in_the_error_summary_linking_to_its_field(
        self, client, sign_in_verified, world, books, fields, field_id, message
    ):
        signed_in(client, sign_in_verified, world, "finance")
        data = upload_data(books, "bank_good.csv", **fields)
        if data["file"] == "":
            del data["file"]
        html = client.post(UPLOAD, data).content.decode()
        assert f'<a href="#{field_id}">{message}</a>' in html
        assert not StatementImport.objects.exists()

    def test_a_stripe_report_needs_no_mapping_and_ignores_one_typed(
        self, client, sign_in_verified, world, books
    ):
        signed_in(client, sign_in_verified, world, "finance")
        data = {
            "account": books.stripe.public_id,
            "file": SimpleUploadedFile("balance.csv", fixture("stripe_balance_transactions.csv")),
            "format": "",
            # Columns typed, not needed and not usable: left alone for a file that is not a bank's CSV.
            **{name: "" for name in MAPPING},
            "date_column": "Date",
            "amount_column": "Amount",
            "paid_in_column": "In",
        }
        response = client.post(UPLOAD, data)
        imported = StatementImport.objects.get()
        assert response.status_code == 302
        assert (imported.account, imported.format, imported.lines_new) == (books.stripe, "stripe_balance", 8)
        books.stripe.refresh_from_db()
        assert books.stripe.csv_mapping is None

    def test_a_large_file_shows_its_progress_until_it_is_matched(
        self, client, sign_in_verified, world, books, settings
    ):
        settings.RECONCILIATION_SYNC_LINES = 2
        signed_in(client, sign_in_verified, world, "finance")
        response = client.post(UPLOAD, upload_data(books, "bank_good.csv"))
        imported = StatementImport.objects.get()
        assert imported.status == ImportStatus.PROCESSING  # its matching waits for the commit, on Celery
        address = response["Location"]
        page = client.get(address)
        html = page.content.decode()
        assert "Purse is matching them now." in text(page)
        assert "0 of 8 lines checked (0%)" in text(page)
        assert f'data-purse-poll-url="{address}"' in html
        assert f'<a class="govuk-link" href="{address}">Check progress again</a>' in html
        assert 'http-equiv="refresh"' not in html
        polled = client.get(address, headers={"X-Requested-With": "fetch"})
        assert polled["X-Purse-Running"] == "1" and "0 of 8 lines checked" in text(polled)

        ledger_reconciliation.import_match(imported.pk)

        polled = client.get(address, headers={"X-Requested-With": "fetch"})
        assert polled["X-Purse-Running"] == "0"
        assert "All 8 new lines checked" in text(polled) and "See the lines and their matches" in text(polled)
        done = client.get(address)
        assert "data-purse-poll-url" not in done.content.decode()
        assert "Matched (4)" in text(done)


class TestALine:
    def test_its_facts_and_history(self, client, sign_in_verified, world, books, imported):
        signed_in(client, sign_in_verified, world, "finance")
        contra = line(imported, CONTRA)
        page = text(client.get(url("web:reconciliation-line", contra.public_id)))
        assert "3 November 2026, -£1,240.50" in page
        assert "Reference BACS 03NOV Description BACS CONTRA bacs_7h2k9m4q" in page
        assert "Statement bank_good.csv, line 4 State Matched" in page
        assert "Money on its way Moved to the bank account by txn_" in page
        assert "History Every match and suggestion this line has had" in page
        assert "Unmatch this line" in page

    def test_a_suggestion_is_confirmed(self, client, sign_in_verified, world, books, imported):
        payout = line(imported, PAYOUT)
        suggestion = ReconciliationMatch.objects.get(line=payout, status=MatchStatus.SUGGESTED)
        signed_in(client, sign_in_verified, world, "finance")
        address = url("web:reconciliation-line", payout.public_id)
        page = client.get(address)
        assert "Suggested match to check" in text(page)
        assert f'name="confirm" value="{suggestion.public_id}"' in page.content.decode()

        response = client.post(address, {"confirm": suggestion.public_id})

        assert response.status_code == 302 and response["Location"] == address
        suggestion.refresh_from_db()
        assert (
            suggestion.status == MatchStatus.MATCHED
            and suggestion.decided_by == world.users["finance"].username
        )
        assert line(imported, PAYOUT).state == LineState.MATCHED
        after = text(client.get(address))
        assert (
            "You confirmed the suggestion: the line of 4 November 2026, £150.00" in after
            and "is matched to 1 ledger transaction." in after
        )
        assert f"Suggested by Purse, automatically, {day(suggestion.created_at)}" in after
        assert f"Confirmed by {world.users['finance'].get_full_name()}, {day(suggestion.decided_at)}" in after
        assert AuditEvent.objects.filter(action="reconciliation.confirmed").count() == 1

    def test_confirming_a_suggestion_decided_meanwhile_says_so(
        self, client, sign_in_verified, world, books, imported
    ):
        payout = line(imported, PAYOUT)
        suggestion = ReconciliationMatch.objects.get(line=payout, status=MatchStatus.SUGGESTED)
        reconciliation_services.match_reject(match=suggestion, by=world.users["admin"])
        signed_in(client, sign_in_verified, world, "finance")
        response = client.post(
            url("web:reconciliation-line", payout.public_id), {"confirm": suggestion.public_id}
        )
        assert response.status_code == 200
        assert "There is a problem" in text(response) and "no longer waiting" in text(response)

    def test_a_suggestion_is_rejected_with_a_note(self, client, sign_in_verified, world, books, imported):
        payout = line(imported, PAYOUT)
        suggestion = ReconciliationMatch.objects.get(line=payout, status=MatchStatus.SUGGESTED)
        signed_in(client, sign_in_verified, world, "finance")
        address = url("web:reconciliation-match-reject", suggestion.public_id)
        assert "Reject this suggestion?" in text(client.get(address))

        response = client.post(address, {"note": "That money was a refund, not the payout."})

        assert response["Location"] == url("web:reconciliation-line", payout.public_id)
        suggestion.refresh_from_db()
        assert (suggestion.status, suggestion.note) == (
            MatchStatus.REJECTED,
            "That money was a refund, not the payout.",
        )
        assert line(imported, PAYOUT).state == LineState.UNMATCHED
        page = text(client.get(response["Location"]))
        assert "You rejected the suggestion for the line of 4 November 2026, £150.00." in page
        assert "Rejected by" in page and "That money was a refund, not the payout." in page
        assert "This suggestion is not waiting any more: it is rejected." in text(client.get(address))

    def test_matched_by_hand_from_the_choices_of_its_amount(
        self, client, sign_in_verified, world, books, imported
    ):
        refund = line(imported, REFUND)
        signed_in(client, sign_in_verified, world, "finance")
        address = url("web:reconciliation-line-match", refund.public_id)
        page = client.get(address)
        assert [choice.public_id for choice in page.context["choices"]] == [books.refund.public_id]
        assert f"12 November 2026: Refund from J Smith (£25.00, {books.refund.public_id})" in text(page)

        response = client.post(address, {"candidates": [books.refund.public_id], "note": "J Smith's refund"})

        assert response["Location"] == url("web:reconciliation-line", refund.public_id)
        match = ReconciliationMatch.objects.get(line=refund, status=MatchStatus.MATCHED)
        assert match.how == MatchHow.MANUAL and match.note == "J Smith's refund"
        assert [item.transaction_id for item in match.items.all()] == [books.refund.pk]
        page = text(client.get(response["Location"]))
        assert "You matched the line of 6 November 2026, £25.00 to 1 ledger transaction." in page
        assert f"Matched by {world.users['finance'].get_full_name()}" in page

    def test_matched_by_hand_by_typed_ids_that_must_add_up(
        self, client, sign_in_verified, world, books, imported
    ):
        charges = line(imported, CHARGES)
        fee = books.post(books.elsewhere, books.cash, 1_000, date(2026, 10, 1), "Bank charges, part")
        fee2 = books.post(books.elsewhere, books.cash, 250, date(2026, 10, 1), "Bank charges, rest")
        signed_in(client, sign_in_verified, world, "finance")
        address = url("web:reconciliation-line-match", charges.public_id)
        assert not client.get(address).context["choices"]

        wrong = client.post(address, {"transaction_ids": fee.public_id})
        assert wrong.status_code == 200
        assert (
            '<a href="#id_transaction_ids">The transactions add up to -£10.00, but the line is -£12.50: a '
            "match must add up exactly.</a>" in wrong.content.decode()
        )
        typo = client.post(address, {"transaction_ids": "txn_nothing\npay_x"})
        assert "is not a ledger transaction id" in text(typo)
        nothing = client.post(address, {"transaction_ids": " "})
        assert "Choose at least one ledger transaction, or enter its txn_ id" in text(nothing)
        assert line(imported, CHARGES).state == LineState.UNMATCHED

        response = client.post(address, {"transaction_ids": f"{fee.public_id}\n{fee2.public_id}\n"})
        assert response.status_code == 302
        assert line(imported, CHARGES).state == LineState.MATCHED

    def test_a_transaction_matched_elsewhere_is_a_conflict(
        self, client, sign_in_verified, world, books, imported
    ):
        signed_in(client, sign_in_verified, world, "finance")
        refund = line(imported, REFUND)
        response = client.post(
            url("web:reconciliation-line-match", refund.public_id), {"transaction_ids": books.asc.public_id}
        )
        assert response.status_code == 200 and "There is a problem" in text(response)
        assert line(imported, REFUND).state == LineState.UNMATCHED

    def test_unmatched_with_a_reason_after_a_confirmation_undoing_the_settlement(
        self, client, sign_in_verified, world, books, imported
    ):
        contra = line(imported, CONTRA)
        assert account_balance(account=books.transit).posted_minor == -31_875 + 31_875  # both Bacs settled
        signed_in(client, sign_in_verified, world, "finance")
        address = url("web:reconciliation-line-unmatch", contra.public_id)
        page = text(client.get(address))
        assert "Are you sure you want to unmatch this line?" in page
        assert "This match moved -£1,240.50 of payments from money on its way to the bank account." in page
        assert line(imported, CONTRA).state == LineState.MATCHED

        no_reason = client.post(address, {"note": " "})
        assert '<a href="#id_note">Say why you are unmatching this line</a>' in no_reason.content.decode()
        assert line(imported, CONTRA).state == LineState.MATCHED

        response = client.post(address, {"note": "The bank paid this file in two lines."})

        assert response["Location"] == url("web:reconciliation-line", contra.public_id)
        assert line(imported, CONTRA).state == LineState.UNMATCHED
        match = ReconciliationMatch.objects.get(line=contra)
        assert match.status == MatchStatus.UNMATCHED and match.unsettlement is not None
        assert account_balance(account=books.transit).posted_minor == 124_050
        page = text(client.get(response["Location"]))
        assert (
            "You unmatched the line of 3 November 2026, -£1,240.50: it is listed as unmatched again." in page
            and "The bank paid this file in two lines." in page
        )
        assert "moved back by txn_" in page
        assert "Not matched" in page and "Match this line by hand" in page
        again = client.get(address)
        assert "This line is not matched, so there is nothing to undo." in text(again)


class TestTheReport:
    def test_the_numbers_explain_the_difference(self, client, sign_in_verified, world, books, imported):
        signed_in(client, sign_in_verified, world, "finance")
        response = client.get(report_url(books))
        report = response.context["report"]
        assert report.bank_balance_minor == 1_296_332
        # The ledger: the receipts, the Bacs money settled from transit, and nothing else on the cash account.
        ledger = 485_000 + 61_240 - 124_050 - 31_875 + 15_000 + 15_000 + 2_500
        assert report.ledger_balance_minor == ledger
        assert report.start_difference_minor == 1_000_000
        assert report.unmatched_lines_minor == 15_000 - 110_233 - 1_250 + 2_500
        assert report.unmatched_items_minor == 15_000 + 15_000 + 2_500
        assert report.unexplained_minor == 0
        assert (report.matched_count, report.suggested_count, report.unmatched_count) == (4, 1, 3)
        page = text(response)
        assert page.startswith(
            "Reconciliation of Council bank account (GBP), 1 November 2026 to 19 November 2026"
        )
        assert "Bank (the statements) £10,000.00 £12,963.32" in page
        assert f"Difference (bank less ledger) £10,000.00 {money(1_296_332 - ledger)}" in page
        assert "Difference when reconciliation started" in page and "Unexplained Must be nothing" in page
        assert "Bank lines not matched" in page and "HMRC PAYE" in page
        assert (
            f'href="{url("web:reconciliation-line", line(imported, HMRC).public_id)}"'
            in response.content.decode()
        )
        assert "1 suggested match is waiting: confirm or reject each first." in page
        assert "See the 1 suggestion waiting to be checked" in page

    def test_last_month_by_default_and_dates_chosen(self, client, sign_in_verified, world, books):
        signed_in(client, sign_in_verified, world, "finance")
        base = url("web:reconciliation-report", books.bank.public_id)
        default = client.get(base)
        assert (default.context["start"], default.context["end"]) == (date(2026, 10, 1), date(2026, 10, 31))
        chosen = client.get(
            base,
            {
                "from_day": "1",
                "from_month": "11",
                "from_year": "2026",
                "to_day": "5",
                "to_month": "11",
                "to_year": "2026",
            },
        )
        assert (chosen.context["start"], chosen.context["end"]) == (date(2026, 11, 1), date(2026, 11, 5))
        wrong = client.get(
            base,
            {
                "from_day": "5",
                "from_month": "11",
                "from_year": "2026",
                "to_day": "1",
                "to_month": "11",
                "to_year": "2026",
            },
        )
        assert "The end date must be on or after the start date, 5 November 2026" in text(wrong)
        assert "report" not in wrong.context or wrong.context.get("report") is None

    def test_the_csv_has_the_figures_then_the_lists(self, client, sign_in_verified, world, books, imported):
        signed_in(client, sign_in_verified, world, "finance")
        response = client.get(report_url(books, "web:reconciliation-report-csv"))
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert (
            response["Content-Disposition"]
            == 'attachment; filename="reconciliation-bank-gbp-2026-11-01-2026-11-19.csv"'
        )
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        figures = {row[0]: row[1] for row in rows if len(row) == 2}
        assert figures["bank_balance"] == "12963.32"
        assert figures["start_difference"] == "10000.00"
        assert figures["unmatched_bank_lines"] == "-939.83"
        assert figures["unexplained"] == "0.00"
        assert figures["suggested_lines"] == "1"
        start = rows.index(["Bank lines not matched"])
        assert rows[start + 1] == ["date", "amount", "reference", "description", "id"]
        assert rows[start + 2][:4] == [
            "2026-11-04",
            "150.00",
            "po_1QxT8mL2eZvKYlo2C0a1b2c3",
            "STRIPE PAYMENTS UK LTD",
        ]
        assert rows[start + 3][:2] == ["2026-11-05", "-1102.33"]
        ledger_rows = rows[rows.index(["Ledger transactions not matched"]) + 2 :]
        assert [row[4] for row in ledger_rows[:3]] == [
            books.payout_far.public_id,
            books.payout_near.public_id,
            books.refund.public_id,
        ]

    def test_the_pdf_is_a_pdf(self, client, sign_in_verified, world, books, imported):
        signed_in(client, sign_in_verified, world, "finance")
        response = client.get(report_url(books, "web:reconciliation-report-pdf"))
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert "reconciliation-bank-gbp-2026-11-01-2026-11-19.pdf" in response["Content-Disposition"]
        reader = PdfReader(io.BytesIO(response.content))
        catalog = reader.trailer["/Root"]
        assert catalog["/MarkInfo"]["/Marked"] == BooleanObject(True) and catalog["/Lang"] == "en-GB"
        title = "Reconciliation of Council bank account (GBP), 1 November 2026 to 19 November 2026"
        assert reader.metadata.title == title
        words = "".join("".join(page.extract_text() for page in reader.pages).split())
        for expected in ("£12,963.32", "Howthedifferenceisexplained", "HMRCPAYE", books.refund.public_id):
            assert expected in words

    def test_the_pages_do_not_grow_with_the_lines(self, client, sign_in_verified, world, books, imported):
        signed_in(client, sign_in_verified, world, "finance")

        def count(address: str) -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(address).status_code == 200
            return len(queries)

        small = count(url("web:reconciliation-import", imported.public_id)), count(report_url(books))
        bigger = books.many(40)
        assert bigger.lines_new == 40 and bigger.lines.filter(state=LineState.MATCHED).count() == 40
        assert count(url("web:reconciliation-import", bigger.public_id)) <= small[0]
        assert count(report_url(books)) == small[1]


def money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}£{abs(minor) // 100:,}.{abs(minor) % 100:02d}"


class TestMarkingReconciled:
    def reconcilable(self, world, imported) -> None:
        """Confirm the one suggestion; the lines and transactions left unmatched are explained."""
        suggestion = ReconciliationMatch.objects.get(
            line=line(imported, PAYOUT), status=MatchStatus.SUGGESTED
        )
        reconciliation_services.match_confirm(match=suggestion, by=world.users["finance"])

    def test_a_suggestion_waiting_is_shown_plainly_and_refused(
        self, client, sign_in_verified, world, books, imported
    ):
        signed_in(client, sign_in_verified, world, "finance")
        address = report_url(books, "web:reconciliation-reconcile")
        page = text(client.get(address))
        assert "Purse will not mark this period reconciled yet: 1 suggested match is waiting" in page
        response = client.post(address, {"note": ""})
        assert response.status_code == 200
        assert "There is a problem" in text(response)
        assert "1 suggested match is waiting: confirm or reject each first." in text(response)
        assert not ReconciledPeriod.objects.exists()

    def test_marked_reconciled_then_the_ledger_closed_when_every_account_is(
        self, client, sign_in_verified, world, books, imported
    ):
        self.reconcilable(world, imported)
        signed_in(client, sign_in_verified, world, "finance")
        address = report_url(books, "web:reconciliation-reconcile")
        page = text(client.get(address))
        assert (
            "Are you sure you want to mark Council bank account (GBP) reconciled for 1 November 2026 to "
            "19 November 2026?" in page
        )
        assert (
            "When every account is reconciled through 19 November 2026, the ledger is closed through that day"
            in page
        )
        assert "Stripe balance (GBP): not yet reconciled through 19 November 2026" in page

        response = client.post(address, {"note": "HMRC and the charges are posted next month."})

        assert response["Location"] == report_url(books)
        period = ReconciledPeriod.objects.get()
        assert (period.account, period.period_end, period.note) == (
            books.bank,
            date(2026, 11, 19),
            "HMRC and the charges are posted next month.",
        )
        assert not PeriodClose.objects.exists()  # Stripe's is not reconciled yet
        report = text(client.get(response["Location"]))
        assert (
            "You marked Council bank account (GBP) reconciled for 1 November 2026 to 19 November 2026."
            in report
        )
        assert (
            "Reconciled Council bank account (GBP) was marked reconciled through 19 November 2026" in report
        )
        assert "Mark reconciled" not in report.replace("Mark the period", "")

        ledger_reconciliation.statement_import(
            account=books.stripe,
            content=fixture("stripe_balance_transactions.csv"),
            by="finance",
            file_name="s.csv",
        )
        stripe = (
            url("web:reconciliation-reconcile", books.stripe.public_id) + "?from=2026-11-01&to=2026-11-19"
        )
        response = client.post(stripe, {"note": ""})
        assert response.status_code == 302
        assert PeriodClose.objects.get().closed_through == date(2026, 11, 19)
        done = text(client.get(response["Location"]))
        assert "so the ledger is closed through 19 November 2026" in done
        assert AuditEvent.objects.filter(action="reconciliation.period_reconciled").count() == 2

    def test_an_unexplained_difference_is_shown_plainly(
        self, client, sign_in_verified, world, books, imported, monkeypatch
    ):
        self.reconcilable(world, imported)
        from ledger.reconciliation.selectors import ReconciliationReport

        monkeypatch.setattr(ReconciliationReport, "unexplained_minor", property(lambda self: 1_234))
        signed_in(client, sign_in_verified, world, "finance")
        page = text(client.get(report_url(books)))
        assert (
            "The bank and the ledger differ by £12.34 that the unmatched lines and transactions do not "
            "explain" in page
        )
        response = client.post(report_url(books, "web:reconciliation-reconcile"), {"note": ""})
        assert "There is a problem" in text(response) and "differ by £12.34" in text(response)
        assert not ReconciledPeriod.objects.exists()

    def test_a_period_not_ended_is_refused(self, client, sign_in_verified, world, books, imported):
        self.reconcilable(world, imported)
        signed_in(client, sign_in_verified, world, "finance")
        address = report_url(
            books, "web:reconciliation-reconcile", {"from": "2026-11-01", "to": "2026-11-30"}
        )
        assert "The period has not ended yet" in text(client.get(address))
        response = client.post(address, {"note": ""})
        assert "A period can be reconciled only once it has ended." in text(response)
        assert not ReconciledPeriod.objects.exists()


class TestAccountLines:
    def test_the_lines_of_a_period_by_state(self, client, sign_in_verified, world, books, imported):
        signed_in(client, sign_in_verified, world, "finance")
        address = report_url(books, "web:reconciliation-account-lines")
        response = client.get(address + "&state=suggested")
        assert [row.line.line_number for row in response.context["rows"]] == [PAYOUT]
        assert "All lines (8) Matched (4) Suggested (1) Unmatched (3)" in text(response)
