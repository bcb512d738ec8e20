"""Surplus reclaims: unspent money above a stream's threshold returned to its agency, after notice.

1. `reclaim_notice_raise` (a finance officer, or an officer of the stream's own agency): the amount (at most
   the surplus audit's reclaimable money less other open notices), the reason, and the day it will be
   reclaimed, at least the stream's `reclaim_notice_weeks` ahead. The person's timeline says so (the person,
   their navigator and that agency see it) and the budget holder and navigator are emailed.
2. `reclaim_notice_respond` (the budget holder, or a representative who may approve): what they say back;
   on the timeline for the agency and finance to read before reclaiming.
3. `reclaim_post` (finance or that agency), on or after the day: one balanced ledger transaction, the person's
   funds for the stream to `payments:reclaim:<STREAM>:<CUR>` (owed back to the agency), metadata kind
   `surplus_reclaim` (so statements show it as a reclaim, not spending). Never more than the notice said, nor
   more than the money is still there to cover beyond the person's reserves. Or `reclaim_notice_withdraw`.

Each is one database transaction, the notice's row locked; posting is idempotent (key `reclaim:<rcl id>`).
"""

import logging
from datetime import date, timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from budgets import accounts as budget_accounts
from budgets.models import FundingStream
from budgets.selectors.surplus import KIND_RECLAIM, surplus_audit
from budgets.services.reserves import reserves_open_minor
from ledger import services as ledger_services
from ledger.errors import DomainError
from ledger.models import Account, Side
from payments import accounts
from payments.models import OPEN_RECLAIM_STATUSES, ReclaimNotice, ReclaimStatus
from people.access import may
from people.models import BudgetHolder, Role, User
from people.services import audit_event_record
from plans.services.timeline import timeline_record
from plans.wording import date_display, money_display

logger = logging.getLogger(__name__)

TEXT_MAX_LENGTH = 2000


class InvalidReclaim(DomainError):
    code = "invalid_reclaim"
    http_status = 422

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class NotAllowedToReclaim(DomainError):
    code = "not_allowed_to_reclaim"
    http_status = 403
    message = "Only a finance officer, or an officer of the stream's own agency, may reclaim a surplus."


class NotAllowedToRespond(DomainError):
    code = "not_allowed_to_respond"
    http_status = 403
    message = "Only the budget holder, or a representative who may approve for them, may respond."


class ReclaimStateConflict(DomainError):
    code = "reclaim_state_conflict"
    http_status = 409


def _may_reclaim(user: User, stream: FundingStream) -> bool:
    role = getattr(user, "role", None)
    if role == Role.FINANCE_OFFICER:
        return True
    return role == Role.AGENCY_OFFICER and user.organisation_id == stream.agency_id


