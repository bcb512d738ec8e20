"""Paying providers and receiving funding: every function that changes state here.

A payment run:
1. `payment_run_start` claims every approved invoice not already held by a payment, groups them per provider
   into payments (one database transaction; a partial unique constraint says an invoice is held by one
   payment in force), and sends the run to the workers;
2. `payment_run_process` sends each Stripe payment (`_stripe_payment_send`: a transfer whose idempotency
   key is the payment's id, so a retry after a timeout or a crash gets the same transfer back) and records
   it paid in one database transaction; then writes one Bacs file for the bank payments;
3. finance downloads the file, uploads it to the bank and confirms (`bacs_file_confirm`), which records
   those payments paid; or cancels it (`bacs_file_cancel`), which lets the invoices go to the next run.

Recording a payment paid posts, in one database transaction, each invoice's reservation (the person's funds
to the provider's payable, through `invoicing.services.remittance_record`) and the provider's payable to
the rail's clearing account. Stripe's webhooks then settle it (clearing to Stripe cash) or undo it
(`payment_undo`: reversing entries, the invoices approved again, a warning for finance).

Funding received (`funding_receipt_record`) moves a stream's receivable to the bank's cash account for the
instalments an agency paid, and marks them received.
"""

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from invoicing import accounts as invoicing_accounts
from invoicing import services as invoicing_services
from invoicing.models import Invoice, InvoiceStatus, Remittance
from ledger import services as ledger_services
from ledger.errors import DomainError
from ledger.models import Side, Transaction
from payments import accounts, bacs, stripe_gateway
from payments.models import (
    FINAL_STATUSES,
    BacsFile,
    BacsFileStatus,
    Payment,
    PaymentInvoice,
    PaymentRun,
    PaymentRunStatus,
    PaymentStatus,
    Rail,
)
from people.models import Organisation, PayoutMethod, Role, User
from people.services import audit_event_record
from plans.wording import date_display, money_display

logger = logging.getLogger(__name__)

CLAIM_BATCH = 500


class PaymentRunInvalid(DomainError):
    code = "invalid_payment_run"
    http_status = 400


class BacsNotConfigured(DomainError):
    code = "bacs_not_configured"
    http_status = 409
    message = (
        "Bacs payments are switched off: set BACS_SERVICE_USER_NUMBER, BACS_SORT_CODE, BACS_ACCOUNT_NUMBER "
        "and BACS_ACCOUNT_NAME to the council's paying account."
    )


class BacsFileStateConflict(DomainError):
    code = "bacs_file_state_conflict"
    http_status = 409


class PaymentWarningConflict(DomainError):
    code = "payment_warning_conflict"
    http_status = 409


# Starting a run -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStarted:
    run: PaymentRun
    created: bool


def payment_run_default_day() -> date:
    """The next working day after today: the bank needs the file the day before."""
    return bacs.next_working_day(timezone.localdate())


def payment_run_day_problem(day: date) -> str:
    """Why a run cannot have this Bacs processing day ("" if it can): it must be a working day, today or
    later. The words `payment_run_start` refuses it with, for forms to show before anything is started."""
    if day < timezone.localdate():
        return f"The processing day {date_display(day)} has passed; choose today or later."
    if bacs.working_day_on_or_after(day) != day:
        return (
            f"{date_display(day)} is not a working day; the next one is "
            f"{date_display(bacs.next_working_day(day))}."
        )
    return ""


def payment_run_start(*, by: User | None, pay_on: date | None = None, currency: str = "GBP") -> RunStarted:
    """Start a payment run of every approved invoice not yet being paid, or resume the one already running.

    `pay_on` is the Bacs processing day: a working day, today or later (default: the next working day
    after today, as the bank needs the file the day before). Raises PaymentRunInvalid.
    """
    if pay_on is None:
        pay_on = payment_run_default_day()
    if not isinstance(pay_on, date) or isinstance(pay_on, datetime):
        raise PaymentRunInvalid("Give the processing day as a date.")
    if problem := payment_run_day_problem(pay_on):
        raise PaymentRunInvalid(problem)
    running = PaymentRun.objects.filter(status=PaymentRunStatus.RUNNING, currency=currency).first()
    if running is not None:
        _dispatch(running)
        return RunStarted(run=running, created=False)
    try:
        run = _run_create(by=by, pay_on=pay_on, currency=currency)
    except IntegrityError:
        # Another request started a run at the same moment (the database let one of them in). It may
        # already have been processed to the end by the time we look, so take the newest run.
        running = (
            PaymentRun.objects.filter(status=PaymentRunStatus.RUNNING, currency=currency).first()
            or PaymentRun.objects.filter(currency=currency).order_by("-pk").first()
        )
        if running is None:
            raise
        return RunStarted(run=running, created=False)
    _dispatch(run)
    return RunStarted(run=PaymentRun.objects.get(pk=run.pk), created=True)


