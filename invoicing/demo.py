"""The demo world's providers at work (api.md, "Demo data"): a sign-in for each provider and a few months of
realistic invoices in every status, made through the real services. Demo only.

Each invoice is submitted, decided and paid on the day it would have been in real life (a simulated
"today", so that the checks, the ledger's effective dates and the reservations are those of that day); only
the records' own timestamps say when the demo was made. Invoices whose day has not come yet when the demo
is seeded are left out, so seeding on any day of the 2026/27 plan year gives a consistent world.

* Bright Care (Alex's morning calls, 14 hours a week at 24.50): August and September paid; October
  approved, waiting for the payment run; a mistaken September invoice withdrawn (and sent again); an extra
  October visit queried by Alex; a cancelled visit rejected; the first half of November waiting for Alex.
* Able Assist (Alex's support worker at work, 6 hours a week at 18.00): August approved by Alex and paid;
  Alex then set an auto-approval rule for Able Assist, so every later invoice was approved at once
  (September's since paid).
* Dales Adaptations (Sam's ramp): the fitted ramp waiting for Sam, and the same ramp invoiced again, on hold
  for the navigator because it is more than the plan's one ramp.

It needs the demo plans (`plans.demo.seed_plans`) first. Idempotent: a provider that has invoices already
is left as it is.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

from django.db import transaction
from django.utils import timezone

from invoicing import services
from invoicing.models import Invoice
from ledger.money import decimal_from_minor, money_format
from people.demo import DemoUser, seed_users
from people.models import BudgetHolder, Organisation, Role, User
from plans.models import Engagement

PROVIDER_USERS = [
    DemoUser("bright-care", Role.PROVIDER_USER, "Bola", "Adeyemi", organisation_slug="bright-care"),
    DemoUser("able-assist", Role.PROVIDER_USER, "Amy", "Lind", organisation_slug="able-assist"),
    DemoUser("dales-adaptations", Role.PROVIDER_USER, "Dev", "Patel", organisation_slug="dales-adaptations"),
]


@dataclass(frozen=True)
class DemoLine:
    service_date: date
    quantity: str
    description: str


@dataclass(frozen=True)
class DemoInvoice:
    provider_slug: str
    holder_username: str
    number: str
    submitted_on: date
    lines: tuple[DemoLine, ...]
    # What happens next, in order: ("approve" | "query" | "reject" | "withdraw" | "pay", day, by, text).
    steps: tuple[tuple[str, date, str, str], ...] = field(default_factory=tuple)


def _weeks(first_monday: date, count: int, *, hours: str, what: str) -> tuple[DemoLine, ...]:
    return tuple(
        DemoLine(
            first_monday + timedelta(weeks=week),
            hours,
            f"{what}, week beginning {(first_monday + timedelta(weeks=week)).strftime('%d %b %Y')}",
        )
        for week in range(count)
    )


def _care(first_monday: date, count: int) -> tuple[DemoLine, ...]:
    return _weeks(first_monday, count, hours="14.00", what="Morning calls, two hours a day")


def _work(first_monday: date, count: int) -> tuple[DemoLine, ...]:
    return _weeks(first_monday, count, hours="6.00", what="Support at the garden centre")


INVOICES = [
    DemoInvoice(
        "bright-care",
        "holder",
        "BC-2026-08",
        date(2026, 9, 1),
        _care(date(2026, 8, 3), 4),
        steps=(
            ("approve", date(2026, 9, 2), "holder", ""),
            ("pay", date(2026, 9, 8), "finance", "PURSE-2026-09-08-BC"),
        ),
    ),
    DemoInvoice(
        "bright-care",
        "holder",
        "BC-2026-09",
        date(2026, 9, 29),
        _care(date(2026, 8, 31), 4),
        steps=(
            (
                "withdraw",
                date(2026, 9, 29),
                "bright-care",
                "Sent with the wrong weeks; a corrected one follows.",
            ),
        ),
    ),
    DemoInvoice(
        "bright-care",
        "holder",
        "BC-2026-09",
        date(2026, 9, 30),
        _care(date(2026, 9, 7), 4),
        steps=(
            ("approve", date(2026, 10, 1), "rep", ""),
            ("pay", date(2026, 10, 6), "finance", "PURSE-2026-10-06-BC"),
        ),
    ),
    DemoInvoice(
        "bright-care",
        "holder",
        "BC-2026-10",
        date(2026, 11, 2),
        _care(date(2026, 10, 5), 4),
        steps=(("approve", date(2026, 11, 3), "holder", ""),),
    ),
    DemoInvoice(
        "bright-care",
        "holder",
        "BC-2026-10-EXTRA",
        date(2026, 11, 2),
        (DemoLine(date(2026, 10, 14), "2.00", "Extra evening visit"),),
        steps=(
            (
                "query",
                date(2026, 11, 4),
                "holder",
                "Was this the evening of 14 October? I was at my brother's that night, so I don't think "
                "anyone came.",
            ),
        ),
    ),
    DemoInvoice(
        "bright-care",
        "holder",
        "BC-2026-10-CANC",
        date(2026, 11, 2),
        (DemoLine(date(2026, 10, 21), "2.00", "Morning call"),),
        steps=(
            (
                "reject",
                date(2026, 11, 4),
                "holder",
                "This visit was cancelled the day before, as agreed with your office.",
            ),
        ),
    ),
    DemoInvoice("bright-care", "holder", "BC-2026-11A", date(2026, 11, 16), _care(date(2026, 11, 2), 2)),
    DemoInvoice(
        "able-assist",
        "holder",
        "AA-1001",
        date(2026, 9, 1),
        _work(date(2026, 8, 3), 4),
        steps=(
            ("approve", date(2026, 9, 3), "holder", ""),
            ("rule", date(2026, 9, 3), "holder", ""),
            ("pay", date(2026, 9, 8), "finance", "PURSE-2026-09-08-AA"),
        ),
    ),
    DemoInvoice(
        "able-assist",
        "holder",
        "AA-1002",
        date(2026, 10, 1),
        _work(date(2026, 8, 31), 4),
        steps=(("pay", date(2026, 10, 6), "finance", "PURSE-2026-10-06-AA"),),
    ),
    DemoInvoice("able-assist", "holder", "AA-1003", date(2026, 11, 2), _work(date(2026, 10, 5), 4)),
    DemoInvoice("able-assist", "holder", "AA-1004", date(2026, 11, 30), _work(date(2026, 11, 2), 4)),
    DemoInvoice(
        "dales-adaptations",
        "holder2",
        "DA-0417",
        date(2026, 11, 9),
        (DemoLine(date(2026, 11, 6), "1.00", "Access ramp to the front door, supplied and fitted"),),
    ),
    DemoInvoice(
        "dales-adaptations",
        "holder2",
        "DA-0418",
        date(2026, 11, 12),
        (DemoLine(date(2026, 11, 6), "1.00", "Access ramp, supplied and fitted (duplicate of DA-0417)"),),
    ),
]


@contextmanager
def _on(day: date) -> Iterator[None]:
    """Run the services as if today were `day` (demo only: the checks and ledger dates of that day)."""
    with mock.patch.object(timezone, "localdate", lambda *args, **kwargs: day):
        yield


@dataclass
class DemoInvoicesResult:
    created: int = 0
    skipped_providers: list[str] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)


def seed_invoices(*, on: date) -> DemoInvoicesResult:
    """Make the provider sign-ins, and each provider's demo invoices whose days have come by `on`."""
    users = seed_users(PROVIDER_USERS)
    users |= {user.username: user for user in User.objects.filter(username__in=["holder", "rep", "finance"])}
    result = DemoInvoicesResult()
    for slug in dict.fromkeys(spec.provider_slug for spec in INVOICES):
        provider = Organisation.objects.get(slug=slug)
        if Invoice.objects.filter(provider=provider).exists():
            result.skipped_providers.append(slug)
            continue
        with transaction.atomic():
            for spec in INVOICES:
                if spec.provider_slug == slug and spec.submitted_on <= on:
                    result.created += _invoice(spec, provider=provider, users=users, on=on)
    for invoice in Invoice.objects.filter(provider__slug__in=[spec.provider_slug for spec in INVOICES]):
        result.by_status[invoice.status] = result.by_status.get(invoice.status, 0) + 1
    return result


