"""SWIFT MT940 statements, read with the mt940 package."""

from datetime import date
from pathlib import Path

import pytest

from ledger.reconciliation.statement_files import StatementFileInvalid, StatementLineIn, statement_file_parse

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str, **kwargs):
    return statement_file_parse(fixture(name), format="mt940", **kwargs)


def refusal(content: bytes, **kwargs) -> StatementFileInvalid:
    with pytest.raises(StatementFileInvalid) as caught:
        statement_file_parse(content, format="mt940", **kwargs)
    return caught.value


class TestGoodFile:
    def test_reads_the_statement(self):
        statement = parse("mt940_good.sta")
        assert statement.format == "mt940"
        assert statement.account_identifier == "20000012345678"
        assert statement.currency == "GBP"
        assert statement.opening_balance_minor == 1_000_000
        assert statement.closing_balance_minor == 1_352_600
        assert statement.period_start == date(2026, 11, 2)
        assert statement.period_end == date(2026, 11, 6)

    def test_line_numbers_are_the_61_lines(self):
        lines = parse("mt940_good.sta").lines
        assert [line.line_number for line in lines] == [5, 8, 11, 13, 15, 17, 19]
        assert [line.amount_minor for line in lines] == [485000, -124050, -9600, -9600, 9600, -1250, 2500]

    def test_reads_a_line_field_by_field(self):
        assert parse("mt940_good.sta").lines[0] == StatementLineIn(
            line_number=5,
            booked_on=date(2026, 11, 2),
            amount_minor=485_000,
            reference="DEMO-ASC-2026-11",
            description="DEMO-ASC-2026-11 NORFOLK COUNTY COUNCIL; NORFOLK COUNTY COUNCIL",
            bank_id="2026110200001",
            kind="credit",
            value_on=date(2026, 11, 2),
        )

    def test_nonref_takes_the_86_information_as_reference(self):
        batch = parse("mt940_good.sta").lines[1]
        # A :86: line cut at 65 characters joins the next without a space, so the reference stays whole.
        assert batch.reference == (
            "BACS BATCH bacs_7h2k9m4q PAY-K7G57JMJTNSUJE PAY-R3M8ZQ2WXKD4TA PAY-T9V2LB6NHC3E8Q"
        )
        assert batch.description == ""
        assert batch.bank_id == "2026110300007"
        # Shorter lines are words: joined with a space.
        assert parse("mt940_good.sta").lines[6].reference == "J SMITH GIFT FOR MUM"

    def test_duplicates_and_a_reversal_of_a_debit(self):
        lines = parse("mt940_good.sta").lines
        assert (lines[2].amount_minor, lines[2].reference) == (lines[3].amount_minor, lines[3].reference)
        reversal = lines[4]
        assert reversal.amount_minor == 9600  # RD: money back in
        assert reversal.kind == "credit"
        assert reversal.reference == "RETURN PAY-W4XJ7D2K9PLM3R ANNA PA SERVICES"

    def test_a_reversal_of_a_credit_is_money_out(self):
        content = (
            fixture("mt940_good.sta")
            .replace(b":61:2611061106C25,00NTRF", b":61:2611061106RC25,00NTRF")
            .replace(b":62F:C261106GBP13526,00", b":62F:C261106GBP13476,00")
        )
        line = statement_file_parse(content, format="mt940").lines[6]
        assert (line.amount_minor, line.kind) == (-2500, "debit")


class TestSeveralStatements:
    def test_two_days_in_a_swift_envelope(self):
        statement = parse("mt940_two_days_envelope.sta")
        assert statement.account_identifier == "GB47BARC20000012345678"
        assert statement.opening_balance_minor == -25_000
        assert statement.closing_balance_minor == 152_117
        assert statement.period_start == date(2026, 11, 9)
        assert statement.period_end == date(2026, 11, 10)
        payout, payment = statement.lines
        assert (payout.line_number, payout.amount_minor, payout.bank_id) == (6, 208_742, "FPS-26110900114")
        # No entry date: booked on the value date.
        assert payout.booked_on == payout.value_on == date(2026, 11, 9)
        assert payout.reference == "STRIPE PAYMENTS UK LTD po_1QyA2bL2eZvKYlo2Xk9d8e7f"
        # The customer reference is cut at 16 characters by the bank; the :86: has it whole.
        assert payment.line_number == 15
        assert payment.reference == "PAY-M2C8QK4TZR7V"
        assert payment.description == "SUNRISE DAY CENTRE PAY-M2C8QK4TZR7VXA INV-2026-0412"

    def test_statements_that_do_not_follow_on(self):
        content = fixture("mt940_two_days_envelope.sta").replace(
            b":60F:C261109GBP1837,42", b":60F:C261109GBP1838,42"
        )
        content = content.replace(b":62F:C261110GBP1521,17", b":62F:C261110GBP1522,17")
        error = refusal(content)
        assert error.problems[0]["line"] == 11
        assert (
            error.message
            == "Line 11: this statement opens at 1,838.42, but the statement before it closed at 1,837.42."
        )

    def test_statements_of_two_accounts(self):
        content = fixture("mt940_two_days_envelope.sta").replace(
            b":25:BARCGB22/GB47BARC20000012345678\n:28C:313", b":25:BARCGB22/GB12BARC20000099999999\n:28C:313"
        )
        assert "more than one account" in refusal(content).message


