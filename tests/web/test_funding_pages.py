"""The funding received pages (web/views/funding.py): late instalments by stream and listed, recording an
agency's payment through "Check and confirm", the payments recorded. Who sees each (every role), the error
summary (nothing recorded), the confirmation step, paging with ticks kept, and query counts.

"Today" is 20 November 2026 (tests/invoicing/world.py): Alex's nine ASC instalments of £1,000.00 fell due
from 1 April to 11 November, none received yet.
"""

import html as html_text
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets.models import FundingStream, Instalment, InstalmentStatus
from ledger.models import Account, Transaction
from ledger.selectors import account_balance
from payments.models import FundingReceipt
from payments.services.funding import funding_receipt_record
from tests.web.roles import sign_in_role

pytestmark = pytest.mark.django_db

LATE = reverse("web:funding")
RECEIPTS = reverse("web:funding-receipts")
RECORD_ASC = reverse("web:funding-record", args=["ASC"])
NO_ONE_ELSE = (
    "holder",
    "other_holder",
    "rep_approve",
    "rep_view",
    "navigator",
    "other_navigator",
    "provider_engaged",
)


def signed_in(client, sign_in_verified, world, role: str):
    sign_in_role(client, sign_in_verified, world.users[role], role)
    return client


def text(response) -> str:
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def due(code: str) -> list[Instalment]:
    return list(
        Instalment.objects.filter(personal_budget__stream__code=code, status=InstalmentStatus.DUE).order_by(
            "due_on", "pk"
        )
    )


def form(chosen: list[Instalment], **fields) -> dict:
    return {
        "instalments": [instalment.public_id for instalment in chosen],
        "reference": "ASC-BACS-77",
        "received_on_day": "18",
        "received_on_month": "11",
        "received_on_year": "2026",
        "amount": "2,000.00",
        **fields,
    }


def state() -> tuple:
    cash = Account.objects.filter(key="payments:cash:bank:GBP").first()
    return (
        FundingReceipt.objects.count(),
        Transaction.objects.count(),
        Instalment.objects.filter(status=InstalmentStatus.RECEIVED).count(),
        0 if cash is None else account_balance(account=cash).posted_minor,
    )


def receipt_for(code: str, chosen: list[Instalment], reference: str):
    return funding_receipt_record(
        stream=FundingStream.objects.get(code=code),
        instalments=[instalment.public_id for instalment in chosen],
        reference=reference,
        received_on=date(2026, 11, 2),
        by=None,
    ).receipt


class TestWhoSees:
    @pytest.mark.parametrize("role", ["finance", "admin"])
    def test_finance_and_administrators_see_and_record(self, client, sign_in_verified, world, role):
        receipt = receipt_for("ILF", due("ILF")[:1], "I-1")
        signed_in(client, sign_in_verified, world, role)
        for url in (LATE, RECEIPTS, RECORD_ASC, reverse("web:funding-receipt", args=[receipt.public_id])):
            assert client.get(url).status_code == 200, url
        assert "Record a payment" in text(client.get(LATE))

    def test_an_officer_sees_their_own_streams_read_only(self, client, sign_in_verified, world):
        asc = receipt_for("ASC", due("ASC")[:1], "A-1")
        ilf = receipt_for("ILF", due("ILF")[:1], "I-1")
        signed_in(client, sign_in_verified, world, "officer_asc")

        late = client.get(LATE)
        page = text(late)
        assert late.status_code == 200
        assert "Adult Social Care (ASC)" in page and "Independent Living Fund" not in page
        assert "Access to Work" not in page
        assert "Record a payment" not in page
        assert "Finance records the payments when they arrive." in page
        receipts = text(client.get(RECEIPTS))
        assert "A-1" in receipts and "I-1" not in receipts
        assert client.get(reverse("web:funding-receipt", args=[asc.public_id])).status_code == 200
        assert client.get(reverse("web:funding-receipt", args=[ilf.public_id])).status_code == 404
        assert client.get(RECORD_ASC).status_code == 404
        before = state()
        assert client.post(RECORD_ASC, form(due("ASC")[:2], confirm="yes")).status_code == 404
        assert state() == before

    def test_an_officer_filtering_by_another_agencys_stream_gets_an_error(
        self, client, sign_in_verified, world
    ):
        signed_in(client, sign_in_verified, world, "officer_asc")
        response = client.get(LATE, {"stream": "ATW"})
        assert "Choose one of the funding streams in the list" in text(response)
        assert "Access to Work" not in text(response)

    @pytest.mark.parametrize("role", NO_ONE_ELSE)
    def test_anyone_else_gets_not_found(self, client, sign_in_verified, world, role):
        receipt = receipt_for("ASC", due("ASC")[:1], "A-1")
        signed_in(client, sign_in_verified, world, role)
        for url in (LATE, RECEIPTS, RECORD_ASC, reverse("web:funding-receipt", args=[receipt.public_id])):
            assert client.get(url).status_code == 404, url
        before = state()
        assert client.post(RECORD_ASC, form(due("ASC")[:2], confirm="yes")).status_code == 404
        assert state() == before

    def test_anonymous_is_sent_to_sign_in(self, client, world):
        for url in (LATE, RECEIPTS, RECORD_ASC):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/sign-in/")

    def test_unknown_stream_and_receipt_are_not_found(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "finance")
        assert client.get(reverse("web:funding-record", args=["NOPE"])).status_code == 404
        assert client.get(reverse("web:funding-receipt", args=["rcv_nothing"])).status_code == 404

    def test_the_navigation_leads_there_for_finance_only(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "finance")
        html = client.get(reverse("web:home")).content.decode()
        assert f'href="{LATE}"' in html and "Funding received" in html


