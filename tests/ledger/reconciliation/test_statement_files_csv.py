"""Bank CSV exports read through a CsvMapping."""

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.reconciliation.statement_files import (
    CsvMapping,
    StatementFileInvalid,
    StatementLineIn,
    statement_file_parse,
)

FIXTURES = Path(__file__).parent / "fixtures"

PAID_IN_OUT = CsvMapping(
    date_column="Date",
    paid_in_column="Paid in",
    paid_out_column="Paid out",
    reference_column="Reference",
    description_column="Description",
    balance_column="Balance",
)
SIGNED = CsvMapping(
    date_column="Date",
    date_format="%d %b %Y",
    amount_column="Amount",
    reference_column="Reference",
    description_column="Counterparty",
    balance_column="Balance",
)
SEMICOLONS = CsvMapping(
    date_column="Date",
    amount_column="Amount",
    reference_column="Reference",
    description_column="Description",
    delimiter=";",
    decimal_comma=True,
)


def parse(name: str, mapping: CsvMapping, **kwargs):
    return statement_file_parse((FIXTURES / name).read_bytes(), format="csv", csv_mapping=mapping, **kwargs)


def refusal(content: bytes, mapping: CsvMapping, **kwargs) -> StatementFileInvalid:
    with pytest.raises(StatementFileInvalid) as caught:
        statement_file_parse(content, format="csv", csv_mapping=mapping, **kwargs)
    return caught.value


class TestGoodFile:
    def test_reads_the_file_as_a_whole(self):
        statement = parse("bank_good.csv", PAID_IN_OUT)
        assert statement.format == "csv"
        assert statement.account_identifier == ""
        assert statement.currency == "GBP"
        # The first balance less its line's amount; the last balance.
        assert statement.opening_balance_minor == 1_000_000
        assert statement.closing_balance_minor == 1_296_332
        assert statement.period_start == date(2026, 11, 2)
        assert statement.period_end == date(2026, 11, 6)
        assert len(statement.lines) == 8
        assert statement.opening_balance_minor + sum(line.amount_minor for line in statement.lines) == (
            statement.closing_balance_minor
        )

    def test_reads_each_line_field_by_field(self):
        lines = parse("bank_good.csv", PAID_IN_OUT).lines
        assert lines[0] == StatementLineIn(
            line_number=2,
            booked_on=date(2026, 11, 2),
            amount_minor=485_000,
            reference="DEMO-ASC-2026-11",
            description="NORFOLK COUNTY COUNCIL",
            bank_id="",
            kind="credit",
            value_on=None,
        )
        assert lines[3] == StatementLineIn(
            line_number=5,
            booked_on=date(2026, 11, 4),
            amount_minor=-31_875,
            reference="PAY-K7G57JMJTNSUJE",
            description="BRIGHT CARE LTD",
            bank_id="",
            kind="debit",
        )
        assert [line.amount_minor for line in lines] == [
            485000,
            61240,
            -124050,
            -31875,
            15000,
            -110233,
            -1250,
            2500,
        ]
        assert [line.line_number for line in lines] == [2, 3, 4, 5, 6, 7, 8, 9]
        # A line without a reference, and one whose reference is nobody's of ours: both kept as they are.
        assert lines[6].reference == ""
        assert lines[6].description == "SERVICE CHARGES OCT"
        assert lines[7].reference == "REFUND JAN 2026"

    def test_columns_are_found_ignoring_case_and_spaces(self):
        mapping = CsvMapping(
            date_column="date",
            paid_in_column=" PAID IN",
            paid_out_column="paid out",
            balance_column="balance",
        )
        assert parse("bank_good.csv", mapping).closing_balance_minor == 1_296_332

    def test_without_a_balance_column_there_are_no_balances(self):
        mapping = CsvMapping(date_column="Date", paid_in_column="Paid in", paid_out_column="Paid out")
        statement = parse("bank_good.csv", mapping)
        assert statement.opening_balance_minor is None
        assert statement.closing_balance_minor is None


