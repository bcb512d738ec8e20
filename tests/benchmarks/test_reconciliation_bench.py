"""`python manage.py bench reconciliation` at a tiny size: the report's rows and goals, and that the world it
builds is matched as built (every line but those of nobody's is matched)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ledger.reconciliation.benchmarks import reconciliation_bench_run
from ledger.reconciliation.models import StatementLine


@pytest.mark.django_db(transaction=True)
class TestReconciliationBench:
    def test_the_command_runs_with_a_tiny_size_and_prints_the_goals(self):
        out, err = StringIO(), StringIO()

        call_command(
            "bench",
            "reconciliation",
            "--statement-lines=300",
            "--use-current-database",
            stdout=out,
            stderr=err,
        )

        table = out.getvalue()
        assert "seconds to match its lines automatically" in table
        assert "<= 2.0" in table and "<= 1.5" in table
        assert "matching 30 lines" in table and "matching 300 lines" in table
        assert "... parsing the statement" in err.getvalue()

    def test_the_lines_are_matched_as_the_world_was_built(self):
        report = reconciliation_bench_run(lines=400)
        rows = {row.measure: row.value for row in report.rows}

        assert rows["lines matched"] + rows["lines suggested"] + rows["lines unmatched"] == 400
        # About 5% of the lines are of nobody's; the rest all match, none only suggested.
        assert rows["lines suggested"] == 0
        assert 0 < rows["lines unmatched"] < 60
        assert rows["seconds to parse the CSV statement"] > 0
        # Only the lines of nobody's are left unmatched, in every world the bench built.
        assert not StatementLine.objects.filter(state="unmatched").exclude(description="UNKNOWN").exists()
        assert not StatementLine.objects.filter(description="UNKNOWN").exclude(state="unmatched").exists()

    def test_the_command_refuses_a_size_below_one(self):
        with pytest.raises(CommandError, match="--statement-lines must be at least 1"):
            call_command("bench", "reconciliation", "--statement-lines=0", "--use-current-database")