class TestLateInstalments:
    def test_the_totals_by_stream_and_the_list(self, client, sign_in_verified, world):
        receipt_for("ASC", due("ASC")[:8], "A-1")
        signed_in(client, sign_in_verified, world, "finance")

        page = text(client.get(LATE))

        assert "Adult Social Care (ASC) 1 £1,000.00 11 November 2026" in page
        assert "Independent Living Fund (ILF) 9 £3,348.00 1 April 2026" in page
        assert "Disabled Facilities Grant (DFG) 1 £2,695.00 1 April 2026" in page
        assert "19 late instalments, oldest first" in page

    def test_one_stream(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "finance")
        page = text(client.get(LATE, {"stream": "ASC"}))
        assert "9 late instalments, oldest first" in page
        assert "11 November 2026 9 11 November 2026 to 8 December 2026 £1,000.00" in page

    def test_paged_keeping_the_stream(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "finance")
        first = client.get(LATE).content.decode()
        assert "27 late instalments (page 1 of 2)" in text(client.get(LATE))
        assert 'href="?page=2"' in first
        assert 'href="?stream=ILF&amp;page=2"' not in client.get(LATE, {"stream": "ILF"}).content.decode()

    def test_queries_do_not_grow_with_the_data(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "finance")
        client.get(LATE)

        def count(url: str) -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            return len(queries)

        late, receipts = count(LATE), count(RECEIPTS)
        for n, instalment in enumerate(due("ASC")[:5]):
            receipt_for("ASC", [instalment], f"Q-{n}")
        assert count(LATE) == late
        assert count(RECEIPTS) <= receipts + 1  # an empty list skips the page's query


