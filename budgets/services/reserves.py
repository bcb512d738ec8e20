"""Legitimate reserves: money a person holds for a stream that is set aside for a known cost (a personal
assistant's holiday pay, a repair due), so that a surplus audit does not count it as reclaimable.

A reserve moves no money: the money stays in the person's funds account; the reserve only says that this
much of it is spoken for. Set by the person's navigator or by finance; released (never deleted) with who,
when and why. Each change is in the audit trail.
"""

from django.db.models import Sum
from django.db.transaction import atomic
from django.utils import timezone

from budgets import accounts
from budgets.models import FundingStream, LegitimateReserve
from ledger.errors import DomainError
from ledger.models import Account
from ledger.money import money_format
from people.access import may
from people.models import BudgetHolder, User
from people.services import audit_event_record

REASON_MAX_LENGTH = 500


class InvalidReserve(DomainError):
    code = "invalid_reserve"
    http_status = 422

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class NotAllowedToSetReserve(DomainError):
    code = "not_allowed_to_set_reserve"
    http_status = 403
    message = "Only the person's navigator or a finance officer may set aside or release a reserve."


class ReserveAlreadyReleased(DomainError):
    code = "reserve_already_released"
    http_status = 409


def reserves_open_minor(*, budget_holder: BudgetHolder, stream: FundingStream) -> int:
    """The total of the person's reserves for the stream not yet released."""
    total = LegitimateReserve.objects.filter(
        budget_holder=budget_holder, stream=stream, released_at__isnull=True
    ).aggregate(total=Sum("amount_minor"))["total"]
    return int(total or 0)


@atomic
def reserve_set(
    *, budget_holder: BudgetHolder, stream: FundingStream, amount_minor: int, reason: str, by: User
) -> LegitimateReserve:
    """Set aside `amount_minor` of the person's money for the stream, for `reason`.

    The person's reserves together may not be more than the money they hold for the stream now.
    Raises NotAllowedToSetReserve and InvalidReserve (with the field).
    """
    if not may(by, "budgets.set_reserve", budget_holder):
        raise NotAllowedToSetReserve()
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise InvalidReserve("The amount set aside must be more than nothing.", field="amount")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidReserve(
            "Say what the money is set aside for, like holiday pay for a personal assistant.", field="reason"
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidReserve(f"The reason must be {REASON_MAX_LENGTH} characters or fewer.", field="reason")
    # The person's funds account row is the lock: two navigators setting reserves at once queue here.
    key = accounts.person_funds_key(budget_holder_public_id=budget_holder.public_id, stream_code=stream.code)
    account = Account.objects.select_for_update().filter(key=key).first()
    available = account.available_minor if account is not None else 0
    already = reserves_open_minor(budget_holder=budget_holder, stream=stream)
    if already + amount_minor > available:
        room = max(0, available - already)
        raise InvalidReserve(
            f"{budget_holder} holds {money_format(available, currency=stream.currency)} {stream.currency} "
            f"of {stream.code} money, {money_format(already, currency=stream.currency)} of it already set "
            f"aside, so at most {money_format(room, currency=stream.currency)} more can be set aside.",
            field="amount",
        )
    reserve = LegitimateReserve.objects.create(
        budget_holder=budget_holder,
        stream=stream,
        amount_minor=amount_minor,
        currency=stream.currency,
        reason=reason,
        entered_by=by,
    )
    audit_event_record(
        actor=by,
        action="reserve.set",
        obj=reserve,
        detail={
            "budget_holder": budget_holder.public_id,
            "stream": stream.code,
            "amount_minor": amount_minor,
            "reason": reason,
        },
    )
    return reserve


@atomic
def reserve_release(*, reserve: LegitimateReserve, by: User, reason: str) -> LegitimateReserve:
    """The money is no longer set aside (the cost was paid, or is not coming). Kept, marked released.

    Raises NotAllowedToSetReserve, InvalidReserve and ReserveAlreadyReleased.
    """
    reserve = (
        LegitimateReserve.objects.select_for_update()
        .select_related("budget_holder", "stream")
        .get(pk=reserve.pk)
    )
    if not may(by, "budgets.set_reserve", reserve.budget_holder):
        raise NotAllowedToSetReserve()
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidReserve("Say why the money is no longer set aside.", field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidReserve(f"The reason must be {REASON_MAX_LENGTH} characters or fewer.", field="reason")
    if reserve.released_at is not None:
        raise ReserveAlreadyReleased(f"Reserve {reserve.public_id} was already released.")
    reserve.released_at = timezone.now()
    reserve.released_by = by
    reserve.release_reason = reason
    reserve.save(update_fields=["released_at", "released_by", "release_reason"])
    audit_event_record(actor=by, action="reserve.released", obj=reserve, detail={"reason": reason})
    return reserve
