"""Funding received: an agency's payment of its stream's instalments, from the receivable to the bank.

An instalment falls due on schedule: `budgets.services.personal_budgets.instalments_post_due` posts it to the
person's funds (stream receivable debit, person's funds credit) and it becomes `due`. When the agency's money
arrives, finance records it here (or, from the next issue, reconciliation matches the bank line): one
balanced ledger transaction, the bank's cash account debit and the stream's receivable credit, so the
receivable says at any moment what the agency still owes. The person's funds do not move: they were theirs
from the day the instalment fell due.

Rules for the day the money was received (`received_on`):

* not after today: a receipt records money that has arrived;
* an agency may pay early, before the instalment's `due_on`, but only an instalment that is already due in
  Purse can be received: the receivable it settles exists only once the instalment was posted. A bank line
  that arrives before Purse posts the instalment waits until it has (the daily posting, or the next
  reconciliation), so a receipt can never make money appear that the ledger does not owe;
* not more than `EARLY_PAYMENT_DAYS` before an instalment's `due_on`: money that much earlier is far more
  likely to be another payment, or a typing slip in the date, than an early one. (Between the day received
  and the day due the stream's receivable is below zero for that instalment: the ledger's honest record of
  a payment in advance.)

Recording is idempotent by (stream, reference): the same reference again for the same instalments and day
returns the first receipt and changes nothing; the same reference for anything else is a conflict.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from budgets import accounts as budget_accounts
from budgets.models import FundingStream, Instalment, InstalmentStatus
from budgets.services.personal_budgets import instalments_mark_received
from ledger import services as ledger_services
from ledger.errors import DomainError, DomainErrors
from ledger.models import Side
from ledger.money import money_format
from payments import accounts
from payments.models import FundingReceipt
from people.models import User
from people.services import audit_event_record
from plans.wording import date_display

logger = logging.getLogger(__name__)

AUDIT_FUNDING_RECEIVED = "funding.received"
EARLY_PAYMENT_DAYS = 31
REFERENCE_MAX_LENGTH = 64
MAX_INSTALMENTS = 500  # one bank line pays at most this many instalments (a request stays bounded)


class FundingReceiptInvalid(DomainErrors):
    summary = "This payment from the agency cannot be recorded"


class FundingReceiptDuplicate(DomainError):
    """The reference was recorded already, for other instalments or another day."""

    code = "duplicate_reference"
    http_status = 409
    message = "That reference was already recorded for another payment."

    def __init__(self, message: str, *, existing: FundingReceipt) -> None:
        super().__init__(message)
        self.existing = existing
        self.errors = [{"code": self.code, "pointer": "/reference", "detail": message}]


@dataclass(frozen=True)
class ReceiptRecorded:
    receipt: FundingReceipt
    created: bool  # False: the same receipt was recorded before, and is returned as it was


# Funding received -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptCheck:
    """A receipt that may be recorded: what it pays and how much, or the same receipt recorded before."""

    stream: FundingStream
    reference: str
    received_on: date
    instalments: list[Instalment]  # in the order asked for
    total_minor: int
    earlier: FundingReceipt | None  # set when exactly this receipt was recorded before


def funding_receipt_check(
    *,
    stream: FundingStream,
    instalments: list[str],
    reference: str,
    received_on: date,
    amount_minor: int | None = None,
) -> ReceiptCheck:
    """Check a receipt without recording it (for a page that asks "Check and confirm"): the same rules and
    errors as `funding_receipt_record`, which checks again, under its locks, when it records."""
    return _check(
        stream=stream,
        instalments=instalments,
        reference=reference,
        received_on=received_on,
        amount_minor=amount_minor,
        lock=False,
    )


@transaction.atomic
def funding_receipt_record(
    *,
    stream: FundingStream,
    instalments: list[str],
    reference: str,
    received_on: date,
    by: User | None,
    amount_minor: int | None = None,
) -> ReceiptRecorded:
    """Record that the stream's agency paid these instalments on `received_on` (see the module docstring).

    `instalments` are public ids of the stream's instalments that are due and not yet received;
    `amount_minor`, when given (what the bank line says), must equal their sum. Raises FundingReceiptInvalid
    (every problem at once, each with its pointer), FundingReceiptDuplicate and the ledger's PeriodClosed
    (as a problem at /received_on).
    """
    check = _check(
        stream=stream,
        instalments=instalments,
        reference=reference,
        received_on=received_on,
        amount_minor=amount_minor,
        lock=True,
    )
    if check.earlier is not None:
        return ReceiptRecorded(receipt=check.earlier, created=False)
    reference, received_on, valid, total = (
        check.reference,
        check.received_on,
        check.instalments,
        check.total_minor,
    )
    found = {instalment.public_id for instalment in valid}
    receivable = budget_accounts.stream_receivable_account(
        stream_code=stream.code, stream_name=stream.name, currency=stream.currency
    )
    cash = accounts.cash_account(where=accounts.BANK, currency=stream.currency)
    try:
        posted = ledger_services.transaction_post(
            idempotency_key=f"funding:{stream.code}:{reference}",
            currency=stream.currency,
            effective_on=received_on,
            description=f"{stream.name} paid {_count(len(valid))}, reference {reference}",
            postings=[
                ledger_services.PostingSpec(account=cash, side=Side.DEBIT, amount_minor=total),
                ledger_services.PostingSpec(account=receivable, side=Side.CREDIT, amount_minor=total),
            ],
            metadata={
                "kind": "funding_received",
                "stream": stream.code,
                "reference": reference,
                "instalments": sorted(found),
            },
        )
    except ledger_services.PeriodClosed as error:
        raise FundingReceiptInvalid(
            [
                _problem(
                    "period_closed",
                    "/received_on",
                    f"{date_display(received_on)} is in a period the ledger has closed: {error.message}",
                )
            ]
        ) from error
    receipt = FundingReceipt.objects.create(
        stream=stream,
        reference=reference,
        received_on=received_on,
        currency=stream.currency,
        amount_minor=total,
        ledger_transaction=posted.public_id,
        recorded_by=by if by is not None and by.is_authenticated else None,
    )
    receipt.instalments.set(valid)
    marked = instalments_mark_received(
        instalment_ids=[instalment.pk for instalment in valid], received_on=received_on
    )
    if marked != len(valid):  # cannot happen under the locks; if it did, nothing is kept
        raise RuntimeError(f"{marked} of {len(valid)} instalments were marked received")
    audit_event_record(
        actor=by,
        action=AUDIT_FUNDING_RECEIVED,
        obj=receipt,
        detail={
            "stream": stream.code,
            "reference": reference,
            "received_on": received_on.isoformat(),
            "instalments": sorted(found),
            "amount": money_format(total, currency=stream.currency),
            "ledger_transaction": posted.public_id,
        },
    )
    logger.info("Funding received %s: %s %s", receipt.public_id, stream.code, reference)
    return ReceiptRecorded(receipt=receipt, created=True)


def _check(
    *,
    stream: FundingStream,
    instalments: list[str],
    reference: str,
    received_on: date,
    amount_minor: int | None,
    lock: bool,
) -> ReceiptCheck:
    """Every rule at once; with `lock`, under the stream's and the instalments' row locks."""
    problems: list[dict[str, str]] = []
    reference = reference.strip() if isinstance(reference, str) else ""
    if not reference or len(reference) > REFERENCE_MAX_LENGTH or not reference.isprintable():
        problems.append(
            _problem(
                "invalid_reference",
                "/reference",
                f"Give the agency's payment reference, as on the bank statement (1 to {REFERENCE_MAX_LENGTH} "
                "characters).",
            )
        )
        reference = ""
    today = timezone.localdate()
    if not isinstance(received_on, date) or isinstance(received_on, datetime):
        problems.append(_problem("invalid_date", "/received_on", "Give the day the money arrived as a date."))
        received_on = None  # type: ignore[assignment]
    elif received_on > today:
        problems.append(
            _problem(
                "future_date",
                "/received_on",
                f"The day the money arrived cannot be after today, {date_display(today)}.",
            )
        )
    wanted = list(dict.fromkeys(instalments or []))
    if not wanted:
        problems.append(
            _problem("no_instalments", "/instalments", "Choose at least one instalment the agency paid.")
        )
    elif len(wanted) > MAX_INSTALMENTS:
        problems.append(
            _problem(
                "too_many_instalments",
                "/instalments",
                f"One payment can be recorded for at most {MAX_INSTALMENTS} instalments: record the rest "
                "as another payment.",
            )
        )
        wanted = []
    if amount_minor is not None and (not isinstance(amount_minor, int) or amount_minor <= 0):
        problems.append(_problem("invalid_amount", "/amount", "The amount received must be more than zero."))
        amount_minor = None

    # One receipt of a stream at a time: the reference check below and the receipt's insert cannot race.
    # FOR NO KEY UPDATE, so rows referring to the stream (budgets, receipts) can still be written meanwhile.
    if lock:
        FundingStream.objects.select_for_update(no_key=True).filter(pk=stream.pk).first()
    if reference:
        earlier = FundingReceipt.objects.filter(stream=stream, reference=reference).first()
        if earlier is not None:
            same = (
                sorted(earlier.instalments.values_list("public_id", flat=True)) == sorted(wanted)
                and earlier.received_on == received_on
                and amount_minor in (None, earlier.amount_minor)
            )
            if same:
                return ReceiptCheck(
                    stream=stream,
                    reference=reference,
                    received_on=received_on,
                    instalments=list(earlier.instalments.order_by("due_on", "pk")),
                    total_minor=earlier.amount_minor,
                    earlier=earlier,
                )
            raise FundingReceiptDuplicate(
                f"Reference {reference} was already recorded for {stream.code} on "
                f"{date_display(timezone.localtime(earlier.recorded_at).date())}, as {earlier.public_id}: "
                f"{money_format(earlier.amount_minor, currency=earlier.currency)} received on "
                f"{date_display(earlier.received_on)} for {_count(earlier.instalments.count())}. "
                "A new payment needs its own reference.",
                existing=earlier,
            )

    # Locked in id order (as the daily posting locks them), so two receipts never deadlock; read again
    # under the lock, so an instalment another receipt took meanwhile shows as received.
    rows = Instalment.objects.select_related("personal_budget__budget_holder")
    if lock:
        rows = rows.select_for_update(of=("self",))
    found = {
        instalment.public_id: instalment for instalment in rows.filter(public_id__in=wanted).order_by("pk")
    }
    valid: list[Instalment] = []
    for index, public_id in enumerate(wanted):
        instalment = found.get(public_id)
        pointer = f"/instalments/{index}"
        if instalment is None or instalment.personal_budget.stream_id != stream.pk:
            problems.append(
                _problem("unknown_instalment", pointer, f"{public_id} is not an instalment of {stream.code}.")
            )
        elif instalment.status == InstalmentStatus.RECEIVED:
            problems.append(
                _problem(
                    "already_received",
                    pointer,
                    f"{public_id} was already received on {date_display(instalment.received_on)}.",
                )
            )
        elif instalment.status != InstalmentStatus.DUE:
            problems.append(
                _problem(
                    "not_due",
                    pointer,
                    f"{public_id} is {instalment.get_status_display().lower()}, not due: only an "
                    "instalment that has fallen due in Purse can be received.",
                )
            )
        else:
            valid.append(instalment)
    if received_on is not None and valid:
        earliest = min(valid, key=lambda instalment: instalment.due_on)
        if received_on < earliest.due_on - timedelta(days=EARLY_PAYMENT_DAYS):
            problems.append(
                _problem(
                    "received_too_early",
                    "/received_on",
                    f"{earliest.public_id} was due on {date_display(earliest.due_on)}: money received more "
                    f"than {EARLY_PAYMENT_DAYS} days before that is not a payment of it. Check the date.",
                )
            )
    total = sum(instalment.amount_minor for instalment in valid)
    if amount_minor is not None and valid and len(valid) == len(wanted) and amount_minor != total:
        problems.append(
            _problem(
                "amount_mismatch",
                "/amount",
                f"The instalments chosen come to {money_format(total, currency=stream.currency)}, not "
                f"{money_format(amount_minor, currency=stream.currency)}.",
            )
        )
    if not problems and total <= 0:
        problems.append(
            _problem("nothing_to_receive", "/instalments", "The instalments chosen come to nothing.")
        )
    if problems:
        raise FundingReceiptInvalid(problems)
    return ReceiptCheck(
        stream=stream,
        reference=reference,
        received_on=received_on,
        instalments=valid,
        total_minor=total,
        earlier=None,
    )


def _count(instalments: int) -> str:
    return f"{instalments} instalment{'' if instalments == 1 else 's'}"


def _problem(code: str, pointer: str, detail: str) -> dict[str, str]:
    return {"code": code, "pointer": pointer, "detail": detail}
