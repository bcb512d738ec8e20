"""Stripe balance transactions: the Dashboard export and the itemised payout reconciliation report."""

from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from ledger.reconciliation.statement_files import StatementFileInvalid, StatementLineIn, statement_file_parse

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str, **kwargs):
    return statement_file_parse(fixture(name), format="stripe_balance", **kwargs)


def refusal(content: bytes, **kwargs) -> StatementFileInvalid:
    with pytest.raises(StatementFileInvalid) as caught:
        statement_file_parse(content, format="stripe_balance", **kwargs)
    return caught.value


class TestDashboardExport:
    def test_reads_the_file(self):
        statement = parse("stripe_balance_transactions.csv")
        assert statement.format == "stripe_balance"
        assert statement.currency == "GBP"
        assert statement.account_identifier == ""
        # These exports state no balances.
        assert statement.opening_balance_minor is None
        assert statement.closing_balance_minor is None
        assert statement.period_start == date(2026, 11, 2)
        assert statement.period_end == date(2026, 11, 6)
        assert [line.line_number for line in statement.lines] == [2, 3, 4, 5, 6, 7, 8, 9]

    def test_reads_a_line_field_by_field(self):
        assert parse("stripe_balance_transactions.csv").lines[1] == StatementLineIn(
            line_number=3,
            booked_on=date(2026, 11, 3),
            amount_minor=-31_875,
            reference="tr_1QwF7cL2eZvKYlo2q4Rm1Wc2",
            description="PAY-K7G57JMJTNSUJE",
            bank_id="txn_1QwF7cL2eZvKYlo2Hh3Tz8Ka",
            kind="transfer",
            value_on=date(2026, 11, 3),
            batch="",
        )

    def test_kinds_amounts_and_the_payout(self):
        lines = parse("stripe_balance_transactions.csv").lines
        assert [line.kind for line in lines] == [
            "topup",
            "transfer",
            "transfer",
            "transfer",
            "transfer_refund",
            "stripe_fee",
            "payout",
            "transfer",
        ]
        assert [line.amount_minor for line in lines] == [
            500000,
            -31875,
            -9600,
            -9600,
            9600,
            -200,
            -15000,
            -1234,
        ]
        payout = lines[6]
        assert payout.reference == payout.batch == "po_1QxT8mL2eZvKYlo2C0a1b2c3"
        # A fee has no source.
        assert lines[5].reference == ""

    def test_duplicate_transfers_and_their_reversal_are_kept(self):
        lines = parse("stripe_balance_transactions.csv").lines
        assert lines[2].description == lines[3].description == "PAY-W4XJ7D2K9PLM3R"
        assert lines[2].bank_id != lines[3].bank_id
        assert lines[4].description == "Reversal of PAY-W4XJ7D2K9PLM3R"
        assert lines[4].amount_minor == -lines[3].amount_minor

    def test_the_amount_is_the_net(self):
        content = fixture("stripe_balance_transactions.csv").replace(
            b"topup,tu_1QwE1aL2eZvKYlo2bV6nX0pQ,5000.00,0.00,5000.00",
            b"topup,tu_1QwE1aL2eZvKYlo2bV6nX0pQ,5000.00,1.25,4998.75",
        )
        assert statement_file_parse(content).lines[0].amount_minor == 499_875


class TestPayoutReconciliationReport:
    def test_a_payout_covering_many_transfers(self):
        statement = parse("stripe_payout_itemized.csv")
        by_payout = defaultdict(list)
        for line in statement.lines:
            by_payout[line.batch].append(line)
        assert list(by_payout) == ["po_1QyA2bL2eZvKYlo2Xk9d8e7f"]
        settled = by_payout["po_1QyA2bL2eZvKYlo2Xk9d8e7f"]
        assert len(settled) == 7
        assert [line.kind for line in settled].count("transfer") == 4
        # What the bank received from Stripe for that payout (camt053_v08_two_days.xml, mt940_two_days...).
        assert sum(line.amount_minor for line in settled) == 208_742

    def test_reads_a_line_field_by_field(self):
        assert parse("stripe_payout_itemized.csv").lines[1] == StatementLineIn(
            line_number=3,
            booked_on=date(2026, 11, 6),
            amount_minor=-31_875,
            reference="tr_1QyA0bL2eZvKYlo2Gk8Rr4Lc",
            description="PAY-K7G57JMJTNSUJE",
            bank_id="txn_1QyA0bL2eZvKYlo2Dv5Wj2Sb",
            kind="transfer",
            value_on=date(2026, 11, 6),
            batch="po_1QyA2bL2eZvKYlo2Xk9d8e7f",
        )
        fee = parse("stripe_payout_itemized.csv").lines[6]
        assert (fee.kind, fee.reference, fee.amount_minor) == ("fee", "", -200)

    def test_a_zero_decimal_currency(self):
        content = (
            b"balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id\n"
            b"txn_1,2026-11-02 10:00:00,jpy,1500,0,1500,charge,ch_1\n"
        )
        assert statement_file_parse(content, currency="JPY").lines[0].amount_minor == 1500


class TestRefusals:
    def test_bad_lines_are_named(self):
        error = refusal(fixture("stripe_bad_lines.csv"))
        assert [(p["line"], p["reason"]) for p in error.problems] == [
            (4, "The net amount -96.00 is not the gross -96.00 less the fee 0.25."),
            (7, "This line is in USD, but the account is in GBP."),
            (9, "The gross amount '-12.345' has more decimals than GBP allows (2 decimals)."),
        ]
        assert error.message == "Line 4: the net amount -96.00 is not the gross -96.00 less the fee 0.25."

    def test_a_truncated_file(self):
        error = refusal(fixture("stripe_truncated.csv"))
        assert error.message == "Line 4: this row has 3 columns, but the header has 14."

    def test_a_file_missing_the_columns_it_needs(self):
        error = refusal(b"id,Type,Amount\ntxn_1,charge,5.00\n")
        assert error.problems[0]["line"] == 1
        assert error.message == (
            "Line 1: this is not a Stripe balance transactions export: it has no 'Created (UTC)', 'Currency' "
            "and 'Net' column (its columns are 'id', 'Type' and 'Amount')."
        )

    @pytest.mark.parametrize(
        ("row", "reason"),
        [
            (b"txn_1,charge,5.00,0.00,5.00,gbp,,", "The created date is missing."),
            (b"txn_1,charge,5.00,0.00,5.00,gbp,02/11/2026,", "The created date '02/11/2026' is not a date"),
            (b"txn_1,charge,5.00,0.00,five,gbp,2026-11-02 10:00,", "The net amount 'five' is not a number."),
            (b",charge,5.00,0.00,5.00,gbp,2026-11-02 10:00,", "The balance transaction id is missing."),
            (
                b"txn_1,,5.00,0.00,5.00,gbp,2026-11-02 10:00,",
                "The type of the balance transaction is missing.",
            ),
        ],
    )
    def test_unreadable_values(self, row, reason):
        error = refusal(b"id,Type,Amount,Fee,Net,Currency,Created (UTC),Description\n" + row + b"\n")
        assert error.problems[0]["line"] == 2
        assert error.problems[0]["reason"].startswith(reason)
