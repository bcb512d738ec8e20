"""A world for the invoicing tests: the plans API world (tests/api/plans_world.py) with its instalments due
by "today" (20 November 2026) posted, so that each person's funds hold money, and helpers to submit invoices.

* Alex's active version 1 engages bright-care for `care` (ASC-PC, 14 h/week, 24.50, ASC up to 250.00 a week
  and ILF the rest) and able-assist for `work` (ATW-SW, 6 h/week, 18.00). Version 2 stays a draft.
* Sam's active plan engages dales-adaptations for a ramp (DFG-RAMP, once, 3500.00).

`provider_client(slug)` is an API client with a fresh API key of that provider; `invoice_body(...)` builds a
valid api.md submission body for one engagement.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rest_framework.test import APIClient

from people import services as people_services
from people.models import Organisation
from plans.models import Engagement
from plans.services.instalments import plan_instalments_post_due
from tests.api.plans_world import World, build_world, client_for, install_clock

TODAY = date(2026, 11, 20)


@dataclass
class InvoicingWorld:
    base: World
    clock: Any
    care: Engagement  # Alex, bright-care
    work: Engagement  # Alex, able-assist
    ramp: Engagement  # Sam, dales-adaptations

    @property
    def users(self) -> dict[str, Any]:
        return self.base.users

    def client(self, role: str) -> APIClient:
        return client_for(self.base.users[role])


def build_invoicing_world(monkeypatch) -> InvoicingWorld:
    """Build the world (clock before the year), then move the clock to TODAY and post what fell due."""
    clock = install_clock(monkeypatch)
    base = build_world()
    clock.today = TODAY
    plan_instalments_post_due(on=TODAY)
    engagements = {e.provider.slug: e for e in Engagement.objects.current().select_related("provider")}
    return InvoicingWorld(
        base=base,
        clock=clock,
        care=engagements["bright-care"],
        work=engagements["able-assist"],
        ramp=engagements["dales-adaptations"],
    )


def provider_client(slug: str) -> APIClient:
    """An API client authenticated with a new API key of the provider `slug`."""
    _, raw = people_services.provider_api_key_issue(
        provider=Organisation.objects.get(slug=slug), name="tests", issued_by=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def invoice_body(
    engagement: Engagement,
    *,
    number: str = "INV-1001",
    lines: list[tuple[str, str]] | None = None,
    unit_price: str | None = None,
) -> dict[str, Any]:
    """A valid submission for `engagement`: `lines` are (service_date, quantity), at the agreed rate."""
    price = Decimal(unit_price) if unit_price is not None else Decimal(engagement.agreed_rate_minor) / 100
    body_lines = []
    for service_date, quantity in lines or [("2026-10-03", "3.50")]:
        amount = Decimal(quantity) * price
        body_lines.append(
            {
                "support_item": engagement.support_item_public_id,
                "service_date": service_date,
                "quantity": quantity,
                "unit_price": money(price),
                "amount": money(amount),
                "description": "Support delivered",
            }
        )
    total = sum(Decimal(line["amount"]) for line in body_lines)
    return {
        "invoice_number": number,
        "person": engagement.budget_holder.public_id,
        "issued_on": "2026-11-01",
        "currency": engagement.currency,
        "lines": body_lines,
        "total": money(total),
    }


# Helpers for submitting and deciding through the services (added for the invoicing tests) ---------------


def provider_user(slug: str) -> Any:
    """A new staff user of the provider `slug`, who may submit and withdraw its invoices."""
    from tests.people.factories import ProviderUserFactory

    return ProviderUserFactory(organisation=Organisation.objects.get(slug=slug))


def invoice_request(body: dict[str, Any]) -> Any:
    """An `invoicing.services.InvoiceRequest` from a submission body (as the API would read it)."""
    from invoicing import services

    return services.InvoiceRequest(
        invoice_number=body["invoice_number"],
        person=body["person"],
        issued_on=date.fromisoformat(body["issued_on"]),
        currency=body["currency"],
        total=body["total"],
        lines=tuple(
            services.InvoiceLineRequest(
                support_item=line["support_item"],
                service_date=date.fromisoformat(line["service_date"]),
                quantity=Decimal(line["quantity"]),
                unit_price=line["unit_price"],
                amount=line["amount"],
                description=line.get("description", ""),
            )
            for line in body["lines"]
        ),
    )


def submit(engagement: Engagement, *, by: Any = None, **body: Any) -> Any:
    """Submit `invoice_body(engagement, **body)` through `invoicing.services.invoice_submit`, as `by` (a new
    user of the engagement's provider unless given). Returns the stored Invoice."""
    from invoicing import services

    return services.invoice_submit(
        provider=engagement.provider,
        submitted_by=by or provider_user(engagement.provider.slug),
        request=invoice_request(invoice_body(engagement, **body)),
    )
