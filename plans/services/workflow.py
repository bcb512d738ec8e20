"""The plan's workflow: agreement by the person, approval by each funding stream's agency, activation.

    draft --plan_version_agree (the budget holder, or a representative who may approve)--> agreed
    agreed --plan_stream_approve, for every stream of the round--> active (the active one becomes superseded)
    agreed --plan_stream_return (one stream's agency, with a reason)--> draft (the round's other parts end)
    draft | agreed --plan_version_withdraw (a navigator, with a reason)--> withdrawn

Each transition is one database transaction that locks the version row, re-checks its state under the
lock and writes the timeline (who, when, why). Agreement costs the version (`plan_version_costing`: its items
from `effective_from` to the end of its period) and opens a round of `StreamApproval`s, one per stream, each
holding that stream's cash equivalent and its explanation. Approval is by an agency officer of the stream's
agency; the last approval of a round activates the version, exactly once, because every approval holds the
version's lock.

Activation and the personal budgets
-----------------------------------
For each stream the new version funds, and each stream the version it replaces (the active version, when
its period overlaps) funded, with E = the new version's `effective_from`, N = the stream's approved amount
(its items' cost from E; 0 if the new version does not fund it), O = the replaced version's items' cost
from E (costed now, against the same catalogue day), B = the person's active budget from the stream that
covers E, and K = what B already has for the days before E (`personal_budget_money_before`):

1. no budget B: make one from E to the end of the period, of N
   (`personal_budget_create_from_cash_equivalent`);
2. **the plan changes the stream** (both versions fund it): the budget moves by exactly what the change
   costs from E, new total = max(K, B + N - O). Items carried over unchanged cost the same in N and O, so
   they move nothing (a one-off item already paid for is not paid again); a budget never takes back what
   the days before E already had (the floor K, as budgets requires);
3. **the plan stops funding the stream**: new total = K, only what the days before E already had;
4. **the plan takes the stream on** (a budget exists that the replaced version did not fund, or there is no
   replaced version in this period): new total = K + N: the days before E keep what they had, the plan pays
   for the days from E;

and a budget whose new total differs from B's is changed with `personal_budget_change` effective E (budgets
then reschedules the future instalments and posts one adjustment for days already paid: the ledger's history
is never rewritten). When the replaced version can no longer be costed (its catalogue service has closed),
rule 4 stands in for rule 2. A budget that does not run to the end of the plan's period (made outside
plans) stops agreement and activation (`plan_budget_mismatch`): finance must sort it out first.

The review date: a person's first active plan is reviewed within 3 months of activation; a later version
keeps the review date it inherits, but never more than a year after its activation (reviews are at least
yearly; `plan_review_bring_forward` makes one sooner).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from budgets.calculator import CashEquivalent, CashEquivalentInvalid, Problem
from budgets.models import FundingStream, PersonalBudget, PersonalBudgetStatus
from budgets.services.packages import stream_explanation
from budgets.services.personal_budgets import (
    personal_budget_change,
    personal_budget_create_from_cash_equivalent,
    personal_budget_money_before,
)
from ledger.errors import DomainError
from ledger.money import money_format
from people.access import may
from people.models import BudgetHolder, Role, User
from plans.models import (
    PlanVersion,
    PlanVersionStatus,
    StreamApproval,
    StreamApprovalStatus,
    TimelineVisibility,
)
from plans.selectors.plans import plan_version_costing, support_items_ordered
from plans.services.engagements import engagements_refresh
from plans.services.timeline import timeline_record
from plans.services.versions import (
    PlanVersionNotDraft,
    ProblemsError,
    ReasonRequired,
    period_display,
)
from plans.wording import date_display, money_display

FIRST_REVIEW_MONTHS = 3
REVIEW_AT_LEAST_EVERY_MONTHS = 12

# Errors -------------------------------------------------------------------------------------------------


class NotAllowedToAgree(DomainError):
    code = "not_allowed_to_agree"
    message = "Only the person, or a representative who may approve for them, can agree their plan."
    http_status = 403


class NotAllowedToDecide(DomainError):
    code = "not_allowed_to_decide"
    message = "Only an officer of the agency that runs this funding stream can approve or return its part."
    http_status = 403


class NotAllowedToWithdraw(DomainError):
    code = "not_allowed_to_withdraw"
    message = "Only a navigator can withdraw a plan version."
    http_status = 403


class PlanIncomplete(DomainError):
    code = "plan_incomplete"
    message = "A plan needs at least one outcome and one support item before it can be agreed."


class PlanCostingInvalid(ProblemsError):
    """The version's items cannot be costed together; `errors` point at items ("/support_items/2/...")."""

    code = "plan_costing_invalid"
    message = "The plan cannot be costed as it stands: see errors for each problem."
    summary = "The plan cannot be costed as it stands"


