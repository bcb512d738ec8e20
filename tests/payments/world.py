"""A world for the payments tests: the invoicing world (tests/invoicing/world.py, "today" is Friday
20 November 2026) with each provider's payout details set and one approved invoice per provider:

* bright-care is paid through Stripe Connect: a connected account made on the local Stripe double (when one
  is given; otherwise `acct_TestBrightCare` and Stripe stays switched off);
* able-assist and dales-adaptations are paid by bank transfer, so they go in the Bacs file.

`approve(world, engagement, number=...)` submits and approves one more invoice.
"""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings

from invoicing import services as invoicing_services
from invoicing.models import Invoice
from people import services as people_services
from people.models import Organisation
from plans.models import Engagement
from tests.invoicing.world import TODAY, InvoicingWorld, build_invoicing_world, submit
from tests.payments.stripe_double import StripeDouble, use_stripe_double

__all__ = ["TODAY", "PaymentsWorld", "approve", "build_payments_world", "start_run"]

BACS = {
    "BACS_SERVICE_USER_NUMBER": "123456",
    "BACS_SORT_CODE": "404040",
    "BACS_ACCOUNT_NUMBER": "12345678",
    "BACS_ACCOUNT_NAME": "NORTHSHIRE COUNCIL",
}


@dataclass
class PaymentsWorld:
    invoicing: InvoicingWorld
    stripe: StripeDouble | None
    stripe_account: str
    invoices: dict[str, Invoice] = field(default_factory=dict)  # by provider slug: the first approved one

    @property
    def users(self) -> dict[str, Any]:
        return self.invoicing.users

    @property
    def clock(self) -> Any:
        return self.invoicing.clock

    def engagement(self, slug: str) -> Engagement:
        return {
            "bright-care": self.invoicing.care,
            "able-assist": self.invoicing.work,
            "dales-adaptations": self.invoicing.ramp,
        }[slug]


def approve(
    world: PaymentsWorld, slug: str, *, number: str, lines: list[tuple[str, str]] | None = None
) -> Invoice:
    """Submit an invoice from provider `slug` for its engagement and approve it as the budget holder."""
    engagement = world.engagement(slug)
    invoice = submit(engagement, number=number, lines=lines)
    holder_user = engagement.budget_holder.user
    invoice = invoicing_services.invoice_approve(invoice=invoice, by=holder_user)
    assert invoice.status == "approved", (invoice.status, invoice.findings)
    return invoice


def build_payments_world(monkeypatch, settings, stripe_double: StripeDouble | None = None) -> PaymentsWorld:
    """Build the world. With `stripe_double`, Stripe is switched on and pointed at the double."""
    for name, value in BACS.items():
        setattr(settings, name, value)
    if stripe_double is not None:
        use_stripe_double(settings, stripe_double)
    else:
        settings.STRIPE_SECRET_KEY = ""
        settings.STRIPE_WEBHOOK_SECRET = ""
    base = build_invoicing_world(monkeypatch)
    stripe_account = "acct_TestBrightCare"
    bright = Organisation.objects.get(slug="bright-care")
    if stripe_double is not None:
        stripe_account = stripe_double.add_account(ready=True, name="Bright Care", provider=bright.public_id)[
            "id"
        ]
    people_services.provider_details_set(
        provider=bright, by=None, payout_method="stripe", stripe_account_id=stripe_account
    )
    people_services.provider_details_set(
        provider=Organisation.objects.get(slug="able-assist"),
        by=None,
        payout_method="bank",
        bank_account_name="Able Assist Ltd",
        sort_code="20-00-00",
        account_number="55779911",
    )
    people_services.provider_details_set(
        provider=Organisation.objects.get(slug="dales-adaptations"),
        by=None,
        payout_method="bank",
        bank_account_name="Dales Adaptations",
        sort_code="40-11-62",
        account_number="31926819",
    )
    world = PaymentsWorld(invoicing=base, stripe=stripe_double, stripe_account=stripe_account)
    world.invoices["bright-care"] = approve(world, "bright-care", number="BC-1")
    world.invoices["able-assist"] = approve(world, "able-assist", number="AA-1")
    world.invoices["dales-adaptations"] = approve(
        world, "dales-adaptations", number="DA-1", lines=[("2026-10-03", "0.5")]
    )
    assert BACS["BACS_SORT_CODE"] == django_settings.BACS_SORT_CODE
    return world


def start_run(by: Any, **kwargs: Any) -> Any:
    """`payments.services.runs.payment_run_start`, running what it hands to the workers (on commit, which a
    test's transaction never reaches) at once, as the eager Celery of the demo does. Returns the run,
    read again."""
    from django.test import TestCase

    from payments.models import PaymentRun
    from payments.services import runs

    with TestCase.captureOnCommitCallbacks(execute=True):
        started = runs.payment_run_start(by=by, **kwargs)
    return PaymentRun.objects.get(pk=started.run.pk)
