"""The shared interface of the statement file readers: errors, the CSV mapping, detection, values."""

from datetime import date
from pathlib import Path

import pytest

from ledger.errors import DomainError
from ledger.money import UnknownCurrency
from ledger.reconciliation.statement_files import (
    FORMATS,
    MAX_PROBLEMS,
    CsvMapping,
    InvalidCsvMapping,
    LineProblem,
    StatementFileInvalid,
    StatementLineIn,
    account_identifier,
    amount_text,
    parse_amount,
    parse_iso_date,
    statement_file_detect,
    statement_file_parse,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class TestStatementFileInvalid:
    def test_is_a_domain_error_with_code_and_status(self):
        error = StatementFileInvalid("The file is empty.")
        assert isinstance(error, DomainError)
        assert error.code == "invalid_statement_file"
        assert error.http_status == 422
        assert error.message == "The file is empty."
        assert error.problems == [
            {"line": None, "reason": "The file is empty.", "message": "The file is empty."}
        ]

    def test_message_is_the_first_problem_with_its_line(self):
        with pytest.raises(StatementFileInvalid) as caught:
            statement_file_parse(
                b"Date,Amount\n02/11/2026,abc\n03/11/2026,xyz\n",
                csv_mapping=CsvMapping(date_column="Date", amount_column="Amount"),
            )
        assert caught.value.message == "Line 2: the amount 'abc' is not a number."
        assert [(p["line"], p["reason"]) for p in caught.value.problems] == [
            (2, "The amount 'abc' is not a number."),
            (3, "The amount 'xyz' is not a number."),
        ]

    def test_lists_at_most_max_problems_and_counts_the_rest(self):
        rows = "".join(f"02/11/2026,bad{index}\n" for index in range(MAX_PROBLEMS + 5))
        with pytest.raises(StatementFileInvalid) as caught:
            statement_file_parse(
                f"Date,Amount\n{rows}".encode(),
                csv_mapping=CsvMapping(date_column="Date", amount_column="Amount"),
            )
        assert len(caught.value.problems) == MAX_PROBLEMS
        assert caught.value.more == 5


class TestStatementLineIn:
    def test_batch_and_value_date_have_defaults(self):
        line = StatementLineIn(
            line_number=1,
            booked_on=date(2026, 11, 2),
            amount_minor=-100,
            reference="PAY-K7G57JMJTNSUJE",
            description="",
            bank_id="",
            kind="debit",
        )
        assert line.value_on is None
        assert line.batch == ""


class TestCsvMapping:
    def test_round_trips_through_json_data(self):
        mapping = CsvMapping(
            date_column="Date",
            date_format="%Y-%m-%d",
            paid_in_column="Paid in",
            paid_out_column="Paid out",
            balance_column="Balance",
            delimiter=";",
            decimal_comma=True,
            skip_lines=3,
        )
        data = mapping.to_dict()
        assert data["paid_in_column"] == "Paid in"
        assert data["skip_lines"] == 3
        assert CsvMapping.from_dict(data) == mapping

    def test_from_dict_fills_defaults(self):
        mapping = CsvMapping.from_dict({"date_column": "Date", "amount_column": "Amount"})
        assert mapping.date_format == "%d/%m/%Y"
        assert mapping.encoding == "utf-8-sig"

    @pytest.mark.parametrize(
        ("data", "words"),
        [
            ("not a dict", "must be an object"),
            ({"amount_column": "Amount"}, "column that holds the date"),
            ({"date_column": "Date"}, "must name the amount column"),
            ({"date_column": "Date", "paid_in_column": "In"}, "both the paid in and the paid out"),
            (
                {"date_column": "Date", "amount_column": "A", "paid_in_column": "I", "paid_out_column": "O"},
                "one or",
            ),
            ({"date_column": "Date", "paid_in_column": "X", "paid_out_column": "X"}, "different columns"),
            (
                {"date_column": "Date", "amount_column": "A", "date_format": "%d/%m"},
                "a day, a month and a year",
            ),
            ({"date_column": "Date", "amount_column": "A", "delimiter": ";;"}, "must be one character"),
            ({"date_column": "Date", "amount_column": "A", "encoding": "klingon"}, "not a text encoding"),
            ({"date_column": "Date", "amount_column": "A", "decimal_comma": "yes"}, "true or false"),
            ({"date_column": "Date", "amount_column": "A", "skip_lines": -1}, "cannot be negative"),
            ({"date_column": "Date", "amount_column": 7}, "must be text"),
            ({"date_column": "Date", "amount_column": "A", "colour": "red"}, "does not know: colour"),
        ],
    )
    def test_from_dict_refuses_what_cannot_work(self, data, words):
        with pytest.raises(InvalidCsvMapping) as caught:
            CsvMapping.from_dict(data)
        assert caught.value.code == "invalid_csv_mapping"
        assert words in caught.value.message

    def test_a_csv_file_needs_a_mapping(self):
        with pytest.raises(InvalidCsvMapping, match="column mapping"):
            statement_file_parse(fixture("bank_good.csv"), format="csv")


class TestDetect:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("bank_good.csv", "csv"),
            ("bank_newest_first.csv", "csv"),
            ("bank_duplicates_no_balance.csv", "csv"),
            ("ofx_v1_good.ofx", "ofx"),
            ("ofx_v2_good.ofx", "ofx"),
            ("camt053_v02_good.xml", "camt053"),
            ("camt053_v08_two_days.xml", "camt053"),
            ("mt940_good.sta", "mt940"),
            ("mt940_two_days_envelope.sta", "mt940"),
            ("stripe_balance_transactions.csv", "stripe_balance"),
            ("stripe_payout_itemized.csv", "stripe_balance"),
        ],
    )
    def test_tells_each_format_by_its_content(self, name, expected):
        assert statement_file_detect(fixture(name)) == expected
        # The name does not matter when the content says.
        assert statement_file_detect(fixture(name), filename="statement.txt") == expected

    def test_formats_are_the_five(self):
        assert FORMATS == ("csv", "ofx", "camt053", "mt940", "stripe_balance")

    def test_refuses_an_empty_file(self):
        for content in (b"", b"   \r\n", b"\xef\xbb\xbf\n"):
            with pytest.raises(StatementFileInvalid, match="The file is empty"):
                statement_file_detect(content)

    @pytest.mark.parametrize(
        ("content", "words"),
        [
            (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "looks like a PDF"),
            (b"PK\x03\x04\x14\x00\x06\x00", "export it from the bank as CSV"),
            (b"Dear finance team, please find the statement attached.", "cannot tell what kind"),
            (b"<html><body>Session expired</body></html>", "cannot tell what kind"),
            (b"\x00\x01\x02\x03binary", "cannot tell what kind"),
        ],
    )
    def test_refuses_what_is_no_statement(self, content, words):
        with pytest.raises(StatementFileInvalid) as caught:
            statement_file_detect(content)
        assert words in caught.value.message
        assert caught.value.message.startswith("Purse cannot tell what kind of statement file this is")

    def test_falls_back_on_the_extension(self):
        assert statement_file_detect(b"just one column\nof words\n", filename="Export.CSV") == "csv"
        assert statement_file_detect(b"garbage", filename="x.sta") == "mt940"

    def test_parse_detects_when_no_format_is_given(self):
        assert statement_file_parse(fixture("camt053_v02_good.xml")).format == "camt053"


