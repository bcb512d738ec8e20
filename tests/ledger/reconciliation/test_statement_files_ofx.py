"""OFX 1.x (SGML) and 2.x (XML) statements, read with ofxtools."""

from datetime import date
from pathlib import Path

import pytest

from ledger.reconciliation.statement_files import StatementFileInvalid, StatementLineIn, statement_file_parse

FIXTURES = Path(__file__).parent / "fixtures"


def parse(name: str, **kwargs):
    return statement_file_parse((FIXTURES / name).read_bytes(), format="ofx", **kwargs)


def refusal(content: bytes, **kwargs) -> StatementFileInvalid:
    with pytest.raises(StatementFileInvalid) as caught:
        statement_file_parse(content, format="ofx", **kwargs)
    return caught.value


class TestVersion1:
    def test_reads_the_statement(self):
        statement = parse("ofx_v1_good.ofx")
        assert statement.format == "ofx"
        assert statement.account_identifier == "20000012345678"
        assert statement.currency == "GBP"
        # OFX has no opening balance; LEDGERBAL is the closing.
        assert statement.opening_balance_minor is None
        assert statement.closing_balance_minor == 1_454_375
        assert statement.period_start == date(2026, 11, 1)
        assert statement.period_end == date(2026, 11, 7)

    def test_reads_each_entry_field_by_field(self):
        lines = parse("ofx_v1_good.ofx").lines
        assert lines[0] == StatementLineIn(
            line_number=1,
            booked_on=date(2026, 11, 2),
            amount_minor=485_000,
            reference="DEMO-ASC-2026-11",
            description="NORFOLK COUNTY COUNCIL",
            bank_id="202611020001",
            kind="credit",
        )
        assert [line.amount_minor for line in lines] == [485000, -31875, -31875, 31875, -1250, 2500]
        assert [line.line_number for line in lines] == [1, 2, 3, 4, 5, 6]
        assert [line.kind for line in lines] == ["credit", "debit", "debit", "credit", "debit", "credit"]

    def test_duplicates_are_kept_and_a_reversal_is_a_credit(self):
        lines = parse("ofx_v1_good.ofx").lines
        assert (lines[1].reference, lines[1].amount_minor) == (lines[2].reference, lines[2].amount_minor)
        assert lines[1].bank_id != lines[2].bank_id
        assert lines[3].reference == "RETURN PAY-K7G57JMJTNSUJE"
        assert lines[3].value_on == date(2026, 11, 6)

    def test_an_entry_without_memo_has_no_reference(self):
        fee = parse("ofx_v1_good.ofx").lines[4]
        assert fee.reference == ""
        assert fee.description == "SERVICE CHARGES OCT"


class TestVersion2:
    def test_reads_the_statement(self):
        statement = parse("ofx_v2_good.ofx")
        # BANKID 20-00-00 and ACCTID 87654321: sort code and number digits.
        assert statement.account_identifier == "20000087654321"
        assert statement.closing_balance_minor == -11_656
        assert statement.period_start == date(2026, 11, 23)
        assert statement.period_end == date(2026, 11, 30)

    def test_dates_are_the_dates_written_not_moved_to_utc(self):
        # 20261124000000[+1:BST] is 23:00 on the 23rd in UTC, but the bank booked it on the 24th.
        assert parse("ofx_v2_good.ofx").lines[0].booked_on == date(2026, 11, 24)

    def test_reads_each_entry(self):
        lines = parse("ofx_v2_good.ofx").lines
        assert [(line.amount_minor, line.reference, line.bank_id) for line in lines] == [
            (240_000, "DEMO-SP-2026-11", "TXN-88213-001"),
            (-151_236, "bacs_4rt8w2mn", "TXN-88213-002"),
            (-420, "FEE1126", "TXN-88213-003"),
        ]
        # The payee aggregate's name when there is no NAME.
        assert lines[2].description == "HALLMARK BANK FEES"