def _dispatch(run: PaymentRun) -> None:
    from payments import tasks  # the task module imports this one

    transaction.on_commit(lambda: tasks.payment_run_process.delay(run.pk))


@transaction.atomic
def _run_create(*, by: User | None, pay_on: date, currency: str) -> PaymentRun:
    run = PaymentRun.objects.create(created_by=by, pay_on=pay_on, currency=currency)
    skipped: dict[int, dict[str, Any]] = {}
    stripe_on = stripe_gateway.stripe_enabled()
    bacs_on = _originator() is not None
    invoices = payments = total = 0
    for provider, rows in _claimable_by_provider(currency=currency):
        details = getattr(provider, "provider_details", None)
        method = details.payout_method if details is not None else PayoutMethod.NONE
        reason = ""
        if method == PayoutMethod.NONE:
            reason = "The provider has not set up how it is paid."
        elif method == PayoutMethod.STRIPE and not stripe_on:
            reason = stripe_gateway.StripeDisabled.message
        elif method == PayoutMethod.BANK and not bacs_on:
            reason = BacsNotConfigured.message
        elif method == PayoutMethod.BANK and currency != "GBP":
            reason = "Bacs pays in pounds only."
        elif method == PayoutMethod.BANK:
            reason = _bacs_refusal(details, amount_minor=sum(row[1] for row in rows), pay_on=pay_on)
        if reason:
            entry = skipped.setdefault(
                provider.pk,
                {"provider": provider.public_id, "name": provider.name, "invoices": 0, "reason": reason},
            )
            entry["invoices"] += len(rows)
            continue
        amount = sum(row[1] for row in rows)
        payment = Payment.objects.create(
            run=run,
            provider=provider,
            rail=Rail.STRIPE if method == PayoutMethod.STRIPE else Rail.BACS,
            currency=currency,
            amount_minor=amount,
            destination=(
                details.stripe_account_id
                if method == PayoutMethod.STRIPE
                else f"{details.sort_code} {details.account_number}"
            ),
            destination_name=details.bank_account_name if method == PayoutMethod.BANK else provider.name,
        )
        PaymentInvoice.objects.bulk_create(
            [PaymentInvoice(payment=payment, invoice_id=pk, amount_minor=minor) for pk, minor in rows]
        )
        invoices += len(rows)
        payments += 1
        total += amount
    run.invoices, run.payments, run.total_minor = invoices, payments, total
    run.skipped = list(skipped.values())
    run.save(update_fields=["invoices", "payments", "total_minor", "skipped"])
    audit_event_record(
        actor=by,
        action="payment_run.started",
        obj=run,
        detail={
            "invoices": invoices,
            "payments": payments,
            "total_minor": total,
            "pay_on": pay_on.isoformat(),
        },
    )
    return run


def _bacs_refusal(details: Any, *, amount_minor: int, pay_on: date) -> str:
    """Why this provider's bank details cannot be written in a Bacs file ("" when they can): checked when
    the run is made, so one provider's details never stop the file of everyone else."""
    originator = _originator()
    assert originator is not None  # the caller checked Bacs is configured
    credit = bacs.Credit(
        sort_code=details.sort_code,
        account_number=details.account_number,
        account_name=details.bank_account_name,
        amount_minor=amount_minor,
        reference="PURSECHECK1",
    )
    try:
        bacs.bacs_file(
            originator=originator,
            processing_day=pay_on,
            credits=[credit],
            file_number=1,
            created_on=min(pay_on, timezone.localdate()),
        )
    except bacs.BacsInvalid as error:
        return " ".join(
            problem.detail.removeprefix(f"Credit 1 ({details.bank_account_name.strip()}): ").removeprefix(
                "Credit 1: "
            )
            for problem in error.problems
        )
    return ""


