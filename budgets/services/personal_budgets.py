"""Personal budgets: create one with its instalment schedule, post instalments as they fall due, change one.

Each service is one database transaction (`instalments_post_due` runs one per instalment), locks the rows it
decides on, and writes its own audit rows. Money is integer minor units in the stream's currency; the
schedule arithmetic is `budgets.schedule`.

States
------
A personal budget version is `active` until a change makes the next version, which `supersedes` it: the old
row stays, `superseded`. An instalment is `scheduled`, then `due` when it falls due and is posted to the
ledger (`instalments_post_due`; it then names its ledger transaction), then `received` when the agency's
money arrives (recorded by payments, not here). A change `cancels` the superseded version's instalments that
were still scheduled (`cancelled_at` set; rows are never deleted).

Falling due
-----------
An instalment that falls due is one ledger transaction, effective on its due date: debit the stream's
receivable (the agency owes it), credit the person's funds for that stream; idempotency key
`instalment:<public_id>`. An instalment of zero (a budget of a few pennies split many ways) becomes `due`
with no ledger transaction, since the ledger has nothing to post. Instalments of a budget fall due in
order: one is posted only once every earlier one of its budget has been, so the days already paid for are
always a run from the start of the period.

A change mid-period
-------------------
`personal_budget_change(amount_minor=A, effective_from=E)` sets the budget's new total for the whole period,
A, and the day the change takes effect, E. Its rule, in four steps:

1. **Money kept for the days before E** is what those days already had: what was paid in for them, plus
   the current version's instalments not yet due for them. What was paid in for a day is what its
   instalment paid, or, for a day an earlier change settled with an adjustment (step 3), what that change
   gave it. Anything that runs across E counts for the days before E pro rata by days (largest remainder).
2. **The rest, R = A - kept, pays for the days from E**, split by days over the stream's regular blocks from E
   (the same blocks as a new budget, from the stream's frequency and float as they are now; the block that
   runs across E is cut at E). R below zero is refused: the new total would leave the days before E less
   than they already had. E may be any day of the period, even before an earlier change's.
3. **Days already paid for from E** (E is earlier than the end of what was paid in, D: a backdated change, or
   an instalment paid in advance of its block) are settled at once by **one adjustment transaction**, posted
   today: (their share of R) - (what was paid in for them). Up: receivable to funds; down: funds to
   receivable, which the ledger refuses if the person has less than that left unspent (`insufficient_funds`,
   explained in plain words here). Idempotency key `personal-budget:<new public_id>:adjustment`; its metadata
   lists the blocks it settles with their share of R (`settles`), which is what step 1 of a later change
   counts for those days. Since every day's money is then never below zero, a change can only take money
   back that the person was paid for those days: without spending it never fails.
4. **Days not yet paid for** become the new version's instalments: the current version's instalments for days
   before E carried over unchanged (one running across E cut at E, keeping its share), and R's blocks from D.

So (paid in so far) + (adjustment) + (new instalments) = A exactly, and the history is never rewritten: what
was posted stays posted, and the difference is a new transaction. A change effective on or after the end of
what was paid in never needs an adjustment.

Worked example (4-weekly, 1 April 2026 to 31 March 2027, 365 days, 3,650.00 a year so 280.00 a block): six
instalments (168 days) are paid in, 1,680.00, when the budget is raised to 4,000.00 from day 141 (19 August
2026, the first day of block 6). Kept: 5 blocks, 1,400.00, and block 6's 280.00 is for days from E. R =
4,000.00 - 1,400.00 = 2,600.00 over 225 days: 28-day blocks of 323.56 (x5) and 323.55 (x3), and 11.55 for the
last day. Block 6 was paid 280.00, so the adjustment is 323.56 - 280.00 = +43.56; blocks 7 to 14 are
scheduled: 1,680.00 + 43.56 + 2,276.44 = 4,000.00.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError
from django.db.transaction import atomic
from django.utils import timezone

from budgets import accounts, schedule
from budgets.models import (
    FundingStream,
    Instalment,
    InstalmentStatus,
    PersonalBudget,
    PersonalBudgetStatus,
)
from ledger import services as ledger_services
from ledger.errors import DomainError
from ledger.models import Account, Side, Transaction
from ledger.money import InvalidAmount, currency_exponent, money_allocate, money_format, money_parse
from people.models import BudgetHolder
from people.services import audit_event_record

AUDIT_CREATED = "personal_budget.created"
AUDIT_CHANGED = "personal_budget.changed"
AUDIT_INSTALMENT_DUE = "instalment.due"

KIND_INSTALMENT = "instalment"
KIND_ADJUSTMENT = "budget_adjustment"

POSTED_STATUSES = (InstalmentStatus.DUE, InstalmentStatus.RECEIVED)
DEFAULT_BATCH_SIZE = 500
_REASON_MAX = 500
_DAY = timedelta(days=1)


class InvalidPersonalBudget(DomainError):
    code = "invalid_personal_budget"
    message = (
        "A personal budget needs a period that ends on or after it starts and an amount of zero or more."
    )


class PersonalBudgetExists(DomainError):
    code = "personal_budget_exists"
    message = "This person already has an active budget from this stream for that period."
    http_status = 409


class StreamNotActive(DomainError):
    code = "stream_not_active"
    message = "That funding stream is not active, so no new budget can be made from it."


class PersonalBudgetNotActive(DomainError):
    code = "personal_budget_not_active"
    message = "That version of the budget has been replaced; change the current version."
    http_status = 409


class PersonalBudgetChangeTooLow(DomainError):
    code = "personal_budget_change_too_low"
    message = "The new amount is less than the money the budget already had for the days before the change."


class PersonalBudgetAlreadySpent(DomainError):
    code = "personal_budget_already_spent"
    message = "The person has already spent or set aside money this change would take back."
    http_status = 409


class CashEquivalentMismatch(DomainError):
    code = "cash_equivalent_mismatch"
    message = "The amount does not match the cash-equivalent calculation it comes from."


@dataclass
class InstalmentPostingResult:
    """What `instalments_post_due` did: counts, the public ids of the instalments it posted (in the order it
    posted them), and the instalments the ledger refused, with why."""

    on: date
    posted: int = 0
    already_posted: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    posted_instalments: list[str] = field(default_factory=list)


# Create ---------------------------------------------------------------------------------------------------


@atomic
def personal_budget_create(
    *,
    budget_holder: BudgetHolder,
    stream: FundingStream,
    starts_on: date,
    ends_on: date,
    amount_minor: int,
    explanation: dict[str, Any],
    created_by: AbstractBaseUser | None,
    reason: str = "",
) -> PersonalBudget:
    """Make version 1 of a person's budget from a stream for a period, with its instalment schedule.

    The currency is the stream's. Raises InvalidPersonalBudget, InvalidAmount, StreamNotActive and
    PersonalBudgetExists (an active budget from the stream for an overlapping period).
    """
    _check_amount(amount_minor)
    _check_period(starts_on=starts_on, ends_on=ends_on)
    _check_explanation(explanation)
    _check_reason(reason, required=False)
    # Serialise budget decisions for one person: two requests cannot both find "no budget yet".
    holder = BudgetHolder.objects.select_for_update().get(pk=budget_holder.pk)
    stream = FundingStream.objects.get(pk=stream.pk)
    if not stream.is_active:
        raise StreamNotActive(
            f"The {stream.name} stream is not active, so no new budget can be made from it."
        )
    currency_exponent(stream.currency)
    existing = (
        PersonalBudget.objects.filter(
            budget_holder=holder,
            stream=stream,
            status=PersonalBudgetStatus.ACTIVE,
            starts_on__lte=ends_on,
            ends_on__gte=starts_on,
        )
        .order_by("starts_on")
        .first()
    )
    if existing is not None:
        raise _exists(holder, stream, existing)
    instalments = schedule.instalment_schedule(
        starts_on=starts_on,
        ends_on=ends_on,
        amount_minor=amount_minor,
        frequency=stream.payment_frequency,
        initial_float_weeks=stream.initial_float_weeks,
    )
    try:
        with atomic():
            budget = PersonalBudget.objects.create(
                budget_holder=holder,
                stream=stream,
                starts_on=starts_on,
                ends_on=ends_on,
                currency=stream.currency,
                amount_minor=amount_minor,
                version=1,
                effective_from=starts_on,
                explanation=explanation,
                reason=reason,
                created_by=_user_or_none(created_by),
            )
    except IntegrityError:
        # A budget for the same start day made since we looked (only possible without the holder lock).
        raise _exists(holder, stream, None) from None
    _instalments_create(budget, instalments)
    _accounts_for(budget)
    audit_event_record(
        actor=created_by,
        action=AUDIT_CREATED,
        obj=budget,
        detail={
            "budget_holder": holder.public_id,
            "stream": stream.code,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "currency": budget.currency,
            "amount": money_format(amount_minor, currency=budget.currency),
            "version": 1,
            "instalments": len(instalments),
            "reason": reason,
        },
    )
    return budget


def personal_budget_create_from_cash_equivalent(
    *,
    budget_holder: BudgetHolder,
    stream: FundingStream,
    starts_on: date,
    ends_on: date,
    amount_minor: int,
    explanation: dict[str, Any],
    created_by: AbstractBaseUser | None,
    reason: str = "",
) -> PersonalBudget:
    """Make a budget from one stream's part of a cash-equivalent calculation (`amount_minor` and the steps).

    Where the explanation states them, its `stream` (code), `currency` and `amount` (a decimal string) must
    agree with the stream and `amount_minor`. It is stored as `{"source": "cash_equivalent", "calculation":
    explanation}`. Raises CashEquivalentMismatch and what `personal_budget_create` raises.
    """
    _check_explanation(explanation)
    _check_amount(amount_minor)
    stated_stream = explanation.get("stream")
    if stated_stream is not None and stated_stream != stream.code:
        raise CashEquivalentMismatch(f"The calculation is for the {stated_stream} stream, not {stream.code}.")
    stated_currency = explanation.get("currency")
    if stated_currency is not None and stated_currency != stream.currency:
        raise CashEquivalentMismatch(
            f"The calculation is in {stated_currency}, but the {stream.code} stream pays in "
            f"{stream.currency}."
        )
    stated_amount = explanation.get("amount")
    if stated_amount is not None:
        try:
            stated_minor = money_parse(stated_amount, currency=stream.currency)
        except InvalidAmount as error:
            raise CashEquivalentMismatch(
                f"The calculation's amount is not readable: {error.message}"
            ) from None
        if stated_minor != amount_minor:
            raise CashEquivalentMismatch(
                f"The calculation comes to {stated_amount} {stream.currency}, not "
                f"{money_format(amount_minor, currency=stream.currency)}."
            )
    return personal_budget_create(
        budget_holder=budget_holder,
        stream=stream,
        starts_on=starts_on,
        ends_on=ends_on,
        amount_minor=amount_minor,
        explanation={"source": "cash_equivalent", "calculation": explanation},
        created_by=created_by,
        reason=reason or "Made from the cash-equivalent calculation.",
    )


# Falling due ----------------------------------------------------------------------------------------------


def instalments_post_due(*, on: date, batch_size: int = DEFAULT_BATCH_SIZE) -> InstalmentPostingResult:
    """Post every scheduled instalment due on or before `on` to the ledger, each in its own transaction.

    Walks the due instalments in id order, a batch at a time (keyset, never the whole table), and locks each
    one before posting it, so two runs at once post each instalment once. An instalment the ledger refuses
    (a closed period) is reported in `failed` and the run goes on; later instalments of its budget wait.
    """
    if not isinstance(on, date) or isinstance(on, datetime):
        raise InvalidPersonalBudget(f"Say which day to post instalments for, as a date, not {on!r}.")
    result = InstalmentPostingResult(on=on)
    last_id = 0
    while True:
        batch = list(
            Instalment.objects.filter(status=InstalmentStatus.SCHEDULED, due_on__lte=on, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "public_id")[:batch_size]
        )
        if not batch:
            return result
        for instalment_id, public_id in batch:
            try:
                outcome = _instalment_post(instalment_id, on=on)
            except DomainError as error:
                result.failed.append((public_id, error.message))
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
            if outcome == "posted":
                result.posted_instalments.append(public_id)
        last_id = batch[-1][0]


@atomic
def _instalment_post(instalment_id: int, *, on: date) -> str:
    """Post one instalment under its row lock; returns which count of the result it adds to."""
    instalment = (
        Instalment.objects.select_for_update(of=("self",))
        .select_related("personal_budget__stream", "personal_budget__budget_holder")
        .get(pk=instalment_id)
    )
    if instalment.status in POSTED_STATUSES:
        return "already_posted"
    if instalment.status != InstalmentStatus.SCHEDULED or instalment.due_on > on:
        return "skipped"  # cancelled by a change since the batch was read
    earlier_waiting = Instalment.objects.filter(
        personal_budget_id=instalment.personal_budget_id,
        sequence__lt=instalment.sequence,
        status=InstalmentStatus.SCHEDULED,
    ).exists()
    if earlier_waiting:
        return "skipped"
    budget = instalment.personal_budget
    transaction_id = ""
    if instalment.amount_minor > 0:
        receivable, funds = _accounts_for(budget)
        posted = ledger_services.transaction_post(
            idempotency_key=f"instalment:{instalment.public_id}",
            currency=budget.currency,
            effective_on=instalment.due_on,
            description=(
                f"{budget.stream.name} instalment {instalment.sequence} for "
                f"{budget.budget_holder.public_id}, {instalment.covers_from.isoformat()} to "
                f"{instalment.covers_to.isoformat()}"
            ),
            postings=[
                ledger_services.PostingSpec(
                    account=receivable, side=Side.DEBIT, amount_minor=instalment.amount_minor
                ),
                ledger_services.PostingSpec(
                    account=funds, side=Side.CREDIT, amount_minor=instalment.amount_minor
                ),
            ],
            metadata={
                "kind": KIND_INSTALMENT,
                "instalment": instalment.public_id,
                "personal_budget": budget.public_id,
                "stream": budget.stream.code,
                "budget_holder": budget.budget_holder.public_id,
            },
        )
        transaction_id = posted.public_id
    instalment.status = InstalmentStatus.DUE
    instalment.ledger_transaction = transaction_id
    instalment.save(update_fields=["status", "ledger_transaction"])
    audit_event_record(
        actor=None,
        action=AUDIT_INSTALMENT_DUE,
        obj=instalment,
        detail={
            "personal_budget": budget.public_id,
            "amount": money_format(instalment.amount_minor, currency=budget.currency),
            "due_on": instalment.due_on.isoformat(),
            "ledger_transaction": transaction_id,
        },
    )
    return "posted"


# Change ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Paid:
    """Money already paid in for a run of days: a posted instalment, or an adjustment (signed)."""

    covers_from: date
    covers_to: date
    amount_minor: int

    def split_at(self, day: date) -> tuple[int, int]:
        """(the part for days before `day`, the part for days from it), pro rata by days."""
        if self.covers_to < day:
            return self.amount_minor, 0
        if self.covers_from >= day:
            return 0, self.amount_minor
        before = (day - self.covers_from).days
        after = (self.covers_to - day).days + 1
        first, second = money_allocate(self.amount_minor, weights=[before, after])
        return first, second


@atomic
def personal_budget_change(
    *,
    personal_budget: PersonalBudget,
    amount_minor: int,
    effective_from: date,
    explanation: dict[str, Any],
    changed_by: AbstractBaseUser | None,
    reason: str,
) -> PersonalBudget:
    """Make the next version of a budget with a new total for the period, from `effective_from` on.

    Cancels the current version's scheduled instalments, schedules the new version's, and posts one
    adjustment for days already paid for (the rule is in the module docstring). Raises InvalidAmount,
    InvalidPersonalBudget, PersonalBudgetNotActive (it was changed meanwhile), PersonalBudgetChangeTooLow,
    PersonalBudgetAlreadySpent (a decrease the person has already spent) and PeriodClosed.
    """
    _check_amount(amount_minor)
    _check_explanation(explanation)
    _check_reason(reason, required=True)
    current = (
        PersonalBudget.objects.select_for_update(of=("self",))
        .select_related("stream", "budget_holder")
        .get(pk=personal_budget.pk)
    )
    if current.status != PersonalBudgetStatus.ACTIVE:
        newer = PersonalBudget.objects.filter(supersedes=current).values_list("public_id", flat=True).first()
        raise PersonalBudgetNotActive(
            f"Version {current.version} of this budget was replaced by {newer}; change that version instead."
        )
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime):
        raise InvalidPersonalBudget(f"A change takes effect on a date, not {effective_from!r}.")
    if not current.starts_on <= effective_from <= current.ends_on:
        raise InvalidPersonalBudget(
            f"A change takes effect inside the budget period, {current.starts_on.isoformat()} to "
            f"{current.ends_on.isoformat()}, not on {effective_from.isoformat()}."
        )
    stream, currency = current.stream, current.currency
    scheduled = list(
        Instalment.objects.select_for_update()
        .filter(personal_budget=current, status=InstalmentStatus.SCHEDULED)
        .order_by("sequence")
    )
    versions = list(
        PersonalBudget.objects.filter(
            budget_holder_id=current.budget_holder_id,
            stream_id=current.stream_id,
            starts_on=current.starts_on,
        ).order_by("version")
    )
    posted = list(
        Instalment.objects.filter(personal_budget__in=versions, status__in=POSTED_STATUSES).order_by(
            "personal_budget_id", "sequence"
        )
    )
    receivable, funds = _accounts_for(current)
    paid = _paid_in(versions=versions, posted=posted)
    # D: the first day not yet paid for. Instalments fall due in order, so the days before it are all paid.
    paid_through = max((i.covers_to for i in posted), default=current.starts_on - _DAY)
    unpaid_from = paid_through + _DAY

    # 1. Money kept for the days before E.
    paid_split = [item.split_at(effective_from) for item in paid]
    carried: list[schedule.Block] = []  # the current version's instalments for days before E, cut at E
    carried_amounts: list[int] = []
    for instalment in scheduled:
        if instalment.covers_from < effective_from:
            item = _Paid(instalment.covers_from, instalment.covers_to, instalment.amount_minor)
            carried.append(
                schedule.Block(instalment.covers_from, min(instalment.covers_to, effective_from - _DAY))
            )
            carried_amounts.append(item.split_at(effective_from)[0])
    kept = _money_before(effective_from, paid=paid, scheduled=scheduled)

    # 2. The rest pays for the days from E, in the stream's regular blocks.
    rest = amount_minor - kept
    if rest < 0:
        raise PersonalBudgetChangeTooLow(
            f"The budget already had {money_format(kept, currency=currency)} {currency} for the days before "
            f"{effective_from.isoformat()}, more than the new total of "
            f"{money_format(amount_minor, currency=currency)} {currency}. Make the change effective earlier, "
            "or check the new total."
        )
    grid = schedule.schedule_blocks(
        starts_on=current.starts_on,
        ends_on=current.ends_on,
        frequency=stream.payment_frequency,
        initial_float_weeks=stream.initial_float_weeks,
    )
    pieces = schedule.blocks_split_at(
        schedule.blocks_between(grid, from_on=effective_from, to_on=current.ends_on), unpaid_from
    )
    piece_amounts = schedule.amounts_by_days(rest, pieces) if pieces else []

    # 3. Days from E already paid for: one adjustment now.
    settled = [
        (piece, a) for piece, a in zip(pieces, piece_amounts, strict=True) if piece.covers_to < unpaid_from
    ]
    paid_from_effective = sum(after for _, after in paid_split)
    adjustment = sum(a for _, a in settled) - paid_from_effective

    # 4. Days not yet paid for: the new version's instalments.
    future = [
        (piece, a) for piece, a in zip(pieces, piece_amounts, strict=True) if piece.covers_from >= unpaid_from
    ]
    new_blocks = carried + [piece for piece, _ in future]
    new_amounts = carried_amounts + [a for _, a in future]

    now = timezone.now()
    cancelled = Instalment.objects.filter(pk__in=[i.pk for i in scheduled]).update(
        status=InstalmentStatus.CANCELLED, cancelled_at=now
    )
    current.status = PersonalBudgetStatus.SUPERSEDED
    current.save(update_fields=["status"])
    changed = PersonalBudget.objects.create(
        budget_holder_id=current.budget_holder_id,
        stream=stream,
        starts_on=current.starts_on,
        ends_on=current.ends_on,
        currency=currency,
        amount_minor=amount_minor,
        version=current.version + 1,
        supersedes=current,
        effective_from=effective_from,
        explanation=explanation,
        reason=reason,
        created_by=_user_or_none(changed_by),
    )
    new_instalments = schedule.instalments_for_blocks(new_blocks, new_amounts, first_sequence=len(posted) + 1)
    _instalments_create(changed, new_instalments)
    adjustment_id = ""
    if adjustment:
        adjustment_id = _adjustment_post(
            budget=changed,
            previous=current,
            receivable=receivable,
            funds=funds,
            amount_minor=adjustment,
            settled=settled,
        )
    audit_event_record(
        actor=changed_by,
        action=AUDIT_CHANGED,
        obj=changed,
        detail={
            "supersedes": current.public_id,
            "version": changed.version,
            "effective_from": effective_from.isoformat(),
            "currency": currency,
            "amount_from": money_format(current.amount_minor, currency=currency),
            "amount_to": money_format(amount_minor, currency=currency),
            "kept_before_change": money_format(kept, currency=currency),
            "adjustment": money_format(adjustment, currency=currency),
            "adjustment_transaction": adjustment_id,
            "instalments_cancelled": cancelled,
            "instalments_scheduled": len(new_instalments),
            "reason": reason,
        },
    )
    return changed


def personal_budget_money_before(*, personal_budget: PersonalBudget, day: date) -> int:
    """The money an active budget already has for the days before `day`: what a change effective `day`
    keeps (step 1 of the rule in the module docstring). Reads only; raises PersonalBudgetNotActive."""
    if personal_budget.status != PersonalBudgetStatus.ACTIVE:
        raise PersonalBudgetNotActive(
            f"Version {personal_budget.version} of this budget has been replaced; ask about the current one."
        )
    versions = list(
        PersonalBudget.objects.filter(
            budget_holder_id=personal_budget.budget_holder_id,
            stream_id=personal_budget.stream_id,
            starts_on=personal_budget.starts_on,
        ).order_by("version")
    )
    posted = list(
        Instalment.objects.filter(personal_budget__in=versions, status__in=POSTED_STATUSES).order_by(
            "personal_budget_id", "sequence"
        )
    )
    scheduled = list(
        Instalment.objects.filter(
            personal_budget=personal_budget, status=InstalmentStatus.SCHEDULED
        ).order_by("sequence")
    )
    return _money_before(day, paid=_paid_in(versions=versions, posted=posted), scheduled=scheduled)


def _money_before(day: date, *, paid: Sequence[_Paid], scheduled: Sequence[Instalment]) -> int:
    """Step 1: what was paid in for the days before `day`, plus the current version's instalments not yet due
    for them; anything that runs across `day` counts pro rata by days."""
    return sum(item.split_at(day)[0] for item in paid) + sum(
        _Paid(i.covers_from, i.covers_to, i.amount_minor).split_at(day)[0]
        for i in scheduled
        if i.covers_from < day
    )


def _paid_in(*, versions: Sequence[PersonalBudget], posted: Sequence[Instalment]) -> list[_Paid]:
    """What was paid in for which days, replaying the budget's history version by version (module docstring,
    step 1): each version's posted instalments; a change with an adjustment replaces what was paid for the
    days from its effective date with the blocks it settled, and keeps the days before (cut pro rata)."""
    keys = {_adjustment_key(version.public_id): version.pk for version in versions}
    settled = {
        keys[key]: metadata["settles"]
        for key, metadata in Transaction.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", "metadata"
        )
    }
    pieces: list[_Paid] = []
    for version in versions:
        if version.pk in settled:
            cut = version.effective_from
            pieces = [
                _Paid(piece.covers_from, min(piece.covers_to, cut - _DAY), piece.split_at(cut)[0])
                for piece in pieces
                if piece.covers_from < cut
            ] + [
                _Paid(date.fromisoformat(covers_from), date.fromisoformat(covers_to), amount)
                for covers_from, covers_to, amount in settled[version.pk]
            ]
        pieces += [
            _Paid(i.covers_from, i.covers_to, i.amount_minor)
            for i in posted
            if i.personal_budget_id == version.pk
        ]
    return pieces


def _adjustment_post(
    *,
    budget: PersonalBudget,
    previous: PersonalBudget,
    receivable: Account,
    funds: Account,
    amount_minor: int,
    settled: Sequence[tuple[schedule.Block, int]],
) -> str:
    """Post the change's adjustment (signed: up is to the person); returns the transaction's public id."""
    covers_from, covers_to = settled[0][0].covers_from, settled[-1][0].covers_to
    to_person = amount_minor > 0
    amount = abs(amount_minor)
    holder = budget.budget_holder
    stream = budget.stream
    try:
        posted = ledger_services.transaction_post(
            idempotency_key=_adjustment_key(budget.public_id),
            currency=budget.currency,
            effective_on=timezone.localdate(),
            description=(
                f"{stream.name} budget change for {holder.public_id} (version {budget.version}): "
                f"{'more' if to_person else 'less'} for {covers_from.isoformat()} to "
                f"{covers_to.isoformat()}, already paid in"
            ),
            postings=[
                ledger_services.PostingSpec(
                    account=receivable if to_person else funds, side=Side.DEBIT, amount_minor=amount
                ),
                ledger_services.PostingSpec(
                    account=funds if to_person else receivable, side=Side.CREDIT, amount_minor=amount
                ),
            ],
            metadata={
                "kind": KIND_ADJUSTMENT,
                "personal_budget": budget.public_id,
                "supersedes": previous.public_id,
                "stream": stream.code,
                "budget_holder": holder.public_id,
                "covers_from": covers_from.isoformat(),
                "covers_to": covers_to.isoformat(),
                "settles": [
                    [block.covers_from.isoformat(), block.covers_to.isoformat(), amount]
                    for block, amount in settled
                ],
            },
        )
    except ledger_services.InsufficientFunds as error:
        currency = budget.currency
        raise PersonalBudgetAlreadySpent(
            f"This change takes back {money_format(amount, currency=currency)} {currency} already paid "
            f"in for {covers_from.isoformat()} to {covers_to.isoformat()}, but only "
            f"{money_format(max(error.available_minor, 0), currency=currency)} {currency} of "
            f"{holder.name_to_use}'s {stream.name} money is left unspent (the rest is spent or set aside for "
            "approved invoices). Make the change effective later, or reduce the budget by less."
        ) from error
    return posted.public_id


def _adjustment_key(budget_public_id: str) -> str:
    return f"personal-budget:{budget_public_id}:adjustment"


# Helpers --------------------------------------------------------------------------------------------------


def _instalments_create(budget: PersonalBudget, instalments: Sequence[schedule.ScheduledInstalment]) -> None:
    Instalment.objects.bulk_create(
        Instalment(
            personal_budget=budget,
            sequence=item.sequence,
            due_on=item.due_on,
            covers_from=item.covers_from,
            covers_to=item.covers_to,
            amount_minor=item.amount_minor,
        )
        for item in instalments
    )


def _accounts_for(budget: PersonalBudget) -> tuple[Account, Account]:
    """The stream's receivable and the person's funds for that stream (created on first use)."""
    stream = budget.stream
    receivable = accounts.stream_receivable_account(
        stream_code=stream.code, stream_name=stream.name, currency=budget.currency
    )
    funds = accounts.person_funds_account(
        budget_holder_public_id=budget.budget_holder.public_id,
        stream_code=stream.code,
        currency=budget.currency,
    )
    return receivable, funds


def _exists(
    holder: BudgetHolder, stream: FundingStream, existing: PersonalBudget | None
) -> PersonalBudgetExists:
    if existing is None:
        return PersonalBudgetExists(
            f"{holder.name_to_use} already has an active {stream.name} budget for that period; "
            "change it instead."
        )
    return PersonalBudgetExists(
        f"{holder.name_to_use} already has an active {stream.name} budget ({existing.public_id}) for "
        f"{existing.starts_on.isoformat()} to {existing.ends_on.isoformat()}; change that budget instead."
    )


def _user_or_none(user: AbstractBaseUser | None):
    return user if user is not None and user.is_authenticated else None


def _check_amount(amount_minor: int) -> None:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise InvalidAmount(f"A budget is a whole number of minor units, not {amount_minor!r}.")
    if amount_minor < 0:
        raise InvalidAmount("A budget cannot be less than zero.")


def _check_period(*, starts_on: date, ends_on: date) -> None:
    for value in (starts_on, ends_on):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidPersonalBudget(f"A budget period runs between two dates, not {value!r}.")
    if ends_on < starts_on:
        raise InvalidPersonalBudget(
            f"A budget period cannot end ({ends_on.isoformat()}) before it starts ({starts_on.isoformat()})."
        )


def _check_reason(reason: str, *, required: bool) -> None:
    if not isinstance(reason, str) or len(reason) > _REASON_MAX:
        raise InvalidPersonalBudget(f"A reason is text of at most {_REASON_MAX} characters.")
    if required and not reason.strip():
        raise InvalidPersonalBudget("Say why the budget is changing.")


def _check_explanation(explanation: dict[str, Any]) -> None:
    if not isinstance(explanation, dict):
        raise InvalidPersonalBudget("The explanation is a JSON object of the calculation's steps.")
    _check_json(explanation)


def _check_json(value: Any) -> None:
    # Floats are refused: money travels as integers or decimal strings, never floats.
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidPersonalBudget(f"The explanation's keys are text, not {key!r}.")
            _check_json(item)
        return
    raise InvalidPersonalBudget(
        f"{value!r} cannot be stored in an explanation: use whole numbers or decimal strings (never floats)."
    )


# Received from the agency ---------------------------------------------------------------------------------


def instalments_mark_received(*, instalment_ids: Sequence[int], received_on: date) -> int:
    """Mark due instalments received from their agency on a day (payments records the money itself).

    Only instalments that fell due move; returns how many did. Call it inside the transaction that posts the
    receipt.
    """
    return Instalment.objects.filter(pk__in=list(instalment_ids), status=InstalmentStatus.DUE).update(
        status=InstalmentStatus.RECEIVED, received_on=received_on
    )
