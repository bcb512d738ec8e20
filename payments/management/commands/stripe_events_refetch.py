"""`python manage.py stripe_events_refetch [--since T [--until T] | --hours N]`: fetch the Stripe events of a
time window again and process the ones Purse missed (while the webhook was down, say).

Idempotent: an event already processed, by webhook or an earlier run, changes nothing, so running it again
over the same window, or over overlapping windows, is safe. Stripe keeps events for 30 days, so a window
that starts earlier is refused. Exit status 1, with a message and no traceback, when Stripe is switched
off or cannot be reached, or when an event could not be processed (it is left for the next run).
"""

from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from payments import stripe_gateway
from payments.services.events import stripe_events_refetch

DEFAULT_HOURS = 72
STRIPE_KEEPS_EVENTS = timedelta(days=30)


def _moment(text: str) -> datetime:
    """An ISO 8601 date and time (`2026-11-19T00:00:00Z`); without an offset it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"{text!r} is not a date and time: write it as ISO 8601, for example 2026-11-19T00:00:00Z."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _shown(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Fetch the Stripe events of a time window again and process the ones Purse missed, for instance "
        "while the webhook was down. Safe to run again: an event already processed changes nothing. "
        f"Without a window, the last {DEFAULT_HOURS} hours. Stripe keeps events for 30 days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        window = parser.add_mutually_exclusive_group()
        window.add_argument(
            "--since",
            help="the window's start, ISO 8601 (2026-11-19T00:00:00Z; without an offset, UTC)",
        )
        window.add_argument(
            "--hours", type=int, help=f"the window is the last N hours (default {DEFAULT_HOURS})"
        )
        parser.add_argument("--until", help="the window's end, ISO 8601 (default: now); only with --since")

    def handle(self, *args, **options) -> None:
        start, end = self._window(options)
        try:
            result = stripe_events_refetch(start=start, end=end)
        except (
            stripe_gateway.StripeDisabled,
            stripe_gateway.StripeUnavailable,
            stripe_gateway.StripeRefused,
        ) as error:
            raise CommandError(f"No events were fetched or processed. {error.message}") from None
        self.stdout.write(
            f"Stripe events from {_shown(start)} to {_shown(end)}: {result.seen} seen, "
            f"{result.new} new, {result.acted} acted on."
        )
        if result.failed:
            for event_id, why in result.failed:
                self.stderr.write(f"{event_id} was not processed: {why}")
            raise CommandError(
                f"{_plural(len(result.failed), 'event')} could not be processed and changed nothing; "
                "run the command again once the reason is fixed."
            )

    @staticmethod
    def _window(options: dict) -> tuple[datetime, datetime]:
        now = timezone.now()
        if options["until"] and not options["since"]:
            raise CommandError("--until needs --since: give the window's start too.")
        if options["since"]:
            start = _moment(options["since"])
            end = _moment(options["until"]) if options["until"] else now
            if end > now:
                end = now
        else:
            hours = DEFAULT_HOURS if options["hours"] is None else options["hours"]
            if hours < 1:
                raise CommandError("--hours must be a whole number of hours, 1 or more.")
            end = now
            start = now - timedelta(hours=hours)
        if start >= end:
            raise CommandError(
                f"The window is empty: it starts at {_shown(start)} and ends at {_shown(end)}. "
                "--since must be earlier than --until, and than now."
            )
        if start < now - STRIPE_KEEPS_EVENTS:
            raise CommandError(
                f"Stripe keeps events for 30 days, so a window starting at {_shown(start)} cannot be fetched "
                f"in full. Start it at {_shown(now - STRIPE_KEEPS_EVENTS)} or later."
            )
        return start, end
