"""`python manage.py post_due_instalments [--on DATE]`: post every instalment due by a day to the ledger and
tell each person on their timeline."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from plans.services.instalments import plan_instalments_post_due


class Command(BaseCommand):
    help = (
        "Post every scheduled instalment due on or before a day (today unless --on) to the ledger, and write "
        "one entry per instalment on its person's timeline. Safe to run again, or twice at once: each "
        "instalment is posted and told once."
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
        result = plan_instalments_post_due(on=day, batch_size=batch_size)
        posting = result.posting
        self.stdout.write(
            f"Instalments due by {day.isoformat()}: {posting.posted} posted, "
            f"{posting.already_posted} already posted, {posting.skipped} skipped, {len(posting.failed)} "
            f"failed; {result.entries_recorded} timeline entries written."
        )
        for public_id, message in posting.failed:
            self.stderr.write(f"{public_id}: {message}")
        if posting.failed:
            raise CommandError(f"{len(posting.failed)} instalments could not be posted; see above.")
