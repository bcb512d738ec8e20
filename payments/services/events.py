"""Stripe's events (webhooks, and the ones fetched again): each stored once by its id and acted on once.

`stripe_event_process` takes an event whose signature was checked (`stripe_gateway.event_verify`) or that
Purse fetched from Stripe itself (`stripe_events_refetch`), stores it by its id (a unique constraint), and
acts on it in the same database transaction, so that either both happen or neither does: an event whose
processing fails (a closed ledger period, say) leaves nothing behind, and Stripe's next delivery or the
refetch command processes it later. An event id seen before changes nothing.

Events may come twice or out of order. A payment only moves forward: pending -> sent -> paid, or to failed
or reversed, which are final, so any order of the same events ends in the same state:

* `transfer.created`: the transfer exists. A payment the run had not yet recorded as sent (it stopped after
  Stripe made the transfer) is recorded sent now: the invoices paid, the provider's payable to clearing.
* `transfer.paid`: the same, then settled: clearing to Stripe cash.
* `transfer.failed`, `transfer.reversed` (in full): `payment_undo` reverses whatever the payment posted,
  puts its invoices back to approved with a new reservation (a timeline entry for the person), records an
  audit event and warns finance. A later `paid` or `created` for it changes nothing.
* `payout.paid`, `payout.failed`: Purse's own Stripe balance paid out to the council's bank (Stripe cash to
  bank cash), or that undone; a `paid` after a `failed` changes nothing.

The payment is found by the transfer's `metadata.payment` (Purse names its payment on every transfer), or
else by the transfer id; a transfer that does not match the payment it names (another transfer id, amount,
currency or destination) is not acted on, and finance is told. Events Purse does not act on are stored,
with `acted` false, and change nothing.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger import services as ledger_services
from ledger.errors import DomainError
from ledger.models import Account, Side, Transaction
from ledger.money import money_format
from payments import accounts, stripe_gateway
from payments.models import Payment, PaymentStatus, Rail, StripeEvent
from payments.services.runs import payment_record_sent, payment_settle, payment_undo

logger = logging.getLogger(__name__)

TRANSFER_EVENTS = ("transfer.created", "transfer.paid", "transfer.failed", "transfer.reversed")
PAYOUT_EVENTS = ("payout.paid", "payout.failed")
HANDLED_EVENTS = TRANSFER_EVENTS + PAYOUT_EVENTS

_EVENT_ID_MAX = StripeEvent._meta.get_field("event_id").max_length
_TYPE_MAX = StripeEvent._meta.get_field("type").max_length


class StripeEventInvalid(DomainError):
    """The event's signature may be right, but it is not an event Purse can store (no id, say)."""

    code = "invalid_event"
    message = "The payload is not a Stripe event."
    http_status = 400


@dataclass(frozen=True)
class EventOutcome:
    event: StripeEvent
    new: bool  # False: this event id was seen before, and nothing changed now

    @property
    def acted(self) -> bool:
        """Whether processing it now changed anything (never, for an event seen before)."""
        return self.new and self.event.acted

    @property
    def outcome(self) -> str:
        if self.new:
            return self.event.outcome
        return f"Already processed at {self.event.received_at.isoformat()}: {self.event.outcome}"


def stripe_event_process(*, event: dict[str, Any], source: str = "webhook") -> EventOutcome:
    """Store one verified Stripe event and act on it, once per event id, in one database transaction.

    Raises StripeEventInvalid for a payload with no usable id; any DomainError raised while acting (a
    closed ledger period, say) rolls everything back, the event included, so it can be processed later.
    """
    event_id, event_type, created, obj = _event_parts(event)
    with transaction.atomic():
        seen = _stored(event_id)
        if seen is not None:
            return EventOutcome(event=seen, new=False)
        try:
            # A savepoint: on PostgreSQL a unique violation aborts the whole transaction otherwise, and this
            # may run inside a caller's. Two deliveries at once: the second waits for the first's commit
            # on the unique index, then fails here and reads what the first stored.
            with transaction.atomic():
                stored = StripeEvent.objects.create(
                    event_id=event_id, type=event_type, created=created, source=source, payload=event
                )
        except IntegrityError:
            return EventOutcome(event=StripeEvent.objects.get(event_id=event_id), new=False)
        acted, outcome = _event_act(event_type, obj, event)
        stored.acted, stored.outcome = acted, outcome
        stored.save(update_fields=["acted", "outcome"])
    return EventOutcome(event=stored, new=True)


def _stored(event_id: str) -> StripeEvent | None:
    """The event as stored, if it was seen before (the unique constraint decides races; this is the common
    case without an insert that fails)."""
    return StripeEvent.objects.filter(event_id=event_id).first()