class TestRecording:
    def test_check_and_confirm_then_the_receipt(self, client, sign_in_verified, world):
        chosen = due("ASC")[-2:]
        signed_in(client, sign_in_verified, world, "finance")
        before = state()

        check = client.post(RECORD_ASC, form(chosen))

        assert check.status_code == 200
        page = text(check)
        assert "Check and confirm the payment from Adult Social Care" in page
        assert (
            "Agency's reference ASC-BACS-77 Money arrived 18 November 2026 Amount £2,000.00 Instalments 2"
            in page
        )
        assert (
            "£2,000.00 moves from what Adult Social Care owes to the bank account, on 18 November 2026."
            in page
        )
        assert "People's funds do not change" in page
        assert state() == before  # nothing yet

        done = client.post(RECORD_ASC, {**form(chosen), "confirm": "yes"})

        receipt = FundingReceipt.objects.get()
        assert done.status_code == 302
        assert done["Location"] == reverse("web:funding-receipt", args=[receipt.public_id])
        assert (receipt.reference, receipt.amount_minor, receipt.received_on) == (
            "ASC-BACS-77",
            200000,
            date(2026, 11, 18),
        )
        assert receipt.recorded_by == world.users["finance"]
        assert state()[3] == before[3] + 200000
        panel = client.get(done["Location"])
        assert "govuk-panel--confirmation" in panel.content.decode()
        assert "Payment recorded £2,000.00 from Adult Social Care Reference ASC-BACS-77" in text(panel)
        # The panel is shown once: the page afterwards is the receipt's own.
        again = client.get(done["Location"])
        assert "govuk-panel" not in again.content.decode()
        assert "Payment ASC-BACS-77 from Adult Social Care" in text(again)

    def test_change_goes_back_to_the_form_as_typed(self, client, sign_in_verified, world):
        chosen = due("ASC")[-2:]
        signed_in(client, sign_in_verified, world, "finance")
        response = client.post(RECORD_ASC, {**form(chosen), "change": "yes"})
        html = response.content.decode()
        assert "Record a payment from Adult Social Care" in text(response)
        assert 'value="ASC-BACS-77"' in html and "There is a problem" not in html
        for instalment in chosen:
            assert re.search(rf'value="{instalment.public_id}"[^>]*checked', html)
        assert not FundingReceipt.objects.exists()

    @pytest.mark.parametrize(
        "fields, field_id, message",
        [
            ({"instalments": []}, "id_instalments", "Choose at least one instalment the agency paid"),
            ({"reference": ""}, "id_reference", "Enter the agency's payment reference"),
            ({"received_on_day": ""}, "id_received_on_day", "The day the money arrived must include a day"),
            (
                {"received_on_month": "13"},
                "id_received_on_day",
                "The day the money arrived must be a real date",
            ),
            (
                {"received_on_day": "", "received_on_month": "", "received_on_year": ""},
                "id_received_on_day",
                "Enter the day the money arrived",
            ),
            ({"amount": ""}, "id_amount", "Enter the amount on the bank statement"),
            ({"amount": "2000.5"}, "id_amount", "Enter the amount in pounds and pence, like 2000.00"),
            ({"amount": "1999.99"}, "id_amount", "The instalments chosen come to 2000.00, not 1999.99."),
            (
                {"received_on_day": "21"},
                "id_received_on_day",
                "The day the money arrived cannot be after today, 20 November 2026.",
            ),
        ],
    )
    def test_each_problem_in_the_error_summary_linking_to_its_field(
        self, client, sign_in_verified, world, fields, field_id, message
    ):
        signed_in(client, sign_in_verified, world, "finance")
        before = state()
        for extra in ({}, {"confirm": "yes"}):
            response = client.post(RECORD_ASC, {**form(due("ASC")[-2:]), **fields, **extra})
            html = response.content.decode()
            assert response.status_code == 200
            assert (
                "There is a problem" in html and f'href="#{field_id}">{html_text.escape(message)}</a>' in html
            )
            assert f'id="{field_id}"' in html
            assert response.content.decode().count('class="govuk-error-summary"') == 1
            assert "<title>Error: " in html
        assert state() == before

    def test_an_instalment_received_meanwhile(self, client, sign_in_verified, world):
        chosen = due("ASC")[-2:]
        signed_in(client, sign_in_verified, world, "admin")
        assert "Check and confirm" in text(client.post(RECORD_ASC, form(chosen)))
        receipt_for("ASC", chosen[1:], "SOMEONE-ELSE")  # another finance officer, between check and confirm
        before = state()

        response = client.post(RECORD_ASC, {**form(chosen), "confirm": "yes"})

        assert f"{chosen[1].public_id} was already received on 2 November 2026." in text(response)
        assert 'href="#id_instalments"' in response.content.decode()
        assert state() == before

    def test_the_same_reference_for_another_payment(self, client, sign_in_verified, world):
        receipt_for("ASC", due("ASC")[:1], "ASC-BACS-77")
        signed_in(client, sign_in_verified, world, "finance")
        response = client.post(RECORD_ASC, form(due("ASC")[-2:]))
        page = text(response)
        assert "There is a problem" in page and "Reference ASC-BACS-77 was already recorded for ASC" in page
        assert 'href="#id_reference"' in response.content.decode()

    def test_ticks_are_kept_between_pages_of_instalments(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "finance")
        many = due("ATW") + due("ILF")  # other streams: the page lists ASC's only
        assert len(many) == 17
        # 9 ASC instalments, one page of 25: one page; make the page smaller to see the paging.
        from web.views import funding

        original = funding.RECORD_PAGE_SIZE
        funding.RECORD_PAGE_SIZE = 4
        try:
            asc = due("ASC")
            first = client.get(RECORD_ASC)
            assert "page 1 of 3 (9 instalments)" in text(first)
            moved = client.post(RECORD_ASC, {**form(asc[:2], amount=""), "show_page": "2"})
            html = moved.content.decode()
            assert "page 2 of 3" in text(moved) and "There is a problem" not in html
            assert "You have also ticked 2 instalments on other pages." in text(moved)
            for instalment in asc[:2]:
                assert f'<input type="hidden" name="instalments" value="{instalment.public_id}">' in html
            assert 'value="ASC-BACS-77"' in html
            check = client.post(RECORD_ASC, form([*asc[:2], asc[5]], amount="3000.00"))
            assert "Amount £3,000.00 Instalments 3" in text(check)
        finally:
            funding.RECORD_PAGE_SIZE = original

    def test_a_stream_with_nothing_due(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "finance")
        response = client.get(reverse("web:funding-record", args=["SP"]))
        assert "No instalment of Supporting People is due and waiting for the agency's payment." in text(
            response
        )
        assert 'name="instalments"' not in response.content.decode()


class TestReceipts:
    def test_listed_latest_received_first(self, client, sign_in_verified, world):
        receipt_for("ASC", due("ASC")[:2], "A-1")
        receipt_for("ILF", due("ILF")[:1], "I-1")
        signed_in(client, sign_in_verified, world, "finance")
        page = text(client.get(RECEIPTS))
        assert "2 payments" in page
        assert "A-1 ASC 2 November 2026 2 £2,000.00" in page
        assert "I-1 ILF 2 November 2026 1 £372.00" in page

    def test_a_receipt_lists_its_instalments(self, client, sign_in_verified, world):
        chosen = due("ASC")[:2]
        receipt = receipt_for("ASC", chosen, "A-1")
        signed_in(client, sign_in_verified, world, "finance")
        page = text(client.get(reverse("web:funding-receipt", args=[receipt.public_id])))
        assert "2 instalments" in page
        for instalment in chosen:
            assert instalment.public_id in page
        assert receipt.ledger_transaction in page
