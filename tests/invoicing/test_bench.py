from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from invoicing.benchmarks import BenchRow, InvoicingBenchReport, invoicing_bench_run
from invoicing.models import Invoice, InvoiceStatus
from tests.api.plans_world import install_clock

TODAY = date(2026, 11, 20)  # inside the demo plan year 2026/27


@pytest.mark.django_db
class TestInvoicingBench:
    def test_the_command_runs_with_tiny_sizes_and_prints_the_goals(self, monkeypatch):
        install_clock(monkeypatch, today=TODAY)
        out, err = StringIO(), StringIO()

        call_command(
            "bench",
            "invoicing",
            "--submissions=2",
            "--lines=2",
            "--invoices=15",
            "--reads=3",
            "--use-current-database",
            stdout=out,
            stderr=err,
        )

        table = out.getvalue()
        assert "Invoicing benchmark on" in table
        assert ">= 0.3" in table and "<= 3" in table
        assert table.count("equal") == 2
        assert "queries, POST /api/v1/invoices/, 20 lines" in table
        assert "instalments due by 2026-11-20" in err.getvalue()
        # Every submission was accepted and waits for approval: nothing on hold, nothing reserved.
        assert Invoice.objects.count() >= 15
        assert set(Invoice.objects.values_list("status", flat=True)) == {InvoiceStatus.AWAITING_APPROVAL}
        assert not Invoice.objects.filter(lines__service_date__gt=TODAY).exists()

    def test_the_run_reports_every_figure_and_equal_query_counts(self, monkeypatch):
        install_clock(monkeypatch, today=TODAY)

        report = invoicing_bench_run(submissions=3, lines=3, invoices=20, reads=3)

        assert len(report.rows) == 14
        assert all(row.value > 0 for row in report.rows)
        assert [row.goal for row in report.rows if row.passed is not None] == [
            "equal",
            ">= 0.3",
            "equal",
            "<= 3",
        ]
        post_1 = report.row("queries, POST /api/v1/invoices/, 1 line")
        post_20 = report.row("queries, POST /api/v1/invoices/, 20 lines")
        assert post_1.value == post_20.value and post_20.passed
        get_rows = [row for row in report.rows if row.measure.startswith("queries, GET")]
        assert get_rows[0].measure.endswith(", 10 invoices in the table")
        assert get_rows[1].measure.endswith(f", {Invoice.objects.count():,} invoices")
        assert get_rows[0].value == get_rows[1].value and get_rows[1].passed

    def test_the_command_refuses_a_day_before_the_plan_year(self, monkeypatch):
        install_clock(monkeypatch, today=date(2026, 3, 1))

        with pytest.raises(CommandError, match="after today"):
            call_command("bench", "invoicing", "--submissions=1", "--use-current-database", stderr=StringIO())

    @pytest.mark.parametrize("option", ["--submissions=0", "--lines=0", "--lines=501", "--invoices=0"])
    def test_the_command_refuses_bad_sizes(self, option):
        with pytest.raises(CommandError):
            call_command("bench", "invoicing", option, "--use-current-database")


class TestInvoicingBenchReport:
    def test_passes_only_when_every_goal_passes(self):
        info = BenchRow(measure="m", value=1, unit="queries")
        good = BenchRow(measure="g", value=1, unit="ratio", goal=">= 0.3", passed=True)
        bad = BenchRow(measure="b", value=0, unit="ratio", goal=">= 0.3", passed=False)

        assert InvoicingBenchReport(vendor="v", database="d", lines=1, rows=[info, good]).passed
        report = InvoicingBenchReport(vendor="v", database="d", lines=1, rows=[info, good, bad])
        assert not report.passed
        assert "FAIL" in report.as_table() and "SOME GOALS MISSED" in report.as_table()