class PlanBudgetMismatch(DomainError):
    code = "plan_budget_mismatch"
    message = "The person has a budget from this stream that does not fit the plan's period."
    http_status = 409


class PlanVersionNotAgreed(DomainError):
    code = "plan_version_not_agreed"
    message = "Only a version the person has agreed, waiting for the agencies, can be approved or returned."
    http_status = 409


class StreamNotInPlan(DomainError):
    code = "stream_not_in_plan"
    message = "This version has no part for that funding stream to approve or return."
    http_status = 404


class StreamApprovalAlreadyDecided(DomainError):
    code = "stream_approval_decided"
    message = "This stream's part of the plan has already been decided."
    http_status = 409


class PlanVersionNotInProgress(DomainError):
    code = "plan_version_not_in_progress"
    message = "Only a draft or agreed version can be withdrawn: this one is active, replaced or withdrawn."
    http_status = 409


# Agree --------------------------------------------------------------------------------------------------


@transaction.atomic
def plan_version_agree(*, version: PlanVersion, agreed_by: User) -> PlanVersion:
    """The person (or a representative who may approve) agrees a draft: it is costed and each stream's part
    goes to its agency for approval (a new round of stream approvals).

    Raises NotAllowedToAgree, PlanVersionNotDraft, PlanIncomplete, PlanCostingInvalid and PlanBudgetMismatch.
    """
    locked = _lock(version)
    holder = locked.plan.budget_holder
    if not may(agreed_by, "people.act_for_budgetholder", holder):
        raise NotAllowedToAgree()
    if locked.status != PlanVersionStatus.DRAFT:
        raise PlanVersionNotDraft(
            f"Version {locked.number} is {locked.get_status_display().lower()}: only a draft can be agreed."
        )
    missing = []
    if not locked.outcomes.exists():
        missing.append("at least one outcome (what the person wants to achieve)")
    if not locked.support_items.exists():
        missing.append("at least one support item")
    if missing:
        raise PlanIncomplete(f"Before it can be agreed, the plan needs {' and '.join(missing)}.")
    costing = _costing(locked)
    streams = {
        s.code: s
        for s in FundingStream.objects.select_related("agency").filter(
            code__in=[part.stream for part in costing.streams]
        )
    }
    replaced = _replaced_version(locked)
    _check_budgets_fit(locked, holder=holder, stream_codes=set(streams) | _funded_streams(replaced))
    last_round = locked.stream_approvals.aggregate(last=Max("round"))["last"] or 0
    StreamApproval.objects.bulk_create(
        StreamApproval(
            version=locked,
            stream=streams[part.stream],
            round=last_round + 1,
            amount_minor=part.amount_minor,
            currency=costing.currency,
            explanation=stream_explanation(result=costing, stream=part),
            status=StreamApprovalStatus.PENDING,
        )
        for part in costing.streams
    )
    locked.status = PlanVersionStatus.AGREED
    locked.agreed_at = timezone.now()
    locked.agreed_by = agreed_by
    locked.save(update_fields=["status", "agreed_at", "agreed_by"])

    names = _names([streams[part.stream].name for part in costing.streams])
    who = "You" if holder.user_id == agreed_by.pk else f"{agreed_by.display_name}, for you,"
    amounts = ", ".join(
        f"{part.stream} {money_format(part.amount_minor, currency=costing.currency)}"
        for part in costing.streams
    )
    timeline_record(
        budget_holder=holder,
        kind="plan.agreed",
        actor=agreed_by,
        for_person=(
            f"{who} agreed your support plan on {date_display(timezone.localdate())}. It is now with "
            f"{names} for approval."
        ),
        for_staff=(
            f"Version {locked.number} agreed by {agreed_by.display_name} (round {last_round + 1}); "
            f"{costing.currency} from {locked.effective_from.isoformat()}: {amounts}."
        ),
        detail={
            "plan_version": locked.public_id,
            "round": last_round + 1,
            "currency": costing.currency,
            "streams": {
                part.stream: money_format(part.amount_minor, currency=costing.currency)
                for part in costing.streams
            },
        },
    )
    return locked


