"""`python manage.py postcodes_load FILE`: add or update postcode coordinates from an ONS Postcode Directory
or "Open Postcode Geo" style CSV file, for distance searches (Purse never looks a postcode up online)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from directory.postcodes import REFUSALS_KEPT, PostcodeFileInvalid, postcodes_load


class Command(BaseCommand):
    help = (
        "Load postcode coordinates from a CSV file whose first line names the columns: pcds (or postcode), "
        "lat and long (or latitude and longitude). Other columns are ignored. The file is read in batches, "
        "so any size will do; loading it again updates the rows it already loaded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file to load.")
        parser.add_argument("--batch-size", type=int, default=2000, help="Rows written at a time.")

    def handle(self, *args, file: str, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            with open(file, newline="", encoding="utf-8-sig") as lines:
                result = postcodes_load(lines=lines, batch_size=batch_size)
        except FileNotFoundError:
            raise CommandError(f"There is no file {file!r}.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file!r} is not a UTF-8 text file.") from None
        except PostcodeFileInvalid as error:
            raise CommandError(error.message) from None
        for refusal in result.refused:
            self.stderr.write(f"Line {refusal.line}: refused, {refusal.reason}.")
        if result.refused_count > REFUSALS_KEPT:
            self.stderr.write(f"... and {result.refused_count - REFUSALS_KEPT} more refused lines.")
        self.stdout.write(f"{result.loaded} postcodes loaded, {result.refused_count} lines refused.")