class TestAwkwardFiles:
    def test_newest_first_keeps_the_file_order_and_checks_balances_oldest_first(self):
        statement = parse("bank_newest_first.csv", SIGNED)
        assert [line.line_number for line in statement.lines] == [2, 3, 4, 5]
        assert [line.amount_minor for line in statement.lines] == [120000, 9600, -9600, -9600]
        assert statement.opening_balance_minor == 200_000
        assert statement.closing_balance_minor == 310_400
        assert statement.period_start == date(2026, 11, 10)
        assert statement.period_end == date(2026, 11, 12)

    def test_a_duplicated_payment_is_two_lines(self):
        statement = parse("bank_newest_first.csv", SIGNED)
        first, second = statement.lines[2], statement.lines[3]
        assert (first.booked_on, first.amount_minor, first.reference) == (
            second.booked_on,
            second.amount_minor,
            second.reference,
        )
        assert (first.line_number, second.line_number) == (4, 5)

    def test_identical_rows_are_both_kept(self):
        statement = parse("bank_duplicates_no_balance.csv", SEMICOLONS)
        assert len(statement.lines) == 3
        assert statement.lines[0].amount_minor == statement.lines[1].amount_minor == -31_875
        assert statement.lines[0].reference == statement.lines[1].reference == "PAY-K7G57JMJTNSUJE"
        assert statement.lines[0].line_number == 2
        assert statement.lines[1].line_number == 3
        # "4.850,00" with decimal commas.
        assert statement.lines[2].amount_minor == 485_000

    def test_a_reversal_is_a_line_of_the_opposite_sign(self):
        lines = parse("bank_newest_first.csv", SIGNED).lines
        reversal = lines[1]
        assert reversal.reference == "RETURNED PAY-R3M8ZQ2WXKD4TA"
        assert reversal.amount_minor == 9600
        assert reversal.kind == "credit"
        assert lines[2].kind == "debit"

    def test_one_days_lines_newest_first_are_read_by_their_balances(self):
        content = (
            b"Date,Amount,Balance\n"
            b"02/11/2026,-10.00,80.00\n"  # newest
            b"02/11/2026,-10.00,90.00\n"
        )
        statement = statement_file_parse(
            content, csv_mapping=CsvMapping("Date", amount_column="Amount", balance_column="Balance")
        )
        assert statement.opening_balance_minor == 10_000
        assert statement.closing_balance_minor == 8_000

    def test_blank_balances_are_checked_at_the_next_stated_balance(self):
        content = b"Date,Amount,Balance\n02/11/2026,-10.00,\n02/11/2026,-5.00,85.00\n03/11/2026,1.00,\n"
        statement = statement_file_parse(
            content, csv_mapping=CsvMapping("Date", amount_column="Amount", balance_column="Balance")
        )
        assert statement.opening_balance_minor == 10_000
        assert statement.closing_balance_minor == 8_600

    def test_lines_above_the_header_are_skipped(self):
        content = (
            b'"Account Name:","PURSE CLIENT ACCOUNT"\r\n"Account Balance:","\xc2\xa3100.00"\r\n\r\n'
            b'"Date","Transaction type","Description","Paid out","Paid in","Balance"\r\n'
            b'"02 Nov 2026","Bank credit","NORFOLK CC DEMO-ASC-2026-11","",'
            b'"\xc2\xa350.00","\xc2\xa3100.00"\r\n'
        )
        mapping = CsvMapping(
            date_column="Date",
            date_format="%d %b %Y",
            paid_in_column="Paid in",
            paid_out_column="Paid out",
            description_column="Description",
            balance_column="Balance",
            skip_lines=3,
        )
        statement = statement_file_parse(content, csv_mapping=mapping)
        assert statement.lines[0].line_number == 5
        assert statement.lines[0].amount_minor == 5_000
        assert statement.opening_balance_minor == 5_000

    def test_other_columns_of_a_mapping(self):
        content = b"Posted,Value,Amount,Txn\r\n02/11/2026,03/11/2026,-1.50,TX-1\r\n"
        mapping = CsvMapping(
            "Posted", amount_column="Amount", value_date_column="Value", bank_id_column="Txn"
        )
        (line,) = statement_file_parse(content, csv_mapping=mapping).lines
        assert line.value_on == date(2026, 11, 3)
        assert line.bank_id == "TX-1"

    def test_another_encoding(self):
        content = "Date;Description;Amount\n02/11/2026;CAFÉ ROYALE;-3,50\n".encode("cp1252")
        mapping = CsvMapping(
            "Date",
            amount_column="Amount",
            description_column="Description",
            delimiter=";",
            decimal_comma=True,
            encoding="cp1252",
        )
        assert statement_file_parse(content, csv_mapping=mapping).lines[0].description == "CAFÉ ROYALE"

    def test_a_header_without_lines_is_a_statement_of_no_lines(self):
        statement = statement_file_parse(
            b"Date,Amount\n", csv_mapping=CsvMapping("Date", amount_column="Amount")
        )
        assert statement.lines == ()
        assert statement.period_start is None