# Approve ------------------------------------------------------------------------------------------------


@transaction.atomic
def plan_stream_approve(*, version: PlanVersion, stream_code: str, approved_by: User) -> StreamApproval:
    """An agency officer approves their stream's part of an agreed version; the last part of the round to be
    approved activates the version and makes or changes the personal budgets (rules in the module docstring).

    Raises StreamNotInPlan, NotAllowedToDecide, PlanVersionNotAgreed, StreamApprovalAlreadyDecided,
    PlanBudgetMismatch, and what the budgets services raise on activation (for example
    personal_budget_already_spent when a decrease would take back money the person has spent).
    """
    locked = _lock(version)
    approval = _pending_part(locked, stream_code=stream_code, by=approved_by)
    now = timezone.now()
    approval.status = StreamApprovalStatus.APPROVED
    approval.decided_at = now
    approval.decided_by = approved_by
    approval.save(update_fields=["status", "decided_at", "decided_by"])
    holder = locked.plan.budget_holder
    stream = approval.stream
    timeline_record(
        budget_holder=holder,
        kind="plan.stream_approved",
        actor=approved_by,
        stream=stream,
        for_person=f"Your plan was approved by {stream.name} on {date_display(timezone.localdate())}.",
        for_staff=(
            f"{stream.code} part of version {locked.number} (round {approval.round}, "
            f"{money_format(approval.amount_minor, currency=approval.currency)} {approval.currency}) "
            f"approved by {approved_by.display_name} of {approved_by.organisation}."
        ),
        detail={"plan_version": locked.public_id, "round": approval.round, "stream": stream.code},
    )
    round_parts = StreamApproval.objects.filter(version=locked, round=approval.round)
    if not round_parts.exclude(status=StreamApprovalStatus.APPROVED).exists():
        _activate(locked, holder=holder, round_number=approval.round, by=approved_by)
    return approval


# Return -------------------------------------------------------------------------------------------------


@transaction.atomic
def plan_stream_return(
    *, version: PlanVersion, stream_code: str, returned_by: User, reason: str
) -> StreamApproval:
    """An agency officer returns their stream's part for changes: the version goes back to draft and the
    round's other parts end (cancelled), so the person agrees again and every agency decides again.

    Raises ReasonRequired, StreamNotInPlan, NotAllowedToDecide, PlanVersionNotAgreed and
    StreamApprovalAlreadyDecided.
    """
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ReasonRequired(
            "Say what needs to change in the plan, so that the person and navigator can act."
        )
    locked = _lock(version)
    approval = _pending_part(locked, stream_code=stream_code, by=returned_by)
    now = timezone.now()
    approval.status = StreamApprovalStatus.RETURNED
    approval.decided_at = now
    approval.decided_by = returned_by
    approval.reason = reason
    approval.save(update_fields=["status", "decided_at", "decided_by", "reason"])
    stream = approval.stream
    cancelled = (
        StreamApproval.objects.filter(
            version=locked,
            round=approval.round,
            status__in=[StreamApprovalStatus.PENDING, StreamApprovalStatus.APPROVED],
        )
        .exclude(pk=approval.pk)
        .update(
            status=StreamApprovalStatus.CANCELLED,
            decided_at=now,
            reason=f"{stream.code} returned the plan for changes.",
        )
    )
    locked.status = PlanVersionStatus.DRAFT
    locked.agreed_at = None
    locked.agreed_by = None
    locked.save(update_fields=["status", "agreed_at", "agreed_by"])
    timeline_record(
        budget_holder=locked.plan.budget_holder,
        kind="plan.stream_returned",
        actor=returned_by,
        stream=stream,
        for_person=(
            f"{stream.name} asked for changes to your plan on {date_display(timezone.localdate())}: "
            f"{reason} Your navigator will go through it with you, then you can agree it again."
        ),
        for_staff=(
            f"{stream.code} part of version {locked.number} (round {approval.round}) returned by "
            f"{returned_by.display_name}; {cancelled} other part(s) of the round cancelled; back to draft."
        ),
        body=reason,
        detail={
            "plan_version": locked.public_id,
            "round": approval.round,
            "stream": stream.code,
            "cancelled": cancelled,
        },
    )
    return approval