class TestDeclaredFormat:
    @pytest.mark.parametrize(
        ("name", "declared", "found"),
        [
            ("bank_good.csv", "camt053", "CSV"),
            ("camt053_v02_good.xml", "ofx", "camt.053"),
            ("ofx_v1_good.ofx", "mt940", "OFX"),
            ("mt940_good.sta", "stripe_balance", "MT940"),
            ("stripe_balance_transactions.csv", "camt053", "Stripe balance report"),
        ],
    )
    def test_refuses_a_file_that_is_not_the_declared_format(self, name, declared, found):
        with pytest.raises(StatementFileInvalid) as caught:
            statement_file_parse(fixture(name), format=declared)
        assert f"it looks like a {found} file" in caught.value.message

    def test_refuses_an_unknown_format(self):
        with pytest.raises(StatementFileInvalid, match="'xlsx' is not a statement format"):
            statement_file_parse(fixture("bank_good.csv"), format="xlsx")

    def test_refuses_an_unknown_currency(self):
        with pytest.raises(UnknownCurrency):
            statement_file_parse(fixture("camt053_v02_good.xml"), currency="XXX")

    def test_refuses_an_empty_file_of_a_declared_format(self):
        for format in FORMATS:
            with pytest.raises(StatementFileInvalid, match="The file is empty"):
                statement_file_parse(b"\n", format=format, csv_mapping=CsvMapping("Date", amount_column="A"))


