"""Where a person stands with each stream's money: a budget position, per person and stream.

For the budget period that contains the day asked about (`on`, today by default):

* **allocated**: the active version's amount for the period.
* **received**: instalments the agency has paid (status `received`), of every version of the budget.
* **due so far**: instalments posted to the ledger (`due` or `received`) plus the budget changes' adjustments
  (signed: an adjustment down counts against it). What the agency owes for the period so far.
* **spent**: posted debits on the person's funds account for the stream effective inside the period, except
  budget adjustments (ledger metadata `kind` = `budget_adjustment`, which are not spending). That is money
  paid out for the person (invoices, wages, purchases).
* **committed**: the funds account's pending debits: approved invoices not yet paid.
* **available**: the funds account's available balance: posted money less spending and commitments. The
  funds account is one pot per person and stream, so this includes anything carried from an earlier period.

and from them:

* **weekly equivalent**: allocated / (days in the period / 7), rounded half up to the minor unit, once.
* **weeks held**: available / weekly equivalent (the rounded one shown), to one decimal place, half up;
  None when the weekly equivalent is zero.
* **surplus**: available above the stream's threshold, max(0, available - threshold weeks x weekly
  equivalent), the threshold amount rounded half up to the minor unit, once.

Current figures (available, committed) are the ledger's running totals, one row per account; the rest are
a handful of aggregates, so a person's positions take at most five queries however many streams, versions,
instalments or postings there are.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from budgets import accounts
from budgets.models import FundingStream, Instalment, InstalmentStatus, PersonalBudget, PersonalBudgetStatus
from budgets.services.personal_budgets import KIND_ADJUSTMENT, POSTED_STATUSES
from ledger.errors import DomainError
from ledger.models import Account, Posting, Side, TransactionKind
from people.models import BudgetHolder


class NoActiveBudget(DomainError):
    code = "no_active_budget"
    message = "This person has no active budget from that stream for that day."
    http_status = 404


@dataclass(frozen=True, kw_only=True)
class BudgetPosition:
    """A person's position with one stream's money for the budget period containing `on` (minor units)."""

    budget_holder_public_id: str
    stream_code: str
    stream_name: str
    currency: str
    on: date
    personal_budget_public_id: str
    version: int
    period_starts_on: date
    period_ends_on: date
    allocated_minor: int
    received_minor: int
    due_so_far_minor: int
    committed_minor: int
    spent_minor: int
    available_minor: int
    weekly_equivalent_minor: int
    weeks_held: Decimal | None
    surplus_threshold_weeks: Decimal
    surplus_minor: int


def budget_position(
    *, budget_holder: BudgetHolder, stream: FundingStream, on: date | None = None
) -> BudgetPosition:
    """A person's position with one stream on a day (today by default); raises NoActiveBudget."""
    on = on or timezone.localdate()
    positions = _positions(budget_holder=budget_holder, on=on, stream=stream)
    if not positions:
        raise NoActiveBudget(
            f"{budget_holder.name_to_use} has no active {stream.name} budget for {on.isoformat()}."
        )
    return positions[0]


def budget_positions_for_holder(
    *, budget_holder: BudgetHolder, on: date | None = None
) -> list[BudgetPosition]:
    """A person's positions with every stream they have an active budget from on a day, by stream code."""
    return _positions(budget_holder=budget_holder, on=on or timezone.localdate(), stream=None)


def _positions(
    *, budget_holder: BudgetHolder, on: date, stream: FundingStream | None
) -> list[BudgetPosition]:
    only = Q(stream=stream) if stream is not None else None
    return positions_for_holders(holders=[budget_holder], on=on, only=only).get(budget_holder.pk, [])


