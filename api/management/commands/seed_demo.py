"""`python manage.py seed_demo`: create the demo world of api.md, "Demo data". Idempotent."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from budgets import demo as budgets_demo
from invoicing import demo as invoicing_demo
from payments import demo as payments_demo
from people import demo
from plans import demo as plans_demo


class Command(BaseCommand):
    help = (
        "Create the demo data (sign-ins, agencies, providers, funding streams and their rate catalogues, "
        "support plans with their personal budgets, and the instalments due by today). Running it again "
        "changes nothing."
    )

    def handle(self, *args, **options) -> None:
        users = demo.seed_people()
        streams = budgets_demo.seed_streams()
        users |= demo.seed_users(plans_demo.OFFICERS)
        plans = plans_demo.seed_plans(on=timezone.localdate())
        users |= demo.seed_users(invoicing_demo.PROVIDER_USERS)
        invoices = invoicing_demo.seed_invoices(on=timezone.localdate())
        funding = payments_demo.seed_funding(on=timezone.localdate())
        reconciliation = payments_demo.seed_reconciliation(on=timezone.localdate())
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
        self.stdout.write("")
        self.stdout.write("Funding streams (catalogues at /api/v1/streams/<code>/services/):")
        for stream in streams:
            self.stdout.write(f"  {stream.code:<5} {stream.name}, {stream.agency.name}")
        self.stdout.write("")
        self.stdout.write("Support plans for 2026/27, approved by every agency that funds them, with the")
        self.stdout.write("personal budgets they made and the providers engaged for their support items:")
        for spec in plans_demo.PLANS:
            for line in plans_demo.demo_plan_summary(username=spec.username):
                self.stdout.write(f"  {line}")
        posting = plans.instalments.posting
        self.stdout.write("")
        self.stdout.write(
            f"Instalments due by {posting.on.isoformat()}: {posting.posted} posted to the ledger now "
            f"({plans.instalments.entries_recorded} told on the timelines); {len(posting.failed)} failed."
        )
        counts = ", ".join(
            f"{count} {status.replace('_', ' ')}" for status, count in sorted(invoices.by_status.items())
        )
        self.stdout.write(
            f"Providers' invoices: {invoices.created} made now; in all {counts or 'none'} "
            "(sign in as bright-care, able-assist or dales-adaptations to see theirs)."
        )
        self.stdout.write(
            f"Funding received: {funding.receipts} payments from the agencies recorded; "
            f"{funding.late} {'instalment is' if funding.late == 1 else 'instalments are'} late "
            "(sign in as finance: Funding received)."
        )
        self.stdout.write(
            "Payments: sign in as finance and start a payment run. Stripe is switched off on the demo, so "
            "the providers paid by bank transfer are paid in a Bacs file to download and confirm."
        )
        self.stdout.write(
            "Reconciliation: the bank's statement of the funding received is imported "
            f"({reconciliation.matched} lines matched, {reconciliation.suggested} suggested, "
            f"{reconciliation.unmatched} unmatched; sign in as finance: Reconciliation)."
        )
        if reconciliation.notice:
            self.stdout.write(
                "Surplus: finance has given holder notice of a surplus reclaim, after the navigator set "
                "money aside for a personal assistant's holiday pay (sign in as holder: Unspent money; as "
                "finance: Surplus reclaims)."
            )
