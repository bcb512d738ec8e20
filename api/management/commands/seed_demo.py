"""`python manage.py seed_demo`: create the demo world of api.md, "Demo data". Idempotent."""

from django.core.management.base import BaseCommand

from people import demo


class Command(BaseCommand):
    help = "Create the demo data (sign-ins, agencies, providers). Running it again changes nothing."

    def handle(self, *args, **options) -> None:
        users = demo.seed_people()
        self.stdout.write("Demo data is ready. Sign in at /sign-in/ as any of these, all with the password")
        self.stdout.write(f"  {demo.DEMO_PASSWORD}   (demo only: never use it for real people's data)")
        self.stdout.write("")
        for username, user in users.items():
            organisation = f", {user.organisation.name}" if user.organisation_id else ""
            staff = "  (second factor)" if user.needs_second_factor else ""
            self.stdout.write(f"  {username:<13} {user.get_role_display()}{organisation}{staff}")
        self.stdout.write("")
        self.stdout.write("Staff sign in with a second factor. Get the current 6-digit code with")
        self.stdout.write("  DEBUG=true .venv/bin/python manage.py demo_code <username>")
        self.stdout.write(f"or add the demo secret {demo.DEMO_TOTP_SECRET_BASE32} to an authenticator app.")
