"""Surplus audits: for a person and a stream, how much of the money they hold may be reclaimed, and when a
surplus will arise if it has not yet.

From the person's budget position on the day (`budgets.selectors.positions`, the same rules):

* **available**, **weekly equivalent**, **weeks held** and the stream's **threshold** in weeks; the
  **threshold amount** = threshold weeks x weekly equivalent, rounded half up to the minor unit, once;
* **reserves**: the person's legitimate reserves for the stream not released (money set aside for a known
  cost, entered by the navigator), excluded from what may be reclaimed;
* **reclaimable** = max(0, available - reserves - threshold amount);
* **forecast**: the net change of the funds account over the last 12 weeks (posted money in less money out,
  reclaims left out: a reclaim is not the person's spending), divided by 12 and rounded half up: the
  weekly rate. With no surplus yet and a rising balance, the surplus arises in the first whole week `k` for
  which available + k x rate - reserves - threshold amount > 0, that is on `on` + 7k days, unless that is
  after the budget period ends (then no date: the next period's budget decides).

`surplus_audits` reads any number of people in a fixed number of queries (the positions' handful, one for
the reserves, one for the 12 weeks' postings); callers page the people (`stream_holders`), so nothing reads a
whole table.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from budgets import accounts
from budgets.models import LegitimateReserve, PersonalBudgetStatus
from budgets.selectors.positions import BudgetPosition, positions_for_holders
from ledger.models import Account, Posting, Side, TransactionKind
from ledger.money import money_format
from people.models import BudgetHolder

FORECAST_WEEKS = 12
KIND_RECLAIM = "surplus_reclaim"  # the ledger metadata kind of a reclaim posting (payments.services.reclaims)


@dataclass(frozen=True, kw_only=True)
class SurplusAudit:
    budget_holder_public_id: str
    stream_code: str
    currency: str
    on: date
    period_ends_on: date
    available_minor: int
    weekly_equivalent_minor: int
    weeks_held: Decimal | None
    threshold_weeks: Decimal
    threshold_minor: int
    reserves_minor: int
    reclaimable_minor: int
    weekly_rate_minor: int
    surplus_expected_on: date | None
    forecast_explanation: str


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def stream_holders(*, stream_code: str, on: date | None = None) -> QuerySet[BudgetHolder]:
    """The people with an active budget from the stream for the day, in a stable order for paging."""
    on = on or timezone.localdate()
    return (
        BudgetHolder.objects.filter(
            personal_budgets__stream__code=stream_code,
            personal_budgets__status=PersonalBudgetStatus.ACTIVE,
            personal_budgets__starts_on__lte=on,
            personal_budgets__ends_on__gte=on,
        )
        .distinct()
        .order_by("pk")
    )


def surplus_audit(
    *, budget_holder: BudgetHolder, stream_code: str, on: date | None = None
) -> SurplusAudit | None:
    """The person's surplus audit for the stream on the day (today by default); None with no active budget."""
    audits = surplus_audits(holders=[budget_holder], stream_code=stream_code, on=on)
    return audits[0] if audits else None


def surplus_audits(
    *, holders: list[BudgetHolder], stream_code: str, on: date | None = None
) -> list[SurplusAudit]:
    """These people's surplus audits for the stream, most reclaimable first, in a fixed number of queries."""
    on = on or timezone.localdate()
    by_holder = positions_for_holders(holders=holders, on=on, only=Q(stream__code=stream_code))
    positions: list[tuple[int, BudgetPosition]] = [
        (holder_pk, position) for holder_pk, found in by_holder.items() for position in found
    ]
    if not positions:
        return []
    reserves = {
        row["budget_holder_id"]: int(row["total"])
        for row in LegitimateReserve.objects.filter(
            budget_holder_id__in=[pk for pk, _ in positions],
            stream__code=stream_code,
            released_at__isnull=True,
        )
        .values("budget_holder_id")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    }
    keys = {
        accounts.person_funds_key(
            budget_holder_public_id=position.budget_holder_public_id, stream_code=stream_code
        ): pk
        for pk, position in positions
    }
    account_holder = dict(Account.objects.filter(key__in=keys).values_list("pk", "key"))
    since = on - timedelta(days=7 * FORECAST_WEEKS - 1)
    change: dict[int, int] = defaultdict(int)
    for row in (
        Posting.objects.filter(
            account_id__in=account_holder, kind=TransactionKind.POSTED, effective_on__range=(since, on)
        )
        .filter(Q(transaction__metadata__kind__isnull=True) | ~Q(transaction__metadata__kind=KIND_RECLAIM))
        .values("account_id", "side")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    ):
        holder_pk = keys[account_holder[row["account_id"]]]
        # A funds account is a liability: credits are money in, debits money out.
        change[holder_pk] += row["total"] if row["side"] == Side.CREDIT else -row["total"]

    audits = []
    for holder_pk, position in positions:
        reserved = reserves.get(holder_pk, 0)
        threshold = _half_up(position.surplus_threshold_weeks * position.weekly_equivalent_minor)
        reclaimable = max(0, position.available_minor - reserved - threshold)
        rate = _half_up(Decimal(change[holder_pk]) / FORECAST_WEEKS)
        expected, explanation = _forecast(
            position=position,
            reserved=reserved,
            threshold=threshold,
            reclaimable=reclaimable,
            rate=rate,
            on=on,
        )
        audits.append(
            SurplusAudit(
                budget_holder_public_id=position.budget_holder_public_id,
                stream_code=stream_code,
                currency=position.currency,
                on=on,
                period_ends_on=position.period_ends_on,
                available_minor=position.available_minor,
                weekly_equivalent_minor=position.weekly_equivalent_minor,
                weeks_held=position.weeks_held,
                threshold_weeks=position.surplus_threshold_weeks,
                threshold_minor=threshold,
                reserves_minor=reserved,
                reclaimable_minor=reclaimable,
                weekly_rate_minor=rate,
                surplus_expected_on=expected,
                forecast_explanation=explanation,
            )
        )
    return sorted(audits, key=lambda audit: (-audit.reclaimable_minor, audit.budget_holder_public_id))


def _forecast(
    *, position: BudgetPosition, reserved: int, threshold: int, reclaimable: int, rate: int, on: date
) -> tuple[date | None, str]:
    currency = position.currency
    if reclaimable > 0:
        return None, "There is a surplus now."
    pace = f"{money_format(abs(rate), currency=currency)} {currency} a week"
    if rate <= 0:
        trend = "not risen" if rate == 0 else f"fallen by {pace}"
        return None, (
            f"Over the last {FORECAST_WEEKS} weeks the money held has {trend} on average, so no surplus is "
            "expected at this rate of spending."
        )
    gap = threshold + reserved - position.available_minor  # >= 0: no surplus yet
    weeks = gap // rate + 1
    expected = on + timedelta(days=7 * weeks)
    if expected > position.period_ends_on:
        return None, (
            f"Over the last {FORECAST_WEEKS} weeks the money held has risen by {pace} on average; at that "
            f"rate no surplus arises before the budget period ends on {position.period_ends_on.isoformat()}."
        )
    return expected, (
        f"Over the last {FORECAST_WEEKS} weeks the money held has risen by {pace} on average; at that rate "
        f"a surplus arises in {weeks} {'week' if weeks == 1 else 'weeks'}, on {expected.isoformat()}."
    )
