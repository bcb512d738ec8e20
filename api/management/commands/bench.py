"""`python manage.py bench ledger|invoicing|statements|reconciliation`: run a benchmark and print its
figures against its goals."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from invoicing.benchmarks import BenchUnavailable, invoicing_bench_run
from invoicing.services import INVOICE_MAX_LINES
from ledger.benchmarks import bench_database, ledger_bench_run
from ledger.reconciliation.benchmarks import reconciliation_bench_run
from statements.benchmarks import statements_bench_run

# Each target's sizes, and the default of `--reads` (shared by ledger and invoicing).
SIZES = {
    "ledger": ("transactions", "threads", "small_postings", "postings", "reads"),
    "invoicing": ("submissions", "lines", "invoices", "reads"),
    "statements": ("people", "short_lines", "long_lines", "renders"),
    "reconciliation": ("statement_lines",),
}
READS = {"ledger": 1_000, "invoicing": 200}


class Command(BaseCommand):
    help = (
        "Benchmark a part of Purse. `ledger`: transaction throughput through the service against raw "
        "INSERTs, and current-balance reads for an account with few against very many postings. "
        "`invoicing`: in the demo world, invoice submissions over HTTP against the service, the invoice "
        "list against json.dumps of its rows' values, and the queries per request of POST and GET "
        "/api/v1/invoices/ at two sizes. `statements`: seconds a page of a long person's statement against a "
        "short one's, and a month-end statement run on 2 Celery worker processes against 1 (needs "
        "PostgreSQL and Redis). `reconciliation`: seconds to match a bank statement's lines automatically "
        "against the ledger, divided by the seconds to parse the file, and matching's peak memory at N lines "
        "against N/10. Runs in a throwaway database, created and dropped again, unless "
        "--use-current-database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", choices=["ledger", "invoicing", "statements", "reconciliation"])
        ledger = parser.add_argument_group("ledger")
        ledger.add_argument("--transactions", type=int, default=2000, help="per throughput measurement")
        ledger.add_argument("--threads", type=int, default=4, help="concurrent writers")
        ledger.add_argument("--small-postings", type=int, default=1_000, help="postings on the small account")
        ledger.add_argument("--postings", type=int, default=1_000_000, help="postings on the large account")
        invoicing = parser.add_argument_group("invoicing")
        invoicing.add_argument(
            "--submissions", type=int, default=300, help="invoices submitted each way (service, HTTP)"
        )
        invoicing.add_argument("--lines", type=int, default=5, help="lines of each submitted invoice")
        invoicing.add_argument(
            "--invoices", type=int, default=1_000, help="invoices in the table for the list's measurements"
        )
        statements = parser.add_argument_group("statements")
        statements.add_argument(
            "--people", type=int, default=200, help="people with money and paid invoices in the timed runs"
        )
        statements.add_argument(
            "--short-lines", type=int, default=2, help="paid invoice lines of the short statement's person"
        )
        statements.add_argument(
            "--long-lines",
            type=int,
            default=72,
            help="paid invoice lines of the long statement's person (72: about 12 pages)",
        )
        statements.add_argument("--renders", type=int, default=7, help="timed renders of each statement")
        statements.add_argument(
            "--skip-workers", action="store_true", help="do not time the runs on Celery workers"
        )
        statements.add_argument(
            "--redis-url",
            default=None,
            help="the workers' broker, a Redis database of its own (default redis://127.0.0.1:6379/5)",
        )
        reconciliation = parser.add_argument_group("reconciliation")
        reconciliation.add_argument(
            "--statement-lines", type=int, default=100_000, help="bank statement lines matched"
        )
        parser.add_argument(
            "--reads",
            type=int,
            default=None,
            help=f"reads timed: balance reads per account (ledger, default {READS['ledger']:,}), list "
            f"requests (invoicing, default {READS['invoicing']:,})",
        )
        parser.add_argument(
            "--use-current-database",
            action="store_true",
            help="write into the configured database instead of a throwaway one (its rows stay: for tests)",
        )
        parser.add_argument("--fail-on-miss", action="store_true", help="exit non-zero if a goal is missed")

    def handle(self, *args, **options) -> None:
        target = options["target"]
        if options["reads"] is None:
            options["reads"] = READS.get(target)
        for name in SIZES[target]:
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        if target == "invoicing" and options["lines"] > INVOICE_MAX_LINES:
            raise CommandError(f"--lines must be at most {INVOICE_MAX_LINES} (an invoice's most).")
        progress = lambda message: self.stderr.write(f"... {message}")  # noqa: E731

        def run():
            if target == "statements":
                return statements_bench_run(
                    people=options["people"],
                    short_lines=options["short_lines"],
                    long_lines=options["long_lines"],
                    renders=options["renders"],
                    workers=not options["skip_workers"],
                    redis_url=options["redis_url"],
                    progress=progress,
                )
            if target == "reconciliation":
                return reconciliation_bench_run(lines=options["statement_lines"], progress=progress)
            if target == "invoicing":
                try:
                    return invoicing_bench_run(
                        submissions=options["submissions"],
                        lines=options["lines"],
                        invoices=options["invoices"],
                        reads=options["reads"],
                        progress=progress,
                    )
                except BenchUnavailable as error:
                    raise CommandError(str(error)) from error
            return ledger_bench_run(
                transactions=options["transactions"],
                threads=options["threads"],
                small_postings=options["small_postings"],
                large_postings=options["postings"],
                reads=options["reads"],
                in_throwaway_database=not options["use_current_database"],
                progress=progress,
            )

        if options["use_current_database"]:
            report = run()
        else:
            with bench_database():
                report = run()
        self.stdout.write(report.as_table())
        if options["fail_on_miss"] and not report.passed:
            raise CommandError(f"The {target} benchmark missed a goal.")