# Withdraw -----------------------------------------------------------------------------------------------


@transaction.atomic
def plan_version_withdraw(*, version: PlanVersion, by: User, reason: str) -> PlanVersion:
    """A navigator withdraws a draft or agreed version (it is kept, withdrawn); an agreed one's open round of
    stream approvals ends. Raises NotAllowedToWithdraw, ReasonRequired and PlanVersionNotInProgress."""
    if getattr(by, "role", None) != Role.NAVIGATOR:
        raise NotAllowedToWithdraw()
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ReasonRequired("Say why the plan version is withdrawn.")
    locked = _lock(version)
    if locked.status not in (PlanVersionStatus.DRAFT, PlanVersionStatus.AGREED):
        raise PlanVersionNotInProgress(
            f"Version {locked.number} is {locked.get_status_display().lower()}: only a draft or agreed "
            "version can be withdrawn."
        )
    was = locked.status
    now = timezone.now()
    cancelled = StreamApproval.objects.filter(
        version=locked, status__in=[StreamApprovalStatus.PENDING, StreamApprovalStatus.APPROVED]
    ).update(status=StreamApprovalStatus.CANCELLED, decided_at=now, reason="The plan version was withdrawn.")
    locked.status = PlanVersionStatus.WITHDRAWN
    locked.save(update_fields=["status"])
    timeline_record(
        budget_holder=locked.plan.budget_holder,
        kind="plan.withdrawn",
        actor=by,
        for_person=(
            f"{by.display_name} withdrew the draft of your plan on {date_display(timezone.localdate())}: "
            f"{reason}"
        ),
        for_staff=(
            f"Version {locked.number} withdrawn ({was} before) by {by.display_name}; "
            f"{cancelled} stream approval(s) cancelled."
        ),
        body=reason,
        detail={"plan_version": locked.public_id, "was": was, "cancelled": cancelled},
    )
    return locked


# Activation ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BudgetMove:
    """What activation does to one stream's budget: the rule (module docstring), and the figures."""

    stream: FundingStream
    rule: str  # created, changed, stopped, taken_on
    budget: PersonalBudget
    previous_minor: int | None
    kept_minor: int | None
    new_part_minor: int
    old_part_minor: int | None


def _activate(version: PlanVersion, *, holder: BudgetHolder, round_number: int, by: User) -> None:
    """Make the version active (its predecessor superseded), then its budgets, review date and timeline."""
    now = timezone.now()
    today = timezone.localdate()
    previous = (
        PlanVersion.objects.select_for_update()
        .filter(plan_id=version.plan_id, status=PlanVersionStatus.ACTIVE)
        .exclude(pk=version.pk)
        .first()
    )
    replaced = previous if previous is not None and _overlaps(previous, version) else None
    inherited = previous.review_due_on if previous is not None else _latest_review_due(version)
    if previous is not None:
        previous.status = PlanVersionStatus.SUPERSEDED
        previous.save(update_fields=["status"])
    first_activation = not PlanVersion.objects.filter(
        plan_id=version.plan_id, activated_at__isnull=False
    ).exists()
    if first_activation or inherited is None:
        months = FIRST_REVIEW_MONTHS if first_activation else REVIEW_AT_LEAST_EVERY_MONTHS
        review_due_on = add_months(today, months)
    else:
        review_due_on = min(inherited, add_months(today, REVIEW_AT_LEAST_EVERY_MONTHS))
    version.status = PlanVersionStatus.ACTIVE
    version.activated_at = now
    version.review_due_on = review_due_on
    version.save(update_fields=["status", "activated_at", "review_due_on"])

    approvals = list(
        StreamApproval.objects.filter(version=version, round=round_number)
        .select_related("stream__agency")
        .order_by("stream__code")
    )
    moves = _budgets_move(version, holder=holder, approvals=approvals, replaced=replaced, by=by)
    engagements_refresh(version=version, costing=_costing(version))

    agencies = _names([approval.stream.name for approval in approvals])
    replaced_text = f" It replaces version {previous.number}, which is kept." if previous is not None else ""
    timeline_record(
        budget_holder=holder,
        kind="plan.activated",
        actor=by,
        for_person=(
            f"Your support plan is now active, from {date_display(version.effective_from)}: {agencies} "
            f"{'has' if len(approvals) == 1 else 'have'} approved it. {_review_words(review_due_on, today)}"
        ),
        for_staff=(
            f"Version {version.number} ({version.public_id}) active from "
            f"{version.effective_from.isoformat()}; review due {review_due_on.isoformat()}.{replaced_text}"
        ),
        detail={
            "plan_version": version.public_id,
            "round": round_number,
            "supersedes": previous.public_id if previous is not None else None,
            "review_due_on": review_due_on.isoformat(),
        },
    )
    for move in moves:
        _budget_timeline(version, holder=holder, move=move, by=by)