class TestRefusals:
    def test_each_bad_row_is_named_with_its_reason(self):
        error = refusal((FIXTURES / "bank_malformed.csv").read_bytes(), PAID_IN_OUT)
        assert [(p["line"], p["reason"]) for p in error.problems] == [
            (3, "The date '31/11/2026' is not a date written as DD/MM/YYYY."),
            (4, "The paid out amount 'abc' is not a number."),
            (5, "The paid out amount '318.755' has more decimals than GBP allows (2 decimals)."),
            (6, "This row has 6 columns, but the header has 7."),
        ]
        assert error.message == "Line 3: the date '31/11/2026' is not a date written as DD/MM/YYYY."
        assert error.problems[3]["message"] == "Line 6: this row has 6 columns, but the header has 7."

    def test_a_truncated_file_is_refused_at_its_last_row(self):
        error = refusal((FIXTURES / "bank_truncated.csv").read_bytes(), PAID_IN_OUT)
        assert error.problems == [
            {
                "line": 3,
                "reason": "This row has 4 columns, but the header has 7.",
                "message": "Line 3: this row has 4 columns, but the header has 7.",
            }
        ]

    def test_a_wrong_balance_names_the_first_line_that_does_not_add_up_and_by_how_much(self):
        error = refusal((FIXTURES / "bank_wrong_balance.csv").read_bytes(), PAID_IN_OUT)
        assert len(error.problems) == 1
        assert error.problems[0]["line"] == 4
        assert error.message == (
            "Line 4: the balance 14,231.90 does not add up: the balance before plus this line's amount "
            "(-1,240.50) makes 14,221.90, a difference of 10.00."
        )

    def test_a_line_of_another_currency(self):
        mapping = CsvMapping(
            "Date", amount_column="Amount", description_column="Description", currency_column="Currency"
        )
        error = refusal((FIXTURES / "bank_other_currency.csv").read_bytes(), mapping)
        assert error.message == "Line 3: this line is in EUR, but the account is in GBP."

    def test_a_mapping_naming_a_column_the_file_does_not_have(self):
        mapping = CsvMapping("Date", amount_column="Amount", reference_column="Payment reference")
        error = refusal((FIXTURES / "bank_good.csv").read_bytes(), mapping)
        assert [p["line"] for p in error.problems] == [1, 1]
        assert error.problems[0]["reason"] == (
            "The amount column 'Amount' is not in this file; its columns are 'Date', 'Type', 'Description', "
            "'Reference', 'Paid in', 'Paid out' and 'Balance'."
        )
        assert "The reference column 'Payment reference' is not in this file" in error.problems[1]["reason"]

    @pytest.mark.parametrize(
        ("row", "reason"),
        [
            (b",5.00", "The date is missing."),
            (b"2026-11-02,5.00", "The date '2026-11-02' is not a date written as DD/MM/YYYY."),
            (b"02/11/2026,", "The amount is missing."),
            (b"02/11/2026,1e5", "The amount '1e5' is not a number."),
            (b"02/11/2026,5.00,extra", "This row has 3 columns, but the header has 2."),
            (b'02/11/2026,"5.00', "This row is not valid CSV"),
        ],
    )
    def test_unreadable_rows(self, row, reason):
        error = refusal(b"Date,Amount\n" + row + b"\n", CsvMapping("Date", amount_column="Amount"))
        assert error.problems[0]["line"] == 2
        assert error.problems[0]["reason"].startswith(reason)

    @pytest.mark.parametrize(
        ("row", "reason"),
        [
            (b"02/11/2026,,", "Neither the paid in nor the paid out column has an amount."),
            (b"02/11/2026,1.00,2.00", "Both the paid in and the paid out columns have an amount."),
            (
                b"02/11/2026,,-2.00",
                "The paid out amount '-2.00' has a sign; this column takes amounts without one.",
            ),
        ],
    )
    def test_paid_in_and_paid_out(self, row, reason):
        mapping = CsvMapping("Date", paid_in_column="In", paid_out_column="Out")
        error = refusal(b"Date,In,Out\n" + row + b"\n", mapping)
        assert error.problems[0] == {
            "line": 2,
            "reason": reason,
            "message": f"Line 2: {reason[0].lower()}{reason[1:]}",
        }

    def test_a_zero_in_the_other_column_is_no_amount(self):
        mapping = CsvMapping("Date", paid_in_column="In", paid_out_column="Out")
        statement = statement_file_parse(b"Date,In,Out\n02/11/2026,0.00,2.00\n", csv_mapping=mapping)
        assert statement.lines[0].amount_minor == -200

    def test_text_not_in_the_mappings_encoding_names_its_line(self):
        error = refusal(
            b"Date,Amount\n02/11/2026,5.00\n02/11/2026,\xa35.00\n", CsvMapping("Date", amount_column="A")
        )
        assert error.problems[0]["line"] == 3
        assert "not valid utf-8-sig text" in error.message

    def test_an_empty_header(self):
        error = refusal(b"\n\n", CsvMapping("Date", amount_column="Amount"))
        assert error.message == "The file is empty."


