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

from budgets.models import FundingStream, Instalment, InstalmentStatus, LegitimateReserve
from budgets.selectors.surplus import surplus_audit
from budgets.services.reserves import reserve_set
from ledger.reconciliation.services import DuplicateImport
from payments import reconciliation
from payments.models import OPEN_RECLAIM_STATUSES, FundingReceipt, ReclaimNotice
from payments.services.funding import funding_receipt_record
from payments.services.reclaims import reclaim_notice_raise
from people.models import BudgetHolder, User

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


# Reconciliation and surplus (issue 9) -------------------------------------------------------------------


@dataclass(frozen=True)
class DemoReconciliation:
    statement: str  # the import's id, or "" when there was nothing to import
    matched: int
    suggested: int
    unmatched: int
    reserve: str
    notice: str


def _bank_csv(*, receipts: list[FundingReceipt], on: date) -> bytes:
    """The council's bank statement of the funding received: every receipt as the bank shows it, except
    the latest, which the bank shows £10.00 short (a suggestion to look at), and the bank's charges, which
    the ledger does not hold (unmatched)."""
    rows = []
    for index, receipt in enumerate(receipts):
        amount = receipt.amount_minor - (1_000 if index == len(receipts) - 1 else 0)
        rows.append((receipt.received_on, amount, receipt.reference, receipt.stream.agency.name.upper()))
    rows.append((on - timedelta(days=1), -1_250, "", "SERVICE CHARGES"))
    rows.sort(key=lambda row: row[0])
    balance = 0
    lines = ["Date,Description,Reference,Amount,Balance"]
    for day, amount, reference, description in rows:
        balance += amount
        lines.append(
            f"{day:%d/%m/%Y},{description.replace(',', ' ')},{reference},{_pounds(amount)},{_pounds(balance)}"
        )
    return ("\n".join(lines) + "\n").encode()


def _pounds(minor: int) -> str:
    return f"{'-' if minor < 0 else ''}{abs(minor) // 100}.{abs(minor) % 100:02d}"


DEMO_CSV_MAPPING = {
    "date_column": "Date",
    "amount_column": "Amount",
    "reference_column": "Reference",
    "description_column": "Description",
    "balance_column": "Balance",
}


def seed_reconciliation(*, on: date) -> DemoReconciliation:
    """The bank and Stripe accounts to reconcile, the bank's statement of the last 60 days' funding
    imported and matched, a reserve set by the navigator and a surplus notice given by finance."""
    accounts = reconciliation.reconciliation_accounts_ensure()
    bank = next(account for account in accounts if account.kind == "bank")
    finance = User.objects.get(username="finance")
    navigator = User.objects.get(username="navigator")
    receipts = list(
        FundingReceipt.objects.filter(received_on__gte=on - timedelta(days=60), received_on__lt=on)
        .select_related("stream__agency")
        .order_by("received_on", "pk")
    )
    statement = ""
    if receipts:
        if not bank.csv_mapping:
            reconciliation.csv_mapping_save(account=bank, mapping=DEMO_CSV_MAPPING, by=finance)
            bank.refresh_from_db()
        try:
            imported = reconciliation.statement_import(
                account=bank,
                content=_bank_csv(receipts=receipts, on=on),
                by=finance,
                file_name=f"bank-statement-{on.isoformat()}.csv",
            )
            statement = imported.public_id
        except DuplicateImport as duplicate:
            statement = duplicate.first.public_id
    counts = {state: 0 for state in ("matched", "suggested", "unmatched")}
    for state in bank.lines.values_list("state", flat=True):
        counts[state] += 1

    holder = BudgetHolder.objects.get(user__username="holder")
    reserve = LegitimateReserve.objects.filter(budget_holder=holder, released_at=None).first()
    stream_code = "ASC"
    stream = FundingStream.objects.get(code=stream_code)
    if reserve is None:
        audit = surplus_audit(budget_holder=holder, stream_code=stream_code, on=on)
        amount = min(20_000, audit.available_minor // 4) if audit else 0
        if amount > 0:
            reserve = reserve_set(
                budget_holder=holder,
                stream=stream,
                amount_minor=amount,
                reason="Holiday pay for Alex's personal assistant, due in the summer",
                by=navigator,
            )
    notice = ReclaimNotice.objects.filter(budget_holder=holder, status__in=OPEN_RECLAIM_STATUSES).first()
    if notice is None:
        audit = surplus_audit(budget_holder=holder, stream_code=stream_code, on=on)
        if audit is not None and audit.reclaimable_minor > 0:
            notice = reclaim_notice_raise(
                budget_holder=holder,
                stream_code=stream_code,
                amount_minor=audit.reclaimable_minor,
                reason=(
                    f"Alex holds {audit.weeks_held} weeks of social care funding; the council keeps "
                    f"{audit.threshold_weeks} weeks, besides the money set aside."
                ),
                by=finance,
            )
    return DemoReconciliation(
        statement=statement,
        matched=counts["matched"],
        suggested=counts["suggested"],
        unmatched=counts["unmatched"],
        reserve=reserve.public_id if reserve else "",
        notice=notice.public_id if notice else "",
    )
