"""`python manage.py demo_code <username>`: the current 6-digit code of a demo staff user (DEBUG only)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from people import demo


class Command(BaseCommand):
    help = "Print the current second-factor code of a demo staff user. Runs only with DEBUG on."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "username", help="A demo staff user: navigator, officer-asc, officer-atw, finance, admin."
        )

    def handle(self, *args, username: str, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "demo_code runs only in the demo (DEBUG on); in production use an authenticator app."
            )
        try:
            code = demo.demo_code(username=username)
        except demo.NotADemoUser as exc:
            raise CommandError(
                f"{username!r} has no authenticator with the demo secret. Run 'python manage.py seed_demo' "
                "first, or give a demo staff user."
            ) from exc
        seconds_left = 30 - int(time.time()) % 30
        self.stderr.write(
            f"Code for {username}, good for about {seconds_left} more seconds (each code signs in once):"
        )
        self.stdout.write(code)