def _invoice(spec: DemoInvoice, *, provider: Organisation, users: dict[str, User], on: date) -> int:
    """Submit one demo invoice and take its steps due by `on`; 1 if made, 0 if there was nothing to bill."""
    holder = BudgetHolder.objects.get(user__username=spec.holder_username)
    engagement = (
        Engagement.objects.current()
        .filter(provider=provider, budget_holder=holder)
        .order_by("starts_on")
        .first()
    )
    if engagement is None:  # a demo database made before engagements existed: nothing to invoice against
        return 0
    rate = decimal_from_minor(engagement.agreed_rate_minor, currency=engagement.currency)
    lines = []
    for line in spec.lines:
        amount = Decimal(line.quantity) * rate
        lines.append(
            services.InvoiceLineRequest(
                support_item=engagement.support_item_public_id,
                service_date=line.service_date,
                quantity=Decimal(line.quantity),
                unit_price=money_format(engagement.agreed_rate_minor, currency=engagement.currency),
                amount=f"{amount:.2f}",
                description=line.description,
            )
        )
    total = sum((Decimal(line.amount) for line in lines), Decimal(0))
    with _on(spec.submitted_on):
        invoice = services.invoice_submit(
            provider=provider,
            submitted_by=users[spec.provider_slug],
            request=services.InvoiceRequest(
                invoice_number=spec.number,
                person=holder.public_id,
                issued_on=spec.submitted_on,
                currency=engagement.currency,
                lines=tuple(lines),
                total=f"{total:.2f}",
            ),
        )
    for action, day, by, text in spec.steps:
        if day > on:
            break
        with _on(day):
            if action == "approve":
                services.invoice_approve(invoice=invoice, by=users[by])
            elif action == "query":
                services.invoice_query(invoice=invoice, by=users[by], reason=text)
            elif action == "reject":
                services.invoice_reject(invoice=invoice, by=users[by], reason=text)
            elif action == "withdraw":
                services.invoice_withdraw(invoice=invoice, by=users[by], reason=text)
            elif action == "rule":
                services.auto_approval_rule_set(
                    budget_holder=holder,
                    provider=provider,
                    max_total_minor=None,
                    currency="GBP",
                    by=users[by],
                )
            elif action == "pay":
                services.remittance_record(
                    provider=provider,
                    invoices=[Invoice.objects.get(pk=invoice.pk)],
                    reference=text,
                    paid_on=day,
                    by=users[by],
                )
        invoice.refresh_from_db()
    return 1
