"""`python manage.py issue_token <username> [--name NAME]`: issue a personal API token and print it once."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from people import selectors, services


class Command(BaseCommand):
    help = "Issue a personal API token for a user. The token is printed once and stored only as a hash."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="Whose token it is.")
        parser.add_argument(
            "--name", default="Command line", help="What the token is for (default: %(default)s)."
        )

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = selectors.user_get_by_username(username=username)
        if user is None:
            raise CommandError(f"There is no user called {username!r}.")
        if not user.is_active:
            raise CommandError(f"{username!r} is not active, so a token would be refused.")
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("Give the token a name of 1 to 100 characters with --name.")
        token, raw = services.personal_token_issue(user=user, name=name, issued_by=None)
        self.stderr.write(
            f"Issued token {token.public_id} ({token.name!r}) for {username}. Copy it now: it will not be "
            "shown again. Use it as 'Authorization: Token <token>'."
        )
        # The token alone on standard output, so that a script can capture it.
        self.stdout.write(raw)
