"""`python manage.py bench statements` at tiny sizes: the report's shape and goals; the run on real Celery
workers where it can be measured (PostgreSQL and Redis), and said not measured, with why, where not."""

import math
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from invoicing.models import Invoice, InvoiceStatus
from ledger.benchmarks import BenchRow
from statements import tasks
from statements.benchmarks import SPEED_UP_MEASURE, StatementsBenchReport, statements_bench_run
from statements.models import IssuedStatement, RunStatus, StatementRun

TINY = ["--people=4", "--short-lines=1", "--long-lines=25", "--renders=1"]
PAGE_ROWS = [
    "pages, short statement (2 payment lines)",
    "pages, long statement (50 payment lines)",
    "median seconds a page, short statement",
    "median seconds a page, long statement",
    "  long / short",
    "  long / short, in CPU seconds a page",
]
RUN_ROWS = [
    "statements in each run (people and streams)",
    "  of which person statements",
    "seconds for the run, 1 worker process (best of 2)",
    "seconds for the run, 2 worker processes (best of 2)",
    SPEED_UP_MEASURE,
]


@pytest.mark.django_db(transaction=True)  # committed, for the workers (other processes) to read
class TestStatementsBench:
    def test_the_command_runs_with_tiny_sizes_and_prints_the_goals(self):
        out, err = StringIO(), StringIO()

        call_command(
            "bench", "statements", *TINY, "--skip-workers", "--use-current-database", stdout=out, stderr=err
        )

        table = out.getvalue()
        assert "Statements benchmark on" in table
        for measure in PAGE_ROWS:
            assert measure in table
        assert "<= 1.5" in table and ">= 1.7" in table and "NOT MEASURED" in table
        assert "The run on Celery workers was not measured: --skip-workers was given." in table
        assert "making the short (1 line(s)) and long (25 lines) statements' people" in err.getvalue()
        # The world, made through the services: every invoice approved by the person's rule, and paid.
        assert Invoice.objects.count() == 3
        assert set(Invoice.objects.values_list("status", flat=True)) == {InvoiceStatus.PAID}
        assert not IssuedStatement.objects.exists()  # rendering only

    def test_the_pages_are_measured_in_pages_from_the_pdfs(self):
        report = statements_bench_run(people=2, short_lines=1, long_lines=25, renders=2, workers=False)

        assert [row.measure for row in report.rows] == [*PAGE_ROWS, SPEED_UP_MEASURE]
        short_pages, long_pages = report.rows[0].value, report.rows[1].value
        assert 1 <= short_pages < long_pages
        assert all(row.value > 0 for row in report.rows[:6])
        ratio = report.row("  long / short")
        assert ratio.value == pytest.approx(report.rows[3].value / report.rows[2].value)
        assert ratio.passed is (ratio.value <= 1.5)

    @pytest.mark.skipif(connection.vendor != "sqlite", reason="on PostgreSQL the run on workers is measured")
    def test_on_sqlite_the_run_on_workers_is_not_measured_and_says_why(self):
        report = statements_bench_run(people=4, short_lines=1, long_lines=2, renders=1)

        assert len(report.rows) == 7 and report.rows[-1].measure == SPEED_UP_MEASURE
        speed_up = report.row(SPEED_UP_MEASURE)
        assert math.isnan(speed_up.value) and speed_up.passed is None and speed_up.goal == ">= 1.7"
        assert report.notes == [
            "The run on Celery workers was not measured: it needs PostgreSQL, not sqlite (the workers are "
            "other processes writing at once, which SQLite serialises); set DATABASE_URL=postgres://..."
        ]
        assert report.passed is report.row("  long / short").passed  # not measured is not missed
        assert not StatementRun.objects.exists()

    @pytest.mark.postgres
    def test_on_postgresql_a_run_is_timed_on_one_and_on_two_worker_processes(self):
        # A task run eagerly first, as the other tests do: the app then holds connections to the default
        # broker (amqp://localhost), which the bench must not send the run's tasks to.
        assert tasks.statement_run_dispatch.delay(0).get() == 0

        report = statements_bench_run(people=3, short_lines=1, long_lines=2, renders=1)

        if "not measured" in report.notes[0]:  # PostgreSQL, but no Redis
            pytest.skip(report.notes[0])
        assert report.notes[0] == "The runs, in order (the machine has 2 CPUs):".replace(
            "2", str(os.cpu_count())
        )
        assert [note.split(":")[0] for note in report.notes[1:]] == [
            "  1. 1 worker process(es)",
            "  2. 2 worker process(es)",
            "  3. 2 worker process(es)",
            "  4. 1 worker process(es)",
        ]
        assert [row.measure for row in report.rows][6:] == RUN_ROWS
        total, people = report.row(RUN_ROWS[0]).value, report.row(RUN_ROWS[1]).value
        assert people == 3 and total > people  # and the active streams' agency statements
        assert report.row(RUN_ROWS[2]).value > 0 and report.row(RUN_ROWS[3]).value > 0
        runs = list(StatementRun.objects.order_by("ends_on"))
        assert [run.status for run in runs] == [RunStatus.DONE] * 4
        assert [run.ends_on.isoformat() for run in runs] == [
            "2026-12-01",
            "2026-12-02",
            "2026-12-03",
            "2026-12-04",
        ]
        for run in runs:  # every statement made, once, by the workers
            assert run.total == total == IssuedStatement.objects.filter(run=run).count()

    @pytest.mark.parametrize("option", ["--people=0", "--short-lines=0", "--long-lines=0", "--renders=0"])
    def test_the_command_refuses_sizes_below_one(self, option):
        with pytest.raises(CommandError):
            call_command("bench", "statements", option, "--use-current-database")


class TestStatementsBenchReport:
    def test_a_goal_not_measured_is_no_miss_but_a_missed_one_is(self):
        good = BenchRow(measure="g", value=1.0, unit="ratio", goal="<= 1.5", passed=True)
        unmeasured = BenchRow(measure="u", value=math.nan, unit="ratio", goal=">= 1.7")
        bad = BenchRow(measure="b", value=1.2, unit="ratio", goal=">= 1.7", passed=False)

        report = StatementsBenchReport(vendor="v", database="d", rows=[good, unmeasured], notes=["why"])
        assert report.passed
        table = report.as_table()
        assert "NOT MEASURED" in table and "why" in table and "all goals met" in table
        missed = StatementsBenchReport(vendor="v", database="d", rows=[good, bad])
        assert not missed.passed
        assert "FAIL" in missed.as_table() and "SOME GOALS MISSED" in missed.as_table()
