"""`python manage.py issue_api_key <provider-slug> [--name NAME]`: a provider API key, printed once."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.errors import DomainError
from people import selectors, services


class Command(BaseCommand):
    help = (
        "Issue an API key for a care provider's systems. The key is printed once and stored only as a hash."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", help="The provider's slug (its short name).")
        parser.add_argument(
            "--name", default="Command line", help="What the key is for (default: %(default)s)."
        )

    def handle(self, *args, provider: str, name: str, **options) -> None:
        organisation = selectors.organisation_get_by_slug(slug=provider)
        if organisation is None or not organisation.is_provider:
            raise CommandError(f"There is no care provider called {provider!r}.")
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("Give the key a name of 1 to 100 characters with --name.")
        try:
            key, raw = services.provider_api_key_issue(provider=organisation, name=name, issued_by=None)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stderr.write(
            f"Issued API key {key.public_id} ({key.name!r}) for {organisation.name}. Copy it now: it will "
            "not be shown again. Use it as 'Authorization: Bearer <key>'."
        )
        # The key alone on standard output, so that a script can capture it.
        self.stdout.write(raw)