def _text(value: object, *, field: str, missing: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidReclaim(missing, field=field)
    if len(text) > TEXT_MAX_LENGTH:
        raise InvalidReclaim(f"Keep it to {TEXT_MAX_LENGTH} characters or fewer.", field=field)
    return text


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidReclaim("The amount to reclaim must be more than nothing.", field="amount")
    return value


def _open_notices_minor(
    *, budget_holder: BudgetHolder, stream: FundingStream, excluding: int | None = None
) -> int:
    notices = ReclaimNotice.objects.filter(
        budget_holder=budget_holder, stream=stream, status__in=OPEN_RECLAIM_STATUSES
    )
    if excluding is not None:
        notices = notices.exclude(pk=excluding)
    return int(notices.aggregate(total=Sum("amount_minor"))["total"] or 0)


def _lock_funds(budget_holder: BudgetHolder, stream: FundingStream) -> Account | None:
    """The person's funds account row, locked: notices and reclaims of one person and stream queue here."""
    key = budget_accounts.person_funds_key(
        budget_holder_public_id=budget_holder.public_id, stream_code=stream.code
    )
    return Account.objects.select_for_update().filter(key=key).first()


@transaction.atomic
def reclaim_notice_raise(
    *,
    budget_holder: BudgetHolder,
    stream_code: str,
    amount_minor: int,
    reason: str,
    by: User,
    reclaim_on: date | None = None,
) -> ReclaimNotice:
    """Give the budget holder notice that `amount_minor` of the stream's money they hold will be reclaimed.

    Raises NotAllowedToReclaim, InvalidReclaim (with the field).
    """
    stream = FundingStream.objects.select_related("agency").filter(code=stream_code).first()
    if stream is None or not _may_reclaim(by, stream):
        raise NotAllowedToReclaim()
    amount_minor = _amount(amount_minor)
    reason = _text(reason, field="reason", missing="Say why the money is being reclaimed.")
    today = timezone.localdate()
    earliest = today + timedelta(weeks=stream.reclaim_notice_weeks)
    if reclaim_on is None:
        reclaim_on = earliest
    if not isinstance(reclaim_on, date) or reclaim_on < earliest:
        raise InvalidReclaim(
            f"{stream.name} gives {stream.reclaim_notice_weeks} weeks' notice: the money may be reclaimed on "
            f"{date_display(earliest)} at the earliest.",
            field="reclaim_on",
        )
    _lock_funds(budget_holder, stream)
    audit = surplus_audit(budget_holder=budget_holder, stream_code=stream.code)
    reclaimable = audit.reclaimable_minor if audit is not None else 0
    room = max(0, reclaimable - _open_notices_minor(budget_holder=budget_holder, stream=stream))
    if amount_minor > room:
        raise InvalidReclaim(
            f"At most {money_display(room, currency=stream.currency)} may be reclaimed from "
            f"{budget_holder.name_to_use}'s {stream.name} money now (the surplus above the threshold and the "
            "reserves, less notices already given).",
            field="amount",
        )
    notice = ReclaimNotice.objects.create(
        budget_holder=budget_holder,
        stream=stream,
        currency=stream.currency,
        amount_minor=amount_minor,
        reason=reason,
        notice_given_on=today,
        reclaim_on=reclaim_on,
        raised_by=by,
    )
    money = money_display(amount_minor, currency=stream.currency)
    timeline_record(
        budget_holder=budget_holder,
        kind="reclaim.notified",
        for_person=(
            f"{stream.agency.name} plans to take back {money} of your {stream.name} money that has not been "
            f"spent, on {date_display(reclaim_on)}. Why: {reason} You can reply before then."
        ),
        actor=by,
        stream=stream,
        detail={
            "notice": notice.public_id,
            "amount_minor": amount_minor,
            "reclaim_on": reclaim_on.isoformat(),
        },
    )
    audit_event_record(
        actor=by,
        action="reclaim.notified",
        obj=notice,
        detail={"amount_minor": amount_minor, "reclaim_on": reclaim_on.isoformat(), "reason": reason},
    )
    transaction.on_commit(lambda: _notice_email(notice.pk))
    return notice


def _notice_email(notice_pk: int) -> None:
    notice = ReclaimNotice.objects.select_related(
        "budget_holder__user", "budget_holder__navigator", "stream__agency"
    ).get(pk=notice_pk)
    holder = notice.budget_holder
    recipients = [
        user.email
        for user in (holder.user, holder.navigator)
        if user is not None and user.is_active and user.email
    ]
    if not recipients:
        return
    money = money_display(notice.amount_minor, currency=notice.currency)
    try:
        send_mail(
            subject=f"Notice: {money} of {notice.stream.name} money to be reclaimed",
            message=(
                f"{notice.stream.agency.name} plans to take back {money} of {holder.name_to_use}'s "
                f"{notice.stream.name} money that has not been spent, on "
                f"{date_display(notice.reclaim_on)}.\n\n"
                f"Why: {notice.reason}\n\nYou can reply in Purse before then (notice {notice.public_id})."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:  # the notice stands, on the timeline, whether or not the email went
        logger.exception("The reclaim notice email for %s could not be sent", notice.public_id)


def _locked(notice: ReclaimNotice) -> ReclaimNotice:
    return (
        ReclaimNotice.objects.select_for_update(of=("self",))
        .select_related("budget_holder", "stream__agency")
        .get(pk=notice.pk)
    )


@transaction.atomic
def reclaim_notice_respond(*, notice: ReclaimNotice, text: str, by: User) -> ReclaimNotice:
    """The budget holder's reply (the latest is kept on the notice; each is on the timeline and audited)."""
    notice = _locked(notice)
    if not may(by, "people.act_for_budgetholder", notice.budget_holder):
        raise NotAllowedToRespond()
    text = _text(text, field="response", missing="Write your reply.")
    if notice.status not in OPEN_RECLAIM_STATUSES:
        raise ReclaimStateConflict(
            f"The notice was {notice.get_status_display().lower()}, so it takes no reply."
        )
    notice.response, notice.responded_by, notice.responded_at = text, by, timezone.now()
    notice.status = ReclaimStatus.RESPONDED
    notice.save(update_fields=["response", "responded_by", "responded_at", "status"])
    timeline_record(
        budget_holder=notice.budget_holder,
        kind="reclaim.responded",
        for_person=f"You replied to the notice about taking back {notice.stream.name} money: {text}",
        for_staff=f"{by.get_full_name() or by.username} replied to reclaim notice {notice.public_id}: {text}",
        actor=by,
        stream=notice.stream,
        detail={"notice": notice.public_id},
    )
    audit_event_record(actor=by, action="reclaim.responded", obj=notice, detail={"response": text})
    return notice


@transaction.atomic
def reclaim_notice_withdraw(*, notice: ReclaimNotice, by: User, reason: str) -> ReclaimNotice:
    notice = _locked(notice)
    if not _may_reclaim(by, notice.stream):
        raise NotAllowedToReclaim()
    reason = _text(reason, field="reason", missing="Say why the reclaim is withdrawn.")
    if notice.status not in OPEN_RECLAIM_STATUSES:
        raise ReclaimStateConflict(f"The notice was {notice.get_status_display().lower()} already.")
    notice.status = ReclaimStatus.WITHDRAWN
    notice.withdrawn_by, notice.withdrawn_at, notice.withdrawal_reason = by, timezone.now(), reason
    notice.save(update_fields=["status", "withdrawn_by", "withdrawn_at", "withdrawal_reason"])
    timeline_record(
        budget_holder=notice.budget_holder,
        kind="reclaim.withdrawn",
        for_person=(
            f"{notice.stream.agency.name} will not take back the {notice.stream.name} money after all: "
            f"{reason}"
        ),
        actor=by,
        stream=notice.stream,
        detail={"notice": notice.public_id},
    )
    audit_event_record(actor=by, action="reclaim.withdrawn", obj=notice, detail={"reason": reason})
    return notice


@transaction.atomic
def reclaim_post(*, notice: ReclaimNotice, by: User, amount_minor: int | None = None) -> ReclaimNotice:
    """Reclaim the money (all the notice said, or less): one balanced ledger transaction. Safe to repeat."""
    notice = _locked(notice)
    if not _may_reclaim(by, notice.stream):
        raise NotAllowedToReclaim()
    if notice.status == ReclaimStatus.RECLAIMED:
        return notice
    if notice.status not in OPEN_RECLAIM_STATUSES:
        raise ReclaimStateConflict("The notice was withdrawn, so nothing can be reclaimed under it.")
    today = timezone.localdate()
    if today < notice.reclaim_on:
        raise ReclaimStateConflict(
            f"The notice runs until {date_display(notice.reclaim_on)}; the money may be reclaimed from then."
        )
    amount_minor = notice.amount_minor if amount_minor is None else _amount(amount_minor)
    if amount_minor > notice.amount_minor:
        raise InvalidReclaim(
            f"The notice was for {money_display(notice.amount_minor, currency=notice.currency)}; no more may "
            "be reclaimed under it.",
            field="amount",
        )
    funds = _lock_funds(notice.budget_holder, notice.stream)
    held = funds.available_minor if funds is not None else 0
    room = max(0, held - reserves_open_minor(budget_holder=notice.budget_holder, stream=notice.stream))
    if funds is None or amount_minor > room:
        raise InvalidReclaim(
            f"{notice.budget_holder.name_to_use} now holds {money_display(held, currency=notice.currency)} "
            f"of {notice.stream.name} money beyond their reserves of which at most "
            f"{money_display(room, currency=notice.currency)} can be reclaimed now.",
            field="amount",
        )
    owed = accounts.reclaim_account(
        stream_code=notice.stream.code, agency_name=notice.stream.agency.name, currency=notice.currency
    )
    try:
        posted = ledger_services.transaction_post(
            idempotency_key=f"reclaim:{notice.public_id}",
            currency=notice.currency,
            effective_on=today,
            description=f"Surplus reclaimed by {notice.stream.agency.name} ({notice.public_id})",
            postings=[
                ledger_services.PostingSpec(account=funds, side=Side.DEBIT, amount_minor=amount_minor),
                ledger_services.PostingSpec(account=owed, side=Side.CREDIT, amount_minor=amount_minor),
            ],
            metadata={"kind": KIND_RECLAIM, "reclaim": notice.public_id, "stream": notice.stream.code},
        )
    except ledger_services.PeriodClosed as error:
        raise InvalidReclaim(error.message, field="reclaim_on") from error
    notice.status = ReclaimStatus.RECLAIMED
    notice.reclaimed_minor, notice.reclaimed_by, notice.reclaimed_at = amount_minor, by, timezone.now()
    notice.ledger_transaction = posted.public_id
    notice.save(
        update_fields=["status", "reclaimed_minor", "reclaimed_by", "reclaimed_at", "ledger_transaction"]
    )
    timeline_record(
        budget_holder=notice.budget_holder,
        kind="reclaim.posted",
        for_person=(
            f"{notice.stream.agency.name} took back "
            f"{money_display(amount_minor, currency=notice.currency)} of your {notice.stream.name} money "
            "that had not been spent."
        ),
        actor=by,
        stream=notice.stream,
        detail={"notice": notice.public_id, "amount_minor": amount_minor, "transaction": posted.public_id},
    )
    audit_event_record(actor=by, action="reclaim.posted", obj=notice, detail={"amount_minor": amount_minor})
    return notice