def _claimable_by_provider(*, currency: str) -> Iterable[tuple[Organisation, list[tuple[int, int]]]]:
    """Approved invoices no payment holds, as (provider, [(invoice pk, total)]) per provider, read in keyset
    batches of providers so no list grows with the whole table."""
    held = PaymentInvoice.objects.filter(holding=True).values("invoice_id")
    approved = Invoice.objects.filter(status=InvoiceStatus.APPROVED, currency=currency).exclude(pk__in=held)
    after = 0
    while True:
        provider_ids = list(
            approved.filter(provider_id__gt=after)
            .order_by("provider_id")
            .values_list("provider_id", flat=True)
            .distinct()[:CLAIM_BATCH]
        )
        if not provider_ids:
            return
        providers = Organisation.objects.select_related("provider_details").in_bulk(provider_ids)
        for provider_id in provider_ids:
            rows = list(
                approved.filter(provider_id=provider_id).order_by("pk").values_list("pk", "total_minor")
            )
            if rows:
                yield providers[provider_id], rows
        after = provider_ids[-1]


# Processing a run -----------------------------------------------------------------------------------------


def payment_run_process(run_pk: int) -> PaymentRun:
    """Send the run's waiting Stripe payments, then write its Bacs file; safe to run again at any point,
    by more than one worker at once, and after a crash anywhere (each step is one database transaction,
    and a Stripe transfer sent again with its payment's id as the key is the same transfer).

    Stripe being unreachable leaves those payments waiting (the run stays running, saying why, and is
    resumed by starting a run again) but does not hold up the Bacs file.
    """
    run = PaymentRun.objects.get(pk=run_pk)
    if run.status != PaymentRunStatus.RUNNING:
        return run
    waiting = 0
    for payment_pk in list(
        run.payment_set.filter(rail=Rail.STRIPE, status=PaymentStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        if not _stripe_payment_send(payment_pk):
            waiting += 1
    try:
        run = _bacs_file_write(run.pk)
    except DomainError as error:  # the council's Bacs settings changed or are wrong: finance must act
        logger.error("The Bacs file of payment run %s could not be written: %s", run.public_id, error.message)
        PaymentRun.objects.filter(pk=run.pk).update(
            error=f"The Bacs file could not be written: {error.message} Resume the run once it is put right."
        )
        return PaymentRun.objects.get(pk=run.pk)
    if waiting:
        PaymentRun.objects.filter(pk=run.pk, status=PaymentRunStatus.RUNNING).update(
            error=(
                f"Stripe could not be reached for {waiting} "
                f"{'payment' if waiting == 1 else 'payments'}. They are waiting; resume the run to send "
                "them (nothing is paid twice)."
            )
        )
        return PaymentRun.objects.get(pk=run.pk)
    return run


def _stripe_payment_send(payment_pk: int) -> bool:
    """Send one Stripe payment; True when it is settled one way or the other, False to try again later."""
    payment = Payment.objects.select_related("run", "provider").get(pk=payment_pk)
    if payment.status != PaymentStatus.PENDING:
        return True
    Payment.objects.filter(pk=payment.pk).update(attempts=F("attempts") + 1)
    try:
        # Every parameter comes from the payment as the run made it, never from anything that may change
        # between attempts (the provider's name, say): Stripe refuses a key sent again with other details,
        # and a refusal would let the invoices go to the next run although the first attempt had paid.
        transfer = stripe_gateway.transfer_create(
            payment_public_id=payment.public_id,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            destination=payment.destination,
            run_public_id=payment.run.public_id,
            description=f"Purse payment {payment.public_id} to {payment.destination_name}",
        )
    except stripe_gateway.StripeUnavailable as error:
        Payment.objects.filter(pk=payment.pk).update(error=error.message)
        return False
    except (stripe_gateway.StripeRefused, stripe_gateway.StripeDisabled) as error:
        _payment_fail_unsent(payment.pk, reason=error.message)
        return True
    payment_record_sent(payment.pk, transfer_id=transfer.id, by=None)
    return True


@transaction.atomic
def _payment_fail_unsent(payment_pk: int, *, reason: str) -> None:
    """A payment that never left: it fails and lets its invoices go (nothing was posted)."""
    payment = Payment.objects.select_for_update().get(pk=payment_pk)
    if payment.status != PaymentStatus.PENDING:
        return
    payment.status = PaymentStatus.FAILED
    payment.error = reason
    payment.failed_at = timezone.now()
    payment.save(update_fields=["status", "error", "failed_at"])
    payment.lines.update(holding=False)
    audit_event_record(actor=None, action="payment.failed", obj=payment, detail={"reason": reason})
    _warn_finance(payment, reason=reason)


@transaction.atomic
def payment_record_sent(payment_pk: int, *, transfer_id: str, by: User | None) -> Payment:
    """Record a payment as sent: the invoices paid (remittance), the payable moved to clearing.

    Idempotent: a payment already sent (or settled, or undone) is left as it is.
    """
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("provider", "run", "bacs_file")
        .get(pk=payment_pk)
    )
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.IN_FILE):
        return payment
    today = timezone.localdate()
    paid_on = today if payment.rail == Rail.STRIPE else max(payment.run.pay_on, today)
    lines = list(payment.lines.select_related("invoice").order_by("invoice_id"))
    remittance = invoicing_services.remittance_record(
        provider=payment.provider,
        invoices=[line.invoice for line in lines],
        reference=payment.public_id,
        paid_on=paid_on,
        by=by,
        amounts={line.invoice.public_id: line.amount_minor for line in lines},
    )
    if remittance.total_minor != payment.amount_minor:  # the run made them equal; anything else is a bug
        raise RuntimeError(
            f"Payment {payment.public_id} is {payment.amount_minor} but its invoices add up to "
            f"{remittance.total_minor}."
        )
    payable = invoicing_accounts.provider_payable_account(
        provider_public_id=payment.provider.public_id,
        provider_name=payment.provider.name,
        currency=payment.currency,
    )
    clearing = accounts.clearing_account(rail=payment.rail, currency=payment.currency)
    posted = ledger_services.transaction_post(
        idempotency_key=f"payment:{payment.public_id}:sent",
        currency=payment.currency,
        effective_on=paid_on,
        description=f"Payment {payment.public_id} to {payment.provider.name} by {Rail(payment.rail).label}",
        postings=[
            ledger_services.PostingSpec(account=payable, side=Side.DEBIT, amount_minor=payment.amount_minor),
            ledger_services.PostingSpec(
                account=clearing, side=Side.CREDIT, amount_minor=payment.amount_minor
            ),
        ],
        metadata={
            "kind": "provider_payment",
            "payment": payment.public_id,
            "rail": payment.rail,
            # The bank shows a Bacs file as one line: reconciliation matches it to the file's payments by sum.
            **({"bacs_file": payment.bacs_file.public_id} if payment.bacs_file_id else {}),
        },
    )
    payment.status = PaymentStatus.SENT
    payment.stripe_transfer_id = transfer_id or payment.stripe_transfer_id
    payment.remittance = remittance
    payment.clearing_transaction = posted.public_id
    payment.sent_at = timezone.now()
    payment.error = ""
    payment.save(
        update_fields=[
            "status",
            "stripe_transfer_id",
            "remittance",
            "clearing_transaction",
            "sent_at",
            "error",
        ]
    )
    audit_event_record(actor=by, action="payment.sent", obj=payment, detail={"transfer": transfer_id})
    transaction.on_commit(lambda: _remittance_email(remittance.pk))
    return payment


