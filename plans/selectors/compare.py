"""Comparing two versions of a person's plan: what changed, item by item, and the money per stream.

Outcomes, informal support and support items are matched by public id (a new version keeps its
predecessor's ids), so "changed" means the same outcome or item with different details. Money is compared
like for like: two versions of the same period are both costed from the newer one's `effective_from` (what
the change does to each stream's money from the day it applies, which is what activation adds to or takes
from the budgets); versions of different periods are each costed over their own days.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Prefetch

from budgets.calculator import CashEquivalent
from ledger.errors import DomainError
from ledger.money import money_format
from plans.models import InformalSupport, Outcome, PlanVersion, SupportItem
from plans.selectors.plans import plan_version_costing, support_items_ordered


class PlanVersionsNotComparable(DomainError):
    code = "plan_versions_not_comparable"
    message = "Compare an older version of a plan with a newer version of the same plan."


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: its name and both values (JSON-friendly: text, a dict, a list or None)."""

    field: str
    older: Any
    newer: Any


@dataclass(frozen=True)
class OutcomeChange:
    public_id: str
    older: Outcome
    newer: Outcome
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class InformalSupportChange:
    public_id: str
    older: InformalSupport
    newer: InformalSupport
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class SupportItemChange:
    """An item in both versions whose details differ (`cost`: its costed amount with on-costs)."""

    public_id: str
    older: SupportItem
    newer: SupportItem
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class StreamMoney:
    """One stream's cash equivalent in each version (0 where a version does not fund it)."""

    stream: str
    currency: str
    older_minor: int
    newer_minor: int

    @property
    def difference_minor(self) -> int:
        return self.newer_minor - self.older_minor


@dataclass(frozen=True)
class PlanComparison:
    """What changed from `older` to `newer`. `money_from` is the day both were costed from (None when the
    versions plan different periods and each is costed over its own days)."""

    older: PlanVersion
    newer: PlanVersion
    money_from: date | None
    outcomes_added: tuple[Outcome, ...]
    outcomes_removed: tuple[Outcome, ...]
    outcomes_changed: tuple[OutcomeChange, ...]
    informal_support_added: tuple[InformalSupport, ...]
    informal_support_removed: tuple[InformalSupport, ...]
    informal_support_changed: tuple[InformalSupportChange, ...]
    support_items_added: tuple[SupportItem, ...]
    support_items_removed: tuple[SupportItem, ...]
    support_items_changed: tuple[SupportItemChange, ...]
    money: tuple[StreamMoney, ...]

    @property
    def has_changes(self) -> bool:
        return any(
            (
                self.outcomes_added,
                self.outcomes_removed,
                self.outcomes_changed,
                self.informal_support_added,
                self.informal_support_removed,
                self.informal_support_changed,
                self.support_items_added,
                self.support_items_removed,
                self.support_items_changed,
                any(stream.difference_minor for stream in self.money),
            )
        )


def plan_version_compare(*, older: PlanVersion, newer: PlanVersion) -> PlanComparison:
    """Compare two versions of one plan (older first); raises PlanVersionsNotComparable, and
    CashEquivalentInvalid when a version's items can no longer be costed."""
    if older.plan_id != newer.plan_id or older.number >= newer.number:
        raise PlanVersionsNotComparable(
            "Compare an older version of a plan with a newer version of the same plan "
            f"(got version {older.number} and version {newer.number})."
        )
    loaded = {version.pk: version for version in _with_contents().filter(pk__in=[older.pk, newer.pk])}
    older, newer = loaded[older.pk], loaded[newer.pk]
    same_period = (older.starts_on, older.ends_on) == (newer.starts_on, newer.ends_on)
    money_from = newer.effective_from if same_period else None
    older_costing = _costing(older, from_on=money_from)
    newer_costing = _costing(newer, from_on=money_from)

    old_outcomes = {outcome.public_id: outcome for outcome in older.outcomes.all()}
    new_outcomes = {outcome.public_id: outcome for outcome in newer.outcomes.all()}
    old_informal = {informal.public_id: informal for informal in older.informal_supports.all()}
    new_informal = {informal.public_id: informal for informal in newer.informal_supports.all()}
    old_items = {item.public_id: item for item in support_items_ordered(version=older)}
    new_items = {item.public_id: item for item in support_items_ordered(version=newer)}
    old_costs = _item_costs(older, older_costing)
    new_costs = _item_costs(newer, newer_costing)

    return PlanComparison(
        older=older,
        newer=newer,
        money_from=money_from,
        outcomes_added=_only_in(new_outcomes, old_outcomes),
        outcomes_removed=_only_in(old_outcomes, new_outcomes),
        outcomes_changed=tuple(
            OutcomeChange(public_id, old_outcomes[public_id], new, changes)
            for public_id, new in new_outcomes.items()
            if public_id in old_outcomes
            and (changes := _changes(_outcome_fields(old_outcomes[public_id]), _outcome_fields(new)))
        ),
        informal_support_added=_only_in(new_informal, old_informal),
        informal_support_removed=_only_in(old_informal, new_informal),
        informal_support_changed=tuple(
            InformalSupportChange(public_id, old_informal[public_id], new, changes)
            for public_id, new in new_informal.items()
            if public_id in old_informal
            and (changes := _changes(_informal_fields(old_informal[public_id]), _informal_fields(new)))
        ),
        support_items_added=_only_in(new_items, old_items),
        support_items_removed=_only_in(old_items, new_items),
        support_items_changed=tuple(
            SupportItemChange(public_id, old_items[public_id], new, changes)
            for public_id, new in new_items.items()
            if public_id in old_items
            and (
                changes := _changes(
                    _item_fields(old_items[public_id], old_costs.get(public_id)),
                    _item_fields(new, new_costs.get(public_id)),
                )
            )
        ),
        money=_money(older_costing, newer_costing),
    )