def _event_parts(event: Any) -> tuple[str, str, datetime, dict[str, Any]]:
    if not isinstance(event, dict):
        raise StripeEventInvalid("The payload is not a Stripe event: it is not a JSON object.")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > _EVENT_ID_MAX:
        raise StripeEventInvalid("The Stripe event has no id Purse can store.")
    event_type = event.get("type")
    event_type = event_type[:_TYPE_MAX] if isinstance(event_type, str) else ""
    raw_created = event.get("created")
    try:
        created = datetime.fromtimestamp(int(raw_created), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        created = timezone.now()  # Stripe always sends it; without one, when Purse saw it will do
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return event_id, event_type, created, obj if isinstance(obj, dict) else {}


def _event_act(event_type: str, obj: dict[str, Any], event: dict[str, Any]) -> tuple[bool, str]:
    if event_type not in HANDLED_EVENTS:
        return False, f"Purse does not act on {event_type or 'events without a type'}."
    if event.get("account"):
        return False, "An event of a connected account's own is the provider's business, not Purse's."
    if event_type in PAYOUT_EVENTS:
        return _payout_act(event_type, obj)
    return _transfer_act(event_type, obj)


# Transfers to providers -----------------------------------------------------------------------------------


def _transfer_act(event_type: str, obj: dict[str, Any]) -> tuple[bool, str]:
    transfer_id = str(obj.get("id") or "")
    payment = _payment_for_transfer(obj)
    if payment is None:
        return False, f"Transfer {transfer_id or '(no id)'} is not one of Purse's payments."
    mismatch = _transfer_mismatch(payment, obj)
    if mismatch:
        _tell_finance(payment, f"{mismatch} Nothing was changed; finance should look at it.")
        return False, mismatch
    before = payment.status
    if event_type in ("transfer.created", "transfer.paid") and payment.status == PaymentStatus.PENDING:
        # The run stopped after Stripe made the transfer and before it recorded it: record it now.
        payment_record_sent(payment.pk, transfer_id=transfer_id, by=None)
        payment = _locked_payment(payment.pk)
    if event_type == "transfer.paid":
        payment_settle(payment)
    elif event_type == "transfer.failed":
        payment_undo(
            payment, status=PaymentStatus.FAILED, reason=_why(obj, "Stripe could not make the transfer.")
        )
    elif event_type == "transfer.reversed":
        reversed_minor = _minor(obj.get("amount_reversed"))
        if not obj.get("reversed") and reversed_minor < payment.amount_minor:
            told = (
                f"Transfer {transfer_id} was reversed in part "
                f"({money_format(reversed_minor, currency=payment.currency)} of "
                f"{money_format(payment.amount_minor, currency=payment.currency)}); Purse undoes only a "
                "transfer reversed in full, so finance must look at it."
            )
            _tell_finance(payment, told)
            return False, told
        payment_undo(payment, status=PaymentStatus.REVERSED, reason=_why(obj, "The transfer was reversed."))
    if payment.status != before:
        return True, f"Payment {payment.public_id}: {before} -> {payment.status}."
    return False, f"Payment {payment.public_id} is already {payment.status}; nothing changed."


def _locked_payment(pk: int) -> Payment:
    return Payment.objects.select_for_update().select_related("run", "provider").get(pk=pk)


def _payment_for_transfer(obj: dict[str, Any]) -> Payment | None:
    """The Stripe payment the transfer names in its metadata, else the one that recorded its id (locked)."""
    query = Payment.objects.select_for_update().select_related("run", "provider").filter(rail=Rail.STRIPE)
    metadata = obj.get("metadata")
    payment_id = metadata.get("payment") if isinstance(metadata, dict) else None
    if isinstance(payment_id, str) and payment_id:
        found = query.filter(public_id=payment_id).first()
        if found is not None:
            return found
    transfer_id = obj.get("id")
    if isinstance(transfer_id, str) and transfer_id:
        return query.filter(stripe_transfer_id=transfer_id).first()
    return None


def _transfer_mismatch(payment: Payment, obj: dict[str, Any]) -> str:
    """Why this transfer is not the payment's own ("" when it is)."""
    transfer_id = str(obj.get("id") or "")
    if payment.stripe_transfer_id and transfer_id != payment.stripe_transfer_id:
        return (
            f"Transfer {transfer_id or '(no id)'} names payment {payment.public_id}, which Stripe paid by "
            f"transfer {payment.stripe_transfer_id}."
        )
    destination = obj.get("destination")
    if isinstance(destination, dict):  # expanded
        destination = destination.get("id")
    amount = _minor(obj.get("amount"))
    currency = str(obj.get("currency") or "").upper()
    if (amount, currency, destination) != (payment.amount_minor, payment.currency, payment.destination):
        return (
            f"Transfer {transfer_id or '(no id)'} of {amount} {currency or '(no currency)'} to "
            f"{destination or '(no destination)'} does not match payment {payment.public_id} "
            f"({payment.amount_minor} {payment.currency} to {payment.destination})."
        )
    return ""


def _minor(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _why(obj: dict[str, Any], default: str) -> str:
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    text = str(obj.get("failure_message") or metadata.get("reason") or "").strip()
    return f"{default} {text}" if text else default


def _tell_finance(payment: Payment, message: str) -> None:
    """Log, and email PAYMENTS_WARNING_EMAILS (once committed), something finance must look at by hand."""
    logger.warning("Stripe event for payment %s: %s", payment.public_id, message)
    recipients = list(settings.PAYMENTS_WARNING_EMAILS)
    if not recipients:
        return
    subject = f"Payment {payment.public_id} to {payment.provider.name}: Stripe says something to check"
    transaction.on_commit(lambda: send_mail(subject, message, None, recipients, fail_silently=True))


# Payouts of Purse's Stripe balance to the bank --------------------------------------------------------------


def _payout_act(event_type: str, obj: dict[str, Any]) -> tuple[bool, str]:
    """A payout from Purse's Stripe balance to its bank: Stripe cash to bank cash (or that undone)."""
    payout_id = obj.get("id")
    amount = _minor(obj.get("amount"))
    currency = str(obj.get("currency") or "").upper()
    if not isinstance(payout_id, str) or not payout_id or amount <= 0 or len(currency) != 3:
        return False, "The payout has no id, amount or currency Purse can use."
    stripe_cash = accounts.cash_account(where="stripe", currency=currency)
    # One payout event at a time: a `paid` and a `failed` of the same payout delivered together would each
    # miss the other's uncommitted row otherwise, and the payout could end up recorded as paid.
    Account.objects.select_for_update().filter(pk=stripe_cash.pk).first()
    key = f"stripe:payout:{payout_id}:paid"
    paid = Transaction.objects.filter(idempotency_key=key).first()
    if event_type == "payout.paid":
        if paid is not None:
            return False, f"Payout {payout_id} is already recorded."
        if StripeEvent.objects.filter(type="payout.failed", payload__data__object__id=payout_id).exists():
            return False, f"Payout {payout_id} failed earlier; a late 'paid' changes nothing."
        ledger_services.transaction_post(
            idempotency_key=key,
            currency=currency,
            effective_on=timezone.localdate(),
            description=f"Stripe payout {payout_id} to the bank",
            postings=[
                ledger_services.PostingSpec(
                    account=accounts.cash_account(where="bank", currency=currency),
                    side=Side.DEBIT,
                    amount_minor=amount,
                ),
                ledger_services.PostingSpec(account=stripe_cash, side=Side.CREDIT, amount_minor=amount),
            ],
            metadata={"kind": "stripe_payout", "payout": payout_id},
        )
        return True, f"Payout {payout_id} of {money_format(amount, currency=currency)} reached the bank."
    # payout.failed. Stored, it is what tells a late `paid` to change nothing.
    if paid is None:
        return False, f"Payout {payout_id} failed before it was recorded as paid; there is nothing to undo."
    if Transaction.objects.filter(reverses=paid).exists():
        return False, f"Payout {payout_id}'s posting is already reversed."
    ledger_services.transaction_reverse(
        transaction=paid,
        idempotency_key=f"stripe:payout:{payout_id}:failed",
        effective_on=max(timezone.localdate(), paid.effective_on),
        reason=f"Stripe payout {payout_id} failed",
    )
    return True, f"Payout {payout_id} failed; its posting is reversed."


# Fetching missed events again -------------------------------------------------------------------------------


@dataclass
class RefetchResult:
    seen: int = 0
    new: int = 0
    acted: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (event id, why), left for a later run


def stripe_events_refetch(*, start: datetime, end: datetime) -> RefetchResult:
    """Fetch every event Stripe made in [start, end], oldest first, and process the ones Purse missed.

    Idempotent: an event already processed (by webhook or an earlier refetch) changes nothing. An event whose
    processing fails is rolled back on its own, listed in `failed` and left for a later run; the others are
    processed. Raises StripeDisabled, StripeUnavailable, StripeRefused (before any event is processed).
    """
    result = RefetchResult()
    for event in stripe_gateway.events_between(start=start, end=end):
        result.seen += 1
        try:
            outcome = stripe_event_process(event=event, source="refetch")
        except DomainError as error:
            event_id = str(event.get("id") or "(no id)") if isinstance(event, dict) else "(not an event)"
            logger.warning("Stripe event %s was not processed: %s", event_id, error.message)
            result.failed.append((event_id, error.message))
            continue
        result.new += int(outcome.new)
        result.acted += int(outcome.acted)
    return result
