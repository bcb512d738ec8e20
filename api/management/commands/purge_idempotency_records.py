"""`python manage.py purge_idempotency_records`: delete Idempotency-Key records older than 24 hours."""

from django.core.management.base import BaseCommand

from api.idempotency import idempotency_records_purge


class Command(BaseCommand):
    help = (
        "Delete the stored first responses of Idempotency-Key requests older than 24 hours (they are no "
        "longer replayed). Safe to run at any time, for instance daily from cron."
    )

    def handle(self, *args, **options) -> None:
        deleted = idempotency_records_purge()
        self.stdout.write(f"Deleted {deleted} expired idempotency record{'' if deleted == 1 else 's'}.")
