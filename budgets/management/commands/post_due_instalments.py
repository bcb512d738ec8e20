"""`python manage.py post_due_instalments [--on DATE]`: post every instalment due by a day to the ledger."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from budgets.services.personal_budgets import instalments_post_due


class Command(BaseCommand):
    help = (
        "Post every scheduled instalment due on or before a day (today unless --on) to the ledger. Safe to "
        "run again, or twice at once: each instalment is posted once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--on", help="The day, as YYYY-MM-DD (default: today).")
        parser.add_argument("--batch-size", type=int, default=500, help="Instalments read at a time.")

    def handle(self, *args, on: str | None, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            day = date.fromisoformat(on) if on else timezone.localdate()
        except ValueError:
            raise CommandError(f"--on takes a date written YYYY-MM-DD, not {on!r}.") from None
        result = instalments_post_due(on=day, batch_size=batch_size)
        self.stdout.write(
            f"Instalments due by {day.isoformat()}: {result.posted} posted, {result.already_posted} already "
            f"posted, {result.skipped} skipped, {len(result.failed)} failed."
        )
        for public_id, message in result.failed:
            self.stderr.write(f"{public_id}: {message}")
        if result.failed:
            raise CommandError(f"{len(result.failed)} instalments could not be posted; see above.")