def _budgets_move(
    version: PlanVersion,
    *,
    holder: BudgetHolder,
    approvals: list[StreamApproval],
    replaced: PlanVersion | None,
    by: User,
) -> list[_BudgetMove]:
    """Make or change each stream's budget by the rules of the module docstring."""
    effective = version.effective_from
    new_parts = {approval.stream.code: approval for approval in approvals}
    replaced_streams = _funded_streams(replaced)
    old_parts: dict[str, int] | None = None
    if replaced is not None:
        try:
            old_costing = plan_version_costing(version=replaced, from_on=effective)
        except CashEquivalentInvalid:
            old_parts = None  # rule 4 stands in for rule 2 (module docstring)
        else:
            old_parts = {part.stream: part.amount_minor for part in old_costing.streams}
    codes = sorted(set(new_parts) | replaced_streams)
    streams = {s.code: s for s in FundingStream.objects.filter(code__in=codes)}
    existing = _budgets_covering(version, holder=holder, stream_codes=codes)
    moves = []
    reason = f"Support plan version {version.number} ({version.public_id}), effective {effective.isoformat()}"
    for code in codes:
        stream, approval, budget = streams[code], new_parts.get(code), existing.get(code)
        new_part = approval.amount_minor if approval is not None else 0
        if budget is None:
            if approval is None:
                continue  # the stream it stops funding has no budget left to change
            created = personal_budget_create_from_cash_equivalent(
                budget_holder=holder,
                stream=stream,
                starts_on=effective,
                ends_on=version.ends_on,
                amount_minor=new_part,
                explanation=approval.explanation,
                created_by=by,
                reason=reason,
            )
            moves.append(_BudgetMove(stream, "created", created, None, None, new_part, None))
            continue
        _check_budget_fits(version, budget=budget, holder=holder)
        kept = personal_budget_money_before(personal_budget=budget, day=effective)
        old_part = None
        if approval is None:
            rule, total = "stopped", kept
        elif code in replaced_streams and old_parts is not None:
            old_part = old_parts.get(code, 0)
            rule, total = "changed", max(kept, budget.amount_minor + new_part - old_part)
        else:
            rule, total = "taken_on", kept + new_part
        if total == budget.amount_minor:
            continue
        changed = personal_budget_change(
            personal_budget=budget,
            amount_minor=total,
            effective_from=effective,
            explanation=_change_explanation(
                version,
                stream=stream,
                rule=rule,
                budget=budget,
                total=total,
                kept=kept,
                new_part=new_part,
                old_part=old_part,
                approval=approval,
            ),
            changed_by=by,
            reason=reason,
        )
        moves.append(_BudgetMove(stream, rule, changed, budget.amount_minor, kept, new_part, old_part))
    return moves


def _change_explanation(
    version: PlanVersion,
    *,
    stream: FundingStream,
    rule: str,
    budget: PersonalBudget,
    total: int,
    kept: int,
    new_part: int,
    old_part: int | None,
    approval: StreamApproval | None,
) -> dict[str, Any]:
    """What a plan's change to a budget stores as the budget's explanation (money as decimal strings)."""
    money = lambda minor: money_format(minor, currency=budget.currency)  # noqa: E731
    return {
        "source": "support_plan",
        "plan_version": version.public_id,
        "plan_version_number": version.number,
        "effective_from": version.effective_from.isoformat(),
        "rule": rule,
        "stream": stream.code,
        "currency": budget.currency,
        "previous_amount": money(budget.amount_minor),
        "kept_before_effective_from": money(kept),
        "this_plan_from_effective_from": money(new_part),
        "previous_plan_from_effective_from": money(old_part) if old_part is not None else None,
        "amount": money(total),
        "calculation": approval.explanation if approval is not None else None,
    }