def _remittance_email(remittance_pk: int) -> None:
    """Tell the provider's people what was paid (the same as `/api/v1/remittances/` says)."""
    remittance = Remittance.objects.select_related("provider").get(pk=remittance_pk)
    recipients = list(
        User.objects.filter(organisation=remittance.provider, role=Role.PROVIDER_USER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)[:50]
    )
    if not recipients:
        return
    lines = remittance.lines.select_related("invoice").order_by("invoice__invoice_number")
    body = "\n".join(
        [
            f"Purse has paid {remittance.provider.name} "
            f"{money_display(remittance.total_minor, currency=remittance.currency)} "
            f"on {date_display(remittance.paid_on)}, payment reference {remittance.reference}.",
            "",
            "Invoices paid:",
            *(
                f"- {line.invoice.invoice_number}: "
                f"{money_display(line.amount_minor, currency=remittance.currency)}"
                for line in lines
            ),
            "",
            "The same remittance is in Purse's API at /api/v1/remittances/.",
        ]
    )
    try:
        send_mail(
            subject=f"Remittance {remittance.reference}: "
            f"{money_display(remittance.total_minor, currency=remittance.currency)} paid",
            message=body,
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:  # the payment stands whether or not the email went; the API has the remittance
        logger.exception("The remittance email for %s could not be sent", remittance.reference)


# Bacs files -----------------------------------------------------------------------------------------------


def _originator() -> bacs.Originator | None:
    values = (
        settings.BACS_SERVICE_USER_NUMBER,
        settings.BACS_SORT_CODE,
        settings.BACS_ACCOUNT_NUMBER,
        settings.BACS_ACCOUNT_NAME,
    )
    if not all(values):
        return None
    return bacs.Originator(
        service_user_number=values[0], sort_code=values[1], account_number=values[2], account_name=values[3]
    )


@transaction.atomic
def _bacs_file_write(run_pk: int) -> PaymentRun:
    """Write the run's Bacs file of its waiting bank payments (once), and move the run on."""
    run = PaymentRun.objects.select_for_update().get(pk=run_pk)
    if run.status != PaymentRunStatus.RUNNING:
        return run
    pending = list(
        run.payment_set.filter(rail=Rail.BACS, status=PaymentStatus.PENDING)
        .order_by("pk")
        .select_related("provider")
    )
    if pending and not hasattr(run, "bacs_file"):
        originator = _originator()
        if originator is None:
            raise BacsNotConfigured()
        processing_day = max(run.pay_on, bacs.working_day_on_or_after(timezone.localdate()))
        file_number = (BacsFile.objects.aggregate(last=Max("file_number"))["last"] or 0) + 1
        credits = [
            bacs.Credit(
                sort_code=payment.destination.split()[0],
                account_number=payment.destination.split()[1],
                account_name=payment.destination_name,
                amount_minor=payment.amount_minor,
                reference=bacs.bacs_reference(payment.public_id),
            )
            for payment in pending
        ]
        content = bacs.bacs_file(
            originator=originator,
            processing_day=processing_day,
            credits=credits,
            file_number=file_number % 1_000_000 or 1,
            created_on=timezone.localdate(),
        )
        bacs_file = BacsFile.objects.create(
            run=run,
            file_number=file_number,
            processing_day=processing_day,
            content=content,
            sha256=hashlib.sha256(content.encode("ascii")).hexdigest(),
            credits=len(credits),
            total_minor=sum(credit.amount_minor for credit in credits),
        )
        Payment.objects.filter(pk__in=[payment.pk for payment in pending]).update(
            status=PaymentStatus.IN_FILE, bacs_file=bacs_file
        )
        audit_event_record(
            actor=None, action="bacs_file.written", obj=bacs_file, detail={"credits": len(credits)}
        )
    _run_settle_status(run)
    return run


def _run_settle_status(run: PaymentRun) -> None:
    """Set a run's status from its payments: waiting for an upload, done, or done with failures."""
    statuses = set(run.payment_set.values_list("status", flat=True))
    if PaymentStatus.PENDING in statuses:
        return
    if PaymentStatus.IN_FILE in statuses:
        run.status = PaymentRunStatus.WAITING_FOR_UPLOAD
    elif statuses & {PaymentStatus.FAILED, PaymentStatus.REVERSED}:
        run.status = PaymentRunStatus.DONE_WITH_FAILURES
    else:
        run.status = PaymentRunStatus.DONE
    if run.status != PaymentRunStatus.WAITING_FOR_UPLOAD and run.finished_at is None:
        run.finished_at = timezone.now()
    run.error = ""
    run.save(update_fields=["status", "finished_at", "error"])


def bacs_file_confirm(*, bacs_file: BacsFile, by: User) -> BacsFile:
    """Finance says the file was uploaded to the bank: its payments are paid. Safe to repeat."""
    with transaction.atomic():
        bacs_file = BacsFile.objects.select_for_update().select_related("run").get(pk=bacs_file.pk)
        if bacs_file.status == BacsFileStatus.UPLOADED:
            return bacs_file
        if bacs_file.status != BacsFileStatus.WRITTEN:
            raise BacsFileStateConflict(f"{bacs_file.filename} was cancelled, so it cannot be confirmed.")
        for payment_pk in bacs_file.payments.filter(status=PaymentStatus.IN_FILE).values_list(
            "pk", flat=True
        ):
            payment_record_sent(payment_pk, transfer_id="", by=by)
        bacs_file.status = BacsFileStatus.UPLOADED
        bacs_file.decided_at = timezone.now()
        bacs_file.decided_by = by
        bacs_file.save(update_fields=["status", "decided_at", "decided_by"])
        audit_event_record(actor=by, action="bacs_file.uploaded", obj=bacs_file)
        _run_settle_status(bacs_file.run)
    return bacs_file


def bacs_file_cancel(*, bacs_file: BacsFile, by: User, reason: str) -> BacsFile:
    """Finance says the file will not be uploaded: its payments are cancelled, the invoices wait for the
    next run. Safe to repeat."""
    if not isinstance(reason, str) or not reason.strip():
        raise BacsFileStateConflict("Say why the file is not being uploaded.")
    with transaction.atomic():
        bacs_file = BacsFile.objects.select_for_update().select_related("run").get(pk=bacs_file.pk)
        if bacs_file.status == BacsFileStatus.CANCELLED:
            return bacs_file
        if bacs_file.status != BacsFileStatus.WRITTEN:
            raise BacsFileStateConflict(f"{bacs_file.filename} was uploaded, so it cannot be cancelled.")
        payments = bacs_file.payments.filter(status=PaymentStatus.IN_FILE)
        PaymentInvoice.objects.filter(payment__in=payments).update(holding=False)
        payments.update(status=PaymentStatus.CANCELLED, error=reason.strip())
        bacs_file.status = BacsFileStatus.CANCELLED
        bacs_file.decided_at = timezone.now()
        bacs_file.decided_by = by
        bacs_file.save(update_fields=["status", "decided_at", "decided_by"])
        audit_event_record(actor=by, action="bacs_file.cancelled", obj=bacs_file, detail={"reason": reason})
        _run_settle_status(bacs_file.run)
    return bacs_file


# Undoing and settling -------------------------------------------------------------------------------------


def payment_settle(payment: Payment) -> None:
    """Stripe says the transfer was paid: clearing to Stripe cash. The payment is locked by the caller."""
    if payment.status != PaymentStatus.SENT:
        return
    clearing = accounts.clearing_account(rail=payment.rail, currency=payment.currency)
    cash = accounts.cash_account(where="stripe", currency=payment.currency)
    posted = ledger_services.transaction_post(
        idempotency_key=f"payment:{payment.public_id}:settled",
        currency=payment.currency,
        effective_on=max(timezone.localdate(), payment.sent_at.date() if payment.sent_at else date.min),
        description=f"Stripe paid transfer {payment.stripe_transfer_id} ({payment.public_id})",
        postings=[
            ledger_services.PostingSpec(account=clearing, side=Side.DEBIT, amount_minor=payment.amount_minor),
            ledger_services.PostingSpec(account=cash, side=Side.CREDIT, amount_minor=payment.amount_minor),
        ],
        metadata={"kind": "provider_payment_settled", "payment": payment.public_id},
    )
    payment.status = PaymentStatus.PAID
    payment.settled_transaction = posted.public_id
    payment.paid_at = timezone.now()
    payment.save(update_fields=["status", "settled_transaction", "paid_at"])


def payment_undo(payment: Payment, *, status: str, reason: str) -> None:
    """A sent (or settled) payment failed or was reversed: reverse its ledger effect, put its invoices back
    to approved, and warn finance. The payment is locked by the caller; a final payment is left alone."""
    if payment.status in FINAL_STATUSES:
        return
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.IN_FILE):
        payment.lines.update(holding=False)
    else:
        today = timezone.localdate()
        for key in (payment.settled_transaction, payment.clearing_transaction):
            if not key:
                continue
            posted = Transaction.objects.get(public_id=key)
            ledger_services.transaction_reverse(
                transaction=posted,
                idempotency_key=f"{posted.idempotency_key}:reversal",
                effective_on=max(today, posted.effective_on),
                reason=f"Payment {payment.public_id} {status}: {reason}",
            )
        if payment.remittance_id:
            invoicing_services.remittance_reverse(
                remittance=payment.remittance, reason=reason, on=today, by=None
            )
        payment.lines.update(holding=False)
    payment.status = status
    payment.error = reason
    payment.failed_at = timezone.now()
    payment.save(update_fields=["status", "error", "failed_at"])
    audit_event_record(actor=None, action=f"payment.{status}", obj=payment, detail={"reason": reason})
    if payment.run.status in (PaymentRunStatus.DONE,):
        PaymentRun.objects.filter(pk=payment.run_id).update(status=PaymentRunStatus.DONE_WITH_FAILURES)
    _warn_finance(payment, reason=reason)


