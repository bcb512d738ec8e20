"""Large generated files parse whole and add up (the benchmark times them; these tests do not)."""

from ledger.reconciliation.statement_files import statement_file_detect, statement_file_parse
from tests.ledger.reconciliation.generate import (
    CSV_MAPPING,
    OPENING_MINOR,
    camt053_statement,
    csv_statement,
    statement_rows,
)

LINES = 20_000


class TestGeneratedFiles:
    def test_a_large_csv_file(self):
        content = csv_statement(LINES)
        assert statement_file_detect(content) == "csv"
        statement = statement_file_parse(content, format="csv", csv_mapping=CSV_MAPPING)
        rows = statement_rows(LINES)
        assert len(statement.lines) == LINES
        assert statement.lines[-1].line_number == LINES + 1
        assert [line.amount_minor for line in statement.lines] == [row[1] for row in rows]
        assert statement.opening_balance_minor == OPENING_MINOR
        assert statement.closing_balance_minor == OPENING_MINOR + sum(row[1] for row in rows)
        assert statement.lines[0].bank_id == "T000000001"

    def test_a_large_camt053_file(self):
        content = camt053_statement(LINES)
        assert statement_file_detect(content) == "camt053"
        statement = statement_file_parse(content, format="camt053")
        rows = statement_rows(LINES)
        assert len(statement.lines) == LINES
        assert statement.lines[-1].line_number == LINES
        assert [line.reference for line in statement.lines[:50]] == [row[2] for row in rows[:50]]
        assert statement.closing_balance_minor == OPENING_MINOR + sum(row[1] for row in rows)

    def test_generated_files_are_the_same_lines(self):
        csv_lines = statement_file_parse(csv_statement(500), csv_mapping=CSV_MAPPING).lines
        camt_lines = statement_file_parse(camt053_statement(500)).lines
        assert [(line.booked_on, line.amount_minor, line.reference, line.bank_id) for line in csv_lines] == [
            (line.booked_on, line.amount_minor, line.reference, line.bank_id) for line in camt_lines
        ]

    def test_generating_is_deterministic(self):
        assert csv_statement(100) == csv_statement(100)
        assert camt053_statement(100) != camt053_statement(100, seed=10)

    def test_an_empty_generated_file_still_parses(self):
        assert statement_file_parse(camt053_statement(0)).lines == ()