def _budget_timeline(version: PlanVersion, *, holder: BudgetHolder, move: _BudgetMove, by: User) -> None:
    budget, stream = move.budget, move.stream
    money = lambda minor: money_display(minor, currency=budget.currency)  # noqa: E731
    period = period_display(budget.starts_on, budget.ends_on)
    for_person = f"Your {stream.name} budget is now {money(budget.amount_minor)} for {period}."
    if move.rule == "stopped":
        for_person = (
            f"Your new plan no longer uses {stream.name} from {date_display(version.effective_from)}. Your "
            f"{stream.name} budget is now {money(budget.amount_minor)} for {period}: what it already had for "
            "the days before then."
        )
    elif move.previous_minor is not None:
        for_person += (
            f" It was {money(move.previous_minor)}; the change applies from "
            f"{date_display(version.effective_from)}."
        )
    figures = (
        f"rule {move.rule}; this plan from {version.effective_from.isoformat()} {money(move.new_part_minor)}"
    )
    if move.old_part_minor is not None:
        figures += f", previous plan from then {money(move.old_part_minor)}"
    if move.kept_minor is not None:
        figures += f", kept for the days before {money(move.kept_minor)}"
    timeline_record(
        budget_holder=holder,
        kind="budget.created" if move.rule == "created" else "budget.changed",
        actor=by,
        stream=stream,
        for_person=for_person,
        for_staff=f"{stream.code} budget {budget.public_id} (version {budget.version}): {figures}.",
        visibility=TimelineVisibility.SHARED,
        detail={
            "plan_version": version.public_id,
            "personal_budget": budget.public_id,
            "rule": move.rule,
            "amount": money_format(budget.amount_minor, currency=budget.currency),
            "currency": budget.currency,
        },
    )


# Helpers ------------------------------------------------------------------------------------------------


def _lock(version: PlanVersion) -> PlanVersion:
    """Lock the version row (and read its plan and person); every transition decides under this lock."""
    return (
        PlanVersion.objects.select_for_update(of=("self",))
        .select_related("plan__budget_holder")
        .get(pk=version.pk)
    )


def _pending_part(version: PlanVersion, *, stream_code: str, by: User) -> StreamApproval:
    """The current round's pending part for a stream, after checking the officer and the version's state."""
    stream = FundingStream.objects.filter(code=stream_code).first() if isinstance(stream_code, str) else None
    if stream is None:
        raise StreamNotInPlan(f"There is no funding stream {stream_code!r}.")
    if getattr(by, "role", None) != Role.AGENCY_OFFICER or by.organisation_id != stream.agency_id:
        raise NotAllowedToDecide(
            f"Only an officer of the agency that runs {stream.name} can approve or return its part of a plan."
        )
    if version.status != PlanVersionStatus.AGREED:
        raise PlanVersionNotAgreed(
            f"Version {version.number} is {version.get_status_display().lower()}: only an agreed version, "
            "waiting for the agencies, can be approved or returned."
        )
    current_round = version.stream_approvals.aggregate(last=Max("round"))["last"]
    approval = (
        StreamApproval.objects.select_for_update(of=("self",))
        .select_related("stream")
        .filter(version=version, round=current_round, stream=stream)
        .first()
    )
    if approval is None:
        raise StreamNotInPlan(f"Version {version.number} has no {stream.name} part to approve or return.")
    if approval.status != StreamApprovalStatus.PENDING:
        raise StreamApprovalAlreadyDecided(
            f"The {stream.name} part of version {version.number} is already "
            f"{approval.get_status_display().lower()}."
        )
    return approval


