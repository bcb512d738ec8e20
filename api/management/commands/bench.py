"""`python manage.py bench ledger|invoicing`: run a benchmark and print its figures against its goals."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from invoicing.benchmarks import BenchUnavailable, invoicing_bench_run
from invoicing.services import INVOICE_MAX_LINES
from ledger.benchmarks import bench_database, ledger_bench_run

# Each target's sizes, and the default of `--reads` (shared by both).
SIZES = {
    "ledger": ("transactions", "threads", "small_postings", "postings", "reads"),
    "invoicing": ("submissions", "lines", "invoices", "reads"),
}
READS = {"ledger": 1_000, "invoicing": 200}


class Command(BaseCommand):
    help = (
        "Benchmark a part of Purse. `ledger`: transaction throughput through the service against raw "
        "INSERTs, and current-balance reads for an account with few against very many postings. "
        "`invoicing`: in the demo world, invoice submissions over HTTP against the service, the invoice "
        "list against json.dumps of its rows' values, and the queries per request of POST and GET "
        "/api/v1/invoices/ at two sizes. Runs in a throwaway database, created and dropped again, unless "
        "--use-current-database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", choices=["ledger", "invoicing"])
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
            options["reads"] = READS[target]
        for name in SIZES[target]:
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        if target == "invoicing" and options["lines"] > INVOICE_MAX_LINES:
            raise CommandError(f"--lines must be at most {INVOICE_MAX_LINES} (an invoice's most).")
        progress = lambda message: self.stderr.write(f"... {message}")  # noqa: E731

        def run():
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
