"""The payments part of the demo world: the agencies have paid the instalments that fell due more than two
weeks ago (one funding receipt per stream and month, so finance sees what arrived), and the most recent
ones are late, so the "Funding received" page has something to list. Idempotent: a receipt's reference is
fixed, and recording it again returns the first.

Stripe is off on the demo (no STRIPE_SECRET_KEY), so a payment run pays the bank-transfer providers in a
Bacs file and lists Bright Care, paid through Stripe, as skipped with the reason.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from budgets.models import FundingStream, Instalment, InstalmentStatus
from payments.models import FundingReceipt
from payments.services.funding import funding_receipt_record

AGENCIES_PAY_AFTER = timedelta(days=14)


@dataclass(frozen=True)
class DemoFunding:
    receipts: int
    late: int


def seed_funding(*, on: date) -> DemoFunding:
    """Record the agencies' payments of instalments due at least two weeks before `on`."""
    paid_by = on - AGENCIES_PAY_AFTER
    groups: dict[tuple[str, str], list[Instalment]] = defaultdict(list)
    for instalment in (
        Instalment.objects.filter(status=InstalmentStatus.DUE, due_on__lte=paid_by)
        .select_related("personal_budget__stream")
        .order_by("due_on", "pk")
    ):
        stream = instalment.personal_budget.stream
        groups[(stream.code, instalment.due_on.strftime("%Y-%m"))].append(instalment)
    streams = {stream.code: stream for stream in FundingStream.objects.all()}
    for (code, month), instalments in sorted(groups.items()):
        funding_receipt_record(
            stream=streams[code],
            instalments=[instalment.public_id for instalment in instalments],
            reference=f"DEMO-{code}-{month}",
            received_on=min(max(instalment.due_on for instalment in instalments) + timedelta(days=3), on),
            by=None,
        )
    late = Instalment.objects.filter(status=InstalmentStatus.DUE, due_on__lt=on).count()
    return DemoFunding(receipts=FundingReceipt.objects.count(), late=late)
