from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ledger.benchmarks import BenchReport, BenchRow, ledger_bench_run
from ledger.models import Account, Posting


@pytest.mark.django_db(transaction=True)
class TestLedgerBench:
    def test_the_command_runs_with_tiny_sizes_and_prints_the_goals(self):
        out, err = StringIO(), StringIO()

        call_command(
            "bench",
            "ledger",
            "--transactions=6",
            "--threads=1",
            "--small-postings=3",
            "--postings=2500",
            "--reads=5",
            "--use-current-database",
            stdout=out,
            stderr=err,
        )

        table = out.getvalue()
        assert "Ledger benchmark on" in table
        assert table.count(">= 0.5") == 2 and "<= 1.5" in table
        assert "p95 current balance, 2,500 postings" in table
        assert "loading 3 and 2,500 postings" in err.getvalue()
        large = Account.objects.get(key__endswith=":large")
        assert large.debits_posted == Posting.objects.filter(account=large).count() == 2500

    def test_the_run_measures_every_row(self):
        report = ledger_bench_run(
            transactions=4,
            threads=2 if _threads_share_the_database() else 1,
            small_postings=2,
            large_postings=20,
            reads=3,
            in_throwaway_database=False,
        )

        measures = [row.measure for row in report.rows]
        assert len(measures) == 14
        assert all(row.value > 0 for row in report.rows)
        assert [row.passed is not None for row in report.rows].count(True) == 3

    def test_the_command_refuses_sizes_below_one(self):
        with pytest.raises(CommandError):
            call_command("bench", "ledger", "--postings=0", "--use-current-database")


class TestBenchReport:
    def test_passes_only_when_every_goal_passes(self):
        row = BenchRow(measure="m", value=1, unit="x")
        good = BenchRow(measure="g", value=1, unit="x", goal=">= 1", passed=True)
        bad = BenchRow(measure="b", value=0, unit="x", goal=">= 1", passed=False)

        assert BenchReport(vendor="v", database="d", threads=1, rows=[row, good]).passed
        report = BenchReport(vendor="v", database="d", threads=1, rows=[row, good, bad])
        assert not report.passed
        assert "FAIL" in report.as_table() and "SOME GOALS MISSED" in report.as_table()


def _threads_share_the_database():
    from django.db import connection

    # SQLite's in-memory test database is per connection in practice; PostgreSQL's is shared.
    return connection.vendor == "postgresql"