class TestParseAmount:
    @pytest.mark.parametrize(
        ("text", "minor"),
        [
            ("12.34", 1234),
            ("-12.34", -1234),
            ("+5", 500),
            ("0.5", 50),
            (".75", 75),
            ("1,234.56", 123456),
            ("£1,234.56", 123456),
            ("-£12.00", -1200),
            ("£-12.00", -1200),
            (" 1 234.56 ", 123456),
        ],
    )
    def test_reads_bank_amounts_with_decimal_only(self, text, minor):
        assert parse_amount(text, currency="GBP", lenient=True) == minor

    def test_reads_decimal_commas(self):
        assert parse_amount("1.234,56", currency="EUR", decimal_comma=True, lenient=True) == 123456
        assert parse_amount("-318,75", currency="GBP", decimal_comma=True) == -31875

    def test_reads_zero_decimal_and_three_decimal_currencies(self):
        assert parse_amount("1500", currency="JPY") == 1500
        assert parse_amount("1.234", currency="KWD") == 1234

    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("", "is missing"),
            ("abc", "'abc' is not a number"),
            ("12.345", "more decimals than GBP allows (2 decimals)"),
            ("1,23,4.00", "is not a number"),
            ("1e3", "is not a number"),
            ("12.34.56", "is not a number"),
            ("--5", "is not a number"),
        ],
    )
    def test_refuses_what_is_no_amount(self, text, words):
        with pytest.raises(LineProblem) as caught:
            parse_amount(text, currency="GBP", lenient=True)
        assert words in caught.value.reason

    def test_thousands_separators_only_when_lenient(self):
        with pytest.raises(LineProblem):
            parse_amount("1,234.56", currency="GBP")

    def test_refuses_a_sign_where_none_belongs(self):
        with pytest.raises(LineProblem, match="has a sign"):
            parse_amount("-5.00", currency="GBP", signed=False)

    def test_never_uses_float(self):
        # 0.1 + 0.2 is 0.30000000000000004 in floats: Decimal keeps pence exact.
        assert parse_amount("0.1", currency="GBP") + parse_amount("0.2", currency="GBP") == 30
        assert parse_amount("9007199254740993.01", currency="GBP") == 900719925474099301


class TestValues:
    def test_amount_text_groups_thousands(self):
        assert amount_text(123456, currency="GBP") == "1,234.56"
        assert amount_text(-5, currency="GBP") == "-0.05"
        assert amount_text(1500, currency="JPY") == "1,500"

    @pytest.mark.parametrize(
        ("text", "identifier"),
        [
            ("20-00-00 12345678", "20000012345678"),
            ("200000/12345678", "20000012345678"),
            ("gb47 barc 2000 0012 3456 78", "GB47BARC20000012345678"),
            ("BARCGB22/GB47BARC20000012345678", "GB47BARC20000012345678"),
            ("", ""),
        ],
    )
    def test_account_identifier(self, text, identifier):
        assert account_identifier(text) == identifier

    def test_iso_dates(self):
        assert parse_iso_date("2026-11-02") == date(2026, 11, 2)
        assert parse_iso_date("2026-11-02T23:59:59+01:00") == date(2026, 11, 2)
        assert parse_iso_date("2026-11-02 10:15") == date(2026, 11, 2)
        for bad in ("02/11/2026", "2026-02-30", "2026-11-02x", ""):
            with pytest.raises(LineProblem):
                parse_iso_date(bad)


GOOD_FILES = [
    (
        "bank_good.csv",
        CsvMapping("Date", paid_in_column="Paid in", paid_out_column="Paid out", balance_column="Balance"),
    ),
    ("ofx_v1_good.ofx", None),
    ("ofx_v2_good.ofx", None),
    ("camt053_v02_good.xml", None),
    ("camt053_v08_two_days.xml", None),
    ("mt940_good.sta", None),
    ("mt940_two_days_envelope.sta", None),
    ("stripe_balance_transactions.csv", None),
    ("stripe_payout_itemized.csv", None),
]


class TestEveryGoodFile:
    @pytest.mark.parametrize(("name", "mapping"), GOOD_FILES)
    def test_windows_line_endings_and_a_byte_order_mark_change_nothing(self, name, mapping):
        content = fixture(name)
        as_written = statement_file_parse(content, csv_mapping=mapping)
        windows = b"\xef\xbb\xbf" + content.replace(b"\n", b"\r\n")
        assert statement_file_parse(windows, csv_mapping=mapping) == as_written

    @pytest.mark.parametrize(("name", "mapping"), GOOD_FILES)
    def test_balances_add_up_where_the_file_states_them(self, name, mapping):
        statement = statement_file_parse(fixture(name), csv_mapping=mapping)
        assert statement.lines
        assert statement.currency == "GBP"
        if statement.opening_balance_minor is not None:
            total = sum(line.amount_minor for line in statement.lines)
            assert statement.opening_balance_minor + total == statement.closing_balance_minor
        for line in statement.lines:
            assert line.kind
            assert line.reference == line.reference.strip()
            assert isinstance(line.amount_minor, int)