def positions_for_holders(
    *, holders: list[BudgetHolder], on: date, only: Q | None = None
) -> dict[int, list[BudgetPosition]]:
    """The positions of several people at once, {holder pk: positions by stream code}, in the same handful of
    queries however many people, streams, instalments or postings; `only` narrows their personal budgets
    (`Q(stream__agency=agency)`, say)."""
    if not holders:
        return {}
    public_ids = {holder.pk: holder.public_id for holder in holders}
    versions = list(
        PersonalBudget.objects.select_related("stream").filter(
            only or Q(), budget_holder_id__in=public_ids, starts_on__lte=on, ends_on__gte=on
        )
    )  # every version of the budgets whose period contains `on`
    active = sorted(
        (budget for budget in versions if budget.status == PersonalBudgetStatus.ACTIVE),
        key=lambda budget: (budget.budget_holder_id, budget.stream.code),
    )
    if not active:
        return {}
    # A period's versions share its start; active budgets from one stream never overlap.
    chain = {(budget.budget_holder_id, budget.stream_id, budget.starts_on) for budget in active}
    chain_versions = [
        budget
        for budget in versions
        if (budget.budget_holder_id, budget.stream_id, budget.starts_on) in chain
    ]

    instalment_totals = {
        (row["personal_budget__budget_holder_id"], row["personal_budget__stream_id"]): row
        for row in Instalment.objects.filter(personal_budget__in=[budget.pk for budget in chain_versions])
        .values("personal_budget__budget_holder_id", "personal_budget__stream_id")
        .annotate(
            received=Sum("amount_minor", filter=Q(status=InstalmentStatus.RECEIVED), default=0),
            posted=Sum("amount_minor", filter=Q(status__in=POSTED_STATUSES), default=0),
        )
        .order_by()
    }
    funds_keys = {
        (budget.budget_holder_id, budget.stream_id): accounts.person_funds_key(
            budget_holder_public_id=public_ids[budget.budget_holder_id], stream_code=budget.stream.code
        )
        for budget in active
    }
    funds_by_key = {account.key: account for account in Account.objects.filter(key__in=funds_keys.values())}
    funds = {pair: funds_by_key.get(key) for pair, key in funds_keys.items()}
    funds_ids = [account.pk for account in funds.values() if account is not None]

    adjustments: dict[int, int] = defaultdict(int)
    spent: dict[int, int] = defaultdict(int)
    if funds_ids:
        adjustment_keys = [f"personal-budget:{budget.public_id}:adjustment" for budget in chain_versions]
        for row in (
            Posting.objects.filter(account_id__in=funds_ids, transaction__idempotency_key__in=adjustment_keys)
            .values("account_id", "side")
            .annotate(total=Sum("amount_minor"))
            .order_by()
        ):
            adjustments[row["account_id"]] += row["total"] if row["side"] == Side.CREDIT else -row["total"]
        in_period = Q()
        for budget in active:
            account = funds[(budget.budget_holder_id, budget.stream_id)]
            if account is not None:
                in_period |= Q(account_id=account.pk, effective_on__range=(budget.starts_on, budget.ends_on))
        for row in (
            Posting.objects.filter(in_period, side=Side.DEBIT, kind=TransactionKind.POSTED)
            # Not `.exclude(kind=...)`: that would also drop transactions whose metadata has no kind.
            .filter(
                Q(transaction__metadata__kind__isnull=True) | ~Q(transaction__metadata__kind=KIND_ADJUSTMENT)
            )
            .values("account_id")
            .annotate(total=Sum("amount_minor"))
            .order_by()
        ):
            spent[row["account_id"]] = row["total"]

    positions: dict[int, list[BudgetPosition]] = defaultdict(list)
    for budget in active:
        pair = (budget.budget_holder_id, budget.stream_id)
        account = funds[pair]
        totals = instalment_totals.get(pair, {"received": 0, "posted": 0})
        available = account.available_minor if account is not None else 0
        weekly = weekly_equivalent_minor(budget)
        threshold = budget.stream.surplus_threshold_weeks
        positions[budget.budget_holder_id].append(
            BudgetPosition(
                budget_holder_public_id=public_ids[budget.budget_holder_id],
                stream_code=budget.stream.code,
                stream_name=budget.stream.name,
                currency=budget.currency,
                on=on,
                personal_budget_public_id=budget.public_id,
                version=budget.version,
                period_starts_on=budget.starts_on,
                period_ends_on=budget.ends_on,
                allocated_minor=budget.amount_minor,
                received_minor=totals["received"],
                due_so_far_minor=totals["posted"] + (adjustments[account.pk] if account is not None else 0),
                committed_minor=account.debits_pending if account is not None else 0,
                spent_minor=spent[account.pk] if account is not None else 0,
                available_minor=available,
                weekly_equivalent_minor=weekly,
                weeks_held=weeks_held(available, weekly),
                surplus_threshold_weeks=threshold,
                surplus_minor=surplus_minor(available_minor=available, budget=budget, weekly_minor=weekly),
            )
        )
    return dict(positions)


def _round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# The per-budget arithmetic, public so that selectors reading many people at once (caseloads, agencies'
# lists) apply the same rules rather than copies of them.


def weekly_equivalent_minor(budget: PersonalBudget) -> int:
    """allocated / (days / 7), half up to the minor unit: exact, as allocated x 7 / days."""
    days = (budget.ends_on - budget.starts_on).days + 1
    return _round_half_up(Decimal(budget.amount_minor * 7) / Decimal(days))


def weeks_held(available_minor: int, weekly_minor: int) -> Decimal | None:
    """How many weeks of the budget's weekly equivalent the money available would last (one decimal)."""
    if weekly_minor == 0:
        return None
    return (Decimal(available_minor) / Decimal(weekly_minor)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def surplus_minor(*, available_minor: int, budget: PersonalBudget, weekly_minor: int | None = None) -> int:
    """Money available above the stream's threshold (threshold weeks x weekly equivalent, half up, once)."""
    weekly = weekly_equivalent_minor(budget) if weekly_minor is None else weekly_minor
    return max(0, available_minor - _round_half_up(budget.stream.surplus_threshold_weeks * weekly))