def _with_contents():
    return PlanVersion.objects.prefetch_related(
        Prefetch("outcomes", queryset=Outcome.objects.order_by("position", "pk")),
        Prefetch(
            "informal_supports",
            queryset=InformalSupport.objects.select_related("outcome").order_by("outcome__position", "pk"),
        ),
        Prefetch(
            "support_items",
            queryset=SupportItem.objects.select_related("service", "stream", "provider")
            .prefetch_related(Prefetch("outcomes", queryset=Outcome.objects.order_by("position", "pk")))
            .order_by("position", "pk"),
        ),
    )


def _costing(version: PlanVersion, *, from_on: date | None) -> CashEquivalent | None:
    """The version's costing from `from_on` (its `effective_from` when None); None when it has no items."""
    if not support_items_ordered(version=version):
        return None
    return plan_version_costing(version=version, from_on=from_on)


def _item_costs(version: PlanVersion, costing: CashEquivalent | None) -> dict[str, str]:
    """Each item's costed amount with its on-costs, as money text, by public id."""
    if costing is None:
        return {}
    items = support_items_ordered(version=version)
    totals: dict[int, int] = {}
    for line in costing.lines:
        totals[line.item_index] = totals.get(line.item_index, 0) + line.amount_minor + line.on_costs_minor
    return {
        items[index].public_id: money_format(total, currency=costing.currency)
        for index, total in totals.items()
    }


def _money(older: CashEquivalent | None, newer: CashEquivalent | None) -> tuple[StreamMoney, ...]:
    old = {part.stream: part.amount_minor for part in older.streams} if older else {}
    new = {part.stream: part.amount_minor for part in newer.streams} if newer else {}
    currency = (newer or older).currency if (newer or older) else ""
    return tuple(
        StreamMoney(
            stream=code, currency=currency, older_minor=old.get(code, 0), newer_minor=new.get(code, 0)
        )
        for code in sorted(set(old) | set(new))
    )


def _only_in(these: dict[str, Any], those: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(value for public_id, value in these.items() if public_id not in those)


def _changes(older: dict[str, Any], newer: dict[str, Any]) -> tuple[FieldChange, ...]:
    return tuple(FieldChange(name, older[name], newer[name]) for name in older if older[name] != newer[name])


def _outcome_fields(outcome: Outcome) -> dict[str, Any]:
    return {"in_own_words": outcome.in_own_words, "success_looks_like": outcome.success_looks_like}


def _informal_fields(informal: InformalSupport) -> dict[str, Any]:
    return {
        "outcome": informal.outcome.public_id,
        "who": informal.who,
        "what": informal.what,
        "how_often": informal.how_often,
    }


def _item_fields(item: SupportItem, cost: str | None) -> dict[str, Any]:
    currency = item.stream.currency
    return {
        "service": item.service.service_code if item.service_id else None,
        "stream": item.stream.code,
        "description": item.description,
        "unit": item.unit,
        "unit_cost": money_format(item.unit_cost_minor, currency=currency)
        if item.unit_cost_minor is not None
        else None,
        "quantity": f"{item.quantity.normalize():f}",
        "per": item.per,
        "split": item.split or None,
        "provider": item.provider.public_id if item.provider_id else None,
        "agreed_rate": money_format(item.agreed_rate_minor, currency=currency)
        if item.agreed_rate_minor is not None
        else None,
        "outcomes": [outcome.public_id for outcome in item.outcomes.all()],
        "cost": cost,
    }
