"""`python manage.py directory_export [--output FILE]`: the whole directory as an Open Referral UK JSON file
(the standard's `GET /services` answer, each service in full), to FILE or to standard output."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from directory.oruk import oruk_dumps
from directory.selectors.oruk import directory_oruk_export


class Command(BaseCommand):
    help = "Write the whole service directory as an Open Referral UK JSON file (or to standard output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="the file to write (default: standard output)")

    def handle(self, *args, **options) -> None:
        document = directory_oruk_export()
        text = oruk_dumps(document) + "\n"
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        try:
            Path(options["output"]).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Could not write {options['output']}: {error.strerror}.") from None
        self.stderr.write(f"Wrote {document['total_items']} services to {options['output']}.")
