"""ISO 20022 camt.053 statements, read with defusedxml."""

import time
from datetime import date
from pathlib import Path

import pytest

from ledger.reconciliation.statement_files import StatementFileInvalid, StatementLineIn, statement_file_parse

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str, **kwargs):
    return statement_file_parse(fixture(name), format="camt053", **kwargs)


def refusal(content: bytes, **kwargs) -> StatementFileInvalid:
    with pytest.raises(StatementFileInvalid) as caught:
        statement_file_parse(content, format="camt053", **kwargs)
    return caught.value


class TestVersion02:
    def test_reads_the_statement(self):
        statement = parse("camt053_v02_good.xml")
        assert statement.format == "camt053"
        assert statement.account_identifier == "GB47BARC20000012345678"
        assert statement.currency == "GBP"
        assert statement.opening_balance_minor == 1_000_000
        assert statement.closing_balance_minor == 1_352_600
        assert statement.period_start == date(2026, 11, 2)
        assert statement.period_end == date(2026, 11, 6)
        assert [line.line_number for line in statement.lines] == [1, 2, 3, 4, 5, 6, 7]
        assert [line.amount_minor for line in statement.lines] == [
            485000,
            -124050,
            -9600,
            -9600,
            9600,
            -1250,
            2500,
        ]

    def test_reads_an_entry_field_by_field(self):
        assert parse("camt053_v02_good.xml").lines[0] == StatementLineIn(
            line_number=1,
            booked_on=date(2026, 11, 2),
            amount_minor=485_000,
            # The EndToEndId is the Ustrd here, so it is not repeated.
            reference="DEMO-ASC-2026-11",
            description="NORFOLK COUNTY COUNCIL",
            bank_id="2026110200001",
            kind="credit",
            value_on=date(2026, 11, 2),
        )

    def test_a_batch_is_one_line_with_every_reference(self):
        batch = parse("camt053_v02_good.xml").lines[1]
        assert batch.amount_minor == -124_050
        assert batch.kind == "debit"
        assert batch.reference == "PAY-K7G57JMJTNSUJE; PAY-R3M8ZQ2WXKD4TA; PAY-T9V2LB6NHC3E8Q"
        assert (
            batch.description == "BRIGHT CARE LTD; A HELPING HAND; OAKWOOD HOMECARE; BACS BATCH bacs_7h2k9m4q"
        )
        assert batch.bank_id == "2026110300007"
        # BookgDt/DtTm: the date of the date-time.
        assert batch.booked_on == date(2026, 11, 3)

    def test_duplicates_and_the_reversal(self):
        lines = parse("camt053_v02_good.xml").lines
        assert lines[2].reference == lines[3].reference == "PAY-W4XJ7D2K9PLM3R"
        assert lines[2].amount_minor == lines[3].amount_minor == -9600
        reversal = lines[4]
        assert reversal.amount_minor == 9600
        assert reversal.kind == "credit"
        assert reversal.reference == "RETURN PAY-W4XJ7D2K9PLM3R"
        assert reversal.description == "ANNA PA SERVICES; BACS RETURN ARUCS"

    def test_entries_without_details_or_with_an_unknown_reference(self):
        lines = parse("camt053_v02_good.xml").lines
        assert (lines[5].reference, lines[5].description, lines[5].bank_id) == (
            "",
            "SERVICE CHARGES OCT",
            "2026110600001",
        )
        # No AcctSvcrRef: the NtryRef is the bank's id.
        assert (lines[6].reference, lines[6].description, lines[6].bank_id) == (
            "GIFT FOR MUM",
            "J SMITH",
            "2026110600009",
        )