# ------------------------------------------------------------------------------------------------------
# Property: what is written is what is read back.

rows_strategy = st.lists(
    st.tuples(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
        st.integers(min_value=-(10**12), max_value=10**12),
        st.text(alphabet="ABCDEFGHJKMNPQRSTVWXYZ0123456789-, \"'", max_size=20),
    ),
    max_size=40,
)


def render(rows, *, paid_in_out: bool, decimal_comma: bool) -> bytes:
    """A bank CSV of the rows, with a running balance from 1,000.00, in the style the flags say."""
    import csv
    import io

    def money(minor: int) -> str:
        sign = "-" if minor < 0 else ""
        whole, pence = divmod(abs(minor), 100)
        grouped = f"{whole:,}".replace(",", "." if decimal_comma else ",")
        return f"{sign}{grouped}{',' if decimal_comma else '.'}{pence:02d}"

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if decimal_comma else ",", lineterminator="\r\n")
    header = (
        ["Date", "Reference", "Paid in", "Paid out", "Balance"]
        if paid_in_out
        else ["Date", "Reference", "Amount", "Balance"]
    )
    writer.writerow(header)
    balance = 100_000
    for on, amount, reference in rows:
        balance += amount
        if paid_in_out:
            writer.writerow(
                [
                    f"{on:%d/%m/%Y}",
                    reference,
                    money(amount) if amount >= 0 else "",
                    money(-amount) if amount < 0 else "",
                    money(balance),
                ]
            )
        else:
            writer.writerow([f"{on:%d/%m/%Y}", reference, money(amount), money(balance)])
    return out.getvalue().encode()


class TestRoundTrip:
    @settings(max_examples=150, deadline=None)
    @given(rows=rows_strategy, paid_in_out=st.booleans(), decimal_comma=st.booleans())
    def test_parse_of_render_gives_back_the_signed_amounts_and_their_sum(
        self, rows, paid_in_out, decimal_comma
    ):
        # Keep the dates in order so the balance column reads oldest first, as most banks write it.
        rows = sorted(rows, key=lambda row: row[0])
        mapping = CsvMapping(
            date_column="Date",
            reference_column="Reference",
            balance_column="Balance",
            delimiter=";" if decimal_comma else ",",
            decimal_comma=decimal_comma,
            **(
                {"paid_in_column": "Paid in", "paid_out_column": "Paid out"}
                if paid_in_out
                else {"amount_column": "Amount"}
            ),
        )
        statement = statement_file_parse(
            render(rows, paid_in_out=paid_in_out, decimal_comma=decimal_comma),
            format="csv",
            csv_mapping=mapping,
        )
        assert [line.amount_minor for line in statement.lines] == [row[1] for row in rows]
        assert [line.booked_on for line in statement.lines] == [row[0] for row in rows]
        assert [line.reference for line in statement.lines] == [row[2].strip() for row in rows]
        total = sum(line.amount_minor for line in statement.lines)
        assert total == sum(row[1] for row in rows)
        if rows:
            assert statement.opening_balance_minor == 100_000
            assert statement.closing_balance_minor == 100_000 + total