def _costing(version: PlanVersion) -> CashEquivalent:
    """The version's costing, its problems pointing at its items ("/support_items/<index>/...")."""
    try:
        return plan_version_costing(version=version)
    except CashEquivalentInvalid as error:
        items = support_items_ordered(version=version)
        problems = []
        for problem in error.problems:
            pointer = problem.pointer
            if pointer.startswith("/items/"):
                pointer = "/support_items/" + pointer.removeprefix("/items/")
            index = pointer.split("/")[2] if pointer.startswith("/support_items/") else None
            detail = problem.detail
            if index is not None and index.isdigit() and int(index) < len(items):
                detail = f"{items[int(index)].description} ({items[int(index)].public_id}): {detail}"
            problems.append(Problem(problem.code, pointer, detail))
        raise PlanCostingInvalid(problems) from None


def _replaced_version(version: PlanVersion) -> PlanVersion | None:
    """The active version this one would replace for its period (None when none overlaps it)."""
    active = (
        PlanVersion.objects.filter(plan_id=version.plan_id, status=PlanVersionStatus.ACTIVE)
        .exclude(pk=version.pk)
        .first()
    )
    return active if active is not None and _overlaps(active, version) else None


def _overlaps(a: PlanVersion, b: PlanVersion) -> bool:
    return a.starts_on <= b.ends_on and b.starts_on <= a.ends_on


def _funded_streams(version: PlanVersion | None) -> set[str]:
    """The streams an active (or superseded) version funds: those its last round approved."""
    if version is None:
        return set()
    last = version.stream_approvals.aggregate(last=Max("round"))["last"]
    return set(
        StreamApproval.objects.filter(
            version=version, round=last, status=StreamApprovalStatus.APPROVED
        ).values_list("stream__code", flat=True)
    )


def _budgets_covering(
    version: PlanVersion, *, holder: BudgetHolder, stream_codes: list[str]
) -> dict[str, PersonalBudget]:
    """The person's active budgets from these streams that overlap the days from E, locked, by stream code."""
    budgets = (
        PersonalBudget.objects.select_for_update(of=("self",))
        .select_related("stream")
        .filter(
            budget_holder=holder,
            stream__code__in=stream_codes,
            status=PersonalBudgetStatus.ACTIVE,
            starts_on__lte=version.ends_on,
            ends_on__gte=version.effective_from,
        )
        .order_by("starts_on")
    )
    found: dict[str, PersonalBudget] = {}
    for budget in budgets:
        found.setdefault(budget.stream.code, budget)
    return found


def _check_budgets_fit(version: PlanVersion, *, holder: BudgetHolder, stream_codes: set[str]) -> None:
    """Refuse early (at agreement) what activation would refuse: a budget that does not fit the period."""
    budgets = PersonalBudget.objects.select_related("stream").filter(
        budget_holder=holder,
        stream__code__in=stream_codes,
        status=PersonalBudgetStatus.ACTIVE,
        starts_on__lte=version.ends_on,
        ends_on__gte=version.effective_from,
    )
    for budget in budgets:
        _check_budget_fits(version, budget=budget, holder=holder)


def _check_budget_fits(version: PlanVersion, *, budget: PersonalBudget, holder: BudgetHolder) -> None:
    if budget.starts_on <= version.effective_from and budget.ends_on == version.ends_on:
        return
    raise PlanBudgetMismatch(
        f"{holder.name_to_use}'s {budget.stream.name} budget {budget.public_id} runs from "
        f"{date_display(budget.starts_on)} to {date_display(budget.ends_on)}, which does not fit this plan "
        f"({date_display(version.effective_from)} to {date_display(version.ends_on)}): ask finance to sort "
        "out that budget first."
    )


def _latest_review_due(version: PlanVersion) -> date | None:
    return (
        PlanVersion.objects.filter(
            plan_id=version.plan_id, activated_at__isnull=False, review_due_on__isnull=False
        )
        .exclude(pk=version.pk)
        .order_by("-activated_at")
        .values_list("review_due_on", flat=True)
        .first()
    )


def _review_words(due_on: date, today: date) -> str:
    if due_on < today:
        return f"Your plan review was due by {date_display(due_on)}: your navigator will arrange it with you."
    return f"Your next plan review is due by {date_display(due_on)}."


def _names(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, on the same day of the month or the month's last day if shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - date(year, month, 1)).days
    return date(year, month, min(day.day, last_day))