class TestRefusals:
    def test_a_wrong_closing_balance_names_its_line(self):
        error = refusal(fixture("mt940_wrong_closing.sta"))
        assert error.problems[0]["line"] == 22
        assert error.message == (
            "Line 22: the closing balance 13,562.00 is not the opening balance 10,000.00 plus the lines "
            "(3,526.00), which make 13,526.00: a difference of 36.00."
        )

    def test_bad_lines_are_named(self):
        error = refusal(fixture("mt940_bad_lines.sta"))
        assert [(p["line"], p["reason"]) for p in error.problems] == [
            (13, "The value date '261131' is not a real date (YYMMDD)."),
            (17, "The amount '12,505' has more decimals than GBP allows."),
        ]

    def test_a_truncated_file(self):
        error = refusal(fixture("mt940_truncated.sta"))
        assert error.message == "Line 1: the statement starting here has no closing balance (:62F:)."

    def test_a_file_of_another_currency(self):
        assert refusal(fixture("mt940_other_currency.sta")).message == (
            "This statement is in EUR, but the account is in GBP."
        )
        assert parse("mt940_other_currency.sta", currency="EUR").currency == "EUR"

    def test_a_balance_in_another_currency(self):
        content = fixture("mt940_good.sta").replace(b":62F:C261106GBP", b":62F:C261106EUR")
        assert (
            refusal(content).message == "Line 22: the closing balance is in EUR, but the statement is in GBP."
        )

    @pytest.mark.parametrize(
        ("old", "new", "line", "words"),
        [
            (b":60F:C261101GBP10000,00", b":60F:C261101GBP10000.00", 4, "is not an MT940 amount"),
            (b":60F:C261101GBP10000,00", b":60F:X261101GBP10000,00", 4, "This balance cannot be read"),
            (
                b":60F:C261101GBP10000,00",
                b":60F:C261301GBP10000,00",
                4,
                "The balance date '261301' is not a real date",
            ),
            (b":61:2611021102C4850,00", b":61:2611021102C4850.00", 5, "is not an MT940 amount"),
            (
                b":61:2611021102C4850,00",
                b":61:2611021399C4850,00",
                5,
                "The entry date '1399' is not a real date",
            ),
            (b":61:2611021102C4850,00", b":61:26110X1102C4850,00", 5, "This statement line cannot be read"),
        ],
    )
    def test_unreadable_tags(self, old, new, line, words):
        error = refusal(fixture("mt940_good.sta").replace(old, new))
        assert error.problems[0]["line"] == line
        assert words in error.problems[0]["reason"]

    def test_a_tag_the_package_cannot_read_names_its_line(self):
        content = fixture("mt940_good.sta").replace(b":28C:311/1", b":28C:ABC/DEF")
        error = refusal(content)
        assert error.problems[0]["line"] == 3
        assert error.message.startswith("Line 3: the :28C: tag cannot be read: 'ABC/DEF")

    def test_no_statement_at_all(self):
        assert "has no :20:" in refusal(b":25:20000012345678\n:60F:C261101GBP1,00\n").message

    def test_a_missing_account_and_opening_balance(self):
        content = (
            fixture("mt940_good.sta")
            .replace(b":25:20000012345678\n", b"")
            .replace(b":60F:C261101GBP10000,00\n", b"")
        )
        error = refusal(content)
        assert [p["reason"] for p in error.problems] == [
            "The statement starting here does not say its account (:25:).",
            "The statement starting here has no opening balance (:60F:).",
        ]