class TestLaterVersions:
    def test_two_days_in_one_file_follow_on(self):
        statement = parse("camt053_v08_two_days.xml")
        assert statement.account_identifier == "20000087654321"
        # PRCD, debit: overdrawn by 250.00 before the first day.
        assert statement.opening_balance_minor == -25_000
        assert statement.closing_balance_minor == 152_117
        assert statement.period_start == date(2026, 11, 9)
        assert statement.period_end == date(2026, 11, 10)
        payout, payment = statement.lines
        assert payout.line_number == 1
        assert payout.amount_minor == 208_742
        assert payout.reference == "STRIPE; po_1QyA2bL2eZvKYlo2Xk9d8e7f"
        assert payout.description == "STRIPE PAYMENTS UK LTD"
        assert payment.line_number == 2
        assert payment.amount_minor == -31_625
        assert payment.reference == "INV-2026-0412; PAY-M2C8QK4TZR7VXA"
        assert payment.description == "SUNRISE DAY CENTRE; FASTER PAYMENT"
        assert payment.bank_id == "26111000031"

    @pytest.mark.parametrize("version", ["04", "10", "13"])
    def test_reads_other_version_namespaces(self, version):
        content = fixture("camt053_v08_two_days.xml").replace(
            b"camt.053.001.08", f"camt.053.001.{version}".encode()
        )
        assert len(statement_file_parse(content, format="camt053").lines) == 2

    def test_statements_that_do_not_follow_on(self):
        content = (
            fixture("camt053_v08_two_days.xml")
            .replace(
                b'<Amt Ccy="GBP">1837.42</Amt>\n        <CdtDbtInd>CRDT</CdtDbtInd>\n        <Dt><Dt>2026-11-10',  # noqa: E501
                b'<Amt Ccy="GBP">1847.42</Amt>\n        <CdtDbtInd>CRDT</CdtDbtInd>\n        <Dt><Dt>2026-11-10',  # noqa: E501
            )
            .replace(b'<Amt Ccy="GBP">1521.17</Amt>', b'<Amt Ccy="GBP">1531.17</Amt>')
        )
        assert refusal(content).message == (
            "Statement 2 opens at 1,847.42, but the statement before it closed at 1,837.42."
        )

    def test_a_wrong_closing_balance_in_a_later_statement(self):
        content = fixture("camt053_v08_two_days.xml").replace(
            b'<Amt Ccy="GBP">1521.17</Amt>', b'<Amt Ccy="GBP">1531.17</Amt>'
        )
        assert refusal(content).message == (
            "In statement 2: the closing balance 1,531.17 is not the opening balance 1,837.42 plus its "
            "entries (-316.25), which make 1,521.17: a difference of 10.00."
        )

    def test_statements_of_two_accounts(self):
        content = fixture("camt053_v08_two_days.xml").replace(
            b"<Id><Othr><Id>20-00-00 87654321</Id></Othr></Id>",
            b"<Id><Othr><Id>20-00-00 11112222</Id></Othr></Id>",
        )
        assert "more than one account" in refusal(content).message


