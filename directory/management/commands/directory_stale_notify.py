"""`python manage.py directory_stale_notify [--today YYYY-MM-DD]`: email each provider, once, the services
of theirs not reviewed for 6 months (directory.rules). Safe to run again, daily from cron or Celery beat:
a service already flagged is not mentioned again until it is reviewed and goes stale once more."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from directory.services.listings import services_stale_notify


class Command(BaseCommand):
    help = (
        "Email each provider's users, once, about their services not reviewed for 6 months. "
        "Safe to run again: a service already flagged is not mentioned until it is reviewed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="the day to judge by, YYYY-MM-DD (default: today)")

    def handle(self, *args, **options) -> None:
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"].strip())
            except ValueError:
                raise CommandError(f"{options['today']!r} is not a date: write it as YYYY-MM-DD.") from None
        told = services_stale_notify(today=today)
        self.stdout.write(
            f"{told} provider{'' if told == 1 else 's'} told about services that need a review."
        )