def _warn_finance(payment: Payment, *, reason: str) -> None:
    """The warning finance sees on its pages is the payment itself (failed or reversed, not acknowledged);
    this also emails the addresses in PAYMENTS_WARNING_EMAILS."""
    recipients = list(settings.PAYMENTS_WARNING_EMAILS)
    if not recipients:
        return
    subject = f"Payment {payment.public_id} to {payment.provider.name} did not go through"
    body = (
        f"{subject}: {money_display(payment.amount_minor, currency=payment.currency)} by "
        f"{Rail(payment.rail).label}.\n\n{reason}\n\nIts invoices are approved again and will be paid by the "
        "next payment run once the provider's payout details are right."
    )
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients, fail_silently=True))


def payment_warning_acknowledge(*, payment: Payment, by: User) -> Payment:
    """Finance has seen that a payment failed or was reversed; it leaves the list of warnings."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status not in (PaymentStatus.FAILED, PaymentStatus.REVERSED):
            raise PaymentWarningConflict(
                f"Payment {payment.public_id} has not failed, so there is nothing to see."
            )
        if payment.warning_acknowledged_at is None:
            payment.warning_acknowledged_at = timezone.now()
            payment.warning_acknowledged_by = by
            payment.save(update_fields=["warning_acknowledged_at", "warning_acknowledged_by"])
            audit_event_record(actor=by, action="payment.warning_acknowledged", obj=payment)
    return payment


# Stripe Connect onboarding --------------------------------------------------------------------------------


def stripe_onboarding_start(*, provider: Organisation, by: User, refresh_url: str, return_url: str) -> str:
    """Give a provider the link to Stripe's own onboarding, making its connected account first if it has
    none. The account id is kept in its payout details, but how it is paid now (by bank, say) stays as it is
    until Stripe says the account can take transfers (`stripe_payouts_switch`). Returns the link.

    Raises StripeDisabled, StripeUnavailable and StripeRefused.
    """
    from people.services import provider_stripe_account_record

    details = getattr(provider, "provider_details", None)
    account_id = details.stripe_account_id if details is not None else ""
    link_account = account_id
    if not account_id:
        link_account = stripe_gateway.account_create(
            provider_public_id=provider.public_id, name=provider.name, email=by.email or ""
        )
    # The link first: if Stripe gives none, nothing is written (the account Stripe made is found again by
    # its idempotency key on the next try).
    link = stripe_gateway.onboarding_link(
        account_id=link_account, refresh_url=refresh_url, return_url=return_url
    )
    if not account_id:
        provider_stripe_account_record(provider=provider, account_id=link_account, by=by)
        audit_event_record(
            actor=by, action="stripe.account_created", obj=provider, detail={"account": link_account}
        )
    return link


@dataclass(frozen=True)
class StripePayoutState:
    ready: bool
    switched: bool


def stripe_payouts_switch(*, provider: Organisation, by: User) -> StripePayoutState:
    """The provider is back from Stripe's onboarding: when its connected account can take transfers, it is
    paid through Stripe from the next payment run (its bank details are then dropped). Safe to repeat.

    Raises StripeDisabled, StripeUnavailable and StripeRefused.
    """
    from people.services import provider_details_set

    details = getattr(provider, "provider_details", None)
    if details is None or not details.stripe_account_id:
        return StripePayoutState(ready=False, switched=False)
    if not stripe_gateway.account_ready(account_id=details.stripe_account_id):
        return StripePayoutState(ready=False, switched=False)
    if details.payout_method == PayoutMethod.STRIPE:
        return StripePayoutState(ready=True, switched=False)
    provider_details_set(
        provider=provider,
        by=by,
        provider_kind=details.provider_kind,
        contact_name=details.contact_name,
        address=details.address,
        postcode=details.postcode,
        payout_method=PayoutMethod.STRIPE,
        stripe_account_id=details.stripe_account_id,
    )
    return StripePayoutState(ready=True, switched=True)