class TestRefusals:
    def test_a_wrong_closing_balance_says_by_how_much(self):
        error = refusal(fixture("camt053_wrong_closing.xml"))
        assert error.problems[0]["line"] is None
        assert error.message == (
            "The closing balance 13,562.00 is not the opening balance 10,000.00 plus its entries (3,526.00), "
            "which make 13,526.00: a difference of 36.00."
        )

    def test_bad_entries_are_named_by_entry_number(self):
        error = refusal(fixture("camt053_bad_entries.xml"))
        assert [(p["line"], p["reason"]) for p in error.problems] == [
            (1, "The amount '4850.001' has more decimals than GBP allows (2 decimals)."),
            (3, "The credit or debit mark 'DEBIT' is not CRDT or DBIT."),
            (6, "The entry has no booking date (BookgDt)."),
        ]
        assert (
            error.message == "Entry 1: the amount '4850.001' has more decimals than GBP allows (2 decimals)."
        )

    def test_a_truncated_file_names_its_last_line(self):
        error = refusal(fixture("camt053_truncated.xml"))
        assert error.problems[0]["line"] == 71
        assert (
            error.message
            == "Line 71: the file ends before its XML does: it may be cut short. Download it again."
        )

    def test_xml_that_is_not_well_formed(self):
        content = fixture("camt053_v02_good.xml").replace(b"<NtryRef>3</NtryRef>", b"<NtryRef>3</NtryReff>")
        error = refusal(content)
        assert error.problems[0]["line"] == 86
        assert "not well-formed XML: mismatched tag" in error.message

    def test_a_file_of_another_currency(self):
        assert refusal(fixture("camt053_other_currency.xml")).message == (
            "This statement is in EUR, but the account is in GBP."
        )
        assert parse("camt053_other_currency.xml", currency="EUR").closing_balance_minor == 1_352_600

    def test_an_entry_of_another_currency(self):
        content = fixture("camt053_v02_good.xml").replace(
            b'<Amt Ccy="GBP">12.50</Amt>', b'<Amt Ccy="EUR">12.50</Amt>'
        )
        assert refusal(content).message == "Entry 6: the entry is in EUR, but the statement is in GBP."

    def test_a_pending_entry(self):
        content = fixture("camt053_v02_good.xml").replace(b"<Sts>BOOK</Sts>", b"<Sts>PDNG</Sts>", 1)
        assert refusal(content).message.startswith("Entry 1: the entry is not booked (its status is PDNG)")

    def test_a_summary_that_counts_other_entries(self):
        content = fixture("camt053_v02_good.xml").replace(b"<NbOfNtries>7<", b"<NbOfNtries>8<")
        assert refusal(content).message == "The summary of the statement counts 8 entries, but it has 7."

    def test_billion_laughs_is_refused_without_expanding_anything(self):
        started = time.perf_counter()
        error = refusal(fixture("camt053_billion_laughs.xml"))
        assert "declares a DTD or entities" in error.message
        assert time.perf_counter() - started < 1

    def test_external_entities_are_refused(self):
        content = (
            b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>'
            b"<Id>&secret;</Id></Stmt></BkToCstmrStmt></Document>"
        )
        assert "declares a DTD or entities" in refusal(content).message

    def test_another_camt_message(self):
        error = refusal(fixture("camt052_report.xml"))
        assert error.message.startswith("This is a camt.052 file (an intraday account report)")
        # Detection leaves the reader to say so.
        with pytest.raises(StatementFileInvalid, match=r"camt\.052"):
            statement_file_parse(fixture("camt052_report.xml"))

    def test_xml_of_another_kind(self):
        content = (
            b'<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl"><ID>1</ID></Invoice>'
        )
        assert "not an ISO 20022 camt.053 Document" in refusal(content).message

    def test_camt_053_001_01(self):
        content = fixture("camt053_v02_good.xml").replace(b"camt.053.001.02", b"camt.053.001.01")
        assert "camt.053.001.01" in refusal(content).message

    def test_a_document_without_a_statement(self):
        content = (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/></Document>'
        )
        assert refusal(content).message == "This camt.053 file has no statement (no Stmt element)."

    def test_an_unreadable_balance(self):
        content = fixture("camt053_v02_good.xml").replace(
            b'<Amt Ccy="GBP">10000.00</Amt>', b'<Amt Ccy="GBP">ten</Amt>'
        )
        assert refusal(content).message == "In the statement: the OPBD balance amount 'ten' is not a number."


class TestOrder:
    def test_balances_written_after_the_entries_are_still_checked(self):
        content = fixture("camt053_v08_two_days.xml")
        start = content.index(b"      <Bal>")
        end = content.index(b"      <Ntry>")
        balances = content[start:end]
        moved = content[:start] + content[end:].replace(b"    </Stmt>", balances + b"    </Stmt>", 1)
        statement = statement_file_parse(moved, format="camt053")
        assert statement.opening_balance_minor == -25_000
        wrong = moved.replace(b'<Amt Ccy="GBP">1837.42</Amt>', b'<Amt Ccy="GBP">1837.43</Amt>', 1)
        assert "a difference of 0.01" in refusal(wrong).message
