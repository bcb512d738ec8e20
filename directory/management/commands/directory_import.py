"""`python manage.py directory_import FILE`: import an Open Referral UK JSON file, whole or not at all.

Every record is checked first; a file with any mistake is refused whole, each mistake listed with the
record and the field, and exit status 1. A record already in Purse (the same id) is updated."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from directory.services.oruk import OrukFileInvalid, directory_oruk_import


class Command(BaseCommand):
    help = (
        "Import an Open Referral UK JSON file into the service directory (all of it, or none if it is wrong)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the Open Referral UK JSON file")

    def handle(self, *args, **options) -> None:
        try:
            data = Path(options["file"]).read_bytes()
        except OSError as error:
            raise CommandError(f"Could not read {options['file']}: {error.strerror}.") from None
        try:
            summary = directory_oruk_import(data=data)
        except OrukFileInvalid as refused:
            for problem in refused.errors:
                where = f" (at {problem['pointer']})" if problem["pointer"] else ""
                self.stderr.write(f"- {problem['detail']}{where}")
            raise CommandError(f"Nothing was imported: {len(refused.errors)} problems in the file.") from None
        self.stdout.write(
            f"Imported {summary.services} services ({summary.services_created} new,"
            f" {summary.services_updated} updated), {summary.organisations} organisations,"
            f" {summary.locations} locations and {summary.taxonomy_terms} taxonomy terms."
        )