class TestRefusals:
    def test_bad_entries_are_named_by_entry_number(self):
        error = refusal((FIXTURES / "ofx_bad_entry.ofx").read_bytes())
        assert [(p["line"], p["reason"]) for p in error.problems] == [
            (2, "The amount '-318.7.5' is not a number."),
            (4, "The date posted '20261131' is not a real date."),
        ]
        assert error.message == "Entry 2: the amount '-318.7.5' is not a number."

    def test_a_truncated_file(self):
        error = refusal((FIXTURES / "ofx_truncated.ofx").read_bytes())
        assert "cut short" in error.message

    def test_a_file_of_another_currency(self):
        error = refusal((FIXTURES / "ofx_other_currency.ofx").read_bytes())
        assert error.message == "This statement is in EUR, but the account is in GBP."

    def test_a_file_of_another_currency_is_read_for_an_account_in_it(self):
        assert parse("ofx_other_currency.ofx", currency="EUR").currency == "EUR"

    def test_an_amount_with_more_decimals_than_the_currency(self):
        content = (FIXTURES / "ofx_v1_good.ofx").read_bytes().replace(b"<TRNAMT>25.00", b"<TRNAMT>25.001")
        error = refusal(content)
        assert error.problems[0]["line"] == 6
        assert "more decimals than GBP allows" in error.message

    def test_an_entry_in_another_currency(self):
        content = (
            (FIXTURES / "ofx_v1_good.ofx")
            .read_bytes()
            .replace(
                b"<MEMO>REFUND JAN 2026",
                b"<MEMO>REFUND JAN 2026\n<CURRENCY><CURRATE>1.15<CURSYM>EUR</CURRENCY>",
            )
        )
        error = refusal(content)
        assert error.message == "Entry 6: the entry is in EUR, but the statement is in GBP."

    def test_an_entry_missing_what_it_must_have(self):
        content = (FIXTURES / "ofx_v1_good.ofx").read_bytes().replace(b"<FITID>202611060001\n", b"")
        error = refusal(content)
        assert error.message == "Entry 5: the entry has no transaction id (FITID)."

    def test_an_entry_the_specification_does_not_allow(self):
        content = (FIXTURES / "ofx_v1_good.ofx").read_bytes().replace(b"<TRNTYPE>SRVCHG", b"<TRNTYPE>FEES")
        error = refusal(content)
        assert error.problems[0]["line"] == 5
        assert error.message.startswith("Entry 5: the STMTTRN is not valid OFX")

    def test_no_header(self):
        error = refusal(b"<OFX><BANKMSGSRSV1></BANKMSGSRSV1></OFX>\n")
        assert error.message == "Line 1: this is not an OFX file: its OFX header is missing or not readable."

    def test_badly_nested_tags_name_the_line(self):
        content = (
            (FIXTURES / "ofx_v2_good.ofx")
            .read_bytes()
            .replace(b"</NAME>\n            <MEMO>DEMO", b"</NAMX>\n            <MEMO>DEMO")
        )
        error = refusal(content)
        assert error.problems[0]["line"] == 30
        assert "not well formed" in error.message

    def test_a_file_without_a_statement(self):
        content = (FIXTURES / "ofx_v1_good.ofx").read_bytes()
        start, end = (
            content.index(b"<BANKMSGSRSV1>"),
            content.index(b"</BANKMSGSRSV1>") + len(b"</BANKMSGSRSV1>"),
        )
        error = refusal(content[:start] + content[end:])
        assert "no bank or credit card statement" in error.message

    def test_two_accounts_in_one_file(self):
        content = (FIXTURES / "ofx_v1_good.ofx").read_bytes()
        start, end = content.index(b"<STMTTRNRS>"), content.index(b"</STMTTRNRS>") + len(b"</STMTTRNRS>")
        twice = content[:end] + b"\n" + content[start:end] + content[end:]
        assert "holds 2 statements" in refusal(twice).message
