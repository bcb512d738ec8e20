"""`python manage.py bench ledger`: run a benchmark and print its figures against its goals."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.benchmarks import bench_database, ledger_bench_run


class Command(BaseCommand):
    help = (
        "Benchmark a part of Purse. `ledger`: transaction throughput through the service against raw "
        "INSERTs, and current-balance reads for an account with few against very many postings. Runs in a "
        "throwaway database, created and dropped again, unless --use-current-database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", choices=["ledger"])
        parser.add_argument("--transactions", type=int, default=2000, help="per throughput measurement")
        parser.add_argument("--threads", type=int, default=4, help="concurrent writers")
        parser.add_argument("--small-postings", type=int, default=1_000, help="postings on the small account")
        parser.add_argument("--postings", type=int, default=1_000_000, help="postings on the large account")
        parser.add_argument("--reads", type=int, default=1_000, help="balance reads timed per account")
        parser.add_argument(
            "--use-current-database",
            action="store_true",
            help="write into the configured database instead of a throwaway one (its rows stay: for tests)",
        )
        parser.add_argument("--fail-on-miss", action="store_true", help="exit non-zero if a goal is missed")

    def handle(self, *args, **options) -> None:
        for name in ("transactions", "threads", "small_postings", "postings", "reads"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")

        def run():
            return ledger_bench_run(
                transactions=options["transactions"],
                threads=options["threads"],
                small_postings=options["small_postings"],
                large_postings=options["postings"],
                reads=options["reads"],
                in_throwaway_database=not options["use_current_database"],
                progress=lambda message: self.stderr.write(f"... {message}"),
            )

        if options["use_current_database"]:
            report = run()
        else:
            with bench_database():
                report = run()
        self.stdout.write(report.as_table())
        if options["fail_on_miss"] and not report.passed:
            raise CommandError("The ledger benchmark missed a goal.")
